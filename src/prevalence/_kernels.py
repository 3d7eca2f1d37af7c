"""Compiled loops for the passes over the rows of large data (numba).

Imported only when the data are large (see :mod:`prevalence.variance`), so
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
    weighted: np.ndarray,
    counts: np.ndarray,
    invalid: np.ndarray,
) -> None:  # pragma: no cover - compiled; covered through variance._indicator_sums
    """Weighted and plain counts of each indicator's responses by group.

    Row ``i`` is in group ``g = unit[i] * stride + cell[i] + offset``. For
    indicator ``j`` in ``[j0, j1)`` and key ``3 g + r`` (``r`` = 0 for NaN or
    another value, 1 for y = 0, 2 for y = 1), adds ``w[i]`` to
    ``weighted[j, key]`` and 1 to ``counts[j, key]``: ``np.bincount(key,
    weights=w)`` and ``np.bincount(key)``, in row order. ``invalid[j]``
    receives the number of values that are not 0, 1 or NaN.
    """
    n = y.shape[0]
    for j in range(j0, j1):
        sw = weighted[j]
        cn = counts[j]
        bad = 0
        for i in range(n):
            v = y[i, j]
            one = v == 1.0
            zero = v == 0.0
            r = 2 * one + zero
            key = 3 * (unit[i] * stride + cell[i] + offset) + r
            sw[key] += w[i]
            cn[key] += 1
            bad += (r == 0) & (v == v)
        invalid[j] = bad
