"""Publication rules: the NCHS reliability standard, disclosure control, secondary suppression.

The recovery tests publish a table and then attack it: a reader who knows every
published count and every published ``n`` tries to pin each suppressed count,
first by subtraction within each additive group (and through the "of whom"
link), then with an exact integer program over every published equation at once.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import CODEBOOK
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.optimize import Bounds, LinearConstraint, milp

from prevalence.config import parse_config
from prevalence.contract import COLUMNS
from prevalence.data.codebook import load_codebook, parse_codebook
from prevalence.data.ingest import ingest
from prevalence.data.io import read_responses
from prevalence.errors import ConfigError
from prevalence.publication.disclosure import (
    DHS,
    EXTRA_COLUMNS,
    NCHS,
    STATCAN,
    Publication,
    disclose,
    disclosure_checks,
    marks,
    nchs_interval,
    parse_publication,
    reliability_checks,
)
from prevalence.schema import validate_document
from prevalence.stats.estimate import estimate_wave
from prevalence.stats.intervals import confint

ROOT = Path(__file__).parent.parent
NONE = {"standard": "none"}
HIDDEN_VALUES = ["cases", "estimate", "se", "ci_low", "ci_high", "deff", "n_eff"]


# --------------------------------------------------------------------------------------
# building tables by hand
# --------------------------------------------------------------------------------------
def make_table(cells, wave: str = "w") -> pd.DataFrame:
    """A prevalence table from (domain, value, indicator, n, cases[, denominator]) tuples.

    Classical binomial estimates (df = inf) with Wilson intervals, as estimate_wave
    gives without a design; rows with n = 0 are suppressed with "no respondents".
    """
    rows = []
    for cell in cells:
        domain, value, indicator, n, cases, *rest = cell
        rows.append(
            {
                "wave": wave,
                "domain": domain,
                "domain_value": value,
                "indicator": indicator,
                "denominator": rest[0] if rest else "all",
                "n": n,
                "cases": cases,
            }
        )
    table = pd.DataFrame(rows)
    n = table["n"].to_numpy(dtype=float)
    x = table["cases"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        se = np.sqrt(p * (1 - p) / n)
    ci = confint("wilson", p, se, n, np.inf, 0.95)
    table = table.assign(
        estimate=p,
        se=se,
        ci_low=ci.low,
        ci_high=ci.high,
        ci_method="wilson",
        level=0.95,
        deff=np.where(n > 0, 1.0, np.nan),
        n_eff=np.where(n > 0, n, np.nan),
        df=np.inf,
        suppressed=n == 0,
        flag=np.where(n == 0, "no respondents", ci.flag.astype(object)),
    )
    table["n"] = table["n"].astype(np.int64)
    table["cases"] = table["cases"].astype(np.int64)
    return table[COLUMNS]


def cell(table: pd.DataFrame, domain: str, value: str, indicator: str = "violence"):
    rows = table[
        (table["domain"] == domain)
        & (table["domain_value"] == value)
        & (table["indicator"] == indicator)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


def sensitive(table: pd.DataFrame, k: int) -> np.ndarray:
    """The k-rule, written out again: 1..k-1 cases or 1..k-1 non-cases."""
    n = table["n"].to_numpy(dtype=float)
    x = table["cases"].to_numpy(dtype=float)
    return ((x >= 1) & (x < k)) | ((n - x >= 1) & (n - x < k))


# --------------------------------------------------------------------------------------
# the attacker
# --------------------------------------------------------------------------------------
def additive_groups(pub: pd.DataFrame) -> list[tuple[int, list[int]]]:
    """(total row, part rows) of every additive group a reader can write down.

    Overall = sum over the values of each domain (and of each crossing); a value of
    a domain or crossing = sum over the cells of a finer crossing that share it.
    """
    groups = []
    for _, t in pub.groupby(["wave", "indicator"], sort=False):
        names = {d: [] if d == "overall" else d.split("+") for d in t["domain"].unique()}
        values = {i: t.at[i, "domain_value"].split("+") for i in t.index}
        for coarse, coarse_parts in names.items():
            for fine, fine_parts in names.items():
                if not set(coarse_parts) < set(fine_parts):
                    continue
                where = [fine_parts.index(name) for name in coarse_parts]
                fine_rows = t.index[t["domain"] == fine]
                for total in t.index[t["domain"] == coarse]:
                    key = [] if coarse == "overall" else values[total]
                    parts = [i for i in fine_rows if [values[i][j] for j in where] == key]
                    if parts:
                        groups.append((total, parts))
    return groups


def parent_rows(pub: pd.DataFrame) -> dict[int, int]:
    """Row of each conditional indicator's cell -> row of its denominator's cell."""
    key = {
        (r.wave, r.domain, r.domain_value, r.indicator): i
        for i, r in zip(pub.index, pub.itertuples(index=False), strict=True)
    }
    out = {}
    for i, r in zip(pub.index, pub.itertuples(index=False), strict=True):
        if r.denominator != "all":
            out[i] = key[(r.wave, r.domain, r.domain_value, r.denominator)]
    return out


def subtraction_attack(pub: pd.DataFrame, complete: bool = True) -> dict[int, tuple[float, float]]:
    """What subtraction within one group, or the "of whom" link, tells of hidden cases.

    A conditional cell's published n is a lower bound of its denominator's cases,
    and equal to it when ``complete`` (nobody skipped the follow-up question).
    """
    n = pub["n"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    x = pub["cases"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    big = float(np.nansum(n))
    bounds = {i: (0.0, n[i] if not np.isnan(n[i]) else big) for i in np.flatnonzero(np.isnan(x))}

    def narrow(i, lo, hi):
        old = bounds[i]
        bounds[i] = (max(old[0], lo), min(old[1], hi))

    for total, parts in additive_groups(pub):
        residual_n = n[total] - np.sum(n[parts])
        hidden = [i for i in parts if np.isnan(x[i])]
        if not np.isnan(x[total]) and not np.isnan(residual_n):
            rest = x[total] - np.nansum(x[parts])  # hidden parts + residual
            for i in hidden:
                others = residual_n + sum(n[j] for j in hidden if j != i)
                narrow(i, rest - others, rest)
        if np.isnan(x[total]) and not hidden and residual_n == 0:
            narrow(total, np.sum(x[parts]), np.sum(x[parts]))
    for child, parent in parent_rows(pub).items():
        if np.isnan(x[parent]) and not np.isnan(n[child]):
            narrow(parent, n[child], n[child] if complete else big)
    return bounds


def integer_attack(pub: pd.DataFrame, complete: bool = True) -> dict[int, tuple[float, float]]:
    """Exact integer bounds of every hidden count given everything published.

    Unknowns: the hidden cases, the hidden ``n`` of conditional cells and each
    group's unpublished residual (cases and n). Equations: every additive group,
    for cases and for n; cases <= n; a conditional cell's n <= its denominator's
    cases (equal when ``complete``: nobody skipped the follow-up question).
    """
    n = pub["n"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    x = pub["cases"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    big = float(np.nansum(n)) + 1
    var: dict[tuple[str, int], int] = {}
    upper: list[float] = []

    def term(kind, i):  # i < 0: the residual of group -1 - i, never published
        if i >= 0:
            value = (n if kind == "n" else x)[i]
            if not np.isnan(value):
                return None, value
        if (kind, i) not in var:
            var[(kind, i)] = len(upper)
            upper.append(big)
        return var[(kind, i)], 0.0

    rows: list[tuple[dict[int, float], float, float]] = []

    def add(terms, lo, hi):
        coef: dict[int, float] = {}
        const = 0.0
        for sign, (v, value) in terms:
            if v is None:
                const += sign * value
            else:
                coef[v] = coef.get(v, 0.0) + sign
        if coef:
            rows.append((coef, lo - const, hi - const))

    for g, (total, parts) in enumerate(additive_groups(pub)):
        for kind in ("x", "n"):
            res = term(kind, -1 - g)
            add([(1, term(kind, total)), *((-1, term(kind, i)) for i in parts), (-1, res)], 0, 0)
        add([(1, term("x", -1 - g)), (-1, term("n", -1 - g))], -np.inf, 0)
    for i in range(len(pub)):
        add([(1, term("x", i)), (-1, term("n", i))], -np.inf, 0)
    for child, parent in parent_rows(pub).items():
        add([(1, term("n", child)), (-1, term("x", parent))], -np.inf if not complete else 0, 0)

    size = len(upper)
    matrix = np.zeros((len(rows), size))
    lo = np.array([r[1] for r in rows])
    hi = np.array([r[2] for r in rows])
    for k, (coef, _, _) in enumerate(rows):
        for v, c in coef.items():
            matrix[k, v] = c
    constraint = LinearConstraint(matrix, lo, hi)
    bounds = Bounds(np.zeros(size), np.array(upper))
    out = {}
    for (kind, i), v in var.items():
        if kind != "x" or i < 0:
            continue
        ends = []
        for direction in (1.0, -1.0):
            c = np.zeros(size)
            c[v] = direction
            res = milp(c, constraints=constraint, integrality=np.ones(size), bounds=bounds)
            assert res.status == 0, res.message
            ends.append(direction * res.fun)
        out[i] = (ends[0], ends[1])
    return out


def assert_unrecoverable(
    original: pd.DataFrame, pub: pd.DataFrame, k: int, complete=True, protect_unreliable=False
):
    """No hidden count is pinned: k values for disclosive cells (all of 0..n if n < k).

    Cells hidden for another reason (unreliable) must not be pinned either when
    ``protect_unreliable``; otherwise the attack need only be consistent with them.
    """
    n = original["n"].to_numpy(dtype=float)
    disclosive = sensitive(original, k)
    attacks = (subtraction_attack(pub, complete), integer_attack(pub, complete))
    for attack in attacks:
        for i, (lo, hi) in attack.items():
            if n[i] == 0:
                continue
            need = min(k, n[i] + 1) if disclosive[i] else (2 if protect_unreliable else 1)
            true = original.at[i, "cases"]
            assert lo <= true <= hi, (i, lo, true, hi)
            assert hi - lo + 1 >= need, (
                f"row {i} {tuple(original.loc[i, ['domain', 'domain_value', 'indicator']])}: "
                f"cases pinned to [{lo}, {hi}] (true {true}, n {n[i]})"
            )
    assert (pub["suppressed"] | ~disclosive).all()


def naive(table: pd.DataFrame, hide: list[int], hide_n: tuple[int, ...] = ()) -> pd.DataFrame:
    """Primary suppression only: the given rows' counts blanked, nothing else."""
    out = table.copy()
    out["cases"] = out["cases"].astype("Int64")
    out["n"] = out["n"].astype("Int64")
    out.loc[hide, "cases"] = pd.NA
    out.loc[list(hide_n), "n"] = pd.NA
    out.loc[hide, "suppressed"] = True
    return out


