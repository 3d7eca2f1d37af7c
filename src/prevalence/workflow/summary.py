"""What a finished run says to the person who ran it: a few lines, also in ``results/summary.txt``.

:func:`run_summary` reads what the run wrote (the ingest logs, the published prevalence table,
``reproduction.csv``) and nothing else, so that every number it prints can be checked against
those files::

    4 waves: 552 rows read, 552 kept, 0 excluded
      2016-global 55 kept · 2018-europe 123 kept · 2021-africa 224 kept · 2025-asia-pacific 150 kept
    published figures reproduced: 33 of 33
    cells: 493 in the prevalence table, 120 published, 373 suppressed
      top reasons: sample size n < 30 (255), CI width >= 30 points (291), ...
    review: 3 published cells carry a flag; 2016-global: 1 respondent in a group smaller than 3
    open first: results/report.html, results/tables/, results/figures/
    elapsed: 24.9 s

The summary is the one output that changes from run to run (the elapsed time): it is written
after the manifest and is not part of it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: how many suppression reasons the summary names
TOP_REASONS = 3
#: the files a reader opens first, in this order, when they exist
OPEN_FIRST = ("study", "report.html", "tables", "figures")


@dataclass(frozen=True)
class WaveRows:
    """One wave's rows as its ingest log counts them."""

    wave: str
    read: int
    kept: int
    excluded: int
    small_groups: int = 0
    in_small_groups: int = 0
    k: int | None = None


@dataclass(frozen=True)
class RunSummary:
    """The numbers of a finished run; :meth:`lines` words them."""

    results: str
    waves: tuple[WaveRows, ...]
    cells: int = 0
    suppressed: int = 0
    reasons: tuple[tuple[str, int], ...] = ()
    flagged_published: int = 0
    reproduced: int | None = None
    targets: int | None = None
    not_reproduced: tuple[str, ...] = ()
    open_first: tuple[str, ...] = ()
    elapsed: float | None = None
    excluded_reasons: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        read = sum(w.read for w in self.waves)
        kept = sum(w.kept for w in self.waves)
        excluded = sum(w.excluded for w in self.waves)
        plural = "wave" if len(self.waves) == 1 else "waves"
        out = [f"{len(self.waves)} {plural}: {read} rows read, {kept} kept, {excluded} excluded"]
        out.append(
            "  "
            + " · ".join(
                f"{w.wave} {w.kept} kept" + (f", {w.excluded} excluded" if w.excluded else "")
                for w in self.waves
            )
        )
        if self.excluded_reasons:
            reasons = ", ".join(f"{r} ({n})" for r, n in sorted(self.excluded_reasons.items()))
            out.append(f"  excluded: {reasons}")
        if self.targets is not None:
            line = f"published figures reproduced: {self.reproduced} of {self.targets}"
            if self.not_reproduced:
                line += "; not reproduced: " + ", ".join(self.not_reproduced)
            out.append(line)
        published = self.cells - self.suppressed
        out.append(
            f"cells: {self.cells} in the prevalence table, {published} published, "
            f"{self.suppressed} suppressed"
        )
        if self.reasons:
            out.append("  top reasons: " + ", ".join(f"{r} ({n})" for r, n in self.reasons))
        review = []
        if self.flagged_published:
            cells = "cell carries" if self.flagged_published == 1 else "cells carry"
            review.append(f"{self.flagged_published} published {cells} a flag")
        for w in self.waves:
            if w.small_groups:
                people = "respondent" if w.in_small_groups == 1 else "respondents"
                review.append(
                    f"{w.wave}: {w.in_small_groups} {people} in a group smaller than {w.k}"
                )
        out.append("review: " + ("; ".join(review) if review else "nothing flagged"))
        if self.open_first:
            out.append("open first: " + ", ".join(self.open_first))
        if self.elapsed is not None:
            out.append(f"elapsed: {self.elapsed:.1f} s")
        return out

    def text(self) -> str:
        return "\n".join(self.lines()) + "\n"


