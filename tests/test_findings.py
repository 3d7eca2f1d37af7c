"""Key findings in words (prevalence.publication.findings): the denominator always stated, numbers as the
tables write them, no number for a suppressed cell."""

from __future__ import annotations

import pandas as pd
import pytest

from prevalence.config import check_populations, parse_config
from prevalence.data.codebook import parse_codebook
from prevalence.errors import ConfigError
from prevalence.publication.findings import COLUMNS, findings_markdown, key_findings
from prevalence.publication.tables import TableStyle

BOOK = {
    "respondent_id": "id",
    "respondents": "women MPs and staff",
    "domains": {
        "role": {"column": "role", "nouns": {"MP": "women MPs"}},
        "region": {"column": "region", "label": "region"},
    },
    "indicators": {
        "online": {
            "label": "Online gender-based violence",
            "column": "q1",
            "finding": "had experienced online gender-based violence",
        },
        "hate": {
            "label": "Online hate speech",
            "column": "q2",
            "denominator": "online",
            "finding": "had faced online hate speech",
        },
        "doxing": {"label": "Doxing", "column": "q3", "denominator": "online"},
    },
}


def _row(domain, value, indicator, n, cases, est, lo, hi, *, flag="", hidden=False):
    return {
        "wave": "w",
        "domain": domain,
        "domain_value": value,
        "indicator": indicator,
        "denominator": "all" if indicator == "online" else "online",
        "n": n,
        "cases": cases,
        "estimate": est,
        "ci_low": lo,
        "ci_high": hi,
        "level": 0.95,
        "suppressed": bool(flag),
        "flag": flag,
        "n_suppressed": hidden,
    }


def _table():
    nan = float("nan")
    return pd.DataFrame(
        [
            _row("overall", "All", "online", 146, 72, 0.4932, 0.4133, 0.5734),
            _row("overall", "All", "hate", 72, 26, 0.3611, 0.2637, 0.4824),
            _row("overall", "All", "doxing", 70, 10, 0.1429, 0.0795, 0.2434),
            _row("role", "MP", "online", 88, 53, 0.6023, 0.4978, 0.6982),
            _row("role", "MP", "hate", 52, 20, 0.3846, 0.2647, 0.5204),
            _row("role", "MP", "doxing", 51, nan, nan, nan, nan, flag="secondary suppression"),
            _row("role", "staff", "online", 58, 19, 0.3276, 0.2208, 0.4558),
            _row("role", "staff", "hate", 19, nan, nan, nan, nan, flag="sample size n < 30"),
            _row("role", "staff", "doxing", 19, nan, nan, nan, nan, flag="sample size n < 30"),
            _row("region", "North", "online", 40, 20, 0.5, 0.35, 0.65),
            _row("region", "North", "hate", 20, 5, 0.25, 0.1, 0.45, hidden=True),
            _row("region", "North", "doxing", 20, 5, 0.25, 0.1, 0.45),
            _row("region", "South", "online", 106, 52, 0.4906, 0.3967, 0.5851),
        ]
    )


@pytest.fixture
def book():
    return parse_codebook(BOOK, path="codebook.yaml")


def test_each_sentence_states_its_denominator(book):
    found = key_findings(_table(), {"w": book}, populations=[("role", "MP"), ("role", "staff")])
    assert list(found.columns) == list(COLUMNS)
    sentences = found.set_index(["domain_value", "indicator"])["sentence"].to_dict()
    assert sentences["MP", "online"] == (
        "60% (95% CI 50–70%) of the 88 women MPs who answered had experienced online "
        "gender-based violence."
    )
    # an "of whom" figure names its parent and the parent's count, and who answered
    assert sentences["MP", "hate"] == (
        "Of the 53 women MPs who had experienced online gender-based violence, 52 answered: "
        "38% (95% CI 26–52%) had faced online hate speech."
    )
    assert sentences["All", "hate"] == (
        "Of the 72 women MPs and staff who had experienced online gender-based violence, "
        "36% (95% CI 26–48%) had faced online hate speech."
    )
    # without a finding phrase: "reported" and the label
    assert sentences["All", "doxing"].endswith(" reported doxing.")
    # a value without a noun: the respondents and the value
    assert sentences["staff", "online"].startswith(
        "33% (95% CI 22–46%) of the 58 women MPs and staff (role: staff) who answered"
    )


