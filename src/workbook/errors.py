"""Exception types raised on bad input.

Every error names the column, the rows or the value at fault, so a trainee or an
analyst can fix the data without reading the package source.
"""

from __future__ import annotations


class WorkbookInputError(ValueError):
    """Input data or arguments that the workbook cannot analyse correctly."""


class ConvergenceError(RuntimeError):
    """A model fit that did not converge; the message says what to try."""
