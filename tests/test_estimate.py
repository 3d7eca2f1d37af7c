import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from prevalence.contract import COLUMNS
from prevalence.data.codebook import parse_codebook
from prevalence.data.ingest import ingest
from prevalence.data.io import read_responses
from prevalence.errors import ConfigError
from prevalence.stats.estimate import classical_proportions, estimate_wave, partition


@pytest.fixture
def wave(tmp_path, codebook_dict, responses_frame):
    path = tmp_path / "r.csv"
    responses_frame.to_csv(path, index=False)
    book = parse_codebook(codebook_dict)
    return ingest(read_responses(path), book, wave="w").frame, book


def test_table_has_the_contract_columns_and_hand_counts(wave):
    frame, book = wave
    table = estimate_wave(frame, book, wave="w", by=[["region"], ["region", "role"]])
    assert list(table.columns) == COLUMNS
    cell = table.set_index(["domain", "domain_value", "indicator"])
    overall = cell.loc[("overall", "All", "psychological")]
    assert (overall.n, overall.cases, overall.estimate) == (8, 5, 5 / 8)
    assert overall.denominator == "all" and overall.df == np.inf and overall.deff == 1.0
    # doxing among those with online = yes: rows 1, 3, 4, 9 answered (3 yes), row 6 refused
    doxing = cell.loc[("overall", "All", "doxing")]
    assert (doxing.n, doxing.cases, doxing.denominator) == (4, 3, "online")
    south = cell.loc[("region", "South", "psychological")]
    assert (south.n, south.cases) == (2, 1)
    crossing = cell.loc[("region+role", "South+staff", "psychological")]
    assert (crossing.n, crossing.cases) == (2, 1)
    assert (table["suppressed"] == (table["n"] == 0)).all()
    low, high = proportion_confint(5, 8, alpha=0.05, method="wilson")
    assert overall.ci_low == pytest.approx(low, abs=1e-12)
    assert overall.ci_high == pytest.approx(high, abs=1e-12)


def test_crossings_keep_observed_combinations_in_category_order(wave):
    frame, _ = wave
    part = partition(frame, ["region", "role"])
    assert part.name == "region+role"
    assert part.values == [
        "East+MP",
        "East+staff",
        "North+MP",
        "North+staff",
        "South+MP",
        "South+staff",
    ]
    assert (part.codes >= 0).all()


def test_empty_domain_value_is_a_suppressed_row(wave):
    frame, book = wave
    frame["role"] = frame["role"].cat.add_categories(["clerk"])
    table = estimate_wave(frame, book, wave="w", by=[["role"]])
    clerk = table[table["domain_value"] == "clerk"]
    assert len(clerk) == 3
    assert (clerk["n"] == 0).all() and clerk["suppressed"].all()
    assert (clerk["flag"] == "no respondents").all()


@pytest.mark.parametrize(
    "method", ["wald", "wilson", "clopper-pearson", "jeffreys", "agresti-coull"]
)
def test_classical_intervals_equal_statsmodels_at_every_count(method):
    n = 12
    y = np.concatenate([np.r_[np.ones(x), np.zeros(n - x)] for x in range(n + 1)])[:, None]
    codes = np.repeat(np.arange(n + 1), n)
    res = classical_proportions(y, codes, n + 1)
    from prevalence.stats.intervals import confint

    ci = confint(method, res["estimate"], res["se"], res["n"], res["df"], 0.95)
    sm = {"wald": "normal", "clopper-pearson": "beta", "agresti-coull": "agresti_coull"}
    low, high = proportion_confint(np.arange(n + 1), n, alpha=0.05, method=sm.get(method, method))
    if method == "jeffreys":  # Brown, Cai & DasGupta (2001): the bound at 0 or n is 0 or 1
        low[0], high[-1] = 0.0, 1.0
    np.testing.assert_allclose(ci.low[0], np.clip(low, 0, 1), atol=1e-12)
    np.testing.assert_allclose(ci.high[0], np.clip(high, 0, 1), atol=1e-12)
    assert not np.isnan(ci.low).any() and not np.isnan(ci.high).any()


def test_unknown_domain_and_method(wave):
    frame, book = wave
    with pytest.raises(ConfigError, match="domain 'age_group'"):
        estimate_wave(frame, book, wave="w", by=[["age_group"]])
    with pytest.raises(ConfigError, match="wilson"):
        estimate_wave(frame, book, wave="w", ci_method="Wilson")


def test_row_order_does_not_change_the_table(wave):
    frame, book = wave
    shuffled = frame.sample(frac=1, random_state=3).reset_index(drop=True)
    a = estimate_wave(frame, book, wave="w", by=[["region"], ["role"]])
    b = estimate_wave(shuffled, book, wave="w", by=[["region"], ["role"]])
    pd.testing.assert_frame_equal(a, b)
