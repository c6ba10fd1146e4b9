"""Exception types raised on bad input.

Every error names the column, the rows or the value at fault, so a trainee or an
analyst can fix the data without reading the package source.  Errors a trainee
can trigger from a notebook's parameters also carry a Chinese message
(``message_zh``), which :func:`workbook.notebook.setup` shows first.
"""

from __future__ import annotations

__all__ = ["ConvergenceError", "NotFittedError", "WorkbookInputError"]


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


# NotFittedError subclasses scikit-learn's, whose import costs about a second; it is
# made on first use (module __getattr__), so `import workbook.notebook` and the many
# modules that only need WorkbookInputError do not pay for scikit-learn.
_NOT_FITTED_DOC = """A model used before :meth:`fit`: both a :class:`WorkbookInputError` and
    scikit-learn's :class:`~sklearn.exceptions.NotFittedError`.

    Raised by :func:`workbook.validation.require_fitted` for every workbook model.

    Examples
    --------
    >>> from sklearn.exceptions import NotFittedError as SkNotFitted
    >>> from workbook.errors import NotFittedError
    >>> issubclass(NotFittedError, WorkbookInputError), issubclass(NotFittedError, SkNotFitted)
    (True, True)
    """


def _not_fitted_error() -> type:
    import sklearn.exceptions

    cls = type("NotFittedError", (WorkbookInputError, sklearn.exceptions.NotFittedError),
               {"__doc__": _NOT_FITTED_DOC, "__module__": __name__, "__qualname__": "NotFittedError"})
    globals()["NotFittedError"] = cls  # made once: the same class on every access
    return cls


def __getattr__(name: str):
    if name == "NotFittedError":
        return _not_fitted_error()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# doctest finds only what is in the module's namespace: the lazy class's example runs from here.
__test__ = {"NotFittedError": _NOT_FITTED_DOC}
