"""Tests for workbook.exercises: marker transforms, deterministic builds, up-to-date built
files, grading (CSV and exit code), and every exercise executed as a trainee would: unanswered
(Run All reaches the end, every check says 未作答), with typical wrong answers (✗ with the
method hint, never the expected value) and answered (✓)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from test_kernel_sockets import TRANSPORT_CELL

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
from workbook.kernel_sockets import ipc_possible

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
UNITS = ["rfm", "lifecycle", "cohort", "ab_test", "tier", "churn", "points"]


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
    assert "checks.setup()" in code[1].source
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


# --------------------------------------------------------------------------- execution, as a trainee would

#: A typical wrong answer per task (replacing the placeholder of each solution cell, in order) and
#: the words its hint must contain.  Each wrong answer runs without an error of its own.
WRONG_ANSWERS = {
    "01_rfm_segments": [
        ("rfm = rfm_table(data.transactions, analysis_date=ANALYSIS_DATE)\n"
         "scored = RFMScorer(bins=RFM_BINS).fit_transform(rfm)\n"
         "scored[\"recency_days\"] = scored[\"recency_days\"] + 1", "差一天"),
        ("segmented = segment(scored, \"cn8\")", "FM = round_half_up"),
        ("summary = segment_summary(segmented)\ntop_segment = summary[\"revenue\"].idxmin()", "idxmax"),
    ],
    "02_lifecycle_stages": [
        ("stages = lifecycle_stages(data.transactions, analysis_date=ANALYSIS_DATE)", "data.members"),
        ("strict_stages = lifecycle_stages(data.transactions, data.members, analysis_date=ANALYSIS_DATE)",
         "sleeping_days=150"),
        ("stage_shares = strict_stages[\"stage\"].value_counts(normalize=True)\n"
         "sleeping_share = int((strict_stages[\"stage\"] == \"sleeping\").sum())", "严格口径"),
    ],
    "03_cohort_retention": [
        ("retention = cohort_table(data.transactions, freq=FREQ, analysis_date=ANALYSIS_DATE).fillna(0)", "不是 0"),
        ("retention_join = cohort_table(data.transactions, freq=FREQ, analysis_date=ANALYSIS_DATE)", "cohort_by"),
        ("revenue_curve = cohort_table(data.transactions, metric=\"revenue\", freq=FREQ, analysis_date=ANALYSIS_DATE)",
         "cumulative"),
    ],
    "04_ab_test_power": [
        ("power_plan = pd.DataFrame({\"mde\": MDE_OPTIONS})\n"
         "power_plan[\"n_per_arm\"] = power_plan[\"mde\"].apply(\n"
         "    lambda m: sample_size_proportions(BASELINE_RATE, m, alpha=ALPHA, power=POWER))\n"
         "n_per_arm = 2 * sample_size_proportions(BASELINE_RATE, MDE, alpha=ALPHA, power=POWER)", "两组的总人数"),
        ("result = proportion_test(experiment, control=\"treatment\", treatment=\"control\", alpha=ALPHA)", "搞反"),
        ("    return bool(r.significant)", "r.ci_low 大于 0"),
    ],
    "05_tier_budget": [
        ("baseline = simulate_policy(data.transactions, TierPolicy.default(), margin_rate=0.5,\n"
         "                           analysis_date=ANALYSIS_DATE)", "margin_rate"),
        ("my_policy = TierPolicy.default()", "门槛"),
    ],
    "06_churn_evaluation": [
        ("train_cutoff = \"2024-09-01\"", "HORIZON_DAYS"),
        ("split = time_split(data.transactions, data.members, analysis_dates=(\"2024-07-01\", TEST_CUTOFF),\n"
         "                   horizon_days=HORIZON_DAYS)\n"
         "model = ChurnModel(\"hgb\", random_state=SEED).fit(split.X_train, split.y_train)\n"
         "p_test = model.predict_proba(split.X_test)\n"
         "metrics = churn_metrics(split.y_train, model.predict_proba(split.X_train))", "没见过的数据"),
        ("comparison = pd.concat([\n"
         "    ChurnModel(kind, random_state=SEED).fit(split.X_train, split.y_train).evaluate(split.X_test, split.y_test)\n"
         "    for kind in [\"logistic\", \"hgb\"]\n])\n"
         "best_model = comparison[\"roc_auc\"].idxmin()", "idxmax"),
    ],
    "07_contact_fatigue": [
        ("recent = recent_contact_counts(contacts, window_days=WINDOW_DAYS) + 1", "这条消息本身不算"),
        ("curve = fatigue_curve(contacts, OUTCOME, window_days=WINDOW_DAYS, max_contacts=10)", "每档一行"),
        ("cap = float(curve[\"rate\"].iloc[2])", "不是比率本身"),
    ],
    "08_points_liability": [
        ("summary = points_summary(data.transactions, analysis_date=BALANCE_DATE, cost_per_point_yuan=COST_PER_POINT)",
         "清零规则"),
        ("year_end = points_summary(data.transactions, expiry=EXPIRY, expiry_years=EXPIRY_YEARS,\n"
         "                          analysis_date=ANALYSIS_DATE, cost_per_point_yuan=COST_PER_POINT)\n"
         "breakage_rate = year_end[\"expired\"] / year_end[\"redeemed\"]", "分母不是已兑换积分"),
        ("rules_table = compare_expiry_rules(data.transactions, RULES, analysis_date=ANALYSIS_DATE,\n"
         "                                   cost_per_point_yuan=COST_PER_POINT)\n"
         "old, new = list(RULES)[:2]\n"
         "extra_liability_yuan = rules_table.loc[new, \"outstanding\"] - rules_table.loc[old, \"outstanding\"]",
         "积分数的差"),
    ],
    "09_next_best_category": [
        ("history = (category_history(data.transactions, analysis_date=CUTOFF) > 0).astype(int)", "购买次数"),
        ("history = category_history(data.transactions, analysis_date=CUTOFF)\n"
         "bought = (history > 0).astype(int)\n"
         "both = bought.T @ bought\n"
         "conditional = both.div(pd.Series(np.diag(both), index=both.index), axis=1)", "行和列反了"),
        ("hits = holdout_hit_rate(data.transactions, analysis_date=CUTOFF, horizon_days=HORIZON_DAYS, k=1)", "k=K"),
        ("cross_sell = NextBestCategory().fit(data.transactions, analysis_date=CUTOFF).recommend(k=K)",
         "exclude_seen=True"),
    ],
}

#: Expected values a wrong answer's feedback must not reveal (the leak of issue 10: "应为 3835 人").
NOT_REVEALED = {"04_ab_test_power": ["3835"], "06_churn_evaluation": ["2024-07-03", "'hgb'"]}


def _data_available() -> bool:
    from workbook.synth import default_data_dir

    return (default_data_dir() / "transactions.parquet").exists()


def _with_answers(nb: nbformat.NotebookNode, answers: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(nb)
    tasks = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert len(tasks) == len(answers)
    for cell, code in zip(tasks, answers, strict=True):
        line = next(x for x in cell.source.split("\n") if x.strip() == PLACEHOLDER)
        cell.source = cell.source.replace(line, code)
    return nb


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every exercise executed three ways, as a trainee would: unanswered (the student version as
    handed out), with typical wrong answers, and answered (the instructor version, with strict
    claims: a claim about the default data that fails is an error)."""
    if not _data_available():
        if os.environ.get("CI") == "true":
            pytest.fail("The default data set is missing in CI; run `make data` first.")
        pytest.skip("default data set missing: run `make data`")
    folder = tmp_path_factory.mktemp("wrong")
    plan = []
    for stem in sorted(WRONG_ANSWERS):
        student = EXERCISES / "student" / f"{stem}.ipynb"
        wrong = folder / f"{stem}.ipynb"
        nbformat.write(_with_answers(nbformat.read(student, as_version=4), [c for c, _ in WRONG_ANSWERS[stem]]), wrong)
        plan += [(stem, "unanswered", student), (stem, "wrong", wrong),
                 (stem, "right", EXERCISES / "solutions" / f"{stem}.ipynb")]
    # One kernel for the trainee's versions (each notebook resets its own answers), in trainee mode
    # whatever the environment; one for the instructor versions, with strict claims: this is the
    # run of exercises/solutions under `make test` (nbval no longer runs them a second time).
    plan.sort(key=lambda step: step[1] == "right")
    trainee = [p for _, variant, p in plan if variant != "right"]
    instructor = [p for _, variant, p in plan if variant == "right"]
    executed = (exercises.execute(trainee, shared_kernel=True, timeout=300)
                + exercises.execute(instructor, shared_kernel=True, timeout=300, strict=True))
    return {(stem, variant): nb for (stem, variant, _), nb in zip(plan, executed, strict=True)}


