"""Invariants of the estimators, on random survey designs (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prevalence.design.core import SurveyDesign
from prevalence.stats.variance import domain_proportions

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def surveys(draw):
    """A stratified cluster sample: 2-4 strata of 2-4 PSUs, 1-6 rows each, 1-3 indicators."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    strata = draw(st.integers(2, 4))
    psus_per = rng.integers(2, 5, size=strata)
    rows_per = [rng.integers(1, 7, size=p) for p in psus_per]
    stratum = np.concatenate([np.repeat(h, r.sum()) for h, r in enumerate(rows_per)])
    psu = np.concatenate([np.repeat(np.arange(len(r)) + 10 * h, r) for h, r in enumerate(rows_per)])
    n = len(psu)
    k = draw(st.integers(1, 3))
    y = (rng.random((n, k)) < rng.uniform(0.1, 0.9, size=k)).astype(float)
    y[rng.random((n, k)) < 0.15] = np.nan
    frame = pd.DataFrame(
        {
            "stratum": stratum,
            "psu": psu,
            "weight": rng.uniform(0.5, 20.0, size=n),
            "fpc": np.repeat(psus_per * 3, [r.sum() for r in rows_per]),
        }
    )
    domain = rng.integers(0, 3, size=n)
    spec = {"weight": "weight", "strata": "stratum", "psu": "psu", "fpc": "fpc"}
    return frame, y, domain, spec


def estimates(frame, y, domain, spec, m=3):
    design = SurveyDesign.from_frame(frame, spec)
    return domain_proportions(design, y, domain, m)


def close(a, b, tol=1e-10):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True)


@SETTINGS
@given(surveys(), st.floats(0.01, 1000))
def test_scaling_every_weight_changes_nothing(survey, factor):
    frame, y, domain, spec = survey
    base = estimates(frame, y, domain, spec)
    scaled = estimates(frame.assign(weight=frame["weight"] * factor), y, domain, spec)
    close(base.estimate, scaled.estimate)
    close(base.se, scaled.se, 1e-8)
    close(base.df, scaled.df)


@SETTINGS
@given(surveys(), st.integers(0, 2**32 - 1))
def test_the_order_of_rows_changes_nothing(survey, seed):
    frame, y, domain, spec = survey
    order = np.random.default_rng(seed).permutation(len(frame))
    base = estimates(frame, y, domain, spec)
    shuffled = estimates(frame.iloc[order].reset_index(drop=True), y[order], domain[order], spec)
    for name in ("n", "cases", "estimate", "se", "df", "deff"):
        close(getattr(base, name), getattr(shuffled, name), 1e-9)


@SETTINGS
@given(surveys())
def test_a_domain_that_is_the_whole_sample_gives_the_overall_estimate(survey):
    frame, y, domain, spec = survey
    overall = estimates(frame, y, np.zeros(len(frame), dtype=int), spec, m=1)
    everyone = estimates(frame, y, np.zeros(len(frame), dtype=int), spec, m=2)
    close(overall.estimate[:, 0], everyone.estimate[:, 0])
    close(overall.se[:, 0], everyone.se[:, 0])
    assert (everyone.n[:, 1] == 0).all()


@SETTINGS
@given(surveys())
def test_domain_totals_add_up_to_the_overall(survey):
    frame, y, domain, spec = survey
    parts = estimates(frame, y, domain, spec)
    whole = estimates(frame, y, np.zeros(len(frame), dtype=int), spec, m=1)
    assert (parts.n.sum(axis=1) == whole.n[:, 0]).all()
    assert (parts.cases.sum(axis=1) == whole.cases[:, 0]).all()
    w = frame["weight"].to_numpy()
    valid = ~np.isnan(y)
    weight_in = np.stack(
        [np.bincount(domain[valid[:, j]], w[valid[:, j]], minlength=3) for j in range(y.shape[1])]
    )
    weighted_cases = np.nansum(np.where(np.isnan(parts.estimate), 0, parts.estimate) * weight_in, 1)
    close(weighted_cases / weight_in.sum(axis=1), whole.estimate[:, 0], 1e-9)
