"""The loaders: read, map, convert and validate one export file."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.io.convert import (CHANNEL, GENDER, GENDER_UNKNOWN, TIER, as_text, convert_bool,
                                 convert_choice, convert_datetime, convert_float, convert_id)
from workbook.io.mapping import KNOWN_ALIASES, TABLES, norm_name, read_mapping, suggest_mapping
from workbook.ids import WALK_IN_VALUES, lost_leading_zeros, mask_ids
from workbook.io.mapping import DUPLICATE_CHOICES
from workbook.io.read import column_letter, header_hint, read_raw
from workbook.io.report import (PERSONAL_COLUMNS, DataQualityWarning, DataValidationError,
                                LoadResult, Problems, add_problem, display_values, error_message,
                                finish_report, note, report_summary)
from workbook.validation import require_choice, format_rows
from workbook.io.validate import (LOST_ZEROS_REASON, REASONS, known_member_ids, resolve_load_date,
                                  schema_problems)

#: Transactions before this are reported as implausible (``implausible_date``).
EARLIEST_TRANSACTION = pd.Timestamp("2000-01-01")
#: Oldest plausible member age in years: older birth dates are read as unknown.
MAX_AGE_YEARS = 110


def _looks_headerless(names: pd.Series) -> bool:
    """Row 1 holds data, not column names: most 'names' are numbers, dates or e-mails."""
    data_like = (names.str.fullmatch(r"[\d\s\-/:.,¥￥+]+|.+@.+", na=False)
                 | names.str.contains(r"\d{6,}|@", regex=True, na=False))
    return bool(data_like.sum() >= max(2, len(names) / 2))


def safe_names(columns) -> list[str]:
    """Column names for a message, without personal data.

    A 'name' that looks like an id, phone or e-mail is masked.  When row 1 looks
    like data (a file without a header row), every name that is not a known
    export column name is masked too: it may be a member's name.
    """
    names = pd.Series([str(c) for c in columns], dtype="str")
    personal = names.str.contains(r"\d{6,}|@", regex=True, na=False)
    if _looks_headerless(names):
        known = {norm_name(a) for aliases in KNOWN_ALIASES.values() for a in aliases} | set(KNOWN_ALIASES)
        personal |= ~names.map(norm_name).isin(known)
    return names.where(~personal, mask_ids(names)).tolist()


def _headerless_hint(columns) -> str:
    if _looks_headerless(pd.Series([str(c) for c in columns], dtype="str")):
        return (" Row 1 looks like data, not column names: the file seems to have no header "
                "row; add one (e.g. 会员卡号,交易时间,实付金额) and load it again.")
    return ""


def _duplicate_header_error(path, raw, names, columns):
    name = names[0]
    positions = raw.duplicated[name]
    where = ", ".join(f"{column_letter(i)} (#{k})" for k, i in enumerate(positions, start=1))
    choices = " or ".join(f"{name}#{k}" for k in range(1, len(positions) + 1))
    return WorkbookInputError(
        f"{path.name} has {len(positions)} columns named {name!r} (columns {where}); the "
        f"mapping must say which one it means: write {choices} as the column name in the "
        "mapping (#1 is the leftmost).",
        message_zh=f"{path.name} 中有 {len(positions)} 列都叫 {name!r}（第 {where} 列）；请在映射中"
                   f"写明要用哪一列：把列名写成 {choices}（#1 为最左边那列）。")


def _exact_duplicates(frame, clean, rows, spec_dup, problems, notes):
    """Rows equal to an earlier row in every column, in a file without receipt ids.

    Equal text gives equal cleaned values, so only rows whose cleaned numbers and times repeat
    can be duplicates: found by one hash of those typed columns (a collision only adds a
    candidate), then compared as text.  Ten million rows: 7 s as text, 1.6 s so.
    """
    typed = [c for c in clean.columns
             if not (pd.api.types.is_string_dtype(clean[c]) or pd.api.types.is_object_dtype(clean[c]))]
    if typed:  # clean has a row for every row of frame, in order
        candidates = pd.util.hash_pandas_object(clean[typed], index=False).duplicated(keep=False).to_numpy()
        dup = np.zeros(len(frame), dtype=bool)
        if candidates.any():  # the earlier row of a duplicate is a candidate too: the order holds
            dup[candidates] = frame[candidates].duplicated(keep="first").to_numpy()
    else:
        dup = frame.duplicated(keep="first").to_numpy()
    n = int(dup.sum())
    if not n:
        return dup, 0
    where = format_rows(rows[dup])
    if spec_dup == "keep":
        note(notes, "", "kept exact duplicate rows (no receipt id to tell them apart; set "
             "duplicates: drop if they are exported twice)", n, where)
        return np.zeros(len(frame), dtype=bool), n
    add_problem(problems, "exact_duplicate", "", rows[dup], "",
                "the row equals an earlier row in every column and the file has no receipt id "
                "/ 与前面某行完全相同，且文件没有小票号")
    return dup, n


def _implausible_dates(table, clean, rows, problems, notes, now_ts):
    if table in ("transactions", "store_traffic"):
        col = "timestamp" if table == "transactions" else "date"
        early = (clean[col] < EARLIEST_TRANSACTION).to_numpy()
        if early.any():
            add_problem(problems, "implausible_date", col, rows[early],
                        clean.loc[early, col].astype("str"),
                        f"before {EARLIEST_TRANSACTION.date()}: a placeholder or a misread "
                        "date (e.g. an Excel serial read wrongly) / 日期早于 2000 年，多半是占位值或读错")
    if table == "members":
        oldest = now_ts - pd.DateOffset(years=MAX_AGE_YEARS)
        for col, bad in (("birth_date", lambda s: (s.dt.year <= 1900) | (s < oldest)),
                         ("join_date", lambda s: s.dt.year <= 1900)):
            if col not in clean.columns:
                continue
            hit = bad(clean[col]).fillna(False).to_numpy(dtype=bool)
            if hit.any():
                note(notes, col, "read implausible dates (year 1900 or earlier"
                     + (f", age over {MAX_AGE_YEARS}" if col == "birth_date" else "")
                     + ": placeholders for 'unknown') as missing", hit.sum(),
                     format_rows(rows[hit]))
                clean.loc[hit, col] = pd.NaT


def _lost_zeros(clean, rows, problems, members):
    """Unknown member ids that match a member once leading zeros are put back."""
    if members is None or "member_id" not in clean.columns:
        return
    lost = lost_leading_zeros(clean["member_id"], members).to_numpy()
    if lost.any():
        add_problem(problems, "lost_leading_zeros", "member_id", rows[lost],
                    clean.loc[lost, "member_id"], LOST_ZEROS_REASON)
    return lost


def _load(table, path, mapping, *, date_format, timezone, errors, analysis_date, encoding, sep,
          sheet_name, header_row, members, return_report, keep_extra, dayfirst=None,
          walk_in_values=None, duplicates=None, pseudonymiser=None):
    require_choice(errors, ["raise", "drop"], "errors")
    spec = read_mapping(mapping, table)
    opts = {"date_format": date_format, "timezone": timezone, "encoding": encoding, "sep": sep,
            "sheet_name": sheet_name, "header_row": header_row, "dayfirst": dayfirst,
            "walk_in_values": walk_in_values, "duplicates": duplicates}
    defaults = {"sheet_name": 0, "header_row": 1, "walk_in_values": WALK_IN_VALUES,
                "duplicates": "keep"}
    for k in opts:
        if opts[k] is None:
            opts[k] = spec.get(k, defaults.get(k))
    require_choice(opts["duplicates"], list(DUPLICATE_CHOICES), "duplicates")
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
            f"row?); it reads {safe_names(frame.columns)[:6]}.{hint or ' Pass header_row= with the row holding the column names.'}",
            message_zh=f"{path.name} 的第 {opts['header_row']} 行不像表头：{frame.shape[1]} 列中有 "
                       f"{len(unnamed)} 列没有列名（合并单元格或标题行？）。请用 header_row= 指定列名所在的行。"
        )
    # empty rows (blank lines / blank spreadsheet rows) are numbered but skipped
    empty = frame.isna().all(axis=1).to_numpy()
    if frame.empty or empty.all():
        raise WorkbookInputError(
            f"{path.name} has a header row ({safe_names(frame.columns)[:8]}) but no data rows.",
            message_zh=f"{path.name} 只有表头，没有数据行。"
        )
    if empty.any():
        note(notes, "", "skipped completely empty rows", empty.sum(),
             f"row {raw.rows[empty][0]}")
        frame, rows = frame.loc[~empty].reset_index(drop=True), raw.rows[~empty]
    else:
        frame, rows = frame.reset_index(drop=True), raw.rows
    counts = {"rows_read": int(len(frame)), "blank_rows": int(empty.sum())}
    # mapping: a header that appears twice must be chosen by position (name#k)
    ambiguous = [src for src in columns if src in raw.duplicated]
    if not ambiguous and not columns:
        ambiguous = [c for c in raw.duplicated if c in canon]
    if ambiguous:
        raise _duplicate_header_error(path, raw, ambiguous, columns)
    absent = [src for src in columns if src not in frame.columns]
    if absent:
        close = {a: difflib.get_close_matches(a, frame.columns, n=1) for a in absent}
        close = {a: m[0] for a, m in close.items() if m}
        raise WorkbookInputError(
            f"The mapping names column(s) {absent} that are not in {path.name}; the file has "
            f"{safe_names(frame.columns)}." + (f" Did you mean {close}?" if close else "")
            + header_hint(raw.preview, expected, opts["header_row"])
            + _headerless_hint(frame.columns),
            message_zh=f"映射中的列 {absent} 不在 {path.name} 中。"
                       + (f"是否想写 {close}？" if close else "")
        )
    clash = [t for s, t in columns.items() if t in frame.columns and t != s and t not in columns]
    if clash:
        raise WorkbookInputError(
            f"{path.name} already has column(s) {clash} and the mapping maps other columns to "
            "the same name(s); map or rename one of them.",
            message_zh=f"{path.name} 已有列 {clash}，映射又把别的列映射成同名；请只保留一个。"
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
            f"it has {safe_names(frame.columns)}.{hint}"
            + header_hint(raw.preview, expected, opts["header_row"])
            + _headerless_hint(frame.columns),
            message_zh=f"{path.name} 映射后缺少 {table} 的必需列 {missing}。请在映射中写明对应的列"
                       "（参见 docs/mapping_example.yaml）。"
        )
    extra = [c for c in frame.columns if c not in canon]
    if extra and not keep_extra:
        note(notes, "", "left out unmapped columns (map them to keep them)", len(extra),
             ", ".join(safe_names(extra[:8])))
    # conversions
    problems: Problems = []
    out = {}
    walk_in = np.zeros(len(frame), dtype=bool)
    for col, kind in canon.items():
        if col not in frame.columns:
            continue
        s = frame[col]
        if kind == "id":
            walk = opts["walk_in_values"] if (table, col) == ("transactions", "member_id") else ()
            out[col], is_walk = convert_id(s, col, rows, problems, notes, walk)
            if (table, col) == ("transactions", "member_id"):
                walk_in = is_walk
        elif kind == "text":
            out[col] = as_text(s).reset_index(drop=True)
        elif kind in ("float", "int"):
            out[col] = convert_float(s, col, rows, problems, notes, integer=kind == "int")
        elif kind == "datetime":
            out[col] = convert_datetime(s, col, rows, problems, notes, opts["date_format"],
                                        opts["timezone"], opts["dayfirst"])
        elif kind == "bool":
            out[col] = convert_bool(s, col, rows, problems, notes)
        elif kind == "channel":
            out[col] = convert_choice(s, col, rows, problems, notes, CHANNEL, label="channel")
        elif kind == "gender":
            out[col] = convert_choice(s, col, rows, problems, notes, GENDER, GENDER_UNKNOWN,
                                      "gender")
        elif kind == "tier":
            out[col] = convert_choice(s, col, rows, problems, notes, TIER, label="tier")
        elif kind == "score":  # issue 15: survey scores ("10分", "非常满意")
            out[col] = _convert_score(s, col, rows, problems, notes)
        elif kind == "tags":
            out[col] = _convert_tags(s, col, notes)
        elif kind == "contact_channel":
            out[col] = convert_choice(s, col, rows, problems, notes, CONTACT_CHANNEL, label="contact channel")
        elif kind == "contact_flag":
            out[col] = convert_bool(_contact_words(s), col, rows, problems, notes)
    clean = pd.DataFrame(out)
    if keep_extra:
        for c in extra:
            clean[c] = frame[c].to_numpy()
    n_dup = 0
    if table == "transactions":
        if "transaction_id" not in clean.columns:
            _, n_dup = _exact_duplicates(frame, clean, rows, opts["duplicates"], problems, notes)
            clean.insert(0, "transaction_id", "R" + pd.Series(rows).astype("str"))  # vectorised: 10M rows 3.5 -> 1.3 s
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
    if table == "contacts":
        _contact_flags(clean, rows, problems)
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
    now_ts = resolve_load_date(analysis_date=analysis_date, timezone=opts["timezone"])
    _implausible_dates(table, clean, rows, problems, notes, now_ts)
    member_ids = known_member_ids(members)
    lost = _lost_zeros(clean, rows, problems, member_ids) if table in ("transactions", "contacts") else None
    typed = clean.copy()
    if "is_return" in typed.columns:  # still missing only where the flag was unreadable (reported)
        typed["is_return"] = typed["is_return"].fillna(False).astype(bool)
    if lost is not None and lost.any():  # reported as lost zeros, not also as orphans
        typed.loc[lost, "member_id"] = np.nan
    report = finish_report(problems + [schema_problems(table, typed, rows, member_ids, analysis_date=now_ts)],
                           pseudonymiser)
    if "is_return" in typed.columns:
        clean["is_return"] = typed["is_return"]
    cleaning = pd.DataFrame(notes, columns=["column", "action", "count", "example"])
    raw_view = frame[[c for c in frame.columns if c in canon or keep_extra]]
    raw_view = raw_view.set_axis(pd.Index(rows, name="row"))
    counts["exact_duplicates"] = n_dup
    if len(report):
        bad_rows = report["row"].dropna().unique()
        reasons = report.dropna(subset=["row"]).groupby("row", sort=True)["reason"].agg("; ".join)
        rejected = raw_view.loc[raw_view.index.isin(bad_rows)].copy()
        for col in rejected.columns.intersection(PERSONAL_COLUMNS):  # as in the report
            rejected[col] = display_values(col, rejected[col], pseudonymiser).to_numpy()
        rejected["reasons"] = reasons.reindex(rejected.index).to_numpy()
        keep = ~np.isin(rows, bad_rows)
        counts.update(_accounting(table, keep, walk_in, len(rejected)))
        decided = report["check"].eq("exact_duplicate") & (opts["duplicates"] == "drop")
        if (errors == "raise" and not decided.all()) or report["row"].isna().any():
            msg, msg_zh = error_message(table, path.name, report.loc[~decided] if not decided.all()
                                        else report)
            raise DataValidationError(msg, report, rejected, message_zh=msg_zh, counts=counts)
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
        counts.update(_accounting(table, np.ones(len(rows), dtype=bool), walk_in, 0))
    if table == "transactions" and counts["walk_ins"]:
        note(notes, "member_id", "rows without a member (walk-in sales, kept)", counts["walk_ins"])
        cleaning = pd.DataFrame(notes, columns=["column", "action", "count", "example"])
    if return_report:
        return LoadResult(clean, report, rejected, cleaning, counts=counts)
    return clean


#: Satisfaction answers written as words (five-point scale), read as 1-5.
SATISFACTION_WORDS = {"非常满意": 5, "很满意": 5, "满意": 4, "比较满意": 4, "一般": 3, "还行": 3,
                      "不满意": 2, "不太满意": 2, "非常不满意": 1, "很不满意": 1,
                      "very satisfied": 5, "satisfied": 4, "neutral": 3, "dissatisfied": 2,
                      "very dissatisfied": 1}


def _convert_score(s, column, rows, problems, notes):
    """Whole-number scores: a unit such as 分 / 星 / points removed, satisfaction words read as 1-5."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return convert_float(s, column, rows, problems, notes, integer=True)
    raw = as_text(s).reset_index(drop=True)
    key = raw.str.normalize("NFKC").str.strip().str.lower()
    unit = key.str.fullmatch(r"[-+]?\d+(?:\.\d+)?\s*(?:分|星|points?|pts?)", na=False)
    if unit.any():
        i = unit.to_numpy().nonzero()[0][0]
        note(notes, column, "removed the unit of scores (分 / 星 / points)", int(unit.sum()), repr(raw.iloc[i]))
    text = key.str.replace(r"\s*(?:分|星|points?|pts?)$", "", regex=True)
    if column == "satisfaction":
        word = key.map(SATISFACTION_WORDS)
        if word.notna().any():
            i = word.notna().to_numpy().nonzero()[0][0]
            note(notes, column, "read satisfaction words as 1-5 (非常满意 = 5 ... 非常不满意 = 1)",
                 int(word.notna().sum()), f"{raw.iloc[i]!r} -> {int(word.iloc[i])}")
            text = text.where(word.isna(), word.astype("str"))
    return convert_float(text.astype("str").where(raw.notna(), np.nan), column, rows, problems, notes,
                         integer=True)


