"""The Python API (``import prevalence as pv``): the workflow's numbers, R's numbers, clear errors.

* On the embedded waves, ``pv.read_wave`` and ``pv.prevalence`` with the settings of
  ``config.yaml`` give, once published, the bytes of ``results/tables/prevalence.csv`` and of
  the ingest logs that the embedded run writes (their digests are pinned in
  ``tests/fixtures/embedded_outputs.sha256``).
* On R's ``api`` data (``tests/fixtures/oracle``, ``oracle_valid``, ``oracle_calibration``:
  R ``survey`` 4.1-1, the R calls in their README and ``generate*.R``), the prevalence table,
  the design effects, the contrasts and the calibrated weights equal R's.
"""

from __future__ import annotations

import contextlib
import doctest
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from oracle_reference import (
    INDICATORS,
    VALID,
    VALID_DESIGNS,
    oracle_cases,
    reference_rows,
)

import prevalence as pv
from prevalence import api
from prevalence.config import load_config
from prevalence.data.io import write_csv
from prevalence.errors import DesignError, PrevalenceError
from prevalence.publication.disclosure import disclose
from prevalence.stats.estimate import COLUMNS, estimate_wave
from prevalence.workflow.steps import published_log, read_table

ROOT = Path(__file__).resolve().parent.parent
DIGESTS = ROOT / "tests" / "fixtures" / "embedded_outputs.sha256"
ORACLE = ROOT / "tests" / "fixtures" / "oracle"
CALIBRATION = ROOT / "tests" / "fixtures" / "oracle_calibration"


def test_the_examples_in_the_docstrings_run():
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(api, optionflags=flags)
    assert result.attempted >= 20 and result.failed == 0


