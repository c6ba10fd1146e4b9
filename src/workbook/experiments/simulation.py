"""Simulated campaigns with a known true effect, and what "peeking" does.

:func:`simulate_campaign` creates an experiment whose true lift we know, so a
notebook can check that :func:`~workbook.experiments.proportion_test` and
:func:`~workbook.experiments.mean_test` recover it (the interval covers the
truth in about 95% of runs).  :func:`simulate_peeking` repeats an A/A or A/B
test thousands of times and checks the result after every batch of members:
stopping at the first "significant" look inflates the false positive rate far
above ``alpha``, while a single test at the planned sample size keeps it at
``alpha``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.experiments._validation import require_positive, require_probability
from workbook.experiments.assignment import assign_arms
from workbook.validation import require_columns, require_dataframe


def _per_member(
    value: float | Mapping[Hashable, float], segments: pd.Series | None, name: str
) -> np.ndarray | float:
    """A scalar, or a per-member array from a {segment: value} mapping."""
    if not isinstance(value, Mapping):
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise WorkbookInputError(f"{name}={value!r} is not a number.") from exc
    if segments is None:
        raise WorkbookInputError(
            f"{name} is a mapping by segment, so pass members=... with a segment column "
            "(segment_col=...)."
        )
    mapped = segments.map(dict(value))
    missing = segments[mapped.isna()]
    if len(missing):
        raise WorkbookInputError(
            f"{name} has no value for segment(s) {sorted(map(str, pd.unique(missing)))}; "
            f"it covers {sorted(map(str, value))}."
        )
    return mapped.to_numpy(dtype="float64")


def _lognormal_params(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of a log-normal with the given mean and standard deviation."""
    sigma2 = np.log1p((sd / mean) ** 2)
    return float(np.log(mean) - sigma2 / 2), float(np.sqrt(sigma2))


