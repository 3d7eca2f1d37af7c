"""prevalence.stats.intervals: API, validation, edge cases and flags."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from prevalence.errors import ConfigError
from prevalence.stats.intervals import METHODS, Intervals, check_method, confint

EFFECTIVE_N_METHODS = (
    "wilson",
    "clopper-pearson",
    "jeffreys",
    "agresti-coull",
    "korn-graubard",
    "korn-graubard-nchs",
)
FALLBACK_METHODS = ("logit", "xlogit", "asin", "likelihood")


# --------------------------------------------------------------------------------------
# method names and level
# --------------------------------------------------------------------------------------
def test_methods_are_the_published_names():
    assert METHODS == (
        "wald",
        "wilson",
        "clopper-pearson",
        "jeffreys",
        "agresti-coull",
        "logit",
        "xlogit",
        "asin",
        "likelihood",
        "korn-graubard",
        "korn-graubard-nchs",
    )


@pytest.mark.parametrize("method", METHODS)
def test_check_method_accepts_every_method(method):
    assert check_method(method) == method


@pytest.mark.parametrize(
    "bad", ["jeff", "Wilson ", "beta", "mean", "WALD", "wilson\n", "", "korn", None, 3]
)
def test_check_method_rejects_near_misses_and_lists_valid_names(bad):
    with pytest.raises(ConfigError) as info:
        check_method(bad)
    message = str(info.value)
    assert repr(bad) in message
    for name in METHODS:
        assert name in message


def test_confint_rejects_unknown_method():
    with pytest.raises(ConfigError, match="clopper-pearson"):
        confint("exact", 0.5, 0.1, 10, np.inf)


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.05, 95, float("nan"), "0.95", True, None])
def test_level_outside_unit_interval_is_a_config_error(level):
    with pytest.raises(ConfigError, match="level"):
        confint("wilson", 0.5, 0.1, 10, np.inf, level)


# --------------------------------------------------------------------------------------
# invalid inputs
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"estimate": -0.01}, "estimate"),
        ({"estimate": 1.0001}, "estimate"),
        ({"se": -1e-9}, "se"),
        ({"se": np.inf}, "se"),
        ({"n": -1}, "n"),
        ({"n": np.inf}, "n"),
        ({"df": -1}, "df"),
    ],
)
def test_invalid_inputs_raise_value_error(kwargs, match):
    args = {"estimate": 0.3, "se": 0.05, "n": 50, "df": 20} | kwargs
    with pytest.raises(ValueError, match=match):
        confint("wilson", **args)


def test_value_error_names_the_count_and_first_bad_value():
    with pytest.raises(
        ValueError, match=r"2 value\(s\) invalid, first np.float64\(1.5\)|first 1.5"
    ):
        confint("wald", [0.2, 1.5, 0.3, 2.0], 0.1, 10, 5)


# --------------------------------------------------------------------------------------
# shapes and types
# --------------------------------------------------------------------------------------
def test_result_type_and_broadcasting():
    got = confint("xlogit", [[0.1], [0.5]], [0.01, 0.02, 0.03], 100, [10, 20, np.inf])
    assert isinstance(got, Intervals)
    for arr in (got.low, got.high, got.n_eff, got.flag):
        assert arr.shape == (2, 3)
    assert got.flag.dtype == object
    assert got.low.dtype == np.float64
    with pytest.raises(AttributeError):
        got.low = got.high  # frozen


def test_scalar_inputs_give_zero_dimensional_arrays():
    got = confint("wilson", 0.3, 0.05, 80, 30)
    assert got.low.shape == () and got.flag.shape == ()
    assert 0 < float(got.low) < 0.3 < float(got.high) < 1
    assert got.flag[()] == ""


def test_inputs_are_not_modified():
    p = np.array([0.0, 0.3, 1.0])
    se = np.array([0.0, 0.05, 0.0])
    confint("korn-graubard-nchs", p, se, 20, 10)
    np.testing.assert_array_equal(p, [0.0, 0.3, 1.0])
    np.testing.assert_array_equal(se, [0.0, 0.05, 0.0])


def test_flags_are_python_strings():
    got = confint("clopper-pearson", [0.0, 0.5], [0.0, 0.1], [20, 20], [5, 5])
    assert all(type(f) is str for f in got.flag)


# --------------------------------------------------------------------------------------
# formulas on design inputs (independent re-statements)
# --------------------------------------------------------------------------------------
P = np.array([0.02, 0.15, 0.5, 0.7, 0.97])
SE = np.array([0.011, 0.04, 0.06, 0.03, 0.012])
N = np.array([150.0, 90.0, 40.0, 300.0, 120.0])
DF = np.array([12.0, 30.0, 7.0, np.inf, 55.0])
LEVEL = 0.9
T = stats.t.ppf(1 - (1 - LEVEL) / 2, DF)


def test_wilson_design_form():
    n_star = P * (1 - P) / SE**2
    t2 = T**2
    root = (T / (2 * n_star)) * np.sqrt(4 * n_star * P * (1 - P) + t2)
    low = (P + t2 / (2 * n_star) - root) / (1 + t2 / n_star)
    high = (P + t2 / (2 * n_star) + root) / (1 + t2 / n_star)
    got = confint("wilson", P, SE, N, DF, LEVEL)
    np.testing.assert_allclose(got.low, low, rtol=1e-12)
    np.testing.assert_allclose(got.high, high, rtol=1e-12)
    np.testing.assert_allclose(got.n_eff, n_star, rtol=1e-12)


def test_agresti_coull_uses_t_quantile():
    n_star = P * (1 - P) / SE**2
    n_tilde = n_star + T**2
    p_tilde = (P * n_star + T**2 / 2) / n_tilde
    half = T * np.sqrt(p_tilde * (1 - p_tilde) / n_tilde)
    got = confint("agresti-coull", P, SE, N, DF, LEVEL)
    np.testing.assert_allclose(got.low, np.clip(p_tilde - half, 0, 1), rtol=1e-12)
    np.testing.assert_allclose(got.high, np.clip(p_tilde + half, 0, 1), rtol=1e-12)


def test_clopper_pearson_and_jeffreys_ignore_df():
    for method in ("clopper-pearson", "jeffreys"):
        a = confint(method, P, SE, N, DF, LEVEL)
        b = confint(method, P, SE, N, np.inf, LEVEL)
        np.testing.assert_array_equal(a.low, b.low)
        np.testing.assert_array_equal(a.high, b.high)


def test_korn_graubard_formula():
    ratio = np.minimum(1, (stats.t.ppf(0.05, N - 1) / stats.t.ppf(0.05, DF)) ** 2)
    assert list(ratio < 1) == [True, True, True, False, True]  # df = inf: factor capped at 1
    n_eff = P * (1 - P) / SE**2 * ratio
    got = confint("korn-graubard", P, SE, N, DF, LEVEL)
    np.testing.assert_allclose(got.n_eff, n_eff, rtol=1e-13)
    np.testing.assert_allclose(
        got.low, stats.beta.ppf(0.05, n_eff * P, n_eff * (1 - P) + 1), rtol=1e-12
    )
    np.testing.assert_allclose(
        got.high, stats.beta.ppf(0.95, n_eff * P + 1, n_eff * (1 - P)), rtol=1e-12
    )


def test_korn_graubard_classical_is_clopper_pearson():
    """df = inf > n - 1: the t factor is capped at 1 (R's would exceed 1)."""
    x = np.array([0.0, 1, 2, 5, 9, 10])
    n = np.full(6, 10.0)
    p = x / n
    kg = confint("korn-graubard", p, np.sqrt(p * (1 - p) / n), n, np.inf, 0.99)
    cp = confint("clopper-pearson", p, np.sqrt(p * (1 - p) / n), n, np.inf, 0.99)
    np.testing.assert_allclose(kg.low, cp.low, rtol=1e-13, atol=0)
    np.testing.assert_allclose(kg.high, cp.high, rtol=1e-13, atol=0)
    np.testing.assert_allclose(kg.n_eff, n, rtol=1e-13)


def test_jeffreys_moves_a_bound_that_would_exclude_the_estimate():
    # x* = 0.05 effective cases: the equal-tailed lower bound is above p
    p, n_star = 0.0005, 100.0
    got = confint("jeffreys", p, np.sqrt(p * (1 - p) / n_star), 1000, np.inf, 0.5)
    raw = stats.beta.ppf(0.25, p * n_star + 0.5, (1 - p) * n_star + 0.5)
    assert raw > p
    assert float(got.low) == p
    assert float(got.high) == pytest.approx(
        stats.beta.isf(0.25, p * n_star + 0.5, (1 - p) * n_star + 0.5), rel=1e-12
    )
    assert got.flag[()] == "jeffreys bound moved to the estimate"


def test_likelihood_roots_solve_the_equation_and_match_brentq():
    got = confint("likelihood", P, SE, N, DF, LEVEL)
    target = T**2 * SE**2 / (P * (1 - P)) * N / (N - 1)

    def two_kl(p, mu):
        return 2 * (p * np.log(p / mu) + (1 - p) * np.log((1 - p) / (1 - mu)))

    np.testing.assert_allclose(two_kl(P, got.low), target, rtol=1e-10)
    np.testing.assert_allclose(two_kl(P, got.high), target, rtol=1e-10)
    for p, c, low, high in zip(P, target, got.low, got.high, strict=True):
        root_low = optimize.brentq(lambda mu, p=p, c=c: two_kl(p, mu) - c, 1e-300, p, xtol=1e-300)
        root_high = optimize.brentq(
            lambda mu, p=p, c=c: two_kl(p, mu) - c, p, 1 - 1e-16, xtol=1e-300
        )
        assert low == pytest.approx(root_low, rel=1e-10)
        assert high == pytest.approx(root_high, rel=1e-10)
    assert np.isnan(got.n_eff).all()


def test_likelihood_extreme_inputs_stay_finite():
    got = confint("likelihood", [1e-9, 0.5, 1 - 1e-9], [0.3, 2.0, 0.3], [2, 2, 2], [1, 1, 1])
    assert np.isfinite(got.low).all() and np.isfinite(got.high).all()
    assert ((got.low >= 0) & (got.low <= [1e-9, 0.5, 1 - 1e-9])).all()
    assert (got.high <= 1).all()


def test_xlogit_and_asin_formulas():
    got = confint("xlogit", P, SE, N, DF, LEVEL)
    half = T * SE / (P * (1 - P))
    eta = np.log(P / (1 - P))
    np.testing.assert_allclose(got.low, 1 / (1 + np.exp(-(eta - half))), rtol=1e-12)
    np.testing.assert_allclose(got.high, 1 / (1 + np.exp(-(eta + half))), rtol=1e-12)
    got = confint("asin", P, SE, N, DF, LEVEL)
    half = T * SE / (2 * np.sqrt(P * (1 - P)))
    centre = np.arcsin(np.sqrt(P))
    np.testing.assert_allclose(got.low, np.sin(centre - half) ** 2, rtol=1e-12)
    np.testing.assert_allclose(got.high, np.sin(centre + half) ** 2, rtol=1e-12)


def test_logit_uses_the_log_odds_own_se_when_given():
    p = np.array([0.2, 0.5, 0.9])
    se = np.array([0.05, 0.1, 0.03])
    logit_se = np.array([0.4, 0.3, 0.5])
    t = stats.t.ppf(0.975, 12)
    got = confint("logit", p, se, 60, 12, logit_se=logit_se, logit_edge=[False, True, False])
    eta = np.log(p / (1 - p))
    np.testing.assert_allclose(got.low, 1 / (1 + np.exp(-(eta - t * logit_se))), rtol=1e-13)
    np.testing.assert_allclose(got.high, 1 / (1 + np.exp(-(eta + t * logit_se))), rtol=1e-13)
    assert list(got.flag) == ["", "replicate estimate 0 or 1: logit interval as R's glm fit", ""]
    # without it, the linearised se/(p(1-p)): xlogit; other methods ignore it
    plain = confint("logit", p, se, 60, 12)
    xlogit = confint("xlogit", p, se, 60, 12)
    np.testing.assert_array_equal(plain.low, xlogit.low)
    np.testing.assert_array_equal(plain.high, xlogit.high)
    wilson = confint("wilson", p, se, 60, 12, logit_se=logit_se, logit_edge=True)
    np.testing.assert_array_equal(wilson.low, confint("wilson", p, se, 60, 12).low)
    assert (wilson.flag == "").all()


def test_logit_se_missing_or_invalid():
    got = confint("logit", [0.3, 0.0], [0.1, 0.0], 20, 9, logit_se=[np.nan, np.nan])
    assert np.isnan(got.low[0]) and got.flag[0] == "missing estimate, se, n or df"
    assert got.flag[1].startswith("estimate 0: logit undefined, clopper-pearson")
    for bad in (-0.1, np.inf):
        with pytest.raises(ValueError, match="logit_se must be finite and >= 0"):
            confint("logit", 0.3, 0.1, 20, 9, logit_se=bad)


def test_asin_fold_is_kept_and_flagged():
    # p = 0.01, large se: the lower argument is negative; R folds sin()^2
    p, se = np.array([0.01, 0.99]), np.array([0.05, 0.05])
    got = confint("asin", p, se, 100, 10)
    centre, half = np.arcsin(np.sqrt(p)), stats.t.ppf(0.975, 10) * se / (2 * np.sqrt(p * (1 - p)))
    np.testing.assert_allclose(got.low, np.sin(centre - half) ** 2, rtol=1e-12)
    np.testing.assert_allclose(got.high, np.sin(centre + half) ** 2, rtol=1e-12)
    assert list(got.flag) == ["asin lower bound folded at 0", "asin upper bound folded at 1"]


def test_wald_is_clipped_and_flagged():
    got = confint("wald", [0.02, 0.5, 0.98], [0.03, 0.01, 0.03], 50, 10)
    t = stats.t.ppf(0.975, 10)
    np.testing.assert_allclose(got.low, [0.0, 0.5 - t * 0.01, 0.98 - t * 0.03])
    np.testing.assert_allclose(got.high, [0.02 + t * 0.03, 0.5 + t * 0.01, 1.0])
    assert list(got.flag) == ["clipped to [0, 1]", "", "clipped to [0, 1]"]


# --------------------------------------------------------------------------------------
# korn-graubard-nchs
# --------------------------------------------------------------------------------------
def test_nchs_caps_n_eff_at_n():
    # deff < 1 (stratification): n* above n
    p, se, n = 0.3, np.sqrt(0.3 * 0.7 / 100) * 0.8, 100.0
    kg = confint("korn-graubard", p, se, n, 60)
    nchs = confint("korn-graubard-nchs", p, se, n, 60)
    assert float(kg.n_eff) > n
    assert float(nchs.n_eff) == n
    assert nchs.flag[()] == "n_eff capped at n"
    np.testing.assert_allclose(nchs.low, stats.beta.ppf(0.025, 30, 71), rtol=1e-12)
    np.testing.assert_allclose(nchs.high, stats.beta.ppf(0.975, 31, 70), rtol=1e-12)


def test_nchs_uncapped_equals_korn_graubard():
    kg = confint("korn-graubard", P, SE, N, DF, LEVEL)
    nchs = confint("korn-graubard-nchs", P, SE, N, DF, LEVEL)
    capped = kg.n_eff > N
    assert list(capped) == [False, False, True, False, True]
    np.testing.assert_array_equal(kg.low[~capped], nchs.low[~capped])
    np.testing.assert_array_equal(kg.high[~capped], nchs.high[~capped])
    np.testing.assert_array_equal(nchs.n_eff, np.minimum(kg.n_eff, N))
    assert list(nchs.flag) == ["", "", "n_eff capped at n", "", "n_eff capped at n"]


@pytest.mark.parametrize("level", [0.9, 0.95])
def test_nchs_at_zero_and_one_is_clopper_pearson_on_n(level):
    n = np.array([5.0, 20.0, 200.0])
    a = 1 - level
    zero = confint("korn-graubard-nchs", 0.0, 0.0, n, 7, level)
    one = confint("korn-graubard-nchs", 1.0, 0.0, n, 7, level)
    np.testing.assert_array_equal(zero.low, 0.0)
    np.testing.assert_allclose(zero.high, 1 - (a / 2) ** (1 / n), rtol=1e-12)
    np.testing.assert_allclose(one.low, (a / 2) ** (1 / n), rtol=1e-12)
    np.testing.assert_array_equal(one.high, 1.0)
    np.testing.assert_array_equal(zero.n_eff, n)  # no df factor at p = 0 or 1
    assert list(zero.flag) == [f"estimate 0: korn-graubard-nchs with n={k}" for k in (5, 20, 200)]


def test_nchs_with_zero_se_inside_unit_interval_uses_n():
    got = confint("korn-graubard-nchs", 0.4, 0.0, 50, 10)
    assert float(got.n_eff) == 50
    np.testing.assert_allclose(got.low, stats.beta.ppf(0.025, 20, 31), rtol=1e-12)
    assert got.flag[()] == "n_eff capped at n"


# --------------------------------------------------------------------------------------
# degenerate cells, df = 0, n = 0, missing, se = 0
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("p", [0.0, 1.0])
def test_degenerate_estimate_never_nan_and_flagged(method, p):
    n = np.array([1.0, 2.0, 20.0, 500.0])
    df = np.array([1.0, 1.0, 4.0, np.inf])
    got = confint(method, p, 0.0, n, df)
    assert np.isfinite(got.low).all() and np.isfinite(got.high).all()
    assert ((got.low >= 0) & (got.low <= p) & (p <= got.high) & (got.high <= 1)).all()
    assert all(f != "" for f in got.flag)
    tag = f"estimate {int(p)}"
    if method == "wald":
        np.testing.assert_array_equal(got.low, p)
        np.testing.assert_array_equal(got.high, p)
        assert (got.flag == f"zero-width: wald at {tag}").all()
        assert np.isnan(got.n_eff).all()
        return
    assert (got.high - got.low > 0).all()
    np.testing.assert_array_equal(got.n_eff, n)
    if method in FALLBACK_METHODS:
        expected = [f"{tag}: {method} undefined, clopper-pearson with n={k:g}" for k in n]
        cp = confint("clopper-pearson", p, 0.0, n, df)
        np.testing.assert_array_equal(got.low, cp.low)
        np.testing.assert_array_equal(got.high, cp.high)
    elif method == "agresti-coull":
        expected = [f"{tag}: agresti-coull with n={k:g}; clipped to [0, 1]" for k in n]
    else:
        expected = [f"{tag}: {method} with n={k:g}" for k in n]
    assert list(got.flag) == expected


def test_clopper_pearson_at_zero_is_one_sided_bound():
    n = np.arange(1.0, 61.0)
    got = confint("clopper-pearson", 0.0, 0.0, n, np.inf, 0.95)
    np.testing.assert_array_equal(got.low, 0.0)
    np.testing.assert_allclose(got.high, 1 - 0.025 ** (1 / n), rtol=1e-12)


def test_degenerate_ignores_se():
    a = confint("wilson", 0.0, 0.0, 30, 10)
    b = confint("wilson", 0.0, 0.2, 30, 10)
    assert float(a.high) == float(b.high)


@pytest.mark.parametrize("method", METHODS)
def test_special_cells_in_one_call(method):
    p = np.array([0.3, np.nan, 0.3, 0.2, 0.0, 0.4, 0.5])
    se = np.array([0.05, np.nan, 0.05, 0.05, 0.0, 0.0, np.nan])
    n = np.array([40.0, 0.0, 40.0, 1.0, 12.0, 40.0, 40.0])
    df = np.array([10.0, 0.0, 0.0, 0.0, 3.0, 10.0, 10.0])
    got = confint(method, p, se, n, df)
    assert got.flag[1] == "no observations"
    assert got.flag[2] == got.flag[3] == "df = 0: interval undefined"
    assert got.flag[6] == "missing estimate, se, n or df"
    for i in (1, 2, 3, 6):
        assert np.isnan(got.low[i]) and np.isnan(got.high[i]) and np.isnan(got.n_eff[i])
    assert np.isfinite(got.low[[0, 4, 5]]).all()
    assert got.flag[4].startswith("zero-width" if method == "wald" else "estimate 0: ")
    if method == "korn-graubard-nchs":
        assert got.flag[5] == "n_eff capped at n" and got.high[5] > got.low[5]
    else:
        assert got.flag[5] == "se = 0: zero-width interval"
        assert got.low[5] == got.high[5] == 0.4


def test_df_zero_for_degenerate_cell_is_undefined_not_fallback():
    # strat_lonely, domain H: n = 1, p = 0, df = 0
    got = confint("clopper-pearson", 0.0, 0.0, 1, 0)
    assert np.isnan(got.low) and got.flag[()] == "df = 0: interval undefined"


def test_no_observations_even_with_nan_estimate_and_df():
    got = confint("wald", np.nan, np.nan, 0, np.nan)
    assert got.flag[()] == "no observations"


def test_flags_are_short_lowercase():
    texts = set()
    p = np.array([0.0, 1.0, 0.01, 0.99, 0.3, 0.4, np.nan, 0.5, 0.5])
    se = np.array([0.0, 0.0, 0.05, 0.05, 0.01, 0.0, 0.1, 0.1, np.nan])
    n = np.array([20, 20, 30, 30, 100, 50, 0, 10, 10])
    df = np.array([5, 5, 5, 5, np.inf, 5, 5, 0, 5])
    for method in METHODS:
        texts |= set(confint(method, p, se, n, df).flag)
    texts.discard("")
    assert len(texts) > 10
    for text in texts:
        assert text == text.lower() and len(text) <= 70, text


def test_beta_quantiles_are_scipy_stats_beta_to_the_bit():
    """Clopper-Pearson, Jeffreys and Korn-Graubard bounds use scipy.special's inverse
    incomplete beta directly; scipy.stats.beta.ppf and .isf give the same bits."""
    from scipy import stats

    from prevalence.stats.intervals import _beta_bounds

    rng = np.random.default_rng(11)
    a = np.concatenate([rng.uniform(0.0, 400.0, 3000), np.arange(0.0, 60.0)])
    b = np.concatenate([rng.uniform(0.0, 4000.0, 3000), np.arange(60.0, 0.0, -1.0)])
    for alpha in (0.05, 0.1, 0.01):
        for prior in (0.0, 0.5):
            low, high = _beta_bounds(a, b, alpha, prior)
            has_a, has_b = a > 0, b > 0
            expect_low = stats.beta.ppf(alpha / 2, a[has_a] + prior, b[has_a] + (1.0 - prior))
            expect_high = stats.beta.isf(alpha / 2, a[has_b] + (1.0 - prior), b[has_b] + prior)
            np.testing.assert_array_equal(low[has_a], expect_low)
            np.testing.assert_array_equal(high[has_b], expect_high)


def test_the_wilson_bounds_of_comparisons_keep_the_edge_guards():
    from prevalence.stats.intervals import wilson_bounds

    low, high = wilson_bounds([0, 10, 3], [10, 10, 0])
    assert low[0] == 0.0 and high[1] == 1.0
    assert np.isnan(low[2]) and np.isnan(high[2])
