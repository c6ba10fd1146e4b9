"""Charts for next-best-category recommendations (:mod:`workbook.recommend`); each returns an Axes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from workbook.labels import zh_label, zh_labels
from workbook.plotting.style import axes as _axes
from workbook.validation import require_columns, require_dataframe

#: Colour per recommender: grey baseline, red the recommender, blue the (unknowable) truth.
METHOD_COLORS = {"popularity": "#8c8c8c", "cooccurrence": "#d62728", "true_preference": "#1f77b4"}


def plot_hit_rates(data: pd.DataFrame, ax: Axes | None = None, **kwargs) -> Axes:
    """Hit rate of each recommender with its 95 % interval (one bar per method).

    Parameters
    ----------
    data : DataFrame
        :func:`workbook.recommend.holdout_hit_rate` output (index ``method``;
        ``hit_rate``, ``ci_low``, ``ci_high``).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.bar`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"hit_rate": [0.3, 0.5], "ci_low": [0.25, 0.45], "ci_high": [0.35, 0.55]},
    ...                  index=pd.Index(["popularity", "cooccurrence"], name="method"))
    >>> [x.get_text() for x in plot_hit_rates(t).get_xticklabels()]
    ['热门品类（基线）\\npopularity', '品类共现推荐\\ncooccurrence']
    """
    require_dataframe(data, "data")
    require_columns(data, ["hit_rate", "ci_low", "ci_high"], "data")
    ax = _axes(ax, (6.5, 4))
    x = np.arange(len(data))
    rate = data["hit_rate"].to_numpy(dtype="float64")
    err = np.vstack([rate - data["ci_low"].to_numpy(dtype="float64"),
                     data["ci_high"].to_numpy(dtype="float64") - rate])
    colors = [METHOD_COLORS.get(str(m), "#9467bd") for m in data.index]
    ax.bar(x, rate, yerr=err, capsize=4, color=kwargs.pop("color", colors), **kwargs)
    for xi, r in zip(x, rate):
        ax.annotate(f"{r:.0%}", (xi, r), xytext=(8, 4), textcoords="offset points", fontsize=10)
    ax.set_xticks(x, [f"{zh_label(m)}\n{m}" for m in data.index])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, min(1.0, float(data["ci_high"].max()) * 1.15 + 0.02))
    k = data.attrs.get("k")
    ax.set_ylabel(f"命中率 hit rate@{k}" if k else "命中率 hit rate")
    ax.set_title("检验期内买了推荐品类的会员占比（误差线：95% 区间）")
    return ax


def plot_conditional_probabilities(data: pd.DataFrame, ax: Axes | None = None, **kwargs) -> Axes:
    """Heat map of ``P(c | c')`` (rows: already bought; columns: also bought), Chinese labels.

    The diagonal (100 % by definition) is left blank, so the colour scale shows the pairs.

    Parameters
    ----------
    data : DataFrame
        :func:`workbook.recommend.conditional_probabilities` output.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :func:`seaborn.heatmap`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame([[1.0, 0.5], [0.25, 1.0]], index=["baby", "dairy"], columns=["baby", "dairy"])
    >>> plot_conditional_probabilities(c).get_xlabel()
    '也买了的品类 also bought'
    """
    import seaborn as sns

    require_dataframe(data, "data")
    ax = _axes(ax, (7, 5.5))
    shown = data.copy()
    shown.index = zh_labels(data.index)
    shown.columns = zh_labels(data.columns)
    # the diagonal is 100 % by definition: leave it blank so the colours show the pairs
    diagonal = np.equal.outer(data.index.astype(str), data.columns.astype(str))
    off = data.to_numpy(dtype="float64")[~diagonal]
    vmax = float(off.max()) if off.size and off.max() > 0 else 1.0
    options = {"annot": True, "fmt": ".0%", "cmap": "Reds", "vmin": 0, "vmax": vmax, "cbar": False,
               "mask": diagonal, "ax": ax}
    sns.heatmap(shown, **{**options, **kwargs})
    ax.set_ylabel("已买过的品类 bought")
    ax.set_xlabel("也买了的品类 also bought")
    ax.set_title("买过 A 的会员里，也买过 B 的比例 P(B | A)")
    ax.tick_params(axis="y", rotation=0)
    ax.grid(False)
    return ax
