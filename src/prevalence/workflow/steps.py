"""The workflow's steps as plain functions of paths and settings.

Each Snakemake rule calls one of these through a two-line script
(``scripts/rule_*.py``), so every step can be run and tested without Snakemake.
:func:`run_step` adapts the ``snakemake`` object: it sends the library's
logging to the rule's log file and turns a :class:`PrevalenceError` into one
clear message and a non-zero exit status, without a traceback.

The steps are few and coarse, because every job is a Python process that pays for
its imports: one step takes a wave from its raw file to everything its microdata
give (:func:`wave_step`), one publishes the tables of all waves and draws the
charts of the whole study after them (:func:`publish_step`, :func:`study_charts_step`),
and the charts are drawn by wave (:func:`figures_step`). The heavy libraries are
imported inside the steps that use them, so that a step pays only for its own.
"""

from __future__ import annotations

import argparse
import errno
import gc
import json
import logging
import resource
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prevalence.errors import ConfigError, PrevalenceError

if TYPE_CHECKING:
    import pandas as pd

    from prevalence.data.codebook import Codebook
    from prevalence.data.ingest import Ingested

log = logging.getLogger("prevalence")
#: one line per job for the console (:func:`run_step` prefixes the rule and wave)
console = logging.getLogger("prevalence.console")


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def published_log(report: Mapping[str, Any]) -> dict[str, Any]:
    """The ingest log as published: small groups counted, not listed."""
    report = json.loads(json.dumps(report))
    anonymity = report.get("k_anonymity")
    if anonymity:
        anonymity["small_groups"] = len(anonymity["small_groups"])
    return report