def test_the_attackers_recover_what_primary_suppression_alone_leaves():
    table = make_table(
        [
            ("overall", "All", "violence", 40, 19),
            ("region", "A", "violence", 12, 6),
            ("region", "B", "violence", 10, 1),
            ("region", "C", "violence", 8, 5),
            ("region", "D", "violence", 10, 7),
        ]
    )
    leak = naive(table, [2])
    assert subtraction_attack(leak)[2] == (1, 1) and integer_attack(leak)[2] == (1, 1)
    # two hidden cells in one margin are still pinned through the other margin
    cells = [("overall", "All", "v", 40, 20), ("role", "MP", "v", 20, 10)]
    cells += [("role", "staff", "v", 20, 10)]
    for region, (n_mp, x_mp, n_st, x_st) in {"A": (10, 1, 10, 5), "B": (10, 9, 10, 5)}.items():
        cells += [
            ("region", region, "v", n_mp + n_st, x_mp + x_st),
            ("region+role", f"{region}+MP", "v", n_mp, x_mp),
            ("region+role", f"{region}+staff", "v", n_st, x_st),
        ]
    table = make_table(cells)
    rows = table.index[table["domain_value"].isin(["A+MP", "A+staff"])].tolist()
    assert integer_attack(naive(table, rows))[rows[0]] == (1, 1)
    # the child's n gives away its denominator's cases
    table = make_table(
        [
            ("overall", "All", "online", 20, 10),
            ("overall", "All", "doxing", 10, 5, "online"),
            ("region", "A", "online", 10, 2),
            ("region", "A", "doxing", 2, 1, "online"),
            ("region", "B", "online", 10, 8),
            ("region", "B", "doxing", 8, 4, "online"),
        ]
    )
    leak = naive(table, [2, 4, 3])
    assert subtraction_attack(leak)[2] == (2, 2) and integer_attack(leak)[2] == (2, 2)


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------
EXAMPLE = {
    "standard": "nchs",
    "min_n": 30,
    "min_effective_n": 30,
    "max_ci_width": 0.30,
    "relative_ci_width": 1.30,
    "relative_ci_width_above": 0.05,
    "review_df_below": 8,
    "disclosure_k": 3,
    "protect_unreliable": False,
}


