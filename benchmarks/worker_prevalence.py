"""Benchmark worker: all 56 prevalences with ``prevalence`` (run by ``run.py``).

Timed: building the design from the loaded data frame
(:meth:`prevalence.design.core.SurveyDesign.from_frame`), the estimates and
standard errors of the 8 indicators overall and in the 6 regions
(:func:`prevalence.stats.variance.domain_proportions_by`, one call, as the
pipeline's estimate step makes it) and their
Korn-Graubard intervals (:func:`prevalence.stats.intervals.confint`). Reading the
parquet files is timed separately.

Memory: the first estimation in the process runs with the peak resident set
size reset after loading (``peak_above_loaded_rss``: peak minus the resident
size before it); a last, untimed run under :mod:`tracemalloc` gives the peak
of the memory allocated during the run (``peak_above_loaded_traced``). Both
are compared with ``loaded_bytes``, the size of the loaded columns. Two more
untimed runs give the time of each step (``phases``) and the functions with
the most own time under :mod:`cProfile` (``hotspots``).

``estimates.csv`` also gives, untimed, the ``korn-graubard-nchs`` bounds
(effective sample size capped at n), the variant svy computes.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import platform
import pstats
import time
import tracemalloc
from pathlib import Path

import harness
import numpy as np
import pandas as pd
from generate import INDICATORS, REPLICATE_PREFIX

from prevalence.design.core import SurveyDesign
from prevalence.stats.estimate import partition
from prevalence.stats.intervals import confint
from prevalence.stats.variance import domain_proportions_by

TAYLOR = {"weight": "weight", "strata": "stratum", "psu": "psu", "fpc": "fpc", "nest": True}
REPLICATE = {"weight": "weight", "replicates": {"prefix": REPLICATE_PREFIX, "type": "bootstrap"}}


def load(survey: Path, replicates: Path | None) -> pd.DataFrame:
    """The survey table, with the replicate weight columns appended when given."""
    frame = pd.read_parquet(survey)
    if replicates is not None:
        frame = pd.concat([frame, pd.read_parquet(replicates)], axis=1)
    return frame


def estimate(
    frame: pd.DataFrame, spec: dict, phases: dict[str, float] | None = None
) -> dict[str, np.ndarray]:
    """Design, 56 estimates with standard errors, and Korn-Graubard intervals.

    Parameters
    ----------
    frame
        The loaded survey (and replicate weights).
    spec
        The ``design:`` block (:data:`TAYLOR` or :data:`REPLICATE`).
    phases
        If given, receives the wall time of each step.

    Returns
    -------
    dict
        Flat arrays over cells (indicator-major within overall, then regions)
        and the matching ``indicator`` and ``domain`` labels.
    """
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        clock.append(time.perf_counter())
        if phases is not None:
            phases[name] = clock[-1] - clock[-2]

    design = SurveyDesign.from_frame(frame, spec, source="benchmark")
    lap("design (SurveyDesign.from_frame)")
    y = frame[list(INDICATORS)].to_numpy(dtype=np.float64)
    region = partition(frame, ["region"])
    lap("indicator array and region codes")
    parts = [(None, ["overall"]), (region.codes, region.values)]
    results = domain_proportions_by(design, y, [(codes, len(values)) for codes, values in parts])
    lap("domain_proportions_by (overall and by region, one pass)")
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("p", "se", "n", "df", "ind", "dom")}
    for (_, values), r in zip(parts, results, strict=True):  # arrays (k, m)
        m = len(values)
        cols["p"].append(r.estimate.T.ravel())
        cols["se"].append(r.se.T.ravel())
        cols["n"].append(r.n.T.ravel())
        cols["df"].append(r.df.T.ravel())
        cols["ind"].append(np.tile(np.array(INDICATORS), m))
        cols["dom"].append(np.repeat(np.array(values), len(INDICATORS)))
    flat = {k: np.concatenate(v) for k, v in cols.items()}
    ci = confint("korn-graubard", flat["p"], flat["se"], flat["n"], flat["df"], 0.95)
    lap("confint (korn-graubard)")
    return {**flat, "low": ci.low, "high": ci.high}


def hotspots(frame: pd.DataFrame, spec: dict, top: int = 12) -> list[dict]:
    """The functions with the most own time in one run under :mod:`cProfile`."""
    profiler = cProfile.Profile()
    profiler.runcall(estimate, frame, spec)
    stats = pstats.Stats(profiler).stats
    rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    out = []
    for (file, line, func), (_, calls, own, cumulative, _) in rows:
        where = Path(file).name if file != "~" else ""
        out.append(
            {
                "function": f"{where}:{line}({func})" if where else func,
                "calls": calls,
                "own_seconds": own,
                "cumulative_seconds": cumulative,
            }
        )
    return out


def main() -> None:
    """Command line (see ``run.py``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survey", type=Path, required=True)
    parser.add_argument("--replicates", type=Path, help="replicate weights (replicate method)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    progress = harness.Progress(args.out)
    spec = TAYLOR if args.replicates is None else REPLICATE

    start = time.perf_counter()
    frame = load(args.survey, args.replicates)
    progress.event("read", seconds=time.perf_counter() - start)
    loaded = int(frame.memory_usage(deep=True, index=False).sum())

    # first run: peak resident memory above the loaded data
    gc.collect()
    rss_before = harness.rss_bytes()
    reset_ok = harness.reset_peak_rss()
    start = time.perf_counter()
    estimate(frame, spec)
    first = time.perf_counter() - start
    peak = harness.peak_rss_bytes()
    rss_delta = peak - rss_before if reset_ok and peak and rss_before else None

    out, seconds = harness.timed_repeats(lambda: estimate(frame, spec), progress)

    gc.collect()
    tracemalloc.start()
    estimate(frame, spec)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    phases: dict[str, float] = {}
    estimate(frame, spec, phases)
    profile = hotspots(frame, spec)

    # not timed: the NCHS variant (n_eff capped at n), for comparison with svy
    nchs = confint("korn-graubard-nchs", out["p"], out["se"], out["n"], out["df"], 0.95)

    harness.write_estimates(
        args.out,
        (
            {
                "indicator": out["ind"][i],
                "domain": out["dom"][i],
                "estimate": repr(float(out["p"][i])),
                "se": repr(float(out["se"][i])),
                "ci_low": repr(float(out["low"][i])),
                "ci_high": repr(float(out["high"][i])),
                "df": repr(float(out["df"][i])),
                "ci_low_nchs": repr(float(nchs.low[i])),
                "ci_high_nchs": repr(float(nchs.high[i])),
            }
            for i in range(out["p"].size)
        ),
        extra=("ci_low_nchs", "ci_high_nchs"),
    )
    harness.write_result(
        args.out,
        {
            "first_run_seconds": first,
            "loaded_bytes": loaded,
            "rss_after_load": rss_before,
            "peak_above_loaded_rss": rss_delta,
            "peak_above_loaded_traced": traced,
            "phases": phases,
            "hotspots": profile,
            "blas": harness.blas_info(),
            "openblas_env": {
                k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
            },
            "versions": {
                "python": platform.python_version(),
                **harness.versions(["prevalence", "numpy", "scipy", "pandas", "pyarrow", "numba"]),
            },
        },
    )
    progress.event("done")


if __name__ == "__main__":
    main()
