"""Reuse of the per-member aggregations within a session: each is computed once per source.

A notebook asks for member tables many times: RFM, lifecycle stages, churn
labels and features at one cutoff all start from
:func:`workbook.aggregate.member_summary` with the same transactions and the
same parameters.  On an export of ten million rows each pass costs seconds, so
the aggregation functions keep their last few results and hand back a copy
when the same source is asked for with the same parameters.

When is a source "the same"?

* A pandas DataFrame: the same memory behind every column the aggregation
  reads (data pointers, offsets and lengths of the NumPy or Arrow buffers),
  the same column names and dtypes.  The cache keeps a shallow selection of
  those columns, so pandas' copy-on-write guarantees that any later change to
  the frame (``tx.loc[...] = ...``, ``fillna(inplace=True)``, a new column
  under an old name) gives the changed columns new memory, hence a new key.
  Only writing into a NumPy array that the frame was built on without a copy
  (``pd.DataFrame(arrays, copy=False)``) escapes this; call :func:`clear`
  after doing that.
* Files (a path, folder or glob): the same files with the same sizes and
  modification times.
* DuckDB relations and Spark DataFrames are never reused (a relation may be a
  query over tables that change).

Results are returned as shallow copies (copy-on-write: changing the returned
table never changes the cached one).  At most :data:`MAX_ENTRIES` results of
at most :data:`MAX_BYTES` bytes in total are kept, least recently used first
out; an entry goes as soon as the DataFrame it was computed from is garbage
collected, so the cache never keeps a user's data alive on its own.

Examples
--------
>>> import pandas as pd
>>> from workbook.aggregate import member_summary
>>> tx = pd.DataFrame({"member_id": ["a", "b"], "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
...                    "amount": [10.0, 20.0]})
>>> first = member_summary(tx)
>>> hits = stats()["hits"]
>>> second = member_summary(tx)          # the same data and parameters: reused
>>> stats()["hits"] - hits, second.equals(first)
(1, True)
>>> tx.loc[0, "amount"] = 99.0           # a change: the next call recomputes
>>> float(member_summary(tx)["monetary_total"].iloc[0])
99.0
>>> with disabled():                     # or: compute without the cache
...     float(member_summary(tx)["monetary_total"].iloc[0])
99.0
"""

from __future__ import annotations

import contextlib
import glob
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence

import numpy as np
import pandas as pd

#: Most results kept.
MAX_ENTRIES = 8
#: Most bytes of results kept (their ``memory_usage``); a larger result is not kept.
MAX_BYTES = 1 << 30

_lock = threading.Lock()
_entries: OrderedDict[Hashable, tuple[object, pd.DataFrame, int]] = OrderedDict()
_counters = {"hits": 0, "misses": 0}
_enabled = True


def _column_token(values: pd.Series) -> Hashable | None:
    """Where a column's data live (pointers, offsets, lengths), or None if that cannot be told."""
    array = values.array
    dtype = values.dtype
    if not isinstance(dtype, np.dtype) and hasattr(array, "__arrow_array__"):
        import pyarrow as pa

        arrow = array.__arrow_array__()
        chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
        return tuple(
            (c.offset, len(c), tuple(0 if b is None else b.address for b in c.buffers())) for c in chunks
        )
    parts = []
    for name in ("_ndarray", "_data", "_mask", "_codes"):  # NumPy-backed pandas arrays
        part = getattr(array, name, None)
        if isinstance(part, np.ndarray):
            parts.append((name, part.__array_interface__["data"][0], part.strides, part.shape))
    if isinstance(dtype, np.dtype) and not parts:
        data = values.to_numpy()
        parts.append(("values", data.__array_interface__["data"][0], data.strides, data.shape))
    if isinstance(dtype, pd.CategoricalDtype):
        categories = _column_token(pd.Series(dtype.categories))
        if categories is None:
            return None
        parts.append(("categories", categories))
    if not parts:
        return None
    return (str(dtype), tuple(parts))


def _frame_key(frame: pd.DataFrame, columns: Sequence[str]) -> Hashable | None:
    used = [c for c in columns if c in frame.columns]
    if frame.columns.has_duplicates:
        return None  # the aggregation reports that; nothing to reuse
    tokens = []
    for col in used:
        token = _column_token(frame[col])
        if token is None:
            return None
        tokens.append((col, token))
    return ("frame", len(frame), tuple(tokens))


def _files_key(source: str | os.PathLike) -> Hashable | None:
    from workbook.engines import resolve_files

    text = os.fspath(source)
    if "://" in text:
        return None
    _, pattern = resolve_files(text)
    files = sorted(glob.glob(pattern, recursive=True))
    try:
        stats = [(f, os.stat(f)) for f in files]
    except OSError:
        return None
    return ("files", tuple((f, st.st_size, st.st_mtime_ns) for f, st in stats))


def _source_key(source: object, columns: Sequence[str]) -> tuple[Hashable | None, object]:
    """The source's key and what the entry must hold on to (None, None: do not reuse)."""
    if isinstance(source, pd.DataFrame):
        key = _frame_key(source, columns)
        if key is None:
            return None, None
        # A shallow selection shares the buffers: copy-on-write now copies the
        # user's columns before any change, so a changed frame gets a new key.
        return key, source[[c for c in columns if c in source.columns]]
    if isinstance(source, (str, os.PathLike)):
        return _files_key(source), None
    return None, None


def _forget(key: Hashable) -> None:
    with _lock:
        _entries.pop(key, None)


def reuse(
    kind: str,
    source: object,
    columns: Sequence[str],
    params: Hashable,
    compute: Callable[[], pd.DataFrame],
) -> pd.DataFrame:
    """Return ``compute()``, or a copy of the result kept from the same call on the same data.

    Parameters
    ----------
    kind : str
        Which aggregation (part of the key).
    source : object
        The transactions as passed by the user.
    columns : sequence of str
        The columns of ``source`` the aggregation reads.
    params : hashable
        Every other argument that changes the result.
    compute : callable
        Computes the result when nothing can be reused.

    Returns
    -------
    DataFrame
        The result (a shallow copy of the kept one on a hit).
    """
    if not _enabled:
        return compute()
    try:
        source_key, hold = _source_key(source, columns)
    except Exception:  # noqa: BLE001 - a source the cache cannot describe is simply not reused
        source_key, hold = None, None
    if source_key is None:
        return compute()
    key = (kind, source_key, params)
    with _lock:
        entry = _entries.get(key)
        if entry is not None:
            _entries.move_to_end(key)
            _counters["hits"] += 1
            return entry[1].copy(deep=False)
        _counters["misses"] += 1
    result = compute()
    size = int(result.memory_usage(index=True, deep=False).sum())
    if size > MAX_BYTES:
        return result
    with _lock:
        _entries[key] = (hold, result.copy(deep=False), size)
        total = sum(e[2] for e in _entries.values())
        while len(_entries) > MAX_ENTRIES or total > MAX_BYTES:
            _, (_, _, dropped) = _entries.popitem(last=False)
            total -= dropped
    if isinstance(source, pd.DataFrame):
        weakref.finalize(source, _forget, key)
    return result


def clear() -> None:
    """Forget every kept result."""
    with _lock:
        _entries.clear()


def stats() -> dict[str, int]:
    """Hits, misses and kept results so far (``{"hits", "misses", "entries"}``)."""
    with _lock:
        return {**_counters, "entries": len(_entries)}


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Compute every aggregation afresh inside the ``with`` block (for timing, for example)."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before
