"""The per-member aggregation gives identical results on pandas, DuckDB and Spark.

Hand-computed edge cases pin the definitions (see ``workbook.aggregate``); the
other tests check that every engine and every kind of source reproduces the
pandas engine *exactly* (``assert_frame_equal`` with default, exact checks).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbook import sql
from workbook.aggregate import SUMMARY_COLUMNS, cohort_activity, member_period_activity, member_summary
from workbook.engines import resolve_engine, resolve_files
from workbook.errors import WorkbookInputError

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "datasets" / "transactions.parquet"


def _edge_cases() -> pd.DataFrame:
    """Hand-made transactions covering every special case of the definitions."""
    rows = [
        # single: one purchase, late in the evening the day before the analysis date
        ("single", "2024-03-31 23:59:59.999999", 12.34, False),
        # sameday: two purchases on one day, another one earlier
        ("sameday", "2024-01-10 08:00", 10.0, False),
        ("sameday", "2024-03-01 09:00", 20.0, False),
        ("sameday", "2024-03-01 18:30", 30.0, False),
        # tie: the last two purchases at the same instant, both on one day -> no previous purchase day
        ("tie", "2024-02-01 12:00", 5.0, False),
        ("tie", "2024-02-01 12:00", 7.0, False),
        # returner: buys, returns part of it; sub-cent float noise is counted in cents
        ("returner", "2023-06-15 10:00", 0.1, False),
        ("returner", "2023-06-16 10:00", 0.2, False),
        ("returner", "2024-02-29 11:00", 99.99, False),
        ("returner", "2024-03-02 11:00", -99.99, True),
        # onlyreturns: no purchase -> not in the summary, but in the activity table
        ("onlyreturns", "2024-01-05 10:00", -15.0, True),
        # future: rows at or after the analysis date are ignored
        ("future", "2024-04-01 00:00", 50.0, False),
        ("single", "2024-04-01 10:00", 500.0, False),
        # a walk-in sale without member id
        (None, "2024-03-15 10:00", 8.0, False),
        # halfcent: 0.125 CNY rounds half up to 13 fen
        ("halfcent", "2022-12-31 00:00", 0.125, False),
    ]
    df = pd.DataFrame(rows, columns=["member_id", "timestamp", "amount", "is_return"])
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="ISO8601")
    df.insert(0, "transaction_id", [f"t{i}" for i in range(len(df))])
    return df


ANALYSIS = "2024-04-01"


def _random_transactions(n: int, n_members: int, seed: int) -> pd.DataFrame:
    """Realistic-looking transactions: cents amounts, returns, walk-ins, same-instant repeats."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2022-01-01T00:00:00", "s")
    seconds = rng.integers(0, 2 * 365 * 86400, size=n)
    ts = (start + seconds.astype("timedelta64[s]")).astype("datetime64[us]")
    ts[1::50] = ts[0:-1:50]  # some repeats of the previous timestamp
    members = np.array([f"M{i:06d}" for i in range(n_members)], dtype=object)[rng.integers(0, n_members, n)]
    members[rng.random(n) < 0.05] = None
    is_return = rng.random(n) < 0.04
    amount = np.round(rng.lognormal(4.0, 0.8, size=n), 2)
    amount[is_return] *= -1
    return pd.DataFrame(
        {"member_id": members, "timestamp": ts, "amount": amount, "is_return": is_return}
    )


@pytest.fixture(scope="module")
def edge():
    return _edge_cases()


@pytest.fixture(scope="module")
def rand_tx():
    return _random_transactions(20_000, 1_500, seed=11)


