"""BG/BB model: transactions at discrete opportunities (weekly classes, yearly events).

When members can only act at fixed occasions -- a class each week, a yearly charity
drive, an annual member event -- each occasion is a yes/no "transaction opportunity".
The beta-geometric/beta-binomial model of Fader, Hardie and Shang (2010),
"Customer-base analysis in a discrete-time noncontractual setting", *Marketing
Science* 29(6), describes this with

* while alive, member *i* transacts at each opportunity with probability ``p_i``;
  ``p_i ~ Beta(alpha, beta)`` across members;
* at the start of each opportunity an alive member "dies" (leaves for good, unseen)
  with probability ``theta_i``; ``theta_i ~ Beta(gamma, delta)`` across members.

The data per member are ``frequency`` (``x``, opportunities with a transaction),
``recency`` (``t_x``, the last such opportunity, 0 if none) and ``n_periods`` (``n``,
opportunities observed), built from a member x opportunity 0/1 table by
:func:`bgbb_summary`.  Opportunities are counted after the event that made the
person a member (e.g. the first donation, the joining week), which is not itself
an opportunity.  Members with the same ``(x, t_x, n)`` are fitted once with a
weight, so a summary of patterns with counts (as in the paper) is fitted as fast
as the members it stands for.

Expected transactions are called ``expected_purchases`` as in
:class:`~workbook.clv.BetaGeoModel`, so the same evaluation code serves both models;
a "purchase" here is a transaction at one opportunity (a class attended, a donation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, gammaln, logsumexp

from workbook.clv._mle import fit_log_params
from workbook.clv.base import MaximumLikelihoodModel
from workbook.errors import WorkbookInputError
from workbook.validation import format_rows, require_columns, require_dataframe, require_numeric

__all__ = ["BetaGeoBetaBinomModel", "bgbb_log_likelihood", "bgbb_summary", "simulate_opportunities"]

PARAM_NAMES = ("alpha", "beta", "gamma", "delta")
SUMMARY_COLUMNS = ["frequency", "recency", "n_periods"]


# ---------------------------------------------------------------------- data
def bgbb_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Frequency, recency and opportunities of each member from a member x opportunity 0/1 table.

    Parameters
    ----------
    table : DataFrame
        One row per member, one column per opportunity in time order (e.g. weeks);
        1/True = transacted (attended, donated), 0/False = did not.  Cells before
        a member's first opportunity (joined later) are missing (NaN); once a
        member's observation starts, every later cell must be filled.  Not modified.

    Returns
    -------
    DataFrame
        Indexed like ``table``: ``frequency`` (opportunities with a transaction),
        ``recency`` (the last of them, counted from the member's first
        opportunity = 1; 0 if none) and ``n_periods`` (opportunities observed).
        Members with no observed opportunity are dropped.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> table = pd.DataFrame([[1, 0, 1, 0], [np.nan, 0, 0, 0], [np.nan, np.nan, 1, 1]],
    ...                      index=["a", "b", "c"], columns=["w1", "w2", "w3", "w4"])
    >>> bgbb_summary(table)  # doctest: +NORMALIZE_WHITESPACE
       frequency  recency  n_periods
    a          2        3          4
    b          0        0          3
    c          2        2          2
    """
    require_dataframe(table, "table")
    if table.shape[1] == 0:
        raise WorkbookInputError("The opportunity table has no columns (no periods).",
                                 message_zh="参与记录表没有任何期（列）。")
    values = table.apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
    raw_missing = table.isna().to_numpy()
    bad = (np.isnan(values) & ~raw_missing) | (~np.isnan(values) & (values != 0) & (values != 1))
    if bad.any():
        rows, cols = np.nonzero(bad)
        raise WorkbookInputError(
            f"The opportunity table must hold 0/1 (or True/False, missing before a member "
            f"joined); other values in column {table.columns[cols[0]]!r} at "
            f"{format_rows(np.unique(rows))} (rows counted from 0).",
            message_zh=f"参与记录表只能是 0/1（或 True/False，入会前为空）；第 {table.columns[cols[0]]!r} 列有其他值。",
        )
    observed = ~np.isnan(values)
    started = np.maximum.accumulate(observed, axis=1)
    gap = started & ~observed
    if gap.any():
        rows = np.flatnonzero(gap.any(axis=1))
        raise WorkbookInputError(
            "The opportunity table has missing cells after a member's first observed "
            f"opportunity at {format_rows(rows)} (rows counted from 0); only cells before a "
            "member joined may be missing. Fill 0 for opportunities the member let pass.",
            message_zh="参与记录表中，会员开始被观察之后不能有空格；没参加的期请填 0。",
        )
    n = observed.sum(axis=1)
    filled = np.nan_to_num(values)
    x = filled.sum(axis=1)
    first = table.shape[1] - n  # column of the member's first opportunity
    positions = np.arange(1, table.shape[1] + 1)[None, :] - first[:, None]
    t_x = np.max(np.where(filled > 0, positions, 0), axis=1)
    out = pd.DataFrame(
        {"frequency": x.astype("int64"), "recency": t_x.astype("int64"), "n_periods": n.astype("int64")},
        index=table.index,
    )
    return out[out["n_periods"] > 0]


