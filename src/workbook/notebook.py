"""What a teaching notebook needs at run time: a friendly set-up and claims that teach.

A teaching notebook makes claims about the default data ("two thirds of the
revenue comes from a third of the members").  They are checked in two ways:

* under test (environment variable ``WORKBOOK_STRICT_CLAIMS=1``, set by
  ``make test``), a claim that does not hold raises :class:`ClaimError`, so a
  change to the package or the data that breaks the story fails CI;
* for a trainee who changed a parameter or loaded their own data, a claim that
  does not hold becomes a visible note (Chinese first) and the notebook runs on.

:func:`setup` is called once at the top of every teaching notebook: it applies
the chart theme (Chinese font) and shows a :class:`~workbook.errors.WorkbookInputError`
as a short bilingual message instead of a Python traceback.
"""

from __future__ import annotations

import html
import os
import sys
from collections.abc import Sequence

from workbook.errors import WorkbookInputError

__all__ = ["ClaimError", "claim", "claims_are_strict", "needs", "setup", "show_note"]

#: Environment variable that makes failed claims raise (set by ``make test``).
STRICT_ENV = "WORKBOOK_STRICT_CLAIMS"


class ClaimError(AssertionError):
    """A notebook's claim about the default data does not hold (strict mode only)."""


def claims_are_strict() -> bool:
    """True when failed claims must raise: ``WORKBOOK_STRICT_CLAIMS=1`` is set."""
    return os.environ.get(STRICT_ENV, "").strip() in {"1", "true", "yes"}


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and ip.__class__.__name__ == "ZMQInteractiveShell"


def show_note(title: str, body: str, *, kind: str = "note", metadata: dict | None = None) -> None:
    """Display a short boxed note: HTML in Jupyter (with a plain-text copy), text elsewhere.

    ``kind`` is ``"note"`` (amber box) or ``"error"`` (red box).  ``metadata`` is
    attached to the output in Jupyter (exercise grading reads its outcome there).
    """
    text = f"[{title}]\n{body}"
    if not _in_notebook():
        print(text)
        return
    from IPython.display import display

    colour = {"note": ("#fff8e1", "#f0ad00"), "error": ("#fdecea", "#d93025")}[kind]
    lines = "<br>".join(html.escape(line) for line in body.splitlines())
    box = (
        f'<div style="background:{colour[0]};border-left:6px solid {colour[1]};'
        f'padding:8px 12px;margin:4px 0;line-height:1.5">'
        f"<b>{html.escape(title)}</b><br>{lines}</div>"
    )
    display({"text/plain": text, "text/html": box}, raw=True, metadata=metadata or {})


def needs(available: object, what_zh: str, what_en: str, *, how_zh: str = "", how_en: str = "",
          columns: Sequence[str] = ()) -> bool:
    """Whether the data a notebook's sections analyse is there; if not, say so once.

    A notebook whose sections need a table that a user's export may lack (a
    contact log, door-counter traffic, points columns) calls this once after
    loading the data and guards each later section with the flag it returns.
    When the data is missing, one bilingual note says what is missing and how
    to provide it, and that the sections below are skipped; the notebook then
    runs to the end instead of stopping with an error.

    Parameters
    ----------
    available : DataFrame, None or bool
        The table the sections analyse (``None`` or no rows: missing), or a
        condition the notebook computed (e.g. "two stores and a traffic table").
    what_zh, what_en : str
        What the sections need, e.g. ``"触达记录"`` and ``"a contact log"``.
    how_zh, how_en : str, optional
        How to provide it, e.g. ``"请用 CONTACTS_PATH 提供触达记录导出。"``.
    columns : sequence of str, optional
        Columns the table must have (canonical names); missing ones are named
        in the note.

    Returns
    -------
    bool
        True when the sections can run; False after the note was shown.

    Examples
    --------
    >>> import pandas as pd
    >>> needs(pd.DataFrame({"member_id": ["M1"]}), "触达记录", "a contact log")
    True
    >>> needs(None, "触达记录", "a contact log", how_zh="请设置 CONTACTS_PATH。", how_en="Set CONTACTS_PATH.")
    [这本笔记需要触达记录 (needs a contact log)]
    请设置 CONTACTS_PATH。下面各节都会跳过。
    Set CONTACTS_PATH. Every section below is skipped.
    False
    >>> needs(pd.DataFrame({"amount": [1.0]}), "积分列", "points columns", columns=["points_earned"])
    [这本笔记需要积分列 (needs points columns)]
    缺少列 ['points_earned']。下面各节都会跳过。
    Missing column(s) ['points_earned']. Every section below is skipped.
    False
    """
    missing: list[str] = []
    if available is None:
        ok = False
    elif hasattr(available, "columns"):  # a table: it must have rows and the columns asked for
        missing = [c for c in columns if c not in available.columns]
        ok = len(available) > 0 and not missing
    else:  # a condition (bool or NumPy bool)
        ok = bool(available)
    if ok:
        return True
    if missing:
        how_zh, how_en = f"缺少列 {missing}。{how_zh}", f"Missing column(s) {missing}. {how_en}".rstrip()
    show_note(f"这本笔记需要{what_zh} (needs {what_en})",
              f"{how_zh}下面各节都会跳过。\n{how_en + ' ' if how_en else ''}Every section below is skipped.")
    return False