def test_defaults_are_the_nchs_standard_with_k_3():
    assert parse_publication(None) == NCHS == Publication() == parse_publication({})
    assert parse_publication(EXAMPLE) == NCHS
    assert NCHS.as_dict() == EXAMPLE
    custom = parse_publication({"standard": "custom", "min_n": 20, "disclosure_k": 5})
    assert (custom.min_n, custom.min_effective_n, custom.disclosure_k) == (20, 30.0, 5)
    assert not parse_publication(NONE).reliability and NCHS.reliability


@pytest.mark.parametrize(
    ("raw", "message", "fix"),
    [
        ({"min_nn": 30}, "unknown key 'min_nn' under publication", "did you mean 'min_n'"),
        ({"standard": "NCHS"}, "publication.standard", "use one of: nchs, dhs, statcan, custom"),
        ({"standard": "custom", "min_n": -1}, "publication.min_n", ">= 0"),
        ({"standard": "custom", "min_n": 2.5}, "publication.min_n: must be a whole number", ""),
        ({"standard": "custom", "max_ci_width": 0}, "publication.max_ci_width", "> 0"),
        ({"standard": "custom", "max_ci_width": "0.3"}, "must be a number", ""),
        ({"disclosure_k": 0}, "publication.disclosure_k", ">= 1"),
        ({"disclosure_k": True}, "publication.disclosure_k", ""),
        ({"min_n": 20}, "the NCHS standard sets min_n to 30", "standard: custom"),
        ({"standard": "none", "max_ci_width": 0.2}, "no effect with `standard: none`", "custom"),
        ({"standard": "dhs", "min_n": 20}, "the DHS standard sets min_n to 25", "custom"),
        ({"standard": "dhs", "max_ci_width": 0.2}, "no effect with `standard: dhs`", "custom"),
        (
            {"standard": "statcan", "cv_grades": [0.05, 0.1, 0.15, 0.2, 0.3]},
            "the Statistics Canada standard sets cv_grades to [0.05, 0.1, 0.15, 0.25, 0.35]",
            "custom",
        ),
        ({"standard": "statcan", "min_n": 30}, "no effect with `standard: statcan`", ""),
        ({"standard": "custom", "caution_n": 40}, "no effect with `standard: custom`", "NCHS"),
        ({"standard": "statcan", "cv_grades": [0.1]}, "publication.cv_grades", ""),
        (["nchs"], "publication: must be a mapping", "standard: nchs"),
    ],
)
def test_invalid_publication_blocks_name_the_key_and_the_fix(raw, message, fix):
    with pytest.raises(ConfigError) as info:
        parse_publication(raw, source="config.yaml")
    text = str(info.value)
    assert message in text and fix in text and "config.yaml" in text


def test_the_config_schema_accepts_the_block_and_nothing_else():
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw["publication"] = dict(EXAMPLE)
    parse_config(raw, root=ROOT)
    for bad in ({"k": 3}, {"standard": "who"}, {"relative_ci_width_above": 1}):
        wrong = copy.deepcopy(raw)
        wrong["publication"] = bad
        with pytest.raises(ConfigError, match="publication"):
            validate_document(wrong, "config", source="config.yaml")


# --------------------------------------------------------------------------------------
# the reliability standard, rule by rule
# --------------------------------------------------------------------------------------
def check(n=100, p=0.5, low=0.45, high=0.55, n_eff=100.0, df=np.inf, rules=NCHS):
    r = reliability_checks([n], [p], [low], [high], [n_eff], [df], rules)
    return bool(r.suppress[0]), r.reasons[0], r.notes[0]


def test_a_comfortable_cell_passes():
    assert check() == (False, "", "")


