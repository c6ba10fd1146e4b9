"""Significance tests for A/B and campaign experiments.

Two tests cover almost every store experiment:

* :func:`proportion_test` — did the share of members who *converted*
  (redeemed the coupon, came back, bought) differ between arms?  The default
  ``method="score"`` is the classic pooled two-proportion z-test with the
  Newcombe hybrid score interval for the difference (good coverage even for
  small counts; statsmodels' default interval too).
* :func:`mean_test` — did average *spend* differ?  Welch's t-test, which does
  not assume equal variances in the two arms, with the Welch confidence
  interval; optionally on CUPED-adjusted values (see :mod:`.cuped`).

All numbers come from :mod:`statsmodels`; nothing is re-derived by hand.
The difference is always ``treatment - control``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.meta_analysis import effectsize_smd
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    test_proportions_2indep,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.experiments._validation import (
    binary_outcome,
    frame_with,
    min_size,
    numeric_values,
    require_alternative,
    require_probability,
    require_two_arms,
)
from workbook.experiments.cuped import cuped_values

PROPORTION_METHODS = ("score", "wald", "agresti-caffo")

_ALT_ZH = {"two-sided": "双侧", "larger": "单侧（实验组更高）", "smaller": "单侧（实验组更低）"}
_ALT_EN = {
    "two-sided": "two-sided",
    "larger": "one-sided (treatment higher)",
    "smaller": "one-sided (treatment lower)",
}


def _fmt_pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.2%}"


def _one_sided_ci(low2: float, upp2: float, alternative: str) -> tuple[float, float]:
    """Turn a two-sided (1 - 2 alpha) interval into the one-sided (1 - alpha) one."""
    if alternative == "larger":
        return low2, np.inf
    return -np.inf, upp2


class _TestResult:
    """What every test result shares: the significance call, a one-row frame, the verdict words."""

    p_value: float
    alpha: float

    @property
    def significant(self) -> bool:
        """True when ``p_value < alpha``."""
        return bool(self.p_value < self.alpha)

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame (handy for ``pd.concat`` of many tests)."""
        row = asdict(self)
        row["significant"] = self.significant
        return pd.DataFrame([row])

    def _verdict(self) -> tuple[str, str]:
        """(Chinese, English) words for the significance call."""
        if self.significant:
            return "差异显著", "statistically significant"
        return "差异不显著（可能只是随机波动）", "not statistically significant (could be chance)"


@dataclass(frozen=True)
class ProportionTestResult(_TestResult):
    """Result of :func:`proportion_test` (rates are shares, lifts are ``treatment - control``).

    ``ci_low``/``ci_high`` bound the absolute lift and ``rel_lift_ci_low``/
    ``rel_lift_ci_high`` the relative lift, at level ``1 - alpha``; for a one-sided
    alternative the interval is one-sided (the other bound is infinite).
    ``rate_*_ci_low/high`` are Wilson intervals for each arm's rate.
    """

    control: object
    treatment: object
    n_control: int
    n_treatment: int
    conversions_control: int
    conversions_treatment: int
    rate_control: float
    rate_treatment: float
    rate_control_ci_low: float
    rate_control_ci_high: float
    rate_treatment_ci_low: float
    rate_treatment_ci_high: float
    abs_lift: float
    rel_lift: float
    ci_low: float
    ci_high: float
    rel_lift_ci_low: float
    rel_lift_ci_high: float
    z: float
    p_value: float
    cohens_h: float
    alpha: float
    alternative: str
    method: str

    def summary(self) -> str:
        """Plain-language result in Chinese and English."""
        level = 1 - self.alpha
        verdict_zh, verdict_en = self._verdict()
        return (
            f"实验组（{self.treatment}）转化率 {_fmt_pct(self.rate_treatment)}（{self.n_treatment} 人），"
            f"对照组（{self.control}）转化率 {_fmt_pct(self.rate_control)}（{self.n_control} 人）；"
            f"提升 {self.abs_lift * 100:+.2f} 个百分点（相对 {_fmt_pct(self.rel_lift)}），"
            f"{level:.0%} 置信区间 [{self.ci_low * 100:+.2f}, {self.ci_high * 100:+.2f}] 个百分点，"
            f"{_ALT_ZH[self.alternative]} p = {self.p_value:.4f}，{verdict_zh}。\n"
            f"Treatment arm {self.treatment!r}: {_fmt_pct(self.rate_treatment)} converted "
            f"(n = {self.n_treatment}); control arm {self.control!r}: {_fmt_pct(self.rate_control)} "
            f"(n = {self.n_control}). Lift {self.abs_lift * 100:+.2f} percentage points "
            f"({_fmt_pct(self.rel_lift)} relative), {level:.0%} CI "
            f"[{self.ci_low * 100:+.2f}, {self.ci_high * 100:+.2f}] pp, {_ALT_EN[self.alternative]} "
            f"p = {self.p_value:.4f}: {verdict_en}."
        )


