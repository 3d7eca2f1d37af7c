"""A categorical question through the workflow: its categories in the published table."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import yaml
from chart_tables import check_image
from workflow_project import make_project, snakemake

EXTS = ("png", "svg", "pdf", "csv")

PERPETRATOR = {
    "type": "categorical",
    "label": "Perpetrator",
    "column": "q5",
    "denominator": "online_gbv",
    "finding": "said {category} was behind it",  # the key finding names the category
    "categories": {
        "colleague": {"codes": [1], "label": "A fellow parliamentarian"},
        "constituent": {"codes": [2], "label": "A constituent"},
        "stranger_online": {"codes": [3, 4], "label": "A stranger online"},
    },
}


def test_categorical_question_gives_one_published_row_per_category(tmp_path):
    folder = make_project(tmp_path)
    raw = folder / "data" / "raw" / "tiny"
    responses = pd.read_csv(raw / "responses.csv")
    # asked of those who experienced online violence (q4 = 1), else not applicable
    answers = np.arange(len(responses)) % 5 + 1  # 1..4 categories, 5 -> refused (9)
    answers = np.where(answers == 5, 9, answers)
    responses["q5"] = np.where(responses["q4"] == 1, answers, 7)
    responses.to_csv(raw / "responses.csv", index=False)
    codebook = yaml.safe_load((raw / "codebook.yaml").read_text())
    codebook["indicators"]["perpetrator"] = PERPETRATOR
    (raw / "codebook.yaml").write_text(yaml.safe_dump(codebook, sort_keys=False))

    figures = folder / "results" / "figures" / "tiny"
    chart = figures / "categorical_perpetrator"
    mps = figures / "role-MP" / "categorical_perpetrator"
    files = [f"{stem.relative_to(folder)}.{ext}" for stem in (chart, mps) for ext in EXTS]
    run = snakemake(
        folder, "results/tables/prevalence.csv", "results/tables/key_findings.md", *files
    )
    assert run.returncode == 0, run.stderr[-3000:]
    table = pd.read_csv(folder / "results" / "tables" / "prevalence.csv")
    rows = table[table["indicator"].str.startswith("perpetrator=")]
    overall = rows[rows["domain"] == "overall"]
    assert overall["indicator"].tolist() == [
        "perpetrator=colleague",
        "perpetrator=constituent",
        "perpetrator=stranger_online",
    ]
    assert set(rows["denominator"]) == {"online_gbv"}
    # the valid answers: q4 = 1 and q5 not refused (counted by pandas above, not by us)
    valid = int(((responses["q4"] == 1) & (responses["q5"] != 9)).sum())
    assert set(overall["n"]) == {valid}
    assert overall["cases"].sum() == valid
    assert abs(overall["estimate"].sum() - 1.0) < 1e-12
    # in every domain value a question shows all its categories or hides at least two
    hidden = rows.groupby(["domain", "domain_value"])["suppressed"].sum()
    assert not (hidden == 1).any()
    findings = (folder / "results" / "tables" / "key_findings.md").read_text()
    n_parent = int((responses["q4"] == 1).sum())
    strangers = int(((responses["q4"] == 1) & responses["q5"].isin([3, 4])).sum())
    sentence = (
        f"Of the {n_parent} respondents who reported online gender-based violence, {valid} "
        f"answered: {round(100 * strangers / valid)}% \\(95% CI [0-9]+\u2013[0-9]+%\\) said a "
        "stranger online was behind it."
    )
    assert re.search(sentence, findings), findings[:2000]

    # the wave's chart step draws the question as stacked bars, its data the published rows
    check_image(chart.with_suffix(".png"))
    data = pd.read_csv(chart.with_suffix(".csv"), keep_default_na=False, na_values=[""])
    published = rows[rows["domain"].isin(["overall", "region", "role"])]
    assert len(data) == len(published)
    assert set(zip(data["domain"], data["domain_value"], data["indicator"], strict=True)) == set(
        zip(published["domain"], published["domain_value"], published["indicator"], strict=True)
    )
    assert data["label"].tolist()[:3] == ["A fellow parliamentarian", "A constituent",
                                          "A stranger online"]  # fmt: skip
    merged = data.merge(published, on=["domain", "domain_value", "indicator"])
    shown = ~merged["suppressed_y"].astype(bool)
    assert np.allclose(merged.loc[shown, "estimate_x"], merged.loc[shown, "estimate_y"])
    assert merged.loc[~shown, "estimate_x"].isna().all()
    # and for the women MPs alone: their cell is the chart's first bar
    mp_data = pd.read_csv(mps.with_suffix(".csv"), keep_default_na=False, na_values=[""])
    mp_rows = rows[(rows["domain"] == "role") & (rows["domain_value"] == "MP")]
    assert mp_data["domain"].iloc[0] == "overall"
    first = mp_data[mp_data["domain"] == "overall"].set_index("indicator")["estimate"]
    expected = mp_rows.set_index("indicator")["estimate"]
    assert first.index.tolist() == expected.index.tolist()
    assert np.allclose(first, expected, equal_nan=True)
