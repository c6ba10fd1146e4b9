"""Churn in non-contractual retail: labels, features, a time-based split and a model.

A retail member never "cancels"; churn has to be *defined* from behaviour.  The
definition used here (and in notebook 05) is:

* At a **cutoff** date a member is *active* if they bought in the
  ``active_window_days`` before the cutoff (default 365; ``None`` = any purchase
  before the cutoff).
* The member **churned** if they make no purchase in the ``horizon_days`` from the
  cutoff, i.e. in the half-open window ``[cutoff, cutoff + horizon_days)``.

The window starts *at* the cutoff because features, like every metric of the
package (see :mod:`workbook.aggregate`), ignore transactions at or after the
cutoff: a purchase at exactly midnight of the cutoff day is therefore future,
so each transaction is on exactly one side of the cutoff.

Features are computed from transactions strictly before the cutoff only, and
:func:`time_split` builds the training set at an earlier cutoff whose label
window ends no later than the test cutoff, so the model never learns from
outcomes that would be unknown when it is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.calibration import calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from workbook.aggregate import member_summary
from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.ids import ids_in
from workbook.transactions import DAY, purchases
from workbook.validation import (
    format_rows,
    require_choice,
    require_columns,
    require_dataframe,
    require_datetime,
    require_fitted,
    require_numeric,
    require_whole,
    resolve_analysis_date,
)

__all__ = [
    "ChurnModel",
    "ChurnSplit",
    "calibration_table",
    "churn_features",
    "churn_labels",
    "churn_metrics",
    "select_for_retention",
    "time_split",
]

#: Trailing windows (days before the cutoff) of the behaviour features.
FEATURE_WINDOWS_DAYS = (30, 90, 180)
#: Member attributes one-hot encoded by default when present.  ``tier`` is left
#: out on purpose: the data contract records the tier at the *end* of the data
#: period, which would leak the future into features at an earlier cutoff.
DEFAULT_CATEGORICAL_COLS = ("acquisition_channel", "gender")


def _resolve_cutoff(transactions: pd.DataFrame, cutoff: object, time_col: str) -> pd.Timestamp:
    require_dataframe(transactions, "transactions")
    require_columns(transactions, [time_col], "transactions")
    require_datetime(transactions, time_col, "transactions")
    if cutoff is None:
        raise WorkbookInputError(
            "analysis_date is required: the date (cutoff) at which churn is predicted.",
            message_zh="需要给出 analysis_date：预测流失的截点日期。",
        )
    return resolve_analysis_date(transactions[time_col], analysis_date=cutoff, name="analysis_date (cutoff)")


def _date_first(date_name: str, then: tuple[str, ...]):
    """Recognise the old call ``f(transactions, cutoff, *then)``: the second value is not a table."""

    def legacy(args: tuple, kwargs: dict) -> tuple[tuple, dict] | None:
        if len(args) >= 2 and args[1] is not None and not isinstance(args[1], pd.DataFrame):
            return args[:1], {**kwargs, date_name: args[1], **dict(zip(then, args[2:]))}
        return None

    return legacy


def _active_members(summary: pd.DataFrame, active_window_days: int | None) -> pd.Index:
    """Members of ``member_summary`` output who bought in the active window."""
    if active_window_days is None:
        return summary.index
    return summary.index[summary["n_purchases_window"].to_numpy() > 0]


@renamed_arguments(positional=("analysis_date", "horizon_days"), cutoff="analysis_date")
def churn_labels(
    transactions: pd.DataFrame,
    *,
    analysis_date: object = None,
    horizon_days: int = 90,
    active_window_days: int | None = 365,
    observed_until: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
) -> pd.DataFrame:
    """Churn label for every member active at the cutoff.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions (data contract).  Not modified.
    analysis_date : date-like
        Prediction date (the cutoff).  Members are active if they bought in the
        ``active_window_days`` before it.
    horizon_days : int, default 90
        Length of the outcome window ``[cutoff, cutoff + horizon_days)``.
    active_window_days : int or None, default 365
        Trailing window that defines "active"; ``None`` keeps every member who
        ever bought before the cutoff.
    observed_until : date-like, optional
        End of the data period (exclusive).  Defaults to midnight after the last
        transaction day.  The outcome window must end by then, otherwise members
        would be labelled churned only because the data stops.
    member_col, time_col, amount_col, return_col : str
        Column names (``return_col`` may be absent: negative amounts are returns).

    Returns
    -------
    DataFrame
        Indexed by ``member_id`` (sorted): ``n_purchases_horizon`` (purchases
        in the outcome window) and ``churned`` (bool, no purchase in it).
        ``attrs`` holds ``cutoff`` and ``horizon_days``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20", "2024-04-20"]),
    ...     "amount": [10.0, 20.0, 5.0, 8.0]})
    >>> churn_labels(tx, analysis_date="2024-02-01", horizon_days=60)  # doctest: +NORMALIZE_WHITESPACE
               n_purchases_horizon  churned
    member_id
    a                            1    False
    b                            0     True
    """
    horizon_days = require_whole(horizon_days, "horizon_days", unit="days")
    if active_window_days is not None:
        active_window_days = require_whole(active_window_days, "active_window_days", unit="days")
    cutoff_ts = _resolve_cutoff(transactions, analysis_date, time_col)
    end = cutoff_ts + horizon_days * DAY
    data_end = resolve_analysis_date(transactions[time_col], analysis_date=observed_until, name="observed_until")
    if end > data_end:
        raise WorkbookInputError(
            f"The outcome window [{cutoff_ts.date()}, {end.date()}) ends after the data "
            f"(observed until {data_end}); members would look churned only because the "
            f"data stops. Choose a cutoff on or before {(data_end - horizon_days * DAY).date()} "
            "or a shorter horizon_days."
        )
    cols = dict(member_col=member_col, time_col=time_col, amount_col=amount_col, return_col=return_col)
    before = member_summary(
        transactions, analysis_date=cutoff_ts, window_days=active_window_days or 1, **cols
    )
    active = _active_members(before, active_window_days)
    # Purchases in [cutoff, end): n_purchases_window of the summary at ``end``,
    # so that "purchase" has the one definition of workbook.aggregate.
    after = member_summary(transactions, analysis_date=end, window_days=horizon_days, **cols)
    n_future = after["n_purchases_window"].reindex(active, fill_value=0).astype("int64")
    out = pd.DataFrame({"n_purchases_horizon": n_future, "churned": n_future.to_numpy() == 0})
    out.index.name = "member_id"
    out.attrs.update(cutoff=cutoff_ts, horizon_days=horizon_days)
    return out


def _member_attributes(
    members: pd.DataFrame,
    index: pd.Index,
    cutoff: pd.Timestamp,
    member_col: str,
    join_col: str,
    birth_col: str,
    categorical_cols: Sequence[str] | None,
) -> pd.DataFrame:
    require_dataframe(members, "members")
    require_columns(members, [member_col], "members")
    dup = members[member_col].duplicated()
    if dup.any():
        raise WorkbookInputError(
            f"members has duplicated {member_col!r} values at {format_rows(members.index[dup])}, "
            f"e.g. {members.loc[dup, member_col].iloc[0]!r}; keep one row per member."
        )
    if categorical_cols is None:
        categorical_cols = [c for c in DEFAULT_CATEGORICAL_COLS if c in members.columns]
    else:
        require_columns(members, list(categorical_cols), "members")
    m = members.set_index(member_col)
    out = pd.DataFrame(index=index)
    for col, name in ((join_col, "membership_days"), (birth_col, "age_years")):
        if col in m.columns:
            if not pd.api.types.is_datetime64_any_dtype(m[col]):
                raise WorkbookInputError(
                    f"Column {col!r} of members must hold dates (datetime64), got dtype "
                    f"{m[col].dtype}; parse it with pd.to_datetime first."
                )
            dates = m[col].reindex(index)
            days = (cutoff - dates) / DAY
            out[name] = np.floor(days / 365.25) if name == "age_years" else np.floor(days)
    for col in categorical_cols:
        # Categories from the whole members frame, so every cutoff gets the same columns.
        cats = sorted(pd.unique(m[col].dropna()), key=str)
        values = pd.Categorical(m[col].reindex(index), categories=cats)
        dummies = pd.get_dummies(values, prefix=col, dtype="float64")
        dummies.index = index
        out = out.join(dummies)
    return out


@renamed_arguments(
    legacy_call=_date_first("analysis_date", ("members",)),
    legacy_hint="pass churn_features(transactions, members, analysis_date=...)",
    cutoff="analysis_date",
)
def churn_features(
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    *,
    analysis_date: object = None,
    active_window_days: int | None = 365,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    channel_col: str | None = "channel",
    discount_col: str | None = "discount",
    join_col: str = "join_date",
    birth_col: str = "birth_date",
    categorical_cols: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Feature matrix at a cutoff, built only from data strictly before it.

    RFM columns come from :func:`workbook.aggregate.member_summary` with
    ``analysis_date=cutoff``; behaviour columns are added:

    * ``purchases_{30,90,180}d`` and ``spend_{30,90,180}d``: purchases and net
      spend in the trailing windows before the cutoff;
    * ``purchase_trend_90d``: purchases in the last 90 days minus purchases in
      the 90 days before those (negative = slowing down);
    * ``mean_interpurchase_days``: ``(last - first purchase) / (n_purchases - 1)``
      in days, ``NaN`` for one-time buyers;
    * ``share_online`` (purchases with ``channel == "online"``), ``discount_share``
      (discount / (amount + discount) over purchases), when those columns exist;
    * with ``members``: ``membership_days`` (since ``join_date``), ``age_years`` and
      one-hot columns of ``categorical_cols`` (default ``acquisition_channel`` and
      ``gender`` when present; ``tier`` is excluded as it is recorded at the end
      of the data period and would leak the future).

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    analysis_date : date-like
        Prediction date; transactions at or after it are ignored.
    members : DataFrame, optional
        Member master data, one row per member.
    active_window_days : int or None, default 365
        Rows are the members who bought in this window before the cutoff (the
        same members as :func:`churn_labels` with the same argument).
    member_col, time_col, amount_col, return_col, channel_col, discount_col, join_col, birth_col : str
        Column names; ``channel_col``/``discount_col`` may be absent or ``None``.
    categorical_cols : sequence of str, optional
        Member columns to one-hot encode.

    Returns
    -------
    DataFrame
        Numeric (float64) features indexed by ``member_id``; ``attrs["cutoff"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2023-11-01", "2024-01-05", "2024-01-25", "2024-01-20"]),
    ...     "amount": [30.0, 10.0, 20.0, 5.0],
    ...     "channel": ["offline", "online", "offline", "offline"]})
    >>> X = churn_features(tx, analysis_date="2024-02-01")
    >>> X[["recency_days", "purchases_30d", "purchases_90d", "share_online"]]  # doctest: +NORMALIZE_WHITESPACE
               recency_days  purchases_30d  purchases_90d  share_online
    member_id
    a                   7.0            2.0            2.0      0.333333
    b                  12.0            1.0            1.0      0.000000
    """
    if active_window_days is not None:
        active_window_days = require_whole(active_window_days, "active_window_days", unit="days")
    cutoff_ts = _resolve_cutoff(transactions, analysis_date, time_col)
    summary = member_summary(
        transactions,
        analysis_date=cutoff_ts,
        member_col=member_col,
        time_col=time_col,
        amount_col=amount_col,
        return_col=return_col,
        window_days=active_window_days or 1,
    )
    index = _active_members(summary, active_window_days)
    summary = summary.loc[index]
    feats = pd.DataFrame(index=index)
    for col in ("recency_days", "tenure_days", "n_purchases", "n_purchase_days", "n_returns",
                "monetary_total", "monetary_avg"):
        feats[col] = summary[col].astype("float64")
    span_days = (summary["last_purchase"] - summary["first_purchase"]) / DAY
    n_gaps = summary["n_purchases"].astype("float64") - 1.0
    feats["mean_interpurchase_days"] = (span_days / n_gaps.where(n_gaps > 0)).astype("float64")

    channel_col = channel_col if channel_col and channel_col in transactions.columns else None
    discount_col = discount_col if discount_col and discount_col in transactions.columns else None
    if discount_col:
        require_numeric(transactions.fillna({discount_col: 0.0}), discount_col, "transactions")
    extra = [c for c in (channel_col, discount_col) if c is not None]
    tx, _ = purchases(transactions, analysis_date=cutoff_ts, member_col=member_col, time_col=time_col,
                      amount_col=amount_col, return_col=return_col, include_returns=True, columns=extra)
    tx = tx.loc[ids_in(tx["member_id"], index)]
    buy = ~tx["is_return"].to_numpy()
    amount = tx["amount"].to_numpy(dtype="float64")
    ts = tx["ts"]
    parts = {}
    for w in FEATURE_WINDOWS_DAYS:
        in_w = (ts >= cutoff_ts - w * DAY).to_numpy()
        parts[f"purchases_{w}d"] = (buy & in_w).astype("float64")
        parts[f"spend_{w}d"] = np.where(in_w, amount, 0.0)
    prev_90 = ((ts >= cutoff_ts - 180 * DAY) & (ts < cutoff_ts - 90 * DAY)).to_numpy()
    parts["_prev_90"] = (buy & prev_90).astype("float64")
    parts["_buys"] = buy.astype("float64")
    if channel_col:
        online = tx[channel_col].astype("object").eq("online").to_numpy()
        parts["_online"] = (buy & online).astype("float64")
    if discount_col:
        disc = tx[discount_col].fillna(0.0).to_numpy(dtype="float64")
        parts["_disc"] = np.where(buy, disc, 0.0)
        parts["_gross"] = np.where(buy, amount + disc, 0.0)
    sums = (
        pd.DataFrame(parts, index=tx.index)
        .groupby(tx["member_id"].to_numpy(), sort=True)
        .sum()
        .reindex(index, fill_value=0.0)
    )
    for w in FEATURE_WINDOWS_DAYS:
        feats[f"purchases_{w}d"] = sums[f"purchases_{w}d"]
        feats[f"spend_{w}d"] = sums[f"spend_{w}d"]
    feats["purchase_trend_90d"] = sums["purchases_90d"] - sums["_prev_90"]
    if channel_col:
        feats["share_online"] = sums["_online"] / sums["_buys"]
    if discount_col:
        gross = sums["_gross"].where(sums["_gross"] > 0)
        feats["discount_share"] = (sums["_disc"] / gross).fillna(0.0)
    if members is not None:
        attrs = _member_attributes(
            members, index, cutoff_ts, member_col, join_col, birth_col, categorical_cols
        )
        feats = feats.join(attrs)
    feats = feats.astype("float64")
    feats.index.name = "member_id"
    feats.attrs["cutoff"] = cutoff_ts
    return feats


