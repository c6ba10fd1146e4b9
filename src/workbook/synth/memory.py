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
compacts memory on the page fault.  Measured at 1M members (10M transactions, a
busy 2-core machine), :func:`generate` spent 11.5-12.7 s of system time, 6.7 s
without the huge-page advice and 2.4 s with freed blocks also kept in the heap
for reuse (:func:`reuse_freed_memory`), for 0.3-0.4 GiB more peak memory.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

import pyarrow as pa

__all__ = ["reuse_freed_memory", "system_arrow_pool"]

# mallopt(3) parameters and glibc's defaults (restored on exit)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_DEFAULT_TRIM_THRESHOLD, _DEFAULT_MMAP_MAX = 128 * 1024, 65536
_lock = threading.Lock()
_depth = 0
_hugepage_before: bool | None = None


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
def reuse_freed_memory() -> Iterator[None]:
    """Inside the block, freed large NumPy/Arrow buffers stay with the process and are reused.

    glibc serves every allocation from its heap (``M_MMAP_MAX = 0``) and does not
    give freed memory back (``M_TRIM_THRESHOLD``), so a new temporary reuses pages
    that are already mapped instead of faulting in (and zeroing) fresh ones, and
    NumPy does not advise huge pages.  On exit both glibc parameters are back at
    their default values (glibc's sliding mmap threshold, which any ``mallopt``
    call switches off, stays off; ``MALLOC_*`` environment settings are not
    restored), NumPy's advice is what it was, and the free memory is returned to
    the system (``malloc_trim``).  Nested or concurrent blocks share the outermost
    one's settings.  Elsewhere than glibc on Linux only the NumPy advice is switched off.

    Examples
    --------
    >>> import numpy as np
    >>> with reuse_freed_memory():
    ...     float((np.ones(5_000_000) * 2).sum())
    10000000.0
    """
    global _depth, _hugepage_before
    libc = _glibc()
    switch = _numpy_hugepage_switch()
    with _lock:
        _depth += 1
        if _depth == 1:
            if switch is not None:
                _hugepage_before = bool(switch(False))
            if libc is not None:
                libc.mallopt(_M_MMAP_MAX, 0)
                libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if switch is not None and _hugepage_before is not None:
                    switch(_hugepage_before)
                if libc is not None:
                    libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                    libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
                    libc.malloc_trim(0)


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
