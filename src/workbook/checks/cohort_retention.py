"""Checks of exercise 3, cohort retention (``exercises/source/03_cohort_retention.ipynb``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.checks.engine import ExerciseCheckError, compare_frame, exercise_check, require_answer

__all__ = ["check_cohort_matrix", "check_retention_matrix"]


def _cohort_hint(kwargs: dict):
    metric = str(kwargs.get("metric", "members"))
    normalize, cumulative = bool(kwargs.get("normalize", True)), bool(kwargs.get("cumulative", False))
    by_join = kwargs.get("cohort_by") == "join_date"

    def hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
        g = pd.to_numeric(got, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)[differs]
        e = exp.to_numpy(dtype="float64", na_value=np.nan)[differs]
        known = np.isfinite(g) & np.isfinite(e)
        if np.all(np.isnan(e) & (g == 0)):
            return "还没观察到的格子要留空 (NaN)，不是 0 (cells after the analysis date are NaN, not 0)."
        if by_join and metric == "members" and known.any() and np.allclose(g[known], 1.0):
            return ("按注册月划分时，第 0 个月不是 100%：分母包括从未购买的会员 "
                    "(cohort_by='join_date' and pass data.members).")
        if cumulative and known.any() and np.all(g[known] <= e[known] + 1e-9):
            return "这是每个月各自的值；题目要的是累计值 (running total): cumulative=True."
        if normalize and known.any() and (np.all(g[known] > 1) if metric == "members" else np.all(g[known] > 2 * e[known])):
            per = "留存率要除以队列人数" if metric == "members" else "人均收入要除以队列人数"
            return f"{per} (divide by the cohort size): normalize=True."
        return "用 workbook.cohorts.cohort_table(...)，参数与题目一致 (freq, cohort_by, metric, cumulative)."

    return hint


def _compare_matrix(answer, transactions, members, name, kwargs) -> str:
    from workbook.cohorts import cohort_table

    kwargs = {"shape": "wide", **kwargs}
    expected = cohort_table(transactions, members, **kwargs)
    if isinstance(answer, pd.DataFrame) and "period_number" in answer.columns and "value" in answer.columns:
        raise ExerciseCheckError(
            f"{name} 是长表 (long format)；这里要宽表矩阵 (a wide matrix: cohorts × period_number)",
            "用 shape='wide'（默认值）(use the default shape='wide').",
        )
    hint = _cohort_hint(kwargs)
    return compare_frame(
        answer,
        expected,
        name=name,
        row_label="队列 (cohort)",
        rtol=1e-6,
        atol=1e-9,
        hints={
            **{c: hint for c in expected.columns},
            "__rows__": "队列的划分不同：检查 freq（月/周）和 cohort_by（首购/注册日期）(check freq and cohort_by).",
        },
    )


@exercise_check
def check_cohort_matrix(
    answer: object,
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    *,
    name: str = "matrix",
    **cohort_kwargs: object,
) -> str:
    """Check a wide cohort matrix (reference: :func:`workbook.cohorts.cohort_table` with ``cohort_kwargs``).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.cohorts import cohort_table
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10", "2024-02-14"]),
    ...     "amount": [10.0, 20.0, 50.0]})
    >>> check_cohort_matrix(cohort_table(tx, metric="revenue"), tx, metric="revenue")
    ✓ 通过 (passed) · matrix: 2 行 × 2 列都对 (all 2 rows × 2 columns correct)
    """
    require_answer(answer, name, "用 workbook.cohorts.cohort_table(data.transactions, ...) 计算队列矩阵。")
    return _compare_matrix(answer, transactions, members, name, cohort_kwargs)


@exercise_check
def check_retention_matrix(
    answer: object,
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    *,
    freq: str = "M",
    cohort_by: str = "first_purchase",
    analysis_date: object | None = None,
    name: str = "retention",
) -> str:
    """Check a retention-rate matrix (members retained / cohort size, wide).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.cohorts import cohort_table
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10", "2024-01-14"]),
    ...     "amount": [10.0, 20.0, 50.0]})
    >>> check_retention_matrix(cohort_table(tx), tx)
    ✓ 通过 (passed) · retention: 1 行 × 2 列都对 (all 1 rows × 2 columns correct)
    """
    require_answer(answer, name, "用 workbook.cohorts.cohort_table(data.transactions, ...) 计算留存率矩阵。")
    kwargs = {"freq": freq, "cohort_by": cohort_by, "metric": "members", "normalize": True,
              "analysis_date": analysis_date}
    return _compare_matrix(answer, transactions, members, name, kwargs)
