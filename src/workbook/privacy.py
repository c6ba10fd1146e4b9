"""Keyed pseudonymisation of member ids and masking of personal data.

Member ids are replaced by an HMAC-SHA256 of the id under a secret key: the
same id and key always give the same pseudonym (so tables still join and runs
are comparable), and without the key the pseudonym cannot be turned back into
the id nor recomputed from a guessed id.  Names, phones and emails are masked
(``张**``, ``138****1234``, ``a***@example.com``) or dropped.

The key comes from, in order: the ``key=`` argument, ``key_file=``, the
``WORKBOOK_PSEUDO_KEY`` environment variable, the file named by
``WORKBOOK_PSEUDO_KEY_FILE``, or ``~/.workbook_key``.  A key file inside a git
working tree is refused so that it cannot be committed.  Create one with::

    python -c "import secrets; print(secrets.token_hex(32))" > ~/.workbook_key
    chmod 600 ~/.workbook_key

What is and is not protected is documented in ``docs/privacy.md``.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import hmac
import math
import os
import re
import stat
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.ids import ids_in
from workbook.validation import require_choice, format_rows

__all__ = ["Pseudonymiser", "Redactor", "recording_raw_values", "mask_contacts", "mask_pii", "require_strong_key", "KeyFileWarning",
           "DEFAULT_KEY_FILE", "PII_COLUMNS"]

#: Default key file (outside any repository).
DEFAULT_KEY_FILE = Path("~/.workbook_key")
#: Columns treated as direct identifiers by default.
PII_COLUMNS = ("name", "phone", "email")
#: Key strength rule (see :func:`require_strong_key` and docs/privacy.md).
MIN_KEY_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 8
MIN_ESTIMATED_BITS = 80
REPEATED_BLOCK = 8
#: Fixed label the key fingerprint is derived from (HMAC under the key).
KEY_ID_LABEL = b"workbook key_id v1"

_HOW_TO = (
    'Create a key once with:  python -c "import secrets; print(secrets.token_hex(32))" '
    "> ~/.workbook_key  (then chmod 600 ~/.workbook_key), or set the environment variable "
    "WORKBOOK_PSEUDO_KEY. Keep the key outside the repository and do not share it: "
    "whoever has it can link pseudonyms to member ids."
)
_HOW_TO_ZH = (
    '请生成一次密钥：python -c "import secrets; print(secrets.token_hex(32))" > ~/.workbook_key'
    "（然后 chmod 600 ~/.workbook_key），或设置环境变量 WORKBOOK_PSEUDO_KEY。密钥放在仓库之外、"
    "不要分享：拿到密钥的人可以把化名对回会员号。"
)


class RawValues:
    """Raw ids and personal values seen while :func:`recording_raw_values` is active."""

    def __init__(self):
        self.ids: set[str] = set()
        self.personal: set[str] = set()


_RECORDING: contextvars.ContextVar[RawValues | None] = contextvars.ContextVar(
    "workbook_privacy_recording", default=None)


@contextlib.contextmanager
def recording_raw_values():
    """Collect every raw id pseudonymised and every value masked inside the block.

    The runner loads the user's files inside this block, so that it can build
    a :class:`Redactor` for its outputs without reading the files twice.  The
    collected values stay in memory and are never written.

    Examples
    --------
    >>> import pandas as pd
    >>> ps = Pseudonymiser(key="5be74e156155b74a3d8411ac3ad9e8c57d33b63a67f507caed37739a1454d789")
    >>> with recording_raw_values() as seen:
    ...     _ = ps.pseudonymise_frame(pd.DataFrame({"member_id": ["13912345678"], "name": ["李娜"]}))
    >>> sorted(seen.ids), sorted(seen.personal)
    (['13912345678'], ['李娜'])
    """
    seen = RawValues()
    token = _RECORDING.set(seen)
    try:
        yield seen
    finally:
        _RECORDING.reset(token)


class KeyFileWarning(UserWarning):
    """The key file can be read by other users of the computer."""


def _repeated_block(key: str, size: int = REPEATED_BLOCK) -> bool:
    seen = set()
    for i in range(len(key) - size + 1):
        block = key[i:i + size]
        if block in seen:
            return True
        seen.add(block)
    return False


def require_strong_key(key: str | bytes) -> None:
    """Refuse a key that is obviously guessable.

    The rule (documented in ``docs/privacy.md``): a key must have

    1. at least :data:`MIN_KEY_LENGTH` (32) characters;
    2. at least :data:`MIN_DISTINCT_CHARACTERS` (8) different characters;
    3. no block of :data:`REPEATED_BLOCK` (8) characters that occurs twice
       (so no repeated pattern such as ``"ab" * 16`` or ``"0123456789abcdef" * 4``);
    4. an estimated strength of at least :data:`MIN_ESTIMATED_BITS` (80) bits,
       estimated as length x the Shannon entropy of the key's own characters.

    ``secrets.token_hex(32)`` (64 random hex digits, about 240 bits by this
    estimate) always passes; the rule only catches keys a person typed or
    patterned, it cannot prove a key random (a sentence may pass).

    Raises
    ------
    WorkbookInputError
        Naming the rule that failed, never the key.

    Examples
    --------
    >>> require_strong_key("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    >>> require_strong_key("a" * 32)
    Traceback (most recent call last):
    ...
    workbook.errors.WorkbookInputError: The pseudonymisation key is too weak: it has only 1 different character(s) (at least 8 needed). ...
    """
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    n = len(text)
    problem = problem_zh = None
    if n < MIN_KEY_LENGTH:
        problem = f"it has {n} characters; use at least {MIN_KEY_LENGTH}"
        problem_zh = f"只有 {n} 个字符，至少需要 {MIN_KEY_LENGTH} 个"
    elif len(set(text)) < MIN_DISTINCT_CHARACTERS:
        problem = (f"it has only {len(set(text))} different character(s) (at least "
                   f"{MIN_DISTINCT_CHARACTERS} needed)")
        problem_zh = f"只有 {len(set(text))} 种不同字符（至少需要 {MIN_DISTINCT_CHARACTERS} 种）"
    elif _repeated_block(text):
        problem = f"a block of {REPEATED_BLOCK} characters occurs twice (a repeated pattern)"
        problem_zh = f"有一段 {REPEATED_BLOCK} 个字符重复出现（是重复的模式）"
    else:
        bits = -sum(c * math.log2(c / n) for c in Counter(text).values())
        if bits < MIN_ESTIMATED_BITS:
            problem = (f"its estimated strength is {bits:.0f} bits (at least "
                       f"{MIN_ESTIMATED_BITS} needed): a few characters dominate")
            problem_zh = f"估计强度只有 {bits:.0f} 位（至少需要 {MIN_ESTIMATED_BITS} 位）：少数字符占了大部分"
    if problem:
        raise WorkbookInputError(
            f"The pseudonymisation key is too weak: {problem}. {_HOW_TO}",
            message_zh=f"化名密钥太弱：{problem_zh}。{_HOW_TO_ZH}",
        )


def _git_root(path: Path) -> Path | None:
    for parent in [path, *path.parents]:
        if (parent / ".git").exists():
            return parent
    return None


def _read_key_file(path: Path) -> bytes:
    path = path.expanduser().resolve()
    root = _git_root(path.parent)
    if root is not None:
        raise WorkbookInputError(
            f"Refusing key file {str(path)!r}: it is inside the git working tree {str(root)!r} "
            "and could be committed. Move it outside, e.g. to ~/.workbook_key.",
            message_zh=f"拒绝使用密钥文件 {str(path)!r}：它在 git 仓库 {str(root)!r} 里，可能被提交。"
                       "请移到仓库之外，例如 ~/.workbook_key。",
        )
    if not path.is_file():
        raise WorkbookInputError(f"Key file {str(path)!r} does not exist. {_HOW_TO}",
                                 message_zh=f"密钥文件 {str(path)!r} 不存在。{_HOW_TO_ZH}")
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRGRP | stat.S_IROTH):
        # Warn, not refuse: shared lab machines often have a permissive umask.
        warnings.warn(
            f"密钥文件 {str(path)!r} 其他用户也能读取，请执行 chmod 600 {str(path)!r}。\n"
            f"Key file {str(path)!r} is readable by group or others (mode "
            f"{stat.filemode(mode)}); run chmod 600 {str(path)!r}.",
            KeyFileWarning, stacklevel=3,
        )
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def _mask_phone(s: pd.Series) -> pd.Series:
    digits = s.str.replace(r"\D", "", regex=True)
    digits = digits.where(~(digits.str.len().gt(11) & digits.str.startswith("86")),
                          digits.str.slice(2))
    long_enough = digits.str.len().ge(8)
    masked = digits.str.slice(0, 3) + "****" + digits.str.slice(-4)
    return masked.where(long_enough, "****").where(s.notna())


def _mask_email(s: pd.Series) -> pd.Series:
    parts = s.str.strip().str.split("@", n=1, expand=True)
    if parts.shape[1] < 2:
        return pd.Series("***", index=s.index, dtype="str").where(s.notna())
    masked = parts[0].str.slice(0, 1) + "***@" + parts[1]
    return masked.where(parts[1].notna(), "***").where(s.notna())


def _mask_name(s: pd.Series) -> pd.Series:
    # First character (the surname for Chinese names), fixed-length mask hides the length.
    return (s.str.strip().str.slice(0, 1) + "**").where(s.notna())


_MASKERS = {"phone": _mask_phone, "email": _mask_email}


def mask_pii(df: pd.DataFrame, columns: Sequence[str] | None = None, how: str = "mask") -> pd.DataFrame:
    """Mask or drop personal-data columns; returns a copy.

    Parameters
    ----------
    df : DataFrame
        Not modified.
    columns : sequence of str, optional
        Columns to treat.  Default :data:`PII_COLUMNS`, skipping those absent;
        explicitly named columns must exist.  A column is masked as a phone
        number if its name contains ``phone``/``mobile``, as an email if it
        contains ``mail``, otherwise as a name (first character + ``**``).
    how : {"mask", "drop"}

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"name": ["张伟"], "phone": ["+86 138-0013-1234"],
    ...                    "email": ["wei.zhang@example.com"]})
    >>> mask_pii(df).iloc[0].tolist()
    ['张**', '138****1234', 'w***@example.com']
    """
    require_choice(how, ["mask", "drop"], "how")
    if not isinstance(df, pd.DataFrame):
        raise WorkbookInputError(f"df must be a pandas DataFrame, got {type(df).__name__}.")
    if columns is None:
        columns = [c for c in PII_COLUMNS if c in df.columns]
    else:
        columns = list(columns)
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise WorkbookInputError(
                f"mask_pii: column(s) {missing} not in the frame; it has {list(df.columns)}."
            )
    if how == "drop":
        return df.drop(columns=columns)
    out = df.copy()
    seen = _RECORDING.get()
    for col in columns:
        s = out[col].astype("str")
        if seen is not None:
            seen.personal.update(s.dropna().str.strip().unique().tolist())
        lower = str(col).lower()
        if "phone" in lower or "mobile" in lower:
            out[col] = _mask_phone(s)
        elif "mail" in lower:
            out[col] = _mask_email(s)
        else:
            out[col] = _mask_name(s)
    return out


class Pseudonymiser:
    """Keyed (HMAC-SHA256) pseudonyms for member ids, stable for a given key.

    Parameters
    ----------
    key : str or bytes, optional
        The secret key, e.g. 64 random hex digits; weak keys are refused
        (:func:`require_strong_key`).
    key_env : str, default "WORKBOOK_PSEUDO_KEY"
        Environment variable holding the key, used when ``key`` is not given.
    key_file : path, optional
        File holding the key (refused if inside a git working tree; a
        :class:`KeyFileWarning` if other users can read it).
    length : int, default 16
        Hex digits kept from the digest (16 = 64 bits: a collision among a
        million ids has probability about 3e-8; collisions are checked).
    prefix : str, default "M"
        Prefix of the pseudonyms, so they are not mistaken for real ids.

    Attributes
    ----------
    key_id : str
        8 hex digits of HMAC-SHA256(key, ``"workbook key_id v1"``): record it
        to know which key made a pseudonymised data set.  Being keyed, it can
        only be checked by someone holding the key (or guessing it, which the
        strength rule makes hopeless), never recomputed from public data.

    Raises
    ------
    WorkbookInputError
        No key found (the message says how to create one), weak key, key
        file inside a git repository.

    Examples
    --------
    >>> import pandas as pd
    >>> ps = Pseudonymiser(key="5be74e156155b74a3d8411ac3ad9e8c57d33b63a67f507caed37739a1454d789")
    >>> ids = pd.Series(["001", "002", "001", None])
    >>> out = ps.pseudonymise_ids(ids)
    >>> out[0] == out[2], out[0] != out[1], out[0].startswith("M"), pd.isna(out[3])
    (True, True, True, True)
    """

    def __init__(self, key: str | bytes | None = None, key_env: str = "WORKBOOK_PSEUDO_KEY",
                 key_file: str | Path | None = None, length: int = 16, prefix: str = "M"):
        if key is None and key_file is not None:
            key = _read_key_file(Path(key_file))
        if key is None and os.environ.get(key_env):
            key = os.environ[key_env].strip()
        if key is None and os.environ.get(f"{key_env}_FILE"):
            key = _read_key_file(Path(os.environ[f"{key_env}_FILE"]))
        if key is None and DEFAULT_KEY_FILE.expanduser().is_file():
            key = _read_key_file(DEFAULT_KEY_FILE)
        if key is None:
            raise WorkbookInputError(
                f"No pseudonymisation key: pass key_file=..., set {key_env}, or create "
                f"~/.workbook_key. {_HOW_TO}",
                message_zh=f"没有化名密钥（用来把会员号换成化名）。{_HOW_TO_ZH}",
            )
        key_bytes = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        require_strong_key(key_bytes)
        if not 8 <= int(length) <= 64:
            raise WorkbookInputError(f"length={length} must be between 8 and 64 hex digits.")
        self._key = key_bytes
        self.length = int(length)
        self.prefix = str(prefix)
        # Keyed like the pseudonyms: the fingerprint says nothing the pseudonyms do not.
        self.key_id = hmac.new(key_bytes, KEY_ID_LABEL, hashlib.sha256).hexdigest()[:8]

    @classmethod
    def from_env(cls, key_env: str = "WORKBOOK_PSEUDO_KEY", **kwargs) -> "Pseudonymiser":
        """Key from ``$WORKBOOK_PSEUDO_KEY``, ``$WORKBOOK_PSEUDO_KEY_FILE`` or ``~/.workbook_key``."""
        return cls(key=None, key_env=key_env, **kwargs)

    def __repr__(self) -> str:  # never show the key
        return f"Pseudonymiser(key_id={self.key_id!r}, length={self.length}, prefix={self.prefix!r})"

    def is_pseudonym(self, values: pd.Series) -> pd.Series:
        """Which values already have the shape of this pseudonymiser's pseudonyms."""
        text = pd.Series(values).astype("str")
        return text.str.fullmatch(rf"{re.escape(self.prefix)}[0-9a-f]{{{self.length}}}").fillna(False)

    def _digest(self, value: str) -> str:
        return hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()[: self.length]

    def pseudonymise_ids(self, ids: pd.Series) -> pd.Series:
        """Replace each id by ``prefix + HMAC-SHA256(key, id)[:length]``; missing stay missing.

        Ids are compared as text with surrounding blanks removed (``"001"`` and
        ``" 001"`` are the same member; ``1`` and ``"1"`` too).  Hashing runs in
        Python once per *distinct* id (``pd.factorize``), then is broadcast.

        Parameters
        ----------
        ids : Series
            Not modified.

        Returns
        -------
        Series
            Same index and name, dtype ``str``.
        """
        if not isinstance(ids, pd.Series):
            ids = pd.Series(ids)
        text = ids.astype("str").str.strip()
        text = text.where(ids.notna() & text.ne(""))
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
        seen = _RECORDING.get()
        if seen is not None:
            seen.ids.update(uniques.tolist())
        hashed = np.array([self.prefix + self._digest(u) for u in uniques], dtype=object)
        if len(set(hashed)) != len(hashed):
            raise WorkbookInputError(
                f"Pseudonym collision among {len(hashed)} ids with length={self.length}; "
                "use a larger length."
            )
        out = np.full(len(codes), None, dtype=object)
        out[codes >= 0] = hashed[codes[codes >= 0]]
        return pd.Series(out, index=ids.index, name=ids.name, dtype="str")

    def pseudonymise_frame(
        self,
        df: pd.DataFrame,
        id_columns: Sequence[str] = ("member_id",),
        pii_columns: Sequence[str] | None = None,
        how: str = "mask",
    ) -> pd.DataFrame:
        """Copy of ``df`` with id columns pseudonymised and PII masked or dropped.

        Parameters
        ----------
        df : DataFrame
            Not modified.
        id_columns : sequence of str
            Columns of ids to hash (all must exist).  Use the same key for every
            table so that they still join.
        pii_columns : sequence of str, optional
            Passed to :func:`mask_pii` (default: name, phone, email when present;
            ``()`` for none).
        how : {"mask", "drop"}
            For the PII columns.

        Examples
        --------
        >>> import pandas as pd
        >>> ps = Pseudonymiser(key="b01d3668cbf4b25867c9c8bf81f2379d93c051cff624eafab9e057c7d6576024")
        >>> m = pd.DataFrame({"member_id": ["001"], "phone": ["13800131234"]})
        >>> out = ps.pseudonymise_frame(m)
        >>> out["phone"].iloc[0], out["member_id"].iloc[0] != "001"
        ('138****1234', True)
        """
        if not isinstance(df, pd.DataFrame):
            raise WorkbookInputError(f"df must be a pandas DataFrame, got {type(df).__name__}.")
        missing = [c for c in id_columns if c not in df.columns]
        if missing:
            raise WorkbookInputError(
                f"pseudonymise_frame: id column(s) {missing} not in the frame; it has "
                f"{list(df.columns)}."
            )
        out = mask_pii(df, pii_columns, how=how)
        for col in id_columns:
            out[col] = self.pseudonymise_ids(df[col])
        return out


