"""Indicators across survey waves (:mod:`prevalence.publication.charts.waves`)."""

from __future__ import annotations

from dataclasses import replace

import matplotlib as mpl
import pandas as pd
import pytest
from chart_tables import (
    LABELS,
    SUPPRESSION_FLAG,
    WAVE_LABEL,
    WAVE_LABELS,
    WAVES_NOTE,
    assert_inside_page,
    check_outputs,
    flatten,
    make_table,
    make_waves_table,
    point_lines,
    text_of,
    texts_of,
)

from prevalence.errors import PrevalenceError
from prevalence.publication.charts import (
    AcrossWavesOptions,
    build_across_waves,
    plot_across_waves,
    select_across_waves,
)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table()


@pytest.fixture(scope="module")
def waves_table(table) -> pd.DataFrame:
    return make_waves_table(table)


def test_plot_across_waves_writes_png_svg_pdf(waves_table, tmp_path):
    stem = tmp_path / "waves" / "psych"
    paths = plot_across_waves(
        waves_table,
        AcrossWavesOptions(
            indicator="psych", labels=LABELS, wave_labels=WAVE_LABELS, note=WAVES_NOTE
        ),
        out_stem=stem,
    )
    check_outputs(paths, stem)


def test_across_waves_missing_wave_has_no_point_and_a_note(waves_table):
    fig = build_across_waves(
        waves_table,
        AcrossWavesOptions(
            indicator="online", labels=LABELS, wave_labels=WAVE_LABELS, note=WAVES_NOTE
        ),
    )
    (ax,) = fig.axes
    points = point_lines(ax)
    assert len(points) == 1
    assert points[0].get_xdata()[0] == pytest.approx(2)  # AP2025 only, no zeros elsewhere
    texts = [flatten(t) for t in texts_of(fig)]
    assert "not asked in Global 2016" in texts
    assert "not asked in Africa 2021" in texts
    assert WAVES_NOTE in flatten(text_of(fig))
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["Global 2016\nn = 60", "Africa 2021\nn = 60", f"{WAVE_LABEL}\nn = 55"]
    assert "60.0%" in texts
    assert_inside_page(fig)

    fig = build_across_waves(
        waves_table, AcrossWavesOptions(indicator="psych", labels=LABELS, wave_labels=WAVE_LABELS)
    )
    assert len(point_lines(fig.axes[0])) == 3
    assert "not asked" not in text_of(fig)
    assert WAVES_NOTE not in text_of(fig)  # the note is opt-in


def test_across_waves_several_indicators_dodged_in_given_order(waves_table):
    order = {"AP2025": WAVE_LABEL, "W2016": "Global 2016", "W2021": "Africa 2021"}
    fig = build_across_waves(
        waves_table,
        AcrossWavesOptions(
            indicators=["psych", "hate"], labels=LABELS, wave_labels=order, note=WAVES_NOTE
        ),
    )
    (ax,) = fig.axes
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == list(order.values())
    points = point_lines(ax)
    assert len(points) == 3 + 1
    colours = {mpl.colors.to_hex(p.get_color()) for p in points}
    assert len(colours) == 2
    xs = sorted(p.get_xdata()[0] for p in points)
    assert all(x != round(x) for x in xs)  # dodged off the wave centre
    legend = [flatten(t.get_text()) for t in fig.legends[0].get_texts()]
    assert legend[0] == "Psychological violence"
    assert legend[1].startswith("Online hate speech (of those with online gender-based violence)")
    assert "not asked in Global 2016, Africa 2021" in legend[1]
    assert "Open markers" in text_of(fig)
    assert_inside_page(fig)


