"""Tier design charts and the live-session sandbox.

``plot_tier_distribution`` shows members and spend per tier, ``plot_benefit_cost``
the cost of each benefit per tier, and ``tier_sandbox`` wires both to ipywidgets
sliders for live sessions (notebooks checked by nbval call
:func:`workbook.tiers.simulate_policy` and the plots directly instead).
Every plot returns a matplotlib Axes and accepts ``ax=``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

import workbook.plotting  # noqa: F401  (sets the CJK font and theme)
from workbook.tiers import TierPolicy, simulate_policy
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_tier_distribution", "plot_benefit_cost", "tier_sandbox"]


def _tier_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Drop the "total" row of a simulate/benefit table."""
    return df.loc[df["tier"].astype(str) != "total"]


def _labels(df: pd.DataFrame) -> list[str]:
    if "tier_label_zh" in df.columns:
        return [f"{zh}\n{en}" for zh, en in zip(df["tier_label_zh"].astype(str), df["tier"].astype(str), strict=True)]
    return df["tier"].astype(str).tolist()


def plot_tier_distribution(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Share of members and share of spend per tier, side by side.

    Parameters
    ----------
    summary : DataFrame
        :func:`workbook.tiers.tier_summary` (one review) or
        :func:`workbook.tiers.simulate_policy`: columns ``tier``, ``members``,
        ``member_share`` and ``spend_share``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"tier": ["member", "silver"], "tier_label_zh": ["普通会员", "银卡"],
    ...     "members": [90, 10], "member_share": [0.9, 0.1], "spend_share": [0.6, 0.4]})
    >>> len(plot_tier_distribution(s).patches)
    4
    """
    require_dataframe(summary, "summary")
    require_columns(summary, ["tier", "members", "member_share", "spend_share"], "summary")
    part = _tier_rows(summary)
    if "review_date" in part.columns and part["review_date"].nunique() > 1:
        part = part.loc[part["review_date"] == part["review_date"].max()]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(part))
    w = 0.4
    bars = ax.bar(x - w / 2, part["member_share"].to_numpy(dtype=float), width=w, label="会员占比 members")
    ax.bar(x + w / 2, part["spend_share"].to_numpy(dtype=float), width=w, label="消费占比 spend")
    for rect, n in zip(bars, part["members"].to_numpy(), strict=True):
        ax.annotate(f"{int(n):,}", (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, _labels(part))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_ylabel("占比 share")
    ax.set_title("各等级会员与消费占比 Members and spend per tier")
    ax.legend(fontsize=8)
    return ax


_COSTS = [
    ("discount_cost", "折扣 discount"),
    ("points_cost", "积分 points"),
    ("gift_cost", "生日礼 gifts"),
]


def plot_benefit_cost(cost_table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Stacked cost of the benefits (discount, points, gifts) per tier, in CNY.

    Parameters
    ----------
    cost_table : DataFrame
        :func:`workbook.tiers.benefit_cost` or :func:`workbook.tiers.simulate_policy`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"tier": ["member", "gold", "total"], "discount_cost": [0.0, 50.0, 50.0],
    ...     "points_cost": [5.0, 8.0, 13.0], "gift_cost": [0.0, 20.0, 20.0]})
    >>> len(plot_benefit_cost(c).patches)
    6
    """
    require_dataframe(cost_table, "cost_table")
    require_columns(cost_table, ["tier", *[c for c, _ in _COSTS]], "cost_table")
    part = _tier_rows(cost_table)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(part))
    bottom = np.zeros(len(part))
    for col, label in _COSTS:
        v = part[col].to_numpy(dtype=float)
        ax.bar(x, v, bottom=bottom, label=label)
        bottom += v
    if "cost_pct_of_spend" in part.columns:
        for xi, top, pct in zip(x, bottom, part["cost_pct_of_spend"].to_numpy(dtype=float), strict=True):
            if np.isfinite(pct):
                ax.annotate(f"{pct:.1f}%", (xi, top), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, _labels(part))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel("成本 cost (CNY)")
    ax.set_title("权益成本 Benefit cost per tier")
    ax.legend(fontsize=8)
    return ax


def tier_sandbox(
    transactions: pd.DataFrame,
    policy: TierPolicy | None = None,
    margin_rate: float = 0.4,
    **simulate_kwargs: object,
):
    """ipywidgets sliders for thresholds and discounts that re-run the simulation.

    For live sessions only: the returned widget needs a running kernel to react.
    Notebooks checked by nbval should call :func:`workbook.tiers.simulate_policy`
    and the plots directly.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.
    policy : TierPolicy, optional
        Starting policy (default :meth:`TierPolicy.default`); sliders cover its
        thresholds (above the base tier) and discounts.
    margin_rate : float
        Gross margin rate, also a slider.
    **simulate_kwargs
        Passed to :func:`workbook.tiers.simulate_policy`.

    Returns
    -------
    ipywidgets.VBox
        Sliders, an "apply" button and an output area.  ``box.run()`` re-runs the
        simulation with the slider values and returns the result table (also
        kept in ``box.result``).
    """
    import ipywidgets as widgets
    from IPython.display import display

    policy = policy if policy is not None else TierPolicy.default()
    top = max(policy.thresholds) * 2
    thr = [
        widgets.FloatSlider(value=t, min=0, max=top, step=max(top / 200, 1), description=f"{zh} 门槛",
                            continuous_update=False, readout_format=",.0f")
        for t, zh in zip(policy.thresholds[1:], policy.labels_zh[1:], strict=True)
    ]
    disc = [
        widgets.FloatSlider(value=d, min=0.5, max=1.0, step=0.01, description=f"{zh} 折扣",
                            continuous_update=False)
        for d, zh in zip(policy.discounts[1:], policy.labels_zh[1:], strict=True)
    ]
    margin = widgets.FloatSlider(value=margin_rate, min=0.05, max=0.9, step=0.01, description="毛利率 margin",
                                 continuous_update=False)
    out = widgets.Output()
    box = widgets.VBox([widgets.HBox([widgets.VBox(thr), widgets.VBox(disc)]), margin, out])

    def run(*_: object) -> pd.DataFrame | None:
        out.clear_output(wait=True)
        with out:
            try:
                p = policy.replace(
                    thresholds=(0.0, *(s.value for s in thr)),
                    discounts=(policy.discounts[0], *(s.value for s in disc)),
                )
            except ValueError as exc:  # e.g. thresholds not increasing while dragging
                display(widgets.HTML(f"<b>⚠</b> {exc}"))
                box.result = None
                return None
            result = simulate_policy(transactions, p, margin.value, **simulate_kwargs)
            fig, axes = plt.subplots(1, 2, figsize=(12, 4))
            plot_tier_distribution(result, ax=axes[0])
            plot_benefit_cost(result, ax=axes[1])
            display(fig)
            plt.close(fig)
            display(result[["tier", "tier_label_zh", "members", "spend", "total_cost",
                            "cost_pct_of_spend", "break_even_uplift_pct"]].round(2))
        box.result = result
        return result

    for s in (*thr, *disc, margin):
        s.observe(run, names="value")
    box.sliders = {"thresholds": thr, "discounts": disc, "margin_rate": margin}
    box.run = run
    box.result = None
    run()
    return box
