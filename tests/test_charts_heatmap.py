"""Heatmap of indicators by domain value (:mod:`prevalence.publication.charts.heatmap`)."""

from __future__ import annotations

from dataclasses import replace

import matplotlib as mpl
import pandas as pd
import pytest
from chart_tables import (
    LABELS,
    SUPPRESSION_FLAG,
    WAVE_LABEL,
    assert_inside_page,
    check_outputs,
    flatten,
    heatmap_axes,
    make_table,
    text_of,
    texts_of,
)

from prevalence.errors import PrevalenceError
from prevalence.publication.charts import (
    HeatmapOptions,
    build_heatmap,
    plot_heatmap,
    select_heatmap,
)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table()


OPTIONS = HeatmapOptions(wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region")


def test_plot_heatmap_writes_png_svg_pdf(table, tmp_path):
    stem = tmp_path / "heat" / "by_region"
    paths = plot_heatmap(
        table,
        replace(OPTIONS, domain="region", source_note="Survey of women members of parliament."),
        out_stem=stem,
    )
    check_outputs(paths, stem)


def test_heatmap_headers_values_colour_bar_and_conditional_rows(table):
    fig = build_heatmap(table, replace(OPTIONS, domain="region"))
    ax = heatmap_axes(fig)
    headers = [t.get_text() for t in ax.get_xticklabels()]
    assert headers == [
        "All respondents\nn = 55",
        "Africa\nn = 20",
        "Asia\nn = 25",
        "Pacific\nn = 10",
    ]
    texts = texts_of(fig)
    assert "82%" in texts  # psych, all respondents: 45/55
    assert "Percent" in texts  # colour bar label
    text = flatten(text_of(fig))
    assert "Online hate speech (of those with online gender-based violence)" in text
    assert "\u21b3" in texts
    assert "are percentages of the respondents in the parent category" in text
    assert "Source: Asia-Pacific 2025; n = 55; 95% logit intervals." in text
    # value text contrasts with its cell: white on the darkest, ink on the lightest
    cells = {t.get_text(): t for t in ax.texts if t.get_text().endswith("%")}
    darkest = max(cells, key=lambda s: float(s.rstrip("%")))
    lightest = min(cells, key=lambda s: float(s.rstrip("%")))
    assert mpl.colors.to_hex(cells[darkest].get_color()) == "#ffffff"
    assert mpl.colors.to_hex(cells[lightest].get_color()) != "#ffffff"
    assert_inside_page(fig)


def test_heatmap_suppressed_cells_show_mark_and_no_value(table, tmp_path):
    # give the suppressed row a value no other cell has, to look for it in the output
    secret = (table["domain_value"] == "Pacific") & (table["indicator"] == "hate")
    table = table.copy()
    table.loc[secret, "estimate"] = 0.987
    fig = build_heatmap(table, replace(OPTIONS, domain="region"))
    ax = heatmap_axes(fig)
    pacific = [t.get_text() for t in ax.get_xticklabels()].index("Pacific\nn = 10")
    centre = ax.get_xticks()[pacific]
    hate_y = next(
        t.get_position()[1]
        for t in ax.texts
        if flatten(t.get_text()).startswith("Online hate speech")
    )
    in_cell = [
        t.get_text()
        for t in ax.texts
        if abs(t.get_position()[0] - centre) < 1e-9 and abs(t.get_position()[1] - hate_y) < 1e-9
    ]
    assert in_cell == ["\u2013"]
    assert any(p.get_hatch() for p in ax.patches)
    assert f"suppressed ({SUPPRESSION_FLAG})" in [flatten(t) for t in texts_of(fig)]
    assert "n/a" in texts_of(fig)  # Asia / physical has no respondents
    paths = plot_heatmap(
        table,
        replace(OPTIONS, domain="region"),
        out_stem=tmp_path / "heat",
    )
    assert "99%" not in texts_of(fig)
    assert "99%" not in paths[1].read_text(encoding="utf-8")


def test_heatmap_hidden_n_all_suppressed_and_empty(table, tmp_path):
    hidden_n = table.assign(n_suppressed=table["domain_value"] == "Asia")
    fig = build_heatmap(
        hidden_n,
        replace(OPTIONS, domain="region"),
    )
    headers = [t.get_text() for t in heatmap_axes(fig).get_xticklabels()]
    assert "Asia\nn withheld" in headers
    assert "n = 25" not in text_of(fig)

    hidden = table.assign(suppressed=True, flag="small cell")
    fig = build_heatmap(hidden, replace(OPTIONS, domain="region"))
    assert "every cell is suppressed" in text_of(fig)
    assert not [t for t in texts_of(fig) if t.endswith("%") and t[0].isdigit()]
    assert texts_of(fig).count("\u2013") == 6 * 4 + 1  # every cell, plus the legend key
    paths = plot_heatmap(
        hidden,
        replace(OPTIONS, domain="region"),
        out_stem=tmp_path / "hidden",
    )
    check_outputs(paths, tmp_path / "hidden")
    for domain in ("role", "region+role"):
        fig = build_heatmap(
            table,
            replace(OPTIONS, domain=domain),
        )
        assert "No estimates" in text_of(fig)
    with pytest.raises(PrevalenceError, match="not in the prevalence table"):
        build_heatmap(
            table,
            replace(OPTIONS, domain="region", indicators=["nope"]),
        )


def test_heatmap_long_labels_and_many_columns_stay_on_the_page(table):
    many = []
    for i in range(12):
        part = table[table["domain_value"] == "Africa"].assign(
            domain_value=f"Southern Africa region number {i}"
        )
        many.append(part)
    wide = pd.concat([table[table["domain"] == "overall"], *many], ignore_index=True)
    labels = dict(LABELS)
    labels["threats"] = (
        "Threats of death, rape, beatings or abduction against her or her family, "
        "made in person, by letter, by telephone or online"
    )
    fig = build_heatmap(
        wide, HeatmapOptions(wave="AP2025", wave_label=WAVE_LABEL, labels=labels, domain="region")
    )
    assert any(labels["threats"][:20] in t and "\n" in t for t in texts_of(fig))
    assert_inside_page(fig)


# --------------------------------------------------------------------------
# The selection, without drawing
# --------------------------------------------------------------------------


def test_select_columns_rows_and_cell_values(table):
    chart = select_heatmap(table, OPTIONS)
    assert chart.columns == ("All respondents", "Africa", "Asia", "Pacific")
    assert chart.counts == ("n = 55", "n = 20", "n = 25", "n = 10")
    assert chart.with_overall
    assert [r.indicator for r in chart.rows] == [
        "psych",
        "online",
        "hate",
        "threats",
        "sexual",
        "physical",
    ]
    psych = chart.rows[0]
    assert [c.text for c in psych.cells] == ["82%", *(c.text for c in psych.cells[1:])]
    assert all(c.text.endswith("%") for c in psych.cells)
    hate = chart.rows[2]
    assert hate.depth == 1 and hate.cells[3].suppressed and hate.cells[3].text == ""
    assert chart.rows[-1].cells[2].estimate.status == "empty"
    assert [(k.mark, k.hatched, k.text) for k in chart.keys] == [
        ("\u2013", True, f"suppressed ({SUPPRESSION_FLAG})"),
        ("n/a", False, "no respondents"),
    ]
    assert any(line.startswith("Rows marked \u21b3") for line in chart.footer)


def test_select_withholds_hidden_n_and_decimals(table):
    hidden = table.assign(n_suppressed=table["domain_value"] == "Pacific")
    chart = select_heatmap(hidden, replace(OPTIONS, show_overall=False, decimals=1))
    assert chart.columns == ("Africa", "Asia", "Pacific") and not chart.with_overall
    assert chart.counts[-1] == "n withheld"
    assert chart.footer[0] == "Source: Asia-Pacific 2025; 95% logit intervals."  # no total n
    assert chart.rows[0].cells[0].text.count(".") == 1
    empty = select_heatmap(table, replace(OPTIONS, domain="age_group"))
    assert empty.message == "No estimates by age group for Asia-Pacific 2025."


def test_the_key_names_each_reason_once(table):
    """Cells suppressed for overlapping sets of reasons: the key lists each reason once."""
    flags = {"psych": "n < 30; wide interval", "online": "wide interval; fewer than 3 cases"}
    pacific = table["domain_value"] == "Pacific"
    changed = table.copy()
    for indicator, flag in flags.items():
        rows = pacific & (changed["indicator"] == indicator)
        changed.loc[rows, ["suppressed", "flag"]] = [True, flag]
    chart = select_heatmap(
        changed,
        HeatmapOptions(wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region"),
    )
    assert chart.keys[0].text == (
        f"suppressed (n < 30; wide interval; fewer than 3 cases; {SUPPRESSION_FLAG})"
    )
