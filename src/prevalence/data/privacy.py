"""Privacy gate at ingest: refuse identifiers and free text; report small groups.

Two checks protect the respondents, women who report threats and abuse in
populations so small that a region and an age group can name a person:

* :func:`scan_columns` looks at every text column the codebook does not drop
  for what looks like e-mail addresses, phone numbers, URLs, personal names or
  free text, and refuses to go on until the codebook drops the column (or, for a
  declared column, until the data are fixed).
* :func:`small_groups` lists every combination of the quasi-identifiers (the
  codebook's domains) shared by fewer than ``k`` respondents: a k-anonymity
  report for the ingest log, and the basis for a refusal or for coarsening.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prevalence.errors import PrevalenceError

PATTERNS: dict[str, re.Pattern[str]] = {
    "e-mail addresses": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "URLs": re.compile(r"(?i)\b(?:https?://|www\.)\S+"),
}
PHONE = re.compile(r"(?<![\w/])\+?\(?\d[\d ().-]{6,}\d(?![\w/])")
DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")


def _phones(text: pd.Series) -> pd.Series:
    """Values holding a run of 8 or more digits with phone separators that is not a date."""
    runs = text.str.extract(f"({PHONE.pattern})", expand=False)
    digits = runs.str.count(r"\d").fillna(0)
    date = runs.fillna("").str.fullmatch(DATE)
    return (digits >= 8) & ~date


# A word of a personal name in any alphabet: letters, inner apostrophes, hyphens or dots
# ("García", "Sørensen", "O'Brien", "Jean-Pierre", "J."), no digit.
NAME_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*\.?")
# Lower-case words inside names ("María de la Cruz", "Ludwig van Beethoven", "al-Sayed").
PARTICLES = frozenset(
    "de da das do dos du del della der den van von la le el al bin binti bint ibn abu ben "
    "y e di ter ten zu af av".split()
)
# Words of ordinary category labels, never of a personal name: a region ("Latin America",
# "Asia-Pacific", "Middle East") or a role ("Deputy Speaker") is not a person.
CATEGORY_WORDS = frozenset(
    "north south east west northern southern eastern western central middle latin america "
    "americas african africa asia asian europe european pacific oceania caribbean arab states "
    "nordic gulf islands island region regions sub saharan countries country union kingdom "
    "republic federation world global international other others unknown rest "
    "member members parliament parliamentary staff speaker deputy chair chairperson committee "
    "minister senator senate assembly adviser advisor officer secretary president clerk mp mps "
    "party house council leader head assistant director senior junior researcher opposition "
    "government majority minority group upper lower chamber".split()
)


@dataclass(frozen=True)
class Finding:
    """A column that looks like it identifies people, and why."""

    column: str
    kind: str
    index: int


def _text(series: pd.Series) -> pd.Series | None:
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return None
    text = series.astype("string").str.strip()
    text = text[text.notna() & (text != "")]
    # Numbers (also numbers stored as text, and a column of numbers with "NA") are codes.
    text = text[pd.to_numeric(text, errors="coerce").isna()]
    if text.empty:
        return None
    return text


def looks_like_names(text: pd.Series) -> np.ndarray:
    """Which values look like a personal name, in any alphabet ("Ngozi García", "Irène Sørensen").

    Two to five words, each a :data:`NAME_WORD`; at least two begin with a capital
    (or a letter of a script without case, such as Arabic or Chinese), the others are
    particles ("de", "van", "al-"); no word of an ordinary category label
    (:data:`CATEGORY_WORDS`: "Latin America", "Deputy Speaker" are not people).
    """
    codes, uniques = pd.factorize(text)  # each distinct value once
    if not len(uniques):
        return np.zeros(len(text), dtype=bool)
    return _names(pd.Series(uniques, dtype="string"))[codes] & (codes >= 0)


def _names(text: pd.Series) -> np.ndarray:
    words = text.str.split().explode()
    words = words[words.notna()]
    lower = words.str.lower()
    first = words.str[0]
    capital = first.str.isupper() | (first.str.lower() == first.str.upper())
    head = lower.str.split(r"['’-]", n=1, regex=True).str[0]
    particle = lower.isin(PARTICLES) | (head.isin(PARTICLES) & lower.str.contains(r"['’-]"))
    shaped = words.str.fullmatch(NAME_WORD).fillna(False).astype(bool)
    parts = lower.str.split(r"[-'’.]", regex=True).explode()
    category = parts.isin(CATEGORY_WORDS).groupby(level=0).any()
    frame = pd.DataFrame(
        {"good": shaped & (capital | particle), "capital": shaped & capital}, index=words.index
    )
    per_value = frame.groupby(level=0).agg(
        words=("good", "size"), good=("good", "all"), capitals=("capital", "sum")
    )
    per_value["category"] = category.reindex(per_value.index, fill_value=False)
    ok = (
        per_value["good"]
        & per_value["words"].between(2, 5)
        & (per_value["capitals"] >= 2)
        & ~per_value["category"]
    )
    return ok.reindex(text.index, fill_value=False).to_numpy(dtype=bool)


def classify(series: pd.Series, *, declared: bool = False) -> tuple[str, int] | None:
    """What identifying content a column holds, and the first row showing it; None if none.

    Rules (any one suffices): a value with an e-mail address, a URL or a phone
    number; values that look like personal names (:func:`looks_like_names`) in most
    rows, either mostly distinct or, in a column the codebook does not declare, ten
    different names or more (a declared domain keeps its few repeated labels);
    free text: values of four words or more on average, longer than 25 characters
    on average, with at least five different values; an identifier: text values
    nearly all different (over 90% distinct, 10 rows or more).
    """
    text = _text(series)
    if text is None:
        return None
    checks = {kind: text.str.contains(pattern) for kind, pattern in PATTERNS.items()}
    checks["phone numbers"] = _phones(text)
    for kind, hits in checks.items():
        hits = hits.fillna(False).to_numpy(dtype=bool)
        if hits.any():
            return kind, int(text.index[hits][0])
    distinct = text.nunique() / len(text)
    names = looks_like_names(text)
    if len(text) >= 5 and names.mean() > 0.5:
        many = not declared and text[names].nunique() >= 10
        if distinct > 0.5 or many:
            return "personal names", int(text.index[names][0])
    words = text.str.count(" ") + 1
    if len(text) >= 5 and text.str.len().mean() > 25 and words.mean() >= 4 and text.nunique() >= 5:
        return "free text", int(text.index[0])
    if len(text) >= 10 and distinct > 0.9:
        return "a value unique to each respondent (an identifier)", int(text.index[0])
    return None


def scan_columns(
    frame: pd.DataFrame,
    *,
    skip: Iterable[str],
    declared: Iterable[str],
    path: str,
    codebook_path: str,
    locate: Callable[[int], str],
) -> list[Finding]:
    """Refuse a text column that looks identifying; return the findings.

    ``skip`` are the columns already dropped (respondent id, the ``drop`` list).
    A finding in an undeclared column asks to add it to ``drop``; in a declared
    column (a domain or design column) it asks to correct the data.
    """
    skip, declared = set(skip), set(declared)
    findings = []
    for column in frame.columns:  # a handful of columns; each check is vectorized
        if column in skip:
            continue
        found = classify(frame[column], declared=column in declared)
        if found is None:
            continue
        kind, index = found
        finding = Finding(column, kind, index)
        findings.append(finding)
        if column in declared:
            fix = "a grouping or design column must hold codes or short category labels: correct the data"
        else:
            fix = f"add {column!r} to `drop:` in {codebook_path} (identifiers and free text never leave ingest)"
        raise PrevalenceError(
            f"the column looks like it holds {kind}",
            file=path,
            column=column,
            row=locate(index),
            fix=fix,
        )
    return findings


def small_groups(frame: pd.DataFrame, domains: Sequence[str], k: int) -> list[dict]:
    """Combinations of the quasi-identifiers held by fewer than ``k`` respondents.

    Each combination of the domains' values (rows with a missing value count in a
    group of their own, "(missing)") with its count, smallest first.
    """
    if not domains or len(frame) == 0:
        return []
    factorized = [pd.factorize(frame[d], use_na_sentinel=True) for d in domains]
    if math.prod(len(values) + 1 for _, values in factorized) >= 2**62:
        keys = frame[list(domains)].astype("string").fillna("(missing)")
        table = keys.value_counts(sort=False).reset_index(name="n")
        table = table[table["n"] < k].sort_values(["n", *domains], kind="stable")
        return [
            {"values": {d: str(row[d]) for d in domains}, "n": int(row["n"])}
            for _, row in table.iterrows()
        ]
    key = np.zeros(len(frame), dtype=np.int64)
    names = []
    for codes, values in factorized:  # each row's combination as one integer (mixed radix)
        key *= len(values) + 1
        key += codes + 1
        names.append(["(missing)", *(str(v) for v in values)])
    combos, counts = np.unique(key, return_counts=True)
    small = counts < k
    rows = []
    for combo, n in zip(combos[small], counts[small], strict=True):
        values = {}
        for domain, labels in zip(reversed(domains), reversed(names), strict=True):
            combo, code = divmod(int(combo), len(labels))
            values[domain] = labels[code]
        rows.append({"values": {d: values[d] for d in domains}, "n": int(n)})
    rows.sort(key=lambda g: (g["n"], *(g["values"][d] for d in domains)))
    return rows


def coarsen(
    frame: pd.DataFrame, domain: str, k: int, other: str = "Other"
) -> tuple[pd.Series, list[str]]:
    """Merge the values of ``domain`` held by fewer than ``k`` respondents into ``other``.

    Returns the new categorical column and the merged values. When the merged
    group itself stays below ``k`` it is still returned: disclosure control
    suppresses it at publication.
    """
    column = frame[domain]
    counts = column.value_counts()
    small = [str(v) for v in column.cat.categories if 0 < counts.get(v, 0) < k]
    if not small:
        return column, []
    kept = [c for c in column.cat.categories if c not in small]
    values = column.astype("string").where(~column.isin(small), other)
    categories = kept + ([other] if other not in kept else [])
    return pd.Categorical(values, categories=categories), small
