"""Weighted proportions by domain with design-based standard errors.

:func:`domain_proportions` computes, for k binary indicators and m domain
values at once, what R's ``survey`` package (4.1-1) reports for
``svymean(~y, subset(design, !is.na(y) & domain == d), deff = TRUE)``:

* the weighted proportion ``sum(w y) / sum(w)``;
* its variance by Taylor linearisation (strata, one or two stages of
  clusters, finite population corrections, lonely-PSU policies) or from
  replicate weights;
* ``degf()`` of the domain design, the design effects (``deff = TRUE`` and
  ``deff = "replace"``), the number of rows and of cases.

One pass over the rows serves every indicator and every domain variable of a
table (:func:`domain_proportions_by`): each indicator's rows are summed by
sampling unit crossed with the cell of the domain variables, and everything
else is computed from those few group totals with sparse matrix products.
Nothing loops over rows, PSUs, domain values or replicates in Python. Large
data take that pass in compiled code (:mod:`prevalence.design._kernels`, numba),
with the indicators shared among threads; it adds the same numbers in the
same order as the ``np.bincount`` pass of smaller data, so both give the same
bits, whatever the number of threads.

Domains follow R's rule for a subset of a ``svydesign`` object: rows outside
the domain are dropped but each stratum keeps its number of sampled PSUs
``n_h`` (and population ``N_h``) from the full design, so PSUs without domain
rows enter the variance as zeros. Strata without domain rows contribute
nothing and are not counted (this matters for ``lonely_psu = "average"``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse
from scipy import special

from prevalence.design.arrays import (
    SELF_REPRESENTING_TOL,
    compiled,
    dense_codes,
    sampling_complement,
)
from prevalence.design.core import SurveyDesign
from prevalence.design.replicates import ReplicateWeights, pattern_ranks
from prevalence.errors import DesignError

__all__ = [
    "DomainProportions",
    "RatioCovariance",
    "domain_proportions",
    "cell_ratio_covariance",
    "domain_proportions_by",
    "glm_logit_stop",
    "ratio_covariance",
]

_CHUNK_ELEMENTS = 4_000_000


@dataclass(frozen=True, eq=False)
class DomainProportions:
    """Estimates for k indicators x m domain values; every array has shape (k, m).

    Attributes
    ----------
    n
        Valid (non-NaN) rows of indicator j in domain value d.
    cases
        Rows with y == 1 among those.
    estimate
        Weighted proportion ``sum(w y) / sum(w)``; NaN when ``n == 0``.
    se
        Design-based standard error (Taylor or replicate), as ``svymean``.
        0 when all valid responses are equal; NaN when ``n == 0``, and NaN as in
        R when ``lonely_psu = "average"`` leaves no stratum to average over or
        every replicate estimate is undefined.
    df
        R's ``degf()`` of the domain design ``design[!is.na(y) & domain == d]``:
        PSUs with domain rows minus strata with domain rows (Taylor), or the rank
        of the domain rows' replicate weights minus 1. NaN when ``n == 0``.
    deff
        ``svymean(deff = TRUE)``: variance over the without-replacement SRS
        variance ``s^2 (W - n) / (W n)`` with W the estimated population of the
        domain. ``inf`` when W == n (all weights 1) and NaN when W < n (R: NA),
        NaN when p is 0 or 1 or n == 1.
    deff_replace
        ``svymean(deff = "replace")``: variance over ``s^2 / n``.
    n_rows
        Rows of the domain design (equal to ``n`` under this subset convention).
    logit_se
        Standard error of the log-odds ``logit(p)``, as R's
        ``svyglm(y ~ 1, design, family = quasibinomial)`` on the domain design
        reports it (the one behind ``svyciprop(method = "logit")``). Taylor
        designs: ``se / (p (1 - p))``, the linearisation of the log-odds (R's
        sandwich variance is that). Replicate designs: the replicate variance
        (``scale``, ``rscales``, ``mse``) of the log-odds of every replicate's
        estimate, centred on the mean of those log-odds or, with ``mse``, on
        ``logit(p)`` (R refits the model on each replicate). A replicate
        estimate of 0 or 1 has no finite log-odds; it enters with the value at
        which R's ``glm.fit`` stops (:func:`glm_logit_stop`). NaN when p is 0
        or 1 or ``n == 0``.
    logit_edge
        True where ``0 < p < 1`` but some replicate estimate is 0 or 1, so that
        ``logit_se`` depends on that stopping point (always False for Taylor
        designs).
    """

    n: np.ndarray
    cases: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    deff: np.ndarray
    deff_replace: np.ndarray
    n_rows: np.ndarray
    logit_se: np.ndarray
    logit_edge: np.ndarray


def domain_proportions(
    design: SurveyDesign, y: np.ndarray, domain: np.ndarray | None, m: int
) -> DomainProportions:
    """Weighted proportions, standard errors, df and design effects by domain.

    Parameters
    ----------
    design
        The survey design (rows in the same order as ``y``).
    y
        (n_rows, k) float array of 0/1 with NaN = outside the denominator
        (missing or not asked). A 1-D array is one indicator.
    domain
        (n_rows,) integer codes in ``[0, m)``, or -1 for rows in no domain
        value. For the whole sample pass None (or zeros) and ``m = 1``.
    m
        Number of domain values.

    Returns
    -------
    DomainProportions
        Arrays of shape (k, m). The domain of cell (j, d) is the rows with
        ``domain == d`` and ``y[:, j]`` not NaN (R: ``design[!is.na(y), ]``
        then by domain); the other rows stay in the variance with zero scores,
        so PSU and stratum padding is R's.

    Raises
    ------
    ValueError
        If the shapes do not match the design, ``y`` holds values other than
        0, 1 and NaN, or a domain code is outside ``[-1, m)``.
    DesignError
        Under ``lonely_psu = "fail"`` if a cell reaches a stratum (or, at stage
        2, a PSU) with a single sampled unit; R stops with "Stratum (h) has
        only one PSU" in the same situation.

    Notes
    -----
    Taylor variance of the ratio p = sum(w y)/sum(w) uses the scores
    ``z = w (y - p) / sum(w)`` of the domain rows and, per stratum with domain
    rows, ``f_h n_h / (n_h - 1) sum_i (z_hi - zbar_h)^2`` over its ``n_h``
    PSU totals (zeros for PSUs without domain rows), ``f_h = 1 - n_h/N_h``
    (1 without fpc; 0 contribution when ``f_h < 1e-7``). With an fpc at both
    stages the second stage adds, for every PSU with domain rows,
    ``(n_h/N_h) f_i n_i/(n_i - 1) sum_s (z_is - zbar_i)^2`` over its sampled
    second-stage units. A stratum with one PSU contributes 0 (``remove``,
    ``certainty``), ``f_h z_h^2`` (``adjust``), or is left out and the others
    are scaled by strata/non-lonely strata (``average``).

    Replicate variance is ``scale sum_r rscales_r (p_r - c)^2`` with
    ``p_r`` the domain proportion under replicate weights r, ``c`` their mean
    over replicates with ``rscales > 0`` (or p when ``mse``); replicates whose
    domain weights are all zero are dropped, as R's ``svrVar`` does.
    """
    return domain_proportions_by(design, y, [(domain, m)])[0]


def domain_proportions_by(
    design: SurveyDesign,
    y: np.ndarray,
    domains: Sequence[tuple[np.ndarray | None, int]],
    *,
    threads: int | None = None,
) -> list[DomainProportions]:
    """:func:`domain_proportions` for several domain variables in one pass over the rows.

    Parameters
    ----------
    design, y
        As for :func:`domain_proportions`.
    domains
        One ``(codes, m)`` pair per domain variable, each as the ``domain``
        and ``m`` of :func:`domain_proportions`; the whole sample is
        ``(None, 1)`` (or zeros).
    threads
        Threads for the pass over the rows (one indicator per thread at a
        time); by default the processors this process may use, up to 8. Small
        data always run in one thread. The results do not depend on it.

    Returns
    -------
    list of DomainProportions
        One per domain variable, equal to :func:`domain_proportions` on it.

    Notes
    -----
    Under Taylor linearisation the rows are summed once per indicator, by
    sampling unit and by the crossing of all the domain variables; every
    domain variable's sums per (unit, domain value) are then sums of those
    few group totals. Replicate variance is computed per domain variable.
    """
    n = design.n
    yy = _indicator_matrix(y, n)
    doms = [_domain_codes(codes, m, n) for codes, m in domains]
    k = yy.shape[1]
    if k == 0:
        out = []
        for _, m in doms:
            none = np.empty((0, m))
            ints = np.empty((0, m), dtype=np.int64)
            out.append(
                DomainProportions(
                    ints,
                    ints.copy(),
                    none,
                    none,
                    none,
                    none,
                    none,
                    ints.copy(),
                    none,
                    np.empty((0, m), dtype=bool),
                )
            )
        return out
    if not doms:
        return []
    workers = _threads(threads, n, k)
    if design.replicates is not None:
        return [
            _replicate(
                design,
                design.replicates,
                yy,
                np.zeros(n, np.intp) if dom is None else dom.astype(np.intp, copy=False),
                m,
            )
            for dom, m in doms
        ]
    return _taylor(design, yy, doms, workers)


# --------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------
_THREAD_MIN_ROWS = 200_000  # below this, threads cost more than they save
_SPARSE_MIN_ELEMENTS = 20_000  # from here, a sparse product sums rows faster than bincount
_MAX_THREADS = 8


def _indicator_matrix(y: np.ndarray, n: int) -> np.ndarray:
    yy = np.asarray(y, dtype=np.float64)
    if yy.ndim == 1:
        yy = yy[:, None]
    if yy.ndim != 2 or yy.shape[0] != n:
        raise ValueError(f"y must have shape ({n}, k); got {np.shape(y)}")
    return np.asfortranarray(yy)


def _domain_codes(domain: np.ndarray | None, m: int, n: int) -> tuple[np.ndarray | None, int]:
    """Checked codes of a domain variable; None stays None (the whole sample)."""
    m = int(m)
    if m < 1:
        raise ValueError("m must be at least 1")
    if domain is None:  # the whole sample, without an array of zeros to write and read
        if m != 1:
            raise ValueError("domain None (the whole sample) has m = 1")
        return None, 1
    dom = np.asarray(domain)
    if dom.shape != (n,):
        raise ValueError(f"domain must have shape ({n},); got {dom.shape}")
    if not np.issubdtype(dom.dtype, np.integer):
        raise ValueError("domain must hold integer codes")
    if dom.dtype.kind == "u" or dom.dtype.itemsize > np.dtype(np.intp).itemsize:
        dom = dom.astype(np.intp)  # signed, so that -1 and arithmetic behave
    if n and (dom.min() < -1 or dom.max() >= m):
        raise ValueError(f"domain codes must lie in [-1, {m})")
    return dom, m


def _threads(threads: int | None, n: int, k: int) -> int:
    if threads is None:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            threads = os.cpu_count() or 1
        threads = min(threads, _MAX_THREADS)
    if n < _THREAD_MIN_ROWS:
        return 1
    return max(1, min(int(threads), k))


def _sum_rows(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """(size, k) sums of the rows of ``values`` (G, k) by ``index`` (G,).

    Every output row adds its input rows in their order: with ``np.bincount``
    for small inputs, otherwise as a sparse 0/1 (size, G) matrix times
    ``values`` (one pass, no contention on few outputs). Both give the same bits.
    """
    g, k = values.shape
    if g * k < _SPARSE_MIN_ELEMENTS:
        flat = (index[:, None] * k + np.arange(k)).ravel()
        return np.bincount(flat, weights=values.ravel(), minlength=size * k).reshape(size, k)
    indicator = scipy.sparse.csr_matrix((np.ones(g), (index, np.arange(g))), shape=(size, g))
    return np.asarray(indicator @ values).reshape(size, k)


@dataclass(frozen=True, eq=False)
class _Groups:
    """Row i's group: ``unit[i] * stride + cell[i] + offset``, a code in ``[0, size)``.

    The group is a sampling unit crossed with a cell of the domain variables
    (``size = units * n_cells``). Kept as its parts so that the compiled pass
    computes it on the fly; :meth:`codes` makes the array. With ``stride``
    0, ``cell`` is the group itself.
    """

    unit: np.ndarray
    stride: int
    cell: np.ndarray
    offset: int
    size: int
    n_cells: int
    levels: np.ndarray  # (n_cells, D): each cell's code in each domain variable

    @classmethod
    def given(cls, codes: np.ndarray, size: int) -> _Groups:
        """Groups whose codes are already known (no cells to decode)."""
        return cls(codes, 0, codes, 0, size, 1, np.zeros((1, 0), dtype=np.intp))

    def codes(self) -> np.ndarray:
        if self.stride == 0:
            return np.asarray(self.cell, dtype=np.intp)
        group = np.multiply(self.unit, self.stride, dtype=np.intp)
        group += self.cell
        group += self.offset
        return group


def _row_groups(
    unit: np.ndarray, n_units: int, doms: list[tuple[np.ndarray | None, int]]
) -> _Groups:
    """Each row's group: its sampling unit crossed with its cell of the domain variables.

    A cell is one combination of the domain variables' codes (-1, "in no
    value", included); a variable with one value that every row has (the
    whole sample) does not split anything. Cells are numbered by their codes
    (mixed radix) and decoded without the rows, unless there are too many
    combinations to number: then only those that occur are numbered.
    """
    n = unit.shape[0]
    varying = [
        (j, dom, m)
        for j, (dom, m) in enumerate(doms)
        if dom is not None and not (m == 1 and n and dom.min() == 0)
    ]
    n_cells = 1
    for _, _, m in varying:
        n_cells *= m + 1
    levels = np.zeros((n_cells if n_cells <= max(4 * n, 1 << 16) else 0, len(doms)), np.intp)
    if not varying:
        return _Groups(unit, 0, unit, 0, n_units, 1, levels)
    if levels.shape[0]:
        radices = [m + 1 for _, _, m in varying]
        for (j, _, _), code in zip(
            varying, np.unravel_index(np.arange(n_cells), radices), strict=True
        ):
            levels[:, j] = code - 1
        if len(varying) == 1:  # cell = code + 1
            return _Groups(unit, n_cells, varying[0][1], 1, n_units * n_cells, n_cells, levels)
        cell = np.zeros(n, dtype=np.intp)
        stride = n_cells
        for _, dom, m in varying:
            stride //= m + 1
            cell += np.multiply(dom, stride, dtype=np.intp)
            cell += stride
        return _Groups(unit, n_cells, cell, 0, n_units * n_cells, n_cells, levels)
    cell = np.zeros(n, dtype=np.intp)
    for _, dom, m in varying:
        cell *= m + 1
        cell += dom
        cell += 1
        cell, present = dense_codes(cell)
    n_cells = int(present.size)
    levels = np.zeros((n_cells, len(doms)), dtype=np.intp)
    for j, dom, _ in varying:
        col = np.full(n_cells, -1, dtype=np.intp)
        col[cell] = dom
        levels[:, j] = col
    return _Groups(unit, n_cells, cell, 0, n_units * n_cells, n_cells, levels)


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _map(fn, items, workers: int) -> list:
    """``[fn(i) for i in items]``, in ``workers`` threads when more than one.

    The threads are kept for the next call (their stacks are then already
    mapped), one pool per number of workers.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [fn(i) for i in items]
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None:
            pool = _POOLS[workers] = ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="prevalence"
            )
    return list(pool.map(fn, items))


