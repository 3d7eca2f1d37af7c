"""Heatmap of indicators (rows) by the values of one domain (columns).

Each cell is coloured by its prevalence on a 0--100% sequential scale (colour
bar ``Percent``) and prints its value (``62%``) in black or white, whichever
contrasts more. Column headers give the value and its ``n`` (``Africa`` /
``n = 18``), the column of all respondents first. Suppressed cells are grey
and hatched with the mark ``–`` and no value; cells without an estimate are
grey with ``n/a``; a legend under the grid explains both. Conditional ("of
whom") rows are indented under their parent with ``↳`` and
``(of those with <parent>)``.

:func:`select_heatmap` chooses and names the cells (pure pandas),
:func:`build_heatmap` lays them out and draws them, :func:`plot_heatmap` writes
the files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from prevalence.publication.charts import cells
from prevalence.publication.charts.cells import Estimate
from prevalence.publication.charts.draw import (
    draw_labels,
    framed_figure,
    page_text,
    render,
    save,
)
from prevalence.publication.charts.layout import (
    Frame,
    Row,
    centers,
    frame,
    label_rows,
    text_height,
    text_width,
    wrap_to,
)
from prevalence.publication.charts.style import (
    ARROW,
    GAP,
    INK,
    MUTED,
    PAD,
    SPINE,
    TICK_PT,
    VALUE_PT,
    WIDTH,
    text_colour_on,
)
from prevalence.publication.disclosure import Marks, Publication

__all__ = ["Heatmap", "HeatmapOptions", "build_heatmap", "plot_heatmap", "select_heatmap"]

#: Default heatmap scale: ColorBrewer "Blues" (single hue, light to dark,
#: colour-blind safe and monotone in greyscale) without its near-white end.
HEAT_CMAP = mpl.colors.LinearSegmentedColormap.from_list(
    "prevalence_blues", mpl.colormaps["Blues"](np.linspace(0.08, 1.0, 256))
)
_CELL_MAX = 1.05  # widest cell (inches)
_ROW_MIN = 0.40  # lowest row (inches)
_CELL_GAP = 0.04  # white space between cells
_SPLIT = 0.14  # extra space after the "all respondents" column
_COLOURBAR_WIDTH = 2.4
_COLOURBAR_HEIGHT = 0.13
_NOT_SHOWN_FACE = "#EDEDED"
_HATCH_INK = "#A3A3A3"
_SUPPRESSED_MARK = "\u2013"  # en dash
_NOT_AVAILABLE_MARK = "n/a"
_SWATCH_W, _SWATCH_H = 0.4, 0.24


@dataclass(frozen=True)
class HeatmapOptions:
    """What to draw.

    Parameters
    ----------
    wave, wave_label, labels, domain, source_note, indicators, show_overall, title
        As in :class:`~prevalence.publication.charts.by_domain.ByDomainOptions`;
        ``show_overall`` adds a first column for all respondents.
    decimals
        Decimals of the percentages printed in the cells.
    cmap
        Sequential colormap (name or object) for 0--100%; default a
        light-to-dark blue.
    width
        Figure width in inches; the height follows the number of rows.
    population
        As in :class:`~prevalence.publication.charts.by_domain.ByDomainOptions`: the
        first column is headed ``All <population>``.
    publication
        As in :class:`~prevalence.publication.charts.by_indicator.ByIndicatorOptions`; a
        cell the standard hides shows its mark (``*``, ``F``) instead of ``–``.
    """

    wave: object
    wave_label: str
    labels: Mapping[str, str]
    domain: str
    source_note: str | None = None
    indicators: Sequence[str] | None = None
    show_overall: bool = True
    title: str | None = None
    decimals: int = 0
    cmap: str | mpl.colors.Colormap | None = None
    width: float = WIDTH
    population: str | None = None
    publication: Publication | None = None


@dataclass(frozen=True)
class HeatCell:
    """One cell: its estimate (None: not in the table) and the value printed."""

    estimate: Estimate | None
    text: str = ""  # "62%" and the flag's mark, when drawn

    @property
    def suppressed(self) -> bool:
        return self.estimate is not None and self.estimate.status == "suppressed"


@dataclass(frozen=True)
class HeatRow:
    indicator: str
    depth: int
    label: str  # unwrapped
    cells: tuple[HeatCell, ...]


@dataclass(frozen=True)
class Key:
    """An entry of the legend of grey cells: its mark, hatching and meaning."""

    mark: str
    hatched: bool
    text: str


@dataclass(frozen=True)
class Heatmap:
    """The selection: the page's words, the columns and the rows of cells.

    ``columns`` are the headers' names, ``counts`` their ``n = ...`` (or
    ``n withheld``, or empty); ``with_overall`` says the first column is all
    respondents. ``message`` is set when there is nothing to draw.
    """

    title: str
    subtitle: str
    footer: tuple[str, ...]
    columns: tuple[str, ...]
    counts: tuple[str, ...]
    with_overall: bool
    rows: tuple[HeatRow, ...]
    keys: tuple[Key, ...]
    message: str = ""
    standard: Marks | None = None  # the publication standard's marks

    def data(self) -> pd.DataFrame:
        """What is drawn, one row per cell, row by row from the top, each left to right
        (``heatmap_<domain>.csv``); ``domain_value`` is the column's header."""
        records = [
            cells.data_record(
                item.estimate, indicator=row.indicator, label=row.label, domain_value=column
            )
            for row in self.rows
            for column, item in zip(self.columns, row.cells, strict=True)
        ]
        return cells.data_frame(records, ["indicator", "label", "domain_value"], self.standard)


