"""RFM charts: segment sizes vs revenue share, and the R x F heatmap of spend.

Every function returns a matplotlib Axes and accepts ``ax=``; labels are
bilingual (importing :mod:`workbook.plotting` sets a font for the Chinese).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.labels import zh_label
from workbook.plotting.style import axes as _axes
from workbook.validation import require_choice, require_columns, require_dataframe, require_numeric

__all__ = ["plot_rf_heatmap", "plot_segments"]

_AGG_ZH = {"mean": "平均", "median": "中位", "sum": "合计"}




def _segment_labels(summary: pd.DataFrame, language: str) -> list[str]:
    codes = [str(s) for s in summary.index]
    if language == "code":
        return codes
    zh = summary["segment_zh"].astype(str).tolist() if "segment_zh" in summary else codes
    en = summary["segment_en"].astype(str).tolist() if "segment_en" in summary else codes
    if language == "zh":
        return zh
    if language == "en":
        return en
    return [f"{z} {e}" for z, e in zip(zh, en, strict=True)]


@renamed_arguments(label="language")
def plot_segments(summary: pd.DataFrame, ax: Axes | None = None, *, language: str = "both", **kwargs) -> Axes:
    """Share of members next to share of revenue for each segment.

    Segments whose revenue share is far above their member share are where
    the money is; the opposite flags many low-value members.

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`workbook.rfm.segment_summary` (``member_share`` and
        ``revenue_share`` columns, one row per segment).
    ax : matplotlib Axes, optional
    language : {"both", "zh", "en", "code"}
        Segment names on the axis.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh` (e.g. ``alpha=0.8``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.rfm import segment, segment_summary
    >>> seg = segment(pd.DataFrame({"r_score": [5, 1], "f_score": [5, 1], "m_score": [5, 1],
    ...     "monetary_total": [90.0, 10.0]}))
    >>> ax = plot_segments(segment_summary(seg))
    >>> len(ax.patches)
    22
    """
    require_dataframe(summary, "summary")
    require_columns(summary, ["member_share", "revenue_share"], "summary")
    require_choice(language, ["both", "zh", "en", "code"], "language")
    ax = _axes(ax, (8, max(3.0, 0.45 * len(summary) + 1)))
    y = np.arange(len(summary))
    h = 0.4
    ax.barh(y - h / 2, summary["member_share"].to_numpy(dtype=float), height=h, label="会员占比 members", **kwargs)
    ax.barh(y + h / 2, summary["revenue_share"].to_numpy(dtype=float), height=h, label="收入占比 revenue", **kwargs)
    ax.set_yticks(y, _segment_labels(summary, language))
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("占比 share")
    ax.set_title("RFM 分群：会员与收入占比  Segments: members vs revenue")
    ax.legend(loc="lower right")
    return ax


@renamed_arguments(value_col="amount_col")
def plot_rf_heatmap(
    scored: pd.DataFrame,
    ax: Axes | None = None,
    *,
    amount_col: str = "monetary_total",
    agg: str = "mean",
    annot: bool = True,
    **kwargs,
) -> Axes:
    """Heatmap of average spend over the grid of R and F scores.

    Parameters
    ----------
    scored : DataFrame
        A scored RFM table with ``r_score``, ``f_score`` and ``amount_col``
        (from :class:`workbook.rfm.RFMScorer` or
        :func:`workbook.rfm.score_by_thresholds`).
    ax : matplotlib Axes, optional
    amount_col : str, default "monetary_total"
        Money (CNY) averaged in each cell (e.g. ``"monetary_avg"`` for spend per purchase).
    agg : {"mean", "median", "sum", "count"}
        How cells aggregate ``amount_col``.
    annot : bool, default True
        Write the values in the cells.
    **kwargs
        Passed to :func:`seaborn.heatmap` (e.g. ``cmap="Blues"``).

    Returns
    -------
    matplotlib.axes.Axes
        R score on the vertical axis (5 = most recent at the top), F score on
        the horizontal axis; empty cells are blank.

    Examples
    --------
    >>> import pandas as pd
    >>> scored = pd.DataFrame({"r_score": [5, 5, 1], "f_score": [5, 5, 1],
    ...     "monetary_total": [100.0, 300.0, 10.0]})
    >>> ax = plot_rf_heatmap(scored)
    >>> ax.get_xlabel()
    'F 分（频次） F score'
    """
    require_dataframe(scored, "scored")
    require_columns(scored, ["r_score", "f_score", amount_col], "scored")
    require_numeric(scored, amount_col, "scored")
    require_choice(agg, ["mean", "median", "sum", "count"], "agg")
    max_score = int(max(scored["r_score"].max(), scored["f_score"].max()))
    if max_score < 1:
        raise WorkbookInputError("r_score and f_score must be scores of at least 1.")
    grid = scored.pivot_table(index="r_score", columns="f_score", values=amount_col, aggfunc=agg)
    levels = range(max_score, 0, -1)
    grid = grid.reindex(index=levels, columns=range(1, max_score + 1)).astype(float)
    ax = _axes(ax, (6.5, 5))
    sns.heatmap(
        grid,
        ax=ax,
        annot=annot,
        fmt=",.0f",
        cmap=kwargs.pop("cmap", "YlOrRd"),
        cbar_kws={"label": "会员数 count" if agg == "count" else f"{_AGG_ZH[agg]}{zh_label(amount_col)}"},
        **kwargs,
    )
    ax.set_xlabel("F 分（频次） F score")
    ax.set_ylabel("R 分（最近购买） R score")
    ax.set_title("R×F 平均消费  Average spend by R and F")
    return ax
