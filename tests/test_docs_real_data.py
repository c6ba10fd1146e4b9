"""The examples of docs/real_data.md work: every YAML mapping loads an export through the
real loaders, the example exports load through their sections, and the Python example
that loads surveys and contacts runs; docs/mapping_example.yaml has the same sections."""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml

import workbook.io as wio

DOC = Path(__file__).resolve().parents[1] / "docs" / "real_data.md"
KEY = "a7d3f09e2c5b8146d0e9f2a3b7c5d18e4f6a92b0c3d7e5f1a8b46c2d9e0f3a75"  # random: weak keys are refused
LOADERS = {"transactions": "load_transactions", "members": "load_members",
           "store_traffic": "load_store_traffic", "surveys": "load_surveys", "contacts": "load_contacts"}
# Two rows of plausible values per canonical column, for mappings shown without an export.
SAMPLE = {
    "member_id": ["001", "002"], "transaction_id": ["S1", "S2"], "store_id": ["SH01", "SH01"],
    "timestamp": [datetime(2024, 3, 1, 10, 15), datetime(2024, 3, 2, 11, 30)],
    "amount": ["120", "88"], "phone": ["13912345678", "13800131234"],
    "date": [datetime(2024, 3, 1), datetime(2024, 3, 2)], "visitors": ["120", "85"],
}


