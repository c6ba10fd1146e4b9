"""App: the tier-design sandbox (notebook 08 without code), on :func:`workbook.widgets.tier_sandbox`."""

from __future__ import annotations

from workbook.apps.shell import AppShell
from workbook.apps.upload import ExportUpload
from workbook.io import load_workbook_data
from workbook.widgets import tier_sandbox

__all__ = ["tier_design_app"]

UPLIFT_BY_TIER = {"silver": 0.03, "gold": 0.05, "platinum": 0.08}  # notebook 08's assumption


def tier_design_app(data=None):
    """The tier sandbox: thresholds, discounts and margin sliders that re-run the simulation.

    Returns
    -------
    ipywidgets.VBox
        With ``shell``, ``controls`` (the sandbox's sliders by label), ``upload``,
        ``sandbox`` and ``recompute()`` (see :func:`workbook.apps.rfm_care.rfm_care_app`).
    """
    import ipywidgets as widgets
    from IPython.display import display

    shell = AppShell("会员等级设计沙盘", "Tier-design sandbox",
                     "银卡、金卡、白金卡的门槛定多少、打几折？拖动滑块，看各等级人数、权益成本和保本需要多卖多少。")
    app = widgets.VBox()

    def set_data(d) -> None:
        sandbox = tier_sandbox(d.transactions, margin_rate=0.4, uplift_by_tier=UPLIFT_BY_TIER)
        sliders = [*sandbox.sliders["thresholds"], *sandbox.sliders["discounts"], sandbox.sliders["margin_rate"]]
        app.sandbox, app.controls = sandbox, {s.description: s for s in sliders}
        shell.set_status(f"数据：{'课程合成数据 (synthetic)' if d.source == 'synthetic' else '你上传的导出 (your export)'}；"
                         f"{len(d.transactions):,} 笔交易")
        display(sandbox)
        sandbox.show()  # the starting policy's charts; each slider move redraws them

    def recompute(*_) -> bool:
        return shell.run(app.sandbox.show)

    upload = ExportUpload(lambda d: shell.run(lambda: set_data(d)))
    tabs = widgets.Accordion(children=[upload.widget], titles=("用你自己的数据 (use your own export)",))
    tabs.selected_index = None
    app.children = [shell.header, shell.status, tabs, shell.output]
    app.shell, app.upload, app.recompute = shell, upload, recompute
    shell.run(lambda: set_data(data if data is not None else load_workbook_data()))
    return app
