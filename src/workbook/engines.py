"""Where the per-member aggregation runs: pandas, DuckDB or Spark.

:func:`workbook.aggregate.member_summary` and
:func:`workbook.aggregate.member_period_activity` accept the transactions in
several forms and pick the engine from the form unless told otherwise:

* a pandas DataFrame: ``duckdb`` over its Arrow columns when the ids are plain
  strings or integers and the timestamps have no time zone, else ``pandas``
  (``engine="pandas"``, ``"duckdb"`` and ``"spark"`` can be asked for);
* a str or Path naming a Parquet or CSV file, a folder of them or a glob
  (``"exports/2024-*.parquet"``): ``duckdb`` (``spark`` also accepted);
* a DuckDB relation (``con.read_parquet(...)``, ``con.table("transactions")``):
  ``duckdb``;
* a pyspark DataFrame: ``spark``.

Any other combination raises :class:`~workbook.errors.WorkbookInputError`
saying what to do instead.

The DuckDB and Spark engines run the *same* SQL text from :mod:`workbook.sql`
and return a small pandas DataFrame (one row per member), which
:mod:`workbook.aggregate` finishes exactly as it finishes the pandas result, so
every metric has one definition.

DuckDB works out of core: point it at a folder of Parquet files and it streams
them.  To cap its memory, open the connection yourself and pass a relation::

    con = duckdb.connect(config={"memory_limit": "8GB", "threads": 4})
    member_summary(con.read_parquet("exports/**/*.parquet"))

Spark needs a running session (``SparkSession.builder.getOrCreate()`` is used
when the source is not already a Spark DataFrame).  While the query runs, the
session's time zone is set to UTC (restored afterwards) so that the local
times of the data are never shifted; Spark ``TIMESTAMP`` columns of a caller's
DataFrame are first converted to wall-clock time in the caller's session time
zone.
"""

from __future__ import annotations

import contextlib
import glob
import os
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import numpy as np
import pandas as pd

from workbook import sql
from workbook.errors import WorkbookInputError
from workbook.validation import (
    require_choice,
    require_columns,
    require_dataframe,
    require_datetime,
    require_numeric,
    resolve_analysis_date,
)

ENGINES = ("pandas", "duckdb", "spark")

_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt")
_SOURCE_VIEW = "wb_source"


# --------------------------------------------------------------------------- #
# Recognising sources and choosing the engine
# --------------------------------------------------------------------------- #
def is_duckdb_relation(obj: object) -> bool:
    """True for a DuckDB relation (without importing duckdb)."""
    return type(obj).__name__ == "DuckDBPyRelation" and type(obj).__module__.startswith("duckdb")


def is_spark_dataframe(obj: object) -> bool:
    """True for a pyspark DataFrame, classic or Spark Connect (without importing pyspark)."""
    return type(obj).__name__ == "DataFrame" and type(obj).__module__.startswith("pyspark.")


def source_kind(source: object) -> str:
    """Classify a transactions source: "pandas", "path", "duckdb" or "spark".

    Examples
    --------
    >>> source_kind("exports/*.parquet")
    'path'
    """
    if isinstance(source, pd.DataFrame):
        return "pandas"
    if isinstance(source, (str, os.PathLike)):
        return "path"
    if is_duckdb_relation(source):
        return "duckdb"
    if is_spark_dataframe(source):
        return "spark"
    raise WorkbookInputError(
        f"transactions must be a pandas DataFrame, a path to Parquet/CSV files, a DuckDB "
        f"relation or a pyspark DataFrame; got {type(source).__name__}."
    )


_DEFAULT_ENGINE = {"pandas": "pandas", "path": "duckdb", "duckdb": "duckdb", "spark": "spark"}
_ALLOWED = {
    "pandas": ("pandas", "duckdb", "spark"),
    "path": ("duckdb", "spark"),
    "duckdb": ("duckdb",),
    "spark": ("spark",),
}
_HINTS = {
    "path": "load the files first (e.g. pd.read_parquet(path)) or use engine='duckdb'",
    "duckdb": "convert it with relation.df() or use engine='duckdb'",
    "spark": "convert it with spark_df.toPandas() (small data only) or use engine='spark'",
}


