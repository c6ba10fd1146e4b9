"""The one SQL text per aggregation, shared by DuckDB and Spark SQL.

:mod:`workbook.aggregate` defines every per-member metric; the pandas engine
computes it with pandas, and the DuckDB and Spark engines run the SQL below.
There is exactly one query text per aggregation; both engines execute the same
string.  The text is written in the common subset of the two dialects
(``CAST``, ``CASE``, ``floor``, ``date_trunc``, ``INTERVAL 1 DAY`` and standard
``TIMESTAMP '...'`` literals).  What differs between the engines is how an
identifier is quoted (``"name"`` in DuckDB, `` `name` `` in Spark) and the list
aggregate of :data:`DAY_LIST` (a member's sorted purchase days).

Speed: each query is a single pass with one GROUP BY and returns the small
per-member (or per-cohort) table; no window functions and no self-joins.  The
purchase days are a per-member list rather than ``count(DISTINCT ...)``, which
DuckDB runs as a second hash aggregation over every row.

The templates are plain :class:`string.Template` strings.  :func:`render` fills
their ``$slots`` with

* identifiers (the source view and the user's column names), validated and
  quoted for the dialect, and
* typed literals that the package itself renders from Python values: a
  ``TIMESTAMP '...'`` literal formatted from a :class:`pandas.Timestamp`, or a
  fixed keyword chosen from a whitelist.  No text supplied by a user is ever
  pasted into a query.

The aggregation works on *whole cents* so that the engines agree exactly:
``cents(amount) = floor(amount * 100 + 0.5)`` (round half up), and money sums
are exact integer sums of cents.  Timestamps are handled at microsecond
resolution.

Examples
--------
>>> text = render(MEMBER_SUMMARY_SQL, "duckdb", source="tx", member_col="member_id",
...               time_col="timestamp", amount_col="amount", return_col=None,
...               analysis_date="2024-04-01", window_start="2023-04-02")
>>> "TIMESTAMP '2024-04-01 00:00:00.000000'" in text
True
"""

from __future__ import annotations

import re
from string import Template

import pandas as pd

from workbook.errors import WorkbookInputError

#: How each dialect quotes an identifier: (opening/closing character).
QUOTE_CHARS = {"duckdb": '"', "spark": "`"}

# The transactions the aggregation sees: member transactions before the
# analysis date, with canonical column names, amounts in whole cents and a
# boolean return flag (the rules of workbook.transactions: a return counts as
# -abs(amount) whichever sign the export used).  Shared by every query below.
_TX_CTE = """tx AS (
    SELECT
        $member AS member_id,
        CAST($ts AS TIMESTAMP) AS ts,
        CAST(floor(CAST(CASE WHEN $is_return THEN -abs(CAST($amount AS DOUBLE)) ELSE CAST($amount AS DOUBLE) END
                        AS DOUBLE) * CAST(100 AS DOUBLE) + CAST(0.5 AS DOUBLE)) AS BIGINT) AS cents,
        $is_return AS is_return
    FROM $source
    WHERE $member IS NOT NULL
      AND CAST($ts AS TIMESTAMP) < $analysis_ts
)"""

#: Per-member purchase facts; the raw input of ``aggregate.member_summary``.
#: One GROUP BY, no join and no window.  The result is not ordered: an ORDER BY
#: moves every column (the day lists too) through DuckDB's sort, 1-1.4 s of CPU for
#: 1M members, 3-4 s for 5M; ``aggregate`` sorts the member ids instead.  The
#: purchase days of each member come back as a sorted list, duplicates kept;
#: ``aggregate`` counts its distinct days and takes the previous purchase day
#: from it with NumPy over the whole flattened list at once.  (DuckDB's per-list functions, ``list_distinct`` and
#: ``list_sort(..., 'DESC')[2]``, cost more than the GROUP BY itself.)  The list
#: aggregate is the only dialect-specific text (``$day_list``; see
#: :data:`DAY_LIST`).  Memory: the per-member aggregate states are what peaks
#: (5M members at 100M rows), so the counts are ``count(CASE ... END)`` (an
#: 8-byte state; ``sum`` of integers keeps a 128-bit one) and the days are
#: small day numbers (:func:`day_type`): 3.20 -> 2.52 GiB at 100M rows, same CPU.
MEMBER_SUMMARY_SQL = Template(
    "WITH "
    + _TX_CTE
    + """
SELECT
    member_id,
    min(CASE WHEN is_return THEN NULL ELSE ts END) AS first_purchase,
    max(CASE WHEN is_return THEN NULL ELSE ts END) AS last_purchase,
    $day_list AS purchase_days,
    CAST(count(CASE WHEN is_return THEN NULL ELSE 1 END) AS BIGINT) AS n_purchases,
    CAST(count(CASE WHEN is_return THEN 1 END) AS BIGINT) AS n_returns,
    CAST(count(CASE WHEN NOT is_return AND ts >= $window_start_ts THEN 1 END) AS BIGINT) AS n_purchases_window,
    CAST(sum(cents) AS BIGINT) AS monetary_cents
FROM tx
GROUP BY member_id
HAVING count(CASE WHEN is_return THEN NULL ELSE 1 END) > 0"""
)

