"""Build a throw-away copy of the workflow around the tiny survey, and run Snakemake in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

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
