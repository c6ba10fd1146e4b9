"""Retention curves and what they are worth; every function returns a matplotlib Axes.

Labels are Chinese first; every function accepts ``ax=`` and passes
``**kwargs`` on to matplotlib.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from workbook.labels import zh_label
from workbook.plotting.style import axes
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_km", "plot_revenue_vs_cost"]


def plot_km(
    data: pd.DataFrame, ax: Axes | None = None, ci: bool = True, time_unit: str = "天 days", *,
    palette: dict | None = None, **kwargs: object,
) -> Axes:
    """Step plot of retention curves from :func:`workbook.survival.km_curves`.

    Parameters
    ----------
    data : DataFrame
        Tidy curves (``group``, ``time``, ``survival`` and, for ``ci``,
        ``ci_lower``/``ci_upper``).
    ax : matplotlib Axes, optional
    ci : bool, default True
        Shade the pointwise confidence band.
    time_unit : str
        x-axis unit label.
    palette : dict, optional
        Colour per group (e.g. ``{"对照 control": "grey"}``).
    **kwargs
        Passed to each :meth:`matplotlib.axes.Axes.step` line.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.survival import km_curves
    >>> d = pd.DataFrame({"duration_days": [1, 2, 3, 4, 5, 6], "event": [1, 0, 1, 1, 0, 1],
    ...                   "follow_up": [0, 0, 0, 1, 1, 1]})
    >>> ax = plot_km(km_curves(d, group_col="follow_up"))
    >>> len(ax.get_lines())
    2
    """
    curves = data
    require_dataframe(curves, "data")
    require_columns(curves, ["group", "time", "survival"] + (["ci_lower", "ci_upper"] if ci else []),
                    "data")
    ax = axes(ax, (7.5, 4.5))
    for key, c in curves.groupby("group", sort=False):
        c = c.sort_values("time", kind="stable")
        line_kw = {"linewidth": 1.8, **kwargs}
        if palette and key in palette:
            line_kw["color"] = palette[key]
        (line,) = ax.step(c["time"], c["survival"], where="post", label=str(key), **line_kw)
        if ci:
            ax.fill_between(c["time"], c["ci_lower"], c["ci_upper"], step="post",
                            alpha=0.2, color=line.get_color(), linewidth=0)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"入会后时长 time since joining ({time_unit})")
    ax.set_ylabel("留存比例 share retained")
    ax.set_title("留存曲线 (Kaplan-Meier) retention curve")
    group_col = curves.attrs.get("group_col")
    if curves["group"].nunique() > 1 or group_col:
        handles, labels = ax.get_legend_handles_labels()
        if ci:  # explain the shading in the legend
            handles.append(Patch(color="0.6", alpha=0.3))
            labels.append("阴影：95% 置信带 95% CI")
        ax.legend(handles, labels, title=zh_label(group_col) if group_col else None)
    return ax


def plot_revenue_vs_cost(
    data: pd.DataFrame,
    cost_per_member: float,
    control: object,
    *,
    revenue: str = "revenue_per_member_cny",
    ax: Axes | None = None,
    palette: dict | None = None,
    **kwargs: object,
) -> Axes:
    """Revenue per member by arm, with the break-even line "control + cost": is it worth it?

    A treated arm pays for itself when its bar reaches above the dashed line
    (the control arm's revenue plus the programme's cost per member); the net
    gain per member is written on each treated bar.

    Parameters
    ----------
    data : DataFrame
        One row per arm (index = arm label), e.g.
        :func:`workbook.casestudies.expected_fee_revenue`.
    cost_per_member : float
        Cost of the programme per treated member (CNY).
    control : object
        Index label of the control arm.
    revenue : str, default "revenue_per_member_cny"
        Column with revenue per member (CNY); NaN is drawn as "无法估计".
    ax : matplotlib Axes, optional
    palette : dict, optional
        Colour per arm.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.bar`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"revenue_per_member_cny": [2000.0, 2300.0]}, index=["control", "follow-up"])
    >>> ax = plot_revenue_vs_cost(r, 120.0, "control")
    >>> float(ax.get_lines()[0].get_ydata()[0])
    2120.0
    """
    require_dataframe(data, "data")
    require_columns(data, [revenue], "data")
    if control not in data.index:
        from workbook.errors import WorkbookInputError

        raise WorkbookInputError(f"control {control!r} is not an arm of data; arms are {list(data.index)}.")
    ax = axes(ax, (7, 4.2))
    values = data[revenue].to_numpy(dtype=float)
    labels = [str(i) for i in data.index]
    x = np.arange(len(data))
    colours = [(palette or {}).get(i, "#8c8c8c" if i == control else "#d62728") for i in data.index]
    ax.bar(x, np.nan_to_num(values), color=colours, width=0.55, **kwargs)
    base = float(data.loc[control, revenue])
    finite = values[np.isfinite(values)]
    top = max(float(finite.max(initial=0.0)), base + cost_per_member if np.isfinite(base) else 0.0) or 1.0
    for xi, v, label in zip(x, values, data.index, strict=True):
        if not np.isfinite(v):
            if np.isfinite(values).any():
                ax.annotate("无法估计\nnot estimable", (xi, 0), ha="center", va="bottom", fontsize=9)
        elif label == control or not np.isfinite(base):
            ax.annotate(f"{v:,.0f} 元", (xi, v / 2), ha="center", va="center", fontsize=10, color="white")
        else:  # written mid-bar, where the break-even line never crosses it
            net = v - base - cost_per_member
            ax.annotate(f"{v:,.0f} 元\n净收益 net\n{net:+,.0f} 元/人", (xi, v / 2), ha="center", va="center",
                        fontsize=10, color="white")
    if np.isfinite(base):
        ax.axhline(base + cost_per_member, color="black", linestyle="--", linewidth=1.2,
                   label=f"盈亏平衡：对照组 + 成本 {cost_per_member:,.0f} 元/人 (break-even: control + cost)")
        ax.legend(loc="upper left", fontsize=8, framealpha=0.95)
    ax.set_xticks(x, labels)
    if np.isfinite(values).any():
        ax.set_ylim(0, 1.2 * top)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    else:  # nothing to scale: say so instead of showing a meaningless axis
        ax.set_yticks([])
        ax.text(0.5, 0.55, "数据还不够长，无法估计收入\nthe data are too short to estimate revenue",
                transform=ax.transAxes, ha="center", va="center", fontsize=11, color="0.3")
    ax.set_ylabel("人均收入 revenue per member（元）")
    ax.set_xlabel("组别 arm")
    ax.set_title("值不值？增量收入 vs 成本 Is it worth it: revenue vs cost")
    return ax
