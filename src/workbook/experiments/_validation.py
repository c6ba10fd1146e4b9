"""Boundary checks shared by the experiment helpers (private).

They build on :mod:`workbook.validation` and add the checks specific to
experiments: a group column holding exactly the named arms, a 0/1 outcome,
probabilities and rates inside their ranges.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.validation import (
    format_rows,
    require_columns,
    require_dataframe,
    require_no_missing,
    require_numeric,
)

#: Alternatives understood by every test; "larger" means treatment > control.
ALTERNATIVES = ("two-sided", "larger", "smaller")


def require_alternative(alternative: str) -> None:
    """Raise unless ``alternative`` is one of :data:`ALTERNATIVES`."""
    if alternative not in ALTERNATIVES:
        raise WorkbookInputError(
            f"alternative={alternative!r} is not valid; choose one of {list(ALTERNATIVES)} "
            "('larger' means the treatment arm is expected to be higher than control)."
        )


def require_probability(value: object, name: str, *, open_interval: bool = True) -> float:
    """Return ``value`` as float, raising unless it lies in (0, 1) (or [0, 1])."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise WorkbookInputError(f"{name}={value!r} is not a number.") from exc
    ok = (0.0 < x < 1.0) if open_interval else (0.0 <= x <= 1.0)
    if not ok or not np.isfinite(x):
        bounds = "strictly between 0 and 1" if open_interval else "between 0 and 1"
        raise WorkbookInputError(
            f"{name}={value!r} must be {bounds} (a share such as 0.05 for 5%)."
        )
    return x


def require_positive(value: object, name: str) -> float:
    """Return ``value`` as float, raising unless it is finite and > 0."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise WorkbookInputError(f"{name}={value!r} is not a number.") from exc
    if not np.isfinite(x) or x <= 0:
        raise WorkbookInputError(f"{name}={value!r} must be a positive number.")
    return x


def require_two_arms(
    df: pd.DataFrame, group_col: str, control: object, treatment: object, name: str = "data"
) -> tuple[np.ndarray, np.ndarray]:
    """Check that ``group_col`` holds exactly ``control`` and ``treatment``.

    Returns boolean masks (control, treatment) as NumPy arrays.
    """
    if control == treatment:
        raise WorkbookInputError(
            f"control and treatment must be different arms, both are {control!r}."
        )
    require_no_missing(df, group_col, name)
    g = df[group_col]
    is_c = (g == control).to_numpy(dtype=bool)
    is_t = (g == treatment).to_numpy(dtype=bool)
    other = ~(is_c | is_t)
    if other.any():
        bad = df.index[other]
        values = sorted(map(str, pd.unique(g[other])))[:5]
        raise WorkbookInputError(
            f"Column {group_col!r} of {name} must contain only the arms {control!r} and "
            f"{treatment!r}; found other values {values} at {format_rows(bad)}. Filter the "
            "rows first or pass control=... and treatment=... with the arm names in your data."
        )
    for arm, mask in ((control, is_c), (treatment, is_t)):
        if not mask.any():
            raise WorkbookInputError(
                f"Column {group_col!r} of {name} has no rows for arm {arm!r}; "
                f"arms present: {sorted(map(str, pd.unique(g)))}."
            )
    return is_c, is_t


def binary_outcome(df: pd.DataFrame, outcome_col: str, name: str = "data") -> np.ndarray:
    """Return ``outcome_col`` as a float array of 0/1, raising on anything else."""
    require_no_missing(df, outcome_col, name)
    s = df[outcome_col]
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype="float64")
    if not pd.api.types.is_numeric_dtype(s):
        raise WorkbookInputError(
            f"Column {outcome_col!r} of {name} must be 0/1 or True/False (converted or not), "
            f"got dtype {s.dtype}, e.g. {s.iloc[0]!r} at row {s.index[0]}."
        )
    values = s.to_numpy(dtype="float64")
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        rows = df.index[bad]
        raise WorkbookInputError(
            f"Column {outcome_col!r} of {name} must be 0/1 or True/False; found "
            f"{s.loc[rows[0]]!r} at {format_rows(rows)}. For spend or other amounts "
            "use mean_test instead."
        )
    return values


def numeric_values(df: pd.DataFrame, column: str, name: str = "data") -> np.ndarray:
    """Return ``column`` as a float array, raising on non-numeric or missing values."""
    require_numeric(df, column, name)
    return df[column].to_numpy(dtype="float64")


def frame_with(df: object, columns: Sequence[str], name: str = "data") -> pd.DataFrame:
    """``require_dataframe`` + ``require_columns`` in one call."""
    frame = require_dataframe(df, name)
    require_columns(frame, list(columns), name)
    return frame


def min_size(n: int, minimum: int, arm: object, name: str = "data") -> None:
    """Raise if an arm has fewer than ``minimum`` observations."""
    if n < minimum:
        raise WorkbookInputError(
            f"Arm {arm!r} of {name} has {n} observation(s); at least {minimum} are needed "
            "for this test."
        )