def _keys(rows: Sequence[HeatRow]) -> tuple[Key, ...]:
    """What the grey cells mean, for the legend under the grid."""
    suppressed_flags: dict[str, None] = {}
    has_suppressed = False
    missing_reasons: dict[str, None] = {}
    for row in rows:
        for item in row.cells:
            est = item.estimate
            if est is None:
                missing_reasons["not estimated"] = None
            elif est.status == "suppressed":
                has_suppressed = True
                for reason in cells.reasons_of(est.flag):  # each reason once
                    suppressed_flags[reason] = None
            elif est.status == "empty":
                missing_reasons["no respondents"] = None
            elif est.status == "missing":
                missing_reasons["no estimate"] = None
    keys = []
    if has_suppressed:
        reason = "; ".join(suppressed_flags)
        keys.append(
            Key(_SUPPRESSED_MARK, True, f"suppressed ({reason})" if reason else "suppressed")
        )
    if missing_reasons:
        keys.append(Key(_NOT_AVAILABLE_MARK, False, "; ".join(missing_reasons)))
    return tuple(keys)


def select_heatmap(table: pd.DataFrame, options: HeatmapOptions) -> Heatmap:
    """Choose, order and name the cells of the heatmap (no drawing).

    Raises
    ------
    PrevalenceError
        If the table lacks a required column, holds an estimate outside
        [0, 1], has two rows for one indicator in a cell, or ``indicators``
        names an indicator that is nowhere in the table.
    """
    o = options
    found = cells.across_domain(table, o, where=f"wave {o.wave}, ", overall_needs_values=True)
    values, by_value, overall, wanted = found.values, found.cells, found.overall, found.wanted
    domain = str(o.domain)
    title = o.title if o.title is not None else cells.by_domain_title(domain, o.population)
    whole = cells.whole(o.population)
    rules = cells.standard(o.publication)
    columns: list[tuple[str, Mapping[str, Estimate]]] = []
    if overall:
        columns.append((cells.everyone(o.population), overall))
    columns.extend((cells.domain_value_name(v), by_value[v]) for v in values)
    shown = [c[i] for _, c in columns for i in wanted if i in c]

    if overall:
        total_n, withheld = cells.published_n(overall)
    else:
        counts = [cells.published_n(by_value[v]) for v in values]
        withheld = any(w for _, w in counts)
        known = [n for n, _ in counts if n is not None]
        total_n = sum(known) if counts and len(known) == len(counts) else None
    footer = [cells.source_line(o.wave_label, None if withheld else total_n, shown)]
    if o.source_note:
        footer.append(o.source_note)
    subtitle = o.wave_label
    names = tuple(name for name, _ in columns)
    if not values or not wanted:
        what = cells.domain_name(domain).lower() if domain != "overall" else f"all {whole}"
        message = f"No estimates by {what} for {o.wave_label}."
        return Heatmap(
            title, subtitle, tuple(footer), names, (), bool(overall), (), (), message, rules
        )

    sources = [source for _, source in columns]

    def parent_of(ind: str) -> str | None:
        return cells.first_parent(ind, sources)

    sort_key = cells.across_domain_key(wanted, overall, by_value, given=found.given)
    if not any(e.drawn for e in shown):
        subtitle += cells.NONE_SHOWN
    if any(parent_of(ind) is not None for ind in wanted):
        footer.append(cells.CONDITIONAL_NOTE.format(mark=f"Rows marked {ARROW}", whole=whole))
    marks = cells.flag_marks(shown, rules)
    footer.extend(cells.flag_notes(marks))
    footer.extend(cells.standard_notes(shown, rules))

    rows = []
    for ind, depth in cells.order(wanted, parent_of, sort_key):
        row_cells = []
        for source in sources:
            est = source.get(ind)
            text = ""
            if est is not None and est.drawn:
                text = cells.value_text(est, o.decimals, marks, rules)
            elif est is not None and cells.hidden_by_standard(est, rules):
                text = rules.hidden_mark
            row_cells.append(HeatCell(est, text))
        label = cells.row_label(ind, parent_of(ind), o.labels)
        rows.append(HeatRow(ind, depth, label, tuple(row_cells)))
    counts_text = tuple(cells.n_label(*cells.published_n(source)) for source in sources)
    return Heatmap(
        title, subtitle, tuple(footer), names, counts_text, bool(overall), tuple(rows), _keys(rows),
        standard=rules,
    )  # fmt: skip


