"""Charts of the holdout evaluation (:mod:`workbook.evaluation`); each returns the Axes.

seaborn's calling convention: ``data=`` a table of :mod:`workbook.evaluation` plus
column names, ``ax=None`` (a new figure), ``**kwargs`` passed to matplotlib.  Labels
are Chinese first with the English term.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from workbook.plotting.style import axes
from workbook.validation import require_columns

__all__ = [
    "plot_conditional_expectation",
    "plot_decile_lift",
    "plot_gain_curve",
    "plot_purchase_counts",
    "plot_tracking",
]

_ACTUAL = "实际 actual"
_UNIT_ZH = {"W": "周", "D": "天"}


def _models(data: pd.DataFrame, hue: str | None) -> list[tuple[str | None, pd.DataFrame]]:
    if hue is None or hue not in data.columns:
        return [(None, data)]
    return [(str(name), part) for name, part in data.groupby(hue, sort=False)]


def _model_label(name: str | None) -> str:
    return f"模型预测 {name}" if name else "模型预测 model"


def _actual_and_models(ax: Axes, data: pd.DataFrame, x: str, actual: str, predicted: str, hue: str | None,
                       marker: tuple[str | None, str | None] = (None, None), **kwargs: object) -> pd.DataFrame:
    """The actual line (black, once) and one dashed line per model; returns the first model's rows."""
    groups = _models(data, hue)
    first = groups[0][1]
    ax.plot(first[x], first[actual], color="black", linewidth=2.2, marker=marker[0], label=_ACTUAL)
    for i, (name, part) in enumerate(groups):
        ax.plot(part[x], part[predicted], linestyle="--", linewidth=1.8, marker=marker[1], color=f"C{i}",
                label=_model_label(name), **kwargs)
    return first


def plot_tracking(
    data: pd.DataFrame,
    *,
    x: str = "date",
    actual: str = "actual",
    predicted: str = "predicted",
    hue: str | None = "model",
    ax: Axes | None = None,
    **kwargs: object,
) -> Axes:
    """Tracking plot: cumulative repeat purchases, actual vs model, with the holdout shaded.

    Parameters
    ----------
    data : DataFrame
        Output of :func:`workbook.evaluation.tracking_table`.
    x, actual, predicted, hue : str
        Column names (``hue`` separates the models; ``None`` for one line).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the model lines' :meth:`~matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"model": "BG/NBD", "date": pd.date_range("2024-01-07", periods=3, freq="7D"),
    ...                       "window": ["calibration", "calibration", "holdout"],
    ...                       "actual": [1, 3, 4], "predicted": [1.2, 2.8, 4.3]})
    >>> plot_tracking(data=table).get_ylabel()
    '累计重复购买次数 cumulative repeat purchases'
    """
    require_columns(data, [x, actual, predicted], "data")
    ax = axes(ax, (8, 4.5))
    first = _actual_and_models(ax, data, x, actual, predicted, hue, **kwargs)
    if "window" in data.columns and (first["window"] == "holdout").any():
        start = first.loc[first["window"] == "holdout", x].iloc[0]
        ax.axvspan(start, first[x].iloc[-1], color="0.9", zorder=0, label="留出期 holdout")
    ax.set_xlabel("日期 date" if x == "date" else x)
    ax.set_ylabel("累计重复购买次数 cumulative repeat purchases")
    ax.set_title("模型能否跟上实际购买？Tracking cumulative repeat purchases", fontsize=11)
    ax.legend(loc="upper left")
    if x == "date":
        ax.figure.autofmt_xdate()
    return ax


def plot_conditional_expectation(
    data: pd.DataFrame,
    *,
    x: str = "frequency",
    actual: str = "actual",
    predicted: str = "predicted",
    hue: str | None = "model",
    ax: Axes | None = None,
    **kwargs: object,
) -> Axes:
    """Average holdout purchases by calibration frequency, actual vs model.

    Parameters
    ----------
    data : DataFrame
        Output of :func:`workbook.evaluation.conditional_expectation_table`.
    x, actual, predicted, hue : str
        Column names.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the model lines' :meth:`~matplotlib.axes.Axes.plot`.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"model": "BG/NBD", "frequency": [0, 1, 2], "n_members": [5, 3, 1],
    ...                       "actual": [0.2, 0.9, 2.0], "predicted": [0.25, 0.8, 1.7]})
    >>> [t.get_text() for t in plot_conditional_expectation(data=table).get_xticklabels()]
    ['0', '1', '2+']
    """
    require_columns(data, [x, actual, predicted], "data")
    ax = axes(ax, (6.5, 4.2))
    # Frequencies at even spacing (the last one pools "or more").
    positions = data.assign(**{x: data.groupby(hue, sort=False).cumcount() if hue in data.columns
                               else np.arange(len(data))})
    first = _actual_and_models(ax, positions, x, actual, predicted, hue, marker=("o", "s"), **kwargs)
    freq = data[x].to_numpy()[:len(first)]
    ax.set_xticks(first[x], [str(f) for f in freq[:-1]] + [f"{freq[-1]}+"])
    ax.set_xlabel("校准期重复购买次数 calibration-period repeat purchases")
    ax.set_ylabel("留出期人均购买次数\nholdout purchases per member")
    ax.set_title("按过去购买次数分组：留出期实际 vs 预测\nHoldout purchases by past frequency", fontsize=11)
    ax.legend(loc="upper left")
    return ax


