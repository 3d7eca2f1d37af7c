"""Harmonized indicators across survey waves: a point with its interval per wave.

One column per wave (header ``<wave label>`` / ``n = ...``), a point with its
interval per indicator, on a 0--100% axis; points are not joined, because the
waves are separate samples. A wave without the indicator gets no point (never
a zero) but the words ``not asked in <wave>`` (with several indicators: in the
legend entry of the indicator). Suppressed estimates are named the same way.

:func:`select_across_waves` chooses and names the points (pure pandas),
:func:`build_across_waves` lays them out and draws them,
:func:`plot_across_waves` writes the files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator, PercentFormatter

from prevalence.errors import PrevalenceError
from prevalence.publication.charts import cells
from prevalence.publication.charts.cells import Estimate
from prevalence.publication.charts.draw import (
    draw_mark,
    framed_figure,
    render,
    save,
    top_legend,
)
from prevalence.publication.charts.layout import (
    Frame,
    frame,
    legend_grid,
    text_height,
    text_width,
    wrap_to,
)
from prevalence.publication.charts.style import (
    INK,
    LABEL_PT,
    LINESPACING,
    MARKERS,
    MUTED,
    NOTE_PT,
    PAD,
    PALETTE,
    TICK_PT,
    VALUE_PT,
    WIDTH,
    XLABEL,
    group_style,
)
from prevalence.publication.disclosure import Marks, Publication

__all__ = [
    "AcrossWaves",
    "AcrossWavesOptions",
    "build_across_waves",
    "plot_across_waves",
    "select_across_waves",
]

_PLOT_HEIGHT = 3.0  # inches


@dataclass(frozen=True)
class AcrossWavesOptions:
    """What to draw.

    Parameters
    ----------
    labels
        ``{indicator_id: label}``; the same id must mean the same question in
        every wave.
    wave_labels
        ``{wave: label}`` of the waves to draw, in drawing order (left to
        right); waves are compared as text with the ``wave`` column.
    indicator
        One indicator to draw; its points carry value and ``n`` labels.
    indicators
        Several indicators to draw instead, one colour and marker each,
        side by side within a wave. Give ``indicator`` or ``indicators``.
    domain, domain_value
        The domain cell, e.g. ``"overall"`` / ``"All"``.
    source_note
        Optional extra line printed under the source line.
    note
        Optional caption printed first under the chart, e.g. that the waves
        are separate convenience samples and not a panel.
    title
        Chart title; default ``"<indicator label> across survey waves"`` or
        ``"Prevalence across survey waves"``.
    ylabel
        Label of the percent axis; default ``"Percent of respondents"``, or
        ``"Percent of those with <parent label>"`` when every indicator drawn
        is conditional on the same parent.
    decimals
        Decimals of the percentages printed at the points.
    width
        Figure width in inches.
    publication
        As in :class:`~prevalence.publication.charts.by_indicator.ByIndicatorOptions`.
    """

    labels: Mapping[str, str]
    wave_labels: Mapping[object, str]
    indicator: str | None = None
    indicators: Sequence[str] | None = None
    domain: str = "overall"
    domain_value: object = "All"
    source_note: str | None = None
    note: str | None = None
    title: str | None = None
    ylabel: str | None = None
    decimals: int = 1
    width: float = WIDTH
    publication: Publication | None = None


@dataclass(frozen=True)
class Point:
    """One indicator in one wave: its estimate, if drawn, with its labels."""

    estimate: Estimate | None  # None: no point (see the wave's ``gaps``)
    value: str = ""  # "60.0%" and the flag's mark
    count: str = ""  # "n = 150" or "n withheld"
    mark: str = ""  # the flag's footnote mark
    cell: Estimate | None = None  # the table's row, drawn or not (None: no row)


@dataclass(frozen=True)
class Wave:
    """One column: the wave's label, its ``n`` and a point per indicator."""

    wave: str
    label: str
    count: str  # "n = 150", "n withheld" or empty
    points: tuple[Point, ...]
    gap: tuple[str, str] | None  # when no indicator has a point: ("not asked in", "2016")


@dataclass(frozen=True)
class AcrossWaves:
    """The selection: the page's words, the legend (several indicators), the waves.

    ``open_markers`` tells, per indicator, that it is conditional ("of whom").
    ``message`` is set when there is nothing to draw.
    """

    title: str
    subtitle: str
    footer: tuple[str, ...]
    ylabel: str
    single: bool
    open_markers: tuple[bool, ...]
    legend: tuple[str, ...]
    waves: tuple[Wave, ...]
    message: str = ""
    indicators: tuple[str, ...] = ()
    standard: Marks | None = (
        None  # the publication standard's marks  # one point each in every wave
    )

    def data(self) -> pd.DataFrame:
        """What is drawn, one row per wave and indicator, wave by wave in drawing order
        (``waves/<indicator>.csv``)."""
        records = [
            cells.data_record(point.cell, wave=column.wave, indicator=indicator)
            for column in self.waves
            for indicator, point in zip(self.indicators, column.points, strict=True)
        ]
        return cells.data_frame(records, ["wave", "indicator"], self.standard)


