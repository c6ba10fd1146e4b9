"""Per-member aggregation: the one step that touches every transaction.

RFM, lifecycle stages, cohorts and CLV all start from the small tables built
here, so each metric is defined exactly once:

``member_summary`` (one row per member who bought before the analysis date)
    ``first_purchase``, ``last_purchase``, ``prev_purchase`` (the purchase
    before the last one, ``NaT`` for one-time buyers), ``n_purchases`` (purchase
    transactions), ``n_purchase_days`` (distinct calendar days with a purchase),
    ``n_returns``, ``n_purchases_window`` (purchases in the ``window_days``
    before the analysis date), ``monetary_total`` (net spend: purchases minus
    returns), ``monetary_avg`` (``monetary_total / n_purchases``),
    ``recency_days``, ``tenure_days``.

``member_period_activity`` (one row per member and calendar period with a purchase)
    ``period`` (start of the month or week), ``n_purchases``, ``amount``.

Definitions
-----------
* A *purchase* is a transaction that is not a return.  Returns are rows whose
  ``is_return`` column is true, or, without that column, rows with a negative
  amount.  Walk-in sales with no member id are left out.
* Transactions at or after the analysis date are left out (they are in the
  future from the analysis date's point of view).
* ``recency_days`` is the number of *whole elapsed days* between the last
  purchase and the analysis date: ``floor((analysis_date - last_purchase) / 1 day)``.
  ``tenure_days`` is the same for the first purchase.  (DuckDB's ``date_diff('day', ...)``
  counts midnights crossed instead; the other engines reproduce this definition.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.validation import (
    check_in_choices,
    require_columns,
    require_dataframe,
    require_datetime,
    require_numeric,
    resolve_analysis_date,
)

SUMMARY_COLUMNS = [
    "first_purchase",
    "last_purchase",
    "prev_purchase",
    "n_purchases",
    "n_purchase_days",
    "n_returns",
    "n_purchases_window",
    "monetary_total",
    "monetary_avg",
    "recency_days",
    "tenure_days",
]

_DAY = np.timedelta64(1, "D")


def _prepare(
    transactions: pd.DataFrame,
    member_col: str,
    time_col: str,
    amount_col: str,
    return_col: str | None,
    analysis_date: object | None,
) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Validate, drop walk-ins and future rows; return (frame, analysis date)."""
    require_dataframe(transactions, "transactions")
    require_columns(transactions, [member_col, time_col, amount_col], "transactions")
    require_datetime(transactions, time_col, "transactions")
    require_numeric(transactions, amount_col, "transactions")
    date = resolve_analysis_date(transactions[time_col], analysis_date)
    cols = [member_col, time_col, amount_col]
    has_return_col = return_col is not None and return_col in transactions.columns
    if has_return_col:
        cols.append(return_col)
    tx = transactions.loc[
        transactions[member_col].notna() & (transactions[time_col] < date), cols
    ]
    is_return = (
        tx[return_col].fillna(False).astype(bool).to_numpy()
        if has_return_col
        else (tx[amount_col] < 0).to_numpy()
    )
    tx = pd.DataFrame(
        {
            "member_id": tx[member_col].to_numpy(),
            "ts": tx[time_col].to_numpy(),
            "amount": tx[amount_col].to_numpy(dtype="float64"),
            "is_return": is_return,
        }
    )
    return tx, date