def _indicator_sums(
    y: np.ndarray, groups: _Groups, w: np.ndarray, workers: int = 1, *, by_answer: bool = False
) -> np.ndarray:
    """Per group and indicator: sum(w y), sum(w), valid rows and cases, as (G, 4, k).

    With ``by_answer``: sum(w) of the yes rows, of the no rows, rows answering no,
    rows answering yes (the sums of the rest, before they are added up).

    Each indicator's rows are keyed by group and response: the weights and
    the number of rows with y = 1 and with y = 0 are summed by group (NaN
    rows are left out), and sum(w) is the sum of the two weight totals. Large
    data take one compiled pass per indicator (:mod:`prevalence.design._kernels`);
    smaller data two ``np.bincount`` calls. Both add the same numbers in the
    same order, so they agree to the last bit, and an indicator's sums do not
    depend on the others. With several workers, indicators run in parallel
    threads (both release the GIL), each writing its own block of the result.
    Counts are exact in float64.

    Raises
    ------
    ValueError
        If an indicator holds a value other than 0, 1 and NaN.
    """
    n, k = y.shape
    n_groups = groups.size
    # per indicator and group: w for y = 1, w for y = 0, rows with y = 0, rows with y = 1
    acc = np.zeros((k, n_groups, 4))
    invalid = np.zeros(k, dtype=np.int64)
    kernel = compiled("response_sums", n)
    if kernel is not None:
        g = groups
        bounds = np.linspace(0, k, min(workers, k) + 1).round().astype(int)

        def run(part: int) -> None:
            j0, j1 = int(bounds[part]), int(bounds[part + 1])
            kernel(y, g.unit, g.stride, g.cell, g.offset, w, j0, j1, acc, invalid)

        _map(run, range(len(bounds) - 1), workers)
    else:
        g3 = groups.codes() * 3
        size = 3 * n_groups
        local = threading.local()

        def run(j: int) -> None:
            buffers = getattr(local, "buffers", None)
            if buffers is None:
                buffers = local.buffers = (
                    np.empty(n, dtype=bool),
                    np.empty(n, dtype=bool),
                    np.empty(n, dtype=np.intp),
                )
            one, zero, key = buffers
            col = y[:, j]
            np.equal(col, 1.0, out=one)
            np.equal(col, 0.0, out=zero)
            np.add(g3, zero, out=key)  # key 3 g + r: r = 0 NaN (or other), 1 zero, 2 one
            np.add(key, one, out=key)
            np.add(key, one, out=key)
            valid = np.count_nonzero(one) + np.count_nonzero(zero)
            np.isnan(col, out=one)
            invalid[j] = n - valid - np.count_nonzero(one)
            weighted = np.bincount(key, weights=w, minlength=size).reshape(n_groups, 3)
            counts = np.bincount(key, minlength=size).reshape(n_groups, 3)
            acc[j, :, 0] = weighted[:, 2]
            acc[j, :, 1] = weighted[:, 1]
            acc[j, :, 2] = counts[:, 1]
            acc[j, :, 3] = counts[:, 2]

        _map(run, range(k), workers)
    bad = np.flatnonzero(invalid)
    if bad.size:
        raise ValueError(f"indicator {int(bad[0])} holds values other than 0, 1 and NaN")
    if not by_answer:
        acc[:, :, 1] += acc[:, :, 0]  # sum(w) over valid rows = zeros' + ones'
        acc[:, :, 2] += acc[:, :, 3]  # valid rows
    return acc.transpose(1, 2, 0)  # (G, 4, k): sum(w y), sum(w), rows, cases


