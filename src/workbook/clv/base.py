"""The base every CLV model shares: estimates, their uncertainty and ``summary()``.

Every model in :mod:`workbook.clv` is fitted by maximum likelihood on the log scale
of its positive parameters (:mod:`workbook.clv._mle`).  This base stores the fit
the same way for all of them and answers "how sure are we?" the same way:

* ``log_covariance_``: the asymptotic covariance of the *log* parameters, the
  inverse Hessian of the negative log-likelihood at the optimum;
* ``standard_errors_``: the delta-method standard errors of the parameters
  (``se = estimate * sqrt(diag(log_covariance_))``);
* :meth:`~MaximumLikelihoodModel.summary`: estimates, standard errors and
  confidence limits computed on the log scale (``exp(log estimate +- z se_log)``),
  so a lower limit is never negative;
* :meth:`~MaximumLikelihoodModel.parameter_draws` and
  :meth:`~MaximumLikelihoodModel.bootstrap`: a parametric bootstrap that draws
  parameter sets from the estimated (log-normal) sampling distribution and
  recomputes any forecast with each, giving intervals for population forecasts
  and per-member values.

It follows the scikit-learn estimator contract (parameters only in ``__init__``,
learned state ending in ``_``, :func:`workbook.validation.require_fitted`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeResult
from scipy.stats import norm
from sklearn.base import BaseEstimator

from workbook.clv._mle import log_scale_covariance
from workbook.errors import WorkbookInputError
from workbook.validation import require_fitted

__all__ = ["MaximumLikelihoodModel", "interval_quantiles"]

#: Normal quantile of the 95% confidence limits (kept for callers of the old constant).
Z_95 = 1.96


def _require_level(level: float) -> float:
    level = float(level)
    if not 0 < level < 1:
        raise WorkbookInputError(
            f"level must be a confidence level between 0 and 1 (e.g. 0.95), got {level!r}.",
            message_zh=f"置信水平 level 必须在 0 和 1 之间（例如 0.95），现在是 {level!r}。",
        )
    return level


def interval_quantiles(draws: np.ndarray, level: float = 0.95, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed ``level`` interval of bootstrap ``draws`` along ``axis`` (lower, upper).

    Examples
    --------
    >>> import numpy as np
    >>> lower, upper = interval_quantiles(np.arange(101.0)[:, None], 0.9)
    >>> np.round(lower, 6).tolist(), np.round(upper, 6).tolist()
    ([5.0], [95.0])
    """
    level = _require_level(level)
    lower, upper = np.nanquantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=axis)
    return lower, upper


