"""Benchmark: RFM + lifecycle stages on 10M transactions / 1M members.

Synthesises the data directly with NumPy (independent of workbook.synth):
each member has a Gamma-distributed purchase rate over a two-year window, so
purchase counts are Poisson-Gamma (negative binomial) and heavily tied at 1-2,
like real loyalty data; amounts are Gamma; about 1 % of rows are returns and
3 % walk-ins; 10 % of registered members never buy.

Timed steps, per engine:

* ``rfm_table``          member summary + RFM columns
* ``score+segment``      ``RFMScorer().fit_transform`` + ``segment`` (rfm11) + ``segment_summary``
* ``lifecycle_stages``   its own member summary + stage rules (incl. potential members)
* shared pipeline        one ``member_summary`` feeding ``rfm_from_summary``, scoring,
                         segments and ``stages_from_summary`` (each timed): how a notebook
                         would run it, and how much of the time is the aggregation itself

and, on the same data, ``lifetimes.utils.summary_data_from_transaction_data``
(frequency / recency / T / monetary_value per member), whose ratio to
``rfm_table`` is printed.  A failure of any step is printed, not hidden.

Usage::

    .venv/bin/python benchmarks/bench_rfm.py                     # 10M / 1M, pandas, duckdb, duckdb-parquet
    .venv/bin/python benchmarks/bench_rfm.py --transactions 1e6 --members 1e5 --engines pandas
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import traceback

import numpy as np
import pandas as pd

from workbook.aggregate import member_summary
from workbook.lifecycle import lifecycle_stages, stages_from_summary
from workbook.rfm import RFMScorer, rfm_from_summary, rfm_table, segment, segment_summary

START = np.datetime64("2023-01-01T00:00:00", "s")
SPAN_SECONDS = 2 * 365 * 86_400


def synthesise(n_transactions: int, n_members: int, seed: int = 2024) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Transactions and members following the data contract (member ids as strings)."""
    rng = np.random.default_rng(seed)
    width = len(str(n_members))
    ids = np.char.add("M", np.char.zfill(np.arange(n_members).astype(str), width))
    join = START + rng.integers(-365 * 86_400, SPAN_SECONDS, n_members).astype("timedelta64[s]")
    buyers = rng.random(n_members) >= 0.10
    rate = rng.gamma(shape=0.7, scale=1.0, size=n_members) * buyers
    member = rng.choice(n_members, size=n_transactions, p=rate / rate.sum())
    # purchases fall after the member's registration (or at the window start)
    first = np.maximum(join[member], START)
    room = (START + np.timedelta64(SPAN_SECONDS, "s") - first).astype("int64")
    ts = first + (rng.random(n_transactions) * room).astype("int64").astype("timedelta64[s]")
    amount = np.round(rng.gamma(shape=2.0, scale=80.0, size=n_transactions), 2)
    is_return = rng.random(n_transactions) < 0.01
    amount[is_return] *= -1
    member_id = pd.array(ids[member], dtype="str")
    walk_in = rng.random(n_transactions) < 0.03
    member_id[walk_in] = pd.NA
    tx = pd.DataFrame(
        {
            "member_id": member_id,
            "timestamp": ts.astype("datetime64[us]"),
            "amount": amount,
            "is_return": is_return,
        }
    )
    members = pd.DataFrame({"member_id": pd.array(ids, dtype="str"), "join_date": join.astype("datetime64[us]")})
    return tx, members


def timed(label: str, fn, results: dict) -> object:
    t0 = time.perf_counter()
    try:
        out = fn()
    except Exception as exc:  # report, do not hide
        results[label] = None
        print(f"  {label:<32} FAILED: {type(exc).__name__}: {exc}", flush=True)
        traceback.print_exc(limit=3)
        return None
    results[label] = time.perf_counter() - t0
    print(f"  {label:<32} {results[label]:8.2f} s", flush=True)
    return out


