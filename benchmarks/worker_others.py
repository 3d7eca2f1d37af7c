"""Benchmark worker: the 56 prevalences with ``svy`` or ``samplics`` (run by ``run.py``).

Runs in its own virtual environment (``benchmarks/.venv-others``), apart from
the project's. The same 8 indicators x (overall + 6 regions) as the
``prevalence`` worker, missing values left out of each indicator's
denominator but kept in the design, and:

``svy``
    ``Sample(data, Design(stratum, psu, wgt, pop_size))`` (PSU codes are
    taken within strata), ``estimation.prop(indicators, ci_method=
    "korn-graubard", drop_nulls=True)`` overall and with ``by="region"``;
    replicate: ``Design(wgt, rep_wgts=BootstrapWgts(scale=1/(R-1)))`` and
    ``method="replication"`` (centred on the replicate mean, as R).
``samplics``
    ``TaylorEstimator(PopParam.prop).estimate(y, weight, stratum, psu,
    fpc={h: 1 - n_h/N_h}, domain=region, remove_nan=True)`` per indicator,
    overall and by region; replicate: ``ReplicateEstimator(bootstrap,
    prop)`` with ``rep_coefs=1/(R-1)``. samplics computes only logit
    intervals (its ``ciprop_method`` is not used), so no Korn-Graubard
    interval is reported. ``remove_nan`` drops the rows with a missing
    indicator from the design itself: a PSU whose every row is missing no
    longer counts in its stratum's ``n_h``, which changes the Taylor SE
    slightly where PSUs have few rows.

Timed: everything after reading the parquet files (data frame to arrays,
design, estimates, intervals); reading is timed separately.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import time
import warnings
from pathlib import Path

import harness
import numpy as np
from generate import INDICATORS, REPLICATE_PREFIX

warnings.filterwarnings("ignore")  # samplics warns that it is archived, on import


def load_svy(survey: Path, replicates: Path | None):
    """A polars frame of the survey, with the replicate columns when given."""
    import polars as pl

    frame = pl.read_parquet(survey)
    if replicates is not None:
        frame = pl.concat([frame, pl.read_parquet(replicates)], how="horizontal")
    return frame


def run_svy(frame, n_reps: int | None) -> list[dict]:
    """Estimates with svy (see the module docstring)."""
    import svy

    if n_reps is None:
        design = svy.Design(stratum="stratum", psu="psu", wgt="weight", pop_size="fpc")
        method = "taylor"
    else:
        design = svy.Design(
            wgt="weight",
            rep_wgts=svy.BootstrapWgts(
                prefix=REPLICATE_PREFIX, n_reps=n_reps, scale=1.0 / (n_reps - 1)
            ),
        )
        method = "replication"
    sample = svy.Sample(frame, design)
    rows = []
    for by in (None, "region"):
        results = sample.estimation.prop(
            list(INDICATORS),
            by=by,
            method=method,
            ci_method="korn-graubard",
            drop_nulls=True,
        )
        for name, result in zip(INDICATORS, results, strict=True):
            for r in result.to_polars().iter_rows(named=True):
                if r[name] == 1:
                    rows.append(
                        {
                            "indicator": name,
                            "domain": "overall" if by is None else str(r[by]),
                            "estimate": r["est"],
                            "se": r["se"],
                            "ci_low": r["lci"],
                            "ci_high": r["uci"],
                            "df": r["df"],
                        }
                    )
    return rows


def load_samplics(survey: Path, replicates: Path | None):
    """A pandas frame of the survey, with the replicate columns when given."""
    import pandas as pd

    frame = pd.read_parquet(survey)
    if replicates is not None:
        frame = pd.concat([frame, pd.read_parquet(replicates)], axis=1)
    return frame


def run_samplics(frame, n_reps: int | None) -> list[dict]:
    """Estimates with samplics (see the module docstring)."""
    from samplics.estimation import ReplicateEstimator, TaylorEstimator
    from samplics.utils.types import PopParam, RepMethod

    weight = frame["weight"].to_numpy()
    region = frame["region"].cat.codes.to_numpy()
    labels = [str(c) for c in frame["region"].cat.categories]
    if n_reps is None:
        stratum = frame["stratum"].to_numpy()
        psu = frame["psu"].to_numpy()
        per_stratum = frame.groupby("stratum", observed=True).agg(
            n_h=("psu", "nunique"), pop_h=("fpc", "first")
        )
        fpc = dict(zip(per_stratum.index, 1.0 - per_stratum.n_h / per_stratum.pop_h, strict=True))
    else:
        repw = frame[[f"{REPLICATE_PREFIX}{r + 1}" for r in range(n_reps)]].to_numpy()
    rows = []
    for name in INDICATORS:
        y = frame[name].to_numpy()
        for domain in (None, region):
            if n_reps is None:
                est = TaylorEstimator(PopParam.prop)
                est.estimate(
                    y,
                    samp_weight=weight,
                    stratum=stratum,
                    psu=psu,
                    fpc=fpc,
                    domain=domain,
                    remove_nan=True,
                )
            else:
                est = ReplicateEstimator(RepMethod.bootstrap, PopParam.prop)
                est.estimate(
                    y,
                    samp_weight=weight,
                    rep_weights=repw,
                    rep_coefs=1.0 / (n_reps - 1),
                    domain=domain,
                    remove_nan=True,
                )
            if domain is None:
                cells = [("overall", est.point_est, est.stderror)]
            else:
                cells = [(labels[int(d)], est.point_est[d], est.stderror[d]) for d in est.point_est]
            for dom, p, se in cells:
                rows.append(
                    {
                        "indicator": name,
                        "domain": dom,
                        "estimate": p[1.0],
                        "se": se[1.0],
                        "ci_low": "",
                        "ci_high": "",
                        "df": "",
                    }
                )
    return rows


TOOLS = {"svy": (load_svy, run_svy), "samplics": (load_samplics, run_samplics)}
#: imported before anything is timed
MODULES = {"svy": ("polars", "svy"), "samplics": ("pandas", "samplics.estimation")}


def main() -> None:
    """Command line (see ``run.py``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", choices=sorted(TOOLS), required=True)
    parser.add_argument("--survey", type=Path, required=True)
    parser.add_argument("--replicates", type=Path, help="replicate weights (replicate method)")
    parser.add_argument("--n-replicates", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    progress = harness.Progress(args.out)
    load, run = TOOLS[args.tool]
    n_reps = None if args.replicates is None else args.n_replicates
    for module in MODULES[args.tool]:
        importlib.import_module(module)

    start = time.perf_counter()
    frame = load(args.survey, args.replicates)
    progress.event("read", seconds=time.perf_counter() - start)
    rows, _ = harness.timed_repeats(lambda: run(frame, n_reps), progress)
    harness.write_estimates(args.out, rows)
    harness.write_result(
        args.out,
        {
            "blas": harness.blas_info(),
            "versions": {
                "python": platform.python_version(),
                **harness.versions([args.tool, "svy-rs", "polars", "numpy", "pandas"]),
            },
            "numpy": np.__version__,
        },
    )
    progress.event("done")


if __name__ == "__main__":
    main()
