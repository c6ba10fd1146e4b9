"""Did the programme work?  Before/after versus difference-in-differences.

A chain introduces a points programme in some stores and repurchase "rises
30 %".  A naive before/after comparison attributes *everything* that changed
to the programme: seasonality, overall growth, a competitor closing.  With
control stores that did not get the programme, difference-in-differences
(DiD) subtracts the change the control stores saw over the same period:

    effect = (treated_post - treated_pre) - (control_post - control_pre)

This is unbiased if, without the programme, treated and control stores would
have moved in parallel (check with :func:`parallel_trends_table` and
:func:`pre_trend_test`).  Estimates come from OLS with the interaction
``treated x post`` (:mod:`statsmodels`) and standard errors clustered by unit
(store), because months of the same store are not independent.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.transactions import DAY, PERIOD_FREQ, column_values, purchases
from workbook.validation import (
    format_rows,
    require_choice,
    require_columns,
    require_dataframe,
    require_datetime,
    require_numeric,
    require_whole,
)

__all__ = [
    "DiDResult",
    "StandardErrorWarning",
    "diff_in_diff",
    "naive_before_after",
    "parallel_trends_table",
    "pre_trend_test",
    "repurchase_rate_by_period",
]


def _binary(df: pd.DataFrame, col: str) -> np.ndarray:
    s = df[col]
    bad = s.isna() | ~s.isin([0, 1])
    if bad.any():
        raise WorkbookInputError(
            f"Column {col!r} must be True/False (or 1/0); bad values at "
            f"{format_rows(df.index[bad])}, e.g. {s[bad].iloc[0]!r}."
        )
    return s.to_numpy(dtype="int64")


def _post_flag(
    df: pd.DataFrame, time_col: str | None, change_date: object | None, post_col: str | None
) -> np.ndarray:
    """1 for rows after the change: ``post_col`` if given, else ``time >= change_date``."""
    if post_col is not None:
        if change_date is not None:
            raise WorkbookInputError("Give either post_col or change_date, not both.")
        require_columns(df, [post_col], "data")
        return _binary(df, post_col)
    if change_date is None:
        raise WorkbookInputError(
            "Say when the change happened: pass change_date (with time_col) or a 0/1 post_col."
        )
    require_columns(df, [time_col], "data")
    require_datetime(df, time_col, "data")
    try:
        change = pd.Timestamp(change_date)
    except (TypeError, ValueError) as exc:
        raise WorkbookInputError(f"change_date={change_date!r} is not a date.") from exc
    return (df[time_col] >= change).to_numpy().astype("int64")


def _fit_ols(data: pd.DataFrame, formula: str, clusters: np.ndarray | None):
    model = smf.ols(formula, data=data)
    if clusters is None:
        return model.fit(cov_type="HC1", use_t=True)
    codes = pd.factorize(clusters)[0]
    return model.fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)


def _clusters(df: pd.DataFrame, cluster_col: str | None) -> np.ndarray | None:
    if cluster_col is None:
        return None
    require_columns(df, [cluster_col], "data")
    c = df[cluster_col]
    if c.isna().any():
        raise WorkbookInputError(
            f"Column {cluster_col!r} has missing values at {format_rows(df.index[c.isna()])}."
        )
    n = c.nunique()
    if n < 2:
        raise WorkbookInputError(
            f"Column {cluster_col!r} has {n} distinct value(s); clustered standard errors "
            "need several units (stores)."
        )
    return c.to_numpy()


class StandardErrorWarning(UserWarning):
    """A standard error could not be estimated (too few units, or no spread between them); the estimate is kept."""


def _effect_row(res, term: str, alpha: float, what: tuple[str, str] = ("the effect", "效果")) -> dict:
    """Estimate, standard error, interval and p-value of ``term``; ``what``: its name (English, Chinese)."""
    # statsmodels takes the square root of the variances: a clustered covariance with
    # about as few clusters as coefficients can be singular, its variance zero or
    # slightly negative by rounding, and the root NaN (numpy's bare RuntimeWarning).
    with np.errstate(invalid="ignore", divide="ignore"):
        lo, hi = res.conf_int(alpha=alpha).loc[term]
        se, p = float(res.bse[term]), float(res.pvalues[term])
    if not np.isfinite(se) or se <= 0:
        en, zh = what
        warnings.warn(
            f"The standard error of {en} cannot be estimated from these {int(res.nobs)} rows "
            "(too few units (stores), or every unit changed by exactly the same amount): "
            f"std_error, ci_lower, ci_upper and p_value are NaN; {en} itself is still given. "
            f"{zh}的标准误无法估计（门店太少，或各门店的变化完全相同）：std_error、置信区间和 p 值为空 (NaN)；"
            f"{zh}本身仍然给出。",
            StandardErrorWarning,
            stacklevel=3,
        )
        se = lo = hi = p = np.nan
    return {
        "effect": float(res.params[term]),
        "std_error": se,
        "ci_lower": float(lo),
        "ci_upper": float(hi),
        "p_value": p,
    }


def naive_before_after(
    df: pd.DataFrame,
    outcome_col: str,
    change_date: object | None = None,
    *,
    time_col: str = "period",
    post_col: str | None = None,
    treated_col: str | None = None,
    unit_col: str | None = "store_id",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Naive comparison of the outcome after vs before a change.

    This is the number usually quoted ("repurchase rose 30 %").  It is
    reported here to show what it misses: any change that would have happened
    anyway (trend, season) is counted as effect.

    Parameters
    ----------
    df : DataFrame
        One row per unit and period (e.g. from :func:`repurchase_rate_by_period`).
    outcome_col : str
        Outcome (e.g. ``"repurchase_rate"``).
    change_date : date-like, optional
        Rows with ``time_col >= change_date`` are "after" (or pass ``post_col``).
    time_col, post_col : str
        Period column, or a 0/1 column marking "after".
    treated_col : str, optional
        If given, only rows of treated units (value 1/True) are used, as a
        before/after analysis of the programme stores would do.
    unit_col : str or None, default "store_id"
        Units for clustered standard errors (``None``: heteroscedasticity-robust).
    alpha : float, default 0.05

    Returns
    -------
    DataFrame
        One row: ``mean_before``, ``mean_after``, ``effect`` (after - before),
        ``relative_effect`` (effect / mean_before), ``std_error``, ``ci_lower``,
        ``ci_upper``, ``p_value``, ``n_obs``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"store_id": ["s1", "s1", "s2", "s2"],
    ...                   "period": pd.to_datetime(["2024-01-01", "2024-03-01"] * 2),
    ...                   "rate": [0.20, 0.26, 0.30, 0.36]})
    >>> r = naive_before_after(d, "rate", change_date="2024-02-01")
    >>> round(float(r["effect"].iloc[0]), 2), round(float(r["relative_effect"].iloc[0]), 2)
    (0.06, 0.24)
    """
    require_dataframe(df, "data")
    require_columns(df, [outcome_col], "data")
    require_numeric(df, outcome_col, "data")
    post = _post_flag(df, time_col, change_date, post_col)
    keep = np.ones(len(df), dtype=bool)
    if treated_col is not None:
        require_columns(df, [treated_col], "data")
        keep = _binary(df, treated_col) == 1
    data = pd.DataFrame({"y": df[outcome_col].to_numpy(dtype="float64"), "post": post})[keep]
    if data["post"].nunique() < 2:
        raise WorkbookInputError(
            "All rows are on one side of the change; both 'before' and 'after' rows are needed."
        )
    clusters = _clusters(df.loc[keep], unit_col) if unit_col is not None else None
    res = _fit_ols(data.reset_index(drop=True), "y ~ post", clusters)
    means = data.groupby("post")["y"].mean()
    row = {"mean_before": float(means[0]), "mean_after": float(means[1])}
    row.update(_effect_row(res, "post", alpha, ("the before/after change", "前后变化")))
    row["relative_effect"] = row["effect"] / row["mean_before"] if row["mean_before"] else np.nan
    row["n_obs"] = int(len(data))
    cols = ["mean_before", "mean_after", "effect", "relative_effect", "std_error", "ci_lower",
            "ci_upper", "p_value", "n_obs"]
    return pd.DataFrame([row])[cols]


