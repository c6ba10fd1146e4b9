"""Arrow's memory pool while a data set is generated or written.

pyarrow's default pool (mimalloc) hands the pages of freed buffers back to the
system; building ten million rows frees and allocates such buffers all the
time, so the kernel zeroes the same memory again and again: measured at 1.16M
members (10M transactions), ``workbook generate`` spent 15 s of system time,
10 s with the system allocator (glibc malloc), which keeps and reuses freed
memory.  Buffers keep the pool they were allocated from, so switching back
afterwards is safe.

NumPy's large temporaries (a column of ten million float64 is 80 MB) are fresh
mappings too, which the kernel zeroes; NumPy's own default, advising transparent
huge pages on them, is kept: ``generate()`` switched that advice off from
2026-12-02 until 2026-12-03, and alternated runs of ``workbook generate --members
1160000`` on an idle machine were 1.0-2.9 s faster with the advice in all seven
pairs (a quarter of the page faults; peaks within 0.2 GiB, under 4 GiB); see
``benchmarks/bench_generate.py``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pyarrow as pa

__all__ = ["system_arrow_pool"]


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
