"""Command line: ``prevalence COMMAND`` (also ``python -m prevalence COMMAND``).

``check`` runs every validation of the workflow without writing anything: the
configuration, each wave's codebook and every name they share (the workflow's
own gate before any job, :func:`prevalence.workflow.validate.validate_run`), then each
wave's responses (codes, ids, identifiers, small groups), its survey design, its
estimation, what may be published and its comparisons. A researcher runs it on a
new wave before the workflow; the exit status is 0 when all is well, 1 with one
clear message when something needs fixing, 2 for a wrong command line.

``run`` runs the workflow, its report and summary, as ``make run`` does; ``codebook draft``
drafts a wave's codebook from its responses file; ``published`` checks a published
percent against its n; ``verify`` checks a results folder against its ``manifest.json`` and names every
output that was changed, truncated, emptied or removed since the run, and every
file added to it (exit status 1), before a reviewer trusts the folder; ``summary`` prints
what the last run gave. Every command has ``--help`` and the same exit statuses.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from prevalence.config import load_config
from prevalence.errors import PrevalenceError
from prevalence.workflow.validate import validate_run

log = logging.getLogger("prevalence")

DESCRIPTION = (
    "Prevalence of violence against women in politics, from survey responses to published "
    "tables: run the workflow, check a wave, draft its codebook, check published figures. "
    "Exit status: 0 ok, 1 bad input (with one message naming the fix), 2 wrong command line."
)


def check(config_path: str | Path = "config.yaml") -> list[str]:
    """Validate everything a run needs; return one summary line per wave."""
    # pandas and scipy load here, not at start: `summary`, `verify` and `run` start fast.
    from prevalence.data.ingest import ingest
    from prevalence.data.io import read_populations, read_responses
    from prevalence.publication.disclosure import disclose
    from prevalence.stats.estimate import estimate_wave

    config_path = Path(config_path)
    config, books = validate_run(config_path)  # what the workflow checks before any job
    root = config_path.parent
    lines = []
    values: dict[str, dict[str, list[str]]] = {}  # each wave's domain values, for comparisons
    for wave in config.waves.values():
        book = books[wave.id]
        raw = read_responses(root / wave.responses, sheet=book.sheet)
        population = None if wave.population is None else root / wave.population
        data = ingest(
            raw,
            book,
            wave=wave.id,
            design=wave.design,
            k=config.privacy["k"],
            policy=config.privacy["policy"],
            populations=read_populations(wave.design, population)[0],
        )
        table = estimate_wave(
            data.frame,
            book,
            wave=wave.id,
            by=config.by,
            design=data.design if data.design is not None else wave.design,
            ci_method=config.ci_method,
            level=config.level,
        )
        published = disclose(table, config.publication, config.populations)
        if config.comparisons is not None:
            from prevalence.stats.comparisons import wave_comparisons
            from prevalence.stats.contrasts import domain_values

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
        from prevalence.stats.contrasts import check_named_values, parse_comparisons

        spec = parse_comparisons(config.comparisons, source=config.source, waves=list(values))
        check_named_values(spec, values, config.source)
    return lines


def _summary(config_path: str | Path, started: float | None, *, failed: bool = False) -> int:
    import time

    from prevalence.workflow.summary import failure_message, write_summary

    config_path = Path(config_path)
    try:
        config = load_config(config_path)
        results = config_path.parent / config.results
        if failed:
            message = failure_message(results / "logs", since=started or 0.0)
            if message:
                print("\n" + message, file=sys.stderr)
            return 1
        elapsed = time.time() - started if started is not None else None
        text = write_summary(results, list(config.waves), elapsed=elapsed)
        print(f"summary ({config.results / 'summary.txt'}):\n{text}", end="")
    except PrevalenceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except FileNotFoundError as error:
        print(f"error: no finished run to summarize: {error.filename} is missing", file=sys.stderr)
        return 1
    return 0


def verify(results: str | Path = "results") -> int:
    """``verify``: every output of ``results`` against its manifest; 0 when all match."""
    from prevalence.publication.manifest import verify_results

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
    parser = argparse.ArgumentParser(prog="prevalence", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    check_parser = commands.add_parser("check", help="validate config, codebooks, data and designs")
    check_parser.add_argument("config", nargs="?", default="config.yaml")
    verify_parser = commands.add_parser(
        "verify", help="check a results folder against its manifest.json"
    )
    verify_parser.add_argument("results", nargs="?", default="results")
    summary_parser = commands.add_parser(
        "summary", help="print (and write to <results>/summary.txt) what the last run gave"
    )
    summary_parser.add_argument("config", nargs="?", default="config.yaml")
    summary_parser.add_argument(
        "--started", type=float, help="when the run started (seconds since the epoch)"
    )
    summary_parser.add_argument(
        "--failed", action="store_true", help="the run failed: print the error that stopped it"
    )
    _add_research_commands(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    if args.command == "verify":
        return verify(args.results)
    if getattr(args, "handler", None) is not None:
        return _handle(args)
    if args.command == "summary":
        return _summary(args.config, args.started, failed=args.failed)
    try:
        for line in check(args.config):
            print(line)
    except PrevalenceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


# --------------------------------------------------------------------------------------
# run, codebook draft, published
# --------------------------------------------------------------------------------------
def _add_research_commands(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="run the workflow, its report and the run's summary, as `make run` does",
        description="Run the workflow (Snakemake) in the project folder, then its HTML report, "
        "and print the run's summary. Snakemake recomputes only what changed. Arguments after "
        "`--` go to Snakemake.",
    )
    run.add_argument("--cores", type=int, default=2, help="CPU cores to use (default 2)")
    run.add_argument("--directory", "-C", default=".", help="the project folder (default: here)")
    run.add_argument("--no-report", action="store_true", help="skip the HTML report")
    run.add_argument("snakemake_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    run.set_defaults(handler=_run)

    codebook = commands.add_parser("codebook", help="work with a wave's codebook")
    actions = codebook.add_subparsers(dest="action", required=True)
    draft = actions.add_parser(
        "draft",
        help="draft a codebook from a responses file",
        description="Draft a commented codebook from a responses file: labels, answer codes, "
        "missing and skip codes, the respondent id, columns to drop and denominators from "
        "SPSS/Stata labels; codes from the data of CSV/XLSX, with TODO comments. Values of "
        "identifying columns are never printed.",
    )
    draft.add_argument("responses", help="the responses file (.sav, .dta, .csv, .xlsx, .parquet)")
    draft.add_argument("--out", "-o", help="write the draft here (default: print it)")
    draft.add_argument("--sheet", help="the worksheet of an .xlsx file")
    draft.add_argument("--force", action="store_true", help="replace the --out file if it exists")
    draft.set_defaults(handler=_draft)

    published = commands.add_parser(
        "published",
        help="check a published percent against its n (GRIM) and give its intervals",
        description="Which counts k of n give a published percent at its rounding, with the "
        "Wilson and Clopper-Pearson intervals of each. Exit status 1 when no count fits "
        "(the message names the nearest n that would).",
    )
    published.add_argument("percent", help="the figure as published, e.g. 81.8")
    published.add_argument("--n", type=int, required=True, help="the number of respondents")
    published.add_argument(
        "--decimals", type=int, help="decimals it was published with (default: as written)"
    )
    published.add_argument("--level", type=float, default=0.95, help="confidence level")
    published.set_defaults(handler=_published)


def _handle(args: argparse.Namespace) -> int:
    try:
        return args.handler(args)
    except PrevalenceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _snakemake() -> str:
    beside = Path(sys.executable).parent / "snakemake"
    found = str(beside) if beside.is_file() else shutil.which("snakemake")
    if found is None:
        raise PrevalenceError(
            "Snakemake is not installed", fix="run `make` in the project folder, which installs it"
        )
    return found


#: The lock `make run` holds (Makefile RUN_LOCK): one run at a time in a folder, by either.
RUN_LOCK = Path(".snakemake") / "make-run.lock"


def _run(args: argparse.Namespace) -> int:
    """The workflow, its report and the run's summary, as `make run`: one run at a time in a
    folder, and a run after an interrupted one clears its stale Snakemake lock first."""
    import fcntl

    folder = Path(args.directory)
    if not (folder / "Snakefile").is_file():
        raise PrevalenceError(
            "no Snakefile here: not a project folder",
            file=str(folder.resolve()),
            fix="run `prevalence run` in the project folder, or give it with --directory",
        )
    config = load_config(folder / "config.yaml")  # a bad config stops here, with its message
    (folder / RUN_LOCK).parent.mkdir(exist_ok=True)
    with open(folder / RUN_LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PrevalenceError(
                "another run (`make run` or `prevalence run`) is running in this folder; "
                "this one does nothing",
                file=str(folder.resolve()),
                fix="wait for it to finish (or stop it with Ctrl-C), then run again",
            ) from None
        return _run_locked(args, folder, config)


def _run_locked(args: argparse.Namespace, folder: Path, config) -> int:
    import os
    import time

    extra = args.snakemake_args[1:] if args.snakemake_args[:1] == ["--"] else args.snakemake_args
    snakemake = [_snakemake(), "--cores", str(args.cores)]
    if (folder / "workflow" / "profiles" / "default").is_dir():
        snakemake[1:1] = ["--workflow-profile", "workflow/profiles/default"]
    locks = folder / ".snakemake" / "locks"
    if locks.is_dir() and any(locks.iterdir()):
        print("An earlier run was interrupted: clearing its lock; its unfinished jobs run again.")
        subprocess.run([snakemake[0], "--unlock", "--quiet"], cwd=folder, check=False)
    started = time.time()
    env = {**os.environ, "PREVALENCE_SUMMARY": "later"}
    config_path = folder / "config.yaml"
    if subprocess.run([*snakemake, *extra], cwd=folder, env=env).returncode != 0:
        _summary(config_path, started, failed=True)
        return 1
    if not args.no_report:
        results = folder / config.results
        log_path = results / "logs" / "report.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "w") as handle:
            report = subprocess.run(
                [*snakemake, "--report", str(results / "report.html")],
                cwd=folder,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        if report.returncode != 0:
            print("".join(log_path.read_text().splitlines(True)[-20:]), file=sys.stderr)
            return 1
        print(f"report: {config.results / 'report.html'}")
    return _summary(config_path, started)


def _draft(args: argparse.Namespace) -> int:
    from prevalence.data.draft import draft_codebook, write_draft

    sheet = int(args.sheet) if args.sheet is not None and args.sheet.isdigit() else args.sheet
    if args.out is None:
        draft = draft_codebook(args.responses, sheet=sheet)
        sys.stdout.write(draft.text)
    else:
        draft = write_draft(args.responses, args.out, sheet=sheet, force=args.force)
        book = draft.codebook
        print(
            f"wrote {args.out}: {len(book.get('domains', {}))} domains, "
            f"{len(book['indicators'])} indicators, {len(book.get('drop', []))} columns to drop, "
            f"{len(draft.todos)} TODO(s) to decide",
            file=sys.stderr,
        )
    return 0


def _published(args: argparse.Namespace) -> int:
    from prevalence.publication.reproduce import check_published

    found = check_published(args.percent, args.n, decimals=args.decimals, level=args.level)
    sys.stdout.write(found.report())
    return 0 if found.consistent else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