def claim(condition: object, zh: str, en: str = "", *, detail: str = "", strict: bool | None = None) -> bool:
    """Check a claim the notebook's text makes about the default data.

    Parameters
    ----------
    condition : bool
        Whether the claim holds on the data just analysed.
    zh, en : str
        The claim in Chinese and English, as the text states it.
    detail : str, optional
        The numbers behind it (e.g. ``"现在是 42%"``), shown when it fails.
    strict : bool, optional
        Raise instead of showing a note; default :func:`claims_are_strict`.

    Returns
    -------
    bool
        Whether the claim holds.  When it does not: in strict mode (under
        test) :class:`ClaimError` is raised; otherwise a friendly note is shown
        and the notebook goes on.

    Examples
    --------
    >>> claim(0.7 > 0.6, "冠军和忠诚客户贡献六成以上收入", "champions and loyal bring over 60% of revenue")
    True
    >>> claim(0.4 > 0.6, "冠军和忠诚客户贡献六成以上收入", detail="现在是 40%", strict=False)
    [提示 Note]
    这条结论是针对课程默认数据和默认参数写的；你改了参数或换了数据，它在现在的数据上不成立（这不是错误，正好值得讨论）：
    冠军和忠诚客户贡献六成以上收入
    现在是 40%
    False
    """
    if bool(condition):
        return True
    if claims_are_strict() if strict is None else strict:
        raise ClaimError(f"claim does not hold on the default data: {en or zh} {detail}".strip())
    lines = [
        "这条结论是针对课程默认数据和默认参数写的；你改了参数或换了数据，"
        "它在现在的数据上不成立（这不是错误，正好值得讨论）：",
        zh,
    ]
    if en:
        lines.append(f"(This statement holds on the default data, not on the current data: {en})")
    if detail:
        lines.append(detail)
    show_note("提示 Note", "\n".join(lines))
    return False


def _friendly_error(shell, etype, value, tb, tb_offset=None):
    """IPython custom-exception handler: a bilingual message, no stack trace."""
    text = value.bilingual() if isinstance(value, WorkbookInputError) else str(value)
    show_note("输入有误，请按提示修改参数后重新运行 (Input problem: change the parameter and run again)", text,
              kind="error")
    # Returning a structured traceback of our own keeps the cell marked as failed
    # (Run All stops here) while showing only the message.
    return [f"{etype.__name__}: 请看上面的提示 (see the message above)"]


def _skip_redundant_draw(ip) -> None:
    """Under the inline backend, draw each figure once per cell instead of twice.

    In interactive mode pyplot draws every changed figure after each cell (a
    post-execute hook meant for GUI windows); the inline backend then renders
    the same figure again into the PNG it shows, so that first full draw was
    thrown away: about a tenth of a notebook's run time.  Warnings raised while
    drawing still appear (the PNG's draw raises them).  Other backends (e.g. the
    ipympl widget) keep the hook.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    hook = getattr(plt, "_draw_all_if_interactive", None)
    if hook is None or "inline" not in matplotlib.get_backend():
        return
    # pyplot loads its backend, which registers the hook, only when the first figure is made
    # (after setup() in a new kernel): load it now, so there is a hook to drop.
    plt.switch_backend(matplotlib.get_backend())
    try:
        ip.events.unregister("post_execute", hook)
    except ValueError:  # not registered (non-interactive mode): nothing to skip
        pass


def setup() -> None:
    """Prepare a teaching notebook: chart theme with a Chinese font, friendly errors.

    Call once at the top of a notebook.  Outside IPython only the theme is set.
    """
    from workbook.plotting.style import set_theme

    set_theme()
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None else None
    if ip is not None:
        ip.set_custom_exc((WorkbookInputError,), _friendly_error)
        _skip_redundant_draw(ip)
