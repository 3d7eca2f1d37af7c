"""Bars of every indicator in one domain cell (:mod:`prevalence.publication.charts.by_indicator`)."""

from __future__ import annotations

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
from matplotlib.text import Text

from prevalence.errors import PrevalenceError
from prevalence.publication.charts import (
    REQUIRED_COLUMNS,
    ByIndicatorOptions,
    build_by_indicator,
    plot_by_indicator,
    select_by_indicator,
)
from prevalence.stats.estimate import COLUMNS


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table()


OPTIONS = ByIndicatorOptions(wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS)


def test_plot_by_indicator_writes_png_svg_pdf(table, tmp_path):
    stem = tmp_path / "sub" / "overall.v1"
    paths = plot_by_indicator(
        table,
        replace(OPTIONS, source_note="Survey of women members of parliament."),
        out_stem=stem,
    )
    check_outputs(paths, stem)


def test_by_indicator_labels_values_and_source(table):
    fig = build_by_indicator(
        table,
        replace(OPTIONS, source_note="Survey of women members of parliament."),
    )
    text = flatten(text_of(fig))
    for label in LABELS.values():
        assert label in text
    assert "Online hate speech (of those with online gender-based violence)" in text
    assert "81.8%" in texts_of(fig)  # 45/55
    assert "n = 55" in texts_of(fig)
    assert "n = 33" in texts_of(fig)  # the "of whom" base
    assert "Source: Asia-Pacific 2025; n = 55; 95% logit intervals." in text
    assert "Survey of women members of parliament." in text
    assert WAVE_LABEL in text


def test_by_indicator_sorted_by_estimate_with_child_under_parent(table):
    fig = build_by_indicator(table, OPTIONS)
    (ax,) = fig.axes
    y = {}
    for t in ax.texts:
        flat = flatten(t.get_text())
        for ind, label in LABELS.items():
            if flat == label or flat.startswith(f"{label} (of those"):
                y[ind] = t.get_position()[1]
    assert set(y) == set(LABELS)
    order = sorted(y, key=y.get)  # y grows downwards (inverted axis)
    assert order == ["psych", "online", "hate", "threats", "sexual", "physical"]
    # the conditional bar is lighter than the others
    bars = {round(p.get_y() + p.get_height() / 2, 6): p for p in ax.patches}
    hate = bars[round(y["hate"], 6)]
    psych = bars[round(y["psych"], 6)]
    assert sum(hate.get_facecolor()[:3]) > sum(psych.get_facecolor()[:3])


def test_by_indicator_suppressed_and_empty_cells(table):
    fig = build_by_indicator(
        table,
        replace(OPTIONS, domain="region", domain_value="Pacific"),
    )
    texts = texts_of(fig)
    assert f"suppressed ({SUPPRESSION_FLAG})" in [flatten(t) for t in texts]
    (ax,) = fig.axes
    assert len(ax.patches) == 5  # no bar for the suppressed indicator
    assert "Region: Pacific" in text_of(fig)

    fig = build_by_indicator(
        table,
        replace(OPTIONS, domain="region", domain_value="Asia"),
    )
    assert "no respondents" in texts_of(fig)
    assert len(fig.axes[0].patches) == 5


def test_suppressed_text_in_svg(table, tmp_path):
    paths = plot_by_indicator(
        table,
        replace(OPTIONS, domain="region", domain_value="Pacific", source_note=None),
        out_stem=tmp_path / "pacific",
    )
    svg = paths[1].read_text(encoding="utf-8")
    # text is stored as paths; matplotlib keeps the string as an XML comment
    assert f"suppressed ({SUPPRESSION_FLAG})" in svg
    # and no estimate of the suppressed cell is printed anywhere
    suppressed = table.query("domain_value == 'Pacific' and indicator == 'hate'").iloc[0]
    assert f"{100 * suppressed['estimate']:.1f}%" not in svg


def test_by_indicator_all_suppressed_and_empty_selection(table, tmp_path):
    hidden = table.assign(suppressed=True, flag="small cell")
    paths = plot_by_indicator(
        hidden,
        replace(OPTIONS, source_note=None),
        out_stem=tmp_path / "hidden",
    )
    check_outputs(paths, tmp_path / "hidden")
    fig = build_by_indicator(hidden, OPTIONS)
    assert [flatten(t) for t in texts_of(fig)].count("suppressed (small cell)") == 6
    assert len(fig.axes[0].patches) == 0
    assert "every cell is suppressed" in text_of(fig)

    for empty, kwargs in [
        (table.iloc[:0], {}),
        (table, {"domain": "region", "domain_value": "Europe"}),
        (table, {"wave": "no-such-wave"}),
    ]:
        args = {"wave": "AP2025", **kwargs}
        fig = build_by_indicator(
            empty, ByIndicatorOptions(wave_label=WAVE_LABEL, labels=LABELS, **args)
        )
        assert "No estimates" in text_of(fig)
    paths = plot_by_indicator(
        table.iloc[:0],
        replace(OPTIONS, source_note=None),
        out_stem=tmp_path / "empty",
    )
    check_outputs(paths, tmp_path / "empty")


