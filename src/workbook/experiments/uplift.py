"""Uplift by segment and the money view of a campaign (incremental revenue vs. cost).

*Uplift* is the treatment rate minus the control rate: the conversions the
campaign caused, not the ones it merely coincided with.  Looking at it per
segment shows where a campaign works; because that is several tests at once,
the table also carries Holm-adjusted p-values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.experiments._validation import (
    binary_outcome,
    frame_with,
    min_size,
    numeric_values,
    require_positive,
    require_probability,
    require_two_arms,
)
from workbook.experiments.tests import PROPORTION_METHODS, mean_test, proportion_stats
from workbook.validation import require_no_missing

#: Label of the all-segments row in :func:`uplift_by_segment`.
TOTAL_LABEL = "All"


def uplift_by_segment(
    df: pd.DataFrame,
    segment_col: str = "segment",
    group_col: str = "arm",
    outcome_col: str = "converted",
    *,
    control: object = "control",
    treatment: object = "treatment",
    alpha: float = 0.05,
    method: str = "score",
    total: bool = True,
) -> pd.DataFrame:
    """Conversion rates, uplift and its confidence interval per segment.

    Parameters
    ----------
    df : DataFrame
        One row per member.  Not modified.
    segment_col, group_col, outcome_col : str
        Segment (e.g. RFM segment, lifecycle stage), arm and 0/1 outcome.
    control, treatment : default "control", "treatment"
    alpha : float, default 0.05
        Level of the two-sided intervals is ``1 - alpha``.
    method : {"score", "wald", "agresti-caffo"}
        As in :func:`workbook.experiments.proportion_test`.
    total : bool, default True
        Append a row ``"All"`` for the whole experiment.

    Returns
    -------
    DataFrame
        Indexed by segment (in sorted order), columns ``n_control``,
        ``n_treatment``, ``rate_control``, ``rate_treatment``, ``uplift``
        (absolute, treatment - control), ``ci_low``, ``ci_high``, ``p_value``
        and ``p_value_holm`` (Holm correction across the segments, NaN on the
        total row).  Segments where an arm is empty or nobody/everybody
        converted have NaN intervals and p-values.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "segment": ["A"] * 40 + ["B"] * 40,
    ...     "arm": (["control"] * 20 + ["treatment"] * 20) * 2,
    ...     "converted": [1] * 2 + [0] * 18 + [1] * 8 + [0] * 12
    ...                  + [1] * 5 + [0] * 15 + [1] * 5 + [0] * 15})
    >>> t = uplift_by_segment(df)
    >>> t[["rate_control", "rate_treatment", "uplift"]]  # doctest: +NORMALIZE_WHITESPACE
             rate_control  rate_treatment  uplift
    segment
    A               0.100           0.400    0.30
    B               0.250           0.250    0.00
    All             0.175           0.325    0.15
    """
    frame = frame_with(df, [segment_col, group_col, outcome_col])
    alpha = require_probability(alpha, "alpha")
    if method not in PROPORTION_METHODS:
        raise WorkbookInputError(
            f"method={method!r} is not valid; choose one of {list(PROPORTION_METHODS)}."
        )
    require_no_missing(frame, segment_col)
    is_c, is_t = require_two_arms(frame, group_col, control, treatment)
    y = binary_outcome(frame, outcome_col)
    seg = frame[segment_col].to_numpy()
    arm = np.where(is_t, "t", "c")
    counts = (
        pd.DataFrame({"seg": seg, "arm": arm, "y": y})
        .groupby(["seg", "arm"], sort=True)["y"]
        .agg(["size", "sum"])
        .unstack("arm", fill_value=0)
    )
    n = counts["size"].reindex(columns=["c", "t"], fill_value=0)
    x = counts["sum"].reindex(columns=["c", "t"], fill_value=0)
    table = pd.DataFrame(
        {"n_control": n["c"], "n_treatment": n["t"], "x_c": x["c"], "x_t": x["t"]}
    )
    if total:
        table.loc[TOTAL_LABEL] = table.sum()
    table = table.astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        table["rate_control"] = table["x_c"] / table["n_control"].where(table["n_control"] > 0)
        table["rate_treatment"] = table["x_t"] / table["n_treatment"].where(table["n_treatment"] > 0)
    table["uplift"] = table["rate_treatment"] - table["rate_control"]
    # One statsmodels call per segment: segments are few, rows are never looped over.
    stats = []
    for nc, nt, xc, xt in table[["n_control", "n_treatment", "x_c", "x_t"]].itertuples(index=False):
        if nc == 0 or nt == 0 or xc + xt in (0, nc + nt):
            stats.append((np.nan, np.nan, np.nan))
        else:
            r = proportion_stats(int(xt), int(nt), int(xc), int(nc), alpha, "two-sided", method)
            stats.append((r["ci_low"], r["ci_high"], r["p_value"]))
    table[["ci_low", "ci_high", "p_value"]] = np.array(stats, dtype="float64")
    seg_rows = table.index != TOTAL_LABEL if total else np.ones(len(table), dtype=bool)
    holm = np.full(len(table), np.nan)
    p = table["p_value"].to_numpy()
    ok = seg_rows & np.isfinite(p)
    if ok.any():
        holm[ok] = multipletests(p[ok], alpha=alpha, method="holm")[1]
    table["p_value_holm"] = holm
    table.index.name = segment_col
    return table.drop(columns=["x_c", "x_t"])


@renamed_arguments(spend_col="amount_col", margin="margin_rate")
def campaign_roi(
    df: pd.DataFrame,
    group_col: str = "arm",
    outcome_col: str = "converted",
    amount_col: str = "spend",
    *,
    coupon_cost: float,
    margin_rate: float,
    control: object = "control",
    treatment: object = "treatment",
    redeemed_col: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Incremental revenue and profit of a campaign against the cost of the coupons.

    The control arm tells what the treated members would have spent anyway,
    so the incremental revenue is ``(mean spend treatment - mean spend
    control) * n_treatment``.  Coupons are paid for every redemption in the
    treatment arm, *including* members who would have bought anyway — that is
    why a campaign with a high redemption rate can still lose money.

    Parameters
    ----------
    df : DataFrame
        One row per member with arm, 0/1 outcome and spend in the campaign
        window (0 for members who did not buy).  Not modified.
    group_col, outcome_col, amount_col : str
    coupon_cost : float
        Cost per redeemed coupon in CNY.  If ``amount_col`` is already net of
        the coupon discount (like the contract's ``amount``), give only the
        other costs here, or the discount is counted twice.
    margin_rate : float
        Gross margin rate on incremental revenue, in (0, 1], e.g. 0.4.
    control, treatment : default "control", "treatment"
    redeemed_col : str, optional
        0/1 column of coupon redemptions; default: ``outcome_col`` (a
        conversion in the treatment arm is a redemption).
    alpha : float, default 0.05
        The ``*_ci_low``/``*_ci_high`` columns are ``1 - alpha`` Welch intervals.

    Returns
    -------
    DataFrame
        One row: ``n_control``, ``n_treatment``, ``rate_control``,
        ``rate_treatment``, ``incremental_conversions``,
        ``redemptions_without_effect`` (``rate_control * n_treatment``, the
        redemptions by members who would have converted anyway),
        ``spend_per_member_control``, ``spend_per_member_treatment``,
        ``incremental_revenue`` (with CI), ``incremental_gross_profit``,
        ``coupons_redeemed``, ``coupon_cost_total``, ``net_profit`` (with
        CI), ``roi`` (net profit / coupon cost, with CI) and
        ``cost_per_incremental_conversion``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arm": ["control"] * 4 + ["treatment"] * 4,
    ...                    "converted": [0, 1, 0, 0, 1, 1, 0, 0],
    ...                    "spend": [0.0, 100.0, 0.0, 0.0, 120.0, 100.0, 0.0, 0.0]})
    >>> r = campaign_roi(df, coupon_cost=10, margin_rate=0.5)
    >>> r[["incremental_revenue", "coupon_cost_total", "net_profit", "roi"]].round(2)
       incremental_revenue  coupon_cost_total  net_profit  roi
    0                120.0               20.0        40.0  2.0
    """
    cols = [group_col, outcome_col, amount_col] + ([redeemed_col] if redeemed_col else [])
    frame = frame_with(df, cols)
    coupon_cost = float(coupon_cost)
    if not np.isfinite(coupon_cost) or coupon_cost < 0:
        raise WorkbookInputError(f"coupon_cost={coupon_cost!r} must be a non-negative amount in CNY.")
    margin_rate = require_positive(margin_rate, "margin_rate")
    if margin_rate > 1:
        raise WorkbookInputError(f"margin_rate={margin_rate!r} must be a share in (0, 1], e.g. 0.4 for 40%.")
    is_c, is_t = require_two_arms(frame, group_col, control, treatment)
    y = binary_outcome(frame, outcome_col)
    redeemed = binary_outcome(frame, redeemed_col) if redeemed_col else y
    numeric_values(frame, amount_col)
    n_c, n_t = int(is_c.sum()), int(is_t.sum())
    for a, nn in ((control, n_c), (treatment, n_t)):
        min_size(nn, 2, a)
    spend_test = mean_test(frame, group_col, amount_col, control=control, treatment=treatment, alpha=alpha)
    p_c, p_t = y[is_c].mean(), y[is_t].mean()
    inc_rev = spend_test.diff * n_t
    inc_rev_lo, inc_rev_hi = spend_test.ci_low * n_t, spend_test.ci_high * n_t
    coupons = float(redeemed[is_t].sum())
    cost = coupons * coupon_cost
    net = inc_rev * margin_rate - cost
    net_lo, net_hi = inc_rev_lo * margin_rate - cost, inc_rev_hi * margin_rate - cost
    inc_conv = (p_t - p_c) * n_t
    roi = net / cost if cost > 0 else np.nan
    row = {
        "n_control": n_c,
        "n_treatment": n_t,
        "rate_control": p_c,
        "rate_treatment": p_t,
        "incremental_conversions": inc_conv,
        "redemptions_without_effect": p_c * n_t,
        "spend_per_member_control": spend_test.mean_control,
        "spend_per_member_treatment": spend_test.mean_treatment,
        "incremental_revenue": inc_rev,
        "incremental_revenue_ci_low": inc_rev_lo,
        "incremental_revenue_ci_high": inc_rev_hi,
        "incremental_gross_profit": inc_rev * margin_rate,
        "coupons_redeemed": coupons,
        "coupon_cost_total": cost,
        "net_profit": net,
        "net_profit_ci_low": net_lo,
        "net_profit_ci_high": net_hi,
        "roi": roi,
        "roi_ci_low": net_lo / cost if cost > 0 else np.nan,
        "roi_ci_high": net_hi / cost if cost > 0 else np.nan,
        "cost_per_incremental_conversion": cost / inc_conv if inc_conv > 0 else np.nan,
    }
    return pd.DataFrame([row])
