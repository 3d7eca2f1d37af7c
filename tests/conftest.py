"""Shared fixtures: a small codebook and responses built in memory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow: a long workflow run that checks what rarely breaks (codebook drafts, a second run "
        "elsewhere); make test-slow, which CI runs after make test",
    )


CODEBOOK = {
    "wave": "test",
    "respondent_id": "resp_id",
    "drop": ["name", "comments"],
    "domains": {
        "region": {"column": "region"},
        "role": {"column": "role", "labels": {1: "MP", 2: "staff"}},
    },
    "defaults": {"yes_codes": [1], "no_codes": [2], "missing_codes": [8, 9], "skip_codes": [7]},
    "indicators": {
        "psychological": {"label": "Psychological violence", "column": "q1"},
        "online": {"label": "Online violence", "column": "q2"},
        "doxing": {"label": "Doxing", "column": "q2a", "denominator": "online"},
    },
}


def make_responses() -> pd.DataFrame:
    """Ten respondents; codes chosen so that every count is known by hand."""
    return pd.DataFrame(
        {
            "resp_id": [f"R{i:02d}" for i in range(1, 11)],
            "name": [f"Person {i}" for i in range(1, 11)],
            "comments": ["text"] * 10,
            "region": [
                "North",
                "North",
                "North",
                "South",
                "South",
                "South",
                "South",
                "East",
                "East",
                "East",
            ],
            "role": [1, 1, 2, 1, 2, 2, 1, 1, 2, 1],
            "q1": [1, 1, 2, 8, 1, 2, 9, 1, 1, 2],
            "q2": [1, 2, 1, 1, 2, 1, 2, 8, 1, 2],
            "q2a": [1, 7, 2, 1, 7, 9, 7, 7, 1, 7],
        }
    )


@pytest.fixture
def codebook_dict() -> dict:
    return yaml.safe_load(yaml.safe_dump(CODEBOOK, sort_keys=False))


@pytest.fixture
def responses_frame() -> pd.DataFrame:
    return make_responses()


@pytest.fixture
def wave_files(tmp_path, codebook_dict, responses_frame):
    """A csv wave on disk: (responses path, codebook path)."""
    responses = tmp_path / "responses.csv"
    responses_frame.to_csv(responses, index=False)
    codebook = tmp_path / "codebook.yaml"
    codebook.write_text(yaml.safe_dump(codebook_dict, sort_keys=False))
    return responses, codebook
