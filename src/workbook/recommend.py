"""Next-best-category recommendation from purchase history, checked on a time holdout.

The question a store asks: *which product category should we suggest to this
member next?*  Two recommenders, both fitted on purchases before a cutoff:

* **popularity** (the baseline): every member gets the categories bought by the
  most members.
* **co-occurrence** (item-to-item): from all members' histories, the
  conditional probability ``P(c | c')`` that a member who bought category
  ``c'`` also bought ``c``.  A member's score for ``c`` is the average of
  ``P(c | c')`` over their own purchases (weighted by how often they bought
  each ``c'``)::

      score(m, c) = sum over c' of  share of m's purchases in c'  *  P(c | c')

  ``P(c | c) = 1``, so without ``exclude_seen`` a member's own favourite
  categories score high (repeat purchase); with ``exclude_seen=True`` only
  categories the member has never bought are suggested (cross-selling).

A recommendation is judged on a **time holdout** (:func:`holdout_hit_rate`):
fit on purchases before the cutoff, recommend ``k`` categories to every member
who buys again after it, and count a *hit* when the member bought at least one
of them in the holdout window.  The hit rate is compared with the popularity
baseline and, on synthetic data, with ranking by the generator's true
preferences (``category_preferences``): no recommender can expect to beat that
upper bound, because future purchases are drawn from exactly those
preferences.  Ties are broken by popularity, then by category name, so results
are deterministic (no randomness, hence no ``random_state``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from statsmodels.stats.proportion import proportion_confint

from workbook.errors import WorkbookInputError
from workbook.transactions import DAY, purchases
from workbook.validation import (
    require_choice,
    require_columns,
    require_dataframe,
    require_fitted,
    require_whole,
    resolve_analysis_date,
)

__all__ = [
    "METHODS",
    "NextBestCategory",
    "category_history",
    "conditional_probabilities",
    "hit_rate",
    "holdout_hit_rate",
]

#: Recommenders of :class:`NextBestCategory`, in display order.
METHODS = ("popularity", "cooccurrence")


def _category_rows(transactions: pd.DataFrame, *, analysis_date: object | None, member_col: str,
                   time_col: str, amount_col: str | None, return_col: str | None,
                   category_col: str) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Member purchases with a category (returns and walk-ins left out by the contract's rules)."""
    require_dataframe(transactions, "transactions")
    require_columns(transactions, [category_col], "transactions")
    rows, date = purchases(transactions, analysis_date=analysis_date, member_col=member_col,
                           time_col=time_col, amount_col=amount_col, return_col=return_col,
                           columns=[category_col])
    rows = rows.rename(columns={category_col: "category"})
    return rows[rows["category"].notna()], date


def category_history(
    transactions: pd.DataFrame,
    *,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str | None = "amount",
    return_col: str | None = "is_return",
    category_col: str = "category",
) -> pd.DataFrame:
    """Purchases per member and category before the analysis date.

    Returns and walk-in sales are left out (:func:`workbook.transactions.purchases`),
    and so are rows without a category.

    Returns
    -------
    DataFrame
        One row per member (index ``member_id``, sorted), one column per
        category (sorted), purchase counts (int64).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b", None],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-03"]),
    ...     "amount": [5.0, 6.0, 7.0, 8.0], "category": ["fresh", "snacks", "fresh", "baby"]})
    >>> category_history(tx)  # doctest: +NORMALIZE_WHITESPACE
    category   fresh  snacks
    member_id
    a              1       1
    b              1       0
    """
    rows, _ = _category_rows(transactions, analysis_date=analysis_date, member_col=member_col,
                             time_col=time_col, amount_col=amount_col, return_col=return_col,
                             category_col=category_col)
    if rows.empty:
        raise WorkbookInputError(
            f"No member purchase with a {category_col!r} value before the analysis date; "
            "check the category column and the date.",
            message_zh=f"分析日期之前没有带品类（{category_col}）的会员购买记录：请检查品类列和日期。",
        )
    return _count_table(rows["member_id"], rows["category"])


