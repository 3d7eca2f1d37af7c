"""The text-measuring layout engine: every length of a chart, in inches, from its words.

Text is measured with the house font's glyph outlines
(:data:`matplotlib.textpath.text_to_path`), so the layout depends on the data
alone and not on a screen or renderer: labels are wrapped to the width they
are given, and the heights of title, notes and rows follow from the wrapped
text. Nothing here draws.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

from prevalence.publication.charts.cells import Estimate
from prevalence.publication.charts.style import (
    ARROW,
    FONT_FAMILY,
    INDENT,
    LABEL_PT,
    LINESPACING,
    NOTE_PT,
    PAD,
    SUBTITLE_PT,
    TITLE_PT,
    VALUE_OFFSET,
    VALUE_PT,
)

__all__ = ["Frame", "Row", "frame", "label_rows", "text_height", "text_width", "wrap_to"]


def wrap(text: str, chars: int) -> str:
    """Wrap every paragraph of ``text`` at ``chars`` characters, words unbroken."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(
            textwrap.wrap(paragraph, max(chars, 8), break_long_words=False, break_on_hyphens=False)
            or [""]
        )
    return "\n".join(lines)


def font(size: float, weight: str = "normal", style: str = "normal") -> FontProperties:
    return FontProperties(family=[FONT_FAMILY], size=size, weight=weight, style=style)


def text_width(text: str, size: float, weight: str = "normal", style: str = "normal") -> float:
    """Width in inches of (possibly multi-line) text in the house font."""
    widths = [_line_width(line, size, weight, style) for line in text.split("\n") if line]
    return max(widths, default=0.0) / 72.0


@cache
def _line_width(line: str, size: float, weight: str, style: str) -> float:
    """Width in points of one line: measured once per process, however often a chart's
    layout (wrapping a label to its column, every chart of a wave) asks for it again."""
    prop = font(size, weight, style)
    return text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0]


def text_height(text: str, size: float) -> float:
    """Height in inches of text with ``text.count("\\n") + 1`` lines."""
    return (text.count("\n") + 1) * size * LINESPACING / 72.0


def _chars_for(width_in: float, size: float) -> int:
    """Characters of average width that fit in ``width_in`` inches."""
    return max(int(width_in * 72.0 / (0.55 * size)), 8)


def wrap_to(text: str, width_in: float, size: float, **font: str) -> str:
    """Wrap text so that its measured width fits ``width_in`` inches."""
    chars = _chars_for(width_in, size) + 4
    wrapped = wrap(text, chars)
    while text_width(wrapped, size, **font) > width_in and chars > 8:
        chars -= 2
        wrapped = wrap(text, chars)
    return wrapped


def wrap_note(text: str, width_in: float) -> str:
    """A note in place of an estimate, wrapped as the bar charts print it."""
    return wrap_to(text, width_in, NOTE_PT + 0.5, style="italic")


def fit_line(text: str, width_in: float, size: float) -> str:
    """``text`` on one line, its list of reasons shortened to fit ``width_in`` inches.

    "A: suppressed (r1; r2; r3)" becomes "A: suppressed (r1; +2 more)", then is cut
    with an ellipsis if even that is too wide.
    """
    if text_width(text, size, style="italic") <= width_in:
        return text
    head, _, reasons = text.partition(" (")
    parts = reasons.rstrip(")").split("; ") if reasons else []
    if len(parts) > 1:
        text = f"{head} ({parts[0]}; +{len(parts) - 1} more)"
    while len(text) > 4 and text_width(text, size, style="italic") > width_in:
        text = text[:-2].rstrip() + "…"
    return text


@dataclass(frozen=True)
class Frame:
    """Title block above and notes below the plotting area."""

    title: str
    subtitle: str
    footer: str
    header_height: float
    footer_height: float


def frame(title: str, subtitle: str, footer_lines: Sequence[str], width: float) -> Frame:
    """Wrap title, subtitle and footer to the page and measure their blocks."""
    inner = width - 2 * PAD
    title_text = wrap_to(title, inner, TITLE_PT, weight="bold")
    subtitle_text = wrap_to(subtitle, inner, SUBTITLE_PT) if subtitle else ""
    footer_text = "\n".join(wrap_to(line, inner, NOTE_PT) for line in footer_lines if line)
    header = PAD + text_height(title_text, TITLE_PT)
    if subtitle_text:
        header += 0.06 + text_height(subtitle_text, SUBTITLE_PT)
    footer = PAD + (text_height(footer_text, NOTE_PT) if footer_text else 0.0)
    return Frame(title_text, subtitle_text, footer_text, header, footer)


@dataclass(frozen=True)
class Row:
    """One row of the label column."""

    indicator: str
    depth: int
    text: str  # wrapped label
    height: float  # vertical space of the row


def arrow_width() -> float:
    """Width of the ``↳ `` that marks an "of whom" row."""
    return text_width(ARROW + " ", LABEL_PT)


def label_rows(
    order: Sequence[tuple[str, int]],
    texts: Mapping[str, str],
    *,
    max_width: float,
    min_height: float,
) -> tuple[list[Row], float]:
    """Wrap the labels of the left column; return rows and column width."""
    arrow = arrow_width()
    rows = []
    column = 0.0
    for ind, depth in order:
        offset = depth * INDENT + (arrow if depth else 0.0)
        text = wrap_to(texts[ind], max_width - offset, LABEL_PT)
        column = max(column, offset + text_width(text, LABEL_PT))
        height = max(min_height, text_height(text, LABEL_PT) + 0.14)
        rows.append(Row(ind, depth, text, height))
    return rows, column


def centers(rows: Sequence[Row], top: float) -> list[float]:
    """Vertical centre of each row, the first row starting at ``top``."""
    found = []
    y = top
    for row in rows:
        found.append(y + row.height / 2)
        y += row.height
    return found


def legend_grid(entries: Sequence[str], available: float) -> tuple[int, list[int]]:
    """Most legend columns that fit, and the entries' order to read row by row.

    Matplotlib fills legend columns top to bottom; the returned order (indices
    into ``entries``) makes the legend read left to right, then top to bottom.
    """
    handle = (1.8 + 0.5) * VALUE_PT / 72  # handlelength + handletextpad, in inches
    spacing = 1.4 * VALUE_PT / 72  # columnspacing
    widths = [handle + text_width(e, VALUE_PT) for e in entries]
    m = len(entries)
    for ncol in range(m, 0, -1):
        nrows = math.ceil(m / ncol)
        columns = [
            max(widths[r * ncol + c] for r in range(nrows) if r * ncol + c < m) for c in range(ncol)
        ]
        if sum(columns) + spacing * (ncol - 1) <= available or ncol == 1:
            break
    picks = [r * ncol + c for c in range(ncol) for r in range(nrows) if r * ncol + c < m]
    return ncol, picks


def count_offset(value: str) -> float:
    """Offset (points) of the ``n = ...`` label after the bold value label."""
    return VALUE_OFFSET + 72 * text_width(value, VALUE_PT, weight="bold") + 5


def value_room(
    estimates: Sequence[Estimate], texts: Mapping[str, tuple[str, str]], available: float
) -> float:
    """Space (inches) right of a 0--100% axis for the value and ``n`` labels."""
    room = 0.25  # the "100%" tick label needs half its width right of the axes
    for est in estimates:
        if est.indicator not in texts or not est.drawn:
            continue
        value, count = texts[est.indicator]
        extent = (count_offset(value) + 72 * text_width(count, VALUE_PT)) / 72
        if est.end > 0:
            room = max(room, available - (available - extent - 0.03) / (est.end / 100))
    return room
