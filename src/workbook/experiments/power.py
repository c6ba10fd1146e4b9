"""Sample size and power for two-arm experiments (via statsmodels).

Proportions use Cohen's effect size ``h = 2 asin(sqrt(p_t)) - 2 asin(sqrt(p_c))``
with :class:`statsmodels.stats.power.NormalIndPower`; means use
``d = mde / sd`` with :class:`statsmodels.stats.power.TTestIndPower`.
``n_per_arm`` always means the *control* arm; the treatment arm has
``ratio * n_per_arm`` members (``ratio=1``: equal arms).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

from workbook.errors import WorkbookInputError
from workbook.experiments._validation import require_alternative, require_positive, require_probability


def _target_rate(baseline_rate: float, mde: float, relative: bool) -> float:
    p0 = require_probability(baseline_rate, "baseline_rate")
    try:
        mde = float(mde)
    except (TypeError, ValueError) as exc:
        raise WorkbookInputError(f"mde={mde!r} is not a number.") from exc
    if mde == 0 or not np.isfinite(mde):
        raise WorkbookInputError(f"mde={mde!r} must be a non-zero effect.")
    p1 = p0 * (1 + mde) if relative else p0 + mde
    if not 0 < p1 < 1:
        kind = "relative" if relative else "absolute (in shares: 0.02 = 2 percentage points)"
        raise WorkbookInputError(
            f"baseline_rate={p0} with {kind} mde={mde} gives a treatment rate of {p1:.4g}, "
            "outside (0, 1)."
        )
    return p1


def _common(alpha: float, alternative: str, ratio: float) -> tuple[float, float]:
    require_alternative(alternative)
    return require_probability(alpha, "alpha"), require_positive(ratio, "ratio")


def _signed_effect(effect: float, alternative: str) -> float:
    """statsmodels wants |effect| for two-sided and the right sign for one-sided tests."""
    if alternative == "two-sided":
        return abs(effect)
    if (alternative == "larger") != (effect > 0):
        raise WorkbookInputError(
            f"alternative={alternative!r} cannot detect an effect of the opposite sign "
            f"(mde gives effect size {effect:.4g}); flip the sign of mde or the alternative."
        )
    return effect


def _solve_n(solver, effect: float, alpha: float, power: float, ratio: float, alternative: str) -> int:
    power = require_probability(power, "power")
    if power <= alpha:
        raise WorkbookInputError(f"power={power} must be larger than alpha={alpha}.")
    n = solver.solve_power(
        effect_size=_signed_effect(effect, alternative), nobs1=None, alpha=alpha, power=power,
        ratio=ratio, alternative=alternative,
    )
    return int(math.ceil(float(np.squeeze(n)) - 1e-9))


def sample_size_proportions(
    baseline_rate: float,
    mde: float,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    relative: bool = False,
    alternative: str = "two-sided",
) -> int:
    """Members needed in the control arm to detect a change in conversion rate.

    Parameters
    ----------
    baseline_rate : float
        Expected control conversion rate, e.g. 0.10.
    mde : float
        Minimum detectable effect: absolute change in the rate (0.02 = two
        percentage points) or, with ``relative=True``, relative change (0.2 = +20%).
    alpha : float, default 0.05
        Significance level.
    power : float, default 0.8
        Probability of detecting the effect if it is real.
    ratio : float, default 1.0
        Treatment arm size / control arm size.
    relative : bool, default False
        Interpret ``mde`` as relative.
    alternative : {"two-sided", "larger", "smaller"}

    Returns
    -------
    int
        Control-arm size, rounded up; the treatment arm needs
        ``ceil(ratio * n)``.

    Examples
    --------
    >>> sample_size_proportions(0.10, 0.02)
    3835
    >>> sample_size_proportions(0.10, 0.20, relative=True)
    3835
    """
    alpha, ratio = _common(alpha, alternative, ratio)
    p1 = _target_rate(baseline_rate, mde, relative)
    h = float(proportion_effectsize(p1, float(baseline_rate)))
    return _solve_n(NormalIndPower(), h, alpha, power, ratio, alternative)


def sample_size_means(
    sd: float,
    mde: float,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    alternative: str = "two-sided",
) -> int:
    """Members needed in the control arm to detect a change in mean spend.

    Parameters
    ----------
    sd : float
        Standard deviation of the metric per member (e.g. spend in CNY).
    mde : float
        Minimum detectable difference in the same unit (e.g. 10 CNY).
    alpha, power, ratio, alternative
        As in :func:`sample_size_proportions`.

    Returns
    -------
    int
        Control-arm size, rounded up (two-sample t-test power).

    Examples
    --------
    >>> sample_size_means(sd=100, mde=10)
    1571
    """
    alpha, ratio = _common(alpha, alternative, ratio)
    sd = require_positive(sd, "sd")
    if not np.isfinite(mde) or mde == 0:
        raise WorkbookInputError(f"mde={mde!r} must be a non-zero difference.")
    return _solve_n(TTestIndPower(), float(mde) / sd, alpha, power, ratio, alternative)


def power_proportions(
    n_per_arm: float,
    baseline_rate: float,
    mde: float,
    alpha: float = 0.05,
    ratio: float = 1.0,
    relative: bool = False,
    alternative: str = "two-sided",
) -> float:
    """Power of a conversion-rate test with ``n_per_arm`` control members.

    Examples
    --------
    >>> round(power_proportions(3835, 0.10, 0.02), 3)
    0.8
    """
    alpha, ratio = _common(alpha, alternative, ratio)
    n = require_positive(n_per_arm, "n_per_arm")
    p1 = _target_rate(baseline_rate, mde, relative)
    h = _signed_effect(float(proportion_effectsize(p1, float(baseline_rate))), alternative)
    return float(NormalIndPower().power(h, n, alpha, ratio=ratio, alternative=alternative))


def power_means(
    n_per_arm: float,
    sd: float,
    mde: float,
    alpha: float = 0.05,
    ratio: float = 1.0,
    alternative: str = "two-sided",
) -> float:
    """Power of a two-sample t-test on means with ``n_per_arm`` control members.

    Examples
    --------
    >>> round(power_means(1571, sd=100, mde=10), 3)
    0.8
    """
    alpha, ratio = _common(alpha, alternative, ratio)
    n = require_positive(n_per_arm, "n_per_arm")
    sd = require_positive(sd, "sd")
    d = _signed_effect(float(mde) / sd, alternative)
    return float(TTestIndPower().power(d, n, alpha, ratio=ratio, alternative=alternative))


def power_curve(
    mde: float | Sequence[float],
    n_per_arm: Sequence[float] | None = None,
    *,
    baseline_rate: float | None = None,
    sd: float | None = None,
    alpha: float = 0.05,
    ratio: float = 1.0,
    relative: bool = False,
    alternative: str = "two-sided",
) -> pd.DataFrame:
    """Power for a grid of arm sizes and effects (for :func:`plot_power_curve`).

    Give exactly one of ``baseline_rate`` (conversion-rate test) or ``sd``
    (test on means).

    Parameters
    ----------
    mde : float or sequence of float
        One or several minimum detectable effects (absolute, or relative for
        proportions with ``relative=True``).
    n_per_arm : sequence of float, optional
        Control-arm sizes.  Default: 40 sizes from 5% to 300% of the size
        that gives 80% power for the smallest ``mde``.
    baseline_rate, sd : float
        Baseline conversion rate or standard deviation of the metric.
    alpha, ratio, relative, alternative
        As in :func:`sample_size_proportions`.

    Returns
    -------
    DataFrame
        Columns ``mde``, ``n_per_arm``, ``power`` (one row per combination,
        sorted by mde and size).

    Examples
    --------
    >>> c = power_curve([0.01, 0.02], [1000, 3835], baseline_rate=0.10)
    >>> c.round(3).to_numpy().tolist()
    [[0.01, 1000.0, 0.113], [0.01, 3835.0, 0.298], [0.02, 1000.0, 0.299], [0.02, 3835.0, 0.8]]
    """
    if (baseline_rate is None) == (sd is None):
        raise WorkbookInputError(
            "Give exactly one of baseline_rate (test on conversion rates) or sd (test on means)."
        )
    alpha, ratio = _common(alpha, alternative, ratio)
    mdes = np.sort(np.atleast_1d(np.asarray(mde, dtype="float64")).ravel())
    if mdes.size == 0:
        raise WorkbookInputError("mde is empty; give at least one effect size.")
    if baseline_rate is not None:
        solver = NormalIndPower()
        effects = [
            _signed_effect(
                float(proportion_effectsize(_target_rate(baseline_rate, m, relative), baseline_rate)),
                alternative,
            )
            for m in mdes
        ]
    else:
        solver = TTestIndPower()
        sd = require_positive(sd, "sd")
        if np.any(mdes == 0) or not np.all(np.isfinite(mdes)):
            raise WorkbookInputError(f"mde={mde!r} must hold non-zero, finite differences.")
        effects = [_signed_effect(m / sd, alternative) for m in mdes]
    if n_per_arm is None:
        smallest = int(np.argmin(np.abs(effects)))
        n80 = _solve_n(solver, effects[smallest], alpha, 0.8, ratio, alternative)
        sizes = np.unique(np.ceil(np.linspace(0.05, 3.0, 40) * n80))
        sizes = sizes[sizes >= 2]
    else:
        sizes = np.sort(np.asarray(n_per_arm, dtype="float64").ravel())
        if sizes.size == 0:
            raise WorkbookInputError("n_per_arm is empty; give at least one arm size.")
        if not np.all(np.isfinite(sizes)) or np.any(sizes < 2):
            raise WorkbookInputError(
                f"n_per_arm must hold finite arm sizes of at least 2, got {list(sizes)[:5]}."
            )
    # statsmodels' power() is vectorised over nobs1; loop only over the (few) effects.
    frames = [
        pd.DataFrame(
            {
                "mde": m,
                "n_per_arm": sizes,
                "power": np.asarray(
                    solver.power(e, sizes, alpha, ratio=ratio, alternative=alternative),
                    dtype="float64",
                ),
            }
        )
        for m, e in zip(mdes, effects, strict=True)
    ]
    return pd.concat(frames, ignore_index=True)
