"""Tests of workbook.clv.value.customer_lifetime_value."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import workbook.clv.value as value_module
from workbook.clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value, load_cdnow_summary
from workbook.clv.cdnow import PUBLISHED_BGNBD_PARAMS, PUBLISHED_GAMMA_GAMMA_PARAMS
from workbook.clv.value import DAYS_PER_MONTH
from workbook.errors import WorkbookInputError


@pytest.fixture(scope="module")
def models():
    bg = BetaGeoModel(time_unit="W")
    bg.params_ = pd.Series(PUBLISHED_BGNBD_PARAMS)
    gg = GammaGammaModel()
    gg.params_ = pd.Series(PUBLISHED_GAMMA_GAMMA_PARAMS)
    return bg, gg


@pytest.fixture(scope="module")
def summary():
    return load_cdnow_summary().head(200)


def test_one_month_hand_computed(models, summary):
    bg, gg = models
    out = customer_lifetime_value(bg, gg, summary, horizon_months=1, annual_discount_rate=0.12, margin_rate=0.3)
    weeks = DAYS_PER_MONTH / 7
    purchases = bg.expected_purchases(weeks, summary)
    spend = gg.expected_average_spend(summary)
    expected = 0.3 * spend * purchases / 1.12 ** (1 / 12)
    np.testing.assert_allclose(out["clv"], expected, rtol=1e-12)
    np.testing.assert_allclose(out["expected_purchases"], purchases, rtol=1e-12)
    assert list(out.columns) == ["probability_alive", "expected_purchases", "expected_average_spend", "clv"]
    assert out.index.equals(summary.index)


def test_without_discounting_clv_is_purchases_times_spend_times_margin(models, summary):
    bg, gg = models
    out = customer_lifetime_value(bg, gg, summary, horizon_months=24, annual_discount_rate=0.0, margin_rate=0.5)
    purchases = bg.expected_purchases(24 * DAYS_PER_MONTH / 7, summary)
    np.testing.assert_allclose(out["clv"], 0.5 * purchases * gg.expected_average_spend(summary), rtol=1e-10)


def test_discounting_and_horizon_order(models, summary):
    bg, gg = models
    base = customer_lifetime_value(bg, gg, summary, horizon_months=12, annual_discount_rate=0.0)["clv"]
    disc = customer_lifetime_value(bg, gg, summary, horizon_months=12, annual_discount_rate=0.2)["clv"]
    longer = customer_lifetime_value(bg, gg, summary, horizon_months=36, annual_discount_rate=0.2)["clv"]
    assert (disc < base).all() and (disc > base / 1.2).all()
    assert (longer > disc).all()


def test_same_clv_with_model_in_days(models):
    bg_w, gg = models
    bg_d = BetaGeoModel(time_unit="D")
    bg_d.params_ = bg_w.params_.copy()
    bg_d.params_["alpha"] = bg_w.params_["alpha"] * 7  # alpha is a rate scale: weeks -> days
    s_w = pd.DataFrame({"frequency": [3, 0], "recency": [20.0, 0.0], "T": [30.0, 12.0], "monetary_value": [40.0, 0.0]})
    s_d = s_w.assign(recency=s_w["recency"] * 7, T=s_w["T"] * 7)
    a = customer_lifetime_value(bg_w, gg, s_w, horizon_months=6)
    b = customer_lifetime_value(bg_d, gg, s_d, horizon_months=6)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon_months": 0}, "horizon_months"),
        ({"horizon_months": 1.5}, "horizon_months"),
        ({"annual_discount_rate": -0.1}, "annual_discount_rate"),
        ({"margin_rate": 1.2}, "margin_rate"),
    ],
)
def test_rejects_bad_arguments(models, summary, kwargs, match):
    bg, gg = models
    with pytest.raises(WorkbookInputError, match=match):
        customer_lifetime_value(bg, gg, summary, **kwargs)


def test_rejects_summary_in_other_time_unit(models, summary):
    bg, gg = models
    days = summary.copy()
    days.attrs = {"time_unit": "D"}
    with pytest.raises(WorkbookInputError, match="time unit 'D'"):
        customer_lifetime_value(bg, gg, days)


def test_docstring_examples_run():
    assert doctest.testmod(value_module, raise_on_error=False).failed == 0
