"""Categorical questions: each category's share equals R's ``svymean`` on a factor.

A ``type: categorical`` indicator becomes one binary indicator per category
(``stype_nr=E``: 1 for E, 0 for H or M, missing where the answer is), estimated by the
same machinery as every indicator. References: ``tests/fixtures/oracle_valid/
categorical.csv``, made by ``categorical.R`` beside it::

    sub <- subset(design, !is.na(stype_nr)); svymean(~stype_nr, sub)        # overall
    svymean(~stype_nr, subset(sub, awards == v))                              # by domain
    svyciprop(~I(stype_nr == 'E'), sub, method = m)                           # intervals

under SRS, weights, strata + fpc, clusters + fpc, paired PSUs, JK1, BRR, Fay and
bootstrap replicates, for ``stype_nr`` (asked of all) and ``stype_of_sch_wide`` (the
same question asked only of the schools with ``sch_wide = 1``: "of whom").
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from oracle_reference import VALID, VALID_DESIGNS

import prevalence as pv
from prevalence.data.codebook import MULTIPLE_ANSWERS, parse_codebook
from prevalence.errors import ConfigError
from prevalence.publication.disclosure import disclose

DESIGNS = {
    # a design-based simple random sample: R's svydesign(id=~1) (without a design the
    # project gives the binomial variance of an unweighted sample, tested elsewhere)
    "srs": ("strat.csv", {"weight": "unit_weight"}),
    "weights": ("strat.csv", {"weight": "pw"}),
    **{name: VALID_DESIGNS[name] for name in VALID_DESIGNS if not name.endswith("_mse")},
}
#: R's svyciprop method -> the project's ci_method
METHODS = {"xlogit": "xlogit", "asin": "asin", "beta": "korn-graubard", "logit": "logit"}
CATEGORIES = {c: {"codes": [c], "label": f"type {c}"} for c in "EHM"}
CODEBOOK = {
    "respondent_id": "snum",
    "skip_violations": "exclude",
    "domains": {"awards": {"column": "awards"}},
    "indicators": {
        "sch_wide": {"column": "sch_wide", "yes_codes": [1], "no_codes": [0]},
        "stype_nr": {"type": "categorical", "column": "stype_nr", "categories": CATEGORIES},
        "stype_of_sch_wide": {
            "type": "categorical",
            "column": "stype_asked",
            "denominator": "sch_wide",
            "categories": CATEGORIES,
        },
    },
}


@cache
def _table(design: str, method: str, folder: Path) -> pd.DataFrame:
    data_file, spec = DESIGNS[design]
    wave = folder / design
    if not wave.exists():
        wave.mkdir(parents=True)
        frame = pd.read_csv(VALID / "data" / data_file).copy()
        frame = frame.assign(stype_asked=frame["stype_nr"], unit_weight=1.0)
        frame.to_csv(wave / "responses.csv", index=False)
        (wave / "codebook.yaml").write_text(yaml.safe_dump(CODEBOOK))
    w = pv.read_wave(wave / "responses.csv", wave / "codebook.yaml", design=spec)
    return pv.prevalence(w.frame, w.indicators, by=["awards"], design=w.design, ci_method=method)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("categorical")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    ref = pd.read_csv(VALID / "categorical.csv", dtype={"domain_value": str})
    ref["indicator"] = ref["question"] + "=" + ref["category"]
    return ref


def _joined(reference, folder, design, r_method):
    ours = _table(design, METHODS[r_method], folder)
    ref = reference[(reference.design == design) & (reference.ci_method == r_method)]
    both = ref.merge(ours, on=["domain", "domain_value", "indicator"], suffixes=("_r", ""))
    assert len(both) == len(ref) == 18, "every category overall and in both awards values"
    return both


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("design", list(DESIGNS))
def test_category_shares_equal_svymean_on_a_factor(reference, folder, design):
    both = _joined(reference, folder, design, "xlogit")
    np.testing.assert_allclose(both["estimate"], both["estimate_r"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=1e-8, atol=1e-12)
    assert (both["n"] == both["n_r"]).all() and (both["cases"] == both["cases_r"]).all()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("r_method", list(METHODS))
@pytest.mark.parametrize("design", list(DESIGNS))
def test_category_intervals_equal_svyciprop(reference, folder, design, r_method):
    both = _joined(reference, folder, design, r_method)
    rows = both[both["ci_low_r"].notna()]
    assert len(rows) > 0
    for bound in ("ci_low", "ci_high"):
        np.testing.assert_allclose(rows[bound], rows[f"{bound}_r"], rtol=1e-7, atol=1e-9)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("design", list(DESIGNS))
def test_categories_sum_to_one(folder, design):
    table = _table(design, "wilson", folder)
    table = table[table.indicator.str.contains("=")]
    question = table.indicator.str.split("=").str[0]
    sums = table.groupby([table.domain, table.domain_value, question])["estimate"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=0, atol=1e-12)


def _perpetrator_book(categories: dict[str, list[int]]):
    question = {"type": "categorical", "column": "q"}
    question["categories"] = {c: {"codes": codes} for c, codes in categories.items()}
    return parse_codebook({"respondent_id": "id", "indicators": {"perpetrator": question}})


@settings(max_examples=40, deadline=None)
@given(
    answers=st.lists(st.sampled_from([1, 2, 3, 4, 8, 9]), min_size=1, max_size=40),
    weights=st.lists(st.floats(0.5, 20), min_size=40, max_size=40),
)
def test_categories_sum_to_one_property(answers, weights):
    """Whatever the answers and weights, the valid answers' shares sum to 1."""
    book = _perpetrator_book({"colleague": [1], "constituent": [2], "stranger": [3, 4]})
    q = np.asarray(answers)
    frame = pd.DataFrame(
        {
            ind.id: np.where(
                np.isin(q, ind.yes_codes), 1.0, np.where(np.isin(q, ind.no_codes), 0.0, np.nan)
            )
            for ind in book.indicators.values()
        }
    ).assign(w=weights[: len(q)])
    assume(frame.iloc[:, 0].notna().sum() >= 2)  # a variance needs two valid answers
    table = pv.prevalence(frame, list(book.categoricals["perpetrator"]), design={"weight": "w"})
    assert table["estimate"].sum() == pytest.approx(1.0, abs=1e-12)