class Phases:
    """Wall and CPU seconds of a step's phases, in the order they ran.

    ``with phases("read"): ...`` times one phase (a phase entered again adds up);
    :meth:`line` gives them on one line of the step's log, which
    ``benchmarks/bench_workflow.py`` reads back.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, tuple[float, float]] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            before = self.seconds.get(name, (0.0, 0.0))
            self.seconds[name] = (
                before[0] + time.perf_counter() - wall,
                before[1] + time.process_time() - cpu,
            )

    def line(self) -> str:
        """``phases (wall s / CPU s): read 0.12/0.11, validate and harmonize ...``."""
        parts = [f"{name} {w:.2f}/{c:.2f}" for name, (w, c) in self.seconds.items()]
        return "phases (wall s / CPU s): " + ", ".join(parts)


def wave_step(
    responses: str | Path,
    codebook: str | Path,
    *,
    wave: str,
    design: Mapping[str, Any],
    population: str | Path | Sequence[str | Path] | None = None,
    privacy: Mapping[str, Any] | None = None,
    by: Sequence[Sequence[str]],
    ci_method: str,
    level: float,
    publication: Mapping[str, Any] | None = None,
    populations: Sequence[Sequence[str]] = (),
    comparisons: Mapping[str, Any] | None = None,
    waves: Sequence[str] | None = None,
    out: Mapping[str, str | Path],
    threads: int | None = None,
    source: str = "config.yaml",
) -> None:
    """Everything one wave's microdata give, read once.

    Reads, validates and harmonizes the wave (:func:`prevalence.data.ingest.ingest`),
    estimates every indicator overall and by domain
    (:func:`prevalence.stats.estimate.estimate_wave`), decides what of it may be published
    (:func:`prevalence.publication.disclosure.disclose`: disclosure control works within a wave)
    and, when ``comparisons`` are configured, compares domains within the wave and
    tests association (:func:`prevalence.stats.comparisons.wave_comparisons`), p-values
    unadjusted: the adjustment is over all waves (:func:`publish_step`).

    ``population`` is the file of population totals that ``design.calibration`` names
    (by default its path as given there). ``populations`` are the ``(domain, value
    label)`` pairs of ``figures.populations``: secondary suppression hides their
    cells last.

    ``out`` names the files: ``data`` (harmonized responses, parquet), ``log`` (the
    ingest log), ``published_log`` (the log as published), ``table`` (the analyst's
    full table), ``published`` (the wave's rows of the published table) and, with
    comparisons, ``within``, ``association`` and ``domain_values``.
    """
    from prevalence.data.io import write_csv, write_text, write_with
    from prevalence.publication.disclosure import disclose
    from prevalence.stats.estimate import estimate_wave

    phases = Phases()
    book, result, report = read_wave(
        responses,
        codebook,
        wave=wave,
        design=design,
        population=population,
        privacy=privacy,
        phases=phases,
    )
    if "calibration" in report:
        _log_weights(wave, report["calibration"])
    rows = report["rows"]
    log.info(
        "%s: %d rows read, %d kept, %d excluded", wave, rows["read"], rows["kept"], rows["excluded"]
    )
    console.info("%d rows, %d kept, %d excluded", rows["read"], rows["kept"], rows["excluded"])
    frame = result.frame
    with phases("write"):
        write_with(out["data"], lambda p: frame.to_parquet(p, index=False, engine="pyarrow"))
        write_text(out["log"], _json(report))
        write_text(out["published_log"], _json(published_log(report)))

    survey = result.design if result.design is not None else design  # built once, at ingest
    with phases("estimation"):
        table = estimate_wave(
            frame,
            book,
            wave=wave,
            by=by,
            design=survey,
            ci_method=ci_method,
            level=level,
            threads=threads,
        )
        log.info("%s: %d prevalence rows", wave, len(table))
        write_csv(table, out["table"])
        published = disclose(table, publication, [(str(d), str(v)) for d, v in populations])
        write_csv(published, out["published"])

    if comparisons is not None:
        from prevalence.stats.comparisons import wave_comparisons
        from prevalence.stats.contrasts import domain_values, parse_comparisons

        with phases("comparisons"):
            spec = parse_comparisons(comparisons, source=source, waves=list(waves or [wave]))
            within, association = wave_comparisons(
                frame, book, survey, spec, wave=wave, level=level, published=published
            )
            # parquet: the adjustment over all waves starts from the exact p-values
            write_with(out["within"], lambda p: within.to_parquet(p, index=False))
            write_with(out["association"], lambda p: association.to_parquet(p, index=False))
            write_text(out["domain_values"], _json(domain_values(frame, book)))
    log.info("%s: %s", wave, phases.line())


def read_wave(
    responses: str | Path,
    codebook: str | Path,
    *,
    wave: str,
    design: Mapping[str, Any] | None = None,
    population: str | Path | Sequence[str | Path] | None = None,
    privacy: Mapping[str, Any] | None = None,
    phases: Phases | None = None,
) -> tuple[Codebook, Ingested, dict[str, Any]]:
    """A wave read from its raw files as :func:`wave_step` reads it.

    Returns the codebook, ingest's result (:func:`prevalence.data.ingest.ingest`: the
    harmonized frame and the wave's survey design, built once) and the ingest log with
    the digests of the files read and, with ``design.calibration``, the weights before
    and after calibration. ``phases`` times reading the file and validating and
    harmonizing it.
    """
    from prevalence.data.codebook import load_codebook
    from prevalence.data.ingest import ingest
    from prevalence.data.io import read_populations, read_responses, sha256

    phases = phases or Phases()
    design = dict(design or {})
    with phases("read"):
        book = load_codebook(codebook)
        raw = read_responses(responses, sheet=book.sheet)
    privacy = {"k": 3, "policy": "report", **(privacy or {})}
    with phases("validate and harmonize"):
        populations, population_file = read_populations(design, population)
        result = ingest(
            raw,
            book,
            wave=wave,
            design=design,
            k=privacy["k"],
            policy=privacy["policy"],
            populations=populations,
        )
    del raw
    report = {
        **result.log,
        "responses_sha256": sha256(responses),
        "codebook_sha256": sha256(codebook),
    }
    calibration = getattr(result.design, "calibration", None)
    if calibration is not None:
        report["calibration"] = {
            **calibration.describe(),
            "population_sha256": sha256(population_file),
        }
    return book, result, report


def _log_weights(wave: str, calibration: Mapping[str, Any]) -> None:
    for when in ("before", "after"):
        w = calibration[f"weights_{when}"]
        log.info(
            "%s: weights %s %s: min %.4g, max %.4g, ratio %.3g, CV %.3f, Kish 1 + CV^2 %.3f",
            wave,
            when,
            calibration["method"],
            w["min"],
            w["max"],
            w["ratio"],
            w["cv"],
            w["kish_deff"],
        )


def files_by_wave(
    waves: Sequence[str], files: Mapping[str, Sequence[str | Path]]
) -> dict[str, dict[str, str]]:
    """``{wave: {kind: path}}`` from lists of paths by kind, each in the order of ``waves``.

    A rule takes every file it reads as ``input`` (so that Snakemake tracks it), in
    lists by kind; this pairs them back with their waves.
    """
    out: dict[str, dict[str, str]] = {wave: {} for wave in waves}
    for kind, paths in files.items():
        paths = list(paths)
        if len(paths) != len(waves):
            raise PrevalenceError(
                f"{len(paths)} {kind} file(s) for {len(waves)} wave(s)",
                fix="give one file of each kind per wave, in the order of the waves",
            )
        for wave, path in zip(waves, paths, strict=True):
            out[wave][kind] = str(path)
    return out


def read_table(path: str | Path) -> pd.DataFrame:
    """A prevalence table as written by this package (empty flags stay empty text)."""
    import pandas as pd

    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    if "flag" in frame.columns:
        frame["flag"] = frame["flag"].astype(object).fillna("")
    return frame


def publish_step(
    waves: Mapping[str, Mapping[str, str | Path]],
    *,
    wave_labels: Mapping[str, str],
    domains: Sequence[str],
    style: Mapping[str, Any],
    comparisons: Mapping[str, Any] | None = None,
    level: float = 0.95,
    targets: str | Path | None = None,
    populations: Sequence[Sequence[str]] = (),
    out: Mapping[str, str | Path],
    source: str = "config.yaml",
    publication: Mapping[str, Any] | None = None,
    charts: Mapping[str, Any] | None = None,
) -> None:
    """The published tables of all waves: prevalence, key findings, differences, tests,
    reproduction.

    ``waves`` gives, per wave in the configured order, its ``codebook``, ``table``
    (analyst's), ``published`` and, with comparisons, ``within``, ``association`` and
    ``domain_values`` (all written by :func:`wave_step`). ``out`` names the files:
    ``table`` (``prevalence.csv``) and ``tables`` (their folder: xlsx, md, tex, html, docx),
    with comparisons ``contrasts`` and ``association`` (csv) and their publication
    tables in the same folder, with ``targets`` ``reproduction``, and ``findings`` and
    ``findings_md`` (the key findings in words of the whole sample and each of
    ``populations``, ``(domain, value label)`` pairs; see :mod:`prevalence.publication.findings`).
    ``publication`` (the block the waves were disclosed under) gives the tables its
    standard's marks. With ``charts`` (the keywords of :func:`study_charts_step` but its
    table), the charts of the whole study are drawn from the table just written, in the
    same process.
    """
    import pandas as pd

    from prevalence.data.codebook import load_codebook
    from prevalence.data.io import write_csv
    from prevalence.publication.disclosure import parse_publication
    from prevalence.publication.tables import (
        comparison_tables,
        parse_table_style,
        publication_tables,
    )

    published = pd.concat([read_table(w["published"]) for w in waves.values()])
    published = published.reset_index(drop=True)
    write_csv(published, out["table"])
    table = read_table(out["table"])  # as every reader of the published table sees it
    books = {wave: load_codebook(w["codebook"]) for wave, w in waves.items()}
    labels = {wave: book.labels() for wave, book in books.items()}
    table_style = parse_table_style(style, source)
    publication_tables(
        table,
        labels,
        dict(wave_labels),
        list(domains),
        table_style,
        out["tables"],
        sources={wave: book.source or wave_labels[wave] for wave, book in books.items()},
        publication=parse_publication(publication, source),
    )
    if "findings" in out:
        from prevalence.data.io import write_text
        from prevalence.publication.findings import findings_markdown, key_findings

        findings = key_findings(
            table, books, populations=[tuple(p) for p in populations], style=table_style
        )
        write_csv(findings, out["findings"])
        write_text(out["findings_md"], findings_markdown(findings, books, wave_labels))
    if comparisons is not None:
        from prevalence.stats.comparisons import combine_comparisons

        contrasts, association = combine_comparisons(
            {wave: pd.read_parquet(w["within"]) for wave, w in waves.items()},
            {wave: pd.read_parquet(w["association"]) for wave, w in waves.items()},
            {wave: json.loads(Path(w["domain_values"]).read_text()) for wave, w in waves.items()},
            table,
            comparisons,
            level=level,
            source=source,
        )
        write_csv(contrasts, out["contrasts"])
        write_csv(association, out["association"])
        merged: dict[str, str] = {}
        for book_labels in labels.values():
            merged = {**book_labels, **merged}
        comparison_tables(
            read_table(out["contrasts"]),
            read_table(out["association"]),
            merged,
            dict(wave_labels),
            table_style,
            out["tables"],
        )
    if targets is not None:
        from prevalence.publication.reproduce import load_targets, reproduce

        analyst = pd.concat([read_table(w["table"]) for w in waves.values()])
        result = reproduce(analyst, load_targets(targets), path=str(targets))
        write_csv(result, out["reproduction"])
        log.info("%d of %d published figures reproduce", int(result["match"].sum()), len(result))
    from prevalence.contract import truthy

    suppressed = int(truthy(table["suppressed"]).sum())
    console.info(
        "%d cells, %d published, %d suppressed", len(table), len(table) - suppressed, suppressed
    )
    if charts is not None:  # in the same job: one Python process fewer
        study_charts_step(out["table"], **charts)


def _comparisons_from_files(
    prevalence_table: str | Path,
    waves: Mapping[str, Mapping[str, Any]],
    comparisons: Mapping[str, Any] | None,
    *,
    level: float,
    on_suppressed: str,
    source: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``combine_comparisons`` of every wave's ``wave_comparisons``, from files."""
    import pandas as pd

    from prevalence.data.codebook import load_codebook
    from prevalence.stats.comparisons import combine_comparisons, wave_comparisons
    from prevalence.stats.contrasts import domain_values, parse_comparisons

    spec = parse_comparisons(comparisons, source=source, waves=list(waves))
    published = read_table(prevalence_table)
    within, association, values = {}, {}, {}
    for wave, info in waves.items():
        frame = pd.read_parquet(info["data"])
        book = load_codebook(info["codebook"])
        design = dict(info.get("design") or {})
        within[wave], association[wave] = wave_comparisons(
            frame,
            book,
            design,
            spec,
            wave=wave,
            level=level,
            published=published,
            on_suppressed=on_suppressed,
        )
        values[wave] = domain_values(frame, book)
    return combine_comparisons(
        within, association, values, published, spec, level=level, source=source
    )


def contrasts_step(
    prevalence_table: str | Path,
    waves: Mapping[str, Mapping[str, Any]],
    *,
    comparisons: Mapping[str, Any] | None,
    level: float = 0.95,
    out: str | Path,
    source: str = "config.yaml",
) -> pd.DataFrame:
    """Write the table of differences (``contrasts.csv``) from the waves' files.

    Parameters
    ----------
    prevalence_table
        The published prevalence table of all waves (suppression, and the
        estimates compared between waves).
    waves
        ``{wave_id: {"data": responses.parquet, "codebook": codebook.yaml,
        "design": {...}}}`` in the configured order.
    comparisons
        The ``comparisons:`` block.
    level
        Confidence level of the intervals.
    out
        The CSV to write (atomically).
    source
        The configuration file, for messages.
    """
    result, _ = _comparisons_from_files(
        prevalence_table, waves, comparisons, level=level, on_suppressed="flag", source=source
    )
    from prevalence.data.io import write_csv

    write_csv(result, out)
    return result


def association_step(
    prevalence_table: str | Path,
    waves: Mapping[str, Mapping[str, Any]],
    *,
    comparisons: Mapping[str, Any] | None,
    out: str | Path,
    on_suppressed: str = "flag",
    source: str = "config.yaml",
) -> pd.DataFrame:
    """Write the tests of association (``association.csv``), adjusted per family.

    Parameters
    ----------
    prevalence_table
        The published prevalence table (to flag domains with suppressed cells).
    waves
        As in :func:`contrasts_step`.
    comparisons
        The ``comparisons:`` block: ``association`` (default: the domains of
        ``within``), ``adjust`` and ``family``.
    out
        The CSV to write (atomically).
    on_suppressed
        ``"flag"`` or ``"suppress"`` (``prevalence.stats.association.association_tests``).
    source
        The configuration file, for messages.
    """
    _, tests = _comparisons_from_files(
        prevalence_table,
        waves,
        comparisons,
        level=0.95,
        on_suppressed=on_suppressed,
        source=source,
    )
    from prevalence.data.io import write_csv

    write_csv(tests, out)
    return tests


def _group_notes(book: Any, parent: str) -> tuple[str, ...]:
    """The note of an "of whom" chart whose breakdown holds a "check all that apply" group."""
    from prevalence.data.codebook import MULTIPLE_ANSWERS

    shared = any(group.denominator == parent for group in book.groups.values())
    return (MULTIPLE_ANSWERS,) if shared else ()


def _synthetic_note(book) -> str | None:
    return (
        "Synthetic microdata: only the published percentages are real." if book.synthetic else None
    )


def figures_step(
    table: str | Path,
    codebook: str | Path,
    *,
    wave: str,
    wave_label: str,
    domains: Sequence[str],
    out_dir: str | Path,
    population: Sequence[str] | None = None,
    of_whom: Sequence[str] = (),
    publication: Mapping[str, Any] | None = None,
) -> None:
    """Draw the wave's charts: by indicator, each "of whom" breakdown of ``of_whom``, each
    categorical question of the codebook as stacked bars (``categorical_<question>``: all
    respondents, then each value of each domain in ``domains``) and by each domain in
    ``domains``, each with its data (``<chart>.csv``).

    ``table`` is the published table, of this wave or of all. With ``population``, a
    ``(domain, value)`` pair, the charts are of that population alone
    (:func:`prevalence.publication.charts.population_table`: ``domains`` are then those
    crossed with its domain), named by the codebook's noun for it
    (:func:`prevalence.publication.findings.population_noun`). ``publication`` (the block the table
    was disclosed under) gives the charts its standard's marks and notes. A wave whose
    codebook says ``synthetic: true`` gets a line saying so.
    """
    from prevalence.data.codebook import load_codebook
    from prevalence.publication import charts
    from prevalence.publication.disclosure import parse_publication

    frame = read_table(table)
    frame = frame[frame["wave"] == wave]
    book = load_codebook(codebook)
    noun = None
    if population is not None:
        from prevalence.publication.findings import population_noun

        domain, value = population
        frame = charts.population_table(frame, domain, value)
        noun = population_noun(book, domain, value)
    out_dir = Path(out_dir)
    common = dict(
        wave=wave,
        wave_label=wave_label,
        labels=book.labels(),
        source_note=_synthetic_note(book),
        population=noun,
        publication=parse_publication(publication),
    )
    charts.plot_by_indicator(
        frame, charts.ByIndicatorOptions(**common), out_stem=out_dir / "by_indicator"
    )
    for parent in of_whom:
        charts.plot_of_whom(
            frame,
            charts.OfWhomOptions(**common, parent=parent, notes=_group_notes(book, parent)),
            out_stem=out_dir / f"of_whom_{parent}",
        )
    for question, categories in book.categoricals.items():
        options = charts.CategoricalOptions(
            **common,
            question=question,
            categories={c: book.indicators[c].category_label or c for c in categories},
            question_label=book.categorical_labels.get(question),
            domains=tuple(domains),
        )
        charts.plot_categorical(frame, options, out_stem=out_dir / f"categorical_{question}")
    for domain in domains:
        charts.plot_by_domain(
            frame,
            charts.ByDomainOptions(**common, domain=domain),
            out_stem=out_dir / f"by_{domain}",
        )
        charts.plot_heatmap(
            frame,
            charts.HeatmapOptions(**common, domain=domain),
            out_stem=out_dir / f"heatmap_{domain}",
        )


def study_charts_step(
    table: str | Path,
    codebooks: Mapping[str, str | Path],
    *,
    wave_labels: Mapping[str, str],
    of_whom: Mapping[str, Sequence[str]] | None = None,
    across_waves: Sequence[str],
    contrasts: str | Path | None = None,
    figures_dir: str | Path,
    comparisons_dir: str | Path | None = None,
    publication: Mapping[str, Any] | None = None,
) -> None:
    """The charts of the study as a whole, from the published tables.

    Each parent indicator of each wave with its "of whom" breakdown
    (``<figures_dir>/<wave>/of_whom_<parent>``), each harmonized indicator across the
    waves that asked it (``<figures_dir>/waves/<indicator>``) and, with ``contrasts``,
    forest plots of the differences in ``comparisons_dir`` (:func:`forest_step`), each chart
    with the marks of the ``publication`` standard (see :func:`figures_step`).
    """
    from prevalence.data.codebook import load_codebook
    from prevalence.publication import charts
    from prevalence.publication.disclosure import parse_publication

    rules = parse_publication(publication)
    frame = read_table(table)
    books = {wave: load_codebook(path) for wave, path in codebooks.items()}
    figures_dir = Path(figures_dir)
    for wave, parents in (of_whom or {}).items():
        book = books[wave]
        for parent in parents:
            options = charts.OfWhomOptions(
                wave=wave,
                wave_label=wave_labels[wave],
                labels=book.labels(),
                parent=parent,
                source_note=_synthetic_note(book),
                notes=_group_notes(book, parent),
                publication=rules,
            )
            out_stem = figures_dir / wave / f"of_whom_{parent}"
            charts.plot_of_whom(frame[frame["wave"] == wave], options, out_stem=out_stem)
    labels: dict[str, str] = {}
    for book in books.values():
        labels = {**book.labels(), **labels}
    for indicator in across_waves:
        options = charts.AcrossWavesOptions(
            indicator=indicator,
            labels=labels,
            wave_labels=dict(wave_labels),
            note="The waves are separate convenience samples, not a panel: differences between "
            "them mix change over time with differences between the studies.",
            publication=rules,
        )
        charts.plot_across_waves(frame, options, out_stem=figures_dir / "waves" / indicator)
    if contrasts is not None:
        forest_step(
            contrasts, codebooks, wave_labels=wave_labels, out_dir=comparisons_dir or figures_dir
        )


def forest_step(
    contrasts_table: str | Path,
    codebooks: Mapping[str, str | Path],
    *,
    wave_labels: Mapping[str, str],
    out_dir: str | Path,
    group_by: str | None = "indicator",
) -> list[Path]:
    """Draw forest plots of the differences, one chart per set of comparisons.

    Within a wave: one chart per wave, domain and kind (``forest_<wave>_<domain>``
    for pairs, ``..._others`` for each value against the rest). Between waves:
    ``forest_waves_<domain>[_<value>]``. Each is written as PNG (300 dpi), SVG and
    PDF (:func:`prevalence.publication.charts.plot_forest`).

    Parameters
    ----------
    contrasts_table
        The table of differences (``contrasts.csv``, :func:`publish_step`).
    codebooks
        ``{wave_id: codebook path}`` for the indicator labels.
    wave_labels
        ``{wave_id: label}``.
    out_dir
        Folder of the charts.
    group_by
        ``"indicator"`` or ``"comparison"``.

    Returns
    -------
    list of pathlib.Path
        Every file written.
    """
    import numpy as np
    import pandas as pd

    from prevalence.data.codebook import load_codebook
    from prevalence.publication import charts
    from prevalence.stats.contrasts import BETWEEN, OTHERS
    from prevalence.stats.estimate import OVERALL

    table = pd.read_csv(contrasts_table, keep_default_na=False, na_values=[""])
    table["flag"] = table["flag"].fillna("")
    labels: dict[str, str] = {}
    synthetic = False
    for path in codebooks.values():
        book = load_codebook(path)
        synthetic |= book.synthetic
        for key, value in book.labels().items():
            labels.setdefault(key, value)
    note = "Synthetic microdata: only the published percentages are real." if synthetic else None
    options = charts.ForestOptions(
        labels=labels, wave_labels=wave_labels, group_by=group_by, source_note=note
    )
    out_dir = Path(out_dir)
    written: list[Path] = []
    if table.empty:
        return written
    kind = table["comparison"].astype(str)
    others = table["value_b"].astype(str) == OTHERS
    domain = table["domain"].astype(str)
    stem = np.where(
        kind == BETWEEN,
        "forest_waves_"
        + domain
        + np.where(domain == OVERALL, "", "_" + table["value_a"].astype(str)),
        "forest_" + table["wave_a"].astype(str) + "_" + domain + np.where(others, "_others", ""),
    )
    stems = pd.Series(stem).str.replace(r"[^A-Za-z0-9_+-]+", "-", regex=True)
    for name in dict.fromkeys(stems):
        rows = table[(stems == name).to_numpy()]
        written += charts.plot_forest(rows, options, out_stem=out_dir / name)
    return written


def check_reproduction_step(reproduction: str | Path, *, out: str | Path) -> None:
    """Fail, naming them, when published figures do not reproduce."""
    import pandas as pd

    from prevalence.data.io import write_text
    from prevalence.publication.reproduce import mismatch_message

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
    console.info("all %d published figures reproduce", len(result))


def study_step(
    table: str | Path,
    findings: str | Path,
    ingest_log: str | Path,
    codebook: str | Path,
    methods: str | Path,
    *,
    wave: str,
    wave_label: str,
    charts: Sequence[str | Path] = (),
    reproduction: str | Path | None = None,
    domains: Sequence[str],
    populations: Sequence[Sequence[str]] = (),
    style: Mapping[str, Any],
    publication: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any],
    out_html: str | Path,
    out_pdf: str | Path | None = None,
    source: str = "config.yaml",
) -> None:
    """The study report of a wave: ``out_html`` and, printed by headless Chromium, ``out_pdf``
    (see :mod:`prevalence.publication.study`).

    ``table`` is the published prevalence table, ``findings`` the key findings, ``ingest_log``
    the wave's published ingest log, ``methods`` the Snakemake report's text
    (``workflow/report/workflow.rst``, rendered with ``settings``), ``charts`` the wave's PNG
    charts (those of a population in their ``<domain>-<value>`` folder) and ``reproduction``
    the published figures against their estimates.
    """
    import pandas as pd

    from prevalence.data.codebook import load_codebook
    from prevalence.data.io import write_text
    from prevalence.publication.disclosure import parse_publication
    from prevalence.publication.study import (
        charts_of,
        chromium,
        methods_html,
        print_pdf,
        render_study,
    )
    from prevalence.publication.tables import parse_table_style

    if out_pdf is not None:
        chromium()  # no Chromium, no PDF: say so before anything is written
    book = load_codebook(codebook)
    frame = read_table(table)
    out_html = Path(out_html)
    images = [Path(c) for c in charts if str(c).endswith(".png")]
    # the wave's own folder: the shallowest (a population's charts are in subfolders)
    figures_dir = min((p.parent for p in images), key=lambda d: len(d.parts), default=Path("."))
    html = render_study(
        wave=wave,
        wave_label=wave_label,
        book=book,
        table=frame,
        findings=pd.read_csv(findings, keep_default_na=False),
        log=json.loads(Path(ingest_log).read_text(encoding="utf-8")),
        methods=methods_html(Path(methods).read_text(encoding="utf-8"), settings, source=methods),
        charts=charts_of(
            images,
            page_dir=out_html.parent,
            figures_dir=figures_dir,
            table=frame[frame["wave"] == wave],
            book=book,
            populations=[tuple(p) for p in populations],
        ),
        reproduction=None if reproduction is None else pd.read_csv(reproduction),
        domains=domains,
        style=parse_table_style(style, source),
        publication=parse_publication(publication, source),
    )
    write_text(out_html, html)
    if out_pdf is not None:
        print_pdf(out_html, out_pdf)
    console.info("%d charts, %s", len(images), "HTML and PDF" if out_pdf else "HTML")


