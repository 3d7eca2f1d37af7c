"""Prevalence tables: every indicator, overall and in every domain, with intervals.

One call per wave produces the long table of the contract (one row per
wave x domain x indicator)::

    wave, domain, domain_value, indicator, denominator, n, cases, estimate, se,
    ci_low, ci_high, ci_method, level, deff, n_eff, df, suppressed, flag

Two ways to estimate, chosen by the wave's ``design:`` block:

* **No design** (the block is empty): the respondents are treated as a simple
  random sample and each proportion gets the classical binomial standard error
  sqrt(p(1-p)/n) with normal quantiles (df = inf), so every interval method is
  its textbook form (as statsmodels' ``proportion_confint``).
* **A design** (weights, strata, clusters, FPC or replicate weights): design-based
  ratio estimates with Taylor-linearized or replicate variance, computed on the
  full design, and intervals on the design degrees of freedom, as R's ``survey``.

A conditional indicator ("of whom") is estimated among respondents whose answer
to its denominator indicator is yes: ingest has already set it missing
elsewhere, so its domain is simply its non-missing rows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# DISPLAY_COLUMNS and check_display_table are re-exported for the chart module.
from prevalence.contract import (  # noqa: F401
    ALL,
    COLUMNS,
    CROSS,
    DISPLAY_COLUMNS,
    OVERALL,
    check_display_table,
)
from prevalence.data.codebook import Codebook
from prevalence.design.core import wave_design
from prevalence.errors import ConfigError
from prevalence.stats.intervals import Intervals, check_method, confint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Partition:
    """A domain (or crossing) as integer codes per row: -1 for rows in no value."""

    name: str
    values: list[str]
    codes: np.ndarray


def partition(frame: pd.DataFrame, domain: Sequence[str], *, codebook_path: str = "") -> Partition:
    """Integer codes of a domain or a crossing of domains.

    A single domain keeps every category the codebook labels, even one with no
    respondent (its rows then say n = 0). A crossing keeps the combinations that
    occur, ordered by the categories' own order.
    """
    for name in domain:
        if name not in frame.columns or not isinstance(frame[name].dtype, pd.CategoricalDtype):
            raise ConfigError(
                f"estimates.by names domain {name!r}, which this wave's codebook does not define",
                file=codebook_path or None,
                fix=f"add {name!r} under `domains:` in the codebook, or remove it from estimates.by",
            )
    cats = [frame[name].cat for name in domain]
    if len(domain) == 1:
        return Partition(domain[0], [str(c) for c in cats[0].categories], cats[0].codes.to_numpy())
    codes = np.zeros(len(frame), dtype=np.int64)
    valid = np.ones(len(frame), dtype=bool)
    for cat in cats:
        c = cat.codes.to_numpy().astype(np.int64)
        valid &= c >= 0
        codes = codes * len(cat.categories) + c
    observed, inverse = np.unique(codes[valid], return_inverse=True)
    out = np.full(len(frame), -1, dtype=np.int64)
    out[valid] = inverse
    sizes = [len(cat.categories) for cat in cats]
    parts = np.stack(np.unravel_index(observed, sizes), axis=1) if len(observed) else []
    values = [
        CROSS.join(str(cat.categories[i]) for cat, i in zip(cats, row, strict=True))
        for row in parts
    ]
    return Partition(CROSS.join(domain), values, out)


def classical_proportions(y: np.ndarray, codes: np.ndarray, m: int) -> dict[str, np.ndarray]:
    """Unweighted counts, proportions and binomial SEs for every indicator x domain value.

    Returns arrays of shape (k, m). The SE is sqrt(p(1-p)/n); NaN where n = 0.
    """
    k = y.shape[1]
    valid = ~np.isnan(y) & (codes >= 0)[:, None]
    key = (np.where(codes >= 0, codes, 0)[:, None] * k + np.arange(k)[None, :])[valid]
    n = np.bincount(key, minlength=m * k).reshape(m, k).T
    cases = np.bincount(key, weights=y[valid], minlength=m * k).reshape(m, k).T
    cases = np.rint(cases).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = cases / n
        se = np.sqrt(p * (1 - p) / n)
    return {
        "n": n,
        "cases": cases,
        "estimate": p,
        "se": se,
        "df": np.full(p.shape, np.inf),
        "deff": np.where(n > 0, 1.0, np.nan),
        "deff_replace": np.where(n > 0, 1.0, np.nan),
    }


def _design_proportions(
    design: Any, y: np.ndarray, parts: Sequence[Partition], threads: int | None
) -> list[dict[str, np.ndarray]]:
    from prevalence.stats.variance import domain_proportions_by

    # parts[0] is the whole sample: no codes to read
    domains = [(None, 1)] + [(p.codes, len(p.values)) for p in parts[1:]]
    results = domain_proportions_by(design, y, domains, threads=threads)
    return [
        {
            "n": r.n,
            "n_rows": r.n_rows,
            "cases": r.cases,
            "estimate": r.estimate,
            "se": r.se,
            "df": r.df,
            "deff": r.deff,
            "deff_replace": r.deff_replace,
            "logit_se": r.logit_se,
            "logit_edge": r.logit_edge,
        }
        for r in results
    ]


def _intervals(table: pd.DataFrame, method: str, level: float, logit: dict) -> Any:
    """The cells' intervals; Korn–Graubard's t_{n-1} on R's ``nrow()`` of the domain design.

    That is every row of a calibrated Taylor design (its subsets keep all rows, as R's);
    an estimate of 0 or 1 still falls back on the domain's own count of valid answers.
    """
    n = table["n"].to_numpy()
    p = table["estimate"].to_numpy(dtype=float)
    se = table["se"].to_numpy(dtype=float)
    df = table["df"].to_numpy(dtype=float)
    rows = table["n_rows"].to_numpy() if "n_rows" in table else n
    ci = confint(method, p, se, rows, df, level, **logit)
    edge = (rows != n) & ((p == 0) | (p == 1))
    if not edge.any():
        return ci
    own = confint(
        method,
        p[edge],
        se[edge],
        n[edge],
        df[edge],
        level,
        **{k: v[edge] for k, v in logit.items()},
    )
    low, high, n_eff, flag = ci.low.copy(), ci.high.copy(), ci.n_eff.copy(), ci.flag.copy()
    low[edge], high[edge], n_eff[edge], flag[edge] = own.low, own.high, own.n_eff, own.flag
    return Intervals(low=low, high=high, n_eff=n_eff, flag=flag)


def estimate_wave(
    frame: pd.DataFrame,
    codebook: Codebook,
    *,
    wave: str,
    by: Sequence[Sequence[str]] = (),
    design: Mapping[str, Any] | None = None,
    ci_method: str = "wilson",
    level: float = 0.95,
    threads: int | None = None,
) -> pd.DataFrame:
    """The prevalence table of one harmonized wave (see the module docstring).

    Parameters
    ----------
    frame
        Ingest's output: domain columns (categorical), indicator columns (1/0/NaN)
        and design columns.
    codebook
        The wave's codebook (indicator order, denominators).
    wave
        The wave id written in the ``wave`` column.
    by
        Domains; each a sequence of domain ids (more than one is a crossing).
        ``overall`` is always estimated first.
    design
        The wave's ``design:`` block (empty for a simple random sample), or the
        :class:`~prevalence.design.core.SurveyDesign` built from it (ingest's).
    ci_method, level
        The interval method (:data:`prevalence.stats.intervals.METHODS`) and level.
    threads
        Threads for the pass over the rows of large data (see
        :func:`prevalence.stats.variance.domain_proportions_by`); the results do
        not depend on it.
    """
    check_method(ci_method)

    survey = wave_design(frame, design, source=f"wave {wave}")
    return prevalence_table(
        frame,
        {i.id: i.denominator for i in codebook.indicators.values()},
        wave=wave,
        by=by,
        survey=survey,
        ci_method=ci_method,
        level=level,
        threads=threads,
        codebook_path=codebook.path,
    )


def prevalence_table(
    frame: pd.DataFrame,
    indicators: Mapping[str, str | None],
    *,
    wave: str,
    by: Sequence[Sequence[str]] = (),
    survey: Any = None,
    ci_method: str = "wilson",
    level: float = 0.95,
    threads: int | None = None,
    codebook_path: str = "",
    columns: Sequence[str] = COLUMNS,
) -> pd.DataFrame:
    """The prevalence table of indicators in a frame: the one estimation of the package.

    :func:`estimate_wave` (the workflow) and :func:`prevalence.api.prevalence` (the
    Python API) both estimate through this function.

    Parameters
    ----------
    frame
        Indicator columns (float 1/0/NaN) and domain columns (categorical).
    indicators
        Indicator id (its column) to the id of its denominator indicator, or None
        ("all"), in the order of the table's rows.
    wave, by, ci_method, level, threads
        As for :func:`estimate_wave`.
    survey
        The :class:`~prevalence.design.core.SurveyDesign` of the frame's rows, or None for
        a simple random sample.
    codebook_path
        The codebook named by an error about a domain.
    columns
        The columns returned: by default :data:`COLUMNS`; ``deff_replace`` (R's
        ``svymean(deff = "replace")``, 1 without a design) may be among them.
    """
    check_method(ci_method)
    ids = list(indicators)
    y = frame[ids].to_numpy(dtype=float)
    k = len(ids)
    parts = [Partition(OVERALL, [ALL], np.zeros(len(frame), dtype=np.int64))]
    parts += [partition(frame, d, codebook_path=codebook_path) for d in by]
    if survey is not None:  # one pass over the rows for all domain variables
        results = _design_proportions(survey, y, parts, threads)
    else:
        results = [classical_proportions(y, p.codes, len(p.values)) for p in parts]
    denominators = [indicators[i] or "all" for i in ids]
    pieces = []
    for part, res in zip(parts, results, strict=True):
        m = len(part.values)
        pieces.append(
            pd.DataFrame(
                {
                    "domain": part.name,
                    "domain_value": np.repeat(np.array(part.values, dtype=object), k),
                    "indicator": np.tile(ids, m),
                    "denominator": np.tile(denominators, m),
                    **{key: value.T.reshape(-1) for key, value in res.items()},
                }
            )
        )
    table = pd.concat(pieces, ignore_index=True)
    n = table["n"].to_numpy()
    p = table["estimate"].to_numpy(dtype=float)
    se = table["se"].to_numpy(dtype=float)
    # the log-odds' own standard error (replicate designs: from the replicates, as R's svyglm)
    logit = {}
    if "logit_se" in table:
        logit = {
            "logit_se": table["logit_se"].to_numpy(dtype=float),
            "logit_edge": table["logit_edge"].to_numpy(dtype=bool),
        }
    ci = _intervals(table, ci_method, level, logit)
    with np.errstate(invalid="ignore", divide="ignore"):
        kish = np.where(se > 0, p * (1 - p) / se**2, n.astype(float))
    n_eff = np.where(np.isfinite(ci.n_eff), ci.n_eff, kish)
    empty = n == 0
    flag = np.where(empty, "no respondents", ci.flag.astype(object))
    table = table.assign(
        wave=wave,
        ci_low=ci.low,
        ci_high=ci.high,
        ci_method=ci_method,
        level=level,
        n_eff=np.where(empty, np.nan, n_eff),
        suppressed=empty,
        flag=flag,
    )
    table["n"] = table["n"].astype(np.int64)
    table["cases"] = table["cases"].astype(np.int64)
    return table[list(columns)]