def _summary_arrays(summary, frequency_col, recency_col, n_periods_col, weights_col):
    """Validated float arrays (x, t_x, n, weights) of a BG/BB summary."""
    require_dataframe(summary, "summary")
    cols = [frequency_col, recency_col, n_periods_col] + ([weights_col] if weights_col else [])
    require_columns(summary, cols, "summary")
    for col in cols:
        require_numeric(summary, col, "summary")
    if len(summary) == 0:
        raise WorkbookInputError("The summary has no rows.", message_zh="汇总表没有数据行。")
    x, t_x, n = (summary[c].to_numpy(dtype="float64") for c in (frequency_col, recency_col, n_periods_col))
    w = summary[weights_col].to_numpy(dtype="float64") if weights_col else np.ones(len(x))
    checks = [
        (~np.isfinite(x) | (x < 0) | (x != np.round(x)), f"{frequency_col!r} must be a whole number >= 0",
         f"{frequency_col} 必须是不小于 0 的整数"),
        (~np.isfinite(n) | (n < 1) | (n != np.round(n)), f"{n_periods_col!r} must be a whole number >= 1",
         f"{n_periods_col} 必须是不小于 1 的整数"),
        (~np.isfinite(t_x) | (t_x != np.round(t_x)) | (t_x > n) | (t_x < x),
         f"{recency_col!r} must be a whole number between {frequency_col!r} and {n_periods_col!r} "
         "(the last opportunity with a transaction)",
         f"{recency_col} 必须是介于 {frequency_col} 和 {n_periods_col} 之间的整数"),
        ((x == 0) & (t_x != 0), f"{recency_col!r} must be 0 when {frequency_col!r} is 0",
         f"{frequency_col} 为 0 时 {recency_col} 必须为 0"),
        (~np.isfinite(w) | (w < 0), f"{weights_col!r} must be a count >= 0", f"{weights_col} 必须是非负的人数"),
    ]
    for bad, en, zh in checks:
        if bad.any():
            raise WorkbookInputError(f"In summary, {en}; not so at {format_rows(np.flatnonzero(bad))} "
                                     "(positions counted from 0).", message_zh=f"汇总表中 {zh}。")
    return x, t_x, n, w


