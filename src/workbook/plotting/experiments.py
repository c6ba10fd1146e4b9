"""Charts for A/B and campaign experiments; every function returns a matplotlib Axes.

Labels are bilingual (Chinese / English); importing :mod:`workbook.plotting`
first sets a font that renders the Chinese.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from workbook.errors import WorkbookInputError
from workbook.experiments.tests import MeanTestResult, ProportionTestResult
from workbook.plotting.style import axes as _axes
from workbook.validation import require_columns, require_dataframe

_CONTROL_COLOR = "#8c8c8c"
_TREAT_COLOR = "#d62728"
_NEGATIVE_COLOR = "#1f77b4"


def _bilingual(zh: str, code: object) -> str:
    """"忠诚客户 loyal": the Chinese label, then the code (just the code when no label is known)."""
    return str(code) if zh == str(code) else f"{zh} {code}"




def plot_ab_result(result: ProportionTestResult | MeanTestResult, ax: Axes | None = None) -> Axes:
    """Each arm's rate (or mean) with its confidence interval.

    Parameters
    ----------
    result : ProportionTestResult or MeanTestResult
        From :func:`workbook.experiments.proportion_test` or
        :func:`workbook.experiments.mean_test`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.experiments import proportion_test
    >>> df = pd.DataFrame({"arm": ["control"] * 100 + ["treatment"] * 100,
    ...                    "converted": [1] * 10 + [0] * 90 + [1] * 20 + [0] * 80})
    >>> ax = plot_ab_result(proportion_test(df))
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['对照组 control', '实验组 treatment']
    """
    if not isinstance(result, (ProportionTestResult, MeanTestResult)):
        raise WorkbookInputError(
            f"result must come from proportion_test or mean_test, got {type(result).__name__}."
        )
    ax = _axes(ax, (6, 4))
    from workbook.labels import zh_label

    labels = [_bilingual(zh_label(a), a) for a in (result.control, result.treatment)]
    if isinstance(result, ProportionTestResult):
        values = np.array([result.rate_control, result.rate_treatment])
        low = np.array([result.rate_control_ci_low, result.rate_treatment_ci_low])
        high = np.array([result.rate_control_ci_high, result.rate_treatment_ci_high])
        ylabel = "转化率 conversion rate"
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        lift = f"{result.abs_lift * 100:+.2f} pp"
    else:
        from scipy import stats

        values = np.array([result.mean_control, result.mean_treatment])
        n = np.array([result.n_control, result.n_treatment])
        sd = np.array([result.sd_control, result.sd_treatment])
        half = stats.t.ppf(1 - result.alpha / 2, n - 1) * sd / np.sqrt(n)
        low, high = values - half, values + half
        ylabel = f"人均 mean {result.value_col}" + (" (CUPED)" if result.covariate else "")
        lift = f"{result.diff:+,.2f}"
    x = np.arange(2)
    ax.bar(x, values, color=[_CONTROL_COLOR, _TREAT_COLOR], alpha=0.8, width=0.6)
    ax.errorbar(x, values, yerr=[values - low, high - values], fmt="none", ecolor="black",
                capsize=8, linewidth=1.5)
    ax.set_xticks(x, labels)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(f"组别 arm（误差线 error bars: {1 - result.alpha:.0%} CI）")
    ax.set_title(f"提升 lift {lift}, p = {result.p_value:.3g}")
    return ax


def plot_power_curve(curve: pd.DataFrame, ax: Axes | None = None, *, target_power: float = 0.8) -> Axes:
    """Power against members per arm, one line per minimum detectable effect.

    Parameters
    ----------
    curve : DataFrame
        From :func:`workbook.experiments.power_curve` (columns ``mde``,
        ``n_per_arm``, ``power``).
    ax : matplotlib Axes, optional
    target_power : float, default 0.8
        Drawn as a dashed reference line.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from workbook.experiments import power_curve
    >>> ax = plot_power_curve(power_curve([0.01, 0.02], baseline_rate=0.1))
    >>> len(ax.get_lines())
    3
    """
    require_dataframe(curve, "curve")
    require_columns(curve, ["mde", "n_per_arm", "power"], "curve")
    ax = _axes(ax, (6, 4))
    for mde, g in curve.groupby("mde", sort=True):
        ax.plot(g["n_per_arm"], g["power"], label=f"MDE {mde:g}")
    ax.axhline(target_power, color="black", linestyle="--", linewidth=1)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("每组人数 members per arm")
    ax.set_ylabel("检验功效 power")
    ax.set_title("样本量与检验功效 sample size vs. power")
    ax.legend(title="最小可检测效应 MDE")
    return ax


def plot_uplift_by_segment(table: pd.DataFrame, ax: Axes | None = None, **kwargs) -> Axes:
    """Uplift per segment with its confidence interval (horizontal).

    A point is red when the whole interval lies above zero (the offer helped),
    blue when it lies below zero, grey when the interval includes zero (no
    clear effect); the legend says so.  Segment codes are shown in Chinese
    (:func:`workbook.labels.zh_label`).

    Parameters
    ----------
    table : DataFrame
        From :func:`workbook.experiments.uplift_by_segment` (index: segment;
        columns ``uplift``, ``ci_low``, ``ci_high``).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter` (e.g. ``s=80``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.experiments import uplift_by_segment
    >>> df = pd.DataFrame({"segment": ["loyal"] * 40 + ["lost"] * 40,
    ...                    "arm": (["control"] * 20 + ["treatment"] * 20) * 2,
    ...                    "converted": ([1] * 2 + [0] * 18 + [1] * 8 + [0] * 12) * 2})
    >>> ax = plot_uplift_by_segment(uplift_by_segment(df))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['已流失客户 lost', '忠诚客户 loyal', '全部 All']
    >>> [t.get_text() for t in ax.get_legend().get_texts()][0]
    '显著提升（区间在 0 以上） CI above 0'
    """
    from matplotlib.lines import Line2D

    from workbook.labels import zh_label
    from workbook.rfm import SEGMENTS

    require_dataframe(table, "table")
    require_columns(table, ["uplift", "ci_low", "ci_high"], "table")
    ax = _axes(ax, (7.5, 0.5 * len(table) + 1.8))
    y = np.arange(len(table))[::-1]
    u = table["uplift"].to_numpy(dtype="float64")
    lo = table["ci_low"].to_numpy(dtype="float64")
    hi = table["ci_high"].to_numpy(dtype="float64")
    colors = np.where(lo > 0, _TREAT_COLOR, np.where(hi < 0, _NEGATIVE_COLOR, _CONTROL_COLOR))
    ax.errorbar(u, y, xerr=[np.nan_to_num(u - lo), np.nan_to_num(hi - u)], fmt="none",
                ecolor="black", capsize=4, linewidth=1)
    ax.scatter(u, y, c=list(colors), zorder=3, **{"s": 50, **kwargs})
    ax.axvline(0, color="black", linewidth=1)
    # RFM segment names ("忠诚客户") over lifecycle stage names ("忠诚") when the rows are segments
    names = dict(zip(SEGMENTS["segment"], SEGMENTS["name_zh"])) if table.index.name == "segment" else None
    ax.set_yticks(y, [_bilingual(zh_label(s, names), s) for s in table.index])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("提升（实验组 - 对照组）uplift, treatment - control")
    name = str(table.index.name or "segment")
    ax.set_ylabel(_bilingual(zh_label(name), name))
    ax.set_title("分群提升与置信区间 uplift by segment (CI)")
    shown = [(_TREAT_COLOR, "显著提升（区间在 0 以上） CI above 0"),
             (_CONTROL_COLOR, "不确定（区间包含 0） CI includes 0"),
             (_NEGATIVE_COLOR, "显著下降（区间在 0 以下） CI below 0")]
    handles = [Line2D([], [], marker="o", linestyle="", color=c, label=t) for c, t in shown if c in colors]
    ax.legend(handles=handles, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.3 / len(y)),
              ncols=1, frameon=False)
    return ax


def plot_peeking(sim: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Share of experiments declared significant when peeking at every look vs. each look alone.

    Parameters
    ----------
    sim : DataFrame
        From :func:`workbook.experiments.simulate_peeking`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from workbook.experiments import simulate_peeking
    >>> ax = plot_peeking(simulate_peeking(1000, 0.1, looks=5, n_sims=500))
    >>> len(ax.get_lines())
    3
    """
    require_dataframe(sim, "sim")
    require_columns(sim, ["n_per_arm", "reject_rate_this_look", "reject_rate_any_look"], "sim")
    ax = _axes(ax, (6, 4))
    ax.plot(sim["n_per_arm"], sim["reject_rate_any_look"], marker="o", color=_TREAT_COLOR,
            label="偷看：任一次显著即停 peeking (stop at first significant look)")
    ax.plot(sim["n_per_arm"], sim["reject_rate_this_look"], marker="s", color=_CONTROL_COLOR,
            label="只在这一时点检验一次 single test at this size")
    alpha = sim.attrs.get("alpha")
    if alpha is not None:
        ax.axhline(alpha, color="black", linestyle="--", linewidth=1, label=f"α = {alpha:g}")
    ax.set_ylim(0, max(0.1, float(sim["reject_rate_any_look"].max()) * 1.15))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("每组人数 members per arm")
    no_effect = sim.attrs.get("true_lift", 0.0) == 0.0
    ax.set_ylabel("误报率 false positive rate" if no_effect else "判定显著的比例 share significant")
    ax.set_title("反复偷看结果的代价 the cost of peeking")
    ax.legend(fontsize="small")
    return ax
