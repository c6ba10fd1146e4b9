"""Checks of exercise 5, tier design with a cost budget (``exercises/source/05_tier_budget.ipynb``)."""

from __future__ import annotations

import pandas as pd

from workbook.checks.engine import ExerciseCheckError, compare_frame, exercise_check, require_answer

__all__ = ["check_tier_policy", "check_tier_simulation"]


@exercise_check
def check_tier_simulation(
    answer: object,
    transactions: pd.DataFrame,
    policy: object | None = None,
    *,
    margin_rate: float = 0.4,
    analysis_date: object | None = None,
    name: str = "simulation",
) -> str:
    """Check a :func:`workbook.tiers.simulate_policy` table (members, spend and cost per tier).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.tiers import simulate_policy
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-05-01", "2024-05-02"]),
    ...     "amount": [2500.0, 1000.0, 300.0]})
    >>> check_tier_simulation(simulate_policy(tx, margin_rate=0.5), tx, margin_rate=0.5)
    ✓ 通过 (passed) · simulation: 5 行 × 4 列都对 (all 5 rows × 4 columns correct)
    """
    require_answer(answer, name, "用 workbook.tiers.simulate_policy(data.transactions, policy, margin_rate=...)。")
    from workbook.tiers import simulate_policy

    expected = simulate_policy(transactions, policy, margin_rate, analysis_date=analysis_date).set_index("tier")
    if isinstance(answer, pd.DataFrame) and "tier" in answer.columns:
        answer = answer.set_index("tier")
    return compare_frame(
        answer,
        expected[["members", "spend", "total_cost", "break_even_incremental_spend"]],
        name=name,
        row_label="等级 (tier)",
        rtol=1e-6,
        atol=0.01,
        hints={
            "members": "用参数格的 ANALYSIS_DATE 和 TierPolicy.default() (same analysis date and policy).",
            "total_cost": "检查 policy 和 margin_rate 是否与参数格一致 (same policy and margin_rate).",
            "break_even_incremental_spend": "保本增量销售额 = 成本 / 毛利率 (cost / margin_rate)；margin_rate 对吗？",
        },
    )


@exercise_check
def check_tier_policy(
    policy: object,
    transactions: pd.DataFrame,
    budget: float,
    *,
    margin_rate: float = 0.4,
    min_share_above_base: float | None = None,
    analysis_date: object | None = None,
    name: str = "my_policy",
) -> str:
    """Check that a tier policy's yearly benefit cost fits the budget.

    The policy is replayed with :func:`workbook.tiers.simulate_policy`; its total
    cost (discounts, points, birthday gifts over the last 12 months) must be at
    most ``budget`` CNY, and, with ``min_share_above_base``, at least that share
    of members must hold a tier above the base tier (so "nobody qualifies" does
    not pass).  The messages show the cost of the trainee's own policy; a policy
    is a design, so there is no single expected value to hide.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.tiers import TierPolicy
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-05-01", "2024-05-02"]),
    ...     "amount": [2500.0, 1000.0, 300.0]})
    >>> check_tier_policy(TierPolicy.default(), tx, budget=100)
    ✓ 通过 (passed) · my_policy: 在预算之内 (within budget): 年成本 60 元 ≤ 预算 100 元，银卡及以上会员占 100.0%
    """
    require_answer(policy, name, "用 TierPolicy.default().replace(thresholds=..., discounts=...) 设计你的方案。")
    from workbook.tiers import TierPolicy, simulate_policy

    if not isinstance(policy, TierPolicy):
        raise ExerciseCheckError(
            f"{name} 应该是一个 TierPolicy，你的是 {type(policy).__name__}",
            "例如 TierPolicy.default().replace(thresholds=(0, 1500, 4000, 10000)).",
        )
    sim = simulate_policy(transactions, policy, margin_rate, analysis_date=analysis_date)
    body, total = sim.iloc[:-1], sim.iloc[-1]
    cost = float(total["total_cost"])
    share_above = float(body["members"].iloc[1:].sum() / max(body["members"].sum(), 1))
    if cost > budget:
        items = total[["discount_cost", "points_cost", "gift_cost"]].astype(float)
        biggest = items.idxmax()
        worst = body.loc[body["total_cost"].astype(float).idxmax()]
        raise ExerciseCheckError(
            f"{name} 超出预算 (over budget): 年成本 {cost:,.0f} 元 > 预算 {budget:,.0f} 元，超出 {cost - budget:,.0f} 元",
            f"最大的成本项是 {biggest}，成本最高的等级是 {worst['tier']}：提高它的门槛 (thresholds)、"
            "减小折扣 (discounts 更接近 1.0) 或降低积分倍数 (points_multipliers)。",
        )
    if min_share_above_base is not None and share_above < min_share_above_base:
        raise ExerciseCheckError(
            f"{name} 的门槛太高 (thresholds too high): 只有 {share_above:.1%} 的会员在银卡及以上，"
            f"要求至少 {min_share_above_base:.0%}",
            "省钱不能靠“没人升级”：降低银卡门槛，改用更小的折扣或积分倍数来控制成本。",
        )
    return (
        f"在预算之内 (within budget): 年成本 {cost:,.0f} 元 ≤ 预算 {budget:,.0f} 元，"
        f"银卡及以上会员占 {share_above:.1%}"
    )
