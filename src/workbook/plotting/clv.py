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
    "plot_expected_purchases",
    "plot_survival_forecast",
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
    level: float | None = None,
    n_draws: int = 200,
    random_state=None,
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
    level : float, optional
        If given (e.g. 0.95), a shaded band around the prediction: its interval from
        the uncertainty of the estimates (:meth:`~workbook.clv.base.MaximumLikelihoodModel.bootstrap`,
        ``n_draws`` draws, seed ``random_state``); needs a fitted model.
    n_draws : int, default 200
    random_state : int or numpy Generator, optional
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
    line = ax.plot(pos, table["predicted_holdout"], marker="s", linestyle="--",
                   label="模型预测 BG/NBD predicted", **kwargs)[0]
    if level is not None:
        band = model.bootstrap(
            lambda m: calibration_vs_holdout(m, split, max_frequency=max_frequency)["predicted_holdout"],
            n_draws=n_draws, level=level, random_state=random_state)
        ax.fill_between(pos, band["lower"], band["upper"], color=line.get_color(), alpha=0.2, linewidth=0,
                        label=f"预测的 {level:.0%} 区间 interval (参数不确定性)")
    ax.set_xticks(pos, labels)
    ax.set_xlabel("校准期回购次数 calibration-period repeat purchases")
    ax.set_ylabel("留出期人均购买次数\nholdout purchases per member")
    ax.set_title("模型检验 Calibration vs holdout")
    ax.legend()
    return ax


def _band(ax: Axes, x, band: pd.DataFrame, level: float, color, label: str) -> None:
    ax.fill_between(x, band["lower"], band["upper"], color=color, alpha=0.2, linewidth=0,
                    label=f"{level:.0%} 区间 interval ({label})" if label else f"{level:.0%} 区间 interval")


def plot_expected_purchases(
    model,
    horizon: float,
    *,
    level: float | None = 0.95,
    n_draws: int = 200,
    random_state=0,
    n_points: int = 40,
    label: str = "模型 model",
    ax: Axes | None = None,
    **kwargs: object,
) -> Axes:
    """Expected cumulative purchases of a new member up to ``horizon``, with an interval band.

    Works for every transaction model with ``expected_purchases_population``
    (BG/NBD, Pareto/NBD: ``horizon`` in the model's ``time_unit``; BG/BB: in
    opportunities, drawn at whole periods).

    Parameters
    ----------
    model : fitted transaction model
    horizon : float
        Last point of the curve.
    level : float or None, default 0.95
        Level of the shaded band (parametric bootstrap from the estimated
        covariance, see :meth:`~workbook.clv.base.MaximumLikelihoodModel.bootstrap`);
        None draws the curve alone (e.g. for hand-set parameters).
    n_draws : int, default 200
    random_state : int or numpy Generator, default 0
    n_points : int, default 40
        Points on the curve (BG/BB: every period up to ``horizon``).
    label : str
        Legend label of the curve.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` (e.g. ``color=``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from workbook.clv import BetaGeoModel, load_cdnow_summary
    >>> model = BetaGeoModel().fit(load_cdnow_summary())
    >>> ax = plot_expected_purchases(model, 78, n_draws=50)
    >>> ax.get_xlabel()
    '新会员入会后时间 time since first purchase (周 weeks)'
    >>> len(ax.collections)  # the band
    1
    """
    ax = axes(ax, (6.5, 4.2))
    discrete = not hasattr(model, "time_unit")
    if discrete:
        grid = np.arange(0, int(horizon) + 1)
        xlabel = "入会后期数 opportunities since joining"
    else:
        grid = np.linspace(0.0, float(horizon), n_points)
        xlabel = f"新会员入会后时间 time since first purchase ({_UNIT_LABEL.get(model.time_unit, model.time_unit)})"
    curve = model.expected_purchases_population(grid)
    line = ax.plot(grid, curve.to_numpy(), label=label, **kwargs)[0]
    if level is not None:
        band = model.bootstrap(lambda m: m.expected_purchases_population(grid), n_draws=n_draws, level=level,
                               random_state=random_state)
        _band(ax, grid, band, level, line.get_color(), "参数不确定性 parameter uncertainty")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("人均累计预计次数\nexpected transactions per member")
    ax.set_title("新会员的预计累计次数 Expected cumulative transactions", fontsize=11)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left")
    return ax


def plot_survival_forecast(
    model,
    n_periods: int,
    *,
    observed: pd.Series | None = None,
    level: float | None = 0.95,
    n_draws: int = 200,
    random_state=0,
    label: str = "sBG 模型 model",
    ax: Axes | None = None,
    **kwargs: object,
) -> Axes:
    """Projected share of a cohort still paying after each period (sBG), with an interval band.

    Parameters
    ----------
    model : ShiftedBetaGeoModel
        Fitted model.
    n_periods : int
        Last period of the projection.
    observed : Series, optional
        Observed share still active by period (index periods, values 0-1), drawn as
        points to compare with the projection.
    level : float or None, default 0.95
        Level of the shaded band (parametric bootstrap, see
        :meth:`~workbook.clv.base.MaximumLikelihoodModel.bootstrap`).
    n_draws : int, default 200
    random_state : int or numpy Generator, default 0
    label : str
        Legend label of the projection.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` for the projection.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from workbook.clv import ShiftedBetaGeoModel
    >>> survivors = [1000, 631, 468, 382, 326, 289, 262, 241]
    >>> model = ShiftedBetaGeoModel().fit(survivors[:5])
    >>> observed = pd.Series(survivors) / 1000
    >>> ax = plot_survival_forecast(model, 12, observed=observed, n_draws=50)
    >>> [t.get_text() for t in ax.get_legend().get_texts()][:2]
    ['sBG 模型 model', '实际 observed']
    """
    ax = axes(ax, (6.5, 4.2))
    periods = np.arange(int(n_periods) + 1)
    curve = model.survival(periods)
    line = ax.plot(periods, curve.to_numpy(), label=label, **kwargs)[0]
    if observed is not None:
        ax.plot(observed.index.to_numpy(), observed.to_numpy(), "o", color=line.get_color(),
                markeredgecolor="black", markersize=5, label="实际 observed")
    if level is not None:
        band = model.bootstrap(lambda m: m.survival(periods), n_draws=n_draws, level=level,
                               random_state=random_state)
        _band(ax, periods, band, level, line.get_color(), "")
    ax.set_xlabel("续费期数 periods since joining")
    ax.set_ylabel("仍在续费的比例\nshare still paying")
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("会员留存预测 Projected survival (sBG)", fontsize=11)
    ax.legend(loc="upper right", fontsize="small")  # survival curves fall away from the upper right
    return ax
