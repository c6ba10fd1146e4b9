"""Validating canonical frames: a pandera schema plus checks relative to the data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.ids import ids_in, lost_leading_zeros
from workbook.io.convert import as_text, resolve_tz
from workbook.io.mapping import TABLES
from workbook.io.report import PERSONAL_COLUMNS, REPORT_COLUMNS, finish_report

with warnings.catch_warnings():  # pandera imports pyspark, which warns about pandas 3
    warnings.simplefilter("ignore", FutureWarning)
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

REASONS = {
    "not_nullable": lambda col, v: f"missing {col}",
    "duplicate_id": lambda col, v: f"duplicate {col} {v!r} (an earlier row has the same id)",
    "orphan_member": lambda col, v: "member id not in the members table",
    "future": lambda col, v: f"{v} is after the analysis date (the load time, or the analysis_date= argument)",
    "negative_amount": lambda col, v: f"negative amount {v} on a row not flagged as a return",
    "negative_value": lambda col, v: f"negative {col} {v}",
    "negative_value_not_return": lambda col, v: f"negative {col} {v} on a row not flagged as a return",
    "valid_channel": lambda col, v: f"{v!r} is not 'offline' or 'online'",
    "valid_gender": lambda col, v: f"{v!r} is not 'F' or 'M'",
    "valid_tier": lambda col, v: f"{v!r} is not a tier (member, silver, gold, platinum)",
    "score_range": lambda col, v: f"{col} {v} is outside its scale ({'0-10' if col == 'nps' else '1-5'}) "
                                  f"/ {col} 超出评分范围",
    "yes_no": lambda col, v: f"{v!r} in {col} is not yes/no (True/False)",
    "valid_contact_channel": lambda col, v: f"{v!r} is not a contact channel (wechat_official_account, "
                                            "app_push, sms, wecom_group)",
    "duplicate_store_day": lambda col, v: f"a second count for store and day {v} (an earlier "
                                          "row has the same store_id and date; sum hourly "
                                          "counts per day before loading)",
}


LOST_ZEROS_REASON = (
    "member id matches a members-file id once its leading zeros are put back: the export (or "
    "Excel) read the card numbers as numbers; export the column as text / 会员卡号丢失了前导 0"
    "（被当成数字导出），请把该列设为文本格式后重新导出")


def resolve_load_date(*, analysis_date=None, timezone=None) -> pd.Timestamp:
    if analysis_date is None:
        tz = resolve_tz(timezone)
        return pd.Timestamp.now(tz=tz).tz_localize(None) if tz else pd.Timestamp.now()
    try:
        ts = pd.Timestamp(analysis_date)
    except (TypeError, ValueError) as exc:
        raise WorkbookInputError(f"analysis_date={analysis_date!r} is not a date.",
                                 message_zh=f"analysis_date={analysis_date!r} 不是日期。") from exc
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def known_member_ids(members) -> pd.Series | None:
    if members is None:
        return None
    if isinstance(members, pd.DataFrame):
        if "member_id" not in members.columns:
            raise WorkbookInputError(
                f"members has no 'member_id' column; it has {list(members.columns)}.",
                message_zh="会员表没有 'member_id' 列。"
            )
        members = members["member_id"]
    if not isinstance(members, (pd.Series, pd.Index, list, tuple, np.ndarray, set)):
        raise WorkbookInputError(
            f"members must be a DataFrame with a member_id column or a list of ids, got "
            f"{type(members).__name__}.",
            message_zh="members 必须是带 member_id 列的表或会员编号列表。"
        )
    return as_text(pd.Series(list(members))).dropna()


def _schema(table: str, frame: pd.DataFrame, analysis_date: pd.Timestamp, member_ids) -> pa.DataFrameSchema:
    C, K = pa.Column, pa.Check
    not_dup = K(lambda s: ~s.duplicated(keep="first") | s.isna(), name="duplicate_id")
    future = K(lambda s: s.isna() | (s <= analysis_date), name="future")
    nonneg = K(lambda s: s.isna() | (s >= 0), name="negative_value")
    if table == "transactions":
        if "is_return" in frame.columns:
            flagged = frame["is_return"].astype("boolean").fillna(False)
        else:  # data contract: without a flag column, negative amounts are returns
            flagged = pd.Series(True, index=frame.index)
        unless_return = K(
            lambda s: s.isna() | (s >= 0) | flagged.reindex(s.index, fill_value=False),
            name="negative_value_not_return",
        )
        member_checks = []
        if member_ids is not None:
            member_checks.append(
                K(lambda s: s.isna() | ids_in(s, member_ids), name="orphan_member"))
        cols = {
            "transaction_id": C(str, not_dup, nullable=False, required=False),
            "member_id": C(str, member_checks, nullable=True),
            "store_id": C(str, nullable=True, required=False),
            "timestamp": C(pa.DateTime, future, nullable=False),
            "amount": C(float, K(lambda s: (s >= 0) | flagged.reindex(s.index, fill_value=False),
                                 name="negative_amount"), nullable=False),
            # Returns give back items and earned points, so they may be negative there.
            "items": C(int, unless_return, nullable=True, required=False),
            "discount": C(float, nonneg, nullable=True, required=False),
            "points_earned": C(int, unless_return, nullable=True, required=False),
            "points_redeemed": C(int, nonneg, nullable=True, required=False),
            "channel": C(str, K(lambda s: s.isna() | s.isin(["offline", "online"]),
                                name="valid_channel"), nullable=True, required=False),
            "is_return": C(bool, nullable=False, required=False),
            "category": C(str, nullable=True, required=False),  # any label the shop uses (issue 15)
        }
    elif table == "surveys":  # issue 15: member surveys (NPS 0-10, satisfaction 1-5)
        member_checks = ([K(lambda s: pd.Series(ids_in(s, member_ids), index=s.index), name="orphan_member")]
                         if member_ids is not None else [])
        cols = {
            "survey_id": C(str, not_dup, nullable=False, required=False),
            "member_id": C(str, member_checks, nullable=False),
            "store_id": C(str, nullable=True, required=False),
            "answered_at": C(pa.DateTime, future, nullable=False),
            "nps": C(int, K(lambda s: s.isna() | s.between(0, 10), name="score_range"), nullable=False),
            "satisfaction": C(int, K(lambda s: s.isna() | s.between(1, 5), name="score_range"),
                              nullable=True, required=False),
            "complaint_tags": C(str, nullable=True, required=False),
        }
    elif table == "contacts":  # issue 15: the contact log
        # yes/no: numpy bool (synthetic) or pandas "boolean" with gaps (loaded exports)
        flag = C(None, K(lambda s: s.isna() | s.isin([True, False]), name="yes_no"), nullable=True, required=False)
        cols = {
            "member_id": C(str, [K(lambda s: s.isna() | ids_in(s, member_ids), name="orphan_member")] if member_ids is not None
                           else [], nullable=False),
            "sent_at": C(pa.DateTime, future, nullable=False),
            "channel": C(str, K(lambda s: s.isna() | s.isin(["wechat_official_account", "app_push", "sms",
                                                             "wecom_group"]), name="valid_contact_channel"),
                         nullable=False),
            "campaign_id": C(str, nullable=True, required=False),
            "campaign_kind": C(str, nullable=True, required=False),
            **{c: flag for c in ("holdout", "delivered", "opened", "visited", "unsubscribed")},
        }
    elif table == "store_traffic":
        cols = {
            "store_id": C(str, nullable=False),
            "date": C(pa.DateTime, future, nullable=False),
            "visitors": C(int, nonneg, nullable=False),
        }
    else:
        cols = {
            "member_id": C(str, not_dup, nullable=False),
            "name": C(str, nullable=True, required=False),
            "phone": C(str, nullable=True, required=False),
            "email": C(str, nullable=True, required=False),
            "gender": C(str, K(lambda s: s.isna() | s.isin(["F", "M"]), name="valid_gender"),
                        nullable=True, required=False),
            "birth_date": C(pa.DateTime, future, nullable=True, required=False),
            "join_date": C(pa.DateTime, future, nullable=True, required=False),
            "acquisition_channel": C(str, nullable=True, required=False),
            "home_store_id": C(str, nullable=True, required=False),
            "tier": C(str, K(lambda s: s.isna() | s.isin(["member", "silver", "gold", "platinum"]),
                             name="valid_tier"), nullable=True, required=False),
        }
    return pa.DataFrameSchema(cols, strict=False)


def schema_problems(table, frame, rows, member_ids, *, analysis_date) -> pd.DataFrame:
    """Run the pandera schema lazily; failure cases -> report rows."""
    required = TABLES[table][1]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise WorkbookInputError(
            f"{table} is missing required column(s) {missing}; it has {list(frame.columns)}.",
            message_zh=f"{table} 缺少必需列 {missing}。"
        )
    schema = _schema(table, frame, analysis_date, member_ids)
    try:
        with warnings.catch_warnings():  # pandera may import pyspark lazily (pandas 3 warning)
            warnings.simplefilter("ignore", FutureWarning)
            schema.validate(frame, lazy=True)
        return pd.DataFrame(columns=REPORT_COLUMNS)
    except SchemaErrors as exc:
        fc = exc.failure_cases
    row_of = pd.Series(rows, index=frame.index)
    out = []
    for rec in fc.itertuples(index=False):  # one per failing value (problems, not rows of data)
        check = str(rec.check)
        col = rec.column
        if rec.index is None or (isinstance(rec.index, float) and np.isnan(rec.index)):
            # column-level failure (wrong dtype): no single row at fault
            out.append({"check": "dtype", "column": col, "row": pd.NA, "value": frame[col].dtype,
                        "reason": f"column {col!r} has dtype {frame[col].dtype}, expected {check}; "
                                  "load the file with workbook.io or convert the column"})
            continue
        name = "missing_value" if check == "not_nullable" else check
        value = rec.failure_case
        if check == "future" and col == "timestamp":
            name = "future_timestamp"
        elif check == "future":
            name = "future_date"
        shown = value if col not in PERSONAL_COLUMNS else "(masked)"  # no raw ids in reasons
        reason = REASONS.get(check, lambda c, v: f"failed check {check}")(col, shown)
        if col in PERSONAL_COLUMNS and check == "duplicate_id":
            reason = f"duplicate {col} (an earlier row has the same id)"
        out.append({"check": name, "column": col, "row": row_of.loc[rec.index], "value": value,
                    "reason": reason})
    return pd.DataFrame(out, columns=REPORT_COLUMNS)



def _validate_frame(table, df, members, analysis_date, timezone=None):
    from workbook.validation import require_dataframe

    require_dataframe(df, table)
    known = known_member_ids(members)
    report = schema_problems(table, df, df.index.to_numpy(), known,
                            analysis_date=resolve_load_date(analysis_date=analysis_date, timezone=timezone))
    orphan = report["check"].eq("orphan_member")
    if orphan.any():  # 123 here, 000123 in the members table: say so
        ids = df.loc[report.loc[orphan, "row"], "member_id"].reset_index(drop=True)
        lost = lost_leading_zeros(ids, known).to_numpy()
        idx = report.index[orphan][lost]
        report.loc[idx, "check"] = "lost_leading_zeros"
        report.loc[idx, "reason"] = LOST_ZEROS_REASON
    return finish_report([report])


@renamed_arguments(positional=("analysis_date",), now="analysis_date")
def validate_transactions(df: pd.DataFrame, members=None, *, analysis_date=None) -> pd.DataFrame:
    """Check an already-loaded transactions frame against the data contract.

    Parameters
    ----------
    df : DataFrame
        Transactions with canonical column names and dtypes.  Not modified.
    members : DataFrame or list of ids, optional
        When given, member ids in ``df`` missing from it are reported
        (walk-in rows with no member id are fine).
    analysis_date : date-like, optional
        Timestamps after it are reported (default: the current time).

    Returns
    -------
    DataFrame
        The problem report (``check``, ``column``, ``row``, ``value``, ``reason``;
        ``row`` is the index label); empty when everything is fine.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"transaction_id": ["t1", "t1"], "member_id": ["a", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
    ...                    "amount": [10.0, -5.0], "is_return": [False, False]})
    >>> validate_transactions(tx, members=["a"], analysis_date="2024-06-01")[["check", "row"]]
                 check  row
    0     duplicate_id    1
    1    orphan_member    1
    2  negative_amount    1
    """
    return _validate_frame("transactions", df, members, analysis_date)


@renamed_arguments(positional=("analysis_date",), now="analysis_date")
def validate_members(df: pd.DataFrame, *, analysis_date=None) -> pd.DataFrame:
    """Check an already-loaded members frame (unique ids, no future dates, codes).

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"member_id": ["a", "a"], "tier": ["gold", "diamond"]})
    >>> validate_members(m)["check"].tolist()
    ['duplicate_id', 'valid_tier']
    """
    return _validate_frame("members", df, None, analysis_date)



def validate_surveys(df: pd.DataFrame, members=None, *, analysis_date=None) -> pd.DataFrame:
    """Check an already-loaded surveys frame (ids, no future answers, NPS 0-10, satisfaction 1-5).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"member_id": ["a", "b"], "answered_at": pd.to_datetime(["2024-01-01", "2024-01-02"]),
    ...                   "nps": [10, 12]})
    >>> validate_surveys(s, analysis_date="2024-06-01")[["check", "column", "row"]]
             check column  row
    0  score_range    nps    1
    """
    return _validate_frame("surveys", df, members, analysis_date)


def validate_contacts(df: pd.DataFrame, members=None, *, analysis_date=None) -> pd.DataFrame:
    """Check an already-loaded contact log (member ids, send times, channels).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"member_id": ["a", "z"], "sent_at": pd.to_datetime(["2024-01-01", "2024-01-02"]),
    ...                   "channel": ["sms", "fax"]})
    >>> validate_contacts(c, members=["a"], analysis_date="2024-06-01")[["check", "row"]]
                       check  row
    0          orphan_member    1
    1  valid_contact_channel    1
    """
    return _validate_frame("contacts", df, members, analysis_date)
