"""Store targets (目标制定) and their tracking (业绩达成) on the funnel ``sales = traffic x conversion x ATV``.

A monthly sales target is only actionable when the store manager knows what it
means for the levers he runs: how many more visitors, what conversion rate,
what basket.  :func:`set_targets` turns a sales target into one target per lever
such that the three targets multiply back to the sales target exactly;
:func:`track_targets` compares a later period's actual KPIs with those targets
and splits the shortfall into the part each lever is responsible for.

Both work on the per-store KPI table of :func:`workbook.kpi.store_kpis` (one row
per store, columns ``store_id``, ``traffic``, ``conversion``, ``atv``, ``sales``).

How the sales uplift is shared between the levers (``allocation``):

* ``"equal"``: every lever carries a third of the log uplift
  (``g = target / base``; each lever grows by ``g ** (1/3)``);
* ``"gap"``: in proportion to the store's shortfall against a reference store
  (the chain median by default, :func:`workbook.kpi.chain_benchmark`): a store
  whose conversion lags its peers is asked to close that gap first.  A store that
  lags on nothing falls back to ``"equal"``;
* a mapping ``{"traffic": w1, "conversion": w2, "atv": w3}`` of non-negative
  weights (normalised to sum to 1), e.g. ``{"traffic": 0, "conversion": 1, "atv": 1}``
  when the store cannot influence footfall.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.validation import format_rows, require_columns, require_dataframe, require_numeric

__all__ = ["LEVERS", "set_targets", "track_targets"]

#: The three multiplicative levers of the sales funnel, in funnel order.
LEVERS = ("traffic", "conversion", "atv")
_NEEDED = ["store_id", *LEVERS, "sales"]


def _check_funnel(kpis: object, name: str) -> pd.DataFrame:
    require_dataframe(kpis, name)
    require_columns(kpis, _NEEDED, name)
    for col in [*LEVERS, "sales"]:
        require_numeric(kpis, col, name)
    bad = ~(kpis[list(LEVERS)] > 0).all(axis=1)
    if bad.any():
        positions = np.flatnonzero(bad.to_numpy())
        rows = format_rows(positions)
        rows_zh = "、".join(map(str, positions[:5])) + ("等" if len(positions) > 5 else "")
        stores = ", ".join(map(str, kpis.loc[bad, "store_id"].head(5)))
        raise WorkbookInputError(
            f"{name}: traffic, conversion and atv must be positive to set or track targets; rows counted from 0: "
            f"{rows} (stores {stores}) are not (a store without traffic or receipts in the period).",
            message_zh=f"{name}：客流量、成交率、客单价都必须大于 0 才能定目标或追踪达成；"
            f"第 {rows_zh} 行（从 0 数起；门店 {stores}）不满足（该期间没有客流或没有成交）。",
        )
    if kpis["store_id"].duplicated().any():
        dup = ", ".join(map(str, kpis.loc[kpis["store_id"].duplicated(), "store_id"].unique()[:5]))
        raise WorkbookInputError(
            f"{name}: one row per store is needed (pick one period first); stores {dup} appear more than once.",
            message_zh=f"{name}：每家店只能有一行（请先选定一个期间）；门店 {dup} 出现了多次。",
        )
    return kpis.reset_index(drop=True)


def _store_targets(base: pd.DataFrame, sales_target) -> pd.Series:
    if isinstance(sales_target, Mapping | pd.Series):
        target = pd.Series(sales_target, dtype="float64")
        missing = [s for s in base["store_id"] if s not in target.index]
        if missing:
            raise WorkbookInputError(
                f"sales_target has no target for stores {missing[:5]}.",
                message_zh=f"sales_target 里缺少这些门店的目标：{missing[:5]}。",
            )
        target = target.reindex(base["store_id"]).to_numpy()
    else:
        total = float(sales_target)
        if not np.isfinite(total) or total <= 0:
            raise WorkbookInputError(
                f"sales_target must be a positive number (the chain's total), got {sales_target!r}.",
                message_zh=f"sales_target（全连锁销售目标）必须是正数，现在是 {sales_target!r}。",
            )
        # A chain total is split in proportion to each store's base sales.
        target = total * base["sales"].to_numpy() / base["sales"].sum()
    target = pd.Series(target, index=base.index, dtype="float64")
    if not (np.isfinite(target) & (target > 0)).all():
        raise WorkbookInputError(
            "sales_target must be positive for every store.",
            message_zh="每家店的销售目标都必须是正数。",
        )
    return target


def _weights(base: pd.DataFrame, allocation, reference: pd.Series | None) -> pd.DataFrame:
    if isinstance(allocation, Mapping):
        unknown = sorted(set(allocation) - set(LEVERS))
        w = pd.Series({lever: float(allocation.get(lever, 0.0)) for lever in LEVERS})
        if unknown or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise WorkbookInputError(
                f"allocation weights must be non-negative numbers for {list(LEVERS)} with a positive sum, "
                f"got {dict(allocation)!r}.",
                message_zh=f"allocation 的权重只能给 {list(LEVERS)}，须为非负数且总和大于 0，现在是 {dict(allocation)!r}。",
            )
        return pd.DataFrame([w / w.sum()] * len(base), index=base.index)
    if allocation == "equal":
        return pd.DataFrame(1.0 / len(LEVERS), index=base.index, columns=list(LEVERS))
    if allocation == "gap":
        ref = reference if reference is not None else base[list(LEVERS)].median()
        shortfall = np.log(ref[list(LEVERS)].astype(float) / base[list(LEVERS)]).clip(lower=0.0)
        total = shortfall.sum(axis=1)
        w = shortfall.div(total.where(total > 0), axis=0)
        return w.fillna(1.0 / len(LEVERS))
    raise WorkbookInputError(
        f"allocation must be 'equal', 'gap' or a mapping of weights, got {allocation!r}.",
        message_zh=f"allocation 只能是 'equal'、'gap' 或一组权重，现在是 {allocation!r}。",
    )


def set_targets(
    baseline: pd.DataFrame,
    sales_target,
    *,
    allocation="gap",
    reference: pd.Series | None = None,
) -> pd.DataFrame:
    """Turn a sales target into traffic, conversion and ATV targets per store.

    Parameters
    ----------
    baseline : DataFrame
        One row per store with ``store_id``, ``traffic``, ``conversion``,
        ``atv`` and ``sales`` (a period of :func:`workbook.kpi.store_kpis`,
        e.g. the same month last year).
    sales_target : float or mapping
        The chain's total target (split in proportion to base sales) or a
        target per ``store_id``.
    allocation : {"gap", "equal"} or mapping, default "gap"
        How the uplift is shared between the levers (see the module docstring).
    reference : Series, optional
        Reference lever values for ``"gap"`` (default: the median store of
        ``baseline``).

    Returns
    -------
    DataFrame
        Per store: ``sales_base``, ``sales_target``, ``uplift`` (target / base - 1),
        for each lever ``<lever>_base``, ``<lever>_target``, ``<lever>_change``
        (target / base - 1), ``receipts_base``, ``receipts_target``,
        ``extra_receipts`` and ``sales_check`` (the product of the lever targets,
        equal to ``sales_target``).

    Examples
    --------
    >>> import pandas as pd
    >>> base = pd.DataFrame({"store_id": ["S1", "S2"], "traffic": [1000.0, 1000.0],
    ...                      "conversion": [0.2, 0.3], "atv": [100.0, 100.0]})
    >>> base["sales"] = base["traffic"] * base["conversion"] * base["atv"]
    >>> t = set_targets(base, {"S1": 22_000.0, "S2": 33_000.0}, allocation="equal")
    >>> t[["store_id", "uplift", "traffic_change", "conversion_change", "atv_change"]].round(4)
      store_id  uplift  traffic_change  conversion_change  atv_change
    0       S1     0.1          0.0323             0.0323      0.0323
    1       S2     0.1          0.0323             0.0323      0.0323
    >>> t["sales_check"].round(6).tolist()
    [22000.0, 33000.0]
    """
    base = _check_funnel(baseline, "baseline")
    target = _store_targets(base, sales_target)
    weights = _weights(base, allocation, reference)
    out = pd.DataFrame({"store_id": base["store_id"], "sales_base": base["sales"].astype(float),
                        "sales_target": target, "uplift": target / base["sales"] - 1.0})
    # Targets are the base levers scaled so that their product is the target exactly;
    # the base's own product (not its recorded sales) is scaled, so rounding in the
    # KPI table cannot leak into the check.
    funnel = base["traffic"] * base["conversion"] * base["atv"]
    correction = np.log(target / funnel)
    for lever in LEVERS:
        out[f"{lever}_base"] = base[lever].astype(float)
        out[f"{lever}_target"] = base[lever] * np.exp(weights[lever] * correction)
        out[f"{lever}_change"] = out[f"{lever}_target"] / out[f"{lever}_base"] - 1.0
    out["receipts_base"] = base["traffic"] * base["conversion"]
    out["receipts_target"] = out["traffic_target"] * out["conversion_target"]
    out["extra_receipts"] = out["receipts_target"] - out["receipts_base"]
    out["sales_check"] = out["receipts_target"] * out["atv_target"]
    return out


def track_targets(actual: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Achievement (业绩达成) of each store and which lever missed its target.

    With actual and target funnels ``sales = traffic x conversion x ATV``, the
    log shortfall ``ln(actual sales / target sales)`` is exactly the sum of the
    three lever effects ``ln(actual lever / target lever)``.

    Parameters
    ----------
    actual : DataFrame
        One row per store with ``store_id``, ``traffic``, ``conversion``, ``atv``
        and ``sales`` for the target period.
    targets : DataFrame
        The output of :func:`set_targets`.

    Returns
    -------
    DataFrame
        Per store: ``sales_actual``, ``sales_target``, ``achievement``
        (actual / target), per lever ``<lever>_actual``, ``<lever>_target``,
        ``<lever>_achievement`` and ``<lever>_effect``, ``log_shortfall``
        and ``missed_lever`` (the lever with the most negative effect; empty
        when the target was met).

    Examples
    --------
    >>> import pandas as pd
    >>> base = pd.DataFrame({"store_id": ["S1"], "traffic": [1000.0], "conversion": [0.2],
    ...                      "atv": [100.0], "sales": [20_000.0]})
    >>> t = set_targets(base, 22_000.0, allocation={"traffic": 0, "conversion": 1, "atv": 0})
    >>> now = pd.DataFrame({"store_id": ["S1"], "traffic": [1100.0], "conversion": [0.19],
    ...                     "atv": [100.0], "sales": [20_900.0]})
    >>> r = track_targets(now, t)
    >>> r[["achievement", "traffic_effect", "conversion_effect", "missed_lever"]].round(4)
       achievement  traffic_effect  conversion_effect missed_lever
    0         0.95          0.0953            -0.1466   conversion
    """
    now = _check_funnel(actual, "actual")
    require_dataframe(targets, "targets")
    require_columns(targets, ["store_id", "sales_target", *[f"{lever}_target" for lever in LEVERS]], "targets")
    merged = now.merge(targets, on="store_id", how="left", validate="one_to_one")
    missing = merged["sales_target"].isna()
    if missing.any():
        stores = ", ".join(map(str, merged.loc[missing, "store_id"].head(5)))
        raise WorkbookInputError(
            f"targets has no target for stores {stores}.",
            message_zh=f"targets 里没有这些门店的目标：{stores}。",
        )
    out = pd.DataFrame({"store_id": merged["store_id"], "sales_actual": merged["sales"].astype(float),
                        "sales_target": merged["sales_target"]})
    out["achievement"] = out["sales_actual"] / out["sales_target"]
    effects = []
    for lever in LEVERS:
        out[f"{lever}_actual"] = merged[lever].astype(float)
        out[f"{lever}_target"] = merged[f"{lever}_target"]
        out[f"{lever}_achievement"] = out[f"{lever}_actual"] / out[f"{lever}_target"]
        out[f"{lever}_effect"] = np.log(out[f"{lever}_achievement"])
        effects.append(f"{lever}_effect")
    out["log_shortfall"] = out[effects].sum(axis=1)
    worst = out[effects].idxmin(axis=1).str.removesuffix("_effect")
    met = out["log_shortfall"] >= 0
    out["missed_lever"] = worst.where(~met, "")
    return out
