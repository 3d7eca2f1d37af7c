import numpy as np
import pandas as pd
import pytest

from prevalence.data.codebook import parse_codebook
from prevalence.data.ingest import ingest
from prevalence.data.io import Responses, read_responses
from prevalence.design.core import design_columns
from prevalence.errors import PrevalenceError


def run(tmp_path, frame, codebook_dict, design=None, name="responses.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return ingest(
        read_responses(path), parse_codebook(codebook_dict, path="cb.yaml"), wave="w", design=design
    )


def test_harmonizes_codes_skip_logic_and_drops_identifiers(
    tmp_path, codebook_dict, responses_frame
):
    result = run(tmp_path, responses_frame, codebook_dict)
    frame = result.frame
    assert list(frame.columns) == ["region", "role", "psychological", "online", "doxing"]
    for identifier in ("resp_id", "name", "comments", "q1"):
        assert identifier not in frame.columns
    np.testing.assert_array_equal(frame["psychological"], [1, 1, 0, np.nan, 1, 0, np.nan, 1, 1, 0])
    # doxing is asked only of those with online = yes (rows 1, 3, 4, 6, 9)
    np.testing.assert_array_equal(
        frame["doxing"], [1, np.nan, 0, 1, np.nan, np.nan, np.nan, np.nan, 1, np.nan]
    )
    assert list(frame["role"].cat.categories) == ["MP", "staff"]
    assert frame["role"].tolist()[:3] == ["MP", "MP", "staff"]
    log = result.log
    assert log["rows"] == {"read": 10, "kept": 10, "excluded": 0, "excluded_by_reason": {}}
    assert log["indicators"]["psychological"] == {
        "column": "q1",
        "denominator": "all",
        "yes": 5,
        "no": 3,
        "missing": {"8": 1, "9": 1},
        "not_applicable": 0,
        "blank": 0,
        "valid": 8,
        "cases": 5,
    }
    doxing = log["indicators"]["doxing"]
    assert doxing["not_applicable"] == 5 and doxing["missing"] == {"9": 1}
    assert doxing["valid"] == 4 and doxing["cases"] == 3
    assert doxing["outside_denominator"] == 0 and doxing["skipped_in_denominator"] == 0
    assert log["domains"]["region"]["counts"] == {"East": 3, "North": 3, "South": 4}
    assert log["columns"]["dropped_identifiers"] == ["resp_id", "name", "comments"]


def test_answers_outside_the_denominator_are_not_counted(tmp_path, codebook_dict, responses_frame):
    responses_frame.loc[1, "q2a"] = 1  # online = no, yet doxing answered yes
    codebook_dict["skip_violations"] = "exclude"  # the default refuses (tests below)
    result = run(tmp_path, responses_frame, codebook_dict)
    assert np.isnan(result.frame["doxing"][1])
    assert result.log["indicators"]["doxing"]["outside_denominator"] == 1


def test_blank_rows_are_excluded_and_accounted_for(tmp_path, codebook_dict, responses_frame):
    blank = pd.DataFrame([[None] * responses_frame.shape[1]], columns=responses_frame.columns)
    frame = pd.concat([responses_frame.iloc[:3], blank, responses_frame.iloc[3:]])
    result = run(tmp_path, frame, codebook_dict)
    assert result.log["rows"]["read"] == 11
    assert result.log["rows"]["kept"] == 10
    assert result.log["excluded_rows"] == [{"row": "line 5", "reason": "blank row"}]


def test_unlisted_code_names_file_column_row_and_fix(tmp_path, codebook_dict, responses_frame):
    responses_frame.loc[4, "q1"] = 5
    with pytest.raises(PrevalenceError) as info:
        run(tmp_path, responses_frame, codebook_dict)
    text = str(info.value)
    assert "responses.csv" in text and "'q1'" in text and "line 6" in text
    assert "code 5 is not in the codebook" in text and "fix:" in text and "cb.yaml" in text


def test_numbers_stored_as_text_are_codes(tmp_path, codebook_dict, responses_frame):
    responses_frame["q1"] = responses_frame["q1"].map(lambda v: f" {v}.0 ")
    result = run(tmp_path, responses_frame, codebook_dict)
    assert result.log["indicators"]["psychological"]["yes"] == 5