# ---------------------------------------------------------------- likelihood
class _Terms:
    """Integer offsets of the likelihood terms of each member, computed once per data set.

    ``L = sum_k exp(term_k)``; column 0 is "alive through all n opportunities",
    ``B(alpha+x, beta+n-x) B(gamma, delta+n)``, column ``1+i`` "died just before
    opportunity ``t_x+i+1``" (``i = 0 .. n-t_x-1``),
    ``B(alpha+x, beta+t_x-x+i) B(gamma+1, delta+t_x+i)``.  Every argument is a
    parameter plus a whole number ``j <= n + 1``, so each evaluation looks the
    log-gamma and digamma values up in tables over ``j`` instead of evaluating
    them for every (member, term) cell.
    """

    def __init__(self, x, t_x, n):
        gaps = int(np.max(n - t_x)) if len(n) else 0
        i = np.arange(gaps)[None, :]
        x_, t_, n_ = (v.astype("int64")[:, None] for v in (x, t_x, n))
        self.x = x.astype("int64")
        self.b = np.concatenate([n_ - x_, t_ - x_ + i], axis=1)        # beta + b
        self.ab = np.concatenate([n_, t_ + i], axis=1)                # alpha + beta + ab
        self.d = np.concatenate([n_, t_ + i], axis=1)                 # delta + d
        self.gd = np.concatenate([n_, t_ + i + 1], axis=1)            # gamma + delta + gd
        self.dead = np.concatenate([np.zeros_like(x_, dtype=bool), np.ones((len(x), gaps), bool)], axis=1)
        self.valid = np.concatenate([np.ones_like(x_, dtype=bool), i < (n_ - t_)], axis=1)
        # Out-of-range offsets of masked cells point at 0; their terms are set to -inf.
        for name in ("b", "ab", "d", "gd"):
            setattr(self, name, np.where(self.valid, getattr(self, name), 0))
        self.size = int(max(np.max(n) if len(n) else 0, 0)) + 2

    def log_terms(self, params):
        """Per-cell log terms (``-inf`` where impossible) and the per-member constant."""
        alpha, beta, gamma, delta = params
        j = np.arange(self.size, dtype="float64")
        terms = (gammaln(beta + j)[self.b] - gammaln(alpha + beta + j)[self.ab]
                 + gammaln(delta + j)[self.d] - gammaln(gamma + delta + j)[self.gd]
                 + np.where(self.dead, gammaln(gamma + 1.0), gammaln(gamma)))
        terms = np.where(self.valid, terms, -np.inf)
        const = gammaln(alpha + self.x) - betaln(alpha, beta) - betaln(gamma, delta)
        return terms, const


def bgbb_log_likelihood(
    params: Sequence[float], frequency: np.ndarray, recency: np.ndarray, n_periods: np.ndarray
) -> np.ndarray:
    """Per-member log-likelihood of the BG/BB model (Fader, Hardie & Shang 2010, eq. 5).

    Parameters
    ----------
    params : sequence of float
        ``(alpha, beta, gamma, delta)``, all positive.
    frequency, recency, n_periods : array_like
        Opportunities with a transaction ``x``, the last of them ``t_x`` and the
        opportunities observed ``n``.

    Returns
    -------
    ndarray
        One log-likelihood per member (weight and sum for the total).

    Examples
    --------
    >>> import numpy as np
    >>> ll = bgbb_log_likelihood((1.204, 0.750, 0.657, 2.783), np.array([0, 6, 3]),
    ...                          np.array([0, 6, 4]), np.array([6, 6, 6]))
    >>> np.round(ll, 3)
    array([-1.167, -2.182, -5.059])
    """
    x, t_x, n = (np.asarray(v, dtype="float64").ravel() for v in (frequency, recency, n_periods))
    terms, const = _Terms(x, t_x, n).log_terms(tuple(float(p) for p in params))
    return const + logsumexp(terms, axis=1)


def _negative_log_likelihood_and_gradient(log_params, x, t_x, n, w, terms_index=None):
    """Weighted mean negative log-likelihood and its gradient in the log-parameters.

    log L = log sum_k exp(term_k); each term is a sum of log Beta functions, whose
    derivatives are digamma differences, so d log L = sum_k softmax_k d term_k.
    ``terms_index`` (a :class:`_Terms` of the same rows) saves rebuilding it.
    """
    idx = _Terms(x, t_x, n) if terms_index is None else terms_index
    params = np.exp(log_params)
    alpha, beta, gamma, delta = params
    terms, const = idx.log_terms(tuple(params))
    lse = logsumexp(terms, axis=1)
    share = np.where(idx.valid, np.exp(terms - lse[:, None]), 0.0)
    j = np.arange(idx.size, dtype="float64")
    psi_ab = digamma(alpha + beta + j)[idx.ab]
    psi_gd = digamma(gamma + delta + j)[idx.gd]
    # Per-cell parts of d term / d parameter; the per-member parts (shares sum to 1) added after.
    cells = (-psi_ab, digamma(beta + j)[idx.b] - psi_ab,
             np.where(idx.dead, digamma(gamma + 1.0), digamma(gamma)) - psi_gd,
             digamma(delta + j)[idx.d] - psi_gd)
    per_member = (digamma(alpha + idx.x) - digamma(alpha) + digamma(alpha + beta),
                  -digamma(beta) + digamma(alpha + beta),
                  -digamma(gamma) + digamma(gamma + delta),
                  -digamma(delta) + digamma(gamma + delta))
    total = w.sum()
    grad = np.array([
        np.einsum("i,i->", w, np.sum(share * c, axis=1) + m) for c, m in zip(cells, per_member)
    ]) * params
    return -float(np.einsum("i,i->", w, const + lse)) / total, -grad / total


