"""Omnichannel contacts (全渠道互动) and online invitations (线上邀约): response, fatigue, lift.

A *contact log* has one row per message: ``member_id``, ``sent_at``,
``channel``, ``campaign_id`` and the 0/1 outcomes ``delivered``, ``opened``,
``visited`` (a store visit within a few days), ``unsubscribed``; an optional
``holdout`` column marks members randomly held out of a campaign (not sent, but
their visits recorded).  The synthetic data set has one
(:mod:`workbook.synth.contacts`); :func:`workbook.io.load.load_contacts` reads a
CRM export into the same shape.

* :func:`channel_response` — delivery, open, visit and unsubscribe rates per
  channel with Wilson confidence intervals;
* :func:`recent_contact_counts` and :func:`fatigue_curve` — how the open or
  visit rate falls with the number of messages received in the previous
  30 days (contact fatigue, 触达疲劳); :func:`fatigue_slope` is the same as a
  logistic regression (log-odds per extra message, channel-adjusted);
* :func:`holdout_lift` — the visits an invitation *caused*: treated minus
  holdout visit rate (:func:`workbook.experiments.proportion_test`), next to the
  naive "opened and then visited" attribution that also counts visits that
  would have happened anyway.  The same function measures emotional-marketing
  touches (``holdout_lift(touches, by="kind")``, see :mod:`workbook.community`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from workbook.errors import WorkbookInputError
from workbook.experiments import proportion_test

__all__ = [
    "OUTCOMES",
    "channel_response",
    "fatigue_curve",
    "fatigue_slope",
    "holdout_lift",
    "recent_contact_counts",
]

#: The 0/1 outcomes of a contact log, in funnel order.
OUTCOMES = ("delivered", "opened", "visited", "unsubscribed")


def _require(contacts: object, columns, what: str = "contacts") -> pd.DataFrame:
    if not isinstance(contacts, pd.DataFrame):
        raise WorkbookInputError(f"{what} must be a DataFrame (a contact log), got {type(contacts).__name__}.",
                                 message_zh=f"{what} 必须是触达记录表 (DataFrame)，现在是 {type(contacts).__name__}。")
    missing = [c for c in columns if c not in contacts.columns]
    if missing:
        raise WorkbookInputError(
            f"{what} is missing column(s) {missing}; it has {list(contacts.columns)}.",
            message_zh=f"{what} 缺少列 {missing}；现有列为 {list(contacts.columns)}。")
    return contacts


def _flag(contacts: pd.DataFrame, col: str) -> np.ndarray:
    s = contacts[col]
    if s.isna().any():
        raise WorkbookInputError(f"Column {col!r} of the contact log has missing values.",
                                 message_zh=f"触达记录的 {col!r} 列有空值。")
    if not (pd.api.types.is_bool_dtype(s) or set(pd.unique(s)) <= {0, 1}):
        raise WorkbookInputError(f"Column {col!r} of the contact log must be True/False or 0/1.",
                                 message_zh=f"触达记录的 {col!r} 列只能是 True/False 或 0/1。")
    return s.to_numpy(dtype=bool)


def _sent(contacts: pd.DataFrame) -> pd.DataFrame:
    """Rows of messages actually sent (holdout rows left out)."""
    if "holdout" in contacts.columns:
        return contacts.loc[~_flag(contacts, "holdout")]
    return contacts


def _rates(x: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, x / np.maximum(n, 1), np.nan)
    low, high = proportion_confint(x, np.maximum(n, 1), alpha=alpha, method="wilson")
    return rate, np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def channel_response(contacts: pd.DataFrame, by: str = "channel", *, alpha: float = 0.05) -> pd.DataFrame:
    """Funnel rates per channel (or campaign): delivered, opened, visited, unsubscribed.

    Delivery is per message sent; open, visit and unsubscribe rates are per
    message *delivered*.  Holdout rows (``holdout`` True) are left out.

    Parameters
    ----------
    contacts : DataFrame
        Contact log with ``by`` and the columns of :data:`OUTCOMES`.
    by : str, default "channel"
        Grouping column, e.g. ``"campaign_id"``.
    alpha : float, default 0.05
        Wilson intervals at level ``1 - alpha`` (``*_ci_low`` / ``*_ci_high``).

    Returns
    -------
    DataFrame
        Indexed by ``by``: ``sent``, ``delivered``, then for each outcome
        ``<outcome>_rate``, ``<outcome>_ci_low``, ``<outcome>_ci_high``;
        sorted by ``visited_rate`` (best first).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"channel": ["sms"] * 4 + ["app_push"] * 2,
    ...                     "delivered": [1, 1, 1, 0, 1, 1], "opened": [1, 0, 0, 0, 1, 1],
    ...                     "visited": [1, 0, 0, 0, 0, 1], "unsubscribed": [0, 0, 1, 0, 0, 0]})
    >>> out = channel_response(log)
    >>> out[["sent", "delivered", "delivered_rate", "opened_rate", "visited_rate"]].round(3)
              sent  delivered  delivered_rate  opened_rate  visited_rate
    channel                                                             
    app_push     2          2            1.00        1.000         0.500
    sms          4          3            0.75        0.333         0.333
    """
    _require(contacts, [by, *OUTCOMES])
    sent = _sent(contacts)
    flags = pd.DataFrame({c: _flag(sent, c) for c in OUTCOMES}, index=sent.index)
    delivered = flags["delivered"]
    g = flags.assign(_n=1).groupby(sent[by], sort=True)
    n_sent = g["_n"].sum().to_numpy()
    out = pd.DataFrame(index=g.size().index)
    out["sent"] = n_sent
    out["delivered"] = g["delivered"].sum().to_numpy().astype(np.int64)
    for col in OUTCOMES:
        x = g[col].sum().to_numpy() if col == "delivered" else flags[col][delivered].groupby(
            sent[by][delivered]).sum().reindex(out.index, fill_value=0).to_numpy()
        denom = n_sent if col == "delivered" else out["delivered"].to_numpy()
        rate, low, high = _rates(x.astype(float), denom.astype(float), alpha)
        out[f"{col}_rate"], out[f"{col}_ci_low"], out[f"{col}_ci_high"] = rate, low, high
    return out.sort_values("visited_rate", ascending=False, kind="stable")


def recent_contact_counts(contacts: pd.DataFrame, window_days: float = 30, *, member_col: str = "member_id",
                          time_col: str = "sent_at") -> pd.Series:
    """For each row, how many messages the member was sent in the ``window_days`` before it.

    The fatigue variable: messages sent (holdout rows do not count) in
    ``[sent_at - window_days, sent_at)``, any channel.  The row's own message
    does not count.

    Parameters
    ----------
    contacts : DataFrame
        Contact log with ``member_col`` and ``time_col`` (datetime).
    window_days : float, default 30

    Returns
    -------
    Series of int
        Aligned with ``contacts.index``, named ``recent_contacts``.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"member_id": ["a", "a", "a", "b", "a"],
    ...                     "sent_at": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-20",
    ...                                                "2024-01-20", "2024-02-15"])})
    >>> recent_contact_counts(log).tolist()
    [0, 1, 2, 0, 1]
    """
    _require(contacts, [member_col, time_col])
    if not pd.api.types.is_datetime64_any_dtype(contacts[time_col]):
        raise WorkbookInputError(f"Column {time_col!r} must hold dates and times, got {contacts[time_col].dtype}.",
                                 message_zh=f"{time_col!r} 列必须是日期时间，现在是 {contacts[time_col].dtype}。")
    if not window_days > 0:
        raise WorkbookInputError(f"window_days must be positive, got {window_days!r}.",
                                 message_zh=f"window_days 必须大于 0，现在是 {window_days!r}。")
    codes = pd.factorize(contacts[member_col])[0].astype(float)
    days = (contacts[time_col] - contacts[time_col].min()) / pd.Timedelta(days=1)
    days = days.to_numpy(dtype=float)
    sent = ~_flag(contacts, "holdout") if "holdout" in contacts.columns else np.ones(len(contacts), dtype=bool)
    span = 10.0 * (np.nanmax(days, initial=0.0) + window_days + 1)  # keys of different members never overlap
    keys = np.sort(codes[sent] * span + days[sent])
    q = codes * span + days
    counts = np.searchsorted(keys, q, "left") - np.searchsorted(keys, q - window_days, "left")
    return pd.Series(counts.astype(np.int64), index=contacts.index, name="recent_contacts")


def _with_recent(contacts: pd.DataFrame, window_days: float) -> pd.DataFrame:
    out = _sent(contacts).copy()
    out["recent_contacts"] = recent_contact_counts(contacts, window_days).loc[out.index]
    return out


def fatigue_curve(contacts: pd.DataFrame, outcome: str = "opened", *, window_days: float = 30,
                  max_contacts: int = 6, by: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Response rate by the number of messages received in the previous ``window_days``.

    Among delivered messages (holdout rows left out): the share with
    ``outcome`` for 0, 1, 2, ... recent messages; ``max_contacts`` or more are
    pooled in the last row.

    Parameters
    ----------
    contacts : DataFrame
        Contact log (``member_id``, ``sent_at``, ``delivered``, ``outcome``).
    outcome : {"opened", "visited", "unsubscribed"}
    window_days : float, default 30
    max_contacts : int, default 6
        Last bin: this many recent messages or more.
    by : str, optional
        A column to split by (e.g. ``"channel"``): one curve per value.
    alpha : float, default 0.05
        Wilson intervals.

    Returns
    -------
    DataFrame
        ``recent_contacts`` (int; the last bin means "or more"), ``messages``,
        ``responses``, ``rate``, ``ci_low``, ``ci_high`` (and ``by``).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"member_id": ["a", "a", "a", "b"],
    ...                     "sent_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-09", "2024-01-09"]),
    ...                     "delivered": [1, 1, 1, 1], "opened": [1, 1, 0, 1]})
    >>> fatigue_curve(log, max_contacts=2)[["recent_contacts", "messages", "responses", "rate"]]
       recent_contacts  messages  responses  rate
    0                0         2          2   1.0
    1                1         1          1   1.0
    2                2         1          0   0.0
    """
    if outcome not in ("opened", "visited", "unsubscribed"):
        raise WorkbookInputError(f"outcome={outcome!r} is not valid; choose 'opened', 'visited' or 'unsubscribed'.",
                                 message_zh=f"outcome={outcome!r} 无效；请选 'opened'、'visited' 或 'unsubscribed'。")
    if isinstance(max_contacts, bool) or not isinstance(max_contacts, (int, np.integer)) or max_contacts < 1:
        raise WorkbookInputError(f"max_contacts must be a whole number >= 1, got {max_contacts!r}.",
                                 message_zh=f"max_contacts 必须是不小于 1 的整数，现在是 {max_contacts!r}。")
    _require(contacts, ["member_id", "sent_at", "delivered", outcome, *([by] if by else [])])
    df = _with_recent(contacts, window_days)
    df = df.loc[_flag(df, "delivered")]
    k = np.minimum(df["recent_contacts"].to_numpy(), max_contacts)
    keys = [k] + ([df[by].to_numpy()] if by else [])
    names = ["recent_contacts"] + ([by] if by else [])
    g = pd.DataFrame({"y": _flag(df, outcome).astype(np.int64)}).groupby(keys, sort=True)["y"]
    out = pd.DataFrame({"messages": g.size(), "responses": g.sum()})
    out.index.names = names
    out = out.reset_index()
    rate, low, high = _rates(out["responses"].to_numpy(float), out["messages"].to_numpy(float), alpha)
    out["rate"], out["ci_low"], out["ci_high"] = rate, low, high
    if by:
        out = out[[by, *[c for c in out.columns if c != by]]].sort_values([by, "recent_contacts"], kind="stable")
    return out.reset_index(drop=True)