def _wanted(options: AcrossWavesOptions) -> list[str]:
    if (options.indicator is None) == (options.indicators is None):
        raise PrevalenceError(
            "give either `indicator` or `indicators`",
            fix="pass indicator='id' for one indicator or indicators=[...] for several",
        )
    if options.indicator is not None:
        wanted = [str(options.indicator)]
    else:
        wanted = [str(i) for i in options.indicators or []]
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        raise PrevalenceError(
            "`indicators` is empty",
            fix="list at least one indicator to draw across the waves",
        )
    return wanted


def _gap(est: Estimate | None, ind: str, asked: set[str], wave_label: str):
    """Why there is no point: ``(what, where)``, e.g. ``("not asked in", "2016")``."""
    if est is None:
        if not asked:
            return ("no data for", wave_label)
        if ind not in asked:
            return ("not asked in", wave_label)
        return ("not estimated in", wave_label)
    if est.drawn:
        return None
    if est.status == "suppressed":
        return ("suppressed in", f"{wave_label} ({est.flag})" if est.flag else wave_label)
    if est.status == "empty":
        return ("no respondents in", wave_label)
    return ("no estimate in", wave_label)


def _footer(o: AcrossWavesOptions, waves, estimates, conditional, marks) -> list[str]:
    footer = []
    if o.note:
        footer.append(o.note)
    source = "Sources: " + ", ".join(label for _, label in waves) if waves else "Sources: none"
    interval = cells.interval_text(estimates)
    footer.append("; ".join(p for p in (source, interval) if p) + ".")
    if o.source_note:
        footer.append(o.source_note)
    if conditional and any(e.drawn for e in estimates if e.indicator in conditional):
        footer.append(cells.CONDITIONAL_NOTE.format(mark="Open markers", whole="respondents"))
    footer.extend(cells.flag_notes(marks))
    return footer


def _legend(indicators, names, waves, gaps) -> tuple[str, ...]:
    """Per indicator: its label, then why points are missing."""
    entries = []
    for ind in indicators:
        grouped: dict[str, list[str]] = {}
        for w, _ in waves:
            gap = gaps[(ind, w)]
            if gap is not None:
                grouped.setdefault(gap[0], []).append(gap[1])
        text = names[ind]
        if grouped:
            text += " \u2014 " + "; ".join(f"{k} {', '.join(v)}" for k, v in grouped.items())
        entries.append(text)
    return tuple(entries)