def test_wrong_answers_cover_every_exercise():
    assert sorted(WRONG_ANSWERS) == [p.stem for p in SOURCES]
    for path in SOURCES:
        n_tasks = sum("solution" in c.metadata.get("tags", []) for c in nbformat.read(path, as_version=4).cells)
        assert len(WRONG_ANSWERS[path.stem]) == n_tasks, path.stem


def _texts(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        out.append(o.get("text", ""))
        out += [str(v) for v in o.get("data", {}).values()]
        out += [o.get("evalue", "")] + list(o.get("traceback", []))
    return "\n".join(out)


def _check_cells(nb):
    return [c for c in nb.cells if "check" in c.metadata.get("tags", [])]


@pytest.mark.parametrize("variant", ["unanswered", "wrong", "right"])
@pytest.mark.parametrize("stem", sorted(WRONG_ANSWERS))
def test_run_all_reaches_the_end_without_a_traceback(runs, stem, variant):
    nb = runs[stem, variant]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "Run All did not reach every cell"
    for i, cell in enumerate(code):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{stem} ({variant}), code cell {i}: {errors[0].ename}: {errors[0].evalue}"
        assert "Traceback" not in _texts(cell)
        stderr = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr")
        assert "Warning" not in stderr, f"{stem} ({variant}), code cell {i}: {stderr}"


@pytest.mark.parametrize("stem", sorted(WRONG_ANSWERS))
def test_unanswered_student_notebook_says_not_answered_at_every_check(runs, stem):
    nb = runs[stem, "unanswered"]
    res = check_results(nb)
    assert len(res) == len(WRONG_ANSWERS[stem])
    assert (res["status"] == "not_answered").all(), res
    for cell in _check_cells(nb):
        data = cell.outputs[-1]["data"]
        assert data["text/plain"].startswith("未作答 (not answered)")
        assert "未作答 (not answered)" in data["text/html"] and "提示 (hint)" in data["text/html"]


@pytest.mark.parametrize("stem", sorted(WRONG_ANSWERS))
def test_wrong_answers_get_a_hint_about_the_method_and_never_the_expected_value(runs, stem):
    nb = runs[stem, "wrong"]
    res = check_results(nb)
    assert (res["status"] == "failed").all(), res
    for (_, hint), message, cell in zip(WRONG_ANSWERS[stem], res["message"], _check_cells(nb), strict=True):
        assert message.startswith("✗ 不对 (wrong)") and "提示 (hint): " in message
        assert hint in message, message
        shown = _texts(cell)
        assert "应为" not in shown
        for value in NOT_REVEALED.get(stem, []):
            assert value not in shown, f"{stem}: the feedback reveals {value}"


@pytest.mark.parametrize("stem", sorted(WRONG_ANSWERS))
def test_right_answers_pass(runs, stem):
    res = check_results(runs[stem, "right"])
    assert (res["status"] == "passed").all(), res
    assert res["message"].str.startswith("✓ 通过 (passed)").all()


def test_check_results_reads_statuses_from_outputs():
    from workbook.checks import CheckResult

    def cell(outputs):
        c = new_code_cell("checks.check_x()", metadata={"tags": ["check"]})
        c.outputs = outputs
        return c

    def shown(result):
        data, metadata = result._repr_mimebundle_()
        return [new_output("execute_result", data, metadata=metadata, execution_count=1)]

    nb = new_notebook(cells=[
        new_markdown_cell("## 任务 1：A"),
        cell(shown(CheckResult("passed", "x", "x = 1"))),
        new_markdown_cell("## 任务 2：B"),
        cell(shown(CheckResult("not_answered", "x", "x 还是 None", "赋值给 x"))),
        cell(shown(CheckResult("failed", "x", "x = 2 不对", "h"))),
        cell(shown(CheckResult("error", "x", "检查没能读懂你的答案", "h"))),
        # Strict mode (make test) raises; a cell can also fail before its check runs.
        cell([new_output("error", ename="ExerciseCheckError", evalue="✗ 不对 (wrong): x\n提示 (hint): h", traceback=[])]),
        cell([new_output("error", ename="NameError", evalue="name 'x' is not defined", traceback=[])]),
        cell([]),
        new_code_cell("not a check"),
    ])
    res = check_results(nb)
    assert res["status"].tolist() == ["passed", "not_answered", "failed", "error", "failed", "error", "not_run"]
    assert res["task"].tolist() == ["任务 1：A"] + ["任务 2：B"] * 6
    assert res["message"].tolist()[:3] == [
        "✓ 通过 (passed) · x: x = 1",
        "未作答 (not answered) · x: x 还是 None\n提示 (hint): 赋值给 x",
        "✗ 不对 (wrong) · x: x = 2 不对\n提示 (hint): h",
    ]
    assert res["message"].iloc[5] == "NameError: name 'x' is not defined"


def test_student_cells_must_stay_valid_python():
    body_only = new_code_cell("def f(r):\n    ### BEGIN SOLUTION\n    return r\n    ### END SOLUTION")
    with pytest.raises(WorkbookInputError, match="04_x, cell 0: the student version is not valid Python"):
        build_notebook(new_notebook(cells=[body_only]), "student", "04_x")
    with_doc = new_code_cell('def f(r):\n    """doc"""\n    ### BEGIN SOLUTION\n    return r\n    ### END SOLUTION')
    assert build_notebook(new_notebook(cells=[with_doc]), "student", "04_x").cells[0].source.endswith(PLACEHOLDER)
    magic = new_code_cell("%matplotlib inline\nx = None\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
    assert build_notebook(new_notebook(cells=[magic]), "student", "05_x").cells[0].source.startswith("%matplotlib")


@pytest.mark.parametrize("path", sorted((EXERCISES / "student").glob("*.ipynb")), ids=lambda p: p.stem)
def test_student_tasks_hold_placeholders_not_exceptions(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "solution" not in cell.metadata.get("tags", []):
            continue
        assert "NotImplementedError" not in cell.source
        lines = cell.source.split("\n")
        # The placeholder comes last: nothing after it uses the still-unanswered variables.
        assert lines[-1].strip() == PLACEHOLDER, cell.source
        assert "= None" in cell.source or '"""' in cell.source, cell.source


def test_cli_grade_writes_the_csv_and_exits_1_unless_every_check_passed(tmp_path, capsys, monkeypatch):
    # Grading reports what the trainee saw, also when the caller runs in strict (test) mode.
    monkeypatch.setenv("WORKBOOK_STRICT_CLAIMS", "1")

    def notebook(x: str) -> Path:
        nb = new_notebook(cells=[
            new_markdown_cell("## 任务 1：x"),
            new_code_cell(f"from workbook import checks\nx = {x}"),
            new_code_cell("checks.check_number(x, 2, name='x')", metadata={"tags": ["check"]}),
            new_markdown_cell("## 任务 2：y"),
            new_code_cell("checks.check_number(2, 2, name='y')", metadata={"tags": ["check"]}),
        ])
        path = tmp_path / f"trainee_{x}.ipynb"
        nbformat.write(nb, path)
        return path

    csv = tmp_path / "grades.csv"
    assert main(["exercises", "grade", str(notebook("None")), str(notebook("3")), "--csv", str(csv)]) == 1
    table = pd.read_csv(csv, encoding="utf-8")
    assert list(table.columns) == ["notebook", "task", "status", "message"]
    assert table["status"].tolist() == ["not_answered", "passed", "failed", "passed"]
    assert table["task"].tolist() == ["任务 1：x", "任务 2：y"] * 2
    assert table["message"].iloc[2].startswith("✗ 不对 (wrong) · x: x = 3 不对 (wrong)\n提示 (hint): ")
    out = capsys.readouterr().out
    assert "passed: 2" in out and "not_answered: 1" in out and "failed: 1" in out
    assert main(["exercises", "grade", str(notebook("2"))]) == 0


def test_cells_run_out_of_order_get_a_note_not_a_traceback(tmp_path):
    # A trainee restarts the kernel and runs a check cell first: the variable is not defined yet.
    nb = new_notebook(cells=[
        new_code_cell("from workbook import checks\nchecks.setup()"),
        new_markdown_cell("## 任务 1：x"),
        new_code_cell("checks.check_number(x, 2, name='x')", metadata={"tags": ["check"]}),
        new_code_cell("from workbook.errors import WorkbookInputError\n"
                      "raise WorkbookInputError('RFM_BINS must be 2-10', message_zh='RFM_BINS 必须在 2 到 10 之间')"),
        new_code_cell("checks.setup()\nx = 2"),  # calling it twice keeps both behaviours
        new_code_cell("checks.check_number(x, 2, name='x')", metadata={"tags": ["check"]}),
    ])
    path = tmp_path / "out_of_order.ipynb"
    nbformat.write(nb, path)
    (done,) = exercises.execute(path, timeout=120)
    check, input_error = done.cells[2], done.cells[3]
    html = "".join(o["data"].get("text/html", "") for o in check.outputs)
    assert "先运行上面的格子" in html and "变量 x 还没有定义" in html and "检查拼写" in html
    # IPython shows no traceback for handled exceptions, not even a one-line one.
    assert not [o for o in check.outputs if o.output_type == "error"]
    assert "Traceback" not in nbformat.writes(done)
    html = "".join(o["data"].get("text/html", "") for o in input_error.outputs)
    assert "RFM_BINS 必须在 2 到 10 之间" in html  # the teaching set-up's handler is kept
    res = check_results(done)
    assert res["status"].tolist() == ["error", "passed"]
    assert "变量 x 还没有定义" in res["message"].iloc[0]


def test_strict_kernel_fails_a_wrong_solution_but_not_an_unanswered_task(tmp_path):
    # Under `make test` (nbval, WORKBOOK_STRICT_CLAIMS=1) an instructor solution that stops passing
    # its check must fail; an unanswered task must not (student notebooks Run All in any mode).
    nb = new_notebook(cells=[
        new_code_cell("from workbook import checks"),
        new_code_cell("checks.check_number(3, 2, name='x')", metadata={"tags": ["check"]}),
        new_code_cell("checks.check_number(None, 2, name='y')", metadata={"tags": ["check"]}),
    ])
    path = tmp_path / "strict.ipynb"
    nbformat.write(nb, path)
    (done,) = exercises.execute(path, timeout=120, strict=True)
    (error,) = [o for o in done.cells[1].outputs if o.output_type == "error"]
    assert error.ename == "ExerciseCheckError" and "x = 3 不对" in error.evalue
    assert not [o for o in done.cells[2].outputs if o.output_type == "error"]
    assert check_results(done)["status"].tolist() == ["failed", "not_answered"]


@pytest.mark.skipif(not ipc_possible(), reason="no Unix sockets here (Windows)")
@pytest.mark.parametrize("shared_kernel", [False, True], ids=["kernel-per-notebook", "shared-kernel"])
def test_grading_kernels_use_local_sockets_and_keep_their_log_out_of_the_terminal(tmp_path, capfd, shared_kernel):
    # A kernel's own log (here an error line it logs; under make test once an "Invalid Signature"
    # traceback) went to the grader's terminal; cell output still arrives in the notebook.
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(TRANSPORT_CELL),
        nbformat.v4.new_code_cell('get_ipython().kernel.log.error("Traceback (most recent call last): KERNEL-LOG")'),
    ])
    path = tmp_path / "kernel.ipynb"
    nbformat.write(nb, path)
    (done,) = exercises.execute(path, shared_kernel=shared_kernel)
    assert [o.get("text", "").strip() for o in done.cells[0].outputs] == ["ipc"]
    assert "KERNEL-LOG" not in capfd.readouterr().err
