"""Key findings in words: one sentence per estimate of each population, worded from the codebook.

A report author quotes these sentences as they stand, so each one carries its own denominator::

    60% (95% CI 50–70%) of the 88 women MPs who answered had experienced online
    gender-based violence.
    Of the 53 women MPs who had experienced online gender-based violence, 52 answered:
    38% (95% CI 26–52%) had faced online hate speech.
    Physical violence among women parliamentary staff: too few respondents to report
    (relative CI width > 130%).
    Of the women MPs who had been the target of sexist attacks online, the share who named
    a fellow parliamentarian as the main perpetrator is withheld so that a smaller group
    cannot be worked out (secondary suppression).

The words come from the codebook, never from text written per figure: ``respondents`` (who
answered, in the plural; default "respondents"), each domain's ``nouns`` by value label (``MP:
women MPs``) and each indicator's ``finding`` (what a "yes" means, as the end of a sentence;
default "reported" and the label). An "of whom" estimate names its parent and the parent's
count, never only the population. A suppressed cell gets no number, only the reason. Numbers
are written as the tables write them (``tables:`` of config.yaml: decimals, decimal mark, the
dash between bounds; percentages or proportions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prevalence.contract import COLUMNS as TABLE_COLUMNS
from prevalence.contract import read_cells
from prevalence.data.codebook import Codebook
from prevalence.publication.disclosure import FLAG_SECONDARY

if TYPE_CHECKING:
    import pandas as pd

    from prevalence.publication.tables import TableStyle

#: the columns of ``key_findings.csv``, in this order: the cell's keys and n as in the
#: prevalence table, the numbers the sentence gives (empty when suppressed), the sentence
COLUMNS = (*TABLE_COLUMNS[:6], "estimate", "ci_low", "ci_high", "sentence")
#: the whole sample, always the first population
OVERALL = ("overall", "All")
TOO_FEW = "too few respondents to report"
#: a cell withheld only so that a suppressed one cannot be worked out from it
WITHHELD = "withheld so that a smaller group cannot be worked out"


@dataclass(frozen=True)
class _Cell:
    """One published cell, as the sentences read it."""

    n: int | None
    cases: int | None
    estimate: float | None
    low: float | None
    high: float | None
    level: float
    suppressed: bool
    flag: str
    caution: bool = False

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> _Cell:
        """The cell of one row of :func:`prevalence.contract.read_cells`."""

        def number(key: str) -> float | None:
            value = float(row[key])
            return None if value != value else value  # NaN: not shown

        n, cases = number("n"), number("cases")
        return cls(
            n=None if n is None or row["n_hidden"] else int(n),
            cases=None if cases is None else int(cases),
            estimate=number("estimate"),
            low=number("ci_low"),
            high=number("ci_high"),
            level=number("level") or 0.95,
            suppressed=bool(row["suppressed"]),
            flag=row["flag"],
            caution=bool(row["caution"]),
        )

    def caution_note(self) -> str:
        """The standard's "use with caution" reason of a published cell, or ""."""
        if not self.caution or self.suppressed:
            return ""
        reasons = [r.strip() for r in self.flag.split(";") if "caution" in r]
        return reasons[0] if reasons else "use with caution"


def population_noun(book: Codebook, domain: str, value: str) -> str:
    """Who the respondents of a population are, in the plural: the codebook's ``respondents``
    for the whole sample, the domain's noun for ``value``, or the respondents and the value."""
    if (domain, value) == OVERALL:
        return book.respondents
    spec = book.domains[domain]
    noun = dict(spec.nouns).get(value)
    return noun or f"{book.respondents} ({spec.label}: {value})"


def _estimate(cell: _Cell, style: TableStyle) -> str:
    from prevalence.publication.tables import format_number

    percent = "%" if style.percent else ""
    text = f"{format_number(cell.estimate, style)}{percent}"
    if cell.low is None or cell.high is None:
        return text
    level = f"{cell.level * 100:g}% CI"
    bounds = f"{format_number(cell.low, style)}{style.dash}{format_number(cell.high, style)}"
    return f"{text} ({level} {bounds}{percent})"


