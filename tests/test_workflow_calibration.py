"""Calibrated waves through the whole workflow equal R's survey package.

The calibration oracle (``tests/fixtures/oracle_calibration``: R's ``api`` data,
``postStratify``, ``rake``/``calibrate``, ``trimWeights`` on a cluster, a stratified and a
JK1 replicate design) runs through Snakemake as it is: its ``config.yaml`` uses the
project's ``calibration:`` interface, one wave per design x case. Each wave's prevalence
table must match ``reference_calibration.csv`` row by row (R's ``svymean``,
``svyciprop(method = "beta" | "logit")``, ``degf``), and its ingest log must give the
weights before and after. The two replicate waves whose bounds no replicate calibration
meets are left out here (the library refuses them: ``tests/test_calibration_oracle.py``).
``method: raking`` is graded against R's ``calibrate(calfun = "raking")``.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_project import ROOT, snakemake

pytestmark = pytest.mark.e2e

ORACLE = ROOT / "tests" / "fixtures" / "oracle_calibration"
INFEASIBLE = ("clus1_jk1-linear_bounded", "clus1_jk1-logit")
R_METHOD = {"korn-graubard": "beta", "logit": "logit"}
KEY = ["domain", "domain_value", "indicator"]


@pytest.fixture(scope="module", params=list(R_METHOD))
def project(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"calibration-{request.param}")
    for name in ("data", "population"):
        shutil.copytree(ORACLE / name, folder / name)
    shutil.copy(ORACLE / "codebook.yaml", folder / "codebook.yaml")
    shutil.copy(ROOT / "Snakefile", folder / "Snakefile")
    shutil.copytree(ROOT / "workflow", folder / "workflow")
    shutil.copytree(ROOT / "scripts", folder / "scripts")
    config = yaml.safe_load((ORACLE / "config.yaml").read_text())
    for wave in INFEASIBLE:
        del config["waves"][wave]
    config["estimates"]["ci_method"] = request.param
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    waves = list(config["waves"])
    run = snakemake(folder, *[f"data/processed/{w}/prevalence.csv" for w in waves], timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    return folder, request.param, waves


def test_every_calibrated_wave_equals_r(project):
    folder, ci_method, waves = project
    ref = pd.read_csv(ORACLE / "reference_calibration.csv")
    ref["note"] = ref["note"].fillna("")
    checked = 0
    for wave in waves:
        design, case = wave.split("-", 1)
        case = "calibrate_raking" if case == "raking" else case
        rows = ref[
            (ref["design"] == design)
            & (ref["case"] == case)
            & (ref["ci_method"] == R_METHOD[ci_method])
        ]
        ours = pd.read_csv(folder / "data" / "processed" / wave / "prevalence.csv")
        ours["flag"] = ours["flag"].astype(object).fillna("")
        merged = rows.merge(ours, on=KEY, suffixes=("_r", ""), validate="one_to_one")
        assert len(merged) == len(rows) == 30, wave
        np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], atol=1e-10, rtol=0)
        usable = merged[merged["usable"] == "all"]
        assert (usable["n"] == usable["n_r"]).all() and (usable["cases"] == usable["cases_r"]).all()
        np.testing.assert_array_equal(usable["df"], usable["df_r"], err_msg=wave)
        np.testing.assert_allclose(usable["se"], usable["se_r"], rtol=1e-8, atol=1e-15)
        finite = usable[np.isfinite(usable["deff_r"])]
        np.testing.assert_allclose(finite["deff"], finite["deff_r"], rtol=1e-8, err_msg=wave)
        regular = usable[~usable["note"].str.startswith("degenerate")]
        for column in ("ci_low", "ci_high"):
            ours_v, r_v = regular[column], regular[f"{column}_r"]
            if ci_method == "logit":
                assert np.all(np.abs(ours_v - r_v) <= 1e-8 * np.abs(r_v) + 1e-8), (wave, column)
            else:
                np.testing.assert_allclose(ours_v, r_v, rtol=1e-8, err_msg=f"{wave} {column}")
        if ci_method == "korn-graubard":
            np.testing.assert_allclose(regular["n_eff"], regular["n_eff_r"], rtol=1e-8)
        checked += len(usable)
    assert checked > 0.9 * 30 * len(waves)


def test_the_ingest_log_gives_the_weights_before_and_after(project):
    folder, _, waves = project
    for wave in waves:
        log = json.loads((folder / "data" / "processed" / wave / "ingest_log.json").read_text())
        if wave.endswith("-none"):
            assert "calibration" not in log
            continue
        info = log["calibration"]
        design, case = wave.split("-", 1)
        case = "calibrate_raking" if case == "raking" else case
        weights = pd.read_csv(ORACLE / "weights" / f"weights_{case}_{design}.csv")["weight"]
        after = info["weights_after"]
        assert after["min"] == pytest.approx(weights.min(), rel=1e-10)
        assert after["max"] == pytest.approx(weights.max(), rel=1e-10)
        assert after["kish_deff"] == pytest.approx(
            len(weights) * (weights**2).sum() / weights.sum() ** 2, rel=1e-10
        )
        population = folder / info["population"]
        assert info["population_sha256"] == hashlib.sha256(population.read_bytes()).hexdigest()
