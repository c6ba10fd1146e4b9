"""workbook.io on the dangerous faults of real exports (issue 11): options and edge cases.

The corpus test (``test_io_corpus.py``) loads whole messy files; these tests pin
the individual rules: never guess day/month order, Excel's 1900 calendar,
duplicate headers and YAML keys, walk-ins, duplicates, lost leading zeros,
row accounting, and no raw personal value in any message.
"""

from __future__ import annotations

import io
import tempfile
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook.errors import WorkbookInputError
from workbook.io import (DataQualityWarning, DataValidationError, load_members,
                         load_transactions, read_mapping, validate_transactions)
from workbook.io.convert import excel_serial_dates

NOW = "2026-06-30"
M = {"id": "member_id", "t": "timestamp", "a": "amount"}


def csv(tmp_path: Path, text: str, name: str = "t.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------


def test_ambiguous_day_month_is_never_guessed(tmp_path):
    p = csv(tmp_path, "id,t,a\nA,05/01/2025,1\nB,03/02/2025,2\nC,12/12/2025,3\n")
    with pytest.raises(WorkbookInputError) as info:
        load_transactions(p, M, analysis_date=NOW)
    text = info.value.bilingual()
    assert "day-first" in text and "dayfirst" in text and "date_format" in text
    assert "row 2: '05/01/2025'" in text and "第 2 行" in text
    assert "row 4" not in text.split("rows differ")[0]  # 12/12 reads the same both ways
    day = load_transactions(p, M, analysis_date=NOW, dayfirst=True)["timestamp"]
    month = load_transactions(p, M, analysis_date=NOW, dayfirst=False)["timestamp"]
    assert day.iloc[0] == pd.Timestamp("2025-01-05") and month.iloc[0] == pd.Timestamp("2025-05-01")
    explicit = load_transactions(p, M, analysis_date=NOW, date_format="%d/%m/%Y")["timestamp"]
    assert explicit.tolist() == day.tolist()
    via_mapping = load_transactions(p, {"columns": M, "dayfirst": True}, analysis_date=NOW)["timestamp"]
    assert via_mapping.tolist() == day.tolist()


def test_one_readable_order_is_used_and_noted(tmp_path):
    p = csv(tmp_path, "id,t,a\nA,05/01/2025,1\nB,25/02/2025,2\n")
    res = load_transactions(p, M, analysis_date=NOW, return_report=True)
    assert res.data["timestamp"].tolist() == [pd.Timestamp("2025-01-05"), pd.Timestamp("2025-02-25")]
    note = res.cleaning.loc[res.cleaning["column"] == "timestamp", "action"].iloc[0]
    assert "'%d/%m/%Y'" in note and "only the day-first reading parses every value" in note


def test_day_first_dates_give_no_python_warning(tmp_path):
    # The first value reads only day-first: pandas' format guesser warned "Parsing dates in
    # %d/%m/%Y %H:%M format when dayfirst=False..." with a file path, in the notebook's output.
    p = csv(tmp_path, "id,t,a\nA,19/09/2024 13:58,1\nB,05/01/2025 08:00,2\n")
    with warnings.catch_warnings(record=True) as caught:  # recorded: raised inside Cython it is lost
        warnings.simplefilter("always")
        ts = load_transactions(p, M, analysis_date=NOW)["timestamp"]
    assert [str(w.message) for w in caught] == []
    assert ts.tolist() == [pd.Timestamp("2024-09-19 13:58"), pd.Timestamp("2025-01-05 08:00")]


def test_chinese_date_text_is_not_matched_value_by_value_in_python(tmp_path, monkeypatch):
    # The Excel-serial test of a text date column used \\d, which pandas runs through Python's re,
    # value by value, once a value is not ASCII (2025年1月5日): 3.5 s per 10M rows.
    from pandas.core.strings.object_array import ObjectStringArrayMixin

    p = csv(tmp_path, "id,t,a\nA,2025年01月05日 08:00,1\nB,2025年02月25日 18:30,2\n")

    def per_value(*args, **kwargs):
        raise AssertionError("a regex ran value by value in Python")

    monkeypatch.setattr(ObjectStringArrayMixin, "_str_fullmatch", per_value)
    ts = load_transactions(p, M, analysis_date=NOW)["timestamp"]
    assert ts.tolist() == [pd.Timestamp("2025-01-05 08:00"), pd.Timestamp("2025-02-25 18:30")]


def test_same_reading_both_ways_is_not_ambiguous(tmp_path):
    p = csv(tmp_path, "id,t,a\nA,01/01/2025,1\nB,02/02/2025,2\n")
    assert load_transactions(p, M, analysis_date=NOW)["timestamp"].dt.day.tolist() == [1, 2]


def test_excel_1900_calendar_and_its_leap_year_bug():
    parsed, bad = excel_serial_dates(pd.Series([1, 59, 60, 61, 45292, 45292.5, 0, -3]))
    assert parsed.iloc[0] == pd.Timestamp("1900-01-01")
    assert parsed.iloc[1] == pd.Timestamp("1900-02-28")
    assert parsed.iloc[3] == pd.Timestamp("1900-03-01")  # day 60 = the fictitious 1900-02-29
    assert parsed.iloc[4] == pd.Timestamp("2024-01-01")
    assert parsed.iloc[5] == pd.Timestamp("2024-01-01 12:00")
    assert bad.tolist() == [False, False, True, False, False, False, True, True]
    mac, _ = excel_serial_dates(pd.Series([0, 43830]), system="1904")
    assert mac.tolist() == [pd.Timestamp("1904-01-01"), pd.Timestamp("2024-01-01")]


def test_excel_serials_detected_in_csv_and_xlsx(tmp_path):
    p = csv(tmp_path, "id,t,a\nA,45292.5,1\nB,45300,2\n")
    res = load_transactions(p, M, analysis_date=NOW, return_report=True)
    assert res.data["timestamp"].tolist() == [pd.Timestamp("2024-01-01 12:00"),
                                              pd.Timestamp("2024-01-09")]
    assert res.cleaning["action"].str.contains("Excel serial").any()
    small = csv(tmp_path, "id,t,a\nA,60,1\nB,61,2\n", "small.csv")
    with pytest.raises(DataValidationError, match="not_a_date"):  # not guessed: 2 digits
        load_transactions(small, M, analysis_date=NOW)
    with pytest.raises(DataValidationError, match=r"Excel day 60 is no real date"):
        load_transactions(small, M, analysis_date=NOW, date_format="excel")


def test_numbers_that_are_not_dates_in_xlsx(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "t", "a"])
    ws.append(["A", 12, 1])
    wb.save(tmp_path / "n.xlsx")
    with pytest.raises(WorkbookInputError, match="date_format: excel") as info:
        load_transactions(tmp_path / "n.xlsx", M, analysis_date=NOW)
    assert "Excel 的日期序列号" in info.value.bilingual()


