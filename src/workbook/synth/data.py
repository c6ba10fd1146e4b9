"""The :class:`SyntheticData` container returned by :func:`workbook.synth.generate`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbook.errors import WorkbookInputError
from workbook.synth.io import default_data_dir, save_dataset
from workbook.synth.scenario import Scenario
from workbook.synth.schema import CONTACT_TABLES, TABLES, coerce_frame, empty_frame, require_schema


@dataclass(kw_only=True)
class SyntheticData:
    """A generated data set: the observable tables, the ground truth and the scenario.

    Attributes
    ----------
    members, transactions, stores, store_traffic, campaigns : DataFrame
        What a real loyalty system would export (see ``datasets/README.md``).
    truth : DataFrame
        One row per member with the latent parameters of the generator.
    category_preferences : DataFrame
        True category preferences, one row per member and category
        (:mod:`workbook.synth.categories`); empty if not generated.
    surveys : DataFrame or None
        Answered member surveys (NPS, satisfaction, complaint tags); see
        :mod:`workbook.synth.feedback`.
    points_rules : dict or None
        The points programme's earning, redemption and expiry rules.
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
    category_preferences: pd.DataFrame = field(default_factory=lambda: empty_frame("category_preferences"))
    scenario: Scenario
    random_state: int | None = None
    # issue 15 (feedback): answered member surveys and the points rules; optional, not in TABLES
    surveys: pd.DataFrame | None = None
    points_rules: dict | None = None
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
        for table, col, ref_table in (
            ("transactions", "member_id", "members"),
            ("transactions", "store_id", "stores"),
            ("members", "home_store_id", "stores"),
            ("store_traffic", "store_id", "stores"),
            ("truth", "member_id", "members"),
            ("category_preferences", "member_id", "members"),
            ("contacts", "member_id", "members"),
            ("community", "member_id", "members"),
            ("emotional_touches", "member_id", "members"),
        ):
            if getattr(self, table) is None:  # optional engagement tables of older data sets
                continue
            values = getattr(self, table)[col]
            ref_col = "member_id" if ref_table == "members" else "store_id"
            bad = _not_in(values, getattr(self, ref_table)[ref_col])
            if bad.any():
                raise WorkbookInputError(
                    f"{table}.{col} has values not in {ref_table}: {list(values[bad].unique()[:5])} "
                    f"({int(bad.sum())} rows)."
                )
        ids = pa.array(self.transactions["transaction_id"])
        # generated ids are sorted, and strictly increasing ids are unique (no hashing needed)
        if len(ids) > 1 and not pc.all(pc.less(ids[:-1], ids[1:])).as_py():
            if not self.transactions["transaction_id"].is_unique:
                raise WorkbookInputError("transactions.transaction_id is not unique.")
        # issue 15 (feedback): the optional surveys table refers to members and stores too
        if self.surveys is not None:
            for col, ref_name in (("member_id", "members"), ("store_id", "stores")):
                bad = _not_in(self.surveys[col], getattr(self, ref_name)[col]) | self.surveys[col].isna().to_numpy()
                if bad.any():
                    raise WorkbookInputError(f"surveys.{col} has {int(bad.sum())} value(s) not in {ref_name}.")

    def save(
        self, out_dir: str | Path, formats: tuple[str, ...] = ("parquet",), progress: bool = False
    ) -> Path:
        """Write the tables, ``scenario.json`` and the data dictionary ``README.md``.

        Parquet only unless ``formats`` asks for ``"csv"`` too; see :func:`workbook.synth.io.save_dataset`.
        """
        return save_dataset(self, out_dir, formats=formats, progress=progress)

    @classmethod
    def load(cls, directory: str | Path | None = None) -> SyntheticData:
        """Read a saved data set; see :func:`load_dataset`."""
        return load_dataset(directory)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.tables().items())
        return f"SyntheticData(scenario={self.scenario.name!r}, random_state={self.random_state}, {sizes})"


