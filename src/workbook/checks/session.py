"""Set-up of an exercise notebook: the teaching set-up plus a friendly "run the cells above first".

A trainee who opens an exercise and runs a check cell first (or restarts the kernel and
runs one cell) meets a ``NameError``: the variable, or ``data``, is defined in a cell
above.  :func:`setup` shows that as a short note saying what to run, not a traceback.
"""

from __future__ import annotations

import sys

__all__ = ["setup"]


def _shell():
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def _show_not_defined(name: str) -> None:
    """A red note, with the outcome in the output metadata so grading reports ``error``."""
    from workbook.checks.engine import METADATA_KEY
    from workbook.notebook import show_note

    title = "先运行上面的格子 (run the cells above first)"
    body = (f"变量 {name} 还没有定义：如果它是上面的格子定义的，请先运行上面的格子（菜单 Run → Run All Above，"
            "或从头 Run All），再运行这一格；如果是你自己写的名字，检查拼写。",
            f"(name {name!r} is not defined: run the cells above first, or check the spelling.)")
    outcome = {"status": "error", "name": name, "message": body[0], "hint": title}
    show_note(title, "\n".join(body), kind="error", metadata={METADATA_KEY: outcome})


def setup() -> None:
    """Prepare an exercise notebook (call once, in the first code cell after the parameters).

    Applies :func:`workbook.notebook.setup` (chart theme, bilingual input errors) and, in
    IPython, shows a ``NameError`` as a note: which variable is missing and that the cells
    above must run first.  The cell still counts as failed (grading reports ``error``).
    Outside IPython only the teaching set-up runs.  (No doctest: it applies the chart theme
    globally, which must not leak into other tests; ``tests/test_exercises.py`` runs it in a
    kernel.)
    """
    from workbook.notebook import setup as notebook_setup

    notebook_setup()
    shell = _shell()
    if shell is None:
        return
    previous = shell.CustomTB if shell.custom_exceptions else None
    handled = tuple(shell.custom_exceptions)
    if NameError in handled:  # already set up in this kernel
        return

    def friendly(ip, etype, value, tb, tb_offset=None):
        if issubclass(etype, NameError):
            _show_not_defined(getattr(value, "name", None) or str(value))
            # IPython shows nothing more; the cell still counts as failed (Run All stops here).
            return [f"{etype.__name__}: 请看上面的提示 (see the message above)"]
        return previous(etype, value, tb, tb_offset)  # only reached for the types set up before

    shell.set_custom_exc((*handled, NameError), friendly)