def test_implausible_dates(tmp_path):
    p = csv(tmp_path, "id,t,a\nA,1999-12-31,1\nB,2024-01-01,2\n")
    with pytest.raises(DataValidationError, match=r"implausible_date in column 'timestamp': row 2"):
        load_transactions(p, M, analysis_date=NOW)
    m = csv(tmp_path, "id,birth,join\nA,1900-01-01,1900-01-01\nB,1910-05-01,2020-01-01\n"
                      "C,1990-05-01,2021-01-01\nD,2030-01-01,2021-01-01\n", "m.csv")
    mm = {"id": "member_id", "birth": "birth_date", "join": "join_date"}
    with pytest.raises(DataValidationError, match=r"future_date in column 'birth_date': row 5"):
        load_members(m, mm, analysis_date=NOW)
    with pytest.warns(DataQualityWarning):
        res = load_members(m, mm, analysis_date=NOW, errors="drop", return_report=True)
    assert res.data["birth_date"].isna().tolist() == [True, True, False]  # 1900, age 116
    assert res.data["join_date"].isna().tolist() == [True, False, False]
    assert res.cleaning["action"].str.contains("implausible").sum() == 2


# --------------------------------------------------------------------------
# Mapping files
# --------------------------------------------------------------------------


def test_yaml_duplicate_key_is_refused(tmp_path):
    y = tmp_path / "m.yaml"
    y.write_text("transactions:\n  columns:\n    金额: amount\n    金额: discount\n", encoding="utf-8")
    with pytest.raises(WorkbookInputError, match=r"'金额' appears twice \(lines 3 and 4\)") as info:
        read_mapping(y)
    assert "写了两次" in info.value.bilingual()


