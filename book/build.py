"""Build the course book: a static HTML site of the teaching notebooks (``make book``).

    python book/build.py [--out build/book] [--jobs 2]

1. Every teaching notebook (``notebooks/*.ipynb``, found by listing, in name order) is
   executed once with nbclient, in ``--jobs`` kernels running side by side, in the
   trainee's mode (``WORKBOOK_STRICT_CLAIMS`` unset).  Each kernel runs notebook after
   notebook and is put back as fresh before each (:class:`ReusableKernel`), which saves
   the ~5 s of CPU a new kernel spends importing pandas, matplotlib and SciPy.  The
   executed copy is cached under ``<out>/executed/`` with a key made of the notebook,
   the package's source and the default data set, so the next build re-executes only
   what changed.
2. The pages are assembled under ``<out>/src``: a course map (index) generated from the
   notebooks' titles, the notebooks with every code cell folded (``hide-input``: a toggle
   shows the code), the exercises' student notebooks (instructions and blanks, never the
   solutions, not executed), the data dictionary (``datasets/README.md``) and the privacy
   page (``docs/privacy.md``).
3. Sphinx (MyST-NB, sphinx-book-theme; configuration in ``book/conf.py``) renders them to
   ``<out>/html``.  Everything it needs comes from the installed packages: nothing is
   fetched, and the site opens from the file system (``index.html``) without a server,
   search included.  The build fails if a page would load anything from the network.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
CONF_DIR = Path(__file__).resolve().parent
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CELL_TIMEOUT = 600  # s per cell: the slowest teaching notebook takes well under a minute
#: Bumped when the way notebooks are executed changes, so old cached copies are not reused.
CACHE_VERSION = "2"  # 2: reused kernels (ReusableKernel)
WIDGET_NOTE = (
    '<div class="book-widget-note">这里是一个交互控件（滑块、按钮）：在 JupyterLab 中运行本笔记本，'
    "或用 <code>make apps</code> 打开无代码小程序即可使用。<br>"
    "(An interactive widget: run this notebook in JupyterLab, or open the code-free apps with "
    "<code>make apps</code>.)</div>"
)
# Remote resources a page must not load (scripts, styles, fonts, images).
REMOTE_RESOURCE = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.I)


def teaching_notebooks() -> list[Path]:
    """The teaching notebooks, by listing (so notebooks added later appear), in name order."""
    return sorted(REPO.glob("notebooks/*.ipynb"))


def exercise_notebooks() -> list[Path]:
    """The exercises' student notebooks (the instructions; never the solutions)."""
    return sorted(REPO.glob("exercises/student/*.ipynb"))


def _digest_files(h, paths) -> None:
    for p in sorted(paths):
        h.update(str(p.relative_to(REPO)).encode())
        h.update(p.read_bytes())


def environment_digest() -> str:
    """What every notebook's outputs depend on besides itself: the package and the default data."""
    h = hashlib.sha256(CACHE_VERSION.encode())
    _digest_files(h, (REPO / "src" / "workbook").rglob("*.py"))
    _digest_files(h, (REPO / "datasets").glob("*.parquet"))
    return h.hexdigest()