# --------------------------------------------------------------------------- #
# The definitions, by hand
# --------------------------------------------------------------------------- #
def test_edge_cases_hand_computed(edge):
    s = member_summary(edge, analysis_date=ANALYSIS, window_days=60)
    assert list(s.index) == ["halfcent", "returner", "sameday", "single", "tie"]
    assert list(s.columns) == SUMMARY_COLUMNS
    # 23:59:59.999999 -> next midnight is not a whole day: recency 0, although
    # DuckDB's date_diff('day', ...) would count the midnight crossed as 1.
    assert s.loc["single", "recency_days"] == 0
    assert s.loc["single", "n_purchases"] == 1 and pd.isna(s.loc["single", "prev_purchase_day"])
    assert s.loc["sameday", ["n_purchases", "n_purchase_days"]].tolist() == [3, 2]
    # the day before the last purchase day, not the earlier receipt of that day
    assert s.loc["sameday", "prev_purchase_day"] == pd.Timestamp("2024-01-10")
    # 2024-03-01 18:30 -> 2024-04-01 00:00 = 30 days 5.5 hours
    assert s.loc["sameday", "recency_days"] == 30
    assert s.loc["sameday", "n_purchases_window"] == 2  # window starts 2024-02-01
    assert pd.isna(s.loc["tie", "prev_purchase_day"])
    assert s.loc["tie", "n_purchase_days"] == 1
    assert s.loc["tie", "n_purchases_window"] == 2  # 2024-02-01 12:00 >= 2024-02-01
    # 0.1 + 0.2 + 99.99 - 99.99 counted in cents is exactly 0.30
    assert s.loc["returner", "monetary_total"] == 0.3
    assert s.loc["returner", "monetary_avg"] == 0.3 / 3
    assert s.loc["returner", ["n_purchases", "n_returns"]].tolist() == [3, 1]
    assert s.loc["halfcent", "monetary_total"] == 0.13
    assert s.loc["halfcent", "tenure_days"] == 457  # 2022-12-31 -> 2024-04-01
    assert s.attrs["analysis_date"] == pd.Timestamp(ANALYSIS)


def test_duckdb_date_diff_counts_midnights_not_days():
    """Why recency is not computed with date_diff: it disagrees with whole elapsed days."""
    n = duckdb.sql(
        "SELECT date_diff('day', TIMESTAMP '2024-03-31 23:00', TIMESTAMP '2024-04-01 00:00')"
    ).fetchall()[0][0]
    tx = pd.DataFrame({"member_id": ["a"], "timestamp": pd.to_datetime(["2024-03-31 23:00"]), "amount": [1.0]})
    assert n == 1
    for engine in ("pandas", "duckdb"):
        assert member_summary(tx, analysis_date=ANALYSIS, engine=engine).loc["a", "recency_days"] == 0


# --------------------------------------------------------------------------- #
# DuckDB agrees exactly with pandas
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("window_days", [60, 365])
def test_duckdb_equals_pandas_on_edge_cases(edge, window_days):
    expected = member_summary(edge, analysis_date=ANALYSIS, window_days=window_days)
    got = member_summary(edge, analysis_date=ANALYSIS, window_days=window_days, engine="duckdb")
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs == expected.attrs


@pytest.mark.parametrize("analysis_date", [None, "2023-09-30 15:00"])
@pytest.mark.parametrize("drop_return_col", [False, True])
def test_duckdb_equals_pandas_on_random_data(rand_tx, analysis_date, drop_return_col):
    tx = rand_tx.drop(columns="is_return") if drop_return_col else rand_tx
    before = tx.copy()
    expected = member_summary(tx, analysis_date=analysis_date)
    got = member_summary(tx, analysis_date=analysis_date, engine="duckdb")
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs["analysis_date"] == expected.attrs["analysis_date"]
    pd.testing.assert_frame_equal(tx, before)  # input untouched


@pytest.mark.parametrize("freq", ["M", "W"])
def test_period_activity_duckdb_equals_pandas(rand_tx, edge, freq):
    for tx in (rand_tx, edge):
        pd.testing.assert_frame_equal(
            member_period_activity(tx, analysis_date=ANALYSIS, freq=freq, engine="duckdb"),
            member_period_activity(tx, analysis_date=ANALYSIS, freq=freq),
        )


def test_period_activity_edge_hand_computed(edge):
    a = member_period_activity(edge, analysis_date=ANALYSIS, freq="W")
    only = a[a["member_id"] == "onlyreturns"]
    assert only[["n_purchases", "amount"]].values.tolist() == [[0, -15.0]]
    assert only["period"].tolist() == [pd.Timestamp("2024-01-01")]  # a Monday
    sameday = a[a["member_id"] == "sameday"]
    # 2024-03-01 is a Friday: its week starts Monday 2024-02-26
    assert sameday["period"].tolist() == [pd.Timestamp("2024-01-08"), pd.Timestamp("2024-02-26")]
    assert sameday["amount"].tolist() == [10.0, 50.0]


_row = st.tuples(
    st.sampled_from(["a", "b", "c", "d", None]),
    st.integers(0, 40 * 86400 * 10**6),  # microseconds into the period
    st.integers(-5000, 20000),  # cents
    st.booleans(),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_row, min_size=1, max_size=30), cut_days=st.integers(0, 45), window=st.integers(1, 50))
