"""Actual coverage of interval methods against the true prevalence (the coverage table).

One column of panels per sample (each sample size of the exact calculation,
then each simulated cluster design), x = true prevalence 0-100%, y = actual
coverage, with a dashed line at the nominal level. The coverage axis runs from
80% to 100%; a curve that falls below 80% (the Wald interval near 0% and 100%)
runs off the bottom and the footer states its minimum.

Layouts: ``"grid"`` (default), a row of panels per method, each panel one curve
with its minimum and mean coverage; ``"overlay"``, one panel per sample with
every method in it (colour, marker and line style per method, legend on top).

:func:`select_coverage` reads the samples and curves (pure pandas),
:func:`build_coverage` lays them out and draws them, :func:`plot_coverage` writes
the files. The table comes from :mod:`prevalence.stats.coverage`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator, PercentFormatter

from prevalence.errors import ConfigError, PrevalenceError
from prevalence.publication.charts.cells import level_text
from prevalence.publication.charts.draw import framed_figure, page_text, save, top_legend
from prevalence.publication.charts.layout import (
    frame,
    legend_grid,
    text_height,
    text_width,
    wrap_to,
)
from prevalence.publication.charts.style import (
    GRID,
    INK,
    LABEL_PT,
    MARKERS,
    MUTED,
    NOTE_PT,
    PAD,
    PALETTE,
    REFERENCE,
    SPINE,
    VALUE_PT,
    WIDTH,
    house_style,
)
from prevalence.stats.coverage import is_simulated, panel_keys, panel_title
from prevalence.stats.intervals import METHOD_NAMES

__all__ = [
    "LAYOUTS",
    "Coverage",
    "CoverageOptions",
    "build_coverage",
    "check_layout",
    "panel_keys",
    "panel_title",
    "plot_coverage",
    "select_coverage",
]

LAYOUTS = ("grid", "overlay")

_METHOD_LABELS = {**METHOD_NAMES, "xlogit": "logit (xlogit)"}
_Y_FLOOR = 0.80  # lowest coverage drawn; lower values are noted in the panel and footer
_COL_GAP = 0.34  # inches between panels side by side (grid)
_ROW_GAP = 0.22  # inches between rows of panels (grid)
_GRID_PANEL_HEIGHT = 1.05  # inches of one plotting area (grid)
_TICKS_LEFT = 0.42  # inches for the coverage tick labels
_X_AXIS = 0.48  # inches under a row of panels for tick labels and the axis label
_OVERLAY_PANEL_HEIGHT = 2.8  # inches of one plotting area (overlay)
_OVERLAY_GAP = 0.42  # inches between panels side by side (overlay)
_OVERLAY_LEFT = 0.62  # inches for tick labels and the axis label (overlay)
_MARK_EVERY = 10  # one marker per this many grid points (overlay)
_LINESTYLES = ("-", (0, (4, 1.4)), "-", (0, (1, 1.1)), (0, (5, 1.2, 1, 1.2)), "-", "-", "-")


@dataclass(frozen=True)
class CoverageOptions:
    """What to draw.

    Parameters
    ----------
    title
        Chart title; default ``"Actual coverage of nominal 95% confidence intervals"``.
    source_note
        Optional extra line in the footer.
    layout
        ``"grid"`` (default): one row of panels per method, each panel one
        curve in the method's colour, with its minimum and mean coverage;
        easy to read although the curves oscillate. ``"overlay"``: one panel
        per sample with every method in it (Okabe-Ito colour, marker and line
        style per method, legend on top); compact, but with more than two or
        three methods the oscillating curves overlap near the nominal level.
    width
        Figure width in inches.
    """

    title: str | None = None
    source_note: str | None = None
    layout: str = "grid"
    width: float = WIDTH


def method_label(method: str) -> str:
    return _METHOD_LABELS.get(method, method)


def check_layout(layout: str) -> str:
    """``layout`` if it is one of :data:`LAYOUTS`."""
    if layout in LAYOUTS:
        return layout
    raise ConfigError(f"unknown chart layout {layout!r}", fix=f"use one of: {', '.join(LAYOUTS)}")


def _check_coverage_table(table: pd.DataFrame) -> None:
    if not isinstance(table, pd.DataFrame):
        raise PrevalenceError(
            f"expected a pandas DataFrame, got {type(table).__name__}",
            fix="pass a table from exact_coverage or simulated_coverage",
        )
    missing = [c for c in ("method", "n", "p", "level", "coverage") if c not in table.columns]
    if missing:
        raise PrevalenceError(
            f"coverage table lacks column(s) {', '.join(missing)}",
            fix="pass a table from exact_coverage or simulated_coverage",
        )
    if table.empty:
        raise PrevalenceError(
            "the coverage table has no rows",
            fix="compute it with at least one method, sample size and prevalence",
        )
    levels = table["level"].dropna().unique()
    if len(levels) != 1:
        raise PrevalenceError(
            "the coverage table must have exactly one confidence level",
            value=", ".join(level_text(float(v)) for v in sorted(levels)) or None,
            fix="draw one chart per level",
        )


@dataclass(frozen=True, eq=False)
class Curve:
    """One method in one sample: coverage at each true prevalence, sorted by ``p``."""

    p: np.ndarray
    coverage: np.ndarray
    minimum: str  # "min 91.3%"
    mean: str  # "mean 94.8%"


@dataclass(frozen=True, eq=False)
class Panel:
    """One sample: its key, and a curve per method (None: not computed)."""

    key: dict[str, object]
    curves: tuple[Curve | None, ...]
    points: int  # most grid points of one method


@dataclass(frozen=True, eq=False)
class Coverage:
    """The selection: the page's words, the methods and the samples, in order."""

    title: str
    subtitle: str
    footer: tuple[str, ...]
    level: float
    layout: str
    methods: tuple[str, ...]
    panels: tuple[Panel, ...]