def _count_table(member: pd.Series, category: pd.Series, values: np.ndarray | None = None) -> pd.DataFrame:
    """Members x categories table of counts (or of ``values``, last one wins) via factorize + bincount."""
    m_codes, m_uniq = pd.factorize(member.astype(str), sort=True)
    c_codes, c_uniq = pd.factorize(category.astype(str), sort=True)
    flat = m_codes.astype(np.int64) * len(c_uniq) + c_codes
    if values is None:
        table = np.bincount(flat, minlength=len(m_uniq) * len(c_uniq)).astype("int64")
    else:
        table = np.full(len(m_uniq) * len(c_uniq), np.nan)
        table[flat] = values
    return pd.DataFrame(table.reshape(len(m_uniq), len(c_uniq)),
                        index=pd.Index(np.asarray(m_uniq, dtype=object), name="member_id", dtype="str"),
                        columns=pd.Index(np.asarray(c_uniq, dtype=object), name="category", dtype="str"))


def conditional_probabilities(history: pd.DataFrame) -> pd.DataFrame:
    """``P(c | c')``: share of the members who bought ``c'`` (row) who also bought ``c`` (column).

    Parameters
    ----------
    history : DataFrame
        Members x categories purchase counts, as :func:`category_history`.

    Returns
    -------
    DataFrame
        Categories x categories, rows the category already bought (``given``),
        columns the category also bought; the diagonal is 1 for every category
        someone bought.

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"fresh": [2, 1, 0], "snacks": [1, 0, 3]}, index=["a", "b", "c"])
    >>> conditional_probabilities(h)  # doctest: +NORMALIZE_WHITESPACE
             fresh  snacks
    given
    fresh      1.0     0.5
    snacks     0.5     1.0
    """
    if not isinstance(history, pd.DataFrame) or history.empty:
        raise WorkbookInputError("history must be a non-empty members x categories table (category_history).")
    bought = (history.to_numpy() > 0).astype("float64")
    both = bought.T @ bought  # members who bought row and column category
    buyers = np.diag(both).copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        cond = np.where(buyers[:, None] > 0, both / np.where(buyers > 0, buyers, 1.0)[:, None], 0.0)
    return pd.DataFrame(cond, index=pd.Index(history.columns, name="given"),
                        columns=pd.Index(history.columns, name=None))


