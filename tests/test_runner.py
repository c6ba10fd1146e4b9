"""Tests for workbook.runner: executing a notebook on the user's data with papermill."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import nbformat
import pytest

from workbook.errors import WorkbookInputError
from workbook.runner import add_arguments, run, run_notebook

DATA = Path(__file__).parent / "data" / "good"
REPO = Path(__file__).resolve().parents[1]
KEY = "a7d3f09e2c5b8146d0e9f2a3b7c5d18e4f6a92b0c3d7e5f1a8b46c2d9e0f3a75"  # random: weak keys are refused


def make_notebook(path: Path, tagged: bool = True) -> Path:
    """A tiny notebook in the shape of the course notebooks: one parameters cell."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        "DATA_PATH = None\nMAPPING_PATH = None\nMEMBERS_PATH = None\nANALYSIS_NOTE = 'default'"
    )
    if tagged:
        params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "from workbook.io import load_workbook_data\n"
            "data = load_workbook_data(DATA_PATH, MAPPING_PATH, MEMBERS_PATH, now='2024-12-31')\n"
            "tx = data.transactions\n"
            "summary = {'n': len(tx), 'total': float(tx['amount'].sum()),\n"
            "           'members': int(tx['member_id'].nunique()), 'note': ANALYSIS_NOTE,\n"
            "           'raw_ids_visible': bool(tx['member_id'].isin(['0001', '0002']).any())}\n"
            "print(summary)"
        ),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def printed_summary(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    return eval(text.strip().splitlines()[-1])  # the dict printed by the notebook


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
    injected = nbformat.read(out, as_version=4).cells[1]
    assert "injected-parameters" in injected.metadata.tags
    assert str((DATA / "pos_export_gbk.csv").resolve()) in injected.source
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


@pytest.mark.parametrize("sub", ["notebooks", "exercises/solutions"])
def test_refuses_output_inside_repo_notebook_folders(tmp_path, sub):
    nb = make_notebook(tmp_path / "nb.ipynb")
    with pytest.raises(WorkbookInputError, match=rf"inside the repository's {sub.split('/')[0]}/"):
        run_notebook(nb, output=REPO / sub / "nb-run.ipynb")


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
        run(args)
    assert not (tmp_path / "runs").exists()


def test_cell_error_names_the_cell_and_keeps_partial_output(tmp_path, key_env):
    nb = make_notebook(tmp_path / "nb.ipynb")
    out = tmp_path / "o.ipynb"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(WorkbookInputError, match=r"failed in cell .* with WorkbookInputError"):
        run_notebook(nb, data=bad, output=out)
    assert json.loads(out.read_text())["cells"]


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