@pytest.mark.parametrize(
    ("fires", "passes", "reason"),
    [
        ({"n": 29}, {"n": 30}, "sample size n < 30"),
        ({"n_eff": 29.99}, {"n_eff": 30.0}, "effective sample size < 30"),
        ({"n_eff": 29.99}, {"n_eff": 30 * (1 - 1e-13)}, "effective sample size < 30"),
        ({"low": 0.4, "high": 0.7}, {"low": 0.4, "high": 0.6999}, "CI width >= 30 points"),
        ({"low": 0.2, "high": 0.5}, {"low": 0.2001, "high": 0.5}, "CI width >= 30 points"),
        (
            {"p": 0.1, "low": 0.05, "high": 0.1801},
            {"p": 0.1, "low": 0.05, "high": 0.18},
            "relative CI width > 130%",
        ),
        (
            {"p": 0.01, "low": 0.0, "high": 0.0501},
            {"p": 0.01, "low": 0.0, "high": 0.05},
            "relative CI width > 130%",
        ),
    ],
)
def test_each_suppression_rule_fires_at_its_threshold_and_not_on_the_other_side(
    fires, passes, reason
):
    # n and n_eff: 30 passes, just below fails; width: 0.30 fails (even when rounding
    # makes 0.7 - 0.4 smaller), just below passes; relative width: exactly 130% passes
    # (0.13 / 0.1), just above fails, and only for intervals wider than 0.05
    assert check(**fires) == (True, reason, "")
    assert check(**passes) == (False, "", "")


def test_review_flags_and_the_complement_footnote():
    assert check(df=7.99) == (False, "", "df < 8: review")
    assert check(df=8) == (False, "", "")
    assert check(p=0.0, low=0.0, high=0.03, n_eff=100) == (False, "", "estimate 0%: review")
    assert check(p=1.0, low=0.97, high=1.0) == (False, "", "estimate 100%: review")
    # p = 0: the relative width is not applied; the absolute width is
    assert check(p=0.0, low=0.0, high=0.12, n_eff=30, n=30) == (False, "", "estimate 0%: review")
    assert check(p=0.0, low=0.0, high=0.31)[:2] == (True, "CI width >= 30 points")
    # the complement: 0.13 / (1 - 0.9) is exactly 130%, not more
    assert check(p=0.9, low=0.82, high=0.95) == (False, "", "")
    footnote = "complement relative CI width > 130%"
    assert check(p=0.9, low=0.8199, high=0.95) == (False, "", footnote)
    assert check(p=0.9, low=0.8199, high=0.95, df=3) == (False, "", f"df < 8: review; {footnote}")


def test_every_rule_that_fires_is_listed_and_notes_only_on_published_cells():
    assert check(n=10, n_eff=10, p=0.5, low=0.2, high=0.8, df=2) == (
        True,
        "sample size n < 30; effective sample size < 30; CI width >= 30 points",
        "",
    )
    assert check(n=0, p=np.nan, low=np.nan, high=np.nan, n_eff=np.nan) == (False, "", "")
    assert check(p=0.5, low=np.nan, high=np.nan, n_eff=np.nan)[:2] == (True, "interval undefined")


def test_custom_thresholds_and_no_standard():
    rules = parse_publication({"standard": "custom", "min_n": 10, "min_effective_n": 10})
    assert check(n=12, n_eff=12, rules=rules) == (False, "", "")
    assert check(n=9, n_eff=9, rules=rules)[1] == "sample size n < 10; effective sample size < 10"
    none = parse_publication(NONE)
    assert check(n=2, n_eff=2, low=0.0, high=1.0, df=1, rules=none) == (False, "", "")


def test_the_named_standards_round_trip_through_their_settings():
    assert parse_publication({"standard": "dhs"}) == DHS
    assert (DHS.min_n, DHS.caution_n, DHS.disclosure_k) == (25, 50, 3)
    assert parse_publication({"standard": "statcan", "disclosure_k": 5}).cv_grades == (
        0.05,
        0.10,
        0.15,
        0.25,
        0.35,
    )
    # what the workflow passes on (the resolved block) parses to the same standard
    for rules in (NCHS, DHS, STATCAN, parse_publication(NONE)):
        assert parse_publication(rules.as_dict()) == rules
    assert DHS.as_dict() == {
        "standard": "dhs",
        "min_n": 25,
        "disclosure_k": 3,
        "protect_unreliable": False,
        "caution_n": 50,
    }


@pytest.mark.parametrize(
    ("n", "suppressed", "caution"),
    [(0, False, False), (1, True, False), (24, True, False), (25, False, True)]
    + [(49, False, True), (50, False, False), (1000, False, False)],
)
def test_dhs_hides_fewer_than_25_cases_and_marks_25_to_49(n, suppressed, caution):
    # a width and effective size that NCHS would suppress play no part under DHS
    r = reliability_checks([n], [0.5], [0.0], [1.0], [1.0], [1.0], DHS)
    assert (bool(r.suppress[0]), bool(r.caution[0])) == (suppressed, caution)
    assert r.reasons[0] == ("fewer than 25 unweighted cases" if suppressed else "")
    assert r.notes[0] == ("25-49 unweighted cases: use with caution" if caution else "")
    assert r.grade is None


@pytest.mark.parametrize(
    ("cv", "grade"),
    [(0.0, "A"), (0.0499, "A"), (0.05, "B"), (0.0999, "B"), (0.10, "C"), (0.1499, "C")]
    + [(0.15, "D"), (0.2499, "D"), (0.25, "E"), (0.3499, "E"), (0.35, "F"), (2.0, "F")],
)
def test_statcan_grades_by_coefficient_of_variation_at_each_boundary(cv, grade):
    # a bound belongs to the worse grade: A is CV 0% to 4.99%, ..., F is 35% and more
    p = np.array([0.3, 0.7])
    r = reliability_checks([40, 40], p, p, p, [40, 40], [np.inf] * 2, STATCAN, se=cv * p)
    assert list(r.grade) == [grade, grade]
    assert list(r.suppress) == [grade == "F"] * 2 and list(r.caution) == [grade == "E"] * 2
    reason = "CV 35% or more: too unreliable to be published (F)" if grade == "F" else ""
    note = "CV 25% to under 35%: use with caution (E)" if grade == "E" else ""
    assert list(r.reasons) == [reason] * 2 and list(r.notes) == [note] * 2


