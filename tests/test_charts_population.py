"""The charts of one population (:mod:`prevalence.publication.charts.population`) and the data
each chart writes beside its images: the selections only, nothing is drawn."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from chart_tables import LABELS, SUPPRESSION_FLAG, WAVE_LABEL, table_row

from prevalence.publication.charts import (
    ByDomainOptions,
    ByIndicatorOptions,
    HeatmapOptions,
    OfWhomOptions,
    population_table,
    select_by_domain,
    select_by_indicator,
    select_heatmap,
    select_of_whom,
)
from prevalence.stats.estimate import COLUMNS

MPS = "women MPs"
#: (domain, value): (n, prevalence of online GBV, of hate speech among them)
CELLS = {
    ("overall", "All"): (150, 0.49, 0.37),
    ("role", "MP"): (90, 0.60, 0.38),
    ("role", "staff"): (60, 0.33, 0.30),
    ("region", "Pacific"): (40, 0.50, 0.35),
    ("region+role", "Pacific+MP"): (30, 0.70, 0.40),
    ("region+role", "Pacific+staff"): (10, 0.10, 0.0),
    ("region+role", "Asia+MP"): (60, 0.55, 0.36),
}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rows = []
    for (domain, value), (n, online, hate) in CELLS.items():
        rows.append(table_row(domain, value, "online", n, online))
        hidden = value == "Asia+MP"
        rows.append(
            table_row(
                domain,
                value,
                "hate",
                round(n * online),
                hate,
                suppressed=hidden,
                flag=SUPPRESSION_FLAG if hidden else "",
            )
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.loc[frame["suppressed"], ["cases", "estimate", "se", "ci_low", "ci_high"]] = math.nan
    return frame


def test_a_population_becomes_a_table_of_its_own(table):
    mps = population_table(table, "role", "MP")
    assert list(zip(mps["domain"], mps["domain_value"], strict=True)) == [
        ("overall", "All"),
        ("overall", "All"),
        ("region", "Pacific"),
        ("region", "Pacific"),
        ("region", "Asia"),
        ("region", "Asia"),
    ]
    # the numbers are the population's own rows, untouched
    source = table[(table["domain"] == "role") & (table["domain_value"] == "MP")]
    assert mps["n"].iloc[:2].tolist() == source["n"].tolist()
    assert mps["estimate"].iloc[0] == source["estimate"].iloc[0]
    pacific = table[table["domain_value"] == "Pacific+MP"]
    assert mps["estimate"].iloc[2] == pacific["estimate"].iloc[0]
    assert list(mps.columns) == list(table.columns)


def test_a_population_that_is_not_in_the_table_gives_no_rows(table):
    assert population_table(table, "role", "clerk").empty
    assert population_table(table, "age_group", "under 45").empty


def test_by_indicator_of_a_population_names_it_and_gives_its_data(table):
    mps = population_table(table, "role", "MP")
    options = ByIndicatorOptions(
        wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, population=MPS
    )
    chart = select_by_indicator(mps, options)
    assert chart.subtitle == f"{WAVE_LABEL} \u00b7 All women MPs"
    assert any("not of all women MPs" in line for line in chart.footer)
    data = chart.data()
    assert data["indicator"].tolist() == ["online", "hate"]  # the bars, top down
    assert data["denominator"].tolist() == ["all", "online"]
    assert data["n"].tolist() == [90, 54]
    assert data["estimate"].tolist() == pytest.approx([0.6, 21 / 54])
    assert not data["suppressed"].any() and (data["reason"] == "").all()


def test_of_whom_of_a_population_is_headed_by_it(table):
    mps = population_table(table, "role", "MP")
    options = OfWhomOptions(
        wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, parent="online", population=MPS
    )
    chart = select_of_whom(mps, options)
    assert chart.everyone == "All women MPs"
    assert any(
        "are of the women MPs who experienced online gender-based violence, not of all women MPs"
        in line
        for line in chart.footer
    )
    data = chart.data()
    assert data["indicator"].tolist() == ["online", "hate"]
    assert data["estimate"].tolist() == pytest.approx([0.6, 21 / 54])
    assert data[["estimate", "ci_low", "ci_high"]].iloc[0].tolist() == pytest.approx(
        mps[["estimate", "ci_low", "ci_high"]].iloc[0].tolist()
    )


def test_a_population_by_region_draws_its_regions_against_the_population(table):
    mps = population_table(table, "role", "MP")
    options = ByDomainOptions(
        wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region", population=MPS
    )
    chart = select_by_domain(mps, options)
    assert chart.title == "Prevalence among women MPs by region"
    assert chart.legend == ("Pacific (n = 30)", "Asia (n = 60)", "All women MPs (n = 90)")
    assert "Dashed ticks mark the estimate for all women MPs." in chart.footer
    data = chart.data()
    # each row: the tick of all MPs, then a dot per region
    assert data["domain_value"].tolist() == ["", "Pacific", "Asia"] * 2
    assert data["indicator"].tolist() == ["online"] * 3 + ["hate"] * 3
    asia_hate = data.iloc[5]
    assert asia_hate["suppressed"] and asia_hate["reason"] == SUPPRESSION_FLAG
    assert math.isnan(asia_hate["estimate"]) and asia_hate["n"] == 33


def test_heatmap_of_a_population_heads_its_first_column_with_it(table):
    mps = population_table(table, "role", "MP")
    options = HeatmapOptions(
        wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region", population=MPS
    )
    chart = select_heatmap(mps, options)
    assert chart.columns == ("All women MPs", "Pacific", "Asia")
    data = chart.data()
    assert data["domain_value"].tolist() == ["All women MPs", "Pacific", "Asia"] * 2
    assert data["estimate"].iloc[:3].tolist() == pytest.approx([0.6, 0.7, 33 / 60])