def test_height_grows_with_number_of_bars(table):
    few = table[table["indicator"].isin(["psych", "online"])]
    small = build_by_indicator(few, OPTIONS)
    large = build_by_indicator(table, OPTIONS)
    assert large.get_figheight() > small.get_figheight() + 1.0
    assert large.get_figwidth() == small.get_figwidth()


def test_long_labels_wrap_and_nothing_leaves_the_figure(table):
    labels = dict(LABELS)
    labels["threats"] = (
        "Threats of death, rape, beatings or abduction against her or her family, "
        "made in person, by letter, by telephone or online"
    )
    fig = build_by_indicator(
        table, ByIndicatorOptions(wave="AP2025", wave_label=WAVE_LABEL, labels=labels)
    )
    assert any(labels["threats"][:20] in t and "\n" in t for t in texts_of(fig))
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    (ax,) = fig.axes
    plot_left = ax.get_window_extent(renderer).x0
    hidden_ticks = {
        id(label)
        for tick in ax.xaxis.get_major_ticks()
        if not 0 <= tick.get_loc() <= 100
        for label in (tick.label1, tick.label2)
    }
    for t in fig.findobj(Text):
        if not (t.get_visible() and t.get_text()) or id(t) in hidden_ticks:
            continue
        box = t.get_window_extent(renderer)
        assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1, t.get_text()
        assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1, t.get_text()
    # row labels sit left of the plotting area and do not overlap each other
    boxes = sorted(
        (
            t.get_window_extent(renderer)
            for t in ax.texts
            if t.get_window_extent(renderer).x1 < plot_left
        ),
        key=lambda b: b.y0,
    )
    assert len(boxes) >= len(LABELS)
    for lower, upper in zip(boxes, boxes[1:], strict=False):
        if lower.x1 > upper.x0 and upper.x1 > lower.x0:  # same column
            assert lower.y1 <= upper.y0 + 1


# --------------------------------------------------------------------------
# The selection, without drawing
# --------------------------------------------------------------------------


def test_select_orders_by_estimate_with_the_child_under_its_parent(table):
    chart = select_by_indicator(table, OPTIONS)
    rows = [(b.estimate.indicator, b.depth) for b in chart.bars]
    assert rows == [
        ("psych", 0),
        ("online", 0),
        ("hate", 1),
        ("threats", 0),
        ("sexual", 0),
        ("physical", 0),
    ]
    psych, online, hate = chart.bars[:3]
    assert (psych.label, psych.value, psych.count) == ("Psychological violence", "81.8%", "n = 55")
    assert hate.label == "Online hate speech (of those with online gender-based violence)"
    assert hate.count == "n = 33" and hate.value == f"{100 * round(0.38 * 33) / 33:.1f}%"
    assert chart.title == "Prevalence by indicator"
    assert chart.subtitle == "Asia-Pacific 2025 \u00b7 All respondents"
    assert chart.footer[0] == "Source: Asia-Pacific 2025; n = 55; 95% logit intervals."
    assert chart.footer[1].startswith('Lighter bars ("of those with')
    assert not chart.message


def test_select_puts_suppressed_and_empty_cells_last_with_their_reason(table):
    pacific = select_by_indicator(
        table,
        replace(OPTIONS, domain="region", domain_value="Pacific"),
    )
    hate = next(b for b in pacific.bars if b.estimate.indicator == "hate")
    assert hate.estimate.status == "suppressed"
    assert (hate.value, hate.count) == ("", "")  # nothing of the cell is printed
    assert hate.note == f"suppressed ({SUPPRESSION_FLAG})"
    assert pacific.subtitle.endswith("Region: Pacific")
    asia = select_by_indicator(
        table,
        replace(OPTIONS, domain="region", domain_value="Asia"),
    )
    assert asia.bars[-1].estimate.indicator == "physical"  # no respondents: last
    assert asia.bars[-1].note == "no respondents"


def test_select_marks_flags_and_says_when_nothing_can_be_shown(table):
    flagged = table.assign(flag=table["indicator"].map({"sexual": "df below 8"}).fillna(""))
    chart = select_by_indicator(flagged, OPTIONS)
    sexual = next(b for b in chart.bars if b.estimate.indicator == "sexual")
    assert sexual.value.endswith("%*")
    assert chart.footer[-1] == "* df below 8"
    hidden = select_by_indicator(table.assign(suppressed=True, flag="small cell"), OPTIONS)
    assert all(b.note == "suppressed (small cell)" for b in hidden.bars)
    assert "every cell is suppressed" in hidden.subtitle
    empty = select_by_indicator(table.iloc[:0], OPTIONS)
    assert empty.bars == () and empty.message.startswith("No estimates for Asia-Pacific 2025")


def test_bad_tables_are_refused_before_anything_is_drawn(table):
    with pytest.raises(PrevalenceError, match="lacks column"):
        select_by_indicator(table.drop(columns=["suppressed"]), OPTIONS)
    with pytest.raises(PrevalenceError, match="proportions"):
        select_by_indicator(table.assign(estimate=table["estimate"] * 100), OPTIONS)
    with pytest.raises(PrevalenceError, match="two rows"):
        select_by_indicator(pd.concat([table, table.iloc[:1]], ignore_index=True), OPTIONS)
    assert set(REQUIRED_COLUMNS) <= set(COLUMNS)
