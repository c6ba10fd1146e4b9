"""Committed notebooks carry no outputs, so store data cannot leak into git.

Executed copies belong in ``runs/`` (git-ignored); see docs/real_data.md for
nbstripout as a git filter.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "exercises")


def committed_notebooks() -> list[Path]:
    return sorted(
        p for folder in FOLDERS for p in (REPO / folder).rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )


def dirty_cells(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i} has {len(cell.outputs)} output(s)")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i} has execution_count {cell.execution_count}")
    return problems


def test_notebooks_exist():
    """Guards against the check below passing vacuously."""
    assert any((REPO / "notebooks").rglob("*.ipynb")), "no notebook under notebooks/"


@pytest.mark.parametrize("path", committed_notebooks(),
                         ids=lambda p: str(p.relative_to(REPO)))
def test_notebook_has_no_outputs(path):
    problems = dirty_cells(path)
    assert not problems, (
        f"{path.relative_to(REPO)}: {'; '.join(problems[:5])}. Clear outputs before committing "
        "(Jupyter: Edit > Clear Outputs of All Cells, or `nbstripout <file>`)."
    )


def test_checker_detects_outputs(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"},
                                           execution_count=3)]
    nb.cells = [nbformat.v4.new_markdown_cell("x"), cell, nbformat.v4.new_code_cell("pass")]
    p = tmp_path / "dirty.ipynb"
    nbformat.write(nb, p)
    assert dirty_cells(p) == ["cell 1 has 1 output(s)", "cell 1 has execution_count 3"]
