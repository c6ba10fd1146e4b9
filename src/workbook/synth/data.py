"""The :class:`SyntheticData` container returned by :func:`workbook.synth.generate`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.synth.io import default_data_dir, save_dataset
from workbook.synth.scenario import Scenario
from workbook.synth.schema import CONTACT_TABLES, TABLES, require_schema, coerce_frame


@dataclass(kw_only=True)
class SyntheticData:
    """A generated data set: the observable tables, the ground truth and the scenario.

    Attributes
    ----------
    members, transactions, stores, store_traffic, campaigns : DataFrame
        What a real loyalty system would export (see ``datasets/README.md``).
    truth : DataFrame
        One row per member with the latent parameters of the generator.
    contacts, contacts_truth, community, emotional_touches, community_truth : DataFrame or None
        Engagement tables (:mod:`workbook.synth.contacts`, :mod:`workbook.synth.community`);
        ``None`` for a data set saved before they existed.
    scenario : Scenario
        The configuration used.
    random_state : int or None
        The seed used (``None`` if unknown); ``seed`` is its former name.
    """

    members: pd.DataFrame
    transactions: pd.DataFrame
    stores: pd.DataFrame
    store_traffic: pd.DataFrame
    campaigns: pd.DataFrame
    truth: pd.DataFrame
    scenario: Scenario
    random_state: int | None = None
    # engagement tables: contacts and community (optional for older saved data sets)
    contacts: pd.DataFrame | None = None
    contacts_truth: pd.DataFrame | None = None
    community: pd.DataFrame | None = None
    emotional_touches: pd.DataFrame | None = None
    community_truth: pd.DataFrame | None = None

    @property
    def seed(self) -> int | None:
        """Former name of ``random_state`` (kept for one release)."""
        return self.random_state

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in the order of :data:`workbook.synth.schema.TABLES` (missing optional ones left out)."""
        return {name: getattr(self, name) for name in TABLES if getattr(self, name) is not None}

    def check(self) -> None:
        """Check column names, dtypes and referential integrity; raise on the first problem.

        Raises
        ------
        WorkbookInputError
            Naming the table and column at fault.
        """
        for name, df in self.tables().items():
            require_schema(df, name)
        stores = set(self.stores["store_id"])
        members = set(self.members["member_id"])
        tx = self.transactions
        for table, col, ref, ref_name in (
            ("transactions", "member_id", members, "members"),
            ("transactions", "store_id", stores, "stores"),
            ("members", "home_store_id", stores, "stores"),
            ("store_traffic", "store_id", stores, "stores"),
            ("truth", "member_id", members, "members"),
            ("contacts", "member_id", members, "members"),
            ("community", "member_id", members, "members"),
            ("emotional_touches", "member_id", members, "members"),
        ):
            if getattr(self, table) is None:
                continue
            values = getattr(self, table)[col].dropna()
            bad = ~values.isin(ref)
            if bad.any():
                raise WorkbookInputError(
                    f"{table}.{col} has values not in {ref_name}: {list(values[bad].unique()[:5])} "
                    f"({int(bad.sum())} rows)."
                )
        if not tx["transaction_id"].is_unique:
            raise WorkbookInputError("transactions.transaction_id is not unique.")

    def save(self, out_dir: str | Path, formats: tuple[str, ...] = ("parquet", "csv")) -> Path:
        """Write the tables, ``scenario.json`` and the data dictionary ``README.md``.

        See :func:`workbook.synth.io.save_dataset`.
        """
        return save_dataset(self, out_dir, formats=formats)

    @classmethod
    def load(cls, directory: str | Path | None = None) -> SyntheticData:
        """Read a saved data set; see :func:`load_dataset`."""
        return load_dataset(directory)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.tables().items())
        return f"SyntheticData(scenario={self.scenario.name!r}, random_state={self.random_state}, {sizes})"


def load_dataset(directory: str | Path | None = None) -> SyntheticData:
    """Read a data set written by :func:`workbook.synth.io.save_dataset` (Parquet), with the contract's dtypes.

    Parameters
    ----------
    directory : path, optional
        Folder; default :func:`default_data_dir` (``$WORKBOOK_DATA_DIR`` or the
        repository's ``datasets/``).

    Returns
    -------
    SyntheticData

    Raises
    ------
    WorkbookInputError
        If a file is missing (the message says how to generate it).

    Examples
    --------
    >>> from workbook.synth import load_dataset
    >>> data = load_dataset()  # doctest: +SKIP
    >>> data.transactions.head()  # doctest: +SKIP
    """
    folder = default_data_dir() if directory is None else Path(directory)
    frames = {}
    for name in TABLES:
        path = folder / f"{name}.parquet"
        if not path.exists() and name in CONTACT_TABLES:
            continue  # saved before the engagement tables existed
        if not path.exists():
            raise WorkbookInputError(
                f"{path} not found. Generate the data first, e.g. "
                f"`workbook generate --preset retail_chain --members 20000 --seed 7 --out {folder}` "
                "(or `make data`)."
            )
        frames[name] = coerce_frame(pd.read_parquet(path), name)
    meta_path = folder / "scenario.json"
    seed = None
    scenario = Scenario.preset("retail_chain")
    if meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        seed = meta.get("seed")
        scenario = Scenario.from_dict(meta["scenario"])
    return SyntheticData(**frames, scenario=scenario, random_state=seed)
