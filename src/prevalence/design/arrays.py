"""What every part of a survey design shares: dense integer codes, read-only arrays, the
switch to the compiled passes for large surveys, the lonely-PSU policies and the
tolerance for self-representing strata.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "LONELY_PSU_POLICIES",
    "SELF_REPRESENTING_TOL",
    "readonly",
    "COMPILED_MIN_ROWS",
    "compiled",
    "dense_codes",
    "dense_offsets",
    "sampling_complement",
]


LONELY_PSU_POLICIES = ("fail", "remove", "certainty", "adjust", "average")


#: R's ``onestrat``: a stratum whose sampling fraction leaves ``f = 1 - n/N`` below
#: this value is self-representing and contributes no variance at that stage.
SELF_REPRESENTING_TOL = 1e-7


def readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


#: From this many rows the passes over the rows run compiled (numba, prevalence.design._kernels);
#: below, numpy. Both give the same numbers; small surveys never import numba.
COMPILED_MIN_ROWS = 100_000


def compiled(name: str, n: int) -> Any:
    """The compiled kernel ``name`` for data of ``n`` rows, or None (use numpy)."""
    if n < COMPILED_MIN_ROWS:
        return None
    try:
        from prevalence.design import _kernels
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


def sampling_complement(n_sampled: np.ndarray, popsize: np.ndarray) -> np.ndarray:
    """f = 1 - n/N, with f = 1 for an infinite population (no fpc)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(np.isfinite(popsize), (popsize - n_sampled) / popsize, 1.0)
    return f
