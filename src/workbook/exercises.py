"""Exercise notebooks: one source, a student version and an instructor version.

Each exercise is written once, in ``exercises/source/NN_name.ipynb``, with the
solution regions marked as in nbgrader:

* in code cells, lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
  (the markers on lines of their own, any indentation);
* optional hidden checks between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS`` (kept for the instructor, removed for students);
* in markdown cells, text between ``<!-- BEGIN SOLUTION -->`` and
  ``<!-- END SOLUTION -->`` (e.g. a model answer to a discussion question).

:func:`build` (``workbook exercises build``) writes

``exercises/student/NN_name.ipynb``
    solution lines replaced by one ``# YOUR CODE HERE`` comment at the
    marker's indentation (the answer variable's placeholder, ``answer = None``,
    stands before the region, so an unanswered task runs and its check says
    ``未作答``), markdown solutions replaced by an answer prompt, hidden tests
    removed, check cells (tag ``check``) locked against editing and deletion;
``exercises/solutions/NN_name.ipynb``
    the instructor version: the same notebook with the marker lines removed.

Both are written deterministically (no outputs, no execution counts, cell ids
derived from the notebook name and position, sorted JSON keys, no
timestamps), so building twice gives byte-identical files and
``workbook exercises build --check`` can verify that the committed built files
are up to date.

:func:`grade` (``workbook exercises grade``) executes a notebook and reports,
per check cell, whether the task passed, failed (with the hint), is not
answered yet, or raised another error: instructors see every trainee's
progress without reading the cells.  It reads the outcome each check leaves in
its output's metadata (:data:`workbook.checks.METADATA_KEY`).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import nbformat
import pandas as pd

from workbook.errors import WorkbookInputError

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
MD_BEGIN_SOLUTION = "<!-- BEGIN SOLUTION -->"
MD_END_SOLUTION = "<!-- END SOLUTION -->"

#: What replaces a code solution region in the student version (at the marker's indentation).
#: Only a comment: the placeholder value (``answer = None``) stands before the region, so Run
#: All on an unanswered notebook runs every cell and each check says 未作答 (not answered).
CODE_PLACEHOLDER = ("# YOUR CODE HERE：在这里写你的代码，然后运行下面的检查格 (write your code, then run the check)",)
#: What replaces a markdown solution region in the student version.
MARKDOWN_PLACEHOLDER = "*（请在这里写下你的答案 / write your answer here）*"

#: Cell tag of check cells (locked in the student version, reported by :func:`grade`).
CHECK_TAG = "check"
VERSIONS = ("student", "solution")
OUTPUT_DIRS = {"student": "student", "solution": "solutions"}

_KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
_LANGUAGE_INFO = {"name": "python"}


def default_exercises_dir() -> Path:
    """The repository's ``exercises/`` folder."""
    return Path(__file__).resolve().parents[2] / "exercises"


# --------------------------------------------------------------------------- text transforms


def _regions(lines: list[str], begin: str, end: str, where: str) -> list[tuple[int, int]]:
    """``(start, stop)`` line indices of each marked region, markers included."""
    out, start = [], None
    for i, line in enumerate(lines):
        text = line.strip()
        if text == begin:
            if start is not None:
                raise WorkbookInputError(
                    f"{where}: {begin!r} on line {i + 1} opens a region inside the one opened on line "
                    f"{start + 1}; close it with {end!r} first."
                )
            start = i
        elif text == end:
            if start is None:
                raise WorkbookInputError(f"{where}: {end!r} on line {i + 1} has no matching {begin!r}.")
            out.append((start, i))
            start = None
    if start is not None:
        raise WorkbookInputError(f"{where}: {begin!r} on line {start + 1} has no matching {end!r}.")
    return out


def _replace_regions(
    source: str, begin: str, end: str, replace: Callable[[list[str], str], list[str]], where: str
) -> str:
    lines = source.split("\n")
    regions = _regions(lines, begin, end, where)
    out, pos = [], 0
    for start, stop in regions:
        out.extend(lines[pos:start])
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        out.extend(replace(lines[start + 1 : stop], indent))
        pos = stop + 1
    out.extend(lines[pos:])
    return "\n".join(out)


