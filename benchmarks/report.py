"""Render ``RESULTS.md`` from the raw results of :mod:`run`.

``python benchmarks/report.py benchmarks/data/runs/results.json --out benchmarks/RESULTS.md``
re-renders without running anything again.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

TOOL_NAMES = {
    "pandas": "pandas `read_parquet`",
    "prevalence": "prevalence",
    "r": "R survey",
    "svy": "svy",
    "samplics": "samplics",
}
COMMAND = (
    "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/run.py "
    "--sizes 1e4 1e5 1e6 --tools prevalence r svy samplics pandas --replicates 200 "
    "--out benchmarks/RESULTS.md"
)
MB = 1e6


def _best(run: dict) -> float | None:
    seconds = run.get("run_seconds") or []
    return min(seconds) if seconds else None


def _best_cpu(run: dict | None) -> float | None:
    """CPU time of the run with the best wall time (None if not recorded)."""
    seconds = (run or {}).get("run_seconds") or []
    cpu = (run or {}).get("run_cpu_seconds") or []
    if not seconds or len(cpu) != len(seconds):
        return None
    return cpu[seconds.index(min(seconds))]


def _seconds(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _mb(x: float | None) -> str:
    return "–" if x is None else f"{x / MB:,.0f}"


def _sci(x: float | None) -> str:
    return "–" if x is None else f"{x:.1e}"


def read_estimates(path: str | None) -> dict[tuple[str, str], dict[str, float]]:
    """Cells of an ``estimates.csv`` keyed by (indicator, domain); empty fields are omitted."""
    if not path or not Path(path).exists():
        return {}
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            values = {k: float(v) for k, v in row.items() if k not in ("indicator", "domain") and v}
            out[(row["indicator"], row["domain"])] = values
    return out


COMPARED = (
    ("estimate", (("estimate", "estimate"),)),
    ("se", (("se", "se"),)),
    ("ci", (("ci_low", "ci_low"), ("ci_high", "ci_high"))),
    ("ci_nchs", (("ci_low", "ci_low_nchs"), ("ci_high", "ci_high_nchs"))),
)


def agreement(tool: dict, reference: dict) -> dict[str, float | int | None]:
    """Largest absolute differences from the reference over the cells both have.

    ``ci_nchs`` compares the tool's bounds with the reference's
    ``korn-graubard-nchs`` bounds.
    """
    a, b = read_estimates(tool.get("estimates")), read_estimates(reference.get("estimates"))
    keys = sorted(set(a) & set(b))
    out: dict[str, float | int | None] = {"cells": len(keys)}
    for name, pairs in COMPARED:
        diffs = [abs(a[k][x] - b[k][y]) for k in keys for x, y in pairs if x in a[k] and y in b[k]]
        out[name] = max(diffs) if diffs else None
    return out


def _status(run: dict, timeout: float, limit: float = 0.0) -> str | None:
    if run["status"] == "timeout":
        return f"timed out after {timeout:.0f} s"
    if run["status"] == "unavailable":
        return f"not run: {run['reason']}"
    if run["status"] == "failed" and run.get("out_of_memory"):
        return f"stopped: out of memory at the {limit / 1e9:g} GB limit"
    if run["status"] == "failed":
        return f"failed (exit {run['returncode']}; see runs/{run['size']}/{run['tool']}-{run['method']}/log.txt)"
    return None


def results_table(info: dict, size: str) -> list[str]:
    """One size: time, memory and agreement of every tool and method."""
    runs = [r for r in info["runs"] if r["size"] == size]
    lines = [
        "| Variance | Tool | Read (s) | Estimation (s), best of runs | Runs | × prevalence "
        "| Peak RSS (MB) | Cells | max abs Δ estimate | max abs Δ SE | max abs Δ CI bound |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for method in ("taylor", "replicate"):
        ref = next((r for r in runs if r["tool"] == "prevalence" and r["method"] == method), None)
        ref_best = _best(ref) if ref else None
        for run in (r for r in runs if r["method"] == method):
            name = TOOL_NAMES[run["tool"]]
            label = "Taylor" if method == "taylor" else f"{info['replicates']} replicates"
            problem = _status(run, info["timeout"], info.get("memory_limit", 0))
            best = _best(run)
            if run["tool"] == "pandas":
                file = "survey" if method == "taylor" else "repweights"
                cells = [label, f"{name} of `{file}_{size}.parquet`", _seconds(best), "–"]
                cells += [str(len(run.get("run_seconds") or [])), "–", _mb(run.get("peak_rss"))]
                cells += ["–"] * 4
            elif problem and best is None:
                read = _seconds(run.get("read_seconds"))
                cells = [label, name, read, problem, "0", "–", _mb(run.get("peak_rss"))]
                cells += ["–"] * 4
            else:
                ratio = best / ref_best if best and ref_best else None
                agree = agreement(run, ref) if run["tool"] != "prevalence" and ref else {}
                note = f" ({problem})" if problem else ""
                cells = [label, name, _seconds(run.get("read_seconds")), _seconds(best) + note]
                cells += [str(len(run["run_seconds"])), "–" if ratio is None else f"{ratio:,.1f}"]
                cells += [_mb(run.get("peak_rss"))]
                if run["tool"] == "prevalence":
                    cells += ["56 (reference)", "–", "–", "–"]
                else:
                    cells += [str(agree.get("cells", "–"))]
                    cells += [_sci(agree.get(k)) for k in ("estimate", "se", "ci")]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def memory_table(info: dict) -> list[str]:
    """prevalence: peak memory of the estimation above the loaded data."""
    lines = [
        "| Size | Variance | Loaded columns (MB) | Peak above loaded, RSS (MB) | ÷ loaded "
        "| Peak above loaded, traced (MB) | ÷ loaded | Process peak RSS (MB) |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for run in info["runs"]:
        if run["tool"] != "prevalence" or not run.get("result"):
            continue
        res = run["result"]
        loaded = res["loaded_bytes"]
        rss, traced = res.get("peak_above_loaded_rss"), res.get("peak_above_loaded_traced")
        lines.append(
            f"| {run['size']} | {run['method']} | {_mb(loaded)} | {_mb(rss)} | "
            f"{'–' if rss is None else f'{rss / loaded:.2f}'} | {_mb(traced)} | "
            f"{'–' if traced is None else f'{traced / loaded:.2f}'} | {_mb(run.get('peak_rss'))} |"
        )
    return lines


def targets(info: dict, size: str) -> list[str]:
    """The issue's targets at the largest size, as ratios from this run."""

    def find(tool: str, method: str) -> dict | None:
        return next(
            (
                r
                for r in info["runs"]
                if r["size"] == size and r["tool"] == tool and r["method"] == method
            ),
            None,
        )

    prev_t, prev_r = find("prevalence", "taylor"), find("prevalence", "replicate")
    read, r_t, svy_t = find("pandas", "taylor"), find("r", "taylor"), find("svy", "taylor")
    p = _best(prev_t) if prev_t else None
    lines = ["| Target | Measured | Met |", "|---|---|---|"]

    def row(target: str, measured: str, met: bool | None) -> None:
        lines.append(
            f"| {target} | {measured} | {'–' if met is None else ('yes' if met else 'NO')} |"
        )

    if p is None:
        row("all", "prevalence did not run", None)
        return lines
    rd = _best(read) if read else None
    cpu_p, cpu_rd = _best_cpu(prev_t), _best_cpu(read)
    cpu = (
        f"; CPU time (all threads): estimation {_seconds(cpu_p)} s, read {_seconds(cpu_rd)} s"
        if cpu_p is not None and cpu_rd is not None
        else ""
    )
    first = (prev_t.get("result") or {}).get("first_run_seconds")
    first_note = (
        f"; first run in the process {_seconds(first)} s (loads the compiled pass)"
        if first is not None
        else ""
    )
    row(
        f"Taylor estimation faster than reading `survey_{size}.parquet` with pandas",
        f"{_seconds(p)} s vs {_seconds(rd)} s (read ÷ estimation = "
        f"{'–' if rd is None else f'{rd / p:.2f}'}){cpu}{first_note}",
        None if rd is None else p < rd,
    )
    for other, factor, name in ((r_t, 100, "R survey"), (svy_t, 10, "svy")):
        if other is None:
            row(f"at least {factor}× faster than {name}", "not run", None)
            continue
        b = _best(other)
        if b is None:
            timed_out = other["status"] == "timeout"
            measured = (
                f"{name} timed out after {info['timeout']:.0f} s: ≥ {info['timeout'] / p:,.0f}×"
                if timed_out
                else f"{name}: {other['status']}"
            )
            row(f"at least {factor}× faster than {name}", measured, True if timed_out else None)
        else:
            row(
                f"at least {factor}× faster than {name}",
                f"{_seconds(b)} s ÷ {_seconds(p)} s = {b / p:,.1f}×",
                b / p >= factor,
            )
    res = prev_t.get("result") or {}
    if res.get("loaded_bytes"):
        loaded = res["loaded_bytes"]
        rss = res.get("peak_above_loaded_rss")
        traced = res.get("peak_above_loaded_traced")
        worst = max(v for v in (rss, traced) if v is not None)
        row(
            "Taylor peak memory above the loaded data under 3× the loaded columns",
            f"{_mb(rss)} MB (RSS) / {_mb(traced)} MB (traced) vs {_mb(loaded)} MB loaded: "
            f"{worst / loaded:.2f}×; whole process {_mb(prev_t.get('peak_rss'))} MB",
            worst < 3 * loaded,
        )
    if prev_r and prev_r.get("run_seconds"):
        first = (prev_r.get("result") or {}).get("first_run_seconds")
        every = prev_r["run_seconds"] + ([first] if first is not None else [])
        row(
            f"replicate variance ({info['replicates']} replicates) under 10 s, every run",
            f"best {_seconds(min(every))} s, slowest {_seconds(max(every))} s "
            f"(design build + estimation + intervals)",
            max(every) < 10,
        )
    return lines