def _frame_suits_sql(frame: pd.DataFrame, member_col: str | None, time_col: str | None) -> bool:
    """A frame DuckDB aggregates exactly like pandas: naive timestamps, plain ids."""
    if member_col not in frame.columns or time_col not in frame.columns:
        return False  # the pandas path names the missing column
    ts, ids = frame[time_col], frame[member_col]
    if not (pd.api.types.is_datetime64_dtype(ts.dtype) and getattr(ts.dt, "tz", None) is None):
        return False
    return pd.api.types.is_string_dtype(ids.dtype) or pd.api.types.is_integer_dtype(ids.dtype)


def resolve_engine(
    source: object, engine: str | None = None, *, member_col: str | None = None, time_col: str | None = None
) -> str:
    """Return the engine for ``source``: ``engine`` if given and compatible, else inferred.

    A pandas DataFrame is aggregated by DuckDB (several times faster, same
    results) when ``member_col`` and ``time_col`` are given and hold plain
    string or integer ids and time-zone-free timestamps; otherwise, and for
    ``engine="pandas"``, by pandas.

    Examples
    --------
    >>> import pandas as pd
    >>> resolve_engine(pd.DataFrame({"a": [1]}))
    'pandas'
    >>> tx = pd.DataFrame({"member_id": ["a"], "timestamp": pd.to_datetime(["2024-01-01"])})
    >>> resolve_engine(tx, member_col="member_id", time_col="timestamp")
    'duckdb'
    >>> resolve_engine("exports/", None)
    'duckdb'
    """
    kind = source_kind(source)
    if engine is None:
        if kind == "pandas" and _frame_suits_sql(source, member_col, time_col) and _has_duckdb():
            return "duckdb"
        return _DEFAULT_ENGINE[kind]
    require_choice(engine, ENGINES, "engine")
    if engine not in _ALLOWED[kind]:
        described = {"path": "a file path", "duckdb": "a DuckDB relation", "spark": "a pyspark DataFrame"}
        raise WorkbookInputError(
            f"engine={engine!r} cannot read {described[kind]}; {_HINTS[kind]}, "
            f"or leave engine=None to use {_DEFAULT_ENGINE[kind]!r}."
        )
    return engine


def _has_duckdb() -> bool:
    import importlib.util

    return importlib.util.find_spec("duckdb") is not None


def _local(path: str | os.PathLike) -> str:
    """``path`` as text with ``~`` expanded (``"~/exports/*.parquet"``); remote URLs untouched."""
    text = os.fspath(path)
    return text if "://" in text else os.path.expanduser(text)


def resolve_files(path: str | os.PathLike) -> tuple[str, str]:
    """Return ``(format, pattern)`` for a file, folder or glob of Parquet/CSV files.

    A folder is searched recursively for ``*.parquet`` files, else ``*.csv``.
    Remote URLs (``s3://``, ``hdfs://`` ...) are passed through unchecked.
    """
    text = _local(path)
    remote = "://" in text
    low = text.lower()
    if not remote and os.path.isdir(text):
        for fmt, suffix in (("parquet", ".parquet"), ("csv", ".csv")):
            pattern = os.path.join(text, "**", f"*{suffix}")
            if glob.glob(pattern, recursive=True):
                return fmt, pattern
        raise WorkbookInputError(f"Folder {text!r} holds no .parquet or .csv files.")
    if low.endswith(_PARQUET_SUFFIXES):
        fmt = "parquet"
    elif low.endswith(_CSV_SUFFIXES):
        fmt = "csv"
    else:
        raise WorkbookInputError(
            f"Cannot tell the file format of {text!r}: name Parquet files *.parquet and "
            "CSV files *.csv, or pass a folder."
        )
    if not remote and not glob.glob(text, recursive=True):
        raise WorkbookInputError(f"No file matches {text!r}.")
    return fmt, text


