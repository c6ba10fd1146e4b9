"""Checks of exercise 2, lifecycle stages (``exercises/source/02_lifecycle_stages.ipynb``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.checks.engine import (
    ExerciseCheckError,
    compare_frame,
    compare_number,
    exercise_check,
    is_number,
    require_answer,
)

__all__ = ["check_lifecycle_stages", "check_stage_share"]


def _stages(transactions, members, rules, analysis_date) -> pd.DataFrame:
    from workbook.lifecycle import LifecycleRules, lifecycle_stages

    return lifecycle_stages(transactions, members, analysis_date=analysis_date,
                            rules=rules if rules is not None else LifecycleRules())


@exercise_check
def check_lifecycle_stages(
    answer: object,
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    *,
    rules: object | None = None,
    analysis_date: object | None = None,
    name: str = "stages",
) -> str:
    """Check lifecycle stages (reference: :func:`workbook.lifecycle.lifecycle_stages`).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.lifecycle import lifecycle_stages
    >>> tx = pd.DataFrame({"member_id": ["a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-05-20", "2024-01-01"]), "amount": [10.0, 5.0]})
    >>> check_lifecycle_stages(lifecycle_stages(tx), tx)
    ✓ 通过 (passed) · stages: 2 行 × 1 列都对 (all 2 rows × 1 columns correct)
    """
    require_answer(answer, name, "用 workbook.lifecycle.lifecycle_stages(data.transactions, data.members) 分阶段。")
    from workbook.lifecycle import LifecycleRules

    rules = rules if rules is not None else LifecycleRules()
    expected = _stages(transactions, members, rules, analysis_date)[["stage"]]

    def hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
        pair = (str(got[differs].iloc[0]), str(exp[differs].iloc[0]))
        text = (
            f"阈值 (thresholds): active_days={rules.active_days}, sleeping_days={rules.sleeping_days}, "
            f"new_days={rules.new_days}, loyal_min_purchases={rules.loyal_min_purchases}；"
        )
        if set(pair) <= {"sleeping", "churned", "active"}:
            return text + "recency_days 恰好等于阈值时属于更“冷”的阶段 (at the threshold the colder stage applies); 是否传入了 rules？"
        if "potential" in pair:
            return text + "潜在会员 = 注册了但从未购买：需要传入 members (pass data.members)."
        return text + "活跃会员里按 新客 > 回流 > 忠诚 > 活跃 的顺序取第一个符合的 (first matching rule wins)."

    if isinstance(answer, pd.DataFrame) and "stage" not in answer.columns and "stage_zh" in answer.columns:
        raise ExerciseCheckError(f"{name} 缺少列 stage (missing column)", "请保留英文代码列 stage (keep the 'stage' code column).")
    return compare_frame(
        answer,
        expected,
        name=name,
        row_label="会员 (member)",
        hints={"stage": hint, "__rows__": "包括从未购买的潜在会员：把 data.members 传给 lifecycle_stages。"},
    )


@exercise_check
def check_stage_share(
    answer: object,
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    *,
    stage: str = "sleeping",
    shares: object = None,
    rules: object | None = None,
    analysis_date: object | None = None,
    name: str = "share",
) -> str:
    """Check the share (0-1) of all classified members that are in ``stage``.

    ``shares`` is the table the number comes from: the share of every stage,
    ``stages["stage"].value_counts(normalize=True)``.  It is checked too, so
    typing the number alone does not pass.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-05-20", "2024-01-01"]), "amount": [10.0, 5.0]})
    >>> from workbook.lifecycle import lifecycle_stages
    >>> shares = lifecycle_stages(tx)["stage"].value_counts(normalize=True)
    >>> check_stage_share(0.5, tx, stage="sleeping", shares=shares)
    ✓ 通过 (passed) · share: share = 0.5，来自正确的各阶段占比表
    >>> check_stage_share(0.5, tx, stage="sleeping").status
    'not_answered'
    """
    require_answer(answer, name, "先算各阶段占比 value_counts(normalize=True)，再取出该阶段的占比。")
    stages = _stages(transactions, members, rules, analysis_date)
    counts = stages["stage"].astype(str).value_counts()
    reference = counts / counts.sum()
    require_answer(
        shares, "stage_shares",
        "先算出各阶段的占比表 stage_shares = strict_stages['stage'].value_counts(normalize=True)，再从里面取出答案。",
    )
    if not isinstance(shares, pd.Series):
        raise ExerciseCheckError(
            f"各阶段占比表应该是一个 Series，你的是 {type(shares).__name__}",
            "用 strict_stages['stage'].value_counts(normalize=True) (a Series indexed by stage).",
        )
    got = shares.copy()
    got.index = got.index.astype(str)
    if got.index.has_duplicates:
        raise ExerciseCheckError("各阶段占比表里有重复的阶段 (duplicated stages)", "每个阶段一行 (one value per stage).")
    extra = got.drop(reference.index, errors="ignore")
    got = got.reindex(reference.index)
    if extra.fillna(0).ne(0).any() or got.isna().any():
        raise ExerciseCheckError(
            "各阶段占比表的阶段和你的阶段表对不上 (the stages do not match)",
            "用任务 2 的 strict_stages 计算，不要手写 (compute it from strict_stages).",
        )
    compare_frame(
        got.to_frame("share"), reference.to_frame("share"), name="stage_shares", row_label="阶段 (stage)",
        rtol=1e-6, atol=1e-6,
        hints={"share": "占比 = 该阶段人数 / 全部会员（含潜在会员）：value_counts(normalize=True)，并用任务 2 的严格口径。"},
    )
    share = float(reference.get(stage, 0.0))
    hint = "占比是 0 到 1 之间的小数，分母是全部会员（含潜在会员）(share of all members, between 0 and 1)."
    if is_number(answer) and share and np.isclose(float(answer), 100 * share):
        hint = "请用小数而不是百分数 (0.25, not 25)."
    elif isinstance(answer, (int, np.integer)) and not isinstance(answer, bool) and answer == int(counts.get(stage, 0)):
        hint = "这是人数 (a count)；题目要的是占比 (share): normalize=True."
    text = compare_number(answer, share, name=name, rtol=1e-6, atol=1e-6, hint=hint)
    return f"{text}，来自正确的各阶段占比表"
