"""Checks of exercise 7, contact fatigue (``exercises/source/07_contact_fatigue.ipynb``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.checks.engine import (ExerciseCheckError, compare_frame, compare_number, exercise_check,
                                    require_answer, require_previous)

__all__ = ["check_fatigue_curve", "check_frequency_cap", "check_recent_contacts", "frequency_cap"]

_NOT_GIVEN = object()  # recent= not passed (a trainee's None means "task 1 not done")


def _recent_hint(contacts: pd.DataFrame, window_days: float):
    from workbook.contacts import recent_contact_counts

    def hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
        g = pd.to_numeric(got, errors="coerce").to_numpy(dtype=float)
        e = exp.to_numpy(dtype=float)
        if np.allclose(g, e + 1):
            return "这条消息本身不算：只数它之前收到的消息 (do not count the message itself)."
        if "holdout" in contacts.columns:
            all_rows = recent_contact_counts(contacts.drop(columns="holdout"), window_days).to_numpy(dtype=float)
            if np.allclose(g, all_rows):
                return "留出组 (holdout) 的消息没有发出去，不会让会员疲劳：不要数它们 (holdout rows were not sent)."
        return (f"用 recent_contact_counts(contacts, window_days={window_days!r})：同一会员、发送前 "
                f"{window_days} 天内、不含这条本身 (same member, the {window_days} days before, not the row itself).")

    return hint


@exercise_check
def check_recent_contacts(answer: object, contacts: pd.DataFrame, *, window_days: float = 30,
                          name: str = "recent") -> str:
    """Check the recent-message count of every row (reference: :func:`workbook.contacts.recent_contact_counts`).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.contacts import recent_contact_counts
    >>> log = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...                     "sent_at": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-10"])})
    >>> check_recent_contacts(recent_contact_counts(log), log)
    ✓ 通过 (passed) · recent: 3 行 × 1 列都对 (all 3 rows × 1 columns correct)
    >>> check_recent_contacts(recent_contact_counts(log) + 1, log).status
    'failed'
    """
    from workbook.contacts import recent_contact_counts

    require_answer(answer, name, "用 recent_contact_counts(contacts, window_days=WINDOW_DAYS)。")
    expected = recent_contact_counts(contacts, window_days).to_frame("recent_contacts")
    if isinstance(answer, pd.Series):
        answer = answer.rename("recent_contacts").to_frame()
    return compare_frame(answer, expected, name=name, row_label="消息 (message)",
                         hints={"recent_contacts": _recent_hint(contacts, window_days),
                                "__rows__": "每条消息一个数，顺序和 contacts 一致 (one count per row of contacts)."})


@exercise_check
def check_fatigue_curve(answer: object, contacts: pd.DataFrame, *, outcome: str = "opened", window_days: float = 30,
                        max_contacts: int = 3, recent: object = _NOT_GIVEN, name: str = "curve") -> str:
    """Check a fatigue curve (reference: :func:`workbook.contacts.fatigue_curve`) and the counts it rests on.

    ``recent``: task 1's answer, when given, must be right first.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.contacts import fatigue_curve
    >>> log = pd.DataFrame({"member_id": ["a", "a", "a", "b"],
    ...     "sent_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-09", "2024-01-09"]),
    ...     "delivered": [True, True, False, True], "opened": [True, True, False, False]})
    >>> check_fatigue_curve(fatigue_curve(log, max_contacts=2), log, max_contacts=2)
    ✓ 通过 (passed) · curve: 2 行 × 2 列都对 (all 2 rows × 2 columns correct)
    """
    from workbook.contacts import fatigue_curve, recent_contact_counts

    require_answer(answer, name, "用 fatigue_curve(contacts, OUTCOME, window_days=..., max_contacts=...)。")
    expected = fatigue_curve(contacts, outcome, window_days=window_days, max_contacts=max_contacts)
    expected = expected.set_index("recent_contacts")[["messages", "rate"]]
    if isinstance(answer, pd.DataFrame) and "recent_contacts" in answer.columns:
        answer = answer.set_index("recent_contacts")

    def messages_hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
        g = pd.to_numeric(got, errors="coerce")
        if g.sum() > exp.sum() and g.sum() <= len(contacts):
            return ("只数送达 (delivered) 的消息：没送达的消息不可能被打开；留出组也不算 "
                    "(count delivered messages only; holdout rows were not sent).")
        if g.sum() == exp.sum():
            return (f"最后一档是\"{max_contacts} 条或更多\"：把更多的也并进去 "
                    f"(pool {max_contacts} or more in the last row): max_contacts={max_contacts}.")
        return "检查 window_days 和 max_contacts 是否与参数格一致 (same window_days and max_contacts)."

    passed = compare_frame(answer, expected, name=name, row_label="近期消息数 (recent_contacts)", rtol=1e-6,
                           hints={"messages": messages_hint,
                                  "rate": "比率 = 有响应的消息 / 送达的消息 (responses / delivered messages).",
                                  "__rows__": f"每档一行：0、1、…、{max_contacts}（最后一档含更多）(one row per count)."})
    if recent is not _NOT_GIVEN:  # the curve must rest on task 1's counts
        require_previous(recent, "recent（任务 1）")
        if not isinstance(recent, pd.Series) or not np.array_equal(
                recent.to_numpy(dtype=float), recent_contact_counts(contacts, window_days).to_numpy(dtype=float)):
            raise ExerciseCheckError("任务 1 的 recent 还不对 (task 1 is not right yet)",
                                     "先让任务 1 的检查通过，再做这一题 (pass task 1 first).")
    return passed


def frequency_cap(curve: pd.DataFrame, drop: float = 0.2) -> int | None:
    """The first number of recent messages at which the rate is ``drop`` or more below the rate at 0.

    Returns ``None`` when the rate never falls that far.

    Examples
    --------
    >>> import pandas as pd
    >>> frequency_cap(pd.DataFrame({"recent_contacts": [0, 1, 2], "rate": [0.25, 0.21, 0.18]}))
    2
    """
    rates = curve.set_index("recent_contacts")["rate"].sort_index()
    below = rates.index[rates < (1 - drop) * rates.iloc[0]]
    return int(below.min()) if len(below) else None


@exercise_check
def check_frequency_cap(answer: object, curve: object, contacts: pd.DataFrame, *, outcome: str = "opened",
                        window_days: float = 30, max_contacts: int = 3, drop: float = 0.2, name: str = "cap") -> str:
    """Check the frequency cap read from the fatigue curve (and that the curve itself is right).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.contacts import fatigue_curve
    >>> log = pd.DataFrame({"member_id": ["a", "a", "a", "b", "c"],
    ...     "sent_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-09", "2024-01-09", "2024-01-09"]),
    ...     "delivered": True, "opened": [True, False, False, True, False]})
    >>> curve = fatigue_curve(log, max_contacts=2)
    >>> check_frequency_cap(1, curve, log, max_contacts=2)
    ✓ 通过 (passed) · cap: cap = 1
    """
    from workbook.checks.engine import is_number
    from workbook.contacts import fatigue_curve

    require_previous(curve, "curve（任务 2）")
    require_answer(answer, name, "在 curve 里找第一个比率低于 0 条时 80% 的档位 (first row below 80% of row 0).")
    reference = fatigue_curve(contacts, outcome, window_days=window_days, max_contacts=max_contacts)
    curve_ok = (isinstance(curve, pd.DataFrame) and "rate" in curve.columns and len(curve) == len(reference)
                and np.allclose(curve["rate"].to_numpy(dtype=float), reference["rate"].to_numpy(dtype=float)))
    expected = frequency_cap(reference, drop)
    rate_hint = (f"答案是比率第一次低于\"0 条时比率 × {1 - drop:.0%}\"的那一档的近期消息数（一个整数），不是比率本身 "
                 "(the count of recent messages, not the rate).")
    if is_number(answer) and float(answer) != round(float(answer)):
        raise ExerciseCheckError(f"{name} = {answer!r} 不是整数 (not a whole number)", rate_hint)
    if not curve_ok:  # the cap must be read from a right curve (pasting a number does not pass)
        raise ExerciseCheckError("任务 2 的 curve 还不对 (task 2 is not right yet)",
                                 "先让任务 2 的检查通过，再从 curve 读上限 (pass task 2 first, then read the cap).")
    if expected is None:
        if answer is not None and not (isinstance(answer, str) and answer.lower() == "none"):
            raise ExerciseCheckError(f"{name} = {answer!r} 不对 (wrong)",
                                     "这份数据里比率从没有降到 0 条时的 80% 以下 (the rate never falls that far).")
        return f"{name} = None"
    return compare_number(answer, expected, name=name, hint=rate_hint)
