"""Per-member aggregation: the one step that touches every transaction.

RFM, lifecycle stages, cohorts and CLV all start from the small tables built
here, so each metric is defined exactly once:

``member_summary`` (one row per member who bought before the analysis date)
    ``first_purchase``, ``last_purchase``, ``prev_purchase_day`` (midnight of
    the last purchase *day* before the day of the last purchase; ``NaT`` when
    every purchase fell on one day), ``n_purchases`` (purchase
    transactions), ``n_purchase_days`` (distinct calendar days with a purchase),
    ``n_returns``, ``n_purchases_window`` (purchases in the ``window_days``
    before the analysis date), ``monetary_total`` (net spend: purchases minus
    returns, counted in whole cents), ``monetary_avg``
    (``monetary_total / n_purchases``),
    ``recency_days``, ``tenure_days``.

``member_period_activity`` (one row per member and calendar period with a purchase)
    ``period`` (start of the month or week), ``n_purchases``, ``amount``.

``cohort_activity`` (one row per first-purchase cohort and period)
    ``cohort``, ``period``, ``members`` (members of the cohort who bought in
    the period), ``n_purchases``, ``amount``: the small table behind
    :func:`workbook.cohorts.cohort_table`.

Engines
-------
Both functions run on pandas (default for a DataFrame), DuckDB (default for a
path to Parquet/CSV files or a DuckDB relation; out of core) or Spark (default
for a pyspark DataFrame); see :mod:`workbook.engines`.  DuckDB and Spark run
the one SQL text per aggregation in :mod:`workbook.sql`; every engine returns
the same small pandas table, finished by the same code below, and the engines
agree exactly (tested in ``tests/test_engines.py``).

Definitions
-----------
* A *purchase* is a transaction that is not a return.  Returns are rows whose
  ``is_return`` column is true, or, without that column, rows with a negative
  amount.  Walk-in sales with no member id are left out.
* Transactions at or after the analysis date are left out (they are in the
  future from the analysis date's point of view).
* ``recency_days`` is the number of *whole elapsed days* between the last
  purchase and the analysis date: ``floor((analysis_date - last_purchase) / 1 day)``.
  ``tenure_days`` is the same for the first purchase.  (DuckDB's ``date_diff('day', ...)``
  counts midnights crossed instead; so the SQL returns the timestamps and the
  days are counted once, here, for every engine.)
* Money is counted in whole cents (分) so that sums are exact and do not depend
  on summation order: each amount is rounded to the cent, half up
  (``floor(amount * 100 + 0.5)``), and ``monetary_total`` / ``amount`` are the
  integer cent sums divided by 100.
* The SQL engines work at microsecond resolution (nanoseconds are truncated).

Speed
-----
The aggregation is one pass over the transactions.  A pandas DataFrame is
handed to DuckDB as Arrow columns (no copy of the member ids) and aggregated
there by default (``engine=None``); the DuckDB query returns the finished
per-member table unordered, and it is sorted here by member id
(:func:`workbook.ids.sort_order`, an integer sort for ids of one width: a
fraction of what an ``ORDER BY`` costs in the query).  ``engine="pandas"`` runs the NumPy
implementation below (integer member codes, integer day numbers, bincounts),
which is the reference the SQL engines are tested against.  Where the time
goes and the measurements are in README.md ("Performance"),
docs/performance.md and ``benchmarks/bench_rfm.py``.

Each function keeps its last few results (:mod:`workbook.memo`): asked again
for the same data (a DataFrame whose columns have not changed, or files with
the same sizes and times) with the same parameters, it returns a copy instead
of a second pass, so a notebook pays for each aggregation once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from workbook import engines, memo, sql
from workbook.deprecation import renamed_arguments
from workbook.ids import increasing, sort_order, take_fixed_width
from workbook.transactions import PERIOD_FREQ, purchases, whole_days
from workbook.validation import require_choice, require_whole, resolve_analysis_date

SUMMARY_COLUMNS = [
    "first_purchase",
    "last_purchase",
    "prev_purchase_day",
    "n_purchases",
    "n_purchase_days",
    "n_returns",
    "n_purchases_window",
    "monetary_total",
    "monetary_avg",
    "recency_days",
    "tenure_days",
]

def _cents(amount: pd.Series) -> np.ndarray:
    """Amounts in whole cents, half up: ``floor(amount * 100 + 0.5)`` (as in workbook.sql)."""
    return np.floor(amount.to_numpy(dtype="float64") * 100.0 + 0.5).astype("int64")


_RAW_SUMMARY_COLUMNS = [
    "member_id",
    "first_purchase",
    "last_purchase",
    "prev_purchase_day",
    "n_purchases",
    "n_purchase_days",
    "n_returns",
    "n_purchases_window",
    "monetary_cents",
]
_DATETIME_COLUMNS = ["first_purchase", "last_purchase", "prev_purchase_day"]
_COUNT_COLUMNS = ["n_purchases", "n_purchase_days", "n_returns", "n_purchases_window"]


def _pandas_summary_raw(tx: pd.DataFrame, date: pd.Timestamp, window_days: int) -> pd.DataFrame:
    """Per-member facts from prepared transactions: the NumPy twin of sql.MEMBER_SUMMARY_SQL.

    Member ids become integer codes once (unsorted factorisation; the small
    result is sorted at the end) and timestamps integer ticks and day numbers,
    so every fact is a bincount or a group-by on integers.  The distinct
    purchase days are the unique (member, day) keys; sorted, each member's
    last two keys give the last and the previous purchase day.
    """
    codes, members = pd.factorize(tx["member_id"], sort=False)
    n_members = len(members)
    is_buy = ~tx["is_return"].to_numpy(dtype=bool)
    ts_all = tx["ts"].to_numpy()
    unit = np.datetime_data(ts_all.dtype)[0]
    ticks_per_day = int(np.timedelta64(1, "D") // np.timedelta64(1, unit))
    # Net cents over all rows (returns included); float sums of whole cents are exact below 2**53.
    cents = np.bincount(codes, weights=_cents(tx["amount"]), minlength=n_members).astype("int64")
    n_returns = np.bincount(codes[~is_buy], minlength=n_members)

    code = codes[is_buy]
    ticks = ts_all[is_buy].view("int64")
    n_purchases = np.bincount(code, minlength=n_members)
    buyers = np.flatnonzero(n_purchases)
    window_start = (date - pd.Timedelta(days=window_days)).to_datetime64().astype(f"datetime64[{unit}]")
    n_window = np.bincount(code[ticks >= window_start.view("int64")], minlength=n_members)
    by_member = pd.Series(ticks).groupby(code, sort=True)  # sorted integer codes == buyers
    first, last = by_member.min().to_numpy(), by_member.max().to_numpy()
    # Distinct (member, day) keys, sorted by member then day.
    day = np.floor_divide(ticks, ticks_per_day)
    day0, span = (int(day.min()), int(day.max() - day.min()) + 1) if len(day) else (0, 1)
    keys = np.unique(code.astype("int64") * span + (day - day0))
    key_member = keys // span
    n_days = np.bincount(key_member, minlength=n_members)
    ends = np.cumsum(n_days[buyers])  # one past each buyer's last key
    prev_key = keys[np.maximum(ends - 2, 0)]
    has_prev = n_days[buyers] >= 2
    prev_day = np.where(has_prev, (prev_key % span + day0) * ticks_per_day, np.iinfo("int64").min)
    dtype = ts_all.dtype
    raw = pd.DataFrame(
        {
            "member_id": members[buyers],
            "first_purchase": first.view(dtype),
            "last_purchase": last.view(dtype),
            "prev_purchase_day": prev_day.view(dtype),  # int64 min is NaT
            "n_purchases": n_purchases[buyers],
            "n_purchase_days": n_days[buyers],
            "n_returns": n_returns[buyers],
            "n_purchases_window": n_window[buyers],
            "monetary_cents": cents[buyers],
        }
    )
    return raw[_RAW_SUMMARY_COLUMNS]


def _sql_summary_raw(table: Any, date: pd.Timestamp) -> pd.DataFrame:
    """The raw per-member facts from :data:`workbook.sql.MEMBER_SUMMARY_SQL`'s Arrow result.

    Each member's purchase days arrive as a sorted list, duplicates kept, as
    day numbers relative to the day of the analysis ``date``.  Over
    the flattened lists at once: a *run* is a stretch of equal days within one
    member's list; the member's runs are its distinct purchase days, and the
    second-last run is its previous purchase day (as the pandas engine takes it
    from its sorted member-day keys).
    """
    import pyarrow.compute as pc

    days = table.column("purchase_days").combine_chunks()
    lengths = pc.fill_null(days.value_lengths(), 0).to_numpy()
    if len(lengths) and lengths.min() < 1:  # the HAVING clause keeps buyers only
        raise RuntimeError("member summary: a buying member without purchase days (please report this bug)")
    values = days.flatten().to_numpy()  # day numbers (int16 or int32, no copy), 0 = the analysis day
    end = np.cumsum(lengths, dtype="int64")
    begin = end - lengths
    new_run = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=new_run[1:])
    new_run[begin] = True
    # 1-based, over all members; int32 while it fits (100M rows: 0.4 GB instead of 0.8).  Cast,
    # then summed in place: np.cumsum(bool, dtype=...) casts in small buffers (1.5-25x slower at 10M).
    run_number = new_run.astype("int32" if len(values) < 2**31 else "int64")
    np.cumsum(run_number, out=run_number)
    last_run = run_number[end - 1].astype("int64")
    n_days = last_run - run_number[begin] + 1
    del run_number
    analysis_day = (date.normalize() - pd.Timestamp(0)).days  # day number since 1970-01-01
    prev_day = values[new_run][np.maximum(last_run - 2, 0)].astype("int64") + analysis_day
    prev = np.where(n_days >= 2, prev_day * 86_400_000_000, np.iinfo("int64").min).view("datetime64[us]")
    # The query returns members in no particular order; sorting them here costs a
    # fraction of an ORDER BY in the query (see ids.sort_order).
    order = sort_order(table.column("member_id"))
    raw = _take_rows(table.drop_columns(["purchase_days"]), order).to_pandas()
    raw["prev_purchase_day"] = prev[order]  # int64 min is NaT
    raw["n_purchase_days"] = n_days[order]
    return raw[_RAW_SUMMARY_COLUMNS]


def _take_rows(table: Any, order: np.ndarray) -> Any:
    """``table.take(order)`` for a query result, with its string columns (the member ids) gathered by
    :func:`workbook.ids.take_fixed_width`: 4x faster than Arrow's ``take`` for ids of one width."""
    import pyarrow as pa

    indices = pa.array(order)
    columns = [take_fixed_width(col, order) if pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
               else col.take(indices) for col in table.columns]
    return pa.Table.from_arrays(columns, schema=table.schema)


