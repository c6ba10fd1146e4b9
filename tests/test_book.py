"""The course book (``make book``): it builds offline, and every notebook page is there, with its figures.

One build per test session (module fixture) into a temporary folder, with the
network blocked (``HTTP(S)_PROXY`` pointing at a closed port: a build step that
fetched a theme or template would fail).  Notebooks are executed once, two at a
time; executed copies left by an earlier ``make book`` (``build/book/executed``,
keyed by the notebook, the package source and the default data) are reused, so
only notebooks that changed run again.

The search check opens the built site from ``file://`` in headless Chromium, as an
instructor handing the book out on a USB stick would; it skips without Chromium,
except under CI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import book_build  # book/build.py, loaded by path

pytestmark = [pytest.mark.book, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT = 900  # s: twelve notebooks on a busy 2-core machine, then Sphinx


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    # The book build is also where every teaching notebook is executed under `make test`
    # (strict claims, see book/build.py), so it must not be skipped for want of Sphinx.
    assert importlib.util.find_spec("sphinx_book_theme"), "the book extra is not installed: pip install -e '.[test]'"
    strict = ["--strict"] if os.environ.get("WORKBOOK_STRICT_CLAIMS") == "1" else []
    out = tmp_path_factory.mktemp("book")
    cached = REPO / "build" / "book" / "executed"
    if cached.is_dir():  # reuse what `make book` executed (the build checks each copy's key)
        shutil.copytree(cached, out / "executed")
    env = dict(os.environ, HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9", NO_PROXY="", no_proxy="")
    start = time.monotonic()
    jobs = os.environ.get("WORKBOOK_BOOK_JOBS", "2")  # notebooks executed at once (CI: 2 cores)
    proc = subprocess.run([sys.executable, str(REPO / "book" / "build.py"), "--out", str(out), "--jobs", jobs, *strict],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    print(f"book build: {time.monotonic() - start:.0f} s\n{proc.stdout[-3000:]}")
    assert proc.returncode == 0, f"the book did not build:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return out


class _Page(HTMLParser):
    """Images inside cell outputs, folded code inputs, and the page's visible text."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.output_images = 0
        self.folded_inputs = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class") or ""
        if tag == "img" and any("cell_output" in c for c in self.stack):
            self.output_images += 1
        if tag == "details" and "above-input" in cls:
            self.folded_inputs += 1
        if tag not in ("img", "br", "hr", "meta", "link", "input"):
            self.stack.append(cls)

    def handle_endtag(self, tag):
        if tag not in ("img", "br", "hr", "meta", "link", "input") and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _page(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _images_in(nb) -> int:
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {}))


