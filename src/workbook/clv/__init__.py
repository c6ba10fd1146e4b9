"""Customer lifetime value: historical, formula and predictive (BG/NBD + Gamma-Gamma).

One concept per module:

* :mod:`workbook.clv.historical` -- margin earned so far and the margin/retention formula;
* :mod:`workbook.clv.data` -- BG/NBD summary (frequency, recency, T, monetary value) and
  a calibration/holdout split;
* :mod:`workbook.clv.bgnbd` -- the BG/NBD purchase and dropout model;
* :mod:`workbook.clv.covariates` -- BG/NBD with time-invariant covariates (channel, tier);
* :mod:`workbook.clv.gamma_gamma` -- the Gamma-Gamma spend model;
* :mod:`workbook.clv.pareto_nbd` -- the Pareto/NBD alternative to BG/NBD, and model comparison;
* :mod:`workbook.clv.purchase_counts` -- the distribution of purchases P(X(t) = n);
* :mod:`workbook.clv.sbg` -- the sBG model of paid-membership renewals;
* :mod:`workbook.clv.bgbb` -- the BG/BB model of transactions at discrete opportunities
  (weekly classes, yearly events);
* :mod:`workbook.clv.value` -- predictive CLV combining the two;
* :mod:`workbook.clv.cdnow` -- the CDNOW sample used in the original papers.

Every fitted model shares :mod:`workbook.clv.base`: ``summary(level=0.95)``
(estimates, standard errors, confidence limits), ``log_covariance_``,
``parameter_draws(n_draws, random_state=)`` and ``bootstrap(statistic, ...)``
(interval of any forecast by parametric bootstrap); ``customer_lifetime_value(...,
level=)`` gives per-member CLV intervals.
"""

from workbook.clv.bgbb import (
    BetaGeoBetaBinomModel,
    bgbb_log_likelihood,
    bgbb_summary,
    simulate_opportunities,
)
from workbook.clv.bgnbd import BetaGeoModel, bgnbd_log_likelihood, calibration_vs_holdout
from workbook.clv.covariates import BetaGeoCovariateModel
from workbook.clv.cdnow import load_cdnow_summary, load_cdnow_transactions
from workbook.clv.data import bgnbd_summary, calibration_holdout_split
from workbook.clv.gamma_gamma import (
    FrequencySpendCorrelationWarning,
    GammaGammaModel,
    gamma_gamma_log_likelihood,
)
from workbook.clv.historical import formula_clv, historical_clv, retention_improvement_table
from workbook.clv.pareto_nbd import ParetoNBDModel, compare_models, pareto_nbd_log_likelihood
from workbook.clv.purchase_counts import (
    probability_of_n_purchases,
    purchase_count_forecast,
    purchase_count_probabilities,
)
from workbook.clv.sbg import ShiftedBetaGeoModel, simulate_renewals, survival_counts_to_lifetimes
from workbook.clv.value import customer_lifetime_value

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoCovariateModel",
    "BetaGeoModel",
    "FrequencySpendCorrelationWarning",
    "GammaGammaModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "bgbb_log_likelihood",
    "bgbb_summary",
    "bgnbd_log_likelihood",
    "bgnbd_summary",
    "calibration_holdout_split",
    "calibration_vs_holdout",
    "compare_models",
    "customer_lifetime_value",
    "formula_clv",
    "gamma_gamma_log_likelihood",
    "historical_clv",
    "load_cdnow_summary",
    "load_cdnow_transactions",
    "pareto_nbd_log_likelihood",
    "probability_of_n_purchases",
    "purchase_count_forecast",
    "purchase_count_probabilities",
    "retention_improvement_table",
    "simulate_opportunities",
    "simulate_renewals",
    "survival_counts_to_lifetimes",
]
