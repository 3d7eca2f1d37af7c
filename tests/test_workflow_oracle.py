"""Design-based numbers through the whole workflow equal R's survey package.

R's ``api`` data sets run through Snakemake as survey waves, each with its design in
config.yaml (weights, strata, one- and two-stage clusters, FPC, replicate weights, a
lonely PSU). The analyst's prevalence tables must match ``reference.csv`` (R's
``svyciprop(..., method = "beta")``, ``svymean(..., deff = TRUE)``, ``degf``) row by row.
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


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oracle")
    shutil.copy(ROOT / "Snakefile", folder / "Snakefile")
    shutil.copytree(ROOT / "workflow", folder / "workflow")
    shutil.copytree(ROOT / "scripts", folder / "scripts")
    codebook = {
        "respondent_id": "snum",
        "domains": {"stype": {"column": "stype", "labels": {"E": "E", "H": "H", "M": "M"}}},
        "defaults": {"yes_codes": [1], "no_codes": [0], "missing_codes": ["NA"], "skip_codes": []},
        "indicators": {name: {"column": name} for name in INDICATORS},
    }
    waves = {}
    for wave, (_, data, design, _) in WAVES.items():
        raw = folder / "data" / "raw" / wave
        raw.mkdir(parents=True)
        frame = pd.read_csv(ORACLE / "data" / data, dtype=str, keep_default_na=False)
        # Two-stage designs sample schools within districts: the school is the second-stage
        # unit. The respondent id never reaches the design, so the unit gets its own column.
        frame["school"] = frame["snum"]
        frame.to_csv(raw / "responses.csv", index=False)
        (raw / "codebook.yaml").write_text(yaml.safe_dump(codebook, sort_keys=False))
        waves[wave] = {
            "responses": f"data/raw/{wave}/responses.csv",
            "codebook": f"data/raw/{wave}/codebook.yaml",
            "design": design,
        }
    config = {
        "waves": waves,
        "estimates": {"by": ["stype"], "ci_method": "korn-graubard", "level": 0.95},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    run = snakemake(folder, *[f"data/processed/{w}/prevalence.csv" for w in WAVES])
    assert run.returncode == 0, run.stderr[-4000:]
    return folder


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