def student_code(source: str, where: str = "cell") -> str:
    """Student version of a code cell: solutions become a placeholder, hidden tests vanish.

    Examples
    --------
    >>> src = "x = None\\n### BEGIN SOLUTION\\nx = 1 + 1\\n### END SOLUTION\\ncheck(x)"
    >>> print(student_code(src))
    x = None
    # YOUR CODE HERE：在这里写你的代码，然后运行下面的检查格 (write your code, then run the check)
    check(x)
    """
    src = _replace_regions(source, BEGIN_HIDDEN, END_HIDDEN, lambda body, indent: [], where)
    return _replace_regions(
        src, BEGIN_SOLUTION, END_SOLUTION, lambda body, indent: [indent + line for line in CODE_PLACEHOLDER], where
    )


def solution_code(source: str, where: str = "cell") -> str:
    """Instructor version of a code cell: the marker lines removed, everything else kept.

    Examples
    --------
    >>> print(solution_code("x = None\\n### BEGIN SOLUTION\\nx = 1 + 1\\n### END SOLUTION"))
    x = None
    x = 1 + 1
    """
    src = _replace_regions(source, BEGIN_HIDDEN, END_HIDDEN, lambda body, indent: body, where)
    return _replace_regions(src, BEGIN_SOLUTION, END_SOLUTION, lambda body, indent: body, where)


def student_markdown(source: str, where: str = "cell") -> str:
    """Student version of a markdown cell: each solution block becomes an answer prompt.

    Examples
    --------
    >>> print(student_markdown("问：为什么？\\n<!-- BEGIN SOLUTION -->\\n因为……\\n<!-- END SOLUTION -->"))
    问：为什么？
    *（请在这里写下你的答案 / write your answer here）*
    """
    return _replace_regions(
        source, MD_BEGIN_SOLUTION, MD_END_SOLUTION, lambda body, indent: [MARKDOWN_PLACEHOLDER], where
    )


def solution_markdown(source: str, where: str = "cell") -> str:
    """Instructor version of a markdown cell: the marker lines removed."""
    return _replace_regions(source, MD_BEGIN_SOLUTION, MD_END_SOLUTION, lambda body, indent: body, where)


# --------------------------------------------------------------------------- notebooks


def _require_valid_python(text: str, where: str) -> None:
    """The student version of a code cell must still run (e.g. no function left without a body)."""
    # IPython magics and shell escapes are not Python; blank them out, keeping line numbers.
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in text.split("\n"))
    try:
        compile(code, where, "exec")
    except SyntaxError as err:
        raise WorkbookInputError(
            f"{where}: the student version is not valid Python ({err.msg}, line {err.lineno}). A solution "
            "region that is a whole block (e.g. a function body) needs a line before the marker that stays, "
            "such as a docstring; put the answer placeholder (`answer = None`) before the region."
        ) from None


def _cell_id(stem: str, index: int) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "-", stem)[:48] or "cell"
    return f"{base}-{index:03d}"


