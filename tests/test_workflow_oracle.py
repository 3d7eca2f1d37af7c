"""Design-based numbers through the whole workflow equal R's survey package.

R's ``api`` data sets run through Snakemake as survey waves, each with its design in
config.yaml (weights, strata, one- and two-stage clusters, FPC, replicate weights, a
lonely PSU). The analyst's prevalence tables must match ``reference.csv`` (R's
``svyciprop(..., method = "beta")``, ``svymean(..., deff = TRUE)``, ``degf``) row by row.

A second run takes replicate designs (JK1, BRR) with ``ci_method: logit`` and the
comparisons on data with item non-response over whole PSUs (``tests/fixtures/oracle_valid``):
its prevalence tables must match R's ``svyciprop(method = "logit")``, and its contrasts and
tests of association R's ``svycontrast`` and ``svychisq`` on the rows with a valid answer,
with their degrees of freedom.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_project import ROOT, snakemake

pytestmark = pytest.mark.e2e

ORACLE = ROOT / "tests" / "fixtures" / "oracle"
INDICATORS = ["sch_wide", "comp_imp", "both", "awards", "yr_rnd", "avg_ed_gt3"]
WAVES = {
    # wave id: (R design, data file, design block, lonely_psu option in reference.csv)
    "srs": ("srs", "apisrs.csv", {"fpc": "fpc"}, "none"),
    "strat": ("strat", "apistrat.csv", {"weight": "pw", "strata": "stype", "fpc": "fpc"}, "none"),
    "clus1": ("clus1", "apiclus1.csv", {"weight": "pw", "psu": "dnum", "fpc": "fpc"}, "none"),
    "clus2": (
        "clus2",
        "apiclus2.csv",
        {"psu": ["dnum", "school"], "fpc": ["fpc1", "fpc2"]},
        "none",
    ),
    "jk1": (
        "clus1_jk1",
        "apiclus1_jk1_repw.csv",
        {
            "weight": "pw",
            "replicates": {
                "prefix": "repw_",
                "type": "JK1",
                "scale": 0.91483927785116681,
                "rscales": 1,
                "mse": False,
            },
        },
        "none",
    ),
    "lonely": (
        "clus2_lonely",
        "apiclus2_lonely.csv",
        {
            "psu": ["dnum", "school"],
            "strata": "lstrat",
            "fpc": ["fpc1_l", "fpc2"],
            "lonely_psu": "adjust",
        },
        "adjust",
    ),
}


def run_project(folder, waves, codebook, config, targets=()):
    """This checkout's workflow around R's data sets as waves, run with Snakemake.

    ``waves`` maps a wave id to its responses (a frame of text) and design block; every
    wave gets ``codebook``; ``config`` is the rest of config.yaml. Runs the wave's
    prevalence tables and ``targets``.
    """
    shutil.copy(ROOT / "Snakefile", folder / "Snakefile")
    shutil.copytree(ROOT / "workflow", folder / "workflow")
    shutil.copytree(ROOT / "scripts", folder / "scripts")
    entries = {}
    for wave, (frame, design) in waves.items():
        raw = folder / "data" / "raw" / wave
        raw.mkdir(parents=True)
        frame.to_csv(raw / "responses.csv", index=False)
        (raw / "codebook.yaml").write_text(yaml.safe_dump(codebook, sort_keys=False))
        entries[wave] = {
            "responses": f"data/raw/{wave}/responses.csv",
            "codebook": f"data/raw/{wave}/codebook.yaml",
            "design": design,
        }
    (folder / "config.yaml").write_text(
        yaml.safe_dump({"waves": entries, **config}, sort_keys=False)
    )
    run = snakemake(folder, *targets, *[f"data/processed/{w}/prevalence.csv" for w in waves])
    assert run.returncode == 0, run.stderr[-4000:]
    return folder


def read_text_csv(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    codebook = {
        "respondent_id": "snum",
        "domains": {"stype": {"column": "stype", "labels": {"E": "E", "H": "H", "M": "M"}}},
        "defaults": {"yes_codes": [1], "no_codes": [0], "missing_codes": ["NA"], "skip_codes": []},
        "indicators": {name: {"column": name} for name in INDICATORS},
    }
    waves = {}
    for wave, (_, data, design, _) in WAVES.items():
        frame = read_text_csv(ORACLE / "data" / data)
        # Two-stage designs sample schools within districts: the school is the second-stage
        # unit. The respondent id never reaches the design, so the unit gets its own column.
        frame["school"] = frame["snum"]
        waves[wave] = (frame, design)
    config = {"estimates": {"by": ["stype"], "ci_method": "korn-graubard", "level": 0.95}}
    return run_project(tmp_path_factory.mktemp("oracle"), waves, codebook, config)


def reference() -> pd.DataFrame:
    ref = pd.read_csv(ORACLE / "reference.csv")
    ref["note"] = ref["note"].fillna("")
    ref = ref[(ref["ci_method"] == "beta") & (ref["level"] == 0.95)]
    return ref[ref["na_handling"].isin(["none", "subset"])]


@pytest.mark.parametrize("wave", list(WAVES))
def test_workflow_numbers_equal_r(project, wave):
    design, _, _, lonely = WAVES[wave]
    ours = pd.read_csv(project / "data" / "processed" / wave / "prevalence.csv")
    ours["flag"] = ours["flag"].astype(object).fillna("")
    ref = reference()
    ref = ref[(ref["design"] == design) & (ref["lonely_psu"] == lonely)]
    if design == "srs":
        ref = ref[ref["dataset"] == "apisrs"]
    keys = ["domain", "domain_value", "indicator"]
    merged = ref.merge(ours, on=keys, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(ref) > 20
    assert (merged["n"] == merged["n_r"]).all() and (merged["cases"] == merged["cases_r"]).all()
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-8, atol=1e-15)
    np.testing.assert_allclose(merged["df"], merged["df_r"], rtol=0, atol=0)
    regular = merged[~merged["note"].str.startswith("degenerate")]
    assert len(regular) > 0.8 * len(merged)
    for column in ("ci_low", "ci_high", "n_eff"):
        np.testing.assert_allclose(
            regular[column], regular[f"{column}_r"], rtol=1e-8, err_msg=column
        )
    finite = regular[np.isfinite(regular["deff_r"])]
    np.testing.assert_allclose(finite["deff"], finite["deff_r"], rtol=1e-8)
    degenerate = merged[merged["note"].str.startswith("degenerate")]
    assert degenerate["ci_low"].notna().all() and degenerate["ci_high"].notna().all()
    assert (degenerate["flag"].str.len() > 0).all()


# --------------------------------------------------------------------------------------
# Replicate designs with the logit interval, and the comparisons, through the workflow:
# tests/fixtures/oracle_valid (R's svyciprop(method = "logit"), svycontrast and svychisq on
# the rows with a valid answer; the R call is on every reference row)
# --------------------------------------------------------------------------------------
VALID = ROOT / "tests" / "fixtures" / "oracle_valid"
VALID_WAVES = ("clus1_jk1", "strat_paired_brr")  # JK1 and BRR; both lose df on awards_nr
VALID_CODEBOOK = {
    "respondent_id": "snum",
    # R's data answer comp_imp for every school: the "of whom" indicator is R's subset of
    # sch_wide = 1, not a questionnaire's routing, so answers outside it are left out.
    "skip_violations": "exclude",
    "domains": {
        "stype": {"column": "stype", "labels": {"E": "E", "H": "H", "M": "M"}},
        "stype_nr": {
            "column": "stype_nr",
            "labels": {"E": "E", "H": "H", "M": "M"},
            "missing_codes": ["NA"],
        },
    },
    "defaults": {"yes_codes": [1], "no_codes": [0], "missing_codes": ["NA"], "skip_codes": []},
    "indicators": {
        "sch_wide": {"column": "sch_wide"},
        "awards_nr": {"column": "awards_nr"},
        "comp_imp_of_sch_wide": {"column": "comp_imp", "denominator": "sch_wide"},
        "yr_rnd": {"column": "yr_rnd"},
    },
}


@pytest.fixture(scope="module")
def valid_project(tmp_path_factory):
    from oracle_reference import VALID_DESIGNS

    waves = {}
    for wave in VALID_WAVES:
        data, design = VALID_DESIGNS[wave]
        waves[wave] = (read_text_csv(VALID / "data" / data), design)
    config = {
        "estimates": {"by": ["stype", "stype_nr"], "ci_method": "logit", "level": 0.95},
        # publish every cell: the comparisons of all of them are checked against R
        "publication": {
            "standard": "custom",
            "min_n": 0,
            "min_effective_n": 0,
            "max_ci_width": 1,
            "relative_ci_width": 100,
            "relative_ci_width_above": 0.99,
            "disclosure_k": 1,
        },
        "comparisons": {
            "within": [
                {"domain": d, "against": against}
                for d in ("stype", "stype_nr")
                for against in ("pairs", "others")
            ],
            "association": ["stype", "stype_nr"],
        },
    }
    targets = ["results/tables/contrasts.csv", "results/tables/association_tests.csv"]
    folder = tmp_path_factory.mktemp("oracle_valid")
    return run_project(folder, waves, VALID_CODEBOOK, config, targets)


@pytest.mark.parametrize("wave", VALID_WAVES)
def test_workflow_logit_on_replicate_designs_equals_r(valid_project, wave):
    ours = pd.read_csv(valid_project / "data" / "processed" / wave / "prevalence.csv")
    ours["flag"] = ours["flag"].astype(object).fillna("")
    ref = pd.read_csv(VALID / "logit.csv")
    ref["note"] = ref["note"].fillna("")
    ref = ref[(ref["design"] == wave) & (ref["ci_method"] == "logit") & (ref["level"] == 0.95)]
    ref = ref[ref["domain"].isin(["overall", "stype"])]
    keys = ["domain", "domain_value", "indicator"]
    merged = ref.merge(ours, on=keys, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(ref) > 10
    assert (merged["ci_method"] == "logit").all()
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-8)
    np.testing.assert_array_equal(merged["df"], merged["df_r"])
    regular = merged[merged["estimate_r"].between(0, 1, inclusive="neither")]
    assert len(regular) > 10
    for column in ("ci_low", "ci_high"):
        excess = np.abs(regular[column] - regular[f"{column}_r"]) - (
            1e-8 + 1e-8 * np.abs(regular[f"{column}_r"])
        )
        assert (excess <= 0).all(), regular.loc[excess > 0, keys + [column, f"{column}_r"]]
    # a replicate estimate of 0 or 1: R's interval, flagged
    edge = regular["flag"].str.contains("replicate estimate 0 or 1")
    assert edge.any() == (wave == "strat_paired_brr")


def test_workflow_contrasts_and_tests_use_the_df_of_the_valid_rows(valid_project):
    tables = valid_project / "results" / "tables"
    ours = pd.read_csv(tables / "contrasts.csv")
    ref = pd.read_csv(VALID / "contrasts.csv")
    ref = ref[ref["design"].isin(VALID_WAVES)].rename(columns={"design": "wave_a"})
    keys = ["wave_a", "indicator", "domain", "value_a", "value_b"]
    merged = ref.merge(ours, on=keys, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(ref) == len(VALID_WAVES) * 36
    assert not merged["suppressed"].any()
    np.testing.assert_array_equal(merged["df"], merged["df_r"])
    assert (merged["df"] < merged["degf_design"]).any()
    for column in ("difference", "se", "ci_low", "ci_high", "p_value"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=1e-9, atol=1e-14)

    tests = pd.read_csv(tables / "association_tests.csv")
    ref = pd.read_csv(VALID / "association.csv")
    ref = ref[ref["design"].isin(VALID_WAVES)].rename(columns={"design": "wave"})
    keys = ["wave", "indicator", "domain", "statistic"]
    merged = ref.merge(tests, on=keys, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(ref) == len(VALID_WAVES) * 12
    np.testing.assert_array_equal(merged["design_df"], merged["design_df_r"])
    np.testing.assert_allclose(merged["value"], merged["value_r"], rtol=1e-8)
    np.testing.assert_allclose(merged["p_value"], merged["p_value_r"], rtol=1e-8)
    # one rule: a contrast and the test of the same indicator and domain share the df
    both = ours.merge(
        tests, left_on=["wave_a", "indicator", "domain"], right_on=["wave", "indicator", "domain"]
    )
    assert (both["df"] == both["design_df"]).all()
