"""A parent indicator among all respondents and its "of whom" breakdown, as linked panels.

The upper panel, headed ``All respondents``, draws the parent's prevalence as a
bar on a grey 0--100% track of all respondents. A light band widens from the bar
into the lower panel, headed ``Of those who experienced <parent label>``: its
0--100% axis (``Percent of those who experienced ...``) is that group only, and
each child is a lighter bar there. Every bar carries its interval, value and
``n`` (or ``n withheld``); a footnote repeats that the lower percentages are not
of all respondents.

:func:`select_of_whom` chooses and names the bars (pure pandas),
:func:`build_of_whom` lays them out and draws them, :func:`plot_of_whom` writes
the files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from prevalence.publication.charts import cells
from prevalence.publication.charts.cells import Bar, Estimate
from prevalence.publication.charts.draw import (
    draw_bar,
    draw_labels,
    draw_note,
    draw_value_labels,
    framed_figure,
    page_text,
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
    text_height,
    value_room,
    wrap_note,
    wrap_to,
)
from prevalence.publication.charts.style import (
    AXIS_BLOCK,
    BAR_HEIGHT,
    GAP,
    INK,
    LABEL_PT,
    LINESPACING,
    NOTE_PT,
    PAD,
    PALETTE,
    ROW_MIN,
    WIDTH,
    tint,
)
from prevalence.publication.disclosure import Marks, Publication

__all__ = ["OfWhom", "OfWhomOptions", "build_of_whom", "plot_of_whom", "select_of_whom"]

_TRACK = "#E8E8E8"  # 0-100% track behind the parent bar
_GROUP_TINT = 0.9  # tint of the panel of the parent group
_FUNNEL = 0.42  # height (inches) of the band joining the parent bar to its panel


@dataclass(frozen=True)
class OfWhomOptions:
    """What to draw.

    Parameters
    ----------
    wave, wave_label, labels
        As in :class:`~prevalence.publication.charts.by_indicator.ByIndicatorOptions`.
    parent
        The parent indicator, e.g. ``"online_gbv"``. Its children are the
        indicators of the same cell whose ``denominator`` is ``parent``.
    domain, domain_value
        The domain cell, e.g. ``"overall"`` / ``"All"``.
    source_note
        Optional extra line printed under the source line.
    title
        Chart title; default ``"<parent label>: prevalence and breakdown"``.
    decimals
        Decimals of the percentages printed at the bars.
    width
        Figure width in inches; the height follows the number of children.
    population
        As in :class:`~prevalence.publication.charts.by_indicator.ByIndicatorOptions`:
        the upper panel is headed ``All <population>``.
    publication
        The publication standard the table was disclosed under
        (:func:`prevalence.publication.disclosure.parse_publication`): its marks are drawn (DHS: a
        figure to use with caution in parentheses, a hidden one ``*``; Statistics Canada:
        the grade, ``F`` hidden) and its notes put under the chart.
    """

    wave: object
    wave_label: str
    labels: Mapping[str, str]
    parent: str
    domain: str = "overall"
    domain_value: object = "All"
    source_note: str | None = None
    #: more notes under the chart, after the source (a "check all that apply" group's)
    notes: tuple[str, ...] = ()
    title: str | None = None
    decimals: int = 1
    width: float = WIDTH
    population: str | None = None
    publication: Publication | None = None


@dataclass(frozen=True)
class OfWhom:
    """The selection: the page's words, the parent's bar and its children's.

    ``head`` is None when the table has no row of the parent; ``group`` names
    the parent group in running text (``"online gender-based violence"``).
    ``message`` is set when there is nothing to draw.
    """

    title: str
    subtitle: str
    footer: tuple[str, ...]
    parent: str
    parent_label: str
    group: str
    head: Bar | None
    children: tuple[Bar, ...]
    message: str = ""
    everyone: str = "All respondents"  # the heading of the upper panel
    standard: Marks | None = None  # the publication standard's marks

    def data(self) -> pd.DataFrame:
        """What is drawn, the parent then its children (``of_whom_<parent>.csv``)."""
        bars = ([self.head] if self.head is not None else []) + list(self.children)
        return cells.bars_data(bars, self.standard)


def _bar(
    est: Estimate,
    depth: int,
    label: str,
    marks: Mapping[str, str],
    decimals: int,
    rules: Marks | None,
) -> Bar:
    if not est.drawn:
        return Bar(est, depth, label, note=cells.note_text(est, rules=rules) or "")
    value = cells.value_text(est, decimals, marks, rules)
    return Bar(est, depth, label, value, cells.est_n_label(est))


def select_of_whom(table: pd.DataFrame, options: OfWhomOptions) -> OfWhom:
    """Choose, order and name the parent's bar and its breakdown (no drawing).

    Raises
    ------
    PrevalenceError
        If the table lacks a required column, holds an estimate outside
        [0, 1], or has two rows for one indicator in the cell.
    """
    cells.check_table(table)
    o = options
    parent, domain, domain_value = str(o.parent), str(o.domain), str(o.domain_value)
    cell_name = cells.cell_name(domain, domain_value, o.population)
    everyone = cells.everyone(o.population) if domain == "overall" else cell_name
    whole = cells.whole(o.population)
    parent_label = cells.label(parent, o.labels)
    group = cells.lower_first(parent_label)
    title = o.title or f"{parent_label}: prevalence and breakdown"
    subtitle = f"{o.wave_label} \u00b7 {cell_name}"
    where = f"wave {o.wave}, {domain} = {domain_value}"
    found = cells.rows(table, wave=o.wave, domain=domain, domain_value=domain_value)
    cell = cells.cell(found, where=where)
    head = cell.get(parent)
    position = {ind: i for i, ind in enumerate(cell)}
    children = sorted(
        (e for e in cell.values() if e.parent == parent and e.indicator != parent),
        key=lambda e: (
            cells.status_rank(e),
            -e.estimate if e.drawn else 0.0,
            position[e.indicator],
        ),
    )
    estimates = ([head] if head is not None else []) + children

    n = head.n if head is not None and not head.n_hidden else None
    footer = [cells.source_line(o.wave_label, n, estimates)]
    if o.source_note:
        footer.append(o.source_note)
    footer.extend(o.notes)
    if children:
        footer.append(
            f"Percentages in the shaded panel are of the {whole} who experienced {group}, "
            f"not of all {whole}."
        )
    rules = cells.standard(o.publication)
    marks = cells.flag_marks(estimates, rules)
    footer.extend(cells.flag_notes(marks))
    footer.extend(cells.standard_notes(estimates, rules))
    if not estimates:
        message = f"No estimates of {group} for {o.wave_label}, {cell_name}."
        return OfWhom(
            title, subtitle, tuple(footer), parent, parent_label, group, None, (), message,
            everyone, rules,
        )  # fmt: skip
    if not any(e.drawn for e in estimates):
        subtitle += cells.NONE_SHOWN
    head_bar = _bar(head, 0, parent_label, marks, o.decimals, rules) if head is not None else None
    bars = tuple(
        _bar(c, 1, cells.label(c.indicator, o.labels), marks, o.decimals, rules) for c in children
    )
    return OfWhom(
        title, subtitle, tuple(footer), parent, parent_label, group, head_bar, bars, "",
        everyone, rules,
    )  # fmt: skip


@dataclass(frozen=True)
class _Layout:
    """Horizontal and vertical layout, in inches, from the top down."""

    frame: Frame
    head_row: Row
    child_rows: list[Row]
    left: float
    axes_width: float
    xlabel: str
    band_text: str
    heading_h: float
    head_h: float
    child_h: float
    panel_x0: float
    panel_x1: float
    panel_bottom: float
    child_bottom: float
    panel_top: float
    head_bottom: float
    head_top: float
    height: float


def _lay_out(chart: OfWhom, width: float) -> _Layout:
    page = frame(chart.title, chart.subtitle, chart.footer, width)
    order = [(chart.parent, 0)] + [(c.estimate.indicator, 1) for c in chart.children]
    texts = {chart.parent: chart.parent_label} | {
        c.estimate.indicator: c.label for c in chart.children
    }
    rows, column = label_rows(order, texts, max_width=0.36 * width, min_height=ROW_MIN)
    head_row, child_rows = rows[0], rows[1:]
    bars = ([chart.head] if chart.head is not None else []) + list(chart.children)
    left = PAD + column + GAP
    available = width - left - PAD
    values = {b.estimate.indicator: (b.value, b.count) for b in bars if b.estimate.drawn}
    axes_width = available - value_room([b.estimate for b in bars], values, available)

    head_drawn = chart.head is not None and chart.head.estimate.drawn
    funnel = _FUNNEL if head_drawn else 0.2
    heading_h = text_height(chart.everyone, LABEL_PT)
    head_h = head_row.height + 0.08
    panel_x0 = PAD - 0.08
    panel_x1 = width - PAD + 0.08
    group_heading = f"Of those who experienced {chart.group}"
    band_text = wrap_to(group_heading, panel_x1 - panel_x0 - 0.2, LABEL_PT, weight="bold")
    band_h = text_height(band_text, LABEL_PT) + 0.22
    child_h = (sum(r.height for r in child_rows) if child_rows else ROW_MIN) + 0.16
    xlabel = wrap_to(f"Percent of those who experienced {chart.group}", axes_width, LABEL_PT)
    axis_block = AXIS_BLOCK + text_height(xlabel, LABEL_PT) - LABEL_PT * LINESPACING / 72
    height = (
        page.header_height
        + 0.22
        + heading_h
        + 0.06
        + head_h
        + funnel
        + band_h
        + child_h
        + axis_block
        + 0.06
        + 0.12
        + page.footer_height
    )
    panel_bottom = page.footer_height + 0.12
    child_bottom = panel_bottom + 0.06 + axis_block
    panel_top = child_bottom + child_h + band_h
    head_bottom = panel_top + funnel
    head_top = head_bottom + head_h
    return _Layout(
        page, head_row, child_rows, left, axes_width, xlabel, band_text, heading_h, head_h,
        child_h, panel_x0, panel_x1, panel_bottom, child_bottom, panel_top, head_bottom,
        head_top, height,
    )  # fmt: skip


def _draw_funnel(fig: Figure, layout: _Layout, head: Estimate, y0: float) -> None:
    """The band widening from the parent bar to the panel of its group."""
    inches = fig.dpi_scale_trans
    left, axes_width = layout.left, layout.axes_width
    bar_bottom = layout.head_top - y0 - BAR_HEIGHT / 2
    end = left + axes_width * head.estimate / 100
    fig.add_artist(
        mpl.patches.Polygon(
            [
                (left, bar_bottom),
                (end, bar_bottom),
                (left + axes_width, layout.panel_top),
                (left, layout.panel_top),
            ],
            closed=True,
            transform=inches,
            facecolor=tint(PALETTE[0], _GROUP_TINT),
            edgecolor="none",
            linewidth=0,
            zorder=-1,
        )
    )
    edge = tint(PALETTE[0], 0.55)
    for xs in ([end, left + axes_width], [left, left]):
        fig.add_artist(
            Line2D(
                xs,
                [bar_bottom, layout.panel_top],
                transform=inches,
                color=edge,
                linewidth=0.8,
                zorder=-0.5,
            )
        )


def _draw_head(fig: Figure, chart: OfWhom, layout: _Layout, width: float) -> None:
    """Upper panel: the parent among all respondents, on a 0-100% track."""
    height, left = layout.height, layout.left
    heading_y = layout.head_top + 0.06 + layout.heading_h
    bold = {"fontweight": "bold", "color": INK}
    page_text(fig, left, heading_y, chart.everyone, LABEL_PT, va="top", linespacing=None, **bold)
    head_h = layout.head_h
    ax0 = fig.add_axes(
        (left / width, layout.head_bottom / height, layout.axes_width / width, head_h / height)
    )
    ax0.set_xlim(0, 100)
    ax0.set_ylim(head_h, 0)
    ax0.set_axis_off()
    y0 = head_h / 2
    draw_labels(fig, ax0, [layout.head_row], [y0])
    head = chart.head
    if head is not None and head.estimate.drawn:
        ax0.barh(y0, 100, height=BAR_HEIGHT, color=_TRACK, linewidth=0, zorder=1)
        draw_bar(ax0, y0, head.estimate, depth=0)
        draw_value_labels(ax0, head.estimate.end, y0, head.value, head.count)
        _draw_funnel(fig, layout, head.estimate, y0)
    else:
        text = "not estimated" if head is None else head.note
        draw_note(ax0, y0, text, NOTE_PT + 0.5)


def _draw_children(fig: Figure, chart: OfWhom, layout: _Layout, width: float) -> None:
    """Lower panel: the breakdown within the parent group."""
    inches = fig.dpi_scale_trans
    fig.add_artist(
        mpl.patches.Rectangle(
            (layout.panel_x0, layout.panel_bottom),
            layout.panel_x1 - layout.panel_x0,
            layout.panel_top - layout.panel_bottom,
            transform=inches,
            facecolor=tint(PALETTE[0], _GROUP_TINT),
            edgecolor="none",
            linewidth=0,
            zorder=-1,
        )
    )
    band_y = layout.panel_top - 0.11
    bold = {"fontweight": "bold", "color": INK}
    page_text(fig, PAD + 0.04, band_y, layout.band_text, LABEL_PT, va="top", **bold)
    height, child_h = layout.height, layout.child_h
    ax1 = fig.add_axes(
        (
            layout.left / width,
            layout.child_bottom / height,
            layout.axes_width / width,
            child_h / height,
        )
    )
    percent_axis(ax1, layout.xlabel, child_h)
    ax1.set_facecolor("none")
    ax1.grid(axis="x", color="white", linewidth=1.0)
    if not layout.child_rows:
        draw_note(ax1, child_h / 2, f"No breakdown of {chart.group} in the table.", NOTE_PT + 0.5)
        return
    row_centers = centers(layout.child_rows, 0.08)
    draw_labels(fig, ax1, layout.child_rows, row_centers)
    note_width = layout.axes_width - 0.15
    for bar, yc in zip(chart.children, row_centers, strict=True):
        est = bar.estimate
        if not est.drawn:
            draw_note(ax1, yc, wrap_note(bar.note, note_width), NOTE_PT + 0.5)
            continue
        draw_bar(ax1, yc, est, depth=1)
        draw_value_labels(ax1, est.end, yc, bar.value, bar.count)


def build_of_whom(table: pd.DataFrame, options: OfWhomOptions) -> Figure:
    """Build the "of whom" chart of a parent indicator and its breakdown.

    Raises
    ------
    PrevalenceError
        As :func:`select_of_whom`.
    """
    return _figure(select_of_whom(table, options), options)


def _figure(chart: OfWhom, options: OfWhomOptions) -> Figure:
    width = options.width

    def draw() -> Figure:
        layout = _lay_out(chart, width)
        fig = framed_figure(layout.frame, width, layout.height)
        _draw_head(fig, chart, layout, width)
        _draw_children(fig, chart, layout, width)
        return fig

    return render(chart, width, draw)


def plot_of_whom(
    table: pd.DataFrame, options: OfWhomOptions, *, out_stem: str | Path
) -> list[Path]:
    """Write the chart of :func:`build_of_whom`: ``<out_stem>.png`` (300 dpi), ``.svg``, ``.pdf``
    and its data, ``.csv`` (:meth:`OfWhom.data`)."""
    chart = select_of_whom(table, options)
    return save(_figure(chart, options), out_stem, data=chart.data())
