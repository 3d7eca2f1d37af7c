"""The house style, the layout engine's text measuring, and reproducible files.

Every chart of :mod:`prevalence.publication.charts` leaves the global rcParams as they
were and writes the same bytes on every run and in every process.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import matplotlib as mpl
import pytest
from chart_tables import LABELS, WAVE_LABEL, WAVE_LABELS, make_table, make_waves_table, write_charts

from prevalence.publication import charts
from prevalence.publication.charts.cells import INTERVAL_NAMES
from prevalence.publication.charts.layout import fit_line, text_width, wrap_to
from prevalence.stats.intervals import METHOD_NAMES, METHODS


@pytest.fixture(scope="module")
def table():
    return make_table()


@pytest.fixture(scope="module")
def waves_table(table):
    return make_waves_table(table)


def test_house_style_is_a_plain_rc_dict():
    style = charts.house_style()
    assert style["font.sans-serif"] == [charts.FONT_FAMILY]
    assert style["axes.spines.top"] is False and style["axes.spines.right"] is False
    assert style["axes.grid.axis"] == "x"
    assert style["svg.hashsalt"] == "prevalence"
    assert style["svg.fonttype"] == "path"
    assert len(set(charts.PALETTE)) == len(charts.PALETTE) == 8
    with mpl.rc_context(style):  # every key is a valid rcParam
        assert mpl.rcParams["svg.hashsalt"] == "prevalence"


def test_charts_leave_rcparams_untouched(table, waves_table):
    before = dict(mpl.rcParams)
    common = dict(wave="AP2025", wave_label=WAVE_LABEL, labels=LABELS)
    charts.build_by_indicator(table, charts.ByIndicatorOptions(**common))
    charts.build_by_domain(table, charts.ByDomainOptions(**common, domain="region"))
    charts.build_heatmap(table, charts.HeatmapOptions(**common, domain="region"))
    charts.build_of_whom(table, charts.OfWhomOptions(**common, parent="online"))
    options = charts.AcrossWavesOptions(indicator="psych", labels=LABELS, wave_labels=WAVE_LABELS)
    charts.build_across_waves(waves_table, options)
    assert dict(mpl.rcParams) == before


@pytest.fixture(scope="module")
def written(table, waves_table, tmp_path_factory) -> list[Path]:
    return write_charts(table, waves_table, tmp_path_factory.mktemp("first"))


def test_reruns_are_byte_identical(table, waves_table, written, tmp_path):
    second = write_charts(table, waves_table, tmp_path / "two")
    assert len(written) == 20  # five charts, each as PNG, SVG, PDF and the CSV of its data
    for a, b in zip(written, second, strict=True):
        assert a.name == b.name
        assert a.read_bytes() == b.read_bytes(), a.name


def test_byte_identical_across_processes(table, waves_table, written, tmp_path):
    data = tmp_path / "tables.pkl"
    data.write_bytes(pickle.dumps((table, waves_table)))
    script = (
        "import pickle, sys\n"
        "from pathlib import Path\n"
        "from chart_tables import write_charts\n"
        "table, waves_table = pickle.loads(Path(sys.argv[1]).read_bytes())\n"
        "write_charts(table, waves_table, Path(sys.argv[2]))\n"
    )
    env = {
        **os.environ,
        "PYTHONHASHSEED": "54321",
        "SOURCE_DATE_EPOCH": "0",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
        ),
    }
    there = tmp_path / "there"
    subprocess.run(
        [sys.executable, "-c", script, str(data), str(there)], check=True, env=env, timeout=120
    )
    for path in written:
        assert path.read_bytes() == (there / path.name).read_bytes(), path.name


def test_long_suppression_reasons_are_shortened_to_one_line():
    text = "Pacific: suppressed (sample size n < 30; effective sample size < 30; CI width >= 30 points)"
    short = fit_line(text, 3.0, 8.0)
    assert short == "Pacific: suppressed (sample size n < 30; +2 more)"
    assert text_width(short, 8.0, style="italic") <= 3.0
    assert fit_line("A: suppressed (n < 30)", 3.0, 8.0) == "A: suppressed (n < 30)"
    tiny = fit_line(text, 1.0, 8.0)
    assert tiny.endswith("…") and text_width(tiny, 8.0, style="italic") <= 1.0


def test_wrapped_text_fits_its_width_and_keeps_words_whole():
    text = "Threats of death, rape, beatings or abduction of the member or of her family"
    for width in (1.0, 2.0, 4.0):
        wrapped = wrap_to(text, width, 9.0)
        assert text_width(wrapped, 9.0) <= width
        assert wrapped.split() == text.split()
    assert "\n" not in wrap_to(text, 20.0, 9.0)


def test_every_interval_method_has_its_caption_name() -> None:
    """Captions name a method as the table notes do (e.g. Korn–Graubard, not korn-graubard)."""
    for method in METHODS:
        assert INTERVAL_NAMES[method] == METHOD_NAMES[method]
