"""End to end: drafted codebooks of the embedded SPSS and Stata waves, through `prevalence run`.

The drafts are used as written (no edits) beside the shipped codebooks of the same files, in
one run; their prevalence tables are the same, cell for cell (indicator ids differ: a draft
names an indicator from its variable label, so cells are matched by the indicator's column).
"""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest
import yaml
from test_cli import PREVALENCE
from workflow_project import ROOT

from prevalence.data.codebook import load_codebook

# about two minutes for a check that rarely breaks: make test-slow
pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WAVES = {"2025-asia-pacific": "responses.sav", "2021-africa": "responses.dta"}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drafts")
    shutil.copy(ROOT / "Snakefile", folder / "Snakefile")
    for item in ("workflow", "scripts"):
        shutil.copytree(ROOT / item, folder / item)
    waves = {}
    for wave, name in WAVES.items():
        shipped = folder / "data" / "raw" / wave
        shutil.copytree(ROOT / "data" / "raw" / wave, shipped)
        drafted = folder / "data" / "raw" / f"{wave}-draft"
        drafted.mkdir()
        shutil.copy(shipped / name, drafted / name)
        run = subprocess.run(
            [str(PREVALENCE), "codebook", "draft", name, "--out", "codebook.yaml"],
            cwd=drafted,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        for folder_name in (wave, f"{wave}-draft"):
            waves[folder_name] = {
                "label": folder_name,
                "responses": f"data/raw/{folder_name}/{name}",
                "codebook": f"data/raw/{folder_name}/codebook.yaml",
            }
    config = {
        "results": "results",
        "waves": waves,
        "estimates": {"by": ["region", "role", "age_group", ["region", "role"]]},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    run = subprocess.run(
        [str(PREVALENCE), "run", "--cores", "2"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return folder


def by_column(table: pd.DataFrame, codebook) -> pd.DataFrame:
    column = {i.id: i.column for i in load_codebook(codebook).indicators.values()}
    table = table.drop(columns="wave")
    for key in ("indicator", "denominator"):
        table[key] = table[key].map(lambda i: column.get(i, i))
    return table.sort_values(["domain", "domain_value", "indicator"], ignore_index=True)


@pytest.mark.parametrize("wave", WAVES)
@pytest.mark.parametrize(
    "table", ["results/tables/prevalence.csv", "data/processed/{wave}/prevalence.csv"]
)
def test_a_draft_gives_the_shipped_prevalence_table(project, wave, table):
    raw = project / "data" / "raw"

    def read(name: str) -> pd.DataFrame:
        frame = pd.read_csv(project / table.format(wave=name))
        return by_column(frame[frame["wave"] == name], raw / name / "codebook.yaml")

    shipped, drafted = read(wave), read(f"{wave}-draft")
    assert len(shipped) > 100
    pd.testing.assert_frame_equal(drafted, shipped)


def test_the_run_writes_the_report(project):
    assert (project / "results" / "report.html").stat().st_size > 10_000
