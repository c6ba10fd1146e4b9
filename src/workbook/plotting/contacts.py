"""Charts for contacts and community effects (:mod:`workbook.contacts`, :mod:`workbook.community`).

Every function takes a tidy frame plus column names, draws into ``ax`` (a new
figure when ``None``) and returns the Axes; labels are Chinese first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from workbook.errors import WorkbookInputError
from workbook.labels import zh_label
from workbook.plotting.style import axes as _axes

__all__ = ["plot_channel_response", "plot_effect_estimates", "plot_fatigue_curve"]


def _need(data: object, columns, what: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise WorkbookInputError(f"data must be a DataFrame ({what}), got {type(data).__name__}.",
                                 message_zh=f"data 必须是表格（{what}），现在是 {type(data).__name__}。")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise WorkbookInputError(f"data is missing column(s) {missing} ({what}); it has {list(data.columns)}.",
                                 message_zh=f"表格缺少列 {missing}（{what}）。")
    return data


def plot_channel_response(data: pd.DataFrame, outcomes=("opened", "visited"), *, ax: Axes | None = None,
                          **kwargs) -> Axes:
    """Rates per channel with their confidence intervals, one colour per outcome.

    Parameters
    ----------
    data : DataFrame
        From :func:`workbook.contacts.channel_response` (index = channel,
        columns ``<outcome>_rate``, ``<outcome>_ci_low``, ``<outcome>_ci_high``).
    outcomes : sequence of str
        Which rates to draw.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :func:`seaborn.barplot`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.contacts import channel_response
    >>> log = pd.DataFrame({"channel": ["sms", "sms", "app_push", "app_push"], "delivered": True,
    ...                     "opened": [1, 0, 1, 1], "visited": [1, 0, 0, 1], "unsubscribed": False})
    >>> ax = plot_channel_response(channel_response(log))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['APP 推送', '短信']
    """
    cols = [f"{o}_{s}" for o in outcomes for s in ("rate", "ci_low", "ci_high")]
    _need(data, cols, "channel_response")
    long = pd.concat([pd.DataFrame({"channel": [zh_label(c) for c in data.index], "outcome": zh_label(o),
                                    "rate": data[f"{o}_rate"].to_numpy(), "low": data[f"{o}_ci_low"].to_numpy(),
                                    "high": data[f"{o}_ci_high"].to_numpy()}) for o in outcomes],
                     ignore_index=True)
    ax = _axes(ax, (8, 0.9 + 0.6 * len(data) * max(len(outcomes), 1)))
    sns.barplot(data=long, y="channel", x="rate", hue="outcome", ax=ax, errorbar=None, **kwargs)
    # error bars at the bar centres (seaborn draws the bars; the intervals are ours)
    for container, o in zip(ax.containers, outcomes):
        part = long[long["outcome"] == zh_label(o)]
        centres = [p.get_y() + p.get_height() / 2 for p in container.patches]
        ax.errorbar(part["rate"], centres, xerr=[part["rate"] - part["low"], part["high"] - part["rate"]],
                    fmt="none", ecolor="black", elinewidth=1, capsize=3)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("比率（每条送达消息，黑线 = 95% 置信区间）rate per delivered message")
    ax.set_ylabel("渠道 channel")
    ax.legend(title="指标 outcome", loc="lower right")
    ax.set_title("各渠道打开率与到店率 (response by channel)")
    return ax


def plot_fatigue_curve(data: pd.DataFrame, x: str = "recent_contacts", y: str = "rate", *, hue: str | None = None,
                       ax: Axes | None = None, **kwargs) -> Axes:
    """Response rate by recent messages, with the confidence band; the last bin means "or more".

    Parameters
    ----------
    data : DataFrame
        From :func:`workbook.contacts.fatigue_curve` (``ci_low``/``ci_high``
        give the band).
    x, y : str
        Column names.
    hue : str, optional
        One line per value (e.g. ``"channel"`` when the curve was split ``by`` it).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"recent_contacts": [0, 1, 2], "rate": [0.3, 0.25, 0.2],
    ...                       "ci_low": [0.28, 0.22, 0.15], "ci_high": [0.32, 0.28, 0.25]})
    >>> ax = plot_fatigue_curve(curve)
    >>> ax.get_xticklabels()[-1].get_text()
    '2+'
    """
    _need(data, [x, y, "ci_low", "ci_high", *([hue] if hue else [])], "fatigue_curve")
    ax = _axes(ax, (8, 4.5))
    groups = data.groupby(hue, sort=False) if hue else [(None, data)]
    for key, part in groups:
        label = zh_label(key) if hue else "响应率 rate"
        line, = ax.plot(part[x], part[y], marker="o", label=label, **kwargs)
        ax.fill_between(part[x], part["ci_low"], part["ci_high"], color=line.get_color(), alpha=0.2)
    ticks = np.sort(data[x].unique())
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks[:-1]] + [f"{ticks[-1]}+"])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(bottom=0)
    ax.set_xlabel("近 30 天已收到的消息数 (messages in the previous 30 days)")
    ax.set_ylabel(f"{zh_label(y)} ({y})")
    ax.legend(title="阴影 = 95% 置信区间 (shaded: 95% CI)")
    ax.set_title("触达疲劳：消息越多，响应越低 (contact fatigue)")
    return ax


def plot_effect_estimates(data: pd.DataFrame, truth: float | pd.Series | None = None, *, estimate: str = "estimate",
                          ax: Axes | None = None, **kwargs) -> Axes:
    """Point estimates with intervals (one row each), and the true effect as a dashed line.

    Parameters
    ----------
    data : DataFrame
        Index = method or campaign; columns ``estimate``, ``ci_low``,
        ``ci_high`` (e.g. :func:`workbook.community.community_effect`).
    truth : float or Series, optional
        The generator's true effect (synthetic data only): one value (a
        dashed line) or one per row (a Series indexed like ``data``, red
        crosses).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.errorbar`.

    Examples
    --------
    >>> import pandas as pd
    >>> est = pd.DataFrame({"estimate": [3.0, 1.2], "ci_low": [2.5, 0.9], "ci_high": [3.5, 1.5]},
    ...                    index=pd.Index(["naive", "regression"], name="method"))
    >>> ax = plot_effect_estimates(est, truth=1.0)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['简单对比', '回归调整']
    >>> ax = plot_effect_estimates(est, truth=pd.Series({"naive": 1.0, "regression": 1.1}))
    >>> sorted(ax.get_legend_handles_labels()[1])
    ['估计值与 95% 置信区间 (estimate, 95% CI)', '真实效果 (truth)']
    """
    _need(data, [estimate, "ci_low", "ci_high"], "effect estimates")
    ax = _axes(ax, (8, 1.2 + 0.7 * len(data)))
    pos = np.arange(len(data))[::-1]
    est = data[estimate].to_numpy(dtype=float)
    err = [est - data["ci_low"].to_numpy(dtype=float), data["ci_high"].to_numpy(dtype=float) - est]
    ax.errorbar(est, pos, xerr=err, fmt="o", capsize=4, color="#1f77b4", label="估计值与 95% 置信区间 (estimate, 95% CI)",
                **kwargs)
    if isinstance(truth, pd.Series):  # one true value per row (e.g. per campaign)
        true = truth.reindex(data.index).to_numpy(dtype=float)
        ax.plot(true, pos, "x", color="#d62728", markersize=10, markeredgewidth=2, label="真实效果 (truth)")
    elif truth is not None and np.isfinite(truth):
        ax.axvline(truth, color="#d62728", linestyle="--", label=f"真实效果 (truth) = {truth:.3g}")
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_yticks(pos)
    ax.set_yticklabels([zh_label(i) for i in data.index])
    ax.set_ylim(-0.7, len(data) - 0.3)
    ax.set_xlabel("效果估计 (estimated effect)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2, frameon=False)  # below: never covers a row
    return ax
