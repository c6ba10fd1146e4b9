"""Campaign simulation with a planted effect, and the peeking simulation."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from workbook.errors import WorkbookInputError
from workbook.experiments import (
    false_positive_rate,
    power_proportions,
    proportion_test,
    simulate_campaign,
    simulate_peeking,
    uplift_by_segment,
)
from workbook.experiments.simulation import _pooled_z_significant


def test_simulate_campaign_structure_and_determinism():
    sim = simulate_campaign(3000, 0.1, 0.03, random_state=4, spend_mean=200, spend_sd=150,
                            pre_period_correlation=0.6)
    assert sim.columns.tolist() == ["member_id", "arm", "converted", "spend", "pre_spend"]
    assert sim["member_id"].is_unique and len(sim) == 3000
    assert sim["arm"].value_counts().tolist() == [1500, 1500]
    assert set(sim["converted"].unique()) <= {0, 1}
    pd.testing.assert_frame_equal(sim, simulate_campaign(3000, 0.1, 0.03, random_state=4, spend_mean=200,
                                                         spend_sd=150, pre_period_correlation=0.6))
    assert sim.attrs["truth"]["true_lift"] == 0.03


def test_spend_distribution_matches_parameters():
    sim = simulate_campaign(60_000, 0.1, 0.0, random_state=1, spend_mean=200, spend_sd=150,
                            pre_period_correlation=0.6)
    # Standard errors: mean ~0.6, sd and correlation a few times larger for log-normal tails.
    assert sim["pre_spend"].mean() == pytest.approx(200, abs=4)
    assert sim["pre_spend"].std() == pytest.approx(150, rel=0.05)
    assert np.corrcoef(sim["spend"], sim["pre_spend"])[0, 1] == pytest.approx(0.6, abs=0.03)


def test_confidence_interval_covers_planted_lift():
    covered, estimates = [], []
    for seed in range(150):
        sim = simulate_campaign(2000, 0.10, 0.04, random_state=seed)
        r = proportion_test(sim)
        covered.append(r.ci_low <= 0.04 <= r.ci_high)
        estimates.append(r.abs_lift)
    # Coverage of a 95% interval over 150 runs: binomial SD ~1.8 points.
    assert 0.89 <= np.mean(covered) <= 0.995
    assert np.mean(estimates) == pytest.approx(0.04, abs=0.004)


def test_members_with_segment_specific_effects():
    rng = np.random.default_rng(0)
    m = pd.DataFrame({"member_id": [f"m{i}" for i in range(20_000)],
                      "segment": rng.choice(["loyal", "at_risk"], 20_000), "city": "上海"})
    sim = simulate_campaign(members=m, baseline_rate={"loyal": 0.30, "at_risk": 0.05},
                            true_lift={"loyal": 0.0, "at_risk": 0.06}, random_state=3)
    assert {"segment", "city"} <= set(sim.columns)
    assert (sim.groupby(["segment", "arm"]).size().unstack().diff(axis=1).abs().iloc[:, 1] <= 1).all()
    t = uplift_by_segment(sim)
    assert t.loc["at_risk", "ci_low"] <= 0.06 <= t.loc["at_risk", "ci_high"]
    assert t.loc["loyal", "ci_low"] <= 0.0 <= t.loc["loyal", "ci_high"]
    assert t.loc["at_risk", "p_value_holm"] < 0.001
    share_at_risk = (sim.loc[sim["arm"] == "treatment", "segment"] == "at_risk").mean()
    assert sim.attrs["truth"]["average_true_lift"] == pytest.approx(0.06 * share_at_risk)


def test_pooled_z_matches_statsmodels():
    x_t = np.array([[30, 45], [12, 0]])
    x_c = np.array([[20, 50], [25, 0]])
    n = np.array([200, 400])
    got = _pooled_z_significant(x_t, x_c, n, 0.05)
    for i in range(2):
        for j in range(2):
            if x_t[i, j] + x_c[i, j] == 0:
                assert not got[i, j]
                continue
            _, p = proportions_ztest([x_t[i, j], x_c[i, j]], [n[j], n[j]])
            assert got[i, j] == (p < 0.05)


def test_peeking_inflates_false_positives_fixed_horizon_does_not():
    sim = simulate_peeking(1000, 0.10, looks=10, n_sims=4000, random_state=0)
    assert sim["n_per_arm"].tolist() == list(range(100, 1001, 100))
    assert sim["reject_rate_any_look"].is_monotonic_increasing
    # SE of a 5% rate over 4000 sims is 0.34 points.
    assert sim.attrs["fixed_horizon_rate"] == pytest.approx(0.05, abs=0.015)
    assert sim.attrs["peeking_rate"] > 0.12
    assert sim["reject_rate_this_look"].between(0.03, 0.07).all()
    fpr = false_positive_rate(1000, 0.10, looks=10, n_sims=4000, random_state=0)
    assert fpr.loc["peeking", "false_positive_rate"] == sim.attrs["peeking_rate"]
    assert fpr.loc["fixed_horizon", "ci_low"] < 0.05 < fpr.loc["peeking", "ci_low"]


def test_peeking_simulation_power_matches_analytic_power():
    sim = simulate_peeking(2000, 0.10, true_lift=0.02, looks=4, n_sims=4000, random_state=1)
    # Analytic (Cohen's h) power at the final look ~0.61; Monte Carlo SE ~0.008.
    assert sim.attrs["fixed_horizon_rate"] == pytest.approx(power_proportions(2000, 0.10, 0.02), abs=0.03)
    analytic = [power_proportions(n, 0.10, 0.02) for n in sim["n_per_arm"]]
    np.testing.assert_allclose(sim["reject_rate_this_look"], analytic, atol=0.03)


def test_simulation_errors():
    with pytest.raises(WorkbookInputError, match="outside"):
        simulate_campaign(100, 0.9, 0.2)
    with pytest.raises(WorkbookInputError, match="no value for segment"):
        simulate_campaign(members=pd.DataFrame({"member_id": ["a", "b"], "segment": ["x", "y"]}),
                          true_lift={"x": 0.01})
    with pytest.raises(WorkbookInputError, match="mapping by segment"):
        simulate_campaign(100, {"x": 0.1})
    with pytest.raises(WorkbookInputError, match="members has 2 rows"):
        simulate_campaign(5, members=pd.DataFrame({"member_id": ["a", "b"]}))
    with pytest.raises(WorkbookInputError, match="pre_period_correlation"):
        simulate_campaign(100, pre_period_correlation=1.5)
    with pytest.raises(WorkbookInputError, match="at least looks"):
        simulate_peeking(5, 0.1, looks=10)
    with pytest.raises(WorkbookInputError, match="not a probability"):
        simulate_peeking(100, 0.1, true_lift=1.0)
