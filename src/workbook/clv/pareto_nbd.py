"""Pareto/NBD model: repeat purchases with dropout at any moment, not only after a purchase.

The Pareto/NBD model (Schmittlein, Morrison and Colombo 1987) is the classic alternative
to BG/NBD (:mod:`workbook.clv.bgnbd`) for non-contractual settings:

* while active, member *i* buys as a Poisson process with rate ``lambda_i``;
  ``lambda_i ~ Gamma(shape=r, rate=alpha)``;
* member *i*'s unobserved lifetime is exponential with rate ``mu_i``;
  ``mu_i ~ Gamma(shape=s, rate=beta)``.

``alpha`` and ``beta`` are in the model's time unit (days or weeks).  The likelihood
(Fader and Hardie 2005, "A note on deriving the Pareto/NBD model and related
expressions") contains ``2F1(r+s+x, b; r+s+x+1; z)`` terms that overflow in naive code
for frequent buyers or large ``alpha``, ``beta``.  Here every such term is evaluated
after Euler's transformation,
``2F1(c-1, b; c; z) = (1-z)^(1-b) 2F1(1, c-b; c; z)``, whose series has positive,
decreasing terms, and the difference of the two terms is taken in log space; the power
``(1-z)^(1-b)`` is kept as a logarithm.  Where :func:`scipy.special.hyp2f1` still fails
(it returns NaN for large ``r+s+x`` with ``z`` near 1, scipy 1.17) the same term is
computed as its defining integral by Gauss-Legendre quadrature in log space.

Identical (x, t_x, T) rows are fitted once with a weight, and the hypergeometric terms
once per distinct (x, t_x) and (x, T) pair, which makes large member bases fast.  There
is no closed-form gradient: the fit uses central differences, and standard errors come
from second differences of the log-likelihood.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import expit, gammaln, hyp2f1, logsumexp

from workbook.clv._mle import central_difference_objective, collapse_rows, fit_log_params
from workbook.clv._validation import (require_horizon, require_summary_time_unit, require_time_unit,
                                      rfm_arrays)
from workbook.clv.base import MaximumLikelihoodModel
from workbook.errors import WorkbookInputError

PARAM_NAMES = ("r", "alpha", "s", "beta")


def _log_hyp2f1_c_minus_1(a: np.ndarray, b: np.ndarray, z: np.ndarray) -> np.ndarray:
    """log 2F1(a, b; a + 1; z) for a, b > 0 and 0 <= z < 1, without overflow.

    Euler: 2F1(a, b; a+1; z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z); the second factor is
    a series of positive terms with ratio (a+1-b+n) z / (a+1+n) < 1.
    """
    return (1.0 - b) * np.log1p(-z) + np.log(hyp2f1(1.0, a + 1.0 - b, a + 1.0, z))


#: Gauss-Legendre rule used on each panel of the quadrature fallback.
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(12)
#: Number of geometrically growing panels (widths 1, 1.5, 1.5^2, ... times the scale).
_N_PANELS = 48


def _log_integral_monotone(phi, start, end, scale):
    """log of the integral of exp(phi(w)) from ``start`` towards ``end`` (row-wise arrays).

    ``exp(phi)`` is largest at ``start`` and falls off on the length scale ``scale``;
    the panels start at width ``scale / 4`` and grow geometrically, so the peak is
    resolved and the far tail costs a few panels.  ``end`` may lie left of ``start``.
    """
    length = np.abs(end - start)
    sign = np.sign(end - start)
    grow = 1.5 ** np.arange(_N_PANELS + 1)
    edges = (scale[:, None] / 4) * (grow - 1) / 0.5
    edges = np.minimum(edges, length[:, None])
    edges[:, -1] = length  # the last panel reaches the end whatever the scale
    lo, hi = edges[:, :-1], edges[:, 1:]
    half = (hi - lo) / 2
    dist = (lo + half)[:, :, None] + half[:, :, None] * _GL_NODES[None, None, :]
    w = start[:, None, None] + sign[:, None, None] * dist
    with np.errstate(divide="ignore"):
        log_terms = phi(w) + np.log(half[:, :, None] * _GL_WEIGHTS[None, None, :])
    return logsumexp(log_terms.reshape(len(start), -1), axis=1)


def _log_dead_by_quadrature(params, x, t_x, T):
    """log[s * int_{t_x}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy], by quadrature.

    The fallback where scipy's ``hyp2f1`` gives no finite value (large ``r+s+x`` with
    ``z`` near 1).  With ``w = log(m + y)``, ``m = min(alpha, beta)``, the log-integrand
    ``phi(w) = -P_M log(D + e^w) - (P_m - 1) w`` is concave, so ``exp(phi)`` has one
    peak (the interior mode or an end); each side is integrated outwards from it.
    """
    r, alpha, s, beta = params
    x, t_x, T = (np.atleast_1d(np.asarray(v, dtype="float64")) for v in (x, t_x, T))
    if alpha >= beta:
        m, D, P_M, P_m = beta, alpha - beta, r + x, np.full_like(x, s + 1.0)
    else:
        m, D, P_M, P_m = alpha, beta - alpha, np.full_like(x, s + 1.0), r + x

    def phi_rows(rows):
        def phi(w):
            return -P_M[rows, None, None] * np.logaddexp(np.log(D) if D > 0 else -np.inf, w) - (
                P_m[rows, None, None] - 1.0
            ) * w
        return phi

    def slope_and_curvature(w):
        share = np.exp(w - np.logaddexp(np.log(D) if D > 0 else -np.inf, w))  # e^w/(D+e^w)
        return -P_M * share - (P_m - 1.0), P_M * share * (1.0 - share)

    w0, w1 = np.log(m + t_x), np.log(m + T)
    # Interior mode where phi' = 0: e^w = D (1 - P_m) / (P_M + P_m - 1), if P_m < 1.
    with np.errstate(divide="ignore", invalid="ignore"):
        mode = np.where(P_m < 1.0, np.log(D * (1.0 - P_m) / (P_M + P_m - 1.0)), -np.inf)
    peak = np.clip(mode, w0, w1)
    slope, curv = slope_and_curvature(peak)
    scale = 1.0 / np.maximum(np.maximum(np.abs(slope), np.sqrt(curv)), 1e-3)
    rows = np.arange(len(x))
    right = _log_integral_monotone(phi_rows(rows), peak, w1, scale)
    left = _log_integral_monotone(phi_rows(rows), peak, w0, scale)
    total = np.logaddexp(right, np.where(peak > w0, left, -np.inf))
    return np.log(s) + np.where(w1 > w0, total, -np.inf)


def _endpoint_index(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, y) pairs and the index mapping each row to its pair.

    On a daily grid far fewer (frequency, recency) and (frequency, T) pairs than members
    exist, so the hypergeometric terms are computed once per pair.
    """
    (ux, uy), _ = collapse_rows(x, y)
    # Map each row to its pair by a hash join (sorting millions of rows is slower).
    pair_index = pd.MultiIndex.from_arrays([ux, uy])
    inverse = pair_index.get_indexer(pd.MultiIndex.from_arrays([x, y]))
    return ux, uy, inverse


