"""The frame every code-free app shares: a title, the data in use, an output area that never shows a traceback."""

from __future__ import annotations

import html
from collections.abc import Callable

import matplotlib.pyplot as plt

from workbook.errors import WorkbookInputError
from workbook.notebook import show_note

__all__ = ["AppShell", "show_figure"]


def show_figure(ax_or_fig) -> None:
    """Display a Matplotlib figure in the current output (a widget callback has no inline flush)."""
    from IPython.display import display

    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    if not hasattr(fig, "savefig"):  # an array of Axes
        fig = ax_or_fig.flat[0].figure
    display(fig)
    plt.close(fig)


class AppShell:
    """Title, data status line, parameter area and one output area for an app.

    ``run(draw)`` clears the output and calls ``draw()`` inside it: a
    :class:`~workbook.errors.WorkbookInputError` becomes the short bilingual red box
    of :func:`workbook.notebook.show_note`; any other exception a bilingual box that
    names only its type (never a traceback, never the data).  ``last_error`` holds
    what went wrong last (``None`` after a clean run).
    """

    def __init__(self, title_zh: str, title_en: str, intro_zh: str):
        import ipywidgets as widgets

        self.header = widgets.HTML(
            f"<h2 style='margin:4px 0'>{html.escape(title_zh)} <small style='color:#666'>"
            f"({html.escape(title_en)})</small></h2><p style='margin:2px 0 8px'>{intro_zh}</p>")
        self.status = widgets.HTML()
        self.output = widgets.Output(layout={"border": "1px solid #ddd", "padding": "4px"})
        self.output.add_class("workbook-app-output")  # what tests/test_apps.py watches
        self.last_error: BaseException | None = None

    def assemble(self, controls: dict, upload, recompute: Callable[..., bool]) -> "object":
        """The app's page: title, data line, upload panel (folded), parameters (wrapping row), output.

        Every control calls ``recompute`` when its value changes; the page gets ``shell``,
        ``controls``, ``upload`` and ``recompute`` attributes.
        """
        import ipywidgets as widgets

        for w in controls.values():
            w.observe(recompute, names="value")

        tabs = widgets.Accordion(children=[upload.widget], titles=("用你自己的数据 (use your own export)",))
        tabs.selected_index = None
        params = widgets.Box(list(controls.values()), layout={"flex_flow": "row wrap", "gap": "2px 24px"})
        head = widgets.HTML("<b>参数 (parameters)：改一个，结果自动重算 (change one, results follow)</b>")
        app = widgets.VBox([self.header, self.status, tabs, head, params, self.output])
        app.shell, app.controls, app.upload, app.recompute = self, controls, upload, recompute
        return app

    def set_status(self, text_zh: str) -> None:
        self.status.value = f"<div style='color:#2f6fb5;margin:4px 0'>{html.escape(text_zh)}</div>"

    def run(self, draw: Callable[[], None]) -> bool:
        """Redraw the output with ``draw``; True when it ran without error."""
        self.output.clear_output(wait=True)
        with self.output:
            try:
                draw()
            except WorkbookInputError as exc:
                self.last_error = exc
                show_note("请调整参数或数据 (please adjust the parameters or data)", exc.bilingual(), kind="error")
                return False
            except Exception as exc:  # noqa: BLE001 (a manager never sees a traceback)
                self.last_error = exc
                show_note("出了意外的问题 (unexpected problem)",
                          f"计算没有完成（{type(exc).__name__}）。请换一组参数再试，或把这句话告诉讲师。\n"
                          f"The computation did not finish ({type(exc).__name__}). Try other values, "
                          "or tell the instructor.", kind="error")
                return False
            finally:
                plt.close("all")
        self.last_error = None
        return True
