"""Private-domain community (私域社群) effects: does joining make members buy more?

Members choose to join a WeChat community, and keen members are both more
likely to join and likely to buy more anyway: the naive gap between members
and non-members mixes the community's effect with who joined (confounding).
This module compares three estimates of the effect of joining on an outcome:

* ``naive``: difference of means, joiners minus non-joiners (Welch interval);
* ``regression``: OLS of the outcome on ``joined`` plus pre-launch
  covariates (statsmodels, HC1 robust interval);
* ``matched``: each joiner matched to the non-joiner with the nearest
  propensity score (logistic regression on the same covariates, 1 nearest
  neighbour with replacement); the mean of the matched differences is the
  effect on the joiners (ATT).  Its interval uses the paired differences'
  standard error and ignores the reuse of controls, so it is a little narrow.

:func:`community_frame` builds the per-member table with the pre-launch
covariates from the transactions.  For emotional-marketing touches with a
randomised holdout, use :func:`workbook.contacts.holdout_lift` with
``by="kind"``: randomisation needs no adjustment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.transactions import column_values, purchases

__all__ = ["COVARIATES", "METHODS", "community_effect", "community_frame"]

#: Pre-launch covariates built by :func:`community_frame` (``tenure_days`` needs the members table).
COVARIATES = ("pre_purchases", "pre_purchases_90d", "pre_spend", "pre_recency_days", "tenure_days")
METHODS = ("naive", "regression", "matched")


def community_frame(community: pd.DataFrame, transactions: pd.DataFrame, members: pd.DataFrame | None = None, *,
                    launch=None) -> pd.DataFrame:
    """One row per eligible member: joined or not, pre-launch covariates, outcomes.

    Parameters
    ----------
    community : DataFrame
        ``member_id``, ``joined_at`` (missing = never joined) and outcome
        columns (e.g. ``purchases_after``, ``spend_after``).
    transactions : DataFrame
        The member transactions (``member_id``, ``timestamp``, ``amount``,
        optional ``is_return``): only those before ``launch`` are used.
    members : DataFrame, optional
        With ``member_id`` and ``join_date``: adds ``tenure_days`` at launch.
    launch : date-like, optional
        The community's launch; default the day of the first ``joined_at``.

    Returns
    -------
    DataFrame
        ``member_id``, ``joined`` (bool), ``pre_purchases`` (and
        ``pre_purchases_90d``: in the 90 days before launch), ``pre_spend``,
        ``pre_recency_days`` (days from the last purchase before launch to
        the launch; members with none get the longest observed gap + 1),
        ``tenure_days`` (with ``members``), then the other columns of
        ``community``.  ``attrs["launch"]`` holds the launch date.

    Examples
    --------
    >>> import pandas as pd
    >>> cm = pd.DataFrame({"member_id": ["a", "b"], "joined_at": pd.to_datetime(["2024-01-05", None]),
    ...                    "purchases_after": [3, 1]})
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b", "a"],
    ...                    "timestamp": pd.to_datetime(["2023-12-01", "2023-12-21", "2023-11-01", "2024-02-01"]),
    ...                    "amount": [10.0, 20.0, 5.0, 99.0]})
    >>> community_frame(cm, tx, launch="2024-01-01")[["member_id", "joined", "pre_purchases", "pre_spend",
    ...                                                "pre_recency_days"]]
      member_id  joined  pre_purchases  pre_spend  pre_recency_days
    0         a    True              2       30.0              11.0
    1         b   False              1        5.0              61.0
    """
    for df, cols, what in ((community, ["member_id", "joined_at"], "community"),
                           (transactions, ["member_id", "timestamp", "amount"], "transactions")):
        if not isinstance(df, pd.DataFrame) or any(c not in df.columns for c in cols):
            have = list(df.columns) if isinstance(df, pd.DataFrame) else type(df).__name__
            raise WorkbookInputError(f"{what} needs columns {cols}; it has {have}.",
                                     message_zh=f"{what} 需要列 {cols}；现有 {have}。")
    joined_at = pd.to_datetime(community["joined_at"])
    if launch is None:
        if joined_at.isna().all():
            raise WorkbookInputError("Nobody joined the community (joined_at is empty everywhere): nothing to compare.",
                                     message_zh="没有任何会员入群（joined_at 全为空），无法比较。")
        launch = joined_at.min().normalize()
    launch = pd.Timestamp(launch)
    pre, _ = purchases(transactions, analysis_date=launch, include_returns=True)  # validated, before launch
    g = pre[~pre["is_return"]].groupby("member_id")
    out = pd.DataFrame({"member_id": column_values(community["member_id"]), "joined": joined_at.notna().to_numpy()})
    ids = out["member_id"]
    out["pre_purchases"] = g.size().reindex(ids, fill_value=0).to_numpy().astype(np.int64)
    recent = pre["ts"] >= launch - pd.Timedelta(days=90)
    out["pre_purchases_90d"] = pre[~pre["is_return"] & recent].groupby("member_id").size().reindex(
        ids, fill_value=0).to_numpy().astype(np.int64)
    out["pre_spend"] = pre.groupby("member_id")["amount"].sum().reindex(ids, fill_value=0.0).to_numpy()
    gap = (launch - g["ts"].max()).dt.total_seconds() / 86400
    gap = gap.reindex(ids).to_numpy()
    out["pre_recency_days"] = np.where(np.isnan(gap), np.nanmax(gap, initial=0.0) + 1, np.floor(gap))
    if members is not None and "join_date" in members.columns:
        join = members.set_index("member_id")["join_date"].reindex(ids)
        out["tenure_days"] = ((launch - join).dt.total_seconds() / 86400).to_numpy()
    rest = [c for c in community.columns if c not in ("member_id", "joined_at")]
    for c in rest:
        out[c] = community[c].to_numpy()
    out.attrs["launch"] = launch
    return out


def _welch(y1: np.ndarray, y0: np.ndarray, alpha: float) -> tuple[float, float, float]:
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    cm = CompareMeans(DescrStatsW(y1), DescrStatsW(y0))
    low, high = cm.tconfint_diff(alpha=alpha, usevar="unequal")
    return float(y1.mean() - y0.mean()), float(low), float(high)


def community_effect(frame: pd.DataFrame, outcome: str = "purchases_after", *, covariates=None,
                     treatment: str = "joined", alpha: float = 0.05) -> pd.DataFrame:
    """Naive, regression-adjusted and propensity-matched estimates of the effect of joining.

    Parameters
    ----------
    frame : DataFrame
        One row per member, e.g. from :func:`community_frame`.
    outcome : str, default "purchases_after"
    covariates : list of str, optional
        Pre-treatment columns to adjust for; default those of :data:`COVARIATES`
        present in ``frame``.
    treatment : str, default "joined"
        0/1 column.
    alpha : float, default 0.05

    Returns
    -------
    DataFrame
        Indexed by ``method`` (naive, regression, matched): ``estimate``,
        ``ci_low``, ``ci_high``, ``n_treated``, ``n_control``.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"joined": [1, 1, 0, 0, 0, 1, 0],
    ...                   "x": [5.0, 6.0, 1.0, 5.2, 0.0, 1.1, 6.5],
    ...                   "y": [12.0, 13.0, 2.0, 10.0, 1.0, 4.0, 12.0]})
    >>> out = community_effect(f, "y", covariates=["x"])
    >>> round(float(out.loc["naive", "estimate"]), 3)   # 29/3 - 25/4
    3.417
    >>> round(float(out.loc["matched", "estimate"]), 3)  # (12-10 + 13-12 + 4-2) / 3
    1.667
    """
    if not isinstance(frame, pd.DataFrame):
        raise WorkbookInputError(f"frame must be a DataFrame, got {type(frame).__name__}.",
                                 message_zh=f"frame 必须是表格 (DataFrame)，现在是 {type(frame).__name__}。")
    covariates = [c for c in COVARIATES if c in frame.columns] if covariates is None else list(covariates)
    missing = [c for c in [treatment, outcome, *covariates] if c not in frame.columns]
    if missing:
        raise WorkbookInputError(f"frame is missing column(s) {missing}; it has {list(frame.columns)}.",
                                 message_zh=f"表格缺少列 {missing}。")
    df = frame[[treatment, outcome, *covariates]].dropna()
    t = df[treatment].astype(bool).to_numpy()
    y = df[outcome].to_numpy(dtype=float)
    n1, n0 = int(t.sum()), int((~t).sum())
    if min(n1, n0) < 2:
        raise WorkbookInputError(
            f"Need at least 2 members who joined and 2 who did not, got {n1} and {n0}.",
            message_zh=f"入群和未入群的会员各至少需要 2 人，现在分别是 {n1} 和 {n0} 人。")
    rows = {}
    rows["naive"] = _welch(y[t], y[~t], alpha)
    if covariates:
        import statsmodels.api as sm

        x = df[covariates].to_numpy(dtype=float)
        design = sm.add_constant(np.column_stack([t.astype(float), x]), has_constant="add")
        ols = sm.OLS(y, design).fit(cov_type="HC1")
        low, high = ols.conf_int(alpha=alpha)[1]
        rows["regression"] = (float(ols.params[1]), float(low), float(high))
        rows["matched"] = _matched(t, y, x, alpha)
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "ci_low", "ci_high"])
    out.index.name = "method"
    out["n_treated"], out["n_control"] = n1, n0
    return out


def _matched(t: np.ndarray, y: np.ndarray, x: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """ATT by 1-nearest-neighbour matching (with replacement) on the logit of the propensity score."""
    from scipy import stats
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import StandardScaler

    z = StandardScaler().fit_transform(x)
    model = LogisticRegression(C=1e6, max_iter=1000).fit(z, t)  # practically unpenalised
    score = model.decision_function(z).reshape(-1, 1)
    nn = NearestNeighbors(n_neighbors=1).fit(score[~t])
    idx = nn.kneighbors(score[t], return_distance=False)[:, 0]
    diff = y[t] - y[~t][idx]
    est = float(diff.mean())
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else np.nan
    q = stats.t.ppf(1 - alpha / 2, max(len(diff) - 1, 1))
    return est, est - q * se, est + q * se
