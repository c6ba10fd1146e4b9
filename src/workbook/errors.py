"""Exception types raised on bad input.

Every error names the column, the rows or the value at fault, so a trainee or an
analyst can fix the data without reading the package source.  Errors a trainee
can trigger from a notebook's parameters also carry a Chinese message
(``message_zh``), which :func:`workbook.notebook.setup` shows first.
"""

from __future__ import annotations

import sklearn.exceptions


class WorkbookInputError(ValueError):
    """Input data or arguments that the workbook cannot analyse correctly.

    Parameters
    ----------
    message : str
        The English message (what ``str(error)`` returns).
    message_zh : str, optional
        The same message in Chinese, shown first in notebooks.

    Examples
    --------
    >>> err = WorkbookInputError("bins must be 2-10, got 1", message_zh="分档数必须在 2 到 10 之间，现在是 1")
    >>> str(err)
    'bins must be 2-10, got 1'
    >>> err.bilingual()
    '分档数必须在 2 到 10 之间，现在是 1\\nbins must be 2-10, got 1'
    """

    def __init__(self, message: str = "", *args: object, message_zh: str | None = None):
        super().__init__(message, *args)
        self.message_zh = message_zh

    def bilingual(self) -> str:
        """The Chinese message (if any) on the first line, then the English one."""
        english = str(self)
        return english if not self.message_zh else f"{self.message_zh}\n{english}"


class ConvergenceError(RuntimeError):
    """A model fit that did not converge; the message says what to try."""


class NotFittedError(WorkbookInputError, sklearn.exceptions.NotFittedError):
    """A model used before :meth:`fit`: both a :class:`WorkbookInputError` and
    scikit-learn's :class:`~sklearn.exceptions.NotFittedError`.

    Raised by :func:`workbook.validation.require_fitted` for every workbook model.

    Examples
    --------
    >>> from sklearn.exceptions import NotFittedError as SkNotFitted
    >>> issubclass(NotFittedError, WorkbookInputError), issubclass(NotFittedError, SkNotFitted)
    (True, True)
    """