@pytest.mark.parametrize("text, match", [
    ("transaction:\n  columns:\n    a: amount\n", "Did you mean 'transactions'"),
    ("member:\n  a: member_id\n", "Did you mean 'members'"),
    ("transactions:\n  a: amount\nb: member_id\n", "mixes sections"),
    ("transactions:\n  columns:\n    a: amount\n  dayfrist: true\n", "Did you mean {'dayfrist': 'dayfirst'}"),
    ("transactions:\n  columns:\n    a: amount\n  dayfirst: yes please\n", "true or false"),
    ("transactions:\n  columns:\n    a: amount\n  duplicates: maybe\n", r"\['keep', 'drop', 'raise'\]"),
    ("transactions:\n  columns:\n    a: amount\n  walk_in_values: 散客\n", "must be a list"),
])
def test_mapping_mistakes_are_explained(tmp_path, text, match):
    y = tmp_path / "m.yaml"
    y.write_text(text, encoding="utf-8")
    with pytest.raises(WorkbookInputError, match=match) as info:
        read_mapping(y)
    assert info.value.message_zh


def test_duplicate_header_must_be_chosen(tmp_path):
    p = csv(tmp_path, "id,t,金额,金额\nA,2024-01-01,100,80\nB,2024-01-02,50,45\n")
    with pytest.raises(WorkbookInputError, match=r"2 columns named '金额' \(columns C \(#1\), D \(#2\)\)"):
        load_transactions(p, {"id": "member_id", "t": "timestamp", "金额": "amount"}, analysis_date=NOW)
    df = load_transactions(p, {"id": "member_id", "t": "timestamp", "金额#2": "amount"}, analysis_date=NOW)
    assert df["amount"].tolist() == [80.0, 45.0]
    both = load_transactions(p, {"id": "member_id", "t": "timestamp", "金额#2": "amount",
                                 "金额#1": "discount"}, analysis_date=NOW)
    assert both["discount"].tolist() == [100.0, 50.0]
    canon = csv(tmp_path, "member_id,timestamp,amount,amount\nA,2024-01-01,1,2\n", "c.csv")
    with pytest.raises(WorkbookInputError, match="amount#1 or amount#2"):
        load_transactions(canon, analysis_date=NOW)


# --------------------------------------------------------------------------
# Walk-ins, duplicates, accounting
# --------------------------------------------------------------------------


def test_walk_ins_counted_and_accounting_adds_up(tmp_path):
    p = csv(tmp_path, "id,t,a\n散客,2024-01-01,1\nA,2024-01-02,2\n,2024-01-03,3\n0,2024-01-04,x\n"
                      "B,2024-01-05,5\n\n-,2024-01-06,6\n")
    with pytest.warns(DataQualityWarning, match="dropped 1 of 6"):
        res = load_transactions(p, M, analysis_date=NOW, errors="drop", return_report=True)
    c = res.counts
    assert c == {"rows_read": 6, "blank_rows": 1, "exact_duplicates": 0, "kept": 5,
                 "rejected": 1, "walk_ins": 3, "member_rows": 2}
    assert c["rows_read"] == c["member_rows"] + c["walk_ins"] + c["rejected"]
    assert res.data["member_id"].isna().tolist() == [True, False, True, False, True]
    with pytest.raises(DataValidationError) as info:
        load_transactions(p, M, analysis_date=NOW)
    assert info.value.counts["rejected"] == 1 and info.value.counts["walk_ins"] == 3


def test_walk_in_values_argument_overrides_the_default(tmp_path):
    p = csv(tmp_path, "id,t,a\n散客,2024-01-01,1\nGUEST,2024-01-02,2\n0,2024-01-03,3\n")
    res = load_transactions(p, M, analysis_date=NOW, walk_in_values=["guest"], return_report=True)
    assert res.data["member_id"].tolist()[0] == "散客" and pd.isna(res.data["member_id"].iloc[1])
    assert res.data["member_id"].iloc[2] == "0" and res.counts["walk_ins"] == 1


