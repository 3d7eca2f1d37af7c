"""Forest plot of differences in prevalence, from the table of differences.

One row per comparison (``"MP − staff: Psychological violence"``; with
``group_by`` the block's heading carries one half of the label), with the
difference in percentage points, its interval, a line at zero and, at the
right, the difference with its interval and the adjusted p-value. Markers are
filled where the adjusted p-value is below ``1 - level``. Rows are grouped by
indicator or by comparison under a bold heading, with thin rules between
blocks. A withheld difference prints ``suppressed (<reason>)`` in its place.

:func:`select_forest` chooses and names the rows (pure pandas),
:func:`build_forest` lays them out and draws them, :func:`plot_forest` writes
the files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator
from matplotlib.transforms import blended_transform_factory

from prevalence.errors import PrevalenceError
from prevalence.publication.charts import cells
from prevalence.publication.charts.draw import (
    draw_note,
    framed_figure,
    page_text,
    render,
    save,
)
from prevalence.publication.charts.layout import Frame, frame, text_height, text_width, wrap_to
from prevalence.publication.charts.style import (
    AXIS_BLOCK,
    GAP,
    GRID,
    INDENT,
    INK,
    LABEL_PT,
    LINESPACING,
    MUTED,
    NOTE_PT,
    PAD,
    PALETTE,
    REFERENCE,
    VALUE_PT,
    WIDTH,
)

__all__ = [
    "FOREST_COLUMNS",
    "Forest",
    "ForestOptions",
    "build_forest",
    "plot_forest",
    "select_forest",
]

#: Columns :func:`select_forest` reads from the table of differences.
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
_ROW = 0.30  # inches per comparison
_GROUP = 0.34  # inches of a group header
_SIDE_PREFIX = "side suppressed: "
_METHODS = {
    "newcombe": "Newcombe hybrid score intervals (simple random sample)",
    "wald": "Wald intervals on the design degrees of freedom",
}
_ADJUST_NAMES = {"holm": "Holm", "fdr_bh": "Benjamini\u2013Hochberg"}


@dataclass(frozen=True)
class ForestOptions:
    """What to draw.

    Parameters
    ----------
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
    """

    labels: Mapping[str, str]
    wave_labels: Mapping[object, str] = field(default_factory=dict)
    group_by: str | None = "indicator"
    title: str | None = None
    subtitle: str | None = None
    source_note: str | None = None
    decimals: int = 1
    width: float = WIDTH


@dataclass(frozen=True)
class Difference:
    """One row of the table of differences, in percentage points, as printed."""

    group: str
    label: str
    status: str  # "ok", "suppressed", "missing"
    difference: float
    low: float
    high: float
    p_adjusted: float
    flag: str
    value: str = ""  # "+12.0 [3.1, 20.9]" when shown
    p: str = ""  # "0.012", "<0.001"
    note: str = ""  # "suppressed (<reason>)" when not shown
    significant: bool = False  # adjusted p below 1 - level: a filled marker


@dataclass(frozen=True)
class Forest:
    """The selection: the page's words, the column heads and the rows by group.

    ``rows`` are in the table's order; ``groups`` gathers them by the block's
    heading (empty without ``group_by``), blocks in order of appearance.
    ``message`` is set when there is nothing to draw.
    """

    title: str
    subtitle: str
    footer: tuple[str, ...]
    value_head: str
    p_head: str
    grouped: bool
    rows: tuple[Difference, ...]
    message: str = ""

    @property
    def groups(self) -> dict[str, list[Difference]]:
        found: dict[str, list[Difference]] = {}
        for row in self.rows:
            found.setdefault(row.group, []).append(row)
        return found

    def data(self) -> pd.DataFrame:
        """What is drawn, one row per difference, block by block from the top
        (``forest_*.csv``): the difference and its bounds as proportions (empty when not
        shown), the adjusted p, whether it is suppressed and why it is not shown."""
        records = []
        for group, rows in self.groups.items():
            for row in rows:
                shown = row.status == "ok"
                records.append(
                    {
                        "group": group,
                        "label": row.label,
                        "difference": row.difference / 100 if shown else math.nan,
                        "ci_low": row.low / 100 if shown else math.nan,
                        "ci_high": row.high / 100 if shown else math.nan,
                        "p_adjusted": row.p_adjusted if shown else math.nan,
                        "suppressed": row.status == "suppressed",
                        "reason": "" if shown else (row.flag or row.status),
                    }
                )
        columns = ["group", "label", "difference", "ci_low", "ci_high", "p_adjusted"]
        return pd.DataFrame(records, columns=[*columns, "suppressed", "reason"])


def _check_forest_table(table: pd.DataFrame, group_by: str | None) -> None:
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
    what = "differences and their bounds must be differences of proportions, in [-1, 1]"
    cells.check_range(table, ("difference", "ci_low", "ci_high"), -1.0, what)


def signed(value: float, decimals: int) -> str:
    """``+1.5``, ``−2.0`` (a true minus sign), ``0.0`` for a rounded zero."""
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


def _note(status: str, flag: str) -> str:
    if status == "suppressed":
        reason = flag.removeprefix(_SIDE_PREFIX)
        return f"suppressed ({reason})" if reason else "suppressed"
    return f"no estimate ({flag})" if flag else "no estimate"


def _comparison_names(table: pd.DataFrame, wave_labels: Mapping[str, str]) -> list[str]:
    """Each row's comparison in words: ``MP − staff`` or ``2018 − 2016 (Africa)``."""

    def wave_name(wave: object) -> str:
        return cells.text_or_empty(wave_labels.get(str(wave))) or str(wave)

    kinds = table["comparison"].astype(str)
    within_waves = set(table.loc[kinds != "between", "wave_a"].astype(str))
    between = table.loc[kinds == "between"]
    pairs = set(zip(between["domain"].astype(str), between["value_a"].astype(str), strict=True))
    names = []
    for record in table.to_dict("records"):
        if str(record["comparison"]) == "between":
            name = f"{wave_name(record['wave_a'])} {_MINUS} {wave_name(record['wave_b'])}"
            if len(pairs) > 1 and str(record["domain"]) != "overall":
                name += f" ({cells.domain_value_name(str(record['value_a']))})"
        else:
            name = (
                f"{cells.domain_value_name(str(record['value_a']))} {_MINUS} "
                f"{cells.domain_value_name(str(record['value_b']))}"
            )
            if len(within_waves) > 1:
                name += f", {wave_name(record['wave_a'])}"
        names.append(name)
    return names


