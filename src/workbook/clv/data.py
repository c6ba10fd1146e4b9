"""Data preparation for predictive CLV: the BG/NBD summary and a calibration/holdout split.

The BG/NBD and Gamma-Gamma models work on one row per member with

``frequency``
    number of *repeat* purchases: distinct purchase days after the first purchase day
    (``n_purchase_days - 1`` of :func:`workbook.aggregate.member_summary`).  Several
    receipts on one day count as one purchase, as in Fader, Hardie and Lee (2005).
``recency``
    time from the first to the last purchase day, in ``time_unit`` (0 for one-time
    buyers).  Note: this is *not* the RFM recency (time since the last purchase).
``T``
    time from the first purchase day to the analysis date, in ``time_unit``.
``monetary_value``
    average spend per repeat purchase day (purchases only, returns excluded; the first
    purchase day is left out because its spend is often atypical); 0 when
    ``frequency`` is 0.

Times are measured on a daily grid: purchase timestamps are truncated to their day,
and ``T`` runs to the analysis date itself (by default midnight after the last
transaction day), so a member whose first purchase is on the last day has ``T`` of one
day.  (Hardie's CDNOW summary measures ``T`` to the *start* of the last day, i.e. one
day less.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.aggregate import member_summary
from workbook.clv._validation import require_time_unit
from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.transactions import purchases
from workbook.validation import resolve_analysis_date

SUMMARY_COLUMNS = ["frequency", "recency", "T", "monetary_value"]


def _daily_purchases(
    transactions: pd.DataFrame,
    analysis_date: object | None,
    member_col: str,
    time_col: str,
    amount_col: str,
    return_col: str | None,
) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Purchase spend per member and calendar day (returns, walk-ins, future rows dropped)."""
    buys, date = purchases(transactions, analysis_date=analysis_date, member_col=member_col, time_col=time_col,
                           amount_col=amount_col, return_col=return_col)
    daily = (
        buys.assign(day=buys["ts"].dt.normalize())
        .groupby(["member_id", "day"], sort=True)["amount"]
        .sum()
        .reset_index()
    )
    return daily, date


@renamed_arguments(positional=("analysis_date", "time_unit",))
def bgnbd_summary(
    transactions: pd.DataFrame,
    *,
    analysis_date: object | None = None,
    time_unit: str = "W",
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
) -> pd.DataFrame:
    """Frequency, recency, age and average repeat spend per member (BG/NBD input format).

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions (see the data contract).  Not modified.
    analysis_date : date-like, optional
        End of the observation period (exclusive); default midnight after the last
        transaction day.
    time_unit : {"W", "D"}, default "W"
        Unit of ``recency`` and ``T``: weeks or days.
    member_col, time_col, amount_col, return_col : str
        Column names.

    Returns
    -------
    DataFrame
        Indexed by member id, columns ``frequency`` (int), ``recency``, ``T``,
        ``monetary_value`` (see the module docstring for definitions).  ``attrs`` holds
        ``analysis_date`` and ``time_unit``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08 10:00", "2024-01-08 18:00",
    ...                                  "2024-01-15", "2024-01-10"], format="ISO8601"),
    ...     "amount": [50.0, 10.0, 20.0, 40.0, 5.0]})
    >>> bgnbd_summary(tx, analysis_date="2024-01-29", time_unit="W")  # doctest: +NORMALIZE_WHITESPACE
               frequency  recency         T  monetary_value
    member_id
    a                  2      2.0  4.000000            35.0
    b                  0      0.0  2.714286             0.0
    """
    unit_days = require_time_unit(time_unit)
    base = member_summary(
        transactions,
        analysis_date=analysis_date,
        member_col=member_col,
        time_col=time_col,
        amount_col=amount_col,
        return_col=return_col,
    )
    date = base.attrs["analysis_date"]
    unit = pd.Timedelta(days=unit_days)
    first_day = base["first_purchase"].dt.normalize()
    out = pd.DataFrame(index=base.index)
    out["frequency"] = (base["n_purchase_days"] - 1).astype("int64")
    out["recency"] = ((base["last_purchase"].dt.normalize() - first_day) / unit).astype("float64")
    out["T"] = ((date - first_day) / unit).astype("float64")

    daily, _ = _daily_purchases(transactions, date, member_col, time_col, amount_col, return_col)
    first = daily.groupby("member_id", sort=True)["day"].transform("min")
    repeat = daily.loc[daily["day"] > first]
    out["monetary_value"] = (
        repeat.groupby("member_id", sort=True)["amount"].mean().reindex(out.index, fill_value=0.0)
    )
    out.attrs = {"analysis_date": date, "time_unit": time_unit}
    return out[SUMMARY_COLUMNS]


