"""Survival (retention) curves: how long members stay, with censoring done right.

A member who is still a member on the analysis date has not "survived forever";
we only know they stayed *at least* this long (a **censored** duration).
Dropping them or treating the analysis date as their end date both bias
retention downwards.  The Kaplan-Meier estimator uses them correctly.

Estimation uses :mod:`statsmodels.duration` (``SurvfuncRight``, ``survdiff``,
``PHReg``).

Durations can come from

* an explicit membership end (gym contracts, paid memberships):
  :func:`membership_durations`;
* purchase behaviour (non-contractual retail): :func:`activity_durations`
  treats a member as lost after ``inactivity_days`` without a purchase.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from workbook.aggregate import member_summary
from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.transactions import DAY, whole_days
from workbook.validation import (
    format_rows,
    require_columns,
    require_dataframe,
    require_datetime,
    require_numeric,
    require_whole,
)

__all__ = [
    "activity_durations",
    "cox_hazard_ratio",
    "km_curves",
    "logrank_test",
    "median_survival",
    "membership_durations",
    "retention_at",
]

CURVE_COLUMNS = ["group", "time", "survival", "ci_lower", "ci_upper", "at_risk", "n_events"]


def membership_durations(
    df: pd.DataFrame,
    start_col: str = "join_date",
    end_col: str = "end_date",
    observed_col: str | None = None,
    at: object | None = None,
) -> pd.DataFrame:
    """Duration (whole days) and event flag per membership.

    Parameters
    ----------
    df : DataFrame
        One row per membership (or subscription).  Not modified.
    start_col : str, default "join_date"
        Start date.
    end_col : str, default "end_date"
        End date; ``NaT`` means still a member (censored at ``at``).
    observed_col : str, optional
        Boolean column: True if the end was a real cancellation/lapse, False if
        the row was censored at ``end_col`` (e.g. transferred, data export).
        Without it every non-missing end is an event.
    at : date-like, optional
        Analysis date.  Ends after it are treated as not yet happened (censored
        at ``at``).  Default: midnight after the latest start or end date.

    Returns
    -------
    DataFrame
        A copy of ``df`` with ``duration_days`` (int, whole days from start to
        end or to ``at``) and ``event`` (bool).  ``attrs["at"]`` holds the date.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({
    ...     "join_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
    ...     "end_date": pd.to_datetime(["2024-01-31", None, "2024-06-01"])})
    >>> membership_durations(m, at="2024-04-01")[["duration_days", "event"]]
       duration_days  event
    0             30   True
    1             60  False
    2             31  False
    """
    require_dataframe(df, "data")
    cols = [start_col, end_col] + ([observed_col] if observed_col else [])
    require_columns(df, cols, "data")
    require_datetime(df, start_col, "data")
    if not pd.api.types.is_datetime64_any_dtype(df[end_col]):
        raise WorkbookInputError(
            f"Column {end_col!r} of data must hold dates (datetime64, NaT = still a member), "
            f"got dtype {df[end_col].dtype}."
        )
    start, end = df[start_col], df[end_col]
    if at is None:
        at_ts = max(start.max(), end.max() if end.notna().any() else start.max()).normalize() + DAY
    else:
        try:
            at_ts = pd.Timestamp(at)
        except (TypeError, ValueError) as exc:
            raise WorkbookInputError(f"at={at!r} is not a date.") from exc
    late = start > at_ts
    if late.any():
        raise WorkbookInputError(
            f"Column {start_col!r} is after the analysis date {at_ts.date()} at "
            f"{format_rows(df.index[late])}; drop those rows or choose a later 'at'."
        )
    before_start = end.notna() & (end < start)
    if before_start.any():
        raise WorkbookInputError(
            f"Column {end_col!r} is before {start_col!r} at {format_rows(df.index[before_start])}."
        )
    if observed_col:
        obs = df[observed_col]
        if obs.isna().any() or not obs.isin([0, 1]).all():
            bad = obs.isna() | ~obs.isin([0, 1])
            raise WorkbookInputError(
                f"Column {observed_col!r} must be True/False; bad values at {format_rows(df.index[bad])}."
            )
        observed = obs.astype(bool)
        no_end = observed & end.isna()
        if no_end.any():
            raise WorkbookInputError(
                f"Rows marked observed in {observed_col!r} have no {end_col!r} at "
                f"{format_rows(df.index[no_end])}."
            )
    else:
        observed = end.notna()
    happened = end.notna() & (end <= at_ts)
    event = (observed & happened).to_numpy()
    stop = end.where(happened, at_ts)
    out = df.copy()
    out["duration_days"] = whole_days(stop - start).to_numpy()
    out["event"] = event
    out.attrs["at"] = at_ts
    return out


@renamed_arguments(positional=("analysis_date",))
def activity_durations(
    transactions: pd.DataFrame,
    inactivity_days: int = 90,
    *,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
) -> pd.DataFrame:
    """Member lifetimes from purchases, for data without a cancellation date.

    A member is *lost* (event) if their last purchase is at least
    ``inactivity_days`` before the analysis date; the lifetime is then first to
    last purchase.  Otherwise they are still active and censored at the
    analysis date (duration = first purchase to analysis date).  The
    definition is retrospective: members are only known to be lost
    ``inactivity_days`` later.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    inactivity_days : int, default 90
        Gap without purchases that counts as lost.
    analysis_date : date-like, optional
        See :func:`workbook.aggregate.member_summary`.

    Returns
    -------
    DataFrame
        Indexed by ``member_id``: ``first_purchase``, ``last_purchase``,
        ``duration_days`` (int) and ``event`` (bool).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-21", "2024-05-01"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> activity_durations(tx, 90, analysis_date="2024-06-01")[["duration_days", "event"]]  # doctest: +NORMALIZE_WHITESPACE
               duration_days  event
    member_id
    a                     20   True
    b                     31  False
    """
    require_whole(inactivity_days, "inactivity_days")
    s = member_summary(
        transactions, analysis_date=analysis_date, member_col=member_col, time_col=time_col,
        amount_col=amount_col, return_col=return_col,
    )
    event = (s["recency_days"] >= inactivity_days).to_numpy()
    lifetime = whole_days(s["last_purchase"] - s["first_purchase"])
    out = s[["first_purchase", "last_purchase"]].copy()
    out["duration_days"] = np.where(event, lifetime, s["tenure_days"]).astype("int64")
    out["event"] = event
    out.attrs["analysis_date"] = s.attrs["analysis_date"]
    return out


def _check_survival_frame(
    df: pd.DataFrame, duration_col: str, event_col: str, group_col: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    require_dataframe(df, "data")
    require_columns(df, [duration_col, event_col] + ([group_col] if group_col else []), "data")
    require_numeric(df, duration_col, "data")
    neg = df[duration_col] < 0
    if neg.any():
        raise WorkbookInputError(
            f"Column {duration_col!r} has negative durations at {format_rows(df.index[neg])}."
        )
    ev = df[event_col]
    bad = ev.isna() | ~ev.isin([0, 1])
    if bad.any():
        raise WorkbookInputError(
            f"Column {event_col!r} must be True/False (1 = churned, 0 = censored); bad values at "
            f"{format_rows(df.index[bad])}, e.g. {ev[bad].iloc[0]!r}."
        )
    groups = None
    if group_col:
        g = df[group_col]
        if g.isna().any():
            raise WorkbookInputError(
                f"Column {group_col!r} has missing groups at {format_rows(df.index[g.isna()])}."
            )
        groups = g.to_numpy()
    return (
        df[duration_col].to_numpy(dtype="float64"),
        ev.to_numpy(dtype="int64"),
        groups,
    )


def _split(time: np.ndarray, status: np.ndarray, groups: np.ndarray | None):
    """Yield (group, durations, events) per group, groups in sorted order."""
    keys = ["all"] if groups is None else sorted(pd.unique(groups), key=str)
    for key in keys:
        mask = slice(None) if groups is None else groups == key
        yield key, time[mask], status[mask]


def km_curves(
    df: pd.DataFrame,
    duration_col: str = "duration_days",
    event_col: str = "event",
    group_col: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Kaplan-Meier retention curves, one per group, as a tidy table.

    Parameters
    ----------
    df : DataFrame
        One row per member with a duration and an event flag.  Not modified.
    duration_col, event_col : str
        Duration (any time unit, e.g. days) and event (True = churned).
    group_col : str, optional
        Column defining the groups compared (e.g. ``"follow_up"``).
    alpha : float, default 0.05
        1 - confidence level of the pointwise interval.

    Returns
    -------
    DataFrame
        :data:`CURVE_COLUMNS`: ``group`` ("all" without ``group_col``),
        ``time``, ``survival`` (share still retained just after ``time``),
        ``ci_lower``/``ci_upper`` (pointwise, Greenwood variance on the
        log(-log) scale), ``at_risk``, ``n_events``.  Each group starts with a
        row at time 0 (survival 1 unless events occur at 0) and ends with a
        row at its longest follow-up, so the curve spans the observed period.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"duration_days": [1, 2, 3, 4, 5, 6],
    ...                   "event": [1, 0, 1, 1, 0, 1]})
    >>> km_curves(d)[["time", "survival", "at_risk", "n_events"]]
       time  survival  at_risk  n_events
    0   0.0  1.000000        6         0
    1   1.0  0.833333        6         1
    2   3.0  0.625000        4         1
    3   4.0  0.416667        3         1
    4   6.0  0.000000        1         1
    """
    if not 0 < alpha < 1:
        raise WorkbookInputError(f"alpha must be between 0 and 1, got {alpha!r}.")
    time, status, groups = _check_survival_frame(df, duration_col, event_col, group_col)
    z = stats.norm.ppf(1 - alpha / 2)
    frames = []
    for key, t, s in _split(time, status, groups):
        n = len(t)
        if s.sum() == 0:
            surv_t = np.array([])
            prob = se = np.array([])
            n_risk = n_ev = np.array([], dtype="int64")
        else:
            sf = SurvfuncRight(t, s)
            surv_t, prob, se = sf.surv_times, sf.surv_prob, sf.surv_prob_se
            n_risk, n_ev = sf.n_risk.astype("int64"), sf.n_events.astype("int64")
        with np.errstate(divide="ignore", invalid="ignore"):
            log_s = np.log(prob)
            half = z * se / np.abs(prob * log_s)
            lower = np.exp(-np.exp(np.log(-log_s) + half))
            upper = np.exp(-np.exp(np.log(-log_s) - half))
        lower = np.where(prob >= 1, 1.0, np.where(prob <= 0, 0.0, lower))
        upper = np.where(prob >= 1, 1.0, np.where(prob <= 0, 0.0, upper))
        curve = pd.DataFrame(
            {"time": surv_t, "survival": prob, "ci_lower": lower, "ci_upper": upper,
             "at_risk": n_risk, "n_events": n_ev}
        )
        head, tail = [], []
        if len(surv_t) == 0 or surv_t[0] > 0:
            head = [{"time": 0.0, "survival": 1.0, "ci_lower": 1.0, "ci_upper": 1.0,
                     "at_risk": n, "n_events": 0}]
        t_max = float(t.max())
        last_t = surv_t[-1] if len(surv_t) else 0.0
        if t_max > last_t:
            last = curve.iloc[-1] if len(curve) else pd.Series(head[0])
            tail = [{"time": t_max, "survival": last["survival"], "ci_lower": last["ci_lower"],
                     "ci_upper": last["ci_upper"], "at_risk": int((t >= t_max).sum()), "n_events": 0}]
        curve = pd.concat([pd.DataFrame(head), curve, pd.DataFrame(tail)], ignore_index=True)
        curve.insert(0, "group", key)
        frames.append(curve)
    out = pd.concat(frames, ignore_index=True)
    out["time"] = out["time"].astype("float64")
    out["at_risk"] = out["at_risk"].astype("int64")
    out["n_events"] = out["n_events"].astype("int64")
    out.attrs.update(duration_col=duration_col, group_col=group_col, alpha=alpha)
    return out[CURVE_COLUMNS]


