"""Real-browser test: a trainee's JupyterLab session driven by headless Chromium.

JupyterLab is started by the test (free port, random token, ``--no-browser``,
``--allow-root`` when run as root) on a temporary copy of the notebooks, with its
settings, workspaces, runtime files, IPython profile and HOME (Chromium's too) in a
temporary directory, so nothing is written to the checkout or to the user's home.  Chromium (Debian
packages ``chromium`` and ``chromium-driver``) is driven with Selenium.

* Scenario A: open notebooks/08_tier_design.ipynb, Run > Run All Cells, wait for
  the kernel, assert that every code cell ran and no error is shown; move a slider
  of the tier sandbox with the keyboard, run the next cell, assert again that no
  error is shown and that the sandbox chart changed.
* Scenario B: open exercises/student/01_rfm_segments.ipynb, Run All, assert that
  Run All reached the last cell and no traceback is shown.

The kernel runs in the trainee's (lenient) mode: ``WORKBOOK_STRICT_CLAIMS`` is
removed from its environment, because this test checks what a trainee sees.

Without Chromium, its driver or Selenium the tests skip with the reason, except
under CI (``CI=true``), where they fail: ``.ci/run`` installs the packages.
Screenshots go to ``$WORKBOOK_BROWSER_SCREENSHOTS`` if set, otherwise to a
pytest temporary directory; the path is printed and named in failure messages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from _browser import BrowserSession, browser_session

# tests/test_book.py imports these three from here
from _browser import CHROMIUM_FLAGS  # noqa: F401
from _browser import missing_browser_tools as _missing_browser_tools  # noqa: F401
from _browser import which as _which  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]


def make_lab_kernel_options() -> list[str]:
    """The kernel options `make lab` gives JupyterLab (LAB_KERNELS in the Makefile), read from there
    so that this server starts its kernels exactly as a trainee's does."""
    found = re.search(r"^LAB_KERNELS\s*:=\s*(.+?)\s*$", (REPO / "Makefile").read_text(encoding="utf-8"), re.M)
    assert found, "the Makefile has no LAB_KERNELS line"
    return found.group(1).split()


TIER_NOTEBOOK = "notebooks/08_tier_design.ipynb"
EXERCISE_NOTEBOOK = "exercises/student/01_rfm_segments.ipynb"

SERVER_START_TIMEOUT = 120  # s: a cold JupyterLab start on a busy 2-core machine
RUN_ALL_TIMEOUT = 300  # s: 08 takes ~20-40 s in a kernel; allow for a loaded CI machine
CELL_TIMEOUT = 120  # s: one re-run of the sandbox simulation

