"""RFM analysis: recency, frequency, monetary value, scores and named segments.

The workflow is::

    rfm = rfm_table(transactions)                  # one row per member
    scored = RFMScorer(bins=5).fit_transform(rfm)  # quantile scores 1-5
    seg = segment(scored)                          # 11 named segments (or scheme="cn8")
    segment_summary(seg)                           # members and revenue per segment
    segment_actions()                              # what to do with each segment

Definitions
-----------
``recency_days``
    Whole days since the last purchase at the analysis date (see
    :mod:`workbook.aggregate`); a purchase on the last day before the analysis
    date has recency 0.
``frequency``
    Number of purchase transactions (returns excluded).
``repeat_frequency``
    Purchases after the first one: ``frequency - 1`` (0 for one-time buyers).
``monetary_total``, ``monetary_avg``
    Net spend (purchases minus returns) and net spend per purchase.

Quantile scores (:class:`RFMScorer`)
    ``fit`` stores the reference distribution of each measure; ``transform``
    gives each value the quantile bin that contains the *middle of its rank
    interval* in the reference.  With ``n`` reference members, a value ``x``
    with ``L`` reference values below it and ``E`` equal to it occupies the
    rank interval ``[L/n, (L+E)/n]``; its score is
    ``ceil(bins * (2L + E) / (2n))`` clipped to ``1..bins``.  Consequences:
    equal values always get equal scores (ties never split by row order), the
    result does not depend on row order, untied data are split into equal-sized
    bins, and a later period scored with the same fitted scorer is on the same
    scale.  Recency is scored inversely (recent = high score) by applying the
    rule to ``-recency_days``.

Frequency when most members bought once (the F rule for heavy ties)
    Retail data usually has 40-90 % one-time buyers.  The mid-rank rule then
    gives every one-time buyer F = 2 (the middle of a tie holding more than
    ``2 / bins`` of the members lies in the second bin), so no member has F = 1
    and segments such as "New customers" and "Promising" could never occur.
    So when the lowest reference frequency would not score 1, the quantiles
    have collapsed and F is scored by purchase count instead: each of the
    lowest ``bins - 1`` distinct reference frequencies gets its own score and
    all higher ones share the top score (with ``bins=5``: 1, 2, 3, 4, and
    5 or more purchases).  A value between reference values scores like the
    next lower one plus one (``1 + number of distinct reference values below
    it``, at most ``bins``).  ``RFMScorer.frequency_rule_`` says which rule was
    used (``"quantiles"`` or ``"purchase counts"``) and ``score_ranges_`` lists
    what each score means.  R and M are always scored by quantiles.

Segment maps (:data:`SEGMENTS`, one table used by the code and by :func:`segment_actions`)
    ``"rfm11"``: eleven English segments (Champions ... Lost) on the 5 x 5 grid
    of the R score and the FM score, ``FM = round_half_up((F + M) / 2)`` (or
    ``F`` alone with ``fm="f"``); every cell of the grid belongs to exactly one
    segment.
    ``"cn8"``: the classic Chinese 8-class map (重要价值客户 ... 一般挽留客户):
    each of R, F, M is "high" or "low" against the mean (or median) of all
    members; high recency means *recent*, i.e. ``recency_days`` below the
    reference; a value equal to the reference counts as low.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from workbook.aggregate import member_summary
from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.validation import (
    format_rows,
    require_choice,
    require_columns,
    require_dataframe,
    require_fitted,
    require_no_missing,
    require_numeric,
)

RFM_COLUMNS = ["recency_days", "frequency", "repeat_frequency", "monetary_total", "monetary_avg"]
SCORE_COLUMNS = ["r_score", "f_score", "m_score"]

# --------------------------------------------------------------------------------------
# RFM table
# --------------------------------------------------------------------------------------


def rfm_from_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """RFM columns from a :func:`workbook.aggregate.member_summary` table.

    Use this when the member summary is already computed (for example to share
    one pass over the transactions between RFM and lifecycle stages).

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`workbook.aggregate.member_summary`.  Not modified.

    Returns
    -------
    DataFrame
        Same index, columns :data:`RFM_COLUMNS`; ``attrs["analysis_date"]`` is
        carried over.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.aggregate import member_summary
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> rfm_from_summary(member_summary(tx))["repeat_frequency"].tolist()
    [1, 0]
    """
    require_dataframe(summary, "summary")
    require_columns(summary, ["recency_days", "n_purchases", "monetary_total", "monetary_avg"], "summary")
    out = pd.DataFrame(
        {
            "recency_days": summary["recency_days"].astype("int64"),
            "frequency": summary["n_purchases"].astype("int64"),
            "repeat_frequency": summary["n_purchases"].astype("int64") - 1,
            "monetary_total": summary["monetary_total"].astype("float64"),
            "monetary_avg": summary["monetary_avg"].astype("float64"),
        },
        index=summary.index.copy(),
    )
    out.attrs = dict(summary.attrs)
    return out


@renamed_arguments(positional=("analysis_date",))
def rfm_table(
    transactions: pd.DataFrame,
    *,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    engine: str | None = None,
) -> pd.DataFrame:
    """Recency, frequency and monetary value of every member who bought.

    Parameters
    ----------
    transactions : DataFrame (or anything :func:`workbook.aggregate.member_summary` accepts)
        Tidy transactions (see the data contract in CONTRIBUTING.md).  Not modified.
    analysis_date : date-like, optional
        The "today" of the analysis; default midnight after the last
        transaction day.  Transactions at or after it are ignored.
    member_col, time_col, amount_col, return_col : str
        Column names; ``return_col`` may be absent (negative amounts are then returns).
    engine : {None, "pandas", "duckdb", "spark"}
        Passed to :func:`workbook.aggregate.member_summary` (``None`` picks it
        from the type of ``transactions``).

    Returns
    -------
    DataFrame
        Indexed by member id, columns ``recency_days``, ``frequency``,
        ``repeat_frequency``, ``monetary_total``, ``monetary_avg`` (see the
        module docstring).  ``attrs["analysis_date"]`` holds the date used.

    Raises
    ------
    WorkbookInputError
        Empty frame, missing column, non-numeric amount, analysis date before
        the data, or no member purchase before the analysis date.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> rfm = rfm_table(tx, analysis_date="2024-01-11")
    >>> rfm[["recency_days", "frequency", "monetary_avg"]].to_dict("index")
    {'a': {'recency_days': 1, 'frequency': 2, 'monetary_avg': 15.0}, 'b': {'recency_days': 6, 'frequency': 1, 'monetary_avg': 5.0}}
    """
    summary = member_summary(
        transactions,
        analysis_date=analysis_date,
        member_col=member_col,
        time_col=time_col,
        amount_col=amount_col,
        return_col=return_col,
        engine=engine,
    )
    if summary.empty:
        raise WorkbookInputError(
            f"No member made a purchase before the analysis date "
            f"{summary.attrs.get('analysis_date')}: column {member_col!r} is empty for "
            "all earlier rows or every earlier row is a return. Choose a later analysis_date."
        )
    return rfm_from_summary(summary)


# --------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------


def _check_measures(df: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    require_dataframe(df, name)
    require_columns(df, list(columns), name)
    for col in columns:
        require_numeric(df, col, name)


def _unique_inverse_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True, return_counts=True)``, without a sort for day counts.

    Recency and frequency are whole numbers in a small range: counting them is
    linear, where ``np.unique`` sorts every member.
    """
    if len(values) and np.isfinite(values).all():
        lo, hi = values.min(), values.max()
        if hi - lo < 1 << 22 and (values == np.floor(values)).all():
            offset = (values - lo).astype("int64")
            counts = np.bincount(offset)
            present = counts > 0
            uniq = (np.flatnonzero(present) + lo).astype(values.dtype)
            return uniq, (np.cumsum(present) - 1)[offset], counts[present]
    uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return uniq, inverse.reshape(-1), counts


