"""Draft a wave's codebook from its responses file.

Writing ``codebook.yaml`` by hand is the slowest step of adding a wave. A
labelled SPSS (``.sav``) or Stata (``.dta``) file already says most of it, and
:func:`draft_codebook` reads it back:

* **value labels** become a domain's labels and an indicator's answer codes:
  a code labelled yes is a yes code, no a no code, don't know or refused a
  missing code, not applicable or skipped a skip code; SPSS user-missing values
  are missing codes too (a not-applicable label still makes them skip codes);
* **variable labels** become an indicator's ``label`` and ``question``, and a
  domain's ``label``; ids are made from them (``Age group`` -> ``age_group``);
* the **respondent id** is the column that is unique and non-empty (a name
  such as ``resp_id`` first);
* **names, e-mail addresses, phone numbers and free text** go to ``drop``, by
  the column's name or label and by the same scan that ingest runs
  (:func:`prevalence.data.privacy.classify`); their values are never read out;
* **domains** are the other labelled or categorical columns with a few values;
* **routing**: an indicator whose not-applicable code occurs exactly where
  another item is not yes gets that item as its ``denominator``.

CSV, XLSX and parquet files carry no labels: codes are taken from the data
(the project's convention: 1 yes, 2 no, 7 not applicable, 8 and 9 don't know
and refused; 0 no where the codes are 0 and 1), and ``TODO`` comments mark what
cannot be told. The draft is commented YAML that validates against the codebook
schema; for a well-labelled file it runs through the workflow as it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from prevalence.data.codebook import CODE_KINDS, normalise_code, parse_codebook
from prevalence.errors import PrevalenceError
from prevalence.data.io import Responses, read_responses
from prevalence.data.privacy import classify

#: A domain has at most this many values; more is not a grouping variable.
MAX_LEVELS = 20

#: What an answer label means, tried in this order (the first that matches wins).
ANSWER_LABELS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "skip_codes",
        re.compile(
            r"(?i)not applicable|\bn/?a\b|inapplicable|\bskip(ped)?\b|not asked|does not apply|routed"
        ),
    ),
    (
        "missing_codes",
        re.compile(
            r"(?i)don'?t know|do not know|\bdk\b|refus|no answer|prefer not|declin|missing"
            r"|not stated|no response|unknown"
        ),
    ),
    ("yes_codes", re.compile(r"(?i)^\s*(yes|oui|s[ií]|ja)\b")),
    ("no_codes", re.compile(r"(?i)^\s*(no|non|nein)\b")),
)

#: Words of a column's name that say it identifies people or holds free text.
PERSONAL_NAME = re.compile(
    r"(?i)^(name|names|first ?name|last ?name|full ?name|surname|e ?mail|mail|phone|telephone"
    r"|mobile|tel|address|comment|comments|remark|remarks|note|notes|text|verbatim|specify)$"
)
#: A column's label that says so (applied to columns that are not yes/no items: "threats by
#: e-mail" is a question, not an address).
PERSONAL_LABEL = re.compile(
    r"(?i)^name\b|\b(respondent'?s?|first|last|full|family|given|sur) ?name\b|\be-?mail\b"
    r"|\bphone\b|\baddress\b|\bcomments?\b|free[- ]text|open[- ]ended|verbatim|please specify"
)
#: Column names or labels that say the column is the respondent id.
IDENTIFIER = re.compile(
    r"(?i)^(id|resp ?id|respondent|respondent id|case ?id|serial|record ?id)$|\bidentifier\b"
)
#: Column names or labels of grouping variables (a CSV's 1/2 codes may be a role, not an answer).
DOMAIN_NAME = re.compile(
    r"(?i)\b(region|country|role|position|age|age ?group|agegroup|sex|gender|party|chamber"
    r"|house|group|type|category|education|status|area|zone|province|state|district|wave|year)\b"
)
#: Words of a column's name that say it describes the sampling design.
DESIGN_NAME = re.compile(
    r"(?i)^(strat|stratum|strata|psu|ssu|cluster|clusters|fpc|weight|weights|wt|wgt|repw\d*)$"
)
DESIGN_COLUMN = "a design column? weight, strata, psu and fpc go in config.yaml's design block"
#: Unlabelled numeric answer codes, by the project's convention.
CONVENTION = {
    1: "yes_codes",
    2: "no_codes",
    7: "skip_codes",
    8: "missing_codes",
    9: "missing_codes",
}
STOPWORDS = {"of", "or", "and", "the", "in", "on", "with", "a", "an", "to", "for", "by", "at"}
MAX_ID = 32


@dataclass
class _Column:
    """What the drafter knows about one column of the file."""

    name: str
    series: pd.Series
    label: str | None
    value_labels: dict[Any, str]
    user_missing: tuple[Any, ...]
    codes: np.ndarray | None = None  # each row's position in ``uniques`` (-1: blank)
    uniques: list[Any] = field(default_factory=list)

    @property
    def words(self) -> str:
        """Name and label as words, for the patterns above."""
        return " ".join(_tokens(self.name)) + " | " + (self.label or "")


@dataclass(frozen=True)
class Draft:
    """A drafted codebook: the commented YAML, the mapping it holds, and its TODOs."""

    text: str
    codebook: dict[str, Any]
    todos: tuple[str, ...]


def _code(value: Any) -> Any:
    """A distinct value as a codebook code (numpy scalars as Python numbers, for YAML)."""
    return normalise_code(value.item() if isinstance(value, np.generic) else value)


def _factorize(column: _Column) -> None:
    """Each row's distinct value, once per distinct value (never per row)."""
    series = column.series
    if not pd.api.types.is_numeric_dtype(series.dtype):
        series = series.astype("string").str.strip().replace("", pd.NA)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    column.codes = codes
    column.uniques = [_code(u) for u in uniques]