# JupyterLab settings for the test session (JSON files in JUPYTERLAB_SETTINGS_DIR).
LAB_SETTINGS = {
    # never write outputs back into the (temporary copy of the) notebook behind our back
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    # keep every cell in the DOM, so off-screen cells and their outputs can be inspected
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # no "fetch Jupyter news?" toast over the notebook, no request to the internet
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


class Lab(BrowserSession):
    """A headless JupyterLab server and a Chromium session pointed at it."""

    log_name = "jupyterlab.log"

    def __init__(self, base: Path, shots: Path):
        super().__init__(base, shots)
        self.root = base / "root"
        self.token = uuid.uuid4().hex

    # ---------------------------------------------------------------- server
    def start_server(self) -> None:
        for rel in (TIER_NOTEBOOK, EXERCISE_NOTEBOOK):
            dest = self.root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dest)
        # notebooks may refer to ../datasets; the package finds the default data itself
        (self.root / "datasets").symlink_to(REPO / "datasets", target_is_directory=True)

        settings = self.base / "lab-settings"
        for plugin, values in LAB_SETTINGS.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")

        env = self.private_env("server-home")
        env.pop("WORKBOOK_STRICT_CLAIMS", None)  # the trainee's mode: claims are friendly notes
        env.update(
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.base / "lab-workspaces"),
            JUPYTER_CONFIG_DIR=str(self.base / "jupyter-config"),
            JUPYTER_RUNTIME_DIR=str(self.base / "jupyter-runtime"),
            JUPYTER_DATA_DIR=str(self.base / "jupyter-data"),  # notebook-signing key; kernels come from sys.prefix
            IPYTHONDIR=str(self.base / "ipython"),
            PYDEVD_DISABLE_FILE_VALIDATION="1",
        )
        cmd = [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: read output models, not just pixels
            *make_lab_kernel_options(),
        ]
        if hasattr(os, "getuid") and os.getuid() == 0:
            cmd.append("--allow-root")  # JupyterLab refuses to run as root without it
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT)

        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"JupyterLab exited with code {self.proc.returncode}:\n{self.server_log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"JupyterLab did not answer within {SERVER_START_TIMEOUT} s:\n{self.server_log()}")

    def open_notebook(self, rel: str) -> None:
        # ?reset: start from an empty workspace, so only this notebook is open
        self.driver.get(f"{self.url}/lab/tree/{rel}?reset&token={self.token}")
        name = Path(rel).name
        self.wait_for(
            f"notebook {name} to open",
            lambda: self.js(
                "const a = window.jupyterapp;"
                "const w = a && Array.from(a.shell.widgets('main')).find("
                "  x => x.context && x.context.path.endsWith(arguments[0]));"
                "return !!(w && w.content && w.content.widgets.length > 0);",
                name,
            ),
            timeout=120,
        )
        # Headless Chromium 150 starts without page focus, and JupyterLab's current notebook (the one
        # Run > Run All Cells acts on) follows focus: click into the notebook, as a trainee does.
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, ".jp-Notebook").click()
        self.wait_for(
            f"notebook {name} to be the current widget",
            lambda: self.js(
                "const w = window.jupyterapp.shell.currentWidget;"
                "return !!(w && w.context && w.context.path.endsWith(arguments[0]));",
                name,
            ),
            timeout=30,
        )
        self.wait_for("the kernel to start (status idle)", lambda: self.kernel_status() == "idle", timeout=120)

    def kernel_status(self) -> str | None:
        return self.js(
            "const w = window.jupyterapp.shell.currentWidget;"
            "const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
            "return k ? k.status : null;"
        )

    def menu(self, menu_label: str, entry_label: str) -> None:
        """Click a main-menu entry by its visible labels, as a trainee does: Run > Run All Cells."""
        from selenium.webdriver.common.by import By

        items = [
            el for el in self.driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item")
            if el.text.strip() == menu_label
        ]
        assert items, f"main menu {menu_label!r} not found; screenshot {self.screenshot('no-menu')}"
        items[0].click()
        entry = self.wait_for(
            f"menu entry {menu_label} > {entry_label}",
            lambda: [
                el for el in self.driver.find_elements(By.CSS_SELECTOR, "li.lm-Menu-item")
                if el.is_displayed() and el.find_element(By.CSS_SELECTOR, ".lm-Menu-itemLabel").text == entry_label
            ],
            timeout=10,
        )[0]
        entry.click()

    def cell_states(self) -> list[dict]:
        """Per cell: type, execution count, running flag, and a source excerpt."""
        return self.js(
            """
            const nb = window.jupyterapp.shell.currentWidget.content;
            return nb.widgets.map((c, i) => ({
              index: i,
              type: c.model.type,
              count: c.model.type === 'code' ? c.model.executionCount : null,
              running: c.node.querySelector('.jp-InputArea-prompt') ?
                       c.node.querySelector('.jp-InputArea-prompt').textContent.includes('*') : false,
              source: c.model.sharedModel.getSource().slice(0, 80),
            }));
            """
        )

    def wait_until_idle(self, what: str, timeout: float, done=lambda states: True) -> list[dict]:
        """Wait until no cell is running, the kernel is idle and ``done(states)``, 3 polls in a row."""
        stable = [0]

        def settled():
            states = self.cell_states()
            quiet = self.kernel_status() == "idle" and not any(s["running"] for s in states)
            stable[0] = stable[0] + 1 if quiet and done(states) else 0
            return states if stable[0] >= 3 else None

        return self.wait_for(what, settled, timeout=timeout)

    def assert_no_errors(self, context: str, shot: str) -> None:
        """Fail with every visible error, after scrolling the first one into the screenshot."""
        errors = self.shown_errors()
        if errors:
            self.js(
                "const c = window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]];"
                "if (c) c.node.scrollIntoView({block: 'start'});",
                errors[0][0],
            )
            time.sleep(0.5)
            raise AssertionError(
                f"{context} shows errors:\n" + "\n".join(text for _, text in errors)
                + f"\nscreenshot {self.screenshot(shot)}"
            )

    def shown_errors(self) -> list[list]:
        """[cell index, description] of every error a trainee can see.

        Error outputs in the cell models and tracebacks on screen.

        Covers the notebook's own outputs and the outputs inside ipywidgets Output
        areas (the tier sandbox draws its chart there).
        """
        found = self.js(
            r"""
            const nb = window.jupyterapp.shell.currentWidget.content;
            const out = [];
            nb.widgets.forEach((c, i) => {
              if (c.model.type !== 'code') return;
              for (let j = 0; j < c.model.outputs.length; j++) {
                const o = c.model.outputs.get(j).toJSON();
                if (o.output_type === 'error') {
                  out.push([i, `cell ${i}: error output ${o.ename}: ${o.evalue}`]);
                }
              }
            });
            nb.node.querySelectorAll('.jp-OutputArea-output').forEach(el => {
              const mime = el.getAttribute('data-mime-type') || '';
              const text = el.innerText || '';
              const cell = el.closest('.jp-Cell');
              const idx = cell ? Array.from(nb.node.querySelectorAll('.jp-Cell')).indexOf(cell) : -1;
              const traceback = /Traceback \(most recent call last\)/.test(text);
              const stderrError = mime.includes('stderr') && /\b\w*(Error|Exception)\b/.test(text);
              if (traceback || stderrError) {
                out.push([idx, `cell ${idx}: ${mime || 'output'} shows: ${text.slice(0, 1500)}`]);
              }
            });
            return out;
            """
        )
        return found

    def output_images(self, cell_index: int) -> list[str]:
        """The src (data: URL) of every <img> in a cell's outputs, widget outputs included."""
        return self.js(
            """
            const c = window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]];
            return Array.from(c.node.querySelectorAll('.jp-Cell-outputWrapper img')).map(i => i.src);
            """,
            cell_index,
        )


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    yield from browser_session(tmp_path_factory, Lab, "browser test")


