"""Survey designs: weights, strata, clusters, finite population corrections, replicates.

A :class:`SurveyDesign` holds, for every data row, what design-based variance
estimation needs, already reduced to integer codes and per-stratum / per-PSU
tables so that :mod:`prevalence.variance` can work with ``np.bincount`` and
matrix products only. Two kinds of design are supported, as in R's ``survey``
package (the reference, version 4.1-1):

* Taylor linearisation (R's ``svydesign``): sampling weights, optional strata,
  one or two stages of clusters, optional finite population corrections at
  each stage, and a policy for strata with a single sampled PSU.
* Replicate weights (R's ``svrepdesign``): a matrix of analysis weights, one
  column per replicate, with the variance multipliers ``scale`` and
  ``rscales`` and the centring rule ``mse``.

Designs are built from a data frame and the ``design:`` block of
``config.yaml`` by :meth:`SurveyDesign.from_frame`; every problem in that block
or in the design columns raises :class:`prevalence.errors.DesignError` naming
the file, the column, the row and the fix.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import scipy.sparse

from prevalence.errors import DesignError

__all__ = [
    "LONELY_PSU_POLICIES",
    "REPLICATE_TYPES",
    "DesignColumns",
    "ReplicateWeights",
    "SurveyDesign",
]

LONELY_PSU_POLICIES = ("fail", "remove", "certainty", "adjust", "average")
REPLICATE_TYPES = ("JK1", "JKn", "BRR", "Fay", "bootstrap", "SDR")  # SDR = successive difference

#: R's ``onestrat``: a stratum whose sampling fraction leaves ``f = 1 - n/N`` below
#: this value is self-representing and contributes no variance at that stage.
SELF_REPRESENTING_TOL = 1e-7

#: R's ``degf`` for replicate designs is ``qr(weights, tol = 1e-5)$rank - 1``: a
#: column counts when its part orthogonal to the columns before it is at least
#: 1e-5 of its norm. With columns scaled to norm 1 that is a squared residual of
#: 1e-10; exactly collinear columns leave eigenvalues of the Gram matrix at
#: rounding level (about 1e-14), far below this threshold.
RANK_EIGEN_TOL = 1e-10

_SPEC_KEYS = (
    "weight",
    "strata",
    "psu",
    "fpc",
    "nest",
    "lonely_psu",
    "replicates",
    "calibration",
)
_REPLICATE_KEYS = (
    "columns",
    "prefix",
    "type",
    "scale",
    "rscales",
    "mse",
    "rho",
    "combined_weights",
)
_CHUNK_ELEMENTS = 4_000_000  # elements per temporary block of a matrix product
_STREAM_ELEMENTS = 65_536  # elements per block of element-wise passes (fits in cache)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


#: From this many rows the passes over the rows run compiled (numba, prevalence._kernels);
#: below, numpy. Both give the same numbers; small surveys never import numba.
COMPILED_MIN_ROWS = 100_000


def compiled(name: str, n: int) -> Any:
    """The compiled kernel ``name`` for data of ``n`` rows, or None (use numpy)."""
    if n < COMPILED_MIN_ROWS:
        return None
    try:
        from prevalence import _kernels
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    if not _COMPILED_SAID:
        _COMPILED_SAID.append(name)
        logging.getLogger(__name__).info("%d rows: the passes over the rows run compiled", n)
    return getattr(_kernels, name)


_COMPILED_SAID: list[str] = []  # the first use is logged, once per process


def dense_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes ``0..U-1`` of an integer array, numbered in sorted order of its values.

    Equal to ``pd.factorize(values, sort=True)``. When the values span a range
    of at most a few times their number (survey ids usually do) the codes come
    from a table of that range in three passes, without hashing; otherwise
    from ``pd.factorize``.

    Returns
    -------
    codes, uniques
        (n,) ``intp`` codes and the (U,) sorted distinct values.
    """
    values = np.asarray(values)
    n = values.shape[0]
    if n == 0 or values.dtype.kind not in "iu":
        codes, uniques = pd.factorize(values, sort=True)
        return codes.astype(np.intp, copy=False), np.asarray(uniques)
    lo, hi = int(values.min()), int(values.max())
    span = hi - lo + 1
    if span > max(4 * n, 1 << 16) or hi > np.iinfo(np.intp).max:
        codes, uniques = pd.factorize(values, sort=True)
        return codes.astype(np.intp, copy=False), np.asarray(uniques)
    offset = np.subtract(values, lo, dtype=np.intp, casting="unsafe")  # fits: span checked
    codes, present = dense_offsets(offset, span)
    return codes, (present + lo).astype(values.dtype)