def test_across_waves_suppressed_empty_and_bad_arguments(waves_table):
    hidden = waves_table.assign(suppressed=True, flag="small cell")
    fig = build_across_waves(
        hidden, AcrossWavesOptions(indicator="psych", labels=LABELS, wave_labels=WAVE_LABELS)
    )
    assert point_lines(fig.axes[0]) == []
    assert "every cell is suppressed" in text_of(fig)
    assert "suppressed in Global 2016 (small cell)" in [flatten(t) for t in texts_of(fig)]
    fig = build_across_waves(
        waves_table, AcrossWavesOptions(indicator="nope", labels=LABELS, wave_labels=WAVE_LABELS)
    )
    assert "No estimates of nope" in text_of(fig)
    fig = build_across_waves(
        waves_table.iloc[:0], AcrossWavesOptions(indicator="psych", labels=LABELS, wave_labels={})
    )
    assert "No estimates" in text_of(fig)
    with pytest.raises(PrevalenceError, match="either"):
        build_across_waves(waves_table, AcrossWavesOptions(labels=LABELS, wave_labels=WAVE_LABELS))
    with pytest.raises(PrevalenceError, match="either"):
        build_across_waves(
            waves_table,
            AcrossWavesOptions(
                indicator="psych", indicators=["psych"], labels=LABELS, wave_labels=WAVE_LABELS
            ),
        )


def test_across_waves_withholds_hidden_n(waves_table):
    hidden = waves_table.assign(n_suppressed=waves_table["wave"] == "W2016")
    fig = build_across_waves(
        hidden, AcrossWavesOptions(indicator="psych", labels=LABELS, wave_labels=WAVE_LABELS)
    )
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks[0] == "Global 2016\nn withheld"
    assert "n withheld" in texts_of(fig)  # at the point, too
    assert "n = 60" in texts_of(fig)  # the other waves keep theirs


# --------------------------------------------------------------------------
# The selection, without drawing
# --------------------------------------------------------------------------
OPTIONS = AcrossWavesOptions(labels=LABELS, wave_labels=WAVE_LABELS, indicator="psych")


def test_select_a_point_per_wave_in_the_given_order(waves_table):
    chart = select_across_waves(waves_table, OPTIONS)
    assert [w.label for w in chart.waves] == ["Global 2016", "Africa 2021", "Asia-Pacific 2025"]
    assert [w.count for w in chart.waves] == ["n = 60", "n = 60", "n = 55"]
    assert chart.waves[2].points[0].value == "81.8%"
    assert all(w.gap is None for w in chart.waves)
    assert chart.single and chart.legend == ()
    assert chart.title == "Psychological violence across survey waves"
    assert chart.ylabel == "Percent of respondents"
    assert (
        chart.footer[0]
        == "Sources: Global 2016, Africa 2021, Asia-Pacific 2025; 95% logit intervals."
    )


def test_select_names_the_gaps_never_a_zero(waves_table):
    online = select_across_waves(waves_table, replace(OPTIONS, indicator="online"))
    assert [w.gap for w in online.waves] == [
        ("not asked in", "Global 2016"),
        ("not asked in", "Africa 2021"),
        None,
    ]
    assert online.waves[0].points[0].estimate is None
    hate = select_across_waves(
        waves_table, replace(OPTIONS, indicator="hate", domain="region", domain_value="Pacific")
    )
    assert hate.waves[2].gap == ("suppressed in", f"Asia-Pacific 2025 ({SUPPRESSION_FLAG})")
    assert hate.ylabel == "Percent of those with online gender-based violence"
    assert hate.open_markers == (True,)
    several = select_across_waves(
        waves_table, replace(OPTIONS, indicator=None, indicators=["online", "psych"])
    )
    assert several.legend == (
        "Online gender-based violence \u2014 not asked in Global 2016, Africa 2021",
        "Psychological violence",
    )
    assert several.waves[0].gap is None  # psych has a point there


def test_select_refuses_neither_or_both_indicator_arguments(waves_table):
    with pytest.raises(PrevalenceError, match="either"):
        select_across_waves(waves_table, replace(OPTIONS, indicators=["psych"]))
    with pytest.raises(PrevalenceError, match="either"):
        select_across_waves(waves_table, replace(OPTIONS, indicator=None))
    with pytest.raises(PrevalenceError, match="empty"):
        select_across_waves(waves_table, replace(OPTIONS, indicator=None, indicators=[]))
    none = select_across_waves(waves_table, replace(OPTIONS, wave_labels={"W1990": "1990"}))
    assert none.message == "No estimates of psychological violence in 1990."
