"""Benchmark of the synthetic data generator and of ``workbook generate``, against plain baselines.

Usage::

    python benchmarks/bench_generate.py                      # 1.16M members, ~10M transactions
    python benchmarks/bench_generate.py --members 100000     # ~0.9M transactions
    python benchmarks/bench_generate.py --skip-cli --skip-csv

Each measurement runs in its own process (so its peak memory is its own), in this order:

* ``generate``: :func:`workbook.synth.generate` (wall, CPU, peak RSS);
* baseline ``draws``: NumPy drawing as many random variates as the generator does
  (ten per member purchase, four per walk-in sale, 22 per member, mostly uniforms plus
  one Gamma, one Poisson and one exponential per purchase): the floor no generator with
  these distributions can go under;
* ``save parquet`` / ``save csv``: :func:`workbook.synth.save_dataset` (integrity check +
  writing), against the baseline ``pyarrow`` writing the same tables
  (``pq.write_table`` with zstd, ``pyarrow.csv.write_csv``);
* ``cli``: the command a user runs, ``workbook generate --preset P --members N --out <tmp>``
  (Parquet only, the default), wall time and peak RSS of the whole process.

The ratio columns divide by the baseline measured in the same run, so they stay
comparable on a busy machine; absolute seconds do not (the script prints the load
average: on 2 cores, wall time is inflated once it is above 2).

Where the time goes (issue 14, profiled with py-spy, cProfile and per-step CPU times at 1.16M
members / 10.0M transactions; the data are identical before and after every change):

* first round: 130 s of the 155 s of ``workbook generate --members 1000000`` wrote CSV copies
  with ``DataFrame.to_csv``; now Parquet only unless ``--format csv|both``, CSV through
  ``pyarrow.csv``.  The transaction table put each column in time order once (member, store,
  kind and channel packed in one int64); the points sort is a stable sort of a few sorted runs;
  member table and transaction ids are built in a second thread.
* second round (after the contact log, community, surveys and categories were added, which
  had made ``generate()`` 55 s of CPU and ``save`` 24 s at load 4): the contact log took 18 s
  (three ``lexsort`` over 5M rows, pandas string takes), the community 7 s (a group-by over
  ten million string member ids), the surveys 5 s (object-string concatenation of complaint
  tags, ``reindex``/``get_indexer`` on string ids), categories 5.5 s (object arrays of ten million
  category names and nine million member ids), and ``SyntheticData.check`` 14.5 s (pandas
  ``isin`` of the survey ids; hash lookups of 28M foreign keys).  Now: the lexsorts are one
  argsort of an exact float key (with a tie fallback), a stable argsort of already ordered
  pairs, and one integer argsort plus the few tied times; member rows come from the generator
  (bincount, no string group-by); strings come from Arrow ``take`` of small vocabularies;
  generated ids (one width, prefix + digits) are checked as the numbers they spell (a table
  lookup, about 0.1 s per 10M keys instead of 0.3 s hashing).  The contact log and the
  categories run in worker threads beside the transaction assembly; ``save`` writes the files
  (largest first) in two threads while the check runs, under temporary names renamed only
  once the check has passed.
* third round (profiled with py-spy, perf and per-step CPU times of a one-thread run at 1.16M members,
  seed 0, against the code of ea36da9; ``workbook generate --members 1160000`` then took 26.2 s user +
  14.9 s system CPU, 40.5 s wall, 4.92 GiB peak):

  - system time: 15 s, a quarter of all samples in the kernel zeroing fresh pages.  Arrow's default
    pool (mimalloc) handed freed pages back and got them again; ``generate()`` and ``save`` now use
    the system allocator (:mod:`workbook.synth.memory`): 4.3 -> 1.2 s of system time at 300k members.
    The rest (7-10 s at 1.16M) is NumPy's 80 MB temporaries, each a fresh mapping.
  - start-up: 3.7 s before any work, because the ``workbook`` command imported every sub-command
    (papermill/nbformat of ``run``: 2.6 s) and the scenario's date check imported scikit-learn (1 s).
    Now only the sub-command being run is imported: ``workbook generate --help`` takes 0.65 s.
  - contact log, 8.5 s CPU (worker thread): ``pd.to_timedelta`` of 5.5M float days (0.9 s; now the
    same arithmetic in NumPy, 0.09 s), ``pd.factorize`` of a million store ids (Arrow dictionary
    encoding), pandas' ``is_monotonic_increasing`` on a million ids (held the GIL; Arrow), a sort of
    already sorted keys, two argsorts; now 6.2 s.
  - transaction table, 6.6 s on the main thread: the opening-hours warp of 10M times (1.5 s; now in
    blocks on two threads), ``np.argsort`` of 10M floats (1.7-2.6 s; now ``argsort_keys``: the row
    number packed into the low bits of the key and the values sorted, 1.5x faster, exact, falling
    back to ``np.argsort`` where its order of equal times matters), the column gathers and string
    columns (now in two more threads while the packed key is ordered).
  - transaction ids: 0.8 s per 10M (now in blocks of 256k rows: 0.3 s); category draws: a binary
    search over all members' cumulative shares (now a count inside the row: 0.8 -> 0.56 s in member
    order, 14 -> 1.4 s in random order).
  - peak memory: ten 10M-row intermediates of the points redemption lived until ``generate()``
    returned (now in a function of their own), the lives' parts and draws were kept, and the
    foreign-key check read 10M ids as numbers at once (0.6 GiB; now blocks of 1M rows, 0.25 GiB).
  - Parquet: 6.5 s of CPU for all tables (transactions 3.4 s: string columns hashed for dictionary
    pages, zstd), written in two threads beside the 1.2-2.5 s integrity check; not changed.

* fourth round (``workbook generate --preset retail_chain --members 1000000``, seed 0, 10.0M
  transactions; measured with ``/usr/bin/time -v``, old (10c17cd) and new code alternated in the same
  run, on a 2-core machine that another session kept at load 1.5-5; perf, py-spy and per-thread CPU
  times; the data are identical, table for table, to the old code's):

  - system time: perf put a quarter of all samples in ``clear_page_erms``, spread over every NumPy
    temporary (gathers, ``np.where``, random fills, ufunc outputs).  glibc maps each block above
    32 MiB afresh and unmaps it on ``free``, and NumPy advises huge pages on it, which with
    ``transparent_hugepage/defrag = madvise`` (Debian/Ubuntu default) compacts memory on the fault.
    ``generate()`` ran inside :func:`workbook.synth.memory.large_array_memory` with
    ``keep_freed=True`` (removed, see the last item: glibc ``M_MMAP_MAX = 0`` and no trimming, so freed blocks are reused from the
    heap; NumPy's huge-page advice off; defaults restored and free memory returned with
    ``malloc_trim`` on exit): ``generate()`` 11.5-12.7 -> 2.3-2.4 s of system time (6.7 s with only
    the huge-page advice off), peak +0.15-0.4 GiB.  End to end 12-16 -> 3.4-4.9 s of system time at
    load below 4 (up to 7.7-11.5 s when the other session was at load 5, where the old code took
    10-14 s).  The trade-off, ``workbook generate --members 1160000`` (10.0M transactions), load 1.8-2.3:
    old 15.1-18.5 s system, 3.72-3.78 GiB; huge-page advice off only 8.8-12.1 s, 3.59-3.74 GiB;
    with ``keep_freed`` 4.9 s, 4.00-4.01 GiB (just over issue 14's 4 GiB at that size; 3.48-3.68 GiB at
    1M members).  Tried and not kept: returning the free heap (``malloc_trim``) or going back to
    glibc's defaults before the transaction assembly (peak unchanged, 3.94-4.03 GiB).
  - Parquet: ``save_dataset`` writes tables of 500k+ rows without dictionary pages for timestamps and
    mostly distinct strings (ids, names, phones; told apart on the first 65,536 rows) and without
    min/max statistics for strings (:func:`workbook.synth.io._parquet_options`): all tables 9.9 -> 7.1 s
    of CPU, files 5% smaller, read back equal (schema metadata included).  Smaller tables (the default
    data set's) keep pyarrow's defaults, so ``datasets/`` stays byte-identical.  Tried and left out:
    ``compression_level`` (pyarrow's zstd default is already level 1), lz4 (-0.8 s, files 1.8x larger),
    DELTA encodings (ids slower; sorted timestamps 0.16 s faster, too little to matter).
  - overlap: ``workbook generate`` hands each finished table to an :class:`~workbook.synth.io.EarlyWriter`
    (``generate(on_table=...)``): the transaction file (3.4-4.1 s of CPU) is written in a thread while
    the traffic, tier, truth, community and survey steps run; files keep their temporary names until
    ``save_dataset``'s check passes.  Early tables not yet started are left to ``save_dataset``'s two
    threads.  Alternated runs at load 3.5-3.9: 20.5 / 21.5 s against 21.2 / 32.0 s without.
  - ``np.take`` instead of fancy indexing for the 10M-row gathers: no measurable difference in the end
    (a first micro-benchmark was misled by page faults); kept, the values are the same.
  - measured end to end at 1M members (8.6M transactions; user + system CPU, wall, peak RSS;
    old -> new, same run, alternated):
    load 1.5-2: 25.7 + 13.2 s, 22.2 s, 3.34 GiB -> 24.8 + 3.4 s, 16.2 s, 3.48 GiB;
    load 2.3-2.8 (two pairs, final code): 29.5 + 15.9 s, 25.8 s / 26.4 + 11.9 s, 22.1 s, 3.16-3.36 GiB
    -> 25.5 + 4.5 s, 15.9 s / 27.3 + 3.8 s, 17.0 s, 3.52-3.68 GiB;
    load 3.6-5.4 (three pairs, before the early writer stopped blocking the check): 24.2-28.0 +
    9.8-14.3 s, 54-68 s -> 23.2-25.9 + 4.3-11.5 s, 45-54 s, 3.55-3.73 GiB (old 3.34-3.36 GiB).
    Peak memory is up 0.2-0.4 GiB (heap kept for reuse, the transaction file written beside the
    engagement tables): still under the 4 GiB of issue 14 at 1M members, closer to it.
  - the choice, remeasured on an idle machine (load 0.8-1.8) after the merge, ``workbook generate
    --members 1160000 --seed 0``: ``keep_freed=True`` 31.5 + 6.0 s CPU, 20.7 s wall, 4.10 GiB;
    ``keep_freed=False`` 30.5 + 10.3 s, 22.0 s, 3.71 GiB.  ``keep_freed`` was removed (``generate()``
    only switches the huge-page advice off): 1.3 s is not worth going over the 4 GiB limit.  ``--members 1000000`` with it: 26.6 + 8.7 s CPU,
    19.1 s wall, 3.20 GiB.

* fifth round (``workbook generate --preset retail_chain --members 1160000 --seed 0``, 9,972,452
  transactions; other sessions kept the 2-core machine at load 4-10 throughout, so only CPU times and
  minor page faults were compared; per-step CPU of each thread with ``getrusage(RUSAGE_THREAD)``, py-spy,
  line_profiler, perf; every table identical to the fourth round's, file for file, except the encoding of
  ``category_preferences.parquet``, which reads back equal):

  - each changed step, old and new code alternated in one process on inputs of the real sizes (thread
    CPU, best of 3, load 6-7): the contact log's fatigue counts (run twice) look back over the rows
    already in (member, time) order instead of two binary searches per row, 0.64 -> 0.21 s; rows after
    an unsubscribe found from each (member, channel) pair's first unsubscribing row instead of sorting
    the pairs, 0.33 -> 0.06 s; member ids of generated rows gathered by NumPy as fixed-width 8-byte
    items (:func:`workbook.ids.take_fixed_width`, then in ``synth.strings``) instead of Arrow's ``take``: 10M transactions
    with 10% walk-ins 0.86 -> 0.19 s, 5.5M contacts 0.38 -> 0.13 s (also the preference table's and the
    emotional touches' ids); category draws count a row's eight comparisons as the set bits of one word
    (``np.bitwise_count``) instead of summing booleans, 0.72 -> 0.44 s; points redemptions worked out
    for the flagged purchases only, 1.27 -> 0.79 s; emotional touches ordered by one packed day-and-row
    key instead of ``np.lexsort``, 0.64 -> 0.06 s; the integrity check reads generated ids a word at a
    time (prefix and digits checked per 8-byte word, digits converted by three multiply-and-shift
    steps, the column-by-column code kept for other ids), 10M ids 0.27 -> 0.20 s, missing member ids
    of walk-ins read in place instead of copying the present ones; ``SyntheticData.check`` on the saved
    1.16M data set, old and new alternated in separate processes at load 6: 1.84-2.60 -> 1.32-1.86 s.
  - the categories' preference draws (1.2M Dirichlet rows, ~1.3 s of Gamma variates at load 5) start in
    a worker thread beside the lives, when the second core is otherwise idle, instead of during the
    transaction table; the category stream continues from them, so the codes are the same.
  - fewer fresh 40-80 MB temporaries (each one page faults the kernel zeroes): the packed
    member/store/kind/channel key built in place part by part, amounts, items, discounts and the contact
    log's open/respond probabilities computed in place in the same order, one buffer for the schedule's
    blocks of draws: minor faults 3.80-3.97M -> 3.26-3.44M (with the changes above).
  - Parquet: a string column whose row group's distinct values (with their 4-byte lengths) overflow
    pyarrow's 1 MiB dictionary page is written plain (:func:`workbook.synth.io._parquet_options`):
    ``category_preferences.member_id`` (each id once per category) 0.43 -> 0.21 s for the column, the file
    17.3 -> 16.2 MB; no other column of the 1.16M data set changes encoding.
  - end to end, this round and the fourth (eca9941) alternated, ``/usr/bin/time -v``, 11 pairs over the
    session: CPU (user + system) 0.2-6.9 s less per pair, median 4.4 s (about 11%); minor faults
    3.80-3.97M -> 3.26-3.44M.  Final code, 5 pairs at load 3.0-4.1: 25.3-28.6 s user + 6.9-8.0 s system
    = 32.2-36.5 s CPU (median 34.6), 18.8-38.1 s wall, 3.68-3.81 GiB, against 27.2-31.1 + 7.6-8.9 =
    34.8-40.0 s CPU (median 36.5), 18.4-39.6 s wall, 3.58-3.76 GiB.  Earlier pairs (before the last
    commits): load 1.6-2.4, 32.2-34.1 s CPU, 17.2-24.3 s wall against 38.7-39.9 s, 20.7-21.4 s wall;
    load 5.3-8.4, 33.8-36.4 s against 38.3-41.1 s.  Wall times follow the other sessions' load more
    than the code.  The peak is reached at the end of ``generate()`` (all tables alive while the
    transaction file is written); holding the preference draws' future to the end had raised it to
    3.79-3.94 GiB at load 1.6-2.4 (against 3.66-3.67): the futures are dropped once their results are in
    the tables, 3.65-3.81 GiB since.
  - tried and not kept: string columns of the transaction table handed to the Parquet writer as
    dictionary arrays (Arrow schema not stored, read back equal): 4.1-5.0 s -> 4.0-4.9 s for the file, not
    worth the format change; glibc keeping freed blocks (``GLIBC_TUNABLES=glibc.malloc.mmap_max=0``, with
    and without trimming): system time 7.2 -> 5.1 / 3.7 s but 4.01 / 4.14 GiB (over the limit) and no less
    CPU in total; small-vocabulary string columns built in NumPy (3-8x slower than Arrow's ``take``);
    the fixed-width gather for 3-byte store ids (0.069 vs 0.060 s, no gain); the preference table's
    category column built by tiling one repeat (0.18 -> 0.14 s, too little for the code); the packed
    sort for the redemption order (0.37 -> 0.34 s; timsort of the few runs kept); the preference
    *table* built early with the draws (0.4 GB more held through the lives, for no gain in CPU).

* checked again on 2026-12-03 (04:30, idle machine, ``/usr/bin/time``, peaks converted from KiB with 2**20):
  glibc keeping freed blocks (``GLIBC_TUNABLES=glibc.malloc.mmap_max=0``), alternated with the default twice:
  system CPU 9.3-9.4 -> 6.4-6.6 s, wall 23.7-24.5 -> 21.5-22.8 s, but peak 3.72-3.73 -> 4.15-4.17 GiB, over
  issue 14's 4 GiB; still not kept.  A fixed ``glibc.malloc.mmap_threshold`` of 96 / 128 MiB (the 80 MB temporaries
  from the heap, larger blocks still mapped): 5.6 / 5.9 s system against 7.6 s, but 4.09 / 4.20 GiB; not kept.

* sixth round (2026-12-03, idle machine, load 0.9-2.5; ``/usr/bin/time``; ``workbook generate --preset
  retail_chain --members 1160000 --seed 0``): NumPy's huge-page advice, which ``generate()`` had switched off
  since the fourth round, is left on (NumPy's default).  Alternated with the advice off, five pairs:
  13.1 / 15.5, 14.6 / 17.2, 13.8 / 16.1, 11.9 / 13.5, 13.3 / 14.3 s wall (on first), 7.5-10.4 s against
  10.0-13.8 s of system CPU, 0.73-0.77M against 3.25-3.26M minor faults, peak 3.67-3.83 against
  3.66-3.87 GiB; the day before, two pairs on an idle machine, 16.9 / 19.8 and 18.1 / 20.3 s.  The fourth
  round's measurement the other way (11.5-12.7 -> 6.7 s of system time without the advice) was taken
  while other sessions kept the machine at load 4-10, where compaction of fragmented memory made the
  huge-page faults expensive.  Three runs of the final code: 13.9, 11.2, 11.7 s wall, 14.6-16.1 s
  user + 4.6-10.0 s system CPU, 3.64-3.69 GiB (3,815,064-3,873,040 KiB).  The system time (fresh pages
  the kernel zeroes) varies twofold between runs of the same code.

* what remains (round 5, per thread in-process at load 7.9-10.5, where CPU times are inflated: the
  main thread of ``generate()`` 8.4-8.9 s user + 2.7-3.4 s system, community 1.4-1.6 s of it; the
  contact log 4.0-4.4 s user + 2.2-2.8 s system in a worker thread with 1.0M of the 3.4-3.6M minor
  faults; Parquet encoding of all tables ~8 s, the transaction file 3.9-4.8 s; the integrity check
  1.2-1.5 s; members 0.9-1.1 s): half of the 32.2-36.5 s of CPU measured end to end at load 3-4 is
  still 16-18 s, so the 12 s of issue 14 needs roughly another 10 s less CPU.  Candidates: the contact
  log's 5.5M-row temporaries (float32 where exact, in place), the remaining 80 MB temporaries of the
  transaction table (system time), the Gamma draws with small shapes (a change of the data set).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

_GIB = 2**30


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / _GIB  # ru_maxrss is KiB on Linux


def _scenario(args):
    from workbook.synth import Scenario

    overrides = {"n_members": args.members}
    if args.stores is not None:
        overrides["n_stores"] = args.stores
    return Scenario.preset(args.preset, **overrides)


def _generate(args, out: str | None) -> dict:
    from workbook.synth import generate

    sc = _scenario(args)
    t0, c0 = time.perf_counter(), time.process_time()
    data = generate(sc, random_state=args.seed, progress=False)
    res = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "peak": _peak_gib()}
    tx = data.transactions
    res["n_tx"] = len(tx)
    res["n_members"] = len(data.members)
    res["n_walk"] = int(tx["member_id"].isna().sum())
    if out:
        data.save(out, formats=("parquet",))
    return res


def _draws(n_member_rows: int, n_walk: int, n_members: int) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    t0, c0 = time.perf_counter(), time.process_time()
    scale = rng.gamma(6.0, 1 / 200.0, n_member_rows)  # one Gamma per purchase (its member's scale)
    amount = rng.gamma(6.0, 1.0 / scale)
    rng.poisson(amount / 30.0)
    rng.exponential(size=n_member_rows)
    for _ in range(6):
        rng.random(n_member_rows)
    for _ in range(4):
        rng.random(n_walk)
    for _ in range(22):
        rng.random(n_members)
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "peak": _peak_gib()}


def _save(folder: str, fmt: str, out: str, plain: bool) -> dict:
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from workbook.synth import load_dataset

    data = load_dataset(folder)
    os.makedirs(out, exist_ok=True)
    t0, c0 = time.perf_counter(), time.process_time()
    if plain:
        for name, df in data.tables().items():
            table = pa.Table.from_pandas(df, preserve_index=False)
            if fmt == "parquet":
                pq.write_table(table, f"{out}/{name}.parquet", compression="zstd")
            else:
                pa_csv.write_csv(table, f"{out}/{name}.csv")
    else:
        data.save(out, formats=(fmt,))
    res = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "peak": _peak_gib()}
    res["mb"] = sum(p.stat().st_size for p in Path(out).glob(f"*.{fmt}")) / 1e6
    return res


def _in_child(func, *args) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(func, *args).result()


def _cli(args, out: str) -> dict:
    exe = Path(sys.executable).with_name("workbook")
    cmd = [str(exe), "generate", "--preset", args.preset, "--members", str(args.members),
           "--seed", str(args.seed), "--out", out, "--quiet"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with status {status}")
    return {"wall": time.perf_counter() - t0, "cpu": usage.ru_utime + usage.ru_stime,
            "peak": usage.ru_maxrss * 1024 / _GIB, "cmd": " ".join(cmd[1:])}


def _row(label: str, res: dict, base: dict | None = None, note: str = "") -> None:
    ratio = (f"{res['wall'] / base['wall']:6.2f}x wall {res['cpu'] / base['cpu']:6.2f}x CPU" if base
             else " " * 23)
    print(f"{label:<34} {res['wall']:7.2f} s wall {res['cpu']:7.2f} s CPU {res['peak']:5.2f} GiB  {ratio}  {note}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="retail_chain")
    parser.add_argument("--members", type=int, default=1_160_000)
    parser.add_argument("--stores", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-csv", action="store_true", help="do not time CSV writing")
    parser.add_argument("--skip-cli", action="store_true", help="do not time the workbook generate command")
    args = parser.parse_args()

    print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench_generate_") as tmp:
        gen = _in_child(_generate, args, f"{tmp}/data")
        n_member_rows = gen["n_tx"] - gen["n_walk"]
        print(f"preset={args.preset} members={gen['n_members']:,} transactions={gen['n_tx']:,} "
              f"({gen['n_tx'] / gen['wall']:,.0f} transactions/s)")
        base = _in_child(_draws, n_member_rows, gen["n_walk"], gen["n_members"])
        _row("baseline: numpy draws", base)
        _row("generate()", gen, base, "ratio to the draws")
        for fmt in ("parquet",) + (() if args.skip_csv else ("csv",)):
            plain = _in_child(_save, f"{tmp}/data", fmt, f"{tmp}/plain_{fmt}", True)
            ours = _in_child(_save, f"{tmp}/data", fmt, f"{tmp}/ours_{fmt}", False)
            _row(f"baseline: pyarrow writes {fmt}", plain, None, f"{plain['mb']:.0f} MB")
            _row(f"save_dataset {fmt}", ours, plain, "ratio to pyarrow (includes the integrity check)")
        if not args.skip_cli:
            cli = _cli(args, f"{tmp}/cli")
            _row("workbook generate (end to end)", cli, base, "ratio to the draws; " + cli["cmd"].replace(tmp, "<tmp>"))
    print(f"load average after: {os.getloadavg()[0]:.1f} (wall times are inflated if above the cpu count)")


if __name__ == "__main__":
    main()
