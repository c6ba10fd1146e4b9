"""workbook.sorting: the packed (key, row) sort equals NumPy's stable argsort."""

from __future__ import annotations

import numpy as np

from workbook.sorting import argsort_keys


def test_packed_argsort_equals_stable_argsort():
    rng = np.random.default_rng(1)
    cases = [rng.random(500) * 730, np.round(rng.random(500) * 9, 1), rng.random(500) * 1e-300,
             rng.integers(-2**62, 2**62, 500), rng.integers(0, 7, 500), np.array([-0.0, 0.0, 1.0]),
             np.array([np.nan, 1.0, 0.5]), np.zeros(0), np.array([2.0])]
    for keys in cases:
        order, ties = argsort_keys(keys)
        assert (order == np.argsort(keys, kind="stable")).all()
        assert ties == (len(np.unique(keys)) < len(keys))
    # shortened keys that collide (microsecond times over a year beside 2**20 row numbers)
    keys = rng.integers(0, 31_536_000_000_000, 2**20) + 1_700_000_000_000_000
    keys[::1000] = keys[1::1000] + 1  # neighbours one microsecond apart
    assert (argsort_keys(keys)[0] == np.argsort(keys, kind="stable")).all()