def _unique_patterns(x, t_x, n, w):
    """Identical (x, t_x, n) rows once, with their summed weights."""
    rows = np.stack([x, t_x, n], axis=1)
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    weights = np.bincount(inverse.reshape(-1), weights=w, minlength=len(unique))
    keep = weights > 0
    return unique[keep, 0], unique[keep, 1], unique[keep, 2], weights[keep]


# --------------------------------------------------------------------- model
class BetaGeoBetaBinomModel(MaximumLikelihoodModel):
    """BG/BB model of transactions at discrete opportunities, fitted by maximum likelihood.

    The model has no settings: the period is the opportunity (a week of classes,
    a yearly event) and every horizon counts opportunities (``n_periods``).

    Attributes
    ----------
    params_ : pandas.Series
        Estimates of ``alpha``, ``beta`` (Beta distribution of the transaction
        probability; mean ``alpha / (alpha + beta)``) and ``gamma``, ``delta`` (Beta
        distribution of the per-opportunity dropout probability; mean
        ``gamma / (gamma + delta)``).
    log_covariance_, standard_errors_, log_likelihood_
        As in :class:`workbook.clv.base.MaximumLikelihoodModel` (``summary()``
        tabulates estimates, standard errors and confidence limits).
    n_members_ : int
        Members in the fit (the sum of the weights).

    Examples
    --------
    Weekly class attendance of 2,000 simulated members over 6 weeks, from the 0/1 table
    (``tests/test_clv_bgbb.py`` checks the fit against Fader, Hardie and Shang's
    donations data and lifetimes' ``BetaGeoBetaBinomFitter``):

    >>> table = simulate_opportunities(2000, 1.2, 0.75, 0.66, 2.8, n_periods=6, random_state=1)
    >>> model = BetaGeoBetaBinomModel().fit(table)
    >>> model.summary().round(2)  # doctest: +NORMALIZE_WHITESPACE
           estimate  standard_error  ci_lower  ci_upper
    alpha      1.03            0.13      0.80      1.33
    beta       0.67            0.06      0.57      0.79
    gamma      0.77            0.16      0.51      1.15
    delta      3.40            1.01      1.90      6.10
    >>> model.expected_purchases_population([1, 5]).round(2).tolist()
    [0.49, 1.91]
    """

    param_names = PARAM_NAMES
    example_params = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}

    def __init__(self) -> None:
        pass

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        data: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        n_periods_col: str = "n_periods",
        weights_col: str | None = None,
    ) -> BetaGeoBetaBinomModel:
        """Estimate ``alpha, beta, gamma, delta`` by maximum likelihood.

        Parameters
        ----------
        data : DataFrame
            Either a summary with one row per member (or per pattern, with
            ``weights_col`` counting its members) holding ``frequency_col``,
            ``recency_col`` and ``n_periods_col``; or a member x opportunity 0/1
            table (no such columns), turned into a summary by :func:`bgbb_summary`.
        frequency_col, recency_col, n_periods_col : str
            Column names of a summary.
        weights_col : str, optional
            Column of a summary with the number of members per row.

        Returns
        -------
        BetaGeoBetaBinomModel
            ``self``, fitted.

        Raises
        ------
        WorkbookInputError
            Invalid table or summary, or no member ever transacted.
        ConvergenceError
            If the optimiser does not converge or an estimate runs off to a boundary.
        """
        summary_cols = [frequency_col, recency_col, n_periods_col]
        require_dataframe(data, "data")
        if not set(summary_cols) <= set(data.columns):
            if set(summary_cols) & set(data.columns) or weights_col is not None:
                require_columns(data, summary_cols + ([weights_col] if weights_col else []), "summary")
            data = bgbb_summary(data)
            frequency_col, recency_col, n_periods_col = SUMMARY_COLUMNS
        x, t_x, n, w = _summary_arrays(data, frequency_col, recency_col, n_periods_col, weights_col)
        if not (w[x > 0] > 0).any():
            raise WorkbookInputError(
                "No member transacted at any opportunity, so the model cannot be estimated.",
                message_zh="没有任何会员参与过，无法估计模型。",
            )
        ux, utx, un, uw = _unique_patterns(x, t_x, n, w)
        total = float(uw.sum())

        index = _Terms(ux, utx, un)

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            with np.errstate(all="ignore"):
                return _negative_log_likelihood_and_gradient(log_params, ux, utx, un, uw, index)

        # Starts: the observed transaction share as the Beta mean of p, then neutral ones.
        share = float(np.clip((uw @ ux) / (uw @ un), 0.02, 0.98))
        starts = [np.log([share * 2, (1 - share) * 2, 1.0, 3.0]), np.zeros(4), np.log([0.5, 0.5, 0.5, 2.0])]
        best = fit_log_params(
            objective,
            starts,
            PARAM_NAMES,
            model="BG/BB",
            not_finite_hint="Check the summary for impossible values.",
            not_converged_hint=". Use more members or more opportunities.",
            boundary_hint="the data carry almost no information on one part of the model (e.g. "
            "no visible dropout, or every member transacts with the same probability). Use more "
            "opportunities or more members.",
        )
        self._store_fit(best, int(round(total)), objective)
        return self

    # -------------------------------------------------------------- predictions
    @staticmethod
    def _horizon(n_periods, name="n_periods") -> np.ndarray:
        arr = np.asarray(n_periods, dtype="float64")
        if not np.isfinite(arr).all() or (arr < 0).any() or (arr != np.round(arr)).any():
            raise WorkbookInputError(f"{name} must be whole numbers of opportunities >= 0, got {n_periods!r}.",
                                     message_zh=f"{name} 必须是不小于 0 的整数（期数）。")
        return arr

    def _alive_sum(self, start: np.ndarray, length: np.ndarray) -> np.ndarray:
        """sum_{t=start+1}^{start+length} E[(1-theta)^t] = expected opportunities alive in that window.

        Closed form delta/(gamma-1) Gamma(gamma+delta)/Gamma(1+delta)
        [G(start) - G(start+length)], G(k) = Gamma(1+delta+k)/Gamma(gamma+delta+k)
        (Fader, Hardie & Shang 2010, eq. 7 and 13), evaluated in log space; at
        gamma = 1 the limit delta [log-digamma difference] is used.
        """
        _, _, gamma, delta = self._params()
        g0 = gammaln(1 + delta + start) - gammaln(gamma + delta + start)
        g1 = gammaln(1 + delta + start + length) - gammaln(gamma + delta + start + length)
        front = gammaln(gamma + delta) - gammaln(1 + delta)
        if abs(gamma - 1.0) < 1e-9:
            return delta * (digamma(delta + start + length + 1) - digamma(delta + start + 1))
        # G(start) - G(start+length) = e^g0 (1 - e^(g1-g0)); its sign is that of gamma - 1.
        return delta / (gamma - 1.0) * np.exp(front + g0) * -np.expm1(g1 - g0)

    def expected_purchases_population(self, n_periods: int | Sequence[int]) -> pd.Series:
        """Expected transactions of a new member in the first ``n_periods`` opportunities.

        ``E[X(n)] = alpha/(alpha+beta) sum_{t=1..n} E[(1-theta)^t]`` (Fader, Hardie &
        Shang 2010, eq. 7).

        Returns
        -------
        Series
            Named ``expected_purchases``, indexed by ``n_periods``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = BetaGeoBetaBinomModel()
        >>> m.params_ = pd.Series({"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783})
        >>> m.expected_purchases_population([0, 1, 6]).round(3).tolist()
        [0.0, 0.498, 2.22]
        """
        alpha, beta, _, _ = self._params()
        n = np.atleast_1d(self._horizon(n_periods))
        value = alpha / (alpha + beta) * self._alive_sum(np.zeros_like(n), n)
        return pd.Series(value, index=pd.Index(n.astype(int), name="n_periods"), name="expected_purchases")

    def conditional_expected_purchases(
        self, n_future: np.ndarray, x: np.ndarray, t_x: np.ndarray, n: np.ndarray
    ) -> np.ndarray:
        """Expected transactions in the next ``n_future`` opportunities on raw arrays (eq. 13).

        Broadcasts ``n_future`` against the member arrays ``x``, ``t_x``, ``n``;
        :meth:`expected_purchases` is the DataFrame version.
        """
        alpha, beta, gamma, delta = self._params()
        n_future = self._horizon(n_future, "n_future")
        x, t_x, n = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (x, t_x, n)))
        shape = x.shape
        ll = bgbb_log_likelihood((alpha, beta, gamma, delta), x, t_x, n).reshape(shape)
        # Posterior weight of "alive at n" times the posterior mean of p.
        log_front = betaln(alpha + x + 1, beta + n - x) - betaln(alpha, beta) - ll
        return np.exp(log_front) * self._alive_sum(n, n_future)

    def _summary(self, summary, frequency_col, recency_col, n_periods_col):
        x, t_x, n, _ = _summary_arrays(summary, frequency_col, recency_col, n_periods_col, None)
        return x, t_x, n

    def expected_purchases(
        self,
        n_periods: int,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        n_periods_col: str = "n_periods",
    ) -> pd.Series:
        """Expected transactions of each member in the next ``n_periods`` opportunities.

        ``E[X(n, n+n*) | x, t_x, n]`` of Fader, Hardie and Shang (2010, eq. 13).

        Parameters
        ----------
        n_periods : int
            Future opportunities ``n*`` (e.g. 13 for the next quarter of weekly classes).
        summary : DataFrame
            Member summary as built by :func:`bgbb_summary`.

        Returns
        -------
        Series
            Named ``expected_purchases``, indexed like ``summary``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = BetaGeoBetaBinomModel()
        >>> m.params_ = pd.Series({"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783})
        >>> donors = pd.DataFrame({"frequency": [6, 3, 0], "recency": [6, 4, 0], "n_periods": [6, 6, 6]})
        >>> m.expected_purchases(5, donors).round(3).tolist()
        [3.752, 1.034, 0.073]
        """
        x, t_x, n = self._summary(summary, frequency_col, recency_col, n_periods_col)
        values = self.conditional_expected_purchases(np.float64(n_periods), x, t_x, n)
        return pd.Series(values, index=summary.index, name="expected_purchases")

    def probability_alive(
        self,
        summary: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        n_periods_col: str = "n_periods",
    ) -> pd.Series:
        """Probability that each member is still alive at the next opportunity (``n + 1``).

        ``B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n+1)/B(gamma, delta) / L``
        (Fader, Hardie & Shang 2010, eq. 11).

        Returns
        -------
        Series
            Named ``probability_alive``, indexed like ``summary``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = BetaGeoBetaBinomModel()
        >>> m.params_ = pd.Series({"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783})
        >>> donors = pd.DataFrame({"frequency": [6, 3, 0], "recency": [6, 4, 0], "n_periods": [6, 6, 6]})
        >>> m.probability_alive(donors).round(3).tolist()
        [0.93, 0.439, 0.108]
        """
        alpha, beta, gamma, delta = self._params()
        x, t_x, n = self._summary(summary, frequency_col, recency_col, n_periods_col)
        ll = bgbb_log_likelihood((alpha, beta, gamma, delta), x, t_x, n)
        log_alive = (betaln(alpha + x, beta + n - x) - betaln(alpha, beta)
                     + betaln(gamma, delta + n + 1) - betaln(gamma, delta))
        return pd.Series(np.exp(log_alive - ll), index=summary.index, name="probability_alive")

    def frequency_distribution(self, n_periods: int) -> pd.Series:
        """Share of new members with ``0 .. n_periods`` transactions in their first ``n_periods``.

        ``P(X(n) = x)`` of Fader, Hardie and Shang (2010, eq. 8); compare it with the
        observed histogram of ``frequency`` among members observed for ``n_periods``.

        Returns
        -------
        Series
            Named ``probability``, indexed by ``frequency`` (sums to 1).

        Examples
        --------
        >>> import pandas as pd
        >>> m = BetaGeoBetaBinomModel()
        >>> m.params_ = pd.Series({"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783})
        >>> dist = m.frequency_distribution(6)
        >>> round(float(dist.sum()), 6), round(float(dist.loc[0]), 3)
        (1.0, 0.311)
        """
        alpha, beta, gamma, delta = self._params()
        n = int(self._horizon(n_periods))
        if n < 1:
            raise WorkbookInputError("n_periods must be at least 1.", message_zh="n_periods 至少为 1。")
        x = np.arange(n + 1, dtype="float64")
        log_choose = gammaln(n + 1) - gammaln(x + 1) - gammaln(n - x + 1)
        alive = log_choose + betaln(alpha + x, beta + n - x) + betaln(gamma, delta + n)
        # Died just before opportunity i + 1 (i = x .. n-1), having transacted x times in i.
        i = np.arange(n, dtype="float64")[None, :]
        xx = x[:, None]
        with np.errstate(invalid="ignore"):
            dead = (gammaln(i + 1) - gammaln(xx + 1) - gammaln(i - xx + 1)
                    + betaln(alpha + xx, beta + i - xx) + betaln(gamma + 1, delta + i))
        dead = np.where(i >= xx, dead, -np.inf)
        log_p = np.logaddexp(alive, logsumexp(dead, axis=1)) - betaln(alpha, beta) - betaln(gamma, delta)
        return pd.Series(np.exp(log_p), index=pd.Index(x.astype(int), name="frequency"), name="probability")


