"""Loading store exports (POS / CRM) into the workbook's data contract.

An analyst's export rarely looks like the synthetic data: Chinese column names,
GBK encoding, ``¥1,234.50`` amounts, a title row above the header, a few
receipts exported twice.  This module turns such a file into the canonical
tidy frames described in ``CONTRIBUTING.md`` and reports every problem it finds;
it never drops a row silently.

The pipeline of :func:`load_transactions` and :func:`load_members`

1. **read** a CSV (encoding tried in the order UTF-8 with or without BOM, then
   GB18030, the superset of GBK/GB2312; UTF-16 with a BOM is recognised; the
   delimiter is sniffed among ``,`` ``;`` tab ``|``), an Excel ``.xlsx`` sheet or
   a Parquet file.  Every value is read as text so card numbers keep their
   leading zeros;
2. **map** the user's column names to canonical ones with a mapping (a dict or
   a YAML file, see :func:`read_mapping`); columns that are not mapped are left
   out (they may hold personal data) and listed in the cleaning notes;
3. **clean and convert**: ids to text, amounts without currency symbols,
   units and thousands separators, dates with an explicit or inferred format
   and time zone, yes/no flags, tiers and channels from Chinese labels.  Every
   cleaning step is counted in the ``cleaning`` notes;
4. **validate** with a pandera schema plus checks relative to the data
   (duplicate ids, member ids missing from the members table, timestamps after
   ``now``).  Problems form a *report* with one row per problem and columns
   ``check``, ``column``, ``row``, ``value``, ``reason``;
5. with ``errors="raise"`` (default) any problem raises
   :class:`DataValidationError` (a :class:`~workbook.errors.WorkbookInputError`)
   carrying the report; with ``errors="drop"`` the rows at fault are removed,
   a :class:`DataQualityWarning` says how many and why, and the full report is
   available with ``return_report=True``.

Row numbers
-----------
``row`` in a report is the row number you see in Excel or a text editor: the
header is row ``header_row`` (default 1) and the first data row is
``header_row + 1``.  Blank lines count (they are skipped but numbered).  For
Parquet files the first record is row 1.  For frames passed to
:func:`validate_transactions` / :func:`validate_members`, ``row`` is the index
label.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import csv
import difflib
import io as _io
import re
import unicodedata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from workbook.errors import WorkbookInputError
from workbook.validation import check_in_choices, format_rows

with warnings.catch_warnings():  # pandera imports pyspark, which warns about pandas 3
    warnings.simplefilter("ignore", FutureWarning)
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

__all__ = [
    "TRANSACTION_COLUMNS",
    "MEMBER_COLUMNS",
    "TRAFFIC_COLUMNS",
    "REPORT_COLUMNS",
    "DataValidationError",
    "DataQualityWarning",
    "LoadResult",
    "WorkbookData",
    "read_mapping",
    "suggest_mapping",
    "load_transactions",
    "load_members",
    "load_store_traffic",
    "validate_transactions",
    "validate_members",
    "report_summary",
    "load_workbook_data",
]

# --------------------------------------------------------------------------
# Canonical columns
# --------------------------------------------------------------------------

#: Canonical transaction columns and their kind (how they are parsed).
TRANSACTION_COLUMNS: dict[str, str] = {
    "transaction_id": "id",
    "member_id": "id",
    "store_id": "id",
    "timestamp": "datetime",
    "amount": "float",
    "items": "int",
    "discount": "float",
    "points_earned": "int",
    "points_redeemed": "int",
    "channel": "channel",
    "is_return": "bool",
}
TRANSACTION_REQUIRED = ("member_id", "timestamp", "amount")

#: Canonical member columns and their kind.
MEMBER_COLUMNS: dict[str, str] = {
    "member_id": "id",
    "name": "text",
    "phone": "text",
    "email": "text",
    "gender": "gender",
    "birth_date": "datetime",
    "join_date": "datetime",
    "acquisition_channel": "text",
    "home_store_id": "id",
    "tier": "tier",
}
MEMBER_REQUIRED = ("member_id",)

#: Canonical store-traffic (door counter) columns: one row per store and day.
TRAFFIC_COLUMNS: dict[str, str] = {
    "store_id": "id",
    "date": "datetime",
    "visitors": "int",
}
TRAFFIC_REQUIRED = ("store_id", "date", "visitors")

_TABLES = {
    "transactions": (TRANSACTION_COLUMNS, TRANSACTION_REQUIRED),
    "members": (MEMBER_COLUMNS, MEMBER_REQUIRED),
    "store_traffic": (TRAFFIC_COLUMNS, TRAFFIC_REQUIRED),
}

#: Columns of every problem report.
REPORT_COLUMNS = ["check", "column", "row", "value", "reason"]

#: Column names often found in Chinese POS/CRM exports; used only for
#: suggestions (:func:`suggest_mapping`), never applied silently.
KNOWN_ALIASES: dict[str, tuple[str, ...]] = {
    "transaction_id": ("交易号", "交易编号", "订单号", "订单编号", "小票号", "流水号", "单号",
                       "单据号", "receipt_id", "order_id", "transaction_no"),
    "member_id": ("会员卡号", "会员号", "会员编号", "会员id", "卡号", "customer_id", "member_no",
                  "card_no", "vip_no"),
    "store_id": ("门店编码", "门店编号", "门店代码", "门店id", "店铺编码", "店号", "store_code",
                 "shop_id", "shop_code"),
    "timestamp": ("交易时间", "销售时间", "下单时间", "支付时间", "消费时间", "交易日期", "销售日期",
                  "datetime", "order_time", "sale_time"),
    "amount": ("实付金额", "实收金额", "支付金额", "销售金额", "消费金额", "金额", "paid_amount",
               "net_amount"),
    "items": ("件数", "商品数量", "数量", "销售数量", "quantity", "qty"),
    "discount": ("优惠金额", "折扣金额", "折扣", "discount_amount"),
    "points_earned": ("获得积分", "积分获得", "本次积分", "新增积分"),
    "points_redeemed": ("使用积分", "积分抵扣", "抵扣积分", "兑换积分"),
    "channel": ("渠道", "销售渠道", "交易渠道"),
    "is_return": ("是否退货", "退货标志", "退货", "交易类型"),
    "name": ("姓名", "会员姓名", "名字", "customer_name"),
    "phone": ("手机号", "手机", "电话", "联系电话", "手机号码", "mobile"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "e-mail", "mail"),
    "gender": ("性别", "sex"),
    "birth_date": ("生日", "出生日期", "birthday", "dob"),
    "join_date": ("注册时间", "入会时间", "开卡时间", "注册日期", "入会日期", "开卡日期"),
    "acquisition_channel": ("注册渠道", "来源渠道", "入会渠道"),
    "home_store_id": ("所属门店", "开卡门店", "归属门店", "注册门店"),
    "tier": ("会员等级", "等级", "卡类型", "卡等级"),
    "date": ("日期", "营业日期", "统计日期", "day"),
    "visitors": ("客流", "客流量", "进店人数", "进店客流", "进店数", "traffic", "footfall"),
}

_TRUE = {"true", "1", "yes", "y", "t", "是", "退货", "退款", "退", "return", "refund"}
_FALSE = {"false", "0", "no", "n", "f", "否", "销售", "正常", "sale", "purchase"}
_GENDER = {"f": "F", "female": "F", "女": "F", "女性": "F", "m": "M", "male": "M", "男": "M",
           "男性": "M"}
_GENDER_UNKNOWN = {"未知", "保密", "unknown", "u", "其他"}
_TIER = {"member": "member", "普通": "member", "普通会员": "member", "普卡": "member",
         "silver": "silver", "银卡": "silver", "银卡会员": "silver",
         "gold": "gold", "金卡": "gold", "金卡会员": "gold",
         "platinum": "platinum", "白金卡": "platinum", "白金": "platinum", "白金卡会员": "platinum"}
_CHANNEL = {"offline": "offline", "线下": "offline", "门店": "offline", "store": "offline",
            "pos": "offline", "online": "online", "线上": "online", "小程序": "online",
            "app": "online", "电商": "online", "网店": "online", "ecommerce": "online"}

_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
# Common date formats of Chinese exports, tried when the first value matches.
_EXTRA_DATE_FORMATS = (
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y%m%d%H%M%S", "%Y%m%d",
)
_TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})$"


# --------------------------------------------------------------------------
# Result types and errors
# --------------------------------------------------------------------------


class DataQualityWarning(UserWarning):
    """Rows were dropped (``errors="drop"``); the message says how many and why."""


class DataValidationError(WorkbookInputError):
    """Problems found in a file or frame.

    Attributes
    ----------
    report : DataFrame
        One row per problem: ``check``, ``column``, ``row``, ``value``, ``reason``.
    rejected : DataFrame
        The rows at fault as read (canonical column names, raw text values),
        indexed by row number, with a ``reasons`` column.
    """

    def __init__(self, message: str, report: pd.DataFrame, rejected: pd.DataFrame | None = None):
        super().__init__(message)
        self.report = report
        self.rejected = rejected if rejected is not None else pd.DataFrame()


class LoadResult(NamedTuple):
    """What :func:`load_transactions` / :func:`load_members` return with ``return_report=True``.

    Unpack it: ``df, report, rejected, cleaning = load_transactions(..., return_report=True)``.

    Attributes
    ----------
    data : DataFrame
        The clean frame in the canonical schema.
    report : DataFrame
        One row per problem (``check``, ``column``, ``row``, ``value``, ``reason``);
        empty when the file is clean.
    rejected : DataFrame
        Rows removed with ``errors="drop"``, as read, indexed by row number,
        with a ``reasons`` column.
    cleaning : DataFrame
        What was cleaned or inferred: ``column``, ``action``, ``count``, ``example``.
    """

    data: pd.DataFrame
    report: pd.DataFrame
    rejected: pd.DataFrame
    cleaning: pd.DataFrame

    def write_report(self, path: str | Path) -> Path:
        """Write the rejected rows with their reasons to a CSV file Excel can open.

        The file is UTF-8 with a BOM so Excel shows Chinese text correctly.  It
        contains the rejected rows' raw values: keep it out of git.
        """
        path = Path(path)
        self.rejected.to_csv(path, encoding="utf-8-sig", index_label="row")
        return path


@dataclass
class WorkbookData:
    """The data every notebook works on (see :func:`load_workbook_data`).

    ``stores``, ``campaigns`` and ``truth`` exist only for the synthetic data
    set and are ``None`` for user data; ``store_traffic`` is the synthetic
    traffic or the user's door-counter file (``None`` when not given).  ``reports`` maps table
    name to its :class:`LoadResult` for user data.
    """

    transactions: pd.DataFrame
    members: pd.DataFrame | None = None
    stores: pd.DataFrame | None = None
    store_traffic: pd.DataFrame | None = None
    campaigns: pd.DataFrame | None = None
    truth: pd.DataFrame | None = None
    source: str = "synthetic"
    pseudonymised: bool = False
    reports: dict[str, LoadResult] = field(default_factory=dict)


# --------------------------------------------------------------------------
# Mapping
# --------------------------------------------------------------------------

_OPTION_KEYS = ("date_format", "timezone", "header_row", "sheet_name", "sep", "encoding")


def _norm_name(name: object) -> str:
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", str(name))).lower()


def _read_mapping_file(path: Path) -> Any:
    import yaml

    if not path.exists():
        raise WorkbookInputError(f"Mapping file {str(path)!r} does not exist.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="gb18030")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WorkbookInputError(f"Mapping file {str(path)!r} is not valid YAML: {exc}") from exc


def _raw_mapping(mapping):
    if isinstance(mapping, (str, Path)):
        return _read_mapping_file(Path(mapping))
    return mapping


def _is_sectioned(mapping) -> bool:
    m = _raw_mapping(mapping)
    return isinstance(m, Mapping) and bool(m) and set(m) <= set(_TABLES)


def read_mapping(mapping: Mapping | str | Path | None, table: str = "transactions") -> dict:
    """Read a column mapping (and optional reading options) for one table.

    Parameters
    ----------
    mapping : dict, path to a YAML file, or None
        Either a flat ``{source column: canonical name}`` dict, or a dict with
        sections ``transactions:`` and/or ``members:``.  A section is either a
        flat mapping or has a ``columns:`` mapping plus reading options
        (``date_format``, ``timezone``, ``header_row``, ``sheet_name``, ``sep``,
        ``encoding``).  A flat mapping applies to whichever table is loaded.
    table : {"transactions", "members", "store_traffic"}
        Which section to return.

    Returns
    -------
    dict
        ``{"columns": {source: canonical}, <option>: value, ...}``.

    Raises
    ------
    WorkbookInputError
        Unknown canonical names (the message lists the valid ones), two source
        columns mapped to the same name, unknown options, unreadable YAML.

    Examples
    --------
    >>> read_mapping({"会员卡号": "member_id", "实付金额": "amount"})
    {'columns': {'会员卡号': 'member_id', '实付金额': 'amount'}}
    >>> read_mapping({"members": {"columns": {"卡号": "member_id"}}}, table="members")
    {'columns': {'卡号': 'member_id'}}
    """
    check_in_choices(table, list(_TABLES), "table")
    if mapping is None:
        return {"columns": {}}
    source = "mapping"
    if isinstance(mapping, (str, Path)):
        source = f"mapping file {str(mapping)!r}"
    mapping = _raw_mapping(mapping)
    if mapping is None:
        return {"columns": {}}
    if not isinstance(mapping, Mapping):
        raise WorkbookInputError(
            f"The {source} must be a dict of column names, got {type(mapping).__name__}."
        )
    if mapping and set(mapping) <= set(_TABLES):
        section = mapping.get(table) or {}
        where = f"section {table!r} of the {source}"
    else:
        section, where = mapping, f"the {source}"
    if not isinstance(section, Mapping):
        raise WorkbookInputError(f"{where} must be a dict, got {type(section).__name__}.")
    if "columns" in section and isinstance(section["columns"], Mapping):
        options = {k: v for k, v in section.items() if k != "columns"}
        columns = dict(section["columns"])
        unknown_opts = sorted(set(options) - set(_OPTION_KEYS))
        if unknown_opts:
            raise WorkbookInputError(
                f"Unknown option(s) {unknown_opts} in {where}; valid options are "
                f"{list(_OPTION_KEYS)}."
            )
    else:
        options, columns = {}, dict(section)
    valid = list(_TABLES[table][0])
    columns = {str(k): v for k, v in columns.items()}
    bad = {k: v for k, v in columns.items() if v not in valid}
    if bad:
        first = next(iter(bad.items()))
        raise WorkbookInputError(
            f"{where} maps {first[0]!r} to {first[1]!r}, which is not a {table} column "
            f"({len(bad)} unknown target(s): {sorted(map(str, bad.values()))}). Valid "
            f"canonical names are {valid}."
        )
    targets = pd.Series(list(columns.values()), index=list(columns.keys()))
    dup = targets[targets.duplicated(keep=False)]
    if len(dup):
        name = dup.iloc[0]
        raise WorkbookInputError(
            f"{where} maps several columns to {name!r}: {list(dup[dup == name].index)}. "
            "Each canonical column can come from one source column only."
        )
    return {"columns": columns, **options}


def suggest_mapping(columns, table: str = "transactions") -> dict[str, str]:
    """Suggest a mapping from known export column names (a starting point to check).

    Parameters
    ----------
    columns : iterable of str, or DataFrame
        The column names of an export.
    table : {"transactions", "members"}

    Returns
    -------
    dict
        ``{source column: canonical name}`` for recognised names only.

    Examples
    --------
    >>> suggest_mapping(["会员卡号", "交易时间", "实付金额", "收银员"])
    {'会员卡号': 'member_id', '交易时间': 'timestamp', '实付金额': 'amount'}
    """
    check_in_choices(table, list(_TABLES), "table")
    if isinstance(columns, pd.DataFrame):
        columns = columns.columns
    canon = _TABLES[table][0]
    lookup = {_norm_name(c): c for c in canon}
    for target, aliases in KNOWN_ALIASES.items():
        if target in canon:
            lookup.update({_norm_name(a): target for a in aliases})
    out: dict[str, str] = {}
    for col in columns:
        target = lookup.get(_norm_name(col))
        if target is not None and target not in out.values() and target != col:
            out[str(col)] = target
    return out


# --------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------


@dataclass
class _Raw:
    frame: pd.DataFrame  # canonical or source column names, text/typed values
    rows: np.ndarray  # file row number of each frame row
    notes: list = field(default_factory=list)
    preview: list | None = None  # first lines as lists of cells, for header hints


def _note(notes: list, column: str, action: str, count: int, example: str = "") -> None:
    notes.append({"column": column, "action": action, "count": int(count), "example": example})


def _decode(data: bytes, path: Path, encoding: str | None, notes: list) -> str:
    if encoding is not None:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise WorkbookInputError(
                f"Could not read {path.name} with encoding={encoding!r}: {exc}. Leave "
                "encoding=None to try UTF-8 and GB18030 (GBK) automatically."
            ) from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _note(notes, "", "decoded file as UTF-16 (Excel 'Unicode text' export)", 1)
        return data.decode("utf-16")
    try:
        text = data.decode("utf-8-sig")
        if data.startswith(codecs.BOM_UTF8):
            _note(notes, "", "decoded file as UTF-8 with BOM", 1)
        return text
    except UnicodeDecodeError as utf8_exc:
        try:
            text = data.decode("gb18030")
            _note(notes, "", "decoded file as GB18030 (GBK): not valid UTF-8", 1)
            return text
        except UnicodeDecodeError as gb_exc:
            line = data[: utf8_exc.start].count(b"\n") + 1
            raise WorkbookInputError(
                f"Could not decode {path.name}: it is neither UTF-8 (byte "
                f"{data[utf8_exc.start:utf8_exc.start + 1]!r} at position {utf8_exc.start}, "
                f"line {line}) nor GB18030/GBK (byte "
                f"{data[gb_exc.start:gb_exc.start + 1]!r} at position {gb_exc.start}). "
                "Re-save the file as 'CSV UTF-8' in Excel, or pass the file's encoding, "
                "e.g. encoding='big5' or encoding='cp1252'."
            ) from gb_exc


def _split_line(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep), [])


def _sniff_delimiter(lines: list[str], header_idx: int, path: Path) -> str:
    """Pick the delimiter giving most fields on the header line (consistent below)."""
    header = lines[header_idx] if header_idx < len(lines) else ""
    counts = {d: len(_split_line(header, d)) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], -_DELIMITERS.index(d)))
    if counts[best] > 1:
        return best
    # The header line does not split: a title line above the header, or an unknown delimiter.
    if header.count("，") >= 2:
        raise WorkbookInputError(
            f"{path.name} has only one column: the header {header[:60]!r} is separated by "
            "full-width commas '，' (typed with a Chinese input method), not ','. Replace them "
            "with ',' in a text editor, or pass sep='，'."
        )
    for i, line in enumerate(lines[: header_idx + 15]):
        if i <= header_idx:
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else line
        for d in _DELIMITERS:
            n = len(_split_line(line, d))
            if n > 2 and len(_split_line(nxt, d)) == n:
                raise WorkbookInputError(
                    f"Row {header_idx + 1} of {path.name} ({header[:60]!r}) has a single column "
                    f"but row {i + 1} has {n} {_DELIMITER_NAMES[d]}-separated fields. If the "
                    f"rows above are a title, pass header_row={i + 1} (the row holding the "
                    "column names)."
                )
    raise WorkbookInputError(
        f"{path.name} has only one column: the header is {header[:80]!r}. The delimiter is "
        "none of ',', ';', tab, '|' (a full-width comma '，' or spaces?). Re-save the file "
        "as CSV from Excel, or pass sep=... with the file's delimiter."
    )


def _check_header_row(header_row: int) -> int:
    if not isinstance(header_row, (int, np.integer)) or isinstance(header_row, bool) or header_row < 1:
        raise WorkbookInputError(
            f"header_row={header_row!r} must be a row number >= 1 (1 = first row of the file)."
        )
    return int(header_row)


def _read_csv(path: Path, encoding, sep, header_row: int, notes: list) -> _Raw:
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        raise WorkbookInputError(
            f"{path.name} is an Excel workbook (a zip file), not a CSV text file: rename it "
            "to .xlsx or export it again as CSV."
        )
    text = _decode(data, path, encoding, notes)
    if not text.strip():
        raise WorkbookInputError(f"{path.name} is empty: it has no header and no data rows.")
    lines = text.splitlines()
    hidx = header_row - 1
    if hidx >= len(lines):
        raise WorkbookInputError(
            f"header_row={header_row} but {path.name} has only {len(lines)} line(s)."
        )
    if sep is None:
        sep = _sniff_delimiter(lines, hidx, path)
        if sep != ",":
            _note(notes, "", f"detected delimiter {_DELIMITER_NAMES[sep]}", 1)
    else:
        n = len(_split_line(lines[hidx], sep))
        if n <= 1:
            alt = [d for d in _DELIMITERS if d != sep and len(_split_line(lines[hidx], d)) > 1]
            hint = (
                f"; the file looks {_DELIMITER_NAMES[alt[0]]}-separated: pass sep={alt[0]!r} "
                "(or sep=None to detect it)" if alt else "; check the sep argument"
            )
            raise WorkbookInputError(
                f"Reading {path.name} with sep={sep!r} gives only one column "
                f"({lines[hidx][:60]!r}){hint}."
            )
    preview = [_split_line(line, sep) for line in lines[:15]]
    try:
        frame = pd.read_csv(
            _io.StringIO(text), sep=sep, dtype=str, header=hidx, skip_blank_lines=False,
            skipinitialspace=True, engine="c" if len(sep.encode()) == 1 else "python",
        )
    except pd.errors.ParserError as exc:
        raise WorkbookInputError(
            f"{path.name} could not be parsed as {_DELIMITER_NAMES.get(sep, repr(sep))}-"
            f"separated text: {exc}. Usually a row has more fields than the header "
            "(an unquoted delimiter inside a value)."
        ) from exc
    rows = np.arange(len(frame)) + header_row + 1
    return _Raw(frame, rows, notes, preview)


def _read_excel(path: Path, sheet_name, header_row: int, notes: list) -> _Raw:
    try:
        frame = pd.read_excel(path, sheet_name=sheet_name, header=header_row - 1, dtype=object)
        preview_df = pd.read_excel(path, sheet_name=sheet_name, header=None, nrows=15, dtype=str)
    except ValueError as exc:
        if "not found" in str(exc).lower() or "worksheet" in str(exc).lower():
            sheets = pd.ExcelFile(path).sheet_names
            raise WorkbookInputError(
                f"Sheet {sheet_name!r} not found in {path.name}; it has sheets {sheets}."
            ) from exc
        raise WorkbookInputError(f"Could not read {path.name} as Excel: {exc}") from exc
    except Exception as exc:  # zipfile.BadZipFile, openpyxl errors
        raise WorkbookInputError(
            f"Could not read {path.name} as an Excel .xlsx workbook: {exc}. Is it really an "
            "Excel file? Old .xls files must be re-saved as .xlsx."
        ) from exc
    if frame.shape[1] == 0 and frame.empty:
        raise WorkbookInputError(f"{path.name} (sheet {sheet_name!r}) is empty.")
    preview = [[("" if pd.isna(v) else str(v)) for v in row] for row in preview_df.itertuples(index=False)]
    rows = np.arange(len(frame)) + header_row + 1
    return _Raw(_excel_columns(frame), rows, notes, preview)


def _excel_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Excel cells keep their type: all-date columns become datetime64, all-number
    columns numeric, everything else text.  Columns mixing date cells and text
    cells stay as objects and are sorted out by the date parser."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind in ("datetime", "datetime64", "date"):
            out[col] = pd.to_datetime(s)
        elif kind in ("integer", "floating", "mixed-integer-float"):
            out[col] = pd.to_numeric(s)
        elif kind == "mixed" and s.map(_is_datetime_cell).any():
            out[col] = s
        else:
            out[col] = _as_text(s)
    return pd.DataFrame(out, index=frame.index)


def _is_datetime_cell(v) -> bool:
    return isinstance(v, (_dt.datetime, _dt.date))


def _read_raw(path, *, encoding, sep, sheet_name, header_row) -> _Raw:
    path = Path(path)
    if not path.exists():
        raise WorkbookInputError(f"File {str(path)!r} does not exist.")
    if path.is_dir():
        raise WorkbookInputError(f"{str(path)!r} is a directory; pass the export file itself.")
    header_row = _check_header_row(header_row)
    notes: list = []
    if path.stat().st_size == 0:
        raise WorkbookInputError(f"{path.name} is empty (0 bytes).")
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt", ".tsv"}:
        return _read_csv(path, encoding, sep, header_row, notes)
    if suffix in {".xlsx", ".xlsm"}:
        return _read_excel(path, sheet_name, header_row, notes)
    if suffix in {".parquet", ".pq"}:
        frame = pd.read_parquet(path)
        return _Raw(frame, np.arange(1, len(frame) + 1), notes, None)
    if suffix == ".xls":
        raise WorkbookInputError(
            f"{path.name} is an old-style .xls workbook; open it in Excel/WPS and save it as "
            ".xlsx (or export CSV UTF-8)."
        )
    raise WorkbookInputError(
        f"Unsupported file type {suffix!r} for {path.name}; use .csv, .txt, .tsv, .xlsx or .parquet."
    )


def _header_hint(preview: list | None, expected: set[str], header_row: int) -> str:
    """Say which row looks like the header, if another row matches better."""
    if not preview:
        return ""
    expected_n = {_norm_name(e) for e in expected}

    def score(cells):
        return sum(_norm_name(c) in expected_n for c in cells if c)

    scores = [score(cells) for cells in preview]
    current = scores[header_row - 1] if header_row - 1 < len(scores) else 0
    best = int(np.argmax(scores)) if scores else 0
    if scores and scores[best] > current:
        above = [c for c in preview[best - 1] if c] if best > 0 else []
        title = f" (the rows above look like a title or merged header cells, e.g. {above[0]!r})" if above else ""
        return (
            f" Row {best + 1} looks like the header row: it has {scores[best]} of the expected "
            f"column names{title}; pass header_row={best + 1}."
        )
    return ""


# --------------------------------------------------------------------------
# Cleaning and conversion (vectorised; each returns values, problem rows, notes)
# --------------------------------------------------------------------------

_Problems = list  # of DataFrames with REPORT_COLUMNS


def _problem(problems: _Problems, check: str, column: str, rows, values, reasons) -> None:
    rows = np.asarray(rows)
    if len(rows) == 0:
        return
    values = pd.Series(values).astype(object).to_numpy()
    reasons = np.broadcast_to(np.asarray(reasons, dtype=object), rows.shape)
    problems.append(
        pd.DataFrame({"check": check, "column": column, "row": rows, "value": values,
                      "reason": reasons})
    )


def _as_text(s: pd.Series) -> pd.Series:
    """Text with surrounding blanks stripped; blanks become missing."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        vals = s.astype("float64")
        integral = vals.dropna().mod(1).eq(0).all() if vals.notna().any() else True
        s = s.astype("Int64") if integral else s
        return s.astype("str").where(s.notna(), np.nan).astype("str")
    out = s.astype("str").str.strip()
    return out.where(out.ne("") & s.notna(), np.nan).astype("str")


