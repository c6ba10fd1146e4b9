"""Checks of exercise 1, RFM scoring and segment naming (``exercises/source/01_rfm_segments.ipynb``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.checks.engine import (
    ExerciseCheckError,
    Hint,
    compare_choice,
    compare_frame,
    exercise_check,
    require_answer,
    require_previous,
)

__all__ = ["check_rfm_scores", "check_rfm_segments", "check_top_segment"]


def _constant_offset(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> float | None:
    g = pd.to_numeric(got, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)[differs]
    e = exp.to_numpy(dtype="float64", na_value=np.nan)[differs]
    d = g - e
    if len(d) and np.isfinite(d).all() and np.allclose(d, d[0]):
        return float(d[0])
    return None


def _recency_hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
    offset = _constant_offset(got, exp, differs)
    if offset is not None and abs(offset) == 1:
        return (
            "差一天 (off by one): recency_days 是完整经过的天数 (whole elapsed days) "
            "floor((analysis_date - last_purchase) / 1 天)，分析日期默认是最后交易日之后的午夜，"
            "所以最后一天购买的会员 recency_days = 0。"
        )
    return "用 workbook.rfm.rfm_table(data.transactions) 计算；退货不算购买 (returns are not purchases)."


def _frequency_hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
    g = pd.to_numeric(got, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)[differs]
    e = exp.to_numpy(dtype="float64", na_value=np.nan)[differs]
    if np.all(g > e):
        return "你的购买次数偏多：退货 (is_return) 不算购买 (returns are not purchases)."
    if np.allclose(g, e - 1):
        return "frequency 是全部购买次数；repeat_frequency 才是 frequency - 1 (repeat purchases)."
    return "frequency = 分析日期之前的购买笔数（不含退货）(purchase transactions before the analysis date)."


def _reverse_score_hint(bins: int) -> Hint:
    def hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
        g = pd.to_numeric(got, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        e = exp.to_numpy(dtype="float64", na_value=np.nan)
        if np.allclose(g, bins + 1 - e):
            return "R 分数是反向的 (recency is scored inversely): 最近购买 = recency_days 小 = 高分。"
        return "用 RFMScorer(bins=RFM_BINS).fit_transform(rfm) 打分：相同的值得相同的分 (ties share a score)."

    return hint


_SCORE_HINT = (
    "用 RFMScorer(bins=RFM_BINS).fit_transform(rfm) 打分，不要用 pd.qcut：中位秩规则让相同的值得相同的分 "
    "(ties share a score; see the workbook.rfm docstring)."
)


@exercise_check
def check_rfm_scores(
    answer: object,
    transactions: pd.DataFrame,
    *,
    analysis_date: object | None = None,
    bins: int = 5,
    name: str = "scored",
) -> str:
    """Check an RFM table with quantile scores.

    The reference is ``RFMScorer(bins).fit_transform(rfm_table(transactions, analysis_date=analysis_date))``
    (:mod:`workbook.rfm`); columns ``recency_days``, ``frequency``,
    ``monetary_total``, ``r_score``, ``f_score``, ``m_score`` are compared.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.rfm import RFMScorer, rfm_table
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05", "2024-01-08"]),
    ...     "amount": [10.0, 20.0, 5.0, 8.0], "is_return": [False] * 4})
    >>> check_rfm_scores(RFMScorer(bins=3).fit_transform(rfm_table(tx)), tx, bins=3)
    ✓ 通过 (passed) · scored: 3 行 × 6 列都对 (all 3 rows × 6 columns correct)
    """
    require_answer(answer, name, "先用 rfm_table 计算 R/F/M，再用 RFMScorer(bins=RFM_BINS).fit_transform 打分。")
    from workbook.rfm import RFMScorer, rfm_table

    expected = RFMScorer(bins=bins).fit_transform(rfm_table(transactions, analysis_date=analysis_date))
    cols = ["recency_days", "frequency", "monetary_total", "r_score", "f_score", "m_score"]
    return compare_frame(
        answer,
        expected[cols],
        name=name,
        row_label="会员 (member)",
        rtol=1e-9,
        atol=0.005,
        hints={
            "recency_days": _recency_hint,
            "frequency": _frequency_hint,
            "monetary_total": "monetary_total 是净消费 = 购买金额 - 退货金额 (net spend: purchases minus returns).",
            "r_score": _reverse_score_hint(bins),
            "f_score": _SCORE_HINT,
            "m_score": _SCORE_HINT,
            "__rows__": "每个在分析日期之前买过东西的会员一行；散客 (没有 member_id) 不算。",
        },
    )


@exercise_check
def check_rfm_segments(
    answer: object, scored: pd.DataFrame, *, scheme: str = "rfm11", fm: str = "mean", name: str = "segmented"
) -> str:
    """Check segment codes given the scored RFM table (reference: :func:`workbook.rfm.segment`).

    The reference is computed from the trainee's own ``scored``, so this check
    does not depend on the previous one passing; it needs ``scored`` to exist.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.rfm import segment
    >>> scored = pd.DataFrame({"r_score": [5, 1], "f_score": [5, 1], "m_score": [4, 2]})
    >>> check_rfm_segments(segment(scored), scored)
    ✓ 通过 (passed) · segmented: 2 行 × 1 列都对 (all 2 rows × 1 columns correct)
    >>> check_rfm_segments(segment(scored), None).message
    '先完成上一题 (finish the previous task first): scored 还没有算出来'
    """
    require_answer(answer, name, "用 workbook.rfm.segment(scored) 给每个会员命名分群。")
    require_previous(scored, "scored")
    from workbook.rfm import segment

    expected = segment(scored, scheme, fm=fm)[["segment"]]
    return compare_frame(
        answer,
        expected,
        name=name,
        row_label="会员 (member)",
        hints={
            "segment": "分群看 R 分和 FM 分: FM = round_half_up((F + M) / 2)；用 segment(scored) 并保留列 segment "
            "(the segment code, e.g. 'champions').",
        },
    )


@exercise_check
def check_top_segment(
    answer: object,
    segmented: pd.DataFrame,
    *,
    summary: object = None,
    by: str = "revenue",
    name: str = "top_segment",
) -> str:
    """Check the segment code with the largest ``by`` column of :func:`workbook.rfm.segment_summary`.

    With ``summary`` (the trainee's ``segment_summary(segmented)`` table) the
    table the answer comes from is checked too, so typing a segment code alone
    does not pass.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.rfm import segment_summary
    >>> seg = pd.DataFrame({"segment": ["a", "a", "b"], "monetary_total": [1.0, 2.0, 5.0]})
    >>> check_top_segment("b", seg, summary=segment_summary(seg))
    ✓ 通过 (passed) · top_segment: top_segment = 'b'，来自正确的 summary 表
    >>> check_top_segment("b", seg, summary=None).status
    'not_answered'
    """
    require_answer(answer, name, f"用 segment_summary(segmented) 找出 {by} 最大的分群代码 (idxmax).")
    require_previous(segmented, "segmented")
    from workbook.rfm import segment_summary

    reference = segment_summary(segmented)
    require_answer(summary, "summary", "先用 summary = segment_summary(segmented) 汇总，再从表里找出答案。")
    compare_frame(
        summary, reference[["members", by]], name="summary", row_label="分群 (segment)",
        hints={"__rows__": "用 segment_summary(segmented) 汇总，每个分群一行 (one row per segment)."},
    )
    names = {str(v) for c in ("segment_zh", "segment_en") if c in reference.columns for v in reference[c]}
    if isinstance(answer, str) and answer in names:
        raise ExerciseCheckError(
            f"{name} = {answer!r} 是分群名称 (a segment name)；请填分群代码 (the segment code)",
            "分群代码是 segment_summary 的索引（英文小写，例如 'loyal'）(the index of the summary).",
        )
    hint = (
        f"按 {by} 列找最大的一行的索引: summary['{by}'].idxmax() "
        f"(the segment with the largest {by}, not the most members)."
    )
    text = compare_choice(answer, reference[by].idxmax(), name=name, choices=list(reference.index), hint=hint)
    return f"{text}，来自正确的 summary 表"
