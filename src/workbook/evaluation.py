"""How do I know the model is right?  Holdout evaluation of the CLV and churn models.

Every check fits a model on a *calibration* period and compares its predictions with
what members actually did in the following *holdout* period (split by date with
:func:`workbook.clv.calibration_holdout_split`), or with the calibration data
themselves where that is the classic goodness-of-fit check:

* :func:`tracking_table` -- cumulative repeat purchases week by week, actual vs
  model, through the calibration and the holdout period (the "tracking plot" of
  Fader, Hardie & Lee 2005, figure 3; ``lifetimes``'
  ``expected_cumulative_transactions``);
* :func:`conditional_expectation_table` -- average holdout purchases by
  calibration-period frequency, actual vs model (their figure 4);
* :func:`purchase_count_histogram` -- how many members made 0, 1, 2, ... purchases,
  actual vs the model's ``P(X(t) = n)`` (:mod:`workbook.clv.purchase_counts`);
* :func:`holdout_errors` -- member-level MAE and RMSE of the holdout purchases and
  the error of the total, one row per model;
* :func:`gain_curve`, :func:`gini` and :func:`decile_table` -- how well a score
  ranks members: predicted CLV against actual holdout spend, or churn probabilities
  against observed churn (the Gini coefficient and decile statistics reported by
  google/lifetime_value).

Transaction models are :class:`~workbook.clv.BetaGeoModel` and
:class:`~workbook.clv.ParetoNBDModel` (anything with ``conditional_expected_purchases``,
``expected_purchases_population`` and ``time_unit``); pass one model or a mapping
``{"name": model}``, and tables have a ``model`` column so several models share one
chart.  Plots are in :mod:`workbook.plotting.evaluation`.

Ties in the ranking metrics are shared: members with the same score get the average
outcome of their group, so the gain curve and Gini do not depend on the row order.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from workbook.clv.bgnbd import calibration_vs_holdout
from workbook.clv.data import purchase_events, time_unit_days
from workbook.clv.purchase_counts import purchase_count_probabilities
from workbook.errors import WorkbookInputError
from workbook.validation import (format_rows, require_columns, require_fitted, require_numeric,
                                 resolve_analysis_date)

__all__ = [
    "conditional_expectation_table",
    "decile_table",
    "gain_curve",
    "gini",
    "holdout_errors",
    "purchase_count_histogram",
    "tracking_table",
]

#: Display names of the transaction models (used when a single model is passed).
_MODEL_NAMES = {"BetaGeoModel": "BG/NBD", "ParetoNBDModel": "Pareto/NBD"}


def _models(model: object) -> dict[str, object]:
    """``{name: fitted model}`` from one model or a mapping of them."""
    models = dict(model) if isinstance(model, Mapping) else {_MODEL_NAMES.get(type(model).__name__,
                                                                               type(model).__name__): model}
    if not models:
        raise WorkbookInputError("Pass at least one fitted model.", message_zh="请至少给出一个已拟合的模型。")
    for m in models.values():
        if not hasattr(m, "conditional_expected_purchases") or not hasattr(m, "time_unit"):
            raise WorkbookInputError(
                f"{type(m).__name__} is not a transaction model; pass a fitted BetaGeoModel or ParetoNBDModel.",
                message_zh="这里需要已拟合的交易模型（BetaGeoModel 或 ParetoNBDModel）。",
            )
        require_fitted(m, "params_")
    return models


def _require_split(split: pd.DataFrame) -> None:
    columns = ["frequency", "recency", "T", "frequency_holdout", "duration_holdout"]
    require_columns(split, columns, "split")
    for col in columns:
        require_numeric(split, col, "split")
    if not (split["T"] > 0).all():
        raise WorkbookInputError("Column 'T' of split must be positive (time since the first purchase).",
                                 message_zh="split 的 T 列（首购至今的时间）必须大于 0。")


def _require_same_unit(split: pd.DataFrame, model: object) -> None:
    built = split.attrs.get("time_unit")
    if built is not None and built != model.time_unit:
        raise WorkbookInputError(
            f"split has recency and T in time unit {built!r} but the model uses {model.time_unit!r}.",
            message_zh="split 的时间单位（周/天）和模型的不一致。",
        )


# ---------------------------------------------------------------- tracking plot
def tracking_table(
    model: object,
    transactions: pd.DataFrame,
    *,
    calibration_end: object,
    holdout_end: object | None = None,
    grid: str = "day",
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
) -> pd.DataFrame:
    """Cumulative repeat purchases, actual vs model, one row per time unit (week or day).

    The members are those with a first purchase before ``calibration_end`` (the
    members the model was fitted on).  At the end ``tau`` of each week (or day, the
    model's ``time_unit``), counted from midnight of the earliest first purchase,
    ``actual`` is the number of their repeat purchases before ``tau`` and
    ``predicted`` the sum over members of ``E[X(tau - first purchase)]``, the model's
    expected repeat purchases of a member of that age.  Purchases are counted on
    ``grid`` (as in :func:`workbook.clv.bgnbd_summary`; use the grid the model was
    fitted on).

    Parameters
    ----------
    model : fitted model or mapping of name to fitted model
        BG/NBD or Pareto/NBD, fitted on the calibration period.
    transactions : DataFrame
        Tidy transactions (not modified).
    calibration_end : date-like
        End of the calibration period (exclusive).
    holdout_end : date-like, optional
        End of the holdout period (exclusive); default midnight after the last
        transaction day.
    grid : {"day", "continuous"}, default "day"
    member_col, time_col, amount_col, return_col : str
        Column names.

    Returns
    -------
    DataFrame
        Columns ``model``, ``date`` (end of the week/day, exclusive), ``t`` (time
        units since the start), ``window`` (``"calibration"`` or ``"holdout"``),
        ``actual`` and ``predicted`` (cumulative repeat purchases).  ``attrs`` holds
        ``calibration_end``, ``holdout_end`` and ``time_unit``.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.clv import BetaGeoModel
    >>> m = BetaGeoModel()
    >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b", "a"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-03",
    ...                                                 "2024-01-20"]),
    ...                    "amount": [10.0, 20.0, 5.0, 8.0]})
    >>> table = tracking_table(m, tx, calibration_end="2024-01-15", holdout_end="2024-01-22")
    >>> table[["t", "window", "actual"]]  # doctest: +NORMALIZE_WHITESPACE
         t       window  actual
    0  1.0  calibration       0
    1  2.0  calibration       1
    2  3.0      holdout       2
    """
    models = _models(model)
    units = {m.time_unit for m in models.values()}
    if len(units) > 1:
        raise WorkbookInputError(f"The models use different time units {sorted(units)}; use one.",
                                 message_zh="这些模型的时间单位不同（周/天），请统一。")
    time_unit = units.pop()
    unit = pd.Timedelta(days=time_unit_days(time_unit))
    cols = dict(member_col=member_col, time_col=time_col, amount_col=amount_col, return_col=return_col)
    cal_end = resolve_analysis_date(transactions[time_col], analysis_date=calibration_end, name="calibration_end")
    end = resolve_analysis_date(transactions[time_col], analysis_date=holdout_end, name="holdout_end")
    if end <= cal_end:
        raise WorkbookInputError(
            f"holdout_end {end} must be after calibration_end {cal_end}.",
            message_zh="留出期结束日必须晚于校准期结束日。",
        )
    events, _ = purchase_events(transactions, analysis_date=end, grid=grid, **cols)
    first = events.groupby("member_id", sort=False)["time"].transform("min")
    keep = (first < cal_end).to_numpy()
    events, first = events.loc[keep], first.loc[keep]
    if events.empty:
        raise WorkbookInputError(
            f"No member made a purchase before calibration_end {cal_end}.",
            message_zh="校准期结束日之前没有任何会员购买。",
        )
    start = first.min().normalize()
    n_steps = int((end - start) // unit)
    if n_steps < 1:
        raise WorkbookInputError("The period is shorter than one time unit.", message_zh="时间段不足一个时间单位。")
    taus = pd.DatetimeIndex(start + unit * np.arange(1, n_steps + 1))
    tau_ns = taus.to_numpy().astype("datetime64[ns]")
    # Actual: repeat purchases before each tau.
    repeat_times = events.loc[(events["time"] > first).to_numpy(), "time"].to_numpy().astype("datetime64[ns]")
    actual = np.searchsorted(np.sort(repeat_times), tau_ns, side="left")
    # Predicted: members grouped by first-purchase time, E[X(age)] for each (tau, group).
    first_times, n_members = np.unique(
        events.loc[(events["time"] == first).to_numpy(), "time"].to_numpy().astype("datetime64[ns]"),
        return_counts=True,
    )
    age = (tau_ns[:, None] - first_times[None, :]) / unit.to_timedelta64()
    joined = age > 0
    rows = []
    for name, m in models.items():  # a handful of models, not a loop over members
        ex = m.expected_purchases_population(np.where(joined, age, 0.0).ravel()).to_numpy().reshape(age.shape)
        predicted = (np.where(joined, ex, 0.0) * n_members[None, :]).sum(axis=1)
        rows.append(pd.DataFrame({
            "model": name, "date": taus, "t": np.arange(1, n_steps + 1, dtype="float64"),
            "window": np.where(taus <= cal_end, "calibration", "holdout"),
            "actual": actual.astype("int64"), "predicted": predicted,
        }))
    out = pd.concat(rows, ignore_index=True)
    out.attrs = {"calibration_end": cal_end, "holdout_end": end, "time_unit": time_unit}
    return out


# ------------------------------------------------------- conditional expectation
def conditional_expectation_table(model: object, split: pd.DataFrame, *, max_frequency: int = 7) -> pd.DataFrame:
    """Average holdout purchases per member by calibration frequency, actual vs model.

    :func:`workbook.clv.calibration_vs_holdout` for one or several models, as one
    tidy table.

    Parameters
    ----------
    model : fitted model or mapping of name to fitted model
    split : DataFrame
        Output of :func:`workbook.clv.calibration_holdout_split`.
    max_frequency : int, default 7
        Frequencies at or above this are pooled (``"7+"``).

    Returns
    -------
    DataFrame
        Columns ``model``, ``frequency`` (0 .. ``max_frequency``, the last meaning "or
        more"), ``n_members``, ``actual`` and ``predicted`` (mean holdout purchases).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.clv import BetaGeoModel
    >>> m = BetaGeoModel()
    >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> split = pd.DataFrame({"frequency": [0, 0, 2], "recency": [0.0, 0.0, 30.0],
    ...                       "T": [38.0, 36.0, 38.0], "frequency_holdout": [0, 1, 2],
    ...                       "duration_holdout": [39.0, 39.0, 39.0]})
    >>> conditional_expectation_table(m, split, max_frequency=2)[["frequency", "n_members", "actual"]]
       frequency  n_members  actual
    0          0          2     0.5
    1          1          0     NaN
    2          2          1     2.0
    """
    _require_split(split)
    parts = []
    for name, m in _models(model).items():
        table = calibration_vs_holdout(m, split, max_frequency=max_frequency).reset_index()
        parts.append(table.rename(columns={"actual_holdout": "actual", "predicted_holdout": "predicted"})
                     .assign(model=name))
    out = pd.concat(parts, ignore_index=True)
    return out[["model", "frequency", "n_members", "actual", "predicted"]]


# --------------------------------------------------------------- histogram
def _count_labels(max_purchases: int) -> list[str]:
    return [str(k) for k in range(max_purchases)] + [f"{max_purchases}+"]


def purchase_count_histogram(
    model: object,
    split: pd.DataFrame,
    *,
    period: str = "holdout",
    max_purchases: int = 7,
) -> pd.DataFrame:
    """Number of members with 0, 1, 2, ... purchases: actual vs expected under the model.

    ``period="holdout"``: purchases in the holdout period; the expected number of
    members with ``n`` purchases is the sum over members of ``P(X = n)`` given their
    calibration history (:func:`workbook.clv.purchase_count_probabilities`), so
    members who have probably left count towards 0.

    ``period="calibration"``: repeat purchases in the calibration period (the
    histogram of Fader, Hardie & Lee 2005, figure 2); the expected number is the
    sum over members of a new member's ``P(X(T) = n)`` at the member's age ``T``.
    Ages are rounded to whole days for this (one computation per distinct age).

    Parameters
    ----------
    model : fitted model or mapping of name to fitted model
    split : DataFrame
        Output of :func:`workbook.clv.calibration_holdout_split`.
    period : {"holdout", "calibration"}
    max_purchases : int, default 7
        The last class pools this many purchases or more.

    Returns
    -------
    DataFrame
        Columns ``model``, ``purchases`` (``"0"``, ``"1"``, ..., ``"7+"``),
        ``actual`` and ``expected`` (numbers of members).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.clv import BetaGeoModel
    >>> m = BetaGeoModel()
    >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> split = pd.DataFrame({"frequency": [0, 0, 2], "recency": [0.0, 0.0, 30.0],
    ...                       "T": [38.0, 36.0, 38.0], "frequency_holdout": [0, 1, 2],
    ...                       "duration_holdout": [39.0, 39.0, 39.0]})
    >>> h = purchase_count_histogram(m, split, max_purchases=2)
    >>> h["actual"].tolist(), round(float(h["expected"].sum()), 6)
    ([1, 1, 1], 3.0)
    """
    _require_split(split)
    if period not in ("holdout", "calibration"):
        raise WorkbookInputError(f"period={period!r} must be 'holdout' or 'calibration'.",
                                 message_zh="period 只能是 \"holdout\"（留出期）或 \"calibration\"（校准期）。")
    if int(max_purchases) != max_purchases or max_purchases < 1:
        raise WorkbookInputError(f"max_purchases must be a whole number >= 1, got {max_purchases!r}.",
                                 message_zh="max_purchases 必须是不小于 1 的整数。")
    max_purchases = int(max_purchases)
    labels = _count_labels(max_purchases)
    observed = split["frequency_holdout" if period == "holdout" else "frequency"].to_numpy()
    actual = np.bincount(np.minimum(observed.astype("int64"), max_purchases), minlength=max_purchases + 1)
    parts = []
    for name, m in _models(model).items():
        _require_same_unit(split, m)
        if period == "holdout":
            durations = split["duration_holdout"].unique()
            if len(durations) != 1:
                raise WorkbookInputError("split has several holdout durations; use one holdout period.",
                                         message_zh="split 里的留出期长度不一致，请使用同一个留出期。")
            probs = purchase_count_probabilities(m, float(durations[0]), split, max_purchases=max_purchases)
            expected = probs.to_numpy().sum(axis=0)
        else:
            T = split["T"].to_numpy(dtype="float64")
            day = 1.0 / time_unit_days(m.time_unit)
            ages, counts = np.unique(np.maximum(np.round(T / day), 1) * day, return_counts=True)
            # One new-member distribution per distinct age (at most a few hundred days).
            table = np.vstack([purchase_count_probabilities(m, a, max_purchases=max_purchases).to_numpy()[0]
                               for a in ages])
            expected = counts @ table
        parts.append(pd.DataFrame({"model": name, "purchases": labels, "actual": actual.astype("int64"),
                                   "expected": expected}))
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------- member errors
def holdout_errors(model: object, split: pd.DataFrame) -> pd.DataFrame:
    """Member-level error of the holdout purchase predictions, one row per model.

    Parameters
    ----------
    model : fitted model or mapping of name to fitted model
    split : DataFrame
        Output of :func:`workbook.clv.calibration_holdout_split`.

    Returns
    -------
    DataFrame
        Index ``model``; columns ``n_members``, ``actual_total`` and
        ``predicted_total`` (holdout purchases of all members), ``total_error``
        (``predicted_total / actual_total - 1``), ``mae`` and ``rmse`` (mean absolute
        and root mean squared error per member, in purchases).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.clv import BetaGeoModel
    >>> m = BetaGeoModel()
    >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> split = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 30.43], "T": [38.86, 38.86],
    ...                       "frequency_holdout": [0, 1], "duration_holdout": [39.0, 39.0]})
    >>> holdout_errors(m, split)[["predicted_total", "mae"]].round(3)  # doctest: +NORMALIZE_WHITESPACE
            predicted_total    mae
    model
    BG/NBD            1.421  0.211
    """
    _require_split(split)
    actual = split["frequency_holdout"].to_numpy(dtype="float64")
    duration = split["duration_holdout"].to_numpy(dtype="float64")
    rows = []
    for name, m in _models(model).items():
        _require_same_unit(split, m)
        predicted = m.expected_purchases(duration, split).to_numpy()
        err = predicted - actual
        total = actual.sum()
        rows.append({
            "model": name, "n_members": len(actual), "actual_total": total, "predicted_total": predicted.sum(),
            "total_error": predicted.sum() / total - 1 if total > 0 else np.nan,
            "mae": np.abs(err).mean(), "rmse": np.sqrt((err ** 2).mean()),
        })
    return pd.DataFrame(rows).set_index("model")


# ------------------------------------------------------------ ranking metrics
def _actual_predicted(actual: object, predicted: object) -> tuple[np.ndarray, np.ndarray]:
    """Validated float arrays of the same length (aligned on the index if both are Series)."""
    if isinstance(actual, pd.Series) and isinstance(predicted, pd.Series) and not actual.index.equals(predicted.index):
        if set(actual.index) != set(predicted.index):
            raise WorkbookInputError(
                "actual and predicted index different members; align them first.",
                message_zh="actual 和 predicted 对应的会员不同，请先对齐。",
            )
        predicted = predicted.reindex(actual.index)
    out = []
    for name, values in (("actual", actual), ("predicted", predicted)):
        s = pd.Series(np.asarray(values, dtype="object") if not isinstance(values, pd.Series) else values)
        arr = pd.to_numeric(s.astype("object"), errors="coerce").to_numpy(dtype="float64")
        bad = ~np.isfinite(arr)
        if bad.any():
            raise WorkbookInputError(
                f"{name} must hold finite numbers; bad values at {format_rows(np.flatnonzero(bad))} "
                "(positions counted from 0).",
                message_zh=f"{name} 里有缺失或非数字的值。",
            )
        out.append(arr)
    y, p = out
    if len(y) != len(p):
        raise WorkbookInputError(f"actual has {len(y)} values but predicted has {len(p)}.",
                                 message_zh="actual 与 predicted 的长度不同。")
    if len(y) < 2:
        raise WorkbookInputError("Need at least two members.", message_zh="至少需要两位会员。")
    return y, p


def _tie_averaged(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by score (highest first), outcomes averaged within tied scores."""
    order = np.argsort(-score, kind="stable")
    s, v = score[order], y[order]
    _, group, counts = np.unique(-s, return_inverse=True, return_counts=True)
    means = np.bincount(group, weights=v) / counts
    return s, means[group]


