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
with freed blocks also kept in the heap for reuse (``keep_freed=True``), which
costs 0.3-0.4 GiB more peak memory (``generate()`` does without it: see
:func:`large_array_memory`).
"""

from __future__ import annotations

import ctypes
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

import pyarrow as pa

__all__ = ["large_array_memory", "system_arrow_pool"]

# mallopt(3) parameters and glibc's defaults (restored on exit)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_DEFAULT_TRIM_THRESHOLD, _DEFAULT_MMAP_MAX = 128 * 1024, 65536
_lock = threading.Lock()
_depth = 0
_hugepage_before: bool | None = None
_kept_by: ctypes.CDLL | None = None  # the C library whose settings the outermost block changed


def _glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (whose ``mallopt`` knobs are used here), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (musl has no such knobs)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


def _numpy_hugepage_switch() -> Callable[[bool], bool] | None:
    """NumPy's switch of its huge-page advice (``NUMPY_MADVISE_HUGEPAGE`` at run time), if it has one."""
    try:
        from numpy._core import multiarray
    except ImportError:  # NumPy 1.x
        from numpy.core import multiarray  # type: ignore[no-redef]
    return getattr(multiarray, "_set_madvise_hugepage", None)


@contextmanager
def large_array_memory(keep_freed: bool = False) -> Iterator[None]:
    """Inside the block NumPy does not advise huge pages; with ``keep_freed``, glibc also keeps freed blocks.

    Without the huge-page advice a fresh page costs a plain zeroing, not a
    compaction.  ``keep_freed=True`` goes further: glibc serves every allocation
    from its heap (``M_MMAP_MAX = 0``) and does not give freed memory back
    (``M_TRIM_THRESHOLD``), so a new temporary reuses pages already mapped instead
    of faulting in (and zeroing) fresh ones; on exit both glibc parameters are
    back at their default values (glibc's sliding mmap threshold, which any
    ``mallopt`` call switches off, stays off; ``MALLOC_*`` environment settings
    are not restored) and the free memory is returned (``malloc_trim``).  Measured
    with ``workbook generate --members 1160000`` (10M transactions): system time
    15.1-15.8 s before, 8.8-9.3 s without the advice, 4.9 s with ``keep_freed``;
    peak 3.72-3.78, 3.59-3.74 and 4.00-4.03 GiB (heap fragmentation; at 1M members,
    8.6M transactions, 3.16-3.36 GiB before and 3.48-3.68 GiB with ``keep_freed``).
    :func:`~workbook.synth.generator.generate` uses ``keep_freed=False``: with it, the
    10M-transaction run peaked over issue 14's 4 GiB (idle machine, 2026-12-02: 20.7 s wall,
    4.10 GiB with ``keep_freed``; 22.0 s, 3.71 GiB without).  NumPy's advice is restored on exit; nested or concurrent
    blocks share the outermost one's settings; ``keep_freed`` needs glibc on Linux
    (elsewhere only the advice is switched off).

    Examples
    --------
    >>> import numpy as np
    >>> with large_array_memory():
    ...     float((np.ones(5_000_000) * 2).sum())
    10000000.0
    """
    global _depth, _hugepage_before, _kept_by
    switch = _numpy_hugepage_switch()
    with _lock:
        _depth += 1
        if _depth == 1:
            if switch is not None:
                _hugepage_before = bool(switch(False))
            _kept_by = _glibc() if keep_freed else None
            if _kept_by is not None:
                _kept_by.mallopt(_M_MMAP_MAX, 0)
                _kept_by.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if switch is not None and _hugepage_before is not None:
                    switch(_hugepage_before)
                if _kept_by is not None:
                    _kept_by.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                    _kept_by.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
                    _kept_by.malloc_trim(0)
                    _kept_by = None


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