@dataclass
class DiDResult:
    """Result of :func:`diff_in_diff`.

    Attributes
    ----------
    summary : DataFrame
        One row: ``effect``, ``std_error``, ``ci_lower``, ``ci_upper``,
        ``p_value``, ``counterfactual`` (treated after-mean had they moved like
        the controls), ``relative_effect`` (effect / counterfactual),
        ``n_obs``, ``n_clusters``.
    means : DataFrame
        The 2x2 table of mean outcomes: rows ``control``, ``treated``,
        ``treated - control``; columns ``before``, ``after``, ``change``.  The
        bottom-right cell is the DiD estimate (without fixed effects or with a
        balanced panel).
    model : statsmodels RegressionResults
        The fitted OLS model (for ``model.summary()``).
    """

    summary: pd.DataFrame
    means: pd.DataFrame
    model: object


def diff_in_diff(
    df: pd.DataFrame,
    outcome_col: str,
    treated_col: str,
    change_date: object | None = None,
    *,
    time_col: str = "period",
    post_col: str | None = None,
    unit_col: str | None = "store_id",
    cluster_col: str | None = None,
    fixed_effects: bool = False,
    alpha: float = 0.05,
) -> DiDResult:
    """Difference-in-differences estimate of a programme's effect.

    Fits ``outcome ~ treated + post + treated:post`` by OLS (or, with
    ``fixed_effects=True``, ``outcome ~ treated:post + C(unit) + C(period)``,
    the two-way fixed-effects form that absorbs store levels and common
    period shocks).  The coefficient of ``treated:post`` is the effect.

    Parameters
    ----------
    df : DataFrame
        One row per unit and period.  Not modified.
    outcome_col : str
        Outcome column.
    treated_col : str
        1/True for units that got the programme (the whole time, before and after).
    change_date : date-like, optional
        Start of the programme; rows with ``time_col >= change_date`` are
        "after".  Or pass ``post_col``.
    time_col, post_col : str
        Period column; 0/1 column marking "after".
    unit_col : str or None, default "store_id"
        Unit identifier (used for fixed effects and as default cluster).
    cluster_col : str, optional
        Cluster for robust standard errors; defaults to ``unit_col``.  With
        no unit at all, heteroscedasticity-robust (HC1) errors are used.
        Inference uses a t distribution with (clusters - 1) degrees of
        freedom; clustered errors with fewer than ~20 clusters are optimistic.
    fixed_effects : bool, default False
        Use unit and period fixed effects (needs ``unit_col`` and ``time_col``).
    alpha : float, default 0.05

    Returns
    -------
    DiDResult
        ``summary``, 2x2 ``means`` and the fitted ``model``.
        When the effect's standard error cannot be estimated (too few units,
        or every unit changed by exactly the same amount), the effect is
        still given, ``std_error``, the interval and ``p_value`` are NaN,
        and a :class:`StandardErrorWarning` says why.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({
    ...     "store_id": ["t1", "t1", "t2", "t2", "c1", "c1", "c2", "c2"],
    ...     "treated":  [1, 1, 1, 1, 0, 0, 0, 0],
    ...     "period": pd.to_datetime(["2024-01-01", "2024-03-01"] * 4),
    ...     "rate": [0.20, 0.30, 0.22, 0.33, 0.25, 0.29, 0.27, 0.31]})
    >>> res = diff_in_diff(d, "rate", "treated", change_date="2024-02-01")
    >>> res.summary[["effect", "std_error", "n_clusters"]].round(4)
       effect  std_error  n_clusters
    0   0.065     0.0054           4
    >>> res.means.round(3)
                       before  after  change
    control              0.26  0.300   0.040
    treated              0.21  0.315   0.105
    treated - control   -0.05  0.015   0.065
    """
    require_dataframe(df, "data")
    require_columns(df, [outcome_col, treated_col], "data")
    require_numeric(df, outcome_col, "data")
    treated = _binary(df, treated_col)
    post = _post_flag(df, time_col, change_date, post_col)
    data = pd.DataFrame(
        {"y": df[outcome_col].to_numpy(dtype="float64"), "treated": treated, "post": post}
    )
    cells = data.groupby(["treated", "post"])["y"].agg(["mean", "size"])
    names = {0: "control", 1: "treated"}
    for t in (0, 1):
        for p in (0, 1):
            if (t, p) not in cells.index:
                raise WorkbookInputError(
                    f"No rows for {names[t]} units {'after' if p else 'before'} the change; "
                    "difference-in-differences needs treated and control units both before and after."
                )
    cluster_col = cluster_col if cluster_col is not None else unit_col
    clusters = _clusters(df, cluster_col) if cluster_col is not None else None
    if fixed_effects:
        if unit_col is None:
            raise WorkbookInputError("fixed_effects=True needs unit_col.")
        require_columns(df, [unit_col, time_col], "data")
        data["unit"] = df[unit_col].astype("object").to_numpy()
        data["time"] = df[time_col].astype("object").to_numpy()
        formula = "y ~ treated:post + C(unit) + C(time)"
    else:
        formula = "y ~ treated + post + treated:post"
    res = _fit_ols(data, formula, clusters)
    row = _effect_row(res, "treated:post", alpha)
    m = cells["mean"]
    counterfactual = m[(1, 0)] + (m[(0, 1)] - m[(0, 0)])
    row["counterfactual"] = float(counterfactual)
    row["relative_effect"] = row["effect"] / counterfactual if counterfactual else np.nan
    row["n_obs"] = int(len(data))
    row["n_clusters"] = int(pd.Series(clusters).nunique()) if clusters is not None else np.nan
    summary = pd.DataFrame([row])
    means = pd.DataFrame(
        {"before": [m[(0, 0)], m[(1, 0)]], "after": [m[(0, 1)], m[(1, 1)]]},
        index=["control", "treated"],
    )
    means["change"] = means["after"] - means["before"]
    means.loc["treated - control"] = means.loc["treated"] - means.loc["control"]
    return DiDResult(summary=summary, means=means, model=res)