def gain_curve(actual: object, predicted: object) -> pd.DataFrame:
    """Cumulative share of the actual outcome captured by the top-ranked members.

    Members are ranked by ``predicted`` (highest first).  For binary outcomes (churn)
    this is the cumulative-gains chart; for money it is the Lorenz curve of value
    under the model's ranking.

    Parameters
    ----------
    actual, predicted : array-like
        Outcome (e.g. holdout spend, or 0/1 churn) and score (predicted CLV, churn
        probability), one per member.

    Returns
    -------
    DataFrame
        One row per member plus the origin: ``share_of_members`` (0 to 1), ``model``
        (cumulative share of the outcome, ranking by ``predicted``), ``perfect``
        (ranking by ``actual``) and ``random`` (the diagonal).

    Examples
    --------
    >>> gain_curve([0, 10, 30], [0.1, 0.5, 0.9])["model"].round(3).tolist()
    [0.0, 0.75, 1.0, 1.0]
    """
    y, p = _actual_predicted(actual, predicted)
    total = y.sum()
    if total <= 0:
        raise WorkbookInputError("The actual outcomes sum to zero or less: no gains to rank.",
                                 message_zh="实际结果合计为 0（或为负），无法计算累计收益曲线。")
    n = len(y)
    _, model_y = _tie_averaged(y, p)
    _, perfect_y = _tie_averaged(y, y)
    share = np.arange(n + 1) / n
    return pd.DataFrame({
        "share_of_members": share,
        "model": np.r_[0.0, np.cumsum(model_y) / total],
        "perfect": np.r_[0.0, np.cumsum(perfect_y) / total],
        "random": share,
    })


