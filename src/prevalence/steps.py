"""The workflow's steps as plain functions of paths and settings.

Each Snakemake rule calls one of these through a two-line script
(``scripts/rule_*.py``), so every step can be run and tested without Snakemake.
:func:`run_step` adapts the ``snakemake`` object: it sends the library's
logging to the rule's log file and turns a :class:`PrevalenceError` into one
clear message and a non-zero exit status, without a traceback.
"""

from __future__ import annotations

import gc
import json
import logging
import resource
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from prevalence.codebook import load_codebook
from prevalence.errors import PrevalenceError
from prevalence.estimate import estimate_wave
from prevalence.ingest import ingest
from prevalence.io import read_responses, sha256, write_csv, write_text, write_with
from prevalence.reproduce import load_targets, mismatch_message, reproduce

log = logging.getLogger("prevalence")


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def ingest_step(
    responses: str | Path,
    codebook: str | Path,
    *,
    wave: str,
    design: Mapping[str, Any],
    out_data: str | Path,
    out_log: str | Path,
    privacy: Mapping[str, Any] | None = None,
) -> None:
    """Read, validate and harmonize a wave; write its parquet file and ingest log."""
    book = load_codebook(codebook)
    raw = read_responses(responses, sheet=book.sheet)
    privacy = {"k": 3, "policy": "report", **(privacy or {})}
    result = ingest(raw, book, wave=wave, design=design, k=privacy["k"], policy=privacy["policy"])
    report = {
        **result.log,
        "responses_sha256": sha256(responses),
        "codebook_sha256": sha256(codebook),
    }
    rows = report["rows"]
    log.info(
        "%s: %d rows read, %d kept, %d excluded", wave, rows["read"], rows["kept"], rows["excluded"]
    )
    write_with(out_data, lambda p: result.frame.to_parquet(p, index=False, engine="pyarrow"))
    write_text(out_log, _json(report))


def publish_ingest_log_step(log_file: str | Path, *, out: str | Path) -> None:
    """The ingest log as published: small groups counted, not listed."""
    report = json.loads(Path(log_file).read_text(encoding="utf-8"))
    anonymity = report.get("k_anonymity")
    if anonymity:
        anonymity["small_groups"] = len(anonymity["small_groups"])
    write_text(out, _json(report))


def estimate_step(
    data: str | Path,
    codebook: str | Path,
    *,
    wave: str,
    by: Sequence[Sequence[str]],
    design: Mapping[str, Any],
    ci_method: str,
    level: float,
    out: str | Path,
    threads: int | None = None,
) -> None:
    """Estimate every indicator overall and by domain; write the wave's full table."""
    frame = pd.read_parquet(data)
    table = estimate_wave(
        frame,
        load_codebook(codebook),
        wave=wave,
        by=by,
        design=design,
        ci_method=ci_method,
        level=level,
        threads=threads,
    )
    log.info("%s: %d prevalence rows", wave, len(table))
    write_csv(table, out)


def read_table(path: str | Path) -> pd.DataFrame:
    """A prevalence table as written by this package (empty flags stay empty text)."""
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    if "flag" in frame.columns:
        frame["flag"] = frame["flag"].astype(object).fillna("")
    return frame


def publish_table_step(
    tables: Sequence[str | Path],
    *,
    publication: Mapping[str, Any] | None = None,
    out: str | Path,
) -> None:
    """Combine the waves' tables and apply the publication standard and disclosure control.

    The analyst's full tables stay in ``data/processed/<wave>/``; what is written
    here carries no suppressed value.
    """
    from prevalence.disclosure import disclose

    table = pd.concat([read_table(t) for t in tables]).reset_index(drop=True)
    write_csv(disclose(table, publication), out)


def _synthetic_note(book) -> str | None:
    return (
        "Synthetic microdata: only the published percentages are real." if book.synthetic else None
    )


def of_whom_parents(book) -> list[str]:
    """Indicators that are the denominator of another one, in codebook order."""
    parents = {i.denominator for i in book.indicators.values() if i.denominator}
    return [i for i in book.indicators if i in parents]


def figures_step(
    table: str | Path,
    codebook: str | Path,
    *,
    wave: str,
    wave_label: str,
    domains: Sequence[str],
    out_dir: str | Path,
) -> None:
    """Draw the wave's charts: by indicator, and by each domain in ``domains``.

    A wave whose codebook says ``synthetic: true`` gets a line saying so.
    """
    from prevalence import figures

    frame = read_table(table)
    frame = frame[frame["wave"] == wave]
    book = load_codebook(codebook)
    labels = book.labels()
    out_dir = Path(out_dir)
    note = _synthetic_note(book)
    figures.plot_by_indicator(
        frame,
        wave=wave,
        wave_label=wave_label,
        labels=labels,
        out_stem=out_dir / "by_indicator",
        source_note=note,
    )
    for domain in domains:
        common = dict(wave=wave, wave_label=wave_label, labels=labels, domain=domain)
        figures.plot_by_domain(frame, **common, out_stem=out_dir / f"by_{domain}", source_note=note)
        figures.plot_heatmap(
            frame, **common, out_stem=out_dir / f"heatmap_{domain}", source_note=note
        )


