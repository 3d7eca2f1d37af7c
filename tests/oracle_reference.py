"""The R `survey` 4.1-1 oracle in tests/fixtures/oracle, mapped to `design:` specs.

Imported explicitly by test_design.py and test_variance.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ORACLE = Path(__file__).resolve().parent / "fixtures" / "oracle"
DATA = ORACLE / "data"
INDICATORS = ("sch_wide", "comp_imp", "both", "awards", "yr_rnd", "avg_ed_gt3")
STYPES = ("E", "H", "M")
LONELY_POLICIES_IN_ORACLE = ("remove", "adjust", "average", "certainty", "fail")
KEY = ["dataset", "design", "lonely_psu", "domain", "domain_value", "indicator", "na_handling"]

# Taylor designs: R call -> design spec (see ORACLE_README.md, "Designs")
TAYLOR_SPECS: dict[str, tuple[str, dict[str, Any]]] = {
    "srs": ("apisrs", {"fpc": "fpc"}),
    "strat": ("apistrat", {"strata": "stype", "weight": "pw", "fpc": "fpc"}),
    "clus1": ("apiclus1", {"psu": "dnum", "weight": "pw", "fpc": "fpc"}),
    "clus2": ("apiclus2", {"psu": ["dnum", "snum"], "fpc": ["fpc1", "fpc2"]}),
    "strat_paired": ("apistrat_paired", {"strata": "vstrat", "psu": "vpsu_id", "weight": "pw"}),
    "strat_lonely": ("apistrat_lonely", {"strata": "stype", "weight": "pw", "fpc": "fpc"}),
    "clus2_lonely": (
        "apiclus2_lonely",
        {"strata": "lstrat", "psu": ["dnum", "snum"], "fpc": ["fpc1_l", "fpc2"]},
    ),
}
UNWEIGHTED_DATASETS = ("apisrs", "apistrat", "apiclus1", "apiclus2")
REPLICATE_DESIGNS = (
    "clus1_jk1",
    "clus1_jk1_mse",
    "strat_boot",
    "strat_boot_mse",
    "strat_paired_brr",
    "strat_paired_brr_mse",
    "strat_paired_fay",
)
LONELY_STRATUM = {"strat_lonely": ("stype", "H"), "clus2_lonely": ("lstrat", "S3")}


@dataclass(frozen=True)
class OracleCase:
    """One design of the oracle applied to one data set under one lonely-PSU option."""

    design: str
    dataset: str
    lonely_psu: str  # as in reference.csv: "none" for designs without lonely strata
    spec: dict[str, Any]
    data_file: str

    @property
    def id(self) -> str:
        parts = [self.design, self.dataset]
        if self.lonely_psu != "none":
            parts.append(self.lonely_psu)
        return "-".join(parts)

    def frame(self) -> pd.DataFrame:
        return read_data(self.data_file)


@cache
def designs_json() -> dict[str, Any]:
    return json.loads((ORACLE / "designs.json").read_text())


@cache
def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name)


def read_data(name: str) -> pd.DataFrame:
    return _read(name).copy()


def replicate_spec(design: str) -> dict[str, Any]:
    """`design:` block for a replicate design, from designs.json."""
    info = designs_json()[design]
    return {
        "weight": "pw",
        "replicates": {
            "prefix": "repw_",
            "type": info["replicate_type"],
            "scale": info["scale"],
            "rscales": info["rscales"],
            "mse": info["mse"],
            "combined_weights": info["combined_weights"],
        },
    }


def oracle_cases() -> list[OracleCase]:
    """Every (design, data set, lonely option) of reference.csv."""
    cases = []
    for design, (dataset, spec) in TAYLOR_SPECS.items():
        if design in LONELY_STRATUM:
            for policy in LONELY_POLICIES_IN_ORACLE:
                cases.append(
                    OracleCase(
                        design, dataset, policy, {**spec, "lonely_psu": policy}, f"{dataset}.csv"
                    )
                )
        else:
            cases.append(OracleCase(design, dataset, "none", spec, f"{dataset}.csv"))
    for dataset in UNWEIGHTED_DATASETS:
        cases.append(OracleCase("unwt", dataset, "none", {}, f"{dataset}.csv"))
    for design in REPLICATE_DESIGNS:
        info = designs_json()[design]
        cases.append(
            OracleCase(
                design,
                info["dataset"],
                "none",
                replicate_spec(design),
                Path(info["repweights_file"]).name,
            )
        )
    return cases


@cache
def _reference() -> pd.DataFrame:
    ref = pd.read_csv(ORACLE / "reference.csv", keep_default_na=True)
    ref["domain_value"] = ref["domain_value"].astype(str)
    ref["note"] = ref["note"].fillna("").astype(str)
    ref = ref[ref["na_handling"].isin(["none", "subset"])]
    # estimate, se, df, deff, n, cases do not depend on ci_method / level; svymean's se is
    # reported on every row, but rows of failed svyciprop calls carry NA, so keep "mean"
    ref = ref[(ref["ci_method"] == "mean") & (ref["level"] == 0.95)]
    assert not ref.duplicated(KEY).any()
    return ref.reset_index(drop=True)


def reference() -> pd.DataFrame:
    """reference.csv rows compared here: na_handling none/subset, one row per KEY."""
    return _reference().copy()


def reference_rows(case: OracleCase) -> pd.DataFrame:
    ref = _reference()
    sel = (
        (ref["design"] == case.design)
        & (ref["dataset"] == case.dataset)
        & (ref["lonely_psu"] == case.lonely_psu)
    )
    return ref[sel].copy()


def stype_codes(frame: pd.DataFrame) -> np.ndarray:
    return pd.Categorical(frame["stype"], categories=list(STYPES)).codes.astype(np.intp)


def indicator_matrix(frame: pd.DataFrame) -> np.ndarray:
    return frame[list(INDICATORS)].to_numpy(dtype=np.float64)


# --------------------------------------------------------------------------------------
# tests/fixtures/oracle_valid: R on the rows with a valid answer (generate.R there)
# --------------------------------------------------------------------------------------
VALID = ORACLE.parent / "oracle_valid"
#: Derived indicators of oracle_valid: with item non-response over whole PSUs, "of whom".
VALID_INDICATORS = ("awards_nr", "comp_imp_of_sch_wide", "sch_wide", "yr_rnd")


def _valid_replicates(prefix: str, rep_type: str, **options: Any) -> dict[str, Any]:
    return {
        "weight": "pw",
        "replicates": {"prefix": prefix, "type": rep_type, "combined_weights": True, **options},
    }


#: design -> (data file in oracle_valid/data, design block): generate.R's designs
VALID_DESIGNS: dict[str, tuple[str, dict[str, Any]]] = {
    "clus1": ("clus1.csv", {"psu": "dnum", "weight": "pw", "fpc": "fpc"}),
    "clus1_jk1": (
        "clus1.csv",
        _valid_replicates("jk_", "JK1", scale=0.91483927785116681, rscales=1, mse=False),
    ),
    "strat_paired": ("paired.csv", {"strata": "vstrat", "psu": "vpsu_id", "weight": "pw"}),
    "strat_paired_brr": ("paired.csv", _valid_replicates("brr_", "BRR", mse=False)),
    "strat_paired_fay": ("paired.csv", _valid_replicates("fay_", "Fay", rho=0.5, mse=False)),
    "strat": ("strat.csv", {"strata": "stype", "weight": "pw", "fpc": "fpc"}),
    "strat_boot": (
        "strat.csv",
        _valid_replicates("boot_", "bootstrap", scale=0.0102722136620442, rscales=1, mse=False),
    ),
    "strat_boot_mse": (
        "strat.csv",
        _valid_replicates("boot_", "bootstrap", scale=0.0102722136620442, rscales=1, mse=True),
    ),
}


@cache
def _read_valid(name: str) -> pd.DataFrame:
    return pd.read_csv(VALID / "data" / name)


def valid_data(design: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(data, design block) of an oracle_valid design."""
    name, spec = VALID_DESIGNS[design]
    return _read_valid(name).copy(), spec


def valid_reference(name: str) -> pd.DataFrame:
    """One of oracle_valid's R tables: contrasts, association, logit or glm_stop."""
    ref = pd.read_csv(VALID / f"{name}.csv")
    if "note" in ref:
        ref["note"] = ref["note"].fillna("").astype(str)
    return ref
