"""Checks of exercise 9, next-best category (``exercises/source/09_next_best_category.ipynb``).

Messages never show a member id: rows of member tables are named by position
("第 3 行"), because a trainee may run the exercise on a real export.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.checks.engine import ExerciseCheckError, compare_frame, exercise_check, require_answer, require_previous

__all__ = ["check_category_history", "check_conditional_probabilities", "check_holdout_hit_rate",
           "check_recommendations"]

_CATEGORY_HINT = "用 workbook.recommend.category_history(data.transactions, analysis_date=CUTOFF)。"


def _by_position(answer: pd.DataFrame, expected: pd.DataFrame, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Align a member-indexed answer to the expected members, then label rows by position (no ids shown)."""
    got_ids = pd.Index(answer.index.astype(str))
    exp_ids = pd.Index(expected.index.astype(str))
    if got_ids.has_duplicates:
        raise ExerciseCheckError(f"{name} 有重复的会员行 (duplicated members)", "每位会员只应有一行 (one row per member).")
    missing, extra = exp_ids.difference(got_ids), got_ids.difference(exp_ids)
    if len(missing) or len(extra):
        raise ExerciseCheckError(
            f"{name} 有 {len(got_ids):,} 位会员，应该有 {len(exp_ids):,} 位 "
            f"(少了 {len(missing):,} 位，多了 {len(extra):,} 位)",
            "只用截点 CUTOFF 之前的购买；退货和散客（没有会员号）不算 "
            "(only purchases before CUTOFF; leave out returns and walk-ins).",
        )
    got = answer.copy()
    got.index = got_ids
    got = got.reindex(exp_ids)
    labels = pd.Index([f"第 {i + 1} 位会员" for i in range(len(exp_ids))], name="row")
    return got.set_axis(labels, axis=0), expected.set_axis(labels, axis=0)


def _history_hint(transactions: pd.DataFrame, analysis_date: object):
    def hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
        g = pd.to_numeric(got, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)[differs]
        e = exp.to_numpy(dtype="float64", na_value=np.nan)[differs]
        if np.all(np.isin(g, [0.0, 1.0])) and np.any(e > 1):
            return "这里要购买次数，不是买没买过 (counts, not 0/1)."
        if np.all(g >= e):
            return ("次数偏多：退货不算购买，截点当天及以后的购买也不算 "
                    "(returns are not purchases; purchases on or after CUTOFF are left out).")
        return _CATEGORY_HINT

    return hint


def _expected_history(transactions: pd.DataFrame, analysis_date: object) -> pd.DataFrame:
    from workbook.recommend import category_history

    return category_history(transactions, analysis_date=analysis_date)


def _compare_history(answer: object, expected: pd.DataFrame, transactions: pd.DataFrame, analysis_date: object,
                     name: str) -> str:
    if not isinstance(answer, pd.DataFrame):
        raise ExerciseCheckError(
            f"{name} 应该是一个 DataFrame 表格（会员 × 品类），你的是 {type(answer).__name__}", _CATEGORY_HINT)
    missing_cols = [c for c in expected.columns if c not in answer.columns]
    if missing_cols:
        raise ExerciseCheckError(f"{name} 缺少品类列 (missing category columns) {missing_cols}", _CATEGORY_HINT)
    got, exp = _by_position(answer[list(expected.columns)], expected, name)
    hint = _history_hint(transactions, analysis_date)
    return compare_frame(got, exp, name=name, row_label="", rtol=0, atol=1e-9,
                         hints={c: hint for c in exp.columns})


@exercise_check
def check_category_history(
    answer: object, transactions: pd.DataFrame, *, analysis_date: object, name: str = "history"
) -> str:
    """Check the members x categories purchase counts before the cutoff.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.recommend import category_history
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10", "2024-01-14"]),
    ...     "amount": [10.0, 20.0, 50.0], "category": ["fresh", "baby", "fresh"]})
    >>> check_category_history(category_history(tx, analysis_date="2024-02-01"), tx, analysis_date="2024-02-01")
    ✓ 通过 (passed) · history: 2 行 × 1 列都对 (all 2 rows × 1 columns correct)
    >>> check_category_history((category_history(tx, analysis_date="2024-02-01") > 0).astype(int) * 2, tx,
    ...                        analysis_date="2024-02-01").status
    'failed'
    """
    require_answer(answer, name, _CATEGORY_HINT)
    expected = _expected_history(transactions, analysis_date)
    return _compare_history(answer, expected, transactions, analysis_date, name)


