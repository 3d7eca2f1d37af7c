"""Building survey designs from data frames and config `design:` blocks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from oracle_reference import (
    LONELY_STRATUM,
    designs_json,
    oracle_cases,
    read_data,
)

from prevalence.design import arrays as design_module
from prevalence.design.arrays import LONELY_PSU_POLICIES
from prevalence.design.core import SurveyDesign
from prevalence.design.replicates import REPLICATE_TYPES, ReplicateWeights, default_replicate_scale
from prevalence.errors import DesignError, PrevalenceError

CASES = [c for c in oracle_cases() if c.lonely_psu != "fail"]


@pytest.fixture(autouse=True, params=["numpy", "compiled"])
def row_passes(request, monkeypatch) -> str:
    """Every test twice: with the numpy passes over the rows and with the compiled ones."""
    if request.param == "compiled":
        monkeypatch.setattr(design_module, "COMPILED_MIN_ROWS", 0)
    return request.param


@pytest.mark.parametrize("nest", [True, False])
def test_compiled_and_numpy_passes_build_the_same_design(nest: bool, monkeypatch) -> None:
    """Integer strata and PSU ids (codes from the pairs) and a stage-1 fpc, both ways."""
    rng = np.random.default_rng(1)
    n = 5000
    strata = rng.integers(3, 40, n)
    psu = rng.integers(0, 25, n) if nest else strata * 100 + rng.integers(0, 25, n)
    frame = pd.DataFrame(
        {
            "h": strata.astype(np.int32),
            "p": psu,
            "N": (strata * 7 + 200).astype(np.int32),
            "w": rng.uniform(1, 9, n),
        }
    )
    spec = {"weight": "w", "strata": "h", "psu": "p", "fpc": "N", "nest": nest}
    monkeypatch.setattr(design_module, "COMPILED_MIN_ROWS", 10**9)
    slow = SurveyDesign.from_frame(frame, spec)
    monkeypatch.setattr(design_module, "COMPILED_MIN_ROWS", 0)
    fast = SurveyDesign.from_frame(frame, spec)
    for name in ("psu", "psu_stratum", "strata", "stratum_popsize", "weights", "stratum_n_psu"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
    assert fast.stratum_labels == slow.stratum_labels
    assert fast.describe() == slow.describe()


def test_public_constants() -> None:
    assert LONELY_PSU_POLICIES == ("fail", "remove", "certainty", "adjust", "average")
    assert REPLICATE_TYPES == ("JK1", "JKn", "BRR", "Fay", "bootstrap", "SDR")
    assert issubclass(DesignError, PrevalenceError)


# --------------------------------------------------------------------------------------
# the oracle designs
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_oracle_designs_have_r_degf_and_rows(case) -> None:
    frame = case.frame()
    design = SurveyDesign.from_frame(frame, case.spec, source=case.data_file)
    info = designs_json()[case.design]
    if case.design == "unwt":
        info = info["datasets"][case.dataset]
    assert design.n == info["nrow"] == len(frame)
    assert design.degf() == info["degf"]
    summary = design.describe()
    json.dumps(summary, allow_nan=False)
    assert summary["df"] == info["degf"]
    assert summary["n_rows"] == len(frame)
    assert summary["source"] == case.data_file
    assert summary["method"] == ("replicate" if design.is_replicate else "taylor")
    if design.is_replicate:
        rep = summary["replicates"]
        assert rep["n_replicates"] == info["n_replicates"]
        assert rep["scale"] == info["scale"]
        assert rep["mse"] is info["mse"]
        assert rep["type"] == info["replicate_type"]


def test_weights_from_fpc_as_r() -> None:
    """srs: N/n; clus2: 1/((n1/N1)(n2/N2)), which is apiclus2's pw."""
    srs = SurveyDesign.from_frame(read_data("apisrs.csv"), {"fpc": "fpc"})
    np.testing.assert_allclose(srs.weights, 6194 / 200, rtol=1e-15)
    assert srs.describe()["weights_from"] == "fpc"
    clus2 = read_data("apiclus2.csv")
    des = SurveyDesign.from_frame(clus2, {"psu": ["dnum", "snum"], "fpc": ["fpc1", "fpc2"]})
    np.testing.assert_allclose(des.weights, clus2["pw"], rtol=1e-6)
    assert des.has_stage2 and des.n_psu == 40 and des.n_strata == 1
    n2 = clus2.groupby("dnum")["snum"].nunique()
    pop = clus2.groupby("dnum")["fpc2"].first()
    expected = 757 / 40 * (pop / n2)
    np.testing.assert_allclose(des.weights, clus2["dnum"].map(expected), rtol=1e-14)


