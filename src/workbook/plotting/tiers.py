"""Tier design charts: members and spend per tier, and the cost of the benefits.

Every plot returns a matplotlib Axes, accepts ``ax=`` and passes ``**kwargs``
on to :meth:`matplotlib.axes.Axes.bar`.  The live-session sliders that redraw
them are a widget, not a plot: :func:`workbook.widgets.tier_sandbox`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from workbook.plotting.style import axes
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_tier_distribution", "plot_benefit_cost"]


def _tier_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Drop the "total" row of a simulate/benefit table."""
    return df.loc[df["tier"].astype(str) != "total"]


def _labels(df: pd.DataFrame) -> list[str]:
    if "tier_label_zh" in df.columns:
        return [f"{zh}\n{en}" for zh, en in zip(df["tier_label_zh"].astype(str), df["tier"].astype(str), strict=True)]
    return df["tier"].astype(str).tolist()


def plot_tier_distribution(data: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None,
                           **kwargs: object) -> Axes:
    """Share of members and share of spend per tier, side by side.

    The two tables this accepts count spend differently, and the default title
    says which: :func:`workbook.tiers.tier_summary` gives each member's past
    12 months of spend under the tier they hold at the review date;
    :func:`workbook.tiers.simulate_policy` gives each purchase of the cost
    window under the tier held when it was made.  So the spend shares differ.

    Parameters
    ----------
    data : DataFrame
        :func:`workbook.tiers.tier_summary` (one review) or
        :func:`workbook.tiers.simulate_policy`: columns ``tier``, ``members``,
        ``member_share`` and ``spend_share``.
    ax : matplotlib Axes, optional
    title : str, optional
        Default: a title naming how spend is counted (see above).
    **kwargs
        Passed to both :meth:`matplotlib.axes.Axes.bar` calls.

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
    summary = data
    require_dataframe(summary, "data")
    require_columns(summary, ["tier", "members", "member_share", "spend_share"], "data")
    part = _tier_rows(summary)
    if "review_date" in part.columns and part["review_date"].nunique() > 1:
        part = part.loc[part["review_date"] == part["review_date"].max()]
    ax = axes(ax, (7.5, 4.5))
    x = np.arange(len(part))
    w = 0.4
    bars = ax.bar(x - w / 2, part["member_share"].to_numpy(dtype=float), width=w,
                  label="会员占比 share of members（柱上数字为人数 members）", **kwargs)
    spend = ax.bar(x + w / 2, part["spend_share"].to_numpy(dtype=float), width=w,
                   label="消费占比 share of spend", **kwargs)
    for rect, n in zip(bars, part["members"].to_numpy(), strict=True):
        ax.annotate(f"{int(n):,}", (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                    ha="center", va="bottom", fontsize=8)
    for rect in spend:
        ax.annotate(f"{rect.get_height():.0%}", (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                    ha="center", va="bottom", fontsize=8, color="0.3")
    ax.set_xticks(x, _labels(part))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(0, 1.12 * max(1e-9, float(np.nanmax(part[["member_share", "spend_share"]].to_numpy(dtype=float),
                                                       initial=0))))
    ax.set_ylabel("占比 share")
    if title is None:
        if "trailing_spend" in part.columns:
            when = f"{pd.Timestamp(part['review_date'].iloc[0]):%Y-%m-%d} " if "review_date" in part.columns else ""
            title = (f"{when}评审后各等级人数，及其近 12 个月消费\n"
                     "members per tier at the last review and their past-12-month spend")
        else:
            title = ("人数：最近一次评审后；消费：每笔按消费时所持等级计\n"
                     "members at the last review; spend by the tier held at purchase")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, loc="upper right")
    return ax


_COSTS = [
    ("discount_cost", "折扣 discount"),
    ("points_cost", "积分 points"),
    ("gift_cost", "生日礼 gifts"),
]


def plot_benefit_cost(data: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None,
                      **kwargs: object) -> Axes:
    """Stacked cost of the benefits (discount, points, gifts) per tier, in CNY.

    With a ``cost_pct_of_spend`` column the cost as a share of the tier's
    spend is written above each bar (and explained in the legend).

    Parameters
    ----------
    data : DataFrame
        :func:`workbook.tiers.benefit_cost` or :func:`workbook.tiers.simulate_policy`.
    ax : matplotlib Axes, optional
    title : str, optional
    **kwargs
        Passed to each :meth:`matplotlib.axes.Axes.bar` call.

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
    cost_table = data
    require_dataframe(cost_table, "data")
    require_columns(cost_table, ["tier", *[c for c, _ in _COSTS]], "data")
    part = _tier_rows(cost_table)
    ax = axes(ax, (7.5, 4.5))
    x = np.arange(len(part))
    bottom = np.zeros(len(part))
    for col, label in _COSTS:
        v = part[col].to_numpy(dtype=float)
        ax.bar(x, v, bottom=bottom, label=label, **kwargs)
        bottom += v
    if "cost_pct_of_spend" in part.columns:
        for xi, top, pct in zip(x, bottom, part["cost_pct_of_spend"].to_numpy(dtype=float), strict=True):
            if np.isfinite(pct):
                ax.annotate(f"{pct:.1f}%", (xi, top), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, _labels(part))
    ax.set_ylim(0, 1.45 * max(float(bottom.max(initial=0)), 1.0))  # room for the legend above the bars
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel("成本 cost（元 CNY）")
    ax.set_title(title or "权益成本 Benefit cost per tier")
    handles, labels = ax.get_legend_handles_labels()
    if "cost_pct_of_spend" in part.columns:  # a legend line explaining the numbers above the bars
        handles.append(Patch(color="none"))
        labels.append("柱上 %：成本占该等级消费\ncost as % of the tier's spend")
    ax.legend(handles, labels, fontsize=8, loc="upper left")
    return ax