def _finish_summary(raw: pd.DataFrame, date: pd.Timestamp, time_unit: str, *, ordered: bool = False) -> pd.DataFrame:
    """Derived metrics, defined once for every engine, on the small per-member table.

    ``ordered``: the raw table is known to be sorted by unique member ids (the SQL
    engines' is, by :func:`_sql_summary_raw`); otherwise that is checked.
    """
    out = raw.set_index("member_id")
    if not ordered and not increasing(out.index):  # pandas' raw table comes sorted: checked, not sorted again
        out = out.sort_index(kind="stable")
    if out.index.dtype == object and pd.api.types.infer_dtype(out.index) in ("string", "empty"):
        out.index = out.index.astype("str")  # what pandas infers for string ids
    for col in _DATETIME_COLUMNS:
        out[col] = out[col].astype(f"datetime64[{time_unit}]")
    for col in _COUNT_COLUMNS:
        out[col] = out[col].astype("int64")
    out["monetary_total"] = out["monetary_cents"].astype("int64") / 100.0
    out["monetary_avg"] = out["monetary_total"] / out["n_purchases"]
    out["recency_days"] = whole_days(date - out["last_purchase"])
    out["tenure_days"] = whole_days(date - out["first_purchase"])
    out = out[SUMMARY_COLUMNS]
    out.attrs["analysis_date"] = date
    return out


