"""The :class:`SyntheticData` container returned by :func:`workbook.synth.generate`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.synth.scenario import Scenario
from workbook.synth.schema import TABLES, check_frame


@dataclass
class SyntheticData:
    """A generated data set: the observable tables, the ground truth and the scenario.

    Attributes
    ----------
    members, transactions, stores, store_traffic, campaigns : DataFrame
        What a real loyalty system would export (see ``datasets/README.md``).
    truth : DataFrame
        One row per member with the latent parameters of the generator.
    scenario : Scenario
        The configuration used.
    seed : int or None
        The seed used (``None`` if unknown).
    """

    members: pd.DataFrame
    transactions: pd.DataFrame
    stores: pd.DataFrame
    store_traffic: pd.DataFrame
    campaigns: pd.DataFrame
    truth: pd.DataFrame
    scenario: Scenario
    seed: int | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The six tables by name, in the order of :data:`workbook.synth.schema.TABLES`."""
        return {name: getattr(self, name) for name in TABLES}

    def check(self) -> None:
        """Check column names, dtypes and referential integrity; raise on the first problem.

        Raises
        ------
        WorkbookInputError
            Naming the table and column at fault.
        """
        for name, df in self.tables().items():
            check_frame(df, name)
        stores = set(self.stores["store_id"])
        members = set(self.members["member_id"])
        tx = self.transactions
        for table, col, ref, ref_name in (
            ("transactions", "member_id", members, "members"),
            ("transactions", "store_id", stores, "stores"),
            ("members", "home_store_id", stores, "stores"),
            ("store_traffic", "store_id", stores, "stores"),
            ("truth", "member_id", members, "members"),
        ):
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
        from workbook.synth.io import save_dataset

        return save_dataset(self, out_dir, formats=formats)

    @classmethod
    def load(cls, directory: str | Path | None = None) -> SyntheticData:
        """Read a saved data set; see :func:`workbook.synth.io.load_dataset`."""
        from workbook.synth.io import load_dataset

        return load_dataset(directory)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.tables().items())
        return f"SyntheticData(scenario={self.scenario.name!r}, seed={self.seed}, {sizes})"