def test_duckdb_equals_pandas_property(rows, cut_days, window):
    members, micros, cents, ret = zip(*rows)
    tx = pd.DataFrame(
        {
            "member_id": list(members),
            "timestamp": np.datetime64("2024-01-01", "us") + np.array(micros).astype("timedelta64[us]"),
            "amount": np.array(cents) / 100.0,
            "is_return": list(ret),
        }
    )
    date = pd.Timestamp("2024-01-01") + pd.Timedelta(days=cut_days)
    if date < tx["timestamp"].min():
        date = None
    expected = member_summary(tx, analysis_date=date, window_days=window)
    got = member_summary(tx, analysis_date=date, window_days=window, engine="duckdb")
    pd.testing.assert_frame_equal(got, expected)
    # invariants of the definitions
    assert (expected["recency_days"] <= expected["tenure_days"]).all()
    assert (expected["n_purchase_days"] <= expected["n_purchases"]).all()
    assert (expected["n_purchases_window"] <= expected["n_purchases"]).all()


def test_nanosecond_input(rand_tx):
    """SQL engines work in microseconds; dtypes and whole-day metrics still match pandas."""
    tx = rand_tx.assign(timestamp=rand_tx["timestamp"].astype("datetime64[ns]"))
    pd.testing.assert_frame_equal(member_summary(tx, engine="duckdb"), member_summary(tx))


# --------------------------------------------------------------------------- #
# File, folder, glob, CSV and DuckDB relation sources
# --------------------------------------------------------------------------- #
def _span_transactions(longer: bool) -> pd.DataFrame:
    """Purchases from exactly 2**15 days before the analysis day (``longer``: one day more)."""
    earliest = pd.Timestamp(ANALYSIS) - pd.Timedelta(days=2**15)
    rows = [("a", earliest + pd.Timedelta(hours=10)), ("a", earliest + pd.Timedelta(hours=11)),
            ("a", pd.Timestamp("2024-03-31 09:00")), ("b", pd.Timestamp("2024-02-29 08:00"))]
    if longer:
        rows.append(("b", earliest - pd.Timedelta(hours=1)))
    return pd.DataFrame(
        {"member_id": [m for m, _ in rows], "timestamp": [t for _, t in rows], "amount": [1.5] * len(rows)}
    )


@pytest.mark.parametrize(("longer", "day_type"), [(False, "SMALLINT"), (True, "INTEGER")])
def test_purchase_day_numbers_at_the_smallint_limit(tmp_path, longer, day_type):
    """Day numbers are SMALLINT up to 2**15 days before the analysis day, INTEGER beyond; same results."""
    tx = _span_transactions(longer)
    earliest_day = pd.Timestamp(ANALYSIS) - pd.Timedelta(days=2**15)
    assert sql.day_type(tx["timestamp"].min(), analysis_date=ANALYSIS) == day_type
    expected = member_summary(tx, analysis_date=ANALYSIS, engine="pandas")
    assert expected.loc["a", "prev_purchase_day"] == earliest_day
    assert expected.loc["a", "n_purchase_days"] == 2
    b_prev = expected.loc["b", "prev_purchase_day"]
    assert b_prev == earliest_day - pd.Timedelta(days=1) if longer else pd.isna(b_prev)
    tx.to_parquet(tmp_path / "tx.parquet", index=False)
    for source in (tx, tmp_path / "tx.parquet"):
        pd.testing.assert_frame_equal(member_summary(source, analysis_date=ANALYSIS, engine="duckdb"), expected)


@pytest.fixture(scope="module")
def files(tmp_path_factory, rand_tx):
    root = tmp_path_factory.mktemp("tx")
    (root / "chunks").mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(rand_tx)), 3)):
        rand_tx.iloc[chunk].to_parquet(root / "chunks" / f"part-{i}.parquet", index=False)
    rand_tx.to_parquet(root / "all.parquet", index=False)
    rand_tx.to_csv(root / "all.csv", index=False)
    return root


def test_path_sources_default_to_duckdb_and_match_pandas(files, rand_tx):
    expected = member_summary(rand_tx)
    for source in (files / "all.parquet", str(files / "chunks"), str(files / "chunks" / "part-*.parquet"), files / "all.csv"):
        assert resolve_engine(source) == "duckdb"
        pd.testing.assert_frame_equal(member_summary(source), expected)
    pd.testing.assert_frame_equal(
        member_period_activity(files / "chunks", freq="M"), member_period_activity(rand_tx, freq="M")
    )


