"""Publication charts of prevalence estimates.

Five chart types are drawn from the tidy prevalence table (one row per wave x
domain x indicator):

* :func:`plot_by_indicator` -- horizontal bars of every indicator for one
  wave and one domain cell (e.g. all respondents, or region = Africa), sorted
  by estimate, with confidence-interval whiskers and value / ``n`` labels.
* :func:`plot_by_domain` -- dot-and-whisker chart of each indicator across
  the values of one domain (e.g. regions), one colour and marker per value.
* :func:`plot_heatmap` -- indicators (rows) by the values of one domain
  (columns), each cell coloured by its prevalence and printing its value.
* :func:`plot_of_whom` -- a parent indicator among all respondents and its
  conditional breakdown within the parent group, drawn as a linked panel.
* :func:`plot_across_waves` -- one or more harmonized indicators across
  survey waves, a point with its interval per wave.

Each ``plot_*`` function writes ``<out_stem>.png`` (300 dpi), ``.svg`` and
``.pdf`` and returns the written paths. The matching ``build_*`` functions
return the :class:`matplotlib.figure.Figure` without writing anything, so the
chart can be inspected or embedded elsewhere.

Charts are drawn with :class:`~matplotlib.figure.Figure` and
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg` (pyplot and its
global figure registry are never used) inside
``matplotlib.rc_context(house_style())``, so the global ``rcParams`` are left
untouched. Output is byte-for-byte reproducible: the layout is computed in
inches from the data alone, dates are stripped from the file metadata, SVG ids
use a fixed hash salt and text is stored as paths in SVG.

Suppressed cells (``suppressed`` true) never show an estimate or interval; the
chart prints ``suppressed (<flag>)`` in their place (the heatmap: a hatched
cell marked ``–``). Cells without respondents print ``no respondents``. An
empty selection gives a chart saying so. The heatmap, "of whom" and
across-waves charts print ``n withheld`` instead of the ``n`` of rows whose
optional ``n_suppressed`` column is true.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import cycler, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.textpath import text_to_path
from matplotlib.ticker import MultipleLocator, PercentFormatter
from matplotlib.transforms import blended_transform_factory

from prevalence.disclosure import N_SUPPRESSED
from prevalence.errors import PrevalenceError
from prevalence.estimate import DISPLAY_COLUMNS, check_display_table
from prevalence.intervals import METHOD_NAMES

__all__ = [
    "FONT_FAMILY",
    "MARKERS",
    "PALETTE",
    "N_HIDDEN",
    "build_across_waves",
    "build_by_domain",
    "build_by_indicator",
    "build_heatmap",
    "build_of_whom",
    "house_style",
    "plot_across_waves",
    "plot_by_domain",
    "plot_by_indicator",
    "plot_heatmap",
    "plot_of_whom",
]

#: The only font used: bundled with matplotlib, so it exists on every machine.
FONT_FAMILY = "DejaVu Sans"

#: Okabe-Ito colour-blind-safe palette, ordered for contrast on white
#: (yellow, the weakest on white, comes last).
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)

#: Marker per domain value, paired with :data:`PALETTE` so that groups stay
#: distinguishable in greyscale print.
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h")

REQUIRED_COLUMNS = DISPLAY_COLUMNS

#: Optional boolean column: true where the row's ``n`` must not be published.
N_HIDDEN = N_SUPPRESSED

_XLABEL = "Percent of respondents"
_DPI = 300
_WIDTH = 7.5  # inches: full text width of an A4 / letter report page

# Colours.
_INK = "#1A1A1A"
_MUTED = "#5C5C5C"
_SPINE = "#4D4D4D"
_GRID = "#DCDCDC"
_WHISKER = "#262626"
_REFERENCE = "#333333"

# Font sizes (points).
_TITLE_PT = 12.5
_SUBTITLE_PT = 9.5
_LABEL_PT = 9.0
_VALUE_PT = 8.5
_NOTE_PT = 7.5
_TICK_PT = 8.5
_LINESPACING = 1.2

# Layout (inches).
_PAD = 0.18  # outer margin
_GAP = 0.14  # gap between label column and axes
_INDENT = 0.2  # indentation per level of conditional indicator
_ARROW = "\u21b3"  # downwards arrow with tip rightwards, marks "of whom" rows
_BAR_HEIGHT = 0.24
_VALUE_OFFSET = 4.0  # points between a whisker end and its value label
_ROW_MIN = 0.36
_SLOT = 0.17  # vertical space per domain value in the dot chart
_AXIS_BLOCK = 0.52  # tick labels and axis label below the axes

# Interval methods as named in the table -> as named in a report; also R's and
# statsmodels' names for them.
_METHOD_NAMES = {
    **METHOD_NAMES,
    "beta": "Clopper\u2013Pearson",
    "clopper_pearson": "Clopper\u2013Pearson",
    "korn_graubard": "Korn\u2013Graubard",
    "mean": "Wald",
    "normal": "Wald",
    "agresti_coull": "Agresti\u2013Coull",
}

_CONDITIONAL_NOTE = (
    '{mark} ("of those with \u2026") are percentages of the respondents in the parent '
    "category, not of all respondents."
)

# Footnote markers for estimates shown with a caution flag.
_FLAG_MARKS = ("*", "\u2020", "\u2021", "\u00a7", "\u00b6", "**", "\u2020\u2020", "\u2021\u2021")


def house_style() -> dict[str, object]:
    """Return the rc settings of every chart in the study.

    Use with :func:`matplotlib.rc_context` so the global ``rcParams`` are not
    changed::

        with matplotlib.rc_context(house_style()):
            ...

    Returns
    -------
    dict
        rcParams: DejaVu Sans throughout, Okabe-Ito colour cycle, light grid on
        the value (x) axis only, no top or right spine, white background,
        300 dpi output, text as paths in SVG, TrueType fonts in PDF and a fixed
        SVG hash salt for reproducible ids.
    """
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [FONT_FAMILY],
        "font.size": _LABEL_PT,
        "mathtext.default": "regular",
        "text.color": _INK,
        "axes.prop_cycle": cycler(color=list(PALETTE)),
        "axes.facecolor": "white",
        "axes.edgecolor": _SPINE,
        "axes.linewidth": 0.8,
        "axes.labelcolor": _INK,
        "axes.labelsize": _LABEL_PT,
        "axes.titlesize": _TITLE_PT,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.grid.axis": "x",
        "axes.axisbelow": True,
        "axes.unicode_minus": True,
        "grid.color": _GRID,
        "grid.linewidth": 0.6,
        "grid.linestyle": "-",
        "xtick.labelsize": _TICK_PT,
        "ytick.labelsize": _TICK_PT,
        "xtick.color": _SPINE,
        "ytick.color": _SPINE,
        "xtick.labelcolor": _INK,
        "ytick.labelcolor": _INK,
        "xtick.major.size": 3.0,
        "xtick.major.width": 0.8,
        "ytick.major.size": 0.0,
        "legend.frameon": False,
        "legend.fontsize": _VALUE_PT,
        "figure.facecolor": "white",
        "figure.edgecolor": "white",
        "figure.dpi": 100,
        "figure.autolayout": False,
        "figure.constrained_layout.use": False,
        "savefig.dpi": _DPI,
        "savefig.facecolor": "white",
        "savefig.edgecolor": "white",
        "savefig.transparent": False,
        "savefig.bbox": None,
        "savefig.pad_inches": 0.0,
        "svg.fonttype": "path",
        "svg.hashsalt": "prevalence",
        "svg.image_inline": True,
        "pdf.fonttype": 42,
        "pdf.compression": 6,
        "ps.fonttype": 42,
        "path.simplify": True,
    }


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def build_by_indicator(
    table: pd.DataFrame,
    *,
    wave: object,
    wave_label: str,
    labels: Mapping[str, str],
    domain: str = "overall",
    domain_value: object = "All",
    source_note: str | None = None,
    title: str | None = None,
    xlabel: str = _XLABEL,
    decimals: int = 1,
    width: float = _WIDTH,
) -> Figure:
    """Build the bar chart of every indicator in one domain cell.

    Parameters
    ----------
    table
        Tidy prevalence table (see :data:`REQUIRED_COLUMNS`).
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

    Returns
    -------
    matplotlib.figure.Figure
        The chart, attached to an Agg canvas.

    Raises
    ------
    PrevalenceError
        If the table lacks a required column, holds an estimate outside
        [0, 1], or has two rows for one indicator in the cell.
    """
    _check_table(table)
    with rc_context(house_style()):
        return _build_by_indicator(
            table,
            wave=wave,
            wave_label=wave_label,
            labels=labels,
            domain=str(domain),
            domain_value=str(domain_value),
            source_note=source_note,
            title=title,
            xlabel=xlabel,
            decimals=decimals,
            width=width,
        )


def plot_by_indicator(
    table: pd.DataFrame,
    *,
    wave: object,
    wave_label: str,
    labels: Mapping[str, str],
    out_stem: str | Path,
    domain: str = "overall",
    domain_value: object = "All",
    source_note: str | None = None,
    title: str | None = None,
    xlabel: str = _XLABEL,
    decimals: int = 1,
    width: float = _WIDTH,
) -> list[Path]:
    """Write the bar chart of every indicator in one domain cell.

    Bars are sorted by estimate (largest on top); each conditional ("of
    whom") indicator sits under its parent, indented, with a lighter bar and
    the label suffix ``(of those with <parent label>)``. Every bar carries
    its confidence interval, its value and its ``n``. The source line reads
    ``Source: <wave_label>; n = <n>; 95% <method> intervals.``

    Parameters
    ----------
    table, wave, wave_label, labels, domain, domain_value, source_note, title, xlabel, decimals, width
        As in :func:`build_by_indicator`.
    out_stem
        Output path without extension; parent folders are created.

    Returns
    -------
    list of pathlib.Path
        ``<out_stem>.png`` (300 dpi), ``<out_stem>.svg``, ``<out_stem>.pdf``.
    """
    fig = build_by_indicator(
        table,
        wave=wave,
        wave_label=wave_label,
        labels=labels,
        domain=domain,
        domain_value=domain_value,
        source_note=source_note,
        title=title,
        xlabel=xlabel,
        decimals=decimals,
        width=width,
    )
    return _save(fig, out_stem)


def build_by_domain(
    table: pd.DataFrame,
    *,
    wave: object,
    wave_label: str,
    labels: Mapping[str, str],
    domain: str,
    source_note: str | None = None,
    indicators: Sequence[str] | None = None,
    show_overall: bool = True,
    title: str | None = None,
    xlabel: str = _XLABEL,
    width: float = _WIDTH,
) -> Figure:
    """Build the dot-and-whisker chart of indicators across a domain.

    Parameters
    ----------
    table
        Tidy prevalence table (see :data:`REQUIRED_COLUMNS`).
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

    Returns
    -------
    matplotlib.figure.Figure
        The chart, attached to an Agg canvas.

    Raises
    ------
    PrevalenceError
        If the table lacks a required column, holds an estimate outside
        [0, 1], has two rows for one indicator in a cell, or ``indicators``
        names an indicator that is nowhere in the table.
    """
    _check_table(table)
    if indicators is not None:
        indicators = [str(i) for i in indicators]
        known = set(table["indicator"].astype(str))
        unknown = [i for i in indicators if i not in known]
        if unknown:
            raise PrevalenceError(
                f"indicator(s) {', '.join(unknown)} not in the prevalence table",
                column="indicator",
                fix="list only indicators that the estimation step produced, "
                "or leave `indicators` empty to draw all of them",
            )
    with rc_context(house_style()):
        return _build_by_domain(
            table,
            wave=wave,
            wave_label=wave_label,
            labels=labels,
            domain=str(domain),
            source_note=source_note,
            indicators=indicators,
            show_overall=show_overall,
            title=title,
            xlabel=xlabel,
            width=width,
        )


def plot_by_domain(
    table: pd.DataFrame,
    *,
    wave: object,
    wave_label: str,
    labels: Mapping[str, str],
    domain: str,
    out_stem: str | Path,
    source_note: str | None = None,
    indicators: Sequence[str] | None = None,
    show_overall: bool = True,
    title: str | None = None,
    xlabel: str = _XLABEL,
    width: float = _WIDTH,
) -> list[Path]:
    """Write the dot-and-whisker chart of indicators across a domain.

    One row per indicator, one dot with its interval per domain value
    (colour and marker per value, ``n`` per value in the legend), and a
    dashed tick at the estimate for all respondents. Conditional indicators
    are indented under their parent and drawn with open markers.

    Parameters
    ----------
    table, wave, wave_label, labels, domain, source_note, indicators, show_overall, title, xlabel, width
        As in :func:`build_by_domain`.
    out_stem
        Output path without extension; parent folders are created.

    Returns
    -------
    list of pathlib.Path
        ``<out_stem>.png`` (300 dpi), ``<out_stem>.svg``, ``<out_stem>.pdf``.
    """
    fig = build_by_domain(
        table,
        wave=wave,
        wave_label=wave_label,
        labels=labels,
        domain=domain,
        source_note=source_note,
        indicators=indicators,
        show_overall=show_overall,
        title=title,
        xlabel=xlabel,
        width=width,
    )
    return _save(fig, out_stem)


def build_heatmap(
    table: pd.DataFrame,
    *,
    wave: object,
    wave_label: str,
    labels: Mapping[str, str],
    domain: str,
    source_note: str | None = None,
    indicators: Sequence[str] | None = None,
    show_overall: bool = True,
    title: str | None = None,
    decimals: int = 0,
    cmap: str | mpl.colors.Colormap | None = None,
    width: float = _WIDTH,
) -> Figure:
    """Build the heatmap of indicators (rows) by the values of a domain (columns).

    Parameters
    ----------
    table
        Tidy prevalence table (see :data:`REQUIRED_COLUMNS`).
    wave
        Wave to draw, compared as text with the ``wave`` column.
    wave_label
        Human name of the wave, e.g. ``"Asia-Pacific 2025"``.
    labels
        ``{indicator_id: label}`` from the codebook.
    domain
        Domain whose values make the columns, e.g. ``"region"``. Values keep
        their order in the table.
    source_note
        Optional extra line printed under the source line.
    indicators
        Indicators to draw, in this order (conditional indicators still go
        under their parent when both are listed). Default: every indicator of
        the domain, sorted by the overall estimate.
    show_overall
        Add a first column for all respondents (``overall`` domain), set
        slightly apart, when the table has it.
    title
        Chart title; default ``"Prevalence by <domain>"``.
    decimals
        Decimals of the percentages printed in the cells.
    cmap
        Sequential colormap (name or object) for 0--100%; default a
        light-to-dark blue.
    width
        Figure width in inches; the height follows the number of rows.

    Returns
    -------
    matplotlib.figure.Figure
        The chart, attached to an Agg canvas.

    Raises
    ------
    PrevalenceError
        If the table lacks a required column, holds an estimate outside
        [0, 1], has two rows for one indicator in a cell, or ``indicators``
        names an indicator that is nowhere in the table.
    """
    _check_table(table)
    indicators = _known_indicators(table, indicators)
    with rc_context(house_style()):
        return _build_heatmap(
            table,
            wave=wave,
            wave_label=wave_label,
            labels=labels,
            domain=str(domain),
            source_note=source_note,
            indicators=indicators,
            show_overall=show_overall,
            title=title,
            decimals=decimals,
            cmap=_colormap(cmap),
            width=width,
        )


def plot_heatmap(
    table: pd.DataFrame,
    *,
    wave: object,
    wave_label: str,
    labels: Mapping[str, str],
    domain: str,
    out_stem: str | Path,
    source_note: str | None = None,
    indicators: Sequence[str] | None = None,
    show_overall: bool = True,
    title: str | None = None,
    decimals: int = 0,
    cmap: str | mpl.colors.Colormap | None = None,
    width: float = _WIDTH,
) -> list[Path]:
    """Write the heatmap of indicators by the values of a domain.

    Each cell is coloured by its prevalence on a 0--100% sequential scale
    (colour bar ``Percent``) and prints its value (``62%``) in black or white,
    whichever contrasts more. Column headers give the value and its ``n``
    (``Africa`` / ``n = 18``). Suppressed cells are grey and hatched with the
    mark ``–`` and no value; cells without an estimate are grey with ``n/a``;
    a legend under the grid explains both. Conditional ("of whom") rows are
    indented under their parent with ``↳`` and ``(of those with <parent>)``.

    Parameters
    ----------
    table, wave, wave_label, labels, domain, source_note, indicators, show_overall, title, decimals, cmap, width
        As in :func:`build_heatmap`.
    out_stem
        Output path without extension; parent folders are created.

    Returns
    -------
    list of pathlib.Path
        ``<out_stem>.png`` (300 dpi), ``<out_stem>.svg``, ``<out_stem>.pdf``.
    """
    fig = build_heatmap(
        table,
        wave=wave,
        wave_label=wave_label,
        labels=labels,
        domain=domain,
        source_note=source_note,
        indicators=indicators,
        show_overall=show_overall,
        title=title,
        decimals=decimals,
        cmap=cmap,
        width=width,
    )
    return _save(fig, out_stem)


def build_of_whom(
    table: pd.DataFrame,
    *,
    wave: object,
    wave_label: str,
    labels: Mapping[str, str],
    parent: str,
    domain: str = "overall",
    domain_value: object = "All",
    source_note: str | None = None,
    title: str | None = None,
    decimals: int = 1,
    width: float = _WIDTH,
) -> Figure:
    """Build the "of whom" chart of a parent indicator and its breakdown.

    Parameters
    ----------
    table
        Tidy prevalence table (see :data:`REQUIRED_COLUMNS`).
    wave
        Wave to draw, compared as text with the ``wave`` column.
    wave_label
        Human name of the wave, e.g. ``"Asia-Pacific 2025"``.
    labels
        ``{indicator_id: label}`` from the codebook.
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

    Returns
    -------
    matplotlib.figure.Figure
        The chart, attached to an Agg canvas.

    Raises
    ------
    PrevalenceError
        If the table lacks a required column, holds an estimate outside
        [0, 1], or has two rows for one indicator in the cell.
    """
    _check_table(table)
    with rc_context(house_style()):
        return _build_of_whom(
            table,
            wave=wave,
            wave_label=wave_label,
            labels=labels,
            parent=str(parent),
            domain=str(domain),
            domain_value=str(domain_value),
            source_note=source_note,
            title=title,
            decimals=decimals,
            width=width,
        )


def plot_of_whom(
    table: pd.DataFrame,
    *,
    wave: object,
    wave_label: str,
    labels: Mapping[str, str],
    parent: str,
    out_stem: str | Path,
    domain: str = "overall",
    domain_value: object = "All",
    source_note: str | None = None,
    title: str | None = None,
    decimals: int = 1,
    width: float = _WIDTH,
) -> list[Path]:
    """Write the "of whom" chart of a parent indicator and its breakdown.

    The upper panel, headed ``All respondents``, draws the parent's
    prevalence as a bar on a grey 0--100% track of all respondents. A light
    band widens from the bar into the lower panel, headed ``Of those who
    experienced <parent label>``: its 0--100% axis (``Percent of those who
    experienced ...``) is that group only, and each child is a lighter bar
    there. Every bar carries its interval, value and ``n``; a footnote repeats
    that the lower percentages are not of all respondents.

    Parameters
    ----------
    table, wave, wave_label, labels, parent, domain, domain_value, source_note, title, decimals, width
        As in :func:`build_of_whom`.
    out_stem
        Output path without extension; parent folders are created.

    Returns
    -------
    list of pathlib.Path
        ``<out_stem>.png`` (300 dpi), ``<out_stem>.svg``, ``<out_stem>.pdf``.
    """
    fig = build_of_whom(
        table,
        wave=wave,
        wave_label=wave_label,
        labels=labels,
        parent=parent,
        domain=domain,
        domain_value=domain_value,
        source_note=source_note,
        title=title,
        decimals=decimals,
        width=width,
    )
    return _save(fig, out_stem)


def build_across_waves(
    table: pd.DataFrame,
    *,
    labels: Mapping[str, str],
    wave_labels: Mapping[object, str],
    indicator: str | None = None,
    indicators: Sequence[str] | None = None,
    domain: str = "overall",
    domain_value: object = "All",
    source_note: str | None = None,
    note: str | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    decimals: int = 1,
    width: float = _WIDTH,
) -> Figure:
    """Build the chart of harmonized indicators across survey waves.

    Parameters
    ----------
    table
        Tidy prevalence table (see :data:`REQUIRED_COLUMNS`) holding several
        waves.
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

    Returns
    -------
    matplotlib.figure.Figure
        The chart, attached to an Agg canvas.

    Raises
    ------
    PrevalenceError
        If the table lacks a required column, holds an estimate outside
        [0, 1], has two rows for one indicator in a cell, or neither or both
        of ``indicator`` and ``indicators`` are given.
    """
    _check_table(table)
    if (indicator is None) == (indicators is None):
        raise PrevalenceError(
            "give either `indicator` or `indicators`",
            fix="pass indicator='id' for one indicator or indicators=[...] for several",
        )
    wanted = [str(indicator)] if indicator is not None else [str(i) for i in indicators or []]
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        raise PrevalenceError(
            "`indicators` is empty",
            fix="list at least one indicator to draw across the waves",
        )
    with rc_context(house_style()):
        return _build_across_waves(
            table,
            indicators=wanted,
            labels=labels,
            wave_labels=wave_labels,
            domain=str(domain),
            domain_value=str(domain_value),
            source_note=source_note,
            note=note,
            title=title,
            ylabel=ylabel,
            decimals=decimals,
            width=width,
        )


def plot_across_waves(
    table: pd.DataFrame,
    *,
    labels: Mapping[str, str],
    wave_labels: Mapping[object, str],
    out_stem: str | Path,
    indicator: str | None = None,
    indicators: Sequence[str] | None = None,
    domain: str = "overall",
    domain_value: object = "All",
    source_note: str | None = None,
    note: str | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    decimals: int = 1,
    width: float = _WIDTH,
) -> list[Path]:
    """Write the chart of harmonized indicators across survey waves.

    One column per wave (header ``<wave label>`` / ``n = ...``), a point with
    its interval per indicator, on a 0--100% axis; points are not joined,
    because the waves are separate samples. A wave without the indicator
    gets no point (never a zero) but the words ``not asked in <wave>`` (with
    several indicators: in the legend entry of the indicator). Suppressed
    estimates are named the same way.

    Parameters
    ----------
    table, labels, wave_labels, indicator, indicators, domain, domain_value, source_note, note, title, ylabel, decimals, width
        As in :func:`build_across_waves`.
    out_stem
        Output path without extension; parent folders are created.

    Returns
    -------
    list of pathlib.Path
        ``<out_stem>.png`` (300 dpi), ``<out_stem>.svg``, ``<out_stem>.pdf``.
    """
    fig = build_across_waves(
        table,
        labels=labels,
        wave_labels=wave_labels,
        indicator=indicator,
        indicators=indicators,
        domain=domain,
        domain_value=domain_value,
        source_note=source_note,
        note=note,
        title=title,
        ylabel=ylabel,
        decimals=decimals,
        width=width,
    )
    return _save(fig, out_stem)


# --------------------------------------------------------------------------
# Reading the table
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Estimate:
    """One row of the table, in the units drawn (percent)."""

    indicator: str
    parent: str | None
    status: str  # "ok", "suppressed", "missing" (no estimate), "empty" (n == 0)
    estimate: float
    low: float
    high: float
    n: int | None
    flag: str
    method: str
    level: float
    n_hidden: bool = False  # the row's n must not be published

    @property
    def drawn(self) -> bool:
        return self.status == "ok"

    @property
    def has_interval(self) -> bool:
        return self.drawn and math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def end(self) -> float:
        """Right end (percent) of the bar or whisker, where its labels start."""
        return max(self.estimate, self.high) if self.has_interval else self.estimate


def _check_table(table: pd.DataFrame) -> None:
    check_display_table(table, fix="pass the tidy prevalence table produced by the estimation step")
    for column in ("estimate", "ci_low", "ci_high"):
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.notna() & ((values < -1e-9) | (values > 1 + 1e-9))
        if bad.any():
            first = int(bad.to_numpy().nonzero()[0][0])
            raise PrevalenceError(
                "estimates and interval bounds must be proportions in [0, 1]",
                column=column,
                row=first + 1,
                value=float(values.iloc[first]),
                fix="give proportions, not percentages",
            )


def _is_true(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "t", "yes", "1"}
    if value is None or (not isinstance(value, bool) and pd.isna(value)):
        return False
    return bool(value)


def _text_or_empty(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def _number(value: object) -> float:
    number = pd.to_numeric(value, errors="coerce")
    return float(number) if pd.notna(number) else math.nan


def _estimate_from(row: Mapping[str, object]) -> _Estimate:
    n_value = _number(row["n"])
    n = round(n_value) if math.isfinite(n_value) else None
    estimate = _number(row["estimate"])
    if _is_true(row["suppressed"]):
        status = "suppressed"
    elif n is None or n == 0:
        status = "empty"
    elif math.isnan(estimate):
        status = "missing"
    else:
        status = "ok"
    visible = status == "ok"

    def pct(x: float) -> float:
        return min(max(x, 0.0), 1.0) * 100.0 if visible and math.isfinite(x) else math.nan

    denominator = _text_or_empty(row["denominator"])
    indicator = str(row["indicator"])
    parent = None if denominator in {"", "all"} or denominator == indicator else denominator
    return _Estimate(
        indicator=indicator,
        parent=parent,
        status=status,
        estimate=pct(estimate),
        low=pct(_number(row["ci_low"])),
        high=pct(_number(row["ci_high"])),
        n=n,
        flag=_text_or_empty(row["flag"]),
        method=_text_or_empty(row["ci_method"]),
        level=_number(row["level"]),
        n_hidden=_is_true(row.get(N_HIDDEN)),
    )


def _rows(table: pd.DataFrame, *, wave: object, domain: str, domain_value: str | None = None):
    mask = (table["wave"].astype(str) == str(wave)) & (table["domain"].astype(str) == domain)
    if domain_value is not None:
        mask &= table["domain_value"].astype(str) == domain_value
    return table.loc[mask]


def _cell(rows: pd.DataFrame, *, where: str) -> dict[str, _Estimate]:
    """Estimates of one domain cell keyed by indicator, in table order."""
    cell: dict[str, _Estimate] = {}
    for record in rows.to_dict("records"):
        est = _estimate_from(record)
        if est.indicator in cell:
            raise PrevalenceError(
                "two rows for one indicator in one domain cell",
                column="indicator",
                value=est.indicator,
                fix=f"keep one row per wave, domain, value and indicator ({where})",
            )
        cell[est.indicator] = est
    return cell


def _order(
    indicators: Sequence[str],
    parent_of: Callable[[str], str | None],
    sort_key: Callable[[str], tuple],
) -> list[tuple[str, int]]:
    """Indicators in drawing order with their depth; children under parents."""
    present = set(indicators)
    children: dict[str | None, list[str]] = {}
    for ind in indicators:
        parent = parent_of(ind)
        children.setdefault(parent if parent in present else None, []).append(ind)
    ordered: list[tuple[str, int]] = []
    seen: set[str] = set()

    def visit(ind: str, depth: int) -> None:
        if ind in seen:
            return
        seen.add(ind)
        ordered.append((ind, depth))
        for child in sorted(children.get(ind, []), key=sort_key):
            visit(child, depth + 1)

    for root in sorted(children.get(None, []), key=sort_key):
        visit(root, 0)
    # Indicators caught in a cycle of denominators have no root: draw them flat.
    for ind in sorted((i for i in indicators if i not in seen), key=sort_key):
        visit(ind, 0)
    return ordered


def _status_rank(est: _Estimate) -> int:
    return {"ok": 0, "suppressed": 1, "missing": 2, "empty": 3}[est.status]


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------


def _label(indicator: str, labels: Mapping[str, str]) -> str:
    text = _text_or_empty(labels.get(indicator)) if labels is not None else ""
    return text or indicator


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[1:].lower() != first[1:]:
        return text
    return text[:1].lower() + text[1:]


def _row_label(indicator: str, parent: str | None, labels: Mapping[str, str]) -> str:
    text = _label(indicator, labels)
    if parent is not None:
        text = f"{text} (of those with {_lower_first(_label(parent, labels))})"
    return text


def _domain_name(domain: str) -> str:
    parts = [p.strip().replace("_", " ") for p in domain.split("+")]
    text = " \u00d7 ".join(parts)
    return text[:1].upper() + text[1:]


def _domain_value_name(value: str) -> str:
    return " \u00d7 ".join(p.strip() for p in value.split("+"))


def _pct(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}%"


def _count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _level_text(level: float) -> str:
    if not math.isfinite(level):
        return ""
    percent = level * 100 if level <= 1 else level
    return f"{round(percent, 4):g}%"


def _interval_text(estimates: Sequence[_Estimate]) -> str:
    """E.g. ``95% logit intervals`` from the drawn rows' method and level."""
    pairs: dict[tuple[str, str], None] = {}
    for est in estimates:
        if est.has_interval:
            method = _METHOD_NAMES.get(est.method.lower(), est.method)
            pairs[(_level_text(est.level), method)] = None
    if not pairs:
        return ""
    parts = [" ".join(p for p in (level, method) if p) for level, method in pairs]
    return "; ".join(f"{p} intervals" if p else "intervals" for p in parts)


def _source_line(wave_label: str, n: int | None, estimates: Sequence[_Estimate]) -> str:
    parts = [f"Source: {wave_label}"]
    if n is not None:
        parts.append(f"n = {n:,}")
    interval = _interval_text(estimates)
    if interval:
        parts.append(interval)
    return "; ".join(parts) + "."


def _wrap(text: str, chars: int) -> str:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(
            textwrap.wrap(paragraph, max(chars, 8), break_long_words=False, break_on_hyphens=False)
            or [""]
        )
    return "\n".join(lines)


def _font(size: float, weight: str = "normal", style: str = "normal") -> FontProperties:
    return FontProperties(family=[FONT_FAMILY], size=size, weight=weight, style=style)


def _text_width(text: str, size: float, weight: str = "normal", style: str = "normal") -> float:
    """Width in inches of (possibly multi-line) text in the house font."""
    prop = _font(size, weight, style)
    widths = [
        text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0]
        for line in text.split("\n")
        if line
    ]
    return max(widths, default=0.0) / 72.0