def test_statcan_at_the_edges_and_without_se():
    r = reliability_checks(
        [40, 40, 40, 0], [0.0, 1.0, 0.4, np.nan], [0] * 4, [1] * 4, [40] * 4, [np.inf] * 4,
        STATCAN, se=[0.0, 0.0, np.nan, np.nan],
    )  # fmt: skip
    assert list(r.grade) == ["", "A", "", ""]
    assert list(r.suppress) == [False, False, True, False]
    assert list(r.notes) == ["estimate 0%: review", "estimate 100%: review", "", ""]
    assert r.reasons[2] == "interval undefined"
    with pytest.raises(ValueError, match="se"):
        reliability_checks([40], [0.5], [0.4], [0.6], [40], [np.inf], STATCAN)


def test_the_marks_of_each_standard_name_their_thresholds():
    assert marks(NCHS).hidden_mark == "" and marks(None) == marks(NCHS)
    dhs = marks(DHS)
    assert (dhs.hidden_mark, dhs.parentheses, dhs.grades) == ("*", True, False)
    assert "25–49 unweighted cases" in dhs.notes[0] and "fewer than 25" in dhs.notes[1]
    statcan = marks(STATCAN)
    assert (statcan.hidden_mark, statcan.parentheses, statcan.grades) == ("F", False, True)
    assert "A under 5%, B 5% to under 10%" in statcan.notes[2]
    assert "E 25% to under 35%" in statcan.notes[2] and "35% or more" in statcan.notes[1]


def test_disclosure_control_applies_under_dhs_and_statcan():
    # 60 respondents: regions of 30 (25-49: caution under DHS), 28 and 2
    table = make_table(
        [
            ("overall", "All", "violence", 60, 30),
            ("region", "A", "violence", 30, 15),
            ("region", "B", "violence", 28, 14),
            ("region", "C", "violence", 2, 1),
        ]
    )
    dhs = disclose(table, {"standard": "dhs"}).set_index("domain_value")
    assert list(dhs.columns[-2:]) == ["n_suppressed", "caution"]
    # a disclosive cell says only that: not which count is small, nor the standard's reasons
    assert dhs.loc["C", "flag"] == "fewer than 3 cases or non-cases"
    # C is hidden; so B (the smaller region) is hidden by secondary suppression
    assert dhs.loc["B", "flag"] == "secondary suppression" and dhs.loc["B", "suppressed"]
    assert not dhs.loc["B", "caution"]  # a hidden cell carries no mark
    assert dhs.loc["A", "caution"] and dhs.loc["A", "flag"] == (
        "25-49 unweighted cases: use with caution"
    )
    assert not dhs.loc["All", "caution"] and dhs.loc["All", "flag"] == ""
    statcan = disclose(table, {"standard": "statcan"}).set_index("domain_value")
    assert list(statcan.columns[-3:]) == ["n_suppressed", "caution", "grade"]
    # its grade would bound its estimate too: a disclosive cell has none
    assert statcan.loc["C", "grade"] == "" and statcan.loc["C", "flag"] == (
        "fewer than 3 cases or non-cases"
    )
    assert statcan.loc["B", "flag"] == "secondary suppression" and statcan.loc["B", "grade"] == ""
    cv = table["se"] / table["estimate"]
    assert cv.iloc[0] < 0.15 and statcan.loc["All", "grade"] == "C"  # se 0.0645 on 0.5
    assert statcan.loc["A", "grade"] == "D"  # cv 0.18
    for rules in ({"standard": "dhs"}, {"standard": "statcan"}):
        once = disclose(table, rules)
        pd.testing.assert_frame_equal(disclose(once, rules), once)


def test_a_statcan_f_keeps_its_grade_when_hidden():
    table = make_table(
        [("overall", "All", "violence", 40, 20), ("region", "A", "violence", 40, 20)]
    )
    table.loc[1, "se"] = 0.2  # cv 40%: F
    table.loc[0, "se"] = 0.2
    out = disclose(table, {"standard": "statcan"})
    assert list(out["grade"]) == ["F", "F"] and out["suppressed"].all()
    assert out["estimate"].isna().all()
    pd.testing.assert_frame_equal(disclose(out, {"standard": "statcan"}), out)


def test_nchs_interval_is_clopper_pearson_on_the_capped_effective_sample_size():
    n, x = 40.0, 5.0
    p = x / n
    low, high, n_eff = nchs_interval([n], [p], [np.sqrt(p * (1 - p) / n)], [np.inf])
    assert n_eff[0] == pytest.approx(n, rel=1e-12)
    assert low[0] == pytest.approx(stats.beta.ppf(0.025, x, n - x + 1), rel=1e-9)
    assert high[0] == pytest.approx(stats.beta.isf(0.025, x + 1, n - x), rel=1e-9)
    # a design: deff 2 on 10 df gives n* = 20, times (t_39 / t_10)^2
    se = np.sqrt(2 * p * (1 - p) / n)
    _, _, n_eff = nchs_interval([n], [p], [se], [10.0])
    factor = (stats.t.ppf(0.975, n - 1) / stats.t.ppf(0.975, 10)) ** 2
    assert n_eff[0] == pytest.approx(20 * factor, rel=1e-9)
    # p = 0: n, and the one-sided Clopper–Pearson bound; df = 0: no effective sample
    low, high, n_eff = nchs_interval([n, n], [0.0, p], [0.0, se], [np.inf, 0.0])
    assert (low[0], n_eff[0]) == (0.0, n) and high[0] == pytest.approx(1 - 0.025 ** (1 / n))
    assert n_eff[1] == 0.0


def test_reliability_end_to_end_on_a_table():
    table = make_table(
        [
            ("overall", "All", "violence", 60, 30),
            ("region", "A", "violence", 30, 15),
            ("region", "B", "violence", 29, 15),
            ("region", "C", "violence", 1, 0),
        ]
    )
    out = disclose(table).set_index("domain_value")
    assert not out.loc["All", "suppressed"] and out.loc["All", "flag"] == ""
    assert out.loc["A", "suppressed"] and out.loc["A", "flag"] == "CI width >= 30 points"
    assert out.loc["B", "flag"].startswith("sample size n < 30; effective sample size < 30")
    assert out.loc["C", "flag"] == "fewer than 3 cases or non-cases"


