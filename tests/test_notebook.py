"""workbook.notebook: claims are strict under test and friendly notes otherwise."""

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from workbook.errors import WorkbookInputError
from workbook.kernel_sockets import LocalAsyncKernelManager
from workbook.notebook import STRICT_ENV, ClaimError, claim, claims_are_strict, needs


def test_claim_holds_quietly(capsys):
    assert claim(True, "成立", "holds", strict=True) is True
    assert capsys.readouterr().out == ""


def test_claim_strict_raises():
    with pytest.raises(ClaimError, match="revenue share"):
        claim(False, "收入占比", "revenue share", strict=True)


def test_claim_lenient_shows_note(capsys):
    assert claim(False, "收入占比超过六成", "revenue share over 60%", detail="现在是 40%", strict=False) is False
    out = capsys.readouterr().out
    assert "收入占比超过六成" in out and "现在是 40%" in out and "你改了参数" in out


def test_strictness_follows_environment(monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "1")
    assert claims_are_strict()
    with pytest.raises(ClaimError):
        claim(False, "x")
    monkeypatch.setenv(STRICT_ENV, "0")
    assert not claims_are_strict()
    assert claim(False, "x") is False


@pytest.mark.parametrize("available", [None, pd.DataFrame({"member_id": []}), False, np.bool_(False)])
def test_needs_notes_missing_data_once(available, capsys):
    assert needs(available, "触达记录", "a contact log", how_zh="请设置 CONTACTS_PATH。",
                 how_en="Set CONTACTS_PATH.") is False
    out = capsys.readouterr().out
    assert out.count("这本笔记需要触达记录 (needs a contact log)") == 1
    assert "请设置 CONTACTS_PATH。下面各节都会跳过。" in out and "Set CONTACTS_PATH. Every section below is skipped." in out


def test_needs_names_missing_columns(capsys):
    tx = pd.DataFrame({"amount": [1.0], "points_earned": [1]})
    assert needs(tx, "积分列", "points columns", columns=["points_earned", "points_redeemed"]) is False
    assert "['points_redeemed']" in capsys.readouterr().out
    tx["points_redeemed"] = 0
    assert needs(tx, "积分列", "points columns", columns=["points_earned", "points_redeemed"]) is True
    assert needs(np.bool_(True), "x", "x") is True
    assert capsys.readouterr().out == ""  # nothing to say when the data is there


def test_bilingual_error_message():
    err = WorkbookInputError("bad bins", message_zh="分档数不对")
    assert str(err) == "bad bins"
    assert err.bilingual() == "分档数不对\nbad bins"
    assert WorkbookInputError("only english").bilingual() == "only english"


def test_setup_shows_input_errors_without_traceback():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from workbook.notebook import setup\nsetup()"),
        nbformat.v4.new_code_cell(
            "from workbook.errors import WorkbookInputError\n"
            "def inner():\n    raise WorkbookInputError('bins must be 2-10', message_zh='分档数必须在 2 到 10 之间')\n"
            "inner()"
        ),
        nbformat.v4.new_code_cell("print('not reached')"),
    ]
    client = NotebookClient(nb, timeout=120, kernel_name="python3", kernel_manager_class=LocalAsyncKernelManager)
    with pytest.raises(CellExecutionError):
        client.execute()
    outputs = nb.cells[1].outputs
    shown = "".join(str(o.get("data", {}).get("text/html", "")) + str(o.get("text", "")) for o in outputs)
    assert "分档数必须在 2 到 10 之间" in shown and "bins must be 2-10" in shown
    everything = str(outputs)
    assert "inner()" not in everything and "File " not in everything and "Traceback" not in everything
    assert nb.cells[2].outputs == []  # Run All stops at the failed cell
