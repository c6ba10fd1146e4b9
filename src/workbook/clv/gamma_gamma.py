"""Gamma-Gamma model of the average spend per purchase.

Fader, Hardie and Lee (2005), "RFM and CLV: using iso-value curves for customer base
analysis", *Journal of Marketing Research* 42(4), and Fader and Hardie (2013), "The
Gamma-Gamma model of monetary value" (http://brucehardie.com/notes/025/):

* the spend of each purchase of member *i* is ``Gamma(shape=p, rate=nu_i)``, so the
  member's mean spend is ``p / nu_i``;
* ``nu_i ~ Gamma(shape=q, rate=gamma)`` across members.

Given ``x`` repeat purchases with average spend ``m``, the expected spend per future
purchase shrinks ``m`` towards the population mean ``p gamma / (q - 1)``:
``E[M | x, m] = (q - 1)/(p x + q - 1) * p gamma/(q - 1) + p x/(p x + q - 1) * m``.

The model assumes that spend does not depend on how often a member buys; the fit warns
when frequency and average spend are clearly correlated.  Members without repeat
purchases carry no spend information under this set-up and are left out of the fit.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from workbook.clv._mle import fit_log_params
from workbook.clv._validation import require_nonnegative
from workbook.clv.base import MaximumLikelihoodModel
from workbook.errors import WorkbookInputError
from workbook.validation import format_rows, require_columns, require_dataframe, require_numeric

PARAM_NAMES = ("p", "q", "gamma")

#: |Pearson correlation| between frequency and average spend above which ``fit`` warns.
CORRELATION_WARNING = 0.3



class FrequencySpendCorrelationWarning(UserWarning):
    """Frequency and average spend are correlated, against the Gamma-Gamma assumption."""


def gamma_gamma_log_likelihood(
    params: Sequence[float], frequency: np.ndarray, monetary_value: np.ndarray
) -> np.ndarray:
    """Per-member log-likelihood of the average spend ``m`` over ``x > 0`` purchases.

    ``f(m | p, q, gamma, x) = Gamma(px + q) / (Gamma(px) Gamma(q)) gamma^q m^(px - 1) x^(px)
    / (gamma + m x)^(px + q)`` (Fader and Hardie 2013, eq. 4).

    Examples
    --------
    >>> import numpy as np
    >>> ll = gamma_gamma_log_likelihood((6.25, 3.74, 15.44), np.array([1.0, 2.0]),
    ...                                 np.array([20.0, 30.0]))
    >>> np.round(ll, 3)
    array([-3.594, -3.847])
    """
    p, q, gamma = params
    x = np.asarray(frequency, dtype="float64")
    m = np.asarray(monetary_value, dtype="float64")
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


def _negative_log_likelihood_and_gradient(
    log_params: np.ndarray, x: np.ndarray, m: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its gradient with respect to the log-parameters."""
    p, q, gamma = np.exp(log_params)
    px = p * x
    log_gmx = np.log(gamma + m * x)
    ll = gamma_gamma_log_likelihood((p, q, gamma), x, m)
    psi = digamma(px + q)
    d_p = x * (psi - digamma(px) + np.log(m) + np.log(x) - log_gmx)
    d_q = psi - digamma(q) + np.log(gamma) - log_gmx
    d_gamma = q / gamma - (px + q) / (gamma + m * x)
    grad = np.array([d_p.sum(), d_q.sum(), d_gamma.sum()]) * np.array([p, q, gamma])
    n = len(x)
    return -float(ll.sum()) / n, -grad / n


def _spend_arrays(
    summary: pd.DataFrame, frequency_col: str, amount_col: str
) -> tuple[np.ndarray, np.ndarray]:
    require_dataframe(summary, "summary")
    require_columns(summary, [frequency_col, amount_col], "summary")
    for col in (frequency_col, amount_col):
        require_numeric(summary, col, "summary")
        require_nonnegative(summary, col, "summary")
    x = summary[frequency_col].to_numpy(dtype="float64")
    m = summary[amount_col].to_numpy(dtype="float64")
    bad = (x > 0) & (m <= 0)
    if bad.any():
        raise WorkbookInputError(
            f"Column {amount_col!r} must be positive for members with repeat purchases "
            f"({frequency_col!r} > 0); zero at {format_rows(np.flatnonzero(bad))} (positions counted from 0). "
            "Drop zero-value purchases (e.g. free gifts) before building the summary."
        )
    return x, m


