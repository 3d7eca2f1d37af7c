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
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from prevalence.data.codebook import Codebook, Domain, Indicator, normalise_code
from prevalence.design.core import DESIGN_PREFIX, design_columns, wave_design
from prevalence.errors import DesignError, PrevalenceError
from prevalence.data.io import Responses
from prevalence.data.privacy import coarsen, scan_columns, small_groups

PRIVACY_POLICIES = ("report", "refuse", "coarsen")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ingested:
    """The harmonized responses of a wave and the log that accounts for them.

    ``design`` is the wave's survey design, built at ingest to check it (None without one).
    """

    frame: pd.DataFrame
    log: dict[str, Any]
    design: Any = None


@dataclass(frozen=True)
class _Source:
    """Where kept rows came from: the file, how to name a kept row, the file's value labels."""

    path: str
    locate: Callable[[int], str]
    value_labels: Mapping[str, Mapping[Any, str]]


def _missing_column(column: str, role: str, responses: Responses, codebook_path: str):
    close = difflib.get_close_matches(column, list(responses.frame.columns), n=1)
    hint = f" (the file has {close[0]!r})" if close else ""
    return PrevalenceError(
        f"column not found in the responses; {role} needs it{hint}",
        file=responses.path,
        column=column,
        fix=f"add the column to the responses, or correct {role} in {codebook_path}",
    )


#: text that ``pandas.to_numeric`` reads as a number; tested first, as a pattern, so that a
#: column of a million ids that are not numbers is not parsed number by number
_NUMBER = r"(?i)[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|[+-]?inf(?:inity)?"