class ChurnSplit(NamedTuple):
    """Train and test sets of :func:`time_split`."""

    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series


@renamed_arguments(
    legacy_call=_date_first("analysis_dates", ("horizon_days", "members")),
    legacy_hint="pass time_split(transactions, members, analysis_dates=(train, test), horizon_days=...)",
    cutoffs="analysis_dates",
)
def time_split(
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    *,
    analysis_dates: tuple[object, object] = None,
    horizon_days: int = 90,
    active_window_days: int | None = 365,
    observed_until: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    **feature_kwargs: object,
) -> ChurnSplit:
    """Out-of-time train/test split without leakage.

    The training set has features at ``train_cutoff`` and labels from
    ``[train_cutoff, train_cutoff + horizon_days)``; the test set the same at
    ``test_cutoff``.  **Rule:** the training label window must end no later than
    the test cutoff (``train_cutoff + horizon_days <= test_cutoff``), which is
    exactly the situation in production: on the day you score members, only
    outcomes up to that day are known.  A member may appear in both sets (at two
    different dates), as in deployment.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    analysis_dates : (train_cutoff, test_cutoff)
        The two prediction dates.
    horizon_days : int, default 90
        Outcome window length.
    members : DataFrame, optional
        Member master data for :func:`churn_features`.
    active_window_days, observed_until
        See :func:`churn_labels`.
    **feature_kwargs
        Further column-name arguments of :func:`churn_features`.

    Returns
    -------
    ChurnSplit
        ``X_train, y_train, X_test, y_test``; ``y`` are 0/1 int Series named
        ``churned`` aligned with ``X``; test columns equal train columns.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "b", "a", "b"],
    ...     "timestamp": pd.to_datetime(
    ...         ["2024-01-05", "2024-02-10", "2024-01-20", "2024-04-02", "2024-05-01"]),
    ...     "amount": [10.0, 20.0, 5.0, 7.0, 9.0]})
    >>> split = time_split(tx, analysis_dates=("2024-02-01", "2024-03-01"), horizon_days=28)
    >>> split.y_train.to_dict(), split.y_test.to_dict()
    ({'a': 0, 'b': 1}, {'a': 1, 'b': 1})
    """
    cutoffs = analysis_dates
    if not isinstance(cutoffs, (tuple, list)) or len(cutoffs) != 2:
        raise WorkbookInputError(
            f"analysis_dates must be a pair (train_cutoff, test_cutoff), got {cutoffs!r}."
        )
    horizon_days = require_whole(horizon_days, "horizon_days", unit="days")
    train_cut = _resolve_cutoff(transactions, cutoffs[0], time_col)
    test_cut = _resolve_cutoff(transactions, cutoffs[1], time_col)
    if train_cut + horizon_days * DAY > test_cut:
        raise WorkbookInputError(
            f"Leakage: the training labels look at [{train_cut.date()}, "
            f"{(train_cut + horizon_days * DAY).date()}), past the test cutoff {test_cut.date()}. "
            f"Use a train cutoff on or before {(test_cut - horizon_days * DAY).date()}."
        )
    cols = dict(member_col=member_col, time_col=time_col, amount_col=amount_col, return_col=return_col)
    out = []
    for cut in (train_cut, test_cut):
        y = churn_labels(
            transactions, analysis_date=cut, horizon_days=horizon_days, active_window_days=active_window_days,
            observed_until=observed_until, **cols,
        )["churned"].astype("int64")
        X = churn_features(
            transactions, members, analysis_date=cut, active_window_days=active_window_days,
            **cols, **feature_kwargs,
        )
        out.append((X, y.reindex(X.index)))
    (X_train, y_train), (X_test, y_test) = out
    X_test = X_test.reindex(columns=X_train.columns, fill_value=0.0)
    return ChurnSplit(X_train, y_train, X_test, y_test)