def _mid_rank_scores(values: np.ndarray, uniq: np.ndarray, cum: np.ndarray, bins: int) -> np.ndarray:
    """Score = quantile bin containing the middle of each value's rank interval."""
    n = int(cum[-1])
    # 2L + E; integer arithmetic avoids rounding at bin edges
    if values is uniq:  # scoring the distinct values themselves (fit_transform): they are their own ranks
        twice_mid = cum[:-1] + cum[1:]
    else:
        # Searching sorted keys is several times faster (cache-friendly) than random ones.
        order = np.argsort(values)
        keys = values[order]
        twice_mid = np.empty(len(values), dtype="int64")
        twice_mid[order] = (cum[np.searchsorted(uniq, keys, side="left")]
                            + cum[np.searchsorted(uniq, keys, side="right")])
    score = (twice_mid * bins + 2 * n - 1) // (2 * n)
    return np.clip(score, 1, bins).astype("int64")


def _count_scores(values: np.ndarray, uniq: np.ndarray, bins: int) -> np.ndarray:
    """Score = 1 + distinct reference values below, at most ``bins`` (F by purchase count)."""
    return np.minimum(1 + np.searchsorted(uniq, values, side="left"), bins).astype("int64")


def _rfm_code(r: np.ndarray, f: np.ndarray, m: np.ndarray, sep: str) -> pd.Categorical:
    """``"545"`` codes as a categorical: strings are built once per distinct combination."""
    base = int(max(r.max(initial=0), f.max(initial=0), m.max(initial=0))) + 1
    code = (r * base + f) * base + m
    if base**3 <= 1 << 22:  # few possible codes: count them instead of sorting every member's
        present = np.bincount(code, minlength=base**3) > 0
        combo, inverse = np.flatnonzero(present), (np.cumsum(present) - 1)[code]
    else:
        combo, inverse = np.unique(code, return_inverse=True)
    rr, rest = np.divmod(combo, base * base)
    ff, mm = np.divmod(rest, base)
    labels = [f"{a}{sep}{b}{sep}{c}" for a, b, c in zip(rr, ff, mm, strict=True)]  # <= bins**3 labels
    return pd.Categorical.from_codes(inverse.reshape(-1), categories=pd.Index(labels, dtype="str"))


