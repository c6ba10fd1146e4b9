"""Benchmark: each teaching notebook on the default data, from kernel start to the end of Run All.

Issue 14's target: every notebook under 20 s.  Methods, each in its own process,
rounds in alternating order (see ``_harness.py``):

* one per notebook of ``notebooks/`` (named by its file stem): nbclient starts a
  ``python3`` kernel in ``notebooks/`` and runs every cell, as Run All does in
  JupyterLab (the parameters as committed: the course's synthetic data);
* ``kernel start`` (baseline): the same for a notebook of the two steps every
  teaching notebook begins with, ``setup()`` and ``load_workbook_data()`` of the
  default data: the floor under any notebook of the course.

The time includes the kernel's start and its imports; ``time / kernel start``
is what the notebook's own analyses add on top of that floor.  A notebook
whose cell fails is reported as failed (with the error's last line).

Usage::

    .venv/bin/python benchmarks/bench_notebooks.py                   # every notebook, 2 rounds
    .venv/bin/python benchmarks/bench_notebooks.py --notebooks 05_churn_management 06_cohorts_and_clv --rounds 3
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import best_seconds, child_main, compare, timed  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
BASELINE = "kernel start"
#: Under this many seconds each (issue 14).
TARGET_S = 20.0


def _baseline_notebook():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from workbook.io import load_workbook_data\nfrom workbook.notebook import setup\n\nsetup()"),
        nbformat.v4.new_code_cell("data = load_workbook_data(None)\nlen(data.transactions)"),
    ]
    return nb


def _execute(nb, folder: Path) -> dict:
    """Start a kernel in ``folder``, run every cell of ``nb``: the seconds from start to end, and the
    kernel's CPU seconds and peak memory (it is this process's only child, reaped at shutdown)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from workbook.kernel_sockets import LocalAsyncKernelManager  # as make lab's kernels: no TCP port to race for

    client = NotebookClient(nb, kernel_name="python3", timeout=600, kernel_manager_class=LocalAsyncKernelManager,
                            resources={"metadata": {"path": str(folder)}})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        _, secs, _ = timed(client.execute)
    except CellExecutionError as exc:
        return {"error": f"{exc.ename}: {exc.evalue}"}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    n_code = sum(cell.cell_type == "code" for cell in nb.cells)
    # ru_maxrss (KiB): the largest child so far; in a fresh process, the kernel's own peak
    return {"seconds": secs, "cpu_s": cpu, "peak_gib": after.ru_maxrss / 2**20, "result": f"{n_code} code cells"}


def _notebook_method(path: Path):
    def run(folder: Path) -> dict:
        import nbformat

        return _execute(nbformat.read(path, as_version=4), folder)

    return run


def _methods(stems: list[str] | None = None) -> dict:
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if stems:
        known = {p.stem: p for p in paths}
        unknown = [s for s in stems if s not in known]
        if unknown:
            raise SystemExit(f"unknown notebooks: {', '.join(unknown)}; known: {', '.join(known)}")
        paths = [known[s] for s in stems]
    methods = {BASELINE: lambda folder: _execute(_baseline_notebook(), folder)}
    methods.update({p.stem: _notebook_method(p) for p in paths})
    return methods


def main(argv: list[str] | None = None) -> str:
    argv = sys.argv[1:] if argv is None else argv
    if child_main(_methods(), argv):
        return ""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--notebooks", nargs="+", help="file stems, e.g. 05_churn_management (default: every notebook)")
    # two rounds: 19 notebooks take 2-3 minutes a round on 2 cores
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)  # smoke test only
    args = p.parse_args(argv)
    methods = _methods(args.notebooks)
    table, results = compare(
        __file__, methods, NOTEBOOKS, baselines=[BASELINE], rounds=args.rounds, in_process=args.in_process,
        title=f"bench_notebooks: {len(methods) - 1} teaching notebooks on the default data",
    )
    best = {name: best_seconds(rs) for name, rs in results.items() if name != BASELINE}
    slow = [name for name, secs in best.items() if secs is None or secs >= TARGET_S]
    verdict = (f"Over {TARGET_S:.0f} s (or failed) in every round: {', '.join(slow)}." if slow
               else f"Every notebook ran under {TARGET_S:.0f} s in its best round.")
    print(verdict, flush=True)
    return table + "\n\n" + verdict


if __name__ == "__main__":
    main()
