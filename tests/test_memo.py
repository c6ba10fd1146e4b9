"""workbook.memo: aggregations are reused only for the same data and parameters."""

import gc
import os

import numpy as np
import pandas as pd
import pytest

from workbook import memo
from workbook.aggregate import cohort_activity, member_period_activity, member_summary


@pytest.fixture
def tx():
    rng = np.random.default_rng(5)
    n = 300
    return pd.DataFrame(
        {
            "member_id": pd.array([f"m{i}" for i in rng.integers(0, 40, n)], dtype="str"),
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300 * 86400, n), unit="s"),
            "amount": np.round(rng.gamma(2.0, 50.0, n), 2),
            "is_return": rng.random(n) < 0.05,
        }
    )


@pytest.fixture(autouse=True)
def fresh_cache():
    memo.clear()
    yield
    memo.clear()


def hits():
    return memo.stats()["hits"]


def test_same_data_and_parameters_are_reused_and_equal(tx):
    first = member_summary(tx)
    before = hits()
    again = member_summary(tx)
    assert hits() == before + 1
    pd.testing.assert_frame_equal(again, first)
    assert again.attrs["analysis_date"] == first.attrs["analysis_date"]
    with memo.disabled():
        pd.testing.assert_frame_equal(member_summary(tx), first)
    assert hits() == before + 1


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.__setitem__("amount", t["amount"] * 2),
        lambda t: t.loc.__setitem__((t.index[0], "amount"), 1e4),
        lambda t: t.iloc.__setitem__((1, 1), pd.Timestamp("2024-02-02")),
        lambda t: t.update(t[["amount"]].clip(upper=100.0)),
        lambda t: t.loc.__setitem__((t.index[3], "member_id"), "m999"),
        lambda t: t.loc.__setitem__((t.index[4], "is_return"), not t.loc[t.index[4], "is_return"]),
    ],
)
def test_any_change_to_the_frame_is_seen(tx, change):
    member_summary(tx)
    change(tx)
    before = hits()
    got = member_summary(tx)
    assert hits() == before  # recomputed
    with memo.disabled():
        pd.testing.assert_frame_equal(got, member_summary(tx))


def test_adding_the_return_column_later_is_seen(tx):
    plain = tx.drop(columns="is_return")
    plain["amount"] = np.where(tx["is_return"], -plain["amount"], plain["amount"])
    member_summary(plain)
    plain["is_return"] = False  # now nothing is a return... but negative amounts still are (sign rule)
    before = hits()
    member_summary(plain)
    assert hits() == before


def test_parameters_and_engines_are_part_of_the_key(tx):
    member_summary(tx)
    before = hits()
    member_summary(tx, analysis_date="2024-06-01")
    member_summary(tx, window_days=30)
    member_summary(tx, engine="pandas")
    assert hits() == before
    member_period_activity(tx)
    member_period_activity(tx, freq="W")
    cohort_activity(tx)
    assert hits() == before
    cohort_activity(tx)
    assert hits() == before + 1


def test_changing_the_returned_table_leaves_the_kept_one_alone(tx):
    first = member_summary(tx)
    expected = first.copy(deep=True)
    first.loc[first.index[0], "monetary_total"] = -1.0
    first["extra"] = 1
    pd.testing.assert_frame_equal(member_summary(tx), expected)


def test_files_are_reused_until_they_change(tx, tmp_path):
    path = tmp_path / "tx.parquet"
    tx.to_parquet(path)
    first = member_summary(str(path))
    before = hits()
    member_summary(str(path))
    assert hits() == before + 1
    changed = tx.assign(amount=tx["amount"] + 1)
    changed.to_parquet(path)
    os.utime(path, ns=(1, 1))  # even with an old time stamp, the size or time differs
    got = member_summary(str(path))
    assert hits() == before + 1
    assert not got["monetary_total"].equals(first["monetary_total"])


def test_entries_go_with_the_frame(tx):
    own = tx.copy(deep=True)  # the fixture's frame lives as long as the test
    member_summary(own)
    assert memo.stats()["entries"] == 1
    del own
    gc.collect()
    assert memo.stats()["entries"] == 0


def test_duckdb_relations_are_not_reused(tx):
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    rel = con.from_df(tx)
    member_summary(rel)
    before = hits()
    member_summary(rel)
    assert hits() == before
    assert memo.stats()["entries"] == 0


def test_the_default_date_and_the_same_date_written_out_are_one_key(tx):
    default = member_summary(tx)
    before = hits()
    same = member_summary(tx, analysis_date=default.attrs["analysis_date"].strftime("%Y-%m-%d"))
    assert hits() == before + 1
    pd.testing.assert_frame_equal(same, default)


def test_a_notebook_step_pays_for_each_summary_once(tx):
    # Labels and features at one cutoff start from the same member summary.
    from workbook.churn import churn_features, churn_labels
    from workbook.lifecycle import lifecycle_stages
    from workbook.rfm import rfm_table

    cutoff = "2024-07-01"
    churn_features(tx, analysis_date=cutoff)
    before = hits()
    churn_labels(tx, analysis_date=cutoff, horizon_days=60)
    assert hits() == before + 1  # the summary at the cutoff; the one at the horizon's end is new
    rfm_table(tx)
    lifecycle_stages(tx)
    assert hits() == before + 2  # RFM and lifecycle stages share the default 365-day window
