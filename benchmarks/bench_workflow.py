"""Benchmark: the whole workflow, as a user runs it (Snakemake), on waves of 10^3 to 10^7 respondents.

Every run is a fresh copy of the project (Snakefile, workflow/, scripts/) around one
generated wave (:mod:`workflow_waves`: weights, 60 strata, 2,000 PSUs nested in strata,
fpc; 9 items, three of them "of whom"; domains region, role, age group and region x role;
MP-vs-staff differences; tests of association with region), run with
``snakemake --cores 2`` from nothing. For every run it records

* the whole run's wall time, and its CPU time and largest process (``os.wait4``);
* every job's wall time and peak resident memory from Snakemake's ``benchmark:`` files
  (``max_rss``, sampled twice a second) and the kernel's high-water mark of the job's
  process, which every job writes at the end of its log;
* as the floor, pyarrow reading the same file (``pyarrow.parquet.read_table``,
  ``pyarrow.csv.read_csv``; pyreadstat for ``.sav``), best of 3 in a fresh process.

Also: a wave of bad codes (the run must fail with one message, quickly), the embedded waves
of ``config.yaml`` with the report (what ``make run`` does), and optionally the same
matrix with another checkout of the project (``--before``), side by side. Raw results go to
``<data-dir>/workflow/results.json`` and the summary to the ``workflow`` section of
``--out``::

    python benchmarks/bench_workflow.py --out benchmarks/RESULTS.md

Each whole run is repeated ``--repeat`` times below 10^7 rows; the fastest counts.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import generate
import sections
import workflow_waves
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
COMMAND = "make bench-workflow"
GB = 1e9
MB = 1e6
LABEL = {"parquet": "parquet", "csv": "CSV", "sav": "SPSS .sav"}
#: the targets of the issue (seconds, bytes, ratios)
SMALL_RUN_S = 6.0
EMBEDDED_S = 12.0
LARGE_OVER_SMALL = 1.3
INGEST_OVER_READ = 3.0
RULE_RSS_1E6 = 1.5 * GB
RULE_RSS_1E7 = 8.0 * GB


def config_for(responses: str) -> dict:
    """The run's config.yaml: one wave, its design, domains, comparisons."""
    return {
        "results": "results",
        "waves": {
            "wave": {
                "label": "Benchmark survey",
                "responses": responses,
                "codebook": "data/raw/wave/codebook.yaml",
            }
        },
        "design": workflow_waves.design(),
        "estimates": {
            "by": ["region", "role", "age_group", ["region", "role"]],
            "ci_method": "wilson",
            "level": 0.95,
        },
        "comparisons": {
            "within": [{"domain": "role", "pairs": [["MP", "staff"]]}],
            "association": ["region"],
        },
    }


def _copy_code(root: Path, folder: Path) -> None:
    shutil.copy(root / "Snakefile", folder / "Snakefile")
    shutil.copytree(root / "workflow", folder / "workflow")
    shutil.copytree(root / "scripts", folder / "scripts")


def wave_project(folder: Path, root: Path, files: dict) -> Path:
    """A fresh project folder around one generated wave (responses hard-linked)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    _copy_code(root, folder)
    raw = folder / "data" / "raw" / "wave"
    raw.mkdir(parents=True)
    target = raw / files["responses"].name
    try:
        os.link(files["responses"], target)
    except OSError:
        shutil.copy(files["responses"], target)
    shutil.copy(files["codebook"], raw / "codebook.yaml")
    config = config_for(f"data/raw/wave/{target.name}")
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def embedded_project(folder: Path, root: Path) -> Path:
    """A fresh copy of the project with its embedded waves and config.yaml."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    _copy_code(root, folder)
    shutil.copytree(root / "data" / "raw", folder / "data" / "raw")
    for name in ("published", "population"):
        if (root / "data" / name).exists():
            shutil.copytree(root / "data" / name, folder / "data" / name)
    shutil.copy(root / "config.yaml", folder / "config.yaml")
    return folder


