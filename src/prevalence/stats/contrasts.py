"""Comparisons of prevalence: differences between domains and waves, and tests of association.

Three products, configured by the ``comparisons:`` block of ``config.yaml``
(:func:`parse_comparisons`):

* **Differences within a wave** (:func:`compare_within`): two values of a
  domain (``MP`` - ``staff``), each value against all the other respondents of
  the wave (``Africa`` - ``all others``), or every pair of values.
* **Differences between waves** (:func:`compare_between`): the same indicator
  (same id and denominator) in two waves, overall or in one domain value.
* **Tests of association** (:func:`prevalence.stats.association.association_tests`): indicator x domain,
  Rao-Scott corrected F and chi-square tests, as R's ``svychisq``.

:func:`contrasts` combines the differences, withholds those that would show a
suppressed cell and adjusts the p-values for multiple testing.

Differences
-----------
Every difference is ``a - b``: ``value_a - value_b`` within a wave, and the wave
listed later minus the wave listed earlier between waves.

*Simple random sample* (the wave has no ``design:``, the "classical" path of
:mod:`prevalence.stats.estimate`). The two sides are disjoint groups of respondents
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
same linearisation (:func:`prevalence.stats.variance.ratio_covariance`: PSU totals of
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

References
----------
Newcombe RG (1998). Interval estimation for the difference between independent
proportions: comparison of eleven methods. Statistics in Medicine
17(8):873-890.

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

from prevalence.contract import ALL, KEY_COLUMNS, OVERALL, join_flags, read_cells
from prevalence.data.codebook import Codebook
from prevalence.design.core import wave_design
from prevalence.errors import ConfigError
from prevalence.schema import validate_document
from prevalence.stats.estimate import classical_proportions, partition
from prevalence.stats.intervals import wilson_bounds
from prevalence.stats.multiplicity import adjust_pvalues

__all__ = [
    "log",
    "OTHERS",
    "FAMILIES",
    "WITHIN",
    "BETWEEN",
    "METHOD_NEWCOMBE",
    "METHOD_WALD",
    "CONTRAST_COLUMNS",
    "FLAG_SIDE",
    "FLAG_NOT_PUBLISHED",
    "WithinSpec",
    "BetweenSpec",
    "Comparisons",
    "parse_comparisons",
    "as_comparisons",
    "newcombe_interval",
    "score_test",
    "flag_text",
    "empty_contrasts",
    "compare_within",
    "valid_rows_df",
    "compare_between",
    "suppress_contrasts",
    "contrasts",
    "domain_values",
    "check_named_values",
]


log = logging.getLogger(__name__)


#: ``value_b`` of a value compared with the rest of its wave.
OTHERS = "all others"


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


def as_comparisons(spec: Comparisons | Mapping[str, Any] | None) -> Comparisons:
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


def flag_text(mask: np.ndarray, text: str) -> np.ndarray:
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
        flag_text(empty, "no respondents"),
        flag_text(~empty & np.isnan(z), "no variation: test undefined"),
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
        flag_text(no_estimate, "no estimate"),
        flag_text(missing & ~no_estimate, "variance or df undefined"),
        flag_text(no_df, "df = 0: interval undefined"),
        flag_text(zero, "se = 0: test undefined"),
        flag_text(clipped, "clipped to [-1, 1]"),
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


def empty_contrasts() -> pd.DataFrame:
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
    covariance of the two sides from :func:`prevalence.stats.variance.ratio_covariance`.
    """
    spec = as_comparisons(spec)

    entries = [e for e in spec.within if e.waves is None or wave in e.waves]
    if not entries:
        return empty_contrasts()
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
    return pd.concat(pieces, ignore_index=True) if pieces else empty_contrasts()


def valid_rows_df(design: Any, y: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Design df of the rows with a valid answer and a known domain value, per indicator.

    R's ``degf(subset(design, !is.na(y) & !is.na(domain)))``: the df of every
    comparison and test of association of an indicator across a domain.

    Parameters
    ----------
    design
        The wave's :class:`~prevalence.design.core.SurveyDesign`.
    y
        (n_rows, k) indicators: 0, 1, NaN outside the denominator.
    codes
        (n_rows,) domain codes, -1 where the value is missing.

    Returns
    -------
    numpy.ndarray
        (k,) degrees of freedom; NaN for an indicator without such rows.
    """
    from prevalence.stats.variance import domain_proportions

    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    ysub = np.where((np.asarray(codes) >= 0)[:, None], y, np.nan)
    return domain_proportions(design, ysub, np.zeros(len(codes), dtype=np.intp), 1).df[:, 0]


def _design_within(survey, y, codes, a, b, level: float):
    """Wald rows for every indicator x pair of sides: one covariance for all of them."""
    from prevalence.stats.variance import cell_ratio_covariance

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
        :data:`prevalence.stats.estimate.COLUMNS`; the published table will do).
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
    spec = as_comparisons(spec)
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
    return pd.concat(pieces, ignore_index=True) if pieces else empty_contrasts()


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
    spec = as_comparisons(spec)
    pieces = [p for p in parts if p is not None and not p.empty]
    if not pieces:
        return empty_contrasts()
    rows = pd.concat(pieces, ignore_index=True)
    rows = suppress_contrasts(rows, published)
    rows["family"] = _family_labels(rows, spec.family)
    rows = adjust_pvalues(rows, method=spec.adjust)
    return rows[CONTRAST_COLUMNS].reset_index(drop=True)


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
