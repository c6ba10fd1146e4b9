"""Shared pytest set-up for tests/ and the package's docstring examples."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test or docstring example drew, so memory stays flat."""
    yield
    plt.close("all")


@pytest.fixture(scope="session", autouse=True)
def _workbook_theme():
    """The chart theme the notebooks set with workbook.notebook.setup() (Chinese font):
    importing workbook.plotting no longer sets it."""
    from workbook.plotting import set_theme

    set_theme()
