"""Build the course book: a static HTML site of the teaching notebooks (``make book``).

    python book/build.py [--out build/book] [--jobs 2]

1. Every teaching notebook (``notebooks/*.ipynb``, found by listing, in name order) is
   executed once with nbclient, in ``--jobs`` parallel kernels, in the trainee's mode
   (``WORKBOOK_STRICT_CLAIMS`` unset).  The executed copy is cached under
   ``<out>/executed/`` with a key made of the notebook, the package's source and the
   default data set, so the next build re-executes only what changed.
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
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
CONF_DIR = Path(__file__).resolve().parent
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CELL_TIMEOUT = 600  # s per cell: the slowest teaching notebook takes well under a minute
#: Bumped when the way notebooks are executed changes, so old cached copies are not reused.
CACHE_VERSION = "1"
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


def _execute(src: str, dest: str, key: str) -> tuple[str, float, str | None]:
    """Run one notebook in a fresh kernel, in its own folder; write the executed copy."""
    from nbclient import NotebookClient

    start = time.monotonic()
    path = Path(src)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except Exception as exc:  # noqa: BLE001 (reported with the notebook's name, build stops)
        return path.name, time.monotonic() - start, f"{type(exc).__name__}: {str(exc)[-2000:]}"
    nb.metadata.setdefault("workbook_book", {})["cache_key"] = key
    nbformat.write(nb, dest)
    return path.name, time.monotonic() - start, None


def execute_all(notebooks: list[Path], cache: Path, jobs: int, strict: bool = False) -> list[Path]:
    """Executed copies of ``notebooks`` (cached by content), running at most ``jobs`` at once.

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
        if strict:
            os.environ["WORKBOOK_STRICT_CLAIMS"] = "1"
        else:
            os.environ.pop("WORKBOOK_STRICT_CLAIMS", None)
        print(f"==> Executing {len(todo)} notebook(s), {jobs} at a time", flush=True)
        failed = []
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            for name, seconds, error in pool.map(_execute, *zip(*todo, strict=True)):
                print(f"    {name}: {seconds:.1f} s" + (" FAILED" if error else ""), flush=True)
                if error:
                    failed.append(f"{name}: {error}")
        if failed:
            raise SystemExit("The book was not built: these notebooks stop with an error "
                             "(run them in JupyterLab to see where):\n" + "\n".join(failed))
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
