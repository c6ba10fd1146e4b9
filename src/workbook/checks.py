"""Trainee-friendly answer checks for the exercise notebooks.

Every exercise task ends with a *check cell* that calls one helper of this
module.  A helper recomputes the reference answer with the package itself
(never a hard-coded number), compares it with the trainee's answer and

* on success prints a short ``✓`` line and returns ``True``;
* otherwise raises :class:`ExerciseCheckError` whose message says, in Chinese
  and English, **what is wrong** (which column, which member, expected and
  actual value) and gives a **hint** (the usual mistake behind that symptom).

:class:`ExerciseCheckError` subclasses :class:`AssertionError`, so pytest,
nbval and :func:`workbook.exercises.grade` count it as a failed check.  An
answer that is still ``None`` (or ``NotImplemented`` / ``...``) gets the
message ``还没有作答 (not answered yet)`` without computing anything.

Generic helpers: :func:`check_frame` (two tables, cell by cell),
:func:`check_number` and :func:`check_choice`.  Task helpers:
:func:`check_rfm_scores`, :func:`check_rfm_segments`, :func:`check_top_segment`,
:func:`check_lifecycle_stages`, :func:`check_stage_share`,
:func:`check_retention_matrix`, :func:`check_cohort_matrix`,
:func:`check_sample_size`, :func:`check_ab_result`, :func:`check_ab_decision`,
:func:`check_tier_simulation`, :func:`check_tier_policy`,
:func:`check_train_cutoff`, :func:`check_churn_evaluation`,
:func:`check_best_model`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "NOT_ANSWERED",
    "ExerciseCheckError",
    "check_ab_decision",
    "check_ab_result",
    "check_best_model",
    "check_choice",
    "check_churn_evaluation",
    "check_cohort_matrix",
    "check_frame",
    "check_lifecycle_stages",
    "check_number",
    "check_retention_matrix",
    "check_rfm_scores",
    "check_rfm_segments",
    "check_sample_size",
    "check_stage_share",
    "check_tier_policy",
    "check_tier_simulation",
    "check_top_segment",
    "check_train_cutoff",
]

#: First words of the message for an answer that is still missing.
NOT_ANSWERED = "还没有作答 (not answered yet)"

#: A hint: fixed text, or ``f(got, expected, differs) -> str | None`` computed from the mismatch.
Hint = str | Callable[[pd.Series, pd.Series, np.ndarray], "str | None"]


class ExerciseCheckError(AssertionError):
    """A trainee's answer is missing or wrong; the message says what and gives a hint.

    Parameters
    ----------
    what : str
        What is wrong (Chinese with English in parentheses).
    hint : str, optional
        What to try.

    Examples
    --------
    >>> err = ExerciseCheckError("答案不对 (wrong answer)", "再读一遍题目 (read the task again)")
    >>> print(err)
    ✗ 答案不对 (wrong answer)
    提示 (hint): 再读一遍题目 (read the task again)
    >>> isinstance(err, AssertionError)
    True
    """

    def __init__(self, what: str, hint: str | None = None):
        self.what = what
        self.hint = hint
        text = f"✗ {what}"
        if hint:
            text += f"\n提示 (hint): {hint}"
        super().__init__(text)


def _passed(message: str) -> bool:
    print(f"✓ {message}")
    return True


def _is_missing(answer: object) -> bool:
    return answer is None or answer is NotImplemented or answer is Ellipsis


def _require_answer(answer: object, name: str, hint: str) -> None:
    if _is_missing(answer):
        raise ExerciseCheckError(f"{NOT_ANSWERED}: {name} 还是 {answer!r}", hint)


def _fmt(value: object) -> str:
    """Readable value for a message: whole floats without decimals, NaN explained."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return "空值 NaN (missing / not observed)"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.6g}"
    if isinstance(value, pd.Timestamp):
        return str(value.date()) if value == value.normalize() else str(value)
    return str(value)


# --------------------------------------------------------------------------- generic


