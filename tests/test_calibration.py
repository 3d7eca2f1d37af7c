"""Calibration in the rest of the library: comparisons, the config's inputs, the weights' summary.

Reference values: ``tests/fixtures/oracle_calibration`` (R's ``survey`` 4.1-1; see
``tests/test_calibration_oracle.py`` for the estimates themselves).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_calibration_oracle import ORACLE, ingested

from prevalence.config import parse_config
from prevalence.design.calibration import trim_weights, weights_summary
from prevalence.stats.variance import cell_ratio_covariance, ratio_covariance

COVARIANCE = pd.read_csv(ORACLE / "covariance.csv")
GROUPS = sorted(set(COVARIANCE[["design", "case", "indicator"]].itertuples(index=False, name=None)))


@pytest.mark.parametrize(("design", "case", "indicator"), GROUPS)
def test_covariances_of_a_calibrated_design_equal_r(design, case, indicator):
    """Comparisons and tests use the calibration residuals of every ratio, as R does.

    R (``generate_covariance.R``): ``svycontrast(svytotal(~uE + uH + uM + vE + vH + vM,
    sub), list(E = quote(uE / vE), ...))`` on ``sub = cal[!is.na(y), ]``, with
    ``u_d = y [stype = d]``, ``v_d = [stype = d]``, and the contrast E - H.
    """
    wave = f"{design}-{'raking' if case == 'calibrate_raking' else case}"
    ref = COVARIANCE[
        (COVARIANCE["design"] == design)
        & (COVARIANCE["case"] == case)
        & (COVARIANCE["indicator"] == indicator)
    ]
    r_cov = ref.pivot(index="row", columns="col", values="cov").loc[list("EHM"), list("EHM")]
    _, result = ingested(wave)
    frame, survey = result.frame, result.design
    y = frame[indicator].to_numpy(dtype=float)
    codes = pd.Categorical(frame["stype"], categories=list("EHM")).codes
    v = np.stack([(codes == d) & ~np.isnan(y) for d in range(3)], axis=1).astype(float)
    rc = ratio_covariance(survey, v * np.nan_to_num(y)[:, None], v)
    np.testing.assert_allclose(rc.estimate, ref.drop_duplicates("row")["ratio"], atol=1e-10)
    np.testing.assert_allclose(rc.cov, r_cov.to_numpy(), rtol=1e-8, atol=1e-15)
    contrast = np.array([1.0, -1.0, 0.0])
    se = np.sqrt(contrast @ rc.cov @ contrast)
    np.testing.assert_allclose(se, ref["contrast_se"].iloc[0], rtol=1e-8)
    # the same ratios as cells of indicator x domain value x answer (the comparisons' pass)
    num = np.zeros((3, 3, 2))
    den = np.zeros((3, 3, 2))
    for d in range(3):
        num[d, d, 1] = 1.0
        den[d, d, :] = 1.0
    yy = frame[[indicator]].to_numpy(dtype=float)
    cells = cell_ratio_covariance(survey, yy, codes, 3, np.zeros(3, dtype=np.intp), num, den)
    np.testing.assert_allclose(cells.cov, rc.cov, rtol=1e-10, atol=1e-18)


def test_the_population_file_is_an_input_of_the_run(tmp_path):
    (tmp_path / "w.csv").write_text("id\n1\n")
    (tmp_path / "cb.yaml").write_text("x: 1\n")
    (tmp_path / "pop.csv").write_text("margin,value,total\n")
    block = {"method": "raking", "population": "pop.csv", "margins": ["region"]}
    config = parse_config(
        {
            "waves": {
                "a": {"responses": "w.csv", "codebook": "cb.yaml"},
                "b": {"responses": "w.csv", "codebook": "cb.yaml", "design": {"weight": "x"}},
                "c": {"responses": "w.csv", "codebook": "cb.yaml", "design": {"calibration": None}},
            },
            "design": {"calibration": block},
            "estimates": {"by": []},
        },
        root=tmp_path,
    )
    assert config.input_files() == ["w.csv", "cb.yaml", "pop.csv"]
    assert str(config.waves["b"].population) == "pop.csv"  # the global block, merged
    assert config.waves["c"].population is None  # a wave without the global calibration


def test_weights_summary_and_trimming():
    w = np.array([1.0, 2.0, 3.0, 10.0])
    s = weights_summary(w)
    assert (s["min"], s["max"], s["ratio"], s["sum"]) == (1.0, 10.0, 10.0, 16.0)
    assert s["kish_deff"] == pytest.approx(4 * (w**2).sum() / 16.0**2)
    # R: trimWeights(lower = 1.5, upper = 8): 1 -> 1.5, 10 -> 8, the net 1.5 spread equally
    np.testing.assert_allclose(trim_weights(w, 1.5, 8.0), [1.5, 2.75, 3.75, 8.0])


def test_oracle_fixture_is_complete():
    assert (ORACLE / "generate_calibration.R").is_file()
    assert len(list((ORACLE / "weights").glob("*.csv"))) == 29


STAGE2 = pd.read_csv(ORACLE / "stage2.csv")
STAGE2_SPECS = {
    "clus2": ("apiclus2.csv", {"psu": ["dnum", "snum"], "fpc": ["fpc1", "fpc2"]}),
    "clus2_lonely": (
        "apiclus2_lonely.csv",
        {
            "strata": "lstrat",
            "psu": ["dnum", "snum"],
            "fpc": ["fpc1_l", "fpc2"],
            "lonely_psu": "adjust",
        },
    ),
}
STAGE2_BLOCKS = {
    "linear": {"method": "linear", "population": "stype.csv", "margins": ["stype"]},
    "ps_stype": {"method": "poststratify", "population": "stype.csv", "margins": ["stype"]},
}


@pytest.mark.parametrize("case", list(STAGE2_BLOCKS))
@pytest.mark.parametrize("design", list(STAGE2_SPECS))
def test_two_stage_and_lonely_psu_designs_calibrated_equal_r(design, case):
    """R (``generate_stage2.R``): ``calibrate(d, ~stype, popv)`` / ``postStratify(d, ~stype)``
    on apiclus2 (fpc at both stages) and on its variant with a lonely PSU under ``adjust``."""
    from prevalence.design.core import SurveyDesign
    from prevalence.stats.variance import domain_proportions_by

    data, spec = STAGE2_SPECS[design]
    frame = pd.read_csv(ORACLE.parent / "oracle" / "data" / data)
    population = pd.DataFrame(
        {"margin": "stype", "value": ["E", "H", "M"], "total": [4421, 755, 1018]}
    )
    survey = SurveyDesign.from_frame(
        frame,
        {**spec, "calibration": STAGE2_BLOCKS[case]},
        domains=frame,
        populations={"stype.csv": population},
    )
    indicators = ["comp_imp", "both", "avg_ed_gt3"]
    codes = pd.Categorical(frame["stype"], categories=list("EHM")).codes
    overall, by_stype = domain_proportions_by(
        survey, frame[indicators].to_numpy(dtype=float), [(None, 1), (codes, 3)]
    )
    ref = STAGE2[(STAGE2["design"] == design) & (STAGE2["case"] == case)]
    for j, indicator in enumerate(indicators):
        rows = ref[ref["indicator"] == indicator].set_index("domain_value")
        values = ["All", "E", "H", "M"]
        est = np.r_[overall.estimate[j], by_stype.estimate[j]]
        se = np.r_[overall.se[j], by_stype.se[j]]
        df = np.r_[overall.df[j], by_stype.df[j]]
        np.testing.assert_allclose(est, rows.loc[values, "estimate"], atol=1e-10, rtol=0)
        np.testing.assert_allclose(se, rows.loc[values, "se"], rtol=1e-8)
        np.testing.assert_array_equal(df, rows.loc[values, "df"])


@pytest.mark.parametrize(
    ("method", "bounds", "column"),
    [("logit", [0.5, 2.0], "logit"), ("linear", [0.7, 1.7], "linear_bounded")],
)
def test_bounds_on_weights_far_below_the_totals_are_read_as_r_does(method, bounds, column):
    """R's grake scales weights first when every total exceeds 20 times its sample total
    (``generate_rescaled.R``: apiclus1 with weights 1, bounds relative to the scaled ones)."""
    from prevalence.design.core import SurveyDesign

    frame = pd.read_csv(ORACLE / "data" / "apiclus1.csv")
    population = pd.read_csv(ORACLE / "population" / "totals_stype_sch_wide.csv")
    block = {
        "method": method,
        "population": "p.csv",
        "margins": ["stype", "sch_wide"],
        "bounds": bounds,
        "maxit": 100,
        "epsilon": 1e-12,
    }
    survey = SurveyDesign.from_frame(
        frame,
        {"psu": "dnum", "calibration": block},
        domains=frame,
        populations={"p.csv": population},
    )
    ref = pd.read_csv(ORACLE / "weights_rescaled.csv")
    np.testing.assert_allclose(survey.weights, ref[column], rtol=1e-10)


def test_rao_scott_tests_on_a_calibrated_design_equal_r():
    """R (``generate_chisq.R``): ``svychisq(~y + stype, cal[!is.na(y), ])`` after linear
    calibration of apiclus1; R's Pearson statistic counts every row of the calibrated design."""
    from prevalence.stats.association import rao_scott

    _, result = ingested("clus1-linear")
    frame = result.frame
    codes = pd.Categorical(frame["stype"], categories=list("EHM")).codes.astype(np.intp)
    indicators = ["comp_imp", "api00_gt700"]
    ours = rao_scott(result.design, frame[indicators].to_numpy(dtype=float), codes, 3)
    ours["indicator"] = [indicators[j] for j in ours["indicator"]]
    ref = pd.read_csv(ORACLE / "chisq.csv")
    merged = ref.merge(ours, on=["indicator", "statistic"], suffixes=("_r", ""))
    assert len(merged) == 4
    for column in ("value", "ndf", "p_value"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=1e-8)
    f = merged[merged["statistic"] == "F"]
    np.testing.assert_allclose(f["ddf"], f["ddf_r"], rtol=1e-8)
