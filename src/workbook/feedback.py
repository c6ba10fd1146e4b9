"""Member feedback: NPS with its confidence interval, complaint drivers, and how feedback predicts churn.

NPS (Net Promoter Score, Reichheld 2003) asks "how likely are you to
recommend us (0-10)?": 9-10 are promoters, 7-8 passives, 0-6 detractors, and
``NPS = 100 x (promoter share - detractor share)``.  Its standard error
follows from the multinomial shares: ``Var(P - D) = (P + D - (P - D)**2) / n``.

The functions take a tidy surveys table (one row per answer: ``member_id``,
``answered_at``, ``nps``, optional ``satisfaction`` and ``complaint_tags``
joined by ``;``), as written by :mod:`workbook.synth.feedback` and loaded from
a user's export by :func:`workbook.io.load_surveys`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from workbook.errors import WorkbookInputError
from workbook.validation import format_rows, require_columns, require_dataframe, resolve_analysis_date

__all__ = [
    "NPS_GROUPS",
    "churn_by_feedback",
    "complaint_drivers",
    "feedback_churn_auc",
    "member_feedback",
    "nps_group",
    "nps_summary",
]

#: NPS groups in display order.
NPS_GROUPS = ("detractor", "passive", "promoter")


def _scores(surveys: pd.DataFrame, col: str, low: int, high: int) -> pd.Series:
    """The score column as int64, refusing values outside [low, high], fractions and blanks (rows named)."""
    require_columns(surveys, [col], "surveys")
    s = pd.to_numeric(surveys[col], errors="coerce")
    bad = s.isna() | (s < low) | (s > high) | (s % 1 != 0)
    if bad.any():
        example = surveys[col][bad].iloc[0]
        raise WorkbookInputError(
            f"Column {col!r} of surveys must hold whole scores from {low} to {high}; "
            f"{int(bad.sum())} row(s) do not, e.g. {example!r} at {format_rows(surveys.index[bad])}.",
            message_zh=f"问卷表的 {col!r} 列必须是 {low} 到 {high} 的整数分；有 {int(bad.sum())} 行不是，"
                       f"例如 {format_rows(surveys.index[bad])} 的 {example!r}。",
        )
    return s.astype("int64")


def nps_group(scores: Sequence[int] | pd.Series) -> pd.Series:
    """Promoter (9-10), passive (7-8) or detractor (0-6) for each 0-10 score.

    Examples
    --------
    >>> nps_group([10, 8, 3]).tolist()
    ['promoter', 'passive', 'detractor']
    """
    s = pd.Series(scores) if not isinstance(scores, pd.Series) else scores
    s = _scores(pd.DataFrame({"nps": s}), "nps", 0, 10)
    codes = np.select([s >= 9, s >= 7], [2, 1], 0)
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(NPS_GROUPS)), index=s.index, name="nps_group")


def nps_summary(
    surveys: pd.DataFrame,
    *,
    score_col: str = "nps",
    by: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """NPS with its normal-approximation confidence interval, overall or per group.

    Parameters
    ----------
    surveys : DataFrame
        One row per answer.  Not modified.
    score_col : str, default "nps"
        The 0-10 recommendation score.
    by : str, optional
        Column to group by (store, month, ...); default: one row ``"all"``.
    confidence : float, default 0.95
        Level of the interval.

    Returns
    -------
    DataFrame
        ``n``, ``promoter_share``, ``passive_share``, ``detractor_share``,
        ``nps`` (-100..100), ``se`` (standard error, NPS points), ``ci_low``,
        ``ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"nps": [10, 9, 9, 8, 7, 6, 3, 10, 9, 5]})
    >>> t = nps_summary(s)
    >>> t[["n", "promoter_share", "detractor_share", "nps"]].round(3)  # doctest: +NORMALIZE_WHITESPACE
          n  promoter_share  detractor_share   nps
    all  10             0.5              0.3  20.0
    >>> round(float(t["se"].iloc[0]), 2)  # 100 * sqrt((0.5 + 0.3 - 0.2**2) / 10)
    27.57
    """
    require_dataframe(surveys, "surveys")
    if not 0 < confidence < 1:
        raise WorkbookInputError(f"confidence must be between 0 and 1, got {confidence!r}.",
                                 message_zh=f"置信水平 confidence 必须在 0 和 1 之间，现在是 {confidence!r}。")
    groups = nps_group(_scores(surveys, score_col, 0, 10))
    key = pd.Series("all", index=surveys.index) if by is None else surveys[by] if by in surveys else None
    if key is None:
        require_columns(surveys, [by], "surveys")
    counts = pd.crosstab(key, groups).reindex(columns=list(NPS_GROUPS), fill_value=0)
    n = counts.sum(axis=1)
    out = pd.DataFrame({"n": n})
    for g in NPS_GROUPS:
        out[f"{g}_share"] = counts[g] / n
    out = out[["n", "promoter_share", "passive_share", "detractor_share"]]
    diff = out["promoter_share"] - out["detractor_share"]
    out["nps"] = 100 * diff
    out["se"] = 100 * np.sqrt((out["promoter_share"] + out["detractor_share"] - diff**2) / n)
    z = stats.norm.ppf(0.5 + confidence / 2)
    out["ci_low"] = (out["nps"] - z * out["se"]).clip(lower=-100)
    out["ci_high"] = (out["nps"] + z * out["se"]).clip(upper=100)
    out.index.name = by
    return out


def _tag_matrix(surveys: pd.DataFrame, tags_col: str, sep: str) -> pd.DataFrame:
    require_columns(surveys, [tags_col], "surveys")
    text = surveys[tags_col].astype("str").where(surveys[tags_col].notna(), "")
    dummies = text.str.get_dummies(sep=sep)
    dummies.columns = dummies.columns.str.strip()
    dummies = dummies.T.groupby(level=0).max().T  # " a" and "a" are one tag
    return dummies.drop(columns=[c for c in dummies.columns if c == ""], errors="ignore").astype("int64")


def complaint_drivers(
    surveys: pd.DataFrame,
    *,
    tags_col: str = "complaint_tags",
    score_col: str = "nps",
    sep: str = ";",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Which complaints pull the score down: shares, NPS with and without, and a joint regression.

    The regression is ordinary least squares of the score on one 0/1 column
    per tag (all tags at once, so a tag that often comes with another is not
    credited with its effect).  Its coefficient is the average change in the
    score when the tag is present, holding the other tags fixed; it is a
    causal effect only if the tags are not themselves caused by something
    that also moves the score (e.g. an unhappy member noticing more).

    Parameters
    ----------
    surveys : DataFrame
        One row per answer.  Not modified.
    tags_col : str, default "complaint_tags"
        Tags joined by ``sep``; missing or empty = no complaint.
    score_col : str, default "nps"
        Score to explain (0-10 NPS or another numeric score).
    sep : str, default ";"
        Separator of several tags.
    confidence : float, default 0.95
        Level of the coefficient intervals.

    Returns
    -------
    DataFrame
        One row per tag, most harmful first: ``n``, ``share``, ``score_with``,
        ``score_without`` (mean score), ``nps_with``, ``nps_without`` (NPS of
        the answers with / without the tag, for 0-10 scores), ``effect``
        (regression coefficient), ``se``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"nps": [9, 10, 6, 5, 8, 4],
    ...                   "complaint_tags": [None, None, "queue", "queue", None, "queue;price"]})
    >>> d = complaint_drivers(s)
    >>> d[["n", "score_with", "score_without"]]  # doctest: +NORMALIZE_WHITESPACE
           n  score_with  score_without
    tag
    queue  3         5.0            9.0
    price  1         4.0            7.6
    """
    require_dataframe(surveys, "surveys")
    score = pd.to_numeric(surveys[score_col], errors="coerce") if score_col in surveys else None
    if score is None:
        require_columns(surveys, [score_col], "surveys")
    if score.isna().any():
        bad = score.isna()
        raise WorkbookInputError(
            f"Column {score_col!r} of surveys has {int(bad.sum())} missing or non-numeric value(s) at "
            f"{format_rows(surveys.index[bad])}; drop those answers first.",
            message_zh=f"问卷表的 {score_col!r} 列在 {format_rows(surveys.index[bad])} 有 {int(bad.sum())} 个空值或非数字；"
                       "请先去掉这些答卷。",
        )
    tags = _tag_matrix(surveys, tags_col, sep)
    if tags.shape[1] == 0:
        raise WorkbookInputError(f"Column {tags_col!r} has no complaint tags: nothing to analyse.",
                                 message_zh=f"{tags_col!r} 列里没有任何投诉标签，无法分析。")
    y = score.to_numpy(dtype=float)
    X = np.column_stack([np.ones(len(y)), tags.to_numpy(dtype=float)])
    # ordinary least squares with classical standard errors (numpy: a few thousand rows, a handful of tags)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    dof = max(len(y) - X.shape[1], 1)
    sigma2 = float(np.sum((y - X @ beta) ** 2)) / dof
    bse = np.sqrt(np.diag(sigma2 * np.linalg.pinv(X.T @ X)))
    t = stats.t.ppf(0.5 + confidence / 2, dof)
    is_nps = bool(((score >= 0) & (score <= 10) & (score % 1 == 0)).all())
    rows = {}
    for j, tag in enumerate(tags.columns):  # one row per tag (a handful)
        on = tags[tag].to_numpy() == 1
        row = {"n": int(on.sum()), "share": float(on.mean()),
               "score_with": float(y[on].mean()),
               "score_without": float(y[~on].mean()) if (~on).any() else np.nan}
        if is_nps:
            for name, sel in (("nps_with", on), ("nps_without", ~on)):
                v = y[sel]
                row[name] = 100 * (np.mean(v >= 9) - np.mean(v <= 6)) if len(v) else np.nan
        b, se = float(beta[j + 1]), float(bse[j + 1])
        row.update(effect=b, se=se, ci_low=b - t * se, ci_high=b + t * se)
        rows[tag] = row
    out = pd.DataFrame.from_dict(rows, orient="index").sort_values("effect", kind="stable")
    out.index.name = "tag"
    return out