def _check_binary(y: object, name: str = "y") -> np.ndarray:
    s = pd.Series(y)
    bad = s.isna() | ~s.isin([0, 1])
    if bad.any():
        raise WorkbookInputError(
            f"{name} must be 0/1 (or bool) churn labels; bad values at {format_rows(s.index[bad])}, "
            f"e.g. {s[bad].iloc[0]!r}."
        )
    return s.to_numpy(dtype="int64")


def _check_scores(scores: object, name: str = "scores") -> np.ndarray:
    s = pd.Series(scores)
    p = pd.to_numeric(s.astype("object"), errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        raise WorkbookInputError(
            f"{name} must be probabilities in [0, 1]; bad values at "
            f"{format_rows(s.index[bad])}, e.g. {s[bad].iloc[0]!r}."
        )
    return p


def aligned_labels_scores(y_true: object, scores: object) -> tuple[np.ndarray, np.ndarray]:
    """Validated 0/1 labels and scores as aligned arrays (same length, same index if Series).

    Shared by the metrics here and the plots in :mod:`workbook.plotting.churn`.

    Examples
    --------
    >>> aligned_labels_scores([0, 1], [0.2, 0.9])
    (array([0, 1]), array([0.2, 0.9]))
    """
    y = _check_binary(y_true, "y_true")
    p = _check_scores(scores)
    if len(y) != len(p):
        raise WorkbookInputError(f"y_true has {len(y)} rows but scores has {len(p)}.")
    if isinstance(y_true, pd.Series) and isinstance(scores, pd.Series):
        if not y_true.index.equals(scores.index):
            raise WorkbookInputError(
                "y_true and scores have different indexes; align them, e.g. "
                "scores.reindex(y_true.index)."
            )
    return y, p


def churn_metrics(y_true: object, scores: object, name: str = "model") -> pd.DataFrame:
    """Discrimination and calibration metrics of churn probabilities.

    Works for any score in [0, 1], e.g. ``1 - P(alive)`` from BG/NBD, so
    models can be compared on the same test set.

    Parameters
    ----------
    y_true : array-like of 0/1
        Observed churn.
    scores : array-like of float in [0, 1]
        Predicted churn probabilities.
    name : str
        Row label of the result.

    Returns
    -------
    DataFrame
        One row (index ``name``): ``n``, ``base_rate`` (share churned),
        ``roc_auc``, ``average_precision`` (area under the precision-recall
        curve; compare with ``base_rate``), ``brier_score`` and ``log_loss``
        (lower is better), all from :mod:`sklearn.metrics`.

    Examples
    --------
    >>> churn_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])[["roc_auc", "base_rate"]]
           roc_auc  base_rate
    model     0.75        0.5
    """
    y, p = aligned_labels_scores(y_true, scores)
    if np.unique(y).size < 2:
        raise WorkbookInputError(
            "y_true holds only one class; AUC and average precision need churned and "
            "retained members. Use a longer horizon or more members."
        )
    row = {
        "n": len(y),
        "base_rate": float(y.mean()),
        "roc_auc": roc_auc_score(y, p),
        "average_precision": average_precision_score(y, p),
        "brier_score": brier_score_loss(y, p),
        "log_loss": log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1]),
    }
    return pd.DataFrame([row], index=[name])


