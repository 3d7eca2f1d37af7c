"""Load and validate ``config.yaml``: waves, design, estimates, targets.

Validation happens before any work: the JSON schema first (unknown keys, wrong
types, values outside their range), then the checks a schema cannot express
(files exist, paths stay inside the project, a domain crossing names known
domains). Every problem is a :class:`~prevalence.errors.ConfigError` that names
the file, the key and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prevalence.errors import ConfigError
from prevalence.schema import read_yaml, validate_document

DEFAULT_CI_METHOD = "wilson"
DEFAULT_LEVEL = 0.95


@dataclass(frozen=True)
class Wave:
    """One survey wave as configured."""

    id: str
    label: str
    responses: Path
    codebook: Path
    design: dict[str, Any] = field(default_factory=dict)
    population: Path | None = None  # the population totals of design.calibration


@dataclass(frozen=True)
class Config:
    """The validated configuration, with each wave's effective design resolved."""

    source: str
    results: Path
    waves: dict[str, Wave]
    by: tuple[tuple[str, ...], ...]
    ci_method: str
    level: float
    targets: Path | None
    raw: dict[str, Any]
    privacy: dict[str, Any] = field(default_factory=lambda: {"k": 3, "policy": "report"})
    coverage: dict[str, Any] | None = None
    tables: dict[str, Any] = field(default_factory=dict)
    publication: dict[str, Any] = field(default_factory=dict)
    comparisons: dict[str, Any] | None = None
    #: the ``(domain, value label)`` pairs of ``figures.populations``
    populations: tuple[tuple[str, str], ...] = ()

    def input_files(self) -> list[str]:
        """Every input file of the run: responses, codebooks, population totals, targets."""
        files = [str(p) for w in self.waves.values() for p in (w.responses, w.codebook)]
        files += [str(w.population) for w in self.waves.values() if w.population is not None]
        if self.targets is not None:
            files.append(str(self.targets))
        return list(dict.fromkeys(files))

    def resolved(self) -> dict[str, Any]:
        """A JSON-serialisable view of the effective configuration (for manifests)."""
        return json.loads(
            json.dumps(
                {
                    "results": str(self.results),
                    "waves": {
                        w.id: {
                            "label": w.label,
                            "responses": str(w.responses),
                            "codebook": str(w.codebook),
                            "design": w.design,
                        }
                        for w in self.waves.values()
                    },
                    "estimates": {
                        "by": [list(d) for d in self.by],
                        "ci_method": self.ci_method,
                        "level": self.level,
                    },
                    "targets": None if self.targets is None else str(self.targets),
                    "privacy": self.privacy,
                    "coverage": self.coverage,
                    "tables": self.tables,
                    "publication": self.publication,
                    "comparisons": self.comparisons,
                    "figures": {
                        "populations": [{"domain": d, "value": v} for d, v in self.populations]
                    },
                }
            )
        )


def _inside(path: Path, root: Path, *, source: str, key: str) -> Path:
    full = (root / path).resolve()
    if not full.is_relative_to(root.resolve()):
        raise ConfigError(
            f"{key}: path {str(path)!r} points outside the project folder",
            file=source,
            fix="keep data inside the project (for example under data/raw/<wave>/)",
        )
    return path


