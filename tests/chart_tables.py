"""Prevalence tables that the chart tests draw, and what they check in a figure."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.text import Text
from PIL import Image

from prevalence.stats.estimate import COLUMNS

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


def table_row(domain, value, indicator, n, p, *, suppressed=False, flag=""):
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
                table_row(
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


def texts_of(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def text_of(fig) -> str:
    return "\n".join(texts_of(fig))


def flatten(text: str) -> str:
    return " ".join(text.split())


def check_image(path: Path) -> None:
    with Image.open(path) as image:
        dpi = image.info["dpi"]
        assert round(dpi[0]) == 300 and round(dpi[1]) == 300
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.shape[0] > 600 and pixels.shape[1] > 1500  # 300 dpi, >= 5 in wide
    assert pixels.std() > 10
    assert (pixels < 128).mean() > 0.005  # a real amount of ink, not a blank page


DATA_COLUMNS = ["estimate", "ci_low", "ci_high", "n", "suppressed", "reason"]


def check_outputs(paths, stem: Path) -> None:
    """The images, then the chart's data as CSV (its last columns what is drawn)."""
    names = [f"{stem.name}.{ext}" for ext in ("png", "svg", "pdf", "csv")]
    assert [p.name for p in paths] == names
    data = pd.read_csv(paths[3])
    assert list(data.columns[-len(DATA_COLUMNS) :]) == DATA_COLUMNS
    for path in paths[:3]:
        assert path.is_file() and path.stat().st_size > 1000
    check_image(paths[0])
    assert paths[1].read_text(encoding="utf-8").lstrip().startswith("<?xml")
    pdf = paths[2].read_bytes()
    assert pdf.startswith(b"%PDF") and b"/CreationDate" not in pdf


WAVE_LABELS = {"W2016": "Global 2016", "W2021": "Africa 2021", "AP2025": WAVE_LABEL}
WAVES_NOTE = "The waves are separate convenience samples, not a panel."


def make_waves_table(table: pd.DataFrame) -> pd.DataFrame:
    """Three waves: AP2025 as above; two earlier waves without the online items."""
    earlier = []
    for wave, shift in (("W2016", 0.03), ("W2021", -0.05)):
        rows = [
            {**table_row("overall", "All", ind, 60, BASE[ind] + shift), "wave": wave}
            for ind in ("psych", "sexual", "physical", "threats")
        ]
        earlier.append(pd.DataFrame(rows, columns=COLUMNS))
    return pd.concat([*earlier, table], ignore_index=True)


def point_lines(ax) -> list:
    """Markers drawn as single-point lines."""
    return [line for line in ax.lines if len(line.get_xdata()) == 1]


def assert_inside_page(fig) -> None:
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


def heatmap_axes(fig):
    return next(ax for ax in fig.axes if ax.get_xticks().size and ax.get_ylim()[0] > 0.5)


def write_charts(table: pd.DataFrame, waves_table: pd.DataFrame, out: Path) -> list[Path]:
    """Every chart of a wave and of the study, written to ``out`` (15 files)."""
    from prevalence.publication import charts

    common = dict(wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS, source_note="Note.")
    return (
        charts.plot_by_indicator(
            table, charts.ByIndicatorOptions(**common), out_stem=out / "by_indicator"
        )
        + charts.plot_by_domain(
            table, charts.ByDomainOptions(**common, domain="region"), out_stem=out / "by_region"
        )
        + charts.plot_heatmap(
            table, charts.HeatmapOptions(**common, domain="region"), out_stem=out / "heatmap"
        )
        + charts.plot_of_whom(
            table, charts.OfWhomOptions(**common, parent="online"), out_stem=out / "of_whom"
        )
        + charts.plot_across_waves(
            waves_table,
            charts.AcrossWavesOptions(
                indicators=["psych", "online"],
                labels=LABELS,
                wave_labels=WAVE_LABELS,
                note=WAVES_NOTE,
            ),
            out_stem=out / "across_waves",
        )
    )