def manifest_step(
    *,
    inputs: Sequence[str | Path],
    outputs: Sequence[str | Path],
    config: Mapping[str, Any],
    out: str | Path,
) -> None:
    """Write the provenance manifest (see :mod:`prevalence.publication.manifest`)."""
    from prevalence.data.io import write_text
    from prevalence.publication.manifest import build_manifest

    write_text(out, _json(build_manifest(inputs=inputs, outputs=outputs, config=config)))


def coverage_step(
    *,
    n: int | Sequence[int],
    p: float | Sequence[float] | str,
    methods: str | Sequence[str],
    level: float,
    simulate: Mapping[str, Any] | None,
    out_table: str | Path | None,
    out_figure_stem: str | Path | None,
    variance: str = "classical",
    source_note: str | None = None,
    layout: str = "grid",
) -> pd.DataFrame:
    """Compute the coverage table; write it (CSV, atomically) and its chart.

    Parameters
    ----------
    n
        Sample size(s) of the exact calculation, e.g. ``[30, 55, 150]``.
    p
        True prevalences: a list of proportions or a grid such as
        ``"0.01:0.99:0.01"``.
    methods
        Interval methods, e.g. ``["wald", "wilson", "clopper-pearson"]``.
    level
        Nominal confidence level, e.g. ``0.95``.
    simulate
        ``None``, or the cluster design to simulate at the same ``p``:
        ``{"clusters": 20, "cluster_size": 5, "deff": 2, "reps": 20000,
        "seed": 1}`` (``deff``, ``reps`` and ``seed`` default to 1, 20000, 1).
    out_table
        CSV path of the table (see :func:`coverage_table`), or ``None``.
    out_figure_stem
        Path without extension of the chart (``.png``, ``.svg``, ``.pdf``), or ``None``.
    variance
        Standard error of the exact rows, ``"classical"`` or ``"design"``
        (see :func:`exact_coverage`).
    source_note
        Optional extra footer line of the chart.
    layout
        Chart layout, ``"grid"`` or ``"overlay"`` (see :func:`plot_coverage`).

    Returns
    -------
    pandas.DataFrame
        The table that was written.

    Raises
    ------
    ConfigError
        For any invalid setting; nothing is written then.
    """
    from prevalence.data.io import write_csv
    from prevalence.publication.charts.coverage import (
        CoverageOptions,
        check_layout,
        plot_coverage,
    )
    from prevalence.stats.coverage import coverage_table, summarize_coverage

    layout = check_layout(layout)
    table = coverage_table(
        n=n, p=p, methods=methods, level=level, simulate=simulate, variance=variance
    )
    for row in summarize_coverage(table).itertuples(index=False):
        log.info(
            "%s n=%d %s: coverage min %.3f (p=%g), mean %.3f",
            row.source,
            row.n,
            row.method,
            row.min_coverage,
            row.p_at_min,
            row.mean_coverage,
        )
    if out_table is not None:
        write_csv(table, out_table)
    if out_figure_stem is not None:
        options = CoverageOptions(source_note=source_note, layout=layout)
        plot_coverage(table, options, out_stem=out_figure_stem)
    return table