def plot_purchase_counts(
    data: pd.DataFrame,
    *,
    x: str = "purchases",
    actual: str = "actual",
    expected: str = "expected",
    hue: str | None = "model",
    ax: Axes | None = None,
    **kwargs: object,
) -> Axes:
    """Grouped bars: number of members with 0, 1, 2, ... purchases, actual vs model.

    Parameters
    ----------
    data : DataFrame
        Output of :func:`workbook.evaluation.purchase_count_histogram`.
    x, actual, expected, hue : str
        Column names.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.bar`.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"model": "BG/NBD", "purchases": ["0", "1", "2+"],
    ...                       "actual": [60, 25, 15], "expected": [58.0, 27.0, 15.0]})
    >>> len(plot_purchase_counts(data=table).patches)
    6
    """
    require_columns(data, [x, actual, expected], "data")
    ax = axes(ax, (7, 4.2))
    groups = _models(data, hue)
    first = groups[0][1]
    pos = np.arange(len(first))
    width = 0.8 / (len(groups) + 1)
    ax.bar(pos - 0.4 + width / 2, first[actual], width=width, color="0.25", label=_ACTUAL, **kwargs)
    for i, (name, part) in enumerate(groups, start=1):
        ax.bar(pos - 0.4 + width / 2 + i * width, part[expected], width=width, color=f"C{i - 1}",
               label=_model_label(name), **kwargs)
    ax.set_xticks(pos, first[x].astype(str).tolist())
    ax.set_xlabel("购买次数 number of purchases")
    ax.set_ylabel("会员数 members")
    ax.set_title("买了几次的会员各有多少：实际 vs 模型\nMembers by number of purchases", fontsize=11)
    ax.legend()
    return ax


def plot_gain_curve(
    data: pd.DataFrame,
    *,
    x: str = "share_of_members",
    y: str = "model",
    label: str = "模型排序 model ranking",
    reference: bool = True,
    ax: Axes | None = None,
    **kwargs: object,
) -> Axes:
    """Cumulative gains: share of the outcome captured by the top-ranked members.

    Parameters
    ----------
    data : DataFrame
        Output of :func:`workbook.evaluation.gain_curve`.
    x, y : str
        Column names.
    label : str
        Legend entry of the curve (call again with ``ax=`` to add another model).
    reference : bool, default True
        Also draw the perfect ranking (``data["perfect"]``) and random order.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot`.

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"share_of_members": [0, 0.5, 1], "model": [0, 0.8, 1],
    ...                       "perfect": [0, 0.9, 1], "random": [0, 0.5, 1]})
    >>> len(plot_gain_curve(data=curve).get_lines())
    3
    """
    require_columns(data, [x, y], "data")
    ax = axes(ax, (5.5, 5))
    if reference:
        if "perfect" in data.columns:
            ax.plot(data[x], data["perfect"], color="0.4", linestyle=":", label="完美排序 perfect")
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", label="随机 random")
    ax.plot(data[x], data[y], linewidth=2, label=label, **kwargs)
    ax.set_xlabel("按预测从高到低，覆盖的会员比例\nshare of members, top-ranked first")
    ax.set_ylabel("覆盖的实际结果比例\nshare of the actual outcome")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title("累计收益曲线 Cumulative gains", fontsize=11)
    ax.legend(loc="lower right")
    return ax


def plot_decile_lift(
    data: pd.DataFrame,
    *,
    actual: str = "mean_outcome",
    predicted: str = "mean_prediction",
    ylabel: str = "人均 mean per member",
    ax: Axes | None = None,
    **kwargs: object,
) -> Axes:
    """Bars of the mean actual and predicted outcome per decile of the ranking.

    Parameters
    ----------
    data : DataFrame
        Output of :func:`workbook.evaluation.decile_table` (index = decile, 1 = highest).
    actual, predicted : str
        Column names.
    ylabel : str
        What the values are (e.g. "留出期人均消费（元）", "流失率 churn rate").
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.bar`.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"mean_outcome": [3.0, 1.0], "mean_prediction": [2.5, 1.2],
    ...                       "lift": [1.5, 0.5]}, index=pd.Index([1, 2], name="decile"))
    >>> plot_decile_lift(data=table).get_xlabel()
    '预测分组（1 = 预测最高的 10%）decile of the prediction'
    """
    require_columns(data, [actual, predicted], "data")
    ax = axes(ax, (7, 4.2))
    pos = np.arange(len(data))
    ax.bar(pos - 0.2, data[actual], width=0.4, color="0.25", label=_ACTUAL, **kwargs)
    ax.bar(pos + 0.2, data[predicted], width=0.4, color="C0", label="模型预测 predicted", **kwargs)
    if "lift" in data.columns:
        for p, (value, lift) in enumerate(zip(data[actual], data["lift"])):
            ax.annotate(f"{lift:.1f}×", (p - 0.2, value), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(pos, [str(i) for i in data.index])
    ax.set_xlabel("预测分组（1 = 预测最高的 10%）decile of the prediction")
    ax.set_ylabel(ylabel)
    ax.set_title("各组实际与预测（数字 = 相对平均水平的倍数 lift）\nActual vs predicted by decile", fontsize=11)
    ax.legend()
    return ax
