"""A parent indicator and its breakdown (:mod:`prevalence.publication.charts.of_whom`)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from chart_tables import (
    LABELS,
    SUPPRESSION_FLAG,
    WAVE_LABEL,
    assert_inside_page,
    check_outputs,
    flatten,
    make_table,
    text_of,
    texts_of,
)

from prevalence.publication.charts import OfWhomOptions, build_of_whom, plot_of_whom, select_of_whom


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table()


OPTIONS = OfWhomOptions(wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, parent="online")


def test_plot_of_whom_writes_png_svg_pdf(table, tmp_path):
    stem = tmp_path / "of_whom"
    paths = plot_of_whom(
        table,
        replace(OPTIONS, parent="online", source_note="Survey of women members of parliament."),
        out_stem=stem,
    )
    check_outputs(paths, stem)


def test_of_whom_states_the_parent_group(table):
    fig = build_of_whom(table, replace(OPTIONS, parent="online"))
    texts = [flatten(t) for t in texts_of(fig)]
    assert "All respondents" in texts
    assert "Of those who experienced online gender-based violence" in texts
    assert "Percent of those who experienced online gender-based violence" in texts
    assert "60.0%" in texts and "n = 55" in texts  # parent: 33 of 55 respondents
    assert "39.4%" in texts and "n = 33" in texts  # child: 13 of the 33
    text = flatten(text_of(fig))
    assert "are of the respondents who experienced online gender-based violence, not of all" in text
    # the children are not presented as "of those with ..." rows of all respondents
    assert "Online hate speech" in texts
    assert_inside_page(fig)


def test_of_whom_suppressed_child_missing_children_and_empty(table):
    fig = build_of_whom(
        table,
        replace(OPTIONS, parent="online", domain="region", domain_value="Pacific"),
    )
    texts = [flatten(t) for t in texts_of(fig)]
    assert f"suppressed ({SUPPRESSION_FLAG})" in texts
    suppressed = table.query("domain_value == 'Pacific' and indicator == 'hate'").iloc[0]
    assert f"{100 * suppressed['estimate']:.1f}%" not in texts
    assert "Region: Pacific" in text_of(fig)

    fig = build_of_whom(table, replace(OPTIONS, parent="psych"))
    assert "No breakdown of psychological violence in the table." in texts_of(fig)

    hidden = table.assign(suppressed=True, flag="small cell")
    fig = build_of_whom(hidden, replace(OPTIONS, parent="online"))
    assert "every cell is suppressed" in text_of(fig)
    assert not [t for t in texts_of(fig) if t.endswith("%") and t[0].isdigit()]

    for empty, wave in ((table.iloc[:0], "AP2025"), (table, "no-such-wave")):
        fig = build_of_whom(
            empty, OfWhomOptions(wave=wave, wave_label=WAVE_LABEL, labels=LABELS, parent="online")
        )
        assert "No estimates of online gender-based violence" in text_of(fig)


def test_of_whom_withholds_hidden_n(table):
    hidden = table.assign(n_suppressed=table["indicator"].isin(["online", "hate"]))
    fig = build_of_whom(hidden, replace(OPTIONS, parent="online"))
    texts = texts_of(fig)
    assert texts.count("n withheld") == 2
    assert "n = 55" not in texts and "n = 33" not in texts
    assert "Source: Asia-Pacific 2025; 95% logit intervals." in flatten(text_of(fig))


# --------------------------------------------------------------------------
# The selection, without drawing
# --------------------------------------------------------------------------


def test_select_parent_and_its_breakdown(table):
    chart = select_of_whom(table, OPTIONS)
    assert chart.group == "online gender-based violence"
    assert chart.title == "Online gender-based violence: prevalence and breakdown"
    assert (chart.head.value, chart.head.count) == ("60.0%", "n = 55")
    (hate,) = chart.children
    assert hate.label == "Online hate speech"  # the panel's heading says "of whom"
    assert hate.depth == 1 and hate.count == "n = 33"
    assert any(
        "shaded panel are of the respondents who experienced online" in f for f in chart.footer
    )
    assert chart.footer[0] == "Source: Asia-Pacific 2025; n = 55; 95% logit intervals."


def test_select_suppressed_child_no_children_and_no_parent(table):
    pacific = select_of_whom(table, replace(OPTIONS, domain="region", domain_value="Pacific"))
    (hate,) = pacific.children
    assert hate.note == f"suppressed ({SUPPRESSION_FLAG})" and hate.value == ""
    alone = select_of_whom(table, replace(OPTIONS, parent="psych"))
    assert alone.children == () and not any("shaded panel" in f for f in alone.footer)
    orphans = select_of_whom(table[table["indicator"] != "online"], OPTIONS)
    assert orphans.head is None and [c.estimate.indicator for c in orphans.children] == ["hate"]
    nothing = select_of_whom(table, replace(OPTIONS, domain="region", domain_value="Europe"))
    assert nothing.message == (
        "No estimates of online gender-based violence for Asia-Pacific 2025, Region: Europe."
    )
