"""The study report (prevalence.publication.study): its methods from the Snakemake report's own text, the
sample from the ingest log, the charts linked relative to the page with alt text from their data,
and a PDF printed by headless Chromium that a rerun gives byte for byte."""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest
from workflow_project import ROOT

from prevalence.data.codebook import parse_codebook
from prevalence.errors import PrevalenceError
from prevalence.publication import study

BOOK = parse_codebook(
    {
        "respondent_id": "id",
        "respondents": "women MPs and staff",
        "domains": {"role": {"column": "role", "nouns": {"MP": "women MPs"}}},
        "indicators": {
            "online": {"label": "Online gender-based violence", "column": "q1"},
            "hate": {"label": "Online hate speech", "column": "q2", "denominator": "online"},
        },
    }
)
WORKFLOW_TEXT = (ROOT / "workflow" / "report" / "workflow.rst").read_text()


def settings(standard: str = "nchs") -> dict:
    publication = {
        "standard": standard,
        "disclosure_k": 3,
        "min_n": 25,
        "caution_n": 50,
        "min_effective_n": 30,
        "max_ci_width": 0.3,
        "relative_ci_width": 1.3,
        "relative_ci_width_above": 0.05,
        "review_df_below": 8,
    }
    return {
        "estimates": {"by": [["role"]], "ci_method": "wilson", "level": 0.95},
        "publication": publication,
        "privacy": {"k": 3, "policy": "report"},
        "comparisons": None,
        "targets": True,
        "coverage": True,
        "waves": {"w": {"label": "Wave 2025", "responses": "r.csv", "codebook": "c.yaml"}},
        "design": None,
    }


def test_the_methods_are_the_report_text_rendered_with_the_run_settings():
    html = study.methods_html(WORKFLOW_TEXT, settings())
    assert "Wave 2025" in html and "no sampling design declared" in html
    assert "Publication standard: nchs." in html and "Korn–Graubard" in html
    assert "wilson" in html and "Published figures." in html and "tables/coverage.csv" in html
    assert "Results are grouped by wave in the menu" not in html  # the report's intro stays out
    dhs = study.methods_html(WORKFLOW_TEXT, settings("dhs"))
    assert "Publication standard: dhs." in dhs and "fewer than 25 unweighted cases" in dhs


def test_a_report_text_without_methods_is_named():
    with pytest.raises(PrevalenceError, match="no 'Methods' section") as error:
        study.methods_html("Just an introduction.\n", settings(), source="workflow.rst")
    assert "workflow.rst" in str(error.value) and "fix:" in str(error.value)


def test_the_sample_counts_item_non_response_among_those_asked():
    log = {
        "rows": {"read": 12, "kept": 10, "excluded": 2, "excluded_by_reason": {"duplicate": 2}},
        "domains": {"role": {"column": "role", "counts": {"MP": 6, "staff": 3}, "no_value": 1}},
        "indicators": {
            "online": {"denominator": "all", "valid": 8, "missing": {"8": 1}, "blank": 1},
            "hate": {"denominator": "online", "valid": 4, "missing": {}, "not_applicable": 4},
        },
    }
    sample = study.sample_tables(log, BOOK)
    assert (sample["read"], sample["kept"], sample["excluded"]) == (12, 10, 2)
    assert sample["domains"][0]["counts"] == [("MP", 6), ("staff", 3), ("not stated", 1)]
    online, hate = sample["items"]
    assert (online["valid"], online["missing"], online["rate"]) == (8, 2, "20.0%")
    assert online["asked"] == "all respondents"
    assert (hate["missing"], hate["not_applicable"], hate["rate"]) == (0, 4, "0.0%")
    assert hate["asked"] == "those who said yes to online gender-based violence"


