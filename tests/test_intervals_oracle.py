"""Intervals against the references: R survey 4.1-1 ``svyciprop`` and statsmodels.

R rows come from ``tests/fixtures/oracle/reference.csv`` (see ORACLE_README.md,
sections "Intervals", "Degenerate rows" and "Tolerances for tests"); classical
intervals on raw counts come from statsmodels ``proportion_confint`` (called
here, and stored in ``reference_unweighted_statsmodels.csv``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from prevalence.stats.intervals import METHODS, confint

ORACLE = Path(__file__).parent / "fixtures" / "oracle"
LEVELS_R = (0.95, 0.90)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    ref = pd.read_csv(ORACLE / "reference.csv", keep_default_na=True)
    ref["note"] = ref["note"].fillna("")
    ref["domain_value"] = ref["domain_value"].astype(str)
    return ref


@pytest.fixture(scope="module")
def unweighted() -> pd.DataFrame:
    return pd.read_csv(ORACLE / "reference_unweighted_statsmodels.csv")


def _regular_rows(ref: pd.DataFrame, r_method: str, level: float) -> pd.DataFrame:
    """Rows with a usable R interval: not degenerate, no R error, not NA."""
    rows = ref[
        (ref.ci_method == r_method)
        & (ref.level == level)
        & (ref.note == "")
        & ref.ci_low.notna()
        & ref.ci_high.notna()
    ]
    assert len(rows) > 300
    return rows


def assert_close(actual, expected, rows: pd.DataFrame, what: str, *, rtol: float, atol: float):
    """Assert |actual - expected| <= atol + rtol |expected|, showing the worst row."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    assert not np.isnan(actual).any(), f"{what}: NaN where R has a value"
    excess = np.abs(actual - expected) - (atol + rtol * np.abs(expected))
    worst = int(np.argmax(excess))
    if excess[worst] > 0:
        row = rows.iloc[worst]
        raise AssertionError(
            f"{what}: {int((excess > 0).sum())} of {len(excess)} rows outside tolerance; worst "
            f"{row.design}/{row.domain_value}/{row.indicator}/{row.na_handling}/level {row.level}: "
            f"ours {actual[worst]!r}, R {expected[worst]!r}, "
            f"|diff| {abs(actual[worst] - expected[worst]):.3g} "
            f"(estimate {row.estimate!r}, se {row.se!r}, n {row.nrow_design}, df {row.df})"
        )


def _call(method: str, rows: pd.DataFrame, level: float):
    return confint(
        method,
        rows.estimate.to_numpy(),
        rows.se.to_numpy(),
        rows.nrow_design.to_numpy(),
        rows.df.to_numpy(dtype=float),
        level,
    )


# --------------------------------------------------------------------------------------
# R survey 4.1-1
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("level", LEVELS_R)
@pytest.mark.parametrize(
    ("r_method", "method"),
    [("xlogit", "xlogit"), ("asin", "asin"), ("beta", "korn-graubard")],
)
def test_exact_methods_equal_r(reference, r_method, method, level):
    rows = _regular_rows(reference, r_method, level)
    got = _call(method, rows, level)
    assert_close(got.low, rows.ci_low, rows, f"{method} low", rtol=1e-8, atol=0)
    assert_close(got.high, rows.ci_high, rows, f"{method} high", rtol=1e-8, atol=0)
    if method == "korn-graubard":
        assert_close(got.n_eff, rows.n_eff, rows, "korn-graubard n_eff", rtol=1e-8, atol=0)
        assert (got.flag == "").all()


@pytest.mark.parametrize("level", LEVELS_R)
def test_asin_keeps_r_fold_and_flags_it(reference, level):
    rows = _regular_rows(reference, "asin", level)
    got = _call("asin", rows, level)
    arg_low = np.arcsin(np.sqrt(rows.estimate)) - _t(rows.df, level) * rows.se / (
        2 * np.sqrt(rows.estimate * (1 - rows.estimate))
    )
    folded = arg_low.to_numpy() < 0
    assert folded.sum() > 0, "the oracle has folded asin rows (README: 17 cells)"
    assert (got.flag[folded] == "asin lower bound folded at 0").all()
    assert (got.flag[~folded] == "").all()


@pytest.mark.parametrize("level", LEVELS_R)
def test_wald_equals_r_mean_inside_unit_interval_and_clips_outside(reference, level):
    rows = _regular_rows(reference, "mean", level)
    got = _call("wald", rows, level)
    inside = ((rows.ci_low >= 0) & (rows.ci_high <= 1)).to_numpy()
    assert (~inside).sum() > 0, "the oracle has mean rows outside [0, 1]"
    assert_close(got.low[inside], rows.ci_low[inside], rows[inside], "wald low", rtol=1e-8, atol=0)
    assert_close(
        got.high[inside], rows.ci_high[inside], rows[inside], "wald high", rtol=1e-8, atol=0
    )
    assert (got.flag[inside] == "").all()
    out = rows[~inside]
    np.testing.assert_allclose(got.low[~inside], np.clip(out.ci_low, 0, 1), rtol=1e-8, atol=0)
    np.testing.assert_allclose(got.high[~inside], np.clip(out.ci_high, 0, 1), rtol=1e-8, atol=0)
    assert (got.flag[~inside] == "clipped to [0, 1]").all()
    assert np.isnan(got.n_eff).all()