# --------------------------------------------------------------------------- #
# Column types, as far as the aggregation cares
# --------------------------------------------------------------------------- #
def _duckdb_kind(type_name: str) -> str:
    t = type_name.upper()
    if t.startswith("TIMESTAMP"):
        return "timestamp_tz" if "TIME ZONE" in t or t.endswith("TZ") else "timestamp"
    if t == "BOOLEAN":
        return "boolean"
    if t in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT", "UHUGEINT"}:
        return "integer"
    if t in {"FLOAT", "DOUBLE", "REAL"} or t.startswith("DECIMAL"):
        return "numeric"
    return t.lower()


def _spark_kind(data_type: Any) -> str:
    name = type(data_type).__name__
    if name == "TimestampType":
        return "timestamp_ltz"
    if name == "TimestampNTZType":
        return "timestamp"
    if name == "BooleanType":
        return "boolean"
    if name in {"ByteType", "ShortType", "IntegerType", "LongType"}:
        return "integer"
    if name in {"FloatType", "DoubleType", "DecimalType"}:
        return "numeric"
    return data_type.simpleString()


def _check_schema(
    kinds: dict[str, str], member_col: str, time_col: str, amount_col: str, return_col: str | None
) -> str | None:
    """Validate a file/table schema like the pandas validators; return the usable return column."""
    require_columns(pd.DataFrame(columns=list(kinds)), [member_col, time_col, amount_col], "transactions")
    tkind = kinds[time_col]
    if tkind == "timestamp_tz":
        raise WorkbookInputError(
            f"Column {time_col!r} of transactions holds timestamps with a time zone; the "
            "workbook expects local times without one. Convert them to local time first."
        )
    if not tkind.startswith("timestamp"):
        raise WorkbookInputError(
            f"Column {time_col!r} of transactions must hold dates (timestamps), got type "
            f"{tkind}. Convert it to a timestamp when writing the files."
        )
    if kinds[amount_col] not in ("numeric", "integer"):
        raise WorkbookInputError(
            f"Column {amount_col!r} of transactions must be numeric, got type {kinds[amount_col]}."
        )
    if return_col is None or return_col not in kinds:
        return None
    if kinds[return_col] not in ("boolean", "integer"):
        raise WorkbookInputError(
            f"Column {return_col!r} of transactions must be boolean (true for returns), "
            f"got type {kinds[return_col]}."
        )
    return return_col


def _check_profile(profile: pd.Series, time_col: str, amount_col: str) -> None:
    """Raise on the value problems the pandas validators reject."""
    n_rows = int(profile["n_rows"])
    if n_rows == 0:
        raise WorkbookInputError("transactions is empty: there is nothing to analyse.")
    n_missing = int(profile["n_missing_time"])
    if n_missing:
        raise WorkbookInputError(
            f"Column {time_col!r} of transactions has missing dates in {n_missing} of {n_rows} rows."
        )
    n_bad = int(profile["n_bad_amount"])
    if n_bad:
        raise WorkbookInputError(
            f"Column {amount_col!r} of transactions has missing or infinite values in "
            f"{n_bad} of {n_rows} rows."
        )


# --------------------------------------------------------------------------- #
# Engine back ends: each runs one query text and returns a pyarrow Table
# --------------------------------------------------------------------------- #
class _DuckDB:
    dialect = "duckdb"
    source_name = _SOURCE_VIEW  # the relation's name inside relation.query()

    def __init__(self, relation: Any, keep_alive: Any = None) -> None:
        self.relation = relation
        self._keep_alive = keep_alive  # the connection that owns the relation

    def kinds(self) -> dict[str, str]:
        return {c: _duckdb_kind(str(t)) for c, t in zip(self.relation.columns, self.relation.types)}

    def run(self, text: str) -> Any:
        # Arrow: ids become pandas' Arrow-backed ``str`` without a Python object per id,
        # and list columns stay flat arrays.
        return _arrow_table(self.relation.query(self.source_name, text))


def _arrow_table(relation: Any) -> Any:
    """A DuckDB result as a pyarrow Table (``to_arrow_table`` from DuckDB 1.4 on)."""
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return fetch()


