"""Publication charts of prevalence estimates, one module per chart.

Each chart is drawn from a published table in three steps:

1. **select** (``select_<chart>(table, options)``): pure pandas. It reads the
   rows to draw, orders them, names them and decides what replaces a
   suppressed or missing estimate, and returns a small frozen dataclass: the
   chart's words and cells, testable without drawing anything.
2. **lay out**: every length in inches from the measured text of the selection
   (:mod:`.layout`, the text-measuring layout engine), so the chart depends on
   the data alone.
3. **draw**: matplotlib artists in the house style (:mod:`.style`, :mod:`.draw`).

``build_<chart>(table, options)`` returns the :class:`~matplotlib.figure.Figure`
without writing anything; ``plot_<chart>(table, options, out_stem=...)`` writes
``<out_stem>.png`` (300 dpi), ``.svg`` and ``.pdf`` and returns their paths. The
options are one frozen dataclass per chart (``<Chart>Options``).

=====================  ===========================================================
module                 chart
=====================  ===========================================================
:mod:`.by_indicator`   bars of every indicator in one domain cell
:mod:`.by_domain`      dots and whiskers of each indicator across a domain's values
:mod:`.heatmap`        indicators by a domain's values, cells coloured by prevalence
:mod:`.of_whom`        a parent indicator and its "of whom" breakdown
:mod:`.categorical`    a categorical question's answers as stacked bars, one per group
:mod:`.waves`          harmonized indicators across survey waves
:mod:`.forest`         differences between domains or waves (the contrasts table)
:mod:`.coverage`       actual coverage of interval methods (the coverage table)
=====================  ===========================================================

:func:`.population_table` turns the rows of one population (women MPs) into a table of
their own, so that every per-wave chart can be drawn for it (``population`` in the options
names it). ``plot_<chart>`` also writes ``<out_stem>.csv``, what the chart draws (the
selection's ``data()``): the keys of each bar, dot or cell in drawing order, its estimate
and bounds as proportions, ``n``, whether it is suppressed and why it is not drawn.

Charts are drawn with :class:`~matplotlib.figure.Figure` and the Agg canvas
(pyplot is never used) inside ``matplotlib.rc_context(house_style())``, so the
global ``rcParams`` are left untouched. Output is byte-for-byte reproducible.
Suppressed cells (``suppressed`` true) never show an estimate or interval; the
chart prints ``suppressed (<flag>)`` in their place (the heatmap: a hatched
cell marked ``–``). Cells without respondents print ``no respondents``. An
empty selection gives a chart saying so. Rows whose optional ``n_suppressed``
column is true print ``n withheld`` instead of their ``n``.
"""

from prevalence.publication.charts.by_domain import (
    ByDomain,
    ByDomainOptions,
    build_by_domain,
    plot_by_domain,
    select_by_domain,
)
from prevalence.publication.charts.by_indicator import (
    ByIndicator,
    ByIndicatorOptions,
    build_by_indicator,
    plot_by_indicator,
    select_by_indicator,
)
from prevalence.publication.charts.categorical import (
    Categorical,
    CategoricalOptions,
    build_categorical,
    plot_categorical,
    select_categorical,
)
from prevalence.publication.charts.cells import N_HIDDEN, REQUIRED_COLUMNS, Estimate
from prevalence.publication.charts.coverage import (
    LAYOUTS,
    Coverage,
    CoverageOptions,
    build_coverage,
    plot_coverage,
    select_coverage,
)
from prevalence.publication.charts.draw import save
from prevalence.publication.charts.forest import (
    FOREST_COLUMNS,
    Forest,
    ForestOptions,
    build_forest,
    plot_forest,
    select_forest,
)
from prevalence.publication.charts.heatmap import (
    Heatmap,
    HeatmapOptions,
    build_heatmap,
    plot_heatmap,
    select_heatmap,
)
from prevalence.publication.charts.of_whom import (
    OfWhom,
    OfWhomOptions,
    build_of_whom,
    plot_of_whom,
    select_of_whom,
)
from prevalence.publication.charts.population import population_table
from prevalence.publication.charts.style import FONT_FAMILY, MARKERS, PALETTE, house_style
from prevalence.publication.charts.waves import (
    AcrossWaves,
    AcrossWavesOptions,
    build_across_waves,
    plot_across_waves,
    select_across_waves,
)

__all__ = [
    "FONT_FAMILY",
    "FOREST_COLUMNS",
    "LAYOUTS",
    "MARKERS",
    "N_HIDDEN",
    "PALETTE",
    "REQUIRED_COLUMNS",
    "AcrossWaves",
    "AcrossWavesOptions",
    "ByDomain",
    "ByDomainOptions",
    "ByIndicator",
    "ByIndicatorOptions",
    "Categorical",
    "CategoricalOptions",
    "Coverage",
    "CoverageOptions",
    "Estimate",
    "Forest",
    "ForestOptions",
    "Heatmap",
    "HeatmapOptions",
    "OfWhom",
    "OfWhomOptions",
    "build_across_waves",
    "build_by_domain",
    "build_by_indicator",
    "build_categorical",
    "build_coverage",
    "build_forest",
    "build_heatmap",
    "build_of_whom",
    "house_style",
    "plot_across_waves",
    "plot_by_domain",
    "plot_by_indicator",
    "plot_categorical",
    "plot_coverage",
    "plot_forest",
    "plot_heatmap",
    "plot_of_whom",
    "population_table",
    "save",
    "select_across_waves",
    "select_by_domain",
    "select_by_indicator",
    "select_categorical",
    "select_coverage",
    "select_forest",
    "select_heatmap",
    "select_of_whom",
]