def _date_key(transactions: object, analysis_date: object, time_col: str) -> object:
    """The analysis date in the key of a kept result: for a frame, "default" and that date are one key."""
    if isinstance(transactions, pd.DataFrame) and time_col in transactions.columns:
        ts = transactions[time_col]
        if pd.api.types.is_datetime64_any_dtype(ts.dtype):
            try:
                return resolve_analysis_date(ts, analysis_date=analysis_date)
            except Exception:  # noqa: BLE001 - empty or bad dates: the aggregation itself reports them
                pass
    return repr(analysis_date)


def _reused(compute: Callable[..., pd.DataFrame], transactions: object, **args: object) -> pd.DataFrame:
    """``compute(transactions, **args)`` through :mod:`workbook.memo`: same data, same arguments, one pass."""
    key_args = {**args, "analysis_date": _date_key(transactions, args["analysis_date"], args["time_col"])}
    columns = [args["member_col"], args["time_col"], args["amount_col"], args["return_col"] or args["member_col"]]
    return memo.reuse(compute.__name__, transactions, columns, tuple(sorted(key_args.items())),
                      lambda: compute(transactions, **args))


@renamed_arguments(positional=("analysis_date",))
def member_summary(
    transactions: object,
    *,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    window_days: int = 365,
    engine: str | None = None,
) -> pd.DataFrame:
    """One row per member with the purchase facts every analysis needs.

    Parameters
    ----------
    transactions : DataFrame, str, Path, DuckDB relation or pyspark DataFrame
        Tidy transactions, one row per receipt (not modified): a pandas
        DataFrame, a Parquet/CSV file, folder or glob, a DuckDB relation or a
        Spark DataFrame (see :mod:`workbook.engines`).
    analysis_date : date-like, optional
        The "today" of the analysis.  Defaults to midnight after the last
        transaction day.  Transactions at or after it are ignored.
    member_col, time_col, amount_col, return_col : str
        Column names.  ``return_col`` may be absent from the data; negative
        amounts are then returns.
    window_days : int, default 365
        Length of the trailing window for ``n_purchases_window``.
    engine : {None, "pandas", "duckdb", "spark"}
        Computation engine; ``None`` picks it from the type of
        ``transactions`` (DuckDB for a DataFrame with plain ids and
        time-zone-free timestamps, else pandas; DuckDB for files or a DuckDB
        relation; Spark for a Spark DataFrame; see
        :func:`workbook.engines.resolve_engine`).  All engines give identical
        results.

    Returns
    -------
    DataFrame
        Indexed by member id (index name ``member_id``), columns
        :data:`SUMMARY_COLUMNS`, sorted by member id.  Only members with at
        least one purchase before the analysis date appear.  The analysis date
        used is stored in ``result.attrs["analysis_date"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> s = member_summary(tx, analysis_date="2024-01-11")
    >>> s[["n_purchases", "monetary_total", "recency_days"]]  # doctest: +NORMALIZE_WHITESPACE
               n_purchases  monetary_total  recency_days
    member_id
    a                    2            30.0             1
    b                    1             5.0             6
    >>> member_summary(tx, analysis_date="2024-01-11", engine="duckdb").equals(s)
    True
    """
    engine = engines.resolve_engine(transactions, engine, member_col=member_col, time_col=time_col)
    window_days = require_whole(window_days, "window_days")
    return _reused(_member_summary, transactions, analysis_date=analysis_date, member_col=member_col,
                   time_col=time_col, amount_col=amount_col, return_col=return_col, engine=engine,
                   window_days=window_days)