def _normalised(series: pd.Series) -> pd.Series:
    """Values as comparable codes: numbers (also numbers stored as text) or stripped text."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64")
    text = series.astype("string").str.strip()
    text = text.mask(text == "")
    looks = text.str.fullmatch(_NUMBER).fillna(False).to_numpy(dtype=bool)
    number = pd.Series(np.nan, index=text.index)
    if looks.any():
        number[looks] = pd.to_numeric(text[looks], errors="coerce").astype("float64")
    return number.astype(object).where(number.notna(), text.astype(object)).where(text.notna())


@dataclass(frozen=True)
class _Values:
    """A column as codes into its distinct values, normalised (:func:`_normalised`) once.

    Every test of a code (is it a yes code? a label?) is made once per distinct value
    and read back through ``codes``, so that a million rows of a few codes cost a few
    comparisons. ``codes`` is -1 where the cell is empty.
    """

    codes: np.ndarray
    values: list[Any]

    @classmethod
    def of(cls, series: pd.Series) -> _Values:
        small = _small_integers(series)
        if small is not None:
            return small
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        if _is_numeric(series):
            return cls(np.asarray(codes, dtype=np.intp), [float(v) for v in uniques])
        norm = _normalised(pd.Series(uniques))
        merged, values = pd.factorize(norm.to_numpy(dtype=object), use_na_sentinel=True)
        lookup = np.append(merged, -1).astype(np.intp)  # code -1 (empty) stays -1
        return cls(lookup[codes], list(values))

    def where(self, test: Callable[[Any], bool]) -> np.ndarray:
        """(n,) bool: the rows whose value passes ``test``."""
        hits = np.array([bool(test(v)) for v in self.values] + [False])
        return hits[self.codes]

    def isin(self, codes: Iterable[Any]) -> np.ndarray:
        wanted = set(codes)
        return self.where(lambda v: v in wanted)

    def listed(self, codes: Iterable[Any]) -> np.ndarray:
        """(distinct values,) bool: the values among ``codes``."""
        wanted = set(codes)
        return np.array([v in wanted for v in self.values], dtype=bool)

    @cached_property
    def tally(self) -> np.ndarray:
        """Rows holding each value (``tally[i]`` of ``values[i]``) and, last, empty cells."""
        tally = np.bincount(self.codes + 1, minlength=len(self.values) + 1)  # empty (-1) first
        return np.roll(tally, -1)

    def counts_of(self, listed: np.ndarray) -> dict[str, int]:
        """Rows per value (as text) of the values ``listed`` selects, as :meth:`counts` gives."""
        held = self.tally[:-1]
        return dict(
            sorted(
                (_code_text(self.values[i]), int(held[i]))
                for i in np.flatnonzero(listed & (held > 0))
            )
        )

    @property
    def present(self) -> np.ndarray:
        return self.codes >= 0

    def counts(self, mask: np.ndarray | None = None) -> dict[str, int]:
        """Rows per value (as text), among ``mask`` (all rows by default), in sorted order."""
        codes = self.codes if mask is None else self.codes[mask]
        counts = np.bincount(codes[codes >= 0], minlength=len(self.values))
        return dict(sorted((_code_text(self.values[i]), int(c)) for i, c in enumerate(counts) if c))

    def value(self, index: int) -> Any:
        return self.values[self.codes[index]]


#: the widest range of a column of whole numbers coded by counting (a code per integer in it)
_COUNTED_RANGE = 1 << 16


def _small_integers(series: pd.Series) -> _Values | None:
    """A column of integers of a narrow range (answer codes) as :class:`_Values`, by counting.

    About four times faster than ``pandas.factorize`` on a million answers; None for any
    other column (floats, text, nullable integers, a wide range), which is factorized.
    """
    if not isinstance(series.dtype, np.dtype) or series.dtype.kind not in "iu" or not len(series):
        return None
    x = series.to_numpy()
    low, high = int(x.min()), int(x.max())
    if high - low >= _COUNTED_RANGE:
        return None
    offset = x.astype(np.intp) - low
    held = np.flatnonzero(np.bincount(offset, minlength=high - low + 1))
    lookup = np.full(high - low + 1, -1, dtype=np.intp)
    lookup[held] = np.arange(held.size)
    return _Values(lookup[offset], [float(v + low) for v in held])


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


#: rows named in a message about many rows
_SHOWN_ROWS = 5


def _many_rows(mask: np.ndarray, values: _Values, locate: Callable[[int], str], what: str) -> str:
    """`` (N rows hold ...: 5 on N rows, ...; the first on lines a, b, c)`` when several rows do.

    One message for a column with thousands of bad cells: how many, which values, where
    the first few are. Empty when a single row is at fault.
    """
    rows = np.flatnonzero(mask)
    if rows.size < 2:
        return ""
    by_value = values.counts(mask)
    ranked = sorted(by_value.items(), key=lambda kv: (-kv[1], kv[0]))
    listed = ", ".join(
        f"{code} on {count:,} row{'s' if count > 1 else ''}" for code, count in ranked[:_SHOWN_ROWS]
    )
    if len(ranked) > _SHOWN_ROWS:
        listed += f" and {len(ranked) - _SHOWN_ROWS} more"
    first = [locate(int(i)) for i in rows[:_SHOWN_ROWS]]
    words = {place.split(" ", 1)[0] for place in first}
    if len(words) == 1 and all(" " in place for place in first):  # lines 9, 10 and 29
        first = [place.split(" ", 1)[1] for place in first]
        first[0] = f"{words.pop()}s {first[0]}"
    shown = ", ".join(first[:-1]) + f" and {first[-1]}"
    more = ", ..." if rows.size > _SHOWN_ROWS else ""
    return f" ({rows.size:,} rows hold {what}: {listed}; the first on {shown}{more})"


def _harmonize_indicator(
    ind: Indicator, values: _Values, responses: _Source, codebook_path: str
) -> tuple[np.ndarray, dict[str, Any]]:
    """The item as 1 yes / 0 no / NaN, and its counts, decided once per distinct value."""
    kinds = {
        kind: values.listed(getattr(ind, kind))
        for kind in ("yes_codes", "no_codes", "missing_codes", "skip_codes")
    }
    listed = np.logical_or.reduce(list(kinds.values()))
    if values.tally[:-1][~listed].any():
        unlisted = np.append(~listed, False)[values.codes]  # the empty cells are not codes
        index = _first_bad(unlisted)
        bad = values.counts(unlisted)
        others = "" if len(bad) == 1 else f" (unlisted codes: {', '.join(bad)})"
        many = _many_rows(unlisted, values, responses.locate, "codes it does not list")
        raise PrevalenceError(
            f"code {_code_text(values.value(index))} is not in the codebook for indicator "
            f"{ind.id!r}{others if not many else ''}{many}",
            file=responses.path,
            column=ind.column,
            row=responses.locate(index),
            fix=(
                f"add the code to yes_codes, no_codes, missing_codes or skip_codes of "
                f"indicators.{ind.id} (or to defaults) in {codebook_path}, or correct the data"
            ),
        )
    answer = np.full(len(values.values) + 1, np.nan)  # the last: an empty cell
    answer[:-1][kinds["yes_codes"]] = 1.0
    answer[:-1][kinds["no_codes"]] = 0.0
    held = values.tally[:-1]
    counts = {
        "column": ind.column,
        "denominator": ind.denominator or "all",
        "yes": int(held[kinds["yes_codes"]].sum()),
        "no": int(held[kinds["no_codes"]].sum()),
        "missing": values.counts_of(kinds["missing_codes"]),
        "not_applicable": int(held[kinds["skip_codes"]].sum()),
        "blank": int(values.tally[-1]),
    }
    return answer[values.codes], counts


def _harmonize_domain(
    domain: Domain, values: _Values, responses: _Source, codebook_path: str
) -> tuple[pd.Categorical, dict[str, Any]]:
    labels = domain.labels
    if labels is None and domain.column in responses.value_labels:
        labels = tuple(
            (normalise_code(k), str(v)) for k, v in responses.value_labels[domain.column].items()
        )
    missing = values.isin(domain.missing_codes) if domain.missing_codes else None
    present = values.present if missing is None else values.present & ~missing
    if labels is not None:
        by_code = dict(labels)
        by_label = {label: label for _, label in labels}
        order = list(dict.fromkeys(label for _, label in labels))
        position = {label: i for i, label in enumerate(order)}
        label_of = [by_code.get(v, by_label.get(v)) for v in values.values]
        category = np.array([-1 if s is None else position[s] for s in label_of] + [-1])
        codes = np.where(present, category[values.codes], -1)
        unlisted = present & (codes < 0)
        if unlisted.any():
            index = _first_bad(unlisted)
            many = _many_rows(unlisted, values, responses.locate, "values it has no label for")
            raise PrevalenceError(
                f"value {_code_text(values.value(index))} of domain {domain.id!r} has no label "
                f"in the codebook{many}",
                file=responses.path,
                column=domain.column,
                row=responses.locate(index),
                fix=(
                    f"add it to domains.{domain.id}.labels (or to its missing_codes) in "
                    f"{codebook_path}, or correct the data"
                ),
            )
    else:
        used = np.zeros(len(values.values) + 1, dtype=bool)
        used[values.codes[present]] = True
        texts = [_code_text(v) for v in values.values]
        order = sorted({texts[i] for i in np.flatnonzero(used[:-1])})
        position = {text: i for i, text in enumerate(order)}
        category = np.array([position.get(s, -1) for s in texts] + [-1])
        codes = np.where(present, category[values.codes], -1)
    categorical = pd.Categorical.from_codes(codes, categories=order)
    counts = np.bincount(codes[codes >= 0], minlength=len(order))
    info = {
        "column": domain.column,
        "counts": {str(k): int(v) for k, v in zip(order, counts, strict=True)},
        "no_value": int((~present).sum()),
        "missing_code": 0 if missing is None else int(missing.sum()),
    }
    if info["no_value"] == len(values.codes):
        raise PrevalenceError(
            f"domain {domain.id!r} has no value in any row",
            file=responses.path,
            column=domain.column,
            fix=f"point domains.{domain.id}.column in {codebook_path} at the right column",
        )
    return categorical, info


def _distinct_plain_text(series: pd.Series) -> bool:
    """Ids that are all present, plain text (its own code: no spaces around it, not a number)
    and distinct, found by sorting them: about three times faster than hashing a million ids.

    False otherwise, and :func:`_check_ids` then finds what is wrong and where.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(series) or series.isna().any():
        return False
    text = series.astype("string")
    stripped = text.str.strip()
    if not (
        (stripped == text).all()
        and (stripped != "").all()
        and not stripped.str.fullmatch(_NUMBER).any()
    ):
        return False
    ids = pa.array(text.array)
    ordered = ids.take(pc.array_sort_indices(ids))
    return not pc.any(pc.equal(ordered[1:], ordered[:-1])).as_py()


