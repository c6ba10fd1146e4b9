"""Loading a user's contact log (触达记录) with the YAML mapping mechanism."""

from __future__ import annotations

import pandas as pd
import pytest

from workbook.io import DataQualityWarning, DataValidationError, load_workbook_data
from workbook.io.load import load_contacts
from workbook.io.mapping import read_mapping, suggest_mapping
from workbook.io.validate import validate_contacts

NOW = "2026-06-30"
MESSY = (
    "导出时间：2026-06-01,,,,,,\n"            # a title row above the header
    "会员卡号,发送时间,触达渠道,活动编号,发送状态,是否阅读,是否到店\n"
    "00012,2026/03/01 10:00,短信,CT01,成功,未读,否\n"
    "13912345678,2026/03/01 10:05,企业微信,CT01,成功,已读,是\n"
    "00012,2026/03/05 09:00,公众号,CT02,失败,未读,否\n"
    "\n"
    "00034,2026/03/05 09:01,ＡＰＰ推送,CT02,成功,已读,否\n"   # full-width letters
)
YAML = """\
contacts:
  header_row: 2
  columns:
    会员卡号: member_id
    发送时间: sent_at
    触达渠道: channel
    活动编号: campaign_id
    发送状态: delivered
    是否阅读: opened
    是否到店: visited
"""


def _files(tmp_path, text=MESSY):
    data = tmp_path / "contacts.csv"
    data.write_bytes(text.encode("gb18030"))  # GBK export
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(YAML, encoding="utf-8")
    return data, mapping


def test_messy_gbk_export_maps_to_the_contract(tmp_path):
    data, mapping = _files(tmp_path)
    res = load_contacts(data, mapping, analysis_date=NOW, return_report=True)
    df = res.data
    assert df["member_id"].tolist() == ["00012", "13912345678", "00012", "00034"]  # leading zeros kept
    assert df["channel"].tolist() == ["sms", "wecom_group", "wechat_official_account", "app_push"]
    assert df["delivered"].tolist() == [True, True, False, True]
    assert df["opened"].tolist() == [False, True, False, True]
    assert df["visited"].tolist() == [False, True, False, False]
    assert df["sent_at"].iloc[1] == pd.Timestamp("2026-03-01 10:05")
    assert res.report.empty and res.counts["kept"] == 4
    assert suggest_mapping(["会员卡号", "发送时间", "触达渠道", "是否阅读"], table="contacts") == {
        "会员卡号": "member_id", "发送时间": "sent_at", "触达渠道": "channel", "是否阅读": "opened"}


def test_problems_are_reported_bilingually_without_raw_ids(tmp_path):
    bad = MESSY.replace("ＡＰＰ推送", "传真").replace("2026/03/05 09:00,公众号,CT02,失败,未读", "2026/03/05 09:00,公众号,CT02,失败,已读")
    bad += "55500099,2027/01/01 10:00,短信,CT03,成功,未读,否\n"  # future, unknown member
    data, mapping = _files(tmp_path, bad)
    members = pd.DataFrame({"member_id": ["00012", "13912345678", "00034"]})
    with pytest.raises(DataValidationError) as info:
        load_contacts(data, mapping, analysis_date=NOW, members=members)
    err = info.value
    text = err.bilingual()
    checks = set(err.report["check"])
    assert {"unknown_value", "not_delivered", "future_date", "orphan_member"} <= checks
    assert "'channel'" in text and "取值无法识别" in text and "传真" in text  # the unrecognised value is shown
    assert "未送达却标记为打开" in text and "会员不在会员表中" in text
    for raw in ("13912345678", "55500099"):
        assert raw not in text and raw not in err.report.to_string() and raw not in err.rejected.to_string()
    with pytest.warns(DataQualityWarning, match="dropped 3 of 5"):
        kept = load_contacts(data, mapping, analysis_date=NOW, members=members, errors="drop")
    assert len(kept) == 2


def test_unknown_target_and_section_typo_are_refused(tmp_path):
    with pytest.raises(Exception) as info:
        read_mapping({"contacts": {"发送时间": "send_time"}}, table="contacts")
    assert "sent_at" in str(info.value)
    with pytest.raises(Exception, match="contacts"):
        read_mapping({"contact": {"发送时间": "sent_at"}}, table="contacts")


def test_validate_contacts_and_synthetic_log_passes():
    from workbook.synth import load_dataset

    ds = load_dataset()
    report = validate_contacts(ds.contacts.head(5000), members=ds.members, analysis_date="2025-06-01")
    assert report.empty


def test_load_workbook_data_takes_a_contact_log(tmp_path):
    data, mapping = _files(tmp_path)
    tx = tmp_path / "tx.csv"
    tx.write_text("会员卡号,交易时间,实付金额\n00012,2026-03-02 12:00,88\n00034,2026-03-06 15:00,20\n", encoding="utf-8")
    members = tmp_path / "members.csv"
    members.write_text("会员卡号,性别\n00012,女\n13912345678,男\n00034,女\n", encoding="utf-8")
    sectioned = tmp_path / "all.yaml"
    sectioned.write_text(YAML + "transactions:\n  会员卡号: member_id\n  交易时间: timestamp\n  实付金额: amount\n"
                         "members:\n  会员卡号: member_id\n", encoding="utf-8")
    wb = load_workbook_data(tx, sectioned, members, contacts=data, pseudonymise=False, analysis_date=NOW)
    assert len(wb.contacts) == 4 and "contacts" in wb.reports and wb.contacts_truth is None
    assert set(wb.contacts["member_id"]) <= set(wb.members["member_id"])
    synthetic = load_workbook_data()
    assert synthetic.contacts is not None and synthetic.community_truth is not None