class MaximumLikelihoodModel(BaseEstimator):
    """Base of the CLV models fitted by maximum likelihood (subclasses set ``param_names``).

    Attributes
    ----------
    params_ : pandas.Series
        Estimates, named ``estimate``, indexed by :attr:`param_names`.
    log_covariance_ : pandas.DataFrame
        Asymptotic covariance of the log-parameters (inverse Hessian of the
        negative log-likelihood at the optimum; regression coefficients, which can
        be negative, on their own scale); all NaN where the Hessian is not
        invertible.
    standard_errors_ : pandas.Series
        Asymptotic standard errors of the parameters (delta method from the log
        scale); NaN where the Hessian is not invertible.
    log_likelihood_ : float
        Maximised total log-likelihood.
    n_members_ : int
        Members used in the fit.

    Examples
    --------
    Uncertainty works the same for every model; here the sBG model of paid renewals
    on Fader and Hardie's (2007) "regular" cohort:

    >>> from workbook.clv import ShiftedBetaGeoModel
    >>> model = ShiftedBetaGeoModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> model.summary().round(3)  # doctest: +NORMALIZE_WHITESPACE
           estimate  standard_error  ci_lower  ci_upper
    alpha     0.704           0.066     0.587     0.845
    beta      1.182           0.152     0.918     1.522
    >>> draws = model.parameter_draws(1000, random_state=0)
    >>> draws.shape
    (1000, 2)
    >>> band = model.bootstrap(lambda m: m.survival([5, 10]), random_state=0)
    >>> list(band.columns)
    ['estimate', 'lower', 'upper']
    >>> bool((band["lower"] < band["estimate"]).all() and (band["estimate"] < band["upper"]).all())
    True
    """

    #: Parameter names, in the order of the log-parameter vector.
    param_names: tuple[str, ...] = ()
    #: Published estimates quoted in the not-fitted message (users may set ``params_``).
    example_params: dict[str, float] = {}

    def _store_fit(
        self,
        best: OptimizeResult,
        n: int,
        objective: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
        *,
        total_negative_log_likelihood: Callable[[np.ndarray], float] | None = None,
    ) -> None:
        """Keep a converged fit and its covariance.

        ``objective`` returns the mean negative log-likelihood and its analytic
        gradient (the Hessian is then the central-difference Jacobian of the
        gradient); models without an analytic gradient pass
        ``total_negative_log_likelihood`` instead (second differences).
        """
        names = list(self.param_names)
        log_scale = self._log_scale()
        self.params_ = pd.Series(np.where(log_scale, np.exp(best.x), best.x), index=names, name="estimate")
        self.log_likelihood_ = -best.fun * n
        self.n_members_ = n
        if total_negative_log_likelihood is None:
            cov = log_scale_covariance(best.x, gradient=lambda p: objective(p)[1] * n)
        else:
            cov = log_scale_covariance(best.x, value=total_negative_log_likelihood)
        self.log_covariance_ = pd.DataFrame(cov, index=names, columns=names)
        with np.errstate(invalid="ignore"):
            se = np.where(log_scale, np.exp(best.x), 1.0) * np.sqrt(np.diag(cov))
        self.standard_errors_ = pd.Series(se, index=names, name="standard_error")

    def _log_scale(self) -> np.ndarray:
        """Which parameters are positive and fitted on the log scale (all, unless a model says otherwise).

        Regression coefficients (e.g. covariate effects) are fitted as they are;
        their covariance, intervals and draws are then on their own scale.
        """
        return np.ones(len(self.param_names), dtype=bool)

    def _params(self) -> tuple[float, ...]:
        example = ", ".join(f"'{k}': {v}" for k, v in self.example_params.items())
        hint = f", or set params_ to known values, e.g. pd.Series({{{example}}})" if example else ""
        require_fitted(self, "params_", hint=hint)
        return tuple(float(self.params_[k]) for k in self.param_names)

    def _log_covariance(self) -> np.ndarray:
        """The fitted log-scale covariance, or a clear error when there is none."""
        self._params()
        cov = getattr(self, "log_covariance_", None)
        if cov is None:
            raise WorkbookInputError(
                f"{type(self).__name__} has no covariance of its estimates: params_ were set by hand. "
                "Intervals need a model fitted with fit(...).",
                message_zh="参数是手动设定的，没有估计误差，无法给出区间；请先用 fit(...) 拟合模型。",
            )
        cov = cov.loc[list(self.param_names), list(self.param_names)].to_numpy()
        if not np.isfinite(cov).all():
            raise WorkbookInputError(
                f"The covariance of {type(self).__name__}'s estimates could not be computed (the "
                "Hessian of the log-likelihood is not invertible): the data do not pin the "
                "parameters down, so no interval can be given.",
                message_zh="数据不足以确定模型参数（信息矩阵不可逆），无法给出区间。",
            )
        return cov

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Estimates, standard errors and confidence limits of every parameter.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level of the limits.

        Returns
        -------
        DataFrame
            Indexed by the parameter names; columns ``estimate``,
            ``standard_error``, ``ci_lower``, ``ci_upper``.  The limits are
            ``exp(log estimate -+ z se / estimate)``: a normal interval for the
            log-parameter (the scale the model is fitted on), so they are always
            positive and asymmetric.  Standard errors and limits are NaN when
            ``params_`` were set by hand instead of fitted.

        Examples
        --------
        >>> from workbook.clv import ShiftedBetaGeoModel
        >>> table = ShiftedBetaGeoModel().fit([1000, 869, 743, 653, 593, 551, 517, 491]).summary()
        >>> list(table.columns)
        ['estimate', 'standard_error', 'ci_lower', 'ci_upper']
        >>> bool((table["ci_lower"] > 0).all())
        True
        """
        self._params()
        z = norm.ppf(0.5 + _require_level(level) / 2)
        se = getattr(self, "standard_errors_", None)
        if se is None:
            se = pd.Series(np.nan, index=list(self.param_names), name="standard_error")
        out = pd.concat([self.params_.rename("estimate"), se.rename("standard_error")], axis=1)
        log_scale = self._log_scale()
        est, se_ = out["estimate"].to_numpy(), out["standard_error"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.exp(z * se_ / est)
        out["ci_lower"] = np.where(log_scale, est / factor, est - z * se_)
        out["ci_upper"] = np.where(log_scale, est * factor, est + z * se_)
        return out

    def parameter_draws(self, n_draws: int = 500, *, random_state=None) -> pd.DataFrame:
        """Parameter sets drawn from the estimated sampling distribution of the fit.

        The log-parameters are drawn from a multivariate normal with mean the
        estimate and covariance ``log_covariance_`` (the asymptotic distribution
        of the maximum-likelihood estimate, on the scale it is fitted on), then
        exponentiated.  This is the parametric bootstrap behind :meth:`bootstrap`.

        Parameters
        ----------
        n_draws : int, default 500
            Number of parameter sets.
        random_state : int or numpy Generator, optional
            Seed; the same seed gives the same draws.

        Returns
        -------
        DataFrame
            ``n_draws`` rows, one column per parameter.

        Examples
        --------
        >>> from workbook.clv import ShiftedBetaGeoModel
        >>> model = ShiftedBetaGeoModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> draws = model.parameter_draws(2000, random_state=1)
        >>> bool((draws > 0).all().all())
        True
        >>> bool(abs(draws["alpha"].std() / model.standard_errors_["alpha"] - 1) < 0.1)
        True
        """
        cov = self._log_covariance()
        if not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
            raise WorkbookInputError(f"n_draws must be a whole number >= 2, got {n_draws!r}.",
                                     message_zh="n_draws 必须是不小于 2 的整数。")
        rng = np.random.default_rng(random_state)
        log_scale = self._log_scale()
        est = np.asarray(self._params())
        mean = np.where(log_scale, np.log(np.abs(est)), est)
        draws = rng.multivariate_normal(mean, cov, size=int(n_draws), method="eigh")
        return pd.DataFrame(np.where(log_scale, np.exp(draws), draws), columns=list(self.param_names))

    def with_params(self, params) -> MaximumLikelihoodModel:
        """A copy of this model with other parameter values (no refit).

        Used by :meth:`bootstrap`; ``params`` is a mapping or Series with every
        parameter name.  The copy keeps the configuration (e.g. ``time_unit``).
        """
        clone = copy.copy(self)
        clone.params_ = pd.Series({k: float(params[k]) for k in self.param_names}, name="estimate")
        return clone

    def bootstrap(
        self,
        statistic: Callable[[MaximumLikelihoodModel], object],
        *,
        n_draws: int = 500,
        level: float = 0.95,
        random_state=None,
    ) -> pd.DataFrame:
        """Interval of any forecast by parametric bootstrap from the estimated covariance.

        ``statistic(model)`` is computed once with the fitted parameters (the
        ``estimate``) and once for each of ``n_draws`` parameter sets from
        :meth:`parameter_draws`; the interval is the equal-tailed ``level``
        quantile range of those values.  It reflects the uncertainty of the
        estimated parameters (how much the forecast could change with another
        sample of members of the same size), not the randomness of individual
        members' behaviour.

        Parameters
        ----------
        statistic : callable
            Takes a model like this one and returns a number, an array or a
            Series (e.g. ``lambda m: m.expected_purchases_population([13, 26, 52])``).
        n_draws : int, default 500
        level : float, default 0.95
        random_state : int or numpy Generator, optional

        Returns
        -------
        DataFrame
            Columns ``estimate``, ``lower`` and ``upper``, indexed like the
            statistic's result (a RangeIndex for arrays, one row for a number).

        Examples
        --------
        >>> from workbook.clv import ShiftedBetaGeoModel
        >>> model = ShiftedBetaGeoModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> band = model.bootstrap(lambda m: m.survival([1, 12]), random_state=0)
        >>> band.round(2)  # doctest: +NORMALIZE_WHITESPACE
                 estimate  lower  upper
        periods
        1            0.63   0.60   0.65
        12           0.17   0.14   0.19
        """
        level = _require_level(level)
        point = statistic(self)
        index = point.index if isinstance(point, pd.Series) else None
        point_arr = np.atleast_1d(np.asarray(point, dtype="float64"))
        draws = self.parameter_draws(n_draws, random_state=random_state)
        values = np.stack([
            np.atleast_1d(np.asarray(statistic(self.with_params(row)), dtype="float64"))
            for row in draws.to_dict("records")  # one evaluation per parameter draw, not per member
        ])
        lower, upper = interval_quantiles(values, level)
        return pd.DataFrame({"estimate": point_arr, "lower": lower, "upper": upper},
                            index=index if index is not None else pd.RangeIndex(len(point_arr)))

    def __repr__(self) -> str:
        config = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        if hasattr(self, "params_"):
            est = ", ".join(f"{k}={v:.3f}" for k, v in self.params_.items())
            config = f"{config}; {est}" if config else est
        return f"{type(self).__name__}({config})"
