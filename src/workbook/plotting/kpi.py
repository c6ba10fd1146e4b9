"""Store compass charts: a radar per store against the chain, and one KPI across stores.

Every function returns a matplotlib Axes and accepts ``ax=``; labels are
bilingual (importing :mod:`workbook.plotting` sets a font for the Chinese).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

import workbook.plotting  # noqa: F401  (sets the CJK font and theme)
from workbook.errors import WorkbookInputError
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_store_radar", "plot_kpi_bars"]

_COMPARISON_COLUMNS = ["store_id", "kpi", "name_zh", "name_en", "index"]


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
    comparison: pd.DataFrame,
    store_id: object,
    ax: Axes | None = None,
    *,
    period: object | None = None,
    cap: float = 2.0,
) -> Axes:
    """Radar (polar) chart of one store's KPI indices; the chain is the circle at 1.0.

    Parameters
    ----------
    comparison : DataFrame
        Output of :func:`workbook.kpi.compare_to_chain`.
    store_id : object
        The store to draw.
    ax : matplotlib Axes, optional
        Must be a polar Axes (``plt.subplot(projection="polar")``).
    period : date-like, optional
        Which period when the comparison has periods (default the last).
    cap : float, default 2.0
        Indices above ``cap`` are drawn at ``cap`` (the label keeps the true value).

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
    require_dataframe(comparison, "comparison")
    require_columns(comparison, _COMPARISON_COLUMNS, "comparison")
    part = _select_period(comparison, period)
    part = part.loc[part["store_id"] == store_id]
    if part.empty:
        raise WorkbookInputError(
            f"store_id {store_id!r} is not in the comparison; stores are {sorted(comparison['store_id'].unique())}."
        )
    if len(part) < 3:
        raise WorkbookInputError(f"A radar needs at least 3 KPIs, the comparison has {len(part)} for {store_id!r}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6), subplot_kw={"projection": "polar"})
    elif ax.name != "polar":
        raise WorkbookInputError("ax must be a polar Axes: use plt.subplot(projection='polar').")
    values = part["index"].to_numpy(dtype=float)
    drawn = np.clip(np.nan_to_num(values, nan=0.0), 0, cap)
    angles = np.linspace(0, 2 * np.pi, len(part), endpoint=False)
    closed = np.append(angles, angles[0])
    ax.plot(closed, np.append(drawn, drawn[0]), color="C0", linewidth=2, label=f"{store_id}")
    ax.fill(closed, np.append(drawn, drawn[0]), color="C0", alpha=0.25)
    ax.plot(closed, np.ones_like(closed), color="0.3", linestyle="--", linewidth=1.2, label="连锁 chain = 1.0")
    labels = [
        f"{zh}\n{en}\n{'n/a' if np.isnan(v) else f'{v:.2f}'}"
        for zh, en, v in zip(part["name_zh"], part["name_en"], values, strict=True)
    ]
    ax.set_xticks(angles, labels, fontsize=8)
    ax.set_ylim(0, cap)
    ax.set_title(f"店铺罗盘 Store compass: {store_id}", pad=24)
    ax.legend(loc="upper right", bbox_to_anchor=(1.3, 1.12), fontsize=8)
    return ax


def plot_kpi_bars(
    comparison: pd.DataFrame,
    kpi: str,
    ax: Axes | None = None,
    *,
    period: object | None = None,
) -> Axes:
    """One KPI's index for every store, sorted, with the chain line at 1.0.

    Bars below the chain are drawn in a warning colour.

    Parameters
    ----------
    comparison : DataFrame
        Output of :func:`workbook.kpi.compare_to_chain`.
    kpi : str
        KPI name, e.g. ``"conversion"``.
    ax : matplotlib Axes, optional
    period : date-like, optional
        Which period when the comparison has periods (default the last).

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
    require_dataframe(comparison, "comparison")
    require_columns(comparison, _COMPARISON_COLUMNS, "comparison")
    part = _select_period(comparison, period)
    part = part.loc[part["kpi"] == kpi]
    if part.empty:
        raise WorkbookInputError(f"kpi {kpi!r} is not in the comparison; KPIs are {list(comparison['kpi'].unique())}.")
    part = part.sort_values("index", na_position="first")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, max(3.0, 0.35 * len(part) + 1)))
    idx = part["index"].to_numpy(dtype=float)
    colors = np.where(idx < 1, "C3", "C0")
    y = np.arange(len(part))
    ax.barh(y, np.nan_to_num(idx), color=colors)
    ax.set_yticks(y, part["store_id"].astype(str).tolist())
    ax.axvline(1.0, color="0.3", linestyle="--", linewidth=1.2, label="连锁 chain = 1.0")
    zh, en = part["name_zh"].iloc[0], part["name_en"].iloc[0]
    ax.set_xlabel(f"{zh} {en}：门店 / 连锁 (store / chain)")
    ax.set_title(f"{zh} {en}")
    ax.legend(loc="lower right", fontsize=8)
    return ax
