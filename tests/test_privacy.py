import pandas as pd
import pytest

from prevalence.data.codebook import parse_codebook
from prevalence.data.ingest import ingest
from prevalence.data.io import read_responses
from prevalence.data.privacy import classify, looks_like_names, small_groups
from prevalence.errors import PrevalenceError


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["a.b@parliament.example", "x"], "e-mail addresses"),
        (["call +44 20 7946 0958", "no"], "phone numbers"),
        (["see https://example.org/x", ""], "URLs"),
        (["Amina Diallo", "Maria Lopez", "Jane Roe", "Ana Silva", "Li Wei"], "personal names"),
        (
            [
                "She said she was threatened twice by a colleague",
                "I do not wish to answer this question at all",
                "The party leadership ignored my complaint entirely",
                "Nothing to add beyond what I wrote above here",
                "Online abuse increased sharply during the campaign",
            ],
            "free text",
        ),
    ],
)
def test_identifying_columns_are_recognised(values, kind):
    assert classify(pd.Series(values))[0] == kind


NAMES = [
    "Ngozi García",
    "Irène Sørensen",
    "María de la Cruz",
    "Jean-Pierre Dubois",
    "DIALLO Amina",
    "Nguyễn Thị Minh",
    "Ольга Петрова",
    "فاطمة الزهراء",
    "Zoë van der Berg",
    "Łucja Kowalczyk",
]
CATEGORIES = [
    "Latin America",
    "Asia-Pacific",
    "Sub-Saharan Africa",
    "Middle East",
    "Arab States",
    "Deputy Speaker",
    "Member of Parliament",
    "Senior Staff",
    "MP",
    "staff",
]


@pytest.mark.parametrize("name", NAMES)
def test_names_in_any_alphabet_look_like_names(name):
    assert looks_like_names(pd.Series([name], dtype="string")).tolist() == [True]


@pytest.mark.parametrize("label", CATEGORIES)
def test_region_and_role_labels_are_not_names(label):
    assert looks_like_names(pd.Series([label], dtype="string")).tolist() == [False]


@pytest.mark.parametrize("declared", [False, True])
def test_repeated_category_labels_pass_declared_or_not(declared):
    column = pd.Series(CATEGORIES * 24)  # 240 rows, 10 labels
    assert classify(column, declared=declared) is None


def test_an_undeclared_column_of_repeated_accented_names_is_refused():
    column = pd.Series(NAMES * 24)  # 240 rows, only 10 different names
    assert classify(column) == ("personal names", 0)
    assert classify(column, declared=True) is None  # a declared domain may repeat its labels


@pytest.mark.parametrize(
    "values",
    [
        ["2016-05-01", "2017-01-02", "2018-03-04"],
        ["North Africa", "Arab States", "North Africa", "Arab States"] * 5,
        ["1", "2", "8"],
        [1.0, 2.0, 7.0],
        ["1.9099999666214", "NA", "3.0699999332428"],
        ["MP", "staff", "MP"],
    ],
)
def test_codes_dates_and_categories_pass(values):
    assert classify(pd.Series(values)) is None


def run(tmp_path, frame, codebook_dict, **kwargs):
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    return ingest(
        read_responses(path), parse_codebook(codebook_dict, path="cb.yaml"), wave="w", **kwargs
    )


def test_an_undeclared_email_column_stops_ingest(tmp_path, codebook_dict, responses_frame):
    responses_frame["contact"] = [f"person{i}@mail.example" for i in range(10)]
    with pytest.raises(PrevalenceError) as info:
        run(tmp_path, responses_frame, codebook_dict)
    text = str(info.value)
    assert "column 'contact', line 2: the column looks like it holds e-mail addresses" in text
    assert "add 'contact' to `drop:` in cb.yaml" in text
    codebook_dict["drop"].append("contact")
    result = run(tmp_path, responses_frame, codebook_dict)
    assert "contact" not in result.frame.columns


def test_dropping_nothing_refuses_the_names_and_comments(tmp_path, codebook_dict, responses_frame):
    codebook_dict["drop"] = []
    responses_frame["name"] = ["Amina Diallo", "Maria Lopez", "Jane Roe", "Ana Silva", "Li Wei"] * 2
    responses_frame.loc[5:, "name"] = ["Sara Khan", "Eva Berg", "Nia Obi", "Mia Wong", "Zoe Hart"]
    with pytest.raises(PrevalenceError, match="column 'name'.*personal names"):
        run(tmp_path, responses_frame, codebook_dict)


def test_k_anonymity_report_refuse_and_coarsen(tmp_path, codebook_dict, responses_frame):
    result = run(tmp_path, responses_frame, codebook_dict)
    anonymity = result.log["k_anonymity"]
    assert anonymity["k"] == 3 and anonymity["quasi_identifiers"] == ["region", "role"]
    expected = small_groups(result.frame, ["region", "role"], 3)
    assert anonymity["small_groups"] == expected and expected  # e.g. North+staff: 1
    assert all(g["n"] < 3 for g in expected)
    with pytest.raises(
        PrevalenceError, match="combinations of region, role are held by fewer than 3"
    ):
        run(tmp_path, responses_frame, codebook_dict, policy="refuse")
    responses_frame.loc[9, "region"] = "West"  # West: one respondent
    coarse = run(tmp_path, responses_frame, codebook_dict, policy="coarsen")
    assert coarse.log["domains"]["region"]["coarsened"] == ["East", "West"]  # East: 2 left
    assert "West" not in set(coarse.frame["region"]) and "Other" in set(coarse.frame["region"])
