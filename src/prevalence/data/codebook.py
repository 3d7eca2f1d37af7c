"""The codebook of a survey wave: indicators, answer codes, domains, denominators.

A codebook says which column is the respondent id, which columns are
identifiers or free text to drop, which are grouping variables (domains, with
labels for their codes), and which are binary indicators with the meaning of
every answer code::

    yes_codes      counted as cases
    no_codes       in the denominator, not a case
    missing_codes  don't know / refused: outside the denominator, counted in the log
    skip_codes     not applicable by the questionnaire's skip logic: outside the denominator

An indicator may name another as its ``denominator``: it is then estimated among
respondents whose answer to that indicator is yes ("38% *of whom*"). An answer to
it from a respondent whose denominator answer is not yes breaks the skip logic:
ingest refuses it, unless ``skip_violations: exclude`` leaves such answers out
(counted in the ingest log).

A ``type: categorical`` indicator is a single-choice question with more than two
answers (the perpetrator: a colleague, a constituent, a stranger online, other). Each
of its ``categories`` becomes a binary indicator ``<id>=<category>`` of the same
column: yes for the category's codes, no for the other categories' codes, and the
question's missing and skip codes and denominator. Its estimate is the category's
share of the valid answers, so the categories of a question sum to 100%, and every
estimator, interval and publication rule of a binary indicator applies to it unchanged.
Its key finding names the category through the question's ``finding``, a phrase with
``{category}`` (default ``named {category} as the <label>``), or a category's own ``finding``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prevalence.errors import ConfigError
from prevalence.schema import read_yaml, validate_document

CODE_KINDS = ("yes_codes", "no_codes", "missing_codes", "skip_codes")
DEFAULT_CODES: dict[str, tuple[Any, ...]] = {
    "yes_codes": (1,),
    "no_codes": (2,),
    "missing_codes": (8, 9),
    "skip_codes": (7,),
}


def normalise_code(code: Any) -> Any:
    """A code as compared with data: integral floats become ints, text is stripped.

    ``1``, ``1.0`` and ``"1"`` are the same code; ``"Yes"`` stays text.
    """
    if isinstance(code, bool):
        return int(code)
    if isinstance(code, float) and code.is_integer():
        return int(code)
    if isinstance(code, str):
        text = code.strip()
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    return code


@dataclass(frozen=True)
class Indicator:
    """A binary indicator and the meaning of its answer codes."""

    id: str
    label: str
    column: str
    yes_codes: tuple[Any, ...]
    no_codes: tuple[Any, ...]
    missing_codes: tuple[Any, ...]
    skip_codes: tuple[Any, ...]
    denominator: str | None = None
    question: str | None = None
    #: what a "yes" means, as the end of a sentence ("had experienced online violence")
    finding: str | None = None
    #: for a category of a categorical question: the question's id and the category's id
    categorical: str | None = None
    category: str | None = None
    #: the category's own label ("A stranger online"), as a chart's legend names it
    category_label: str | None = None

    @property
    def predicate(self) -> str:
        """The ``finding`` phrase, or "reported" and the label in lower case."""
        if self.finding:
            return self.finding
        label = self.label
        return f"reported {label[:1].lower()}{label[1:]}"

    @property
    def valid_codes(self) -> tuple[Any, ...]:
        return self.yes_codes + self.no_codes + self.missing_codes + self.skip_codes


@dataclass(frozen=True)
class Domain:
    """A grouping variable: its column and the labels of its codes (in display order)."""

    id: str
    column: str
    label: str
    labels: tuple[tuple[Any, str], ...] | None = None
    missing_codes: tuple[Any, ...] = ()
    #: the respondents of each value in the plural, by value label ("MP": "women MPs")
    nouns: tuple[tuple[str, str], ...] = ()


#: what a chart or table of a "check all that apply" group says under it
MULTIPLE_ANSWERS = "More than one answer was possible: the shares do not sum to 100%."


@dataclass(frozen=True)
class Group:
    """A "check all that apply" question: binary indicators with one shared denominator."""

    id: str
    label: str
    indicators: tuple[str, ...]
    denominator: str | None = None
    question: str | None = None


@dataclass(frozen=True)
class Codebook:
    """A validated codebook. Indicators are in an order where a denominator comes first."""

    path: str
    respondent_id: str
    drop: tuple[str, ...]
    domains: dict[str, Domain]
    indicators: dict[str, Indicator]
    wave: str | None = None
    title: str | None = None
    source: str | None = None
    sheet: str | int | None = None
    synthetic: bool = False
    #: who answered, in the plural ("women MPs")
    respondents: str = "respondents"
    skip_violations: str = "error"
    #: categorical question id to the ids of its category indicators, in display order
    categoricals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: "check all that apply" groups by id
    groups: dict[str, Group] = field(default_factory=dict)
    #: categorical question id to its label ("Perpetrator")
    categorical_labels: dict[str, str] = field(default_factory=dict)

    def labels(self) -> dict[str, str]:
        """Indicator id to label."""
        return {i.id: i.label for i in self.indicators.values()}


def _codes(spec: dict[str, Any], defaults: dict[str, Any], kind: str) -> tuple[Any, ...]:
    return tuple(normalise_code(c) for c in spec.get(kind, defaults.get(kind, DEFAULT_CODES[kind])))


def _topological(indicators: dict[str, Indicator], path: str) -> dict[str, Indicator]:
    """Order indicators so that every denominator precedes its dependants; refuse cycles."""
    for ind in indicators.values():
        if ind.denominator is not None and ind.denominator not in indicators:
            close = [i for i in indicators if i != ind.id]
            raise ConfigError(
                f"indicators.{ind.id}.denominator names {ind.denominator!r}, "
                "which is not an indicator of this codebook",
                file=path,
                fix=f"use one of: {', '.join(close)}",
            )
    ordered: dict[str, Indicator] = {}
    for ind in indicators.values():
        chain = [ind.id]
        current = ind
        while current.denominator is not None:
            if current.denominator in chain:
                cycle = " -> ".join(
                    [*chain[chain.index(current.denominator) :], current.denominator]
                )
                raise ConfigError(
                    f"indicators: denominators form a cycle ({cycle})",
                    file=path,
                    fix="a denominator must lead back to an indicator asked of everyone",
                )
            chain.append(current.denominator)
            current = indicators[current.denominator]
        for ident in reversed(chain):
            ordered.setdefault(ident, indicators[ident])
    return ordered


def _check_codes(ident: str, column: str, codes: dict[str, tuple[Any, ...]], path: str) -> None:
    """Every code has one meaning; there is a yes code and a no code."""
    seen: dict[Any, str] = {}
    for kind, values in codes.items():
        for code in values:
            if code in seen:
                where = "twice in" if seen[code] == kind else f"in both {seen[code]} and"
                raise ConfigError(
                    f"indicators.{ident}: code {code!r} is listed {where} {kind}",
                    file=path,
                    column=column,
                    fix="give every answer code exactly one meaning",
                )
            seen[code] = kind
    if not codes["yes_codes"] or not codes["no_codes"]:
        raise ConfigError(
            f"indicators.{ident}: needs at least one yes code and one no code",
            file=path,
            fix="set yes_codes and no_codes (or the defaults)",
        )


def _categories(
    ident: str, spec: dict[str, Any], defaults: dict[str, Any], path: str
) -> list[Indicator]:
    """The binary indicators ``<ident>=<category>`` of a categorical question."""
    own = {
        cat: tuple(normalise_code(c) for c in cspec["codes"])
        for cat, cspec in spec["categories"].items()
    }
    missing = _codes(spec, defaults, "missing_codes")
    skip = _codes(spec, defaults, "skip_codes")
    label = spec.get("label", ident)
    finding = spec.get("finding", "named {category} as the " + label.lower())
    if "{category}" not in finding:
        raise ConfigError(
            f"indicators.{ident}.finding must name the category as {{category}}",
            file=path,
            fix='e.g. finding: "named {category} as the perpetrator", or give each '
            "category a finding of its own",
        )
    out = []
    for cat, cspec in spec["categories"].items():
        name = cspec.get("label", cat.replace("_", " "))
        own_finding = cspec.get("finding") or finding.replace(
            "{category}", f"{name[:1].lower()}{name[1:]}"
        )
        codes = {
            "yes_codes": own[cat],
            "no_codes": tuple(c for other, cs in own.items() if other != cat for c in cs),
            "missing_codes": missing,
            "skip_codes": skip,
        }
        _check_codes(ident, spec["column"], codes, path)
        out.append(
            Indicator(
                id=f"{ident}={cat}",
                label=f"{label}: {name}",
                finding=own_finding,
                column=spec["column"],
                denominator=spec.get("denominator"),
                question=spec.get("question"),
                categorical=ident,
                category=cat,
                category_label=name,
                **codes,
            )
        )
    return out


def _groups(raw: dict[str, Any], indicators: dict[str, Indicator], path: str) -> dict[str, Group]:
    """The "check all that apply" groups: binary indicators sharing one denominator."""
    groups = {}
    for ident, spec in (raw.get("groups") or {}).items():
        members = list(spec["indicators"])
        unknown = [m for m in members if m not in indicators or indicators[m].categorical]
        if unknown:
            raise ConfigError(
                f"groups.{ident} lists {unknown[0]!r}, which is not a binary indicator",
                file=path,
                fix="list the binary indicators (one per answer that could be ticked)",
            )
        denominators = {indicators[m].denominator for m in members}
        if len(denominators) > 1:
            shown = ", ".join(f"{m}: {indicators[m].denominator or 'all'}" for m in members)
            raise ConfigError(
                f"groups.{ident}: its indicators have different denominators ({shown})",
                file=path,
                fix="a group's answers are asked of the same respondents: give them one denominator",
            )
        groups[ident] = Group(
            id=ident,
            label=spec.get("label", ident.replace("_", " ")),
            indicators=tuple(members),
            denominator=denominators.pop(),
            question=spec.get("question"),
        )
    return groups


def parse_codebook(raw: Any, *, path: str | Path = "codebook.yaml") -> Codebook:
    """Validate a loaded codebook mapping and build a :class:`Codebook`."""
    path = str(path)
    if not isinstance(raw, dict):
        raise ConfigError(
            "the codebook must be a mapping with respondent_id, domains and indicators",
            file=path,
            fix="see data/raw/*/codebook.yaml for an example",
        )
    validate_document(raw, "codebook", source=path)
    defaults = raw.get("defaults") or {}
    indicators: dict[str, Indicator] = {}
    categoricals: dict[str, tuple[str, ...]] = {}
    categorical_labels: dict[str, str] = {}
    for ident, spec in raw["indicators"].items():
        if spec.get("type") == "categorical":
            categories = _categories(ident, spec, defaults, path)
            indicators.update((c.id, c) for c in categories)
            categoricals[ident] = tuple(c.id for c in categories)
            categorical_labels[ident] = str(spec.get("label", ident))
            continue
        codes = {kind: _codes(spec, defaults, kind) for kind in CODE_KINDS}
        _check_codes(ident, spec["column"], codes, path)
        indicators[ident] = Indicator(
            id=ident,
            label=spec.get("label", ident),
            column=spec["column"],
            denominator=spec.get("denominator"),
            question=spec.get("question"),
            finding=spec.get("finding"),
            **codes,
        )
    domains = {
        ident: Domain(
            id=ident,
            column=spec["column"],
            label=spec.get("label", ident.replace("_", " ")),
            labels=None
            if spec.get("labels") is None
            else tuple((normalise_code(k), str(v)) for k, v in spec["labels"].items()),
            missing_codes=tuple(normalise_code(c) for c in spec.get("missing_codes", ())),
            nouns=tuple((str(k), str(v)) for k, v in (spec.get("nouns") or {}).items()),
        )
        for ident, spec in (raw.get("domains") or {}).items()
    }
    clash = set(domains) & (set(indicators) | set(categoricals))
    if clash:
        raise ConfigError(
            f"{sorted(clash)[0]!r} is both a domain and an indicator",
            file=path,
            fix="give domains and indicators different ids",
        )
    if "overall" in domains:
        raise ConfigError(
            "'overall' is reserved for the whole sample",
            file=path,
            fix="rename the domain",
        )
    columns: dict[str, str] = {raw["respondent_id"]: "respondent_id"}
    for role, column in [
        *((f"domains.{d.id}", d.column) for d in domains.values()),
        *{f"indicators.{i.categorical or i.id}": i.column for i in indicators.values()}.items(),
    ]:
        if column in columns:
            raise ConfigError(
                f"{role} uses column {column!r}, already used by {columns[column]}",
                file=path,
                column=column,
                fix="each column has one role in the codebook",
            )
        columns[column] = role
    for column in raw.get("drop") or []:
        if column in columns:
            raise ConfigError(
                f"drop lists column {column!r}, which is used by {columns[column]}",
                file=path,
                column=column,
                fix="remove it from drop, or from its other role",
            )
    return Codebook(
        path=path,
        respondent_id=raw["respondent_id"],
        drop=tuple(raw.get("drop") or ()),
        domains=domains,
        indicators=_topological(indicators, path),
        wave=raw.get("wave"),
        title=raw.get("title"),
        source=raw.get("source"),
        sheet=raw.get("sheet"),
        synthetic=bool(raw.get("synthetic", False)),
        respondents=str(raw.get("respondents", "respondents")),
        skip_violations=str(raw.get("skip_violations", "error")),
        categoricals=categoricals,
        groups=_groups(raw, indicators, path),
        categorical_labels=categorical_labels,
    )


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a wave's ``codebook.yaml``."""
    return parse_codebook(read_yaml(path, what="codebook"), path=path)


def of_whom_parents(book: Codebook) -> list[str]:
    """Indicators that are the denominator of another one, in codebook order."""
    parents = {i.denominator for i in book.indicators.values() if i.denominator}
    return [i for i in book.indicators if i in parents]
