"""The publication standard's marks in the charts (selections only, nothing drawn): DHS shows
a figure based on 25-49 cases in parentheses and hides fewer than 25 as "*"; Statistics Canada
grades each figure A-E and hides F; the standard's notes go under the chart."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from chart_tables import LABELS, WAVE_LABEL, table_row

from prevalence.publication.charts import (
    ByDomainOptions,
    ByIndicatorOptions,
    HeatmapOptions,
    OfWhomOptions,
    select_by_domain,
    select_by_indicator,
    select_heatmap,
    select_of_whom,
)
from prevalence.publication.disclosure import marks, parse_publication
from prevalence.stats.estimate import COLUMNS

DHS = parse_publication({"standard": "dhs"})
STATCAN = parse_publication({"standard": "statcan"})


def _table(rules, cells) -> pd.DataFrame:
    """``cells``: (domain, value, indicator, n, p, caution, grade, hidden)."""
    standard = marks(rules)
    rows = []
    for domain, value, indicator, n, p, caution, grade, hidden in cells:
        row = table_row(domain, value, indicator, n, p)
        row["caution"], row["grade"] = caution, grade
        if hidden:
            row.update(suppressed=True, flag=standard.hidden_reason)
            for key in ("cases", "estimate", "se", "ci_low", "ci_high"):
                row[key] = math.nan
        elif caution:
            row["flag"] = standard.caution_reason
        rows.append(row)
    return pd.DataFrame(rows, columns=[*COLUMNS, "caution", "grade"])


@pytest.fixture(scope="module")
def dhs() -> pd.DataFrame:
    return _table(
        DHS,
        [
            ("overall", "All", "online", 90, 0.6, False, "", False),
            ("overall", "All", "hate", 40, 0.4, True, "", False),  # 25-49 cases
            ("overall", "All", "psych", 20, 0.7, False, "", True),  # fewer than 25
            ("region", "Pacific", "online", 40, 0.5, True, "", False),
            ("region", "Asia", "online", 20, 0.6, False, "", True),
        ],
    )


def test_dhs_figures_to_use_with_caution_are_in_parentheses_and_small_ones_are_stars(dhs):
    options = ByIndicatorOptions(wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS)
    chart = select_by_indicator(dhs, replace_publication(options, DHS))
    values = {b.estimate.indicator: (b.value, b.note) for b in chart.bars}
    assert values["online"] == ("60.0%", "")
    assert values["hate"] == ("(40.0%)", "")  # no footnote mark: the parentheses say it
    assert values["psych"] == ("", "* not shown")
    notes = marks(DHS).notes
    assert notes[0] in chart.footer and notes[1] in chart.footer
    assert not [line for line in chart.footer if line.startswith("* 25")]  # no flag footnote
    data = chart.data()
    assert list(data.columns[-2:]) == ["reason", "caution"]
    assert data.set_index("indicator").loc["hate", "caution"]
    assert data.set_index("indicator").loc["psych", "reason"] == marks(DHS).hidden_reason
    # without the standard the same table draws no parentheses and no star
    plain = select_by_indicator(dhs, options)
    assert {b.estimate.indicator: b.value for b in plain.bars}["hate"].startswith("40.0%")
    assert "caution" not in plain.data().columns


def replace_publication(options, publication):
    from dataclasses import replace

    return replace(options, publication=publication)


def test_dhs_marks_in_the_breakdown_the_dots_and_the_heatmap(dhs):
    of_whom = select_of_whom(
        dhs,
        OfWhomOptions(
            wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, parent="online", publication=DHS
        ),
    )
    assert [c.value for c in of_whom.children] == ["(40.0%)"]
    dots = select_by_domain(
        dhs,
        ByDomainOptions(
            wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region", publication=DHS
        ),
    )
    online = next(r for r in dots.rows if r.indicator == "online")
    assert online.dots[0].mark == "( )"
    assert online.dots[1].note == "Asia: * not shown"
    assert marks(DHS).notes[1] in dots.footer
    heat = select_heatmap(
        dhs,
        HeatmapOptions(
            wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region", publication=DHS
        ),
    )
    online = next(r for r in heat.rows if r.indicator == "online")
    assert [c.text for c in online.cells] == ["60%", "(50%)", "*"]


def test_statcan_grades_every_figure_and_hides_f():
    table = _table(
        STATCAN,
        [
            ("overall", "All", "online", 90, 0.6, False, "B", False),
            ("overall", "All", "hate", 40, 0.2, True, "E", False),
            ("overall", "All", "psych", 20, 0.1, False, "F", True),
        ],
    )
    options = ByIndicatorOptions(
        wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, publication=STATCAN
    )
    chart = select_by_indicator(table, options)
    values = {b.estimate.indicator: (b.value, b.note) for b in chart.bars}
    assert values["online"] == ("60.0% B", "")
    assert values["hate"] == ("20.0% E", "")
    assert values["psych"] == ("", "F not shown")
    notes = marks(STATCAN).notes
    assert notes[1] in chart.footer and notes[2] in chart.footer
    data = chart.data().set_index("indicator")
    assert data["grade"].tolist() == ["B", "E", "F"]
    assert data["caution"].tolist() == [False, True, False]
