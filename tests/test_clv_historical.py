"""Tests of workbook.clv.historical: margin to date and the margin/retention formula."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbook.clv.historical as historical_module
from workbook.clv import formula_clv, historical_clv, retention_improvement_table
from workbook.errors import WorkbookInputError


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member_id": ["a", "a", "a", "b", None, "c"],
            "timestamp": pd.to_datetime(
                ["2023-01-01", "2023-07-01", "2023-08-01", "2023-12-01", "2023-12-02", "2024-01-05"]
            ),
            "amount": [200.0, 100.0, -50.0, 80.0, 999.0, 10.0],
            "is_return": [False, False, True, False, False, False],
        }
    )


def test_historical_clv_hand_computed(tx):
    out = historical_clv(tx, margin_rate=0.4, analysis_date="2024-01-01")
    # a: 200 + 100 - 50 = 250 net, margin 100 over 365 days; b: 80 net, 32 margin over 31 days.
    # c buys after the analysis date; the walk-in has no member id.
    assert list(out.index) == ["a", "b"]
    assert out["net_revenue"].tolist() == [250.0, 80.0]
    assert out["gross_margin"].tolist() == pytest.approx([100.0, 32.0])
    assert out["tenure_days"].tolist() == [365, 31]
    assert out["n_purchases"].tolist() == [2, 1]
    assert out["gross_margin_per_year"].tolist() == pytest.approx([100.0 * 365.25 / 365, 32.0 * 365.25 / 31])


def test_historical_clv_sorted_and_input_untouched(tx):
    before = tx.copy()
    out = historical_clv(tx, margin_rate=0.3)
    assert out["gross_margin"].is_monotonic_decreasing
    pd.testing.assert_frame_equal(tx, before)


@pytest.mark.parametrize("rate", [-0.1, 1.5, np.nan])
def test_historical_clv_rejects_bad_margin(tx, rate):
    with pytest.raises(WorkbookInputError, match="margin_rate must lie in"):
        historical_clv(tx, margin_rate=rate)


def test_formula_clv_hand_computed():
    # m r / (1 + d - r): 100 * 0.8 / 0.3 = 266.67; no retention -> 0.
    assert formula_clv(100.0, 0.8, 0.1) == pytest.approx(800 / 3)
    assert formula_clv(100.0, 0.0, 0.1) == 0.0
    np.testing.assert_allclose(formula_clv([100.0, 50.0], [0.5, 0.9], 0.0), [100.0, 450.0])


def test_formula_clv_equals_discounted_geometric_series():
    m, r, d = 120.0, 0.75, 0.08
    periods = np.arange(1, 2000)
    series = np.sum(m * r**periods / (1 + d) ** periods)
    assert formula_clv(m, r, d) == pytest.approx(series, rel=1e-10)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((100.0, 1.0, 0.1), r"retention_rate must lie in \[0.0, 1.0\)"),
        ((100.0, [0.5, -0.2], 0.1), r"retention_rate.*-0.2"),
        ((100.0, 0.5, -0.1), "discount_rate must lie in"),
        ((np.inf, 0.5, 0.1), "avg_margin_per_period must be finite"),
    ],
)
def test_formula_clv_rejects_bad_input(args, match):
    with pytest.raises(WorkbookInputError, match=match):
        formula_clv(*args)


@settings(max_examples=50, deadline=None)
@given(m=st.floats(0.01, 1e5), r=st.floats(0.0, 0.98), dr=st.floats(0.001, 0.01), d=st.floats(0.0, 0.5))
def test_formula_clv_increases_with_retention_and_falls_with_discount(m, r, dr, d):
    assert formula_clv(m, r + dr, d) > formula_clv(m, r, d)
    assert formula_clv(m, r, d + 0.01) <= formula_clv(m, r, d)


def test_retention_improvement_table():
    t = retention_improvement_table(100.0, 0.7, 0.1, [0, 1, 5, 40])
    assert t["improvement_pct_points"].tolist() == [0, 1, 5]  # 110% retention is dropped
    assert t["retention_rate"].tolist() == pytest.approx([0.70, 0.71, 0.75])
    assert t["clv"].tolist() == pytest.approx([175.0, 71 / 0.39, 75 / 0.35])
    assert t.loc[0, "clv_gain"] == 0.0
    assert t.loc[2, "clv_gain_pct"] == pytest.approx(100 * (75 / 0.35 - 175) / 175)
    with pytest.raises(WorkbookInputError, match="single number"):
        retention_improvement_table(100.0, [0.7, 0.8], 0.1)


def test_docstring_examples_run():
    assert doctest.testmod(historical_module, raise_on_error=False).failed == 0