def _convert_id(s, column, rows, problems, notes):
    text = _as_text(s)
    sci = text.str.fullmatch(r"\d(?:\.\d+)?[eE]\+?\d+", na=False)
    if sci.any():
        _problem(problems, "id_scientific", column, rows[sci.to_numpy()], text[sci],
                 "id in scientific notation: Excel converted a long number and lost digits; "
                 "format the column as text in Excel and export again")
    return text


def _convert_float(s, column, rows, problems, notes, integer=False):
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        raw = _as_text(s).reset_index(drop=True)
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
                _note(notes, column, action, ok.sum(), f"{raw.iloc[i]!r} -> {values.iloc[i]:g}")
        bad = (raw.notna() & values.isna()).to_numpy()
        if bad.any():
            _problem(problems, "not_a_number", column, rows[bad], raw[bad],
                     [f"{v!r} is not a number" for v in raw[bad]])
    else:
        values = s.astype("float64")
    values = values.where(np.isfinite(values))
    if integer:
        frac = values.notna() & values.mod(1).ne(0)
        if frac.any():
            _problem(problems, "not_an_integer", column, rows[frac.to_numpy()], values[frac],
                     [f"{v:g} is not a whole number" for v in values[frac]])
            values = values.where(~frac)
        values = values.astype("Int64")
        if values.notna().all():
            values = values.astype("int64")
    return values.reset_index(drop=True)


