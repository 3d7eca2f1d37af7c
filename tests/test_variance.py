"""Domain proportions, standard errors, df and design effects against R's survey 4.1-1.

The oracle (tests/fixtures/oracle, see ORACLE_README.md) holds R's numbers for
every design, domain and indicator; each design is computed here in one call
per domain variable and every reference row is compared. Further tests check
the vectorised code against a direct loop over strata and PSUs on random
designs, and invariances (weight scale, row order, domain = whole sample).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from oracle_reference import (
    INDICATORS,
    LONELY_STRATUM,
    STYPES,
    OracleCase,
    designs_json,
    indicator_matrix,
    oracle_cases,
    read_data,
    reference,
    reference_rows,
    stype_codes,
)

from prevalence.design import arrays as design_module
from prevalence.design.core import SurveyDesign
from prevalence.design.replicates import ReplicateWeights, _full_rank_by_core, pattern_ranks
from prevalence.errors import DesignError
from prevalence.stats import variance
from prevalence.stats.variance import DomainProportions, domain_proportions, domain_proportions_by

CASES = oracle_cases()
NON_FAIL = [c for c in CASES if c.lonely_psu != "fail"]
FAIL = [c for c in CASES if c.lonely_psu == "fail"]
QUANTITIES = ("estimate", "se", "df", "deff", "deff_replace", "n", "cases", "n_rows")


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _long(res: DomainProportions, domain: str, values: tuple[str, ...]) -> pd.DataFrame:
    k, m = res.estimate.shape
    out = pd.DataFrame(
        {
            "domain": domain,
            "domain_value": np.tile(np.asarray(values, dtype=object), k),
            "indicator": np.repeat(np.asarray(INDICATORS, dtype=object), m),
        }
    )
    for q in QUANTITIES:
        out[q] = getattr(res, q).reshape(-1)
    return out


def compute_case(case: OracleCase, spec: dict | None = None) -> pd.DataFrame:
    """All cells of a case: overall and by stype, every indicator, in two calls."""
    frame = case.frame()
    design = SurveyDesign.from_frame(
        frame, case.spec if spec is None else spec, source=case.data_file
    )
    y = indicator_matrix(frame)
    overall = domain_proportions(design, y, np.zeros(len(frame), dtype=np.intp), 1)
    by_type = domain_proportions(design, y, stype_codes(frame), len(STYPES))
    return pd.concat([_long(overall, "overall", ("All",)), _long(by_type, "stype", STYPES)])


def _close(mine: np.ndarray, ref: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    mine = np.asarray(mine, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    both_nan = np.isnan(mine) & np.isnan(ref)
    same_inf = np.isinf(ref) & (mine == ref)
    with np.errstate(invalid="ignore"):
        near = np.abs(mine - ref) <= atol + rtol * np.abs(ref)
    return both_nan | same_inf | near


def assert_matches_reference(mine: pd.DataFrame, ref: pd.DataFrame) -> dict[str, float]:
    """Compare every reference row; fail with the worst rows. Returns max differences."""
    on = ["domain", "domain_value", "indicator"]
    merged = ref.merge(mine, on=on, how="outer", suffixes=("_r", ""), indicator=True)
    missing = merged[merged["_merge"] == "left_only"]
    assert missing.empty, f"reference rows not computed:\n{missing[on]}"
    extra = merged[merged["_merge"] == "right_only"]
    assert (extra["n"] == 0).all(), f"non-empty cells without an R row:\n{extra[on + ['n']]}"
    m = merged[merged["_merge"] == "both"].reset_index(drop=True)
    degenerate = m["note_r"].str.startswith("degenerate").to_numpy() if "note_r" in m else None
    if degenerate is None:
        degenerate = m["note"].str.startswith("degenerate").to_numpy()
    checks = {
        "estimate": _close(m["estimate"], m["estimate_r"], 0.0, 1e-10),
        "se": _close(m["se"], m["se_r"], 1e-8, 1e-15),
        "df": _close(m["df"], m["df_r"], 1e-8, 0.0),
        "deff": _close(m["deff"], m["deff_r"], 1e-8, 0.0) | (degenerate & np.isnan(m["deff"])),
        "deff_replace": _close(m["deff_replace"], m["deff_replace_r"], 1e-8, 0.0)
        | (degenerate & np.isnan(m["deff_replace"])),
        "n": (m["n"] == m["n_r"]).to_numpy(),
        "cases": (m["cases"] == m["cases_r"]).to_numpy(),
        "n_rows": (m["n_rows"] == m["nrow_design"]).to_numpy(),
    }
    report = []
    for q, ok in checks.items():
        if not ok.all():
            bad = m.loc[~ok, on + [q, q + "_r" if q != "n_rows" else "nrow_design"]]
            report.append(f"{q}: {int((~ok).sum())} rows differ, e.g.\n{bad.head(5)}")
    assert not report, "\n".join(report)
    diffs = {}
    for q in ("estimate", "se", "df", "deff", "deff_replace"):
        a, b = m[q].to_numpy(float), m[q + "_r"].to_numpy(float)
        finite = np.isfinite(a) & np.isfinite(b)
        a, b = a[finite], b[finite]
        absolute = np.abs(a - b)
        if q == "estimate":
            diff = absolute
        else:
            diff = np.where(b == 0, absolute, absolute / np.where(b == 0, 1.0, np.abs(b)))
        diffs[q] = float(diff.max()) if diff.size else 0.0
    return diffs


# --------------------------------------------------------------------------------------
# the oracle
# --------------------------------------------------------------------------------------
def test_every_reference_row_belongs_to_a_case() -> None:
    ref = reference()
    groups = set(map(tuple, ref[["design", "dataset", "lonely_psu"]].drop_duplicates().to_numpy()))
    cases = {(c.design, c.dataset, c.lonely_psu) for c in CASES}
    assert groups == cases
    assert sum(len(reference_rows(c)) for c in CASES) == len(ref) == 620


@pytest.mark.parametrize("case", NON_FAIL, ids=[c.id for c in NON_FAIL])
def test_matches_r(case: OracleCase) -> None:
    ref = reference_rows(case)
    assert len(ref) > 0
    assert not ref["note"].str.contains("error").any()
    assert_matches_reference(compute_case(case), ref)


@pytest.mark.parametrize("case", FAIL, ids=[c.id for c in FAIL])
def test_fail_policy_matches_r(case: OracleCase) -> None:
    """R errors for the cells that reach the lonely stratum; we refuse the design.

    The other cells R computed do not touch the lonely stratum, so any other
    policy gives R's numbers for them.
    """
    column, value = LONELY_STRATUM[case.design]
    frame = case.frame()
    with pytest.raises(DesignError) as err:
        SurveyDesign.from_frame(frame, case.spec, source=case.data_file)
    message = str(err.value)
    assert repr(column) in message and repr(value) in message
    assert err.value.column == column and err.value.value == value

    ref = reference_rows(case)
    failed = ref["note"].str.contains(f"Stratum ({value}) has only one PSU", regex=False)
    reached = {"All"} | set(frame.loc[frame[column] == value, "stype"])
    assert set(ref.loc[failed, "domain_value"]) == reached
    ok = ref[~failed]
    assert len(ok) > 0
    mine = compute_case(case, {**case.spec, "lonely_psu": "remove"})
    mine = mine[mine["domain_value"].isin(set(ok["domain_value"]))]
    assert_matches_reference(mine, ok)


def test_replicate_files_align_with_data_rows() -> None:
    """Replicate files carry the data set's rows in the same order (joined by row order)."""
    for case in CASES:
        if "replicates" in case.spec:
            rep = case.frame()
            base = read_data(f"{case.dataset}.csv")
            assert (rep["snum"].to_numpy() == base["snum"].to_numpy()).all()
            np.testing.assert_array_equal(rep["pw"].to_numpy(), base["pw"].to_numpy())
            cols = [c for c in rep.columns if c.startswith("repw_")]
            assert len(cols) == designs_json()[case.design]["n_replicates"]


