"""Regenerate the small test corpus under tests/data/good and tests/data/bad.

Run ``python tests/data/make_corpus.py`` from the repository root.  The files
are committed; this script documents exactly how each one was made (the
encodings and byte-level defects matter and are easy to lose in an editor).
Everything is fictitious: no real person or store.
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


if __name__ == "__main__":
    main()
