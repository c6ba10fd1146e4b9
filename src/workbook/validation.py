"""Validation of inputs at the package boundary.

Public functions call these once on the data they receive; internal helpers
then trust their inputs (the scikit-learn convention).  Messages name the
column, the first offending rows and how many rows are affected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError

#: How many offending row labels an error message lists before "...".
MAX_ROWS_IN_MESSAGE = 5


def format_rows(index: Iterable) -> str:
    """Return ``"rows 3, 7, 9 (3 in total)"`` for an iterable of row labels."""
    labels = list(index)
    shown = ", ".join(str(label) for label in labels[:MAX_ROWS_IN_MESSAGE])
    more = ", ..." if len(labels) > MAX_ROWS_IN_MESSAGE else ""
    noun = "row" if len(labels) == 1 else "rows"
    return f"{noun} {shown}{more} ({len(labels)} in total)"


def require_dataframe(df: object, name: str = "data") -> pd.DataFrame:
    """Check that ``df`` is a non-empty DataFrame."""
    if df is None:
        raise WorkbookInputError(
            f"No {name} table was given (got None). In a notebook, set the matching "
            "parameter (e.g. MEMBERS_PATH for the members export) or pass it to "
            "`workbook run` (e.g. --members)."
        )
    if not isinstance(df, pd.DataFrame):
        raise WorkbookInputError(
            f"{name} must be a pandas DataFrame, got {type(df).__name__}."
        )
    if df.empty:
        raise WorkbookInputError(f"{name} is empty: there is nothing to analyse.")
    return df


def require_columns(df: pd.DataFrame, columns: Sequence[str], name: str = "data") -> None:
    """Raise if any of ``columns`` is missing, listing what the frame does have."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise WorkbookInputError(
            f"{name} is missing column(s) {missing}; it has {list(df.columns)}. "
            "Pass the right column names as arguments or rename the columns "
            "(see workbook.io for column mappings)."
        )


def require_numeric(df: pd.DataFrame, column: str, name: str = "data") -> None:
    """Raise if ``column`` is not numeric or holds missing/infinite values."""
    s = df[column]
    if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
        coerced = pd.to_numeric(s, errors="coerce")
        bad = s.index[coerced.isna() & s.notna()]
        detail = f"; non-numeric values at {format_rows(bad)}, e.g. {s.loc[bad[0]]!r}" if len(bad) else ""
        raise WorkbookInputError(
            f"Column {column!r} of {name} must be numeric, got dtype {s.dtype}{detail}."
        )
    values = s.to_numpy(dtype="float64", na_value=np.nan)
    bad_mask = ~np.isfinite(values)
    if bad_mask.any():
        raise WorkbookInputError(
            f"Column {column!r} of {name} has missing or infinite values at "
            f"{format_rows(s.index[bad_mask])}."
        )


def require_datetime(df: pd.DataFrame, column: str, name: str = "data") -> None:
    """Raise if ``column`` is not a datetime column without missing values."""
    s = df[column]
    if not pd.api.types.is_datetime64_any_dtype(s):
        raise WorkbookInputError(
            f"Column {column!r} of {name} must hold dates (datetime64), got dtype "
            f"{s.dtype}. Parse it first, e.g. with workbook.io.load_transactions or "
            f"pd.to_datetime(df[{column!r}], format=...)."
        )
    if s.isna().any():
        raise WorkbookInputError(
            f"Column {column!r} of {name} has missing dates at {format_rows(s.index[s.isna()])}."
        )


def require_no_missing(df: pd.DataFrame, column: str, name: str = "data") -> None:
    """Raise if ``column`` has missing values."""
    mask = df[column].isna()
    if mask.any():
        raise WorkbookInputError(
            f"Column {column!r} of {name} has missing values at {format_rows(df.index[mask])}."
        )


def parse_date(value: object, name: str) -> pd.Timestamp:
    """Return ``value`` as a Timestamp, or raise naming the argument."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise WorkbookInputError(f"{name}={value!r} is not a date.") from exc
    if pd.isna(ts):
        raise WorkbookInputError(f"{name}={value!r} is not a date.")
    return ts


@renamed_arguments(positional=("analysis_date", "name"))
def resolve_analysis_date(
    timestamps: pd.Series, *, analysis_date: object | None = None, name: str = "analysis_date"
) -> pd.Timestamp:
    """Return the analysis date as a Timestamp.

    The default is midnight after the last transaction day, so that a purchase
    on the last day has recency 0.  A date before the first transaction is an
    error: nothing would be observed.
    """
    first, last = timestamps.min(), timestamps.max()
    if analysis_date is None:
        return last.normalize() + pd.Timedelta(days=1)
    ts = parse_date(analysis_date, name)
    if ts.tzinfo is None and getattr(timestamps.dt, "tz", None) is not None:
        ts = ts.tz_localize(timestamps.dt.tz)
    if ts < first:
        raise WorkbookInputError(
            f"{name} {ts} is before the first transaction ({first}); "
            "choose a date inside or after the data period."
        )
    return ts


def require_whole(
    value: object, name: str, minimum: int = 1, *, unit: str = "", allow_none: bool = False
) -> int | None:
    """Return ``value`` as an int if it is a whole number (not a bool) of at least ``minimum``.

    Examples
    --------
    >>> require_whole(90, "horizon_days", unit="days")
    90
    >>> require_whole(0, "horizon_days", unit="days")
    Traceback (most recent call last):
    ...
    workbook.errors.WorkbookInputError: horizon_days must be a positive whole number of days, got 0.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        what = "a positive whole number" if minimum == 1 else f"a whole number >= {minimum}"
        of = f" of {unit}" if unit else ""
        none = " or None" if allow_none else ""
        raise WorkbookInputError(f"{name} must be {what}{of}{none}, got {value!r}.")
    return int(value)


def require_choice(value: object, choices: Iterable, name: str) -> None:
    """Raise if ``value`` is not one of ``choices``.

    Examples
    --------
    >>> require_choice("M", ["M", "W"], "freq")
    >>> require_choice("Q", ["M", "W"], "freq")
    Traceback (most recent call last):
    ...
    workbook.errors.WorkbookInputError: freq='Q' is not valid; choose one of ['M', 'W'].
    """
    choices = list(choices)
    if value not in choices:
        raise WorkbookInputError(f"{name}={value!r} is not valid; choose one of {choices}.")


def require_fitted(model: object, attributes: str | Sequence[str] | None = None, hint: str = "") -> None:
    """Raise :class:`~workbook.errors.NotFittedError` if ``model`` is not fitted yet.

    The one not-fitted check of the package: scikit-learn's
    :func:`~sklearn.utils.validation.check_is_fitted` (fitted means the learned
    ``attributes``, by default any attribute ending in ``_``, exist), with a
    bilingual message.

    Examples
    --------
    >>> from workbook.rfm import RFMScorer
    >>> require_fitted(RFMScorer())
    Traceback (most recent call last):
    ...
    workbook.errors.NotFittedError: This RFMScorer is not fitted yet; call fit(...) first.
    """
    # imported here: scikit-learn takes 1 s to import, and the data generator (via parse_date) needs none of it
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils.validation import check_is_fitted

    from workbook.errors import NotFittedError

    try:
        check_is_fitted(model, attributes)
    except SklearnNotFittedError:
        name = type(model).__name__
        raise NotFittedError(
            f"This {name} is not fitted yet; call fit(...) first{hint}.",
            message_zh=f"{name} 还没有拟合：请先调用 fit(...)。",
        ) from None