def _member_summary(transactions: object, *, analysis_date: object, engine: str, window_days: int,
                    **cols: str | None) -> pd.DataFrame:
    """``cols``: member_col, time_col, amount_col, return_col (as in :func:`member_summary`)."""
    if engine == "pandas":
        tx, date = purchases(transactions, analysis_date=analysis_date, include_returns=True, **cols)
        raw = _pandas_summary_raw(tx, date, window_days)
        return _finish_summary(raw, date, np.datetime_data(transactions[cols["time_col"]].dtype)[0])
    res = engines.run_sql(sql.MEMBER_SUMMARY_SQL, transactions, engine, analysis_date=analysis_date,
                          window_days=window_days, **cols)
    raw = _sql_summary_raw(res.table, res.analysis_date)
    return _finish_summary(raw, res.analysis_date, res.time_unit, ordered=True)


_PERIOD_UNIT = {"M": "month", "month": "month", "W": "week", "week": "week"}


def _finish_period_table(raw: pd.DataFrame, date: pd.Timestamp, keys: list[str], counts: list[str], *,
                         ordered: bool = False) -> pd.DataFrame:
    """Column types, money in CNY and row order of a per-period table, the same for every engine.

    ``keys`` are the sort columns (the member id or the cohort, then the
    period); ``period`` and ``cohort`` become microsecond timestamps.
    ``ordered``: ``raw`` is already sorted by ``keys`` (the SQL engines' member
    table is, by :func:`_member_period_activity`).
    """
    out = pd.DataFrame(
        {key: raw[key].astype("datetime64[us]") if key in ("cohort", "period") else raw[key] for key in keys}
        | {col: raw[col].astype("int64") for col in counts}
        | {"amount": raw["amount_cents"].astype("int64") / 100.0}
    )
    if not ordered:
        if keys[0] == "member_id":  # an integer sort of the ids (ids.sort_order), not pandas' string sort
            order = sort_order(out["member_id"], then=out[keys[1]].to_numpy())
            out = out.take(order).reset_index(drop=True)
        else:
            out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    out.attrs["analysis_date"] = date
    return out


