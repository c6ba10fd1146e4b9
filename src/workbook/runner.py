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

or papermill directly::

    papermill notebooks/03_maintenance.ipynb runs/03.ipynb -p DATA_PATH my_export.csv
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
from collections.abc import Mapping
from pathlib import Path

import nbformat

from workbook.errors import WorkbookInputError

__all__ = ["add_arguments", "run", "run_notebook", "PROTECTED_DIRS", "DEFAULT_OUTPUT_DIR"]

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


def _check_parameters_cell(notebook: Path) -> None:
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
        Further parameters to inject (names as in the ``parameters`` cell).
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
        Missing notebook or data file, no ``parameters`` cell, forbidden output
        path, or an error in a notebook cell (the message names the cell and the
        error; the partly executed notebook is still written to ``output``).

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
    _check_parameters_cell(nb_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
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
    parser.add_argument("-o", "--output", help="executed notebook path (default runs/<name>-<time>.ipynb)")
    parser.add_argument(
        "-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
        help="extra parameter for the notebook (value parsed as YAML: 5, 0.1, true, text)",
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
                       output=args.output, parameters=extra, kernel_name=args.kernel)
    print(f"Executed notebook written to {out}")
    if args.data is not None:
        print("It contains results computed from your data: keep it out of git and share it "
              "only with people allowed to see that data.")
    return 0