def test_no_weights_no_fpc_is_equal_weights() -> None:
    frame = read_data("apiclus1.csv")
    des = SurveyDesign.from_frame(frame, {})
    assert (des.weights == 1).all() and des.n_psu == len(frame) and des.degf() == len(frame) - 1
    assert des.describe()["weights_from"] == "equal"
    assert SurveyDesign.from_frame(frame, None).n == len(frame)


def test_srs_constructor() -> None:
    des = SurveyDesign.srs(5)
    assert des.n == 5 and not des.is_replicate and des.lonely_psu == "fail"
    assert (des.weights == 1).all() and des.degf() == 4
    np.testing.assert_array_equal(des.psu, np.arange(5))
    w = SurveyDesign.srs(3, np.array([1.0, 2.0, 3.0])).weights
    np.testing.assert_array_equal(w, [1.0, 2.0, 3.0])
    with pytest.raises(DesignError, match="zero"):
        SurveyDesign.srs(3, np.array([1.0, 0.0, 3.0]))
    with pytest.raises(DesignError, match="at least one row"):
        SurveyDesign.srs(0)


def test_fpc_as_fractions_equals_counts() -> None:
    frame = read_data("apistrat.csv")
    frame["frac"] = frame.groupby("stype")["stype"].transform("size") / frame["fpc"]
    a = SurveyDesign.from_frame(frame, {"strata": "stype", "fpc": "fpc"})
    b = SurveyDesign.from_frame(frame, {"strata": "stype", "fpc": "frac"})
    np.testing.assert_allclose(b.stratum_popsize, a.stratum_popsize, rtol=1e-12)
    np.testing.assert_allclose(b.weights, a.weights, rtol=1e-12)


def test_nest_true_separates_psu_ids_that_restart_in_strata() -> None:
    frame = read_data("apistrat_paired.csv")
    unique_ids = SurveyDesign.from_frame(frame, {"strata": "vstrat", "psu": "vpsu_id"})
    restart = SurveyDesign.from_frame(frame, {"strata": "vstrat", "psu": "vpsu", "nest": True})
    assert restart.n_psu == unique_ids.n_psu == 40
    np.testing.assert_array_equal(restart.psu, unique_ids.psu)
    assert restart.describe()["nest"] is True


def test_lonely_policies_accepted_and_reported() -> None:
    frame = read_data("apistrat_lonely.csv")
    for policy in LONELY_PSU_POLICIES[1:]:
        des = SurveyDesign.from_frame(
            frame, {"strata": "stype", "fpc": "fpc", "lonely_psu": policy}
        )
        summary = des.describe()
        assert summary["lonely_psu"] == policy and summary["lonely_strata"] == ["H"]


def test_self_representing_single_psu_is_not_lonely() -> None:
    """R: f < 1e-7 returns zero variance before the lonely-PSU check."""
    frame = pd.DataFrame({"h": ["a", "a", "b"], "pop": [10, 10, 1], "y": [1, 0, 1]})
    des = SurveyDesign.from_frame(frame, {"strata": "h", "fpc": "pop"})
    assert des.describe()["lonely_strata"] == []


# --------------------------------------------------------------------------------------
# replicate weights
# --------------------------------------------------------------------------------------
def test_default_scales_are_rs() -> None:
    assert default_replicate_scale("JK1", 15) == pytest.approx(14 / 15)
    assert default_replicate_scale("BRR", 24) == pytest.approx(1 / 24)
    assert default_replicate_scale("Fay", 24, 0.5) == pytest.approx(1 / 6)
    assert default_replicate_scale("bootstrap", 100) == pytest.approx(1 / 99)
    assert default_replicate_scale("SDR", 80) == pytest.approx(4 / 80)
    assert default_replicate_scale("JKn", 30) == 1.0


