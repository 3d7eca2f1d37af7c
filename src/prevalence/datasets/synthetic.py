"""Synthetic microdata: the embedded default data and the tiny test survey.

The Inter-Parliamentary Union (IPU) publishes percentages, never the answers of
individual respondents. This module builds *synthetic* respondent-level files
that reproduce every published percentage exactly (at its published rounding),
so that the pipeline can run end to end on data shaped like the real surveys.

What is real and what is invented
---------------------------------
Real (taken from the publications cited in each wave's ``source``):

* the published percentages, listed in :data:`WAVES` as ``figures`` and
  written to ``data/published/targets.yaml``;
* the sample sizes: 55 women MPs in 2016 with their split by region
  (Africa 18, Europe 15, Asia-Pacific 10, Americas 8, Arab States 4);
  81 MPs and 42 staff in 2018; 137 MPs and 87 staff in 2021; 150 women MPs and
  staff in 2025.

Invented (plausible, not degenerate, but not facts):

* every respondent, name and comment (names are visibly fake:
  "Respondent Alpha 001");
* the split of the 2025 sample into 90 MPs and 60 staff;
* the sub-regions of the regional waves and every split by region and age
  group, including the regional variation of prevalence;
* the item non-response (codes 8 and 9), chosen where integer counts need it
  to hit a published rounding (e.g. 44.4% = 24/54 among 55 respondents) and
  sprinkled elsewhere as real surveys have it;
* the answers of staff to questions whose staff figure was not published, and
  of MPs to questions published only for staff;
* the question wording in the codebooks (paraphrased, not the questionnaire);
* the single-choice and "check all that apply" questions of a wave (``choices`` and
  ``groups`` of its spec: who was behind the attacks online, where the violence happened),
  whose answers are drawn after every other column, so that the others do not change.

How the data are built
----------------------
For each indicator and role the spec fixes the exact counts of yes, no, don't
know (8) and refused (9) answers (:class:`Answers`). The counts are placed over
respondents with a seeded :func:`numpy.random.default_rng`: the item
non-response goes to a random subset, then the yes answers go to the
respondents with the highest score ``0.6 u + 0.4 exposure + region effect +
age effect`` (``u`` fresh uniform noise per item, ``exposure`` a per-respondent
uniform shared across items so that forms of violence co-occur). Totals are
therefore exact by construction while prevalence still varies by region and
age. Only uniform draws, permutations, sums, products and stable sorts are used
(no log or exp), so the result does not depend on the platform.

Estimator reproduced
--------------------
proportion = (answers coded yes) / (answers coded yes or no) among respondents
in the domain; codes 7 (not applicable), 8 and 9 are outside the denominator.
For an "of whom" indicator the denominator is restricted to respondents whose
parent indicator is yes; its question is coded 7 for everyone else (skip logic).

Command line::

    python -m prevalence.datasets.synthetic data/raw --tiny tests/fixtures/tiny \\
        --targets data/published/targets.yaml
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

YES, NO, NOT_APPLICABLE, DONT_KNOW, REFUSED = 1, 2, 7, 8, 9
ANSWER_CODES = (YES, NO, NOT_APPLICABLE, DONT_KNOW, REFUSED)
ANSWER_LABELS = {
    YES: "yes",
    NO: "no",
    NOT_APPLICABLE: "not applicable",
    DONT_KNOW: "don't know",
    REFUSED: "refused",
}
ROLE_LABELS = {1: "MP", 2: "staff"}
#: the respondents of each role, in the plural, for the key findings
ROLE_NOUNS = {"MP": "women MPs", "staff": "women parliamentary staff"}
AGE_LABELS = {1: "under 45", 2: "45 and over"}

RESPONSES_FILE = {"csv": "responses.csv", "xlsx": "responses.xlsx"}
RESPONSES_FILE |= {"dta": "responses.dta", "sav": "responses.sav"}
XLSX_SHEET = "responses"
FIXED_TIMESTAMP = (2025, 1, 1, 0, 0, 0)
SYNTHETIC_NOTE = [  # SPSS document lines (at most 80 characters each)
    "SYNTHETIC microdata written by prevalence.datasets.synthetic.",
    "Real: only the published percentages and sample sizes.",
    "Invented: respondents, names, comments, splits by region and age,",
    "item non-response and every value that was not published.",
]

# Harmonized indicators: the same id for the same concept in every wave.
#: what a "yes" means, as the end of a sentence about respondents (the key findings)
FINDINGS: dict[str, str] = {
    "psychological": "had experienced psychological violence",
    "sexist_remarks": "had been subjected to sexist remarks or behaviour",
    "threats": "had received threats of death, rape, beatings or abduction",
    "online_sexist_attacks": "had been the target of sexist attacks online",
    "sexual_images_online": "had had humiliating or sexual images of them spread online",
    "sexual_harassment": "had been subjected to sexual harassment",
    "sexual_violence": "had experienced sexual violence",
    "forced_sex_attempt": "had been the target of attempted forced sexual relations",
    "physical": "had experienced physical violence",
    "weapon_threat": "had been threatened with a weapon",
    "economic": "had experienced economic violence",
    "online_gbv": "had experienced online gender-based violence",
    "online_hate_speech": "had faced online hate speech",
    "image_based_abuse": "had faced image-based abuse, including deepfakes",
    "doxing": "had been doxed (their personal details published online)",
    "where_parliament": "had experienced it in parliament",
    "where_constituency": "had experienced it in their constituency or while campaigning",
    "where_online": "had experienced it online",
}

CONCEPTS: dict[str, tuple[str, str]] = {
    "psychological": (
        "Psychological violence",
        "Have you experienced psychological violence (behaviour meant to cause fear or "
        "psychological harm, such as insults, intimidation or harassment) in connection "
        "with your work in parliament?",
    ),
    "sexist_remarks": (
        "Sexist remarks or behaviour",
        "Have you repeatedly been subjected to humiliating sexist remarks or behaviour, "
        "including remarks on your appearance or based on gender stereotypes?",
    ),
    "threats": (
        "Threats of death, rape, beatings or abduction",
        "Have you received threats of death, rape, beatings or abduction?",
    ),
    "online_sexist_attacks": (
        "Sexist attacks online",
        "Have you been the target of sexist attacks on social networks or other online media?",
    ),
    "sexual_images_online": (
        "Humiliating or sexual images spread online",
        "Have humiliating or sexually charged images of you been spread online?",
    ),
    "sexual_harassment": (
        "Sexual harassment",
        "Have you been subjected to sexual harassment (unwanted sexual advances, "
        "requests, remarks or contact)?",
    ),
    "sexual_violence": (
        "Sexual violence",
        "Have you experienced sexual violence (including sexual harassment and forced "
        "or attempted forced sexual acts)?",
    ),
    "forced_sex_attempt": (
        "Attempted forced sexual relations",
        "Has anyone tried to force you to have sexual relations?",
    ),
    "physical": (
        "Physical violence",
        "Have you been slapped, pushed, struck or targeted with an object that could have "
        "injured you?",
    ),
    "weapon_threat": (
        "Threatened with a weapon",
        "Have you been threatened with a weapon?",
    ),
    "economic": (
        "Economic violence",
        "Have you been denied funds, resources or remuneration you were entitled to, or "
        "had property damaged, because you are a woman?",
    ),
    "online_gbv": (
        "Online gender-based violence",
        "Have you experienced gender-based violence online (on social media, messaging or e-mail)?",
    ),
    "online_hate_speech": (
        "Online hate speech",
        "Was this online violence hate speech targeting you as a woman?",
    ),
    "image_based_abuse": (
        "Image-based abuse (including deepfakes)",
        "Did it include manipulated or intimate images of you, including deepfakes?",
    ),
    "doxing": (
        "Doxing",
        "Were your personal details (such as home address or phone number) published "
        "online without your consent?",
    ),
    "where_parliament": (
        "In parliament",
        "Did it happen in parliament (in the chamber, in committees or in offices)?",
    ),
    "where_constituency": (
        "In the constituency or while campaigning",
        "Did it happen in your constituency or during an election campaign?",
    ),
    "where_online": (
        "Online",
        "Did it happen online (on social media, messaging or e-mail)?",
    ),
}


@dataclass(frozen=True)
class Item:
    """One question column: which indicator it measures, and its parent if "of whom"."""

    indicator: str
    column: str
    parent: str | None = None


@dataclass(frozen=True)
class Answers:
    """Exact answer counts for one indicator among one role (or its parent-yes subset)."""

    yes: int
    no: int
    dont_know: int = 0
    refused: int = 0

    @property
    def valid(self) -> int:
        return self.yes + self.no

    @property
    def total(self) -> int:
        return self.yes + self.no + self.dont_know + self.refused


@dataclass(frozen=True)
class Category:
    """One answer of a single-choice question: its code and label."""

    code: int
    label: str


@dataclass(frozen=True)
class Choice:
    """A single-choice question (``type: categorical`` in the codebook), asked of those who
    said yes to ``parent``; ``answers`` are exact counts per role: each category's, then
    ``dont_know`` and ``refused``."""

    indicator: str
    column: str
    parent: str
    label: str
    question: str
    finding: str
    categories: dict[str, Category]
    answers: dict[str, dict[str, int]]

    def total(self, role: str) -> int:
        return sum(self.answers[role].values())


@dataclass(frozen=True)
class Group:
    """A "check all that apply" question: binary items with one shared parent (their
    answers are in the wave's ``answers`` like any item's)."""

    id: str
    label: str
    question: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Figure:
    """A published percentage. ``role`` None means all respondents (domain overall)."""

    indicator: str
    role: str | None
    value: float
    decimals: int
    text: str


@dataclass(frozen=True)
class WaveSpec:
    """Everything that defines one synthetic wave."""

    wave: str
    title: str
    source: str
    fmt: str
    seed: int
    id_column: str
    id_prefix: str | None  # text ids "<prefix>001"; None: numeric ids id_start + k
    id_start: int
    region_column: str
    role_column: str
    age_column: str
    regions: tuple[str, ...]
    # role -> per region (count under 45, count 45 and over), in the order of ``regions``
    cells: dict[str, tuple[tuple[int, int], ...]]
    region_effect: tuple[float, ...]
    age_effect: tuple[float, float]
    items: tuple[Item, ...]
    answers: dict[str, dict[str, Answers]]  # role -> indicator -> counts
    figures: tuple[Figure, ...]
    choices: tuple[Choice, ...] = ()  # single-choice questions, drawn after the comments
    groups: tuple[Group, ...] = ()  # "check all that apply" questions, drawn after the comments

    @property
    def binary_items(self) -> tuple[Item, ...]:
        """Every yes/no item: the wave's own, then those of its groups."""
        return self.items + tuple(item for group in self.groups for item in group.items)

    @property
    def labelled(self) -> bool:
        """True when domains are stored as numeric codes with value labels (dta, sav)."""
        return self.fmt in ("dta", "sav")

    def role_count(self, role: str) -> int:
        return sum(a + b for a, b in self.cells[role])


