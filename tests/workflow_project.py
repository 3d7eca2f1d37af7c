"""Build a throw-away copy of the workflow around the tiny survey, and run Snakemake in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import CODEBOOK

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "tiny"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def make_project(
    folder: Path, *, design: dict | None = None, targets: str = "targets.yaml"
) -> Path:
    """Snakefile, workflow/ and scripts/ of this checkout + the tiny wave + a config."""
    shutil.copy(ROOT / "Snakefile", folder / "Snakefile")
    shutil.copytree(ROOT / "workflow", folder / "workflow", symlinks=False)
    shutil.copytree(ROOT / "scripts", folder / "scripts")
    raw = folder / "data" / "raw" / "tiny"
    raw.mkdir(parents=True)
    shutil.copy(TINY / "responses.csv", raw / "responses.csv")
    shutil.copy(TINY / "codebook.yaml", raw / "codebook.yaml")
    published = folder / "data" / "published"
    published.mkdir(parents=True)
    shutil.copy(TINY / targets, published / "targets.yaml")
    config = {
        "results": "results",
        "waves": {
            "tiny": {
                "label": "Tiny 2026",
                "responses": "data/raw/tiny/responses.csv",
                "codebook": "data/raw/tiny/codebook.yaml",
            }
        },
        "design": design or {},
        "estimates": {
            "by": ["region", "role", ["region", "role"]],
            "ci_method": "wilson",
            "level": 0.95,
        },
        "targets": "data/published/targets.yaml",
        # MPs get charts of their own; the tiny wave has no clerks: none for them
        "figures": {
            "populations": [{"domain": "role", "value": "MP"}, {"domain": "role", "value": "clerk"}]
        },
        "comparisons": {
            "within": [
                {"domain": "role", "pairs": [["MP", "staff"]]},
                {"domain": "region", "against": "others"},
            ],
            "association": ["region", "role"],
        },
        "coverage": {
            "n": [20],
            "p": "0.1:0.9:0.2",
            "methods": ["wald", "wilson"],
            "simulate": {"clusters": 5, "cluster_size": 2, "deff": 1.5, "reps": 200},
        },
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


#: outputs written after the manifest, which differ between runs: the report (`make run`'s
#: second step) and the summary (it holds the elapsed time)
UNPINNED = {"report.html", "summary.txt"}


def reproducible_files(results: Path) -> list[Path]:
    """The outputs that two runs on the same inputs must write byte for byte (not the logs)."""
    return [
        p
        for p in sorted(results.rglob("*"))
        if p.is_file() and "logs" not in p.parts and p.name not in UNPINNED
    ]


def snakemake(folder: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [str(SNAKEMAKE), "--cores", "2", "--directory", str(folder), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


# The codebook of the tests (conftest.CODEBOOK), with labelled regions and no name column.
LARGE_CODEBOOK = {
    **CODEBOOK,
    "drop": ["comments"],
    "domains": {
        **CODEBOOK["domains"],
        "region": {"column": "region", "labels": {1: "North", 2: "South", 3: "East", 4: "West"}},
    },
}
LARGE_DESIGN = {"weight": "weight", "strata": "stratum", "psu": "psu", "fpc": "fpc", "nest": True}


def large_responses(n: int, *, seed: int = 1, bad_share: float = 0.0):
    """``n`` respondents of a stratified cluster sample (20 strata, 25 PSUs each)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    stratum = rng.integers(1, 21, n)
    psu = rng.integers(1, 26, n)
    effect = rng.normal(0.0, 0.5, (21, 26))[stratum, psu]
    frame = {
        "resp_id": np.char.add("L", np.char.zfill(np.arange(n).astype(str), 7)),
        "region": rng.integers(1, 5, n),
        "role": rng.choice([1, 2], n, p=[0.6, 0.4]),
        "stratum": stratum,
        "psu": psu,
        "fpc": 100,
        "weight": np.exp(rng.normal(3.0, 0.3, n)),
    }
    for column, base in (("q1", 0.4), ("q2", 0.0)):
        yes = rng.random(n) < 1 / (1 + np.exp(-(base + effect)))
        code = np.where(yes, 1, 2)
        code[rng.random(n) < 0.04] = 8
        frame[column] = code
    frame["q2a"] = np.where(frame["q2"] == 1, np.where(rng.random(n) < 0.3, 1, 2), 7)
    if bad_share:
        frame["q1"][rng.random(n) < bad_share] = 5
    frame["comments"] = np.where(rng.random(n) < 0.01, "Nothing to add.", "")
    return pd.DataFrame(frame)


def make_large_project(folder: Path, n: int, *, fmt: str = "parquet", bad_share: float = 0.0):
    """The workflow around one wave of ``n`` respondents with a design and comparisons."""
    shutil.copy(ROOT / "Snakefile", folder / "Snakefile")
    shutil.copytree(ROOT / "workflow", folder / "workflow", symlinks=False)
    shutil.copytree(ROOT / "scripts", folder / "scripts")
    raw = folder / "data" / "raw" / "big"
    raw.mkdir(parents=True)
    frame = large_responses(n, bad_share=bad_share)
    responses = raw / f"responses.{fmt}"
    if fmt == "csv":
        frame.to_csv(responses, index=False)
    else:
        frame.to_parquet(responses, index=False)
    (raw / "codebook.yaml").write_text(yaml.safe_dump(LARGE_CODEBOOK, sort_keys=False))
    config = {
        "results": "results",
        "waves": {
            "big": {
                "label": "Large wave",
                "responses": f"data/raw/big/responses.{fmt}",
                "codebook": "data/raw/big/codebook.yaml",
            }
        },
        "design": LARGE_DESIGN,
        "estimates": {"by": ["region", "role", ["region", "role"]], "ci_method": "wilson"},
        "comparisons": {
            "within": [{"domain": "role", "pairs": [["MP", "staff"]]}],
            "association": ["region"],
        },
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder
