from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prevalence.errors import ConfigError
from prevalence.publication.reproduce import (
    check_published,
    counts_text,
    feasible_counts,
    mismatch_message,
    nearest_feasible_n,
    parse_targets,
    reproduce,
    round_half_up,
)


def table():
    return pd.DataFrame(
        {
            "wave": ["w", "w"],
            "domain": ["overall", "role"],
            "domain_value": ["All", "MP"],
            "indicator": ["threats", "threats"],
            "denominator": ["all", "all"],
            "n": [54, 40],
            "cases": [24, 17],
            "estimate": [24 / 54, 17 / 40],
        }
    )


def test_published_figures_match_at_their_rounding():
    targets = parse_targets(
        [
            {"wave": "w", "indicator": "threats", "value": 44.4, "decimals": 1},
            {
                "wave": "w",
                "indicator": "threats",
                "domain": "role",
                "domain_value": "MP",
                "value": 43,
                "decimals": 0,
            },
        ]
    )
    result = reproduce(table(), targets)
    assert result["match"].tolist() == [True, True]  # 42.5 rounds half up to 43
    assert result["rounded"].tolist() == [44.4, 43.0]
    assert mismatch_message(result) is None


def test_a_figure_that_does_not_reproduce_is_named():
    targets = parse_targets([{"wave": "w", "indicator": "threats", "value": 44.5, "decimals": 1}])
    message = mismatch_message(reproduce(table(), targets))
    assert "w threats (overall=All): published 44.5%, computed 44.4444% -> 44.4%" in message


@pytest.mark.parametrize(
    ("value", "decimals", "out"), [(42.5, 0, 43), (0.125, 2, 0.13), (81.81818, 1, 81.8)]
)
def test_round_half_up(value, decimals, out):
    assert round_half_up(value, decimals) == out


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"wave": "w", "indicator": "threats", "value": 144, "decimals": 1}, "between 0 and 100"),
        ({"wave": "w", "indicator": "threats", "value": 44.4}, r"lacks \['decimals'\]"),
        (
            {"wave": "w", "indicator": "threats", "value": 4, "decimals": 1, "vale": 1},
            "unknown key",
        ),
    ],
)
def test_bad_targets(entry, message):
    with pytest.raises(ConfigError, match=message):
        parse_targets([entry])


def test_target_for_a_cell_that_does_not_exist():
    targets = parse_targets([{"wave": "w", "indicator": "nope", "value": 4, "decimals": 1}])
    with pytest.raises(ConfigError, match="indicator=nope"):
        reproduce(table(), targets)


def test_reproduction_says_which_counts_of_n_give_the_published_figure():
    targets = parse_targets(
        [
            {"wave": "w", "indicator": "threats", "value": 44.4, "decimals": 1},
            {"wave": "w", "indicator": "threats", "value": 44.4, "decimals": 0},
            {
                "wave": "w",
                "indicator": "threats",
                "domain": "role",
                "domain_value": "MP",
                "value": 44.4,
                "decimals": 1,
            },
        ]
    )
    result = reproduce(table(), targets)
    # 24 of 54 is 44.44% (44% at 0 decimals); 17 of 40 is 42.5%, 18 of 40 is 45%
    assert result["consistent"].tolist() == [True, True, False]
    assert result["feasible_counts"].tolist() == ["24", "24", ""]
    message = mismatch_message(result)
    assert "no count of 40 gives 44.4%: the published figure rests on another n" in message


@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_feasible_counts_are_exactly_the_counts_that_round_to_the_figure(decimals):
    n = np.arange(1, 121)
    for value in (0, 0.5, 7.3, 12.5, 33.3, 44.4, 50, 66.67, 81.8, 99.95, 100):
        low, high = feasible_counts(value, decimals, n)
        target = round_half_up(value, decimals)
        for m, a, b in zip(n, low, high, strict=True):  # against rounding each count
            fits = [k for k in range(m + 1) if round_half_up(100 * k / m, decimals) == target]
            if fits:
                assert (a, b) == (fits[0], fits[-1])
            else:
                assert a > b


def test_nearest_n_that_fits():
    assert nearest_feasible_n(44.4, 1, 55) == [54]  # 24 of 54 = 44.44%
    assert nearest_feasible_n(50, 0, 3) == [2, 4]
    assert nearest_feasible_n(33.3333, 4, 7) == [6]
    assert [int(k) for k in feasible_counts(44, 0, 200)] == [87, 88]  # 43.5% and 44% round to 44
    assert counts_text(87, 88) == "87;88" and counts_text(120, 131) == "120..131"
    assert counts_text(3, 2) == ""


R_INTERVALS = pd.read_csv(Path(__file__).parent / "fixtures" / "published" / "intervals.csv")


@pytest.mark.parametrize(
    "row", list(R_INTERVALS.itertuples(index=False)), ids=lambda r: f"{r.k}/{r.n}"
)
def test_the_intervals_of_a_published_figure_are_rs(row):
    # R: prop.test(k, n, correct = FALSE) and binom.test(k, n) (fixtures/published/intervals.R)
    percent = f"{100 * row.k / row.n:.1f}"
    found = check_published(percent, int(row.n), level=float(row.level))
    k = found.counts.tolist().index(row.k)
    wilson = [found.wilson[0][k], found.wilson[1][k]]
    exact = [found.clopper_pearson[0][k], found.clopper_pearson[1][k]]
    np.testing.assert_allclose(wilson, [row.wilson_low, row.wilson_high], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(exact, [row.cp_low, row.cp_high], rtol=1e-10, atol=1e-15)


def test_published_figure_report():
    report = check_published("81.8", 55).report()
    assert "81.8% of n = 55 (rounded to 1 decimal): 1 count fits" in report
    assert "45   81.818%" in report and "69.7–89.8%" in report and "69.1–90.9%" in report
    bad = check_published("44.4%", 55)
    assert not bad.consistent and bad.nearest == (54,)
    assert bad.report() == (
        "44.4% cannot be a count out of n = 55: 24 of 55 is 43.6%, 25 of 55 is 45.5%.\n"
        "The nearest n that fits is 54 (24 of 54).\n"
    )
    assert check_published("20", 55, decimals=1).counts.tolist() == [11]


@pytest.mark.parametrize(
    ("value", "n", "message"),
    [("eighty", 55, "not a percentage"), ("181.8", 55, "not a percentage"), ("81.8", 0, "n = 0")],
)
def test_published_figure_bad_input(value, n, message):
    with pytest.raises(ConfigError, match=message):
        check_published(value, n)


def test_a_long_run_of_feasible_counts_is_shown_by_its_ends():
    found = check_published("44", 10000)  # 4350..4449 of 10000 round to 44%
    assert found.counts[[0, -1]].tolist() == [4350, 4449] and found.counts.size == 100
    lines = found.report().splitlines()
    assert len(lines) == 2 + 5 + 1 + 5 and "   ...  (90 more counts)" in lines
    assert lines[2].startswith("  4350") and lines[-1].startswith("  4449")