@dataclass(frozen=True)
class _Layout:
    frame: Frame
    rows: list[Row]
    left: float
    cell_w: float
    grid_w: float
    x0s: list[float]
    value_pt: float
    headers: list[str]
    rotate: bool
    keys_x: float
    beside: bool
    key_texts: list[str]
    key_heights: list[float]
    bar_w: float
    grid_bottom: float
    rows_height: float
    height: float


def _headers(chart: Heatmap, cell_w: float) -> tuple[list[str], bool, float]:
    """Column headers, upright and wrapped, or rotated when a word does not fit."""
    head_width = cell_w - 0.06
    names, counts = chart.columns, chart.counts
    rotate = any(
        text_width(word, TICK_PT) > head_width for name in names for word in name.split()
    ) or any(text_width(c, TICK_PT) > head_width for c in counts)
    if rotate:
        headers = [f"{n} ({c})" if c else n for n, c in zip(names, counts, strict=True)]
        return headers, True, max(text_width(h, TICK_PT) for h in headers)
    headers = [
        wrap_to(n, head_width, TICK_PT) + (f"\n{c}" if c else "")
        for n, c in zip(names, counts, strict=True)
    ]
    return headers, False, max(text_height(h, TICK_PT) for h in headers)


def _lay_out(chart: Heatmap, width: float) -> _Layout:
    order = [(r.indicator, r.depth) for r in chart.rows]
    texts = {r.indicator: r.label for r in chart.rows}
    rows, column = label_rows(order, texts, max_width=0.3 * width, min_height=_ROW_MIN)
    # Horizontal layout: label column | cells.
    left = PAD + column + GAP
    available = width - left - PAD
    k = len(chart.columns)
    split = _SPLIT if chart.with_overall else 0.0
    cell_w = min(_CELL_MAX, (available - split) / k)
    grid_w = k * cell_w + split
    x0s = [j * cell_w + (split if chart.with_overall and j > 0 else 0.0) for j in range(k)]
    value_pt = VALUE_PT
    inner = cell_w - _CELL_GAP - 0.06
    cell_texts = [c.text for r in chart.rows for c in r.cells if c.text and c.estimate.drawn]
    widest = max((text_width(t, VALUE_PT) for t in cell_texts), default=0.0)
    if widest > inner:
        value_pt = max(6.0, VALUE_PT * inner / widest)
    headers, rotate, header_h = _headers(chart, cell_w)

    # Legend block under the grid: colour bar, then keys to its right or below.
    bar_w = min(_COLOURBAR_WIDTH, grid_w)
    bar_block = 0.3 + _COLOURBAR_HEIGHT + 0.42  # gap, bar, ticks and "Percent"
    keys_x = left + bar_w + 0.4
    beside = width - PAD - keys_x - _SWATCH_W - 0.1 >= 1.3
    if not beside:
        keys_x = left
    key_text_w = width - PAD - keys_x - _SWATCH_W - 0.1
    key_texts = [wrap_to(key.text, key_text_w, VALUE_PT) for key in chart.keys]
    key_heights = [max(_SWATCH_H, text_height(t, VALUE_PT)) + 0.08 for t in key_texts]
    if beside:
        legend_h = max(bar_block, 0.3 + sum(key_heights))
    else:
        legend_h = bar_block + (0.1 + sum(key_heights) if chart.keys else 0.0)

    page = frame(chart.title, chart.subtitle, chart.footer, width)
    rows_height = sum(r.height for r in rows)
    grid_bottom = page.footer_height + 0.12 + legend_h
    height = grid_bottom + rows_height + header_h + 0.1 + 0.22 + page.header_height
    return _Layout(
        page, rows, left, cell_w, grid_w, x0s, value_pt, headers, rotate, keys_x, beside,
        key_texts, key_heights, bar_w, grid_bottom, rows_height, height,
    )  # fmt: skip