def require_no_raw_ids(pseudonymised: pd.Series, original: pd.Series) -> None:
    """Raise if any original id survives in a pseudonymised column (a safety check)."""
    leaked = ids_in(pseudonymised, original.dropna().astype("str"))
    if leaked.any():
        raise WorkbookInputError(
            f"Raw ids remain after pseudonymisation at {format_rows(pseudonymised.index[leaked])}."
        )


_ASCII_TOKEN = re.compile(r"[0-9A-Za-z_+@.\-]+")
_DIGIT_RUN = re.compile(r"(?<![\w.])\+?\d[\d\- ]{5,}\d(?!\w|\.\d)")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f\s\"'`,;:()\[\]{}<>|]+")


# Mainland mobile numbers (optionally +86, with blanks or dashes) and e-mail addresses.
_MOBILE = re.compile(r"(?<![\d.])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?:\.0+)?(?![\d])")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")


def mask_contacts(text: str) -> tuple[str, int]:
    """Mask anything shaped like a mainland mobile number or an e-mail address.

    For messages built before the raw values are known (e.g. a file whose
    first data row was taken for its header).  Returns ``(text, replacements)``.

    Examples
    --------
    >>> mask_contacts("it has ['13912345678', '2024/03/01', 'lina@example.com', '100']")
    ("it has ['***', '2024/03/01', '***', '100']", 2)
    >>> mask_contacts("row 13912345678901 and 1.3912346e+10")[1]
    0
    """
    text, n1 = _MOBILE.subn("***", text)
    text, n2 = _EMAIL.subn("***", text)
    return text, n1 + n2


