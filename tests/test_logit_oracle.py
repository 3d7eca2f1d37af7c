"""The ``logit`` interval on replicate-weight designs equals R's ``svyciprop(method = "logit")``.

R fits ``svyglm(y ~ 1, design, family = quasibinomial)``: on a replicate design the
standard error of the log-odds comes from refitting the model on every replicate.
References: ``tests/fixtures/oracle/reference.csv`` (every replicate design of the
oracle: JK1, bootstrap, BRR, Fay, with and without ``mse``) and
``tests/fixtures/oracle_valid/logit.csv`` (the same designs on indicators with item
non-response over whole PSUs and an "of whom" indicator, by domain; each row has its R
call), ``glm_stop.csv`` (where R's ``glm.fit`` stops on responses all 0 or all 1).

Tolerance: ``|ours - R| <= 1e-8 |R| + 1e-8``: R's bounds carry the convergence noise of
its glm fit, a few 1e-9 (``ORACLE_README.md``, "Tolerances for tests").
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from oracle_reference import (
    INDICATORS,
    ORACLE,
    REPLICATE_DESIGNS,
    STYPES,
    VALID_DESIGNS,
    VALID_INDICATORS,
    oracle_cases,
    valid_data,
    valid_reference,
)
from scipy import special, stats

from prevalence.design.core import SurveyDesign
from prevalence.stats.intervals import FLAG_LOGIT_EDGE, confint
from prevalence.stats.variance import domain_proportions, glm_logit_stop

RTOL = ATOL = 1e-8
LEVELS = (0.95, 0.90)
KEY = ["domain", "domain_value", "indicator"]


def _cells(frame: pd.DataFrame, spec: dict, indicators, domains) -> pd.DataFrame:
    """Every indicator overall and in each domain value: estimate, se, df, logit_se."""
    design = SurveyDesign.from_frame(frame, spec)
    y = frame[list(indicators)].to_numpy(dtype=float)
    pieces = []
    for domain, values in [("overall", ("All",))] + list(domains):
        if domain == "overall":
            codes = np.zeros(len(frame), dtype=np.intp)
        else:
            codes = pd.Categorical(frame[domain], categories=list(values)).codes.astype(np.intp)
        res = domain_proportions(design, y, codes, len(values))
        k, m = res.estimate.shape
        piece = pd.DataFrame(
            {
                "domain": domain,
                "domain_value": np.tile(np.asarray(values, dtype=object), k),
                "indicator": np.repeat(np.asarray(indicators, dtype=object), m),
            }
        )
        for q in ("n", "estimate", "se", "df", "logit_se", "logit_edge"):
            piece[q] = getattr(res, q).reshape(-1)
        pieces.append(piece)
    return pd.concat(pieces, ignore_index=True)


def _intervals(cells: pd.DataFrame, method: str, level: float):
    return confint(
        method,
        cells["estimate"].to_numpy(),
        cells["se"].to_numpy(),
        cells["n"].to_numpy(),
        cells["df"].to_numpy(),
        level,
        logit_se=cells["logit_se"].to_numpy(),
        logit_edge=cells["logit_edge"].to_numpy(),
    )


def _excess(ours, ref) -> np.ndarray:
    ours, ref = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    return np.abs(ours - ref) - (ATOL + RTOL * np.abs(ref))


def _compare(merged: pd.DataFrame, method: str) -> dict[str, float]:
    """Assert both bounds within tolerance of R's, level by level; max abs / rel differences."""
    worst = {"abs": 0.0, "rel": 0.0}
    for level in LEVELS:
        rows = merged[merged["level"] == level]
        ci = _intervals(rows, method, level)
        for bound, ours in (("ci_low", ci.low), ("ci_high", ci.high)):
            ref = rows[bound].to_numpy(dtype=float)
            excess = _excess(ours, ref)
            bad = np.flatnonzero(~(excess <= 0))
            assert bad.size == 0, (
                f"{method} {bound} at {level}: {bad.size} of {len(rows)} rows differ from R, "
                f"e.g. {rows.iloc[bad[0]][KEY].to_dict()}: ours {ours[bad[0]]!r}, R {ref[bad[0]]!r}"
            )
            diff = np.abs(ours - ref)
            worst["abs"] = max(worst["abs"], float(diff.max()))
            worst["rel"] = max(worst["rel"], float((diff / np.abs(ref)).max()))
    return worst


@cache
def _reference() -> pd.DataFrame:
    ref = pd.read_csv(ORACLE / "reference.csv")
    ref["note"] = ref["note"].fillna("")
    ref["domain_value"] = ref["domain_value"].astype(str)
    return ref[ref["na_handling"].isin(["none", "subset"])]