@renamed_arguments(seed="random_state", id_col="member_col")
def simulate_campaign(
    n_members: int | None = None,
    baseline_rate: float | Mapping[Hashable, float] = 0.10,
    true_lift: float | Mapping[Hashable, float] = 0.02,
    random_state: int | np.random.Generator | None = 0,
    *,
    members: pd.DataFrame | None = None,
    segment_col: str | None = "segment",
    arms: Sequence[Hashable] = ("control", "treatment"),
    weights: Sequence[float] | None = None,
    true_spend_lift: float = 0.0,
    spend_mean: float = 200.0,
    spend_sd: float = 150.0,
    pre_period_correlation: float = 0.7,
    member_col: str = "member_id",
) -> pd.DataFrame:
    """A synthetic two-arm campaign with a known true effect.

    Each member is randomised (stratified by segment when there is one),
    converts with probability ``baseline_rate`` (control) or ``baseline_rate
    + true_lift`` (treatment), and has a campaign-window ``spend`` and a
    ``pre_spend`` from before the campaign.  Both spends are log-normal with
    mean ``spend_mean`` and SD ``spend_sd`` and correlation
    ``pre_period_correlation`` (so CUPED has a real covariate); treated
    members spend ``true_spend_lift`` CNY more on average.  Spend is
    simulated independently of ``converted`` (e.g. total spend in the window
    vs. coupon redemption), so each true effect is exactly the given number.

    Parameters
    ----------
    n_members : int, optional
        Number of members when ``members`` is not given (default 10,000).
    baseline_rate : float or mapping
        Control conversion rate; or ``{segment: rate}`` with ``members``.
    true_lift : float or mapping
        Absolute lift of the conversion rate (0.02 = +2 percentage points);
        or ``{segment: lift}`` to plant segment-specific effects.
    random_state : int or numpy.random.Generator, default 0
    members : DataFrame, optional
        Existing members (with ``member_col`` and optionally ``segment_col``);
        all their columns are kept.
    segment_col : str or None, default "segment"
        Segment column of ``members`` used for stratification and for the
        mappings (ignored when absent from ``members``).
    arms : pair, default ("control", "treatment")
        Labels of the control and treatment arm.
    weights : pair of float, optional
        Relative arm sizes, as in :func:`~workbook.experiments.assign_arms`.
    true_spend_lift : float, default 0.0
        Additive effect on spend in CNY per treated member.
    spend_mean, spend_sd : float
        Mean and SD of spend per member (CNY) without treatment.
    pre_period_correlation : float in [0, 1], default 0.7
        Correlation between ``pre_spend`` and untreated ``spend``.
    member_col : str, default "member_id"

    Returns
    -------
    DataFrame
        Columns ``member_id``, (``members``' columns,) ``arm``, ``converted``
        (0/1), ``spend``, ``pre_spend``.  ``attrs["truth"]`` holds the true
        parameters, including ``average_true_lift`` (the mean planted lift
        over the treated members).

    Examples
    --------
    >>> sim = simulate_campaign(2000, baseline_rate=0.1, true_lift=0.05, random_state=1)
    >>> sim.columns.tolist()
    ['member_id', 'arm', 'converted', 'spend', 'pre_spend']
    >>> sim["arm"].value_counts().tolist()
    [1000, 1000]
    >>> round(sim.attrs["truth"]["average_true_lift"], 6)
    0.05
    """
    rng = np.random.default_rng(random_state)
    arms = list(arms)
    if len(arms) != 2:
        raise WorkbookInputError(f"arms={arms!r} must be a pair (control, treatment).")
    if members is None:
        n = 10_000 if n_members is None else int(n_members)
        if n < 2:
            raise WorkbookInputError(f"n_members={n_members!r} must be at least 2.")
        frame = pd.DataFrame({member_col: [f"M{i:07d}" for i in range(1, n + 1)]})
    else:
        frame = require_dataframe(members, "members")
        require_columns(frame, [member_col], "members")
        if n_members is not None and int(n_members) != len(frame):
            raise WorkbookInputError(
                f"n_members={n_members} but members has {len(frame)} rows; leave n_members out."
            )
        n = len(frame)
    has_segment = segment_col is not None and segment_col in frame.columns
    segments = frame[segment_col] if has_segment else None
    base = _per_member(baseline_rate, segments, "baseline_rate")
    lift = _per_member(true_lift, segments, "true_lift")
    spend_mean = require_positive(spend_mean, "spend_mean")
    spend_sd = require_positive(spend_sd, "spend_sd")
    r = float(pre_period_correlation)
    if not 0.0 <= r <= 1.0:
        raise WorkbookInputError(
            f"pre_period_correlation={pre_period_correlation!r} must be between 0 and 1."
        )

    out = assign_arms(
        frame, arms=arms, weights=weights, strata=segment_col if has_segment else None,
        random_state=rng, member_col=member_col,
    )
    treated = (out["arm"] == arms[1]).to_numpy()
    rate = np.broadcast_to(base, (n,)) + treated * np.broadcast_to(lift, (n,))
    bad = (rate < 0) | (rate > 1)
    if bad.any():
        raise WorkbookInputError(
            f"baseline_rate + true_lift gives conversion probabilities outside [0, 1] "
            f"(e.g. {rate[bad][0]:.3g}); lower the lift or the baseline."
        )
    out["converted"] = (rng.random(n) < rate).astype("int64")

    # Log-normal spends whose correlation on the CNY scale is exactly r:
    # corr = (exp(rho sigma^2) - 1) / (exp(sigma^2) - 1) for log-scale correlation rho.
    mu, sigma = _lognormal_params(spend_mean, spend_sd)
    rho = float(np.log1p(r * np.expm1(sigma**2)) / sigma**2)
    z_pre = rng.standard_normal(n)
    z_post = rho * z_pre + np.sqrt(max(1.0 - rho**2, 0.0)) * rng.standard_normal(n)
    out["spend"] = np.exp(mu + sigma * z_post) + float(true_spend_lift) * treated
    out["pre_spend"] = np.exp(mu + sigma * z_pre)
    out.attrs["truth"] = {
        "baseline_rate": dict(baseline_rate) if isinstance(baseline_rate, Mapping) else float(baseline_rate),
        "true_lift": dict(true_lift) if isinstance(true_lift, Mapping) else float(true_lift),
        "average_true_lift": float(np.mean(np.broadcast_to(lift, (n,))[treated])) if treated.any() else np.nan,
        "true_spend_lift": float(true_spend_lift),
        "spend_mean": spend_mean,
        "spend_sd": spend_sd,
        "pre_period_correlation": r,
        "arms": tuple(arms),
    }
    return out


