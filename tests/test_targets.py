import numpy as np
import pandas as pd
import pytest

from workbook.errors import WorkbookInputError
from workbook.targets import LEVERS, set_targets, track_targets


def _funnel(traffic, conversion, atv, stores=None):
    df = pd.DataFrame({"traffic": traffic, "conversion": conversion, "atv": atv}, dtype=float)
    df.insert(0, "store_id", stores or [f"S{i + 1}" for i in range(len(df))])
    df["sales"] = df["traffic"] * df["conversion"] * df["atv"]
    return df


def test_equal_allocation_grows_every_lever_by_the_cube_root():
    base = _funnel([1000, 2000], [0.2, 0.25], [80, 120])
    t = set_targets(base, {"S1": base["sales"][0] * 1.331, "S2": base["sales"][1] * 0.729}, allocation="equal")
    np.testing.assert_allclose(t.loc[0, [f"{lever}_change" for lever in LEVERS]].astype(float), 0.1)
    np.testing.assert_allclose(t.loc[1, [f"{lever}_change" for lever in LEVERS]].astype(float), -0.1)
    np.testing.assert_allclose(t["sales_check"], t["sales_target"])


def test_gap_allocation_puts_the_uplift_on_the_lagging_lever():
    # S1 lags the reference only on conversion: all of its uplift goes there.
    base = _funnel([1000, 1000], [0.1, 0.2], [100, 100])
    ref = pd.Series({"traffic": 1000.0, "conversion": 0.2, "atv": 100.0})
    t = set_targets(base, {"S1": 11_000.0, "S2": 22_000.0}, reference=ref)
    assert t.loc[0, "conversion_target"] == pytest.approx(0.11)
    assert t.loc[0, "traffic_change"] == pytest.approx(0.0)
    assert t.loc[0, "atv_change"] == pytest.approx(0.0)
    # S2 lags on nothing: the equal split.
    np.testing.assert_allclose(t.loc[1, [f"{lever}_change" for lever in LEVERS]].astype(float), 1.1 ** (1 / 3) - 1)


def test_gap_weights_are_proportional_to_the_log_shortfall():
    base = _funnel([500], [0.1], [100])
    ref = pd.Series({"traffic": 1000.0, "conversion": 0.2, "atv": 50.0})
    t = set_targets(base, 5000.0 * np.e, reference=ref)
    # ln 2 short on traffic and on conversion, ahead on atv: half of ln(e) = 1 each.
    assert np.log(t.loc[0, "traffic_target"] / 500) == pytest.approx(0.5)
    assert np.log(t.loc[0, "conversion_target"] / 0.1) == pytest.approx(0.5)
    assert t.loc[0, "atv_target"] == pytest.approx(100.0)


def test_a_chain_total_is_split_in_proportion_to_base_sales():
    base = _funnel([1000, 3000], [0.2, 0.2], [100, 100])
    t = set_targets(base, 88_000.0, allocation="equal")
    np.testing.assert_allclose(t["sales_target"], [22_000.0, 66_000.0])
    np.testing.assert_allclose(t["uplift"], 0.1)
    np.testing.assert_allclose(t["extra_receipts"], t["receipts_target"] - [200.0, 600.0])


def test_explicit_weights_are_normalised():
    base = _funnel([1000], [0.2], [100])
    t = set_targets(base, 24_200.0, allocation={"traffic": 0, "conversion": 2, "atv": 2})
    assert t.loc[0, "traffic_change"] == pytest.approx(0.0)
    assert t.loc[0, "conversion_change"] == pytest.approx(0.1)
    assert t.loc[0, "atv_change"] == pytest.approx(0.1)


def test_tracking_splits_the_shortfall_exactly():
    base = _funnel([1000, 1000], [0.2, 0.2], [100, 100])
    t = set_targets(base, 44_000.0, allocation="equal")
    actual = _funnel([1000, 900], [0.19, 0.2], [104, 130])
    r = track_targets(actual, t)
    np.testing.assert_allclose(r["achievement"], actual["sales"] / 22_000.0)
    np.testing.assert_allclose(np.log(r["achievement"]), r["log_shortfall"])
    # S1 missed mostly on conversion (0.19 against about 0.2065); S2 beat the target.
    assert r.loc[0, "conversion_effect"] == pytest.approx(np.log(0.19 / (0.2 * 1.1 ** (1 / 3))))
    assert r.loc[0, "missed_lever"] == "conversion" and r.loc[0, "achievement"] < 1
    assert r.loc[1, "achievement"] > 1 and r.loc[1, "missed_lever"] == ""


def test_missed_lever_is_the_most_negative_effect():
    base = _funnel([1000], [0.2], [100])
    t = set_targets(base, 20_000.0, allocation="equal")  # target = base
    r = track_targets(_funnel([1000], [0.15], [110]), t)
    assert r.loc[0, "missed_lever"] == "conversion"
    assert r.loc[0, "conversion_effect"] == pytest.approx(np.log(0.75))


def test_a_store_without_traffic_is_named_in_both_languages():
    base = _funnel([1000, 0], [0.2, 0.2], [100, 100], stores=["S1", "S7"])
    with pytest.raises(WorkbookInputError) as err:
        set_targets(base, 30_000.0)
    assert "S7" in str(err.value) and "客流量" in err.value.bilingual()


def test_duplicate_stores_and_missing_targets_are_refused():
    base = _funnel([1000, 1000], [0.2, 0.2], [100, 100], stores=["S1", "S1"])
    with pytest.raises(WorkbookInputError, match="one row per store"):
        set_targets(base, 1000.0)
    base = _funnel([1000, 1000], [0.2, 0.2], [100, 100])
    with pytest.raises(WorkbookInputError, match="S2"):
        set_targets(base, {"S1": 1000.0})
    t = set_targets(base.iloc[:1], 1000.0)
    with pytest.raises(WorkbookInputError, match="S2"):
        track_targets(base, t)


@pytest.mark.parametrize("allocation", ["biggest", {"footfall": 1}, {"traffic": -1, "atv": 2}, {"traffic": 0}])
def test_bad_allocations_are_refused(allocation):
    with pytest.raises(WorkbookInputError, match="allocation"):
        set_targets(_funnel([1000], [0.2], [100]), 30_000.0, allocation=allocation)


@pytest.mark.parametrize("target", [0, -5, float("nan"), float("inf")])
def test_non_positive_targets_are_refused(target):
    with pytest.raises(WorkbookInputError, match="sales_target"):
        set_targets(_funnel([1000], [0.2], [100]), target)
