"""Shared set-up of the real-browser tests (tests/test_browser.py: JupyterLab; tests/test_apps.py: Voilà).

A :class:`BrowserSession` is one server started by the test plus a headless Chromium
session (Selenium) pointed at it, with HOME, caches and the browser profile in a
temporary directory; :func:`browser_session` is the body of their module-scoped
fixtures: it skips (or, under CI, fails) when Chromium, its driver or Selenium is
missing, starts the session and always stops it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Flags that work headless in containers: no GPU, no sandbox (root), no network side traffic.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # small /dev/shm in containers crashes tabs
    "--window-size=1600,1000",
)


def which(exe: str) -> str | None:
    if exe == "chromium":
        return shutil.which("chromium") or shutil.which("chromium-browser")
    return shutil.which(exe)


def missing_browser_tools() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("selenium") is None:
        return "Python package selenium is not installed (pip install 'membership-workbook[test]')"
    for exe, package in (("chromium", "chromium"), ("chromedriver", "chromium-driver")):
        if which(exe) is None:
            return f"{exe} not found (Debian: apt-get install chromium chromium-driver; missing package {package})"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrowserSession:
    """A server started by the test and a Chromium session pointed at it.

    Subclasses define ``start_server()`` (start ``self.proc``, logging to
    ``self.log_path``, and wait until it answers on ``self.url``), set ``log_name``
    (the server's log file in ``base``) and may set ``page_load_strategy``
    (``"none"``: ``get()`` returns at once and the test polls).
    """

    log_name = "server.log"
    page_load_strategy = "normal"

    def __init__(self, base: Path, shots: Path):
        self.base = base
        self.shots = shots
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = base / self.log_name
        self.proc: subprocess.Popen | None = None
        self.driver = None

    def private_env(self, home: str) -> dict:
        """os.environ with a temporary HOME: caches, logs and settings stay out of the user's home.

        (It costs the kernel a few seconds to build matplotlib's font cache anew.)
        """
        env = dict(os.environ)
        for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "MPLCONFIGDIR"):
            env.pop(var, None)
        env["HOME"] = str(self.base / home)
        Path(env["HOME"]).mkdir(exist_ok=True)
        return env

    def connection_dir(self) -> Path:
        """Where the server keeps its kernels' connection files (JupyterLab: its runtime folder)."""
        return self.base / "jupyter-runtime"

    def assert_kernels_on_local_sockets(self) -> None:
        """Every kernel the server runs listens on local sockets (workbook.kernel_sockets), not on TCP
        ports another process could take; read from the kernels' connection files."""
        from workbook.kernel_sockets import ipc_possible

        transports = [json.loads(f.read_text())["transport"] for f in self.connection_dir().glob("kernel-*.json")]
        assert transports and set(transports) == {"ipc" if ipc_possible() else "tcp"}, transports

    def server_log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-tail:]
        except OSError:
            return "(no log)"

    def start_browser(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        opts = Options()
        opts.page_load_strategy = self.page_load_strategy
        opts.binary_location = which("chromium")
        for flag in CHROMIUM_FLAGS:
            opts.add_argument(flag)
        opts.add_argument(f"--user-data-dir={self.base / 'chromium-profile'}")
        service = Service(
            executable_path=which("chromedriver"),
            log_output=str(self.base / "chromedriver.log"),
            env=self.private_env("chromium-home"),  # crash reports, dconf
        )
        self.driver = webdriver.Chrome(options=opts, service=service)
        self.driver.set_window_size(1600, 1000)
        self.driver.set_page_load_timeout(120)

    def stop(self) -> None:
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception:  # noqa: BLE001 (best effort at teardown)
                pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()

    def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def wait_for(self, what: str, predicate, timeout: float, poll: float = 0.5):
        """Poll ``predicate()`` until it returns something truthy; fail naming ``what``."""
        deadline = time.monotonic() + timeout
        last_exc = None
        while time.monotonic() < deadline:
            try:
                value = predicate()
                if value:
                    return value
            except Exception as exc:  # noqa: BLE001 (DOM may be mid-update; retry)
                last_exc = exc
            time.sleep(poll)
        shot = self.screenshot(f"timeout-{what.replace(' ', '-')[:40]}")
        raise AssertionError(
            f"Timed out after {timeout:.0f} s waiting for {what}"
            + (f" (last error: {last_exc!r})" if last_exc else "")
            + f"; screenshot {shot}\nServer log tail ({self.log_path.name}):\n{self.server_log(2000)}"
        )

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)


def browser_session(tmp_path_factory, make: Callable[[Path, Path], BrowserSession], what: str,
                    missing: str | None = None) -> Iterator[BrowserSession]:
    """Body of a module-scoped fixture: skip (fail under ``CI=true``) without the tools, else yield a session.

    ``missing`` is a further reason not to run (e.g. Voilà not installed).  Screenshots go
    to ``$WORKBOOK_BROWSER_SCREENSHOTS`` or a pytest temporary directory.
    """
    reason = missing_browser_tools() or missing
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"The {what} must run in CI but {reason}.")
        pytest.skip(f"{what[0].upper()}{what[1:]} skipped: {reason}.")
    base = tmp_path_factory.mktemp(what.split()[0])
    shots = Path(os.environ.get("WORKBOOK_BROWSER_SCREENSHOTS") or tmp_path_factory.mktemp(f"{what.split()[0]}-screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    session = make(base, shots)
    print(f"{what}: screenshots in {shots}, server log {session.log_path}")
    try:
        session.start_server()
        session.start_browser()
        yield session
    finally:
        session.stop()