def _check_X(X: object, name: str = "X") -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise WorkbookInputError(f"{name} must be a DataFrame of features, got {type(X).__name__}.")
    require_dataframe(X, name)
    non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if non_numeric:
        raise WorkbookInputError(
            f"{name} has non-numeric column(s) {non_numeric}; one-hot encode them first "
            "(churn_features does this for member attributes)."
        )
    return X


class ChurnModel(BaseEstimator):
    """A thin, seeded wrapper around a scikit-learn churn classifier.

    Follows the scikit-learn estimator contract: parameters are stored as given
    in ``__init__`` and checked in :meth:`fit`, so :func:`sklearn.base.clone`
    and ``get_params`` work.

    Parameters
    ----------
    kind : {"hgb", "logistic"}, default "hgb"
        ``"hgb"``: :class:`~sklearn.ensemble.HistGradientBoostingClassifier`
        (handles missing values and non-linear effects); ``"logistic"``: median
        imputation, standardisation and
        :class:`~sklearn.linear_model.LogisticRegression` (coefficients readable).
    random_state : int, default 0
        ``random_state`` of the estimator (the old name ``seed=`` still works
        for one release, with a FutureWarning).
    n_threads : int or None, default 1
        OpenMP/BLAS threads used while fitting and predicting (``None``: all
        cores).  One thread is fast at the size of a store's member base and
        avoids the severe slow-down of oversubscribed cores when notebooks or
        tests run in parallel.
    model_params : dict, optional
        Passed to the estimator (e.g. ``{"max_iter": 200}``, ``{"C": 0.5}``).

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted pipeline.
    feature_names_ : list of str
        Columns seen in :meth:`fit`; later ``X`` is reordered to them.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"recency_days": rng.integers(0, 365, 400).astype(float)})
    >>> y = (rng.random(400) < X["recency_days"] / 365).astype(int)
    >>> model = ChurnModel("logistic", random_state=0).fit(X, y)
    >>> bool(model.evaluate(X, y)["roc_auc"].iloc[0] > 0.7)
    True
    >>> from sklearn.base import clone
    >>> clone(model).get_params()["random_state"]
    0
    """

    @renamed_arguments(seed="random_state")
    def __init__(
        self,
        kind: str = "hgb",
        *,
        random_state: int | None = 0,
        n_threads: int | None = 1,
        model_params: dict | None = None,
    ) -> None:
        self.kind = kind
        self.random_state = random_state
        self.n_threads = n_threads
        self.model_params = model_params

    def _threads(self) -> threadpool_limits:
        return threadpool_limits(limits=self.n_threads)

    def _make_pipeline(self) -> Pipeline:
        require_choice(self.kind, ["hgb", "logistic"], "kind")
        if self.model_params is not None and not isinstance(self.model_params, dict):
            raise WorkbookInputError(f"model_params must be a dict, got {type(self.model_params).__name__}.")
        extra = dict(self.model_params or {})
        if self.kind == "hgb":
            return Pipeline([("model", HistGradientBoostingClassifier(random_state=self.random_state, **extra))])
        params = {"max_iter": 1000, **extra}
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="median")),
                ("scale", StandardScaler()),
                ("model", LogisticRegression(random_state=self.random_state, **params)),
            ]
        )

    def _prepare(self, X: object) -> pd.DataFrame:
        X = _check_X(X)
        missing = [c for c in self.feature_names_ if c not in X.columns]
        if missing:
            raise WorkbookInputError(
                f"X lacks feature column(s) {missing} that the model was fitted on."
            )
        return X[self.feature_names_]

    def fit(self, X: pd.DataFrame, y: object) -> ChurnModel:
        """Fit on features ``X`` and 0/1 labels ``y`` (aligned by index if a Series)."""
        pipeline = self._make_pipeline()
        X = _check_X(X)
        if isinstance(y, pd.Series):
            if not y.index.equals(X.index):
                if set(y.index) != set(X.index):
                    raise WorkbookInputError(
                        "y and X index different members; build both with time_split "
                        "or align them first."
                    )
                y = y.reindex(X.index)
        y_arr = _check_binary(y, "y")
        if len(y_arr) != len(X):
            raise WorkbookInputError(f"X has {len(X)} rows but y has {len(y_arr)}.")
        if np.unique(y_arr).size < 2:
            raise WorkbookInputError("y holds only one class; the model needs churned and retained members.")
        self.feature_names_ = list(X.columns)
        with self._threads():
            self.pipeline_ = pipeline.fit(X, y_arr)
        return self

    def predict_proba(self, X: pd.DataFrame) -> pd.Series:
        """Churn probability per row of ``X``, a Series named ``p_churn``."""
        require_fitted(self, "pipeline_")
        Xp = self._prepare(X)
        with self._threads():
            p = self.pipeline_.predict_proba(Xp)[:, 1]
        return pd.Series(p, index=X.index, name="p_churn")

    def evaluate(self, X: pd.DataFrame, y: object, name: str | None = None) -> pd.DataFrame:
        """:func:`churn_metrics` of the model's probabilities on ``(X, y)``."""
        p = self.predict_proba(X)
        y_s = y.reindex(X.index) if isinstance(y, pd.Series) else pd.Series(np.asarray(y), index=X.index)
        return churn_metrics(y_s, p, name=name or self.kind)

    def feature_importance(
        self, X: pd.DataFrame, y: object, n_repeats: int = 5, scoring: str = "roc_auc"
    ) -> pd.DataFrame:
        """Permutation importance (drop in ``scoring`` when a column is shuffled), sorted."""
        require_fitted(self, "pipeline_")
        Xp = self._prepare(X)
        y_arr = _check_binary(y.reindex(X.index) if isinstance(y, pd.Series) else y, "y")
        with self._threads():
            r = permutation_importance(
                self.pipeline_, Xp, y_arr, n_repeats=n_repeats, random_state=self.random_state,
                scoring=scoring,
            )
        out = pd.DataFrame(
            {"importance": r.importances_mean, "std": r.importances_std},
            index=pd.Index(self.feature_names_, name="feature"),
        )
        return out.sort_values("importance", ascending=False)


