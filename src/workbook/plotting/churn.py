"""Charts for churn prediction; every function returns a matplotlib Axes (or a pair).

Labels are bilingual (Chinese / English); importing :mod:`workbook.plotting`
first sets a font that renders the Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import StrMethodFormatter
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

from workbook.churn import aligned_labels_scores as _aligned
from workbook.errors import WorkbookInputError
from workbook.plotting.style import axes as _axes
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_budget_curve", "plot_calibration", "plot_precision_recall", "plot_roc", "plot_roc_pr"]




def _score_sets(scores: object) -> dict:
    """``{name: scores}`` from one array-like or a mapping of several models."""
    if isinstance(scores, Mapping):
        if not scores:
            raise WorkbookInputError("scores is an empty mapping; give at least one model's scores.")
        return dict(scores)
    return {"model": scores}


def plot_roc(y_true: object, scores: object, ax: Axes | None = None) -> Axes:
    """ROC curve(s) with the AUC in the legend.

    Parameters
    ----------
    y_true : array-like of 0/1
        Observed churn.
    scores : array-like or mapping of name -> array-like
        Churn probabilities; a dict compares models (e.g. the classifier vs
        ``1 - P(alive)`` of BG/NBD) on the same members.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_roc([0, 0, 1, 1], {"model": [0.1, 0.4, 0.35, 0.8]})
    >>> ax.get_legend().get_texts()[0].get_text()
    'model (AUC 0.75)'
    """
    ax = _axes(ax, (5, 4))
    for name, s in _score_sets(scores).items():
        y, p = _aligned(y_true, s)
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc(fpr, tpr):.2f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="随机 random")
    ax.set_xlabel("误报率 false positive rate")
    ax.set_ylabel("命中率 true positive rate (recall)")
    ax.set_title("ROC 曲线 ROC curve")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="lower right")
    return ax


def plot_precision_recall(y_true: object, scores: object, ax: Axes | None = None) -> Axes:
    """Precision-recall curve(s) with average precision; the dashed line is the base rate.

    The legend sits below the axes so it never covers the curves.

    Examples
    --------
    >>> ax = plot_precision_recall([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> ax.get_legend().get_texts()[0].get_text()
    'model (AP 0.83)'
    """
    ax = _axes(ax, (5, 4))
    base = None
    for name, s in _score_sets(scores).items():
        y, p = _aligned(y_true, s)
        precision, recall, _ = precision_recall_curve(y, p)
        ax.step(recall, precision, where="post",
                label=f"{name} (AP {average_precision_score(y, p):.2f})")
        base = y.mean()
    ax.axhline(base, linestyle="--", color="grey", linewidth=1, label=f"流失基准率 base rate {base:.0%}")
    ax.set_xlabel("召回率 recall")
    ax.set_ylabel("精确率 precision")
    ax.set_title("精确率-召回率 precision-recall")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    # Below the axes: good models hug the top right, where a legend inside would cover them.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize="small", frameon=False)
    return ax


def plot_roc_pr(y_true: object, scores: object, axes: object | None = None) -> np.ndarray:
    """ROC and precision-recall side by side.

    Parameters
    ----------
    axes : pair of matplotlib Axes, optional
        Where to draw; default a new 1x2 figure.

    Returns
    -------
    numpy.ndarray of two Axes
        ``[roc_ax, pr_ax]``.

    Examples
    --------
    >>> axes = plot_roc_pr([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> len(axes)
    2
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 5.5), layout="constrained")
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.size != 2:
        raise WorkbookInputError(f"axes must be a pair of Axes, got {axes.size}.")
    plot_roc(y_true, scores, ax=axes[0])
    plot_precision_recall(y_true, scores, ax=axes[1])
    return axes


def plot_calibration(table: pd.DataFrame, ax: Axes | None = None, label: str = "model") -> Axes:
    """Reliability diagram from :func:`workbook.churn.calibration_table`.

    Points on the diagonal: a predicted 30 % churn risk really churns 30 % of
    the time.  Marker size grows with the number of members in the bin.

    Examples
    --------
    >>> from workbook.churn import calibration_table
    >>> t = calibration_table([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2, strategy="uniform")
    >>> ax = plot_calibration(t)
    >>> ax.get_xlabel()
    '预测流失概率 predicted churn probability'
    """
    require_dataframe(table, "table")
    require_columns(table, ["mean_predicted", "observed_rate", "n"], "table")
    ax = _axes(ax, (5, 4))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="完美校准 perfect")
    sizes = 20 + 180 * table["n"].to_numpy() / max(table["n"].max(), 1)
    ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", linewidth=1.5, label=label)
    ax.scatter(table["mean_predicted"], table["observed_rate"], s=sizes, alpha=0.4)
    ax.set_xlabel("预测流失概率 predicted churn probability")
    ax.set_ylabel("实际流失率 observed churn rate")
    ax.set_title("校准图 calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    return ax


def plot_budget_curve(selection: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Cumulative expected net gain against money spent, from :func:`workbook.churn.select_for_retention`.

    The curve rises while each extra contact is expected to pay off and falls
    after; the marker shows where the budget (or the break-even point) stops
    the selection.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.churn import select_for_retention
    >>> sel = select_for_retention(pd.Series({"a": 0.9, "b": 0.5, "c": 0.1}),
    ...                            pd.Series({"a": 100.0, "b": 400.0, "c": 1000.0}),
    ...                            budget=25, cost_per_contact=10, save_rate=0.5)
    >>> ax = plot_budget_curve(sel)
    >>> ax.get_xlabel()
    '累计成本 cumulative cost (CNY)'
    """
    require_dataframe(selection, "selection")
    require_columns(selection, ["cumulative_cost", "cumulative_net_gain", "selected"], "selection")
    ax = _axes(ax, (6, 4))
    x = np.concatenate([[0.0], selection["cumulative_cost"].to_numpy(dtype="float64")])
    y = np.concatenate([[0.0], selection["cumulative_net_gain"].to_numpy(dtype="float64")])
    ax.plot(x, y, linewidth=1.8, label="预期净收益 expected net gain")
    n_sel = int(selection["selected"].sum())
    ax.scatter([x[n_sel]], [y[n_sel]], color="#d62728", zorder=3,
               label=f"选中 selected: {n_sel} 人, 净收益 {y[n_sel]:,.0f}")
    budget = selection.attrs.get("budget")
    if budget is not None and budget <= x.max():
        ax.axvline(budget, linestyle="--", color="grey", linewidth=1, label="预算 budget")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel("累计成本 cumulative cost (CNY)")
    ax.set_ylabel("累计预期净收益 cumulative net gain (CNY)")
    ax.set_title("挽留预算 retention budget")
    ax.legend(loc="best")
    return ax