def select_across_waves(table: pd.DataFrame, options: AcrossWavesOptions) -> AcrossWaves:
    """Choose and name the points of every wave (no drawing).

    Raises
    ------
    PrevalenceError
        If the table lacks a required column, holds an estimate outside
        [0, 1], has two rows for one indicator in a cell, or neither or both
        of ``indicator`` and ``indicators`` are given.
    """
    cells.check_table(table)
    o = options
    indicators = _wanted(o)
    domain, domain_value = str(o.domain), str(o.domain_value)
    waves = [(str(w), cells.text_or_empty(label) or str(w)) for w, label in o.wave_labels.items()]
    single = len(indicators) == 1
    wave_column = table["wave"].astype(str)
    by_wave: dict[str, dict[str, Estimate]] = {}
    asked: dict[str, set[str]] = {}
    for w, _ in waves:
        found = cells.rows(table, wave=w, domain=domain, domain_value=domain_value)
        by_wave[w] = cells.cell(found, where=f"wave {w}, {domain} = {domain_value}")
        asked[w] = set(table.loc[wave_column == w, "indicator"].astype(str))
    sources = list(by_wave.values())
    parents = {ind: cells.first_parent(ind, sources) for ind in indicators}
    names = {ind: cells.row_label(ind, parents[ind], o.labels) for ind in indicators}
    conditional = {ind for ind in indicators if parents[ind] is not None}
    ylabel = o.ylabel
    if ylabel is None:
        distinct = set(parents.values())
        only = next(iter(distinct)) if len(distinct) == 1 else None
        ylabel = (
            f"Percent of those with {cells.lower_first(cells.label(only, o.labels))}"
            if only is not None
            else XLABEL
        )
    title = o.title
    if title is None:
        title = (
            f"{names[indicators[0]]} across survey waves"
            if single
            else "Prevalence across survey waves"
        )
    subtitle = cells.cell_name(domain, domain_value)
    estimates = [by_wave[w][i] for w, _ in waves for i in indicators if i in by_wave[w]]
    rules = cells.standard(o.publication)
    marks = cells.flag_marks(estimates, rules)
    footer = (
        *_footer(o, waves, estimates, conditional, marks),
        *cells.standard_notes(estimates, rules),
    )
    open_markers = tuple(ind in conditional for ind in indicators)
    if not waves or not estimates:
        what = cells.lower_first(names[indicators[0]]) if single else "these indicators"
        shown = ", ".join(label for _, label in waves) or "no wave"
        message = f"No estimates of {what} in {shown}."
        return AcrossWaves(
            title, subtitle, footer, ylabel, single, open_markers, (), (), message, (), rules
        )
    if not any(e.drawn for e in estimates):
        subtitle += cells.NONE_SHOWN

    gaps = {
        (ind, w): _gap(by_wave[w].get(ind), ind, asked[w], label)
        for ind in indicators
        for w, label in waves
    }
    columns = []
    for w, label in waves:
        points = []
        for ind in indicators:
            est = by_wave[w].get(ind)
            if est is None or not est.drawn:
                points.append(Point(None, cell=est))
                continue
            mark = marks.get(cells.shown_flag(est, rules), "")
            value = cells.value_text(est, o.decimals, marks, rules)
            points.append(Point(est, value, cells.est_n_label(est), mark, est))
        count = cells.n_label(*cells.published_n(by_wave[w])) if by_wave[w] else ""
        missing = [gaps[(ind, w)] for ind in indicators]
        gap = None
        if all(g is not None for g in missing):
            kinds = {g[0] for g in missing if g is not None}
            first = missing[0]
            gap = first if first is not None and (single or len(kinds) == 1) else None
            gap = gap or ("no estimates in", label)
        columns.append(Wave(w, label, count, tuple(points), gap))
    legend = () if single else _legend(indicators, names, waves, gaps)
    return AcrossWaves(
        title, subtitle, footer, ylabel, single, open_markers, legend, tuple(columns), "",
        tuple(indicators), rules,
    )  # fmt: skip


@dataclass(frozen=True)
class _Layout:
    frame: Frame
    ylabel: str
    left: float
    plot_w: float
    slot: float
    legend: list[str]  # wrapped, in the legend's order
    legend_order: list[int]
    ncol: int
    headers: list[str]
    tick_h: float
    height: float


def _legend_height(entries: Sequence[str], ncol: int) -> float:
    lines = [e.count("\n") + 1 for e in entries]
    nrows = math.ceil(len(lines) / ncol)
    return sum(
        max(lines[r * ncol : (r + 1) * ncol]) * VALUE_PT * LINESPACING / 72
        + 0.27 * VALUE_PT / 72  # label spacing less the line gap
        for r in range(nrows)
    )


def _lay_out(chart: AcrossWaves, width: float) -> _Layout:
    ylabel = wrap_to(chart.ylabel, _PLOT_HEIGHT, LABEL_PT)
    ylabel_w = text_height(ylabel, LABEL_PT)
    left = PAD + ylabel_w + 0.1 + text_width("100%", TICK_PT) + 0.08
    plot_w = width - left - PAD
    legend_h = 0.0
    ncol, picks, entries = 1, [], []
    if not chart.single:
        handle_w = (1.8 + 0.5) * VALUE_PT / 72
        entries = [wrap_to(e, width - 2 * PAD - handle_w, VALUE_PT) for e in chart.legend]
        ncol, picks = legend_grid(entries, width - 2 * PAD)
        legend_h = _legend_height(entries, ncol)
    slot = plot_w / len(chart.waves)
    headers = [
        wrap_to(w.label, slot - 0.12, TICK_PT) + (f"\n{w.count}" if w.count else "")
        for w in chart.waves
    ]
    tick_h = max(text_height(h, TICK_PT) for h in headers) + 0.1
    page = frame(chart.title, chart.subtitle, chart.footer, width)
    top_block = page.header_height + 0.16 + (legend_h + 0.14 if legend_h else 0.0) + 0.12
    height = top_block + _PLOT_HEIGHT + tick_h + 0.16 + page.footer_height
    legend = [entries[i] for i in picks]
    return _Layout(page, ylabel, left, plot_w, slot, legend, picks, ncol, headers, tick_h, height)


def _marker_style(colour: str, open_marker: bool) -> dict[str, object]:
    return {
        "markerfacecolor": "white" if open_marker else colour,
        "markeredgecolor": colour if open_marker else "white",
        "markeredgewidth": 1.2 if open_marker else 0.6,
    }


