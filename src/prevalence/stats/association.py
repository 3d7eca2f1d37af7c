"""Tests of association between an indicator and a domain.

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

References
----------
Rao JNK, Scott AJ (1984). On chi-squared tests for multiway contingency tables
with cell proportions estimated from survey data. The Annals of Statistics
12(1):46-60.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special  # scipy.stats's normal, t, F and chi-square call these

from prevalence.contract import join_flags, truthy
from prevalence.data.codebook import Codebook
from prevalence.design.core import wave_design
from prevalence.stats.contrasts import flag_text, valid_rows_df
from prevalence.stats.estimate import partition

__all__ = [
    "ASSOCIATION_COLUMNS",
    "FLAG_DOMAIN_SUPPRESSED",
    "METHOD_RAO_SCOTT",
    "METHOD_PEARSON",
    "rao_scott",
    "association_tests",
    "association_families",
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


FLAG_DOMAIN_SUPPRESSED = "domain has suppressed cells"


METHOD_RAO_SCOTT = "Pearson X^2: Rao & Scott adjustment"


METHOD_PEARSON = "Pearson X^2 (simple random sample)"


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
        A :class:`~prevalence.design.core.SurveyDesign`, or None for a simple random
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
    call of :func:`prevalence.stats.variance.ratio_covariance`; the tables are then
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
        from prevalence.stats.variance import cell_ratio_covariance

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
                res["flag"].to_numpy(dtype=object), flag_text(flagged, FLAG_DOMAIN_SUPPRESSED)
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


def association_families(tests: pd.DataFrame, family: str) -> pd.DataFrame:
    out = tests.copy()
    if family == "all":
        label = pd.Series("all", index=out.index)
    elif family == "indicator":
        label = "indicator " + out["indicator"].astype(str)
    else:
        label = out["wave"].astype(str) + ": " + out["domain"].astype(str)
    out["family"] = (label + " (" + out["statistic"].astype(str) + ")").to_numpy()
    return out