def _find(info: dict, size: str, tool: str, method: str) -> dict | None:
    for run in info["runs"]:
        if run["size"] == size and run["tool"] == tool and run["method"] == method:
            return run
    return None


HOTSPOT_NOTES = {
    "taylor": (
        "Most of the Taylor time is the one pass over the rows (`response_sums`, compiled,",
        "four indicators per thread on two threads; the main thread waits for them in",
        "`acquire`): every indicator's weighted and plain counts of its responses by PSU ×",
        "region cell, from which the overall and regional estimates are both summed.",
        "`SurveyDesign.from_frame` codes the (stratum, PSU) pairs (`pair_codes`, compiled)",
        "and checks weights and fpc (`unit_values`, compiled).",
    ),
    "replicate": (
        "Most of the replicate time is `SurveyDesign.from_frame`: copying the 200 replicate",
        "columns into one row-major array (`numpy.array`), grouping rows into PSU-level",
        "patterns (`_row_patterns`, used to compute the degrees of freedom) and checking the",
        "weights for missing, infinite and negative values. The estimation itself is one",
        "sparse product per domain variable (`csc_matvecs`) and the ranks (`_exact_grams`,",
        "`eigvalsh`).",
    ),
}


def where_time_goes(info: dict, size: str) -> list[str]:
    """prevalence at one size: time of each step and the top functions by own time."""
    lines = [
        "Two more runs of each prevalence worker, untimed: one split into steps, one under",
        "cProfile (own time: time spent in the function itself).",
        "",
    ]
    for method in ("taylor", "replicate"):
        run = _find(info, size, "prevalence", method)
        res = (run or {}).get("result") or {}
        if not res.get("phases"):
            continue
        title = "Taylor" if method == "taylor" else f"{info['replicates']} replicates"
        total = sum(res["phases"].values())
        lines += [f"**{title}** (one untimed run: {_seconds(total)} s)", ""]
        lines += ["| Step | Seconds | Share |", "|---|--:|--:|"]
        for step, sec in res["phases"].items():
            lines.append(f"| {step} | {_seconds(sec)} | {sec / total:.0%} |")
        lines += ["", "| Function (cProfile, own time) | Calls | Own (s) | Cumulative (s) |"]
        lines.append("|---|--:|--:|--:|")
        for h in res.get("hotspots", [])[:8]:
            lines.append(
                f"| `{h['function']}` | {h['calls']} | {h['own_seconds']:.3f} | "
                f"{h['cumulative_seconds']:.3f} |"
            )
        lines += ["", *HOTSPOT_NOTES[method], ""]
    return lines