def member_feedback(
    surveys: pd.DataFrame,
    *,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "answered_at",
    score_col: str = "nps",
    satisfaction_col: str | None = "satisfaction",
    tags_col: str | None = "complaint_tags",
) -> pd.DataFrame:
    """What each member told us before the analysis date: one row per member who answered.

    Parameters
    ----------
    surveys : DataFrame
        One row per answer.  Not modified.
    analysis_date : date-like, optional
        Answers at or after it are left out (they lie in the future of a
        churn prediction made then).  Default: midnight after the last answer day.
    member_col, time_col, score_col, satisfaction_col, tags_col : str
        Column names (``satisfaction_col`` / ``tags_col`` may be None).

    Returns
    -------
    DataFrame
        Indexed by member: ``n_surveys``, ``last_nps``, ``mean_nps``,
        ``last_answered_at``, ``nps_group`` (of the last answer), and when
        available ``mean_satisfaction`` and ``complaints`` (answers with at
        least one tag).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...                   "answered_at": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01"]),
    ...                   "nps": [9, 4, 10]})
    >>> member_feedback(s, satisfaction_col=None, tags_col=None)[["n_surveys", "last_nps", "mean_nps", "nps_group"]]
    ... # doctest: +NORMALIZE_WHITESPACE
               n_surveys  last_nps  mean_nps  nps_group
    member_id
    a                  2         4       6.5  detractor
    b                  1        10      10.0   promoter
    """
    require_dataframe(surveys, "surveys")
    need = [member_col, time_col, score_col] + [c for c in (satisfaction_col, tags_col) if c]
    require_columns(surveys, need, "surveys")
    date = resolve_analysis_date(surveys[time_col], analysis_date=analysis_date)
    s = surveys.loc[(surveys[time_col] < date) & surveys[member_col].notna()]
    score = _scores(s, score_col, 0, 10)
    frame = pd.DataFrame({"member_id": s[member_col].to_numpy(), "t": s[time_col].to_numpy(),
                          "nps": score.to_numpy()})
    if satisfaction_col:
        frame["sat"] = _scores(s, satisfaction_col, 1, 5).to_numpy()
    if tags_col:
        frame["complaint"] = (s[tags_col].notna() & s[tags_col].astype("str").str.strip().ne("")).to_numpy()
    frame = frame.sort_values(["member_id", "t"], kind="stable")
    g = frame.groupby("member_id", sort=True)
    out = pd.DataFrame({"n_surveys": g.size(), "last_nps": g["nps"].last(), "mean_nps": g["nps"].mean(),
                        "last_answered_at": g["t"].last()})
    out["nps_group"] = nps_group(out["last_nps"]).to_numpy()
    if satisfaction_col:
        out["mean_satisfaction"] = g["sat"].mean()
    if tags_col:
        out["complaints"] = g["complaint"].sum().astype("int64")
    out.index.name = "member_id"
    out.attrs["analysis_date"] = date
    return out