class _Spark:
    dialect = "spark"

    def __init__(self, spark: Any, frame: Any = None) -> None:
        self.spark = spark
        self.frame = frame
        self.source_name = f"wb_source_{uuid.uuid4().hex}"  # temporary view, dropped after each query
        # The caller's time zone, before session() switches the session to UTC.
        self.caller_tz = spark.conf.get("spark.sql.session.timeZone")

    def kinds(self) -> dict[str, str]:
        return {f.name: _spark_kind(f.dataType) for f in self.frame.schema.fields}

    def run(self, text: str) -> Any:
        import pyarrow as pa

        self.frame.createOrReplaceTempView(self.source_name)
        try:
            with _quiet_pyspark():
                # toPandas turns the UTC session's timestamps into naive ones, as DuckDB gives them.
                return pa.Table.from_pandas(self.spark.sql(text).toPandas(), preserve_index=False)
        finally:
            self.spark.catalog.dropTempView(self.source_name)

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """UTC session time zone and Arrow transfers while the engine runs."""
        conf = self.spark.conf
        wanted = {
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.execution.arrow.pyspark.enabled": "true",
        }
        old = {key: conf.get(key, None) for key in wanted}
        for key, value in wanted.items():
            conf.set(key, value)
        try:
            yield
        finally:
            for key, value in old.items():
                if value is None:
                    conf.unset(key)
                else:
                    conf.set(key, value)


@contextlib.contextmanager
def _quiet_pyspark() -> Iterator[None]:
    with warnings.catch_warnings():
        # pyspark 4.x warns about pandas 3 support and its own use of deprecated keywords
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
        yield


def _spark_session(source: object) -> Any:
    if is_spark_dataframe(source):
        return source.sparkSession
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise WorkbookInputError(
            "engine='spark' needs pyspark: pip install 'membership-workbook[spark]'."
        ) from exc
    return SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()


def _canonical_pandas(
    tx: pd.DataFrame, member_col: str, time_col: str, amount_col: str, return_col: str | None
) -> Any:
    """The columns the SQL needs as an Arrow table: microsecond times, a clean return flag.

    Arrow-backed columns (pandas' default ``str`` ids) are passed without a
    copy; converting them to Python objects first would cost more than the
    whole aggregation.  Columns Arrow cannot take as they are (mixed Python
    objects) fall back to a pandas frame that DuckDB reads itself.
    """
    import pyarrow as pa

    ts = tx[time_col]
    if np.datetime_data(ts.dtype)[0] not in ("s", "ms", "us"):
        ts = ts.dt.floor("us")
    columns = {
        member_col: tx[member_col],
        time_col: ts.astype("datetime64[us]"),
        amount_col: tx[amount_col].astype("float64"),
    }
    if return_col is not None:
        flag = tx[return_col]
        columns[return_col] = flag if flag.dtype == bool else flag.fillna(False).astype(bool)
    frame = pd.DataFrame(columns, copy=False)
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return frame


def _backend(source: object, kind: str, engine: str, member_col: str) -> tuple[Any, Any]:
    """Build the engine back end; return (backend, context manager to run it in)."""
    if engine == "duckdb":
        import duckdb

        if kind == "duckdb":
            return _DuckDB(source), contextlib.nullcontext()
        con = duckdb.connect()
        if kind == "pandas":
            if isinstance(source, pd.DataFrame):
                return _DuckDB(con.from_df(source), con), contextlib.nullcontext()
            return _DuckDB(con.from_arrow(source), con), contextlib.nullcontext()
        fmt, pattern = resolve_files(source)
        if fmt == "parquet":
            rel = con.read_parquet(pattern)
        else:
            rel = con.read_csv(pattern, dtype={member_col: "VARCHAR"})
        return _DuckDB(rel, con), contextlib.nullcontext()
    spark = _spark_session(source)
    backend = _Spark(spark)
    return backend, backend.session()


def _spark_frame(spark: Any, source: object, kind: str, time_col: str, caller_tz: str) -> Any:
    """Spark DataFrame of the source; called inside the UTC session."""
    from pyspark.sql import functions as F

    if kind == "pandas":
        with _quiet_pyspark():
            return spark.createDataFrame(source if isinstance(source, pd.DataFrame) else source.to_pandas())
    if kind == "path":
        fmt, _ = resolve_files(source)
        text = _local(source)
        if fmt == "parquet":
            return spark.read.parquet(text)
        return spark.read.csv(text, header=True, inferSchema=True, recursiveFileLookup=os.path.isdir(text))
    frame = source
    field = next((f for f in frame.schema.fields if f.name == time_col), None)
    if field is not None and _spark_kind(field.dataType) == "timestamp_ltz" and caller_tz != "UTC":
        # Instants -> the caller's wall-clock time, expressed in UTC.
        frame = frame.withColumn(time_col, F.from_utc_timestamp(F.col(time_col), caller_tz))
    return frame