#: The list aggregate of :data:`MEMBER_SUMMARY_SQL`, per dialect: the member's
#: purchase days (return rows left out), sorted ascending, duplicates kept, as
#: day numbers relative to the analysis day (0 for the day of the analysis
#: date, -1 the day before, ...) of type ``$day_type`` (see :func:`day_type`).
DAY_LIST = {
    "duckdb": "list_sort(list(CAST(CAST(ts AS DATE) - CAST($analysis_ts AS DATE) AS $day_type))"
              " FILTER (WHERE NOT is_return))",
    "spark": "sort_array(collect_list(CASE WHEN is_return THEN NULL"
             " ELSE CAST(datediff(CAST(ts AS DATE), CAST($analysis_ts AS DATE)) AS $day_type) END))",
}

#: Purchases and net cents per member and calendar period (month or ISO week).
_ACTIVITY_SELECT = """SELECT
    member_id,
    date_trunc('$period_unit', ts) AS period,
    CAST(sum(CASE WHEN is_return THEN 0 ELSE 1 END) AS BIGINT) AS n_purchases,
    CAST(sum(cents) AS BIGINT) AS amount_cents
FROM tx
GROUP BY member_id, date_trunc('$period_unit', ts)"""

#: Unordered, as the member summary: ``aggregate`` sorts the rows (an ORDER BY here
#: cost 3-3.7 of 9 s of CPU for 5M member-months from 10M transactions).
MEMBER_PERIOD_ACTIVITY_SQL = Template("WITH " + _TX_CTE + "\n" + _ACTIVITY_SELECT)

#: Buying members, purchases and net cents per first-purchase cohort and
#: calendar period: the finished small table behind the cohort matrices
#: (``aggregate.cohort_activity``).  A member's cohort is the first period with
#: a purchase; periods before it (returns only) are left out.
COHORT_ACTIVITY_SQL = Template(
    "WITH "
    + _TX_CTE
    + ",\nact AS (\n"
    + _ACTIVITY_SELECT
    + """
),
first_period AS (
    SELECT member_id, min(period) AS cohort
    FROM act
    WHERE n_purchases > 0
    GROUP BY member_id
)
SELECT
    f.cohort,
    a.period,
    CAST(sum(CASE WHEN a.n_purchases > 0 THEN 1 ELSE 0 END) AS BIGINT) AS members,
    CAST(sum(a.n_purchases) AS BIGINT) AS n_purchases,
    CAST(sum(a.amount_cents) AS BIGINT) AS amount_cents
FROM act a
JOIN first_period f ON a.member_id = f.member_id
WHERE a.period >= f.cohort
GROUP BY f.cohort, a.period
ORDER BY f.cohort, a.period"""
)

#: One pass over a file or table source before the aggregation: row count,
#: rows that the pandas validators would reject, the data period and the default
#: analysis date (midnight after the last transaction day), computed in SQL.
PROFILE_SQL = Template(
    """SELECT
    CAST(count(*) AS BIGINT) AS n_rows,
    CAST(sum(CASE WHEN $ts IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS n_missing_time,
    CAST(sum(CASE WHEN $amount IS NULL
                    OR NOT (abs(CAST($amount AS DOUBLE)) < CAST('Infinity' AS DOUBLE))
             THEN 1 ELSE 0 END) AS BIGINT) AS n_bad_amount,
    min(CAST($ts AS TIMESTAMP)) AS first_ts,
    max(CAST($ts AS TIMESTAMP)) AS last_ts,
    date_trunc('day', max(CAST($ts AS TIMESTAMP))) + INTERVAL 1 DAY AS default_analysis_ts
FROM $source"""
)

_RETURN_FLAG = "coalesce(CAST($return_col AS BOOLEAN), false)"
_RETURN_FROM_SIGN = "CAST($amount AS DOUBLE) < CAST(0 AS DOUBLE)"
_PERIOD_UNITS = ("month", "week")
_TIMESTAMP_LITERAL = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")


