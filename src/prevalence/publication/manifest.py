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

from prevalence.data.io import sha256

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


# Written after the manifest, or beside it, and so never in it (the summary holds the
# run's elapsed time).
NOT_IN_MANIFEST = ("manifest.json", "report.html", "summary.txt", "logs")


def verify_results(results: str | Path = "results") -> tuple[int, list[str]]:
    """Check every output of a results folder against its ``manifest.json``.

    Returns the number of outputs checked and one line per problem: an output that
    was changed (its SHA-256 differs; a truncated file is one), emptied or removed,
    and a file that the manifest does not list (added later). Logs, the report and the
    summary, written after the manifest, are not checked.

    Raises
    ------
    PrevalenceError
        When the manifest is missing or cannot be read.
    """
    import json

    from prevalence.errors import PrevalenceError

    results = Path(results)
    path = results / "manifest.json"
    fix = "run the workflow again (`make run`) to write the results and their manifest"
    if not path.is_file():
        raise PrevalenceError("no manifest.json in the results folder", file=str(path), fix=fix)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        outputs = dict(manifest["outputs"])
        configured = Path(manifest["config"]["results"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise PrevalenceError(
            "the manifest is damaged (not the JSON the workflow writes)", file=str(path), fix=fix
        ) from None
    root = results  # outputs are named from the project folder: results/tables/...
    for _ in configured.parts:
        root = root / ".."

    def inside(name: str) -> Path:
        try:
            return results / Path(name).relative_to(configured)
        except ValueError:
            return Path(name) if Path(name).is_absolute() else root / name

    problems = []
    for name, digest in sorted(outputs.items()):
        file = inside(name)
        shown = file.as_posix()
        if not file.is_file():
            problems.append(f"removed: {shown}")
        elif sha256(file) != digest:
            size = file.stat().st_size
            what = "emptied (0 bytes)" if size == 0 else f"changed ({size} bytes, other content)"
            problems.append(f"{what}: {shown}")
    listed = {inside(name).resolve() for name in outputs}
    for file in sorted(p for p in results.rglob("*") if p.is_file()):
        if file.relative_to(results).parts[0] in NOT_IN_MANIFEST or file.resolve() in listed:
            continue
        problems.append(f"added (not in the manifest): {file.as_posix()}")
    return len(outputs), problems
