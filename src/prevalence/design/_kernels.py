"""Compiled loops for the passes over the rows of large data (numba).

Imported only when the data are large (see :mod:`prevalence.stats.variance`), so
that numba's import and compilation are not paid by small surveys. Each
function does exactly the additions of the numpy code it replaces, in the
same order, so its results are bit-identical to it.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def response_sums(
    y: np.ndarray,
    unit: np.ndarray,
    stride: int,
    cell: np.ndarray,
    offset: int,
    w: np.ndarray,
    j0: int,
    j1: int,
    acc: np.ndarray,
    invalid: np.ndarray,
) -> None:  # pragma: no cover - compiled; covered through variance._indicator_sums
    """Weighted and plain counts of each indicator's responses by group.

    Row ``i`` is in group ``g = unit[i] * stride + cell[i] + offset``. For
    indicator ``j`` in ``[j0, j1)``: a row with y = 1 adds ``w[i]`` to
    ``acc[j, g, 0]`` and 1 to ``acc[j, g, 3]``; a row with y = 0 adds
    ``w[i]`` to ``acc[j, g, 1]`` and 1 to ``acc[j, g, 2]``; NaN adds zeros.
    Every slot receives its numbers in row order, as ``np.bincount`` adds
    them. ``invalid[j]`` receives the number of values that are not 0, 1 or
    NaN.
    """
    n = y.shape[0]
    for j in range(j0, j1):
        a = acc[j]
        bad = 0
        for i in range(n):  # branch-free: a NaN row adds 0.0, which changes no sum
            v = y[i, j]
            one = v == 1.0
            valid = one | (v == 0.0)
            bad += (not valid) & (v == v)
            g = unit[i] * stride + cell[i] + offset
            a[g, 1 - one] += w[i] * valid
            a[g, 2 + one] += valid
        invalid[j] = bad


@numba.njit(cache=True, nogil=True)
def pair_codes(
    strata: np.ndarray,
    psu: np.ndarray,
    lo_strata: int,
    lo_psu: int,
    n_ids: int,
    span: int,
    codes: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled; covered through design.SurveyDesign
    """Dense codes of the (stratum, PSU id) pairs, numbered in sorted order of their keys.

    Row ``i``'s key is ``(strata[i] - lo_strata) * n_ids + psu[i] - lo_psu``
    in ``[0, span)``. Writes each row's code into ``codes`` and returns the
    sorted keys that occur: ``design.dense_offsets`` of the keys, in two passes
    without an array of keys.
    """
    n = strata.shape[0]
    seen = np.zeros(span, dtype=np.bool_)
    for i in range(n):
        seen[(strata[i] - lo_strata) * n_ids + psu[i] - lo_psu] = True
    label = np.empty(span, dtype=np.intp)
    count = 0
    for key in range(span):
        label[key] = count
        count += seen[key]
    present = np.empty(count, dtype=np.intp)
    for key in range(span):
        if seen[key]:
            present[label[key]] = key
    for i in range(n):
        codes[i] = label[(strata[i] - lo_strata) * n_ids + psu[i] - lo_psu]
    return present


@numba.njit(cache=True, nogil=True)
def unit_values(
    values: np.ndarray, unit: np.ndarray, out: np.ndarray
) -> bool:  # pragma: no cover - compiled; covered through design.SurveyDesign
    """Each unit's value into ``out``, if every value is positive, finite and
    constant within its unit; False at the first value that is not (the
    caller then finds and reports it)."""
    seen = np.zeros(out.shape[0], dtype=np.bool_)
    for i in range(values.shape[0]):
        v = values[i]
        if not (v > 0) or v == np.inf:
            return False
        u = unit[i]
        if seen[u]:
            if v != out[u]:
                return False
        else:
            out[u] = v
            seen[u] = True
    return True