def _oracle(design: str, method: str) -> pd.DataFrame:
    """R's rows of an oracle design and method, with our cells beside them (suffix _r)."""
    case = next(c for c in oracle_cases() if c.design == design)
    cells = _cells(case.frame(), case.spec, INDICATORS, [("stype", STYPES)])
    ref = _reference()
    ref = ref[(ref["design"] == design) & (ref["ci_method"] == method)]
    ref = ref[KEY + ["level", "ci_low", "ci_high", "estimate", "se", "df", "note"]]
    return ref.merge(cells, on=KEY, suffixes=("_r", ""), validate="many_to_one")


def _valid(design: str, method: str) -> pd.DataFrame:
    """The same for an oracle_valid design (R's rows from logit.csv)."""
    frame, spec = valid_data(design)
    domains = [("stype", STYPES)] + ([("grp", ("tiny", "rest"))] if "grp" in frame else [])
    cells = _cells(frame, spec, VALID_INDICATORS, domains)
    ref = valid_reference("logit")
    ref = ref[(ref["design"] == design) & (ref["ci_method"] == method)]
    ref = ref[KEY + ["level", "ci_low", "ci_high", "estimate", "se", "df", "note", "r_call"]]
    return ref.merge(cells, on=KEY, suffixes=("_r", ""), validate="many_to_one")


def _regular(merged: pd.DataFrame) -> pd.DataFrame:
    """Rows where R's interval is a reference: 0 < p < 1 and no R error."""
    inside = (merged["estimate_r"] > 0) & (merged["estimate_r"] < 1)
    return merged[inside & ~merged["note"].str.contains("error")]


# --------------------------------------------------------------------------------------
# R's numbers
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("design", REPLICATE_DESIGNS)
def test_logit_equals_r_on_every_replicate_design_of_the_oracle(design):
    merged = _oracle(design, "logit")
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(merged["df"], merged["df_r"])
    rows = _regular(merged)
    assert len(rows) >= 0.9 * len(merged) > 40
    _compare(rows, "logit")


VALID_REPLICATE = [d for d in VALID_DESIGNS if "_" in d and d != "strat_paired"]


@pytest.mark.parametrize("design", VALID_REPLICATE)
def test_logit_equals_r_with_item_nonresponse_and_of_whom_by_domain(design):
    merged = _valid(design, "logit")
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-10)
    np.testing.assert_array_equal(merged["df"], merged["df_r"])
    rows = _regular(merged)
    assert set(rows["indicator"]) == set(VALID_INDICATORS)
    assert {"E", "H", "M", "All"} <= set(rows["domain_value"])
    _compare(rows, "logit")


@pytest.mark.parametrize("design", VALID_REPLICATE)
def test_xlogit_stays_the_delta_method_on_replicate_designs(design):
    merged = _valid(design, "xlogit")
    rows = merged[(merged["estimate_r"] > 0) & (merged["estimate_r"] < 1)]
    for level in LEVELS:
        part = rows[rows["level"] == level]
        ci = _intervals(part, "xlogit", level)
        np.testing.assert_allclose(ci.low, part["ci_low"], rtol=1e-10)
        np.testing.assert_allclose(ci.high, part["ci_high"], rtol=1e-10)
        # and it is the delta method of the estimate's se, not the replicates' log-odds
        p, se = part["estimate"].to_numpy(), part["se"].to_numpy()
        t = stats.t.ppf(0.5 + level / 2, part["df"].to_numpy())
        np.testing.assert_allclose(ci.low, special.expit(special.logit(p) - t * se / (p * (1 - p))))


def test_logit_and_xlogit_differ_on_replicate_designs():
    """The point of the two names: on JK1 the bounds move by up to a tenth in small domains."""
    merged = _regular(_oracle("clus1_jk1", "logit"))
    rows = merged[merged["level"] == 0.95]
    logit, xlogit = _intervals(rows, "logit", 0.95), _intervals(rows, "xlogit", 0.95)
    assert np.abs(logit.high - xlogit.high).max() > 0.05
    np.testing.assert_allclose(logit.high, rows["ci_high"], rtol=1e-8, atol=1e-8)


# --------------------------------------------------------------------------------------
# replicate estimates of 0 or 1, estimates of 0 or 1, replicates without rows
# --------------------------------------------------------------------------------------
def test_glm_stop_equals_r_glm_fit():
    ref = valid_reference("glm_stop")
    ours = glm_logit_stop(ref["y"].to_numpy(dtype=float), ref["start"].to_numpy(dtype=float))
    np.testing.assert_allclose(ours, ref["coefficient"], rtol=1e-10, atol=0)
    with pytest.raises(ValueError, match="all 0 or all 1"):
        glm_logit_stop(np.array([0.5]), np.array([0.0]))


