"""The small base every CLV model shares: fitted estimates, standard errors and ``summary()``.

BG/NBD and Gamma-Gamma are both fitted by maximum likelihood on the log scale of
their positive parameters (:mod:`workbook.clv._mle`).  This base stores the fit
the same way for both (``params_``, ``standard_errors_``, ``log_likelihood_``,
``n_members_``), computes the standard errors the same way (inverse numerical
Hessian of the log-likelihood, delta method back from the log scale) and gives
every model the same ``summary()`` table.  It follows the scikit-learn
estimator contract (parameters only in ``__init__``, learned state ending in
``_``, :func:`workbook.validation.require_fitted`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeResult
from sklearn.base import BaseEstimator

from workbook.clv._mle import log_scale_standard_errors
from workbook.validation import require_fitted

__all__ = ["MaximumLikelihoodModel"]

#: Normal quantile of the 95% confidence limits in :meth:`MaximumLikelihoodModel.summary`.
Z_95 = 1.96


class MaximumLikelihoodModel(BaseEstimator):
    """Base of the CLV models fitted by maximum likelihood (subclasses set ``param_names``).

    Attributes
    ----------
    params_ : pandas.Series
        Estimates, named ``estimate``, indexed by :attr:`param_names`.
    standard_errors_ : pandas.Series
        Asymptotic standard errors from the inverse Hessian of the log-likelihood
        (delta method from the log scale); NaN where the Hessian is not invertible.
    log_likelihood_ : float
        Maximised total log-likelihood.
    n_members_ : int
        Members used in the fit.
    """

    #: Parameter names, in the order of the log-parameter vector.
    param_names: tuple[str, ...] = ()
    #: Published estimates quoted in the not-fitted message (users may set ``params_``).
    example_params: dict[str, float] = {}

    def _store_fit(
        self, best: OptimizeResult, n: int, objective: Callable[[np.ndarray], tuple[float, np.ndarray]]
    ) -> None:
        """Keep a converged fit; ``objective`` returns the mean negative log-likelihood and its gradient."""
        names = list(self.param_names)
        self.params_ = pd.Series(np.exp(best.x), index=names, name="estimate")
        self.log_likelihood_ = -best.fun * n
        self.n_members_ = n
        se = log_scale_standard_errors(best.x, lambda p: objective(p)[1] * n)
        self.standard_errors_ = pd.Series(se, index=names, name="standard_error")

    def _params(self) -> tuple[float, ...]:
        example = ", ".join(f"'{k}': {v}" for k, v in self.example_params.items())
        hint = f", or set params_ to known values, e.g. pd.Series({{{example}}})" if example else ""
        require_fitted(self, "params_", hint=hint)
        return tuple(float(self.params_[k]) for k in self.param_names)

    def summary(self) -> pd.DataFrame:
        """Estimates, standard errors and 95% confidence limits (normal approximation).

        Returns
        -------
        DataFrame
            Indexed by the parameter names; columns ``estimate``,
            ``standard_error``, ``ci_lower``, ``ci_upper``.  Standard errors are
            NaN when ``params_`` were set by hand instead of fitted.
        """
        self._params()
        se = getattr(self, "standard_errors_", None)
        if se is None:
            se = pd.Series(np.nan, index=list(self.param_names), name="standard_error")
        out = pd.concat([self.params_.rename("estimate"), se], axis=1)
        out["ci_lower"] = out["estimate"] - Z_95 * out["standard_error"]
        out["ci_upper"] = out["estimate"] + Z_95 * out["standard_error"]
        return out

    def __repr__(self) -> str:
        config = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        if hasattr(self, "params_"):
            est = ", ".join(f"{k}={v:.3f}" for k, v in self.params_.items())
            config = f"{config}; {est}" if config else est
        return f"{type(self).__name__}({config})"