def build_notebook(source: nbformat.NotebookNode, version: str, name: str = "exercise") -> nbformat.NotebookNode:
    """The student or instructor version of one source notebook (a new object).

    Parameters
    ----------
    source : NotebookNode
        The source notebook with solution markers.  Not modified.
    version : {"student", "solution"}
        Which version to build.
    name : str
        Notebook name (file stem), used for cell ids and in error messages.

    Returns
    -------
    NotebookNode
        nbformat 4.5 notebook without outputs or execution counts; cell ids
        ``<name>-000``, ``<name>-001``, ...; only the ``tags`` cell metadata
        is kept (plus ``editable``/``deletable`` false on student check cells).

    Raises
    ------
    WorkbookInputError
        Unbalanced or nested markers (naming the notebook, cell and line), a
        student cell that is not valid Python once its solution is removed, or
        an unknown version.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "n = None\\n### BEGIN SOLUTION\\nn = 3\\n### END SOLUTION")])
    >>> build_notebook(nb, "student", "demo").cells[0].source.splitlines()[1][:16]
    '# YOUR CODE HERE'
    >>> build_notebook(nb, "solution", "demo").cells[0].source
    'n = None\\nn = 3'
    """
    if version not in VERSIONS:
        raise WorkbookInputError(f"version={version!r} is not valid; choose one of {list(VERSIONS)}.")
    student = version == "student"
    cells = []
    for i, cell in enumerate(source.cells):
        where = f"{name}, cell {i}"
        text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        tags = sorted(set(cell.get("metadata", {}).get("tags", [])))
        metadata: dict = {"tags": tags} if tags else {}
        if cell.cell_type == "code":
            if MD_BEGIN_SOLUTION in text:
                raise WorkbookInputError(
                    f"{where}: {MD_BEGIN_SOLUTION!r} belongs in markdown cells; use {BEGIN_SOLUTION!r}."
                )
            text = student_code(text, where) if student else solution_code(text, where)
            _require_valid_python(text, where)
            if student and CHECK_TAG in tags:
                metadata.update(editable=False, deletable=False)
            new = nbformat.v4.new_code_cell(text, metadata=metadata)
        elif cell.cell_type == "markdown":
            text = student_markdown(text, where) if student else solution_markdown(text, where)
            new = nbformat.v4.new_markdown_cell(text, metadata=metadata)
        else:
            new = nbformat.v4.new_raw_cell(text, metadata=metadata)
        new["id"] = _cell_id(name, i)
        cells.append(new)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = {
        "kernelspec": dict(_KERNELSPEC),
        "language_info": dict(_LANGUAGE_INFO),
        "workbook_exercise": {
            "version": version,
            "source": f"exercises/source/{name}.ipynb",
            "generated_by": "workbook exercises build (do not edit by hand)",
        },
    }
    nbformat.validate(nb)
    return nb


def _dumps(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb, version=4).rstrip("\n") + "\n"


