"""Forest plot of differences (:mod:`prevalence.publication.charts.forest`)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from PIL import Image

from prevalence.errors import PrevalenceError
from prevalence.publication.charts import (
    FOREST_COLUMNS,
    ForestOptions,
    build_forest,
    plot_forest,
    select_forest,
)

LABELS = {"psych": "Psychological violence", "phys": "Physical violence"}
NAN = math.nan


def difference(indicator, value_a, value_b, d, low, high, p, **more) -> dict:
    """One row of the table of differences, within wave ``w`` by role."""
    row = {
        "comparison": "within",
        "wave_a": "w",
        "wave_b": "w",
        "indicator": indicator,
        "domain": "role",
        "value_a": value_a,
        "value_b": value_b,
        "difference": d,
        "ci_low": low,
        "ci_high": high,
        "method": "wald",
        "level": 0.95,
        "p_adjusted": p,
        "adjust_method": "holm",
        "family": f"indicator {indicator}",
        "suppressed": False,
        "flag": "",
    }
    return {**row, **more}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rows = [
        difference("psych", "MP", "staff", 0.12, 0.031, 0.209, 0.012),
        difference(
            "phys",
            "MP",
            "staff",
            NAN,
            NAN,
            NAN,
            NAN,
            suppressed=True,
            flag="side suppressed: staff (fewer than 3 cases)",
        ),  # fmt: skip
        difference("psych", "MP", "all others", -0.0004, -0.05, 0.0492, 0.9),
        difference("phys", "MP", "all others", 0.2, NAN, NAN, 0.0004),
    ]
    return pd.DataFrame(rows, columns=list(FOREST_COLUMNS))


def test_select_labels_values_and_suppression(table):
    chart = select_forest(table, ForestOptions(labels=LABELS, wave_labels={"w": "Wave 2024"}))
    assert chart.title == "Differences in prevalence by role"
    assert chart.subtitle == "Wave 2024"
    assert chart.value_head == "Difference [95% CI]" and chart.p_head == "Adj. p"
    assert list(chart.groups) == ["Psychological violence", "Physical violence"]
    psych, phys = chart.groups.values()
    assert [r.label for r in psych] == ["MP \u2212 staff", "MP \u2212 all others"]
    assert psych[0].value == "+12.0 [3.1, 20.9]" and psych[0].p == "0.012"
    assert psych[0].significant
    assert psych[1].value == "0.0 [\u22125.0, 4.9]"  # a rounded zero has no sign
    assert not psych[1].significant
    suppressed, no_interval = phys
    assert suppressed.status == "suppressed"
    assert suppressed.note == "suppressed (staff (fewer than 3 cases))"  # the side's reason
    assert (suppressed.value, suppressed.p) == ("", "")
    assert math.isnan(suppressed.difference)
    assert no_interval.value == "+20.0" and no_interval.p == "<0.001"
    footer = "\n".join(chart.footer)
    assert "Difference a \u2212 b in percentage points, with 95% Wald intervals" in footer
    assert "after Holm's adjustment within the comparisons of each indicator" in footer
    assert "Sources: Wave 2024." in footer


def test_select_groups_by_comparison_or_not_at_all(table):
    by_comparison = select_forest(table, ForestOptions(labels=LABELS, group_by="comparison"))
    assert list(by_comparison.groups) == ["MP \u2212 staff", "MP \u2212 all others"]
    assert [r.label for r in by_comparison.rows] == [
        "Psychological violence",
        "Physical violence",
        "Psychological violence",
        "Physical violence",
    ]
    flat = select_forest(table, ForestOptions(labels=LABELS, group_by=None))
    assert list(flat.groups) == [""] and not flat.grouped
    assert flat.rows[0].label == "MP \u2212 staff: Psychological violence"
    assert flat.subtitle == "w"  # no label: the wave's id


def test_select_between_waves_names_both_waves(table):
    between = table.iloc[:1].assign(comparison="between", wave_a="b", domain="overall")
    between = between.assign(value_a="All", value_b="All", adjust_method="none")
    chart = select_forest(between, ForestOptions(labels=LABELS, wave_labels={"a": "2021"}))
    assert chart.title == "Differences in prevalence between survey waves"
    assert chart.subtitle == "All respondents"
    assert chart.rows[0].label == "b \u2212 w"
    assert chart.p_head == "p"
    assert "Filled markers: p < 0.05 (no adjustment for multiple testing)." in chart.footer


def test_select_every_row_withheld_and_no_rows(table):
    hidden = table.assign(suppressed=True, flag="")
    chart = select_forest(hidden, ForestOptions(labels=LABELS))
    assert {r.note for r in chart.rows} == {"suppressed"}
    assert "every comparison is suppressed or empty" in chart.subtitle
    empty = select_forest(table.iloc[:0], ForestOptions(labels=LABELS))
    assert empty.message == "No comparisons to show." and empty.rows == ()


def test_select_refuses_bad_tables(table):
    with pytest.raises(PrevalenceError, match="lacks column"):
        select_forest(table.drop(columns=["family"]), ForestOptions(labels=LABELS))
    with pytest.raises(PrevalenceError, match="unknown grouping"):
        select_forest(table, ForestOptions(labels=LABELS, group_by="wave"))
    with pytest.raises(PrevalenceError, match=r"in \[-1, 1\]"):
        select_forest(table.assign(difference=12.0), ForestOptions(labels=LABELS))
    with pytest.raises(PrevalenceError, match="DataFrame"):
        select_forest(table.to_dict("records"), ForestOptions(labels=LABELS))


def test_forest_draws_rows_labels_and_suppression(table):
    options = ForestOptions(labels=LABELS, wave_labels={"w": "Wave 2024"}, group_by=None)
    fig = build_forest(table, options)
    texts = [t.get_text() for t in fig.findobj(match=lambda o: hasattr(o, "get_text"))]
    assert "MP \u2212 staff: Psychological violence" in texts
    assert "suppressed (staff (fewer than 3 cases))" in texts
    assert "+12.0 [3.1, 20.9]" in texts and "<0.001" in texts
    grouped = build_forest(table, ForestOptions(labels=LABELS))
    grouped_texts = [t.get_text() for t in grouped.findobj(match=lambda o: hasattr(o, "get_text"))]
    assert "Psychological violence" in grouped_texts and "MP \u2212 staff" in grouped_texts
    empty = build_forest(table.iloc[:0], ForestOptions(labels=LABELS))
    assert any(t.get_text() == "No comparisons to show." for ax in empty.axes for t in ax.texts)


def test_forest_files_are_byte_identical(table, tmp_path):
    first = plot_forest(table, ForestOptions(labels=LABELS), out_stem=tmp_path / "a" / "forest")
    second = plot_forest(table, ForestOptions(labels=LABELS), out_stem=tmp_path / "b" / "forest")
    assert [p.suffix for p in first] == [".png", ".svg", ".pdf", ".csv"]
    data = pd.read_csv(first[3], keep_default_na=False, na_values=[""])
    chart = select_forest(table, ForestOptions(labels=LABELS))
    drawn = [row for rows in chart.groups.values() for row in rows]
    assert data["label"].tolist() == [row.label for row in drawn]
    shown = [row.status == "ok" for row in drawn]
    assert data["difference"][shown].tolist() == pytest.approx(
        [row.difference / 100 for row in drawn if row.status == "ok"]
    )
    assert data["suppressed"].tolist() == [row.status == "suppressed" for row in drawn]
    for x, y in zip(first, second, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
    dpi = Image.open(first[0]).info["dpi"]
    assert dpi == pytest.approx((300, 300), abs=0.01)
