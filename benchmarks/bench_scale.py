"""Scale benchmark of the per-member aggregation: pandas vs DuckDB vs Spark.

Generates synthetic transactions straight to Parquet in chunks (so generation
never holds more than one chunk in memory), then times
``workbook.aggregate.member_summary`` on each engine in a fresh subprocess
(``--rounds`` times, default 2) and records its peak memory:

* ``duckdb``: ``member_summary("<folder>")``, what a user writes (add
  ``--duckdb-memory-limit 3GB`` to pass a connection with that limit instead);
* ``sql``: the baseline, one plain DuckDB GROUP BY over the same files with the
  essentials (first/last purchase, purchases, distinct purchase days, net
  spend); every engine's time is also printed as a ratio to it;
* ``pandas``: load the files with ``pd.read_parquet``, then ``engine="pandas"``;
* ``spark``: a local Spark session.


* wall seconds of the aggregation (for pandas also the Parquet load; for Spark
  also the session start, reported separately);
* peak resident memory: the engine process's own ``VmHWM`` (see ``_harness.peak_rss_gib``),
  and the peak of the whole process tree sampled every 0.1 s (for Spark this
  includes the JVM and its Python workers).

Usage::

    python benchmarks/bench_scale.py                      # 10M: duckdb, sql, pandas; 100M: duckdb, sql
    python benchmarks/bench_scale.py --sizes 1M --engines pandas duckdb
    python benchmarks/bench_scale.py --out /data/bench --duckdb-memory-limit 3GB --clean

The results (a Markdown table) are printed and written to ``<out>/results.md``;
``--clean`` deletes the generated data afterwards.  The engines' results are
compared with each other: the last column says whether each equals the first
engine's result exactly.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import peak_rss_gib  # noqa: E402
from bench_rfm import BASELINE_SQL  # noqa: E402 - the one plain-SQL baseline of every benchmark

CHUNK_ROWS = 5_000_000
TX_PER_MEMBER = 20  # 10M transactions -> 500k members
DEFAULT_PLAN = {"10M": ["duckdb", "sql", "pandas"], "100M": ["duckdb", "sql"]}



def parse_size(text: str) -> int:
    """'10M' -> 10_000_000; '250k' -> 250_000."""
    text = text.strip().upper()
    factor = {"K": 10**3, "M": 10**6, "G": 10**9}.get(text[-1], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


# --------------------------------------------------------------------------- #
# Data generation, chunk by chunk
# --------------------------------------------------------------------------- #
def _chunk(n: int, n_members: int, seed: int, index: int) -> pa.Table:
    rng = np.random.default_rng([seed, index])
    # Skewed activity: a Zipf-like member draw, like real loyalty programmes.
    member = np.minimum(rng.pareto(1.2, n) * n_members / 20, n_members - 1).astype(np.int64)
    member = rng.permutation(n_members)[member]  # spread heavy buyers over the id range
    ids = pc.binary_join_element_wise("M", pc.utf8_lpad(pa.array(member).cast(pa.string()), 8, "0"), "")
    walk_in = rng.random(n) < 0.10
    ids = pc.if_else(pa.array(walk_in), pa.scalar(None, pa.string()), ids)
    start = np.datetime64("2022-01-01T00:00:00", "us")
    micros = rng.integers(0, 3 * 365 * 86_400 * 10**6, n)
    ts = start + micros.astype("timedelta64[us]")
    is_return = rng.random(n) < 0.03
    amount = np.round(rng.lognormal(4.2, 0.9, n), 2)
    amount[is_return] *= -1
    store = rng.integers(0, 300, n)
    return pa.table(
        {
            "member_id": ids,
            "store_id": pc.binary_join_element_wise("S", pc.utf8_lpad(pa.array(store).cast(pa.string()), 3, "0"), ""),
            "timestamp": pa.array(ts, pa.timestamp("us")),
            "amount": pa.array(amount),
            "is_return": pa.array(is_return),
        }
    )


def generate(n_rows: int, folder: Path, seed: int = 7, chunk_rows: int = CHUNK_ROWS) -> Path:
    """Write ``n_rows`` synthetic transactions to ``folder/part-*.parquet`` (idempotent)."""
    marker = folder / "_COMPLETE.json"
    if marker.exists() and json.loads(marker.read_text()).get("rows") == n_rows:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    n_members = max(n_rows // TX_PER_MEMBER, 1)
    t0 = time.perf_counter()
    for i, lo in enumerate(range(0, n_rows, chunk_rows)):
        table = _chunk(min(chunk_rows, n_rows - lo), n_members, seed, i)
        pq.write_table(table, folder / f"part-{i:05d}.parquet", row_group_size=1_000_000)
        del table
    marker.write_text(json.dumps({"rows": n_rows, "members": n_members, "seconds": time.perf_counter() - t0}))
    return folder


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("*.parquet"))


# --------------------------------------------------------------------------- #
# One engine run (executed in a child process)
# --------------------------------------------------------------------------- #
def run_one(engine: str, folder: Path, result_path: Path, args: argparse.Namespace) -> dict:
    from workbook.aggregate import member_summary

    out: dict = {"engine": engine}
    if engine == "pandas":
        import pandas as pd

        t0 = time.perf_counter()
        tx = pd.read_parquet(folder, columns=["member_id", "timestamp", "amount", "is_return"])
        out["load_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = member_summary(tx)
        out["aggregate_s"] = time.perf_counter() - t0
    elif engine == "duckdb":
        import duckdb

        if args.duckdb_memory_limit:
            config = {"memory_limit": args.duckdb_memory_limit, "temp_directory": str(folder.parent / "duckdb_tmp")}
            if args.threads:
                config["threads"] = args.threads
            source = duckdb.connect(config=config).read_parquet(str(folder / "*.parquet"))
            out["memory_limit"] = args.duckdb_memory_limit
        else:
            source = str(folder)
        t0 = time.perf_counter()
        summary = member_summary(source)
        out["aggregate_s"] = time.perf_counter() - t0
    elif engine == "sql":
        import duckdb

        pattern = str(folder / "*.parquet").replace("'", "''")
        t0 = time.perf_counter()
        baseline = duckdb.connect().sql(BASELINE_SQL.format(source=f"read_parquet('{pattern}')")).df()
        out["aggregate_s"] = time.perf_counter() - t0
        out["members"] = len(baseline)
        return out
    elif engine == "spark":
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        from pyspark.sql import SparkSession

        t0 = time.perf_counter()
        spark = (
            SparkSession.builder.master(f"local[{args.threads or '*'}]")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", args.spark_driver_memory)
            .config("spark.sql.shuffle.partitions", "16")
            .config("spark.local.dir", str(folder.parent / "spark_tmp"))
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        out["session_start_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = member_summary(spark.read.parquet(str(folder)))
        out["aggregate_s"] = time.perf_counter() - t0
        out["driver_memory"] = args.spark_driver_memory
        proc = getattr(spark.sparkContext._gateway, "proc", None)
        spark.stop()
        if proc is not None:  # let the JVM exit so that its memory is accounted for
            proc.stdin.close()
            proc.wait(timeout=60)
    else:
        raise SystemExit(f"unknown engine {engine!r}")
    out["members"] = len(summary)
    summary.attrs = {}  # the analysis date Timestamp is not JSON metadata
    summary.to_parquet(result_path)
    return out


# --------------------------------------------------------------------------- #
# Parent: run each engine in a subprocess, measure memory, compare results
# --------------------------------------------------------------------------- #
def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def measure(engine: str, folder: Path, result_path: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--run-one", engine, "--data", str(folder), "--result", str(result_path),
           "--duckdb-memory-limit", args.duckdb_memory_limit, "--spark-driver-memory", args.spark_driver_memory]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    log_out = result_path.with_suffix(".stdout")
    log_err = result_path.with_suffix(".stderr")
    t0 = time.perf_counter()
    with open(log_out, "w") as fout, open(log_err, "w") as ferr:
        proc = subprocess.Popen(cmd, stdout=fout, stderr=ferr, text=True)
    peak_tree = [0]
    done = threading.Event()

    def sample() -> None:
        try:
            import psutil  # noqa: F401
        except ImportError:
            return
        while not done.is_set():
            peak_tree[0] = max(peak_tree[0], _tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # Reap with wait4 to get this child's own resource usage (KiB on Linux).
    _, status, rusage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    err = log_err.read_text()
    if proc.returncode != 0:
        return {"engine": engine, "error": err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}",
                "process_s": wall}
    stdout_chunks = [log_out.read_text()]
    res = json.loads("".join(stdout_chunks).strip().splitlines()[-1])
    res["process_s"] = wall
    # The child's own VmHWM; wait4's ru_maxrss would include this parent's peak (it generated the data).
    res["maxrss_gib"] = res.pop("peak_gib", None) or rusage.ru_maxrss / 2**20
    res["peak_tree_gib"] = peak_tree[0] / 2**30 if peak_tree[0] else float("nan")
    return res


def _compare(paths: list[Path]) -> list[str]:
    import pandas as pd

    ref = pd.read_parquet(paths[0])
    verdicts = ["reference"]
    for p in paths[1:]:
        try:
            pd.testing.assert_frame_equal(pd.read_parquet(p), ref)
            verdicts.append("identical")
        except AssertionError as exc:
            verdicts.append("DIFFERENT: " + str(exc).splitlines()[0])
    return verdicts


def _fmt(x: object, digits: int = 1) -> str:
    return "" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("/tmp/workbook-bench"))
    p.add_argument("--sizes", nargs="+", default=None, help="e.g. 10M 100M (default: the plan below)")
    p.add_argument("--engines", nargs="+", default=None, help="engines for every size (default plan: "
                   "10M on pandas, duckdb, spark; 100M on duckdb)")
    p.add_argument("--duckdb-memory-limit", default="", help="e.g. 3GB (default: DuckDB's own default)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--spark-driver-memory", default="8g")
    p.add_argument("--threads", type=int, default=0, help="0 = all cores")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--clean", action="store_true", help="delete the generated data at the end")
    p.add_argument("--run-one", help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.run_one:
        print(json.dumps({**run_one(args.run_one, args.data, args.result, args), "peak_gib": peak_rss_gib()}))
        return 0

    sizes = args.sizes or list(DEFAULT_PLAN)
    args.out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, "
        f"load average at start {os.getloadavg()[0]:.1f}; Python {platform.python_version()}",
        "",
        "| rows | engine | members | load s | session start s | aggregate s (each round) | time / sql | process s | "
        "peak RSS GiB (engine process) | peak RSS GiB (process tree) | result |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for size in sizes:
        n = parse_size(size)
        folder = args.out / f"tx_{size}"
        t0 = time.perf_counter()
        generate(n, folder, seed=args.seed)
        meta = json.loads((folder / "_COMPLETE.json").read_text())
        print(f"{size}: {n:,} rows, {meta['members']:,} members, {_folder_bytes(folder) / 2**30:.2f} GiB Parquet "
              f"(generated in {meta['seconds']:.0f} s; ready after {time.perf_counter() - t0:.0f} s)", flush=True)
        engines = args.engines or DEFAULT_PLAN.get(size, ["duckdb"])
        results, paths, rounds = [], [], {}
        for rnd in range(args.rounds):
            for engine in engines if rnd % 2 == 0 else engines[::-1]:
                result_path = args.out / f"result_{size}_{engine}.parquet"
                res = measure(engine, folder, result_path, args)
                print(f"  round {rnd + 1} {engine}: {json.dumps(res)}", flush=True)
                rounds.setdefault(engine, []).append(res)
        for engine in engines:
            ok = [r for r in rounds[engine] if "error" not in r]
            best = min(ok, key=lambda r: r["aggregate_s"]) if ok else rounds[engine][0]
            best["all_s"] = ", ".join(_fmt(r.get("aggregate_s"), 2) for r in rounds[engine])
            best["maxrss_gib"] = max((r["maxrss_gib"] for r in ok), default=float("nan"))
            results.append(best)
            if "error" not in best and engine != "sql":
                paths.append(args.out / f"result_{size}_{engine}.parquet")
        compared = [r["engine"] for r in results if "error" not in r and r["engine"] != "sql"]
        verdicts = dict(zip(compared, _compare(paths))) if paths else {}
        sql_s = next((r["aggregate_s"] for r in results if r["engine"] == "sql" and "error" not in r), None)
        for r in results:
            if "error" in r:
                lines.append(f"| {size} | {r['engine']} | | | | failed: {r['error']} | | | | | |")
                continue
            ratio = _fmt(r["aggregate_s"] / sql_s, 2) if sql_s else ""
            lines.append(
                f"| {size} | {r['engine']} | {r['members']:,} | {_fmt(r.get('load_s'))} | "
                f"{_fmt(r.get('session_start_s'))} | {r['all_s']} | {ratio} | {_fmt(r['process_s'])} | "
                f"{_fmt(r['maxrss_gib'], 2)} | {_fmt(r['peak_tree_gib'], 2)} | {verdicts.get(r['engine'], '')} |"
            )
    lines.append("")
    lines.append(f"Load average at the end: {os.getloadavg()[0]:.1f} (1 min), {os.getloadavg()[2]:.1f} (15 min).")
    table = "\n".join(lines)
    print("\n" + table)
    (args.out / "results.md").write_text(table + "\n")
    if args.clean:
        for child in args.out.iterdir():
            if child.name != "results.md":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