@dataclass(frozen=True)
class MeanTestResult(_TestResult):
    """Result of :func:`mean_test` (differences are ``treatment - control``).

    When a covariate was used (CUPED), means, SDs, the difference and its CI
    refer to the adjusted values; ``variance_ratio`` is the pooled within-arm
    variance of the adjusted values divided by that of the raw values (below 1
    means CUPED helped) and ``theta`` the adjustment slope.
    """

    control: object
    treatment: object
    outcome_col: str
    n_control: int
    n_treatment: int
    mean_control: float
    mean_treatment: float
    sd_control: float
    sd_treatment: float
    diff: float
    rel_diff: float
    ci_low: float
    ci_high: float
    t: float
    df: float
    p_value: float
    cohens_d: float
    hedges_g: float
    alpha: float
    alternative: str
    covariate: str | None = None
    theta: float = np.nan
    variance_ratio: float = np.nan

    @property
    def value_col(self) -> str:
        """Former name of ``outcome_col`` (kept for one release)."""
        return self.outcome_col

    def summary(self) -> str:
        """Plain-language result in Chinese and English."""
        level = 1 - self.alpha
        verdict_zh, verdict_en = self._verdict()
        cuped_zh = cuped_en = ""
        if self.covariate is not None:
            cuped_zh = f"（已用 {self.covariate} 做 CUPED 调整，方差降为原来的 {self.variance_ratio:.0%}）"
            cuped_en = (
                f" (CUPED-adjusted with {self.covariate}; variance is {self.variance_ratio:.0%} "
                "of the unadjusted one)"
            )
        return (
            f"实验组（{self.treatment}）人均 {self.outcome_col} {self.mean_treatment:,.2f}，"
            f"对照组（{self.control}）{self.mean_control:,.2f}；差值 {self.diff:+,.2f}"
            f"（相对 {_fmt_pct(self.rel_diff)}），{level:.0%} 置信区间 "
            f"[{self.ci_low:+,.2f}, {self.ci_high:+,.2f}]，{_ALT_ZH[self.alternative]} "
            f"p = {self.p_value:.4f}，{verdict_zh}{cuped_zh}。\n"
            f"Mean {self.outcome_col}: treatment arm {self.treatment!r} {self.mean_treatment:,.2f} "
            f"(n = {self.n_treatment}), control arm {self.control!r} {self.mean_control:,.2f} "
            f"(n = {self.n_control}). Difference {self.diff:+,.2f} ({_fmt_pct(self.rel_diff)} "
            f"relative), {level:.0%} CI [{self.ci_low:+,.2f}, {self.ci_high:+,.2f}], Welch "
            f"{_ALT_EN[self.alternative]} p = {self.p_value:.4f}: {verdict_en}{cuped_en}."
        )