def calibration_table(
    y_true: object, scores: object, n_bins: int = 10, strategy: str = "quantile"
) -> pd.DataFrame:
    """Predicted vs observed churn per probability bin (reliability table).

    Uses :func:`sklearn.calibration.calibration_curve`; empty bins are dropped.

    Parameters
    ----------
    y_true : array-like of 0/1
    scores : array-like of float in [0, 1]
    n_bins : int, default 10
    strategy : {"quantile", "uniform"}
        Equal-count bins or equal-width bins on [0, 1].

    Returns
    -------
    DataFrame
        ``mean_predicted``, ``observed_rate`` and ``n`` per non-empty bin, in
        increasing order of predicted probability.

    Examples
    --------
    >>> calibration_table([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2, strategy="uniform")
       mean_predicted  observed_rate  n
    0            0.15            0.0  2
    1            0.80            1.0  2
    """
    require_choice(strategy, ["quantile", "uniform"], "strategy")
    n_bins = require_whole(n_bins, "n_bins")
    y, p = aligned_labels_scores(y_true, scores)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    # Bin counts with the same edges and rule as calibration_curve.
    if strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 1, n_bins + 1) * 100)
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    # scikit-learn does not return the counts; rebuild its bins (its ``searchsorted``
    # side differs between versions, so use the side that reproduces its means).
    for side in ("left", "right"):
        ids = np.searchsorted(edges[1:-1], p, side=side)
        counts = np.bincount(ids, minlength=n_bins)
        sums = np.bincount(ids, weights=p, minlength=n_bins)
        nonzero = counts > 0
        if nonzero.sum() == len(prob_pred) and np.allclose(sums[nonzero] / counts[nonzero], prob_pred):
            break
    counts = counts[nonzero]
    return pd.DataFrame({"mean_predicted": prob_pred, "observed_rate": prob_true, "n": counts})