@renamed_arguments(seed="random_state")
def simulate_peeking(
    n_per_arm: int,
    baseline_rate: float,
    true_lift: float = 0.0,
    looks: int = 10,
    n_sims: int = 2000,
    alpha: float = 0.05,
    random_state: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Repeat an experiment many times, testing after every batch of members.

    Each simulated experiment fills both arms with ``n_per_arm`` members in
    ``looks`` equal batches and runs the two-sided pooled two-proportion
    z-test after each batch.  Conversions per batch are drawn as binomial
    counts and accumulated with ``cumsum`` (no loop over members or
    simulations).

    Parameters
    ----------
    n_per_arm : int
        Planned members per arm (the fixed horizon).
    baseline_rate : float
        Control conversion rate.
    true_lift : float, default 0.0
        Absolute true lift; 0 gives an A/A test, so every rejection is a
        false positive.
    looks : int, default 10
        Number of interim analyses, the last one at ``n_per_arm``.
    n_sims : int, default 2000
        Number of simulated experiments.
    alpha : float, default 0.05
    random_state : int or numpy.random.Generator, default 0

    Returns
    -------
    DataFrame
        One row per look: ``look`` (1..looks), ``n_per_arm`` (members per
        arm so far), ``reject_rate_this_look`` (share of experiments
        significant at this look) and ``reject_rate_any_look`` (share
        significant at this or an earlier look, i.e. stopped by "peeking").
        On the last row the first is the fixed-horizon rate and the second
        the peeking rate; both are also in ``attrs["fixed_horizon_rate"]`` and
        ``attrs["peeking_rate"]``.

    Examples
    --------
    >>> sim = simulate_peeking(2000, 0.10, looks=10, n_sims=2000, random_state=1)
    >>> sim.attrs["peeking_rate"] > 2 * sim.attrs["fixed_horizon_rate"]
    True
    """
    rng = np.random.default_rng(random_state)
    p_c = require_probability(baseline_rate, "baseline_rate")
    p_t = p_c + float(true_lift)
    if not 0 <= p_t <= 1:
        raise WorkbookInputError(
            f"baseline_rate + true_lift = {p_t:.4g} is not a probability."
        )
    alpha = require_probability(alpha, "alpha")
    looks, n_per_arm, n_sims = int(looks), int(n_per_arm), int(n_sims)
    if looks < 1 or n_sims < 1:
        raise WorkbookInputError(f"looks={looks} and n_sims={n_sims} must be at least 1.")
    if n_per_arm < looks:
        raise WorkbookInputError(
            f"n_per_arm={n_per_arm} must be at least looks={looks} (one member per batch)."
        )
    n_at = (np.arange(1, looks + 1) * n_per_arm) // looks
    batch = np.diff(n_at, prepend=0)
    x_c = rng.binomial(batch, p_c, size=(n_sims, looks)).cumsum(axis=1)
    x_t = rng.binomial(batch, p_t, size=(n_sims, looks)).cumsum(axis=1)
    significant = _pooled_z_significant(x_t, x_c, n_at, alpha)
    any_so_far = np.logical_or.accumulate(significant, axis=1)
    out = pd.DataFrame(
        {
            "look": np.arange(1, looks + 1),
            "n_per_arm": n_at,
            "reject_rate_this_look": significant.mean(axis=0),
            "reject_rate_any_look": any_so_far.mean(axis=0),
        }
    )
    out.attrs.update(
        fixed_horizon_rate=float(significant[:, -1].mean()),
        peeking_rate=float(any_so_far[:, -1].mean()),
        n_sims=n_sims,
        alpha=alpha,
        true_lift=float(true_lift),
        baseline_rate=p_c,
    )
    return out


def _pooled_z_significant(x_t: np.ndarray, x_c: np.ndarray, n: np.ndarray, alpha: float) -> np.ndarray:
    """Two-sided pooled two-proportion z-test with equal arm sizes ``n`` (broadcast)."""
    pooled = (x_t + x_c) / (2 * n)
    se = np.sqrt(pooled * (1 - pooled) * 2 / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x_t - x_c) / n / se
    p = 2 * stats.norm.sf(np.abs(z))
    return np.where(se > 0, p < alpha, False)


@renamed_arguments(seed="random_state")
def false_positive_rate(
    n_per_arm: int,
    baseline_rate: float,
    looks: int = 10,
    n_sims: int = 2000,
    alpha: float = 0.05,
    random_state: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """False positive rate of a fixed-horizon test vs. stopping at the first significant look.

    Runs :func:`simulate_peeking` with no true effect (an A/A test).

    Returns
    -------
    DataFrame
        Index ``["fixed_horizon", "peeking"]``; columns
        ``false_positive_rate``, ``ci_low``, ``ci_high`` (95% Wilson interval
        of the Monte Carlo estimate), ``alpha``, ``n_sims``.

    Examples
    --------
    >>> fpr = false_positive_rate(1000, 0.2, looks=5, n_sims=1000, random_state=2)
    >>> bool(fpr.loc["peeking", "false_positive_rate"] > fpr.loc["fixed_horizon", "false_positive_rate"])
    True
    """
    sim = simulate_peeking(n_per_arm, baseline_rate, 0.0, looks, n_sims, alpha, random_state)
    rates = np.array([sim.attrs["fixed_horizon_rate"], sim.attrs["peeking_rate"]])
    counts = np.round(rates * sim.attrs["n_sims"])
    low, high = proportion_confint(counts, sim.attrs["n_sims"], alpha=0.05, method="wilson")
    return pd.DataFrame(
        {
            "false_positive_rate": rates,
            "ci_low": low,
            "ci_high": high,
            "alpha": sim.attrs["alpha"],
            "n_sims": sim.attrs["n_sims"],
        },
        index=pd.Index(["fixed_horizon", "peeking"], name="strategy"),
    )
