"""Charts for the points currency: earned, redeemed, expired and outstanding points over time."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from workbook.plotting.style import axes as _axes
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_points_timeline"]


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
    labels = [str(p) for p in data.index]
    step = max(1, len(labels) // 12)
    ax.set_xticks(x[::step], labels[::step], rotation=45, ha="right")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 10_000:,.0f} 万"))
    ax.set_ylabel("积分 points（万分）")
    ax.legend(loc="upper left", fontsize=9)
    return ax