@renamed_arguments(positional=("analysis_date",))
def member_period_activity(
    transactions: object,
    *,
    analysis_date: object | None = None,
    freq: str = "M",
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    engine: str | None = None,
) -> pd.DataFrame:
    """Purchases and net spend per member and calendar period.

    Parameters
    ----------
    transactions : DataFrame, str, Path, DuckDB relation or pyspark DataFrame
        Tidy transactions (not modified); see :func:`member_summary`.
    analysis_date : date-like, optional
        Transactions at or after it are ignored (default: midnight after the
        last transaction day).
    freq : {"M", "W"}
        Calendar months or weeks (Monday to Sunday).
    member_col, time_col, amount_col, return_col : str
        Column names.
    engine : {None, "pandas", "duckdb", "spark"}
        Computation engine; ``None`` infers it from ``transactions``.

    Returns
    -------
    DataFrame
        Columns ``member_id``, ``period`` (Timestamp of the period's first
        day), ``n_purchases`` (purchase transactions, returns excluded) and
        ``amount`` (net spend in CNY, returns subtracted, exact to the cent),
        sorted by member and period.  Only periods in which the member bought
        or returned something appear.  The analysis date used is stored in
        ``result.attrs["analysis_date"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "a"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-03-02"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> member_period_activity(tx)
      member_id     period  n_purchases  amount
    0         a 2024-01-01            2    30.0
    1         a 2024-03-01            1     5.0
    """
    engine = engines.resolve_engine(transactions, engine, member_col=member_col, time_col=time_col)
    require_choice(freq, list(PERIOD_FREQ), "freq")
    return _reused(_member_period_activity, transactions, analysis_date=analysis_date, member_col=member_col,
                   time_col=time_col, amount_col=amount_col, return_col=return_col, engine=engine, freq=freq)


