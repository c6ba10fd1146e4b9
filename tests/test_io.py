"""Tests for workbook.io: reading exports, mapping, cleaning, validation reports."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbook.aggregate import member_summary
from workbook.errors import WorkbookInputError
from workbook.io import (
    MEMBER_COLUMNS,
    REPORT_COLUMNS,
    TRANSACTION_COLUMNS,
    DataQualityWarning,
    DataValidationError,
    LoadResult,
    load_members,
    load_transactions,
    load_workbook_data,
    read_mapping,
    report_summary,
    suggest_mapping,
    validate_members,
    validate_transactions,
)

DATA = Path(__file__).parent / "data"
GOOD, BAD = DATA / "good", DATA / "bad"
MAPPING = GOOD / "mapping.yaml"
NOW = "2024-12-31"
KEY = "9c41e7d2b08a5f36e1d47c90ab2f8e5d3b6a1c07f94e28d5a3c6b1e08f7d2a49"  # random: weak keys are refused
FLAT = {"小票号": "transaction_id", "会员卡号": "member_id", "门店编码": "store_id",
        "交易时间": "timestamp", "实付金额": "amount", "交易类型": "is_return"}


@pytest.fixture(scope="module")
def members():
    return load_members(GOOD / "members_utf8_bom.csv", MAPPING, analysis_date=NOW)


@pytest.fixture(scope="module")
def good():
    return load_transactions(GOOD / "pos_export_gbk.csv", MAPPING, analysis_date=NOW, return_report=True)


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------
# The good files: Chinese export mapped and analysed end to end
# --------------------------------------------------------------------------


def test_good_gbk_export_is_mapped_to_the_contract(good):
    df = good.data
    assert list(df.columns) == [c for c in TRANSACTION_COLUMNS if c != "points_earned"
                                and c != "points_redeemed" and c != "category"]  # not in this export
    assert len(df) == 12 and good.report.empty and good.rejected.empty
    # card numbers keep their leading zeros, the walk-in has no member id
    assert df["member_id"].iloc[:3].tolist() == ["0001", "0001", "0002"]
    assert pd.isna(df["member_id"].iloc[3])
    assert df["member_id"].dropna().unique().tolist() == ["0001", "0002", "0003"]
    # ￥1,280.00 -> 1280.0, 2,000 -> 2000.0 ; the flagged return (退货, +500) becomes -500
    assert df["amount"].tolist() == [1280.0, 320.5, 88.0, 45.0, 2000.0, 99.5, 150.0, -500.0,
                                     1050.0, 300.0, 60.0, 210.0]
    assert df["is_return"].tolist() == [False] * 7 + [True] + [False] * 4
    assert df["channel"].tolist()[:3] == ["offline", "offline", "online"]
    assert df["timestamp"].iloc[0] == pd.Timestamp("2024-03-01 10:15")
    assert pd.api.types.is_datetime64_dtype(df["timestamp"])
    assert df["items"].dtype == "int64" and df["discount"].dtype == "float64"
    assert str(df["member_id"].dtype) == "str"
    # the cashier column is not mapped: left out, and said so
    assert "收银员" not in df.columns
    actions = " | ".join(good.cleaning["action"])
    assert "GB18030" in actions and "currency" in actions and "thousands" in actions
    assert "left out unmapped columns" in actions and "return amounts negative" in actions
    cur = good.cleaning.set_index("action").loc["removed currency symbol or unit"]
    assert cur["count"] == 4 and cur["column"] == "amount"


def test_good_export_end_to_end_member_summary(good, members):
    """Hand-computed: 0001 buys 1280+320.5+99.5+60; 0003 buys 2000+300 and returns 500."""
    tx = load_transactions(GOOD / "pos_export_gbk.csv", MAPPING, analysis_date=NOW, members=members)
    s = member_summary(tx)
    assert s.attrs["analysis_date"] == pd.Timestamp("2024-06-30")
    assert s.loc["0001", "monetary_total"] == pytest.approx(1760.0)
    assert s.loc["0001", "n_purchases"] == 4
    assert s.loc["0002", "monetary_total"] == pytest.approx(88 + 150 + 1050 + 210)
    assert s.loc["0003", "monetary_total"] == pytest.approx(1800.0)
    assert (s.loc["0003", "n_purchases"], s.loc["0003", "n_returns"]) == (2, 1)
    # last purchase 2024-06-18 19:30 -> 11 whole days before 2024-06-30 00:00
    assert s.loc["0001", "recency_days"] == 11


def test_paths_with_a_tilde_are_the_home_folder(good, monkeypatch, tmp_path):
    """A trainee types DATA_PATH = "~/Downloads/export.csv": the loaders, the mapping file,
    the SQL engine and the data-set folder all read it from the home folder."""
    import shutil

    from workbook.synth import load_dataset

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "Downloads").mkdir()
    shutil.copy(GOOD / "pos_export_gbk.csv", tmp_path / "Downloads" / "export.csv")
    shutil.copy(MAPPING, tmp_path / "Downloads" / "mapping.yaml")
    tx = load_transactions("~/Downloads/export.csv", "~/Downloads/mapping.yaml", analysis_date=NOW)
    pd.testing.assert_frame_equal(tx, good.data)
    tx.to_parquet(tmp_path / "Downloads" / "tx.parquet")
    assert member_summary("~/Downloads/tx.parquet").equals(member_summary(tx))
    shutil.copytree(Path(__file__).resolve().parents[1] / "datasets", tmp_path / "data")
    assert len(load_dataset("~/data").members) > 0


def test_good_members_file(members):
    assert members["member_id"].tolist() == ["0001", "0002", "0003"]
    assert members["gender"].tolist() == ["M", "F", "M"]
    assert members["tier"].tolist() == ["gold", "silver", "member"]
    assert members["birth_date"].iloc[0] == pd.Timestamp("1985-07-12")
    assert members["join_date"].iloc[1] == pd.Timestamp("2024-01-15 15:30")
    assert set(members.columns) <= set(MEMBER_COLUMNS)


def test_excel_export_equals_csv_export(good):
    xl = load_transactions(GOOD / "pos_export.xlsx", MAPPING, analysis_date=NOW)
    pd.testing.assert_frame_equal(xl, good.data)


# --------------------------------------------------------------------------
# The bad-file corpus: each file gives its own clear message
# --------------------------------------------------------------------------

BAD_FILES = [
    # file, extra kwargs, expected message (regex)
    ("missing_column.csv", {"mapping": {}},
     r"missing required transactions column\(s\) \['amount'\].*'实付金额'|"
     r"missing required transactions column\(s\) \[.*'amount'\].*会员卡号': 'member_id'"),
    ("missing_column.csv", {}, r"names column\(s\) \['实付金额'\] that are not in missing_column\.csv"),
    ("wrong_encoding.csv", {"mapping": None},
     r"neither UTF-8 .*line 2.* nor GB18030/GBK.*encoding="),
    ("mixed_date_formats.csv", {"mapping": FLAT},
     r"not_a_date in column 'timestamp': rows 4, 6 \(2 in total\).*'02-03-2024 12:00'.*"
     r"mix date formats"),
    ("mixed_date_formats.csv", {},
     r"rows 4, 6 \(2 in total\).*does not match date_format='%Y/%m/%d %H:%M'"),
    ("merged_header.xlsx", {},
     r"row 1 does not look like a header.*9 of 10 columns have no name.*"
     r"'2024年3月 会员消费明细'.*pass header_row=2"),
    ("multirow_header.xlsx", {}, r"7 of 10 columns have no name.*'交易信息'.*pass header_row=2"),
    ("negative_amounts.csv", {},
     r"negative_amount in column 'amount': rows 3, 5 \(2 in total\).*-320\.5 on a row not "
     r"flagged as a return"),
    ("future_dates.csv", {}, r"future_timestamp in column 'timestamp': row 4 \(1 in total\).*2031-03-02"),
    ("duplicate_ids.csv", {},
     r"duplicate_id in column 'transaction_id': row 7 \(1 in total\).*'S0002'"),
    ("text_in_amount.csv", {},
     r"not_a_number in column 'amount': rows 5, 6 \(2 in total\).*'面议' is not a number"),
    ("empty.csv", {}, r"empty\.csv is empty \(0 bytes\)"),
    ("header_only.csv", {}, r"has a header row \(\['小票号'.*but no data rows"),
    ("orphan_members.csv", {"members": "fixture"},
     r"orphan_member in column 'member_id': row 4 \(1 in total\).*member id not in the members "
     r"table(?![\s\S]*0099)"),  # the raw member id is never quoted
    ("wrong_delimiter.csv", {"sep": ","},
     r"sep=',' gives only one column.*looks ';'-separated: pass sep=';'"),
    ("fullwidth_comma.csv", {}, r"only one column.*full-width commas '，'"),
    ("title_row.csv", {}, r"Row 1 of title_row\.csv .*single column but row 3 has 10 ','-separated "
     r"fields.*pass header_row=3"),
    ("excel_saved_as.csv", {}, r"is an Excel workbook \(a zip file\), not a CSV"),
    ("scientific_ids.csv", {}, r"id_scientific in column 'member_id': row 3.*scientific notation"),
]


@pytest.mark.parametrize("name, kwargs, match", BAD_FILES,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD_FILES)])
def test_bad_file_gives_its_specific_message(name, kwargs, match, members):
    kwargs = dict(kwargs)
    mapping = kwargs.pop("mapping", MAPPING)
    if kwargs.get("members") == "fixture":
        kwargs["members"] = members
    with pytest.raises(WorkbookInputError, match=match):
        load_transactions(BAD / name, mapping, analysis_date=NOW, **kwargs)


def test_bad_corpus_has_at_least_twelve_files_and_all_are_tested():
    files = {p.name for p in BAD.iterdir() if p.is_file()}
    tested = {b[0] for b in BAD_FILES} | {"members_duplicates.csv"}
    assert len(files) >= 12
    assert files == tested


def test_bad_members_file_reports_duplicates_and_unknown_tier():
    with pytest.raises(DataValidationError) as info:
        load_members(BAD / "members_duplicates.csv", MAPPING, analysis_date=NOW)
    rep = info.value.report
    assert list(rep.columns) == REPORT_COLUMNS
    assert set(zip(rep["check"], rep["column"], rep["row"])) == {
        ("duplicate_id", "member_id", 5), ("unknown_value", "tier", 5)}
    # the tier label is quoted; the member id is personal and never is (issue 11)
    assert "钻石卡" in str(info.value) and "0001" not in info.value.bilingual()
    assert rep.loc[rep["check"] == "duplicate_id", "value"].tolist() == ["****"]


def test_validation_error_carries_report_and_rejected_rows():
    with pytest.raises(DataValidationError) as info:
        load_transactions(BAD / "text_in_amount.csv", MAPPING, analysis_date=NOW)
    err = info.value
    assert err.report[["check", "row", "value"]].values.tolist() == [
        ["not_a_number", 5, "面议"], ["not_a_number", 6, "1.280,00"]]
    assert err.rejected.index.tolist() == [5, 6]
    assert err.rejected.loc[5, "amount"] == "面议"  # raw value as in the file
    assert "not a number" in err.rejected.loc[6, "reasons"]


def test_wrong_delimiter_is_detected_by_default(good):
    res = load_transactions(BAD / "wrong_delimiter.csv", MAPPING, analysis_date=NOW, return_report=True)
    pd.testing.assert_frame_equal(res.data, good.data.iloc[:4])
    assert "detected delimiter ';'" in res.cleaning["action"].tolist()


@pytest.mark.parametrize("name, header_row", [("merged_header.xlsx", 2),
                                              ("multirow_header.xlsx", 2),
                                              ("title_row.csv", 3)])
def test_header_row_argument_reads_files_with_title_rows(name, header_row, good):
    res = load_transactions(BAD / name, MAPPING, analysis_date=NOW, header_row=header_row,
                            return_report=True)
    n = len(res.data)
    pd.testing.assert_frame_equal(res.data, good.data.iloc[:n])
    assert res.rejected.empty and n >= 4


def test_header_row_in_the_mapping_file(tmp_path, good):
    m = tmp_path / "m.yaml"
    m.write_text(MAPPING.read_text(encoding="utf-8").replace(
        'date_format: "%Y/%m/%d %H:%M"', 'date_format: "%Y/%m/%d %H:%M"\n  header_row: 3'),
        encoding="utf-8")
    df = load_transactions(BAD / "title_row.csv", m, analysis_date=NOW)
    assert len(df) == 4


# --------------------------------------------------------------------------
# errors="drop": nothing silently dropped
# --------------------------------------------------------------------------


def test_drop_returns_clean_rows_and_written_report(tmp_path):
    with pytest.warns(DataQualityWarning, match=r"dropped 2 of 5 transactions row\(s\).*not_a_number"):
        res = load_transactions(BAD / "text_in_amount.csv", MAPPING, analysis_date=NOW, errors="drop",
                                return_report=True)
    assert isinstance(res, LoadResult)
    df, report, rejected, cleaning = res
    assert df["transaction_id"].tolist() == ["S0001", "S0002", "S0003"]
    assert rejected.index.tolist() == [5, 6] and report["row"].tolist() == [5, 6]
    out = res.write_report(tmp_path / "rejected.csv")
    back = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert back["row"].tolist() == ["5", "6"] and back["amount"].tolist() == ["面议", "1.280,00"]
    assert back["reasons"].str.contains("not a number").all()


def test_drop_without_report_still_warns():
    with pytest.warns(DataQualityWarning, match="duplicate_id"):
        df = load_transactions(BAD / "duplicate_ids.csv", MAPPING, analysis_date=NOW, errors="drop")
    assert df["transaction_id"].tolist() == ["S0001", "S0002", "S0003", "S0004", "S0005"]


def test_row_numbers_count_blank_lines_and_header_row(tmp_path):
    p = write_csv(tmp_path / "t.csv",
                  "title\nid,card,time,paid\nT1,1,2024-01-01,5\n\nT2,2,2024-01-02,x\n")
    m = {"id": "transaction_id", "card": "member_id", "time": "timestamp", "paid": "amount"}
    with pytest.raises(DataValidationError, match=r"row 5 \(1 in total\)") as info:
        load_transactions(p, m, analysis_date=NOW, header_row=2)
    assert info.value.report["row"].tolist() == [5]  # line 4 is blank
    with pytest.warns(DataQualityWarning, match="dropped 1 of 2"):
        res = load_transactions(p, m, analysis_date=NOW, header_row=2, errors="drop", return_report=True)
    assert "skipped completely empty rows" in res.cleaning["action"].tolist()
    assert res.data["transaction_id"].tolist() == ["T1"]


# --------------------------------------------------------------------------
# Encodings, amounts, dates, time zones
# --------------------------------------------------------------------------

SMALL = "会员卡号,交易时间,实付金额\n007,2024-05-01 09:30,￥1,234.50\n008,2024-05-02 10:00,12\n"
SMALL_MAP = {"会员卡号": "member_id", "交易时间": "timestamp", "实付金额": "amount"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_encodings_are_detected(tmp_path, encoding):
    text = SMALL.replace("￥1,234.50", '"￥1,234.50"')
    df = load_transactions(write_csv(tmp_path / "s.csv", text, encoding), SMALL_MAP, analysis_date=NOW)
    assert df["member_id"].tolist() == ["007", "008"]
    assert df["amount"].tolist() == [1234.5, 12.0]


def test_explicit_wrong_encoding_is_reported(tmp_path):
    p = write_csv(tmp_path / "s.csv", SMALL.replace("￥1,234.50", "5"), "gbk")
    with pytest.raises(WorkbookInputError, match=r"with encoding='utf-8'.*Leave encoding=None"):
        load_transactions(p, SMALL_MAP, encoding="utf-8")


@pytest.mark.parametrize("raw, value", [
    ("￥1,234.50", 1234.5), ("¥88", 88.0), ("RMB 1,000", 1000.0), ("88元", 88.0),
    ("CNY12.5", 12.5), ("(12.00)", -12.0), ("\u221245", -45.0), ("１２３", 123.0),
    ("-1,234,567.8", -1234567.8), ("0", 0.0),
])
def test_amount_cleaning(tmp_path, raw, value):
    p = write_csv(tmp_path / "a.csv", f'id,t,a,r\nX,2024-01-01,"{raw}",{"是" if value < 0 else "否"}\n')
    m = {"id": "member_id", "t": "timestamp", "a": "amount", "r": "is_return"}
    assert load_transactions(p, m, analysis_date=NOW)["amount"].iloc[0] == pytest.approx(value)


@pytest.mark.parametrize("raw", ["1.280,00", "12,34", "abc", "1,2,3", "12..5"])
def test_ambiguous_or_text_amounts_are_reported_not_guessed(tmp_path, raw):
    p = write_csv(tmp_path / "a.csv", f'id,t,a\nX,2024-01-01,"{raw}"\n')
    with pytest.raises(DataValidationError, match="not_a_number") as info:
        load_transactions(p, {"id": "member_id", "t": "timestamp", "a": "amount"}, analysis_date=NOW)
    assert info.value.report["value"].tolist() == [raw]


def test_integer_columns_reject_fractions(tmp_path):
    p = write_csv(tmp_path / "a.csv", "id,t,a,n\nX,2024-01-01,5,2\nY,2024-01-01,5,1.5\n")
    m = {"id": "member_id", "t": "timestamp", "a": "amount", "n": "items"}
    with pytest.raises(DataValidationError, match=r"not_an_integer in column 'items': row 3"):
        load_transactions(p, m, analysis_date=NOW)


@pytest.mark.parametrize("text, fmt, expected", [
    ("2024年5月1日 09:30", None, "2024-05-01 09:30"),
    ("01/05/2024 09:30", "%d/%m/%Y %H:%M", "2024-05-01 09:30"),
    ("20240501", None, "2024-05-01"),
    ("2024-05-01T09:30:00", None, "2024-05-01 09:30"),
])
def test_date_formats(tmp_path, text, fmt, expected):
    p = write_csv(tmp_path / "d.csv", f"id,t,a\nX,{text},5\n")
    df = load_transactions(p, {"id": "member_id", "t": "timestamp", "a": "amount"},
                           date_format=fmt, analysis_date=NOW)
    assert df["timestamp"].iloc[0] == pd.Timestamp(expected)


def test_utc_offsets_need_a_timezone_and_are_converted(tmp_path):
    p = write_csv(tmp_path / "d.csv",
                  "id,t,a\nX,2024-05-01T01:30:00Z,5\nY,2024-05-01T09:30:00+08:00,6\n")
    m = {"id": "member_id", "t": "timestamp", "a": "amount"}
    with pytest.raises(WorkbookInputError, match=r"UTC offset.*pass timezone='Asia/Shanghai'"):
        load_transactions(p, m, analysis_date=NOW)
    df = load_transactions(p, m, timezone="Asia/Shanghai", analysis_date=NOW)
    assert df["timestamp"].tolist() == [pd.Timestamp("2024-05-01 09:30")] * 2
    assert df["timestamp"].dt.tz is None
    with pytest.raises(WorkbookInputError, match="not a known time zone"):
        load_transactions(p, m, timezone="China/Beijing", analysis_date=NOW)


def test_mixing_offsets_and_local_times_is_reported(tmp_path):
    p = write_csv(tmp_path / "d.csv", "id,t,a\nX,2024-05-01T01:30:00Z,5\nY,2024-05-01 09:30,6\n")
    with pytest.raises(DataValidationError, match=r"mixed_time_zones.*row 3"):
        load_transactions(p, {"id": "member_id", "t": "timestamp", "a": "amount"},
                          timezone="Asia/Shanghai", analysis_date=NOW)


def test_is_return_derived_from_negative_amounts_without_flag(tmp_path):
    p = write_csv(tmp_path / "r.csv", "id,t,a\nX,2024-01-01,5\nX,2024-01-02,-5\n")
    res = load_transactions(p, {"id": "member_id", "t": "timestamp", "a": "amount"}, analysis_date=NOW,
                            return_report=True)
    assert res.data["is_return"].tolist() == [False, True]
    assert res.data["transaction_id"].tolist() == ["R2", "R3"]
    assert res.cleaning["column"].tolist() == ["transaction_id", "is_return"]


def test_future_uses_now_argument(good):
    with pytest.raises(DataValidationError, match=r"future_timestamp.*row 13 \(1 in total\)"):
        load_transactions(GOOD / "pos_export_gbk.csv", MAPPING, analysis_date="2024-06-25")


def test_input_file_types(tmp_path, good):
    pq = tmp_path / "t.parquet"
    good.data.to_parquet(pq)
    pd.testing.assert_frame_equal(load_transactions(pq, analysis_date=NOW), good.data, check_dtype=False)
    for suffix, match in [(".xls", r"old-style \.xls"), (".json", "Unsupported file type")]:
        p = tmp_path / f"x{suffix}"
        p.write_text("x")
        with pytest.raises(WorkbookInputError, match=match):
            load_transactions(p)
    with pytest.raises(WorkbookInputError, match="does not exist"):
        load_transactions(tmp_path / "nope.csv")
    with pytest.raises(WorkbookInputError, match="header_row=0 must be a row number"):
        load_transactions(GOOD / "pos_export_gbk.csv", MAPPING, header_row=0)
    with pytest.raises(WorkbookInputError, match=r"errors='ignore' is not valid"):
        load_transactions(GOOD / "pos_export_gbk.csv", MAPPING, errors="ignore")


def test_file_is_not_modified(tmp_path):
    p = write_csv(tmp_path / "s.csv", SMALL.replace("￥1,234.50", "5"))
    before = p.read_bytes()
    load_transactions(p, SMALL_MAP, analysis_date=NOW)
    assert p.read_bytes() == before


# --------------------------------------------------------------------------
# Mapping
# --------------------------------------------------------------------------


def test_mapping_yaml_sections():
    tx = read_mapping(MAPPING)
    assert tx["columns"]["实付金额"] == "amount" and tx["date_format"] == "%Y/%m/%d %H:%M"
    mem = read_mapping(MAPPING, table="members")
    assert mem["columns"]["手机号"] == "phone" and "date_format" not in mem


def test_docs_mapping_example_is_valid():
    example = Path(__file__).parents[1] / "docs" / "mapping_example.yaml"
    tx = read_mapping(example)
    assert set(tx["columns"].values()) >= {"member_id", "timestamp", "amount"}
    read_mapping(example, table="members")


@pytest.mark.parametrize("mapping, match", [
    ({"会员卡号": "card_number"}, r"'card_number'.*not a transactions column.*Valid canonical "
                                 r"names are \['transaction_id'"),
    ({"a": "amount", "b": "amount"}, r"several columns to 'amount': \['a', 'b'\]"),
    ({"transactions": {"columns": {"a": "amount"}, "datefmt": "%Y"}},
     r"Unknown option\(s\) \['datefmt'\].*date_format"),
    (["a", "b"], "must be a dict"),
])
def test_bad_mappings(mapping, match):
    with pytest.raises(WorkbookInputError, match=match):
        read_mapping(mapping)


def test_bad_yaml_file(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text("a: [unclosed\n")
    with pytest.raises(WorkbookInputError, match="not valid YAML"):
        read_mapping(p)
    with pytest.raises(WorkbookInputError, match="does not exist"):
        read_mapping(tmp_path / "none.yaml")


def test_mapping_source_typo_suggests_close_name():
    with pytest.raises(WorkbookInputError, match=r"Did you mean \{'会员卡': '会员卡号'\}"):
        load_transactions(GOOD / "pos_export_gbk.csv", {"会员卡": "member_id"})


def test_suggest_mapping():
    cols = ["小票号", "会员卡号", "门店编码", "交易时间", "实付金额", "收银员", "Amount"]
    assert suggest_mapping(cols) == {"小票号": "transaction_id", "会员卡号": "member_id",
                                     "门店编码": "store_id", "交易时间": "timestamp",
                                     "实付金额": "amount"}
    assert suggest_mapping(["手机号码", "会员等级"], table="members") == {
        "手机号码": "phone", "会员等级": "tier"}


# --------------------------------------------------------------------------
# validate_transactions / validate_members on frames
# --------------------------------------------------------------------------


def _tx(n=4):
    return pd.DataFrame({
        "transaction_id": [f"t{i}" for i in range(n)],
        "member_id": ["a", "b", None, "a"][:n],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"][:n]),
        "amount": [10.0, 20.0, 5.0, -10.0][:n],
        "is_return": [False, False, False, True][:n],
    })


def test_validate_clean_frame_gives_empty_report():
    rep = validate_transactions(_tx(), members=["a", "b"], analysis_date="2024-02-01")
    assert rep.empty and list(rep.columns) == REPORT_COLUMNS


def test_validate_reports_each_problem_with_row_label():
    tx = _tx().set_index(pd.Index([10, 11, 12, 13]))
    tx.loc[11, "transaction_id"] = "t0"
    tx.loc[12, "amount"] = -3.0
    tx.loc[13, "timestamp"] = pd.Timestamp("2030-01-01")
    rep = validate_transactions(tx, members=pd.DataFrame({"member_id": ["a"]}), analysis_date="2024-02-01")
    got = set(zip(rep["check"], rep["column"], rep["row"]))
    assert got == {("duplicate_id", "transaction_id", 11), ("orphan_member", "member_id", 11),
                   ("negative_amount", "amount", 12), ("future_timestamp", "timestamp", 13)}
    summary = report_summary(rep)
    assert summary["count"].sum() == 4 and (summary["rows"].str.contains("1 in total")).all()


def test_validate_negative_items_allowed_only_on_returns():
    tx = _tx().assign(items=[1, -2, 3, -1])  # row 3 is a flagged return, row 1 is not
    rep = validate_transactions(tx, members=["a", "b"], analysis_date="2024-02-01")
    assert list(zip(rep["check"], rep["column"], rep["row"])) == [
        ("negative_value_not_return", "items", 1)]
    assert "not flagged as a return" in rep["reason"].iloc[0]


def test_validate_reports_wrong_dtype_and_missing_values():
    tx = _tx().assign(amount=["10", "20", "5", "-10"])
    rep = validate_transactions(tx, analysis_date="2024-02-01")
    assert rep.loc[0, "check"] == "dtype" and rep.loc[0, "column"] == "amount"
    assert pd.isna(rep.loc[0, "row"])
    tx = _tx()
    tx.loc[2, "timestamp"] = pd.NaT
    rep = validate_transactions(tx, analysis_date="2024-02-01")
    assert rep[["check", "column", "row"]].values.tolist() == [["missing_value", "timestamp", 2]]


def test_validate_input_errors():
    with pytest.raises(WorkbookInputError, match="transactions is empty"):
        validate_transactions(_tx().iloc[:0])
    with pytest.raises(WorkbookInputError, match=r"missing required column\(s\) \['amount'\]"):
        validate_transactions(_tx().drop(columns="amount"))
    with pytest.raises(WorkbookInputError, match="members has no 'member_id' column"):
        validate_transactions(_tx(), members=pd.DataFrame({"id": ["a"]}))


def test_validate_members():
    m = pd.DataFrame({"member_id": ["a", "b", "a"], "gender": ["F", "X", None],
                      "join_date": pd.to_datetime(["2024-01-01", "2031-01-01", "2024-01-02"])})
    rep = validate_members(m, analysis_date="2024-06-01")
    assert set(zip(rep["check"], rep["row"])) == {("duplicate_id", 2), ("valid_gender", 1),
                                                  ("future_date", 1)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["ok", "dup", "neg", "future", "orphan", "walkin"]),
                min_size=1, max_size=30))
def test_property_report_rows_are_exactly_the_faulty_rows(kinds):
    n = len(kinds)
    tx = pd.DataFrame({
        "transaction_id": [f"t{i}" for i in range(n)],
        "member_id": ["m1"] * n,
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="D"),
        "amount": 10.0,
        "is_return": False,
    })
    expected = set()
    for i, k in enumerate(kinds):
        if k == "dup" and i > 0:
            tx.loc[i, "transaction_id"] = "t0"
            expected.add(i)
        elif k == "neg":
            tx.loc[i, "amount"] = -1.0
            expected.add(i)
        elif k == "future":
            tx.loc[i, "timestamp"] = pd.Timestamp("2030-01-01")
            expected.add(i)
        elif k == "orphan":
            tx.loc[i, "member_id"] = "zz"
            expected.add(i)
        elif k == "walkin":
            tx.loc[i, "member_id"] = None
    before = tx.copy()
    rep = validate_transactions(tx, members=["m1"], analysis_date="2025-01-01")
    assert set(rep["row"]) == expected
    pd.testing.assert_frame_equal(tx, before)  # input not modified


@settings(max_examples=40, deadline=None)
@given(st.decimals(min_value=-10**7, max_value=10**7, places=2, allow_nan=False),
       st.sampled_from(["￥{:,}", "¥{:,}", "{:,}元", "RMB {:,}", "{}"]))
def test_property_amount_cleaning_round_trips(tmp_path_factory, value, fmt):
    text = fmt.format(abs(value))
    if value < 0:
        text = "-" + text
    p = tmp_path_factory.mktemp("amt") / "a.csv"
    write_csv(p, f'id,t,a,r\nX,2024-01-01,"{text}",{"是" if value < 0 else "否"}\n')
    df = load_transactions(p, {"id": "member_id", "t": "timestamp", "a": "amount",
                               "r": "is_return"}, analysis_date=NOW)
    assert df["amount"].iloc[0] == pytest.approx(float(value), abs=1e-9)


# --------------------------------------------------------------------------
# load_workbook_data
# --------------------------------------------------------------------------


def test_load_workbook_data_user_files(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBOOK_PSEUDO_KEY", KEY)
    d = load_workbook_data(GOOD / "pos_export_gbk.csv", MAPPING, GOOD / "members_utf8_bom.csv",
                           analysis_date=NOW)
    assert d.pseudonymised and d.source.endswith("pos_export_gbk.csv")
    assert d.stores is None and set(d.reports) == {"transactions", "members"}
    tx, mem = d.transactions, d.members
    assert not tx["member_id"].isin(["0001", "0002", "0003"]).any()
    assert tx["member_id"].dropna().str.fullmatch(r"M[0-9a-f]{16}").all()
    assert set(tx["member_id"].dropna()) == set(mem["member_id"])  # still joins
    assert mem["phone"].tolist()[0] == "138****1234" and mem["name"].iloc[0] == "张**"
    s = member_summary(tx)
    assert sorted(s["monetary_total"]) == [1498.0, 1760.0, 1800.0]


def test_load_workbook_data_without_key_refuses(monkeypatch, tmp_path):
    monkeypatch.delenv("WORKBOOK_PSEUDO_KEY", raising=False)
    monkeypatch.delenv("WORKBOOK_PSEUDO_KEY_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(WorkbookInputError, match=r"No pseudonymisation key.*secrets\.token_hex"):
        load_workbook_data(GOOD / "pos_export_gbk.csv", MAPPING)
    d = load_workbook_data(GOOD / "pos_export_gbk.csv", MAPPING, pseudonymise=False, analysis_date=NOW)
    assert d.transactions["member_id"].iloc[0] == "0001" and d.members is None


def test_load_workbook_data_flat_mapping_does_not_leak_into_members(monkeypatch):
    flat = dict(read_mapping(MAPPING)["columns"])
    with pytest.raises(WorkbookInputError, match=r"missing required members column\(s\) "
                                                 r"\['member_id'\]|会员卡号"):
        # members file needs its own mapping when the transactions mapping is flat
        load_workbook_data(GOOD / "pos_export_gbk.csv", flat, BAD / "wrong_delimiter.csv",
                           pseudonymise=False, analysis_date=NOW)


def test_load_workbook_data_synthetic_default():
    try:
        from workbook.synth import load_dataset  # noqa: F401
    except ImportError:
        pytest.skip("workbook.synth.load_dataset is not available yet")
    try:
        d = load_workbook_data()
    except (FileNotFoundError, WorkbookInputError) as exc:
        pytest.skip(f"default synthetic data set not generated: {exc}")
    assert d.source == "synthetic" and not d.pseudonymised
    assert {"member_id", "timestamp", "amount", "is_return"} <= set(d.transactions.columns)
    sample = d.transactions.iloc[:5000]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = validate_transactions(sample, members=d.members, analysis_date=pd.Timestamp.max)
    assert rep.empty, report_summary(rep).to_string()


def test_empty_return_flag_is_read_from_amount_sign_and_noted(tmp_path):
    p = write_csv(tmp_path / "r.csv", "id,t,a,r\nX,2024-01-01,5,\nX,2024-01-02,-5,\nX,2024-01-03,7,否\n")
    res = load_transactions(p, {"id": "member_id", "t": "timestamp", "a": "amount",
                                "r": "is_return"}, analysis_date=NOW, return_report=True)
    assert res.data["is_return"].tolist() == [False, True, False]
    note = res.cleaning.loc[res.cleaning["column"] == "is_return"].iloc[0]
    assert note["count"] == 2 and "amount sign" in note["action"]


def test_unreadable_return_flag_is_reported(tmp_path):
    p = write_csv(tmp_path / "r.csv", "id,t,a,r\nX,2024-01-01,5,maybe\n")
    with pytest.raises(DataValidationError, match=r"unknown_value in column 'is_return': row 2.*"
                                                  r"'maybe' is not a yes/no value"):
        load_transactions(p, {"id": "member_id", "t": "timestamp", "a": "amount",
                              "r": "is_return"}, analysis_date=NOW)


def test_validate_without_flag_column_treats_negatives_as_returns():
    assert validate_transactions(_tx().drop(columns="is_return"), analysis_date="2024-02-01").empty


def test_excel_column_mixing_date_cells_and_text(tmp_path):
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["会员卡号", "交易时间", "实付金额"])
    ws.append(["0001", dt.datetime(2024, 3, 1, 10, 15), 1280])
    ws.append([2, "2024/03/02 12:00", "￥88.50"])  # hand-typed text cell, number id
    p = tmp_path / "mixed.xlsx"
    wb.save(p)
    df = load_transactions(p, SMALL_MAP, date_format="%Y/%m/%d %H:%M", analysis_date=NOW)
    assert df["timestamp"].tolist() == [pd.Timestamp("2024-03-01 10:15"),
                                        pd.Timestamp("2024-03-02 12:00")]
    assert df["member_id"].tolist() == ["0001", "2"] and df["amount"].tolist() == [1280.0, 88.5]


def test_load_workbook_data_default_uses_synth_load_dataset(monkeypatch):
    """Wiring to workbook.synth.load_dataset, independent of the generator itself."""
    import sys
    import types

    calls = []
    tables = {"transactions": _tx(), "members": pd.DataFrame({"member_id": ["a", "b"],
                                                              "phone": ["13800131234", None]}),
              "stores": pd.DataFrame({"store_id": ["s1"]}), "store_traffic": None,
              "campaigns": None, "truth": pd.DataFrame({"member_id": ["a"]})}
    fake = types.ModuleType("workbook.synth")
    fake.load_dataset = lambda directory=None: calls.append(directory) or types.SimpleNamespace(**tables)
    monkeypatch.setitem(sys.modules, "workbook.synth", fake)
    d = load_workbook_data(directory="somewhere")
    assert calls == ["somewhere"] and d.source == "synthetic" and not d.pseudonymised
    assert d.transactions is tables["transactions"] and d.stores is tables["stores"]
    monkeypatch.setenv("WORKBOOK_PSEUDO_KEY", KEY)
    p = load_workbook_data(pseudonymise=True)
    assert p.pseudonymised and p.members["phone"].iloc[0] == "138****1234"
    assert set(p.transactions["member_id"].dropna()) <= set(p.members["member_id"])
    assert tables["transactions"]["member_id"].iloc[0] == "a"  # originals untouched
    with pytest.raises(WorkbookInputError, match="members= was given without data="):
        load_workbook_data(members=GOOD / "members_utf8_bom.csv")


def test_load_store_traffic_door_counter_export(tmp_path):
    from workbook.io import load_store_traffic

    p = tmp_path / "traffic.csv"
    p.write_text("门店编码,日期,进店人数\nS01,2024/03/01,120\nS01,2024/03/02,\"1,005\"\n"
                 "S02,2024/03/01,85\n", encoding="gb18030")
    df = load_store_traffic(p, {"门店编码": "store_id", "日期": "date", "进店人数": "visitors"},
                            analysis_date="2024-06-01")
    assert df["visitors"].tolist() == [120, 1005, 85]
    assert df["date"].tolist() == list(pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-01"]))
    assert df["store_id"].tolist() == ["S01", "S01", "S02"]
    # a sectioned mapping serves the store_traffic section
    sectioned = {"transactions": {"会员卡号": "member_id"},
                 "store_traffic": {"columns": {"门店编码": "store_id", "日期": "date",
                                               "进店人数": "visitors"}}}
    pd.testing.assert_frame_equal(load_store_traffic(p, sectioned, analysis_date="2024-06-01"), df)


def test_load_store_traffic_reports_bad_rows(tmp_path):
    from workbook.io import DataQualityWarning, DataValidationError, load_store_traffic

    p = tmp_path / "traffic.csv"
    p.write_text("store_id,date,visitors\nS01,2024-03-01,120\nS01,2024-03-01,7\n"
                 "S02,2024-03-01,-3\nS02,2024-03-02 10:00,5\nS03,2024-03-01,很多\n",
                 encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_store_traffic(p, analysis_date="2024-06-01")
    rep = info.value.report.set_index("row")
    assert rep.loc[3, "check"] == "duplicate_store_day" and "S01 2024-03-01" in rep.loc[3, "reason"]
    assert rep.loc[4, "check"] == "negative_value"
    assert rep.loc[5, "check"] == "not_a_day" and "hourly" in rep.loc[5, "reason"]
    assert rep.loc[6, "column"] == "visitors"
    with pytest.warns(DataQualityWarning, match="dropped 4 of 5 store_traffic"):
        df = load_store_traffic(p, analysis_date="2024-06-01", errors="drop")
    assert df["visitors"].tolist() == [120]
    with pytest.raises(WorkbookInputError, match=r"missing required store_traffic column\(s\) \['visitors'\]"):
        q = tmp_path / "t2.csv"
        q.write_text("store_id,date\nS01,2024-03-01\n", encoding="utf-8")
        load_store_traffic(q)


def test_load_workbook_data_passes_traffic_through(tmp_path, monkeypatch):
    from workbook.io import load_workbook_data

    monkeypatch.setenv("WORKBOOK_PSEUDO_KEY", KEY)
    t = tmp_path / "traffic.csv"
    t.write_text("门店编码,日期,进店人数\nSH01,2024/03/01,40\n", encoding="utf-8")
    good = Path(__file__).parent / "data" / "good"
    mapping = tmp_path / "map.yaml"
    mapping.write_text((good / "mapping.yaml").read_text(encoding="utf-8")
                       + "store_traffic:\n  columns:\n    门店编码: store_id\n    日期: date\n"
                         "    进店人数: visitors\n", encoding="utf-8")
    data = load_workbook_data(good / "pos_export_gbk.csv", mapping, traffic=t, analysis_date="2024-12-31")
    assert data.store_traffic["visitors"].tolist() == [40]
    assert data.store_traffic["store_id"].tolist() == ["SH01"]  # store ids are not pseudonymised
    assert "store_traffic" in data.reports
    assert load_workbook_data(good / "pos_export_gbk.csv", mapping, analysis_date="2024-12-31").store_traffic is None