def gini(actual: object, predicted: object) -> pd.Series:
    """Gini coefficient of a ranking: how much better than random the score sorts members.

    ``raw`` is twice the area between the gain curve (:func:`gain_curve`, trapezoid
    rule) and the diagonal; ``normalized`` divides it by the raw Gini of the perfect
    ranking, so 1 means the best possible order and 0 a random one.  For a 0/1
    outcome ``normalized = 2 AUC - 1`` exactly.  (google/lifetime_value sums the
    gain curve with rectangles, which adds ``1/n`` to ``raw``.)

    Returns
    -------
    Series
        ``raw``, ``perfect`` (raw Gini of the perfect ranking) and ``normalized``.

    Examples
    --------
    >>> gini([0, 10, 30], [0.1, 0.5, 0.9]).round(4).tolist()
    [0.5, 0.5, 1.0]
    >>> float(gini([0, 1, 0, 1], [0.2, 0.25, 0.3, 0.9])["normalized"])  # AUC 0.75
    0.5
    """
    curve = gain_curve(actual, predicted)
    n = len(curve) - 1

    def area(col: str) -> float:
        g = curve[col].to_numpy()
        return 2 * float((g[1:] + g[:-1]).sum() / (2 * n)) - 1

    raw, perfect = area("model"), area("perfect")
    normalized = raw / perfect if perfect > 0 else np.nan
    return pd.Series({"raw": raw, "perfect": perfect, "normalized": normalized}, name="gini")


