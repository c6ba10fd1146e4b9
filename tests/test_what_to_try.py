"""Every "动手试一试 (What to try)" suggestion of every teaching notebook runs to the end.

Suggestions are machine-readable in each notebook's metadata::

    "metadata": {"workbook": {
        "what_to_try": [{"title": "RFM_BINS 改成 3", "parameters": {"RFM_BINS": 3}}, ...],
        "variations": [{"parameters": {"SEED": 3}},
                       {"parameters": {"N_MEMBERS": 50}, "stops_with": ["N_MEMBERS", "至少"]}]}}

``what_to_try`` has one entry per numbered item of the notebook's 动手试一试
section, in order.  ``variations`` are further parameter changes a trainee
might make.  Each parameter set is executed once (papermill's parameter injection, nbclient), claims in
lenient mode (as a trainee runs it).  It must run to the end with no error and
no warning on stderr; a variation with ``stops_with`` must instead stop with a
friendly message (no Python traceback) that contains every listed text.

Test classes are generated per notebook so ``pytest-xdist --dist loadscope``
spreads notebooks over workers.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
SECTION = re.compile(r"^#+\s*动手试一试")


def _meta(path: Path) -> dict:
    return nbformat.read(path, as_version=4).metadata.get("workbook", {})


def _parameters(nb) -> dict:
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    names = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = ast.literal_eval(node.value)
    return names


def _numbered_items(nb) -> int:
    """Numbered list items in the 动手试一试 section (until the next heading)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for i, line in enumerate(lines):
            if SECTION.match(line):
                n = 0
                for rest in lines[i + 1:]:
                    if rest.startswith("#"):
                        break
                    n += bool(re.match(r"^\d+\.\s", rest))
                return n
    return 0


def _runs(path: Path) -> list[tuple[str, dict, list | None]]:
    meta = _meta(path)
    runs, seen = [], set()
    for kind in ("what_to_try", "variations"):
        for i, entry in enumerate(meta.get(kind, [])):
            params = entry.get("parameters", {})
            key = json.dumps(params, sort_keys=True)
            if key in seen or not params:
                continue  # the default run is nbval's; identical sets run once
            seen.add(key)
            runs.append((f"{kind}{i + 1}", params, entry.get("stops_with")))
    return runs


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_suggestions_match_the_text(path):
    """Metadata lists one entry per numbered suggestion; parameter names exist."""
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("workbook", {})
    items = _numbered_items(nb)
    assert items > 0, f"{path.name}: no numbered 动手试一试 section"
    assert len(meta.get("what_to_try", [])) == items, (
        f"{path.name}: the 动手试一试 section has {items} suggestions, metadata.workbook.what_to_try "
        f"has {len(meta.get('what_to_try', []))}"
    )
    known = set(_parameters(nb))
    for kind in ("what_to_try", "variations"):
        for entry in meta.get(kind, []):
            unknown = set(entry.get("parameters", {})) - known
            assert not unknown, f"{path.name} {kind}: {sorted(unknown)} not in the parameters cell"
    assert meta.get("variations"), f"{path.name}: add parameter variations (seeds, sizes, dates)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_bare_assert(path):
    """Claims go through workbook.notebook.claim: a trainee never sees an AssertionError."""
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            tree = ast.parse(cell.source.replace("%", "#"))  # line magics are not Python
            asserts = [n for n in ast.walk(tree) if isinstance(n, ast.Assert)]
            assert not asserts, f"{path.name} cell {i}: bare assert on line {asserts[0].lineno}"


# The runs share one kernel per test process (conftest.SharedKernel, reset before every
# run): starting a kernel and importing pandas, matplotlib, seaborn and SciPy is about
# half of a short run, and CI has 20 minutes on 2 cores.


def _execute(path: Path, params: dict, kernel):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from papermill.translators import translate_parameters

    kernel.reset()
    nb = nbformat.read(path, as_version=4)
    # As papermill does: the parameters go into a new cell right after the one tagged "parameters".
    where = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    injected = nbformat.v4.new_code_cell(translate_parameters("python3", "python", params, "Parameters"))
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(where + 1, injected)
    client = NotebookClient(nb, km=kernel.km, timeout=600, kernel_name="python3")
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = exc
    return nb, error