def test_duckdb_relation_with_memory_limit(files, rand_tx):
    con = duckdb.connect(config={"memory_limit": "500MB", "threads": 2})
    con.execute(f"CREATE TABLE transactions AS SELECT * FROM read_parquet('{files / 'all.parquet'}')")
    for rel in (con.table("transactions"), con.read_parquet(str(files / "chunks" / "*.parquet"))):
        assert resolve_engine(rel) == "duckdb"
        pd.testing.assert_frame_equal(member_summary(rel, analysis_date="2023-12-01"), member_summary(rand_tx, analysis_date="2023-12-01"))


def test_renamed_columns_including_chinese(files, rand_tx):
    cn = rand_tx.rename(columns={"member_id": "会员ID", "timestamp": "交易时间", "amount": 'amount "paid"'})
    kw = dict(member_col="会员ID", time_col="交易时间", amount_col='amount "paid"')
    expected = member_summary(rand_tx)
    expected.index.name = "member_id"
    pd.testing.assert_frame_equal(member_summary(cn, engine="duckdb", **kw), expected)


# --------------------------------------------------------------------------- #
# Clear errors
# --------------------------------------------------------------------------- #
def test_engine_and_source_mismatch(files, rand_tx):
    with pytest.raises(WorkbookInputError, match="engine='pandas' cannot read a file path"):
        member_summary(files / "all.parquet", engine="pandas")
    with pytest.raises(WorkbookInputError, match="cannot read a DuckDB relation"):
        member_summary(duckdb.connect().from_df(rand_tx), engine="spark")
    with pytest.raises(WorkbookInputError, match="engine='polars' is not valid"):
        member_summary(rand_tx, engine="polars")
    with pytest.raises(WorkbookInputError, match="got list"):
        member_summary([1, 2, 3])
    with pytest.raises(WorkbookInputError, match="No file matches"):
        member_summary(str(files / "nothing-*.parquet"))
    assert resolve_files(files / "chunks") == ("parquet", str(files / "chunks" / "**" / "*.parquet"))
    with pytest.raises(WorkbookInputError, match="file format"):
        resolve_files(str(files / "all.xlsx"))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.drop(columns="amount"), r"missing column\(s\) \['amount'\]; it has \['transaction_id'"),
        (lambda d: d.assign(timestamp=d["timestamp"].astype(str)), "'timestamp' of transactions must hold dates"),
        (lambda d: d.assign(timestamp=d["timestamp"].dt.tz_localize("Asia/Shanghai")), "time zone"),
        (lambda d: d.assign(amount=d["amount"].astype(str)), "'amount' of transactions must be numeric"),
        (lambda d: d.assign(amount=d["amount"].where(d.index != 3)), r"'amount' .* missing or infinite values in 1 of 15"),
        (lambda d: d.assign(timestamp=d["timestamp"].where(d.index != 2)), "missing dates in 1 of 15"),
        (lambda d: d.iloc[0:0], "empty"),
    ],
)
def test_file_source_validation(tmp_path, edge, mutate, message):
    path = tmp_path / "tx.parquet"
    mutate(edge).to_parquet(path, index=False)
    with pytest.raises(WorkbookInputError, match=message):
        member_summary(path)


def test_file_source_analysis_date_checks(tmp_path, edge):
    edge.to_parquet(tmp_path / "tx.parquet", index=False)
    with pytest.raises(WorkbookInputError, match="before the first transaction"):
        member_summary(tmp_path / "tx.parquet", analysis_date="2020-01-01")
    s = member_summary(tmp_path / "tx.parquet")  # default computed in SQL
    assert s.attrs["analysis_date"] == pd.Timestamp("2024-04-02")  # midnight after 2024-04-01 10:00


def test_sql_identifiers_are_quoted_not_pasted():
    text = sql.render(sql.PROFILE_SQL, "duckdb", source="wb_source", time_col='x" ; DROP TABLE t; --')
    assert '"x"" ; DROP TABLE t; --"' in text
    with pytest.raises(WorkbookInputError, match="not valid"):
        sql.quote_identifier("", "spark")
    with pytest.raises(WorkbookInputError, match="time zone"):
        sql.timestamp_literal(pd.Timestamp("2024-01-01", tz="UTC"))


