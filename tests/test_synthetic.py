"""The embedded synthetic data: determinism, committed files, published targets, tiny survey."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

from prevalence.datasets import synthetic

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
TARGETS = ROOT / "data" / "published" / "targets.yaml"
TINY = ROOT / "tests" / "fixtures" / "tiny"
WAVES = list(synthetic.WAVES)
ANSWER_CODES = {1, 2, 7, 8, 9}


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def read_responses(folder: Path, labels: bool = False) -> pd.DataFrame:
    """Read the responses file of a wave folder with plain library readers."""
    (path,) = sorted(folder.glob("responses.*"))
    if path.suffix == ".csv":
        return pd.read_csv(path, encoding="utf-8")
    if path.suffix == ".xlsx":
        return pd.read_excel(path, sheet_name="responses")
    if path.suffix == ".dta":
        return pyreadstat.read_dta(path, apply_value_formats=labels)[0]
    if path.suffix == ".sav":
        return pyreadstat.read_sav(path, apply_value_formats=labels)[0]
    raise AssertionError(f"unexpected responses file {path}")


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """Integral numbers as int64, text as Python str with empty cells as ''."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s):
            values = s.to_numpy(dtype=float)
            if np.all(np.isfinite(values)) and np.all(values == np.round(values)):
                out[col] = values.astype(np.int64)
            else:
                out[col] = values
        else:
            out[col] = np.array(["" if pd.isna(v) else str(v) for v in s], dtype=object)
    return pd.DataFrame(out)


def domain_values(frame: pd.DataFrame, spec: dict) -> np.ndarray:
    """The label of each row for a codebook domain entry (text columns are their own label)."""
    values = frame[spec["column"]].to_numpy()
    labels = spec.get("labels")
    if labels is None:
        return values.astype(str)
    return np.array([labels.get(int(v), "") for v in values], dtype=object)


def question_columns(book: dict) -> list[str]:
    return [entry["column"] for entry in book["indicators"].values()]


def reproduce(frame: pd.DataFrame, book: dict, target: dict) -> tuple[int, int]:
    """(yes, yes + no) for a target by the published estimator, in plain numpy."""
    yes_codes = book["defaults"]["yes_codes"]
    valid_codes = yes_codes + book["defaults"]["no_codes"]
    rows = np.ones(len(frame), dtype=bool)
    if target["domain"] != "overall":
        rows &= domain_values(frame, book["domains"][target["domain"]]) == target["domain_value"]
    if target["denominator"] != "all":
        parent = book["indicators"][target["denominator"]]["column"]
        rows &= np.isin(frame[parent].to_numpy(), yes_codes)
    codes = frame[book["indicators"][target["indicator"]]["column"]].to_numpy()[rows]
    return int(np.isin(codes, yes_codes).sum()), int(np.isin(codes, valid_codes).sum())


def matches(yes: int, valid: int, target: dict) -> bool:
    half = 0.5 * 10.0 ** -target["decimals"]
    return valid > 0 and abs(100.0 * yes / valid - target["value"]) < half


# --------------------------------------------------------------------------- generator


@pytest.mark.parametrize("wave", WAVES)
def test_generate_wave_is_deterministic(wave):
    pd.testing.assert_frame_equal(synthetic.generate_wave(wave), synthetic.generate_wave(wave))


def test_generate_tiny_is_deterministic():
    pd.testing.assert_frame_equal(synthetic.generate_tiny(), synthetic.generate_tiny())


