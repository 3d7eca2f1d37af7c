"""Deterministic synthetic survey for the benchmark.

The survey has 60 strata and 2,000 primary sampling units (PSUs) nested in
them (PSU ids restart at 1 in every stratum), a finite population correction
(the population number of PSUs of the stratum, ``fpc``), sampling weights,
6 regions that cut across strata and PSUs, and 8 binary indicators
(``ind1`` ... ``ind8``) with 5% of values missing completely at random.

The PSU structure (strata sizes, population counts, PSU effects) is the same
for every sample size; only the respondents are drawn per size. Everything
comes from :func:`numpy.random.default_rng` seeded with :data:`SEED` and the
sample size, so the files are identical on every machine.

Replicate weights: ``repw_1`` ... ``repw_R``, a rescaled bootstrap by PSU
within strata (Rao & Wu 1988; Rao, Wu & Yue 1992), the scheme of R's
``as.svrepdesign(type = "subbootstrap")`` extended with the stage-one finite
population correction. In every replicate and stratum ``h`` with ``n_h``
sampled PSUs, ``n_h - 1`` PSUs are drawn with replacement; PSU ``i`` drawn
``c_hi`` times gets the factor ``1 - l_h + l_h c_hi n_h / (n_h - 1)`` with
``l_h = sqrt(1 - n_h / N_h)`` (so factors are never negative), and the
replicate weight is the full-sample weight times that factor. The variance
is ``1/(R - 1) sum_r (theta_r - mean_r theta_r)^2``: R's
``svrepdesign(type = "bootstrap")`` defaults.

Files, for a size label such as ``1e5`` (all under the data directory):

``survey_1e5.parquet``
    stratum, psu, fpc (int32), weight (float64), region (dictionary-encoded
    text), ind1..ind8 (float64; missing values are nulls).
``repweights_1e5.parquet``
    repw_1..repw_R (float64), rows in the same order.
``survey_1e5.csv``, ``repweights_1e5.csv``
    The same tables as CSV (missing values are empty fields) for tools that
    cannot read parquet. Numbers are written with the shortest decimal text
    that reads back to the same double.
``survey_1e5.json``
    The parameters the files were made with; files are regenerated when they
    differ.

Run ``python benchmarks/generate.py --sizes 1e4 1e5 1e6`` to write them.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SEED = 20240611
N_STRATA = 60
N_PSU = 2000
N_REGIONS = 6
N_INDICATORS = 8
MISSING_SHARE = 0.05
MIN_PSU_PER_STRATUM = 10
MIN_ROWS_PER_PSU = 2
#: bump when the generated data change, so that old files are regenerated
FORMAT_VERSION = 1

REGIONS = tuple(f"R{r + 1}" for r in range(N_REGIONS))
INDICATORS = tuple(f"ind{j + 1}" for j in range(N_INDICATORS))
REPLICATE_PREFIX = "repw_"
#: national prevalence of each indicator before region and PSU effects
BASE_PREVALENCE = (0.02, 0.05, 0.08, 0.12, 0.18, 0.25, 0.35, 0.50)

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Structure:
    """The sampled PSUs: the part of the design shared by every sample size.

    Attributes
    ----------
    psu_stratum
        (P,) stratum code (0-based) of every PSU, PSUs sorted by stratum.
    psu_id
        (P,) PSU id within its stratum (1-based).
    n_h, pop_h
        (H,) sampled and population numbers of PSUs per stratum.
    psu_share
        (P,) relative number of respondents of every PSU.
    psu_region
        (P,) main region of every PSU.
    psu_weight
        (P,) weight of a respondent of the PSU before the nonresponse factor.
    psu_effect
        (P, k) PSU random effects on the logit scale.
    region_effect
        (regions, k) region effects on the logit scale.
    """

    psu_stratum: np.ndarray
    psu_id: np.ndarray
    n_h: np.ndarray
    pop_h: np.ndarray
    psu_share: np.ndarray
    psu_region: np.ndarray
    psu_weight: np.ndarray
    psu_effect: np.ndarray
    region_effect: np.ndarray


def size_label(n: int) -> str:
    """Short name of a sample size: 10000 -> ``"1e4"``, 250000 -> ``"250000"``."""
    exponent = int(round(np.log10(n)))
    return f"1e{exponent}" if 10**exponent == n else str(n)


def parse_size(text: str) -> int:
    """Parse ``"1e5"``, ``"100000"`` or ``"1_000"`` as a whole number of rows."""
    value = float(text.replace("_", ""))
    if not value.is_integer() or value < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of rows: {text!r}")
    return int(value)


def structure() -> Structure:
    """The PSU structure, identical for every sample size."""
    rng = np.random.default_rng([SEED, 0])
    stratum_share = rng.gamma(2.0, size=N_STRATA)
    extra = N_PSU - MIN_PSU_PER_STRATUM * N_STRATA
    n_h = MIN_PSU_PER_STRATUM + rng.multinomial(extra, stratum_share / stratum_share.sum())
    fraction = rng.uniform(0.04, 0.5, size=N_STRATA)  # sampling fraction of PSUs
    pop_h = np.maximum(n_h + 1, np.rint(n_h / fraction)).astype(np.int64)
    psu_stratum = np.repeat(np.arange(N_STRATA), n_h)
    first = np.cumsum(n_h) - n_h
    psu_id = np.arange(N_PSU) - first[psu_stratum] + 1
    # a stratum spans three neighbouring regions; a PSU has one main region
    psu_region = (psu_stratum + rng.integers(0, 3, size=N_PSU)) % N_REGIONS
    psu_share = rng.gamma(3.0, size=N_PSU)
    within = rng.uniform(20.0, 80.0, size=N_PSU)  # population / sampled persons in the PSU
    psu_weight = (pop_h / n_h)[psu_stratum] * within
    psu_effect = rng.normal(0.0, 0.4, size=(N_PSU, N_INDICATORS))
    region_effect = rng.normal(0.0, 0.35, size=(N_REGIONS, N_INDICATORS))
    return Structure(
        psu_stratum=psu_stratum,
        psu_id=psu_id,
        n_h=n_h,
        pop_h=pop_h,
        psu_share=psu_share,
        psu_region=psu_region,
        psu_weight=psu_weight,
        psu_effect=psu_effect,
        region_effect=region_effect,
    )


def respondents(s: Structure, n: int) -> tuple[pa.Table, np.ndarray]:
    """Draw ``n`` respondents.

    Returns
    -------
    table
        The survey table (see the module docstring).
    psu
        (n,) 0-based PSU index of every row, for the replicate weights.
    """
    if n < MIN_ROWS_PER_PSU * N_PSU:
        raise ValueError(f"at least {MIN_ROWS_PER_PSU * N_PSU} respondents are needed")
    rng = np.random.default_rng([SEED, n])
    counts = MIN_ROWS_PER_PSU + rng.multinomial(
        n - MIN_ROWS_PER_PSU * N_PSU, s.psu_share / s.psu_share.sum()
    )
    psu = rng.permutation(np.repeat(np.arange(N_PSU), counts))  # rows in random order
    spill = rng.random(n) < 0.2  # a fifth of respondents live outside the PSU's main region
    region = np.where(spill, rng.integers(0, N_REGIONS, size=n), s.psu_region[psu])
    weight = s.psu_weight[psu] * np.exp(rng.normal(0.0, 0.25, size=n))
    base = np.log(np.asarray(BASE_PREVALENCE) / (1.0 - np.asarray(BASE_PREVALENCE)))
    columns: dict[str, pa.Array] = {
        "stratum": pa.array(s.psu_stratum[psu] + 1, type=pa.int32()),
        "psu": pa.array(s.psu_id[psu], type=pa.int32()),
        "fpc": pa.array(s.pop_h[s.psu_stratum[psu]], type=pa.int32()),
        "weight": pa.array(weight),
        "region": pa.DictionaryArray.from_arrays(
            pa.array(region, type=pa.int8()), pa.array(REGIONS)
        ),
    }
    for j, name in enumerate(INDICATORS):
        logit = base[j] + s.region_effect[region, j] + s.psu_effect[psu, j]
        y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float64)
        missing = rng.random(n) < MISSING_SHARE
        columns[name] = pa.array(y, mask=missing)
    return pa.table(columns), psu


def replicate_factors(s: Structure, n: int, replicates: int) -> np.ndarray:
    """(P, R) Rao-Wu rescaled bootstrap factors of every PSU (see the module docstring)."""
    rng = np.random.default_rng([SEED, n, replicates])
    factors = np.empty((N_PSU, replicates))
    first = np.cumsum(s.n_h) - s.n_h
    for h in range(N_STRATA):
        nh = int(s.n_h[h])
        lam = np.sqrt(1.0 - nh / s.pop_h[h])
        draws = rng.multinomial(nh - 1, np.full(nh, 1.0 / nh), size=replicates).T  # (n_h, R)
        factors[first[h] : first[h] + nh] = 1.0 - lam + lam * draws * (nh / (nh - 1.0))
    return factors


def replicate_table(
    s: Structure, n: int, psu: np.ndarray, weight: np.ndarray, replicates: int
) -> pa.Table:
    """The replicate weights ``repw_1`` ... ``repw_R`` of every row."""
    factors = replicate_factors(s, n, replicates)
    return pa.table(
        {f"{REPLICATE_PREFIX}{r + 1}": weight * factors[psu, r] for r in range(replicates)}
    )


def paths(data_dir: Path, n: int) -> dict[str, Path]:
    """Files of sample size ``n``."""
    label = size_label(n)
    return {
        "survey": data_dir / f"survey_{label}.parquet",
        "replicates": data_dir / f"repweights_{label}.parquet",
        "survey_csv": data_dir / f"survey_{label}.csv",
        "replicates_csv": data_dir / f"repweights_{label}.csv",
        "meta": data_dir / f"survey_{label}.json",
    }


def _parameters(n: int, replicates: int, csv: bool) -> dict[str, object]:
    return {
        "format_version": FORMAT_VERSION,
        "seed": SEED,
        "n": n,
        "replicates": replicates,
        "csv": csv,
        "strata": N_STRATA,
        "psus": N_PSU,
        "regions": N_REGIONS,
        "indicators": N_INDICATORS,
        "missing_share": MISSING_SHARE,
    }


def _write_csv(table: pa.Table, path: Path) -> None:
    plain = table.cast(
        pa.schema(
            [
                pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type)
                for f in table.schema
            ]
        )
    )
    pacsv.write_csv(plain, path, pacsv.WriteOptions(quoting_style="none"))


def ensure(n: int, replicates: int, data_dir: Path = DEFAULT_DATA_DIR, csv: bool = True) -> dict:
    """Write the files of size ``n`` unless up-to-date ones exist.

    Parameters
    ----------
    n
        Number of respondents (at least 4,000).
    replicates
        Number of bootstrap replicate weight columns.
    data_dir
        Directory of the files.
    csv
        Also write the CSV copies. Existing files made without them are
        regenerated when they are asked for.

    Returns
    -------
    dict
        The files (see :func:`paths`) and ``seconds`` spent writing (0 when
        the files were up to date).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    files = paths(data_dir, n)
    wanted = _parameters(n, replicates, csv)
    if files["meta"].exists():
        made = json.loads(files["meta"].read_text())
        same = all(made.get(k) == v for k, v in wanted.items() if k != "csv")
        needed = [files["survey"], files["replicates"]]
        if csv:
            needed += [files["survey_csv"], files["replicates_csv"]]
        if same and (made.get("csv") or not csv) and all(p.exists() for p in needed):
            return {**files, "seconds": 0.0}
    start = time.perf_counter()
    s = structure()
    survey, psu = respondents(s, n)
    weight = survey.column("weight").to_numpy()
    reps = replicate_table(s, n, psu, weight, replicates)
    pq.write_table(survey, files["survey"])
    pq.write_table(reps, files["replicates"])
    if csv:
        _write_csv(survey, files["survey_csv"])
        _write_csv(reps, files["replicates_csv"])
    files["meta"].write_text(json.dumps(wanted, indent=2) + "\n")
    return {**files, "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> None:
    """Command line: write the benchmark data."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=parse_size, default=[10**4, 10**5, 10**6])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--no-csv", action="store_true", help="write parquet files only")
    args = parser.parse_args(argv)
    for n in args.sizes:
        out = ensure(n, args.replicates, args.data_dir, csv=not args.no_csv)
        print(f"{size_label(n)}: {out['survey'].parent} ({out['seconds']:.1f} s)")


if __name__ == "__main__":
    main()
