"""Ingest: validate a wave against its codebook, harmonize it, and refuse identifiers.

What comes out (``data/processed/<wave>/responses.parquet``) has one column per
domain (its labels), one per indicator (1 yes, 0 no, missing outside the
denominator) and the design columns, and nothing else: the respondent id, the
codebook's ``drop`` columns and every undeclared column stay behind. The ingest
log accounts for every row read (kept, or excluded with a reason) and for every
item's yes / no / missing / not-applicable counts.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from prevalence.codebook import Codebook, Domain, Indicator, normalise_code
from prevalence.errors import PrevalenceError
from prevalence.io import Responses
from prevalence.privacy import coarsen, scan_columns, small_groups

PRIVACY_POLICIES = ("report", "refuse", "coarsen")
# Design columns are carried under this prefix, apart from domain and indicator ids.
DESIGN_PREFIX = "design:"


def design_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The design columns of a harmonized frame, under their names in the responses."""
    columns = [c for c in frame.columns if c.startswith(DESIGN_PREFIX)]
    return frame[columns].rename(columns=lambda c: c.removeprefix(DESIGN_PREFIX))


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ingested:
    """The harmonized responses of a wave and the log that accounts for them."""

    frame: pd.DataFrame
    log: dict[str, Any]


@dataclass(frozen=True)
class _Source:
    """Where kept rows came from: the file, how to name a kept row, the file's value labels."""

    path: str
    locate: Callable[[int], str]
    value_labels: Mapping[str, Mapping[Any, str]]


def design_columns(design: Mapping[str, Any], columns: Iterable[str]) -> list[str]:
    """Columns of the responses that a ``design:`` block refers to, in a stable order."""
    names: list[str] = []
    for key in ("weight", "strata", "psu", "fpc"):
        value = design.get(key)
        if value is None:
            continue
        names.extend([value] if isinstance(value, str) else list(value))
    replicates = design.get("replicates") or {}
    if replicates.get("columns"):
        names.extend(replicates["columns"])
    elif replicates.get("prefix"):
        names.extend(sorted(c for c in columns if c.startswith(replicates["prefix"])))
    return list(dict.fromkeys(names))


def _missing_column(column: str, role: str, responses: Responses, codebook_path: str):
    close = difflib.get_close_matches(column, list(responses.frame.columns), n=1)
    hint = f" (the file has {close[0]!r})" if close else ""
    return PrevalenceError(
        f"column not found in the responses; {role} needs it{hint}",
        file=responses.path,
        column=column,
        fix=f"add the column to the responses, or correct {role} in {codebook_path}",
    )