@pytest.mark.parametrize("choice, n_rows", [("keep", 4), ("drop", 3)])
def test_exact_duplicates_keep_or_drop(tmp_path, choice, n_rows):
    p = csv(tmp_path, "id,t,a\nA,2024-01-01 10:00,5\nA,2024-01-01 10:00,5\nB,2024-01-02,7\n"
                      "A,2024-01-01 10:00,6\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = load_transactions(p, M, analysis_date=NOW, duplicates=choice, return_report=True)
    # dropping is said out loud even when asked for; keeping is a cleaning note
    assert [issubclass(w.category, DataQualityWarning) for w in caught] == [True] * (choice == "drop")
    assert len(res.data) == n_rows and res.counts["exact_duplicates"] == 1
    if choice == "drop":
        assert res.report[["check", "row"]].values.tolist() == [["exact_duplicate", 3]]
        assert res.rejected.index.tolist() == [3]
    else:
        assert res.report.empty
        assert res.cleaning["action"].str.contains("kept exact duplicate rows").any()
    assert res.counts["rows_read"] == res.counts["member_rows"] + res.counts["walk_ins"] \
        + res.counts["rejected"]


def test_exact_duplicates_are_equal_text_not_equal_values(tmp_path):
    # rows 3, 4 and 6 clean to the values of row 2 but differ as text (5 / 5.00 / ￥5) or in a
    # column the mapping leaves out: not duplicates; row 5 repeats row 2 exactly, row 8 row 7
    p = csv(tmp_path, "id,t,a,note\nA,2024-01-01 10:00,5,x\nA,2024-01-01 10:00,5.00,x\n"
                      "A,2024-01-01 10:00,￥5,x\nA,2024-01-01 10:00,5,x\nA,2024-01-01 10:00,5,y\n"
                      "B,2024-01-02 09:00,7,x\nB,2024-01-02 09:00,7,x\n")
    with pytest.warns(DataQualityWarning, match="dropped 2 of 7"):
        res = load_transactions(p, M, analysis_date=NOW, duplicates="drop", return_report=True)
    assert res.report[["check", "row"]].values.tolist() == [["exact_duplicate", 5], ["exact_duplicate", 8]]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "散客"]), st.sampled_from(["2024-01-01 10:00", "2024-01-02 09:30"]),
                          st.sampled_from(["5", "5.00", "￥5", "7", "-7", "abc"]), st.sampled_from(["x", "y", ""])),
                min_size=1, max_size=25))
def test_exact_duplicates_are_the_rows_pandas_finds_in_the_text(rows):
    text = "id,t,a,note\n" + "".join(",".join(r) + "\n" for r in rows)
    expected = pd.read_csv(io.StringIO(text), dtype=str).duplicated().to_numpy().nonzero()[0] + 2
    with tempfile.TemporaryDirectory() as folder:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            res = load_transactions(csv(Path(folder), text), M, analysis_date=NOW, duplicates="drop",
                                    errors="drop", return_report=True)
    found = res.report.loc[res.report["check"] == "exact_duplicate", "row"].tolist()
    assert found == expected.tolist()


def test_exact_duplicates_raise(tmp_path):
    p = csv(tmp_path, "id,t,a\nA,2024-01-01 10:00,5\nA,2024-01-01 10:00,5\n")
    with pytest.raises(DataValidationError, match=r"exact_duplicate in column '': row 3"):
        load_transactions(p, M, analysis_date=NOW, duplicates="raise")


# --------------------------------------------------------------------------
# Ids across files, privacy of messages
# --------------------------------------------------------------------------


def test_lost_leading_zeros_on_frames():
    tx = pd.DataFrame({"member_id": ["123", "000123", "77"],
                       "timestamp": pd.to_datetime(["2024-01-01"] * 3), "amount": [1.0, 2.0, 3.0]})
    rep = validate_transactions(tx, members=["000123"], analysis_date=NOW)
    assert rep[["check", "row"]].values.tolist() == [["lost_leading_zeros", 0],
                                                     ["orphan_member", 2]]
    assert "leading zeros" in rep["reason"].iloc[0]
    assert rep["value"].tolist() == ["***", "**"]  # masked


def test_headerless_file_is_explained_without_quoting_phones(tmp_path):
    p = csv(tmp_path, "13912345678,2024-01-01 10:00,88\n15258218732,2024-01-02 10:00,12\n")
    with pytest.raises(WorkbookInputError, match="no header row") as info:
        load_transactions(p, M, analysis_date=NOW)
    assert "13912345678" not in info.value.bilingual()
    one = csv(tmp_path, "13912345678\n15258218732\n", "one.csv")
    with pytest.raises(WorkbookInputError) as info:
        load_transactions(one, M, analysis_date=NOW)
    assert "13912345678" not in info.value.bilingual() and "13*******78" in str(info.value)


def test_store_traffic_dates_follow_the_same_rules(tmp_path):
    from workbook.io import load_store_traffic

    p = csv(tmp_path, "store_id,date,visitors\nS1,05/01/2025,10\nS1,06/01/2025,12\n")
    with pytest.raises(WorkbookInputError, match="dayfirst"):
        load_store_traffic(p, analysis_date=NOW)
    df = load_store_traffic(p, analysis_date=NOW, dayfirst=True)
    assert df["date"].tolist() == [pd.Timestamp("2025-01-05"), pd.Timestamp("2025-01-06")]