def _check_ids(series: pd.Series, column: str, path: str, locate: Callable[[int], str]) -> None:
    """Every respondent has an id, and no two the same (compared as normalised codes)."""
    if not _is_numeric(series) and _distinct_plain_text(series):
        return
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    plain = _is_numeric(series)
    if not plain:  # text ids: the file's values are the codes unless spaces or numbers differ
        text = pd.Series(uniques, dtype="string")
        stripped = text.str.strip()
        plain = bool(
            (stripped == text).all()
            and (stripped != "").all()
            and not stripped.str.fullmatch(_NUMBER).any()
        )
    if plain:
        values: _Values | None = None
        present = codes >= 0
    else:
        values = _Values.of(series)
        codes, present = values.codes, values.present
    if not present.all():
        raise PrevalenceError(
            "respondent id is empty",
            file=path,
            column=column,
            row=locate(_first_bad(~present)),
            fix="give every respondent an id (or remove the row if it holds no response)",
        )
    counts = np.bincount(codes)
    if (counts > 1).any():
        rows = np.flatnonzero(counts[codes] > 1)
        same = rows[codes[rows] == codes[rows[0]]]
        first = values.value(int(rows[0])) if values is not None else uniques[codes[rows[0]]]
        raise PrevalenceError(
            f"respondent id is not unique ({_code_text(first)} appears on "
            f"{', '.join(locate(i) for i in same[:5])})",
            file=path,
            column=column,
            row=locate(int(same[1])),
            fix="remove the duplicated response, or give each respondent its own id",
        )


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


