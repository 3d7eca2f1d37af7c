"""Calibrated designs equal R's ``survey``: weights, estimates, SEs, intervals, deff, df.

Reference: ``tests/fixtures/oracle_calibration`` (``generate_calibration.R``; the R call of
each case is in ``cases.json`` and ``ORACLE_README.md``). R's ``api`` data, three designs
(``clus1``: one-stage cluster sample; ``strat``: stratified; ``clus1_jk1``: its JK1
replicates), calibrated by ``postStratify``, ``rake``/``calibrate(calfun = "raking")``,
``calibrate(calfun = "linear" | "logit", bounds = )`` and ``trimWeights``. Each wave of the
oracle's ``config.yaml`` goes through the library as a run does it (ingest, which builds and
calibrates the design once, then the wave's estimates), and every row of
``reference_calibration.csv`` is compared:

* weights (and recalibrated replicate weights): 1e-10 relative;
* estimate: 1e-10 absolute; n, cases, df: exact;
* se, deff, n_eff, the ``mean`` (Wald) and ``beta`` (Korn–Graubard) bounds: 1e-8 relative;
  ``logit`` bounds ``|d| <= 1e-8 |R| + 1e-8`` (R's glm noise).

``method: raking`` is graded against ``calibrate(calfun = "raking")`` (case
``calibrate_raking``), whose linearisation (design-weighted regression residuals) the
library uses. R's ``rake()`` gives the same weights and estimates, and the same SEs when
the design weights are equal (clus1); its backfitting SEs differ on strat.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from prevalence.data.codebook import load_codebook
from prevalence.data.ingest import ingest
from prevalence.data.io import read_responses
from prevalence.errors import DesignError
from prevalence.stats.estimate import estimate_wave

ORACLE = Path(__file__).resolve().parent / "fixtures" / "oracle_calibration"
CONFIG = yaml.safe_load((ORACLE / "config.yaml").read_text())
WAVES = CONFIG["waves"]
# ci_method of the library for each of R's svyciprop methods
CI_METHODS = {"mean": "wald", "logit": "logit", "beta": "korn-graubard"}
KEY = ["domain", "domain_value", "indicator"]
# replicate designs whose bounds no replicate calibration meets (R warns and goes on)
INFEASIBLE = ("clus1_jk1-linear_bounded", "clus1_jk1-logit")


def reference_case(wave: str) -> tuple[str, str]:
    """(design, case) of the reference rows of a wave (raking: calibrate's)."""
    design, case = wave.split("-", 1)
    return design, "calibrate_raking" if case == "raking" else case


def populations(design: dict) -> dict[str, pd.DataFrame]:
    block = design.get("calibration")
    if block is None:
        return {}
    path = block["population"]
    return {path: pd.read_csv(ORACLE / path, dtype=str, keep_default_na=False)}


@cache
def ingested(wave: str):
    spec = WAVES[wave]
    book = load_codebook(ORACLE / spec["codebook"])
    raw = read_responses(ORACLE / spec["responses"])
    design = spec["design"]
    return book, ingest(raw, book, wave=wave, design=design, populations=populations(design))


@cache
def table(wave: str, ci_method: str) -> pd.DataFrame:
    book, result = ingested(wave)
    return estimate_wave(
        result.frame,
        book,
        wave=wave,
        by=[["stype"], ["mobility_grp"]],
        design=result.design,
        ci_method=ci_method,
        level=0.95,
    )


@cache
def reference() -> pd.DataFrame:
    ref = pd.read_csv(ORACLE / "reference_calibration.csv")
    ref["note"] = ref["note"].fillna("")
    return ref


FEASIBLE = [w for w in WAVES if w not in INFEASIBLE]


@pytest.mark.parametrize("wave", FEASIBLE)
def test_calibrated_weights_equal_r(wave):
    design, case = reference_case(wave)
    ref = pd.read_csv(ORACLE / "weights" / f"weights_{case}_{design}.csv")
    survey = ingested(wave)[1].design
    np.testing.assert_allclose(survey.weights, ref["weight"], rtol=1e-10, atol=0)
    if survey.replicates is not None:
        columns = [c for c in ref.columns if c.startswith("repw_")]
        np.testing.assert_allclose(survey.replicates.weights, ref[columns], rtol=1e-10, atol=0)


@pytest.mark.parametrize("wave", [w for w in FEASIBLE if w.endswith("-raking")])
def test_raking_weights_equal_r_rake_too(wave):
    design = wave.split("-")[0]
    ref = pd.read_csv(ORACLE / "weights" / f"weights_rake_{design}.csv")
    np.testing.assert_allclose(ingested(wave)[1].design.weights, ref["weight"], rtol=1e-10)


@pytest.mark.parametrize("r_method", list(CI_METHODS))
@pytest.mark.parametrize("wave", FEASIBLE)
def test_calibrated_estimates_equal_r(wave, r_method):
    design, case = reference_case(wave)
    ref = reference()
    ref = ref[(ref["design"] == design) & (ref["case"] == case) & (ref["ci_method"] == r_method)]
    ours = table(wave, CI_METHODS[r_method])
    merged = ref.merge(ours, on=KEY, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(ref) == 30
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=0, atol=1e-10)
    usable = merged[merged["usable"] == "all"]
    assert len(usable) >= 20
    assert (usable["n"] == usable["n_r"]).all() and (usable["cases"] == usable["cases_r"]).all()
    np.testing.assert_array_equal(usable["df"], usable["df_r"])
    np.testing.assert_allclose(usable["se"], usable["se_r"], rtol=1e-8, atol=1e-15)
    finite = usable[np.isfinite(usable["deff_r"])]
    np.testing.assert_allclose(finite["deff"], finite["deff_r"], rtol=1e-8)
    regular = usable[~usable["note"].str.startswith("degenerate")]
    assert len(regular) >= 20
    low, high = regular["ci_low_r"], regular["ci_high_r"]
    if r_method == "mean":  # R's p ± t se is not clipped; the library's Wald is
        low, high = low.clip(0, 1), high.clip(0, 1)
    if r_method == "logit":
        for ours_col, r_col in (("ci_low", low), ("ci_high", high)):
            assert np.all(np.abs(regular[ours_col] - r_col) <= 1e-8 * np.abs(r_col) + 1e-8)
    else:
        np.testing.assert_allclose(regular["ci_low"], low, rtol=1e-8, atol=1e-15)
        np.testing.assert_allclose(regular["ci_high"], high, rtol=1e-8, atol=1e-15)
    if r_method == "beta":  # Korn–Graubard's effective n, with R's nrow() of the domain
        np.testing.assert_allclose(regular["n_eff"], regular["n_eff_r"], rtol=1e-8)
    degenerate = usable[usable["note"].str.startswith("degenerate")]
    assert degenerate["ci_low"].notna().all() and (degenerate["flag"].str.len() > 0).all()


@pytest.mark.parametrize("wave", INFEASIBLE)
def test_bounds_no_replicate_meets_are_an_error_not_r_warning(wave):
    """R keeps the unconverged g of replicates 9, 11, 12 and warns; the library stops."""
    with pytest.raises(DesignError) as caught:
        ingested(wave)
    message = str(caught.value)
    assert "replicate 9" in message and "bounds [0.7, 1.7]" in message
    assert "margin 'stype'" in message and "fix: widen design.calibration.bounds" in message


@pytest.mark.parametrize("wave", INFEASIBLE)
def test_their_estimates_equal_r_through_the_taylor_design(wave):
    """The full-sample weights of the refused replicate waves are R's: their estimates are."""
    design, case = reference_case(wave)
    ref = reference()
    ref = ref[(ref["design"] == design) & (ref["case"] == case) & (ref["ci_method"] == "mean")]
    ours = table(wave.replace("clus1_jk1", "clus1"), "wald")
    merged = ref.merge(ours, on=KEY, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == 30
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=0, atol=1e-10)


def test_the_log_gives_the_weights_before_and_after():
    survey = ingested("clus1-ps_cross")[1].design
    info = survey.describe()["calibration"]
    before, after = info["weights_before"], info["weights_after"]
    # apiclus1: equal design weights 33.847; ps_cross g from 0.88 to 3.29 (ORACLE_README)
    assert before["ratio"] == pytest.approx(1.0) and before["kish_deff"] == pytest.approx(1.0)
    w = survey.weights
    assert after["min"] == pytest.approx(w.min()) and after["max"] == pytest.approx(w.max())
    cv = w.std() / w.mean()
    assert after["cv"] == pytest.approx(cv) and after["kish_deff"] == pytest.approx(1 + cv**2)
    assert after["kish_deff"] == pytest.approx(len(w) * (w**2).sum() / w.sum() ** 2)
    assert after["sum"] == pytest.approx(6194.0)


@pytest.mark.parametrize("ci_method", ["korn-graubard", "wilson", "logit"])
def test_an_estimate_of_0_uses_the_domain_count_as_without_calibration(ci_method):
    """yr_rnd is 0 in clus1's domains H and M (R: degenerate). Calibrated Taylor designs
    keep every row for Korn–Graubard's t_{n-1}, but at 0% the interval falls back on the
    domain's own count, as without calibration."""
    keys = ["domain", "domain_value", "indicator"]
    plain = table("clus1-none", ci_method).set_index(keys)
    for wave in ("clus1-ps_cross", "clus1-linear", "clus1-raking"):
        ours = table(wave, ci_method).set_index(keys)
        zero = ours[ours["estimate"] == 0]
        assert len(zero) == 2
        for column in ("ci_low", "ci_high", "n_eff", "flag"):
            assert zero[column].tolist() == plain.loc[zero.index, column].tolist()