def test_charts_are_linked_relative_to_the_page_with_alt_text_from_their_data(tmp_path):
    figures = tmp_path / "results" / "figures" / "w"
    (figures / "role-MP").mkdir(parents=True)
    for image in (
        "by_role.png",
        "by_indicator.png",
        "of_whom_online.png",
        "role-MP/by_indicator.png",
    ):
        (figures / image).write_bytes(b"png")
    pd.DataFrame(
        {
            "indicator": ["online", "hate"],
            "label": ["Online gender-based violence", "Online hate speech"],
            "estimate": [0.6, None],
            "ci_low": [0.5, None],
            "ci_high": [0.7, None],
            "n": [88, 20],
            "reason": ["", "sample size n < 30"],
        }
    ).to_csv(figures / "role-MP" / "by_indicator.csv", index=False)
    table = pd.DataFrame(
        {
            "wave": "w",
            "domain": ["overall", "overall", "role", "role"],
            "domain_value": ["All", "All", "MP", "staff"],
            "indicator": ["online", "hate", "online", "online"],
            "denominator": ["all", "online", "all", "all"],
            "n": [100, 50, 88, 12],
            "estimate": [0.5, 0.4, 0.6, None],
            "ci_low": [0.4, 0.27, 0.5, None],
            "ci_high": [0.6, 0.54, 0.7, None],
            "suppressed": [False, False, False, True],
            "level": 0.9,
        }
    )
    groups = study.charts_of(
        sorted(figures.rglob("*.png")),
        page_dir=tmp_path / "results" / "study",
        figures_dir=figures,
        table=table,
        book=BOOK,
        populations=[("role", "MP")],
    )
    assert [g["heading"] for g in groups] == ["women MPs and staff", "women MPs"]
    overall, mps = (g["charts"] for g in groups)
    assert [c.src for c in overall] == [
        "../figures/w/by_indicator.png",
        "../figures/w/of_whom_online.png",
        "../figures/w/by_role.png",
    ]
    assert "Online gender-based violence: 50% (CI 40–60%), n = 100" in overall[0].alt
    assert "staff: not shown" in overall[2].alt  # a suppressed cell gets no number
    assert mps[0].src == "../figures/w/role-MP/by_indicator.png"
    assert mps[0].caption.endswith("among women MPs, with 90% intervals")
    assert "Online gender-based violence: 60% (CI 50–70%), n = 88" in mps[0].alt
    assert "Online hate speech: not shown (sample size n < 30)" in mps[0].alt


def test_each_published_figure_gets_its_verdict():
    reproduction = pd.DataFrame(
        {
            "wave": ["w", "w", "other"],
            "text": ["60% said so", "38% of them", "elsewhere"],
            "published": [60, 38.0, 1],
            "decimals": [0, 0, 0],
            "rounded": [60, 39, 1],
            "match": [True, False, True],
            "n": [88, 53, 9],
            "source": "IPU",
        }
    )
    rows = study.reproduction_of(reproduction, "w")
    assert [(r["published"], r["computed"], r["verdict"]) for r in rows] == [
        ("60%", "60%", "reproduced"),
        ("38%", "39%", "not reproduced"),
    ]


def test_the_pdf_date_is_fixed_without_moving_a_byte():
    printed = b"/CreationDate (D:20261203130139+00'00')\n/ModDate (D:20261203130140-05'00')>>"
    fixed = study.stable_pdf(printed)
    assert len(fixed) == len(printed) and fixed.count(study.PDF_DATE) == 2


def test_without_chromium_the_pdf_fails_saying_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    page = tmp_path / "page.html"
    page.write_text("<p>x</p>")
    with pytest.raises(PrevalenceError, match="headless Chromium") as error:
        study.print_pdf(page, tmp_path / "page.pdf")
    assert "apt-get install chromium" in str(error.value)
    assert not (tmp_path / "page.pdf").exists()


@pytest.mark.browser
def test_chromium_prints_the_same_pdf_twice(tmp_path):
    if shutil.which("chromium") is None or shutil.which("pdftotext") is None:
        pytest.skip("Chromium and poppler-utils are not installed")
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html><html lang='en'><body><h1>60% of 88</h1></body></html>")
    first = study.print_pdf(page, tmp_path / "a.pdf").read_bytes()
    second = study.print_pdf(page, tmp_path / "b.pdf").read_bytes()
    assert first == second and first.startswith(b"%PDF") and study.PDF_DATE in first
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "a.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "60% of 88" in text