# --------------------------------------------------------------------------- #
# The default data set (generated by `make data`)
# --------------------------------------------------------------------------- #
needs_default_data = pytest.mark.skipif(
    not DEFAULT_DATA.exists(), reason="default data not generated yet (run `make data`)"
)


@pytest.fixture(scope="module")
def default_tx():
    return pd.read_parquet(DEFAULT_DATA)


@needs_default_data
def test_default_data_duckdb_equals_pandas(default_tx):
    expected = member_summary(default_tx)
    pd.testing.assert_frame_equal(member_summary(DEFAULT_DATA), expected)
    csv = DEFAULT_DATA.with_suffix(".csv")
    if csv.exists():
        pd.testing.assert_frame_equal(member_summary(csv), expected)
    pd.testing.assert_frame_equal(
        member_period_activity(DEFAULT_DATA, freq="W"), member_period_activity(default_tx, freq="W")
    )


@needs_default_data
@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")
def test_default_data_spark_equals_pandas(spark, default_tx):
    pd.testing.assert_frame_equal(member_summary(spark.read.parquet(str(DEFAULT_DATA))), member_summary(default_tx))


# --------------------------------------------------------------------------- #
# Spark (one local session for the whole run; see conftest.py)
# --------------------------------------------------------------------------- #
@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")
def test_spark_equals_pandas(spark, edge, rand_tx, files):
    # pandas frame -> engine="spark"; edge cases, 60-day window
    pd.testing.assert_frame_equal(
        member_summary(edge, analysis_date=ANALYSIS, window_days=60, engine="spark"),
        member_summary(edge, analysis_date=ANALYSIS, window_days=60),
    )
    # a Spark DataFrame picks the Spark engine; default analysis date
    sdf = spark.createDataFrame(rand_tx)
    assert resolve_engine(sdf) == "spark"
    expected = member_summary(rand_tx, engine="pandas")
    pd.testing.assert_frame_equal(member_summary(sdf), expected)
    # a folder of Parquet files read by Spark (default date computed in SQL)
    pd.testing.assert_frame_equal(member_summary(files / "chunks", engine="spark"), expected)
    # purchase days beyond SMALLINT's range of day numbers
    long_span = _span_transactions(longer=True)
    pd.testing.assert_frame_equal(
        member_summary(long_span, analysis_date=ANALYSIS, engine="spark"),
        member_summary(long_span, analysis_date=ANALYSIS, engine="pandas"),
    )
    # weeks (Monday starts) are the riskier calendar period; months are covered with DuckDB
    pd.testing.assert_frame_equal(
        member_period_activity(edge, analysis_date=ANALYSIS, freq="W", engine="spark"),
        member_period_activity(edge, analysis_date=ANALYSIS, freq="W"),
    )


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")
def test_spark_local_time_zone_is_not_shifted(spark, edge):
    """A Spark DataFrame built in a Shanghai session keeps its local (wall-clock) times."""
    expected = member_summary(edge, analysis_date=ANALYSIS)
    spark.conf.set("spark.sql.session.timeZone", "Asia/Shanghai")
    try:
        sdf = spark.createDataFrame(edge.assign(timestamp=edge["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S.%f")))
        sdf = sdf.withColumn("timestamp", sdf["timestamp"].cast("timestamp"))
        got = member_summary(sdf, analysis_date=ANALYSIS)
        assert spark.conf.get("spark.sql.session.timeZone") == "Asia/Shanghai"  # restored
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    pd.testing.assert_frame_equal(got, expected)
    with pytest.raises(WorkbookInputError, match=r"missing column\(s\) \['amount'\]"):
        member_summary(sdf.drop("amount"))
    with pytest.raises(WorkbookInputError, match="cannot read a pyspark DataFrame"):
        member_summary(sdf, engine="duckdb")


@pytest.mark.parametrize("freq", ["M", "W"])
def test_cohort_activity_duckdb_equals_pandas(rand_tx, edge, freq):
    for tx, date in ((rand_tx, None), (edge, ANALYSIS)):
        pd.testing.assert_frame_equal(
            cohort_activity(tx, analysis_date=date, freq=freq, engine="duckdb"),
            cohort_activity(tx, analysis_date=date, freq=freq, engine="pandas"),
        )


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")
def test_spark_cohort_activity_equals_pandas(spark, rand_tx):
    pd.testing.assert_frame_equal(
        cohort_activity(spark.createDataFrame(rand_tx), freq="W"), cohort_activity(rand_tx, freq="W", engine="pandas")
    )
