import pytest

from prevalence.data.codebook import load_codebook, normalise_code, parse_codebook
from prevalence.errors import ConfigError


def test_parses_codes_defaults_and_denominator_order(codebook_dict):
    codebook_dict["indicators"] = {
        "doxing": {"column": "q2a", "denominator": "online"},
        "online": {"column": "q2", "missing_codes": [8]},
    }
    book = parse_codebook(codebook_dict)
    assert list(book.indicators) == ["online", "doxing"]  # the denominator comes first
    assert book.indicators["online"].missing_codes == (8,)
    assert book.indicators["doxing"].missing_codes == (8, 9)
    assert book.indicators["doxing"].denominator == "online"
    assert book.domains["role"].labels == ((1, "MP"), (2, "staff"))
    assert book.labels()["online"] == "online"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["indicators"]["online"].update(colum="q2"), "unknown key 'colum'"),
        (lambda c: c["indicators"]["online"].update(yes=[1]), "unknown key 'yes'"),
        (lambda c: c["indicators"]["online"].update(yes_codes=[1, 1]), "listed twice"),
        (lambda c: c["indicators"]["online"].update(no_codes=[1]), "in both yes_codes and"),
        (lambda c: c["indicators"]["doxing"].update(denominator="nothing"), "'nothing'"),
        (
            lambda c: c["indicators"]["online"].update(denominator="doxing"),
            "denominators form a cycle (online -> doxing -> online)",
        ),
        (lambda c: c.pop("respondent_id"), "'respondent_id' is a required property"),
        (lambda c: c["drop"].append("q1"), "drop lists column 'q1'"),
        (lambda c: c["indicators"]["online"].update(column="q1"), "already used"),
        (lambda c: c.update(design={"weight": "w"}), "design"),
    ],
)
def test_rejects_bad_codebooks_with_a_clear_message(codebook_dict, change, message):
    change(codebook_dict)
    with pytest.raises(ConfigError) as info:
        parse_codebook(codebook_dict, path="cb.yaml")
    assert message in str(info.value)
    assert "cb.yaml" in str(info.value)


def test_misspelled_key_suggests_the_right_one(codebook_dict):
    codebook_dict["indicators"]["online"]["denominatr"] = "psychological"
    with pytest.raises(ConfigError, match="did you mean 'denominator'"):
        parse_codebook(codebook_dict)


def test_yaml_booleans_are_not_codes(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text("respondent_id: id\nindicators:\n  a: {column: q1, yes: [1]}\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_codebook(path)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="codebook not found"):
        load_codebook(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("indicators: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_codebook(bad)


@pytest.mark.parametrize(
    ("raw", "code"), [(1, 1), (1.0, 1), ("1", 1), (" 2 ", 2), ("1.5", 1.5), ("Yes", "Yes")]
)
def test_normalise_code(raw, code):
    assert normalise_code(raw) == code
    assert type(normalise_code(raw)) is type(code)
