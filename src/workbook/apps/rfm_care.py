"""App: RFM care lists (notebook 03 without code): segments, birthday care, members close to the next tier."""

from __future__ import annotations

import pandas as pd

from workbook.apps.shell import AppShell, show_figure
from workbook.apps.upload import ExportUpload
from workbook.care import birthday_members, tier_upgrade_candidates
from workbook.ids import mask_ids
from workbook.io import load_workbook_data
from workbook.labels import zh_labels, zh_table
from workbook.notebook import show_note
from workbook.plotting.rfm import plot_segments
from workbook.rfm import RFMScorer, rfm_table, segment, segment_actions, segment_summary
from workbook.tiers import TierPolicy

__all__ = ["rfm_care_app"]

SCHEMES = [("11 个国际通用分群 (rfm11)", "rfm11"), ("8 类中国零售分群 (cn8)", "cn8")]
LIST_ROWS = 10


def rfm_care_app(data=None):
    """The RFM care-list app: widgets for the parameters of notebook 03, recomputed live.

    Parameters
    ----------
    data : WorkbookData, optional
        Default: the course's synthetic data set.

    Returns
    -------
    ipywidgets.VBox
        The app, with ``shell`` (output area, ``last_error``), ``controls`` (widgets by
        name), ``upload`` (:class:`~workbook.apps.upload.ExportUpload`) and ``recompute()``.
    """
    import ipywidgets as widgets

    shell = AppShell("RFM 关怀名单", "RFM care lists",
                     "谁是最值钱的会员？每个分群该做什么？本月该给谁打电话、送生日礼？改下面的参数，结果自动重算。")
    state = {}
    style = {"description_width": "190px"}
    controls = {
        "scheme": widgets.Dropdown(options=SCHEMES, value="rfm11", description="分群方案 (scheme)", style=style),
        "care": widgets.SelectMultiple(description="生日关怀分群 (care segments)", style=style,
                                       layout={"width": "440px", "height": "120px"}),
        "month": widgets.Dropdown(options=[(f"{m} 月", m) for m in range(1, 13)], description="生日月份 (month)",
                                  style=style),
        "silver": widgets.BoundedIntText(value=1000, min=1, max=10**7, step=100, description="银卡门槛 (silver, 元)", style=style),
        "gold": widgets.BoundedIntText(value=3000, min=1, max=10**7, step=100, description="金卡门槛 (gold, 元)", style=style),
        "platinum": widgets.BoundedIntText(value=8000, min=1, max=10**7, step=100, description="白金卡门槛 (platinum, 元)", style=style),
        "gap": widgets.IntSlider(value=300, min=50, max=2000, step=50, description="升级提醒差额 (gap, 元)",
                                 continuous_update=False, style=style, layout={"width": "440px"}),
    }

    def set_data(d) -> None:
        state["quiet"] = True  # one recomputation at the end, not one per widget reset
        state["data"] = d
        rfm = rfm_table(d.transactions)
        state["rfm"], state["scored"] = rfm, RFMScorer(bins=5).fit_transform(rfm)
        state["today"] = rfm.attrs["analysis_date"]
        controls["month"].value = int(state["today"].month)
        shell.set_status(f"数据：{'课程合成数据 (synthetic)' if d.source == 'synthetic' else '你上传的导出 (your export)'}；"
                         f"{len(d.transactions):,} 笔交易，{len(rfm):,} 位买过东西的会员；分析日 {state['today'].date()}")
        update_care_options()
        state["quiet"] = False
        recompute()

    def update_care_options(*_) -> None:
        actions = segment_actions(controls["scheme"].value)
        options = list(zip(actions["中文名"] + " (" + actions["segment"] + ")", actions["segment"], strict=True))
        controls["care"].options = options
        controls["care"].value = tuple(s for s in ("champions", "loyal", "cant_lose", "important_value", "important_keep")
                                       if s in set(actions["segment"]))[:3] or (options[0][1],)

    def draw() -> None:
        from IPython.display import display

        d, scheme = state["data"], controls["scheme"].value
        segmented = segment(state["scored"], scheme=scheme)
        summary = segment_summary(segmented)
        display(widgets.HTML("<h3>1. 分群：会员占比与收入占比 (segments)</h3>"))
        show_figure(plot_segments(summary))
        actions = segment_actions(scheme).set_index("segment")
        strategy = summary[["segment_zh", "members", "revenue_share"]].join(actions[["建议动作"]])
        display(zh_table(strategy.set_index("segment_zh")).style.format(
            {"收入占比 (revenue_share)": "{:.1%}", "会员数 (members)": "{:,}"}))

        display(widgets.HTML(f"<h3>2. {controls['month'].value} 月生日关怀名单 (birthday care list)</h3>"))
        members = d.members
        if members is None or "birth_date" not in members.columns:
            show_note("没有出生日期 (no birth dates)", "生日名单需要会员表里的出生日期：请在上传时附上会员表并对上生日列。")
        else:
            birthdays = birthday_members(members, month=controls["month"].value, analysis_date=state["today"]).join(
                segmented[["segment", "segment_zh"]], on="member_id")
            care = birthdays[birthdays["segment"].isin(controls["care"].value)]
            print(f"本月生日会员 {len(birthdays):,} 人，其中所选分群 {len(care):,} 人（会员号已遮盖 ids masked）")
            shown = [c for c in ["member_id", "home_store_id", "birthday", "age", "tier", "segment_zh"] if c in care]
            display(zh_table(_masked(care[shown].head(LIST_ROWS))))

        display(widgets.HTML("<h3>3. 差一点就升级的会员 (members close to the next tier)</h3>"))
        thresholds = (0, controls["silver"].value, controls["gold"].value, controls["platinum"].value)
        policy = TierPolicy.default().replace(thresholds=thresholds)
        upgrade = tier_upgrade_candidates(d.transactions, policy, max_gap_cny=controls["gap"].value,
                                          analysis_date=state["today"])
        by_tier = upgrade.groupby("next_tier", sort=False, observed=True).agg(
            members=("member_id", "size"), median_gap=("gap", "median"))
        by_tier.index = zh_labels(by_tier.index.astype(str))
        display(zh_table(by_tier.round(0)))
        display(zh_table(_masked(upgrade.head(LIST_ROWS))))

    def _masked(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.reset_index(drop=True)
        for col in ("tier", "next_tier"):
            if col in out:
                out[col] = zh_labels(out[col].astype(str))
        if "member_id" in out:
            out["member_id"] = mask_ids(out["member_id"]).to_numpy()
        return out

    def recompute(*_) -> bool:
        if state.get("quiet"):
            return True
        return shell.run(draw)

    controls["scheme"].observe(update_care_options, names="value")
    app = shell.assemble(controls, ExportUpload(set_data, extra_tables=("members",)), recompute)
    set_data(data if data is not None else load_workbook_data())
    return app