def test_import_prevalence_does_not_import_the_api_or_pandas():
    code = (
        "import sys, prevalence as pv; "
        "assert 'pandas' not in sys.modules and 'prevalence.api' not in sys.modules; "
        "pv.prevalence; assert 'prevalence.api' in sys.modules; "
        "assert set(pv.__all__) <= set(dir(pv))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --------------------------------------------------------------------------------------
# the workflow's numbers on the embedded waves
# --------------------------------------------------------------------------------------
def _recorded() -> dict[str, str]:
    lines = [line for line in DIGESTS.read_text().splitlines() if line[:1] != "#"]
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def embedded():
    config = load_config(ROOT / "config.yaml")
    with contextlib.chdir(
        ROOT
    ):  # population files are named relative to the project, as in the run
        waves = {
            wave_id: pv.read_wave(
                w.responses, w.codebook, wave=wave_id, design=w.design, privacy=config.privacy
            )
            for wave_id, w in config.waves.items()
        }
    return config, waves


def test_the_embedded_waves_give_the_published_table_of_the_run(embedded, tmp_path):
    """As the run publishes: each wave's table disclosed, written, read back and joined."""
    config, waves = embedded
    by = [tuple(d) for d in config.by]
    pieces = []
    for wave_id, w in waves.items():
        table = pv.prevalence(
            w.frame,
            w.indicators,
            by=by,
            ci_method=config.ci_method,
            level=config.level,
            wave=wave_id,
            design=w.design,
        )
        assert list(table.columns) == COLUMNS
        workflow = estimate_wave(
            w.frame,
            w.codebook,
            wave=wave_id,
            by=by,
            design=w.design,
            ci_method=config.ci_method,
            level=config.level,
        )
        pd.testing.assert_frame_equal(table, workflow)
        published = write_csv(
            disclose(table, config.publication, config.populations), tmp_path / f"{wave_id}.csv"
        )
        pieces.append(read_table(published))
    joined = write_csv(pd.concat(pieces).reset_index(drop=True), tmp_path / "prevalence.csv")
    assert _sha256(joined.read_bytes()) == _recorded()["tables/prevalence.csv"]


def test_read_wave_gives_the_ingest_log_of_the_run(embedded):
    config, waves = embedded
    recorded = _recorded()
    for wave_id, w in waves.items():
        # the ingest log names the files as the run does: relative to the project
        log = {
            **w.log,
            "responses": str(config.waves[wave_id].responses),
            "codebook": str(config.waves[wave_id].codebook),
        }
        text = json.dumps(published_log(log), indent=2, ensure_ascii=False) + "\n"
        assert _sha256(text.encode()) == recorded[f"ingest/{wave_id}.json"], wave_id
        assert w.domains == list(w.codebook.domains) and "respondent_id" not in w.frame


def test_a_plain_frame_gives_the_numbers_of_the_harmonized_one(embedded):
    """Domains as text columns (no categories): the same cells, less the empty ones."""
    config, waves = embedded
    w = waves["2016-global"]
    plain = w.frame.assign(**{d: w.frame[d].astype(object) for d in w.domains})
    ours = pv.prevalence(plain, w.indicators, by=["region", ("region", "role")])
    theirs = pv.prevalence(w.frame, w.indicators, by=["region", ("region", "role")])
    theirs = theirs[theirs["n"] > 0].reset_index(drop=True)
    keys = ["domain", "domain_value", "indicator"]
    merged = theirs.merge(ours, on=keys, suffixes=("", "_plain"), validate="one_to_one")
    assert len(merged) == len(theirs)
    for column in ("n", "cases", "estimate", "se", "ci_low", "ci_high"):
        np.testing.assert_array_equal(merged[column], merged[f"{column}_plain"])


def test_contrasts_of_the_embedded_waves_are_the_workflow_differences(embedded):
    """``comparisons.within`` of config.yaml (MP - staff), as the wave's job computes it."""
    from prevalence.stats.contrasts import compare_within

    config, waves = embedded
    spec = {"within": [{"domain": "role", "pairs": [["MP", "staff"]]}], "adjust": "none"}
    compared = 0
    for wave_id, w in waves.items():
        theirs = compare_within(w.frame, w.codebook, {}, spec, wave=wave_id)
        if "staff" not in w.frame["role"].cat.categories:  # the workflow skips the wave
            assert theirs.empty
            text = _error(
                lambda w=w: pv.contrasts(
                    w.frame, w.indicators, domain="role", pairs=[("MP", "staff")]
                )
            )
            assert "'staff', which is not a value of the domain" in text
            continue
        ours = pv.contrasts(
            w.frame, w.indicators, domain="role", pairs=[("MP", "staff")], adjust="none"
        )
        compared += 1
        assert len(ours) == len(theirs) == len(w.indicators)
        for column in ("n_a", "n_b", "difference", "ci_low", "ci_high", "statistic", "p_value"):
            np.testing.assert_array_equal(ours[column], theirs[column])
    assert compared >= 2


# --------------------------------------------------------------------------------------
# R's numbers
# --------------------------------------------------------------------------------------
#: R's svyciprop method -> the library's interval method
R_METHODS = {"beta": "korn-graubard", "logit": "logit", "mean": "wald"}
CASES = {
    c.id: c
    for c in oracle_cases()
    if c.design in ("strat", "clus1", "clus2", "clus1_jk1", "strat_boot")
}
KEYS = ["domain", "domain_value", "indicator"]


def _r_intervals(case, r_method: str) -> pd.DataFrame:
    ref = pd.read_csv(ORACLE / "reference.csv")
    ref["note"] = ref["note"].fillna("")
    sel = (
        (ref["design"] == case.design)
        & (ref["dataset"] == case.dataset)
        & (ref["ci_method"] == r_method)
        & (ref["level"] == 0.95)
        & ref["na_handling"].isin(["none", "subset"])
        & ~ref["note"].str.startswith("degenerate")
    )
    return ref[sel]


@pytest.mark.parametrize("r_method", list(R_METHODS))
@pytest.mark.parametrize("case_id", list(CASES))
def test_prevalence_equals_r(case_id, r_method):
    """R: ``svyciprop(~y, subset(design, !is.na(y) [& stype == v]), method =)``, its SE and
    ``degf`` (``generate_reference.R``)."""
    case = CASES[case_id]
    ours = pv.prevalence(
        case.frame(),
        list(INDICATORS),
        by=["stype"],
        design=case.spec,
        ci_method=R_METHODS[r_method],
    )
    ref = _r_intervals(case, r_method)
    merged = ref.merge(ours, on=KEYS, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(ref) >= 20
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-8)
    np.testing.assert_array_equal(merged["df"], merged["df_r"])
    assert (merged["n"] == merged["n_r"]).all() and (merged["cases"] == merged["cases_r"]).all()
    low, high = merged["ci_low_r"], merged["ci_high_r"]
    if r_method == "mean":  # R's p +/- t se is not clipped to [0, 1]; the library's is
        low, high = low.clip(0, 1), high.clip(0, 1)
    tolerance = 1e-8 * np.abs(low) + (1e-8 if r_method == "logit" else 1e-15)
    assert np.all(np.abs(merged["ci_low"] - low) <= tolerance)
    assert np.all(np.abs(merged["ci_high"] - high) <= 1e-8 * np.abs(high) + 1e-8)


@pytest.mark.parametrize("case_id", list(CASES))
def test_design_effect_equals_r(case_id):
    """R: ``svymean(~y, subset(...), deff = TRUE)`` and ``deff = "replace"``."""
    case = CASES[case_id]
    ours = pv.design_effect(case.frame(), list(INDICATORS), by=["stype"], design=case.spec)
    ref = reference_rows(case)
    merged = ref.merge(ours, on=KEYS, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(ref) == 24
    regular = merged[~merged["note"].str.startswith("degenerate")]
    for column in ("deff", "deff_replace"):
        finite = regular[np.isfinite(regular[f"{column}_r"])]
        assert len(finite) >= 16
        np.testing.assert_allclose(finite[column], finite[f"{column}_r"], rtol=1e-8)


@pytest.mark.parametrize("design", ["clus1", "clus1_jk1"])
def test_contrasts_equal_r(design):
    """R: ``confint(svycontrast(svyby(~y, ~domain, sub, svymean, covmat = TRUE), ...), df =
    degf(sub))`` with ``sub`` the rows with a valid answer and a domain value
    (``oracle_valid/generate.R``); the "of whom" indicator among ``sch_wide = 1``."""
    data, spec = VALID_DESIGNS[design]
    frame = pd.read_csv(VALID / "data" / data)
    ref = pd.read_csv(VALID / "contrasts.csv")
    ref = ref[ref["design"] == design]
    indicators = {"awards_nr": None, "comp_imp_of_sch_wide": "sch_wide", "sch_wide": None}
    pieces = []
    for domain in ("stype", "stype_nr"):
        for against in ("pairs", "others"):
            pieces.append(
                pv.contrasts(frame, indicators, domain=domain, against=against, design=spec)
            )
    ours = pd.concat(pieces)
    keys = ["indicator", "domain", "value_a", "value_b"]
    merged = ref.merge(ours, on=keys, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(ref) == 36
    for column in ("difference", "se", "ci_low", "ci_high", "statistic", "p_value"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=1e-8, atol=1e-12)
    np.testing.assert_array_equal(merged["df"], merged["df_r"])
    assert (ours["method"] == "wald").all() and ours["p_adjusted"].notna().all()


def _calibration_wave(wave: str) -> tuple[pd.DataFrame, dict, list[str]]:
    """The oracle's raw data coded 1/0/NaN, and its design with the population's full path."""
    config = yaml.safe_load((CALIBRATION / "config.yaml").read_text())
    spec = config["waves"][wave]
    frame = pd.read_csv(CALIBRATION / spec["responses"])
    indicators = ["comp_imp", "both", "awards", "yr_rnd", "api00_gt700"]
    frame[indicators] = frame[indicators].replace({2: 0, 9: np.nan})
    design = dict(spec["design"])
    block = dict(design["calibration"])
    block["population"] = str(CALIBRATION / block["population"])
    design["calibration"] = block
    return frame, design, indicators


@pytest.mark.parametrize("wave", ["clus1-raking", "strat-linear", "clus1_jk1-raking"])
def test_calibrate_gives_r_weights(wave):
    """R: ``weights(calibrate(design, ~stype + sch_wide, population, calfun = ...))``
    (``oracle_calibration/generate_calibration.R``), every replicate's too."""
    frame, design, _ = _calibration_wave(wave)
    name, case = wave.split("-", 1)
    case = "calibrate_raking" if case == "raking" else case
    ref = pd.read_csv(CALIBRATION / "weights" / f"weights_{case}_{name}.csv")
    ours = pv.calibrate(frame, design)
    np.testing.assert_allclose(ours["weight"], ref["weight"], rtol=1e-10, atol=0)
    replicates = [c for c in ref.columns if c.startswith("repw_")]
    assert [c for c in ours.columns if c != "weight"] == replicates
    if replicates:
        np.testing.assert_allclose(ours[replicates], ref[replicates], rtol=1e-10, atol=0)
    # the population as a DataFrame
    table = pd.read_csv(design["calibration"]["population"])
    as_frame = {**design, "calibration": {**design["calibration"], "population": table}}
    pd.testing.assert_frame_equal(pv.calibrate(frame, as_frame), ours)


@pytest.mark.parametrize("wave", ["clus1-raking", "strat-linear"])
def test_prevalence_after_calibration_equals_r(wave):
    frame, design, indicators = _calibration_wave(wave)
    name, case = wave.split("-", 1)
    case = "calibrate_raking" if case == "raking" else case
    ref = pd.read_csv(CALIBRATION / "reference_calibration.csv")
    ref = ref[(ref["design"] == name) & (ref["case"] == case) & (ref["ci_method"] == "beta")]
    ref = ref[ref["usable"] == "all"]
    ours = pv.prevalence(
        frame, indicators, by=["stype", "mobility_grp"], design=design, ci_method="korn-graubard"
    )
    merged = ref.merge(ours, on=KEYS, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(ref) >= 20
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-8, atol=1e-15)
    np.testing.assert_array_equal(merged["df"], merged["df_r"])
    regular = merged[~merged["note"].fillna("").str.startswith("degenerate")]
    np.testing.assert_allclose(regular["ci_low"], regular["ci_low_r"], rtol=1e-8)
    np.testing.assert_allclose(regular["ci_high"], regular["ci_high_r"], rtol=1e-8)


def test_a_design_read_with_the_wave_gives_the_design_of_the_mapping():
    """``pv.read_wave(..., design=)`` builds the design once; passing it or the mapping
    again (ingest's ``design:`` columns are found by their names) gives the same table."""
    wave = "clus1-raking"
    config = yaml.safe_load((CALIBRATION / "config.yaml").read_text())
    spec = config["waves"][wave]
    _, design, _ = _calibration_wave(wave)
    w = pv.read_wave(CALIBRATION / spec["responses"], CALIBRATION / spec["codebook"], design=design)
    a = pv.prevalence(w.frame, w.indicators, by=["stype"], design=w.design)
    b = pv.prevalence(w.frame, w.indicators, by=["stype"], design=design)
    pd.testing.assert_frame_equal(a, b)
    assert "calibration" in w.log and w.log["rows"]["kept"] == len(w.frame)


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------
FRAME = pd.DataFrame(
    {
        "online_gbv": [1, 0, 1, 1, 0, np.nan],
        "hate_speech": [1, np.nan, 0, 1, np.nan, np.nan],
        "region": ["Africa", "Africa", "Europe", "Europe", "Asia", "Asia"],
        "w": [1.0, 2.0, 1.0, 2.0, 1.0, 1.0],
    }
)


def _error(call) -> str:
    with pytest.raises(PrevalenceError) as caught:
        call()
    return str(caught.value)


def test_a_column_that_is_not_there_is_named_with_the_closest():
    text = _error(lambda: pv.prevalence(FRAME, ["online_gvb"]))
    assert "column 'online_gvb'" in text and "the frame has 'online_gbv'" in text
    text = _error(lambda: pv.prevalence(FRAME, ["online_gbv"], by=["regions"]))
    assert "by names it" in text and "'region'" in text
    text = _error(lambda: pv.prevalence(FRAME, ["online_gbv"], design={"weight": "wt"}))
    assert "design.weight" in text and "'wt'" in text and "file" not in text


def test_an_indicator_not_coded_1_0_nan_is_refused_without_echoing_text():
    coded = FRAME.assign(online_gbv=[1, 2, 1, 2, 9, np.nan])
    text = _error(lambda: pv.prevalence(coded, ["online_gbv"]))
    assert "row 2" in text and "not coded 1/0/NaN (3 rows hold 2, 9)" in text
    assert "fix: code it 1 (yes), 0 (no)" in text
    named = FRAME.assign(online_gbv=["Ms A", "0", 1, 1, 0, None])
    text = _error(lambda: pv.prevalence(named, ["online_gbv"]))
    assert "1 row hold text" in text and "Ms A" not in text and "row 1" in text
    phone = FRAME.assign(online_gbv=[1, 0, 5551234.0, 1, 0, 0])
    text = _error(lambda: pv.prevalence(phone, ["online_gbv"]))
    assert "other numbers" in text and "5551234" not in text and "row 3" in text


def test_an_unknown_design_key_is_refused():
    with pytest.raises(DesignError) as caught:
        pv.prevalence(FRAME, ["online_gbv"], design={"wieght": "w"})
    text = str(caught.value)
    assert "unknown key 'wieght' in the design block" in text and "use only weight" in text
    with pytest.raises(DesignError, match="unknown key 'metod' in design.calibration"):
        pv.calibrate(FRAME, {"weight": "w", "calibration": {"metod": "raking"}})
    block = {"method": "raking", "population": "no/such.csv", "margins": ["region"]}
    with pytest.raises(DesignError, match="file no/such.csv: population file not found"):
        pv.calibrate(FRAME, {"weight": "w", "calibration": block})
    with pytest.raises(DesignError, match="mapping like the design: block"):
        pv.prevalence(FRAME, ["online_gbv"], design="w")


def test_an_of_whom_answer_outside_its_denominator_is_refused():
    ok = pv.prevalence(FRAME, {"online_gbv": None, "hate_speech": "online_gbv"})
    assert ok["denominator"].tolist() == ["all", "online_gbv"] and ok["n"].tolist() == [5, 3]
    bad = FRAME.assign(hate_speech=[1, 0, 0, 1, np.nan, np.nan])
    text = _error(lambda: pv.prevalence(bad, {"hate_speech": "online_gbv"}))
    assert "row 2" in text and "denominator 'online_gbv' is not 1" in text


def test_other_bad_calls_say_what_to_pass():
    assert "takes a pandas DataFrame, not dict" in _error(lambda: pv.prevalence({}, ["y"]))
    assert "no indicator" in _error(lambda: pv.prevalence(FRAME, []))
    text = _error(lambda: pv.prevalence(FRAME, ["online_gbv"], by=["online_gbv"]))
    assert "both as an indicator and as a domain" in text
    assert "Wilson" in _error(lambda: pv.prevalence(FRAME, ["online_gbv"], ci_method="Wilson"))
    text = _error(lambda: pv.contrasts(FRAME, ["online_gbv"], domain="region"))
    assert "either pairs or against" in text
    text = _error(
        lambda: pv.contrasts(FRAME, ["online_gbv"], domain="region", pairs=[("Africa", "Europa")])
    )
    assert "'Europa', which is not a value" in text and "Africa, Asia, Europe" in text
    text = _error(lambda: pv.calibrate(FRAME, {"weight": "w"}))
    assert "needs a design with a calibration block" in text
    text = _error(lambda: pv.prevalence(FRAME.assign(region=np.nan), ["online_gbv"], by="region"))
    assert "no value in any row" in text
