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
# seaborn and SciPy costs about 5 s of CPU; those tests run about 200 notebooks.
# Before every run the kernel is put back as it started (book/build.py's
# ReusableKernel, which the book build uses too): user namespace, figures,
# rcParams, pandas options, environment, working directory, warning filters and
# "already warned" registries, so a warning shown in one run is shown again in the next.
# ---------------------------------------------------------------------------

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load_book_build():
    """book/build.py as a module (not importable by name: PyPI's `build` would shadow it)."""
    spec = importlib.util.spec_from_file_location("workbook_book_build", os.path.join(REPO, "book", "build.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


book_build = _load_book_build()

# Each figure a cell shows is drawn, with the real fonts and layout (so a missing Chinese glyph
# warns on stderr as for a trainee), but not encoded as a PNG: its output is its text form
# ("<Figure size ... with N Axes>").  The book build renders the real images.
_DRAW_WITHOUT_PNG = """
from matplotlib.figure import Figure as _Figure
get_ipython().run_line_magic("config", "InlineBackend.figure_formats = set()")
def _draw_figure(fig, p, cycle):
    fig.draw_without_rendering()
    p.text(repr(fig))
get_ipython().display_formatter.formatters["text/plain"].for_type(_Figure, _draw_figure)
del _Figure, _draw_figure
"""


class SharedKernel(book_build.ReusableKernel):
    """A python3 kernel in notebooks/ with lenient claims, reused run after run.

    ``reset(env)`` before each run; ``km`` is what nbclient or
    :func:`workbook.runner.run_notebook` (``kernel_manager=``) execute in.
    """

    def __init__(self):
        # The environment as the session started: a test's monkeypatched variables
        # reach a run only through reset(env).
        super().__init__(os.path.join(REPO, "notebooks"), {**os.environ, "WORKBOOK_STRICT_CLAIMS": "0"},
                         setup=_DRAW_WITHOUT_PNG)


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
    # long modules that otherwise came last and left one worker alone for up to a minute
    "test_runner.py",
    "test_engines.py",
    "test_no_raw_ids.py",
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


def pytest_configure(config):
    """nbval (the analyst notebook) starts its kernel with jupyter_client's KernelManager, on TCP
    ports another test's kernel or connection can take while it starts (workbook.kernel_sockets);
    give it the local-socket kernel manager that every other kernel of the tests uses."""
    try:
        import nbval.kernel
    except ImportError:
        return
    if hasattr(nbval.kernel, "KernelManager"):
        from workbook.kernel_sockets import LocalKernelManager

        nbval.kernel.KernelManager = LocalKernelManager