#: The embedded waves, in order; each one's specification is data, in
#: ``synthetic_waves/<wave>.yaml`` beside this module (read by :func:`load_spec`).
WAVE_IDS = ("2016-global", "2018-europe", "2021-africa", "2025-asia-pacific")


def load_spec(wave_id: str) -> WaveSpec:
    """The specification of the embedded wave ``wave_id``, read from its YAML file."""
    text = resources.files("prevalence").joinpath(f"datasets/synthetic_waves/{wave_id}.yaml")
    raw = yaml.safe_load(text.read_text(encoding="utf-8"))
    return WaveSpec(
        **{
            **raw,
            "regions": tuple(raw["regions"]),
            "cells": {role: tuple(map(tuple, cells)) for role, cells in raw["cells"].items()},
            "region_effect": tuple(raw["region_effect"]),
            "age_effect": tuple(raw["age_effect"]),
            "items": tuple(Item(**item) for item in raw["items"]),
            "answers": {
                role: {ind: Answers(**counts) for ind, counts in by_indicator.items()}
                for role, by_indicator in raw["answers"].items()
            },
            "figures": tuple(Figure(**figure) for figure in raw["figures"]),
            "choices": tuple(_choice(c) for c in raw.get("choices", ())),
            "groups": tuple(
                Group(**{**g, "items": tuple(Item(**i) for i in g["items"])})
                for g in raw.get("groups", ())
            ),
        }
    )


