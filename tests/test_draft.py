"""Codebooks drafted from labelled SPSS/Stata files and from CSV: roles, codes, routing, privacy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from prevalence.data.codebook import load_codebook
from prevalence.data.draft import draft_codebook, write_draft
from prevalence.data.ingest import ingest
from prevalence.data.io import read_responses
from prevalence.errors import PrevalenceError
from prevalence.stats.estimate import estimate_wave

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
BY = [["region"], ["role"], ["age_group"], ["region", "role"]]
LABELLED = ["2025-asia-pacific/responses.sav", "2021-africa/responses.dta"]


def prevalence_table(responses: Path, codebook: Path) -> pd.DataFrame:
    book = load_codebook(codebook)
    data = ingest(read_responses(responses), book, wave="w")
    table = estimate_wave(data.frame, book, wave="w", by=BY)
    column = {i.id: i.column for i in book.indicators.values()}
    # indicator ids differ between a draft and a hand-written codebook: compare by column
    for key in ("indicator", "denominator"):
        table[key] = table[key].map(lambda i: column.get(i, i))
    return table.sort_values(["domain", "domain_value", "indicator"], ignore_index=True)


@pytest.mark.parametrize("file", LABELLED)
def test_a_labelled_file_drafts_the_shipped_prevalence_table(file, tmp_path):
    responses = RAW / file
    out = write_draft(responses, tmp_path / "codebook.yaml")
    assert not out.todos
    drafted = prevalence_table(responses, tmp_path / "codebook.yaml")
    shipped = prevalence_table(responses, responses.parent / "codebook.yaml")
    pd.testing.assert_frame_equal(drafted, shipped)
    assert (drafted["denominator"] != "all").any() == file.endswith(".sav")


def test_labels_and_routing_of_the_spss_file():
    draft = draft_codebook(RAW / LABELLED[0])
    book = draft.codebook
    assert yaml.safe_load(draft.text) == book
    assert book["respondent_id"] == "resp_id" and book["drop"] == ["name", "comments"]
    assert list(book["domains"]) == ["region", "role", "age_group"]
    assert book["domains"]["age_group"] == {
        "column": "q2",
        "label": "Age group",
        "labels": {1: "under 45", 2: "45 and over"},
    }
    assert book["defaults"] == {
        "yes_codes": [1],
        "no_codes": [2],
        "missing_codes": [8, 9],
        "skip_codes": [7],
    }
    doxing = book["indicators"]["doxing"]
    assert doxing["question"] == "Doxing" and doxing["column"] == "q14c"
    assert doxing["denominator"] == "online_gender_based_violence"
    assert "q14c is 7 (not applicable) in exactly the 78 rows where q14 is not yes" in draft.text


def spss(tmp_path: Path, frame: pd.DataFrame, **meta) -> Path:
    import pyreadstat

    path = tmp_path / "responses.sav"
    pyreadstat.write_sav(frame, str(path), **meta)
    return path


def test_spss_user_missing_values_and_answer_labels(tmp_path):
    n = 40
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1, dtype=float),
            "chamber": rng.choice([1.0, 2.0, 99.0], n),
            "v1": rng.choice([1.0, 2.0, 3.0, 97.0, 98.0], n),
            "v2": rng.choice([0.0, 1.0], n),
            "v3": rng.choice([1.0, 2.0], n),
            "contact": [f"office {i}" for i in range(n)],
        }
    )
    yes_no = {1: "Yes,\n  several times", 2: "Yes, once", 3: "No, never", 97: "Not asked", 98: "DK"}
    path = spss(
        tmp_path,
        frame,
        column_labels=[
            "Case\nnumber",
            "Chamber",
            "Insulted in parliament",
            "Threatened",
            "Threats by e-mail or phone, or called names",
            "E-mail address",
        ],
        variable_value_labels={
            "chamber": {1: "Lower house", 2: "Upper house", 99: "Refused"},
            "v1": yes_no,
            "v2": {0: "no", 1: "yes"},
            "v3": {1: "Yes", 2: "No"},
        },
        missing_ranges={"v2": [9], "v1": [97, 98]},
    )
    draft = draft_codebook(path)
    book = draft.codebook
    assert yaml.safe_load(draft.text) == book  # labels on two lines are written on one
    assert book["respondent_id"] == "id"
    assert book["drop"] == ["contact"]  # by its label; a question about e-mail is not dropped
    assert book["indicators"]["threats_by_e_mail_or_phone"]["column"] == "v3"
    assert book["domains"]["chamber"] == {
        "column": "chamber",
        "label": "Chamber",
        "labels": {1: "Lower house", 2: "Upper house"},
        "missing_codes": [99],
    }
    v1 = book["indicators"]["insulted_in_parliament"]
    codes = {k: v1.get(k, book["defaults"][k]) for k in book["defaults"]}
    assert codes == {
        "yes_codes": [1, 2],
        "no_codes": [3],
        "missing_codes": [98],
        "skip_codes": [97],
    }
    v2 = book["indicators"]["threatened"]
    v2 = {k: v2.get(k, book["defaults"][k]) for k in book["defaults"]}
    assert v2 == {"yes_codes": [1], "no_codes": [0], "missing_codes": [9], "skip_codes": []}


def test_identifiers_and_free_text_are_dropped_and_never_printed(tmp_path):
    n = 30
    values = {
        "full_name": [f"Amina Diallo{'x' * (i % 3)} {chr(65 + i % 26)}" for i in range(n)],
        "contact": [f"mp{i}@parliament.example.org" for i in range(n)],
        "tel": [f"+41 22 919 {4150 + i}" for i in range(n)],
        "story": [f"She was followed home after the debate number {i} in town" for i in range(n)],
    }
    frame = pd.DataFrame(
        {
            "code": [f"X-{i:03d}" for i in range(n)],
            **values,
            "region": ["North", "South", "East"] * 10,
            "q1": [1, 2, 8] * 10,
        }
    )
    frame.to_csv(tmp_path / "r.csv", index=False)
    draft = draft_codebook(tmp_path / "r.csv")
    assert draft.codebook["respondent_id"] == "code"
    assert draft.codebook["drop"] == ["full_name", "contact", "tel", "story"]
    for column in values.values():
        for value in column:
            assert value not in draft.text
            assert value.split()[0] not in draft.text or value.startswith("She")
    assert "followed" not in draft.text and "parliament.example" not in draft.text
    assert draft.codebook["domains"] == {"region": {"column": "region"}}


def test_a_csv_draft_takes_codes_from_the_data_and_says_what_to_check(tmp_path):
    responses = ROOT / "tests" / "fixtures" / "tiny" / "responses.csv"
    draft = draft_codebook(responses)
    book = draft.codebook
    assert book["respondent_id"] == "resp_id" and book["drop"] == ["name", "comments"]
    assert list(book["domains"]) == ["region", "role", "age_group"]
    assert book["indicators"]["q4a"]["denominator"] == "q4"
    assert "TODO" in draft.text and any("convention" in t for t in draft.todos)
    for column in ("stratum", "psu", "weight", "fpc"):
        assert f"#   {column}: a design column?" in draft.text
    path = tmp_path / "codebook.yaml"
    path.write_text(draft.text)
    book = load_codebook(path)
    data = ingest(read_responses(responses), book, wave="tiny")
    assert data.log["rows"]["kept"] == 240


def test_text_answers_are_read_as_labels(tmp_path):
    frame = pd.DataFrame(
        {
            "rid": range(1, 13),
            "q1": ["Yes", "No", "Don't know", "Not applicable"] * 3,
        }
    )
    frame.to_csv(tmp_path / "r.csv", index=False)
    book = draft_codebook(tmp_path / "r.csv").codebook
    assert book["defaults"] == {
        "yes_codes": ["Yes"],
        "no_codes": ["No"],
        "missing_codes": ["Don't know"],
        "skip_codes": ["Not applicable"],
    }


def test_a_follow_up_whose_skips_do_not_match_gets_no_denominator(tmp_path):
    frame = pd.DataFrame(
        {
            "rid": range(1, 9),
            "q1": [1, 1, 2, 2, 1, 2, 1, 2],
            "q1a": [1, 2, 7, 7, 7, 7, 2, 1],  # row 5 skipped although q1 is yes; row 8 asked
        }
    )
    frame.to_csv(tmp_path / "r.csv", index=False)
    book = draft_codebook(tmp_path / "r.csv").codebook
    assert "denominator" not in book["indicators"]["q1a"]


def test_errors_name_the_file_and_the_fix(tmp_path):
    pd.DataFrame({"region": ["a", "b", "a"], "score": [5, 6, 7]}).to_csv(tmp_path / "a.csv")
    pd.DataFrame({"region": list("aabb"), "q1": [1, 2, 1, 2]}).to_csv(
        tmp_path / "b.csv", index=False
    )
    with pytest.raises(PrevalenceError, match="found no yes/no item"):
        draft_codebook(tmp_path / "a.csv")  # the index column is the id; no item is yes/no
    with pytest.raises(PrevalenceError, match="none can be the respondent id"):
        draft_codebook(tmp_path / "b.csv")
    (tmp_path / "codebook.yaml").write_text("kept: true\n")
    with pytest.raises(PrevalenceError, match="never overwrites"):
        write_draft(RAW / LABELLED[1], tmp_path / "codebook.yaml")
    assert (tmp_path / "codebook.yaml").read_text() == "kept: true\n"


def test_a_csv_draft_gives_the_shipped_numbers_with_codes_for_the_labels_it_cannot_know(tmp_path):
    responses = RAW / "2016-global" / "responses.csv"
    draft = write_draft(responses, tmp_path / "codebook.yaml")
    assert any("age_group: codes [1, 2] have no labels" in todo for todo in draft.todos)
    drafted = prevalence_table(responses, tmp_path / "codebook.yaml")
    shipped = prevalence_table(responses, responses.parent / "codebook.yaml")
    age = drafted["domain"] == "age_group"
    labels = {"1": "under 45", "2": "45 and over"}  # what the shipped codebook says of the codes
    drafted.loc[age, "domain_value"] = drafted.loc[age, "domain_value"].map(labels)
    key = ["domain", "domain_value", "indicator"]
    pd.testing.assert_frame_equal(
        drafted.sort_values(key, ignore_index=True), shipped.sort_values(key, ignore_index=True)
    )