def _type(convert):
    def parse(text: str):
        try:
            return convert(text)
        except PrevalenceError as error:
            raise argparse.ArgumentTypeError(error.message().replace("\n  fix:", ";")) from None

    parse.__name__ = convert.__name__.strip("_")
    return parse


def _sample_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError("must be a whole number >= 1", value=text) from None
    from prevalence.stats.coverage import check_sample_size

    return check_sample_size(value)


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError("must be a number strictly between 0 and 1", value=text) from None
    if not 0.0 < value < 1.0:
        raise ConfigError(
            "the confidence level must be strictly between 0 and 1",
            value=text,
            fix="use for example 0.95 for a 95% interval",
        )
    return value


def _method(text: str) -> str:
    from prevalence.stats.intervals import check_method

    return check_method(text)


def _coverage_parser() -> argparse.ArgumentParser:
    from prevalence.publication.charts.coverage import LAYOUTS
    from prevalence.stats.coverage import (
        DEFAULT_METHODS,
        DEFAULT_N,
        DEFAULT_P,
        VARIANCES,
        parse_grid,
    )

    parser = argparse.ArgumentParser(
        prog="python -m prevalence.workflow.steps coverage",
        description="Actual coverage of confidence-interval methods for a proportion: exact "
        "for a simple random sample, simulated for a cluster sample.",
    )
    parser.add_argument(
        "--n",
        nargs="+",
        type=_type(_sample_size),
        default=list(DEFAULT_N),
        metavar="N",
        help="sample sizes (default: %(default)s)",
    )
    parser.add_argument(
        "--p",
        nargs="+",
        type=_type(parse_grid),
        default=None,
        metavar="P",
        help=f"true prevalences: proportions or start:stop:step grids (default: {DEFAULT_P})",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        type=_type(_method),
        default=list(DEFAULT_METHODS),
        metavar="METHOD",
        help="interval methods (default: %(default)s)",
    )
    parser.add_argument(
        "--level",
        type=_type(_level),
        default=0.95,
        help="nominal confidence level in (0, 1) (default: %(default)s)",
    )
    parser.add_argument(
        "--variance",
        choices=VARIANCES,
        default="classical",
        help="standard error of the exact calculation: classical sqrt(p(1-p)/n) with normal "
        "quantiles, or design sqrt(p(1-p)/(n-1)) with n-1 df (default: %(default)s)",
    )
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="grid",
        help="chart: a row of panels per method, or all methods in one panel per sample "
        "(default: %(default)s)",
    )
    parser.add_argument("--out-table", type=Path, help="CSV file of the coverage table")
    parser.add_argument(
        "--out-figure", type=Path, help="chart path without extension (.png, .svg, .pdf written)"
    )
    sim = parser.add_argument_group("simulation of a one-stage cluster sample")
    sim.add_argument("--simulate", action="store_true", help="also simulate a cluster sample")
    sim.add_argument("--clusters", type=int, help="number of clusters (>= 2)")
    sim.add_argument("--cluster-size", type=int, help="respondents per cluster (>= 1)")
    sim.add_argument(
        "--deff", type=float, default=None, help="design effect, 1 to cluster size (default: 1)"
    )
    sim.add_argument("--reps", type=int, default=None, help="samples per p (default: 20000)")
    sim.add_argument("--seed", type=int, default=None, help="random seed (default: 1)")
    return parser