def _design_effects(
    p: np.ndarray, n: np.ndarray, total_w: np.ndarray, var: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """R's ``svymean`` design effects for a 0/1 variable.

    ``s^2 = n/(n-1) sum w (y-p)^2 / W = n/(n-1) p (1-p)``;
    ``deff = V / (s^2 (W-n)/(W n))`` (NaN when W < n, as R's NA),
    ``deff_replace = V / (s^2/n)``.
    """
    nf = n.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = nf / (nf - 1.0) * p * (1.0 - p)
        vsrs = s2 * (total_w - nf) / (total_w * nf)
        deff = np.where(total_w < nf, np.nan, var / vsrs)
        deff_replace = var / (s2 / nf)
    return deff, deff_replace


def _lonely_error(design: SurveyDesign, stratum: int, stage: int) -> DesignError:
    label = design.stratum_labels[stratum] if stratum < len(design.stratum_labels) else stratum
    col = design.columns.strata if stage == 1 else (design.columns.psu or (None,))[0]
    what = f"stratum {label!r}" if stage == 1 else "a PSU"
    return DesignError(
        f"{what} has only one sampled unit at stage {stage}",
        file=design.columns.source,
        column=col,
        value=label if stage == 1 else None,
        fix="set design.lonely_psu to remove, certainty, adjust or average",
    )


# --------------------------------------------------------------------------------------
# Taylor linearisation
# --------------------------------------------------------------------------------------
def _taylor(
    design: SurveyDesign, y: np.ndarray, doms: list[tuple[np.ndarray | None, int]], workers: int
) -> list[DomainProportions]:
    unit = design.ssu if design.has_stage2 else design.psu
    n = design.n
    n_units = int(design.ssu_psu.shape[0] if design.has_stage2 else design.n_psu)
    groups = _row_groups(unit, n_units, doms)
    n_cells, levels = groups.n_cells, groups.levels
    if groups.size <= n:  # (unit, cell) pairs as they are: no more than the rows
        sums = _indicator_sums(y, groups, design.weights, workers)
        occupied = np.flatnonzero(sums[:, 2].any(axis=1))  # groups with valid rows
        sums = sums[occupied]
    else:
        group, occupied = dense_codes(groups.codes())
        sums = _indicator_sums(y, _Groups.given(group, int(occupied.size)), design.weights, workers)
    cal = design.calibration
    if cal is not None:
        cal_groups = _row_groups(cal.cell, cal.n_cells, doms)
        cal_sums = _indicator_sums(y, cal_groups, cal.residual_weights, workers)
        cal_terms = _calibration_terms(design, unit, n_units)
    out = []
    for j, (_, m) in enumerate(doms):
        own, g_unit, g_dom = _by_domain(sums, occupied, n_cells, levels[:, j], m)
        cal_part = None
        if cal is not None:
            every = np.arange(cal_groups.size)
            cal_part = (
                *_by_domain(cal_sums, every, cal_groups.n_cells, cal_groups.levels[:, j], m),
                *cal_terms,
            )
        out.append(_taylor_domains(design, own, g_unit, g_dom, m, cal_part))
    return out


def _by_domain(
    sums: np.ndarray, occupied: np.ndarray, n_cells: int, level: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sums (G, 4, k) of (unit, cell) groups added up to (unit, domain value) pairs.

    ``occupied`` gives each group's code ``unit * n_cells + cell`` and ``level`` each
    cell's value of the domain variable (-1: none). Returns the pairs' sums, units and
    domain values.
    """
    k = sums.shape[2]
    g_unit, g_cell = occupied // n_cells, occupied % n_cells
    g_dom = level[g_cell]
    inside = g_dom >= 0
    everywhere = bool(inside.all())
    pair, pairs = dense_codes(
        g_unit * m + g_dom if everywhere else g_unit[inside] * m + g_dom[inside]
    )
    size = int(pairs.size)
    own = sums if everywhere else sums[inside]
    if size != own.shape[0] or not np.array_equal(pair, np.arange(size)):
        own = _sum_rows(pair, own.reshape(-1, 4 * k), size).reshape(size, 4, k)
    # else each group is one (unit, domain value) pair already, in order
    return own, pairs // m, pairs % m


def _calibration_terms(
    design: SurveyDesign, unit: np.ndarray, n_units: int
) -> tuple[np.ndarray, np.ndarray]:
    """What the variance of calibration residuals needs from the design, once.

    The Taylor variance is a bilinear form of the units' totals: ``V(u, v) = sum_unit
    u_unit beta_unit(v)`` for the stratified (and second-stage) formula with its fpc and
    lonely-PSU policy. With ``a`` the (units, p) totals of ``w_cal x``, this returns
    ``beta`` (units, p) such that ``V(t, a) = t' beta`` for any unit totals t, and
    ``Q = V(a, a) = a' beta`` (p, p). The residual totals ``t - a B`` then have the
    variance ``V(t) - 2 B' V(a, t) + B' Q B``.
    """
    cal = design.calibration
    a = cal.unit_totals(unit, n_units)
    stage2 = design.has_stage2
    psu_a = _sum_rows(design.ssu_psu, a, design.n_psu) if stage2 else a
    n_h = design.stratum_n_psu.astype(np.float64)
    f_h = sampling_complement(n_h, design.stratum_popsize)
    h = design.psu_stratum
    mean = _sum_rows(h, psu_a, design.n_strata) / n_h[:, None]
    kappa = np.divide(f_h * n_h, n_h - 1.0, out=np.zeros_like(n_h), where=n_h > 1)
    selfrep = f_h < SELF_REPRESENTING_TOL
    kappa[selfrep] = 0.0
    beta = kappa[h][:, None] * (psu_a - mean[h])
    lonely = (n_h == 1) & ~selfrep
    if design.lonely_psu == "adjust" and lonely.any():
        at = lonely[h]
        beta[at] = f_h[h][at, None] * psu_a[at]
    if stage2:
        psu = design.ssu_psu
        n2 = design.psu_n_ssu.astype(np.float64)
        f2 = sampling_complement(n2, design.psu_popsize)
        kappa2 = np.divide(f2 * n2, n2 - 1.0, out=np.zeros_like(n2), where=n2 > 1)
        selfrep2 = f2 < SELF_REPRESENTING_TOL
        kappa2[selfrep2] = 0.0
        fraction = n_h[h] / design.stratum_popsize[h]
        beta2 = (fraction * kappa2)[psu][:, None] * (a - (psu_a / n2[:, None])[psu])
        lonely2 = (n2 == 1) & ~selfrep2
        if design.lonely_psu == "adjust" and lonely2.any():
            at = lonely2[psu]
            beta2[at] = (fraction * f2)[psu][at, None] * a[at]
        beta = beta[psu] + beta2
    return beta, a.T @ beta


def _calibrated_variance(
    design: SurveyDesign,
    var: np.ndarray,
    score: np.ndarray,
    g_unit: np.ndarray,
    g_dom: np.ndarray,
    p0: np.ndarray,
    inv_w: np.ndarray,
    m: int,
    cal_part: tuple,
) -> np.ndarray:
    """The variance (m, k) of the calibration residuals of the scores.

    ``var`` is the variance of the scores themselves and ``score`` (G, k) their totals
    by (unit, domain value) group; ``cal_part`` the sums of ``w d / w_cal`` and of its
    products with y by (calibration cell, domain value), and the design's terms
    (:func:`_calibration_terms`).
    """
    cal = design.calibration
    own, c_cell, c_dom, beta, quad = cal_part
    k = score.shape[1]
    p = beta.shape[1]
    # X' (z d / w_cal) per calibration cell: the sums of v (y - p) / W
    cross = (own[:, 0] - p0[c_dom] * own[:, 1]) * inv_w[c_dom]
    cross = _sum_rows(c_cell * m + c_dom, cross, cal.n_cells * m).reshape(cal.n_cells, m, k)
    coef = cal.coefficients(cross)  # (p, m, k)
    # V(a, t) per domain value: sum over groups of beta[unit] score, a block at a time
    mixed = np.zeros((m, p * k))
    step = max(1, _CHUNK_ELEMENTS // max(1, p * k))
    for a in range(0, score.shape[0], step):
        block = beta[g_unit[a : a + step]][:, :, None] * score[a : a + step][:, None, :]
        mixed += _sum_rows(g_dom[a : a + step], block.reshape(-1, p * k), m)
    mixed = mixed.reshape(m, p, k).transpose(1, 0, 2)  # (p, m, k)
    quadratic = np.einsum("pmk,pq,qmk->mk", coef, quad, coef)
    return var - 2.0 * np.einsum("pmk,pmk->mk", coef, mixed) + quadratic


def _taylor_domains(
    design: SurveyDesign,
    sums: np.ndarray,
    g_unit: np.ndarray,
    g_dom: np.ndarray,
    m: int,
    cal_part: tuple | None = None,
) -> DomainProportions:
    """Estimates of one domain variable from its (unit, domain value) sums.

    ``sums`` is (G, 4, k): sum(w y), sum(w), valid rows and cases of each
    (unit, domain value) group; ``g_unit`` and ``g_dom`` say which group.
    A calibrated design also passes ``cal_part`` (see :func:`_calibrated_variance`).
    """
    stage2 = design.has_stage2
    k = sums.shape[2]
    sum_wy, sum_w, rows = sums[:, 0], sums[:, 1], sums[:, 2]  # rows: exact counts
    totals = _sum_rows(g_dom, sums.reshape(-1, 4 * k), m).reshape(m, 4, k)
    d_wy, d_w = totals[:, 0], totals[:, 1]
    d_n = np.rint(totals[:, 2]).astype(np.int64)
    d_cases = np.rint(totals[:, 3]).astype(np.int64)
    empty = d_n == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(empty, np.nan, d_wy / d_w)
        p0 = np.where(empty, 0.0, p)
        inv_w = np.where(empty, 0.0, 1.0 / d_w)
    # linearised scores summed within each (unit, domain) group
    score = (sum_wy - p0[g_dom] * sum_w) * inv_w[g_dom]

    if stage2:
        psu_of = design.ssu_psu[g_unit]
        parent, parent_key = dense_codes(psu_of * m + g_dom)
        n_parent = parent_key.size
        p_psu, p_dom = parent_key // m, parent_key % m
        t_psu = _sum_rows(parent, score, n_parent)
        rows_psu = _sum_rows(parent, rows, n_parent)
    else:
        p_psu, p_dom = g_unit, g_dom
        t_psu = score
        rows_psu = rows

    var, psu_present, strata_present = _stage1(design, t_psu, p_psu, p_dom, rows_psu, m)
    if stage2:
        var = var + _stage2(design, score, parent, t_psu, p_psu, p_dom, rows_psu, m)
    n_rows = None
    if cal_part is not None:
        var = _calibrated_variance(design, var, score, g_unit, g_dom, p0, inv_w, m, cal_part)
        var = np.maximum(var, 0.0)
        # R: a subset of a calibrated design keeps every row (weight 0 outside it)
        n_rows = np.full(d_n.shape, design.n, dtype=np.int64)

    with np.errstate(invalid="ignore"):
        se = np.sqrt(var)
    se = np.where(empty, np.nan, se)
    df = np.where(empty, np.nan, (psu_present - strata_present).astype(np.float64))
    deff, deff_replace = _design_effects(p, d_n, d_w, np.where(empty, np.nan, var))
    return _result(d_n, d_cases, p, se, df, deff, deff_replace, n_rows=n_rows)


def _stage1(
    design: SurveyDesign,
    t: np.ndarray,
    g_psu: np.ndarray,
    g_dom: np.ndarray,
    rows: np.ndarray,
    m: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First-stage variance (m, k) and the PSU / stratum counts of each cell."""
    n_strata = design.n_strata
    size = n_strata * m
    k = t.shape[1]
    n_h = design.stratum_n_psu.astype(np.float64)
    f_h = sampling_complement(n_h, design.stratum_popsize)
    h = design.psu_stratum[g_psu]
    hd = h * m + g_dom
    n_hd = np.repeat(n_h, m)
    f_hd = np.repeat(f_h, m)

    s1 = _sum_rows(hd, t, size)
    groups_hd = np.bincount(hd, minlength=size).astype(np.float64)
    mean = s1 / n_hd[:, None]
    dev = t - mean[hd]
    ss = _sum_rows(hd, dev * dev, size) + (n_hd - groups_hd)[:, None] * mean * mean

    present_psu = rows > 0
    present = _sum_rows(hd, present_psu.astype(np.float64), size) > 0  # (H*m, k)
    selfrep = f_hd < SELF_REPRESENTING_TOL
    lonely = (n_hd == 1) & ~selfrep
    factor = np.divide(f_hd * n_hd, n_hd - 1.0, out=np.zeros(size), where=n_hd > 1)
    contrib = factor[:, None] * ss
    contrib[selfrep] = 0.0

    policy = design.lonely_psu
    if lonely.any():
        hit = lonely[:, None] & present
        if policy == "fail" and hit.any():
            raise _lonely_error(design, int(np.argwhere(hit)[0][0]) // m, 1)
        if policy == "adjust":
            contrib[lonely] = f_hd[lonely, None] * s1[lonely] ** 2
        else:  # remove, certainty; average is rescaled below
            contrib[lonely] = 0.0
    var = contrib.reshape(n_strata, m, k).sum(axis=0)
    strata_present = present.reshape(n_strata, m, k).sum(axis=0)
    if policy == "average" and lonely.any():
        ok = (present & ~lonely[:, None]).reshape(n_strata, m, k).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            var = np.where(ok > 0, var * strata_present / ok, np.nan)
    psu_present = np.rint(_sum_rows(g_dom, present_psu.astype(np.float64), m)).astype(np.int64)
    return var, psu_present, strata_present


def _stage2(
    design: SurveyDesign,
    u: np.ndarray,
    parent: np.ndarray,
    t_psu: np.ndarray,
    p_psu: np.ndarray,
    p_dom: np.ndarray,
    rows_psu: np.ndarray,
    m: int,
) -> np.ndarray:
    """Second-stage variance (m, k): within every PSU with domain rows, times n_h/N_h."""
    n_parent = t_psu.shape[0]
    n2 = design.psu_n_ssu[p_psu].astype(np.float64)
    f2 = sampling_complement(n2, design.psu_popsize[p_psu])
    mean = t_psu / n2[:, None]
    dev = u - mean[parent]
    units = np.bincount(parent, minlength=n_parent).astype(np.float64)
    ss = _sum_rows(parent, dev * dev, n_parent) + (n2 - units)[:, None] * mean * mean
    factor = np.divide(f2 * n2, n2 - 1.0, out=np.zeros(n_parent), where=n2 > 1)
    contrib = factor[:, None] * ss
    selfrep = f2 < SELF_REPRESENTING_TOL
    contrib[selfrep] = 0.0
    lonely = (n2 == 1) & ~selfrep
    present = rows_psu > 0
    if lonely.any():
        policy = design.lonely_psu
        if policy == "fail" and (lonely[:, None] & present).any():
            h = int(design.psu_stratum[p_psu[np.argwhere(lonely[:, None] & present)[0][0]]])
            raise _lonely_error(design, h, 2)
        if policy == "adjust":
            contrib[lonely] = f2[lonely, None] * t_psu[lonely] ** 2
        elif policy == "average":  # R: one stage-2 stratum, none usable -> NaN
            contrib[lonely] = np.nan
        else:
            contrib[lonely] = 0.0
    n_h = design.stratum_n_psu.astype(np.float64)
    h = design.psu_stratum[p_psu]
    stage1_fraction = n_h[h] / design.stratum_popsize[h]
    contrib = np.where(present, contrib * stage1_fraction[:, None], 0.0)
    return _sum_rows(p_dom, contrib, m)


def _result(
    n: np.ndarray,
    cases: np.ndarray,
    p: np.ndarray,
    se: np.ndarray,
    df: np.ndarray,
    deff: np.ndarray,
    deff_replace: np.ndarray,
    logit_se: np.ndarray | None = None,
    logit_edge: np.ndarray | None = None,
    *,
    n_rows: np.ndarray | None = None,
) -> DomainProportions:
    """Assemble the (m, k) arrays as (k, m); without ``logit_se``, the linearised one."""

    def t(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a.T)

    if logit_se is None:
        inside = (p > 0) & (p < 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            logit_se = np.where(inside, se / (p * (1.0 - p)), np.nan)
        logit_edge = np.zeros(p.shape, dtype=bool)
    return DomainProportions(
        n=t(n),
        cases=t(cases),
        estimate=t(p),
        se=t(se),
        df=t(df),
        deff=t(deff),
        deff_replace=t(deff_replace),
        n_rows=t(n).copy() if n_rows is None else t(n_rows),
        logit_se=t(logit_se),
        logit_edge=t(logit_edge),
    )


# --------------------------------------------------------------------------------------
# replicate weights
# --------------------------------------------------------------------------------------
def _replicate(
    design: SurveyDesign, rep: ReplicateWeights, y: np.ndarray, dom: np.ndarray, m: int
) -> DomainProportions:
    w = design.weights
    group = np.where(dom >= 0, dom, m)
    sums = _indicator_sums(y, _Groups.given(group, m + 1), w)[:m]
    sum_wy, sum_w = sums[:, 0], sums[:, 1]
    rows = np.rint(sums[:, 2]).astype(np.int64)
    cases = np.rint(sums[:, 3]).astype(np.int64)
    empty = rows == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(empty, np.nan, sum_wy / sum_w)

    num, den = _replicate_totals(rep.weights, y, dom, m)  # (k*m, R); cell = j*m + d
    k = y.shape[1]
    cell_rows = rows.T.reshape(-1)
    cell_cases = cases.T.reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = num / den
    has_w = den > 0
    theta = np.where(has_w, theta, np.nan)
    # all responses equal: every replicate estimate is exactly that value, as in R
    theta[(cell_cases == 0)[:, None] & has_w] = 0.0
    theta[(cell_cases == cell_rows)[:, None] & (cell_rows > 0)[:, None] & has_w] = 1.0
    p_cells = p.T.reshape(-1)
    var = _replicate_variance(theta, p_cells, rep).reshape(k, m).T
    logit_var, logit_edge = _replicate_logit_variance(theta, p_cells, rep)

    ranks = _replicate_ranks(rep, y, dom, m)  # (m, k)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(var)
        logit_se = np.sqrt(logit_var.reshape(k, m).T)
    se = np.where(empty, np.nan, se)
    df = np.where(empty, np.nan, ranks - 1.0)
    deff, deff_replace = _design_effects(p, rows, sum_w, np.where(empty, np.nan, var))
    return _result(rows, cases, p, se, df, deff, deff_replace, logit_se, logit_edge.reshape(k, m).T)


def _replicate_logit_variance(
    theta: np.ndarray, estimate: np.ndarray, rep: ReplicateWeights
) -> tuple[np.ndarray, np.ndarray]:
    """Replicate variance of the log-odds, as R's ``svyglm(y ~ 1, quasibinomial)``; per cell.

    ``theta`` (cells, R) holds the replicate estimates and ``estimate`` the
    full-sample ones. For an intercept-only model R's refit on replicate r
    reaches ``logit(theta_r)``; where ``theta_r`` is 0 or 1 it stops at
    :func:`glm_logit_stop`, started (as R) from the full-sample log-odds. The
    variance is ``svrVar``'s, centred on the full-sample log-odds when ``mse``.
    NaN for cells whose estimate is 0, 1 or undefined. Returns the variance
    and a mask of the cells where some replicate stopped at such a point.
    """
    inside = (estimate > 0) & (estimate < 1)
    eta0 = np.full(estimate.shape, np.nan)
    eta0[inside] = special.logit(estimate[inside])
    eta = np.full(theta.shape, np.nan)
    regular = inside[:, None] & (theta > 0) & (theta < 1)
    eta[regular] = special.logit(theta[regular])
    edge = inside[:, None] & ((theta == 0) | (theta == 1))
    if edge.any():
        start = np.broadcast_to(eta0[:, None], theta.shape)[edge]
        eta[edge] = glm_logit_stop(theta[edge], start)
    var = _replicate_variance(eta, eta0, rep)
    return np.where(inside, var, np.nan), edge.any(axis=1)


#: R's ``glm.control()``: convergence tolerance on the deviance, most iterations.
_GLM_EPSILON = 1e-8
_GLM_MAXIT = 25
#: R's logit link: beyond |eta| > 30 the inverse link and its derivative are clamped.
_LOGIT_CLAMP = 30.0


def glm_logit_stop(y: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Where R's ``glm.fit`` stops fitting ``y ~ 1`` (logit link) to data all 0 or all 1.

    The maximum likelihood log-odds of a proportion of 0 (or 1) is -inf (+inf);
    R's iteratively reweighted least squares approaches it one step at a time
    and stops when the deviance changes by less than ``epsilon = 1e-8`` relative
    (``|dev - dev_old| / (|dev| + 0.1)``) or after 25 iterations. This returns
    that finite point, vectorised over fits.

    Parameters
    ----------
    y
        The proportion of each fit: 0 or 1.
    start
        Its starting log-odds (R's ``start``; for a replicate, the full-sample
        coefficient).

    Returns
    -------
    numpy.ndarray
        The log-odds where each fit stops (about -21 from a start of -4 at y = 0).

    Notes
    -----
    With one coefficient and every response equal the weighted least squares
    step is ``eta + (y - mu) / mu'(eta)`` whatever the weights, and the
    deviance is ``-2 log(1 - mu)`` (y = 0) or ``-2 log(mu)`` (y = 1) for
    weights that sum to 1, as R's replicate refits use. R's inverse logit
    clamps ``exp(eta)`` to ``[eps, 1/eps]`` beyond ``|eta| > 30`` and its
    derivative to ``eps`` there.
    """
    y = np.asarray(y, dtype=np.float64)
    eta = np.array(start, dtype=np.float64, copy=True)
    if np.any((y != 0) & (y != 1)):
        raise ValueError("glm_logit_stop fits responses that are all 0 or all 1")
    eps = np.finfo(np.float64).eps

    def mu_and_slope(e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = np.abs(e) > _LOGIT_CLAMP
        x = np.where(e < -_LOGIT_CLAMP, eps, np.where(e > _LOGIT_CLAMP, 1.0 / eps, np.exp(e)))
        mu = x / (1.0 + x)
        slope = np.where(out, eps, x / ((1.0 + x) * (1.0 + x)))
        return mu, slope

    def deviance(mu: np.ndarray) -> np.ndarray:
        return 2.0 * np.where(y == 0, np.log(1.0 / (1.0 - mu)), np.log(1.0 / mu))

    mu, slope = mu_and_slope(eta)
    dev_old = deviance(mu)
    going = np.ones(eta.shape, dtype=bool)
    for _ in range(_GLM_MAXIT):
        eta = np.where(going, eta + (y - mu) / slope, eta)
        mu, slope = mu_and_slope(eta)
        dev = deviance(mu)
        going &= np.abs(dev - dev_old) / (np.abs(dev) + 0.1) >= _GLM_EPSILON
        dev_old = dev
        if not going.any():
            break
    return eta


def _indicators_per_pass(n: int, m: int, k: int) -> int:
    """How many indicators to combine per pass so that combinations stay few.

    A pass distinguishes at most ``(m + 1) 3^g`` (domain, response codes)
    combinations; keeping that below n/16 bounds the aggregated replicate
    weights to a sixteenth of the replicate weight matrix.
    """
    target = max(1.0, n / (16.0 * (m + 1)))
    return int(max(1, min(k, np.floor(np.log(target) / np.log(3.0)))))


def _replicate_totals(
    weights: np.ndarray, y: np.ndarray, dom: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """Replicate totals of the cases and of the valid rows of every cell; (k*m, R) each.

    Rows are first summed by their combination of domain value and response
    codes (NaN / 0 / 1) over a group of indicators: one sparse pass over the
    replicate weights (``n R`` additions, no dense matrix product). The few
    combination totals are then added into the cells with a small sparse
    0/1 matrix. Cell ``j*m + d`` is indicator j, domain value d.
    """
    n, n_rep = weights.shape
    k = y.shape[1]
    num = np.zeros((k * m, n_rep))
    den = np.zeros((k * m, n_rep))
    if n == 0:
        return num, den
    per_pass = _indicators_per_pass(n, m, k)
    base = np.where(dom >= 0, dom + 1, 0).astype(np.int64)  # 0 = in no domain value
    indptr = np.arange(n + 1, dtype=np.int64)
    ones = np.ones(n)
    for j0 in range(0, k, per_pass):
        j1 = min(k, j0 + per_pass)
        g = j1 - j0
        key = base.copy()
        for j in range(j0, j1):
            col = y[:, j]
            key *= 3
            key += ~np.isnan(col)
            key += col == 1
        combo, combo_keys = pd.factorize(key)
        n_combo = combo_keys.size
        rows_to_combo = scipy.sparse.csc_matrix(
            (ones, combo.astype(np.int64), indptr), shape=(n_combo, n)
        )
        totals = np.asarray(rows_to_combo @ weights)  # (n_combo, R)
        # decode each combination's domain value and response codes
        codes = np.empty((n_combo, g), dtype=np.int64)
        rest = np.asarray(combo_keys, dtype=np.int64)
        for jj in range(g - 1, -1, -1):
            codes[:, jj] = rest % 3
            rest = rest // 3
        d = rest - 1
        cell = (np.arange(g) * m)[None, :] + d[:, None]  # (n_combo, g) local cell index
        inside = (d >= 0)[:, None]
        combo_idx = np.broadcast_to(np.arange(n_combo)[:, None], (n_combo, g))
        for target, mask in ((num, inside & (codes == 2)), (den, inside & (codes >= 1))):
            to_cells = scipy.sparse.csr_matrix(
                (np.ones(int(mask.sum())), (cell[mask], combo_idx[mask])), shape=(g * m, n_combo)
            )
            target[j0 * m : j1 * m] = to_cells @ totals
    return num, den


def _replicate_variance(
    theta: np.ndarray, estimate: np.ndarray, rep: ReplicateWeights
) -> np.ndarray:
    """R's ``svrVar``: ``scale sum_r rscales_r (theta_r - centre)^2`` per row of theta.

    Replicates with an undefined estimate (no weight in the domain) are
    dropped; the centre is the full-sample estimate (``mse``) or the mean of
    the remaining replicates with ``rscales > 0``. NaN if none remains.
    """
    rs = rep.rscales
    ok = np.isfinite(theta)
    if rep.mse:
        centre = estimate
    else:
        use = ok & (rs > 0)
        count = use.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            centre = np.where(use, theta, 0.0).sum(axis=1) / count
    dev = np.where(ok, theta - centre[:, None], 0.0)
    var = rep.scale * (dev * dev) @ rs
    return np.where(ok.any(axis=1), var, np.nan)


def _replicate_ranks(rep: ReplicateWeights, y: np.ndarray, dom: np.ndarray, m: int) -> np.ndarray:
    """Rank of each cell's replicate weight rows; (m, k).

    Cells whose rows cover the same set of row patterns (typically the same
    PSUs) share one rank computation, made with the weights of the first
    such cell.
    """
    k = y.shape[1]
    rows = rep.rank_rows
    n_pat = rows.shape[0]
    dump = n_pat * m
    base = np.where((rep.pattern >= 0) & (dom >= 0), rep.pattern * m + dom, dump)
    keys = [np.where(np.isnan(y[:, j]), dump, base) for j in range(k)] if k else []
    bits = np.stack(
        [
            np.packbits(np.bincount(key, minlength=dump + 1)[:dump].reshape(n_pat, m) > 0, axis=0).T
            for key in keys
        ]
    ).reshape(k * m, -1)  # (cells, bytes); cell = j*m + d
    first, inverse = _unique_rows(bits)
    uniq = bits[first]
    ranks_u = np.zeros(uniq.shape[0], dtype=np.int64)
    nonempty = np.flatnonzero(uniq.any(axis=1))
    batch = max(1, 8_000_000 // max(1, n_pat))
    for a in range(0, nonempty.size, batch):
        part = nonempty[a : a + batch]
        cells = first[part]
        c = np.empty((n_pat, part.size))
        for j in np.unique(cells // m):
            sel = cells // m == j
            cj = np.bincount(keys[j], weights=rep.pattern_mass, minlength=dump + 1)[:dump]
            c[:, sel] = cj.reshape(n_pat, m)[:, cells[sel] % m]
        ranks_u[part] = pattern_ranks(rows, c, groups=cells % m)  # group: domain value
    return ranks_u[inverse].reshape(k, m).T


def _unique_rows(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First index of each distinct row of a (C, B) uint8 array, and each row's group.

    Rows are hashed as 64-bit words (exact integer arithmetic, so equal rows
    always hash alike); groups are then checked row by row against their
    first member, falling back to a full sort if two different rows collide.
    """
    width = -(-bits.shape[1] // 8) * 8
    padded = np.zeros((bits.shape[0], width), dtype=np.uint8)
    padded[:, : bits.shape[1]] = bits
    words = padded.view(np.uint64)
    mult = np.random.default_rng(11).integers(1, 2**63, size=words.shape[1], dtype=np.uint64) | 1
    with np.errstate(over="ignore"):
        h = (words * mult).sum(axis=1, dtype=np.uint64)
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if not np.array_equal(bits, bits[first[inverse]]):
        _, first, inverse = np.unique(bits, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
    return first, inverse


# --------------------------------------------------------------------------------------
# covariance of several ratio estimates
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RatioCovariance:
    """L ratio estimates and their design covariance matrix.

    Attributes
    ----------
    estimate
        (L,) ``sum(w u_l) / sum(w v_l)``; NaN when the domain of ratio l is empty.
    cov
        (L, L) design covariance; its diagonal equals the variance that
        :func:`domain_proportions` reports for the same domain. Rows and
        columns of empty domains are NaN.
    n
        (L,) rows in the domain of each ratio (``v_l != 0``).
    """

    estimate: np.ndarray
    cov: np.ndarray
    n: np.ndarray


def ratio_covariance(
    design: SurveyDesign, numerator: np.ndarray, denominator: np.ndarray
) -> RatioCovariance:
    """Ratios ``sum(w u_l) / sum(w v_l)`` and their design covariance matrix.

    The ratio of column l is a domain mean: ``v_l`` is 1 on the rows of its
    domain and 0 elsewhere, ``u_l`` is the variable (0 outside the domain).
    Domain proportions (``u = y v``), the cells of a two-way table over a
    common domain (``u`` = cell indicator, ``v`` = the domain) and the two
    sides of a comparison are all of this form, so one call gives every
    variance and covariance a comparison or a Rao-Scott test needs.

    Parameters
    ----------
    design
        The survey design (rows in the order of the arrays).
    numerator, denominator
        (n_rows, L) float arrays ``u`` and ``v``; ``v`` holds 0 and 1 only and
        ``u`` is 0 wherever ``v`` is 0.

    Returns
    -------
    RatioCovariance

    Raises
    ------
    ValueError
        If the shapes do not match the design or ``v`` is not 0/1.
    DesignError
        Under ``lonely_psu = "fail"`` when a domain reaches a stratum (or, at
        stage 2, a PSU) with a single sampled unit, as :func:`domain_proportions`.

    Notes
    -----
    Taylor linearisation: the scores of ratio l are
    ``z_l = w (u_l - R_l v_l) / sum(w v_l)`` and the covariance of ratios l and
    m is the stratified covariance of their PSU totals,
    ``sum_h f_h n_h/(n_h - 1) sum_i (z_lhi - zbar_lh)(z_mhi - zbar_mh)``, over
    every PSU of the design (zero totals for PSUs without domain rows), plus the
    second-stage term when the design has one; it is R's ``svyrecvar`` applied
    to the matrix of influence functions, as in ``svyby(..., covmat = TRUE)``.
    Lonely strata follow :func:`domain_proportions`: ``remove`` and
    ``certainty`` add nothing, ``adjust`` adds ``f_h z_lh z_mh``. Under
    ``average`` each entry (l, m) is multiplied by the number of strata with
    rows of domain l or m over those among them with more than one PSU, so the
    diagonal is exactly the variance of each domain alone (R rescales the whole
    matrix by the strata of the design object instead; the two agree whenever
    no stratum is lonely).

    Replicate weights: ``R_lr = sum(w_r u_l) / sum(w_r v_l)`` and
    ``cov_lm = scale sum_r rscales_r (R_lr - c_l)(R_mr - c_m)`` with the centres
    of R's ``svrVar`` (mean of the replicates with ``rscales > 0``, or the
    full-sample ratio when ``mse``). A replicate in which a domain has no weight
    is left out of that domain's variance and of its covariances (R's
    ``svrVar`` drops it from the whole matrix).
    """
    n = design.n
    u = np.asarray(numerator, dtype=np.float64)
    v = np.asarray(denominator, dtype=np.float64)
    if u.ndim == 1:
        u = u[:, None]
    if v.ndim == 1:
        v = v[:, None]
    if u.shape != v.shape or u.ndim != 2 or u.shape[0] != n:
        raise ValueError(f"numerator and denominator must both have shape ({n}, L)")
    if not np.all((v == 0) | (v == 1)):
        raise ValueError("the denominator must hold 0 and 1 only")
    member = v > 0
    rows = member.sum(axis=0).astype(np.int64)
    w = design.weights
    total_w = w @ v
    total_u = w @ u
    empty = rows == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.where(empty, np.nan, total_u / total_w)
    if design.replicates is not None:
        cov = _replicate_ratio_covariance(design.replicates, u, v, member, estimate)
    else:
        r0 = np.where(empty, 0.0, estimate)
        inv = np.where(empty, 0.0, 1.0 / np.where(empty, 1.0, total_w))
        z = w[:, None] * (u - v * r0) * inv
        if design.calibration is not None:  # R: residuals of the calibration; all rows kept
            z = design.calibration.residuals(z)
            member = np.ones_like(member)
        cov = _taylor_score_covariance(design, z, member)
    cov[empty, :] = np.nan
    cov[:, empty] = np.nan
    return RatioCovariance(estimate=estimate, cov=cov, n=rows)


def _union_counts(present: np.ndarray) -> np.ndarray:
    """(L, L) number of groups (rows of ``present``) where column l or column m is true."""
    p = present.astype(np.float64)
    count = p.sum(axis=0)
    return count[:, None] + count[None, :] - p.T @ p


def _taylor_score_covariance(design: SurveyDesign, z: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Stratified (one or two stage) covariance of the totals of the score columns of z."""
    t = _sum_rows(design.psu, z, design.n_psu)  # (P, L) PSU totals
    cov = _stage1_covariance(
        design,
        lambda: iter([(0, t)]),
        _sum_rows(design.psu_stratum, t, design.n_strata),
        lambda: _sum_rows(design.strata, member.astype(np.float64), design.n_strata) > 0,
    )
    if design.has_stage2:
        s = _sum_rows(design.ssu, z, design.ssu_psu.shape[0])  # (S, L) second-stage totals
        present = lambda: _sum_rows(design.psu, member.astype(np.float64), design.n_psu) > 0  # noqa: E731
        cov = cov + _stage2_covariance(design, s, present, t)
    return cov


def _stage1_covariance(
    design: SurveyDesign,
    blocks: Callable[[], Iterator[tuple[int, np.ndarray]]],
    stratum_totals: np.ndarray,
    present: Callable[[], np.ndarray],
) -> np.ndarray:
    """First-stage covariance of PSU totals, given block by block.

    ``blocks()`` yields ``(first, t)``: the totals ``t`` of PSUs ``first, first + 1, ...``,
    every PSU once, in order, so that the (PSUs x L) matrix need never be whole.
    ``stratum_totals`` (H, L) are their sums by stratum; ``present()`` (H, L) says
    where each column has rows (asked for only when a stratum is lonely).
    """
    n_strata = design.n_strata
    h_of_psu = design.psu_stratum
    n_h = design.stratum_n_psu.astype(np.float64)
    f_h = sampling_complement(n_h, design.stratum_popsize)
    mean = stratum_totals / n_h[:, None]
    selfrep = f_h < SELF_REPRESENTING_TOL
    lonely = (n_h == 1) & ~selfrep
    factor = np.divide(f_h * n_h, n_h - 1.0, out=np.zeros(n_strata), where=n_h > 1)
    factor[selfrep] = 0.0
    policy = design.lonely_psu
    hit = None
    if lonely.any():
        seen = present()  # (H, L)
        hit = lonely[:, None] & seen
        if policy == "fail" and hit.any():
            raise _lonely_error(design, int(np.argwhere(hit)[0][0]), 1)
    cols = stratum_totals.shape[1]
    cov = np.zeros((cols, cols))
    for first, t in blocks():
        h = h_of_psu[first : first + t.shape[0]]
        dev = t - mean[h]
        cov += (dev * factor[h][:, None]).T @ dev
        if hit is not None and policy == "adjust":
            own = lonely[h]
            tl = t[own]
            cov += (tl * f_h[h][own][:, None]).T @ tl
    if hit is not None and policy == "average":
        union = _union_counts(seen)
        ok = _union_counts(seen & ~lonely[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            cov = np.where(ok > 0, cov * union / ok, np.nan)
    return cov


def _stage2_covariance(
    design: SurveyDesign, s: np.ndarray, present: Callable[[], np.ndarray], t: np.ndarray
) -> np.ndarray:
    """Second-stage covariance: within every PSU, times the first-stage fraction n_h/N_h.

    ``s`` (S, L) and ``t`` (P, L) are the second-stage unit and PSU totals; ``present()``
    (P, L) says where each column has rows (asked for only when a PSU is lonely).
    """
    ssu_psu = design.ssu_psu
    n2 = design.psu_n_ssu.astype(np.float64)
    f2 = sampling_complement(n2, design.psu_popsize)
    dev = s - (t / n2[:, None])[ssu_psu]
    n_h = design.stratum_n_psu.astype(np.float64)
    h = design.psu_stratum
    fraction = n_h[h] / design.stratum_popsize[h]
    selfrep = f2 < SELF_REPRESENTING_TOL
    factor = np.divide(f2 * n2, n2 - 1.0, out=np.zeros(n2.shape), where=n2 > 1)
    factor[selfrep] = 0.0
    factor = factor * fraction
    cov = (dev * factor[ssu_psu][:, None]).T @ dev
    lonely = (n2 == 1) & ~selfrep
    if lonely.any():
        hit = lonely[:, None] & present()
        policy = design.lonely_psu
        if policy == "fail" and hit.any():
            raise _lonely_error(design, int(h[np.argwhere(hit)[0][0]]), 2)
        if policy == "adjust":
            tl = t[lonely]
            cov = cov + (tl * (f2 * fraction)[lonely][:, None]).T @ tl
        elif policy == "average":  # as domain_proportions: no stage-2 stratum left -> NaN
            bad = hit.any(axis=0)
            cov[bad, :] = np.nan
            cov[:, bad] = np.nan
    return cov


def _replicate_ratio_covariance(
    rep: ReplicateWeights,
    u: np.ndarray,
    v: np.ndarray,
    member: np.ndarray,
    estimate: np.ndarray,
) -> np.ndarray:
    num = u.T @ rep.weights  # (L, R)
    den = v.T @ rep.weights
    has_w = den > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(has_w, num / np.where(has_w, den, 1.0), np.nan)
    # all responses equal: every replicate ratio is exactly that value, as domain_proportions
    zero = ~(u != 0).any(axis=0)
    one = ~(u != v).any(axis=0) & member.any(axis=0)
    theta[zero[:, None] & has_w] = 0.0
    theta[one[:, None] & has_w] = 1.0
    return _replicate_covariance(theta, estimate, rep)


def _replicate_covariance(
    theta: np.ndarray, estimate: np.ndarray, rep: ReplicateWeights
) -> np.ndarray:
    """R's ``svrVar`` for a matrix of replicate estimates (L, R): an (L, L) covariance.

    Entry (l, m) uses the replicates in which both estimates are defined.
    """
    rs = rep.rscales
    ok = np.isfinite(theta)
    n_col = theta.shape[0]
    if ok.all():
        if rep.mse:
            centre = estimate
        else:
            use = rs > 0
            centre = theta[:, use].mean(axis=1) if use.any() else np.full(n_col, np.nan)
        dev = theta - centre[:, None]
        return rep.scale * (dev * rs) @ dev.T
    cov = np.full((n_col, n_col), np.nan)
    filled = np.where(ok, theta, 0.0)
    for a in range(n_col):  # pairs with an undefined replicate: a few columns at most
        both = ok[a] & ok  # (L, R)
        if rep.mse:
            c_a = np.full(n_col, estimate[a])
            c_b = estimate
        else:
            use = both & (rs > 0)
            count = use.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                c_a = np.where(use, filled[a], 0.0).sum(axis=1) / count
                c_b = np.where(use, filled, 0.0).sum(axis=1) / count
        d_a = np.where(both, filled[a] - c_a[:, None], 0.0)
        d_b = np.where(both, filled - c_b[:, None], 0.0)
        cov[a] = np.where(both.any(axis=1), rep.scale * (d_a * d_b) @ rs, np.nan)
    return cov


# --------------------------------------------------------------------------------------
# ratios over the cells of one domain variable, from group totals
# --------------------------------------------------------------------------------------
#: elements of a (PSUs x ratios) block of totals made at a time
_BLOCK_ELEMENTS = 4_000_000


def cell_ratio_covariance(
    design: SurveyDesign,
    y: np.ndarray,
    domain: np.ndarray,
    m: int,
    indicator: np.ndarray,
    numerator: np.ndarray,
    denominator: np.ndarray,
) -> RatioCovariance:
    """:func:`ratio_covariance` for ratios that count cells of indicator x domain value x answer.

    Ratio l is about indicator ``indicator[l]``; a row with domain value d and answer
    r (0 no, 1 yes) adds its weight times ``numerator[l, d, r]`` to the numerator and
    times ``denominator[l, d, r]`` to the denominator. Rows with no answer (NaN) or no
    domain value (-1) add nothing. The two sides of a comparison of domain values, the
    cells of a two-way table and domain proportions are all of this form.

    Parameters
    ----------
    design, y
        As for :func:`domain_proportions`.
    domain, m
        (n_rows,) domain codes in ``[-1, m)`` and the number of domain values.
    indicator
        (L,) column of ``y`` of each ratio.
    numerator, denominator
        (L, m, 2) weights 0 or 1 of each (domain value, answer) cell.

    Returns
    -------
    RatioCovariance
        Equal to :func:`ratio_covariance` on the (n_rows, L) columns these cells make,
        to rounding. Nothing of size rows x ratios is made: the rows are summed once per
        indicator by sampling unit and domain value (the pass of the estimates), and the
        covariance is made from those totals, a block of PSUs at a time.
    """
    n = design.n
    yy = _indicator_matrix(y, n)
    dom, m = _domain_codes(domain, m, n)
    ind = np.asarray(indicator, dtype=np.intp)
    size = ind.shape[0]
    num = np.asarray(numerator, dtype=np.float64).reshape(size, m, 2)
    den = np.asarray(denominator, dtype=np.float64).reshape(size, m, 2)
    if not (np.isin(num, (0.0, 1.0)).all() and np.isin(den, (0.0, 1.0)).all()):
        raise ValueError("numerator and denominator weights must be 0 or 1")
    codes = np.zeros(n, dtype=np.intp) if dom is None else dom
    if design.replicates is not None:
        return _replicate_cell_covariance(design, yy, codes, m, ind, num, den)
    if design.calibration is not None:
        return _calibrated_cell_covariance(design, yy, codes, ind, num, den)
    stage2 = design.has_stage2
    n_units, sums, g_unit, g_dom = _unit_domain_sums(design, yy, dom, m)
    psu_of_unit = design.ssu_psu if stage2 else np.arange(n_units)
    g_psu = psu_of_unit[g_unit]
    g_stratum = design.psu_stratum[g_psu]
    k = yy.shape[1]

    def by_cell(weights: np.ndarray, totals: np.ndarray, part: int) -> np.ndarray:
        """(G', L) from (G', m, 4, k) group sums: what each group adds to each ratio."""
        yes, no = (0, 1) if part == 0 else (3, 2)  # weights, or rows
        return (
            totals[:, :, yes, ind] * weights[:, :, 1].T[None]
            + totals[:, :, no, ind] * weights[:, :, 0].T[None]
        ).sum(axis=1)

    def spread(where: np.ndarray, count: int, rows=slice(None)) -> np.ndarray:
        """(count, m, 4, k): the sums of the groups ``rows`` by ``where`` (theirs) and value."""
        key = where * m + g_dom[rows]
        flat = sums[rows].reshape(-1, 4 * k)
        return _sum_rows(key, flat, count * m).reshape(count, m, 4, k)

    per_domain = spread(np.zeros(len(g_dom), dtype=np.intp), 1)
    rows = np.rint(by_cell(den, per_domain, 1)[0]).astype(np.int64)
    total_u = by_cell(num, per_domain, 0)[0]
    total_w = by_cell(den, per_domain, 0)[0]
    empty = rows == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.where(empty, np.nan, total_u / total_w)
    r0 = np.where(empty, 0.0, estimate)
    inv = np.where(empty, 0.0, 1.0 / np.where(empty, 1.0, total_w))
    score = (num - r0[:, None, None] * den) * inv[:, None, None]  # (L, m, 2) of one cell's w
    by_stratum = spread(g_stratum, design.n_strata)

    def present_in_strata() -> np.ndarray:
        return by_cell(den, by_stratum, 1) > 0

    def unit_totals(u0: int, u1: int, part: slice) -> np.ndarray:
        """(u1 - u0, L) score totals of units u0..u1-1 (their groups are ``part``)."""
        own = spread(g_unit[part] - u0, u1 - u0, part)
        return by_cell(score, own, 0)

    per_block = max(1, _BLOCK_ELEMENTS // max(size * m * 4, 1))
    bounds = [*range(0, n_units, per_block), n_units]
    starts = np.searchsorted(g_unit, bounds)  # the groups are in unit order

    def blocks() -> Iterator[tuple[int, np.ndarray]]:
        for b in range(len(bounds) - 1):
            yield bounds[b], unit_totals(bounds[b], bounds[b + 1], slice(starts[b], starts[b + 1]))

    stratum_totals = by_cell(score, by_stratum, 0)
    if stage2:
        s = np.concatenate([block for _, block in blocks()]) if n_units else np.zeros((0, size))
        t = _sum_rows(design.ssu_psu, s, design.n_psu)
        cov = _stage1_covariance(design, lambda: iter([(0, t)]), stratum_totals, present_in_strata)
        by_psu = lambda: by_cell(den, spread(g_psu, design.n_psu), 1) > 0  # noqa: E731
        cov += _stage2_covariance(design, s, by_psu, t)
    else:
        cov = _stage1_covariance(design, blocks, stratum_totals, present_in_strata)
    cov[empty, :] = np.nan
    cov[:, empty] = np.nan
    return RatioCovariance(estimate=estimate, cov=cov, n=rows)


def _unit_domain_sums(design: SurveyDesign, yy: np.ndarray, dom, m: int):
    """Sums of :func:`cell_ratio_covariance` by sampling unit and domain value.

    Returns ``(n_units, sums, unit, value)``: the number of units (SSUs in a
    two-stage design, else PSUs) and, for each occupied group with a domain value,
    its (4, k) answer sums, its unit and its domain value, in unit order.
    """
    n = design.n
    stage2 = design.has_stage2
    unit = design.ssu if stage2 else design.psu
    n_units = int(design.ssu_psu.shape[0] if stage2 else design.n_psu)
    groups = _row_groups(unit, n_units, [(dom, m)])
    workers = _threads(None, n, yy.shape[1])
    if groups.size <= n:
        sums = _indicator_sums(yy, groups, design.weights, workers, by_answer=True)
        occupied = np.flatnonzero((sums[:, 2] + sums[:, 3]).any(axis=1))
        sums = sums[occupied]
    else:
        group, occupied = dense_codes(groups.codes())
        sums = _indicator_sums(
            yy,
            _Groups.given(group, int(occupied.size)),
            design.weights,
            workers,
            by_answer=True,
        )
    g_unit = occupied // groups.n_cells
    g_dom = groups.levels[occupied % groups.n_cells, 0]
    inside = g_dom >= 0
    return n_units, sums[inside], g_unit[inside], g_dom[inside]


def _calibrated_cell_covariance(
    design: SurveyDesign,
    y: np.ndarray,
    codes: np.ndarray,
    ind: np.ndarray,
    num: np.ndarray,
    den: np.ndarray,
) -> RatioCovariance:
    """:func:`cell_ratio_covariance` of a calibrated Taylor design, from the rows' columns.

    The calibration residuals of a ratio are not zero outside its domain, so the
    covariance comes from the (rows, ratios) scores (:func:`ratio_covariance`).
    """
    answer = y[:, ind]
    valid = ~np.isnan(answer) & (codes >= 0)[:, None]
    r = np.where(valid, answer, 0.0).astype(np.intp)
    d = np.where(codes >= 0, codes, 0)[:, None]
    column = np.arange(ind.shape[0])[None, :]
    u = np.where(valid, num[column, d, r], 0.0)
    v = np.where(valid, den[column, d, r], 0.0)
    return ratio_covariance(design, u, v)


def _replicate_cell_covariance(
    design: SurveyDesign,
    y: np.ndarray,
    codes: np.ndarray,
    m: int,
    ind: np.ndarray,
    num: np.ndarray,
    den: np.ndarray,
) -> RatioCovariance:
    """The replicate variance of :func:`cell_ratio_covariance`: every replicate's cell sums."""
    rep = design.replicates
    w = design.weights
    size = ind.shape[0]
    n_rep = rep.weights.shape[1]
    # per indicator: sums of the weights and the replicate weights by (domain value, answer)
    full = np.zeros((y.shape[1], m, 2))
    counts = np.zeros((y.shape[1], m, 2))
    reps = np.zeros((y.shape[1], m, 2, n_rep))
    for j in np.unique(ind):
        col = y[:, j]
        valid = ~np.isnan(col) & (codes >= 0)
        key = codes[valid] * 2 + col[valid].astype(np.intp)
        full[j] = np.bincount(key, weights=w[valid], minlength=2 * m).reshape(m, 2)
        counts[j] = np.bincount(key, minlength=2 * m).reshape(m, 2)
        reps[j] = _sum_rows(key, rep.weights[valid], 2 * m).reshape(m, 2, n_rep)
    rows = np.rint(np.einsum("lmr,lmr->l", den, counts[ind])).astype(np.int64)
    total_u = np.einsum("lmr,lmr->l", num, full[ind])
    total_w = np.einsum("lmr,lmr->l", den, full[ind])
    empty = rows == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.where(empty, np.nan, total_u / total_w)
    rep_u = np.einsum("lmr,lmrk->lk", num, reps[ind])  # (L, R)
    rep_w = np.einsum("lmr,lmrk->lk", den, reps[ind])
    has_w = rep_w > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(has_w, rep_u / np.where(has_w, rep_w, 1.0), np.nan)
    # all responses equal: every replicate ratio is exactly that value, as domain_proportions
    zero = np.einsum("lmr,lmr->l", num, counts[ind]) == 0
    one = (np.einsum("lmr,lmr->l", np.abs(num - den), counts[ind]) == 0) & (rows > 0)
    theta[zero[:, None] & has_w] = 0.0
    theta[one[:, None] & has_w] = 1.0
    cov = _replicate_covariance(theta, estimate, rep)
    cov[empty, :] = np.nan
    cov[:, empty] = np.nan
    assert cov.shape == (size, size)
    return RatioCovariance(estimate=estimate, cov=cov, n=rows)
