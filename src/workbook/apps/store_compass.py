"""App: the store analysis compass (notebook 07 without code): each store's weakest link."""

from __future__ import annotations

import matplotlib.pyplot as plt

from workbook import kpi
from workbook.apps.shell import AppShell, show_figure
from workbook.apps.upload import ExportUpload
from workbook.errors import WorkbookInputError
from workbook.io import load_workbook_data
from workbook.labels import zh_label, zh_table
from workbook.plotting import kpi as kpi_plots

__all__ = ["store_compass_app"]

PERIODS = [("年 (year)", "Y"), ("季 (quarter)", "Q"), ("月 (month)", "M")]
BENCHMARKS = [("典型门店：中位数 (median store)", "median"), ("全连锁合计 (chain total)", "total")]
BAR_KPIS = ["conversion", "atv", "upt", "member_sales_share", "repurchase_rate", "new_member_rate"]


def store_compass_app(data=None):
    """The store compass app: period, benchmark, KPI and store as widgets.

    Returns
    -------
    ipywidgets.VBox
        With ``shell``, ``controls``, ``upload`` and ``recompute()`` (see
        :func:`workbook.apps.rfm_care.rfm_care_app`).
    """
    import ipywidgets as widgets
    from IPython.display import display

    shell = AppShell("店铺分析罗盘", "Store analysis compass",
                     "销售额 = 客流量 × 成交率 × 客单价。每家店和连锁参照比，哪一环最弱？先抓客流、成交率，还是客单价、复购？")
    state = {}
    style = {"description_width": "190px"}
    dd = {"style": style, "layout": {"width": "440px"}}
    controls = {
        "period": widgets.Dropdown(options=PERIODS, value="Y", description="看板周期 (period)", **dd),
        "benchmark": widgets.Dropdown(options=BENCHMARKS, value="median", description="连锁参照 (benchmark)", **dd),
        "within": widgets.Checkbox(value=True, description="只和同规模门店比 (compare within store size)", indent=False),
        "bar_kpi": widgets.Dropdown(options=[(f"{zh_label(k)} ({k})", k) for k in BAR_KPIS], value="conversion",
                                    description="柱状图指标 (KPI)", **dd),
        "store": widgets.Dropdown(description="雷达图门店 (store)", **dd),
    }

    def set_data(d) -> None:
        tx = d.transactions
        if "store_id" not in tx.columns or tx["store_id"].nunique() < 2 or d.store_traffic is None:
            state["data"] = None
            raise WorkbookInputError(
                "The store compass compares stores: it needs a store_id column with at least two stores "
                "and the door-counter traffic file (store_id, date, visitors).",
                message_zh="店铺罗盘要比较多家门店：需要门店列 store_id（至少两家店）和客流计数文件"
                           "（门店、日期、进店人数）。请在上传时对上门店列，并附上客流文件。")
        state["data"] = d
        state["group"] = "size" if d.stores is not None and "size" in d.stores.columns else None
        controls["within"].disabled = state["group"] is None
        shell.set_status(f"数据：{'课程合成数据 (synthetic)' if d.source == 'synthetic' else '你上传的导出 (your export)'}；"
                         f"{len(tx):,} 笔交易，{tx['store_id'].nunique()} 家店")
        state["kpis"] = {}
        recompute()

    def kpis_for(period: str):
        if period not in state["kpis"]:
            d = state["data"]
            k = kpi.store_kpis(d.transactions, d.store_traffic, d.members, period=period)
            if d.stores is not None:
                k = k.merge(d.stores, on="store_id", how="left")
            state["kpis"][period] = k
        return state["kpis"][period]

    def draw() -> None:
        if state.get("data") is None:
            return
        kpis = kpis_for(controls["period"].value)
        method = controls["benchmark"].value
        by = state["group"] if controls["within"].value else None
        comparison = kpi.compare_to_chain(kpis, method, by=by)
        weakest = kpi.weakest_link(kpis, method, by=by)
        weakest = weakest.loc[weakest["period"] == weakest["period"].max()].sort_values("index")
        stores = list(weakest["store_id"])
        if list(controls["store"].options) != stores:  # new data or period: the stores in it, weakest first
            keep = controls["store"].value
            state["quiet"] = True
            try:
                controls["store"].options = stores
                controls["store"].value = keep if keep in stores else stores[0]
            finally:
                state["quiet"] = False
        print(f"参照 benchmark：{comparison.attrs['benchmark_zh']} = 1.0")
        fig = plt.figure(figsize=(15, 5.5), layout="constrained")
        kpi_plots.plot_kpi_bars(comparison, controls["bar_kpi"].value, ax=fig.add_subplot(1, 2, 1))
        kpi_plots.plot_store_radar(comparison, controls["store"].value, ax=fig.add_subplot(1, 2, 2, projection="polar"))
        show_figure(fig)
        display(widgets.HTML("<b>每家店最弱的一环 (each store's weakest link)</b>"))
        cols = ["store_id", *([by] if by else []), "name_zh", "value", "chain_value", "index", "recommendation"]
        table = weakest[cols].set_index("store_id").round({"value": 3, "chain_value": 3, "index": 3})
        display(zh_table(table.replace({"size": {s: zh_label(s) for s in ("small", "medium", "large")}})))

    def recompute(*_) -> bool:
        if state.get("quiet"):  # the store list is being refilled inside draw()
            return True
        return shell.run(draw)

    def on_upload(d) -> None:
        shell.run(lambda: set_data(d))

    app = shell.assemble(controls, ExportUpload(on_upload, extra_tables=("store_traffic", "members")), recompute)
    on_upload(data if data is not None else load_workbook_data())
    return app