def _log_branches(params, x, t_x, T, endpoints=None):
    """Per-member ``(C, L_alive, L_dead)`` of the likelihood ``exp(C) (exp(L_alive) + exp(L_dead))``.

    ``L_alive`` is the log-probability-like term of still being active at ``T``,
    ``L_dead`` that of having dropped out between ``t_x`` and ``T``.  ``endpoints``
    (two results of :func:`_endpoint_index`, for ``(x, t_x)`` and ``(x, T)``) lets the
    hypergeometric terms be computed once per distinct pair.
    """
    r, alpha, s, beta = params
    rho = r + s + x
    C = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    L_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    diff = abs(alpha - beta)

    def log_term(xe, ye):
        """log[2F1(rho, b2; rho+1; |alpha-beta|/(m+y)) / (m+y)^rho] at one end of (t_x, T)."""
        rho_e = r + s + xe
        m, b2 = (alpha, s + 1.0 + 0.0 * xe) if alpha >= beta else (beta, r + xe)
        return _log_hyp2f1_c_minus_1(rho_e, b2, diff / (m + ye)) - rho_e * np.log(m + ye)

    with np.errstate(all="ignore"):
        if endpoints is None:
            u, v = log_term(x, t_x), log_term(x, T)
        else:
            (xa, ya, ia), (xb, yb, ib) = endpoints
            u, v = log_term(xa, ya)[ia], log_term(xb, yb)[ib]
        # log(e^u - e^v); -inf when t_x == T (no time to drop out after the last purchase).
        log_A0 = u + np.log(-np.expm1(np.minimum(v - u, 0.0)))
    L_dead = np.log(s) - np.log(rho) + log_A0
    # scipy's hyp2f1 returns NaN for large r+s+x with z near 1: integrate numerically there.
    unsafe = ~np.isfinite(L_dead) & (T > t_x)
    if np.any(unsafe):
        L_dead = np.array(L_dead, dtype="float64", copy=True)
        shape = L_dead.shape
        L_dead = L_dead.reshape(-1)
        xs, txs, Ts = (np.broadcast_to(a, shape).reshape(-1) for a in (x, t_x, T))
        flat = unsafe.reshape(-1)
        L_dead[flat] = _log_dead_by_quadrature(params, xs[flat], txs[flat], Ts[flat])
        L_dead = L_dead.reshape(shape)
    return C, L_alive, L_dead