def _skip_violation(
    ind: Indicator,
    codebook: Codebook,
    mask: np.ndarray,
    path: str,
    locate: Callable[[int], str],
    skipped: dict[str, int],
) -> None:
    """Answers to a follow-up from respondents the routing sends past it: refuse or count."""
    count = int(mask.sum())
    parent = codebook.indicators[ind.denominator]
    question = ind.categorical or ind.id  # a categorical question's categories share answers
    if codebook.skip_violations == "exclude":
        if question in skipped:
            return
        skipped[question] = count
        log.warning(
            "%s: %d answers to %s (%s) come from respondents whose %s (%s) is not yes; "
            "excluded (skip_violations: exclude)",
            path,
            count,
            question,
            ind.column,
            ind.denominator,
            parent.column,
        )
        return
    first = _first_bad(mask)
    others = f" ({count - 1} more respondents in the same case)" if count > 1 else ""
    raise PrevalenceError(
        f"column {ind.column!r} ({question}) is answered although column {parent.column!r} "
        f"({parent.id}, its denominator) is not yes: the routing should have skipped it{others}",
        file=path,
        column=ind.column,
        row=locate(first),
        fix=f"correct the routing or the export (a skipped follow-up takes a skip code, "
        f"{', '.join(map(str, ind.skip_codes)) or 'none declared'}), or set "
        f"`skip_violations: exclude` in {codebook.path} to leave such answers out, counted "
        "in the ingest log",
    )


def _check_design(
    frame: pd.DataFrame,
    design: Mapping[str, Any],
    path: str,
    locate: Callable[[int], str],
    populations: Mapping[str, pd.DataFrame] | None = None,
) -> Any:
    """Build the survey design once at ingest, so that an error names the file and its line."""

    try:
        return wave_design(frame, design, source=path, populations=populations)
    except DesignError as error:
        row = error.row
        if isinstance(row, int) and 1 <= row <= len(frame):
            row = locate(row - 1)
        raise DesignError(
            error.problem,
            file=error.file if error.file != path and error.file else path,
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
    populations: Mapping[str, pd.DataFrame] | None = None,
) -> Ingested:
    """Validate and harmonize one wave.

    Parameters
    ----------
    responses
        The raw responses (:func:`prevalence.data.io.read_responses`).
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
    populations
        The population tables (``margin, value, total``) that the design's
        ``calibration:`` block names, by its path.

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
    design = dict(design or {})
    carried_design = _check_columns(responses, codebook, design, wave)
    kept = _Kept.of(responses)
    data, locate = kept.data, kept.locate
    _check_ids(data[codebook.respondent_id], codebook.respondent_id, responses.path, locate)
    scan_columns(
        data,
        skip=[
            codebook.respondent_id,
            *codebook.drop,
            *(i.column for i in codebook.indicators.values()),
        ],
        declared=[*(d.column for d in codebook.domains.values()), *carried_design],
        path=responses.path,
        codebook_path=codebook.path,
        locate=locate,
    )
    source = _Source(responses.path, locate, responses.value_labels)
    values_of = _ColumnValues(data)
    out, domain_log, anonymity = _harmonize_domains(codebook, values_of, source, k, policy)
    indicator_log, skipped = _harmonize_indicators(codebook, values_of, source, out)
    for column in carried_design:
        out[DESIGN_PREFIX + column] = _design_values(data[column])
    result = pd.DataFrame(out, copy=False)  # the columns as they are, not copied into blocks
    survey = _check_design(result, design, responses.path, locate, populations) if design else None
    report = {
        "wave": wave,
        "responses": responses.path,
        "format": responses.format,
        "codebook": codebook.path,
        "rows": kept.rows(),
        "excluded_rows": kept.excluded,
        "columns": _column_log(responses, codebook, carried_design, list(result.columns)),
        "domains": domain_log,
        "indicators": indicator_log,
        "k_anonymity": anonymity,
    }
    if skipped:
        report["skip_violations"] = {
            "policy": codebook.skip_violations,
            "answers_excluded": sum(skipped.values()),
            "by_indicator": skipped,
        }
    assert report["rows"]["read"] == report["rows"]["kept"] + report["rows"]["excluded"]
    return Ingested(result, report, survey)


def _check_columns(
    responses: Responses, codebook: Codebook, design: Mapping[str, Any], wave: str
) -> list[str]:
    """Every column the codebook and the design name is in the file, and the design uses no
    identifier; returns the design's columns (carried through as ``design:<column>``)."""
    frame = responses.frame
    cb_path = codebook.path
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
    return list(carried_design)


