"""Tests of the publication charts in :mod:`prevalence.figures`."""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text
from PIL import Image

from prevalence.errors import PrevalenceError
from prevalence.estimate import COLUMNS
from prevalence.figures import (
    FONT_FAMILY,
    PALETTE,
    REQUIRED_COLUMNS,
    build_across_waves,
    build_by_domain,
    build_by_indicator,
    build_heatmap,
    build_of_whom,
    house_style,
    plot_across_waves,
    plot_by_domain,
    plot_by_indicator,
    plot_heatmap,
    plot_of_whom,
)

LABELS = {
    "psych": "Psychological violence",
    "online": "Online gender-based violence",
    "hate": "Online hate speech",
    "sexual": "Sexual harassment",
    "physical": "Physical violence",
    "threats": "Threats of death, rape, beatings or abduction",
}
PARENT = {"hate": "online"}
WAVE_LABEL = "Asia-Pacific 2025"
SUPPRESSION_FLAG = "fewer than 10 respondents"

# Overall estimates (proportions); regions shift them a little.
BASE = {
    "psych": 0.818,
    "online": 0.60,
    "hate": 0.38,
    "sexual": 0.25,
    "physical": 0.20,
    "threats": 0.44,
}
CELLS = {
    ("overall", "All"): (55, 0.0),
    ("region", "Africa"): (20, 0.05),
    ("region", "Asia"): (25, -0.04),
    ("region", "Pacific"): (10, 0.02),
}


def _row(domain, value, indicator, n, p, *, suppressed=False, flag=""):
    if n == 0:
        estimate = se = low = high = math.nan
        cases = 0
    else:
        cases = round(p * n)
        estimate = cases / n
        se = math.sqrt(estimate * (1 - estimate) / n)
        low, high = max(0.0, estimate - 1.96 * se), min(1.0, estimate + 1.96 * se)
    return {
        "wave": "AP2025",
        "domain": domain,
        "domain_value": value,
        "indicator": indicator,
        "denominator": PARENT.get(indicator, "all"),
        "n": n,
        "cases": cases,
        "estimate": estimate,
        "se": se,
        "ci_low": low,
        "ci_high": high,
        "ci_method": "logit",
        "level": 0.95,
        "deff": 1.0,
        "n_eff": float(n),
        "df": max(n - 1, 0),
        "suppressed": suppressed,
        "flag": flag,
    }


def make_table() -> pd.DataFrame:
    """Six indicators (one "of whom"), overall + 3 regions.

    Pacific / hate is suppressed; Asia / physical has no respondents.
    """
    rows = []
    for (domain, value), (n_all, shift) in CELLS.items():
        for indicator, p in BASE.items():
            parent = PARENT.get(indicator)
            n = n_all if parent is None else round(n_all * BASE[parent])
            suppressed = (value, indicator) == ("Pacific", "hate")
            if (value, indicator) == ("Asia", "physical"):
                n = 0
            rows.append(
                _row(
                    domain,
                    value,
                    indicator,
                    n,
                    p + shift,
                    suppressed=suppressed,
                    flag=SUPPRESSION_FLAG if suppressed else "",
                )
            )
    return pd.DataFrame(rows, columns=COLUMNS)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table()


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def _joined(fig) -> str:
    return "\n".join(_texts(fig))


def _flat(text: str) -> str:
    return " ".join(text.split())


def _check_image(path: Path) -> None:
    with Image.open(path) as image:
        dpi = image.info["dpi"]
        assert round(dpi[0]) == 300 and round(dpi[1]) == 300
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.shape[0] > 600 and pixels.shape[1] > 1500  # 300 dpi, >= 5 in wide
    assert pixels.std() > 10
    assert (pixels < 128).mean() > 0.005  # a real amount of ink, not a blank page


def _check_outputs(paths, stem: Path) -> None:
    assert [p.name for p in paths] == [f"{stem.name}.png", f"{stem.name}.svg", f"{stem.name}.pdf"]
    for path in paths:
        assert path.is_file() and path.stat().st_size > 1000
    _check_image(paths[0])
    assert paths[1].read_text(encoding="utf-8").lstrip().startswith("<?xml")
    pdf = paths[2].read_bytes()
    assert pdf.startswith(b"%PDF") and b"/CreationDate" not in pdf


