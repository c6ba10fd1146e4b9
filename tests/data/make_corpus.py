"""Build the test corpora of store exports.

* ``tests/data/good`` and ``tests/data/bad`` (committed): run
  ``python tests/data/make_corpus.py`` from the repository root; this script
  documents exactly how each file was made (the encodings and byte-level
  defects matter and are easy to lose in an editor).
* the *messy* corpus (issue 11, not committed): ``build_messy_corpus(directory)``
  writes more than forty exports of the kinds Chinese POS/CRM systems produce,
  each with its expected outcome stored beside it in ``<case>.expected.json``:
  the exact row count and amount sum of a correct load, or the error with the
  rows and column it must name.  ``tests/test_io_corpus.py`` builds it into a
  temporary directory (deterministic, well under a second) and loads every
  file; ``python tests/data/make_corpus.py --messy DIR`` writes it for a look.

Everything is fictitious: no real person or store.  Member ids in the messy
corpus are phone numbers and 19-digit card numbers, so that a test can scan
every message, report and note for them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent
GOOD, BAD = HERE / "good", HERE / "bad"

TX_HEADER = ["小票号", "会员卡号", "门店编码", "交易时间", "实付金额", "件数", "优惠金额", "渠道",
             "交易类型", "收银员"]
# 12 receipts, 3 members (0001, 0002, 0003), one walk-in, one return (positive amount,
# flagged 退货: the loader makes it negative), amounts with ¥ and thousands separators.
TX_ROWS = [
    ["S0001", "0001", "SH01", "2024/03/01 10:15", "￥1,280.00", "3", "20", "线下", "销售", "王芳"],
    ["S0002", "0001", "SH01", "2024/03/15 18:40", "￥320.50", "1", "0", "线下", "销售", "王芳"],
    ["S0003", "0002", "SH02", "2024/03/02 12:00", "88", "1", "0", "小程序", "销售", "李强"],
    ["S0004", "", "SH02", "2024/03/02 12:30", "45.00", "2", "0", "线下", "销售", "李强"],
    ["S0005", "0003", "SH01", "2024/03/20 09:05", "2,000", "4", "100", "线下", "销售", "王芳"],
    ["S0006", "0001", "SH01", "2024/04/02 11:11", "￥99.50", "1", "0", "线上", "销售", "王芳"],
    ["S0007", "0002", "SH02", "2024/04/10 16:20", "150", "2", "10", "线下", "销售", "李强"],
    ["S0008", "0003", "SH01", "2024/04/21 20:00", "500", "1", "0", "线下", "退货", "王芳"],
    ["S0009", "0002", "SH02", "2024/05/05 10:00", "￥1,050.00", "3", "50", "线下", "销售", "李强"],
    ["S0010", "0003", "SH01", "2024/05/30 14:45", "300", "2", "0", "小程序", "销售", "王芳"],
    ["S0011", "0001", "SH01", "2024/06/18 19:30", "60", "1", "0", "线下", "销售", "王芳"],
    ["S0012", "0002", "SH02", "2024/06/29 21:00", "210.00", "2", "0", "线下", "销售", "李强"],
]
MEMBER_HEADER = ["会员卡号", "姓名", "手机号", "邮箱", "性别", "生日", "注册时间", "会员等级", "所属门店"]
MEMBER_ROWS = [
    ["0001", "张伟", "13800131234", "zhangwei@example.com", "男", "1985/07/12", "2023/11/02 10:00",
     "金卡", "SH01"],
    ["0002", "李娜", "13912345678", "lina@example.com", "女", "1992/02/28", "2024/01/15 15:30",
     "银卡", "SH02"],
    ["0003", "王磊", "13700009999", "wanglei@example.com", "男", "1978/10/01", "2024/03/20 09:00",
     "普通", "SH01"],
]
MAPPING_YAML = """\
# Mapping of the example POS/CRM exports in this folder to the workbook's columns.
transactions:
  columns:
    小票号: transaction_id
    会员卡号: member_id
    门店编码: store_id
    交易时间: timestamp
    实付金额: amount
    件数: items
    优惠金额: discount
    渠道: channel
    交易类型: is_return
  date_format: "%Y/%m/%d %H:%M"
members:
  columns:
    会员卡号: member_id
    姓名: name
    手机号: phone
    邮箱: email
    性别: gender
    生日: birth_date
    注册时间: join_date
    会员等级: tier
    所属门店: home_store_id
