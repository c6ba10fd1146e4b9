"""The checker engine: a formatted result per question, never a traceback.

A public check (``check_*``) is a function decorated with :func:`exercise_check`.
Its body compares the trainee's answer with a reference computed by the package
and either returns a short success text or raises :class:`ExerciseCheckError`
(what is wrong, plus a hint about the *method*; never the expected value).  The
decorator turns both into a :class:`CheckResult`:

* ``✓ 通过 (passed)``, ``✗ 不对 (wrong)`` + hint, or ``未作答 (not answered)``
  + hint, shown as a coloured box in Jupyter and as text in a terminal;
* any other exception inside the check (an answer of an unexpected shape)
  becomes ``✗ 检查不了 (cannot check)`` with a hint, not a traceback.

The result is also the programmatic outcome: ``result.status``,
``bool(result)``, and in an executed notebook the output's metadata
``workbook_check`` (read by :func:`workbook.exercises.check_results`).

Under test (``WORKBOOK_STRICT_CLAIMS=1``, see :mod:`workbook.notebook`) and in
a notebook kernel (nbval), a *wrong* answer or a check that cannot run raises
:class:`ExerciseCheckError`, so the instructor versions fail CI when a solution
stops passing its check; an unanswered task never raises, so student notebooks
Run All to the end in any mode.
"""

from __future__ import annotations

import functools
import html
import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError

__all__ = [
    "METADATA_KEY",
    "NOT_ANSWERED",
    "CheckResult",
    "ExerciseCheckError",
    "check_choice",
    "check_frame",
    "check_number",
    "compare_choice",
    "compare_frame",
    "compare_number",
    "exercise_check",
    "fmt",
    "is_missing",
    "is_number",
    "require_answer",
    "require_previous",
]

#: Label of an answer that is still a placeholder (``None``, ``...``).
NOT_ANSWERED = "未作答 (not answered)"
#: Key of the check outcome in a notebook output's metadata.
METADATA_KEY = "workbook_check"

STATUSES = ("passed", "failed", "not_answered", "error")
_LABELS = {
    "passed": "✓ 通过 (passed)",
    "failed": "✗ 不对 (wrong)",
    "not_answered": NOT_ANSWERED,
    "error": "✗ 检查不了 (cannot check)",
}
_COLOURS = {  # background, border
    "passed": ("#e8f5e9", "#2e7d32"),
    "failed": ("#fdecea", "#d93025"),
    "not_answered": ("#f1f3f4", "#80868b"),
    "error": ("#fdecea", "#d93025"),
}

#: A hint: fixed text, or ``f(got, expected, differs) -> str | None`` computed from the mismatch.
Hint = str | Callable[[pd.Series, pd.Series, np.ndarray], "str | None"]