def of_whom_step(
    table: str | Path, codebook: str | Path, *, wave: str, wave_label: str, parent: str, out_stem
) -> None:
    """Chart a parent indicator and its "of whom" breakdown in one wave."""
    from prevalence import figures

    book = load_codebook(codebook)
    frame = read_table(table)
    figures.plot_of_whom(
        frame[frame["wave"] == wave],
        wave=wave,
        wave_label=wave_label,
        labels=book.labels(),
        parent=parent,
        out_stem=out_stem,
        source_note=_synthetic_note(book),
    )


def tables_step(
    table: str | Path,
    codebooks: Mapping[str, str | Path],
    *,
    wave_labels: Mapping[str, str],
    domains: Sequence[str],
    style: Mapping[str, Any],
    out_dir: str | Path,
) -> list[Path]:
    """Write the publication tables (xlsx, md, tex, html) from the published table."""
    from prevalence.tables import parse_table_style, publication_tables

    frame = read_table(table)
    books = {wave: load_codebook(path) for wave, path in codebooks.items()}
    return publication_tables(
        frame,
        {wave: book.labels() for wave, book in books.items()},
        dict(wave_labels),
        list(domains),
        parse_table_style(style, "config.yaml"),
        out_dir,
        sources={wave: book.source or wave_labels[wave] for wave, book in books.items()},
    )


def comparison_tables_step(
    contrasts: str | Path,
    association: str | Path,
    codebooks: Mapping[str, str | Path],
    *,
    wave_labels: Mapping[str, str],
    style: Mapping[str, Any],
    out_dir: str | Path,
) -> list[Path]:
    """Write the comparisons as publication tables (xlsx, md, tex, html)."""
    from prevalence.tables import comparison_tables, parse_table_style

    labels: dict[str, str] = {}
    for path in codebooks.values():
        labels = {**load_codebook(path).labels(), **labels}
    return comparison_tables(
        read_table(contrasts),
        read_table(association),
        labels,
        dict(wave_labels),
        parse_table_style(style, "config.yaml"),
        out_dir,
    )


def across_waves_step(
    table: str | Path,
    codebooks: Mapping[str, str | Path],
    *,
    indicators: Sequence[str],
    wave_labels: Mapping[str, str],
    out_dir: str | Path,
) -> None:
    """Chart each harmonized indicator across the waves that asked it."""
    from prevalence import figures

    frame = read_table(table)
    labels: dict[str, str] = {}
    for path in codebooks.values():
        labels = {**load_codebook(path).labels(), **labels}
    for indicator in indicators:
        figures.plot_across_waves(
            frame,
            indicator=indicator,
            labels=labels,
            wave_labels=dict(wave_labels),
            out_stem=Path(out_dir) / indicator,
            note="The waves are separate convenience samples, not a panel: differences between "
            "them mix change over time with differences between the studies.",
        )


def reproduce_step(
    tables: Sequence[str | Path], targets: str | Path, *, out: str | Path
) -> pd.DataFrame:
    """Compare each published figure with its estimate; write the comparison."""
    table = pd.concat([read_table(t) for t in tables])
    result = reproduce(table, load_targets(targets), path=str(targets))
    write_csv(result, out)
    log.info("%d of %d published figures reproduce", int(result["match"].sum()), len(result))
    return result


def check_reproduction_step(reproduction: str | Path, *, out: str | Path) -> None:
    """Fail, naming them, when published figures do not reproduce."""
    result = pd.read_csv(reproduction, keep_default_na=False)
    result["match"] = result["match"].astype(str).str.lower().eq("true")
    message = mismatch_message(result)
    if message:
        raise PrevalenceError(
            message,
            file=str(reproduction),
            fix="check the codebook (codes, denominators) and targets.yaml; the table shows "
            "what was computed",
        )
    write_text(out, f"all {len(result)} published figures reproduce\n")


def manifest_step(
    *,
    inputs: Sequence[str | Path],
    outputs: Sequence[str | Path],
    config: Mapping[str, Any],
    out: str | Path,
) -> None:
    """Write the provenance manifest (see :mod:`prevalence.manifest`)."""
    from prevalence.manifest import build_manifest

    write_text(out, _json(build_manifest(inputs=inputs, outputs=outputs, config=config)))


def run_step(
    snakemake: Any, step: Callable[..., Any], *args: Any, **kwargs: Any
) -> None:  # pragma: no cover - exercised by the end-to-end tests
    """Run ``step`` inside a Snakemake script: log to the rule's log, fail cleanly.

    The log ends with the step's wall time, the job's CPU time and its peak memory
    (the kernel's high-water mark of the process), the figures to size cluster jobs with.
    """
    log_file = snakemake.log[0] if len(snakemake.log) else None
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", handlers=handlers
    )
    # What is alive now (modules, mostly) lives as long as the job: keep it out of every
    # garbage collection (statsmodels' multipletests collects at each call).
    gc.freeze()
    start = time.perf_counter()
    try:
        step(*args, **kwargs)
    except PrevalenceError as error:
        log.error("%s", error)
        sys.exit(1)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    log.info(
        "%s: %.2f s, CPU %.2f s, peak memory %.0f MB",
        step.__name__,
        time.perf_counter() - start,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
    )