def fatigue_slope(contacts: pd.DataFrame, outcome: str = "opened", *, window_days: float = 30,
                  alpha: float = 0.05) -> pd.DataFrame:
    """Logistic regression of the outcome on recent messages, adjusted for the channel.

    ``logit P(outcome) = channel effect + slope * recent_contacts`` among
    delivered messages (statsmodels ``Logit``, standard errors clustered by
    member).  ``odds_ratio`` = ``exp(slope)``: each extra message in the last
    ``window_days`` multiplies the odds of the outcome by it.

    Returns
    -------
    DataFrame
        One row: ``outcome``, ``slope``, ``ci_low``, ``ci_high`` (log-odds per
        message), ``odds_ratio``, ``p_value``, ``messages``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 3000
    >>> log = pd.DataFrame({"member_id": rng.integers(0, 300, n).astype(str),
    ...     "sent_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 180, n), unit="D"),
    ...     "channel": rng.choice(["sms", "app_push"], n), "delivered": True})
    >>> k = recent_contact_counts(log)
    >>> log["opened"] = rng.random(n) < 1 / (1 + np.exp(-(-1.0 - 0.3 * k)))
    >>> round(float(fatigue_slope(log)["slope"].iloc[0]), 1)
    -0.3
    """
    import statsmodels.formula.api as smf

    _require(contacts, ["member_id", "sent_at", "channel", "delivered", outcome])
    df = _with_recent(contacts, window_days)
    df = df.loc[_flag(df, "delivered")]
    y = _flag(df, outcome).astype(float)
    if len(df) < 20 or y.min() == y.max():
        raise WorkbookInputError(
            f"Too few delivered messages or no variation in {outcome!r} to fit the fatigue slope ({len(df)} rows).",
            message_zh=f"已送达的消息太少或 {outcome!r} 没有变化，无法估计疲劳斜率（{len(df)} 行）。")
    frame = pd.DataFrame({"y": y, "k": df["recent_contacts"].to_numpy(float),
                          "channel": df["channel"].astype(str).to_numpy()})
    groups = pd.factorize(df["member_id"])[0]
    res = smf.logit("y ~ C(channel) + k", data=frame).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups})
    low, high = res.conf_int(alpha=alpha).loc["k"]
    slope = float(res.params["k"])
    return pd.DataFrame([{"outcome": outcome, "slope": slope, "ci_low": float(low), "ci_high": float(high),
                          "odds_ratio": float(np.exp(slope)), "p_value": float(res.pvalues["k"]),
                          "messages": int(len(frame))}])