def churn_by_feedback(
    feedback: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    group_col: str = "nps_group",
    churn_col: str = "churned",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Churn rate per feedback group (e.g. NPS group of the last answer) with Wilson intervals.

    Parameters
    ----------
    feedback : DataFrame
        Indexed by member (e.g. :func:`member_feedback`).
    labels : DataFrame
        Indexed by member with a boolean ``churned`` column
        (:func:`workbook.churn.churn_labels`); only members in both count.
    group_col, churn_col : str
        Column names.
    confidence : float, default 0.95
        Level of the intervals.

    Returns
    -------
    DataFrame
        Per group: ``members``, ``churned``, ``churn_rate``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> import pandas as pd
    >>> fb = pd.DataFrame({"nps_group": ["promoter", "promoter", "detractor", "detractor"]},
    ...                   index=["a", "b", "c", "d"])
    >>> lab = pd.DataFrame({"churned": [False, False, True, False]}, index=["a", "b", "c", "d"])
    >>> churn_by_feedback(fb, lab)[["members", "churned", "churn_rate"]]  # doctest: +NORMALIZE_WHITESPACE
               members  churned  churn_rate
    nps_group
    detractor        2        1         0.5
    promoter         2        0         0.0
    """
    require_columns(feedback, [group_col], "feedback")
    require_columns(labels, [churn_col], "labels")
    both = feedback[[group_col]].join(labels[[churn_col]], how="inner")
    if both.empty:
        raise WorkbookInputError(
            "No member is in both the feedback table and the churn labels: were they made from the same "
            "data (same member ids) and is the survey before the cutoff?",
            message_zh="反馈表和流失标签没有共同的会员：请确认两者来自同一份数据（会员号一致），且问卷早于截止日。",
        )
    g = both.groupby(group_col, observed=True)[churn_col]
    out = pd.DataFrame({"members": g.size(), "churned": g.sum().astype("int64")})
    out["churn_rate"] = out["churned"] / out["members"]
    # Wilson score interval (Wilson 1927), as statsmodels' proportion_confint(method="wilson")
    z = stats.norm.ppf(0.5 + confidence / 2)
    n, p = out["members"].to_numpy(dtype=float), out["churn_rate"].to_numpy(dtype=float)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    out["ci_low"], out["ci_high"] = centre - half, centre + half
    return out


def feedback_churn_auc(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    feedback: pd.DataFrame,
    *,
    feedback_cols: Sequence[str] = ("last_nps", "mean_nps", "complaints"),
    churn_col: str = "churned",
    cv: int = 5,
    random_state: int = 0,
) -> pd.DataFrame:
    """Does feedback add to behaviour in predicting churn?  Cross-validated AUC of three logistic models.

    Among members with features, a label and at least one answer, fits a
    standardised logistic regression on (1) the behaviour features only, (2)
    the feedback columns only, (3) both, and reports the AUC over ``cv``
    stratified folds.

    Parameters
    ----------
    features : DataFrame
        Numeric behaviour features indexed by member (e.g.
        :func:`workbook.churn.churn_features`; non-numeric columns are left out).
    labels : DataFrame
        Indexed by member with ``churned``.
    feedback : DataFrame
        :func:`member_feedback` at the same cutoff.
    feedback_cols : sequence of str
        Feedback columns to use.
    cv : int, default 5
        Number of folds.
    random_state : int, default 0
        Seed of the fold assignment.

    Returns
    -------
    DataFrame
        Index ``behaviour``, ``feedback``, ``behaviour + feedback``; columns
        ``auc`` (mean over folds), ``auc_sd``, ``members``, ``churn_rate``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> idx = [f"m{i}" for i in range(400)]
    >>> risk = rng.normal(size=400)
    >>> X = pd.DataFrame({"recency": risk + rng.normal(size=400)}, index=idx)
    >>> fb = pd.DataFrame({"last_nps": np.clip(np.round(7 - 2 * risk), 0, 10)}, index=idx)
    >>> y = pd.DataFrame({"churned": risk + rng.normal(size=400) > 0.5}, index=idx)
    >>> t = feedback_churn_auc(X, y, fb, feedback_cols=["last_nps"])
    >>> bool(t.loc["behaviour + feedback", "auc"] > t.loc["behaviour", "auc"])
    True
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    require_columns(labels, [churn_col], "labels")
    require_columns(feedback, list(feedback_cols), "feedback")
    num = features.select_dtypes(include=["number", "bool"]).astype("float64")
    common = num.index.intersection(labels.index).intersection(feedback.index)
    y = labels.loc[common, churn_col].astype(int).to_numpy()
    if len(common) < 2 * cv or y.min(initial=1) == y.max(initial=0) or min(y.sum(), len(y) - y.sum()) < cv:
        raise WorkbookInputError(
            f"Only {len(common)} members have features, a label and an answer, with {int(y.sum())} churned: "
            f"too few for {cv}-fold cross-validation. Use more data or a smaller cv.",
            message_zh=f"同时有特征、标签和问卷的会员只有 {len(common)} 人（其中流失 {int(y.sum())} 人），"
                       f"不够做 {cv} 折交叉验证。请用更多数据或更小的 cv。",
        )
    fb = feedback.loc[common, list(feedback_cols)].astype("float64")
    beh = num.loc[common].fillna(num.loc[common].median()).fillna(0.0)
    sets = {"behaviour": beh, "feedback": fb, "behaviour + feedback": pd.concat([beh, fb], axis=1)}
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    rows = {}
    for name, X in sets.items():  # three models
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        with threadpool_limits(limits=1):  # small problem: thread start-up costs more than it saves
            auc = cross_val_score(model, X.to_numpy(), y, cv=folds, scoring="roc_auc")
        rows[name] = {"auc": float(auc.mean()), "auc_sd": float(auc.std(ddof=1)), "members": len(common),
                      "churn_rate": float(y.mean())}
    return pd.DataFrame.from_dict(rows, orient="index")