def test_a_categorical_becomes_one_indicator_per_category():
    book = parse_codebook(CODEBOOK)
    assert book.categoricals["stype_of_sch_wide"] == tuple(f"stype_of_sch_wide={c}" for c in "EHM")
    h = book.indicators["stype_of_sch_wide=H"]
    assert (h.yes_codes, h.no_codes, h.denominator, h.label) == (
        ("H",),
        ("E", "M"),
        "sch_wide",
        "stype_of_sch_wide: type H",
    )


def test_a_category_is_named_in_its_finding_by_the_question_or_by_itself():
    categories = {
        "colleague": {"codes": [1], "label": "A fellow parliamentarian"},
        "stranger": {"codes": [2], "label": "A stranger online", "finding": "did not know them"},
    }
    spec = {"type": "categorical", "column": "q5", "label": "Perpetrator"}
    raw = {"respondent_id": "id", "indicators": {"who": {**spec, "categories": categories}}}
    book = parse_codebook(raw)
    assert book.categorical_labels == {"who": "Perpetrator"}
    colleague, stranger = (book.indicators[f"who={c}"] for c in categories)
    assert colleague.predicate == "named a fellow parliamentarian as the perpetrator"
    assert stranger.predicate == "did not know them"
    assert stranger.category_label == "A stranger online"
    raw["indicators"]["who"]["finding"] = "said {category} was behind it"
    colleague = parse_codebook(raw).indicators["who=colleague"]
    assert colleague.predicate == "said a fellow parliamentarian was behind it"


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"categories": {"a": {"codes": [1]}, "b": {"codes": [1]}}}, "code 1 is listed"),
        (
            {"finding": "named it", "categories": {"a": {"codes": [1]}, "b": {"codes": [2]}}},
            "must name the category as {category}",
        ),
        ({"yes_codes": [1], "categories": {"a": {"codes": [1]}, "b": {"codes": [2]}}}, "yes_codes"),
        ({"categories": {"a": {"codes": [1]}}}, "categories"),
    ],
)
def test_bad_categorical_gets_one_clear_message(spec, words):
    raw = {
        "respondent_id": "id",
        "indicators": {"q": {"type": "categorical", "column": "q", **spec}},
    }
    with pytest.raises(ConfigError, match=words):
        parse_codebook(raw, path="codebook.yaml")