def coverage_main(argv: Sequence[str] | None = None) -> int:
    """The coverage command; return the exit status (2 for bad arguments)."""
    from prevalence.stats.coverage import DEFAULT_P

    parser = _coverage_parser()
    args = parser.parse_args(argv)
    p = [v for grid in args.p for v in grid] if args.p else DEFAULT_P
    sim_values = {
        "clusters": args.clusters,
        "cluster_size": args.cluster_size,
        "deff": args.deff,
        "reps": args.reps,
        "seed": args.seed,
    }
    simulate = None
    if args.simulate:
        if args.clusters is None or args.cluster_size is None:
            parser.error("--simulate needs --clusters and --cluster-size")
        simulate = sim_values
    elif any(v is not None for v in sim_values.values()):
        given = [f"--{k.replace('_', '-')}" for k, v in sim_values.items() if v is not None]
        verb = "needs" if len(given) == 1 else "need"
        parser.error(f"{', '.join(given)} {verb} --simulate")
    try:
        table = coverage_step(
            n=args.n,
            p=p,
            methods=args.methods,
            level=args.level,
            simulate=simulate,
            out_table=args.out_table,
            out_figure_stem=args.out_figure,
            variance=args.variance,
            layout=args.layout,
        )
    except PrevalenceError as error:
        parser.error(error.message().replace("\n  fix:", ";"))
    except OSError as error:
        print(f"{parser.prog}: error: cannot write: {error}", file=sys.stderr)
        return 1
    _print_summary(table, args.out_table, args.out_figure)
    return 0


