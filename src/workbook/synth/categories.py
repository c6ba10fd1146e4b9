"""Product categories of the synthetic transactions, drawn from member-level preferences.

The latent model (ground truth in the ``category_preferences`` table):

1. Every member belongs to a hidden shopper type (retail: family cook, young
   parent, snacker, home care; gym: class-goer, lifter, swimmer) with the
   type's typical category mix ``profile``.
2. The member's own category preferences are
   ``theta ~ Dirichlet(concentration * profile)``: close to the type's mix but
   individual (a small ``concentration`` makes members more different).
3. Each purchase (gym: each visit) independently falls into category ``c``
   with probability ``theta[c]``; a return keeps the category of the purchase
   it returns; a non-member walk-in sale follows the population mix; gym
   monthly fees have no category (missing).

Because shopper types mix several categories, categories co-occur within
members (baby buyers also buy dairy): that is what a next-best-category
recommendation learns from purchase history (:mod:`workbook.recommend`), and
``theta`` is the best any recommender could know (its upper bound).

The draws use their own random stream ``np.random.default_rng([random_state, 15_001])``,
so adding categories leaves every other generated column unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from workbook.ids import take_fixed_width
from workbook.synth.strings import take_strings

#: Category codes per business model, in display order.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "retail": ("fresh", "grain_oil", "dairy", "snacks", "drinks", "personal_care", "home", "baby"),
    "gym": ("group_class", "personal_training", "gym_floor", "swimming", "yoga"),
}

#: Chinese labels of the category codes (used by :mod:`workbook.labels`).
CATEGORY_LABELS_ZH: dict[str, str] = {
    "fresh": "生鲜",
    "grain_oil": "粮油",
    "dairy": "乳品",
    "snacks": "零食",
    "drinks": "饮料",
    "personal_care": "个护",
    "home": "家居",
    "baby": "母婴",
    "group_class": "团课",
    "personal_training": "私教",
    "gym_floor": "器械",
    "swimming": "游泳",
    "yoga": "瑜伽",
}

# Hidden shopper types: share of members, then relative weight of each category
# (same order as CATEGORIES).  Chosen so that categories co-occur in plausible groups.
_TYPES: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "retail": (
        np.array([0.35, 0.20, 0.25, 0.20]),
        np.array([
            # fresh grain dairy snacks drinks care home baby
            [5.0, 4.0, 2.0, 1.0, 1.0, 1.0, 2.0, 0.3],  # family cook
            [2.0, 1.0, 4.0, 0.5, 0.5, 2.0, 1.0, 5.0],  # young parent
            [0.5, 0.3, 1.0, 5.0, 4.0, 1.5, 0.5, 0.1],  # snacker
            [1.0, 1.0, 0.5, 1.0, 1.0, 4.0, 5.0, 0.2],  # home care
        ]),
    ),
    "gym": (
        np.array([0.45, 0.35, 0.20]),
        np.array([
            # class  pt  floor swim yoga
            [5.0, 0.5, 1.0, 1.0, 3.0],  # class-goer
            [1.0, 3.0, 5.0, 0.5, 0.3],  # lifter
            [1.0, 0.5, 1.5, 5.0, 1.0],  # swimmer
        ]),
    ),
}

#: Dirichlet concentration of a member's preferences around the type's mix.
CONCENTRATION = 4.0
#: Constant of this module's random stream (``default_rng([seed, STREAM])``).
STREAM = 15_001


def population_mix(business: str) -> np.ndarray:
    """Expected category shares over all members (the mix of walk-in sales).

    Examples
    --------
    >>> mix = population_mix("gym")
    >>> mix.shape, round(float(mix.sum()), 12)
    ((5,), 1.0)
    """
    share, profile = _TYPES[business]
    profile = profile / profile.sum(axis=1, keepdims=True)
    return share @ profile


def member_preferences(rng: np.random.Generator, business: str, n_members: int,
                       concentration: float = CONCENTRATION) -> np.ndarray:
    """True category preferences ``theta`` (one row per member, rows sum to 1).

    Dirichlet draws through normalised Gamma variables, so every member can have
    their own Dirichlet parameters without a loop.

    Examples
    --------
    >>> theta = member_preferences(np.random.default_rng(0), "retail", 4)
    >>> theta.shape, bool(np.allclose(theta.sum(axis=1), 1.0))
    ((4, 8), True)
    """
    share, profile = _TYPES[business]
    profile = profile / profile.sum(axis=1, keepdims=True)
    kind = np.minimum(np.searchsorted(np.cumsum(share), rng.random(n_members), side="right"), len(share) - 1)
    g = rng.gamma(concentration * profile[kind])
    total = g.sum(axis=1, keepdims=True)
    # a row of underflowed zeros (possible only for tiny concentrations) falls back to the type's mix
    return np.where(total > 0, g / np.where(total > 0, total, 1.0), profile[kind])


def draw_from_rows(rng: np.random.Generator, theta: np.ndarray, row: np.ndarray) -> np.ndarray:
    """One category index per element of ``row``, drawn with probabilities ``theta[row]``.

    Vectorised inverse CDF over the flattened cumulative rows: row ``m``'s
    cumulative shares are shifted to ``(m, m + 1]``, so one ``searchsorted`` over
    all rows picks the category without materialising ``theta[row]``.

    Examples
    --------
    >>> theta = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> draw_from_rows(np.random.default_rng(1), theta, np.array([0, 1, 1])).tolist()
    [0, 1, 1]
    """
    n_rows, n_cat = theta.shape
    cum = np.cumsum(theta, axis=1)
    cum[:, -1] = 1.0
    shifted = cum + np.arange(n_rows)[:, None]
    u = row + rng.random(len(row))
    # The search over the flattened rows, done row by row: every earlier row's values are at most
    # ``row <= u`` and every later row's at least ``row + 1 >= u``, so the position inside the row
    # is the count of its own values <= u (n_cat or more -> the last category).  Blocks of 2**18
    # draws read one cache line per draw instead of binary-searching ten million values.  Up to 8
    # categories, a row's eight comparisons (padded with +inf, never <= u) are one 8-byte word whose
    # set bits are counted (NumPy 2): 2x faster than summing the booleans along the rows.
    by_word = n_cat <= 8 and hasattr(np, "bitwise_count")
    if by_word and n_cat < 8:
        shifted = np.concatenate([shifted, np.full((n_rows, 8 - n_cat), np.inf)], axis=1)
    out = np.empty(len(row), dtype=np.int64)
    for lo in range(0, len(row), 1 << 18):
        hi = lo + (1 << 18)
        below = np.take(shifted, row[lo:hi], axis=0) <= u[lo:hi, None]
        out[lo:hi] = np.bitwise_count(below.view(np.uint64)).ravel() if by_word else below.sum(axis=1)
    return np.minimum(out, n_cat - 1)


def preference_draws(random_state: int, business: str, n_members: int) -> tuple[np.random.Generator, np.ndarray]:
    """The categories' random stream and the members' true preferences, its first draws.

    What :func:`transaction_categories` starts with; the generator draws them early
    (they need no transactions) in a thread and hands both over.

    Examples
    --------
    >>> rng, theta = preference_draws(3, "gym", 2)
    >>> theta.shape, bool(np.allclose(theta.sum(axis=1), 1.0))
    ((2, 5), True)
    """
    rng = np.random.default_rng([int(random_state), STREAM])
    return rng, member_preferences(rng, business, n_members)


def transaction_categories(
    random_state: int,
    business: str,
    n_members: int,
    member: np.ndarray,
    kind: np.ndarray,
    return_source: np.ndarray,
    n_walk_ins: int,
    *,
    preferences: tuple[np.random.Generator, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Category codes of all generated rows, in the generator's pre-sort layout.

    Parameters
    ----------
    random_state : int
        The generator's seed; this function uses its own stream from it.
    business : {"retail", "gym"}
        Chooses the category vocabulary.
    n_members : int
        Number of members.
    member : ndarray of int
        Member index of each purchase / visit / fee row.
    kind : ndarray of int
        0 purchase, 1 visit, 2 fee (fees get no category).
    return_source : ndarray of int
        For each return row, the index of the purchase row it returns.
    n_walk_ins : int
        Number of non-member walk-in rows (they come last).
    preferences : (Generator, ndarray), optional
        ``preference_draws(random_state, business, n_members)`` if already drawn
        (the stream continues from there: the same codes).

    Returns
    -------
    (codes, theta)
        ``codes``: index into ``CATEGORIES[business]`` per row (purchase rows,
        then returns, then walk-ins), -1 where there is no category; ``theta``:
        the members' true preferences, shape ``(n_members, n_categories)``.

    Examples
    --------
    >>> codes, theta = transaction_categories(3, "gym", 2, np.array([0, 1, 1]), np.array([1, 2, 1]),
    ...                                       np.array([], dtype=int), 2)
    >>> codes.shape, int(codes[1]), theta.shape
    ((5,), -1, (2, 5))
    """
    rng, theta = preference_draws(random_state, business, n_members) if preferences is None else preferences
    member = np.asarray(member, dtype=np.int64)
    codes = draw_from_rows(rng, theta, member)
    codes = np.where(np.asarray(kind) == 2, -1, codes).astype(np.int8)  # a few categories: 1 byte per row
    mix = population_mix(business)
    walk = np.minimum(np.searchsorted(np.cumsum(mix), rng.random(n_walk_ins), side="right"), len(mix) - 1)
    return np.concatenate([codes, codes[np.asarray(return_source, dtype=np.int64)], walk.astype(np.int8)]), theta