def simulate_opportunities(
    n_members: int,
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    *,
    n_periods: int | Sequence[int],
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate a member x opportunity 0/1 table from the BG/BB model.

    Parameters
    ----------
    n_members : int
    alpha, beta, gamma, delta : float
        True parameters.
    n_periods : int or sequence of int
        Opportunities observed per member (one value, or one per member); members
        with fewer than the maximum joined later and have missing cells first.
    random_state : int or numpy Generator, optional

    Returns
    -------
    DataFrame
        Rows ``0 .. n_members-1``, columns ``1 .. max(n_periods)``; 0/1 as floats
        with NaN before a member's first opportunity (ready for :func:`bgbb_summary`).

    Examples
    --------
    >>> table = simulate_opportunities(3, 1.0, 1.0, 1.0, 3.0, n_periods=[4, 2, 4], random_state=0)
    >>> table.shape, int(table.isna().sum().sum())
    ((3, 4), 2)
    """
    if not isinstance(n_members, (int, np.integer)) or n_members < 1:
        raise WorkbookInputError(f"n_members must be a whole number >= 1, got {n_members!r}.",
                                 message_zh="n_members 必须是不小于 1 的整数。")
    rng = np.random.default_rng(random_state)
    horizon = np.broadcast_to(np.asarray(n_periods, dtype="int64"), (n_members,))
    if (horizon < 1).any():
        raise WorkbookInputError("n_periods must be at least 1.", message_zh="n_periods 至少为 1。")
    p = rng.beta(alpha, beta, n_members)
    theta = rng.beta(gamma, delta, n_members)
    alive_periods = rng.geometric(theta) - 1  # dies at the start of opportunity alive_periods + 1
    width = int(horizon.max())
    step = np.arange(1, width + 1)[None, :] - (width - horizon)[:, None]  # member's own opportunity
    acts = (rng.random((n_members, width)) < p[:, None]) & (step <= alive_periods[:, None])
    table = np.where(step >= 1, acts.astype("float64"), np.nan)
    return pd.DataFrame(table, columns=pd.RangeIndex(1, width + 1, name="period"))