@renamed_arguments(positional=("analysis_date",))
def repurchase_rate_by_period(
    transactions: pd.DataFrame,
    unit_col: str = "store_id",
    freq: str = "M",
    window_days: int | None = None,
    *,
    analysis_date: object | None = None,
    drop_incomplete: bool = True,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
) -> pd.DataFrame:
    """Repurchase rate (复购率) per unit (store) and calendar period.

    Two definitions:

    * ``window_days=None`` (the usual retail report): among members who bought
      at the unit in the period, the share who bought there on **two or more
      different days** in that period.
    * ``window_days=N``: among members who bought at the unit in the period,
      the share who came back to the unit on a later day within ``N`` days of
      their first purchase of the period (same length of follow-up for every
      period, so months of different length compare fairly).

    Purchases exclude returns and walk-ins; transactions at or after the
    analysis date are ignored.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    unit_col : str, default "store_id"
        Unit of analysis (store, city, channel...).
    freq : {"M", "W"}
        Calendar months or weeks (Monday-Sunday).
    window_days : int, optional
        Follow-up window of the second definition.
    analysis_date : date-like, optional
        Default: midnight after the last transaction day.
    drop_incomplete : bool, default True
        Drop periods not fully observed (period end, plus ``window_days``,
        after the analysis date): their rate would be biased downwards.

    Returns
    -------
    DataFrame
        Columns ``unit_col``, ``period`` (first day), ``n_buyers``,
        ``n_repurchasers``, ``repurchase_rate``, ``n_purchases``, ``sales``
        (purchase amount), ``complete`` (bool); sorted by unit and period.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "b", "b", "c"],
    ...     "store_id": ["s1"] * 5,
    ...     "timestamp": pd.to_datetime(["2024-01-03 09:00", "2024-01-20 11:00", "2024-01-05 10:00",
    ...                                  "2024-01-05 18:00", "2024-02-29 12:00"]),
    ...     "amount": [10.0, 12.0, 5.0, 6.0, 9.0]})
    >>> repurchase_rate_by_period(tx)[["period", "n_buyers", "n_repurchasers", "repurchase_rate"]]
          period  n_buyers  n_repurchasers  repurchase_rate
    0 2024-01-01         2               1              0.5
    1 2024-02-01         1               0              0.0
    """
    require_dataframe(transactions, "transactions")
    require_columns(transactions, [member_col, unit_col, time_col, amount_col], "transactions")
    require_datetime(transactions, time_col, "transactions")
    require_numeric(transactions, amount_col, "transactions")
    require_choice(freq, list(PERIOD_FREQ), "freq")
    window_days = require_whole(window_days, "window_days", allow_none=True)
    rows, date = purchases(transactions, analysis_date=analysis_date, member_col=member_col, time_col=time_col,
                           amount_col=amount_col, return_col=return_col, columns=[unit_col])
    missing_unit = rows[unit_col].isna()
    if missing_unit.any():
        raise WorkbookInputError(
            f"Column {unit_col!r} is missing for member purchases at "
            f"{format_rows(rows.index[missing_unit])}."
        )
    periods = rows["ts"].dt.to_period(PERIOD_FREQ[freq])
    tx = pd.DataFrame(
        {
            "unit": column_values(rows[unit_col]),
            "member": column_values(rows["member_id"]),
            "ts": rows["ts"].to_numpy(),
            "day": rows["ts"].dt.normalize().to_numpy(),
            "amount": rows["amount"].to_numpy(dtype="float64"),
            "period": periods.dt.start_time.to_numpy(),
            "period_end": (periods + 1).dt.start_time.to_numpy(),
        }
    )
    keys = ["unit", "period"]
    base = tx.groupby(keys, sort=True).agg(
        n_purchases=("amount", "size"), sales=("amount", "sum"), period_end=("period_end", "first")
    )
    # One row per unit, member and purchase day.
    days = tx.drop_duplicates(["unit", "member", "day"]).sort_values(["unit", "member", "day"])
    if window_days is None:
        per_member = days.groupby(["unit", "period", "member"], sort=False).size()
        repurchased = (per_member >= 2).rename("rep").reset_index()
        follow_up = pd.Timedelta(0)
    else:
        next_day = days.groupby(["unit", "member"], sort=False)["day"].shift(-1)
        days = days.assign(rep=(next_day - days["day"]) <= window_days * DAY)
        first = days.drop_duplicates(["unit", "period", "member"], keep="first")
        repurchased = first[["unit", "period", "member", "rep"]]
        follow_up = window_days * DAY
    counts = repurchased.groupby(keys, sort=True)["rep"].agg(["size", "sum"])
    out = base.join(counts).reset_index()
    out = out.rename(columns={"unit": unit_col, "size": "n_buyers", "sum": "n_repurchasers"})
    out["n_buyers"] = out["n_buyers"].astype("int64")
    out["n_repurchasers"] = out["n_repurchasers"].astype("int64")
    out["repurchase_rate"] = out["n_repurchasers"] / out["n_buyers"]
    out["complete"] = (out["period_end"] + follow_up <= date).to_numpy()
    if drop_incomplete:
        out = out.loc[out["complete"]].reset_index(drop=True)
    cols = [unit_col, "period", "n_buyers", "n_repurchasers", "repurchase_rate", "n_purchases",
            "sales", "complete"]
    out = out[cols]
    out.attrs.update(analysis_date=date, freq=freq, window_days=window_days)
    return out