def proportion_stats(
    x_t: int, n_t: int, x_c: int, n_c: int, alpha: float, alternative: str, method: str
) -> dict:
    """statsmodels test + CIs for p_t - p_c (and p_t / p_c) on counts.

    The arithmetic of :func:`proportion_test`, also used per segment by
    :func:`workbook.experiments.uplift.uplift_by_segment`.

    ``method="score"``: score test at a zero difference (the classic pooled
    z-test) with the Newcombe hybrid score interval.  statsmodels' own score
    *interval* for the difference is not used: its constrained MLE for a
    non-zero difference is wrong in statsmodels <= 0.15 (statsmodels issue
    #10269), which also makes its root bracketing fail on some tables.
    """
    ci_alpha = alpha if alternative == "two-sided" else 2 * alpha
    ci_method = "newcomb" if method == "score" else method
    # statsmodels also computes ratios/odds ratios internally, which divide by zero
    # when an arm has no conversions; those values are not used here.
    with np.errstate(divide="ignore", invalid="ignore"):
        test = test_proportions_2indep(
            x_t, n_t, x_c, n_c, method=method, compare="diff",
            alternative=alternative, correction=False,
        )
        low, upp = confint_proportions_2indep(
            x_t, n_t, x_c, n_c, method=ci_method, compare="diff", alpha=ci_alpha
        )
        rlow = rupp = np.nan
        if x_c > 0 and x_t > 0:
            # The ratio score interval is unaffected by #10269; "log" is the fallback
            # when its root bracketing fails.
            try:
                rlow, rupp = confint_proportions_2indep(
                    x_t, n_t, x_c, n_c, method="score", compare="ratio", alpha=ci_alpha,
                    correction=False,
                )
                ok = np.isrealobj(rlow) and np.isrealobj(rupp) and np.isfinite([rlow, rupp]).all()
            except ValueError:
                ok = False
            if not ok:
                rlow, rupp = confint_proportions_2indep(
                    x_t, n_t, x_c, n_c, method="log", compare="ratio", alpha=ci_alpha
                )
            rlow, rupp = float(rlow) - 1.0, float(rupp) - 1.0
    low, upp = float(low), float(upp)
    if alternative != "two-sided":
        low, upp = _one_sided_ci(low, upp, alternative)
        if np.isfinite(rlow):
            rlow, rupp = _one_sided_ci(rlow, rupp, alternative)
    return {
        "z": float(test.statistic),
        "p_value": float(test.pvalue),
        "ci_low": low,
        "ci_high": upp,
        "rel_lift_ci_low": rlow,
        "rel_lift_ci_high": rupp,
    }


def proportion_test(
    df: pd.DataFrame,
    group_col: str = "arm",
    outcome_col: str = "converted",
    *,
    control: object = "control",
    treatment: object = "treatment",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    method: str = "score",
) -> ProportionTestResult:
    """Compare conversion (redemption, return) rates of two arms.

    Parameters
    ----------
    df : DataFrame
        One row per member in the experiment.  Not modified.
    group_col : str, default "arm"
        Column with the arm of each member; must hold exactly ``control`` and
        ``treatment``.
    outcome_col : str, default "converted"
        0/1 or True/False outcome per member.
    control, treatment : default "control", "treatment"
        Arm labels.
    alpha : float, default 0.05
        Significance level; intervals have level ``1 - alpha``.
    alternative : {"two-sided", "larger", "smaller"}
        "larger" tests whether the treatment rate is higher than control.
    method : {"score", "wald", "agresti-caffo"}
        statsmodels method (``test_proportions_2indep`` /
        ``confint_proportions_2indep``).  "score" (default) is the classic
        pooled z-test (same p-value as ``proportions_ztest``) with the
        Newcombe hybrid score interval for the difference; "wald" and
        "agresti-caffo" use that method for both test and interval.

    Returns
    -------
    ProportionTestResult
        Rates, absolute and relative lift with intervals, z, p-value,
        Cohen's h; ``.summary()`` gives a bilingual sentence, ``.to_frame()`` a row.

    Raises
    ------
    WorkbookInputError
        Missing columns, an outcome that is not 0/1, arms other than the two
        named ones, or no variation at all (everyone or no one converted).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arm": ["control"] * 200 + ["treatment"] * 200,
    ...                    "converted": [1] * 20 + [0] * 180 + [1] * 36 + [0] * 164})
    >>> r = proportion_test(df)
    >>> round(r.rate_control, 2), round(r.rate_treatment, 2), round(r.abs_lift, 2)
    (0.1, 0.18, 0.08)
    >>> round(r.z, 3), round(r.p_value, 4)
    (2.306, 0.0211)
    """
    frame = frame_with(df, [group_col, outcome_col])
    require_alternative(alternative)
    alpha = require_probability(alpha, "alpha")
    if method not in PROPORTION_METHODS:
        raise WorkbookInputError(
            f"method={method!r} is not valid; choose one of {list(PROPORTION_METHODS)}."
        )
    is_c, is_t = require_two_arms(frame, group_col, control, treatment)
    y = binary_outcome(frame, outcome_col)
    n_c, n_t = int(is_c.sum()), int(is_t.sum())
    for arm, n in ((control, n_c), (treatment, n_t)):
        min_size(n, 2, arm)
    x_c, x_t = int(y[is_c].sum()), int(y[is_t].sum())
    if x_c + x_t in (0, n_c + n_t):
        state = "converted" if x_c + x_t else "did not convert"
        raise WorkbookInputError(
            f"Every member in both arms {state} (column {outcome_col!r}), so there is no "
            "variation to test; check the outcome column or collect more data."
        )
    p_c, p_t = x_c / n_c, x_t / n_t
    stats = proportion_stats(x_t, n_t, x_c, n_c, alpha, alternative, method)
    (c_lo, t_lo), (c_hi, t_hi) = proportion_confint(
        np.array([x_c, x_t]), np.array([n_c, n_t]), alpha=alpha, method="wilson"
    )
    return ProportionTestResult(
        control=control,
        treatment=treatment,
        n_control=n_c,
        n_treatment=n_t,
        conversions_control=x_c,
        conversions_treatment=x_t,
        rate_control=p_c,
        rate_treatment=p_t,
        rate_control_ci_low=float(c_lo),
        rate_control_ci_high=float(c_hi),
        rate_treatment_ci_low=float(t_lo),
        rate_treatment_ci_high=float(t_hi),
        abs_lift=p_t - p_c,
        rel_lift=(p_t - p_c) / p_c if p_c > 0 else np.nan,
        cohens_h=float(proportion_effectsize(p_t, p_c)),
        alpha=alpha,
        alternative=alternative,
        method=method,
        **stats,
    )


