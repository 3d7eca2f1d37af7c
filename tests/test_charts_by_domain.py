"""Dots of each indicator across a domain (:mod:`prevalence.publication.charts.by_domain`)."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pytest
from chart_tables import (
    LABELS,
    SUPPRESSION_FLAG,
    WAVE_LABEL,
    check_outputs,
    flatten,
    make_table,
    text_of,
    texts_of,
)

from prevalence.errors import PrevalenceError
from prevalence.publication.charts import (
    ByDomainOptions,
    build_by_domain,
    plot_by_domain,
    select_by_domain,
)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table()


OPTIONS = ByDomainOptions(wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region")


def test_plot_by_domain_writes_png_svg_pdf(table, tmp_path):
    stem = tmp_path / "by_region"
    paths = plot_by_domain(
        table,
        replace(OPTIONS, domain="region", source_note="Survey of women members of parliament."),
        out_stem=stem,
    )
    check_outputs(paths, stem)


def test_by_domain_legend_n_labels_and_suppression(table):
    fig = build_by_domain(
        table,
        replace(OPTIONS, domain="region", source_note=None),
    )
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [
        "Africa (n = 20)",
        "Asia (n = 25)",
        "Pacific (n = 10)",
        "All respondents (n = 55)",
    ]
    texts = [flatten(t) for t in texts_of(fig)]
    assert f"Pacific: suppressed ({SUPPRESSION_FLAG})" in texts
    assert "Asia: no respondents" in texts
    text = flatten(text_of(fig))
    for label in LABELS.values():
        assert label in text
    assert "Source: Asia-Pacific 2025; n = 55; 95% logit intervals." in text
    # 6 indicators x 3 regions, less one suppressed and one empty cell
    (ax,) = fig.axes
    points = [line for line in ax.lines if len(line.get_xdata()) == 1]
    assert len(points) == 6 * 3 - 2


def test_by_domain_subset_order_and_unknown_indicator(table):
    fig = build_by_domain(
        table,
        replace(OPTIONS, domain="region", indicators=["sexual", "hate"]),
    )
    text = flatten(text_of(fig))
    assert "Sexual harassment" in text
    assert "Online hate speech (of those with online gender-based violence)" in text
    assert "Psychological violence" not in text
    labels_y = {
        flatten(t.get_text()): t.get_position()[1]
        for t in fig.axes[0].texts
        if flatten(t.get_text()).startswith(("Sexual", "Online hate"))
    }
    assert labels_y["Sexual harassment"] < min(v for k, v in labels_y.items() if "hate" in k)
    with pytest.raises(PrevalenceError, match="not in the prevalence table"):
        build_by_domain(
            table,
            replace(OPTIONS, domain="region", indicators=["nope"]),
        )


def test_by_domain_all_suppressed_and_empty(table, tmp_path):
    hidden = table.assign(suppressed=True, flag="small cell")
    fig = build_by_domain(
        hidden,
        replace(OPTIONS, domain="region"),
    )
    points = [line for line in fig.axes[0].lines if len(line.get_xdata()) == 1]
    assert points == []
    assert "every cell is suppressed" in text_of(fig)
    paths = plot_by_domain(
        table,
        replace(OPTIONS, domain="role", source_note=None),
        out_stem=tmp_path / "role",
    )
    check_outputs(paths, tmp_path / "role")
    for domain in ("role", "region+role"):
        fig = build_by_domain(
            table,
            replace(OPTIONS, domain=domain),
        )
        assert "No estimates" in text_of(fig)


# --------------------------------------------------------------------------
# The selection, without drawing
# --------------------------------------------------------------------------


def test_select_rows_by_overall_estimate_and_a_dot_per_region(table):
    chart = select_by_domain(table, OPTIONS)
    rows = [(r.indicator, r.depth) for r in chart.rows]
    assert rows == [
        ("psych", 0),
        ("online", 0),
        ("hate", 1),
        ("threats", 0),
        ("sexual", 0),
        ("physical", 0),
    ]
    assert chart.legend == (
        "Africa (n = 20)",
        "Asia (n = 25)",
        "Pacific (n = 10)",
        "All respondents (n = 55)",
    )
    assert chart.reference_entry
    assert chart.title == "Prevalence by region"
    assert chart.footer[0] == "Source: Asia-Pacific 2025; n = 55; 95% logit intervals."
    assert "Dashed ticks mark the estimate for all respondents." in chart.footer
    psych = chart.rows[0]
    assert psych.reference.estimate == pytest.approx(100 * 45 / 55)
    assert [d.estimate.n for d in psych.dots] == [20, 25, 10]
    hate = chart.rows[2]
    assert hate.conditional and hate.label.endswith("(of those with online gender-based violence)")
    assert hate.dots[2].note == f"Pacific: suppressed ({SUPPRESSION_FLAG})"
    assert math.isnan(hate.dots[2].estimate.estimate)  # never carries the suppressed value
    physical = chart.rows[-1]
    assert physical.dots[1].note == "Asia: no respondents"


def test_select_keeps_the_given_order_and_sums_the_regions_without_overall(table):
    options = replace(OPTIONS, indicators=["hate", "psych", "hate"], show_overall=False)
    chart = select_by_domain(table, options)
    assert [r.indicator for r in chart.rows] == ["hate", "psych"]
    assert all(r.reference is None for r in chart.rows)
    assert chart.legend[-1] == "Pacific (n = 10)" and not chart.reference_entry
    assert chart.footer[0].startswith("Source: Asia-Pacific 2025; n = 55;")  # 20 + 25 + 10
    missing = table[~((table["domain_value"] == "Asia") & (table["indicator"] == "psych"))]
    psych = select_by_domain(missing, options).rows[1]
    assert psych.dots[1].estimate is None and psych.dots[1].note == "Asia: not estimated"
    with pytest.raises(PrevalenceError, match="not in the prevalence table"):
        select_by_domain(table, replace(OPTIONS, indicators=["psych", "nope"]))


def test_select_of_an_absent_domain_says_so(table):
    chart = select_by_domain(table, replace(OPTIONS, domain="role"))
    assert chart.rows == () and chart.message == "No estimates by role for Asia-Pacific 2025."
