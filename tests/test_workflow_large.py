"""A wave above the compiled threshold through Snakemake, as a user with a large survey runs it.

From ``design.COMPILED_MIN_ROWS`` rows the passes over the rows run compiled (numba). This
runs them inside the workflow's jobs (where a script named like a module once broke them)
and checks that they give the numbers of the numpy passes; and that a large file full of
bad codes stops with one short message.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from workflow_project import LARGE_CODEBOOK, LARGE_DESIGN, large_responses, make_large_project
from workflow_project import snakemake as run_snakemake

from prevalence.data.codebook import parse_codebook
from prevalence.data.ingest import ingest
from prevalence.data.io import Responses
from prevalence.design import arrays as design_module
from prevalence.stats.comparisons import wave_comparisons
from prevalence.stats.contrasts import parse_comparisons
from prevalence.stats.estimate import estimate_wave

pytestmark = pytest.mark.e2e

N = design_module.COMPILED_MIN_ROWS + 20_000
TARGETS = ("results/tables/prevalence.csv", "results/tables/contrasts.csv")


def test_a_wave_above_the_compiled_threshold_runs_compiled_and_gives_the_numpy_numbers(
    tmp_path, monkeypatch
):
    folder = make_large_project(tmp_path, N)
    run = run_snakemake(folder, *TARGETS)
    assert run.returncode == 0, run.stderr[-3000:]
    log = (folder / "results" / "logs" / "wave" / "big.log").read_text()
    assert f"{N} rows: the passes over the rows run compiled" in log
    workflow_table = pd.read_csv(folder / "data" / "processed" / "big" / "prevalence.csv")
    workflow_within = pd.read_parquet(folder / "data" / "processed" / "big" / "within.parquet")

    monkeypatch.setattr(design_module, "COMPILED_MIN_ROWS", 10**12)  # numpy all the way
    frame = large_responses(N)
    book = parse_codebook(LARGE_CODEBOOK, path="codebook.yaml")
    data = ingest(
        Responses(frame, "responses.parquet", "parquet"), book, wave="big", design=LARGE_DESIGN
    ).frame
    by = [["region"], ["role"], ["region", "role"]]
    table = estimate_wave(data, book, wave="big", by=by, design=LARGE_DESIGN, ci_method="wilson")
    path = tmp_path / "numpy.csv"
    table.to_csv(path, index=False, lineterminator="\n", float_format="%.15g")
    pd.testing.assert_frame_equal(pd.read_csv(path), workflow_table)
    spec = parse_comparisons(
        {"within": [{"domain": "role", "pairs": [["MP", "staff"]]}], "association": ["region"]},
        source="config.yaml",
        waves=["big"],
    )
    within, _ = wave_comparisons(data, book, LARGE_DESIGN, spec, wave="big")
    pd.testing.assert_frame_equal(within, workflow_within, check_dtype=False)
    assert (within["method"] == "wald").all() and np.isfinite(within["se"]).all()


def test_a_large_file_full_of_bad_codes_gives_one_short_message(tmp_path):
    folder = make_large_project(tmp_path, N, fmt="csv", bad_share=0.03)
    run = run_snakemake(folder, *TARGETS)
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "Traceback" not in output
    message = (folder / "results" / "logs" / "wave" / "big.log").read_text().strip()
    assert message.count("\n") == 1, message  # the problem, then the fix
    assert "column 'q1', line " in message and "code 5 is not in the codebook" in message
    assert "rows hold codes it does not list: 5 on " in message and "the first on lines " in message
    assert "fix: add the code to yes_codes" in message
    assert output.count("code 5 is not in the codebook") <= 3  # the log, shown once or twice
    assert not (folder / "data" / "processed" / "big" / "responses.parquet").exists()
