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