def select_for_retention(
    scores: pd.Series,
    value: pd.Series | float,
    budget: float,
    cost_per_contact: float,
    save_rate: float = 0.2,
) -> pd.DataFrame:
    """Choose whom to contact to maximise the expected saved value within a budget.

    For each member, expected saved value ``= p_churn * value * save_rate`` and
    expected net gain ``= expected saved value - cost_per_contact``.  Members are
    ranked by net gain (ties by member id) and taken in that order while the
    cumulative cost stays within the budget and the gain is positive.  With a
    constant cost per contact this greedy choice is optimal.

    Parameters
    ----------
    scores : Series
        Churn probabilities indexed by member id.
    value : Series or float
        Value at stake per member (e.g. expected CLV or next-year margin, CNY),
        indexed like ``scores``; a number applies to everyone.
    budget : float
        Money available for contacts (CNY).
    cost_per_contact : float
        Cost of one contact (coupon, call, gift; CNY), >= 0.
    save_rate : float, default 0.2
        Probability that a contacted would-be churner stays (the campaign's
        uplift; estimate it with an A/B test, see :mod:`workbook.experiments`).

    Returns
    -------
    DataFrame
        Every member, best first: ``rank`` (1 = first), ``p_churn``, ``value``,
        ``expected_saved_value``, ``expected_net_gain``, ``selected`` (bool),
        ``cumulative_cost``, ``cumulative_saved_value`` and ``cumulative_net_gain``
        (running totals in rank order, as if the first ``rank`` members were
        contacted).  ``attrs`` holds the arguments and the totals of the selection.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.Series({"a": 0.9, "b": 0.5, "c": 0.1})
    >>> v = pd.Series({"a": 100.0, "b": 400.0, "c": 1000.0})
    >>> sel = select_for_retention(p, v, budget=25, cost_per_contact=10, save_rate=0.5)
    >>> sel[["expected_net_gain", "selected", "cumulative_cost"]]  # doctest: +NORMALIZE_WHITESPACE
               expected_net_gain  selected  cumulative_cost
    member_id
    b                       90.0      True             10.0
    c                       40.0      True             20.0
    a                       35.0     False             30.0
    """
    if not isinstance(scores, pd.Series):
        raise WorkbookInputError(
            f"scores must be a pandas Series of churn probabilities indexed by member id, "
            f"got {type(scores).__name__}."
        )
    if scores.empty:
        raise WorkbookInputError("scores is empty: there is nobody to select.")
    if scores.index.has_duplicates:
        dup = scores.index[scores.index.duplicated()]
        raise WorkbookInputError(f"scores has duplicated member ids, e.g. {dup[0]!r}.")
    p = _check_scores(scores)
    if isinstance(value, pd.Series):
        missing = scores.index.difference(value.index)
        if len(missing):
            raise WorkbookInputError(
                f"value has no entry for {len(missing)} member(s) of scores, e.g. {missing[0]!r}."
            )
        v_s = value.reindex(scores.index)
        require_numeric(v_s.to_frame("value"), "value", "value")
        v = v_s.to_numpy(dtype="float64")
    else:
        try:
            v = np.full(len(p), float(value))
        except (TypeError, ValueError) as exc:
            raise WorkbookInputError(f"value must be a number or a Series, got {value!r}.") from exc
    for name, x, upper in (("budget", budget, np.inf), ("cost_per_contact", cost_per_contact, np.inf),
                           ("save_rate", save_rate, 1.0)):
        if isinstance(x, bool) or not isinstance(x, (int, float, np.number)) or not (0 <= x <= upper) or np.isnan(x):
            raise WorkbookInputError(f"{name} must be a number between 0 and {upper}, got {x!r}.")
    saved = p * v * save_rate
    net = saved - cost_per_contact
    out = pd.DataFrame(
        {"p_churn": p, "value": v, "expected_saved_value": saved, "expected_net_gain": net},
        index=pd.Index(scores.index, name="member_id"),
    )
    # Best first; ties broken by member id for determinism.
    tie_keys = out.index.astype(str)
    order = np.lexsort((tie_keys.to_numpy(), -net))
    out = out.iloc[order]
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    cum_cost = cost_per_contact * out["rank"].to_numpy(dtype="float64")
    # Budget-feasible prefix of positive-gain members (the gain decreases along the ranking).
    out["selected"] = (cum_cost <= budget + 1e-9) & (out["expected_net_gain"].to_numpy() > 0)
    out["cumulative_cost"] = cum_cost
    out["cumulative_saved_value"] = out["expected_saved_value"].cumsum()
    out["cumulative_net_gain"] = out["expected_net_gain"].cumsum()
    chosen = out[out["selected"]]
    out.attrs.update(
        budget=float(budget), cost_per_contact=float(cost_per_contact), save_rate=float(save_rate),
        n_selected=int(len(chosen)), total_cost=float(len(chosen) * cost_per_contact),
        expected_saved_value=float(chosen["expected_saved_value"].sum()),
        expected_net_gain=float(chosen["expected_net_gain"].sum()),
    )
    return out