def doc_blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced block of the page, list-item indentation removed."""
    fence = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)
    return [(m.group(2), textwrap.dedent(m.group(3))) for m in fence.finditer(DOC.read_text(encoding="utf-8"))]


def yaml_examples() -> list[tuple[str, str | None]]:
    """Each YAML block, with the CSV block just before it (the export it maps), if any."""
    blocks = doc_blocks()
    return [(text, blocks[i - 1][1] if i and blocks[i - 1][0] == "csv" else None)
            for i, (lang, text) in enumerate(blocks) if lang == "yaml"]


def sample_export(section: dict) -> str:
    """A small CSV export for a mapping section: its source columns, two rows, its options."""
    columns = section["columns"] if "columns" in section else section
    missing = sorted(set(columns.values()) - set(SAMPLE))
    assert not missing, f"add sample values for {missing} (a new column in a docs example)"
    fmt = section.get("date_format", "%Y-%m-%d %H:%M")
    values = {src: [v.strftime(fmt if target != "date" else "%Y-%m-%d") if isinstance(v, datetime) else v
                    for v in SAMPLE[target]] for src, target in columns.items()}
    title = "导出报表\n" * (int(section.get("header_row", 1)) - 1)  # a title row above the header
    return title + pd.DataFrame(values).to_csv(index=False)


EXAMPLES = yaml_examples()


def test_the_page_has_examples_for_every_table():
    tables = {t for text, _ in EXAMPLES for t in yaml.safe_load(text)}
    assert tables == set(LOADERS)
    with_export = {t for text, csv in EXAMPLES if csv for t in yaml.safe_load(text)}
    assert with_export >= {"surveys", "contacts"}


@pytest.mark.parametrize("text, csv", EXAMPLES, ids=[",".join(yaml.safe_load(t)) for t, _ in EXAMPLES])
def test_yaml_example_loads_an_export(text, csv, tmp_path):
    mapping = tmp_path / "my_map.yaml"
    mapping.write_text(text, encoding="utf-8")
    for table, section in yaml.safe_load(text).items():
        export = tmp_path / f"{table}.csv"
        export.write_text(csv if csv is not None else sample_export(section), encoding="utf-8")
        res = getattr(wio, LOADERS[table])(export, mapping, analysis_date="2024-06-01", return_report=True)
        columns = section["columns"] if "columns" in section else section
        assert res.report.empty, res.report
        assert res.counts["kept"] == res.counts["rows_read"] == len(res.data) >= 2
        assert set(columns.values()) <= set(res.data.columns)


def _example(table: str) -> tuple[str, str]:
    return next((text, csv) for text, csv in EXAMPLES if csv and table in yaml.safe_load(text))


def test_survey_example_is_cleaned_as_the_page_says(tmp_path):
    text, csv = _example("surveys")
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "nps.csv").write_text(csv, encoding="utf-8")
    s = wio.load_surveys(tmp_path / "nps.csv", tmp_path / "m.yaml", analysis_date="2024-06-01")
    assert s["nps"].tolist() == [10, 6, 8]  # "10分" -> 10
    assert s["satisfaction"].tolist() == [5, 3, 4]  # 非常满意 -> 5, 一般 -> 3
    assert s["complaint_tags"].iloc[1] == "排队久;缺货"


def test_contact_example_is_cleaned_as_the_page_says(tmp_path):
    text, csv = _example("contacts")
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "c.csv").write_text(csv, encoding="utf-8")
    c = wio.load_contacts(tmp_path / "c.csv", tmp_path / "m.yaml", analysis_date="2024-06-01")
    assert c["channel"].tolist() == ["sms", "wecom_group", "wechat_official_account"]
    assert c["delivered"].tolist() == [True, True, False] and c["opened"].tolist() == [False, True, False]
    assert c["holdout"].tolist() == [False, False, True] and c["visited"].tolist() == [False, True, False]
    # the page's checks: a holdout member who was sent the message is reported with its row
    (tmp_path / "bad.csv").write_text(csv.replace("公众号,C2403,是,未送达", "公众号,C2403,是,成功"), encoding="utf-8")
    with pytest.warns(wio.DataQualityWarning, match="dropped 1 of 3"):
        res = wio.load_contacts(tmp_path / "bad.csv", tmp_path / "m.yaml", analysis_date="2024-06-01",
                                errors="drop", return_report=True)
    assert res.report[["check", "row"]].values.tolist() == [["holdout_delivered", 4]]


@pytest.mark.parametrize("table", ["surveys", "contacts"])
def test_mapping_example_file_reads_the_example_exports(table, tmp_path):
    """docs/mapping_example.yaml (the file users copy) has the same sections as the page."""
    export = tmp_path / f"{table}.csv"
    export.write_text(_example(table)[1], encoding="utf-8")
    res = getattr(wio, LOADERS[table])(export, DOC.parent / "mapping_example.yaml",
                                       analysis_date="2024-06-01", return_report=True)
    assert res.report.empty and res.counts["kept"] == 3
    assert set(res.data.columns) == set(yaml.safe_load(_example(table)[0])[table]["columns"].values())


def test_python_example_loads_surveys_and_contacts(tmp_path, monkeypatch):
    """The page's load_workbook_data example, run on exports in ~/exports (HOME = tmp_path)."""
    code = next(text for lang, text in doc_blocks() if lang == "python" and "contacts=" in text)
    exports = tmp_path / "exports"
    exports.mkdir()
    sections = {}
    for text, csv in EXAMPLES:
        sections.update({t: s for t, s in yaml.safe_load(text).items() if t not in sections})
    tx_section, mem_section = sections["transactions"], sections["members"]
    (exports / "pos_2024.csv").write_text(sample_export(tx_section), encoding="utf-8")
    (exports / "members.csv").write_text(
        sample_export(mem_section) + "003,13700009999\n", encoding="utf-8")  # the examples' third member
    (exports / "nps.csv").write_text(_example("surveys")[1], encoding="utf-8")
    (exports / "contacts.csv").write_text(_example("contacts")[1], encoding="utf-8")
    (exports / "my_map.yaml").write_text(yaml.safe_dump(
        {t: sections[t] for t in ("transactions", "members", "surveys", "contacts")}, allow_unicode=True),
        encoding="utf-8")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("WORKBOOK_PSEUDO_KEY", KEY)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 (the documentation's own example)
    data = namespace["data"]
    assert len(data.surveys) == 3 and len(data.contacts) == 3
    assert set(data.contacts["member_id"]) <= set(data.members["member_id"])
    assert not data.contacts["member_id"].isin(["001", "002", "003"]).any()  # pseudonymised
    assert data.reports["contacts"].counts["kept"] == data.reports["contacts"].counts["rows_read"] == 3
