"""Historical CLV (margin earned so far) and the simple margin/retention formula.

Historical CLV looks back: the gross margin each member has generated to date.  The
formula CLV looks forward with the textbook infinite-horizon model (Gupta and Lehmann
2003, "Customers as assets"): a member who yields margin ``m`` per period, stays each
period with probability ``r`` and whose future margin is discounted at rate ``d`` per
period is worth ``m r / (1 + d - r)`` from now on (margin at the end of each period,
the current period's margin already earned).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbook.aggregate import member_summary
from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError

HISTORICAL_COLUMNS = [
    "first_purchase",
    "tenure_days",
    "n_purchases",
    "net_revenue",
    "gross_margin",
    "gross_margin_per_year",
]


def _check_rate(value: float, name: str, low: float, high: float, high_open: bool) -> None:
    arr = np.asarray(value, dtype="float64")
    bad = ~np.isfinite(arr) | (arr < low) | ((arr >= high) if high_open else (arr > high))
    if bad.any():
        shown = arr[bad].ravel()[:5].tolist()
        bracket = ")" if high_open else "]"
        raise WorkbookInputError(
            f"{name} must lie in [{low}, {high}{bracket} (a fraction, e.g. 0.8 for 80%); "
            f"got {shown}."
        )


@renamed_arguments(positional=("analysis_date",))
def historical_clv(
    transactions: pd.DataFrame,
    margin_rate: float,
    *,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
) -> pd.DataFrame:
    """Gross margin each member has generated up to the analysis date.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    margin_rate : float
        Gross margin as a fraction of net revenue (e.g. 0.35 for 35%), in [0, 1].
    analysis_date : date-like, optional
        Default midnight after the last transaction day.
    member_col, time_col, amount_col, return_col : str
        Column names.

    Returns
    -------
    DataFrame
        Indexed by member id, columns ``first_purchase``, ``tenure_days``,
        ``n_purchases``, ``net_revenue`` (purchases minus returns), ``gross_margin``
        (``net_revenue * margin_rate``) and ``gross_margin_per_year`` (gross margin per
        365.25 days of tenure, tenure counted from the first purchase and at least one day),
        sorted by ``gross_margin`` descending.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-06-30", "2024-12-01"]),
    ...     "amount": [100.0, 300.0, 50.0]})
    >>> historical_clv(tx, margin_rate=0.3, analysis_date="2025-01-01")[
    ...     ["net_revenue", "gross_margin"]]  # doctest: +NORMALIZE_WHITESPACE
               net_revenue  gross_margin
    member_id
    a                400.0         120.0
    b                 50.0          15.0
    """
    _check_rate(margin_rate, "margin_rate", 0.0, 1.0, high_open=False)
    base = member_summary(
        transactions,
        analysis_date=analysis_date,
        member_col=member_col,
        time_col=time_col,
        amount_col=amount_col,
        return_col=return_col,
    )
    out = pd.DataFrame(index=base.index)
    out["first_purchase"] = base["first_purchase"]
    out["tenure_days"] = base["tenure_days"]
    out["n_purchases"] = base["n_purchases"]
    out["net_revenue"] = base["monetary_total"]
    out["gross_margin"] = base["monetary_total"] * float(margin_rate)
    out["gross_margin_per_year"] = out["gross_margin"] / np.maximum(base["tenure_days"], 1) * 365.25
    out = out.sort_values("gross_margin", ascending=False, kind="stable")
    out.attrs = dict(base.attrs)
    return out[HISTORICAL_COLUMNS]


def formula_clv(
    avg_margin_per_period: float | np.ndarray,
    retention_rate: float | np.ndarray,
    discount_rate: float | np.ndarray,
) -> float | np.ndarray:
    """Infinite-horizon CLV ``m r / (1 + d - r)`` of a member with constant margin and retention.

    The current period's margin is already earned; margin ``m`` arrives at the end of
    each later period if the member is still there (probability ``r`` per period), and
    is discounted by ``(1 + d)`` per period.  Use the same period (e.g. a year) for all
    three inputs.  Arguments broadcast like NumPy arrays.

    Parameters
    ----------
    avg_margin_per_period : float or array
        Average gross margin per member per period (currency).
    retention_rate : float or array
        Share of members still active one period later, in [0, 1).
    discount_rate : float or array
        Discount rate per period (cost of capital), >= 0.

    Returns
    -------
    float or ndarray
        CLV in the currency of ``avg_margin_per_period``.

    Examples
    --------
    >>> round(formula_clv(100.0, 0.8, 0.1), 2)
    266.67
    >>> formula_clv(100.0, [0.6, 0.7, 0.8], 0.1).round(1)
    array([120. , 175. , 266.7])
    """
    m = np.asarray(avg_margin_per_period, dtype="float64")
    if not np.isfinite(m).all():
        raise WorkbookInputError(
            f"avg_margin_per_period must be finite; got {m[~np.isfinite(m)].ravel()[:5].tolist()}."
        )
    _check_rate(retention_rate, "retention_rate", 0.0, 1.0, high_open=True)
    _check_rate(discount_rate, "discount_rate", 0.0, np.inf, high_open=True)
    r = np.asarray(retention_rate, dtype="float64")
    d = np.asarray(discount_rate, dtype="float64")
    value = m * r / (1.0 + d - r)
    return float(value) if value.ndim == 0 else value


def retention_improvement_table(
    avg_margin_per_period: float,
    retention_rate: float,
    discount_rate: float,
    improvements_pct_points: Sequence[float] = (0, 1, 2, 3, 5, 10),
) -> pd.DataFrame:
    """What a few points more retention are worth, by :func:`formula_clv`.

    Parameters
    ----------
    avg_margin_per_period, retention_rate, discount_rate : float
        As in :func:`formula_clv` (scalars).
    improvements_pct_points : sequence of float
        Retention improvements in percentage points (1 = from 70% to 71%).  Improvements
        that would reach 100% retention are left out.

    Returns
    -------
    DataFrame
        Columns ``improvement_pct_points``, ``retention_rate``, ``clv``, ``clv_gain``
        (vs. the current retention) and ``clv_gain_pct``.

    Examples
    --------
    >>> t = retention_improvement_table(100.0, 0.7, 0.1, [0, 5])
    >>> digits = {"retention_rate": 2, "clv": 1, "clv_gain_pct": 1}
    >>> t[["retention_rate", "clv", "clv_gain_pct"]].round(digits)  # doctest: +NORMALIZE_WHITESPACE
       retention_rate    clv  clv_gain_pct
    0            0.70  175.0           0.0
    1            0.75  214.3          22.4
    """
    for name, v in (
        ("avg_margin_per_period", avg_margin_per_period),
        ("retention_rate", retention_rate),
        ("discount_rate", discount_rate),
    ):
        if np.ndim(v) != 0:
            raise WorkbookInputError(f"{name} must be a single number here, got {v!r}.")
    base = formula_clv(avg_margin_per_period, retention_rate, discount_rate)
    points = np.asarray(improvements_pct_points, dtype="float64")
    rates = retention_rate + points / 100.0
    keep = (rates < 1.0) & (rates >= 0.0)
    points, rates = points[keep], rates[keep]
    clv = np.atleast_1d(formula_clv(avg_margin_per_period, rates, discount_rate))
    gain = clv - base
    return pd.DataFrame(
        {
            "improvement_pct_points": points,
            "retention_rate": rates,
            "clv": clv,
            "clv_gain": gain,
            "clv_gain_pct": 100.0 * gain / base if base != 0 else np.nan,
        }
    )
