"""End to end: the whole workflow on the tiny survey, as a user runs it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from workflow_project import TINY, make_project, reproducible_files, snakemake

from prevalence.contract import COLUMNS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = make_project(tmp_path_factory.mktemp("tiny"))
    run = snakemake(folder)
    assert run.returncode == 0, run.stderr[-3000:]
    report = snakemake(folder, "--report", "results/report.html")
    assert report.returncode == 0, report.stderr[-3000:]
    return folder


def test_every_output_is_written(project):
    results = project / "results"
    table = pd.read_csv(results / "tables" / "prevalence.csv")
    assert list(table.columns) == [*COLUMNS, "n_suppressed"]
    assert set(table["domain"]) == {"overall", "region", "role", "region+role"}
    for ext in ("xlsx", "md", "tex", "html"):
        assert (results / "tables" / f"prevalence.{ext}").stat().st_size > 500
    for stem in ("by_indicator", "by_region", "by_role"):
        for ext in ("png", "svg", "pdf"):
            assert (results / "figures" / "tiny" / f"{stem}.{ext}").stat().st_size > 1000
    contrasts = pd.read_csv(results / "tables" / "contrasts.csv")
    assert {"MP", "North"} <= set(contrasts["value_a"]) and contrasts["p_adjusted"].notna().any()
    shown = contrasts[~contrasts["suppressed"]]
    assert (shown["ci_low"] <= shown["difference"]).all()
    assert (shown["difference"] <= shown["ci_high"]).all()
    tests = pd.read_csv(results / "tables" / "association_tests.csv")
    assert set(tests["statistic"]) == {"F", "Chisq"} and set(tests["domain"]) == {"region", "role"}
    assert list((results / "figures" / "comparisons").glob("forest_*.png"))
    markdown = (results / "tables" / "comparisons.md").read_text()
    assert "Differences within waves" in markdown and "Tests of association" in markdown
    assert "MP − staff" in markdown
    for ext in ("xlsx", "tex", "html"):
        assert (results / "tables" / f"comparisons.{ext}").stat().st_size > 500
    coverage = pd.read_csv(results / "tables" / "coverage.csv")
    assert set(coverage["method"]) == {"wald", "wilson"} and set(coverage["source"]) == {
        "exact",
        "simulated",
    }
    assert (results / "figures" / "coverage" / "coverage.png").stat().st_size > 1000
    reproduction = pd.read_csv(results / "reproduction.csv")
    assert reproduction["match"].all() and len(reproduction) == 3
    assert (results / "report.html").stat().st_size > 10_000
    manifest = json.loads((results / "manifest.json").read_text())
    assert "data/raw/tiny/responses.csv" in manifest["inputs"]
    assert "results/tables/prevalence.csv" in manifest["outputs"]
    assert manifest["packages"]["numpy"]


def test_published_table_carries_no_suppressed_value(project):
    published = pd.read_csv(project / "results" / "tables" / "prevalence.csv")
    full = pd.read_csv(project / "data" / "processed" / "tiny" / "prevalence.csv")
    hidden = published[published["suppressed"]]
    assert 0 < len(hidden) < len(published)
    for column in ("cases", "estimate", "se", "ci_low", "ci_high", "deff", "n_eff"):
        assert hidden[column].isna().all(), column
    assert hidden.loc[hidden["n_suppressed"], "n"].isna().all()
    shown = published[~published["suppressed"]]
    key = ["domain", "domain_value", "indicator"]
    merged = shown.merge(full, on=key, suffixes=("", "_full"))
    assert (merged["estimate"] == merged["estimate_full"]).all()
    assert full["estimate"].notna().sum() > shown["estimate"].notna().sum()


def test_the_empty_region_is_a_suppressed_row(project):
    table = pd.read_csv(project / "results" / "tables" / "prevalence.csv")
    islands = table[table["domain_value"] == "Islands"]
    assert len(islands) > 0 and (islands["n"] == 0).all() and islands["suppressed"].all()


def test_no_identifier_or_free_text_leaves_ingest(project):
    raw = pd.read_csv(TINY / "responses.csv")
    processed = pd.read_parquet(project / "data" / "processed" / "tiny" / "responses.parquet")
    assert not {"resp_id", "name", "comments"} & set(processed.columns)
    needles = [*raw["resp_id"].head(20), *raw["name"].head(20), raw["comments"].iloc[0]]
    for path in [*(project / "results").rglob("*"), *(project / "data" / "processed").rglob("*")]:
        if path.is_file() and path.suffix in (".csv", ".json", ".svg", ".html", ".log", ".txt"):
            text = path.read_text(errors="ignore")
            found = [
                n for n in needles if re.search(rf"(?<![\w/+]){re.escape(str(n))}(?![\w/+])", text)
            ]
            assert not found, (path, found)


def test_a_population_gets_its_charts_and_their_data(project):
    results = project / "results"
    figures = results / "figures" / "tiny"
    stems = ("by_indicator", "of_whom_online_gbv", "by_region", "heatmap_region")
    for stem in stems:
        for ext in ("png", "svg", "pdf"):
            assert (figures / "role-MP" / f"{stem}.{ext}").stat().st_size > 1000
    assert sorted(p.name for p in (figures / "role-MP").iterdir()) == sorted(
        f"{stem}.{ext}" for stem in stems for ext in ("png", "svg", "pdf", "csv")
    )
    assert not (figures / "role-clerk").exists()  # no clerk in the wave
    table = pd.read_csv(results / "tables" / "prevalence.csv", keep_default_na=False)
    mps = table[(table["domain"] == "role") & (table["domain_value"] == "MP")]
    data = pd.read_csv(figures / "role-MP" / "by_indicator.csv", keep_default_na=False)
    assert set(data["indicator"]) == set(mps["indicator"])
    merged = data.merge(mps, on="indicator", suffixes=("", "_table"))
    for column in ("estimate", "ci_low", "ci_high", "n"):
        assert merged[column].astype(str).tolist() == merged[f"{column}_table"].astype(str).tolist()
    # the breakdown among MPs: the parent, then its children, each of the MPs' own cells
    of_whom = pd.read_csv(figures / "role-MP" / "of_whom_online_gbv.csv")
    assert of_whom["indicator"].iloc[0] == "online_gbv"
    assert set(of_whom["denominator"].iloc[1:]) == {"online_gbv"}
    by_region = pd.read_csv(figures / "role-MP" / "by_region.csv", keep_default_na=False)
    crossed = table[table["domain"] == "region+role"]["domain_value"]
    regions = {v.split("+")[0] for v in crossed if v.endswith("+MP")}
    assert set(by_region["domain_value"]) == regions | {""}
    manifest = json.loads((results / "manifest.json").read_text())
    listed = json.dumps(manifest)
    assert "figures/tiny/role-MP/of_whom_online_gbv.csv" in listed


def test_unchanged_inputs_do_nothing_on_rerun(project):
    run = snakemake(project, "--dry-run")
    assert run.returncode == 0
    assert "Nothing to be done" in run.stdout + run.stderr


def test_a_figure_that_does_not_reproduce_fails_the_run_after_all_outputs(tmp_path):
    folder = make_project(tmp_path, targets="targets_mismatch.yaml")
    run = snakemake(folder)
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "published 74.6%, computed 67.5" in output or "published 74.6%" in output
    assert "Traceback" not in output
    assert (folder / "results" / "reproduction.csv").is_file()
    assert (folder / "results" / "manifest.json").is_file()
    assert (folder / "results" / "figures" / "tiny" / "by_indicator.png").is_file()


def test_bad_input_stops_with_one_clear_message(tmp_path):
    folder = make_project(tmp_path)
    path = folder / "data" / "raw" / "tiny" / "responses.csv"
    frame = pd.read_csv(path, dtype=str)
    frame.loc[9, "q2"] = "6"
    frame.to_csv(path, index=False)
    before = path.read_bytes()
    run = snakemake(folder)
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "column 'q2', line 11: code 6 is not in the codebook" in output
    assert "fix:" in output and "Traceback" not in output
    assert not (folder / "data" / "processed" / "tiny" / "responses.parquet").exists()
    assert path.read_bytes() == before


def test_bad_config_fails_before_anything_runs(tmp_path):
    folder = make_project(tmp_path)
    config = folder / "config.yaml"
    config.write_text(config.read_text().replace("ci_method: wilson", "ci_method: wilsn"))
    run = snakemake(folder, "--dry-run")
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "estimates.ci_method" in output and "use one of: wald, wilson" in output
    assert "Traceback" not in output


IMAGES_LOAD = """(async () => {
  const entries = Object.entries(results).filter(([k, v]) => (v.mime_type || '').startsWith('image/'));
  return await Promise.all(entries.map(([k, v]) => new Promise(done => {
    const img = new Image();
    img.onload = () => done([k, img.naturalWidth, img.naturalHeight]);
    img.onerror = () => done([k, 0, 0]);
    img.src = v.data_uri;
  })));
})()"""


def _need_chromium() -> None:
    from browser import chromium_path

    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")


@pytest.mark.browser
def test_report_opens_in_a_real_browser(project, tmp_path):
    from browser import Browser

    _need_chromium()
    with Browser() as browser:
        browser.open((project / "results" / "report.html").as_uri())
        images = browser.evaluate(IMAGES_LOAD)
        text = browser.evaluate("document.body.innerText")
        shot = browser.screenshot(tmp_path / "report.png")
        errors = browser.console_errors()
    names = sorted(name for name, _, _ in images)
    charts = sorted(
        str(p.relative_to(project))
        for p in (project / "results" / "figures").rglob("*")
        if p.suffix in (".png", ".svg")
    )
    assert names == charts and len(names) >= 8  # every chart is in the report
    assert all(width > 0 and height > 0 for _, width, height in images), images
    assert errors == []
    for heading in ("Methods", "Design and variance.", "Publication standard: nchs.", "synthetic"):
        assert heading in text, heading
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] > 500 and pixels.std() > 0.05  # not blank


STUDY_IMAGES = """Array.from(document.images).map(
  i => [i.getAttribute('src'), i.naturalWidth, i.naturalHeight, i.alt])"""


def _words(text: str) -> str:
    return " ".join(text.split())


def _unwrapped(text: str) -> str:
    """Text without spaces and hyphens: pdftotext ends a line where the browser broke it (after
    "26–", "gender-") and joins a word broken at its hyphen ("genderbased")."""
    return "".join(text.replace("-", "").split())


@pytest.mark.browser
def test_the_study_report_opens_in_a_real_browser(project, tmp_path):
    from browser import Browser

    _need_chromium()
    # moved as a whole, the results folder keeps its report's images (they are relative)
    moved = tmp_path / "elsewhere"
    shutil.copytree(project / "results", moved)
    with Browser() as browser:
        browser.open((moved / "study" / "tiny.html").as_uri())
        images = browser.evaluate(STUDY_IMAGES)
        text = browser.evaluate("document.body.innerText")
        errors = browser.console_errors()
    charts = sorted(
        f"../figures/tiny/{p.relative_to(moved / 'figures' / 'tiny').as_posix()}"
        for p in (moved / "figures" / "tiny").rglob("*.png")
    )
    assert sorted(src for src, *_ in images) == charts and len(charts) >= 4
    assert all(width > 0 and height > 0 for _, width, height, _ in images), images
    assert all(len(alt) > 40 for *_, alt in images), images  # caption and values
    assert errors == []
    findings = pd.read_csv(project / "results" / "tables" / "key_findings.csv")
    for sentence in findings["sentence"]:
        assert _words(sentence) in _words(text), sentence
    for heading in ("The sample", "Item non-response", "Main table", "Methods", "Limitations"):
        assert heading in text, heading
    assert "Publication standard: nchs." in text and "convenience sample" in text
    assert "Appendix: published figures" in text and "reproduced" in text


@pytest.mark.browser
def test_the_study_pdf_has_pages_and_the_key_findings(project, tmp_path):
    import subprocess

    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is not installed (apt-get install poppler-utils)")
    pdf = project / "results" / "study" / "tiny.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1))
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    rendered = sorted(tmp_path.glob("page-*.png"))
    assert pages >= 2 and len(rendered) == pages
    assert all(p.stat().st_size > 1000 for p in rendered)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    findings = pd.read_csv(project / "results" / "tables" / "key_findings.csv")
    printed = _unwrapped(text)
    for sentence in findings["sentence"]:
        assert _unwrapped(sentence) in printed, sentence


@pytest.mark.slow  # a second whole run: make test-slow
def test_a_second_run_elsewhere_gives_byte_identical_results(project, tmp_path):
    other = make_project(tmp_path)
    run = snakemake(other)
    assert run.returncode == 0, run.stderr[-3000:]

    def digests(folder):
        results = folder / "results"
        return {
            str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in reproducible_files(results)
        }

    first, second = digests(project), digests(other)
    assert first.keys() == second.keys()
    assert {k for k in first if first[k] != second[k]} == set()
    assert any(k.endswith(".png") for k in first) and any(k.endswith(".pdf") for k in first)


def test_without_chromium_the_study_stops_saying_what_to_install(project, tmp_path, monkeypatch):
    """Every tool of the PATH but Chromium: the study step fails with one message, no traceback."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for folder in map(Path, os.environ["PATH"].split(os.pathsep)):
        for tool in sorted(folder.iterdir()) if folder.is_dir() else []:
            if not tool.name.startswith(("chromium", "google-chrome")):
                if not (tools / tool.name).exists():
                    (tools / tool.name).symlink_to(tool)
    copy = tmp_path / "project"
    shutil.copytree(project, copy, symlinks=True)
    monkeypatch.setenv("PATH", str(tools))
    run = snakemake(copy, "--forcerun", "study", "--until", "study")
    assert run.returncode != 0
    assert "ERROR study tiny: the study report's PDF is printed by headless Chromium" in run.stderr
    assert "fix: install Chromium (Debian/Ubuntu: apt-get install chromium" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (copy / "results" / "study" / "tiny.pdf").exists()
