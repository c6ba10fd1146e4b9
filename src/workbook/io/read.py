"""Reading export files (CSV in any common Chinese encoding, Excel, Parquet) as text."""

from __future__ import annotations

import codecs
import csv
import re
import io as _io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.io.convert import as_text, is_datetime_cell
from workbook.io.mapping import norm_name
from workbook.io.report import note

_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}


@dataclass
class RawTable:
    frame: pd.DataFrame  # canonical or source column names, text/typed values
    rows: np.ndarray  # file row number of each frame row
    notes: list = field(default_factory=list)
    preview: list | None = None  # first lines as lists of cells, for header hints
    duplicated: dict = field(default_factory=dict)  # header name -> [1-based column positions]



def _masked(text: str) -> str:
    """A file line for a message: long digit runs (phones, card numbers) and e-mails hidden."""
    text = re.sub(r"[^\s,;|\t]+@[^\s,;|\t]+", "***@***", text)
    return re.sub(r"\d{6,}", lambda m: m.group(0)[:2] + "*" * (len(m.group(0)) - 4) + m.group(0)[-2:], text)


def _decode(data: bytes, path: Path, encoding: str | None, notes: list) -> str:
    if encoding is not None:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise WorkbookInputError(
                f"Could not read {path.name} with encoding={encoding!r}: {exc}. Leave "
                "encoding=None to try UTF-8 and GB18030 (GBK) automatically.",
                message_zh=f"无法用 encoding={encoding!r} 读取 {path.name}；不指定 encoding 时会自动尝试 "
                           "UTF-8 和 GB18030（GBK）。"
            ) from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        note(notes, "", "decoded file as UTF-16 (Excel 'Unicode text' export)", 1)
        return data.decode("utf-16")
    try:
        text = data.decode("utf-8-sig")
        if data.startswith(codecs.BOM_UTF8):
            note(notes, "", "decoded file as UTF-8 with BOM", 1)
        return text
    except UnicodeDecodeError as utf8_exc:
        try:
            text = data.decode("gb18030")
            note(notes, "", "decoded file as GB18030 (GBK): not valid UTF-8", 1)
            return text
        except UnicodeDecodeError as gb_exc:
            line = data[: utf8_exc.start].count(b"\n") + 1
            raise WorkbookInputError(
                f"Could not decode {path.name}: it is neither UTF-8 (byte "
                f"{data[utf8_exc.start:utf8_exc.start + 1]!r} at position {utf8_exc.start}, "
                f"line {line}) nor GB18030/GBK (byte "
                f"{data[gb_exc.start:gb_exc.start + 1]!r} at position {gb_exc.start}). "
                "Re-save the file as 'CSV UTF-8' in Excel, or pass the file's encoding, "
                "e.g. encoding='big5' or encoding='cp1252'.",
                message_zh=f"无法解码 {path.name}：它既不是 UTF-8（第 {line} 行附近）也不是 GB18030/GBK。"
                           "请在 Excel 中另存为「CSV UTF-8」，或用 encoding= 指定文件编码（如 'big5'）。"
            ) from gb_exc


def _head_lines(text: str, n: int) -> list[str]:
    """The first ``n`` lines of ``text`` as ``text.splitlines()`` has them (all, if fewer), without
    splitting the rest: a 10M-row export is ten million strings, 3 s and about 1 GB."""
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        if len(lines) > n or size >= len(text):  # more than n: the first n are whole lines
            return lines[:n]
        size *= 4


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
            f"{path.name} has only one column: the header {_masked(header[:60])!r} is separated by "
            "full-width commas '，' (typed with a Chinese input method), not ','. Replace them "
            "with ',' in a text editor, or pass sep='，'.",
            message_zh=f"{path.name} 只有一列：表头用的是中文全角逗号「，」而不是英文逗号「,」。"
                       "请在文本编辑器中替换为「,」，或传入 sep='，'。"
        )
    for i, line in enumerate(lines[: header_idx + 15]):
        if i <= header_idx:
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else line
        for d in _DELIMITERS:
            n = len(_split_line(line, d))
            if n > 2 and len(_split_line(nxt, d)) == n:
                raise WorkbookInputError(
                    f"Row {header_idx + 1} of {path.name} ({_masked(header[:60])!r}) has a single column "
                    f"but row {i + 1} has {n} {_DELIMITER_NAMES[d]}-separated fields. If the "
                    f"rows above are a title, pass header_row={i + 1} (the row holding the "
                    "column names).",
                    message_zh=f"{path.name} 的第 {header_idx + 1} 行只有一列，而第 {i + 1} 行有 {n} 列。"
                               f"如果上面几行是标题，请传入 header_row={i + 1}（列名所在的行）。"
                )
    raise WorkbookInputError(
        f"{path.name} has only one column: the header is {_masked(header[:80])!r}. The delimiter is "
        "none of ',', ';', tab, '|' (a full-width comma '，' or spaces?). Re-save the file "
        "as CSV from Excel, or pass sep=... with the file's delimiter.",
        message_zh=f"{path.name} 只有一列：分隔符不是 ',' ';' 制表符 或 '|'。请在 Excel 中重新另存为 CSV，"
                   "或用 sep=... 指定分隔符。"
    )


