"""The prevalence table's contract: its columns, the published cell and its one reader.

``results/tables/prevalence.csv`` has one row per wave x domain x indicator,
with :data:`COLUMNS` in this order (disclosure appends :data:`N_SUPPRESSED`
and a standard's :data:`CAUTION` / :data:`GRADE` marks). Every output that
publishes a cell (tables, comparisons, findings) reads it through
:func:`read_cells`, so a boolean column means the same everywhere: ``True``,
``1``, ``1.0``, ``"true"``, ``"1.0"`` and ``"yes"`` are true; ``False``, ``0``,
``""`` and a missing value are false. Flags of one cell are joined with
``"; "`` by :func:`join_flags`, the one place that does it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from prevalence.errors import PrevalenceError

__all__ = [
    "ALL",
    "CAUTION",
    "COLUMNS",
    "CROSS",
    "DISPLAY_COLUMNS",
    "GRADE",
    "KEY_COLUMNS",
    "N_SUPPRESSED",
    "OVERALL",
    "check_display_table",
    "join_flags",
    "read_cells",
    "signed",
    "truthy",
]

COLUMNS = [
    "wave",
    "domain",
    "domain_value",
    "indicator",
    "denominator",
    "n",
    "cases",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "ci_method",
    "level",
    "deff",
    "n_eff",
    "df",
    "suppressed",
    "flag",
]
#: The columns that publication outputs (tables, charts) read, in the table's order.
DISPLAY_COLUMNS = tuple(c for c in COLUMNS if c not in ("cases", "se", "deff", "n_eff", "df"))
#: The columns that name one published cell.
KEY_COLUMNS = ("wave", "domain", "domain_value", "indicator", "denominator")

#: The domain of the whole sample, its one value, and the joint of a crossing.
OVERALL = "overall"
ALL = "All"
CROSS = "+"

#: Columns disclosure appends: true where even ``n`` is hidden.
N_SUPPRESSED = "n_suppressed"
#: A standard's marks: true where it says "use with caution" (DHS 25-49 cases,
#: Statistics Canada grade E), and Statistics Canada's quality grade (A-F).
CAUTION = "caution"
GRADE = "grade"

_TRUE_TEXT = ("true", "t", "yes", "y")
_MINUS = "\u2212"


def check_display_table(table: Any, fix: str) -> None:
    """Refuse anything but a data frame with the :data:`DISPLAY_COLUMNS` (for tables, charts).

    ``fix`` says which table to pass.
    """
    if not isinstance(table, pd.DataFrame):
        raise PrevalenceError(f"expected a pandas DataFrame, got {type(table).__name__}", fix=fix)
    missing = [c for c in DISPLAY_COLUMNS if c not in table.columns]
    if missing:
        raise PrevalenceError(f"the prevalence table lacks column(s) {', '.join(missing)}", fix=fix)


def truthy(values: Any) -> np.ndarray:
    """A boolean column read the one way: bool, numbers (non-zero) or text.

    Text is true when it is ``true``/``t``/``yes``/``y`` (any case) or a
    non-zero number (``"1"``, ``"1.0"``); a missing value is false.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_bool_dtype(series.dtype) and not series.isna().any():
        return series.to_numpy(dtype=bool)
    present = series.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(series.dtype):
        return present & (series.fillna(0).to_numpy() != 0)
    text = series.astype(str).str.strip().str.lower()
    number = pd.to_numeric(text, errors="coerce")
    is_true = text.isin(_TRUE_TEXT) | (number.notna() & (number != 0))
    return present & is_true.to_numpy()


def text(values: pd.Series) -> pd.Series:
    """A text column: stripped strings, missing as ``""``."""
    out = values.astype(object).where(values.notna(), "")
    return out.astype(str).str.strip()


def join_flags(*columns: Any) -> np.ndarray:
    """Join arrays of flag text cell by cell with ``"; "``, skipping empty strings.

    The arrays broadcast together; a missing value counts as empty. Returns an
    object array of str.
    """
    arrays = [np.asarray(column, dtype=object) for column in columns]
    out = np.full(np.broadcast_shapes(*(a.shape for a in arrays)), "", dtype=object)
    for column in arrays:
        column = np.where(pd.isna(column), "", column)
        has = column != ""
        both = has & (out != "")
        out = np.where(both, out + "; " + column, np.where(has, column, out))
    return out


def read_cells(table: pd.DataFrame) -> pd.DataFrame:
    """The published cells of a prevalence table, read the one way.

    Returns one row per row of ``table`` (same index) with the
    :data:`KEY_COLUMNS`, ``ci_method``, ``flag`` and ``grade`` as stripped text,
    ``n``, ``level``, ``cases``, ``estimate``, ``ci_low``, ``ci_high`` as floats (the
    last four missing where the cell is suppressed: they are never read), and the
    booleans ``suppressed``, ``n_hidden`` (column :data:`N_SUPPRESSED`),
    ``caution`` (never on a suppressed cell). Optional columns that are absent
    read as false or empty.
    """
    suppressed = truthy(table["suppressed"])
    out = pd.DataFrame(index=table.index)
    for name in (*KEY_COLUMNS, "ci_method", "flag"):
        out[name] = text(table[name]) if name in table.columns else ""
    for name in ("n", "level"):
        out[name] = pd.to_numeric(table[name], errors="coerce") if name in table else np.nan
    for name in ("cases", "estimate", "ci_low", "ci_high"):
        value = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
        out[name] = np.where(suppressed, np.nan, value)
    out["suppressed"] = suppressed
    absent = np.zeros(len(table), dtype=bool)
    out["n_hidden"] = truthy(table[N_SUPPRESSED]) if N_SUPPRESSED in table else absent
    out["caution"] = (truthy(table[CAUTION]) if CAUTION in table else absent) & ~suppressed
    grade = text(table[GRADE]) if GRADE in table else pd.Series("", index=table.index)
    out["grade"] = grade.where(~suppressed, "")
    return out


def signed(value: float, decimals: int) -> str:
    """A difference as published: ``+25.5``, ``\u22123.0``, and ``0.0`` (no sign) for zero.

    ``decimals`` digits after the point; a value that rounds to zero has no sign.
    """
    text = f"{value:+.{decimals}f}"
    if float(text) == 0:
        text = f"{0:.{decimals}f}"
    return text.replace("-", _MINUS)
