"""How identifiable an export is, step by step (pseudonymised -> generalised -> suppressed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from workbook.plotting.style import axes
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_anonymity_steps"]


def plot_anonymity_steps(data: pd.DataFrame, ax: Axes | None = None, **kwargs: object) -> Axes:
    """Grouped bars of ``unique_share`` and ``below_k_share`` for each row (a step) of ``data``.

    Parameters
    ----------
    data : DataFrame
        One row per step, indexed by the step's name, with the columns of
        :func:`workbook.anonymity.anonymity_report` (``unique_share``,
        ``below_k_share``, ``k``).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.bar`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> steps = pd.DataFrame({"unique_share": [1.0, 0.1], "below_k_share": [1.0, 0.3], "k": [5, 5]},
    ...                      index=["before", "after"])
    >>> len(plot_anonymity_steps(steps).patches)
    4
    """
    require_dataframe(data, "data")
    require_columns(data, ["unique_share", "below_k_share", "k"], "data")
    ax = axes(ax, (8, 4.2))
    x = np.arange(len(data))
    k = int(data["k"].iloc[0])
    width = 0.38
    for offset, col, label, colour in (
        (-width / 2, "unique_share", "唯一可识别（组里只有 1 人）unique", "C3"),
        (width / 2, "below_k_share", f"组人数少于 k = {k}（below k）", "C1"),
    ):
        values = data[col].to_numpy(dtype=float)
        bars = ax.bar(x + offset, values, width, label=label, color=colour, **kwargs)
        ax.bar_label(bars, labels=[f"{v:.1%}" for v in values], fontsize=8, padding=2)
    ax.set_xticks(x, [str(i) for i in data.index])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("会员占比 share of members")
    ax.set_title("导出里还有多少人能被认出来 (How identifiable is the export)")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    return ax