def _attach_scores(
    rfm: pd.DataFrame, r: np.ndarray, f: np.ndarray, m: np.ndarray, max_scores: tuple[int, int, int]
) -> pd.DataFrame:
    out = rfm.copy(deep=False)  # copy-on-write: the new columns never reach ``rfm``; no data copied
    out["r_score"] = r
    out["f_score"] = f
    out["m_score"] = m
    out["rfm_code"] = _rfm_code(r, f, m, "" if max(max_scores) <= 9 else "-")
    out["rfm_sum"] = r + f + m
    out.attrs = dict(rfm.attrs)
    out.attrs["rfm_max_scores"] = max_scores
    return out


class RFMScorer(TransformerMixin, BaseEstimator):
    """Quantile scores for R, F and M, learned on a reference period.

    Parameters
    ----------
    bins : int, default 5
        Number of score levels (scores run from 1 to ``bins``; higher is better).
    recency_col, frequency_col, amount_col : str
        Columns of the RFM table to score.

    Attributes
    ----------
    n_reference_ : int
        Members in the reference table.
    frequency_rule_ : {"quantiles", "purchase counts"}
        How F is scored: by the mid-rank quantile rule, or, when the lowest
        frequency holds so many members that it would not score 1 (the
        quantiles collapse; typically more than 40 % one-time buyers with
        ``bins=5``), by purchase count (see :mod:`workbook.rfm`).
    score_ranges_ : DataFrame
        One row per measure and score: ``dimension``, ``score``, ``min`` and
        ``max`` of the reference values with that score and ``share`` of
        reference members.  Read it as "F = 3 means 2 to 3 purchases".

    Notes
    -----
    The tie rule is documented in :mod:`workbook.rfm`: a value's score is the
    quantile bin containing the middle of its rank interval, so equal values
    share a score, row order never matters and heavily tied R or M values may
    leave some scores unused rather than splitting ties.  For F the quantiles
    would collapse whenever most members bought once; F is then scored by
    purchase count, so one-time buyers have F = 1 and every segment stays
    reachable.

    Examples
    --------
    >>> import pandas as pd
    >>> rfm = pd.DataFrame({"recency_days": [1, 5, 10, 40, 90],
    ...     "frequency": [9, 4, 4, 2, 1], "monetary_total": [900.0, 300, 250, 80, 20]})
    >>> scorer = RFMScorer(bins=5).fit(rfm)
    >>> scorer.transform(rfm)[["r_score", "f_score", "m_score"]].to_numpy().tolist()
    [[5, 5, 5], [4, 3, 4], [3, 3, 3], [2, 2, 2], [1, 1, 1]]
    """

    def __init__(
        self,
        bins: int = 5,
        *,
        recency_col: str = "recency_days",
        frequency_col: str = "frequency",
        amount_col: str = "monetary_total",
    ):
        self.bins = bins
        self.recency_col = recency_col
        self.frequency_col = frequency_col
        self.amount_col = amount_col

    def _columns(self) -> list[str]:
        return [self.recency_col, self.frequency_col, self.amount_col]

    def _signed(self, X: pd.DataFrame) -> list[np.ndarray]:
        r = -X[self.recency_col].to_numpy(dtype="float64")
        f = X[self.frequency_col].to_numpy(dtype="float64")
        m = X[self.amount_col].to_numpy(dtype="float64")
        return [r, f, m]

    def fit(self, X: pd.DataFrame, y: object = None) -> RFMScorer:
        """Store the reference distribution of each measure.

        Parameters
        ----------
        X : DataFrame
            RFM table of the reference period (e.g. from :func:`rfm_table`).
        y : ignored

        Returns
        -------
        RFMScorer
            The fitted scorer.
        """
        self._fit(X)
        return self

    def fit_transform(self, X: pd.DataFrame, y: object = None) -> pd.DataFrame:
        """Fit on ``X`` and score it: the same result as ``fit(X).transform(X)``.

        Each measure is sorted once: the reference members' scores are the
        scores of their distinct values, looked up by position.

        Parameters
        ----------
        X : DataFrame
            RFM table of the reference period.  Not modified.
        y : ignored

        Returns
        -------
        DataFrame
            As :meth:`transform`.
        """
        inverses = self._fit(X)
        bins = int(self.bins)
        r, f, m = (
            self._score(dim, uniq, uniq, cum)[inverse]
            for dim, inverse, (uniq, cum) in zip("RFM", inverses, self.reference_, strict=True)
        )
        return _attach_scores(X, r, f, m, (bins, bins, bins))

    def _fit(self, X: pd.DataFrame) -> list[np.ndarray]:
        """Learn the reference distributions; return each member's position among the distinct values."""
        if isinstance(self.bins, bool) or not isinstance(self.bins, (int, np.integer)) or self.bins < 2:
            raise WorkbookInputError(f"bins must be an integer of at least 2, got {self.bins!r}.",
                                     message_zh=f"分档数 bins（笔记本参数 RFM_BINS）必须是不小于 2 的整数，例如 3 或 5；现在是 {self.bins!r}。")
        _check_measures(X, self._columns(), "rfm")
        self.reference_ = []
        inverses = []
        for values in self._signed(X):
            uniq, inverse, counts = _unique_inverse_counts(values)
            self.reference_.append((uniq, np.concatenate([[0], np.cumsum(counts)])))
            inverses.append(inverse)
        f_uniq, f_cum = self.reference_[1]
        collapsed = len(f_uniq) > 0 and _mid_rank_scores(f_uniq[:1], f_uniq, f_cum, int(self.bins))[0] > 1
        self.frequency_rule_ = "purchase counts" if collapsed else "quantiles"
        self.n_reference_ = len(X)
        self.score_ranges_ = self._score_ranges(X)
        return inverses

    def _score_ranges(self, X: pd.DataFrame) -> pd.DataFrame:
        frames = []
        for dim, col, sign, (uniq, cum) in zip(
            ["R", "F", "M"], self._columns(), [-1, 1, 1], self.reference_, strict=True
        ):
            scores = self._score(dim, uniq, uniq, cum)
            t = pd.DataFrame({"score": scores, "value": sign * uniq, "count": np.diff(cum)})
            g = t.groupby("score").agg(min=("value", "min"), max=("value", "max"), n=("count", "sum"))
            g = g.reset_index()
            g.insert(0, "dimension", dim)
            g.insert(1, "column", col)
            g["share"] = g.pop("n") / cum[-1]
            frames.append(g)
        return pd.concat(frames, ignore_index=True)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Score each member with the fitted reference distribution.

        Parameters
        ----------
        X : DataFrame
            RFM table (any period).  Not modified.

        Returns
        -------
        DataFrame
            A copy of ``X`` with ``r_score``, ``f_score``, ``m_score`` (int,
            1..bins), ``rfm_code`` (categorical of strings such as ``"545"``;
            dash-separated when ``bins > 9``) and ``rfm_sum``.
        """
        require_fitted(self, "reference_")
        _check_measures(X, self._columns(), "rfm")
        bins = int(self.bins)
        r, f, m = (
            self._score(dim, v, uniq, cum)
            for dim, v, (uniq, cum) in zip("RFM", self._signed(X), self.reference_, strict=True)
        )
        return _attach_scores(X, r, f, m, (bins, bins, bins))

    def _score(self, dim: str, values: np.ndarray, uniq: np.ndarray, cum: np.ndarray) -> np.ndarray:
        if dim == "F" and self.frequency_rule_ == "purchase counts":
            return _count_scores(values, uniq, int(self.bins))
        return _mid_rank_scores(values, uniq, cum, int(self.bins))


def _threshold_array(values: object, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise WorkbookInputError(f"{name} thresholds must be numbers, got {values!r}.") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise WorkbookInputError(f"{name} thresholds must be a non-empty list of numbers, got {values!r}.")
    if not np.isfinite(arr).all() or (np.diff(arr) <= 0).any():
        raise WorkbookInputError(
            f"{name} thresholds must be finite and strictly increasing, got {list(arr)}."
        )
    return arr


def score_by_thresholds(
    rfm: pd.DataFrame,
    *,
    recency_days: Sequence[float],
    frequency: Sequence[float],
    monetary: Sequence[float],
    recency_col: str = "recency_days",
    frequency_col: str = "frequency",
    amount_col: str = "monetary_total",
) -> pd.DataFrame:
    """Score R, F and M with business thresholds chosen by the user.

    With ``k`` increasing thresholds a measure gets scores ``1..k+1``:

    * recency: thresholds are inclusive *upper* bounds of the better scores:
      ``recency_days=[30, 90, 180, 365]`` gives 5 for 0-30 days, 4 for 31-90,
      3 for 91-180, 2 for 181-365 and 1 beyond 365;
    * frequency and monetary: thresholds are inclusive *lower* bounds of the
      higher scores: ``frequency=[2, 3, 5, 10]`` gives 1 for one purchase, 2
      for two, 3 for 3-4, 4 for 5-9 and 5 for 10 or more.

    Parameters
    ----------
    rfm : DataFrame
        RFM table.  Not modified.
    recency_days, frequency, monetary : sequence of float
        Strictly increasing thresholds.
    recency_col, frequency_col, amount_col : str
        Columns to score.

    Returns
    -------
    DataFrame
        A copy of ``rfm`` with the same score columns as :meth:`RFMScorer.transform`.

    Examples
    --------
    >>> import pandas as pd
    >>> rfm = pd.DataFrame({"recency_days": [30, 31, 400], "frequency": [1, 2, 12],
    ...     "monetary_total": [50.0, 500.0, 5000.0]})
    >>> s = score_by_thresholds(rfm, recency_days=[30, 90, 180, 365],
    ...     frequency=[2, 3, 5, 10], monetary=[100, 300, 1000, 3000])
    >>> s[["r_score", "f_score", "m_score"]].to_numpy().tolist()
    [[5, 1, 1], [4, 2, 3], [1, 5, 5]]
    """
    _check_measures(rfm, [recency_col, frequency_col, amount_col], "rfm")
    rt = _threshold_array(recency_days, "recency_days")
    ft = _threshold_array(frequency, "frequency")
    mt = _threshold_array(monetary, "monetary")
    r = len(rt) + 1 - np.searchsorted(rt, rfm[recency_col].to_numpy(dtype="float64"), side="left")
    f = 1 + np.searchsorted(ft, rfm[frequency_col].to_numpy(dtype="float64"), side="right")
    m = 1 + np.searchsorted(mt, rfm[amount_col].to_numpy(dtype="float64"), side="right")
    return _attach_scores(
        rfm, r.astype("int64"), f.astype("int64"), m.astype("int64"), (len(rt) + 1, len(ft) + 1, len(mt) + 1)
    )


# --------------------------------------------------------------------------------------
# Segment maps: ONE table for rules, labels, descriptions and actions
# --------------------------------------------------------------------------------------

_SEGMENT_FIELDS = (
    "scheme", "segment", "name_en", "name_zh",
    "r_min", "r_max", "fm_min", "fm_max",  # rfm11: rectangle on the R x FM grid
    "r_high", "f_high", "m_high",  # cn8: high/low pattern
    "description_en", "description_zh", "action_en", "action_zh",
)  # fmt: skip

_N = None
_SEGMENT_RECORDS = (
    # ---- rfm11: the widely used 11-segment map on the 5 x 5 grid of R and FM scores ----
    ("rfm11", "champions", "Champions", "冠军客户", 5, 5, 4, 5, _N, _N, _N,
     "Bought recently, buy often and spend the most.",
     "最近刚买过、买得多、花得多。",
     "Reward them: early access, exclusive events, ask for reviews and referrals; no discounts needed.",
     "给予回馈：新品优先购、专属活动，邀请评价与推荐；无需打折。"),
    ("rfm11", "loyal", "Loyal", "忠诚客户", 3, 4, 4, 5, _N, _N, _N,
     "Buy often and spend well; last purchase not the most recent.",
     "经常购买且消费高，但最近一次购买不是最新。",
     "Upsell higher-value products, invite to the next tier, keep them engaged with points.",
     "推荐高价值商品，邀请升级会员等级，用积分保持互动。"),
    ("rfm11", "potential_loyalists", "Potential loyalists", "潜力忠诚客户", 4, 5, 2, 3, _N, _N, _N,
     "Recent customers with average frequency and spend.",
     "近期购买，购买频次与金额中等。",
     "Offer membership benefits and personalised recommendations to build the habit.",
     "推介会员权益和个性化推荐，培养购买习惯。"),
    ("rfm11", "new", "New customers", "新客户", 5, 5, 1, 1, _N, _N, _N,
     "Bought very recently, but only once or for little.",
     "刚刚首次购买，次数少、金额低。",
     "Onboard them: welcome message, second-purchase coupon, explain the points programme.",
     "做好新客引导：欢迎消息、二次购买券、介绍积分规则。"),
    ("rfm11", "promising", "Promising", "有潜力客户", 4, 4, 1, 1, _N, _N, _N,
     "Recent shoppers who have not bought much yet.",
     "近期购买过，但买得还不多。",
     "Build brand awareness, free trials or samples, a time-limited second-visit offer.",
     "提升品牌认知：试用装、小样，限时回店礼。"),
    ("rfm11", "need_attention", "Need attention", "需要关注客户", 3, 3, 3, 3, _N, _N, _N,
     "Average recency, frequency and spend; may slip away.",
     "最近购买时间、频次和金额都处于中等，可能流失。",
     "Limited-time offers based on past purchases; reactivate before they fall asleep.",
     "根据历史购买推送限时优惠，在沉睡前唤醒。"),
    ("rfm11", "about_to_sleep", "About to sleep", "即将沉睡客户", 3, 3, 1, 2, _N, _N, _N,
     "Below-average recency and frequency; will be lost without action.",
     "购买时间和频次低于平均，不干预就会流失。",
     "Share popular products and relevant discounts; reconnect through WeChat or SMS.",
     "推送热销商品与相关折扣，通过企业微信或短信重新联系。"),
    ("rfm11", "at_risk", "At risk", "有流失风险客户", 1, 2, 3, 4, _N, _N, _N,
     "Bought often and spent well, but long ago.",
     "过去买得多、花得多，但很久没来了。",
     "Personalised win-back messages, renewal offers, a call from the store.",
     "个性化挽回信息、续费或回店优惠，门店电话回访。"),
    ("rfm11", "cant_lose", "Can't lose them", "不能失去的客户", 1, 2, 5, 5, _N, _N, _N,
     "Used to be among the best customers but have not come back for a long time.",
     "曾经是最好的客户之一，但已很久没有回来。",
     "Win them back with the strongest offers and personal contact; find out what went wrong.",
     "用最有力的优惠和一对一联系赢回，并了解流失原因。"),
    ("rfm11", "hibernating", "Hibernating", "休眠客户", 2, 2, 1, 2, _N, _N, _N,
     "Last purchase long ago, few purchases and low spend.",
     "很久没买，购买次数少、金额低。",
     "Offer relevant products and special discounts at low cost; recreate brand value.",
     "低成本推送相关商品和专属折扣，重新建立品牌价值。"),
    ("rfm11", "lost", "Lost", "已流失客户", 1, 1, 1, 2, _N, _N, _N,
     "Lowest recency, frequency and spend.",
     "最久没买、购买次数和金额都最低。",
     "Revive interest with a reach-out campaign only if cheap; otherwise ignore.",
     "仅在成本很低时做唤醒触达，否则不再投入。"),
    # ---- cn8: the classic Chinese 8-class RFM map (high/low against the reference) ----
    ("cn8", "important_value", "Important value", "重要价值客户", _N, _N, _N, _N, True, True, True,
     "Recent, frequent and high-spending: the most valuable members.",
     "最近消费、频次高、金额高：最有价值的会员。",
     "Keep them: VIP service, exclusive privileges, tier upgrades.",
     "重点维护：VIP服务、专属特权、等级升级。"),
    ("cn8", "important_develop", "Important development", "重要发展客户", _N, _N, _N, _N, True, False, True,
     "Recent and high-spending but buy rarely.",
     "最近消费、金额高，但购买频次低。",
     "Raise frequency: membership benefits, repurchase reminders, bundles.",
     "提升购买频次：会员权益、复购提醒、组合套餐。"),
    ("cn8", "important_keep", "Important retention", "重要保持客户", _N, _N, _N, _N, False, True, True,
     "Frequent and high-spending but have not bought recently.",
     "频次高、金额高，但最近没有消费。",
     "Reach out proactively before they lapse: personal contact, targeted offers.",
     "主动联系，防止流失：一对一沟通、定向优惠。"),
    ("cn8", "important_retain", "Important win-back", "重要挽留客户", _N, _N, _N, _N, False, False, True,
     "High spend in the past, but rare and not recent.",
     "过去金额高，但频次低且很久没来。",
     "Win them back: find the reason for leaving, strong reactivation offers.",
     "重点挽留：了解流失原因，给予有力的召回优惠。"),
    ("cn8", "general_value", "General value", "一般价值客户", _N, _N, _N, _N, True, True, False,
     "Recent and frequent but low spend per member.",
     "最近消费、频次高，但金额低。",
     "Raise basket size: cross-selling, spend-and-save thresholds.",
     "提升客单价：交叉销售、满减活动。"),
    ("cn8", "general_develop", "General development", "一般发展客户", _N, _N, _N, _N, True, False, False,
     "Recent but rare and low-spending, often new members.",
     "最近消费，但频次低、金额低，多为新会员。",
     "Nurture: welcome journey, second-purchase coupon.",
     "培育：新客旅程、二次购买券。"),
    ("cn8", "general_keep", "General retention", "一般保持客户", _N, _N, _N, _N, False, True, False,
     "Used to buy often for small amounts, not recently.",
     "过去经常小额购买，最近没来。",
     "Low-cost reminders and small incentives.",
     "低成本提醒和小额激励。"),
    ("cn8", "general_retain", "General win-back", "一般挽留客户", _N, _N, _N, _N, False, False, False,
     "Not recent, rare and low spend.",
     "很久没来、频次低、金额低。",
     "Low priority; include only in cheap mass campaigns.",
     "低优先级，仅纳入低成本的群发活动。"),
)  # fmt: skip

def _build_segment_table() -> pd.DataFrame:
    table = pd.DataFrame.from_records(list(_SEGMENT_RECORDS), columns=list(_SEGMENT_FIELDS))
    for col in ["r_min", "r_max", "fm_min", "fm_max"]:
        table[col] = table[col].astype("Int64")
    for col in ["r_high", "f_high", "m_high"]:
        table[col] = table[col].astype("boolean")
    for col in ["scheme", "segment", "name_en", "name_zh"] + list(_SEGMENT_FIELDS[-4:]):
        table[col] = table[col].astype("str")
    return table


#: The segment table: rules (``r_min``..``fm_max`` for ``rfm11``; ``r_high``,
#: ``f_high``, ``m_high`` for ``cn8``), bilingual labels, descriptions and
#: suggested actions.  :func:`segment` reads its rules from the same records
#: (a fresh copy each call, so editing this frame does not change the code).
SEGMENTS = _build_segment_table()

SCHEMES = ("rfm11", "cn8")


def _segment_table(scheme: str) -> pd.DataFrame:
    table = _build_segment_table()
    return table.loc[table["scheme"] == scheme].reset_index(drop=True)


def _rule_text(row: pd.Series) -> str:
    if row["scheme"] == "rfm11":
        def rng(lo: int, hi: int) -> str:
            return f"{lo}" if lo == hi else f"{lo}-{hi}"
        return f"R {rng(int(row['r_min']), int(row['r_max']))}, FM {rng(int(row['fm_min']), int(row['fm_max']))}"
    hl = {True: "high 高", False: "low 低"}
    return f"R {hl[bool(row['r_high'])]}, F {hl[bool(row['f_high'])]}, M {hl[bool(row['m_high'])]}"


def segment_actions(scheme: str | None = None) -> pd.DataFrame:
    """Bilingual table of segments with their rule, description and suggested action.

    Parameters
    ----------
    scheme : {"rfm11", "cn8"}, optional
        Only this map; default both.

    Returns
    -------
    DataFrame
        Columns ``scheme``, ``segment`` (code), ``name_en``, ``中文名``,
        ``rule``, ``description``, ``说明``, ``suggested_action``, ``建议动作``,
        one row per segment in map order.

    Examples
    --------
    >>> table = segment_actions("cn8")
    >>> table["中文名"].tolist()[:2]
    ['重要价值客户', '重要发展客户']
    >>> table["rule"].tolist()[1]
    'R high 高, F low 低, M high 高'
    """
    if scheme is not None:
        require_choice(scheme, SCHEMES, "scheme")
    table = pd.concat([_segment_table(s) for s in SCHEMES if scheme in (None, s)], ignore_index=True)
    return pd.DataFrame(
        {
            "scheme": table["scheme"],
            "segment": table["segment"],
            "name_en": table["name_en"],
            "中文名": table["name_zh"],
            "rule": table.apply(_rule_text, axis=1),
            "description": table["description_en"],
            "说明": table["description_zh"],
            "suggested_action": table["action_en"],
            "建议动作": table["action_zh"],
        }
    )


def _check_scores(df: pd.DataFrame, cols: Sequence[str], max_score: int) -> None:
    for col in cols:
        require_numeric(df, col, "scored")
        s = df[col]
        v = s.to_numpy(dtype="float64")
        # Positions first: a boolean Series as an index key costs a hash of every member id.
        bad = s.index[np.flatnonzero((v < 1) | (v > max_score) | (v % 1 != 0))]
        if len(bad):
            raise WorkbookInputError(
                f"Column {col!r} must hold whole scores from 1 to {max_score}; bad values at "
                f"{format_rows(bad)}, e.g. {s.loc[bad[0]]!r}."
            )


def _categorical(codes: np.ndarray, labels: pd.Series) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(labels.tolist(), dtype="str"), ordered=False)


def segment(
    scored: pd.DataFrame,
    scheme: str = "rfm11",
    *,
    fm: str = "mean",
    reference: str = "mean",
    basis: str = "values",
    recency_col: str = "recency_days",
    frequency_col: str = "frequency",
    amount_col: str = "monetary_total",
) -> pd.DataFrame:
    """Name each member's RFM segment.

    Parameters
    ----------
    scored : DataFrame
        For ``scheme="rfm11"``: a table with ``r_score``, ``f_score`` and
        ``m_score`` on a 1-5 scale (from :class:`RFMScorer` with ``bins=5`` or
        :func:`score_by_thresholds` with four thresholds each).  For
        ``scheme="cn8"``: an RFM table (``basis="values"``) or a scored table
        (``basis="scores"``).  Not modified.
    scheme : {"rfm11", "cn8"}
        The 11-segment English map or the classic Chinese 8-class map.
    fm : {"mean", "f"}
        rfm11 only: the FM score is ``round_half_up((F + M) / 2)`` (``"mean"``)
        or ``F`` alone (``"f"``).
    reference : {"mean", "median"}
        cn8 only: "high" means better than the mean (or median) of all members.
    basis : {"values", "scores"}
        cn8 only: compare raw ``recency_days``/``frequency``/``monetary`` or
        the R/F/M scores with the reference.
    recency_col, frequency_col, amount_col : str
        cn8 with ``basis="values"``: columns compared with the reference.

    Returns
    -------
    DataFrame
        A copy of ``scored`` with ``segment`` (code; categorical with every
        segment of the map in :data:`SEGMENTS` order), ``segment_en`` and
        ``segment_zh``.

    Examples
    --------
    >>> import pandas as pd
    >>> scored = pd.DataFrame({"r_score": [5, 1, 3], "f_score": [5, 1, 3], "m_score": [4, 2, 3]})
    >>> segment(scored)["segment_zh"].tolist()
    ['冠军客户', '已流失客户', '需要关注客户']
    >>> rfm = pd.DataFrame({"recency_days": [3, 200], "frequency": [8, 1],
    ...     "monetary_total": [900.0, 50.0]})
    >>> segment(rfm, "cn8")["segment_zh"].tolist()
    ['重要价值客户', '一般挽留客户']
    """
    require_choice(scheme, SCHEMES, "scheme")
    require_dataframe(scored, "scored")
    table = _segment_table(scheme)
    if scheme == "rfm11":
        require_choice(fm, ["mean", "f"], "fm")
        require_columns(scored, SCORE_COLUMNS, "scored")
        max_scores = scored.attrs.get("rfm_max_scores")
        if max_scores is not None and tuple(max_scores) != (5, 5, 5):
            raise WorkbookInputError(
                f"The 11-segment map is defined on 1-5 scores, but these scores run up to "
                f"{tuple(max_scores)} (R, F, M); score with bins=5 or four thresholds each."
            )
        _check_scores(scored, SCORE_COLUMNS, 5)
        r = scored["r_score"].to_numpy(dtype="int64")
        f = scored["f_score"].to_numpy(dtype="int64")
        fm_score = f if fm == "f" else (f + scored["m_score"].to_numpy(dtype="int64") + 1) // 2
        grid = np.full((6, 6), -1, dtype="int64")
        for i, row in table.iterrows():  # 11 rule rows, not data rows
            grid[int(row["r_min"]) : int(row["r_max"]) + 1, int(row["fm_min"]) : int(row["fm_max"]) + 1] = i
        codes = grid[r, fm_score]
    else:
        require_choice(reference, ["mean", "median"], "reference")
        require_choice(basis, ["values", "scores"], "basis")
        if basis == "values":
            cols, better = [recency_col, frequency_col, amount_col], [-1, 1, 1]
        else:
            cols, better = SCORE_COLUMNS, [1, 1, 1]
        _check_measures(scored, cols, "scored")
        high = []
        for col, sign in zip(cols, better, strict=True):
            v = sign * scored[col].to_numpy(dtype="float64")
            ref = v.mean() if reference == "mean" else np.median(v)
            high.append(v > ref)
        lookup = np.full(8, -1, dtype="int64")
        for i, row in table.iterrows():  # 8 rule rows
            lookup[int(row["r_high"]) * 4 + int(row["f_high"]) * 2 + int(row["m_high"])] = i
        codes = lookup[high[0].astype("int64") * 4 + high[1] * 2 + high[2]]
    out = scored.copy(deep=False)  # copy-on-write, as in _attach_scores
    out["segment"] = _categorical(codes, table["segment"])
    out["segment_en"] = _categorical(codes, table["name_en"])
    out["segment_zh"] = _categorical(codes, table["name_zh"])
    out.attrs = dict(scored.attrs)
    out.attrs["segment_scheme"] = scheme
    return out


def segment_summary(
    segmented: pd.DataFrame,
    *,
    segment_col: str = "segment",
    revenue_col: str = "monetary_total",
) -> pd.DataFrame:
    """Members and revenue per segment, with shares.

    Parameters
    ----------
    segmented : DataFrame
        Output of :func:`segment` (or any table with a segment column and a
        revenue column).  Not modified.
    segment_col, revenue_col : str
        Column names.

    Returns
    -------
    DataFrame
        Indexed by segment (every category, also empty ones, in map order),
        columns ``segment_en`` and ``segment_zh`` (when known), ``members``,
        ``member_share``, ``revenue``, ``revenue_share`` and
        ``revenue_per_member`` (NaN for empty segments).

    Examples
    --------
    >>> import pandas as pd
    >>> seg = segment(pd.DataFrame({"r_score": [5, 5, 1], "f_score": [5, 4, 1],
    ...     "m_score": [5, 5, 1], "monetary_total": [300.0, 100.0, 100.0]}))
    >>> summary = segment_summary(seg)
    >>> int(summary.loc["champions", "members"]), float(summary.loc["champions", "revenue_share"])
    (2, 0.8)
    """
    require_dataframe(segmented, "segmented")
    require_columns(segmented, [segment_col, revenue_col], "segmented")
    require_numeric(segmented, revenue_col, "segmented")
    require_no_missing(segmented, segment_col, "segmented")
    g = segmented.groupby(segment_col, observed=False, sort=True)
    out = pd.DataFrame({"members": g.size(), "revenue": g[revenue_col].sum()})
    out["members"] = out["members"].astype("int64")
    out["member_share"] = out["members"] / out["members"].sum()
    total = out["revenue"].sum()
    out["revenue_share"] = out["revenue"] / total if total != 0 else np.nan
    out["revenue_per_member"] = out["revenue"] / out["members"].where(out["members"] > 0)
    labels = pd.concat([_segment_table(s) for s in SCHEMES]).drop_duplicates("segment")
    labels = labels.set_index("segment")
    if out.index.isin(labels.index).all():
        out.insert(0, "segment_zh", labels.loc[out.index, "name_zh"].to_numpy())
        out.insert(0, "segment_en", labels.loc[out.index, "name_en"].to_numpy())
    out.index.name = segment_col
    return out[[c for c in ["segment_en", "segment_zh", "members", "member_share", "revenue",
                            "revenue_share", "revenue_per_member"] if c in out.columns]]
