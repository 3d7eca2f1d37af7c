import pandas as pd
import pytest

from prevalence.errors import ConfigError
from prevalence.reproduce import mismatch_message, parse_targets, reproduce, round_half_up


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
