"""Calibration of survey weights to known population totals, as R's ``survey`` does it.

Post-stratification (``postStratify``), raking (``rake``, ``calibrate(calfun = "raking")``),
linear calibration, bounded (truncated) linear calibration and Deville–Särndal logit
calibration (``calibrate(calfun = "linear" | "logit", bounds = )``), and weight trimming
(``trimWeights``). R's ``survey`` 4.1-1 is the reference.

Every method makes the g-weight (calibrated weight over design weight) a function of the
row's *calibration cell*, the crossing of all the margins' categories, so the equations are
solved on the few cell totals, never on the rows: a replicate design recalibrates all its
replicates at once, as one (cells, replicates) table.

The variance after calibration (:class:`Calibration`) follows R's ``svyrecvar``: the scores
of an estimate are replaced by the residuals of their design-weighted regression on the
calibration variables, ``e = z - w X B`` with ``B = (X' D X)^-1 X' (z d / w)`` (``d`` the
design weights, ``w`` the calibrated weights before trimming, as R keeps them). For raking this
is ``calibrate()``'s linearisation; R's ``rake()`` uses backfitting with unweighted means,
which gives the same standard errors when the design weights are equal within the margins'
categories and slightly different ones otherwise.

Every problem is a :class:`~prevalence.errors.DesignError` that names the margin, the
category and the fix. This module reads no file: the population totals come in as a table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse

from prevalence.errors import DesignError

__all__ = [
    "CALIBRATION_KEYS",
    "METHODS",
    "Calibration",
    "CalibrationSpec",
    "calibrate",
    "parse_calibration",
    "trim_weights",
    "weights_summary",
]

METHODS = ("poststratify", "raking", "linear", "logit")
CALIBRATION_KEYS = ("method", "population", "margins", "bounds", "trim", "maxit", "epsilon")
POPULATION_COLUMNS = ("margin", "value", "total")
DEFAULT_MAXIT = 50
DEFAULT_EPSILON = 1e-7
CROSSING = "+"
#: MASS::ginv's tolerance in R's ``grake`` (singular values below it times the largest are 0)
_GINV_TOL = 256 * np.finfo(np.float64).eps
_RANK_TOL = 1e-10
_BLOCK_ELEMENTS = 1 << 20  # elements of a block of replicate weights


# --------------------------------------------------------------------------------------
# the calibration block
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CalibrationSpec:
    """A validated ``calibration:`` block with its population totals.

    Attributes
    ----------
    method
        One of :data:`METHODS`.
    margins
        Each margin as a tuple of domain ids (one id, or several for a crossing).
    totals
        Per margin, the population total of each category (label -> total), in file order.
    bounds
        Bounds (L, U) on the g-weights, L < 1 < U, or None.
    trim
        Bounds (lower, upper) on the final weights, or None.
    maxit, epsilon
        Iterations allowed, and the relative misfit ``|sum w - total| / total`` at which
        the iterative methods stop.
    population_source
        The population file's name, for messages.
    """

    method: str
    margins: tuple[tuple[str, ...], ...]
    totals: tuple[dict[str, float], ...]
    bounds: tuple[float, float] | None = None
    trim: tuple[float, float] | None = None
    maxit: int = DEFAULT_MAXIT
    epsilon: float = DEFAULT_EPSILON
    population_source: str = "population"

    @property
    def names(self) -> tuple[str, ...]:
        """Each margin as the population file names it (a crossing joined by ``+``)."""
        return tuple(CROSSING.join(m) for m in self.margins)

    @property
    def variables(self) -> tuple[str, ...]:
        """The domain ids the margins use, each once, in order of appearance."""
        return tuple(dict.fromkeys(v for m in self.margins for v in m))

    def describe(self) -> dict[str, Any]:
        """JSON-serialisable summary for result metadata."""
        return {
            "method": self.method,
            "population": self.population_source,
            "margins": list(self.names),
            "bounds": None if self.bounds is None else list(self.bounds),
            "trim": None if self.trim is None else list(self.trim),
            "maxit": self.maxit,
            "epsilon": self.epsilon,
        }


def _pair(block: Mapping[str, Any], key: str, source: str) -> tuple[float, float] | None:
    value = block.get(key)
    if value is None:
        return None
    ok = (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and all(math.isfinite(float(v)) for v in value)
    )
    if not ok or float(value[0]) >= float(value[1]):
        raise DesignError(
            f"design.calibration.{key} must be two numbers, the lower below the upper",
            file=source,
            value=value,
            fix=f"write {key}: [0.5, 2.0]" if key == "bounds" else f"write {key}: [1.0, 500.0]",
        )
    return float(value[0]), float(value[1])


def _margins(block: Mapping[str, Any], source: str) -> tuple[tuple[str, ...], ...]:
    raw = block.get("margins")
    fix = "write margins: [region, chamber], or [[region, chamber]] for their crossing"
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise DesignError("design.calibration.margins must be a list", file=source, fix=fix)
    out = []
    for item in raw:
        names = (item,) if isinstance(item, str) else item
        if (
            not isinstance(names, Sequence)
            or not names
            or not all(isinstance(v, str) and v for v in names)
        ):
            raise DesignError(
                "a calibration margin must be a domain id or a list of domain ids",
                file=source,
                value=item,
                fix=fix,
            )
        if len(set(names)) != len(names):
            raise DesignError(
                f"the crossing {CROSSING.join(names)} names a domain twice",
                file=source,
                value=list(names),
                fix="name each domain once in a crossing",
            )
        out.append(tuple(names))
    if len(set(out)) != len(out):
        raise DesignError(
            "design.calibration.margins lists a margin twice",
            file=source,
            value=[CROSSING.join(m) for m in out],
            fix="list each margin once",
        )
    return tuple(out)


def _totals(
    population: pd.DataFrame, names: Sequence[str], population_source: str
) -> tuple[dict[str, float], ...]:
    """Each margin's category totals from the population table, checked."""
    missing = [c for c in POPULATION_COLUMNS if c not in population.columns]
    if missing:
        raise DesignError(
            f"the population file has no column {missing[0]!r}",
            file=population_source,
            column=missing[0],
            fix="give the population file the columns margin,value,total "
            "(one row per category of each margin)",
        )
    margin = population["margin"].astype("string").str.strip()
    value = population["value"].astype("string").str.strip()
    total = pd.to_numeric(population["total"], errors="coerce").to_numpy(dtype=np.float64)

    def line(i: int) -> str:
        return f"line {i + 2}"  # header on line 1

    bad = np.flatnonzero(~np.isfinite(total))
    if bad.size:
        i = int(bad[0])
        raise DesignError(
            f"the population total of margin {margin.iloc[i]!r}, category {value.iloc[i]!r} "
            "is not a number",
            file=population_source,
            column="total",
            row=line(i),
            fix="give every category its population count",
        )
    bad = np.flatnonzero(total <= 0)
    if bad.size:
        i = int(bad[0])
        raise DesignError(
            f"the population total of margin {margin.iloc[i]!r}, category {value.iloc[i]!r} "
            f"is {total[i]:g}; totals must be above 0",
            file=population_source,
            column="total",
            row=line(i),
            fix="give the category its population count, or merge it with another category "
            "in the codebook's labels and in the population file",
        )
    unknown = ~margin.isin(list(names)).to_numpy(dtype=bool)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise DesignError(
            f"the population file has margin {margin.iloc[i]!r}, which "
            "design.calibration.margins does not list",
            file=population_source,
            column="margin",
            row=line(i),
            fix=f"use one of {', '.join(names)} (a crossing joined by '{CROSSING}'), "
            "or add the margin to design.calibration.margins",
        )
    duplicated = (margin + "\x00" + value).duplicated().to_numpy(dtype=bool)
    if duplicated.any():
        i = int(np.flatnonzero(duplicated)[0])
        raise DesignError(
            f"margin {margin.iloc[i]!r}, category {value.iloc[i]!r} is given twice",
            file=population_source,
            row=line(i),
            fix="give each category of a margin one row",
        )
    out = []
    for name in names:
        rows = (margin == name).to_numpy(dtype=bool)
        if not rows.any():
            raise DesignError(
                f"the population file has no totals for margin {name!r}",
                file=population_source,
                column="margin",
                fix=f"add one row per category of {name} (margin,value,total)",
            )
        out.append(dict(zip(value[rows].tolist(), total[rows].tolist(), strict=True)))
    return tuple(out)


