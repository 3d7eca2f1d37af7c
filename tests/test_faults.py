"""Faults a user meets, through `make run` as a user runs it (make test-faults).

* A run stopped by Ctrl-C, by a kill or by a machine that stops (SIGKILL to every process):
  the next `make run` finishes by itself, byte-identical to a clean run.
* A second `make run` in the same folder while one runs: a clear message; the first finishes.
* A full disk (root only: the project on a small tmpfs): a message that says so, no file
  written in part, and once there is room the next `make run` finishes, byte-identical.
* `python -m prevalence verify` / `make verify` name every output changed, truncated,
  emptied, removed or added since the run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from workflow_project import ROOT, make_project, reproducible_files

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PYTHONHASHSEED": "0"}


def project(folder: Path) -> Path:
    """The tiny project with this checkout's Makefile, run as `make run` runs it."""
    make_project(folder)
    for name in ("Makefile", "requirements.lock", "pyproject.toml"):
        shutil.copy(ROOT / name, folder / name)
    return folder


def make_command(*targets: str) -> list[str]:
    # This environment is installed already: its stamp is not remade.
    return ["make", "--no-print-directory", *targets, f"BIN={BIN}", "-o", ".venv/.installed"]


def make(folder: Path, *targets: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        make_command(*targets),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
    )


def verify(results: Path | str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "prevalence", "verify", str(results)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, env=ENV)


def start(folder: Path) -> subprocess.Popen:
    """`make run` in the background, in a process group of its own (to signal all of it)."""
    return subprocess.Popen(
        make_command("run"),
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=ENV,
        start_new_session=True,
    )


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def any_file(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))


def outputs(folder: Path) -> dict[str, str]:
    """SHA-256 of every result but the logs, the report and the summary (they hold times)."""
    results = folder / "results"
    return {
        str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in reproducible_files(results)
    }


def partial_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.tmp") if ".snakemake" not in p.parts]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A clean `make run`; a second `make run` is started while it runs."""
    folder = project(tmp_path_factory.mktemp("reference"))
    first = start(folder)
    try:
        wait_for(lambda: any_file(folder / ".snakemake" / "locks"))
        second = make(folder, "run", timeout=60)
        log, _ = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert first.returncode == 0, log[-3000:]
    return folder, second


def test_a_second_run_at_once_is_refused_and_the_first_finishes(reference):
    folder, second = reference
    assert second.returncode != 0
    assert "another `make run` is running in this folder" in second.stderr, second.stderr
    assert "Traceback" not in second.stdout + second.stderr
    assert (folder / "results" / "manifest.json").is_file()
    check = verify("results", folder)
    assert check.returncode == 0, check.stderr
    assert "outputs match results/manifest.json" in check.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_an_interrupted_run_finishes_on_the_next_make_run(reference, tmp_path, sig):
    folder = project(tmp_path)
    run = start(folder)
    results = folder / "results"
    try:  # stop it once the tables or the first chart are written: the charts, the study
        # and the manifest still to come (whichever comes first, as jobs run in any order)
        wait_for(lambda: any_file(results / "figures") or (results / "tables").is_dir())
        os.killpg(run.pid, sig)
        log, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode != 0, f"the run ended before it was stopped: {log[-2000:]}"
    assert not (results / "manifest.json").exists()
    if sig == signal.SIGKILL:  # as after a power cut: Snakemake's lock is left behind
        assert any_file(folder / ".snakemake" / "locks")
    again = make(folder, "run")
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    assert outputs(folder) == outputs(reference[0])
    assert partial_files(folder) == []


def test_verify_names_every_changed_truncated_removed_or_added_output(reference, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(reference[0], folder, symlinks=True)
    results = folder / "results"
    (results / "tables" / "prevalence.md").write_text("edited\n")
    truncated = results / "tables" / "contrasts.csv"
    truncated.write_bytes(truncated.read_bytes()[:100])
    (results / "tables" / "coverage.csv").write_bytes(b"")
    (results / "figures" / "tiny" / "by_role.png").unlink()
    (results / "tables" / "extra.csv").write_text("a\n1\n")
    for check in (verify("results", folder), make(folder, "verify", timeout=60)):
        text = check.stdout + check.stderr
        assert check.returncode != 0, text
        for line in (
            "changed (7 bytes, other content): results/tables/prevalence.md",
            "changed (100 bytes, other content): results/tables/contrasts.csv",
            "emptied (0 bytes): results/tables/coverage.csv",
            "removed: results/figures/tiny/by_role.png",
            "added (not in the manifest): results/tables/extra.csv",
            "5 of the results in results differ from manifest.json",
        ):
            assert line in text, text
        assert "Traceback" not in text


def test_verify_without_a_manifest_says_so(tmp_path):
    (tmp_path / "results").mkdir()
    check = verify(tmp_path / "results")
    assert check.returncode == 1
    assert "no manifest.json in the results folder" in check.stderr


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of 64 MB (root only), unmounted at the end."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full disk is simulated with a tmpfs, which needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_full_disk_stops_with_a_message_and_the_next_run_finishes(reference, small_disk):
    (small_disk / "project").mkdir()
    folder = project(small_disk / "project")
    filler = small_disk / "filler"
    room = 1_500_000  # bytes: the waves fit, the charts do not
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    with open(filler, "wb") as handle:
        handle.truncate(0)
        block = b"\0" * (1 << 20)
        for _ in range((free - room) // len(block)):
            handle.write(block)
    full = make(folder, "run")
    text = full.stdout + full.stderr
    assert full.returncode != 0
    assert "the disk is full" in text, text[-4000:]
    assert "make run` again" in text and "Traceback" not in text
    assert partial_files(folder) == []
    filler.unlink()
    again = make(folder, "run")
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    assert outputs(folder) == outputs(reference[0])