@dataclass(kw_only=True)
class SqlResult:
    """What an SQL engine hands back to :mod:`workbook.aggregate`."""

    table: Any  # pyarrow.Table
    analysis_date: pd.Timestamp
    time_unit: str


def run_sql(
    template: Template,
    source: object,
    engine: str,
    *,
    analysis_date: object | None,
    member_col: str,
    time_col: str,
    amount_col: str,
    return_col: str | None,
    window_days: int | None = None,
    period_unit: str = "month",
) -> SqlResult:
    """Validate ``source``, resolve the analysis date and run ``template`` on ``engine``.

    Parameters
    ----------
    template : string.Template
        A query from :mod:`workbook.sql`.
    source : DataFrame, str, Path, DuckDB relation or pyspark DataFrame
        The transactions.
    engine : {"duckdb", "spark"}
        Resolved engine (see :func:`resolve_engine`).
    analysis_date : date-like or None
        ``None``: midnight after the last transaction day.
    member_col, time_col, amount_col, return_col : str
        Column names in the source.
    window_days : int, optional
        Trailing window of ``n_purchases_window``.
    period_unit : {"month", "week"}
        Period of the activity query.

    Returns
    -------
    SqlResult
        The query result as a pyarrow Table, the analysis date used and the
        datetime unit the pandas engine would have produced.
    """
    require_choice(engine, ("duckdb", "spark"), "engine")
    kind = source_kind(source)
    time_unit = "us"
    first_ts = None
    if kind == "pandas":
        require_dataframe(source, "transactions")
        require_columns(source, [member_col, time_col, amount_col], "transactions")
        require_datetime(source, time_col, "transactions")
        require_numeric(source, amount_col, "transactions")
        if getattr(source[time_col].dt, "tz", None) is not None:
            raise WorkbookInputError(
                f"Column {time_col!r} of transactions has a time zone; engine={engine!r} works on "
                "local times without one: use .dt.tz_localize(None) first."
            )
        date = resolve_analysis_date(source[time_col], analysis_date=analysis_date)
        first_ts = source[time_col].min()
        time_unit = np.datetime_data(source[time_col].dtype)[0]
        if return_col is not None and return_col not in source.columns:
            return_col = None
        source = _canonical_pandas(source, member_col, time_col, amount_col, return_col)

    backend, context = _backend(source, kind, engine, member_col)
    with context:
        if engine == "spark":
            backend.frame = _spark_frame(backend.spark, source, kind, time_col, backend.caller_tz)
        names = dict(member_col=member_col, time_col=time_col, amount_col=amount_col)
        if kind != "pandas":
            return_col = _check_schema(backend.kinds(), member_col, time_col, amount_col, return_col)
            profile = backend.run(
                sql.render(sql.PROFILE_SQL, backend.dialect, source=backend.source_name, return_col=None, **names)
            ).to_pandas().iloc[0]
            _check_profile(profile, time_col, amount_col)
            first_ts = profile["first_ts"]
            if analysis_date is None:
                date = pd.Timestamp(profile["default_analysis_ts"])
            else:
                bounds = pd.Series(pd.to_datetime([profile["first_ts"], profile["last_ts"]]))
                date = resolve_analysis_date(bounds, analysis_date=analysis_date)
        window_start = date - pd.Timedelta(days=window_days) if window_days is not None else None
        text = sql.render(
            template,
            backend.dialect,
            source=backend.source_name,
            return_col=return_col,
            analysis_date=date,
            window_start=window_start,
            period_unit=period_unit,
            first_ts=first_ts,
            **names,
        )
        table = backend.run(text)
    return SqlResult(table=table, analysis_date=date, time_unit=time_unit)
