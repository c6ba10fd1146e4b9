"""Points economics: year-end expiry, liability, breakage, timeline, rule comparison, inflation (by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from workbook import points
from workbook.errors import WorkbookInputError


@pytest.fixture()
def tx():
    # a: earns 300 (2023-03) and 200 (2023-11), redeems 100 (2023-12) and 100 (2024-02), earns 50 (2024-05)
    # b: earns 80 (2023-06); c: earns 400 (2024-01), return claws back 100 (2024-02), redeems 200 (2024-03)
    return pd.DataFrame({
        "member_id": ["a", "a", "a", "a", "a", "b", "c", "c", "c"],
        "timestamp": pd.to_datetime(["2023-03-01", "2023-11-10", "2023-12-05", "2024-02-01", "2024-05-01",
                                     "2023-06-01", "2024-01-10", "2024-02-10", "2024-03-10"]),
        "amount": [300.0, 200.0, 50.0, 20.0, 50.0, 80.0, 400.0, -100.0, 60.0],
        "is_return": [False] * 7 + [True, False],
        "points_earned": [300, 200, 0, 0, 50, 80, 400, -100, 0],
        "points_redeemed": [0, 0, 100, 100, 0, 0, 0, 0, 200],
    })


def test_year_end_clearing_by_hand(tx):
    # year_end, 0 years: all 2023 points expire at 2024-01-01.  a: 500 earned - 100 redeemed before -> 400
    # expire; b: 80 expire.  The 2024-02 redemption of a then has no valid points: balance -100 + 50.
    led = points.points_ledger(tx, expiry="year_end", analysis_date="2024-06-01")
    assert led.loc["a", "expired"] == 400 and led.loc["b", "expired"] == 80 and led.loc["c", "expired"] == 0
    assert led.loc["a", "balance"] == 550 - 200 - 400
    # one more year: nothing has expired yet
    led1 = points.points_ledger(tx, expiry="year_end", expiry_years=1, analysis_date="2024-06-01")
    assert led1["expired"].sum() == 0
    # the rolling rule is unchanged: 2023-03 points expire 12 months after the end of March 2023
    roll = points.points_ledger(tx, expiry_months=12, analysis_date="2024-06-01")
    assert roll.loc["a", "expired"] == 300 - 200  # 300 of March minus the 200 redeemed before 2024-04-01


def test_points_summary_liability_and_breakage_by_hand(tx):
    s = points.points_summary(tx, expiry="year_end", analysis_date="2024-06-01", cost_per_point_yuan=0.006)
    assert s["earned"] == 930 and s["redeemed"] == 400 and s["expired"] == 480
    # balances: a -50, b 0, c 100 -> outstanding 100 (valid points), negative -50
    assert s["outstanding"] == 100 and s["negative_balance"] == -50
    assert s["earned"] - s["redeemed"] - s["expired"] == s["outstanding"] + s["negative_balance"]
    assert s["liability_yuan"] == pytest.approx(100 * 0.006)
    # matured = earned in 2023 (580); breakage = 480 / 580
    assert s["matured_earned"] == 580 and s["breakage_rate"] == pytest.approx(480 / 580)
    assert s["liability_net_of_breakage_yuan"] == pytest.approx(0.6 * (1 - 480 / 580))
    # a month before the clearing, all valid 2023 points expire within the month
    before = points.points_summary(tx, expiry="year_end", analysis_date="2023-12-10")
    assert before["expiring_next_month"] == 500 - 100 + 80
    assert pd.isna(before["breakage_rate"])


def test_points_timeline_matches_summary_each_month(tx):
    t = points.points_timeline(tx, expiry="year_end", analysis_date="2024-06-01")
    assert t.index[0] == pd.Period("2023-03", "M") and t.index[-1] == pd.Period("2024-05", "M")
    assert t.loc[pd.Period("2023-12", "M"), "expired"] == 480  # cleared at 24:00 on 31 December
    for month in ["2023-11", "2023-12", "2024-02", "2024-05"]:
        end = (pd.Period(month, "M") + 1).start_time
        s = points.points_summary(tx, expiry="year_end", analysis_date=end)
        row = t.loc[pd.Period(month, "M")]
        assert row["outstanding"] == s["outstanding"], month
        assert row["negative_balance"] == s["negative_balance"], month
    q = points.points_timeline(tx, expiry="year_end", analysis_date="2024-06-01", freq="Q")
    assert q["earned"].sum() == t["earned"].sum() and q["outstanding"].iloc[-1] == t["outstanding"].iloc[-1]


def test_compare_expiry_rules(tx):
    t = points.compare_expiry_rules(tx, {"当年清零": {"expiry": "year_end"},
                                         "次年清零": {"expiry": "year_end", "expiry_years": 1},
                                         "滚动6个月": {"expiry": "rolling", "expiry_months": 6}},
                                    analysis_date="2024-06-01")
    assert t.loc["当年清零", "expired"] == 480 and t.loc["次年清零", "expired"] == 0
    # rolling 6: 2023-03 (300, minus 0 redeemed before 2023-10-01) and 2023-06 (b 80) and 2023-11 (a: 200 of 500
    # earned - 100 - 100 redeemed before 2024-06-01 = 300 candidate, running max 300) expire by 2024-06-01
    assert t.loc["滚动6个月", "expired"] == 300 + 80
    with pytest.raises(WorkbookInputError, match="unknown setting"):
        points.compare_expiry_rules(tx, {"x": {"expiry": "year_end", "months": 3}})
    with pytest.raises(WorkbookInputError, match="expiry='weekly'"):
        points.points_summary(tx, expiry="weekly")


def test_points_inflation_by_hand(tx):
    t = points.points_inflation(tx, analysis_date="2024-06-01", freq="Y")
    y23 = t.loc[pd.Period("2023", "Y")]
    assert y23["spend"] == 580 and y23["earned"] == 580 and y23["redeemed"] == 100
    assert y23["promised_rebate"] == pytest.approx(0.01) and y23["paid_rebate"] == pytest.approx(1 / 580)
    assert y23["issue_to_redeem"] == pytest.approx(5.8)


def test_bad_cost_is_refused_bilingually(tx):
    with pytest.raises(WorkbookInputError) as e:
        points.points_summary(tx, cost_per_point_yuan=-1)
    assert "每积分成本" in e.value.bilingual()


def test_a_clawback_in_the_same_clearing_batch_reduces_what_expires():
    # 300 earned in October, 100 clawed back by a November return: 200 are left to expire at the year end
    tx = pd.DataFrame({"member_id": ["a", "a"], "timestamp": pd.to_datetime(["2024-10-05", "2024-11-05"]),
                       "points_earned": [300, -100], "points_redeemed": [0, 0]})
    before = points.points_summary(tx, expiry="year_end", analysis_date="2024-12-01")
    assert before["outstanding"] == 200 and before["expiring_next_month"] == 200
    after = points.points_summary(tx, expiry="year_end", analysis_date="2025-01-01")
    assert after["expired"] == 200 and after["breakage_rate"] == 1.0


def test_infer_points_rules_by_hand():
    tx = pd.DataFrame({"member_id": list("aaaab"),
                       "timestamp": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04",
                                                    "2024-05-05"]),
                       "amount": [100.0, 200.0, 300.0, 50.0, 80.0], "discount": [0.0, 2.0, 5.0, 3.0, 0.0],
                       "points_earned": [200, 400, 600, 100, 0], "points_redeemed": [0, 200, 300, 200, 0]})
    r = points.infer_points_rules(tx)
    assert r["earn_points_per_cny"] == pytest.approx(2.0)
    # discount per redeemed point: 0.01, 0.01667 (a promotion on top), 0.015 -> median 0.015
    assert r["point_value_yuan"] == pytest.approx(0.015)
    assert r["redeem_unit_points"] == 100 and r["earning_share"] == 0.8 and r["redeeming_share"] == 0.6
