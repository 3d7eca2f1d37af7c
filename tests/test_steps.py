"""prevalence.workflow.steps: each workflow step on tiny inputs, without Snakemake."""

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from prevalence.contract import COLUMNS
from prevalence.errors import PrevalenceError
from prevalence.workflow.steps import (
    check_reproduction_step,
    disk_full,
    disk_full_message,
    manifest_step,
    publish_step,
    published_log,
    read_table,
    wave_step,
)


def _wave(tmp_path, wave_files, comparisons=None):
    """wave_step on the ten respondents of conftest; returns the ``out`` mapping."""
    responses, codebook = wave_files
    out = {
        name: tmp_path / "w" / name
        for name in ("data", "log", "published_log", "table", "published")
    }
    if comparisons is not None:
        out.update({n: tmp_path / "w" / n for n in ("within", "association", "domain_values")})
    wave_step(
        responses,
        codebook,
        wave="w1",
        design={},
        by=[["region"]],
        ci_method="wilson",
        level=0.95,
        comparisons=comparisons,
        out=out,
    )
    return out


def test_wave_step_writes_the_harmonized_wave_its_log_and_its_tables(tmp_path, wave_files):
    out = _wave(tmp_path, wave_files)
    frame = pd.read_parquet(out["data"])
    # identifiers and free text never leave ingest
    assert not {"resp_id", "name", "comments"} & set(frame.columns)
    log = json.loads(out["log"].read_text())
    assert log["rows"]["read"] == 10 and log["rows"]["kept"] == 10
    table = read_table(out["table"])
    assert list(table.columns) == COLUMNS
    # overall: psychological is yes for 5 of the 8 valid answers (codes 8 and 9 are missing)
    overall = table[(table.domain == "overall") & (table.indicator == "psychological")]
    assert overall[["n", "cases"]].values.tolist() == [[8, 5]]
    assert set(table.domain) == {"overall", "region"}
    assert read_table(out["published"])["flag"].map(type).eq(str).all()


def test_publish_step_writes_the_published_table_of_all_waves(tmp_path, wave_files):
    wave = _wave(tmp_path, wave_files)
    out = {"table": tmp_path / "prevalence.csv", "tables": tmp_path / "tables"}
    publish_step(
        {"w1": {"codebook": wave_files[1], "table": wave["table"], "published": wave["published"]}},
        wave_labels={"w1": "Wave one"},
        domains=["region"],
        style={},
        out=out,
    )
    published = read_table(out["table"])
    assert published.equals(read_table(wave["published"]))
    assert {p.suffix for p in out["tables"].iterdir()} >= {".xlsx", ".md", ".tex", ".html"}


def test_the_comparison_steps_write_differences_and_tests(tmp_path, wave_files):
    from prevalence.workflow.steps import association_step, contrasts_step

    comparisons = {"within": [{"domain": "region", "against": "others"}]}
    wave = _wave(tmp_path, wave_files, comparisons)
    waves = {"w1": {"data": wave["data"], "codebook": wave_files[1], "design": {}}}
    contrasts = contrasts_step(
        wave["published"], waves, comparisons=comparisons, out=tmp_path / "contrasts.csv"
    )
    # each of the three regions against the rest, for each of the three indicators
    assert len(contrasts) == 3 * 3
    assert pd.read_csv(tmp_path / "contrasts.csv").shape == contrasts.shape
    tests = association_step(
        wave["published"], waves, comparisons=comparisons, out=tmp_path / "association.csv"
    )
    assert set(tests["domain"]) == {"region"} and tests["p_adjusted"].notna().any()


def test_published_log_counts_small_groups_instead_of_listing_them():
    report = {"rows": {"read": 3}, "k_anonymity": {"k": 3, "small_groups": [{"a": 1}, {"a": 2}]}}
    assert published_log(report)["k_anonymity"]["small_groups"] == 2
    assert report["k_anonymity"]["small_groups"] == [{"a": 1}, {"a": 2}]  # not changed


