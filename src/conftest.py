"""pytest set-up for the doctests of src/workbook (not part of the installed package).

The examples make their files with ``tempfile.mkdtemp()``, as a reader's own session
would.  Under pytest those folders go into the test's ``tmp_path``, which pytest
removes, instead of piling up in the system's temporary folder on every run.
"""

import tempfile

import pytest


@pytest.fixture(autouse=True)
def _example_files_in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