def holdout_lift(contacts: pd.DataFrame, outcome: str = "visited", *, by: str = "campaign_id",
                    alpha: float = 0.05) -> pd.DataFrame:
    """Visits caused by each campaign (or touch kind) with a randomised holdout, vs naive attribution.

    For every value of ``by`` that has holdout rows: the outcome rate of the
    members sent the message minus that of the holdout
    (:func:`workbook.experiments.proportion_test`, score interval), the
    incremental visits it implies (``abs_lift * sent``), and the naive
    attribution "opened, then visited" that a last-touch report would claim.

    Returns
    -------
    DataFrame
        Indexed by ``by``: ``sent``, ``holdout``, ``rate_sent``,
        ``rate_holdout``, ``abs_lift``, ``ci_low``, ``ci_high``, ``p_value``,
        ``incremental_visits``, ``naive_attributed`` (opened and visited).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"campaign_id": ["IV01"] * 300,
    ...     "holdout": [False] * 200 + [True] * 100,
    ...     "opened": [True] * 100 + [False] * 100 + [False] * 100,
    ...     "visited": [True] * 40 + [False] * 60 + [True] * 20 + [False] * 80 + [True] * 10 + [False] * 90})
    >>> out = holdout_lift(log)
    >>> out.loc["IV01", ["rate_sent", "rate_holdout", "abs_lift", "incremental_visits", "naive_attributed"]].round(3).tolist()
    [0.3, 0.1, 0.2, 40.0, 40.0]
    """
    _require(contacts, [by, "holdout", outcome])
    hold = _flag(contacts, "holdout")
    y = _flag(contacts, outcome)
    opened = _flag(contacts, "opened") if "opened" in contacts.columns else np.zeros(len(contacts), dtype=bool)
    with_holdout = pd.unique(contacts.loc[hold, by])
    if len(with_holdout) == 0:
        raise WorkbookInputError(
            "No campaign in the contact log has holdout rows (holdout True): without a randomised holdout the "
            "visits a message caused cannot be told from visits that would have happened anyway.",
            message_zh="触达记录里没有任何活动有留出组（holdout 为 True）：没有随机留出的对照组，"
                       "就分不清哪些到店是消息带来的、哪些本来就会发生。")
    rows = []
    for key in sorted(with_holdout, key=str):  # one test per campaign (a handful)
        m = (contacts[by] == key).to_numpy()
        frame = pd.DataFrame({"arm": np.where(hold[m], "holdout", "sent"), "y": y[m]})
        r = proportion_test(frame, "arm", "y", control="holdout", treatment="sent", alpha=alpha)
        rows.append({by: key, "sent": r.n_treatment, "holdout": r.n_control, "rate_sent": r.rate_treatment,
                     "rate_holdout": r.rate_control, "abs_lift": r.abs_lift, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "p_value": r.p_value, "incremental_visits": r.abs_lift * r.n_treatment,
                     "naive_attributed": int((opened[m] & y[m] & ~hold[m]).sum())})
    return pd.DataFrame(rows).set_index(by)