def quote_identifier(name: object, dialect: str) -> str:
    """Quote a column or view name for ``dialect`` ("duckdb" or "spark").

    The quote character inside the name is doubled, which is how both engines
    escape it, so any non-empty name (Chinese column names included) is safe.

    Examples
    --------
    >>> quote_identifier("会员ID", "duckdb")
    '"会员ID"'
    >>> quote_identifier("odd`name", "spark")
    '`odd``name`'
    """
    if dialect not in QUOTE_CHARS:
        raise WorkbookInputError(f"dialect={dialect!r} is not valid; choose one of {list(QUOTE_CHARS)}.")
    if not isinstance(name, str) or not name or "\x00" in name:
        raise WorkbookInputError(
            f"Column or table name {name!r} is not valid: it must be a non-empty string."
        )
    q = QUOTE_CHARS[dialect]
    return q + name.replace(q, q + q) + q


def timestamp_literal(value: object) -> str:
    """Render a date-like value as a standard SQL ``TIMESTAMP '...'`` literal.

    Examples
    --------
    >>> timestamp_literal("2024-04-01")
    "TIMESTAMP '2024-04-01 00:00:00.000000'"
    """
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        raise WorkbookInputError(
            f"Date {ts} has a time zone; the SQL engines work on local times without one."
        )
    text = ts.strftime("%Y-%m-%d %H:%M:%S.%f")
    if not _TIMESTAMP_LITERAL.match(text):  # e.g. years outside 0001-9999
        raise WorkbookInputError(f"Date {value!r} cannot be used in a SQL query.")
    return f"TIMESTAMP '{text}'"


def day_type(first_ts: object | None, *, analysis_date: object | None) -> str:
    """SQL type of the purchase day numbers (days relative to the analysis day).

    ``SMALLINT`` when every day from ``first_ts`` to the analysis date fits
    (89 years), else ``INTEGER``.  The list of purchase days is the largest
    part of the member-summary aggregation's state (about 20 values per member);
    two bytes a value instead of four take 0.2 GiB off the peak at 100M
    transactions (README, "Performance").

    Examples
    --------
    >>> day_type("2020-01-01", analysis_date="2024-04-01")
    'SMALLINT'
    >>> day_type("1900-01-01", analysis_date="2024-04-01"), day_type(None, analysis_date="2024-04-01")
    ('INTEGER', 'INTEGER')
    """
    if first_ts is None or analysis_date is None or pd.isna(first_ts):
        return "INTEGER"
    span = pd.Timestamp(analysis_date).normalize() - pd.Timestamp(first_ts).normalize()
    return "SMALLINT" if span.days <= 2**15 else "INTEGER"


def render(
    template: Template,
    dialect: str,
    *,
    source: str,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    analysis_date: object | None = None,
    window_start: object | None = None,
    period_unit: str = "month",
    first_ts: object | None = None,
) -> str:
    """Fill a query template with quoted identifiers and package-made literals.

    Parameters
    ----------
    template : string.Template
        One of :data:`MEMBER_SUMMARY_SQL`, :data:`MEMBER_PERIOD_ACTIVITY_SQL`,
        :data:`COHORT_ACTIVITY_SQL`, :data:`PROFILE_SQL`.
    dialect : {"duckdb", "spark"}
        Decides only how identifiers are quoted.
    source : str
        Name of the table or view holding the transactions.
    member_col, time_col, amount_col : str
        Column names in ``source``.
    return_col : str or None
        Boolean return flag column; ``None`` means "negative amount is a return".
    analysis_date, window_start : date-like
        Cut-off dates, rendered as ``TIMESTAMP`` literals.
    period_unit : {"month", "week"}
        Calendar period of :data:`MEMBER_PERIOD_ACTIVITY_SQL` and :data:`COHORT_ACTIVITY_SQL`.
    first_ts : date-like, optional
        The earliest timestamp in ``source``; decides the type of the purchase
        day numbers of :data:`MEMBER_SUMMARY_SQL` (see :func:`day_type`).

    Returns
    -------
    str
        The query text.
    """
    if period_unit not in _PERIOD_UNITS:
        raise WorkbookInputError(f"period_unit={period_unit!r} is not valid; choose one of {list(_PERIOD_UNITS)}.")
    q = {
        "source": quote_identifier(source, dialect),
        "member": quote_identifier(member_col, dialect),
        "ts": quote_identifier(time_col, dialect),
        "amount": quote_identifier(amount_col, dialect),
    }
    if return_col is None:
        is_return = Template(_RETURN_FROM_SIGN).substitute(amount=q["amount"])
    else:
        is_return = Template(_RETURN_FLAG).substitute(return_col=quote_identifier(return_col, dialect))
    analysis_ts = timestamp_literal(analysis_date) if analysis_date is not None else "NULL"
    values = {
        **q,
        "is_return": is_return,
        "period_unit": period_unit,
        "analysis_ts": analysis_ts,
        "window_start_ts": timestamp_literal(window_start) if window_start is not None else "NULL",
        "day_list": Template(DAY_LIST[dialect]).substitute(
            analysis_ts=analysis_ts, day_type=day_type(first_ts, analysis_date=analysis_date)
        ),
    }
    return template.substitute(values)
