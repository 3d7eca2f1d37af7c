"""Reproduce published figures from the microdata, number for number.

``targets.yaml`` lists each published percentage with where it lives in the
prevalence table (wave, indicator, domain, domain value, denominator) and the
decimals it was published with. Each is compared with the estimate rounded the
way publications round (half away from zero), and the result says match or not.

Each figure is also checked for consistency with its n, in the manner of the
GRIM test (Brown & Heathers 2017): the counts k of 0..n for which ``100 k / n``
rounds to the published percent (:func:`feasible_counts`). A percent no count
fits cannot be a share of n respondents: 44.4% is not k of 55 (24 of 55 is
43.6%, 25 of 55 is 45.5%). :func:`check_published` does the same for a figure
given only as a percent and an n, with the intervals of every feasible count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from prevalence.errors import ConfigError
from prevalence.schema import read_yaml

KEYS = ("wave", "indicator", "domain", "domain_value", "denominator")
COLUMNS = [
    *KEYS,
    "published",
    "decimals",
    "computed",
    "rounded",
    "match",
    "n",
    "cases",
    "consistent",
    "feasible_counts",
    "text",
    "source",
]


@dataclass(frozen=True)
class Target:
    """One published figure, in percent."""

    wave: str
    indicator: str
    domain: str
    domain_value: str
    denominator: str
    value: float
    decimals: int
    source: str = ""
    text: str = ""


def parse_targets(raw, *, path: str | Path = "targets.yaml") -> list[Target]:
    """Validate the list of published figures."""
    path = str(path)
    if not isinstance(raw, list) or not raw:
        raise ConfigError(
            "targets must be a non-empty list of published figures",
            file=path,
            fix="see data/published/targets.yaml for the format",
        )
    targets = []
    required = {"wave", "indicator", "value", "decimals"}
    allowed = {*KEYS, "value", "decimals", "source", "text"}
    for i, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            raise ConfigError(f"entry {i} is not a mapping", file=path, fix="use `- key: value`")
        missing = required - set(entry)
        unknown = set(entry) - allowed
        if missing or unknown:
            problem = (
                f"entry {i} lacks {sorted(missing)}"
                if missing
                else f"entry {i} has unknown key(s) {sorted(unknown)}"
            )
            raise ConfigError(problem, file=path, fix=f"keys are: {', '.join(sorted(allowed))}")
        value, decimals = entry["value"], entry["decimals"]
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 100:
            raise ConfigError(
                f"entry {i}: value {value!r} is not a percentage between 0 and 100",
                file=path,
                fix="write the published percentage as a number, e.g. 81.8",
            )
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
            raise ConfigError(
                f"entry {i}: decimals {decimals!r} must be a whole number from 0 to 6",
                file=path,
                fix="give the number of decimals the figure was published with",
            )
        targets.append(
            Target(
                wave=str(entry["wave"]),
                indicator=str(entry["indicator"]),
                domain=str(entry.get("domain", "overall")),
                domain_value=str(entry.get("domain_value", "All")),
                denominator=str(entry.get("denominator", "all")),
                value=float(value),
                decimals=decimals,
                source=str(entry.get("source", "")),
                text=str(entry.get("text", "")),
            )
        )
    return targets


def load_targets(path: str | Path) -> list[Target]:
    return parse_targets(read_yaml(path, what="targets file"), path=path)


def round_half_up(value: float, decimals: int) -> float:
    """Round as publications do: 24.5 -> 25, 0.125 -> 0.13 (on the decimal text of the float)."""
    if not np.isfinite(value):
        return float("nan")
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def _scaled(value: float, decimals: int) -> int:
    """The published percent in units of its last decimal: 81.8 with 1 decimal -> 818."""
    exact = Decimal(repr(float(value))).scaleb(decimals)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def feasible_counts(value, decimals, n) -> tuple[np.ndarray, np.ndarray]:
    """The counts k that give a published percent at its rounding, for every figure at once.

    ``round_half_up(100 k / n, decimals) == value`` holds, in exact integer arithmetic, for
    ``(2P - 1) n <= 2 * 100 * 10**decimals * k < (2P + 1) n`` with ``P = value * 10**decimals``:
    the feasible k are the consecutive integers ``low..high`` (none when ``low > high``).

    Parameters
    ----------
    value, decimals, n
        Published percents, their decimals and the numbers of respondents (broadcast).

    Returns
    -------
    low, high
        int64 arrays: the smallest and largest feasible count, clipped to 0..n.
    """
    value, decimals = np.broadcast_arrays(np.asarray(value, dtype=float), np.asarray(decimals))
    scaled = np.array(
        [_scaled(v, int(d)) for v, d in zip(value.ravel(), decimals.ravel(), strict=True)],
        dtype=np.int64,
    ).reshape(value.shape)  # one Decimal per figure: its exact published digits
    unit = 200 * 10 ** decimals.astype(np.int64)
    n = np.asarray(n).astype(np.int64)
    low = -((-(2 * scaled - 1) * n) // unit)  # ceiling division, exact in integers
    high = -((-(2 * scaled + 1) * n) // unit) - 1
    return np.maximum(low, 0), np.minimum(high, n)


def counts_text(low: int, high: int) -> str:
    """Feasible counts as written in reproduction.csv: "45", "44;45", "120..131", or ""."""
    if low > high:
        return ""
    if high - low < 10:
        return ";".join(str(k) for k in range(low, high + 1))
    return f"{low}..{high}"


def nearest_feasible_n(value: float, decimals: int, n: int) -> list[int]:
    """The n closest to ``n`` for which some count gives the published percent (one, or two
    at the same distance, smaller first)."""
    span = 1000
    while True:  # found by n = 100 * 10**decimals at the latest (k = the published digits)
        candidates = np.arange(max(n - span, 1), n + span + 1)
        low, high = feasible_counts(value, decimals, candidates)
        fits = candidates[low <= high]
        if fits.size:
            distance = np.abs(fits - n)
            return fits[distance == distance.min()].tolist()
        span *= 8


def reproduce(table: pd.DataFrame, targets: list[Target], *, path: str = "targets") -> pd.DataFrame:
    """Compare each published figure with the estimate in ``table``.

    A target that names a cell the table does not have is an error naming it.
    """
    index = table.set_index(list(KEYS))
    rows = []
    for t in targets:
        key = (t.wave, t.indicator, t.domain, t.domain_value, t.denominator)
        if key not in index.index:
            raise ConfigError(
                "target names a cell the prevalence table does not have: "
                + ", ".join(f"{k}={v}" for k, v in zip(KEYS, key, strict=True)),
                file=path,
                fix="check the wave, indicator id, domain and denominator against the codebook",
            )
        cell = index.loc[key]
        computed = 100.0 * float(cell["estimate"])
        rounded = round_half_up(computed, t.decimals)
        rows.append(
            {
                **dict(zip(KEYS, key, strict=True)),
                "published": t.value,
                "decimals": t.decimals,
                "computed": computed,
                "rounded": rounded,
                "match": bool(rounded == round_half_up(t.value, t.decimals)),
                "n": int(cell["n"]),
                "cases": int(cell["cases"]),
                "text": t.text,
                "source": t.source,
            }
        )
    result = pd.DataFrame(rows, columns=COLUMNS)
    if len(result):
        low, high = feasible_counts(result["published"], result["decimals"], result["n"])
        result["consistent"] = low <= high
        result["feasible_counts"] = [counts_text(a, b) for a, b in zip(low, high, strict=True)]
    return result


def mismatch_message(result: pd.DataFrame) -> str | None:
    """A message naming every figure that does not reproduce, or None when all do."""
    bad = result[~result["match"]]
    if bad.empty:
        return None
    lines = [f"{len(bad)} of {len(result)} published figures do not reproduce:"]
    for row in bad.itertuples(index=False):
        where = f"{row.wave} {row.indicator} ({row.domain}={row.domain_value}"
        where += "" if row.denominator == "all" else f", among {row.denominator}"
        lines.append(
            f"  {where}): published {row.published:.{row.decimals}f}%, "
            f"computed {row.computed:.4f}% -> {row.rounded:.{row.decimals}f}% "
            f"(n={row.n}, cases={row.cases})"
        )
        if str(getattr(row, "consistent", True)).lower() == "false":  # as written or read back
            lines.append(
                f"    and no count of {row.n} gives {row.published:.{row.decimals}f}%: "
                "the published figure rests on another n"
            )
    return "\n".join(lines)


def parse_percent(text: str) -> tuple[float, int]:
    """A percent as published ("81.8", "81.8%", "20.0") and its number of decimals."""
    written = str(text).strip().removesuffix("%").strip()
    if not re.fullmatch(r"\d+(\.\d+)?", written) or not 0 <= float(written) <= 100:
        raise ConfigError(
            f"{text!r} is not a percentage between 0 and 100",
            fix="write the figure as published, e.g. 81.8 (its decimals are read as written)",
        )
    return float(written), len(written.partition(".")[2])


#: A report lists at most this many feasible counts at each end of their run.
SHOWN_AT_EACH_END = 5


@dataclass(frozen=True)
class PublishedCheck:
    """The counts that fit a published percent of n respondents, and their intervals.

    ``counts`` are the feasible k (empty when none fits: ``nearest`` then holds the
    closest n that some count fits); ``wilson`` and ``clopper_pearson`` are the
    intervals of ``k / n`` for each feasible k, as (low, high) arrays of proportions.
    """

    value: float
    decimals: int
    n: int
    level: float
    counts: np.ndarray
    wilson: tuple[np.ndarray, np.ndarray]
    clopper_pearson: tuple[np.ndarray, np.ndarray]
    nearest: tuple[int, ...] = ()

    @property
    def consistent(self) -> bool:
        return self.counts.size > 0

    def report(self) -> str:
        """What `prevalence published` prints."""
        percent = f"{self.value:.{self.decimals}f}%"
        level = f"{100 * self.level:g}%"
        if not self.consistent:
            below = int(np.floor(self.value * self.n / 100))
            around = [k for k in (below, below + 1) if 0 <= k <= self.n]
            shares = ", ".join(
                f"{k} of {self.n} is {100 * k / self.n:.{self.decimals}f}%" for k in around
            )
            fits = []
            for m in self.nearest:
                low, high = feasible_counts(self.value, self.decimals, m)
                fits.append(f"{m} ({counts_text(int(low), int(high))} of {m})")
            return (
                f"{percent} cannot be a count out of n = {self.n}: {shares}.\n"
                f"The nearest n that fits is {' or '.join(fits)}.\n"
            )
        many = "count fits" if self.counts.size == 1 else "counts fit"
        lines = [
            f"{percent} of n = {self.n} (rounded to {self.decimals} decimal"
            f"{'' if self.decimals == 1 else 's'}): {self.counts.size} {many}",
            f"{'k':>6}  {'k/n':>8}  {f'Wilson {level} CI':>18}  {f'Clopper-Pearson {level} CI':>27}",
        ]
        shown = np.arange(self.counts.size)
        if self.counts.size > 2 * SHOWN_AT_EACH_END:  # a long run of counts: its two ends
            shown = np.r_[shown[:SHOWN_AT_EACH_END], shown[-SHOWN_AT_EACH_END:]]
        for j, i in enumerate(shown):
            k = int(self.counts[i])
            if j == SHOWN_AT_EACH_END and len(shown) < self.counts.size:
                lines.append(f"{'...':>6}  ({self.counts.size - len(shown)} more counts)")
            wilson = f"{100 * self.wilson[0][i]:.1f}–{100 * self.wilson[1][i]:.1f}%"
            exact = (
                f"{100 * self.clopper_pearson[0][i]:.1f}–{100 * self.clopper_pearson[1][i]:.1f}%"
            )
            lines.append(f"{k:>6}  {100 * k / self.n:>7.3f}%  {wilson:>18}  {exact:>27}")
        return "\n".join(lines) + "\n"


def check_published(
    value: str | float, n: int, *, decimals: int | None = None, level: float = 0.95
) -> PublishedCheck:
    """Which counts of ``n`` give a published percent, with the Wilson and Clopper–Pearson
    intervals of each (classical binomial intervals, :func:`prevalence.stats.intervals.confint`).

    ``value`` is the figure as published ("81.8"): its decimals are read as written
    unless ``decimals`` is given.
    """
    from prevalence.stats.intervals import confint

    percent, written = parse_percent(str(value)) if isinstance(value, str) else (value, None)
    decimals = written if decimals is None else decimals
    if decimals is None or not 0 <= decimals <= 6:
        raise ConfigError(
            f"decimals {decimals!r} must be a whole number from 0 to 6",
            fix="give the number of decimals the figure was published with",
        )
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ConfigError(
            f"n = {n!r} is not a number of respondents",
            fix="give n as a whole number of 1 or more",
        )
    low, high = feasible_counts(percent, decimals, n)
    counts = np.arange(int(low), int(high) + 1)
    p = counts / n
    se = np.sqrt(p * (1 - p) / n)
    bounds = {}
    for method in ("wilson", "clopper-pearson"):
        found = confint(method, p, se, n, np.inf, level)
        bounds[method] = (found.low, found.high)
    return PublishedCheck(
        value=percent,
        decimals=decimals,
        n=int(n),
        level=level,
        counts=counts,
        wilson=bounds["wilson"],
        clopper_pearson=bounds["clopper-pearson"],
        nearest=() if counts.size else tuple(nearest_feasible_n(percent, decimals, int(n))),
    )