# --------------------------------------------------------------------------------------
# disclosure control
# --------------------------------------------------------------------------------------
def test_the_k_rule_on_cases_and_non_cases():
    x = np.arange(11)
    hide, why = disclosure_checks(10, x, 3)
    assert list(x[hide]) == [1, 2, 8, 9]
    assert why[1] == why[2] == "fewer than 3 cases"
    assert why[8] == why[9] == "fewer than 3 non-cases"
    assert why[0] == why[3] == why[10] == ""
    hide, _ = disclosure_checks(10, x, 5)
    assert list(x[hide]) == [1, 2, 3, 4, 6, 7, 8, 9]
    assert not disclosure_checks(10, x, 1)[0].any()


def test_zero_cells_are_disclosive_only_in_groups_smaller_than_k():
    hide, why = disclosure_checks([2, 2, 2, 1, 1, 3, 3, 0], [0, 1, 2, 0, 1, 0, 3, 0], 3)
    assert list(hide) == [True, True, True, True, True, False, False, False]
    assert why[0] == "fewer than 3 non-cases" and why[2] == "fewer than 3 cases"
    assert why[1] == "fewer than 3 cases; fewer than 3 non-cases"


def test_a_single_small_cell_gets_a_secondary_partner():
    table = make_table(
        [
            ("overall", "All", "violence", 40, 19),
            ("region", "A", "violence", 12, 6),
            ("region", "B", "violence", 10, 1),
            ("region", "C", "violence", 8, 5),
            ("region", "D", "violence", 10, 7),
        ]
    )
    out = disclose(table, NONE)
    assert cell(out, "region", "B").flag == "fewer than 3 cases or non-cases"
    assert cell(out, "region", "C").flag == "secondary suppression"  # smallest n
    assert not cell(out, "overall", "All").suppressed
    assert out["suppressed"].sum() == 2
    assert_unrecoverable(table, out, 3)


def test_two_suppressed_cells_holding_fewer_than_k_cases_together_need_a_third():
    table = make_table(
        [
            ("overall", "All", "violence", 40, 12),
            ("region", "A", "violence", 12, 1),
            ("region", "B", "violence", 10, 1),
            ("region", "C", "violence", 8, 0),
            ("region", "D", "violence", 10, 10),
        ]
    )
    out = disclose(table, NONE)
    # A and B are disclosive and together hold 2 cases; C (0 cases) would not help
    assert list(out.loc[out["suppressed"], "domain_value"]) == ["A", "B", "D"]
    assert cell(out, "region", "D").flag == "secondary suppression"
    assert_unrecoverable(table, out, 3)


def test_the_unpublished_residual_counts_as_hidden_but_small_residuals_do_not_protect():
    # 2 respondents without a region (1 case): B's case and the residual's add up to 2 < k
    table = make_table(
        [
            ("overall", "All", "violence", 24, 8),
            ("region", "A", "violence", 11, 6),
            ("region", "B", "violence", 11, 1),
        ]
    )
    out = disclose(table, NONE)
    assert cell(out, "region", "A").suppressed and cell(out, "region", "A").flag == (
        "secondary suppression"
    )
    assert_unrecoverable(table, out, 3)
    # a residual of 12 respondents with 6 cases protects B by itself
    roomy = make_table(
        [
            ("overall", "All", "violence", 34, 13),
            ("region", "A", "violence", 11, 6),
            ("region", "B", "violence", 11, 1),
        ]
    )
    out = disclose(roomy, NONE)
    assert list(out.loc[out["suppressed"], "domain_value"]) == ["B"]
    assert_unrecoverable(roomy, out, 3)


def region_by_role(counts: dict[str, tuple[int, int, int, int]]) -> pd.DataFrame:
    """Overall, regions, roles and region × role from (n, cases) of MPs and staff by region."""
    cells, sums = [], np.zeros(4, dtype=int)
    for region, (n_mp, x_mp, n_st, x_st) in counts.items():
        cells += [
            ("region", region, "violence", n_mp + n_st, x_mp + x_st),
            ("region+role", f"{region}+MP", "violence", n_mp, x_mp),
            ("region+role", f"{region}+staff", "violence", n_st, x_st),
        ]
        sums += (n_mp, x_mp, n_st, x_st)
    n_mp, x_mp, n_st, x_st = (int(v) for v in sums)
    cells += [("role", "MP", "violence", n_mp, x_mp), ("role", "staff", "violence", n_st, x_st)]
    return make_table([("overall", "All", "violence", n_mp + n_st, x_mp + x_st), *cells])


def test_crossings_are_protected_within_each_margin():
    table = region_by_role({"A": (12, 6, 8, 4), "B": (10, 5, 10, 5), "C": (10, 1, 10, 9)})
    out = disclose(table, NONE)
    assert cell(out, "region+role", "C+MP").flag == "fewer than 3 cases or non-cases"
    # subtraction from C, from MP and from overall must all fail: a rectangle at least
    hidden = set(out.loc[out["suppressed"], "domain_value"])
    assert {"C+MP", "C+staff"} <= hidden
    assert len(hidden & {"A+MP", "B+MP"}) >= 1
    assert_unrecoverable(table, out, 3)