class NextBestCategory(BaseEstimator):
    """Recommend the next category for each member from their purchase history.

    Parameters
    ----------
    method : {"cooccurrence", "popularity"}, default "cooccurrence"
        ``"cooccurrence"``: item-to-item conditional probabilities weighted by
        the member's own purchase mix (module docstring); ``"popularity"``: the
        categories bought by the most members, the same for everybody (baseline).
    exclude_seen : bool, default False
        Suggest only categories the member has not bought before (cross-selling).
    member_col, time_col, amount_col, return_col, category_col : str
        Column names of the transactions given to :meth:`fit`.

    Attributes
    ----------
    categories_ : list of str
        Categories seen in :meth:`fit`, most popular first (the tie-break order).
    popularity_ : Series
        Share of members who bought each category (index ``categories_``).
    history_ : DataFrame
        Members x categories purchase counts (:func:`category_history`).
    conditional_ : DataFrame
        ``P(c | c')`` (:func:`conditional_probabilities`), in ``categories_`` order.
    analysis_date_ : Timestamp
        Purchases at or after it were not used.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-01"] * 5), "amount": [1.0] * 5,
    ...     "category": ["baby", "dairy", "baby", "dairy", "snacks"]})
    >>> model = NextBestCategory(exclude_seen=True).fit(tx)
    >>> model.popularity_.round(2).to_dict()
    {'baby': 0.67, 'dairy': 0.67, 'snacks': 0.33}
    >>> model.recommend(["c"], k=1)
      member_id  rank category  score
    0         c     1     baby    0.0
    >>> NextBestCategory(exclude_seen=True).fit(tx.iloc[:3]).recommend(["b"], k=1)["category"].tolist()
    ['dairy']
    """

    def __init__(
        self,
        method: str = "cooccurrence",
        *,
        exclude_seen: bool = False,
        member_col: str = "member_id",
        time_col: str = "timestamp",
        amount_col: str | None = "amount",
        return_col: str | None = "is_return",
        category_col: str = "category",
    ) -> None:
        self.method = method
        self.exclude_seen = exclude_seen
        self.member_col = member_col
        self.time_col = time_col
        self.amount_col = amount_col
        self.return_col = return_col
        self.category_col = category_col

    def fit(self, transactions: pd.DataFrame, y: object = None, *, analysis_date: object | None = None
            ) -> NextBestCategory:
        """Learn popularity and co-occurrence from purchases before ``analysis_date``.

        Parameters
        ----------
        transactions : DataFrame
            Tidy transactions with a category column.  Not modified.
        y : ignored
            Present for scikit-learn compatibility.
        analysis_date : date-like, optional
            Default: midnight after the last transaction day.

        Returns
        -------
        NextBestCategory
            ``self``.
        """
        self._check_params()
        history = category_history(
            transactions, analysis_date=analysis_date, member_col=self.member_col, time_col=self.time_col,
            amount_col=self.amount_col, return_col=self.return_col, category_col=self.category_col,
        )
        date = resolve_analysis_date(transactions[self.time_col], analysis_date=analysis_date)
        return self._fit_history(history, date)

    def _check_params(self) -> None:
        require_choice(self.method, list(METHODS), "method")
        if not isinstance(self.exclude_seen, (bool, np.bool_)):
            raise WorkbookInputError(f"exclude_seen must be True or False, got {self.exclude_seen!r}.")

    def _fit_history(self, history: pd.DataFrame, analysis_date: pd.Timestamp) -> NextBestCategory:
        """Learn from a members x categories count table (shared by :func:`holdout_hit_rate`)."""
        self._check_params()
        reach = (history > 0).mean(axis=0)
        # most popular first; ties by name (history columns are sorted by name, and the sort is stable)
        order = reach.sort_values(ascending=False, kind="stable").index.tolist()
        self.categories_ = order
        self.popularity_ = reach[order].rename("popularity")
        self.history_ = history[order]
        self.conditional_ = conditional_probabilities(self.history_)
        self.analysis_date_ = analysis_date
        return self

    def score_categories(self, members: object = None) -> pd.DataFrame:
        """Score of every category for each member (higher = recommend first).

        Members without history before the cutoff get the popularity scores.
        With ``exclude_seen`` the categories a member already bought are NaN.

        Parameters
        ----------
        members : list-like of member ids, optional
            Default: every member in the history.

        Returns
        -------
        DataFrame
            Members x ``categories_``.
        """
        require_fitted(self, "history_")
        history = self.history_
        ids = history.index if members is None else pd.Index(pd.Series(list(members), dtype="str"),
                                                            name="member_id")
        counts = history.reindex(ids, fill_value=0).to_numpy(dtype="float64")
        popularity = self.popularity_.to_numpy()
        n_bought = counts.sum(axis=1, keepdims=True)
        if self.method == "popularity":
            scores = np.tile(popularity, (len(ids), 1))
        else:
            weights = counts / np.where(n_bought > 0, n_bought, 1.0)
            scores = weights @ self.conditional_.to_numpy()
            scores = np.where(n_bought > 0, scores, popularity)  # no history: the baseline
        if self.exclude_seen:
            scores = np.where(counts > 0, np.nan, scores)
        return pd.DataFrame(scores, index=ids, columns=pd.Index(self.categories_, name="category"))

    def recommend(self, members: object = None, k: int = 3) -> pd.DataFrame:
        """The top ``k`` categories per member, as a long table.

        Parameters
        ----------
        members : list-like of member ids, optional
            Default: every member in the history.
        k : int, default 3
            Categories per member (fewer when ``exclude_seen`` leaves fewer).

        Returns
        -------
        DataFrame
            Columns ``member_id``, ``rank`` (1 = first), ``category``, ``score``;
            sorted by member and rank.
        """
        k = require_whole(k, "k", minimum=1)
        return _top_k(self.score_categories(members), k)


def _top_k(scores: pd.DataFrame, k: int) -> pd.DataFrame:
    """The ``k`` best columns of each row of ``scores`` as a long table (NaN = never recommended).

    Rows are sorted by score, descending; ties go to the earlier column (``categories_``
    is in popularity order), so the ranking is deterministic.
    """
    values = scores.to_numpy(dtype="float64")
    n, n_cat = values.shape
    filled = np.where(np.isnan(values), -np.inf, values)
    order = np.lexsort((np.broadcast_to(np.arange(n_cat), (n, n_cat)), -filled), axis=1)[:, :k]
    kk = order.shape[1]
    picked = np.take_along_axis(values, order, axis=1)
    out = pd.DataFrame({
        "member_id": pd.array(np.repeat(scores.index.to_numpy(dtype=object), kk), dtype="str"),
        "rank": np.tile(np.arange(1, kk + 1), n),
        "category": pd.array(np.asarray(scores.columns, dtype=object)[order.ravel()], dtype="str"),
        "score": picked.ravel(),
    })
    return out[~np.isnan(picked).ravel()].reset_index(drop=True)