def _legend_handles(chart: AcrossWaves) -> list[Line2D]:
    handles = []
    for j, open_marker in enumerate(chart.open_markers):
        colour, marker = group_style(j)
        handles.append(
            Line2D(
                [],
                [],
                color=colour,
                marker=marker,
                markersize=6.5,
                linewidth=1.4,
                **_marker_style(colour, open_marker),
            )  # fmt: skip
        )
    return handles


def _draw_gap(ax, i: int, gap: tuple[str, str], slot: float) -> None:
    """The words in place of a wave's points, e.g. "not asked in / 2016"."""
    text = "\n".join(wrap_to(part, slot * 0.85, NOTE_PT + 0.5, style="italic") for part in gap)
    ax.text(
        i,
        50,
        text,
        ha="center",
        va="center",
        fontsize=NOTE_PT + 0.5,
        style="italic",
        color=MUTED,
        linespacing=1.1,
        bbox={"boxstyle": "square,pad=0.2", "facecolor": "white", "edgecolor": "none"},
        zorder=4,
    )


def _draw_point(ax, chart: AcrossWaves, x: float, j: int, point: Point) -> None:
    est = point.estimate
    single = chart.single
    colour, marker = (PALETTE[0], MARKERS[0]) if single else group_style(j)
    if est.has_interval:
        ax.vlines(x, est.low, est.high, colors=colour, linewidth=1.4, zorder=3)
    ax.plot(
        [x],
        [est.estimate],
        linestyle="none",
        color=colour,
        marker=marker,
        markersize=7.0 if single else 6.5,
        **_marker_style(colour, chart.open_markers[j]),
        zorder=4,
    )
    if single:
        anchor = min(max(est.estimate, 6.0), 94.0)
        for text, offset, va, bold in (
            (point.value, 1, "bottom", True),
            (point.count, -1, "top", False),
        ):
            ax.annotate(
                text,
                xy=(x, anchor),
                xytext=(7, offset),
                textcoords="offset points",
                ha="left",
                va=va,
                fontsize=VALUE_PT,
                fontweight="bold" if bold else "normal",
                color=INK if bold else MUTED,
                annotation_clip=False,
            )
    elif point.mark:
        draw_mark(ax, x, est.high if est.has_interval else est.estimate, point.mark, above=True)


def _draw(chart: AcrossWaves, layout: _Layout, width: float) -> Figure:
    height = layout.height
    fig = framed_figure(layout.frame, width, height)
    if layout.legend:
        handles = _legend_handles(chart)
        handles = [handles[i] for i in layout.legend_order]
        top_legend(fig, handles, layout.legend, layout.frame, width, height, layout.ncol)
    bottom = layout.frame.footer_height + 0.16 + layout.tick_h
    ax = fig.add_axes(
        (layout.left / width, bottom / height, layout.plot_w / width, _PLOT_HEIGHT / height)
    )
    ax.set_xlim(-0.5, len(chart.waves) - 0.5)
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_locator(MultipleLocator(20))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    ax.set_ylabel(layout.ylabel, labelpad=6)
    ax.set_xticks(range(len(chart.waves)), layout.headers)
    ax.tick_params(axis="x", length=0, pad=6)
    ax.tick_params(axis="y", pad=3)
    ax.xaxis.grid(False)
    ax.yaxis.grid(True)
    m = len(chart.open_markers)
    step = min(0.16, 0.7 / m)
    for i, wave in enumerate(chart.waves):
        if wave.gap is not None:
            _draw_gap(ax, i, wave.gap, layout.slot)
        for j, point in enumerate(wave.points):
            if point.estimate is not None:
                _draw_point(ax, chart, i + (j - (m - 1) / 2) * step, j, point)
    return fig


def build_across_waves(table: pd.DataFrame, options: AcrossWavesOptions) -> Figure:
    """Build the chart of harmonized indicators across survey waves.

    Raises
    ------
    PrevalenceError
        As :func:`select_across_waves`.
    """
    return _figure(select_across_waves(table, options), options)


def _figure(chart: AcrossWaves, options: AcrossWavesOptions) -> Figure:
    return render(
        chart, options.width, lambda: _draw(chart, _lay_out(chart, options.width), options.width)
    )


def plot_across_waves(
    table: pd.DataFrame, options: AcrossWavesOptions, *, out_stem: str | Path
) -> list[Path]:
    """Write the chart of :func:`build_across_waves`: ``<out_stem>.png`` (300 dpi), ``.svg``,
    ``.pdf`` and its data, ``.csv`` (:meth:`AcrossWaves.data`)."""
    chart = select_across_waves(table, options)
    return save(_figure(chart, options), out_stem, data=chart.data())