def category_series(business: str, codes: np.ndarray) -> pd.Series:
    """Codes (-1 = missing) -> a pandas ``str`` Series of category names.

    Examples
    --------
    >>> category_series("gym", np.array([0, -1])).tolist()
    ['group_class', nan]
    """
    return pd.Series(take_strings(list(CATEGORIES[business]), codes), dtype="str")


def preferences_frame(member_ids: pd.Series, theta: np.ndarray, business: str) -> pd.DataFrame:
    """The ground-truth table: one row per member and category, with the true preference.

    Rounded to 4 decimals (small files); rows of one member still sum to 1 within 5e-4.

    Examples
    --------
    >>> t = preferences_frame(pd.Series(["M1"]), np.array([[0.25, 0.25, 0.25, 0.125, 0.125]]), "gym")
    >>> t["category"].tolist()[:2], t["preference"].tolist()[:2]
    (['group_class', 'personal_training'], [0.25, 0.25])
    """
    vocab = CATEGORIES[business]
    n, k = theta.shape
    return pd.DataFrame(
        {
            "member_id": pd.Series(take_fixed_width(pa.array(member_ids, type=pa.string()), np.repeat(np.arange(n), k)),
                                   dtype="str"),
            "category": pd.Series(take_strings(list(vocab), np.tile(np.arange(k), n)), dtype="str"),
            "preference": np.round(theta.ravel(), 4).astype(np.float64),
        }
    )