def test_the_published_populations_keep_their_figures_and_a_total_is_hidden_instead():
    # the 2025 breakdown: the staff's cell has 2 cases; overall = MPs + staff exactly
    cells = [
        ("overall", "All", "violence", 70, 11),
        ("role", "MP", "violence", 52, 9),
        ("role", "staff", "violence", 18, 2),
        ("age", "young", "violence", 29, 5),
        ("age", "old", "violence", 41, 6),
    ]
    table = make_table(cells)
    plain = disclose(table, NONE)
    assert cell(plain, "role", "MP").flag == "secondary suppression"  # the smaller n
    assert not cell(plain, "overall", "All").suppressed
    out = disclose(table, NONE, [("role", "MP"), ("role", "staff")])
    assert cell(out, "role", "staff").flag == "fewer than 3 cases or non-cases"
    assert not cell(out, "role", "MP").suppressed
    assert cell(out, "role", "MP").estimate == pytest.approx(9 / 52)
    # the total goes, and with it one age group, else overall = young + old
    assert cell(out, "overall", "All").flag == "secondary suppression"
    assert cell(out, "age", "young").flag == "secondary suppression"  # smaller than old
    assert not cell(out, "age", "old").suppressed
    assert_unrecoverable(table, out, 3)
    # within a crossing: the MPs of region C keep their figure, region C is hidden
    table = region_by_role({"A": (12, 6, 8, 4), "B": (10, 5, 10, 5), "C": (18, 8, 2, 1)})
    plain = disclose(table, NONE)
    assert cell(plain, "region+role", "C+MP").suppressed
    out = disclose(table, NONE, [("role", "MP")])
    assert cell(out, "region+role", "C+staff").flag == "fewer than 3 cases or non-cases"
    assert not cell(out, "region+role", "C+MP").suppressed
    assert cell(out, "region", "C").flag == "secondary suppression"
    assert not out.loc[out["domain_value"].str.endswith("MP"), "suppressed"].any()
    assert_unrecoverable(table, out, 3)


def test_labels_with_the_crossing_separator_are_split_by_known_values():
    cells = [("overall", "All", "violence", 40, 20)]
    for age, region, n, x in [
        ("under 65", "North", 10, 5),
        ("under 65", "South", 10, 5),
        ("65+", "North", 10, 1),
        ("65+", "South", 10, 9),
    ]:
        cells.append(("region+age", f"{region}+{age}", "violence", n, x))
    cells += [
        ("region", "North", "violence", 20, 6),
        ("region", "South", "violence", 20, 14),
        ("age", "under 65", "violence", 20, 10),
        ("age", "65+", "violence", 20, 10),
    ]
    out = disclose(make_table(cells), NONE)
    hidden = set(out.loc[out["suppressed"], "domain_value"])
    assert {"North+65+", "North+under 65", "South+65+", "South+under 65"} <= hidden


def test_of_whom_cells_follow_their_denominator_and_hide_n():
    cells = [
        ("overall", "All", "online", 40, 20),
        ("overall", "All", "doxing", 20, 8, "online"),
    ]
    for region, n, x, x_child in [("A", 14, 9, 4), ("B", 13, 2, 1), ("C", 13, 9, 3)]:
        cells += [
            ("region", region, "online", n, x),
            ("region", region, "doxing", x, x_child, "online"),
        ]
    table = make_table(cells)
    out = disclose(table, NONE)
    b = cell(out, "region", "B", "doxing")
    assert b.suppressed and pd.isna(b.n) and b.n_suppressed
    assert b.flag == "denominator suppressed: n hidden"  # its own reasons would tell its n
    online = out[out["indicator"] == "online"]
    partner = online.loc[online["flag"] == "secondary suppression", "domain_value"].tolist()
    assert partner == ["C"]  # the smallest n
    c = cell(out, "region", "C", "doxing")
    assert c.suppressed and pd.isna(c.n) and c.flag == "denominator suppressed: n hidden"
    assert not cell(out, "region", "A", "doxing").n_suppressed
    assert_unrecoverable(table, out, 3)


def test_a_chain_of_conditional_indicators():
    cells = [
        ("overall", "All", "a", 30, 20),
        ("overall", "All", "b", 20, 10, "a"),
        ("overall", "All", "c", 10, 5, "b"),
        ("region", "X", "a", 28, 19),
        ("region", "X", "b", 19, 9, "a"),
        ("region", "X", "c", 9, 4, "b"),
        ("region", "Y", "a", 2, 1),
        ("region", "Y", "b", 1, 1, "a"),
        ("region", "Y", "c", 1, 1, "b"),
    ]
    out = disclose(make_table(cells), NONE)
    y = out[out["domain_value"] == "Y"]
    assert y["suppressed"].all() and y["n"].isna().tolist() == [False, True, True]
    assert_unrecoverable(make_table(cells), out, 3)


# --------------------------------------------------------------------------------------
# what a published table carries
# --------------------------------------------------------------------------------------
def test_suppressed_rows_carry_no_value_and_no_interval_note():
    table = make_table(
        [
            ("overall", "All", "violence", 40, 11),
            ("region", "A", "violence", 20, 0),
            ("region", "B", "violence", 18, 9),
            ("region", "C", "violence", 2, 2),
            ("region", "D", "violence", 0, 0),
        ]
    )
    assert cell(table, "region", "C").flag.startswith("estimate 1: wilson")
    out = disclose(table, NONE)
    hidden = out[out["suppressed"]]
    assert set(hidden["domain_value"]) == {"B", "C", "D"}
    assert hidden[HIDDEN_VALUES].isna().all().all()
    assert cell(out, "region", "C").flag == "fewer than 3 cases or non-cases"
    assert cell(out, "region", "D").flag == "no respondents"
    assert cell(out, "region", "A").flag == "estimate 0: wilson with n=20"
    assert cell(out, "region", "A").cases == 0
    assert not out["n"].isna().any()