@pytest.mark.parametrize("notebook", [p.name for p in book_build.teaching_notebooks()])
def test_every_notebook_page_has_its_figures_and_no_error(book, notebook):
    executed = nbformat.read(book / "executed" / notebook, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, f"{notebook} has error outputs: {[e.get('ename') for e in errors]}"
    page = book / "html" / "notebooks" / (Path(notebook).stem + ".html")
    assert page.exists(), f"no page for {notebook}"
    parsed = _page(page)
    text = "".join(parsed.text)
    assert "Traceback (most recent call last)" not in text, f"{page.name} shows a traceback"
    expected = _images_in(executed)
    assert expected > 0, f"{notebook} drew no figure"
    assert parsed.output_images == expected, f"{page.name} shows {parsed.output_images} of {expected} figures"
    code_cells = sum(c.cell_type == "code" for c in executed.cells)
    assert parsed.folded_inputs == code_cells, f"{page.name}: {parsed.folded_inputs} of {code_cells} code cells folded"
    title = next(ln for c in executed.cells if c.cell_type == "markdown" for ln in c.source.splitlines()
                 if ln.startswith("# "))
    assert title[2:].strip() in text


def test_course_map_exercises_and_reference_pages(book):
    html = book / "html"
    index = "".join(_page(html / "index.html").text)
    assert "课程地图" in index
    # each unit's manager's question comes from the course map of notebook 00
    questions = book_build.course_map_questions()
    assert {"00", "07b", "12"} <= set(questions)
    for unit in ("03", "07b", "12"):
        assert questions[unit] in index, unit
    for nb in book_build.teaching_notebooks():
        assert f'href="notebooks/{nb.stem}.html"' in (html / "index.html").read_text(encoding="utf-8"), nb.name
    students = book_build.exercise_notebooks()
    assert students, "no student exercise notebooks found"
    for nb in students:
        page = html / "exercises" / f"{nb.stem}.html"
        assert page.exists(), f"no page for the exercise {nb.name}"
        source = nbformat.read(nb, as_version=4)
        first = next(c.source for c in source.cells if c.cell_type == "markdown").splitlines()[0].lstrip("# ")
        assert first in "".join(_page(page).text)
    # the solutions are never in the book: their code differs from the student blanks
    for sol in sorted((REPO / "exercises" / "solutions").glob("*.ipynb")):
        solution_code = [c.source for c in nbformat.read(sol, as_version=4).cells
                         if c.cell_type == "code" and "___" not in c.source and c.source.strip()]
        student = nbformat.read(REPO / "exercises" / "student" / sol.name, as_version=4)
        student_code = {c.source for c in student.cells if c.cell_type == "code"}
        leaked = [s for s in solution_code if s not in student_code]
        page = (html / "exercises" / f"{sol.stem}.html").read_text(encoding="utf-8")
        for code in leaked:
            first_line = next((ln for ln in code.splitlines() if len(ln.strip()) > 20), None)
            if first_line:
                assert _escape(first_line.strip()) not in page, f"solution code of {sol.name} is in the book"
    assert "数据字典" in "".join(_page(html / "reference" / "data_dictionary.html").text)
    privacy = "".join(_page(html / "reference" / "privacy.html").text)
    assert "化名" in privacy and "Pseudonymiser" in privacy


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def test_the_site_needs_no_network_and_names_a_cjk_font(book):
    html = book / "html"
    assert book_build.check_offline(html) == []
    css = (html / "_static" / "cjk.css").read_text(encoding="utf-8")
    assert re.search(r"--pst-font-family-base:[^;]*(Noto Sans CJK SC|WenQuanYi Micro Hei|Microsoft YaHei)", css)
    page = (html / "notebooks" / "03_maintenance.html").read_text(encoding="utf-8")
    assert "_static/cjk.css" in page and '<html lang="zh-CN"' in page


def test_search_works_from_the_file_system(book):
    """The search page finds Chinese words with no server (file://), in a real browser."""
    index = (book / "html" / "searchindex.js").read_text(encoding="utf-8")
    terms = json.loads(index[index.index("(") + 1: index.rindex(")")])["terms"]
    assert "会员" in terms and "流失" in terms, "Chinese words are missing from the search index"

    from test_browser import CHROMIUM_FLAGS, _missing_browser_tools, _which

    reason = _missing_browser_tools()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"The book's search test must run in CI but {reason}.")
        pytest.skip(f"search check in a browser skipped: {reason}")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = _which("chromium")
    for flag in (*CHROMIUM_FLAGS, "--proxy-server=http://127.0.0.1:9"):  # no network for the page either
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={book / 'chromium-profile'}")
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=_which("chromedriver")))
    try:
        driver.get((book / "html" / "search.html").as_uri() + "?q=%E6%B5%81%E5%A4%B1")  # 流失 (churn)
        deadline, hits = time.monotonic() + 60, []
        while time.monotonic() < deadline and not hits:
            hits = driver.execute_script(
                "return Array.from(document.querySelectorAll('#search-results li a')).map(a => a.textContent);")
            time.sleep(0.5)
        driver.save_screenshot(str(book / "search.png"))
        assert any("流失管理" in h for h in hits), f"searching 流失 from file:// found {hits}; see {book / 'search.png'}"
    finally:
        driver.quit()
