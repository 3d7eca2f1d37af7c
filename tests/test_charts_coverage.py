"""The coverage chart (:mod:`prevalence.publication.charts.coverage`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prevalence.errors import ConfigError, PrevalenceError
from prevalence.publication.charts import CoverageOptions, build_coverage, select_coverage
from prevalence.publication.charts.coverage import panel_title
from prevalence.stats.coverage import exact_coverage, simulated_coverage


def test_chart_refuses_mixed_levels():
    table = pd.concat(
        [exact_coverage("wilson", 10, 0.5, 0.95), exact_coverage("wilson", 10, 0.5, 0.9)]
    )
    with pytest.raises(PrevalenceError, match="one confidence level"):
        select_coverage(table, CoverageOptions())
    with pytest.raises(ConfigError, match="layout"):
        select_coverage(table.iloc[:1], CoverageOptions(layout="columns"))
    with pytest.raises(PrevalenceError, match="no rows"):
        select_coverage(table.iloc[:0], CoverageOptions())


def test_layouts_have_a_panel_per_sample_and_method():
    table = exact_coverage(["wilson", "jeffreys", "wald"], [18, 55], "0.05:0.95:0.05")
    grid = build_coverage(table)  # a row per method, a column per sample size
    assert len(grid.axes) == 3 * 2
    overlay = build_coverage(table, CoverageOptions(layout="overlay"))  # a panel per sample
    assert len(overlay.axes) == 2
    assert [len(ax.get_lines()) for ax in overlay.axes] == [1 + 3, 1 + 3]  # nominal + methods
    texts = [t.get_text() for t in grid.texts]
    assert "n = 18" in texts and "Wilson" in texts
    notes = [t.get_text() for ax in grid.axes for t in ax.texts]
    assert any(note.startswith("min ") for note in notes)


def test_select_orders_samples_exact_first_and_sorts_each_curve_by_p():
    exact = exact_coverage(["wald", "wilson"], [30, 10], [0.5, 0.1, 0.3], 0.95)
    simulated = simulated_coverage(
        ["wilson"], clusters=4, cluster_size=5, p=[0.3, 0.1], level=0.95, reps=200, seed=2
    )
    table = pd.concat(
        [simulated.assign(source="simulated"), exact.assign(source="exact")], ignore_index=True
    )
    chart = select_coverage(table, CoverageOptions())
    assert chart.methods == ("wilson", "wald")  # in the table's order
    titles = [panel_title(panel.key) for panel in chart.panels]
    assert titles == ["n = 30", "n = 10", "n = 20: 4 clusters of 5, deff 1 (simulated)"]
    for panel in chart.panels:
        for curve in panel.curves:
            if curve is not None:
                assert np.all(np.diff(curve.p) > 0)
    assert chart.panels[2].curves[1] is None  # wald was not simulated
    wald = exact.loc[(exact["method"] == "wald") & (exact["n"] == 10), "coverage"]
    curve = chart.panels[1].curves[1]
    assert curve.minimum == f"min {100 * wald.min():.1f}%"
    assert curve.mean == f"mean {100 * wald.mean():.1f}%"
    assert chart.title == "Actual coverage of nominal 95% confidence intervals"
    assert "exact for a simple random sample, simulated for a cluster sample" in chart.subtitle
    assert chart.footer[1].startswith("Under each curve: its minimum and mean over the 3 true")
    assert any(
        line.startswith("Simulated: one-stage cluster sample, 200 samples") for line in chart.footer
    )
    overlay = select_coverage(table, CoverageOptions(layout="overlay", source_note="Note."))
    assert not any(line.startswith("Under each curve") for line in overlay.footer)
    assert overlay.footer[-1] == "Note."


def test_select_names_methods_whose_coverage_runs_off_the_panels():
    table = exact_coverage(["wald", "wilson"], [10], [0.02, 0.5], 0.95)
    low = table.loc[table["coverage"] < 0.8]
    assert set(low["method"]) == {"wald"}  # the Wald interval at 2% with n = 10
    footer = select_coverage(table, CoverageOptions()).footer
    expected = f"Wald down to {100 * low['coverage'].min():.0f}%"
    assert any(
        line.startswith("Coverage below 80% runs off") and expected in line for line in footer
    )
