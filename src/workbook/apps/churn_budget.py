"""App: the churn budget tool (notebook 05 without code): whom a limited retention budget should contact."""

from __future__ import annotations

import pandas as pd

from workbook import churn
from workbook.apps.shell import AppShell, show_figure
from workbook.apps.upload import ExportUpload
from workbook.errors import WorkbookInputError
from workbook.ids import mask_ids
from workbook.io import load_workbook_data
from workbook.labels import zh_table
from workbook.plotting import churn as churn_plots
from workbook.validation import resolve_analysis_date

__all__ = ["churn_budget_app", "churn_scores"]

HORIZON_DAYS = 90  # churn = no purchase in the 90 days after the scoring date (as in notebook 05)
ACTIVE_WINDOW_DAYS = 365
LIST_ROWS = 10


def churn_scores(tx: pd.DataFrame, members: pd.DataFrame | None, *, random_state: int = 7) -> pd.DataFrame:
    """Churn probability and last-180-day spend of every active member today (notebook 05's model).

    A gradient-boosting :class:`~workbook.churn.ChurnModel` is fitted on the latest
    fully observed horizon and scores today's active members.

    Returns
    -------
    DataFrame
        Indexed by member id: ``p_churn``, ``spend_180d``; ``attrs["analysis_date"]``.
    """
    analysis_date = resolve_analysis_date(tx["timestamp"], analysis_date=None)
    cutoff = analysis_date - pd.Timedelta(days=HORIZON_DAYS)
    if (cutoff - tx["timestamp"].min()).days < 90:
        raise WorkbookInputError(
            f"The data cover {(analysis_date - tx['timestamp'].min()).days} days; the churn model needs at "
            f"least {HORIZON_DAYS + 90} (90 days of history and a {HORIZON_DAYS}-day horizon).",
            message_zh=f"数据只覆盖 {(analysis_date - tx['timestamp'].min()).days} 天；流失模型至少需要 "
                       f"{HORIZON_DAYS + 90} 天（90 天历史 + {HORIZON_DAYS} 天观察期）。")
    X = churn.churn_features(tx, members, analysis_date=cutoff, active_window_days=ACTIVE_WINDOW_DAYS)
    y = churn.churn_labels(tx, analysis_date=cutoff, horizon_days=HORIZON_DAYS,
                           active_window_days=ACTIVE_WINDOW_DAYS, observed_until=analysis_date)["churned"]
    X = X.loc[y.index]
    model = churn.ChurnModel("hgb", random_state=random_state).fit(X, y)
    X_now = churn.churn_features(tx, members, analysis_date=analysis_date, active_window_days=ACTIVE_WINDOW_DAYS)
    X_now = X_now.reindex(columns=X.columns, fill_value=0.0)
    out = pd.DataFrame({"p_churn": model.predict_proba(X_now), "spend_180d": X_now["spend_180d"].clip(lower=0)})
    out.attrs["analysis_date"] = analysis_date
    return out


def churn_budget_app(data=None):
    """The churn budget app: budget, contact cost, save rate and margin as widgets.

    Returns
    -------
    ipywidgets.VBox
        With ``shell``, ``controls``, ``upload`` and ``recompute()`` (see
        :func:`workbook.apps.rfm_care.rfm_care_app`).
    """
    import ipywidgets as widgets
    from IPython.display import display

    shell = AppShell("流失挽留预算", "Churn budget tool",
                     "有限的挽留预算该联系谁？模型估计每位活跃会员未来 90 天流失的概率，"
                     "再按“流失概率 × 价值 × 挽回率 − 联系成本”从高到低挑人，直到预算用完。")
    state = {}
    style = {"description_width": "190px"}
    slider = {"continuous_update": False, "style": style, "layout": {"width": "440px"}}
    controls = {
        "budget": widgets.IntSlider(value=20000, min=1000, max=200000, step=1000, description="预算 (budget, 元)", **slider),
        "cost": widgets.FloatSlider(value=15, min=1, max=100, step=1, description="每人联系成本 (cost, 元)", **slider),
        "save_rate": widgets.FloatSlider(value=0.15, min=0.01, max=0.6, step=0.01, description="挽回率 (save rate)", **slider),
        "margin": widgets.FloatSlider(value=0.35, min=0.05, max=0.9, step=0.01, description="毛利率 (margin)", **slider),
    }

    def set_data(d) -> None:
        shell.set_status("正在训练流失模型… (fitting the churn model)")
        state["scores"] = None

        def fit() -> None:
            state["scores"] = churn_scores(d.transactions, d.members)

        if shell.run(fit):
            s = state["scores"]
            shell.set_status(f"数据：{'课程合成数据 (synthetic)' if d.source == 'synthetic' else '你上传的导出 (your export)'}；"
                             f"{len(s):,} 位活跃会员已打分；分析日 {s.attrs['analysis_date'].date()}")
            recompute()

    def draw() -> None:
        s = state.get("scores")
        if s is None:
            return
        value = s["spend_180d"] * 2 * controls["margin"].value  # next year's margin, roughly
        selection = churn.select_for_retention(s["p_churn"], value, budget=controls["budget"].value,
                                               cost_per_contact=controls["cost"].value,
                                               save_rate=controls["save_rate"].value)
        a = selection.attrs
        print(f"联系 {a['n_selected']:,} 人，花费 {a['total_cost']:,.0f} 元，"
              f"预期挽回毛利 {a.get('expected_saved_value', float('nan')):,.0f} 元，预期净收益 {a['expected_net_gain']:,.0f} 元")
        show_figure(churn_plots.plot_budget_curve(selection))
        top = selection.loc[selection["selected"]].head(LIST_ROWS).reset_index()
        top["member_id"] = mask_ids(top["member_id"]).to_numpy()
        display(widgets.HTML("<b>最先联系的会员（会员号已遮盖）(first to contact, ids masked)</b>"))
        display(zh_table(top[["member_id", "p_churn", "value", "expected_net_gain"]].round(2)))

    def recompute(*_) -> bool:
        return shell.run(draw)

    app = shell.assemble(controls, ExportUpload(set_data, extra_tables=("members",)), recompute)
    set_data(data if data is not None else load_workbook_data())
    return app
