"""``workbook run``: execute a course notebook on the user's own data.

Each notebook has one cell tagged ``parameters`` (papermill's convention)::

    DATA_PATH = None      # your transactions export (CSV, Excel, Parquet)
    MAPPING_PATH = None   # YAML column mapping, see docs/mapping_example.yaml
    MEMBERS_PATH = None   # optional members export
    data = load_workbook_data(DATA_PATH, MAPPING_PATH, MEMBERS_PATH)

:func:`run_notebook` injects the user's paths (as absolute paths) after that
cell, executes the notebook with papermill and writes the executed copy to
``runs/<notebook>-<timestamp>.ipynb`` — never into the repository's
``notebooks/`` or ``exercises/`` folders, so store data cannot end up in git
(``runs/`` is git-ignored).

Command line::

    workbook run notebooks/03_maintenance.ipynb --data my_export.csv --mapping my_map.yaml
    workbook run notebooks/07_store_compass.ipynb --data my_export.csv --mapping my_map.yaml \
        --traffic door_counter.csv

or papermill directly::

    papermill notebooks/03_maintenance.ipynb runs/03.ipynb -p DATA_PATH my_export.csv

Before starting a kernel the runner checks the parameter names against the
``parameters`` cell (read with :mod:`ast`; a misspelt ``-p`` name is an
error, not a warning) and refuses user data for notebooks that assert
``DATA_PATH is None`` (the case studies generate their own scenario).
Papermill's own inspection of the cell is a line-based heuristic that cannot
read a line holding ``=`` twice (e.g. ``X = 1  # 1 = yes``); the course
notebooks avoid that, and the runner drops those heuristic warnings because it
has checked the names itself.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as _dt
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import nbformat

from workbook.errors import WorkbookInputError

__all__ = ["add_arguments", "run", "run_notebook", "parameter_names", "PROTECTED_DIRS",
           "DEFAULT_OUTPUT_DIR"]

#: Repository folders an executed notebook may never be written to.
PROTECTED_DIRS = ("notebooks", "exercises")
#: Default folder for executed copies (relative to the current directory).
DEFAULT_OUTPUT_DIR = Path("runs")


def _project_roots(notebook: Path) -> set[Path]:
    roots = set()
    for parent in notebook.resolve().parents:
        if (parent / ".git").exists() or (parent / "pyproject.toml").exists():
            roots.add(parent)
            break
    pkg_root = Path(__file__).resolve().parents[2]  # src/workbook/runner.py -> repo root
    if (pkg_root / "pyproject.toml").exists():
        roots.add(pkg_root)
    return roots


def _check_output(output: Path, notebook: Path) -> None:
    out = output.resolve()
    if out == notebook.resolve():
        raise WorkbookInputError(f"Refusing to overwrite the input notebook {str(notebook)!r}.")
    for root in _project_roots(notebook):
        for name in PROTECTED_DIRS:
            protected = root / name
            if out.is_relative_to(protected):
                raise WorkbookInputError(
                    f"Refusing to write the executed notebook to {str(output)!r}: it is inside "
                    f"the repository's {name}/ folder, where it could be committed with your "
                    f"store data. Use the default runs/ folder or a path outside {str(protected)!r}."
                )


def _check_parameters_cell(notebook: Path) -> nbformat.NotebookNode:
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as exc:  # invalid JSON, not a notebook
        raise WorkbookInputError(f"{str(notebook)!r} is not a readable notebook: {exc}") from exc
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise WorkbookInputError(
            f"{notebook.name} has no cell tagged 'parameters', so your data paths cannot be "
            "injected (papermill would run it on the default data). Tag the cell that sets "
            "DATA_PATH, MAPPING_PATH and MEMBERS_PATH with 'parameters'."
        )
    return nb


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:  # IPython magics or shell escapes: no static check possible
        return None


def parameter_names(nb: nbformat.NotebookNode) -> list[str] | None:
    """Names assigned in the notebook's first cell tagged ``parameters``.

    Unlike papermill's line-based inspection, comments holding ``=`` do not
    matter.  ``None`` if the cell is not plain Python (e.g. IPython magics).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> cell = nbformat.v4.new_code_cell("A = 1  # 1 = yes\\nB: int = 2\\nC = {\\n 'x': 1}")
    >>> cell.metadata["tags"] = ["parameters"]
    >>> nb.cells = [cell]
    >>> parameter_names(nb)
    ['A', 'B', 'C']
    """
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    tree = _parse(cell.source)
    if tree is None:
        return None
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        for t in targets:
            for n in ast.walk(t):
                if isinstance(n, ast.Name) and n.id not in names:
                    names.append(n.id)
    return names


def _refuses_user_data(nb: nbformat.NotebookNode) -> str | None:
    """Why a notebook refuses user data: metadata ``workbook.own_data_only`` or an ``assert DATA_PATH is None``."""
    reason = nb.metadata.get("workbook", {}).get("own_data_only")
    if reason:
        return str(reason).rstrip("。. ")
    for cell in nb.cells:
        if cell.cell_type != "code" or "DATA_PATH" not in cell.source:
            continue
        tree = _parse(cell.source)
        for node in ast.walk(tree) if tree is not None else ():
            if not isinstance(node, ast.Assert):
                continue
            for cmp in ast.walk(node.test):
                if (isinstance(cmp, ast.Compare) and isinstance(cmp.left, ast.Name)
                        and cmp.left.id == "DATA_PATH" and isinstance(cmp.ops[0], ast.Is)
                        and isinstance(cmp.comparators[0], ast.Constant)
                        and cmp.comparators[0].value is None):
                    msg = node.msg.value if isinstance(node.msg, ast.Constant) else ""
                    return str(msg).rstrip("。. ") or "it asserts DATA_PATH is None"
    return None


class _DropHeuristicWarnings(logging.Filter):
    """Drop papermill's parameter-inspection warnings (names are checked with ast instead)."""

    PATTERNS = ("Unable to parse line", "Passed unknown parameter")

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not any(p in msg for p in self.PATTERNS)


