"""Acquisition: hand-computed channel mix, funnel, first-purchase conversion, channel quality and cost."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook.acquisition import (
    acquisition_funnel,
    channel_economics,
    channel_label,
    channel_mix,
    channel_quality,
    first_purchase_conversion,
    first_purchase_durations,
)
from workbook.errors import WorkbookInputError
from workbook.plotting.acquisition import (
    plot_channel_metric,
    plot_channel_mix,
    plot_channel_rates,
    plot_first_purchase_curves,
    plot_funnel,
)
from workbook.survival import km_curves

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


@pytest.fixture
def tx():
    """Purchases (noon): a 3x, b 1x + its return, d 1x (before joining), f 1x; a walk-in; a future row."""
    rows = [
        ("a", "2024-01-03", 100.0, False),  # day 2.5
        ("a", "2024-02-10", 50.0, False),
        ("a", "2024-03-25", 80.0, False),  # day 84.5 -> in the last 30 days of a 90-day horizon
        ("b", "2024-02-09", 60.0, False),  # day 30.5
        ("b", "2024-02-15", -60.0, True),  # return, not a purchase
        ("d", "2023-12-31", 200.0, False),  # before registering -> day 0
        ("f", "2024-06-25", 30.0, False),
        (None, "2024-05-01", 999.0, False),  # walk-in
        ("c", "2024-07-05", 500.0, False),  # after the analysis date: ignored
    ]
    df = pd.DataFrame(rows, columns=["member_id", "timestamp", "amount", "is_return"])
    df["timestamp"] = pd.to_datetime(df["timestamp"]) + pd.Timedelta(hours=12)
    return df


@pytest.fixture
def traffic():
    dates = pd.date_range("2024-01-01", "2024-06-30")
    return pd.DataFrame(
        {
            "store_id": np.repeat(["S1", "S2"], len(dates)),
            "date": np.tile(dates, 2),
            "visitors": np.repeat([10, 20], len(dates)),
        }
    )


def test_channel_label():
    assert channel_label("wechat_mini_program") == "微信小程序 wechat_mini_program"
    assert channel_label("app", "en") == "app"
    assert channel_label("unknown_channel") == "unknown_channel"


def test_channel_mix_counts_and_shares(members):
    mix = channel_mix(members)
    assert mix["channel"].tolist() == ["app", "referral", "store_walk_in"]
    assert mix["members"].tolist() == [3, 2, 1]
    np.testing.assert_allclose(mix["share"], [0.5, 1 / 3, 1 / 6])
    assert mix["channel_zh"].tolist() == ["App", "老带新", "门店现场"]


def test_channel_mix_by_month_and_window(members):
    mix = channel_mix(members, freq="M", end="2024-03-01")
    jan = mix[mix["period"] == pd.Timestamp("2024-01-01")]
    assert dict(zip(jan["channel"], jan["members"], strict=True)) == {"app": 2, "referral": 1}
    np.testing.assert_allclose(jan["share"], [2 / 3, 1 / 3])
    assert mix["members"].sum() == 4  # c (Feb) included, e (1 March) excluded
    with pytest.raises(WorkbookInputError, match="freq='D'"):
        channel_mix(members, freq="D")


def test_funnel_hand_computed(members, tx, traffic):
    f = acquisition_funnel(tx, members, traffic, analysis_date=DATE)
    # visitors from the first registration (2024-01-01) to 2024-06-30: 182 days x 30
    assert f["stage"].astype(str).tolist() == ["visitors", "registered", "first_purchase", "repeat_purchase"]
    assert f["count"].tolist() == [182 * 30, 6, 4, 1]
    np.testing.assert_allclose(f["rate_from_previous"].iloc[1:], [6 / 5460, 4 / 6, 1 / 4])
    np.testing.assert_allclose(f["rate_from_top"], [1, 6 / 5460, 4 / 5460, 1 / 5460])
    assert f["stage_zh"].iloc[0] == "进店人次"


def test_funnel_within_days_and_by_channel(members, tx):
    # within 30 days: only members joined by 2024-06-01 (a-e); a has 2 purchases by day 30?
    # a: days 2.5 and 40.5 -> 1 within 30; b: day 30.5 -> none; d: day 0 -> 1.
    f = acquisition_funnel(tx, members, within_days=30, by="acquisition_channel", analysis_date=DATE)
    counts = f.pivot(index="acquisition_channel", columns="stage", values="count")
    assert counts.loc["app"].tolist() == [3, 1, 0]
    assert counts.loc["referral"].tolist() == [2, 1, 0]
    assert "store_walk_in" not in counts.index  # f joined less than 30 days before the date
    with pytest.raises(WorkbookInputError, match="within_days=30"):
        acquisition_funnel(tx, members, within_days=30, end="2024-06-15", analysis_date=DATE)


def test_funnel_by_store_has_visitors(members, tx, traffic):
    f = acquisition_funnel(tx, members, traffic, by="home_store_id", analysis_date=DATE)
    s1 = f[f["home_store_id"] == "S1"].set_index("stage")["count"]
    assert s1["visitors"] == 182 * 10 and s1["registered"] == 3 and s1["first_purchase"] == 3
    # a split funnel by channel has no visitors stage
    g = acquisition_funnel(tx, members, traffic, by="acquisition_channel", analysis_date=DATE)
    assert "visitors" not in set(g["stage"].astype(str))


def test_first_purchase_durations(members, tx):
    d = first_purchase_durations(tx, members, analysis_date=DATE).set_index("member_id")
    assert d.loc["a", "days_to_first_purchase"] == pytest.approx(2.5)
    assert d.loc["b", "days_to_first_purchase"] == pytest.approx(30.5)
    assert d.loc["d", "days_to_first_purchase"] == 0.0  # bought before registering
    assert not d.loc["c", "bought"] and np.isnan(d.loc["c", "days_to_first_purchase"])
    # c is censored at the analysis date: 2024-02-01 -> 2024-07-01 = 151 days
    assert d.loc["c", "duration_days"] == pytest.approx(151.0)
    assert d.loc["c", "acquisition_channel"] == "app"


def test_first_purchase_conversion_censoring(members, tx):
    d = first_purchase_durations(tx, members, analysis_date=DATE)
    conv = first_purchase_conversion(d, (7, 31), by=None)
    # 7 days: all 6 observed >= 7 days (f: 11 days); a, d, f converted (f: day 5.5)
    # 31 days: f not observed; a, b, d converted out of 5
    assert conv["members"].tolist() == [6, 5]
    assert conv["converted"].tolist() == [3, 3]
    np.testing.assert_allclose(conv["conversion_rate"], [0.5, 0.6])
    by = first_purchase_conversion(d, (31,))
    by = by.set_index("acquisition_channel")
    assert by["converted"].to_dict() == {"app": 2, "referral": 1, "store_walk_in": 0}
    assert by.loc["store_walk_in", "members"] == 0 and np.isnan(by.loc["store_walk_in", "conversion_rate"])
    with pytest.raises(WorkbookInputError, match="within_days=-1"):
        first_purchase_conversion(d, (-1,))


def test_durations_plug_into_km(members, tx):
    d = first_purchase_durations(tx, members, analysis_date=DATE)
    curves = km_curves(d, duration_col="duration_days", event_col="bought")
    # no censoring before day 11 (f): KM at day 7 = 1 - 3/6 (a, d, f)
    s7 = curves.loc[curves["time"] <= 7, "survival"].iloc[-1]
    assert s7 == pytest.approx(0.5)
    ax = plot_first_purchase_curves(curves)
    assert ax.get_ylim()[1] == pytest.approx(1.06)  # room above 100% for sign-up buyers
    plt.close("all")


def test_channel_quality_hand_computed(members, tx):
    q = channel_quality(tx, members, horizon_days=90, active_window_days=30, analysis_date=DATE)
    # eligible: joined by 2024-04-02 -> a, b, c, d, e
    assert q.loc["All", "members"] == 5
    app = q.loc["app"]
    assert app["buyers"] == 2 and app["repeat_buyers"] == 1 and app["retained"] == 1  # a at day 84.5
    assert app["revenue"] == pytest.approx(100 + 50 + 80 + 60 - 60)  # b's return nets out
    assert app["revenue_per_buyer"] == pytest.approx(230 / 2)
    ref = q.loc["referral"]
    assert ref["buyer_rate"] == 0.5 and ref["retention_rate"] == 0.0 and ref["revenue"] == 200.0
    assert q.attrs["horizon_days"] == 90
    with pytest.raises(WorkbookInputError, match="No member registered"):
        channel_quality(tx, members, horizon_days=400, analysis_date=DATE)
    with pytest.raises(WorkbookInputError, match="active_window_days"):
        channel_quality(tx, members, horizon_days=30, active_window_days=60, analysis_date=DATE)


def test_channel_economics(members, tx):
    q = channel_quality(tx, members, horizon_days=90, active_window_days=30, analysis_date=DATE)
    e = channel_economics(q, {"app": 20, "referral": 50}, margin_rate=0.5)
    assert e.loc["app", "acquisition_cost"] == 60
    assert e.loc["app", "cost_per_buyer"] == 30
    assert e.loc["app", "cost_per_retained_member"] == 60
    assert np.isnan(e.loc["referral", "cost_per_retained_member"])  # nobody retained
    assert e.loc["All", "cost_per_registration"] == pytest.approx((60 + 100) / 5)
    assert e.loc["referral", "profit_to_cost"] == pytest.approx(200 * 0.5 / 2 / 50)
    assert e.loc["app", "net_value_per_member"] == pytest.approx(230 / 3 * 0.5 - 20)
    with pytest.raises(WorkbookInputError, match="referral"):
        channel_economics(q, {"app": 20})
    with pytest.raises(WorkbookInputError, match="margin"):
        channel_economics(q, {"app": 20, "referral": 5}, margin_rate=1.5)
    with pytest.raises(WorkbookInputError, match="non-negative"):
        channel_economics(q, {"app": -1, "referral": 5})
    ax = plot_channel_metric(e, "cost_per_buyer")
    assert len(ax.patches) == 3
    ax = plot_channel_rates(q, include_total=False)
    assert len(ax.patches) == 6
    plt.close("all")


def test_input_errors(members, tx):
    with pytest.raises(WorkbookInputError, match="acquisition_channel"):
        channel_mix(members.drop(columns="acquisition_channel"))
    dup = pd.concat([members, members.iloc[[0]]], ignore_index=True)
    with pytest.raises(WorkbookInputError, match="not unique"):
        first_purchase_durations(tx, dup)
    bad = members.assign(join_date=members["join_date"].astype(str))
    with pytest.raises(WorkbookInputError, match="join_date"):
        channel_quality(tx, bad)
    with pytest.raises(WorkbookInputError, match="amount"):
        acquisition_funnel(tx.assign(amount="x"), members)


def test_inputs_not_modified(members, tx, traffic):
    m0, t0, v0 = members.copy(), tx.copy(), traffic.copy()
    acquisition_funnel(tx, members, traffic, analysis_date=DATE)
    channel_quality(tx, members, horizon_days=90, analysis_date=DATE)
    first_purchase_durations(tx, members)
    pd.testing.assert_frame_equal(members, m0)
    pd.testing.assert_frame_equal(tx, t0)
    pd.testing.assert_frame_equal(traffic, v0)


def test_plots(members, tx, traffic):
    ax = plot_channel_mix(channel_mix(members))
    assert len(ax.patches) == 3
    ax = plot_channel_mix(channel_mix(members, freq="M"))
    assert len(ax.patches) == 3 * 4  # 3 channels stacked over 4 registration months (zeros included)
    f = acquisition_funnel(tx, members, traffic, analysis_date=DATE)
    assert len(plot_funnel(f).patches) == 4
    g = acquisition_funnel(tx, members, by="acquisition_channel", analysis_date=DATE)
    with pytest.raises(WorkbookInputError, match="one group"):
        plot_funnel(g)
    plt.close("all")


@st.composite
def _data(draw):
    n = draw(st.integers(1, 12))
    joins = draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))
    chans = draw(st.lists(st.sampled_from(["app", "referral", "ecommerce"]), min_size=n, max_size=n))
    m = pd.DataFrame(
        {
            "member_id": [f"m{i}" for i in range(n)],
            "join_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(joins, unit="D"),
            "acquisition_channel": chans,
        }
    )
    k = draw(st.integers(1, 30))
    who = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    when = draw(st.lists(st.integers(0, 400 * 24), min_size=k, max_size=k))
    amt = draw(st.lists(st.floats(1, 500, allow_nan=False), min_size=k, max_size=k))
    t = pd.DataFrame(
        {
            "member_id": [f"m{i}" for i in who],
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(when, unit="h"),
            "amount": amt,
        }
    )
    return m, t


@settings(max_examples=25, deadline=None)
@given(_data())
def test_funnel_and_conversion_properties(data):
    m, t = data
    date = "2025-06-01"
    f = acquisition_funnel(t, m, analysis_date=date)
    counts = f["count"].to_numpy()
    assert counts[0] == len(m) and np.all(np.diff(counts) <= 0)  # a funnel only narrows
    by = acquisition_funnel(t, m, by="acquisition_channel", analysis_date=date)
    totals = by.groupby("stage", observed=True)["count"].sum()
    np.testing.assert_array_equal(totals.to_numpy(), counts)  # channels add up to the whole
    d = first_purchase_durations(t, m, analysis_date=date)
    conv = first_purchase_conversion(d, (7, 30, 90, 300), by=None)
    rates = conv["conversion_rate"].to_numpy()
    assert np.all((rates >= 0) & (rates <= 1))
    # everyone is followed >= 317 days (joins <= day 200, date = day 517), rates rise with the window
    assert np.all(np.diff(rates) >= -1e-12)
