"""Lifecycle charts: stage sizes and the stage transition heatmap.

Every function returns a matplotlib Axes and accepts ``ax=``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from workbook.lifecycle import STAGES, stage_label
from workbook.plotting.style import axes as _axes
from workbook.validation import require_choice, require_columns, require_dataframe

__all__ = ["plot_stage_sizes", "plot_stage_transitions"]




def plot_stage_transitions(
    matrix: pd.DataFrame, ax: Axes | None = None, *, annot: bool = True, language: str = "both"
) -> Axes:
    """Heatmap of a stage transition matrix (rows: stage at the first date).

    Parameters
    ----------
    matrix : DataFrame
        Output of :func:`workbook.lifecycle.stage_transitions` (counts or shares).
    ax : matplotlib Axes, optional
    annot : bool, default True
        Write counts (or percentages for normalised matrices) in the cells.
    language : {"both", "zh", "en"}
        Stage labels.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.lifecycle import stage_transitions
    >>> tx = pd.DataFrame({"member_id": ["a", "b", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-10", "2024-01-15", "2024-05-20"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> m = stage_transitions(tx, date_from="2024-02-01", analysis_date="2024-06-01")
    >>> ax = plot_stage_transitions(m)
    >>> ax.get_ylabel()
    '起始阶段 stage at 2024-02-01'
    """
    require_dataframe(matrix, "matrix")
    require_choice(language, ["both", "zh", "en"], "language")
    values = matrix.astype(float)
    if "normalize" in matrix.attrs:
        is_share = matrix.attrs["normalize"] is not False
    else:  # a matrix built by hand: shares are fractions within 0-1
        filled = values.fillna(0).to_numpy()
        is_share = bool((filled <= 1).all() and (filled % 1 != 0).any())
    ax = _axes(ax, (8, 6))
    sns.heatmap(
        values,
        ax=ax,
        annot=annot,
        fmt=".0%" if is_share else ",.0f",
        cmap="Blues",
        cbar_kws={"label": "占比 share" if is_share else "会员数 members"},
    )
    ax.set_yticks([i + 0.5 for i in range(len(values.index))], [stage_label(str(s), language) for s in values.index])
    ax.set_xticks([i + 0.5 for i in range(len(values.columns))], [stage_label(str(s), language) for s in values.columns])
    ax.tick_params(axis="y", rotation=0)
    ax.tick_params(axis="x", rotation=45)
    d_from = matrix.attrs.get("date_from")
    d_to = matrix.attrs.get("date_to")
    ax.set_ylabel("起始阶段 stage at " + (f"{d_from:%Y-%m-%d}" if d_from is not None else "start"))
    ax.set_xlabel("结束阶段 stage at " + (f"{d_to:%Y-%m-%d}" if d_to is not None else "end"))
    ax.set_title("生命周期阶段迁移  Lifecycle stage transitions")
    return ax


def plot_stage_sizes(stages: pd.DataFrame, ax: Axes | None = None, *, language: str = "both") -> Axes:
    """Bar chart of the number of members in each lifecycle stage.

    Parameters
    ----------
    stages : DataFrame
        Output of :func:`workbook.lifecycle.lifecycle_stages`.
    ax : matplotlib Axes, optional
    language : {"both", "zh", "en"}

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.lifecycle import lifecycle_stages
    >>> tx = pd.DataFrame({"member_id": ["a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-06-01"]), "amount": [10.0, 5.0]})
    >>> ax = plot_stage_sizes(lifecycle_stages(tx))
    >>> len(ax.patches)
    7
    """
    require_dataframe(stages, "stages")
    require_columns(stages, ["stage"], "stages")
    require_choice(language, ["both", "zh", "en"], "language")
    counts = stages["stage"].astype(str).value_counts().reindex(STAGES, fill_value=0)
    ax = _axes(ax, (8, 4))
    ax.bar([stage_label(s, language) for s in STAGES], counts.to_numpy())
    for i, v in enumerate(counts.to_numpy()):
        ax.annotate(f"{v:,}", (i, v), ha="center", va="bottom")
    ax.set_ylabel("会员数 members")
    date = stages.attrs.get("analysis_date")
    when = f" ({date:%Y-%m-%d})" if date is not None else ""
    ax.set_title(f"生命周期阶段  Lifecycle stages{when}")
    ax.tick_params(axis="x", rotation=30)
    return ax