def dense_offsets(offset: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`dense_codes` of ``intp`` values known to lie in ``[0, span)``.

    Returns the codes (``offset`` itself when every value occurs) and the
    sorted values that occur.
    """
    seen = np.bincount(offset, minlength=span) > 0
    present = np.flatnonzero(seen)
    if present.size == span:
        return offset, present
    label = np.cumsum(seen, dtype=np.intp)
    label -= 1
    return label[offset], present


# --------------------------------------------------------------------------------------
# replicate weights
# --------------------------------------------------------------------------------------
def default_replicate_scale(rep_type: str, n_replicates: int, rho: float | None = None) -> float:
    """R's ``svrepdesign`` default ``scale`` for a replicate type.

    Parameters
    ----------
    rep_type
        One of :data:`REPLICATE_TYPES`.
    n_replicates
        Number of replicate weight columns R.
    rho
        Fay's coefficient (only for ``"Fay"``).

    Returns
    -------
    float
        JK1: (R-1)/R; JKn: 1 (the stratum factors go in ``rscales``); BRR: 1/R;
        Fay: 1/(R (1-rho)^2); bootstrap: 1/(R-1); SDR: 4/R.
    """
    r = float(n_replicates)
    if rep_type == "JK1":
        return (r - 1.0) / r
    if rep_type == "JKn":
        return 1.0
    if rep_type == "BRR":
        return 1.0 / r
    if rep_type == "Fay":
        if rho is None:
            raise ValueError("Fay replicates need rho")
        return 1.0 / (r * (1.0 - rho) ** 2)
    if rep_type == "bootstrap":
        return 1.0 / (r - 1.0)
    if rep_type == "SDR":
        return 4.0 / r
    raise ValueError(f"unknown replicate type {rep_type!r}")


@dataclass(frozen=True, eq=False)
class ReplicateWeights:
    """Replicate analysis weights and how R's ``svrVar`` combines them.

    Attributes
    ----------
    weights
        (n, R) analysis weights (full-sample weight times replicate factor), C order.
    type
        One of :data:`REPLICATE_TYPES`.
    scale, rscales
        Variance ``scale * sum_r rscales[r] * (theta_r - centre)^2``.
    mse
        Centre on the full-sample estimate (True) or on the mean of the replicate
        estimates with ``rscales > 0`` (False, R's default).
    rho
        Fay's coefficient, or None.
    columns
        Names of the replicate columns (for metadata).
    combined_weights
        Whether the input columns were analysis weights (True) or factors.
    pattern
        (n,) index of each row into ``pattern_rows``; -1 for rows whose replicate
        weights are all zero. Only used to compute ranks (degrees of freedom).
    pattern_rows
        (G, R) distinct row directions, or None when rows were not compressed
        (then ``weights`` itself plays that role, with ``pattern = arange(n)``).
    pattern_mass
        (n,) squared norm that each row carries into the Gram matrix of its
        pattern (``||w_i||^2`` when compressed, 1 otherwise).
    """

    weights: np.ndarray
    type: str
    scale: float
    rscales: np.ndarray
    mse: bool
    rho: float | None
    columns: tuple[str, ...]
    combined_weights: bool
    pattern: np.ndarray
    pattern_rows: np.ndarray | None
    pattern_mass: np.ndarray

    @property
    def n_replicates(self) -> int:
        return int(self.weights.shape[1])

    @property
    def rank_rows(self) -> np.ndarray:
        """(G, R) matrix whose weighted Gram matrices give the ranks of row subsets."""
        return self.weights if self.pattern_rows is None else self.pattern_rows

    @classmethod
    def build(
        cls,
        weights: np.ndarray,
        *,
        rep_type: str,
        scale: float | None = None,
        rscales: float | Sequence[float] | np.ndarray | None = None,
        mse: bool = False,
        rho: float | None = None,
        columns: Sequence[str] = (),
        combined_weights: bool = True,
        full_weights: np.ndarray | None = None,
        copy: bool = True,
        patterns: bool = True,
    ) -> ReplicateWeights:
        """Validate replicate weights and precompute their row patterns.

        Parameters
        ----------
        weights
            (n, R) replicate weights: analysis weights when ``combined_weights``,
            otherwise replicate factors that are multiplied by ``full_weights``
            (R's ``combined.weights = FALSE``).
        rep_type, scale, rscales, mse, rho
            As in R's ``svrepdesign``; ``scale=None`` uses
            :func:`default_replicate_scale`; ``rscales=None`` means all 1 (not
            allowed for JKn, whose stratum factors must be given).
        columns
            Names of the replicate columns, for metadata.
        full_weights
            (n,) full-sample weights, needed when ``combined_weights`` is False.
        copy
            Copy ``weights`` (default). ``False`` takes over a float64 C-ordered
            array without copying and makes it read-only.
        patterns
            Group the rows by direction (for ranks). ``False`` leaves every row its
            own pattern: for weights that are about to be replaced (calibrated).

        Raises
        ------
        ValueError
            For inconsistent arguments (``from_frame`` turns user input problems
            into :class:`DesignError` before calling this).
        """
        w = np.array(weights, dtype=np.float64, order="C", copy=True if copy else None)
        if w.ndim != 2 or w.shape[1] < 2:
            raise ValueError("replicate weights must be an (n, R) array with R >= 2")
        if not combined_weights:
            if full_weights is None:
                raise ValueError("combined_weights=False needs the full-sample weights")
            w = w * np.asarray(full_weights, dtype=np.float64)[:, None]
        if rep_type not in REPLICATE_TYPES:
            raise ValueError(f"unknown replicate type {rep_type!r}")
        n_rep = w.shape[1]
        if rep_type == "JKn" and rscales is None and scale is None:
            raise ValueError("JKn replicates need rscales")
        if scale is None:
            scale = default_replicate_scale(rep_type, n_rep, rho)
        rs = np.ones(n_rep) if rscales is None else np.asarray(rscales, dtype=np.float64)
        if rs.ndim == 0:
            rs = np.full(n_rep, float(rs))
        if rs.shape != (n_rep,):
            raise ValueError(f"rscales has {rs.size} values for {n_rep} replicates")
        if patterns:
            pattern, rows, mass = _row_patterns(w)
        else:
            pattern, rows, mass = np.arange(w.shape[0], dtype=np.intp), None, np.ones(w.shape[0])
        return cls(
            weights=_readonly(w),
            type=rep_type,
            scale=float(scale),
            rscales=_readonly(rs.copy()),
            mse=bool(mse),
            rho=None if rho is None else float(rho),
            columns=tuple(columns),
            combined_weights=bool(combined_weights),
            pattern=_readonly(pattern),
            pattern_rows=None if rows is None else _readonly(rows),
            pattern_mass=_readonly(mass),
        )

    def rank(self) -> int:
        """Rank of the whole replicate weight matrix (R: ``qr(., tol=1e-5)$rank``)."""
        keep = self.pattern >= 0
        g = self.rank_rows.shape[0]
        c = np.bincount(self.pattern[keep], weights=self.pattern_mass[keep], minlength=g)
        return int(pattern_ranks(self.rank_rows, c[:, None])[0])


def _row_patterns(w: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Group the rows of ``w`` that are multiples of one another.

    Rows of replicate weights from a clustered design repeat the same pattern
    of replicate factors within a PSU, up to the full-sample weight. The rank
    of any set of rows equals the rank of its distinct directions, so the
    Gram matrix of a subset is ``sum_g c_g a_g a_g'`` over unit directions
    ``a_g`` with ``c_g`` the summed squared norms of the subset's rows in
    pattern g. Rows are grouped by two random projections of their unit
    direction, rounded to 2^-30; every row is then compared with its group's
    representative and becomes a group of its own unless they agree to 1e-9
    of its norm (so a hash collision can never merge different directions;
    rows that close are indistinguishable at R's rank tolerance of 1e-5).

    Returns
    -------
    pattern, rows, mass
        ``rows`` is None when grouping does not save at least half the rows;
        then ``pattern = arange(n)``, ``mass = 1`` and the weights themselves
        are the rows.
    """
    n, n_rep = w.shape
    chunk = max(1, _STREAM_ELEMENTS // n_rep)
    dirs = np.random.default_rng(20240229).standard_normal((2, n_rep))
    norm_sq = np.empty(n)
    proj = np.empty((n, 2))
    for a in range(0, n, chunk):
        block = w[a : a + chunk]
        norm_sq[a : a + chunk] = np.einsum("ij,ij->i", block, block)
        proj[a : a + chunk, 0] = block @ dirs[0]
        proj[a : a + chunk, 1] = block @ dirs[1]
    norm = np.sqrt(norm_sq)
    nonzero = norm > 0
    proj /= np.where(nonzero, norm, 1.0)[:, None]
    q = np.rint(proj * 2.0**30).astype(np.int64)
    key = (q[:, 0].view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ q[:, 1].view(np.uint64)
    key[~nonzero] = np.uint64(0)
    codes, uniques = pd.factorize(key)
    codes = codes.astype(np.intp)
    n_groups = len(uniques)
    # first row of each code (codes are numbered in order of first appearance)
    seen = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.r_[True, codes[1:] > seen[:-1]])
    if n_groups > n // 2:
        pattern = np.arange(n, dtype=np.intp)
        pattern[~nonzero] = -1
        return pattern, None, np.ones(n)
    rows = w[first] / np.where(nonzero[first], norm[first], 1.0)[:, None]
    mismatch = np.zeros(n, dtype=bool)
    for a in range(0, n, chunk):
        diff = rows[codes[a : a + chunk]]
        diff *= norm[a : a + chunk, None]
        diff -= w[a : a + chunk]
        err = np.einsum("ij,ij->i", diff, diff)
        mismatch[a : a + chunk] = err > 1e-18 * norm_sq[a : a + chunk]
    mismatch &= nonzero
    if mismatch.any():
        extra = np.flatnonzero(mismatch)
        codes[extra] = n_groups + np.arange(extra.size)
        if n_groups + extra.size > n // 2:
            pattern = np.arange(n, dtype=np.intp)
            pattern[~nonzero] = -1
            return pattern, None, np.ones(n)
        rows = np.vstack([rows, w[extra] / norm[extra, None]])
    codes[~nonzero] = -1
    return codes, rows, norm_sq


def _ranks_from_grams(gram: np.ndarray, tol: float = RANK_EIGEN_TOL) -> np.ndarray:
    """Numerical ranks of a stack of Gram matrices, after scaling to unit diagonal."""
    diag = np.sqrt(np.einsum("cii->ci", gram))
    inv = np.divide(1.0, diag, out=np.zeros_like(diag), where=diag > 0)
    normed = gram * inv[:, :, None] * inv[:, None, :]
    eig = np.linalg.eigvalsh(normed)
    return np.count_nonzero(eig > tol, axis=1)


def _exact_grams(rows: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Gram matrices ``X_j' X_j`` with ``X_j = diag(sqrt(c[:, j])) rows``, stacked (C, R, R).

    Streams over blocks of rows in use and batches of columns so that the
    temporaries stay near ``_CHUNK_ELEMENTS`` elements.
    """
    n_cells = c.shape[1]
    n_rep = rows.shape[1]
    gram = np.zeros((n_cells, n_rep, n_rep))
    used = np.flatnonzero((c > 0).any(axis=1))
    row_step = max(1, _CHUNK_ELEMENTS // n_rep)
    for g0 in range(0, used.size, row_step):
        idx = used[g0 : g0 + row_step]
        block = rows[idx]
        root = np.sqrt(c[idx]).T  # (C, rows in block)
        cell_step = max(1, _CHUNK_ELEMENTS // block.size)
        for c0 in range(0, n_cells, cell_step):
            x = root[c0 : c0 + cell_step, :, None] * block[None]
            gram[c0 : c0 + cell_step] += np.matmul(x.transpose(0, 2, 1), x)
    return gram


def _full_rank_by_core(
    rows: np.ndarray, c: np.ndarray, groups: np.ndarray, tol: float = RANK_EIGEN_TOL
) -> np.ndarray:
    """Columns of ``c`` proven to give full rank R through a shared core of their group.

    Within a group of columns, the core weights ``k_g = min_j c[g, j]`` give a
    Gram matrix ``K`` with ``X_j' X_j - K`` positive semi-definite for every
    column j of the group (``X_j = diag(sqrt(c[:, j])) rows``). With ``D_j``
    and ``D_K`` the diagonals and ``lam`` the smallest eigenvalue of ``K``
    scaled to unit diagonal, ``x' X_j' X_j x >= x' K x >= lam x' D_K x >=
    lam min_r(D_K,r / D_j,r) x' D_j x``, so the unit-diagonal Gram matrix of
    column j has no eigenvalue below ``lam min_r(D_K,r / D_j,r)``. When that
    bound exceeds ``4 tol`` (a margin for rounding in both eigenvalue
    computations) the column has full rank, exactly as its own eigenvalues
    would say. One Gram matrix per group replaces one per column.

    Returns
    -------
    numpy.ndarray
        (C,) bool; False means "not proven" (rank it directly).
    """
    n_cols = c.shape[1]
    n_rep = rows.shape[1]
    proven = np.zeros(n_cols, dtype=bool)
    labels, group = np.unique(np.asarray(groups), return_inverse=True)
    group = group.reshape(-1)
    sizes = np.bincount(group, minlength=labels.size)
    worth = np.flatnonzero(sizes > 1)  # a group of one column gains nothing
    if worth.size == 0:
        return proven
    core = np.empty((c.shape[0], worth.size))
    for i, gi in enumerate(worth):
        core[:, i] = c[:, group == gi].min(axis=1)
    keep = np.count_nonzero(core > 0, axis=0) >= n_rep  # fewer rows cannot give rank R
    if not keep.any():
        return proven
    worth, core = worth[keep], core[:, keep]
    gram = _exact_grams(rows, core)
    d_core = np.einsum("cii->ci", gram).copy()  # (groups, R)
    inv = np.divide(1.0, np.sqrt(d_core), out=np.zeros_like(d_core), where=d_core > 0)
    lam = np.linalg.eigvalsh(gram * inv[:, :, None] * inv[:, None, :])[:, 0]
    lam[(d_core <= 0).any(axis=1)] = 0.0
    cols = np.flatnonzero(np.isin(group, worth))
    d_cols = np.zeros((cols.size, n_rep))
    step = max(1, _CHUNK_ELEMENTS // max(1, n_rep + cols.size))
    for a in range(0, rows.shape[0], step):
        block = rows[a : a + step]
        d_cols += c[a : a + step, cols].T @ (block * block)
    slot = np.searchsorted(worth, group[cols])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d_cols > 0, d_core[slot] / d_cols, 0.0).min(axis=1)
    proven[cols] = lam[slot] * ratio > 4.0 * tol
    return proven


def pattern_ranks(
    rows: np.ndarray,
    c: np.ndarray,
    *,
    sketch_above: int | None = None,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Ranks of ``diag(sqrt(c[:, j])) @ rows`` for every column j of ``c``.

    Parameters
    ----------
    rows
        (G, R) row directions (or raw rows).
    c
        (G, C) non-negative weights; a zero weight leaves the row out.
    sketch_above
        Columns with more than this many rows in use are first reduced with a
        random sparse sketch of ``4 R`` rows (cost ``G R`` instead of
        ``G R^2``). A sketch never has a larger rank than the matrix, so a
        full-rank sketch proves full rank; otherwise the exact Gram matrix is
        used. Default ``max(8 R, 2048)``.
    groups
        Optional (C,) labels of columns that use nearly the same rows (for
        example the indicators of one domain value). Columns of a group are
        first tested together against the rows they all use
        (:func:`_full_rank_by_core`); those not proven full rank are ranked
        as without groups. The ranks are the same either way.

    Returns
    -------
    numpy.ndarray
        (C,) integer ranks, as R's ``qr(tol = 1e-5)$rank`` for exactly
        collinear or clearly independent columns (see :data:`RANK_EIGEN_TOL`).
    """
    cu = np.asarray(c, dtype=np.float64)
    g, n_rep = rows.shape
    out = np.zeros(cu.shape[1], dtype=np.int64)
    if cu.shape[1] == 0 or g == 0:
        return out
    used = np.count_nonzero(cu > 0, axis=0)
    todo = used > 0
    if groups is not None:
        proven = _full_rank_by_core(rows, cu, groups)
        out[proven] = n_rep
        todo &= ~proven
    limit = max(8 * n_rep, 2048) if sketch_above is None else sketch_above
    big = np.flatnonzero(todo & (used > limit))
    exact = np.flatnonzero(todo & (used <= limit))
    if big.size:
        n_buckets = 4 * n_rep
        rng = np.random.default_rng(7)
        bucket = rng.integers(0, n_buckets, size=g)
        xi = rng.standard_normal(g)
        sub = cu[:, big]
        gi, ci = np.nonzero(sub)
        data = xi[gi] * np.sqrt(sub[gi, ci])
        sketch = scipy.sparse.csr_matrix(
            (data, (ci * n_buckets + bucket[gi], gi)), shape=(big.size * n_buckets, g)
        )
        t = np.asarray(sketch @ rows).reshape(big.size, n_buckets, n_rep)
        full = _ranks_from_grams(np.matmul(t.transpose(0, 2, 1), t)) >= n_rep
        out[big[full]] = n_rep
        exact = np.concatenate([exact, big[~full]])
    per = max(1, _CHUNK_ELEMENTS // (n_rep * n_rep))
    for a in range(0, exact.size, per):  # memory chunks of the (C, R, R) Gram stack
        part = exact[a : a + per]
        out[part] = _ranks_from_grams(_exact_grams(rows, cu[:, part]))
    return out


# --------------------------------------------------------------------------------------
# design
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DesignColumns:
    """Names of the columns a design was built from (metadata only)."""

    source: str | None = None
    weight: str | None = None
    weights_from: str = "equal"  # "column", "fpc" or "equal"
    strata: str | None = None
    psu: tuple[str, ...] = ()
    fpc: tuple[str, ...] = ()
    nest: bool = False


@dataclass(frozen=True, eq=False)
class SurveyDesign:
    """Weights, strata, clusters (1 or 2 stages), FPC, lonely-PSU policy, or replicate weights.

    All row arrays have length ``n`` (rows of the data, in order). Codes are
    dense integers: strata ``0..H-1``, PSUs ``0..P-1`` (unique across strata),
    second-stage units ``0..S-1`` (unique across PSUs).

    Attributes
    ----------
    weights
        (n,) sampling weights, float64, all > 0.
    psu
        (n,) PSU codes. Without clusters every row is its own PSU.
    psu_stratum
        (P,) stratum of each PSU; :attr:`strata` gives each row's.
    stratum_popsize
        (H,) first-stage population size N_h (``inf`` without fpc).
    stratum_labels
        (H,) stratum values as text, for messages.
    ssu, psu_popsize
        Second stage: (n,) unit codes and (P,) population sizes N2_i. The
        second stage adds variance only when both are given (R: fpc given for
        both stages, ``survey.ultimate.cluster = FALSE``).
    lonely_psu
        One of :data:`LONELY_PSU_POLICIES` (R's ``survey.lonely.psu``).
    replicates
        Replicate weights; when given, the variance comes from them and the
        Taylor fields are unused (every row its own PSU, one stratum).
    columns
        Column names used, for :meth:`describe`.
    calibration
        The :class:`~prevalence.calibration.Calibration` of the weights, or None.
        ``weights`` (and the replicate weights) are then the calibrated ones, and
        Taylor variances use the residuals of the calibration regression.
    """

    weights: np.ndarray
    psu: np.ndarray
    psu_stratum: np.ndarray
    stratum_popsize: np.ndarray
    stratum_labels: tuple[str, ...] = ("1",)
    ssu: np.ndarray | None = None
    psu_popsize: np.ndarray | None = None
    lonely_psu: str = "fail"
    replicates: ReplicateWeights | None = None
    columns: DesignColumns = DesignColumns()
    calibration: Any = None
    stratum_n_psu: np.ndarray = field(init=False, repr=False)
    psu_n_ssu: np.ndarray | None = field(init=False, repr=False)
    ssu_psu: np.ndarray | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = self.weights.shape[0]
        if self.weights.ndim != 1:
            raise ValueError("weights must be one-dimensional")
        if self.psu.shape != (n,):
            raise ValueError("psu must have one value per row")
        if self.lonely_psu not in LONELY_PSU_POLICIES:
            raise ValueError(f"lonely_psu must be one of {LONELY_PSU_POLICIES}")
        n_strata = self.stratum_popsize.shape[0]
        object.__setattr__(
            self,
            "stratum_n_psu",
            _readonly(np.bincount(self.psu_stratum, minlength=n_strata).astype(np.int64)),
        )
        n2 = None
        ssu_psu = None
        if self.ssu is not None:
            if self.ssu.shape != (n,):
                raise ValueError("ssu must have one value per row")
            n_ssu = int(self.ssu.max()) + 1 if n else 0
            ssu_psu = np.zeros(n_ssu, dtype=np.intp)
            ssu_psu[self.ssu] = self.psu
            n2 = _readonly(np.bincount(ssu_psu, minlength=self.n_psu).astype(np.int64))
            ssu_psu = _readonly(ssu_psu)
        object.__setattr__(self, "psu_n_ssu", n2)
        object.__setattr__(self, "ssu_psu", ssu_psu)
        if self.replicates is not None and self.replicates.weights.shape[0] != n:
            raise ValueError("replicate weights must have one row per data row")

    # ---------------------------------------------------------------- properties
    @cached_property
    def strata(self) -> np.ndarray:
        """(n,) stratum code of each row (from its PSU's)."""
        return _readonly(self.psu_stratum[self.psu])

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.weights.shape[0])

    @property
    def is_replicate(self) -> bool:
        """True when the variance comes from replicate weights."""
        return self.replicates is not None

    @property
    def n_strata(self) -> int:
        return int(self.stratum_popsize.shape[0])

    @property
    def n_psu(self) -> int:
        return int(self.psu_stratum.shape[0])

    @property
    def has_stage2(self) -> bool:
        """True when a second stage contributes variance (fpc given at both stages)."""
        return self.ssu is not None and self.psu_popsize is not None

    @property
    def lonely_strata(self) -> np.ndarray:
        """Codes of strata with one sampled PSU that are not self-representing."""
        f = _sampling_complement(self.stratum_n_psu, self.stratum_popsize)
        return np.flatnonzero((self.stratum_n_psu == 1) & (f >= SELF_REPRESENTING_TOL))

    def degf(self) -> int:
        """R's ``degf()``: PSUs minus strata (Taylor) or replicate rank minus 1."""
        if self.replicates is not None:
            return self.replicates.rank() - 1
        return self.n_psu - self.n_strata

    # ---------------------------------------------------------------- constructors
    @classmethod
    def srs(cls, n: int, weights: np.ndarray | None = None) -> SurveyDesign:
        """Each row its own PSU, one stratum, no fpc: R's ``svydesign(id=~1, weights=...)``.

        Parameters
        ----------
        n
            Number of rows (>= 1).
        weights
            Sampling weights (> 0, finite); all 1 when omitted (R then warns
            "No weights or probabilities supplied").

        Raises
        ------
        DesignError
            When a weight is missing, not finite or not positive.
        """
        n = int(n)
        if n < 1:
            raise DesignError("a design needs at least one row", fix="check the data is not empty")
        if weights is None:
            w = np.ones(n)
        else:
            w = np.array(weights, dtype=np.float64, copy=True).reshape(-1)
            if w.shape != (n,):
                raise ValueError(f"weights has {w.size} values for {n} rows")
            _check_weight_values(w, None, None)
        return cls(
            weights=_readonly(w),
            psu=_readonly(np.arange(n, dtype=np.intp)),
            psu_stratum=_readonly(np.zeros(n, dtype=np.intp)),
            stratum_popsize=_readonly(np.array([np.inf])),
            columns=DesignColumns(weights_from="equal" if weights is None else "array"),
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        spec: Mapping[str, Any] | None,
        *,
        source: str = "responses",
        domains: pd.DataFrame | None = None,
        populations: Mapping[str, pd.DataFrame] | None = None,
    ) -> SurveyDesign:
        """Build from a data frame and the ``design:`` block of config.yaml.

        Parameters
        ----------
        frame
            The survey data, one row per respondent.
        spec
            The ``design:`` block (all keys optional; empty means R's
            ``svydesign(id=~1)``: weights 1, every row its own PSU):

            ``weight``
                Column of sampling weights (> 0, finite).
            ``strata``
                Column of strata.
            ``psu``
                Column, or list of two columns ``[stage1, stage2]`` for a
                two-stage design (R: ``id=~dnum+snum``). Second-stage ids are
                always taken within their PSU, as R does.
            ``fpc``
                Column, or one column per stage. Per stage, values > 1 are
                population counts (N_h for the stratum at stage 1, N2_i for
                the PSU at stage 2); when no value of the stage exceeds 1,
                they are sampling fractions (R: population = sampled / fpc).
                With fpc at both stages the second stage adds variance, as
                R's ``clus2``; with an fpc for stage 1 only, the second stage
                adds no variance (R's one-stage approximation, as without fpc).
                Without ``weight`` the weights are derived from the fpcs:
                ``prod_stage N/n`` (R's behaviour), which needs every stage's fpc.
            ``nest``
                PSU ids restart within strata (default False; without it a
                PSU id found in two strata is an error).
            ``lonely_psu``
                One of :data:`LONELY_PSU_POLICIES` (default ``"fail"``, which
                rejects any stratum with a single PSU here rather than at
                estimation time).
            ``replicates``
                ``{columns: [...] | prefix: "repw_", type, scale, rscales, mse,
                rho, combined_weights}``; needs ``weight`` (the full-sample
                weight) and excludes ``strata``, ``psu`` and ``fpc``.
            ``calibration``
                ``{method, population, margins, bounds, trim, maxit, epsilon}``:
                the weights are calibrated to the population totals
                (:mod:`prevalence.calibration`), every replicate too.
        source
            Name of the data (file) used in error messages.
        domains
            The rows' domain values (labels), needed with ``calibration``: its
            margins are domain ids.
        populations
            The population tables (columns ``margin, value, total``) by the
            path that ``calibration.population`` gives.

        Returns
        -------
        SurveyDesign

        Raises
        ------
        DesignError
            For any problem, with the file, column, 1-based data row, value and
            the fix: unknown keys, missing columns, non-numeric / missing / zero
            / negative / infinite weights, missing strata or PSU ids, a PSU in
            two strata without ``nest``, fpc that varies within a stratum (PSU
            at stage 2), fpc smaller than the number of sampled units, counts
            mixed with fractions, a lonely PSU under ``fail``, unknown
            ``lonely_psu`` or replicate type, replicate columns missing,
            non-numeric, negative, or with ``rscales`` of the wrong length.
        """
        block = spec.get("calibration") if isinstance(spec, Mapping) else None
        if block is not None:
            spec = {k: v for k, v in spec.items() if k != "calibration"}
        design = _build_from_frame(cls, frame, spec, source, patterns=block is None)
        if block is None:
            return design
        return _calibrated(design, block, domains, populations, source)

    # ---------------------------------------------------------------- metadata
    def describe(self) -> dict[str, Any]:
        """JSON-serialisable summary of the design for result metadata.

        Returns
        -------
        dict
            ``method`` ("taylor" or "replicate"), ``n_rows``, the columns used,
            ``weights_from``, number of strata, PSUs and second-stage units,
            ``lonely_psu`` and the lonely strata, ``df`` (R's ``degf``) and,
            for replicate designs, type, number of replicates, scale, rscales,
            mse, rho and combined_weights.
        """
        cols = self.columns
        out: dict[str, Any] = {
            "method": "replicate" if self.is_replicate else "taylor",
            "source": cols.source,
            "n_rows": self.n,
            "weight": cols.weight,
            "weights_from": cols.weights_from,
            "strata": cols.strata,
            "psu": list(cols.psu) or None,
            "fpc": list(cols.fpc) or None,
            "nest": bool(cols.nest),
            "lonely_psu": self.lonely_psu,
            "df": int(self.degf()),
        }
        out["calibration"] = None if self.calibration is None else self.calibration.describe()
        if self.replicates is None:
            lonely = self.lonely_strata
            out.update(
                n_strata=self.n_strata,
                n_psu=self.n_psu,
                n_ssu=None if self.ssu is None else int(self.ssu.max()) + 1,
                stage2_variance=self.has_stage2,
                lonely_strata=[self.stratum_labels[int(h)] for h in lonely],
                replicates=None,
            )
        else:
            rep = self.replicates
            rs = rep.rscales
            out.update(
                n_strata=None,
                n_psu=None,
                n_ssu=None,
                stage2_variance=False,
                lonely_strata=[],
                replicates={
                    "type": rep.type,
                    "n_replicates": rep.n_replicates,
                    "columns": list(rep.columns),
                    "scale": float(rep.scale),
                    "rscales": float(rs[0]) if np.all(rs == rs[0]) else [float(v) for v in rs],
                    "mse": bool(rep.mse),
                    "rho": rep.rho,
                    "combined_weights": bool(rep.combined_weights),
                },
            )
        return out


def _sampling_complement(n_sampled: np.ndarray, popsize: np.ndarray) -> np.ndarray:
    """f = 1 - n/N, with f = 1 for an infinite population (no fpc)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(np.isfinite(popsize), (popsize - n_sampled) / popsize, 1.0)
    return f


# --------------------------------------------------------------------------------------
# from_frame
# --------------------------------------------------------------------------------------
def _preview(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    text = ", ".join(names[:12])
    return text + (", ..." if len(names) > 12 else "")


def _column(frame: pd.DataFrame, col: Any, key: str, source: str) -> pd.Series:
    if not isinstance(col, str) or not col:
        raise DesignError(
            f"design.{key} must be a column name",
            file=source,
            value=col,
            fix=f"set design.{key} to the name of a column",
        )
    if col not in frame.columns:
        raise DesignError(
            f"column for design.{key} not found in the data",
            file=source,
            column=col,
            fix=f"set design.{key} to one of the data's columns: {_preview(frame)}",
        )
    return frame[col]


def _names(spec: Mapping[str, Any], key: str, source: str, max_len: int) -> tuple[str, ...]:
    value = spec.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        if not 1 <= len(value) <= max_len:
            raise DesignError(
                f"design.{key} lists {len(value)} columns; at most {max_len} stages are supported",
                file=source,
                value=list(value),
                fix=f"give one column, or a list of {max_len} columns (one per stage)",
            )
        return tuple(value)
    raise DesignError(
        f"design.{key} must be a column name or a list of column names",
        file=source,
        value=value,
        fix=f"write design.{key}: column_name",
    )


def _first_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0]) + 1


def _numeric(
    s: pd.Series, col: str, source: str, what: str, fix: str, *, keep_int: bool = False
) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s):
        raise DesignError(
            f"{what} must be numeric, not true/false", file=source, column=col, fix=fix
        )
    if keep_int and isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":
        return s.to_numpy()  # no missing values; spares a float copy
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    num = pd.to_numeric(s, errors="coerce")
    bad = (num.isna() & s.notna()).to_numpy()
    if bad.any():
        i = _first_row(bad)
        raise DesignError(
            f"{what} is not a number",
            file=source,
            column=col,
            row=i,
            value=s.iloc[i - 1],
            fix=fix,
        )
    return num.to_numpy(dtype=np.float64, na_value=np.nan)


def _check_weight_values(w: np.ndarray, col: str | None, source: str | None) -> None:
    if w.size and (w > 0).all() and np.isfinite(w.max()):
        return
    fix = "give every row a positive, finite sampling weight (drop or impute the others)"
    checks = (
        (np.isnan(w), "sampling weight is missing"),
        (np.isinf(w), "sampling weight is not finite"),
        (w == 0, "sampling weight is zero"),
        (w < 0, "sampling weight is negative"),
    )
    for mask, problem in checks:
        if mask.any():
            i = _first_row(mask)
            raise DesignError(
                problem, file=source, column=col, row=i, value=float(w[i - 1]), fix=fix
            )


def _ids(
    s: pd.Series, col: str, source: str, what: str, *, dense: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of an id column and the values they index; missing ids are an error.

    With ``dense`` the codes are ``0..U-1`` in sorted order of the values.
    Without it, integer ids in a narrow range keep their offset from the
    smallest id as code (one pass; some codes may then be unused): enough
    where the codes are only combined with others before being made dense.
    """
    missing = s.isna().to_numpy()
    if missing.any():
        raise DesignError(
            f"{what} is missing",
            file=source,
            column=col,
            row=_first_row(missing),
            fix=f"give every row a {what}",
        )
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":
        values = s.to_numpy()
        lo, hi = int(values.min()), int(values.max())
        if not dense and hi - lo < max(4 * len(values), 1 << 16):
            offset = np.subtract(values, lo, dtype=np.intp, casting="unsafe")
            return offset, np.arange(lo, hi + 1, dtype=np.int64)
        codes, uniques = dense_codes(values)
        return codes, uniques.astype(np.int64)
    try:
        codes, uniques = pd.factorize(s, sort=True)
    except TypeError:
        codes, uniques = pd.factorize(s.astype(str), sort=True)
    return codes.astype(np.intp), np.asarray(uniques, dtype=object)


def _scalar(v: Any) -> Any:
    """A numpy scalar as the Python value (for messages)."""
    return v.item() if isinstance(v, np.generic) else v


def _integers(s: pd.Series | None) -> tuple[np.ndarray, int, int] | None:
    """An integer id column's values, smallest and largest (None if not integer)."""
    if s is None or not (isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu") or not len(s):
        return None
    values = s.to_numpy()
    return values, int(values.min()), int(values.max())


def _stage1_ids(
    strata: pd.Series | None, psu: pd.Series, strata_col: str | None, psu_col: str, source: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """PSU codes from the (stratum, PSU id) pairs, and the strata from the PSUs.

    Integer ids in narrow ranges (the usual case) give each row's pair key
    straight from the two columns, in three passes, with no row codes for the
    strata; other ids are coded first.

    Returns
    -------
    psu, psu_stratum, strata_values, psu_raw_of, psu_values
        (n,) dense PSU codes in sorted order of (stratum, id); (P,) each
        PSU's stratum code; (H,) the strata's values; (P,) each PSU's index
        into ``psu_values``, the PSU ids.
    """
    ints_p, ints_s = _integers(psu), _integers(strata)
    if ints_p is not None and ints_s is not None:
        p_values, lo_p, hi_p = ints_p
        s_values, lo_s, hi_s = ints_s
        n_ids = hi_p - lo_p + 1
        span = (hi_s - lo_s + 1) * n_ids
        if span <= max(4 * len(p_values), 1 << 16):
            kernel = compiled("pair_codes", len(p_values))
            if kernel is not None:
                psu_codes = np.empty(len(p_values), dtype=np.intp)
                pairs = kernel(s_values, p_values, lo_s, lo_p, n_ids, span, psu_codes)
            else:
                key = np.multiply(s_values, n_ids, dtype=np.intp)
                key += p_values
                key -= lo_s * n_ids + lo_p
                psu_codes, pairs = dense_offsets(key, span)
            psu_stratum, present = dense_codes(pairs // n_ids)
            return (
                psu_codes,
                psu_stratum,
                present + lo_s,
                pairs % n_ids,
                np.arange(lo_p, hi_p + 1, dtype=np.int64),
            )
    raw_psu, psu_values = _ids(psu, psu_col, source, "PSU id", dense=False)
    n_ids = len(psu_values)
    if strata is None:
        psu_codes, pair_values = dense_codes(raw_psu)
        return (
            psu_codes,
            np.zeros(len(pair_values), np.intp),
            np.array(["1"], dtype=object),
            pair_values,
            psu_values,
        )
    strata_codes, strata_values = _ids(strata, strata_col, source, "stratum")
    key = strata_codes * n_ids
    key += raw_psu
    psu_codes, pair_values = dense_codes(key)
    return psu_codes, pair_values // n_ids, strata_values, pair_values % n_ids, psu_values


def _group_first(codes: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """A value per group (the last row's; callers check the values are constant)."""
    out = np.empty(n_groups, dtype=values.dtype)
    out[codes] = values
    return out


def _popsize(
    values: np.ndarray,
    unit: np.ndarray,
    unit_group: np.ndarray,
    n_groups: int,
    n_sampled: np.ndarray,
    col: str,
    source: str,
    group_name: str,
    group_label: Any,
) -> np.ndarray:
    """Population size per group (stratum, or PSU at stage 2) from an fpc column.

    ``unit`` gives each row's sampling unit and ``unit_group`` each unit's
    group: the fpc must be constant within each unit, then within each group.
    """
    fix_num = f"give every row the {group_name} population size (or sampling fraction) in {col!r}"
    checks = (
        (np.isnan, "fpc is missing"),
        (lambda v: ~np.isfinite(v) & ~np.isnan(v), "fpc is not finite"),
        (lambda v: v <= 0, "fpc must be positive"),
    )
    kernel = compiled("unit_values", len(values))
    per_unit = np.empty(len(unit_group), dtype=values.dtype)
    if kernel is None or not kernel(values, unit, per_unit):
        # the numpy checks; they also find the row the compiled pass stopped at
        usable = bool((values > 0).all() and np.isfinite(values.max()))
        for test, problem in () if usable else checks:
            mask = test(values)
            if mask.any():
                i = _first_row(mask)
                raise DesignError(
                    problem,
                    file=source,
                    column=col,
                    row=i,
                    value=float(values[i - 1]),
                    fix=fix_num,
                )
        per_unit = _group_first(unit, len(unit_group), values)
        varies = values != per_unit[unit]
        if varies.any():
            _fpc_varies(values, varies, unit, unit_group, col, source, group_name, group_label)
    # the fpc is constant within units: the rest works on per_unit, and reads the
    # rows (values) again only to name the row of an error
    per_group = _group_first(unit_group, n_groups, per_unit)
    odd = np.flatnonzero(per_unit != per_group[unit_group])
    if odd.size:
        _fpc_varies(values, unit == odd[0], unit, unit_group, col, source, group_name, group_label)
    if (per_unit > 1).any():
        if (per_unit < 1).any():
            i = _first_row(values < 1)
            raise DesignError(
                "fpc mixes population sizes (> 1) and sampling fractions (< 1)",
                file=source,
                column=col,
                row=i,
                value=float(values[i - 1]),
                fix="use population counts throughout, or sampling fractions throughout",
            )
        pop = per_group.astype(np.float64)
    else:
        pop = n_sampled / per_group
    too_small = pop < n_sampled
    if too_small.any():
        g = int(np.flatnonzero(too_small)[0])
        i = _first_row(unit_group[unit] == g)
        sampled = "PSUs" if group_name == "stratum" else "second-stage units"
        raise DesignError(
            f"fpc {per_group[g]:g} is smaller than the {int(n_sampled[g])} {sampled} sampled in "
            f"{group_name} {group_label(g)}",
            file=source,
            column=col,
            row=i,
            value=float(values[i - 1]),
            fix=f"the fpc is the number of {sampled} in the {group_name}'s population "
            "(at least the number sampled), or the sampling fraction",
        )
    return pop


def _fpc_varies(
    values: np.ndarray,
    varies: np.ndarray,
    unit: np.ndarray,
    unit_group: np.ndarray,
    col: str,
    source: str,
    group_name: str,
    group_label: Any,
) -> NoReturn:
    """Raise for the first row flagged in ``varies``."""
    i = _first_row(varies)
    raise DesignError(
        f"fpc varies within {group_name} {group_label(unit_group[unit[i - 1]])}",
        file=source,
        column=col,
        row=i,
        value=float(values[i - 1]),
        fix=f"the fpc must be the same for all rows of a {group_name}",
    )


def _check_block(
    block: Any, allowed: Sequence[str], source: str, *, problem: str, where: str, example: str
) -> None:
    """Refuse a block that is not a mapping, or that has a key outside ``allowed``."""
    if not isinstance(block, Mapping):
        raise DesignError(problem, file=source, value=block, fix=example)
    unknown = [k for k in block if k not in allowed]
    if unknown:
        raise DesignError(
            f"unknown key {unknown[0]!r} in {where}",
            file=source,
            value=unknown[0],
            fix=f"use only {', '.join(allowed)}",
        )


def _spec_options(spec: Mapping[str, Any], frame: pd.DataFrame, source: str) -> tuple[str, bool]:
    """The design block's keys checked, the data checked not empty: ``(lonely_psu, nest)``."""
    _check_block(
        spec,
        _SPEC_KEYS,
        source,
        problem="the design block must be a mapping of keys to values",
        where="the design block",
        example="write design: {weight: ..., strata: ..., psu: ...} or leave it empty",
    )
    if len(frame) == 0:
        raise DesignError("the data has no rows", file=source, fix="check the input file")
    lonely = spec.get("lonely_psu", "fail")
    if lonely not in LONELY_PSU_POLICIES:
        raise DesignError(
            "unknown lonely_psu policy",
            file=source,
            value=lonely,
            fix=f"set design.lonely_psu to one of {', '.join(LONELY_PSU_POLICIES)}",
        )
    nest = spec.get("nest", False)
    if not isinstance(nest, bool):
        raise DesignError(
            "design.nest must be true or false", file=source, value=nest, fix="write nest: true"
        )
    return lonely, nest


def _replicate_design(
    cls: type[SurveyDesign],
    frame: pd.DataFrame,
    spec: Mapping[str, Any],
    w_given: np.ndarray | None,
    source: str,
    patterns: bool,
    lonely: str,
    nest: bool,
) -> SurveyDesign:
    """A replicate-weights design (``design.replicates``) from its checked block."""
    n = len(frame)
    weight_col = spec.get("weight")
    present = [k for k in ("strata", "psu", "fpc") if spec.get(k) is not None]
    if present:
        raise DesignError(
            f"design.replicates cannot be combined with design.{present[0]}",
            file=source,
            value=present[0],
            fix="replicate weights already carry the strata and clusters; "
            "remove strata/psu/fpc, or remove replicates to use Taylor linearisation",
        )
    if w_given is None:
        raise DesignError(
            "replicate designs need the full-sample weight",
            file=source,
            fix="set design.weight to the full-sample weight column",
        )
    reps = _replicates_from_frame(frame, spec["replicates"], w_given, source, patterns)
    return cls(
        weights=_readonly(w_given),
        psu=_readonly(np.arange(n, dtype=np.intp)),
        psu_stratum=_readonly(np.zeros(n, dtype=np.intp)),
        stratum_popsize=_readonly(np.array([np.inf])),
        lonely_psu=lonely,
        replicates=reps,
        columns=DesignColumns(source=source, weight=weight_col, weights_from="column", nest=nest),
    )


def _weights_of(w_given, fpc_cols, stages, source, popsize, n_h, psu_stratum, psu, psu_popsize, n2):
    """``(weights, weights_from)``: the weight column, else weights from the fpc, else 1."""
    if w_given is not None:
        return w_given, "column"
    elif fpc_cols:
        if stages == 2 and psu_popsize is None:
            raise DesignError(
                "weights cannot be derived from a first-stage fpc alone in a two-stage design",
                file=source,
                column=fpc_cols[0],
                fix="set design.weight, or give fpc for both stages: fpc: [stage1, stage2]",
            )
        w = (popsize / n_h)[psu_stratum][psu]
        if psu_popsize is not None:
            w = w * (psu_popsize / n2)[psu]
        return w, "fpc"
    else:
        return np.ones(len(psu)), "equal"


def _check_no_lonely_psu(source, n_h, popsize, n2, psu_popsize, *, strata, psus) -> None:
    """Under ``lonely_psu: fail``, stop at the first stratum with one PSU (or PSU with one unit).

    ``strata`` is ``(column, labels, values, first_row)`` and ``psus`` is
    ``(columns, psu of each row, label, value)``, the last two functions of a PSU.
    """
    strata_col, labels, strata_values, stratum_first_row = strata
    psu_cols, psu, psu_label, psu_value = psus
    f1 = _sampling_complement(n_h, popsize)
    bad = (n_h == 1) & (f1 >= SELF_REPRESENTING_TOL)
    if bad.any():
        h = int(np.flatnonzero(bad)[0])
        if strata_col is not None:
            raise DesignError(
                f"stratum {labels[h]!r} has only one PSU at stage 1, so its variance "
                "cannot be estimated",
                file=source,
                column=strata_col,
                row=stratum_first_row(h),
                value=_scalar(strata_values[h]),
                fix="set design.lonely_psu to remove, certainty, adjust or average, "
                "or merge this stratum with a similar one",
            )
        raise DesignError(
            "the sample has only one PSU, so its variance cannot be estimated",
            file=source,
            column=psu_cols[0] if psu_cols else None,
            fix="use more than one PSU, or set design.lonely_psu",
        )
    if psu_popsize is not None and n2 is not None:
        f2 = _sampling_complement(n2, psu_popsize)
        bad2 = (n2 == 1) & (f2 >= SELF_REPRESENTING_TOL)
        if bad2.any():
            p = int(np.flatnonzero(bad2)[0])
            raise DesignError(
                f"PSU {psu_label(p)} has only one unit sampled at stage 2, so its "
                "second-stage variance cannot be estimated",
                file=source,
                column=psu_cols[0],
                row=_first_row(psu == p),
                value=psu_value(p),
                fix="set design.lonely_psu to remove, certainty, adjust or average, "
                "or check the stage-2 fpc",
            )


def _build_from_frame(
    cls: type[SurveyDesign],
    frame: pd.DataFrame,
    spec: Mapping[str, Any] | None,
    source: str,
    *,
    patterns: bool = True,
) -> SurveyDesign:
    if spec is None:
        spec = {}
    lonely, nest = _spec_options(spec, frame, source)
    n = len(frame)
    weight_col = spec.get("weight")
    strata_col = spec.get("strata")
    psu_cols = _names(spec, "psu", source, 2)
    fpc_cols = _names(spec, "fpc", source, 2)
    weight_fix = f"give every row a positive, finite sampling weight in {weight_col!r}"

    w_given = None
    if weight_col is not None:
        s = _column(frame, weight_col, "weight", source)
        w_given = _numeric(s, weight_col, source, "sampling weight", weight_fix)
        _check_weight_values(w_given, weight_col, source)

    if spec.get("replicates") is not None:
        return _replicate_design(cls, frame, spec, w_given, source, patterns, lonely, nest)

    if len(fpc_cols) > max(1, len(psu_cols)):
        raise DesignError(
            "design.fpc has more stages than design.psu",
            file=source,
            value=list(fpc_cols),
            fix="give one fpc column per psu stage",
        )

    # ---- strata and stage 1 clusters
    strata_s = _column(frame, strata_col, "strata", source) if strata_col is not None else None
    if psu_cols:
        psu_s = _column(frame, psu_cols[0], "psu", source)
        psu, psu_stratum, strata_values, psu_raw_of, psu_values = _stage1_ids(
            strata_s, psu_s, strata_col, psu_cols[0], source
        )
        n_psu = len(psu_stratum)
    else:
        if strata_s is not None:
            psu_stratum, strata_values = _ids(strata_s, strata_col, source, "stratum")
        else:
            psu_stratum, strata_values = np.zeros(n, np.intp), np.array(["1"], dtype=object)
        psu = np.arange(n, dtype=np.intp)
        psu_values = None
        n_psu = n
    n_strata = len(strata_values)
    labels = tuple(str(v) for v in strata_values)
    if psu_cols and not nest and strata_col is not None:
        in_strata = np.bincount(psu_raw_of, minlength=len(psu_values))
        if (in_strata > 1).any():
            r = int(np.flatnonzero(in_strata > 1)[0])
            units = np.flatnonzero(psu_raw_of == r)  # the PSUs of id r, by stratum
            hs = psu_stratum[units]
            raise DesignError(
                f"PSU {_scalar(psu_values[r])!r} appears in strata {labels[hs[0]]!r} and "
                f"{labels[hs[1]]!r}",
                file=source,
                column=psu_cols[0],
                row=_first_row(psu == units[1]),
                value=_scalar(psu_values[r]),
                fix="set design.nest: true if PSU ids restart within each stratum, "
                "otherwise correct the PSU or stratum ids",
            )
    n_h = np.bincount(psu_stratum, minlength=n_strata).astype(np.float64)

    def stratum_label(h: int) -> str:
        return f"{labels[h]!r}" if strata_col is not None else "(the whole sample)"

    def psu_label(p: int) -> str:
        if psu_values is None:
            return f"row {p + 1}"
        return f"{_scalar(psu_values[psu_raw_of[p]])!r}"

    def stratum_first_row(h: int) -> int:
        return _first_row(psu_stratum[psu] == h)

    def fpc_values(col: str, size: str) -> np.ndarray:
        return _numeric(
            _column(frame, col, "fpc", source),
            col,
            source,
            "fpc",
            f"give the {size} in {col!r}",
            keep_int=True,
        )

    # ---- stage 1 fpc (checked PSU by PSU, then stratum by stratum)
    popsize = np.full(n_strata, np.inf)
    if fpc_cols:
        col = fpc_cols[0]
        popsize = _popsize(
            fpc_values(col, "stratum population size"),
            psu,
            psu_stratum,
            n_strata,
            n_h,
            col,
            source,
            "stratum",
            stratum_label,
        )

    # ---- stage 2
    ssu = None
    psu_popsize = None
    n2 = None
    if len(psu_cols) == 2:
        raw_ssu, ssu_values = _ids(
            _column(frame, psu_cols[1], "psu", source),
            psu_cols[1],
            source,
            "second-stage id",
            dense=False,
        )
        ssu, ssu_pairs = dense_codes(psu * len(ssu_values) + raw_ssu)
        ssu_psu = (ssu_pairs // len(ssu_values)).astype(np.intp)
        n2 = np.bincount(ssu_psu, minlength=n_psu).astype(np.float64)
        if len(fpc_cols) == 2:
            col = fpc_cols[1]
            psu_popsize = _popsize(
                fpc_values(col, "PSU population size (second stage)"),
                psu,
                np.arange(n_psu),
                n_psu,
                n2,
                col,
                source,
                "PSU",
                psu_label,
            )

    w, weights_from = _weights_of(
        w_given, fpc_cols, len(psu_cols), source, popsize, n_h, psu_stratum, psu, psu_popsize, n2
    )

    if lonely == "fail":
        _check_no_lonely_psu(
            source,
            n_h,
            popsize,
            n2,
            psu_popsize,
            strata=(strata_col, labels, strata_values, stratum_first_row),
            psus=(psu_cols, psu, psu_label, lambda p: _scalar(psu_values[psu_raw_of[p]])),
        )

    return cls(
        weights=_readonly(np.asarray(w, dtype=np.float64)),
        psu=_readonly(psu),
        psu_stratum=_readonly(psu_stratum),
        stratum_popsize=_readonly(popsize),
        stratum_labels=labels,
        ssu=None if ssu is None else _readonly(ssu),
        psu_popsize=None if psu_popsize is None else _readonly(psu_popsize),
        lonely_psu=lonely,
        columns=DesignColumns(
            source=source,
            weight=weight_col,
            weights_from=weights_from,
            strata=strata_col,
            psu=psu_cols,
            fpc=fpc_cols,
            nest=nest,
        ),
    )


def _calibrated(
    design: SurveyDesign,
    block: Any,
    domains: pd.DataFrame | None,
    populations: Mapping[str, pd.DataFrame] | None,
    source: str,
) -> SurveyDesign:
    """The design with its weights (and replicate weights) calibrated to population totals."""
    from prevalence.calibration import CALIBRATION_KEYS, calibrate, parse_calibration

    _check_block(
        block,
        CALIBRATION_KEYS,
        source,
        problem="design.calibration must be a mapping",
        where="design.calibration",
        example="write calibration: {method: raking, population: <file>, margins: [...]}",
    )
    path = block.get("population")
    table = (populations or {}).get(str(path)) if path is not None else None
    if table is None:
        raise DesignError(
            "design.calibration needs its population file",
            file=source,
            value=path,
            fix="set design.calibration.population to a CSV file with columns margin,value,total",
        )
    spec = parse_calibration(block, table, source=source, population_source=str(path))
    if domains is None:
        raise ValueError("calibration needs the rows' domain values")
    if design.replicates is None and design.lonely_psu == "average":
        raise DesignError(
            "lonely_psu: average cannot be combined with calibration",
            file=source,
            value="average",
            fix="set design.lonely_psu to remove, certainty or adjust",
        )
    rep = design.replicates
    cal = calibrate(
        domains,
        design.weights,
        spec,
        replicate_weights=None if rep is None else rep.weights,
        source=source,
    )
    if rep is not None:
        rep = ReplicateWeights.build(
            cal.replicate_weights,
            rep_type=rep.type,
            scale=rep.scale,
            rscales=rep.rscales,
            mse=rep.mse,
            rho=rep.rho,
            columns=rep.columns,
            combined_weights=rep.combined_weights,
            copy=False,
        )
    return replace(design, weights=_readonly(cal.weights), replicates=rep, calibration=cal)


def _replicates_from_frame(
    frame: pd.DataFrame, rspec: Any, w: np.ndarray, source: str, patterns: bool = True
) -> ReplicateWeights:
    _check_block(
        rspec,
        _REPLICATE_KEYS,
        source,
        problem="design.replicates must be a mapping",
        where="design.replicates",
        example="write replicates: {prefix: repw_, type: JK1}",
    )
    columns = rspec.get("columns")
    prefix = rspec.get("prefix")
    if (columns is None) == (prefix is None):
        raise DesignError(
            "design.replicates needs exactly one of columns and prefix",
            file=source,
            fix="list the replicate weight columns, or give their common prefix",
        )
    if prefix is not None:
        if not isinstance(prefix, str) or not prefix:
            raise DesignError(
                "design.replicates.prefix must be text",
                file=source,
                value=prefix,
                fix="write prefix: repw_",
            )
        names = [str(c) for c in frame.columns if str(c).startswith(prefix)]
        if not names:
            raise DesignError(
                f"no column starts with the replicate prefix {prefix!r}",
                file=source,
                value=prefix,
                fix=f"check design.replicates.prefix; the data's columns are: {_preview(frame)}",
            )
    else:
        if isinstance(columns, str) or not isinstance(columns, Sequence):
            raise DesignError(
                "design.replicates.columns must be a list of column names",
                file=source,
                value=columns,
                fix="write columns: [repw_1, repw_2, ...]",
            )
        names = list(columns)
        for c in names:
            if not isinstance(c, str) or c not in frame.columns:
                raise DesignError(
                    "replicate weight column not found in the data",
                    file=source,
                    column=str(c),
                    fix="check design.replicates.columns against the data's columns",
                )
        dup = pd.Index(names).duplicated()
        if dup.any():
            raise DesignError(
                "replicate weight column listed twice",
                file=source,
                column=names[int(np.flatnonzero(dup)[0])],
                fix="list each replicate column once",
            )
    if len(names) < 2:
        raise DesignError(
            f"only {len(names)} replicate weight column found; at least 2 are needed",
            file=source,
            column=names[0] if names else None,
            fix="check design.replicates.columns / prefix",
        )
    rep_type = rspec.get("type")
    if rep_type not in REPLICATE_TYPES:
        raise DesignError(
            "unknown or missing replicate type",
            file=source,
            value=rep_type,
            fix=f"set design.replicates.type to one of {', '.join(REPLICATE_TYPES)}",
        )
    for key in ("mse", "combined_weights"):
        if key in rspec and not isinstance(rspec[key], bool):
            raise DesignError(
                f"design.replicates.{key} must be true or false",
                file=source,
                value=rspec[key],
                fix=f"write {key}: false",
            )
    mse = bool(rspec.get("mse", False))
    combined = bool(rspec.get("combined_weights", True))
    n_rep = len(names)

    rho = rspec.get("rho")
    if rho is not None:
        if rep_type != "Fay":
            raise DesignError(
                "design.replicates.rho applies only to type Fay",
                file=source,
                value=rho,
                fix="remove rho, or set type: Fay",
            )
        if not _is_number(rho) or not 0 <= float(rho) < 1:
            raise DesignError(
                "Fay's rho must be a number in [0, 1)",
                file=source,
                value=rho,
                fix="write rho: 0.5",
            )
        rho = float(rho)
    scale = rspec.get("scale")
    if scale is not None and (not _is_number(scale) or not 0 < float(scale) < math.inf):
        raise DesignError(
            "design.replicates.scale must be a positive number",
            file=source,
            value=scale,
            fix="give the scale, or leave it out to use the default for the type",
        )
    if scale is None and rep_type == "Fay" and rho is None:
        raise DesignError(
            "Fay replicates need rho (or an explicit scale)",
            file=source,
            fix="write rho: 0.5 (the Fay coefficient used to build the weights)",
        )
    rscales = rspec.get("rscales")
    if rscales is None and rep_type == "JKn":
        raise DesignError(
            "JKn replicates need rscales (one factor (n_h - 1)/n_h per replicate)",
            file=source,
            fix="give design.replicates.rscales",
        )
    if rscales is not None:
        if _is_number(rscales):
            rs = np.full(n_rep, float(rscales))
        elif isinstance(rscales, Sequence) and not isinstance(rscales, str):
            if not all(_is_number(v) for v in rscales):
                raise DesignError(
                    "design.replicates.rscales must be numbers",
                    file=source,
                    value=list(rscales),
                    fix="give one non-negative number per replicate",
                )
            rs = np.asarray(rscales, dtype=np.float64)
            if rs.size != n_rep:
                raise DesignError(
                    f"design.replicates.rscales has {rs.size} values for {n_rep} replicate columns",
                    file=source,
                    value=int(rs.size),
                    fix="give one rscale per replicate column (or a single number)",
                )
        else:
            raise DesignError(
                "design.replicates.rscales must be a number or a list of numbers",
                file=source,
                value=rscales,
                fix="write rscales: 1",
            )
        if not np.all(np.isfinite(rs)) or (rs < 0).any():
            raise DesignError(
                "design.replicates.rscales must be finite and non-negative",
                file=source,
                value=[float(v) for v in rs],
                fix="check the rscales",
            )
    else:
        rs = None

    what = "replicate weight" if combined else "replicate factor"
    sub = frame[names]
    numeric = all(
        pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in sub.dtypes
    )
    if not numeric:  # slow path only for text columns: find the offending cell
        sub = pd.DataFrame(
            {
                c: _numeric(frame[c], c, source, what, f"give every row a number in {c!r}")
                for c in names
            }
        )
    mat = sub.to_numpy(dtype=np.float64, na_value=np.nan)
    for test, problem in (
        (np.isnan, f"{what} is missing"),
        (np.isinf, f"{what} is not finite"),
        (lambda a: a < 0, f"{what} is negative"),
    ):
        bad = test(mat)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise DesignError(
                problem,
                file=source,
                column=names[int(j)],
                row=int(i) + 1,
                value=float(mat[i, j]),
                fix=f"give every row a non-negative {what}",
            )
    return ReplicateWeights.build(
        mat,
        rep_type=rep_type,
        scale=None if scale is None else float(scale),
        rscales=rs,
        mse=mse,
        rho=rho,
        columns=names,
        combined_weights=combined,
        full_weights=w,
        copy=False,
        patterns=patterns,
    )


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


# --------------------------------------------------------------------------------------
# a wave's design from its harmonized frame and its ``design:`` block
# --------------------------------------------------------------------------------------
# Design columns are carried under this prefix, apart from domain and indicator ids.
DESIGN_PREFIX = "design:"


def design_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The design columns of a harmonized frame, under their names in the responses."""
    columns = [c for c in frame.columns if c.startswith(DESIGN_PREFIX)]
    return frame[columns].rename(columns=lambda c: c.removeprefix(DESIGN_PREFIX))


def wave_design(
    frame: pd.DataFrame,
    design: Any,
    *,
    source: str,
    populations: Mapping[str, pd.DataFrame] | None = None,
) -> Any:
    """The survey design of a harmonized wave, or None for a simple random sample.

    ``design`` is the wave's ``design:`` block (built from the frame's design columns;
    empty: None) or a :class:`~prevalence.design.SurveyDesign` already built for this
    frame (:attr:`Ingested.design`), used as it is: a large wave's design is built once.
    ``populations`` are the population tables a ``calibration:`` block names, by path.
    """
    if isinstance(design, SurveyDesign):
        return design
    if not design:
        return None
    return SurveyDesign.from_frame(
        design_frame(frame), dict(design), source=source, domains=frame, populations=populations
    )


def design_columns(design: Mapping[str, Any], columns: Iterable[str]) -> list[str]:
    """Columns of the responses that a ``design:`` block refers to, in a stable order."""
    names: list[str] = []
    for key in ("weight", "strata", "psu", "fpc"):
        value = design.get(key)
        if value is None:
            continue
        names.extend([value] if isinstance(value, str) else list(value))
    replicates = design.get("replicates") or {}
    if replicates.get("columns"):
        names.extend(replicates["columns"])
    elif replicates.get("prefix"):
        names.extend(sorted(c for c in columns if c.startswith(replicates["prefix"])))
    return list(dict.fromkeys(names))