def _not_in(values: pd.Series, reference: pd.Series) -> np.ndarray:
    """Rows of ``values`` that are present but not in ``reference`` (boolean array; missing values pass).

    Ids of one width made of a common prefix and digits (all generated ids) are
    compared as the numbers they spell, through a table indexed by number:
    tens of millions of foreign keys in well under a second.  Other ids go
    through pyarrow's hash lookup (pandas' ``isin`` on millions of strings takes
    seconds longer).  Missing values whose slots hold bytes of the ids' width (as
    :func:`~workbook.ids.take_fixed_width` leaves them) are read with the
    others and their answers ignored, which saves copying the present ones.
    """
    present = values.notna().to_numpy()
    ref = _one_chunk(pc.drop_null(pa.array(reference)))
    every = _one_chunk(pa.array(values))
    if every.null_count and len(ref) and (pa.types.is_string(every.type) or pa.types.is_large_string(every.type)):
        slots = pa.Array.from_buffers(every.type, len(every), [None, *every.buffers()[1:3]], offset=every.offset)
        found = _found_by_number(slots, ref)
        if found is not None:
            return present & ~found
    vals = _one_chunk(pc.drop_null(every))
    found = _found_by_number(vals, ref) if len(ref) and len(vals) else None
    if found is None:
        found = np.asarray(pc.is_in(vals, value_set=ref).to_numpy(zero_copy_only=False), dtype=bool)
    bad = np.zeros(len(values), dtype=bool)
    bad[present] = ~found
    return bad


#: Rows of foreign keys read as numbers at a time (peak memory of the check: ~0.1 GiB, not 0.6, at 10M rows).
_ID_BLOCK = 1_000_000


def _found_by_number(vals: pa.Array, ref: pa.Array) -> np.ndarray | None:
    """Whether each of ``vals`` is in ``ref``, through the numbers the ids spell; ``None`` if they cannot be used.

    Numbers of two blocks stand for the ids only if the blocks have the same
    width, prefix and digit places (the same signature).
    """
    ref_numbers, signature = _id_numbers(ref)
    if ref_numbers is None or ref_numbers.max(initial=0) >= 2**28:
        return None
    # a table of every number the digits can spell (up to 16 MB) is indexed directly; else clipped
    every_number = 10 ** signature[2] <= 2**24
    table = np.zeros(10 ** signature[2] if every_number else int(ref_numbers.max(initial=0)) + 1, dtype=bool)
    table[ref_numbers] = True
    found = np.empty(len(vals), dtype=bool)
    for lo in range(0, len(vals), _ID_BLOCK):
        numbers, block_signature = _id_numbers(vals.slice(lo, _ID_BLOCK))
        if numbers is None or block_signature != signature:
            return None
        if every_number:
            np.take(table, numbers, out=found[lo: lo + len(numbers)])
        else:
            found[lo: lo + len(numbers)] = table[np.minimum(numbers, len(table) - 1)] & (numbers < len(table))
    return found


