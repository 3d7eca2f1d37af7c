"""The `prevalence` command as installed by `make`: sub-commands, --help, exit statuses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from workflow_project import ROOT, make_project

from prevalence.data.codebook import load_codebook

PREVALENCE = Path(sys.executable).parent / "prevalence"
SAV = ROOT / "data" / "raw" / "2025-asia-pacific" / "responses.sav"
COMMANDS = [
    ["check"],
    ["run"],
    ["summary"],
    ["verify"],
    ["codebook"],
    ["codebook", "draft"],
    ["published"],
]


def prevalence(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    assert PREVALENCE.is_file(), "the console script is missing: run `make`"
    return subprocess.run(
        [str(PREVALENCE), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command):
    run = prevalence(*command, "--help")
    assert run.returncode == 0 and run.stdout.startswith(f"usage: prevalence {' '.join(command)}")


@pytest.mark.parametrize(
    "args",
    [[], ["nope"], ["published", "81.8"], ["published", "81.8", "--n", "many"], ["codebook"]],
    ids=["nothing", "unknown", "no n", "n not a number", "no action"],
)
def test_a_wrong_command_line_exits_2(args):
    run = prevalence(*args)
    assert run.returncode == 2 and "usage: prevalence" in run.stderr
    assert "Traceback" not in run.stderr


def test_published_prints_the_feasible_counts_and_their_intervals():
    run = prevalence("published", "81.8", "--n", "55")
    assert run.returncode == 0, run.stderr
    assert "81.8% of n = 55 (rounded to 1 decimal): 1 count fits" in run.stdout
    assert "    45   81.818%          69.7–89.8%                   69.1–90.9%" in run.stdout


def test_a_published_figure_that_no_count_fits_exits_1_naming_the_nearest_n():
    run = prevalence("published", "44.4", "--n", "55")
    assert run.returncode == 1
    assert "44.4% cannot be a count out of n = 55" in run.stdout
    assert "The nearest n that fits is 54 (24 of 54)." in run.stdout
    bad = prevalence("published", "144", "--n", "55")
    assert bad.returncode == 1 and "not a percentage" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_codebook_draft_prints_or_writes_a_valid_codebook_and_never_overwrites(tmp_path):
    printed = prevalence("codebook", "draft", str(SAV))
    assert printed.returncode == 0, printed.stderr
    out = tmp_path / "codebook.yaml"
    written = prevalence("codebook", "draft", str(SAV), "--out", str(out))
    assert written.returncode == 0, written.stderr
    assert out.read_text() == printed.stdout
    assert "3 domains, 8 indicators, 2 columns to drop, 0 TODO(s)" in written.stderr
    assert len(load_codebook(out).indicators) == 8
    again = prevalence("codebook", "draft", str(SAV), "--out", str(out))
    assert again.returncode == 1 and "never overwrites" in again.stderr
    forced = prevalence("codebook", "draft", str(SAV), "--out", str(out), "--force")
    assert forced.returncode == 0
    missing = prevalence("codebook", "draft", str(tmp_path / "nope.sav"))
    assert missing.returncode == 1 and "responses file not found" in missing.stderr


def test_check_through_the_installed_script(tmp_path):
    run = prevalence("check", cwd=make_project(tmp_path))
    assert run.returncode == 0 and "all checks passed" in run.stdout, run.stderr


def test_run_outside_a_project_exits_1(tmp_path):
    run = prevalence("run", "--directory", str(tmp_path))
    assert run.returncode == 1 and "no Snakefile here" in run.stderr


@pytest.mark.e2e
def test_run_stops_with_the_message_of_bad_input(tmp_path):
    folder = make_project(tmp_path)
    responses = folder / "data" / "raw" / "tiny" / "responses.csv"
    lines = responses.read_text().splitlines()
    lines[1] = lines[1].replace(",MP,2,1,", ",MP,2,6,", 1)  # q1 of line 2: a code not listed
    assert lines[1] != responses.read_text().splitlines()[1]
    responses.write_text("\n".join(lines) + "\n")
    (folder / ".snakemake" / "locks").mkdir(parents=True)  # as an interrupted run leaves it
    (folder / ".snakemake" / "locks" / "0.input.lock").write_text(str(folder))
    run = prevalence("run", "--no-report", cwd=folder)
    assert run.returncode == 1
    assert "An earlier run was interrupted: clearing its lock" in run.stdout
    assert "code 6 is not in the codebook" in run.stderr and "Traceback" not in run.stderr
    assert "LockException" not in run.stderr


def test_a_second_run_in_the_same_folder_does_nothing(tmp_path):
    import fcntl

    folder = make_project(tmp_path)
    (folder / ".snakemake").mkdir()
    with open(folder / ".snakemake" / "make-run.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running `make run` holds it
        run = prevalence("run", cwd=folder)
    assert run.returncode == 1 and "another run" in run.stderr and "fix: wait" in run.stderr
    assert not (folder / "results").exists()


def test_codebook_draft_of_a_worksheet(tmp_path):
    import pandas as pd

    path = tmp_path / "responses.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"notes": ["cover sheet"]}).to_excel(book, sheet_name="About", index=False)
        frame = pd.DataFrame({"id": range(1, 7), "role": ["MP", "staff"] * 3, "q1": [1, 2] * 3})
        frame.to_excel(book, sheet_name="Data", index=False)
    run = prevalence(
        "codebook", "draft", str(path), "--sheet", "Data", "--out", "cb.yaml", cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    book = load_codebook(tmp_path / "cb.yaml")
    assert book.sheet == "Data" and list(book.indicators) == ["q1"]
    assert book.respondent_id == "id" and list(book.domains) == ["role"]


def test_verify_through_the_installed_script(tmp_path, monkeypatch):
    from test_verify import results_folder

    monkeypatch.chdir(tmp_path)
    results_folder(tmp_path)
    ok = prevalence("verify", "results", cwd=tmp_path)
    assert ok.returncode == 0 and "all 3 outputs match" in ok.stdout, ok.stderr
    (tmp_path / "results" / "tables" / "a.csv").write_text("x\n")
    changed = prevalence("verify", "results", cwd=tmp_path)
    assert changed.returncode == 1 and "changed" in changed.stderr and "a.csv" in changed.stderr
