"""A wave's comparisons and the study's: contrasts and tests of association together, with
p-values adjusted in the families the ``comparisons:`` block defines.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from prevalence.data.codebook import Codebook
from prevalence.stats.association import (
    ASSOCIATION_COLUMNS,
    association_families,
    association_tests,
)
from prevalence.stats.contrasts import (
    Comparisons,
    as_comparisons,
    check_named_values,
    compare_between,
    compare_within,
    contrasts,
    parse_comparisons,
)
from prevalence.stats.multiplicity import adjust_pvalues

__all__ = ["wave_comparisons", "combine_comparisons"]

log = logging.getLogger(__name__)


def wave_comparisons(
    frame: pd.DataFrame,
    codebook: Codebook,
    design: Mapping[str, Any] | None,
    spec: Comparisons | Mapping[str, Any],
    *,
    wave: str,
    level: float = 0.95,
    published: pd.DataFrame | None = None,
    on_suppressed: str = "flag",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What one wave's microdata give to the comparisons: differences within it, tests.

    Returns the rows of :func:`compare_within` and of :func:`association_tests` (with
    ``published``, the wave's published table, flagging domains with suppressed cells),
    p-values unadjusted: :func:`combine_comparisons` adjusts them over all waves.
    """
    spec = as_comparisons(spec)
    within = compare_within(frame, codebook, design, spec, wave=wave, level=level)
    present = [d for d in spec.association_domains() if d in codebook.domains]
    association = association_tests(
        frame,
        codebook,
        design,
        present,
        wave=wave,
        published=published,
        on_suppressed=on_suppressed,
    )
    return within, association


def combine_comparisons(
    within: Mapping[str, pd.DataFrame],
    association: Mapping[str, pd.DataFrame],
    values: Mapping[str, Mapping[str, Sequence[str]]],
    published: pd.DataFrame,
    comparisons: Comparisons | Mapping[str, Any] | None,
    *,
    level: float = 0.95,
    source: str = "config.yaml",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table of differences and the tests of association of all waves.

    Parameters
    ----------
    within, association
        Per wave, in the configured order, the rows of :func:`wave_comparisons`.
    values
        Per wave, :func:`domain_values`: a value named in ``comparisons`` must be one
        of its domain's in some wave.
    published
        The published prevalence table of all waves: differences between waves come
        from it, and a difference is withheld when either side is suppressed.
    comparisons
        The ``comparisons:`` block (``adjust``, ``family``).

    Returns
    -------
    contrasts, association
        :data:`CONTRAST_COLUMNS` and :data:`ASSOCIATION_COLUMNS`, p-values adjusted
        per family.
    """
    spec = (
        as_comparisons(comparisons)
        if isinstance(comparisons, Comparisons)
        else parse_comparisons(comparisons, source=source, waves=list(within))
    )
    check_named_values(spec, values, source)
    parts = [*within.values(), compare_between(published, spec, level=level)]
    result = contrasts(parts, spec, published=published)
    log.info(
        "%d differences (%d withheld), p-values adjusted by %s per %s",
        len(result),
        int(result["suppressed"].sum()) if len(result) else 0,
        spec.adjust,
        spec.family,
    )
    pieces = [p for p in association.values() if len(p)]
    tests = (
        pd.concat(pieces, ignore_index=True)
        if pieces
        else pd.DataFrame(columns=ASSOCIATION_COLUMNS)
    )
    tests = adjust_pvalues(association_families(tests, spec.family), method=spec.adjust)
    return result, tests[ASSOCIATION_COLUMNS]