@contextlib.contextmanager
def _quiet_papermill_inspection():
    loggers = [logging.getLogger(n) for n in ("papermill", "papermill.translators")]
    filt = _DropHeuristicWarnings()
    for lg in loggers:
        lg.addFilter(filt)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(filt)


def _abs(path: str | Path | None, what: str) -> str | None:
    if path is None:
        return None
    p = Path(path).expanduser()
    if not p.exists():
        raise WorkbookInputError(f"{what} {str(path)!r} does not exist.")
    return str(p.resolve())


def run_notebook(
    notebook: str | Path,
    data: str | Path | None = None,
    mapping: str | Path | None = None,
    members: str | Path | None = None,
    output: str | Path | None = None,
    parameters: Mapping | None = None,
    kernel_name: str = "python3",
    *,
    traffic: str | Path | None = None,
    timeout_seconds: int | None = 1800,
    progress_bar: bool = False,
) -> Path:
    """Execute ``notebook`` with the user's data and return the executed copy's path.

    Parameters
    ----------
    notebook : path
        A notebook with a cell tagged ``parameters``.
    data, mapping, members : path, optional
        Injected as ``DATA_PATH``, ``MAPPING_PATH``, ``MEMBERS_PATH`` (absolute
        path strings, or ``None``).  The files must exist.
    output : path, optional
        Where to write the executed notebook; default
        ``runs/<notebook stem>-<YYYYmmdd-HHMMSS>.ipynb`` under the current
        directory.  Paths inside the repository's ``notebooks/`` or
        ``exercises/`` folders are refused.
    parameters : dict, optional
        Further parameters to inject (names as in the ``parameters`` cell;
        other names are refused).  Lists and dicts are injected as such.
    traffic : path, optional
        Door-counter export, injected as ``TRAFFIC_PATH`` (notebook 07); the
        notebook loads it with :func:`workbook.io.load_store_traffic`.
    kernel_name : str, default "python3"
    timeout_seconds : int, optional
        Per-cell time limit.
    progress_bar : bool, default False

    Returns
    -------
    Path
        The executed notebook.

    Raises
    ------
    WorkbookInputError
        Missing notebook or data file, no ``parameters`` cell, a parameter the
        cell does not define, user data for a notebook that only runs on its
        own synthetic scenario, forbidden output path, or an error in a
        notebook cell (the message names the cell and the error; the partly
        executed notebook is still written to ``output``).

    Examples
    --------
    >>> run_notebook("notebooks/03_maintenance.ipynb", data="my_export.csv",
    ...              mapping="my_map.yaml")  # doctest: +SKIP
    PosixPath('runs/03_maintenance-20240701-101500.ipynb')
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    nb_path = Path(notebook).expanduser()
    if not nb_path.is_file():
        raise WorkbookInputError(f"Notebook {str(notebook)!r} does not exist.")
    if nb_path.suffix != ".ipynb":
        raise WorkbookInputError(f"{str(notebook)!r} is not a .ipynb notebook.")
    params = {
        "DATA_PATH": _abs(data, "Data file"),
        "MAPPING_PATH": _abs(mapping, "Mapping file"),
        "MEMBERS_PATH": _abs(members, "Members file"),
        "TRAFFIC_PATH": _abs(traffic, "Traffic file"),
    }
    params.update(dict(parameters or {}))
    if output is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        output = DEFAULT_OUTPUT_DIR / f"{nb_path.stem}-{stamp}.ipynb"
        n = 1
        while output.exists():
            output = DEFAULT_OUTPUT_DIR / f"{nb_path.stem}-{stamp}-{n}.ipynb"
            n += 1
    output = Path(output).expanduser()
    if output.suffix != ".ipynb":
        raise WorkbookInputError(f"output {str(output)!r} must end in .ipynb.")
    _check_output(output, nb_path)
    nb = _check_parameters_cell(nb_path)
    given = [k for k in ("DATA_PATH", "MAPPING_PATH", "MEMBERS_PATH") if params[k] is not None]
    refusal = _refuses_user_data(nb) if given else None
    if refusal:
        raise WorkbookInputError(
            f"{nb_path.name} cannot run on your data: it uses its own synthetic scenario "
            f"({refusal}). Run it without --data/--mapping/--members (leave DATA_PATH None); "
            "the teaching notebooks 00-08 take your export."
        )
    names = parameter_names(nb)
    if names is not None:
        unknown = [k for k, v in params.items() if k not in names
                   and (v is not None or k in dict(parameters or {}))]
        if unknown:
            raise WorkbookInputError(
                f"{nb_path.name}'s parameters cell does not define {unknown}, so the value(s) "
                f"would not be used. Its parameters are {names}."
            )
        params = {k: v for k, v in params.items() if k in names}
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _quiet_papermill_inspection():
            pm.execute_notebook(
                str(nb_path), str(output), parameters=params, kernel_name=kernel_name,
                cwd=str(nb_path.resolve().parent), progress_bar=progress_bar,
                execution_timeout=timeout_seconds,
            )
    except PapermillExecutionError as exc:
        raise WorkbookInputError(
            f"{nb_path.name} failed in cell {exc.exec_count} with {exc.ename}: {exc.evalue}\n"
            f"The partly executed notebook is in {str(output)!r}."
        ) from exc
    return output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``workbook run`` arguments to ``parser``."""
    parser.add_argument("notebook", help="notebook to execute, e.g. notebooks/03_maintenance.ipynb")
    parser.add_argument("--data", help="your transactions export (.csv, .xlsx, .parquet)")
    parser.add_argument("--mapping", help="YAML column mapping (see docs/mapping_example.yaml)")
    parser.add_argument("--members", help="your members export (optional)")
    parser.add_argument("--traffic", help="door-counter export: store_id, date, visitors per "
                        "day (notebook 07; optional)")
    parser.add_argument("-o", "--output", help="executed notebook path (default runs/<name>-<time>.ipynb)")
    parser.add_argument(
        "-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
        help="extra parameter for the notebook (value parsed as YAML: 5, 0.1, true, text, "
             "[a, b] for a list)",
    )
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")


def run(args: argparse.Namespace) -> int:
    """Execute ``workbook run`` from parsed arguments; return the exit code."""
    import yaml

    extra = {name: yaml.safe_load(value) for name, value in args.parameter}
    if args.data is not None and not os.environ.get("WORKBOOK_PSEUDO_KEY") \
            and not os.environ.get("WORKBOOK_PSEUDO_KEY_FILE"):
        # Fail before starting a kernel when user data would need a pseudonymisation key.
        from workbook.privacy import Pseudonymiser

        Pseudonymiser.from_env()
    out = run_notebook(args.notebook, data=args.data, mapping=args.mapping, members=args.members,
                       output=args.output, parameters=extra, kernel_name=args.kernel,
                       traffic=getattr(args, "traffic", None))
    print(f"Executed notebook written to {out}")
    if args.data is not None:
        print("It contains results computed from your data: keep it out of git and share it "
              "only with people allowed to see that data.")
    return 0
