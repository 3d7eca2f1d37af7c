"""Every documented option of config.yaml through the workflow, each enum value at least once.

A documented setting must work as a user writes it, from config.yaml through Snakemake's
parse-time validation to the job that uses it. The runs are few and small: each one sets
several options at once on copies of the tiny survey and asks Snakemake only for the files
those options change (a wave's tables without its charts, say). test_workflow.py runs the
defaults (wilson, NCHS, Holm by indicator, named pairs, coverage of wald and wilson) to the
end; the `fail` policy for a lonely PSU and `privacy.policy: refuse` stop the run, as
tests/test_bad_inputs.py shows through the workflow too; two-stage designs (`psu` and `fpc` as
lists) run through the workflow in tests/test_workflow_oracle.py, equal to R.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_project import make_project, snakemake

pytestmark = pytest.mark.e2e

SURVEY = {"weight": "weight", "strata": "stratum", "psu": "psu", "fpc": "fpc"}
REPLICATES = {"weight": "weight", "replicates": {"prefix": "repw_"}}


def with_replicates(folder):
    """The tiny responses with four jackknife-like replicate weights (zero out a PSU group)."""
    raw = folder / "data/raw/tiny"
    frame = pd.read_csv(raw / "responses.csv", dtype=str, keep_default_na=False)
    group = frame["psu"].astype(int).to_numpy() % 4
    weight = frame["weight"].astype(float).to_numpy()
    for r in range(4):
        frame[f"repw_{r + 1}"] = np.round(np.where(group == r, 0.0, weight * 4 / 3), 6)
    frame.to_csv(raw / "replicates.csv", index=False)


def wave(design=None, responses="responses.csv"):
    wave = {"responses": f"data/raw/tiny/{responses}", "codebook": "data/raw/tiny/codebook.yaml"}
    if design is not None:
        wave["design"] = design
    return wave


def replicate(kind, **options):
    return {**REPLICATES, "replicates": {**REPLICATES["replicates"], "type": kind, **options}}


# One run per interval method (the setting is global), each with a different design or
# setting of the wave job: (ci_method, wave design, other settings).
WAVE_RUNS = [
    ("wald", {**SURVEY, "lonely_psu": "remove"}, {"publication": {"standard": "none"}}),
    ("clopper-pearson", {**SURVEY, "lonely_psu": "certainty"}, {"level": 0.9}),
    ("jeffreys", {**SURVEY, "lonely_psu": "average", "nest": True}, {}),
    (
        "agresti-coull",
        {"weight": "weight", "strata": "stratum", "psu": "psu", "lonely_psu": "adjust"},
        {"privacy": {"k": 50, "policy": "coarsen"}},
    ),
    ("logit", replicate("JK1"), {}),
    ("xlogit", replicate("JKn", rscales=[0.75, 0.75, 0.75, 0.75]), {}),
    ("asin", replicate("BRR"), {}),
    ("likelihood", replicate("Fay", rho=0.5), {}),
    ("korn-graubard", replicate("bootstrap", mse=True), {}),
    ("korn-graubard-nchs", replicate("SDR", scale=1.0), {}),
]


def configure(folder, change):
    path = folder / "config.yaml"
    config = yaml.safe_load(path.read_text())
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return config


@pytest.mark.parametrize(("method", "design", "settings"), WAVE_RUNS, ids=[r[0] for r in WAVE_RUNS])
def test_each_interval_method_and_design_option_runs(tmp_path, method, design, settings):
    folder = make_project(tmp_path)
    with_replicates(folder)

    def change(config):
        config["waves"] = {"w": wave(design, "replicates.csv")}
        config["estimates"]["ci_method"] = method
        config["estimates"]["level"] = settings.get("level", 0.95)
        config.pop("targets")
        config.pop("comparisons")
        config.update({k: v for k, v in settings.items() if k != "level"})

    configure(folder, change)
    processed = folder / "data/processed/w"
    run = snakemake(folder, "data/processed/w/published.csv")
    assert run.returncode == 0, run.stderr[-3000:]
    table = pd.read_csv(processed / "prevalence.csv")
    assert set(table["ci_method"]) == {method}
    assert set(table["level"]) == {settings.get("level", 0.95)}
    df = table["df"].dropna()  # an empty domain has none
    assert len(df) and np.isfinite(df).all()  # a design-based df: the design reached the job
    published = pd.read_csv(processed / "published.csv", keep_default_na=False)
    if settings.get("publication") == {"standard": "none"}:
        reliability = "sample size n <|effective sample size <|CI width"  # NCHS's flags
        assert not published["flag"].str.contains(reliability).any()
        assert published["flag"].str.contains("fewer than 3").any()  # disclosure still applies
    if "privacy" in settings:
        log = json.loads((processed / "ingest_log.json").read_text())
        assert log["k_anonymity"]["policy"] == "coarsen" and log["k_anonymity"]["coarsened"]


# The publish job's options: each run sets one value of each enum (adjustment, family,
# table decimal mark) and a different form of the comparisons.
PUBLISH_RUNS = [
    (
        {"adjust": "holm", "family": "all", "within": [{"domain": "role", "against": "pairs"}]},
        {"decimal_mark": ",", "range_dash": "–", "percent": True, "decimals": 1, "show_n": True},
        {
            "standard": "custom",
            "min_n": 10,
            "min_effective_n": 10,
            "max_ci_width": 0.9,
            "relative_ci_width": 100,
            "relative_ci_width_above": 0.5,
            "review_df_below": 2,
            "disclosure_k": 2,
            "protect_unreliable": True,
        },
        "consecutive",
    ),
    (
        {
            "adjust": "fdr_bh",
            "family": "comparison",
            "within": [{"domain": "region", "against": "others"}],
        },
        {"decimal_mark": ".", "percent": False, "suppressed": "n/a", "show_n": False},
        {"standard": "nchs"},
        "all",
    ),
    (
        {
            "adjust": "none",
            "family": "indicator",
            "within": [{"domain": "role", "pairs": [["staff", "MP"]]}],
        },
        {},
        {"standard": "none", "disclosure_k": 1},
        "consecutive",
    ),
]


@pytest.mark.parametrize(("comparisons", "tables", "publication", "pairs"), PUBLISH_RUNS)
def test_comparison_table_and_publication_options_run(
    tmp_path, comparisons, tables, publication, pairs
):
    folder = make_project(tmp_path)

    def change(config):
        config["results"] = "out/results"
        config["waves"] = {"a": wave(), "b": wave(), "c": wave(SURVEY | {"lonely_psu": "adjust"})}
        config["estimates"]["by"] = ["region", "role"]
        config["comparisons"] = {
            **comparisons,
            "association": ["role"],
            "between_waves": [
                {
                    "waves": ["a", "b", "c"],
                    "pairs": pairs,
                    "domain": {"domain": "role", "value": "MP"},
                },
                {"waves": ["a", "c"], "domain": "overall", "indicators": ["psychological"]},
            ],
        }
        config["tables"] = tables
        config["publication"] = publication
        config.pop("targets")
        config.pop("coverage")

    configure(folder, change)
    tables_dir = folder / "out/results/tables"
    run = snakemake(folder, "out/results/tables/contrasts.csv")
    assert run.returncode == 0, run.stderr[-3000:]
    contrasts = pd.read_csv(tables_dir / "contrasts.csv", keep_default_na=False)
    within = contrasts[contrasts["comparison"] == "within"]
    assert set(within["adjust_method"]) == {comparisons["adjust"]}
    between = contrasts[contrasts["comparison"] == "between"]
    role_pairs = {(a, b) for a, b in zip(between["wave_a"], between["wave_b"], strict=True)}
    expected = {("b", "a"), ("c", "b")} | ({("c", "a")} if pairs == "all" else set())
    assert role_pairs == expected | {("c", "a")}  # the overall entry compares c with a
    assert set(between.loc[between["domain"] == "overall", "indicator"]) == {"psychological"}
    markdown = (tables_dir / "prevalence.md").read_text()
    if tables.get("decimal_mark") == ",":
        assert re.search(r"\d,\d", markdown) and "–" in markdown
    if tables.get("suppressed") == "n/a":
        assert "n/a" in markdown
    published = pd.read_csv(tables_dir / "prevalence.csv")
    estimates = pd.concat(
        pd.read_csv(folder / "data/processed" / w / "prevalence.csv") for w in ("a", "b", "c")
    ).reset_index(drop=True)
    small = (estimates["n"] > 0) & (estimates["n"] < 30)  # NCHS suppresses n < 30
    assert small.any()
    if publication["standard"] == "nchs":
        assert published.loc[small, "suppressed"].all()
    elif publication["standard"] == "none" and publication.get("disclosure_k") == 1:
        assert not published.loc[estimates["n"] > 0, "suppressed"].any()
    else:  # custom, min_n 10: cells of 10 to 29 respondents may be shown
        assert not published.loc[small & (estimates["n"] >= 10), "suppressed"].all()


def test_coverage_of_every_method_without_and_with_simulation(tmp_path):
    folder = make_project(tmp_path)
    methods = [m for m, _, _ in WAVE_RUNS] + ["wilson"]

    def change(config):
        config["coverage"] = {"n": [15, 30], "p": "0.1:0.9:0.4", "methods": methods}

    configure(folder, change)
    run = snakemake(folder, "results/tables/coverage.csv")
    assert run.returncode == 0, run.stderr[-3000:]
    coverage = pd.read_csv(folder / "results/tables/coverage.csv")
    assert set(coverage["method"]) == set(methods) and set(coverage["source"]) == {"exact"}
    assert set(coverage["n"]) == {15, 30}
