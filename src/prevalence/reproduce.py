"""Reproduce published figures from the microdata, number for number.

``targets.yaml`` lists each published percentage with where it lives in the
prevalence table (wave, indicator, domain, domain value, denominator) and the
decimals it was published with. Each is compared with the estimate rounded the
way publications round (half away from zero), and the result says match or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from prevalence.config import read_yaml
from prevalence.errors import ConfigError

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
    return pd.DataFrame(rows, columns=COLUMNS)


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
    return "\n".join(lines)
