"""Validation shared by the CLV models (private)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.validation import format_rows, require_columns, require_dataframe, require_numeric

#: Time units understood by the CLV functions and their length in days.
TIME_UNIT_DAYS = {"D": 1.0, "W": 7.0}


def require_time_unit(time_unit: str) -> float:
    """Return the length of ``time_unit`` in days, raising on an unknown unit."""
    if time_unit not in TIME_UNIT_DAYS:
        raise WorkbookInputError(
            f"time_unit={time_unit!r} is not valid; choose one of {list(TIME_UNIT_DAYS)} "
            "(days or weeks)."
        )
    return TIME_UNIT_DAYS[time_unit]


def require_summary_time_unit(summary: pd.DataFrame, time_unit: str, name: str = "summary") -> None:
    """Raise if ``summary`` was built (by ``bgnbd_summary``) in another time unit."""
    built = summary.attrs.get("time_unit")
    if built is not None and built != time_unit:
        raise WorkbookInputError(
            f"{name} has recency and T in time unit {built!r} but the model uses "
            f"{time_unit!r}; rebuild the summary with time_unit={time_unit!r} or create the "
            f"model with time_unit={built!r}."
        )


def require_nonnegative(df: pd.DataFrame, column: str, name: str) -> None:
    """Raise if ``column`` has negative values."""
    bad = df.index[df[column].to_numpy(dtype="float64") < 0]
    if len(bad):
        raise WorkbookInputError(
            f"Column {column!r} of {name} must not be negative; negative values at "
            f"{format_rows(bad)}, e.g. {df.loc[bad[0], column]!r}."
        )


def rfm_arrays(
    summary: pd.DataFrame,
    frequency_col: str,
    recency_col: str,
    T_col: str,
    name: str = "summary",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a BG/NBD summary and return float arrays (x, t_x, T)."""
    require_dataframe(summary, name)
    require_columns(summary, [frequency_col, recency_col, T_col], name)
    for col in (frequency_col, recency_col, T_col):
        require_numeric(summary, col, name)
        require_nonnegative(summary, col, name)
    x = summary[frequency_col].to_numpy(dtype="float64")
    t_x = summary[recency_col].to_numpy(dtype="float64")
    T = summary[T_col].to_numpy(dtype="float64")
    not_int = x != np.round(x)
    if not_int.any():
        raise WorkbookInputError(
            f"Column {frequency_col!r} of {name} must hold whole numbers of repeat purchases; "
            f"fractional values at {format_rows(np.flatnonzero(not_int))} (positions counted from 0)."
        )
    # A tiny tolerance: recency and T are often rounded to 2 decimals (e.g. CDNOW).
    late = t_x > T + 1e-9
    if late.any():
        raise WorkbookInputError(
            f"Column {recency_col!r} (time from first to last purchase) exceeds {T_col!r} "
            f"(time from first purchase to the analysis date) at {format_rows(np.flatnonzero(late))} (positions counted from 0)."
        )
    inconsistent = (x == 0) & (t_x > 0)
    if inconsistent.any():
        raise WorkbookInputError(
            f"Members with {frequency_col!r} 0 (no repeat purchase) must have {recency_col!r} 0; "
            f"not so at {format_rows(np.flatnonzero(inconsistent))} (positions counted from 0)."
        )
    if (T <= 0).any():
        raise WorkbookInputError(
            f"Column {T_col!r} of {name} must be positive (time since the first purchase); "
            f"zero at {format_rows(np.flatnonzero(T <= 0))} (positions counted from 0)."
        )
    return x, t_x, T


def require_horizon(t: np.ndarray) -> None:
    """A forecast horizon ``t`` (scalar or array, in the model's time unit) must not be negative."""
    if np.any(t < 0):
        raise WorkbookInputError(f"The horizon t must not be negative, got {t}.",
                                 message_zh="预测期 t 不能为负数。")
