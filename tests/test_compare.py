"""Tests of :mod:`prevalence.stats.contrasts`: differences, Rao-Scott tests, adjustment, suppression."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from oracle_reference import (
    ORACLE,
    STYPES,
    TAYLOR_SPECS,
    designs_json,
    read_data,
    replicate_spec,
    stype_codes,
    valid_data,
    valid_reference,
)
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from prevalence.data.codebook import Codebook, Domain, Indicator
from prevalence.design.core import SurveyDesign, design_columns
from prevalence.errors import ConfigError
from prevalence.stats.association import association_tests, rao_scott
from prevalence.stats.contrasts import (
    CONTRAST_COLUMNS,
    OTHERS,
    compare_between,
    compare_within,
    contrasts,
    newcombe_interval,
    parse_comparisons,
    score_test,
    suppress_contrasts,
    valid_rows_df,
)
from prevalence.stats.estimate import estimate_wave
from prevalence.stats.multiplicity import adjust_pvalues
from prevalence.stats.variance import domain_proportions, ratio_covariance
from prevalence.workflow.steps import association_step, contrasts_step, forest_step

ORACLE_INDICATORS = ("sch_wide", "comp_imp", "both", "awards")


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _indicator(ident: str, label: str | None = None, denominator: str | None = None):
    return Indicator(ident, label or ident, ident, (1,), (0,), (), (), denominator)


def _codebook(indicators, domains) -> Codebook:
    return Codebook(
        path="codebook.yaml",
        respondent_id="id",
        drop=(),
        domains={d: Domain(d, d, d) for d in domains},
        indicators={i.id: i for i in indicators},
    )


def _oracle(design: str):
    """(harmonized frame, codebook, design spec, raw data) of an oracle design."""
    if design in TAYLOR_SPECS:
        dataset, spec = TAYLOR_SPECS[design]
        raw = read_data(f"{dataset}.csv")
    else:
        spec = replicate_spec(design)
        raw = read_data(Path(designs_json()[design]["repweights_file"]).name)
    frame = pd.DataFrame(
        {
            "stype": pd.Categorical(raw["stype"], categories=list(STYPES)),
            **{i: raw[i].astype(float) for i in ORACLE_INDICATORS},
            **{f"design:{c}": raw[c] for c in design_columns(spec, raw.columns)},
        }
    )
    book = _codebook([_indicator(i) for i in ORACLE_INDICATORS], ["stype"])
    return frame, book, spec, raw


WITHIN_SPEC = {
    "within": [
        {"domain": "stype", "pairs": [["E", "H"], ["M", "E"]]},
        {"domain": "stype", "against": "others"},
    ]
}


def _synthetic(seed: int, n: int, indicators, *, roles=("MP", "staff")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {
        "role": pd.Categorical(rng.choice(list(roles), n), categories=list(roles)),
        "region": pd.Categorical(rng.choice(["A", "B", "C"], n), categories=["A", "B", "C"]),
    }
    for j, ind in enumerate(indicators):
        y = (rng.random(n) < 0.3 + 0.1 * j).astype(float)
        y[rng.random(n) < 0.05] = np.nan
        data[ind] = y
    return pd.DataFrame(data)


# --------------------------------------------------------------------------------------
# Rao-Scott against R
# --------------------------------------------------------------------------------------
RAOSCOTT = pd.read_csv(ORACLE / "raoscott.csv")


@pytest.mark.parametrize("design", list(dict.fromkeys(RAOSCOTT["design"])))
def test_rao_scott_equals_r_svychisq(design):
    frame, _, spec, raw = _oracle(design)
    survey = SurveyDesign.from_frame(raw, spec)
    y = raw[list(ORACLE_INDICATORS)].to_numpy(float)
    res = rao_scott(survey, y, stype_codes(raw), 3)
    res["indicator"] = np.asarray(ORACLE_INDICATORS)[res["indicator"]]
    ref = RAOSCOTT[RAOSCOTT["design"] == design]
    assert len(ref) == 8
    for row in ref.itertuples():
        ind = row.formula[1:].split("+")[0]
        mine = res[(res["indicator"] == ind) & (res["statistic"] == row.statistic)].iloc[0]
        checks = {"value": row.value, "p_value": row.p_value, "design_df": row.design_df}
        if row.statistic == "F":
            checks.update(ndf=row.ndf, ddf=row.ddf)
        else:
            checks.update(ndf=row.chisq_df)
            assert math.isnan(mine["ddf"])
        for key, expected in checks.items():
            assert mine[key] == pytest.approx(expected, rel=1e-8, abs=0), (ind, key)
        assert mine["flag"] == ""


# --------------------------------------------------------------------------------------
# degrees of freedom: the rows with a valid answer and a known domain value, against R
# (tests/fixtures/oracle_valid: item non-response over whole PSUs, an "of whom"
# indicator, a domain with unknown values; generate.R there has the R calls)
# --------------------------------------------------------------------------------------
VALID_CONTRASTS = valid_reference("contrasts")
VALID_ASSOCIATION = valid_reference("association")
VALID_INDICATORS_CMP = ("awards_nr", "comp_imp_of_sch_wide", "sch_wide")


def _valid_wave(design: str):
    """(harmonized frame, codebook, design block, raw data) of an oracle_valid design."""
    raw, spec = valid_data(design)
    frame = pd.DataFrame(
        {
            **{d: pd.Categorical(raw[d], categories=list(STYPES)) for d in ("stype", "stype_nr")},
            **{i: raw[i].astype(float) for i in VALID_INDICATORS_CMP},
            **{f"design:{c}": raw[c] for c in design_columns(spec, raw.columns)},
        }
    )
    book = _codebook([_indicator(i) for i in VALID_INDICATORS_CMP], ["stype", "stype_nr"])
    return frame, book, spec, raw


@pytest.mark.parametrize("design", list(dict.fromkeys(VALID_CONTRASTS["design"])))
def test_within_wave_contrasts_equal_r_on_the_rows_with_a_valid_answer(design):
    """R: sub <- subset(design, !is.na(y) & !is.na(domain)); svyby(..., covmat = TRUE);
    confint(svycontrast(...), df = degf(sub)) -- the R call is on every reference row."""
    frame, book, spec, _ = _valid_wave(design)
    spec_within = {
        "within": [
            {"domain": d, "against": against}
            for d in ("stype", "stype_nr")
            for against in ("pairs", "others")
        ]
    }
    ours = compare_within(frame, book, spec, spec_within, wave="w")
    ref = VALID_CONTRASTS[VALID_CONTRASTS["design"] == design]
    keys = ["indicator", "domain", "value_a", "value_b"]
    merged = ref.merge(ours, on=keys, suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(ref) == len(ours) == 36
    np.testing.assert_array_equal(merged["df"], merged["df_r"])
    for column in ("difference", "se", "ci_low", "ci_high", "statistic", "p_value"):
        np.testing.assert_allclose(
            merged[column], merged[f"{column}_r"], rtol=1e-9, atol=1e-14, err_msg=column
        )
    if design != "strat_boot":  # the bootstrap's rank is 99 whatever rows are left
        assert (merged["df"] < merged["degf_design"]).any()
    assert (merged["flag"] == "").all()


@pytest.mark.parametrize("design", list(dict.fromkeys(VALID_ASSOCIATION["design"])))
def test_association_tests_equal_r_and_share_the_contrasts_df(design):
    frame, book, spec, raw = _valid_wave(design)
    survey = SurveyDesign.from_frame(raw, spec)
    ref = VALID_ASSOCIATION[VALID_ASSOCIATION["design"] == design]
    contrasts_df = VALID_CONTRASTS[VALID_CONTRASTS["design"] == design]
    for domain in ("stype", "stype_nr"):
        codes = pd.Categorical(raw[domain], categories=list(STYPES)).codes.astype(np.intp)
        y = raw[list(VALID_INDICATORS_CMP)].to_numpy(float)
        res = rao_scott(survey, y, codes, 3)
        res["indicator"] = np.asarray(VALID_INDICATORS_CMP)[res["indicator"]]
        np.testing.assert_array_equal(
            valid_rows_df(survey, y, codes), res[res["statistic"] == "F"]["design_df"]
        )
        for row in ref[ref["domain"] == domain].itertuples():
            mine = res[(res["indicator"] == row.indicator) & (res["statistic"] == row.statistic)]
            mine = mine.iloc[0]
            assert mine["design_df"] == row.design_df
            assert mine["n"] == row.n_rows
            for key in ("value", "ndf", "p_value") + (("ddf",) if row.statistic == "F" else ()):
                assert mine[key] == pytest.approx(getattr(row, key), rel=1e-8), (row.r_call, key)
            # one rule: the contrasts of this indicator and domain use the same df
            same = contrasts_df[
                (contrasts_df["indicator"] == row.indicator) & (contrasts_df["domain"] == domain)
            ]
            assert (same["df"] == row.design_df).all()


def test_pearson_reduction_without_design():
    raw = read_data("apistrat.csv")
    y = raw[list(ORACLE_INDICATORS)].to_numpy(float)
    codes = stype_codes(raw)
    res = rao_scott(None, y, codes, 3)
    for j, _ in enumerate(ORACLE_INDICATORS):
        table = pd.crosstab(y[:, j], codes).to_numpy()
        chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
        f_row = res[(res["indicator"] == j) & (res["statistic"] == "F")].iloc[0]
        c_row = res[(res["indicator"] == j) & (res["statistic"] == "Chisq")].iloc[0]
        assert c_row["value"] == pytest.approx(chi2, rel=1e-12)
        assert c_row["ndf"] == dof
        assert c_row["p_value"] == pytest.approx(p, rel=1e-10)
        assert f_row["value"] == pytest.approx(chi2 / dof, rel=1e-12)
        assert f_row["p_value"] == pytest.approx(p, rel=1e-10)
        assert math.isinf(f_row["ddf"])


def test_association_tests_flags_suppressed_domains():
    frame = _synthetic(1, 120, ["psych", "phys"])
    book = _codebook([_indicator("psych"), _indicator("phys")], ["role", "region"])
    table = estimate_wave(frame, book, wave="w1", by=[["role"], ["region"]])
    table.loc[(table["domain"] == "region") & (table["indicator"] == "phys"), "suppressed"] = True
    tests = association_tests(frame, book, {}, ["role", "region"], wave="w1", published=table)
    assert list(tests.columns)[:6] == [
        "wave",
        "indicator",
        "denominator",
        "domain",
        "statistic",
        "value",
    ]
    assert len(tests) == 2 * 2 * 2
    flagged = tests[tests["flag"].str.contains("domain has suppressed cells")]
    assert set(zip(flagged["domain"], flagged["indicator"], strict=True)) == {("region", "phys")}
    assert flagged["value"].notna().all() and not tests["suppressed"].any()
    withheld = association_tests(
        frame, book, {}, ["region"], wave="w1", published=table, on_suppressed="suppress"
    )
    hidden = withheld[withheld["indicator"] == "phys"]
    assert hidden["suppressed"].all() and hidden["p_value"].isna().all()


# --------------------------------------------------------------------------------------
# covariance of two domains in one design
# --------------------------------------------------------------------------------------
def _brute_taylor(raw: pd.DataFrame, spec: dict, z: np.ndarray) -> float:
    """One-stage stratified cluster variance of the total of z, written out stratum by stratum."""
    n = len(raw)
    strata = raw[spec["strata"]].to_numpy() if "strata" in spec else np.zeros(n)
    psu = raw[spec["psu"]].to_numpy() if "psu" in spec else np.arange(n)
    var = 0.0
    for h in np.unique(strata):
        rows = strata == h
        totals = pd.Series(z[rows]).groupby(psu[rows]).sum().to_numpy()
        n_h = len(totals)
        f_h = 1.0
        if "fpc" in spec:
            fpc = float(raw.loc[rows, spec["fpc"]].iloc[0])
            f_h = 1.0 - n_h / fpc if fpc > 1 else 1.0 - fpc
        var += f_h * n_h / (n_h - 1) * ((totals - totals.mean()) ** 2).sum()
    return var


def _scores(w, y, member):
    p = (w * y * member).sum() / (w * member).sum()
    return w * np.where(member, y - p, 0.0) / (w * member).sum(), p


@pytest.mark.parametrize("design", ["srs", "strat", "clus1", "strat_paired"])
def test_within_wave_se_equals_linearised_variance_of_the_difference(design):
    frame, book, spec, raw = _oracle(design)
    survey = SurveyDesign.from_frame(raw, spec)
    w = survey.weights
    rows = compare_within(frame, book, spec, WITHIN_SPEC, wave="w")
    assert (rows["method"] == "wald").all()
    assert (rows["df"] == designs_json()[design]["degf"]).all()
    codes = stype_codes(raw)
    for row in rows.itertuples():
        y = raw[row.indicator].to_numpy(float)
        a = codes == STYPES.index(row.value_a)
        b = (
            (codes != STYPES.index(row.value_a))
            if row.value_b == OTHERS
            else (codes == STYPES.index(row.value_b))
        )
        z_a, p_a = _scores(w, y, a)
        z_b, p_b = _scores(w, y, b)
        assert row.estimate_a == pytest.approx(p_a, rel=1e-12)
        assert row.estimate_b == pytest.approx(p_b, rel=1e-12)
        # the difference as one linear statistic: scores z_a - z_b
        assert row.se**2 == pytest.approx(_brute_taylor(raw, spec, z_a - z_b), rel=1e-10)
        # and the covariance term of Var(a) + Var(b) - 2 Cov(a, b), by the same formula
        rc = ratio_covariance(
            survey, np.column_stack([y * a, y * b]), np.column_stack([a, b]) * 1.0
        )
        cov_brute = (_brute_taylor(raw, spec, z_a + z_b) - _brute_taylor(raw, spec, z_a - z_b)) / 4
        assert rc.cov[0, 1] == pytest.approx(cov_brute, rel=1e-9, abs=1e-15)
        assert rc.cov[0, 0] == pytest.approx(_brute_taylor(raw, spec, z_a), rel=1e-10)


def test_srs_disjoint_domains_covariance_is_the_formula():
    """SRS without strata: Cov(a, b) = -f n/(n-1) n zbar_a zbar_b for disjoint domains."""
    _, _, spec, raw = _oracle("srs")
    survey = SurveyDesign.from_frame(raw, spec)
    w, n = survey.weights, len(raw)
    y = raw["awards"].to_numpy(float)
    codes = stype_codes(raw)
    a, b = codes == 0, codes == 2
    z_a, _ = _scores(w, y, a)
    z_b, _ = _scores(w, y, b)
    f = 1 - n / 6194
    expected = f * n / (n - 1) * (z_a * z_b - n * z_a.mean() * z_b.mean()).sum()
    assert expected == pytest.approx(-f * n / (n - 1) * n * z_a.mean() * z_b.mean())
    rc = ratio_covariance(survey, np.column_stack([y * a, y * b]), np.column_stack([a, b]) * 1.0)
    assert rc.cov[0, 1] == pytest.approx(expected, rel=1e-10)


def test_others_side_is_the_complement_domain():
    frame, book, spec, raw = _oracle("clus2")
    survey = SurveyDesign.from_frame(raw, spec)
    rows = compare_within(
        frame, book, spec, {"within": [{"domain": "stype", "against": "others"}]}, wave="w"
    )
    codes = stype_codes(raw)
    y = raw[list(ORACLE_INDICATORS)].to_numpy(float)
    for v, value in enumerate(STYPES):
        split = np.where(codes == v, 0, 1)
        dp = domain_proportions(survey, y, split, 2)
        sel = rows[rows["value_a"] == value]
        assert list(sel["indicator"]) == list(ORACLE_INDICATORS)
        np.testing.assert_allclose(sel["estimate_b"], dp.estimate[:, 1], rtol=1e-12)
        np.testing.assert_array_equal(sel["n_b"], dp.n[:, 1])


@pytest.mark.parametrize(
    "design", ["clus1_jk1", "clus1_jk1_mse", "strat_boot", "strat_paired_brr", "strat_paired_fay"]
)
def test_replicate_se_equals_variance_of_replicate_differences(design):
    frame, book, spec, raw = _oracle(design)
    info = designs_json()[design]
    reps = raw[[c for c in raw.columns if c.startswith("repw_")]].to_numpy(float)
    w = raw["pw"].to_numpy(float)
    rscales = np.asarray(info["rscales"], dtype=float)
    rows = compare_within(frame, book, spec, WITHIN_SPEC, wave="w")
    assert (rows["df"] == info["degf"]).all()
    codes = stype_codes(raw)
    for row in rows.itertuples():
        y = raw[row.indicator].to_numpy(float)
        a = codes == STYPES.index(row.value_a)
        b = (
            (codes != STYPES.index(row.value_a))
            if row.value_b == OTHERS
            else (codes == STYPES.index(row.value_b))
        )
        full = (w * y * a).sum() / (w * a).sum() - (w * y * b).sum() / (w * b).sum()
        d_r = np.array(
            [
                (reps[:, r] * y * a).sum() / (reps[:, r] * a).sum()
                - (reps[:, r] * y * b).sum() / (reps[:, r] * b).sum()
                for r in range(reps.shape[1])
            ]
        )
        centre = full if info["mse"] else d_r.mean()
        var = info["scale"] * (rscales * (d_r - centre) ** 2).sum()
        assert row.difference == pytest.approx(full, rel=1e-12, abs=1e-15)
        assert row.se == pytest.approx(math.sqrt(var), rel=1e-9)


def test_within_wave_wald_interval_and_t_test():
    frame, book, spec, _ = _oracle("clus1")
    rows = compare_within(frame, book, spec, WITHIN_SPEC, wave="w", level=0.9)
    q = stats.t.ppf(0.95, 14)
    np.testing.assert_allclose(rows["ci_low"], np.clip(rows["difference"] - q * rows["se"], -1, 1))
    np.testing.assert_allclose(rows["statistic"], rows["difference"] / rows["se"])
    np.testing.assert_allclose(rows["p_value"], 2 * stats.t.sf(np.abs(rows["statistic"]), 14))
    assert (rows["level"] == 0.9).all()


# --------------------------------------------------------------------------------------
# simple random samples: Newcombe
# --------------------------------------------------------------------------------------
# Newcombe (1998), Table II, method 10 (hybrid score, no continuity correction), 95%.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_TABLE_II)
def test_newcombe_reproduces_table_ii(counts, published):
    low, high = newcombe_interval(*counts)
    assert round(float(low), 4) == published[0]
    assert round(float(high), 4) == published[1]
    ref = confint_proportions_2indep(*counts, method="newcomb", compare="diff")
    assert (float(low), float(high)) == pytest.approx(ref, abs=1e-12)


def test_score_test_is_pearson_on_the_2x2_table():
    z, p = score_test(56, 70, 48, 80)
    chi2, p_ref, _, _ = stats.chi2_contingency([[56, 14], [48, 32]], correction=False)
    assert float(z) ** 2 == pytest.approx(chi2, rel=1e-12)
    assert float(p) == pytest.approx(p_ref, rel=1e-10)
    z0, p0 = score_test(0, 10, 0, 20)
    assert math.isnan(float(z0)) and math.isnan(float(p0))


def test_classical_within_uses_newcombe_on_disjoint_groups():
    frame = _synthetic(2, 150, ["psych"])
    book = _codebook([_indicator("psych")], ["role", "region"])
    spec = {
        "within": [
            {"domain": "role", "pairs": [["MP", "staff"]]},
            {"domain": "region", "against": "others"},
        ]
    }
    rows = compare_within(frame, book, {}, spec, wave="w")
    assert list(rows.columns) == CONTRAST_COLUMNS
    assert (rows["method"] == "newcombe").all() and np.isinf(rows["df"]).all()
    y = frame["psych"]
    for row in rows.itertuples():
        col = frame[row.domain].astype(str)
        a = col == row.value_a
        b = (col != row.value_a) if row.value_b == OTHERS else (col == row.value_b)
        x_a, n_a = y[a].sum(), y[a].notna().sum()
        x_b, n_b = y[b].sum(), y[b].notna().sum()
        assert (row.n_a, row.n_b) == (n_a, n_b)
        assert (row.ci_low, row.ci_high) == pytest.approx(
            confint_proportions_2indep(x_a, n_a, x_b, n_b, method="newcomb", compare="diff"),
            abs=1e-12,
        )
        assert row.p_value == pytest.approx(float(score_test(x_a, n_a, x_b, n_b)[1]))


def test_named_value_missing_from_a_wave_gives_no_row():
    frame = _synthetic(3, 60, ["psych"], roles=("MP",))
    book = _codebook([_indicator("psych")], ["role"])
    rows = compare_within(
        frame, book, {}, {"within": [{"domain": "role", "pairs": [["MP", "staff"]]}]}, wave="w"
    )
    assert rows.empty


# --------------------------------------------------------------------------------------
# between waves
# --------------------------------------------------------------------------------------
def _two_waves():
    f1 = _synthetic(4, 80, ["psych", "phys"])
    f2 = _synthetic(5, 120, ["psych", "online"])
    b1 = _codebook([_indicator("psych"), _indicator("phys")], ["role"])
    b2 = _codebook([_indicator("psych"), _indicator("online")], ["role"])
    t1 = estimate_wave(f1, b1, wave="w1", by=[["role"]])
    t2 = estimate_wave(f2, b2, wave="w2", by=[["role"]])
    return pd.concat([t1, t2], ignore_index=True)


def test_between_waves_only_shared_indicators_never_zero():
    table = _two_waves()
    spec = {"between_waves": [{"waves": ["w1", "w2"], "domain": {"domain": "role", "value": "MP"}}]}
    rows = compare_between(table, spec)
    assert list(rows["indicator"]) == ["psych"]
    row = rows.iloc[0]
    assert (row["wave_a"], row["wave_b"], row["value_a"]) == ("w2", "w1", "MP")
    a = table[
        (table.wave == "w2") & (table.domain_value == "MP") & (table.indicator == "psych")
    ].iloc[0]
    b = table[
        (table.wave == "w1") & (table.domain_value == "MP") & (table.indicator == "psych")
    ].iloc[0]
    assert row["method"] == "newcombe"
    assert row["difference"] == pytest.approx(a.estimate - b.estimate)
    low, high = newcombe_interval(a.cases, a.n, b.cases, b.n)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((float(low), float(high)))


def test_between_waves_with_a_design_is_wald_on_the_smaller_df():
    table = _two_waves()
    table.loc[table["wave"] == "w1", "df"] = 12.0
    table.loc[table["wave"] == "w2", "df"] = 30.0
    rows = compare_between(table, {"between_waves": [{"waves": ["w1", "w2"]}]})
    row = rows.iloc[0]
    a = table[
        (table.wave == "w2") & (table.domain == "overall") & (table.indicator == "psych")
    ].iloc[0]
    b = table[
        (table.wave == "w1") & (table.domain == "overall") & (table.indicator == "psych")
    ].iloc[0]
    se = math.hypot(a.se, b.se)
    assert (row["method"], row["df"], row["se"]) == ("wald", 12.0, pytest.approx(se))
    q = stats.t.ppf(0.975, 12)
    assert row["ci_low"] == pytest.approx(row["difference"] - q * se)
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(row["difference"] / se), 12))


def test_between_waves_pairs_consecutive_and_all():
    table = _two_waves()
    t3 = table[table.wave == "w2"].assign(wave="w3")
    table = pd.concat([table, t3], ignore_index=True)
    consecutive = compare_between(table, {"between_waves": [{"waves": ["w1", "w2", "w3"]}]})
    assert list(zip(consecutive.wave_a, consecutive.wave_b, strict=True)) == [
        ("w2", "w1"),
        ("w3", "w2"),
        ("w3", "w2"),
    ]
    every = compare_between(
        table, {"between_waves": [{"waves": ["w1", "w2", "w3"], "pairs": "all"}]}
    )
    assert set(zip(every.wave_a, every.wave_b, strict=True)) == {
        ("w2", "w1"),
        ("w3", "w1"),
        ("w3", "w2"),
    }


# --------------------------------------------------------------------------------------
# multiple comparisons
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_adjustment_is_statsmodels_to_the_bit(method):
    rng = np.random.default_rng(7)
    for size in (1, 2, 3, 10, 57):
        for _ in range(20):
            p = rng.choice([rng.random(), 0.5, 1e-9, 1.0], size) * rng.random(size) ** 3
            p[rng.random(size) < 0.2] = 0.05  # ties
            out = adjust_pvalues(
                pd.DataFrame({"p_value": p, "family": "f", "suppressed": False}), method=method
            )
            np.testing.assert_array_equal(out["p_adjusted"], multipletests(p, method=method)[1])


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_adjustment_within_each_family(method):
    p = np.array([0.001, 0.02, 0.04, 0.3, 0.01, 0.03, 0.5, np.nan])
    fam = np.array(["x", "x", "x", "x", "y", "y", "y", "y"])
    suppressed = np.array([False, False, False, False, False, True, False, False])
    out = adjust_pvalues(
        pd.DataFrame({"p_value": p, "family": fam, "suppressed": suppressed}), method=method
    )
    np.testing.assert_allclose(out["p_adjusted"][:4], multipletests(p[:4], method=method)[1])
    np.testing.assert_allclose(
        out["p_adjusted"][[4, 6]], multipletests(p[[4, 6]], method=method)[1]
    )
    assert out["p_adjusted"][[5, 7]].isna().all()
    assert (out["adjust_method"] == method).all()
    none = adjust_pvalues(
        pd.DataFrame({"p_value": p, "family": fam, "suppressed": suppressed}), method="none"
    )
    np.testing.assert_array_equal(none["p_adjusted"][:5], p[:5])


@pytest.mark.parametrize(("family", "groups"), [("indicator", 2), ("comparison", 2), ("all", 1)])
def test_contrasts_families(family, groups):
    frame = _synthetic(6, 200, ["psych", "phys"])
    book = _codebook([_indicator("psych"), _indicator("phys")], ["role", "region"])
    spec = {
        "within": [
            {"domain": "role", "pairs": [["MP", "staff"]]},
            {"domain": "region", "pairs": [["A", "B"]]},
        ],
        "family": family,
    }
    rows = contrasts([compare_within(frame, book, {}, spec, wave="w")], spec)
    assert rows["family"].nunique() == groups
    for _, g in rows.groupby("family"):
        np.testing.assert_allclose(g["p_adjusted"], multipletests(g["p_value"], method="holm")[1])


# --------------------------------------------------------------------------------------
# suppression
# --------------------------------------------------------------------------------------
def test_suppression_propagates_from_the_published_table():
    frame = _synthetic(7, 150, ["psych", "phys"])
    book = _codebook([_indicator("psych"), _indicator("phys")], ["role", "region"])
    table = estimate_wave(frame, book, wave="w", by=[["role"], ["region"]])
    staff = (table.domain_value == "staff") & (table.indicator == "psych")
    table.loc[staff, ["suppressed", "flag"]] = [True, "fewer than 3 cases"]
    region_b = (table.domain_value == "B") & (table.indicator == "phys")
    table.loc[region_b, ["suppressed", "flag", "n"]] = [True, "secondary suppression", np.nan]
    spec = {
        "within": [
            {"domain": "role", "pairs": [["MP", "staff"]]},
            {"domain": "region", "against": "others"},
        ]
    }
    rows = contrasts([compare_within(frame, book, {}, spec, wave="w")], spec, published=table)
    hidden = rows[rows["suppressed"]]
    keys = set(zip(hidden["domain"], hidden["value_a"], hidden["indicator"], strict=True))
    assert keys == {("role", "MP", "psych"), ("region", "B", "phys")}
    role = hidden[hidden["domain"] == "role"].iloc[0]
    assert role["flag"] == "side suppressed: staff (fewer than 3 cases)"
    region = hidden[hidden["domain"] == "region"].iloc[0]
    assert region["flag"] == "side suppressed: B (secondary suppression)"
    assert pd.isna(region["n_a"]) and pd.isna(region["n_b"])  # n hidden: also the complement's
    for col in (
        "estimate_a",
        "estimate_b",
        "difference",
        "se",
        "ci_low",
        "ci_high",
        "statistic",
        "p_value",
        "p_adjusted",
    ):
        assert hidden[col].isna().all(), col
    shown = rows[~rows["suppressed"]]
    assert shown["difference"].notna().all() and shown["p_adjusted"].notna().all()


def test_suppression_of_overall_and_missing_cells():
    frame = _synthetic(8, 150, ["psych"])
    book = _codebook([_indicator("psych")], ["role", "region"])
    table = estimate_wave(frame, book, wave="w", by=[["region"]])
    table.loc[table.domain == "overall", ["suppressed", "flag"]] = [True, "review"]
    spec = {
        "within": [
            {"domain": "region", "against": "others"},
            {"domain": "role", "pairs": [["MP", "staff"]]},
        ]
    }
    rows = suppress_contrasts(compare_within(frame, book, {}, spec, wave="w"), table)
    assert rows["suppressed"].all()
    others = rows[rows["domain"] == "region"]
    assert (others["flag"] == "side suppressed: overall (review)").all()
    role = rows[rows["domain"] == "role"].iloc[0]  # role was never published
    assert role["flag"] == (
        "side suppressed: MP (not in the published table); staff (not in the published table)"
    )


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------
def test_parse_comparisons_example():
    spec = parse_comparisons(
        {
            "within": [
                {"domain": "role", "pairs": [["MP", "staff"]]},
                {"domain": "region", "against": "others"},
            ],
            "between_waves": [
                {"waves": ["a", "b", "c"], "pairs": "consecutive", "domain": "overall"},
                {"waves": ["a", "c"], "domain": {"domain": "role", "value": "MP"}},
            ],
            "adjust": "fdr_bh",
            "family": "comparison",
        },
        waves=["a", "b", "c"],
    )
    assert spec.within[0].pairs == (("MP", "staff"),)
    assert spec.within[1].against == "others"
    assert spec.between_waves[0].wave_pairs() == [("b", "a"), ("c", "b")]
    assert (spec.between_waves[1].domain, spec.between_waves[1].value) == ("role", "MP")
    assert (spec.adjust, spec.family) == ("fdr_bh", "comparison")
    assert spec.association_domains() == ("role", "region")
    assert parse_comparisons(None).adjust == "holm"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"within": [{"domain": "role", "pairs": [["MP", "staff"]], "against": "others"}]},
            "not both",
        ),
        ({"within": [{"domain": "role"}]}, "neither pairs nor against"),
        ({"within": [{"domain": "role", "pairs": [["MP", "MP"]]}]}, "itself"),
        ({"within": [{"domain": "role", "pairs": [["MP", OTHERS]]}]}, "reserved"),
        ({"within": [{"domain": "role", "against": "everyone"}]}, "against"),
        ({"between_waves": [{"waves": ["a", "zz"]}]}, "not configured"),
        ({"between_waves": [{"waves": ["a"]}]}, "between_waves[0].waves"),
        ({"adjust": "bonferroni"}, "comparisons.adjust"),
        ({"famly": "all"}, "unknown key 'famly'"),
    ],
)
def test_parse_comparisons_errors(raw, message):
    with pytest.raises(ConfigError) as err:
        parse_comparisons(raw, waves=["a", "b"])
    assert message in str(err.value)
    assert err.value.fix


# --------------------------------------------------------------------------------------
# the comparison steps and the forest plots of the study
# --------------------------------------------------------------------------------------
CODEBOOK_YAML = """respondent_id: id
domains:
  role: {{column: role}}