def calibration_holdout_split(
    transactions: pd.DataFrame,
    calibration_end: object,
    holdout_end: object | None = None,
    time_unit: str = "W",
    *,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
) -> pd.DataFrame:
    """BG/NBD summary of a calibration period plus what each member did in the holdout period.

    Fit a model on the calibration columns, predict ``duration_holdout`` ahead and compare
    with ``frequency_holdout`` to check the model on data it has not seen.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    calibration_end : date-like
        End of the calibration period (exclusive) = start of the holdout period.
    holdout_end : date-like, optional
        End of the holdout period (exclusive); default midnight after the last
        transaction day.
    time_unit : {"W", "D"}, default "W"
        Unit of ``recency``, ``T`` and ``duration_holdout``.

    Returns
    -------
    DataFrame
        One row per member with a purchase in the calibration period (members first seen
        in the holdout period are left out), columns ``frequency``, ``recency``, ``T``,
        ``monetary_value`` (calibration period, see :func:`bgnbd_summary`),
        ``frequency_holdout`` (purchase days in the holdout period),
        ``monetary_value_holdout`` (average spend per holdout purchase day, 0 if none) and
        ``duration_holdout`` (length of the holdout period in ``time_unit``).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "a", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-02-05",
    ...                                  "2024-01-10", "2024-02-01"]),
    ...     "amount": [50.0, 10.0, 30.0, 5.0, 8.0]})
    >>> split = calibration_holdout_split(tx, "2024-01-29", "2024-02-26")
    >>> split[["frequency", "frequency_holdout", "duration_holdout"]]  # doctest: +NORMALIZE_WHITESPACE
               frequency  frequency_holdout  duration_holdout
    member_id
    a                  1                  1               4.0
    b                  0                  0               4.0
    """
    unit_days = require_time_unit(time_unit)
    calibration = bgnbd_summary(
        transactions,
        analysis_date=calibration_end,
        time_unit=time_unit,
        member_col=member_col,
        time_col=time_col,
        amount_col=amount_col,
        return_col=return_col,
    )
    cal_end = calibration.attrs["analysis_date"]
    end = resolve_analysis_date(transactions[time_col], analysis_date=holdout_end, name="holdout_end")
    if end <= cal_end:
        raise WorkbookInputError(
            f"holdout_end {end} must be after calibration_end {cal_end}: the holdout period "
            "would be empty."
        )
    daily, _ = _daily_purchases(transactions, end, member_col, time_col, amount_col, return_col)
    hold = daily.loc[daily["day"] >= cal_end].groupby("member_id", sort=True)["amount"]
    out = calibration.copy()
    out["frequency_holdout"] = hold.size().reindex(out.index, fill_value=0).astype("int64")
    out["monetary_value_holdout"] = hold.mean().reindex(out.index, fill_value=0.0).astype("float64")
    out["duration_holdout"] = np.float64((end - cal_end) / pd.Timedelta(days=unit_days))
    out.attrs = {
        "analysis_date": cal_end,
        "calibration_end": cal_end,
        "holdout_end": end,
        "time_unit": time_unit,
    }
    return out