@pytest.mark.parametrize("design", ["strat_paired_brr", "strat_paired_fay"])
def test_default_scale_reproduces_designs_json(design: str) -> None:
    info = designs_json()[design]
    frame = read_data(info["repweights_file"].split("/")[-1])
    rspec = {"prefix": "repw_", "type": info["replicate_type"]}
    if info["replicate_type"] == "Fay":
        rspec["rho"] = info["fay_rho"]
    des = SurveyDesign.from_frame(frame, {"weight": "pw", "replicates": rspec})
    assert des.replicates.scale == pytest.approx(info["scale"], rel=1e-15)
    assert des.replicates.mse is False
    np.testing.assert_array_equal(des.replicates.rscales, 1.0)


def test_replicate_columns_list_and_factors() -> None:
    frame = read_data("apiclus1_jk1_repw.csv")
    cols = [c for c in frame.columns if c.startswith("repw_")]
    combined = SurveyDesign.from_frame(
        frame, {"weight": "pw", "replicates": {"columns": cols, "type": "JK1"}}
    )
    assert combined.replicates.scale == pytest.approx(14 / 15)
    assert combined.replicates.n_replicates == 15 == combined.degf() + 1
    factors = frame.copy()
    factors[cols] = frame[cols].to_numpy() / frame[["pw"]].to_numpy()
    split = SurveyDesign.from_frame(
        factors,
        {
            "weight": "pw",
            "replicates": {"columns": cols, "type": "JK1", "combined_weights": False, "rscales": 1},
        },
    )
    np.testing.assert_allclose(split.replicates.weights, combined.replicates.weights, rtol=1e-13)
    assert split.describe()["replicates"]["combined_weights"] is False


def test_jkn_rscales() -> None:
    frame = read_data("apiclus1_jk1_repw.csv")
    rs = list(np.linspace(0.5, 0.9, 15))
    des = SurveyDesign.from_frame(
        frame, {"weight": "pw", "replicates": {"prefix": "repw_", "type": "JKn", "rscales": rs}}
    )
    assert des.replicates.scale == 1.0
    np.testing.assert_allclose(des.replicates.rscales, rs)
    assert des.describe()["replicates"]["rscales"] == pytest.approx(rs)


def test_replicate_weights_build_validates() -> None:
    with pytest.raises(ValueError, match="R >= 2"):
        ReplicateWeights.build(np.ones((3, 1)), rep_type="JK1")
    with pytest.raises(ValueError, match="rscales"):
        ReplicateWeights.build(np.ones((3, 2)), rep_type="JKn")
    with pytest.raises(ValueError, match="rscales has 3"):
        ReplicateWeights.build(np.ones((3, 2)), rep_type="BRR", rscales=[1, 1, 1])


# --------------------------------------------------------------------------------------
# errors: each names the file, the column, the row or value, and the fix
# --------------------------------------------------------------------------------------
def _raises(frame: pd.DataFrame, spec: dict, *needles: str) -> DesignError:
    with pytest.raises(DesignError) as err:
        SurveyDesign.from_frame(frame, spec, source="survey.csv")
    message = str(err.value)
    assert "survey.csv" in message
    assert "fix:" in message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    return err.value


@pytest.fixture
def strat() -> pd.DataFrame:
    return read_data("apistrat.csv")


def test_missing_weight_column(strat) -> None:
    err = _raises(strat, {"weight": "wgt"}, "'wgt'", "not found", "pw")
    assert err.column == "wgt"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("abc", "not a number"),
        (np.nan, "missing"),
        (0.0, "zero"),
        (-2.5, "negative"),
        (np.inf, "finite"),
    ],
)
def test_bad_weight_values(strat, value, problem) -> None:
    frame = strat.astype({"pw": object}) if isinstance(value, str) else strat
    frame.loc[6, "pw"] = value
    err = _raises(frame, {"weight": "pw"}, "'pw'", "row 7", problem)
    assert err.row == 7 and err.column == "pw"
    if not isinstance(value, str) and np.isfinite(value):
        assert repr(value) in str(err)


