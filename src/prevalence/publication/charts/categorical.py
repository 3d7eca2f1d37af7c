"""A categorical question as stacked bars: one bar per group, its answers as segments.

Each bar is 100% of the respondents of its group who answered the question (all
respondents first, then the values of each domain in turn); its segments are the
categories, in the codebook's order and colours, each labelled with its percentage where
it fits. A question asked "of whom" says so in the subtitle and on the axis (``Percent of
those who experienced ...``). Categories that are suppressed never show an estimate: the
rest of the bar, what the published categories leave, is hatched grey and a note under the
bar names the hidden categories and why. The legend names the categories; each bar carries
its ``n`` (or ``n withheld``). The intervals of the shares are in the chart's data.

:func:`select_categorical` chooses and names the bars and segments (pure pandas),
:func:`build_categorical` lays them out and draws them, :func:`plot_categorical` writes
the files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from prevalence.publication.charts import cells
from prevalence.publication.charts.cells import Estimate
from prevalence.publication.charts.draw import (
    draw_labels,
    framed_figure,
    percent_axis,
    render,
    save,
    top_legend,
)
from prevalence.publication.charts.layout import (
    Frame,
    Row,
    frame,
    label_rows,
    legend_grid,
    text_height,
    text_width,
    wrap_to,
)
from prevalence.publication.charts.style import (
    AXIS_BLOCK,
    BAR_HEIGHT,
    GAP,
    GRID,
    LABEL_PT,
    LINESPACING,
    MUTED,
    NOTE_PT,
    PAD,
    PALETTE,
    ROW_MIN,
    VALUE_PT,
    WIDTH,
    text_colour_on,
)
from prevalence.publication.disclosure import Marks, Publication

__all__ = [
    "Categorical",
    "CategoricalOptions",
    "build_categorical",
    "plot_categorical",
    "select_categorical",
]

#: the hatched rest of a bar whose categories are partly suppressed
HIDDEN_FACE = "#EBEBEB"
HIDDEN_EDGE = "#9A9A9A"
HIDDEN_HATCH = "////"
HIDDEN_ENTRY = "Not shown (suppressed)"
_NOTE_GAP = 0.04  # inches between a bar and its note


@dataclass(frozen=True)
class CategoricalOptions:
    """What to draw.

    Parameters
    ----------
    wave, wave_label, labels
        As in :class:`~prevalence.publication.charts.by_indicator.ByIndicatorOptions`;
        ``labels`` names the question's denominator.
    question
        The question's id, e.g. ``"perpetrator"``.
    categories
        ``{category indicator id: category label}`` in display order, e.g.
        ``{"perpetrator=stranger_online": "A stranger online", ...}``.
    question_label
        The question's label (``"Perpetrator"``); default its id.
    domains
        The domains whose values get a bar each, after all respondents, in this order.
    source_note, notes, title, decimals, width, population, publication
        As in :class:`~prevalence.publication.charts.of_whom.OfWhomOptions`.
    """

    wave: object
    wave_label: str
    labels: Mapping[str, str]
    question: str
    categories: Mapping[str, str]
    question_label: str | None = None
    domains: Sequence[str] = ()
    source_note: str | None = None
    notes: tuple[str, ...] = ()
    title: str | None = None
    decimals: int = 0
    width: float = WIDTH
    population: str | None = None
    publication: Publication | None = None


@dataclass(frozen=True)
class Segment:
    """One category in one bar: its estimate and the text printed in it ("" if hidden)."""

    estimate: Estimate
    label: str
    value: str = ""


@dataclass(frozen=True)
class StackedBar:
    """One group's answers: its segments in category order, its ``n`` and what is hidden.

    ``rest`` is the percent the drawn segments leave when some are not drawn (drawn hatched);
    ``note`` says which categories are not shown and why.
    """

    domain: str
    domain_value: str
    label: str
    count: str
    segments: tuple[Segment, ...]
    rest: float = 0.0
    note: str = ""


@dataclass(frozen=True)
class Categorical:
    """The selection: the page's words, the legend's categories and the bars in order."""

    title: str
    subtitle: str
    footer: tuple[str, ...]
    xlabel: str
    legend: tuple[str, ...]
    categories: tuple[str, ...]  # the category indicators, in the legend's order
    bars: tuple[StackedBar, ...]
    message: str = ""
    standard: Marks | None = None

    def data(self) -> pd.DataFrame:
        """What is drawn, one row per bar and category in drawing order
        (``categorical_<question>.csv``)."""
        records = [
            cells.data_record(
                s.estimate,
                domain=b.domain,
                domain_value=b.domain_value,
                indicator=s.estimate.indicator,
                label=s.label,
            )
            for b in self.bars
            for s in b.segments
        ]
        keys = ["domain", "domain_value", "indicator", "label"]
        return cells.data_frame(records, keys, self.standard)


def _hidden_note(segments: Sequence[Segment], rules: Marks | None) -> str:
    """``A colleague, a constituent: suppressed (reason)``, one clause per reason."""
    by_reason: dict[str, list[str]] = {}
    for s in segments:
        text = cells.note_text(s.estimate, rules=rules) or ""
        by_reason.setdefault(text, []).append(s.label)
    return "; ".join(f"{', '.join(names)}: {text}" for text, names in by_reason.items())


def _stacked_bar(
    domain: str,
    value: str,
    label: str,
    found: Mapping[str, Estimate],
    categories: Mapping[str, str],
    marks: Mapping[str, str],
    options: CategoricalOptions,
    rules: Marks | None,
) -> StackedBar:
    segments = []
    for ident, name in categories.items():
        est = found.get(ident)
        if est is None:
            continue
        value_text = cells.value_text(est, options.decimals, marks, rules) if est.drawn else ""
        segments.append(Segment(est, name, value_text))
    shown = [s for s in segments if s.estimate.drawn]
    hidden = [s for s in segments if not s.estimate.drawn]
    n, withheld = cells.published_n(found)
    count = cells.n_label(n, withheld)
    if not hidden:
        return StackedBar(domain, value, label, count, tuple(segments))
    if shown:
        rest = max(0.0, 100.0 - sum(s.estimate.estimate for s in shown))
        return StackedBar(
            domain, value, label, count, tuple(segments), rest, _hidden_note(hidden, rules)
        )  # fmt: skip
    if n == 0 or any(s.estimate.status != "suppressed" for s in hidden):
        note = "no respondents" if n == 0 else cells.note_text(hidden[-1].estimate) or ""
        return StackedBar(domain, value, label, count, tuple(segments), 0.0, note)
    return StackedBar(
        domain, value, label, count, tuple(segments), 100.0, _all_hidden(hidden, rules)
    )


def _all_hidden(segments: Sequence[Segment], rules: Marks | None) -> str:
    """The note of a bar whose every category is suppressed: every reason, once."""
    notes = list(dict.fromkeys(cells.note_text(s.estimate, rules=rules) or "" for s in segments))
    if len(notes) == 1:
        return notes[0]
    reasons = dict.fromkeys(r for s in segments for r in cells.reasons_of(s.estimate.flag))
    return f"suppressed ({'; '.join(reasons)})"


def select_categorical(table: pd.DataFrame, options: CategoricalOptions) -> Categorical:
    """Choose, order and name the bars and their segments (no drawing).

    Raises
    ------
    PrevalenceError
        If the table lacks a required column, holds an estimate outside [0, 1], or has two
        rows for one category in one cell.
    """
    cells.check_table(table)
    o = options
    question_label = o.question_label or o.question
    categories = {str(k): str(v) for k, v in o.categories.items()}
    wanted = table[table["indicator"].astype(str).isin(categories)]
    groups: list[tuple[str, str, str, dict[str, Estimate]]] = []
    for domain in ["overall", *(str(d) for d in o.domains if str(d) != "overall")]:
        where = f"wave {o.wave}, "
        by_value = cells.domain_cells(wanted, wave=o.wave, domain=domain, where=where)
        for value, found in by_value.items():
            name = cells.cell_name(domain, value, o.population)
            groups.append((domain, value, name, found))
    estimates = [e for *_, found in groups for e in found.values()]
    parent = next((e.parent for e in estimates if e.parent is not None), None)
    whole = cells.whole(o.population)
    if parent is not None:
        group = cells.lower_first(cells.label(parent, o.labels))
        who = f"of those who experienced {group}"
        xlabel = f"Percent of those who experienced {group} and answered"
        base = f"its group's {whole} who experienced {group} and answered"
    else:
        who = f"of all {whole}"
        xlabel = f"Percent of {whole} who answered"
        base = f"its group's {whole} who answered"
    title = o.title or f"{question_label}: share of each answer"
    subtitle = f"{o.wave_label} \u00b7 {who[:1].upper()}{who[1:]}"
    footer = [cells.source_line(o.wave_label, None, [])]
    if o.source_note:
        footer.append(o.source_note)
    footer.extend(o.notes)
    footer.append(f"Each bar adds up to 100%: {base}, one answer each.")
    intervals = cells.interval_text(estimates)
    if intervals:
        footer.append(f"The {intervals} of each share are in the chart's data.")
    rules = cells.standard(o.publication)
    marks = cells.flag_marks(estimates, rules)
    footer.extend(cells.flag_notes(marks))
    footer.extend(cells.standard_notes(estimates, rules))
    legend = tuple(categories.values())
    if not estimates:
        message = f"No estimates of {question_label.lower()} for {o.wave_label}."
        return Categorical(
            title, subtitle, tuple(footer), xlabel, legend, tuple(categories), (), message, rules
        )  # fmt: skip
    bars = tuple(
        _stacked_bar(domain, value, name, found, categories, marks, o, rules)
        for domain, value, name, found in groups
    )
    if any(b.rest > 0 for b in bars):
        legend += (HIDDEN_ENTRY,)
        footer.append(
            "Hatched: the categories that are suppressed, together (what the categories "
            "shown leave of 100%)."
        )
    if not any(s.estimate.drawn for b in bars for s in b.segments):
        subtitle += cells.NONE_SHOWN
    return Categorical(
        title, subtitle, tuple(footer), xlabel, legend, tuple(categories), bars, "", rules
    )  # fmt: skip


@dataclass(frozen=True)
class _Layout:
    frame: Frame
    rows: list[Row]
    ncol: int
    legend_order: list[int]
    left: float
    axes_width: float
    rows_height: float
    xlabel: str
    axis_block: float
    height: float
    notes: list[str]  # the note under each bar, wrapped to the axes ("" for none)
    note_heights: list[float]


def _lay_out(chart: Categorical, width: float) -> _Layout:
    page = frame(chart.title, chart.subtitle, chart.footer, width)
    keys = [f"{b.domain}\x00{b.domain_value}" for b in chart.bars]
    texts = {k: b.label for k, b in zip(keys, chart.bars, strict=True)}
    rows, column = label_rows(
        [(k, 0) for k in keys], texts, max_width=0.3 * width, min_height=ROW_MIN
    )
    left = PAD + column + GAP
    count_room = max((text_width(b.count, VALUE_PT) for b in chart.bars), default=0.0) + 0.12
    axes_width = width - left - PAD - max(count_room, 0.25)
    notes = [wrap_to(b.note, axes_width - 0.08, NOTE_PT, style="italic") for b in chart.bars]
    note_heights = [text_height(n, NOTE_PT) + _NOTE_GAP if n else 0.0 for n in notes]
    rows = [
        Row(r.indicator, r.depth, r.text, r.height + h)
        for r, h in zip(rows, note_heights, strict=True)
    ]
    ncol, picks = legend_grid(chart.legend, width - 2 * PAD)
    legend_height = math.ceil(len(chart.legend) / ncol) * VALUE_PT * 1.75 / 72
    rows_height = sum(r.height for r in rows)
    xlabel = wrap_to(chart.xlabel, axes_width, LABEL_PT)
    axis_block = AXIS_BLOCK + text_height(xlabel, LABEL_PT) - text_height("x", LABEL_PT)
    top_block = page.header_height + 0.16 + legend_height + 0.14
    height = top_block + rows_height + axis_block + 0.12 + page.footer_height
    return _Layout(
        page, rows, ncol, picks, left, axes_width, rows_height, xlabel, axis_block, height,
        notes, note_heights,
    )  # fmt: skip


def _colour(j: int) -> str:
    return PALETTE[j % len(PALETTE)]


def _legend_handles(chart: Categorical) -> list[mpl.patches.Patch]:
    handles = [
        mpl.patches.Patch(facecolor=_colour(j), edgecolor="none")
        for j in range(len(chart.legend) - (HIDDEN_ENTRY in chart.legend))
    ]
    if HIDDEN_ENTRY in chart.legend:
        handles.append(
            mpl.patches.Patch(
                facecolor=HIDDEN_FACE, edgecolor=HIDDEN_EDGE, hatch=HIDDEN_HATCH, linewidth=0.6
            )
        )
    return handles


def _draw_bar(
    ax, bar: StackedBar, note: str, yc: float, layout: _Layout, colours: Mapping[str, str]
) -> None:
    """The segments of one bar, left to right, then its hatched rest, ``n`` and note."""
    x = 0.0
    for s in bar.segments:
        est = s.estimate
        if not est.drawn:
            continue
        face = colours[est.indicator]
        ax.barh(yc, est.estimate, left=x, height=BAR_HEIGHT, color=face, linewidth=0, zorder=2)
        inches = layout.axes_width * est.estimate / 100
        if s.value and text_width(s.value, VALUE_PT, weight="bold") + 0.06 <= inches:
            ax.text(
                x + est.estimate / 2, yc, s.value, ha="center", va="center", fontsize=VALUE_PT,
                fontweight="bold", color=text_colour_on(face), zorder=3,
            )  # fmt: skip
        x += est.estimate
    if bar.rest > 0:
        ax.barh(
            yc, bar.rest, left=x, height=BAR_HEIGHT, color=HIDDEN_FACE, edgecolor=HIDDEN_EDGE,
            hatch=HIDDEN_HATCH, linewidth=0.6, zorder=2,
        )  # fmt: skip
    if bar.count:
        ax.annotate(
            bar.count, xy=(100, yc), xytext=(6, 0), textcoords="offset points", ha="left",
            va="center", fontsize=VALUE_PT, color=MUTED, annotation_clip=False,
        )  # fmt: skip
    if note:
        ax.annotate(
            note, xy=(0, yc + BAR_HEIGHT / 2 + _NOTE_GAP), xytext=(3, 0),
            textcoords="offset points", ha="left", va="top", fontsize=NOTE_PT, style="italic", color=MUTED,
            linespacing=LINESPACING, annotation_clip=False,
        )  # fmt: skip


def _draw(chart: Categorical, layout: _Layout, width: float) -> Figure:
    height = layout.height
    fig = framed_figure(layout.frame, width, height)
    handles = _legend_handles(chart)
    picks = layout.legend_order
    entries = [chart.legend[i] for i in picks]
    top_legend(
        fig, [handles[i] for i in picks], entries, layout.frame, width, height, layout.ncol,
        handlelength=1.2,
    )  # fmt: skip
    bottom = layout.frame.footer_height + 0.12 + layout.axis_block
    ax = fig.add_axes(
        (
            layout.left / width,
            bottom / height,
            layout.axes_width / width,
            layout.rows_height / height,
        )
    )
    percent_axis(ax, layout.xlabel, layout.rows_height)
    ax.grid(False)
    tops, y = [], 0.0
    for row in layout.rows:
        tops.append(y)
        y += row.height
    centres = [
        top + (row.height - h) / 2
        for top, row, h in zip(tops, layout.rows, layout.note_heights, strict=True)
    ]
    domains = [b.domain for b in chart.bars]
    for i in range(1, len(domains)):
        if domains[i] != domains[i - 1]:
            ax.axhline(tops[i], color=GRID, linewidth=0.8, zorder=1)
    draw_labels(fig, ax, layout.rows, centres)
    colours = {ident: _colour(j) for j, ident in enumerate(chart.categories)}
    for bar, note, yc in zip(chart.bars, layout.notes, centres, strict=True):
        _draw_bar(ax, bar, note, yc, layout, colours)
    return fig


def build_categorical(table: pd.DataFrame, options: CategoricalOptions) -> Figure:
    """Build the stacked-bar chart of a categorical question.

    Raises
    ------
    PrevalenceError
        As :func:`select_categorical`.
    """
    return _figure(select_categorical(table, options), options)


def _figure(chart: Categorical, options: CategoricalOptions) -> Figure:
    width = options.width
    return render(chart, width, lambda: _draw(chart, _lay_out(chart, width), width))


def plot_categorical(
    table: pd.DataFrame, options: CategoricalOptions, *, out_stem: str | Path
) -> list[Path]:
    """Write the chart of :func:`build_categorical`: ``<out_stem>.png`` (300 dpi), ``.svg``,
    ``.pdf`` and its data, ``.csv`` (:meth:`Categorical.data`)."""
    chart = select_categorical(table, options)
    return save(_figure(chart, options), out_stem, data=chart.data())
