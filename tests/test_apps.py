"""Real-browser test of the code-free apps: ``workbook apps`` (Voilà) driven by headless Chromium.

The server is started as a manager would (``python -m workbook.cli apps --host 127.0.0.1
--port <free>``; as root too), with a private HOME, a pseudonymisation key in
``WORKBOOK_PSEUDO_KEY`` and the trainee's (lenient) claims.  Same browser set-up as
tests/test_browser.py (both use tests/_browser.py).

* Each app opens at the first try, shows its results (a chart or a table) and no error; one
  widget is changed as a manager would (slider with the arrow keys, or a drop-down); the
  results change and still no error is shown.  (Before :mod:`workbook.kernel_wait`, about
  one page in three stayed "Running ..." forever on 2 busy cores.)
* The RFM app receives a small messy export through its upload panel (GB18030, phone
  numbers as member ids, day/month-ambiguous dates, one amount that is not a number):
  the page shows the same message as :func:`workbook.io.load_workbook_data` raises;
  after choosing "day first" and "drop bad rows" it shows the validation report with the
  API's rows, recomputes on the upload, and no raw phone number appears anywhere.

Without Chromium, its driver, Selenium or Voilà the tests skip with the reason, except
under CI (``CI=true``), where they fail.  Screenshots go to ``$WORKBOOK_BROWSER_SCREENSHOTS``
or a pytest temporary directory.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from _browser import BrowserSession, browser_session

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
SERVER_START_TIMEOUT = 120  # s
PAGE_TIMEOUT = 300  # s: Voilà runs the app notebook (data load, model fit) before the page is complete
UPDATE_TIMEOUT = 120  # s: one recomputation after a widget change

# What a manager changes in each app: (kind, widget label prefix, option text for drop-downs).
CHANGES = {
    "03_rfm_care_lists": ("slider", "升级提醒差额", None),
    "05_churn_budget": ("slider", "预算", None),
    "07_store_compass": ("select", "柱状图指标", "atv"),  # an option is "<Chinese label> (atv)"
    "08_tier_design": ("slider", "银卡 门槛", None),
}
ERROR_MARKERS = ("Traceback", "请调整参数或数据", "出了意外的问题", "There was an error when executing")


class Apps(BrowserSession):
    """A ``workbook apps`` server and a Chromium session pointed at it."""

    log_name = "voila.log"
    # Voila streams the page while it runs the app: don't block in get(), poll for the results instead
    page_load_strategy = "none"

    def __init__(self, base: Path, shots: Path):
        super().__init__(base, shots)
        self.key = secrets.token_hex(32)

    def private_env(self, home: str) -> dict:
        env = super().private_env(home)
        for var in ("WORKBOOK_STRICT_CLAIMS", "WORKBOOK_PSEUDO_KEY_FILE"):
            env.pop(var, None)  # the trainee's claims; the key below, not the developer's
        env["WORKBOOK_PSEUDO_KEY"] = self.key
        env["JUPYTER_RUNTIME_DIR"] = str(self.base / "jupyter-runtime")
        return env

    def start_server(self) -> None:
        cmd = [sys.executable, "-m", "workbook.cli", "apps", "--host", "127.0.0.1", "--port", str(self.port)]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(cmd, cwd=self.base, env=self.private_env("server-home"),
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"workbook apps exited with code {self.proc.returncode}:\n{self.server_log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"workbook apps did not answer within {SERVER_START_TIMEOUT} s:\n{self.server_log()}")

    def connection_dir(self) -> Path:
        # Voilà keeps them in a folder of its own, named in its log.
        found = re.search(r"Storing connection files in (.+?)\.?$", self.server_log(10**6), re.MULTILINE)
        assert found, f"Voilà did not say where it keeps connection files:\n{self.server_log()}"
        return Path(found.group(1))

    def open_app(self, name: str) -> None:
        self.driver.get(f"{self.url}/voila/render/{name}.ipynb")
        self.wait_for(f"the {name} app to show its results", lambda: self.output_signature()[1] > 0, PAGE_TIMEOUT)

    def output_signature(self) -> tuple[str, int]:
        """(the app's output HTML, how many charts and tables it holds)."""
        return tuple(self.js(
            """
            const out = document.querySelector('.workbook-app-output');
            if (!out) return ['', 0];
            return [out.innerHTML, out.querySelectorAll('img, table').length];
            """
        ))

    def page_text(self) -> str:
        return self.js("return document.body.innerText;")

    def shown_errors(self) -> list[str]:
        text = self.page_text()
        found = [m for m in ERROR_MARKERS if m in text]
        found += self.js(
            "return Array.from(document.querySelectorAll('[data-mime-type*=\"stderr\"], .jp-RenderedText[data-mime-type=\"application/vnd.jupyter.stderr\"]'))"
            ".map(e => 'stderr: ' + e.innerText.slice(0, 500));"
        )
        return found

    def assert_no_errors(self, context: str) -> None:
        errors = self.shown_errors()
        assert not errors, f"{context} shows errors: {errors}; screenshot {self.screenshot('errors')}"

    def change(self, kind: str, label: str, option: str | None) -> str:
        """Change the widget whose label starts with ``label`` as a person would; return its new value."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import Select

        boxes = [b for b in self.driver.find_elements(By.CSS_SELECTOR, f".widget-{'slider' if kind == 'slider' else 'dropdown'}")
                 if b.find_element(By.CSS_SELECTOR, ".widget-label").text.strip().startswith(label)]
        assert boxes, f"no widget labelled {label!r}; screenshot {self.screenshot('no-widget')}"
        box = boxes[0]
        self.js("arguments[0].scrollIntoView({block: 'center'});", box)
        if kind == "slider":
            handle = box.find_element(By.CSS_SELECTOR, ".noUi-handle")
            before = box.find_element(By.CSS_SELECTOR, ".widget-readout").text
            self.js("arguments[0].focus();", handle)
            ActionChains(self.driver).send_keys(Keys.ARROW_RIGHT * 3).perform()
            return self.wait_for(f"slider {label} to move", lambda: (
                lambda r: r if r != before else None)(box.find_element(By.CSS_SELECTOR, ".widget-readout").text), 30)
        select = Select(box.find_element(By.CSS_SELECTOR, "select"))
        text = next(o.text for o in select.options if o.text.endswith(f"({option})"))
        select.select_by_visible_text(text)
        return text


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    voila = None if importlib.util.find_spec("voila") else "Voilà is not installed (pip install -e '.[apps]')"
    yield from browser_session(tmp_path_factory, Apps, "apps test", missing=voila)


def _synthetic_ids() -> set[str]:
    import pandas as pd

    return set(pd.read_parquet(REPO / "datasets" / "members.parquet", columns=["member_id"])["member_id"].astype(str))


@pytest.mark.parametrize("name", list(CHANGES))
def test_app_opens_and_recomputes_when_a_widget_changes(apps, name):
    apps.open_app(name)
    apps.screenshot(f"{name}-opened")
    apps.assert_no_errors(f"opening {name}")
    apps.assert_kernels_on_local_sockets()
    before = apps.output_signature()[0]
    kind, label, option = CHANGES[name]
    value = apps.change(kind, label, option)
    apps.wait_for(f"{name} to recompute after {label} -> {value}",
                  lambda: (lambda s: s[1] > 0 and s[0] != before)(apps.output_signature()), UPDATE_TIMEOUT)
    time.sleep(1)  # let the redraw settle before reading the page
    apps.screenshot(f"{name}-changed")
    apps.assert_no_errors(f"{name} after {label} -> {value}")
    tokens = set(re.findall(r"[A-Za-z0-9]{5,}", apps.page_text()))
    raw = tokens & _synthetic_ids()
    assert not raw, f"{name} shows raw member ids {sorted(raw)[:5]}; screenshot {apps.screenshot(f'{name}-raw-ids')}"


def messy_export(path: Path) -> list[str]:
    """A small POS export as a store sends it: GB18030, phone numbers as ids, dd/mm dates, one bad amount."""
    rng = np.random.default_rng(3)
    phones = [f"139{rng.integers(10**7, 10**8)}" for _ in range(15)]
    lines = ["会员卡号,交易时间,实付金额,门店编码,收银员"]
    for i in range(60):
        day, month = int(rng.integers(1, 13)), int(rng.integers(1, 13))  # both orders read every date
        amount = "abc" if i == 7 else f"¥{rng.integers(20, 900)}.50"
        lines.append(f"{phones[i % 15]},{day:02d}/{month:02d}/2024 1{i % 10}:15,{amount},S0{i % 3 + 1},张三")
    path.write_text("\n".join(lines) + "\n", encoding="gb18030")
    return phones


def _api_message(path: Path, key: str, **mapping_options) -> str:
    """What the Python API says about the file (same mapping the app suggests, same key)."""
    from workbook.errors import WorkbookInputError
    from workbook.io import load_workbook_data

    mapping = {"transactions": {"columns": {"会员卡号": "member_id", "交易时间": "timestamp",
                                            "实付金额": "amount", "门店编码": "store_id"}, **mapping_options}}
    old = os.environ.get("WORKBOOK_PSEUDO_KEY")
    os.environ["WORKBOOK_PSEUDO_KEY"] = key
    try:
        load_workbook_data(path, mapping=mapping, errors="raise", pseudonymise=True)
    except WorkbookInputError as exc:
        return exc.bilingual()
    finally:
        if old is None:
            os.environ.pop("WORKBOOK_PSEUDO_KEY", None)
        else:
            os.environ["WORKBOOK_PSEUDO_KEY"] = old
    raise AssertionError("the messy export loaded without a message")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_upload_of_a_messy_export_shows_the_api_messages_and_no_raw_ids(apps, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    export = tmp_path / "门店导出.csv"
    phones = messy_export(export)
    ambiguous = _api_message(export, apps.key)
    bad_amount = _api_message(export, apps.key, dayfirst=True)

    apps.open_app("03_rfm_care_lists")
    panel = apps.driver.find_element(By.CSS_SELECTOR, ".jupyter-widget-Collapse-header, .lm-AccordionPanel-title, .p-Collapse-header")
    panel.click()
    # The upload button opens a file input that is never in the page: put it there instead of
    # opening the system dialog, then choose the file in it as a person would in the dialog.
    apps.js(
        """
        const click = HTMLInputElement.prototype.click;
        HTMLInputElement.prototype.click = function () {
          if (this.type !== 'file') return click.call(this);
          this.style.display = 'block';
          this.classList.add('test-file-input');
          document.body.appendChild(this);
        };
        """
    )
    button = apps.wait_for("the upload button", lambda: [
        b for b in apps.driver.find_elements(By.CSS_SELECTOR, ".jupyter-widget-FileUpload, .widget-upload")
        if b.is_displayed()], 30)[0]
    button.click()
    file_input = apps.wait_for("the file input", lambda: apps.driver.find_elements(By.CSS_SELECTOR, "input.test-file-input"), 10)[0]
    file_input.send_keys(str(export))
    apps.wait_for("the column mapping to be suggested",
                  lambda: "会员卡号" in apps.page_text() and "实付金额" in apps.page_text(), 60)

    def load_and_read_report() -> str:
        button = [b for b in apps.driver.find_elements(By.CSS_SELECTOR, "button") if "读入并校验" in b.text][0]
        apps.js("arguments[0].scrollIntoView({block: 'center'});", button)
        apps.js("document.querySelector('.workbook-upload-report').setAttribute('data-seen', '');")
        apps.js("window.__before = document.querySelector('.workbook-upload-report').innerText;")
        button.click()
        return apps.wait_for("the validation report", lambda: apps.js(
            "const r = document.querySelector('.workbook-upload-report');"
            "return r.innerText.trim() && r.innerText !== window.__before ? r.innerText : null;"), UPDATE_TIMEOUT)

    # 1. auto date order: the loader refuses to guess day/month; the page says what the API says
    report = load_and_read_report()
    apps.screenshot("upload-ambiguous-dates")
    assert _squash(ambiguous) in _squash(report), f"page shows:\n{report}\nAPI says:\n{ambiguous}"

    # 2. day first, stop on problems: the bad amount, as the API reports it
    Select([b for b in apps.driver.find_elements(By.CSS_SELECTOR, ".widget-dropdown")
            if "日期顺序" in b.text][0].find_element(By.CSS_SELECTOR, "select")).select_by_index(1)
    report = load_and_read_report()
    apps.screenshot("upload-bad-amount")
    for line in bad_amount.splitlines():
        assert _squash(line) in _squash(report), f"page shows:\n{report}\nmissing API line:\n{line}"

    # 3. drop bad rows: loaded, the report lists the row, the app recomputes on the upload
    [b for b in apps.driver.find_elements(By.CSS_SELECTOR, "button") if "剔除坏行" in b.text][0].click()
    report = load_and_read_report()
    assert "读入成功" in report and "not_a_number" in report and "amount" in report, report
    apps.wait_for("the app to recompute on the upload", lambda: "你上传的导出" in apps.page_text(), UPDATE_TIMEOUT)
    apps.wait_for("the results of the upload", lambda: apps.output_signature()[1] > 0, UPDATE_TIMEOUT)
    time.sleep(1)
    apps.screenshot("upload-loaded")
    apps.assert_no_errors("the RFM app on the uploaded export")
    text = apps.page_text()
    shown = [p for p in phones if p in text or f"{p[:3]} {p[3:7]} {p[7:]}" in text]
    assert not shown, f"raw phone numbers on the page: {len(shown)}; screenshot {apps.screenshot('upload-raw-ids')}"
    assert "张三" not in text  # the unmapped cashier column is never read


def test_workbook_apps_options_and_friendly_errors(tmp_path, capsys):
    """No browser: the server's Voilà options, the token rule, and the messages before it starts."""
    from workbook.apps import APPS, _is_loopback, apps_dir, voila_argv
    from workbook.cli import main

    assert sorted(p.stem for p in apps_dir().glob("*.ipynb")) == sorted(APPS)
    argv = voila_argv(apps_dir(), "0.0.0.0", 8866, "t0ken")
    assert {"--no-browser", "--strip_sources=True", "--show_tracebacks=False", "--Voila.ip=0.0.0.0",
            "--port=8866", "--token=t0ken"} <= set(argv)
    assert "--Voila.token=" in voila_argv(apps_dir(), "127.0.0.1", 8866, None)
    assert _is_loopback("127.0.0.1") and _is_loopback("localhost") and not _is_loopback("0.0.0.0")
    assert main(["apps", "--dir", str(tmp_path)]) == 2  # no app notebooks there
    assert "app notebooks" in capsys.readouterr().err
    assert main(["apps", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
