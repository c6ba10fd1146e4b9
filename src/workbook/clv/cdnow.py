"""The CDNOW sample: the public data set on which BG/NBD and Gamma-Gamma were published.

2357 customers who made their first purchase at the online music store CDNOW in the
first quarter of 1997, followed until the end of June 1998 (Fader, Hardie and Lee 2005).
The papers use the 39 weeks to 1997-09-30 for calibration and the next 39 weeks as the
holdout period.

The files are read from the ``lifetimes`` package (``pip install lifetimes``), which
ships them; nothing is downloaded.  ``lifetimes`` itself is not imported.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

#: End (exclusive) of the 39-week calibration period used in the papers.
CALIBRATION_END = pd.Timestamp("1997-10-01")
#: End (exclusive) of the 39-week holdout period.
HOLDOUT_END = pd.Timestamp("1998-07-01")

#: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Table/Fig. 2 (weeks).
PUBLISHED_BGNBD_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
#: Published maximised log-likelihood of that fit.
PUBLISHED_BGNBD_LOG_LIKELIHOOD = -9582.4
#: Fader & Hardie (2013), "The Gamma-Gamma model of monetary value", on the 946 repeat buyers.
PUBLISHED_GAMMA_GAMMA_PARAMS = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def _datasets_dir() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "The CDNOW data are read from the 'lifetimes' package, which is not installed. "
            "Install it with `pip install lifetimes` (only its data files are used)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


def load_cdnow_transactions() -> pd.DataFrame:
    """Transactions of the CDNOW sample (Jan 1997 - Jun 1998) in the workbook's data contract.

    Returns
    -------
    DataFrame
        6919 rows with ``transaction_id``, ``member_id`` (the sample's customer id as a
        string, "1" to "2357"), ``timestamp`` (purchase day), ``amount`` (USD) and
        ``items`` (number of CDs), sorted by member and time.

    Examples
    --------
    >>> tx = load_cdnow_transactions()  # doctest: +SKIP
    >>> tx["member_id"].nunique()  # doctest: +SKIP
    2357
    """
    raw = pd.read_csv(
        _datasets_dir() / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "sample_id", "date", "items", "amount"],
        dtype={"master_id": "str", "sample_id": "int64", "date": "str", "items": "int64",
               "amount": "float64"},
    )
    out = pd.DataFrame(
        {
            "transaction_id": pd.Series(np.arange(1, len(raw) + 1)).astype("str").to_numpy(),
            "member_id": raw["sample_id"].astype("str").to_numpy(),
            "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d").to_numpy(),
            "amount": raw["amount"].to_numpy(),
            "items": raw["items"].to_numpy(),
        }
    )
    return out


def load_cdnow_summary() -> pd.DataFrame:
    """Hardie's published calibration summary of the CDNOW sample (time in weeks).

    This is the exact input of the published BG/NBD and Gamma-Gamma fits: ``T`` is
    measured to the start of 1997-09-30, one day less than
    :func:`workbook.clv.data.bgnbd_summary` measures it, and values are rounded to two
    decimals.

    Returns
    -------
    DataFrame
        Indexed by ``member_id`` ("1" to "2357"), columns ``frequency``, ``recency``,
        ``T`` (weeks) and ``monetary_value`` (average repeat spend, USD; 0 without repeat
        purchases); ``attrs["time_unit"] == "W"``.

    Examples
    --------
    >>> s = load_cdnow_summary()  # doctest: +SKIP
    >>> int((s["frequency"] > 0).sum())  # doctest: +SKIP
    946
    """
    raw = pd.read_csv(_datasets_dir() / "cdnow_customers_summary_with_transactions.csv")
    out = pd.DataFrame(
        {
            "frequency": raw["x"].astype("int64").to_numpy(),
            "recency": raw["t_x"].astype("float64").to_numpy(),
            "T": raw["T"].astype("float64").to_numpy(),
            "monetary_value": raw["zbar"].astype("float64").to_numpy(),
        },
        index=pd.Index(raw["ID"].astype("str").to_numpy(), name="member_id"),
    )
    out.attrs = {"time_unit": "W"}
    return out