def _choice(raw: dict) -> Choice:
    categories = {cat: Category(**spec) for cat, spec in raw["categories"].items()}
    return Choice(**{**raw, "categories": categories})


WAVES: dict[str, WaveSpec] = {wave_id: load_spec(wave_id) for wave_id in WAVE_IDS}

NATO = np.array(
    "Alpha Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliett Kilo Lima Mike "
    "November Oscar Papa Quebec Romeo Sierra Tango Uniform Victor Whiskey Xray Yankee "
    "Zulu".split()
)
# Free-text comments (all invented). Empty strings weight the draw towards no comment.
COMMENTS = np.array(
    [""] * 9
    + [
        "Synthetic comment: prefers not to give details.",
        "Synthetic comment: incident reported to the Speaker's office.",
        "Synthetic comment: mentions a named colleague (fictional).",
        "Synthetic comment: abuse intensified during the election campaign.",
        "Synthetic comment: asked that the interview stay confidential.",
        "Synthetic comment: most incidents happened on social media.",
    ]
)


# --------------------------------------------------------------------------- helpers


def within_rounding(yes: int, valid: int, value: float, decimals: int) -> bool:
    """True when 100 * yes / valid rounds to ``value`` at ``decimals`` (ties excluded)."""
    if valid <= 0:
        return False
    return abs(100.0 * yes / valid - value) < 0.5 * 10.0**-decimals - 1e-9


def check_spec(spec: WaveSpec) -> None:
    """Raise ValueError if the counts of ``spec`` are inconsistent or miss a published figure."""
    items = {item.indicator: item for item in spec.binary_items}
    for choice in spec.choices:
        for role, by_indicator in spec.answers.items():
            if choice.total(role) != by_indicator[choice.parent].yes:
                raise ValueError(
                    f"{spec.wave}: {choice.indicator} / {role}: counts sum to "
                    f"{choice.total(role)}, expected {by_indicator[choice.parent].yes}"
                )
    for role, by_indicator in spec.answers.items():
        if set(by_indicator) != set(items):
            raise ValueError(f"{spec.wave}: role {role} does not answer every indicator")
        for indicator, counts in by_indicator.items():
            parent = items[indicator].parent
            expected = spec.role_count(role) if parent is None else by_indicator[parent].yes
            if counts.total != expected:
                raise ValueError(
                    f"{spec.wave}: {indicator} / {role}: counts sum to {counts.total}, "
                    f"expected {expected}"
                )
    for fig in spec.figures:
        roles = list(spec.answers) if fig.role is None else [fig.role]
        yes = sum(spec.answers[r][fig.indicator].yes for r in roles)
        valid = sum(spec.answers[r][fig.indicator].valid for r in roles)
        if not within_rounding(yes, valid, fig.value, fig.decimals):
            raise ValueError(
                f"{spec.wave}: {fig.indicator} / {fig.role or 'All'}: {yes}/{valid} does not "
                f"round to {fig.value}"
            )


