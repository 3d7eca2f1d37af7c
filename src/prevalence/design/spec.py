"""Reading a ``design:`` block's columns from a frame and checking them.

Each function checks one part of the block (a column, its values, the ids of a stage,
the population sizes, the lonely PSUs) and raises :class:`prevalence.errors.DesignError`
naming the file, the column, the 1-based data row and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from prevalence.design.arrays import (
    LONELY_PSU_POLICIES,
    SELF_REPRESENTING_TOL,
    compiled,
    dense_codes,
    dense_offsets,
    sampling_complement,
)
from prevalence.errors import DesignError

__all__ = [
    "preview",
    "frame_column",
    "column_names",
    "first_row",
    "numeric_column",
    "check_weight_values",
    "id_codes",
    "scalar",
    "integer_codes",
    "stage1_ids",
    "group_first",
    "stage_popsize",
    "fpc_varies",
    "check_block",
    "spec_options",
    "weights_of",
    "check_no_lonely_psu",
]


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


# --------------------------------------------------------------------------------------
# from_frame
# --------------------------------------------------------------------------------------
def preview(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    text = ", ".join(names[:12])
    return text + (", ..." if len(names) > 12 else "")


def frame_column(frame: pd.DataFrame, col: Any, key: str, source: str) -> pd.Series:
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
            fix=f"set design.{key} to one of the data's columns: {preview(frame)}",
        )
    return frame[col]


def column_names(spec: Mapping[str, Any], key: str, source: str, max_len: int) -> tuple[str, ...]:
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


def first_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0]) + 1


def numeric_column(
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
        i = first_row(bad)
        raise DesignError(
            f"{what} is not a number",
            file=source,
            column=col,
            row=i,
            value=s.iloc[i - 1],
            fix=fix,
        )
    return num.to_numpy(dtype=np.float64, na_value=np.nan)


def check_weight_values(w: np.ndarray, col: str | None, source: str | None) -> None:
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
            i = first_row(mask)
            raise DesignError(
                problem, file=source, column=col, row=i, value=float(w[i - 1]), fix=fix
            )


def id_codes(
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
            row=first_row(missing),
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


def scalar(v: Any) -> Any:
    """A numpy scalar as the Python value (for messages)."""
    return v.item() if isinstance(v, np.generic) else v


def integer_codes(s: pd.Series | None) -> tuple[np.ndarray, int, int] | None:
    """An integer id column's values, smallest and largest (None if not integer)."""
    if s is None or not (isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu") or not len(s):
        return None
    values = s.to_numpy()
    return values, int(values.min()), int(values.max())


def stage1_ids(
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
    ints_p, ints_s = integer_codes(psu), integer_codes(strata)
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
    raw_psu, psu_values = id_codes(psu, psu_col, source, "PSU id", dense=False)
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
    strata_codes, strata_values = id_codes(strata, strata_col, source, "stratum")
    key = strata_codes * n_ids
    key += raw_psu
    psu_codes, pair_values = dense_codes(key)
    return psu_codes, pair_values // n_ids, strata_values, pair_values % n_ids, psu_values


def group_first(codes: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """A value per group (the last row's; callers check the values are constant)."""
    out = np.empty(n_groups, dtype=values.dtype)
    out[codes] = values
    return out


def stage_popsize(
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
                i = first_row(mask)
                raise DesignError(
                    problem,
                    file=source,
                    column=col,
                    row=i,
                    value=float(values[i - 1]),
                    fix=fix_num,
                )
        per_unit = group_first(unit, len(unit_group), values)
        varies = values != per_unit[unit]
        if varies.any():
            fpc_varies(values, varies, unit, unit_group, col, source, group_name, group_label)
    # the fpc is constant within units: the rest works on per_unit, and reads the
    # rows (values) again only to name the row of an error
    per_group = group_first(unit_group, n_groups, per_unit)
    odd = np.flatnonzero(per_unit != per_group[unit_group])
    if odd.size:
        fpc_varies(values, unit == odd[0], unit, unit_group, col, source, group_name, group_label)
    if (per_unit > 1).any():
        if (per_unit < 1).any():
            i = first_row(values < 1)
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
        i = first_row(unit_group[unit] == g)
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


def fpc_varies(
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
    i = first_row(varies)
    raise DesignError(
        f"fpc varies within {group_name} {group_label(unit_group[unit[i - 1]])}",
        file=source,
        column=col,
        row=i,
        value=float(values[i - 1]),
        fix=f"the fpc must be the same for all rows of a {group_name}",
    )


def check_block(
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


def spec_options(spec: Mapping[str, Any], frame: pd.DataFrame, source: str) -> tuple[str, bool]:
    """The design block's keys checked, the data checked not empty: ``(lonely_psu, nest)``."""
    check_block(
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


def weights_of(w_given, fpc_cols, stages, source, popsize, n_h, psu_stratum, psu, psu_popsize, n2):
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


def check_no_lonely_psu(source, n_h, popsize, n2, psu_popsize, *, strata, psus) -> None:
    """Under ``lonely_psu: fail``, stop at the first stratum with one PSU (or PSU with one unit).

    ``strata`` is ``(column, labels, values, first_row)`` and ``psus`` is
    ``(columns, psu of each row, label, value)``, the last two functions of a PSU.
    """
    strata_col, labels, strata_values, stratum_first_row = strata
    psu_cols, psu, psu_label, psu_value = psus
    f1 = sampling_complement(n_h, popsize)
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
                value=scalar(strata_values[h]),
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
        f2 = sampling_complement(n2, psu_popsize)
        bad2 = (n2 == 1) & (f2 >= SELF_REPRESENTING_TOL)
        if bad2.any():
            p = int(np.flatnonzero(bad2)[0])
            raise DesignError(
                f"PSU {psu_label(p)} has only one unit sampled at stage 2, so its "
                "second-stage variance cannot be estimated",
                file=source,
                column=psu_cols[0],
                row=first_row(psu == p),
                value=psu_value(p),
                fix="set design.lonely_psu to remove, certainty, adjust or average, "
                "or check the stage-2 fpc",
            )
