"""Tests of workbook.plotting.clv: the charts show the numbers the models compute."""

from __future__ import annotations

import doctest

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import workbook.plotting.clv as plot_module  # noqa: E402
from workbook.clv import (  # noqa: E402
    BetaGeoModel,
    calibration_holdout_split,
    calibration_vs_holdout,
    load_cdnow_transactions,
)
from workbook.clv.cdnow import CALIBRATION_END, HOLDOUT_END, PUBLISHED_BGNBD_PARAMS  # noqa: E402
from workbook.errors import WorkbookInputError  # noqa: E402
from workbook.plotting.clv import (  # noqa: E402
    plot_calibration_purchases,
    plot_frequency_recency_matrix,
    plot_probability_alive_matrix,
)


@pytest.fixture(scope="module")
def model() -> BetaGeoModel:
    m = BetaGeoModel(time_unit="W")
    m.params_ = pd.Series(PUBLISHED_BGNBD_PARAMS)
    return m


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_calibration_plot_on_cdnow_shows_the_table(model):
    split = calibration_holdout_split(load_cdnow_transactions(), CALIBRATION_END, HOLDOUT_END)
    fig, ax = plt.subplots()
    out = plot_calibration_purchases(model, split, ax=ax)
    assert out is ax
    table = calibration_vs_holdout(model, split)
    actual, predicted = ax.get_lines()
    np.testing.assert_allclose(actual.get_ydata(), table["actual_holdout"])
    np.testing.assert_allclose(predicted.get_ydata(), table["predicted_holdout"])
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "7+"
    # FHL (2005, Fig. 4): the model tracks the holdout purchases of each frequency group;
    # on CDNOW it is within 0.5 purchases per member (about 30%) everywhere.
    diff = (table["predicted_holdout"] - table["actual_holdout"]).abs()
    assert (diff < 0.5).all() and (diff / table["actual_holdout"] < 0.3).all(), table


@pytest.mark.parametrize("quantity", ["expected_purchases", "probability_alive"])
def test_heatmaps_show_the_model_grid(model, quantity):
    if quantity == "expected_purchases":
        ax = plot_frequency_recency_matrix(model, T=39, t=10, max_frequency=12, n_recency=8)
        grid = model.frequency_recency_grid(39, t=10, max_frequency=12, n_recency=8)
    else:
        ax = plot_probability_alive_matrix(model, T=39, max_frequency=12, n_recency=8)
        grid = model.frequency_recency_grid(39, max_frequency=12, n_recency=8, quantity=quantity)
    shown = np.ma.filled(ax.get_images()[0].get_array().astype(float), np.nan)
    np.testing.assert_allclose(shown, grid.to_numpy(), equal_nan=True)
    assert "recency" in ax.get_xlabel() and "frequency" in ax.get_ylabel()


def test_plots_need_a_fitted_model():
    with pytest.raises(WorkbookInputError, match="not fitted"):
        plot_probability_alive_matrix(BetaGeoModel(), T=39)


def test_docstring_examples_run():
    assert doctest.testmod(plot_module, raise_on_error=False).failed == 0


# ------------------------------------------------------------------ interval bands
def _band_limits(ax):
    (poly,) = ax.collections
    verts = poly.get_paths()[0].vertices
    return verts[:, 0], verts[:, 1]


def test_survival_forecast_band_contains_the_projection():
    from workbook.clv import ShiftedBetaGeoModel
    from workbook.plotting.clv import plot_survival_forecast

    sbg = ShiftedBetaGeoModel().fit([1000, 631, 468, 382, 326])
    ax = plot_survival_forecast(sbg, 10, n_draws=100, random_state=0)
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), sbg.survival(range(11)).to_numpy())
    band = sbg.bootstrap(lambda m: m.survival(range(11)), n_draws=100, random_state=0)
    x, y = _band_limits(ax)
    assert y.max() == pytest.approx(band["upper"].max()) and y.min() == pytest.approx(band["lower"].min())
    assert (band["lower"] <= line.get_ydata() + 1e-12).all() and (line.get_ydata() <= band["upper"] + 1e-12).all()
    # Relatively wider for later periods: the projection is less certain the further it goes.
    width = (band["upper"] - band["lower"]) / band["estimate"]
    assert width.iloc[10] > 1.5 * width.iloc[2]


def test_expected_purchases_band_for_bgbb_and_no_band_without_covariance(model):
    from workbook.clv import BetaGeoBetaBinomModel, simulate_opportunities
    from workbook.plotting.clv import plot_expected_purchases

    bgbb = BetaGeoBetaBinomModel().fit(simulate_opportunities(1500, 1.2, 0.8, 0.7, 2.8, n_periods=8,
                                                              random_state=0))
    ax = plot_expected_purchases(bgbb, 12, n_draws=60)
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), np.arange(13))
    assert len(ax.collections) == 1
    plt.close("all")
    ax = plot_expected_purchases(model, 52, level=None)  # hand-set parameters: the curve alone
    assert len(ax.collections) == 0
    with pytest.raises(WorkbookInputError, match="set by hand"):
        plot_expected_purchases(model, 52)