def _names(n: int) -> np.ndarray:
    k = np.arange(1, n + 1)
    words = pd.Series(NATO[(k - 1) % NATO.size])
    numbers = pd.Series(k).astype(str).str.zfill(3)
    return ("Respondent " + words + " " + numbers).to_numpy()


def _ids(spec: WaveSpec, n: int) -> np.ndarray:
    k = np.arange(1, n + 1)
    if spec.id_prefix is None:
        return spec.id_start + k
    return (spec.id_prefix + pd.Series(k).astype(str).str.zfill(3)).to_numpy()


def _place(
    rng: np.random.Generator,
    out: np.ndarray,
    eligible: np.ndarray,
    counts: Answers,
    score: np.ndarray,
) -> None:
    """Write exactly ``counts`` answers into ``out`` at the ``eligible`` row positions.

    Item non-response goes to a random subset; the yes answers go to the remaining
    respondents with the highest ``score`` plus fresh uniform noise.
    """
    perm = rng.permutation(eligible)
    noise = rng.random(eligible.size)
    n_dk, n_missing = counts.dont_know, counts.dont_know + counts.refused
    out[perm[:n_dk]] = DONT_KNOW
    out[perm[n_dk:n_missing]] = REFUSED
    rest = perm[n_missing:]
    key = 0.6 * noise[n_missing:] + score[rest]
    top = rest[np.argsort(-key, kind="stable")[: counts.yes]]
    out[rest] = NO
    out[top] = YES


# --------------------------------------------------------------------------- waves


def generate_wave(wave_id: str) -> pd.DataFrame:
    """The synthetic responses of one wave, laid out exactly as its responses file.

    Region and role are text in csv/xlsx waves and numeric codes (see
    :func:`codebook`) in dta/sav waves; age group is always a numeric code.
    Deterministic: the same frame on every call and every platform.
    """
    return generate_responses(WAVES[wave_id])


def generate_responses(spec: WaveSpec) -> pd.DataFrame:
    """The synthetic responses of the wave ``spec`` describes (see :func:`generate_wave`)."""
    check_spec(spec)
    rng = np.random.default_rng(spec.seed)

    roles = list(spec.cells)
    role_codes = [next(c for c, lab in ROLE_LABELS.items() if lab == r) for r in roles]
    counts = np.array([spec.cells[r] for r in roles])  # role x region x age
    n_regions = len(spec.regions)
    role = np.repeat(np.repeat(role_codes, n_regions * 2), counts.ravel())
    region = np.repeat(
        np.tile(np.repeat(np.arange(1, n_regions + 1), 2), len(roles)), counts.ravel()
    )
    age = np.repeat(np.tile([1, 2], len(roles) * n_regions), counts.ravel())
    n = role.size
    order = rng.permutation(n)
    role, region, age = role[order], region[order], age[order]

    exposure = rng.random(n)
    answers: dict[str, np.ndarray] = {}
    people = _People(spec, roles, role_codes, role, region, age, exposure)
    _place_items(rng, spec.items, people, answers)
    comments = COMMENTS[rng.integers(0, COMMENTS.size, n)]
    # drawn after the comments, so that the columns of a wave without them never change
    _place_items(rng, [i for g in spec.groups for i in g.items], people, answers)
    for choice in spec.choices:
        answers[choice.indicator] = _place_choice(rng, choice, people, answers)
    if spec.labelled:
        region_col, role_col = region, role
    else:
        region_col = np.asarray(spec.regions)[region - 1]
        role_col = np.array([""] + [ROLE_LABELS[c] for c in sorted(ROLE_LABELS)])[role]
    frame = {
        spec.id_column: _ids(spec, n),
        "name": _names(n),
        spec.region_column: region_col,
        spec.role_column: role_col,
        spec.age_column: age,
    }
    frame |= {item.column: answers[item.indicator] for item in spec.binary_items}
    frame |= {choice.column: answers[choice.indicator] for choice in spec.choices}
    frame["comments"] = comments
    return pd.DataFrame(frame)


@dataclass(frozen=True)
class _People:
    """The respondents of a wave being generated: role, region and age codes, exposure."""

    spec: WaveSpec
    roles: list[str]
    role_codes: list[int]
    role: np.ndarray
    region: np.ndarray
    age: np.ndarray
    exposure: np.ndarray


