"""Hand-computed checks of the per-member aggregation (one definition per metric)."""

import numpy as np
import pandas as pd
import pytest

from workbook.aggregate import member_period_activity, member_summary
from workbook.errors import WorkbookInputError


@pytest.fixture
def tx():
    # 3 members, 9 rows: m1 buys three times (two on the same day) and returns once,
    # m2 buys once, m3 buys twice, one walk-in sale, one row after the analysis date.
    return pd.DataFrame(
        {
            "member_id": ["m1", "m1", "m1", "m1", "m2", "m3", "m3", None, "m1"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 10:00",
                    "2024-01-01 18:00",
                    "2024-02-15 09:00",
                    "2024-02-20 12:00",
                    "2024-03-30 23:00",
                    "2023-12-31 08:00",
                    "2024-03-01 08:00",
                    "2024-03-01 09:00",
                    "2024-04-02 10:00",
                ]
            ),
            "amount": [100.0, 50.0, 30.0, -30.0, 80.0, 10.0, 20.0, 99.0, 500.0],
            "is_return": [False, False, False, True, False, False, False, False, False],
        }
    )


def test_member_summary_hand_computed(tx):
    s = member_summary(tx, analysis_date="2024-04-01")
    assert list(s.index) == ["m1", "m2", "m3"]
    assert s.loc["m1", "n_purchases"] == 3
    assert s.loc["m1", "n_purchase_days"] == 2
    assert s.loc["m1", "n_returns"] == 1
    assert s.loc["m1", "monetary_total"] == pytest.approx(150.0)
    assert s.loc["m1", "monetary_avg"] == pytest.approx(50.0)
    assert s.loc["m1", "last_purchase"] == pd.Timestamp("2024-02-15 09:00")
    assert s.loc["m1", "prev_purchase_day"] == pd.Timestamp("2024-01-01")  # midnight of the day
    # 2024-02-15 09:00 -> 2024-04-01 00:00 is 45 days and 15 hours: 45 whole days.
    assert s.loc["m1", "recency_days"] == 45
    assert s.loc["m1", "tenure_days"] == 90
    # 2024-03-30 23:00 -> 2024-04-01 00:00 is 1 day and 1 hour.
    assert s.loc["m2", "recency_days"] == 1
    assert pd.isna(s.loc["m2", "prev_purchase_day"])
    assert s.loc["m3", "tenure_days"] == 91
    assert s.attrs["analysis_date"] == pd.Timestamp("2024-04-01")


def test_member_summary_window_and_default_date(tx):
    s = member_summary(tx, window_days=40)
    # default analysis date: midnight after 2024-04-02
    assert s.attrs["analysis_date"] == pd.Timestamp("2024-04-03")
    assert s.loc["m1", "n_purchases"] == 4
    assert s.loc["m1", "n_purchases_window"] == 1
    assert s.loc["m3", "n_purchases_window"] == 1


def test_member_summary_does_not_modify_input(tx):
    before = tx.copy()
    member_summary(tx, analysis_date="2024-04-01")
    pd.testing.assert_frame_equal(tx, before)


def test_negative_amount_is_return_without_flag(tx):
    s = member_summary(tx.drop(columns="is_return"), analysis_date="2024-04-01")
    assert s.loc["m1", "n_returns"] == 1
    assert s.loc["m1", "n_purchases"] == 3


def test_period_activity_months(tx):
    a = member_period_activity(tx, analysis_date="2024-04-01")
    m1 = a[a["member_id"] == "m1"]
    assert list(m1["period"]) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert list(m1["n_purchases"]) == [2, 1]
    assert list(m1["amount"]) == [150.0, 0.0]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.drop(columns="amount"), "missing column"),
        (lambda d: d.assign(amount=d["amount"].astype(str).where(d.index != 2, "12,5")), "'amount'"),
        (lambda d: d.assign(timestamp=d["timestamp"].astype(str)), "must hold dates"),
        (lambda d: d.iloc[0:0], "empty"),
    ],
)
def test_bad_input_raises_clear_error(tx, mutate, message):
    with pytest.raises(WorkbookInputError, match=message):
        member_summary(mutate(tx))


def test_analysis_date_before_data(tx):
    with pytest.raises(WorkbookInputError, match="before the first transaction"):
        member_summary(tx, analysis_date="2020-01-01")


@pytest.mark.parametrize("ids", [["m1", "m2", "m3"], ["m1", "m22", "m3"]])  # one width (integer keys) / two
def test_unordered_period_query_result_comes_back_as_the_pandas_engine_sorts_it(tx, ids, monkeypatch):
    # The query has no ORDER BY: its rows are shuffled here on purpose, and the table must still
    # equal the pandas engine's, sorted by member and period with every value moved along.
    import dataclasses

    import workbook.aggregate as aggregate_module

    tx = tx.assign(member_id=tx["member_id"].replace(dict(zip(["m1", "m2", "m3"], ids))))
    real = aggregate_module.engines.run_sql

    def shuffled(*args, **kwargs):
        res = real(*args, **kwargs)
        order = np.random.default_rng(0).permutation(res.table.num_rows)[::-1].copy()
        return dataclasses.replace(res, table=res.table.take(order))

    monkeypatch.setattr(aggregate_module.engines, "run_sql", shuffled)
    result = member_period_activity(tx, engine="duckdb")
    expected = member_period_activity(tx, engine="pandas")
    assert len(result) == 6 and result["member_id"].is_monotonic_increasing
    pd.testing.assert_frame_equal(result, expected, check_exact=True)


def test_period_activity_records_analysis_date(tx):
    a = member_period_activity(tx, analysis_date="2024-04-01")
    assert a.attrs["analysis_date"] == pd.Timestamp("2024-04-01")
    # default: midnight after the last transaction day
    assert member_period_activity(tx).attrs["analysis_date"] == pd.Timestamp("2024-04-03")


@pytest.mark.parametrize("ids", [["m3", "m1", "m2"], ["m3", "m10", "m2"]])  # one width (integer keys) / two
def test_unordered_query_result_comes_back_sorted_with_each_member_s_facts(ids):
    # The SQL engines return members in no particular order; the raw table is sorted by
    # member id and every per-member value (those computed from the day lists too) moves along.
    import pyarrow as pa

    from workbook.aggregate import _sql_summary_raw

    ts = pd.to_datetime(["2024-03-01", "2024-02-01", "2024-01-01"]).as_unit("us")
    table = pa.table({
        "member_id": pa.array(ids, pa.string()),
        "first_purchase": pa.array(ts), "last_purchase": pa.array(ts),
        # day numbers relative to the analysis day 2024-04-01: one, two and three distinct days
        "purchase_days": pa.array([[-31], [-60, -60, -31], [-91, -60, -31]], pa.list_(pa.int16())),
        "n_purchases": pa.array([1, 3, 3]), "n_returns": pa.array([0, 1, 2]),
        "n_purchases_window": pa.array([1, 3, 3]), "monetary_cents": pa.array([100, 300, 500]),
    })
    raw = _sql_summary_raw(table, pd.Timestamp("2024-04-01"))
    expected = sorted(range(3), key=lambda i: ids[i])
    assert raw["member_id"].tolist() == [ids[i] for i in expected]
    assert raw["n_purchase_days"].tolist() == [[1, 2, 3][i] for i in expected]
    assert raw["n_returns"].tolist() == [[0, 1, 2][i] for i in expected]
    prev = [pd.NaT, pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-01")]
    assert raw["prev_purchase_day"].tolist() == [prev[i] for i in expected]
    assert raw["first_purchase"].tolist() == [ts[i] for i in expected]
