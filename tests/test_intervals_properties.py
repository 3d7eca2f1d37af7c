"""Invariants of every interval method, classical grid and random design inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prevalence.stats.intervals import METHODS, confint

LEVELS = (0.80, 0.90, 0.95, 0.99)
NEVER_ZERO_WIDTH = ("wilson", "clopper-pearson", "jeffreys", "korn-graubard", "korn-graubard-nchs")


def _grid(n_max: int = 60):
    n = np.concatenate([np.full(k + 1, k, dtype=float) for k in range(1, n_max + 1)])
    x = np.concatenate([np.arange(k + 1, dtype=float) for k in range(1, n_max + 1)])
    return x, n


X, N = _grid()
P = X / N
SE = np.sqrt(P * (1 - P) / N)


def _classical(method, level, x=X, n=N):
    p = x / n
    return confint(method, p, np.sqrt(p * (1 - p) / n), n, np.inf, level)


def _folded(flag) -> np.ndarray:
    return np.array(["folded" in f for f in flag], dtype=bool)


def _assert_ordered(low, p, high, where: str):
    bad = ~((low >= 0) & (low <= p) & (p <= high) & (high <= 1))
    assert not bad.any(), (
        f"{where}: {int(bad.sum())} cells violate 0 <= low <= p <= high <= 1, first at "
        f"p={p[bad][0]!r}: [{low[bad][0]!r}, {high[bad][0]!r}]"
    )


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("method", METHODS)
def test_classical_bounds_are_ordered_and_never_nan(method, level):
    got = _classical(method, level)
    assert np.isfinite(got.low).all() and np.isfinite(got.high).all()
    _assert_ordered(got.low, P, got.high, f"{method} at level {level}")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("method", METHODS)
def test_classical_mirror_symmetry(method, level):
    """CI(x, n) = 1 - reversed CI(n - x, n)."""
    got = _classical(method, level)
    mirror = _classical(method, level, N - X, N)
    np.testing.assert_allclose(got.low, 1 - mirror.high, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.high, 1 - mirror.low, rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_classical_wider_at_higher_level(method):
    prev = _classical(method, LEVELS[0])
    for level in LEVELS[1:]:
        cur = _classical(method, level)
        keep = ~(_folded(prev.flag) | _folded(cur.flag))  # a folded asin bound moves inwards
        assert (cur.low[keep] <= prev.low[keep] + 1e-15).all(), f"{method} low at {level}"
        assert (cur.high[keep] >= prev.high[keep] - 1e-15).all(), f"{method} high at {level}"
        prev = cur


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("method", NEVER_ZERO_WIDTH)
def test_never_zero_width_at_zero_or_n(method, level):
    at_edge = (X == 0) | (X == N)
    got = _classical(method, level)
    assert (got.high[at_edge] - got.low[at_edge] > 0).all()
    assert (got.flag[at_edge] != "").all()


@pytest.mark.parametrize("method", METHODS)
def test_classical_interior_is_strictly_inside(method):
    inside = (X > 0) & (X < N)
    got = _classical(method, 0.95)
    if method in ("wald", "agresti-coull", "asin"):  # may reach 0 or 1 (clipped or folded)
        return
    assert (got.low[inside] > 0).all() and (got.high[inside] < 1).all()


# --------------------------------------------------------------------------------------
# random design inputs
# --------------------------------------------------------------------------------------
design_cells = st.fixed_dictionaries(
    {
        "p": st.floats(1e-4, 1 - 1e-4),
        "deff": st.floats(0.3, 15.0),
        "n": st.integers(2, 5000),
        "df": st.one_of(st.integers(1, 400).map(float), st.just(np.inf)),
        "level": st.sampled_from((0.5, 0.8, 0.9, 0.95, 0.99, 0.999)),
    }
)


def _cell(c):
    se = np.sqrt(c["deff"] * c["p"] * (1 - c["p"]) / c["n"])
    return c["p"], se, c["n"], c["df"], c["level"]


@settings(max_examples=150, deadline=None)
@given(design_cells)
def test_design_bounds_are_ordered(c):
    p, se, n, df, level = _cell(c)
    for method in METHODS:
        got = confint(method, p, se, n, df, level)
        low, high = float(got.low), float(got.high)
        assert np.isfinite(low) and np.isfinite(high), method
        assert 0 <= low <= 1 and 0 <= high <= 1, (method, low, high)
        if method == "asin" and got.flag[()] != "":
            # R's fold (kept, flagged): a folded bound may pass p, even the other bound
            assert "folded" in got.flag[()]
            continue
        assert low <= p <= high, (method, low, p, high)


@settings(max_examples=100, deadline=None)
@given(design_cells, st.sampled_from((0.8, 0.9, 0.95)))
def test_design_wider_at_higher_level(c, lower_level):
    p, se, n, df, _ = _cell(c)
    for method in METHODS:
        a = confint(method, p, se, n, df, lower_level)
        b = confint(method, p, se, n, df, 0.99)
        if method == "asin" and (a.flag[()] or b.flag[()]):
            continue
        assert float(b.low) <= float(a.low) + 1e-14, method
        assert float(b.high) >= float(a.high) - 1e-14, method


@settings(max_examples=100, deadline=None)
@given(design_cells)
def test_design_mirror_symmetry(c):
    p, se, n, df, level = _cell(c)
    for method in METHODS:
        a = confint(method, p, se, n, df, level)
        b = confint(method, 1 - p, se, n, df, level)
        assert float(a.low) == pytest.approx(1 - float(b.high), abs=1e-10), method
        assert float(a.high) == pytest.approx(1 - float(b.low), abs=1e-10), method


@settings(max_examples=100, deadline=None)
@given(design_cells)
def test_larger_se_gives_wider_interval(c):
    p, se, n, df, level = _cell(c)
    for method in METHODS:
        # asin folds; Jeffreys with a tiny n* drifts towards the Beta(1/2, 1/2) quantiles
        if method in ("asin", "jeffreys"):
            continue
        a = confint(method, p, se, n, df, level)
        b = confint(method, p, se * 1.5, n, df, level)
        assert float(b.low) <= float(a.low) + 1e-14, method
        assert float(b.high) >= float(a.high) - 1e-14, method
