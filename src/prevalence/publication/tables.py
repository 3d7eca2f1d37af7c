"""Publication tables of prevalence estimates: XLSX, Markdown, LaTeX, HTML and Word.

The input is the long prevalence table (one row per wave x domain x indicator,
see :mod:`prevalence.stats.estimate`). :func:`wave_table` turns one wave and one
domain (or several, side by side) into a display table of strings:

* one row per indicator, in codebook order; an "of whom" indicator is
  labelled ``"Online hate speech (of those with online gender-based
  violence)"`` and indented by two leading spaces per level, which every writer
  renders as indentation;
* one column per domain value, after the ``All`` column of the whole sample;
* each cell ``"60% (52–67)"``: the estimate and its confidence interval,
  rounded half up (as publications do, not to even);
* a suppressed cell shows only the suppressed mark and a footnote letter,
  ``"— (a)"``, whose note gives the reason (the row's ``flag``). The estimate and
  the bounds of a suppressed row are never read. A published cell whose row
  carries a flag gets a footnote too (``"0% (0–31) (b)"``);
* a first row ``Respondents (n)`` (see :func:`wave_table` for how ``n`` is
  chosen when it varies between indicators).

The notes of a table (interval method and level, the definition of ``n``, the
footnotes and the source) travel with it in ``DataFrame.attrs`` and are written
below it. A :class:`Block` is ``(title, table, notes, key)``; the writers take
blocks and write atomically, byte-identical across runs:
:func:`write_xlsx`, :func:`write_markdown`, :func:`write_latex`,
:func:`write_html` and :func:`write_docx`. :func:`publication_tables` writes all
five for a study.

Nothing here keeps state between calls; the ``render_*`` functions return the
text (or bytes) that the ``write_*`` functions write.
"""

from __future__ import annotations

import difflib
import html
import io
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from prevalence.contract import (
    DISPLAY_COLUMNS,
    N_SUPPRESSED,
    OVERALL,
    check_display_table,
    read_cells,
    signed,
    truthy,
)
from prevalence.data.io import write_text, write_with
from prevalence.errors import ConfigError, PrevalenceError
from prevalence.publication.disclosure import Publication, marks
from prevalence.stats.intervals import METHOD_NAMES

__all__ = [
    "N_HIDDEN",
    "REQUIRED_COLUMNS",
    "Block",
    "TableStyle",
    "format_cell",
    "format_cells",
    "parse_table_style",
    "publication_tables",
    "render_html",
    "render_latex",
    "render_markdown",
    "render_docx",
    "render_xlsx",
    "sheet_name",
    "wave_table",
    "write_docx",
    "write_html",
    "write_latex",
    "write_markdown",
    "write_xlsx",
]

REQUIRED_COLUMNS = DISPLAY_COLUMNS

#: Optional boolean column of the long table: true where ``n`` must not be published.
N_HIDDEN = N_SUPPRESSED

LABEL_COLUMN = "Indicator"
N_LABEL = "Respondents (n)"
INDENT = "  "
DOCUMENT_TITLE = "Prevalence of violence against women parliamentarians"


# Reasons used when a row gives none.
_NOT_PUBLISHED = "not published"
_NO_ESTIMATE = "no estimate"
_NOT_ESTIMATED = "not estimated"
_N_WITHHELD = "n withheld"