def _check_header_row(header_row: int) -> int:
    if not isinstance(header_row, (int, np.integer)) or isinstance(header_row, bool) or header_row < 1:
        raise WorkbookInputError(
            f"header_row={header_row!r} must be a row number >= 1 (1 = first row of the file).",
            message_zh=f"header_row={header_row!r} 必须是大于等于 1 的行号（1 表示文件第一行）。"
        )
    return int(header_row)


def _read_csv(path: Path, encoding, sep, header_row: int, notes: list) -> RawTable:
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        raise WorkbookInputError(
            f"{path.name} is an Excel workbook (a zip file), not a CSV text file: rename it "
            "to .xlsx or export it again as CSV.",
            message_zh=f"{path.name} 实际上是 Excel 工作簿（zip 文件），不是 CSV 文本文件：请把扩展名改为 "
                       ".xlsx，或重新导出为 CSV。"
        )
    text = _decode(data, path, encoding, notes)
    if not text.strip():
        raise WorkbookInputError(f"{path.name} is empty: it has no header and no data rows.",
                                 message_zh=f"{path.name} 是空文件：没有表头也没有数据行。")
    hidx = header_row - 1
    lines = _head_lines(text, hidx + 16)  # the header, the rows below it for the sniffer, the preview
    if hidx >= len(lines):
        raise WorkbookInputError(
            f"header_row={header_row} but {path.name} has only {len(lines)} line(s).",
            message_zh=f"header_row={header_row}，但 {path.name} 只有 {len(lines)} 行。"
        )
    if sep is None:
        sep = _sniff_delimiter(lines, hidx, path)
        if sep != ",":
            note(notes, "", f"detected delimiter {_DELIMITER_NAMES[sep]}", 1)
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
                f"({_masked(lines[hidx][:60])!r}){hint}.",
                message_zh=f"用 sep={sep!r} 读取 {path.name} 只得到一列；请检查 sep 参数（或传入 sep=None 自动识别）。"
            )
    preview = [_split_line(line, sep) for line in lines[:15]]
    # Bytes, not a StringIO: pandas encodes a text buffer back to UTF-8 in small reads, 38 s of
    # a 10M-row (450 MB) export against 0.5 s for one encode here.
    utf8 = _io.BytesIO(text.encode("utf-8"))
    del text, data
    try:
        frame = pd.read_csv(
            utf8, encoding="utf-8", sep=sep, dtype=str, header=hidx, skip_blank_lines=False,
            skipinitialspace=True, engine="c" if len(sep.encode()) == 1 else "python",
        )
    except pd.errors.ParserError as exc:
        raise WorkbookInputError(
            f"{path.name} could not be parsed as {_DELIMITER_NAMES.get(sep, repr(sep))}-"
            f"separated text: {exc}. Usually a row has more fields than the header "
            "(an unquoted delimiter inside a value).",
            message_zh=f"{path.name} 无法按分隔符解析：通常是某一行的字段比表头多（值里含有未加引号的分隔符）。"
        ) from exc
    rows = np.arange(len(frame)) + header_row + 1
    return RawTable(frame, rows, notes, preview)


def _read_excel(path: Path, sheet_name, header_row: int, notes: list) -> RawTable:
    try:
        frame = pd.read_excel(path, sheet_name=sheet_name, header=header_row - 1, dtype=object)
        preview_df = pd.read_excel(path, sheet_name=sheet_name, header=None, nrows=15, dtype=str)
    except ValueError as exc:
        if "not found" in str(exc).lower() or "worksheet" in str(exc).lower():
            sheets = pd.ExcelFile(path).sheet_names
            raise WorkbookInputError(
                f"Sheet {sheet_name!r} not found in {path.name}; it has sheets {sheets}.",
                message_zh=f"{path.name} 中没有工作表 {sheet_name!r}；现有工作表为 {sheets}。"
            ) from exc
        raise WorkbookInputError(f"Could not read {path.name} as Excel: {exc}",
                                 message_zh=f"无法以 Excel 格式读取 {path.name}。") from exc
    except Exception as exc:  # zipfile.BadZipFile, openpyxl errors
        raise WorkbookInputError(
            f"Could not read {path.name} as an Excel .xlsx workbook ({type(exc).__name__}): "
            "it is truncated, damaged or not an Excel file. Open it in Excel/WPS and save it "
            "again as .xlsx, or export CSV. Old .xls files must be re-saved as .xlsx.",
            message_zh=f"无法以 Excel .xlsx 格式读取 {path.name}：文件不完整、已损坏或不是 Excel 文件。"
                       "请用 Excel/WPS 打开后重新另存为 .xlsx，或导出 CSV；旧版 .xls 文件须另存为 .xlsx。"
        ) from None
    if frame.shape[1] == 0 and frame.empty:
        raise WorkbookInputError(f"{path.name} (sheet {sheet_name!r}) is empty.",
                                 message_zh=f"{path.name}（工作表 {sheet_name!r}）是空的。")
    preview = [[("" if pd.isna(v) else str(v)) for v in row] for row in preview_df.itertuples(index=False)]
    rows = np.arange(len(frame)) + header_row + 1
    return RawTable(_excel_columns(frame), rows, notes, preview)


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
            # Excel numbers are doubles: openpyxl hands out integral ones as int, whose
            # digits past the 15th are not real (ids are checked in workbook.ids).
            out[col] = pd.to_numeric(s).astype("float64")
        elif kind == "mixed" and s.map(is_datetime_cell).any():
            out[col] = s
        else:
            out[col] = as_text(s)
    return pd.DataFrame(out, index=frame.index)