def svy_nchs(info: dict) -> str:
    """Largest difference between svy's intervals and prevalence's NCHS variant."""
    worst = []
    for run in info["runs"]:
        ref = _find(info, run["size"], "prevalence", run["method"])
        if run["tool"] == "svy" and run.get("estimates") and ref:
            value = agreement(run, ref)["ci_nchs"]
            if value is not None:
                worst.append(value)
    return _sci(max(worst)) if worst else "–"


NOTES = """\
- **Replicate weights** (`generate.py`): Rao–Wu rescaled bootstrap by PSU within strata
  (draw n_h − 1 of the n_h PSUs with replacement; factor 1 − λ + λ·c·n_h/(n_h − 1) with
  λ = √(1 − n_h/N_h), so the stage-one fpc is carried into the replicates), replicate
  weight = full-sample weight × factor. Every tool uses the variance
  1/(R − 1) Σ_r (θ_r − mean θ)²: R's `svrepdesign(type = "bootstrap")` defaults,
  prevalence's `type: bootstrap` defaults, svy `BootstrapWgts(scale = 1/(R − 1))` (its
  default is 1/R), samplics `rep_coefs = 1/(R − 1)`.
- **Degrees of freedom**: prevalence reproduces R's `degf()` of every domain design
  (Taylor: PSUs minus strata with domain rows; replicate: rank of the domain rows'
  replicate weights minus 1). R recomputes that rank with a QR decomposition of the
  n × 200 replicate weight matrix each time a replicate design is subset
  (`[.svyrep.design`), for each indicator and each region; at large n this is most of
  R's replicate time. prevalence gets the same ranks from the PSU-level patterns of the
  replicate weights.
- **svy's Korn–Graubard interval** caps the effective sample size at the number of
  respondents (the NCHS rule), so it differs from R's `svyciprop(method = "beta")`
  where the design effect is below 1. Against prevalence's `korn-graubard-nchs`
  (computed in the same run, untimed) svy's bounds differ by at most {svy_nchs}.
- **samplics** (archived upstream; it warns on import) has only logit intervals, and
  `remove_nan = True` removes rows with a missing indicator from the design itself: a
  PSU whose rows are all missing no longer counts in its stratum's n_h, hence small
  Taylor SE differences where PSUs have few respondents.
- **R reads CSV**: `r-cran-arrow` is not packaged for Debian 12, so R reads CSV copies
  of the same data (numbers written with the shortest text that reads back to the
  same double) with `data.table::fread`, timed apart from the estimation.
- **Time limits**: a tool run that passes the limit is killed and reported as
  "timed out after N s"; its read time is shown when the read finished.
- **Other load**: the machine may be shared; the load averages above are from the
  start and the end of the run.
"""


