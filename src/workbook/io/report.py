"""Problem reports, cleaning notes, the error and warning types and the load result."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.ids import mask_ids
from workbook.validation import format_rows

#: Columns of every problem report.
REPORT_COLUMNS = ["check", "column", "row", "value", "reason"]


class DataQualityWarning(UserWarning):
    """Rows were dropped (``errors="drop"``); the message says how many and why."""


class DataValidationError(WorkbookInputError):
    """Problems found in a file or frame.

    Attributes
    ----------
    report : DataFrame
        One row per problem: ``check``, ``column``, ``row``, ``value``, ``reason``.
        ``value`` never holds a raw member id, name, phone or e-mail: those are
        masked (or pseudonymised when the loader was given a pseudonymiser).
    rejected : DataFrame
        The rows at fault as read (canonical column names, raw text values with
        the personal columns masked), indexed by row number, with a ``reasons`` column.
    counts : dict
        Row accounting, as in :attr:`LoadResult.counts` (empty for frames).
    """

    def __init__(self, message: str, report: pd.DataFrame, rejected: pd.DataFrame | None = None,
                 *, message_zh: str | None = None, counts: dict | None = None):
        super().__init__(message, message_zh=message_zh)
        self.report = report
        self.rejected = rejected if rejected is not None else pd.DataFrame()
        self.counts = dict(counts or {})


class _LoadResultFields(NamedTuple):
    data: pd.DataFrame
    report: pd.DataFrame
    rejected: pd.DataFrame
    cleaning: pd.DataFrame


class LoadResult(_LoadResultFields):
    """What :func:`load_transactions` / :func:`load_members` return with ``return_report=True``.

    Unpack it: ``df, report, rejected, cleaning = load_transactions(..., return_report=True)``.

    Attributes
    ----------
    data : DataFrame
        The clean frame in the canonical schema.
    report : DataFrame
        One row per problem (``check``, ``column``, ``row``, ``value``, ``reason``);
        empty when the file is clean.  Personal values are masked or pseudonymised.
    rejected : DataFrame
        Rows removed with ``errors="drop"``, as read (personal columns masked
        or pseudonymised, unmapped columns left out), indexed by row number,
        with a ``reasons`` column.
    cleaning : DataFrame
        What was cleaned or inferred: ``column``, ``action``, ``count``, ``example``.
    counts : dict
        Row accounting: ``rows_read`` (data rows in the file, blank rows not
        counted), ``blank_rows``, ``kept`` (rows in ``data``), ``member_rows``
        and ``walk_ins`` (kept rows with and without a member id; transactions
        only), ``rejected`` (rows removed: problems, or exact duplicates with
        ``duplicates="drop"``), ``exact_duplicates`` (rows equal to an earlier
        row, files without a receipt id).  Always
        ``rows_read == member_rows + walk_ins + rejected`` for transactions and
        ``rows_read == kept + rejected`` for the other tables.
    """

    counts = MappingProxyType({})  # for copies made by _replace/_make

    def __new__(cls, data, report, rejected, cleaning, counts: dict | None = None):
        self = super().__new__(cls, data, report, rejected, cleaning)
        self.counts = dict(counts or {})
        return self

    def write_report(self, path: str | Path) -> Path:
        """Write the rejected rows with their reasons to a CSV file Excel can open.

        The file is UTF-8 with a BOM so Excel shows Chinese text correctly.
        Personal columns are masked or pseudonymised, unmapped columns are not
        included; still keep it out of git.
        """
        path = Path(path)
        self.rejected.to_csv(path, encoding="utf-8-sig", index_label="row")
        return path


def note(notes: list, column: str, action: str, count: int, example: str = "") -> None:
    notes.append({"column": column, "action": action, "count": int(count), "example": example})





Problems = list  # of DataFrames with REPORT_COLUMNS


def add_problem(problems: Problems, check: str, column: str, rows, values, reasons) -> None:
    rows = np.asarray(rows)
    if len(rows) == 0:
        return
    values = np.broadcast_to(pd.Series(values).astype(object).to_numpy(), rows.shape)
    reasons = np.broadcast_to(np.asarray(reasons, dtype=object), rows.shape)
    problems.append(
        pd.DataFrame({"check": check, "column": column, "row": rows, "value": values,
                      "reason": reasons})
    )



#: Columns whose values identify a person: never quoted raw in a report or message.
PERSONAL_COLUMNS = ("member_id", "name", "phone", "email")


def display_values(column: str, values, pseudonymiser=None) -> pd.Series:
    """What a report may show of ``values``: personal columns masked or pseudonymised."""
    values = pd.Series(values).reset_index(drop=True)
    if column not in PERSONAL_COLUMNS:
        return values
    text = values.astype("str").where(values.notna())
    if pseudonymiser is not None and column == "member_id":
        return pseudonymiser.pseudonymise_ids(text)
    return mask_ids(text)


def finish_report(parts: list[pd.DataFrame], pseudonymiser=None) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=REPORT_COLUMNS)
    report = pd.concat(parts, ignore_index=True)[REPORT_COLUMNS]
    # A value that could not be parsed is also missing afterwards: keep the first (parse) reason.
    report = report.loc[~(report.duplicated(["column", "row"]) & report["row"].notna()
                          & report["check"].eq("missing_value"))].reset_index(drop=True)
    personal = report["column"].isin(PERSONAL_COLUMNS) & report["value"].notna()
    if personal.any():
        report["value"] = report["value"].astype(object)
        for col in report.loc[personal, "column"].unique():
            sel = personal & report["column"].eq(col)
            report.loc[sel, "value"] = display_values(
                col, report.loc[sel, "value"], pseudonymiser).to_numpy(dtype=object)
    return report


def report_summary(report: pd.DataFrame) -> pd.DataFrame:
    """One line per check and column: how many rows, the first few, an example.

    Parameters
    ----------
    report : DataFrame
        A problem report (``check``, ``column``, ``row``, ``value``, ``reason``).

    Returns
    -------
    DataFrame
        Columns ``check``, ``column``, ``count``, ``rows`` (text listing the
        first rows), ``example`` (the first reason).

    Examples
    --------
    >>> import pandas as pd
    >>> rep = pd.DataFrame({"check": ["not_a_number"] * 2, "column": ["amount"] * 2,
    ...                     "row": [3, 7], "value": ["abc", "?"],
    ...                     "reason": ["'abc' is not a number", "'?' is not a number"]})
    >>> report_summary(rep).loc[0, "rows"]
    'rows 3, 7 (2 in total)'
    """
    if report.empty:
        return pd.DataFrame(columns=["check", "column", "count", "rows", "example"])
    g = report.groupby(["check", "column"], sort=False, dropna=False)
    out = g.agg(count=("reason", "size"), rows=("row", lambda r: format_rows(r.dropna())),
                example=("reason", "first")).reset_index()
    return out


#: Chinese names of the checks, for the Chinese half of an error message.
CHECK_ZH = {
    "not_a_number": "不是数字", "not_an_integer": "不是整数", "not_a_date": "不是可识别的日期",
    "missing_value": "缺少必填值", "duplicate_id": "编号重复", "orphan_member": "会员不在会员表中",
    "lost_leading_zeros": "会员卡号丢失了前导 0", "future_timestamp": "时间晚于当前时间",
    "future_date": "日期晚于当前时间", "negative_amount": "非退货行的金额为负",
    "negative_value": "出现负数", "negative_value_not_return": "非退货行出现负数",
    "valid_channel": "渠道无法识别", "valid_gender": "性别无法识别", "valid_tier": "等级无法识别",
    "unknown_value": "取值无法识别", "mixed_time_zones": "时区写法不一致",
    "id_scientific": "编号是科学计数法（已丢失数字）", "id_precision_lost": "编号因数值格式丢失精度",
    "id_not_integer": "编号带小数", "implausible_date": "日期不合理",
    "exact_duplicate": "与前面某行完全相同", "duplicate_store_day": "同一门店同一天重复计数",
    "not_a_day": "日客流中出现了具体时刻", "dtype": "列类型不对",
    "score_range": "评分超出范围（NPS 0-10，满意度 1-5）",
}


def error_message(table: str, source: str, report: pd.DataFrame) -> tuple[str, str]:
    """The English and the Chinese message of a :class:`DataValidationError`."""
    summary = report_summary(report)
    n_rows = report["row"].nunique()
    lines = [f"{source}: {len(report)} problem(s) in {n_rows} row(s) of {table}:"]
    zh = [f"{source}：{table} 表有 {n_rows} 行存在 {len(report)} 个问题："]
    for rec in summary.itertuples(index=False):
        lines.append(f"  - {rec.check} in column {rec.column!r}: {rec.rows}; e.g. {rec.example}")
        rows_zh = rec.rows.replace("rows ", "第 ").replace("row ", "第 ").replace(
            " in total)", " 行)").replace(" (", " 行 (共 ", 1)
        zh.append(f"  - 列 {rec.column!r}：{CHECK_ZH.get(rec.check, rec.check)}，{rows_zh}")
    lines.append("Fix the file, or pass errors='drop' to drop these rows and get the report "
                 "(return_report=True gives the rejected rows with their reasons).")
    zh.append("请修改文件，或使用 errors='drop' 丢弃这些行并查看报告（return_report=True 可得到被拒绝的行及原因）。")
    return "\n".join(lines), "\n".join(zh)