class ExerciseCheckError(AssertionError):
    """An answer is wrong or missing: what is wrong and a hint about the method.

    Raised inside a check body (the :func:`exercise_check` decorator turns it
    into a :class:`CheckResult`); raised to the caller only in strict mode.

    Parameters
    ----------
    what : str
        What is wrong (Chinese with English in parentheses), without the expected value.
    hint : str, optional
        What to try.
    status : {"failed", "not_answered", "error"}
        The outcome it stands for.

    Examples
    --------
    >>> err = ExerciseCheckError("答案不对 (wrong answer)", "再读一遍题目 (read the task again)")
    >>> print(err)
    ✗ 不对 (wrong): 答案不对 (wrong answer)
    提示 (hint): 再读一遍题目 (read the task again)
    >>> isinstance(err, AssertionError), err.status
    (True, 'failed')
    """

    def __init__(self, what: str, hint: str | None = None, *, status: str = "failed"):
        if status not in STATUSES[1:]:
            raise ValueError(f"status={status!r}; choose one of {list(STATUSES[1:])}")
        self.what = what
        self.hint = hint or ""
        self.status = status
        text = f"{_LABELS[status]}: {what}"
        if self.hint:
            text += f"\n提示 (hint): {self.hint}"
        super().__init__(text)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check, displayed as a short formatted box.

    Attributes
    ----------
    status : {"passed", "failed", "not_answered", "error"}
    name : str
        The answer variable the check is about.
    message : str
        What passed or what is wrong (never the expected value of a wrong answer).
    hint : str
        A hint about the method (empty when passed).

    Examples
    --------
    >>> r = CheckResult("failed", "share", "share = 25 不对", "用比例，不是百分数")
    >>> r
    ✗ 不对 (wrong) · share: share = 25 不对
    提示 (hint): 用比例，不是百分数
    >>> bool(r), r.passed
    (False, False)
    """

    status: str
    name: str
    message: str
    hint: str = ""

    @property
    def passed(self) -> bool:
        """True when the answer passed."""
        return self.status == "passed"

    def __bool__(self) -> bool:
        return self.passed

    @property
    def label(self) -> str:
        """``✓ 通过 (passed)``, ``✗ 不对 (wrong)``, ``未作答 (not answered)`` or ``✗ 检查不了 (cannot check)``."""
        return _LABELS[self.status]

    def text(self) -> str:
        """Plain-text form (terminal, logs, grading report)."""
        out = f"{self.label} · {self.name}: {self.message}"
        if self.hint:
            out += f"\n提示 (hint): {self.hint}"
        return out

    __str__ = text

    def __repr__(self) -> str:
        return self.text()

    def html(self) -> str:
        """HTML form (a coloured box) for Jupyter."""
        bg, border = _COLOURS[self.status]
        hint = f'<br><span style="color:#444">提示 (hint): {html.escape(self.hint)}</span>' if self.hint else ""
        return (
            f'<div style="background:{bg};border-left:6px solid {border};padding:6px 12px;'
            f'margin:4px 0;line-height:1.5"><b>{html.escape(self.label)}</b> · '
            f"<code>{html.escape(self.name)}</code>: {html.escape(self.message)}{hint}</div>"
        )

    def to_dict(self) -> dict:
        """``{"status", "name", "message", "hint"}``: the outcome read by the grader."""
        return asdict(self)

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The metadata carries the outcome into the executed notebook, where grading reads it.
        return {"text/plain": self.text(), "text/html": self.html()}, {METADATA_KEY: self.to_dict()}


def _in_ipython() -> bool:
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


def _strict() -> bool:
    """Raise instead of returning: under test (``WORKBOOK_STRICT_CLAIMS=1``) in a notebook kernel (nbval).

    Plain Python (doctests, unit tests, scripts) always gets the result object.
    """
    from workbook.notebook import claims_are_strict

    return claims_are_strict() and _in_ipython()


def exercise_check(func: Callable[..., str]) -> Callable[..., CheckResult]:
    """Make a check body (returns a success text or raises) a trainee-safe check.

    The wrapped function returns a :class:`CheckResult` and raises only in
    strict mode (``WORKBOOK_STRICT_CLAIMS=1`` in a notebook kernel), and then
    only for a wrong answer or a check that could not run.  The answer's name for the result is the
    ``name`` argument (default taken from the function's signature).

    Examples
    --------
    >>> @exercise_check
    ... def check_even(answer, *, name="n"):
    ...     require_answer(answer, name, "填一个整数 (an integer)")
    ...     if answer % 2:
    ...         raise ExerciseCheckError(f"{name} = {answer} 不是偶数", "除以 2 看余数 (use % 2)")
    ...     return f"{name} 是偶数"
    >>> check_even(4)
    ✓ 通过 (passed) · n: n 是偶数
    >>> check_even(None).status
    'not_answered'
    >>> check_even("x").status  # an unexpected answer: no traceback
    'error'
    """
    params = inspect.signature(func).parameters
    default_name = params["name"].default if "name" in params else func.__name__.removeprefix("check_")

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> CheckResult:
        name = str(kwargs.get("name") or default_name)
        try:
            result = CheckResult("passed", name, func(*args, **kwargs))
        except ExerciseCheckError as err:
            result = CheckResult(err.status, name, err.what, err.hint)
            if err.status != "not_answered" and _strict():
                raise
        except WorkbookInputError as err:  # the data or a parameter cannot be analysed: its message says why
            if _strict():
                raise
            result = CheckResult(
                "error", name, err.bilingual().replace("\n", " / "),
                "按提示修改参数格后从头重新运行 (change the parameter as the message says and run all again).",
            )
        except Exception as err:  # a trainee never sees a traceback from a check
            if _strict():
                raise ExerciseCheckError(f"check {func.__name__} could not run: {err!r}", status="error") from err
            result = CheckResult(
                "error", name,
                f"检查没能读懂你的答案 {name} (the check could not read your answer: {type(err).__name__})",
                "对照题目检查变量的类型、列名和索引，或先把上面的格子从头运行一遍 "
                "(check type, columns and index; re-run the cells above).",
            )
        return result

    return wrapper


# --------------------------------------------------------------------------- answer helpers


def is_missing(answer: object) -> bool:
    """True for a placeholder answer: ``None``, ``...`` or ``NotImplemented``."""
    return answer is None or answer is Ellipsis or answer is NotImplemented


def require_answer(answer: object, name: str, hint: str) -> None:
    """Raise a *not answered* error when ``answer`` is still a placeholder."""
    if is_missing(answer):
        raise ExerciseCheckError(f"{name} 还是 {answer!r} (still a placeholder)", hint, status="not_answered")


def require_previous(value: object, what: str) -> None:
    """Raise a *not answered* error when an earlier task's result is missing."""
    if is_missing(value):
        raise ExerciseCheckError(
            f"先完成上一题 (finish the previous task first): {what} 还没有算出来",
            f"先完成并运行算出 {what} 的格子，再运行这个检查格 (run the cell that computes {what}, then this check).",
            status="not_answered",
        )


def fmt(value: object) -> str:
    """Readable value for a message: whole floats without decimals, NaN explained.

    Examples
    --------
    >>> fmt(3.0), fmt(0.123456789), fmt(float("nan"))
    ('3', '0.123457', '空值 NaN (missing / not observed)')
    """
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


def is_number(value: object) -> bool:
    """A real number, not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


# --------------------------------------------------------------------------- comparisons (raise)


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


def compare_frame(
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
) -> str:
    """Compare a table with the expected one; raise :class:`ExerciseCheckError` on the first difference.

    See :func:`check_frame` for the parameters.  Returns the success text.
    """
    hints = dict(hints or {})
    require_answer(answer, name, hints.get("__missing__", f"把结果赋值给变量 {name} (assign your result to {name})"))
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
            f"{name} 有重复的行 (duplicated rows)，例如 {row_label} {fmt(dup[0])}",
            "每个会员（或队列）只应有一行；是否在合并 (merge/concat) 时重复了？",
        )
    if check_rows:
        missing = expected.index.difference(answer.index, sort=False)
        extra = answer.index.difference(expected.index, sort=False)
        row_hint = hints.get("__rows__")
        if len(missing):
            raise ExerciseCheckError(
                f"{name} 少了 {len(missing)} 行 (missing rows)，例如 {row_label} "
                f"{', '.join(fmt(k) for k in missing[:3])}",
                row_hint if isinstance(row_hint, str) else "是否过滤掉了一些会员，或换了分析日期？"
                "(did you filter rows out or use another analysis date?)",
            )
        if len(extra):
            raise ExerciseCheckError(
                f"{name} 多了 {len(extra)} 行 (unexpected rows)，例如 {row_label} "
                f"{', '.join(fmt(k) for k in extra[:3])}",
                row_hint if isinstance(row_hint, str) else "是否包含了散客（没有 member_id）或分析日期之后的交易？"
                "(walk-ins without member_id or transactions after the analysis date?)",
            )
    rows = expected.index.intersection(answer.index, sort=False) if not check_rows else expected.index
    for pos, col in enumerate(columns, start=1):
        exp = expected.loc[rows, col]
        got = answer.loc[rows, col]
        if isinstance(got, pd.DataFrame):
            raise ExerciseCheckError(f"{name} 有两列都叫 {col} (duplicated column)", "删掉重复的列 (drop the duplicate).")
        if _is_number_series(exp) and not (_is_number_series(got) or pd.api.types.is_bool_dtype(got)):
            coerced = pd.to_numeric(got, errors="coerce")
            if (coerced.isna() & got.notna()).any():
                raise ExerciseCheckError(
                    f"{name} 的第 {pos} 列 {col} 应该是数字 (numeric)，你的是 dtype {got.dtype}",
                    "把文字转成数字，或检查是否选错了列 (convert text to numbers / pick the right column).",
                )
        ok = _equal(got, exp, rtol, atol)
        if ok.all():
            continue
        differs = ~ok
        first = np.flatnonzero(differs)[0]
        hint = hints.get(col)
        if callable(hint):
            hint = hint(got, exp, differs)
        if hint is None:
            hint = "对照题目里的定义再算一遍这一列 (recompute this column following the definition in the task)."
        raise ExerciseCheckError(
            f"{name} 的第 {pos} 列 {col} 的值不对 (wrong values): 例如 {row_label} {fmt(rows[first])} 你的是 "
            f"{fmt(got.iloc[first])} ({int(differs.sum())} of {len(rows)} rows differ)",
            hint,
        )
    return f"{len(rows)} 行 × {len(columns)} 列都对 (all {len(rows)} rows × {len(columns)} columns correct)"


_RECOMPUTE = "对照题目的步骤再算一遍 (recompute following the steps of the task)."


def compare_number(
    answer: object,
    expected: float,
    *,
    name: str = "answer",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    hint: str | None = None,
    unit: str = "",
) -> str:
    """Compare a single number; raise :class:`ExerciseCheckError` if it differs (see :func:`check_number`)."""
    require_answer(answer, name, f"把结果赋值给变量 {name} (assign your result to {name})")
    if not is_number(answer):
        raise ExerciseCheckError(
            f"{name} 应该是一个数字 (a number)，你的是 {type(answer).__name__}",
            "从表格中取出一个值，例如 df.loc[行, 列] 或 .iloc[0] (take one value out of the table).",
        )
    if not np.isclose(float(answer), float(expected), rtol=rtol, atol=atol):
        raise ExerciseCheckError(f"{name} = {fmt(answer)}{unit} 不对 (wrong)", hint or _RECOMPUTE)
    return f"{name} = {fmt(answer)}{unit}"


def compare_choice(
    answer: object,
    expected: object,
    *,
    name: str = "answer",
    choices: Sequence | None = None,
    hint: str | None = None,
) -> str:
    """Compare a categorical answer; raise :class:`ExerciseCheckError` if it differs (see :func:`check_choice`)."""
    require_answer(answer, name, f"把你的选择赋值给变量 {name} (assign your choice to {name})")
    if isinstance(answer, np.bool_):
        answer = bool(answer)
    if choices is not None and answer not in list(choices):
        raise ExerciseCheckError(
            f"{name} = {answer!r} 不是可选项 (not one of the choices) {list(choices)}",
            "检查拼写和大小写 (check spelling and case).",
        )
    if answer != expected:
        raise ExerciseCheckError(f"{name} = {answer!r} 不对 (wrong)", hint or _RECOMPUTE)
    return f"{name} = {answer!r}"


# --------------------------------------------------------------------------- generic checks


@exercise_check
def check_frame(answer: object, expected: pd.DataFrame, *, name: str = "answer", **kwargs) -> str:
    """Check a trainee's table against the expected one, column by column.

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
    **kwargs
        ``columns`` (columns to compare, default all of ``expected``),
        ``row_label`` (what a row is, e.g. ``"会员 (member)"``), ``rtol``,
        ``atol``, ``hints`` (per column label a string or a function
        ``f(got, expected, differs) -> str | None``; key ``"__rows__"`` for
        missing or extra rows) and ``check_rows`` (default True: extra or
        missing rows are wrong).

    Returns
    -------
    CheckResult
        Names the first column with a wrong value, one row where it differs and
        the trainee's value there, never the expected value.

    Examples
    --------
    >>> import pandas as pd
    >>> exp = pd.DataFrame({"recency_days": [45, 3]}, index=pd.Index(["M1", "M2"], name="member_id"))
    >>> check_frame(exp.copy(), exp, name="rfm")
    ✓ 通过 (passed) · rfm: 2 行 × 1 列都对 (all 2 rows × 1 columns correct)
    >>> check_frame(exp.assign(recency_days=[46, 3]), exp, name="rfm", row_label="会员")
    ✗ 不对 (wrong) · rfm: rfm 的第 1 列 recency_days 的值不对 (wrong values): 例如 会员 M1 你的是 46 (1 of 2 rows differ)
    提示 (hint): 对照题目里的定义再算一遍这一列 (recompute this column following the definition in the task).
    """
    return compare_frame(answer, expected, name=name, **kwargs)


@exercise_check
def check_number(answer: object, expected: float, *, name: str = "answer", **kwargs) -> str:
    """Check a single number (``rtol``, ``atol``, ``hint`` and ``unit`` as keywords).

    Examples
    --------
    >>> check_number(0.25, 0.25, name="share")
    ✓ 通过 (passed) · share: share = 0.25
    >>> check_number(25, 0.25, name="share", hint="用比例而不是百分数 (a share, not a percentage)")
    ✗ 不对 (wrong) · share: share = 25 不对 (wrong)
    提示 (hint): 用比例而不是百分数 (a share, not a percentage)
    >>> check_number(None, 0.25, name="share")
    未作答 (not answered) · share: share 还是 None (still a placeholder)
    提示 (hint): 把结果赋值给变量 share (assign your result to share)
    """
    return compare_number(answer, expected, name=name, **kwargs)


@exercise_check
def check_choice(answer: object, expected: object, *, name: str = "answer", **kwargs) -> str:
    """Check a categorical answer (a segment code, a model name, True/False); ``choices`` and ``hint`` as keywords.

    Examples
    --------
    >>> check_choice("hgb", "hgb", name="best_model", choices=["hgb", "logistic"])
    ✓ 通过 (passed) · best_model: best_model = 'hgb'
    """
    return compare_choice(answer, expected, name=name, **kwargs)