def test_duplicate_respondent_id(tmp_path, codebook_dict, responses_frame):
    responses_frame.loc[7, "resp_id"] = "R02"
    with pytest.raises(PrevalenceError, match=r"R02 appears on line 3, line 9"):
        run(tmp_path, responses_frame, codebook_dict)


def test_missing_column_suggests_the_close_one(tmp_path, codebook_dict, responses_frame):
    frame = responses_frame.rename(columns={"q2a": "q2_a"})
    with pytest.raises(PrevalenceError) as info:
        run(tmp_path, frame, codebook_dict)
    assert "'q2a'" in str(info.value) and "'q2_a'" in str(info.value)
    assert "indicators.doxing" in str(info.value)


def test_domain_code_without_label(tmp_path, codebook_dict, responses_frame):
    responses_frame.loc[2, "role"] = 3
    with pytest.raises(PrevalenceError, match="value 3 of domain 'role' has no label"):
        run(tmp_path, responses_frame, codebook_dict)


def test_domain_column_all_empty(tmp_path, codebook_dict, responses_frame):
    responses_frame["region"] = None
    with pytest.raises(PrevalenceError, match="domain 'region' has no value in any row"):
        run(tmp_path, responses_frame, codebook_dict)


def test_design_columns_are_carried_and_identifiers_refused(
    tmp_path, codebook_dict, responses_frame
):
    responses_frame["w"] = np.arange(1, 11) / 2
    responses_frame["stratum"] = ["a"] * 5 + ["b"] * 5
    result = run(
        tmp_path, responses_frame, codebook_dict, design={"weight": "w", "strata": "stratum"}
    )
    assert result.frame["design:w"].tolist() == list(np.arange(1, 11) / 2)
    assert result.frame["design:stratum"].tolist()[4:6] == ["a", "b"]
    # a domain may also be the strata: the design keeps its own copy
    both = run(tmp_path, responses_frame, codebook_dict, design={"strata": "region"})
    assert both.frame["design:region"].tolist()[:3] == ["North"] * 3
    with pytest.raises(PrevalenceError, match="identifier"):
        run(tmp_path, responses_frame, codebook_dict, design={"psu": "resp_id"})
    with pytest.raises(PrevalenceError, match="design of wave 'w' needs it"):
        run(tmp_path, responses_frame, codebook_dict, design={"weight": "wt"})


def test_design_columns_from_prefix():
    cols = ["a", "repw_2", "repw_1", "w"]
    spec = {"weight": "w", "replicates": {"prefix": "repw_", "type": "JK1"}}
    assert design_columns(spec, cols) == ["w", "repw_1", "repw_2"]


def test_many_unlisted_codes_give_one_message_with_count_first_lines_and_fix(
    tmp_path, codebook_dict
):
    """A large wave with thousands of bad cells: one message, how many, where the first are."""
    n = 30_000
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "resp_id": [f"R{i:06d}" for i in range(n)],
            "name": "x",
            "comments": "",
            "region": rng.choice(["North", "South"], n),
            "role": rng.choice([1, 2], n),
            "q1": rng.choice([1, 2], n),
            "q2": rng.choice([1, 2], n),
            "q2a": 7,
        }
    )
    codebook_dict["drop"] = ["name", "comments"]
    bad = np.flatnonzero(rng.random(n) < 0.1)
    frame.loc[bad, "q1"] = 5
    frame.loc[bad[::7], "q1"] = 6
    with pytest.raises(PrevalenceError) as info:
        run(tmp_path, frame, codebook_dict)
    text = str(info.value)
    first = [str(i + 2) for i in bad[:5]]
    assert text.startswith(
        f"file {tmp_path / 'responses.csv'}, column 'q1', line {first[0]}: code "
    )
    assert f"{bad.size:,} rows hold codes it does not list" in text
    sixes = bad[::7].size
    assert f"5 on {bad.size - sixes:,} rows, 6 on {sixes:,} rows" in text
    assert "the first on lines " + ", ".join(first[:4]) + f" and {first[4]}, ..." in text
    assert text.count("\n") == 1 and "fix: add the code to yes_codes" in text


