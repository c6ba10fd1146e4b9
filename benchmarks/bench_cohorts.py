"""Benchmark: cohort tables on 10M transactions / 1M members (the data of bench_rfm.py).

Methods, each in its own process, three rounds in alternating order (see ``_harness.py``):

* ``retention parquet``  ``cohort_table`` (monthly first-purchase retention matrix) over the Parquet file
* ``retention frame``    the same on the in-memory DataFrame, default engine (DuckDB over Arrow)
* ``retention pandas``   the same with ``engine="pandas"`` (the reference implementation)
* ``activity parquet``   ``member_period_activity`` over the Parquet file: the member x month
  table itself (millions of rows), for notebooks that need it
* ``sql parquet``        baseline: one plain DuckDB query computing the retention counts
  (GROUP BY member and month, first month per member, GROUP BY cohort and month)

Each timed step runs after the data are loaded (for the frame methods); the
ratio columns divide by the baseline measured in the same run.

Usage::

    .venv/bin/python benchmarks/bench_cohorts.py
    .venv/bin/python benchmarks/bench_cohorts.py --transactions 1e6 --members 1e5
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import bench_main, timed  # noqa: E402
from bench_rfm import prepare  # noqa: E402


def _retention(source: object, engine: str | None) -> dict:
    import duckdb  # noqa: F401 - imported before the clock starts

    from workbook.cohorts import cohort_table

    wide, secs, cpu = timed(lambda: cohort_table(source, engine=engine))
    size = int(wide.attrs["cohort_size"].sum())
    return {"seconds": secs, "cpu_s": cpu, "result": f"{wide.shape[0]} cohorts x {wide.shape[1]} months, {size:,} members"}


def retention_parquet(data: Path) -> dict:
    return _retention(str(data / "transactions.parquet"), None)


def retention_frame(data: Path) -> dict:
    return _retention(pd.read_parquet(data / "transactions.parquet"), None)


def retention_pandas(data: Path) -> dict:
    return _retention(pd.read_parquet(data / "transactions.parquet"), "pandas")


def activity_parquet(data: Path) -> dict:
    import duckdb  # noqa: F401

    from workbook.aggregate import member_period_activity

    act, secs, cpu = timed(lambda: member_period_activity(str(data / "transactions.parquet")))
    return {"seconds": secs, "cpu_s": cpu, "result": f"{len(act):,} member-months"}


BASELINE_SQL = """
WITH act AS (
    SELECT member_id, date_trunc('month', timestamp) AS month, count(*) FILTER (WHERE NOT is_return) AS n
    FROM read_parquet('{path}') WHERE member_id IS NOT NULL GROUP BY member_id, month
), first AS (
    SELECT member_id, min(month) AS cohort FROM act WHERE n > 0 GROUP BY member_id
)
SELECT cohort, month, count(*) AS members
FROM act JOIN first USING (member_id)
WHERE n > 0
GROUP BY cohort, month
"""


def sql_parquet(data: Path) -> dict:
    import duckdb

    path = str(data / "transactions.parquet").replace("'", "''")
    out, secs, cpu = timed(lambda: duckdb.connect().sql(BASELINE_SQL.format(path=path)).df())
    return {"seconds": secs, "cpu_s": cpu, "result": f"{len(out)} cohort-months"}


METHODS = {
    "retention parquet": retention_parquet,
    "retention frame": retention_frame,
    "retention pandas": retention_pandas,
    "activity parquet": activity_parquet,
    "sql parquet": sql_parquet,
}


def main(argv: list[str] | None = None) -> str:
    return bench_main(
        __file__, METHODS, sys.argv[1:] if argv is None else argv, description=__doc__.splitlines()[0],
        prepare=prepare, baselines=["sql parquet"],
    )


if __name__ == "__main__":
    main()