def _resolve_tz(timezone):
    if timezone is None:
        return None
    try:
        return ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise WorkbookInputError(
            f"timezone={timezone!r} is not a known time zone; use an IANA name such as "
            "'Asia/Shanghai' or 'Asia/Hong_Kong'."
        ) from exc


def _convert_datetime(s, column, rows, problems, notes, date_format=None, timezone=None):
    tz = _resolve_tz(timezone)
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
            is_cell = s.map(_is_datetime_cell).astype(bool)
            cells = pd.to_datetime(s.where(is_cell)).where(is_cell)
            s = s.where(~is_cell)
        raw = _as_text(s).reset_index(drop=True)
        present = raw.notna()
        if not present.any() and cells is not None:
            return cells
        if not present.any():
            return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
        has_tz = raw.str.contains(_TZ_SUFFIX, regex=True, na=False)
        if has_tz.any() and not has_tz[present].all():
            bad = (present & ~has_tz).to_numpy()
            _problem(problems, "mixed_time_zones", column, rows[bad], raw[bad],
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
                _problem(problems, "not_a_date", column, rows[bad], raw[bad],
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
                _note(notes, column, f"inferred date format {fmt!r} from the first value; "
                      "pass date_format= to be explicit", int(present.sum()), repr(first))
            fmt_desc = f"the format of the first value {first!r}"
            mixed_hint = "; the column seems to mix date formats"
        if cells is not None:
            parsed = parsed.where(cells.isna(), cells.astype(parsed.dtype))
        bad = (present & parsed.isna()).to_numpy()
        if bad.any():
            _problem(problems, "not_a_date", column, rows[bad], raw[bad],
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
        _note(notes, column, f"converted to local time in {tz.key}", int(parsed.notna().sum()))
    return parsed


def _keys(raw: pd.Series) -> pd.Series:
    """Normalised lookup keys (NFKC, stripped, lower case), computed once per distinct value."""
    codes, uniq = pd.factorize(raw, use_na_sentinel=True)
    key_u = pd.Series(uniq, dtype="str").str.normalize("NFKC").str.strip().str.lower()
    key = key_u.to_numpy(dtype=object, na_value=None)
    out = np.full(len(codes), None, dtype=object)
    out[codes >= 0] = key[codes[codes >= 0]]
    return pd.Series(out, index=raw.index, dtype="str")


def _convert_choice(s, column, rows, problems, notes, table: dict, unknown=frozenset(), label=""):
    raw = _as_text(s).reset_index(drop=True)
    key = _keys(raw)
    out = key.map(table)
    unk = key.isin(unknown)
    if unk.any():
        _note(notes, column, "read as missing (unknown)", unk.sum(), repr(raw[unk].iloc[0]))
    bad = (raw.notna() & out.isna() & ~unk).to_numpy()
    if bad.any():
        valid = sorted(set(table.values()))
        _problem(problems, "unknown_value", column, rows[bad], raw[bad],
                 [f"{v!r} is not a recognised {label}; valid values are {valid} "
                  f"(or e.g. {sorted(k for k in table if not k.isascii())[:4]})" for v in raw[bad]])
    return out.astype("str")


def _convert_bool(s, column, rows, problems, notes):
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean").reset_index(drop=True)
    raw = _as_text(s).reset_index(drop=True)
    key = _keys(raw)
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out[key.isin(_TRUE)] = True
    out[key.isin(_FALSE)] = False
    bad = (raw.notna() & out.isna()).to_numpy()
    if bad.any():
        _problem(problems, "unknown_value", column, rows[bad], raw[bad],
                 [f"{v!r} is not a yes/no value (e.g. 是/否, 退货/销售, true/false, 1/0)"
                  for v in raw[bad]])
    return out


# --------------------------------------------------------------------------
# Validation (pandera schema + checks relative to the data)
# --------------------------------------------------------------------------

_REASONS = {
    "not_nullable": lambda col, v: f"missing {col}",
    "duplicate_id": lambda col, v: f"duplicate {col} {v!r} (an earlier row has the same id)",
    "orphan_member": lambda col, v: f"member {v!r} is not in the members table",
    "future": lambda col, v: f"{v} is after now (the load time or the now= argument)",
    "negative_amount": lambda col, v: f"negative amount {v} on a row not flagged as a return",
    "negative_value": lambda col, v: f"negative {col} {v}",
    "negative_value_not_return": lambda col, v: f"negative {col} {v} on a row not flagged as a return",
    "valid_channel": lambda col, v: f"{v!r} is not 'offline' or 'online'",
    "valid_gender": lambda col, v: f"{v!r} is not 'F' or 'M'",
    "valid_tier": lambda col, v: f"{v!r} is not a tier (member, silver, gold, platinum)",
    "duplicate_store_day": lambda col, v: f"a second count for store and day {v} (an earlier "
                                          "row has the same store_id and date; sum hourly "
                                          "counts per day before loading)",
}


def _now(now, timezone=None) -> pd.Timestamp:
    if now is None:
        tz = _resolve_tz(timezone)
        return pd.Timestamp.now(tz=tz).tz_localize(None) if tz else pd.Timestamp.now()
    try:
        ts = pd.Timestamp(now)
    except (TypeError, ValueError) as exc:
        raise WorkbookInputError(f"now={now!r} is not a date.") from exc
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def _member_ids(members) -> pd.Series | None:
    if members is None:
        return None
    if isinstance(members, pd.DataFrame):
        if "member_id" not in members.columns:
            raise WorkbookInputError(
                f"members has no 'member_id' column; it has {list(members.columns)}."
            )
        members = members["member_id"]
    if not isinstance(members, (pd.Series, pd.Index, list, tuple, np.ndarray, set)):
        raise WorkbookInputError(
            f"members must be a DataFrame with a member_id column or a list of ids, got "
            f"{type(members).__name__}."
        )
    return _as_text(pd.Series(list(members))).dropna()


def _schema(table: str, frame: pd.DataFrame, now: pd.Timestamp, member_ids) -> pa.DataFrameSchema:
    C, K = pa.Column, pa.Check
    not_dup = K(lambda s: ~s.duplicated(keep="first") | s.isna(), name="duplicate_id")
    future = K(lambda s: s.isna() | (s <= now), name="future")
    nonneg = K(lambda s: s.isna() | (s >= 0), name="negative_value")
    if table == "transactions":
        if "is_return" in frame.columns:
            flagged = frame["is_return"].astype("boolean").fillna(False)
        else:  # data contract: without a flag column, negative amounts are returns
            flagged = pd.Series(True, index=frame.index)
        unless_return = K(
            lambda s: s.isna() | (s >= 0) | flagged.reindex(s.index, fill_value=False),
            name="negative_value_not_return",
        )
        member_checks = []
        if member_ids is not None:
            known = set(member_ids)
            member_checks.append(
                K(lambda s: s.isna() | s.isin(known), name="orphan_member"))
        cols = {
            "transaction_id": C(str, not_dup, nullable=False, required=False),
            "member_id": C(str, member_checks, nullable=True),
            "store_id": C(str, nullable=True, required=False),
            "timestamp": C(pa.DateTime, future, nullable=False),
            "amount": C(float, K(lambda s: (s >= 0) | flagged.reindex(s.index, fill_value=False),
                                 name="negative_amount"), nullable=False),
            # Returns give back items and earned points, so they may be negative there.
            "items": C(int, unless_return, nullable=True, required=False),
            "discount": C(float, nonneg, nullable=True, required=False),
            "points_earned": C(int, unless_return, nullable=True, required=False),
            "points_redeemed": C(int, nonneg, nullable=True, required=False),
            "channel": C(str, K(lambda s: s.isna() | s.isin(["offline", "online"]),
                                name="valid_channel"), nullable=True, required=False),
            "is_return": C(bool, nullable=False, required=False),
        }
    elif table == "store_traffic":
        cols = {
            "store_id": C(str, nullable=False),
            "date": C(pa.DateTime, future, nullable=False),
            "visitors": C(int, nonneg, nullable=False),
        }
    else:
        cols = {
            "member_id": C(str, not_dup, nullable=False),
            "name": C(str, nullable=True, required=False),
            "phone": C(str, nullable=True, required=False),
            "email": C(str, nullable=True, required=False),
            "gender": C(str, K(lambda s: s.isna() | s.isin(["F", "M"]), name="valid_gender"),
                        nullable=True, required=False),
            "birth_date": C(pa.DateTime, future, nullable=True, required=False),
            "join_date": C(pa.DateTime, future, nullable=True, required=False),
            "acquisition_channel": C(str, nullable=True, required=False),
            "home_store_id": C(str, nullable=True, required=False),
            "tier": C(str, K(lambda s: s.isna() | s.isin(["member", "silver", "gold", "platinum"]),
                             name="valid_tier"), nullable=True, required=False),
        }
    return pa.DataFrameSchema(cols, strict=False)


def _schema_problems(table, frame, rows, now, member_ids) -> pd.DataFrame:
    """Run the pandera schema lazily; failure cases -> report rows."""
    required = _TABLES[table][1]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise WorkbookInputError(
            f"{table} is missing required column(s) {missing}; it has {list(frame.columns)}."
        )
    schema = _schema(table, frame, now, member_ids)
    try:
        with warnings.catch_warnings():  # pandera may import pyspark lazily (pandas 3 warning)
            warnings.simplefilter("ignore", FutureWarning)
            schema.validate(frame, lazy=True)
        return pd.DataFrame(columns=REPORT_COLUMNS)
    except SchemaErrors as exc:
        fc = exc.failure_cases
    row_of = pd.Series(rows, index=frame.index)
    out = []
    for rec in fc.itertuples(index=False):  # one per failing value (problems, not rows of data)
        check = str(rec.check)
        col = rec.column
        if rec.index is None or (isinstance(rec.index, float) and np.isnan(rec.index)):
            # column-level failure (wrong dtype): no single row at fault
            out.append({"check": "dtype", "column": col, "row": pd.NA, "value": frame[col].dtype,
                        "reason": f"column {col!r} has dtype {frame[col].dtype}, expected {check}; "
                                  "load the file with workbook.io or convert the column"})
            continue
        name = "missing_value" if check == "not_nullable" else check
        value = rec.failure_case
        if check == "future" and col == "timestamp":
            name = "future_timestamp"
        elif check == "future":
            name = "future_date"
        reason = _REASONS.get(check, lambda c, v: f"failed check {check}")(col, value)
        out.append({"check": name, "column": col, "row": row_of.loc[rec.index], "value": value,
                    "reason": reason})
    return pd.DataFrame(out, columns=REPORT_COLUMNS)


def _finish_report(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=REPORT_COLUMNS)
    report = pd.concat(parts, ignore_index=True)[REPORT_COLUMNS]
    # A value that could not be parsed is also missing afterwards: keep the first (parse) reason.
    report = report.loc[~(report.duplicated(["column", "row"]) & report["row"].notna()
                          & report["check"].eq("missing_value"))]
    return report.reset_index(drop=True)


def report_summary(report: pd.DataFrame) -> pd.DataFrame:
    """One line per check and column: how many rows, the first few, an example.

    Parameters
    ----------
    report : DataFrame
        A problem report (``check``, ``column``, ``row``, ``value``, ``reason``).

    Returns
    -------
    DataFrame
        Columns ``check``, ``column``, ``count``, ``rows`` (text listing the
        first rows), ``example`` (the first reason).

    Examples
    --------
    >>> import pandas as pd
    >>> rep = pd.DataFrame({"check": ["not_a_number"] * 2, "column": ["amount"] * 2,
    ...                     "row": [3, 7], "value": ["abc", "?"],
    ...                     "reason": ["'abc' is not a number", "'?' is not a number"]})
    >>> report_summary(rep).loc[0, "rows"]
    'rows 3, 7 (2 in total)'
    """
    if report.empty:
        return pd.DataFrame(columns=["check", "column", "count", "rows", "example"])
    g = report.groupby(["check", "column"], sort=False, dropna=False)
    out = g.agg(count=("reason", "size"), rows=("row", lambda r: format_rows(r.dropna())),
                example=("reason", "first")).reset_index()
    return out


def _message(table: str, source: str, report: pd.DataFrame) -> str:
    summary = report_summary(report)
    lines = [f"{source}: {len(report)} problem(s) in {report['row'].nunique()} row(s) of {table}:"]
    for rec in summary.itertuples(index=False):
        lines.append(f"  - {rec.check} in column {rec.column!r}: {rec.rows}; e.g. {rec.example}")
    lines.append("Fix the file, or pass errors='drop' to drop these rows and get the report "
                 "(return_report=True gives the rejected rows with their reasons).")
    return "\n".join(lines)


def _validate_frame(table, df, members, now, timezone=None):
    from workbook.validation import require_dataframe

    require_dataframe(df, table)
    return _finish_report([
        _schema_problems(table, df, df.index.to_numpy(), _now(now, timezone), _member_ids(members))
    ])


def validate_transactions(df: pd.DataFrame, members=None, now=None) -> pd.DataFrame:
    """Check an already-loaded transactions frame against the data contract.

    Parameters
    ----------
    df : DataFrame
        Transactions with canonical column names and dtypes.  Not modified.
    members : DataFrame or list of ids, optional
        When given, member ids in ``df`` missing from it are reported
        (walk-in rows with no member id are fine).
    now : date-like, optional
        Timestamps after it are reported (default: the current time).

    Returns
    -------
    DataFrame
        The problem report (``check``, ``column``, ``row``, ``value``, ``reason``;
        ``row`` is the index label); empty when everything is fine.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"transaction_id": ["t1", "t1"], "member_id": ["a", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
    ...                    "amount": [10.0, -5.0], "is_return": [False, False]})
    >>> validate_transactions(tx, members=["a"], now="2024-06-01")[["check", "row"]]
                 check  row
    0     duplicate_id    1
    1    orphan_member    1
    2  negative_amount    1
    """
    return _validate_frame("transactions", df, members, now)


def validate_members(df: pd.DataFrame, now=None) -> pd.DataFrame:
    """Check an already-loaded members frame (unique ids, no future dates, codes).

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"member_id": ["a", "a"], "tier": ["gold", "diamond"]})
    >>> validate_members(m)["check"].tolist()
    ['duplicate_id', 'valid_tier']
    """
    return _validate_frame("members", df, None, now)


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


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
    canon, required = _TABLES[table]
    path = Path(path)
    raw = _read_raw(path, encoding=opts["encoding"], sep=opts["sep"],
                    sheet_name=opts["sheet_name"], header_row=opts["header_row"])
    notes, frame = raw.notes, raw.frame
    expected = set(columns) | set(canon)
    frame.columns = [str(c).strip() for c in frame.columns]
    unnamed = [c for c in frame.columns if c.startswith("Unnamed:")]
    if frame.shape[1] > 1 and len(unnamed) >= frame.shape[1] / 2:
        hint = _header_hint(raw.preview, expected | {a for t in canon for a in KNOWN_ALIASES.get(t, ())},
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
        _note(notes, "", "skipped completely empty rows", empty.sum(),
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
            + _header_hint(raw.preview, expected, opts["header_row"])
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
            + _header_hint(raw.preview, expected, opts["header_row"])
        )
    extra = [c for c in frame.columns if c not in canon]
    if extra and not keep_extra:
        _note(notes, "", "left out unmapped columns (map them to keep them)", len(extra),
              ", ".join(map(str, extra[:8])))
    # conversions
    problems: _Problems = []
    out = {}
    for col, kind in canon.items():
        if col not in frame.columns:
            continue
        s = frame[col]
        if kind == "id":
            out[col] = _convert_id(s, col, rows, problems, notes).reset_index(drop=True)
        elif kind == "text":
            out[col] = _as_text(s).reset_index(drop=True)
        elif kind in ("float", "int"):
            out[col] = _convert_float(s, col, rows, problems, notes, integer=kind == "int")
        elif kind == "datetime":
            out[col] = _convert_datetime(s, col, rows, problems, notes, opts["date_format"],
                                         opts["timezone"])
        elif kind == "bool":
            out[col] = _convert_bool(s, col, rows, problems, notes)
        elif kind == "channel":
            out[col] = _convert_choice(s, col, rows, problems, notes, _CHANNEL, label="channel")
        elif kind == "gender":
            out[col] = _convert_choice(s, col, rows, problems, notes, _GENDER, _GENDER_UNKNOWN,
                                       "gender")
        elif kind == "tier":
            out[col] = _convert_choice(s, col, rows, problems, notes, _TIER, label="tier")
    clean = pd.DataFrame(out)
    if keep_extra:
        for c in extra:
            clean[c] = frame[c].to_numpy()
    if table == "transactions":
        if "transaction_id" not in clean.columns:
            clean.insert(0, "transaction_id", pd.Series([f"R{r}" for r in rows], dtype="str"))
            _note(notes, "transaction_id", "not in file: created from row numbers "
                  "(duplicate receipts cannot be detected)", len(clean), f"R{rows[0]}")
        if "is_return" in clean.columns:
            flag = clean["is_return"].copy()
            bad_flag = np.isin(rows, [r for p in problems if (p["column"] == "is_return").any()
                                      for r in p["row"]])
            empty = flag.isna().to_numpy() & ~bad_flag
            if empty.any():
                flag[empty] = (clean["amount"] < 0)[empty]
                _note(notes, "is_return", "empty return flag: read from the amount sign "
                      "(negative = return)", empty.sum(), f"row {rows[empty][0]}")
            pos = (flag.fillna(False) & (clean["amount"] > 0)).to_numpy()
            if pos.any():
                clean.loc[pos, "amount"] = -clean.loc[pos, "amount"]
                _note(notes, "amount", "made return amounts negative (flagged returns with a "
                      "positive amount)", pos.sum(), f"row {rows[pos][0]}")
        else:
            flag = pd.Series(clean["amount"] < 0, dtype="boolean")
            _note(notes, "is_return", "no return flag column: negative amounts read as returns",
                  int(flag.sum()))
        clean["is_return"] = flag
    if table == "store_traffic":
        with_time = clean["date"].notna() & clean["date"].ne(clean["date"].dt.normalize())
        if with_time.any():
            _problem(problems, "not_a_day", "date", rows[with_time.to_numpy()],
                     clean.loc[with_time, "date"].astype("str"),
                     "a time of day in a daily count: the file seems to hold hourly counts; "
                     "sum them per store and day first")
        key = clean["store_id"].astype("str") + " " + clean["date"].dt.strftime("%Y-%m-%d")
        dup = (key.duplicated(keep="first") & clean["store_id"].notna()
               & clean["date"].notna() & ~with_time).to_numpy()
        if dup.any():
            _problem(problems, "duplicate_store_day", "date", rows[dup], key[dup],
                     [_REASONS["duplicate_store_day"]("date", k) for k in key[dup]])
    # validation
    now_ts = _now(now, opts["timezone"])
    member_ids = _member_ids(members)
    typed = clean.copy()
    if "is_return" in typed.columns:  # still missing only where the flag was unreadable (reported)
        typed["is_return"] = typed["is_return"].fillna(False).astype(bool)
    report = _finish_report(problems + [_schema_problems(table, typed, rows, now_ts, member_ids)])
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
            raise DataValidationError(_message(table, path.name, report), report, rejected)
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


def load_workbook_data(
    data: str | Path | None = None,
    mapping: Mapping | str | Path | None = None,
    members: str | Path | None = None,
    members_mapping: Mapping | str | Path | None = None,
    *,
    pseudonymise: bool | None = None,
    errors: str = "raise",
    now=None,
    directory: str | Path | None = None,
    traffic: str | Path | None = None,
    traffic_mapping: Mapping | str | Path | None = None,
):
    """The data for a notebook: the synthetic data set, or the user's export.

    Every notebook's ``parameters`` cell ends with
    ``data = load_workbook_data(DATA_PATH, MAPPING_PATH, MEMBERS_PATH)``.

    Parameters
    ----------
    data : path, optional
        The user's transactions export.  ``None``: the default synthetic data
        set (:func:`workbook.synth.load_dataset`).
    mapping : dict or path to YAML, optional
        Mapping for the transactions; a sectioned YAML (``transactions:``,
        ``members:``) also serves the members file.
    members : path, optional
        The user's members export; when given, transactions of unknown
        members are reported.
    members_mapping : dict or path to YAML, optional
        Mapping for the members file (default: the ``members:`` section of
        ``mapping``).
    pseudonymise : bool, optional
        Replace member ids by keyed hashes and mask names/phones/emails
        (:mod:`workbook.privacy`).  Default: ``True`` for user data (a key is
        required, see ``docs/privacy.md``), ``False`` for synthetic data.
    errors : {"raise", "drop"}
        As in :func:`load_transactions`.
    now : date-like, optional
        Reference time for the future-date checks.
    directory : path, optional
        Directory of the synthetic data set (default location otherwise).
    traffic : path, optional
        The user's door-counter export (:func:`load_store_traffic`); becomes
        ``.store_traffic``.  With synthetic data it replaces the generated
        traffic.
    traffic_mapping : dict or path to YAML, optional
        Mapping for the traffic file (default: the ``store_traffic:`` section
        of ``mapping``).

    Returns
    -------
    WorkbookData
        ``.transactions``, ``.members`` (``None`` if no members file),
        ``.store_traffic`` (synthetic, or the ``traffic`` file), and for
        synthetic data ``.stores``, ``.campaigns``, ``.truth``.
    """
    if traffic_mapping is None and mapping is not None and _is_sectioned(mapping):
        traffic_mapping = mapping

    def _traffic():
        res = load_store_traffic(traffic, traffic_mapping, errors=errors, now=now,
                                 return_report=True)
        return res.data, res

    if data is None:
        if members is not None:
            raise WorkbookInputError("members= was given without data=: pass your transactions export too.")
        from workbook.synth import load_dataset

        ds = load_dataset(directory)
        out = WorkbookData(**{k: getattr(ds, k, None) for k in
                              ("transactions", "members", "stores", "store_traffic", "campaigns",
                               "truth")}, source="synthetic")
        if pseudonymise:
            from workbook.privacy import Pseudonymiser

            ps = Pseudonymiser.from_env()
            out.transactions = ps.pseudonymise_frame(out.transactions, pii_columns=())
            if out.members is not None:
                out.members = ps.pseudonymise_frame(out.members)
            out.pseudonymised = True
        if traffic is not None:
            out.store_traffic, out.reports["store_traffic"] = _traffic()
            out.source = f"synthetic + {traffic}"
        return out
    pseudonymise = True if pseudonymise is None else pseudonymise
    ps = None
    if pseudonymise:  # fail before reading anything if there is no key
        from workbook.privacy import Pseudonymiser

        ps = Pseudonymiser.from_env()
    reports = {}
    mem = None
    if members is not None:
        if members_mapping is None and mapping is not None and _is_sectioned(mapping):
            members_mapping = mapping
        mres = load_members(members, members_mapping,
                            errors=errors, now=now, return_report=True)
        mem, reports["members"] = mres.data, mres
    tres = load_transactions(data, mapping, errors=errors, now=now, members=mem,
                             return_report=True)
    reports["transactions"] = tres
    tx = tres.data
    store_traffic = None
    if traffic is not None:
        store_traffic, reports["store_traffic"] = _traffic()
    if ps is not None:
        tx = ps.pseudonymise_frame(tx, pii_columns=())
        if mem is not None:
            mem = ps.pseudonymise_frame(mem)
    return WorkbookData(transactions=tx, members=mem, store_traffic=store_traffic,
                        source=str(data), pseudonymised=bool(pseudonymise), reports=reports)
