"""The loaders: read, map, convert and validate one export file."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.validation import check_in_choices
from workbook.io.convert import (CHANNEL, GENDER, GENDER_UNKNOWN, TIER, as_text, convert_bool,
                                 convert_choice, convert_datetime, convert_float, convert_id)
from workbook.io.mapping import KNOWN_ALIASES, TABLES, read_mapping, suggest_mapping
from workbook.io.read import header_hint, read_raw
from workbook.io.report import (DataQualityWarning, DataValidationError, LoadResult, Problems,
                                add_problem, error_message, finish_report, note, report_summary)
from workbook.io.validate import REASONS, known_member_ids, resolve_now, schema_problems

def _load(table, path, mapping, *, date_format, timezone, errors, now, encoding, sep,
          sheet_name, header_row, members, return_report, keep_extra):
    check_in_choices(errors, ["raise", "drop"], "errors")
    spec = read_mapping(mapping, table)
    opts = {"date_format": date_format, "timezone": timezone, "encoding": encoding, "sep": sep,
            "sheet_name": sheet_name, "header_row": header_row}
    defaults = {"sheet_name": 0, "header_row": 1}
    for k in opts:
        if opts[k] is None:
            opts[k] = spec.get(k, defaults.get(k))
    columns = spec["columns"]
    canon, required = TABLES[table]
    path = Path(path)
    raw = read_raw(path, encoding=opts["encoding"], sep=opts["sep"],
                    sheet_name=opts["sheet_name"], header_row=opts["header_row"])
    notes, frame = raw.notes, raw.frame
    expected = set(columns) | set(canon)
    frame.columns = [str(c).strip() for c in frame.columns]
    unnamed = [c for c in frame.columns if c.startswith("Unnamed:")]
    if frame.shape[1] > 1 and len(unnamed) >= frame.shape[1] / 2:
        hint = header_hint(raw.preview, expected | {a for t in canon for a in KNOWN_ALIASES.get(t, ())},
                            opts["header_row"])
        raise WorkbookInputError(
            f"{path.name}: row {opts['header_row']} does not look like a header row: "
            f"{len(unnamed)} of {frame.shape[1]} columns have no name (merged cells or a title "
            f"row?); it reads {list(frame.columns)[:6]}.{hint or ' Pass header_row= with the row holding the column names.'}"
        )
    # empty rows (blank lines / blank spreadsheet rows) are numbered but skipped
    empty = frame.isna().all(axis=1).to_numpy()
    if frame.empty or empty.all():
        raise WorkbookInputError(
            f"{path.name} has a header row ({list(frame.columns)[:8]}) but no data rows."
        )
    if empty.any():
        note(notes, "", "skipped completely empty rows", empty.sum(),
              f"row {raw.rows[empty][0]}")
        frame, rows = frame.loc[~empty].reset_index(drop=True), raw.rows[~empty]
    else:
        frame, rows = frame.reset_index(drop=True), raw.rows
    # mapping
    absent = [src for src in columns if src not in frame.columns]
    if absent:
        close = {a: difflib.get_close_matches(a, frame.columns, n=1) for a in absent}
        close = {a: m[0] for a, m in close.items() if m}
        raise WorkbookInputError(
            f"The mapping names column(s) {absent} that are not in {path.name}; the file has "
            f"{list(frame.columns)}." + (f" Did you mean {close}?" if close else "")
            + header_hint(raw.preview, expected, opts["header_row"])
        )
    clash = [t for s, t in columns.items() if t in frame.columns and t != s and t not in columns]
    if clash:
        raise WorkbookInputError(
            f"{path.name} already has column(s) {clash} and the mapping maps other columns to "
            "the same name(s); map or rename one of them."
        )
    frame = frame.rename(columns=columns)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        suggestion = suggest_mapping(frame.columns, table)
        hint = (f" Known export names found: {suggestion} — pass them as mapping="
                "{...} or a YAML file (see docs/mapping_example.yaml)." if suggestion else
                " Pass mapping={'<your column>': '<canonical name>', ...}.")
        raise WorkbookInputError(
            f"{path.name} is missing required {table} column(s) {missing} after mapping; "
            f"it has {list(frame.columns)}.{hint}"
            + header_hint(raw.preview, expected, opts["header_row"])
        )
    extra = [c for c in frame.columns if c not in canon]
    if extra and not keep_extra:
        note(notes, "", "left out unmapped columns (map them to keep them)", len(extra),
              ", ".join(map(str, extra[:8])))
    # conversions
    problems: Problems = []
    out = {}
    for col, kind in canon.items():
        if col not in frame.columns:
            continue
        s = frame[col]
        if kind == "id":
            out[col] = convert_id(s, col, rows, problems, notes).reset_index(drop=True)
        elif kind == "text":
            out[col] = as_text(s).reset_index(drop=True)
        elif kind in ("float", "int"):
            out[col] = convert_float(s, col, rows, problems, notes, integer=kind == "int")
        elif kind == "datetime":
            out[col] = convert_datetime(s, col, rows, problems, notes, opts["date_format"],
                                         opts["timezone"])
        elif kind == "bool":
            out[col] = convert_bool(s, col, rows, problems, notes)
        elif kind == "channel":
            out[col] = convert_choice(s, col, rows, problems, notes, CHANNEL, label="channel")
        elif kind == "gender":
            out[col] = convert_choice(s, col, rows, problems, notes, GENDER, GENDER_UNKNOWN,
                                       "gender")
        elif kind == "tier":
            out[col] = convert_choice(s, col, rows, problems, notes, TIER, label="tier")
    clean = pd.DataFrame(out)
    if keep_extra:
        for c in extra:
            clean[c] = frame[c].to_numpy()
    if table == "transactions":
        if "transaction_id" not in clean.columns:
            clean.insert(0, "transaction_id", pd.Series([f"R{r}" for r in rows], dtype="str"))
            note(notes, "transaction_id", "not in file: created from row numbers "
                  "(duplicate receipts cannot be detected)", len(clean), f"R{rows[0]}")
        if "is_return" in clean.columns:
            flag = clean["is_return"].copy()
            bad_flag = np.isin(rows, [r for p in problems if (p["column"] == "is_return").any()
                                      for r in p["row"]])
            empty = flag.isna().to_numpy() & ~bad_flag
            if empty.any():
                flag[empty] = (clean["amount"] < 0)[empty]
                note(notes, "is_return", "empty return flag: read from the amount sign "
                      "(negative = return)", empty.sum(), f"row {rows[empty][0]}")
            pos = (flag.fillna(False) & (clean["amount"] > 0)).to_numpy()
            if pos.any():
                clean.loc[pos, "amount"] = -clean.loc[pos, "amount"]
                note(notes, "amount", "made return amounts negative (flagged returns with a "
                      "positive amount)", pos.sum(), f"row {rows[pos][0]}")
        else:
            flag = pd.Series(clean["amount"] < 0, dtype="boolean")
            note(notes, "is_return", "no return flag column: negative amounts read as returns",
                  int(flag.sum()))
        clean["is_return"] = flag
    if table == "store_traffic":
        with_time = clean["date"].notna() & clean["date"].ne(clean["date"].dt.normalize())
        if with_time.any():
            add_problem(problems, "not_a_day", "date", rows[with_time.to_numpy()],
                     clean.loc[with_time, "date"].astype("str"),
                     "a time of day in a daily count: the file seems to hold hourly counts; "
                     "sum them per store and day first")
        key = clean["store_id"].astype("str") + " " + clean["date"].dt.strftime("%Y-%m-%d")
        dup = (key.duplicated(keep="first") & clean["store_id"].notna()
               & clean["date"].notna() & ~with_time).to_numpy()
        if dup.any():
            add_problem(problems, "duplicate_store_day", "date", rows[dup], key[dup],
                     [REASONS["duplicate_store_day"]("date", k) for k in key[dup]])
    # validation
    now_ts = resolve_now(now, opts["timezone"])
    member_ids = known_member_ids(members)
    typed = clean.copy()
    if "is_return" in typed.columns:  # still missing only where the flag was unreadable (reported)
        typed["is_return"] = typed["is_return"].fillna(False).astype(bool)
    report = finish_report(problems + [schema_problems(table, typed, rows, now_ts, member_ids)])
    if "is_return" in typed.columns:
        clean["is_return"] = typed["is_return"]
    cleaning = pd.DataFrame(notes, columns=["column", "action", "count", "example"])
    raw_view = frame.copy()
    raw_view.index = pd.Index(rows, name="row")
    if len(report):
        bad_rows = report["row"].dropna().unique()
        reasons = report.dropna(subset=["row"]).groupby("row", sort=True)["reason"].agg("; ".join)
        rejected = raw_view.loc[raw_view.index.isin(bad_rows)].copy()
        rejected["reasons"] = reasons.reindex(rejected.index).to_numpy()
        if errors == "raise" or report["row"].isna().any():
            raise DataValidationError(error_message(table, path.name, report), report, rejected)
        keep = ~np.isin(rows, bad_rows)
        clean = clean.loc[keep].reset_index(drop=True)
        summary = report_summary(report)
        warnings.warn(
            f"{path.name}: dropped {len(rejected)} of {len(rows)} {table} row(s): "
            + "; ".join(f"{r.check} in {r.column!r} ({r.count})" for r in summary.itertuples())
            + ". Use return_report=True to get the rejected rows.",
            DataQualityWarning, stacklevel=3,
        )
    else:
        rejected = raw_view.iloc[:0].assign(reasons=pd.Series(dtype="str"))
    if return_report:
        return LoadResult(clean, report, rejected, cleaning)
    return clean


def load_transactions(
    path: str | Path,
    mapping: Mapping | str | Path | None = None,
    *,
    date_format: str | None = None,
    timezone: str | None = None,
    errors: str = "raise",
    now=None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: str | int | None = None,
    header_row: int | None = None,
    members=None,
    return_report: bool = False,
    keep_extra: bool = False,
):
    """Load a transactions export (CSV, Excel or Parquet) into the canonical schema.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt``/``.tsv``, ``.xlsx`` or ``.parquet`` file.
    mapping : dict or path to YAML, optional
        ``{your column: canonical name}`` (see :func:`read_mapping`); a YAML
        file may also set the reading options below.  Arguments given here
        override the file.
    date_format : str, optional
        ``strftime`` format of the timestamps, e.g. ``"%Y/%m/%d %H:%M"``.  By
        default the format is inferred from the first value (and recorded in
        the cleaning notes); values in another format are reported.
    timezone : str, optional
        IANA zone of the stores, e.g. ``"Asia/Shanghai"``.  Needed when the
        file's timestamps carry UTC offsets; they are converted to local time
        without a zone.  Timestamps without offsets are taken as local time.
    errors : {"raise", "drop"}
        ``"raise"``: any problem raises :class:`DataValidationError` with the
        report.  ``"drop"``: rows with problems are removed and a
        :class:`DataQualityWarning` says how many and why.
    now : date-like, optional
        Timestamps after it are reported as future (default: current time).
    encoding : str, optional
        Text encoding; default tries UTF-8 (with or without BOM) then GB18030.
    sep : str, optional
        CSV delimiter; default sniffs among ``,`` ``;`` tab ``|``.
    sheet_name : str or int, optional
        Excel sheet (default the first).
    header_row : int, optional
        Row number (1-based, as in Excel) of the column names; default 1.
    members : DataFrame or list of ids, optional
        Known members: transactions of other member ids are reported.
    return_report : bool, default False
        Return a :class:`LoadResult` ``(data, report, rejected, cleaning)``
        instead of the DataFrame only.
    keep_extra : bool, default False
        Keep unmapped columns (as text).  They are left out by default since
        they may hold personal data.

    Returns
    -------
    DataFrame or LoadResult
        Canonical columns present in the file, with ``transaction_id``,
        ``member_id``, ``store_id`` as text (missing member id = walk-in),
        ``timestamp`` datetime64 (local, no zone), ``amount`` float (CNY,
        returns negative), counts as int64 (``Int64`` when some are missing),
        ``channel`` ``"offline"``/``"online"`` and ``is_return`` bool (from the
        mapped flag, else ``amount < 0``).

    Raises
    ------
    WorkbookInputError
        File-level problems: missing file or columns, empty file, header only,
        undecodable text, a single column (wrong delimiter), title rows above
        the header (the message names the ``header_row`` to pass).
    DataValidationError
        Row-level problems with ``errors="raise"``; ``.report`` and ``.rejected``
        hold the details.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "export.csv"
    >>> _ = p.write_text("会员卡号,交易时间,实付金额\\n001,2024-03-01 10:00,\\"¥1,280.00\\"\\n"
    ...                  ",2024-03-01 11:00,35\\n", encoding="gb18030")
    >>> df = load_transactions(p, {"会员卡号": "member_id", "交易时间": "timestamp",
    ...                            "实付金额": "amount"}, now="2024-06-01")
    >>> df[["member_id", "amount", "is_return"]]
      member_id  amount  is_return
    0       001  1280.0      False
    1       NaN    35.0      False
    """
    return _load("transactions", path, mapping, date_format=date_format, timezone=timezone,
                 errors=errors, now=now, encoding=encoding, sep=sep, sheet_name=sheet_name,
                 header_row=header_row, members=members, return_report=return_report,
                 keep_extra=keep_extra)


def load_members(
    path: str | Path,
    mapping: Mapping | str | Path | None = None,
    *,
    date_format: str | None = None,
    timezone: str | None = None,
    errors: str = "raise",
    now=None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: str | int | None = None,
    header_row: int | None = None,
    return_report: bool = False,
    keep_extra: bool = False,
):
    """Load a members (CRM) export into the canonical members schema.

    Same reading, mapping and ``errors`` behaviour as :func:`load_transactions`.
    Checks: ``member_id`` present and unique, ``birth_date``/``join_date`` not
    in the future, ``gender`` (女/男/F/M; 未知/保密 read as missing) and ``tier``
    (普通/银卡/金卡/白金卡 or member/silver/gold/platinum) recognised.
    ``date_format`` applies to both date columns.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "members.csv"
    >>> _ = p.write_text("卡号,性别,等级\\n001,女,金卡\\n002,男,普通\\n", encoding="utf-8")
    >>> load_members(p, {"卡号": "member_id", "性别": "gender", "等级": "tier"})
      member_id gender    tier
    0       001      F    gold
    1       002      M  member
    """
    return _load("members", path, mapping, date_format=date_format, timezone=timezone,
                 errors=errors, now=now, encoding=encoding, sep=sep, sheet_name=sheet_name,
                 header_row=header_row, members=None, return_report=return_report,
                 keep_extra=keep_extra)


def load_store_traffic(
    path: str | Path,
    mapping: Mapping | str | Path | None = None,
    *,
    date_format: str | None = None,
    errors: str = "raise",
    now=None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: str | int | None = None,
    header_row: int | None = None,
    return_report: bool = False,
):
    """Load a door-counter (客流计数器) export: visitors per store and day.

    Same reading, mapping and ``errors`` behaviour as :func:`load_transactions`
    (a sectioned mapping uses its ``store_traffic:`` section).  Checks:
    ``store_id``, ``date`` and ``visitors`` present in every row; ``visitors`` a
    non-negative whole number; dates not in the future; one row per store and
    day (a second count for the same store and day is reported as
    ``duplicate_store_day``, a time of day as ``not_a_day``: hourly counts must
    be summed per day first).

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt``/``.tsv``, ``.xlsx`` or ``.parquet`` file.
    mapping : dict or path to YAML, optional
        ``{your column: canonical name}`` for ``store_id``, ``date``,
        ``visitors``, or a sectioned mapping with a ``store_traffic:`` section.
    date_format, errors, now, encoding, sep, sheet_name, header_row, return_report
        As in :func:`load_transactions`.

    Returns
    -------
    DataFrame or LoadResult
        ``store_id`` (text), ``date`` (datetime64, midnight), ``visitors``
        (int64), in file order.

    Raises
    ------
    WorkbookInputError
        File-level problems (missing file or columns, empty file, ...).
    DataValidationError
        Row-level problems with ``errors="raise"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "traffic.csv"
    >>> _ = p.write_text("门店编码,日期,进店人数\\nS01,2024/03/01,120\\nS02,2024/03/01,85\\n",
    ...                  encoding="gb18030")
    >>> load_store_traffic(p, {"门店编码": "store_id", "日期": "date", "进店人数": "visitors"},
    ...                    now="2024-06-01")
      store_id       date  visitors
    0      S01 2024-03-01       120
    1      S02 2024-03-01        85
    """
    return _load("store_traffic", path, mapping, date_format=date_format, timezone=None,
                 errors=errors, now=now, encoding=encoding, sep=sep, sheet_name=sheet_name,
                 header_row=header_row, members=None, return_report=return_report,
                 keep_extra=False)