def run_bounded(
    cmd: list[str], folder: Path, env: dict, timeout: float, memory_limit: int, log: Path
) -> dict:
    """Run ``cmd`` in ``folder``; wall time, CPU time and largest process of its tree."""
    with log.open("w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: resource.setrlimit(
                resource.RLIMIT_DATA, (memory_limit, memory_limit)
            ),
        )
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                os.killpg(proc.pid, 9)
                _, status, usage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
    return {
        "returncode": os.waitstatus_to_exitcode(status),
        "timed_out": timed_out,
        "wall_seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "largest_process_mb": usage.ru_maxrss * 1024 / MB,
    }


def jobs(folder: Path) -> list[dict]:
    """Every job of a run: rule, wildcards, benchmark record, and the peak its log reports."""
    results = folder / "results" / "logs"
    out = []
    for tsv in sorted((results / "benchmarks").rglob("*.tsv")):
        rel = tsv.relative_to(results / "benchmarks").with_suffix("")
        with tsv.open() as handle:
            record = next(csv.DictReader(handle, delimiter="\t"))
        job = {
            "rule": rel.parts[0],
            "job": "/".join(rel.parts[1:]),
            "seconds": _float(record.get("s")),
            "max_rss_mb": _float(record.get("max_rss")),
            "cpu_seconds": _float(record.get("cpu_time")),
        }
        log = results / rel.with_suffix(".log")
        if log.exists():
            found = re.findall(r"CPU ([\d.]+) s, peak memory (\d+) MB", log.read_text())
            if found:
                job["log_cpu_seconds"] = float(found[-1][0])
                job["peak_mb"] = float(found[-1][1])
            job.update(phases(log.read_text()))
        out.append(job)
    return out


#: the phases of the wave job that read the file: reading, validating and harmonizing it,
#: writing the harmonized data (the wave step's log line ``phases (wall s / CPU s): ...``)
INGEST_PHASES = ("read", "validate and harmonize", "write")


def phases(log: str) -> dict:
    """The wall and CPU seconds of each phase the log's last ``phases`` line names."""
    found = re.findall(r"phases \(wall s / CPU s\): (.*)", log)
    if not found:
        return {}
    parts = re.findall(r"([a-z ]+?) ([\d.]+)/([\d.]+)(?:, |$)", found[-1].strip())
    return {"phases": {name: [float(wall), float(cpu)] for name, wall, cpu in parts}}


def _float(text: str | None) -> float | None:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


READ_FLOOR = """
import sys, time
path, fmt = sys.argv[1], sys.argv[2]
if fmt == "parquet":
    import pyarrow.parquet as pq
    read = lambda: pq.read_table(path)
elif fmt == "csv":
    import pyarrow.csv as pacsv
    read = lambda: pacsv.read_csv(path)
else:
    import pyreadstat
    read = lambda: pyreadstat.read_sav(path)
best = float("inf")
for _ in range(3):
    start = time.perf_counter()
    read()
    best = min(best, time.perf_counter() - start)
print(best)
"""