def _convert_tags(s, column, notes):
    """Complaint tags as text joined by ';' (Chinese and English list separators unified)."""
    raw = as_text(s).reset_index(drop=True)
    norm = raw.str.replace(r"\s*[;；,，、/|]\s*", ";", regex=True).str.strip(";").str.strip()
    changed = (norm != raw) & raw.notna()
    if changed.any():
        note(notes, column, "joined several tags with ';' (read 、，, / | as separators)", int(changed.sum()))
    return norm.where(norm.ne(""), np.nan).astype("str")


def _accounting(table, keep, walk_in, n_rejected) -> dict:
    kept = int(keep.sum())
    out = {"kept": kept, "rejected": int(n_rejected)}
    if table == "transactions":
        out["walk_ins"] = int((keep & walk_in).sum())
        out["member_rows"] = kept - out["walk_ins"]
    return out


@renamed_arguments(now="analysis_date")
def load_transactions(
    path: str | Path,
    mapping: Mapping | str | Path | None = None,
    *,
    date_format: str | None = None,
    timezone: str | None = None,
    errors: str = "raise",
    analysis_date=None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: str | int | None = None,
    header_row: int | None = None,
    members=None,
    return_report: bool = False,
    keep_extra: bool = False,
    dayfirst: bool | None = None,
    walk_in_values=None,
    duplicates: str | None = None,
    pseudonymiser=None,
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
        ``strftime`` format of the timestamps, e.g. ``"%Y/%m/%d %H:%M"``, or
        ``"excel"`` (``"excel1904"``) for Excel serial day numbers.  By default
        the whole column is scanned: the one format that reads every value is
        used and recorded in the cleaning notes; when both a day-first and a
        month-first reading parse every value (``05/01/2025``) the load stops
        and asks for ``date_format`` or ``dayfirst``.  Five-digit numbers in a
        date column are read as Excel serial dates (noted); Excel's fictitious
        day 60 (1900-02-29) is refused.
    timezone : str, optional
        IANA zone of the stores, e.g. ``"Asia/Shanghai"``.  Needed when the
        file's timestamps carry UTC offsets; they are converted to local time
        without a zone.  Timestamps without offsets are taken as local time.
    errors : {"raise", "drop"}
        ``"raise"``: any problem raises :class:`DataValidationError` with the
        report.  ``"drop"``: rows with problems are removed and a
        :class:`DataQualityWarning` says how many and why.
    analysis_date : date-like, optional
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
    dayfirst : bool, optional
        ``True``: ``05/01/2025`` is 5 January; ``False``: 1 May.  Needed only
        when the column reads both ways.
    walk_in_values : list of str, optional
        Member-id placeholders of walk-in sales, read as "no member"; default
        :data:`workbook.ids.WALK_IN_VALUES` (散客, 非会员, 无, -, 0, ...).  The
        count is in ``counts["walk_ins"]`` and the cleaning notes.
    duplicates : {"keep", "drop", "raise"}, optional
        Rows equal to an earlier row in every column, in a file without a
        receipt id (``transaction_id``).  Default ``"keep"`` (two identical
        lines can be two real purchases): they are counted in the cleaning
        notes and ``counts["exact_duplicates"]``.  ``"drop"`` removes them
        (report check ``exact_duplicate``, listed in ``rejected``);
        ``"raise"`` treats them as problems.
    pseudonymiser : workbook.privacy.Pseudonymiser, optional
        When given, member ids in the report and rejected rows are shown as
        their pseudonyms; otherwise they are masked (``13*******78``).  Raw
        member ids, names, phones and e-mails never appear in a message.

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
        the header (the message names the ``header_row`` to pass), a truncated
        or damaged Excel/Parquet file, ambiguous day/month order, two columns
        with the same header used by the mapping (choose ``name#1``/``name#2``).
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
    ...                            "实付金额": "amount"}, analysis_date="2024-06-01")
    >>> df[["member_id", "amount", "is_return"]]
      member_id  amount  is_return
    0       001  1280.0      False
    1       NaN    35.0      False
    """
    return _load("transactions", path, mapping, date_format=date_format, timezone=timezone,
                 errors=errors, analysis_date=analysis_date, encoding=encoding, sep=sep, sheet_name=sheet_name,
                 header_row=header_row, members=members, return_report=return_report,
                 keep_extra=keep_extra, dayfirst=dayfirst, walk_in_values=walk_in_values,
                 duplicates=duplicates, pseudonymiser=pseudonymiser)


@renamed_arguments(now="analysis_date")
def load_members(
    path: str | Path,
    mapping: Mapping | str | Path | None = None,
    *,
    date_format: str | None = None,
    timezone: str | None = None,
    errors: str = "raise",
    analysis_date=None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: str | int | None = None,
    header_row: int | None = None,
    return_report: bool = False,
    keep_extra: bool = False,
    dayfirst: bool | None = None,
    pseudonymiser=None,
):
    """Load a members (CRM) export into the canonical members schema.

    Same reading, mapping and ``errors`` behaviour as :func:`load_transactions`.
    Checks: ``member_id`` present and unique, ``birth_date``/``join_date`` not
    in the future, ``gender`` (女/男/F/M; 未知/保密 read as missing) and ``tier``
    (普通/银卡/金卡/白金卡 or member/silver/gold/platinum) recognised.
    ``date_format`` and ``dayfirst`` apply to both date columns.  Birth dates
    in 1900 or earlier or more than 110 years ago, and join dates in 1900 or
    earlier (placeholders for "unknown"), are read as missing and noted.

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
                 errors=errors, analysis_date=analysis_date, encoding=encoding, sep=sep, sheet_name=sheet_name,
                 header_row=header_row, members=None, return_report=return_report,
                 keep_extra=keep_extra, dayfirst=dayfirst, pseudonymiser=pseudonymiser)