def _describe(states: list[dict], lab: Lab, shot_name: str) -> str:
    never_ran = [s for s in states if s["type"] == "code" and s["count"] is None]
    lines = [f"  cell {s['index']}: {s['source']!r}" for s in never_ran[:5]]
    return (
        f"{len(never_ran)} code cell(s) never ran (Run All stopped before them):\n" + "\n".join(lines)
        + f"\nscreenshot {lab.screenshot(shot_name)}"
    )


def _run_all_and_check(lab: Lab, rel: str, shot_prefix: str) -> list[dict]:
    lab.open_notebook(rel)
    lab.screenshot(f"{shot_prefix}-opened")
    lab.menu("Run", "Run All Cells")
    # Run All has finished when the kernel is idle and no cell is running; a cell
    # that stops Run All leaves the later cells without an execution count.
    states = lab.wait_until_idle(
        f"Run All of {rel}",
        RUN_ALL_TIMEOUT,
        done=lambda states: any(s["count"] is not None for s in states if s["type"] == "code"),
    )
    lab.screenshot(f"{shot_prefix}-after-run-all")
    lab.assert_kernels_on_local_sockets()  # make lab's LAB_KERNELS, passed to this server
    lab.assert_no_errors(f"Run All of {rel}", f"{shot_prefix}-errors")
    code = [s for s in states if s["type"] == "code"]
    assert all(s["count"] is not None for s in code), f"Run All of {rel}: " + _describe(
        states, lab, f"{shot_prefix}-stopped"
    )
    return states


