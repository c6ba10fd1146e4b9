"""BG/NBD model: how many purchases a member will make, and whether they are still "alive".

The beta-geometric/negative-binomial distribution model (Fader, Hardie and Lee 2005,
"Counting your customers the easy way", *Marketing Science* 24(2)) describes members who
buy at a steady personal rate while active and may drop out for good after any purchase:

* while active, member *i* buys as a Poisson process with rate ``lambda_i``;
  ``lambda_i ~ Gamma(shape=r, rate=alpha)`` across members (``alpha`` is in the model's
  time unit, so its value depends on days vs weeks);
* after each purchase the member drops out with probability ``p_i``;
  ``p_i ~ Beta(a, b)`` across members.

The data per member are ``frequency`` (``x``, repeat purchases), ``recency`` (``t_x``, time
from the first to the last purchase) and ``T`` (time from the first purchase to the end of
the observation period), as built by :func:`workbook.clv.data.bgnbd_summary`.  Parameters
are estimated by maximum likelihood with :func:`scipy.optimize.minimize` on the log scale.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from workbook.clv._mle import collapse_rows, fit_log_params
from workbook.clv._validation import (require_horizon, require_summary_time_unit, require_time_unit,
                                      rfm_arrays)
from workbook.clv.base import MaximumLikelihoodModel
from workbook.errors import WorkbookInputError

PARAM_NAMES = ("r", "alpha", "a", "b")


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    """Inner product without BLAS threads (which stall on a busy machine)."""
    return float(np.einsum("i,i->", u, v))

#: Log-parameters beyond this size mean the optimiser ran off to a boundary of the model.


def bgnbd_log_likelihood(
    params: Sequence[float], frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-member log-likelihood of the BG/NBD model (equation 6 of Fader, Hardie & Lee 2005).

    Parameters
    ----------
    params : sequence of float
        ``(r, alpha, a, b)``, all positive.
    frequency, recency, T : array_like
        Repeat purchases ``x``, time of the last purchase ``t_x`` and age ``T`` (same time
        unit as ``alpha``).

    Returns
    -------
    ndarray
        One log-likelihood per member (sum it for the total).

    Examples
    --------
    >>> import numpy as np
    >>> ll = bgnbd_log_likelihood((0.243, 4.414, 0.793, 2.426), np.array([0.0, 2.0]),
    ...                           np.array([0.0, 30.43]), np.array([38.86, 38.86]))
    >>> np.round(ll, 3)
    array([-0.555, -9.459])
    """
    r, alpha, a, b = params
    x = np.asarray(frequency, dtype="float64")
    t_x = np.asarray(recency, dtype="float64")
    T = np.asarray(T, dtype="float64")
    # log[Gamma(r+x) alpha^r / Gamma(r)] + log[B(a, b+x) / B(a, b)]
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    # still active at T: (alpha+T)^-(r+x)
    log_active = -(r + x) * np.log(alpha + T)
    # dropped out right after the last purchase: a/(b+x-1) (alpha+t_x)^-(r+x), only if x > 0
    # (parameters may be member arrays, see workbook.clv.covariates)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_dropped = np.where(x > 0, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
    return common + np.logaddexp(log_active, log_dropped)