def _text_height(text: str, size: float) -> float:
    """Height in inches of text with ``text.count("\\n") + 1`` lines."""
    return (text.count("\n") + 1) * size * _LINESPACING / 72.0


def _chars_for(width_in: float, size: float) -> int:
    """Characters of average width that fit in ``width_in`` inches."""
    return max(int(width_in * 72.0 / (0.55 * size)), 8)


def _wrap_to(text: str, width_in: float, size: float, **font: str) -> str:
    """Wrap text so that its measured width fits ``width_in`` inches."""
    chars = _chars_for(width_in, size) + 4
    wrapped = _wrap(text, chars)
    while _text_width(wrapped, size, **font) > width_in and chars > 8:
        chars -= 2
        wrapped = _wrap(text, chars)
    return wrapped


# --------------------------------------------------------------------------
# Page layout (all lengths in inches)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """Title block above and notes below the plotting area."""

    title: str
    subtitle: str
    footer: str
    header_height: float
    footer_height: float


def _frame(title: str, subtitle: str, footer_lines: Sequence[str], width: float) -> _Frame:
    inner = width - 2 * _PAD
    title_text = _wrap_to(title, inner, _TITLE_PT, weight="bold")
    subtitle_text = _wrap_to(subtitle, inner, _SUBTITLE_PT) if subtitle else ""
    footer_text = "\n".join(_wrap_to(line, inner, _NOTE_PT) for line in footer_lines if line)
    header = _PAD + _text_height(title_text, _TITLE_PT)
    if subtitle_text:
        header += 0.06 + _text_height(subtitle_text, _SUBTITLE_PT)
    footer = _PAD + (_text_height(footer_text, _NOTE_PT) if footer_text else 0.0)
    return _Frame(title_text, subtitle_text, footer_text, header, footer)


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _draw_frame(fig: Figure, frame: _Frame, height: float) -> None:
    inches = fig.dpi_scale_trans
    fig.text(
        _PAD,
        height - _PAD,
        frame.title,
        transform=inches,
        ha="left",
        va="top",
        fontsize=_TITLE_PT,
        fontweight="bold",
        linespacing=_LINESPACING,
        color=_INK,
    )
    if frame.subtitle:
        fig.text(
            _PAD,
            height - _PAD - _text_height(frame.title, _TITLE_PT) - 0.06,
            frame.subtitle,
            transform=inches,
            ha="left",
            va="top",
            fontsize=_SUBTITLE_PT,
            linespacing=_LINESPACING,
            color=_MUTED,
        )
    if frame.footer:
        fig.text(
            _PAD,
            _PAD,
            frame.footer,
            transform=inches,
            ha="left",
            va="bottom",
            fontsize=_NOTE_PT,
            linespacing=_LINESPACING,
            color=_MUTED,
        )