def _print_summary(table: pd.DataFrame, out_table: Path | None, out_figure: Path | None) -> None:
    from prevalence.stats.coverage import summary_text

    lines = [summary_text(table)]
    if out_table is not None:
        lines.append(f"table: {out_table}")
    if out_figure is not None:
        lines.append(f"chart: {out_figure}.png, .svg, .pdf")
    print("\n".join(lines))


#: The commands of ``python -m prevalence.workflow.steps``.
COMMANDS = {"coverage": coverage_main}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m prevalence.workflow.steps <command> ...``: run a step as a command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(
            "usage: python -m prevalence.workflow.steps {" + ",".join(COMMANDS) + "} [options]",
            file=sys.stderr,
        )
        return 2
    return COMMANDS[argv[0]](argv[1:])


class _Console(logging.StreamHandler):
    """The job's one line for the console, and its errors: ``<rule> <wave>: <message>``."""

    def __init__(self, prefix: str, said: list[bool]) -> None:
        super().__init__(sys.stderr)
        self.prefix, self.said = prefix, said
        self.setLevel(logging.INFO)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == console.name:
            self.said[0] = True
            return True
        return record.levelno >= logging.WARNING and record.name.startswith("prevalence")

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.name == console.name:
            return f"{self.prefix}: {text}"
        return f"{record.levelname} {self.prefix}: {text}"