def test_a_suppressed_cell_gets_no_number_only_the_reason(book):
    found = key_findings(_table(), {"w": book}, populations=[("role", "MP"), ("role", "staff")])
    staff = found[(found["domain_value"] == "staff") & (found["indicator"] == "hate")].iloc[0]
    assert staff["sentence"] == (
        "Of the women MPs and staff (role: staff) who had experienced online gender-based "
        "violence, the share who had faced online hate speech: too few respondents to report "
        "(sample size n < 30)."
    )
    assert pd.isna(staff["estimate"]) and pd.isna(staff["ci_low"]) and pd.isna(staff["ci_high"])
    secondary = found[(found["domain_value"] == "MP") & (found["indicator"] == "doxing")].iloc[0]
    assert secondary["sentence"] == (
        "Of the women MPs who had experienced online gender-based violence, the share who "
        "reported doxing is withheld so that a smaller group cannot be worked out (secondary "
        "suppression)."
    )
    assert not any(ch.isdigit() for ch in secondary["sentence"])


def test_a_hidden_count_is_not_written(book):
    found = key_findings(_table(), {"w": book}, populations=[("region", "North")])
    north = found[found["domain_value"] == "North"].set_index("indicator")
    # the parent's count hides nothing here, but the child's n is hidden: not in the sentence
    assert north.loc["hate", "sentence"] == (
        "Of the 20 women MPs and staff (region: North) who had experienced online gender-based "
        "violence, 25% (95% CI 10–45%) had faced online hate speech."
    )
    assert pd.isna(north.loc["hate", "n"])


def test_numbers_follow_the_table_style(book):
    style = TableStyle(decimals=1, decimal_mark=",", dash="-")
    found = key_findings(_table(), {"w": book}, style=style)
    assert found["sentence"].iloc[0].startswith("49,3% (95% CI 41,3-57,3%) of the 146 ")
    proportions = key_findings(_table(), {"w": book}, style=TableStyle(percent=False))
    assert proportions["sentence"].iloc[0].startswith("0.49 (95% CI 0.41–0.57) of the 146 ")


def test_a_population_that_is_the_whole_wave_is_not_repeated(book):
    table = _table()
    only_mps = table[table["domain_value"] != "staff"]
    found = key_findings(only_mps, {"w": book}, populations=[("role", "MP"), ("age", "old")])
    assert sorted(set(found["domain"])) == ["overall"]


def test_the_markdown_has_a_section_per_wave_and_population(book):
    found = key_findings(_table(), {"w": book}, populations=[("role", "MP")])
    text = findings_markdown(found, {"w": book}, {"w": "Wave 2025"})
    assert text.startswith("# Key findings\n\n## Wave 2025\n\n### Women MPs and staff\n\n- 49% ")
    assert "\n### Women MPs\n\n- 60% (95% CI 50–70%) of the 88 women MPs" in text


def test_populations_are_checked(tmp_path, book):
    raw = {
        "waves": {"w": {"responses": "r.csv", "codebook": "c.yaml"}},
        "estimates": {"by": ["role"]},
        "figures": {"populations": [{"domain": "role", "value": "MP"}]},
    }
    config = parse_config(raw, root=tmp_path, check_files=False)
    assert config.populations == (("role", "MP"),)
    check_populations(config, {"w": book})
    raw["figures"]["populations"].append({"domain": "role", "value": "MP"})
    with pytest.raises(ConfigError, match="role = MP is listed twice"):
        parse_config(raw, root=tmp_path, check_files=False)
    raw["figures"]["populations"] = [{"domain": "chamber", "value": "upper"}]
    config = parse_config(raw, root=tmp_path, check_files=False)
    with pytest.raises(ConfigError, match="'chamber' is not a domain of any wave's codebook"):
        check_populations(config, {"w": book})


def test_a_standards_use_with_caution_mark_is_worded_in_the_sentence(book):
    table = _table()
    dhs = "25-49 unweighted cases: use with caution"
    statcan = "CV 25% to under 35%: use with caution (E)"
    table["caution"] = False
    mp_online = (table["domain_value"] == "MP") & (table["indicator"] == "online")
    mp_hate = (table["domain_value"] == "MP") & (table["indicator"] == "hate")
    table.loc[mp_online, ["caution", "flag"]] = [True, dhs]
    table.loc[mp_hate, ["caution", "flag"]] = [True, statcan]
    found = key_findings(table, {"w": book}, populations=[("role", "MP")])
    sentences = found.set_index(["domain_value", "indicator"])["sentence"].to_dict()
    assert sentences["MP", "online"] == (
        f"60% (95% CI 50–70%) [{dhs}] of the 88 women MPs who answered had experienced online "
        "gender-based violence."
    )
    assert sentences["MP", "hate"].endswith(
        f"38% (95% CI 26–52%) [{statcan}] had faced online hate speech."
    )
    # cells without the mark read as before
    assert "caution" not in sentences["All", "online"]