@exercise_check
def check_conditional_probabilities(
    answer: object,
    transactions: pd.DataFrame,
    *,
    analysis_date: object,
    history: object = None,
    name: str = "conditional",
) -> str:
    """Check ``P(c | c')`` (rows: bought; columns: also bought) and the history it comes from.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.recommend import category_history, conditional_probabilities
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-01-10", "2024-01-14"]),
    ...     "amount": [10.0, 20.0, 50.0], "category": ["fresh", "baby", "fresh"]})
    >>> h = category_history(tx)
    >>> check_conditional_probabilities(conditional_probabilities(h), tx, analysis_date=None, history=h)
    ✓ 通过 (passed) · conditional: 2 行 × 2 列都对 (all 2 rows × 2 columns correct)；history 也对
    >>> check_conditional_probabilities(conditional_probabilities(h).T, tx, analysis_date=None, history=h).hint.startswith("行和列反了")
    True
    """
    from workbook.recommend import conditional_probabilities

    require_previous(history, "history（任务 1）")
    require_answer(answer, name, "用 conditional_probabilities(history)，或按题目提示自己用 pandas 算。")
    expected_history = _expected_history(transactions, analysis_date)
    _compare_history(history, expected_history, transactions, analysis_date, "history")
    expected = conditional_probabilities(expected_history)
    if not isinstance(answer, pd.DataFrame):
        raise ExerciseCheckError(f"{name} 应该是一个 DataFrame 表格（品类 × 品类），你的是 {type(answer).__name__}",
                                 "用 conditional_probabilities(history) (a categories x categories table).")
    got = answer.copy()
    got.index, got.columns = got.index.astype(str), got.columns.astype(str)
    cats = list(expected.columns)
    if sorted(got.index) != sorted(cats) or sorted(got.columns) != sorted(cats):
        raise ExerciseCheckError(f"{name} 的行和列应该都是品类 {cats}",
                                 "行 = 已买过的品类，列 = 也买了的品类 (rows and columns are categories).")
    got = got.loc[cats, cats]
    exp = expected.copy()
    exp.index = exp.index.astype(str)
    g, e = got.to_numpy(dtype="float64"), exp.to_numpy(dtype="float64")
    if not np.allclose(g, e, atol=1e-9) and np.allclose(g, e.T, atol=1e-9):
        raise ExerciseCheckError(
            f"{name} 的数对了，但是行和列反了 (transposed)",
            "行和列反了：行是已经买过的品类 A，每一行除以买过 A 的人数 (rows = the category already bought; "
            "divide each row by the number of its buyers).",
        )
    hint = ("P(B | A) = 买过 A 且买过 B 的人数 / 买过 A 的人数；先把次数变成\"买没买过\" (history > 0) "
            "(count buyers, not purchases).")
    text = compare_frame(got.rename_axis(index="given"), exp.rename_axis(index="given"), name=name,
                         row_label="品类 (category)", rtol=1e-6, atol=1e-9, hints={c: hint for c in cats})
    return f"{text}；history 也对"


@exercise_check
def check_holdout_hit_rate(
    answer: object,
    transactions: pd.DataFrame,
    *,
    analysis_date: object,
    horizon_days: int | None = None,
    k: int = 3,
    name: str = "hits",
) -> str:
    """Check the holdout hit-rate table of :func:`workbook.recommend.holdout_hit_rate`.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.recommend import holdout_hit_rate
    >>> jan, mar = pd.Timestamp("2024-01-05"), pd.Timestamp("2024-03-05")
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b", "a", "b"], "timestamp": [jan] * 3 + [mar] * 2,
    ...     "amount": [1.0] * 5, "category": ["baby", "dairy", "snacks", "dairy", "drinks"]})
    >>> hits = holdout_hit_rate(tx, analysis_date="2024-02-01", k=1)
    >>> check_holdout_hit_rate(hits, tx, analysis_date="2024-02-01", k=1)
    ✓ 通过 (passed) · hits: 2 行 × 3 列都对 (all 2 rows × 3 columns correct)
    """
    from workbook.recommend import holdout_hit_rate

    require_answer(answer, name, "用 holdout_hit_rate(data.transactions, analysis_date=CUTOFF, horizon_days=HORIZON_DAYS, k=K)。")
    expected = holdout_hit_rate(transactions, analysis_date=analysis_date, horizon_days=horizon_days, k=k)
    if isinstance(answer, pd.DataFrame) and answer.attrs.get("k") not in (None, k):
        raise ExerciseCheckError(f"{name} 是按每人推荐 {answer.attrs['k']} 个品类算的，题目要 K = {k} 个",
                                 "把 k=K 传给 holdout_hit_rate (pass k=K).")

    def hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
        return ("检查截点和检验期：analysis_date=CUTOFF、horizon_days=HORIZON_DAYS、k=K "
                "(use the cutoff, holdout length and k of the parameter cell).")

    return compare_frame(answer, expected[["hit_rate", "hits", "n_members"]], name=name, row_label="方法 (method)",
                         rtol=1e-9, atol=1e-12, hints={"hit_rate": hint, "hits": hint, "n_members": hint})


