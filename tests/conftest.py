"""Shared pytest fixtures.

``spark``: ONE local Spark session for the whole test run (starting one costs
10-20 s).  Tests that use it are marked ``@pytest.mark.spark``.  Without
pyspark or a Java runtime they are skipped with the reason, except under CI
(``CI=true``), where a missing Spark is an error: CI must run them
(``.ci/run`` installs Java if the machine lacks it).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

import pytest


def _spark_unavailable() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'membership-workbook[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and os.path.exists(os.path.join(java_home, "bin", "java"))):
        return "no Java runtime (install openjdk-17-jre-headless or set JAVA_HOME)"
    return None


@pytest.fixture(scope="session")
def spark():
    """A local Spark session (2 cores, UTC, no UI, 2 shuffle partitions)."""
    reason = _spark_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Spark tests must run in CI but {reason}.")
        pytest.skip(f"Spark tests skipped: {reason}.")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # container host names may not resolve
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("workbook-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "1g")
        # A short-lived test JVM: the C1 compiler only and the serial collector cut the
        # JVM's CPU on the default-data test from ~30 s to ~21 s (results cannot change).
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


# ---------------------------------------------------------------------------
# One Jupyter kernel for the tests that run teaching notebooks with changed
# parameters or on a user's export (test_what_to_try, test_user_data_e2e,
# test_minimal_export).  Starting a kernel and importing pandas, matplotlib,
# seaborn and SciPy costs about 5 s of CPU; those tests run about 190 notebooks.
# Before every run the kernel is put back as it started: user namespace wiped
# (%reset -f), figures closed, matplotlib's rcParams, the environment, the
# working directory and Python's warning filters and "already warned" registries
# restored, so a warning shown in one run is shown again in the next.  The book
# build (tests/test_book.py) still runs every notebook in a fresh kernel.
# ---------------------------------------------------------------------------

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_SNAPSHOT = """
import os as _os, warnings as _w, matplotlib as _mpl, matplotlib.pyplot as _plt
_w._workbook_fresh = (list(_w.filters), dict(_os.environ), _os.getcwd(), _mpl.rcParams.copy())
del _os, _w, _mpl, _plt
"""
_RESET = """%reset -f
import os as _os, sys as _s, warnings as _w, matplotlib as _mpl, matplotlib.pyplot as _plt
_plt.close("all")
_filters, _env, _cwd, _rc = _w._workbook_fresh
_w.filters[:] = _filters
_w._filters_mutated()
for _m in list(_s.modules.values()):
    if isinstance(getattr(_m, "__warningregistry__", None), dict):
        _m.__warningregistry__.clear()
if "workbook.memo" in _s.modules:  # kept aggregations: each run computes its own, as in a new kernel
    _s.modules["workbook.memo"].clear()
_os.environ.clear()
_os.environ.update(_env)
_os.environ.update({env!r})
_os.chdir(_cwd)
_mpl.rcParams.update(_rc)
del _os, _s, _w, _mpl, _plt, _filters, _env, _cwd, _rc, _m
"""


class SharedKernel:
    """A python3 kernel in notebooks/ with lenient claims, reused run after run.

    ``reset(env)`` before each run; ``km`` is what nbclient or
    :func:`workbook.runner.run_notebook` (``kernel_manager=``) execute in.
    """

    def __init__(self):
        from jupyter_client.manager import KernelManager

        class _KernelManager(KernelManager):
            # nbclient leaves the channels of a kernel it does not own open: close them after each run.
            def client(self, **kw):
                kc = super().client(**kw)
                self.clients.append(kc)
                return kc

        self.km = _KernelManager(kernel_name="python3")
        self.km.clients = []
        self.starts = 0
        # The environment as the session started: a test's monkeypatched variables
        # reach a run only through reset(env).
        self.env = {**os.environ, "WORKBOOK_STRICT_CLAIMS": "0"}

    def _start(self) -> None:
        import subprocess

        self.km.start_kernel(cwd=os.path.join(REPO, "notebooks"), stderr=subprocess.DEVNULL,
                             env=self.env)
        self.starts += 1
        self._run(_SNAPSHOT)

    def _run(self, code: str) -> None:
        kc = self.km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=120)
            reply = kc.execute_interactive(code, timeout=120, output_hook=self._fail_on_output)
            assert reply["content"]["status"] == "ok", f"resetting the shared kernel failed: {reply['content']}"
        finally:
            self.release()

    @staticmethod
    def _fail_on_output(msg) -> None:
        if msg["msg_type"] in ("stream", "error", "display_data", "execute_result"):
            raise AssertionError(f"resetting the shared kernel printed {msg['content']}")

    def reset(self, env: dict | None = None) -> None:
        """Make the kernel as fresh as a new one (restarting it if an earlier run killed it)."""
        if not self.km.has_kernel or not self.km.is_alive():
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
            self._start()
        self._run(_RESET.replace("{env!r}", repr(dict(env or {}))))

    def release(self) -> None:
        """Close the client channels opened by the last run."""
        while self.km.clients:
            self.km.clients.pop().stop_channels()

    def shutdown(self) -> None:
        self.release()
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=True)


@pytest.fixture(scope="session")
def shared_kernel():
    """One :class:`SharedKernel` per test process (each xdist worker has its own)."""
    kernel = SharedKernel()
    yield kernel
    kernel.shutdown()


# ---------------------------------------------------------------------------
# Longest first.  pytest-xdist (--dist loadscope) hands out whole modules (or test
# classes) in collection order; a long one handed out near the end leaves the other
# worker idle while it runs.  So the modules that execute notebooks go first, and
# test_what_to_try's notebook classes in order of how many runs they hold; every
# other test keeps its place, and each module or class stays together.
# ---------------------------------------------------------------------------
_LONGEST_FIRST = (
    "test_book.py",  # builds the book: executes every teaching notebook, two at a time
    "test_user_data_e2e.py",
    "test_minimal_export.py",
    "test_what_to_try.py",
    "test_exercises.py",
    "test_browser.py",
    "test_apps.py",
    "test_exercise_guide.py",
)


def pytest_collection_modifyitems(session, config, items):
    def scope(item):
        cls = getattr(item, "cls", None)
        return (str(item.path), cls.__name__ if cls is not None else "")

    size: dict = {}
    first: dict = {}
    for i, item in enumerate(items):
        key = scope(item)
        size[key] = size.get(key, 0) + 1
        first.setdefault(key, i)

    def order(pair):
        i, item = pair
        key = scope(item)
        name = item.path.name if item.path.parent.name == "tests" else ""
        if name in _LONGEST_FIRST:
            return (0, _LONGEST_FIRST.index(name), -size[key], first[key], i)
        return (1, 0, 0, 0, i)

    items[:] = [item for _, item in sorted(enumerate(items), key=order)]