# --------------------------------------------------------------------------------------
# invariances
# --------------------------------------------------------------------------------------
def _by_case(design: str, lonely: str = "none") -> OracleCase:
    return next(c for c in CASES if c.design == design and c.lonely_psu == lonely)


@pytest.mark.parametrize(
    "design", ["srs", "strat", "clus1", "clus2", "strat_paired", "strat_boot", "clus1_jk1_mse"]
)
def test_whole_sample_domain_equals_overall(design: str) -> None:
    case = _by_case(design)
    frame = case.frame()
    des = SurveyDesign.from_frame(frame, case.spec)
    y = indicator_matrix(frame)
    overall = domain_proportions(des, y, np.zeros(len(frame), dtype=np.intp), 1)
    one = domain_proportions(des, y, np.ones(len(frame), dtype=np.intp), 3)
    for q in QUANTITIES:
        np.testing.assert_allclose(
            getattr(one, q)[:, 1], getattr(overall, q)[:, 0], rtol=1e-13, atol=1e-17
        )
    assert (one.n[:, [0, 2]] == 0).all()
    assert np.isnan(one.estimate[:, [0, 2]]).all() and np.isnan(one.se[:, [0, 2]]).all()
    assert np.isnan(one.df[:, [0, 2]]).all()


@pytest.mark.parametrize(
    "design", ["strat", "clus1", "strat_paired", "strat_boot", "strat_paired_fay"]
)
def test_scaling_weights_leaves_estimate_and_se(design: str) -> None:
    case = _by_case(design)
    frame = case.frame()
    scaled = frame.copy()
    factor = 7.25
    cols = ["pw"] + [c for c in frame.columns if c.startswith("repw_")]
    scaled[cols] = scaled[cols] * factor
    y = indicator_matrix(frame)
    dom = stype_codes(frame)
    a = domain_proportions(SurveyDesign.from_frame(frame, case.spec), y, dom, 3)
    b = domain_proportions(SurveyDesign.from_frame(scaled, case.spec), y, dom, 3)
    np.testing.assert_allclose(b.estimate, a.estimate, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(b.se, a.se, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(b.deff_replace, a.deff_replace, rtol=1e-10)
    np.testing.assert_array_equal(b.df, a.df)


@pytest.mark.parametrize("design", ["clus2", "strat_boot", "strat_paired_brr"])
def test_row_order_does_not_matter(design: str) -> None:
    case = _by_case(design)
    frame = case.frame()
    perm = np.random.default_rng(3).permutation(len(frame))
    shuffled = frame.iloc[perm].reset_index(drop=True)
    a = domain_proportions(
        SurveyDesign.from_frame(frame, case.spec), indicator_matrix(frame), stype_codes(frame), 3
    )
    b = domain_proportions(
        SurveyDesign.from_frame(shuffled, case.spec),
        indicator_matrix(shuffled),
        stype_codes(shuffled),
        3,
    )
    for q in QUANTITIES:
        np.testing.assert_allclose(getattr(b, q), getattr(a, q), rtol=1e-11, atol=1e-15)


@pytest.mark.parametrize("design", ["clus1", "clus2", "clus1_jk1"])
def test_rows_in_no_domain_equal_missing_responses(design: str) -> None:
    """domain = -1 and y = NaN both keep a row out of the cell (zero scores)."""
    case = _by_case(design)
    frame = case.frame()
    des = SurveyDesign.from_frame(frame, case.spec)
    y = indicator_matrix(frame)
    dom = stype_codes(frame)
    out = np.arange(len(frame)) % 4 == 0
    a = domain_proportions(des, y, np.where(out, -1, dom), 3)
    y_nan = y.copy()
    y_nan[out] = np.nan
    b = domain_proportions(des, y_nan, dom, 3)
    for q in QUANTITIES:
        np.testing.assert_array_equal(getattr(a, q), getattr(b, q))


def test_indicators_are_independent_of_each_other() -> None:
    """Computing indicators together or one at a time gives the same numbers."""
    case = _by_case("clus1")
    frame = case.frame()
    des = SurveyDesign.from_frame(frame, case.spec)
    y = indicator_matrix(frame)
    dom = stype_codes(frame)
    together = domain_proportions(des, y, dom, 3)
    for j in range(y.shape[1]):
        alone = domain_proportions(des, y[:, j], dom, 3)
        for q in QUANTITIES:
            np.testing.assert_array_equal(getattr(alone, q)[0], getattr(together, q)[j])


# --------------------------------------------------------------------------------------
# a direct loop over strata and PSUs on random designs
# --------------------------------------------------------------------------------------
def _loop_taylor(w, strata, psu, ssu, pop1, pop2, y, cell, policy):
    """Variance of a domain proportion, stratum by stratum and PSU by PSU."""
    total = w[cell].sum()
    p = (w[cell] * y[cell]).sum() / total
    z = np.where(cell, w * (np.nan_to_num(y) - p) / total, 0.0)

    def one_stratum(totals, n_units, pop):
        f = 1.0 if pop is None else (pop - n_units) / pop
        if f < 1e-7:
            return 0.0, True
        if n_units > 1:
            return f * n_units / (n_units - 1) * ((totals - totals.mean()) ** 2).sum(), True
        if policy == "adjust":
            return f * totals[0] ** 2, True
        if policy == "average":
            return 0.0, False
        return 0.0, True  # remove, certainty

    var, n_strata, n_ok = 0.0, 0, 0
    for h in np.unique(strata[cell]):
        in_h = strata == h
        units = np.unique(psu[in_h])
        totals = np.array([z[in_h & (psu == c)].sum() for c in units])
        pop = None if pop1 is None else pop1[in_h][0]
        v, ok = one_stratum(totals, len(units), pop)
        var += v
        n_strata += 1
        n_ok += ok
    if policy == "average":
        var = var * n_strata / n_ok if n_ok else math.nan
    if ssu is not None:
        for c in np.unique(psu[cell]):
            in_c = psu == c
            units = np.unique(ssu[in_c])
            totals = np.array([z[in_c & (ssu == s)].sum() for s in units])
            v, ok = one_stratum(totals, len(units), pop2[in_c][0])
            h = strata[in_c][0]
            n1 = len(np.unique(psu[strata == h]))
            var += (v if ok else math.nan) * n1 / pop1[in_c][0]
    df = len(np.unique(psu[cell])) - len(np.unique(strata[cell]))
    return p, var, df


def _random_frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(5):
        n_psu = 1 if h == 0 else int(rng.integers(2, 5))
        pop1 = n_psu if h == 1 else n_psu + int(rng.integers(1, 20))  # stratum 1: certainty
        for c in range(n_psu):
            n_ssu = int(rng.integers(1, 4))
            pop2 = n_ssu if rng.random() < 0.2 else n_ssu + int(rng.integers(0, 6))
            for s in range(n_ssu):
                for _ in range(int(rng.integers(1, 4))):
                    rows.append((f"h{h}", f"h{h}c{c}", s, pop1, pop2))
    frame = pd.DataFrame(rows, columns=["stratum", "psu", "ssu", "pop1", "pop2"])
    n = len(frame)
    frame["w"] = rng.uniform(0.5, 20.0, n)
    y = (rng.random((n, 3)) < 0.4).astype(float)
    y[rng.random((n, 3)) < 0.15] = np.nan
    for j in range(3):
        frame[f"y{j}"] = y[:, j]
    frame["dom"] = rng.integers(-1, 3, n)
    return frame


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("policy", ["remove", "certainty", "adjust", "average"])
@pytest.mark.parametrize("stages", [1, 2])
def test_against_direct_loop(seed: int, policy: str, stages: int) -> None:
    frame = _random_frame(seed)
    spec = {"weight": "w", "strata": "stratum", "lonely_psu": policy}
    if stages == 1:
        spec.update(psu="psu", fpc="pop1")
    else:
        spec.update(psu=["psu", "ssu"], fpc=["pop1", "pop2"])
    des = SurveyDesign.from_frame(frame, spec)
    y = frame[["y0", "y1", "y2"]].to_numpy(float)
    dom = frame["dom"].to_numpy(np.intp)
    res = domain_proportions(des, y, dom, 3)
    strata = frame["stratum"].to_numpy()
    psu = frame["psu"].to_numpy()
    ssu = (frame["psu"] + "/" + frame["ssu"].astype(str)).to_numpy() if stages == 2 else None
    w = frame["w"].to_numpy()
    for j in range(3):
        for d in range(3):
            cell = (dom == d) & ~np.isnan(y[:, j])
            if not cell.any():
                assert res.n[j, d] == 0 and np.isnan(res.estimate[j, d])
                continue
            p, v, df = _loop_taylor(
                w,
                strata,
                psu,
                ssu,
                frame["pop1"].to_numpy(float),
                frame["pop2"].to_numpy(float),
                y[:, j],
                cell,
                policy,
            )
            assert res.n[j, d] == cell.sum()
            assert res.estimate[j, d] == pytest.approx(p, rel=1e-13, abs=1e-15)
            if math.isnan(v):
                assert np.isnan(res.se[j, d])
            else:
                assert res.se[j, d] == pytest.approx(math.sqrt(v), rel=1e-10, abs=1e-15)
            assert res.df[j, d] == df


def test_average_policy_without_usable_stratum_is_nan() -> None:
    """R: a domain made only of lonely strata gets NaN under "average"."""
    case = _by_case("strat_lonely", "average")
    frame = case.frame()
    des = SurveyDesign.from_frame(frame, case.spec)
    res = domain_proportions(des, indicator_matrix(frame), stype_codes(frame), 3)
    h = STYPES.index("H")
    assert np.isnan(res.se[:, h]).all()
    assert (res.df[:, h] == 0).all()
    assert np.isfinite(res.se[:, [0, 2]]).all()


def test_fail_policy_raises_at_estimation_for_a_direct_design() -> None:
    """A design built without from_frame still refuses a lonely PSU under "fail"."""
    n = 5
    des = SurveyDesign(
        weights=np.ones(n),
        psu=np.array([0, 1, 1, 2, 2]),
        psu_stratum=np.array([0, 0, 1]),
        stratum_popsize=np.array([np.inf, np.inf]),
        stratum_labels=("north", "south"),
    )
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    res = domain_proportions(des, y, np.array([0, 0, 0, -1, -1]), 1)  # south not reached
    assert np.isfinite(res.se).all()
    with pytest.raises(DesignError, match="south"):
        domain_proportions(des, y, np.zeros(n, dtype=np.intp), 1)


def test_degenerate_cells_have_zero_se() -> None:
    for design in ("clus2", "strat_boot", "strat_paired_fay"):
        case = _by_case(design)
        frame = case.frame()
        des = SurveyDesign.from_frame(frame, case.spec)
        y = np.ones((len(frame), 2))
        y[:, 1] = 0.0
        y[::3, 0] = np.nan
        res = domain_proportions(des, y, stype_codes(frame), 3)
        np.testing.assert_array_equal(res.estimate, [[1.0] * 3, [0.0] * 3])
        np.testing.assert_array_equal(res.se, 0.0)
        assert np.isnan(res.deff).all() and np.isnan(res.deff_replace).all()


def test_design_effects_follow_r_rules() -> None:
    """W == n gives deff inf (R), W < n gives NaN (R: NA), and n == 1 gives NaN."""
    frame = pd.DataFrame({"w": [1.0, 1.0, 1.0, 1.0], "y": [1.0, 0.0, 1.0, 1.0]})
    y = frame[["y"]].to_numpy()
    ones = domain_proportions(SurveyDesign.srs(4), y, np.zeros(4, dtype=np.intp), 1)
    assert np.isinf(ones.deff[0, 0]) and ones.deff_replace[0, 0] == pytest.approx(1.0)
    half = domain_proportions(SurveyDesign.srs(4, np.full(4, 0.5)), y, np.zeros(4, np.intp), 1)
    assert np.isnan(half.deff[0, 0]) and np.isfinite(half.deff_replace[0, 0])
    single = domain_proportions(SurveyDesign.srs(4), y, np.array([0, 1, 1, 1]), 2)
    assert single.n[0, 0] == 1 and np.isnan(single.deff[0, 0])


def test_input_validation() -> None:
    des = SurveyDesign.srs(4)
    dom = np.zeros(4, dtype=np.intp)
    with pytest.raises(ValueError, match="0, 1 and NaN"):
        domain_proportions(des, np.array([0.0, 1.0, 2.0, 1.0]), dom, 1)
    with pytest.raises(ValueError, match="shape"):
        domain_proportions(des, np.ones((3, 1)), dom, 1)
    with pytest.raises(ValueError, match=r"\[-1, 1\)"):
        domain_proportions(des, np.ones(4), np.array([0, 1, 0, 0]), 1)
    with pytest.raises(ValueError, match="integer"):
        domain_proportions(des, np.ones(4), np.zeros(4), 1)


# --------------------------------------------------------------------------------------
# replicate ranks (R: qr(weights, tol = 1e-5)$rank)
# --------------------------------------------------------------------------------------
def _clustered_replicates(rng, n_psu: int, rows_per: int, n_rep: int, rank_limit: int | None):
    factors = rng.poisson(1.0, (n_psu, n_rep)).astype(float)
    if rank_limit is not None:  # replicate factors spanning few directions
        factors = rng.random((n_psu, rank_limit)) @ rng.random((rank_limit, n_rep))
    psu = np.repeat(np.arange(n_psu), rows_per)
    w = rng.uniform(1, 9, psu.size)
    return w[:, None] * factors[psu], psu


@pytest.mark.parametrize("rank_limit", [None, 7])
@pytest.mark.parametrize("sketch_above", [None, 5])
def test_pattern_ranks_match_svd_rank(rank_limit, sketch_above) -> None:
    rng = np.random.default_rng(5)
    mat, psu = _clustered_replicates(rng, 60, 4, 20, rank_limit)
    reps = ReplicateWeights.build(mat, rep_type="bootstrap")
    assert reps.pattern_rows is not None and reps.pattern_rows.shape[0] == 60
    cells = [psu < 3, psu < 30, (psu % 2 == 0), np.ones(psu.size, bool), psu == 7]
    c = np.stack(
        [np.bincount(reps.pattern[m], weights=reps.pattern_mass[m], minlength=60) for m in cells],
        axis=1,
    )
    got = pattern_ranks(reps.rank_rows, c, sketch_above=sketch_above)
    want = [np.linalg.matrix_rank(mat[m]) for m in cells]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("rank_limit", [None, 7])
def test_pattern_ranks_with_groups_match_svd_rank(rank_limit) -> None:
    """Columns proven full rank through their group's shared rows keep the SVD rank."""
    rng = np.random.default_rng(8)
    mat, psu = _clustered_replicates(rng, 60, 4, 20, rank_limit)
    reps = ReplicateWeights.build(mat, rep_type="bootstrap")
    kept = rng.random(psu.size) > 0.1  # like the rows where an indicator is not missing
    cells = [
        psu < 40,
        (psu < 40) & kept,  # same group: shares most rows with the previous cell
        (psu < 40) & ~kept,
        psu < 3,
        (psu < 3) & kept,  # a group whose shared rows cannot give full rank
        psu % 2 == 0,
    ]
    groups = np.array([0, 0, 1, 2, 2, 3])
    c = np.stack(
        [np.bincount(reps.pattern[m], weights=reps.pattern_mass[m], minlength=60) for m in cells],
        axis=1,
    )
    got = pattern_ranks(reps.rank_rows, c, groups=groups)
    want = [np.linalg.matrix_rank(mat[m]) for m in cells]
    np.testing.assert_array_equal(got, want)
    proven = _full_rank_by_core(reps.rank_rows, c, groups)
    expected = [rank_limit is None] * 2 + [False] * 4
    np.testing.assert_array_equal(proven, expected)


def test_replicate_rows_are_grouped_only_when_proportional() -> None:
    rng = np.random.default_rng(2)
    base = rng.random((3, 6))
    mat = np.repeat(base, 4, axis=0) * rng.uniform(1, 3, 12)[:, None]
    mat[5] *= 1 + 1e-6 * rng.standard_normal(6)  # a different direction, however close
    mat[11] = 0.0  # a row without replicate weight
    reps = ReplicateWeights.build(mat, rep_type="JK1")
    assert reps.pattern[11] == -1
    groups = reps.pattern[:11]
    assert len(set(groups)) == 4
    assert groups[5] not in set(np.delete(groups, 5))
    # R's qr(tol = 1e-5) ignores a direction that is only 1e-6 of the row's norm
    assert reps.rank() == 3 == np.linalg.matrix_rank(mat, tol=1e-5 * np.abs(mat).max())
    mat[5] = rng.random(6)  # a clearly different row
    assert ReplicateWeights.build(mat, rep_type="JK1").rank() == 4 == np.linalg.matrix_rank(mat)


def test_replicate_df_with_uncompressible_rows() -> None:
    """Rows with unrelated replicate weights (no PSU structure) use the rows directly."""
    rng = np.random.default_rng(4)
    n, n_rep = 400, 12
    mat = rng.uniform(0, 2, (n, n_rep))
    mat[:, 5] = mat[:, 3] + mat[:, 4]  # rank 11
    reps = ReplicateWeights.build(mat, rep_type="bootstrap")
    assert reps.pattern_rows is None
    des = SurveyDesign(
        weights=np.ones(n),
        psu=np.arange(n),
        psu_stratum=np.zeros(n, np.intp),
        stratum_popsize=np.array([np.inf]),
        replicates=reps,
    )
    y = (rng.random((n, 2)) < 0.5).astype(float)
    dom = np.where(np.arange(n) < 5, 0, 1)
    res = domain_proportions(des, y, dom, 2)
    assert (res.df[:, 0] == 4).all()  # 5 rows
    assert (res.df[:, 1] == 10).all()


def test_no_indicators_gives_empty_arrays() -> None:
    res = domain_proportions(SurveyDesign.srs(3), np.empty((3, 0)), np.zeros(3, np.intp), 2)
    assert res.estimate.shape == (0, 2) and res.n.dtype == np.int64


# --------------------------------------------------------------------------------------
# one pass for several domain variables; compiled pass and threads for large data
# --------------------------------------------------------------------------------------
def _inputs(design: str) -> tuple[pd.DataFrame, SurveyDesign, np.ndarray]:
    """A case's data, its design and its indicator matrix."""
    case = _by_case(design)
    frame = case.frame()
    return frame, SurveyDesign.from_frame(frame, case.spec), indicator_matrix(frame)


def _many_domains(frame: pd.DataFrame, rng: np.random.Generator) -> list[tuple[np.ndarray, int]]:
    n = len(frame)
    return [
        (np.zeros(n, dtype=np.intp), 1),
        (stype_codes(frame), len(STYPES)),
        (rng.integers(-1, 4, n).astype(np.int8), 4),  # int8 codes, as pandas categoricals
        (rng.integers(0, 2, n), 2),
    ]


@pytest.mark.parametrize("design", ["srs", "strat", "clus1", "clus2", "clus1_jk1", "strat_boot"])
def test_several_domain_variables_in_one_call_equal_separate_calls(design: str) -> None:
    frame, des, y = _inputs(design)
    doms = _many_domains(frame, np.random.default_rng(3))
    together = domain_proportions_by(des, y, doms)
    for (codes, m), res in zip(doms, together, strict=True):
        alone = domain_proportions(des, y, codes, m)
        for q in QUANTITIES:
            np.testing.assert_allclose(
                getattr(res, q), getattr(alone, q), rtol=1e-12, atol=1e-15, err_msg=q
            )


def test_crossings_too_many_to_number_are_numbered_as_they_occur() -> None:
    """Three domain variables of 60 values: 61^3 combinations, only those present are kept."""
    frame, des, y = _inputs("clus2")
    rng = np.random.default_rng(5)
    doms = [(rng.integers(-1, 60, len(frame)), 60) for _ in range(3)]
    for (codes, m), res in zip(doms, domain_proportions_by(des, y, doms), strict=True):
        alone = domain_proportions(des, y, codes, m)
        for q in QUANTITIES:
            np.testing.assert_allclose(getattr(res, q), getattr(alone, q), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("design", ["strat", "clus1", "clus2", "clus1_jk1"])
def test_compiled_pass_and_threads_give_the_same_bits(design: str, monkeypatch) -> None:
    """Large data take the compiled pass over the rows, in threads: same numbers to the bit."""
    frame, des, y = _inputs(design)
    doms = _many_domains(frame, np.random.default_rng(7))
    small = domain_proportions_by(des, y, doms, threads=1)
    monkeypatch.setattr(design_module, "COMPILED_MIN_ROWS", 0)
    monkeypatch.setattr(variance, "_THREAD_MIN_ROWS", 0)
    assert design_module.compiled("response_sums", 1) is not None
    for threads in (1, 2, 3):
        large = domain_proportions_by(des, y, doms, threads=threads)
        for a, b in zip(small, large, strict=True):
            for q in QUANTITIES:
                np.testing.assert_array_equal(getattr(a, q), getattr(b, q), err_msg=q)


@pytest.mark.parametrize("kernel_min_rows", [0, 10**9])
@pytest.mark.parametrize("bad", [2.0, 0.5, -1.0, -3.0, np.inf, 1e300])
def test_values_other_than_0_1_nan_are_refused_on_both_passes(
    bad: float, kernel_min_rows: int, monkeypatch
) -> None:
    monkeypatch.setattr(design_module, "COMPILED_MIN_ROWS", kernel_min_rows)
    des = SurveyDesign.srs(6)
    y = np.array([[0.0, 1.0], [1.0, 1.0], [np.nan, 0.0], [0.0, bad], [1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="indicator 1 holds values other than 0, 1 and NaN"):
        domain_proportions_by(des, y, [(np.zeros(6, dtype=np.intp), 1)])


@pytest.mark.parametrize("design", ["strat", "clus2", "clus1_jk1"])
def test_none_is_the_whole_sample(design: str) -> None:
    frame, des, y = _inputs(design)
    zeros = domain_proportions(des, y, np.zeros(len(frame), dtype=np.intp), 1)
    for res in (
        domain_proportions(des, y, None, 1),
        domain_proportions_by(des, y, [(None, 1), (stype_codes(frame), len(STYPES))])[0],
    ):
        for q in QUANTITIES:
            np.testing.assert_allclose(getattr(res, q), getattr(zeros, q), rtol=1e-13, atol=0)
    with pytest.raises(ValueError, match="m = 1"):
        domain_proportions(des, y, None, 2)
