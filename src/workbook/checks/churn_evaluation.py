"""Checks of exercise 6, churn-model evaluation (``exercises/source/06_churn_evaluation.ipynb``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from workbook.checks.engine import (
    ExerciseCheckError,
    compare_choice,
    exercise_check,
    require_answer,
    require_previous,
)

__all__ = ["check_best_model", "check_churn_evaluation", "check_train_cutoff"]

_METRICS = ["roc_auc", "average_precision", "base_rate", "brier_score"]


@exercise_check
def check_train_cutoff(
    answer: object, test_cutoff: object, horizon_days: int, *, min_history_days: int = 180,
    first_date: object | None = None, name: str = "train_cutoff",
) -> str:
    """Check a training cutoff: no label leakage into the test period, enough history before it.

    Leakage-free means ``train_cutoff + horizon_days <= test_cutoff``
    (:func:`workbook.churn.time_split`); with ``first_date`` the cutoff must also
    leave at least ``min_history_days`` of data before it.  Any date that meets
    both conditions is right.

    Examples
    --------
    >>> check_train_cutoff("2024-06-01", "2024-10-01", 90)
    ✓ 通过 (passed) · train_cutoff: train_cutoff = 2024-06-01：训练标签窗口在 2024-08-30 结束，不晚于测试截点 2024-10-01
    >>> check_train_cutoff("2024-09-01", "2024-10-01", 90).status
    'failed'
    """
    require_answer(answer, name, "填一个日期字符串，例如 '2024-01-01' (a date string).")
    try:
        cut = pd.Timestamp(answer)
    except (TypeError, ValueError):
        raise ExerciseCheckError(f"{name} = {answer!r} 不是日期 (not a date)", "写成 'YYYY-MM-DD'，例如 '2024-01-01'。") from None
    test = pd.Timestamp(test_cutoff)
    end = cut + pd.Timedelta(days=int(horizon_days))
    if end > test:
        raise ExerciseCheckError(
            f"{name} = {cut.date()} 会泄漏未来信息 (label leakage): 训练标签窗口 [{cut.date()}, {end.date()}) "
            f"越过了测试截点 {test.date()}",
            "训练截点 + HORIZON_DAYS 天不能晚于 TEST_CUTOFF：上线那天你只知道那天之前的结果 "
            "(train_cutoff + horizon must not pass the test cutoff).",
        )
    if first_date is not None and cut < pd.Timestamp(first_date) + pd.Timedelta(days=min_history_days):
        raise ExerciseCheckError(
            f"{name} = {cut.date()} 太早 (too early): 之前只有 {(cut - pd.Timestamp(first_date)).days} 天的数据",
            f"至少留 {min_history_days} 天历史，特征 (features) 才有意义。",
        )
    return f"{name} = {cut.date()}：训练标签窗口在 {end.date()} 结束，不晚于测试截点 {test.date()}"


def _as_metrics_row(answer: object, name: str) -> pd.Series:
    if isinstance(answer, pd.DataFrame):
        if len(answer) != 1:
            raise ExerciseCheckError(f"{name} 应该只有一行 (one row)，你的有 {len(answer)} 行", "只评估一个模型。")
        answer = answer.iloc[0]
    if isinstance(answer, Mapping):
        answer = pd.Series(answer)
    if not isinstance(answer, pd.Series) or not all(c in answer.index for c in _METRICS):
        raise ExerciseCheckError(
            f"{name} 应该是 churn_metrics 返回的表 (columns {_METRICS})，你的是 {type(answer).__name__}",
            "直接把 churn_metrics(...) 的返回值赋给 metrics，不要手抄数字。",
        )
    return answer[_METRICS].astype(float)


@exercise_check
def check_churn_evaluation(
    answer: object,
    split: object,
    p_test: object,
    *,
    model: object | None = None,
    name: str = "metrics",
) -> str:
    """Check churn-model metrics on the test set (reference: :func:`workbook.churn.churn_metrics`).

    ``answer`` is the one-row metrics table of ``churn_metrics(split.y_test,
    p_test)``; ``roc_auc``, ``average_precision``, ``base_rate`` and
    ``brier_score`` are compared.  With the fitted ``model``, ``p_test`` must
    be the model's probabilities on ``split.X_test`` (so the scores are the
    model's, not typed in) and metrics computed on the training set are
    recognised.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.churn import ChurnSplit, churn_metrics
    >>> y, p = pd.Series([0, 0, 1, 1]), pd.Series([0.1, 0.4, 0.35, 0.8])
    >>> split = ChurnSplit(None, None, None, y)
    >>> check_churn_evaluation(churn_metrics(y, p), split, p)
    ✓ 通过 (passed) · metrics: 测试集 AUC = 0.750, 平均精确率 = 0.833 (基准流失率 0.500)
    >>> check_churn_evaluation(churn_metrics(y, 1 - p), split, p).status
    'failed'
    """
    require_answer(answer, name, "用 workbook.churn.churn_metrics(split.y_test, p_test) 在测试集上评估。")
    require_previous(split, "split")
    require_previous(p_test, "p_test")
    from workbook.churn import churn_metrics

    if not hasattr(split, "y_test"):
        raise ExerciseCheckError(f"split 应该是 time_split 的结果，你的是 {type(split).__name__}", "split = time_split(...)。")
    if len(p_test) != len(split.y_test):
        raise ExerciseCheckError(
            f"p_test 有 {len(p_test)} 个分数，测试集有 {len(split.y_test)} 个会员 (one score per test member)",
            "p_test = model.predict_proba(split.X_test)：用测试集，不是训练集。",
        )
    if model is not None and hasattr(model, "predict_proba"):
        own = np.asarray(model.predict_proba(split.X_test), dtype=float)
        if not np.allclose(np.asarray(p_test, dtype=float), own, rtol=1e-9, atol=1e-12):
            raise ExerciseCheckError(
                "p_test 不是 model 在测试集上的预测 (p_test is not the model's prediction on split.X_test)",
                "p_test = model.predict_proba(split.X_test)。",
            )
    got = _as_metrics_row(answer, name)
    ref = churn_metrics(split.y_test, p_test).iloc[0]
    if np.allclose(got.to_numpy(), ref[_METRICS].to_numpy(dtype=float), rtol=1e-6, atol=1e-9):
        return (
            f"测试集 AUC = {ref['roc_auc']:.3f}, 平均精确率 = {ref['average_precision']:.3f} "
            f"(基准流失率 {ref['base_rate']:.3f})"
        )
    if model is not None and getattr(split, "X_train", None) is not None:
        train = churn_metrics(split.y_train, model.predict_proba(split.X_train)).iloc[0]
        if np.allclose(got.to_numpy(), train[_METRICS].to_numpy(dtype=float), rtol=1e-6, atol=1e-9):
            raise ExerciseCheckError(
                f"{name} 是在训练集上算的 (computed on the training set): 这样的 AUC 过于乐观",
                "评估要用模型没见过的数据: churn_metrics(split.y_test, p_test).",
            )
    if np.isclose(got["roc_auc"], 1 - ref["roc_auc"], atol=1e-9) and not np.isclose(ref["roc_auc"], 0.5):
        raise ExerciseCheckError(
            f"{name}.roc_auc = {got['roc_auc']:.3f} 不对：分数方向反了 (scores inverted)",
            "用流失概率 p_test，而不是留存概率 1 - p (use the churn probability).",
        )
    bad = [c for c in _METRICS if not np.isclose(got[c], ref[c], rtol=1e-6, atol=1e-9)]
    raise ExerciseCheckError(
        f"{name}.{bad[0]} = {got[bad[0]]:.4f} 不对 (wrong)",
        "churn_metrics(y_true, scores)：先真实标签 split.y_test，再预测概率 p_test，二者都来自测试集。",
    )


@exercise_check
def check_best_model(
    answer: object,
    split: object,
    *,
    comparison: object = None,
    kinds: Sequence[str] = ("logistic", "hgb"),
    metric: str = "roc_auc",
    random_state: int = 0,
    name: str = "best_model",
) -> str:
    """Check which :class:`workbook.churn.ChurnModel` kind scores best on the test set.

    Each kind is fitted on ``split.X_train, split.y_train`` with ``random_state``
    (the notebook's ``SEED``) and evaluated on the test set.  ``comparison`` is the trainee's table of the
    models' test metrics (one row per kind, indexed by kind, as
    ``pd.concat`` of ``ChurnModel.evaluate`` gives); its ``metric`` column is
    checked too, so typing a model name alone does not pass.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from workbook.churn import ChurnModel, ChurnSplit
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"recency_days": rng.integers(0, 365, 400).astype(float)})
    >>> y = pd.Series((rng.random(400) < X["recency_days"] / 365).astype(int))
    >>> split = ChurnSplit(X[:200], y[:200], X[200:], y[200:])
    >>> comparison = pd.concat([ChurnModel(k, random_state=0).fit(split.X_train, split.y_train)
    ...     .evaluate(split.X_test, split.y_test) for k in ["logistic", "hgb"]])
    >>> check_best_model("logistic", split, comparison=comparison)
    ✓ 通过 (passed) · best_model: best_model = 'logistic'，比较表 comparison 也对
    >>> check_best_model("logistic", split).status
    'not_answered'
    """
    require_answer(answer, name, f"比较 {list(kinds)} 在测试集上的 {metric}，填最好的那个。")
    require_previous(split, "split")
    from workbook.churn import ChurnModel

    require_answer(comparison, "comparison", "先做比较表 comparison（每个模型一行），再从表里选出最好的模型。")
    if not isinstance(comparison, pd.DataFrame) or metric not in comparison.columns:
        raise ExerciseCheckError(
            f"comparison 应该是一张有 {metric} 列的表 (a table with a {metric} column)",
            "comparison = pd.concat([ChurnModel(kind, random_state=SEED).fit(...).evaluate(split.X_test, split.y_test) ...]).",
        )
    scores = {}
    for k in kinds:
        model = ChurnModel(k, random_state=random_state).fit(split.X_train, split.y_train)
        scores[k] = float(model.evaluate(split.X_test, split.y_test)[metric].iloc[0])
    index = comparison.index.astype(str)
    for k in kinds:
        rows = comparison[index == k]
        if len(rows) != 1:
            raise ExerciseCheckError(
                f"comparison 里应该有一行 {k!r}，你的有 {len(rows)} 行 (one row per model, indexed by its name)",
                "ChurnModel(kind).evaluate(...) 的行名就是模型名；把两个模型的结果 pd.concat 起来。",
            )
        if not np.isclose(float(rows[metric].iloc[0]), scores[k], rtol=1e-6, atol=1e-9):
            raise ExerciseCheckError(
                f"comparison 里 {k!r} 的 {metric} 不对 (wrong)",
                "用同一个 split 训练 (split.X_train, split.y_train)、用 random_state=SEED，并在测试集上评估 "
                "(evaluate(split.X_test, split.y_test)).",
            )
    higher_better = metric in ("roc_auc", "average_precision")
    expected = max(scores, key=scores.get) if higher_better else min(scores, key=scores.get)
    text = compare_choice(
        answer, expected, name=name, choices=list(kinds),
        hint=f"在 comparison 里比较 {metric}（{'越大越好' if higher_better else '越小越好'}），"
        f"用 idxmax() 取出模型名 (pick the best {metric}).",
    )
    return f"{text}，比较表 comparison 也对"