def hit_rate(recommendations: pd.DataFrame, bought: pd.DataFrame) -> pd.Series:
    """Per member: did they buy at least one recommended category? (1 = hit)

    Parameters
    ----------
    recommendations : DataFrame
        ``member_id``, ``category`` (as :meth:`NextBestCategory.recommend`).
    bought : DataFrame
        ``member_id``, ``category`` of the purchases in the holdout window.

    Returns
    -------
    Series
        0/1 per member of ``recommendations`` (index ``member_id``, sorted);
        its mean is the hit rate.

    Examples
    --------
    >>> import pandas as pd
    >>> rec = pd.DataFrame({"member_id": ["a", "a", "b"], "category": ["fresh", "baby", "snacks"]})
    >>> later = pd.DataFrame({"member_id": ["a", "b", "b"], "category": ["baby", "fresh", "fresh"]})
    >>> hit_rate(rec, later).to_dict()
    {'a': 1, 'b': 0}
    """
    for name, df in (("recommendations", recommendations), ("bought", bought)):
        require_dataframe(df, name)
        require_columns(df, ["member_id", "category"], name)
    pairs = bought[["member_id", "category"]].astype(str).drop_duplicates()
    pairs["hit"] = 1
    merged = recommendations[["member_id", "category"]].astype(str).merge(
        pairs, on=["member_id", "category"], how="left")
    return merged.groupby("member_id")["hit"].max().fillna(0).astype("int64").rename("hit")


def _oracle(prefs: pd.DataFrame, history: pd.DataFrame, members: pd.Index, k: int, exclude_seen: bool,
            categories: list[str]) -> pd.DataFrame:
    """Top ``k`` categories by the true preferences (the upper bound)."""
    require_dataframe(prefs, "true_preferences")
    require_columns(prefs, ["member_id", "category", "preference"], "true_preferences")
    wide = _count_table(prefs["member_id"], prefs["category"], prefs["preference"].to_numpy(dtype="float64"))
    missing = members.difference(wide.index)
    if len(missing):
        raise WorkbookInputError(f"true_preferences has no row for {len(missing)} evaluated member(s).")
    wide = wide.reindex(index=members, columns=categories)
    if exclude_seen:
        seen = history.reindex(index=members, columns=categories, fill_value=0).to_numpy() > 0
        wide = wide.mask(seen)
    return _top_k(wide, k)


