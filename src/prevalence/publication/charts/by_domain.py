"""Dots and whiskers of each indicator across the values of one domain.

One colour and marker per domain value (Okabe-Ito, paired with a marker so the
groups stay apart in greyscale), a dashed tick at the estimate for all
respondents, open markers for "of whom" indicators. A value whose estimate is
not shown gets a line saying why, e.g. ``Pacific: suppressed (<flag>)``.

:func:`select_by_domain` chooses and names the rows (pure pandas),
:func:`build_by_domain` lays them out and draws them, :func:`plot_by_domain`
writes the files.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from prevalence.publication.charts import cells
from prevalence.publication.charts.cells import Estimate
from prevalence.publication.charts.draw import (
    draw_labels,
    draw_mark,
    draw_note,
    framed_figure,
    percent_axis,
    render,
    save,
    top_legend,
)
from prevalence.publication.charts.layout import (
    Frame,
    Row,
    fit_line,
    frame,
    label_rows,
    legend_grid,
)
from prevalence.publication.charts.style import (
    AXIS_BLOCK,
    GAP,
    GRID,
    NOTE_PT,
    PAD,
    REFERENCE,
    SLOT,
    VALUE_PT,
    WIDTH,
    XLABEL,
    group_style,
)
from prevalence.publication.disclosure import Marks, Publication

__all__ = ["ByDomain", "ByDomainOptions", "build_by_domain", "plot_by_domain", "select_by_domain"]


@dataclass(frozen=True)
class ByDomainOptions:
    """What to draw.

    Parameters
    ----------
    wave
        Wave to draw, compared as text with the ``wave`` column.
    wave_label
        Human name of the wave, e.g. ``"Asia-Pacific 2025"``.
    labels
        ``{indicator_id: label}`` from the codebook.
    domain
        Domain whose values are compared, e.g. ``"region"`` or
        ``"region+role"``. Values keep their order in the table.
    source_note
        Optional extra line printed under the source line.
    indicators
        Indicators to draw, in this order (conditional indicators still go
        under their parent when both are listed). Default: every indicator of
        the domain, sorted by the overall estimate.
    show_overall
        Mark the estimate for all respondents (``overall`` domain) in each
        row with a vertical tick, when the table has it.
    title
        Chart title; default ``"Prevalence by <domain>"``.
    xlabel
        Label of the percent axis.
    width
        Figure width in inches; the height follows the number of rows and
        domain values.
    population
        Who the table's ``overall`` cell is, in the plural (``"women MPs"``), when the
        chart is of a population (its ``domain`` then holds the population's values,
        e.g. regions of MPs): the title, the legend and the notes name it.
    publication
        The publication standard the table was disclosed under
        (:func:`prevalence.publication.disclosure.parse_publication`): its marks are drawn (DHS: a
        figure to use with caution in parentheses, a hidden one ``*``; Statistics Canada:
        the grade, ``F`` hidden) and its notes put under the chart.
    """

    wave: object
    wave_label: str
    labels: Mapping[str, str]
    domain: str
    source_note: str | None = None
    indicators: Sequence[str] | None = None
    show_overall: bool = True
    title: str | None = None
    xlabel: str = XLABEL
    width: float = WIDTH
    population: str | None = None
    publication: Publication | None = None


@dataclass(frozen=True)
class Dot:
    """One domain value in one row: its estimate (None: not in the table)."""

    estimate: Estimate | None
    note: str = ""  # "Pacific: suppressed (...)" when not drawn
    mark: str = ""  # the flag's footnote mark when drawn


@dataclass(frozen=True)
class DotRow:
    """One indicator: its label, the tick for all respondents, a dot per value."""

    indicator: str
    depth: int
    label: str  # unwrapped
    conditional: bool  # drawn with open markers
    reference: Estimate | None  # drawn as a dashed tick when drawn
    dots: tuple[Dot, ...]


@dataclass(frozen=True)
class ByDomain:
    """The selection: the page's words, the legend's entries and the rows in order.

    ``legend`` names each domain value (with its ``n``), then all respondents
    when their tick is drawn (``reference_entry``). ``message`` is set when there
    is nothing to draw.
    """

    title: str
    subtitle: str
    footer: tuple[str, ...]
    legend: tuple[str, ...]
    reference_entry: bool
    rows: tuple[DotRow, ...]
    message: str = ""
    values: tuple[str, ...] = ()  # the domain values, one dot each in every row
    standard: Marks | None = None  # the publication standard's marks

    def data(self) -> pd.DataFrame:
        """What is drawn, one row per dot (and reference tick) in drawing order, top down
        (``by_<domain>.csv``); ``domain_value`` is empty for the tick of the whole group."""
        records = []
        for row in self.rows:
            keys = {"indicator": row.indicator, "label": row.label}
            if row.reference is not None:
                records.append(cells.data_record(row.reference, **keys, domain_value=""))
            for value, dot in zip(self.values, row.dots, strict=True):
                records.append(cells.data_record(dot.estimate, **keys, domain_value=value))
        return cells.data_frame(records, ["indicator", "label", "domain_value"], self.standard)


def select_by_domain(table: pd.DataFrame, options: ByDomainOptions) -> ByDomain:
    """Choose, order and name the rows and dots of the chart (no drawing).

    Raises
    ------
    PrevalenceError
        If the table lacks a required column, holds an estimate outside
        [0, 1], has two rows for one indicator in a cell, or ``indicators``
        names an indicator that is nowhere in the table.
    """
    o = options
    found = cells.across_domain(table, o, where="")
    values, by_value, overall, wanted = found.values, found.cells, found.overall, found.wanted
    domain = str(o.domain)
    title = o.title if o.title is not None else cells.by_domain_title(domain, o.population)
    whole = cells.whole(o.population)
    rules = cells.standard(o.publication)
    all_estimates = [c[i] for c in by_value.values() for i in wanted if i in c]
    reference = [overall[i] for i in wanted if i in overall]

    value_n = {v: cells.base_n(by_value[v]) for v in values}
    total_n = cells.base_n(overall) if overall else None
    if total_n is None and values and all(n is not None for n in value_n.values()):
        total_n = sum(n for n in value_n.values() if n is not None)
    footer = [cells.source_line(o.wave_label, total_n, all_estimates + reference)]
    if o.source_note:
        footer.append(o.source_note)
    subtitle = o.wave_label
    if not values or not wanted:
        what = cells.domain_name(domain).lower() if domain != "overall" else f"all {whole}"
        message = f"No estimates by {what} for {o.wave_label}."
        return ByDomain(title, subtitle, tuple(footer), (), False, (), message, standard=rules)

    sources = [*by_value.values(), overall]

    def parent_of(ind: str) -> str | None:
        return cells.first_parent(ind, sources)

    sort_key = cells.across_domain_key(wanted, overall, by_value, given=found.given)
    conditional = {ind for ind in wanted if parent_of(ind) is not None}
    if not any(e.drawn for e in all_estimates):
        subtitle += cells.NONE_SHOWN
    if conditional:
        footer.append(cells.CONDITIONAL_NOTE.format(mark="Open markers", whole=whole))
    if reference and any(e.drawn for e in reference):
        footer.append(f"Dashed ticks mark the estimate for all {whole}.")
    marks = cells.flag_marks(all_estimates + reference, rules)
    footer.extend(cells.flag_notes(marks))
    footer.extend(cells.standard_notes(all_estimates + reference, rules))

    legend = []
    for v in values:
        name, n = cells.domain_value_name(v), value_n.get(v)
        legend.append(name if n is None else f"{name} (n = {cells.count(n)})")
    reference_entry = any(e.drawn for e in reference)
    if reference_entry:
        everyone = cells.everyone(o.population)
        legend.append(f"{everyone} (n = {cells.count(cells.base_n(overall))})")

    rows = []
    for ind, depth in cells.order(wanted, parent_of, sort_key):
        dots = []
        for v in values:
            est = by_value[v].get(ind)
            name = cells.domain_value_name(v)
            if est is None:
                dots.append(Dot(None, note=f"{name}: not estimated"))
            elif not est.drawn:
                note = cells.note_text(est, prefix=f"{name}: ", rules=rules) or ""
                dots.append(Dot(est, note=note))
            else:
                mark = cells.standard_mark(est, rules) + marks.get(cells.shown_flag(est, rules), "")
                dots.append(Dot(est, mark=mark))
        label = cells.row_label(ind, parent_of(ind), o.labels)
        rows.append(DotRow(ind, depth, label, ind in conditional, overall.get(ind), tuple(dots)))
    return ByDomain(
        title, subtitle, tuple(footer), tuple(legend), reference_entry, tuple(rows), "",
        tuple(values), rules,
    )  # fmt: skip


@dataclass(frozen=True)
class _Layout:
    frame: Frame
    rows: list[Row]
    ncol: int
    legend_order: list[int]
    left: float
    axes_width: float
    right: float
    rows_height: float
    height: float


def _lay_out(chart: ByDomain, width: float) -> _Layout:
    k = len(chart.rows[0].dots)
    order = [(r.indicator, r.depth) for r in chart.rows]
    texts = {r.indicator: r.label for r in chart.rows}
    rows, column = label_rows(order, texts, max_width=0.36 * width, min_height=k * SLOT + 0.16)
    ncol, picks = legend_grid(chart.legend, width - 2 * PAD)
    legend_height = math.ceil(len(chart.legend) / ncol) * VALUE_PT * 1.75 / 72
    page = frame(chart.title, chart.subtitle, chart.footer, width)
    left = PAD + column + GAP
    right = 0.3
    axes_width = width - left - right - PAD * 0.5
    rows_height = sum(r.height for r in rows)
    top_block = page.header_height + 0.16 + legend_height + 0.14
    height = top_block + rows_height + AXIS_BLOCK + 0.12 + page.footer_height
    return _Layout(page, rows, ncol, picks, left, axes_width, right, rows_height, height)


def _legend_handles(chart: ByDomain) -> list[Line2D]:
    handles = []
    for j in range(len(chart.rows[0].dots)):
        colour, marker = group_style(j)
        handles.append(Line2D([], [], color=colour, marker=marker, markersize=6.5, linewidth=1.4))
    if chart.reference_entry:
        handles.append(
            Line2D(
                [], [], color=REFERENCE, marker="|", markersize=10, markeredgewidth=1.2, ls="none"
            )
        )
    return handles


def _draw_row(ax, row: DotRow, layout_row: Row, yc: float, note_width: float) -> None:
    """The reference tick and the dot (or note) of each domain value in one row."""
    k = len(row.dots)
    top = yc - layout_row.height / 2
    first_slot = yc - k * SLOT / 2 + SLOT / 2
    ref = row.reference
    if ref is not None and ref.drawn:
        ax.vlines(
            ref.estimate,
            top + 0.05,
            top + layout_row.height - 0.05,
            colors=REFERENCE,
            linewidth=1.1,
            linestyles=(0, (3, 2)),
            zorder=2,
        )
    for j, dot in enumerate(row.dots):
        ys = first_slot + j * SLOT
        est = dot.estimate
        if est is None:
            draw_note(ax, ys, dot.note, NOTE_PT)
            continue
        if not est.drawn:
            draw_note(ax, ys, fit_line(dot.note, note_width, NOTE_PT), NOTE_PT)
            continue
        colour, marker = group_style(j)
        if est.has_interval:
            ax.hlines(ys, est.low, est.high, colors=colour, linewidth=1.4, zorder=3)
        ax.plot(
            [est.estimate],
            [ys],
            linestyle="none",
            marker=marker,
            markersize=6.5,
            markerfacecolor="white" if row.conditional else colour,
            markeredgecolor=colour if row.conditional else "white",
            markeredgewidth=1.2 if row.conditional else 0.6,
            zorder=4,
        )
        if dot.mark:
            draw_mark(ax, est.end, ys, dot.mark)


def _draw(chart: ByDomain, layout: _Layout, options: ByDomainOptions) -> Figure:
    width, xlabel = options.width, options.xlabel
    height = layout.height
    fig = framed_figure(layout.frame, width, height)
    handles = _legend_handles(chart)
    picks = layout.legend_order
    entries = [chart.legend[i] for i in picks]
    top_legend(fig, [handles[i] for i in picks], entries, layout.frame, width, height, layout.ncol)
    bottom = layout.frame.footer_height + 0.12 + AXIS_BLOCK
    ax = fig.add_axes(
        (
            layout.left / width,
            bottom / height,
            layout.axes_width / width,
            layout.rows_height / height,
        )
    )
    percent_axis(ax, xlabel, layout.rows_height)
    tops = list(itertools.accumulate((r.height for r in layout.rows), initial=0.0))[:-1]
    centers = [y + r.height / 2 for y, r in zip(tops, layout.rows, strict=True)]
    for y in tops[1:]:
        ax.axhline(y, color=GRID, linewidth=0.6, zorder=1)
    draw_labels(fig, ax, layout.rows, centers)
    note_width = layout.axes_width + layout.right - 0.1
    for row, layout_row, yc in zip(chart.rows, layout.rows, centers, strict=True):
        _draw_row(ax, row, layout_row, yc, note_width)
    return fig


def build_by_domain(table: pd.DataFrame, options: ByDomainOptions) -> Figure:
    """Build the dot-and-whisker chart of indicators across a domain.

    Raises
    ------
    PrevalenceError
        As :func:`select_by_domain`.
    """
    return _figure(select_by_domain(table, options), options)


def _figure(chart: ByDomain, options: ByDomainOptions) -> Figure:
    return render(
        chart, options.width, lambda: _draw(chart, _lay_out(chart, options.width), options)
    )


def plot_by_domain(
    table: pd.DataFrame, options: ByDomainOptions, *, out_stem: str | Path
) -> list[Path]:
    """Write the chart of :func:`build_by_domain`: ``<out_stem>.png`` (300 dpi), ``.svg``, ``.pdf``
    and its data, ``.csv`` (:meth:`ByDomain.data`)."""
    chart = select_by_domain(table, options)
    return save(_figure(chart, options), out_stem, data=chart.data())