def _sentence(
    book: Codebook,
    indicator: str,
    noun: str,
    cell: _Cell,
    parent: _Cell | None,
    style: TableStyle,
) -> str:
    item = book.indicators[indicator]
    of_whom = item.denominator
    who = noun
    if of_whom is not None:
        who = f"{noun} who {book.indicators[of_whom].predicate}"
    if cell.suppressed or cell.estimate is None:
        # no count, not even the parent's: the sentence of a withheld cell gives no number
        what = f"{item.label} among {who}"
        if of_whom is not None:  # "Of the women MPs who ..., the share who named ..."
            what = f"Of the {who}, the share who {item.predicate}"
        if cell.flag == FLAG_SECONDARY:
            joint = " is" if of_whom is not None else ":"
            return f"{what}{joint} {WITHHELD} ({FLAG_SECONDARY})."
        return f"{what}: {TOO_FEW} ({cell.flag or 'not published'})."
    value = _estimate(cell, style)
    note = cell.caution_note()
    if note:  # the standard's mark (DHS 25-49 cases, Statistics Canada grade E), in words
        value = f"{value} [{note}]"
    if of_whom is None:
        counted = f"the {cell.n} {noun}" if cell.n is not None else f"the {noun}"
        return f"{value} of {counted} who answered {item.predicate}."
    count = parent.cases if parent is not None and not parent.suppressed else None
    if count is None:
        counted = f"the {cell.n} {who} and answered" if cell.n is not None else f"the {who}"
        return f"Of {counted}, {value} {item.predicate}."
    answered = "" if cell.n in (None, count) else f", {cell.n} answered:"
    return f"Of the {count} {who}{answered}{',' if not answered else ''} {value} {item.predicate}."


def populations_of(
    book: Codebook, table: pd.DataFrame, populations: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The whole sample, then each configured ``(domain, value)`` the wave's table has, unless
    it is the wave's only value of the domain (the population is then the whole sample)."""
    found = [OVERALL]
    for domain, value in populations:
        if domain not in book.domains:
            continue
        values = set(table.loc[table["domain"] == domain, "domain_value"].astype(str))
        if value in values and len(values) > 1 and (domain, value) not in found:
            found.append((domain, value))
    return found


def key_findings(
    table: pd.DataFrame,
    books: Mapping[str, Codebook],
    *,
    populations: Sequence[tuple[str, str]] = (),
    style: TableStyle | None = None,
) -> pd.DataFrame:
    """One row per indicator of each population of each wave (in the order of ``books`` and
    of the codebooks), with its sentence (see the module docstring).

    ``table`` is the published prevalence table (suppressed cells without numbers); ``books``
    the codebook of each wave; ``populations`` the ``(domain, value label)`` pairs described
    besides the whole sample, each in every wave whose codebook has the domain and whose
    table has the value.
    """
    import pandas as pd

    from prevalence.publication.tables import TableStyle

    style = style or TableStyle()
    rows = []
    read = read_cells(table)
    for wave, book in books.items():
        cells = read[read["wave"] == wave]
        for domain, value in populations_of(book, cells, populations):
            here = cells[(cells["domain"] == domain) & (cells["domain_value"].astype(str) == value)]
            by_indicator = {r["indicator"]: r for r in here.to_dict("records")}
            noun = population_noun(book, domain, value)
            for indicator, item in book.indicators.items():
                if indicator not in by_indicator:
                    continue
                row = by_indicator[indicator]
                cell = _Cell.of(row)
                parent = by_indicator.get(item.denominator) if item.denominator else None
                sentence = _sentence(
                    book,
                    indicator,
                    noun,
                    cell,
                    None if parent is None else _Cell.of(parent),
                    style,
                )
                shown = not cell.suppressed and cell.estimate is not None
                rows.append(
                    {
                        "wave": wave,
                        "domain": domain,
                        "domain_value": value,
                        "indicator": indicator,
                        "denominator": row["denominator"] or "all",
                        "n": cell.n,
                        "estimate": cell.estimate if shown else None,
                        "ci_low": cell.low if shown else None,
                        "ci_high": cell.high if shown else None,
                        "sentence": sentence,
                    }
                )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["n"] = frame["n"].astype("Int64")
    return frame


def findings_markdown(
    findings: pd.DataFrame,
    books: Mapping[str, Codebook],
    wave_labels: Mapping[str, str],
) -> str:
    """The key findings as Markdown: a section per wave, a list per population."""
    lines = ["# Key findings", ""]
    for wave in books:
        part = findings[findings["wave"] == wave]
        if part.empty:
            continue
        lines += [f"## {wave_labels.get(wave, wave)}", ""]
        for (domain, value), group in part.groupby(["domain", "domain_value"], sort=False):
            noun = population_noun(books[wave], domain, value)
            lines += [f"### {noun[:1].upper()}{noun[1:]}", ""]
            lines += [f"- {sentence}" for sentence in group["sentence"]]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