def _meaning(label: str) -> str | None:
    for kind, pattern in ANSWER_LABELS:
        if pattern.search(label):
            return kind
    return None


def _slug(text: str) -> str:
    """An id from a label: ascii, lower case, words joined by ``_``, at most MAX_ID long."""
    text = re.sub(r"\([^)]*\)", " ", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower())
    kept: list[str] = []
    for word in words:
        if len("_".join([*kept, word])) > MAX_ID and kept:
            break
        kept.append(word)
    while len(kept) > 1 and kept[-1] in STOPWORDS:
        kept.pop()
    slug = "_".join(kept)[:MAX_ID].strip("_")
    return slug if not slug or slug[0].isalpha() else f"v{slug}"


def _ids(columns: list[_Column], taken: set[str]) -> dict[str, str]:
    """Unique ids for columns, from their labels (else their names)."""
    ids = {}
    for column in columns:
        base = _slug(column.label or "") or _slug(column.name) or "item"
        ident, n = base, 2
        while ident in taken or ident == "overall":
            ident, n = f"{base}_{n}", n + 1
        taken.add(ident)
        ids[column.name] = ident
    return ids


def _file_metadata(responses: Responses) -> tuple[str | None, dict[str, tuple[Any, ...]]]:
    """The file label and the SPSS user-missing values by column (a value or a (lo, hi) range).

    Stata files declare no user-missing values; their labelled codes are read like any other.
    """
    if responses.format not in ("sav", "dta"):
        return None, {}
    import pyreadstat

    reader = pyreadstat.read_sav if responses.format == "sav" else pyreadstat.read_dta
    _, meta = reader(responses.path, metadataonly=True, user_missing=True)
    user_missing: dict[str, tuple[Any, ...]] = {}
    for column, ranges in (getattr(meta, "missing_ranges", None) or {}).items():
        user_missing[column] = tuple(
            _code(r["lo"]) if r["lo"] == r["hi"] else (r["lo"], r["hi"]) for r in ranges
        )
    return meta.file_label or None, user_missing


