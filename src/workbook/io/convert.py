"""Cleaning and converting columns (vectorised): ids, amounts, dates, flags, codes."""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from workbook.errors import WorkbookInputError
from workbook.ids import normalise_ids
from workbook.io.report import add_problem, note
from workbook.io.strptime import strptime

_TRUE = {"true", "1", "yes", "y", "t", "是", "退货", "退款", "退", "return", "refund"}
_FALSE = {"false", "0", "no", "n", "f", "否", "销售", "正常", "sale", "purchase"}
GENDER = {"f": "F", "female": "F", "女": "F", "女性": "F", "m": "M", "male": "M", "男": "M",
           "男性": "M"}
GENDER_UNKNOWN = {"未知", "保密", "unknown", "u", "其他"}
TIER = {"member": "member", "普通": "member", "普通会员": "member", "普卡": "member",
         "silver": "silver", "银卡": "silver", "银卡会员": "silver",
         "gold": "gold", "金卡": "gold", "金卡会员": "gold",
         "platinum": "platinum", "白金卡": "platinum", "白金": "platinum", "白金卡会员": "platinum"}
CHANNEL = {"offline": "offline", "线下": "offline", "门店": "offline", "store": "offline",
            "pos": "offline", "online": "online", "线上": "online", "小程序": "online",
            "app": "online", "电商": "online", "网店": "online", "ecommerce": "online"}

TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})$"


def is_datetime_cell(v) -> bool:
    return isinstance(v, (_dt.datetime, _dt.date))