def test_check_reproduction_step_passes_or_names_the_mismatches(tmp_path, caplog):
    path = tmp_path / "reproduction.csv"
    pd.DataFrame({"match": [True, True]}).to_csv(path, index=False)
    with caplog.at_level(logging.INFO):
        check_reproduction_step(path, out=tmp_path / "ok.txt")
    assert (tmp_path / "ok.txt").read_text() == "all 2 published figures reproduce\n"
    row = {"wave": "w", "indicator": "online", "domain": "overall", "domain_value": "All"}
    row.update(denominator="all", published=60.0, decimals=0, computed=50.0, rounded=50.0)
    pd.DataFrame([{**row, "match": True}, {**row, "match": False, "n": 10, "cases": 5}]).to_csv(
        path, index=False
    )
    with pytest.raises(PrevalenceError, match="1 of 2 published figures do not reproduce"):
        check_reproduction_step(path, out=tmp_path / "ok2.txt")
    assert not (tmp_path / "ok2.txt").exists()


def test_manifest_step_writes_the_hashes_of_inputs_and_outputs(tmp_path):
    (tmp_path / "in.csv").write_text("a\n1\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "t.csv").write_text("b\n2\n")
    manifest_step(
        inputs=[tmp_path / "in.csv"],
        outputs=[tmp_path / "out"],
        config={"results": "results"},
        out=tmp_path / "manifest.json",
    )
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    # sha256 of "a\n1\n", as `printf 'a\n1\n' | sha256sum` gives it
    assert manifest["inputs"] == {
        str(tmp_path / "in.csv"): "309b0e45a73d3fc5325e2b6ed0a01ef8b9cde6b05a5633c1f893f970d52bfddc"
    }
    assert list(manifest["outputs"]) == [str(tmp_path / "out" / "t.csv")]


def test_a_full_disk_is_recognised_and_explained():
    error = OSError(28, "No space left on device", "results/x.csv")
    assert disk_full(error) and not disk_full(OSError(2, "No such file"))
    assert "while writing results/x.csv" in disk_full_message(error)


def test_files_by_wave_pairs_the_rule_inputs_with_their_waves():
    from prevalence.workflow.steps import files_by_wave

    files = {"codebook": ["a.yaml", "b.yaml"], "table": ["a.csv", "b.csv"]}
    assert files_by_wave(["w1", "w2"], files) == {
        "w1": {"codebook": "a.yaml", "table": "a.csv"},
        "w2": {"codebook": "b.yaml", "table": "b.csv"},
    }
    with pytest.raises(PrevalenceError, match="1 codebook file"):
        files_by_wave(["w1", "w2"], {"codebook": ["a.yaml"]})


def test_the_steps_command_answers_no_command_or_an_unknown_one_with_its_usage(capsys):
    from prevalence.workflow.steps import main

    assert main([]) == 2
    assert main(["nothing"]) == 2
    usage = capsys.readouterr().err
    assert usage.count("usage: python -m prevalence.workflow.steps {coverage}") == 2


def test_a_full_disk_is_recognised_behind_the_error_raised_while_handling_it():
    import errno

    from prevalence.workflow.steps import disk_full

    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise AttributeError("'Stream' object has no attribute 'pos'")  # noqa: B904
    except AttributeError as error:
        assert disk_full(error)
    assert not disk_full(ValueError("a bad value"))


def test_the_phases_of_a_step_are_one_log_line_the_workflow_benchmark_reads(monkeypatch):
    import importlib
    import sys
    import time

    from prevalence.workflow.steps import Phases

    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "benchmarks"))
    bench = importlib.import_module("bench_workflow")
    phases = Phases()
    with phases("read"):
        time.sleep(0.02)
    with phases("validate and harmonize"):
        pass
    with phases("read"):  # a phase entered again adds up
        time.sleep(0.02)
    line = phases.line()
    assert line.startswith("phases (wall s / CPU s): read ")
    parsed = bench.phases(f"INFO wave x: {line}\nINFO wave x: 1.00 s, CPU 0.90 s\n")["phases"]
    assert list(parsed) == ["read", "validate and harmonize"]
    assert parsed["read"][0] >= 0.04
    assert parsed["read"][0] == float(f"{phases.seconds['read'][0]:.2f}")
    assert bench._ingest_seconds(
        {"jobs": [{"rule": "wave", "seconds": 9.0, "phases": parsed}]}
    ) == (sum(wall for wall, _ in parsed.values()))
    sys.modules.pop("bench_workflow", None)
