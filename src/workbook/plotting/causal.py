"""Treated vs control over time, for difference-in-differences; returns a matplotlib Axes.

Labels are Chinese first; ``ax=`` and ``**kwargs`` as in seaborn.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from workbook.plotting.style import axes
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_did"]

_CONTROL_COLOR = "#8c8c8c"
_TREAT_COLOR = "#d62728"


def plot_did(
    data: pd.DataFrame,
    change_date: object | None = None,
    ax: Axes | None = None,
    counterfactual: bool = True,
    ylabel: str = "复购率 repurchase rate",
    **kwargs: object,
) -> Axes:
    """Treated and control means per period with the change date marked.

    Parameters
    ----------
    data : DataFrame
        From :func:`workbook.causal.parallel_trends_table`: index = period,
        columns ``control`` and ``treated``.
    change_date : date-like, optional
        Draws a vertical line at the programme start.
    counterfactual : bool, default True
        With ``change_date``, also draw the dashed "treated without the
        programme" line: control + the mean pre-change gap.  The vertical
        distance between it and the treated line after the change is the DiD
        effect.
    ylabel : str
    **kwargs
        Passed to the two :meth:`matplotlib.axes.Axes.plot` lines (e.g. ``marker=``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"control": [0.2, 0.22, 0.25], "treated": [0.3, 0.32, 0.4]},
    ...                  index=pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]))
    >>> ax = plot_did(t, change_date="2024-03-01")
    >>> len(ax.get_lines())
    4
    """
    require_dataframe(data, "data")
    require_columns(data, ["control", "treated"], "data")
    t = data.sort_index()
    ax = axes(ax, (8, 4.5))
    line_kw = {"marker": "o", **kwargs}
    ax.plot(t.index, t["control"], color=_CONTROL_COLOR, label="对照组 control", **line_kw)
    ax.plot(t.index, t["treated"], color=_TREAT_COLOR, label="实验组 treated", **line_kw)
    if change_date is not None:
        change = pd.Timestamp(change_date)
        pre, post = t.index < change, t.index >= change
        if counterfactual and pre.any() and post.any():
            gap = (t["treated"] - t["control"])[pre].mean()
            ax.plot(t.index[post], t["control"][post] + gap, linestyle="--", color=_TREAT_COLOR,
                    alpha=0.6, label="无项目时的预期 counterfactual")
        ax.axvline(change, color="black", linestyle=":", linewidth=1.2, label="项目上线 change")
    ax.set_xlabel("期间 period")
    ax.set_ylabel(ylabel)
    ax.set_title("双重差分 difference-in-differences")
    ax.legend(loc="best")
    return ax
