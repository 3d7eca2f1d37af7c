"""Replicate weights (R's ``svrepdesign``): their variance multipliers, the rank of each
replicate pattern, and reading them from a frame's columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse

from prevalence.design.arrays import readonly
from prevalence.design.spec import check_block, numeric_column, preview
from prevalence.errors import DesignError

__all__ = [
    "REPLICATE_TYPES",
    "RANK_EIGEN_TOL",
    "default_replicate_scale",
    "ReplicateWeights",
    "pattern_ranks",
    "replicates_from_frame",
]


REPLICATE_TYPES = ("JK1", "JKn", "BRR", "Fay", "bootstrap", "SDR")  # SDR = successive difference


#: R's ``degf`` for replicate designs is ``qr(weights, tol = 1e-5)$rank - 1``: a
#: column counts when its part orthogonal to the columns before it is at least
#: 1e-5 of its norm. With columns scaled to norm 1 that is a squared residual of
#: 1e-10; exactly collinear columns leave eigenvalues of the Gram matrix at
#: rounding level (about 1e-14), far below this threshold.
RANK_EIGEN_TOL = 1e-10


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
            weights=readonly(w),
            type=rep_type,
            scale=float(scale),
            rscales=readonly(rs.copy()),
            mse=bool(mse),
            rho=None if rho is None else float(rho),
            columns=tuple(columns),
            combined_weights=bool(combined_weights),
            pattern=readonly(pattern),
            pattern_rows=None if rows is None else readonly(rows),
            pattern_mass=readonly(mass),
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


def replicates_from_frame(
    frame: pd.DataFrame, rspec: Any, w: np.ndarray, source: str, patterns: bool = True
) -> ReplicateWeights:
    check_block(
        rspec,
        _REPLICATE_KEYS,
        source,
        problem="design.replicates must be a mapping",
        where="design.replicates",
        example="write replicates: {prefix: repw_, type: JK1}",
    )
    names = _replicate_columns(frame, rspec, source)
    rep_type, scale, rs, mse, rho, combined = _replicate_options(rspec, len(names), source)
    mat = _replicate_matrix(frame, names, combined, source)
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


def _replicate_columns(frame: pd.DataFrame, rspec: Mapping[str, Any], source: str) -> list[str]:
    """The replicate weight columns a ``replicates:`` block names (``columns`` or ``prefix``)."""
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
                fix=f"check design.replicates.prefix; the data's columns are: {preview(frame)}",
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
    return names


def _replicate_options(rspec: Mapping[str, Any], n_rep: int, source: str) -> tuple:
    """Type, scale, rscales, mse, rho and combined_weights of a ``replicates:`` block, checked."""
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

    return rep_type, scale, rs, mse, rho, combined


def _replicate_matrix(
    frame: pd.DataFrame, names: list[str], combined: bool, source: str
) -> np.ndarray:
    """The (n_rows, n_replicates) replicate weights, every value a non-negative number."""
    what = "replicate weight" if combined else "replicate factor"
    sub = frame[names]
    numeric = all(
        pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in sub.dtypes
    )
    if not numeric:  # slow path only for text columns: find the offending cell
        sub = pd.DataFrame(
            {
                c: numeric_column(frame[c], c, source, what, f"give every row a number in {c!r}")
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
    return mat


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