def holdout_hit_rate(
    transactions: pd.DataFrame,
    *,
    analysis_date: object,
    horizon_days: int | None = None,
    k: int = 3,
    exclude_seen: bool = False,
    true_preferences: pd.DataFrame | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str | None = "amount",
    return_col: str | None = "is_return",
    category_col: str = "category",
) -> pd.DataFrame:
    """Hit rate@k of the recommenders on a time holdout, with the popularity baseline.

    Fit on purchases before ``analysis_date``; evaluate on members who bought
    before it *and* in the holdout window ``[analysis_date, analysis_date +
    horizon_days)``: a hit is a member who bought at least one of their ``k``
    recommended categories in the window.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions with a category column.  Not modified.
    analysis_date : date-like
        The cutoff between history and holdout.
    horizon_days : int, optional
        Length of the holdout window; default: to the end of the data.
    k : int, default 3
        Recommendations per member.
    exclude_seen : bool, default False
        Recommend (and count hits for) only categories new to the member.
    true_preferences : DataFrame, optional
        ``member_id``, ``category``, ``preference`` (the synthetic data's
        ``category_preferences``): adds the row ``true_preference``, ranking by
        the true preferences, the upper bound.
    member_col, time_col, amount_col, return_col, category_col : str
        Column names.

    Returns
    -------
    DataFrame
        Index ``method`` (``popularity``, ``cooccurrence``[, ``true_preference``]);
        columns ``hit_rate``, ``hits``, ``n_members``, ``ci_low``, ``ci_high``
        (95 % Wilson interval), ``lift_vs_popularity`` (hit rate minus the
        baseline's, in percentage points / 100).  ``attrs`` hold
        ``analysis_date``, ``holdout_end`` and ``k``.

    Examples
    --------
    >>> import pandas as pd
    >>> jan, mar = pd.Timestamp("2024-01-05"), pd.Timestamp("2024-03-05")
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "b", "b", "c", "d", "d", "e", "e", "a", "c"],
    ...     "timestamp": [jan] * 9 + [mar] * 2, "amount": [1.0] * 11,
    ...     "category": ["baby", "dairy", "baby", "dairy", "snacks", "snacks", "drinks", "snacks", "drinks",
    ...                  "baby", "snacks"]})
    >>> holdout_hit_rate(tx, analysis_date="2024-02-01", k=1)[["hit_rate", "n_members"]]  # doctest: +NORMALIZE_WHITESPACE
                  hit_rate  n_members
    method
    popularity         0.5          2
    cooccurrence       1.0          2
    """
    k = require_whole(k, "k", minimum=1)
    horizon_days = require_whole(horizon_days, "horizon_days", minimum=1, unit="days", allow_none=True)
    cols = dict(member_col=member_col, time_col=time_col, amount_col=amount_col, return_col=return_col,
                category_col=category_col)
    rows, end = _category_rows(transactions, analysis_date=None, **cols)
    cutoff = resolve_analysis_date(transactions[time_col], analysis_date=analysis_date)
    if cutoff >= end:
        raise WorkbookInputError(
            f"analysis_date {cutoff.date()} leaves no holdout: the data end on {(end - DAY).date()}.",
            message_zh=f"分析日期 {cutoff.date()} 之后没有数据可以检验推荐：数据截止到 {(end - DAY).date()}。",
        )
    holdout_end = end if horizon_days is None else min(end, cutoff + horizon_days * DAY)
    later = rows[(rows["ts"] >= cutoff) & (rows["ts"] < holdout_end)]
    before = rows[rows["ts"] < cutoff]
    if before.empty:
        raise WorkbookInputError(
            f"No member purchase with a category before analysis_date {cutoff.date()}.",
            message_zh=f"分析日期 {cutoff.date()} 之前没有带品类的会员购买记录。",
        )
    history = _count_table(before["member_id"], before["category"])
    models = {m: NextBestCategory(m, exclude_seen=exclude_seen, **cols)._fit_history(history, cutoff)
              for m in METHODS}
    members = pd.Index(np.intersect1d(history.index.to_numpy(dtype=str),
                                      later["member_id"].astype(str).unique()), name="member_id")
    if len(members) == 0:
        raise WorkbookInputError(
            "No member bought both before analysis_date and in the holdout window; choose another date.",
            message_zh="没有会员同时在分析日期之前和检验期内购买：请换一个分析日期或延长检验期。",
        )
    later = later[["member_id", "category"]].astype(str)
    if exclude_seen:  # only new categories count
        seen = history.stack()
        seen = seen[seen > 0].reset_index()[["member_id", "category"]].astype(str)
        later = later.merge(seen.assign(_seen=True), on=["member_id", "category"], how="left")
        later = later[later["_seen"].isna()].drop(columns="_seen")
    recs = {m: model.recommend(members, k=k) for m, model in models.items()}
    if true_preferences is not None:
        recs["true_preference"] = _oracle(true_preferences, history, members, k, exclude_seen,
                                          models["popularity"].categories_)
    out = []
    for method, rec in recs.items():
        hits = hit_rate(rec, later).reindex(members, fill_value=0)
        n_hit, n = int(hits.sum()), len(members)
        low, high = proportion_confint(n_hit, n, alpha=0.05, method="wilson")
        out.append({"method": method, "hit_rate": n_hit / n, "hits": n_hit, "n_members": n,
                    "ci_low": float(low), "ci_high": float(high)})
    table = pd.DataFrame(out).set_index("method")
    table["lift_vs_popularity"] = table["hit_rate"] - table.loc["popularity", "hit_rate"]
    table.attrs.update(analysis_date=cutoff, holdout_end=holdout_end, k=k)
    return table