def test_columns_dtypes_and_the_input_left_alone():
    table = make_table([("overall", "All", "violence", 40, 1), ("region", "A", "violence", 40, 1)])
    table["note"] = "x"
    before = table.copy()
    out = disclose(table)
    pd.testing.assert_frame_equal(table, before)
    assert list(out.columns) == [*COLUMNS, "note", *EXTRA_COLUMNS]
    assert str(out["n"].dtype) == "Int64" and str(out["cases"].dtype) == "Int64"
    assert out["suppressed"].dtype == bool and out["n_suppressed"].dtype == bool


def test_disclosing_twice_changes_nothing():
    cells = [("overall", "All", "online", 40, 20), ("overall", "All", "doxing", 20, 8, "online")]
    for region, n, x, x_child in [("A", 14, 9, 4), ("B", 13, 2, 1), ("C", 13, 9, 3)]:
        cells += [
            ("region", region, "online", n, x),
            ("region", region, "doxing", x, x_child, "online"),
        ]
    table = make_table(cells)
    for rules in (NONE, None, {"standard": "custom", "min_n": 10, "min_effective_n": 10}):
        once = disclose(table, rules)
        pd.testing.assert_frame_equal(disclose(once, rules), once)


def test_tables_that_do_not_add_up_or_lack_columns_are_refused():
    table = make_table([("overall", "All", "violence", 10, 5), ("region", "A", "violence", 12, 5)])
    with pytest.raises(ValueError, match="n is smaller than the sum"):
        disclose(table, NONE)
    with pytest.raises(ValueError, match="lacks the column"):
        disclose(table.drop(columns=["se"]))


# --------------------------------------------------------------------------------------
# random tables: the attacker never pins a suppressed count
# --------------------------------------------------------------------------------------
@st.composite
def surveys(draw):
    rnd = draw(st.randoms(use_true_random=False))
    size = draw(st.integers(4, 45))
    regions = [f"R{i}" for i in range(draw(st.integers(3, 5)))]
    weights = [rnd.choice([0.3, 1, 3]) for _ in regions]
    region = rnd.choices(regions, weights=weights, k=size)
    region = [None if rnd.random() < 0.08 else r for r in region]
    role = rnd.choices(["MP", "staff"], weights=[rnd.choice([1, 3]), 1], k=size)
    p1, p2, p3 = (rnd.choice([0.05, 0.2, 0.5, 0.8, 0.97]) for _ in range(3))
    skip = draw(st.booleans())  # item non-response on the follow-up question
    psych, online, doxing = [], [], []
    for _ in range(size):
        psych.append(np.nan if rnd.random() < 0.05 else float(rnd.random() < p1))
        o = float(rnd.random() < p2)
        online.append(o)
        if o == 1:
            doxing.append(np.nan if skip and rnd.random() < 0.2 else float(rnd.random() < p3))
        else:
            doxing.append(np.nan)
    frame = pd.DataFrame(
        {
            "region": pd.Categorical(region, categories=regions),
            "role": pd.Categorical(role, categories=["MP", "staff"]),
            "psychological": psych,
            "online": online,
            "doxing": doxing,
        }
    )
    rules = draw(
        st.sampled_from(
            [
                NONE,
                {"standard": "none", "disclosure_k": 4},
                {"standard": "custom", "min_n": 6, "min_effective_n": 6, "max_ci_width": 0.6},
                {"standard": "custom", "min_n": 6, "max_ci_width": 0.6, "protect_unreliable": True},
            ]
        )
    )
    complete = not any(o == 1 and np.isnan(d) for o, d in zip(online, doxing, strict=True))
    populations = draw(
        st.sampled_from(
            [(), (("role", "MP"),), (("role", "MP"), ("role", "staff")), (("region", "R0"),)]
        )
    )
    return frame, rules, complete, populations


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(surveys())
def test_no_suppressed_count_is_ever_recovered(survey):
    """Whatever populations are kept published, nothing suppressed can be recovered."""
    frame, rules, complete, populations = survey
    book = parse_codebook(copy.deepcopy(CODEBOOK))
    table = estimate_wave(frame, book, wave="w", by=[["region"], ["role"], ["region", "role"]])
    out = disclose(table, rules, populations)
    parsed = parse_publication(rules)
    assert_unrecoverable(table, out, parsed.disclosure_k, complete, parsed.protect_unreliable)
    hidden = out[out["suppressed"]]
    assert hidden[HIDDEN_VALUES].isna().all().all()
    pd.testing.assert_frame_equal(disclose(out, rules, populations), out)


# --------------------------------------------------------------------------------------
# the embedded 2016 survey: 55 women MPs, 4 of them from the Arab States
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def global_2016():
    book = load_codebook(ROOT / "data" / "raw" / "2016-global" / "codebook.yaml")
    raw = read_responses(ROOT / "data" / "raw" / "2016-global" / "responses.csv", sheet=book.sheet)
    frame = ingest(raw, book, wave="2016-global", design={}).frame
    by = [["region"], ["role"], ["age_group"], ["region", "role"]]
    return estimate_wave(frame, book, wave="2016-global", by=by)


@pytest.mark.parametrize("rules", [None, NONE, {"protect_unreliable": True}])
def test_the_2016_survey(global_2016, rules):
    out = disclose(global_2016, rules)
    arab = out[out["domain_value"].str.startswith("Arab States")]
    assert (arab["n"] == 4).all()
    if rules is None or "protect_unreliable" in rules:
        assert arab["suppressed"].all()
        assert arab["flag"].str.contains("sample size n < 30|cases or non-cases").all()
    else:  # disclosure only: 1 to 2 cases or non-cases among the 4 is suppressed
        few = sensitive(global_2016, 3)[arab.index]
        assert few.any() and arab.loc[few, "suppressed"].all()
    protect = parse_publication(rules).protect_unreliable
    assert_unrecoverable(global_2016, out, 3, protect_unreliable=protect)
    assert out.loc[out["suppressed"], HIDDEN_VALUES].isna().all().all()
    pd.testing.assert_frame_equal(disclose(out, rules), out)
