"""Member feedback surveys and the points programme's rules for a generated data set.

Both come from their own random stream (``np.random.default_rng([seed,
FEEDBACK_STREAM])``) and only *read* the generated members, transactions and
truth, so adding them leaves every other table unchanged.

The true model of the surveys (written to ``scenario.json`` under
``"surveys"`` and to ``datasets/README.md``):

1. **Who answers.**  After each member purchase (not returns, not gym fees) the
   member answers a short survey with probability ``answer_prob``; the answer
   arrives an exponential ``answer_lag_days`` later (dropped if after the end).
2. **Attitude.**  Each member has a latent attitude
   ``a = -rho * z + sqrt(1 - rho**2) * e``, ``e ~ N(0, 1)``, where ``z`` is the
   standardised ``logit(truth.dropout_prob)``: members who are more likely to
   drop out (churn) are less happy, with correlation ``-rho``.
3. **Complaints.**  Each answer carries each complaint tag independently with
   the tag's ``share`` (independent of the attitude: experiences, not moods).
4. **Scores.**  Latent score ``s = nps_mean + nps_attitude * a - sum of the
   tags' nps_drop + N(0, nps_noise)``; ``nps = clip(round(s), 0, 10)``;
   ``satisfaction = clip(round(3 + (s - nps_mean) / 2 + N(0, 0.5)), 1, 5)``.

So a regression of ``nps`` on the tags recovers each tag's ``nps_drop``
(up to the rounding and clipping), and NPS predicts churn only through the
attitude, i.e. through ``dropout_prob``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbook.synth.strings import fixed_width_ids, take_strings

__all__ = ["COMPLAINT_TAGS", "FEEDBACK_STREAM", "SURVEY_COLUMNS", "SURVEY_MODEL", "coerce_surveys",
           "generate_surveys", "points_rules", "surveys_markdown"]

#: Second seed word of the feedback stream (issue 15), so the stream is independent of the others.
FEEDBACK_STREAM = 15_015

#: Complaint tags: share of answers carrying the tag and the true drop of the NPS score it causes.
COMPLAINT_TAGS: dict[str, dict[str, float]] = {
    "long_queue": {"share": 0.10, "nps_drop": 1.5},
    "out_of_stock": {"share": 0.12, "nps_drop": 1.0},
    "staff_attitude": {"share": 0.05, "nps_drop": 2.5},
    "price": {"share": 0.15, "nps_drop": 0.5},
    "points_hard_to_use": {"share": 0.08, "nps_drop": 1.2},
}

#: The true survey model (see the module docstring).
SURVEY_MODEL: dict[str, float] = {
    "answer_prob": 0.04,
    "answer_lag_days": 1.5,
    "rho": 0.7,
    "nps_mean": 8.2,
    "nps_attitude": 1.8,
    "nps_noise": 1.0,
}

#: Separator of several tags in ``complaint_tags`` (as in many survey exports).
TAG_SEPARATOR = ";"

_US_PER_DAY = 86_400_000_000

#: Columns of the ``surveys`` table: (name, dtype, unit, may be missing, meaning zh, meaning en).
SURVEY_COLUMNS: tuple[tuple[str, str, str, bool, str, str], ...] = (
    ("survey_id", "str", "-", False, "问卷编号，例如 Q0000001。", "Survey answer identifier, e.g. Q0000001."),
    ("member_id", "str", "-", False, "会员号（对应会员表）。", "Member (members.member_id)."),
    ("store_id", "str", "-", False, "被评价的那次购买所在门店。", "Store of the purchase the survey follows."),
    ("answered_at", "datetime64[us]", "timestamp", False, "填写时间（购买后约 1-2 天）。",
     "Time of the answer (a day or two after the purchase)."),
    ("nps", "int64", "0-10", False, "推荐意愿 0-10 分（NPS 题：您有多大可能把本店推荐给朋友？）。",
     "Likelihood to recommend, 0-10 (the NPS question)."),
    ("satisfaction", "int64", "1-5", False, "满意度 1-5 分（5 = 非常满意）。", "Satisfaction, 1-5 (5 = very satisfied)."),
    ("complaint_tags", "str", "-", True,
     "投诉标签，多个用分号分隔：long_queue 排队久、out_of_stock 缺货、staff_attitude 服务态度、price 价格、"
     "points_hard_to_use 积分难用；没有投诉为空。",
     "Complaint tags joined by ';' (long_queue, out_of_stock, staff_attitude, price, points_hard_to_use); "
     "missing when none."),
)


def _standardised_logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    lg = np.log(q / (1 - q))
    sd = lg.std()
    return (lg - lg.mean()) / (sd if sd > 0 else 1.0)


def generate_surveys(
    transactions: pd.DataFrame,
    members: pd.DataFrame,
    truth: pd.DataFrame,
    end: pd.Timestamp,
    random_state: int,
    *,
    member_index: np.ndarray | None = None,
) -> pd.DataFrame:
    """Answered member surveys (NPS, satisfaction, complaint tags) from the true model.

    Parameters
    ----------
    transactions, members, truth : DataFrame
        The generated tables (read only).
    end : Timestamp
        Last day of the period (answers after it are not in the data).
    random_state : int
        The data set's seed; the stream is ``default_rng([random_state, FEEDBACK_STREAM])``.
    member_index : ndarray of int, optional
        The members row of each transaction (-1 for walk-ins), if the caller has it
        (the generator does); otherwise looked up from the ids.

    Returns
    -------
    DataFrame
        ``survey_id``, ``member_id``, ``store_id``, ``answered_at``, ``nps``
        (0-10), ``satisfaction`` (1-5), ``complaint_tags`` (tags joined by
        ``;``, missing when none), sorted by ``answered_at``.

    Examples
    --------
    >>> from workbook.synth import Scenario, generate
    >>> d = generate(Scenario.preset("retail_chain", n_members=400, n_stores=4), random_state=3)
    >>> s = generate_surveys(d.transactions, d.members, d.truth, d.scenario.end, 3)
    >>> s.columns.tolist()
    ['survey_id', 'member_id', 'store_id', 'answered_at', 'nps', 'satisfaction', 'complaint_tags']
    >>> bool(s["nps"].between(0, 10).all())
    True
    """
    rng = np.random.default_rng([int(random_state), FEEDBACK_STREAM])
    m = SURVEY_MODEL
    n = len(members)
    ids = members["member_id"]
    if truth["member_id"].equals(ids):  # the generator's truth is in member order: no lookup needed
        p = truth["dropout_prob"].to_numpy(dtype=float)
    else:
        p = truth.set_index("member_id")["dropout_prob"].reindex(pd.Index(ids)).to_numpy(dtype=float)
    attitude = -m["rho"] * _standardised_logit(p) + np.sqrt(1 - m["rho"] ** 2) * rng.standard_normal(n)

    tx = transactions
    eligible = tx["member_id"].notna().to_numpy() & ~tx["is_return"].to_numpy(dtype=bool)
    eligible &= (tx["kind"] != "fee").to_numpy()
    answered = eligible & (rng.random(len(tx)) < m["answer_prob"])
    rows = np.flatnonzero(answered)
    lag_us = np.floor(rng.exponential(m["answer_lag_days"], len(rows)) * 86_400).astype(np.int64) * 1_000_000  # whole seconds
    at = tx["timestamp"].to_numpy()[rows].astype("datetime64[us]") + lag_us.astype("timedelta64[us]")
    limit = np.datetime64((pd.Timestamp(end) + pd.Timedelta(days=1)).to_datetime64(), "us")
    keep = at < limit
    rows, at = rows[keep], at[keep]
    k = len(rows)

    member_ids = pa.array(tx["member_id"]).take(rows)
    if member_index is None:
        member = pc.fill_null(pc.index_in(member_ids, value_set=pa.array(ids)), -1).to_numpy()
    else:
        member = np.asarray(member_index)[rows]
    names = list(COMPLAINT_TAGS)
    shares = np.array([COMPLAINT_TAGS[t]["share"] for t in names])
    drops = np.array([COMPLAINT_TAGS[t]["nps_drop"] for t in names])
    tags = rng.random((k, len(names))) < shares
    latent = m["nps_mean"] + m["nps_attitude"] * attitude[member] - tags @ drops
    latent = latent + m["nps_noise"] * rng.standard_normal(k)
    nps = np.clip(np.round(latent), 0, 10).astype(np.int64)
    sat = np.clip(np.round(3 + (latent - m["nps_mean"]) / 2 + 0.5 * rng.standard_normal(k)), 1, 5).astype(np.int64)

    # the tags of each answer joined in the order of COMPLAINT_TAGS: one string per subset of tags
    subsets = [TAG_SEPARATOR.join(t for j, t in enumerate(names) if code >> j & 1) for code in range(2 ** len(names))]
    code = tags.astype(np.int64) @ (1 << np.arange(len(names)))
    order = np.argsort(at, kind="stable")
    code = code[order]
    width = max(7, len(str(k)))
    tag_text = take_strings(subsets, np.where(code == 0, -1, code))  # no tag: missing
    out = pd.DataFrame(
        {
            "survey_id": pd.Series(fixed_width_ids("Q", np.arange(1, k + 1), width), dtype="str"),
            "member_id": pd.Series(member_ids.take(order), dtype="str"),
            "store_id": pd.Series(pa.array(tx["store_id"]).take(rows[order]), dtype="str"),
            "answered_at": at[order],
            "nps": nps[order],
            "satisfaction": sat[order],
            "complaint_tags": pd.Series(tag_text, dtype="str"),
        }
    )
    return out


def coerce_surveys(df: pd.DataFrame) -> pd.DataFrame:
    """The surveys table with its columns in order and the dtypes of :data:`SURVEY_COLUMNS`."""
    out = {}
    for name, dtype, *_ in SURVEY_COLUMNS:
        s = df[name]
        out[name] = s.astype("str") if dtype == "str" else s.astype(dtype)
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


def surveys_markdown(rules: dict | None) -> str:
    """Data-dictionary section of the surveys table and the points rules (for ``datasets/README.md``)."""
    lines = ["### `surveys`", "",
             "会员问卷：会员购买后填写的满意度 / NPS 问卷，每份答卷一行（只含已作答的）。", "",
             "Member surveys answered after a purchase, one row per answer (answered ones only).", "",
             "| 列 column | 含义 | 类型 type | 单位 unit | 可为空 may be missing | meaning |",
             "|---|---|---|---|---|---|"]
    for name, dtype, unit, nullable, zh, en in SURVEY_COLUMNS:
        lines.append(f"| `{name}` | {zh} | {dtype} | {unit} | {'是 yes' if nullable else '否 no'} | {en} |")
    m = SURVEY_MODEL
    tags = ", ".join(f"`{t}` {v['share']:.0%} / -{v['nps_drop']:g}" for t, v in COMPLAINT_TAGS.items())
    lines += ["", "**True survey model** (`scenario.json` → `surveys`): after each member purchase the member "
              f"answers with probability {m['answer_prob']:g}, about {m['answer_lag_days']:g} days later. "
              f"Attitude `a = -{m['rho']:g} z + sqrt(1-{m['rho']:g}²) e`, `z` = standardised "
              "logit of `truth.dropout_prob` (less happy members are more likely to churn). Each complaint tag "
              f"occurs independently of the attitude (share / true NPS drop: {tags}). "
              f"Score `s = {m['nps_mean']:g} + {m['nps_attitude']:g} a - Σ drops + N(0, {m['nps_noise']:g})`, "
              "`nps = clip(round(s), 0, 10)`, `satisfaction = clip(round(3 + (s - "
              f"{m['nps_mean']:g}) / 2 + N(0, 0.5)), 1, 5)`.", ""]
    if rules:
        lines += ["### 积分规则 Points rules (`scenario.json` → `points_rules`)", "",
                  f"积分计划自 {rules['launch']} 起在参加计划的门店实行：每消费 1 元得 "
                  f"{rules['earn_points_per_cny']:g} 分；满 {rules['redeem_unit_points']} 分可在收银台抵 "
                  f"{rules['redeem_unit_points'] * rules['point_value_yuan']:g} 元；积分年底清零："
                  + ("积分当年有效，每年 12 月 31 日 24 点清零当年获得的积分" if rules["expiry_years"] == 0 else
                     f"第 Y 年获得的积分在第 Y+{rules['expiry_years']} 年 12 月 31 日 24 点作废")
                  + f"（`expiry = year_end`，`expiry_years = {rules['expiry_years']}`）。", "",
                  f"Points programme from {rules['launch']} in programme stores: {rules['earn_points_per_cny']:g} "
                  f"point per yuan paid; redeemed in hundreds at the till, {rules['redeem_unit_points']} points = "
                  f"{rules['redeem_unit_points'] * rules['point_value_yuan']:g} yuan off (cost to the chain "
                  f"{rules['cost_per_point_yuan']:g} yuan per point); points earned in year Y expire at the end "
                  f"of year {'Y' if rules['expiry_years'] == 0 else 'Y+' + str(rules['expiry_years'])}. Redemptions in the data never use points after their "
                  "expiry, and do not react to the rule (no rush to redeem before the clearing): every point "
                  "unredeemed at the year end is breakage. Read the ledger with "
                  "`workbook.points.points_ledger(tx, expiry=\"year_end\", expiry_years=...)`.", ""]
    return "\n".join(lines)


def points_rules(scenario) -> dict | None:
    """The points programme's rules as run in the data set (``None`` without a programme).

    Earning and redemption are what the generator does (``points_per_cny``
    points per yuan paid, in programme stores from the launch; redemptions in
    whole hundreds at 100 points = 1 yuan off).  Expiry is a year-end clearing
    rule (积分年底清零): points earned in calendar year ``Y`` expire at the end of
    year ``Y + expiry_years``, with ``expiry_years`` = last year of the period
    minus the programme's first year.  For the retail chain (launch 2024-04,
    data to 2024-12) that is "积分当年有效，12月31日清零" (``expiry_years=0``).
    The generator's redemptions draw on all points earned so far; with this
    choice no redemption in the data falls after the expiry of the points it
    uses, so the rule and the data agree, and every point still unredeemed at
    the last year end is breakage.

    Examples
    --------
    >>> from workbook.synth import Scenario
    >>> rules = points_rules(Scenario.preset("retail_chain"))
    >>> rules["expiry"], rules["expiry_years"]
    ('year_end', 0)
    """
    eff = scenario.effects
    if scenario.points_per_cny <= 0 or scenario.business == "gym":
        return None
    first = pd.Timestamp(eff.points_launch if eff.points_launch is not None else scenario.start)
    return {
        "launch": str(first.date()),
        "earn_points_per_cny": float(scenario.points_per_cny),
        "redeem_unit_points": 100,
        "point_value_yuan": 0.01,
        "cost_per_point_yuan": 0.01,
        "expiry": "year_end",
        "expiry_years": int(max(pd.Timestamp(scenario.end).year - first.year, 0)),
    }