def _rows(table: pd.DataFrame, options: ForestOptions, wave_labels, alpha) -> list[Difference]:
    rows = []
    names = _comparison_names(table, wave_labels)
    for record, comparison in zip(table.to_dict("records"), names, strict=True):
        indicator = cells.label(str(record["indicator"]), options.labels)
        flag = cells.text_or_empty(record["flag"])
        difference = cells.number(record["difference"])
        if cells.is_true(record["suppressed"]):
            status = "suppressed"
        elif math.isnan(difference):
            status = "missing"
        else:
            status = "ok"
        shown = status == "ok"

        def pts(value: object, shown: bool = shown) -> float:
            x = cells.number(value)
            return x * 100.0 if shown and math.isfinite(x) else math.nan

        if options.group_by == "indicator":
            group, label = indicator, comparison
        elif options.group_by == "comparison":
            group, label = comparison, indicator
        else:
            group, label = "", f"{comparison}: {indicator}"
        d, low, high = pts(record["difference"]), pts(record["ci_low"]), pts(record["ci_high"])
        p = cells.number(record["p_adjusted"]) if shown else math.nan
        value, note = "", ""
        if not shown:
            note = _note(status, flag)
        elif math.isfinite(low):
            k = options.decimals
            value = f"{signed(d, k)} [{_plain(low, k)}, {_plain(high, k)}]"
        else:
            value = signed(d, options.decimals)
        significant = math.isfinite(p) and p < alpha
        rows.append(
            Difference(
                group, label, status, d, low, high, p, flag, value, _p_text(p), note, significant
            )
        )
    return rows


def _titles(table: pd.DataFrame, options: ForestOptions, names: Sequence[str]) -> tuple[str, str]:
    kinds = list(dict.fromkeys(table["comparison"].astype(str)))
    domains = list(dict.fromkeys(table["domain"].astype(str)))
    title, subtitle = options.title, options.subtitle
    if title is None:
        if kinds == ["between"]:
            title = "Differences in prevalence between survey waves"
        elif len(domains) == 1 and domains[0] != "overall":
            name = cells.domain_name(domains[0])
            title = f"Differences in prevalence by {name[:1].lower() + name[1:]}"
        else:
            title = "Differences in prevalence"
    if subtitle is None:
        if kinds == ["between"]:
            pairs = zip(table["domain"].astype(str), table["value_a"].astype(str), strict=True)
            found = list(dict.fromkeys(pairs))
            subtitle = (
                "All respondents"
                if found == [("overall", "All")]
                else "; ".join(cells.cell_name(d, v) for d, v in found)
            )
        else:
            subtitle = ", ".join(names)
    return title, subtitle


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