@pytest.mark.parametrize("level", LEVELS_R)
def test_logit_equals_r_on_taylor_designs(reference, level):
    rows = _regular_rows(reference, "logit", level)
    rows = rows[rows.replicate_type == "none"]
    got = _call("logit", rows, level)
    # R's glm convergence noise: README "Tolerances for tests"
    assert_close(got.low, rows.ci_low, rows, "logit low", rtol=1e-8, atol=1e-8)
    assert_close(got.high, rows.ci_high, rows, "logit high", rtol=1e-8, atol=1e-8)


def test_logit_is_xlogit_everywhere(reference):
    rows = _regular_rows(reference, "logit", 0.95)
    logit, xlogit = _call("logit", rows, 0.95), _call("xlogit", rows, 0.95)
    np.testing.assert_array_equal(logit.low, xlogit.low)
    np.testing.assert_array_equal(logit.high, xlogit.high)


@pytest.mark.parametrize("level", LEVELS_R)
def test_likelihood_is_close_to_r(reference, level):
    rows = _regular_rows(reference, "likelihood", level)
    assert (rows.replicate_type == "none").all()  # R gives NA on replicate designs
    got = _call("likelihood", rows, level)
    # R interpolates a coarse profile; the exact root differs by up to ~9e-4
    assert_close(got.low, rows.ci_low, rows, "likelihood low", rtol=0, atol=1e-3)
    assert_close(got.high, rows.ci_high, rows, "likelihood high", rtol=0, atol=1e-3)


@pytest.mark.parametrize("level", LEVELS_R)
def test_nchs_caps_r_n_eff_at_n(reference, level):
    rows = _regular_rows(reference, "beta", level)
    kg = _call("korn-graubard", rows, level)
    nchs = _call("korn-graubard-nchs", rows, level)
    n = rows.nrow_design.to_numpy(dtype=float)
    capped = rows.n_eff.to_numpy() > n
    assert capped.any() and (~capped).any()
    np.testing.assert_allclose(nchs.n_eff, np.minimum(rows.n_eff, n), rtol=1e-12)
    np.testing.assert_array_equal(nchs.low[~capped], kg.low[~capped])
    np.testing.assert_array_equal(nchs.high[~capped], kg.high[~capped])
    assert (nchs.flag[capped] == "n_eff capped at n").all()
    assert (nchs.flag[~capped] == "").all()
    # a smaller n_eff gives a wider interval
    assert (nchs.low[capped] <= kg.low[capped]).all()
    assert (nchs.high[capped] >= kg.high[capped]).all()


def _degenerate_cells(ref: pd.DataFrame) -> pd.DataFrame:
    rows = ref[ref.note.str.startswith("degenerate") & (ref.ci_method == "mean")]
    assert len(rows) > 50
    # lonely_psu = "average" leaves a domain made only of a lonely stratum without a variance
    assert (rows.se.isna() == (rows.lonely_psu == "average") & (rows.df == 0)).all()
    return rows[rows.se.notna()]


@pytest.mark.parametrize("method", METHODS)
def test_r_degenerate_rows_use_documented_rule(reference, method):
    rows = _degenerate_cells(reference)
    level = 0.95
    got = _call(method, rows, level)
    p = rows.estimate.to_numpy()
    n = rows.nrow_design.to_numpy(dtype=float)
    df_zero = rows.df.to_numpy() == 0
    assert df_zero.any()  # strat_lonely domain H: one PSU
    assert np.isnan(got.low[df_zero]).all() and np.isnan(got.high[df_zero]).all()
    assert (got.flag[df_zero] == "df = 0: interval undefined").all()

    ok = ~df_zero
    low, high, pp, nn = got.low[ok], got.high[ok], p[ok], n[ok]
    assert np.isfinite(low).all() and np.isfinite(high).all()
    assert ((low <= pp) & (pp <= high) & (low >= 0) & (high <= 1)).all()
    which = np.where(pp == 0, "estimate 0", "estimate 1")
    if method == "wald":
        assert (low == high).all()
        assert list(got.flag[ok]) == [f"zero-width: wald at {w}" for w in which]
        return
    assert (high - low > 0.01).all()
    np.testing.assert_array_equal(got.n_eff[ok], nn)
    if method in ("clopper-pearson", "korn-graubard", "korn-graubard-nchs", "logit", "xlogit"):
        one_sided = 1 - (0.025 ** (1 / nn))
        np.testing.assert_allclose(np.where(pp == 0, high, 1 - low), one_sided, rtol=1e-12)
        np.testing.assert_array_equal(np.where(pp == 0, low, 1 - high), 0)
    names = [f"{w}: {method}" for w in which]
    assert all(f.startswith(s) for f, s in zip(got.flag[ok], names, strict=True))