def test_boolean_weight_is_rejected(strat) -> None:
    strat["flag"] = True
    _raises(strat, {"weight": "flag"}, "'flag'", "numeric")


def test_psu_in_two_strata_suggests_nest(strat) -> None:
    frame = read_data("apistrat_paired.csv")
    err = _raises(frame, {"strata": "vstrat", "psu": "vpsu"}, "'vpsu'", "nest: true", "strata")
    assert err.column == "vpsu" and err.value in (1, 2)


@pytest.mark.parametrize("design", sorted(LONELY_STRATUM))
def test_lonely_psu_under_fail_names_stratum(design: str) -> None:
    case = next(c for c in oracle_cases() if c.design == design and c.lonely_psu == "fail")
    column, value = LONELY_STRATUM[design]
    err = _raises(case.frame(), case.spec, repr(column), repr(value), "only one PSU", "lonely_psu")
    assert err.column == column and err.value == value
    frame = case.frame()
    assert frame.iloc[err.row - 1][column] == value
    # "fail" is the default
    spec = {k: v for k, v in case.spec.items() if k != "lonely_psu"}
    _raises(frame, spec, repr(value))


def test_lonely_psu_at_stage_two_under_fail() -> None:
    frame = pd.DataFrame(
        {"psu": [1, 1, 2, 2, 3], "ssu": [1, 2, 1, 2, 1], "N1": 10, "N2": [4, 4, 5, 5, 3]}
    )
    _raises(frame, {"psu": ["psu", "ssu"], "fpc": ["N1", "N2"]}, "'psu'", "stage 2", "3")
    frame["N2"] = [4, 4, 5, 5, 1]  # the single unit is the whole PSU: no variance, no problem
    SurveyDesign.from_frame(frame, {"psu": ["psu", "ssu"], "fpc": ["N1", "N2"]})


def test_single_psu_without_strata_under_fail() -> None:
    frame = pd.DataFrame({"c": [1, 1, 1], "y": [0, 1, 1]})
    _raises(frame, {"psu": "c"}, "only one PSU", "'c'")


def test_fpc_smaller_than_sampled_psus(strat) -> None:
    strat.loc[strat["stype"] == "H", "fpc"] = 20  # 50 H schools sampled
    err = _raises(strat, {"strata": "stype", "fpc": "fpc"}, "'fpc'", "'H'", "smaller", "50")
    assert err.value == 20


def test_fpc_varies_within_stratum(strat) -> None:
    strat.loc[10, "fpc"] = 4000
    err = _raises(strat, {"strata": "stype", "fpc": "fpc"}, "'fpc'", "varies", "row 11", "4000")
    assert err.row == 11


def test_fpc_mixes_counts_and_fractions(strat) -> None:
    strat["fpc"] = strat["fpc"].astype(float)
    strat.loc[strat["stype"] == "H", "fpc"] = 0.5
    _raises(strat, {"strata": "stype", "fpc": "fpc"}, "'fpc'", "fractions", "0.5")


@pytest.mark.parametrize(
    ("value", "problem"), [(np.nan, "missing"), (0, "positive"), ("x", "number")]
)
def test_bad_fpc_values(strat, value, problem) -> None:
    frame = strat.astype({"fpc": object}) if isinstance(value, str) else strat
    frame.loc[3, "fpc"] = value
    _raises(frame, {"strata": "stype", "fpc": "fpc"}, "'fpc'", "row 4", problem)


def test_stage_one_fpc_alone_cannot_give_two_stage_weights() -> None:
    frame = read_data("apiclus2.csv")
    _raises(frame, {"psu": ["dnum", "snum"], "fpc": "fpc1"}, "'fpc1'", "both stages")
    des = SurveyDesign.from_frame(frame, {"psu": ["dnum", "snum"], "fpc": "fpc1", "weight": "pw"})
    assert not des.has_stage2


def test_missing_design_ids(strat) -> None:
    strat.loc[4, "stype"] = None
    _raises(strat, {"strata": "stype"}, "'stype'", "row 5", "missing")
    clus = read_data("apiclus1.csv")
    clus["dnum"] = clus["dnum"].astype(float)
    clus.loc[0, "dnum"] = np.nan
    _raises(clus, {"psu": "dnum"}, "'dnum'", "row 1", "missing")


