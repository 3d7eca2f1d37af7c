"""The gate before any job (prevalence.workflow.validate): the same for the workflow and for `check`."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from workflow_project import make_project

from prevalence.errors import ConfigError
from prevalence.publication.disclosure import disclose
from prevalence.workflow.cli import check
from prevalence.workflow.validate import validate_run


def write_config(folder, change):
    path = folder / "config.yaml"
    config = yaml.safe_load(path.read_text())
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_the_tiny_project_passes(tmp_path):
    config, books = validate_run(make_project(tmp_path) / "config.yaml")
    assert list(books) == ["tiny"] and "region" in books["tiny"].domains
    assert config.by[0] == ("region",)


def test_standard_none_passes_and_its_resolved_form_is_accepted_by_disclose(tmp_path):
    path = write_config(
        make_project(tmp_path), lambda c: c.update(publication={"standard": "none"})
    )
    config, _ = validate_run(path)
    # The jobs receive the resolved block (the thresholds the standard uses: none here), and
    # disclose reads it again: it must not be refused.
    assert config.publication["standard"] == "none" and "min_n" not in config.publication
    table = pd.DataFrame(
        {
            "wave": "w",
            "domain": "overall",
            "domain_value": "All",
            "indicator": "a",
            "denominator": "all",
            "n": [12],
            "cases": [6],
            "estimate": [0.5],
            "se": [0.144],
            "ci_low": [0.25],
            "ci_high": [0.75],
            "ci_method": "wilson",
            "level": 0.95,
            "deff": [float("nan")],
            "n_eff": [12.0],
            "df": [float("inf")],
            "suppressed": False,
            "flag": "",
        }
    )
    published = disclose(table, config.publication)
    assert not published["suppressed"].any()  # n = 12 < 30: NCHS would suppress it
    assert disclose(table, None)["suppressed"].all()
    assert check(path)[0].startswith("tiny: 240 rows read")  # and `check` goes through


@pytest.mark.parametrize(
    "publication",
    [{"standard": "none", "min_n": 10}, {"standard": "nchs", "min_n": 10}],
)
def test_what_the_user_wrote_is_still_checked(tmp_path, publication):
    path = write_config(make_project(tmp_path), lambda c: c.update(publication=publication))
    with pytest.raises(ConfigError, match="min_n"):
        validate_run(path)


def test_a_key_given_twice_is_refused_even_with_the_workflows_own_reading(tmp_path):
    folder = make_project(tmp_path)
    path = folder / "config.yaml"
    text = path.read_text()
    path.write_text(text + "results: elsewhere\n")
    # Snakemake's reader keeps the last key: the mapping it passes looks fine.
    loaded = yaml.safe_load(path.read_text())
    assert loaded["results"] == "elsewhere"
    with pytest.raises(ConfigError, match="key 'results' appears twice"):
        validate_run(path, config=loaded)


def test_the_workflows_config_overrides_are_what_is_validated(tmp_path):
    folder = make_project(tmp_path)
    config = yaml.safe_load((folder / "config.yaml").read_text())
    config["estimates"]["by"] = ["country"]
    with pytest.raises(ConfigError, match="'country'"):
        validate_run(folder / "config.yaml", config=config)


def test_a_domain_missing_from_one_wave_names_that_wave(tmp_path):
    folder = make_project(tmp_path)
    book = folder / "data/raw/tiny/codebook.yaml"
    other = folder / "data/raw/tiny/codebook2.yaml"
    document = yaml.safe_load(book.read_text())
    del document["domains"]["age_group"]
    other.write_text(yaml.safe_dump(document, sort_keys=False))

    def two_waves(c):
        c["waves"]["second"] = {**c["waves"]["tiny"], "codebook": "data/raw/tiny/codebook2.yaml"}
        c["estimates"]["by"] = ["region", "age_group"]

    path = write_config(folder, two_waves)
    with pytest.raises(ConfigError, match="wave 'second'") as error:
        validate_run(path)
    assert error.value.file.endswith("codebook2.yaml")
