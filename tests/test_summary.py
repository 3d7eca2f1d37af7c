"""The run's summary (prevalence.workflow.summary) and the message that ends a failed run."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest
from conftest import FIXTURES

from prevalence.workflow.cli import main
from prevalence.workflow.summary import failure_message, run_summary, summary_ready, write_summary


def _results(tmp_path, *, match=(True, True, False)):
    results = tmp_path / "results"
    (results / "ingest").mkdir(parents=True)
    (results / "tables").mkdir()
    logs = {
        "w1": {"read": 10, "kept": 9, "excluded": 1, "excluded_by_reason": {"duplicate id": 1}},
        "w2": {"read": 5, "kept": 5, "excluded": 0, "excluded_by_reason": {}},
    }
    for wave, rows in logs.items():
        anonymity = {"k": 3, "small_groups": 2 if wave == "w2" else 0}
        anonymity["respondents_in_small_groups"] = 3 if wave == "w2" else 0
        log = {"wave": wave, "rows": rows, "k_anonymity": anonymity}
        (results / "ingest" / f"{wave}.json").write_text(json.dumps(log))
    pd.DataFrame(
        {
            "wave": ["w1"] * 4 + ["w2"],
            "suppressed": [False, False, True, True, True],
            "flag": [
                "",
                "complement relative CI width > 130%",
                "sample size n < 30; CI width >= 30 points",
                "sample size n < 30",
                "secondary suppression",
            ],
        }
    ).to_csv(results / "tables" / "prevalence.csv", index=False)
    pd.DataFrame(
        {
            "wave": ["w1", "w1", "w2"],
            "indicator": ["a", "b", "c"],
            "domain": ["overall", "region", "overall"],
            "domain_value": ["All", "North", "All"],
            "match": list(match),
        }
    ).to_csv(results / "reproduction.csv", index=False)
    (results / "tables" / "prevalence.md").write_text("")
    return results


def test_the_summary_counts_rows_cells_figures_and_flags(tmp_path):
    results = _results(tmp_path)
    summary = run_summary(results, ["w1", "w2"], elapsed=12.34)
    assert summary.lines() == [
        "2 waves: 15 rows read, 14 kept, 1 excluded",
        "  w1 9 kept, 1 excluded · w2 5 kept",
        "  excluded: duplicate id (1)",
        "published figures reproduced: 2 of 3; not reproduced: w2 c (overall All)",
        "cells: 5 in the prevalence table, 2 published, 3 suppressed",
        "  top reasons: sample size n < 30 (2), CI width >= 30 points (1), "
        "secondary suppression (1)",
        "review: 1 published cell carries a flag; w2: 3 respondents in a group smaller than 3",
        f"open first: {results / 'tables'}/",
        "elapsed: 12.3 s",
    ]


def test_the_summary_is_written_beside_the_results(tmp_path):
    results = _results(tmp_path, match=(True, True, True))
    assert summary_ready(results, ["w1", "w2"]) and not summary_ready(results, ["w3"])
    text = write_summary(results, ["w1", "w2"])
    assert (results / "summary.txt").read_text() == text
    assert "published figures reproduced: 3 of 3\n" in text
    assert "elapsed" not in text


def test_a_failed_run_ends_with_the_jobs_error_and_its_log(tmp_path):
    logs = tmp_path / "logs"
    (logs / "wave").mkdir(parents=True)
    old = logs / "wave" / "old.log"
    old.write_text("ERROR prevalence: an error of an earlier run\n")
    started = time.time() + 1
    failed = logs / "wave" / "w1.log"
    failed.write_text(
        "INFO prevalence: reading\n"
        "ERROR prevalence: file r.csv, column 'q1', line 6: code 5 is not in the codebook\n"
        "  fix: add the code to yes_codes\n"
    )
    import os

    os.utime(old, (started - 10, started - 10))
    os.utime(failed, (started + 1, started + 1))
    assert failure_message(logs, since=started) == (
        "the run stopped: file r.csv, column 'q1', line 6: code 5 is not in the codebook\n"
        "  fix: add the code to yes_codes\n"
        f"  log: {failed}"
    )
    assert failure_message(logs, since=started + 5) == ""


def test_the_summary_command(tmp_path, capsys):
    _results(tmp_path)
    for name in ("codebook.yaml", "responses.csv"):
        (tmp_path / name).write_bytes((FIXTURES / "tiny" / name).read_bytes())
    waves = "".join(
        f"  {w}: {{label: {w}, responses: responses.csv, codebook: codebook.yaml}}\n"
        for w in ("w1", "w2")
    )
    config = tmp_path / "config.yaml"
    config.write_text(f"results: results\nestimates: {{by: []}}\nwaves:\n{waves}")
    assert main(["summary", str(config), "--started", str(time.time() - 3)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("summary (results/summary.txt):\n2 waves: 15 rows read")
    assert out.endswith("s\n") and "elapsed: 3." in out
    with pytest.raises(SystemExit) as usage:
        main(["summary", str(config), "--started", "soon"])
    assert usage.value.code == 2
    capsys.readouterr()
    assert main(["summary", str(tmp_path / "missing.yaml")]) == 1
    assert "configuration file not found" in capsys.readouterr().err
    (tmp_path / "results" / "reproduction.csv").unlink()
    (tmp_path / "results" / "ingest" / "w2.json").unlink()
    assert main(["summary", str(config)]) == 1
    assert capsys.readouterr().err == (
        f"error: no finished run to summarize: {tmp_path / 'results' / 'ingest' / 'w2.json'}"
        " is missing\n"
    )