def _footer(table, options, names, level_text, alpha, adjust) -> list[str]:
    methods = [m for m in dict.fromkeys(table["method"].astype(str)) if m in _METHODS]
    interval = "; ".join(_METHODS[m] for m in methods)
    footer = [
        f"Difference a {_MINUS} b in percentage points"
        + (f", with {level_text} {interval}" if interval and level_text else "")
        + "."
    ]
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
    if options.source_note:
        footer.append(options.source_note)
    return [line for line in footer if line]


def select_forest(table: pd.DataFrame, options: ForestOptions) -> Forest:
    """Choose, name and group the rows of the forest plot (no drawing).

    ``table`` holds rows of the table of differences (:mod:`prevalence.stats.contrasts`;
    see :data:`FOREST_COLUMNS`), in the order to draw within each group.

    Raises
    ------
    PrevalenceError
        If a column is missing, ``group_by`` is unknown, or a difference or
        bound lies outside [-1, 1].
    """
    _check_forest_table(table, options.group_by)
    wave_labels = {str(k): v for k, v in dict(options.wave_labels or {}).items()}
    waves = list(
        dict.fromkeys(list(table["wave_b"].astype(str)) + list(table["wave_a"].astype(str)))
    )
    names = [cells.text_or_empty(wave_labels.get(w)) or w for w in waves]
    title, subtitle = _titles(table, options, names)
    level = cells.number(table["level"].iloc[0]) if len(table) else math.nan
    level_text = cells.level_text(level)
    adjust = list(dict.fromkeys(table["adjust_method"].fillna("").astype(str)))
    alpha = 1.0 - level if math.isfinite(level) else 0.05
    footer = tuple(_footer(table, options, names, level_text, alpha, adjust))
    value_head = f"Difference [{level_text} CI]" if level_text else "Difference"
    p_head = "Adj. p" if adjust and adjust[0] in _ADJUST_NAMES else "p"
    grouped = options.group_by is not None
    rows = _rows(table, options, wave_labels, alpha)
    if not rows:
        message = "No comparisons to show."
        return Forest(title, subtitle, footer, value_head, p_head, grouped, (), message)
    if not any(r.status == "ok" for r in rows):
        subtitle += "\nNo difference can be shown: every comparison is suppressed or empty."
    return Forest(title, subtitle, footer, value_head, p_head, grouped, tuple(rows))


def _axis_limit(rows: Sequence[Difference]) -> tuple[float, float]:
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


@dataclass(frozen=True)
class _Layout:
    frame: Frame
    indent: float
    left: float
    axes_width: float
    p_w: float
    labels: dict[int, str]  # wrapped, by id of the row
    notes: dict[int, str]
    heights: dict[int, float]
    headers: dict[str, str]
    header_h: dict[str, float]
    rows_height: float
    column_head: float
    height: float


def _lay_out(chart: Forest, width: float) -> _Layout:
    rows = chart.rows
    value_w = max(
        [text_width(r.value, VALUE_PT) for r in rows] + [text_width(chart.value_head, NOTE_PT)]
    )
    p_w = max([text_width(r.p, VALUE_PT) for r in rows] + [text_width(chart.p_head, NOTE_PT)])
    right = value_w + 0.16 + p_w + 0.06
    label_max = 0.34 * width
    indent = INDENT if chart.grouped else 0.0
    wrapped = {id(r): wrap_to(r.label, label_max - indent, LABEL_PT) for r in rows}
    headers = {g: wrap_to(g, label_max, LABEL_PT, weight="bold") for g in chart.groups if g}
    column = max(
        [indent + text_width(t, LABEL_PT) for t in wrapped.values()]
        + [text_width(t, LABEL_PT, weight="bold") for t in headers.values()]
    )
    left = PAD + column + GAP
    axes_width = width - left - right - PAD - 0.2
    notes = {
        id(r): wrap_to(r.note, axes_width + right - 0.1, NOTE_PT, style="italic")
        for r in rows
        if r.status != "ok"
    }
    heights = {
        id(r): max(
            _ROW,
            text_height(wrapped[id(r)], LABEL_PT) + 0.1,
            text_height(notes.get(id(r), ""), NOTE_PT) * 1.1 / LINESPACING + 0.1,
        )
        for r in rows
    }
    header_h = {g: max(_GROUP, text_height(t, LABEL_PT) + 0.14) for g, t in headers.items()}
    rows_height = sum(heights.values()) + sum(header_h.values())
    page = frame(chart.title, chart.subtitle, chart.footer, width)
    column_head = 0.26
    height = page.header_height + 0.14 + column_head + rows_height + AXIS_BLOCK + 0.1
    height += page.footer_height
    return _Layout(
        page, indent, left, axes_width, p_w, wrapped, notes, heights, headers, header_h,
        rows_height, column_head, height,
    )  # fmt: skip


