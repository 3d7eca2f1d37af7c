"""Bars of every indicator in one domain cell, sorted by estimate.

Each conditional ("of whom") indicator sits under its parent, indented, with a
lighter bar and the label suffix ``(of those with <parent label>)``. Every bar
carries its confidence interval, its value and its ``n``; a suppressed cell
prints ``suppressed (<flag>)`` instead. The source line reads
``Source: <wave_label>; n = <n>; 95% <method> intervals.``

:func:`select_by_indicator` chooses and names the rows (pure pandas),
:func:`build_by_indicator` lays them out and draws them, :func:`plot_by_indicator`
writes the files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from prevalence.publication.charts import cells
from prevalence.publication.charts.cells import Bar
from prevalence.publication.charts.draw import (
    draw_bar,
    draw_labels,
    draw_note,
    draw_value_labels,
    framed_figure,
    percent_axis,
    render,
    save,
)
from prevalence.publication.charts.layout import (
    Frame,
    Row,
    centers,
    frame,
    label_rows,
    value_room,
    wrap_note,
)
from prevalence.publication.charts.style import (
    AXIS_BLOCK,
    GAP,
    NOTE_PT,
    PAD,
    ROW_MIN,
    WIDTH,
    XLABEL,
)
from prevalence.publication.disclosure import Marks, Publication

__all__ = [
    "ByIndicator",
    "ByIndicatorOptions",
    "build_by_indicator",
    "plot_by_indicator",
    "select_by_indicator",
]


@dataclass(frozen=True)
class ByIndicatorOptions:
    """What to draw.

    Parameters
    ----------
    wave
        Wave to draw, compared as text with the ``wave`` column.
    wave_label
        Human name of the wave, e.g. ``"Asia-Pacific 2025"``.
    labels
        ``{indicator_id: label}`` from the codebook. Indicators without a
        label are shown by their id.
    domain, domain_value
        The domain cell, e.g. ``"overall"`` / ``"All"`` or ``"region"`` /
        ``"Africa"``.
    source_note
        Optional extra line printed under the source line (e.g. the survey
        and weighting).
    title
        Chart title; default ``"Prevalence by indicator"``.
    xlabel
        Label of the percent axis.
    decimals
        Decimals of the percentages printed at the bars.
    width
        Figure width in inches; the height follows the number of bars.
    population
        Who the table's ``overall`` cell is, in the plural (``"women MPs"``), when it is a
        population rather than all respondents: the subtitle and notes name it.
    publication
        The publication standard the table was disclosed under
        (:func:`prevalence.publication.disclosure.parse_publication`): its marks are drawn (DHS: a
        figure to use with caution in parentheses, a hidden one ``*``; Statistics Canada:
        the grade, ``F`` hidden) and its notes put under the chart.
    """

    wave: object
    wave_label: str
    labels: Mapping[str, str]
    domain: str = "overall"
    domain_value: object = "All"
    source_note: str | None = None
    title: str | None = None
    xlabel: str = XLABEL
    decimals: int = 1
    width: float = WIDTH
    population: str | None = None
    publication: Publication | None = None


@dataclass(frozen=True)
class ByIndicator:
    """The selection: the words of the page and the bars in drawing order.

    ``message`` is set when there is nothing to draw (the bars are then empty).
    """

    title: str
    subtitle: str
    footer: tuple[str, ...]
    bars: tuple[Bar, ...]
    message: str = ""
    standard: Marks | None = None  # the publication standard's marks

    def data(self) -> pd.DataFrame:
        """What is drawn, one row per bar in drawing order (``by_indicator.csv``)."""
        return cells.bars_data(self.bars, self.standard)


def select_by_indicator(table: pd.DataFrame, options: ByIndicatorOptions) -> ByIndicator:
    """Choose, order and name the bars of one domain cell (no drawing).

    Raises
    ------
    PrevalenceError
        If the table lacks a required column, holds an estimate outside
        [0, 1], or has two rows for one indicator in the cell.
    """
    cells.check_table(table)
    o = options
    domain, domain_value = str(o.domain), str(o.domain_value)
    cell_name = cells.cell_name(domain, domain_value, o.population)
    title = o.title or "Prevalence by indicator"
    subtitle = f"{o.wave_label} \u00b7 {cell_name}"
    where = f"wave {o.wave}, {domain} = {domain_value}"
    found = cells.rows(table, wave=o.wave, domain=domain, domain_value=domain_value)
    cell = cells.cell(found, where=where)
    estimates = list(cell.values())

    rules = cells.standard(o.publication)
    marks = cells.flag_marks(estimates, rules)
    footer = [cells.source_line(o.wave_label, cells.base_n(cell), estimates)]
    if o.source_note:
        footer.append(o.source_note)
    if not estimates:
        message = f"No estimates for {o.wave_label}, {cell_name}."
        return ByIndicator(title, subtitle, tuple(footer), (), message, rules)

    if not any(e.drawn for e in estimates):
        subtitle += cells.NONE_SHOWN
    if any(e.parent is not None for e in estimates):
        footer.append(
            cells.CONDITIONAL_NOTE.format(mark="Lighter bars", whole=cells.whole(o.population))
        )
    footer.extend(cells.flag_notes(marks))
    footer.extend(cells.standard_notes(estimates, rules))

    position = {ind: i for i, ind in enumerate(cell)}

    def sort_key(ind: str) -> tuple:
        est = cell[ind]
        value = -est.estimate if est.drawn else 0.0
        return (cells.status_rank(est), value, position[ind])

    bars = []
    for ind, depth in cells.order(list(cell), lambda ind: cell[ind].parent, sort_key):
        est = cell[ind]
        text = cells.row_label(ind, est.parent, o.labels)
        if est.drawn:
            value = cells.value_text(est, o.decimals, marks, rules)
            bars.append(Bar(est, depth, text, value, f"n = {cells.count(est.n)}"))
        else:
            bars.append(Bar(est, depth, text, note=cells.note_text(est, rules=rules) or ""))
    return ByIndicator(title, subtitle, tuple(footer), tuple(bars), standard=rules)


@dataclass(frozen=True)
class _Layout:
    frame: Frame
    rows: list[Row]
    centers: list[float]
    left: float
    axes_width: float
    rows_height: float
    height: float


def _lay_out(chart: ByIndicator, width: float) -> _Layout:
    """Label column | axes | room for the value labels; heights from the rows."""
    page = frame(chart.title, chart.subtitle, chart.footer, width)
    order = [(b.estimate.indicator, b.depth) for b in chart.bars]
    texts = {b.estimate.indicator: b.label for b in chart.bars}
    rows, column = label_rows(order, texts, max_width=0.36 * width, min_height=ROW_MIN)
    left = PAD + column + GAP
    available = width - left - PAD
    values = {b.estimate.indicator: (b.value, b.count) for b in chart.bars if b.estimate.drawn}
    axes_width = available - value_room([b.estimate for b in chart.bars], values, available)
    rows_height = sum(r.height for r in rows) + 0.16
    height = page.header_height + 0.22 + rows_height + AXIS_BLOCK + 0.12 + page.footer_height
    return _Layout(page, rows, centers(rows, 0.08), left, axes_width, rows_height, height)


def _draw(chart: ByIndicator, layout: _Layout, options: ByIndicatorOptions) -> Figure:
    width, xlabel = options.width, options.xlabel
    height = layout.height
    fig = framed_figure(layout.frame, width, height)
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
    draw_labels(fig, ax, layout.rows, layout.centers)
    note_width = layout.axes_width - 0.15
    for bar, row, yc in zip(chart.bars, layout.rows, layout.centers, strict=True):
        est = bar.estimate
        if not est.drawn:
            draw_note(ax, yc, wrap_note(bar.note, note_width), NOTE_PT + 0.5)
            continue
        draw_bar(ax, yc, est, depth=min(row.depth or int(est.parent is not None), 2))
        draw_value_labels(ax, est.end, yc, bar.value, bar.count)
    return fig


def build_by_indicator(table: pd.DataFrame, options: ByIndicatorOptions) -> Figure:
    """Build the bar chart of every indicator in one domain cell.

    Returns
    -------
    matplotlib.figure.Figure
        The chart, attached to an Agg canvas.

    Raises
    ------
    PrevalenceError
        As :func:`select_by_indicator`.
    """
    return _figure(select_by_indicator(table, options), options)


def _figure(chart: ByIndicator, options: ByIndicatorOptions) -> Figure:
    return render(
        chart, options.width, lambda: _draw(chart, _lay_out(chart, options.width), options)
    )


def plot_by_indicator(
    table: pd.DataFrame, options: ByIndicatorOptions, *, out_stem: str | Path
) -> list[Path]:
    """Write the bar chart of :func:`build_by_indicator`.

    Returns
    -------
    list of pathlib.Path
        ``<out_stem>.png`` (300 dpi), ``<out_stem>.svg``, ``<out_stem>.pdf`` and
        ``<out_stem>.csv`` (:meth:`ByIndicator.data`); parent folders are created.
    """
    chart = select_by_indicator(table, options)
    return save(_figure(chart, options), out_stem, data=chart.data())
