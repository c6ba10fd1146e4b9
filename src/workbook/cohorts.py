"""Acquisition cohorts: retention, revenue and repeat-purchase matrices.

A *cohort* is the set of members acquired in the same calendar month (or
week, Monday to Sunday): by their first purchase (default) or by their
registration date.  Period number ``k`` is the ``k``-th calendar period after
the cohort's own (``0`` = the acquisition period).  First-purchase cohort
matrices start from :func:`workbook.aggregate.cohort_activity` (a few hundred
rows per data set, computed in one SQL query on DuckDB or Spark); join-date
cohorts and repeat-purchase curves from
:func:`workbook.aggregate.member_period_activity`.  Both run on every engine.

Shapes
------
``cohort_table`` and ``repeat_purchase_curve(by_cohort=True)`` return a *wide*
matrix by default: index ``cohort`` (Timestamp of the cohort period's first
day), columns ``period_number`` 0, 1, ...; ``cohort_table(shape="long")``
returns the *tidy* form (one row per cohort and period).  Cells that lie after
the analysis date are ``NaN`` (not observed yet), never 0; the last observed
period may be partial when the analysis date falls inside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.aggregate import cohort_activity, member_period_activity
from workbook.errors import WorkbookInputError
from workbook.ids import ids_in
from workbook.validation import require_choice, require_columns, require_dataframe, require_datetime

_FREQ = {"M": "M", "month": "M", "W": "W-SUN", "week": "W-SUN"}
_MONDAY = pd.Timestamp("1970-01-05")


def _period_index(periods: pd.Series, freq: str) -> np.ndarray:
    """Integer index of period start dates: months since year 0, or weeks since 1970-01-05."""
    p = pd.to_datetime(periods)
    if _FREQ[freq] == "M":
        return (p.dt.year.to_numpy(dtype="int64") * 12 + p.dt.month.to_numpy(dtype="int64") - 1)
    return ((p - _MONDAY) // pd.Timedelta(weeks=1)).to_numpy(dtype="int64")


def _period_start(ts: pd.Series, freq: str) -> pd.Series:
    return ts.dt.to_period(_FREQ[freq]).dt.start_time.astype("datetime64[us]")


def _activity(
    transactions: object,
    analysis_date: object | None,
    freq: str,
    cols: dict,
) -> tuple[pd.DataFrame, int, pd.Timestamp | None]:
    """Member-period activity plus the index of the last observed period."""
    require_choice(freq, list(_FREQ), "freq")
    act = member_period_activity(transactions, analysis_date=analysis_date, freq=freq, **cols)
    date = act.attrs.get("analysis_date")
    if date is None and analysis_date is not None:
        date = pd.Timestamp(analysis_date)
    if act.empty:
        raise WorkbookInputError(
            "No member transactions before the analysis date: every earlier row is a walk-in "
            f"(missing {cols.get('member_col', 'member_id')!r}) or there are none."
        )
    act = act.assign(pidx=_period_index(act["period"], freq))
    if date is not None:
        last = int(_period_index(pd.Series([date - pd.Timedelta(microseconds=1)]), freq)[0])
    else:
        last = int(act["pidx"].max())
    return act, last, date


def _cohorts(
    act: pd.DataFrame,
    members: pd.DataFrame | None,
    cohort_by: str,
    freq: str,
    last: int,
    date: pd.Timestamp | None,
    member_col: str,
    join_col: str,
) -> pd.Series:
    """Cohort period index per member (Series indexed by member id)."""
    if cohort_by == "first_purchase":
        buys = act.loc[act["n_purchases"] > 0]
        return buys.groupby("member_id", sort=True)["pidx"].min()
    if members is None:
        raise WorkbookInputError("cohort_by='join_date' needs the members table (members=...).")
    require_dataframe(members, "members")
    require_columns(members, [member_col, join_col], "members")
    require_datetime(members, join_col, "members")
    m = members[[member_col, join_col]]
    m = m.loc[m[member_col].notna()]
    joined = m[join_col] < date if date is not None else pd.Series(True, index=m.index)
    m = m.loc[joined]
    pidx = _period_index(_period_start(m[join_col], freq), freq)
    out = pd.Series(pidx, index=pd.Index(m[member_col].to_numpy(), name="member_id"), name="pidx")
    out = out.loc[out <= last]
    if out.index.duplicated().any():
        dup = out.index[out.index.duplicated()][0]
        raise WorkbookInputError(f"Column {member_col!r} of members has duplicate id {dup!r}.")
    return out.sort_index()


def _index_to_start(pidx: np.ndarray, freq: str) -> pd.DatetimeIndex:
    if _FREQ[freq] == "M":
        years, months = np.divmod(pidx, 12)
        return pd.DatetimeIndex(
            pd.to_datetime({"year": years, "month": months + 1, "day": np.ones_like(years)})
        ).astype("datetime64[us]")
    return pd.DatetimeIndex(_MONDAY + pd.to_timedelta(pidx * 7, unit="D")).astype("datetime64[us]")


def _wide(values: pd.DataFrame, sizes: pd.Series, last: int, freq: str) -> pd.DataFrame:
    """Pivot (cohort pidx, k, value) to cohorts x periods, zero-filled and NaN after ``last``."""
    cohorts = np.sort(sizes.index.to_numpy())
    n_periods = int(last - cohorts.min()) + 1
    if values.empty:
        wide = pd.DataFrame(0.0, index=cohorts, columns=range(n_periods))
    else:
        wide = values.pivot_table(index="cohort", columns="k", values="value", aggfunc="sum", fill_value=0)
    wide = wide.reindex(index=cohorts, columns=range(n_periods), fill_value=0).astype("float64")
    observed = (cohorts[:, None] + np.arange(n_periods)[None, :]) <= last
    wide = wide.where(observed)
    wide.index = pd.Index(_index_to_start(cohorts, freq), name="cohort")
    wide.columns = pd.Index(range(n_periods), name="period_number")
    return wide


def _last_period(date: pd.Timestamp, freq: str) -> int:
    return int(_period_index(pd.Series([date - pd.Timedelta(microseconds=1)]), freq)[0])


def _first_purchase_values(
    transactions: object, analysis_date: object | None, freq: str, metric: str, cols: dict
) -> tuple[pd.DataFrame, pd.Series, int]:
    """(cohort, k, value) rows, cohort sizes and the last observed period, from the cohort activity."""
    require_choice(freq, list(_FREQ), "freq")
    ca = cohort_activity(transactions, analysis_date=analysis_date, freq=freq, **cols)
    if ca.empty:
        raise WorkbookInputError(
            "No member transactions with a purchase before the analysis date: every earlier row is a walk-in "
            f"(missing {cols.get('member_col', 'member_id')!r}), a return, or there are none."
        )
    cohort = _period_index(ca["cohort"], freq)
    k = _period_index(ca["period"], freq) - cohort
    column = {"members": "members", "purchases": "n_purchases", "revenue": "amount"}[metric]
    values = pd.DataFrame({"cohort": cohort, "k": k, "value": ca[column].to_numpy(dtype="float64")})
    own = k == 0  # every member bought in the cohort's own period: its buyers are the cohort
    sizes = pd.Series(ca["members"].to_numpy()[own], index=cohort[own]).sort_index()
    return values, sizes, _last_period(ca.attrs["analysis_date"], freq)


def _join_date_values(
    transactions: object,
    members: pd.DataFrame | None,
    analysis_date: object | None,
    freq: str,
    metric: str,
    cols: dict,
    member_col: str,
    join_col: str,
) -> tuple[pd.DataFrame, pd.Series, int]:
    """(cohort, k, value) rows, cohort sizes and the last observed period, per member."""
    act, last, date = _activity(transactions, analysis_date, freq, cols)
    cohort = _cohorts(act, members, "join_date", freq, last, date, member_col, join_col)
    if cohort.empty:
        raise WorkbookInputError("No member was acquired before the analysis date.")
    sizes = cohort.groupby(cohort).size()
    act = act.loc[ids_in(act["member_id"], cohort.index)]
    act = act.assign(cohort=cohort.reindex(act["member_id"]).to_numpy())
    act = act.assign(k=act["pidx"] - act["cohort"])
    act = act.loc[act["k"] >= 0]
    if metric == "members":
        act = act.loc[act["n_purchases"] > 0]
        value = np.ones(len(act))
    elif metric == "purchases":
        value = act["n_purchases"].to_numpy(dtype="float64")
    else:
        value = act["amount"].to_numpy(dtype="float64")
    values = pd.DataFrame({"cohort": act["cohort"].to_numpy(), "k": act["k"].to_numpy(), "value": value})
    return values, sizes, last


def cohort_table(
    transactions: object,
    members: pd.DataFrame | None = None,
    *,
    freq: str = "M",
    cohort_by: str = "first_purchase",
    metric: str = "members",
    normalize: bool = True,
    cumulative: bool = False,
    shape: str = "wide",
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    join_col: str = "join_date",
    engine: str | None = None,
) -> pd.DataFrame:
    """Cohort matrix of retained members, revenue or purchases by period since acquisition.

    Parameters
    ----------
    transactions : DataFrame (or anything :func:`workbook.aggregate.member_period_activity` accepts)
        Tidy transactions.  Not modified.
    members : DataFrame, optional
        Member register; needed for ``cohort_by="join_date"``.
    freq : {"M", "W"}
        Calendar months or weeks.
    cohort_by : {"first_purchase", "join_date"}
        Acquisition event.  Join-date cohorts include members who never
        bought; buyers missing from ``members`` are left out; activity before
        the join period is ignored.
    metric : {"members", "purchases", "revenue"}
        Members with at least one purchase in the period (retention), purchase
        transactions, or net revenue (returns subtracted).
    normalize : bool, default True
        Divide by the cohort size: retention rate for ``"members"`` (period 0
        is 1.0 for first-purchase cohorts), purchases or revenue *per acquired
        member* otherwise.
    cumulative : bool, default False
        Running total over periods (for ``"purchases"`` and ``"revenue"``:
        cumulative revenue per member is a historical CLV curve).
    shape : {"wide", "long"}
        Wide matrix (cohorts x period_number) or tidy rows.
    analysis_date : date-like, optional
        Transactions at or after it are ignored; default midnight after the
        last transaction day.
    member_col, time_col, amount_col, return_col, join_col : str
        Column names.
    engine : {None, "pandas", "duckdb", "spark"}
        Passed to :func:`workbook.aggregate.member_period_activity`.

    Returns
    -------
    DataFrame
        ``shape="wide"``: index ``cohort`` (period start), columns
        ``period_number`` 0.. (float; NaN where not observed yet),
        ``attrs["cohort_size"]`` a Series of cohort sizes.  ``shape="long"``:
        columns ``cohort``, ``period_number``, ``cohort_size``, ``value``
        (observed cells only).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10", "2024-01-20",
    ...                                  "2024-03-05", "2024-02-14"]),
    ...     "amount": [10.0, 20.0, 30.0, 40.0, 50.0]})
    >>> cohort_table(tx).to_numpy().tolist()
    [[1.0, 0.5, 0.5], [1.0, 0.0, nan]]
    >>> cohort_table(tx, metric="revenue", normalize=False, cumulative=True).to_numpy().tolist()
    [[40.0, 60.0, 100.0], [50.0, 50.0, nan]]
    """
    require_choice(cohort_by, ["first_purchase", "join_date"], "cohort_by")
    require_choice(metric, ["members", "purchases", "revenue"], "metric")
    require_choice(shape, ["wide", "long"], "shape")
    if cumulative and metric == "members":
        raise WorkbookInputError(
            "cumulative=True is not defined for metric='members' (a member active in two periods "
            "would count twice); use repeat_purchase_curve for 'ever came back' curves."
        )
    cols = dict(
        member_col=member_col, time_col=time_col, amount_col=amount_col, return_col=return_col, engine=engine
    )
    if cohort_by == "first_purchase":
        values, sizes, last = _first_purchase_values(transactions, analysis_date, freq, metric, cols)
    else:
        values, sizes, last = _join_date_values(
            transactions, members, analysis_date, freq, metric, cols, member_col, join_col
        )
    wide = _wide(values, sizes, last, freq)
    if cumulative:
        wide = wide.cumsum(axis=1, skipna=False)
    size_series = pd.Series(sizes.sort_index().to_numpy(), index=wide.index, name="cohort_size")
    if normalize:
        wide = wide.div(size_series, axis=0)
    if shape == "long":
        long = wide.stack(future_stack=True).rename("value").reset_index()
        long = long.loc[long["value"].notna()]
        long.insert(2, "cohort_size", size_series.reindex(long["cohort"]).to_numpy())
        return long.reset_index(drop=True)
    wide.attrs["cohort_size"] = size_series
    wide.attrs["metric"] = metric
    wide.attrs["normalize"] = bool(normalize)
    return wide


def repeat_purchase_curve(
    transactions: object,
    *,
    freq: str = "M",
    min_purchases: int = 2,
    by_cohort: bool = True,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    engine: str | None = None,
) -> pd.DataFrame:
    """Share of first-purchase cohorts that reached ``min_purchases`` purchases by period ``k``.

    A member counts as a repeat buyer at period ``k`` when their purchases in
    periods ``0..k`` (including the acquisition period) add up to at least
    ``min_purchases``.  The curve rises with ``k`` and ends at the share of
    repeat buyers so far.

    Parameters
    ----------
    transactions : DataFrame (or anything :func:`workbook.aggregate.member_period_activity` accepts)
        Tidy transactions.  Not modified.
    freq : {"M", "W"}
        Calendar months or weeks.
    min_purchases : int, default 2
        2 = second purchase ("repeat rate"); 3 = third purchase, and so on.
    by_cohort : bool, default True
        One curve per cohort (wide matrix) or one pooled curve.
    analysis_date, member_col, time_col, amount_col, return_col, engine
        As in :func:`cohort_table`.

    Returns
    -------
    DataFrame
        ``by_cohort=True``: wide matrix like :func:`cohort_table` (NaN where not
        observed).  ``by_cohort=False``: tidy rows with ``period_number``,
        ``members_observed`` (members of the cohorts observed that long),
        ``repeat_buyers`` and ``repeat_share``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10", "2024-01-20",
    ...                                  "2024-03-05", "2024-02-14"]),
    ...     "amount": [10.0, 20.0, 30.0, 40.0, 50.0]})
    >>> repeat_purchase_curve(tx).to_numpy().tolist()
    [[0.0, 0.5, 1.0], [0.0, 0.0, nan]]
    >>> repeat_purchase_curve(tx, by_cohort=False)["repeat_share"].tolist()
    [0.0, 0.3333333333333333, 1.0]
    """
    if isinstance(min_purchases, bool) or not isinstance(min_purchases, (int, np.integer)) or min_purchases < 1:
        raise WorkbookInputError(f"min_purchases must be a whole number of at least 1, got {min_purchases!r}.")
    cols = dict(
        member_col=member_col, time_col=time_col, amount_col=amount_col, return_col=return_col, engine=engine
    )
    act, last, _ = _activity(transactions, analysis_date, freq, cols)
    cohort = _cohorts(act, None, "first_purchase", freq, last, None, member_col, "")
    sizes = cohort.groupby(cohort).size()
    buys = act.loc[act["n_purchases"] > 0, ["member_id", "pidx", "n_purchases"]]
    buys = buys.sort_values(["member_id", "pidx"], kind="stable")
    reached = buys.groupby("member_id", sort=False)["n_purchases"].cumsum() >= min_purchases
    first = buys.loc[reached].groupby("member_id", sort=True)["pidx"].min()
    coh = cohort.reindex(first.index).to_numpy()
    values = pd.DataFrame({"cohort": coh, "k": first.to_numpy() - coh, "value": 1.0})
    counts = _wide(values, sizes, last, freq).cumsum(axis=1, skipna=False)
    size_series = pd.Series(sizes.sort_index().to_numpy(), index=counts.index, name="cohort_size")
    if by_cohort:
        share = counts.div(size_series, axis=0)
        share.attrs["cohort_size"] = size_series
        return share
    observed = counts.notna()
    members_observed = observed.mul(size_series, axis=0).sum(axis=0).astype("int64")
    repeat_buyers = counts.sum(axis=0, skipna=True).astype("int64")
    return pd.DataFrame(
        {
            "period_number": counts.columns.to_numpy(),
            "members_observed": members_observed.to_numpy(),
            "repeat_buyers": repeat_buyers.to_numpy(),
            "repeat_share": (repeat_buyers / members_observed).to_numpy(),
        }
    )


def repeat_share_at(curve: pd.DataFrame, period_numbers) -> pd.Series:
    """Pooled repeat share at given periods after the first purchase; NaN if not observed.

    A short export (a few months) has no members observed 12 months after their
    first purchase: the 12-month repeat rate is then unknown (NaN), not 0 and
    not an error.

    Parameters
    ----------
    curve : DataFrame
        Output of :func:`repeat_purchase_curve` with ``by_cohort=False``.
    period_numbers : int or list of int
        Periods after the first purchase (months or weeks, as in ``curve``).

    Returns
    -------
    Series
        ``repeat_share`` indexed by ``period_number``; NaN where no cohort was
        observed that long.

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"period_number": [0, 1, 2], "members_observed": [3, 3, 2],
    ...                       "repeat_buyers": [0, 1, 2], "repeat_share": [0.0, 1 / 3, 1.0]})
    >>> repeat_share_at(curve, [1, 12]).tolist()
    [0.3333333333333333, nan]
    """
    if not isinstance(curve, pd.DataFrame) or not {"period_number", "repeat_share"} <= set(curve.columns):
        raise WorkbookInputError(
            "curve must be the output of repeat_purchase_curve(..., by_cohort=False) with columns "
            f"'period_number' and 'repeat_share'; got {type(curve).__name__}"
            + (f" with columns {list(curve.columns)}" if isinstance(curve, pd.DataFrame) else "") + "."
        )
    periods = [period_numbers] if np.isscalar(period_numbers) else list(period_numbers)
    share = curve.set_index("period_number")["repeat_share"]
    return share.reindex(periods).astype("float64").rename_axis("period_number")
