"""Cleaning and converting columns (vectorised): ids, amounts, dates, flags, codes."""

from __future__ import annotations

import datetime as _dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from workbook.errors import WorkbookInputError
from workbook.io.report import add_problem, note

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

# Common date formats of Chinese exports, tried when the first value matches.
_EXTRA_DATE_FORMATS = (
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y%m%d%H%M%S", "%Y%m%d",
)
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


def convert_id(s, column, rows, problems, notes):
    text = as_text(s)
    sci = text.str.fullmatch(r"\d(?:\.\d+)?[eE]\+?\d+", na=False)
    if sci.any():
        add_problem(problems, "id_scientific", column, rows[sci.to_numpy()], text[sci],
                 "id in scientific notation: Excel converted a long number and lost digits; "
                 "format the column as text in Excel and export again")
    return text


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


def convert_datetime(s, column, rows, problems, notes, date_format=None, timezone=None):
    tz = resolve_tz(timezone)
    if pd.api.types.is_datetime64_any_dtype(s):
        parsed = s.reset_index(drop=True)
    else:
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            raise WorkbookInputError(
                f"Column {column!r} holds {s.dtype} values, not dates; map the right column."
            )
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
        has_tz = raw.str.contains(TZ_SUFFIX, regex=True, na=False)
        if has_tz.any() and not has_tz[present].all():
            bad = (present & ~has_tz).to_numpy()
            add_problem(problems, "mixed_time_zones", column, rows[bad], raw[bad],
                     "has no UTC offset while other rows of the column do")
        utc = bool(has_tz.any())
        if date_format is not None:
            parsed = pd.to_datetime(raw, format=date_format, errors="coerce", utc=utc)
            fmt_desc = f"date_format={date_format!r}"
            mixed_hint = ""
        else:
            first = raw[present].iloc[0]
            candidates = ["ISO8601"]
            guessed = guess_datetime_format(first)
            if guessed:
                candidates.append(guessed)
            candidates += list(_EXTRA_DATE_FORMATS)
            usable = []
            for fmt in dict.fromkeys(candidates):
                try:
                    pd.to_datetime(pd.Series([first]), format=fmt, utc=utc)
                    usable.append(fmt)
                except (ValueError, TypeError):
                    continue
            if not usable:
                bad = present.to_numpy()
                add_problem(problems, "not_a_date", column, rows[bad], raw[bad],
                         f"not a recognised date; pass date_format=... (e.g. '%Y-%m-%d %H:%M')")
                return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
            best = None
            for fmt in usable:
                cand = pd.to_datetime(raw, format=fmt, errors="coerce", utc=utc)
                n_bad = int((present & cand.isna()).sum())
                if best is None or n_bad < best[1]:
                    best = (fmt, n_bad, cand)
                if n_bad == 0:
                    break
            fmt, _, parsed = best
            if fmt != "ISO8601":
                note(notes, column, f"inferred date format {fmt!r} from the first value; "
                      "pass date_format= to be explicit", int(present.sum()), repr(first))
            fmt_desc = f"the format of the first value {first!r}"
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
                "time zone) to convert them to local time."
            )
        parsed = parsed.dt.tz_convert(tz).dt.tz_localize(None)
        note(notes, column, f"converted to local time in {tz.key}", int(parsed.notna().sum()))
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