def _outputs(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _text(o) -> str:
    return str(o.get("text", "")) + "".join(str(v) for v in o.get("data", {}).values())


def _make_class(path: Path):
    runs = _runs(path)

    @pytest.mark.slow
    @pytest.mark.parametrize("params, stops_with", [(p, s) for _, p, s in runs],
                             ids=[name for name, _, _ in runs])
    def test_runs(self, params, stops_with, shared_kernel):
        nb, error = _execute(path, params, shared_kernel)
        outputs = _outputs(nb)
        shown = "\n".join(_text(o) for o in outputs)
        assert "Traceback" not in shown, f"{path.name} {params}: a traceback is shown"
        if stops_with:
            assert error is not None, f"{path.name} {params}: expected a friendly stop, it ran to the end"
            for text in stops_with:
                assert text in shown, f"{path.name} {params}: the message does not mention {text!r}"
            assert not [o for o in outputs if o.output_type == "error" and len(o.traceback) > 3], (
                f"{path.name} {params}: the stop shows a Python traceback"
            )
            return
        assert error is None, f"{path.name} {params}: {error.ename}: {error.evalue}"
        # The shared kernel draws each figure shown (conftest._SNAPSHOT): its output is "<Figure ...>".
        assert "<Figure size" in shown, f"{path.name} {params}: no figure was drawn"
        warnings = [_text(o) for o in outputs if o.get("name") == "stderr" and "Warning" in _text(o)]
        assert not warnings, f"{path.name} {params}: warning printed: {warnings[0][:300]}"

    return type(f"TestWhatToTry_{path.stem}", (), {"test_runs": test_runs})


for _path in NOTEBOOKS:
    if _runs(_path):
        _cls = _make_class(_path)
        globals()[_cls.__name__] = _cls


def test_the_shared_kernel_is_reset_between_runs(shared_kernel):
    """What one run changes in the shared kernel does not reach the next run."""
    def run(code: str, expressions: dict | None = None) -> dict:
        kc = shared_kernel.km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        shown = []
        reply = kc.execute_interactive(code, user_expressions=expressions or {}, timeout=120,
                                       output_hook=lambda msg: shown.append(msg["content"]))
        assert reply["content"]["status"] == "ok", reply["content"]
        values = {k: v["data"]["text/plain"] for k, v in reply["content"]["user_expressions"].items()}
        return {**values, "shown": repr(shown)}

    shared_kernel.reset()
    fresh = run("import os, warnings", {"cwd": "os.getcwd()", "filters": "repr(warnings.filters)"})
    run("""
import os, warnings, matplotlib, matplotlib.pyplot as plt
os.environ["WORKBOOK_LEFTOVER"] = "1"
os.chdir(os.path.dirname(os.getcwd()))
warnings.simplefilter("ignore")
matplotlib.rcParams["figure.figsize"] = (1.0, 1.0)
plt.figure()
leftover = 1
import pandas as pd
pd.set_option("display.float_format", "{:,.2f}".format)
from workbook.aggregate import member_summary
member_summary("datasets/transactions.parquet")  # the cwd is the repository now
""")
    shared_kernel.reset({"WORKBOOK_PSEUDO_KEY": "k"})
    after = run("import os, warnings, matplotlib, matplotlib.pyplot as plt\nplt.title('\u2f00')", {
        "env": "os.environ.get('WORKBOOK_LEFTOVER')", "key": "os.environ.get('WORKBOOK_PSEUDO_KEY')",
        "cwd": "os.getcwd()", "filters": "repr(warnings.filters)",
        "size": "tuple(matplotlib.rcParams['figure.figsize'])", "figures": "len(plt.get_fignums())",
        "leftover": "'leftover' in globals()", "strict": "os.environ.get('WORKBOOK_STRICT_CLAIMS')",
        "kept": "__import__('workbook.memo').memo.stats()['entries']",
        "float_format": "__import__('pandas').get_option('display.float_format')"})
    shown = after.pop("shown")
    assert after == {"env": "None", "key": "'k'", "cwd": fresh["cwd"], "filters": fresh["filters"],
                     "size": after["size"], "figures": "0", "leftover": "False", "strict": "'0'", "kept": "0",
                     "float_format": "None"}
    assert after["size"] != "(1.0, 1.0)"
    # the figure of the last run is drawn and shown (a glyph no font has warns, every run again)
    assert "<Figure size" in shown and "Glyph 12032" in shown, shown
    assert fresh["cwd"].endswith("notebooks'")