@exercise_check
def check_recommendations(
    answer: object,
    transactions: pd.DataFrame,
    *,
    analysis_date: object,
    k: int = 3,
    exclude_seen: bool = True,
    name: str = "cross_sell",
) -> str:
    """Check a long recommendation table (``member_id``, ``rank``, ``category``) of the co-occurrence model.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.recommend import NextBestCategory
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"], "timestamp": pd.to_datetime(["2024-01-05"] * 3),
    ...     "amount": [1.0] * 3, "category": ["baby", "dairy", "baby"]})
    >>> rec = NextBestCategory(exclude_seen=True).fit(tx).recommend(k=1)
    >>> check_recommendations(rec, tx, analysis_date=None, k=1)
    ✓ 通过 (passed) · cross_sell: 1 位会员的推荐都对 (recommendations of all 1 members correct)
    >>> check_recommendations(NextBestCategory().fit(tx).recommend(k=1), tx, analysis_date=None, k=1).hint.startswith("推荐里有会员已经买过")
    True
    """
    from workbook.recommend import NextBestCategory, category_history

    require_answer(answer, name, "用 NextBestCategory(exclude_seen=True).fit(data.transactions, analysis_date=CUTOFF).recommend(k=K)。")
    if not isinstance(answer, pd.DataFrame) or not {"member_id", "rank", "category"} <= set(answer.columns):
        raise ExerciseCheckError(f"{name} 应该是 recommend(...) 返回的长表（member_id、rank、category 三列）",
                                 "用模型的 .recommend(k=K) 方法 (use the fitted model's recommend).")
    model = NextBestCategory(exclude_seen=exclude_seen).fit(transactions, analysis_date=analysis_date)
    expected = model.recommend(k=k)
    got = answer[["member_id", "rank", "category"]].astype({"member_id": str, "category": str})
    if exclude_seen:
        history = category_history(transactions, analysis_date=analysis_date)
        seen = history.stack()
        seen = seen[seen > 0].reset_index()[["member_id", "category"]].astype(str)
        if len(got.merge(seen, on=["member_id", "category"])):
            raise ExerciseCheckError(
                f"{name} 推荐了会员已经买过的品类 (recommends categories the member already bought)",
                "推荐里有会员已经买过的品类：交叉销售只推新品类，exclude_seen=True。",
            )
    per_member = got.groupby("member_id").size()
    if len(per_member) and per_member.max() > k:
        raise ExerciseCheckError(f"{name} 里有会员被推荐了 {int(per_member.max())} 个品类，题目要最多 K = {k} 个",
                                 "recommend(k=K).")
    exp_members = set(expected["member_id"].astype(str))
    if set(per_member.index) != exp_members:
        raise ExerciseCheckError(
            f"{name} 有 {len(per_member):,} 位会员，应该有 {len(exp_members):,} 位",
            "用截点 CUTOFF 之前的全部会员拟合，recommend() 不传 members 就是全部 (fit with analysis_date=CUTOFF).",
        )
    merged = expected[["member_id", "rank", "category"]].astype({"member_id": str, "category": str}).merge(
        got, on=["member_id", "rank"], how="left", suffixes=("", "_got"))
    wrong = merged["category"] != merged["category_got"]
    if wrong.any():
        raise ExerciseCheckError(
            f"{name} 有 {int(wrong.sum()):,} 个推荐和共现模型的不一样 (recommendations differ)",
            "用默认的品类共现方法 NextBestCategory(exclude_seen=True)，analysis_date=CUTOFF (the co-occurrence method).",
        )
    return f"{len(exp_members):,} 位会员的推荐都对 (recommendations of all {len(exp_members):,} members correct)"