def test_tier_notebook_run_all_then_move_a_sandbox_slider(lab):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _run_all_and_check(lab, TIER_NOTEBOOK, "08")

    # The sandbox is the cell whose output holds the ipywidgets sliders.
    sandbox = lab.wait_for(
        "the tier sandbox sliders to render",
        lambda: lab.js(
            """
            const cells = window.jupyterapp.shell.currentWidget.content.widgets;
            const i = cells.findIndex(c => c.node.querySelector('.widget-slider .noUi-handle'));
            return i >= 0 ? i + 1 : 0;   // +1 so that cell 0 is truthy
            """
        ),
        timeout=60,
    ) - 1
    states = lab.cell_states()
    following = [s for s in states[sandbox + 1:] if s["type"] == "code"]
    assert following, "no code cell after the tier sandbox to run"
    next_cell = following[0]["index"]

    before = lab.output_images(sandbox) + lab.output_images(next_cell)
    assert before, (
        f"the tier sandbox (cell {sandbox}) shows no chart after Run All; "
        f"screenshot {lab.screenshot('08-sandbox-no-chart')}"
    )

    handle = lab.driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")[sandbox].find_element(
        By.CSS_SELECTOR, ".widget-slider .noUi-handle"
    )
    lab.js("arguments[0].scrollIntoView({block: 'center'});", handle)
    label = lab.js("return arguments[0].closest('.widget-slider').querySelector('.widget-label').textContent;", handle)
    readout_before = lab.js(
        "return arguments[0].closest('.widget-slider').querySelector('.widget-readout').textContent;", handle
    )
    lab.screenshot("08-sandbox-before-slider")
    lab.js("arguments[0].focus();", handle)
    # A trainee drags or uses the arrow keys; each key press is one slider step and
    # (continuous_update=False) one re-run of the simulation.
    ActionChains(lab.driver).send_keys(Keys.ARROW_RIGHT * 5).perform()
    readout_after = lab.wait_for(
        "the slider readout to change after the arrow keys",
        lambda: (lambda r: r if r != readout_before else None)(
            lab.js(
                "return arguments[0].closest('.widget-slider').querySelector('.widget-readout').textContent;",
                handle,
            )
        ),
        timeout=30,
    )
    lab.wait_until_idle("the sandbox to re-run after moving the slider", CELL_TIMEOUT)
    lab.screenshot("08-sandbox-after-slider")
    lab.assert_no_errors(f"moving slider {label!r} from {readout_before} to {readout_after}", "08-slider-errors")

    # Run the next cell as a trainee would: select it, Run > Run Selected Cell.
    count_before = lab.cell_states()[next_cell]["count"]
    prompt = lab.driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")[next_cell].find_element(
        By.CSS_SELECTOR, ".jp-InputPrompt"
    )
    lab.js("arguments[0].scrollIntoView({block: 'center'});", prompt)
    prompt.click()
    lab.wait_for(
        f"cell {next_cell} to be the active cell",
        lambda: lab.js("return window.jupyterapp.shell.currentWidget.content.activeCellIndex;") == next_cell,
        timeout=10,
    )
    lab.menu("Run", "Run Selected Cell and Do not Advance")
    lab.wait_until_idle(
        f"cell {next_cell} (after the sandbox) to run",
        CELL_TIMEOUT,
        done=lambda states: states[next_cell]["count"] not in (None, count_before),
    )
    lab.screenshot("08-after-next-cell")
    lab.assert_no_errors(
        f"after moving slider {label!r} from {readout_before} to {readout_after}, running the next cell "
        f"(cell {next_cell}: {states[next_cell]['source']!r})",
        "08-next-cell-errors",
    )
    after = lab.output_images(sandbox) + lab.output_images(next_cell)
    assert after, f"the chart disappeared after moving the slider; screenshot {lab.screenshot('08-no-chart')}"
    assert after != before, (
        f"moving slider {label!r} from {readout_before} to {readout_after} and running the next cell "
        f"did not change the chart; screenshot {lab.screenshot('08-chart-unchanged')}"
    )


def test_student_exercise_run_all_shows_no_traceback(lab):
    _run_all_and_check(lab, EXERCISE_NOTEBOOK, "ex01")