def _normalised(series: pd.Series) -> pd.Series:
    """Values as comparable codes: numbers (also numbers stored as text) or stripped text."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64")
    text = series.astype("string").str.strip()
    text = text.mask(text == "")
    number = pd.to_numeric(text, errors="coerce")
    return number.astype(object).where(number.notna(), text.astype(object)).where(text.notna())


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )


def _is_empty(series: pd.Series) -> np.ndarray:
    """Cells that hold nothing: missing, or text of only spaces."""
    if _is_numeric(series):
        return series.isna().to_numpy()
    text = series.astype("string").str.strip()
    return (text.isna() | (text == "")).to_numpy(dtype=bool)


def _design_values(series: pd.Series) -> pd.Series:
    """A design column as numbers when every value is a number, otherwise as text."""
    if _is_numeric(series):
        return series.astype("float64").reset_index(drop=True)
    text = series.astype("string").str.strip()
    number = pd.to_numeric(text, errors="coerce")
    if number.notna().sum() == text.notna().sum():
        return number.astype("float64").reset_index(drop=True)
    return text.reset_index(drop=True)


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _code_text(value: Any) -> str:
    code = normalise_code(value)
    return str(code)


def _harmonize_indicator(
    ind: Indicator, values: pd.Series, responses: _Source, codebook_path: str
) -> tuple[np.ndarray, dict[str, Any]]:
    norm = _normalised(values)
    present = norm.notna().to_numpy()
    kinds = {
        kind: norm.isin(getattr(ind, kind)).to_numpy()
        for kind in ("yes_codes", "no_codes", "missing_codes", "skip_codes")
    }
    listed = np.logical_or.reduce(list(kinds.values()))
    unlisted = present & ~listed
    if unlisted.any():
        index = _first_bad(unlisted)
        bad = norm[unlisted].map(_code_text).value_counts()
        others = "" if len(bad) == 1 else f" (unlisted codes: {', '.join(bad.index)})"
        raise PrevalenceError(
            f"code {_code_text(norm.iloc[index])} is not in the codebook for indicator "
            f"{ind.id!r}{others}",
            file=responses.path,
            column=ind.column,
            row=responses.locate(index),
            fix=(
                f"add the code to yes_codes, no_codes, missing_codes or skip_codes of "
                f"indicators.{ind.id} (or to defaults) in {codebook_path}, or correct the data"
            ),
        )
    y = np.full(len(norm), np.nan)
    y[kinds["yes_codes"]] = 1.0
    y[kinds["no_codes"]] = 0.0
    missing = norm[kinds["missing_codes"]].map(_code_text).value_counts()
    counts = {
        "column": ind.column,
        "denominator": ind.denominator or "all",
        "yes": int(kinds["yes_codes"].sum()),
        "no": int(kinds["no_codes"].sum()),
        "missing": {str(k): int(v) for k, v in sorted(missing.items())},
        "not_applicable": int(kinds["skip_codes"].sum()),
        "blank": int((~present).sum()),
    }
    return y, counts


def _harmonize_domain(
    domain: Domain, values: pd.Series, responses: _Source, codebook_path: str
) -> tuple[pd.Categorical, dict[str, Any]]:
    norm = _normalised(values)
    labels = domain.labels
    if labels is None and domain.column in responses.value_labels:
        labels = tuple(
            (normalise_code(k), str(v)) for k, v in responses.value_labels[domain.column].items()
        )
    missing = norm.isin(domain.missing_codes).to_numpy() if domain.missing_codes else None
    if missing is not None:
        norm = norm.mask(missing)
    present = norm.notna().to_numpy()
    if labels is not None:
        by_code = dict(labels)
        by_label = {label: label for _, label in labels}
        mapped = norm.map(lambda v: by_code.get(v, by_label.get(v)) if v is not None else None)
        mapped = mapped.where(norm.notna())
        unlisted = present & mapped.isna().to_numpy()
        if unlisted.any():
            index = _first_bad(unlisted)
            raise PrevalenceError(
                f"value {_code_text(norm.iloc[index])} of domain {domain.id!r} has no label "
                "in the codebook",
                file=responses.path,
                column=domain.column,
                row=responses.locate(index),
                fix=(
                    f"add it to domains.{domain.id}.labels (or to its missing_codes) in "
                    f"{codebook_path}, or correct the data"
                ),
            )
        order = list(dict.fromkeys(label for _, label in labels))
        categorical = pd.Categorical(mapped, categories=order)
    else:
        text = norm.map(_code_text, na_action="ignore")
        categorical = pd.Categorical(text, categories=sorted(text.dropna().unique()))
    counts = pd.Series(categorical).value_counts(sort=False)
    info = {
        "column": domain.column,
        "counts": {str(k): int(v) for k, v in counts.items()},
        "no_value": int((~present).sum()),
        "missing_code": 0 if missing is None else int(missing.sum()),
    }
    if info["no_value"] == len(norm):
        raise PrevalenceError(
            f"domain {domain.id!r} has no value in any row",
            file=responses.path,
            column=domain.column,
            fix=f"point domains.{domain.id}.column in {codebook_path} at the right column",
        )
    return categorical, info


def _k_anonymity(
    domains: pd.DataFrame, names: list[str], k: int, policy: str, path: str, codebook_path: str
) -> dict[str, Any]:
    if policy not in PRIVACY_POLICIES:
        raise PrevalenceError(
            f"unknown privacy policy {policy!r}",
            fix=f"set privacy.policy in config.yaml to one of: {', '.join(PRIVACY_POLICIES)}",
        )
    coarsened: dict[str, list[str]] = {}
    if policy == "coarsen":
        for name in names:
            column, merged = coarsen(domains, name, k)
            if merged:
                domains[name] = column
                coarsened[name] = merged
    groups = small_groups(domains, names, k)
    if groups and policy == "refuse":
        first = ", ".join(f"{d}={v}" for d, v in groups[0]["values"].items())
        raise PrevalenceError(
            f"{len(groups)} combinations of {', '.join(names)} are held by fewer than {k} "
            f"respondents (for example {first}: {groups[0]['n']})",
            file=path,
            fix=(
                "set privacy.policy to coarsen, merge categories in the codebook's labels "
                f"({codebook_path}), drop a domain, or lower privacy.k"
            ),
        )
    return {
        "k": k,
        "policy": policy,
        "quasi_identifiers": names,
        "coarsened": coarsened,
        "small_groups": groups,
        "respondents_in_small_groups": int(sum(g["n"] for g in groups)),
    }


def _check_design(
    frame: pd.DataFrame, design: Mapping[str, Any], path: str, locate: Callable[[int], str]
) -> None:
    """Build the survey design once at ingest, so that an error names the file and its line."""
    from prevalence.design import SurveyDesign
    from prevalence.errors import DesignError

    try:
        SurveyDesign.from_frame(design_frame(frame), design, source=path)
    except DesignError as error:
        row = error.row
        if isinstance(row, int) and 1 <= row <= len(frame):
            row = locate(row - 1)
        raise DesignError(
            error.problem,
            file=path,
            column=error.column,
            row=row,
            value=error.value,
            fix=error.fix,
        ) from None


def ingest(
    responses: Responses,
    codebook: Codebook,
    *,
    wave: str,
    design: Mapping[str, Any] | None = None,
    k: int = 3,
    policy: str = "report",
) -> Ingested:
    """Validate and harmonize one wave.

    Parameters
    ----------
    responses
        The raw responses (:func:`prevalence.io.read_responses`).
    codebook
        The wave's codebook.
    wave
        The wave id, recorded in the log.
    design
        The wave's effective ``design:`` block; its columns are carried through.
    k, policy
        k-anonymity over the domains (the quasi-identifiers): every combination of
        domain values held by fewer than ``k`` respondents is counted in the log.
        ``report`` goes on; ``refuse`` stops; ``coarsen`` merges each domain's values
        held by fewer than ``k`` respondents into "Other", then reports what is left.

    Returns
    -------
    Ingested
        ``frame``: domains (categorical labels), indicators (float 1/0/NaN),
        design columns (named ``design:<column>``, see :func:`design_frame`). ``log``: row accounting and item counts.

    Raises
    ------
    PrevalenceError
        A missing column, an unlisted code, a missing or duplicate respondent id, a
        domain column with no value: one message naming file, column, row and fix.
    """
    frame = responses.frame
    cb_path = codebook.path
    design = dict(design or {})
    needed = [(codebook.respondent_id, "respondent_id")]
    needed += [(d.column, f"domains.{d.id}") for d in codebook.domains.values()]
    needed += [(i.column, f"indicators.{i.id}") for i in codebook.indicators.values()]
    for column, role in needed:
        if column not in frame.columns:
            raise _missing_column(column, role, responses, cb_path)
    carried_design = design_columns(design, frame.columns)
    for column in carried_design:
        if column not in frame.columns:
            close = difflib.get_close_matches(column, list(frame.columns), n=1)
            hint = f" (the file has {close[0]!r})" if close else ""
            raise PrevalenceError(
                f"column not found in the responses; the design of wave {wave!r} needs it{hint}",
                file=responses.path,
                column=column,
                fix="add the column, or correct the `design:` block in config.yaml",
            )
    if codebook.respondent_id in carried_design or set(codebook.drop) & set(carried_design):
        bad = (
            codebook.respondent_id
            if codebook.respondent_id in carried_design
            else sorted(set(codebook.drop) & set(carried_design))[0]
        )
        raise PrevalenceError(
            "the design uses an identifier column, which never leaves ingest",
            file=cb_path,
            column=bad,
            fix="use a separate PSU / stratum code column that does not identify a respondent",
        )

    rows_read = len(frame)
    empty = [_is_empty(frame[c]) for c in frame.columns]
    blank = np.logical_and.reduce(empty) if empty else np.zeros(0, dtype=bool)
    excluded = [{"row": responses.locate(i), "reason": "blank row"} for i in np.flatnonzero(blank)]
    keep = ~blank
    data = frame.loc[keep].reset_index(drop=True)
    kept_index = np.flatnonzero(keep)

    def locate(i: int) -> str:
        return responses.locate(int(kept_index[i]))

    source = _Source(responses.path, locate, responses.value_labels)

    ids = _normalised(data[codebook.respondent_id])
    no_id = ids.isna().to_numpy()
    if no_id.any():
        raise PrevalenceError(
            "respondent id is empty",
            file=responses.path,
            column=codebook.respondent_id,
            row=locate(_first_bad(no_id)),
            fix="give every respondent an id (or remove the row if it holds no response)",
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        first_value = ids.iloc[rows[0]]
        same = rows[(ids.iloc[rows] == first_value).to_numpy()]
        raise PrevalenceError(
            f"respondent id is not unique ({_code_text(first_value)} appears on "
            f"{', '.join(locate(i) for i in same[:5])})",
            file=responses.path,
            column=codebook.respondent_id,
            row=locate(int(same[1])),
            fix="remove the duplicated response, or give each respondent its own id",
        )

    scan_columns(
        data,
        skip=[
            codebook.respondent_id,
            *codebook.drop,
            *(i.column for i in codebook.indicators.values()),
        ],
        declared=[*(d.column for d in codebook.domains.values()), *carried_design],
        path=responses.path,
        codebook_path=cb_path,
        locate=locate,
    )

    out: dict[str, Any] = {}
    domain_log: dict[str, Any] = {}
    for domain in codebook.domains.values():
        out[domain.id], domain_log[domain.id] = _harmonize_domain(
            domain, data[domain.column], source, cb_path
        )
    anonymity = _k_anonymity(
        pd.DataFrame(out), list(codebook.domains), k, policy, responses.path, cb_path
    )
    for domain, merged in anonymity["coarsened"].items():
        out[domain] = coarsen(pd.DataFrame(out), domain, k)[0]
        domain_log[domain]["coarsened"] = merged
    indicator_log: dict[str, Any] = {}
    for ind in codebook.indicators.values():  # denominators come first
        y, counts = _harmonize_indicator(ind, data[ind.column], source, cb_path)
        if ind.denominator is not None:
            parent_yes = out[ind.denominator] == 1.0
            answered = ~np.isnan(y)
            counts["outside_denominator"] = int((answered & ~parent_yes).sum())
            counts["skipped_in_denominator"] = int(
                (parent_yes & _normalised(data[ind.column]).isin(ind.skip_codes).to_numpy()).sum()
            )
            if counts["outside_denominator"]:
                log.warning(
                    "%s: %d answers to %s (%s) come from respondents outside its denominator "
                    "%s = yes; they are not counted",
                    responses.path,
                    counts["outside_denominator"],
                    ind.id,
                    ind.column,
                    ind.denominator,
                )
            y = np.where(parent_yes, y, np.nan)
        counts["valid"] = int((~np.isnan(y)).sum())
        counts["cases"] = int((y == 1.0).sum())
        out[ind.id] = y
        indicator_log[ind.id] = counts
    for column in carried_design:
        out[DESIGN_PREFIX + column] = _design_values(data[column])
    result = pd.DataFrame(out)
    if design:
        _check_design(result, design, responses.path, locate)
    declared = {codebook.respondent_id, *codebook.drop, *carried_design}
    declared |= {d.column for d in codebook.domains.values()}
    declared |= {i.column for i in codebook.indicators.values()}
    not_carried = [c for c in frame.columns if c not in declared]
    report = {
        "wave": wave,
        "responses": responses.path,
        "format": responses.format,
        "codebook": cb_path,
        "rows": {
            "read": rows_read,
            "kept": int(keep.sum()),
            "excluded": int(blank.sum()),
            "excluded_by_reason": {"blank row": int(blank.sum())} if blank.any() else {},
        },
        "excluded_rows": excluded,
        "columns": {
            "kept": list(result.columns),
            "dropped_identifiers": [codebook.respondent_id, *codebook.drop],
            "dropped_undeclared": not_carried,
        },
        "domains": domain_log,
        "indicators": indicator_log,
        "k_anonymity": anonymity,
    }
    assert report["rows"]["read"] == report["rows"]["kept"] + report["rows"]["excluded"]
    return Ingested(result, report)
