"""Cohort charts: retention / revenue heatmap and repeat purchase curves.

Every function returns a matplotlib Axes and accepts ``ax=``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

import workbook.plotting  # noqa: F401  (sets the CJK font and theme)
from workbook.validation import require_dataframe

__all__ = ["plot_cohort_heatmap", "plot_repeat_curves"]


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _cohort_labels(index: pd.Index) -> list[str]:
    if isinstance(index, pd.DatetimeIndex):
        daily = (index.day != 1).any()
        return [f"{d:%Y-%m-%d}" if daily else f"{d:%Y-%m}" for d in index]
    return [str(i) for i in index]


def plot_cohort_heatmap(
    matrix: pd.DataFrame,
    ax: Axes | None = None,
    *,
    annot: bool | None = None,
    fmt: str | None = None,
    title: str | None = None,
) -> Axes:
    """Heatmap of a wide cohort matrix (cohorts down, periods since acquisition across).

    Parameters
    ----------
    matrix : DataFrame
        Wide output of :func:`workbook.cohorts.cohort_table` or
        :func:`workbook.cohorts.repeat_purchase_curve`.
    ax : matplotlib Axes, optional
    annot : bool, optional
        Write values in cells; default when the matrix has at most 24 columns.
    fmt : str, optional
        Cell format; default percent for rates (matrix values within 0-1) and
        ``",.0f"`` otherwise.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.cohorts import cohort_table
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10", "2024-02-14"]),
    ...     "amount": [10.0, 20.0, 50.0]})
    >>> ax = plot_cohort_heatmap(cohort_table(tx))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['2024-01', '2024-02']
    """
    require_dataframe(matrix, "matrix")
    values = matrix.astype(float)
    finite = values.to_numpy()[np.isfinite(values.to_numpy())]
    is_rate = finite.size > 0 and finite.min() >= 0 and finite.max() <= 1
    if fmt is None:
        fmt = ".0%" if is_rate else ",.0f"
    if annot is None:
        annot = values.shape[1] <= 24
    ax = _axes(ax, (min(2 + 0.6 * values.shape[1], 16), max(3.0, 0.4 * values.shape[0] + 1.5)))
    sns.heatmap(
        values,
        ax=ax,
        annot=annot,
        fmt=fmt,
        cmap="YlGnBu",
        vmin=0,
        vmax=1 if is_rate else None,
        annot_kws={"size": 7 if values.shape[1] > 12 else 9},
    )
    ax.set_yticks([i + 0.5 for i in range(len(values.index))], _cohort_labels(values.index))
    ax.tick_params(axis="y", rotation=0)
    ax.set_xlabel("距获客期数 periods since acquisition")
    ax.set_ylabel("获客批次 cohort")
    if title is None:
        metric = matrix.attrs.get("metric", "members")
        title = {
            "members": "留存率 Retention by cohort" if is_rate else "留存会员数 Retained members",
            "revenue": "批次收入 Revenue by cohort",
            "purchases": "批次购买次数 Purchases by cohort",
        }[metric]
    ax.set_title(title)
    return ax


def plot_repeat_curves(curves: pd.DataFrame, ax: Axes | None = None, *, max_cohorts: int = 12) -> Axes:
    """Repeat purchase curves, one line per cohort (or the pooled curve).

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`workbook.cohorts.repeat_purchase_curve` (wide, or the
        pooled table with ``period_number`` and ``repeat_share``).
    ax : matplotlib Axes, optional
    max_cohorts : int, default 12
        Only the most recent cohorts are drawn, to keep the chart readable.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.cohorts import repeat_purchase_curve
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10", "2024-02-14"]),
    ...     "amount": [10.0, 20.0, 50.0]})
    >>> ax = plot_repeat_curves(repeat_purchase_curve(tx))
    >>> len(ax.get_lines())
    2
    """
    require_dataframe(curves, "curves")
    ax = _axes(ax, (8, 4.5))
    if "repeat_share" in curves.columns:
        ax.plot(curves["period_number"], curves["repeat_share"], marker="o", label="全部 all cohorts")
    else:
        for cohort, row in curves.tail(max_cohorts).iterrows():  # one line per cohort, not per row of data
            label = f"{cohort:%Y-%m}" if isinstance(cohort, pd.Timestamp) else str(cohort)
            ax.plot(row.index, row.to_numpy(dtype=float), marker=".", label=label)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("距首购期数 periods since first purchase")
    ax.set_ylabel("复购会员占比 repeat buyers")
    ax.set_title("复购曲线  Repeat purchase curves")
    ax.legend(fontsize="small", ncol=2)
    return ax
