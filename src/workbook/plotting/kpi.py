"""Store compass charts: a radar per store against its benchmark, and one KPI across stores.

Every function returns a matplotlib Axes, accepts ``ax=`` and passes
``**kwargs`` on to matplotlib; labels are Chinese first.  The reference line is
labelled with the benchmark the comparison really used (e.g. "同规模门店中位数
= 1.0"), read from the comparison's ``attrs``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from workbook.errors import WorkbookInputError
from workbook.plotting.style import axes
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_store_radar", "plot_kpi_bars"]

_COMPARISON_COLUMNS = ["store_id", "kpi", "name_zh", "name_en", "index"]


def _benchmark(comparison: pd.DataFrame) -> tuple[str, str]:
    """Chinese and English name of the benchmark (1.0) of a comparison."""
    return comparison.attrs.get("benchmark_zh", "连锁"), comparison.attrs.get("benchmark_en", "chain")


def _select_period(comparison: pd.DataFrame, period: object | None) -> pd.DataFrame:
    if "period" not in comparison.columns:
        return comparison
    if period is None:
        period = comparison["period"].max()
    part = comparison.loc[comparison["period"] == pd.Timestamp(period)]
    if part.empty:
        raise WorkbookInputError(
            f"period {period} is not in the comparison; periods are "
            f"{sorted(comparison['period'].dt.strftime('%Y-%m-%d').unique())}."
        )
    return part


def plot_store_radar(
    data: pd.DataFrame,
    store_id: object,
    ax: Axes | None = None,
    *,
    period: object | None = None,
    cap: float = 2.0,
    **kwargs: object,
) -> Axes:
    """Radar (polar) chart of one store's KPI indices; the benchmark is the circle at 1.0.

    Parameters
    ----------
    data : DataFrame
        Output of :func:`workbook.kpi.compare_to_chain`.
    store_id : object
        The store to draw.
    ax : matplotlib Axes, optional
        Must be a polar Axes (``plt.subplot(projection="polar")``).
    period : date-like, optional
        Which period when the comparison has periods (default the last).
    cap : float, default 2.0
        Indices above ``cap`` are drawn at ``cap`` (the label keeps the true value).
    **kwargs
        Passed to the store's :meth:`matplotlib.axes.Axes.plot` line (e.g. ``color=``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.kpi import compare_to_chain
    >>> k = pd.DataFrame({"store_id": ["S1", "S2"], "conversion": [0.1, 0.3],
    ...     "atv": [120.0, 80.0], "upt": [2.0, 1.0]})
    >>> comp = compare_to_chain(k, compass=["conversion", "atv", "upt"])
    >>> ax = plot_store_radar(comp, "S1")
    >>> ax.name
    'polar'
    """
    comparison = data
    require_dataframe(comparison, "data")
    require_columns(comparison, _COMPARISON_COLUMNS, "data")
    part = _select_period(comparison, period)
    part = part.loc[part["store_id"] == store_id]
    if part.empty:
        raise WorkbookInputError(
            f"store_id {store_id!r} is not in the comparison; stores are {sorted(comparison['store_id'].unique())}."
        )
    if len(part) < 3:
        raise WorkbookInputError(f"A radar needs at least 3 KPIs, the comparison has {len(part)} for {store_id!r}.")
    if ax is not None and ax.name != "polar":
        raise WorkbookInputError("ax must be a polar Axes: use plt.subplot(projection='polar').")
    ax = axes(ax, (8, 6.5), projection="polar")
    bench_zh, bench_en = _benchmark(comparison)
    values = part["index"].to_numpy(dtype=float)
    drawn = np.clip(np.nan_to_num(values, nan=0.0), 0, cap)
    angles = np.linspace(0, 2 * np.pi, len(part), endpoint=False)
    closed = np.append(angles, angles[0])
    line_kw = {"color": "C0", "linewidth": 2, **kwargs}
    ax.plot(closed, np.append(drawn, drawn[0]), label=f"门店 store {store_id}", **line_kw)
    ax.fill(closed, np.append(drawn, drawn[0]), color=line_kw["color"], alpha=0.2)
    ax.plot(closed, np.ones_like(closed), color="0.3", linestyle="--", linewidth=1.2,
            label=f"{bench_zh} = 1.0 ({bench_en})")
    labels = [
        f"{zh}\n{en}\n{'无数据 n/a' if np.isnan(v) else f'{v:.2f}'}"
        for zh, en, v in zip(part["name_zh"], part["name_en"], values, strict=True)
    ]
    ax.set_xticks(angles, labels, fontsize=8)
    ax.tick_params(axis="x", pad=8)
    for text, angle in zip(ax.get_xticklabels(), angles, strict=True):
        # Labels on the left/right grow away from the circle instead of across it.
        x = np.cos(angle)
        text.set_horizontalalignment("left" if x > 0.1 else "right" if x < -0.1 else "center")
    ax.set_ylim(0, cap)
    # Ring labels sit halfway between the first two spokes, so no spoke crosses them.
    ticks = [t for t in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0) if t <= cap]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks], fontsize=7, color="0.4")
    ax.set_rlabel_position(np.degrees(angles[1] / 2) if len(angles) > 1 else 22.5)
    ax.set_title(f"店铺罗盘 Store compass：{store_id}（指数 index，{bench_zh} = 1.0）", pad=28)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8, frameon=False)
    return ax


def plot_kpi_bars(
    data: pd.DataFrame,
    kpi: str,
    ax: Axes | None = None,
    *,
    period: object | None = None,
    **kwargs: object,
) -> Axes:
    """One KPI's index for every store, sorted, with the benchmark line at 1.0.

    Bars below the benchmark are drawn in a warning colour (explained in the legend).

    Parameters
    ----------
    data : DataFrame
        Output of :func:`workbook.kpi.compare_to_chain`.
    kpi : str
        KPI name, e.g. ``"conversion"``.
    ax : matplotlib Axes, optional
    period : date-like, optional
        Which period when the comparison has periods (default the last).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.kpi import compare_to_chain
    >>> k = pd.DataFrame({"store_id": ["S1", "S2", "S3"], "conversion": [0.1, 0.2, 0.3]})
    >>> ax = plot_kpi_bars(compare_to_chain(k, compass=["conversion"]), "conversion")
    >>> len(ax.patches)
    3
    """
    comparison = data
    require_dataframe(comparison, "data")
    require_columns(comparison, _COMPARISON_COLUMNS, "data")
    part = _select_period(comparison, period)
    part = part.loc[part["kpi"] == kpi]
    if part.empty:
        raise WorkbookInputError(f"kpi {kpi!r} is not in the comparison; KPIs are {list(comparison['kpi'].unique())}.")
    part = part.sort_values("index", na_position="first")
    ax = axes(ax, (7.5, max(3.0, 0.32 * len(part) + 1.4)))
    bench_zh, bench_en = _benchmark(comparison)
    idx = part["index"].to_numpy(dtype=float)
    below = idx < 1
    y = np.arange(len(part))
    # Two calls (not one with a colour list) so the legend can explain the colours.
    for mask, colour, label in ((below, "C3", f"低于{bench_zh} below"),
                                (~below, "C0", f"不低于{bench_zh} at or above")):
        if mask.any():
            ax.barh(y[mask], np.nan_to_num(idx[mask]), color=colour, label=label, **kwargs)
    ax.set_yticks(y, part["store_id"].astype(str).tolist())
    ax.axvline(1.0, color="0.3", linestyle="--", linewidth=1.2, label=f"{bench_zh} = 1.0")
    zh, en = part["name_zh"].iloc[0], part["name_en"].iloc[0]
    ax.set_xlabel(f"指数 index：门店 ÷ {bench_zh}（store / {bench_en}）")
    ax.set_ylabel("门店 store")
    ax.set_title(f"{zh} {en}")
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    return ax