def _draw_row(ax, inches, row: Difference, layout: _Layout, yc: float, xs, limit: float) -> None:
    """One comparison: its label, then its square and interval, or why it is withheld."""
    value_x, p_x = xs
    ax.text(
        PAD + layout.indent,
        yc,
        layout.labels[id(row)],
        transform=inches,
        ha="left",
        va="center",
        fontsize=LABEL_PT,
        linespacing=LINESPACING,
        color=INK if row.status == "ok" else MUTED,
        clip_on=False,
    )
    if row.status != "ok":
        draw_note(ax, yc, layout.notes[id(row)], NOTE_PT, x=-limit)
        return
    colour = PALETTE[0]
    if math.isfinite(row.low) and math.isfinite(row.high):
        ax.hlines(yc, row.low, row.high, colors=colour, linewidth=1.4, zorder=3)
    ax.plot(
        [row.difference],
        [yc],
        linestyle="none",
        marker="s",
        markersize=6.0,
        markerfacecolor=colour if row.significant else "white",
        markeredgecolor=colour,
        markeredgewidth=1.2,
        zorder=4,
    )
    text = {"transform": inches, "ha": "right", "va": "center", "clip_on": False}
    ax.text(value_x, yc, row.value, fontsize=VALUE_PT, color=INK, **text)
    ax.text(
        p_x,
        yc,
        row.p,
        fontsize=VALUE_PT,
        fontweight="bold" if row.significant else "normal",
        color=INK if row.significant else MUTED,
        **text,
    )


def _draw(chart: Forest, layout: _Layout, width: float) -> Figure:
    height = layout.height
    fig = framed_figure(layout.frame, width, height)
    bottom = layout.frame.footer_height + 0.1 + AXIS_BLOCK
    ax = fig.add_axes(
        (
            layout.left / width,
            bottom / height,
            layout.axes_width / width,
            layout.rows_height / height,
        )
    )
    limit, step = _axis_limit(chart.rows)
    ax.set_xlim(-limit, limit)
    ax.set_ylim(layout.rows_height, 0)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: signed(v, 0) if v else "0"))
    ax.set_xlabel(f"Difference (percentage points, a {_MINUS} b)", labelpad=5)
    ax.set_yticks([])
    ax.tick_params(axis="x", pad=3)
    ax.axvline(0.0, color=REFERENCE, linewidth=1.0, zorder=2)

    inches = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    value_x = width - PAD - layout.p_w - 0.16  # right edge of the difference column
    p_x = width - PAD
    head_y = height - layout.frame.header_height - 0.14 - layout.column_head / 2
    for text, x in ((chart.value_head, value_x), (chart.p_head, p_x)):
        page_text(
            fig, x, head_y, text, NOTE_PT, ha="right", va="center", linespacing=None, color=MUTED
        )
    y = 0.0
    for g_index, (group, members) in enumerate(chart.groups.items()):
        if g_index:
            ax.axhline(y, color=GRID, linewidth=0.8, zorder=1)
        if group in layout.headers:
            ax.text(
                PAD,
                y + layout.header_h[group] / 2 + 0.03,
                layout.headers[group],
                transform=inches,
                ha="left",
                va="center",
                fontsize=LABEL_PT,
                fontweight="bold",
                linespacing=LINESPACING,
                color=INK,
                clip_on=False,
            )
            y += layout.header_h[group]
        for row in members:
            h = layout.heights[id(row)]
            _draw_row(ax, inches, row, layout, y + h / 2, (value_x, p_x), limit)
            y += h
    return fig


def build_forest(table: pd.DataFrame, options: ForestOptions) -> Figure:
    """Build the forest plot of differences in prevalence.

    Raises
    ------
    PrevalenceError
        As :func:`select_forest`.
    """
    return _figure(select_forest(table, options), options)


def _figure(chart: Forest, options: ForestOptions) -> Figure:
    return render(
        chart, options.width, lambda: _draw(chart, _lay_out(chart, options.width), options.width)
    )


def plot_forest(table: pd.DataFrame, options: ForestOptions, *, out_stem: str | Path) -> list[Path]:
    """Write the chart of :func:`build_forest`: ``<out_stem>.png`` (300 dpi), ``.svg``, ``.pdf``
    and its data, ``.csv`` (:meth:`Forest.data`)."""
    chart = select_forest(table, options)
    return save(_figure(chart, options), out_stem, data=chart.data())