def _grey_cell(ax: Axes, x: float, y: float, w: float, h: float, *, hatched: bool) -> None:
    """Grey cell of an estimate that is not shown; hatched when suppressed."""
    ax.add_patch(
        mpl.patches.Rectangle(
            (x, y), w, h, facecolor=_NOT_SHOWN_FACE, edgecolor="none", linewidth=0, zorder=1
        )
    )
    if hatched:
        ax.add_patch(
            mpl.patches.Rectangle(
                (x, y), w, h, facecolor="none", edgecolor=_HATCH_INK, linewidth=0, hatch="////"
            )
        )


def _grid_axes(fig: Figure, layout: _Layout, width: float) -> Axes:
    """The axes of the grid, in inches of the grid, column headers on top."""
    height = layout.height
    ax = fig.add_axes(
        (
            layout.left / width,
            layout.grid_bottom / height,
            layout.grid_w / width,
            layout.rows_height / height,
        )
    )
    ax.set_xlim(0, layout.grid_w)
    ax.set_ylim(layout.rows_height, 0)
    ax.grid(False)
    ax.set_facecolor("none")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_yticks([])
    ax.xaxis.tick_top()
    ax.set_xticks([x + layout.cell_w / 2 for x in layout.x0s], layout.headers)
    ax.tick_params(
        axis="x",
        which="both",
        length=0,
        pad=4,
        labelsize=TICK_PT,
        top=True,
        labeltop=True,
        bottom=False,
        labelbottom=False,
        labelrotation=90 if layout.rotate else 0,
    )
    return ax


def _draw_cells(ax: Axes, chart: Heatmap, layout: _Layout, cmap, row_centers) -> None:
    half_gap = _CELL_GAP / 2
    value_pt = layout.value_pt
    for row, layout_row, yc in zip(chart.rows, layout.rows, row_centers, strict=True):
        top = yc - layout_row.height / 2 + half_gap
        h = layout_row.height - _CELL_GAP
        for j, item in enumerate(row.cells):
            x = layout.x0s[j] + half_gap
            w = layout.cell_w - _CELL_GAP
            est = item.estimate
            if est is not None and est.drawn:
                face = cmap(est.estimate / 100.0)
                ax.add_patch(
                    mpl.patches.Rectangle(
                        (x, top), w, h, facecolor=face, edgecolor="none", linewidth=0, zorder=1
                    )
                )
                ax.text(
                    x + w / 2,
                    yc,
                    item.text,
                    ha="center",
                    va="center",
                    fontsize=value_pt,
                    color=text_colour_on(face),
                    zorder=3,
                )
                continue
            suppressed = item.suppressed
            _grey_cell(ax, x, top, w, h, hatched=suppressed)
            ax.text(
                x + w / 2,
                yc,
                item.text or (_SUPPRESSED_MARK if suppressed else _NOT_AVAILABLE_MARK),
                ha="center",
                va="center",
                fontsize=value_pt + (1.5 if suppressed else -0.5),
                fontweight="bold" if suppressed else "normal",
                color=INK if suppressed else MUTED,
                bbox={
                    "boxstyle": "square,pad=0.25",
                    "facecolor": _NOT_SHOWN_FACE,
                    "edgecolor": "none",
                }
                if suppressed
                else None,
                zorder=3,
            )