def _is_number_series(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _equal(got: pd.Series, exp: pd.Series, rtol: float, atol: float) -> np.ndarray:
    """Element-wise equality, missing equal to missing; numbers within tolerance."""
    if _is_number_series(exp):
        g = pd.to_numeric(got, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        e = exp.to_numpy(dtype="float64", na_value=np.nan)
        return np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    g_na = got.isna().to_numpy()
    e_na = exp.isna().to_numpy()
    same = got.astype(object).astype(str).to_numpy() == exp.astype(object).astype(str).to_numpy()
    return (g_na & e_na) | (same & ~g_na & ~e_na)


def _index_label(key: object) -> str:
    return _fmt(key)


def check_frame(
    answer: object,
    expected: pd.DataFrame,
    *,
    name: str = "answer",
    columns: Sequence | None = None,
    row_label: str = "行 (row)",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    hints: Mapping[object, Hint] | None = None,
    check_rows: bool = True,
) -> bool:
    """Compare a trainee's table with the expected one, column by column.

    Rows are matched by index (their order does not matter); if the answer
    holds the expected index as a column (e.g. ``member_id`` after
    ``reset_index()``), it is used as the index.  Numbers are compared with
    :func:`numpy.isclose`, other values as text; missing equals missing.

    Parameters
    ----------
    answer : DataFrame or Series
        The trainee's table (a Series is treated as a one-column table).
    expected : DataFrame
        The reference.
    name : str
        Name of the answer variable, used in messages.
    columns : sequence, optional
        Columns to compare, in this order (default: all of ``expected``).
    row_label : str
        What a row is, e.g. ``"会员 (member)"``.
    rtol, atol : float
        Tolerances for numbers.
    hints : mapping, optional
        Hint per column label, a string or a function
        ``f(got, expected, differs) -> str | None`` that can diagnose the
        mistake from the differing values; key ``"__rows__"`` for missing or
        extra rows.
    check_rows : bool, default True
        Whether extra or missing rows are an error.

    Returns
    -------
    bool
        ``True`` (and prints ``✓ ...``) when the tables agree.

    Raises
    ------
    ExerciseCheckError
        Not answered, wrong type, missing column, missing/extra rows or the
        first column with a wrong value (naming the row, expected and actual
        value and how many rows differ).

    Examples
    --------
    >>> import pandas as pd
    >>> exp = pd.DataFrame({"recency_days": [45, 3]}, index=pd.Index(["M1", "M2"], name="member_id"))
    >>> check_frame(exp.copy(), exp, name="rfm")
    ✓ rfm 正确 (correct): 2 行 × 1 列
    True
    >>> wrong = exp.assign(recency_days=[46, 3])
    >>> try:
    ...     check_frame(wrong, exp, name="rfm", row_label="会员")
    ... except ExerciseCheckError as err:
    ...     print(err.what)
    第 1 列 recency_days 的值不对 (wrong values): 会员 M1 应为 45，你的是 46 (1 of 2 rows differ)
    """
    hints = dict(hints or {})
    _require_answer(answer, name, hints.get("__missing__", f"把结果赋值给变量 {name} (assign your result to {name})"))
    if isinstance(answer, pd.Series):
        answer = answer.to_frame(answer.name if answer.name is not None else expected.columns[0])
    if not isinstance(answer, pd.DataFrame):
        raise ExerciseCheckError(
            f"{name} 应该是一个 DataFrame 表格，你的是 {type(answer).__name__} "
            f"({name} should be a DataFrame, got {type(answer).__name__})",
            "检查最后一步是否返回了表格，而不是打印或画图 (return the table, do not only print it).",
        )
    columns = list(expected.columns if columns is None else columns)
    idx_name = expected.index.name
    if (
        idx_name is not None
        and idx_name in answer.columns
        and idx_name not in columns
        and not expected.index.isin(answer.index).all()
    ):
        answer = answer.set_index(idx_name)
    missing_cols = [c for c in columns if c not in answer.columns]
    if missing_cols:
        raise ExerciseCheckError(
            f"{name} 缺少列 (missing columns) {missing_cols}；它现在的列是 {list(answer.columns)}",
            "检查列名拼写，或是否用了题目要求的函数 (check the column names / use the function named in the task).",
        )
    if answer.index.has_duplicates:
        dup = answer.index[answer.index.duplicated()]
        raise ExerciseCheckError(
            f"{name} 有重复的行 (duplicated rows)，例如 {row_label} {_index_label(dup[0])}",
            "每个会员（或队列）只应有一行；是否在合并 (merge/concat) 时重复了？",
        )
    if check_rows:
        missing = expected.index.difference(answer.index, sort=False)
        extra = answer.index.difference(expected.index, sort=False)
        row_hint = hints.get("__rows__")
        if len(missing):
            raise ExerciseCheckError(
                f"{name} 少了 {len(missing)} 行 (missing rows)，例如 {row_label} "
                f"{', '.join(_index_label(k) for k in missing[:3])}；应有 {len(expected)} 行，你的有 {len(answer)} 行",
                row_hint if isinstance(row_hint, str) else "是否过滤掉了一些会员，或换了分析日期？"
                "(did you filter rows out or use another analysis date?)",
            )
        if len(extra):
            raise ExerciseCheckError(
                f"{name} 多了 {len(extra)} 行 (unexpected rows)，例如 {row_label} "
                f"{', '.join(_index_label(k) for k in extra[:3])}；应有 {len(expected)} 行，你的有 {len(answer)} 行",
                row_hint if isinstance(row_hint, str) else "是否包含了散客（没有 member_id）或分析日期之后的交易？"
                "(walk-ins without member_id or transactions after the analysis date?)",
            )
    rows = expected.index.intersection(answer.index, sort=False) if not check_rows else expected.index
    for pos, col in enumerate(columns, start=1):
        exp = expected.loc[rows, col]
        got = answer.loc[rows, col]
        if _is_number_series(exp) and not (_is_number_series(got) or pd.api.types.is_bool_dtype(got)):
            coerced = pd.to_numeric(got, errors="coerce")
            if (coerced.isna() & got.notna()).any():
                raise ExerciseCheckError(
                    f"第 {pos} 列 {col} 应该是数字 (numeric)，你的是 dtype {got.dtype}",
                    "把文字转成数字，或检查是否选错了列 (convert text to numbers / pick the right column).",
                )
        ok = _equal(got, exp, rtol, atol)
        if ok.all():
            continue
        differs = ~ok
        first = np.flatnonzero(differs)[0]
        key = rows[first]
        hint = hints.get(col)
        if callable(hint):
            hint = hint(got, exp, differs)
        if hint is None:
            hint = "对照题目里的定义再算一遍这一列 (recompute this column following the definition in the task)."
        raise ExerciseCheckError(
            f"第 {pos} 列 {col} 的值不对 (wrong values): {row_label} {_index_label(key)} 应为 "
            f"{_fmt(exp.iloc[first])}，你的是 {_fmt(got.iloc[first])} "
            f"({int(differs.sum())} of {len(rows)} rows differ)",
            hint,
        )
    return _passed(f"{name} 正确 (correct): {len(rows)} 行 × {len(columns)} 列")


def check_number(
    answer: object,
    expected: float,
    *,
    name: str = "answer",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    hint: str | None = None,
    unit: str = "",
) -> bool:
    """Compare a single number with the expected value.

    Parameters
    ----------
    answer : number
        The trainee's number (int, float, NumPy scalar).
    expected : float
        The reference value.
    name : str
        Variable name for messages.
    rtol, atol : float
        Tolerances (:func:`numpy.isclose`).
    hint : str, optional
        Hint shown when the number is wrong.
    unit : str
        Unit appended to values in messages (e.g. ``" 人"``).

    Returns
    -------
    bool

    Examples
    --------
    >>> check_number(0.25, 0.25, name="share")
    ✓ share = 0.25 正确 (correct)
    True
    >>> try:
    ...     check_number(25, 0.25, name="share", hint="用比例而不是百分数 (a share, not a percentage)")
    ... except ExerciseCheckError as err:
    ...     print(err)
    ✗ share 不对 (wrong): 应为 0.25，你的是 25
    提示 (hint): 用比例而不是百分数 (a share, not a percentage)
    """
    _require_answer(answer, name, f"把结果赋值给变量 {name} (assign your result to {name})")
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, (int, float, np.integer, np.floating)):
        raise ExerciseCheckError(
            f"{name} 应该是一个数字 (a number)，你的是 {type(answer).__name__}: {answer!r}",
            "从表格中取出一个值，例如 df.loc[行, 列] 或 .iloc[0] (take one value out of the table).",
        )
    if not np.isclose(float(answer), float(expected), rtol=rtol, atol=atol):
        raise ExerciseCheckError(
            f"{name} 不对 (wrong): 应为 {_fmt(expected)}{unit}，你的是 {_fmt(answer)}{unit}", hint
        )
    return _passed(f"{name} = {_fmt(answer)}{unit} 正确 (correct)")


def check_choice(
    answer: object,
    expected: object,
    *,
    name: str = "answer",
    choices: Sequence | None = None,
    hint: str | None = None,
) -> bool:
    """Check a categorical answer (a segment code, a model name, True/False).

    Examples
    --------
    >>> check_choice("hgb", "hgb", name="best_model", choices=["hgb", "logistic"])
    ✓ best_model = 'hgb' 正确 (correct)
    True
    """
    _require_answer(answer, name, f"把你的选择赋值给变量 {name} (assign your choice to {name})")
    if isinstance(answer, np.bool_):
        answer = bool(answer)
    if choices is not None and answer not in list(choices):
        raise ExerciseCheckError(
            f"{name} = {answer!r} 不是可选项 (not one of the choices) {list(choices)}",
            "检查拼写和大小写 (check spelling and case).",
        )
    if answer != expected:
        raise ExerciseCheckError(f"{name} = {answer!r} 不对 (wrong)", hint)
    return _passed(f"{name} = {answer!r} 正确 (correct)")


# --------------------------------------------------------------------------- hints


def _constant_offset(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> float | None:
    g = pd.to_numeric(got, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)[differs]
    e = exp.to_numpy(dtype="float64", na_value=np.nan)[differs]
    d = g - e
    if len(d) and np.isfinite(d).all() and np.allclose(d, d[0]):
        return float(d[0])
    return None


def _recency_hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
    offset = _constant_offset(got, exp, differs)
    if offset is not None and abs(offset) == 1:
        return (
            "差一天 (off by one): recency_days 是完整经过的天数 (whole elapsed days) "
            "floor((analysis_date - last_purchase) / 1 天)，分析日期默认是最后交易日之后的午夜，"
            "所以最后一天购买的会员 recency_days = 0。"
        )
    return "用 workbook.rfm.rfm_table(data.transactions) 计算；退货不算购买 (returns are not purchases)."


def _frequency_hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
    g = pd.to_numeric(got, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)[differs]
    e = exp.to_numpy(dtype="float64", na_value=np.nan)[differs]
    if np.all(g > e):
        return "你的购买次数偏多：退货 (is_return) 不算购买 (returns are not purchases)."
    if np.allclose(g, e - 1):
        return "frequency 是全部购买次数；repeat_frequency 才是 frequency - 1 (repeat purchases)."
    return "frequency = 分析日期之前的购买笔数（不含退货）(purchase transactions before the analysis date)."


def _reverse_score_hint(bins: int) -> Hint:
    def hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
        g = pd.to_numeric(got, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        e = exp.to_numpy(dtype="float64", na_value=np.nan)
        if np.allclose(g, bins + 1 - e):
            return "R 分数是反向的 (recency is scored inversely): 最近购买 = recency_days 小 = 高分。"
        return "用 RFMScorer(bins=5).fit_transform(rfm) 打分：相同的值得相同的分 (ties share a score)."

    return hint


_SCORE_HINT = (
    "用 RFMScorer(bins=5).fit_transform(rfm) 打分，不要用 pd.qcut：中位秩规则让相同的值得相同的分 "
    "(ties share a score; see the workbook.rfm docstring)."
)


# --------------------------------------------------------------------------- RFM


def check_rfm_scores(
    answer: object,
    transactions: pd.DataFrame,
    *,
    analysis_date: object | None = None,
    bins: int = 5,
    name: str = "scored",
) -> bool:
    """Check an RFM table with quantile scores.

    The reference is ``RFMScorer(bins).fit_transform(rfm_table(transactions, analysis_date))``
    (:mod:`workbook.rfm`); columns ``recency_days``, ``frequency``,
    ``monetary_total``, ``r_score``, ``f_score``, ``m_score`` are compared.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.rfm import RFMScorer, rfm_table
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05", "2024-01-08"]),
    ...     "amount": [10.0, 20.0, 5.0, 8.0], "is_return": [False] * 4})
    >>> check_rfm_scores(RFMScorer(bins=3).fit_transform(rfm_table(tx)), tx, bins=3)
    ✓ scored 正确 (correct): 3 行 × 6 列
    True
    """
    _require_answer(answer, name, "先用 rfm_table 计算 R/F/M，再用 RFMScorer(bins=5).fit_transform 打分。")
    from workbook.rfm import RFMScorer, rfm_table

    expected = RFMScorer(bins=bins).fit_transform(rfm_table(transactions, analysis_date))
    cols = ["recency_days", "frequency", "monetary_total", "r_score", "f_score", "m_score"]
    return check_frame(
        answer,
        expected[cols],
        name=name,
        row_label="会员 (member)",
        rtol=1e-9,
        atol=0.005,
        hints={
            "recency_days": _recency_hint,
            "frequency": _frequency_hint,
            "monetary_total": "monetary_total 是净消费 = 购买金额 - 退货金额 (net spend: purchases minus returns).",
            "r_score": _reverse_score_hint(bins),
            "f_score": _SCORE_HINT,
            "m_score": _SCORE_HINT,
            "__rows__": "每个在分析日期之前买过东西的会员一行；散客 (没有 member_id) 不算。",
        },
    )


def check_rfm_segments(
    answer: object, scored: pd.DataFrame, *, scheme: str = "rfm11", fm: str = "mean", name: str = "segmented"
) -> bool:
    """Check segment names given the scored RFM table (reference: :func:`workbook.rfm.segment`).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.rfm import segment
    >>> scored = pd.DataFrame({"r_score": [5, 1], "f_score": [5, 1], "m_score": [4, 2]})
    >>> check_rfm_segments(segment(scored), scored)
    ✓ segmented 正确 (correct): 2 行 × 1 列
    True
    """
    _require_answer(answer, name, "用 workbook.rfm.segment(scored) 给每个会员命名分群。")
    if _is_missing(scored):
        raise ExerciseCheckError(f"{NOT_ANSWERED}: 上一题的 scored 还没有算出来", "先完成上一个任务 (finish the previous task first).")
    from workbook.rfm import segment

    expected = segment(scored, scheme, fm=fm)[["segment"]]
    return check_frame(
        answer,
        expected,
        name=name,
        row_label="会员 (member)",
        hints={
            "segment": "分群看 R 分和 FM 分: FM = round_half_up((F + M) / 2)；用 segment(scored) 并保留列 segment "
            "(the segment code, e.g. 'champions').",
        },
    )


def check_top_segment(answer: object, segmented: pd.DataFrame, *, by: str = "revenue", name: str = "top_segment") -> bool:
    """Check the segment code with the largest ``by`` column of :func:`workbook.rfm.segment_summary`.

    Examples
    --------
    >>> import pandas as pd
    >>> seg = pd.DataFrame({"segment": ["a", "a", "b"], "monetary_total": [1.0, 2.0, 5.0]})
    >>> check_top_segment("b", seg)
    ✓ top_segment = 'b' 正确 (correct)
    True
    """
    _require_answer(answer, name, f"用 segment_summary(segmented) 找出 {by} 最大的分群代码 (idxmax).")
    from workbook.rfm import segment_summary

    summary = segment_summary(segmented)
    expected = summary[by].idxmax()
    names = {str(v) for c in ("segment_zh", "segment_en") if c in summary.columns for v in summary[c]}
    if isinstance(answer, str) and answer in names:
        raise ExerciseCheckError(
            f"{name} = {answer!r} 是分群名称 (a segment name)；请填分群代码 (the segment code)",
            f"分群代码是 segment_summary 的索引，例如 {summary.index[0]!r}。",
        )
    hint = (
        f"按 {by} 列找最大的一行: segment_summary(segmented)['{by}'].idxmax() "
        f"(the segment with the largest {by})."
    )
    return check_choice(answer, expected, name=name, choices=list(summary.index), hint=hint)


# --------------------------------------------------------------------------- lifecycle


def check_lifecycle_stages(
    answer: object,
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    *,
    rules: object | None = None,
    analysis_date: object | None = None,
    name: str = "stages",
) -> bool:
    """Check lifecycle stages (reference: :func:`workbook.lifecycle.lifecycle_stages`).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.lifecycle import lifecycle_stages
    >>> tx = pd.DataFrame({"member_id": ["a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-05-20", "2024-01-01"]), "amount": [10.0, 5.0]})
    >>> check_lifecycle_stages(lifecycle_stages(tx), tx)
    ✓ stages 正确 (correct): 2 行 × 1 列
    True
    """
    _require_answer(answer, name, "用 workbook.lifecycle.lifecycle_stages(data.transactions, data.members) 分阶段。")
    from workbook.lifecycle import LifecycleRules, lifecycle_stages

    rules = rules if rules is not None else LifecycleRules()
    expected = lifecycle_stages(transactions, members, analysis_date, rules)[["stage"]]

    def hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
        g, e = got[differs].astype(str), exp[differs].astype(str)
        pair = (g.iloc[0], e.iloc[0])
        text = (
            f"阈值 (thresholds): active_days={rules.active_days}, sleeping_days={rules.sleeping_days}, "
            f"new_days={rules.new_days}, loyal_min_purchases={rules.loyal_min_purchases}；"
        )
        if set(pair) <= {"sleeping", "churned", "active"}:
            return text + "recency_days 恰好等于阈值时属于更“冷”的阶段 (at the threshold the colder stage applies); 是否传入了 rules？"
        if "potential" in pair:
            return text + "潜在会员 = 注册了但从未购买：需要传入 members (pass data.members)."
        return text + "活跃会员里按 新客 > 回流 > 忠诚 > 活跃 的顺序取第一个符合的 (first matching rule wins)."

    if isinstance(answer, pd.DataFrame) and "stage" not in answer.columns and "stage_zh" in answer.columns:
        raise ExerciseCheckError(f"{name} 缺少列 stage (missing column)", "请保留英文代码列 stage (keep the 'stage' code column).")
    return check_frame(
        answer,
        expected,
        name=name,
        row_label="会员 (member)",
        hints={"stage": hint, "__rows__": "包括从未购买的潜在会员：把 data.members 传给 lifecycle_stages。"},
    )


def check_stage_share(
    answer: object,
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    *,
    stage: str = "sleeping",
    rules: object | None = None,
    analysis_date: object | None = None,
    name: str = "share",
) -> bool:
    """Check the share (0-1) of all classified members that are in ``stage``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-05-20", "2024-01-01"]), "amount": [10.0, 5.0]})
    >>> check_stage_share(0.5, tx, stage="sleeping")
    ✓ share = 0.5 正确 (correct)
    True
    """
    _require_answer(answer, name, "用 stages['stage'].value_counts(normalize=True) 取出该阶段的占比。")
    from workbook.lifecycle import LifecycleRules, lifecycle_stages

    stages = lifecycle_stages(transactions, members, analysis_date, rules if rules is not None else LifecycleRules())
    share = float((stages["stage"] == stage).mean())
    hint = "占比是 0 到 1 之间的小数，分母是全部会员（含潜在会员）(share of all members, between 0 and 1)."
    is_number = isinstance(answer, (int, float, np.number)) and not isinstance(answer, bool)
    if is_number and np.isclose(float(answer), 100 * share):
        hint = "请用小数而不是百分数 (0.25, not 25)."
    elif isinstance(answer, (int, np.integer)) and answer == int((stages["stage"] == stage).sum()):
        hint = "这是人数 (a count)；题目要的是占比 (share): normalize=True."
    return check_number(answer, share, name=name, rtol=1e-6, atol=1e-6, hint=hint)


# --------------------------------------------------------------------------- cohorts


def _cohort_hints(normalize: bool) -> dict:
    def hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
        g = pd.to_numeric(got, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)[differs]
        e = exp.to_numpy(dtype="float64", na_value=np.nan)[differs]
        if np.all(np.isnan(e) & (g == 0)):
            return "还没观察到的格子应为 NaN（空），不是 0 (cells after the analysis date are NaN, not 0)."
        if normalize and np.all(g > 1):
            return "留存率要除以队列人数 (divide by the cohort size): normalize=True."
        return "用 workbook.cohorts.cohort_table(...)，参数与题目一致 (freq, cohort_by, metric)."

    return hint


def check_cohort_matrix(
    answer: object,
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    *,
    name: str = "matrix",
    **cohort_kwargs: object,
) -> bool:
    """Check a wide cohort matrix (reference: :func:`workbook.cohorts.cohort_table` with ``cohort_kwargs``).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.cohorts import cohort_table
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10", "2024-02-14"]),
    ...     "amount": [10.0, 20.0, 50.0]})
    >>> check_cohort_matrix(cohort_table(tx, metric="revenue"), tx, metric="revenue")
    ✓ matrix 正确 (correct): 2 行 × 2 列
    True
    """
    _require_answer(answer, name, "用 workbook.cohorts.cohort_table(data.transactions, ...) 计算队列矩阵。")
    from workbook.cohorts import cohort_table

    kwargs = {"shape": "wide", **cohort_kwargs}
    expected = cohort_table(transactions, members, **kwargs)
    if isinstance(answer, pd.DataFrame) and "period_number" in answer.columns and "value" in answer.columns:
        raise ExerciseCheckError(
            f"{name} 是长表 (long format)；这里要宽表矩阵 (a wide matrix: cohorts × period_number)",
            "用 shape='wide'（默认值）(use the default shape='wide').",
        )
    hint = _cohort_hints(bool(kwargs.get("normalize", True)))
    return check_frame(
        answer,
        expected,
        name=name,
        row_label="队列 (cohort)",
        rtol=1e-6,
        atol=1e-9,
        hints={
            **{c: hint for c in expected.columns},
            "__rows__": "队列的划分不同：检查 freq（月/周）和 cohort_by（首购/注册日期）(check freq and cohort_by).",
        },
    )


def check_retention_matrix(
    answer: object,
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    *,
    freq: str = "M",
    cohort_by: str = "first_purchase",
    analysis_date: object | None = None,
    name: str = "retention",
) -> bool:
    """Check a retention-rate matrix (members retained / cohort size, wide).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.cohorts import cohort_table
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10", "2024-01-14"]),
    ...     "amount": [10.0, 20.0, 50.0]})
    >>> check_retention_matrix(cohort_table(tx), tx)
    ✓ retention 正确 (correct): 1 行 × 2 列
    True
    """
    return check_cohort_matrix(
        answer, transactions, members, name=name, freq=freq, cohort_by=cohort_by, metric="members",
        normalize=True, analysis_date=analysis_date,
    )


# --------------------------------------------------------------------------- experiments


def check_sample_size(
    answer: object,
    *,
    baseline_rate: float,
    mde: float,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = False,
    name: str = "n_per_arm",
) -> bool:
    """Check the per-arm sample size of a conversion test (reference:
    :func:`workbook.experiments.sample_size_proportions`).

    Examples
    --------
    >>> check_sample_size(3835, baseline_rate=0.10, mde=0.02)
    ✓ n_per_arm = 3835 人 正确 (correct)
    True
    """
    _require_answer(answer, name, "用 workbook.experiments.sample_size_proportions(基线转化率, mde, ...) 计算每组人数。")
    from workbook.experiments import sample_size_proportions

    n = sample_size_proportions(baseline_rate, mde, alpha=alpha, power=power, relative=relative)
    hint = "每组需要的人数 (members per arm)；检查 alpha、power 和 mde 是否与参数格一致。"
    if isinstance(answer, (int, float, np.number)) and not isinstance(answer, bool):
        a = float(answer)
        if np.isclose(a, 2 * n, rtol=1e-3):
            hint = "这是两组的总人数 (both arms together)；题目问的是每组 (per arm)."
        elif np.isclose(
            a, sample_size_proportions(baseline_rate, mde, alpha=alpha, power=power, relative=not relative),
            rtol=1e-6,
        ):
            kind = "相对 (relative)" if not relative else "绝对 (absolute)"
            hint = f"mde 的口径不对：这里是{'绝对' if not relative else '相对'}提升，你按{kind}提升算了 (relative= argument)."
        elif not float(a).is_integer():
            hint = "人数要向上取整 (round up): sample_size_proportions 已经返回整数。"
    return check_number(answer, n, name=name, rtol=0, atol=0.5, hint=hint, unit=" 人")


def check_ab_result(
    answer: object,
    experiment: pd.DataFrame,
    *,
    control: object = "control",
    treatment: object = "treatment",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    name: str = "result",
) -> bool:
    """Check a two-proportion test result (reference: :func:`workbook.experiments.proportion_test`).

    ``answer`` is the :class:`~workbook.experiments.ProportionTestResult`; its
    lift, p-value and confidence interval are compared.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.experiments import proportion_test
    >>> df = pd.DataFrame({"arm": ["control"] * 200 + ["treatment"] * 200,
    ...                    "converted": [1] * 20 + [0] * 180 + [1] * 36 + [0] * 164})
    >>> check_ab_result(proportion_test(df), df)
    ✓ result 正确 (correct): 提升 +8.00 个百分点, p = 0.0211
    True
    """
    _require_answer(answer, name, "用 workbook.experiments.proportion_test(experiment) 做检验。")
    from workbook.experiments import proportion_test

    ref = proportion_test(experiment, control=control, treatment=treatment, alpha=alpha, alternative=alternative)
    needed = ["abs_lift", "p_value", "ci_low", "ci_high"]
    if not all(hasattr(answer, a) for a in needed):
        raise ExerciseCheckError(
            f"{name} 应该是 proportion_test 的结果 (a ProportionTestResult)，你的是 {type(answer).__name__}",
            "直接把 proportion_test(...) 的返回值赋给 result，不要只取 p 值。",
        )
    if np.isclose(answer.abs_lift, -ref.abs_lift) and not np.isclose(ref.abs_lift, 0):
        raise ExerciseCheckError(
            f"{name}.abs_lift 的符号反了 (sign flipped): 应为 {ref.abs_lift:+.4f}，你的是 {answer.abs_lift:+.4f}",
            "对照组和实验组搞反了 (control and treatment swapped): control='control', treatment='treatment'.",
        )
    for attr in needed:
        exp, got = float(getattr(ref, attr)), float(getattr(answer, attr))
        if not np.isclose(got, exp, rtol=1e-6, atol=1e-9):
            hint = "用默认的 method='score' 和题目给的 alpha；检查 outcome 列是否为 converted。"
            if attr == "p_value" and (np.isclose(got, 2 * exp, rtol=1e-3) or np.isclose(got, exp / 2, rtol=1e-3)):
                hint = "单侧/双侧检验搞错了 (one- vs two-sided): 用 alternative='two-sided'."
            raise ExerciseCheckError(f"{name}.{attr} 不对 (wrong): 应为 {exp:.6g}，你的是 {got:.6g}", hint)
    return _passed(f"{name} 正确 (correct): 提升 {ref.abs_lift * 100:+.2f} 个百分点, p = {ref.p_value:.4f}")


def check_ab_decision(
    answer: object,
    experiment: pd.DataFrame,
    *,
    alpha: float = 0.05,
    min_lift: float = 0.0,
    name: str = "launch",
) -> bool:
    """Check a launch decision: launch (``True``) only if the lift is significant and the
    whole confidence interval lies above ``min_lift``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arm": ["control"] * 200 + ["treatment"] * 200,
    ...                    "converted": [1] * 20 + [0] * 180 + [1] * 36 + [0] * 164})
    >>> check_ab_decision(True, df)
    ✓ launch = True 正确 (correct)
    True
    """
    _require_answer(answer, name, "填 True（推广）或 False（不推广）(True = roll out, False = do not).")
    from workbook.experiments import proportion_test

    ref = proportion_test(experiment, alpha=alpha)
    expected = bool(ref.significant and ref.ci_low > min_lift)
    if not isinstance(answer, (bool, np.bool_)):
        raise ExerciseCheckError(f"{name} 应该是 True 或 False，你的是 {answer!r}", "直接写 True 或 False，或一个比较表达式。")
    hint = (
        f"看 p 值是否小于 alpha={alpha}，以及置信区间下限 ci_low 是否大于 {min_lift} "
        f"(p = {ref.p_value:.4f}, 95% CI [{ref.ci_low * 100:+.2f}, {ref.ci_high * 100:+.2f}] pp)."
    )
    return check_choice(bool(answer), expected, name=name, choices=[True, False], hint=hint)


# --------------------------------------------------------------------------- tiers


def check_tier_simulation(
    answer: object,
    transactions: pd.DataFrame,
    policy: object | None = None,
    *,
    margin_rate: float = 0.4,
    analysis_date: object | None = None,
    name: str = "simulation",
) -> bool:
    """Check a :func:`workbook.tiers.simulate_policy` table (members, spend and cost per tier).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.tiers import simulate_policy
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-05-01", "2024-05-02"]),
    ...     "amount": [2500.0, 1000.0, 300.0]})
    >>> check_tier_simulation(simulate_policy(tx, margin_rate=0.5), tx, margin_rate=0.5)
    ✓ simulation 正确 (correct): 5 行 × 4 列
    True
    """
    _require_answer(answer, name, "用 workbook.tiers.simulate_policy(data.transactions, policy, margin_rate=...)。")
    from workbook.tiers import simulate_policy

    expected = simulate_policy(transactions, policy, margin_rate, analysis_date=analysis_date).set_index("tier")
    if isinstance(answer, pd.DataFrame) and "tier" in answer.columns:
        answer = answer.set_index("tier")
    return check_frame(
        answer,
        expected[["members", "spend", "total_cost", "break_even_incremental_spend"]],
        name=name,
        row_label="等级 (tier)",
        rtol=1e-6,
        atol=0.01,
        hints={
            "total_cost": "检查 policy 和 margin_rate 是否与参数格一致 (same policy and margin_rate).",
            "break_even_incremental_spend": "保本增量销售额 = 成本 / 毛利率 (cost / margin_rate)；margin_rate 对吗？",
        },
    )


def check_tier_policy(
    policy: object,
    transactions: pd.DataFrame,
    budget: float,
    *,
    margin_rate: float = 0.4,
    min_share_above_base: float | None = None,
    analysis_date: object | None = None,
    name: str = "my_policy",
) -> bool:
    """Check that a tier policy's yearly benefit cost fits the budget.

    The policy is replayed with :func:`workbook.tiers.simulate_policy`; its total
    cost (discounts, points, birthday gifts over the last 12 months) must be at
    most ``budget`` CNY, and, with ``min_share_above_base``, at least that share
    of members must hold a tier above the base tier (so "nobody qualifies" does
    not pass).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.tiers import TierPolicy
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-05-01", "2024-05-02"]),
    ...     "amount": [2500.0, 1000.0, 300.0]})
    >>> check_tier_policy(TierPolicy.default(), tx, budget=100)
    ✓ my_policy 在预算之内 (within budget): 年成本 60 元 ≤ 预算 100 元，银卡及以上会员占 100.0%
    True
    """
    _require_answer(policy, name, "用 TierPolicy.default().replace(thresholds=..., discounts=...) 设计你的方案。")
    from workbook.tiers import TierPolicy, simulate_policy

    if not isinstance(policy, TierPolicy):
        raise ExerciseCheckError(
            f"{name} 应该是一个 TierPolicy，你的是 {type(policy).__name__}",
            "例如 TierPolicy.default().replace(thresholds=(0, 1500, 4000, 10000)).",
        )
    sim = simulate_policy(transactions, policy, margin_rate, analysis_date=analysis_date)
    body, total = sim.iloc[:-1], sim.iloc[-1]
    cost = float(total["total_cost"])
    share_above = float(body["members"].iloc[1:].sum() / max(body["members"].sum(), 1))
    if cost > budget:
        items = total[["discount_cost", "points_cost", "gift_cost"]].astype(float)
        biggest = items.idxmax()
        worst = body.loc[body["total_cost"].astype(float).idxmax()]
        raise ExerciseCheckError(
            f"{name} 超出预算 (over budget): 年成本 {cost:,.0f} 元 > 预算 {budget:,.0f} 元，超出 {cost - budget:,.0f} 元",
            f"最大的成本项是 {biggest}（{items[biggest]:,.0f} 元），成本最高的等级是 {worst['tier']}"
            f"（{float(worst['total_cost']):,.0f} 元）：提高它的门槛 (thresholds)、减小折扣 (discounts 更接近 1.0) "
            "或降低积分倍数 (points_multipliers)。",
        )
    if min_share_above_base is not None and share_above < min_share_above_base:
        raise ExerciseCheckError(
            f"{name} 的门槛太高 (thresholds too high): 只有 {share_above:.1%} 的会员在银卡及以上，"
            f"要求至少 {min_share_above_base:.0%}",
            "省钱不能靠“没人升级”：降低银卡门槛，改用更小的折扣或积分倍数来控制成本。",
        )
    return _passed(
        f"{name} 在预算之内 (within budget): 年成本 {cost:,.0f} 元 ≤ 预算 {budget:,.0f} 元，"
        f"银卡及以上会员占 {share_above:.1%}"
    )


# --------------------------------------------------------------------------- churn


def check_train_cutoff(
    answer: object, test_cutoff: object, horizon_days: int, *, min_history_days: int = 180,
    first_date: object | None = None, name: str = "train_cutoff",
) -> bool:
    """Check a training cutoff: no label leakage into the test period, enough history before it.

    Leakage-free means ``train_cutoff + horizon_days <= test_cutoff``
    (:func:`workbook.churn.time_split`); with ``first_date`` the cutoff must also
    leave at least ``min_history_days`` of data before it.

    Examples
    --------
    >>> check_train_cutoff("2024-06-01", "2024-10-01", 90)
    ✓ train_cutoff = 2024-06-01 正确 (correct): 训练标签窗口在 2024-08-30 结束，不晚于测试截点 2024-10-01
    True
    """
    _require_answer(answer, name, "填一个日期字符串，例如 '2024-01-01' (a date string).")
    try:
        cut = pd.Timestamp(answer)
    except (TypeError, ValueError):
        raise ExerciseCheckError(f"{name} = {answer!r} 不是日期 (not a date)", "例如 '2024-06-01'。") from None
    test = pd.Timestamp(test_cutoff)
    end = cut + pd.Timedelta(days=int(horizon_days))
    if end > test:
        raise ExerciseCheckError(
            f"{name} = {cut.date()} 会泄漏未来信息 (label leakage): 训练标签窗口 [{cut.date()}, {end.date()}) "
            f"越过了测试截点 {test.date()}",
            f"训练截点最晚是 {(test - pd.Timedelta(days=int(horizon_days))).date()}：上线那天你只知道那天之前的结果。",
        )
    if first_date is not None and cut < pd.Timestamp(first_date) + pd.Timedelta(days=min_history_days):
        raise ExerciseCheckError(
            f"{name} = {cut.date()} 太早 (too early): 之前只有 {(cut - pd.Timestamp(first_date)).days} 天的数据",
            f"至少留 {min_history_days} 天历史，特征 (features) 才有意义。",
        )
    return _passed(
        f"{name} = {cut.date()} 正确 (correct): 训练标签窗口在 {end.date()} 结束，不晚于测试截点 {test.date()}"
    )


def check_churn_evaluation(
    answer: object,
    split: object,
    p_test: object,
    *,
    model: object | None = None,
    name: str = "metrics",
) -> bool:
    """Check churn-model metrics on the test set (reference: :func:`workbook.churn.churn_metrics`).

    ``answer`` is the one-row metrics table of ``churn_metrics(split.y_test,
    p_test)``; ``roc_auc``, ``average_precision``, ``base_rate`` and
    ``brier_score`` are compared.  With the fitted ``model`` the helper also
    recognises metrics computed on the training set.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.churn import ChurnSplit, churn_metrics
    >>> y, p = pd.Series([0, 0, 1, 1]), pd.Series([0.1, 0.4, 0.35, 0.8])
    >>> split = ChurnSplit(None, None, None, y)
    >>> check_churn_evaluation(churn_metrics(y, p), split, p)
    ✓ metrics 正确 (correct): 测试集 AUC = 0.750, 平均精确率 = 0.833 (基准流失率 0.500)
    True
    """
    _require_answer(answer, name, "用 workbook.churn.churn_metrics(split.y_test, p_test) 在测试集上评估。")
    from workbook.churn import churn_metrics

    for value, what in ((split, "split"), (p_test, "p_test")):
        if _is_missing(value):
            raise ExerciseCheckError(f"{NOT_ANSWERED}: {what} 还没有算出来", "先完成前面的步骤 (time_split, fit, predict_proba).")
    ref = churn_metrics(split.y_test, p_test).iloc[0]
    cols = ["roc_auc", "average_precision", "base_rate", "brier_score"]
    if isinstance(answer, pd.DataFrame):
        if len(answer) != 1:
            raise ExerciseCheckError(f"{name} 应该只有一行 (one row)，你的有 {len(answer)} 行", "只评估一个模型。")
        answer = answer.iloc[0]
    if isinstance(answer, Mapping):
        answer = pd.Series(answer)
    if not isinstance(answer, pd.Series) or not all(c in answer.index for c in cols):
        raise ExerciseCheckError(
            f"{name} 应该是 churn_metrics 返回的表 (columns {cols})，你的是 {type(answer).__name__}",
            "直接把 churn_metrics(...) 的返回值赋给 metrics。",
        )
    got = answer[cols].astype(float)
    if np.allclose(got.to_numpy(), ref[cols].to_numpy(dtype=float), rtol=1e-6, atol=1e-9):
        return _passed(
            f"{name} 正确 (correct): 测试集 AUC = {ref['roc_auc']:.3f}, 平均精确率 = "
            f"{ref['average_precision']:.3f} (基准流失率 {ref['base_rate']:.3f})"
        )
    if model is not None:
        train = churn_metrics(split.y_train, model.predict_proba(split.X_train)).iloc[0]
        if np.allclose(got.to_numpy(), train[cols].to_numpy(dtype=float), rtol=1e-6, atol=1e-9):
            raise ExerciseCheckError(
                f"{name} 是在训练集上算的 (computed on the training set): AUC {got['roc_auc']:.3f} 过于乐观",
                "评估要用模型没见过的数据: churn_metrics(split.y_test, p_test).",
            )
    if np.isclose(got["roc_auc"], 1 - ref["roc_auc"], atol=1e-9):
        raise ExerciseCheckError(
            f"{name}.roc_auc = {got['roc_auc']:.3f}，应为 {ref['roc_auc']:.3f}：分数方向反了 (scores inverted)",
            "用流失概率 p_churn，而不是留存概率 1 - p (use the churn probability).",
        )
    bad = [c for c in cols if not np.isclose(got[c], ref[c], rtol=1e-6, atol=1e-9)]
    raise ExerciseCheckError(
        f"{name}.{bad[0]} 不对 (wrong): 应为 {ref[bad[0]]:.4f}，你的是 {got[bad[0]]:.4f}",
        "churn_metrics(y_true, scores)：先真实标签 split.y_test，再预测概率 p_test，二者都来自测试集。",
    )


def check_best_model(
    answer: object,
    split: object,
    *,
    kinds: Sequence[str] = ("logistic", "hgb"),
    metric: str = "roc_auc",
    seed: int = 0,
    name: str = "best_model",
) -> bool:
    """Check which :class:`workbook.churn.ChurnModel` kind scores best on the test set.

    Each kind is fitted on ``split.X_train, split.y_train`` with ``seed`` and
    evaluated on the test set with :func:`workbook.churn.churn_metrics`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from workbook.churn import ChurnSplit
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"recency_days": rng.integers(0, 365, 400).astype(float)})
    >>> y = pd.Series((rng.random(400) < X["recency_days"] / 365).astype(int))
    >>> split = ChurnSplit(X[:200], y[:200], X[200:], y[200:])
    >>> check_best_model("logistic", split)
    ✓ best_model = 'logistic' 正确 (correct)
    True
    """
    _require_answer(answer, name, f"比较 {list(kinds)} 在测试集上的 {metric}，填最好的那个。")
    from workbook.churn import ChurnModel

    scores = {}
    for k in kinds:
        model = ChurnModel(k, seed=seed).fit(split.X_train, split.y_train)
        scores[k] = float(model.evaluate(split.X_test, split.y_test)[metric].iloc[0])
    higher_better = metric in ("roc_auc", "average_precision")
    expected = max(scores, key=scores.get) if higher_better else min(scores, key=scores.get)
    detail = ", ".join(f"{k}: {v:.3f}" for k, v in scores.items())
    return check_choice(
        answer, expected, name=name, choices=list(kinds),
        hint=f"在测试集上比较 {metric}（{'越大越好' if higher_better else '越小越好'}）({detail}).",
    )