def parse_config(
    raw: Mapping[str, Any] | None,
    *,
    source: str | Path = "config.yaml",
    root: str | Path = ".",
    check_files: bool = True,
) -> Config:
    """Validate a loaded config mapping and resolve it into a :class:`Config`.

    Parameters
    ----------
    raw
        The mapping read from ``config.yaml`` (Snakemake's ``config``).
    source
        Its file name, for messages.
    root
        The project folder; every path must stay inside it.
    check_files
        Also check that each wave's responses and codebook files exist.
    """
    source = str(source)
    root = Path(root)
    if raw is None:
        raw = {}
    validate_document(raw, "config", source=source)
    global_design = dict(raw.get("design") or {})
    waves: dict[str, Wave] = {}
    for wave_id, spec in raw["waves"].items():
        responses = _inside(
            Path(spec["responses"]), root, source=source, key=f"waves.{wave_id}.responses"
        )
        codebook = _inside(
            Path(spec["codebook"]), root, source=source, key=f"waves.{wave_id}.codebook"
        )
        if check_files:
            for key, path in (("responses", responses), ("codebook", codebook)):
                if not (root / path).is_file():
                    raise ConfigError(
                        f"waves.{wave_id}.{key}: file not found",
                        file=str(path),
                        fix=f"put the file there, or correct waves.{wave_id}.{key} in {source}",
                    )
        design = {**global_design, **dict(spec.get("design") or {})}
        population = _population(design, wave_id, root, source, check_files)
        waves[wave_id] = Wave(
            wave_id, spec.get("label", wave_id), responses, codebook, design, population
        )
    estimates = raw.get("estimates") or {}
    by = tuple((d,) if isinstance(d, str) else tuple(d) for d in estimates.get("by", []))
    seen = set()
    for d in by:
        if len(set(d)) != len(d):
            raise ConfigError(
                f"estimates.by: crossing {list(d)} repeats a domain",
                file=source,
                fix="name each domain once in a crossing",
            )
        if d in seen:
            raise ConfigError(
                f"estimates.by: domain {'+'.join(d)} is listed twice",
                file=source,
                fix="list each domain or crossing once",
            )
        seen.add(d)
    targets = raw.get("targets")
    if targets is not None:
        targets = _inside(Path(targets), root, source=source, key="targets")
        if check_files and not (root / targets).is_file():
            raise ConfigError(
                "targets: file not found",
                file=str(targets),
                fix=f"create it, or remove `targets:` from {source}",
            )
    populations = _populations((raw.get("figures") or {}).get("populations") or [], source)
    return Config(
        source=source,
        populations=populations,
        results=_inside(Path(raw.get("results", "results")), root, source=source, key="results"),
        waves=waves,
        by=by,
        ci_method=estimates.get("ci_method", DEFAULT_CI_METHOD),
        level=float(estimates.get("level", DEFAULT_LEVEL)),
        targets=targets,
        raw=dict(raw),
        privacy={"k": 3, "policy": "report", **(raw.get("privacy") or {})},
        tables=dict(raw.get("tables") or {}),
        publication=_publication(raw.get("publication"), source),
        comparisons=_comparisons(raw.get("comparisons"), source, list(waves)),
        coverage=None
        if raw.get("coverage") is None
        else {
            "n": [30, 55, 150],
            "p": "0.01:0.99:0.01",
            "methods": ["wald", "wilson", "clopper-pearson", "jeffreys", "agresti-coull"],
            "simulate": None,
            **raw["coverage"],
        },
    )


def _populations(raw: list[Mapping[str, Any]], source: str) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for item in raw:
        pair = (str(item["domain"]), str(item["value"]))
        if pair in found:
            raise ConfigError(
                f"figures.populations: {pair[0]} = {pair[1]} is listed twice",
                file=source,
                fix="list each population once",
            )
        found.append(pair)
    return tuple(found)


def check_populations(config: Config, books: Mapping[str, Any]) -> None:
    """Each population's domain is a domain of at least one wave's codebook."""
    for domain, _ in config.populations:
        if not any(domain in book.domains for book in books.values()):
            known = sorted({d for book in books.values() for d in book.domains})
            raise ConfigError(
                f"figures.populations: {domain!r} is not a domain of any wave's codebook",
                file=config.source,
                fix=f"use one of: {', '.join(known)}",
            )


def _population(
    design: Mapping[str, Any], wave: str, root: Path, source: str, check_files: bool
) -> Path | None:
    """The population file of the wave's calibration block, inside the project."""
    block = design.get("calibration")
    if not block:
        return None
    key = f"waves.{wave}.design.calibration.population"
    path = _inside(Path(block["population"]), root, source=source, key=key)
    if check_files and not (root / path).is_file():
        raise ConfigError(
            f"{key}: file not found",
            file=str(path),
            fix="put the population totals there (columns margin,value,total), or correct "
            f"design.calibration.population in {source}",
        )
    return path


def _publication(raw: Mapping[str, Any] | None, source: str) -> dict[str, Any]:
    """The publication standard with every threshold resolved (see prevalence.publication.disclosure)."""
    from prevalence.publication.disclosure import parse_publication

    return parse_publication(raw, source).as_dict()


def _comparisons(raw: Mapping[str, Any] | None, source: str, waves: list[str]) -> dict | None:
    """The comparisons block, validated against the configured waves (see prevalence.stats.contrasts)."""
    if raw is None:
        return None
    from prevalence.stats.contrasts import parse_comparisons

    parse_comparisons(raw, source=source, waves=waves)
    return dict(raw)


def load_config(path: str | Path = "config.yaml", *, root: str | Path | None = None) -> Config:
    """Read and validate a config file (paths resolved against ``root``, default its folder)."""
    path = Path(path)
    raw = read_yaml(path, what="configuration file")
    if raw is not None and not isinstance(raw, Mapping):
        raise ConfigError("the configuration must be a mapping of keys", file=str(path))
    return parse_config(raw, source=path, root=path.parent if root is None else root)