def decile_table(actual: object, predicted: object, *, n_groups: int = 10) -> pd.DataFrame:
    """Mean predicted and actual outcome in equal-sized groups of the ranking (deciles).

    Members are sorted by ``predicted`` (highest first) and cut into ``n_groups``
    groups of (nearly) equal size; group 1 holds the highest scores.  Tied scores
    share their outcome (see the module docstring).

    Returns
    -------
    DataFrame
        Index ``decile`` (1 = highest predicted); columns ``n_members``,
        ``mean_prediction``, ``mean_outcome`` (the actual outcome), ``lift``
        (``mean_outcome`` over the overall mean: 3 = three times the average),
        ``share_of_actual`` (share of the total outcome) and ``decile_mape``
        (``|mean_prediction - mean_outcome| / mean_outcome``, as google/lifetime_value;
        NaN where ``mean_outcome`` is 0).

    Examples
    --------
    >>> t = decile_table([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_groups=2)
    >>> t[["n_members", "mean_outcome", "lift"]]  # doctest: +NORMALIZE_WHITESPACE
            n_members  mean_outcome  lift
    decile
    1               2           1.0   2.0
    2               2           0.0   0.0
    """
    y, p = _actual_predicted(actual, predicted)
    if int(n_groups) != n_groups or not 2 <= n_groups <= len(y):
        raise WorkbookInputError(f"n_groups must be a whole number from 2 to the number of members, got {n_groups!r}.",
                                 message_zh="n_groups（分组数）必须是 2 到会员数之间的整数。")
    n_groups = int(n_groups)
    s, v = _tie_averaged(y, p)
    group = np.arange(len(y)) * n_groups // len(y) + 1
    frame = pd.DataFrame({"decile": group, "predicted": s, "actual": v})
    out = frame.groupby("decile").agg(n_members=("actual", "size"), mean_prediction=("predicted", "mean"),
                                      mean_outcome=("actual", "mean"), total=("actual", "sum"))
    overall = y.mean()
    out["lift"] = out["mean_outcome"] / overall if overall != 0 else np.nan
    out["share_of_actual"] = out["total"] / y.sum() if y.sum() != 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        out["decile_mape"] = np.where(out["mean_outcome"] != 0,
                                      (out["mean_prediction"] - out["mean_outcome"]).abs() / out["mean_outcome"], np.nan)
    return out.drop(columns="total")