@renamed_arguments(value_col="outcome_col")
def mean_test(
    df: pd.DataFrame,
    group_col: str = "arm",
    outcome_col: str = "spend",
    *,
    control: object = "control",
    treatment: object = "treatment",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    covariate: str | None = None,
) -> MeanTestResult:
    """Compare mean spend (or any amount) of two arms with Welch's t-test.

    Parameters
    ----------
    df : DataFrame
        One row per member.  Not modified.
    group_col, outcome_col : str
        Arm column and the numeric outcome (e.g. spend in CNY).
    control, treatment : default "control", "treatment"
        Arm labels; ``group_col`` must hold exactly these two.
    alpha : float, default 0.05
        Significance level; the interval has level ``1 - alpha`` (one-sided
        for a one-sided alternative).
    alternative : {"two-sided", "larger", "smaller"}
        "larger" tests whether the treatment mean is higher.
    covariate : str, optional
        Pre-period column (e.g. ``"pre_spend"``).  When given, the test runs on
        CUPED-adjusted values (:func:`workbook.experiments.cuped`), which have
        the same expected difference but a smaller variance.

    Returns
    -------
    MeanTestResult
        Means, SDs, difference with interval, Welch t, df, p-value, Cohen's d
        (pooled SD) and Hedges' g (small-sample corrected d, from statsmodels).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arm": ["control"] * 4 + ["treatment"] * 4,
    ...                    "spend": [10.0, 12.0, 9.0, 11.0, 14.0, 15.0, 13.0, 16.0]})
    >>> r = mean_test(df)
    >>> r.diff, round(r.cohens_d, 3)
    (4.0, 3.098)
    >>> round(r.ci_low, 3), round(r.ci_high, 3), round(r.p_value, 4)
    (1.766, 6.234, 0.0047)
    """
    cols = [group_col, outcome_col] + ([covariate] if covariate is not None else [])
    frame = frame_with(df, cols)
    require_alternative(alternative)
    alpha = require_probability(alpha, "alpha")
    is_c, is_t = require_two_arms(frame, group_col, control, treatment)
    y = numeric_values(frame, outcome_col)
    n_c, n_t = int(is_c.sum()), int(is_t.sum())
    for arm, n in ((control, n_c), (treatment, n_t)):
        min_size(n, 2, arm)
    theta = variance_ratio = np.nan
    if covariate is not None:
        x = numeric_values(frame, covariate)
        y_raw = y
        y, theta = cuped_values(y, x, np.where(is_t, 1, 0), covariate)
        variance_ratio = _pooled_var(y, is_c, is_t) / _pooled_var(y_raw, is_c, is_t)
    yc, yt = y[is_c], y[is_t]
    sd_c, sd_t = float(np.std(yc, ddof=1)), float(np.std(yt, ddof=1))
    if sd_c == 0 and sd_t == 0:
        raise WorkbookInputError(
            f"Column {outcome_col!r} is constant within each arm, so there is no variation "
            "to test."
        )
    cm = CompareMeans(DescrStatsW(yt), DescrStatsW(yc))
    t, p, dof = cm.ttest_ind(alternative=alternative, usevar="unequal")
    ci_alpha = alpha if alternative == "two-sided" else 2 * alpha
    low, upp = cm.tconfint_diff(alpha=ci_alpha, usevar="unequal")
    low, upp = float(low), float(upp)
    if alternative != "two-sided":
        low, upp = _one_sided_ci(low, upp, alternative)
    m_c, m_t = float(yc.mean()), float(yt.mean())
    sd_pooled = np.sqrt(((n_c - 1) * sd_c**2 + (n_t - 1) * sd_t**2) / (n_c + n_t - 2))
    g, _ = effectsize_smd(m_t, sd_t, n_t, m_c, sd_c, n_c)
    return MeanTestResult(
        control=control,
        treatment=treatment,
        outcome_col=outcome_col,
        n_control=n_c,
        n_treatment=n_t,
        mean_control=m_c,
        mean_treatment=m_t,
        sd_control=sd_c,
        sd_treatment=sd_t,
        diff=m_t - m_c,
        rel_diff=(m_t - m_c) / m_c if m_c != 0 else np.nan,
        ci_low=low,
        ci_high=upp,
        t=float(t),
        df=float(dof),
        p_value=float(p),
        cohens_d=float((m_t - m_c) / sd_pooled),
        hedges_g=float(g),
        alpha=alpha,
        alternative=alternative,
        covariate=covariate,
        theta=float(theta),
        variance_ratio=float(variance_ratio),
    )