def _negative_log_likelihood_and_gradient(
    log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its gradient with respect to the log-parameters.

    Writing the per-member log-likelihood as ``C + log(exp(A) + exp(B))`` (``C`` the
    gamma/beta terms, ``A`` the still-active and ``B`` the dropped-out branch), the
    gradient is ``dC + w_A dA + w_B dB`` with ``w`` the softmax weights of the branches.
    ``C`` depends on ``x`` only, so it and its digamma derivatives are computed once per
    purchase count (``x`` is whole) and weighted by the members with that count; only
    the branch terms are per row.  ``weights`` counts the members of each row.
    """
    r, alpha, a, b = np.exp(log_params)
    w = np.ones(len(x)) if weights is None else weights
    # Per purchase count k = 0 .. max(x): total weight and the x-only terms.
    counts = np.bincount(x.astype("int64"), weights=w)
    k = np.arange(len(counts), dtype="float64")
    total = counts.sum()
    C = _dot(counts, gammaln(r + k) + betaln(a, b + k)) + total * (r * np.log(alpha) - gammaln(r) - betaln(a, b))
    dC_r = _dot(counts, digamma(r + k)) + total * (np.log(alpha) - digamma(r))
    dC_alpha = total * r / alpha
    dC_a = -_dot(counts, digamma(a + b + k)) + total * digamma(a + b)
    dC_b = _dot(counts, digamma(b + k) - digamma(a + b + k)) + total * (digamma(a + b) - digamma(b))
    # Branches: members without repeat purchases have only the active one.
    repeat = x > 0
    log_a_T = np.log(alpha + T)
    r_x = r + x
    lse = -r_x * log_a_T
    w_B = np.zeros(len(x))
    xr, b_x1 = x[repeat], b + x[repeat] - 1
    log_a_tx = np.log(alpha + t_x[repeat])
    B = np.log(a) - np.log(b_x1) - r_x[repeat] * log_a_tx
    lse_r = np.logaddexp(lse[repeat], B)
    w_B[repeat] = np.exp(B - lse_r)
    lse[repeat] = lse_r
    w_A = 1.0 - w_B
    wr = w[repeat] * w_B[repeat]
    d_r = dC_r - _dot(w, w_A * log_a_T) - _dot(wr, log_a_tx)
    d_alpha = dC_alpha - _dot(w, w_A * r_x / (alpha + T)) - _dot(wr, (r + xr) / (alpha + t_x[repeat]))
    d_a = dC_a + wr.sum() / a
    d_b = dC_b - _dot(wr, 1.0 / b_x1)
    grad = np.array([d_r, d_alpha, d_a, d_b]) * np.array([r, alpha, a, b])
    return -float(C + _dot(w, lse)) / total, -grad / total


def log_odds_dropped(params, x, t_x, T) -> np.ndarray:
    """log of a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x) for x > 0, -inf for x = 0 (eq. 11).

    ``params`` ``(r, alpha, a, b)`` may be arrays broadcasting with the members
    (member-specific parameters of :class:`workbook.clv.covariates.BetaGeoCovariateModel`).
    """
    values = [np.asarray(v, dtype="float64") for v in (x, t_x, T, *params)]
    shape = np.broadcast_shapes(*(v.shape for v in values))
    m = np.broadcast_to(values[0], shape) > 0

    def at(v):  # the repeat buyers' values; scalar parameters stay scalars (cheaper)
        return np.broadcast_to(v, shape)[m] if v.ndim else v

    x, t_x, T, r, alpha, a, b = (at(v) for v in values)
    out = np.full(shape, -np.inf)
    out[m] = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return out


def conditional_expectation(params, t, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T] of Fader, Hardie & Lee (2005, eq. 10); parameters may be member arrays."""
    r, alpha, a, b = (np.asarray(p, dtype="float64") for p in params)
    z = t / (alpha + T + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        bracket = 1.0 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyp2f1(
            r + x, b + x, a + b + x - 1, z
        )
        numerator = (a + b + x - 1) / (a - 1) * bracket
    return numerator * expit(-log_odds_dropped(params, x, t_x, T))


class BetaGeoModel(MaximumLikelihoodModel):
    """BG/NBD model of repeat purchases and dropout, fitted by maximum likelihood.

    Parameters
    ----------
    time_unit : {"W", "D"}, default "W"
        Time unit of ``recency`` and ``T`` in the summaries this model is fitted on and
        of every horizon ``t`` passed to its methods.

    Attributes
    ----------
    params_ : pandas.Series
        Estimates of ``r``, ``alpha`` (in ``time_unit``), ``a`` and ``b``.
    standard_errors_, log_likelihood_, n_members_
        As in :class:`workbook.clv.base.MaximumLikelihoodModel` (``summary()``
        tabulates estimates, standard errors and 95% intervals).

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({"frequency": [0, 1, 4, 0, 2, 7, 0, 3],
    ...                         "recency": [0, 10, 30, 0, 5, 35, 0, 20],
    ...                         "T": [38, 39, 39, 20, 39, 39, 15, 39]})
    >>> model = BetaGeoModel().fit(summary)
    >>> sorted(model.params_.index)
    ['a', 'alpha', 'b', 'r']
    >>> bool((model.probability_alive(summary) <= 1).all())
    True
    """

    param_names = PARAM_NAMES
    example_params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

    def __init__(self, time_unit: str = "W") -> None:
        self.time_unit = time_unit

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
    ) -> BetaGeoModel:
        """Estimate ``r, alpha, a, b`` by maximum likelihood.

        Parameters
        ----------
        summary : DataFrame
            One row per member with repeat purchases, recency (time from first to last
            purchase) and T (time from first purchase to the analysis date), in
            ``time_unit``.  See :func:`workbook.clv.data.bgnbd_summary`.
        frequency_col, recency_col, T_col : str
            Column names.

        Returns
        -------
        BetaGeoModel
            ``self``, fitted.

        Raises
        ------
        WorkbookInputError
            Missing or invalid columns (negative values, recency > T, ...).
        ConvergenceError
            If the optimiser does not converge or the estimates run off to a boundary
            (e.g. no member seems to drop out, so ``a`` and ``b`` grow without limit).
        """
        require_time_unit(self.time_unit)
        require_summary_time_unit(summary, self.time_unit)
        x, t_x, T = rfm_arrays(summary, frequency_col, recency_col, T_col)
        if not (x > 0).any():
            raise WorkbookInputError(
                f"Column {frequency_col!r} is 0 for every member: with no repeat purchase the "
                "BG/NBD model cannot be estimated. Use a longer observation period."
            )
        n = len(x)
        # Members sharing (x, t_x, T) -- common on a daily grid -- are evaluated once.
        (ux, utx, uT), weights = collapse_rows(x, t_x, T)

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            with np.errstate(all="ignore"):
                return _negative_log_likelihood_and_gradient(log_params, ux, utx, uT, weights)

        # Starting points: two matching the mean purchase rate and a neutral one.
        rate = max(float(x.sum() / T.sum()), 1e-6)
        starts = [
            np.log([1.0, 1.0 / rate, 1.0, 3.0]),
            np.zeros(4),
            np.log([0.5, 0.5 / rate, 0.5, 1.0]),
        ]
        best = fit_log_params(
            objective,
            starts,
            PARAM_NAMES,
            model="BG/NBD",
            not_finite_hint="Check the summary for extreme values (e.g. T in days with time_unit='W').",
            not_converged_hint=". Try more members or a longer calibration period, "
            "and check for members with implausible purchase counts.",
            boundary_hint="the data carry almost no "
            "information on one part of the model (typically no visible dropout, so a and b "
            "grow without limit). Use a longer calibration period or more members.",
        )
        self._store_fit(best, n, objective)
        return self

    def _log_odds_dropped(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        return log_odds_dropped(self._params(), x, t_x, T)

    def probability_alive(
        self,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
    ) -> pd.Series:
        """Probability that each member is still active at the analysis date.

        ``P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``
        (Fader, Hardie & Lee 2005, eq. 11).  Members without a repeat purchase are alive
        with probability 1 in the BG/NBD model (dropout happens only after a purchase).

        Returns
        -------
        Series
            Named ``probability_alive``, indexed like ``summary``.
        """
        require_summary_time_unit(summary, self.time_unit)
        x, t_x, T = rfm_arrays(summary, frequency_col, recency_col, T_col)
        p = expit(-self._log_odds_dropped(x, t_x, T))
        return pd.Series(p, index=summary.index, name="probability_alive")

    def expected_purchases(
        self,
        t: float,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
    ) -> pd.Series:
        """Expected purchases of each member in the next ``t`` time units.

        Conditional expectation ``E[Y(t) | x, t_x, T]`` of Fader, Hardie & Lee (2005, eq. 10),
        using the Gauss hypergeometric function :func:`scipy.special.hyp2f1`.

        Parameters
        ----------
        t : float
            Horizon in ``time_unit`` (e.g. 39 for 39 weeks).
        summary : DataFrame
            BG/NBD summary (see :meth:`fit`).

        Returns
        -------
        Series
            Named ``expected_purchases``, indexed like ``summary``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = BetaGeoModel()
        >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
        >>> one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
        >>> round(float(m.expected_purchases(39, one).iloc[0]), 3)
        1.226
        """
        require_summary_time_unit(summary, self.time_unit)
        x, t_x, T = rfm_arrays(summary, frequency_col, recency_col, T_col)
        values = self.conditional_expected_purchases(np.asarray(t, dtype="float64"), x, t_x, T)
        return pd.Series(values, index=summary.index, name="expected_purchases")

    def conditional_expected_purchases(
        self, t: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Expected purchases in the next ``t`` time units on raw arrays (eq. 10).

        Vectorised; broadcasts ``t`` against the member arrays ``x`` (repeat
        purchases), ``t_x`` (recency) and ``T`` (age).  :meth:`expected_purchases`
        is the DataFrame version; :func:`workbook.clv.value.customer_lifetime_value`
        uses this one for a whole grid of horizons at once.
        """
        require_horizon(t)
        return conditional_expectation(self._params(), t, x, t_x, T)

    def expected_purchases_population(self, t: float | Sequence[float]) -> pd.Series:
        """Expected purchases ``E[X(t)]`` of a new member in their first ``t`` time units.

        ``E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]``
        (Fader, Hardie & Lee 2005, eq. 9).  Repeat purchases only: the first purchase at
        time 0 is not counted.

        Parameters
        ----------
        t : float or sequence of float
            Horizon(s) in ``time_unit``.

        Returns
        -------
        Series
            Named ``expected_purchases``, indexed by ``t``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = BetaGeoModel()
        >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
        >>> m.expected_purchases_population([1, 78]).round(3).tolist()
        [0.053, 1.861]
        """
        r, alpha, a, b = self._params()
        t_arr = np.atleast_1d(np.asarray(t, dtype="float64"))
        require_horizon(t_arr)
        value = (a + b - 1) / (a - 1) * (
            1.0 - (alpha / (alpha + t_arr)) ** r * hyp2f1(r, b, a + b - 1, t_arr / (alpha + t_arr))
        )
        return pd.Series(value, index=pd.Index(t_arr, name="t"), name="expected_purchases")

    def frequency_recency_grid(
        self,
        T: float,
        *,
        t: float = 1.0,
        max_frequency: int = 30,
        n_recency: int = 40,
        quantity: str = "expected_purchases",
    ) -> pd.DataFrame:
        """Model predictions on a grid of frequency and recency for members of age ``T``.

        Parameters
        ----------
        T : float
            Age of the hypothetical members (time since the first purchase).
        t : float, default 1
            Horizon for ``quantity="expected_purchases"``.
        max_frequency : int, default 30
            Frequencies ``0 .. max_frequency`` (rows).
        n_recency : int, default 40
            Number of recency values from 0 to ``T`` (columns).
        quantity : {"expected_purchases", "probability_alive"}

        Returns
        -------
        DataFrame
            Index ``frequency``, columns ``recency``.  Cells with ``frequency == 0`` and
            ``recency > 0`` are impossible and NaN.
        """
        if quantity not in ("expected_purchases", "probability_alive"):
            raise WorkbookInputError(
                f"quantity={quantity!r} is not valid; choose 'expected_purchases' or "
                "'probability_alive'."
            )
        if T <= 0 or max_frequency < 0 or n_recency < 2:
            raise WorkbookInputError(
                f"Need T > 0, max_frequency >= 0 and n_recency >= 2; got T={T}, "
                f"max_frequency={max_frequency}, n_recency={n_recency}."
            )
        freq = np.arange(max_frequency + 1, dtype="float64")[:, None]
        rec = np.linspace(0.0, T, n_recency)[None, :]
        x, t_x, T_arr = np.broadcast_arrays(freq, rec, np.float64(T))
        if quantity == "probability_alive":
            values = expit(-self._log_odds_dropped(x, t_x, T_arr))
        else:
            values = self.conditional_expected_purchases(np.float64(t), x, t_x, T_arr)
        values = np.where((x == 0) & (t_x > 0), np.nan, values)
        return pd.DataFrame(
            values,
            index=pd.Index(freq.ravel().astype(int), name="frequency"),
            columns=pd.Index(rec.ravel(), name="recency"),
        )


def calibration_vs_holdout(
    model: BetaGeoModel,
    split: pd.DataFrame,
    *,
    max_frequency: int = 7,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    holdout_col: str = "frequency_holdout",
    duration_col: str = "duration_holdout",
) -> pd.DataFrame:
    """Average predicted and actual holdout purchases by calibration frequency.

    Parameters
    ----------
    model : BetaGeoModel
        Model fitted on the calibration columns of ``split``.
    split : DataFrame
        Output of :func:`workbook.clv.data.calibration_holdout_split`.
    max_frequency : int, default 7
        Calibration frequencies at or above this are pooled in the last row.

    Returns
    -------
    DataFrame
        Index ``frequency`` (0 .. ``max_frequency``, the last meaning "or more"),
        columns ``n_members``, ``actual_holdout`` and ``predicted_holdout`` (means per
        member).

    Examples
    --------
    >>> import pandas as pd
    >>> m = BetaGeoModel()
    >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> split = pd.DataFrame({"frequency": [0, 0, 2], "recency": [0.0, 0.0, 30.0],
    ...                       "T": [38.0, 36.0, 38.0], "frequency_holdout": [0, 1, 2],
    ...                       "duration_holdout": [39.0, 39.0, 39.0]})
    >>> calibration_vs_holdout(m, split, max_frequency=2)["n_members"].tolist()
    [2, 0, 1]
    """
    from workbook.validation import require_columns, require_numeric

    require_columns(split, [holdout_col, duration_col], "split")
    for col in (holdout_col, duration_col):
        require_numeric(split, col, "split")
    if max_frequency < 1:
        raise WorkbookInputError(f"max_frequency must be at least 1, got {max_frequency}.")
    require_summary_time_unit(split, model.time_unit, "split")
    x, t_x, T = rfm_arrays(split, frequency_col, recency_col, T_col, "split")
    duration = split[duration_col].to_numpy(dtype="float64")
    predicted = model.conditional_expected_purchases(duration, x, t_x, T)
    group = np.minimum(x, max_frequency).astype(int)
    table = (
        pd.DataFrame(
            {"frequency": group, "actual": split[holdout_col].to_numpy(dtype="float64"),
             "predicted": predicted}
        )
        .groupby("frequency")
        .agg(
            n_members=("actual", "size"),
            actual_holdout=("actual", "mean"),
            predicted_holdout=("predicted", "mean"),
        )
        .reindex(pd.RangeIndex(max_frequency + 1, name="frequency"))
    )
    table["n_members"] = table["n_members"].fillna(0).astype("int64")
    return table