def test_r_lonely_psu_failures_give_missing_not_a_crash(reference):
    rows = reference[
        reference.note.str.startswith("svymean error") & (reference.ci_method == "mean")
    ]
    assert len(rows) > 0 and rows.estimate.isna().all()
    for method in METHODS:
        got = _call(method, rows, 0.95)
        assert np.isnan(got.low).all() and np.isnan(got.high).all()
        assert (got.flag == "missing estimate, se, n or df").all()


# --------------------------------------------------------------------------------------
# statsmodels, classical case (se = sqrt(p(1-p)/n), df = inf)
# --------------------------------------------------------------------------------------
STATSMODELS = {
    "wald": "normal",
    "wilson": "wilson",
    "clopper-pearson": "beta",
    "jeffreys": "jeffreys",
    "agresti-coull": "agresti_coull",
}


def _all_counts(n_max: int = 60):
    n = np.concatenate([np.full(k + 1, k) for k in range(1, n_max + 1)])
    x = np.concatenate([np.arange(k + 1) for k in range(1, n_max + 1)])
    return x, n


def _classical(method, x, n, level):
    p = x / n
    return confint(method, p, np.sqrt(p * (1 - p) / n), n, np.inf, level)


def _statsmodels(method, x, n, level):
    low, high = proportion_confint(x, n, alpha=1 - level, method=STATSMODELS[method])
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    if method == "jeffreys":  # boundary rule of Brown, Cai & DasGupta (2001)
        low = np.where(x == 0, 0.0, low)
        high = np.where(x == n, 1.0, high)
    return low, high


@pytest.mark.parametrize("level", (0.90, 0.95, 0.99))
@pytest.mark.parametrize("method", sorted(STATSMODELS))
def test_classical_equals_statsmodels_all_counts(method, level):
    x, n = _all_counts()
    got = _classical(method, x, n, level)
    low, high = _statsmodels(method, x, n, level)
    for name, ours, ref in (("low", got.low, low), ("high", got.high, high)):
        diff = np.abs(ours - ref)
        worst = int(np.argmax(diff))
        assert diff[worst] <= 1e-12, (
            f"{method} {name} at x={x[worst]}, n={n[worst]}, level {level}: "
            f"ours {ours[worst]!r}, statsmodels {ref[worst]!r}"
        )


def test_jeffreys_differs_from_statsmodels_only_by_the_boundary_rule():
    x, n = _all_counts(30)
    got = _classical("jeffreys", x, n, 0.95)
    sm_low, sm_high = proportion_confint(x, n, alpha=0.05, method="jeffreys")
    at_zero, at_n = x == 0, x == n
    assert (sm_low[at_zero] > 0).all()  # statsmodels: interval excludes the estimate 0
    assert (got.low[at_zero] == 0).all() and (got.high[at_n] == 1).all()
    np.testing.assert_allclose(got.high[at_zero], sm_high[at_zero], rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.low[at_n], sm_low[at_n], rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", sorted(STATSMODELS))
def test_classical_equals_oracle_unweighted_file(unweighted, method):
    rows = unweighted[unweighted.ci_method == STATSMODELS[method]]
    assert len(rows) > 100
    x = rows.cases.to_numpy(dtype=float)
    n = rows.n.to_numpy(dtype=float)
    for level in sorted(rows.level.unique()):
        sel = (rows.level == level).to_numpy()
        got = _classical(method, x[sel], n[sel], level)
        low, high = rows.ci_low.to_numpy()[sel], rows.ci_high.to_numpy()[sel]
        if method == "jeffreys":
            low = np.where(x[sel] == 0, 0.0, low)
            high = np.where(x[sel] == n[sel], 1.0, high)
        np.testing.assert_allclose(got.low, low, rtol=0, atol=1e-12, err_msg=f"{method} low")
        np.testing.assert_allclose(got.high, high, rtol=0, atol=1e-12, err_msg=f"{method} high")


@pytest.mark.parametrize("method", ["wilson", "clopper-pearson", "jeffreys", "agresti-coull"])
def test_design_based_equals_statsmodels_on_effective_counts(method):
    """With df = inf, the design-based interval is statsmodels' on (x*, n*) = (p n*, n*)."""
    rng = np.random.default_rng(20240229)
    p = rng.uniform(0.01, 0.99, 400)
    n_star = rng.uniform(3, 3000, 400)
    se = np.sqrt(p * (1 - p) / n_star)
    got = confint(method, p, se, n_star * 2, np.inf, 0.95)
    low, high = proportion_confint(p * n_star, n_star, alpha=0.05, method=STATSMODELS[method])
    np.testing.assert_allclose(got.low, low, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.high, high, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.n_eff, n_star, rtol=1e-12)


def _t(df, level):
    return stats.t.ppf(1 - (1 - level) / 2, np.asarray(df, dtype=float))