def _place_items(
    rng: np.random.Generator,
    items: Sequence[Item],
    people: _People,
    answers: dict[str, np.ndarray],
) -> None:
    """The answers of each yes/no item, in order (a parent before its "of whom" items)."""
    spec, region = people.spec, people.region
    region_effect = np.asarray(spec.region_effect)
    age_effect = np.asarray(spec.age_effect)
    for item in items:
        out = np.full(region.size, NOT_APPLICABLE, dtype=np.int64)
        jitter = rng.random(len(spec.regions)) * 0.04 - 0.02
        score = (
            0.4 * people.exposure
            + region_effect[region - 1]
            + jitter[region - 1]
            + age_effect[people.age - 1]
        )
        for role_name, code in zip(people.roles, people.role_codes, strict=True):
            mask = people.role == code
            if item.parent is not None:
                mask &= answers[item.parent] == YES
            _place(rng, out, np.flatnonzero(mask), spec.answers[role_name][item.indicator], score)
        answers[item.indicator] = out


def _place_choice(
    rng: np.random.Generator, choice: Choice, people: _People, answers: dict[str, np.ndarray]
) -> np.ndarray:
    """The answers of a single-choice question: exact counts per role over a random order of
    those whose parent is yes; everyone else not applicable."""
    out = np.full(people.role.size, NOT_APPLICABLE, dtype=np.int64)
    for role_name, code in zip(people.roles, people.role_codes, strict=True):
        eligible = np.flatnonzero((people.role == code) & (answers[choice.parent] == YES))
        counts = choice.answers[role_name]
        codes = [c.code for c in choice.categories.values()] + [DONT_KNOW, REFUSED]
        keys = [*choice.categories, "dont_know", "refused"]
        out[rng.permutation(eligible)] = np.repeat(codes, [counts.get(k, 0) for k in keys])
    return out


def codebook(wave_id: str) -> dict:
    """The codebook of one wave, as the mapping written to ``codebook.yaml``."""
    spec = WAVES[wave_id]
    region: dict = {"column": spec.region_column}
    role: dict = {"column": spec.role_column}
    if spec.labelled:
        region["labels"] = {i + 1: name for i, name in enumerate(spec.regions)}
        role["labels"] = dict(ROLE_LABELS)
    role["nouns"] = {ROLE_LABELS[c]: ROLE_NOUNS[ROLE_LABELS[c]] for c in sorted(ROLE_LABELS)}
    indicators = {}
    for item in spec.binary_items:
        label, question = CONCEPTS[item.indicator]
        entry = {"label": label, "column": item.column, "question": question}
        entry["finding"] = FINDINGS[item.indicator]
        if item.parent is not None:
            entry["denominator"] = item.parent
        indicators[item.indicator] = entry
    for choice in spec.choices:
        indicators[choice.indicator] = {
            "type": "categorical",
            "label": choice.label,
            "column": choice.column,
            "question": choice.question,
            "finding": choice.finding,
            "denominator": choice.parent,
            "categories": {
                cat: {"codes": [c.code], "label": c.label} for cat, c in choice.categories.items()
            },
        }
    groups = {
        g.id: {
            "label": g.label,
            "question": g.question,
            "indicators": [i.indicator for i in g.items],
        }
        for g in spec.groups
    }
    staff = spec.role_count("staff") if "staff" in spec.cells else 0
    return {
        "wave": spec.wave,
        "title": spec.title,
        "source": spec.source,
        "synthetic": True,
        "respondents": "women MPs and parliamentary staff" if staff else "women MPs",
        "respondent_id": spec.id_column,
        "drop": ["name", "comments"],
        "domains": {
            "region": region,
            "role": role,
            "age_group": {"column": spec.age_column, "labels": dict(AGE_LABELS)},
        },
        "defaults": _defaults(),
        "indicators": indicators,
        **({"groups": groups} if groups else {}),
    }


def _defaults() -> dict:
    return {
        "yes_codes": [YES],
        "no_codes": [NO],
        "missing_codes": [DONT_KNOW, REFUSED],
        "skip_codes": [NOT_APPLICABLE],
    }


class _Dumper(yaml.SafeDumper):
    """Safe YAML with lists of scalars in flow style (``[8, 9]``) and no line folding."""


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(isinstance(x, str | int | float) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def _yaml_text(data: object, header: Sequence[str]) -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)
    return "".join(f"# {line}\n" if line else "#\n" for line in header) + body


def _codebook_header(spec: WaveSpec) -> list[str]:
    header = [
        f"Codebook of {spec.wave}: SYNTHETIC microdata, generated by `python -m prevalence.datasets.synthetic`.",
        "Real: the published percentages (data/published/targets.yaml) and the sample sizes.",
        "Invented: respondents, names, comments, splits by region and age, item non-response,",
        "values not published, question wording (paraphrased).",
        "Answer codes: 1 yes, 2 no, 7 not applicable (skip logic), 8 don't know, 9 refused.",
    ]
    if spec.wave == "2025-asia-pacific":
        header.append("The split of the 150 respondents into 90 MPs and 60 staff is invented.")
    return header