@renamed_arguments(now="analysis_date")
def load_store_traffic(
    path: str | Path,
    mapping: Mapping | str | Path | None = None,
    *,
    date_format: str | None = None,
    errors: str = "raise",
    analysis_date=None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: str | int | None = None,
    header_row: int | None = None,
    return_report: bool = False,
    dayfirst: bool | None = None,
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
    date_format, errors, analysis_date, encoding, sep, sheet_name, header_row, return_report, dayfirst
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
    ...                    analysis_date="2024-06-01")
      store_id       date  visitors
    0      S01 2024-03-01       120
    1      S02 2024-03-01        85
    """
    return _load("store_traffic", path, mapping, date_format=date_format, timezone=None,
                 errors=errors, analysis_date=analysis_date, encoding=encoding, sep=sep, sheet_name=sheet_name,
                 header_row=header_row, members=None, return_report=return_report,
                 keep_extra=False, dayfirst=dayfirst)



def load_surveys(
    path: str | Path,
    mapping: Mapping | str | Path | None = None,
    *,
    date_format: str | None = None,
    timezone: str | None = None,
    errors: str = "raise",
    analysis_date=None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: str | int | None = None,
    header_row: int | None = None,
    members=None,
    return_report: bool = False,
    dayfirst: bool | None = None,
    pseudonymiser=None,
):
    """Load a member-survey export (问卷 / NPS / 满意度) into the canonical surveys schema.

    Same reading, mapping and ``errors`` behaviour as :func:`load_transactions`
    (a sectioned mapping uses its ``surveys:`` section).  Columns:
    ``member_id``, ``answered_at`` and ``nps`` are required; ``survey_id``,
    ``store_id``, ``satisfaction`` and ``complaint_tags`` are optional.
    Cleaning: a unit after a score is removed (``"10分"`` -> 10), satisfaction
    words are read as 1-5 (非常满意 = 5, 满意 = 4, 一般 = 3, 不满意 = 2, 非常不满意
    = 1), several complaint tags are joined by ``;`` (、，, / | read as
    separators).  Checks: ``nps`` a whole number from 0 to 10 and present in
    every row (a blank NPS is a problem, not a 0), ``satisfaction`` from 1 to
    5, ``member_id`` present (and in ``members`` when given), answers not in the
    future, ``survey_id`` unique.  Reports name the column, row and value;
    member ids are masked.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt``/``.tsv``, ``.xlsx`` or ``.parquet`` file.
    mapping : dict or path to YAML, optional
        ``{your column: canonical name}`` or a sectioned mapping with ``surveys:``.
    members : DataFrame or list of ids, optional
        When given, answers of unknown members are reported.
    date_format, timezone, errors, analysis_date, encoding, sep, sheet_name, header_row, return_report, dayfirst
        As in :func:`load_transactions`.

    Returns
    -------
    DataFrame or LoadResult

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "nps.csv"
    >>> _ = p.write_text("会员卡号,填写时间,推荐意愿,满意度,投诉标签\\n"
    ...                  "001,2024/03/01 10:00,10分,非常满意,\\n"
    ...                  "002,2024/03/02 11:30,6,3,排队久、缺货\\n", encoding="gb18030")
    >>> m = {"会员卡号": "member_id", "填写时间": "answered_at", "推荐意愿": "nps", "满意度": "satisfaction",
    ...      "投诉标签": "complaint_tags"}
    >>> load_surveys(p, m, analysis_date="2024-06-01")[["member_id", "nps", "satisfaction", "complaint_tags"]]  # doctest: +NORMALIZE_WHITESPACE
      member_id  nps  satisfaction complaint_tags
    0       001   10             5            NaN
    1       002    6             3      排队久;缺货
    """
    res = _load("surveys", path, mapping, date_format=date_format, timezone=timezone,
                errors=errors, analysis_date=analysis_date, encoding=encoding, sep=sep, sheet_name=sheet_name,
                header_row=header_row, members=members, return_report=True,
                keep_extra=False, dayfirst=dayfirst, pseudonymiser=pseudonymiser)
    for col in ("nps", "satisfaction"):  # whole numbers once the rejected rows are gone
        if col in res.data and res.data[col].notna().all():
            res.data[col] = res.data[col].astype("int64")
    return res if return_report else res.data


# --- contact log (issue 15: omnichannel contacts, workbook.contacts) ---
#: Contact channels and the names CRM exports give them (keys are matched after NFKC + lower case).
CONTACT_CHANNEL = {
    "wechat_official_account": "wechat_official_account", "公众号": "wechat_official_account",
    "微信公众号": "wechat_official_account", "服务号": "wechat_official_account",
    "订阅号": "wechat_official_account", "公众号推文": "wechat_official_account",
    "app_push": "app_push", "app推送": "app_push", "app push": "app_push", "推送": "app_push",
    "push": "app_push", "app": "app_push",
    "sms": "sms", "短信": "sms", "短信群发": "sms",
    "wecom_group": "wecom_group", "企业微信": "wecom_group", "企微": "wecom_group", "企业微信群": "wecom_group",
    "社群": "wecom_group", "wecom": "wecom_group", "企微社群": "wecom_group",
}
from workbook.io.report import CHECK_ZH  # noqa: E402 (the contact checks' Chinese names, kept in this block)

CHECK_ZH.update({"valid_contact_channel": "触达渠道无法识别", "not_delivered": "未送达却标记为打开/退订",
                 "holdout_delivered": "留出组（对照组）收到了消息", "yes_no": "不是 是/否"})
#: Status words of contact exports read as yes/no (on top of 是/否, 1/0, true/false).
_CONTACT_WORDS = {"成功": "是", "失败": "否", "已送达": "是", "未送达": "否", "送达": "是",
                  "已读": "是", "未读": "否", "已打开": "是", "未打开": "否", "已点击": "是", "未点击": "否",
                  "已到店": "是", "未到店": "否", "到店": "是", "已退订": "是", "未退订": "否",
                  "对照组": "是", "留出": "是", "实验组": "否", "发送组": "否"}


def _contact_words(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s
    raw = as_text(s)
    key = raw.str.normalize("NFKC").str.strip()
    return key.map(_CONTACT_WORDS).fillna(raw).astype("str")


def _contact_flags(clean, rows, problems):
    """Funnel order: a message opened, or unsubscribed from, must have been delivered."""
    if "delivered" not in clean.columns:
        return
    delivered = clean["delivered"].fillna(True).to_numpy(dtype=bool)
    for col in ("opened", "unsubscribed"):
        if col in clean.columns:
            bad = clean[col].fillna(False).to_numpy(dtype=bool) & ~delivered
            if bad.any():
                add_problem(problems, "not_delivered", col, rows[bad], clean.loc[bad, col].astype("str"),
                            f"{col} is yes but delivered is no: a message that never arrived cannot be "
                            f"{col} / 消息未送达却标记为{'已打开' if col == 'opened' else '已退订'}")
    if "holdout" in clean.columns:
        bad = clean["holdout"].fillna(False).to_numpy(dtype=bool) & clean["delivered"].fillna(False).to_numpy(
            dtype=bool)
        if bad.any():
            add_problem(problems, "holdout_delivered", "holdout", rows[bad], clean.loc[bad, "holdout"].astype("str"),
                        "a holdout (control) member was sent the message: the holdout is no longer a clean "
                        "comparison / 留出组（对照组）会员却收到了消息，对照组不再干净")


def load_contacts(
    path: str | Path,
    mapping: Mapping | str | Path | None = None,
    *,
    date_format: str | None = None,
    timezone: str | None = None,
    errors: str = "raise",
    analysis_date=None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: str | int | None = None,
    header_row: int | None = None,
    members=None,
    return_report: bool = False,
    dayfirst: bool | None = None,
    pseudonymiser=None,
):
    """Load a contact-log (触达记录) export: one row per message sent to a member.

    Same reading, mapping and ``errors`` behaviour as :func:`load_transactions`
    (a sectioned mapping uses its ``contacts:`` section).  Canonical columns:
    ``member_id``, ``sent_at``, ``channel`` (required), ``campaign_id``,
    ``campaign_kind``, and the yes/no columns ``holdout``, ``delivered``,
    ``opened``, ``visited``, ``unsubscribed``.  Channels are read from CRM names
    (公众号, APP推送, 短信, 企业微信 ...) into ``wechat_official_account``,
    ``app_push``, ``sms``, ``wecom_group``; yes/no columns also accept status
    words such as 成功/失败, 已读/未读, 已到店/未到店.  Checks: a member id in
    every row (and, with ``members``, a known one), ``sent_at`` not in the
    future, channel recognised, nothing opened or unsubscribed without being
    delivered, no holdout row that was delivered.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt``/``.tsv``, ``.xlsx`` or ``.parquet`` file.
    mapping : dict or path to YAML, optional
        ``{your column: canonical name}`` or a sectioned mapping with a
        ``contacts:`` section.
    members : DataFrame or list of ids, optional
        Known members: messages to other member ids are reported.
    date_format, timezone, errors, analysis_date, encoding, sep, sheet_name, header_row, return_report, dayfirst, pseudonymiser
        As in :func:`load_transactions`.

    Returns
    -------
    DataFrame or LoadResult
        The canonical columns present in the file, in file order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "contacts.csv"
    >>> _ = p.write_text("会员卡号,发送时间,渠道,是否送达,是否打开\\n001,2024/03/01 10:00,短信,成功,未读\\n"
    ...                  "002,2024/03/01 10:05,企业微信,成功,已读\\n", encoding="gb18030")
    >>> load_contacts(p, {"会员卡号": "member_id", "发送时间": "sent_at", "渠道": "channel",
    ...                   "是否送达": "delivered", "是否打开": "opened"}, analysis_date="2024-06-01")
      member_id             sent_at      channel  delivered  opened
    0       001 2024-03-01 10:00:00          sms       True   False
    1       002 2024-03-01 10:05:00  wecom_group       True    True
    """
    return _load("contacts", path, mapping, date_format=date_format, timezone=timezone,
                 errors=errors, analysis_date=analysis_date, encoding=encoding, sep=sep, sheet_name=sheet_name,
                 header_row=header_row, members=members, return_report=return_report,
                 keep_extra=False, dayfirst=dayfirst, pseudonymiser=pseudonymiser)