# What a reused kernel must look like before each notebook: as a new kernel does.  The
# snapshot is taken once, right after start; the reset restores it before every run.
_SNAPSHOT = """
import os as _os, warnings as _w, matplotlib as _mpl, matplotlib.pyplot as _plt
# Load the inline backend now: loading it turns interactive mode on, and the snapshot below must
# have it on (a snapshot with interactive mode off would stop every later run's figures from
# being drawn or shown at all).
_plt.switch_backend(_mpl.rcParams["backend"])
{setup}
_w._workbook_fresh = (list(_w.filters), dict(_os.environ), _os.getcwd(), _mpl.rcParams.copy())
del _os, _w, _mpl, _plt
"""
# User namespace wiped, figures closed; warning filters and "already warned" registries (so a
# warning shown in one run is shown again in the next), kept aggregations (workbook.memo), pandas'
# options, the environment, the working directory and matplotlib's rcParams restored; a new history session
# (as %reset, plus the cell counter back to 1: the reset itself is not counted).  Last, the garbage
# is collected and what is left (modules, caches) frozen (gc.freeze): the garbage collector then no
# longer walks it, at every reset (each full collection cost ~0.2 s) and during the runs.
_RESET = """get_ipython().reset(new_session=True)
import gc as _gc, os as _os, sys as _s, warnings as _w, matplotlib as _mpl, matplotlib.pyplot as _plt
_plt.close("all")
_filters, _env, _cwd, _rc = _w._workbook_fresh
_w.filters[:] = _filters
_w._filters_mutated()
for _m in list(_s.modules.values()):
    if isinstance(getattr(_m, "__warningregistry__", None), dict):
        _m.__warningregistry__.clear()
if "workbook.memo" in _s.modules:
    _s.modules["workbook.memo"].clear()
if "pandas" in _s.modules:  # display options a notebook set (08 sets display.float_format)
    with _w.catch_warnings():
        _w.simplefilter("ignore")  # resetting pandas' deprecated options warns
        _s.modules["pandas"].reset_option("all")
_os.environ.clear()
_os.environ.update(_env)
_os.environ.update({env!r})
_os.chdir(_cwd)
_mpl.rcParams.update(_rc)
_gc.collect()
_gc.freeze()
del _gc, _os, _s, _w, _mpl, _plt, _filters, _env, _cwd, _rc, _m
"""


class ReusableKernel:
    """A python3 kernel that runs notebook after notebook, made as fresh as a new one before each.

    Starting a kernel and importing pandas, matplotlib, seaborn and SciPy costs about
    5 s of CPU.  :meth:`reset` before each run restores what a run can change (see
    ``_RESET``); ``km`` is the kernel manager nbclient or papermill execute in.  It
    hands out one client, kept connected while the kernel lives: a new client per run
    waits for the kernel again, and jupyter_client's wait ends only after IOPub has
    been quiet for 0.2 s.  Messages of one run cannot reach the next: nbclient and
    ``execute_interactive`` keep only the replies and outputs of the requests they sent.

    Parameters
    ----------
    cwd : path
        The kernel's working directory (restored before each run).
    env : dict
        The kernel's environment (restored before each run, then updated by ``reset(env)``).
    setup : str
        Code run once after the kernel started, before the snapshot (tests: draw figures
        without encoding PNGs).
    """

    def __init__(self, cwd, env: dict, setup: str = ""):
        from jupyter_client.blocking.client import BlockingKernelClient
        from workbook.kernel_sockets import LocalKernelManager

        class _Client(BlockingKernelClient):
            ready = False

            def start_channels(self, *args, **kw):
                if not self.channels_running:
                    super().start_channels(*args, **kw)

            def wait_for_ready(self, timeout=None):
                if self.ready and self.is_alive():
                    return
                super().wait_for_ready(timeout=timeout)
                self.ready = True

            def stop_channels(self):
                pass  # callers that stop it after a run: the kernel's next run still needs it

            def close(self):
                super().stop_channels()

        class _KernelManager(LocalKernelManager):
            kept = None

            def client(self, **kw):
                if self.kept is None:
                    self.kept = super().client(**kw)
                return self.kept

        self.km = _KernelManager(kernel_name="python3", client_factory=_Client)
        self.cwd, self.env, self.setup = str(cwd), dict(env), setup

    def _start(self) -> None:
        # History in memory: a reset starts a new history session, which would write to the
        # history.sqlite that every kernel on the machine shares (and may lock).
        self.km.start_kernel(cwd=self.cwd, stderr=subprocess.DEVNULL, env=self.env,
                             extra_arguments=["--HistoryManager.hist_file=:memory:"])
        self._run(_SNAPSHOT.replace("{setup}", self.setup))

    def _run(self, code: str) -> None:
        kc = self.km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        reply = kc.execute_interactive(code, store_history=False, timeout=120, output_hook=self._fail_on_output)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"resetting the kernel failed: {reply['content']}")

    @staticmethod
    def _fail_on_output(msg) -> None:
        if msg["msg_type"] in ("stream", "error", "display_data", "execute_result"):
            raise RuntimeError(f"resetting the kernel printed {msg['content']}")

    def reset(self, env: dict | None = None) -> None:
        """Make the kernel as fresh as a new one (starting it, or restarting it if a run killed it)."""
        if not self.km.has_kernel or not self.km.is_alive():
            self.shutdown()
            self._start()
        self._run(_RESET.replace("{env!r}", repr(dict(env or {}))))

    def shutdown(self) -> None:
        if self.km.kept is not None:
            self.km.kept.close()
            self.km.kept = None
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=True)