def _variable_labels(spec: WaveSpec) -> dict[str, str]:
    labels = {
        spec.id_column: "Respondent identifier",
        "name": "Respondent name (synthetic)",
        spec.region_column: "Region",
        spec.role_column: "Role",
        spec.age_column: "Age group",
        "comments": "Interviewer comments (free text, synthetic)",
    }
    labels |= {item.column: CONCEPTS[item.indicator][0] for item in spec.binary_items}
    labels |= {choice.column: choice.label for choice in spec.choices}
    return labels


def _value_labels(spec: WaveSpec) -> dict[str, dict[int, str]]:
    labels: dict[str, dict[int, str]] = {
        spec.region_column: {i + 1: name for i, name in enumerate(spec.regions)},
        spec.role_column: dict(ROLE_LABELS),
        spec.age_column: dict(AGE_LABELS),
    }
    labels |= {item.column: dict(ANSWER_LABELS) for item in spec.binary_items}
    for choice in spec.choices:
        codes = {c.code: c.label for c in choice.categories.values()}
        labels[choice.column] = codes | {
            c: ANSWER_LABELS[c] for c in (NOT_APPLICABLE, DONT_KNOW, REFUSED)
        }
    return labels


def _normalize_xlsx(data: bytes) -> bytes:
    """Rewrite an xlsx archive with fixed timestamps so that the bytes are reproducible."""
    y, mo, d, h, mi, sec = FIXED_TIMESTAMP
    stamp = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{sec:02d}Z"
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + stamp.encode() + rb"\g<3>",
                    content,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIMESTAMP)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, content)
    return out.getvalue()


def _fix_dta_timestamp(path: Path) -> None:
    data = path.read_bytes()
    fixed = re.sub(
        rb"<timestamp>\x11[^<]{17}</timestamp>",
        b"<timestamp>\x1101 Jan 2025 00:00</timestamp>",
        data,
        count=1,
    )
    path.write_bytes(fixed)


def _fix_sav_timestamp(path: Path) -> None:
    data = bytearray(path.read_bytes())
    if data[:4] in (b"$FL2", b"$FL3"):
        data[92:101] = b"01 Jan 25"
        data[101:109] = b"00:00:00"
    path.write_bytes(bytes(data))


def _write_responses(spec: WaveSpec, frame: pd.DataFrame, path: Path) -> None:
    if spec.fmt == "csv":
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    elif spec.fmt == "xlsx":
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            frame.to_excel(writer, sheet_name=XLSX_SHEET, index=False)
        path.write_bytes(_normalize_xlsx(buffer.getvalue()))
    elif spec.fmt == "dta":
        import pyreadstat

        pyreadstat.write_dta(
            frame,
            path,
            file_label=f"Synthetic microdata: {spec.wave}",
            column_labels=_variable_labels(spec),
            variable_value_labels=_value_labels(spec),
            version=15,
        )
        _fix_dta_timestamp(path)
    elif spec.fmt == "sav":
        import pyreadstat

        measure = {col: "nominal" for col in frame.columns}
        measure[spec.age_column] = "ordinal"
        measure[spec.id_column] = "scale"
        pyreadstat.write_sav(
            frame,
            path,
            file_label=f"Synthetic microdata: {spec.wave}",
            column_labels=_variable_labels(spec),
            note=SYNTHETIC_NOTE,
            variable_value_labels=_value_labels(spec),
            variable_measure=measure,
        )
        _fix_sav_timestamp(path)
    else:  # pragma: no cover - the specs only use the four formats above
        raise ValueError(f"unknown format {spec.fmt!r}")


def write_wave(wave_id: str, folder: str | Path) -> list[Path]:
    """Write ``responses.<ext>`` and ``codebook.yaml`` of one wave into ``folder``."""
    spec = WAVES[wave_id]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    responses = folder / RESPONSES_FILE[spec.fmt]
    _write_responses(spec, generate_wave(wave_id), responses)
    book = folder / "codebook.yaml"
    book.write_text(_yaml_text(codebook(wave_id), _codebook_header(spec)), encoding="utf-8")
    return [responses, book]


def published_targets() -> list[dict]:
    """The published figures of every wave, as the entries of ``targets.yaml``."""
    entries = []
    for spec in WAVES.values():
        parents = {item.indicator: item.parent for item in spec.items}
        for fig in spec.figures:
            value: float | int = int(fig.value) if fig.decimals == 0 else float(fig.value)
            entries.append(
                {
                    "wave": spec.wave,
                    "indicator": fig.indicator,
                    "domain": "overall" if fig.role is None else "role",
                    "domain_value": "All" if fig.role is None else fig.role,
                    "denominator": parents[fig.indicator] or "all",
                    "value": value,
                    "decimals": fig.decimals,
                    "source": spec.source,
                    "text": fig.text,
                }
            )
    return entries


