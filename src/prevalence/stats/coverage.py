"""Actual coverage of confidence-interval methods for a proportion in small samples.

A nominal 95% interval for a prevalence does not cover the true value 95% of
the time: with 55 respondents, or a region of 4 to 18, the actual coverage
depends on the method, the sample size and the true prevalence, and it
oscillates because the number of cases is discrete. This module measures it,
so that an analyst can choose the interval method (see
:mod:`prevalence.stats.intervals`) before the estimates are published.

* :func:`exact_coverage` -- simple random sample, exact: the coverage is the
  sum of the binomial probabilities of the case counts ``x = 0..n`` whose
  interval contains the true ``p``.
* :func:`simulated_coverage` -- one-stage cluster sample with equal cluster
  sizes and a given design effect, by simulation, with the design-based
  (Taylor linearisation) standard error and ``clusters - 1`` degrees of
  freedom that the estimation step uses.
* :func:`summarize_coverage` -- one row per method and sample: minimum and
  mean coverage over the prevalence grid.
* :func:`summary_text` -- the table in words.
* the chart of coverage against the true prevalence is
  :func:`prevalence.publication.charts.coverage.plot_coverage`; the workflow step and
  the command (``python -m prevalence.workflow.steps coverage``) are in :mod:`prevalence.workflow.steps`.

Every interval is computed by :func:`prevalence.stats.intervals.confint`, so the
numbers describe the intervals the pipeline publishes.

Example::

    python -m prevalence.workflow.steps coverage --n 30 55 150 --p 0.01:0.99:0.01 \\
        --methods wald wilson clopper-pearson jeffreys agresti-coull --level 0.95 \\
        --out-table results/tables/coverage.csv \\
        --out-figure results/figures/coverage/coverage \\
        --simulate --clusters 20 --cluster-size 5 --deff 2 --reps 20000 --seed 1

References
----------
Brown LD, Cai TT, DasGupta A (2001). Interval estimation for a binomial
proportion. Statistical Science 16(2):101-133.

Korn EL, Graubard BI (1998). Confidence intervals for proportions with small
expected number of positive counts estimated from survey data. Survey
Methodology 24(2):193-201.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from prevalence.errors import ConfigError
from prevalence.stats.intervals import check_level, check_method, confint

__all__ = [
    "DEFAULT_METHODS",
    "TABLE_COLUMNS",
    "VARIANCES",
    "check_sample_size",
    "coverage_table",
    "exact_coverage",
    "is_simulated",
    "panel_keys",
    "panel_title",
    "parse_grid",
    "simulated_coverage",
    "summarize_coverage",
    "summary_text",
]

log = logging.getLogger("prevalence")

#: Methods compared when none are named.
DEFAULT_METHODS = ("wald", "wilson", "clopper-pearson", "jeffreys", "agresti-coull")

#: Standard errors of a simple random sample that :func:`exact_coverage` knows.
VARIANCES = ("classical", "design")

#: Grid of true prevalences when none is given.
DEFAULT_P = "0.01:0.99:0.01"

#: Sample sizes when none are given: a region, the 55 women MPs, a larger survey.
DEFAULT_N = (30, 55, 150)

#: Keys of the ``simulate`` settings of :func:`coverage_step` and their defaults.
SIMULATION_DEFAULTS: dict[str, Any] = {"deff": 1.0, "reps": 20000, "seed": 1}
_SIMULATION_REQUIRED = ("clusters", "cluster_size")

#: Most uniforms drawn at once by the simulation (memory bound: 8 bytes each).
_CHUNK = 4_000_000

#: Column order of the combined table (exact rows leave the simulation columns empty).
TABLE_COLUMNS = (
    "source",
    "method",
    "n",
    "clusters",
    "cluster_size",
    "deff",
    "icc",
    "p",
    "level",
    "variance",
    "reps",
    "seed",
    "coverage",
    "mc_se",
    "undefined",
    "mean_width",
)

# as in notes, but the two logit forms are told apart when compared side by side


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------
def _methods(methods: str | Sequence[str]) -> list[str]:
    items = [methods] if isinstance(methods, str) else list(methods)
    if not items:
        raise ConfigError("no interval method given", fix="name at least one method")
    checked = [check_method(m) for m in items]
    return list(dict.fromkeys(checked))


def _integer(value: object, name: str, minimum: int) -> int:
    ok = isinstance(value, Integral) and not isinstance(value, bool | np.bool_)
    if not ok and isinstance(value, float | np.floating) and float(value).is_integer():
        ok, value = True, int(value)
    if ok and int(value) >= minimum:
        return int(value)
    raise ConfigError(
        f"{name} must be a whole number >= {minimum}",
        value=value,
        fix=f"give the {name} as a whole number of at least {minimum}",
    )


def _integers(values: object, name: str, minimum: int) -> list[int]:
    items = [values] if np.ndim(values) == 0 else list(np.asarray(values, dtype=object).ravel())
    if not items:
        raise ConfigError(f"no {name} given", fix=f"give at least one {name}")
    return list(dict.fromkeys(_integer(v, name, minimum) for v in items))


def _proportions(values: object) -> np.ndarray:
    if isinstance(values, str):
        values = parse_grid(values)
    try:
        p = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise ConfigError(
            "true prevalences must be numbers", value=values, fix="give proportions in [0, 1]"
        ) from None
    if p.size == 0:
        raise ConfigError("no true prevalence given", fix="give proportions in [0, 1]")
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        raise ConfigError(
            "true prevalences must be proportions in [0, 1]",
            value=float(p[bad][0]),
            fix="give proportions, not percentages (0.1 for 10%)",
        )
    return p


def _variance(variance: str) -> str:
    if variance in VARIANCES:
        return variance
    raise ConfigError(
        f"unknown standard error {variance!r}", fix=f"use one of: {', '.join(VARIANCES)}"
    )


def parse_grid(text: str) -> list[float]:
    """Parse ``"start:stop:step"`` (stop included) or a single number into proportions.

    The grid is computed in decimal arithmetic, so ``"0.01:0.99:0.01"`` gives
    exactly the 99 floats ``0.01, 0.02, ..., 0.99`` (no accumulated rounding).

    Raises
    ------
    ConfigError
        If the text is not a number or a grid with ``step > 0`` and
        ``start <= stop``, or a value lies outside [0, 1].
    """
    fix = "write a grid as start:stop:step, e.g. 0.01:0.99:0.01, or a single proportion"
    parts = str(text).strip().split(":")
    try:
        numbers = [Decimal(part.strip()) for part in parts]
    except InvalidOperation:
        raise ConfigError("not a number or a start:stop:step grid", value=text, fix=fix) from None
    if not all(d.is_finite() for d in numbers):
        raise ConfigError("not a number or a start:stop:step grid", value=text, fix=fix)
    if len(numbers) == 1:
        values = numbers
    elif len(numbers) == 3:
        start, stop, step = numbers
        if step <= 0 or start > stop:
            raise ConfigError("a grid needs step > 0 and start <= stop", value=text, fix=fix)
        count = int((stop - start) / step) + 1
        if count > 100_000:
            raise ConfigError("the grid has more than 100000 points", value=text, fix=fix)
        values = [start + i * step for i in range(count)]
    else:
        raise ConfigError("not a number or a start:stop:step grid", value=text, fix=fix)
    out = [float(v) for v in values]
    if any(not 0.0 <= v <= 1.0 for v in out):
        raise ConfigError(
            "true prevalences must be proportions in [0, 1]",
            value=text,
            fix="give proportions, not percentages (0.1 for 10%)",
        )
    return out


# --------------------------------------------------------------------------------------
# exact coverage, simple random sample
# --------------------------------------------------------------------------------------
def exact_coverage(
    methods: str | Sequence[str],
    n: int | Sequence[int],
    p: float | Sequence[float] | str,
    level: float = 0.95,
    *,
    variance: str = "classical",
) -> pd.DataFrame:
    """Exact coverage of interval methods for a simple random sample.

    For each sample size ``n`` every possible case count ``x = 0..n`` gives an
    estimate ``x/n`` and an interval; the coverage at a true prevalence ``p``
    is ``sum_x P(X = x) 1[low(x) <= p <= high(x)]`` with ``X ~ Binomial(n, p)``.
    Nothing is simulated. The computation is vectorised over ``x``, ``p`` and
    the interval's cells; Python loops only over the methods and sample sizes.

    Parameters
    ----------
    methods
        One method or several, from :data:`prevalence.stats.intervals.METHODS`.
    n
        Sample size(s), whole numbers >= 1.
    p
        True prevalence(s) in [0, 1], or a ``"start:stop:step"`` grid
        (see :func:`parse_grid`).
    level
        Nominal confidence level in (0, 1).
    variance
        The standard error given to :func:`~prevalence.stats.intervals.confint`:

        ``"classical"`` (default)
            ``se = sqrt(p(1-p)/n)`` with normal quantiles (``df = inf``): the
            textbook intervals (equal to statsmodels' ``proportion_confint``).
        ``"design"``
            ``se = sqrt(p(1-p)/(n-1))`` with ``df = n - 1``: what the
            design-based estimation step (and R's ``survey``) computes for an
            unweighted, unclustered sample (Taylor linearisation, no finite
            population correction). At ``n = 1`` ``df = 0`` and every interval
            is undefined.

    Returns
    -------
    pandas.DataFrame
        One row per sample size, method and ``p`` (in that order), columns
        ``method, n, p, level, variance, coverage, mean_width, undefined``:
        ``mean_width`` is the expected width of the interval (over the counts
        with a defined interval) and ``undefined`` the probability of an
        undefined (NaN) interval, which never covers.

    Raises
    ------
    ConfigError
        For an unknown method or variance, a level outside (0, 1), a sample
        size that is not a whole number >= 1 or a ``p`` outside [0, 1].

    Examples
    --------
    >>> table = exact_coverage(["wilson", "wald"], 50, 0.1)
    >>> table["coverage"].round(4).tolist()
    [0.9703, 0.8789]
    """
    names = _methods(methods)
    sizes = _integers(n, "sample size", 1)
    grid = _proportions(p)
    from scipy import stats  # imported here: the charts import this module, not scipy.stats

    level = check_level(level)
    variance = _variance(variance)

    frames = []
    for size in sizes:
        x = np.arange(size + 1, dtype=float)
        estimate = x / size
        if variance == "classical":
            se = np.sqrt(estimate * (1.0 - estimate) / size)
            df = np.inf
        else:
            se = np.sqrt(estimate * (1.0 - estimate) / max(size - 1, 1))
            df = float(size - 1)
        # P(X = x) for every count (rows) and true prevalence (columns)
        pmf = stats.binom.pmf(x[:, None], size, grid[None, :])
        for method in names:
            ci = confint(method, estimate, se, size, df, level)
            frames.append(_exact_rows(method, size, grid, level, variance, ci.low, ci.high, pmf))
    return pd.concat(frames, ignore_index=True)


def _exact_rows(method, size, grid, level, variance, low, high, pmf) -> pd.DataFrame:
    defined = (np.isfinite(low) & np.isfinite(high))[:, None]
    lo = np.where(defined[:, 0], low, np.nan)[:, None]
    hi = np.where(defined[:, 0], high, np.nan)[:, None]
    covers = defined & (lo <= grid[None, :]) & (grid[None, :] <= hi)
    coverage = np.where(covers, pmf, 0.0).sum(axis=0)
    p_defined = np.where(defined, pmf, 0.0).sum(axis=0)
    width = np.where(defined, np.nan_to_num(hi - lo), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_width = np.where(p_defined > 0, (pmf * width).sum(axis=0) / p_defined, np.nan)
    return pd.DataFrame(
        {
            "method": method,
            "n": size,
            "p": grid,
            "level": level,
            "variance": variance,
            "coverage": np.clip(coverage, 0.0, 1.0),
            "mean_width": mean_width,
            "undefined": np.where(defined, 0.0, pmf).sum(axis=0),
        }
    )


# --------------------------------------------------------------------------------------
# simulated coverage, one-stage cluster sample
# --------------------------------------------------------------------------------------
def simulated_coverage(
    methods: str | Sequence[str],
    *,
    clusters: int,
    cluster_size: int,
    p: float | Sequence[float] | str,
    deff: float = 1.0,
    level: float = 0.95,
    reps: int = 20000,
    seed: int = 1,
) -> pd.DataFrame:
    """Coverage by simulation under a one-stage cluster sample.

    Model: ``C = clusters`` clusters of ``m = cluster_size`` respondents each
    (``n = C m``); the intracluster correlation is ``rho = (deff - 1)/(m - 1)``
    so that the design effect of the proportion is ``1 + (m - 1) rho = deff``.
    Cluster prevalences ``p_c`` follow the beta distribution with mean ``p``
    and ``rho = 1/(a + b + 1)`` (every ``p_c = p`` when ``rho = 0``; ``p_c`` is
    0 or 1 when ``rho = 1``) and each cluster's count of cases is
    ``Binomial(m, p_c)``. The counts are drawn directly from that mixture, the
    beta-binomial distribution, by inverting its distribution function: the
    same model as drawing ``p_c`` first, much faster.

    Each replicate is analysed as the estimation step analyses a survey:
    estimate ``phat`` = overall proportion; design-based (Taylor, clusters
    sampled with replacement) variance, for equal cluster sizes
    ``V = sum_c (ybar_c - phat)**2 / (C (C - 1))``; ``df = C - 1``; interval
    ``confint(method, phat, sqrt(V), n = C m, df, level)``. ``V`` is computed
    from the integer counts, so it is exactly 0 when every cluster has the
    same share of cases (the interval then has zero width). A sample enters
    the intervals only through its total count and ``V``, so each distinct
    pair is computed once and weighted by its frequency.

    The replicates of one ``p`` are drawn as an array ``reps x C`` of uniforms
    from ``numpy.random.default_rng(seed)`` (true prevalences in the order
    given), and every method is applied to the same samples: the same
    arguments give an identical table.

    What agrees with :func:`exact_coverage`: with ``cluster_size = 1`` and
    ``deff = 1`` each cluster is one respondent, ``V = phat(1-phat)/(n-1)``
    and ``df = n - 1``, which is exactly ``exact_coverage(..., variance="design")``
    at ``n = clusters``; the simulated coverage then differs from it only by
    Monte Carlo error. It is *not* the classical interval (``se**2 =
    phat(1-phat)/n``, normal quantiles), although at ``n = 50`` the two differ
    by less than 0.01 except near the edges. With ``cluster_size > 1`` and
    ``deff = 1`` the total count is still ``Binomial(n, p)``, but ``V`` is a
    noisier between-cluster estimate with only ``C - 1`` degrees of freedom,
    so the coverage differs from either exact value.

    Parameters
    ----------
    methods
        One method or several, from :data:`prevalence.stats.intervals.METHODS`.
    clusters
        Number of clusters ``C``, >= 2 (one cluster gives ``df = 0``).
    cluster_size
        Respondents per cluster ``m``, >= 1.
    p
        True prevalence(s) in [0, 1], or a ``"start:stop:step"`` grid.
    deff
        Design effect, ``1 <= deff <= m`` (``deff = 1`` when ``m = 1``).
    level
        Nominal confidence level in (0, 1).
    reps
        Simulated samples per true prevalence, >= 1.
    seed
        Seed of the random generator, a whole number >= 0.

    Returns
    -------
    pandas.DataFrame
        One row per method and ``p``, columns ``method, clusters,
        cluster_size, n, p, deff, icc, level, variance, reps, seed, coverage,
        mc_se, undefined, mean_width``: ``coverage`` is the share of
        replicates whose interval contains ``p`` (undefined intervals count
        as not covering), ``mc_se = sqrt(coverage (1 - coverage)/reps)`` its
        binomial Monte Carlo standard error, ``undefined`` the share of
        replicates with a NaN interval and ``mean_width`` the mean width of
        the defined intervals.

    Raises
    ------
    ConfigError
        For an invalid method, level, size, design effect, ``p``, ``reps`` or
        ``seed``.
    """
    names = _methods(methods)
    n_clusters = _integer(clusters, "number of clusters", 2)
    size = _integer(cluster_size, "cluster size", 1)
    grid = _proportions(p)
    level = check_level(level)
    replicates = _integer(reps, "number of replicates", 1)
    seed = _integer(seed, "seed", 0)
    icc = _icc(deff, size)
    deff = float(deff)

    rng = np.random.default_rng(seed)
    n = n_clusters * size
    rows: dict[str, list[dict[str, object]]] = {method: [] for method in names}
    sample = {"clusters": n_clusters, "cluster_size": size, "n": n}
    settings = {
        "deff": deff,
        "icc": icc,
        "level": level,
        "variance": "design",
        "reps": replicates,
        "seed": seed,
    }
    for true_p in grid:
        true_p = float(true_p)
        estimate, se, weight = _simulated_estimates(rng, true_p, icc, n_clusters, size, replicates)
        for method in names:
            ci = confint(method, estimate, se, n, n_clusters - 1, level)
            rows[method].append(
                {
                    "method": method,
                    **sample,
                    "p": true_p,
                    **settings,
                    **_weighted_coverage(ci, true_p, weight, replicates),
                }
            )
    return pd.DataFrame([row for method in names for row in rows[method]])


def _simulated_estimates(rng, true_p: float, icc: float, n_clusters: int, size: int, reps: int):
    """``(estimate, se, weight)`` of each distinct simulated sample of a cluster design.

    The intervals depend on a sample only through ``(K, C S2 - K^2)``: each
    distinct pair is returned once, with ``weight`` the replicates that gave it.
    """
    n = n_clusters * size
    scale = float(n_clusters) ** 2 * (n_clusters - 1) * size**2
    total, spread = _simulate_sums(rng, true_p, icc, n_clusters, size, reps)
    total, spread, weight = _distinct_pairs(total, spread, n_clusters * n * size)
    return total / n, np.sqrt(spread / scale), weight


def _weighted_coverage(ci, true_p: float, weight: np.ndarray, replicates: int) -> dict:
    """Coverage, its Monte Carlo se, the undefined share and the mean defined width.

    ``weight`` counts the replicates that gave each interval of ``ci``.
    """
    defined = np.isfinite(ci.low) & np.isfinite(ci.high)
    covers = defined & (ci.low <= true_p) & (true_p <= ci.high)
    coverage = float(weight[covers].sum() / replicates)
    n_defined = int(weight[defined].sum())
    width = float((weight * (ci.high - ci.low))[defined].sum())
    return {
        "coverage": coverage,
        "mc_se": math.sqrt(coverage * (1.0 - coverage) / replicates),
        "undefined": 1.0 - n_defined / replicates,
        "mean_width": width / n_defined if n_defined else math.nan,
    }


def _icc(deff: object, size: int) -> float:
    """Intracluster correlation ``(deff - 1)/(m - 1)`` of a valid design effect."""
    ok = isinstance(deff, Real) and not isinstance(deff, bool | np.bool_)
    value = float(deff) if ok else math.nan
    if size == 1:
        if value == 1.0:
            return 0.0
        raise ConfigError(
            "with clusters of one respondent the design effect is 1",
            value=deff,
            fix="use a design effect of 1, or clusters of 2 or more respondents",
        )
    if ok and 1.0 <= value <= size:
        return (value - 1.0) / (size - 1.0)
    raise ConfigError(
        f"the design effect must be a number from 1 to the cluster size ({size})",
        value=deff,
        fix="a one-stage cluster design with equal clusters has 1 <= deff <= cluster size",
    )


def _distinct_pairs(
    total: np.ndarray, spread: np.ndarray, max_spread: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(total, spread)`` pairs and how often each occurs."""
    width = max_spread + 1
    if (int(total.max(initial=0)) + 1) * width < np.iinfo(np.int64).max:
        keys, counts = np.unique(total * width + spread, return_counts=True)
        return keys // width, keys % width, counts
    pairs, counts = np.unique(np.stack([total, spread], axis=1), axis=0, return_counts=True)
    return pairs[:, 0], pairs[:, 1], counts


def _cluster_pmf(p: float, icc: float, size: int) -> np.ndarray:
    """Distribution of the cases in one cluster: beta-binomial(m, a, b), P(k) for k = 0..m.

    ``a = p (1 - rho)/rho`` and ``b = (1 - p)(1 - rho)/rho``: the beta mixing
    distribution of the cluster prevalence has mean ``p`` and ``1/(a + b + 1) = rho``.
    """
    from scipy import stats

    k = np.arange(size + 1)
    if icc == 0.0 or p in (0.0, 1.0):
        return stats.binom.pmf(k, size, p)
    if icc == 1.0:  # every cluster is all cases or no cases
        pmf = np.zeros(size + 1)
        pmf[0], pmf[-1] = 1.0 - p, p
        return pmf
    scale = (1.0 - icc) / icc  # a + b
    return stats.betabinom.pmf(k, size, p * scale, (1.0 - p) * scale)


def _simulate_sums(
    rng: np.random.Generator, p: float, icc: float, clusters: int, size: int, reps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate ``reps`` samples; return the cases ``K`` and ``C S2 - K^2`` of each.

    Cluster counts are drawn by inversion of the beta-binomial distribution
    function, ``reps x clusters`` uniforms at a time (in chunks of at most
    :data:`_CHUNK` values); this is the same distribution as drawing ``p_c``
    from the beta and then ``Binomial(m, p_c)``, at a fraction of the cost.
    ``S2`` is the sum of the squared cluster counts; both results are exact
    integers.
    """
    cdf = np.cumsum(_cluster_pmf(p, icc, size))
    cdf[-1] = 1.0  # uniforms are < 1, so no draw can exceed m
    total = np.empty(reps, dtype=np.int64)
    spread = np.empty(reps, dtype=np.int64)
    chunk = max(_CHUNK // clusters, 1)
    for first in range(0, reps, chunk):
        rows = min(chunk, reps - first)
        counts = np.searchsorted(cdf, rng.random((rows, clusters)), side="right")
        k = counts.sum(axis=1)
        total[first : first + rows] = k
        spread[first : first + rows] = clusters * (counts * counts).sum(axis=1) - k * k
    return total, spread


# --------------------------------------------------------------------------------------
# summary
# --------------------------------------------------------------------------------------
def panel_keys(table: pd.DataFrame) -> list[str]:
    """Columns that identify one sample (panel) of a coverage table."""
    keys = ["n"]
    if "source" in table.columns:
        keys.insert(0, "source")
    keys += [c for c in ("clusters", "cluster_size", "deff", "variance") if c in table.columns]
    return keys


def _present(value: object) -> bool:
    return value is not None and not bool(pd.isna(value))


def is_simulated(key: Mapping[str, object]) -> bool:
    """Whether the sample of ``key`` (a row of :func:`panel_keys`) is simulated."""
    return key.get("source") == "simulated" or _present(key.get("clusters"))


def panel_title(key: Mapping[str, object], *, short: bool = False) -> str:
    """Name of one sample: ``n = 30``, or the simulated cluster design.

    ``short`` puts the design on a second line (column headers of the grid).
    """
    n = int(key["n"])
    if is_simulated(key):
        clusters, size = int(key["clusters"]), int(key["cluster_size"])
        design = f"{clusters} clusters of {size}, deff {float(key['deff']):g}"
        if short:
            return f"n = {n}, simulated\n{design}"
        return f"n = {n}: {design} (simulated)"
    text = f"n = {n}"
    if key.get("variance") == "design":
        text += ", design-based SE" if short else " (design-based SE)"
    return text


def summarize_coverage(table: pd.DataFrame) -> pd.DataFrame:
    """Minimum and mean coverage over the prevalence grid, per sample and method.

    Parameters
    ----------
    table
        A table from :func:`exact_coverage`, :func:`simulated_coverage` or
        :func:`coverage_step`.

    Returns
    -------
    pandas.DataFrame
        One row per sample and method (in the table's order): the sample's
        columns, ``method, level, min_coverage, p_at_min, mean_coverage,
        share_below`` (share of the grid's ``p`` where coverage < level) and
        ``mean_width`` (average of the expected widths over the grid).
    """
    keys = panel_keys(table) + ["method", "level"]
    rows = []
    for key, group in table.groupby(keys, sort=False, dropna=False):
        lowest = group["coverage"].idxmin()
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "min_coverage": float(group["coverage"].min()),
                "p_at_min": float(group.loc[lowest, "p"]),
                "mean_coverage": float(group["coverage"].mean()),
                "share_below": float((group["coverage"] < group["level"]).mean()),
                "mean_width": float(group["mean_width"].mean()),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# workflow step and command
# --------------------------------------------------------------------------------------
def _simulation_settings(simulate: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(simulate, Mapping):
        raise ConfigError(
            "the simulation settings must be a mapping",
            value=simulate,
            fix="give clusters, cluster_size and optionally deff, reps, seed",
        )
    unknown = sorted(set(simulate) - set(_SIMULATION_REQUIRED) - set(SIMULATION_DEFAULTS))
    if unknown:
        raise ConfigError(
            f"unknown simulation setting(s) {', '.join(map(str, unknown))}",
            fix="use clusters, cluster_size, deff, reps and seed",
        )
    missing = [k for k in _SIMULATION_REQUIRED if simulate.get(k) is None]
    if missing:
        raise ConfigError(
            f"the simulation needs {' and '.join(missing)}",
            fix="give the number of clusters and the respondents per cluster",
        )
    settings = {**SIMULATION_DEFAULTS, **{k: v for k, v in simulate.items() if v is not None}}
    return settings


def coverage_table(
    *,
    n: int | Sequence[int],
    p: float | Sequence[float] | str,
    methods: str | Sequence[str],
    level: float,
    simulate: Mapping[str, Any] | None = None,
    variance: str = "classical",
) -> pd.DataFrame:
    """The combined table: exact rows (``source = "exact"``), then simulated rows.

    Columns are :data:`TABLE_COLUMNS`; the simulation columns of exact rows are
    empty.
    """
    exact = exact_coverage(methods, n, p, level, variance=variance)
    exact.insert(0, "source", "exact")
    parts = [exact]
    if simulate is not None:
        simulated = simulated_coverage(methods, p=p, level=level, **_simulation_settings(simulate))
        simulated.insert(0, "source", "simulated")
        parts.append(simulated)
    table = pd.concat(parts, ignore_index=True).reindex(columns=list(TABLE_COLUMNS))
    for column in ("clusters", "cluster_size", "reps", "seed"):
        table[column] = table[column].astype("Int64")
    return table


def summary_text(table: pd.DataFrame) -> str:
    """The coverage table in words: per panel, each method's minimum and mean coverage."""
    summary = summarize_coverage(table)
    lines = []
    for panel, group in summary.groupby(panel_keys(summary), sort=False, dropna=False):
        key = dict(zip(panel_keys(summary), panel, strict=True))
        lines.append(panel_title(key))
        for row in group.itertuples(index=False):
            lines.append(
                f"  {row.method:<20} min {row.min_coverage:6.1%} at p = {row.p_at_min:<6g}"
                f" mean {row.mean_coverage:6.1%}  below nominal at {row.share_below:4.0%} of p"
            )
    return "\n".join(lines)


def check_sample_size(value: object) -> int:
    """Return ``value`` as a sample size (a whole number >= 1), or raise ConfigError."""
    return _integer(value, "sample size", 1)