def _digits(value: str) -> str:
    d = re.sub(r"\D", "", value)
    return d[2:] if len(d) > 11 and d.startswith("86") else d


class Redactor:
    """Replace raw member ids and personal values in free text.

    A safety net for text the package writes (messages, reports, notebook
    outputs): raw ids become their pseudonym, names, phones and e-mails
    ``***``.  Matching is exact and by token, so a raw id inside a longer
    number is left alone; phones also match with other separators (``139-1234-
    5678``) or a ``+86`` prefix; names of 2+ characters match inside Chinese text.

    Parameters
    ----------
    ids : iterable of str
        Raw member ids (as in the file and as normalised).  Ids shorter than
        ``min_id_length`` are not redacted: short sequence numbers (``7``,
        ``0012``) would clash with counts and years in the outputs.
    personal : iterable of str
        Names, phones, e-mails.
    pseudonymiser : Pseudonymiser, optional
        To show ids as pseudonyms; ``***`` without one.
    min_id_length : int, default 5
    contacts : bool, default False
        Also apply :func:`mask_contacts` (for messages; not for tables of
        results, where an 11-digit number may be an amount).

    Examples
    --------
    >>> ps = Pseudonymiser(key="5be74e156155b74a3d8411ac3ad9e8c57d33b63a67f507caed37739a1454d789")
    >>> r = Redactor(ids=["13912345678"], personal=["李娜", "lina@example.com", "Wang Lei",
    ...                                            "186 1111 2222"], pseudonymiser=ps)
    >>> text, n = r.redact("member '13912345678' (李娜会员, lina@example.com, 139-1234-5678) row 7")
    >>> n, "13912345678" in text, "李娜" in text, text.endswith("row 7")
    (4, False, False, True)
    >>> r.redact("13912345678.0") == r.redact("13912345678")
    True
    >>> r.redact("Wang  Lei, tel. 186 1111 2222, +86 18611112222; 2024-03-01 12 345")
    ('***, tel. ***, ***; 2024-03-01 12 345', 3)
    """

    def __init__(self, ids=(), personal=(), pseudonymiser: Pseudonymiser | None = None,
                 min_id_length: int = 5, contacts: bool = False):
        self.contacts = bool(contacts)
        ids = {str(v).strip() for v in ids if v is not None and not pd.isna(v)}
        ids = sorted(v for v in ids if len(v) >= min_id_length)
        pseudo = (pseudonymiser.pseudonymise_ids(pd.Series(ids, dtype="str")).tolist()
                  if pseudonymiser is not None and ids else ["***"] * len(ids))
        self._ids = dict(zip(ids, pseudo))
        personal = {str(v).strip() for v in personal if v is not None and not pd.isna(v)}
        personal = {v for v in personal if len(v) >= 2}
        self._ascii = {v for v in personal if v.isascii() and " " not in v}
        # multi-word names ("Wang Lei"): matched as word sequences
        self._phrases = {" ".join(v.split()) for v in personal
                         if v.isascii() and " " in v.strip() and not _digits(v) == v.replace(" ", "")}
        self._phrase_words = sorted({len(v.split()) for v in self._phrases if len(v.split()) <= 5})
        self._digits = {d: "***" for d in map(_digits, personal) if len(d) >= 7}
        for raw, pseudo_id in self._ids.items():
            if len(_digits(raw)) >= 7 and _digits(raw) == raw:
                self._digits[raw] = pseudo_id
        self._names = {v for v in personal if not v.isascii()}
        self._name_lengths = sorted({len(v) for v in self._names if len(v) <= 12}, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._ids or self._ascii or self._digits or self._names or self._phrases
                    or self.contacts)

    def _token(self, m: re.Match) -> str:
        tok = m.group(0)
        core = tok.strip(".-_+")
        for cand in (core, re.sub(r"\.0+$", "", core)):  # a float export's trailing .0
            if cand in self._ids:
                self._n += 1
                return tok.replace(core, self._ids[cand], 1)
            if cand in self._ascii:
                self._n += 1
                return tok.replace(core, "***", 1)
        d = _digits(core)
        if len(d) >= 7 and d in self._digits:
            self._n += 1
            return self._digits[d]
        return tok

    def _run(self, m: re.Match) -> str:
        run, out, i = m.group(0), [], 0
        while i < len(run):
            for n in self._name_lengths:
                if run[i:i + n] in self._names:
                    out.append("***")
                    self._n += 1
                    i += n
                    break
            else:
                out.append(run[i])
                i += 1
        return "".join(out)

    def _digit_run(self, m: re.Match) -> str:
        d = _digits(m.group(0))
        if d in self._digits:
            self._n += 1
            return self._digits[d]
        return m.group(0)

    def _phrase_spans(self, text: str) -> list[tuple[int, int]]:
        words = list(_WORD.finditer(text))
        spans = []
        for k in self._phrase_words:
            for i in range(len(words) - k + 1):
                if " ".join(w.group(0) for w in words[i:i + k]) in self._phrases:
                    spans.append((words[i].start(), words[i + k - 1].end()))
        return spans

    def redact(self, text: str) -> tuple[str, int]:
        """``(redacted text, number of replacements)``."""
        self._n = 0
        if not text or not self:
            return text, 0
        if self._phrases:
            for start, end in sorted(self._phrase_spans(text), reverse=True):
                if text[start:end] != "***":
                    text = text[:start] + "***" + text[end:]
                    self._n += 1
        if self._digits:
            text = _DIGIT_RUN.sub(self._digit_run, text)
        text = _ASCII_TOKEN.sub(self._token, text)
        if self._names:
            text = _NON_ASCII_RUN.sub(self._run, text)
        if self.contacts:
            text, n = mask_contacts(text)
            self._n += n
        return text, self._n