TARGETS_HEADER = [
    "Published prevalence figures (percent) that the synthetic microdata in data/raw reproduce",
    "at the published rounding. These numbers are real; everything in data/raw is synthetic.",
    "Estimator: yes / (yes + no) among respondents in the domain; codes 7, 8, 9 excluded;",
    "for denominator != all, only respondents whose parent indicator is yes.",
    "Written by `python -m prevalence.datasets.synthetic --targets data/published/targets.yaml`.",
]


def write_targets(path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_yaml_text(published_targets(), TARGETS_HEADER), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- tiny survey

TINY_SEED = 240
# PSU (cluster) structure: stratum of each PSU, its respondents, its region.
# Stratum 4 has a single PSU (a lonely PSU). PSU ids are unique across strata.
TINY_PSU_STRATUM = np.array([1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 4])
TINY_PSU_SIZE = np.array([20, 22, 18, 20, 15, 16, 14, 15, 15, 18, 19, 18, 30])
TINY_PSU_REGION = np.array([1, 1, 2, 3, 2, 2, 3, 4, 4, 1, 3, 4, 2])
# Number of PSUs in the population of each stratum (R survey `fpc` for id = ~psu).
TINY_FPC = {1: 12, 2: 20, 3: 6, 4: 3}
TINY_REGIONS = {1: "North", 2: "South", 3: "East", 4: "West", 5: "Islands"}  # 5: no respondents
TINY_ITEMS = (
    Item("psychological", "q1"),
    Item("physical", "q2"),
    Item("sexual_harassment", "q3"),
    Item("online_gbv", "q4"),
    Item("online_hate_speech", "q4a", parent="online_gbv"),
)
TINY_BASE = {
    "psychological": 0.62,
    "physical": 0.15,
    "sexual_harassment": 0.3,
    "online_gbv": 0.5,
    "online_hate_speech": 0.4,
}


def generate_tiny() -> pd.DataFrame:
    """A small stratified cluster sample (240 rows) for design-based tests.

    Answers are drawn at random (seeded), not constructed: the tiny targets are
    computed from the result.
    """
    rng = np.random.default_rng(TINY_SEED)
    n_psu = TINY_PSU_SIZE.size
    psu_ids = np.arange(1, n_psu + 1)
    psu = np.repeat(psu_ids, TINY_PSU_SIZE)
    stratum = TINY_PSU_STRATUM[psu - 1]
    region = TINY_PSU_REGION[psu - 1]
    n = psu.size
    role = np.where(rng.random(n) < 0.35, "staff", "MP")
    age = np.where(rng.random(n) < 0.45, 1, 2)
    psu_effect = rng.random(n_psu) * 0.2 - 0.1
    region_effect = np.array([0.05, -0.05, 0.0, 0.08])

    # weight = (PSUs in stratum / sampled PSUs) x (women in PSU / respondents) x adjustment
    sampled = np.bincount(TINY_PSU_STRATUM)[stratum]
    fpc = np.array([0] + [TINY_FPC[h] for h in sorted(TINY_FPC)])[stratum]
    psu_factor = 1.5 + rng.random(n_psu) * 2.0
    adjustment = 0.85 + rng.random(n) * 0.3
    weight = np.round(fpc / sampled * psu_factor[psu - 1] * adjustment, 4)

    answers: dict[str, np.ndarray] = {}
    for item in TINY_ITEMS:
        p = TINY_BASE[item.indicator] + psu_effect[psu - 1] + region_effect[region - 1]
        p = p + np.where(age == 1, 0.06, 0.0) + np.where(role == "staff", -0.05, 0.0)
        out = np.where(rng.random(n) < p, YES, NO)
        u = rng.random(n)
        out = np.where(u < 0.03, DONT_KNOW, np.where(u < 0.05, REFUSED, out))
        if item.parent is not None:
            out = np.where(answers[item.parent] == YES, out, NOT_APPLICABLE)
        answers[item.indicator] = out

    frame = {
        "resp_id": ("T" + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(3)).to_numpy(),
        "name": _names(n),
        "stratum": stratum,
        "psu": psu,
        "weight": weight,
        "fpc": fpc,
        "region": region,
        "role": role,
        "age_group": age,
    }
    frame |= {item.column: answers[item.indicator] for item in TINY_ITEMS}
    frame["comments"] = COMMENTS[rng.integers(0, COMMENTS.size, n)]
    return pd.DataFrame(frame)


def tiny_codebook() -> dict:
    indicators = {}
    for item in TINY_ITEMS:
        label, question = CONCEPTS[item.indicator]
        entry = {"label": label, "column": item.column, "question": question}
        if item.parent is not None:
            entry["denominator"] = item.parent
        indicators[item.indicator] = entry
    return {
        "wave": "tiny",
        "title": "Tiny synthetic test survey (stratified cluster sample)",
        "source": "Synthetic test fixture generated by prevalence.datasets.synthetic (no real data)",
        "synthetic": True,
        "respondent_id": "resp_id",
        "drop": ["name", "comments"],
        "domains": {
            "region": {"column": "region", "labels": dict(TINY_REGIONS)},
            "role": {"column": "role"},
            "age_group": {"column": "age_group", "labels": dict(AGE_LABELS)},
        },
        "defaults": _defaults(),
        "indicators": indicators,
    }


def proportion_counts(
    frame: pd.DataFrame, column: str, parent: str | None = None, mask: np.ndarray | None = None
) -> tuple[int, int]:
    """(yes, yes + no) of ``column`` among rows in ``mask`` (and parent = yes if given)."""
    rows = np.ones(len(frame), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if parent is not None:
        rows &= frame[parent].to_numpy() == YES
    codes = frame[column].to_numpy()[rows]
    return int(np.sum(codes == YES)), int(np.sum((codes == YES) | (codes == NO)))


def tiny_targets() -> tuple[list[dict], list[dict]]:
    """(matching targets, one deliberately wrong target) computed from the tiny survey."""
    frame = generate_tiny()
    columns = {item.indicator: item.column for item in TINY_ITEMS}
    source = "tests/fixtures/tiny/responses.csv (computed by prevalence.datasets.synthetic)"
    wanted = [
        ("psychological", "overall", "All", None, 1),
        ("online_hate_speech", "overall", "All", "online_gbv", 1),
        ("sexual_harassment", "role", "staff", None, 1),
    ]
    targets = []
    for indicator, domain, value, parent, decimals in wanted:
        mask = None if domain == "overall" else frame[domain].to_numpy() == value
        yes, valid = proportion_counts(
            frame, columns[indicator], None if parent is None else columns[parent], mask
        )
        percent = round(100.0 * yes / valid, decimals)
        targets.append(
            {
                "wave": "tiny",
                "indicator": indicator,
                "domain": domain,
                "domain_value": value,
                "denominator": parent or "all",
                "value": percent,
                "decimals": decimals,
                "source": source,
                "text": f"{percent}% ({yes}/{valid}, synthetic tiny survey)",
            }
        )
    wrong = dict(targets[0])
    wrong["value"] = round(targets[0]["value"] + 7.0, 1)
    wrong["text"] = f"{wrong['value']}% (deliberately wrong: the data give {targets[0]['value']}%)"
    return targets, [wrong]


def write_tiny(folder: str | Path) -> list[Path]:
    """Write the tiny survey: responses.csv, codebook.yaml, targets.yaml, targets_mismatch.yaml."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    responses = folder / "responses.csv"
    generate_tiny().to_csv(responses, index=False, encoding="utf-8", lineterminator="\n")
    header = [
        "Tiny SYNTHETIC test survey (240 respondents), generated by prevalence.datasets.synthetic.",
        "Design: stratified one-stage cluster sample. stratum 1-4; psu 1-13 (unique across",
        "strata); stratum 4 has a single PSU (psu 13): a lonely PSU. weight varies within PSUs.",
        "fpc = number of PSUs in the population of the stratum (1: 12, 2: 20, 3: 6, 4: 3).",
        "Region 5 (Islands) is labelled but has no respondents: an empty domain.",
        "Answer codes: 1 yes, 2 no, 7 not applicable (q4a when q4 is not yes), 8 don't know,",
        "9 refused.",
    ]
    book = folder / "codebook.yaml"
    book.write_text(_yaml_text(tiny_codebook(), header), encoding="utf-8")
    matching, wrong = tiny_targets()
    targets = folder / "targets.yaml"
    targets.write_text(
        _yaml_text(matching, ["Targets computed from the tiny survey: each one must reproduce."]),
        encoding="utf-8",
    )
    mismatch = folder / "targets_mismatch.yaml"
    mismatch.write_text(
        _yaml_text(wrong, ["A target that does NOT match the tiny survey: checks must fail."]),
        encoding="utf-8",
    )
    return [responses, book, targets, mismatch]


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m prevalence.datasets.synthetic",
        description="Write the synthetic survey waves (data are synthetic; only the "
        "published percentages and sample sizes are real).",
    )
    parser.add_argument(
        "out", nargs="?", type=Path, help="folder receiving one sub-folder per wave (data/raw)"
    )
    parser.add_argument(
        "--wave", action="append", choices=sorted(WAVES), help="only these waves (repeatable)"
    )
    parser.add_argument("--tiny", type=Path, help="also write the tiny test survey to this folder")
    parser.add_argument("--targets", type=Path, help="also write the published targets YAML here")
    args = parser.parse_args(argv)
    if args.out is None and args.tiny is None and args.targets is None:
        parser.error("nothing to do: give an output folder, --tiny or --targets")
    written: list[Path] = []
    if args.out is not None:
        for wave_id in args.wave or list(WAVES):
            written += write_wave(wave_id, args.out / wave_id)
    if args.tiny is not None:
        written += write_tiny(args.tiny)
    if args.targets is not None:
        written.append(write_targets(args.targets))
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
