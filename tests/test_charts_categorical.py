"""A categorical question as stacked bars (:mod:`prevalence.publication.charts.categorical`):
the selection, read without drawing anything."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from chart_tables import LABELS, WAVE_LABEL, table_row

from prevalence.errors import PrevalenceError
from prevalence.publication.charts import CategoricalOptions, select_categorical
from prevalence.publication.charts.categorical import HIDDEN_ENTRY
from prevalence.stats.estimate import COLUMNS

CATEGORIES = {
    "perpetrator=colleague": "A fellow parliamentarian",
    "perpetrator=constituent": "A constituent",
    "perpetrator=stranger_online": "A stranger online",
}
# cases of each category among the answers of each cell (the shares sum to 100%)
CASES = {
    ("overall", "All"): (8, 10, 14),
    ("region", "Africa"): (3, 4, 6),
    ("region", "Asia"): (3, 4, 5),
    ("region", "Pacific"): (2, 2, 3),  # two categories hidden
    ("role", "MP"): (7, 9, 12),
}
HIDDEN = {("region", "Pacific"): ("perpetrator=colleague", "perpetrator=constituent")}
FLAG = "fewer than 3 cases or non-cases"


def categorical_table() -> pd.DataFrame:
    rows = []
    for (domain, value), cases in CASES.items():
        n = sum(cases)
        for ident, k in zip(CATEGORIES, cases, strict=True):
            hidden = ident in HIDDEN.get((domain, value), ())
            row = table_row(domain, value, ident, n, k / n, suppressed=hidden)
            row.update(denominator="online", flag=FLAG if hidden else "")
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


OPTIONS = CategoricalOptions(
    wave="AP2025",
    wave_label=WAVE_LABEL,
    labels=LABELS,
    question="perpetrator",
    categories=CATEGORIES,
    question_label="Perpetrator",
    domains=("region",),
)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return categorical_table()


def test_one_bar_per_group_all_respondents_first(table):
    chart = select_categorical(table, OPTIONS)
    assert [(b.domain, b.domain_value) for b in chart.bars] == [
        ("overall", "All"),
        ("region", "Africa"),
        ("region", "Asia"),
        ("region", "Pacific"),
    ]
    assert [b.label for b in chart.bars][:2] == ["All respondents", "Region: Africa"]
    assert chart.bars[0].count == f"n = {sum(CASES['overall', 'All'])}"


def test_segments_are_the_categories_in_codebook_order_and_sum_to_100(table):
    bar = select_categorical(table, OPTIONS).bars[0]
    assert [s.label for s in bar.segments] == list(CATEGORIES.values())
    assert sum(s.estimate.estimate for s in bar.segments) == pytest.approx(100)
    cases = CASES["overall", "All"]
    assert [s.value for s in bar.segments] == [f"{100 * k / sum(cases):.0f}%" for k in cases]
    assert bar.rest == 0 and bar.note == ""


def test_suppressed_categories_are_one_hatched_rest_with_a_note(table):
    chart = select_categorical(table, OPTIONS)
    pacific = chart.bars[3]
    shown = [s for s in pacific.segments if s.estimate.drawn]
    assert [s.label for s in shown] == ["A stranger online"]
    assert all(s.value == "" for s in pacific.segments if not s.estimate.drawn)
    assert pacific.rest == pytest.approx(100 - shown[0].estimate.estimate)
    assert pacific.note == f"A fellow parliamentarian, A constituent: suppressed ({FLAG})"
    assert chart.legend == (*CATEGORIES.values(), HIDDEN_ENTRY)
    assert any(line.startswith("Hatched:") for line in chart.footer)


def test_the_denominator_is_stated(table):
    chart = select_categorical(table, OPTIONS)
    group = LABELS["online"].lower()
    assert chart.subtitle == f"{WAVE_LABEL} \u00b7 Of those who experienced {group}"
    assert chart.xlabel == f"Percent of those who experienced {group} and answered"
    everyone = table.assign(denominator="all")
    chart = select_categorical(everyone, OPTIONS)
    assert chart.subtitle.endswith("Of all respondents")
    assert chart.xlabel == "Percent of respondents who answered"


def test_the_data_has_one_row_per_bar_and_category(table):
    data = select_categorical(table, OPTIONS).data()
    assert len(data) == 4 * len(CATEGORIES)
    assert list(data.columns[:4]) == ["domain", "domain_value", "indicator", "label"]
    hidden = data[data["suppressed"]]
    assert set(hidden["indicator"]) == set(HIDDEN["region", "Pacific"])
    assert hidden["estimate"].isna().all() and set(hidden["reason"]) == {FLAG}
    drawn = data[~data["suppressed"]]
    assert drawn["ci_low"].notna().all()


def test_a_population_is_named_and_a_question_without_rows_says_so(table):
    chart = select_categorical(table, replace(OPTIONS, population="women MPs"))
    assert chart.bars[0].label == "All women MPs"
    other = replace(OPTIONS, question="where", question_label="Where", categories={"where=x": "X"})
    chart = select_categorical(table, other)
    assert chart.bars == () and chart.message == f"No estimates of where for {WAVE_LABEL}."


def test_a_cell_without_respondents_has_no_hatched_rest(table):
    empty = table.copy()
    asia = empty["domain_value"] == "Asia"
    empty.loc[asia, ["n", "cases", "estimate", "ci_low", "ci_high"]] = [0, 0, None, None, None]
    bar = select_categorical(empty, OPTIONS).bars[2]
    assert bar.rest == 0 and bar.note == "no respondents"


def test_a_bad_table_gets_one_clear_message(table):
    with pytest.raises(PrevalenceError, match="proportions"):
        select_categorical(table.assign(estimate=table["estimate"] * 100), OPTIONS)


def test_a_bar_with_every_category_suppressed_is_hatched_whole_with_every_reason(table):
    hidden = table.copy()
    africa = hidden["domain_value"] == "Africa"
    hidden.loc[africa, "suppressed"] = True
    hidden.loc[africa, "flag"] = ["sample size n < 30", "sample size n < 30; CI width", FLAG]
    bar = select_categorical(hidden, OPTIONS).bars[1]
    assert bar.rest == 100 and all(s.value == "" for s in bar.segments)
    assert bar.note == f"suppressed (sample size n < 30; CI width; {FLAG})"
