"""Benchmark: 56 design-based prevalences with ``prevalence``, R ``survey``, svy and samplics.

For every sample size, every tool runs in its own process, once with Taylor
linearisation (strata, PSUs, fpc) and once with the bootstrap replicate
weights; a plain ``pandas.read_parquet`` of the data file is the reference.
Each process is bounded by ``--timeout`` seconds; its peak resident memory is
the ``ru_maxrss`` that :func:`os.wait4` reports for it. Raw outputs go to
``<data-dir>/runs/`` and the summary to ``--out`` (``RESULTS.md``)::

    python benchmarks/run.py --sizes 1e4 1e5 1e6 \\
        --tools prevalence r svy samplics pandas --replicates 200 --out benchmarks/RESULTS.md

The data are written first when missing (:mod:`generate`). svy and samplics
run in ``benchmarks/.venv-others`` (see ``requirements-others.txt``); R needs
``Rscript`` with the survey and data.table packages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import generate
import report
import sections

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOOLS = ("pandas", "prevalence", "r", "svy", "samplics")
METHODS = ("taylor", "replicate")
OTHERS_PYTHON = HERE / ".venv-others" / "bin" / "python"
#: phrases (lower case) of out-of-memory errors in a failed run's log
OUT_OF_MEMORY = (
    "cannot allocate",
    "memoryerror",
    "memory allocation",
    "out of memory",
    "not enough contiguous virtual memory",
)


def command(tool: str, method: str, files: dict, replicates: int, out: Path) -> list[str] | str:
    """The worker's command line, or the reason the tool cannot run."""
    rep = method == "replicate"
    if tool == "pandas":
        file = files["replicates"] if rep else files["survey"]
        return [
            sys.executable,
            str(HERE / "worker_pandas.py"),
            "--file",
            str(file),
            "--out",
            str(out),
        ]
    if tool == "prevalence":
        cmd = [sys.executable, str(HERE / "worker_prevalence.py"), "--survey", str(files["survey"])]
        return (
            cmd + (["--replicates", str(files["replicates"])] if rep else []) + ["--out", str(out)]
        )
    if tool == "r":
        if shutil.which("Rscript") is None:
            return "Rscript not found (apt-get install r-cran-survey r-cran-data.table)"
        cmd = ["Rscript", str(HERE / "worker_survey.R"), "--survey", str(files["survey_csv"])]
        return (
            cmd
            + (["--replicates", str(files["replicates_csv"])] if rep else [])
            + ["--out", str(out)]
        )
    if not OTHERS_PYTHON.exists():
        return f"{OTHERS_PYTHON.relative_to(ROOT)} not found (see requirements-others.txt)"
    cmd = [str(OTHERS_PYTHON), str(HERE / "worker_others.py"), "--tool", tool]
    cmd += ["--survey", str(files["survey"]), "--n-replicates", str(replicates)]
    return cmd + (["--replicates", str(files["replicates"])] if rep else []) + ["--out", str(out)]


def run_bounded(cmd: list[str], out: Path, timeout: float, memory_limit: int) -> dict:
    """Run ``cmd`` in its own process group for at most ``timeout`` seconds.

    The process's data segment (heap and private writable mappings,
    ``RLIMIT_DATA``) is limited to ``memory_limit`` bytes, so that a tool that
    needs more fails with its own out-of-memory error instead of starving the
    machine.

    Returns
    -------
    dict
        ``status`` ("ok", "failed" or "timeout"), ``wall_seconds``,
        ``peak_rss`` (bytes, from :func:`os.wait4`) and ``returncode``.
    """
    out.mkdir(parents=True, exist_ok=True)
    with (out / "log.txt").open("w") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=HERE,
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
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    code = proc.returncode
    return {
        "status": "timeout" if timed_out else ("ok" if code == 0 else "failed"),
        "returncode": code,
        "wall_seconds": wall,
        "peak_rss": usage.ru_maxrss * 1024,
    }


def collect(out: Path) -> dict:
    """What a worker wrote: its events, result.json and whether estimates exist."""
    events = []
    progress = out / "progress.jsonl"
    if progress.exists():
        events = [json.loads(line) for line in progress.read_text().splitlines() if line.strip()]
    result = {}
    if (out / "result.json").exists():
        result = json.loads((out / "result.json").read_text())
    reads = [e["seconds"] for e in events if e["event"] == "read"]
    return {
        "read_seconds": reads[0] if reads else None,
        "run_seconds": [e["seconds"] for e in events if e["event"] == "run"],
        "run_cpu_seconds": [e.get("cpu_seconds") for e in events if e["event"] == "run"],
        "done": any(e["event"] == "done" for e in events),
        "result": result,
        "estimates": str(out / "estimates.csv") if (out / "estimates.csv").exists() else None,
    }


def machine() -> dict:
    """CPU, memory, system, date, load and the BLAS environment variables."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "system": platform.platform(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_start": list(os.getloadavg()),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
    }


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", type=generate.parse_size, default=[10**4, 10**5, 10**6]
    )
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--data-dir", type=Path, default=generate.DEFAULT_DATA_DIR)
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds allowed to each tool run"
    )
    parser.add_argument(
        "--memory-limit",
        type=float,
        default=16.0,
        help="GB of data segment allowed to each tool run (RLIMIT_DATA)",
    )
    args = parser.parse_args(argv)
    runs_dir = args.data_dir / "runs"
    started = time.perf_counter()
    memory_limit = int(args.memory_limit * 1e9)
    info = {"machine": machine(), "argv": sys.argv[1:], "timeout": args.timeout, "runs": []}
    info["memory_limit"] = memory_limit
    info["replicates"] = args.replicates
    for n in args.sizes:
        label = generate.size_label(n)
        files = generate.ensure(n, args.replicates, args.data_dir, csv="r" in args.tools)
        info.setdefault("data", {})[label] = {
            "n": n,
            "generated_seconds": files["seconds"],
            "bytes": {k: files[k].stat().st_size for k in files if k not in ("seconds", "meta")},
        }
        print(f"{label}: data ready ({files['seconds']:.1f} s)", flush=True)
        for method in args.methods:
            for tool in [t for t in TOOLS if t in args.tools]:
                out = runs_dir / label / f"{tool}-{method}"
                if out.exists():
                    shutil.rmtree(out)
                cmd = command(tool, method, files, args.replicates, out)
                record = {"tool": tool, "method": method, "size": label, "n": n}
                if isinstance(cmd, str):
                    record.update(status="unavailable", reason=cmd)
                else:
                    record.update(run_bounded(cmd, out, args.timeout, memory_limit))
                    record.update(collect(out))
                    if record["status"] == "failed":
                        log = (out / "log.txt").read_text(errors="replace")
                        record["log_tail"] = log[-2000:]
                        text = log.lower()
                        record["out_of_memory"] = any(m in text for m in OUT_OF_MEMORY)
                info["runs"].append(record)
                best = min(record.get("run_seconds") or [float("nan")])
                print(f"  {method:9} {tool:10} {record['status']:11} best {best:.3f} s", flush=True)
    info["machine"]["load_average_end"] = list(os.getloadavg())
    info["total_seconds"] = time.perf_counter() - started
    runs_dir.mkdir(parents=True, exist_ok=True)
    (runs_dir / "results.json").write_text(json.dumps(info, indent=2) + "\n")
    sections.write_section(args.out, "library", report.render(info))
    print(f"wrote {args.out} ({info['total_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