@dataclass(frozen=True)
class _Kept:
    """The rows kept (all but the blank ones), and how to name a kept row in the file."""

    data: pd.DataFrame
    read: int
    blank: np.ndarray
    kept_index: np.ndarray
    excluded: list[dict[str, str]]
    source: Callable[[int], str]

    @classmethod
    def of(cls, responses: Responses) -> _Kept:
        frame = responses.frame
        blank = np.ones(len(frame), dtype=bool) if len(frame.columns) else np.zeros(0, dtype=bool)
        for column in frame.columns:  # a row is blank when every cell is empty
            blank &= _is_empty(frame[column])
            if not blank.any():  # no row left to be blank: the other columns need no look
                break
        excluded = [
            {"row": responses.locate(i), "reason": "blank row"} for i in np.flatnonzero(blank)
        ]
        data = frame.loc[~blank].reset_index(drop=True) if blank.any() else frame
        return cls(data, len(frame), blank, np.flatnonzero(~blank), excluded, responses.locate)

    def locate(self, i: int) -> str:
        return self.source(int(self.kept_index[i]))

    def rows(self) -> dict[str, Any]:
        blank = int(self.blank.sum())
        return {
            "read": self.read,
            "kept": int(self.kept_index.size),
            "excluded": blank,
            "excluded_by_reason": {"blank row": blank} if blank else {},
        }


class _ColumnValues:
    """Each column's :class:`_Values`, coded once however many items read it."""

    def __init__(self, data: pd.DataFrame) -> None:
        self.data = data
        self.distinct: dict[str, _Values] = {}

    def __call__(self, column: str) -> _Values:
        if column not in self.distinct:
            self.distinct[column] = _Values.of(self.data[column])
        return self.distinct[column]


def _harmonize_domains(
    codebook: Codebook, values_of: _ColumnValues, source: _Source, k: int, policy: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Every domain as categorical labels, their log, and k-anonymity over them (which
    ``coarsen`` may merge)."""
    out: dict[str, Any] = {}
    domain_log: dict[str, Any] = {}
    for domain in codebook.domains.values():
        out[domain.id], domain_log[domain.id] = _harmonize_domain(
            domain, values_of(domain.column), source, codebook.path
        )
    anonymity = _k_anonymity(
        pd.DataFrame(out), list(codebook.domains), k, policy, source.path, codebook.path
    )
    for domain, merged in anonymity["coarsened"].items():
        out[domain] = coarsen(pd.DataFrame(out), domain, k)[0]
        domain_log[domain]["coarsened"] = merged
    return out, domain_log, anonymity


def _harmonize_indicators(
    codebook: Codebook, values_of: _ColumnValues, source: _Source, out: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, int]]:
    """Every indicator as 1 / 0 / NaN into ``out``, a follow-up outside its denominator's
    yes made NaN; returns their log and the answers ``skip_violations: exclude`` left out."""
    indicator_log: dict[str, Any] = {}
    skipped: dict[str, int] = {}
    for ind in codebook.indicators.values():  # denominators come first
        y, counts = _harmonize_indicator(ind, values_of(ind.column), source, codebook.path)
        if ind.denominator is not None:
            parent_yes = out[ind.denominator] == 1.0
            answered = ~np.isnan(y)
            counts["outside_denominator"] = int((answered & ~parent_yes).sum())
            counts["skipped_in_denominator"] = int(
                (parent_yes & values_of(ind.column).isin(ind.skip_codes)).sum()
            )
            if counts["outside_denominator"]:
                _skip_violation(
                    ind, codebook, answered & ~parent_yes, source.path, source.locate, skipped
                )
            y = np.where(parent_yes, y, np.nan)
        counts["valid"] = int((~np.isnan(y)).sum())
        counts["cases"] = int((y == 1.0).sum())
        out[ind.id] = y
        indicator_log[ind.id] = counts
    return indicator_log, skipped


def _column_log(
    responses: Responses, codebook: Codebook, carried_design: list[str], kept: list[str]
) -> dict[str, list[str]]:
    declared = {codebook.respondent_id, *codebook.drop, *carried_design}
    declared |= {d.column for d in codebook.domains.values()}
    declared |= {i.column for i in codebook.indicators.values()}
    return {
        "kept": kept,
        "dropped_identifiers": [codebook.respondent_id, *codebook.drop],
        "dropped_undeclared": [c for c in responses.frame.columns if c not in declared],
    }
