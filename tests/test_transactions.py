"""The transaction contract: walk-in, return and sign rules and the analysis-date cut, written once."""

import numpy as np
import pandas as pd
import pytest

from workbook.aggregate import member_summary
from workbook.errors import WorkbookInputError
from workbook.tiers import TierPolicy, assign_tiers
from workbook.transactions import DAY, PERIOD_FREQ, TransactionColumns, purchases, return_flags, whole_days


@pytest.fixture
def tx():
    return pd.DataFrame({
        "member_id": ["a", "a", None, "b", "a", "b"],
        "timestamp": pd.to_datetime(
            ["2024-01-01 10:00", "2024-01-05 00:00", "2024-01-06 00:00", "2024-01-07 00:00", "2024-01-08 00:00", "2024-02-01 00:00"]
        ),
        "amount": [100.0, 30.0, 9.0, 50.0, -20.0, 70.0],
        # the second row is a return exported with a positive amount
        "is_return": [False, True, False, False, True, False],
        "store_id": ["s1", "s1", "s1", "s2", "s1", "s2"],
    })


def test_rules_by_hand(tx):
    rows, date = purchases(tx, analysis_date="2024-01-31", include_returns=True, columns=["store_id"])
    # walk-in (row 2) and the row after the analysis date (row 5) are out; the input index is kept
    assert rows.index.tolist() == [0, 1, 3, 4]
    # a return always reduces spend: -abs(amount), whichever sign the export used
    assert rows["amount"].tolist() == [100.0, -30.0, 50.0, -20.0]
    assert rows["is_return"].tolist() == [False, True, False, True]
    assert rows["store_id"].tolist() == ["s1", "s1", "s2", "s1"]
    assert date == pd.Timestamp("2024-01-31")
    buys, _ = purchases(tx, analysis_date="2024-01-31")
    assert buys.index.tolist() == [0, 3]
    everything, default_date = purchases(tx, include_returns=True, include_walk_ins=True)
    assert len(everything) == 6 and default_date == pd.Timestamp("2024-02-02")


def test_without_flag_column_negative_amounts_are_returns(tx):
    flags = return_flags(tx.drop(columns="is_return"))
    assert flags.tolist() == [False, False, False, False, True, False]
    rows, _ = purchases(tx.drop(columns="is_return"), include_returns=True, analysis_date="2024-01-31")
    assert rows["amount"].tolist() == [100.0, 30.0, 50.0, -20.0]


def test_every_module_applies_the_same_sign_rule(tx):
    """aggregate (pandas and DuckDB) and tiers agree on net spend, also for positive-flagged returns."""
    s = member_summary(tx, analysis_date="2024-01-31")
    assert s.loc["a", "monetary_total"] == 50.0  # 100 - 30 - 20
    assert s.loc["a", "n_purchases"] == 1 and s.loc["a", "n_returns"] == 2
    duck = member_summary(tx, analysis_date="2024-01-31", engine="duckdb")
    pd.testing.assert_frame_equal(duck, s)
    policy = TierPolicy.default()
    tiers = assign_tiers(tx, policy, review_dates=["2024-01-31"], analysis_date="2024-01-31")
    spend = tiers.set_index("member_id")["qualifying_value"]
    assert spend["a"] == 50.0 and spend["b"] == 50.0


def test_errors_name_the_problem(tx):
    with pytest.raises(WorkbookInputError, match="missing column"):
        purchases(tx, columns=["channel"])
    with pytest.raises(WorkbookInputError, match="'amount'"):
        purchases(tx.assign(amount=["x"] * 6))
    with pytest.raises(WorkbookInputError, match="before the first transaction"):
        purchases(tx, analysis_date="2023-01-01")


def test_shared_constants():
    assert TransactionColumns().member_col == "member_id"
    assert PERIOD_FREQ["W"] == "W-SUN" and PERIOD_FREQ["month"] == "M"
    delta = pd.Series([DAY * 1.5, DAY * 0.99, -DAY * 0.5])
    assert whole_days(delta).tolist() == [1, 0, -1]
    assert whole_days(delta).dtype == np.int64


def test_optional_id_normalisation_for_frames_not_loaded_by_io(tx):
    raw = tx.assign(member_id=[" a", "ａ", "散客", "b", "a", "b"])
    rows, _ = purchases(raw, analysis_date="2024-01-31", include_returns=True, normalise_ids=True)
    # blanks and full-width letters repaired, the walk-in placeholder is a walk-in
    assert rows["member_id"].tolist() == ["a", "a", "b", "a"]
    as_given, _ = purchases(raw, analysis_date="2024-01-31", include_returns=True)
    assert as_given["member_id"].tolist() == [" a", "ａ", "散客", "b", "a"]
    with pytest.raises(WorkbookInputError, match="row 0 ") as excinfo:
        purchases(raw.assign(member_id=["1.5e+10"] + ["b"] * 5), normalise_ids=True)
    assert "1.5e+10" not in excinfo.value.bilingual()  # no raw id in the message