def _panels(table: pd.DataFrame) -> list[tuple[dict[str, object], pd.DataFrame]]:
    """Samples in the table's order (exact sample sizes first), each with its rows."""
    keys = panel_keys(table)
    panels = [
        (dict(zip(keys, key, strict=True)), group.sort_values("p", kind="stable"))
        for key, group in table.groupby(keys, sort=False, dropna=False)
    ]
    return sorted(panels, key=lambda item: is_simulated(item[0]))


def _words(table: pd.DataFrame, panels, title: str | None, source_note: str | None):
    """Level, title, subtitle and footer lines shared by both layouts."""
    level = float(table["level"].dropna().iloc[0])
    nominal = level_text(level)
    title = title or f"Actual coverage of nominal {nominal} confidence intervals"
    exact = any(not is_simulated(key) for key, _ in panels)
    simulated = [(key, group) for key, group in panels if is_simulated(key)]
    kinds = ["exact for a simple random sample"] if exact else []
    if simulated:
        kinds.append("simulated for a cluster sample" if exact else "simulated, cluster sample")
    subtitle = f"Share of samples whose interval contains the true prevalence; {', '.join(kinds)}"
    footer = [
        f"Dashed line: nominal {nominal}. Coverage oscillates with the true prevalence "
        "because the number of cases is a whole number."
    ]
    if simulated:
        reps = sorted({int(group["reps"].iloc[0]) for _, group in simulated})
        worst = max(float(group["mc_se"].max()) for _, group in simulated)
        footer.append(
            f"Simulated: one-stage cluster sample, {' or '.join(f'{r:,}' for r in reps)} samples "
            f"per point (Monte Carlo SE at most {100 * worst:.1f} points), each analysed with its "
            "design-based SE and clusters \u2212 1 degrees of freedom."
        )
    low = table.loc[table["coverage"] < _Y_FLOOR]
    if not low.empty:
        worst_by_method = low.groupby("method", sort=False)["coverage"].min()
        parts = [f"{method_label(m)} down to {100 * v:.0f}%" for m, v in worst_by_method.items()]
        footer.append(
            f"Coverage below {100 * _Y_FLOOR:.0f}% runs off the panels: {'; '.join(parts)}."
        )
    if source_note:
        footer.append(source_note)
    return level, title, subtitle, footer


def _curve(rows: pd.DataFrame) -> Curve | None:
    if rows.empty:
        return None
    coverage = rows["coverage"].to_numpy(dtype=float)
    return Curve(
        rows["p"].to_numpy(dtype=float),
        coverage,
        f"min {100 * coverage.min():.1f}%",
        f"mean {100 * coverage.mean():.1f}%",
    )


def select_coverage(table: pd.DataFrame, options: CoverageOptions) -> Coverage:
    """Read the samples, methods and curves of a coverage table (no drawing).

    Raises
    ------
    PrevalenceError
        If the table lacks a column, has no rows or mixes confidence levels.
    ConfigError
        For an unknown layout.
    """
    _check_coverage_table(table)
    layout = check_layout(options.layout)
    found = _panels(table)
    methods = tuple(dict.fromkeys(table["method"].astype(str)))
    level, title, subtitle, footer = _words(table, found, options.title, options.source_note)
    if layout == "grid":
        grid_p = table["p"].nunique()
        plural = "s" if grid_p > 1 else ""
        footer.insert(
            1,
            f"Under each curve: its minimum and mean over the {grid_p} true prevalence{plural} "
            "drawn.",
        )
    panels = []
    for key, group in found:
        by_method = group["method"].astype(str)
        curves = tuple(_curve(group.loc[by_method == m]) for m in methods)
        points = int(group.groupby("method")["p"].size().max())
        panels.append(Panel(key, curves, points))
    return Coverage(title, subtitle, tuple(footer), level, layout, methods, tuple(panels))


