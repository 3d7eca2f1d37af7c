"""The house style of every chart: rc settings, colours, font sizes and lengths.

Charts are drawn inside ``matplotlib.rc_context(house_style())``, so the global
``rcParams`` are never changed. Lengths are in inches, font sizes in points.
"""

from __future__ import annotations

import matplotlib as mpl
from matplotlib import cycler

__all__ = [
    "FONT_FAMILY",
    "MARKERS",
    "PALETTE",
    "group_style",
    "house_style",
    "text_colour_on",
    "tint",
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

XLABEL = "Percent of respondents"
DPI = 300
WIDTH = 7.5  # inches: full text width of an A4 / letter report page

# Colours.
INK = "#1A1A1A"
MUTED = "#5C5C5C"
SPINE = "#4D4D4D"
GRID = "#DCDCDC"
WHISKER = "#262626"
REFERENCE = "#333333"

# Font sizes (points).
TITLE_PT = 12.5
SUBTITLE_PT = 9.5
LABEL_PT = 9.0
VALUE_PT = 8.5
NOTE_PT = 7.5
TICK_PT = 8.5
LINESPACING = 1.2

# Layout (inches).
PAD = 0.18  # outer margin
GAP = 0.14  # gap between label column and axes
INDENT = 0.2  # indentation per level of conditional indicator
ARROW = "\u21b3"  # downwards arrow with tip rightwards, marks "of whom" rows
BAR_HEIGHT = 0.24
VALUE_OFFSET = 4.0  # points between a whisker end and its value label
ROW_MIN = 0.36
SLOT = 0.17  # vertical space per domain value in the dot chart
AXIS_BLOCK = 0.52  # tick labels and axis label below the axes


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
        "font.size": LABEL_PT,
        "mathtext.default": "regular",
        "text.color": INK,
        "axes.prop_cycle": cycler(color=list(PALETTE)),
        "axes.facecolor": "white",
        "axes.edgecolor": SPINE,
        "axes.linewidth": 0.8,
        "axes.labelcolor": INK,
        "axes.labelsize": LABEL_PT,
        "axes.titlesize": TITLE_PT,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.grid.axis": "x",
        "axes.axisbelow": True,
        "axes.unicode_minus": True,
        "grid.color": GRID,
        "grid.linewidth": 0.6,
        "grid.linestyle": "-",
        "xtick.labelsize": TICK_PT,
        "ytick.labelsize": TICK_PT,
        "xtick.color": SPINE,
        "ytick.color": SPINE,
        "xtick.labelcolor": INK,
        "ytick.labelcolor": INK,
        "xtick.major.size": 3.0,
        "xtick.major.width": 0.8,
        "ytick.major.size": 0.0,
        "legend.frameon": False,
        "legend.fontsize": VALUE_PT,
        "figure.facecolor": "white",
        "figure.edgecolor": "white",
        "figure.dpi": 100,
        "figure.autolayout": False,
        "figure.constrained_layout.use": False,
        "savefig.dpi": DPI,
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


def tint(colour: str, amount: float) -> tuple[float, float, float]:
    """Mix ``colour`` with white; ``amount`` 0 keeps it, 1 gives white."""
    r, g, b = mpl.colors.to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def group_style(j: int) -> tuple[str, str]:
    """Colour and marker of the ``j``-th group (domain value, indicator)."""
    return PALETTE[j % len(PALETTE)], MARKERS[(j + j // len(PALETTE)) % len(MARKERS)]


def _relative_luminance(colour: object) -> float:
    channels = []
    for c in mpl.colors.to_rgb(colour):
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_colour_on(face: object) -> str:
    """White or ink, whichever has the higher contrast ratio on ``face``."""
    lum = _relative_luminance(face)
    on_white = 1.05 / (lum + 0.05)
    on_ink = (lum + 0.05) / (_relative_luminance(INK) + 0.05)
    return "white" if on_white > on_ink else INK
