"""Every check of a run that needs no data: configuration, codebooks and what they name.

:func:`validate_run` is the one gate before any work. The workflow calls it while
Snakemake reads the Snakefile, before any job is scheduled, and ``python -m
prevalence check`` calls it before it reads the responses, so a problem in
``config.yaml`` or in a codebook stops both in the same way, with the same message:

* ``config.yaml`` is read with the strict YAML reader, which refuses a key given
  twice (Snakemake's own reader keeps the last one, so a wave listed twice would
  be lost without a word), then validated against its schema;
* every setting is parsed as the steps parse it (publication standard, table
  style, comparisons, coverage grid, published figures), from what the user wrote;
* every wave's codebook is loaded and validated;
* every name that points into a codebook is resolved: the domains of
  ``estimates.by``, of the comparisons and of the tests of association, the
  indicators a comparison names, and the waves, indicators, domains and
  denominators of the published figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prevalence.config import Config, check_populations, parse_config
from prevalence.data.codebook import Codebook, load_codebook
from prevalence.errors import ConfigError
from prevalence.schema import read_yaml

OVERALL = "overall"


def read_config_file(path: str | Path) -> dict[str, Any]:
    """``config.yaml`` as a mapping, read strictly: a key given twice is an error."""
    raw = read_yaml(path, what="configuration file")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError("the configuration must be a mapping of keys", file=str(path))
    return dict(raw)


def validate_run(
    config_path: str | Path = "config.yaml",
    *,
    config: Mapping[str, Any] | None = None,
    root: str | Path | None = None,
) -> tuple[Config, dict[str, Codebook]]:
    """Validate everything a run needs but the responses; return the config and codebooks.

    Parameters
    ----------
    config_path
        The configuration file. It is always read (strictly), so that a key given
        twice is refused even when ``config`` is passed.
    config
        The configuration as the workflow holds it (Snakemake's ``config``, with any
        ``--config`` override); default the file's content.
    root
        The project folder that paths are relative to; default the file's folder.

    Raises
    ------
    ConfigError
        The first problem, naming the file, the key and the fix.
    """
    config_path = Path(config_path)
    written = read_config_file(config_path)
    root = config_path.parent if root is None else Path(root)
    parsed = parse_config(written if config is None else config, source=config_path, root=root)
    books = {w.id: load_codebook(root / w.codebook) for w in parsed.waves.values()}
    source = str(config_path)
    _check_settings(parsed, source)
    _check_domains(parsed, books, source)
    check_populations(parsed, books)
    if parsed.comparisons is not None:
        _check_comparisons(parsed, books, source)
    if parsed.targets is not None:
        _check_targets(parsed, books, root / parsed.targets)
    return parsed, books


def _check_settings(config: Config, source: str) -> None:
    """The blocks the steps parse themselves, parsed here first."""
    from prevalence.publication.tables import parse_table_style

    parse_table_style(config.tables, source)
    if config.coverage is not None:
        from prevalence.stats.coverage import parse_grid

        try:
            parse_grid(str(config.coverage["p"]))
        except ConfigError as error:
            raise ConfigError(
                f"coverage.p: {error.problem}", file=source, value=error.value, fix=error.fix
            ) from None


def _unknown_domain(name: str, wave: str, book: Codebook, key: str) -> ConfigError:
    known = ", ".join(book.domains) or "(none)"
    return ConfigError(
        f"{key} names domain {name!r}, which the codebook of wave {wave!r} does not define "
        f"(its domains: {known})",
        file=book.path,
        fix=f"add {name!r} under `domains:` in the codebook, or remove it from {key}",
    )


def _check_domains(config: Config, books: Mapping[str, Codebook], source: str) -> None:
    for wave, book in books.items():
        for crossing in config.by:
            for name in crossing:
                if name not in book.domains:
                    raise _unknown_domain(name, wave, book, "estimates.by")


def _check_comparisons(config: Config, books: Mapping[str, Codebook], source: str) -> None:
    from prevalence.stats.contrasts import parse_comparisons

    spec = parse_comparisons(config.comparisons, source=source, waves=list(config.waves))
    for i, entry in enumerate(spec.within):
        key = f"comparisons.within[{i}]"
        waves = entry.waves if entry.waves is not None else tuple(books)
        for wave in waves:
            if entry.domain not in books[wave].domains:
                raise _unknown_domain(entry.domain, wave, books[wave], f"{key}.domain")
        _check_indicators(entry.indicators, [books[w] for w in waves], 1, key, source)
        known = _labelled_values(entry.domain, [books[w] for w in waves], config)
        for j, pair in enumerate(entry.pairs):
            for value in pair:
                _check_value(value, known, entry.domain, f"{key}.pairs[{j}]", source)
    if spec.association is not None:
        for i, name in enumerate(spec.association):
            if not any(name in book.domains for book in books.values()):
                raise ConfigError(
                    f"comparisons.association[{i}]: no wave's codebook defines domain {name!r}",
                    file=source,
                    fix="name a domain of the codebooks, or remove it",
                )
    single = {d[0] for d in config.by if len(d) == 1}
    for i, entry in enumerate(spec.between_waves):
        key = f"comparisons.between_waves[{i}]"
        if entry.domain != OVERALL and entry.domain not in single:
            raise ConfigError(
                f"{key}.domain: {entry.domain!r} is not estimated, so there is no cell to compare",
                file=source,
                fix=f"add {entry.domain!r} to estimates.by, or compare `domain: overall`",
            )
        _check_indicators(entry.indicators, [books[w] for w in entry.waves], 2, key, source)
        if entry.domain != OVERALL:
            known = _labelled_values(entry.domain, [books[w] for w in entry.waves], config)
            _check_value(entry.value, known, entry.domain, f"{key}.domain.value", source)


def _labelled_values(domain: str, books: list[Codebook], config: Config) -> set[str] | None:
    """The values a domain can take in these waves, when their codebooks label it (else None).

    Without labels in every codebook, the values come from the data (or from an SPSS or
    Stata file's labels): the comparison step checks them once the waves are read.
    """
    labels = [book.domains[domain].labels for book in books]
    if not labels or any(found is None for found in labels):
        return None
    values = {label for found in labels for _, label in found}
    if config.privacy.get("policy") == "coarsen":
        values.add("Other")  # small values merged at ingest
    return values


def _check_value(value: str, known: set[str] | None, domain: str, key: str, source: str) -> None:
    if known is not None and value not in known:
        raise ConfigError(
            f"{key}: {value!r} is not a value of {domain!r} in any wave",
            file=source,
            fix=f"use one of: {', '.join(sorted(known))}",
        )


def _check_indicators(names, books: list[Codebook], least: int, key: str, source: str) -> None:
    """Each named indicator is an indicator of at least ``least`` of these codebooks."""
    for j, name in enumerate(names or ()):
        if sum(name in book.indicators for book in books) < least:
            known = sorted({i for book in books for i in book.indicators})
            where = "any of its waves" if least == 1 else f"at least {least} of its waves"
            raise ConfigError(
                f"{key}.indicators[{j}]: {name!r} is not an indicator of {where}",
                file=source,
                fix=f"use indicator ids of the codebooks: {', '.join(known)}",
            )


def _check_targets(config: Config, books: Mapping[str, Codebook], path: Path) -> None:
    from prevalence.publication.reproduce import load_targets

    domains = {OVERALL} | {"+".join(d) for d in config.by}
    for i, target in enumerate(load_targets(path), start=1):
        where = f"entry {i} ({target.wave}, {target.indicator})"
        book = books.get(target.wave)
        if book is None:
            raise ConfigError(
                f"{where}: wave {target.wave!r} is not configured",
                file=str(path),
                fix=f"use a wave id of config.yaml: {', '.join(books)}",
            )
        indicator = book.indicators.get(target.indicator)
        if indicator is None:
            raise ConfigError(
                f"{where}: {target.indicator!r} is not an indicator of wave {target.wave!r}",
                file=str(path),
                fix=f"use an indicator id of {book.path}",
            )
        if target.domain not in domains:
            raise ConfigError(
                f"{where}: domain {target.domain!r} is not estimated",
                file=str(path),
                fix="add it to estimates.by in config.yaml, or use one of: "
                + ", ".join(sorted(domains)),
            )
        denominator = indicator.denominator or "all"
        if target.denominator != denominator:
            raise ConfigError(
                f"{where}: denominator {target.denominator!r}, but the codebook says "
                f"{denominator!r}",
                file=str(path),
                fix=f"write `denominator: {denominator}`",
            )
