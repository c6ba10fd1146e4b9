"""Shifted-beta-geometric (sBG) model: renewals of paid memberships.

In a contractual setting (gym fees, paid member cards) we see exactly when a member
leaves: they do not renew.  The sBG model of Fader and Hardie (2007), "How to project
customer retention", *Journal of Interactive Marketing* 21(1), describes this with

* a per-period churn probability ``theta_i``, constant for each member: at the end of
  every period an active member does not renew with probability ``theta_i``;
* ``theta_i ~ Beta(alpha, beta)`` across members.

So the lifetime ``T`` (number of periods paid) is geometric for one member and
``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``, the survival function
``S(t) = P(T > t) = B(alpha, beta + t) / B(alpha, beta)`` and the retention rate
``S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)`` *rises* with tenure
because the members most likely to leave leave first.

Periods are whatever the contract uses (months, years); every argument says
``periods``.  A member who has made ``k`` renewals has paid ``k + 1`` periods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, hyp2f1

from workbook.clv._mle import fit_log_params
from workbook.clv.base import MaximumLikelihoodModel
from workbook.errors import WorkbookInputError
from workbook.validation import format_rows, require_columns, require_dataframe

PARAM_NAMES = ("alpha", "beta")


def _log_survival(alpha, beta, t):
    """log S(t) = log B(alpha, beta + t) - log B(alpha, beta)."""
    return betaln(alpha, beta + t) - betaln(alpha, beta)


def _log_churn_at(alpha, beta, t):
    """log P(T = t) = log B(alpha + 1, beta + t - 1) - log B(alpha, beta), t >= 1."""
    return betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta)


def survival_counts_to_lifetimes(survivors: Sequence[float]) -> pd.DataFrame:
    """Turn cohort survival counts into counts of churned and still-active members.

    Parameters
    ----------
    survivors : sequence of int
        Members still active at the start of periods 1, 2, ...: the first value is the
        cohort size, each next value no larger than the previous one.

    Returns
    -------
    DataFrame
        Columns ``periods_paid`` (1, 2, ...), ``churned`` (members whose lifetime was
        exactly that many periods) and ``active`` (members still active after that
        many periods, only in the last row).

    Examples
    --------
    >>> survival_counts_to_lifetimes([1000, 631, 468]).to_dict("list")
    {'periods_paid': [1, 2], 'churned': [369, 163], 'active': [0, 468]}
    """
    n = np.asarray(survivors, dtype="float64")
    if n.ndim != 1 or len(n) < 2:
        raise WorkbookInputError(
            "survivors must be a list of at least two counts (the cohort size, then the "
            f"members still active after each period); got {n.shape[0] if n.ndim else 0} values.",
            message_zh="survivors 至少要有两个数：先是期初会员数，然后是每期结束后仍在的会员数。",
        )
    if not np.isfinite(n).all() or (n < 0).any() or (n != np.round(n)).any():
        raise WorkbookInputError(
            "survivors must be non-negative whole numbers; check value "
            f"{', '.join(str(int(i)) for i in np.flatnonzero(~np.isfinite(n) | (n < 0) | (n != np.round(n)))[:5])}"
            " (counting from 0).",
            message_zh="survivors 必须是非负整数（会员人数）。",
        )
    rising = np.flatnonzero(np.diff(n) > 0) + 1
    if len(rising):
        raise WorkbookInputError(
            "survivors must never increase (a cohort cannot gain members); it increases at "
            f"value {', '.join(str(int(i)) for i in rising[:5])} (counting from 0).",
            message_zh="survivors 不能增加（同一批会员只会减少），请检查数据。",
        )
    if n[0] <= 0:
        raise WorkbookInputError("The cohort size (first value of survivors) must be positive.",
                                 message_zh="期初会员数（survivors 的第一个数）必须大于 0。")
    periods = np.arange(1, len(n))
    active = np.zeros(len(periods))
    active[-1] = n[-1]
    return pd.DataFrame(
        {"periods_paid": periods, "churned": (n[:-1] - n[1:]).astype("int64"),
         "active": active.astype("int64")}
    )


def _member_lifetimes(members: pd.DataFrame, renewals_col: str, active_col: str) -> pd.DataFrame:
    """Aggregate member-level renewal data into the table of survival_counts_to_lifetimes."""
    require_dataframe(members, "members")
    require_columns(members, [renewals_col, active_col], "members")
    k = pd.to_numeric(members[renewals_col], errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(k) | (k < 0) | (k != np.round(k))
    if bad.any():
        # Positions, not index labels: the index is often the member id.
        raise WorkbookInputError(
            f"Column {renewals_col!r} must hold the number of renewals (0, 1, 2, ...); invalid "
            f"in {format_rows(np.flatnonzero(bad))}, counting rows from 0.",
            message_zh=f"列 {renewals_col!r} 应为续费次数（0、1、2……），有无效值。",
        )
    active = members[active_col]
    if active.isna().any() or not set(pd.unique(active)) <= {True, False, 0, 1}:
        raise WorkbookInputError(
            f"Column {active_col!r} must be True/False (or 1/0): whether the member is still "
            "active (has renewed for the current period).",
            message_zh=f"列 {active_col!r} 应为 True/False（或 1/0），表示会员目前是否仍在。",
        )
    if len(members) == 0:
        raise WorkbookInputError("members has no rows.", message_zh="members 没有数据行。")
    # A churned member with k renewals paid k + 1 periods; an active one has survived k.
    active = active.astype(bool).to_numpy()
    paid = np.where(active, k, k + 1).astype("int64")
    table = (
        pd.DataFrame({"periods_paid": paid, "churned": ~active, "active": active})
        .groupby("periods_paid")[["churned", "active"]]
        .sum()
        .astype("int64")
        .reset_index()
    )
    return table


def sbg_log_likelihood(params: Sequence[float], lifetimes: pd.DataFrame) -> float:
    """Total sBG log-likelihood of a table of churned and active counts.

    Parameters
    ----------
    params : sequence of float
        ``(alpha, beta)``, both positive.
    lifetimes : DataFrame
        Columns ``periods_paid``, ``churned`` and ``active`` as returned by
        :func:`survival_counts_to_lifetimes`.  Churned members contribute
        ``log P(T = periods_paid)``, active ones ``log S(periods_paid)``.

    Returns
    -------
    float

    Examples
    --------
    >>> table = survival_counts_to_lifetimes([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> round(sbg_log_likelihood((0.704, 1.182), table), 1)
    -1680.3
    """
    alpha, beta = params
    t = lifetimes["periods_paid"].to_numpy(dtype="float64")
    churned = lifetimes["churned"].to_numpy(dtype="float64")
    active = lifetimes["active"].to_numpy(dtype="float64")
    # 0 * (-inf) must count as 0: only rows with members contribute.
    ll_churn = np.where(churned > 0, churned * _log_churn_at(alpha, beta, np.maximum(t, 1)), 0.0)
    ll_active = np.where(active > 0, active * _log_survival(alpha, beta, t), 0.0)
    return float(ll_churn.sum() + ll_active.sum())


def _negative_log_likelihood_and_gradient(log_params, t, churned, active):
    """Mean negative log-likelihood and its gradient with respect to log(alpha), log(beta)."""
    alpha, beta = np.exp(log_params)
    n = churned.sum() + active.sum()
    t_churn = np.maximum(t, 1)  # rows with periods_paid 0 hold only active members
    ll = churned * _log_churn_at(alpha, beta, t_churn) + active * _log_survival(alpha, beta, t)
    # d/dalpha, d/dbeta of log B(.,.) differences via digamma.
    d0_a = -(digamma(alpha) - digamma(alpha + beta))
    d0_b = -(digamma(beta) - digamma(alpha + beta))
    dc_a = digamma(alpha + 1) - digamma(alpha + beta + t_churn) + d0_a
    dc_b = digamma(beta + t_churn - 1) - digamma(alpha + beta + t_churn) + d0_b
    ds_a = digamma(alpha) - digamma(alpha + beta + t) + d0_a
    ds_b = digamma(beta + t) - digamma(alpha + beta + t) + d0_b
    grad = np.array([(churned * dc_a + active * ds_a).sum() * alpha,
                     (churned * dc_b + active * ds_b).sum() * beta])
    return -float(ll.sum()) / n, -grad / n


class ShiftedBetaGeoModel(MaximumLikelihoodModel):
    """Shifted-beta-geometric model of membership renewals, fitted by maximum likelihood.

    The model has no settings: periods are the contract's (months, years) and every
    argument counts ``periods``.

    Attributes
    ----------
    params_ : pandas.Series
        Estimates of ``alpha`` and ``beta`` of the Beta distribution of churn
        probabilities (mean churn probability ``alpha / (alpha + beta)``).
    standard_errors_, log_likelihood_, n_members_
        As in :class:`workbook.clv.base.MaximumLikelihoodModel` (``summary()``
        tabulates estimates, standard errors and 95% intervals).
    lifetimes_ : DataFrame
        The churned/active counts the model was fitted on.
    cohort_size_ : float or None
        The cohort size when fitted on one cohort's survival counts, else None.

    Examples
    --------
    Fader and Hardie's (2007) "regular" cohort, years 0 to 7:

    >>> model = ShiftedBetaGeoModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> model.params_.round(3).tolist()
    [0.704, 1.182]
    >>> model.survival([8, 9]).round(3).tolist()
    [0.22, 0.204]
    """

    param_names = PARAM_NAMES
    example_params = {"alpha": 0.704, "beta": 1.182}

    def __init__(self) -> None:
        pass

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        data: pd.DataFrame | Sequence[float] | Mapping[object, Sequence[float]],
        *,
        renewals_col: str = "renewals",
        active_col: str = "active",
    ) -> ShiftedBetaGeoModel:
        """Estimate ``alpha`` and ``beta`` by maximum likelihood.

        Parameters
        ----------
        data : DataFrame, sequence of int or mapping of sequences
            One of: one row per member with the number of renewals made so far
            (``renewals_col``) and whether the member is still active (``active_col``);
            a cohort's survival counts (the cohort size followed by the members still
            active at the start of each following period); or several cohorts' survival
            counts, ``{cohort: counts}``, of any lengths, fitted with common parameters.
        renewals_col, active_col : str
            Column names for member-level data.

        Returns
        -------
        ShiftedBetaGeoModel
            ``self``, fitted.

        Raises
        ------
        WorkbookInputError
            Invalid counts or columns, or no member has churned.

        Notes
        -----
        From fee payments, e.g. the table of :func:`workbook.casestudies.fee_memberships`:
        ``renewals = n_fees - 1`` and ``active = not event`` (a member still paying has
        survived ``n_fees - 1`` renewal decisions; one who stopped paid ``n_fees``
        periods).  The billing cycle is then the period.
        ConvergenceError
            If the optimiser does not converge or the estimates run off to a boundary.
        """
        cohort_size = None
        if isinstance(data, pd.DataFrame):
            table = _member_lifetimes(data, renewals_col, active_col)
        elif isinstance(data, Mapping):
            if not data:
                raise WorkbookInputError("No cohorts given.", message_zh="没有提供任何批次（cohort）。")
            table = (
                pd.concat([survival_counts_to_lifetimes(counts) for counts in data.values()])
                .groupby("periods_paid", as_index=False)[["churned", "active"]]
                .sum()
            )
        else:
            table = survival_counts_to_lifetimes(data)
            cohort_size = float(np.asarray(data, dtype="float64")[0])
        if table["churned"].sum() == 0:
            raise WorkbookInputError(
                "No member has churned yet, so churn probabilities cannot be estimated. "
                "Use a longer observation period.",
                message_zh="还没有会员流失，无法估计流失概率。请使用更长的观察期。",
            )
        t = table["periods_paid"].to_numpy(dtype="float64")
        churned = table["churned"].to_numpy(dtype="float64")
        active = table["active"].to_numpy(dtype="float64")
        n = int(churned.sum() + active.sum())

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            with np.errstate(all="ignore"):
                return _negative_log_likelihood_and_gradient(log_params, t, churned, active)

        # Start from the first-period churn rate as the Beta mean.
        churn = float(np.clip(churned[0] / n, 0.01, 0.99)) if t[0] == 1 else 0.3
        starts = [np.log([churn, 1 - churn]), np.zeros(2), np.log([1.0, 3.0])]
        best = fit_log_params(
            objective,
            starts,
            PARAM_NAMES,
            model="sBG",
            not_finite_hint="Check the counts for impossible values.",
            not_converged_hint=". Check that the counts are members (not percentages of a "
            "tiny cohort) and cover at least two periods.",
            boundary_hint="the data do not identify the model, e.g. nearly every member left "
            "after the first period, or churn looks the same for every member (alpha and beta "
            "grow without limit; a constant retention rate then describes the data). Use more "
            "periods or more members.",
        )
        self._store_fit(best, n, objective)
        self.lifetimes_ = table
        self.cohort_size_ = cohort_size
        return self

    # -------------------------------------------------------------- predictions
    @staticmethod
    def _periods(periods, name: str = "periods", minimum: int = 0) -> np.ndarray:
        arr = np.atleast_1d(np.asarray(periods, dtype="float64"))
        if arr.ndim != 1 or not np.isfinite(arr).all() or (arr < minimum).any() or (
            arr != np.round(arr)
        ).any():
            raise WorkbookInputError(
                f"{name} must be whole numbers >= {minimum}, got {periods!r}.",
                message_zh=f"{name} 必须是不小于 {minimum} 的整数。",
            )
        return arr

    def survival(self, periods: int | Sequence[int]) -> pd.Series:
        """Share of a new cohort still active after ``periods`` periods, ``S(t)``.

        Returns
        -------
        Series
            Named ``survival``, indexed by ``periods``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeoModel()
        >>> m.params_ = pd.Series({"alpha": 0.668, "beta": 3.806})
        >>> m.survival([0, 1, 2]).round(3).tolist()
        [1.0, 0.851, 0.747]
        """
        alpha, beta = self._params()
        t = self._periods(periods)
        return pd.Series(np.exp(_log_survival(alpha, beta, t)),
                         index=pd.Index(t.astype(int), name="periods"), name="survival")

    def retention_rate(self, periods: int | Sequence[int]) -> pd.Series:
        """Share of the members active in period ``t - 1`` who renew for period ``t``.

        ``r(t) = (beta + t - 1) / (alpha + beta + t - 1)``, for ``t >= 1``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeoModel()
        >>> m.params_ = pd.Series({"alpha": 0.668, "beta": 3.806})
        >>> m.retention_rate([1, 2, 10]).round(3).tolist()
        [0.851, 0.878, 0.95]
        """
        alpha, beta = self._params()
        t = self._periods(periods, minimum=1)
        return pd.Series((beta + t - 1) / (alpha + beta + t - 1),
                         index=pd.Index(t.astype(int), name="periods"), name="retention_rate")

    def retention_curve(self, n_periods: int, *, cohort_size: float | None = None) -> pd.DataFrame:
        """Projected survival and retention for periods ``0 .. n_periods``.

        Parameters
        ----------
        n_periods : int
            Last period of the projection.
        cohort_size : float, optional
            If given (default: the cohort size, when the model was fitted on one
            cohort's survival counts), adds ``expected_active`` members.

        Returns
        -------
        DataFrame
            Index ``periods``; columns ``survival``, ``retention_rate`` (NaN at 0) and
            ``expected_active`` (when a cohort size is known).

        Examples
        --------
        >>> model = ShiftedBetaGeoModel().fit([1000, 869, 743, 653, 593, 551, 517, 491])
        >>> model.retention_curve(12)["expected_active"].round().iloc[[8, 12]].tolist()
        [460.0, 378.0]
        """
        n_periods = int(self._periods(n_periods, "n_periods", 1)[0])
        t = np.arange(n_periods + 1)
        out = self.survival(t).to_frame()
        out["retention_rate"] = self.retention_rate(t[1:]).reindex(out.index)
        if cohort_size is None:
            cohort_size = getattr(self, "cohort_size_", None)
        if cohort_size is not None:
            out["expected_active"] = out["survival"] * cohort_size
        return out

    @staticmethod
    def _require_discount_rate(discount_rate: float) -> float:
        d = float(discount_rate)
        if not np.isfinite(d) or d < 0:
            raise WorkbookInputError(
                f"discount_rate must be a non-negative rate per period (e.g. 0.1), got {discount_rate!r}.",
                message_zh="discount_rate 必须是非负的每期折现率（例如 0.1）。",
            )
        return d

    def expected_remaining_periods(
        self, renewals: int | Sequence[int], *, horizon_periods: int | None = None
    ) -> pd.Series:
        """Expected number of further renewals of an active member with ``renewals`` so far.

        Without a horizon this is ``(beta + k) / (alpha - 1)`` (Fader & Hardie 2010), which
        is infinite when ``alpha <= 1`` (some members almost never leave); give
        ``horizon_periods`` to count only the next ``horizon_periods`` renewal decisions.

        Parameters
        ----------
        renewals : int or sequence of int
            Renewals made so far (``k``); the member is at the end of period ``k + 1``.
        horizon_periods : int, optional
            Count renewals only within this many future periods.

        Returns
        -------
        Series
            Named ``expected_remaining_periods``, indexed by ``renewals``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeoModel()
        >>> m.params_ = pd.Series({"alpha": 1.5, "beta": 3.0})
        >>> m.expected_remaining_periods([0, 5]).tolist()
        [6.0, 16.0]
        >>> m.expected_remaining_periods([0], horizon_periods=1).round(4).tolist()
        [0.6667]
        """
        alpha, beta = self._params()
        k = self._periods(renewals, "renewals")
        if horizon_periods is None:
            value = np.full(k.shape, np.inf) if alpha <= 1 else (beta + k) / (alpha - 1)
        else:
            h = np.arange(1, int(self._periods(horizon_periods, "horizon_periods", 1)[0]) + 1)
            # sum_{j=1..h} S(k + j) / S(k)
            log_ratio = _log_survival(alpha, beta, k[:, None] + h[None, :]) - _log_survival(
                alpha, beta, k[:, None]
            )
            value = np.exp(log_ratio).sum(axis=1)
        return pd.Series(value, index=pd.Index(k.astype(int), name="renewals"),
                         name="expected_remaining_periods")

    def discounted_residual_lifetime_value(
        self,
        renewals: int | Sequence[int],
        *,
        value_per_period: float = 1.0,
        discount_rate: float,
    ) -> pd.Series:
        """Discounted expected residual lifetime value (DERL) of a member about to renew.

        For an active member who has made ``k`` renewals and is at the end of period
        ``k + 1``, just before the next renewal decision, with the fee paid at the start
        of each period:

        ``DERL = sum_{j>=0} S(k+1+j)/S(k) / (1+d)^j
        = (beta+k)/(alpha+beta+k) 2F1(1, beta+k+1; alpha+beta+k+1; 1/(1+d))``

        (Fader & Hardie 2010, "Customer-base valuation in a contractual setting"),
        multiplied by ``value_per_period``.

        Parameters
        ----------
        renewals : int or sequence of int
            Renewals made so far.
        value_per_period : float, default 1
            Margin per paid period (e.g. the fee minus its cost).
        discount_rate : float
            Discount rate per period (e.g. 0.1 for 10% per year with yearly contracts).
            Must be positive when ``alpha <= 1`` (otherwise the sum is infinite).

        Returns
        -------
        Series
            Named ``residual_value``, indexed by ``renewals``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeoModel()
        >>> m.params_ = pd.Series({"alpha": 0.668, "beta": 3.806})
        >>> m.discounted_residual_lifetime_value([0, 4], discount_rate=0.1).round(3).tolist()
        [5.415, 6.897]
        """
        alpha, beta = self._params()
        k = self._periods(renewals, "renewals")
        d = self._require_discount_rate(discount_rate)
        if d == 0 and alpha <= 1:
            value = np.full(k.shape, np.inf)
        else:
            value = (beta + k) / (alpha + beta + k) * hyp2f1(
                1.0, beta + k + 1, alpha + beta + k + 1, 1.0 / (1.0 + d)
            )
        return pd.Series(value * float(value_per_period), index=pd.Index(k.astype(int), name="renewals"),
                         name="residual_value")

    def residual_value_by_cohort(
        self,
        members: pd.DataFrame,
        *,
        value_per_period: float = 1.0,
        discount_rate: float,
        renewals_col: str = "renewals",
        active_col: str = "active",
    ) -> pd.DataFrame:
        """Residual value of the active members, one row per number of renewals (tenure cohort).

        Parameters
        ----------
        members : DataFrame
            One row per member with ``renewals_col`` and ``active_col`` (as for :meth:`fit`).
        value_per_period, discount_rate : float
            See :meth:`discounted_residual_lifetime_value`.

        Returns
        -------
        DataFrame
            Index ``renewals``; columns ``n_active``, ``renewal_probability`` (of the next
            renewal), ``residual_value_per_member`` and ``residual_value`` (total); the
            total over cohorts is the value of the current member base.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeoModel()
        >>> m.params_ = pd.Series({"alpha": 0.668, "beta": 3.806})
        >>> members = pd.DataFrame({"renewals": [0, 0, 3, 1], "active": [True, True, True, False]})
        >>> m.residual_value_by_cohort(members, value_per_period=100, discount_rate=0.1)["n_active"].tolist()
        [2, 1]
        """
        table = _member_lifetimes(members, renewals_col, active_col)
        table = table[table["active"] > 0]
        k = table["periods_paid"].to_numpy()
        derl = self.discounted_residual_lifetime_value(
            k, value_per_period=value_per_period, discount_rate=discount_rate
        ).to_numpy()
        out = pd.DataFrame(
            {
                "n_active": table["active"].to_numpy(),
                "renewal_probability": self.retention_rate(k + 1).to_numpy(),
                "residual_value_per_member": derl,
            },
            index=pd.Index(k.astype(int), name="renewals"),
        )
        out["residual_value"] = out["n_active"] * out["residual_value_per_member"]
        return out


def simulate_renewals(
    n_members: int,
    alpha: float,
    beta: float,
    *,
    max_periods: int | Sequence[int],
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate member-level renewal data from the sBG model.

    Parameters
    ----------
    n_members : int
        Number of members.
    alpha, beta : float
        True Beta parameters of the churn probabilities.
    max_periods : int or sequence of int
        Renewal decisions each member could have made by the analysis date (the
        renewals of a member who never leaves); one value or one per member.
    random_state : int or numpy Generator, optional
        Seed for reproducibility.

    Returns
    -------
    DataFrame
        Columns ``renewals`` and ``active`` as :meth:`ShiftedBetaGeoModel.fit` expects.

    Examples
    --------
    >>> sim = simulate_renewals(5, 1.0, 2.0, max_periods=4, random_state=1)
    >>> list(sim.columns), len(sim)
    (['renewals', 'active'], 5)
    """
    rng = np.random.default_rng(random_state)
    theta = rng.beta(alpha, beta, n_members)
    lifetime = rng.geometric(theta)  # periods paid, >= 1
    horizon = np.broadcast_to(np.asarray(max_periods, dtype="int64"), (n_members,))
    if (horizon < 1).any():
        raise WorkbookInputError("max_periods must be at least 1.",
                                 message_zh="max_periods 至少为 1。")
    active = lifetime > horizon
    renewals = np.where(active, horizon, lifetime - 1)
    return pd.DataFrame({"renewals": renewals.astype("int64"), "active": active})
