"""Cohorts: hand-computed retention / revenue / repeat matrices, properties, errors."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook.aggregate import member_period_activity
from workbook.cohorts import cohort_table, repeat_purchase_curve
from workbook.errors import WorkbookInputError

DATE = "2024-07-01"
NAN = np.nan


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
    return pd.DataFrame(
        {
            "member_id": list("ABCDEFG"),
            "join_date": pd.to_datetime(["2024-01-01"] * 5 + ["2024-05-01", "2024-08-01"]),
        }
    )


# Cohorts by first purchase month: Jan {A, B}, Feb {C}, Mar {D}, Jun {E}; last observed month June.
RETENTION = [
    [1.0, 0.5, 0.5, 0.0, 0.0, 0.5],  # A: Jan Feb Jun; B: Jan Mar
    [1.0, 0.0, 0.0, 1.0, 0.0, NAN],  # C: Feb May
    [1.0, 0.0, 0.0, 0.0, NAN, NAN],  # D: Mar
    [1.0, NAN, NAN, NAN, NAN, NAN],  # E: Jun
]


def _assert_matrix(actual: pd.DataFrame, expected: list) -> None:
    np.testing.assert_allclose(actual.to_numpy(dtype=float), np.array(expected, dtype=float))


def test_retention_matrix_hand_computed(tx):
    m = cohort_table(tx, analysis_date=DATE)
    _assert_matrix(m, RETENTION)
    assert m.index.tolist() == pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-06-01"]).tolist()
    assert m.index.name == "cohort" and m.columns.name == "period_number"
    assert m.attrs["cohort_size"].tolist() == [2, 1, 1, 1]
    counts = cohort_table(tx, analysis_date=DATE, normalize=False)
    _assert_matrix(counts.iloc[:1], [[2, 1, 1, 0, 0, 1]])


def test_revenue_and_purchases_hand_computed(tx):
    rev = cohort_table(tx, analysis_date=DATE, metric="revenue", normalize=False)
    _assert_matrix(rev.iloc[:2], [[300, 50, 300, 0, 0, 80], [120, 0, 0, 40, 0, NAN]])
    per_member = cohort_table(tx, analysis_date=DATE, metric="revenue")
    assert per_member.iloc[0, 0] == pytest.approx(150.0)
    cum = cohort_table(tx, analysis_date=DATE, metric="revenue", normalize=False, cumulative=True)
    _assert_matrix(cum.iloc[:1], [[300, 350, 650, 650, 650, 730]])
    purchases = cohort_table(tx, analysis_date=DATE, metric="purchases", normalize=False)
    _assert_matrix(purchases.iloc[1:2], [[3, 0, 0, 1, 0, NAN]])


def test_returns_reduce_revenue_but_are_not_visits(tx):
    ret = pd.DataFrame(
        {"member_id": ["A"], "timestamp": pd.to_datetime(["2024-04-10"]), "amount": [-50.0]}
    )
    tx2 = pd.concat([tx, ret], ignore_index=True)
    _assert_matrix(cohort_table(tx2, analysis_date=DATE), RETENTION)
    rev = cohort_table(tx2, analysis_date=DATE, metric="revenue", normalize=False)
    assert rev.iloc[0, 3] == pytest.approx(-50.0)


def test_join_date_cohorts(tx, members):
    m = cohort_table(tx, members, cohort_by="join_date", analysis_date=DATE)
    # Jan joiners A-E (5): active Jan A,B; Feb A,C; Mar B,D; Apr none; May C; Jun A,E.
    # May joiner F never bought; G joins after the analysis date and is left out.
    _assert_matrix(m, [[0.4, 0.4, 0.4, 0.0, 0.2, 0.4], [0.0, 0.0, NAN, NAN, NAN, NAN]])
    assert m.attrs["cohort_size"].tolist() == [5, 1]


def test_weekly_cohorts():
    t = pd.DataFrame(
        {
            "member_id": ["X", "X", "X", "Y"],
            # Monday, Sunday of the same week, Monday two weeks later; Y on Tuesday of week 2
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-07 23:00", "2024-01-15", "2024-01-09"], format="ISO8601"),
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    m = cohort_table(t, freq="W")
    assert m.index.tolist() == pd.to_datetime(["2024-01-01", "2024-01-08"]).tolist()
    _assert_matrix(m, [[1, 0, 1], [1, 0, NAN]])
    p = cohort_table(t, freq="W", metric="purchases", normalize=False)
    assert p.iloc[0, 0] == 2


def test_long_shape(tx):
    long = cohort_table(tx, analysis_date=DATE, shape="long")
    assert list(long.columns) == ["cohort", "period_number", "cohort_size", "value"]
    assert len(long) == 6 + 5 + 4 + 1  # observed cells only
    row = long[(long["cohort"] == pd.Timestamp("2024-01-01")) & (long["period_number"] == 1)]
    assert row["value"].item() == 0.5 and row["cohort_size"].item() == 2


def test_repeat_purchase_curve_hand_computed(tx):
    # second purchase: A in Feb (k1), B in Mar (k2), C within Feb (k0); D and E never
    curves = repeat_purchase_curve(tx, analysis_date=DATE)
    _assert_matrix(
        curves,
        [
            [0, 0.5, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, NAN],
            [0, 0, 0, 0, NAN, NAN],
            [0, NAN, NAN, NAN, NAN, NAN],
        ],
    )
    pooled = repeat_purchase_curve(tx, analysis_date=DATE, by_cohort=False)
    assert pooled["members_observed"].tolist() == [5, 4, 4, 4, 3, 2]
    assert pooled["repeat_buyers"].tolist() == [1, 2, 3, 3, 3, 2]
    third = repeat_purchase_curve(tx, analysis_date=DATE, min_purchases=3)
    _assert_matrix(third.iloc[:2], [[0, 0, 0, 0, 0, 0.5], [1, 1, 1, 1, 1, NAN]])


def test_plots(tx):
    from workbook.plotting.cohorts import plot_cohort_heatmap, plot_repeat_curves

    ax = plot_cohort_heatmap(cohort_table(tx, analysis_date=DATE))
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("100%") == 5 and "50%" in texts
    ax2 = plot_cohort_heatmap(cohort_table(tx, analysis_date=DATE, metric="revenue", normalize=False))
    assert "300" in [t.get_text() for t in ax2.texts]
    ax3 = plot_repeat_curves(repeat_purchase_curve(tx, analysis_date=DATE))
    assert len(ax3.get_lines()) == 4
    ax4 = plot_repeat_curves(repeat_purchase_curve(tx, analysis_date=DATE, by_cohort=False))
    assert len(ax4.get_lines()) == 1


def test_errors(tx):
    with pytest.raises(WorkbookInputError, match="needs the members table"):
        cohort_table(tx, cohort_by="join_date")
    with pytest.raises(WorkbookInputError, match="cumulative=True is not defined"):
        cohort_table(tx, cumulative=True)
    with pytest.raises(WorkbookInputError, match="freq='Q'"):
        cohort_table(tx, freq="Q")
    with pytest.raises(WorkbookInputError, match="metric='visits'"):
        cohort_table(tx, metric="visits")
    with pytest.raises(WorkbookInputError, match="min_purchases"):
        repeat_purchase_curve(tx, min_purchases=0)
    with pytest.raises(WorkbookInputError, match="empty"):
        cohort_table(tx.iloc[0:0])
    with pytest.raises(WorkbookInputError, match="before the first transaction"):
        cohort_table(tx, analysis_date="2023-12-01")
    with pytest.raises(WorkbookInputError, match="'amount'.*numeric"):
        cohort_table(tx.assign(amount="12"))
    with pytest.raises(WorkbookInputError, match="No member transactions"):
        cohort_table(tx.assign(member_id=None))


# ---------------------------------------------------------------- properties


@settings(max_examples=25, deadline=None)
@given(
    days=st.lists(st.integers(0, 400), min_size=1, max_size=50),
    who=st.lists(st.integers(0, 9), min_size=50, max_size=50),
    amounts=st.lists(st.integers(1, 500), min_size=50, max_size=50),
    freq=st.sampled_from(["M", "W"]),
)
def test_cohort_invariants(days, who, amounts, freq):
    n = len(days)
    t = pd.DataFrame(
        {
            "member_id": [f"m{w}" for w in who[:n]],
            "timestamp": pd.Timestamp("2023-03-15") + pd.to_timedelta(np.array(days), unit="D"),
            "amount": np.array(amounts[:n], dtype=float),
        }
    )
    m = cohort_table(t, freq=freq)
    values = m.to_numpy()
    # retention in the acquisition period is 100 %; rates lie in [0, 1]
    assert (values[:, 0] == 1.0).all()
    assert np.nanmin(values) >= 0 and np.nanmax(values) <= 1
    # unobserved cells form the lower-right triangle: later cohorts are observed for fewer periods
    observed = (~np.isnan(values)).sum(axis=1)
    assert (np.diff(observed) < 0).all() and observed[-1] >= 1
    assert m.attrs["cohort_size"].sum() == t["member_id"].nunique()
    rev = cohort_table(t, freq=freq, metric="revenue", normalize=False)
    assert np.nansum(rev.to_numpy()) == pytest.approx(t["amount"].sum())
    curve = repeat_purchase_curve(t, freq=freq).to_numpy()
    assert (np.nan_to_num(np.diff(curve, axis=1), nan=0.0) >= 0).all()


def test_repeat_share_at_is_nan_beyond_observed_horizon():
    from workbook.cohorts import repeat_share_at

    tx = pd.DataFrame({"member_id": ["a", "a", "b", "b", "c"],
                       "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10", "2024-01-20",
                                                    "2024-03-05", "2024-02-14"]),
                       "amount": [10.0, 20.0, 30.0, 40.0, 50.0]})
    curve = repeat_purchase_curve(tx, by_cohort=False)
    got = repeat_share_at(curve, [1, 2, 12])
    # period 1: a repeated by Feb (of a, b, c observed) -> 1/3; period 2: only Jan cohort (a, b) -> 2/2
    assert got.loc[1] == pytest.approx(1 / 3) and got.loc[2] == 1.0 and np.isnan(got.loc[12])
    assert repeat_share_at(curve, 1).tolist() == [pytest.approx(1 / 3)]
    with pytest.raises(WorkbookInputError, match="by_cohort=False"):
        repeat_share_at(repeat_purchase_curve(tx), 1)


@pytest.mark.parametrize("freq", ["M", "W"])
def test_engines_agree_on_cohort_tables(freq):
    """The cohort matrices from DuckDB's one-query cohort activity equal the pandas engine's exactly."""
    rng = np.random.default_rng(5)
    n = 4000
    ts = np.datetime64("2023-01-01T00:00:00", "s") + rng.integers(0, 400 * 86400, n).astype("timedelta64[s]")
    tx = pd.DataFrame(
        {
            "member_id": pd.array(np.array([f"M{i:03d}" for i in range(300)])[rng.integers(0, 300, n)], dtype="str"),
            "timestamp": ts.astype("datetime64[us]"),
            "amount": np.round(rng.lognormal(3.5, 0.8, n), 2),
            "is_return": rng.random(n) < 0.05,
        }
    )
    tx.loc[rng.random(n) < 0.03, "member_id"] = None
    for metric in ("members", "purchases", "revenue"):
        kwargs = dict(freq=freq, metric=metric, analysis_date="2024-01-20")
        pd.testing.assert_frame_equal(
            cohort_table(tx, engine="duckdb", **kwargs), cohort_table(tx, engine="pandas", **kwargs)
        )
    # and the pandas engine's first-purchase path equals counting member by member
    act = member_period_activity(tx, freq=freq, analysis_date="2024-01-20", engine="pandas")
    first = act.loc[act["n_purchases"] > 0].groupby("member_id")["period"].min()
    wide = cohort_table(tx, freq=freq, normalize=False, analysis_date="2024-01-20")
    assert wide.attrs["cohort_size"].sum() == len(first)
    assert wide[0].sum() == len(first)
