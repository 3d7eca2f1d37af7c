"""Every way calibration can fail is one clear message, not R's warning.

Each case starts from the tiny survey project (tests/fixtures/tiny) with its weights raked
to population totals by region and role (``data/population/tiny.csv``), breaks one thing,
and runs ``python -m prevalence check`` as a user would (as ``tests/test_bad_inputs.py``
does): exit status 1, one message naming the file, the margin and the category, and the
fix; no traceback; nothing written. One case also runs the workflow (Snakemake).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_project import make_project, snakemake

from prevalence.design.calibration import parse_calibration
from prevalence.design.core import SurveyDesign
from prevalence.errors import DesignError
from prevalence.workflow.cli import main

POPULATION = "data/population/tiny.csv"
TOTALS = [
    ("region", "North", 400),
    ("region", "South", 700),
    ("region", "East", 350),
    ("region", "West", 550),
    ("role", "MP", 1400),
    ("role", "staff", 600),
]
CALIBRATION = {"method": "raking", "population": POPULATION, "margins": ["region", "role"]}
DESIGN = {"weight": "weight", "strata": "stratum", "psu": "psu", "fpc": "fpc"}


def calibrated_project(folder: Path, totals=TOTALS, **block) -> Path:
    make_project(folder, design={**DESIGN, "lonely_psu": "adjust"})
    population = folder / POPULATION
    population.parent.mkdir(parents=True)
    pd.DataFrame(totals, columns=["margin", "value", "total"]).to_csv(population, index=False)
    path = folder / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config["design"]["calibration"] = {**CALIBRATION, **block}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


@dataclass(frozen=True)
class Case:
    id: str
    totals: list
    block: dict
    expect: tuple[str, ...]


def replace_total(margin: str, value: str, total) -> list:
    return [(m, v, total if (m, v) == (margin, value) else t) for m, v, t in TOTALS]


CASES = [
    Case(
        "raking-does-not-converge",
        TOTALS,
        {"maxit": 1},
        (
            "raking did not converge in 1 sweeps",
            "margin 'region', category",
            "fix: raise design.calibration.maxit",
        ),
    ),
    Case(
        "population-category-without-respondents",
        [*TOTALS[:4], ("region", "Islands", 10), *TOTALS[4:]],
        {},
        (
            f"file {POPULATION}",
            "calibration margin 'region': no respondent is in category 'Islands'",
            "fix: merge the category with another",
        ),
    ),
    Case(
        "sample-category-without-population-total",
        [t for t in TOTALS if t[1] != "West"],
        {},
        (
            f"file {POPULATION}",
            "calibration margin 'region': category 'West' of the sample has no population total",
            "fix: add the row region,West,<total> to the population file",
        ),
    ),
    Case(
        "margin-totals-disagree",
        replace_total("role", "staff", 650),
        {},
        (
            "the totals of margin 'role' sum to 2050 and those of 'region' to 2000",
            "a difference of 50",
            "fix: every margin must count the same population",
        ),
    ),
    Case(
        "bounds-no-solution-meets",
        [(m, v, 5 * t) for m, v, t in TOTALS],
        {"method": "logit", "bounds": [0.5, 2.0]},
        (
            "no logit calibration within bounds [0.5, 2] meets the totals",
            "margin 'region', category",
            "fix: widen design.calibration.bounds",
        ),
    ),
    Case(
        "raking-outside-bounds",
        TOTALS,
        {"bounds": [0.95, 1.05]},
        ("raking gives g-weights outside the bounds [0.95, 1.05]", "in the cell region = "),
    ),
    Case(
        "population-total-zero",
        replace_total("region", "East", 0),
        {},
        (
            f"file {POPULATION}, column 'total', line 4",
            "the population total of margin 'region', category 'East' is 0",
            "fix: give the category its population count",
        ),
    ),
    Case(
        "population-total-negative",
        replace_total("role", "MP", -5),
        {},
        ("margin 'role', category 'MP' is -5; totals must be above 0",),
    ),
    Case(
        "margin-not-a-domain",
        [(m.replace("role", "chamber"), v, t) for m, v, t in TOTALS],
        {"margins": ["region", "chamber"]},
        (
            "calibration margin 'chamber': 'chamber' is not a domain of the codebook",
            "fix: use the codebook's domain ids",
        ),
    ),
    Case(
        "margin-not-in-population-file",
        [t for t in TOTALS if t[0] != "role"],
        {},
        ("the population file has no totals for margin 'role'", "fix: add one row per category"),
    ),
    Case(
        "crossing-not-in-population-file",
        TOTALS,
        {"method": "poststratify", "margins": [["region", "role"]]},
        ("the population file has margin 'region', which design.calibration.margins",),
    ),
    Case(
        "poststratify-two-margins",
        TOTALS,
        {"method": "poststratify"},
        ("post-stratification takes one margin", "fix: post-stratify on their crossing"),
    ),
    Case(
        "logit-without-bounds",
        TOTALS,
        {"method": "logit"},
        ("logit calibration needs bounds on the g-weights",),
    ),
    Case(
        "bounds-without-1",
        TOTALS,
        {"method": "linear", "bounds": [1.2, 2.0]},
        ("bounds must hold 1",),
    ),
    Case(
        "unknown-method",
        TOTALS,
        {"method": "greg"},
        ("calibration.method", "raking"),
    ),
    Case(
        "population-file-missing",
        TOTALS,
        {"population": "data/population/none.csv"},
        ("file data/population/none.csv", "file not found", "fix: put the population totals"),
    ),
]


def test_the_corpus_covers_every_failure_of_the_interface():
    assert len({c.id for c in CASES}) == len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_calibration_failure_gives_its_message(case, tmp_path, capsys):
    folder = calibrated_project(tmp_path, case.totals, **case.block)
    status = main(["check", str(folder / "config.yaml")])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert status == 1, output
    assert output.count("error:") == 1 and "Traceback" not in output, output
    for fragment in case.expect:
        assert fragment in output, (fragment, output)
    assert not (folder / "results").exists() and not (folder / "data" / "processed").exists()


def test_a_calibrated_project_passes_the_check(tmp_path, capsys):
    folder = calibrated_project(tmp_path)
    assert main(["check", str(folder / "config.yaml")]) == 0, capsys.readouterr()


@pytest.mark.e2e
def test_the_workflow_stops_the_same_way(tmp_path):
    case = next(c for c in CASES if c.id == "margin-totals-disagree")
    folder = calibrated_project(tmp_path, case.totals, **case.block)
    run = snakemake(folder)
    output = run.stdout + run.stderr
    assert run.returncode != 0 and "Traceback" not in output, output[-3000:]
    for fragment in case.expect:
        assert fragment in output, (fragment, output[-3000:])


# ---- the library's own refusals (no project needed)
def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "w": [1.0, 2.0, 1.5, 1.0],
            "rep1": [0.0, 4.0, 1.5, 2.0],
            "rep2": [2.0, 0.0, 3.0, 1.0],
            "region": ["a", "a", "b", "b"],
        }
    )


def _population() -> pd.DataFrame:
    return pd.DataFrame({"margin": ["region"] * 2, "value": ["a", "b"], "total": [3, 4]})


def test_trimming_replicate_weights_is_refused():
    frame = _frame()
    block = {"method": "poststratify", "population": "p.csv", "margins": ["region"]}
    spec = {
        "weight": "w",
        "replicates": {"columns": ["rep1", "rep2"], "type": "JK1"},
        "calibration": {**block, "trim": [0.5, 3.0]},
    }
    with pytest.raises(DesignError, match="trim cannot be used with replicate weights"):
        SurveyDesign.from_frame(frame, spec, domains=frame, populations={"p.csv": _population()})
    spec["calibration"] = block  # without trim: every replicate post-stratified exactly
    design = SurveyDesign.from_frame(
        frame, spec, domains=frame, populations={"p.csv": _population()}
    )
    reps = design.replicates.weights
    for col in range(2):
        sums = pd.Series(reps[:, col]).groupby(frame["region"]).sum().to_numpy()
        np.testing.assert_allclose(sums, [3, 4], rtol=1e-14)
    assert reps[0, 0] == 0 and reps[1, 1] == 0


def test_a_respondent_without_a_category_is_named():
    frame = _frame().assign(region=["a", None, "b", "b"])
    spec = {
        "weight": "w",
        "calibration": {"method": "poststratify", "population": "p.csv", "margins": ["region"]},
    }
    with pytest.raises(DesignError) as caught:
        SurveyDesign.from_frame(frame, spec, domains=frame, populations={"p.csv": _population()})
    assert caught.value.row == 2 and "1 respondents have no value of 'region'" in str(caught.value)


def test_a_category_given_twice_and_an_unknown_key_are_refused():
    twice = pd.concat([_population(), _population().iloc[:1]])
    block = {"method": "raking", "margins": ["region"]}
    with pytest.raises(DesignError, match="category 'a' is given twice"):
        parse_calibration(block, twice, source="config.yaml", population_source="p.csv")
    frame = _frame()
    spec = {"weight": "w", "calibration": {**block, "population": "p.csv", "maxiter": 5}}
    with pytest.raises(DesignError, match="unknown key 'maxiter' in design.calibration"):
        SurveyDesign.from_frame(frame, spec, domains=frame, populations={"p.csv": _population()})
