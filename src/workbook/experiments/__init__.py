"""A/B and campaign experiments: tests, power, assignment, CUPED, uplift, simulation.

One concept per module, everything re-exported here:

* :mod:`.tests` — :func:`proportion_test` (conversion rates) and
  :func:`mean_test` (Welch test on spend, optionally CUPED-adjusted).
* :mod:`.power` — sample sizes, power and power curves.
* :mod:`.assignment` — seeded, stratified :func:`assign_arms` and
  :func:`balance_table`.
* :mod:`.cuped` — :func:`cuped` variance reduction; :func:`cuped_comparison` (raw vs CUPED) is in :mod:`.tests`.
* :mod:`.uplift` — :func:`uplift_by_segment` and :func:`campaign_roi`.
* :mod:`.simulation` — :func:`simulate_campaign` with a known true effect and
  :func:`simulate_peeking` / :func:`false_positive_rate`.

Plots are in :mod:`workbook.plotting.experiments`.
"""

from workbook.experiments.assignment import assign_arms, balance_table
from workbook.experiments.cuped import cuped
from workbook.experiments.power import (
    power_curve,
    power_means,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)
from workbook.experiments.simulation import false_positive_rate, simulate_campaign, simulate_peeking
from workbook.experiments.tests import (
    MeanTestResult,
    ProportionTestResult,
    cuped_comparison,
    mean_test,
    proportion_test,
)
from workbook.experiments.uplift import campaign_roi, uplift_by_segment

__all__ = [
    "MeanTestResult",
    "ProportionTestResult",
    "assign_arms",
    "balance_table",
    "campaign_roi",
    "cuped",
    "cuped_comparison",
    "false_positive_rate",
    "mean_test",
    "power_curve",
    "power_means",
    "power_proportions",
    "proportion_test",
    "sample_size_means",
    "sample_size_proportions",
    "simulate_campaign",
    "simulate_peeking",
    "uplift_by_segment",
]