@pytest.mark.parametrize(
    ("spec", "needles"),
    [
        ({"wieght": "pw"}, ("'wieght'", "unknown key")),
        ({"lonely_psu": "drop"}, ("'drop'", "lonely_psu", "adjust")),
        ({"nest": "yes"}, ("nest", "'yes'")),
        ({"psu": ["a", "b", "c"]}, ("design.psu", "3 columns")),
        ({"psu": "dnum", "fpc": ["fpc", "fpc"]}, ("more stages",)),
        ({"strata": "region"}, ("'region'", "not found")),
        ({"psu": 3}, ("design.psu", "column name")),
    ],
)
def test_bad_spec(strat, spec, needles) -> None:
    _raises(strat, spec, *needles)


def test_spec_must_be_mapping(strat) -> None:
    _raises(strat, ["weight", "pw"], "mapping")


def test_empty_frame(strat) -> None:
    _raises(strat.iloc[:0], {"weight": "pw"}, "no rows")


@pytest.fixture
def boot() -> pd.DataFrame:
    return read_data("apistrat_boot_repw.csv")


@pytest.mark.parametrize(
    ("rspec", "needles"),
    [
        ({"prefix": "repw_", "type": "jackknife"}, ("'jackknife'", "JK1", "bootstrap")),
        ({"prefix": "repw_"}, ("replicate type", "JK1")),
        ({"prefix": "rw_", "type": "bootstrap"}, ("'rw_'", "no column")),
        ({"columns": ["repw_001", "repw_999"], "type": "bootstrap"}, ("'repw_999'", "not found")),
        ({"columns": ["repw_001", "repw_001"], "type": "bootstrap"}, ("'repw_001'", "twice")),
        ({"columns": ["repw_001"], "type": "bootstrap"}, ("only 1", "at least 2")),
        ({"prefix": "repw_", "type": "bootstrap", "rscales": [1, 1]}, ("2 values", "100")),
        ({"prefix": "repw_", "type": "bootstrap", "rscales": -1}, ("non-negative",)),
        ({"prefix": "repw_", "type": "bootstrap", "scale": 0}, ("scale", "positive")),
        ({"prefix": "repw_", "type": "JKn"}, ("JKn", "rscales")),
        ({"prefix": "repw_", "type": "Fay"}, ("Fay", "rho")),
        ({"prefix": "repw_", "type": "Fay", "rho": 1.5}, ("rho", "1.5")),
        ({"prefix": "repw_", "type": "BRR", "rho": 0.5}, ("rho", "Fay")),
        ({"prefix": "repw_", "type": "BRR", "mse": "yes"}, ("mse", "'yes'")),
        ({"prefix": "repw_", "columns": ["repw_001"], "type": "BRR"}, ("exactly one",)),
        ({"prefix": "repw_", "type": "BRR", "repeats": 3}, ("'repeats'", "unknown key")),
    ],
)
def test_bad_replicates(boot, rspec, needles) -> None:
    _raises(boot, {"weight": "pw", "replicates": rspec}, *needles)


@pytest.mark.parametrize(
    ("value", "problem"), [("n/a", "not a number"), (np.nan, "missing"), (-1.0, "negative")]
)
def test_bad_replicate_weight_values(boot, value, problem) -> None:
    frame = boot.astype({"repw_017": object}) if isinstance(value, str) else boot
    frame.loc[41, "repw_017"] = value
    err = _raises(
        frame,
        {"weight": "pw", "replicates": {"prefix": "repw_", "type": "bootstrap"}},
        "'repw_017'",
        "row 42",
        problem,
    )
    assert err.column == "repw_017" and err.row == 42


def test_replicates_need_weight_and_exclude_taylor_keys(boot) -> None:
    rspec = {"prefix": "repw_", "type": "bootstrap"}
    _raises(boot, {"replicates": rspec}, "full-sample weight", "design.weight")
    _raises(boot, {"weight": "pw", "strata": "stype", "replicates": rspec}, "strata", "replicates")
