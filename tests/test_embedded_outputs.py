"""The embedded run (`make run`) gives the outputs it gave: every table and chart, byte for byte,
and says on the console what a person needs: a line per job, then the run's summary.

The recorded digests are in ``tests/fixtures/embedded_outputs.sha256``. A change that is meant
to change an output must say so and record the new digests::

    PREVALENCE_RECORD_OUTPUTS=1 .venv/bin/python -m pytest tests/test_embedded_outputs.py
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from workflow_project import ROOT, reproducible_files, snakemake

pytestmark = pytest.mark.e2e

DIGESTS = ROOT / "tests" / "fixtures" / "embedded_outputs.sha256"
#: a line of Python logging (``INFO fontTools.subset: ...``) or a Python warning
ROW_COUNTS = ("read", "kept", "excluded")
LIBRARY_LINE = re.compile(r"^(DEBUG|INFO|WARNING|CRITICAL)\b|Warning: |fontTools")


def _digests(results: Path) -> dict[str, str]:
    out = {}
    for path in reproducible_files(results):
        if path.parent.name == "study" and path.suffix == ".pdf":
            # printed by the machine's Chromium, which writes its version into the file: a
            # rerun on one machine is byte-identical (test_workflow), another Chromium is not
            continue
        if path.name == "manifest.json":  # its "project" block is the commit
            manifest = json.loads(path.read_text())
            manifest.pop("project")
            data = json.dumps(manifest, sort_keys=True).encode()
        else:
            data = path.read_bytes()
        out[str(path.relative_to(results))] = hashlib.sha256(data).hexdigest()
    return out


def test_the_embedded_run_gives_the_recorded_outputs(tmp_path):
    for item in ("Snakefile", "config.yaml"):
        shutil.copy(ROOT / item, tmp_path / item)
    for folder in ("workflow", "scripts", "data/raw", "data/published", "data/population"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    # as `make run` runs it
    run = snakemake(tmp_path, "--workflow-profile", "workflow/profiles/default", timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    _check_console(run.stdout, run.stderr, tmp_path / "results")
    _check_key_findings(tmp_path / "results")
    _check_mp_breakdown(tmp_path / "results")
    found = _digests(tmp_path / "results")
    if os.environ.get("PREVALENCE_RECORD_OUTPUTS"):
        header = [line for line in DIGESTS.read_text().splitlines() if line.startswith("#")]
        body = [f"{digest}  {name}" for name, digest in found.items()]
        DIGESTS.write_text("\n".join(header + body) + "\n")
    recorded = {
        name: digest
        for digest, name in (
            line.split("  ", 1) for line in DIGESTS.read_text().splitlines() if line[:1] != "#"
        )
    }
    assert found.keys() == recorded.keys()
    changed = sorted(name for name in found if found[name] != recorded[name])
    assert changed == [], f"outputs that changed: {', '.join(changed)}"


SCHEDULING = ("Select jobs to execute", "Execute ", "Finished jobid", "Updating checkpoint")


def _check_console(stdout: str, stderr: str, results: Path) -> None:
    """The job table, each job's own line and Snakemake's progress line, and the summary,
    nothing more: none of Snakemake's scheduling lines (the default profile's logger,
    src/snakemake_logger_plugin_prevalence) and none from a library's logging; the job lines
    and the summary (on stderr) agree with the ingest logs and reproduction.csv."""
    import pandas as pd

    everything = stdout.splitlines() + stderr.splitlines()
    # 31 jobs of 6 waves: 3 lines of start, 19 of the job table, 2 a job, 11 at the end
    assert len(everything) <= 100, f"{len(everything)} lines"
    assert [line for line in everything if LIBRARY_LINE.search(line)] == []
    assert [line for line in everything if line.startswith(SCHEDULING)] == []
    assert len(re.findall(r"^\d+ of \d+ steps \(\d+%\) done$", stderr, re.M)) >= 25
    lines = stderr.splitlines()
    logs = {p.stem: json.loads(p.read_text()) for p in sorted((results / "ingest").glob("*.json"))}
    for wave, log in logs.items():
        rows = log["rows"]
        assert (
            f"wave {wave}: {rows['read']} rows, {rows['kept']} kept, {rows['excluded']} excluded"
            in lines
        )
    summary = (results / "summary.txt").read_text().splitlines()
    # the run ends with the summary; Snakemake adds where its log is and the elapsed time
    start = len(lines) - 1 - lines[::-1].index(summary[0])
    assert lines[start : start + len(summary)] == summary
    assert len(lines) - (start + len(summary)) <= 2, lines[start + len(summary) :]
    read, kept, excluded = (sum(log["rows"][k] for log in logs.values()) for k in ROW_COUNTS)
    assert summary[0] == f"{len(logs)} waves: {read} rows read, {kept} kept, {excluded} excluded"
    reproduction = pd.read_csv(results / "reproduction.csv")
    reproduced = f"published figures reproduced: {int(reproduction['match'].sum())} of "
    assert f"{reproduced}{len(reproduction)}" in summary
    table = pd.read_csv(results / "tables" / "prevalence.csv")
    suppressed = int(table["suppressed"].sum())
    assert (
        f"cells: {len(table)} in the prevalence table, {len(table) - suppressed} published, "
        f"{suppressed} suppressed"
    ) in summary
    assert summary[-1].startswith("elapsed: ")


def _check_key_findings(results: Path) -> None:
    """The published breakdown of 2025 is about women MPs, in words."""
    import pandas as pd

    found = pd.read_csv(results / "tables" / "key_findings.csv")
    mps = found[(found["wave"] == "2025-asia-pacific") & (found["domain_value"] == "MP")]
    sentence = mps.set_index("indicator").loc["online_gbv", "sentence"]
    assert sentence.startswith("60% (95% CI ") and "of the 88 women MPs who answered" in sentence
    # and the study report of the wave says it, in its HTML and in its PDF
    html = (results / "study" / "2025-asia-pacific.html").read_text()
    assert f"<li>{sentence}</li>" in html
    if shutil.which("pdftotext"):
        pdf = results / "study" / "2025-asia-pacific.pdf"
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        # pdftotext ends a line where the browser broke it ("26–") and drops a hyphen there
        assert "".join(sentence.replace("-", "").split()) in "".join(text.replace("-", "").split())


#: The published breakdown of women MPs, Asia-Pacific 2025 (IPU 2025): 60% online
#: gender-based violence; of them 38% hate speech, 17% image-based abuse, 18% doxing
MP_BREAKDOWN = {"online_gbv": 60, "online_hate_speech": 38, "image_based_abuse": 17, "doxing": 18}


def _check_mp_breakdown(results: Path) -> None:
    """The MPs' "of whom" chart draws the published breakdown, 60 / 38 / 17 / 18: the staff's
    cells of 2 and 1 cases are protected by hiding the totals of MPs and staff, not the MPs'."""
    import pandas as pd

    data = pd.read_csv(
        results / "figures" / "2025-asia-pacific" / "role-MP" / "of_whom_online_gbv.csv",
        keep_default_na=False,
        na_values=[""],
    ).set_index("indicator")
    assert data.index[0] == "online_gbv" and set(data.index) == set(MP_BREAKDOWN)
    assert data.loc["online_gbv", "n"] == 88
    assert not data["suppressed"].any(), data["reason"].to_dict()
    for indicator, percent in MP_BREAKDOWN.items():
        assert round(data.loc[indicator, "estimate"] * 100) == percent, indicator