def read_raw(path, *, encoding, sep, sheet_name, header_row) -> RawTable:
    path = Path(path).expanduser()  # "~/Downloads/export.csv" as a trainee types it
    if not path.exists():
        raise WorkbookInputError(f"File {str(path)!r} does not exist.",
                                 message_zh=f"文件 {str(path)!r} 不存在。")
    if path.is_dir():
        raise WorkbookInputError(f"{str(path)!r} is a directory; pass the export file itself.",
                                 message_zh=f"{str(path)!r} 是文件夹；请传入导出文件本身。")
    header_row = _check_header_row(header_row)
    notes: list = []
    if path.stat().st_size == 0:
        raise WorkbookInputError(f"{path.name} is empty (0 bytes).",
                                 message_zh=f"{path.name} 是空文件（0 字节）。")
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt", ".tsv"}:
        return _name_duplicates(_read_csv(path, encoding, sep, header_row, notes), header_row)
    if suffix in {".xlsx", ".xlsm"}:
        return _name_duplicates(_read_excel(path, sheet_name, header_row, notes), header_row)
    if suffix in {".parquet", ".pq"}:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow.ArrowInvalid, OSError: truncated or not Parquet
            raise WorkbookInputError(
                f"Could not read {path.name} as a Parquet file ({type(exc).__name__}): it is "
                "truncated, damaged or not Parquet. Export it again, or export CSV instead.",
                message_zh=f"无法以 Parquet 格式读取 {path.name}：文件不完整、已损坏或不是 Parquet 文件。"
                           "请重新导出，或改为导出 CSV。") from None
        return RawTable(frame, np.arange(1, len(frame) + 1), notes, None)
    if suffix == ".xls":
        raise WorkbookInputError(
            f"{path.name} is an old-style .xls workbook; open it in Excel/WPS and save it as "
            ".xlsx (or export CSV UTF-8).",
            message_zh=f"{path.name} 是旧版 .xls 工作簿；请用 Excel/WPS 打开并另存为 .xlsx（或导出 CSV UTF-8）。"
        )
    raise WorkbookInputError(
        f"Unsupported file type {suffix!r} for {path.name}; use .csv, .txt, .tsv, .xlsx or .parquet.",
        message_zh=f"不支持 {path.name} 的文件类型 {suffix!r}；请使用 .csv、.txt、.tsv、.xlsx 或 .parquet。"
    )


def column_letter(position: int) -> str:
    """1 -> 'A', 27 -> 'AA': the column as Excel names it."""
    out = ""
    while position:
        position, rem = divmod(position - 1, 26)
        out = chr(65 + rem) + out
    return out


def _name_duplicates(raw: RawTable, header_row: int) -> RawTable:
    """Columns sharing a header get ``name#1``, ``name#2`` (by position) instead of
    pandas' silent ``name``, ``name.1``: the mapping must then say which one it means."""
    frame = raw.frame
    cells = None
    if raw.preview is not None and header_row - 1 < len(raw.preview):
        cells = [str(c).strip() for c in raw.preview[header_row - 1]]
    if cells is None or len(cells) != frame.shape[1]:
        return raw
    names = pd.Series(cells)
    dup = names.ne("") & names.duplicated(keep=False)
    if not dup.any():
        return raw
    new = list(frame.columns)
    for name, positions in names[dup].groupby(names[dup], sort=False).groups.items():
        raw.duplicated[name] = [int(i) + 1 for i in positions]
        for k, i in enumerate(positions, start=1):
            new[i] = f"{name}#{k}"
    frame.columns = new
    return raw


def header_hint(preview: list | None, expected: set[str], header_row: int) -> str:
    """Say which row looks like the header, if another row matches better."""
    if not preview:
        return ""
    expected_n = {norm_name(e) for e in expected}

    def score(cells):
        return sum(norm_name(c) in expected_n for c in cells if c)

    scores = [score(cells) for cells in preview]
    current = scores[header_row - 1] if header_row - 1 < len(scores) else 0
    best = int(np.argmax(scores)) if scores else 0
    if scores and scores[best] > current:
        above = [c for c in preview[best - 1] if c] if best > 0 else []
        title = f" (the rows above look like a title or merged header cells, e.g. {_masked(str(above[0]))!r})" if above else ""
        return (
            f" Row {best + 1} looks like the header row: it has {scores[best]} of the expected "
            f"column names{title}; pass header_row={best + 1}."
        )
    return ""