"""


def csv_text(header, rows, sep=","):
    def q(v):
        return f'"{v}"' if sep in v or '"' in v else v

    return "\n".join(sep.join(q(v) for v in r) for r in [header, *rows]) + "\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.write_bytes(text.encode(encoding))


def xlsx(path: Path, header, rows, title_rows=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "交易明细"
    for title in title_rows:
        ws.append(title)
    ws.append(header)
    for r in rows:
        ws.append([_cell(v) for v in r])
    width = len(header)
    for i, title in enumerate(title_rows, start=1):
        # merge each title/group cell across the columns up to the next label
        starts = [j for j, v in enumerate(title) if v] + [width]
        for a, b in zip(starts, starts[1:]):
            if b - a > 1:
                ws.merge_cells(start_row=i, start_column=a + 1, end_row=i, end_column=b)
    wb.save(path)


def _cell(v: str):
    try:
        return dt.datetime.strptime(v, "%Y/%m/%d %H:%M")
    except ValueError:
        return v


def main() -> None:
    # ---------------- good ----------------
    write(GOOD / "pos_export_gbk.csv", csv_text(TX_HEADER, TX_ROWS), "gbk")
    write(GOOD / "members_utf8_bom.csv", csv_text(MEMBER_HEADER, MEMBER_ROWS), "utf-8-sig")
    write(GOOD / "mapping.yaml", MAPPING_YAML)
    xlsx(GOOD / "pos_export.xlsx", TX_HEADER, TX_ROWS)

    # ---------------- bad ----------------
    rows = [r[:] for r in TX_ROWS[:4]]
    drop = TX_HEADER.index("实付金额")
    write(BAD / "missing_column.csv",
          csv_text([h for i, h in enumerate(TX_HEADER) if i != drop],
                   [[v for i, v in enumerate(r) if i != drop] for r in rows]))
    # cp1252 text (a cashier name with é): neither UTF-8 nor GB18030
    write(BAD / "wrong_encoding.csv",
          csv_text(TX_HEADER[:5] + ["cashier"], [r[:4] + ["100", "Andr\u00e9"] for r in rows]).replace(
              "小票号,会员卡号,门店编码,交易时间,实付金额", "receipt,card,store,time,paid"),
          "cp1252")
    mixed = [r[:] for r in TX_ROWS[:6]]
    mixed[2][3] = "02-03-2024 12:00"
    mixed[4][3] = "20/03/2024 09:05"
    write(BAD / "mixed_date_formats.csv", csv_text(TX_HEADER, mixed))
    xlsx(BAD / "merged_header.xlsx", TX_HEADER, TX_ROWS[:5],
         title_rows=[["2024年3月 会员消费明细"] + [None] * (len(TX_HEADER) - 1)])
    xlsx(BAD / "multirow_header.xlsx", TX_HEADER, TX_ROWS[:5],
         title_rows=[["交易信息", None, None, None, "金额", None, None, "其他", None, None]])
    neg = [r[:] for r in TX_ROWS[:5]]
    neg[1][4] = "-320.50"  # negative, but 交易类型 says 销售 (sale)
    neg[3][4] = "-45.00"
    write(BAD / "negative_amounts.csv", csv_text(TX_HEADER, neg))
    fut = [r[:] for r in TX_ROWS[:5]]
    fut[2][3] = "2031/03/02 12:00"
    write(BAD / "future_dates.csv", csv_text(TX_HEADER, fut))
    dup = [r[:] for r in TX_ROWS[:5]] + [TX_ROWS[1][:]]
    write(BAD / "duplicate_ids.csv", csv_text(TX_HEADER, dup))
    txt = [r[:] for r in TX_ROWS[:5]]
    txt[3][4] = "面议"
    txt[4][4] = "1.280,00"  # European decimal comma: not silently read as 1280 or 1.28
    write(BAD / "text_in_amount.csv", csv_text(TX_HEADER, txt))
    write(BAD / "empty.csv", "")
    write(BAD / "header_only.csv", ",".join(TX_HEADER) + "\n", "utf-8-sig")
    orphan = [r[:] for r in TX_ROWS[:5]]
    orphan[2][1] = "0099"
    write(BAD / "orphan_members.csv", csv_text(TX_HEADER, orphan))
    write(BAD / "wrong_delimiter.csv", csv_text(TX_HEADER, TX_ROWS[:4], sep=";"))
    write(BAD / "fullwidth_comma.csv", csv_text(TX_HEADER, TX_ROWS[:4], sep="，"))
    write(BAD / "title_row.csv",
          "2024年3月 会员消费明细\n导出时间：2024-07-01\n" + csv_text(TX_HEADER, TX_ROWS[:4]))
    (BAD / "excel_saved_as.csv").write_bytes((GOOD / "pos_export.xlsx").read_bytes())
    sci = [r[:] for r in TX_ROWS[:4]]
    sci[1][1] = "6.22848E+15"
    write(BAD / "scientific_ids.csv", csv_text(TX_HEADER, sci))
    dupm = [r[:] for r in MEMBER_ROWS] + [MEMBER_ROWS[0][:]]
    dupm[3][7] = "钻石卡"  # also an unknown tier
    write(BAD / "members_duplicates.csv", csv_text(MEMBER_HEADER, dupm))


# ==========================================================================
# The messy corpus (issue 11)
# ==========================================================================

import json  # noqa: E402

import pandas as pd  # noqa: E402

MAP = {"小票号": "transaction_id", "会员卡号": "member_id", "门店": "store_id",
       "交易时间": "timestamp", "实付金额": "amount", "交易类型": "is_return"}
HEAD = list(MAP)
#: Fictitious phone numbers used as member ids, and names / e-mails of the members file.
PHONES = ["13912345678", "15258218732", "18600001111", "13700009999", "15000002222",
          "17722223333"]
NAMES = ["欧阳明", "司马琳", "诸葛亮亮", "上官云", "东方白", "慕容雪"]
EMAILS = [f"member{i}@example.cn" for i in range(len(PHONES))]
CARDS19 = ["6222021234567890123", "6222021234567890456", "6222021234567890789"]
#: Every personal value of the corpus: none may appear in any output.
PII = PHONES + NAMES + EMAILS + CARDS19

CASES: dict = {}  # name -> builder(directory) returning the expected outcome


def case(name):
    def register(fn):
        CASES[name] = fn
        return fn
    return register


def _base(n=12):
    """n receipts: (receipt, member phone or '', store, 'YYYY-MM-DD HH:MM', amount, 销售/退货)."""
    rows = []
    for i in range(n):
        member = "" if i % 5 == 4 else PHONES[i % len(PHONES)]
        amount = [88.0, 1280.0, 45.5, 320.0, 12.0, 99.9][i % 6] + i
        kind = "退货" if i % 7 == 6 else "销售"
        rows.append([f"XP{1000 + i}", member, f"S0{1 + i % 3}",
                     f"2024-{3 + i // 28:02d}-{1 + i % 28:02d} {9 + i % 10:02d}:{(7 * i) % 60:02d}",
                     amount, kind])
    return rows


def _sum(rows, amount_col=4, kind_col=5):
    return round(sum(-abs(r[amount_col]) if r[kind_col] == "退货" else r[amount_col]
                     for r in rows), 2)


def _fmt(v):
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def _csv(rows, header=HEAD, sep=",", newline="\n"):
    def q(v):
        v = _fmt(v)
        return '"' + v.replace('"', '""') + '"' if sep in v else v
    return newline.join(sep.join(q(v) for v in r) for r in [header, *rows]) + newline


def _ok(rows, n=None, total=None, **extra):
    return {"outcome": "ok", "rows": len(rows) if n is None else n,
            "amount_sum": _sum(rows) if total is None else total, **extra}


def _err(kind, match, rows=(), column=None, **extra):
    return {"outcome": "error", "error": kind, "match": list(match), "error_rows": list(rows),
            "column": column, **extra}


def _spec(d: Path, name: str, file: str, expected: dict, mapping=None, **kwargs):
    top = {k: kwargs.pop(k) for k in ("table", "extra_pii", "members_file", "members_mapping")
           if k in kwargs}
    spec = {"name": name, "file": file, "table": top.pop("table", "transactions"),
            "mapping": MAP if mapping is None else mapping, "kwargs": kwargs, **top, **expected}
    (d / f"{name}.expected.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1),
                                             encoding="utf-8")
    return spec


@case("utf8_plain")
def _(d):
    r = _base()
    write(d / "utf8_plain.csv", _csv(r))
    return _spec(d, "utf8_plain", "utf8_plain.csv", _ok(r, walk_ins=2))


@case("utf8_bom")
def _(d):
    r = _base()
    write(d / "utf8_bom.csv", _csv(r), "utf-8-sig")
    return _spec(d, "utf8_bom", "utf8_bom.csv", _ok(r))


@case("gbk")
def _(d):
    r = _base()
    write(d / "gbk.csv", _csv(r), "gbk")
    return _spec(d, "gbk", "gbk.csv", _ok(r, notes=["GB18030"]))


@case("gb18030_rare_characters")
def _(d):
    r = _base()
    for row in r:  # 㐀 and 𠀀 are in GB18030 but not in GBK
        row[2] = row[2] + "㐀𠀀店"
    write(d / "gb18030.csv", _csv(r), "gb18030")
    return _spec(d, "gb18030_rare_characters", "gb18030.csv", _ok(r, notes=["GB18030"]))


@case("utf16_tab_unicode_text")
def _(d):
    r = _base()
    write(d / "utf16.txt", _csv(r, sep="\t"), "utf-16")
    return _spec(d, "utf16_tab_unicode_text", "utf16.txt", _ok(r, notes=["UTF-16", "tab"]))


@case("mixed_line_ends")
def _(d):
    r = _base()
    text = _csv(r).split("\n")
    mixed = "".join(line + ("\r\n" if i % 3 == 0 else "\r" if i % 3 == 1 else "\n")
                    for i, line in enumerate(text[:-1]))
    write(d / "mixed_line_ends.csv", mixed)
    return _spec(d, "mixed_line_ends", "mixed_line_ends.csv", _ok(r))


@case("semicolons")
def _(d):
    r = _base()
    write(d / "semicolons.csv", _csv(r, sep=";"))
    return _spec(d, "semicolons", "semicolons.csv", _ok(r, notes=["delimiter ';'"]))


@case("pipes")
def _(d):
    r = _base()
    write(d / "pipes.csv", _csv(r, sep="|"))
    return _spec(d, "pipes", "pipes.csv", _ok(r))


@case("title_rows_with_header_row")
def _(d):
    r = _base()
    write(d / "title_rows.csv", "2024年3月 会员消费明细\n导出人：店长\n" + _csv(r), "gbk")
    return _spec(d, "title_rows_with_header_row", "title_rows.csv", _ok(r), header_row=3)


@case("title_rows_without_header_row")
def _(d):
    r = _base()
    write(d / "title_rows2.csv", "2024年3月 会员消费明细\n导出人：店长\n" + _csv(r), "gbk")
    return _spec(d, "title_rows_without_header_row", "title_rows2.csv",
                 _err("WorkbookInputError", ["header_row=3"]))


@case("merged_title_xlsx")
def _(d):
    r = _base()
    xlsx(d / "merged_title.xlsx", HEAD, [[_fmt(v) for v in row] for row in r],
         title_rows=[["会员消费明细"] + [None] * (len(HEAD) - 1)])
    return _spec(d, "merged_title_xlsx", "merged_title.xlsx", _ok(r), header_row=2)


@case("merged_title_xlsx_no_option")
def _(d):
    r = _base()
    xlsx(d / "merged_title2.xlsx", HEAD, [[_fmt(v) for v in row] for row in r],
         title_rows=[["会员消费明细"] + [None] * (len(HEAD) - 1)])
    return _spec(d, "merged_title_xlsx_no_option", "merged_title2.xlsx",
                 _err("WorkbookInputError", ["does not look like a header", "header_row=2"]))


@case("totals_row")
def _(d):
    r = _base()
    total = ["合计", "", "", "", sum(x[4] for x in r), ""]
    write(d / "totals_row.csv", _csv(r + [total]), "gbk")
    return _spec(d, "totals_row", "totals_row.csv",
                 _err("DataValidationError", ["missing_value"], rows=[len(r) + 2],
                      column="timestamp", drop_rows=len(r), drop_sum=_sum(r)))


@case("yuan_and_fullwidth_amounts")
def _(d):
    r = _base()
    shown = [row[:] for row in r]
    for i, row in enumerate(shown):
        v = f"{row[4]:,.2f}"
        row[4] = ["￥" + v, v + "元", "RMB " + v, v.translate(str.maketrans("0123456789.,", "０１２３４５６７８９．，"))][i % 4]
    write(d / "yuan.csv", _csv(shown))
    return _spec(d, "yuan_and_fullwidth_amounts", "yuan.csv", _ok(r, notes=["currency"]))


@case("returns_flagged_positive")
def _(d):
    r = _base(20)
    write(d / "returns.csv", _csv(r))
    return _spec(d, "returns_flagged_positive", "returns.csv",
                 _ok(r, notes=["return amounts negative"]))


@case("returns_negative_without_flag")
def _(d):
    r = _base(20)
    rows = [[*row[:4], -row[4] if row[5] == "退货" else row[4]] for row in r]
    write(d / "returns_neg.csv", _csv(rows, header=HEAD[:5]))
    return _spec(d, "returns_negative_without_flag", "returns_neg.csv", _ok(r),
                 mapping={k: v for k, v in MAP.items() if v != "is_return"})


@case("future_dates")
def _(d):
    r = _base()
    r[3][3] = "2031-03-02 12:00"
    write(d / "future.csv", _csv(r))
    return _spec(d, "future_dates", "future.csv",
                 _err("DataValidationError", ["future_timestamp"], rows=[5], column="timestamp",
                      drop_rows=len(r) - 1, drop_sum=_sum(r[:3] + r[4:])))


def _dates(r, fmt):
    return [[*row[:3], pd.Timestamp(row[3]).strftime(fmt), *row[4:]] for row in r]


@case("day_first_ambiguous")
def _(d):
    r = _base()  # March dates, days 1..12: 01/03/2024 reads as 1 March or 3 January
    write(d / "dayfirst_ambiguous.csv", _csv(_dates(r, "%d/%m/%Y %H:%M")))
    return _spec(d, "day_first_ambiguous", "dayfirst_ambiguous.csv",
                 _err("WorkbookInputError", ["day-first", "month-first", "dayfirst", "row 2"]))


@case("day_first_with_option")
def _(d):
    r = _base()
    write(d / "dayfirst_option.csv", _csv(_dates(r, "%d/%m/%Y %H:%M")))
    return _spec(d, "day_first_with_option", "dayfirst_option.csv",
                 _ok(r, first_timestamp=r[0][3]), dayfirst=True)


@case("day_first_detectable")
def _(d):
    r = _base(20)  # days up to 20: only the day-first reading parses every value
    write(d / "dayfirst.csv", _csv(_dates(r, "%d/%m/%Y %H:%M")))
    return _spec(d, "day_first_detectable", "dayfirst.csv",
                 _ok(r, first_timestamp=r[15][3], first_row=15, notes=["day-first"]))


@case("month_first_detectable")
def _(d):
    r = _base(20)
    write(d / "monthfirst.csv", _csv(_dates(r, "%m/%d/%Y %H:%M")))
    return _spec(d, "month_first_detectable", "monthfirst.csv",
                 _ok(r, first_timestamp=r[15][3], first_row=15, notes=["month-first"]))


def _serial(ts):
    return round((pd.Timestamp(ts) - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1), 6)


@case("excel_serial_dates_in_csv")
def _(d):
    r = _base()
    rows = [[*row[:3], _serial(row[3]), *row[4:]] for row in r]
    write(d / "serial.csv", _csv([[*x[:3], f"{x[3]:.6f}", *x[4:]] for x in rows]))
    return _spec(d, "excel_serial_dates_in_csv", "serial.csv",
                 _ok(r, first_timestamp=r[0][3], notes=["Excel serial"]))


@case("excel_serial_dates_in_xlsx")
def _(d):
    r = _base()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEAD)
    for row in r:  # number cells in the date column (format lost)
        ws.append([row[0], row[1], row[2], _serial(row[3]), row[4], row[5]])
    wb.save(d / "serial.xlsx")
    return _spec(d, "excel_serial_dates_in_xlsx", "serial.xlsx",
                 _ok(r, first_timestamp=r[0][3], notes=["Excel serial"]))


@case("excel_serial_day_60")
def _(d):
    r = _base()
    rows = [[*row[:3], f"{_serial(row[3]):.6f}", *row[4:]] for row in r]
    rows[2][3] = "60"
    write(d / "serial60.csv", _csv(rows))
    return _spec(d, "excel_serial_day_60", "serial60.csv",
                 _err("DataValidationError", ["not_a_date", "1900-02-29"], rows=[4],
                      column="timestamp", drop_rows=len(r) - 1, drop_sum=_sum(r[:2] + r[3:])),
                 mapping={"transactions": {"columns": MAP, "date_format": "excel"}})


@case("dates_in_1900")
def _(d):
    r = _base()
    r[5][3] = "1900-01-01 00:00"
    write(d / "year1900.csv", _csv(r))
    return _spec(d, "dates_in_1900", "year1900.csv",
                 _err("DataValidationError", ["implausible_date"], rows=[7], column="timestamp",
                      drop_rows=len(r) - 1, drop_sum=_sum(r[:5] + r[6:])))


@case("phone_ids_with_float_suffix")
def _(d):
    r = _base()
    shown = [[row[0], row[1] + ".0" if row[1] else "", *row[2:]] for row in r]
    write(d / "phone_float.csv", _csv(shown))
    return _spec(d, "phone_ids_with_float_suffix", "phone_float.csv",
                 _ok(r, members=len({x[1] for x in r if x[1]}), notes=[".0"]))


@case("phone_ids_scientific")
def _(d):
    r = _base()
    r[1][1] = "1.5258219e+10"
    r[7][1] = "1.3912346E+10"
    write(d / "phone_sci.csv", _csv(r))
    return _spec(d, "phone_ids_scientific", "phone_sci.csv",
                 _err("DataValidationError", ["id_scientific", "text"], rows=[3, 9],
                      column="member_id", drop_rows=len(r) - 2,
                      drop_sum=_sum([x for i, x in enumerate(r) if i not in (1, 7)])),
                 extra_pii=["1.5258219e+10", "1.3912346E+10"])


@case("card19_precision_lost_text")
def _(d):
    r = _base()
    lost = [c[:15] + "0000" for c in CARDS19]
    for i, row in enumerate(r):
        row[1] = lost[i % 3] if i % 2 == 0 else row[1]
    write(d / "card19_lost.csv", _csv(r))
    bad = [i + 2 for i in range(len(r)) if i % 2 == 0]
    keep = [x for i, x in enumerate(r) if i % 2]
    return _spec(d, "card19_precision_lost_text", "card19_lost.csv",
                 _err("DataValidationError", ["id_precision_lost", "text"], rows=bad,
                      column="member_id", drop_rows=len(keep), drop_sum=_sum(keep)),
                 extra_pii=lost)


@case("card19_exact_text")
def _(d):
    r = _base()
    for i, row in enumerate(r):
        row[1] = CARDS19[i % 3] if row[1] else ""
    write(d / "card19_ok.csv", _csv(r))
    return _spec(d, "card19_exact_text", "card19_ok.csv", _ok(r, members=3))


@case("phone_ids_as_excel_numbers")
def _(d):
    r = _base()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEAD)
    for row in r:
        ws.append([row[0], int(row[1]) if row[1] else None, row[2],
                   dt.datetime.fromisoformat(row[3]), row[4], row[5]])
    wb.save(d / "phone_numbers.xlsx")
    return _spec(d, "phone_ids_as_excel_numbers", "phone_numbers.xlsx",
                 _ok(r, members=len({x[1] for x in r if x[1]})))


@case("card19_as_excel_numbers")
def _(d):
    r = _base()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEAD)
    for i, row in enumerate(r):
        ws.append([row[0], float(CARDS19[i % 3]), row[2], dt.datetime.fromisoformat(row[3]),
                   row[4], row[5]])
    wb.save(d / "card19_numbers.xlsx")
    return _spec(d, "card19_as_excel_numbers", "card19_numbers.xlsx",
                 _err("DataValidationError", ["id_precision_lost"],
                      rows=list(range(2, len(r) + 2)), column="member_id", drop_rows=0,
                      drop_sum=0.0))


@case("fullwidth_ids")
def _(d):
    r = _base()
    shown = [[row[0], row[1].translate(str.maketrans("0123456789", "０１２３４５６７８９")),
              *row[2:]] for row in r]
    write(d / "fullwidth_ids.csv", _csv(shown), "gbk")
    return _spec(d, "fullwidth_ids", "fullwidth_ids.csv",
                 _ok(r, members=len({x[1] for x in r if x[1]}), notes=["full-width"]))


@case("excel_text_guards")
def _(d):
    r = _base()
    shown = [[row[0], f'="{row[1]}"' if row[1] else "", *row[2:]] for row in r]
    write(d / "text_guard.csv", _csv(shown))
    return _spec(d, "excel_text_guards", "text_guard.csv",
                 _ok(r, members=len({x[1] for x in r if x[1]}), notes=["text guards"]))


@case("walk_in_placeholders")
def _(d):
    r = _base(14)
    marks = ["散客", "非会员", "无", "-", "0", "000000"]
    for i, m in zip((0, 2, 5, 7, 8, 11), marks):
        r[i][1] = m
    write(d / "walk_in.csv", _csv(r), "gbk")
    n_walk = sum(1 for x in r if x[1] in marks or not x[1])
    return _spec(d, "walk_in_placeholders", "walk_in.csv",
                 _ok(r, walk_ins=n_walk, members=len({x[1] for x in r if x[1] and x[1] not in marks}),
                     notes=["walk-in placeholders"]))


@case("walk_in_custom_values")
def _(d):
    r = _base()
    r[0][1] = "GUEST"
    r[1][1] = "散客"  # not a walk-in here: the mapping lists only GUEST, so it is an id
    write(d / "walk_in_custom.csv", _csv(r))
    (d / "walk_in_custom.yaml").write_text(
        "transactions:\n  columns:\n" + "".join(f"    {k}: {v}\n" for k, v in MAP.items())
        + "  walk_in_values: [GUEST]\n", encoding="utf-8")
    return _spec(d, "walk_in_custom_values", "walk_in_custom.csv",
                 _ok(r, walk_ins=1 + sum(1 for x in r if not x[1])), mapping="walk_in_custom.yaml")


def _no_receipt(r):
    return [row[1:] for row in r]


@case("exact_duplicates_kept")
def _(d):
    r = _base()
    rows = r + [r[2][:], r[5][:], r[2][:]]
    write(d / "dups_keep.csv", _csv(_no_receipt(rows), header=HEAD[1:]))
    return _spec(d, "exact_duplicates_kept", "dups_keep.csv",
                 _ok(rows, exact_duplicates=3, notes=["exact duplicate"]),
                 mapping={k: v for k, v in MAP.items() if v != "transaction_id"})


@case("exact_duplicates_dropped")
def _(d):
    r = _base()
    rows = r + [r[2][:], r[5][:], r[2][:]]
    write(d / "dups_drop.csv", _csv(_no_receipt(rows), header=HEAD[1:]))
    return _spec(d, "exact_duplicates_dropped", "dups_drop.csv",
                 _ok(r, exact_duplicates=3, rejected_rows=[len(r) + 2, len(r) + 3, len(r) + 4]),
                 mapping={k: v for k, v in MAP.items() if v != "transaction_id"},
                 duplicates="drop")


@case("duplicate_header_ambiguous")
def _(d):
    r = _base()
    rows = [[*row[:4], row[4] + 10, *row[4:]] for row in r]  # list price, then paid
    write(d / "two_amounts.csv", _csv(rows, header=HEAD[:4] + ["实付金额"] + HEAD[4:]))
    return _spec(d, "duplicate_header_ambiguous", "two_amounts.csv",
                 _err("WorkbookInputError", ["2 columns named '实付金额'", "实付金额#1", "实付金额#2"]))


@case("duplicate_header_chosen")
def _(d):
    r = _base()
    rows = [[*row[:4], row[4] + 10, *row[4:]] for row in r]
    write(d / "two_amounts2.csv", _csv(rows, header=HEAD[:4] + ["实付金额"] + HEAD[4:]))
    m = {("实付金额#2" if k == "实付金额" else k): v for k, v in MAP.items()}
    return _spec(d, "duplicate_header_chosen", "two_amounts2.csv", _ok(r), mapping=m)


@case("truncated_parquet")
def _(d):
    r = _base()
    df = pd.DataFrame(r, columns=HEAD)
    df.to_parquet(d / "full.parquet")
    data = (d / "full.parquet").read_bytes()
    (d / "full.parquet").unlink()
    (d / "truncated.parquet").write_bytes(data[: len(data) // 2])
    return _spec(d, "truncated_parquet", "truncated.parquet",
                 _err("WorkbookInputError", ["Parquet", "truncated", "Parquet 格式"]))


@case("corrupt_xlsx")
def _(d):
    r = _base()
    xlsx(d / "whole.xlsx", HEAD, [[_fmt(v) for v in row] for row in r])
    data = (d / "whole.xlsx").read_bytes()
    (d / "whole.xlsx").unlink()
    (d / "corrupt.xlsx").write_bytes(data[: len(data) * 2 // 3])
    return _spec(d, "corrupt_xlsx", "corrupt.xlsx",
                 _err("WorkbookInputError", ["Excel .xlsx", "damaged", "损坏"]))


@case("yaml_section_typo")
def _(d):
    r = _base()
    write(d / "typo.csv", _csv(r))
    (d / "typo.yaml").write_text("transaction:\n  columns:\n"
                                 + "".join(f"    {k}: {v}\n" for k, v in MAP.items()),
                                 encoding="utf-8")
    return _spec(d, "yaml_section_typo", "typo.csv",
                 _err("WorkbookInputError", ["Did you mean 'transactions'", "是否想写"]),
                 mapping="typo.yaml")


@case("yaml_duplicate_key")
def _(d):
    r = _base()
    write(d / "dupkey.csv", _csv(r))
    (d / "dupkey.yaml").write_text("transactions:\n  columns:\n"
                                   + "".join(f"    {k}: {v}\n" for k, v in MAP.items())
                                   + "    实付金额: discount\n", encoding="utf-8")
    return _spec(d, "yaml_duplicate_key", "dupkey.csv",
                 _err("WorkbookInputError", ["'实付金额' appears twice", "lines 7 and 9"]),
                 mapping="dupkey.yaml")


def _members_csv(d, name, ids, changes=None):
    rows = [[i, NAMES[k % len(NAMES)], PHONES[k % len(PHONES)], EMAILS[k % len(EMAILS)],
             "女" if k % 2 else "男", "1990-05-17", "2023-01-05"] for k, i in enumerate(ids)]
    for (k, col), v in (changes or {}).items():
        rows[k][col] = v
    header = ["会员卡号", "姓名", "手机号", "邮箱", "性别", "生日", "注册时间"]
    write(d / name, _csv(rows, header=header), "utf-8-sig")
    return {"会员卡号": "member_id", "姓名": "name", "手机号": "phone", "邮箱": "email",
            "性别": "gender", "生日": "birth_date", "注册时间": "join_date"}


@case("lost_leading_zeros")
def _(d):
    r = _base()
    cards = ["000123", "004567", "089012"]
    for i, row in enumerate(r):
        row[1] = cards[i % 3].lstrip("0") if i in (1, 4) else cards[i % 3]
    mm = _members_csv(d, "members_zeros.csv", cards)
    write(d / "tx_zeros.csv", _csv(r))
    keep = [x for i, x in enumerate(r) if i not in (1, 4)]
    return _spec(d, "lost_leading_zeros", "tx_zeros.csv",
                 _err("DataValidationError", ["lost_leading_zeros", "leading zeros"],
                      rows=[3, 6], column="member_id", drop_rows=len(keep),
                      drop_sum=_sum(keep)),
                 members_file="members_zeros.csv", members_mapping=mm)


@case("orphan_phone_member")
def _(d):
    r = _base()
    mm = _members_csv(d, "members_phones.csv", PHONES[:5])
    write(d / "tx_orphan.csv", _csv(r))
    bad = [i + 2 for i, x in enumerate(r) if x[1] == PHONES[5]]
    keep = [x for x in r if x[1] != PHONES[5]]
    return _spec(d, "orphan_phone_member", "tx_orphan.csv",
                 _err("DataValidationError", ["orphan_member"], rows=bad, column="member_id",
                      drop_rows=len(keep), drop_sum=_sum(keep)),
                 members_file="members_phones.csv", members_mapping=mm)


@case("no_header_row")
def _(d):
    r = _base()
    text = _csv(r).split("\n", 1)[1]
    write(d / "no_header.csv", text)
    return _spec(d, "no_header_row", "no_header.csv",
                 _err("WorkbookInputError", ["no header row"]))


@case("members_placeholder_birth_dates")
def _(d):
    ids = PHONES[:5]
    mm = _members_csv(d, "members_1900.csv", ids, {(1, 5): "1900-01-01", (3, 5): "1890-03-02",
                                                      (4, 6): "1900-01-01"})
    return _spec(d, "members_placeholder_birth_dates", "members_1900.csv",
                 {"outcome": "ok", "rows": 5, "missing_birth_dates": 2, "missing_join_dates": 1,
                  "notes": ["implausible dates"]},
                 mapping=mm, table="members")


@case("members_future_birth_date")
def _(d):
    mm = _members_csv(d, "members_future.csv", PHONES[:5], {(2, 5): "2031-01-01"})
    return _spec(d, "members_future_birth_date", "members_future.csv",
                 _err("DataValidationError", ["future_date"], rows=[4], column="birth_date",
                      drop_rows=4),
                 mapping=mm, table="members")


@case("members_duplicate_phone_ids")
def _(d):
    mm = _members_csv(d, "members_dup.csv", PHONES[:4] + [PHONES[1]])
    return _spec(d, "members_duplicate_phone_ids", "members_dup.csv",
                 _err("DataValidationError", ["duplicate_id"], rows=[6], column="member_id",
                      drop_rows=4),
                 mapping=mm, table="members")


@case("text_in_amount")
def _(d):
    r = _base()
    shown = [row[:] for row in r]
    shown[2][4] = "面议"
    write(d / "text_amount.csv", _csv(shown))
    keep = r[:2] + r[3:]
    return _spec(d, "text_in_amount", "text_amount.csv",
                 _err("DataValidationError", ["not_a_number"], rows=[4], column="amount",
                      drop_rows=len(keep), drop_sum=_sum(keep)))


@case("decimal_comma_not_guessed")
def _(d):
    r = _base()
    shown = [[*row[:4], f"{row[4]:.2f}".replace(".", ","), row[5]] for row in r]
    write(d / "decimal_comma.csv", _csv(shown, sep=";"))
    return _spec(d, "decimal_comma_not_guessed", "decimal_comma.csv",
                 _err("DataValidationError", ["not_a_number"], rows=list(range(2, len(r) + 2)),
                      column="amount", drop_rows=0, drop_sum=0.0))


@case("mixed_date_formats")
def _(d):
    r = _base()
    shown = [row[:] for row in r]
    shown[3][3] = "05.03.2024 10:00"
    write(d / "mixed_dates.csv", _csv(shown))
    keep = r[:3] + r[4:]
    return _spec(d, "mixed_date_formats", "mixed_dates.csv",
                 _err("DataValidationError", ["not_a_date", "mix date formats"], rows=[5],
                      column="timestamp", drop_rows=len(keep), drop_sum=_sum(keep)))


@case("utc_offsets_without_timezone")
def _(d):
    r = _base()
    shown = [[*row[:3], row[3].replace(" ", "T") + ":00+08:00", *row[4:]] for row in r]
    write(d / "offsets.csv", _csv(shown))
    return _spec(d, "utc_offsets_without_timezone", "offsets.csv",
                 _err("WorkbookInputError", ["timezone='Asia/Shanghai'", "时区"]))


@case("utc_offsets_with_timezone")
def _(d):
    r = _base()
    shown = [[*row[:3], row[3].replace(" ", "T") + ":00+08:00", *row[4:]] for row in r]
    write(d / "offsets_tz.csv", _csv(shown))
    return _spec(d, "utc_offsets_with_timezone", "offsets_tz.csv",
                 _ok(r, first_timestamp=r[0][3]), timezone="Asia/Shanghai")


@case("blank_lines_and_trailing_spaces")
def _(d):
    r = _base()
    lines = _csv([[*row[:1], f"  {row[1]} ", *row[2:]] for row in r]).split("\n")
    lines.insert(4, "")
    lines.insert(8, ",,,,,")
    write(d / "blanks.csv", "\n".join(lines))
    return _spec(d, "blank_lines_and_trailing_spaces", "blanks.csv",
                 _ok(r, blank_rows=2, notes=["empty rows"]))


@case("excel_saved_as_csv")
def _(d):
    r = _base()
    xlsx(d / "real.xlsx", HEAD, [[_fmt(v) for v in row] for row in r])
    (d / "saved_as.csv").write_bytes((d / "real.xlsx").read_bytes())
    (d / "real.xlsx").unlink()
    return _spec(d, "excel_saved_as_csv", "saved_as.csv",
                 _err("WorkbookInputError", ["is an Excel workbook"]))


@case("negative_amount_on_sale")
def _(d):
    r = _base()
    shown = [row[:] for row in r]
    shown[1][4] = -shown[1][4]
    write(d / "negative_sale.csv", _csv(shown))
    keep = r[:1] + r[2:]
    return _spec(d, "negative_amount_on_sale", "negative_sale.csv",
                 _err("DataValidationError", ["negative_amount"], rows=[3], column="amount",
                      drop_rows=len(keep), drop_sum=_sum(keep)))


def build_messy_corpus(directory) -> dict:
    """Write every messy export and its ``.expected.json`` into ``directory``.

    Returns ``{case name: spec}`` (the parsed expected outcome).
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    return {name: build(d) for name, build in CASES.items()}


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--messy":
        specs = build_messy_corpus(sys.argv[2])
        print(f"wrote {len(specs)} messy exports to {sys.argv[2]}")
    else:
        main()
