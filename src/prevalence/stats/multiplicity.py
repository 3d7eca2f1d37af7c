"""Adjusting p-values for multiple comparisons.

P-values are adjusted as ``statsmodels.stats.multitest.multipletests`` does, to
the bit (the arithmetic is repeated here: importing it costs scipy.stats), by
Holm's step-down method (Holm 1979; the default: it controls the
family-wise error rate under any dependence) or Benjamini-Hochberg
(``fdr_bh``, Benjamini & Hochberg 1995: the false discovery rate), within
families: ``indicator`` (every comparison of one indicator, all waves),
``comparison`` (one comparison, e.g. MP - staff in one wave, over all
indicators) or ``all``. ``adjust_method`` and ``family`` say which, on every row.
The F and chi-square versions of a test are adjusted separately.

References
----------
Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a
practical and powerful approach to multiple testing. Journal of the Royal
Statistical Society B 57(1):289-300.

Holm S (1979). A simple sequentially rejective multiple test procedure.
Scandinavian Journal of Statistics 6(2):65-70.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from prevalence.contract import truthy
from prevalence.errors import ConfigError

__all__ = ["ADJUST_METHODS", "adjust_pvalues"]


ADJUST_METHODS = ("holm", "fdr_bh", "none")


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment: statsmodels' ``multipletests(p, method="holm")``, its
    arithmetic in its order (the same bits), without importing scipy.stats for it."""
    order = np.argsort(p)
    adjusted = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    adjusted[adjusted > 1] = 1
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def _benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg: statsmodels' ``multipletests(p, method="fdr_bh")``, as :func:`_holm`."""
    order = np.argsort(p)
    rank = np.arange(1, len(p) + 1) / float(len(p))
    adjusted = np.minimum.accumulate((p[order] / rank)[::-1])[::-1]
    adjusted[adjusted > 1] = 1
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


_ADJUST = {"holm": _holm, "fdr_bh": _benjamini_hochberg}


def adjust_pvalues(
    table: pd.DataFrame, *, method: str = "holm", by: Sequence[str] = ("family",)
) -> pd.DataFrame:
    """Adjust ``p_value`` for multiple testing within groups of rows.

    Parameters
    ----------
    table
        Rows with ``p_value``, ``suppressed`` and the grouping columns.
    method
        ``holm`` (Holm 1979), ``fdr_bh`` (Benjamini & Hochberg 1995) or
        ``none`` (``p_adjusted = p_value``).
    by
        Columns whose values define one family.

    Returns
    -------
    pandas.DataFrame
        ``table`` with ``p_adjusted`` and ``adjust_method``. Rows without a
        p-value (undefined, or withheld) take no part and get none.
    """
    if method not in ADJUST_METHODS:
        raise ConfigError(
            f"comparisons.adjust: unknown method {method!r}",
            fix=f"use one of: {', '.join(ADJUST_METHODS)}",
        )
    out = table.copy()
    p = pd.to_numeric(out["p_value"], errors="coerce").to_numpy(dtype=np.float64)
    use = np.isfinite(p) & ~truthy(out["suppressed"])
    adjusted = np.full(len(out), np.nan)
    if method == "none":
        adjusted[use] = p[use]
    elif use.any():
        keys = out.loc[use, list(by)].astype(str).agg("\x1f".join, axis=1).to_numpy()
        index = np.flatnonzero(use)
        for key in dict.fromkeys(keys):  # one call per family
            sel = index[keys == key]
            adjusted[sel] = _ADJUST[method](p[sel])
    out["p_adjusted"] = adjusted
    out["adjust_method"] = method
    return out