def _perpetrator_table(answers: list[int]) -> pd.DataFrame:
    book = _perpetrator_book({c: [i + 1] for i, c in enumerate("abcd")})
    q = np.asarray(answers)
    frame = pd.DataFrame(
        {ind.id: np.where(np.isin(q, ind.yes_codes), 1.0, 0.0) for ind in book.indicators.values()}
    )
    return pv.prevalence(frame, list(book.categoricals["perpetrator"]))


def test_a_hidden_category_is_never_the_only_one_hidden():
    """One category with 1 case (k = 3): hiding it alone would leave it as n minus the others."""
    table = disclose(_perpetrator_table([1] * 40 + [2] * 12 + [3] * 30 + [4]))
    hidden = dict(zip(table["indicator"], table["suppressed"], strict=True))
    assert hidden == {
        "perpetrator=a": False,
        "perpetrator=b": True,  # the fewest cases among those with at least k
        "perpetrator=c": False,
        "perpetrator=d": True,
    }
    assert table.loc[table.indicator == "perpetrator=b", "flag"].item() == "secondary suppression"
    assert not table["n_suppressed"].any()


def test_categories_hidden_in_pairs_are_left_alone():
    table = disclose(_perpetrator_table([1] * 40 + [2] * 30 + [3] + [4]))
    assert table["suppressed"].tolist() == [False, False, True, True]
    assert "secondary suppression" not in set(table["flag"])


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_answers_outside_the_denominator_are_counted_once_per_question(folder, caplog):
    _table("strat", "wilson", folder)  # writes the wave
    wave = folder / "strat"
    with caplog.at_level("WARNING"):
        w = pv.read_wave(wave / "responses.csv", wave / "codebook.yaml")
    # the 48 schools with sch_wide = 0 answered the follow-up; R: sum(strat$sch_wide == 0)
    assert w.log["skip_violations"]["by_indicator"] == {"stype_of_sch_wide": 48}
    assert w.log["skip_violations"]["answers_excluded"] == 48
    assert sum("stype_of_sch_wide" in r.getMessage() for r in caplog.records) == 1


WHERE = {
    "respondent_id": "id",
    "indicators": {
        "online_gbv": {"column": "q1"},
        "where_online": {"column": "q2", "denominator": "online_gbv"},
        "where_parliament": {"column": "q3", "denominator": "online_gbv"},
    },
    "groups": {
        "where": {"label": "Where it happened", "indicators": ["where_online", "where_parliament"]}
    },
}


def test_check_all_that_apply_group_shares_its_denominator():
    group = parse_codebook(WHERE).groups["where"]
    assert (group.label, group.indicators, group.denominator) == (
        "Where it happened",
        ("where_online", "where_parliament"),
        "online_gbv",
    )
    assert "More than one answer was possible" in MULTIPLE_ANSWERS


@pytest.mark.parametrize(
    ("members", "words"),
    [
        (["where_online", "online_gbv"], "different denominators"),
        (["where_online", "where_elsewhere"], "not a binary indicator"),
        (["where_online"], "groups"),
    ],
)
def test_bad_group_gets_one_clear_message(members, words):
    raw = {**WHERE, "groups": {"where": {"indicators": members}}}
    with pytest.raises(ConfigError, match=words):
        parse_codebook(raw, path="codebook.yaml")


def test_of_whom_chart_of_a_group_says_more_than_one_answer_was_possible():
    from prevalence.publication.charts import OfWhomOptions, select_of_whom
    from prevalence.workflow.steps import _group_notes

    book = parse_codebook(WHERE)
    assert _group_notes(book, "online_gbv") == (MULTIPLE_ANSWERS,)
    assert _group_notes(book, "where_online") == ()
    answers = {"online_gbv": [1, 1, 1, 0], "where_online": [1, 0, 1, np.nan]}
    frame = pd.DataFrame({**answers, "where_parliament": [1, 1, 0, np.nan]})
    table = pv.prevalence(frame, {i.id: i.denominator for i in book.indicators.values()})
    options = OfWhomOptions(
        wave="",
        wave_label="Test",
        labels=book.labels(),
        parent="online_gbv",
        notes=_group_notes(book, "online_gbv"),
    )
    chart = select_of_whom(table, options)
    assert MULTIPLE_ANSWERS in chart.footer
    # the shares of the group's answers are not a whole: here they sum to more than 1
    assert table.loc[table.denominator == "online_gbv", "estimate"].sum() > 1