indicators:
{indicators}
"""


def _write_wave(tmp: Path, wave: str, frame: pd.DataFrame, labels: dict[str, str]) -> dict:
    folder = tmp / wave
    folder.mkdir()
    frame.drop(columns=["region"]).to_parquet(folder / "responses.parquet")
    lines = "\n".join(f"  {i}: {{column: {i}, label: {lab}}}" for i, lab in labels.items())
    (folder / "codebook.yaml").write_text(CODEBOOK_YAML.format(indicators=lines))
    return {
        "data": str(folder / "responses.parquet"),
        "codebook": str(folder / "codebook.yaml"),
        "design": {},
    }


def test_steps_end_to_end(tmp_path):
    labels = {"psych": "Psychological violence", "phys": "Physical violence"}
    waves = {
        "w1": _write_wave(tmp_path, "w1", _synthetic(9, 90, list(labels)), labels),
        "w2": _write_wave(tmp_path, "w2", _synthetic(10, 110, list(labels)), labels),
    }
    from prevalence.data.codebook import load_codebook

    table = pd.concat(
        [
            estimate_wave(
                pd.read_parquet(w["data"]), load_codebook(w["codebook"]), wave=k, by=[["role"]]
            )
            for k, w in waves.items()
        ]
    )
    table.loc[
        (table.wave == "w2") & (table.domain_value == "staff") & (table.indicator == "phys"),
        ["suppressed", "flag"],
    ] = [True, "fewer than 3 cases"]
    published = tmp_path / "prevalence.csv"
    table.to_csv(published, index=False)
    comparisons = {
        "within": [{"domain": "role", "pairs": [["MP", "staff"]]}],
        "between_waves": [{"waves": ["w1", "w2"]}],
    }
    out = tmp_path / "contrasts.csv"
    result = contrasts_step(published, waves, comparisons=comparisons, out=out)
    assert len(result) == 2 * 2 + 2 and int(result["suppressed"].sum()) == 1
    assert pd.read_csv(out).shape == result.shape
    assoc = association_step(published, waves, comparisons=comparisons, out=tmp_path / "assoc.csv")
    assert len(assoc) == 2 * 2 * 2 and assoc["p_adjusted"].notna().all()
    with pytest.raises(ConfigError, match="not a value of 'role' in any wave"):
        contrasts_step(
            published,
            waves,
            comparisons={"within": [{"domain": "role", "pairs": [["MP", "Staff"]]}]},
            out=out,
        )
    paths = forest_step(
        out,
        {k: w["codebook"] for k, w in waves.items()},
        wave_labels={"w1": "One", "w2": "Two"},
        out_dir=tmp_path / "forest",
    )
    names = sorted(p.name for p in paths)
    assert names == sorted(
        f"forest_{stem}.{ext}"
        for stem in ("w1_role", "w2_role", "waves_overall")
        for ext in ("png", "svg", "pdf", "csv")
    )


# --------------------------------------------------------------------------------------
# the covariance of cell ratios from group totals equals the one from the rows
# --------------------------------------------------------------------------------------
def _cell_columns(y, codes, m, ind, num, den):
    """The (rows, L) numerator and denominator columns that the cell weights describe."""
    n, size = len(codes), len(ind)
    u, v = np.zeros((n, size)), np.zeros((n, size))
    for col in range(size):
        answer = y[:, ind[col]]
        ok = ~np.isnan(answer) & (codes >= 0)
        r = np.where(ok, answer, 0).astype(int)
        d = np.where(ok, codes, 0)
        u[:, col] = np.where(ok, num[col, d, r], 0.0)
        v[:, col] = np.where(ok, den[col, d, r], 0.0)
    return u, v


def _cell_layout(m: int, k: int):
    """Sides of comparisons (one value, the others) and the 2 x m tables of every indicator."""
    ind, num, den = [], [], []
    for j in range(k):
        for d in range(m):
            side = np.zeros((m, 2))
            side[d] = 1.0
            yes = side.copy()
            yes[:, 0] = 0.0
            ind += [j, j]
            num += [yes, (1.0 - side) * np.array([0.0, 1.0])]
            den += [side, 1.0 - side]
            for level in (0, 1):
                cell = np.zeros((m, 2))
                cell[d, level] = 1.0
                ind.append(j)
                num.append(cell)
                den.append(np.ones((m, 2)))
    return np.array(ind), np.array(num), np.array(den)


CELL_CASES = [
    *[(d, None) for d in ("srs", "strat", "clus1", "clus2", "strat_paired")],
    *[(d, p) for d in ("strat_lonely", "clus2_lonely") for p in ("adjust", "average", "remove")],
    *[(d, None) for d in ("clus1_jk1", "strat_boot", "strat_paired_fay", "clus1_jk1_mse")],
]


@pytest.mark.parametrize(("design", "lonely"), CELL_CASES)
@pytest.mark.parametrize("block", [None, 7])
def test_cell_ratio_covariance_equals_the_covariance_of_the_rows(
    design, lonely, block, monkeypatch
):
    from prevalence.stats import variance

    if block:  # a few PSUs at a time: the blocks must add up to the whole
        monkeypatch.setattr(variance, "_BLOCK_ELEMENTS", block * 4 * 3 * 16)
    _, _, spec, raw = _oracle(design)
    if lonely:
        spec = {**spec, "lonely_psu": lonely}
    survey = SurveyDesign.from_frame(raw, spec)
    y = raw[list(ORACLE_INDICATORS)].to_numpy(float, copy=True)
    y[::11, 1] = np.nan
    codes = stype_codes(raw).copy()
    codes[::13] = -1
    ind, num, den = _cell_layout(3, y.shape[1])
    cells = variance.cell_ratio_covariance(survey, y, codes, 3, ind, num, den)
    rows = ratio_covariance(survey, *_cell_columns(y, codes, 3, ind, num, den))
    np.testing.assert_array_equal(cells.n, rows.n)
    np.testing.assert_allclose(cells.estimate, rows.estimate, rtol=1e-13, atol=0)
    scale = np.nanmax(np.abs(rows.cov))
    np.testing.assert_allclose(cells.cov, rows.cov, rtol=1e-10, atol=1e-13 * scale)


def test_distribution_functions_are_scipy_stats_to_the_bit():
    """The comparisons call scipy.special where scipy.stats would (importing scipy.stats
    costs a job a second): the same functions, the same bits."""
    from scipy import special

    rng = np.random.default_rng(5)
    x = np.concatenate([[0.0, 1e-300, np.inf, np.nan], rng.exponential(3.0, 500)])
    df = np.concatenate([[1.0, 2.0, 1e6, np.inf], rng.uniform(0.5, 400.0, 500)])
    q = np.concatenate([[0.5, 0.975, 0.995, 0.75], rng.uniform(0.5, 1.0, 500)])
    same = np.testing.assert_array_equal
    same(special.ndtri(q), stats.norm.ppf(q))
    same(special.ndtr(-x), stats.norm.sf(x))
    same(special.stdtrit(df, q), stats.t.ppf(q, df))
    same(special.stdtr(df, -x), stats.t.sf(x, df))
    same(special.fdtrc(df, df[::-1] * 3, x), stats.f.sf(x, df, df[::-1] * 3))
    same(special.chdtrc(df, x), stats.chi2.sf(x, df))