def _coverage_axes(ax, level: float, *, x_labels: bool, y_labels: bool, x_step: float) -> None:
    """Axis ranges, ticks, grid and nominal line of one panel."""
    ax.set_xlim(0, 1)
    ax.set_ylim(_Y_FLOOR, 1.0)
    ax.xaxis.set_major_locator(MultipleLocator(x_step))
    ax.xaxis.set_minor_locator(MultipleLocator(0.05 if x_step < 0.2 else 0.1))
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.yaxis.set_major_locator(MultipleLocator(0.05))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.tick_params(axis="x", which="minor", length=1.8, color=SPINE)
    ax.tick_params(axis="y", length=3.0, width=0.8)
    ax.tick_params(axis="x", labelbottom=x_labels)
    ax.tick_params(axis="y", labelleft=y_labels)
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.grid(axis="x", which="major", color=GRID, linewidth=0.6)
    ax.axhline(level, zorder=4, **_nominal_style())


def _panel_note(ax, text: str, *, y: float) -> None:
    ax.text(
        0.5,
        y,
        text,
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=NOTE_PT,
        linespacing=1.1,
        color=MUTED,
        zorder=5,
        bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"},
    )


def _row_label(method: str, width_in: float) -> str:
    """Method name for the left column, broken after a dash or at spaces if too wide."""
    text = method_label(method)
    if text_width(text, LABEL_PT, weight="bold") <= width_in:
        return text
    return text.replace("\u2013", "\u2013\n").replace(" ", "\n")


@dataclass(frozen=True)
class _Grid:
    """Layout of the grid, in inches."""

    labels: list[str]
    left: float
    panel_width: float
    headers: list[str]
    x_step: float
    row_height: float
    top: float
    height: float


def _lay_out_grid(chart: Coverage, page, width: float) -> _Grid:
    labels = [_row_label(m, 1.0) for m in chart.methods]
    label_width = max(text_width(t, LABEL_PT, weight="bold") for t in labels)
    left = PAD + label_width + 0.12 + _TICKS_LEFT
    ncols = len(chart.panels)
    panel_width = (width - left - PAD - 0.12 - (ncols - 1) * _COL_GAP) / ncols
    headers = [
        wrap_to(
            panel_title(panel.key, short=True),
            panel_width + _COL_GAP * 0.8,
            LABEL_PT,
            weight="bold",
        )
        for panel in chart.panels
    ]
    x_step = 0.25 if panel_width >= 1.6 else 0.5
    header_height = max(text_height(h, LABEL_PT) for h in headers) + 0.1
    label_heights = [text_height(t, LABEL_PT) for t in labels]
    row_height = max([_GRID_PANEL_HEIGHT, *(h + 0.1 for h in label_heights)])
    top = page.header_height + 0.2 + header_height
    n = len(chart.methods)
    rows_height = n * row_height + (n - 1) * _ROW_GAP
    height = top + rows_height + _X_AXIS + 0.14 + page.footer_height
    return _Grid(labels, left, panel_width, headers, x_step, row_height, top, height)


def _grid_text(fig, x: float, y: float, text: str, **kw) -> None:
    page_text(fig, x, y, text, LABEL_PT, fontweight="bold", color=INK, **kw)


def _draw_grid(chart: Coverage, page, width: float) -> Figure:
    grid = _lay_out_grid(chart, page, width)
    height = grid.height
    fig = framed_figure(page, width, height)
    step = grid.panel_width + _COL_GAP
    for col, header in enumerate(grid.headers):
        _grid_text(fig, grid.left + col * step, height - grid.top + 0.08, header, va="bottom")
    last = len(chart.methods) - 1
    for row, (method, label) in enumerate(zip(chart.methods, grid.labels, strict=True)):
        y0 = height - grid.top - (row + 1) * grid.row_height - row * _ROW_GAP
        _grid_text(fig, PAD, y0 + grid.row_height / 2, label, va="center")
        for col, panel in enumerate(chart.panels):
            x0 = grid.left + col * step
            ax = fig.add_axes(
                (x0 / width, y0 / height, grid.panel_width / width, grid.row_height / height)
            )
            _coverage_axes(
                ax, chart.level, x_labels=row == last, y_labels=col == 0, x_step=grid.x_step
            )
            if row == last:
                ax.set_xlabel("True prevalence", labelpad=3)
            curve = panel.curves[row]
            if curve is None:
                _panel_note(ax, "not computed", y=0.5)
                continue
            ax.plot(
                curve.p,
                curve.coverage,
                color=PALETTE[chart.methods.index(method) % len(PALETTE)],
                linewidth=1.0,
                marker="o" if len(curve.p) == 1 else "none",
                markersize=3.5,
                solid_joinstyle="round",
                zorder=3,
            )
            note = f"{curve.minimum}  \u00b7  {curve.mean}"
            if text_width(note, NOTE_PT) > grid.panel_width - 0.12:
                note = f"{curve.minimum}\n{curve.mean}"
            _panel_note(ax, note, y=0.04)
    return fig


