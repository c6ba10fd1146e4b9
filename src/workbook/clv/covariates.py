"""BG/NBD with time-invariant covariates: do channel or tier change how often members buy and how soon they leave?

Fader and Hardie (2007), "Incorporating time-invariant covariates into the Pareto/NBD
and BG/NBD models" (http://brucehardie.com/notes/019/), let member characteristics
``z_i`` (acquisition channel, tier, ... as numbers, e.g. 0/1 dummies) shift the two
processes of the BG/NBD model (:mod:`workbook.clv.bgnbd`):

* purchases: ``alpha_i = alpha exp(-purchase_coef . z_i)``, so the mean purchase rate
  ``r / alpha_i`` is multiplied by ``exp(purchase_coef . z_i)``: a coefficient of 0.2
  means about 22% more purchases per week for each unit of the covariate;
* dropout: ``a_i = a exp(dropout_coef . z_i)``, so a positive coefficient raises the
  mean dropout probability ``a_i / (a_i + b)`` after each purchase.

``r`` and ``b`` are shared.  With every covariate 0 a member has the baseline
parameters ``(r, alpha, a, b)``; code a categorical covariate as dummies against a
reference level.  The coefficients are fitted on their own scale (they can be
negative), the four positive parameters on the log scale, all by maximum likelihood
with a central-difference gradient; standard errors and intervals come from the
shared base (:class:`workbook.clv.base.MaximumLikelihoodModel`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import expit

from workbook.clv._mle import central_difference_objective, fit_log_params
from workbook.clv._validation import (require_horizon, require_summary_time_unit, require_time_unit,
                                      rfm_arrays)
from workbook.clv.base import MaximumLikelihoodModel
from workbook.clv.bgnbd import BetaGeoModel, bgnbd_log_likelihood, conditional_expectation, log_odds_dropped
from workbook.errors import WorkbookInputError
from workbook.validation import format_rows, require_columns, require_numeric

__all__ = ["BetaGeoCovariateModel"]

BASE_NAMES = ("r", "alpha", "a", "b")


class BetaGeoCovariateModel(MaximumLikelihoodModel):
    """BG/NBD model whose purchase rate and dropout depend on member characteristics.

    Parameters
    ----------
    time_unit : {"W", "D"}, default "W"
        Time unit of ``recency`` and ``T`` and of every horizon.
    purchase_covariates, dropout_covariates : sequence of str
        Numeric columns of the summary that shift the purchase rate and the dropout
        probability (they may overlap).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b`` (baseline: every covariate 0), then
        ``purchase:<column>`` and ``dropout:<column>`` coefficients.
    log_covariance_, standard_errors_, log_likelihood_, n_members_
        As in :class:`workbook.clv.base.MaximumLikelihoodModel`; ``summary()`` gives
        log-scale intervals for the four positive parameters and normal intervals
        for the coefficients (an interval excluding 0 means a clear effect).

    Examples
    --------
    Members from an app campaign (``app = 1``) buy more often than the others:

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 4000
    >>> app = rng.integers(0, 2, n)
    >>> lam = rng.gamma(0.5, 1 / (8.0 * np.exp(-0.7 * app)))
    >>> T = rng.uniform(20, 52, n)
    >>> K = rng.poisson(lam * T)
    >>> x = np.minimum(K, rng.geometric(rng.beta(0.8, 3.0, n)))
    >>> t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), K - x + 1), 0.0)
    >>> summary = pd.DataFrame({"frequency": x, "recency": t_x, "T": T, "app": app})
    >>> model = BetaGeoCovariateModel(purchase_covariates=["app"]).fit(summary)
    >>> table = model.summary()
    >>> list(table.index)
    ['r', 'alpha', 'a', 'b', 'purchase:app']
    >>> bool(table.loc["purchase:app", "ci_lower"] > 0)
    True
    """

    example_params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

    def __init__(
        self,
        time_unit: str = "W",
        purchase_covariates: Sequence[str] = (),
        dropout_covariates: Sequence[str] = (),
    ) -> None:
        self.time_unit = time_unit
        self.purchase_covariates = purchase_covariates
        self.dropout_covariates = dropout_covariates

    @property
    def param_names(self) -> tuple[str, ...]:
        return (BASE_NAMES + tuple(f"purchase:{c}" for c in self.purchase_covariates)
                + tuple(f"dropout:{c}" for c in self.dropout_covariates))

    def _log_scale(self) -> np.ndarray:
        return np.arange(len(self.param_names)) < len(BASE_NAMES)

    def _covariates(self, summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Validated covariate matrices (members x columns) for purchases and dropout."""
        cols = list(dict.fromkeys([*self.purchase_covariates, *self.dropout_covariates]))
        require_columns(summary, cols, "summary")
        for col in cols:
            require_numeric(summary, col, "summary")
            bad = ~np.isfinite(summary[col].to_numpy(dtype="float64"))
            if bad.any():
                raise WorkbookInputError(
                    f"Covariate column {col!r} has missing or infinite values at "
                    f"{format_rows(np.flatnonzero(bad))} (positions counted from 0).",
                    message_zh=f"协变量列 {col!r} 有缺失值或无穷大，请先补齐或删除这些会员。",
                )

        def matrix(columns):
            return summary[list(columns)].to_numpy(dtype="float64").reshape(len(summary), len(columns))

        return matrix(self.purchase_covariates), matrix(self.dropout_covariates)

    @staticmethod
    def _member_arrays(theta, z_p, z_d):
        """Member-level (r, alpha_i, a_i, b) from the parameter vector (positive ones on log scale)."""
        k_p = z_p.shape[1]
        r, alpha, a, b = np.exp(theta[:4])
        alpha_i = alpha * np.exp(-(z_p @ theta[4:4 + k_p]))
        a_i = a * np.exp(z_d @ theta[4 + k_p:])
        return r, alpha_i, a_i, b

    def _theta(self) -> np.ndarray:
        values = np.asarray(self._params())
        return np.where(self._log_scale(), np.log(np.abs(values)), values)

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
    ) -> BetaGeoCovariateModel:
        """Estimate the baseline parameters and the covariate coefficients by maximum likelihood.

        Parameters
        ----------
        summary : DataFrame
            BG/NBD summary (see :func:`workbook.clv.data.bgnbd_summary`) with the
            covariate columns added, one row per member.

        Returns
        -------
        BetaGeoCovariateModel
            ``self``, fitted.

        Raises
        ------
        WorkbookInputError
            Missing or invalid columns, a constant covariate (its effect cannot be
            told from the baseline), or no repeat purchase at all.
        ConvergenceError
            If the optimiser does not converge or an estimate runs off to a boundary.
        """
        require_time_unit(self.time_unit)
        require_summary_time_unit(summary, self.time_unit)
        x, t_x, T = rfm_arrays(summary, frequency_col, recency_col, T_col)
        z_p, z_d = self._covariates(summary)
        for name, z, cols in (("purchase", z_p, self.purchase_covariates),
                              ("dropout", z_d, self.dropout_covariates)):
            constant = [c for c, spread in zip(cols, np.ptp(z, axis=0)) if spread == 0]
            if constant:
                raise WorkbookInputError(
                    f"{name} covariate(s) {constant} take a single value for every member: their "
                    "effect cannot be told apart from the baseline. Drop them.",
                    message_zh=f"协变量 {constant} 对所有会员取值相同，无法估计其影响，请删除。",
                )
        if not (x > 0).any():
            raise WorkbookInputError(
                f"Column {frequency_col!r} is 0 for every member: with no repeat purchase the "
                "model cannot be estimated.", message_zh="所有会员都没有重复购买，无法估计模型。")
        n_params = len(self.param_names)

        def value(theta: np.ndarray) -> float:
            with np.errstate(all="ignore"):
                ll = bgnbd_log_likelihood(self._member_arrays(theta, z_p, z_d), x, t_x, T)
            total = float(ll.mean())
            return -total if np.isfinite(total) else np.inf

        objective = central_difference_objective(value, n_params)

        # Start from the fit without covariates: the coefficients then start at 0.
        base = BetaGeoModel(time_unit=self.time_unit).fit(
            pd.DataFrame({"frequency": x, "recency": t_x, "T": T})
        )
        start = np.concatenate([np.log(base.params_.to_numpy()), np.zeros(n_params - 4)])
        best = fit_log_params(
            objective, [start], self.param_names, model="BG/NBD with covariates",
            not_finite_hint="", not_converged_hint=". Check the covariates for extreme values "
            "(scale them, e.g. to 0/1 dummies or standard units).",
            boundary_hint="a parameter or coefficient is not identified; drop covariates that "
            "hardly vary or that almost no repeat buyer has.",
        )
        self._store_fit(best, len(x), total_negative_log_likelihood=lambda th: value(th) * len(x))
        return self

    # -------------------------------------------------------------- predictions
    def member_params(self, summary: pd.DataFrame) -> pd.DataFrame:
        """Each member's BG/NBD parameters ``r, alpha, a, b`` implied by their covariates.

        Examples
        --------
        >>> import pandas as pd
        >>> m = BetaGeoCovariateModel(purchase_covariates=["app"])
        >>> m.params_ = pd.Series({"r": 0.5, "alpha": 8.0, "a": 0.8, "b": 3.0, "purchase:app": 0.7})
        >>> m.member_params(pd.DataFrame({"app": [0, 1]}))["alpha"].round(3).tolist()
        [8.0, 3.973]
        """
        z_p, z_d = self._covariates(summary)
        r, alpha_i, a_i, b = self._member_arrays(self._theta(), z_p, z_d)
        return pd.DataFrame({"r": r, "alpha": alpha_i, "a": a_i, "b": b}, index=summary.index)

    def probability_alive(
        self,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
    ) -> pd.Series:
        """Probability that each member is still active (BG/NBD eq. 11 with the member's parameters)."""
        require_summary_time_unit(summary, self.time_unit)
        x, t_x, T = rfm_arrays(summary, frequency_col, recency_col, T_col)
        params = tuple(self.member_params(summary)[list(BASE_NAMES)].to_numpy().T)
        return pd.Series(expit(-log_odds_dropped(params, x, t_x, T)), index=summary.index,
                         name="probability_alive")

    def expected_purchases(
        self,
        t: float,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
    ) -> pd.Series:
        """Expected purchases of each member in the next ``t`` time units (eq. 10, member parameters)."""
        require_summary_time_unit(summary, self.time_unit)
        x, t_x, T = rfm_arrays(summary, frequency_col, recency_col, T_col)
        t = np.asarray(t, dtype="float64")
        require_horizon(t)
        params = tuple(self.member_params(summary)[list(BASE_NAMES)].to_numpy().T)
        return pd.Series(conditional_expectation(params, t, x, t_x, T), index=summary.index,
                         name="expected_purchases")
