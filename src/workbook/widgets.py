"""Interactive widgets for live training sessions (ipywidgets); not plots.

A widget needs a running Jupyter kernel to react.  Each one also exposes a
plain method (``run()``) that recomputes with the current slider values, so a
notebook checked by nbval or papermill can use the same code path without a
browser, and so the cell after a widget can show what the sliders chose.
"""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.labels import zh_table
from workbook.plotting.tiers import plot_benefit_cost, plot_tier_distribution
from workbook.tiers import TierPolicy, simulate_policy

__all__ = ["tier_sandbox"]

_SANDBOX_COLUMNS = ["tier_label_zh", "members", "spend", "total_cost", "cost_pct_of_spend",
                    "break_even_uplift_pct"]


def tier_sandbox(
    transactions: pd.DataFrame,
    policy: TierPolicy | None = None,
    margin_rate: float = 0.4,
    **simulate_kwargs: object,
):
    """Sliders for tier thresholds, discounts and the margin rate that re-run the simulation.

    Moving a slider re-runs :func:`workbook.tiers.simulate_policy` and redraws
    the charts below the sliders (the output area stays empty until then).  Slider values that make no valid policy
    (e.g. a silver threshold above the gold one) show a short Chinese message
    in the widget instead of an error.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.
    policy : TierPolicy, optional
        Starting policy (default :meth:`TierPolicy.default`); sliders cover its
        thresholds (above the base tier) and discounts.
    margin_rate : float
        Gross margin rate, also a slider.
    **simulate_kwargs
        Passed to :func:`workbook.tiers.simulate_policy`.

    Returns
    -------
    ipywidgets.VBox
        Sliders and an output area, with these attributes:

        * ``run()`` re-runs the simulation with the slider values and returns
          the result table (``None`` when the values make no valid policy,
          ``error`` then holds the reason); it draws nothing;
        * ``result``: the last result (or ``None``);
        * ``policy`` and ``margin_rate``: what the sliders currently say
          (``policy`` is ``None`` when invalid);
        * ``changed()``: whether any slider differs from the starting values;
        * ``sliders``: the slider widgets by kind.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-05-01", "2024-05-02"]),
    ...     "amount": [2500.0, 1000.0, 300.0]})
    >>> box = tier_sandbox(tx, margin_rate=0.5, review_dates=["2024-04-01"], analysis_date="2024-07-01")
    >>> box.changed(), float(box.result["total_cost"].iloc[-1].round(2))
    (False, 64.68)
    >>> box.sliders["margin_rate"].value = 0.25
    >>> box.changed(), float(box.result["break_even_incremental_spend"].iloc[-1].round(2))
    (True, 258.72)
    """
    import ipywidgets as widgets
    from IPython import get_ipython
    from IPython.display import display as _display

    def display(obj: object) -> None:
        # Outside a kernel nobody can see the widget: compute, but print nothing.
        if get_ipython() is not None:
            _display(obj)

    start = policy if policy is not None else TierPolicy.default()
    top = max(start.thresholds) * 2
    style = {"description_width": "initial"}
    thr = [
        widgets.FloatSlider(value=t, min=0, max=top, step=max(top / 200, 1), description=f"{zh} 门槛 (元)",
                            continuous_update=False, readout_format=",.0f", style=style)
        for t, zh in zip(start.thresholds[1:], start.labels_zh[1:], strict=True)
    ]
    disc = [
        widgets.FloatSlider(value=d, min=0.5, max=1.0, step=0.01, description=f"{zh} 价格系数",
                            continuous_update=False, style=style)
        for d, zh in zip(start.discounts[1:], start.labels_zh[1:], strict=True)
    ]
    margin = widgets.FloatSlider(value=margin_rate, min=0.05, max=0.9, step=0.01, description="毛利率 margin",
                                 continuous_update=False, style=style)
    out = widgets.Output()
    hint = widgets.HTML("拖动滑块后，这里显示重算的图表和表格；运行下一格可与原方案并排比较。"
                        "<br>(Move a slider to recompute here; run the next cell to compare with the original policy.)")
    box = widgets.VBox([widgets.HBox([widgets.VBox(thr), widgets.VBox(disc)]), margin, hint, out])
    initial = [s.value for s in (*thr, *disc, margin)]

    def current_policy() -> TierPolicy:
        return start.replace(
            thresholds=(start.thresholds[0], *(s.value for s in thr)),
            discounts=(start.discounts[0], *(s.value for s in disc)),
        )

    def compute() -> pd.DataFrame | None:
        box.margin_rate = margin.value
        try:
            box.policy = current_policy()
        except ValueError as exc:  # e.g. thresholds not increasing while dragging
            box.policy, box.result, box.error = None, None, exc
            return None
        box.error = None
        box.result = simulate_policy(transactions, box.policy, margin.value, **simulate_kwargs)
        return box.result

    def show(*_: object) -> None:
        # A slider moved (only happens with a live frontend): recompute, redraw inside the widget.
        result = compute()
        if get_ipython() is None:
            return
        out.clear_output(wait=True)
        with out:
            if result is None:
                exc = box.error
                text = exc.bilingual() if isinstance(exc, WorkbookInputError) else str(exc)
                display(widgets.HTML(
                    "<div style='background:#fff8e1;border-left:6px solid #f0ad00;padding:6px 10px'>"
                    "<b>这组滑块数值不构成有效的等级方案，请调整 (not a valid tier policy):</b><br>"
                    + "<br>".join(html.escape(line) for line in text.splitlines()) + "</div>"))
                return
            fig, (left, right) = plt.subplots(1, 2, figsize=(14, 4.8), layout="constrained")
            plot_tier_distribution(result, ax=left)
            plot_benefit_cost(result, ax=right)
            display(fig)
            plt.close(fig)
            display(zh_table(result[_SANDBOX_COLUMNS].round(2).set_index("tier_label_zh")))

    def changed() -> bool:
        return [s.value for s in (*thr, *disc, margin)] != initial

    for s in (*thr, *disc, margin):
        s.observe(show, names="value")
    box.sliders = {"thresholds": thr, "discounts": disc, "margin_rate": margin}
    box.run = compute
    box.changed = changed
    box.show = show  # recompute and redraw now (an app draws its starting policy with it)
    # Nothing is drawn into the output area until a slider moves: capturing output
    # into an Output widget while a notebook is run headless (papermill, nbval) can
    # hang the run (jupyter/nbclient#312); the cell after the sandbox shows the result.
    compute()
    return box