def test_ids_equal_as_codes_are_duplicates(tmp_path, codebook_dict, responses_frame):
    frame = responses_frame.astype({"resp_id": object})
    frame["resp_id"] = [str(i) for i in range(10)]
    frame.loc[6, "resp_id"] = " 3.0"  # the same respondent id as "3" once normalised
    with pytest.raises(PrevalenceError, match=r"3 appears on line 5, line 8"):
        run(tmp_path, frame, codebook_dict)
    frame.loc[6, "resp_id"] = "R6"
    assert run(tmp_path, frame, codebook_dict).log["rows"]["kept"] == 10


def _routing_broken(codebook_dict, responses_frame, policy=None):
    """Two respondents answer the follow-up q2a although their q2 is no."""
    frame = responses_frame.copy()
    rows = frame.index[frame["q2a"].isin([1, 2])][:2]
    frame.loc[rows, "q2"] = 2
    book = dict(codebook_dict)
    if policy:
        book["skip_violations"] = policy
    return Responses(frame, "responses.csv", "csv"), parse_codebook(book), rows


def test_a_follow_up_answered_outside_its_routing_is_an_error(codebook_dict, responses_frame):
    responses, book, rows = _routing_broken(codebook_dict, responses_frame)
    with pytest.raises(PrevalenceError) as error:
        ingest(responses, book, wave="w")
    assert error.value.column == "q2a" and error.value.row == f"line {rows[0] + 2}"
    assert "'q2'" in str(error.value) and "1 more respondents" in str(error.value)


def test_skip_violations_exclude_leaves_the_answers_out_and_counts_them(
    codebook_dict, responses_frame
):
    responses, book, rows = _routing_broken(codebook_dict, responses_frame, "exclude")
    result = ingest(responses, book, wave="w")
    assert result.log["skip_violations"] == {
        "policy": "exclude",
        "answers_excluded": 2,
        "by_indicator": {"doxing": 2},
    }
    assert result.log["indicators"]["doxing"]["outside_denominator"] == 2
    assert result.frame.loc[rows, "doxing"].isna().all()
    clean = ingest(Responses(responses_frame, "responses.csv", "csv"), book, wave="w")
    assert "skip_violations" not in clean.log
    assert clean.frame.loc[rows, "doxing"].notna().all()


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([f"R{i:02d}" for i in range(1, 11)], None),  # distinct plain text: checked by sorting
        ([f"R{i:02d}" for i in range(1, 10)] + ["R03"], "R03 appears on row 3, row 10"),
        ([f"R{i:02d}" for i in range(1, 10)] + [" R03"], "R03 appears on row 3, row 10"),
        ([f"R{i:02d}" for i in range(1, 10)] + ["3"], None),  # a number among text ids
        ([f"R{i:02d}" for i in range(1, 10)] + [None], "respondent id is empty"),
    ],
)
def test_text_ids_distinct_as_codes(tmp_path, codebook_dict, responses_frame, ids, message):
    responses_frame["resp_id"] = pd.Series(ids, dtype="string")
    path = tmp_path / "responses.parquet"
    responses_frame.to_parquet(path, index=False)
    book = parse_codebook(codebook_dict, path="cb.yaml")
    if message is None:
        assert ingest(read_responses(path), book, wave="w").log["rows"]["kept"] == 10
        return
    with pytest.raises(PrevalenceError, match="respondent id") as error:
        ingest(read_responses(path), book, wave="w")
    assert message in str(error.value) and "'resp_id'" in str(error.value)


@pytest.mark.parametrize("dtype", ["int8", "int64", "float64", "wide"])
def test_answer_codes_read_the_same_whatever_their_type(
    tmp_path, codebook_dict, responses_frame, dtype
):
    expected = run(tmp_path, responses_frame, codebook_dict).log
    frame = responses_frame.astype({"q1": "int64" if dtype == "wide" else dtype, "role": "int8"})
    if dtype == "wide":  # codes of a range too wide to count: factorized
        frame.loc[3, "q1"] = 10**9
        codebook_dict["indicators"]["psychological"]["missing_codes"] = [10**9, 9]
        expected["indicators"]["psychological"]["missing"] = {"1000000000": 1, "9": 1}
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path, index=False)
    log = ingest(read_responses(path), parse_codebook(codebook_dict, path="cb.yaml"), wave="w").log
    assert log["indicators"] == expected["indicators"]
    assert log["domains"] == expected["domains"]