def _one_chunk(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One Arrow array (a column read from Parquet comes in several chunks)."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _id_numbers(ids: pa.Array) -> tuple[np.ndarray | None, tuple | None]:
    """The numbers spelt by ids of one byte width (at most 8) sharing all but their last digits, and
    their signature ``(width, prefix, number of digits)``; ``(None, None)`` for other ids.

    Two such ids are equal exactly when their numbers and signatures are (same
    width, same prefix, digits in the same places), so the numbers can stand for
    the ids.  Each id is read as one 8-byte integer (an 8-byte id in place, without
    a copy).  The first id's trailing digits give the signature; all ids are checked
    against it a word at a time (prefix bytes equal, every digit byte ``0x30``-``0x39``)
    and converted by three multiply-and-shift steps (Lemire, "Quickly parsing eight
    digits", 2018).  Ids failing that check go through :func:`_id_numbers_by_columns`,
    which gives the same answer for every input (and the one above wherever the check passes).
    """
    ids = ids.cast(pa.large_binary()) if pa.types.is_large_string(ids.type) else ids.cast(pa.binary())
    offsets_buf, data_buf = ids.buffers()[1:3]
    offsets = np.frombuffer(offsets_buf, dtype=np.int64 if pa.types.is_large_binary(ids.type) else np.int32)
    offsets = offsets[ids.offset: ids.offset + len(ids) + 1]
    width = int(offsets[1] - offsets[0])
    if not 0 < width <= 8 or ids.null_count or (np.diff(offsets) != width).any():
        return None, None
    raw = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0]: offsets[-1]].reshape(len(ids), width)
    first = raw[0].tobytes()
    n_digits = len(first) - len(first.rstrip(b"0123456789"))
    if n_digits == 0:
        return None, None
    if width == 8:
        x = raw.view("<u8").ravel()  # read only
    else:
        eight = np.zeros((len(ids), 8), dtype=np.uint8)  # right-aligned, padded with zero bytes
        eight[:, 8 - width:] = raw
        x = eight.view("<u8").ravel()
    # byte j of a word is the id's byte j - (8 - width); the last n_digits bytes are digits
    digit_bytes = sum(0xFF << (8 * j) for j in range(8 - n_digits, 8))
    high = np.uint64(0xFFFFFFFFFFFFFFFF ^ (digit_bytes & 0x0F0F0F0F0F0F0F0F))  # all but the digits' low halves
    low = np.uint64(digit_bytes & 0x0F0F0F0F0F0F0F0F)
    # every id: the first id's bytes outside the digits' low halves (prefix, then 0x3_ per digit) ...
    same_high = bool((np.bitwise_and(x, high) == (x[0] & high)).all())
    values = np.bitwise_and(x, low)
    # ... and low halves 0-9 (10-15 carry into bit 4 when 6 is added)
    if not same_high or (values + np.uint64(0x0606060606060606) & np.uint64(digit_bytes & 0x1010101010101010)).any():
        return _id_numbers_by_columns(ids, raw, width)
    for mul, shift, mask in ((2561, 8, 0x00FF00FF00FF00FF), (6553601, 16, 0x0000FFFF0000FFFF), (42949672960001, 32, 0)):
        values *= np.uint64(mul)  # wraps around mod 2**64 by design
        values >>= np.uint64(shift)
        if mask:
            values &= np.uint64(mask)
    return values.view(np.int64), (width, first[: width - n_digits], n_digits)


def _id_numbers_by_columns(ids: pa.Array, raw: np.ndarray, width: int) -> tuple[np.ndarray | None, tuple | None]:
    """:func:`_id_numbers` for ids of one width whose digit places are found column by column (any input)."""
    eight = np.full((len(ids), 8), ord("0"), dtype=np.uint8)  # right-aligned, padded with "0"
    eight[:, 8 - width:] = raw
    digit = ((eight >= ord("0")) & (eight <= ord("9"))).view(np.uint8)
    all_digits = int(np.bitwise_and.reduce(digit.view("<u8").ravel()))  # byte j: 1 if column j is all digits
    n_digits = 0
    while n_digits < width and all_digits >> (8 * (7 - n_digits)) & 1:
        n_digits += 1
    prefix = eight[:, 8 - width: 8 - n_digits]
    if n_digits == 0 or (prefix != prefix[:1]).any():
        return None, None
    signature = (width, prefix[0].tobytes(), n_digits)
    eight[:, : 8 - n_digits] = ord("0")
    x = eight.view("<u8").ravel()
    x -= np.uint64(0x3030303030303030)
    tmp = np.empty_like(x)
    for mul, shift, mask in ((10, 8, 0x00FF00FF00FF00FF), (100, 16, 0x0000FFFF0000FFFF), (10_000, 32, 0xFFFFFFFF)):
        np.right_shift(x, np.uint64(shift), out=tmp)
        x *= np.uint64(mul)
        x += tmp
        x &= np.uint64(mask)
    return x.view(np.int64), signature

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
    folder = default_data_dir() if directory is None else Path(directory).expanduser()
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
    data = SyntheticData(**frames, scenario=scenario, random_state=seed)
    # issue 15 (feedback): optional surveys table and points rules (older data sets have neither)
    if (folder / "surveys.parquet").exists():
        from workbook.synth.feedback import coerce_surveys

        data.surveys = coerce_surveys(pd.read_parquet(folder / "surveys.parquet"))
    if meta_path.exists():
        data.points_rules = meta.get("points_rules")
    return data
