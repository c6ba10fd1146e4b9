"""Care lists: hand-computed birthday and tier-upgrade lists."""

import pandas as pd
import pytest

from workbook.care import birthday_members, tier_upgrade_candidates
from workbook.errors import WorkbookInputError
from workbook.tiers import TierPolicy

DATE = "2024-07-01"


@pytest.fixture
def members():
    """6 members: a, b, c (app), d, e (referral), f joined late (store_walk_in)."""
    return pd.DataFrame(
        {
            "member_id": ["a", "b", "c", "d", "e", "f"],
            "join_date": pd.to_datetime(
                ["2024-01-01", "2024-01-10", "2024-02-01", "2024-01-01", "2024-03-01", "2024-06-20"]
            ),
            "acquisition_channel": ["app", "app", "app", "referral", "referral", "store_walk_in"],
            "home_store_id": ["S1", "S1", "S2", "S2", "S2", "S1"],
            "birth_date": pd.to_datetime(
                ["1990-07-15", "1985-07-01", "1992-02-29", "2000-12-31", "1970-07-31", "1999-01-01"]
            ),
        }
    )


def test_birthday_members(members):
    b = birthday_members(members, analysis_date="2025-07-10")
    assert b["member_id"].tolist() == ["b", "a", "e"]  # sorted by day
    assert b["age"].tolist() == [40, 35, 55]
    feb = birthday_members(members, month=2, analysis_date="2025-01-01")
    assert feb["birthday"].iloc[0] == pd.Timestamp("2025-02-28")  # 29 Feb in a non-leap year
    assert birthday_members(members, month=2, analysis_date="2028-01-01")["birthday"].iloc[0] == pd.Timestamp(
        "2028-02-29"
    )
    with pytest.raises(WorkbookInputError, match="month=13"):
        birthday_members(members, month=13)
    with pytest.raises(WorkbookInputError, match="analysis_date"):
        birthday_members(members)


def test_tier_upgrade_candidates():
    tx = pd.DataFrame(
        {
            "member_id": ["a", "b", "c", "b", "d"],
            "amount": [1400.0, 2000.0, 12000.0, 1500.0, 200.0],
            "timestamp": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-03", "2024-06-01", "2022-01-01"]),
        }
    )
    policy = TierPolicy(thresholds=(0, 1500, 4000, 10000))
    c = tier_upgrade_candidates(tx, policy, max_gap_cny=600, analysis_date=DATE)
    # a: 1400 -> silver needs 100; b: 3500 -> gold needs 500; d's 2022 spend is outside the 12 months
    assert c["member_id"].tolist() == ["a", "b"]
    assert c["gap"].tolist() == [100.0, 500.0]
    assert c["next_tier"].tolist() == ["silver", "gold"]
    everyone = tier_upgrade_candidates(tx, policy, max_gap_cny=None, analysis_date=DATE)
    assert "c" not in set(everyone["member_id"])  # already at the top tier
    with pytest.raises(WorkbookInputError, match="max_gap_cny"):
        tier_upgrade_candidates(tx, policy, max_gap_cny=-5)


def test_birthday_members_does_not_modify_input(members):
    before = members.copy()
    birthday_members(members, month=7)
    pd.testing.assert_frame_equal(members, before)