def parse_calibration(
    block: Any, population: pd.DataFrame, *, source: str, population_source: str
) -> CalibrationSpec:
    """Validate a ``calibration:`` block against its population table.

    Parameters
    ----------
    block
        The block from config.yaml (``method``, ``population``, ``margins``, ``bounds``,
        ``trim``, ``maxit``, ``epsilon``), a mapping with only these keys.
    population
        The population file read as text: columns ``margin, value, total``.
    source, population_source
        The names of the config and of the population file, for messages.

    Raises
    ------
    DesignError
        An unknown method, margins that are not domain ids, bad bounds (logit needs
        them, L < 1 < U), a population file without a margin's totals, a total of 0 or
        below, a category given twice.
    """
    if not isinstance(block, Mapping):
        raise TypeError("the calibration block must be a mapping (checked by the design)")
    method = block.get("method")
    if method not in METHODS:
        raise DesignError(
            "unknown calibration method",
            file=source,
            value=method,
            fix=f"set design.calibration.method to one of {', '.join(METHODS)}",
        )
    margins = _margins(block, source)
    if method == "poststratify" and len(margins) != 1:
        raise DesignError(
            "post-stratification takes one margin",
            file=source,
            value=[CROSSING.join(m) for m in margins],
            fix="post-stratify on their crossing (margins: [[a, b]]), or use method: raking",
        )
    bounds = _pair(block, "bounds", source)
    if bounds is not None and not bounds[0] < 1.0 < bounds[1]:
        raise DesignError(
            "design.calibration.bounds must hold 1: a lower bound below 1 and an upper above",
            file=source,
            value=list(bounds),
            fix="write bounds: [0.5, 2.0]",
        )
    if method == "logit" and bounds is None:
        raise DesignError(
            "logit calibration needs bounds on the g-weights",
            file=source,
            fix="add bounds: [L, U] with L < 1 < U, for example bounds: [0.5, 2.0]",
        )
    trim = _pair(block, "trim", source)
    if trim is not None and trim[1] <= 0:
        raise DesignError(
            "design.calibration.trim needs an upper bound above 0",
            file=source,
            value=list(trim),
            fix="write trim: [1.0, 500.0]",
        )
    maxit = block.get("maxit", DEFAULT_MAXIT)
    if not isinstance(maxit, int) or isinstance(maxit, bool) or maxit < 1:
        raise DesignError(
            "design.calibration.maxit must be a whole number of at least 1",
            file=source,
            value=maxit,
            fix="write maxit: 50",
        )
    epsilon = block.get("epsilon", DEFAULT_EPSILON)
    if (
        not isinstance(epsilon, int | float)
        or isinstance(epsilon, bool)
        or not 0 < float(epsilon) < 1
    ):
        raise DesignError(
            "design.calibration.epsilon must be a number between 0 and 1",
            file=source,
            value=epsilon,
            fix="write epsilon: 1.0e-7",
        )
    names = tuple(CROSSING.join(m) for m in margins)
    return CalibrationSpec(
        method=method,
        margins=margins,
        totals=_totals(population, names, population_source),
        bounds=bounds,
        trim=trim,
        maxit=int(maxit),
        epsilon=float(epsilon),
        population_source=population_source,
    )


