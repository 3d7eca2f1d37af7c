"""Comparisons of prevalence: differences between domains and waves, and tests of association.

Three products, configured by the ``comparisons:`` block of ``config.yaml``
(:func:`parse_comparisons`):

* **Differences within a wave** (:func:`compare_within`): two values of a
  domain (``MP`` - ``staff``), each value against all the other respondents of
  the wave (``Africa`` - ``all others``), or every pair of values.
* **Differences between waves** (:func:`compare_between`): the same indicator
  (same id and denominator) in two waves, overall or in one domain value.
* **Tests of association** (:func:`association_tests`): indicator x domain,
  Rao-Scott corrected F and chi-square tests, as R's ``svychisq``.

:func:`contrasts` combines the differences, withholds those that would show a
suppressed cell and adjusts the p-values for multiple testing.

Differences
-----------
Every difference is ``a - b``: ``value_a - value_b`` within a wave, and the wave
listed later minus the wave listed earlier between waves.

*Simple random sample* (the wave has no ``design:``, the "classical" path of
:mod:`prevalence.estimate`). The two sides are disjoint groups of respondents
(two values of a domain, a value and the rest of the wave, or two waves), hence
independent binomial samples. The interval is Newcombe's hybrid score interval
(Newcombe 1998, method 10), built from the two Wilson intervals ``[l_i, u_i]``::

    d - sqrt((p_a - l_a)^2 + (u_b - p_b)^2),  d + sqrt((u_a - p_a)^2 + (p_b - l_b)^2)

It stays inside [-1, 1] and behaves well with small groups and estimates near
0 or 1. The test is the score test of equal proportions, ``z = d / sqrt(pbar (1 -
pbar) (1/n_a + 1/n_b))`` with the pooled proportion ``pbar``; ``z^2`` is
Pearson's chi-square of the 2 x 2 table, so it agrees with
:func:`association_tests` for a domain of two values. ``se`` is the unpooled
``sqrt(p_a (1 - p_a)/n_a + p_b (1 - p_b)/n_b)``, ``df`` is ``inf``, ``method``
is ``"newcombe"`` and ``statistic`` is ``z``.

*Complex design* (weights, strata, clusters, FPC or replicate weights). Within a
wave both sides are estimated from the same sample, so
``Var(a - b) = Var(a) + Var(b) - 2 Cov(a, b)`` with the covariance from the
same linearisation (:func:`prevalence.variance.ratio_covariance`: PSU totals of
the two domains' scores, stratified, with the FPC and lonely-PSU rules of the
prevalence table; or the covariance of the two vectors of replicate estimates
with ``scale``, ``rscales`` and ``mse``). This is what R's
``svycontrast(svyby(~y, ~domain, design, svymean, covmat = TRUE), ...)``
computes. The degrees of freedom are those of the rows the comparison is
made on: the respondents with a valid answer to the indicator (for an "of
whom" indicator, within its denominator) and a known value of the domain, R's
``degf(subset(design, !is.na(y) & !is.na(domain)))`` (PSUs minus strata of
those rows, or the rank of their replicate weights minus 1). It is the design
df of the test of association of the same indicator and domain, and what a
reviewer gets from ``confint(svycontrast(svyby(~y, ~domain, sub, svymean,
covmat = TRUE), ...), df = degf(sub))`` with ``sub`` that subset. Between waves the samples are independent: ``Var = Var(a) + Var(b)`` from the
standard errors of the prevalence table, and ``df`` is the smaller of the two
estimates' degrees of freedom (a conservative Welch-type choice: the difference
is no better known than its less precise side). The interval is
``d -/+ t_{df, 1 - alpha/2} se`` (clipped to [-1, 1] and flagged), ``statistic``
is ``t = d / se`` and the p-value is two-sided from Student's t with ``df``
(normal when ``df`` is infinite); ``method`` is ``"wald"``. A wave without a
design compared with a wave with one also takes this path (its ``df`` is
infinite, so the design wave's ``df`` is used).

"All others" is the complement of a value: the respondents of the wave with a
valid answer and a known value of the domain other than that value.
Respondents whose domain value is missing are in neither side: their value is
unknown, so they cannot be counted as "not in" it.

Suppression
-----------
A difference is not published (``suppressed`` true, the estimates,
difference, interval, statistic and p-values blank) when a side is suppressed
in the published prevalence table (rows matched by wave, domain, domain value,
indicator and denominator). The flag reads ``"side suppressed: MP (<the
table's flags>)"``. "All others" is the overall cell minus the value's cell, so
it is withheld when either of those is suppressed. A side with no row in the
published table was never reviewed for disclosure and is withheld too. Counts
(``n_a``, ``n_b``) are blanked where the table hides the cell's ``n``.
Withheld differences do not enter the multiple-testing adjustment: an
adjusted p-value is a function of every p-value of its family, and Holm's
step-down values can equal a multiple of a withheld one.

Tests of association
--------------------
For each indicator and domain, among the respondents with a valid answer and
a known domain value (R: ``svychisq(~ind + domain, subset(design, !is.na(ind)
& !is.na(domain)))``), with ``N`` those rows, ``p`` the 2c cell proportions
(indicator varying fastest) and ``V`` their design covariance, ``X^2`` is
Pearson's statistic of the table ``N p`` and, with ``C`` the interaction
contrasts of the saturated model, ``D = diag(p)``::

    Delta = (C' D^-1 C / N)^-1 (C' D^-1 V D^-1 C)

* ``F`` (second-order Rao-Scott): ``F = X^2 / tr(Delta)`` on
  ``d0 = tr(Delta)^2 / tr(Delta^2)`` and ``d0 nu`` degrees of freedom, ``nu``
  the design degrees of freedom of those rows.
* ``Chisq`` (first-order): the value is ``X^2`` and the p-value is
  ``P(chi^2_{(r-1)(c-1)} > X^2 / mean(diag Delta))``; ``ndf`` holds
  ``(r-1)(c-1)`` and ``ddf`` is blank.

These equal R's ``svychisq(..., statistic = "F")`` and ``"Chisq"`` (survey
4.1-1) on the oracle data to about 1e-14. Without a design (simple random
sample) both reduce to Pearson's chi-square test of the table of counts
(``Delta`` is the identity): ``Chisq`` is ``X^2`` on ``(r-1)(c-1)`` df and
``F = X^2 / ((r-1)(c-1))`` on ``(r-1)(c-1)`` and infinite df, the same p-value.

A test over a domain with a suppressed cell is still computed and published,
flagged ``"domain has suppressed cells"``: a test summarises the whole table
and is not a cell (``on_suppressed="suppress"`` withholds it instead). Note
that with the published margins a chi-square statistic is one more equation
on the cells, so where two cells of one table are withheld it can narrow them
down; withhold tests in that case if the cells are disclosive.

Multiple comparisons
--------------------
P-values are adjusted as ``statsmodels.stats.multitest.multipletests`` does, to
the bit (the arithmetic is repeated here: importing it costs scipy.stats), by
Holm's step-down method (Holm 1979; the default: it controls the
family-wise error rate under any dependence) or Benjamini-Hochberg
(``fdr_bh``, Benjamini & Hochberg 1995: the false discovery rate), within
families: ``indicator`` (every comparison of one indicator, all waves),
``comparison`` (one comparison, e.g. MP - staff in one wave, over all
indicators) or ``all``. ``adjust_method`` and ``family`` say which, on every row.
The F and chi-square versions of a test are adjusted separately.

References
----------
Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a
practical and powerful approach to multiple testing. Journal of the Royal
Statistical Society B 57(1):289-300.

Holm S (1979). A simple sequentially rejective multiple test procedure.
Scandinavian Journal of Statistics 6(2):65-70.

Newcombe RG (1998). Interval estimation for the difference between independent
proportions: comparison of eleven methods. Statistics in Medicine
17(8):873-890.

Rao JNK, Scott AJ (1984). On chi-squared tests for multiway contingency tables
with cell proportions estimated from survey data. The Annals of Statistics
12(1):46-60.

Wilson EB (1927). Probable inference, the law of succession, and statistical
inference. Journal of the American Statistical Association 22(158):209-212.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special  # scipy.stats's normal, t, F and chi-square call these

from prevalence.codebook import Codebook
from prevalence.contract import ALL, KEY_COLUMNS, OVERALL, join_flags, read_cells, truthy
from prevalence.design import wave_design
from prevalence.errors import ConfigError
from prevalence.estimate import classical_proportions, partition
from prevalence.intervals import wilson_bounds
from prevalence.schema import validate_document

__all__ = [
    "ADJUST_METHODS",
    "ASSOCIATION_COLUMNS",
    "CONTRAST_COLUMNS",
    "FAMILIES",
    "OTHERS",
    "BetweenSpec",
    "Comparisons",
    "WithinSpec",
    "adjust_pvalues",
    "association_tests",
    "compare_between",
    "compare_within",
    "contrasts",
    "newcombe_interval",
    "parse_comparisons",
    "rao_scott",
    "score_test",
    "suppress_contrasts",
    "valid_rows_df",
]

log = logging.getLogger(__name__)

#: ``value_b`` of a value compared with the rest of its wave.
OTHERS = "all others"
ADJUST_METHODS = ("holm", "fdr_bh", "none")
FAMILIES = ("indicator", "comparison", "all")
WITHIN = "within"
BETWEEN = "between"
METHOD_NEWCOMBE = "newcombe"
METHOD_WALD = "wald"

CONTRAST_COLUMNS = [
    "comparison",
    "wave_a",
    "wave_b",
    "indicator",
    "denominator",
    "domain",
    "value_a",
    "value_b",
    "n_a",
    "n_b",
    "estimate_a",
    "estimate_b",
    "difference",
    "se",
    "ci_low",
    "ci_high",
    "method",
    "level",
    "df",
    "statistic",
    "p_value",
    "p_adjusted",
    "adjust_method",
    "family",
    "suppressed",
    "flag",
]

ASSOCIATION_COLUMNS = [
    "wave",
    "indicator",
    "denominator",
    "domain",
    "statistic",
    "value",
    "ndf",
    "ddf",
    "p_value",
    "design_df",
    "method",
    "n",
    "p_adjusted",
    "adjust_method",
    "family",
    "suppressed",
    "flag",
]

#: Values hidden in a withheld difference.
_HIDDEN = (
    "estimate_a",
    "estimate_b",
    "difference",
    "se",
    "ci_low",
    "ci_high",
    "statistic",
    "p_value",
    "p_adjusted",
)

FLAG_SIDE = "side suppressed"
FLAG_NOT_PUBLISHED = "not in the published table"
FLAG_DOMAIN_SUPPRESSED = "domain has suppressed cells"
METHOD_RAO_SCOTT = "Pearson X^2: Rao & Scott adjustment"
METHOD_PEARSON = "Pearson X^2 (simple random sample)"


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WithinSpec:
    """One ``comparisons.within`` entry.

    Attributes
    ----------
    domain
        The domain id (a codebook domain).
    pairs
        Named pairs ``(a, b)``: the difference ``a - b``.
    against
        ``"others"`` (each value against the rest of the wave), ``"pairs"``
        (every pair of values, in the codebook's order) or None (named pairs).
    indicators, waves
        Restrict to these indicators / waves (None: all).
    """

    domain: str
    pairs: tuple[tuple[str, str], ...] = ()
    against: str | None = None
    indicators: tuple[str, ...] | None = None
    waves: tuple[str, ...] | None = None


@dataclass(frozen=True)
class BetweenSpec:
    """One ``comparisons.between_waves`` entry.

    Attributes
    ----------
    waves
        The waves, in order; differences are later minus earlier.
    pairs
        ``"consecutive"`` (each wave against the one before) or ``"all"``.
    domain, value
        The cell compared: ``overall`` / ``All``, or e.g. ``role`` / ``MP``.
    indicators
        Restrict to these indicators (None: every indicator the two waves share).
    """

    waves: tuple[str, ...]
    pairs: str = "consecutive"
    domain: str = OVERALL
    value: str = ALL
    indicators: tuple[str, ...] | None = None

    def wave_pairs(self) -> list[tuple[str, str]]:
        """``(a, b)`` pairs of waves: a is the later one."""
        w = self.waves
        if self.pairs == "consecutive":
            return [(w[i + 1], w[i]) for i in range(len(w) - 1)]
        return [(w[j], w[i]) for i in range(len(w)) for j in range(i + 1, len(w))]


@dataclass(frozen=True)
class Comparisons:
    """The validated ``comparisons:`` block.

    Attributes
    ----------
    within, between_waves
        The comparisons to make.
    association
        Domains for the tests of association; None means the domains named in
        ``within``.
    adjust
        ``holm`` (default), ``fdr_bh`` or ``none``.
    family
        ``indicator`` (default), ``comparison`` or ``all``.
    """

    within: tuple[WithinSpec, ...] = ()
    between_waves: tuple[BetweenSpec, ...] = ()
    association: tuple[str, ...] | None = None
    adjust: str = "holm"
    family: str = "indicator"

    def association_domains(self) -> tuple[str, ...]:
        """Domains tested for association with every indicator."""
        if self.association is not None:
            return self.association
        return tuple(dict.fromkeys(w.domain for w in self.within))


def _texts(values: Any) -> tuple[str, ...] | None:
    return None if values is None else tuple(str(v) for v in values)


def parse_comparisons(
    raw: Mapping[str, Any] | None,
    *,
    source: str | Path = "config.yaml",
    waves: Sequence[str] | None = None,
) -> Comparisons:
    """Validate the ``comparisons:`` block of the configuration.

    Parameters
    ----------
    raw
        The block; ``None`` or empty means no comparisons.
    source
        The configuration file, for messages.
    waves
        The configured wave ids; when given, every wave named in the block
        must be one of them.

    Returns
    -------
    Comparisons

    Raises
    ------
    ConfigError
        Naming the key and the fix: an unknown key, a wrong type, an entry with
        both or neither of ``pairs`` and ``against``, a pair of one value twice,
        a value named ``all others`` (reserved), an unknown adjustment or
        family, a wave listed twice or not configured.
    """
    source = str(source)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(
            "comparisons: must be a mapping of keys",
            file=source,
            fix="write `comparisons:` followed by indented keys (within, between_waves, adjust)",
        )
    validate_document(raw, "config", source=source, block="comparisons")
    known = None if waves is None else [str(w) for w in waves]

    def check_waves(names: Sequence[str], key: str) -> None:
        if known is None:
            return
        for name in names:
            if name not in known:
                raise ConfigError(
                    f"{key}: wave {name!r} is not configured",
                    file=source,
                    fix=f"use wave ids from `waves:`: {', '.join(known)}",
                )

    within = []
    for i, entry in enumerate(raw.get("within") or []):
        key = f"comparisons.within[{i}]"
        pairs = tuple((str(a), str(b)) for a, b in entry.get("pairs") or [])
        for j, (a, b) in enumerate(pairs):
            if a == b:
                raise ConfigError(
                    f"{key}.pairs[{j}]: compares {a!r} with itself",
                    file=source,
                    fix="name two different values of the domain",
                )
            if OTHERS in (a, b):
                raise ConfigError(
                    f"{key}.pairs[{j}]: {OTHERS!r} is reserved",
                    file=source,
                    fix="write `against: others` to compare each value with the rest of the wave",
                )
        wave_names = _texts(entry.get("waves"))
        if wave_names:
            check_waves(wave_names, f"{key}.waves")
        within.append(
            WithinSpec(
                domain=str(entry["domain"]),
                pairs=pairs,
                against=entry.get("against"),
                indicators=_texts(entry.get("indicators")),
                waves=wave_names,
            )
        )
    between = []
    for i, entry in enumerate(raw.get("between_waves") or []):
        key = f"comparisons.between_waves[{i}]"
        names = tuple(str(w) for w in entry["waves"])
        if len(set(names)) != len(names):
            raise ConfigError(
                f"{key}.waves: a wave is listed twice", file=source, fix="list each wave once"
            )
        check_waves(names, f"{key}.waves")
        domain = entry.get("domain", OVERALL)
        if isinstance(domain, Mapping):
            dom, value = str(domain["domain"]), str(domain["value"])
        else:
            dom, value = OVERALL, ALL
        between.append(
            BetweenSpec(
                waves=names,
                pairs=str(entry.get("pairs", "consecutive")),
                domain=dom,
                value=value,
                indicators=_texts(entry.get("indicators")),
            )
        )
    return Comparisons(
        within=tuple(within),
        between_waves=tuple(between),
        association=_texts(raw.get("association")),
        adjust=str(raw.get("adjust", "holm")),
        family=str(raw.get("family", "indicator")),
    )


def _as_spec(spec: Comparisons | Mapping[str, Any] | None) -> Comparisons:
    if isinstance(spec, Comparisons):
        return spec
    return parse_comparisons(spec, source="comparison settings")


# --------------------------------------------------------------------------------------
# intervals and tests for a difference
# --------------------------------------------------------------------------------------
def newcombe_interval(
    x_a: Any, n_a: Any, x_b: Any, n_b: Any, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for ``p_a - p_b`` (Newcombe 1998, method 10).

    Parameters
    ----------
    x_a, n_a, x_b, n_b
        Cases and sample sizes of two independent binomial samples (arrays
        broadcast together).
    level
        Confidence level.

    Returns
    -------
    low, high
        ``d - sqrt((p_a - l_a)^2 + (u_b - p_b)^2)`` and
        ``d + sqrt((u_a - p_a)^2 + (p_b - l_b)^2)`` with ``[l, u]`` the Wilson
        (1927) score intervals of each proportion; NaN where a sample is empty.
    """
    x_a, n_a, x_b, n_b = (np.asarray(v, dtype=np.float64) for v in (x_a, n_a, x_b, n_b))
    l_a, u_a = wilson_bounds(x_a, n_a, level)
    l_b, u_b = wilson_bounds(x_b, n_b, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a, p_b = x_a / n_a, x_b / n_b
    d = p_a - p_b
    low = d - np.sqrt((p_a - l_a) ** 2 + (u_b - p_b) ** 2)
    high = d + np.sqrt((u_a - p_a) ** 2 + (p_b - l_b) ** 2)
    empty = (n_a <= 0) | (n_b <= 0)
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def score_test(x_a: Any, n_a: Any, x_b: Any, n_b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Score (pooled) z test of ``p_a = p_b`` for two independent binomial samples.

    Returns
    -------
    z, p_value
        ``z = (p_a - p_b) / sqrt(pbar (1 - pbar) (1/n_a + 1/n_b))`` and its
        two-sided normal p-value; NaN when a sample is empty or every answer is
        the same (``pbar`` 0 or 1). ``z^2`` is Pearson's chi-square of the 2 x 2
        table without continuity correction.
    """
    x_a, n_a, x_b, n_b = (np.asarray(v, dtype=np.float64) for v in (x_a, n_a, x_b, n_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x_a + x_b) / (n_a + n_b)
        se0 = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
        z = (x_a / n_a - x_b / n_b) / se0
    z = np.where((se0 > 0) & np.isfinite(se0), z, np.nan)
    return z, 2.0 * special.ndtr(-np.abs(z))


def _text(mask: np.ndarray, text: str) -> np.ndarray:
    return np.where(mask, text, "").astype(object)


def _newcombe_rows(x_a, n_a, x_b, n_b, level: float) -> dict[str, np.ndarray]:
    x_a, n_a, x_b, n_b = (np.asarray(v, dtype=np.float64) for v in (x_a, n_a, x_b, n_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a, p_b = x_a / n_a, x_b / n_b
        se = np.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    low, high = newcombe_interval(x_a, n_a, x_b, n_b, level)
    z, p = score_test(x_a, n_a, x_b, n_b)
    empty = (n_a <= 0) | (n_b <= 0)
    flag = join_flags(
        _text(empty, "no respondents"),
        _text(~empty & np.isnan(z), "no variation: test undefined"),
    )
    return {
        "estimate_a": p_a,
        "estimate_b": p_b,
        "difference": p_a - p_b,
        "se": np.where(empty, np.nan, se),
        "ci_low": low,
        "ci_high": high,
        "method": np.full(x_a.shape, METHOD_NEWCOMBE, dtype=object),
        "df": np.full(x_a.shape, np.inf),
        "statistic": z,
        "p_value": p,
        "flag": flag,
    }


def _wald_rows(p_a, p_b, se, df, level: float) -> dict[str, np.ndarray]:
    p_a, p_b, se, df = (np.asarray(v, dtype=np.float64) for v in (p_a, p_b, se, df))
    d = p_a - p_b
    missing = np.isnan(d) | np.isnan(se) | np.isnan(df)
    no_df = ~missing & (df <= 0)
    ok = ~missing & ~no_df
    dfx = np.where(ok, df, 1.0)
    q = np.where(
        np.isinf(dfx), special.ndtri(0.5 + level / 2), special.stdtrit(dfx, 0.5 + level / 2)
    )
    low, high = d - q * se, d + q * se
    clipped = ok & ((low < -1) | (high > 1))
    low, high = np.clip(low, -1.0, 1.0), np.clip(high, -1.0, 1.0)
    zero = ok & (se == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(ok & ~zero, d / np.where(zero, 1.0, se), np.nan)
    p = np.where(
        np.isinf(dfx), 2 * special.ndtr(-np.abs(stat)), 2 * special.stdtr(dfx, -np.abs(stat))
    )
    no_estimate = np.isnan(d)
    flag = join_flags(
        _text(no_estimate, "no estimate"),
        _text(missing & ~no_estimate, "variance or df undefined"),
        _text(no_df, "df = 0: interval undefined"),
        _text(zero, "se = 0: test undefined"),
        _text(clipped, "clipped to [-1, 1]"),
    )
    return {
        "estimate_a": p_a,
        "estimate_b": p_b,
        "difference": d,
        "se": se,
        "ci_low": np.where(ok, low, np.nan),
        "ci_high": np.where(ok, high, np.nan),
        "method": np.full(d.shape, METHOD_WALD, dtype=object),
        "df": df,
        "statistic": stat,
        "p_value": np.where(ok, p, np.nan),
        "flag": flag,
    }


def _frame(meta: Mapping[str, Any], values: Mapping[str, np.ndarray], level: float) -> pd.DataFrame:
    out = pd.DataFrame({**meta, **values})
    out["level"] = level
    out["p_adjusted"] = np.nan
    out["adjust_method"] = ""
    out["family"] = ""
    out["suppressed"] = False
    return out.reindex(columns=CONTRAST_COLUMNS)


def _empty_contrasts() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CONTRAST_COLUMNS})


# --------------------------------------------------------------------------------------
# within a wave
# --------------------------------------------------------------------------------------
def _sides(spec: WithinSpec, values: list[str]) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """``(value_a, value_b, members_a, members_b)`` over the domain's values."""
    m = len(values)
    index = {v: i for i, v in enumerate(values)}
    eye = np.eye(m, dtype=bool)
    out = []
    if spec.against == "others":
        for i, v in enumerate(values):
            out.append((v, OTHERS, eye[i], ~eye[i]))
    elif spec.against == "pairs":
        for i in range(m):
            for j in range(i + 1, m):
                out.append((values[i], values[j], eye[i], eye[j]))
    else:
        for a, b in spec.pairs:
            if a in index and b in index:
                out.append((a, b, eye[index[a]], eye[index[b]]))
            else:
                absent = [v for v in (a, b) if v not in index]
                log.info(
                    "%s: %s is not a value of %s in this wave; no comparison",
                    spec.domain,
                    " and ".join(absent),
                    spec.domain,
                )
    return out


def _indicator_ids(codebook: Codebook, wanted: Sequence[str] | None) -> list[str]:
    ids = list(codebook.indicators)
    if wanted is None:
        return ids
    return [i for i in ids if i in set(wanted)]


def compare_within(
    frame: pd.DataFrame,
    codebook: Codebook,
    design_spec: Mapping[str, Any] | None,
    spec: Comparisons | Mapping[str, Any],
    *,
    wave: str,
    level: float = 0.95,
) -> pd.DataFrame:
    """Differences between values of a domain within one wave (unadjusted p-values).

    Parameters
    ----------
    frame
        The wave's harmonized responses (ingest's output).
    codebook
        The wave's codebook.
    design_spec
        The wave's ``design:`` block; empty for a simple random sample.
    spec
        The comparisons (:class:`Comparisons` or the raw block).
    wave
        The wave id; entries restricted to other waves are skipped.
    level
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        :data:`CONTRAST_COLUMNS`, one row per entry x pair x indicator, with
        ``comparison = "within"``, ``wave_a = wave_b = wave`` and ``p_adjusted``
        blank (see :func:`contrasts`). Named values that the wave does not have
        give no row.

    Notes
    -----
    See the module docstring: Newcombe's interval and the score test without a
    design; with one, a Wald interval on the ``degf`` of the rows with a valid
    answer and a known domain value (:func:`valid_rows_df`), with the
    covariance of the two sides from :func:`prevalence.variance.ratio_covariance`.
    """
    spec = _as_spec(spec)

    entries = [e for e in spec.within if e.waves is None or wave in e.waves]
    if not entries:
        return _empty_contrasts()
    survey = wave_design(frame, design_spec, source=f"wave {wave}")
    pieces = []
    for entry in entries:
        part = partition(frame, [entry.domain], codebook_path=codebook.path)
        sides = _sides(entry, part.values)
        ids = _indicator_ids(codebook, entry.indicators)
        if not sides or not ids:
            continue
        y = frame[ids].to_numpy(dtype=np.float64)
        k, c = len(ids), len(sides)
        a = np.array([s[2] for s in sides])  # (c, m)
        b = np.array([s[3] for s in sides])
        meta = {
            "comparison": WITHIN,
            "wave_a": wave,
            "wave_b": wave,
            "indicator": np.repeat(ids, c),
            "denominator": np.repeat([codebook.indicators[i].denominator or "all" for i in ids], c),
            "domain": entry.domain,
            "value_a": np.tile([s[0] for s in sides], k),
            "value_b": np.tile([s[1] for s in sides], k),
        }
        if survey is None:
            counts = classical_proportions(y, part.codes, len(part.values))  # (k, m)
            n, cases = counts["n"].astype(np.float64), counts["cases"].astype(np.float64)
            n_a, n_b = (n @ a.T).reshape(-1), (n @ b.T).reshape(-1)  # indicator-major
            x_a, x_b = (cases @ a.T).reshape(-1), (cases @ b.T).reshape(-1)
            values = _newcombe_rows(x_a, n_a, x_b, n_b, level)
        else:
            values, n_a, n_b = _design_within(survey, y, part.codes, a, b, level)
        meta["n_a"] = n_a.astype(np.int64)
        meta["n_b"] = n_b.astype(np.int64)
        pieces.append(_frame(meta, values, level))
    return pd.concat(pieces, ignore_index=True) if pieces else _empty_contrasts()


def valid_rows_df(design: Any, y: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Design df of the rows with a valid answer and a known domain value, per indicator.

    R's ``degf(subset(design, !is.na(y) & !is.na(domain)))``: the df of every
    comparison and test of association of an indicator across a domain.

    Parameters
    ----------
    design
        The wave's :class:`~prevalence.design.SurveyDesign`.
    y
        (n_rows, k) indicators: 0, 1, NaN outside the denominator.
    codes
        (n_rows,) domain codes, -1 where the value is missing.

    Returns
    -------
    numpy.ndarray
        (k,) degrees of freedom; NaN for an indicator without such rows.
    """
    from prevalence.variance import domain_proportions

    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    ysub = np.where((np.asarray(codes) >= 0)[:, None], y, np.nan)
    return domain_proportions(design, ysub, np.zeros(len(codes), dtype=np.intp), 1).df[:, 0]


def _design_within(survey, y, codes, a, b, level: float):
    """Wald rows for every indicator x pair of sides: one covariance for all of them."""
    from prevalence.variance import cell_ratio_covariance

    k = y.shape[1]
    c, m = a.shape
    # ratio (j * c + p) * 2 + s: indicator j, pair p, side s (a, b); yes among the side
    sides = np.stack([a, b], axis=1).astype(np.float64)  # (c, 2, m)
    den = np.repeat(np.broadcast_to(sides[None], (k, c, 2, m)).reshape(-1, m)[:, :, None], 2, 2)
    num = den * np.array([0.0, 1.0])
    ind = np.repeat(np.arange(k), c * 2)
    rc = cell_ratio_covariance(survey, y, codes, m, ind, num, den)
    ia = np.arange(k * c) * 2
    ib = ia + 1
    var = rc.cov[ia, ia] + rc.cov[ib, ib] - 2.0 * rc.cov[ia, ib]
    scale = rc.cov[ia, ia] + rc.cov[ib, ib]
    var = np.where((var < 0) & (var > -1e-12 * scale), 0.0, var)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(var)
    df = np.repeat(valid_rows_df(survey, y, codes), c)  # indicator-major, as the columns
    values = _wald_rows(rc.estimate[ia], rc.estimate[ib], se, df, level)
    n_a, n_b = rc.n[ia], rc.n[ib]
    empty = (n_a == 0) | (n_b == 0)
    values["flag"] = np.where(empty, "no respondents", values["flag"])
    return values, n_a, n_b


# --------------------------------------------------------------------------------------
# between waves
# --------------------------------------------------------------------------------------
def _numeric(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)


def compare_between(
    table: pd.DataFrame, spec: Comparisons | Mapping[str, Any], *, level: float = 0.95
) -> pd.DataFrame:
    """Differences of an indicator between waves (independent samples; unadjusted p-values).

    Parameters
    ----------
    table
        A prevalence table with the waves (the columns of
        :data:`prevalence.estimate.COLUMNS`; the published table will do).
    spec
        The comparisons (:class:`Comparisons` or the raw block).
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        :data:`CONTRAST_COLUMNS` with ``comparison = "between"``: for each entry
        and pair of waves, one row per indicator that both waves have in the
        cell with the same denominator. An indicator of one wave only gives no
        row.

    Notes
    -----
    Both waves without a design (``df`` infinite in the table): Newcombe's
    interval and the score test on the table's ``cases`` and ``n``. Otherwise a
    Wald interval with ``se = sqrt(se_a^2 + se_b^2)`` on the smaller of the two
    estimates' ``df`` (module docstring).
    """
    spec = _as_spec(spec)
    pieces = []
    wave_col = table["wave"].astype(str)
    for entry in spec.between_waves:
        cell = table[
            (table["domain"].astype(str) == entry.domain)
            & (table["domain_value"].astype(str) == entry.value)
        ]
        for wave_a, wave_b in entry.wave_pairs():
            rows_a = cell[wave_col.loc[cell.index] == wave_a]
            rows_b = cell[wave_col.loc[cell.index] == wave_b]
            both = rows_a.merge(rows_b, on="indicator", suffixes=("_a", "_b"), sort=False)
            if entry.indicators is not None:
                both = both[both["indicator"].isin(entry.indicators)]
            differ = both["denominator_a"].astype(str) != both["denominator_b"].astype(str)
            for ind in both.loc[differ, "indicator"]:
                log.warning(
                    "%s: denominators differ between %s and %s; not compared", ind, wave_a, wave_b
                )
            both = both[~differ]
            if both.empty:
                continue
            df_a, df_b = _numeric(both["df_a"]), _numeric(both["df_b"])
            classical = np.isinf(df_a) & np.isinf(df_b)
            n_a, n_b = _numeric(both["n_a"]), _numeric(both["n_b"])
            newcombe = _newcombe_rows(
                _numeric(both["cases_a"]), n_a, _numeric(both["cases_b"]), n_b, level
            )
            se = np.sqrt(_numeric(both["se_a"]) ** 2 + _numeric(both["se_b"]) ** 2)
            wald = _wald_rows(
                _numeric(both["estimate_a"]),
                _numeric(both["estimate_b"]),
                se,
                np.fmin(df_a, df_b),
                level,
            )
            values = {key: np.where(classical, newcombe[key], wald[key]) for key in newcombe}
            empty = (n_a == 0) | (n_b == 0)
            values["flag"] = np.where(empty, "no respondents", values["flag"])
            meta = {
                "comparison": BETWEEN,
                "wave_a": wave_a,
                "wave_b": wave_b,
                "indicator": both["indicator"].to_numpy(),
                "denominator": both["denominator_a"].to_numpy(),
                "domain": entry.domain,
                "value_a": entry.value,
                "value_b": entry.value,
                "n_a": pd.array(n_a, dtype="Int64")
                if np.isnan(n_a).any()
                else n_a.astype(np.int64),
                "n_b": pd.array(n_b, dtype="Int64")
                if np.isnan(n_b).any()
                else n_b.astype(np.int64),
            }
            pieces.append(_frame(meta, values, level))
    return pd.concat(pieces, ignore_index=True) if pieces else _empty_contrasts()


# --------------------------------------------------------------------------------------
# suppression, families, adjustment
# --------------------------------------------------------------------------------------
def _published_cells(published: pd.DataFrame) -> pd.DataFrame:
    """One row per published cell: key columns, suppressed, reason, n hidden."""
    keys = list(KEY_COLUMNS)
    read = read_cells(published)
    cells = read[keys].copy()
    cells["_suppressed"] = read["suppressed"].to_numpy()
    cells["_reason"] = read["flag"].to_numpy()
    cells["_n_hidden"] = (read["n_hidden"] | read["n"].isna()).to_numpy()
    return cells.drop_duplicates(keys)


def _lookup(
    rows: pd.DataFrame, cells: pd.DataFrame, wave: str, value: str | None, domain: str | None = None
) -> pd.DataFrame:
    """The published cell of each row's side: suppressed, reason, n hidden, found."""
    key = pd.DataFrame(
        {
            "wave": rows[wave].astype(str).to_numpy(),
            "domain": rows["domain"].astype(str).to_numpy() if domain is None else domain,
            "domain_value": rows[value].astype(str).to_numpy() if value is not None else ALL,
            "indicator": rows["indicator"].astype(str).to_numpy(),
            "denominator": rows["denominator"].astype(str).to_numpy(),
        }
    )
    found = key.merge(cells, how="left", on=list(key.columns), sort=False, indicator=True)
    return pd.DataFrame(
        {
            "suppressed": found["_suppressed"].fillna(True).astype(bool).to_numpy(),
            "reason": found["_reason"].fillna(FLAG_NOT_PUBLISHED).to_numpy(),
            "n_hidden": found["_n_hidden"].fillna(True).astype(bool).to_numpy(),
            "found": (found["_merge"] == "both").to_numpy(),
        }
    )


def _side_text(name: pd.Series, side: pd.DataFrame) -> np.ndarray:
    reason = side["reason"].astype(str).to_numpy()
    text = name.astype(str).to_numpy().astype(object)
    with_reason = text + " (" + reason + ")"
    return np.where(side["suppressed"].to_numpy(), np.where(reason != "", with_reason, text), "")


def suppress_contrasts(rows: pd.DataFrame, published: pd.DataFrame | None) -> pd.DataFrame:
    """Withhold differences with a suppressed side in the published prevalence table.

    Parameters
    ----------
    rows
        Output of :func:`compare_within` / :func:`compare_between`.
    published
        The published (disclosed) prevalence table with ``suppressed`` and
        ``flag``; None publishes every difference.

    Returns
    -------
    pandas.DataFrame
        ``rows`` with ``suppressed``, ``flag`` (``"side suppressed: staff
        (fewer than 3 cases)"``) and, for withheld rows, the estimates,
        difference, interval, statistic and p-values blank; ``n_a`` / ``n_b``
        blank where the table hides that cell's ``n``.
    """
    out = rows.copy()
    if published is None or out.empty:
        out["suppressed"] = False if out.empty else np.zeros(len(out), dtype=bool)
        return out
    cells = _published_cells(published)
    side_a = _lookup(out, cells, "wave_a", "value_a")
    others = (out["value_b"].astype(str) == OTHERS).to_numpy() & (
        out["comparison"].astype(str) == WITHIN
    ).to_numpy()
    side_b = _lookup(out, cells, "wave_b", "value_b")
    overall = _lookup(out, cells, "wave_a", None, domain=OVERALL)
    # "all others" = overall minus the value: withheld with either
    b_suppressed = np.where(others, overall["suppressed"], side_b["suppressed"])
    b_text = np.where(
        others,
        _side_text(pd.Series([OVERALL] * len(out)), overall),
        _side_text(out["value_b"], side_b),
    )
    a_name = out["value_a"].astype(str)
    between = (out["comparison"].astype(str) == BETWEEN).to_numpy()
    a_name = a_name.where(~between, out["wave_a"].astype(str) + " " + a_name)
    b_name = (
        out["value_b"]
        .astype(str)
        .where(~between, out["wave_b"].astype(str) + " " + out["value_b"].astype(str))
    )
    if between.any():
        b_text = np.where(between, _side_text(b_name, side_b), b_text)
    a_text = _side_text(a_name, side_a)
    hide = side_a["suppressed"].to_numpy() | b_suppressed
    reasons = join_flags(np.asarray(a_text, dtype=object), np.asarray(b_text, dtype=object))
    out["suppressed"] = hide
    out["flag"] = np.where(hide, FLAG_SIDE + ": " + reasons.astype(str), out["flag"].astype(object))
    for col in _HIDDEN:
        out[col] = np.where(hide, np.nan, pd.to_numeric(out[col], errors="coerce"))
    n_a_hidden = side_a["n_hidden"].to_numpy()
    n_b_hidden = np.where(others, side_a["n_hidden"] | overall["n_hidden"], side_b["n_hidden"])
    out["n_a"] = pd.array(pd.to_numeric(out["n_a"], errors="coerce"), dtype="Int64")
    out["n_b"] = pd.array(pd.to_numeric(out["n_b"], errors="coerce"), dtype="Int64")
    out.loc[n_a_hidden, "n_a"] = pd.NA
    out.loc[n_b_hidden, "n_b"] = pd.NA
    return out


def _family_labels(rows: pd.DataFrame, family: str) -> np.ndarray:
    if family == "all":
        return np.full(len(rows), "all", dtype=object)
    if family == "indicator":
        return ("indicator " + rows["indicator"].astype(str)).to_numpy()
    wave = np.where(
        rows["comparison"].astype(str) == BETWEEN,
        rows["wave_a"].astype(str) + " \u2212 " + rows["wave_b"].astype(str),
        rows["wave_a"].astype(str),
    )
    pair = np.where(
        rows["comparison"].astype(str) == BETWEEN,
        rows["domain"].astype(str) + " " + rows["value_a"].astype(str),
        rows["domain"].astype(str)
        + " "
        + rows["value_a"].astype(str)
        + " \u2212 "
        + rows["value_b"].astype(str),
    )
    return (pd.Series(wave, dtype=object) + ": " + pd.Series(pair, dtype=object)).to_numpy()


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment: statsmodels' ``multipletests(p, method="holm")``, its
    arithmetic in its order (the same bits), without importing scipy.stats for it."""
    order = np.argsort(p)
    adjusted = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    adjusted[adjusted > 1] = 1
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def _benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg: statsmodels' ``multipletests(p, method="fdr_bh")``, as :func:`_holm`."""
    order = np.argsort(p)
    rank = np.arange(1, len(p) + 1) / float(len(p))
    adjusted = np.minimum.accumulate((p[order] / rank)[::-1])[::-1]
    adjusted[adjusted > 1] = 1
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


_ADJUST = {"holm": _holm, "fdr_bh": _benjamini_hochberg}


def adjust_pvalues(
    table: pd.DataFrame, *, method: str = "holm", by: Sequence[str] = ("family",)
) -> pd.DataFrame:
    """Adjust ``p_value`` for multiple testing within groups of rows.

    Parameters
    ----------
    table
        Rows with ``p_value``, ``suppressed`` and the grouping columns.
    method
        ``holm`` (Holm 1979), ``fdr_bh`` (Benjamini & Hochberg 1995) or
        ``none`` (``p_adjusted = p_value``).
    by
        Columns whose values define one family.

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``p_adjusted`` and ``adjust_method``. Rows without a
        p-value (undefined, or withheld) take no part and get none.
    """
    if method not in ADJUST_METHODS:
        raise ConfigError(
            f"comparisons.adjust: unknown method {method!r}",
            fix=f"use one of: {', '.join(ADJUST_METHODS)}",
        )
    out = table.copy()
    p = pd.to_numeric(out["p_value"], errors="coerce").to_numpy(dtype=np.float64)
    use = np.isfinite(p) & ~truthy(out["suppressed"])
    adjusted = np.full(len(out), np.nan)
    if method == "none":
        adjusted[use] = p[use]
    elif use.any():
        keys = out.loc[use, list(by)].astype(str).agg("\x1f".join, axis=1).to_numpy()
        index = np.flatnonzero(use)
        for key in dict.fromkeys(keys):  # one call per family
            sel = index[keys == key]
            adjusted[sel] = _ADJUST[method](p[sel])
    out["p_adjusted"] = adjusted
    out["adjust_method"] = method
    return out


def contrasts(
    parts: Sequence[pd.DataFrame],
    spec: Comparisons | Mapping[str, Any],
    *,
    published: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Combine differences, withhold suppressed ones, adjust p-values per family.

    Parameters
    ----------
    parts
        Outputs of :func:`compare_within` (each wave) and :func:`compare_between`.
    spec
        The comparisons: ``adjust`` and ``family``.
    published
        The published prevalence table (``suppressed``, ``flag``), or None.

    Returns
    -------
    pandas.DataFrame
        :data:`CONTRAST_COLUMNS`: within-wave rows first, in the order given.
    """
    spec = _as_spec(spec)
    pieces = [p for p in parts if p is not None and not p.empty]
    if not pieces:
        return _empty_contrasts()
    rows = pd.concat(pieces, ignore_index=True)
    rows = suppress_contrasts(rows, published)
    rows["family"] = _family_labels(rows, spec.family)
    rows = adjust_pvalues(rows, method=spec.adjust)
    return rows[CONTRAST_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------
# tests of association: Rao-Scott
# --------------------------------------------------------------------------------------
def _contrast_matrix(r: int, c: int) -> np.ndarray:
    """Interaction columns of ``model.matrix(~r*c)`` residualised on ``~r+c``; rows r fastest."""
    rows = np.tile(np.arange(r), c)
    cols = np.repeat(np.arange(c), r)
    main = np.column_stack(
        [np.ones(r * c)]
        + [(rows == i).astype(float) for i in range(1, r)]
        + [(cols == j).astype(float) for j in range(1, c)]
    )
    inter = np.column_stack(
        [(rows == i) & (cols == j) for j in range(1, c) for i in range(1, r)]
    ).astype(float)
    coef, *_ = np.linalg.lstsq(main, inter, rcond=None)
    return inter - main @ coef


def _pearson(table: np.ndarray) -> float:
    """Pearson's X^2 of a two-way table (no continuity correction)."""
    total = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, (table - expected) ** 2 / expected, 0.0)
    return float(terms.sum())


def _rao_scott_table(p: np.ndarray, cov: np.ndarray, n_rows: float, nu: float, r: int, c: int):
    """F and Chisq results of one r x c table (cells r fastest) from p, V, N and nu."""
    x2 = _pearson(n_rows * p.reshape(c, r).T)
    cmat = _contrast_matrix(r, c)
    inv_p = np.divide(1.0, p, out=np.zeros_like(p), where=p > 0)
    cd = cmat * inv_p[:, None]  # D^-1 C
    denom = cmat.T @ cd / n_rows
    numer = cd.T @ cov @ cd
    delta = np.linalg.solve(denom, numer)
    tr = float(np.trace(delta))
    tr2 = float(np.trace(delta @ delta))
    d0 = tr * tr / tr2
    f_value = x2 / tr
    df_chisq = delta.shape[0]
    return {
        "F": (f_value, d0, d0 * nu, float(special.fdtrc(d0, d0 * nu, f_value))),
        "Chisq": (
            x2,
            float(df_chisq),
            np.nan,
            float(special.chdtrc(df_chisq, x2 / (tr / df_chisq))),
        ),
    }


def rao_scott(design: Any, y: np.ndarray, codes: np.ndarray, m: int) -> pd.DataFrame:
    """Rao-Scott tests of each indicator against one domain (R's ``svychisq``).

    Parameters
    ----------
    design
        A :class:`~prevalence.design.SurveyDesign`, or None for a simple random
        sample (Pearson's chi-square test).
    y
        (n_rows, k) indicators: 0, 1, NaN outside the denominator.
    codes
        (n_rows,) domain codes in ``[0, m)``, -1 for a missing value.
    m
        Number of domain values.

    Returns
    -------
    pandas.DataFrame
        Two rows per indicator (``F`` then ``Chisq``): ``indicator`` (column
        index), ``statistic``, ``value``, ``ndf``, ``ddf``, ``p_value``,
        ``design_df``, ``n``, ``flag``.

    Notes
    -----
    The covariance of the 2c cell proportions of every indicator comes from one
    call of :func:`prevalence.variance.ratio_covariance`; the tables are then
    tested one at a time (module docstring; Rao & Scott 1984). Domain values
    without a valid answer are left out of the table, as R does for values
    absent from the data. A table with one row or one column has no test.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    k = y.shape[1]
    known = codes >= 0
    layout = []  # per indicator: (present values, r levels, first ratio, valid rows)
    ratios = []  # (indicator, domain value, answer) of every cell of every table tested
    for j in range(k):
        valid = ~np.isnan(y[:, j]) & known
        counts = np.bincount(codes[valid], minlength=m)
        values = np.flatnonzero(counts > 0)
        levels = np.flatnonzero(np.bincount(y[valid, j].astype(np.int64), minlength=2) > 0)
        start = len(ratios)
        if len(values) >= 2 and len(levels) == 2:
            ratios += [(j, d, level) for d in values for level in (0, 1)]
        layout.append((values, levels, start, int(valid.sum())))
    rc = None
    nu = np.full(k, np.inf)
    if design is not None:
        from prevalence.variance import cell_ratio_covariance

        if ratios:
            cells = np.array(ratios)
            num = np.zeros((len(ratios), m, 2))
            num[np.arange(len(ratios)), cells[:, 1], cells[:, 2]] = 1.0
            den = np.ones((len(ratios), m, 2))  # the table: every valid answer with a value
            rc = cell_ratio_covariance(design, y, codes, m, cells[:, 0], num, den)
        nu = valid_rows_df(design, y, codes)
    rows = []
    for j, (values, levels, start, n_rows) in enumerate(layout):
        c = len(values)
        flag = ""
        result = None
        if c < 2:
            flag = "fewer than two domain values: no test"
        elif len(levels) < 2:
            flag = "no variation: test undefined"
        elif design is None:
            valid = ~np.isnan(y[:, j]) & known
            table = np.zeros((2, m))
            np.add.at(table, (y[valid, j].astype(np.int64), codes[valid]), 1.0)
            table = table[:, values]
            x2 = _pearson(table)
            dfc = float(c - 1)
            p = float(special.chdtrc(dfc, x2))
            result = {"F": (x2 / dfc, dfc, np.inf, p), "Chisq": (x2, dfc, np.nan, p)}
        else:
            cols = np.arange(start, start + 2 * c)
            p_cells = rc.estimate[cols]
            cov = rc.cov[np.ix_(cols, cols)]
            if not np.all(np.isfinite(cov)) or not nu[j] > 0:
                flag = "variance or df undefined: no test"
            else:
                # R's nrow(): every row of a calibrated Taylor design (its subsets keep them)
                calibrated = getattr(design, "calibration", None) is not None
                rows_r = design.n if calibrated and design.replicates is None else n_rows
                try:
                    result = _rao_scott_table(p_cells, cov, float(rows_r), float(nu[j]), 2, c)
                except np.linalg.LinAlgError:
                    flag = "singular design effect matrix: no test"
                if result is not None and not np.isfinite(result["F"][0]):
                    result, flag = None, "zero variance: test undefined"
        for statistic in ("F", "Chisq"):
            value, ndf, ddf, p = result[statistic] if result else (np.nan,) * 4
            rows.append(
                {
                    "indicator": j,
                    "statistic": statistic,
                    "value": value,
                    "ndf": ndf,
                    "ddf": ddf,
                    "p_value": p,
                    "design_df": float(nu[j]),
                    "n": n_rows,
                    "flag": flag,
                }
            )
    return pd.DataFrame(rows)


def association_tests(
    frame: pd.DataFrame,
    codebook: Codebook,
    design_spec: Mapping[str, Any] | None,
    domains: Sequence[str | Sequence[str]],
    *,
    wave: str,
    published: pd.DataFrame | None = None,
    on_suppressed: str = "flag",
) -> pd.DataFrame:
    """Tests of association of every indicator with each domain in one wave.

    Parameters
    ----------
    frame, codebook, design_spec
        The wave's responses, codebook and ``design:`` block (empty: simple
        random sample, Pearson's chi-square test).
    domains
        Domain ids (or lists of ids for a crossing).
    wave
        The wave id.
    published
        The published prevalence table; with it, a test over a domain with a
        suppressed cell is flagged (or withheld, see ``on_suppressed``).
    on_suppressed
        ``"flag"`` (default: computed, published, flagged) or ``"suppress"``.

    Returns
    -------
    pandas.DataFrame
        :data:`ASSOCIATION_COLUMNS`, two rows (``F``, ``Chisq``) per domain x
        indicator; ``p_adjusted`` blank (see :func:`adjust_pvalues`).
    """
    if on_suppressed not in ("flag", "suppress"):
        raise ValueError("on_suppressed must be 'flag' or 'suppress'")

    survey = wave_design(frame, design_spec, source=f"wave {wave}")
    ids = list(codebook.indicators)
    y = frame[ids].to_numpy(dtype=np.float64)
    pieces = []
    for domain in domains:
        names = [domain] if isinstance(domain, str) else list(domain)
        part = partition(frame, names, codebook_path=codebook.path)
        res = rao_scott(survey, y, part.codes, len(part.values))
        res["indicator"] = np.asarray(ids, dtype=object)[res["indicator"].to_numpy()]
        res.insert(0, "wave", wave)
        res["domain"] = part.name
        res["denominator"] = [codebook.indicators[i].denominator or "all" for i in res["indicator"]]
        res["method"] = METHOD_RAO_SCOTT if survey is not None else METHOD_PEARSON
        res["suppressed"] = False
        if published is not None:
            hit = _suppressed_domains(published, wave, part.name)
            flagged = res["indicator"].isin(hit).to_numpy()
            res["flag"] = join_flags(
                res["flag"].to_numpy(dtype=object), _text(flagged, FLAG_DOMAIN_SUPPRESSED)
            )
            if on_suppressed == "suppress":
                res["suppressed"] = flagged
                for col in ("value", "p_value"):
                    res[col] = np.where(flagged, np.nan, res[col])
        pieces.append(res)
    if not pieces:
        return pd.DataFrame(columns=ASSOCIATION_COLUMNS)
    out = pd.concat(pieces, ignore_index=True)
    out["p_adjusted"] = np.nan
    out["adjust_method"] = ""
    out["family"] = ""
    return out[ASSOCIATION_COLUMNS]


def _suppressed_domains(published: pd.DataFrame, wave: str, domain: str) -> set[str]:
    rows = published[
        (published["wave"].astype(str) == wave) & (published["domain"].astype(str) == domain)
    ]
    return set(rows.loc[truthy(rows["suppressed"]), "indicator"].astype(str))


def _association_families(tests: pd.DataFrame, family: str) -> pd.DataFrame:
    out = tests.copy()
    if family == "all":
        label = pd.Series("all", index=out.index)
    elif family == "indicator":
        label = "indicator " + out["indicator"].astype(str)
    else:
        label = out["wave"].astype(str) + ": " + out["domain"].astype(str)
    out["family"] = (label + " (" + out["statistic"].astype(str) + ")").to_numpy()
    return out


# --------------------------------------------------------------------------------------
# workflow steps
# --------------------------------------------------------------------------------------
def domain_values(frame: pd.DataFrame, codebook: Codebook) -> dict[str, list[str]]:
    """The values of every domain of a harmonized wave (its categories, empty ones too)."""
    return {
        d: [str(v) for v in frame[d].cat.categories]
        for d in codebook.domains
        if d in frame.columns and isinstance(frame[d].dtype, pd.CategoricalDtype)
    }


def check_named_values(
    spec: Comparisons, values: Mapping[str, Mapping[str, Sequence[str]]], source: str
) -> None:
    """A named value must be a value of its domain in at least one wave."""
    for i, entry in enumerate(spec.within):
        if not entry.pairs:
            continue
        seen: set[str] = set()
        for wave, domains in values.items():
            if entry.waves is not None and wave not in entry.waves:
                continue
            seen.update(domains.get(entry.domain, ()))
        for j, pair in enumerate(entry.pairs):
            for value in pair:
                if value not in seen:
                    raise ConfigError(
                        f"comparisons.within[{i}].pairs[{j}]: {value!r} is not a value of "
                        f"{entry.domain!r} in any wave",
                        file=source,
                        fix=f"use one of: {', '.join(sorted(seen)) or '(the domain has no values)'}",
                    )


def wave_comparisons(
    frame: pd.DataFrame,
    codebook: Codebook,
    design: Mapping[str, Any] | None,
    spec: Comparisons | Mapping[str, Any],
    *,
    wave: str,
    level: float = 0.95,
    published: pd.DataFrame | None = None,
    on_suppressed: str = "flag",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What one wave's microdata give to the comparisons: differences within it, tests.

    Returns the rows of :func:`compare_within` and of :func:`association_tests` (with
    ``published``, the wave's published table, flagging domains with suppressed cells),
    p-values unadjusted: :func:`combine_comparisons` adjusts them over all waves.
    """
    spec = _as_spec(spec)
    within = compare_within(frame, codebook, design, spec, wave=wave, level=level)
    present = [d for d in spec.association_domains() if d in codebook.domains]
    association = association_tests(
        frame,
        codebook,
        design,
        present,
        wave=wave,
        published=published,
        on_suppressed=on_suppressed,
    )
    return within, association


def combine_comparisons(
    within: Mapping[str, pd.DataFrame],
    association: Mapping[str, pd.DataFrame],
    values: Mapping[str, Mapping[str, Sequence[str]]],
    published: pd.DataFrame,
    comparisons: Comparisons | Mapping[str, Any] | None,
    *,
    level: float = 0.95,
    source: str = "config.yaml",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table of differences and the tests of association of all waves.

    Parameters
    ----------
    within, association
        Per wave, in the configured order, the rows of :func:`wave_comparisons`.
    values
        Per wave, :func:`domain_values`: a value named in ``comparisons`` must be one
        of its domain's in some wave.
    published
        The published prevalence table of all waves: differences between waves come
        from it, and a difference is withheld when either side is suppressed.
    comparisons
        The ``comparisons:`` block (``adjust``, ``family``).

    Returns
    -------
    contrasts, association
        :data:`CONTRAST_COLUMNS` and :data:`ASSOCIATION_COLUMNS`, p-values adjusted
        per family.
    """
    spec = (
        _as_spec(comparisons)
        if isinstance(comparisons, Comparisons)
        else parse_comparisons(comparisons, source=source, waves=list(within))
    )
    check_named_values(spec, values, source)
    parts = [*within.values(), compare_between(published, spec, level=level)]
    result = contrasts(parts, spec, published=published)
    log.info(
        "%d differences (%d withheld), p-values adjusted by %s per %s",
        len(result),
        int(result["suppressed"].sum()) if len(result) else 0,
        spec.adjust,
        spec.family,
    )
    pieces = [p for p in association.values() if len(p)]
    tests = (
        pd.concat(pieces, ignore_index=True)
        if pieces
        else pd.DataFrame(columns=ASSOCIATION_COLUMNS)
    )
    tests = adjust_pvalues(_association_families(tests, spec.family), method=spec.adjust)
    return result, tests[ASSOCIATION_COLUMNS]