def _is_user_missing(code: Any, declared: tuple[Any, ...]) -> bool:
    for item in declared:
        if isinstance(item, tuple):
            if isinstance(code, int | float) and item[0] <= code <= item[1]:
                return True
        elif code == item:
            return True
    return False


def _answer_codes(column: _Column) -> tuple[dict[str, list[Any]], list[str], list[Any]]:
    """The codes of an item by meaning, where each meaning came from, and codes of no meaning.

    Labelled files: the value labels and user-missing values; codes found in the data
    without a label have no meaning. Text values are read as labels; other
    unlabelled codes follow the project's convention.
    """
    kinds: dict[str, list[Any]] = {kind: [] for kind in CODE_KINDS}
    reasons: list[str] = []
    unknown: list[Any] = []
    labels = {_code(k): str(v) for k, v in column.value_labels.items()}
    observed = [u for u in column.uniques if u is not None and u is not pd.NA]
    declared = [c for c in column.user_missing if not isinstance(c, tuple)]
    codes = list(dict.fromkeys([*labels, *observed, *declared]))
    numeric = all(isinstance(c, int | float) for c in observed)
    zero_one = numeric and set(observed) <= {0, 1} and not labels
    for code in sorted(codes, key=lambda c: (isinstance(c, str), c)):
        label = labels.get(code)
        if label is None and isinstance(code, str):
            label = code
        kind = None if label is None else _meaning(label)
        if kind is None and _is_user_missing(code, column.user_missing):
            kind = "missing_codes"
        if kind is None and not labels and numeric:
            kind = {0: "no_codes", 1: "yes_codes"}.get(code) if zero_one else CONVENTION.get(code)
        if kind is None:
            unknown.append(code)
        else:
            kinds[kind].append(code)
    if labels:
        reasons.append("value labels")
    if column.user_missing:
        reasons.append("user-missing values")
    if not labels and numeric:
        reasons.append("codes in the data")
    return kinds, reasons, unknown


def _one_line(text: str | None) -> str | None:
    """A label on one line: line breaks and runs of spaces become one space."""
    return None if text is None else " ".join(str(text).split())


def _columns(responses: Responses) -> tuple[list[_Column], str | None]:
    title, user_missing = _file_metadata(responses)
    columns = [
        _Column(
            name=name,
            series=responses.frame[name],
            label=_one_line(responses.variable_labels.get(name)),
            value_labels={
                code: _one_line(label)
                for code, label in responses.value_labels.get(name, {}).items()
            },
            user_missing=user_missing.get(name, ()),
        )
        for name in responses.frame.columns
    ]
    return columns, title


