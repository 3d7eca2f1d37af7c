import copy
from pathlib import Path

import pytest
import yaml

from prevalence.config import load_config, parse_config
from prevalence.errors import ConfigError

ROOT = Path(__file__).parent.parent


@pytest.fixture
def raw():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def test_project_config_is_valid(raw):
    config = parse_config(raw, root=ROOT)
    assert list(config.waves) == [
        "2016-global",
        "2018-europe",
        "2021-africa",
        "2025-asia-pacific",
        "2016-global-weighted",
        "2025-asia-pacific-weighted",
    ]
    assert str(config.waves["2016-global-weighted"].population) == "data/population/2016-global.csv"
    assert config.by[-1] == ("region", "role")
    assert config.ci_method == "wilson" and config.level == 0.95
    assert config.resolved()["estimates"]["by"][0] == ["region"]


def test_wave_design_overrides_the_global_one(raw):
    raw["design"] = {"weight": "w", "strata": "s"}
    raw["waves"]["2016-global"]["design"] = {"weight": "w2"}
    config = parse_config(raw, root=ROOT, check_files=False)
    assert config.waves["2016-global"].design == {"weight": "w2", "strata": "s"}
    assert config.waves["2018-europe"].design == {"weight": "w", "strata": "s"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["estimates"].update(ci_methd="wilson"), "did you mean 'ci_method'"),
        (lambda c: c["estimates"].update(ci_method="jeff"), "use one of: wald, wilson"),
        (lambda c: c["estimates"].update(level=1.5), "estimates.level"),
        (lambda c: c["estimates"].update(level=0), "estimates.level"),
        (lambda c: c.update(design={"lonely_psu": "drop"}), "design.lonely_psu"),
        (lambda c: c.update(design={"weigth": "w"}), "did you mean 'weight'"),
        (lambda c: c["waves"].update({"bad wave": c["waves"]["2016-global"]}), "bad wave"),
        (
            lambda c: c["waves"]["2016-global"].update(responses="../../etc/passwd"),
            "outside the project",
        ),
        (lambda c: c["waves"]["2016-global"].update(responses="data/raw/x.csv"), "not found"),
        (lambda c: c["estimates"].update(by=["region", "region"]), "listed twice"),
        (lambda c: c.pop("waves"), "'waves' is a required property"),
    ],
)
def test_bad_config_fails_naming_the_key(raw, change, message):
    raw = copy.deepcopy(raw)
    change(raw)
    with pytest.raises(ConfigError) as info:
        parse_config(raw, root=ROOT, source="config.yaml")
    assert message in str(info.value)
    assert "config.yaml" in str(info.value)


def test_two_waves_with_the_same_id(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "waves:\n  a: {responses: r.csv, codebook: c.yaml}\n"
        "  a: {responses: r2.csv, codebook: c.yaml}\nestimates: {}\n"
    )
    with pytest.raises(ConfigError, match="key 'a' appears twice"):
        load_config(path)
