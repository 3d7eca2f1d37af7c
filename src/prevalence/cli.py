"""Command line: ``python -m prevalence check [config.yaml]`` and ``verify [results]``.

``check`` runs every validation of the workflow without writing anything: the
configuration, each wave's codebook and every name they share (the workflow's
own gate before any job, :func:`prevalence.validate.validate_run`), then each
wave's responses (codes, ids, identifiers, small groups), its survey design, its
estimation, what may be published and its comparisons. A researcher runs it on a
new wave before the workflow; the exit status is 0 when all is well, 1 with one
clear message when something needs fixing, 2 for a wrong command line.

``verify`` checks a results folder against its ``manifest.json`` and names every
output that was changed, truncated, emptied or removed since the run, and every
file added to it (exit status 1), before a reviewer trusts the folder.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from prevalence.disclosure import disclose
from prevalence.errors import PrevalenceError
from prevalence.estimate import estimate_wave
from prevalence.ingest import ingest
from prevalence.io import read_responses
from prevalence.validate import validate_run

log = logging.getLogger("prevalence")


def check(config_path: str | Path = "config.yaml") -> list[str]:
    """Validate everything a run needs; return one summary line per wave."""
    config_path = Path(config_path)
    config, books = validate_run(config_path)  # what the workflow checks before any job
    root = config_path.parent
    lines = []
    values: dict[str, dict[str, list[str]]] = {}  # each wave's domain values, for comparisons
    for wave in config.waves.values():
        book = books[wave.id]
        raw = read_responses(root / wave.responses, sheet=book.sheet)
        data = ingest(
            raw,
            book,
            wave=wave.id,
            design=wave.design,
            k=config.privacy["k"],
            policy=config.privacy["policy"],
        )
        table = estimate_wave(
            data.frame,
            book,
            wave=wave.id,
            by=config.by,
            design=wave.design,
            ci_method=config.ci_method,
            level=config.level,
        )
        published = disclose(table, config.publication)
        if config.comparisons is not None:
            from prevalence.compare import domain_values, wave_comparisons

            values[wave.id] = domain_values(data.frame, book)
            survey = data.design if data.design is not None else wave.design
            wave_comparisons(
                data.frame,
                book,
                survey,
                config.comparisons,
                wave=wave.id,
                level=config.level,
                published=published,
            )
        rows = data.log["rows"]
        lines.append(
            f"{wave.id}: {rows['read']} rows read, {rows['kept']} kept, "
            f"{rows['excluded']} excluded; {len(book.indicators)} indicators; "
            f"{len(table)} estimates"
        )
    if config.comparisons is not None:  # the pairs name values of some wave, as publish checks
        from prevalence.compare import check_named_values, parse_comparisons

        spec = parse_comparisons(config.comparisons, source=config.source, waves=list(values))
        check_named_values(spec, values, config.source)
    return lines


def verify(results: str | Path = "results") -> int:
    """``verify``: every output of ``results`` against its manifest; 0 when all match."""
    from prevalence.manifest import verify_results

    try:
        checked, problems = verify_results(results)
    except PrevalenceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print(
            f"error: {len(problems)} of the results in {results} differ from manifest.json\n"
            "  fix: do not trust or publish these files; run `make run` to write them again",
            file=sys.stderr,
        )
        return 1
    print(f"all {checked} outputs match {Path(results) / 'manifest.json'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m prevalence", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check_parser = commands.add_parser("check", help="validate config, codebooks, data and designs")
    check_parser.add_argument("config", nargs="?", default="config.yaml")
    verify_parser = commands.add_parser(
        "verify", help="check a results folder against its manifest.json"
    )
    verify_parser.add_argument("results", nargs="?", default="results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    if args.command == "verify":
        return verify(args.results)
    try:
        for line in check(args.config):
            print(line)
    except PrevalenceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