def pareto_nbd_log_likelihood(
    params: Sequence[float], frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-member log-likelihood of the Pareto/NBD model.

    Parameters
    ----------
    params : sequence of float
        ``(r, alpha, s, beta)``, all positive.
    frequency, recency, T : array_like
        Repeat purchases ``x``, time of the last purchase ``t_x`` and age ``T`` (same
        time unit as ``alpha`` and ``beta``).

    Returns
    -------
    ndarray
        One log-likelihood per member (sum it for the total).

    Examples
    --------
    >>> import numpy as np
    >>> ll = pareto_nbd_log_likelihood((0.553, 10.578, 0.606, 11.669), np.array([0.0, 2.0]),
    ...                                np.array([0.0, 30.43]), np.array([38.86, 38.86]))
    >>> np.round(ll, 3)
    array([-0.521, -9.554])

    Large parameters stay finite (``scipy.special.hyp2f1`` alone returns NaN here):

    >>> ll = pareto_nbd_log_likelihood((1.0, 1e6, 300.0, 1.0), np.array([5.0]),
    ...                                np.array([10.0]), np.array([20.0]))
    >>> np.round(ll, 3)
    array([-783.659])
    """
    x = np.asarray(frequency, dtype="float64")
    t_x = np.asarray(recency, dtype="float64")
    T = np.asarray(T, dtype="float64")
    C, L_alive, L_dead = _log_branches(tuple(float(p) for p in params), x, t_x, T)
    return C + np.logaddexp(L_alive, L_dead)


def _weighted_log_likelihood(params, x, t_x, T, weights, endpoints) -> float:
    """Total log-likelihood of distinct rows with their counts (the fitting objective)."""
    C, L_alive, L_dead = _log_branches(params, x, t_x, T, endpoints)
    # einsum, not BLAS: BLAS threads stall on a busy machine.
    return float(np.einsum("i,i->", weights, C + np.logaddexp(L_alive, L_dead)))


def _unique_rows(x, t_x, T):
    """Identical (x, t_x, T) rows once, with their counts as weights."""
    (ux, utx, uT), counts = collapse_rows(x, t_x, T)
    return ux, utx, uT, counts


def _objectives(x, t_x, T):
    """The fitting objective on (x, t_x, T): ``value`` (mean negative log-likelihood) and
    ``objective`` (value and central-difference gradient), both in the log-parameters."""
    n = len(x)
    ux, utx, uT, w = _unique_rows(x, t_x, T)
    endpoints = (_endpoint_index(ux, utx), _endpoint_index(ux, uT))

    def value(log_params: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            total = _weighted_log_likelihood(tuple(np.exp(log_params)), ux, utx, uT, w, endpoints)
        return -total / n if np.isfinite(total) else np.inf

    # No closed-form gradient (2F1 derivatives): central differences on the log scale.
    objective = central_difference_objective(value, 4)

    return value, objective


class ParetoNBDModel(MaximumLikelihoodModel):
    """Pareto/NBD model of repeat purchases and dropout, fitted by maximum likelihood.

    Parameters
    ----------
    time_unit : {"W", "D"}, default "W"
        Time unit of ``recency`` and ``T`` in the summaries this model is fitted on and
        of every horizon ``t`` passed to its methods.

    Attributes
    ----------
    params_ : pandas.Series
        Estimates of ``r``, ``alpha`` (in ``time_unit``), ``s`` and ``beta`` (in
        ``time_unit``).
    standard_errors_, log_likelihood_, n_members_
        As in :class:`workbook.clv.base.MaximumLikelihoodModel` (``summary()``
        tabulates estimates, standard errors and 95% intervals).

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({
    ...     "frequency": [0, 0, 0, 0, 1, 1, 2, 3, 5, 9, 0, 12, 1, 0, 2],
    ...     "recency": [0, 0, 0, 0, 30, 2, 6, 20, 33, 37, 0, 38, 5, 0, 36],
    ...     "T": [39, 39, 20, 39, 39, 39, 39, 39, 35, 39, 30, 39, 25, 39, 39]})
    >>> model = ParetoNBDModel().fit(summary)
    >>> sorted(model.params_.index)
    ['alpha', 'beta', 'r', 's']
    >>> bool((model.probability_alive(summary) <= 1).all())
    True
    """

    param_names = PARAM_NAMES
    example_params = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}

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
    ) -> ParetoNBDModel:
        """Estimate ``r, alpha, s, beta`` by maximum likelihood.

        Parameters
        ----------
        summary : DataFrame
            One row per member with repeat purchases, recency and T in ``time_unit``,
            as built by :func:`workbook.clv.data.bgnbd_summary`.
        frequency_col, recency_col, T_col : str
            Column names.

        Returns
        -------
        ParetoNBDModel
            ``self``, fitted.

        Raises
        ------
        WorkbookInputError
            Missing or invalid columns (negative values, recency > T, ...).
        ConvergenceError
            If the optimiser does not converge or the estimates run off to a boundary
            (e.g. nobody seems to drop out, so ``s`` and ``beta`` cannot be told apart).
        """
        require_time_unit(self.time_unit)
        require_summary_time_unit(summary, self.time_unit)
        x, t_x, T = rfm_arrays(summary, frequency_col, recency_col, T_col)
        if not (x > 0).any():
            raise WorkbookInputError(
                f"Column {frequency_col!r} is 0 for every member: with no repeat purchase the "
                "Pareto/NBD model cannot be estimated. Use a longer observation period.",
                message_zh="所有会员都没有重复购买，无法估计 Pareto/NBD 模型。请使用更长的观察期。",
            )
        n = len(x)
        value, objective = _objectives(x, t_x, T)
        rate = max(float(x.sum() / T.sum()), 1e-6)
        mean_T = float(T.mean())
        starts = [
            np.log([1.0, 1.0 / rate, 1.0, mean_T]),
            np.zeros(4),
            np.log([0.5, 0.5 / rate, 0.5, 0.5 * mean_T]),
        ]
        best = fit_log_params(
            objective,
            starts,
            PARAM_NAMES,
            model="Pareto/NBD",
            not_finite_hint="Check the summary for extreme values (e.g. T in days with time_unit='W').",
            not_converged_hint=". Try more members or a longer calibration period, "
            "and check for members with implausible purchase counts.",
            boundary_hint="the data carry almost no information on one part of the model "
            "(typically no visible dropout, so s and beta grow without limit). Use a longer "
            "calibration period or more members, or compare with BetaGeoModel.",
            # Finite-difference gradients are noisy at 1e-9: stop once the gradient is at
            # 1e-8 per member (estimates then agree to about 1e-7), far inside the tolerance.
            options={"gtol": 1e-8, "ftol": 1e-12},
        )
        # The Hessian from second differences of the log-likelihood (accurate to 1e-4):
        # differencing the finite-difference gradient would be 5% off on CDNOW.
        self._store_fit(best, n, total_negative_log_likelihood=lambda p: value(p) * n)
        return self

    # -------------------------------------------------------------- predictions
    def _probability_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            _, L_alive, L_dead = _log_branches(self._params(), x, t_x, T)
        return expit(L_alive - L_dead)

    def probability_alive(
        self,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
    ) -> pd.Series:
        """Probability that each member is still active at the analysis date.

        ``P(alive | x, t_x, T) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A_0)``
        (Fader & Hardie 2005 note, eq. 18), computed in log space.

        Returns
        -------
        Series
            Named ``probability_alive``, indexed like ``summary``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ParetoNBDModel()
        >>> m.params_ = pd.Series({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
        >>> one = pd.DataFrame({"frequency": [2, 0], "recency": [30.43, 0], "T": [38.86, 38.86]})
        >>> m.probability_alive(one).round(3).tolist()
        [0.869, 0.295]
        """
        require_summary_time_unit(summary, self.time_unit)
        x, t_x, T = rfm_arrays(summary, frequency_col, recency_col, T_col)
        return pd.Series(self._probability_alive(x, t_x, T), index=summary.index,
                         name="probability_alive")

    @staticmethod
    def _rate_integral(s: float, beta_T: np.ndarray, t: np.ndarray) -> np.ndarray:
        """[1 - (b/(b+t))^(s-1)] / (s-1) with b = beta + T, stable near s = 1 (limit log(1+t/b))."""
        log_ratio = np.log1p(t / beta_T)
        if abs(s - 1.0) < 1e-10:
            return log_ratio
        return -np.expm1(-(s - 1.0) * log_ratio) / (s - 1.0)

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

        ``E[Y(t) | x, t_x, T] = (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]
        P(alive)`` (Fader & Hardie 2005 note, eq. 19).

        Parameters
        ----------
        t : float
            Horizon in ``time_unit``.
        summary : DataFrame
            Summary as for :meth:`fit`.

        Returns
        -------
        Series
            Named ``expected_purchases``, indexed like ``summary``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ParetoNBDModel()
        >>> m.params_ = pd.Series({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
        >>> one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
        >>> round(float(m.expected_purchases(39, one).iloc[0]), 3)
        1.455
        """
        require_summary_time_unit(summary, self.time_unit)
        x, t_x, T = rfm_arrays(summary, frequency_col, recency_col, T_col)
        values = self.conditional_expected_purchases(np.asarray(t, dtype="float64"), x, t_x, T)
        return pd.Series(values, index=summary.index, name="expected_purchases")

    def conditional_expected_purchases(
        self, t: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Expected purchases in the next ``t`` time units on raw arrays (eq. 19).

        The same name and arguments as :meth:`BetaGeoModel.conditional_expected_purchases`
        (broadcasts ``t`` against the member arrays); :meth:`expected_purchases` is the
        DataFrame version.
        """
        require_horizon(t)
        r, alpha, s, beta = self._params()
        mean_alive = (r + x) * (beta + T) / (alpha + T) * self._rate_integral(s, beta + T, t)
        return mean_alive * self._probability_alive(x, t_x, T)

    def expected_purchases_population(self, t: float | Sequence[float]) -> pd.Series:
        """Expected repeat purchases ``E[X(t)]`` of a new member in their first ``t`` time units.

        ``E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ParetoNBDModel()
        >>> m.params_ = pd.Series({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
        >>> m.expected_purchases_population([1, 78]).round(3).tolist()
        [0.051, 1.909]
        """
        r, alpha, s, beta = self._params()
        t_arr = np.atleast_1d(np.asarray(t, dtype="float64"))
        require_horizon(t_arr)
        value = r * beta / alpha * self._rate_integral(s, np.float64(beta), t_arr)
        return pd.Series(value, index=pd.Index(t_arr, name="t"), name="expected_purchases")


def compare_models(models: Mapping[str, object]) -> pd.DataFrame:
    """Log-likelihood, AIC and BIC of transaction models fitted on the same members.

    Parameters
    ----------
    models : mapping of str to fitted model
        E.g. ``{"BG/NBD": BetaGeoModel().fit(s), "Pareto/NBD": ParetoNBDModel().fit(s)}``;
        each needs ``params_``, ``log_likelihood_`` and ``n_members_``.

    Returns
    -------
    DataFrame
        Index ``model``; columns ``n_params``, ``log_likelihood``, ``aic``
        (``2k - 2 LL``), ``bic`` (``k log n - 2 LL``) and ``delta_aic`` (difference to
        the best model; below about 2 the data cannot tell the models apart), sorted by AIC.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.clv import BetaGeoModel
    >>> summary = pd.DataFrame({
    ...     "frequency": [0, 0, 0, 0, 1, 1, 2, 3, 5, 9, 0, 12, 1, 0, 2],
    ...     "recency": [0, 0, 0, 0, 30, 2, 6, 20, 33, 37, 0, 38, 5, 0, 36],
    ...     "T": [39, 39, 20, 39, 39, 39, 39, 39, 35, 39, 30, 39, 25, 39, 39]})
    >>> table = compare_models({"BG/NBD": BetaGeoModel().fit(summary),
    ...                         "Pareto/NBD": ParetoNBDModel().fit(summary)})
    >>> list(table.columns)
    ['n_params', 'log_likelihood', 'aic', 'bic', 'delta_aic']
    """
    if not models:
        raise WorkbookInputError("compare_models needs at least one fitted model.",
                                 message_zh="compare_models 至少需要一个已拟合的模型。")
    for name, model in models.items():
        if not all(hasattr(model, a) for a in ("params_", "log_likelihood_", "n_members_")):
            raise WorkbookInputError(
                f"Model {name!r} is not fitted yet; call fit(...) first.",
                message_zh=f"模型 {name!r} 还没有拟合：请先调用 fit(...)。",
            )
    sizes = {name: int(model.n_members_) for name, model in models.items()}
    if len(set(sizes.values())) > 1:
        raise WorkbookInputError(
            f"The models were fitted on different numbers of members ({sizes}); log-likelihoods "
            "and AIC are only comparable on the same data.",
            message_zh="这些模型拟合所用的会员数不同，对数似然和 AIC 只能在同一份数据上比较。",
        )
    n = next(iter(sizes.values()))
    rows = []
    for name, model in models.items():
        k = len(model.params_)
        ll = float(model.log_likelihood_)
        rows.append({"model": name, "n_params": k, "log_likelihood": ll,
                     "aic": 2 * k - 2 * ll, "bic": k * np.log(n) - 2 * ll})
    out = pd.DataFrame(rows).set_index("model").sort_values("aic")
    out["delta_aic"] = out["aic"] - out["aic"].min()
    return out