def _draw_overlay(chart: Coverage, page, width: float) -> Figure:
    methods = chart.methods
    handles = [Line2D([], [], **_line_style(i), markersize=5.0) for i in range(len(methods))]
    entries = [method_label(m) for m in methods]
    handles.append(Line2D([], [], **_nominal_style()))
    entries.append(f"Nominal {level_text(chart.level)}")
    ncol, picks = legend_grid(entries, width - 2 * PAD)
    handles, entries = [handles[i] for i in picks], [entries[i] for i in picks]
    legend_height = math.ceil(len(entries) / ncol) * VALUE_PT * 1.75 / 72

    k = len(chart.panels)
    ncols = k if k <= 3 else (2 if k == 4 else 3)
    nrows = math.ceil(k / ncols)
    left = PAD + _OVERLAY_LEFT
    panel_width = (width - left - PAD - 0.1 - (ncols - 1) * _OVERLAY_GAP) / ncols
    titles = [wrap_to(panel_title(panel.key), panel_width, LABEL_PT) for panel in chart.panels]
    title_height = max(text_height(t, LABEL_PT) for t in titles) + 0.12
    row_height = title_height + _OVERLAY_PANEL_HEIGHT + _X_AXIS
    top_block = page.header_height + 0.16 + legend_height + 0.06
    height = top_block + nrows * row_height + 0.1 + page.footer_height
    fig = framed_figure(page, width, height)
    top_legend(fig, handles, entries, page, width, height, ncol, handlelength=2.6)
    for index, (panel, title) in enumerate(zip(chart.panels, titles, strict=True)):
        row, col = divmod(index, ncols)
        x0 = left + col * (panel_width + _OVERLAY_GAP)
        y0 = height - top_block - (row + 1) * row_height + _X_AXIS
        ax = fig.add_axes(
            (x0 / width, y0 / height, panel_width / width, _OVERLAY_PANEL_HEIGHT / height)
        )
        _coverage_axes(ax, chart.level, x_labels=True, y_labels=col == 0, x_step=0.2)
        ax.set_title(title, loc="left", fontsize=LABEL_PT, fontweight="bold", pad=6)
        if col == 0:
            ax.set_ylabel("Actual coverage", labelpad=4)
        ax.set_xlabel("True prevalence", labelpad=3)
        step = max(round(panel.points / _MARK_EVERY), 1)
        for i, curve in enumerate(panel.curves):
            if curve is None:
                continue
            ax.plot(
                curve.p,
                curve.coverage,
                **_line_style(i),
                markersize=4.0,
                markevery=((i * max(step // len(methods), 1)) % step, step),
                zorder=3 + 0.01 * i,
            )
    return fig


def _line_style(i: int) -> dict[str, object]:
    return {
        "color": PALETTE[i % len(PALETTE)],
        "linestyle": _LINESTYLES[i % len(_LINESTYLES)],
        "linewidth": 0.9,
        "marker": MARKERS[i % len(MARKERS)],
        "markeredgecolor": "white",
        "markeredgewidth": 0.5,
    }


def _nominal_style() -> dict[str, object]:
    return {"color": REFERENCE, "linestyle": (0, (4, 2.5)), "linewidth": 1.0}


def build_coverage(table: pd.DataFrame, options: CoverageOptions | None = None) -> Figure:
    """Build the coverage chart of a coverage table (one confidence level).

    ``table`` comes from :func:`prevalence.stats.coverage.exact_coverage`,
    :func:`~prevalence.stats.coverage.simulated_coverage` or both concatenated (the
    table written by :func:`prevalence.stats.coverage.coverage_step`).

    Raises
    ------
    PrevalenceError
        If the table lacks a column, has no rows or mixes confidence levels.
    ConfigError
        For an unknown layout.
    """
    options = options or CoverageOptions()
    chart = select_coverage(table, options)
    with rc_context(house_style()):
        page = frame(chart.title, chart.subtitle, chart.footer, options.width)
        draw = _draw_grid if chart.layout == "grid" else _draw_overlay
        return draw(chart, page, options.width)


def plot_coverage(
    table: pd.DataFrame, options: CoverageOptions | None = None, *, out_stem: str | Path
) -> list[Path]:
    """Write the chart of :func:`build_coverage`: ``<out_stem>.png`` (300 dpi), ``.svg``, ``.pdf``.

    Reruns give byte-identical files.
    """
    return save(build_coverage(table, options), out_stem)
