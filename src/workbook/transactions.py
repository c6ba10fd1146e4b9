"""The transaction contract: column names and the rules every analysis shares.

Every module that reads member transactions starts from :func:`purchases`, so
the rules below are written once:

* **walk-in rule**: a row without a member id is a non-member (walk-in) sale; it
  is left out of member metrics (store KPIs keep it with ``include_walk_ins``).
* **return rule**: a row is a return when its ``is_return`` column is true, or,
  when the data has no such column, when its amount is negative.
* **sign rule** (settled for every module, including :mod:`workbook.tiers`): a
  return always *reduces* spend.  Its amount counts as ``-abs(amount)``
  whichever sign the export used, which is also what :mod:`workbook.io` writes
  when it loads a user's file.  Net spend is the sum of these signed amounts.
* **analysis-date cut**: rows at or after the analysis date are ignored (they lie
  in the future of the analysis).  The default analysis date is midnight after
  the last transaction day.
* **member ids** arrive normalised from :mod:`workbook.io` (which applies
  :func:`workbook.ids.normalise_ids` when it loads a file) and are used as given;
  ``purchases(..., normalise_ids=True)`` applies the same normalisation to a frame
  that did not come through :mod:`workbook.io` (walk-in placeholders such as
  ``散客`` become walk-ins; ids that cannot be recovered exactly are refused).

The SQL engines (:mod:`workbook.sql`) apply the same rules in SQL text; the
engines agree exactly with :func:`purchases` (``tests/test_engines.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.ids import normalise_ids as normalise_id_column
from workbook.validation import (
    format_rows,
    require_columns,
    require_dataframe,
    require_datetime,
    require_numeric,
    resolve_analysis_date,
)

__all__ = [
    "DAY",
    "PERIOD_FREQ",
    "TransactionColumns",
    "column_values",
    "purchases",
    "return_flags",
    "signed_amounts",
    "whole_days",
]

#: One day, for timedelta arithmetic.
DAY = pd.Timedelta(days=1)

#: Calendar periods accepted by ``freq=`` arguments: pandas period codes
#: (weeks run Monday to Sunday).
PERIOD_FREQ = {"M": "M", "month": "M", "W": "W-SUN", "week": "W-SUN"}


def whole_days(delta: pd.Series) -> pd.Series:
    """Whole elapsed days of a timedelta Series (floor), as int64.

    Examples
    --------
    >>> import pandas as pd
    >>> whole_days(pd.Series(pd.to_timedelta(["1 days 23:59:00", "0 days 01:00:00"]))).tolist()
    [1, 0]
    """
    return (delta // DAY).astype("int64")


@dataclass(frozen=True)
class TransactionColumns:
    """Column names of the transactions table (the defaults of every function).

    Every analysis function takes these as ``*_col`` keyword arguments with the
    same defaults; this record names them in one place.

    Examples
    --------
    >>> cols = TransactionColumns(member_col="card_no")
    >>> cols.member_col, cols.amount_col, cols.return_col
    ('card_no', 'amount', 'is_return')
    """

    transaction_col: str = "transaction_id"
    member_col: str = "member_id"
    store_col: str = "store_id"
    time_col: str = "timestamp"
    amount_col: str = "amount"
    items_col: str = "items"
    discount_col: str = "discount"
    points_earned_col: str = "points_earned"
    points_redeemed_col: str = "points_redeemed"
    channel_col: str = "channel"
    return_col: str | None = "is_return"


def return_flags(
    transactions: pd.DataFrame,
    *,
    amount_col: str = TransactionColumns.amount_col,
    return_col: str | None = TransactionColumns.return_col,
) -> np.ndarray:
    """The return rule: the ``return_col`` flag when the data has it, else a negative amount.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"amount": [10.0, -3.0], "is_return": [False, None]})
    >>> return_flags(tx).tolist(), return_flags(tx.drop(columns="is_return")).tolist()
    ([False, False], [False, True])
    """
    if return_col is not None and return_col in transactions.columns:
        return transactions[return_col].fillna(False).astype(bool).to_numpy()
    return (transactions[amount_col] < 0).to_numpy()


def signed_amounts(amount: pd.Series | np.ndarray, is_return: np.ndarray) -> np.ndarray:
    """The sign rule: returns count as ``-abs(amount)``, purchases as given (float CNY).

    Examples
    --------
    >>> import numpy as np
    >>> signed_amounts(np.array([10.0, 4.0, -4.0]), np.array([False, True, True])).tolist()
    [10.0, -4.0, -4.0]
    """
    values = np.asarray(amount, dtype="float64")
    return np.where(is_return, -np.abs(values), values)


_COLUMNS = TransactionColumns()


def purchases(
    transactions: pd.DataFrame,
    *,
    analysis_date: object | None = None,
    member_col: str = _COLUMNS.member_col,
    time_col: str = _COLUMNS.time_col,
    amount_col: str | None = _COLUMNS.amount_col,
    return_col: str | None = _COLUMNS.return_col,
    include_returns: bool = False,
    include_walk_ins: bool = False,
    columns: Sequence[str] = (),
    numeric: Sequence[str] = (),
    normalise_ids: bool = False,
    name: str = "transactions",
) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Validated member purchases before the analysis date: the start of every analysis.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions (see CONTRIBUTING.md).  Not modified.
    analysis_date : date-like, optional
        Rows at or after it are left out.  Default: midnight after the last
        transaction day.
    member_col, time_col, amount_col, return_col : str
        Column names.  ``return_col`` may be absent from the data (negative
        amounts are then returns); ``amount_col=None`` for tables read without
        money (e.g. the points ledger, which then keeps every row).
    include_returns : bool, default False
        Keep return rows (flagged in ``is_return``, amount negative) so that
        net spend can be summed; otherwise only purchases are returned.
    include_walk_ins : bool, default False
        Keep rows without a member id (store-level measures).
    columns : sequence of str
        Further columns to carry, under their own names (must exist).
    numeric : sequence of str
        Further numeric columns to validate and carry as float64.
    normalise_ids : bool, default False
        Normalise the member ids with :func:`workbook.ids.normalise_ids` first.
        Not needed for data loaded with :mod:`workbook.io`, which already did.
    name : str
        Name of the table in error messages.

    Returns
    -------
    (DataFrame, Timestamp)
        The rows in input order with the input's index, columns ``member_id``,
        ``ts``, ``amount`` (float CNY, returns negative), ``is_return`` (bool)
        and the extra columns; and the analysis date used.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", None, "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-02-01"]),
    ...     "amount": [10.0, 7.0, 4.0, 5.0],
    ...     "is_return": [False, False, True, False]})
    >>> rows, date = purchases(tx, analysis_date="2024-01-31", include_returns=True)
    >>> rows  # doctest: +NORMALIZE_WHITESPACE
      member_id         ts  amount  is_return
    0         a 2024-01-01    10.0      False
    2         a 2024-01-03    -4.0       True
    >>> purchases(tx)[0]["amount"].tolist(), str(purchases(tx)[1])
    ([10.0, 5.0], '2024-02-02 00:00:00')
    """
    require_dataframe(transactions, name)
    base = [member_col, time_col] + ([amount_col] if amount_col is not None else [])
    extra = [c for c in [*columns, *numeric] if c not in base]
    require_columns(transactions, [*base, *extra], name)
    require_datetime(transactions, time_col, name)
    for col in [*base[2:], *numeric]:
        require_numeric(transactions, col, name)
    date = resolve_analysis_date(transactions[time_col], analysis_date=analysis_date)
    members = transactions[member_col]
    if normalise_ids:
        members, reasons, _ = normalise_id_column(members)
        refused = reasons.notna().to_numpy()
        if refused.any():
            raise WorkbookInputError(
                f"Column {member_col!r} of {name} has ids that cannot be recovered exactly at "
                f"{format_rows(transactions.index[refused])}: {reasons[refused].iloc[0]}",
                message_zh=f"{name} 的 {member_col!r} 列有无法准确恢复的会员编号"
                f"（{int(refused.sum())} 行），请把该列设为文本格式后重新导出。",
            )
    keep = (transactions[time_col] < date).to_numpy(dtype=bool, copy=True)
    if not include_walk_ins:
        keep &= members.notna().to_numpy()
    if amount_col is None:
        is_return = np.zeros(len(transactions), dtype=bool)
        amount = np.full(len(transactions), np.nan)
    else:
        is_return = return_flags(transactions, amount_col=amount_col, return_col=return_col)
        amount = signed_amounts(transactions[amount_col], is_return)
        if not include_returns:
            keep &= ~is_return
    out = pd.DataFrame(
        {
            "member_id": _kept(members, keep),
            "ts": transactions[time_col].to_numpy()[keep],
            "amount": amount[keep],
            "is_return": is_return[keep],
        },
        index=transactions.index[keep],
    )
    if amount_col is None:
        out = out.drop(columns=["amount", "is_return"])
    for col in extra:
        values = transactions[col]
        out[col] = values.to_numpy(dtype="float64")[keep] if col in numeric else _kept(values, keep)
    return out, date


def column_values(values: pd.Series):
    """A column's values to build a new DataFrame, Series or Index from (no index alignment).

    Text of the dtype pandas gives text (Arrow-backed ``str``) stays in Arrow: ``to_numpy()``
    made a NumPy array of Python strings that the new frame then converted back to ``str``,
    ~50 ms per column of the default data (176k rows) for the same dtype and values.  Other
    columns: ``to_numpy()``, as before.
    """
    return values.array if values.dtype == _TEXT_DTYPE else values.to_numpy()


def _kept(values: pd.Series, keep: np.ndarray):
    """The rows of ``values`` where ``keep`` is true (text filtered in Arrow, see :func:`column_values`)."""
    return column_values(values)[keep]


_TEXT_DTYPE = pd.Series(["text"]).dtype  # what a DataFrame makes of an array of Python strings
