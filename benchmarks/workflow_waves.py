"""Survey waves of any size for the workflow benchmark, in the workflow's own input format.

A wave is a responses file and its codebook, as a researcher would put them in
``data/raw/<wave>/``: a respondent id, a mostly empty free-text column (dropped
at ingest), region (6 codes with labels), role (1 MP, 2 staff), age group
(3 codes), the design columns (``stratum``, ``psu`` restarting at 1 in every
stratum, ``fpc`` = the stratum's population number of PSUs, ``weight``) and
9 items answered 1 yes / 2 no / 8 don't know / 9 refused; the last three are
asked only of those who said yes to ``q14`` (7 = not applicable otherwise).

The design is the one of :mod:`generate` (60 strata, 2,000 PSUs nested in
them, stage-one fpc, unequal weights); answers depend on region, role and a
PSU effect. Everything comes from a fixed seed and the sample size, so the
files are the same on every machine. ``bad_codes`` writes a copy in which 3%
of the answers to ``q11`` carry the code 5, which the codebook does not list.

    python benchmarks/workflow_waves.py --sizes 1e3 1e6 --formats parquet csv
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import generate
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

SEED = 20261202
#: bump when the generated files change, so that old ones are regenerated
FORMAT_VERSION = 1
FORMATS = ("parquet", "csv", "sav")
REGIONS = ("Africa", "Americas", "Arab States", "Asia", "Europe", "Pacific")
AGE_GROUPS = ("under 40", "40 to 54", "55 and over")
#: id, column, label, base prevalence, denominator
ITEMS = (
    ("psychological", "q10", "Psychological violence", 0.60, None),
    ("sexual_violence", "q11", "Sexual violence", 0.20, None),
    ("economic", "q12", "Economic violence", 0.25, None),
    ("physical", "q13", "Physical violence", 0.15, None),
    ("threats", "q15", "Threats of death, rape or beating", 0.35, None),
    ("online_gbv", "q14", "Online gender-based violence", 0.55, None),
    ("online_hate_speech", "q14a", "Online hate speech", 0.40, "online_gbv"),
    ("image_based_abuse", "q14b", "Image-based abuse", 0.15, "online_gbv"),
    ("doxing", "q14c", "Doxing", 0.20, "online_gbv"),
)
MISSING_SHARE = 0.04
BAD_SHARE = 0.03
BAD_COLUMN = "q11"
BAD_CODE = 5
#: below the generator's minimum of 2 respondents per PSU the design is smaller
SMALL = generate.MIN_ROWS_PER_PSU * generate.N_PSU


def codebook() -> dict:
    """The codebook of every benchmark wave."""
    indicators = {}
    for ind, column, label, _, parent in ITEMS:
        entry = {"label": label, "column": column}
        if parent:
            entry["denominator"] = parent
        indicators[ind] = entry
    return {
        "title": "Benchmark survey (synthetic)",
        "synthetic": True,
        "respondent_id": "resp_id",
        "drop": ["comments"],
        "domains": {
            "region": {"column": "region", "labels": dict(enumerate(REGIONS, 1))},
            "role": {"column": "role", "labels": {1: "MP", 2: "staff"}},
            "age_group": {"column": "age", "labels": dict(enumerate(AGE_GROUPS, 1))},
        },
        "defaults": {"yes_codes": [1], "no_codes": [2], "missing_codes": [8, 9], "skip_codes": [7]},
        "indicators": indicators,
    }


def design() -> dict:
    """The ``design:`` block of every benchmark wave."""
    return {"weight": "weight", "strata": "stratum", "psu": "psu", "fpc": "fpc", "nest": True}


def _design_rows(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Stratum, PSU, fpc, weight and region of ``n`` respondents."""
    s = generate.structure()
    if n >= SMALL:
        counts = generate.MIN_ROWS_PER_PSU + rng.multinomial(
            n - SMALL, s.psu_share / s.psu_share.sum()
        )
        psu = rng.permutation(np.repeat(np.arange(generate.N_PSU), counts))
    else:  # a small survey: 2 respondents in each of the first n // 2 PSUs of every stratum
        per_stratum = max(1, n // (2 * generate.N_STRATA))
        first = np.cumsum(s.n_h) - s.n_h
        chosen = np.concatenate(
            [first[h] + np.arange(min(per_stratum, s.n_h[h])) for h in range(generate.N_STRATA)]
        )
        psu = rng.permutation(np.resize(np.repeat(chosen, 2), n))
    spill = rng.random(n) < 0.2
    region = np.where(spill, rng.integers(0, len(REGIONS), size=n), s.psu_region[psu])
    return {
        "stratum": (s.psu_stratum[psu] + 1).astype(np.int32),
        "psu": s.psu_id[psu].astype(np.int32),
        "fpc": s.pop_h[s.psu_stratum[psu]].astype(np.int32),
        "weight": s.psu_weight[psu] * np.exp(rng.normal(0.0, 0.25, size=n)),
        "region": region,
        "psu_index": psu,
    }


def responses(n: int, *, bad_codes: bool = False) -> pa.Table:
    """The responses of a wave of ``n`` respondents."""
    rng = np.random.default_rng([SEED, n])
    rows = _design_rows(n, rng)
    region, psu = rows.pop("region"), rows.pop("psu_index")
    role = np.where(rng.random(n) < 0.6, 1, 2).astype(np.int8)
    age = (1 + rng.choice(3, size=n, p=[0.3, 0.45, 0.25])).astype(np.int8)
    comments = pa.array(
        np.where(rng.random(n) < 0.01, "Synthetic comment: nothing to add.", None), pa.string()
    )
    ids = pa.array(np.char.add("B", np.char.zfill(np.arange(1, n + 1).astype(str), 8)))
    columns: dict[str, pa.Array] = {"resp_id": ids}
    columns["region"] = pa.array(region + 1, type=pa.int8())
    columns["role"] = pa.array(role)
    columns["age"] = pa.array(age)
    columns.update({k: pa.array(v) for k, v in rows.items()})
    region_effect = rng.normal(0.0, 0.3, size=(len(REGIONS), len(ITEMS)))
    psu_effect = rng.normal(0.0, 0.4, size=(generate.N_PSU, len(ITEMS)))
    yes_by_item: dict[str, np.ndarray] = {}
    for j, (ind, column, _, base, parent) in enumerate(ITEMS):
        logit = np.log(base / (1 - base)) + region_effect[region, j] + psu_effect[psu, j]
        logit += np.where(role == 1, 0.2, -0.2)
        yes = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
        code = np.where(yes, 1, 2).astype(np.int8)
        missing = rng.random(n) < MISSING_SHARE
        code[missing] = np.where(rng.random(int(missing.sum())) < 0.5, 8, 9)
        if parent:
            code[~yes_by_item[parent]] = 7
        yes_by_item[ind] = code == 1
        if bad_codes and column == BAD_COLUMN:
            code[rng.random(n) < BAD_SHARE] = BAD_CODE
        columns[column] = pa.array(code)
    columns["comments"] = comments
    return pa.table(columns)


def _write(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "csv":
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    else:
        import pyreadstat

        frame = table.to_pandas()
        book = codebook()
        labels = {d["column"]: d["labels"] for d in book["domains"].values()}
        pyreadstat.write_sav(frame, str(path), variable_value_labels=labels)


def wave_folder(data_dir: Path, n: int, fmt: str, *, bad_codes: bool = False) -> Path:
    name = f"wave_{generate.size_label(n)}_{fmt}" + ("_bad" if bad_codes else "")
    return data_dir / name


def ensure(n: int, fmt: str, data_dir: Path, *, bad_codes: bool = False) -> dict:
    """Write the wave of size ``n`` in format ``fmt`` unless an up-to-date one exists.

    Returns the paths (``responses``, ``codebook``) and ``seconds`` spent writing.
    """
    folder = wave_folder(data_dir, n, fmt, bad_codes=bad_codes)
    files = {
        "responses": folder / f"responses.{fmt}",
        "codebook": folder / "codebook.yaml",
        "meta": folder / "wave.json",
    }
    wanted = {"format_version": FORMAT_VERSION, "seed": SEED, "n": n, "bad_codes": bad_codes}
    if files["meta"].exists() and files["responses"].exists():
        if json.loads(files["meta"].read_text()) == wanted:
            return {**files, "seconds": 0.0}
    start = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    _write(responses(n, bad_codes=bad_codes), files["responses"], fmt)
    files["codebook"].write_text(yaml.safe_dump(codebook(), sort_keys=False))
    files["meta"].write_text(json.dumps(wanted) + "\n")
    return {**files, "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=generate.parse_size, default=[10**3, 10**6])
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=["parquet"])
    parser.add_argument("--bad-codes", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=generate.DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    for n in args.sizes:
        for fmt in args.formats:
            out = ensure(n, fmt, args.data_dir, bad_codes=args.bad_codes)
            print(f"{out['responses']} ({out['seconds']:.1f} s)")


if __name__ == "__main__":
    main()