def _whole_days(delta: pd.Series) -> pd.Series:
    """Whole elapsed days of a timedelta Series (floor), as int64."""
    return (delta // pd.Timedelta(days=1)).astype("int64")


def member_summary(
    transactions: pd.DataFrame,
    analysis_date: object | None = None,
    *,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    window_days: int = 365,
    engine: str = "pandas",
) -> pd.DataFrame:
    """One row per member with the purchase facts every analysis needs.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions, one row per receipt.  Not modified.
    analysis_date : date-like, optional
        The "today" of the analysis.  Defaults to midnight after the last
        transaction day.  Transactions at or after it are ignored.
    member_col, time_col, amount_col, return_col : str
        Column names.  ``return_col`` may be absent from the frame; negative
        amounts are then returns.
    window_days : int, default 365
        Length of the trailing window for ``n_purchases_window``.
    engine : {"pandas"}
        Computation engine.

    Returns
    -------
    DataFrame
        Indexed by member id (index name ``member_id``), columns
        :data:`SUMMARY_COLUMNS`, sorted by member id.  Only members with at
        least one purchase before the analysis date appear.  The analysis date
        used is stored in ``result.attrs["analysis_date"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> s = member_summary(tx, analysis_date="2024-01-11")
    >>> s[["n_purchases", "monetary_total", "recency_days"]]
               n_purchases  monetary_total  recency_days
    member_id
    a                    2            30.0             1
    b                    1             5.0             6
    """
    check_in_choices(engine, ["pandas"], "engine")
    if window_days <= 0:
        raise ValueError(f"window_days must be positive, got {window_days}.")
    tx, date = _prepare(transactions, member_col, time_col, amount_col, return_col, analysis_date)
    buys = tx.loc[~tx["is_return"]].sort_values(["member_id", "ts"], kind="stable")
    # Members whose only rows are returns have no purchase to measure from.
    tx = tx.loc[tx["member_id"].isin(buys["member_id"])]
    net = tx.groupby("member_id", sort=True)["amount"].sum()
    returns = tx.groupby("member_id", sort=True)["is_return"].sum()

    g = buys.groupby("member_id", sort=True)["ts"]
    window_start = date - pd.Timedelta(days=window_days)
    out = pd.DataFrame(
        {
            "first_purchase": g.min(),
            "last_purchase": g.max(),
            "n_purchases": g.size(),
            "n_purchase_days": buys["ts"].dt.normalize().groupby(buys["member_id"], sort=True).nunique(),
        }
    )
    second_last = g.nth(-2)
    out["prev_purchase"] = pd.Series(
        second_last.to_numpy(), index=buys.loc[second_last.index, "member_id"].to_numpy()
    ).reindex(out.index)
    in_window = buys.loc[buys["ts"] >= window_start].groupby("member_id", sort=True).size()
    out["n_purchases_window"] = in_window.reindex(out.index, fill_value=0).astype("int64")
    out["n_returns"] = returns.astype("int64")
    out["monetary_total"] = net.astype("float64")
    out["monetary_avg"] = out["monetary_total"] / out["n_purchases"]
    out["recency_days"] = _whole_days(date - out["last_purchase"])
    out["tenure_days"] = _whole_days(date - out["first_purchase"])
    out.index.name = "member_id"
    out.attrs["analysis_date"] = date
    return out[SUMMARY_COLUMNS]


_PERIOD_FREQ = {"M": "M", "month": "M", "W": "W-SUN", "week": "W-SUN"}


def member_period_activity(
    transactions: pd.DataFrame,
    analysis_date: object | None = None,
    *,
    freq: str = "M",
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    engine: str = "pandas",
) -> pd.DataFrame:
    """Purchases and net spend per member and calendar period.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    analysis_date : date-like, optional
        Transactions at or after it are ignored (default: midnight after the
        last transaction day).
    freq : {"M", "W"}
        Calendar months or weeks (Monday to Sunday).
    engine : {"pandas"}
        Computation engine.

    Returns
    -------
    DataFrame
        Columns ``member_id``, ``period`` (Timestamp of the period's first
        day), ``n_purchases`` (purchase transactions, returns excluded) and
        ``amount`` (net spend, returns subtracted), sorted by member and period.
        Only periods in which the member bought or returned something appear.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "a"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-03-02"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> member_period_activity(tx)
      member_id     period  n_purchases  amount
    0         a 2024-01-01            2    30.0
    1         a 2024-03-01            1     5.0
    """
    check_in_choices(engine, ["pandas"], "engine")
    check_in_choices(freq, list(_PERIOD_FREQ), "freq")
    tx, _ = _prepare(transactions, member_col, time_col, amount_col, return_col, analysis_date)
    period = tx["ts"].dt.to_period(_PERIOD_FREQ[freq]).dt.start_time
    out = (
        tx.assign(period=period, is_buy=~tx["is_return"])
        .groupby(["member_id", "period"], sort=True)
        .agg(n_purchases=("is_buy", "sum"), amount=("amount", "sum"))
        .reset_index()
    )
    out["n_purchases"] = out["n_purchases"].astype("int64")
    return out