def retention_at(curves: pd.DataFrame, days: Sequence[float] = (30, 90, 180, 365)) -> pd.DataFrame:
    """Retention (Kaplan-Meier survival) at given times, one row per group.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`km_curves`.
    days : sequence of float
        Times (same unit as the durations, usually days).

    Returns
    -------
    DataFrame
        Index ``group``, one column per time (``"day_30"``...) with the share
        retained; ``NaN`` beyond a group's longest follow-up (not estimable).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"duration_days": [1, 2, 3, 4, 5, 6], "event": [1, 0, 1, 1, 0, 1]})
    >>> retention_at(km_curves(d), days=[2, 5, 10]).round(3)  # doctest: +NORMALIZE_WHITESPACE
           day_2  day_5  day_10
    group
    all    0.833  0.417     NaN
    """
    require_dataframe(curves, "curves")
    require_columns(curves, ["group", "time", "survival"], "curves")
    days = np.asarray(list(days), dtype="float64")
    if days.size == 0 or (days < 0).any() or not np.isfinite(days).all():
        raise WorkbookInputError(f"days must be non-negative numbers, got {list(days)!r}.")
    rows = {}
    for key, c in curves.groupby("group", sort=False):
        c = c.sort_values("time", kind="stable")
        t = c["time"].to_numpy()
        pos = np.searchsorted(t, days, side="right") - 1
        vals = c["survival"].to_numpy()[np.clip(pos, 0, None)]
        rows[key] = np.where((pos < 0) | (days > t.max()), np.nan, vals)
    labels = [f"day_{d:g}" for d in days]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=labels)
    out.index.name = "group"
    return out