def _wave_rows(path: Path) -> tuple[WaveRows, dict[str, int]]:
    log = json.loads(path.read_text(encoding="utf-8"))
    rows = log["rows"]
    anonymity = log.get("k_anonymity") or {}
    small = anonymity.get("small_groups", 0)
    small = len(small) if isinstance(small, list) else int(small)
    wave = WaveRows(
        wave=log.get("wave", path.stem),
        read=int(rows["read"]),
        kept=int(rows["kept"]),
        excluded=int(rows["excluded"]),
        small_groups=small,
        in_small_groups=int(anonymity.get("respondents_in_small_groups", 0)),
        k=anonymity.get("k"),
    )
    return wave, {str(k): int(v) for k, v in rows.get("excluded_by_reason", {}).items()}


def _reasons(flags: Sequence[str]) -> tuple[tuple[str, int], ...]:
    counts: Counter[str] = Counter()
    for flag in flags:
        counts.update(part.strip() for part in flag.split(";") if part.strip())
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_REASONS])


def run_summary(
    results: str | Path, waves: Sequence[str], *, elapsed: float | None = None
) -> RunSummary:
    """The summary of the run whose outputs are in ``results``, for ``waves`` in their order."""
    import pandas as pd

    from prevalence.workflow.steps import read_table

    results = Path(results)
    rows, excluded = [], Counter()
    for wave in waves:
        found, reasons = _wave_rows(results / "ingest" / f"{wave}.json")
        rows.append(found)
        excluded.update(reasons)
    table = read_table(results / "tables" / "prevalence.csv")
    suppressed = table["suppressed"].astype(bool)
    flags = table["flag"].fillna("").astype(str)
    summary = dict(
        results=str(results),
        waves=tuple(rows),
        cells=len(table),
        suppressed=int(suppressed.sum()),
        reasons=_reasons(list(flags[suppressed])),
        flagged_published=int(((flags != "") & ~suppressed).sum()),
        excluded_reasons=dict(excluded),
        elapsed=elapsed,
        open_first=tuple(
            f"{results / name}/" if (results / name).is_dir() else str(results / name)
            for name in OPEN_FIRST
            if (results / name).exists()
        ),
    )
    reproduction = results / "reproduction.csv"
    if reproduction.exists():
        found = pd.read_csv(reproduction, keep_default_na=False)
        match = found["match"].astype(str) == "True"
        summary["targets"] = len(found)
        summary["reproduced"] = int(match.sum())
        summary["not_reproduced"] = tuple(
            f"{r.wave} {r.indicator} ({r.domain} {r.domain_value})"
            for r in found[~match].itertuples()
        )
    return RunSummary(**summary)


def summary_ready(results: str | Path, waves: Sequence[str]) -> bool:
    """Whether the run wrote what the summary reads (a run of some targets only may not)."""
    results = Path(results)
    return (results / "tables" / "prevalence.csv").is_file() and all(
        (results / "ingest" / f"{wave}.json").is_file() for wave in waves
    )


def write_summary(
    results: str | Path, waves: Sequence[str], *, elapsed: float | None = None
) -> str:
    """Write ``<results>/summary.txt`` and return its text."""
    text = run_summary(results, waves, elapsed=elapsed).text()
    Path(results, "summary.txt").write_text(text, encoding="utf-8")
    return text


def failure_message(logs: str | Path, *, since: float) -> str:
    """The message that ends a failed run: each failed job's error, from the logs written
    since ``since`` (a time stamp); empty when no job logged one (a configuration error
    stops the run before any job, with its own message)."""
    found = []
    for path in sorted(Path(logs).rglob("*.log")):
        if path.stat().st_mtime < since:
            continue
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        start = [i for i, line in enumerate(lines) if line.startswith("ERROR ")]
        if start:
            message = lines[start[0]].split(": ", 1)[-1]
            rest = [line for line in lines[start[0] + 1 :] if line.startswith("  ")]
            found.append("\n".join([f"the run stopped: {message}", *rest, f"  log: {path}"]))
    return "\n".join(found)
