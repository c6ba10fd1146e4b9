"""Loading a user's own survey export with the YAML mapping mechanism (issue 15)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from workbook.io import load_surveys, load_workbook_data, read_mapping, suggest_mapping, validate_surveys
from workbook.io.report import DataValidationError

MESSY = (
    "手机号,填写时间,推荐意愿,满意度,投诉标签,门店\n"
    "13812345678,2024/03/01 10:00,10分,非常满意,,S01\n"
    "13900001111,2024/03/02 11:30,6,3,排队久、缺货,S02\n"
    "13700002222,2024/03/03 09:00,,4,,S01\n"
    "13600003333,2024/03/04 09:00,11,很好,价格,S03\n"
    "13500004444,2024/03/05 09:00,8 分,满意, 缺货 ; 价格 ,S02\n"
)
YAML = """surveys:
  columns:
    手机号: member_id
    填写时间: answered_at
    推荐意愿: nps
    满意度: satisfaction
    投诉标签: complaint_tags
    门店: store_id
"""


@pytest.fixture()
def export(tmp_path):
    p = tmp_path / "问卷导出.csv"
    p.write_bytes(MESSY.encode("gb18030"))
    m = tmp_path / "mapping.yaml"
    m.write_text(YAML, encoding="utf-8")
    return p, m


def test_messy_export_raises_naming_column_row_value_without_raw_ids(export):
    path, mapping = export
    before = path.read_bytes()
    with pytest.raises(DataValidationError) as e:
        load_surveys(path, mapping, analysis_date="2024-06-01")
    msg = e.value.bilingual()
    assert "'nps'" in msg and "row 4" in msg and "row 5" in msg and "'很好'" in msg
    assert "缺少必填值" in msg and "评分超出范围" in msg and "nps 11" in msg
    for phone in ("13812345678", "13700002222", "13600003333"):
        assert phone not in msg
        assert phone not in e.value.report.astype(str).to_string()
    assert path.read_bytes() == before  # the user's file is never modified


def test_messy_export_drop_keeps_clean_rows(export):
    path, mapping = export
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = load_surveys(path, mapping, analysis_date="2024-06-01", errors="drop", return_report=True)
    assert any("dropped 2 of 5" in str(x.message) for x in w)
    df = res.data
    assert df["nps"].tolist() == [10, 6, 8] and df["nps"].dtype == "int64"
    assert df["satisfaction"].tolist() == [5, 3, 4]  # 非常满意 -> 5, 满意 -> 4
    assert df["complaint_tags"].tolist()[1:] == ["排队久;缺货", "缺货;价格"] and pd.isna(df["complaint_tags"].iloc[0])
    assert sorted(res.rejected.index.tolist()) == [4, 5]
    assert "13700002222" not in res.rejected.to_string()
    assert res.counts["kept"] == 3 and res.counts["rejected"] == 2


def test_mapping_and_suggestions_know_surveys():
    assert read_mapping({"surveys": {"推荐意愿": "nps"}}, table="surveys") == {"columns": {"推荐意愿": "nps"}}
    assert suggest_mapping(["会员卡号", "提交时间", "推荐意愿", "满意度"], table="surveys") == {
        "会员卡号": "member_id", "提交时间": "answered_at", "推荐意愿": "nps", "满意度": "satisfaction"}


def test_orphan_members_and_validate_frame():
    s = pd.DataFrame({"member_id": ["a", "zz"], "answered_at": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                      "nps": [10, 3], "satisfaction": [5, 6]})
    rep = validate_surveys(s, members=["a"], analysis_date="2024-06-01")
    assert rep[["check", "column", "row"]].values.tolist() == [["orphan_member", "member_id", 1],
                                                               ["score_range", "satisfaction", 1]]


def test_load_workbook_data_gives_surveys_for_synthetic_and_user_data(export, tmp_path):
    d = load_workbook_data()
    assert d.surveys is not None and len(d.surveys) > 1000 and d.points_rules["expiry"] == "year_end"
    path, mapping = export
    # the export's phone numbers are not members of the synthetic data: reported as orphans
    with pytest.raises(DataValidationError, match="orphan_member"):
        load_workbook_data(surveys=path, surveys_mapping=mapping, analysis_date="2024-06-01")
    own = tmp_path / "own.csv"
    own.write_bytes(MESSY.replace("13812345678", "M0000001").replace("13900001111", "M0000002")
                    .replace("13500004444", "M0000003").encode("gb18030"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d2 = load_workbook_data(surveys=own, surveys_mapping=mapping, errors="drop", analysis_date="2024-06-01")
    assert d2.surveys["nps"].tolist() == [10, 6, 8] and d2.reports["surveys"].counts["rejected"] == 2


def test_user_export_with_surveys_is_pseudonymised_consistently(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_PSEUDO_KEY", "3f1c9a7e52b84d06a9e1c27f5b3d8046e2a71c95f0b64d38a1e97c25d4b06f13")
    tx = tmp_path / "tx.csv"
    tx.write_text("会员卡号,交易时间,实付金额\n13812345678,2024-03-01 10:00,50\n13900001111,2024-03-02 11:00,80\n",
                  encoding="utf-8")
    sv = tmp_path / "sv.csv"
    sv.write_text("会员卡号,填写时间,推荐意愿\n13812345678,2024-03-02 09:00,9分\n13900001111,2024-03-03 09:00,3\n",
                  encoding="utf-8")
    mapping = {"transactions": {"会员卡号": "member_id", "交易时间": "timestamp", "实付金额": "amount"},
               "surveys": {"会员卡号": "member_id", "填写时间": "answered_at", "推荐意愿": "nps"}}
    d = load_workbook_data(tx, mapping, surveys=sv, analysis_date="2024-06-01")
    assert d.pseudonymised and d.surveys["nps"].tolist() == [9, 3]
    assert set(d.surveys["member_id"]) == set(d.transactions["member_id"])  # same key: the tables still join
    assert not set(d.surveys["member_id"]) & {"13812345678", "13900001111"}