def parallel_trends_table(
    df: pd.DataFrame,
    outcome_col: str,
    treated_col: str,
    change_date: object | None = None,
    *,
    time_col: str = "period",
) -> pd.DataFrame:
    """Mean outcome per period for treated and control units.

    Before the change the two lines should move in parallel (constant
    ``difference``); that is the assumption DiD rests on.

    Returns
    -------
    DataFrame
        Index ``time_col``; columns ``control``, ``treated``, ``difference``
        (treated - control) and, with ``change_date``, ``post`` (bool).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"period": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", "2024-02-01"]),
    ...                   "treated": [1, 0, 1, 0], "rate": [0.3, 0.2, 0.35, 0.25]})
    >>> parallel_trends_table(d, "rate", "treated")["difference"].round(2).tolist()
    [0.1, 0.1]
    """
    require_dataframe(df, "data")
    require_columns(df, [time_col, outcome_col, treated_col], "data")
    require_numeric(df, outcome_col, "data")
    treated = _binary(df, treated_col)
    table = (
        pd.DataFrame({"time": df[time_col].to_numpy(), "treated": treated,
                      "y": df[outcome_col].to_numpy(dtype="float64")})
        .pivot_table(index="time", columns="treated", values="y", aggfunc="mean")
        .reindex(columns=[0, 1])
    )
    table.columns = ["control", "treated"]
    table.index.name = time_col
    table["difference"] = table["treated"] - table["control"]
    if change_date is not None:
        table["post"] = table.index >= pd.Timestamp(change_date)
    return table