def _member_period_activity(transactions: object, *, analysis_date: object, engine: str, freq: str,
                            **cols: str | None) -> pd.DataFrame:
    if engine == "pandas":
        tx, date = purchases(transactions, analysis_date=analysis_date, include_returns=True, **cols)
        period = tx["ts"].dt.to_period(PERIOD_FREQ[freq]).dt.start_time
        raw = (
            tx.assign(period=period, is_buy=~tx["is_return"], amount_cents=_cents(tx["amount"]))
            .groupby(["member_id", "period"], sort=True)
            .agg(n_purchases=("is_buy", "sum"), amount_cents=("amount_cents", "sum"))
            .reset_index()
        )
    else:
        res = engines.run_sql(sql.MEMBER_PERIOD_ACTIVITY_SQL, transactions, engine, analysis_date=analysis_date,
                              period_unit=_PERIOD_UNIT[freq], **cols)
        # Sorted here, not by an ORDER BY in the query (see sql.MEMBER_PERIOD_ACTIVITY_SQL).
        order = sort_order(res.table.column("member_id"), then=res.table.column("period").to_numpy())
        raw = _take_rows(res.table, order).to_pandas()
        return _finish_period_table(raw, res.analysis_date, ["member_id", "period"], ["n_purchases"], ordered=True)
    return _finish_period_table(raw, date, ["member_id", "period"], ["n_purchases"])


@renamed_arguments(positional=("analysis_date",))
def cohort_activity(
    transactions: object,
    *,
    analysis_date: object | None = None,
    freq: str = "M",
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    engine: str | None = None,
) -> pd.DataFrame:
    """Buying members, purchases and net spend per first-purchase cohort and period.

    The same facts as :func:`member_period_activity` summed over the members
    of each cohort (members whose first purchase fell in the same calendar
    period), so the SQL engines return a table of a few hundred rows instead
    of one row per member and period.

    Parameters
    ----------
    transactions, analysis_date, freq, member_col, time_col, amount_col, return_col, engine
        As in :func:`member_period_activity`.

    Returns
    -------
    DataFrame
        Columns ``cohort`` (first day of the cohort's period), ``period``
        (first day of the period, not before the cohort's), ``members``
        (members of the cohort with a purchase in the period; in the cohort's
        own period that is the cohort size), ``n_purchases`` and ``amount``
        (net spend, exact to the cent), sorted by cohort and period.  Periods
        in which nobody of the cohort bought or returned anything are absent.
        ``attrs["analysis_date"]`` is the analysis date used.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10", "2024-01-20",
    ...                                  "2024-03-05", "2024-02-14"]),
    ...     "amount": [10.0, 20.0, 30.0, 40.0, 50.0]})
    >>> cohort_activity(tx)
          cohort     period  members  n_purchases  amount
    0 2024-01-01 2024-01-01        2            2    40.0
    1 2024-01-01 2024-02-01        1            1    20.0
    2 2024-01-01 2024-03-01        1            1    40.0
    3 2024-02-01 2024-02-01        1            1    50.0
    """
    engine = engines.resolve_engine(transactions, engine, member_col=member_col, time_col=time_col)
    require_choice(freq, list(PERIOD_FREQ), "freq")
    return _reused(_cohort_activity, transactions, analysis_date=analysis_date, member_col=member_col,
                   time_col=time_col, amount_col=amount_col, return_col=return_col, engine=engine, freq=freq)


def _cohort_activity(transactions: object, *, analysis_date: object, engine: str, freq: str,
                     **cols: str | None) -> pd.DataFrame:
    if engine == "pandas":
        act = member_period_activity(transactions, analysis_date=analysis_date, freq=freq, engine="pandas", **cols)
        date = act.attrs["analysis_date"]
        first = act.loc[act["n_purchases"] > 0].groupby("member_id", sort=False)["period"].min()
        act = act.assign(cohort=act["member_id"].map(first))
        act = act.loc[act["cohort"].notna() & (act["period"] >= act["cohort"])]
        raw = (
            act.assign(buyer=(act["n_purchases"] > 0).astype("int64"),
                       amount_cents=np.round(act["amount"].to_numpy() * 100.0).astype("int64"))
            .groupby(["cohort", "period"], sort=True)
            .agg(members=("buyer", "sum"), n_purchases=("n_purchases", "sum"), amount_cents=("amount_cents", "sum"))
            .reset_index()
        )
    else:
        res = engines.run_sql(sql.COHORT_ACTIVITY_SQL, transactions, engine, analysis_date=analysis_date,
                              period_unit=_PERIOD_UNIT[freq], **cols)
        raw, date = res.table.to_pandas(), res.analysis_date
    return _finish_period_table(raw, date, ["cohort", "period"], ["members", "n_purchases"])