# A fixed instant for the workbook's creation and modification dates (and zip entries).
_FIXED_TIME = datetime(1980, 1, 1, 0, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_NOTES_SHEET = "Notes"


# --------------------------------------------------------------------------
# Style
# --------------------------------------------------------------------------

_STYLE_KEYS = {  # config key -> TableStyle field
    "percent": "percent",
    "decimals": "decimals",
    "range_dash": "dash",
    "suppressed": "suppressed_mark",
    "show_n": "show_n",
    "decimal_mark": "decimal_mark",
}
_MAX_DECIMALS = 4


def _style_problem(name: str, value: Any) -> tuple[str, str] | None:
    """(problem, fix) if ``value`` is not valid for the TableStyle field ``name``."""
    if name in ("percent", "show_n"):
        if not isinstance(value, bool):
            return f"must be true or false, not {value!r}", "write true or false"
    elif name == "decimals":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_DECIMALS:
            return (
                f"must be a whole number from 0 to {_MAX_DECIMALS}, not {value!r}",
                "decimals: 0 gives 60% (52–67); 1 gives 60.4% (52.1–67.0)",
            )
    elif name in ("dash", "suppressed_mark"):
        if not isinstance(value, str) or not value.strip():
            return f"must be a non-empty text, not {value!r}", "e.g. '–' (en dash) or '-'"
        if any(ch.isdigit() or ch in "\r\n" for ch in value) or len(value) > 5:
            return (
                f"must be at most 5 characters, without digits or line breaks, not {value!r}",
                "e.g. '–' (en dash) or '-'",
            )
    elif name == "decimal_mark" and value not in (".", ","):
        return f"must be '.' or ',', not {value!r}", "write '.' or ','"
    return None


@dataclass(frozen=True)
class TableStyle:
    """How estimates are written in a table.

    Attributes
    ----------
    percent
        Percentages (``60% (52–67)``) rather than proportions (``0.60 (0.52–0.67)``).
    decimals
        Decimals of a percentage. Proportions get ``decimals + 2`` decimals, so
        switching ``percent`` never changes the precision shown.
    dash
        Between the bounds of an interval (default an en dash).
    suppressed_mark
        In place of a suppressed estimate (default an em dash).
    show_n
        Add the ``Respondents (n)`` row.
    decimal_mark
        ``"."`` or ``","``.

    Raises
    ------
    ConfigError
        For an invalid value (see :func:`parse_table_style` for the config keys).
    """

    percent: bool = True
    decimals: int = 0
    dash: str = "\u2013"
    suppressed_mark: str = "\u2014"
    show_n: bool = True
    decimal_mark: str = "."

    def __post_init__(self) -> None:
        for item in fields(self):
            problem = _style_problem(item.name, getattr(self, item.name))
            if problem is not None:
                raise ConfigError(f"table style {item.name} {problem[0]}", fix=problem[1])
        if self.dash == self.decimal_mark:
            raise ConfigError(
                "table style: the range dash and the decimal mark are the same",
                fix="use '–' between bounds with a ',' decimal mark",
            )


def parse_table_style(
    raw: Mapping[str, Any] | None, source: str | Path | None = None
) -> TableStyle:
    """Build a :class:`TableStyle` from the ``tables:`` block of the config.

    Parameters
    ----------
    raw
        The block: ``decimals`` (0-4), ``percent`` (bool), ``range_dash`` (text
        between bounds), ``suppressed`` (mark of a suppressed cell), ``show_n``
        (bool), ``decimal_mark`` (``.`` or ``,``). Missing keys keep their
        defaults; ``None`` or ``{}`` is the default style.
    source
        The config file, named in errors.

    Returns
    -------
    TableStyle

    Raises
    ------
    ConfigError
        For an unknown key (with the closest allowed one) or an invalid value.
    """
    file = None if source is None else str(source)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"tables must be a mapping, not {type(raw).__name__}",
            file=file,
            fix="e.g. tables: {decimals: 0, percent: true}",
        )
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _STYLE_KEYS:
            close = difflib.get_close_matches(str(key), list(_STYLE_KEYS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"unknown key {key!r} under tables",
                file=file,
                fix=f"{hint}allowed keys here: {', '.join(_STYLE_KEYS)}",
            )
        problem = _style_problem(_STYLE_KEYS[key], value)
        if problem is not None:
            raise ConfigError(f"tables.{key} {problem[0]}", file=file, fix=problem[1])
        values[_STYLE_KEYS[key]] = value
    try:
        return TableStyle(**values)
    except ConfigError as error:
        raise ConfigError(error.problem, file=file, fix=error.fix) from None


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    """``value`` as a finite float, or None (missing, NaN, infinite, not a number)."""
    if value is None or isinstance(value, bool | str):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def format_number(value: float, style: TableStyle) -> str:
    """A proportion as shown, without the percent sign: scaled, rounded half up, with the
    style's decimal mark (``0.6021`` is ``"60"``)."""
    places = style.decimals if style.percent else style.decimals + 2
    # The shortest repr is the decimal the float stands for: 0.285 is 28.5%, not 28.4999...
    exact = Decimal(repr(value))
    if style.percent:
        exact = exact.scaleb(2)
    try:
        rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # absurdly large: no rounding is needed to show it
        rounded = exact
    if rounded == 0:
        rounded = rounded.copy_abs()  # never "-0%"
    text = f"{rounded:.{places}f}"
    return text if style.decimal_mark == "." else text.replace(".", style.decimal_mark)


def format_cell(estimate: Any, low: Any, high: Any, style: TableStyle | None = None) -> str:
    """One estimate and its interval as text.

    Parameters
    ----------
    estimate, low, high
        Proportions in [0, 1]. A missing bound drops the interval.
    style
        Default :class:`TableStyle` (percent, no decimals, en dash).

    Returns
    -------
    str
        ``"60% (52–67)"`` or ``"0.60 (0.52–0.67)"``, rounded half up
        (``0.125`` is ``"13%"``); the suppressed mark when ``estimate`` is missing.

    Examples
    --------
    >>> format_cell(0.6021, 0.5249, 0.6712)
    '60% (52–67)'
    >>> format_cell(0.6021, 0.5249, 0.6712, TableStyle(percent=False))
    '0.60 (0.52–0.67)'
    """
    style = style or TableStyle()
    value = _finite(estimate)
    if value is None:
        return style.suppressed_mark
    text = format_number(value, style) + ("%" if style.percent else "")
    lo, hi = _finite(low), _finite(high)
    if lo is not None and hi is not None:
        text += f" ({format_number(lo, style)}{style.dash}{format_number(hi, style)})"
    return text


def format_cells(estimate: Any, low: Any, high: Any, style: TableStyle | None = None) -> Any:
    """:func:`format_cell` over arrays or Series (broadcast together).

    Returns
    -------
    numpy.ndarray or pandas.Series
        Strings of the broadcast shape; a Series (with its index) when
        ``estimate`` is one.
    """
    style = style or TableStyle()
    arrays = [
        np.asarray(pd.to_numeric(pd.Series(np.ravel(x)), errors="coerce"), dtype=float).reshape(
            np.shape(x)
        )
        for x in (estimate, low, high)
    ]
    est, lo, hi = np.broadcast_arrays(*arrays)
    out = np.empty(est.shape, dtype=object)
    for index in np.ndindex(est.shape):
        out[index] = format_cell(est[index], lo[index], hi[index], style)
    if isinstance(estimate, pd.Series):
        return pd.Series(out, index=estimate.index, name=estimate.name, dtype=object)
    return out


# --------------------------------------------------------------------------
# The display table of a wave
# --------------------------------------------------------------------------


class Block(NamedTuple):
    """A titled table with its notes, as the writers take it.

    ``key`` names the table in HTML ids and LaTeX labels (default ``table-<i>``).
    A plain ``(title, table, notes)`` tuple, or a table from :func:`wave_table`
    (whose ``attrs`` hold the title, notes and key), is accepted as well.
    """

    title: str
    table: pd.DataFrame
    notes: tuple[str, ...] = ()
    key: str = ""

    @classmethod
    def of(cls, table: pd.DataFrame) -> Block:
        """The block of a table made by :func:`wave_table`."""
        attrs = table.attrs
        return cls(
            str(attrs.get("title", "")),
            table,
            tuple(attrs.get("notes", ())),
            str(attrs.get("key", "")),
        )


def _text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def _check_table(table: pd.DataFrame) -> None:
    check_display_table(table, fix="pass the long prevalence table (results/tables/prevalence.csv)")


def _domain_name(domain: str) -> str:
    text = " \u00d7 ".join(p.strip().replace("_", " ") for p in domain.split("+"))
    return text[:1].upper() + text[1:]


def _value_name(value: str) -> str:
    return " \u00d7 ".join(p.strip() for p in value.split("+"))


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym (``MP``, ``ICT``)."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[1:].lower() != first[1:]:
        return text
    return text[:1].lower() + text[1:]


def _letters(i: int) -> str:
    """Footnote letter of the i-th reason (0-based): a..z, aa, ab, ..."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def _level_text(level: float | None) -> str:
    if level is None:
        return ""
    percent = level * 100 if level <= 1 else level
    return f"{round(percent, 4):g}%"


def _reasons(flag: str) -> list[str]:
    return list(dict.fromkeys(p.strip() for p in flag.split(";") if p.strip()))


@dataclass(frozen=True)
class _Column:
    domain: str
    value: str
    header: str


def _columns(rows: pd.DataFrame, domains: Sequence[str], wide: bool, wave: Any) -> list[_Column]:
    overall = rows.loc[rows["domain"] == OVERALL, "domain_value"]
    if not len(overall):
        raise PrevalenceError(
            f"wave {wave!r} has no overall rows in the prevalence table",
            fix="estimate the wave again: overall is always estimated",
        )
    columns = [_Column(OVERALL, str(overall.iloc[0]), "All")]
    for domain in domains:
        if domain == OVERALL:
            continue
        values = rows.loc[rows["domain"] == domain, "domain_value"]
        if not len(values):
            raise PrevalenceError(
                f"wave {wave!r} has no rows for domain {domain!r}",
                column="domain",
                value=domain,
                fix="add the domain to estimates.by in config.yaml, or leave it out of the tables",
            )
        for value in dict.fromkeys(values):
            name = _value_name(value)
            header = f"{_domain_name(domain)}: {name}" if wide else name
            columns.append(_Column(domain, value, header))
    headers = [c.header for c in columns]
    clash = sorted({h for h in headers if headers.count(h) > 1})
    if clash:
        raise PrevalenceError(
            f"two columns of the table would both be headed {clash[0]!r}",
            fix="give the domain values distinct labels in the codebook",
        )
    return columns


def _title(wave_label: str, domains: Sequence[str], wide: bool) -> str:
    named = [_lower_first(_domain_name(d)) for d in domains if d != OVERALL]
    if not named:
        return f"{wave_label}: prevalence among all respondents"
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return f"{wave_label}: prevalence {'overall and ' if wide else ''}by {listed}"


def _cells(rows: pd.DataFrame, wave: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The published cells of a wave's rows, by (domain, value, indicator), read the one way.

    A suppressed row's estimate and bounds are dropped by the reader and never read again.
    """
    read = read_cells(rows)
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    for cell in read.itertuples(index=False):
        key = (cell.domain, cell.domain_value, cell.indicator)
        if key in cells:
            raise PrevalenceError(
                "two rows for one indicator in one domain value",
                column="indicator",
                value=cell.indicator,
                fix="keep one row per wave, domain, value and indicator "
                f"(wave {wave}, {cell.domain} = {cell.domain_value})",
            )
        cells[key] = {
            "parent": None if cell.denominator in ("", "all", cell.indicator) else cell.denominator,
            "n": _finite(cell.n),
            "n_hidden": bool(cell.n_hidden),
            "suppressed": bool(cell.suppressed),
            "estimate": cell.estimate,
            "low": cell.ci_low,
            "high": cell.ci_high,
            "method": cell.ci_method,
            "level": _finite(cell.level),
            "flag": cell.flag,
            "caution": bool(cell.caution),
            "grade": cell.grade,
        }
    return cells


def wave_table(
    table: pd.DataFrame,
    *,
    wave: Any,
    domain: str | Sequence[str],
    labels: Mapping[str, str],
    style: TableStyle | None = None,
    wave_label: str | None = None,
    source: str | None = None,
    publication: Publication | None = None,
) -> pd.DataFrame:
    """The display table of one wave and one domain (or several side by side).

    Parameters
    ----------
    table
        The long prevalence table (:data:`REQUIRED_COLUMNS`; other columns are
        ignored except :data:`N_HIDDEN`).
    wave
        The wave whose rows are shown.
    domain
        A domain id (``"region"``, ``"region+role"`` or ``"overall"``): the
        columns are ``All`` and the domain's values. A list of domain ids puts
        them side by side, headed ``"Region: Africa"``, ``"Role: MP"``...
    labels
        Indicator id -> label, in codebook order (the row order). Indicators of
        the table missing here follow in table order, labelled by their id;
        labels without rows are skipped.
    style
        Default :class:`TableStyle`.
    wave_label
        The wave's name in the title and the source note (default its id).
    source
        The publication or data source, for the last note (default the wave label).
    publication
        The standard the table was disclosed under (default NCHS), for its marks
        (:func:`prevalence.publication.disclosure.marks`): under ``dhs`` a cell the standard
        hides shows ``*`` and a "use with caution" one (the ``caution`` column)
        is shown in parentheses, ``"(60% (52–67))"``; under ``statcan`` each
        published cell ends with its grade (``"60% (52–67) C"``) and a cell the
        standard hides shows ``F``. The notes explain the marks used; other
        reasons get footnote letters as usual.

    Returns
    -------
    pandas.DataFrame
        Strings: a first column ``Indicator`` (row labels; two leading spaces per
        level of an "of whom" indicator), then a column per domain value. The
        first row, ``Respondents (n)`` (unless ``style.show_n`` is false), gives
        per column the ``n`` of the indicators asked of all respondents
        (``denominator`` ``all``): one number when they agree, ``min–max`` when
        item non-response makes them differ. A cell whose ``n`` is withheld
        (:data:`N_HIDDEN` true) shows the suppressed mark. ``attrs`` holds
        ``title``, ``notes`` (tuple of str) and ``key``.

    Raises
    ------
    PrevalenceError
        If the table lacks a column, the wave or a domain has no rows, or two
        rows share a wave, domain, value and indicator.
    """
    style = style or TableStyle()
    _check_table(table)
    wide = not isinstance(domain, str)
    domains = [domain] if isinstance(domain, str) else list(domain)
    rows = table.loc[table["wave"].astype(str) == str(wave)]
    if not len(rows):
        raise PrevalenceError(
            f"the prevalence table has no rows for wave {wave!r}",
            column="wave",
            fix="check the wave id, or run the estimation for this wave",
        )
    wave_label = wave_label or str(wave)
    rows = rows.assign(
        domain=rows["domain"].map(_text),
        domain_value=rows["domain_value"].map(_text),
        indicator=rows["indicator"].map(_text),
    )
    columns = _columns(rows, domains, wide, wave)
    wanted = {c.domain for c in columns}
    rows = rows.loc[rows["domain"].isin(wanted)]
    standard = marks(publication)
    cells = _cells(rows, wave)

    present = list(dict.fromkeys(rows["indicator"]))
    order = [i for i in labels if i in present] + [i for i in present if i not in labels]
    parent_of: dict[str, str | None] = {}
    for (_, _, ind), cell in cells.items():
        parent_of.setdefault(ind, cell["parent"])

    def label(ind: str) -> str:
        return _text(labels.get(ind)) or ind

    def depth(ind: str) -> int:
        seen = {ind}
        level, current = 0, parent_of.get(ind)
        while current is not None and current not in seen:
            seen.add(current)
            level += 1
            current = parent_of.get(current)
        return level

    footnotes: dict[str, str] = {}
    used_mark = False
    used = [False, False, False]  # the standard's caution, hidden and grade marks

    def mark(reasons: Sequence[str]) -> str:
        letters = [footnotes.setdefault(r, _letters(len(footnotes))) for r in reasons]
        return f" ({', '.join(letters)})" if letters else ""

    body: list[list[str]] = []
    if style.show_n:
        n_row = [N_LABEL]
        for column in columns:
            found = [
                cells[(column.domain, column.value, ind)]
                for ind in order
                if (column.domain, column.value, ind) in cells
            ]
            base = [c for c in found if c["parent"] is None] or found
            if any(c["n_hidden"] for c in base):
                used_mark = True
                n_row.append(style.suppressed_mark + mark([_N_WITHHELD]))
                continue
            counts = sorted({int(c["n"]) for c in base if c["n"] is not None})
            if not counts:
                n_row.append("")
            elif len(counts) == 1:
                n_row.append(str(counts[0]))
            else:
                n_row.append(f"{counts[0]}{style.dash}{counts[-1]}")
        body.append(n_row)

    intervals: dict[tuple[str, str], None] = {}
    for ind in order:
        parent = parent_of.get(ind)
        text = label(ind)
        if parent is not None:
            text = f"{text} (of those with {_lower_first(label(parent))})"
        row = [INDENT * depth(ind) + text]
        for column in columns:
            cell = cells.get((column.domain, column.value, ind))
            if cell is None:
                used_mark = True
                row.append(style.suppressed_mark + mark([_NOT_ESTIMATED]))
            elif cell["suppressed"] or _finite(cell["estimate"]) is None:
                fallback = _NOT_PUBLISHED if cell["suppressed"] else _NO_ESTIMATE
                reasons = _reasons(cell["flag"]) or [fallback]
                if standard.hidden_mark and standard.hidden_reason in reasons:
                    used[1] = True
                    others = [r for r in reasons if r != standard.hidden_reason]
                    row.append(standard.hidden_mark + mark(others))
                else:
                    used_mark = True
                    row.append(style.suppressed_mark + mark(reasons))
            else:
                text = format_cell(cell["estimate"], cell["low"], cell["high"], style)
                if _finite(cell["low"]) is not None and _finite(cell["high"]) is not None:
                    method = METHOD_NAMES.get(cell["method"], cell["method"])
                    intervals[(method, _level_text(cell["level"]))] = None
                if cell["caution"] and standard.parentheses:
                    used[0] = True
                    text = f"({text})"
                if cell["grade"] and standard.grades:
                    used[2] = True
                    text = f"{text} {cell['grade']}"
                reasons = [r for r in _reasons(cell["flag"]) if r != standard.caution_reason]
                row.append(text + mark(reasons))
        body.append(row)

    frame = pd.DataFrame(body, columns=[LABEL_COLUMN, *(c.header for c in columns)], dtype=object)
    notes = _notes(
        style=style,
        intervals=list(intervals),
        conditional=any(parent_of.get(i) is not None for i in order),
        used_mark=used_mark,
        footnotes=footnotes,
        source=source or wave_label,
        standard_notes=[n for n, u in zip(standard.notes, used, strict=True) if u and n],
    )
    key_domains = "all-domains" if wide else domains[0]
    frame.attrs = {
        "title": _title(wave_label, domains, wide),
        "notes": notes,
        "key": f"{wave}-{key_domains}",
    }
    return frame


def _notes(
    *,
    style: TableStyle,
    intervals: Sequence[tuple[str, str]],
    conditional: bool,
    used_mark: bool,
    footnotes: Mapping[str, str],
    source: str,
    standard_notes: Sequence[str] = (),
) -> tuple[str, ...]:
    unit = "Percent" if style.percent else "Proportion"
    if intervals:
        named = " or ".join(
            " ".join(p for p in (method, level) if p) for method, level in intervals
        )
        first = f"{unit} of respondents, with {named} confidence intervals in parentheses."
    else:
        first = f"{unit} of respondents."
    notes = [first]
    if style.show_n:
        notes.append(
            f"{N_LABEL}: respondents with a valid answer, per column; a range (lowest"
            f"{style.dash}highest) where item non-response differs between the indicators "
            "asked of all respondents."
        )
    if conditional:
        what = "percentages" if style.percent else "proportions"
        notes.append(
            f"Indented rows (of those with \u2026) are {what} of the respondents with the "
            "experience above, not of all respondents."
        )
    notes.extend(standard_notes)
    if used_mark:
        notes.append(f"{style.suppressed_mark} not published; the letter gives the reason.")
    notes.extend(f"({letter}) {reason}" for reason, letter in footnotes.items())
    notes.append(f"Source: {source.rstrip('.')}.")
    return tuple(notes)


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------

BlockLike = Block | pd.DataFrame | Sequence[Any]


def _block(item: BlockLike, index: int) -> Block:
    if isinstance(item, pd.DataFrame):
        item = Block.of(item)
    parts = list(item)
    if len(parts) not in (3, 4) or not isinstance(parts[1], pd.DataFrame):
        raise PrevalenceError(
            "a table block must be (title, DataFrame, notes) or (title, DataFrame, notes, key)",
            fix="pass the tables made by wave_table, or Block(title, table, notes)",
        )
    title, table, notes = parts[:3]
    key = str(parts[3]) if len(parts) == 4 and parts[3] else f"table-{index}"
    if isinstance(notes, str):
        notes = (notes,)
    return Block(_text(title), table, tuple(_text(n) for n in notes or ()), key)


def _blocks(blocks: Iterable[BlockLike]) -> list[Block]:
    return [_block(item, i) for i, item in enumerate(blocks, start=1)]


def _cell_text(value: Any) -> str:
    return _one_line(value) if isinstance(value, str) else " ".join(_text(value).split())


def _one_line(text: str) -> str:
    """Keep leading spaces (the indentation of a row label); fold line breaks."""
    stripped = text.lstrip(" ")
    return text[: len(text) - len(stripped)] + " ".join(stripped.split())


def _grid(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = [_cell_text(c) for c in table.columns]
    rows = [[_cell_text(v) for v in row] for row in table.itertuples(index=False, name=None)]
    return header, rows


def _split_indent(label: str) -> tuple[int, str]:
    stripped = label.lstrip(" ")
    return (len(label) - len(stripped)) // len(INDENT), stripped


def _key(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return slug or "table"


def _unique_keys(blocks: Sequence[Block]) -> list[str]:
    seen: dict[str, int] = {}
    keys = []
    for block in blocks:
        base = _key(block.key)
        count = seen.get(base, 0) + 1
        seen[base] = count
        keys.append(base if count == 1 else f"{base}-{count}")
    return keys


# Markdown ------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_markdown(blocks: Iterable[BlockLike], *, title: str | None = DOCUMENT_TITLE) -> str:
    """Markdown (GitHub pipe tables) of the blocks: a heading, the table, its notes as a list.

    The indentation of "of whom" rows becomes em spaces, which renderers keep.
    """
    lines: list[str] = []
    if title:
        lines += [f"# {_md(title)}", ""]
    for block in _blocks(blocks):
        header, rows = _grid(block.table)
        lines += [f"## {_md(block.title)}", ""] if block.title else []
        lines.append("| " + " | ".join(_md(h) for h in header) + " |")
        lines.append("|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|")
        for row in rows:
            level, label = _split_indent(row[0]) if row else (0, "")
            cells = ["\u2003" * level + _md(label), *(_md(v) for v in row[1:])]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        if block.notes:
            lines += [f"- {_md(note)}" for note in block.notes] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_markdown(
    blocks: Iterable[BlockLike], path: str | Path, *, title: str | None = DOCUMENT_TITLE
) -> Path:
    """Write :func:`render_markdown` atomically to ``path``."""
    return write_text(path, render_markdown(blocks, title=title))


# LaTeX ---------------------------------------------------------------------

_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "[": "{[}",
    "]": "{]}",
    "\u2013": "--",
    "\u2014": "---",
    "\u2212": "$-$",
    "\u00d7": r"$\times$",
    "\u2026": r"\dots{}",
    "\u2264": r"$\leq$",
    "\u2265": r"$\geq$",
    "\u00a0": "~",
    "\u2003": r"\quad{}",
    "\u201c": "``",
    "\u201d": "''",
    "\u2018": "`",
    "\u2019": "'",
}
_LATEX_SPECIAL = re.compile("|".join(re.escape(k) for k in _LATEX))


def _tex(text: str) -> str:
    return _LATEX_SPECIAL.sub(lambda m: _LATEX[m.group(0)], text)


def render_latex(blocks: Iterable[BlockLike], *, title: str | None = DOCUMENT_TITLE) -> str:
    """LaTeX tables (booktabs) of the blocks, to ``\\input`` into a document.

    Each block is a ``table`` float with its caption and label
    (``tab:<key>``), a ``tabular`` with ``\\toprule``/``\\midrule``/``\\bottomrule``
    and its notes in small type below. The preamble needs
    ``\\usepackage{booktabs}`` and ``\\usepackage{array}``; the text is UTF-8.
    Special characters are escaped (``%`` is ``\\%``, an en dash ``--``).
    """
    items = _blocks(blocks)
    lines = []
    if title:
        lines.append(f"% {' '.join(title.split())}")
    lines += [r"% Needs \usepackage{booktabs} and \usepackage{array}.", ""]
    for block, key in zip(items, _unique_keys(items), strict=True):
        header, rows = _grid(block.table)
        spec = r"@{}>{\raggedright\arraybackslash}p{5cm}" + "r" * (len(header) - 1) + "@{}"
        lines += [r"\begin{table}[htbp]", r"\centering", r"\small"]
        if block.title:
            lines.append(rf"\caption{{{_tex(block.title)}}}")
        lines.append(rf"\label{{tab:{key}}}")
        lines += [rf"\begin{{tabular}}{{{spec}}}", r"\toprule"]
        lines.append(" & ".join(_tex(h) for h in header) + r" \\")
        lines.append(r"\midrule")
        for row in rows:
            level, label = _split_indent(row[0]) if row else (0, "")
            indent = rf"\hspace*{{{level}em}}" if level else ""
            lines.append(" & ".join([indent + _tex(label), *(_tex(v) for v in row[1:])]) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        if block.notes:
            lines += [
                r"\par\smallskip",
                r"\begin{minipage}{\linewidth}\footnotesize\raggedright",
                *(_tex(note) + r"\par" for note in block.notes),
                r"\end{minipage}",
            ]
        lines += [r"\end{table}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_latex(
    blocks: Iterable[BlockLike], path: str | Path, *, title: str | None = DOCUMENT_TITLE
) -> Path:
    """Write :func:`render_latex` atomically to ``path``."""
    return write_text(path, render_latex(blocks, title=title))


# HTML ----------------------------------------------------------------------

_CSS = """\
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #1a1a1a; background: #ffffff; margin: 2rem auto; max-width: 80rem; padding: 0 1rem;
  line-height: 1.4; }
h1 { font-size: 1.5rem; }
table { border-collapse: collapse; margin: 2rem 0 0.5rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.5rem; }
th, td { padding: 0.25rem 0.75rem; vertical-align: top; }
thead th { border-top: 2px solid #1a1a1a; border-bottom: 1px solid #1a1a1a; text-align: right; }
thead th:first-child { text-align: left; }
tbody th { text-align: left; font-weight: normal; }
tbody td { text-align: right; white-space: nowrap; }
tbody tr:last-child > * { border-bottom: 2px solid #1a1a1a; }
.notes { font-size: 0.875rem; color: #333333; margin: 0 0 1rem; padding-left: 1.25rem; }
"""


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def render_html(blocks: Iterable[BlockLike], *, title: str | None = DOCUMENT_TITLE) -> str:
    """A standalone, accessible HTML page of the blocks.

    Each table has a ``<caption>``, a ``<thead>`` of ``<th scope="col">``, row
    headers ``<th scope="row">`` and its notes in a list that the table names in
    ``aria-describedby``. No script and no external resource; the page is also
    well-formed XML. Text is escaped.
    """
    items = _blocks(blocks)
    heading = title or "Tables"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8" />',
        '<meta name="viewport" content="width=device-width, initial-scale=1" />',
        f"<title>{_h(heading)}</title>",
        "<style>",
        _CSS.rstrip("\n"),
        "</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{_h(heading)}</h1>",
    ]
    if items:
        out.append(html_sections(items).rstrip("\n"))
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def html_sections(blocks: Iterable[BlockLike]) -> str:
    """The tables of :func:`render_html` without the page around them: one ``<section>`` per
    block, each table with its caption, headers and notes (for a page of one's own)."""
    items = _blocks(blocks)
    out: list[str] = []
    for block, key in zip(items, [f"tbl-{k}" for k in _unique_keys(items)], strict=True):
        header, rows = _grid(block.table)
        described = f' aria-describedby="{key}-notes"' if block.notes else ""
        out.append(f'<section id="{key}">')
        out.append(f"<table{described}>")
        if block.title:
            out.append(f"<caption>{_h(block.title)}</caption>")
        out.append("<thead>")
        out.append("<tr>" + "".join(f'<th scope="col">{_h(h)}</th>' for h in header) + "</tr>")
        out.append("</thead>")
        out.append("<tbody>")
        for row in rows:
            level, label = _split_indent(row[0]) if row else (0, "")
            style = f' style="padding-left: {0.75 + 1.25 * level:g}rem"' if level else ""
            cells = "".join(f"<td>{_h(v)}</td>" for v in row[1:])
            out.append(f'<tr><th scope="row"{style}>{_h(label)}</th>{cells}</tr>')
        out.append("</tbody>")
        out.append("</table>")
        if block.notes:
            out.append(f'<ul class="notes" id="{key}-notes">')
            out += [f"<li>{_h(note)}</li>" for note in block.notes]
            out.append("</ul>")
        out.append("</section>")
    return "\n".join(out) + "\n"


def write_html(
    blocks: Iterable[BlockLike], path: str | Path, *, title: str | None = DOCUMENT_TITLE
) -> Path:
    """Write :func:`render_html` atomically to ``path``."""
    return write_text(path, render_html(blocks, title=title))


# XLSX ----------------------------------------------------------------------


def sheet_name(text: str, taken: Iterable[str] = ()) -> str:
    """A valid worksheet name for ``text``, distinct from ``taken`` (case-insensitive).

    Excel allows at most 31 characters, none of ``[ ] : * ? / \\``, no apostrophe
    at either end, and no two names equal but for case.
    """
    name = _SHEET_FORBIDDEN.sub("-", " ".join(str(text).split())).strip("'").strip()
    name = name[:31].strip().strip("'") or "Sheet"
    used = {t.lower() for t in taken}
    candidate, i = name, 1
    while candidate.lower() in used or candidate.lower() == "history":
        i += 1
        suffix = f" ({i})"
        candidate = name[: 31 - len(suffix)].rstrip() + suffix
    return candidate


def _excel_value(text: str) -> Any:
    """Counts as numbers (so Excel does not flag numbers stored as text); the rest as text."""
    return int(text) if re.fullmatch(r"[0-9]{1,15}", text) else text


def _fill_sheet(ws: Any, block: Block) -> None:
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    header, rows = _grid(block.table)
    bold = Font(bold=True)
    ws.cell(row=1, column=1, value=block.title or ws.title).font = Font(bold=True, size=13)
    ws.cell(row=2, column=1, value="Notes are below the table and on the Notes sheet.")
    top = 3
    line = Side(style="thin", color="000000")
    for j, text in enumerate(header, start=1):
        cell = ws.cell(row=top, column=j, value=text)
        cell.font = bold
        cell.border = Border(bottom=line)
        cell.alignment = Alignment(
            horizontal="left" if j == 1 else "right", vertical="bottom", wrap_text=True
        )
    for i, row in enumerate(rows, start=top + 1):
        for j, text in enumerate(row, start=1):
            if j == 1:
                level, label = _split_indent(text)
                cell = ws.cell(row=i, column=j, value=label)
                cell.alignment = Alignment(
                    horizontal="left", vertical="top", wrap_text=True, indent=level
                )
            else:
                cell = ws.cell(row=i, column=j, value=_excel_value(text))
                cell.alignment = Alignment(horizontal="right", vertical="top")
    below = top + len(rows) + 2
    for k, note in enumerate(block.notes):
        ws.cell(row=below + k, column=1, value=note)
    label_width = max([len(header[0]) if header else 0] + [len(r[0]) for r in rows]) + 2
    ws.column_dimensions["A"].width = min(max(label_width, 16), 60)
    for j in range(2, len(header) + 1):
        longest = max([len(header[j - 1]) // 2 + 1] + [len(r[j - 1]) for r in rows])
        ws.column_dimensions[get_column_letter(j)].width = min(max(longest + 2, 8), 30)
    ws.freeze_panes = ws.cell(row=top + 1, column=2).coordinate


def _fill_notes(
    ws: Any, notes: Sequence[str] | pd.DataFrame | None, sheets: Sequence[tuple[str, Block]]
) -> None:
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    if isinstance(notes, pd.DataFrame):
        header, rows = _grid(notes)
    else:
        header = ["Sheet", "Note"]
        rows = [["All sheets", _text(n)] for n in notes or ()]
        rows += [[name, note] for name, block in sheets for note in block.notes]
    line = Side(style="thin", color="000000")
    ws.cell(row=1, column=1, value="Notes").font = Font(bold=True, size=13)
    for j, text in enumerate(header, start=1):
        cell = ws.cell(row=2, column=j, value=text)
        cell.font = Font(bold=True)
        cell.border = Border(bottom=line)
    for i, row in enumerate(rows, start=3):
        for j, text in enumerate(row, start=1):
            cell = ws.cell(row=i, column=j, value=text)
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    for j in range(1, len(header) + 1):
        longest = max([len(header[j - 1])] + [len(r[j - 1]) for r in rows])
        ws.column_dimensions[get_column_letter(j)].width = min(max(longest + 2, 10), 100)
    ws.freeze_panes = "A3"


_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _stable_zip(data: bytes) -> bytes:
    """The same archive with sorted entries, fixed dates, attributes and compression."""
    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for name in sorted(source.namelist()):
            content = source.read(name)
            if name == "docProps/core.xml":
                content = _CORE_DATES.sub(lambda m: m.group(1) + stamp + m.group(3), content)
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            target.writestr(info, content, compresslevel=6)
    return out.getvalue()


def render_xlsx(
    sheets: Mapping[str, BlockLike], notes: Sequence[str] | pd.DataFrame | None = None
) -> bytes:
    """The workbook as bytes, identical for identical input.

    Parameters
    ----------
    sheets
        Sheet name -> block. Names are made valid and unique with
        :func:`sheet_name`. Each sheet has the title in A1, the table from row 3
        (bold header with wrapped text, frozen with the label column, labels
        indented by level) and its notes below.
    notes
        The ``Notes`` sheet, last: a DataFrame written as given, or general notes
        (one a row, sheet "All sheets") followed by every sheet's notes, as a
        two-column table ``Sheet``, ``Note``.
    """
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    taken = [_NOTES_SHEET]
    placed: list[tuple[str, Block]] = []
    for i, (name, item) in enumerate(sheets.items(), start=1):
        block = _block(item, i)
        title = sheet_name(name, taken)
        taken.append(title)
        _fill_sheet(book.create_sheet(title), block)
        placed.append((title, block))
    _fill_notes(book.create_sheet(_NOTES_SHEET), notes, placed)
    book.properties.creator = "prevalence"
    book.properties.created = _FIXED_TIME
    book.properties.modified = _FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    return _stable_zip(buffer.getvalue())


def write_xlsx(
    sheets: Mapping[str, BlockLike],
    path: str | Path,
    *,
    notes: Sequence[str] | pd.DataFrame | None = None,
) -> Path:
    """Write :func:`render_xlsx` atomically to ``path``."""
    data = render_xlsx(sheets, notes)
    return write_with(path, lambda p: p.write_bytes(data))


# DOCX ----------------------------------------------------------------------


def _docx_cell(cell: Any, text: str, *, level: int = 0, bold: bool = False, right: bool = False):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.size = Pt(8)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right else WD_ALIGN_PARAGRAPH.LEFT
    if level:
        paragraph.paragraph_format.left_indent = Pt(9 * level)


def render_docx(sheets: Mapping[str, BlockLike], *, title: str | None = DOCUMENT_TITLE) -> bytes:
    """A Word document of the blocks, identical for identical input.

    The same blocks as the workbook (:func:`render_xlsx`), in the same order: for
    each a heading (its title), a table (bold header row; labels indented by
    level; figures right-aligned) and its notes below, one
    paragraph each. Pages are landscape A4. Cell texts are those of the workbook.
    """
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    core = document.core_properties
    core.author = core.last_modified_by = "prevalence"
    core.title = title or ""
    core.created = core.modified = _FIXED_TIME
    core.revision = 1
    if title:
        document.add_heading(title, level=0)
    for i, item in enumerate(sheets.values(), start=1):
        block = _block(item, i)
        header, rows = _grid(block.table)
        document.add_heading(block.title or f"Table {i}", level=1)
        table = document.add_table(rows=1 + len(rows), cols=len(header))
        table.style = "Table Grid"
        for j, text in enumerate(header):
            _docx_cell(table.cell(0, j), text, bold=True, right=j > 0)
        for r, row in enumerate(rows, start=1):
            level, label = _split_indent(row[0]) if row else (0, "")
            _docx_cell(table.cell(r, 0), label, level=level)
            for j, text in enumerate(row[1:], start=1):
                _docx_cell(table.cell(r, j), text, right=True)
        for note in block.notes:
            paragraph = document.add_paragraph()
            paragraph.add_run(note).font.size = Pt(8)
    buffer = io.BytesIO()
    document.save(buffer)
    return _stable_zip(buffer.getvalue())


def write_docx(
    sheets: Mapping[str, BlockLike], path: str | Path, *, title: str | None = DOCUMENT_TITLE
) -> Path:
    """Write :func:`render_docx` atomically to ``path``."""
    data = render_docx(sheets, title=title)
    return write_with(path, lambda p: p.write_bytes(data))


# --------------------------------------------------------------------------
# The study's tables
# --------------------------------------------------------------------------


def publication_tables(
    table: pd.DataFrame,
    labels_by_wave: Mapping[Any, Mapping[str, str]],
    wave_labels: Mapping[Any, str],
    domains: Sequence[str],
    style: TableStyle | None,
    out_dir: str | Path,
    *,
    sources: Mapping[Any, str] | None = None,
    title: str = DOCUMENT_TITLE,
    publication: Publication | None = None,
) -> list[Path]:
    """Write the study's tables: ``prevalence.xlsx``, ``.md``, ``.tex``, ``.html`` and ``.docx``.

    Parameters
    ----------
    table
        The long prevalence table of every wave.
    labels_by_wave
        Wave -> (indicator id -> label, in codebook order).
    wave_labels
        Wave -> its name; also the order of the waves. Waves of the table not
        named here follow in table order, under their id.
    domains
        Domain ids (``region``, ``region+role``...); ``overall`` is always shown
        (as the ``All`` column). A domain a wave lacks is left out of that wave.
    style
        Default :class:`TableStyle`.
    out_dir
        Folder for the four files.
    sources
        Wave -> source for the last note (default the wave label).
    title
        Title of the Markdown, LaTeX, HTML and Word documents.
    publication
        The standard the table was disclosed under, for its marks (see
        :func:`wave_table`); default NCHS.

    Returns
    -------
    list of Path
        The xlsx, md, tex, html and docx files, in that order.

    Notes
    -----
    The workbook has a sheet per wave (named by its label) holding one wide
    table, every domain side by side, and a ``Notes`` sheet; the Word document
    holds the same tables and notes, one after the other. The text formats
    stack one table per wave and domain, each with ``All`` first.
    """
    style = style or TableStyle()
    _check_table(table)
    out_dir = Path(out_dir)
    in_table = list(dict.fromkeys(table["wave"].astype(str)))
    named = {str(w): label for w, label in wave_labels.items()}
    waves = [w for w in named if w in in_table] + [w for w in in_table if w not in named]
    labels_of = {str(w): labels for w, labels in labels_by_wave.items()}
    source_of = {str(w): s for w, s in (sources or {}).items()}
    wanted = [d for d in dict.fromkeys(domains) if d != OVERALL]
    sheets: dict[str, pd.DataFrame] = {}
    blocks: list[pd.DataFrame] = []
    for wave in waves:
        rows = table.loc[table["wave"].astype(str) == wave]
        have = set(rows["domain"].map(_text))
        present = [d for d in wanted if d in have]
        common = {
            "wave": wave,
            "labels": labels_of.get(wave, {}),
            "style": style,
            "wave_label": named.get(wave, wave),
            "source": source_of.get(wave),
            "publication": publication,
        }
        label = named.get(wave, wave)
        sheets[label if label not in sheets else f"{label} ({wave})"] = wave_table(
            rows, domain=[OVERALL, *present], **common
        )
        for domain in present or [OVERALL]:
            blocks.append(wave_table(rows, domain=domain, **common))
    return [
        write_xlsx(sheets, out_dir / "prevalence.xlsx"),
        write_markdown(blocks, out_dir / "prevalence.md", title=title),
        write_latex(blocks, out_dir / "prevalence.tex", title=title),
        write_html(blocks, out_dir / "prevalence.html", title=title),
        write_docx(sheets, out_dir / "prevalence.docx", title=title),
    ]


# --------------------------------------------------------------------------------------
# comparisons: differences and tests of association, as publication tables
# --------------------------------------------------------------------------------------
def _difference_cells(frame: pd.DataFrame, mark: str, decimals: int = 1) -> list[str]:
    """ "+25.5 [12.9, 37.5]" in percentage points, or the mark where suppressed."""
    cells = []
    for row in frame.itertuples(index=False):
        if row.suppressed or pd.isna(row.difference):
            cells.append(mark)
        else:
            low, high = (signed(100 * v, decimals) for v in (row.ci_low, row.ci_high))
            cells.append(f"{signed(100 * row.difference, decimals)} [{low}, {high}]")
    return cells


def _p_text(values: pd.Series, mark: str) -> list[str]:
    out = []
    for value in values:
        if pd.isna(value):
            out.append(mark)
        elif value < 0.001:
            out.append("<0.001")
        else:
            out.append(f"{value:.3f}")
    return out


def _label(labels: Mapping[str, str], indicator: str, denominator: str) -> str:
    text = labels.get(indicator, indicator)
    if denominator not in ("all", "", None) and not pd.isna(denominator):
        text += f" (of those with {labels.get(denominator, denominator).lower()})"
    return text


def comparison_blocks(
    contrasts: pd.DataFrame,
    association: pd.DataFrame,
    labels: Mapping[str, str],
    wave_labels: Mapping[str, str],
    style: TableStyle | None = None,
) -> list[Block]:
    """Publication blocks of the differences (within and between waves) and the tests.

    Differences are in percentage points with their interval; p-values are the
    adjusted ones. A suppressed difference shows the suppressed mark, and its
    reason stands in the last column.
    """
    style = style or TableStyle()
    mark = style.suppressed_mark
    blocks: list[Block] = []
    contrasts = contrasts.copy()
    contrasts["flag"] = contrasts["flag"].astype(object).fillna("")
    contrasts["suppressed"] = truthy(contrasts["suppressed"])
    for kind, title in (
        ("within", "Differences within waves"),
        ("between", "Differences between waves"),
    ):
        part = contrasts[contrasts["comparison"] == kind]
        if part.empty:
            continue
        waves = [
            wave_labels.get(a, a)
            if kind == "within"
            else f"{wave_labels.get(a, a)} − {wave_labels.get(b, b)}"
            for a, b in zip(part["wave_a"], part["wave_b"], strict=True)
        ]
        shown = [
            f"{a} − {b}" if kind == "within" else (str(a) if str(a) == str(b) else f"{a} / {b}")
            for a, b in zip(part["value_a"], part["value_b"], strict=True)
        ]
        method = sorted(set(part["method"].astype(str)))
        adjust = sorted(set(part["adjust_method"].astype(str)))
        level = float(part["level"].iloc[0])
        table = pd.DataFrame(
            {
                "Wave" if kind == "within" else "Waves": waves,
                "Indicator": [
                    _label(labels, i, d)
                    for i, d in zip(part["indicator"], part["denominator"], strict=True)
                ],
                "Comparison" if kind == "within" else "Group": shown,
                f"Difference, points [{_level_text(level)} CI]": _difference_cells(part, mark),
                "Adjusted p": _p_text(part["p_adjusted"].where(~part["suppressed"]), mark),
                "Note": [
                    f if s else "" for f, s in zip(part["flag"], part["suppressed"], strict=True)
                ],
            }
        )
        notes = (
            f"Differences a − b in percentage points with {level:.0%} intervals ({', '.join(method)}).",
            f"P-values adjusted for multiple comparisons ({', '.join(adjust)}) within each family.",
            f"{mark} not published: a side is suppressed (the note says which and why).",
            "The waves are separate convenience samples, not a panel."
            if kind == "between"
            else "Both sides share the survey design; their covariance enters the standard error.",
        )
        blocks.append(Block(title, table, notes, f"contrasts-{kind}"))
    if not association.empty:
        tests = association[association["statistic"] == "F"]
        table = pd.DataFrame(
            {
                "Wave": [wave_labels.get(w, w) for w in tests["wave"]],
                "Indicator": [
                    _label(labels, i, d)
                    for i, d in zip(tests["indicator"], tests["denominator"], strict=True)
                ],
                "Domain": tests["domain"].astype(str).str.replace("_", " "),
                "F (ndf, ddf)": [
                    mark
                    if pd.isna(v)
                    else f"{v:.2f} ({a:.2f}, {'∞' if np.isinf(b) else f'{b:.1f}'})"
                    for v, a, b in zip(tests["value"], tests["ndf"], tests["ddf"], strict=True)
                ],
                "p": _p_text(tests["p_value"], mark),
                "Adjusted p": _p_text(tests["p_adjusted"], mark),
            }
        )
        notes = (
            "Rao–Scott second-order corrected F test of association of each indicator with the "
            "domain (R's svychisq); without a sampling design, Pearson's chi-square test.",
            "P-values adjusted for multiple comparisons within each family.",
        )
        blocks.append(Block("Tests of association", table, notes, "association"))
    return blocks


def comparison_tables(
    contrasts: pd.DataFrame,
    association: pd.DataFrame,
    labels: Mapping[str, str],
    wave_labels: Mapping[str, str],
    style: TableStyle | None,
    out_dir: str | Path,
) -> list[Path]:
    """Write ``comparisons.xlsx`` (a sheet per block), ``.md``, ``.tex`` and ``.html``."""
    out_dir = Path(out_dir)
    blocks = comparison_blocks(contrasts, association, labels, wave_labels, style)
    title = "Comparisons of prevalence"
    if not blocks:
        blocks = [Block("No comparison", pd.DataFrame({"Note": ["no comparison configured"]}))]
    return [
        write_xlsx({b.title: b for b in blocks}, out_dir / "comparisons.xlsx"),
        write_markdown(blocks, out_dir / "comparisons.md", title=title),
        write_latex(blocks, out_dir / "comparisons.tex", title=title),
        write_html(blocks, out_dir / "comparisons.html", title=title),
    ]
