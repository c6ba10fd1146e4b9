"""The points ledger: points earned, redeemed, expired and outstanding per member.

Split out of :mod:`workbook.tiers` (tier design) because the ledger is its own
concept: it reads only the points columns of the transactions, with the walk-in
rule and analysis-date cut of :mod:`workbook.transactions`.  Returns keep their
(negative) ``points_earned``: a clawback reduces the month's earnings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.transactions import purchases
from workbook.validation import format_rows, require_whole

__all__ = ["points_ledger"]


def points_ledger(
    transactions: pd.DataFrame,
    *,
    expiry_months: int = 24,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    earned_col: str = "points_earned",
    redeemed_col: str = "points_redeemed",
    point_value_yuan: float = 0.01,
) -> pd.DataFrame:
    """Points earned, redeemed, expired and outstanding per member.

    Points earned in a calendar month expire ``expiry_months`` months after the
    end of that month (at the start of month ``m + expiry_months + 1``).
    Redemptions use the oldest points first (FIFO), so the points expired up to
    the expiry of month ``k`` are ``max over j <= k of (earned in months <= j -
    redeemed before expiry of j)``, floored at 0.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions with points columns.  Not modified.
    expiry_months : int, default 24
        Months after the month of earning before points expire.
    analysis_date : date-like, optional
        Balance date (default: midnight after the last transaction day).
    earned_col, redeemed_col : str
        Points earned and redeemed per transaction (non-negative; negative
        earned points, e.g. clawed back on a return, reduce the month's earnings).
    point_value_yuan : float
        CNY value of one point, for ``balance_value``.

    Returns
    -------
    DataFrame
        Indexed by member id: ``earned``, ``redeemed``, ``expired``,
        ``balance`` (earned - redeemed - expired; negative when members redeem
        points earned before the data starts), ``expiring_next_month``
        (balance that expires within a month of the analysis date) and
        ``balance_value`` (balance * point_value_yuan, CNY).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "a"],
    ...     "timestamp": pd.to_datetime(["2023-01-10", "2023-06-01", "2024-03-01"]),
    ...     "points_earned": [100, 50, 0], "points_redeemed": [0, 30, 0]})
    >>> led = points_ledger(tx, expiry_months=12, analysis_date="2024-07-01")
    >>> led[["earned", "redeemed", "expired", "balance"]]  # doctest: +NORMALIZE_WHITESPACE
               earned  redeemed  expired  balance
    member_id
    a           150.0      30.0    120.0      0.0
    """
    rows, date = purchases(transactions, analysis_date=analysis_date, member_col=member_col, time_col=time_col,
                           amount_col=None, numeric=[earned_col, redeemed_col])
    require_whole(expiry_months, "expiry_months", minimum=0)
    neg = transactions[redeemed_col] < 0
    if neg.any():
        raise WorkbookInputError(
            f"Column {redeemed_col!r} of transactions has negative redeemed points at "
            f"{format_rows(transactions.index[neg])}."
        )
    tx = pd.DataFrame(
        {
            "member_id": rows["member_id"].to_numpy(),
            "ts": rows["ts"].to_numpy(),
            "earned": rows[earned_col].to_numpy(dtype="float64"),
            "redeemed": rows[redeemed_col].to_numpy(dtype="float64"),
        }
    )
    members = pd.Index(np.sort(tx["member_id"].unique()), name="member_id")
    month = tx["ts"].dt.to_period("M")
    earn = (
        tx.assign(month=month).groupby(["member_id", "month"], sort=True)["earned"].sum().reset_index()
    )
    earn = earn.loc[earn["earned"] != 0].copy()
    earn["cum_earned"] = earn.groupby("member_id")["earned"].cumsum()
    earn["expires"] = (earn["month"] + expiry_months + 1).dt.start_time
    # Cumulative redemptions strictly before each expiry moment, per member.
    red = tx.loc[tx["redeemed"] > 0, ["member_id", "ts", "redeemed"]].sort_values("ts", kind="stable")
    red["cum_redeemed"] = red.groupby("member_id")["redeemed"].cumsum()
    probe = earn.sort_values("expires", kind="stable")
    probe = pd.merge_asof(
        probe,
        red[["member_id", "ts", "cum_redeemed"]].rename(columns={"ts": "expires"}),
        on="expires",
        by="member_id",
        allow_exact_matches=False,
    )
    probe["cum_redeemed"] = probe["cum_redeemed"].fillna(0.0)
    probe = probe.sort_values(["member_id", "month"], kind="stable")
    probe["candidate"] = (probe["cum_earned"] - probe["cum_redeemed"]).clip(lower=0)
    probe["expired_cum"] = probe.groupby("member_id")["candidate"].cummax()
    next_month = date + pd.DateOffset(months=1)
    done = probe.loc[probe["expires"] <= date].groupby("member_id")["expired_cum"].max()
    soon = probe.loc[probe["expires"] <= next_month].groupby("member_id")["expired_cum"].max()
    out = pd.DataFrame(index=members)
    out["earned"] = tx.groupby("member_id")["earned"].sum().reindex(members).astype("float64")
    out["redeemed"] = tx.groupby("member_id")["redeemed"].sum().reindex(members).astype("float64")
    out["expired"] = done.reindex(members, fill_value=0.0).astype("float64")
    out["balance"] = out["earned"] - out["redeemed"] - out["expired"]
    out["expiring_next_month"] = soon.reindex(members, fill_value=0.0).astype("float64") - out["expired"]
    out["balance_value"] = out["balance"] * point_value_yuan
    out.attrs["analysis_date"] = date
    return out