def _execute(kernel: ReusableKernel, src: str, dest: str, key: str) -> tuple[str, float, str | None]:
    """Run one notebook in ``kernel`` (reset first); write the executed copy."""
    from nbclient import NotebookClient

    from workbook.kernel_wait import bounded_channel_waits

    bounded_channel_waits()  # a reply that has arrived is read (workbook.kernel_wait)
    start = time.monotonic()
    path = Path(src)
    nb = nbformat.read(path, as_version=4)
    try:
        kernel.reset()
        NotebookClient(nb, km=kernel.km, timeout=CELL_TIMEOUT, kernel_name="python3").execute()
    except Exception as exc:  # noqa: BLE001 (reported with the notebook's name, build stops)
        return path.name, time.monotonic() - start, f"{type(exc).__name__}: {str(exc)[-2000:]}"
    nb.metadata.setdefault("workbook_book", {})["cache_key"] = key
    nbformat.write(nb, dest)
    return path.name, time.monotonic() - start, None


def execute_all(notebooks: list[Path], cache: Path, jobs: int, strict: bool = False) -> list[Path]:
    """Executed copies of ``notebooks`` (cached by content), in at most ``jobs`` kernels at once.

    ``strict``: claims about the default data raise (``WORKBOOK_STRICT_CLAIMS=1``), so a
    notebook whose claim fails stops the build; ``make test`` builds the book this way and
    it is then the check that every teaching notebook runs (nbval keeps the exercises).
    """
    cache.mkdir(parents=True, exist_ok=True)
    env_key = environment_digest() + ("strict" if strict else "")
    todo, out = [], []
    for nb in notebooks:
        key = hashlib.sha256((env_key + hashlib.sha256(nb.read_bytes()).hexdigest()).encode()).hexdigest()
        dest = cache / nb.name
        out.append(dest)
        if dest.exists():
            try:
                cached = json.loads(dest.read_text(encoding="utf-8"))
                if cached.get("metadata", {}).get("workbook_book", {}).get("cache_key") == key:
                    print(f"    {nb.name}: unchanged, executed copy reused", flush=True)
                    continue
            except (OSError, ValueError):
                pass
        todo.append((str(nb), str(dest), key))
    if todo:
        # The book shows what a trainee sees: a claim that fails is a note, not an error.
        env = {k: v for k, v in os.environ.items() if k != "WORKBOOK_STRICT_CLAIMS"}
        if strict:
            env["WORKBOOK_STRICT_CLAIMS"] = "1"
        jobs = max(1, min(jobs, len(todo)))
        print(f"==> Executing {len(todo)} notebook(s), {jobs} at a time", flush=True)
        waiting: queue.Queue = queue.Queue()
        for item in todo:
            waiting.put(item)
        failed: list[str] = []

        def worker() -> None:
            # The kernels do the work; a thread per kernel only waits for its replies.
            kernel = ReusableKernel(REPO / "notebooks", env)
            try:
                while True:
                    try:
                        item = waiting.get_nowait()
                    except queue.Empty:
                        return
                    name, seconds, error = _execute(kernel, *item)
                    print(f"    {name}: {seconds:.1f} s" + (" FAILED" if error else ""), flush=True)
                    if error:
                        failed.append(f"{name}: {error}")
            finally:
                kernel.shutdown()

        threads = [threading.Thread(target=worker) for _ in range(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failed:
            raise SystemExit("The book was not built: these notebooks stop with an error "
                             "(run them in JupyterLab to see where):\n" + "\n".join(sorted(failed)))
    return out


def _fold_code(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Fold every code cell (toggle to show) and replace live widgets by a note."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        if "hide-input" not in tags:
            tags.append("hide-input")
        outputs = []
        for o in cell.get("outputs", []):
            if WIDGET_MIME in o.get("data", {}):
                o = nbformat.v4.new_output("display_data", data={"text/html": WIDGET_NOTE,
                                                                  "text/plain": "(interactive widget)"})
            outputs.append(o)
        cell.outputs = outputs
    return nb


def course_map_questions() -> dict[str, str]:
    """The manager's question of each unit, from the course map of notebooks/00 (its one definition).

    Rows look like ``| 07b 目标制定与业绩达成 Store targets | question |``; the key is the
    unit's number (``"07b"``).
    """
    nb = nbformat.read(REPO / "notebooks" / "00_introduction.ipynb", as_version=4)
    questions = {}
    for cell in nb.cells:
        for line in cell.source.splitlines() if cell.cell_type == "markdown" else ():
            m = re.match(r"\|\s*(\d\d[a-z]?)\s[^|]*\|\s*([^|]+?)\s*\|\s*$", line)
            if m:
                questions[m.group(1)] = m.group(2).replace("（本笔记本）", "")
    return questions


def _title_and_question(nb: nbformat.NotebookNode) -> tuple[str, str]:
    """The first heading, and the first bold sentence of the opening cell (the manager's question)."""
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    title = next((ln.lstrip("#").strip() for ln in first.splitlines() if ln.startswith("#")), "")
    bold = re.search(r"\*\*(.+?)\*\*", first)
    return title, (bold.group(1).strip(" \"“”") if bold else "")


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _reference_page(src: Path, dest: Path, zh_title: str) -> None:
    """A Markdown page of the repository, with a Chinese title first when it has none."""
    text = src.read_text(encoding="utf-8")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# "):
            if not re.search(r"[\u4e00-\u9fff]", line):
                lines[i] = f"# {zh_title} ({line[2:].strip()})"
            break
    else:
        lines.insert(0, f"# {zh_title}")
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")


def assemble(src: Path, executed: list[Path], exercises: list[Path]) -> None:
    """Write the book's source pages under ``src`` (emptied first)."""
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    (src / "exercises").mkdir()
    (src / "reference").mkdir()
    rows = []
    questions = course_map_questions()
    for path in executed:
        nb = nbformat.read(path, as_version=4)
        nbformat.write(_fold_code(nb), src / "notebooks" / path.name)
        title, question = _title_and_question(nb)
        question = questions.get(path.name.split("_", 1)[0], question)
        rows.append(f"| {path.name[:3].rstrip('_')} | [{_table_cell(title)}](notebooks/{path.name}) "
                    f"| {_table_cell(question)} |")
    ex_rows = []
    for path in exercises:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:  # the student copy: blanks to fill in, no outputs
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(_fold_code(nb), src / "exercises" / path.name)
        title, question = _title_and_question(nb)
        ex_rows.append(f"| [{_table_cell(title)}](exercises/{path.name}) | {_table_cell(question)} |")
    _reference_page(REPO / "datasets" / "README.md", src / "reference" / "data_dictionary.md", "数据字典")
    _reference_page(REPO / "docs" / "privacy.md", src / "reference" / "privacy.md", "隐私")

    index = f"""# 会员生命周期管理实战课程 (Membership Lifecycle Workbook)

给店长、区域经理和运营经理的会员运营课程：每一章回答一个经营问题，图表和结论都来自
课程自带的合成零售数据（两万名会员、两年交易）。代码默认折叠，点 **“显示代码”** 可以展开；
想动手改参数，请用 JupyterLab（`make lab`）或无代码小程序（`make apps`）。

(A course on membership lifecycle management for store and regional managers. Each chapter answers
one business question with charts and conclusions computed on the bundled synthetic retail data.
Code is folded: click "显示代码 (show code)" to see it.)

## 课程地图 (Course map)

| 编号 | 章节 (chapter) | 店长的问题 (the manager's question) |
|---|---|---|
{chr(10).join(rows)}

## 练习 (Exercises)

练习的说明和待填空的代码（学员版，不含答案）；在 JupyterLab 中打开
`exercises/student/` 下的同名笔记本作答，每一步都有自动检查。

| 练习 (exercise) | 问题 (the question) |
|---|---|
{chr(10).join(ex_rows)}

## 参考 (Reference)

- [数据字典 (Data dictionary)](reference/data_dictionary.md)：合成数据集每张表、每一列的含义。
- [隐私 (Privacy)](reference/privacy.md)：用自己的数据时，会员号如何化名、哪些内容被遮盖。

```{{toctree}}
:caption: 课程 (Course)
:hidden:

{chr(10).join(f"notebooks/{p.stem}" for p in executed)}
```

```{{toctree}}
:caption: 练习 (Exercises)
:hidden:

{chr(10).join(f"exercises/{p.stem}" for p in exercises)}
```

```{{toctree}}
:caption: 参考 (Reference)
:hidden:

reference/data_dictionary
reference/privacy
```
"""
    (src / "index.md").write_text(index, encoding="utf-8")


def check_offline(html: Path) -> list[str]:
    """Pages that would load a script, style, font or image from the network."""
    bad = []
    for page in sorted(html.rglob("*.html")):
        for m in REMOTE_RESOURCE.finditer(page.read_text(encoding="utf-8", errors="replace")):
            bad.append(f"{page.relative_to(html)}: {m.group(0)[:120]}")
    for css in sorted(html.rglob("*.css")):
        for m in re.finditer(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", css.read_text(encoding="utf-8", errors="replace")):
            bad.append(f"{css.relative_to(html)}: {m.group(0)[:120]}")
    return bad


def build(out: Path, jobs: int = 2, strict: bool = False) -> Path:
    """Execute (or reuse), assemble and render the book; return the path of ``index.html``."""
    out = out.resolve()
    t0 = time.monotonic()
    executed = execute_all(teaching_notebooks(), out / "executed", jobs, strict)
    t1 = time.monotonic()
    assemble(out / "src", executed, exercise_notebooks())
    html = out / "html"
    print("==> Rendering the pages with Sphinx", flush=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-c", str(CONF_DIR),
           "-d", str(out / "doctrees"), str(out / "src"), str(html)]
    subprocess.run(cmd, check=True)
    bad = check_offline(html)
    if bad:
        raise SystemExit("The book would load resources from the network:\n" + "\n".join(bad[:20]))
    t2 = time.monotonic()
    print(f"==> Book built in {t2 - t0:.0f} s (executing {t1 - t0:.0f} s, rendering {t2 - t1:.0f} s)")
    return html / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "book",
                        help="output folder (default build/book; the site is <out>/html)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once (default 2)")
    parser.add_argument("--strict", action="store_true",
                        help="claims about the default data raise: a failing claim stops the build (tests)")
    args = parser.parse_args(argv)
    index = build(args.out, args.jobs, args.strict)
    print(f"==> Open {index} in a browser (no server needed; copy the whole html folder to hand it out).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
