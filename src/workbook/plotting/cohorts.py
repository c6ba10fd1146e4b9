"""Cohort charts: retention / revenue heatmap and repeat purchase curves.

Every function returns a matplotlib Axes, accepts ``ax=`` and passes
``**kwargs`` on to the underlying seaborn/matplotlib call.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from workbook.plotting.style import axes
from workbook.validation import require_dataframe

__all__ = ["plot_cohort_heatmap", "plot_repeat_curves"]


def _cohort_labels(index: pd.Index) -> list[str]:
    if isinstance(index, pd.DatetimeIndex):
        daily = (index.day != 1).any()
        return [f"{d:%Y-%m-%d}" if daily else f"{d:%Y-%m}" for d in index]
    return [str(i) for i in index]


def plot_cohort_heatmap(
    data: pd.DataFrame,
    ax: Axes | None = None,
    *,
    annot: bool | None = None,
    fmt: str | None = None,
    title: str | None = None,
    max_periods: int | None = None,
    **kwargs: object,
) -> Axes:
    """Heatmap of a wide cohort matrix (cohorts down, periods since acquisition across).

    For a retention matrix, period 0 (the first purchase, 100% by definition)
    is written but left uncoloured, so the colour range shows the differences
    between the later periods instead of being spent on the constant 100%.

    Parameters
    ----------
    data : DataFrame
        Wide output of :func:`workbook.cohorts.cohort_table` or
        :func:`workbook.cohorts.repeat_purchase_curve`.
    ax : matplotlib Axes, optional
    annot : bool, optional
        Write values in cells; default when at most 25 periods and 40 cohorts are drawn.
    fmt : str, optional
        Cell format; default percent for rates (values within 0-1) and
        ``",.0f"`` otherwise.
    title : str, optional
    max_periods : int, optional
        Draw only periods 0 .. ``max_periods - 1`` (the later ones exist only
        for the oldest cohorts).
    **kwargs
        Passed to :func:`seaborn.heatmap` (e.g. ``cmap=``).

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
    require_dataframe(data, "data")
    values = data.astype(float)
    if max_periods is not None:
        values = values.iloc[:, :max_periods]
    finite = values.to_numpy()[np.isfinite(values.to_numpy())]
    is_rate = finite.size > 0 and finite.min() >= 0 and finite.max() <= 1
    metric = data.attrs.get("metric", "members")
    retention = is_rate and metric == "members" and 0 in values.columns and values.shape[1] > 1
    if fmt is None:
        fmt = ".0%" if is_rate else ",.0f"
    n_rows, n_cols = values.shape
    if annot is None:  # numbers only where cells are big enough to read them
        annot = n_cols <= 25 and n_rows <= 40
    ax = axes(ax, (min(2.5 + 0.55 * n_cols, 16), min(max(3.0, 0.4 * n_rows + 1.6), 14)))
    coloured = values.copy()
    if retention:
        coloured[0] = np.nan  # 100% by definition: written in grey below, not coloured
        later = coloured.to_numpy()[np.isfinite(coloured.to_numpy())]
        vmin = max(0.0, float(np.quantile(later, 0.02)) - 0.02) if later.size else 0.0
        vmax = float(np.quantile(later, 0.98)) if later.size else 1.0
    else:
        vmin, vmax = 0, (1 if is_rate else None)
    kwargs.setdefault("cmap", "YlGnBu")
    kwargs.setdefault("annot_kws", {"size": 9 if n_cols > 12 else 10})
    kwargs.setdefault("linewidths", 0.5 if n_rows <= 40 else 0)
    kwargs.setdefault("linecolor", "white")
    cbar_kws = {"label": "留存率 retention"} if retention else {}
    if retention:
        cbar_kws["format"] = PercentFormatter(1.0, decimals=0)
    sns.heatmap(coloured, ax=ax, annot=values.to_numpy() if annot else False, fmt=fmt,
                vmin=vmin, vmax=vmax,
                cbar_kws=kwargs.pop("cbar_kws", cbar_kws), **kwargs)
    if retention:
        # Period 0 keeps its number, on a light grey background instead of a colour.
        ax.add_patch(plt.Rectangle((0, 0), 1, n_rows, facecolor="0.92", edgecolor="white", zorder=0.5))
        if annot:
            size = kwargs["annot_kws"].get("size", 9) if isinstance(kwargs["annot_kws"], dict) else 9
            for i, v in enumerate(values[0].to_numpy()):
                if np.isfinite(v):
                    ax.text(0.5, i + 0.5, format(v, fmt), ha="center", va="center", size=size, color="0.35")
    ax.grid(False)
    step = max(1, int(np.ceil(n_rows / 40)))  # at most ~40 cohort labels
    ax.set_yticks([i + 0.5 for i in range(0, n_rows, step)], _cohort_labels(values.index)[::step])
    ax.tick_params(axis="y", rotation=0)
    ax.set_xlabel("距首购期数 periods since first purchase" + ("（第 0 期 = 首购当期，按定义 100%，不着色）"
                                                          if retention else ""))
    ax.set_ylabel("首购批次 cohort")
    if title is None:
        title = {
            "members": "留存率 Retention by cohort" if is_rate else "留存会员数 Retained members",
            "revenue": "批次收入 Revenue by cohort",
            "purchases": "批次购买次数 Purchases by cohort",
        }[metric]
    ax.set_title(title)
    return ax


def plot_repeat_curves(data: pd.DataFrame, ax: Axes | None = None, *, max_cohorts: int = 12,
                       **kwargs: object) -> Axes:
    """Repeat purchase curves, one line per cohort (or the pooled curve).

    Parameters
    ----------
    data : DataFrame
        Output of :func:`workbook.cohorts.repeat_purchase_curve` (wide, or the
        pooled table with ``period_number`` and ``repeat_share``).
    ax : matplotlib Axes, optional
    max_cohorts : int, default 12
        Only the most recent cohorts are drawn, to keep the chart readable.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

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
    require_dataframe(data, "data")
    ax = axes(ax, (8, 4.5))
    if "repeat_share" in data.columns:
        ax.plot(data["period_number"], data["repeat_share"], marker="o", label="全部 all cohorts", **kwargs)
    else:
        for cohort, row in data.tail(max_cohorts).iterrows():  # one line per cohort, not per row of data
            label = f"{cohort:%Y-%m}" if isinstance(cohort, pd.Timestamp) else str(cohort)
            ax.plot(row.index, row.to_numpy(dtype=float), marker=".", label=label, **kwargs)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("距首购期数 periods since first purchase")
    ax.set_ylabel("复购会员占比 repeat buyers")
    ax.set_title("复购曲线  Repeat purchase curves")
    ax.legend(fontsize="small", ncol=2, title="首购批次 cohort" if "repeat_share" not in data.columns else None)
    return ax
