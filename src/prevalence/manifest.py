"""The provenance manifest: what went in, what came out, with which settings and software.

``results/manifest.json`` lets a reviewer check that a result comes from given
inputs: the SHA-256 of every input and output file, the resolved configuration,
the versions of Python and of the packages that compute or draw, and the
project's commit. It holds no timestamp, so the same inputs give the same bytes.
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from prevalence.io import sha256

PACKAGES = (
    "prevalence",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "pyarrow",
    "pyreadstat",
    "openpyxl",
    "PyYAML",
    "jsonschema",
    "snakemake",
)


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (None for one that is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(folder: str | Path = ".") -> dict[str, Any]:
    """The commit of the project checkout and whether tracked files were modified."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "modified": None}
    return {"commit": commit, "modified": bool(dirty)}


def file_hashes(paths: Sequence[str | Path]) -> dict[str, str]:
    """SHA-256 of each file (every file inside a folder), keyed by its path, sorted."""
    files: list[str] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += [str(p) for p in path.rglob("*") if p.is_file()]
        else:
            files.append(str(path))
    return {p: sha256(p) for p in sorted(files)}


def build_manifest(
    *,
    inputs: Sequence[str | Path],
    outputs: Sequence[str | Path],
    config: Mapping[str, Any],
    folder: str | Path = ".",
) -> dict[str, Any]:
    """The manifest as a JSON-serialisable mapping."""
    return {
        "project": git_commit(folder),
        "python": platform.python_version(),
        "packages": package_versions(),
        "config": dict(config),
        "inputs": file_hashes(inputs),
        "outputs": file_hashes(outputs),
    }
