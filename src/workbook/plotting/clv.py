"""Charts for customer lifetime value; every function returns a matplotlib Axes.

Labels are bilingual (Chinese / English); importing :mod:`workbook.plotting` first sets
a font that renders the Chinese.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from workbook.clv.bgnbd import BetaGeoModel, calibration_vs_holdout
from workbook.plotting.style import axes

__all__ = [
    "plot_calibration_purchases",
    "plot_frequency_recency_matrix",
    "plot_probability_alive_matrix",
]

_UNIT_LABEL = {"W": "周 weeks", "D": "天 days"}


def _heatmap(grid: pd.DataFrame, ax: Axes, cbar_label: str, vmin=None, vmax=None, **kwargs) -> Axes:
    rec = grid.columns.to_numpy(dtype="float64")
    freq = grid.index.to_numpy()
    image = ax.imshow(
        np.ma.masked_invalid(grid.to_numpy()),
        origin="lower",
        aspect="auto",
        extent=(rec[0], rec[-1], freq[0] - 0.5, freq[-1] + 0.5),
        vmin=vmin,
        vmax=vmax,
        **{"cmap": "viridis", **kwargs},
    )
    ax.figure.colorbar(image, ax=ax, label=cbar_label)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # purchase counts are whole numbers
    ax.grid(False)
    return ax


def plot_frequency_recency_matrix(
    model: BetaGeoModel,
    T: float,
    *,
    t: float = 1.0,
    max_frequency: int = 30,
    n_recency: int = 40,
    ax: Axes | None = None,
    **kwargs: object,
) -> Axes:
    """Heat map of expected purchases in the next ``t`` by frequency and recency (BG/NBD).

    Parameters
    ----------
    model : BetaGeoModel
        Fitted model.
    T : float
        Age of the members shown (time since their first purchase), in ``model.time_unit``.
    t : float, default 1
        Prediction horizon, in ``model.time_unit``.
    max_frequency, n_recency : int
        Grid size (see :meth:`BetaGeoModel.frequency_recency_grid`).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow` (e.g. ``cmap=``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> m = BetaGeoModel()
    >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> ax = plot_frequency_recency_matrix(m, T=39, t=39, max_frequency=10)
    >>> ax.get_ylabel()
    '重复购买次数 frequency (repeat purchases)'
    """
    ax = axes(ax, (6.5, 5))
    grid = model.frequency_recency_grid(T, t=t, max_frequency=max_frequency, n_recency=n_recency)
    unit = _UNIT_LABEL.get(model.time_unit, model.time_unit)
    _heatmap(grid, ax, f"未来 {t:g} {unit.split()[0]}预计购买次数 expected purchases", **kwargs)
    ax.set_xlabel(f"最近一次购买距首购 recency ({unit})")
    ax.set_ylabel("重复购买次数 frequency (repeat purchases)")
    ax.set_title(f"会龄 {T:g} {unit.split()[0]}的会员：预计未来购买\nExpected purchases, members aged {T:g} {unit.split()[-1]}",
                 fontsize=11)
    return ax


def plot_probability_alive_matrix(
    model: BetaGeoModel,
    T: float,
    *,
    max_frequency: int = 30,
    n_recency: int = 40,
    ax: Axes | None = None,
    **kwargs: object,
) -> Axes:
    """Heat map of P(alive) by frequency and recency for members of age ``T`` (BG/NBD).

    Frequent buyers who have not bought for a while (top left) are the likeliest to have
    left; members without repeat purchases are alive with probability 1 in this model.

    Examples
    --------
    >>> import pandas as pd
    >>> m = BetaGeoModel()
    >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> ax = plot_probability_alive_matrix(m, T=39, max_frequency=10)
    >>> ax.get_title()
    '仍活跃概率 P(alive), members aged 39 weeks'
    """
    ax = axes(ax, (6.5, 5))
    grid = model.frequency_recency_grid(
        T, max_frequency=max_frequency, n_recency=n_recency, quantity="probability_alive"
    )
    unit = _UNIT_LABEL.get(model.time_unit, model.time_unit)
    _heatmap(grid, ax, "仍活跃概率 P(alive)", vmin=0.0, vmax=1.0, **kwargs)
    ax.set_xlabel(f"最近一次购买距首购 recency ({unit})")
    ax.set_ylabel("重复购买次数 frequency (repeat purchases)")
    ax.set_title(f"仍活跃概率 P(alive), members aged {T:g} {unit.split()[-1]}")
    return ax


def plot_calibration_purchases(
    model: BetaGeoModel,
    split: pd.DataFrame,
    *,
    max_frequency: int = 7,
    ax: Axes | None = None,
    **kwargs: object,
) -> Axes:
    """Predicted vs actual holdout purchases per member, by calibration-period frequency.

    Parameters
    ----------
    model : BetaGeoModel
        Model fitted on the calibration columns of ``split``.
    split : DataFrame
        Output of :func:`workbook.clv.data.calibration_holdout_split`.
    max_frequency : int, default 7
        Frequencies at or above this are pooled ("7+").
    ax : matplotlib Axes, optional
    **kwargs
        Passed to both :meth:`matplotlib.axes.Axes.plot` calls (e.g. ``linewidth=``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> m = BetaGeoModel()
    >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> split = pd.DataFrame({"frequency": [0, 1, 2], "recency": [0.0, 5.0, 30.0],
    ...                       "T": [38.0, 36.0, 38.0], "frequency_holdout": [0, 1, 2],
    ...                       "duration_holdout": [39.0, 39.0, 39.0]})
    >>> ax = plot_calibration_purchases(m, split, max_frequency=2)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['0', '1', '2+']
    """
    ax = axes(ax, (6.5, 4.2))
    table = calibration_vs_holdout(model, split, max_frequency=max_frequency)
    labels = [str(i) for i in table.index[:-1]] + [f"{table.index[-1]}+"]
    pos = np.arange(len(table))
    ax.plot(pos, table["actual_holdout"], marker="o", label="实际 actual", **kwargs)
    ax.plot(pos, table["predicted_holdout"], marker="s", linestyle="--", label="模型预测 BG/NBD predicted",
            **kwargs)
    ax.set_xticks(pos, labels)
    ax.set_xlabel("校准期回购次数 calibration-period repeat purchases")
    ax.set_ylabel("留出期人均购买次数\nholdout purchases per member")
    ax.set_title("模型检验 Calibration vs holdout")
    ax.legend()
    return ax