@pytest.mark.parametrize(
    "design", ["strat_boot", "strat_boot_mse", "strat_paired_brr", "strat_paired_brr_mse"]
)
def test_replicate_estimates_of_0_or_1_follow_r_glm_and_are_flagged(design):
    """One case in a domain of 50: in many replicates the domain has no case at all.

    Its log-odds is -inf; R's refit stops near -22 and that value makes R's interval
    (e.g. [2e-17, 1]). We take the same stopping point, so the bounds are R's, and flag it.
    """
    merged = _oracle(design, "logit")
    edge = merged[merged["logit_edge"]]
    assert set(edge["domain_value"]) == {"H", "M"} and set(edge["indicator"]) == {"yr_rnd"}
    _compare(edge, "logit")
    for level in LEVELS:
        part = merged[merged["level"] == level]
        flags = _intervals(part, "logit", level).flag
        assert (flags[part["logit_edge"].to_numpy()] == FLAG_LOGIT_EDGE).all()
        regular = ~part["logit_edge"].to_numpy() & (part["estimate"].between(0, 1, "neither"))
        assert (flags[regular.to_numpy()] == "").all()


@pytest.mark.parametrize("source", [_oracle, _valid], ids=["oracle", "oracle_valid"])
def test_estimate_0_or_1_falls_back_to_clopper_pearson_not_r_sliver(source):
    """R's logit at p = 0 is a sliver near 8e-12 (glm stops there); ours is documented."""
    merged = source("clus1_jk1", "logit")
    edge = merged[merged["estimate_r"].isin([0.0, 1.0]) & ~merged["note"].str.contains("error")]
    assert len(edge) > 0
    assert (edge["ci_high"] - edge["ci_low"] < 1e-6).all()  # R's sliver
    for level in LEVELS:
        part = edge[edge["level"] == level]
        ci = _intervals(part, "logit", level)
        n = part["n"].to_numpy(dtype=float)
        one_sided = 1 - ((1 - level) / 2) ** (1 / n)
        p = part["estimate"].to_numpy()
        np.testing.assert_allclose(np.where(p == 0, ci.high, 1 - ci.low), one_sided, rtol=1e-12)
        assert all(
            f.endswith("logit undefined, clopper-pearson with n=" + f"{m:g}")
            for f, m in zip(ci.flag, n, strict=True)
        )


def test_replicate_without_rows_in_the_domain_is_left_out_where_r_stops():
    """A domain of 4 schools: one bootstrap replicate draws none of them.

    R's ``svymean`` leaves that replicate out (with a warning), so its se and ``xlogit``
    are a reference; ``svyciprop(method = "logit")`` stops with "NAs in V(mu)". We leave
    the replicate out of the log-odds' variance too: the formula, by hand.
    """
    frame, spec = valid_data("strat_boot")
    merged = _valid("strat_boot", "logit")
    tiny = merged[(merged["domain_value"] == "tiny") & (merged["level"] == 0.95)]
    assert tiny["note"].str.contains("NAs in V\\(mu\\)").all()
    assert (tiny["se"] > 0).any()
    np.testing.assert_allclose(tiny["se"], tiny["se_r"], rtol=1e-10)  # svymean drops it too
    reps = frame[[c for c in frame if c.startswith("boot_")]].to_numpy(dtype=float)
    inside = (frame["grp"] == "tiny").to_numpy()
    y = frame["sch_wide"].to_numpy(dtype=float)
    total = reps[inside].sum(axis=0)
    kept = total > 0
    assert (~kept).sum() == 1
    theta = (reps[inside] * y[inside, None]).sum(axis=0)[kept] / total[kept]
    row = tiny[tiny["indicator"] == "sch_wide"].iloc[0]
    eta = special.logit(theta)
    edge = (theta == 0) | (theta == 1)
    assert edge.any() and row["logit_edge"]  # a replicate of only schools with sch_wide = 1
    eta[edge] = glm_logit_stop(theta[edge], np.full(edge.sum(), special.logit(row["estimate"])))
    expected = np.sqrt(0.0102722136620442 * ((eta - eta.mean()) ** 2).sum())
    assert row["logit_se"] == pytest.approx(expected, rel=1e-12)
    ci = _intervals(tiny[tiny["indicator"] == "sch_wide"], "logit", 0.95)
    assert 0 < ci.low[0] < row["estimate"] < ci.high[0] <= 1
    assert ci.flag[0] == FLAG_LOGIT_EDGE


def test_taylor_designs_logit_se_is_the_linearised_one():
    for design in ("clus1", "strat_paired", "strat"):
        frame, spec = valid_data(design)
        cells = _cells(frame, spec, VALID_INDICATORS, [("stype", STYPES)])
        p = cells["estimate"]
        inside = (p > 0) & (p < 1)
        np.testing.assert_array_equal(
            cells.loc[inside, "logit_se"], (cells["se"] / (p * (1 - p)))[inside]
        )
        assert cells.loc[~inside, "logit_se"].isna().all()
        assert not cells["logit_edge"].any()