#: whether the running job printed its own line (set by :class:`_Console`)
_said = [False]


def _log_to(log_file: str | None, *, prefix: str) -> None:
    """The job's logging: everything at INFO, the project's and every library's, to the
    rule's log file; to the console only the job's own line and the project's warnings and
    errors (libraries such as fontTools log at INFO while PDFs are written)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, mode="w", encoding="utf-8")
        handler.setFormatter(formatter)
        root.addHandler(handler)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        root.addHandler(handler)
        return
    root.addHandler(_Console(prefix, _said))
    # fontTools logs the glyph ids of every font subset at INFO: thousands of lines per chart
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    logging.captureWarnings(True)  # Python warnings: to the log file, as WARNING py.warnings


def disk_full(error: BaseException | None) -> bool:
    """Whether ``error``, or an error it was raised while handling, says that the disk (or
    the user's quota) is full. (matplotlib, cleaning up a PDF it could not finish, raises an
    AttributeError from the OSError of the full disk.)"""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if getattr(error, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(error) or "Disk quota exceeded" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def disk_full_message(error: BaseException) -> str:
    """One message for a full disk: what happened, what is kept, what to do."""
    where = getattr(error, "filename", None)
    return (
        "the disk is full: no space left on the device"
        + (f" while writing {where}" if where else "")
        + ". Nothing this job wrote is kept: every file is written whole or not at all, and "
        "Snakemake removes the outputs of a failed job.\n"
        "  fix: free disk space (or set `results:` to a disk with room), then run "
        "`make run` again: it goes on from the last finished job"
    )


def run_step(
    snakemake: Any, step: Callable[..., Any], *args: Any, **kwargs: Any
) -> None:  # pragma: no cover - exercised by the end-to-end tests
    """Run ``step`` inside a Snakemake script: log to the rule's log, fail cleanly.

    The log ends with the step's wall time, the job's CPU time and its peak memory
    (the kernel's high-water mark of the process), the figures to size cluster jobs with.
    """
    log_file = snakemake.log[0] if len(snakemake.log) else None
    wildcards = " ".join(str(value) for value in snakemake.wildcards)  # wave, population
    # a rule made per wave (charts_<wave>) names its step in words: "charts 2016-global"
    name = snakemake.params.get("step", snakemake.rule)
    _log_to(log_file, prefix=f"{name} {wildcards}" if wildcards else name)
    # What is alive now (modules, mostly) lives as long as the job: keep it out of every
    # garbage collection (statsmodels' multipletests collects at each call).
    gc.freeze()
    start = time.perf_counter()
    try:
        step(*args, **kwargs)
    except PrevalenceError as error:
        log.error("%s", error)
        sys.exit(1)
    except KeyboardInterrupt:  # Ctrl-C: one line, not the traceback of whatever was drawing
        logging.raiseExceptions = False
        log.warning("stopped (Ctrl-C); `make run` finishes the run")
        sys.exit(130)
    except Exception as error:  # an OSError, or an error raised while handling one
        if not disk_full(error):
            raise
        logging.raiseExceptions = False  # the log file may not take another line either
        log.error("%s", disk_full_message(error))
        sys.exit(1)
    if not _said[0]:
        files = len(snakemake.output)
        console.info("%d %s written", files, "file" if files == 1 else "files")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    log.info(
        "%s: %.2f s, CPU %.2f s, peak memory %.0f MB",
        step.__name__,
        time.perf_counter() - start,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
    )


if __name__ == "__main__":
    sys.exit(main())