# --------------------------------------------------------------------------
# House style
# --------------------------------------------------------------------------


def test_house_style_is_a_plain_rc_dict():
    style = house_style()
    assert style["font.sans-serif"] == [FONT_FAMILY]
    assert style["axes.spines.top"] is False and style["axes.spines.right"] is False
    assert style["axes.grid.axis"] == "x"
    assert style["svg.hashsalt"] == "prevalence"
    assert style["svg.fonttype"] == "path"
    assert len(set(PALETTE)) == len(PALETTE) == 8
    with mpl.rc_context(style):  # every key is a valid rcParam
        assert mpl.rcParams["svg.hashsalt"] == "prevalence"


def test_global_rcparams_untouched(table, tmp_path):
    before = dict(mpl.rcParams)
    plot_by_indicator(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        out_stem=tmp_path / "a",
        source_note=None,
    )
    build_by_domain(table, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region")
    assert dict(mpl.rcParams) == before


# --------------------------------------------------------------------------
# Bars by indicator
# --------------------------------------------------------------------------


def test_plot_by_indicator_writes_png_svg_pdf(table, tmp_path):
    stem = tmp_path / "sub" / "overall.v1"
    paths = plot_by_indicator(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        out_stem=stem,
        source_note="Survey of women members of parliament.",
    )
    _check_outputs(paths, stem)


def test_by_indicator_labels_values_and_source(table):
    fig = build_by_indicator(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        source_note="Survey of women members of parliament.",
    )
    text = _flat(_joined(fig))
    for label in LABELS.values():
        assert label in text
    assert "Online hate speech (of those with online gender-based violence)" in text
    assert "81.8%" in _texts(fig)  # 45/55
    assert "n = 55" in _texts(fig)
    assert "n = 33" in _texts(fig)  # the "of whom" base
    assert "Source: Asia-Pacific 2025; n = 55; 95% logit intervals." in text
    assert "Survey of women members of parliament." in text
    assert WAVE_LABEL in text


def test_by_indicator_sorted_by_estimate_with_child_under_parent(table):
    fig = build_by_indicator(table, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS)
    (ax,) = fig.axes
    y = {}
    for t in ax.texts:
        flat = _flat(t.get_text())
        for ind, label in LABELS.items():
            if flat == label or flat.startswith(f"{label} (of those"):
                y[ind] = t.get_position()[1]
    assert set(y) == set(LABELS)
    order = sorted(y, key=y.get)  # y grows downwards (inverted axis)
    assert order == ["psych", "online", "hate", "threats", "sexual", "physical"]
    # the conditional bar is lighter than the others
    bars = {round(p.get_y() + p.get_height() / 2, 6): p for p in ax.patches}
    hate = bars[round(y["hate"], 6)]
    psych = bars[round(y["psych"], 6)]
    assert sum(hate.get_facecolor()[:3]) > sum(psych.get_facecolor()[:3])


def test_by_indicator_suppressed_and_empty_cells(table):
    fig = build_by_indicator(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        domain="region",
        domain_value="Pacific",
    )
    texts = _texts(fig)
    assert f"suppressed ({SUPPRESSION_FLAG})" in [_flat(t) for t in texts]
    (ax,) = fig.axes
    assert len(ax.patches) == 5  # no bar for the suppressed indicator
    assert "Region: Pacific" in _joined(fig)

    fig = build_by_indicator(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        domain="region",
        domain_value="Asia",
    )
    assert "no respondents" in _texts(fig)
    assert len(fig.axes[0].patches) == 5


def test_suppressed_text_in_svg(table, tmp_path):
    paths = plot_by_indicator(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        domain="region",
        domain_value="Pacific",
        out_stem=tmp_path / "pacific",
        source_note=None,
    )
    svg = paths[1].read_text(encoding="utf-8")
    # text is stored as paths; matplotlib keeps the string as an XML comment
    assert f"suppressed ({SUPPRESSION_FLAG})" in svg
    # and no estimate of the suppressed cell is printed anywhere
    suppressed = table.query("domain_value == 'Pacific' and indicator == 'hate'").iloc[0]
    assert f"{100 * suppressed['estimate']:.1f}%" not in svg


def test_by_indicator_all_suppressed_and_empty_selection(table, tmp_path):
    hidden = table.assign(suppressed=True, flag="small cell")
    paths = plot_by_indicator(
        hidden,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        out_stem=tmp_path / "hidden",
        source_note=None,
    )
    _check_outputs(paths, tmp_path / "hidden")
    fig = build_by_indicator(hidden, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS)
    assert [_flat(t) for t in _texts(fig)].count("suppressed (small cell)") == 6
    assert len(fig.axes[0].patches) == 0
    assert "every cell is suppressed" in _joined(fig)

    for empty, kwargs in [
        (table.iloc[:0], {}),
        (table, {"domain": "region", "domain_value": "Europe"}),
        (table, {"wave": "no-such-wave"}),
    ]:
        args = {"wave": "AP2025", **kwargs}
        fig = build_by_indicator(empty, wave_label=WAVE_LABEL, labels=LABELS, **args)
        assert "No estimates" in _joined(fig)
    paths = plot_by_indicator(
        table.iloc[:0],
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        out_stem=tmp_path / "empty",
        source_note=None,
    )
    _check_outputs(paths, tmp_path / "empty")


def test_height_grows_with_number_of_bars(table):
    few = table[table["indicator"].isin(["psych", "online"])]
    small = build_by_indicator(few, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS)
    large = build_by_indicator(table, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS)
    assert large.get_figheight() > small.get_figheight() + 1.0
    assert large.get_figwidth() == small.get_figwidth()


def test_long_labels_wrap_and_nothing_leaves_the_figure(table):
    labels = dict(LABELS)
    labels["threats"] = (
        "Threats of death, rape, beatings or abduction against her or her family, "
        "made in person, by letter, by telephone or online"
    )
    fig = build_by_indicator(table, wave="AP2025", wave_label=WAVE_LABEL, labels=labels)
    assert any(labels["threats"][:20] in t and "\n" in t for t in _texts(fig))
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    (ax,) = fig.axes
    plot_left = ax.get_window_extent(renderer).x0
    hidden_ticks = {
        id(label)
        for tick in ax.xaxis.get_major_ticks()
        if not 0 <= tick.get_loc() <= 100
        for label in (tick.label1, tick.label2)
    }
    for t in fig.findobj(Text):
        if not (t.get_visible() and t.get_text()) or id(t) in hidden_ticks:
            continue
        box = t.get_window_extent(renderer)
        assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1, t.get_text()
        assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1, t.get_text()
    # row labels sit left of the plotting area and do not overlap each other
    boxes = sorted(
        (
            t.get_window_extent(renderer)
            for t in ax.texts
            if t.get_window_extent(renderer).x1 < plot_left
        ),
        key=lambda b: b.y0,
    )
    assert len(boxes) >= len(LABELS)
    for lower, upper in zip(boxes, boxes[1:], strict=False):
        if lower.x1 > upper.x0 and upper.x1 > lower.x0:  # same column
            assert lower.y1 <= upper.y0 + 1


def test_bad_tables_raise_prevalence_error(table):
    with pytest.raises(PrevalenceError, match="lacks column"):
        build_by_indicator(
            table.drop(columns=["suppressed"]),
            wave="AP2025",
            wave_label=WAVE_LABEL,
            labels=LABELS,
        )
    percent = table.assign(estimate=table["estimate"] * 100)
    with pytest.raises(PrevalenceError, match="proportions"):
        build_by_indicator(percent, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS)
    doubled = pd.concat([table, table.iloc[:1]], ignore_index=True)
    with pytest.raises(PrevalenceError, match="two rows"):
        build_by_indicator(doubled, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS)
    assert set(REQUIRED_COLUMNS) <= set(COLUMNS)


# --------------------------------------------------------------------------
# Dots by domain
# --------------------------------------------------------------------------


def test_plot_by_domain_writes_png_svg_pdf(table, tmp_path):
    stem = tmp_path / "by_region"
    paths = plot_by_domain(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        domain="region",
        out_stem=stem,
        source_note="Survey of women members of parliament.",
    )
    _check_outputs(paths, stem)


def test_by_domain_legend_n_labels_and_suppression(table):
    fig = build_by_domain(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        domain="region",
        source_note=None,
    )
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [
        "Africa (n = 20)",
        "Asia (n = 25)",
        "Pacific (n = 10)",
        "All respondents (n = 55)",
    ]
    texts = [_flat(t) for t in _texts(fig)]
    assert f"Pacific: suppressed ({SUPPRESSION_FLAG})" in texts
    assert "Asia: no respondents" in texts
    text = _flat(_joined(fig))
    for label in LABELS.values():
        assert label in text
    assert "Source: Asia-Pacific 2025; n = 55; 95% logit intervals." in text
    # 6 indicators x 3 regions, less one suppressed and one empty cell
    (ax,) = fig.axes
    points = [line for line in ax.lines if len(line.get_xdata()) == 1]
    assert len(points) == 6 * 3 - 2


def test_by_domain_subset_order_and_unknown_indicator(table):
    fig = build_by_domain(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        domain="region",
        indicators=["sexual", "hate"],
    )
    text = _flat(_joined(fig))
    assert "Sexual harassment" in text
    assert "Online hate speech (of those with online gender-based violence)" in text
    assert "Psychological violence" not in text
    labels_y = {
        _flat(t.get_text()): t.get_position()[1]
        for t in fig.axes[0].texts
        if _flat(t.get_text()).startswith(("Sexual", "Online hate"))
    }
    assert labels_y["Sexual harassment"] < min(v for k, v in labels_y.items() if "hate" in k)
    with pytest.raises(PrevalenceError, match="not in the prevalence table"):
        build_by_domain(
            table,
            wave="AP2025",
            wave_label=WAVE_LABEL,
            labels=LABELS,
            domain="region",
            indicators=["nope"],
        )


def test_by_domain_all_suppressed_and_empty(table, tmp_path):
    hidden = table.assign(suppressed=True, flag="small cell")
    fig = build_by_domain(
        hidden, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region"
    )
    points = [line for line in fig.axes[0].lines if len(line.get_xdata()) == 1]
    assert points == []
    assert "every cell is suppressed" in _joined(fig)
    paths = plot_by_domain(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        domain="role",
        out_stem=tmp_path / "role",
        source_note=None,
    )
    _check_outputs(paths, tmp_path / "role")
    for domain in ("role", "region+role"):
        fig = build_by_domain(
            table, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain=domain
        )
        assert "No estimates" in _joined(fig)


# --------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------


def _write_both(table, out: Path) -> list[Path]:
    return plot_by_indicator(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        out_stem=out / "by_indicator",
        source_note="Note.",
    ) + plot_by_domain(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        domain="region",
        out_stem=out / "by_region",
        source_note="Note.",
    )


@pytest.fixture(scope="module")
def written(table, tmp_path_factory) -> list[Path]:
    return _write_both(table, tmp_path_factory.mktemp("first"))


def test_reruns_are_byte_identical(table, written, tmp_path):
    first = written
    second = _write_both(table, tmp_path / "two")
    assert len(first) == 6
    for a, b in zip(first, second, strict=True):
        assert a.name == b.name
        assert a.read_bytes() == b.read_bytes(), a.name


def test_byte_identical_across_processes(table, written, tmp_path):
    here = written
    data = tmp_path / "table.pkl"
    data.write_bytes(pickle.dumps((table, LABELS, WAVE_LABEL)))
    script = (
        "import pickle, sys\n"
        "from pathlib import Path\n"
        "from prevalence.figures import plot_by_domain, plot_by_indicator\n"
        "table, labels, wave_label = pickle.loads(Path(sys.argv[1]).read_bytes())\n"
        "out = Path(sys.argv[2])\n"
        "plot_by_indicator(table, wave='AP2025', wave_label=wave_label, labels=labels,\n"
        "    out_stem=out / 'by_indicator', source_note='Note.')\n"
        "plot_by_domain(table, wave='AP2025', wave_label=wave_label, labels=labels,\n"
        "    domain='region', out_stem=out / 'by_region', source_note='Note.')\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "SOURCE_DATE_EPOCH": "0"}
    there = tmp_path / "there"
    subprocess.run(
        [sys.executable, "-c", script, str(data), str(there)], check=True, env=env, timeout=120
    )
    for path in here:
        assert path.read_bytes() == (there / path.name).read_bytes(), path.name


# --------------------------------------------------------------------------
# Heatmap, "of whom" and across-waves charts
# --------------------------------------------------------------------------

WAVE_LABELS = {"W2016": "Global 2016", "W2021": "Africa 2021", "AP2025": WAVE_LABEL}
WAVES_NOTE = "The waves are separate convenience samples, not a panel."


def make_waves_table(table: pd.DataFrame) -> pd.DataFrame:
    """Three waves: AP2025 as above; two earlier waves without the online items."""
    earlier = []
    for wave, shift in (("W2016", 0.03), ("W2021", -0.05)):
        rows = [
            {**_row("overall", "All", ind, 60, BASE[ind] + shift), "wave": wave}
            for ind in ("psych", "sexual", "physical", "threats")
        ]
        earlier.append(pd.DataFrame(rows, columns=COLUMNS))
    return pd.concat([*earlier, table], ignore_index=True)


@pytest.fixture(scope="module")
def waves_table(table) -> pd.DataFrame:
    return make_waves_table(table)


def _points(ax) -> list:
    """Markers drawn as single-point lines."""
    return [line for line in ax.lines if len(line.get_xdata()) == 1]


def _inside_page(fig) -> None:
    """No visible text leaves the figure."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    undrawn = set()  # labels of ticks outside the view, which are never drawn
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks():
                if not low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                    undrawn.update({id(tick.label1), id(tick.label2)})
    for t in fig.findobj(Text):
        if not (t.get_visible() and t.get_text()) or id(t) in undrawn:
            continue
        box = t.get_window_extent(renderer)
        assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1, t.get_text()
        assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1, t.get_text()


def _heatmap_axes(fig):
    return next(ax for ax in fig.axes if ax.get_xticks().size and ax.get_ylim()[0] > 0.5)


def test_plot_heatmap_writes_png_svg_pdf(table, tmp_path):
    stem = tmp_path / "heat" / "by_region"
    paths = plot_heatmap(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        domain="region",
        out_stem=stem,
        source_note="Survey of women members of parliament.",
    )
    _check_outputs(paths, stem)


def test_heatmap_headers_values_colour_bar_and_conditional_rows(table):
    fig = build_heatmap(table, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region")
    ax = _heatmap_axes(fig)
    headers = [t.get_text() for t in ax.get_xticklabels()]
    assert headers == [
        "All respondents\nn = 55",
        "Africa\nn = 20",
        "Asia\nn = 25",
        "Pacific\nn = 10",
    ]
    texts = _texts(fig)
    assert "82%" in texts  # psych, all respondents: 45/55
    assert "Percent" in texts  # colour bar label
    text = _flat(_joined(fig))
    assert "Online hate speech (of those with online gender-based violence)" in text
    assert "\u21b3" in texts
    assert "are percentages of the respondents in the parent category" in text
    assert "Source: Asia-Pacific 2025; n = 55; 95% logit intervals." in text
    # value text contrasts with its cell: white on the darkest, ink on the lightest
    cells = {t.get_text(): t for t in ax.texts if t.get_text().endswith("%")}
    darkest = max(cells, key=lambda s: float(s.rstrip("%")))
    lightest = min(cells, key=lambda s: float(s.rstrip("%")))
    assert mpl.colors.to_hex(cells[darkest].get_color()) == "#ffffff"
    assert mpl.colors.to_hex(cells[lightest].get_color()) != "#ffffff"
    _inside_page(fig)


def test_heatmap_suppressed_cells_show_mark_and_no_value(table, tmp_path):
    # give the suppressed row a value no other cell has, to look for it in the output
    secret = (table["domain_value"] == "Pacific") & (table["indicator"] == "hate")
    table = table.copy()
    table.loc[secret, "estimate"] = 0.987
    fig = build_heatmap(table, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region")
    ax = _heatmap_axes(fig)
    pacific = [t.get_text() for t in ax.get_xticklabels()].index("Pacific\nn = 10")
    centre = ax.get_xticks()[pacific]
    hate_y = next(
        t.get_position()[1]
        for t in ax.texts
        if _flat(t.get_text()).startswith("Online hate speech")
    )
    in_cell = [
        t.get_text()
        for t in ax.texts
        if abs(t.get_position()[0] - centre) < 1e-9 and abs(t.get_position()[1] - hate_y) < 1e-9
    ]
    assert in_cell == ["\u2013"]
    assert any(p.get_hatch() for p in ax.patches)
    assert f"suppressed ({SUPPRESSION_FLAG})" in [_flat(t) for t in _texts(fig)]
    assert "n/a" in _texts(fig)  # Asia / physical has no respondents
    paths = plot_heatmap(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        domain="region",
        out_stem=tmp_path / "heat",
    )
    assert "99%" not in _texts(fig)
    assert "99%" not in paths[1].read_text(encoding="utf-8")


def test_heatmap_hidden_n_all_suppressed_and_empty(table, tmp_path):
    hidden_n = table.assign(n_suppressed=table["domain_value"] == "Asia")
    fig = build_heatmap(
        hidden_n, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region"
    )
    headers = [t.get_text() for t in _heatmap_axes(fig).get_xticklabels()]
    assert "Asia\nn withheld" in headers
    assert "n = 25" not in _joined(fig)

    hidden = table.assign(suppressed=True, flag="small cell")
    fig = build_heatmap(
        hidden, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region"
    )
    assert "every cell is suppressed" in _joined(fig)
    assert not [t for t in _texts(fig) if t.endswith("%") and t[0].isdigit()]
    assert _texts(fig).count("\u2013") == 6 * 4 + 1  # every cell, plus the legend key
    paths = plot_heatmap(
        hidden,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        domain="region",
        out_stem=tmp_path / "hidden",
    )
    _check_outputs(paths, tmp_path / "hidden")
    for domain in ("role", "region+role"):
        fig = build_heatmap(
            table, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain=domain
        )
        assert "No estimates" in _joined(fig)
    with pytest.raises(PrevalenceError, match="not in the prevalence table"):
        build_heatmap(
            table,
            wave="AP2025",
            wave_label=WAVE_LABEL,
            labels=LABELS,
            domain="region",
            indicators=["nope"],
        )


def test_heatmap_long_labels_and_many_columns_stay_on_the_page(table):
    many = []
    for i in range(12):
        part = table[table["domain_value"] == "Africa"].assign(
            domain_value=f"Southern Africa region number {i}"
        )
        many.append(part)
    wide = pd.concat([table[table["domain"] == "overall"], *many], ignore_index=True)
    labels = dict(LABELS)
    labels["threats"] = (
        "Threats of death, rape, beatings or abduction against her or her family, "
        "made in person, by letter, by telephone or online"
    )
    fig = build_heatmap(wide, wave="AP2025", wave_label=WAVE_LABEL, labels=labels, domain="region")
    assert any(labels["threats"][:20] in t and "\n" in t for t in _texts(fig))
    _inside_page(fig)


def test_plot_of_whom_writes_png_svg_pdf(table, tmp_path):
    stem = tmp_path / "of_whom"
    paths = plot_of_whom(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        parent="online",
        out_stem=stem,
        source_note="Survey of women members of parliament.",
    )
    _check_outputs(paths, stem)


def test_of_whom_states_the_parent_group(table):
    fig = build_of_whom(table, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, parent="online")
    texts = [_flat(t) for t in _texts(fig)]
    assert "All respondents" in texts
    assert "Of those who experienced online gender-based violence" in texts
    assert "Percent of those who experienced online gender-based violence" in texts
    assert "60.0%" in texts and "n = 55" in texts  # parent: 33 of 55 respondents
    assert "39.4%" in texts and "n = 33" in texts  # child: 13 of the 33
    text = _flat(_joined(fig))
    assert "are of the respondents who experienced online gender-based violence, not of all" in text
    # the children are not presented as "of those with ..." rows of all respondents
    assert "Online hate speech" in texts
    _inside_page(fig)


def test_of_whom_suppressed_child_missing_children_and_empty(table):
    fig = build_of_whom(
        table,
        wave="AP2025",
        wave_label=WAVE_LABEL,
        labels=LABELS,
        parent="online",
        domain="region",
        domain_value="Pacific",
    )
    texts = [_flat(t) for t in _texts(fig)]
    assert f"suppressed ({SUPPRESSION_FLAG})" in texts
    suppressed = table.query("domain_value == 'Pacific' and indicator == 'hate'").iloc[0]
    assert f"{100 * suppressed['estimate']:.1f}%" not in texts
    assert "Region: Pacific" in _joined(fig)

    fig = build_of_whom(table, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, parent="psych")
    assert "No breakdown of psychological violence in the table." in _texts(fig)

    hidden = table.assign(suppressed=True, flag="small cell")
    fig = build_of_whom(
        hidden, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, parent="online"
    )
    assert "every cell is suppressed" in _joined(fig)
    assert not [t for t in _texts(fig) if t.endswith("%") and t[0].isdigit()]

    for empty, wave in ((table.iloc[:0], "AP2025"), (table, "no-such-wave")):
        fig = build_of_whom(empty, wave=wave, wave_label=WAVE_LABEL, labels=LABELS, parent="online")
        assert "No estimates of online gender-based violence" in _joined(fig)


def test_plot_across_waves_writes_png_svg_pdf(waves_table, tmp_path):
    stem = tmp_path / "waves" / "psych"
    paths = plot_across_waves(
        waves_table,
        indicator="psych",
        labels=LABELS,
        wave_labels=WAVE_LABELS,
        out_stem=stem,
        note=WAVES_NOTE,
    )
    _check_outputs(paths, stem)


def test_across_waves_missing_wave_has_no_point_and_a_note(waves_table):
    fig = build_across_waves(
        waves_table, indicator="online", labels=LABELS, wave_labels=WAVE_LABELS, note=WAVES_NOTE
    )
    (ax,) = fig.axes
    points = _points(ax)
    assert len(points) == 1
    assert points[0].get_xdata()[0] == pytest.approx(2)  # AP2025 only, no zeros elsewhere
    texts = [_flat(t) for t in _texts(fig)]
    assert "not asked in Global 2016" in texts
    assert "not asked in Africa 2021" in texts
    assert WAVES_NOTE in _flat(_joined(fig))
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["Global 2016\nn = 60", "Africa 2021\nn = 60", f"{WAVE_LABEL}\nn = 55"]
    assert "60.0%" in texts
    _inside_page(fig)

    fig = build_across_waves(waves_table, indicator="psych", labels=LABELS, wave_labels=WAVE_LABELS)
    assert len(_points(fig.axes[0])) == 3
    assert "not asked" not in _joined(fig)
    assert WAVES_NOTE not in _joined(fig)  # the note is opt-in


def test_across_waves_several_indicators_dodged_in_given_order(waves_table):
    order = {"AP2025": WAVE_LABEL, "W2016": "Global 2016", "W2021": "Africa 2021"}
    fig = build_across_waves(
        waves_table,
        indicators=["psych", "hate"],
        labels=LABELS,
        wave_labels=order,
        note=WAVES_NOTE,
    )
    (ax,) = fig.axes
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == list(order.values())
    points = _points(ax)
    assert len(points) == 3 + 1
    colours = {mpl.colors.to_hex(p.get_color()) for p in points}
    assert len(colours) == 2
    xs = sorted(p.get_xdata()[0] for p in points)
    assert all(x != round(x) for x in xs)  # dodged off the wave centre
    legend = [_flat(t.get_text()) for t in fig.legends[0].get_texts()]
    assert legend[0] == "Psychological violence"
    assert legend[1].startswith("Online hate speech (of those with online gender-based violence)")
    assert "not asked in Global 2016, Africa 2021" in legend[1]
    assert "Open markers" in _joined(fig)
    _inside_page(fig)


def test_across_waves_suppressed_empty_and_bad_arguments(waves_table):
    hidden = waves_table.assign(suppressed=True, flag="small cell")
    fig = build_across_waves(hidden, indicator="psych", labels=LABELS, wave_labels=WAVE_LABELS)
    assert _points(fig.axes[0]) == []
    assert "every cell is suppressed" in _joined(fig)
    assert "suppressed in Global 2016 (small cell)" in [_flat(t) for t in _texts(fig)]
    fig = build_across_waves(waves_table, indicator="nope", labels=LABELS, wave_labels=WAVE_LABELS)
    assert "No estimates of nope" in _joined(fig)
    fig = build_across_waves(waves_table.iloc[:0], indicator="psych", labels=LABELS, wave_labels={})
    assert "No estimates" in _joined(fig)
    with pytest.raises(PrevalenceError, match="either"):
        build_across_waves(waves_table, labels=LABELS, wave_labels=WAVE_LABELS)
    with pytest.raises(PrevalenceError, match="either"):
        build_across_waves(
            waves_table,
            indicator="psych",
            indicators=["psych"],
            labels=LABELS,
            wave_labels=WAVE_LABELS,
        )


def _write_new_charts(table, waves_table, out: Path) -> list[Path]:
    return (
        plot_heatmap(
            table,
            wave="AP2025",
            wave_label=WAVE_LABEL,
            labels=LABELS,
            domain="region",
            out_stem=out / "heatmap",
            source_note="Note.",
        )
        + plot_of_whom(
            table,
            wave="AP2025",
            wave_label=WAVE_LABEL,
            labels=LABELS,
            parent="online",
            out_stem=out / "of_whom",
            source_note="Note.",
        )
        + plot_across_waves(
            waves_table,
            indicators=["psych", "online"],
            labels=LABELS,
            wave_labels=WAVE_LABELS,
            out_stem=out / "across_waves",
            note=WAVES_NOTE,
        )
    )


def test_new_charts_rerun_byte_identical(table, waves_table, tmp_path):
    first = _write_new_charts(table, waves_table, tmp_path / "one")
    second = _write_new_charts(table, waves_table, tmp_path / "two")
    assert len(first) == 9
    for a, b in zip(first, second, strict=True):
        assert a.name == b.name
        assert a.read_bytes() == b.read_bytes(), a.name


def test_new_charts_leave_rcparams_untouched(table, waves_table):
    before = dict(mpl.rcParams)
    build_heatmap(table, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, domain="region")
    build_of_whom(table, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, parent="online")
    build_across_waves(waves_table, indicator="psych", labels=LABELS, wave_labels=WAVE_LABELS)
    assert dict(mpl.rcParams) == before


def test_new_charts_byte_identical_across_processes(table, waves_table, tmp_path):
    here = _write_new_charts(table, waves_table, tmp_path / "here")
    data = tmp_path / "tables.pkl"
    data.write_bytes(pickle.dumps((table, waves_table)))
    script = (
        "import pickle, sys\n"
        "from pathlib import Path\n"
        "from test_figures import _write_new_charts\n"
        "table, waves_table = pickle.loads(Path(sys.argv[1]).read_bytes())\n"
        "_write_new_charts(table, waves_table, Path(sys.argv[2]))\n"
    )
    env = {
        **os.environ,
        "PYTHONHASHSEED": "54321",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
        ),
    }
    there = tmp_path / "there"
    subprocess.run(
        [sys.executable, "-c", script, str(data), str(there)], check=True, env=env, timeout=120
    )
    for path in here:
        assert path.read_bytes() == (there / path.name).read_bytes(), path.name


def test_of_whom_and_across_waves_withhold_hidden_n(table, waves_table):
    hidden = table.assign(n_suppressed=table["indicator"].isin(["online", "hate"]))
    fig = build_of_whom(
        hidden, wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, parent="online"
    )
    texts = _texts(fig)
    assert texts.count("n withheld") == 2
    assert "n = 55" not in texts and "n = 33" not in texts
    assert "Source: Asia-Pacific 2025; 95% logit intervals." in _flat(_joined(fig))

    hidden = waves_table.assign(n_suppressed=waves_table["wave"] == "W2016")
    fig = build_across_waves(hidden, indicator="psych", labels=LABELS, wave_labels=WAVE_LABELS)
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks[0] == "Global 2016\nn withheld"
    assert "n withheld" in _texts(fig)  # at the point, too
    assert "n = 60" in _texts(fig)  # the other waves keep theirs


def test_long_suppression_reasons_are_shortened_to_one_line():
    from prevalence.figures import _fit_line, _text_width

    text = "Pacific: suppressed (sample size n < 30; effective sample size < 30; CI width >= 30 points)"
    short = _fit_line(text, 3.0, 8.0)
    assert short == "Pacific: suppressed (sample size n < 30; +2 more)"
    assert _text_width(short, 8.0, style="italic") <= 3.0
    assert _fit_line("A: suppressed (n < 30)", 3.0, 8.0) == "A: suppressed (n < 30)"
    tiny = _fit_line(text, 1.0, 8.0)
    assert tiny.endswith("…") and _text_width(tiny, 8.0, style="italic") <= 1.0


def test_every_interval_method_has_its_caption_name() -> None:
    """Captions name a method as the table notes do (e.g. Korn–Graubard, not korn-graubard)."""
    from prevalence import figures
    from prevalence.intervals import METHOD_NAMES, METHODS

    for method in METHODS:
        assert figures._METHOD_NAMES[method] == METHOD_NAMES[method]
