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