def _message_figure(frame: _Frame, message: str, width: float) -> Figure:
    """A chart that only says why there is nothing to draw."""
    box = 1.1
    height = frame.header_height + 0.2 + box + 0.2 + frame.footer_height
    fig = _new_figure(width, height)
    _draw_frame(fig, frame, height)
    bottom = frame.footer_height + 0.2
    ax = fig.add_axes((_PAD / width, bottom / height, (width - 2 * _PAD) / width, box / height))
    ax.set_axis_off()
    ax.add_patch(
        mpl.patches.Rectangle(
            (0, 0), 1, 1, transform=ax.transAxes, facecolor="#F4F4F4", edgecolor="none"
        )
    )
    ax.text(
        0.5,
        0.5,
        _wrap_to(message, width - 2 * _PAD - 0.4, _SUBTITLE_PT),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=_SUBTITLE_PT,
        color=_MUTED,
        style="italic",
    )
    return fig


@dataclass(frozen=True)
class _Row:
    indicator: str
    depth: int
    text: str  # wrapped label
    height: float  # vertical space of the row


def _label_rows(
    order: Sequence[tuple[str, int]],
    texts: Mapping[str, str],
    *,
    max_width: float,
    min_height: float,
) -> tuple[list[_Row], float]:
    """Wrap the labels of the left column; return rows and column width."""
    arrow = _text_width(_ARROW + " ", _LABEL_PT)
    rows = []
    column = 0.0
    for ind, depth in order:
        offset = depth * _INDENT + (arrow if depth else 0.0)
        text = _wrap_to(texts[ind], max_width - offset, _LABEL_PT)
        column = max(column, offset + _text_width(text, _LABEL_PT))
        height = max(min_height, _text_height(text, _LABEL_PT) + 0.14)
        rows.append(_Row(ind, depth, text, height))
    return rows, column


def _draw_labels(fig: Figure, ax: Axes, rows: Sequence[_Row], centers: Sequence[float]) -> None:
    transform = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    arrow = _text_width(_ARROW + " ", _LABEL_PT)
    for row, y in zip(rows, centers, strict=True):
        x = _PAD + row.depth * _INDENT
        colour = _INK if row.depth == 0 else _MUTED
        if row.depth:
            first_line = y - (_text_height(row.text, _LABEL_PT) - _LABEL_PT * _LINESPACING / 72) / 2
            ax.text(
                x,
                first_line,
                _ARROW,
                transform=transform,
                ha="left",
                va="center",
                fontsize=_LABEL_PT,
                color=_MUTED,
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
            fontsize=_LABEL_PT,
            linespacing=_LINESPACING,
            color=colour,
            clip_on=False,
        )


def _percent_axis(ax: Axes, xlabel: str, total_height: float) -> None:
    ax.set_xlim(0, 100)
    ax.set_ylim(total_height, 0)
    ax.xaxis.set_major_locator(MultipleLocator(20))
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    ax.set_xlabel(xlabel, labelpad=5)
    ax.set_yticks([])
    ax.spines["left"].set_color(_SPINE)
    ax.spines["bottom"].set_color(_SPINE)
    ax.tick_params(axis="x", pad=3)


def _note_text(
    est: _Estimate,
    *,
    prefix: str = "",
    wrap_width: float | None = None,
) -> str | None:
    """The text that replaces an estimate that is not drawn."""
    if est.status == "suppressed":
        text = f"suppressed ({est.flag})" if est.flag else "suppressed"
    elif est.status == "empty":
        text = "no respondents"
    elif est.status == "missing":
        text = f"no estimate (n = {_count(est.n)})"
    else:
        return None
    text = prefix + text
    if wrap_width is not None:
        text = _wrap_to(text, wrap_width, _NOTE_PT + 0.5, style="italic")
    return text


def _fit_line(text: str, width_in: float, size: float) -> str:
    """``text`` on one line, its list of reasons shortened to fit ``width_in`` inches.

    "A: suppressed (r1; r2; r3)" becomes "A: suppressed (r1; +2 more)", then is cut
    with an ellipsis if even that is too wide.
    """
    if _text_width(text, size, style="italic") <= width_in:
        return text
    head, _, reasons = text.partition(" (")
    parts = reasons.rstrip(")").split("; ") if reasons else []
    if len(parts) > 1:
        text = f"{head} ({parts[0]}; +{len(parts) - 1} more)"
    while len(text) > 4 and _text_width(text, size, style="italic") > width_in:
        text = text[:-2].rstrip() + "…"
    return text


