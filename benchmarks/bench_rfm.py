"""Benchmark: the shared per-member pipeline on 10M transactions / 1M members.

The pipeline is what a notebook runs: one ``member_summary`` feeding
``rfm_from_summary``, ``RFMScorer().fit_transform``, ``segment`` (rfm11),
``segment_summary`` and ``stages_from_summary`` (lifecycle stages, including
members who never bought).  Methods, each in its own process, three rounds in
alternating order (see ``_harness.py``):

* ``pipeline parquet``  DuckDB over the Parquet file (the scale path)
* ``pipeline frame``    the in-memory DataFrame, default engine (DuckDB over its Arrow columns)
* ``pipeline pandas``   the in-memory DataFrame, ``engine="pandas"`` (the NumPy reference implementation)
* ``sql parquet`` / ``sql frame``   baselines: one plain DuckDB GROUP BY with the essentials
  (first/last purchase, purchases, distinct purchase days, net spend), over the file / the frame
* ``lifetimes``         ``lifetimes.utils.summary_data_from_transaction_data`` on the frame
  (members' purchases only; that filtering is not timed)

Loading the DataFrame from Parquet is set-up and not timed; peak memory is the
whole process's.  The data are synthesised directly with NumPy (independent
of workbook.synth): each member has a Gamma-distributed purchase rate over a
two-year window, so purchase counts are Poisson-Gamma and heavily tied at 1-2
like real loyalty data; amounts are Gamma; about 1 % of rows are returns and
3 % walk-ins; 10 % of registered members never buy; member ids are strings.

Usage::

    .venv/bin/python benchmarks/bench_rfm.py                      # 10M / 1M, every method, 3 rounds
    .venv/bin/python benchmarks/bench_rfm.py --transactions 1e6 --members 1e5 --methods "pipeline parquet" "sql parquet"
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import bench_main, timed, written_once  # noqa: E402

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



def write_data(folder: Path, n_transactions: int, n_members: int, seed: int) -> Path:
    """Synthesise once into ``folder`` (transactions.parquet, members.parquet); reuse if present."""
    def write(out: Path) -> None:
        tx, members = synthesise(n_transactions, n_members, seed)
        tx.to_parquet(out / "transactions.parquet", index=False)
        members.to_parquet(out / "members.parquet", index=False)

    return written_once(folder, {"transactions": n_transactions, "members": n_members, "seed": seed}, write)


def _pipeline(source: object, members: pd.DataFrame, engine: str | None) -> dict:
    import duckdb  # noqa: F401 - imported before the clock starts, as in a notebook that ran before

    from workbook.aggregate import member_summary
    from workbook.lifecycle import stages_from_summary
    from workbook.rfm import RFMScorer, rfm_from_summary, segment, segment_summary

    summary, t_sum, c_sum = timed(lambda: member_summary(source, engine=engine))
    segs, t_rfm, c_rfm = timed(lambda: segment_summary(segment(RFMScorer().fit_transform(rfm_from_summary(summary)))))
    stages, t_st, c_st = timed(lambda: stages_from_summary(summary, members))
    return {
        "seconds": t_sum + t_rfm + t_st,
        "cpu_s": c_sum + c_rfm + c_st,
        "result": f"{len(summary):,} buyers, {len(stages):,} members; member_summary {t_sum:.2f} s, "
        f"RFM scores+segments {t_rfm:.2f} s, lifecycle stages {t_st:.2f} s",
    }


def pipeline_parquet(data: Path) -> dict:
    members = pd.read_parquet(data / "members.parquet")
    return _pipeline(str(data / "transactions.parquet"), members, None)


def pipeline_frame(data: Path) -> dict:
    tx, members = pd.read_parquet(data / "transactions.parquet"), pd.read_parquet(data / "members.parquet")
    return _pipeline(tx, members, None)


def pipeline_pandas(data: Path) -> dict:
    tx, members = pd.read_parquet(data / "transactions.parquet"), pd.read_parquet(data / "members.parquet")
    return _pipeline(tx, members, "pandas")


#: The plain-SQL baseline: what an analyst would write by hand, without the
#: workbook's validation, analysis-date rules, lifecycle facts or finishing.
BASELINE_SQL = """
SELECT member_id,
       min(timestamp) FILTER (WHERE NOT is_return) AS first_purchase,
       max(timestamp) FILTER (WHERE NOT is_return) AS last_purchase,
       count(*) FILTER (WHERE NOT is_return) AS n_purchases,
       count(DISTINCT CAST(timestamp AS DATE)) FILTER (WHERE NOT is_return) AS n_purchase_days,
       sum(amount) AS net_spend
FROM {source}
WHERE member_id IS NOT NULL
GROUP BY member_id
"""


def sql_parquet(data: Path) -> dict:
    import duckdb

    path = str(data / "transactions.parquet").replace("'", "''")
    out, secs, cpu = timed(lambda: duckdb.connect().sql(BASELINE_SQL.format(source=f"read_parquet('{path}')")).df())
    return {"seconds": secs, "cpu_s": cpu, "result": f"{len(out):,} members"}


def sql_frame(data: Path) -> dict:
    import duckdb

    tx = pd.read_parquet(data / "transactions.parquet")
    con = duckdb.connect()
    con.register("tx", tx)
    out, secs, cpu = timed(lambda: con.sql(BASELINE_SQL.format(source="tx")).df())
    return {"seconds": secs, "cpu_s": cpu, "result": f"{len(out):,} members"}


def lifetimes_summary(data: Path) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifetimes sets a pandas option deprecated in pandas 3
        from lifetimes.utils import summary_data_from_transaction_data

    tx = pd.read_parquet(data / "transactions.parquet")
    buys = tx.loc[tx["member_id"].notna() & ~tx["is_return"]]
    end = tx["timestamp"].max().normalize()
    out, secs, cpu = timed(
        lambda: summary_data_from_transaction_data(
            buys, "member_id", "timestamp", monetary_value_col="amount", observation_period_end=end
        )
    )
    return {"seconds": secs, "cpu_s": cpu, "result": f"{len(out):,} members"}


METHODS = {
    "pipeline parquet": pipeline_parquet,
    "pipeline frame": pipeline_frame,
    "pipeline pandas": pipeline_pandas,
    "sql parquet": sql_parquet,
    "sql frame": sql_frame,
    "lifetimes": lifetimes_summary,
}
BASELINES = ["sql parquet", "sql frame"]


def prepare(n_transactions: int, n_members: int, seed: int, data_dir: Path) -> Path:
    return write_data(data_dir / f"tx_{n_transactions}_{n_members}_{seed}", n_transactions, n_members, seed)


def main(argv: list[str] | None = None) -> str:
    return bench_main(
        __file__, METHODS, sys.argv[1:] if argv is None else argv, description=__doc__.splitlines()[0],
        prepare=prepare, baselines=BASELINES, faster_than=["lifetimes"],
    )


if __name__ == "__main__":
    main()
