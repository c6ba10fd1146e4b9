"""Benchmark of the synthetic data generator.

Usage::

    python benchmarks/bench_generate.py                       # 1M members, ~10M transactions
    python benchmarks/bench_generate.py --members 100000      # ~1M transactions
    python benchmarks/bench_generate.py --save benchmarks/output/big   # also time writing Parquet

Prints wall and CPU seconds and rows per second for generation (and saving if asked).

At 1M members most of the time above ~10 s of user CPU is the kernel zeroing fresh
memory pages for the large temporaries; on Linux with transparent huge pages,
``NUMPY_MADVISE_HUGEPAGE=0 python benchmarks/bench_generate.py`` roughly halves that
system time.  Wall time is only meaningful on an otherwise idle machine (the script
prints the load average).
"""

from __future__ import annotations

import argparse
import os
import time

from workbook.synth import Scenario, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="retail_chain")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs (best is reported)")
    parser.add_argument("--save", default=None, help="folder to write Parquet to (timed separately)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()

    overrides = {"n_members": args.members}
    if args.stores is not None:
        overrides["n_stores"] = args.stores
    scenario = Scenario.preset(args.preset, **overrides)
    best = best_cpu = float("inf")
    data = None
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        data = generate(scenario, seed=args.seed, progress=not args.no_progress)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    assert data is not None
    n_tx = len(data.transactions)
    print(f"cpus available: {os.cpu_count()}")
    print(f"preset={args.preset} members={len(data.members):,} transactions={n_tx:,}")
    print(f"generate: {best:.2f} s wall, {best_cpu:.2f} s CPU  "
          f"({n_tx / best:,.0f} transactions/s, {len(data.members) / best:,.0f} members/s wall)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (wall time is inflated if > cpus)")
    if args.save:
        t0 = time.perf_counter()
        data.save(args.save, formats=("parquet",))
        el = time.perf_counter() - t0
        print(f"save parquet: {el:.2f} s  ({n_tx / el:,.0f} transactions/s)")


if __name__ == "__main__":
    main()
