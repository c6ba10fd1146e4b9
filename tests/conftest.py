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
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
