"""Old argument names that keep working for one release, with a ``FutureWarning``.

The package speaks one vocabulary (``analysis_date`` keyword-only after the data
arguments, ``(transactions, members)``, ``member_col``, ``amount_col``,
``margin_rate``, ``language``, ``random_state``; enforced by
``tests/test_vocabulary.py``).  Where a teaching notebook, an exercise or the
docs used an older spelling, :func:`renamed_arguments` maps it to the new one
and warns, so existing notebooks run while they are updated.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Sequence

__all__ = ["REMOVED_IN", "renamed_arguments"]

#: The release in which the old spellings stop working.
REMOVED_IN = "0.3"


def _warn(func: Callable, what: str) -> None:
    warnings.warn(
        f"{func.__qualname__}: {what}; the old form stops working in workbook {REMOVED_IN}.",
        FutureWarning,
        stacklevel=3,
    )


def renamed_arguments(
    *,
    positional: Sequence[str] = (),
    legacy_call: Callable[[tuple, dict], tuple[tuple, dict] | None] | None = None,
    legacy_hint: str = "see the function's signature",
    **renames: str,
) -> Callable[[Callable], Callable]:
    """Decorator: accept old keyword names and formerly positional arguments, with a FutureWarning.

    Parameters
    ----------
    positional : sequence of str
        New names, in the old order, of arguments that used to be positional
        after the ones that still are (e.g. ``("analysis_date",)``).  Extra
        positional values are passed on under these names.
    legacy_call : callable, optional
        ``legacy_call(args, kwargs)`` returns the rewritten ``(args, kwargs)`` of
        an old-style call it recognises (e.g. swapped data arguments), else
        ``None``.  Used where the old call cannot be told apart by count alone.
    legacy_hint : str
        How to write such a call now, for the warning.
    **renames : str
        ``old_name="new_name"`` for renamed keywords.

    Examples
    --------
    >>> import warnings
    >>> @renamed_arguments(positional=("analysis_date",), cutoff="analysis_date")
    ... def labels(transactions, *, analysis_date=None):
    ...     return transactions, analysis_date
    >>> labels("tx", analysis_date="2024-01-01")
    ('tx', '2024-01-01')
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     labels("tx", cutoff="2024-01-01"), labels("tx", "2024-02-01")
    (('tx', '2024-01-01'), ('tx', '2024-02-01'))
    >>> [w.category.__name__ for w in caught]
    ['FutureWarning', 'FutureWarning']
    >>> import inspect; str(inspect.signature(labels))
    '(transactions, *, analysis_date=None)'
    """

    def decorate(func: Callable) -> Callable:
        params = inspect.signature(func).parameters.values()
        n_positional = sum(
            p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params
        )

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if legacy_call is not None:
                rewritten = legacy_call(args, kwargs)
                if rewritten is not None:
                    args, kwargs = rewritten
                    _warn(func, f"this argument order is deprecated; {legacy_hint}")
            if len(args) > n_positional and positional:
                extra = args[n_positional:]
                if len(extra) > len(positional):
                    raise TypeError(f"{func.__qualname__}() got too many positional arguments")
                names = positional[: len(extra)]
                for name, value in zip(names, extra):
                    if name in kwargs:
                        raise TypeError(f"{func.__qualname__}() got multiple values for argument {name!r}")
                    kwargs[name] = value
                args = args[:n_positional]
                _warn(func, f"pass {', '.join(names)} by keyword ({', '.join(f'{n}=...' for n in names)})")
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{func.__qualname__}() got both {old!r} and its new name {new!r}")
                    kwargs[new] = kwargs.pop(old)
                    _warn(func, f"argument {old!r} is now called {new!r}")
            return func(*args, **kwargs)

        return wrapper

    return decorate
