"""A corpus of broken inputs, each with the one message it must give.

Every case starts from the tiny survey project (tests/fixtures/tiny), breaks one thing,
and runs ``python -m prevalence check`` — every validation of a run, writing nothing —
as a user would. The run must stop with exit status 1, one message naming the file, the
column or key, the row where there is one, and the fix; no traceback; no file written; and
the raw data byte-identical. A few cases also run the real workflow (Snakemake) to prove the
same holds there, with no partial file left in results/ or data/processed/.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import yaml
from workflow_project import make_project, snakemake

from prevalence.workflow.cli import main

DESIGN = {
    "weight": "weight",
    "strata": "stratum",
    "psu": "psu",
    "fpc": "fpc",
    "lonely_psu": "adjust",
}
RAW = Path("data/raw/tiny")


@dataclass(frozen=True)
class Case:
    id: str
    breaks: Callable[[Path], None]
    expect: tuple[str, ...]


def responses(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / RAW / "responses.csv", dtype=str, keep_default_na=False)


def edit_rows(change: Callable[[pd.DataFrame], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        frame = responses(folder)
        change(frame)
        frame.to_csv(folder / RAW / "responses.csv", index=False)

    return apply


def edit_yaml(name: str, change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / (RAW / "codebook.yaml" if name == "codebook" else "config.yaml")
        document = yaml.safe_load(path.read_text())
        change(document)
        path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))

    return apply


def with_design(**override) -> Callable[[Path], None]:
    return edit_yaml("config", lambda c: c.update(design={**DESIGN, **override}))


def both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        for step in steps:
            step(folder)

    return apply


def raw_bytes(data: bytes, name: str = "responses.csv") -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        (folder / RAW / name).write_bytes(data)
        if name != "responses.csv":
            edit_yaml("config", lambda c: c["waves"]["tiny"].update(responses=str(RAW / name)))(
                folder
            )

    return apply


def as_format(
    kind: str,
    damage: Callable[[bytes], bytes] | None = None,
    *,
    second_sheet: bool = False,
    duplicate: str | None = None,
    **codebook,
) -> Callable:
    def apply(folder: Path) -> None:
        frame = pd.read_csv(folder / RAW / "responses.csv")
        if duplicate is not None:  # the column again, with other answers
            frame.insert(len(frame.columns), duplicate, frame["q1"], allow_duplicates=True)
        target = folder / RAW / f"responses.{kind}"
        if kind == "xlsx":
            with pd.ExcelWriter(target) as writer:
                frame.to_excel(writer, index=False, sheet_name="responses")
                if second_sheet:
                    pd.DataFrame({"note": ["exported 2026"]}).to_excel(writer, sheet_name="notes")
        elif kind == "parquet":
            frame.to_parquet(target, index=False)
        else:
            numeric = frame.assign(role=frame["role"].map({"MP": 1, "staff": 2}))
            writer = pyreadstat.write_sav if kind == "sav" else pyreadstat.write_dta
            writer(numeric, str(target))
        if damage is not None:
            target.write_bytes(damage(target.read_bytes()))
        edit_yaml(
            "config", lambda c: c["waves"]["tiny"].update(responses=str(target.relative_to(folder)))
        )(folder)
        if codebook:
            edit_yaml("codebook", lambda c: c.update(codebook))(folder)

    return apply


def pa_parquet():
    import pyarrow.parquet

    return pyarrow.parquet


def pa_table(frame: pd.DataFrame, *, nested: str):
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    column = pa.array([[v] for v in frame[nested]])
    return table.set_column(table.schema.get_field_index(nested), nested, column)


def set_cell(column: str, row: int, value: str) -> Callable[[Path], None]:
    def change(frame: pd.DataFrame) -> None:
        frame.loc[row, column] = value

    return edit_rows(change)


def indicator(name: str, **fields) -> Callable[[Path], None]:
    return edit_yaml("codebook", lambda c: c["indicators"][name].update(fields))


def config_text(old: str, new: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / "config.yaml"
        path.write_text(path.read_text().replace(old, new, 1))

    return apply


CSV = "data/raw/tiny/responses.csv"
CODEBOOK = "data/raw/tiny/codebook.yaml"
CASES = [
    # --- the file itself
    Case(
        "semicolon-delimited",
        raw_bytes(b"resp_id;q1\nT1;1\n"),
        (CSV, "line 1", "separated by semicolons", "comma-separated"),
    ),
    Case(
        "latin-1-encoding",
        raw_bytes("resp_id,q1\nT1,é\n".encode("latin-1")),
        (CSV, "line 2", "not UTF-8", "CSV UTF-8"),
    ),
    Case(
        "utf-16-with-bom",
        raw_bytes("resp_id,q1\nT1,1\n".encode("utf-16")),
        (CSV, "not UTF-8", "fix:"),
    ),
    Case("empty-file", raw_bytes(b""), (CSV, "the file is empty", "fix:")),
    Case("blank-lines-only", raw_bytes(b"\n\n  \n"), (CSV, "the file is empty", "fix:")),
    Case("header-only", raw_bytes(b"resp_id,q1,q2\n"), (CSV, "header but no responses", "fix:")),
    Case(
        "ragged-rows",
        raw_bytes(b'resp_id,q1\nT1,1\nT2,"unclosed\n'),
        (CSV, "cannot be read as CSV", "fix:"),
    ),
    Case(
        "truncated-sav",
        as_format("sav", lambda b: b[:400]),
        ("responses.sav", "cannot be read as a SPSS file", "truncated"),
    ),
    Case(
        "truncated-dta",
        as_format("dta", lambda b: b[:300]),
        ("responses.dta", "cannot be read as a Stata file", "fix:"),
    ),
    Case(
        "damaged-xlsx",
        as_format("xlsx", lambda b: b[:1000]),
        ("responses.xlsx", "cannot be opened as an Excel workbook", "fix:"),
    ),
    Case(
        "damaged-parquet",
        as_format("parquet", lambda b: b[:200]),
        ("responses.parquet", "cannot be read as parquet", "fix:"),
    ),
    Case(
        "truncated-dta-at-the-end",
        as_format("dta", lambda b: b[:-200]),
        ("responses.dta", "cannot be read as a Stata file", "truncated"),
    ),
    Case(
        "parquet-data-damaged",
        as_format("parquet", lambda b: b[:3000] + bytes(2000) + b[5000:]),
        ("responses.parquet", "cannot be read as parquet", "damaged", "fix:"),
    ),
    Case(
        "parquet-nested-column",
        lambda f: (
            pa_parquet().write_table(
                pa_table(responses(f), nested="q2"), f / RAW / "responses.parquet"
            ),
            edit_yaml(
                "config",
                lambda c: c["waves"]["tiny"].update(responses=str(RAW / "responses.parquet")),
            )(f),
        ),
        ("responses.parquet", "'q2'", "nested values", "fix:"),
    ),
    Case(
        "xlsx-with-a-second-sheet",
        as_format("xlsx", second_sheet=True),
        ("responses.xlsx", "2 worksheets", "'responses', 'notes'", "sheet: responses"),
    ),
    Case(
        "wrong-sheet-name",
        as_format("xlsx", sheet="answers"),
        ("responses.xlsx", "no worksheet named 'answers'", "responses"),
    ),
    Case(
        "unsupported-type",
        raw_bytes(b"{}", "responses.json"),
        ("responses.json", "unsupported file type '.json'", ".csv, .xlsx"),
    ),
    Case(
        "missing-responses-file",
        lambda f: (f / RAW / "responses.csv").unlink(),
        ("responses", "file not found", "fix:"),
    ),
    # --- codes, ids and columns
    Case(
        "unlisted-code",
        set_cell("q2", 9, "6"),
        (CSV, "'q2'", "line 11", "code 6 is not in the codebook", "physical", "fix:"),
    ),
    Case(
        "text-in-code-column",
        set_cell("q1", 3, "yes"),
        (CSV, "'q1'", "line 5", "code yes is not in the codebook", "fix:"),
    ),
    Case(
        "duplicate-column-name",
        edit_rows(lambda f: f.insert(len(f.columns), "q2", f["q1"], allow_duplicates=True)),
        (CSV, "'q2'", "line 1", "names this column 2 times", "unique"),
    ),
    Case(
        "duplicate-column-name-xlsx",
        as_format("xlsx", duplicate="q3"),
        ("responses.xlsx", "'q3'", "row 1", "names this column 2 times", "unique"),
    ),
    Case(
        "missing-indicator-column",
        edit_rows(lambda f: f.pop("q3")),
        (CSV, "'q3'", "column not found", "indicators.sexual_harassment", "fix:"),
    ),
    Case(
        "domain-all-empty",
        edit_rows(lambda f: f.__setitem__("age_group", "")),
        (CSV, "'age_group'", "no value in any row", "fix:"),
    ),
    Case(
        "domain-code-without-label",
        set_cell("region", 4, "9"),
        (CSV, "'region'", "line 6", "value 9 of domain 'region' has no label", "fix:"),
    ),
    Case(
        "duplicate-respondent-id",
        set_cell("resp_id", 7, "T002"),
        (CSV, "'resp_id'", "line 9", "T002 appears on line 3, line 9", "fix:"),
    ),
    Case(
        "empty-respondent-id",
        set_cell("resp_id", 12, ""),
        (CSV, "'resp_id'", "line 14", "respondent id is empty", "fix:"),
    ),
    Case(
        "skip-logic-violation",
        both(set_cell("q4", 5, "2"), set_cell("q4a", 5, "1")),
        (CSV, "'q4a'", "line 7", "'q4'", "routing should have skipped it", "skip_violations"),
    ),
    Case(
        "undeclared-email-column",
        edit_rows(
            lambda f: f.__setitem__("contact", [f"r{i}@mail.example" for i in range(len(f))])
        ),
        (CSV, "'contact'", "line 2", "e-mail addresses", "drop:"),
    ),
    Case(
        "undeclared-names-column",
        edit_rows(
            lambda f: f.__setitem__(
                "interviewee",
                [
                    ["Ngozi García", "Irène Sørensen", "Aïcha Ndiaye", "Søren Ødegård"][i % 4]
                    + " "
                    + ["Núñez", "Öztürk", "Kowalczyk", "Nakamura"][i // 4 % 4]
                    for i in range(len(f))
                ],
            )
        ),
        (CSV, "'interviewee'", "line 2", "personal names", "drop:"),
    ),
    Case(
        "free-text-not-dropped",
        edit_yaml("codebook", lambda c: c.update(drop=["name"])),
        (CSV, "'comments'", "free text", "add 'comments' to `drop:`"),
    ),
    Case(
        "names-not-dropped",
        edit_yaml("codebook", lambda c: c.update(drop=["comments"])),
        (CSV, "'name'", "identifier", "add 'name' to `drop:`"),
    ),
    # --- the codebook
    Case(
        "yes-code-listed-twice",
        indicator("physical", yes_codes=[1, 1]),
        (CODEBOOK, "'q2'", "code 1 is listed twice in yes_codes", "exactly one meaning"),
    ),
    Case(
        "code-both-yes-and-no",
        indicator("physical", no_codes=[1, 2]),
        (CODEBOOK, "in both yes_codes and no_codes", "fix:"),
    ),
    Case(
        "bare-yes-key",
        indicator("physical", **{"yes": [1]}),
        (CODEBOOK, "unknown key 'yes'", "yes_codes"),
    ),
    Case(
        "denominator-unknown",
        indicator("online_hate_speech", denominator="online_abuse"),
        (CODEBOOK, "denominator names 'online_abuse'", "use one of"),
    ),
    Case(
        "denominator-cycle",
        indicator("online_gbv", denominator="online_hate_speech"),
        (CODEBOOK, "cycle", "online_gbv -> online_hate_speech -> online_gbv"),
    ),
    Case(
        "codebook-not-yaml",
        lambda f: (f / RAW / "codebook.yaml").write_text("indicators: [q1\n"),
        (CODEBOOK, "not valid YAML", "line"),
    ),
    Case(
        "missing-codebook",
        lambda f: (f / RAW / "codebook.yaml").unlink(),
        ("codebook", "file not found", "fix:"),
    ),
    # --- the survey design
    Case(
        "weight-zero",
        both(with_design(), set_cell("weight", 4, "0")),
        (CSV, "'weight'", "line 6", "weight", "positive"),
    ),
    Case(
        "weight-negative",
        both(with_design(), set_cell("weight", 5, "-2.5")),
        (CSV, "'weight'", "line 7", "negative", "fix:"),
    ),
    Case(
        "weight-missing",
        both(with_design(), set_cell("weight", 6, "")),
        (CSV, "'weight'", "line 8", "fix:"),
    ),
    Case(
        "weight-text",
        both(with_design(), set_cell("weight", 7, "heavy")),
        (CSV, "'weight'", "heavy", "fix:"),
    ),
    Case(
        "psu-in-two-strata",
        both(with_design(), set_cell("psu", 0, "5")),
        (CSV, "'psu'", "5", "nest: true"),
    ),
    Case(
        "lonely-psu-under-fail",
        with_design(lonely_psu="fail"),
        (CSV, "'stratum'", "only one PSU", "lonely_psu"),
    ),
    Case(
        "fpc-smaller-than-sample",
        both(
            with_design(),
            edit_rows(lambda f: f.__setitem__("fpc", f["fpc"].where(f["stratum"] != "2", "3"))),
        ),
        (CSV, "'fpc'", "fix:"),
    ),
    Case(
        "design-column-missing",
        with_design(weight="wt"),
        (CSV, "'wt'", "column not found", "design"),
    ),
    Case(
        "replicate-columns-missing",
        edit_yaml(
            "config",
            lambda c: c.update(
                design={"weight": "weight", "replicates": {"prefix": "repw_", "type": "JK1"}}
            ),
        ),
        ("repw_", "fix:"),
    ),
    Case(
        "replicate-rscales-unequal",
        both(
            edit_rows(
                lambda f: f.assign(**{f"repw_{i}": f["weight"] for i in range(1, 4)}).pipe(
                    lambda g: [f.__setitem__(c, g[c]) for c in g.columns if c.startswith("repw_")]
                )
            ),
            edit_yaml(
                "config",
                lambda c: c.update(
                    design={
                        "weight": "weight",
                        "replicates": {"prefix": "repw_", "type": "JK1", "rscales": [1, 1]},
                    }
                ),
            ),
        ),
        ("rscales", "3 replicate", "fix:"),
    ),
    # --- the configuration
    Case(
        "config-key-misspelled",
        config_text("ci_method", "ci_methd"),
        ("config.yaml", "unknown key 'ci_methd'", "did you mean 'ci_method'"),
    ),
    Case(
        "level-1.5",
        edit_yaml("config", lambda c: c["estimates"].update(level=1.5)),
        ("config.yaml", "estimates.level", "allowed range"),
    ),
    Case(
        "unknown-ci-method",
        edit_yaml("config", lambda c: c["estimates"].update(ci_method="jeff")),
        ("config.yaml", "estimates.ci_method", "use one of: wald, wilson"),
    ),
    Case(
        "unknown-lonely-policy",
        with_design(lonely_psu="drop"),
        ("config.yaml", "design.lonely_psu", "use one of: fail, remove"),
    ),
    Case(
        "unknown-replicate-type",
        edit_yaml(
            "config",
            lambda c: c.update(design={"replicates": {"prefix": "w", "type": "jackknife"}}),
        ),
        ("config.yaml", "design.replicates.type", "JK1"),
    ),
    Case(
        "unknown-domain-in-by",
        edit_yaml("config", lambda c: c["estimates"].update(by=["country"])),
        ("codebook.yaml", "'country'", "domains:"),
    ),
    Case(
        "two-waves-same-id",
        config_text(
            "waves:\n  tiny:",
            "waves:\n  tiny:\n    responses: x.csv\n    codebook: y.yaml\n  tiny:",
        ),
        ("config.yaml", "key 'tiny' appears twice", "line"),
    ),
    Case(
        "path-outside-project",
        edit_yaml("config", lambda c: c["waves"]["tiny"].update(responses="../../etc/passwd")),
        ("config.yaml", "outside the project", "fix:"),
    ),
    Case(
        "privacy-refuse",
        edit_yaml("config", lambda c: c.update(privacy={"k": 5, "policy": "refuse"})),
        (CSV, "fewer than 5 respondents", "coarsen"),
    ),
    Case(
        "publication-threshold-without-custom",
        edit_yaml("config", lambda c: c.update(publication={"standard": "nchs", "min_n": 10})),
        ("config.yaml", "min_n", "custom"),
    ),
    Case(
        "config-key-given-twice",
        config_text("results: results", "results: results\nresults: output"),
        ("config.yaml", "key 'results' appears twice", "line 1"),
    ),
    Case(
        "unknown-domain-in-comparison",
        edit_yaml("config", lambda c: c["comparisons"]["within"][0].update(domain="party")),
        (CODEBOOK, "comparisons.within[0].domain", "'party'", "domains:"),
    ),
    Case(
        "unknown-value-in-pair",
        edit_yaml("config", lambda c: c["comparisons"]["within"][0].update(pairs=[["MP", "staf"]])),
        ("config.yaml", "comparisons.within[0].pairs[0]", "'staf'", "use one of: MP, staff"),
    ),
    Case(
        "unknown-labelled-value-in-pair",
        edit_yaml(
            "config",
            lambda c: c["comparisons"]["within"].append(
                {"domain": "region", "pairs": [["North", "Nord"]]}
            ),
        ),
        ("config.yaml", "comparisons.within[2].pairs[0]", "'Nord'", "use one of: East, Islands"),
    ),
    Case(
        "unknown-indicator-in-comparison",
        edit_yaml(
            "config", lambda c: c["comparisons"]["within"][0].update(indicators=["stalking"])
        ),
        ("config.yaml", "comparisons.within[0].indicators[0]", "'stalking'", "psychological"),
    ),
    Case(
        "unknown-domain-in-association",
        edit_yaml("config", lambda c: c["comparisons"].update(association=["party"])),
        ("config.yaml", "comparisons.association[0]", "'party'", "fix:"),
    ),
    Case(
        "between-waves-cell-not-estimated",
        edit_yaml(
            "config",
            lambda c: c.update(
                waves={**c["waves"], "again": c["waves"]["tiny"]},
                comparisons={
                    "between_waves": [
                        {"waves": ["tiny", "again"], "domain": {"domain": "age_group", "value": 1}}
                    ]
                },
            ),
        ),
        ("config.yaml", "between_waves[0].domain", "'age_group' is not estimated", "estimates.by"),
    ),
    Case(
        "target-unknown-indicator",
        lambda f: (f / "data/published/targets.yaml").write_text(
            "- {wave: tiny, indicator: stalking, value: 10, decimals: 0}\n"
        ),
        ("targets.yaml", "'stalking' is not an indicator of wave 'tiny'", "fix:"),
    ),
    Case(
        "target-wrong-denominator",
        lambda f: (f / "data/published/targets.yaml").write_text(
            "- {wave: tiny, indicator: online_hate_speech, value: 40, decimals: 0}\n"
        ),
        ("targets.yaml", "denominator 'all'", "denominator: online_gbv"),
    ),
    Case(
        "coverage-grid-reversed",
        edit_yaml("config", lambda c: c["coverage"].update(p="0.9:0.1:0.1")),
        ("config.yaml", "coverage.p", "step > 0", "fix:"),
    ),
]


def tree_hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((folder / "data" / "raw").rglob("*"))
        if p.is_file()
    }


def written(folder: Path) -> list[str]:
    """Files written from the data (logs and the data-independent coverage study aside)."""
    places = [folder / "results", folder / "data" / "processed"]
    return [
        str(p.relative_to(folder))
        for place in places
        for p in place.rglob("*")
        if p.is_file() and "logs" not in p.parts and "coverage" not in p.name
    ]


def test_the_command_line_exits_1_with_the_message_and_no_traceback(tmp_path):
    folder = make_project(tmp_path)
    next(c for c in CASES if c.id == "unlisted-code").breaks(folder)
    run = subprocess.run(
        [sys.executable, "-m", "prevalence", "check", "config.yaml"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "code 6 is not in the codebook" in run.stderr and "Traceback" not in run.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "prevalence", "check"],
        cwd=make_project(Path(tempfile.mkdtemp(dir=tmp_path))),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0 and "all checks passed" in ok.stdout


def test_the_corpus_is_large_and_each_case_distinct():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_broken_input_gives_its_message(case, tmp_path, capsys):
    folder = make_project(tmp_path)
    case.breaks(folder)
    before = tree_hashes(folder)
    status = main(["check", str(folder / "config.yaml")])  # an uncaught exception fails here
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert status == 1, output
    assert output.count("error:") == 1, output
    for fragment in case.expect:
        assert fragment in output, (fragment, output)
    for personal in ("García", "Sørensen", "@mail.example"):  # a message never echoes a value
        assert personal not in output, output
    assert tree_hashes(folder) == before
    assert written(folder) == []
    assert not [p for p in folder.rglob("*.tmp")]  # no half-written file anywhere


WORKFLOW_CASES = [
    "unlisted-code",
    "config-key-given-twice",
    "two-waves-same-id",
    "unknown-domain-in-by",
    "unknown-domain-in-comparison",
    "unknown-labelled-value-in-pair",
    "duplicate-column-name",
    "xlsx-with-a-second-sheet",
    "lonely-psu-under-fail",
    "privacy-refuse",
    "truncated-sav",
    "weight-negative",
    "level-1.5",
    "denominator-cycle",
]


@pytest.mark.e2e
@pytest.mark.parametrize("name", WORKFLOW_CASES)
def test_the_workflow_stops_the_same_way(name, tmp_path):
    case = next(c for c in CASES if c.id == name)
    folder = make_project(tmp_path)
    case.breaks(folder)
    before = tree_hashes(folder)
    run = snakemake(folder)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "Traceback" not in output, output[-3000:]
    for fragment in case.expect:
        assert fragment in output, (fragment, output[-3000:])
    assert tree_hashes(folder) == before
    assert written(folder) == []
    assert not [p for p in folder.rglob("*.tmp")]  # no half-written file anywhere
