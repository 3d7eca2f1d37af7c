"""Drawing primitives shared by the charts, and writing a chart to disk.

Every chart is a :class:`~matplotlib.figure.Figure` on a
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg` (pyplot and its global
figure registry are never used), placed in inches from a layout. Files are
byte-for-byte reproducible: dates are stripped from the metadata, SVG ids use a
fixed hash salt and text is stored as paths in SVG.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator, PercentFormatter
from matplotlib.transforms import blended_transform_factory

from prevalence.publication.charts.cells import Estimate

if TYPE_CHECKING:
    import pandas as pd
from prevalence.publication.charts.layout import (
    Frame,
    Row,
    arrow_width,
    count_offset,
    frame,
    text_height,
    wrap_to,
)
from prevalence.publication.charts.style import (
    ARROW,
    BAR_HEIGHT,
    DPI,
    INDENT,
    INK,
    LABEL_PT,
    LINESPACING,
    MUTED,
    NOTE_PT,
    PAD,
    PALETTE,
    SPINE,
    SUBTITLE_PT,
    TITLE_PT,
    VALUE_OFFSET,
    VALUE_PT,
    WHISKER,
    house_style,
    tint,
)

__all__ = ["save"]


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def page_text(fig: Figure, x: float, y: float, text: str, size: float, **style) -> None:
    """Text at ``(x, y)`` inches from the page's lower left corner, in ``size`` points;
    left-aligned, lines ``LINESPACING`` apart, unless ``style`` says otherwise."""
    style = {"ha": "left", "linespacing": LINESPACING, **style}
    fig.text(x, y, text, transform=fig.dpi_scale_trans, fontsize=size, **style)


def draw_frame(fig: Figure, frame: Frame, height: float) -> None:
    """Title and subtitle at the top, footer at the bottom of the page."""
    top = height - PAD
    page_text(fig, PAD, top, frame.title, TITLE_PT, va="top", fontweight="bold", color=INK)
    if frame.subtitle:
        below = top - text_height(frame.title, TITLE_PT) - 0.06
        page_text(fig, PAD, below, frame.subtitle, SUBTITLE_PT, va="top", color=MUTED)
    if frame.footer:
        page_text(fig, PAD, PAD, frame.footer, NOTE_PT, va="bottom", color=MUTED)


def framed_figure(frame: Frame, width: float, height: float) -> Figure:
    """A new page of ``width`` x ``height`` inches with its title block and footer."""
    fig = new_figure(width, height)
    draw_frame(fig, frame, height)
    return fig


def message_figure(frame: Frame, message: str, width: float) -> Figure:
    """A chart that only says why there is nothing to draw."""
    box = 1.1
    height = frame.header_height + 0.2 + box + 0.2 + frame.footer_height
    fig = framed_figure(frame, width, height)
    bottom = frame.footer_height + 0.2
    ax = fig.add_axes((PAD / width, bottom / height, (width - 2 * PAD) / width, box / height))
    ax.set_axis_off()
    ax.add_patch(
        mpl.patches.Rectangle(
            (0, 0), 1, 1, transform=ax.transAxes, facecolor="#F4F4F4", edgecolor="none"
        )
    )
    ax.text(
        0.5,
        0.5,
        wrap_to(message, width - 2 * PAD - 0.4, SUBTITLE_PT),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=SUBTITLE_PT,
        color=MUTED,
        style="italic",
    )
    return fig


def render(chart, width: float, draw: Callable[[], Figure]) -> Figure:
    """``draw()`` in the house style; a chart that says why when ``chart.message`` is set.

    ``chart`` is a selection with ``title``, ``subtitle``, ``footer`` and ``message``.
    """
    with rc_context(house_style()):
        if chart.message:
            page = frame(chart.title, chart.subtitle, chart.footer, width)
            return message_figure(page, chart.message, width)
        return draw()


def draw_labels(fig: Figure, ax: Axes, rows: Sequence[Row], centers: Sequence[float]) -> None:
    """The label column left of ``ax``; "of whom" rows indented under a ``↳``."""
    transform = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    arrow = arrow_width()
    for row, y in zip(rows, centers, strict=True):
        x = PAD + row.depth * INDENT
        colour = INK if row.depth == 0 else MUTED
        if row.depth:
            first_line = y - (text_height(row.text, LABEL_PT) - LABEL_PT * LINESPACING / 72) / 2
            ax.text(
                x,
                first_line,
                ARROW,
                transform=transform,
                ha="left",
                va="center",
                fontsize=LABEL_PT,
                color=MUTED,
                clip_on=False,
            )
            x += arrow
        ax.text(
            x,
            y,
            row.text,
            transform=transform,
            ha="left",
            va="center",
            fontsize=LABEL_PT,
            linespacing=LINESPACING,
            color=colour,
            clip_on=False,
        )


def percent_axis(ax: Axes, xlabel: str, total_height: float) -> None:
    """A 0--100% value axis along x, rows from the top down."""
    ax.set_xlim(0, 100)
    ax.set_ylim(total_height, 0)
    ax.xaxis.set_major_locator(MultipleLocator(20))
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    ax.set_xlabel(xlabel, labelpad=5)
    ax.set_yticks([])
    ax.spines["left"].set_color(SPINE)
    ax.spines["bottom"].set_color(SPINE)
    ax.tick_params(axis="x", pad=3)


def draw_note(ax: Axes, y: float, text: str, size: float, *, x: float = 0) -> None:
    """Italic text at ``x`` (the left of a 0--100% axis), in place of an estimate."""
    ax.annotate(
        text,
        xy=(x, y),
        xycoords="data",
        xytext=(5, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=size,
        style="italic",
        color=MUTED,
        linespacing=1.1,
        annotation_clip=False,
        bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        zorder=4,
    )


def draw_bar(ax: Axes, y: float, est: Estimate, *, depth: int) -> None:
    """One bar with its interval; "of whom" bars (``depth`` 1, 2) lighter, outlined."""
    face = tint(PALETTE[0], (0.0, 0.5, 0.68)[depth])
    ax.barh(
        y,
        est.estimate,
        height=BAR_HEIGHT,
        color=face,
        edgecolor=PALETTE[0] if depth else face,
        linewidth=0.8 if depth else 0.0,
        zorder=2,
    )
    if est.has_interval:
        cap = BAR_HEIGHT * 0.3
        ax.hlines(y, est.low, est.high, colors=WHISKER, linewidth=1.0, zorder=3)
        ax.vlines([est.low, est.high], y - cap, y + cap, colors=WHISKER, linewidth=1.0, zorder=3)


def draw_value_labels(ax: Axes, x: float, y: float, value: str, count: str) -> None:
    """Bold value then muted ``n`` right of ``(x, y)``."""
    ax.annotate(
        value,
        xy=(x, y),
        xytext=(VALUE_OFFSET, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=VALUE_PT,
        fontweight="bold",
        color=INK,
        annotation_clip=False,
    )
    ax.annotate(
        count,
        xy=(x, y),
        xytext=(count_offset(value), 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=VALUE_PT,
        color=MUTED,
        annotation_clip=False,
    )


def draw_mark(ax: Axes, x: float, y: float, mark: str, *, above: bool = False) -> None:
    """A flag's footnote mark right of (or, ``above``, over) a point."""
    ax.annotate(
        mark,
        xy=(x, y),
        xytext=(0, 2) if above else (2, 0),
        textcoords="offset points",
        ha="center" if above else "left",
        va="bottom" if above else "center",
        fontsize=NOTE_PT,
        color=MUTED,
        annotation_clip=False,
    )