class GammaGammaModel(MaximumLikelihoodModel):
    """Gamma-Gamma model of spend per purchase, fitted by maximum likelihood.

    Attributes
    ----------
    params_ : pandas.Series
        Estimates of ``p``, ``q`` and ``gamma`` (in the currency of the data).
    standard_errors_ : pandas.Series
        Asymptotic standard errors from the inverse numerical Hessian of the
        log-likelihood (delta method from the log scale), as for BG/NBD;
        :meth:`summary` adds 95% confidence limits.
    log_likelihood_ : float
        Maximised total log-likelihood.
    n_members_ : int
        Members with at least one repeat purchase, the ones used in the fit.
    frequency_spend_correlation_ : float
        Pearson correlation between frequency and average spend among those members.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(1, 6, 500)
    >>> m = rng.gamma(6 * x, 1 / (x * rng.gamma(4, 1 / 15, 500)))
    >>> summary = pd.DataFrame({"frequency": x, "monetary_value": m})
    >>> model = GammaGammaModel().fit(summary)
    >>> list(model.params_.index)
    ['p', 'q', 'gamma']
    >>> spend = model.expected_average_spend(summary)
    >>> bool(spend.between(m.min(), m.max()).all())
    True
    >>> table = model.summary()
    >>> list(table.columns), bool((table["standard_error"] > 0).all())
    (['estimate', 'standard_error', 'ci_lower', 'ci_upper'], True)
    """

    param_names = PARAM_NAMES
    example_params = {"p": 6.25, "q": 3.74, "gamma": 15.44}

    def fit(
        self,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        amount_col: str = "monetary_value",
    ) -> GammaGammaModel:
        """Estimate ``p, q, gamma`` from members with at least one repeat purchase.

        Parameters
        ----------
        summary : DataFrame
            One row per member with the number of repeat purchases and the average
            spend per repeat purchase (see :func:`workbook.clv.data.bgnbd_summary`).
            Rows with ``frequency == 0`` are ignored.
        frequency_col, amount_col : str
            Column names.

        Returns
        -------
        GammaGammaModel
            ``self``, fitted.

        Warns
        -----
        FrequencySpendCorrelationWarning
            If ``|corr(frequency, monetary_value)|`` exceeds :data:`CORRELATION_WARNING`.

        Raises
        ------
        WorkbookInputError
            Missing or invalid columns, or fewer than 10 members with repeat purchases.
        ConvergenceError
            If the optimiser does not converge or an estimate runs off to a boundary.
        """
        x_all, m_all = _spend_arrays(summary, frequency_col, amount_col)
        keep = x_all > 0
        x, m = x_all[keep], m_all[keep]
        if len(x) < 10:
            raise WorkbookInputError(
                f"Only {len(x)} members have repeat purchases ({frequency_col!r} > 0); the "
                "Gamma-Gamma model needs at least 10. Use a longer observation period."
            )
        corr = float(np.corrcoef(x, m)[0, 1]) if np.ptp(x) > 0 and np.ptp(m) > 0 else 0.0
        self.frequency_spend_correlation_ = corr
        if abs(corr) > CORRELATION_WARNING:
            warnings.warn(
                f"Frequency and average spend are correlated (Pearson r = {corr:.2f}) among the "
                f"{len(x)} repeat buyers; the Gamma-Gamma model assumes they are independent, so "
                "its spend predictions may be biased.",
                FrequencySpendCorrelationWarning,
                stacklevel=2,
            )
        n = len(x)

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            with np.errstate(all="ignore"):
                return _negative_log_likelihood_and_gradient(log_params, x, m)

        # Starting points: spend CV from p, mean spend p*gamma/(q-1); stop at the first converged.
        mean_m = float(m.mean())
        starts = [np.log([1.0, 2.0, mean_m]), np.log([5.0, 3.0, 2.0 * mean_m / 5.0]), np.zeros(3)]
        best = fit_log_params(
            objective,
            starts,
            PARAM_NAMES,
            model="Gamma-Gamma",
            not_finite_hint="",
            not_converged_hint="; check monetary values for outliers (e.g. bulk "
            "orders) and units.",
            boundary_hint="the spend data do not "
            "identify the model (e.g. almost no variation in average spend between members).",
        )
        self._store_fit(best, n, objective)
        return self

    def population_mean_spend(self) -> float:
        """Mean spend per purchase across members, ``p gamma / (q - 1)`` (needs ``q > 1``)."""
        p, q, gamma = self._params()
        if q <= 1:
            raise WorkbookInputError(
                f"q = {q:.3f} <= 1: the population mean spend is infinite under this fit "
                "(extremely heavy-tailed spend); look for outliers in monetary_value."
            )
        return p * gamma / (q - 1)

    def expected_average_spend(
        self,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        amount_col: str = "monetary_value",
    ) -> pd.Series:
        """Expected spend per future purchase of each member.

        ``E[M | x, m] = p (gamma + m x) / (p x + q - 1)``; members with ``x = 0`` get the
        population mean ``p gamma / (q - 1)``.

        Returns
        -------
        Series
            Named ``expected_average_spend``, indexed like ``summary``.

        Examples
        --------
        >>> import pandas as pd
        >>> gg = GammaGammaModel()
        >>> gg.params_ = pd.Series({"p": 6.25, "q": 3.74, "gamma": 15.44})
        >>> s = pd.DataFrame({"frequency": [0, 2], "monetary_value": [0.0, 22.35]})
        >>> gg.expected_average_spend(s).round(2).tolist()
        [35.22, 24.66]
        """
        x, m = _spend_arrays(summary, frequency_col, amount_col)
        p, q, gamma = self._params()
        self.population_mean_spend()  # raises if q <= 1
        m = np.where(x > 0, m, 0.0)
        value = p * (gamma + m * x) / (p * x + q - 1)
        return pd.Series(value, index=summary.index, name="expected_average_spend")