def pre_trend_test(
    df: pd.DataFrame,
    outcome_col: str,
    treated_col: str,
    change_date: object,
    *,
    time_col: str = "period",
    unit_col: str | None = "store_id",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Test for different linear trends of treated and control units *before* the change.

    Fits ``outcome ~ treated * t`` on the pre-change rows, ``t`` = period
    number (0, 1, 2, ... over the distinct periods), with errors clustered by
    unit.  A clear slope difference warns that DiD may be biased; a
    non-significant one does not prove parallel trends (few periods = low power).

    Returns
    -------
    DataFrame
        One row: ``slope_difference`` (per period), ``std_error``,
        ``ci_lower``, ``ci_upper``, ``p_value``, ``n_pre_periods``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"store_id": ["t", "c"] * 3, "treated": [1, 0] * 3,
    ...                   "period": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 2
    ...                                            + ["2024-03-01"] * 2),
    ...                   "rate": [0.30, 0.20, 0.34, 0.22, 0.38, 0.24]})
    >>> round(float(pre_trend_test(d, "rate", "treated", "2024-06-01", unit_col=None)
    ...             ["slope_difference"].iloc[0]), 3)
    0.02
    """
    require_dataframe(df, "data")
    require_columns(df, [outcome_col, treated_col, time_col], "data")
    require_numeric(df, outcome_col, "data")
    post = _post_flag(df, time_col, change_date, None)
    pre = df.loc[post == 0]
    n_periods = pre[time_col].nunique()
    if n_periods < 3:
        raise WorkbookInputError(
            f"Only {n_periods} period(s) before the change; a trend comparison needs at least 3."
        )
    t = pd.factorize(pre[time_col], sort=True)[0]
    data = pd.DataFrame({"y": pre[outcome_col].to_numpy(dtype="float64"),
                         "treated": _binary(pre, treated_col), "t": t})
    clusters = _clusters(pre, unit_col) if unit_col is not None else None
    res = _fit_ols(data, "y ~ treated * t", clusters)
    row = _effect_row(res, "treated:t", alpha, ("the difference of the pre-trend slopes", "改动前趋势斜率之差"))
    row["slope_difference"] = row.pop("effect")
    row["n_pre_periods"] = int(n_periods)
    return pd.DataFrame([row])[["slope_difference", "std_error", "ci_lower", "ci_upper",
                                "p_value", "n_pre_periods"]]
