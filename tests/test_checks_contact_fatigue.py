"""Exercise 7 checks: each typical mistake gets its own hint, never the expected value."""

import pandas as pd
import pytest

from workbook.checks import check_fatigue_curve, check_frequency_cap, check_recent_contacts
from workbook.contacts import fatigue_curve, recent_contact_counts


@pytest.fixture()
def log():
    return pd.DataFrame({
        "member_id": ["a", "a", "a", "a", "b", "b", "c"],
        "sent_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-09", "2024-01-12", "2024-01-02",
                                   "2024-01-03", "2024-01-09"]),
        "holdout": [False, True, False, False, False, False, False],
        "delivered": [True, False, True, True, True, True, True],
        "opened": [True, False, False, False, True, False, True],
    })


def test_recent_contacts_hints(log):
    right = recent_contact_counts(log)
    assert check_recent_contacts(right, log).status == "passed"
    assert "本身不算" in check_recent_contacts(right + 1, log).hint
    with_holdout = recent_contact_counts(log.drop(columns="holdout"))
    assert "留出组" in check_recent_contacts(with_holdout, log).hint
    assert check_recent_contacts(None, log).status == "not_answered"


def test_fatigue_curve_hints_and_previous_task(log):
    right = fatigue_curve(log, max_contacts=2)
    recent = recent_contact_counts(log)
    assert check_fatigue_curve(right, log, max_contacts=2, recent=recent).status == "passed"
    assert check_fatigue_curve(right, log, max_contacts=2, recent=None).status == "not_answered"
    assert check_fatigue_curve(right, log, max_contacts=2, recent=recent + 1).status == "failed"
    # counted every message instead of the delivered ones
    k = recent.clip(upper=2)
    every = log.assign(k=k).groupby("k").agg(messages=("opened", "size"), rate=("opened", "mean"))
    res = check_fatigue_curve(every.reset_index().rename(columns={"k": "recent_contacts"}), log, max_contacts=2)
    assert res.status == "failed" and "送达" in res.hint
    res = check_fatigue_curve(fatigue_curve(log, max_contacts=1), log, max_contacts=2)
    assert res.status == "failed" and "每档一行" in res.hint


def test_frequency_cap_hints(log):
    curve = fatigue_curve(log, max_contacts=2)
    assert check_frequency_cap(1, curve, log, max_contacts=2).status == "passed"
    wrong = check_frequency_cap(float(curve["rate"].iloc[1]), curve, log, max_contacts=2)
    assert wrong.status == "failed" and "不是比率本身" in wrong.hint
    assert "任务 2" in check_frequency_cap(1, curve.iloc[:1], log, max_contacts=2).message