def source_notebooks(exercises_dir: str | Path | None = None) -> list[Path]:
    """The source notebooks ``<exercises_dir>/source/*.ipynb``, sorted by name."""
    folder = Path(exercises_dir or default_exercises_dir()) / "source"
    paths = sorted(p for p in folder.glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not paths:
        raise WorkbookInputError(f"No source notebooks in {folder}: expected files like 01_rfm.ipynb.")
    return paths


def render(exercises_dir: str | Path | None = None) -> dict[Path, str]:
    """Build every version of every source notebook in memory.

    Returns
    -------
    dict
        ``{relative path: file text}``, e.g. ``student/01_rfm.ipynb`` and
        ``solutions/01_rfm.ipynb``, relative to ``exercises_dir``.
    """
    out: dict[Path, str] = {}
    for path in source_notebooks(exercises_dir):
        src = nbformat.read(path, as_version=4)
        for version in VERSIONS:
            out[Path(OUTPUT_DIRS[version]) / path.name] = _dumps(build_notebook(src, version, path.stem))
    return out


def stale_files(exercises_dir: str | Path | None = None) -> list[Path]:
    """Built files that differ from a fresh build, are missing, or have no source."""
    root = Path(exercises_dir or default_exercises_dir())
    fresh = render(root)
    stale = [rel for rel, text in fresh.items()
             if not (root / rel).exists() or (root / rel).read_text(encoding="utf-8") != text]
    for sub in OUTPUT_DIRS.values():
        stale += [p.relative_to(root) for p in sorted((root / sub).glob("*.ipynb"))
                  if p.relative_to(root) not in fresh]
    return sorted(stale)


def build(exercises_dir: str | Path | None = None) -> list[Path]:
    """Write the student and instructor versions of every source notebook.

    Built notebooks whose source no longer exists are deleted.

    Parameters
    ----------
    exercises_dir : path, optional
        Folder holding ``source/``; default the repository's ``exercises/``.

    Returns
    -------
    list of Path
        The files written, sorted.

    Examples
    --------
    >>> import nbformat, tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "source").mkdir()
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION\\nx = 1\\n### END SOLUTION")])
    >>> nbformat.write(nb, root / "source" / "01_demo.ipynb")
    >>> [str(p.relative_to(root)) for p in build(root)]
    ['solutions/01_demo.ipynb', 'student/01_demo.ipynb']
    """
    root = Path(exercises_dir or default_exercises_dir())
    fresh = render(root)
    for sub in OUTPUT_DIRS.values():
        (root / sub).mkdir(parents=True, exist_ok=True)
        for old in (root / sub).glob("*.ipynb"):
            if old.relative_to(root) not in fresh:
                old.unlink()
    written = []
    for rel, text in sorted(fresh.items()):
        target = root / rel
        target.write_bytes(text.encode("utf-8"))
        written.append(target)
    return written


# --------------------------------------------------------------------------- grading


def _task_label(cells: list, index: int, number: int) -> str:
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.lstrip().startswith("#"):
                    return line.lstrip("# ").strip()
    return f"task {number}"


def _outcome(outputs: list) -> dict | None:
    """The outcome a check left in its output metadata, if any."""
    from workbook.checks import METADATA_KEY

    for out in outputs:
        found = out.get("metadata", {}).get(METADATA_KEY)
        if found:
            return dict(found)
    return None


def check_results(nb: nbformat.NotebookNode) -> pd.DataFrame:
    """Read the outcome of every check cell of an executed notebook.

    Returns
    -------
    DataFrame
        One row per check cell (tag ``check``), in order: ``task`` (the
        nearest markdown heading above it), ``status`` (``passed``,
        ``failed``, ``not_answered``, ``error`` or ``not_run``) and ``message``
        (what the trainee saw: the result line and, unless passed, the hint).

    Examples
    --------
    >>> import nbformat
    >>> from workbook.checks import check_number
    >>> cell = nbformat.v4.new_code_cell("check_number(x, 2)", metadata={"tags": ["check"]})
    >>> data, metadata = check_number(None, 2, name="x")._repr_mimebundle_()
    >>> cell.outputs = [nbformat.v4.new_output("execute_result", data, metadata=metadata, execution_count=1)]
    >>> check_results(nbformat.v4.new_notebook(cells=[cell]))[["task", "status"]].to_dict("records")
    [{'task': 'task 1', 'status': 'not_answered'}]
    """
    from workbook.checks import NOT_ANSWERED, CheckResult

    rows = []
    checks = [
        i for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and CHECK_TAG in c.get("metadata", {}).get("tags", [])
    ]
    for number, i in enumerate(checks, start=1):
        outputs = nb.cells[i].get("outputs", [])
        outcome = _outcome(outputs)
        errors = [o for o in outputs if o.get("output_type") == "error"]
        if outcome is not None:
            result = CheckResult(outcome.get("status", "error"), outcome.get("name", ""),
                                 outcome.get("message", ""), outcome.get("hint", ""))
            status, message = result.status, result.text()
        elif errors:  # strict mode, or the cell failed before the check ran (e.g. a NameError)
            err = errors[0]
            message = err.get("evalue", "")
            if err.get("ename") == "ExerciseCheckError":
                status = "not_answered" if NOT_ANSWERED in message else "failed"
            else:
                status, message = "error", f"{err.get('ename')}: {message}"
        else:
            text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
            status, message = "not_run", text.strip()
        rows.append({"task": _task_label(nb.cells, i, number), "status": status, "message": message})
    return pd.DataFrame(rows, columns=["task", "status", "message"])


def execute(
    paths: str | Path | Iterable[str | Path],
    *,
    timeout: int = 600,
    kernel_name: str = "python3",
    shared_kernel: bool = False,
    strict: bool = False,
) -> list[nbformat.NotebookNode]:
    """Run notebooks top to bottom, continuing after errors; the files are not modified.

    Parameters
    ----------
    paths : path or iterable of paths
        Notebooks to run.
    timeout : int
        Seconds allowed per cell.
    kernel_name : str
        Jupyter kernel.
    shared_kernel : bool, default False
        Run all notebooks one after the other in one kernel (started in the
        first notebook's folder), which saves the start-up and import time of
        a kernel per notebook.  Variables then carry over between notebooks,
        so use it only for notebooks that define everything they use (as the
        built exercise notebooks do); grading trainees' work uses a fresh
        kernel per notebook.
    strict : bool, default False
        Run the kernel with ``WORKBOOK_STRICT_CLAIMS=1`` (a wrong answer then
        raises, as under ``make test``); by default it is ``0``, so the
        notebooks behave as for a trainee whatever the caller's environment.

    Returns
    -------
    list of NotebookNode
        The executed notebooks, in order.
    """
    from nbclient import NotebookClient

    from workbook.kernel_sockets import LocalAsyncKernelManager, LocalKernelManager

    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise WorkbookInputError(f"Notebook(s) not found: {missing}.")
    if not paths:
        raise WorkbookInputError("No notebook to run.")
    from workbook.notebook import STRICT_ENV

    env = {**os.environ, STRICT_ENV: "1" if strict else "0"}
    km = None
    if shared_kernel:
        km = LocalKernelManager(kernel_name=kernel_name)
        km.start_kernel(cwd=str(paths[0].parent.resolve()), env=env, stderr=subprocess.DEVNULL)
    out = []
    try:
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(
                nb, km=km, kernel_manager_class=LocalAsyncKernelManager,
                timeout=timeout, kernel_name=kernel_name, allow_errors=True,
                resources={"metadata": {"path": str(path.parent.resolve())}},
            )
            # env and stderr reach only a kernel started here.  The kernel's own log lines (not the
            # cells' output, which arrives as messages) stay out of the grader's terminal, as in
            # `workbook run`: an instructor should not read tracebacks of kernel internals.
            client.execute(env=env, stderr=subprocess.DEVNULL)
            if km is not None and client.kc is not None:
                client.kc.stop_channels()  # the shared kernel lives on; its client does not
            out.append(nb)
    finally:
        if km is not None:
            km.shutdown_kernel(now=True)
    return out


def grade(
    paths: str | Path | Iterable[str | Path], *, timeout: int = 600, shared_kernel: bool = False
) -> pd.DataFrame:
    """Execute trainees' notebooks and report every check.

    Parameters
    ----------
    paths : path or iterable of paths
        Notebooks to grade (e.g. the files trainees handed in).
    timeout : int
        Seconds allowed per cell.
    shared_kernel : bool, default False
        See :func:`execute`; keep ``False`` for trainees' work.

    Returns
    -------
    DataFrame
        Columns ``notebook``, ``task``, ``status`` (``passed``, ``failed``,
        ``not_answered``, ``error``, ``not_run``) and ``message`` (the result
        line the trainee saw and, unless passed, the hint).  The kernels run in
        trainee mode (see :func:`execute`), whatever the caller's environment.
    """
    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    frames = []
    for path, nb in zip(paths, execute(paths, timeout=timeout, shared_kernel=shared_kernel), strict=True):
        res = check_results(nb)
        res.insert(0, "notebook", path.name)
        frames.append(res)
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``workbook exercises build [--dir D] [--check]`` and
    ``workbook exercises grade NB... [--csv F] [--timeout S] [--shared-kernel]``."""
    sub = parser.add_subparsers(dest="exercises_command", required=True)
    b = sub.add_parser("build", help="build student/ and solutions/ from source/")
    b.add_argument("--dir", default=None, help="exercises folder (default: the repository's exercises/)")
    b.add_argument("--check", action="store_true",
                   help="do not write; exit 1 if the built files differ from a fresh build")
    g = sub.add_parser("grade", help="execute notebooks and report each check")
    g.add_argument("notebooks", nargs="+", help="notebooks to grade")
    g.add_argument("--csv", default=None, help="also write the report to this CSV file")
    g.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    g.add_argument("--shared-kernel", action="store_true",
                   help="run all notebooks in one kernel (faster; for the instructor versions, not trainees' work)")


def run(args: argparse.Namespace) -> int:
    """Run the ``workbook exercises`` sub-command; returns the exit code."""
    if args.exercises_command == "build":
        root = Path(args.dir) if args.dir else default_exercises_dir()
        if args.check:
            stale = stale_files(root)
            for rel in stale:
                print(f"out of date: {root / rel}")
            if stale:
                print("Run `workbook exercises build` and commit the result.")
                return 1
            print(f"exercises in {root} are up to date.")
            return 0
        for path in build(root):
            print(f"wrote {path}")
        return 0
    report = grade(args.notebooks, timeout=args.timeout, shared_kernel=args.shared_kernel)
    shown = report.assign(message=report["message"].str.replace("\n", " / ", regex=False))
    with pd.option_context("display.max_colwidth", 160, "display.width", 250):
        print(shown.to_string(index=False))
    if args.csv:
        report.to_csv(args.csv, index=False, encoding="utf-8")
    counts = report["status"].value_counts()
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 0 if (report["status"] == "passed").all() else 1
