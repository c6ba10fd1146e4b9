"""Charts for the points currency: earned, redeemed, expired and outstanding points over time."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

from workbook.plotting.style import axes as _axes
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_points_inflation", "plot_points_timeline"]


def _period_ticks(ax: Axes, index: pd.Index) -> None:
    """At most about twelve period labels under marks drawn at 0, 1, 2, ..."""
    labels = [str(p) for p in index]
    step = max(1, len(labels) // 12)
    ax.set_xticks(np.arange(len(labels))[::step], labels[::step], rotation=45, ha="right")


def plot_points_timeline(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Points issued (up), redeemed and expired (down) per period, and the outstanding balance (line).

    Parameters
    ----------
    data : DataFrame
        :func:`workbook.points.points_timeline` (index: periods; columns
        ``earned``, ``redeemed``, ``expired``, ``outstanding``).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the line of :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"earned": [100.0, 50.0], "redeemed": [0.0, 30.0], "expired": [0.0, 120.0],
    ...                   "outstanding": [100.0, 0.0]}, index=pd.period_range("2024-11", periods=2, freq="M"))
    >>> len(plot_points_timeline(t).get_legend().get_texts())
    4
    """
    require_dataframe(data, "data")
    require_columns(data, ["earned", "redeemed", "expired", "outstanding"], "data")
    ax = _axes(ax, (9, 4.5))
    x = np.arange(len(data))
    ax.bar(x, data["earned"], color="#2ca02c", alpha=0.8, label="发放 earned")
    ax.bar(x, -data["redeemed"], color="#1f77b4", alpha=0.8, label="兑换 redeemed")
    ax.bar(x, -data["expired"], bottom=-data["redeemed"], color="#d62728", alpha=0.8, label="清零 expired")
    ax.plot(x, data["outstanding"], color="black", marker="o", label="期末有效积分 outstanding", **kwargs)
    ax.axhline(0, color="grey", lw=1)
    _period_ticks(ax, data.index)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 10_000:,.0f} 万"))
    ax.set_ylabel("积分 points（万分）")
    ax.legend(loc="upper left", fontsize=9)
    return ax


def plot_points_inflation(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Rebate promised (points issued x value / spend) against rebate paid out (points redeemed x value / spend).

    Parameters
    ----------
    data : DataFrame
        :func:`workbook.points.points_inflation` (columns ``promised_rebate``, ``paid_rebate``).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"promised_rebate": [0.01, 0.02], "paid_rebate": [0.002, 0.004]},
    ...                  index=pd.period_range("2024-11", periods=2, freq="M"))
    >>> plot_points_inflation(t).get_ylabel()
    '占积分消费的比例 share of spend'
    """
    require_dataframe(data, "data")
    require_columns(data, ["promised_rebate", "paid_rebate"], "data")
    ax = _axes(ax, (9, 4))
    x = np.arange(len(data))
    ax.plot(x, data["promised_rebate"], marker="o", color="#2ca02c", label="发放的积分价值 promised rebate", **kwargs)
    ax.plot(x, data["paid_rebate"], marker="s", color="#1f77b4", label="兑付的积分价值 paid rebate", **kwargs)
    _period_ticks(ax, data.index)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    top = float(np.nanmax(data[["promised_rebate", "paid_rebate"]].to_numpy(dtype=float), initial=0.0))
    ax.set_ylim(0, top * 1.3 if top > 0 else 0.01)
    ax.set_ylabel("占积分消费的比例 share of spend")
    ax.legend(loc="lower right", fontsize=9)
    return ax
