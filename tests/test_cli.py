"""The ``workbook`` command line as a trainee or an analyst runs it: a bad input is a
short message in Chinese and English on stderr, exit code 2, no traceback, no raw id."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from workbook.cli import main
from workbook.console import error_message
from workbook.errors import WorkbookInputError

MAPPING = Path(__file__).parent / "data" / "good" / "mapping.yaml"
KEY = "a7d3f09e2c5b8146d0e9f2a3b7c5d18e4f6a92b0c3d7e5f1a8b46c2d9e0f3a75"  # random: weak keys are refused
PHONE = "13912345678"  # a member id that is a phone number: must never be printed
TX = f"""小票号,会员卡号,门店编码,交易时间,实付金额,件数,优惠金额,渠道,交易类型
S1,{PHONE},SH01,2024/03/01 10:15,100,1,0,线下,销售
S2,{PHONE},SH01,2024/03/02 10:15,abc,1,0,线下,销售
S3,13800131234,SH01,2024/03/03 10:15,50,1,0,线下,销售
"""
MEMBERS = f"""会员卡号,姓名,手机号,邮箱,性别,生日,注册时间,会员等级,所属门店
{PHONE},李娜,{PHONE},lina@example.com,女,1992/02/28,2024/01/15 15:30,银卡,SH02
13800131234,张伟,13800131234,zhangwei@example.com,男,1985/07/12,2023/11/02 10:00,普通,SH01
"""


def assert_bilingual_no_traceback(err: str) -> None:
    lines = err.strip().splitlines()
    assert lines[0].startswith("错误：") and any(line.startswith("error: ") for line in lines), err
    assert "Traceback" not in err and "File \"" not in err, err


def test_error_message_puts_chinese_first_and_masks_contacts():
    exc = WorkbookInputError(f"member {PHONE!r} (lina@example.com) is unknown",
                             message_zh=f"会员 {PHONE} 不在会员表里")
    assert error_message(exc) == "错误：会员 *** 不在会员表里\nerror: member '***' (***) is unknown"
    assert error_message(WorkbookInputError("no zh")) == "error: no zh"


def test_bad_rows_of_a_user_export_are_bilingual_without_raw_ids(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBOOK_PSEUDO_KEY", KEY)
    monkeypatch.chdir(tmp_path)
    tx, mem = tmp_path / "tx.csv", tmp_path / "members.csv"
    tx.write_text(TX, encoding="utf-8")
    mem.write_text(MEMBERS, encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("DATA_PATH = None\nMAPPING_PATH = None\nMEMBERS_PATH = None\n"
                                       "ERRORS = 'raise'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(DATA_PATH)")]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    code = main(["run", "nb.ipynb", "--data", str(tx), "--members", str(mem),
                 "--mapping", str(MAPPING), "-o", str(tmp_path / "out.ipynb")])
    std = capsys.readouterr()
    assert code == 2, std.err
    assert_bilingual_no_traceback(std.err)
    # the row at fault is named in both languages; the phone-number ids, names and e-mails are not
    assert "row 3" in std.err and "--errors drop" in std.err and "有问题" in std.err
    for raw in (PHONE, "13800131234", "李娜", "lina@example.com"):
        assert raw not in std.err + std.out
    assert not (tmp_path / "out.ipynb").exists()


@pytest.mark.parametrize("argv", [["apps", "--port", "70000"], ["run", "missing.ipynb"]])
def test_main_returns_2_and_prints_both_languages(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert_bilingual_no_traceback(capsys.readouterr().err)
