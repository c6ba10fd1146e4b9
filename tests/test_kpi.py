"""Store analysis compass: hand-computed KPIs, chain comparison, weakest link, properties."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from workbook.errors import WorkbookInputError  # noqa: E402
from workbook.kpi import (  # noqa: E402
    COMPASS_KPIS,
    KPI_DEFINITIONS,
    benchmark_label,
    chain_benchmark,
    compare_to_chain,
    kpi_definitions,
    sales_decomposition,
    store_kpis,
    weakest_link,
)
from workbook.plotting.kpi import plot_kpi_bars, plot_store_radar  # noqa: E402


@pytest.fixture
def tx():
    # 2 stores, 3 days, 10 offline receipts + 1 offline return + 1 online order.
    rows = [
        # store, member, timestamp, amount, items, is_return, channel
        ("A", "m1", "2024-03-01 09:00", 100.0, 2, False, "offline"),
        ("A", None, "2024-03-01 10:00", 50.0, 1, False, "offline"),
        ("A", "m2", "2024-03-01 11:00", 200.0, 4, False, "offline"),
        ("A", "m1", "2024-03-02 12:00", 80.0, 1, False, "offline"),
        ("A", "m2", "2024-03-02 13:00", -200.0, 4, True, "offline"),
        ("A", None, "2024-03-03 14:00", 70.0, 2, False, "offline"),
        ("A", "m3", "2024-03-03 15:00", 100.0, 2, False, "offline"),
        ("B", "m4", "2024-03-01 10:00", 300.0, 3, False, "offline"),
        ("B", "m1", "2024-03-02 10:00", 60.0, 1, False, "offline"),
        ("B", None, "2024-03-03 18:00", 40.0, 2, False, "offline"),
        ("B", "m4", "2024-03-03 19:00", 100.0, 1, False, "offline"),
        ("A", "m1", "2024-03-02 20:00", 999.0, 9, False, "online"),
    ]
    df = pd.DataFrame(rows, columns=["store_id", "member_id", "timestamp", "amount", "items", "is_return", "channel"])
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    df.insert(0, "transaction_id", [f"t{i}" for i in range(len(df))])
    return df


@pytest.fixture
def traffic():
    return pd.DataFrame(
        {
            "store_id": ["A"] * 3 + ["B"] * 3,
            "date": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-03"] * 2),
            "visitors": [20, 30, 50, 10, 10, 20],
        }
    )


@pytest.fixture
def members():
    return pd.DataFrame(
        {
            "member_id": ["m1", "m2", "m3", "m4", "m5"],
            "join_date": pd.to_datetime(["2024-03-01", "2023-05-01", "2024-03-03", "2024-03-02", "2024-03-02"]),
            "home_store_id": ["A", "A", "A", "B", "B"],
        }
    )


def test_store_kpis_hand_computed(tx, traffic):
    k = store_kpis(tx, traffic, repurchase_window_days=1).set_index("store_id")
    assert list(k.index) == ["A", "B"]
    assert k["receipts"].tolist() == [6, 4]  # 10 receipts, return and online order excluded
    assert k["traffic"].tolist() == [100, 40]
    assert k.loc["A", "sales"] == 600.0 and k.loc["B", "sales"] == 500.0
    assert k["conversion"].tolist() == pytest.approx([0.06, 0.1])
    assert k["atv"].tolist() == pytest.approx([100.0, 125.0])
    assert k["upt"].tolist() == pytest.approx([2.0, 1.75])
    assert k["member_sales_share"].tolist() == pytest.approx([480 / 600, 460 / 500])
    assert k.loc["A", "return_amount"] == -200.0 and k.loc["A", "net_sales"] == 400.0
    assert k["active_members"].tolist() == [3, 2]
    # Analysis date 2024-03-04.  A: m1 (03-01 -> 03-02) repurchased, m2 did not (a return
    # is not a purchase), m3 (03-03) cannot be observed for a full day.  B: m4 came back
    # after 2 days (> 1), m1 (03-02) did not come back.
    assert k["repurchase_eligible"].tolist() == [2, 2]
    assert k["repurchasers"].tolist() == [1, 0]
    assert k["repurchase_rate"].tolist() == pytest.approx([0.5, 0.0])
    # Without a member table: first receipt at the store in the data.
    assert k["new_members"].tolist() == [3, 2]
    assert k["new_member_rate"].tolist() == pytest.approx([0.5, 0.5])
    assert k["new_member_growth"].isna().all()
    assert k.attrs["analysis_date"] == pd.Timestamp("2024-03-04")


def test_repurchase_window_and_members_table(tx, traffic, members):
    k = store_kpis(tx, traffic, members, repurchase_window_days=2).set_index("store_id")
    # A: m1 eligible and back, m2 eligible, m3 not eligible.  B: m4 (03-01 + 2 days) back,
    # m1 at B (03-02) not eligible any more.
    assert k["repurchase_eligible"].tolist() == [2, 1]
    assert k["repurchase_rate"].tolist() == pytest.approx([0.5, 1.0])
    # Joined in the data window at their home store: A m1, m3; B m4, m5 (m2 joined in 2023).
    assert k["new_members"].tolist() == [2, 2]
    allch = store_kpis(tx, traffic, channel=None).set_index("store_id")
    assert allch.loc["A", "receipts"] == 7 and allch.loc["A", "sales"] == 1599.0


def test_periods_growth_and_additivity(traffic):
    tx = pd.DataFrame(
        {
            "store_id": "A",
            "member_id": ["a", "b", "a", "c", "d", "e"],
            "timestamp": pd.to_datetime(
                ["2024-01-05", "2024-01-20", "2024-02-03", "2024-04-01", "2024-04-02", "2024-04-03"]
            ),
            "amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
            "items": 1,
        }
    )
    days = pd.date_range("2024-01-01", "2024-04-30")
    tr = pd.DataFrame({"store_id": "A", "date": days, "visitors": 10})
    k = store_kpis(tx, tr, period="M")
    assert k["period"].tolist() == list(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]))
    assert k["new_members"].tolist() == [2, 0, 0, 3]
    # Feb: 0 / 2 - 1 = -1; Mar: 0 / 0 undefined; Apr: 3 / 0 undefined.
    assert k["new_member_growth"].iloc[1] == -1.0
    assert k["new_member_growth"].iloc[[0, 2, 3]].isna().all()
    assert k["receipts"].tolist() == [2, 1, 0, 3]
    # Traffic before the first transaction day (Jan 1-4) and from the analysis date
    # (midnight after 04-03) on is ignored: 27 days in January, 3 in April.
    assert k["visitors"].tolist() == [270, 290, 310, 30]
    assert np.isnan(k.loc[2, "atv"]) and k.loc[2, "conversion"] == 0
    whole = store_kpis(tx, tr).iloc[0]
    for col in ["visitors", "receipts", "sales", "items"]:
        assert k[col].sum() == whole[col]


def test_chain_benchmark_and_comparison(tx, traffic):
    k = store_kpis(tx, traffic, repurchase_window_days=1)
    med = chain_benchmark(k).iloc[0]
    assert med["conversion"] == pytest.approx(0.08)
    assert med["atv"] == pytest.approx(112.5)
    tot = chain_benchmark(k, "total").iloc[0]
    assert tot["conversion"] == pytest.approx(10 / 140)
    assert tot["atv"] == pytest.approx(110.0)
    assert tot["repurchase_rate"] == pytest.approx(1 / 4)
    assert tot["member_sales_share"] == pytest.approx(940 / 1100)
    c = compare_to_chain(k).set_index(["store_id", "kpi"])
    assert c.loc[("A", "conversion"), "index"] == pytest.approx(0.75)
    assert c.loc[("B", "conversion"), "index"] == pytest.approx(1.25)
    assert c.loc[("A", "upt"), "index"] == pytest.approx(2 / 1.875)
    assert c.loc[("B", "repurchase_rate"), "index"] == 0.0
    assert c.loc[("A", "conversion"), "name_zh"] == "成交率"
    assert len(c) == 2 * len(COMPASS_KPIS)
    w = weakest_link(k).set_index("store_id")
    assert w.loc["A", "kpi"] == "conversion" and w.loc["B", "kpi"] == "repurchase_rate"
    assert "成交率为连锁中位数的 75%" in w.loc["A", "recommendation"]
    assert "Conversion rate is 75% of the chain median" in w.loc["A", "recommendation"]
    assert w.loc["A", "levers_zh"] == KPI_DEFINITIONS.loc["conversion", "levers_zh"]
    wt = weakest_link(k, "total", compass=["conversion", "atv"]).set_index("store_id")
    assert wt.loc["A", "index"] == pytest.approx(0.06 / (10 / 140))


def test_comparison_by_group(tx, traffic):
    k = store_kpis(tx, traffic).assign(size=["small", "small"])
    c = compare_to_chain(k, by="size", compass=["conversion"])
    assert c["index"].tolist() == pytest.approx([0.75, 1.25])
    with pytest.raises(WorkbookInputError, match="by='city'"):
        compare_to_chain(k, by="city")


def test_sales_decomposition_identity(tx, traffic):
    k = store_kpis(tx, traffic)
    d = sales_decomposition(k)
    assert d["sales_check"].to_numpy() == pytest.approx(d["sales"].to_numpy(), rel=1e-12)
    effects = d[["traffic_effect", "conversion_effect", "atv_effect"]].sum(axis=1)
    assert effects.to_numpy() == pytest.approx(d["log_gap"].to_numpy(), abs=1e-12)
    # A: traffic 100 vs median 70, conversion 0.06 vs 0.08, ATV 100 vs 112.5.
    a = d.set_index("store_id").loc["A"]
    assert a["traffic_effect"] == pytest.approx(np.log(100 / 70))
    assert a["chain_sales_ref"] == pytest.approx(70 * 0.08 * 112.5)


def test_definitions_table():
    assert set(COMPASS_KPIS) <= set(KPI_DEFINITIONS.index)
    assert KPI_DEFINITIONS.loc["atv", "name_zh"] == "客单价"
    assert KPI_DEFINITIONS.notna().all().all()
    with pytest.raises(WorkbookInputError, match="Unknown KPI"):
        kpi_definitions(["footfall"])
    d = kpi_definitions()
    d.loc["atv", "name_zh"] = "x"
    assert KPI_DEFINITIONS.loc["atv", "name_zh"] == "客单价"


def test_missing_traffic_names_store_and_days(tx, traffic):
    gap = traffic.drop(index=[4, 5])  # B on 03-02 and 03-03
    with pytest.raises(WorkbookInputError, match=r"store 'B' on 2024-03-02, 2024-03-03 \(2 days in total\)"):
        store_kpis(tx, gap)
    with pytest.raises(WorkbookInputError, match="duplicated store days.*'A' on 2024-03-01"):
        store_kpis(tx, pd.concat([traffic, traffic.iloc[[0]]]))
    with pytest.raises(WorkbookInputError, match="'visitors'"):
        store_kpis(tx, traffic.assign(visitors=-traffic["visitors"]))
    with pytest.raises(WorkbookInputError, match="missing column"):
        store_kpis(tx.drop(columns="items"), traffic)
    with pytest.raises(WorkbookInputError, match="period='D'"):
        store_kpis(tx, traffic, period="D")
    with pytest.raises(WorkbookInputError, match="repurchase_window_days"):
        store_kpis(tx, traffic, repurchase_window_days=0)
    with pytest.raises(WorkbookInputError, match="'timestamp'"):
        store_kpis(tx.assign(timestamp=tx["timestamp"].astype(str)), traffic)


def test_inputs_not_modified(tx, traffic, members):
    before = (tx.copy(), traffic.copy(), members.copy())
    k = store_kpis(tx, traffic, members, period="M")
    weakest_link(k)
    sales_decomposition(k)
    for a, b in zip((tx, traffic, members), before, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_plots(tx, traffic):
    comp = compare_to_chain(store_kpis(tx, traffic, repurchase_window_days=1))
    ax = plot_store_radar(comp, "A")
    assert ax.name == "polar"
    line = ax.get_lines()[0].get_ydata()
    assert line[:2].tolist() == pytest.approx([100 / 70, 0.75])  # traffic, conversion
    assert "成交率" in ax.get_xticklabels()[1].get_text()
    ax2 = plot_kpi_bars(comp, "conversion")
    assert [p.get_width() for p in ax2.patches] == pytest.approx([0.75, 1.25])
    with pytest.raises(WorkbookInputError, match="polar"):
        plot_store_radar(comp, "A", ax=plt.subplots()[1])
    with pytest.raises(WorkbookInputError, match="'Z'"):
        plot_store_radar(comp, "Z")
    with pytest.raises(WorkbookInputError, match="'basket'"):
        plot_kpi_bars(comp, "basket")
    plt.close("all")


# ----------------------------------------------------------------------------- properties


@st.composite
def shop_data(draw):
    n = draw(st.integers(1, 30))
    store = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=n, max_size=n))
    day = draw(st.lists(st.integers(0, 59), min_size=n, max_size=n))
    member = draw(st.lists(st.one_of(st.none(), st.sampled_from(["m1", "m2", "m3", "m4"])), min_size=n, max_size=n))
    amount = draw(st.lists(st.floats(1, 1000, allow_nan=False), min_size=n, max_size=n))
    items = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    ret = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    tx = pd.DataFrame(
        {
            "store_id": store,
            "member_id": member,
            "timestamp": pd.Timestamp("2024-01-01 10:00") + pd.to_timedelta(day, unit="D"),
            "amount": [-a if r else a for a, r in zip(amount, ret, strict=True)],
            "items": items,
            "is_return": ret,
        }
    )
    days = pd.date_range("2024-01-01", periods=60)
    visitors = draw(st.lists(st.integers(30, 200), min_size=180, max_size=180))
    tr = pd.DataFrame({"store_id": np.repeat(["A", "B", "C"], 60), "date": np.tile(days, 3), "visitors": visitors})
    return tx, tr


@settings(max_examples=25, deadline=None)
@given(data=shop_data(), window=st.integers(1, 30))
def test_property_kpi_invariants(data, window):
    tx, tr = data
    if tx["is_return"].all():
        return
    k = store_kpis(tx, tr, repurchase_window_days=window, period="M")
    buys = tx.loc[~tx["is_return"]]
    assert k["receipts"].sum() == len(buys)
    assert k["sales"].sum() == pytest.approx(buys["amount"].sum())
    ok = k["receipts"] > 0
    assert (k.loc[ok, "traffic"] * k.loc[ok, "conversion"] * k.loc[ok, "atv"]).to_numpy() == pytest.approx(
        k.loc[ok, "sales"].to_numpy(), rel=1e-12
    )
    for col in ["member_sales_share", "repurchase_rate"]:
        v = k[col].dropna()
        assert ((v >= 0) & (v <= 1 + 1e-12)).all()
    assert (k["repurchasers"] <= k["repurchase_eligible"]).all()
    assert (k["repurchase_eligible"] <= k["active_members"]).all()
    w = weakest_link(k)
    c = compare_to_chain(k)
    for _, row in w.iterrows():
        same = c.loc[(c["store_id"] == row["store_id"]) & (c["period"] == row["period"]) & (c["kpi"] != "traffic")]
        assert row["index"] == same["index"].min()


def test_recommendation_names_group_benchmark():
    # Small stores S1, S2 (conversion median 0.2) and one large store S3; chain median 0.3.
    k = pd.DataFrame({"store_id": ["S1", "S2", "S3"], "size": ["small", "small", "large"],
                      "conversion": [0.1, 0.3, 0.4], "atv": [100.0, 100.0, 100.0]})
    w = weakest_link(k, compass=["conversion", "atv"], by="size").set_index("store_id")
    assert w.loc["S1", "index"] == pytest.approx(0.5)
    rec = w.loc["S1", "recommendation"]
    assert "成交率为同规模门店中位数的 50%" in rec
    assert "Conversion rate is 50% of the median of same-size stores" in rec
    assert "连锁" not in rec and "chain" not in rec
    c = compare_to_chain(k, compass=["conversion"], by="size")
    assert c.attrs["benchmark_zh"] == "同规模门店中位数"
    # Without by= the chain median (0.3) is the reference and named as such.
    w_all = weakest_link(k, compass=["conversion", "atv"]).set_index("store_id")
    assert "成交率为连锁中位数的 33%" in w_all.loc["S1", "recommendation"]
    assert benchmark_label("total", by="size") == ("同规模门店整体", "same-size stores as a whole")
    assert benchmark_label("median", by="tier_mix")[1] == "the median of stores with the same tier_mix"
    with pytest.raises(WorkbookInputError, match="method"):
        benchmark_label("mean")
