"""Experiment charts return Axes that show the numbers they were given."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from workbook.errors import WorkbookInputError  # noqa: E402
from workbook.experiments import (  # noqa: E402
    mean_test,
    power_curve,
    proportion_test,
    simulate_campaign,
    simulate_peeking,
    uplift_by_segment,
)
from workbook.plotting.experiments import (  # noqa: E402
    plot_ab_result,
    plot_peeking,
    plot_power_curve,
    plot_uplift_by_segment,
)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sim():
    rng = np.random.default_rng(0)
    m = pd.DataFrame({"member_id": [f"m{i}" for i in range(3000)],
                      "segment": rng.choice(["重要价值", "流失风险", "新客"], 3000)})
    return simulate_campaign(members=m, baseline_rate=0.1, true_lift=0.03, random_state=2)


def test_plot_ab_result_bars_are_rates_and_ax_is_used(sim):
    r = proportion_test(sim)
    _, ax = plt.subplots()
    out = plot_ab_result(r, ax=ax)
    assert out is ax
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([r.rate_control, r.rate_treatment])
    assert "p = " in ax.get_title()
    m = plot_ab_result(mean_test(sim, covariate="pre_spend"))
    assert [p.get_height() for p in m.patches] == pytest.approx(
        [mean_test(sim, covariate="pre_spend").mean_control,
         mean_test(sim, covariate="pre_spend").mean_treatment])
    assert "CUPED" in m.get_ylabel()
    with pytest.raises(WorkbookInputError, match="proportion_test or mean_test"):
        plot_ab_result({"p": 0.1})


def test_plot_power_curve_one_line_per_mde():
    curve = power_curve([0.01, 0.02, 0.03], baseline_rate=0.1)
    ax = plot_power_curve(curve)
    lines = ax.get_lines()
    assert len(lines) == 4  # three curves + the 80% reference line
    np.testing.assert_allclose(lines[1].get_ydata(), curve.loc[curve["mde"] == 0.02, "power"])
    with pytest.raises(WorkbookInputError, match="missing column"):
        plot_power_curve(curve.drop(columns="power"))


def test_plot_uplift_by_segment_points(sim):
    table = uplift_by_segment(sim)
    ax = plot_uplift_by_segment(table)
    offsets = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(np.asarray(offsets)[:, 0], table["uplift"])
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert [t.split()[-1] for t in ticks] == [str(s) for s in table.index]  # the code stays readable
    assert ticks[-1] == "全部 All"  # and comes after its Chinese label
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend and all("区间" in t for t in legend)  # the point colours are explained


def test_plot_peeking_lines():
    sim = simulate_peeking(500, 0.1, looks=5, n_sims=300)
    ax = plot_peeking(sim)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), sim["reject_rate_any_look"])
    assert ax.get_lines()[2].get_ydata()[0] == pytest.approx(0.05)