def logrank_test(
    df: pd.DataFrame,
    duration_col: str = "duration_days",
    event_col: str = "event",
    group_col: str = "group",
    weight_type: str | None = None,
) -> pd.DataFrame:
    """Log-rank test that the retention curves of the groups are equal.

    Thin wrapper of :func:`statsmodels.duration.survfunc.survdiff`.

    Parameters
    ----------
    weight_type : {None, "gb", "tw", "fh"}
        None = log-rank; "gb" Gehan-Breslow (weights early differences), "tw"
        Tarone-Ware, "fh" Fleming-Harrington.

    Returns
    -------
    DataFrame
        One row: ``statistic`` (chi-squared), ``df`` (groups - 1), ``p_value``,
        ``n_groups``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"duration_days": [1, 2, 3, 4, 5, 6, 7, 8],
    ...                   "event": [1, 1, 1, 0, 1, 0, 1, 0],
    ...                   "group": ["a"] * 4 + ["b"] * 4})
    >>> round(float(logrank_test(d)["p_value"].iloc[0]), 3)
    0.04
    """
    if group_col is None:
        raise WorkbookInputError("group_col is required: the log-rank test compares groups.")
    time, status, groups = _check_survival_frame(df, duration_col, event_col, group_col)
    n_groups = len(pd.unique(groups))
    if n_groups < 2:
        raise WorkbookInputError(f"Column {group_col!r} has only one group; the test needs two or more.")
    if status.sum() == 0:
        raise WorkbookInputError(f"Column {event_col!r} has no events; nothing to compare.")
    chisq, p = survdiff(time, status, groups, weight_type=weight_type)
    return pd.DataFrame(
        [{"statistic": float(chisq), "df": n_groups - 1, "p_value": float(p), "n_groups": n_groups}]
    )