def _draw_note(ax: Axes, y: float, text: str, size: float) -> None:
    ax.annotate(
        text,
        xy=(0, y),
        xycoords="data",
        xytext=(5, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=size,
        style="italic",
        color=_MUTED,
        linespacing=1.1,
        annotation_clip=False,
        bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        zorder=4,
    )


def _flag_marks(estimates: Sequence[_Estimate]) -> dict[str, str]:
    """Footnote mark per distinct caution flag on a drawn estimate."""
    flags = list(dict.fromkeys(e.flag for e in estimates if e.drawn and e.flag))
    return {
        flag: _FLAG_MARKS[i] if i < len(_FLAG_MARKS) else f"[{i + 1}]"
        for i, flag in enumerate(flags)
    }


def _count_offset(value: str) -> float:
    """Offset (points) of the ``n = ...`` label after the bold value label."""
    return _VALUE_OFFSET + 72 * _text_width(value, _VALUE_PT, weight="bold") + 5


def _tint(colour: str, amount: float) -> tuple[float, float, float]:
    """Mix ``colour`` with white; ``amount`` 0 keeps it, 1 gives white."""
    r, g, b = mpl.colors.to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


# --------------------------------------------------------------------------
# Chart 1: bars by indicator
# --------------------------------------------------------------------------


def _build_by_indicator(
    table: pd.DataFrame,
    *,
    wave: object,
    wave_label: str,
    labels: Mapping[str, str],
    domain: str,
    domain_value: str,
    source_note: str | None,
    title: str | None,
    xlabel: str,
    decimals: int,
    width: float,
) -> Figure:
    if domain == "overall":
        cell_name = "All respondents"
    else:
        cell_name = f"{_domain_name(domain)}: {_domain_value_name(domain_value)}"
    title = title or "Prevalence by indicator"
    subtitle = f"{wave_label} \u00b7 {cell_name}"
    where = f"wave {wave}, {domain} = {domain_value}"
    cell = _cell(_rows(table, wave=wave, domain=domain, domain_value=domain_value), where=where)
    estimates = list(cell.values())

    marks = _flag_marks(estimates)
    footer = [_source_line(wave_label, _base_n(cell), estimates)]
    if source_note:
        footer.append(source_note)

    if not estimates:
        frame = _frame(title, subtitle, footer, width)
        return _message_figure(frame, f"No estimates for {wave_label}, {cell_name}.", width)

    if not any(e.drawn for e in estimates):
        subtitle += "\nNo estimate can be shown: every cell is suppressed or has no respondents."
    if any(e.parent is not None for e in estimates):
        footer.append(_CONDITIONAL_NOTE.format(mark="Lighter bars"))
    footer.extend(f"{mark} {flag}" for flag, mark in marks.items())
    frame = _frame(title, subtitle, footer, width)

    position = {ind: i for i, ind in enumerate(cell)}

    def sort_key(ind: str) -> tuple:
        est = cell[ind]
        value = -est.estimate if est.drawn else 0.0
        return (_status_rank(est), value, position[ind])

    order = _order(list(cell), lambda ind: cell[ind].parent, sort_key)
    texts = {ind: _row_label(ind, cell[ind].parent, labels) for ind, _ in order}
    rows, column = _label_rows(order, texts, max_width=0.36 * width, min_height=_ROW_MIN)

    # Horizontal layout: label column | axes | room for the value labels.
    left = _PAD + column + _GAP
    value_texts: dict[str, tuple[str, str]] = {}
    room = 0.25  # the "100%" tick label needs half its width right of the axes
    available = width - left - _PAD
    for row in rows:
        est = cell[row.indicator]
        if not est.drawn:
            continue
        value = _pct(est.estimate, decimals) + marks.get(est.flag, "")
        count = f"n = {_count(est.n)}"
        value_texts[row.indicator] = (value, count)
        extent = (_count_offset(value) + 72 * _text_width(count, _VALUE_PT)) / 72
        if est.end > 0:
            room = max(room, available - (available - extent - 0.03) / (est.end / 100))
    axes_width = available - room

    rows_height = sum(r.height for r in rows) + 0.16
    height = frame.header_height + 0.22 + rows_height + _AXIS_BLOCK + 0.12 + frame.footer_height
    fig = _new_figure(width, height)
    _draw_frame(fig, frame, height)
    bottom = frame.footer_height + 0.12 + _AXIS_BLOCK
    ax = fig.add_axes((left / width, bottom / height, axes_width / width, rows_height / height))
    _percent_axis(ax, xlabel, rows_height)

    centers = []
    y = 0.08
    for row in rows:
        centers.append(y + row.height / 2)
        y += row.height
    _draw_labels(fig, ax, rows, centers)

    note_width = axes_width - 0.15
    for row, yc in zip(rows, centers, strict=True):
        est = cell[row.indicator]
        if not est.drawn:
            _draw_note(ax, yc, _note_text(est, wrap_width=note_width), _NOTE_PT + 0.5)
            continue
        depth = min(row.depth or int(est.parent is not None), 2)
        face = _tint(PALETTE[0], (0.0, 0.5, 0.68)[depth])
        ax.barh(
            yc,
            est.estimate,
            height=_BAR_HEIGHT,
            color=face,
            edgecolor=PALETTE[0] if depth else face,
            linewidth=0.8 if depth else 0.0,
            zorder=2,
        )
        if est.has_interval:
            cap = _BAR_HEIGHT * 0.3
            ax.hlines(yc, est.low, est.high, colors=_WHISKER, linewidth=1.0, zorder=3)
            ax.vlines(
                [est.low, est.high], yc - cap, yc + cap, colors=_WHISKER, linewidth=1.0, zorder=3
            )
        value, count = value_texts[row.indicator]
        ax.annotate(
            value,
            xy=(est.end, yc),
            xytext=(_VALUE_OFFSET, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=_VALUE_PT,
            fontweight="bold",
            color=_INK,
            annotation_clip=False,
        )
        ax.annotate(
            count,
            xy=(est.end, yc),
            xytext=(_count_offset(value), 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=_VALUE_PT,
            color=_MUTED,
            annotation_clip=False,
        )
    return fig


# --------------------------------------------------------------------------
# Chart 2: dots by domain value
# --------------------------------------------------------------------------


def _base_n(cell: Mapping[str, _Estimate]) -> int | None:
    """Respondents in a cell: largest n of the unconditional indicators."""
    base = [e.n for e in cell.values() if e.parent is None and e.n is not None]
    anyn = [e.n for e in cell.values() if e.n is not None]
    return max(base or anyn) if anyn else None


def _build_by_domain(
    table: pd.DataFrame,
    *,
    wave: object,
    wave_label: str,
    labels: Mapping[str, str],
    domain: str,
    source_note: str | None,
    indicators: Sequence[str] | None,
    show_overall: bool,
    title: str | None,
    xlabel: str,
    width: float,
) -> Figure:
    domain_name = _domain_name(domain)
    if title is None:
        title = (
            "Prevalence, all respondents"
            if domain == "overall"
            else f"Prevalence by {domain_name[:1].lower() + domain_name[1:]}"
        )
    rows_table = _rows(table, wave=wave, domain=domain)
    values = list(dict.fromkeys(rows_table["domain_value"].astype(str)))
    cells = {
        v: _cell(
            rows_table.loc[rows_table["domain_value"].astype(str) == v], where=f"{domain} = {v}"
        )
        for v in values
    }
    overall: dict[str, _Estimate] = {}
    if show_overall and domain != "overall":
        overall_rows = _rows(table, wave=wave, domain="overall")
        first = list(dict.fromkeys(overall_rows["domain_value"].astype(str)))[:1]
        if first:
            overall = _cell(
                overall_rows.loc[overall_rows["domain_value"].astype(str) == first[0]],
                where="overall",
            )

    if indicators is None:
        wanted = list(dict.fromkeys(i for c in cells.values() for i in c))
    else:
        wanted = list(dict.fromkeys(indicators))
    all_estimates = [c[i] for c in cells.values() for i in wanted if i in c]
    reference = [overall[i] for i in wanted if i in overall]

    value_n = {v: _base_n(cells[v]) for v in values}
    total_n = _base_n(overall) if overall else None
    if total_n is None and values and all(n is not None for n in value_n.values()):
        total_n = sum(n for n in value_n.values() if n is not None)
    footer = [_source_line(wave_label, total_n, all_estimates + reference)]
    if source_note:
        footer.append(source_note)
    subtitle = wave_label

    if not values or not wanted:
        frame = _frame(title, subtitle, footer, width)
        what = f"{domain_name.lower()}" if domain != "overall" else "all respondents"
        return _message_figure(frame, f"No estimates by {what} for {wave_label}.", width)

    def parent_of(ind: str) -> str | None:
        for source in (*cells.values(), overall):
            if ind in source and source[ind].parent is not None:
                return source[ind].parent
        return None

    position = {ind: i for i, ind in enumerate(wanted)}
    if indicators is None:

        def sort_key(ind: str) -> tuple:
            ref = overall.get(ind)
            if ref is not None and ref.drawn:
                return (0, -ref.estimate, position[ind])
            shown = [c[ind].estimate for c in cells.values() if ind in c and c[ind].drawn]
            if shown:
                return (0, -sum(shown) / len(shown), position[ind])
            return (1, 0.0, position[ind])

    else:

        def sort_key(ind: str) -> tuple:
            return (position[ind],)

    order = _order(wanted, parent_of, sort_key)
    conditional = {ind for ind in wanted if parent_of(ind) is not None}
    texts = {ind: _row_label(ind, parent_of(ind), labels) for ind, _ in order}
    k = len(values)
    band_min = k * _SLOT + 0.16
    rows, column = _label_rows(order, texts, max_width=0.36 * width, min_height=band_min)

    if not any(e.drawn for e in all_estimates):
        subtitle += "\nNo estimate can be shown: every cell is suppressed or has no respondents."
    if conditional:
        footer.append(_CONDITIONAL_NOTE.format(mark="Open markers"))
    if reference and any(e.drawn for e in reference):
        footer.append("Dashed ticks mark the estimate for all respondents.")
    marks = _flag_marks(all_estimates)
    footer.extend(f"{mark} {flag}" for flag, mark in marks.items())

    reference_n = _base_n(overall) if any(e.drawn for e in reference) else None
    ncol, handles, entries = _domain_legend(values, value_n, reference_n, width - 2 * _PAD)
    legend_rows = math.ceil(len(entries) / ncol)
    legend_height = legend_rows * _VALUE_PT * 1.75 / 72

    frame = _frame(title, subtitle, footer, width)
    left = _PAD + column + _GAP
    right = 0.3
    axes_width = width - left - right - _PAD * 0.5
    rows_height = sum(r.height for r in rows)
    top_block = frame.header_height + 0.16 + legend_height + 0.14
    height = top_block + rows_height + _AXIS_BLOCK + 0.12 + frame.footer_height
    fig = _new_figure(width, height)
    _draw_frame(fig, frame, height)
    _top_legend(fig, handles, entries, frame, width, height, ncol, handlelength=1.8)
    bottom = frame.footer_height + 0.12 + _AXIS_BLOCK
    ax = fig.add_axes((left / width, bottom / height, axes_width / width, rows_height / height))
    _percent_axis(ax, xlabel, rows_height)

    centers = []
    y = 0.0
    for i, row in enumerate(rows):
        centers.append(y + row.height / 2)
        if i:
            ax.axhline(y, color=_GRID, linewidth=0.6, zorder=1)
        y += row.height
    _draw_labels(fig, ax, rows, centers)

    for row, yc in zip(rows, centers, strict=True):
        ref = overall.get(row.indicator)
        top = yc - row.height / 2
        first_slot = yc - k * _SLOT / 2 + _SLOT / 2
        if ref is not None and ref.drawn:
            ax.vlines(
                ref.estimate,
                top + 0.05,
                top + row.height - 0.05,
                colors=_REFERENCE,
                linewidth=1.1,
                linestyles=(0, (3, 2)),
                zorder=2,
            )
        for j, v in enumerate(values):
            ys = first_slot + j * _SLOT
            est = cells[v].get(row.indicator)
            if est is None:
                _draw_note(ax, ys, f"{_domain_value_name(v)}: not estimated", _NOTE_PT)
                continue
            text = _note_text(est, prefix=f"{_domain_value_name(v)}: ")
            if text is not None:
                _draw_note(ax, ys, _fit_line(text, axes_width + right - 0.1, _NOTE_PT), _NOTE_PT)
                continue
            colour, marker = _group_style(j)
            if est.has_interval:
                ax.hlines(ys, est.low, est.high, colors=colour, linewidth=1.4, zorder=3)
            open_marker = row.indicator in conditional
            ax.plot(
                [est.estimate],
                [ys],
                linestyle="none",
                marker=marker,
                markersize=6.5,
                markerfacecolor="white" if open_marker else colour,
                markeredgecolor=colour if open_marker else "white",
                markeredgewidth=1.2 if open_marker else 0.6,
                zorder=4,
            )
            mark = marks.get(est.flag, "")
            if mark:
                ax.annotate(
                    mark,
                    xy=(est.end, ys),
                    xytext=(2, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    fontsize=_NOTE_PT,
                    color=_MUTED,
                    annotation_clip=False,
                )
    return fig


def _domain_legend(
    values: Sequence[str],
    value_n: Mapping[str, int | None],
    reference_n: int | None,
    available: float,
) -> tuple[int, list[Line2D], list[str]]:
    """Legend of the dot chart: one entry per domain value, then all respondents."""
    handles: list[Line2D] = []
    entries: list[str] = []
    for j, value in enumerate(values):
        colour, marker = _group_style(j)
        handles.append(Line2D([], [], color=colour, marker=marker, markersize=6.5, linewidth=1.4))
        name = _domain_value_name(value)
        n = value_n.get(value)
        entries.append(name if n is None else f"{name} (n = {_count(n)})")
    if reference_n is not None:
        handles.append(
            Line2D(
                [], [], color=_REFERENCE, marker="|", markersize=10, markeredgewidth=1.2, ls="none"
            )
        )
        entries.append(f"All respondents (n = {_count(reference_n)})")
    return _legend_grid(handles, entries, available)


def _legend_grid(
    handles: Sequence[Line2D], entries: Sequence[str], available: float
) -> tuple[int, list[Line2D], list[str]]:
    """Most legend columns that fit; entries reordered to read row by row.

    Matplotlib fills legend columns top to bottom; the returned order makes
    the legend read left to right, then top to bottom.
    """
    handle = (1.8 + 0.5) * _VALUE_PT / 72  # handlelength + handletextpad, in inches
    spacing = 1.4 * _VALUE_PT / 72  # columnspacing
    widths = [handle + _text_width(e, _VALUE_PT) for e in entries]
    m = len(entries)
    for ncol in range(m, 0, -1):
        nrows = math.ceil(m / ncol)
        columns = [
            max(widths[r * ncol + c] for r in range(nrows) if r * ncol + c < m) for c in range(ncol)
        ]
        if sum(columns) + spacing * (ncol - 1) <= available or ncol == 1:
            break
    picks = [r * ncol + c for c in range(ncol) for r in range(nrows) if r * ncol + c < m]
    return ncol, [handles[i] for i in picks], [entries[i] for i in picks]


def _group_style(j: int) -> tuple[str, str]:
    """Colour and marker of the ``j``-th domain value."""
    return PALETTE[j % len(PALETTE)], MARKERS[(j + j // len(PALETTE)) % len(MARKERS)]


# --------------------------------------------------------------------------
# Shared by the heatmap, "of whom" and across-waves charts
# --------------------------------------------------------------------------


def _known_indicators(table: pd.DataFrame, indicators: Sequence[str] | None) -> list[str] | None:
    """``indicators`` as text; refuse ids that are nowhere in the table."""
    if indicators is None:
        return None
    indicators = [str(i) for i in indicators]
    known = set(table["indicator"].astype(str))
    unknown = [i for i in indicators if i not in known]
    if unknown:
        raise PrevalenceError(
            f"indicator(s) {', '.join(unknown)} not in the prevalence table",
            column="indicator",
            fix="list only indicators that the estimation step produced, "
            "or leave `indicators` empty to draw all of them",
        )
    return indicators


def _published_n(cell: Mapping[str, _Estimate]) -> tuple[int | None, bool]:
    """Respondents of a cell as it may be printed: ``(n, withheld)``.

    ``withheld`` is true when an unconditional row of the cell has its ``n``
    hidden; the count is then ``None``.
    """
    base = [e for e in cell.values() if e.parent is None] or list(cell.values())
    if any(e.n_hidden for e in base):
        return None, True
    return _base_n(cell), False


def _n_label(n: int | None, withheld: bool) -> str:
    if withheld:
        return "n withheld"
    return "" if n is None else f"n = {n:,}"


def _est_n_label(est: _Estimate) -> str:
    """``n = ...`` of one estimate, or ``n withheld``."""
    return _n_label(est.n, est.n_hidden) or f"n = {_count(est.n)}"


def _cell_name(domain: str, domain_value: str) -> str:
    if domain == "overall":
        return "All respondents"
    return f"{_domain_name(domain)}: {_domain_value_name(domain_value)}"


def _value_room(
    estimates: Sequence[_Estimate], texts: Mapping[str, tuple[str, str]], available: float
) -> float:
    """Space (inches) right of a 0--100% axis for the value and ``n`` labels."""
    room = 0.25  # the "100%" tick label needs half its width right of the axes
    for est in estimates:
        if est.indicator not in texts or not est.drawn:
            continue
        value, count = texts[est.indicator]
        extent = (_count_offset(value) + 72 * _text_width(count, _VALUE_PT)) / 72
        if est.end > 0:
            room = max(room, available - (available - extent - 0.03) / (est.end / 100))
    return room


def _draw_value_labels(ax: Axes, x: float, y: float, value: str, count: str) -> None:
    """Bold value then muted ``n`` right of ``(x, y)``, as in the bar chart."""
    ax.annotate(
        value,
        xy=(x, y),
        xytext=(_VALUE_OFFSET, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=_VALUE_PT,
        fontweight="bold",
        color=_INK,
        annotation_clip=False,
    )
    ax.annotate(
        count,
        xy=(x, y),
        xytext=(_count_offset(value), 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=_VALUE_PT,
        color=_MUTED,
        annotation_clip=False,
    )


def _draw_bar(ax: Axes, y: float, est: _Estimate, *, conditional: bool) -> None:
    """One bar with its interval, in the style of :func:`plot_by_indicator`."""
    face = _tint(PALETTE[0], 0.5) if conditional else PALETTE[0]
    ax.barh(
        y,
        est.estimate,
        height=_BAR_HEIGHT,
        color=face,
        edgecolor=PALETTE[0] if conditional else face,
        linewidth=0.8 if conditional else 0.0,
        zorder=2,
    )
    if est.has_interval:
        cap = _BAR_HEIGHT * 0.3
        ax.hlines(y, est.low, est.high, colors=_WHISKER, linewidth=1.0, zorder=3)
        ax.vlines([est.low, est.high], y - cap, y + cap, colors=_WHISKER, linewidth=1.0, zorder=3)


def _relative_luminance(colour: object) -> float:
    channels = []
    for c in mpl.colors.to_rgb(colour):
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _text_colour_on(face: object) -> str:
    """White or ink, whichever has the higher contrast ratio on ``face``."""
    lum = _relative_luminance(face)
    on_white = 1.05 / (lum + 0.05)
    on_ink = (lum + 0.05) / (_relative_luminance(_INK) + 0.05)
    return "white" if on_white > on_ink else _INK


def _colormap(cmap: str | mpl.colors.Colormap | None) -> mpl.colors.Colormap:
    if cmap is None:
        return _HEAT_CMAP
    if isinstance(cmap, str):
        return mpl.colormaps[cmap]
    return cmap


# --------------------------------------------------------------------------
# Chart 3: heatmap of indicators by domain value
# --------------------------------------------------------------------------

#: Default heatmap scale: ColorBrewer "Blues" (single hue, light to dark,
#: colour-blind safe and monotone in greyscale) without its near-white end.
_HEAT_CMAP = mpl.colors.LinearSegmentedColormap.from_list(
    "prevalence_blues", mpl.colormaps["Blues"](np.linspace(0.08, 1.0, 256))
)
_HEAT_CELL_MAX = 1.05  # widest cell (inches)
_HEAT_ROW_MIN = 0.40  # lowest row (inches)
_HEAT_GAP = 0.04  # white space between cells
_HEAT_SPLIT = 0.14  # extra space after the "all respondents" column
_COLOURBAR_WIDTH = 2.4
_COLOURBAR_HEIGHT = 0.13
_NOT_SHOWN_FACE = "#EDEDED"
_HATCH_INK = "#A3A3A3"
_SUPPRESSED_MARK = "\u2013"  # en dash
_NOT_AVAILABLE_MARK = "n/a"


def _draw_cell_patch(ax: Axes, x: float, y: float, w: float, h: float, *, hatched: bool) -> None:
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


def _build_heatmap(
    table: pd.DataFrame,
    *,
    wave: object,
    wave_label: str,
    labels: Mapping[str, str],
    domain: str,
    source_note: str | None,
    indicators: Sequence[str] | None,
    show_overall: bool,
    title: str | None,
    decimals: int,
    cmap: mpl.colors.Colormap,
    width: float,
) -> Figure:
    domain_name = _domain_name(domain)
    if title is None:
        title = (
            "Prevalence, all respondents"
            if domain == "overall"
            else f"Prevalence by {domain_name[:1].lower() + domain_name[1:]}"
        )
    rows_table = _rows(table, wave=wave, domain=domain)
    values = list(dict.fromkeys(rows_table["domain_value"].astype(str)))
    cells = {
        v: _cell(
            rows_table.loc[rows_table["domain_value"].astype(str) == v],
            where=f"wave {wave}, {domain} = {v}",
        )
        for v in values
    }
    overall: dict[str, _Estimate] = {}
    if show_overall and domain != "overall" and values:
        overall_rows = _rows(table, wave=wave, domain="overall")
        first = list(dict.fromkeys(overall_rows["domain_value"].astype(str)))[:1]
        if first:
            overall = _cell(
                overall_rows.loc[overall_rows["domain_value"].astype(str) == first[0]],
                where="overall",
            )
    columns: list[tuple[str, Mapping[str, _Estimate]]] = []
    if overall:
        columns.append(("All respondents", overall))
    columns.extend((_domain_value_name(v), cells[v]) for v in values)

    if indicators is None:
        wanted = list(dict.fromkeys(i for c in cells.values() for i in c))
    else:
        wanted = list(dict.fromkeys(indicators))
    shown = [c[i] for _, c in columns for i in wanted if i in c]

    if overall:
        total_n, withheld = _published_n(overall)
    else:
        counts = [_published_n(cells[v]) for v in values]
        withheld = any(w for _, w in counts)
        known = [n for n, _ in counts if n is not None]
        total_n = sum(known) if counts and len(known) == len(counts) else None
    footer = [_source_line(wave_label, None if withheld else total_n, shown)]
    if source_note:
        footer.append(source_note)
    subtitle = wave_label

    if not values or not wanted:
        frame = _frame(title, subtitle, footer, width)
        what = domain_name.lower() if domain != "overall" else "all respondents"
        return _message_figure(frame, f"No estimates by {what} for {wave_label}.", width)

    def parent_of(ind: str) -> str | None:
        for _, source in columns:
            if ind in source and source[ind].parent is not None:
                return source[ind].parent
        return None

    position = {ind: i for i, ind in enumerate(wanted)}
    if indicators is None:

        def sort_key(ind: str) -> tuple:
            ref = overall.get(ind)
            if ref is not None and ref.drawn:
                return (0, -ref.estimate, position[ind])
            drawn = [c[ind].estimate for c in cells.values() if ind in c and c[ind].drawn]
            if drawn:
                return (0, -sum(drawn) / len(drawn), position[ind])
            return (1, 0.0, position[ind])

    else:

        def sort_key(ind: str) -> tuple:
            return (position[ind],)

    order = _order(wanted, parent_of, sort_key)
    conditional = any(parent_of(ind) is not None for ind in wanted)
    texts = {ind: _row_label(ind, parent_of(ind), labels) for ind, _ in order}
    rows, column = _label_rows(order, texts, max_width=0.3 * width, min_height=_HEAT_ROW_MIN)

    if not any(e.drawn for e in shown):
        subtitle += "\nNo estimate can be shown: every cell is suppressed or has no respondents."
    if conditional:
        footer.append(_CONDITIONAL_NOTE.format(mark=f"Rows marked {_ARROW}"))
    marks = _flag_marks(shown)
    footer.extend(f"{mark} {flag}" for flag, mark in marks.items())

    # What the grey cells mean, for the legend under the grid.
    suppressed_flags: dict[str, None] = {}
    has_suppressed = False
    missing_reasons: dict[str, None] = {}
    for row in rows:
        for _, source in columns:
            est = source.get(row.indicator)
            if est is None:
                missing_reasons["not estimated"] = None
            elif est.status == "suppressed":
                has_suppressed = True
                if est.flag:
                    suppressed_flags[est.flag] = None
            elif est.status == "empty":
                missing_reasons["no respondents"] = None
            elif est.status == "missing":
                missing_reasons["no estimate"] = None
    keys: list[tuple[str, bool, str]] = []  # (mark, hatched, text)
    if has_suppressed:
        reason = "; ".join(suppressed_flags)
        keys.append((_SUPPRESSED_MARK, True, f"suppressed ({reason})" if reason else "suppressed"))
    if missing_reasons:
        keys.append((_NOT_AVAILABLE_MARK, False, "; ".join(missing_reasons)))

    # Horizontal layout: label column | cells.
    left = _PAD + column + _GAP
    available = width - left - _PAD
    k = len(columns)
    split = _HEAT_SPLIT if overall else 0.0
    cell_w = min(_HEAT_CELL_MAX, (available - split) / k)
    grid_w = k * cell_w + split
    x0s = [j * cell_w + (split if overall and j > 0 else 0.0) for j in range(k)]

    cell_texts: dict[tuple[str, int], str] = {}
    for row in rows:
        for j, (_, source) in enumerate(columns):
            est = source.get(row.indicator)
            if est is not None and est.drawn:
                cell_texts[(row.indicator, j)] = _pct(est.estimate, decimals) + marks.get(
                    est.flag, ""
                )
    value_pt = _VALUE_PT
    inner = cell_w - _HEAT_GAP - 0.06
    widest = max((_text_width(t, _VALUE_PT) for t in cell_texts.values()), default=0.0)
    if widest > inner:
        value_pt = max(6.0, _VALUE_PT * inner / widest)

    names = [name for name, _ in columns]
    counts_text = [_n_label(*_published_n(source)) for _, source in columns]
    head_width = cell_w - 0.06
    rotate = any(
        _text_width(word, _TICK_PT) > head_width for name in names for word in name.split()
    ) or any(_text_width(c, _TICK_PT) > head_width for c in counts_text)
    if rotate:
        headers = [f"{n} ({c})" if c else n for n, c in zip(names, counts_text, strict=True)]
        header_h = max(_text_width(h, _TICK_PT) for h in headers)
    else:
        headers = [
            _wrap_to(n, head_width, _TICK_PT) + (f"\n{c}" if c else "")
            for n, c in zip(names, counts_text, strict=True)
        ]
        header_h = max(_text_height(h, _TICK_PT) for h in headers)

    # Legend block under the grid: colour bar, then keys to its right or below.
    bar_w = min(_COLOURBAR_WIDTH, grid_w)
    bar_block = 0.3 + _COLOURBAR_HEIGHT + 0.42  # gap, bar, ticks and "Percent"
    swatch_w, swatch_h = 0.4, 0.24
    keys_x = left + bar_w + 0.4
    beside = width - _PAD - keys_x - swatch_w - 0.1 >= 1.3
    if not beside:
        keys_x = left
    key_text_w = width - _PAD - keys_x - swatch_w - 0.1
    key_texts = [_wrap_to(text, key_text_w, _VALUE_PT) for _, _, text in keys]
    key_heights = [max(swatch_h, _text_height(t, _VALUE_PT)) + 0.08 for t in key_texts]
    if beside:
        legend_h = max(bar_block, 0.3 + sum(key_heights))
    else:
        legend_h = bar_block + (0.1 + sum(key_heights) if keys else 0.0)

    frame = _frame(title, subtitle, footer, width)
    rows_height = sum(r.height for r in rows)
    base = frame.footer_height + 0.12
    grid_bottom = base + legend_h
    height = grid_bottom + rows_height + header_h + 0.1 + 0.22 + frame.header_height
    fig = _new_figure(width, height)
    _draw_frame(fig, frame, height)

    ax = fig.add_axes((left / width, grid_bottom / height, grid_w / width, rows_height / height))
    ax.set_xlim(0, grid_w)
    ax.set_ylim(rows_height, 0)
    ax.grid(False)
    ax.set_facecolor("none")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_yticks([])
    ax.xaxis.tick_top()
    ax.set_xticks([x + cell_w / 2 for x in x0s], headers)
    ax.tick_params(
        axis="x",
        which="both",
        length=0,
        pad=4,
        labelsize=_TICK_PT,
        top=True,
        labeltop=True,
        bottom=False,
        labelbottom=False,
        labelrotation=90 if rotate else 0,
    )

    centers = []
    y = 0.0
    for row in rows:
        centers.append(y + row.height / 2)
        y += row.height
    _draw_labels(fig, ax, rows, centers)

    half_gap = _HEAT_GAP / 2
    for row, yc in zip(rows, centers, strict=True):
        top = yc - row.height / 2 + half_gap
        h = row.height - _HEAT_GAP
        for j, (_, source) in enumerate(columns):
            x = x0s[j] + half_gap
            w = cell_w - _HEAT_GAP
            est = source.get(row.indicator)
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
                    cell_texts[(row.indicator, j)],
                    ha="center",
                    va="center",
                    fontsize=value_pt,
                    color=_text_colour_on(face),
                    zorder=3,
                )
                continue
            suppressed = est is not None and est.status == "suppressed"
            _draw_cell_patch(ax, x, top, w, h, hatched=suppressed)
            ax.text(
                x + w / 2,
                yc,
                _SUPPRESSED_MARK if suppressed else _NOT_AVAILABLE_MARK,
                ha="center",
                va="center",
                fontsize=value_pt + (1.5 if suppressed else -0.5),
                fontweight="bold" if suppressed else "normal",
                color=_INK if suppressed else _MUTED,
                bbox={
                    "boxstyle": "square,pad=0.25",
                    "facecolor": _NOT_SHOWN_FACE,
                    "edgecolor": "none",
                }
                if suppressed
                else None,
                zorder=3,
            )

    # Colour bar.
    bar_y = grid_bottom - 0.3 - _COLOURBAR_HEIGHT
    cax = fig.add_axes((left / width, bar_y / height, bar_w / width, _COLOURBAR_HEIGHT / height))
    scale = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(vmin=0.0, vmax=100.0), cmap=cmap)
    bar = fig.colorbar(scale, cax=cax, orientation="horizontal")
    bar.set_ticks([0, 20, 40, 60, 80, 100])
    bar.ax.xaxis.set_major_formatter(mpl.ticker.StrMethodFormatter("{x:.0f}"))
    bar.outline.set_edgecolor(_SPINE)
    bar.outline.set_linewidth(0.6)
    bar.set_label("Percent", fontsize=_TICK_PT, labelpad=3, color=_INK)
    cax.tick_params(axis="x", length=2.5, width=0.6, pad=2, labelsize=_TICK_PT)
    cax.grid(False)
    cax.minorticks_off()

    # Keys of the grey cells.
    inches = fig.dpi_scale_trans
    key_top = grid_bottom - 0.3 if beside else bar_y - 0.42 - 0.1
    for (mark, hatched, _), text, key_h in zip(keys, key_texts, key_heights, strict=True):
        sy = key_top - (key_h - 0.08) / 2 - swatch_h / 2
        fig.add_artist(
            mpl.patches.Rectangle(
                (keys_x, sy),
                swatch_w,
                swatch_h,
                transform=inches,
                facecolor=_NOT_SHOWN_FACE,
                edgecolor="none",
                linewidth=0,
            )
        )
        if hatched:
            fig.add_artist(
                mpl.patches.Rectangle(
                    (keys_x, sy),
                    swatch_w,
                    swatch_h,
                    transform=inches,
                    facecolor="none",
                    edgecolor=_HATCH_INK,
                    linewidth=0,
                    hatch="////",
                )
            )
        fig.text(
            keys_x + swatch_w / 2,
            sy + swatch_h / 2,
            mark,
            transform=inches,
            ha="center",
            va="center",
            fontsize=(_VALUE_PT + 1.5) if hatched else (_VALUE_PT - 0.5),
            fontweight="bold" if hatched else "normal",
            color=_INK if hatched else _MUTED,
            bbox={"boxstyle": "square,pad=0.2", "facecolor": _NOT_SHOWN_FACE, "edgecolor": "none"}
            if hatched
            else None,
        )
        fig.text(
            keys_x + swatch_w + 0.1,
            sy + swatch_h / 2,
            text,
            transform=inches,
            ha="left",
            va="center",
            fontsize=_VALUE_PT,
            linespacing=_LINESPACING,
            color=_INK,
        )
        key_top -= key_h
    return fig


# --------------------------------------------------------------------------
# Chart 4: "of whom" -- a parent indicator and its conditional breakdown
# --------------------------------------------------------------------------

_TRACK = "#E8E8E8"  # 0-100% track behind the parent bar
_GROUP_TINT = 0.9  # tint of the panel of the parent group
_FUNNEL = 0.42  # height (inches) of the band joining the parent bar to its panel


def _build_of_whom(
    table: pd.DataFrame,
    *,
    wave: object,
    wave_label: str,
    labels: Mapping[str, str],
    parent: str,
    domain: str,
    domain_value: str,
    source_note: str | None,
    title: str | None,
    decimals: int,
    width: float,
) -> Figure:
    cell_name = _cell_name(domain, domain_value)
    parent_label = _label(parent, labels)
    group = _lower_first(parent_label)
    title = title or f"{parent_label}: prevalence and breakdown"
    subtitle = f"{wave_label} \u00b7 {cell_name}"
    where = f"wave {wave}, {domain} = {domain_value}"
    cell = _cell(_rows(table, wave=wave, domain=domain, domain_value=domain_value), where=where)
    head = cell.get(parent)
    position = {ind: i for i, ind in enumerate(cell)}
    children = sorted(
        (e for e in cell.values() if e.parent == parent and e.indicator != parent),
        key=lambda e: (_status_rank(e), -e.estimate if e.drawn else 0.0, position[e.indicator]),
    )
    estimates = ([head] if head is not None else []) + children

    n = None
    if head is not None and not head.n_hidden:
        n = head.n
    footer = [_source_line(wave_label, n, estimates)]
    if source_note:
        footer.append(source_note)
    group_heading = f"Of those who experienced {group}"
    if children:
        footer.append(
            f"Percentages in the shaded panel are of the respondents who experienced {group}, "
            "not of all respondents."
        )
    marks = _flag_marks(estimates)
    footer.extend(f"{mark} {flag}" for flag, mark in marks.items())

    if not estimates:
        frame = _frame(title, subtitle, footer, width)
        return _message_figure(
            frame, f"No estimates of {group} for {wave_label}, {cell_name}.", width
        )
    if not any(e.drawn for e in estimates):
        subtitle += "\nNo estimate can be shown: every cell is suppressed or has no respondents."
    frame = _frame(title, subtitle, footer, width)

    order = [(parent, 0)] + [(c.indicator, 1) for c in children]
    texts = {parent: parent_label} | {c.indicator: _label(c.indicator, labels) for c in children}
    rows, column = _label_rows(order, texts, max_width=0.36 * width, min_height=_ROW_MIN)
    head_row, child_rows = rows[0], rows[1:]

    left = _PAD + column + _GAP
    available = width - left - _PAD
    value_texts: dict[str, tuple[str, str]] = {}
    for est in estimates:
        if est.drawn:
            value = _pct(est.estimate, decimals) + marks.get(est.flag, "")
            value_texts[est.indicator] = (value, _est_n_label(est))
    axes_width = available - _value_room(estimates, value_texts, available)

    # Vertical layout (inches), top to bottom.
    funnel = _FUNNEL if head is not None and head.drawn else 0.2
    heading_h = _text_height("All respondents", _LABEL_PT)
    head_h = head_row.height + 0.08
    panel_x0 = _PAD - 0.08
    panel_x1 = width - _PAD + 0.08
    band_text = _wrap_to(group_heading, panel_x1 - panel_x0 - 0.2, _LABEL_PT, weight="bold")
    band_h = _text_height(band_text, _LABEL_PT) + 0.22
    child_h = (sum(r.height for r in child_rows) if child_rows else _ROW_MIN) + 0.16
    xlabel = _wrap_to(f"Percent of those who experienced {group}", axes_width, _LABEL_PT)
    axis_block = _AXIS_BLOCK + _text_height(xlabel, _LABEL_PT) - _LABEL_PT * _LINESPACING / 72
    height = (
        frame.header_height
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
        + frame.footer_height
    )
    panel_bottom = frame.footer_height + 0.12
    child_bottom = panel_bottom + 0.06 + axis_block
    panel_top = child_bottom + child_h + band_h
    head_bottom = panel_top + funnel
    head_top = head_bottom + head_h

    fig = _new_figure(width, height)
    _draw_frame(fig, frame, height)
    inches = fig.dpi_scale_trans
    tint = _tint(PALETTE[0], _GROUP_TINT)
    edge = _tint(PALETTE[0], 0.55)

    # Upper panel: the parent among all respondents, on a 0-100% track.
    fig.text(
        left,
        head_top + 0.06 + heading_h,
        "All respondents",
        transform=inches,
        ha="left",
        va="top",
        fontsize=_LABEL_PT,
        fontweight="bold",
        color=_INK,
    )
    ax0 = fig.add_axes((left / width, head_bottom / height, axes_width / width, head_h / height))
    ax0.set_xlim(0, 100)
    ax0.set_ylim(head_h, 0)
    ax0.set_axis_off()
    y0 = head_h / 2
    _draw_labels(fig, ax0, [head_row], [y0])
    if head is not None and head.drawn:
        ax0.barh(y0, 100, height=_BAR_HEIGHT, color=_TRACK, linewidth=0, zorder=1)
        _draw_bar(ax0, y0, head, conditional=False)
        _draw_value_labels(ax0, head.end, y0, *value_texts[parent])
        # The band widening from the parent bar to the panel of its group.
        bar_bottom = head_top - y0 - _BAR_HEIGHT / 2
        end = left + axes_width * head.estimate / 100
        fig.add_artist(
            mpl.patches.Polygon(
                [
                    (left, bar_bottom),
                    (end, bar_bottom),
                    (left + axes_width, panel_top),
                    (left, panel_top),
                ],
                closed=True,
                transform=inches,
                facecolor=tint,
                edgecolor="none",
                linewidth=0,
                zorder=-1,
            )
        )
        fig.add_artist(
            Line2D(
                [end, left + axes_width],
                [bar_bottom, panel_top],
                transform=inches,
                color=edge,
                linewidth=0.8,
                zorder=-0.5,
            )
        )
        fig.add_artist(
            Line2D(
                [left, left],
                [bar_bottom, panel_top],
                transform=inches,
                color=edge,
                linewidth=0.8,
                zorder=-0.5,
            )
        )
    else:
        text = "not estimated" if head is None else _note_text(head)
        _draw_note(ax0, y0, text or "", _NOTE_PT + 0.5)

    # Lower panel: the breakdown within the parent group.
    fig.add_artist(
        mpl.patches.Rectangle(
            (panel_x0, panel_bottom),
            panel_x1 - panel_x0,
            panel_top - panel_bottom,
            transform=inches,
            facecolor=tint,
            edgecolor="none",
            linewidth=0,
            zorder=-1,
        )
    )
    fig.text(
        _PAD + 0.04,
        panel_top - 0.11,
        band_text,
        transform=inches,
        ha="left",
        va="top",
        fontsize=_LABEL_PT,
        fontweight="bold",
        linespacing=_LINESPACING,
        color=_INK,
    )
    ax1 = fig.add_axes((left / width, child_bottom / height, axes_width / width, child_h / height))
    _percent_axis(ax1, xlabel, child_h)
    ax1.set_facecolor("none")
    ax1.grid(axis="x", color="white", linewidth=1.0)
    if not child_rows:
        _draw_note(ax1, child_h / 2, f"No breakdown of {group} in the table.", _NOTE_PT + 0.5)
        return fig
    centers = []
    y = 0.08
    for row in child_rows:
        centers.append(y + row.height / 2)
        y += row.height
    _draw_labels(fig, ax1, child_rows, centers)
    note_width = axes_width - 0.15
    for est, yc in zip(children, centers, strict=True):
        if not est.drawn:
            _draw_note(ax1, yc, _note_text(est, wrap_width=note_width) or "", _NOTE_PT + 0.5)
            continue
        _draw_bar(ax1, yc, est, conditional=True)
        _draw_value_labels(ax1, est.end, yc, *value_texts[est.indicator])
    return fig


# --------------------------------------------------------------------------
# Chart 5: indicators across waves
# --------------------------------------------------------------------------

_WAVES_PLOT_HEIGHT = 3.0  # inches


def _build_across_waves(
    table: pd.DataFrame,
    *,
    indicators: Sequence[str],
    labels: Mapping[str, str],
    wave_labels: Mapping[object, str],
    domain: str,
    domain_value: str,
    source_note: str | None,
    note: str | None,
    title: str | None,
    ylabel: str | None,
    decimals: int,
    width: float,
) -> Figure:
    waves = [(str(w), _text_or_empty(label) or str(w)) for w, label in wave_labels.items()]
    cell_name = _cell_name(domain, domain_value)
    single = len(indicators) == 1
    wave_column = table["wave"].astype(str)
    cells: dict[str, dict[str, _Estimate]] = {}
    asked: dict[str, set[str]] = {}
    for w, _ in waves:
        cells[w] = _cell(
            _rows(table, wave=w, domain=domain, domain_value=domain_value),
            where=f"wave {w}, {domain} = {domain_value}",
        )
        asked[w] = set(table.loc[wave_column == w, "indicator"].astype(str))

    def parent_of(ind: str) -> str | None:
        for source in cells.values():
            if ind in source and source[ind].parent is not None:
                return source[ind].parent
        return None

    names = {ind: _row_label(ind, parent_of(ind), labels) for ind in indicators}
    conditional = {ind for ind in indicators if parent_of(ind) is not None}
    if ylabel is None:
        parents = {parent_of(ind) for ind in indicators}
        only = next(iter(parents)) if len(parents) == 1 else None
        ylabel = (
            f"Percent of those with {_lower_first(_label(only, labels))}"
            if only is not None
            else _XLABEL
        )
    if title is None:
        title = (
            f"{names[indicators[0]]} across survey waves"
            if single
            else "Prevalence across survey waves"
        )
    subtitle = cell_name
    estimates = [cells[w][i] for w, _ in waves for i in indicators if i in cells[w]]
    marks = _flag_marks(estimates)

    footer = []
    if note:
        footer.append(note)
    source = "Sources: " + ", ".join(label for _, label in waves) if waves else "Sources: none"
    interval = _interval_text(estimates)
    footer.append("; ".join(p for p in (source, interval) if p) + ".")
    if source_note:
        footer.append(source_note)
    if conditional and any(e.drawn for e in estimates if e.indicator in conditional):
        footer.append(_CONDITIONAL_NOTE.format(mark="Open markers"))
    footer.extend(f"{mark} {flag}" for flag, mark in marks.items())

    if not waves or not estimates:
        what = _lower_first(names[indicators[0]]) if single else "these indicators"
        shown = ", ".join(label for _, label in waves) or "no wave"
        frame = _frame(title, subtitle, footer, width)
        return _message_figure(frame, f"No estimates of {what} in {shown}.", width)
    if not any(e.drawn for e in estimates):
        subtitle += "\nNo estimate can be shown: every cell is suppressed or has no respondents."

    def reason(ind: str, w: str, wave_label: str) -> tuple[str, str] | None:
        """Why there is no point: ``(what, where)``, e.g. ``("not asked in", "2016")``."""
        est = cells[w].get(ind)
        if est is None:
            if not asked[w]:
                return ("no data for", wave_label)
            if ind not in asked[w]:
                return ("not asked in", wave_label)
            return ("not estimated in", wave_label)
        if est.drawn:
            return None
        if est.status == "suppressed":
            return ("suppressed in", f"{wave_label} ({est.flag})" if est.flag else wave_label)
        if est.status == "empty":
            return ("no respondents in", wave_label)
        return ("no estimate in", wave_label)

    gaps = {(ind, w): reason(ind, w, label) for ind in indicators for w, label in waves}

    # Legend (several indicators): label, then why points are missing.
    ylabel = _wrap_to(ylabel, _WAVES_PLOT_HEIGHT, _LABEL_PT)
    ylabel_w = _text_height(ylabel, _LABEL_PT)
    left = _PAD + ylabel_w + 0.1 + _text_width("100%", _TICK_PT) + 0.08
    plot_w = width - left - _PAD
    handles: list[Line2D] = []
    entries: list[str] = []
    legend_h = 0.0
    ncol = 1
    if not single:
        handle_w = (1.8 + 0.5) * _VALUE_PT / 72
        for j, ind in enumerate(indicators):
            colour, marker = _group_style(j)
            open_marker = ind in conditional
            handles.append(
                Line2D(
                    [],
                    [],
                    color=colour,
                    marker=marker,
                    markersize=6.5,
                    linewidth=1.4,
                    markerfacecolor="white" if open_marker else colour,
                    markeredgecolor=colour if open_marker else "white",
                    markeredgewidth=1.2 if open_marker else 0.6,
                )
            )
            grouped: dict[str, list[str]] = {}
            for w, _ in waves:
                gap = gaps[(ind, w)]
                if gap is not None:
                    grouped.setdefault(gap[0], []).append(gap[1])
            text = names[ind]
            if grouped:
                text += " \u2014 " + "; ".join(f"{k} {', '.join(v)}" for k, v in grouped.items())
            entries.append(_wrap_to(text, width - 2 * _PAD - handle_w, _VALUE_PT))
        lines = [e.count("\n") + 1 for e in entries]
        ncol, handles, entries = _legend_grid(handles, entries, width - 2 * _PAD)
        nrows = math.ceil(len(lines) / ncol)
        legend_h = sum(
            max(lines[r * ncol : (r + 1) * ncol]) * _VALUE_PT * _LINESPACING / 72
            + 0.27 * _VALUE_PT / 72  # label spacing less the line gap
            for r in range(nrows)
        )

    slot = plot_w / len(waves)
    headers = []
    for w, label in waves:
        count = _n_label(*_published_n(cells[w])) if cells[w] else ""
        headers.append(_wrap_to(label, slot - 0.12, _TICK_PT) + (f"\n{count}" if count else ""))
    tick_h = max(_text_height(h, _TICK_PT) for h in headers) + 0.1

    frame = _frame(title, subtitle, footer, width)
    top_block = frame.header_height + 0.16 + (legend_h + 0.14 if legend_h else 0.0) + 0.12
    height = top_block + _WAVES_PLOT_HEIGHT + tick_h + 0.16 + frame.footer_height
    fig = _new_figure(width, height)
    _draw_frame(fig, frame, height)
    if handles:
        _top_legend(fig, handles, entries, frame, width, height, ncol, handlelength=1.8)
    bottom = frame.footer_height + 0.16 + tick_h
    ax = fig.add_axes((left / width, bottom / height, plot_w / width, _WAVES_PLOT_HEIGHT / height))
    ax.set_xlim(-0.5, len(waves) - 0.5)
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_locator(MultipleLocator(20))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    ax.set_ylabel(ylabel, labelpad=6)
    ax.set_xticks(range(len(waves)), headers)
    ax.tick_params(axis="x", length=0, pad=6)
    ax.tick_params(axis="y", pad=3)
    ax.xaxis.grid(False)
    ax.yaxis.grid(True)

    m = len(indicators)
    step = min(0.16, 0.7 / m)
    for i, (w, label) in enumerate(waves):
        missing = [gaps[(ind, w)] for ind in indicators]
        if all(g is not None for g in missing):
            kinds = {g[0] for g in missing if g is not None}
            first = missing[0]
            if first is not None and (single or len(kinds) == 1):
                what, where = first
            else:
                what, where = "no estimates in", label
            text = "\n".join(
                _wrap_to(part, slot * 0.85, _NOTE_PT + 0.5, style="italic")
                for part in (what, where)
            )
            ax.text(
                i,
                50,
                text,
                ha="center",
                va="center",
                fontsize=_NOTE_PT + 0.5,
                style="italic",
                color=_MUTED,
                linespacing=1.1,
                bbox={"boxstyle": "square,pad=0.2", "facecolor": "white", "edgecolor": "none"},
                zorder=4,
            )
        for j, ind in enumerate(indicators):
            est = cells[w].get(ind)
            if est is None or not est.drawn:
                continue
            colour, marker = (PALETTE[0], MARKERS[0]) if single else _group_style(j)
            x = i + (j - (m - 1) / 2) * step
            if est.has_interval:
                ax.vlines(x, est.low, est.high, colors=colour, linewidth=1.4, zorder=3)
            open_marker = ind in conditional
            ax.plot(
                [x],
                [est.estimate],
                linestyle="none",
                color=colour,
                marker=marker,
                markersize=7.0 if single else 6.5,
                markerfacecolor="white" if open_marker else colour,
                markeredgecolor=colour if open_marker else "white",
                markeredgewidth=1.2 if open_marker else 0.6,
                zorder=4,
            )
            mark = marks.get(est.flag, "")
            if single:
                anchor = min(max(est.estimate, 6.0), 94.0)
                ax.annotate(
                    _pct(est.estimate, decimals) + mark,
                    xy=(x, anchor),
                    xytext=(7, 1),
                    textcoords="offset points",
                    ha="left",
                    va="bottom",
                    fontsize=_VALUE_PT,
                    fontweight="bold",
                    color=_INK,
                    annotation_clip=False,
                )
                ax.annotate(
                    _est_n_label(est),
                    xy=(x, anchor),
                    xytext=(7, -1),
                    textcoords="offset points",
                    ha="left",
                    va="top",
                    fontsize=_VALUE_PT,
                    color=_MUTED,
                    annotation_clip=False,
                )
            elif mark:
                ax.annotate(
                    mark,
                    xy=(x, est.high if est.has_interval else est.estimate),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=_NOTE_PT,
                    color=_MUTED,
                    annotation_clip=False,
                )
    return fig


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def _top_legend(fig, handles, entries, frame, width, height, ncol, *, handlelength=1.8) -> None:
    """The legend of a chart, left-aligned under its title block."""
    fig.legend(
        handles,
        entries,
        loc="upper left",
        bbox_to_anchor=(_PAD / width, (height - frame.header_height - 0.16) / height),
        bbox_transform=fig.transFigure,
        ncol=ncol,
        frameon=False,
        borderpad=0.0,
        borderaxespad=0.0,
        handlelength=handlelength,
        handletextpad=0.5,
        columnspacing=1.4,
        labelspacing=0.5,
        fontsize=_VALUE_PT,
    )


def _save(fig: Figure, out_stem: str | Path) -> list[Path]:
    """Write PNG (300 dpi), SVG and PDF with date-free, fixed metadata."""
    stem = Path(out_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    try:
        creator = f"prevalence {importlib_metadata.version('prevalence')}"
    except importlib_metadata.PackageNotFoundError:
        creator = "prevalence"
    producer = f"matplotlib {mpl.__version__}"
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
    with rc_context(house_style()):
        for fmt, meta in metadata.items():
            path = stem.with_name(f"{stem.name}.{fmt}")
            fig.savefig(path, format=fmt, dpi=_DPI, metadata=meta)
            written.append(path)
    return written


# --------------------------------------------------------------------------
# Chart 6: forest plot of differences
# --------------------------------------------------------------------------

#: Columns :func:`build_forest` reads from the table of differences.
FOREST_COLUMNS = (
    "comparison",
    "wave_a",
    "wave_b",
    "indicator",
    "domain",
    "value_a",
    "value_b",
    "difference",
    "ci_low",
    "ci_high",
    "method",
    "level",
    "p_adjusted",
    "adjust_method",
    "family",
    "suppressed",
    "flag",
)

_MINUS = "\u2212"
_FOREST_ROW = 0.30  # inches per comparison
_FOREST_GROUP = 0.34  # inches of a group header
_FOREST_SIDE_PREFIX = "side suppressed: "
_FOREST_METHODS = {
    "newcombe": "Newcombe hybrid score intervals (simple random sample)",
    "wald": "Wald intervals on the design degrees of freedom",
}
_ADJUST_NAMES = {"holm": "Holm", "fdr_bh": "Benjamini\u2013Hochberg"}


@dataclass(frozen=True)
class _Difference:
    """One row of the table of differences, in percentage points."""

    group: str
    label: str
    status: str  # "ok", "suppressed", "missing"
    difference: float
    low: float
    high: float
    p_adjusted: float
    flag: str


def build_forest(
    table: pd.DataFrame,
    *,
    labels: Mapping[str, str],
    wave_labels: Mapping[object, str] | None = None,
    group_by: str | None = "indicator",
    title: str | None = None,
    subtitle: str | None = None,
    source_note: str | None = None,
    decimals: int = 1,
    width: float = _WIDTH,
) -> Figure:
    """Build the forest plot of differences in prevalence.

    Parameters
    ----------
    table
        Rows of the table of differences (:mod:`prevalence.compare`; see
        :data:`FOREST_COLUMNS`), in the order to draw within each group.
    labels
        ``{indicator_id: label}`` from the codebooks.
    wave_labels
        ``{wave_id: label}``; waves without one are shown by their id.
    group_by
        ``"indicator"`` (a block per indicator under its label, rows named by
        the comparison), ``"comparison"`` (a block per comparison, e.g.
        MP \u2212 staff, rows named by the indicator) or None: no blocks, each
        row labelled in full, ``"MP \u2212 staff: Psychological violence"``.
    title, subtitle
        Default: from the kind of comparison, and the wave or the cell.
    source_note
        Optional extra line under the source line.
    decimals
        Decimals of the printed differences (percentage points).
    width
        Figure width in inches; the height follows the number of rows.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    PrevalenceError
        If a column is missing, ``group_by`` is unknown, or a difference or
        bound lies outside [-1, 1].
    """
    if not isinstance(table, pd.DataFrame):
        raise PrevalenceError(
            f"expected a pandas DataFrame, got {type(table).__name__}",
            fix="pass the table of differences written by the comparison step",
        )
    missing = [c for c in FOREST_COLUMNS if c not in table.columns]
    if missing:
        raise PrevalenceError(
            f"table of differences lacks column(s) {', '.join(missing)}",
            fix="pass the table of differences written by the comparison step",
        )
    if group_by not in ("indicator", "comparison", None):
        raise PrevalenceError(
            f"unknown grouping {group_by!r}",
            fix="group by 'indicator' or 'comparison', or pass None for no grouping",
        )
    for column in ("difference", "ci_low", "ci_high"):
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.notna() & ((values < -1 - 1e-9) | (values > 1 + 1e-9))
        if bad.any():
            first = int(bad.to_numpy().nonzero()[0][0])
            raise PrevalenceError(
                "differences and their bounds must be differences of proportions, in [-1, 1]",
                column=column,
                row=first + 1,
                value=float(values.iloc[first]),
                fix="give proportions, not percentages",
            )
    with rc_context(house_style()):
        return _build_forest(
            table,
            labels=labels,
            wave_labels=dict(wave_labels or {}),
            group_by=group_by,
            title=title,
            subtitle=subtitle,
            source_note=source_note,
            decimals=decimals,
            width=width,
        )


def plot_forest(
    table: pd.DataFrame,
    *,
    labels: Mapping[str, str],
    out_stem: str | Path,
    wave_labels: Mapping[object, str] | None = None,
    group_by: str | None = "indicator",
    title: str | None = None,
    subtitle: str | None = None,
    source_note: str | None = None,
    decimals: int = 1,
    width: float = _WIDTH,
) -> list[Path]:
    """Write the forest plot of differences in prevalence.

    One row per comparison (``"MP \u2212 staff: Psychological violence"``: with
    ``group_by`` the block's heading carries one half of the label), with the
    difference in percentage points, its interval, a line at zero and,
    at the right, the difference with its interval and the adjusted p-value.
    Markers are filled where the adjusted p-value is below ``1 - level``.
    Rows are grouped by indicator or by comparison under a bold heading,
    with thin rules between blocks. A withheld difference prints ``suppressed (<reason>)`` in its place.

    Parameters
    ----------
    table, labels, wave_labels, group_by, title, subtitle, source_note, decimals, width
        As in :func:`build_forest`.
    out_stem
        Output path without extension; parent folders are created.

    Returns
    -------
    list of pathlib.Path
        ``<out_stem>.png`` (300 dpi), ``<out_stem>.svg``, ``<out_stem>.pdf``.
    """
    fig = build_forest(
        table,
        labels=labels,
        wave_labels=wave_labels,
        group_by=group_by,
        title=title,
        subtitle=subtitle,
        source_note=source_note,
        decimals=decimals,
        width=width,
    )
    return _save(fig, out_stem)


def _signed(value: float, decimals: int) -> str:
    text = f"{value:+.{decimals}f}"
    if float(text) == 0:
        text = f"{0:.{decimals}f}"
    return text.replace("-", _MINUS)


def _plain(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if float(text) == 0:
        text = f"{0:.{decimals}f}"
    return text.replace("-", _MINUS)


def _p_text(p: float) -> str:
    if not math.isfinite(p):
        return ""
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}"


def _forest_axis_limit(rows: Sequence[_Difference]) -> tuple[float, float]:
    """Symmetric axis half-width and tick step (percentage points)."""
    reach = [
        abs(v)
        for d in rows
        if d.status == "ok"
        for v in (d.difference, d.low, d.high)
        if math.isfinite(v)
    ]
    top = max(reach, default=10.0)
    for step in (5.0, 10.0, 20.0, 25.0, 50.0):
        limit = step * math.ceil(top / step + 1e-9)
        if limit / step <= 2:
            return max(limit, 10.0), step
    return 100.0, 50.0


def _forest_rows(
    table: pd.DataFrame,
    labels: Mapping[str, str],
    wave_labels: Mapping[str, str],
    group_by: str | None,
) -> list[_Difference]:
    def wave_name(wave: object) -> str:
        return _text_or_empty(wave_labels.get(str(wave))) or str(wave)

    kinds = table["comparison"].astype(str)
    within_waves = set(table.loc[kinds != "between", "wave_a"].astype(str))
    cells = set(
        zip(
            table.loc[kinds == "between", "domain"].astype(str),
            table.loc[kinds == "between", "value_a"].astype(str),
            strict=True,
        )
    )
    rows = []
    for record in table.to_dict("records"):
        indicator = _label(str(record["indicator"]), labels)
        if str(record["comparison"]) == "between":
            comparison = f"{wave_name(record['wave_a'])} {_MINUS} {wave_name(record['wave_b'])}"
            if len(cells) > 1 and str(record["domain"]) != "overall":
                comparison += f" ({_domain_value_name(str(record['value_a']))})"
        else:
            comparison = (
                f"{_domain_value_name(str(record['value_a']))} {_MINUS} "
                f"{_domain_value_name(str(record['value_b']))}"
            )
            if len(within_waves) > 1:
                comparison += f", {wave_name(record['wave_a'])}"
        flag = _text_or_empty(record["flag"])
        difference = _number(record["difference"])
        if _is_true(record["suppressed"]):
            status = "suppressed"
        elif math.isnan(difference):
            status = "missing"
        else:
            status = "ok"
        shown = status == "ok"

        def pts(value: object, shown: bool = shown) -> float:
            x = _number(value)
            return x * 100.0 if shown and math.isfinite(x) else math.nan

        if group_by == "indicator":
            group, label = indicator, comparison
        elif group_by == "comparison":
            group, label = comparison, indicator
        else:
            group, label = "", f"{comparison}: {indicator}"
        rows.append(
            _Difference(
                group=group,
                label=label,
                status=status,
                difference=pts(record["difference"]),
                low=pts(record["ci_low"]),
                high=pts(record["ci_high"]),
                p_adjusted=_number(record["p_adjusted"]) if shown else math.nan,
                flag=flag,
            )
        )
    return rows


def _forest_note(row: _Difference) -> str:
    if row.status == "suppressed":
        reason = row.flag.removeprefix(_FOREST_SIDE_PREFIX)
        return f"suppressed ({reason})" if reason else "suppressed"
    return f"no estimate ({row.flag})" if row.flag else "no estimate"


def _family_text(families: Sequence[str]) -> str:
    kinds = {
        "all" if f == "all" else "indicator" if f.startswith("indicator ") else "comparison"
        for f in families
        if f
    }
    if kinds == {"indicator"}:
        return "within the comparisons of each indicator"
    if kinds == {"comparison"}:
        return "within each comparison, over its indicators"
    if kinds == {"all"}:
        return "over all comparisons"
    return ""


def _build_forest(
    table: pd.DataFrame,
    *,
    labels: Mapping[str, str],
    wave_labels: Mapping[str, str],
    group_by: str | None,
    title: str | None,
    subtitle: str | None,
    source_note: str | None,
    decimals: int,
    width: float,
) -> Figure:
    wave_labels = {str(k): v for k, v in wave_labels.items()}
    kinds = list(dict.fromkeys(table["comparison"].astype(str)))
    domains = list(dict.fromkeys(table["domain"].astype(str)))
    waves = list(
        dict.fromkeys(list(table["wave_b"].astype(str)) + list(table["wave_a"].astype(str)))
    )
    names = [_text_or_empty(wave_labels.get(w)) or w for w in waves]
    if title is None:
        if kinds == ["between"]:
            title = "Differences in prevalence between survey waves"
        elif len(domains) == 1 and domains[0] != "overall":
            name = _domain_name(domains[0])
            title = f"Differences in prevalence by {name[:1].lower() + name[1:]}"
        else:
            title = "Differences in prevalence"
    if subtitle is None:
        if kinds == ["between"]:
            cells = list(
                dict.fromkeys(
                    zip(table["domain"].astype(str), table["value_a"].astype(str), strict=True)
                )
            )
            subtitle = (
                "All respondents"
                if cells == [("overall", "All")]
                else "; ".join(_cell_name(d, v) for d, v in cells)
            )
        else:
            subtitle = ", ".join(names)
    level = _number(table["level"].iloc[0]) if len(table) else math.nan
    level_text = _level_text(level)
    methods = [m for m in dict.fromkeys(table["method"].astype(str)) if m in _FOREST_METHODS]
    footer = []
    interval = "; ".join(_FOREST_METHODS[m] for m in methods)
    footer.append(
        f"Difference a {_MINUS} b in percentage points"
        + (f", with {level_text} {interval}" if interval and level_text else "")
        + "."
    )
    adjust = list(dict.fromkeys(table["adjust_method"].fillna("").astype(str)))
    alpha = 1.0 - level if math.isfinite(level) else 0.05
    alpha_text = f"{round(alpha, 4):g}"
    if adjust and adjust[0] in _ADJUST_NAMES and len(adjust) == 1:
        family = _family_text(list(table["family"].fillna("").astype(str)))
        footer.append(
            f"Filled markers: p < {alpha_text} after {_ADJUST_NAMES[adjust[0]]}'s adjustment"
            + (f" {family}" if family else "")
            + "; p values shown are adjusted."
        )
    elif adjust == ["none"]:
        footer.append(f"Filled markers: p < {alpha_text} (no adjustment for multiple testing).")
    footer.append("Sources: " + ", ".join(names) + "." if names else "")
    if source_note:
        footer.append(source_note)
    footer = [line for line in footer if line]

    rows = _forest_rows(table, labels, wave_labels, group_by)
    if not rows:
        frame = _frame(title, subtitle, footer, width)
        return _message_figure(frame, "No comparisons to show.", width)
    if not any(r.status == "ok" for r in rows):
        subtitle += "\nNo difference can be shown: every comparison is suppressed or empty."
    groups: dict[str, list[_Difference]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)

    value_head = f"Difference [{level_text} CI]" if level_text else "Difference"
    p_head = "Adj. p" if adjust and adjust[0] in _ADJUST_NAMES else "p"
    texts = {
        id(
            r
        ): f"{_signed(r.difference, decimals)} [{_plain(r.low, decimals)}, {_plain(r.high, decimals)}]"
        if r.status == "ok" and math.isfinite(r.low)
        else (_signed(r.difference, decimals) if r.status == "ok" else "")
        for r in rows
    }
    value_w = max(
        [_text_width(t, _VALUE_PT) for t in texts.values()] + [_text_width(value_head, _NOTE_PT)]
    )
    p_w = max(
        [_text_width(_p_text(r.p_adjusted), _VALUE_PT) for r in rows]
        + [_text_width(p_head, _NOTE_PT)]
    )
    right = value_w + 0.16 + p_w + 0.06
    label_max = 0.34 * width
    indent = _INDENT if group_by is not None else 0.0
    wrapped = {id(r): _wrap_to(r.label, label_max - indent, _LABEL_PT) for r in rows}
    headers = {g: _wrap_to(g, label_max, _LABEL_PT, weight="bold") for g in groups if g}
    column = max(
        [indent + _text_width(t, _LABEL_PT) for t in wrapped.values()]
        + [_text_width(t, _LABEL_PT, weight="bold") for t in headers.values()]
    )
    left = _PAD + column + _GAP
    axes_width = width - left - right - _PAD - 0.2
    notes = {
        id(r): _wrap_to(_forest_note(r), axes_width + right - 0.1, _NOTE_PT, style="italic")
        for r in rows
        if r.status != "ok"
    }
    heights = {
        id(r): max(
            _FOREST_ROW,
            _text_height(wrapped[id(r)], _LABEL_PT) + 0.1,
            _text_height(notes.get(id(r), ""), _NOTE_PT) * 1.1 / _LINESPACING + 0.1,
        )
        for r in rows
    }
    header_h = {
        g: max(_FOREST_GROUP, _text_height(t, _LABEL_PT) + 0.14) for g, t in headers.items()
    }
    rows_height = sum(heights.values()) + sum(header_h.values())

    frame = _frame(title, subtitle, footer, width)
    column_head = 0.26
    height = frame.header_height + 0.14 + column_head + rows_height + _AXIS_BLOCK + 0.1
    height += frame.footer_height
    fig = _new_figure(width, height)
    _draw_frame(fig, frame, height)
    bottom = frame.footer_height + 0.1 + _AXIS_BLOCK
    ax = fig.add_axes((left / width, bottom / height, axes_width / width, rows_height / height))
    limit, step = _forest_axis_limit(rows)
    ax.set_xlim(-limit, limit)
    ax.set_ylim(rows_height, 0)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: _signed(v, 0) if v else "0"))
    ax.set_xlabel(f"Difference (percentage points, a {_MINUS} b)", labelpad=5)
    ax.set_yticks([])
    ax.tick_params(axis="x", pad=3)
    ax.axvline(0.0, color=_REFERENCE, linewidth=1.0, zorder=2)

    inches = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    value_x = width - _PAD - p_w - 0.16  # right edge of the difference column
    p_x = width - _PAD
    head_y = height - frame.header_height - 0.14 - column_head / 2
    for text, x in ((value_head, value_x), (p_head, p_x)):
        fig.text(
            x,
            head_y,
            text,
            transform=fig.dpi_scale_trans,
            ha="right",
            va="center",
            fontsize=_NOTE_PT,
            color=_MUTED,
        )
    colour = PALETTE[0]
    y = 0.0
    for g_index, (group, members) in enumerate(groups.items()):
        if g_index:
            ax.axhline(y, color=_GRID, linewidth=0.8, zorder=1)
        if group in headers:
            ax.text(
                _PAD,
                y + header_h[group] / 2 + 0.03,
                headers[group],
                transform=inches,
                ha="left",
                va="center",
                fontsize=_LABEL_PT,
                fontweight="bold",
                linespacing=_LINESPACING,
                color=_INK,
                clip_on=False,
            )
            y += header_h[group]
        for row in members:
            h = heights[id(row)]
            yc = y + h / 2
            ax.text(
                _PAD + indent,
                yc,
                wrapped[id(row)],
                transform=inches,
                ha="left",
                va="center",
                fontsize=_LABEL_PT,
                linespacing=_LINESPACING,
                color=_INK if row.status == "ok" else _MUTED,
                clip_on=False,
            )
            if row.status != "ok":
                ax.annotate(
                    notes[id(row)],
                    xy=(-limit, yc),
                    xycoords="data",
                    xytext=(5, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    fontsize=_NOTE_PT,
                    style="italic",
                    color=_MUTED,
                    linespacing=1.1,
                    annotation_clip=False,
                    bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"},
                    zorder=4,
                )
            else:
                if math.isfinite(row.low) and math.isfinite(row.high):
                    ax.hlines(yc, row.low, row.high, colors=colour, linewidth=1.4, zorder=3)
                significant = math.isfinite(row.p_adjusted) and row.p_adjusted < alpha
                ax.plot(
                    [row.difference],
                    [yc],
                    linestyle="none",
                    marker="s",
                    markersize=6.0,
                    markerfacecolor=colour if significant else "white",
                    markeredgecolor=colour,
                    markeredgewidth=1.2,
                    zorder=4,
                )
                ax.text(
                    value_x,
                    yc,
                    texts[id(row)],
                    transform=inches,
                    ha="right",
                    va="center",
                    fontsize=_VALUE_PT,
                    color=_INK,
                    clip_on=False,
                )
                ax.text(
                    p_x,
                    yc,
                    _p_text(row.p_adjusted),
                    transform=inches,
                    ha="right",
                    va="center",
                    fontsize=_VALUE_PT,
                    fontweight="bold" if significant else "normal",
                    color=_INK if significant else _MUTED,
                    clip_on=False,
                )
            y += h
    return fig