def read_floor(path: Path, fmt: str) -> float:
    """Seconds pyarrow (pyreadstat for .sav) takes to read the file: best of 3, fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", READ_FLOOR, str(path), fmt],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def snakemake_env(root: Path) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if root.resolve() != ROOT:
        env["PYTHONPATH"] = str(root / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def one_run(folder: Path, root: Path, args, *, report: bool = False) -> dict:
    """Run the workflow in ``folder`` from nothing (and the report, if asked)."""
    for stale in ("results", ".snakemake", "data/processed"):
        shutil.rmtree(folder / stale, ignore_errors=True)
    env = snakemake_env(root)
    cmd = [str(SNAKEMAKE), "--cores", str(args.cores)]
    load = os.getloadavg()[0]
    record = run_bounded(cmd, folder, env, args.timeout, args.memory_limit, folder / "run.log")
    record["load_before"] = load
    if report and record["returncode"] == 0:
        rep = run_bounded(
            [*cmd, "--report", "results/report.html"],
            folder,
            env,
            args.timeout,
            args.memory_limit,
            folder / "report.log",
        )
        record["report_seconds"] = rep["wall_seconds"]
        record["report_returncode"] = rep["returncode"]
    record["jobs"] = jobs(folder)
    log = (folder / "run.log").read_text(errors="replace")
    record["output_lines"] = log.count("\n")
    if record["returncode"] != 0:
        record["log_tail"] = log[-3000:]
    return record


def best_of(runs: list[dict]) -> dict:
    ok = [r for r in runs if r["returncode"] == 0] or runs
    best = min(ok, key=lambda r: r["wall_seconds"])
    return {**best, "repeats": len(runs), "all_wall_seconds": [r["wall_seconds"] for r in runs]}


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = None
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) * 1024
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "load_start": list(os.getloadavg()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parse = generate.parse_size
    parser.add_argument("--sizes", nargs="+", type=parse, default=[10**3, 10**5, 10**6, 10**7])
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"])
    parser.add_argument("--sav-sizes", nargs="*", type=parse, default=[10**6])
    parser.add_argument("--bad-codes-size", type=parse, default=10**6)
    parser.add_argument("--no-bad-codes", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each wave below 10^7")
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded waves")
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout of the project (e.g. from `git archive`), run side by side",
    )
    parser.add_argument("--before-label", default="before")
    parser.add_argument("--before-sizes", nargs="*", type=parse, default=[10**3, 10**6])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument(
        "--memory-limit", type=float, default=12.0, help="GB of data segment per process"
    )
    parser.add_argument("--data-dir", type=Path, default=generate.DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    args.memory_limit = int(args.memory_limit * GB)
    work = args.data_dir / "workflow"
    work.mkdir(parents=True, exist_ok=True)
    info: dict = {"machine": machine(), "argv": sys.argv[1:], "runs": [], "floors": {}}
    started = time.perf_counter()
    roots = [("now", ROOT)] + ([(args.before_label, args.before.resolve())] if args.before else [])

    def wave(n: int, fmt: str, bad: bool = False) -> dict:
        files = workflow_waves.ensure(n, fmt, args.data_dir, bad_codes=bad)
        return files

    plan = [(n, fmt) for n in args.sizes for fmt in args.formats]
    plan += [(n, "sav") for n in args.sav_sizes]
    for n, fmt in plan:
        files = wave(n, fmt)
        label = generate.size_label(n)
        key = f"{label}-{fmt}"
        info["floors"][key] = read_floor(files["responses"], fmt)
        size = files["responses"].stat().st_size
        for name, root in roots:
            if name != "now" and n not in args.before_sizes:
                continue
            folder = wave_project(work / name / key, root, files)
            repeats = args.repeat if n < 10**7 else 1
            runs = [one_run(folder, root, args) for _ in range(repeats)]
            record = {"code": name, "n": n, "format": fmt, "bytes": size, **best_of(runs)}
            info["runs"].append(record)
            print(
                f"{name:>8} {key:>12}: {record['wall_seconds']:7.2f} s "
                f"(rc {record['returncode']}, load {record['load_before']:.2f})",
                flush=True,
            )
    if not args.no_bad_codes:
        n = args.bad_codes_size
        files = wave(n, "csv", bad=True)
        for name, root in roots:
            folder = wave_project(work / name / "bad-codes", root, files)
            record = one_run(folder, root, args)
            logs = sorted((folder / "results" / "logs").rglob("*.log"))
            failed = [p for p in logs if "ERROR" in p.read_text(errors="replace")]
            record["message"] = failed[0].read_text(errors="replace") if failed else ""
            record.update(code=name, n=n, format="csv", bad_codes=True)
            record["bytes"] = files["responses"].stat().st_size
            info["runs"].append(record)
            print(f"{name:>8}    bad codes: {record['wall_seconds']:7.2f} s", flush=True)
    if not args.no_embedded:
        for name, root in roots:
            folder = embedded_project(work / name / "embedded", root)
            runs = [one_run(folder, root, args, report=True) for _ in range(args.repeat)]
            record = {"code": name, "embedded": True, **best_of(runs)}
            info["runs"].append(record)
            print(
                f"{name:>8}     embedded: {record['wall_seconds']:7.2f} s "
                f"+ report {record.get('report_seconds', math.nan):.2f} s",
                flush=True,
            )
    info["machine"]["load_end"] = list(os.getloadavg())
    info["total_seconds"] = time.perf_counter() - started
    (work / "results.json").write_text(json.dumps(info, indent=2) + "\n")
    sections.write_section(args.out, "workflow", render(info))
    print(f"wrote {args.out} ({info['total_seconds']:.0f} s)")


# --------------------------------------------------------------------------------------
# the summary
# --------------------------------------------------------------------------------------
def _s(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def _mb(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def _runs(info: dict, code: str = "now") -> list[dict]:
    return [
        r
        for r in info["runs"]
        if r["code"] == code and not r.get("embedded") and not r.get("bad_codes")
    ]


def _find(info: dict, n: int, fmt: str, code: str = "now") -> dict | None:
    for r in _runs(info, code):
        if r["n"] == n and r["format"] == fmt:
            return r
    return None


def _peak(job: dict) -> float | None:
    """A job's peak memory (MB): the kernel's high-water mark, else Snakemake's sample."""
    return job.get("peak_mb") or job.get("max_rss_mb")