def as_text(s: pd.Series) -> pd.Series:
    """Text with surrounding blanks stripped; blanks become missing."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        vals = s.astype("float64")
        integral = vals.dropna().mod(1).eq(0).all() if vals.notna().any() else True
        s = s.astype("Int64") if integral else s
        return s.astype("str").where(s.notna(), np.nan).astype("str")
    out = s.astype("str").str.strip()
    return out.where(out.ne("") & s.notna(), np.nan).astype("str")


_REPAIR_NOTES = {
    "full-width": "converted full-width characters to half-width",
    "text guard": "removed Excel text guards (=\"...\" or a leading ')",
    "float .0": "removed the '.0' of ids exported from number cells",
}


def _id_check(reason: str) -> str:
    if "scientific" in reason:
        return "id_scientific"
    if "fractional" in reason:
        return "id_not_integer"
    return "id_precision_lost"


def convert_id(s, column, rows, problems, notes, walk_in_values=()):
    """Ids via :func:`workbook.ids.normalise_ids`; returns the ids and the walk-in mask.

    Notes name counts and rows, never the ids themselves.
    """
    raw = s.reset_index(drop=True)
    ids, reasons, repairs = normalise_ids(raw, walk_in_values)
    bad = reasons.notna().to_numpy()
    if bad.any():
        checks = reasons[bad].map(_id_check)
        for check in checks.unique():
            sel = bad.copy()
            sel[bad] = (checks == check).to_numpy()
            add_problem(problems, check, column, rows[sel], raw[sel], reasons[sel].to_numpy())
    for code, action in _REPAIR_NOTES.items():
        hit = repairs.eq(code).to_numpy()
        if hit.any():
            note(notes, column, action, hit.sum(), f"row {rows[hit][0]}")
    walk_in = (ids.isna() & reasons.isna()).to_numpy()
    placeholder = repairs.eq("walk-in").to_numpy()
    if placeholder.any():
        note(notes, column, "read walk-in placeholders (散客, 非会员, 无, -, 0, ...) as no member",
             placeholder.sum(), f"row {rows[placeholder][0]}")
    return ids, walk_in


def convert_float(s, column, rows, problems, notes, integer=False):
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        raw = as_text(s).reset_index(drop=True)
        # Clean each distinct text once (prices repeat), then broadcast with the codes.
        codes, uniq = pd.factorize(raw, use_na_sentinel=True)
        u = pd.Series(uniq, dtype="str")
        t = u.str.normalize("NFKC").str.replace("\u2212", "-", regex=False)
        t = t.str.replace(r"\s+", "", regex=True)
        cur_u = t.str.contains(r"[¥$€£]|元|RMB|CNY", case=False, regex=True, na=False)
        t = t.str.replace(r"[¥$€£]|元|RMB|CNY", "", case=False, regex=True)
        paren_u = t.str.fullmatch(r"\(.*\)", na=False)
        t = t.where(~paren_u, "-" + t.str.slice(1, -1))
        grp_u = t.str.fullmatch(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", na=False)
        t = t.where(~grp_u, t.str.replace(",", "", regex=False))
        val_u = pd.to_numeric(t, errors="coerce").astype("float64").to_numpy()
        present = codes >= 0
        safe = np.where(present, codes, 0)

        def spread(arr, fill):
            arr = np.asarray(arr)
            return np.where(present, arr[safe] if len(arr) else fill, fill)

        values = pd.Series(spread(val_u, np.nan), dtype="float64")
        currency = pd.Series(spread(cur_u.to_numpy(bool), False))
        paren = pd.Series(spread(paren_u.to_numpy(bool), False))
        grouped = pd.Series(spread(grp_u.to_numpy(bool), False))
        for mask, action in ((currency, "removed currency symbol or unit"),
                             (grouped, "removed thousands separators"),
                             (paren, "read (accounting parentheses) as negative")):
            ok = mask & values.notna()
            if ok.any():
                i = ok.to_numpy().nonzero()[0][0]
                note(notes, column, action, ok.sum(), f"{raw.iloc[i]!r} -> {values.iloc[i]:g}")
        bad = (raw.notna() & values.isna()).to_numpy()
        if bad.any():
            add_problem(problems, "not_a_number", column, rows[bad], raw[bad],
                     [f"{v!r} is not a number" for v in raw[bad]])
    else:
        values = s.astype("float64")
    values = values.where(np.isfinite(values))
    if integer:
        frac = values.notna() & values.mod(1).ne(0)
        if frac.any():
            add_problem(problems, "not_an_integer", column, rows[frac.to_numpy()], values[frac],
                     [f"{v:g} is not a whole number" for v in values[frac]])
            values = values.where(~frac)
        values = values.astype("Int64")
        if values.notna().all():
            values = values.astype("int64")
    return values.reset_index(drop=True)


def resolve_tz(timezone):
    if timezone is None:
        return None
    try:
        return ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise WorkbookInputError(
            f"timezone={timezone!r} is not a known time zone; use an IANA name such as "
            "'Asia/Shanghai' or 'Asia/Hong_Kong'."
        ) from exc


def _date_formats():
    """Candidate formats: (format, family); family "dmy"/"mdy" marks the ambiguous pairs."""
    fixed = ["ISO8601", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日",
             "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y%m%d%H%M%S", "%Y%m%d",
             "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d"]
    out = [(f, "ymd") for f in fixed]
    for sep in "/-.":
        for year in ("%Y", "%y"):
            for time in (" %H:%M:%S", " %H:%M", ""):
                out.append((f"%d{sep}%m{sep}{year}{time}", "dmy"))
                out.append((f"%m{sep}%d{sep}{year}{time}", "mdy"))
    return out


DATE_FORMATS = _date_formats()
#: ``date_format`` values meaning Excel serial day numbers.
EXCEL_FORMATS = {"excel": "1900", "excel1900": "1900", "excel1904": "1904"}


def excel_serial_dates(values: pd.Series, system: str = "1900"):
    """Excel serial day numbers -> timestamps, and a mask of numbers that are no date.

    Excel's 1900 system counts 1900-01-01 as day 1 and, copying a Lotus 1-2-3
    bug, has a day 60 = 1900-02-29 that never existed: days 1-59 are one day
    off from the days after it.  Day 60 itself and numbers below 1 are refused.
    The 1904 system (old Mac Excel) counts from 1904-01-01 = day 0.
    """
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    whole = np.floor(v)
    if system == "1904":
        base = pd.Series(pd.Timestamp("1904-01-01"), index=v.index)
        bad = v < 0
    else:
        base = pd.Series(np.where(whole < 60, np.datetime64("1899-12-31"), np.datetime64("1899-12-30")),
                         index=v.index).astype("datetime64[us]")
        bad = (v < 1) | (whole == 60)
    days = pd.to_timedelta(v.where(~bad), unit="D").dt.round("s")
    return (base + days).astype("datetime64[us]"), (bad & v.notna()).to_numpy()


def _ambiguity_error(column, rows, raw, dmy, mdy):
    differ = (dmy.notna() & mdy.notna() & dmy.ne(mdy)).to_numpy()
    ex_rows = rows[differ][:3]
    ex_vals = raw[differ].iloc[:3].tolist()
    examples = ", ".join(f"row {r}: {v!r}" for r, v in zip(ex_rows, ex_vals))
    zh_examples = "、".join(f"第 {r} 行 {v!r}" for r, v in zip(ex_rows, ex_vals))
    return WorkbookInputError(
        f"Column {column!r}: the dates can be read day-first or month-first and every value "
        f"parses both ways ({examples}; {int(differ.sum())} rows differ), so the format is not "
        "guessed. Set date_format in the mapping (e.g. date_format: \"%d/%m/%Y %H:%M\" for "
        "day/month/year) or dayfirst: true / dayfirst: false.",
        message_zh=(
            f"列 {column!r} 的日期既可按「日/月/年」也可按「月/日/年」读取，每个值两种读法都成立"
            f"（{zh_examples}；共 {int(differ.sum())} 行结果不同），因此不做猜测。请在映射文件中写明 "
            "date_format（例如 date_format: \"%d/%m/%Y %H:%M\" 表示日/月/年），或写 dayfirst: true"
            " / dayfirst: false。"),
    )


def _parse_text_dates(raw, present, column, rows, notes, utc, dayfirst):
    """Pick the one format that reads the whole column; never guess day/month order."""
    values = raw[present].reset_index(drop=True)
    head = values.iloc[:10_000]
    if len(values) > 50_000 and head.nunique() > 0.9 * len(head):
        codes, u = np.arange(len(values)), values  # timestamps to the second rarely repeat
    else:
        codes, uniq = pd.factorize(values)
        u = pd.Series(uniq, dtype="str")
    formats = [(f, fam) for f, fam in DATE_FORMATS
               if not (dayfirst is True and fam == "mdy") and not (dayfirst is False and fam == "dmy")]
    with warnings.catch_warnings():
        # pandas advises dayfirst=True for a day-first value; the order is decided below, on the whole column
        warnings.simplefilter("ignore", UserWarning)
        guessed = guess_datetime_format(u.iloc[0])
    if guessed and all(guessed != f for f, _ in formats) and "%d" in guessed and "%m" in guessed:
        fam = ("dmy" if guessed.index("%d") < guessed.index("%m") else "mdy") \
            if not guessed.startswith("%Y") else "ymd"
        if not ((dayfirst is True and fam == "mdy") or (dayfirst is False and fam == "dmy")):
            formats.append((guessed, fam))
    # A cheap first pass on a sample of the distinct values, then the whole column.
    step = max(1, len(u) // 400)
    sample = pd.concat([u.iloc[:100], u.iloc[::step]])
    scores = []
    for fmt, fam in formats:
        n_bad = int(pd.to_datetime(sample, format=fmt, errors="coerce", utc=utc).isna().sum())
        scores.append((n_bad, fmt, fam))
    best_sample = min(s[0] for s in scores)
    if best_sample == len(sample):
        return None, None
    results = []
    for n_bad, fmt, fam in scores:
        if n_bad > best_sample:
            continue
        parsed_u = strptime(u, fmt, utc)
        results.append((int(parsed_u.isna().sum()), fmt, fam, parsed_u))
    fewest = min(r[0] for r in results)
    best = [r for r in results if r[0] == fewest]
    dmy = next((r for r in best if r[2] == "dmy"), None)
    mdy = next((r for r in best if r[2] == "mdy"), None)

    def spread(parsed_u):
        out = parsed_u.to_numpy()[codes]
        full = pd.Series(pd.NaT, index=raw.index, dtype=parsed_u.dtype)
        full[present] = out
        return full

    if dmy is not None and mdy is not None and not dmy[3].equals(mdy[3]):
        raise _ambiguity_error(column, rows[present.to_numpy()], raw[present].reset_index(drop=True),
                               pd.Series(dmy[3].to_numpy()[codes]), pd.Series(mdy[3].to_numpy()[codes]))
    n_bad, fmt, fam, parsed_u = best[0]
    if fmt != "ISO8601":
        why = {"dmy": "only the day-first reading parses every value",
               "mdy": "only the month-first reading parses every value"}.get(fam, "")
        if n_bad:
            why = "the format that parses most values"
        first = u.iloc[0]
        note(notes, column, f"inferred date format {fmt!r} from the whole column"
             + (f" ({why})" if why else "") + "; pass date_format= to be explicit",
             int(present.sum()), repr(first))
    return spread(parsed_u), fmt


def _all_serial_numbers(text: pd.Series) -> bool:
    """Every value matches ``\\d{1,6}(?:\\.\\d+)?`` (``\\d``: any Unicode digit, as pandas matches it).

    pandas runs a ``\\d`` pattern through Python's ``re`` value by value once a value is not
    ASCII, as in Chinese date text (2025年1月5日): 3.5 s per 10M rows.  ``[0-9]`` runs in Arrow;
    ``\\d`` is tried only on the values ``[0-9]`` refuses, and not at all if the first of them fails.
    """
    ascii_digits = text.str.fullmatch(r"[0-9]{1,6}(?:\.[0-9]+)?", na=False).to_numpy()
    if ascii_digits.all():
        return True
    rest = text[~ascii_digits]
    pattern = r"\d{1,6}(?:\.\d+)?"
    return re.fullmatch(pattern, rest.iloc[0]) is not None and bool(rest.str.fullmatch(pattern, na=False).all())


def convert_datetime(s, column, rows, problems, notes, date_format=None, timezone=None,
                     dayfirst=None):
    tz = resolve_tz(timezone)
    excel = EXCEL_FORMATS.get(str(date_format).lower()) if date_format is not None else None
    if pd.api.types.is_datetime64_any_dtype(s):
        parsed = s.reset_index(drop=True)
    elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        # Excel number cells in a date column: serial day numbers.
        parsed = _serial(s.reset_index(drop=True), column, rows, problems, notes, excel)
    else:
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            raise WorkbookInputError(
                f"Column {column!r} holds {s.dtype} values, not dates; map the right column.",
                message_zh=f"列 {column!r} 的值是 {s.dtype}，不是日期；请检查映射的列是否正确。")
        s = s.reset_index(drop=True)
        cells = None
        if pd.api.types.is_object_dtype(s) and pd.api.types.infer_dtype(s, skipna=True) == "mixed":
            # Excel column with both date cells and text cells (hand-edited sheets)
            is_cell = s.map(is_datetime_cell).astype(bool)
            cells = pd.to_datetime(s.where(is_cell)).where(is_cell)
            s = s.where(~is_cell)
        raw = as_text(s).reset_index(drop=True)
        present = raw.notna()
        if not present.any() and cells is not None:
            return cells
        if not present.any():
            return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
        if excel is not None or (_all_serial_numbers(raw[present]) and _looks_serial(raw[present])):
            return _serial(raw, column, rows, problems, notes, excel)
        has_tz = raw.str.contains(TZ_SUFFIX, regex=True, na=False)
        if has_tz.any() and not has_tz[present].all():
            bad = (present & ~has_tz).to_numpy()
            add_problem(problems, "mixed_time_zones", column, rows[bad], raw[bad],
                        "has no UTC offset while other rows of the column do")
        utc = bool(has_tz.any())
        if date_format is not None:
            parsed = strptime(raw, date_format, utc)
            fmt_desc = f"date_format={date_format!r}"
            mixed_hint = ""
        else:
            parsed, fmt = _parse_text_dates(raw, present, column, rows, notes, utc, dayfirst)
            if parsed is None:
                bad = present.to_numpy()
                add_problem(problems, "not_a_date", column, rows[bad], raw[bad],
                            "not a recognised date; pass date_format=... (e.g. '%Y-%m-%d %H:%M')")
                return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
            fmt_desc = f"the column's format {fmt!r}"
            mixed_hint = "; the column seems to mix date formats"
        if cells is not None:
            parsed = parsed.where(cells.isna(), cells.astype(parsed.dtype))
        bad = (present & parsed.isna()).to_numpy()
        if bad.any():
            add_problem(problems, "not_a_date", column, rows[bad], raw[bad],
                        [f"{v!r} does not match {fmt_desc}{mixed_hint}; pass date_format=... "
                         "or fix these rows" for v in raw[bad]])
    if getattr(parsed.dt, "tz", None) is not None:
        if tz is None:
            raise WorkbookInputError(
                f"Column {column!r} has timestamps with a UTC offset or time zone (e.g. "
                f"{parsed.dropna().iloc[0]}); pass timezone='Asia/Shanghai' (the stores' "
                "time zone) to convert them to local time.",
                message_zh=f"列 {column!r} 的时间带有 UTC 时差或时区；请传入 timezone='Asia/Shanghai'"
                           "（门店所在时区），以换算为当地时间。")
        parsed = parsed.dt.tz_convert(tz).dt.tz_localize(None)
        note(notes, column, f"converted to local time in {tz.key}", int(parsed.notna().sum()))
    return parsed


def _looks_serial(values: pd.Series) -> bool:
    """Five-digit day numbers (1927-2173): what Excel writes for a date cell saved as a number."""
    v = pd.to_numeric(values, errors="coerce")
    return bool(v.notna().all() and v.between(10_000, 99_999).all())


def _serial(values, column, rows, problems, notes, system):
    v = pd.to_numeric(values, errors="coerce")
    present = values.notna().to_numpy()
    if system is None:
        if not _looks_serial(v[present]):
            raise WorkbookInputError(
                f"Column {column!r} holds numbers (e.g. {v[present].iloc[0]:g}), not dates. If "
                "they are Excel serial day numbers, set date_format: excel in the mapping; "
                "otherwise map the right column.",
                message_zh=f"列 {column!r} 是数字（例如 {v[present].iloc[0]:g}），不是日期。如果是 "
                           "Excel 的日期序列号，请在映射中写 date_format: excel；否则请检查映射的列。")
        system = "1900"
        detected = " (detected: five-digit numbers in a date column)"
    else:
        detected = ""
    parsed, bad = excel_serial_dates(v, system)
    nan = present & v.isna().to_numpy()
    if nan.any():
        add_problem(problems, "not_a_date", column, rows[nan], values[nan],
                    "not an Excel serial day number")
    if bad.any():
        add_problem(problems, "not_a_date", column, rows[bad], v[bad],
                    [f"Excel day {x:g} is no real date (day 60 is 1900-02-29, which Excel "
                     "invents; days below 1 do not exist) / Excel 序列号不对应真实日期" for x in v[bad]])
    ok = present & ~bad & ~nan
    if ok.any():
        i = ok.nonzero()[0][0]
        note(notes, column, f"read numbers as Excel serial dates ({system} date system){detected}",
             int(ok.sum()), f"{v.iloc[i]:g} -> {parsed.iloc[i]}")
    return parsed


def _keys(raw: pd.Series) -> pd.Series:
    """Normalised lookup keys (NFKC, stripped, lower case), computed once per distinct value."""
    codes, uniq = pd.factorize(raw, use_na_sentinel=True)
    key_u = pd.Series(uniq, dtype="str").str.normalize("NFKC").str.strip().str.lower()
    key = key_u.to_numpy(dtype=object, na_value=None)
    out = np.full(len(codes), None, dtype=object)
    out[codes >= 0] = key[codes[codes >= 0]]
    return pd.Series(out, index=raw.index, dtype="str")


def convert_choice(s, column, rows, problems, notes, table: dict, unknown=frozenset(), label=""):
    raw = as_text(s).reset_index(drop=True)
    key = _keys(raw)
    out = key.map(table)
    unk = key.isin(unknown)
    if unk.any():
        note(notes, column, "read as missing (unknown)", unk.sum(), repr(raw[unk].iloc[0]))
    bad = (raw.notna() & out.isna() & ~unk).to_numpy()
    if bad.any():
        valid = sorted(set(table.values()))
        add_problem(problems, "unknown_value", column, rows[bad], raw[bad],
                 [f"{v!r} is not a recognised {label}; valid values are {valid} "
                  f"(or e.g. {sorted(k for k in table if not k.isascii())[:4]})" for v in raw[bad]])
    return out.astype("str")


def convert_bool(s, column, rows, problems, notes):
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean").reset_index(drop=True)
    raw = as_text(s).reset_index(drop=True)
    key = _keys(raw)
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out[key.isin(_TRUE)] = True
    out[key.isin(_FALSE)] = False
    bad = (raw.notna() & out.isna()).to_numpy()
    if bad.any():
        add_problem(problems, "unknown_value", column, rows[bad], raw[bad],
                 [f"{v!r} is not a yes/no value (e.g. 是/否, 退货/销售, true/false, 1/0)"
                  for v in raw[bad]])
    return out