@pytest.mark.parametrize("wave", WAVES)
def test_written_bytes_are_reproducible(wave, tmp_path):
    first = synthetic.write_wave(wave, tmp_path / "a")
    second = synthetic.write_wave(wave, tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


@pytest.mark.parametrize("wave", WAVES)
def test_spec_counts_hit_published_rounding(wave):
    synthetic.check_spec(synthetic.WAVES[wave])


def test_check_spec_rejects_a_miss():
    spec = synthetic.WAVES["2016-global"]
    answers = {"MP": dict(spec.answers["MP"])}
    answers["MP"]["psychological"] = synthetic.Answers(44, 11)  # 80.0%, published 81.8%
    bad = dataclasses.replace(spec, answers=answers)
    with pytest.raises(ValueError, match="psychological"):
        synthetic.check_spec(bad)


def test_targets_file_equals_spec():
    assert load_yaml(TARGETS) == synthetic.published_targets()


# --------------------------------------------------------------------------- committed files


@pytest.mark.parametrize("wave", WAVES)
def test_committed_files_equal_fresh_generation(wave):
    folder = RAW / wave
    fresh = synthetic.generate_wave(wave)
    committed = read_responses(folder)
    assert list(committed.columns) == list(fresh.columns)
    pd.testing.assert_frame_equal(normalize(committed), normalize(fresh))
    # text files and codebooks are byte for byte what the generator writes
    assert (folder / "codebook.yaml").read_text(encoding="utf-8") == synthetic._yaml_text(
        synthetic.codebook(wave), synthetic._codebook_header(synthetic.WAVES[wave])
    )
    assert load_yaml(folder / "codebook.yaml") == synthetic.codebook(wave)


@pytest.mark.parametrize("wave", WAVES)
def test_committed_labels_decode_like_the_codebook(wave):
    spec = synthetic.WAVES[wave]
    folder = RAW / wave
    book = load_yaml(folder / "codebook.yaml")
    fresh = synthetic.generate_wave(wave)
    decoded = read_responses(folder, labels=True)
    for name in ("region", "role", "age_group"):
        entry = book["domains"][name]
        expected = domain_values(fresh, entry)
        assert "" not in set(expected), name  # every code has a label
        if spec.labelled:  # the file's own value labels give the codebook's labels
            got = decoded[entry["column"]].astype(str).to_numpy()
            assert (got == expected).all(), name
    assert set(domain_values(fresh, book["domains"]["region"])) == set(spec.regions)
    assert set(domain_values(fresh, book["domains"]["role"])) == set(spec.cells)
    if spec.labelled:
        reader = pyreadstat.read_dta if spec.fmt == "dta" else pyreadstat.read_sav
        _, meta = reader(next(folder.glob("responses.*")), metadataonly=True)
        for item in spec.items:
            assert meta.variable_value_labels[item.column] == synthetic.ANSWER_LABELS


@pytest.mark.parametrize("wave", WAVES)
def test_codebook_shape(wave):
    book = load_yaml(RAW / wave / "codebook.yaml")
    assert book["wave"] == wave
    assert set(book["domains"]) >= {"region", "role", "age_group"}
    assert set(book["defaults"]) == {"yes_codes", "no_codes", "missing_codes", "skip_codes"}
    assert book["drop"] == ["name", "comments"]
    for entry in book["domains"].values():
        for code, label in entry.get("labels", {}).items():
            assert isinstance(code, int) and isinstance(label, str)
    for entry in book["indicators"].values():
        if entry.get("type") == "categorical":  # a phrase naming each category
            assert set(entry) == {*BINARY_KEYS, "type", "categories"}
            assert "{category}" in entry["finding"]
        else:
            assert set(entry) <= BINARY_KEYS
            assert entry["finding"].startswith("had ")  # the end of a sentence about respondents
        if "denominator" in entry:
            assert entry["denominator"] in book["indicators"]
    for group in book.get("groups", {}).values():
        parents = {book["indicators"][i]["denominator"] for i in group["indicators"]}
        assert len(parents) == 1  # a "check all that apply" question shares its denominator


BINARY_KEYS = {"label", "column", "question", "denominator", "finding"}


def category_codes(entry: dict) -> set[int]:
    """The answer codes of a question: its categories' and 7, 8, 9, or the yes/no ones."""
    if entry.get("type") != "categorical":
        return ANSWER_CODES
    return {c for cat in entry["categories"].values() for c in cat["codes"]} | {7, 8, 9}


@pytest.mark.parametrize("wave", WAVES)
def test_ids_unique_and_codes_valid(wave):
    book = load_yaml(RAW / wave / "codebook.yaml")
    frame = read_responses(RAW / wave)
    assert frame[book["respondent_id"]].is_unique
    assert frame["name"].str.startswith("Respondent ").all()
    for entry in book["indicators"].values():
        col = entry["column"]
        assert set(np.unique(frame[col].to_numpy())) <= category_codes(entry), col


@pytest.mark.parametrize("wave", WAVES)
def test_skip_logic(wave):
    book = load_yaml(RAW / wave / "codebook.yaml")
    frame = read_responses(RAW / wave)
    for entry in book["indicators"].values():
        codes = frame[entry["column"]].to_numpy()
        if "denominator" not in entry:
            assert not np.any(codes == 7), entry["column"]
            continue
        parent = frame[book["indicators"][entry["denominator"]]["column"]].to_numpy()
        assert np.array_equal(codes == 7, parent != 1), entry["column"]


def test_a_wave_asks_a_single_choice_and_a_check_all_that_apply_question():
    """2018-europe: who was behind the sexist attacks online, where the violence happened."""
    spec = synthetic.WAVES["2018-europe"]
    frame = synthetic.generate_wave("2018-europe")
    (choice,) = spec.choices
    asked = frame["q04"] == 1
    for role, counts in choice.answers.items():
        got = frame.loc[asked & (frame["role"] == role), choice.column].value_counts().to_dict()
        codes = {c.code: counts.get(cat, 0) for cat, c in choice.categories.items()}
        codes |= {8: counts.get("dont_know", 0), 9: counts.get("refused", 0)}
        assert got == {code: k for code, k in codes.items() if k}
    # the columns of the wave without them are as they were: drawn after the comments
    own = {item.indicator for item in spec.items}
    answers = {r: {i: a for i, a in by.items() if i in own} for r, by in spec.answers.items()}
    without = dataclasses.replace(spec, choices=(), groups=(), answers=answers)
    before = synthetic.generate_responses(without)
    assert before.equals(frame[before.columns])


def test_sample_sizes_as_published():
    g16 = read_responses(RAW / "2016-global")
    assert g16["region"].value_counts().to_dict() == {
        "Africa": 18,
        "Europe": 15,
        "Asia-Pacific": 10,
        "Americas": 8,
        "Arab States": 4,
    }
    assert (g16["role"] == "MP").all()
    assert read_responses(RAW / "2018-europe")["role"].value_counts().to_dict() == {
        "MP": 81,
        "staff": 42,
    }
    assert read_responses(RAW / "2021-africa")["role"].value_counts().to_dict() == {1: 137, 2: 87}
    assert len(read_responses(RAW / "2025-asia-pacific")) == 150


def test_item_nonresponse_present():
    g16 = read_responses(RAW / "2016-global")
    assert (g16["q03"] == 9).sum() == 1  # 44.4% = 24/54 among 55
    africa = read_responses(RAW / "2021-africa")
    assert africa[["q01", "q03"]].isin([8, 9]).any().all()


TARGET_ENTRIES = load_yaml(TARGETS)


@pytest.mark.parametrize(
    "target",
    TARGET_ENTRIES,
    ids=[f"{t['wave']}:{t['indicator']}:{t['domain_value']}" for t in TARGET_ENTRIES],
)
def test_published_target_reproduced(target):
    folder = RAW / target["wave"]
    book = load_yaml(folder / "codebook.yaml")
    yes, valid = reproduce(read_responses(folder), book, target)
    assert matches(yes, valid, target), f"{yes}/{valid} = {100 * yes / valid:.3f}%"


def test_targets_cover_every_published_figure():
    keys = {(t["wave"], t["indicator"], t["domain_value"]) for t in TARGET_ENTRIES}
    assert len(keys) == len(TARGET_ENTRIES) == 7 + 7 + 7 + 12
    for t in TARGET_ENTRIES:
        assert t["domain"] in ("overall", "role")
        assert (t["domain"] == "overall") == (t["wave"] == "2016-global")
        assert t["source"] and t["text"]


# --------------------------------------------------------------------------- tiny survey


@pytest.fixture(scope="module")
def tiny():
    return read_responses(TINY), load_yaml(TINY / "codebook.yaml")


def test_tiny_committed_equals_fresh(tiny):
    frame, book = tiny
    pd.testing.assert_frame_equal(normalize(frame), normalize(synthetic.generate_tiny()))
    assert book == synthetic.tiny_codebook()


def test_tiny_design(tiny):
    frame, _ = tiny
    assert len(frame) == 240
    assert frame["resp_id"].is_unique
    psus_per_stratum = frame.groupby("stratum")["psu"].nunique()
    assert sorted(psus_per_stratum.index) == [1, 2, 3, 4]
    assert (psus_per_stratum == 1).sum() == 1 and psus_per_stratum[4] == 1
    assert (frame.groupby("psu")["stratum"].nunique() == 1).all()  # ids unique across strata
    assert (frame["weight"] > 0).all()
    assert (frame.groupby("psu")["weight"].nunique() > 1).all()
    fpc = frame.groupby("stratum")["fpc"]
    assert (fpc.nunique() == 1).all()
    assert (fpc.first() > psus_per_stratum).all()


def test_tiny_domains_and_codes(tiny):
    frame, book = tiny
    assert set(book["domains"]) == {"region", "role", "age_group"}
    labels = book["domains"]["region"]["labels"]
    empty = set(labels) - set(frame["region"].unique())
    assert [labels[c] for c in empty] == ["Islands"]
    assert set(frame["role"]) == {"MP", "staff"}
    cols = question_columns(book)
    assert len(cols) == 5
    for col in cols:
        assert set(frame[col].unique()) <= ANSWER_CODES
    assert frame[cols].isin([8]).any().any() and frame[cols].isin([9]).any().any()
    assert np.array_equal(frame["q4a"] == 7, frame["q4"] != 1)


def test_tiny_targets(tiny):
    frame, book = tiny
    targets = load_yaml(TINY / "targets.yaml")
    assert 2 <= len(targets) <= 3
    assert any(t["denominator"] != "all" for t in targets)
    for t in targets:
        assert matches(*reproduce(frame, book, t), t), t
    for t in load_yaml(TINY / "targets_mismatch.yaml"):
        assert not matches(*reproduce(frame, book, t), t), t
    assert (targets, load_yaml(TINY / "targets_mismatch.yaml")) == tuple(
        list(x) for x in synthetic.tiny_targets()
    )


def test_main_writes_everything(tmp_path):
    assert (
        synthetic.main(
            [
                str(tmp_path / "raw"),
                "--wave",
                "2016-global",
                "--tiny",
                str(tmp_path / "tiny"),
                "--targets",
                str(tmp_path / "targets.yaml"),
            ]
        )
        == 0
    )
    assert (tmp_path / "raw" / "2016-global" / "responses.csv").read_bytes() == (
        RAW / "2016-global" / "responses.csv"
    ).read_bytes()
    for name in ("responses.csv", "codebook.yaml", "targets.yaml", "targets_mismatch.yaml"):
        assert (tmp_path / "tiny" / name).read_bytes() == (TINY / name).read_bytes()
    assert (tmp_path / "targets.yaml").read_bytes() == TARGETS.read_bytes()
