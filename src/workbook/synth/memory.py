"""Arrow's memory pool while a data set is generated or written.

pyarrow's default pool (mimalloc) hands the pages of freed buffers back to the
system; building ten million rows frees and allocates such buffers all the
time, so the kernel zeroes the same memory again and again: measured at 1.16M
members (10M transactions), ``workbook generate`` spent 15 s of system time,
10 s with the system allocator (glibc malloc), which keeps and reuses freed
memory.  Buffers keep the pool they were allocated from, so switching back
afterwards is safe.

NumPy's large temporaries have the same problem, worse: glibc maps every block
above 32 MiB (a column of four million float64) afresh and unmaps it when freed,
and NumPy asks for transparent huge pages on it (``madvise``), which on kernels
with ``transparent_hugepage/defrag = madvise`` (Debian's and Ubuntu's default)
compacts memory on the page fault.  Measured in-process at 1M members (8.6M
transactions, a busy 2-core machine), ``generate()`` spent 11.5-12.7 s of system
time, 6.7 s without the huge-page advice (:func:`large_array_memory`) and 2.4 s
with freed blocks also kept in glibc's heap for reuse, which cost 0.3-0.4 GiB
more peak memory and was removed (see :func:`large_array_memory`).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator

import pyarrow as pa

__all__ = ["large_array_memory", "system_arrow_pool"]

_lock = threading.Lock()
_depth = 0
_hugepage_before: bool | None = None


def _numpy_hugepage_switch() -> Callable[[bool], bool] | None:
    """NumPy's switch of its huge-page advice (``NUMPY_MADVISE_HUGEPAGE`` at run time), if it has one."""
    try:
        from numpy._core import multiarray
    except ImportError:  # NumPy 1.x
        from numpy.core import multiarray  # type: ignore[no-redef]
    return getattr(multiarray, "_set_madvise_hugepage", None)


@contextmanager
def large_array_memory() -> Iterator[None]:
    """Inside the block NumPy does not advise huge pages on its large arrays.

    Without the advice a fresh page costs a plain zeroing, not a compaction.
    Measured with ``workbook generate --members 1160000`` (10M transactions):
    system time 15.1-15.8 s before, 8.8-9.3 s without the advice; peak 3.72-3.78
    and 3.59-3.74 GiB.  (Also having glibc keep freed blocks for reuse,
    ``M_MMAP_MAX = 0`` without trimming, cut system time to 4.9 s but peaked at
    4.0-4.1 GiB, over issue 14's 4 GiB; it was tried and removed.)  NumPy's advice
    is restored on exit; nested or concurrent blocks share the outermost one's
    setting.

    Examples
    --------
    >>> import numpy as np
    >>> with large_array_memory():
    ...     float((np.ones(5_000_000) * 2).sum())
    10000000.0
    """
    global _depth, _hugepage_before
    switch = _numpy_hugepage_switch()
    with _lock:
        _depth += 1
        if _depth == 1 and switch is not None:
            _hugepage_before = bool(switch(False))
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and switch is not None and _hugepage_before is not None:
                switch(_hugepage_before)


@contextmanager
def system_arrow_pool() -> Iterator[None]:
    """Use the system allocator as Arrow's default memory pool inside the block.

    Examples
    --------
    >>> import pyarrow as pa
    >>> before = pa.default_memory_pool().backend_name
    >>> with system_arrow_pool():
    ...     pa.default_memory_pool().backend_name
    'system'
    >>> pa.default_memory_pool().backend_name == before
    True
    """
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)
