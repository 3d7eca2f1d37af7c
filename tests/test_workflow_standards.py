"""Each publication standard through the workflow: nchs, dhs, statcan, custom and none.

The tiny survey (240 respondents, regions of about 60, region x role cells of about 30) is
run with each ``publication.standard``; the published table, the Markdown and the Word table
must follow the standard's rules and show its marks, and disclosure control must hold under
every one of them.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from test_tables import docx_blocks, xlsx_blocks
from workflow_project import ROOT, make_project, snakemake

from prevalence.contract import COLUMNS

pytestmark = pytest.mark.e2e

TABLES = [f"results/tables/prevalence.{ext}" for ext in ("csv", "xlsx", "md", "docx")]
STANDARDS = {
    "nchs": {},
    "dhs": {"standard": "dhs"},
    "statcan": {"standard": "statcan", "disclosure_k": 4},
    "custom": {"standard": "custom", "min_n": 20, "min_effective_n": 20},
    "none": {"standard": "none"},
}


def run(folder, publication: dict, *targets: str, populations=()):
    make_project(folder)
    config = yaml.safe_load((folder / "config.yaml").read_text())
    if publication:
        config["publication"] = publication
    config["figures"]["populations"] += [{"domain": d, "value": v} for d, v in populations]
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    done = snakemake(folder, *targets)
    assert done.returncode == 0, done.stderr[-3000:]
    results = folder / "results" / "tables"
    table = pd.read_csv(results / "prevalence.csv", keep_default_na=False, na_values=[""])
    return table, (results / "prevalence.md").read_text("utf-8"), results


CHART_DATA = "results/figures/tiny/by_indicator.csv"


def reasons(table: pd.DataFrame) -> pd.Series:
    return table["flag"].fillna("").str.split("; ")


@pytest.fixture(scope="module", params=list(STANDARDS))
def published(request, tmp_path_factory):
    standard = request.param
    folder = tmp_path_factory.mktemp(standard)
    # statcan draws every chart too: the published table with both mark columns feeds them;
    # dhs draws the wave's charts
    targets = {"statcan": (), "dhs": (*TABLES, CHART_DATA)}.get(standard, TABLES)
    # under dhs the staff are a population too: their key findings carry "use with caution"
    populations = [("role", "staff")] if standard == "dhs" else []
    return (standard, *run(folder, STANDARDS[standard], *targets, populations=populations))


def test_disclosure_control_holds_under_every_standard(published):
    standard, table, _, results = published
    k = STANDARDS[standard].get("disclosure_k", 3)
    shown = table[~table["suppressed"]]
    non_cases = shown["n"] - shown["cases"]
    assert not shown["cases"].between(1, k - 1).any()
    assert not non_cases.between(1, k - 1).any()
    assert (table["flag"].fillna("").str.contains(f"fewer than {k} ")).any()
    # the Word table holds the cells and notes of the workbook
    assert docx_blocks(results / "prevalence.docx") == xlsx_blocks(results / "prevalence.xlsx")


def test_each_standard_applies_its_own_rules_and_columns(published):
    standard, table, markdown, _ = published
    extra = {"dhs": ["caution"], "statcan": ["caution", "grade"]}.get(standard, [])
    assert list(table.columns) == [*COLUMNS, "n_suppressed", *extra]
    # rows whose n is withheld (an "of whom" cell under a hidden denominator) are left out
    table = table[~table["n_suppressed"]]
    why = reasons(table)
    valid = table["n"] > 0
    # a disclosive cell gives only the disclosure reason: the others would narrow its count
    disclosive = why.map(lambda r: any(x.startswith("fewer than ") and "non-cases" in x for x in r))
    if standard in ("nchs", "custom"):
        low = 30 if standard == "nchs" else 20
        small = why.map(lambda r: f"sample size n < {low}" in r)
        assert (small == (valid & (table["n"] < low) & ~disclosive)).all()
        assert small.any() and table.loc[small, "suppressed"].all()
    elif standard == "none":
        nchs = ("sample size", "effective sample size", "CI width", "relative CI width")
        assert not table["flag"].fillna("").str.contains("|".join(nchs)).any()
    elif standard == "dhs":
        star = why.map(lambda r: "fewer than 25 unweighted cases" in r)
        assert (star == (valid & (table["n"] < 25) & ~disclosive)).all() and star.any()
        middle = valid & table["n"].between(25, 49) & ~table["suppressed"]
        assert (table["caution"] == middle).all() and middle.any()
        assert "| \\*" in markdown  # a figure not shown: * (escaped in Markdown)
        assert "( ) a figure in parentheses is based on 25–49 unweighted cases" in markdown
    else:
        shown = table[~table["suppressed"] & valid & (table["estimate"] > 0)]
        cv = shown["se"] / shown["estimate"]
        bounds = [0, 0.05, 0.10, 0.15, 0.25, 0.35]
        expected = pd.cut(cv, bounds + [float("inf")], right=False, labels=list("ABCDEF"))
        assert (shown["grade"] == expected.astype(str)).all()
        assert (shown["caution"] == (shown["grade"] == "E")).all()
        assert set(shown["grade"]) >= {"B", "C"}
        f = why.map(lambda r: "CV 35% or more: too unreliable to be published (F)" in r)
        assert (table.loc[f, "grade"] == "F").all()
        hidden = table[table["suppressed"] & ~f]
        assert (hidden["grade"].fillna("") == "").all() and not hidden["caution"].any()
        assert "A–E quality grade by the coefficient of variation" in markdown
        graded = shown.iloc[0]
        assert f"% ({int(round(graded['ci_low'] * 100))}" in markdown
        assert f") {graded['grade']} |" in markdown


def test_the_charts_carry_the_standards_marks(published):
    standard, table, _, results = published
    if standard not in ("dhs", "statcan"):
        pytest.skip("no marks under this standard")
    project = results.parent.parent
    data = pd.read_csv(project / CHART_DATA, keep_default_na=False, na_values=[""])
    overall = table[table["domain"] == "overall"].set_index("indicator")
    drawn = data.set_index("indicator")
    marks = ["caution", "grade"] if standard == "statcan" else ["caution"]
    assert list(data.columns[-len(marks) :]) == marks
    for column in marks:
        expected = overall.loc[drawn.index, column]
        assert (
            drawn[column].fillna("").astype(str).tolist()
            == expected.fillna("").astype(str).tolist()
        )
    if standard == "statcan":
        assert (project / "results/figures/tiny/role-MP/by_indicator.csv").is_file()


def test_the_key_findings_word_the_standards_marks(published):
    standard, table, _, results = published
    if standard != "dhs":
        pytest.skip("the dhs run has a population with marked cells")
    findings = pd.read_csv(results / "key_findings.csv", keep_default_na=False, na_values=[""])
    keys = ["domain", "domain_value", "indicator"]
    marked = table[table["caution"] & ~table["suppressed"]].set_index(keys)
    worded = findings.set_index(keys)["sentence"]
    reason = "25-49 unweighted cases: use with caution"
    shared = worded.index.intersection(marked.index)
    assert len(shared) > 0
    assert worded.loc[shared].str.contains(reason, regex=False).all()
    unmarked = worded.index.difference(marked.index)
    assert not worded.loc[unmarked].str.contains("use with caution", regex=False).any()


@pytest.mark.parametrize(
    ("standard", "words"),
    [
        ("nchs", "Korn–Graubard interval is\n30 points wide"),
        ("dhs", "fewer than 25 unweighted cases is not shown (*), one based on\n25 to 49"),
        ("statcan", "E 25% to under\n35% (use with caution), F 35% or more"),
        ("custom", "denominator n is below 20"),
        ("none", "**Publication standard: none.**\n\n\n**Disclosure control:** a cell with 1 to 2"),
    ],
)
def test_the_report_methods_state_each_standard(standard, words):
    import jinja2

    from prevalence.publication.disclosure import parse_publication

    config = {
        "estimates": {"by": [["region"]], "ci_method": "wilson", "level": 0.95},
        "waves": {},
        "publication": parse_publication(STANDARDS[standard]).as_dict(),
        "privacy": {"k": 3, "policy": "report"},
    }
    template = (ROOT / "workflow" / "report" / "workflow.rst").read_text()
    text = jinja2.Template(template, undefined=jinja2.StrictUndefined).render(
        snakemake=type("Snakemake", (), {"config": config})
    )
    assert words in text


def test_the_report_methods_state_each_waves_design_from_the_config_alone():
    import jinja2

    from prevalence.publication.disclosure import parse_publication

    config = {
        "estimates": {"by": [["region"]], "ci_method": "wilson", "level": 0.95},
        "design": {"weight": "w"},
        "waves": {"a": {"label": "Wave A", "design": {"strata": "s"}}, "b": {}},
        "publication": parse_publication(None).as_dict(),
        "privacy": {"k": 3, "policy": "report"},
    }
    template = (ROOT / "workflow" / "report" / "workflow.rst").read_text()
    text = jinja2.Template(template).render(snakemake=type("Snakemake", (), {"config": config}))
    # the wave's design block completes the global one, as config.yaml documents
    assert "- Wave A: design ``{'weight': 'w', 'strata': 's'}``" in text
    assert "- b: design ``{'weight': 'w'}``" in text