def _pooled_var(y: np.ndarray, is_c: np.ndarray, is_t: np.ndarray) -> float:
    """Pooled within-arm variance (ddof 1 in each arm)."""
    yc, yt = y[is_c], y[is_t]
    ss = ((yc - yc.mean()) ** 2).sum() + ((yt - yt.mean()) ** 2).sum()
    return float(ss / (len(yc) + len(yt) - 2))


@renamed_arguments(value_col="outcome_col")
def cuped_comparison(
    df: pd.DataFrame,
    group_col: str = "arm",
    outcome_col: str = "spend",
    pre_col: str = "pre_spend",
    *,
    control: object = "control",
    treatment: object = "treatment",
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> pd.DataFrame:
    """The same experiment analysed without and with CUPED, side by side.

    Parameters
    ----------
    df : DataFrame
        One row per member with arm, outcome and pre-period column.
    group_col, outcome_col, pre_col : str
        Column names.
    control, treatment, alpha, alternative
        As in :func:`workbook.experiments.mean_test`.

    Returns
    -------
    DataFrame
        Index ``["raw", "cuped"]``; columns ``diff``, ``ci_low``, ``ci_high``,
        ``ci_width``, ``p_value``, ``variance_ratio`` (1 for raw) and
        ``theta``.  ``ci_width`` shrinks by about ``sqrt(variance_ratio)``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arm": ["control", "treatment"] * 4,
    ...                    "pre_spend": [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0],
    ...                    "spend": [2.1, 3.0, 3.9, 5.1, 6.0, 7.0, 8.1, 8.9]})
    >>> t = cuped_comparison(df)
    >>> bool(t.loc["cuped", "ci_width"] < t.loc["raw", "ci_width"])
    True
    """
    kw = dict(control=control, treatment=treatment, alpha=alpha, alternative=alternative)
    raw = mean_test(df, group_col, outcome_col, **kw)
    adj = mean_test(df, group_col, outcome_col, covariate=pre_col, **kw)
    rows = []
    for r in (raw, adj):
        rows.append(
            {
                "diff": r.diff,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "ci_width": r.ci_high - r.ci_low,
                "p_value": r.p_value,
                "variance_ratio": 1.0 if r.covariate is None else r.variance_ratio,
                "theta": r.theta,
            }
        )
    return pd.DataFrame(rows, index=pd.Index(["raw", "cuped"], name="analysis"))
