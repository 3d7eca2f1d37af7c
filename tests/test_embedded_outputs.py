"""The embedded run (`make run`) gives the outputs it gave: every table and chart, byte for byte.

The recorded digests are in ``tests/fixtures/embedded_outputs.sha256``. A change that is meant
to change an output must say so and record the new digests::

    PREVALENCE_RECORD_OUTPUTS=1 .venv/bin/python -m pytest tests/test_embedded_outputs.py
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from workflow_project import ROOT, snakemake

pytestmark = pytest.mark.e2e

DIGESTS = ROOT / "tests" / "fixtures" / "embedded_outputs.sha256"


def _digests(results: Path) -> dict[str, str]:
    out = {}
    for path in sorted(results.rglob("*")):
        if not path.is_file() or "logs" in path.parts or path.name == "report.html":
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
    run = snakemake(tmp_path, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
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
