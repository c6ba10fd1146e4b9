"""Problem reports, cleaning notes, the error and warning types and the load result."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.validation import format_rows

#: Columns of every problem report.
REPORT_COLUMNS = ["check", "column", "row", "value", "reason"]


class DataQualityWarning(UserWarning):
    """Rows were dropped (``errors="drop"``); the message says how many and why."""


class DataValidationError(WorkbookInputError):
    """Problems found in a file or frame.

    Attributes
    ----------
    report : DataFrame
        One row per problem: ``check``, ``column``, ``row``, ``value``, ``reason``.
    rejected : DataFrame
        The rows at fault as read (canonical column names, raw text values),
        indexed by row number, with a ``reasons`` column.
    """

    def __init__(self, message: str, report: pd.DataFrame, rejected: pd.DataFrame | None = None):
        super().__init__(message)
        self.report = report
        self.rejected = rejected if rejected is not None else pd.DataFrame()


class LoadResult(NamedTuple):
    """What :func:`load_transactions` / :func:`load_members` return with ``return_report=True``.

    Unpack it: ``df, report, rejected, cleaning = load_transactions(..., return_report=True)``.

    Attributes
    ----------
    data : DataFrame
        The clean frame in the canonical schema.
    report : DataFrame
        One row per problem (``check``, ``column``, ``row``, ``value``, ``reason``);
        empty when the file is clean.
    rejected : DataFrame
        Rows removed with ``errors="drop"``, as read, indexed by row number,
        with a ``reasons`` column.
    cleaning : DataFrame
        What was cleaned or inferred: ``column``, ``action``, ``count``, ``example``.
    """

    data: pd.DataFrame
    report: pd.DataFrame
    rejected: pd.DataFrame
    cleaning: pd.DataFrame

    def write_report(self, path: str | Path) -> Path:
        """Write the rejected rows with their reasons to a CSV file Excel can open.

        The file is UTF-8 with a BOM so Excel shows Chinese text correctly.  It
        contains the rejected rows' raw values: keep it out of git.
        """
        path = Path(path)
        self.rejected.to_csv(path, encoding="utf-8-sig", index_label="row")
        return path



def note(notes: list, column: str, action: str, count: int, example: str = "") -> None:
    notes.append({"column": column, "action": action, "count": int(count), "example": example})





Problems = list  # of DataFrames with REPORT_COLUMNS


def add_problem(problems: Problems, check: str, column: str, rows, values, reasons) -> None:
    rows = np.asarray(rows)
    if len(rows) == 0:
        return
    values = pd.Series(values).astype(object).to_numpy()
    reasons = np.broadcast_to(np.asarray(reasons, dtype=object), rows.shape)
    problems.append(
        pd.DataFrame({"check": check, "column": column, "row": rows, "value": values,
                      "reason": reasons})
    )



def finish_report(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=REPORT_COLUMNS)
    report = pd.concat(parts, ignore_index=True)[REPORT_COLUMNS]
    # A value that could not be parsed is also missing afterwards: keep the first (parse) reason.
    report = report.loc[~(report.duplicated(["column", "row"]) & report["row"].notna()
                          & report["check"].eq("missing_value"))]
    return report.reset_index(drop=True)


def report_summary(report: pd.DataFrame) -> pd.DataFrame:
    """One line per check and column: how many rows, the first few, an example.

    Parameters
    ----------
    report : DataFrame
        A problem report (``check``, ``column``, ``row``, ``value``, ``reason``).

    Returns
    -------
    DataFrame
        Columns ``check``, ``column``, ``count``, ``rows`` (text listing the
        first rows), ``example`` (the first reason).

    Examples
    --------
    >>> import pandas as pd
    >>> rep = pd.DataFrame({"check": ["not_a_number"] * 2, "column": ["amount"] * 2,
    ...                     "row": [3, 7], "value": ["abc", "?"],
    ...                     "reason": ["'abc' is not a number", "'?' is not a number"]})
    >>> report_summary(rep).loc[0, "rows"]
    'rows 3, 7 (2 in total)'
    """
    if report.empty:
        return pd.DataFrame(columns=["check", "column", "count", "rows", "example"])
    g = report.groupby(["check", "column"], sort=False, dropna=False)
    out = g.agg(count=("reason", "size"), rows=("row", lambda r: format_rows(r.dropna())),
                example=("reason", "first")).reset_index()
    return out


def error_message(table: str, source: str, report: pd.DataFrame) -> str:
    summary = report_summary(report)
    lines = [f"{source}: {len(report)} problem(s) in {report['row'].nunique()} row(s) of {table}:"]
    for rec in summary.itertuples(index=False):
        lines.append(f"  - {rec.check} in column {rec.column!r}: {rec.rows}; e.g. {rec.example}")
    lines.append("Fix the file, or pass errors='drop' to drop these rows and get the report "
                 "(return_report=True gives the rejected rows with their reasons).")
    return "\n".join(lines)

