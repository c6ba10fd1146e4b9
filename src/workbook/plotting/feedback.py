"""Charts for member feedback (NPS, complaint drivers, churn by NPS group); each returns the Axes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from workbook.labels import zh_label
from workbook.plotting.style import axes as _axes
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_complaint_drivers", "plot_rate_by_group"]

_GROUP_COLOURS = {"detractor": "#d62728", "passive": "#bcbd22", "promoter": "#2ca02c"}


def plot_rate_by_group(
    data: pd.DataFrame,
    *,
    y: str = "churn_rate",
    low: str = "ci_low",
    high: str = "ci_high",
    truth: str | None = None,
    ylabel: str = "流失率 churn rate",
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Bars of a rate per group (index) with interval whiskers, optionally a truth marker per group.

    Parameters
    ----------
    data : DataFrame
        One row per group (e.g. :func:`workbook.feedback.churn_by_feedback`).
    y, low, high : str
        Rate and interval columns.
    truth : str, optional
        Column with a true value per group, drawn as a black diamond.
    ylabel : str
        Y-axis label.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.bar`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"churn_rate": [0.6, 0.4], "ci_low": [0.5, 0.3], "ci_high": [0.7, 0.5]},
    ...                  index=pd.Index(["detractor", "promoter"], name="nps_group"))
    >>> [t.get_text() for t in plot_rate_by_group(t).get_xticklabels()]
    ['贬损者（0-6 分）', '推荐者（9-10 分）']
    """
    require_dataframe(data, "data")
    require_columns(data, [y, low, high] + ([truth] if truth else []), "data")
    ax = _axes(ax, (6, 4))
    groups = [str(g) for g in data.index]
    x = np.arange(len(groups))
    rate = data[y].to_numpy(dtype=float)
    err = np.vstack([rate - data[low].to_numpy(dtype=float), data[high].to_numpy(dtype=float) - rate])
    colours = [_GROUP_COLOURS.get(g, "#1f77b4") for g in groups]
    ax.bar(x, rate, yerr=err, capsize=6, color=colours, alpha=0.85, **kwargs)
    if truth:
        ax.scatter(x, data[truth].to_numpy(dtype=float), marker="D", color="black", zorder=3,
                   label="真实值 (truth)")
        ax.legend(loc="upper right", fontsize=9)
    ax.set_xticks(x, [zh_label(g) for g in groups])
    ax.set_ylabel(f"{ylabel}\n（误差线 = 95% 区间 error bars: 95% CI）")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return ax


def plot_complaint_drivers(
    data: pd.DataFrame,
    *,
    effect: str = "effect",
    low: str = "ci_low",
    high: str = "ci_high",
    truth: str | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Horizontal bars of each complaint tag's effect on the score with intervals (and truth markers).

    Parameters
    ----------
    data : DataFrame
        One row per tag (:func:`workbook.feedback.complaint_drivers`).
    effect, low, high : str
        Effect and interval columns.
    truth : str, optional
        Column with the true effect, drawn as a black diamond.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"effect": [-2.0, -0.5], "ci_low": [-2.3, -0.7], "ci_high": [-1.7, -0.3]},
    ...                  index=pd.Index(["staff_attitude", "price"], name="tag"))
    >>> plot_complaint_drivers(d).get_xlabel()
    '对 NPS 分的影响（分）effect on the 0-10 score'
    """
    require_dataframe(data, "data")
    require_columns(data, [effect, low, high] + ([truth] if truth else []), "data")
    ax = _axes(ax, (7, 0.6 * len(data) + 1.5))
    y = np.arange(len(data))[::-1]
    est = data[effect].to_numpy(dtype=float)
    err = np.vstack([est - data[low].to_numpy(dtype=float), data[high].to_numpy(dtype=float) - est])
    ax.barh(y, est, xerr=err, capsize=4, color="#ff7f0e", alpha=0.8, label="回归估计 (estimate, 95% 区间)", **kwargs)
    if truth:
        ax.scatter(data[truth].to_numpy(dtype=float), y, marker="D", color="black", zorder=3,
                   label="真实效果 (truth)")
    ax.set_yticks(y, [zh_label(str(t)) for t in data.index])
    ax.axvline(0, color="grey", lw=1)
    ax.set_xlabel("对 NPS 分的影响（分）effect on the 0-10 score")
    ax.legend(loc="lower left", fontsize=9)
    return ax