def environment(info: dict) -> list[str]:
    """Machine, date, load, BLAS and versions."""
    m = info["machine"]
    by_tool = {}
    for run in info["runs"]:
        if run.get("result"):
            by_tool.setdefault(run["tool"], run["result"])
    lines = [
        f"- Date: {m['date']}; total benchmark time {info['total_seconds'] / 60:.1f} min "
        f"(limits per tool run: {info['timeout']:.0f} s, "
        f"{info.get('memory_limit', 0) / 1e9:g} GB data segment).",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {_mb(m['memory_bytes'])} MB memory; {m['system']}.",
        f"- Load average (1, 5, 15 min) at start {', '.join(f'{x:.2f}' for x in m['load_average_start'])}, "
        f"at end {', '.join(f'{x:.2f}' for x in m['load_average_end'])}.",
        f"- `OPENBLAS_CORETYPE` / `OPENBLAS_L2_SIZE` during the run: "
        f"{m['env']['OPENBLAS_CORETYPE'] or 'unset'} / {m['env']['OPENBLAS_L2_SIZE'] or 'unset'}.",
    ]
    prev = by_tool.get("prevalence", {})
    for blas in prev.get("blas", []):
        lines.append(
            f"- numpy/scipy BLAS in the prevalence process: {blas.get('library', blas.get('prefix'))} "
            f"({blas.get('version')}), kernel **{blas.get('architecture')}**, "
            f"{blas.get('num_threads')} threads."
        )
    if prev.get("versions"):
        lines.append("- " + ", ".join(f"{k} {v}" for k, v in prev["versions"].items()) + ".")
    for tool in ("svy", "samplics"):
        if by_tool.get(tool, {}).get("versions"):
            v = by_tool[tool]["versions"]
            lines.append(
                f"- {tool} environment (`benchmarks/.venv-others`): "
                + ", ".join(f"{k} {x}" for k, x in v.items() if x != "not installed")
                + "."
            )
    if by_tool.get("r"):
        r = by_tool["r"]
        v = r["versions"]
        lines.append(
            f"- R {v['R']}, survey {v['survey']}, data.table {v['data.table']} "
            f"(fread with {r['fread_threads']} threads); R's BLAS {r['blas']}, LAPACK {r['lapack']}."
        )
    return lines