def _ingest(run: dict) -> dict | None:
    for job in run.get("jobs", []):
        if job["rule"] in ("ingest", "wave"):
            return job
    return None


def _ingest_seconds(run: dict) -> float | None:
    """Wall seconds of the wave job's ingest phases (:data:`INGEST_PHASES`): the whole job
    where its log has no phases."""
    job = _ingest(run)
    if job is None:
        return None
    timed = job.get("phases", {})
    if not timed:
        return job["seconds"]
    return sum(timed[name][0] for name in INGEST_PHASES if name in timed)


def _ingest_what(run: dict) -> str:
    job = _ingest(run) or {}
    if job.get("phases"):
        return "read, validate and harmonize, write the harmonized data"
    return "the wave job: ingest, estimation, comparisons"


def _largest(run: dict) -> tuple[float | None, str]:
    best, name = None, ""
    for job in run.get("jobs", []):
        peak = _peak(job)
        if peak is not None and (best is None or peak > best):
            best, name = peak, job["rule"]
    return best, name


def whole_runs(info: dict) -> list[str]:
    out = [
        "| respondents | file | MB | whole run (s) | CPU (s) | pyarrow read (s) "
        "| ingest (s) | ÷ read | largest job peak (MB) |",
        "|--:|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in _runs(info):
        key = f"{generate.size_label(r['n'])}-{r['format']}"
        floor = info["floors"].get(key)
        ingest = _ingest_seconds(r)
        ratio = ingest / floor if ingest and floor else None
        peak, rule = _largest(r)
        status = "" if r["returncode"] == 0 else " (failed)"
        out.append(
            f"| {r['n']:,} | {LABEL[r['format']]} | {r['bytes'] / MB:,.1f} "
            f"| {_s(r['wall_seconds'])}{status} | {_s(r['cpu_seconds'])} | {_s(floor)} "
            f"| {_s(ingest)} | {_s(ratio)} | {_mb(peak)} ({rule}) |"
        )
    return out


def per_rule(info: dict) -> list[str]:
    runs = _runs(info)
    rules: list[str] = []
    for r in runs:
        for job in r.get("jobs", []):
            if job["rule"] not in rules:
                rules.append(job["rule"])
    head = [f"{generate.size_label(r['n'])} {LABEL[r['format']]}" for r in runs]
    out = [
        "| rule | " + " | ".join(head) + " |",
        "|---|" + "--:|" * len(runs),
    ]
    for rule in rules:
        cells = []
        for r in runs:
            mine = [j for j in r.get("jobs", []) if j["rule"] == rule]
            if not mine:
                cells.append("–")
                continue
            seconds = sum(j["seconds"] or 0.0 for j in mine)
            peak = max((_peak(j) or 0.0) for j in mine)
            cells.append(f"{_s(seconds)} s / {_mb(peak)} MB")
        out.append(f"| {rule} | " + " | ".join(cells) + " |")
    return out


def wave_phases(info: dict) -> list[str]:
    """Wall / CPU seconds of each phase of the wave job, as its log gives them."""
    runs = [r for r in _runs(info) if (_ingest(r) or {}).get("phases")]
    names: list[str] = []
    for r in runs:
        names += [n for n in _ingest(r)["phases"] if n not in names]
    out = [
        "| respondents | file | " + " | ".join(names) + " |",
        "|--:|---|" + "--:|" * len(names),
    ]
    for r in runs:
        timed = _ingest(r)["phases"]
        cells = [f"{_s(timed[n][0])} / {_s(timed[n][1])}" if n in timed else "–" for n in names]
        out.append(f"| {r['n']:,} | {LABEL[r['format']]} | " + " | ".join(cells) + " |")
    return out


def targets(info: dict) -> list[str]:
    out = ["| target | measured | met |", "|---|---|---|"]

    def row(what: str, measured: str, ok: bool | None) -> None:
        out.append(f"| {what} | {measured} | {'–' if ok is None else ('yes' if ok else 'no')} |")

    small = _find(info, 10**3, "parquet")
    if small:
        row(
            f"one wave of 10^3 respondents: whole run ≤ {SMALL_RUN_S:.0f} s",
            f"{_s(small['wall_seconds'])} s",
            small["wall_seconds"] <= SMALL_RUN_S,
        )
    embedded = [r for r in info["runs"] if r.get("embedded") and r["code"] == "now"]
    if embedded:
        e = embedded[0]
        total = e["wall_seconds"] + (e.get("report_seconds") or 0.0)
        row(
            f"`make run` on the embedded waves (run + report) ≤ {EMBEDDED_S:.0f} s",
            f"{_s(e['wall_seconds'])} s + {_s(e.get('report_seconds'))} s = {_s(total)} s",
            total <= EMBEDDED_S,
        )
    large = _find(info, 10**6, "parquet")
    if small and large:
        ratio = large["wall_seconds"] / small["wall_seconds"]
        row(
            f"10^6 respondents: whole run ≤ {LARGE_OVER_SMALL}× the 10^3 run",
            f"{_s(large['wall_seconds'])} s ÷ {_s(small['wall_seconds'])} s = {ratio:.2f}×",
            ratio <= LARGE_OVER_SMALL,
        )
    for fmt in ("parquet", "csv"):
        r = _find(info, 10**6, fmt)
        if not r:
            continue
        floor = info["floors"].get(f"1e6-{fmt}")
        ingest = _ingest_seconds(r)
        if floor and ingest:
            row(
                f"10^6, {LABEL[fmt]}: reading and validating the wave ≤ {INGEST_OVER_READ:.0f}× "
                "pyarrow's read",
                f"{_s(ingest)} s ÷ {_s(floor)} s = {ingest / floor:.1f}× ({_ingest_what(r)})",
                ingest / floor <= INGEST_OVER_READ,
            )
    for n, limit in ((10**6, RULE_RSS_1E6), (10**7, RULE_RSS_1E7)):
        for fmt in ("parquet", "csv", "sav"):
            r = _find(info, n, fmt)
            if not r:
                continue
            peak, rule = _largest(r)
            if peak is None:
                continue
            row(
                f"{n:,}, {LABEL[fmt]}: every job's peak memory < {limit / GB:.1f} GB",
                f"largest {peak:,.0f} MB ({rule})",
                r["returncode"] == 0 and peak * MB < limit,
            )
    huge = _find(info, 10**7, "parquet")
    if huge and large:
        ratio = huge["wall_seconds"] / large["wall_seconds"]
        row(
            "10^7 respondents: completes, time at most linear from 10^6 (≤ 10×)",
            f"{_s(huge['wall_seconds'])} s ÷ {_s(large['wall_seconds'])} s = {ratio:.1f}×",
            huge["returncode"] == 0 and ratio <= 10,
        )
    bad = [r for r in info["runs"] if r.get("bad_codes") and r["code"] == "now"]
    good = _find(info, bad[0]["n"], "csv") if bad else None
    if bad:
        b = bad[0]
        lines = b["message"].strip().count("\n") + 1 if b["message"].strip() else 0
        faster = good is not None and b["wall_seconds"] <= good["wall_seconds"]
        row(
            f"{b['n']:,} rows with many bad codes: one message, not slower than a good run",
            f"{_s(b['wall_seconds'])} s (good run {_s(good['wall_seconds']) if good else '–'} s); "
            f"the failed job's log has {lines} lines; the run printed {b['output_lines']} lines",
            b["returncode"] != 0 and faster and lines <= 12,
        )
    return out


def before_and_now(info: dict) -> list[str]:
    codes = list(dict.fromkeys(r["code"] for r in info["runs"]))
    if len(codes) < 2:
        return []
    other = codes[1]
    out = [
        f"### {other} and now, side by side",
        "",
        f"| wave | {other}: whole run (s) | {other}: largest process (MB) "
        "| now: whole run (s) | now: largest process (MB) |",
        "|---|--:|--:|--:|--:|",
    ]
    for r in info["runs"]:
        if r["code"] != other:
            continue
        if r.get("embedded"):
            name, mine = "embedded waves (run + report)", None
            for x in info["runs"]:
                if x.get("embedded") and x["code"] == "now":
                    mine = x
        elif r.get("bad_codes"):
            name = f"{r['n']:,} CSV, bad codes"
            mine = next(
                (x for x in info["runs"] if x.get("bad_codes") and x["code"] == "now"), None
            )
        else:
            name = f"{r['n']:,} {LABEL[r['format']]}"
            mine = _find(info, r["n"], r["format"])

        def total(x: dict | None) -> str:
            if x is None:
                return "–"
            seconds = x["wall_seconds"] + (x.get("report_seconds") or 0.0)
            failed = "" if x["returncode"] == 0 or x.get("bad_codes") else " (failed)"
            return f"{_s(seconds)}{failed}"

        out.append(
            f"| {name} | {total(r)} | {_mb(r['largest_process_mb'])} "
            f"| {total(mine)} | {_mb(mine['largest_process_mb']) if mine else '–'} |"
        )
    return [*out, ""]


def render(info: dict) -> str:
    m = info["machine"]
    out = [
        "# Benchmark: the whole workflow",
        "",
        f"`{COMMAND}` (`benchmarks/bench_workflow.py`), commit {m['commit']}, {m['date']}: "
        f"{m['cpu']}, {m['cores']} cores, {m['memory_bytes'] / GB:.0f} GB. "
        f"Load average (1, 5, 15 min) at the start {', '.join(f'{x:.2f}' for x in m['load_start'])}, "
        f"at the end {', '.join(f'{x:.2f}' for x in m['load_end'])}; "
        f"{info['total_seconds'] / 60:.0f} minutes in all.",
        "",
        "Each run: a fresh copy of the project around one generated wave "
        "(`benchmarks/workflow_waves.py`: weights, 60 strata, 2,000 PSUs nested in strata, "
        "fpc; 9 items, 3 of them asked of those who said yes to another; domains region, "
        "role, age group and region × role; MP-vs-staff differences; tests of association "
        "with region), `snakemake --cores 2` from nothing. Below 10^7 rows the fastest of "
        "the repeats counts. *Whole run*: wall time of `snakemake`; *CPU*: of all its "
        "processes. *Wave job*: the job that reads, validates and harmonizes the wave and "
        "estimates and compares it; *ingest*: its phases that read, validate and harmonize "
        "the wave and write the harmonized data (the wave job's log times each phase). Memory: each job's peak resident memory, the kernel's "
        "high-water mark of its process (written at the end of its log; Snakemake's "
        "`benchmark:` `max_rss`, sampled, where the log has none).",
        "",
        "## Targets",
        "",
        *targets(info),
        "",
        "## Whole runs",
        "",
        *whole_runs(info),
        "",
        "## Each rule: wall time and peak memory",
        "",
        *per_rule(info),
        "",
        "## The wave job's phases: wall / CPU seconds",
        "",
        *wave_phases(info),
        "",
    ]
    out += before_and_now(info)
    bad = [r for r in info["runs"] if r.get("bad_codes") and r["code"] == "now"]
    if bad:
        out += [
            f"## {bad[0]['n']:,} rows, 3% of one item's answers a code the codebook does not list",
            "",
            "The failed job's log:",
            "",
            "```",
            bad[0]["message"].strip(),
            "```",
            "",
        ]
    return "\n".join(out)


if __name__ == "__main__":
    main()
