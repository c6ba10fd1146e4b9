"""Acquisition charts: channel mix, funnel, channel comparison and first-purchase curves.

Every function returns a matplotlib Axes and accepts ``ax=``; labels are
bilingual (importing :mod:`workbook.plotting` sets a font for the Chinese).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from workbook.acquisition import FUNNEL_STAGES, TOTAL_LABEL, channel_label
from workbook.errors import WorkbookInputError
from workbook.plotting.style import axes as _axes
from workbook.validation import require_columns, require_dataframe

__all__ = [
    "plot_channel_metric",
    "plot_channel_mix",
    "plot_channel_rates",
    "plot_first_purchase_curves",
    "plot_funnel",
]

#: Bilingual axis labels of the columns of channel_quality / channel_economics.
METRIC_LABELS = {
    "members": "会员数 members",
    "buyer_rate": "首购率 bought",
    "repeat_rate": "复购率 repeat (2+)",
    "repeat_rate_of_buyers": "首购后复购率 repeat of buyers",
    "retention_rate": "12个月留存 retained",
    "revenue_per_member": "每位会员收入 revenue per member (CNY)",
    "revenue_per_buyer": "每位购买会员收入 revenue per buyer (CNY)",
    "cost_per_registration": "每个注册成本 cost per registration (CNY)",
    "cost_per_buyer": "每个首购会员成本 cost per buyer (CNY)",
    "cost_per_repeat_buyer": "每个复购会员成本 cost per repeat buyer (CNY)",
    "cost_per_retained_member": "每个留存会员成本 cost per retained member (CNY)",
    "gross_profit_per_member": "每位会员毛利 gross profit per member (CNY)",
    "net_value_per_member": "每位会员净价值 net value per member (CNY)",
    "profit_to_cost": "毛利/获客成本 profit to cost",
}




def _pct(v: float, _: object = None) -> str:
    return f"{v:.0%}"


def plot_channel_mix(mix: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Members per acquisition channel: bars of shares, or stacked bars per period.

    Parameters
    ----------
    mix : DataFrame
        Output of :func:`workbook.acquisition.channel_mix` (``channel``,
        ``members``, ``share``; with ``period`` for a monthly mix).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> mix = pd.DataFrame({"channel": ["app", "referral"], "members": [3, 1], "share": [0.75, 0.25]})
    >>> len(plot_channel_mix(mix).patches)
    2
    """
    require_dataframe(mix, "mix")
    require_columns(mix, ["channel", "members", "share"], "mix")
    if "period" in mix.columns:
        wide = mix.pivot_table(index="period", columns="channel", values="members", aggfunc="sum", fill_value=0)
        wide = wide[wide.sum().sort_values(ascending=False).index]
        ax = _axes(ax, (10, 4.5))
        x = np.arange(len(wide))
        bottom = np.zeros(len(wide))
        for ch in wide.columns:
            v = wide[ch].to_numpy(dtype=float)
            ax.bar(x, v, bottom=bottom, label=channel_label(ch), width=0.85)
            bottom += v
        step = max(1, len(wide) // 12)
        ax.set_xticks(x[::step], [pd.Timestamp(p).strftime("%Y-%m") for p in wide.index[::step]], rotation=45)
        ax.set_ylabel("新注册会员 new members")
        ax.set_title("各渠道新会员（按注册月份） New members by channel and month")
        ax.legend(fontsize="small", ncols=2)
        return ax
    m = mix.sort_values("members", ascending=True)
    ax = _axes(ax, (8, max(3.0, 0.5 * len(m) + 1)))
    y = np.arange(len(m))
    ax.barh(y, m["share"].to_numpy(dtype=float))
    ax.set_yticks(y, [channel_label(c) for c in m["channel"]])
    for yi, s, n in zip(y, m["share"], m["members"], strict=True):
        ax.text(float(s), yi, f" {s:.1%} ({int(n):,})", va="center", fontsize="small")
    ax.xaxis.set_major_formatter(plt.FuncFormatter(_pct))
    ax.set_xlim(0, float(m["share"].max()) * 1.3)
    ax.set_xlabel("占新会员比例 share of registrations")
    ax.set_title("会员来源渠道 Acquisition channel mix")
    return ax


def plot_funnel(funnel: pd.DataFrame, ax: Axes | None = None, *, log_scale: bool = False) -> Axes:
    """Horizontal funnel: one bar per stage with the count and the step conversion.

    Parameters
    ----------
    funnel : DataFrame
        Output of :func:`workbook.acquisition.acquisition_funnel` for one
        group (filter a split funnel first).
    ax : matplotlib Axes, optional
    log_scale : bool, default False
        Log x-axis (store visitors can dwarf registrations).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"stage": ["registered", "first_purchase"], "count": [100, 60],
    ...                   "rate_from_previous": [float("nan"), 0.6]})
    >>> len(plot_funnel(f).patches)
    2
    """
    require_dataframe(funnel, "funnel")
    require_columns(funnel, ["stage", "count", "rate_from_previous"], "funnel")
    if funnel["stage"].astype(str).duplicated().any():
        raise WorkbookInputError(
            "funnel has several rows per stage (a split funnel); plot one group, e.g. "
            "funnel[funnel['acquisition_channel'] == 'app']."
        )
    counts = funnel["count"].to_numpy(dtype=float)
    ax = _axes(ax, (8, max(3.0, 0.7 * len(funnel) + 1)))
    y = np.arange(len(funnel))
    labels = [f"{FUNNEL_STAGES.get(str(s), '')} {s}".strip() for s in funnel["stage"]]
    ax.barh(y, counts, color=plt.cm.Blues(np.linspace(0.85, 0.45, len(funnel))))
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    if log_scale:
        ax.set_xscale("log")
    for yi, c, r in zip(y, counts, funnel["rate_from_previous"], strict=True):
        txt = f" {int(c):,}" + ("" if pd.isna(r) else f"  (上一步的 {r:.1%} of previous)")
        ax.text(c, yi, txt, va="center", fontsize="small")
    ax.set_xlim(right=counts.max() * (30 if log_scale else 1.6))
    ax.set_xlabel("人数 / 人次 count" + ("（对数刻度 log scale）" if log_scale else ""))
    ax.set_title("会员转化漏斗 Acquisition funnel")
    return ax


def _channel_index(table: pd.DataFrame, include_total: bool) -> pd.DataFrame:
    if not include_total:
        table = table.loc[[i for i in table.index if i != TOTAL_LABEL]]
    return table


def plot_channel_rates(
    table: pd.DataFrame,
    metrics: Sequence[str] = ("buyer_rate", "repeat_rate", "retention_rate"),
    ax: Axes | None = None,
    *,
    include_total: bool = True,
) -> Axes:
    """Grouped bars of rates (shares) per channel, e.g. buy, repeat and 12-month retention.

    Parameters
    ----------
    table : DataFrame
        One row per channel (index), e.g. :func:`workbook.acquisition.channel_quality`.
    metrics : sequence of str
        Share columns to show side by side.
    ax : matplotlib Axes, optional
    include_total : bool, default True
        Show the ``"All"`` row.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> q = pd.DataFrame({"buyer_rate": [0.9, 0.6], "repeat_rate": [0.5, 0.3], "retention_rate": [0.3, 0.2]},
    ...                  index=["app", "referral"])
    >>> len(plot_channel_rates(q).patches)
    6
    """
    require_dataframe(table, "table")
    metrics = list(metrics)
    require_columns(table, metrics, "table")
    t = _channel_index(table, include_total)
    ax = _axes(ax, (9, max(3.5, 0.3 * len(t) * len(metrics) + 1.5)))
    y = np.arange(len(t))
    h = 0.8 / len(metrics)
    for k, m in enumerate(metrics):
        ax.barh(y + (k - (len(metrics) - 1) / 2) * h, t[m].to_numpy(dtype=float), height=h,
                label=METRIC_LABELS.get(m, m))
    ax.set_yticks(y, [channel_label(c) if c != TOTAL_LABEL else "全部 All" for c in t.index])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(plt.FuncFormatter(_pct))
    ax.set_xlabel("占注册会员比例 share of registered members")
    ax.set_title("哪个渠道的会员留得住？ Member quality by channel")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_channel_metric(
    table: pd.DataFrame, metric: str, ax: Axes | None = None, *, include_total: bool = True
) -> Axes:
    """One number per channel (e.g. cost per retained member), sorted, with value labels.

    Parameters
    ----------
    table : DataFrame
        One row per channel (index), e.g. :func:`workbook.acquisition.channel_economics`.
    metric : str
        Column to show.
    ax : matplotlib Axes, optional
    include_total : bool, default True
        Show the ``"All"`` row (highlighted).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> e = pd.DataFrame({"cost_per_buyer": [6.25, 75.0]}, index=["store_walk_in", "app"])
    >>> len(plot_channel_metric(e, "cost_per_buyer").patches)
    2
    """
    require_dataframe(table, "table")
    require_columns(table, [metric], "table")
    t = _channel_index(table, include_total)[metric].astype(float).sort_values()
    ax = _axes(ax, (8, max(3.0, 0.5 * len(t) + 1)))
    y = np.arange(len(t))
    colors = ["tab:gray" if i == TOTAL_LABEL else "tab:blue" for i in t.index]
    ax.barh(y, t.to_numpy(), color=colors)
    ax.set_yticks(y, [channel_label(c) if c != TOTAL_LABEL else "全部 All" for c in t.index])
    is_rate = metric.endswith("_rate")
    for yi, v in zip(y, t.to_numpy(), strict=True):
        if np.isfinite(v):
            ax.text(v, yi, f" {v:.1%}" if is_rate else f" {v:,.1f}", va="center", fontsize="small")
    finite = t[np.isfinite(t)]
    if len(finite):
        lo, hi = min(0.0, float(finite.min())), max(0.0, float(finite.max()))
        ax.set_xlim(lo * 1.25, hi * 1.25 if hi > 0 else 1.0)
    if is_rate:
        ax.xaxis.set_major_formatter(plt.FuncFormatter(_pct))
    ax.set_xlabel(METRIC_LABELS.get(metric, metric))
    ax.set_title(METRIC_LABELS.get(metric, metric))
    return ax


def plot_first_purchase_curves(curves: pd.DataFrame, ax: Axes | None = None, *, max_days: float | None = 90,
                               **kwargs) -> Axes:
    """Share of new members who have made their first purchase by day ``t``, one line per group.

    Each curve is drawn to the right edge of the chart.  Groups that buy at
    sign-up (100 % on day 0, e.g. walk-in registrations at the till) are
    drawn dashed along the top and marked "注册即首购" in the legend, so they
    do not vanish into the frame.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`workbook.survival.km_curves` on
        :func:`workbook.acquisition.first_purchase_durations`
        (``duration_col="duration_days"``, ``event_col="bought"``): the
        converted share is one minus the Kaplan-Meier curve.
    ax : matplotlib Axes, optional
    max_days : float or None, default 90
        Right end of the x-axis.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.step`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"group": ["app"] * 3 + ["store_walk_in"] * 2, "time": [0.0, 5.0, 30.0, 0.0, 0.01],
    ...                   "survival": [1.0, 0.5, 0.2, 1.0, 0.0]})
    >>> ax = plot_first_purchase_curves(c)
    >>> [line.get_label() for line in ax.lines]
    ['App app', '门店现场 store_walk_in（注册即首购 100%）']
    >>> ax.lines[1].get_xdata().tolist()  # drawn across the chart, not a single point
    [0.0, 0.01, 90.0]
    """
    require_dataframe(curves, "curves")
    require_columns(curves, ["group", "time", "survival"], "curves")
    ax = _axes(ax, (9, 4.5))
    right = max_days if max_days is not None else float(curves["time"].max())
    n_at_top = 0
    for g, c in curves.groupby("group", sort=True):
        c = c.sort_values("time")
        t = c["time"].to_numpy(dtype=float)
        share = 1 - c["survival"].to_numpy(dtype=float)
        if t[-1] < right:  # carry the last value to the right edge
            t, share = np.append(t, right), np.append(share, share[-1])
        label = channel_label(g)
        style = dict(kwargs)
        if share[t <= 1].max() >= 0.995:  # everyone bought on the day of sign-up
            label += "（注册即首购 100%）"
            # interleaved dashes, so several groups along the 100% line all stay visible
            style = {"linestyle": (6 * n_at_top, (6, 6)), "linewidth": 2.5, **kwargs}
            n_at_top += 1
        ax.step(t, share, where="post", label=label, **style)
    if max_days is not None:
        ax.set_xlim(0, max_days)
    ax.set_ylim(0, 1.06)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(_pct))
    ax.set_xlabel("注册后天数 days since registration")
    ax.set_ylabel("已首购比例 share with first purchase")
    ax.set_title("注册后多久首次购买？ Time to first purchase")
    ax.legend(fontsize="small", loc="lower right")
    return ax
