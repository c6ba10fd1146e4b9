"""The instructor guide (exercises/README.zh.md and its English twin README.md): every command in
it works as written, run from a copy of the repository root with the project's virtualenv.

The copy's exercises/ folder holds two of the exercises (source, student and solutions of each),
so the rehearsal command ``grade exercises/solutions/*.ipynb`` runs exactly as written over
both of them; every exercise's solution is already executed (strict claims, every check
passing) by tests/test_exercises.py, and grading each again here cost 36-60 s.
``exercises build --check`` checks the repository's own exercises/ folder wherever it is run
(``workbook.exercises.default_exercises_dir``), so it still checks every exercise."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
GUIDES = [REPO / "exercises" / "README.zh.md", REPO / "exercises" / "README.md"]

#: Commands of the guide that this test does not run, and why.
NOT_RUN = {"make setup data": "a Makefile target: `make test` itself runs it before the tests"}


def guide_commands(path: Path) -> list[str]:
    """Command lines of the ```bash blocks of a guide, in order."""
    blocks = re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_chinese_guide_exists_and_both_guides_give_the_same_commands():
    zh, en = (guide_commands(p) for p in GUIDES)
    assert zh == en
    text = GUIDES[0].read_text(encoding="utf-8")
    # A Chinese body, not a translated title over English text.
    chinese = len(re.findall(r"[\u4e00-\u9fff]", text))
    latin = len(re.findall(r"[A-Za-z]", re.sub(r"`[^`]*`|```.*?```", "", text, flags=re.S)))
    assert chinese > latin, (chinese, latin)
    for heading in ("## 课前准备", "## 评分", "## 重置沙盘", "## 编写或修改练习", "## 学员看到什么"):
        assert heading in text


#: The exercises in the copy's exercises/ folder (two of the quickest to run).
REHEARSED = ("02_lifecycle_stages", "04_ab_test_power")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A working folder that looks like the repository root: .venv linked in, an exercises/
    folder with the source, student and instructor copies of the REHEARSED exercises, a
    submissions/ folder holding one handed-in (unanswered) student notebook."""
    if not (REPO / "datasets" / "transactions.parquet").exists():
        pytest.skip("default data set missing: run `make data`")
    root = tmp_path_factory.mktemp("repo_root")
    venv = Path(sys.prefix)  # the virtualenv running the tests: the project's .venv under `make test`
    assert (venv / "bin" / "workbook").exists(), f"no workbook command in {venv}/bin"
    (root / ".venv").symlink_to(venv, target_is_directory=True)
    for sub in ("source", "student", "solutions"):
        (root / "exercises" / sub).mkdir(parents=True)
        for stem in REHEARSED:
            shutil.copy(REPO / "exercises" / sub / f"{stem}.ipynb", root / "exercises" / sub)
    (root / "submissions").mkdir()
    shutil.copy(REPO / "exercises" / "student" / "04_ab_test_power.ipynb", root / "submissions")
    return root


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "WORKBOOK_STRICT_CLAIMS"}  # an instructor's shell
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_every_command_in_the_guide_works_as_written(root):
    commands = list(dict.fromkeys(guide_commands(GUIDES[0])))
    checked = {
        ".venv/bin/workbook exercises build --check": 0,
        ".venv/bin/workbook exercises grade exercises/solutions/*.ipynb --shared-kernel --csv grades.csv": 0,
        ".venv/bin/workbook exercises grade submissions/*.ipynb --csv grades.csv": 1,
        ".venv/bin/workbook generate --preset retail_chain --members 20000 --seed 7 --out datasets/": 0,
    }
    assert set(commands) == set(checked) | set(NOT_RUN), "a command in the guide has no test here"
    for command in commands:
        if command in NOT_RUN:
            continue
        done = _run(command, root)
        assert done.returncode == checked[command], f"{command}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stdout + done.stderr
        if "build --check" in command:
            assert "up to date" in done.stdout
        elif "grade exercises/solutions" in command:
            grades = pd.read_csv(root / "grades.csv", encoding="utf-8")
            assert list(grades.columns) == ["notebook", "task", "status", "message"]
            assert sorted(grades["notebook"].unique()) == [f"{stem}.ipynb" for stem in REHEARSED]
            assert len(grades) >= 2 * len(REHEARSED)
            assert (grades["status"] == "passed").all(), grades
        elif "grade submissions" in command:
            grades = pd.read_csv(root / "grades.csv", encoding="utf-8")
            assert (grades["notebook"] == "04_ab_test_power.ipynb").all()
            assert (grades["status"] == "not_answered").all(), grades
            assert "not_answered: 3" in done.stdout
        elif "generate" in command:
            # "the same seed gives byte-identical files": the regenerated data equal the committed copy.
            for name in ("transactions.parquet", "members.parquet"):
                assert (root / "datasets" / name).read_bytes() == (REPO / "datasets" / name).read_bytes(), name