# --------------------------------------------------------------------------------------
# cells and the model matrix
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Cells:
    """The rows' calibration cells and each margin's category of each cell."""

    cell: np.ndarray  # (n,) cell of each row, 0..C-1
    margin_codes: tuple[np.ndarray, ...]  # per margin, (C,) category of each cell
    labels: tuple[tuple[str, ...], ...]  # per margin, its categories (population order)
    totals: tuple[np.ndarray, ...]  # per margin, (K_m,) population totals


def _label_codes(
    domains: pd.DataFrame, margin: tuple[str, ...], spec: CalibrationSpec, source: str
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's category of a margin as codes into its distinct labels."""
    name = CROSSING.join(margin)
    parts = []
    for var in margin:
        if var not in domains.columns:
            raise DesignError(
                f"calibration margin {name!r}: {var!r} is not a domain of the codebook",
                file=spec.population_source,
                value=var,
                fix="use the codebook's domain ids in design.calibration.margins",
            )
        values = domains[var]
        missing = values.isna().to_numpy(dtype=bool)
        if missing.any():
            raise DesignError(
                f"calibration margin {name!r}: {int(missing.sum())} respondents have no "
                f"value of {var!r}",
                file=source,
                column=var,
                row=int(np.flatnonzero(missing)[0]) + 1,
                fix=f"give every respondent a category of {var}, or calibrate on other margins",
            )
        codes, uniques = pd.factorize(values, sort=False)
        parts.append((codes.astype(np.intp), [str(u) for u in uniques]))
    if len(parts) == 1:
        codes, uniques = parts[0]
        return codes, np.array(uniques, dtype=object)
    code = np.zeros(len(domains), dtype=np.intp)
    for c, u in parts:
        code = code * len(u) + c
    code, present = pd.factorize(code, sort=True)
    out = []
    for value in present:
        labels = []
        for _, u in reversed(parts):
            labels.append(u[value % len(u)])
            value //= len(u)
        out.append(CROSSING.join(reversed(labels)))
    return code.astype(np.intp), np.array(out, dtype=object)


def _cells(domains: pd.DataFrame, spec: CalibrationSpec, source: str) -> _Cells:
    n = len(domains)
    combined = np.zeros(n, dtype=np.intp)
    codes_by_margin = []
    labels, totals = [], []
    for margin, margin_totals in zip(spec.margins, spec.totals, strict=True):
        name = CROSSING.join(margin)
        code, sample_labels = _label_codes(domains, margin, spec, source)
        population_labels = list(margin_totals)
        position = {v: i for i, v in enumerate(population_labels)}
        absent = [v for v in sample_labels if v not in position]
        if absent:
            raise DesignError(
                f"calibration margin {name!r}: category {absent[0]!r} of the sample has no "
                "population total",
                file=spec.population_source,
                value=absent[0],
                fix=f"add the row {name},{absent[0]},<total> to the population file, or merge "
                "the category with another in the codebook's labels",
            )
        to_population = np.array([position[v] for v in sample_labels], dtype=np.intp)
        code = to_population[code]
        counts = np.bincount(code, minlength=len(population_labels))
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            value = population_labels[int(empty[0])]
            raise DesignError(
                f"calibration margin {name!r}: no respondent is in category {value!r}, "
                "which has a population total",
                file=spec.population_source,
                value=value,
                fix="merge the category with another in the codebook's labels and in the "
                "population file, or calibrate on a coarser margin",
            )
        k = len(population_labels)
        combined = combined * k + code
        codes_by_margin.append((code, k))
        labels.append(tuple(population_labels))
        totals.append(np.array([margin_totals[v] for v in population_labels]))
    cell, first = _first_codes(combined)
    margin_codes = tuple(code[first] for code, _ in codes_by_margin)
    return _Cells(cell, margin_codes, tuple(labels), tuple(totals))


def _first_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..C-1 of ``values`` (sorted order) and one row of each code."""
    codes, uniques = pd.factorize(values, sort=True)
    codes = codes.astype(np.intp)
    first = np.zeros(len(uniques), dtype=np.intp)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return codes, first


def _model(cells: _Cells) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """The cells' model matrix: an independent set of the margins' category dummies.

    Returns X (C, p), the population totals T (p,) of its columns, and for each column
    its (margin, category).
    """
    blocks, totals, names = [], [], []
    for m, (codes, total) in enumerate(zip(cells.margin_codes, cells.totals, strict=True)):
        k = total.shape[0]
        blocks.append((codes[:, None] == np.arange(k)[None, :]).astype(np.float64))
        totals.append(total)
        names += [(m, j) for j in range(k)]
    full = np.hstack(blocks)
    _, r, piv = scipy.linalg.qr(full, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int(np.count_nonzero(diag > _RANK_TOL * diag[0]))
    keep = np.sort(piv[:rank])
    return full[:, keep], np.concatenate(totals)[keep], [names[i] for i in keep]


# --------------------------------------------------------------------------------------
# solving the calibration equations on cell totals
# --------------------------------------------------------------------------------------
def _logit_g(u: np.ndarray, bounds: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Deville–Särndal's logit g and its derivative (R's ``cal.logit``)."""
    lo, hi = bounds
    a = (hi - lo) / ((hi - 1.0) * (1.0 - lo))
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(a * u)
        den = (hi - 1.0) + (1.0 - lo) * e
        num = lo * (hi - 1.0) + hi * (1.0 - lo) * e
        g = num / den
        dg = hi * (1.0 - lo) * a * e / den - num * (1.0 - lo) * a * e / den**2
    return g, dg


def _g_of(method: str, u: np.ndarray, bounds: tuple[float, float] | None):
    if method == "raking":
        g = np.exp(u)
        return g, g
    if method == "logit":
        return _logit_g(u, bounds)
    g = 1.0 + u  # linear
    if bounds is None:
        return g, np.ones_like(g)
    inside = (g >= bounds[0]) & (g <= bounds[1])
    return np.clip(g, bounds[0], bounds[1]), inside.astype(np.float64)


def _newton(
    x: np.ndarray,
    d: np.ndarray,
    t: np.ndarray,
    method: str,
    spec: CalibrationSpec,
    factor: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Solve sum_c d_c F(x_c' lambda) x_c = T for every column of d (C, R) at once.

    Newton's method with a generalised inverse and step halving, as R's ``grake``, on the
    weights scaled by ``factor`` (:func:`_rescale`). Returns the g (C, R), the relative
    misfit (p, R) and the iterations used.
    """
    p = x.shape[1]
    lam = np.zeros((p, d.shape[1]))
    d = d * factor
    scale = 1.0 + np.abs(t)[:, None]
    for iteration in range(1, spec.maxit + 1):
        g, dg = _g_of(method, x @ lam, spec.bounds)
        misfit = t[:, None] - x.T @ (d * g)
        if np.all(np.abs(misfit) / scale < spec.epsilon):
            return g * factor, misfit / t[:, None], iteration
        jac = np.einsum("cq,cr,cs->rqs", x, d * dg, x)  # (R, p, p)
        step = np.einsum("rqs,sr->qr", np.linalg.pinv(jac, rcond=_GINV_TOL), misfit)
        lam = lam + step
        for _ in range(spec.maxit):
            g_try, dg_try = _g_of(method, x @ lam, spec.bounds)
            bad = ~(np.isfinite(g_try).all(axis=0) & np.isfinite(dg_try).all(axis=0))
            if not bad.any():
                break
            step = np.where(bad[None, :], step / 2.0, 0.0)
            lam = lam - step
    g, _ = _g_of(method, x @ lam, spec.bounds)
    misfit = t[:, None] - x.T @ (d * g)
    return g * factor, misfit / t[:, None], spec.maxit + 1


#: R's ``grake``: when every population total is more than this many times its sample
#: total, the weights are first scaled by the mean of those ratios, and bounds on g are
#: read relative to the scaled weights.
RESCALE_ABOVE = 20.0


def _rescale(cells: _Cells, d: np.ndarray) -> np.ndarray:
    """(1, R) factor of each column of cell totals ``d`` (C, R): 1, or R's rescaling.

    The ratios are those of R's model matrix ``~ a + b``: the intercept (the grand total)
    and every category of each margin but its first (in the population file's order).
    """
    ratios = [np.array([[cells.totals[0].sum()]]) / d.sum(axis=0, keepdims=True)]
    for codes, total in zip(cells.margin_codes, cells.totals, strict=True):
        k = total.shape[0]
        x = (codes[:, None] == np.arange(1, k)[None, :]).astype(np.float64)
        ratios.append(total[1:, None] / (x.T @ d))
    ratios = np.vstack(ratios)
    return np.where(ratios.min(axis=0) > RESCALE_ABOVE, ratios.mean(axis=0), 1.0)[None, :]


def _rake(
    cells: _Cells, d: np.ndarray, spec: CalibrationSpec
) -> tuple[np.ndarray, np.ndarray, int]:
    """Iterative proportional fitting over the margins, in the order given (R's ``rake``).

    Returns the g (C, R), the worst relative misfit per margin category (sum over margins
    of K_m, R) before the last sweep's step, and the sweeps used.
    """
    g = np.ones_like(d)
    n_rep = d.shape[1]
    for sweep in range(1, spec.maxit + 1):
        worst = []
        for codes, total in zip(cells.margin_codes, cells.totals, strict=True):
            k = total.shape[0]
            flat = (codes[:, None] * n_rep + np.arange(n_rep)).ravel()
            sums = np.bincount(flat, weights=(d * g).ravel(), minlength=k * n_rep)
            ratio = total[:, None] / sums.reshape(k, n_rep)
            worst.append(ratio - 1.0)
            g *= ratio[codes]
        misfit = np.vstack(worst)
        if np.all(np.abs(misfit) < spec.epsilon):
            return g, misfit, sweep
    return g, misfit, spec.maxit + 1


def _category(cells: _Cells, spec: CalibrationSpec, row: int) -> tuple[str, str]:
    """The (margin, category) of row ``row`` of the stacked margin categories."""
    for m, labels in enumerate(cells.labels):
        if row < len(labels):
            return spec.names[m], labels[row]
        row -= len(labels)
    raise IndexError(row)


def _solve(
    cells: _Cells, d: np.ndarray, spec: CalibrationSpec, source: str, what: str
) -> np.ndarray:
    """The g-weights (C, R) of every column of the cell totals ``d`` (C, R)."""
    method = spec.method
    if method == "poststratify":
        codes, total = cells.margin_codes[0], cells.totals[0]  # the cells are its categories
        g = total[codes][:, None] / d
        _check_bounds(g, d, cells, spec, source, what)
        return g
    _check_grand_totals(cells, spec)
    if method == "raking":
        g, misfit, used = _rake(cells, d, spec)
        if used > spec.maxit:
            r, off = _worst(misfit, d)
            margin, category = _category(cells, spec, r)
            raise DesignError(
                f"raking did not converge in {spec.maxit} sweeps{what}{off[0]}: margin "
                f"{margin!r}, category {category!r} is still off its total by {off[1]}",
                file=source,
                fix="raise design.calibration.maxit or epsilon, or merge sparse categories; "
                "raking that does not converge often means margins that contradict each other",
            )
        _check_bounds(g, d, cells, spec, source, what)
        return g
    x, t, columns = _model(cells)
    if method == "linear" and spec.bounds is None:
        lhs = np.einsum("cq,cr,cs->rqs", x, d, x)
        rhs = (t[:, None] - x.T @ d).T[:, :, None]
        lam = np.linalg.solve(lhs, rhs)[:, :, 0].T
        return 1.0 + x @ lam
    g, misfit, used = _newton(x, d, t, method, spec, _rescale(cells, d))
    if used > spec.maxit:
        r, off = _worst(misfit, d)
        m, j = columns[r]
        lo, hi = spec.bounds
        raise DesignError(
            f"no {method} calibration within bounds [{lo:g}, {hi:g}] meets the totals"
            f"{what}{off[0]}: margin {spec.names[m]!r}, category {cells.labels[m][j]!r} is "
            f"still off its total by {off[1]} after {spec.maxit} iterations",
            file=source,
            fix="widen design.calibration.bounds, merge sparse categories, or raise maxit",
        )
    return g


def _worst(misfit: np.ndarray, d: np.ndarray) -> tuple[int, tuple[str, str]]:
    """The row of the largest misfit, the replicate it is in (text) and its size (text)."""
    r, c = np.unravel_index(np.argmax(np.abs(misfit)), misfit.shape)
    replicate = f" (replicate {int(c) + 1})" if d.shape[1] > 1 else ""
    return int(r), (replicate, f"{abs(float(misfit[r, c])):.3g} (relative)")


def _check_grand_totals(cells: _Cells, spec: CalibrationSpec) -> None:
    grand = [float(t.sum()) for t in cells.totals]
    for m in range(1, len(grand)):
        if not math.isclose(grand[m], grand[0], rel_tol=1e-9):
            raise DesignError(
                f"the totals of margin {spec.names[m]!r} sum to {grand[m]:.10g} and those of "
                f"{spec.names[0]!r} to {grand[0]:.10g}: a difference of "
                f"{grand[m] - grand[0]:.10g}",
                file=spec.population_source,
                value=spec.names[m],
                fix="every margin must count the same population; correct the totals so that "
                "each margin sums to the same number",
            )


def _check_bounds(
    g: np.ndarray, d: np.ndarray, cells: _Cells, spec: CalibrationSpec, source: str, what: str
) -> None:
    """Post-stratification and raking cannot move g into bounds: check that it is inside."""
    if spec.bounds is None:
        return
    lo, hi = spec.bounds
    g = g / _rescale(cells, d)  # as R reads bounds (see RESCALE_ABOVE)
    out = (g < lo * (1 - 1e-12)) | (g > hi * (1 + 1e-12))
    if out.any():
        c = int(np.argwhere(out)[0][0])
        where = _cell_name(cells, spec, c)
        raise DesignError(
            f"{spec.method} gives g-weights outside the bounds [{lo:g}, {hi:g}]{what} "
            f"(g = {float(g.flat[np.flatnonzero(out.ravel())[0]]):.4g} in the cell {where})",
            file=source,
            fix="widen design.calibration.bounds, or use method: logit or linear, which "
            "keep g inside them",
        )


# --------------------------------------------------------------------------------------
# trimming
# --------------------------------------------------------------------------------------
def trim_weights(w: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """R's ``trimWeights(strict = FALSE)``: one pass of clipping and redistribution.

    Weights outside ``[lower, upper]`` are set to the bound; the net amount removed is
    added in equal shares to the weights that were inside (the same absolute amount for
    each), so the sum of the weights is kept.
    """
    w = np.asarray(w, dtype=np.float64)
    outside = (w < lower) | (w > upper)
    if not outside.any():
        return w.copy()
    out = np.clip(w, lower, upper)
    excess = float(w.sum() - out.sum())
    inside = ~outside
    if inside.any():
        out[inside] += excess / np.count_nonzero(inside)
    return out


# --------------------------------------------------------------------------------------
# the calibrated design
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Calibration:
    """Calibrated weights of a design and what its variance needs.

    Attributes
    ----------
    spec
        The calibration block.
    cell
        (n,) calibration cell of each row.
    x
        (C, p) model matrix of the cells (independent category dummies).
    cell_design_totals
        (C,) sum of the design weights in each cell (``X' D X = x' diag(this) x``).
    design_weights
        (n,) weights before calibration.
    calibrated
        (n,) calibrated weights before trimming (R keeps these for the variance).
    weights
        (n,) final weights (after trimming).
    replicate_weights
        (n, R) recalibrated replicate weights, or None.
    """

    spec: CalibrationSpec
    cell: np.ndarray
    x: np.ndarray
    cell_design_totals: np.ndarray
    design_weights: np.ndarray
    calibrated: np.ndarray
    weights: np.ndarray
    replicate_weights: np.ndarray | None = None

    @property
    def n_cells(self) -> int:
        return int(self.x.shape[0])

    @property
    def residual_weights(self) -> np.ndarray:
        """(n,) ``w d / w_cal``: the weight of a row's score in ``X' (z d / w_cal)``."""
        return self.weights * self.design_weights / self.calibrated

    def coefficients(self, cross: np.ndarray) -> np.ndarray:
        """``B = (X' D X)^-1 X' (z d / w_cal)`` from the cell sums of ``z d / w_cal``.

        ``cross`` is (C, ...) sums per calibration cell; returns (p, ...).
        """
        gram = self.x.T @ (self.cell_design_totals[:, None] * self.x)
        rhs = self.x.T @ cross.reshape(self.n_cells, -1)
        return np.linalg.solve(gram, rhs).reshape((self.x.shape[1], *cross.shape[1:]))

    def residuals(self, z: np.ndarray) -> np.ndarray:
        """(n, L) calibration residuals ``z - w_cal X B`` of row scores ``z`` (n, L)."""
        z = np.asarray(z, dtype=np.float64)
        values = z * (self.design_weights / self.calibrated)[:, None]
        cols = z.shape[1]
        flat = (self.cell[:, None] * cols + np.arange(cols)).ravel()
        cross = np.bincount(flat, weights=values.ravel(), minlength=self.n_cells * cols)
        coef = self.coefficients(cross.reshape(self.n_cells, cols))  # (p, L)
        return z - self.calibrated[:, None] * (self.x @ coef)[self.cell]

    def unit_totals(self, unit: np.ndarray, n_units: int) -> np.ndarray:
        """(n_units, p) totals of ``w_cal x`` over the rows of each sampling unit."""
        values = self.calibrated[:, None] * self.x[self.cell]
        p = self.x.shape[1]
        flat = (unit[:, None] * p + np.arange(p)).ravel()
        return np.bincount(flat, weights=values.ravel(), minlength=n_units * p).reshape(n_units, p)

    def describe(self) -> dict[str, Any]:
        """The block and the weights before and after (for the wave's log)."""
        return {
            **self.spec.describe(),
            "cells": self.n_cells,
            "weights_before": weights_summary(self.design_weights),
            "weights_after": weights_summary(self.weights),
            "replicates_recalibrated": None
            if self.replicate_weights is None
            else int(self.replicate_weights.shape[1]),
        }


def weights_summary(w: np.ndarray) -> dict[str, float]:
    """Min, max, max/min, coefficient of variation and Kish's 1 + CV^2 of weights.

    The CV uses the population standard deviation (divisor n), as Kish's design effect
    due to unequal weighting ``n sum w^2 / (sum w)^2 = 1 + CV^2`` needs.
    """
    w = np.asarray(w, dtype=np.float64)
    mean = float(w.mean())
    cv = float(w.std() / mean)
    return {
        "n": int(w.size),
        "sum": float(w.sum()),
        "min": float(w.min()),
        "max": float(w.max()),
        "ratio": float(w.max() / w.min()),
        "cv": cv,
        "kish_deff": 1.0 + cv * cv,
    }


def calibrate(
    domains: pd.DataFrame,
    weights: np.ndarray,
    spec: CalibrationSpec,
    *,
    replicate_weights: np.ndarray | None = None,
    source: str = "responses",
) -> Calibration:
    """Calibrate design weights (and every replicate's) to the population totals.

    Parameters
    ----------
    domains
        The rows' domain values (labels as text), with a column for each margin variable.
    weights
        (n,) design weights (> 0).
    spec
        The calibration block (:func:`parse_calibration`).
    replicate_weights
        (n, R) replicate analysis weights: each column is calibrated again to the same
        totals with the same method and bounds (R's ``calibrate`` on a ``svrepdesign``).
        Rows with replicate weight 0 stay at 0.
    source
        The data's name, for messages.

    Returns
    -------
    Calibration

    Raises
    ------
    DesignError
        A respondent without a category of a margin; a sample category without a population
        total; a population category without respondents; margins whose totals disagree
        (the difference is given); raking that does not converge within ``maxit``; bounds
        that no solution meets (for the full sample or a replicate); ``trim`` on a replicate
        design.
    """
    d = np.asarray(weights, dtype=np.float64)
    cells = _cells(domains, spec, source)
    n_cells = len(cells.margin_codes[0])
    cell_d = np.bincount(cells.cell, weights=d, minlength=n_cells)
    g = _solve(cells, cell_d[:, None], spec, source, "")[:, 0]
    calibrated = d * g[cells.cell]
    final = calibrated if spec.trim is None else trim_weights(calibrated, *spec.trim)
    reps = None
    if replicate_weights is not None:
        if spec.trim is not None:
            raise DesignError(
                "design.calibration.trim cannot be used with replicate weights",
                file=source,
                fix="remove trim, or use Taylor linearisation (strata/psu) instead of "
                "replicates; R's trimWeights leaves replicate weights untrimmed",
            )
        rw = np.asarray(replicate_weights, dtype=np.float64)
        n, n_rep = rw.shape
        member = scipy.sparse.csr_matrix(
            (np.ones(n), (cells.cell, np.arange(n))), shape=(n_cells, n)
        )
        cell_r = np.asarray(member @ rw)  # (C, R) totals, one pass over the matrix
        if (cell_r <= 0).any():
            c, r = np.argwhere(cell_r <= 0)[0]
            raise DesignError(
                f"replicate {int(r) + 1} has no weight in a calibration cell "
                f"({_cell_name(cells, spec, int(c))}), so it cannot be calibrated",
                file=source,
                fix="calibrate on coarser margins, so that every replicate keeps "
                "respondents in every category",
            )
        g_r = _solve(cells, cell_r, spec, source, f" for the replicate weights (of {n_rep})")
        reps = np.empty_like(rw)
        step = max(1, _BLOCK_ELEMENTS // n_rep)
        for a in range(0, n, step):  # blocks of rows: no (rows, R) temporary
            np.multiply(rw[a : a + step], g_r[cells.cell[a : a + step]], out=reps[a : a + step])
    x = _model(cells)[0]  # post-stratification: the cells' dummies
    return Calibration(
        spec=spec,
        cell=cells.cell,
        x=x,
        cell_design_totals=cell_d,
        design_weights=d,
        calibrated=calibrated,
        weights=final,
        replicate_weights=reps,
    )


def _cell_name(cells: _Cells, spec: CalibrationSpec, c: int) -> str:
    return ", ".join(
        f"{spec.names[m]} = {cells.labels[m][int(cells.margin_codes[m][c])]}"
        for m in range(len(spec.margins))
    )
