"""Target tracking chart (业绩达成): each store's shortfall split into its three levers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from workbook.plotting.style import axes
from workbook.validation import require_columns, require_dataframe

__all__ = ["plot_target_tracking"]

_LEVER_STYLE = (
    ("traffic_effect", "客流 traffic", "C0"),
    ("conversion_effect", "成交率 conversion", "C1"),
    ("atv_effect", "客单价 ATV", "C2"),
)


def plot_target_tracking(data: pd.DataFrame, ax: Axes | None = None, *, store: str = "store_id",
                         **kwargs: object) -> Axes:
    """Stacked bars of each store's lever effects against target, with the total marked.

    A bar segment to the left of 0 is a lever that fell short of its target
    (``ln(actual / target)``; -0.10 is about 10% short); the black dot is the
    store's total ``ln(actual sales / target sales)``, the sum of the segments.

    Parameters
    ----------
    data : DataFrame
        Output of :func:`workbook.targets.track_targets`.
    ax : matplotlib Axes, optional
    store : str, default "store_id"
        Column naming the stores.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.targets import set_targets, track_targets
    >>> base = pd.DataFrame({"store_id": ["S1", "S2"], "traffic": [1000.0, 800.0],
    ...                      "conversion": [0.2, 0.25], "atv": [100.0, 90.0]})
    >>> base["sales"] = base["traffic"] * base["conversion"] * base["atv"]
    >>> now = base.assign(traffic=[950.0, 900.0])
    >>> now["sales"] = now["traffic"] * now["conversion"] * now["atv"]
    >>> ax = plot_target_tracking(track_targets(now, set_targets(base, 40_000.0)))
    >>> len(ax.patches)
    6
    """
    require_dataframe(data, "data")
    effects = [col for col, _, _ in _LEVER_STYLE]
    require_columns(data, [store, *effects, "log_shortfall"], "data")
    part = data.sort_values("log_shortfall", ascending=False).reset_index(drop=True)
    ax = axes(ax, (8, max(3.0, 0.34 * len(part) + 1.6)))
    y = np.arange(len(part))
    # Negative and positive segments are stacked separately so they never overlap.
    left_neg = np.zeros(len(part))
    left_pos = np.zeros(len(part))
    for col, label, colour in _LEVER_STYLE:
        v = part[col].to_numpy(dtype=float)
        start = np.where(v < 0, left_neg, left_pos)
        ax.barh(y, v, left=start, color=colour, label=label, height=0.7, **kwargs)
        left_neg = left_neg + np.minimum(v, 0)
        left_pos = left_pos + np.maximum(v, 0)
    ax.scatter(part["log_shortfall"], y, color="black", zorder=3, s=18, label="合计 total（对数达成 log achievement）")
    ax.axvline(0, color="0.3", linewidth=1)
    ax.set_yticks(y, part[store].astype(str).tolist())
    ax.invert_yaxis()
    ax.set_xlabel("与目标的差距 ln(实际 / 目标)，-0.10 ≈ 低 10%（gap to target）")
    ax.set_ylabel("门店 store")
    ax.set_title("业绩达成：差距来自哪个杠杆 (Target achievement by lever)")
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    return ax
