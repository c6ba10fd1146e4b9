"""Sample size and power (workbook.experiments.power) against statsmodels and closed forms."""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from workbook.errors import WorkbookInputError
from workbook.experiments import (
    power_curve,
    power_means,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)

Z_975, Z_80 = stats.norm.ppf(0.975), stats.norm.ppf(0.8)


def test_sample_size_10_vs_12_percent():
    n = sample_size_proportions(0.10, 0.02)
    assert n == 3835
    assert sample_size_proportions(0.10, 0.20, relative=True) == n
    # Closed form with Cohen's h (var of 2 asin(sqrt(p_hat)) is 1/n, ignoring the negligible
    # far tail): n = 2 ((z_a/2 + z_b) / h)^2 = 3834.6.
    h = 2 * math.asin(math.sqrt(0.12)) - 2 * math.asin(math.sqrt(0.10))
    assert n == math.ceil(2 * ((Z_975 + Z_80) / h) ** 2)
    # The classic pooled-variance (Fleiss, no continuity correction) formula gives 3,841:
    # a different approximation within 0.2%.
    pbar = 0.11
    fleiss = (Z_975 * math.sqrt(2 * pbar * (1 - pbar)) + Z_80 * math.sqrt(0.1 * 0.9 + 0.12 * 0.88)) ** 2 / 0.02**2
    assert math.ceil(fleiss) == 3841
    assert n == pytest.approx(fleiss, rel=0.002)


def test_sample_size_is_smallest_n_reaching_power():
    for base, mde, ratio in [(0.10, 0.02, 1.0), (0.05, 0.01, 2.0), (0.30, -0.05, 0.5)]:
        n = sample_size_proportions(base, mde, ratio=ratio)
        assert power_proportions(n, base, mde, ratio=ratio) >= 0.8
        assert power_proportions(n - 1, base, mde, ratio=ratio) < 0.8


def test_sample_size_one_sided_and_unequal_arms_match_statsmodels():
    h = 2 * math.asin(math.sqrt(0.06)) - 2 * math.asin(math.sqrt(0.05))
    ref = NormalIndPower().solve_power(h, alpha=0.05, power=0.9, ratio=3.0, alternative="larger")
    assert sample_size_proportions(0.05, 0.01, power=0.9, ratio=3.0, alternative="larger") == math.ceil(ref)
    # One-sided closed form for equal arms: n = 2 ((z_a + z_b) / h)^2 (exact: no far tail).
    n1 = sample_size_proportions(0.05, 0.01, alternative="larger")
    assert n1 == math.ceil(2 * ((stats.norm.ppf(0.95) + Z_80) / h) ** 2)
    # Unequal arms: n_control = (1 + 1/ratio) ((z_a + z_b) / h)^2.
    n3 = sample_size_proportions(0.05, 0.01, power=0.9, ratio=3.0, alternative="larger")
    assert n3 == math.ceil((1 + 1 / 3) * ((stats.norm.ppf(0.95) + stats.norm.ppf(0.9)) / h) ** 2)


def test_sample_size_means():
    n = sample_size_means(sd=100, mde=10)
    assert n == math.ceil(TTestIndPower().solve_power(0.1, alpha=0.05, power=0.8))
    normal_approx = 2 * ((Z_975 + Z_80) * 100 / 10) ** 2  # 1569.8
    assert normal_approx <= n <= normal_approx + 3
    assert power_means(n, 100, 10) >= 0.8 > power_means(n - 1, 100, 10)
    assert sample_size_means(100, -10) == n


def test_power_curve_grid_and_values():
    c = power_curve([0.02, 0.01], [500, 3835], baseline_rate=0.10)
    assert list(c.columns) == ["mde", "n_per_arm", "power"]
    assert c["mde"].tolist() == [0.01, 0.01, 0.02, 0.02]
    assert c["power"].iloc[3] == pytest.approx(power_proportions(3835, 0.10, 0.02))
    auto = power_curve(10, sd=100)
    assert len(auto) == 40 and auto["power"].is_monotonic_increasing
    assert auto["power"].iloc[0] < 0.8 < auto["power"].iloc[-1]
    assert np.allclose(auto["power"], [power_means(n, 100, 10) for n in auto["n_per_arm"]])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sample_size_proportions(1.2, 0.02), "baseline_rate"),
        (lambda: sample_size_proportions(0.95, 0.1), "outside"),
        (lambda: sample_size_proportions(0.1, 0.0), "non-zero"),
        (lambda: sample_size_proportions(0.1, 0.02, power=0.01), "larger than alpha"),
        (lambda: sample_size_proportions(0.1, -0.02, alternative="larger"), "opposite sign"),
        (lambda: sample_size_proportions(0.1, 0.02, ratio=0), "ratio"),
        (lambda: sample_size_means(0, 10), "sd"),
        (lambda: power_curve(0.02), "exactly one"),
        (lambda: power_curve(0.02, [1, 100], baseline_rate=0.1), "at least 2"),
        (lambda: power_proportions(100, 0.1, 0.02, alternative="both"), "alternative"),
    ],
)
def test_power_errors(call, match):
    with pytest.raises(WorkbookInputError, match=match):
        call()