def _is_integral(series: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return False
    values = series.dropna().to_numpy(dtype=float)
    return bool(np.all(values == np.round(values)))


def _respondent_id(columns: list[_Column], personal: dict[str, str], path: str) -> _Column:
    """The unique, non-empty column: one named like an id first, else the first in the file."""
    candidates = []
    for column in columns:
        series = column.series
        if column.name in personal or series.isna().any() or not series.is_unique:
            continue
        if pd.api.types.is_numeric_dtype(series.dtype) and not _is_integral(series):
            continue  # weights and other measurements
        if (
            not pd.api.types.is_numeric_dtype(series.dtype)
            and (series.astype("string").str.strip() == "").any()
        ):
            continue
        candidates.append(column)
    for column in candidates:
        if IDENTIFIER.search(column.name.replace("_", " ")) or IDENTIFIER.search(
            column.label or ""
        ):
            return column
    if candidates:
        return candidates[0]
    raise PrevalenceError(
        "no column is unique and non-empty, so none can be the respondent id",
        file=path,
        fix="add a column with one id per respondent, or write `respondent_id:` by hand",
    )


def _tokens(name: str) -> list[str]:
    """The words of a column name: ``firstName``, ``first_name`` -> first, name."""
    return re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", name).lower())


def _yes_no_labelled(column: _Column) -> bool:
    meanings = {_meaning(str(v)) for v in column.value_labels.values()}
    return {"yes_codes", "no_codes"} <= meanings


def _personal(columns: list[_Column]) -> dict[str, str]:
    """Columns to drop, each with why (a kind of content, never a value)."""
    found = {}
    for column in columns:
        tokens = _tokens(column.name)
        words = [" ".join(tokens[i : i + 2]) for i in range(len(tokens))] + tokens
        word = next((w for w in words if PERSONAL_NAME.match(w)), None)
        if word:
            found[column.name] = f"its name says {word!r}"
            continue
        match = None if _yes_no_labelled(column) else PERSONAL_LABEL.search(column.label or "")
        if match:
            found[column.name] = f"its label says {match.group(0).strip().lower()!r}"
            continue
        kind = classify(column.series)
        if kind is not None and not kind[0].startswith("a value unique"):
            found[column.name] = f"looks like {kind[0]}"
    return found


@dataclass
class _Plan:
    """The drafted roles of the columns, before they are written."""

    respondent_id: _Column
    drop: dict[str, str]
    domains: list[_Column] = field(default_factory=list)
    indicators: list[tuple[_Column, dict[str, list[Any]], list[str], list[Any]]] = field(
        default_factory=list
    )
    left_out: dict[str, str] = field(default_factory=dict)
    todos: list[str] = field(default_factory=list)


def _role(column: _Column) -> str:
    """``indicator``, ``domain`` or why the column is left out."""
    series = column.series
    if series.isna().all():
        return "empty"
    if any(DESIGN_NAME.match(token) for token in _tokens(column.name)):
        return DESIGN_COLUMN
    if column.value_labels:
        if _yes_no_labelled(column):
            return "indicator"
        answered = [v for v in column.value_labels.values() if _meaning(str(v)) is None]
        return "domain" if len(answered) <= MAX_LEVELS else "too many labelled values"
    distinct = series.nunique(dropna=True)
    if distinct > MAX_LEVELS:
        if pd.api.types.is_numeric_dtype(series.dtype):
            return f"numeric, not codes ({DESIGN_COLUMN})"
        return f"text with {distinct} different values"
    _factorize(column)
    observed = [u for u in column.uniques if u is not None]
    if all(isinstance(c, str) for c in observed):
        meanings = {_meaning(c) for c in observed}
        return "indicator" if {"yes_codes", "no_codes"} <= meanings else "domain"
    if not _is_integral(pd.Series([c for c in observed if not isinstance(c, str)], dtype=float)):
        return f"numeric, not codes ({DESIGN_COLUMN})"
    if DOMAIN_NAME.search(column.words):
        return "domain"
    codes = set(observed)
    if {1, 2} <= codes <= set(CONVENTION) or codes == {0, 1}:
        return "indicator"
    return "domain"


def _plan(columns: list[_Column], *, path: str) -> _Plan:
    drop = _personal(columns)
    ident = _respondent_id(columns, drop, path)
    plan = _Plan(respondent_id=ident, drop=drop)
    for column in columns:
        if column is ident or column.name in drop:
            continue
        role = _role(column)
        if role not in ("indicator", "domain"):
            plan.left_out[column.name] = role
            continue
        if column.codes is None:
            _factorize(column)
        if role == "indicator":
            plan.indicators.append((column, *_answer_codes(column)))
        else:
            plan.domains.append(column)
    if not plan.indicators:
        raise PrevalenceError(
            "found no yes/no item to make an indicator of",
            file=path,
            fix="label the answer codes (yes, no, ...) in the file, or write `indicators:` by hand",
        )
    return plan


def _mask(column: _Column, codes: list[Any]) -> np.ndarray:
    """Rows whose value is one of ``codes`` (vectorized over rows)."""
    positions = [i for i, u in enumerate(column.uniques) if u in codes]
    return np.isin(column.codes, positions)


def _routing(plan: _Plan, ids: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Follow-ups: indicator id -> (parent id, comment), where the skip code occurs exactly
    where the parent is not yes. The nearest item before the follow-up in the file wins."""
    items = plan.indicators
    skip = np.column_stack([_mask(c, k["skip_codes"]) for c, k, _, _ in items])
    not_yes = np.column_stack([~_mask(c, k["yes_codes"]) for c, k, _, _ in items])
    # mismatches[f, p]: rows where f's skip code and p's "not yes" disagree (counts of 0/1
    # products, exact in float64 below 2**53 rows; a BLAS product, not an integer loop)
    s, y = skip.astype(np.float64), not_yes.astype(np.float64)
    mismatches = s.T @ (1 - y) + (1 - s).T @ y
    found = {}
    for f, (column, kinds, _, _) in enumerate(items):
        if not skip[:, f].any():
            continue
        parents = [p for p in range(f) if p != f and mismatches[f, p] == 0]
        later = [p for p in range(f + 1, len(items)) if mismatches[f, p] == 0]
        if parents:
            p = parents[-1]
            parent = items[p][0]
            codes = ", ".join(str(c) for c in kinds["skip_codes"])
            found[ids[column.name]] = (
                ids[parent.name],
                f"{column.name} is {codes} (not applicable) in exactly the "
                f"{int(skip[:, f].sum())} rows where {parent.name} is not yes",
            )
        elif later:
            plan.todos.append(
                f"{ids[column.name]}: its not-applicable code matches where "
                f"{items[later[0]][0].name} (after it in the file) is not yes: a denominator?"
            )
    return found


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------
def _scalar(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**9)
    return text.removesuffix("\n").removesuffix("\n...").strip()


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, text: str, indent: int = 0) -> None:
        self.lines.append(f"{'  ' * indent}# {text}".rstrip())

    def item(self, key: Any, value: Any = None, comment: str | None = None, indent: int = 0):
        line = f"{'  ' * indent}{_scalar(key)}:"
        if value is not None:
            line += f" {_scalar(value)}"
        if comment:
            line += f"  # {comment}"
        self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _domain(column: _Column, ident: str, plan: _Plan) -> tuple[dict[str, Any], str]:
    """A domain's spec and the comment on it; what needs a decision goes to the TODOs."""
    spec: dict[str, Any] = {"column": column.name}
    if column.label:
        spec["label"] = column.label
    observed = [u for u in column.uniques if u is not None]
    if column.value_labels:
        labels = {_code(k): str(v) for k, v in column.value_labels.items()}
        missing = [
            c
            for c in dict.fromkeys([*labels, *observed])
            if _meaning(labels.get(c, "")) in ("missing_codes", "skip_codes")
            or _is_user_missing(c, column.user_missing)
        ]
        spec["labels"] = {c: v for c, v in labels.items() if c not in missing}
        if missing:
            spec["missing_codes"] = missing
        unlabelled = [u for u in observed if u not in labels and u not in missing]
        if unlabelled:
            plan.todos.append(
                f"domain {ident}: {len(unlabelled)} value(s) in the data have no label: "
                "add them to labels or to missing_codes"
            )
        return spec, f"{len(spec['labels'])} labelled values"
    if all(isinstance(u, str) for u in observed):
        return spec, f"{len(observed)} text value(s), their own labels"
    plan.todos.append(
        f"domain {ident}: codes {sorted(observed)} have no labels: add `labels:` (code: label)"
    )
    return spec, "TODO: codes from the data, labels unknown"


def _indicators(
    plan: _Plan, ids: dict[str, str], routing: dict[str, tuple[str, str]]
) -> tuple[dict[str, list[Any]], dict[str, dict[str, Any]], dict[str, str]]:
    """The defaults (the commonest answer codes), each indicator's spec, and the comments on
    denominators; what needs a decision goes to the TODOs."""
    _share_conventional_codes(plan)
    common = Counter(
        tuple(tuple(kinds[k]) for k in CODE_KINDS) for _, kinds, _, _ in plan.indicators
    ).most_common(1)[0][0]
    defaults = {k: list(v) for k, v in zip(CODE_KINDS, common, strict=True)}
    specs: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    unlabelled, conventional = [], []
    for column, kinds, reasons, unknown in plan.indicators:
        ident = ids[column.name]
        spec: dict[str, Any] = {"column": column.name}
        if column.label:
            spec["label"] = spec["question"] = column.label
        else:
            unlabelled.append(ident)
        spec.update({kind: kinds[kind] for kind in CODE_KINDS if defaults[kind] != kinds[kind]})
        if ident in routing:
            spec["denominator"], notes[ident] = routing[ident]
        if unknown:
            plan.todos.append(
                f"{ident}: code(s) {unknown} of {column.name} have no meaning the draft can tell: "
                "add each to yes_codes, no_codes, missing_codes or skip_codes"
            )
        if "codes in the data" in reasons:
            conventional.append(ident)
        specs[ident] = spec
    if unlabelled:
        plan.todos.append(f"no label in the file for {_few(unlabelled)}: write `label:` for each")
    if conventional:
        plan.todos.append(
            f"the codes of {_few(conventional)} are taken from the data by the usual convention "
            "(1 yes, 2 no, 7 not applicable, 8 don't know, 9 refused; 0 no where the codes are "
            "0 and 1): check them against the questionnaire"
        )
    return defaults, specs, notes


def draft_codebook(path: str | Path, *, sheet: str | int | None = None) -> Draft:
    """Draft the codebook of a responses file (see the module docstring).

    Parameters
    ----------
    path
        A responses file: ``.sav``, ``.dta`` (labels used), ``.csv``, ``.xlsx``
        or ``.parquet`` (codes from the data).
    sheet
        The worksheet of an ``.xlsx`` file.

    Returns
    -------
    Draft
        The commented YAML (validated against the codebook schema), its mapping
        and the list of what needs checking by hand.

    Raises
    ------
    PrevalenceError
        When the file cannot be read, or no column can be the respondent id, or
        no column is a yes/no item.
    """
    if not Path(path).is_file():
        raise PrevalenceError(
            "responses file not found", file=str(path), fix="give the path of a responses file"
        )
    responses = read_responses(path, sheet=sheet)
    columns, title = _columns(responses)
    plan = _plan(columns, path=responses.path)
    taken: set[str] = set()
    domain_ids = _ids(plan.domains, taken)
    indicator_ids = _ids([c for c, _, _, _ in plan.indicators], taken)
    routing = _routing(plan, indicator_ids)

    book: dict[str, Any] = {}
    if title:
        book["title"] = title
    if sheet is not None:
        book["sheet"] = sheet
    book["respondent_id"] = plan.respondent_id.name
    if plan.drop:
        book["drop"] = list(plan.drop)
    notes: dict[str, str] = {}
    if plan.domains:
        book["domains"] = {}
        for column in plan.domains:
            ident = domain_ids[column.name]
            book["domains"][ident], notes[ident] = _domain(column, ident, plan)
    book["defaults"], book["indicators"], routed = _indicators(plan, indicator_ids, routing)
    notes.update(routed)
    parse_codebook(book, path=f"draft of {responses.path}")  # the draft is always valid
    text = _render(book, plan, responses, notes)
    if yaml.safe_load(text) != book:  # pragma: no cover - the writer and the mapping disagree
        raise AssertionError("the drafted YAML does not read back as the drafted codebook")
    return Draft(text=text, codebook=book, todos=tuple(plan.todos))


def _few(names: list[str]) -> str:
    return ", ".join(names) if len(names) <= 4 else f"{len(names)} indicators ({names[0]}, ...)"


def _share_conventional_codes(plan: _Plan) -> None:
    """Items whose codes come from the data by the convention share them all (the defaults):
    an item without a refusal in the data still treats 9 as refused."""
    shared = [
        k for c, k, r, _ in plan.indicators if "codes in the data" in r and 2 in k["no_codes"]
    ]
    for kind in CODE_KINDS:
        union = sorted({code for kinds in shared for code in kinds[kind]})
        for kinds in shared:
            kinds[kind][:] = union


MEANINGS = {
    "yes_codes": "yes: a case",
    "no_codes": "no",
    "missing_codes": "outside the denominator",
    "skip_codes": "not applicable by the skip logic",
}
FORMAT_NAMES = {"sav": "SPSS", "dta": "Stata", "xlsx": "Excel", "csv": "CSV", "parquet": "parquet"}


def _render(book: dict[str, Any], plan: _Plan, responses: Responses, notes: dict[str, str]):
    """The codebook as YAML, each choice with a comment saying where it came from."""
    out = _Writer()
    rows = len(responses.frame)
    out.comment(
        f"Codebook drafted by `prevalence codebook draft` from {Path(responses.path).name} "
        f"({FORMAT_NAMES[responses.format]}, {rows} rows, {responses.frame.shape[1]} columns)."
    )
    out.comment("Check every line against the questionnaire; each TODO needs a decision.")
    out.comment("Answer codes: see codebook.schema.yaml; validate with `prevalence check`.")
    for todo in plan.todos:
        out.comment(f"TODO {todo}")
    for key in ("title", "sheet"):
        if key in book:
            out.item(key, book[key])
    out.item(
        "respondent_id",
        book["respondent_id"],
        f"unique and non-empty in all {rows} rows; never leaves ingest",
    )
    if plan.drop:
        out.item("drop", comment="identifiers and free text: removed at ingest")
        for column, why in plan.drop.items():
            out.lines.append(f"  - {_scalar(column)}  # {why}")
    if "domains" in book:
        out.item("domains", comment="grouping variables")
        for ident, spec in book["domains"].items():
            out.item(ident, comment=notes[ident], indent=1)
            for key in ("column", "label"):
                if key in spec:
                    out.item(key, spec[key], indent=2)
            if "labels" in spec:
                out.item("labels", indent=2)
                for code, label in spec["labels"].items():
                    out.item(code, label, indent=3)
            if "missing_codes" in spec:
                out.item("missing_codes", spec["missing_codes"], "outside every domain", indent=2)
    indicators = book["indicators"]
    share = sum(all(k not in spec for k in CODE_KINDS) for spec in indicators.values())
    out.item("defaults", comment=f"answer codes of {share} of {len(indicators)} indicators")
    labels = _answer_labels(plan)
    for kind, codes in book["defaults"].items():
        said = ", ".join(labels[c] for c in codes if c in labels)
        out.item(kind, codes, said or MEANINGS[kind], indent=1)
    out.item("indicators", comment="binary indicators, harmonized across waves by their ids")
    for ident, spec in indicators.items():
        out.item(ident, indent=1)
        for key in ("column", "label", "question", *CODE_KINDS):
            if key in spec:
                out.item(key, spec[key], indent=2)
        if "denominator" in spec:
            out.item("denominator", spec["denominator"], notes[ident], indent=2)
    if plan.left_out:
        out.comment("Columns left out (they stay behind at ingest):")
        for column, why in plan.left_out.items():
            out.comment(f"  {column}: {why}")
    return out.text()


def _answer_labels(plan: _Plan) -> dict[Any, str]:
    """Code -> label, where every labelled item agrees on it (for the defaults' comments)."""
    seen: dict[Any, set[str]] = {}
    for column, _, _, _ in plan.indicators:
        for code, label in column.value_labels.items():
            seen.setdefault(_code(code), set()).add(str(label))
    return {code: next(iter(names)) for code, names in seen.items() if len(names) == 1}


def write_draft(
    path: str | Path, out: str | Path, *, sheet: str | int | None = None, force: bool = False
) -> Draft:
    """Draft the codebook of ``path`` and write it to ``out`` (never over a file, unless ``force``)."""
    from prevalence.data.io import write_text

    out = Path(out)
    if out.exists() and not force:
        raise PrevalenceError(
            "the file exists; a draft never overwrites a codebook",
            file=str(out),
            fix="choose another --out, or add --force to replace it",
        )
    draft = draft_codebook(path, sheet=sheet)
    write_text(out, draft.text)
    return draft