def median_survival(
    df: pd.DataFrame,
    duration_col: str = "duration_days",
    event_col: str = "event",
    group_col: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Median membership duration per group with a confidence interval.

    Returns
    -------
    DataFrame
        Index ``group``: ``n``, ``n_events``, ``median``, ``ci_lower``,
        ``ci_upper`` (statsmodels' ``quantile_ci``, cloglog method).  ``NaN``
        when retention never falls to 50 % in the observed period.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"duration_days": [1, 2, 3, 4, 5, 6], "event": [1, 0, 1, 1, 0, 1]})
    >>> float(median_survival(d)["median"].iloc[0])
    4.0
    """
    time, status, groups = _check_survival_frame(df, duration_col, event_col, group_col)
    rows = []
    for key, t, s in _split(time, status, groups):
        med = lo = hi = np.nan
        if s.sum() > 0:
            sf = SurvfuncRight(t, s)
            with np.errstate(divide="ignore", invalid="ignore"):
                med = sf.quantile(0.5)
                lo, hi = sf.quantile_ci(0.5, alpha=alpha)
        rows.append({"group": key, "n": len(t), "n_events": int(s.sum()),
                     "median": float(med) if med is not None else np.nan,
                     "ci_lower": float(lo) if lo is not None else np.nan,
                     "ci_upper": float(hi) if hi is not None else np.nan})
    return pd.DataFrame(rows).set_index("group")


def cox_hazard_ratio(
    df: pd.DataFrame,
    covariates: Sequence[str],
    duration_col: str = "duration_days",
    event_col: str = "event",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Hazard ratios from a Cox proportional-hazards model (statsmodels ``PHReg``).

    A hazard ratio of 0.7 for a ``follow_up`` flag means members with
    follow-up churn at 70 % of the rate of comparable members without it, at
    every point of their membership (the proportional-hazards assumption).

    Parameters
    ----------
    covariates : sequence of str
        Numeric or boolean columns (one-hot encode categories first).

    Returns
    -------
    DataFrame
        Index ``covariate``: ``hazard_ratio``, ``ci_lower``, ``ci_upper``,
        ``p_value``, ``coef`` (log hazard ratio), ``std_error``.  Ties are
        handled with Efron's method.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> treat = np.repeat([0, 1], 300)
    >>> d = pd.DataFrame({"duration_days": rng.exponential(100 / np.where(treat, 0.5, 1.0)),
    ...                   "event": 1, "treat": treat})
    >>> hr = cox_hazard_ratio(d, ["treat"])
    >>> bool(hr.loc["treat", "ci_lower"] < 0.5 < hr.loc["treat", "ci_upper"])
    True
    """
    covariates = list(covariates)
    if not covariates:
        raise WorkbookInputError("covariates must name at least one column.")
    time, status, _ = _check_survival_frame(df, duration_col, event_col, None)
    require_columns(df, covariates, "data")
    exog = df[covariates].astype({c: "float64" for c in covariates if df[c].dtype == bool})
    for c in covariates:
        require_numeric(exog, c, "data")
    if status.sum() == 0:
        raise WorkbookInputError(f"Column {event_col!r} has no events; the model cannot be fitted.")
    res = PHReg(time, exog.to_numpy(dtype="float64"), status=status, ties="efron").fit()
    z = stats.norm.ppf(1 - alpha / 2)
    coef, se = np.asarray(res.params), np.asarray(res.bse)
    return pd.DataFrame(
        {"hazard_ratio": np.exp(coef), "ci_lower": np.exp(coef - z * se),
         "ci_upper": np.exp(coef + z * se), "p_value": np.asarray(res.pvalues),
         "coef": coef, "std_error": se},
        index=pd.Index(covariates, name="covariate"),
    )
