"""Lifecycle stages and transitions: hand-computed 5-member example, rule variants, properties, errors."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook.aggregate import member_summary
from workbook.errors import WorkbookInputError
from workbook.lifecycle import (
    STAGE_LABELS,
    STAGES,
    LifecycleRules,
    lifecycle_stages,
    stage_definitions,
    stage_transitions,
    stages_from_summary,
)

DATE = "2024-07-01"


@pytest.fixture
def tx():
    """Same 5 members / 12 transactions as tests/test_rfm.py (noon purchases, one walk-in)."""
    rows = [
        ("A", "2024-01-05", 100.0), ("A", "2024-02-10", 50.0), ("A", "2024-06-20", 80.0),
        ("B", "2024-01-20", 200.0), ("B", "2024-03-15", 300.0),
        ("C", "2024-02-01", 40.0), ("C", "2024-02-02", 40.0), ("C", "2024-02-03", 40.0),
        ("C", "2024-05-30", 40.0),
        ("D", "2024-03-01", 20.0),
        ("E", "2024-06-28", 500.0),
        (None, "2024-04-01", 999.0),
    ]  # fmt: skip
    df = pd.DataFrame(rows, columns=["member_id", "timestamp", "amount"])
    df["timestamp"] = pd.to_datetime(df["timestamp"]) + pd.Timedelta(hours=12)
    return df


@pytest.fixture
def members():
    """A-E registered 2024-01-01, F registered but never bought, G registers after the analysis date."""
    return pd.DataFrame(
        {
            "member_id": list("ABCDEFG"),
            "join_date": pd.to_datetime(["2024-01-01"] * 5 + ["2024-05-01", "2024-08-01"]),
        }
    )


def test_stages_hand_computed(tx, members):
    st_ = lifecycle_stages(tx, members, analysis_date=DATE)
    # A: recency 10, 3 purchases in 365 days (< 4), gap 131 days (< 180): active
    # B: recency 107 (90..179): sleeping;  C: 4 purchases in the window: loyal
    # D: recency 121: sleeping;  E: first purchase 2 days ago: new;  F: never bought: potential
    assert st_.index.tolist() == list("ABCDEF")
    assert st_["stage"].tolist() == ["active", "sleeping", "loyal", "sleeping", "new", "potential"]
    assert st_["stage_zh"].tolist() == ["活跃", "沉睡", "忠诚", "沉睡", "新客", "潜在"]
    assert st_["recency_days"].tolist()[:5] == [10, 107, 31, 121, 2]
    assert pd.isna(st_.loc["F", "recency_days"]) and st_.loc["F", "n_purchases"] == 0
    assert st_.loc["A", "gap_days"] == 131 and pd.isna(st_.loc["D", "gap_days"])
    assert st_.loc["A", "tenure_days"] == 177
    assert list(st_["stage"].cat.categories) == STAGES and st_["stage"].cat.ordered


def test_rules_change_stages(tx, members):
    # a 120-day reactivation gap makes A (gap 131) reactivated; a 120-day churn threshold churns D (121)
    rules = LifecycleRules(reactivation_gap_days=120, sleeping_days=120)
    st_ = lifecycle_stages(tx, members, analysis_date=DATE, rules=rules)
    assert st_["stage"].tolist() == ["reactivated", "sleeping", "loyal", "churned", "new", "potential"]
    # loyal threshold 3 makes A loyal; new_days=1 makes E (tenure 2) merely active
    st2 = lifecycle_stages(tx, None, analysis_date=DATE, rules=LifecycleRules(loyal_min_purchases=3, new_days=1))
    assert st2["stage"].tolist() == ["loyal", "sleeping", "loyal", "sleeping", "active"]


def test_stages_from_summary_matches(tx, members):
    s = member_summary(tx, analysis_date=DATE)
    pd.testing.assert_frame_equal(
        stages_from_summary(s, members), lifecycle_stages(tx, members, analysis_date=DATE), check_index_type=False
    )


def test_duckdb_engine_agrees(tx, members):
    pytest.importorskip("duckdb")
    pd.testing.assert_frame_equal(
        lifecycle_stages(tx, members, analysis_date=DATE, engine="duckdb"),
        lifecycle_stages(tx, members, analysis_date=DATE),
        check_index_type=False,
    )


def test_transitions_hand_computed(tx, members):
    m = stage_transitions(tx, members, date_from="2024-03-01", analysis_date=DATE)
    # at 2024-03-01: A, B, C new (first purchase < 90 days ago); D, E registered, no purchase yet
    # (D's purchase is at noon on 03-01, after the analysis date): potential; F not yet registered.
    assert m.index.tolist() == ["not_present", *STAGES] and m.columns.tolist() == STAGES
    expected = {
        ("new", "active"): 1, ("new", "sleeping"): 1, ("new", "loyal"): 1,
        ("potential", "sleeping"): 1, ("potential", "new"): 1, ("not_present", "potential"): 1,
    }  # fmt: skip
    for (a, b), n in expected.items():
        assert m.loc[a, b] == n
    assert m.to_numpy().sum() == 6
    shares = stage_transitions(tx, members, date_from="2024-03-01", analysis_date=DATE, normalize="index")
    assert shares.loc["new", ["active", "sleeping", "loyal"]].tolist() == pytest.approx([1 / 3] * 3)
    assert shares.loc["churned"].isna().all()  # nobody was churned on 2024-03-01
    total = stage_transitions(tx, members, date_from="2024-03-01", analysis_date=DATE, normalize="all")
    assert total.to_numpy().sum() == pytest.approx(1.0)


def test_definitions_follow_rules():
    d = stage_definitions(LifecycleRules(active_days=60, sleeping_days=150)).set_index("stage")
    assert d.loc["sleeping", "definition"] == "last purchase 60 to 149 days ago"
    assert d.loc["churned", "定义"] == "最近一次购买距今150天或更久"
    assert STAGE_LABELS["stage"].tolist() == STAGES
    assert STAGE_LABELS["stage_zh"].tolist() == ["潜在", "新客", "活跃", "忠诚", "回流", "沉睡", "流失"]


def test_plots(tx, members):
    from workbook.plotting.lifecycle import plot_stage_sizes, plot_stage_transitions

    m = stage_transitions(tx, members, date_from="2024-03-01", analysis_date=DATE)
    ax = plot_stage_transitions(m)
    assert "沉睡 sleeping" in [t.get_text() for t in ax.get_xticklabels()]
    assert "3" not in [t.get_text() for t in ax.texts] and "1" in [t.get_text() for t in ax.texts]
    ax2 = plot_stage_transitions(stage_transitions(tx, members, date_from="2024-03-01", analysis_date=DATE, normalize=True))
    assert "33%" in [t.get_text() for t in ax2.texts]
    ax3 = plot_stage_sizes(lifecycle_stages(tx, members, analysis_date=DATE), language="en")
    assert [p.get_height() for p in ax3.patches] == [1, 1, 1, 1, 0, 2, 0]


# ---------------------------------------------------------------- errors


def test_rule_validation():
    with pytest.raises(WorkbookInputError, match="active_days .* smaller than sleeping_days"):
        LifecycleRules(active_days=180, sleeping_days=180)
    with pytest.raises(WorkbookInputError, match="reactivation_gap_days"):
        LifecycleRules(reactivation_gap_days=30)
    with pytest.raises(WorkbookInputError, match="new_days must be a positive"):
        LifecycleRules(new_days=0)
    with pytest.raises(WorkbookInputError, match="loyal_min_purchases"):
        LifecycleRules(loyal_min_purchases=1)


def test_input_errors(tx, members):
    with pytest.raises(WorkbookInputError, match="before the first transaction"):
        lifecycle_stages(tx, members, analysis_date="2023-06-01")
    with pytest.raises(WorkbookInputError, match="missing column.*join_date"):
        lifecycle_stages(tx, members.drop(columns="join_date"), analysis_date=DATE)
    dup = pd.concat([members, members.iloc[[0]]], ignore_index=True)
    with pytest.raises(WorkbookInputError, match="duplicate ids at rows 0, 7"):
        lifecycle_stages(tx, dup, analysis_date=DATE)
    with pytest.raises(WorkbookInputError, match="must hold dates"):
        lifecycle_stages(tx, members.assign(join_date="2024-01-01"), analysis_date=DATE)
    with pytest.raises(WorkbookInputError, match="date_from .* must be before date_to"):
        stage_transitions(tx, members, date_from=DATE, analysis_date="2024-03-01")
    with pytest.raises(WorkbookInputError, match="normalize"):
        stage_transitions(tx, members, date_from="2024-03-01", normalize="columns")
    with pytest.raises(WorkbookInputError, match="missing column.*amount"):
        lifecycle_stages(tx.drop(columns="amount"))
    with pytest.raises(WorkbookInputError, match="rules must be a LifecycleRules"):
        lifecycle_stages(tx, rules={"active_days": 30})


# ---------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(st.integers(0, 700), min_size=1, max_size=40),
    who=st.lists(st.integers(0, 7), min_size=40, max_size=40),
    active=st.integers(10, 120),
    extra=st.integers(1, 200),
)
def test_every_member_gets_one_consistent_stage(days, who, active, extra):
    ts = pd.Timestamp("2023-01-01") + pd.to_timedelta(np.array(days), unit="D") + pd.Timedelta(hours=9)
    tx = pd.DataFrame({"member_id": [f"m{w}" for w in who[: len(days)]], "timestamp": ts, "amount": 10.0})
    members = pd.DataFrame({"member_id": [f"m{i}" for i in range(10)], "join_date": pd.Timestamp("2023-01-01")})
    rules = LifecycleRules(active_days=active, sleeping_days=active + extra, reactivation_gap_days=active + extra)
    out = lifecycle_stages(tx, members, rules=rules)
    assert len(out) == 10 and out.index.is_unique and out["stage"].notna().all()
    rec = out["recency_days"]
    stage = out["stage"].astype(str)
    assert (stage[rec.isna()] == "potential").all()
    bought = rec.notna()
    is_active = stage.isin(["new", "active", "loyal", "reactivated"])
    assert (is_active[bought] == (rec[bought] < active)).all()
    assert (stage[bought & (rec >= active + extra)] == "churned").all()


def test_integer_member_ids_and_no_buyers_yet(tx, members):
    ids = {k: i for i, k in enumerate("ABCDEFG", start=1)}
    tx_int = tx.assign(member_id=tx["member_id"].map(ids).astype("Int64"))
    members_int = members.assign(member_id=members["member_id"].map(ids))
    st_ = lifecycle_stages(tx_int, members_int, analysis_date=DATE)
    assert st_.index.tolist() == [1, 2, 3, 4, 5, 6]
    assert st_["stage"].tolist() == ["active", "sleeping", "loyal", "sleeping", "new", "potential"]
    # a walk-in sale opens the data; two days later no member has bought yet: all are potential
    walk_in = pd.DataFrame({"member_id": [None], "timestamp": pd.to_datetime(["2024-01-02"]), "amount": [5.0]})
    early = lifecycle_stages(pd.concat([walk_in, tx], ignore_index=True), members, analysis_date="2024-01-04")
    assert early["stage"].tolist() == ["potential"] * 5


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_reactivated_uses_purchase_days_not_receipts(engine):
    """A member back after 375 days with two receipts on the day of return is reactivated (issue 13)."""
    tx = pd.DataFrame(
        {
            "member_id": ["back", "back", "back", "steady", "steady", "steady"],
            "timestamp": pd.to_datetime(
                ["2023-03-01 10:00", "2024-03-10 09:00", "2024-03-10 17:30",
                 "2023-12-01 12:00", "2024-03-10 09:00", "2024-03-10 17:30"]
            ),
            "amount": [30.0, 20.0, 15.0, 10.0, 10.0, 10.0],
        }
    )
    st_ = lifecycle_stages(tx, analysis_date="2024-04-01", engine=engine)
    assert st_.loc["back", "gap_days"] == 375  # 2023-03-01 -> 2024-03-10, not 0 (the two receipts)
    assert st_.loc["back", "stage"] == "reactivated"
    assert st_.loc["steady", "gap_days"] == 100 and st_.loc["steady", "stage"] == "active"
    # every engine gives the same stages
    pd.testing.assert_frame_equal(st_, lifecycle_stages(tx, analysis_date="2024-04-01", engine="pandas"))


def test_stages_with_arrow_backed_ids_read_from_parquet(tmp_path):
    """Ids read from Parquet are chunked Arrow columns; buyers and registered members still line up."""
    tx = pd.DataFrame({"member_id": ["b", "a", "c"], "timestamp": pd.to_datetime(["2024-05-01", "2024-01-01", "2024-05-20"]),
                       "amount": [1.0, 2.0, 3.0]})
    members = pd.DataFrame({"member_id": ["a", "b", "c", "d"], "join_date": pd.to_datetime(["2023-12-01"] * 4)})
    tx.to_parquet(tmp_path / "tx.parquet")
    pd.concat([members.iloc[:2], members.iloc[2:]]).to_parquet(tmp_path / "members.parquet", row_group_size=2)
    st_ = lifecycle_stages(pd.read_parquet(tmp_path / "tx.parquet"), pd.read_parquet(tmp_path / "members.parquet"),
                           analysis_date="2024-06-01")
    assert st_.index.tolist() == ["a", "b", "c", "d"]
    assert st_["stage"].tolist() == ["sleeping", "new", "new", "potential"]


@settings(max_examples=60, deadline=None)
@given(
    buyers=st.lists(st.text("ab1中", min_size=1, max_size=3), unique=True, max_size=12),
    registered=st.lists(st.text("ab1中", min_size=1, max_size=3), unique=True, max_size=12),
    as_int=st.booleans(),
    fixed=st.booleans(),
    member_table=st.booleans(),
)
def test_sorted_union_is_sorted_unique_and_places_buyers(buyers, registered, as_int, fixed, member_table):
    from workbook.lifecycle import _sorted_union

    if fixed:  # one byte width: the integer-key path (workbook.ids.order_keys)
        buyers = list(dict.fromkeys(b.replace("中", "c").rjust(3, "0") for b in buyers))
        registered = list(dict.fromkeys(r.replace("中", "c").rjust(3, "0") for r in registered))
    if member_table:  # a member table in id order holding every buyer: the searchsorted path
        registered = sorted(set(registered) | set(buyers))
    if as_int:
        buyers = [abs(hash(b)) % 97 for b in buyers]
        registered = [abs(hash(r)) % 97 for r in registered]
        buyers, registered = sorted(set(buyers)), list(dict.fromkeys(registered))
        dtype = "int64"
    else:
        dtype = "str"
    b = pd.Index(sorted(buyers), dtype=dtype)
    reg = pd.Series(registered, dtype=dtype)
    uniq, pos = _sorted_union(b, reg if len(reg) else None)
    assert uniq.tolist() == sorted(set(b.tolist()) | set(reg.tolist()))
    assert uniq[pos].tolist() == b.tolist()


def test_duplicate_member_ids_are_found_by_sorting():
    from workbook.lifecycle import _has_duplicates

    assert not _has_duplicates(pd.Series(["b", "a", "c"], dtype="str"))
    assert _has_duplicates(pd.Series(["b", "a", "b"], dtype="str"))
    assert _has_duplicates(pd.Series([3, 1, 3]))
    assert not _has_duplicates(pd.Series([], dtype="str"))
    assert _has_duplicates(pd.Series(["x", 1, "x"], dtype=object))  # Arrow cannot type it: pandas fallback
    # ids in increasing order are decided without a sort; equal neighbours are not "increasing"
    assert not _has_duplicates(pd.Series(["M01", "M02", "M10"], dtype="str"))
    assert _has_duplicates(pd.Series(["M01", "M02", "M02", "M10"], dtype="str"))
    assert not _has_duplicates(pd.Series(["a"], dtype="str"))