def data_table(info: dict) -> list[str]:
    """Sizes of the data files."""
    lines = [
        "| Size | Rows | survey parquet (MB) | repweights parquet (MB) | survey CSV (MB) | repweights CSV (MB) |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for label, d in info["data"].items():
        b = d["bytes"]
        lines.append(
            f"| {label} | {d['n']:,} | {_mb(b['survey'])} | {_mb(b['replicates'])} | "
            f"{_mb(b.get('survey_csv'))} | {_mb(b.get('replicates_csv'))} |"
        )
    return lines


def render(info: dict) -> str:
    """The whole ``RESULTS.md``."""
    sizes = list(info["data"])
    largest = max(sizes, key=lambda s: info["data"][s]["n"])
    out = [
        "# Benchmark: 56 design-based prevalences",
        "",
        "All numbers below come from one run of `benchmarks/run.py` on the same data files",
        "(generated by `benchmarks/generate.py`, fixed seed): 8 binary indicators with 5% missing,",
        "overall and in 6 regions that cut across strata, from a stratified two-level sample",
        "(60 strata, 2,000 PSUs nested in strata, stage-one fpc, unequal weights), with",
        "Taylor linearisation and with 200 rescaled-bootstrap replicate weights.",
        "This file is written by `benchmarks/run.py`; `benchmarks/report.py` renders it again",
        "from the raw results (`benchmarks/data/runs/results.json`).",
        "",
        "```",
        COMMAND,
        "```",
        "",
        "## What is timed",
        "",
        "- **Read**: loading the data into the tool (parquet with pandas or polars; for R, the",
        "  CSV copies with `data.table::fread`, because the arrow package for R is not packaged",
        "  for this system). Not included in the estimation time.",
        "- **Estimation**: building the design from the loaded data + the 56 estimates and",
        '  standard errors + their Korn–Graubard intervals (R: `svyciprop(method = "beta")`),',
        "  best of up to 3 runs in the same process (a new run starts only while the runs so far",
        "  took under 20 s, so slow tools get a single run).",
        "  - prevalence: `SurveyDesign.from_frame`, `domain_proportions_by` (overall and by",
        '    region in one call, as the pipeline makes it), `confint("korn-graubard")`. From',
        "    10^5 rows the pass over the rows is compiled (numba); the first run in a process",
        "    also loads it from numba's cache (compiling it if the cache is empty), which the",
        "    Taylor target row reports.",
        "  - R: `svydesign(ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~weight, nest = TRUE)`",
        '    or `svrepdesign(type = "bootstrap")`; per indicator, on `design[!is.na(ind), ]`,',
        '    `svyciprop(~ind, method = "beta")` and',
        '    `svyby(~ind, ~region, svyciprop, method = "beta", vartype = c("se", "ci"))`.',
        "  - svy: `Sample(data, Design(...))`, `estimation.prop(indicators, ci_method =",
        '    "korn-graubard", drop_nulls = True)`, overall and `by = "region"`.',
        "  - samplics: `TaylorEstimator` / `ReplicateEstimator` per indicator, overall and by",
        "    region. samplics has no Korn–Graubard interval (it computes logit intervals only),",
        "    so its intervals are not compared.",
        "- **Peak RSS**: the maximum resident set size of the tool's process (read + all runs),",
        "  from `wait4`. Each tool runs in its own process.",
        "- **Agreement**: largest absolute difference from prevalence's numbers over the cells",
        "  both report (56 expected).",
        "",
        "## Targets at " + largest,
        "",
        *targets(info, largest),
        "",
        "## Results",
        "",
    ]
    for size in sizes:
        out += [f"### {size} respondents", "", *results_table(info, size), ""]
    out += [
        "## prevalence: memory above the loaded data",
        "",
        "Loaded columns: the data frame the estimation starts from (`memory_usage(deep=True)`).",
        "RSS: peak resident size during the first estimation in the process (peak reset with",
        "`/proc/self/clear_refs` after loading) minus the resident size before it. Traced: peak",
        "of the memory allocated during a separate run under `tracemalloc` (numpy arrays",
        "included).",
        "",
        *memory_table(info),
        "",
        f"## Where prevalence spends its time at {largest}",
        "",
        *where_time_goes(info, largest),
        "## Data",
        "",
        *data_table(info),
        "",
        "## Machine and versions",
        "",
        *environment(info),
        "",
    ]
    out += ["## Notes", "", NOTES.format(svy_nchs=svy_nchs(info))]
    return "\n".join(out)


def main() -> None:
    """Command line: re-render RESULTS.md from results.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    import sections

    sections.write_section(args.out, "library", render(json.loads(args.results.read_text())))


if __name__ == "__main__":
    main()
