import numpy as np
import pandas as pd
import pyreadstat
import pytest

from prevalence.data.codebook import parse_codebook
from prevalence.data.ingest import ingest
from prevalence.data.io import read_responses, write_csv
from prevalence.errors import PrevalenceError


def numeric_frame(responses_frame):
    frame = responses_frame.copy()
    frame["region"] = frame["region"].map({"North": 1, "South": 2, "East": 3})
    return frame


@pytest.mark.parametrize("kind", ["csv", "xlsx", "sav", "dta", "parquet"])
def test_every_format_gives_the_same_harmonized_data(
    tmp_path, codebook_dict, responses_frame, kind
):
    path = tmp_path / f"responses.{kind}"
    labelled = kind in ("sav", "dta")
    frame = numeric_frame(responses_frame) if labelled else responses_frame
    if kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "xlsx":
        frame.to_excel(path, index=False, sheet_name="responses")
    elif kind == "parquet":
        frame.to_parquet(path, index=False)
    else:
        writer = pyreadstat.write_sav if kind == "sav" else pyreadstat.write_dta
        labels = {"region": {1: "North", 2: "South", 3: "East"}, "role": {1: "MP", 2: "staff"}}
        writer(frame, str(path), variable_value_labels=labels)
    raw = read_responses(path)
    result = ingest(raw, parse_codebook(codebook_dict), wave="w")
    expected = ingest(
        read_responses(_csv(tmp_path, responses_frame)), parse_codebook(codebook_dict), wave="w"
    )
    pd.testing.assert_frame_equal(
        result.frame.astype({"region": str}), expected.frame.astype({"region": str})
    )
    if labelled:  # value labels come from the file and keep its order
        assert list(result.frame["region"].cat.categories) == ["North", "South", "East"]
        assert raw.locate(0) == "case 1"


def _csv(tmp_path, frame):
    path = tmp_path / "reference.csv"
    frame.to_csv(path, index=False)
    return path


def test_spss_user_missing_codes_are_kept_as_codes(tmp_path, codebook_dict, responses_frame):
    path = tmp_path / "r.sav"
    frame = numeric_frame(responses_frame)
    pyreadstat.write_sav(
        frame, str(path), missing_ranges={"q1": [8, 9], "q2": [8, 9], "q2a": [7, 8, 9]}
    )
    result = ingest(read_responses(path), parse_codebook(codebook_dict), wave="w")
    assert result.log["indicators"]["psychological"]["missing"] == {"8": 1, "9": 1}
    assert result.log["indicators"]["doxing"]["not_applicable"] == 5


def test_csv_with_bom_and_spaces(tmp_path, responses_frame):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + responses_frame.to_csv(index=False).encode())
    assert read_responses(path).frame.columns[0] == "resp_id"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"resp_id,q1\n", "header but no responses"),
        (b"resp_id;q1\n1;1\n", "separated by semicolons"),
        (b"resp_id,q1\n1,\xe9t\xe9\n", "not UTF-8"),
    ],
)
def test_bad_csv_files(tmp_path, content, message):
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    with pytest.raises(PrevalenceError, match=message) as info:
        read_responses(path)
    assert "r.csv" in str(info.value) and "fix:" in str(info.value)


def test_missing_file_wrong_sheet_truncated_sav_and_unknown_type(tmp_path, responses_frame):
    with pytest.raises(PrevalenceError, match="responses file not found"):
        read_responses(tmp_path / "none.csv")
    xlsx = tmp_path / "r.xlsx"
    responses_frame.to_excel(xlsx, index=False, sheet_name="answers")
    with pytest.raises(PrevalenceError, match="(?s)no worksheet named .responses.*answers"):
        read_responses(xlsx, sheet="responses")
    sav = tmp_path / "r.sav"
    pyreadstat.write_sav(numeric_frame(responses_frame), str(sav))
    sav.write_bytes(sav.read_bytes()[:300])
    with pytest.raises(PrevalenceError, match="cannot be read as a SPSS file"):
        read_responses(sav)
    with pytest.raises(PrevalenceError, match="unsupported file type '.json'"):
        read_responses(tmp_path / "r.json")


def test_write_csv_is_byte_stable(tmp_path):
    frame = pd.DataFrame({"a": [0.1 + 0.2, np.nan, 1 / 3], "b": ["x", "", "z"]})
    first = write_csv(frame, tmp_path / "one.csv").read_bytes()
    second = write_csv(frame, tmp_path / "two.csv").read_bytes()
    assert first == second
    assert first.decode().splitlines()[1] == "0.3,x"
    assert not list(tmp_path.glob(".*.tmp"))


def test_csv_numbers_as_numbers_and_everything_else_as_written(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(
        b'id,code,weight,text,nan,spaced\n1,1,0.5,"1",nan,  2\n2,,1.25,x,1, 3\n3,9,2e0,,2,4\n'
    )
    frame = read_responses(path).frame
    assert frame["id"].dtype == "int64" and frame["id"].tolist() == [1, 2, 3]
    assert frame["code"].dtype == "float64" and frame["code"].isna().tolist() == [0, 1, 0]
    assert frame["weight"].tolist() == [0.5, 1.25, 2.0]
    assert frame["text"].tolist()[:2] == ["1", "x"] and pd.isna(frame["text"][2])
    assert frame["nan"].tolist() == ["nan", "1", "2"]  # "nan" is a code, not a blank
    assert frame["spaced"].tolist() == ["  2", " 3", "4"]  # text: ingest strips and compares


def test_csv_open_quote_and_line_breaks_in_quotes(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b'resp_id,q1,note\nT1,1,"two\nlines"\nT2,2,\n')
    frame = read_responses(path).frame
    assert frame["note"].tolist()[0] == "two\nlines" and len(frame) == 2
    path.write_bytes(b'resp_id,q1\nT1,1\nT2,"open\n')
    with pytest.raises(PrevalenceError, match="cannot be read as CSV"):
        read_responses(path)