def _draw_colour_bar(fig: Figure, layout: _Layout, cmap, width: float) -> float:
    """The 0--100 colour bar under the grid; returns its lower edge (inches)."""
    height = layout.height
    bar_y = layout.grid_bottom - 0.3 - _COLOURBAR_HEIGHT
    cax = fig.add_axes(
        (layout.left / width, bar_y / height, layout.bar_w / width, _COLOURBAR_HEIGHT / height)
    )
    scale = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(vmin=0.0, vmax=100.0), cmap=cmap)
    bar = fig.colorbar(scale, cax=cax, orientation="horizontal")
    bar.set_ticks([0, 20, 40, 60, 80, 100])
    bar.ax.xaxis.set_major_formatter(mpl.ticker.StrMethodFormatter("{x:.0f}"))
    bar.outline.set_edgecolor(SPINE)
    bar.outline.set_linewidth(0.6)
    bar.set_label("Percent", fontsize=TICK_PT, labelpad=3, color=INK)
    cax.tick_params(axis="x", length=2.5, width=0.6, pad=2, labelsize=TICK_PT)
    cax.grid(False)
    cax.minorticks_off()
    return bar_y


def _draw_keys(fig: Figure, chart: Heatmap, layout: _Layout, bar_y: float) -> None:
    """The swatches explaining the grey cells, beside or under the colour bar."""
    inches = fig.dpi_scale_trans
    keys_x = layout.keys_x
    key_top = layout.grid_bottom - 0.3 if layout.beside else bar_y - 0.42 - 0.1
    for key, text, key_h in zip(chart.keys, layout.key_texts, layout.key_heights, strict=True):
        sy = key_top - (key_h - 0.08) / 2 - _SWATCH_H / 2
        swatch = {"transform": inches, "linewidth": 0}
        fig.add_artist(
            mpl.patches.Rectangle(
                (keys_x, sy),
                _SWATCH_W,
                _SWATCH_H,
                facecolor=_NOT_SHOWN_FACE,
                edgecolor="none",
                **swatch,
            )  # fmt: skip
        )
        if key.hatched:
            fig.add_artist(
                mpl.patches.Rectangle(
                    (keys_x, sy),
                    _SWATCH_W,
                    _SWATCH_H,
                    facecolor="none",
                    edgecolor=_HATCH_INK,
                    hatch="////",
                    **swatch,
                )  # fmt: skip
            )
        page_text(
            fig,
            keys_x + _SWATCH_W / 2,
            sy + _SWATCH_H / 2,
            key.mark,
            (VALUE_PT + 1.5) if key.hatched else (VALUE_PT - 0.5),
            ha="center",
            va="center",
            linespacing=None,
            fontweight="bold" if key.hatched else "normal",
            color=INK if key.hatched else MUTED,
            bbox={"boxstyle": "square,pad=0.2", "facecolor": _NOT_SHOWN_FACE, "edgecolor": "none"}
            if key.hatched
            else None,
        )
        key_x = keys_x + _SWATCH_W + 0.1
        page_text(fig, key_x, sy + _SWATCH_H / 2, text, VALUE_PT, va="center", color=INK)
        key_top -= key_h


def _colormap(cmap: str | mpl.colors.Colormap | None) -> mpl.colors.Colormap:
    if cmap is None:
        return HEAT_CMAP
    if isinstance(cmap, str):
        return mpl.colormaps[cmap]
    return cmap


def _draw(chart: Heatmap, layout: _Layout, cmap, width: float) -> Figure:
    fig = framed_figure(layout.frame, width, layout.height)
    ax = _grid_axes(fig, layout, width)
    row_centers = centers(layout.rows, 0.0)
    draw_labels(fig, ax, layout.rows, row_centers)
    _draw_cells(ax, chart, layout, cmap, row_centers)
    bar_y = _draw_colour_bar(fig, layout, cmap, width)
    _draw_keys(fig, chart, layout, bar_y)
    return fig


def build_heatmap(table: pd.DataFrame, options: HeatmapOptions) -> Figure:
    """Build the heatmap of indicators by the values of a domain.

    Raises
    ------
    PrevalenceError
        As :func:`select_heatmap`.
    """
    return _figure(select_heatmap(table, options), options)


def _figure(chart: Heatmap, options: HeatmapOptions) -> Figure:
    cmap = _colormap(options.cmap)
    return render(
        chart,
        options.width,
        lambda: _draw(chart, _lay_out(chart, options.width), cmap, options.width),
    )


def plot_heatmap(
    table: pd.DataFrame, options: HeatmapOptions, *, out_stem: str | Path
) -> list[Path]:
    """Write the chart of :func:`build_heatmap`: ``<out_stem>.png`` (300 dpi), ``.svg``, ``.pdf``
    and its data, ``.csv`` (:meth:`Heatmap.data`)."""
    chart = select_heatmap(table, options)
    return save(_figure(chart, options), out_stem, data=chart.data())
