"""Tests for workbook.exercises: marker transforms, deterministic builds, up-to-date built
files, and that executed student notebooks stop at every task with the check's hint."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from workbook import exercises
from workbook.cli import main
from workbook.errors import WorkbookInputError
from workbook.exercises import (
    build,
    build_notebook,
    check_results,
    solution_code,
    solution_markdown,
    stale_files,
    student_code,
    student_markdown,
)

REPO = Path(__file__).resolve().parents[1]
EXERCISES = REPO / "exercises"
PLACEHOLDER = "\n".join(exercises.CODE_PLACEHOLDER)


# --------------------------------------------------------------------------- text transforms


def test_student_code_replaces_each_region_at_its_indentation():
    src = (
        "total = None\n"
        "### BEGIN SOLUTION\n"
        "total = 1 + 1\n"
        "### END SOLUTION\n"
        "def f(x):\n"
        "    ### BEGIN SOLUTION\n"
        "    return x * 2\n"
        "    ### END SOLUTION\n"
        "print(total)"
    )
    indented = "\n".join("    " + line for line in exercises.CODE_PLACEHOLDER)
    assert student_code(src) == f"total = None\n{PLACEHOLDER}\ndef f(x):\n{indented}\nprint(total)"
    assert solution_code(src) == "total = None\ntotal = 1 + 1\ndef f(x):\n    return x * 2\nprint(total)"


def test_hidden_tests_are_removed_for_students_and_kept_for_instructors():
    src = "check(x)\n### BEGIN HIDDEN TESTS\nassert x == 2\n### END HIDDEN TESTS\ndone()"
    assert student_code(src) == "check(x)\ndone()"
    assert solution_code(src) == "check(x)\nassert x == 2\ndone()"


def test_markdown_solution_blocks():
    src = "问题？\n<!-- BEGIN SOLUTION -->\n答案一\n答案二\n<!-- END SOLUTION -->\n结尾"
    assert student_markdown(src) == f"问题？\n{exercises.MARKDOWN_PLACEHOLDER}\n结尾"
    assert solution_markdown(src) == "问题？\n答案一\n答案二\n结尾"


def test_text_without_markers_is_unchanged():
    src = "x = 1\n# ### BEGIN SOLUTION inside a comment is not a marker\ny = 2"
    assert student_code(src) == src == solution_code(src)


@pytest.mark.parametrize(
    "src, pattern",
    [
        ("### BEGIN SOLUTION\nx = 1", r"nb, cell 3: '### BEGIN SOLUTION' on line 1 has no matching '### END SOLUTION'"),
        ("x = 1\n### END SOLUTION", r"'### END SOLUTION' on line 2 has no matching '### BEGIN SOLUTION'"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
         r"'### BEGIN SOLUTION' on line 2 opens a region inside the one opened on line 1"),
        ("### BEGIN HIDDEN TESTS\nassert x", r"'### BEGIN HIDDEN TESTS' on line 1 has no matching"),
    ],
)
def test_unbalanced_markers_are_errors_naming_cell_and_line(src, pattern):
    with pytest.raises(WorkbookInputError, match=pattern):
        student_code(src, where="nb, cell 3")


# --------------------------------------------------------------------------- notebooks


def _source_nb():
    code = new_code_cell("n = None\n### BEGIN SOLUTION\nn = 3\n### END SOLUTION\nn", execution_count=5,
                         metadata={"tags": ["solution"], "collapsed": True})
    code.outputs = [new_output("execute_result", {"text/plain": "3"}, execution_count=5)]
    check = new_code_cell("checks.check_number(n, 3, name='n')", metadata={"tags": ["check"]})
    md = new_markdown_cell("为什么？\n<!-- BEGIN SOLUTION -->\n因为。\n<!-- END SOLUTION -->")
    params = new_code_cell("SEED = 7", metadata={"tags": ["parameters"]})
    metadata = {"kernelspec": {"name": "other", "display_name": "Other"}, "x": 1}
    return new_notebook(cells=[params, code, check, md], metadata=metadata)


def test_build_notebook_student_and_solution_versions():
    src = _source_nb()
    before = nbformat.writes(src)
    student = build_notebook(src, "student", "01_demo")
    solution = build_notebook(src, "solution", "01_demo")
    assert nbformat.writes(src) == before  # source not modified
    assert [c.id for c in student.cells] == ["01_demo-000", "01_demo-001", "01_demo-002", "01_demo-003"]
    assert student.cells[1].source == f"n = None\n{PLACEHOLDER}\nn"
    assert solution.cells[1].source == "n = None\nn = 3\nn"
    assert student.cells[3].source == f"为什么？\n{exercises.MARKDOWN_PLACEHOLDER}"
    for nb in (student, solution):
        code = nb.cells[1]
        assert code.outputs == [] and code.execution_count is None
        assert dict(code.metadata) == {"tags": ["solution"]}  # other cell metadata dropped
        assert nb.metadata["kernelspec"]["name"] == "python3" and "x" not in nb.metadata
        assert nb.cells[0].metadata["tags"] == ["parameters"]
        nbformat.validate(nb)
    assert student.cells[2].metadata == {"tags": ["check"], "editable": False, "deletable": False}
    assert solution.cells[2].metadata == {"tags": ["check"]}
    assert student.metadata["workbook_exercise"]["version"] == "student"


def test_build_notebook_errors():
    with pytest.raises(WorkbookInputError, match="version='teacher' is not valid"):
        build_notebook(_source_nb(), "teacher")
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("### BEGIN SOLUTION\nx = 2")])
    with pytest.raises(WorkbookInputError, match="02_bad, cell 1: '### BEGIN SOLUTION' on line 1"):
        build_notebook(nb, "student", "02_bad")
    nb = new_notebook(cells=[new_code_cell("<!-- BEGIN SOLUTION -->\nx\n<!-- END SOLUTION -->")])
    with pytest.raises(WorkbookInputError, match="belongs in markdown cells"):
        build_notebook(nb, "solution", "03")


def test_build_writes_both_versions_identically_twice_and_removes_orphans(tmp_path):
    shutil.copytree(EXERCISES / "source", tmp_path / "source")
    first = {p: p.read_bytes() for p in build(tmp_path)}
    n = len(list((tmp_path / "source").glob("*.ipynb")))
    assert sorted(p.relative_to(tmp_path).parts[0] for p in first) == ["solutions"] * n + ["student"] * n
    orphan = tmp_path / "student" / "99_removed.ipynb"
    orphan.write_text("{}", encoding="utf-8")
    second = {p: p.read_bytes() for p in build(tmp_path)}
    assert first == second
    assert not orphan.exists()
    assert stale_files(tmp_path) == []


def test_build_of_empty_folder_is_an_error(tmp_path):
    (tmp_path / "source").mkdir()
    with pytest.raises(WorkbookInputError, match="No source notebooks"):
        build(tmp_path)


def test_committed_built_files_equal_a_fresh_build():
    stale = stale_files(EXERCISES)
    assert not stale, (
        f"Built exercise notebooks are out of date: {[str(p) for p in stale]}. Edit exercises/source/ "
        "and run `workbook exercises build` (never edit student/ or solutions/ by hand)."
    )


def test_cli_build_and_check(tmp_path, capsys):
    shutil.copytree(EXERCISES / "source", tmp_path / "source")
    assert main(["exercises", "build", "--dir", str(tmp_path)]) == 0
    assert main(["exercises", "build", "--dir", str(tmp_path), "--check"]) == 0
    target = sorted((tmp_path / "solutions").glob("*.ipynb"))[0]
    target.write_text(target.read_text(encoding="utf-8").replace("SEED = 7", "SEED = 8"), encoding="utf-8")
    assert main(["exercises", "build", "--dir", str(tmp_path), "--check"]) == 1
    assert f"out of date: {target}" in capsys.readouterr().out
    assert main(["exercises", "build", "--dir", str(tmp_path / "nowhere")]) == 2


# --------------------------------------------------------------------------- course content


SOURCES = sorted((EXERCISES / "source").glob("*.ipynb"))
UNITS = ["rfm", "lifecycle", "cohort", "ab_test", "tier", "churn"]


def test_one_exercise_per_course_unit():
    names = [p.stem for p in SOURCES]
    for unit in UNITS:
        assert any(unit in n for n in names), f"no exercise for {unit!r} in {names}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_source_structure(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    for knob in ("DATA_PATH = None", "MAPPING_PATH = None", "MEMBERS_PATH = None", "SEED = 7", "ANALYSIS_DATE = None"):
        assert knob in code[0].source
    assert "load_workbook_data(DATA_PATH, mapping=MAPPING_PATH, members=MEMBERS_PATH)" in code[1].source
    tags = [c.metadata.get("tags", []) for c in code]
    solutions = [i for i, t in enumerate(tags) if "solution" in t]
    assert 2 <= len(solutions) <= 4
    for i in solutions:  # every task: a solution region followed directly by a check cell
        assert exercises.BEGIN_SOLUTION in code[i].source
        assert "check" in tags[i + 1] and "checks.check_" in code[i + 1].source
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for heading in ("学习目标 (Learning goals)", "建议时间 (Timing)", "## 动手试一试 (What to try)",
                    "## 小结：这项分析支持什么决策 (Decision summary)"):
        assert heading in md


# --------------------------------------------------------------------------- execution


def _data_available() -> bool:
    from workbook.synth import default_data_dir

    return (default_data_dir() / "transactions.parquet").exists()


@pytest.fixture(scope="module")
def student_results(tmp_path_factory):
    if not _data_available():
        if os.environ.get("CI") == "true":
            pytest.fail("The default data set is missing in CI; run `make data` first.")
        pytest.skip("default data set missing: run `make data`")
    # One wrong answer, to see a real hint (not only "not answered") in an executed notebook.
    wrong = tmp_path_factory.mktemp("wrong") / "04_wrong_answer.ipynb"
    nb = nbformat.read(EXERCISES / "student" / "04_ab_test_power.ipynb", as_version=4)
    first = next(c for c in nb.cells if "solution" in c.metadata.get("tags", []))
    first.source = first.source.replace(PLACEHOLDER, "n_per_arm = 2 * sample_size_proportions(BASELINE_RATE, MDE)")
    nbformat.write(nb, wrong)
    paths = sorted((EXERCISES / "student").glob("*.ipynb"))
    return exercises.grade([*paths, wrong], shared_kernel=True, timeout=300)


def test_student_versions_stop_at_every_task_with_the_hint(student_results):
    students = student_results[student_results["notebook"] != "04_wrong_answer.ipynb"]
    n_tasks = sum(
        "solution" in c.metadata.get("tags", [])
        for p in SOURCES for c in nbformat.read(p, as_version=4).cells
    )
    assert len(students) == n_tasks >= 12
    assert (students["status"] == "not_answered").all(), students.loc[students["status"] != "not_answered"]
    assert students["message"].str.contains("提示 (hint)", regex=False).all()


def test_a_wrong_answer_fails_its_check_with_the_specific_hint(student_results):
    wrong = student_results[student_results["notebook"] == "04_wrong_answer.ipynb"]
    assert wrong["status"].tolist()[0] == "failed"
    assert "这是两组的总人数" in wrong["message"].iloc[0]
    assert (wrong["status"].iloc[1:] == "not_answered").all()


def test_check_results_reads_statuses_from_outputs():
    def cell(outputs):
        c = new_code_cell("checks.check_x()", metadata={"tags": ["check"]})
        c.outputs = outputs
        return c

    nb = new_notebook(cells=[
        new_markdown_cell("## 任务 1：A"),
        cell([new_output("stream", name="stdout", text="✓ x 正确 (correct)\n")]),
        new_markdown_cell("## 任务 2：B"),
        cell([new_output("error", ename="ExerciseCheckError", evalue="✗ 还没有作答 (not answered yet): x", traceback=[])]),
        cell([new_output("error", ename="ExerciseCheckError", evalue="✗ 不对\n提示 (hint): h", traceback=[])]),
        cell([new_output("error", ename="NameError", evalue="name 'x' is not defined", traceback=[])]),
        cell([]),
        new_code_cell("not a check"),
    ])
    res = check_results(nb)
    assert res["status"].tolist() == ["passed", "not_answered", "failed", "error", "not_run"]
    assert res["task"].tolist() == ["任务 1：A", "任务 2：B", "任务 2：B", "任务 2：B", "任务 2：B"]
    assert res["message"].tolist()[::3] == ["✓ x 正确 (correct)", "NameError: name 'x' is not defined"]
