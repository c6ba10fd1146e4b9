"""Kaplan-Meier retention curves; every function returns a matplotlib Axes.

Labels are bilingual (Chinese / English); importing :mod:`workbook.plotting`
first sets a font that renders the Chinese.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

import workbook.plotting  # noqa: F401  (sets the CJK font and theme)
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_km"]


def plot_km(
    curves: pd.DataFrame, ax: Axes | None = None, ci: bool = True, time_unit: str = "天 days"
) -> Axes:
    """Step plot of retention curves from :func:`workbook.survival.km_curves`.

    Parameters
    ----------
    curves : DataFrame
        Tidy curves (``group``, ``time``, ``survival`` and, for ``ci``,
        ``ci_lower``/``ci_upper``).
    ax : matplotlib Axes, optional
    ci : bool, default True
        Shade the pointwise confidence band.
    time_unit : str
        x-axis unit label.

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
    require_dataframe(curves, "curves")
    require_columns(curves, ["group", "time", "survival"] + (["ci_lower", "ci_upper"] if ci else []),
                    "curves")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    for key, c in curves.groupby("group", sort=False):
        c = c.sort_values("time", kind="stable")
        (line,) = ax.step(c["time"], c["survival"], where="post", label=str(key), linewidth=1.8)
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
        ax.legend(title=group_col)
    return ax
