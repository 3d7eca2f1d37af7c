"""`python -m prevalence verify`: a results folder against its manifest, without a run."""

from __future__ import annotations

import json
import os

from prevalence.publication.manifest import build_manifest, verify_results
from prevalence.workflow.cli import main


def results_folder(tmp_path):
    # outputs are named from the project folder (the current one), as the workflow names them
    files = {
        "results/tables/a.csv": "x\n1\n",
        "results/tables/b.md": "| b |\n",
        "results/c.json": "{}",
    }
    for name, text in files.items():
        os.makedirs(os.path.dirname(name), exist_ok=True)
        with open(name, "w") as handle:
            handle.write(text)
    manifest = build_manifest(inputs=[], outputs=list(files), config={"results": "results"})
    (tmp_path / "results" / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "results" / "logs").mkdir()
    (tmp_path / "results" / "logs" / "x.log").write_text("written after the manifest\n")
    return tmp_path / "results"


def test_an_untouched_folder_passes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    results = results_folder(tmp_path)
    assert verify_results(results) == (3, [])
    assert main(["verify", str(results)]) == 0
    assert "all 3 outputs match" in capsys.readouterr().out


def test_each_change_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    results = results_folder(tmp_path)
    (results / "tables" / "a.csv").write_text("x\n")
    (results / "tables" / "b.md").write_text("")
    (results / "c.json").unlink()
    (results / "new.txt").write_text("?")
    checked, problems = verify_results("results")
    assert checked == 3
    assert problems == [
        "removed: results/c.json",
        "changed (2 bytes, other content): results/tables/a.csv",
        "emptied (0 bytes): results/tables/b.md",
        "added (not in the manifest): results/new.txt",
    ]
    assert main(["verify", "results"]) == 1
    err = capsys.readouterr().err
    assert "4 of the results in results differ from manifest.json" in err and "fix:" in err


def test_a_damaged_manifest_is_one_message(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    results = results_folder(tmp_path)
    (results / "manifest.json").write_text("{not json")
    assert main(["verify", "results"]) == 1
    assert "the manifest is damaged" in capsys.readouterr().err