def top_legend(fig, handles, entries, frame, width, height, ncol, *, handlelength=1.8) -> None:
    """The legend of a chart, left-aligned under its title block."""
    fig.legend(
        handles,
        entries,
        loc="upper left",
        bbox_to_anchor=(PAD / width, (height - frame.header_height - 0.16) / height),
        bbox_transform=fig.transFigure,
        ncol=ncol,
        frameon=False,
        borderpad=0.0,
        borderaxespad=0.0,
        handlelength=handlelength,
        handletextpad=0.5,
        columnspacing=1.4,
        labelspacing=0.5,
        fontsize=VALUE_PT,
    )


def save(fig: Figure, out_stem: str | Path, *, data: pd.DataFrame | None = None) -> list[Path]:
    """Write PNG (300 dpi), SVG and PDF with date-free, fixed metadata, and ``data`` (what
    the chart draws) as CSV.

    Returns ``<out_stem>.png``, ``.svg``, ``.pdf`` and, with ``data``, ``.csv``; parent
    folders are created.
    """
    stem = Path(out_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    creator = _creator()
    producer = f"matplotlib {mpl.__version__}"
    options = {"png": {"pil_kwargs": {"compress_level": PNG_COMPRESSION}}}
    metadata = {
        "png": {"Software": creator},
        "svg": {"Creator": creator, "Date": None},
        "pdf": {
            "Creator": creator,
            "Producer": producer,
            "CreationDate": None,
            "ModDate": None,
        },
    }
    written = []
    with rc_context(house_style()), _font_subsets_without_layout_tables():
        for fmt, meta in metadata.items():
            path = stem.with_name(f"{stem.name}.{fmt}")
            fig.savefig(path, format=fmt, dpi=DPI, metadata=meta, **options.get(fmt, {}))
            written.append(path)
    if data is not None:
        from prevalence.data.io import write_csv

        written.append(write_csv(data, stem.with_name(f"{stem.name}.csv")))
    return written


#: zlib level of the PNGs: 3 writes them in two thirds of the time of Pillow's default 6, for
#: files about 3% larger (the pixels are the same)
PNG_COMPRESSION = 3


@cache
def _creator() -> str:
    """The ``Creator`` of every chart file: the package and its version."""
    try:
        return f"prevalence {importlib_metadata.version('prevalence')}"
    except importlib_metadata.PackageNotFoundError:
        return "prevalence"


#: OpenType layout tables (glyph substitution and positioning): a PDF places every glyph
#: itself, so the fonts it embeds never use them
LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH")


@contextmanager
def _font_subsets_without_layout_tables() -> Iterator[None]:
    """Leave the layout tables out of the font subsets a PDF embeds.

    matplotlib subsets each TrueType font it embeds with fontTools, which reads and prunes
    the font's layout tables every time: about a fifth of the time a chart takes to write.
    Dropping them gives the same glyphs, drawn at the same places, in a smaller file.
    fontTools' options have no public default to change, hence the class attribute, set
    only while the chart is written and restored after.
    """
    from fontTools.subset import Options

    default = Options._drop_tables_default
    Options._drop_tables_default = [*default, *(t for t in LAYOUT_TABLES if t not in default)]
    try:
        yield
    finally:
        Options._drop_tables_default = default
