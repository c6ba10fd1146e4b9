"""Tests for workbook.runner: executing a notebook on the user's data with papermill."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from workbook.errors import WorkbookInputError
from workbook.runner import add_arguments, partial_path, rejected_path, run, run_notebook

DATA = Path(__file__).parent / "data" / "good"
REPO = Path(__file__).resolve().parents[1]
KEY = "a7d3f09e2c5b8146d0e9f2a3b7c5d18e4f6a92b0c3d7e5f1a8b46c2d9e0f3a75"  # random: weak keys are refused


def make_notebook(path: Path, tagged: bool = True, errors_param: bool = True,
                  extra_cells: tuple[str, ...] = ()) -> Path:
    """A tiny notebook in the shape of the course notebooks: one parameters cell."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        "DATA_PATH = None\nMAPPING_PATH = None\nMEMBERS_PATH = None\nANALYSIS_NOTE = 'default'"
        + ("\nERRORS = 'raise'" if errors_param else "")
    )
    if tagged:
        params.metadata["tags"] = ["parameters"]
    errors_arg = ", errors=ERRORS" if errors_param else ""
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "from workbook.io import load_workbook_data\n"
            f"data = load_workbook_data(DATA_PATH, MAPPING_PATH, MEMBERS_PATH{errors_arg})\n"
            "tx = data.transactions\n"
            "summary = {'n': len(tx), 'total': float(tx['amount'].sum()),\n"
            "           'members': int(tx['member_id'].nunique()), 'note': ANALYSIS_NOTE,\n"
            "           'raw_ids_visible': bool(tx['member_id'].isin(['0001', '0002']).any())}\n"
            "print(summary)"
        ),
        *[nbformat.v4.new_code_cell(src) for src in extra_cells],
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def printed_summary(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    return eval([line for line in text.strip().splitlines() if line.startswith("{")][-1])


@pytest.fixture
def key_env(monkeypatch):
    monkeypatch.setenv("WORKBOOK_PSEUDO_KEY", KEY)


def test_run_notebook_on_user_data(tmp_path, key_env, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nb = make_notebook(tmp_path / "03_maintenance.ipynb")
    out = run_notebook(nb, data=DATA / "pos_export_gbk.csv", mapping=DATA / "mapping.yaml",
                       members=DATA / "members_utf8_bom.csv", parameters={"ANALYSIS_NOTE": "x"})
    # default output: runs/<stem>-<timestamp>.ipynb under the current directory
    assert out.parent == Path("runs") and out.name.startswith("03_maintenance-")
    s = printed_summary(out)
    # 12 receipts; 1280+320.5+88+45+2000+99.5+150-500+1050+300+60+210 = 5103
    assert s == {"n": 12, "total": 5103.0, "members": 3, "note": "x", "raw_ids_visible": False}
    executed = nbformat.read(out, as_version=4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert str((DATA / "pos_export_gbk.csv").resolve()) in injected.source
    assert "ERRORS = \"raise\"" in injected.source
    # the run report is the first cell; the run is marked complete; no partial file is left
    assert "workbook-run-report" in executed.cells[0].metadata.tags
    assert "读入 12 行 (rows read)" not in executed.cells[0].source  # a table, not the printed line
    assert "| transactions | 12 | 11 | 0 | 1 | ✓ |" in executed.cells[0].source
    assert executed.metadata.workbook.run.status == "complete"
    assert not partial_path(out).exists() and not rejected_path(out).exists()
    # the input notebook is untouched (no outputs)
    src = nbformat.read(nb, as_version=4)
    assert all(not c.get("outputs") for c in src.cells)


def test_cli_run(tmp_path, key_env, monkeypatch, capsys):
    from workbook.cli import main

    monkeypatch.chdir(tmp_path)
    nb = make_notebook(tmp_path / "nb.ipynb")
    out = tmp_path / "elsewhere" / "done.ipynb"
    code = main(["run", str(nb), "--data", str(DATA / "pos_export_gbk.csv"),
                 "--mapping", str(DATA / "mapping.yaml"), "-o", str(out),
                 "-p", "ANALYSIS_NOTE", "cli"])
    assert code == 0 and out.exists()
    assert "keep it out of git" in capsys.readouterr().out
    assert printed_summary(out)["note"] == "cli"
    assert printed_summary(out)["n"] == 12


@pytest.mark.parametrize("sub, folder", [("notebooks", "notebooks"),
                                         ("exercises/solutions", "exercises"),
                                         ("datasets", "datasets"),
                                         ("datasets/default", "datasets"),
                                         ("src/workbook", "src/workbook"),
                                         ("src/workbook/clv", "src/workbook")])
def test_refuses_output_inside_repo_protected_folders(tmp_path, sub, folder):
    nb = make_notebook(tmp_path / "nb.ipynb")
    with pytest.raises(WorkbookInputError, match=rf"inside the repository's {folder}/") as err:
        run_notebook(nb, output=REPO / sub / "nb-run.ipynb")
    assert "不能把运行结果写到" in err.value.message_zh
    assert not (REPO / sub / "nb-run.ipynb").exists()


def test_refuses_overwriting_input_and_missing_things(tmp_path):
    nb = make_notebook(tmp_path / "nb.ipynb")
    with pytest.raises(WorkbookInputError, match="overwrite the input notebook"):
        run_notebook(nb, output=nb)
    with pytest.raises(WorkbookInputError, match=r"Data file '.*nope\.csv' does not exist"):
        run_notebook(nb, data=tmp_path / "nope.csv", output=tmp_path / "o.ipynb")
    with pytest.raises(WorkbookInputError, match=r"Notebook '.*missing\.ipynb' does not exist"):
        run_notebook(tmp_path / "missing.ipynb")
    with pytest.raises(WorkbookInputError, match=r"must end in \.ipynb"):
        run_notebook(nb, output=tmp_path / "o.html")


def test_refuses_notebook_without_parameters_cell(tmp_path):
    nb = make_notebook(tmp_path / "nb.ipynb", tagged=False)
    with pytest.raises(WorkbookInputError, match="no cell tagged 'parameters'"):
        run_notebook(nb, output=tmp_path / "o.ipynb")


def test_cli_without_key_fails_before_starting_a_kernel(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBOOK_PSEUDO_KEY", raising=False)
    monkeypatch.delenv("WORKBOOK_PSEUDO_KEY_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([str(make_notebook(tmp_path / "nb.ipynb")),
                              "--data", str(DATA / "pos_export_gbk.csv")])
    with pytest.raises(WorkbookInputError, match="No pseudonymisation key"):
        run_notebook(args.notebook, data=args.data)
    assert run(args) == 2
    assert not (tmp_path / "runs").exists()


def test_bad_file_stops_before_a_kernel_starts(tmp_path, key_env):
    nb = make_notebook(tmp_path / "nb.ipynb")
    out = tmp_path / "o.ipynb"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(WorkbookInputError, match=r"missing required transactions column"):
        run_notebook(nb, data=bad, output=out)
    assert not out.exists() and not partial_path(out).exists()


def test_cell_error_keeps_a_marked_partial_notebook(tmp_path, key_env, capsys):
    from workbook.cli import main

    nb = make_notebook(tmp_path / "nb.ipynb", extra_cells=("print('before')", "1 / 0",
                                                          "print('never')"))
    out = tmp_path / "o.ipynb"
    with pytest.raises(WorkbookInputError, match=r"(?s)failed in cell \d+ with ZeroDivisionError"
                       r".*kept as .*o\.partial\.ipynb") as err:
        run_notebook(nb, data=DATA / "pos_export_gbk.csv", mapping=DATA / "mapping.yaml",
                     output=out)
    assert "partial" in err.value.message_zh
    assert not out.exists()  # nothing that looks complete
    part = nbformat.read(partial_path(out), as_version=4)
    assert part.metadata.workbook.run.status == "partial"
    assert part.metadata.workbook.run.reason == "error"
    assert "未完成的运行 (Partial run)" in part.cells[0].source
    assert "workbook-run-report" in part.cells[1].metadata.tags
    capsys.readouterr()
    code = main(["run", str(nb), "--data", str(DATA / "pos_export_gbk.csv"),
                 "--mapping", str(DATA / "mapping.yaml"), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.index("未完成的笔记本") < err.index("partly executed notebook is kept")
    assert not out.exists() and partial_path(out).exists()


def _cli_run_with(execute_notebook, tmp_path, monkeypatch, capsys) -> tuple[int, str, Path]:
    """`workbook run` on a small notebook with papermill's execute_notebook replaced:
    (exit code, stderr, the output path asked for)."""
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    nb = make_notebook(tmp_path / "nb.ipynb")
    out = tmp_path / "o.ipynb"
    code = run(parser.parse_args([str(nb), "-o", str(out)]))
    return code, capsys.readouterr().err, out


def test_ctrl_c_keeps_a_marked_partial_notebook_patched(tmp_path, key_env, monkeypatch, capsys):
    """KeyboardInterrupt while papermill runs (patched: no kernel) -> partial file, exit 130."""

    def interrupted(nb, out, **kwargs):
        nbformat.write(nbformat.read(nb, as_version=4), out)  # papermill saves as it goes
        raise KeyboardInterrupt

    code, err, out = _cli_run_with(interrupted, tmp_path, monkeypatch, capsys)
    assert code == 130
    assert "运行被中断" in err and "o.partial.ipynb" in err
    assert not out.exists()
    assert nbformat.read(partial_path(out), as_version=4).metadata.workbook.run.reason == "interrupted"


def test_workbook_run_executes_with_bounded_channel_waits(tmp_path, key_env, monkeypatch, capsys):
    """The notebook runs with workbook.kernel_wait installed (a lost zmq wake-up cannot hold a cell)."""
    from jupyter_client.channels import AsyncZMQSocketChannel

    from workbook.kernel_wait import sliced_get_msg

    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", AsyncZMQSocketChannel.get_msg)  # undone after
    seen = {}

    def execute(nb, out, **kwargs):
        seen["get_msg"] = AsyncZMQSocketChannel.get_msg
        nbformat.write(nbformat.read(nb, as_version=4), out)

    code, err, out = _cli_run_with(execute, tmp_path, monkeypatch, capsys)
    assert code == 0, err
    assert seen["get_msg"] is sliced_get_msg


@pytest.mark.parametrize("swallowed_as", ["return", "cell error"])
def test_ctrl_c_counts_even_when_the_interrupt_is_swallowed(tmp_path, key_env, monkeypatch, capsys, swallowed_as):
    """SIGINT that never reaches the runner as a KeyboardInterrupt (asyncio may cancel a task
    instead) still stops the run: exit 130, partial file marked "interrupted", not a success."""
    from papermill.exceptions import PapermillExecutionError

    def swallowing(nb, out, **kwargs):
        nbformat.write(nbformat.read(nb, as_version=4), out)
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the signal arrives during this sleep
        except KeyboardInterrupt:
            pass  # what a library on the way may do
        if swallowed_as == "cell error":  # the kernel's cell was interrupted as well
            raise PapermillExecutionError(3, 3, "time.sleep(60)", "KeyboardInterrupt", "", [])

    code, err, out = _cli_run_with(swallowing, tmp_path, monkeypatch, capsys)
    assert code == 130
    assert "运行被中断" in err
    assert not out.exists()
    assert nbformat.read(partial_path(out), as_version=4).metadata.workbook.run.reason == "interrupted"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


@pytest.mark.slow
def test_ctrl_c_in_a_real_run_exits_130_and_keeps_partial(tmp_path):
    """SIGINT to a `workbook run` process while a cell sleeps."""
    nb = make_notebook(tmp_path / "nb.ipynb", extra_cells=(
        "print('sleeping', flush=True)", "import time; time.sleep(60)", "print('never')"))
    out = tmp_path / "o.ipynb"
    env = {**os.environ, "WORKBOOK_PSEUDO_KEY": KEY}
    proc = subprocess.Popen([sys.executable, "-m", "workbook.cli", "run", str(nb), "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=tmp_path)
    part = partial_path(out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the cell before the sleep has been saved
        if part.exists() and "sleeping" in part.read_text(encoding="utf-8", errors="ignore"):
            break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the notebook did not start")
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "运行被中断" in err and "Traceback" not in err
    assert not out.exists()
    executed = nbformat.read(part, as_version=4)
    assert executed.metadata.workbook.run == {**executed.metadata.workbook.run,
                                              "status": "partial", "reason": "interrupted"}
    assert "never" not in json.dumps(executed.cells[-1].get("outputs", []))


def test_errors_drop_needs_an_errors_parameter(tmp_path, key_env):
    nb = make_notebook(tmp_path / "nb.ipynb", errors_param=False)
    with pytest.raises(WorkbookInputError, match=r"has no ERRORS parameter.*errors=ERRORS"):
        run_notebook(nb, data=DATA / "pos_export_gbk.csv", mapping=DATA / "mapping.yaml",
                     output=tmp_path / "o.ipynb", errors="drop")
    with pytest.raises(WorkbookInputError, match=r"Pass errors="):
        run_notebook(nb, output=tmp_path / "o.ipynb", parameters={"ERRORS": "drop"})
    with pytest.raises(WorkbookInputError, match=r"errors='ignore' is not valid"):
        run_notebook(nb, output=tmp_path / "o.ipynb", errors="ignore")


TEACHING_NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", TEACHING_NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_reads_every_parameter_of_the_teaching_notebooks(path, caplog):
    """Papermill's line-based inspection must see the same names as ast (no '=' in comments)."""
    from papermill.inspection import _infer_parameters
    from papermill.iorw import load_notebook_node

    from workbook.runner import parameter_names

    with caplog.at_level("WARNING", logger="papermill"):
        seen = [p.name for p in _infer_parameters(load_notebook_node(str(path)))]
    assert "Unable to parse" not in caplog.text
    assert seen == parameter_names(nbformat.read(path, as_version=4))
    assert {"DATA_PATH", "MAPPING_PATH", "MEMBERS_PATH"} <= set(seen)


def test_unknown_parameter_is_an_error_and_no_heuristic_warnings(tmp_path, caplog):
    nb = make_notebook(tmp_path / "nb.ipynb")
    with pytest.raises(WorkbookInputError, match=r"does not define \['ANALYSIS_NOTES'\].*ANALYSIS_NOTE"):
        run_notebook(nb, output=tmp_path / "o.ipynb", parameters={"ANALYSIS_NOTES": "x"})
    with pytest.raises(WorkbookInputError, match=r"does not define \['TRAFFIC_PATH'\]"):
        run_notebook(nb, output=tmp_path / "o.ipynb", traffic=DATA / "mapping.yaml")
    # a comment holding '=' twice used to make papermill warn and ignore the line
    src = nbformat.read(nb, as_version=4)
    src.cells[0].source = src.cells[0].source.replace(
        "ANALYSIS_NOTE = 'default'", "ANALYSIS_NOTE = 'default'  # None = default, 'x' = x")
    nbformat.write(src, nb)
    with caplog.at_level("WARNING", logger="papermill"):
        out = run_notebook(nb, output=tmp_path / "o.ipynb", parameters={"ANALYSIS_NOTE": "given"})
    assert printed_summary(out)["note"] == "given"
    assert "Unable to parse" not in caplog.text and "unknown parameter" not in caplog.text


def test_case_study_refuses_user_data_before_starting_a_kernel(tmp_path, key_env):
    nb = make_notebook(tmp_path / "case.ipynb")
    src = nbformat.read(nb, as_version=4)
    src.cells.insert(1, nbformat.v4.new_code_cell(
        "assert DATA_PATH is None and MEMBERS_PATH is None, 'own scenario only.'"))
    nbformat.write(src, nb)
    out = tmp_path / "o.ipynb"
    with pytest.raises(WorkbookInputError, match=r"cannot run on your data: .*\(own scenario only\)"):
        run_notebook(nb, data=DATA / "pos_export_gbk.csv", output=out)
    assert not out.exists()


def test_store_compass_parameter_is_injected(tmp_path, key_env):
    from workbook.runner import parameter_names

    compass = nbformat.read(REPO / "notebooks" / "07_store_compass.ipynb", as_version=4)
    assert "TRAFFIC_PATH" in parameter_names(compass)
    nb = make_notebook(tmp_path / "nb.ipynb")
    src = nbformat.read(nb, as_version=4)
    src.cells[0].source += "\nTRAFFIC_PATH = None"
    src.cells[1].source += "\nprint({'traffic': TRAFFIC_PATH})"
    nbformat.write(src, nb)
    t = tmp_path / "traffic.csv"
    t.write_text("store_id,date,visitors\nS01,2024-03-01,5\n", encoding="utf-8")
    out = run_notebook(nb, output=tmp_path / "o.ipynb", traffic=t)
    assert printed_summary(out)["traffic"] == str(t.resolve())


MESSY_TX = """小票号,会员卡号,门店编码,交易时间,实付金额,件数,优惠金额,渠道,交易类型
S1,13912345678,SH01,2024/03/01 10:15,100,1,0,线下,销售
S2,13800131234,SH01,2024/03/02 10:15,200,1,0,线下,销售
S3,13700009999,SH01,2024/03/03 10:15,abc,1,0,线下,销售
S4,13912345678,SH01,2024/03/04 10:15,50,1,0,线下,销售
S5,13912345678,SH01,2024/13/45 10:15,60,1,0,线下,销售
S5,13800131234,SH01,2024/03/05 10:15,70,1,0,线下,销售
S7,,SH01,2024/03/06 10:15,80,1,0,线下,销售
S8,13600001111,SH01,2024/03/07 10:15,90,1,0,火星,销售
S9,15258218732,SH01,2024/03/08 10:15,10,1,0,线下,销售
"""
MESSY_MEMBERS = """会员卡号,姓名,手机号,邮箱,性别,生日,注册时间,会员等级,所属门店
13912345678,李娜,13912345678,lina@example.com,女,1992/02/28,2024/01/15 15:30,银卡,SH02
13800131234,张伟,13800131234,zhangwei@example.com,男,1985/07/12,2023/11/02 10:00,普通,SH01
13700009999,王磊,13700009999,wanglei@example.com,男,1978/10/01,2024/03/20 09:00,普通,SH01
13600001111,赵敏,13600001111,zhaomin@example.com,女,1990/01/01,2023/01/01 09:00,普通,SH01
"""


def test_errors_drop_writes_rejected_rows_and_counts_add_up(tmp_path, key_env, capsys):
    from workbook.cli import main
    from workbook.privacy import Pseudonymiser

    tx, mem = tmp_path / "tx.csv", tmp_path / "members.csv"
    tx.write_text(MESSY_TX, encoding="utf-8")
    mem.write_text(MESSY_MEMBERS, encoding="utf-8")
    nb = make_notebook(tmp_path / "nb.ipynb")
    out = tmp_path / "runs" / "nb-drop.ipynb"
    args = ["run", str(nb), "--data", str(tx), "--members", str(mem),
            "--mapping", str(DATA / "mapping.yaml"), "-o", str(out)]
    # raise (default): stops before a kernel starts, names rows, no raw id, hints at drop
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "row 4" in err and "--errors drop" in err and "13912345678" not in err
    assert not out.exists() and not partial_path(out).exists()
    assert main(args + ["--errors", "drop"]) == 0
    printed = capsys.readouterr().out
    # 9 data rows: rows 4 (bad amount), 6 (bad date), 7 (duplicate receipt), 9 (bad channel),
    # 10 (member not in the members file) rejected; row 8 a walk-in; 3 member rows kept
    assert "交易 transactions: 读入 9 行 = 保留 3 + 剔除 5 + 散客 1" in printed
    assert "(rows read 9 = kept 3 + rejected 5 + walk-ins 1)" in printed
    assert "not_a_number in 'amount': 1" in printed
    rejected = pd.read_csv(rejected_path(out), encoding="utf-8-sig", dtype=str)
    assert tuple(rejected.columns) == ("table", "row", "column", "check", "reason", "member")
    assert sorted(rejected["row"].astype(int)) == [4, 6, 7, 9, 10]
    ps = Pseudonymiser(key=KEY)
    orphan = rejected.loc[rejected["row"] == "10"].iloc[0]
    assert orphan["check"] == "orphan_member" and orphan["column"] == "member_id"
    assert orphan["member"] == ps.pseudonymise_ids(pd.Series(["15258218732"])).iloc[0]
    assert "15258218732" not in orphan["reason"]  # at most the pseudonym, never the phone
    executed = nbformat.read(out, as_version=4)
    assert printed_summary(out)["n"] == 4  # 3 member rows + 1 walk-in reached the notebook
    top = executed.cells[0].source
    assert top.startswith("## 运行报告 (Run report)") and "--errors drop" in top
    assert "| transactions | 9 | 3 | 5 | 1 | ✓ |" in top
    assert "### 剔除原因 (rejected rows by reason)" in top and rejected_path(out).name in top
    assert executed.metadata.workbook.run.counts[-1] == {
        "table": "transactions", "rows_read": 9, "kept": 3, "rejected": 5, "walk_ins": 1}
    everything = printed + err + json.dumps(executed) + rejected_path(out).read_text("utf-8-sig")
    for raw in ("13912345678", "13800131234", "13700009999", "13600001111", "15258218732",
                "李娜", "lina@example.com"):
        assert raw not in everything