def run_engine(label: str, tx: object, members: pd.DataFrame) -> dict:
    """Time every step for one engine; ``tx`` is a DataFrame or, for duckdb-parquet, a file path."""
    engine = "duckdb" if label == "duckdb-parquet" else label
    print(f"engine={label}", flush=True)
    r: dict = {}
    rfm = timed("rfm_table", lambda: rfm_table(tx, engine=engine), r)
    if rfm is not None:
        timed("score+segment", lambda: segment_summary(segment(RFMScorer().fit_transform(rfm))), r)
    timed("lifecycle_stages", lambda: lifecycle_stages(tx, members, engine=engine), r)
    # the shared pipeline: one pass over the transactions, then the small per-member steps
    summary = timed("  member_summary (once)", lambda: member_summary(tx, engine=engine), r)
    if summary is not None:
        timed(
            "  rfm+score+segment (summary)",
            lambda: segment_summary(segment(RFMScorer().fit_transform(rfm_from_summary(summary)))),
            r,
        )
        timed("  stages_from_summary", lambda: stages_from_summary(summary, members), r)
    shared = [r.get(k) for k in ("  member_summary (once)", "  rfm+score+segment (summary)", "  stages_from_summary")]
    r["pipeline (shared summary)"] = sum(shared) if all(p is not None for p in shared) else None
    parts = [r.get(k) for k in ("rfm_table", "score+segment", "lifecycle_stages")]
    r["rfm+scoring+lifecycle"] = sum(parts) if all(p is not None for p in parts) else None
    return r


def run_lifetimes(tx: pd.DataFrame) -> float | None:
    print("lifetimes 0.11.3 summary_data_from_transaction_data (same data, members only, returns dropped)", flush=True)
    try:
        from lifetimes.utils import summary_data_from_transaction_data
    except Exception as exc:  # noqa: BLE001
        print(f"  lifetimes not importable: {type(exc).__name__}: {exc}")
        return None
    buys = tx.loc[tx["member_id"].notna() & ~tx["is_return"]]
    end = tx["timestamp"].max().normalize()
    r: dict = {}
    timed(
        "summary_data_from_transaction_data",
        lambda: summary_data_from_transaction_data(
            buys, "member_id", "timestamp", monetary_value_col="amount", observation_period_end=end
        ),
        r,
    )
    return r["summary_data_from_transaction_data"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--transactions", type=float, default=10e6)
    p.add_argument("--members", type=float, default=1e6)
    p.add_argument(
        "--engines",
        nargs="+",
        default=["pandas", "duckdb", "duckdb-parquet"],
        help="duckdb-parquet: DuckDB reading the same data from a Parquet file (the scale path)",
    )
    p.add_argument("--skip-lifetimes", action="store_true")
    p.add_argument("--seed", type=int, default=2024)
    args = p.parse_args()
    n_tx, n_m = int(args.transactions), int(args.members)
    print(
        f"bench_rfm: {n_tx:,} transactions, {n_m:,} members; {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}",
        flush=True,
    )
    t0 = time.perf_counter()
    tx, members = synthesise(n_tx, n_m, args.seed)
    print(f"synthesised in {time.perf_counter() - t0:.1f} s", flush=True)

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label in args.engines:
            source: object = tx
            if label == "duckdb-parquet":  # writing the file is set-up, not timed
                source = os.path.join(tmp, "transactions.parquet")
                tx.to_parquet(source, index=False)
            results[label] = run_engine(label, source, members)
    lt = None if args.skip_lifetimes else run_lifetimes(tx)

    print("\nsummary (seconds; target: RFM + scoring + lifecycle under 10 s on 2 cores)")
    for engine, r in results.items():
        total = r.get("rfm+scoring+lifecycle")
        shared = r.get("pipeline (shared summary)")
        fmt = lambda v: "failed" if v is None else f"{v:.2f}"  # noqa: E731
        own = [r.get("  rfm+score+segment (summary)"), r.get("  stages_from_summary")]
        line = (
            f"  {engine:<14} rfm+scoring+lifecycle {fmt(total)}  shared-summary pipeline {fmt(shared)}"
            f"  (of which member_summary {fmt(r.get('  member_summary (once)'))},"
            f" rfm/lifecycle steps {fmt(sum(own) if None not in own else None)})"
        )
        if total is not None:
            line += "  (meets target)" if min(total, shared or total) < 10 else "  (MISSES target)"
        if lt is not None and r.get("rfm_table") is not None:
            line += f"  lifetimes/rfm_table speed ratio {lt / r['rfm_table']:.1f}x"
        print(line)
    if lt is None and not args.skip_lifetimes:
        print("  lifetimes: failed or unavailable (see above); no ratio")


if __name__ == "__main__":
    main()
