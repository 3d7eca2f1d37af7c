"""The cells a chart draws, read from the tidy prevalence table, and their words.

Pure pandas: nothing here measures or draws. A row of the table becomes an
:class:`Estimate` in the units drawn (percent) with its status: ``ok`` (drawn),
``suppressed`` (never shows an estimate or interval), ``missing`` (no estimate)
or ``empty`` (no respondents). The helpers name cells, domains and intervals as
the charts print them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from prevalence.errors import PrevalenceError
from prevalence.publication.disclosure import (
    CAUTION,
    GRADE,
    N_SUPPRESSED,
    Marks,
    Publication,
    marks,
)
from prevalence.stats.estimate import DISPLAY_COLUMNS, check_display_table
from prevalence.stats.intervals import METHOD_NAMES

__all__ = ["N_HIDDEN", "REQUIRED_COLUMNS", "Bar", "Estimate"]

REQUIRED_COLUMNS = DISPLAY_COLUMNS

#: Optional boolean column: true where the row's ``n`` must not be published.
N_HIDDEN = N_SUPPRESSED

#: Interval methods as named in the table -> as named in a report; also R's and
#: statsmodels' names for them.
INTERVAL_NAMES = {
    **METHOD_NAMES,
    "beta": "Clopper\u2013Pearson",
    "clopper_pearson": "Clopper\u2013Pearson",
    "korn_graubard": "Korn\u2013Graubard",
    "mean": "Wald",
    "normal": "Wald",
    "agresti_coull": "Agresti\u2013Coull",
}

CONDITIONAL_NOTE = (
    '{mark} ("of those with \u2026") are percentages of the respondents in the parent '
    "category, not of all {whole}."
)

NONE_SHOWN = "\nNo estimate can be shown: every cell is suppressed or has no respondents."

# Footnote markers for estimates shown with a caution flag.
_FLAG_MARKS = ("*", "\u2020", "\u2021", "\u00a7", "\u00b6", "**", "\u2020\u2020", "\u2021\u2021")


@dataclass(frozen=True)
class Estimate:
    """One row of the table, in the units drawn (percent)."""

    indicator: str
    parent: str | None
    status: str  # "ok", "suppressed", "missing" (no estimate), "empty" (n == 0)
    estimate: float
    low: float
    high: float
    n: int | None
    flag: str
    method: str
    level: float
    n_hidden: bool = False  # the row's n must not be published
    caution: bool = False  # to be used with caution under the standard (DHS, Statistics Canada)
    grade: str = ""  # the quality grade of the standard (Statistics Canada: A-F)

    @property
    def drawn(self) -> bool:
        return self.status == "ok"

    @property
    def has_interval(self) -> bool:
        return self.drawn and math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def end(self) -> float:
        """Right end (percent) of the bar or whisker, where its labels start."""
        return max(self.estimate, self.high) if self.has_interval else self.estimate


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart: an indicator at its depth, with what is printed."""

    estimate: Estimate
    depth: int
    label: str  # unwrapped
    value: str = ""  # "81.8%" and the flag's mark; empty when not drawn
    count: str = ""  # "n = 55"; empty when not drawn
    note: str = ""  # what replaces an estimate that is not drawn


# --------------------------------------------------------------------------
# Reading the table
# --------------------------------------------------------------------------


def check_range(table: pd.DataFrame, columns: Sequence[str], low: float, what: str) -> None:
    """Refuse a value of ``columns`` outside ``[low, 1]``, naming its column and row."""
    for column in columns:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.notna() & ((values < low - 1e-9) | (values > 1 + 1e-9))
        if bad.any():
            first = int(bad.to_numpy().nonzero()[0][0])
            raise PrevalenceError(
                what,
                column=column,
                row=first + 1,
                value=float(values.iloc[first]),
                fix="give proportions, not percentages",
            )


def check_table(table: pd.DataFrame) -> None:
    """Refuse a table without the display columns or with bounds outside [0, 1]."""
    check_display_table(table, fix="pass the tidy prevalence table produced by the estimation step")
    what = "estimates and interval bounds must be proportions in [0, 1]"
    check_range(table, ("estimate", "ci_low", "ci_high"), 0.0, what)


def known_indicators(table: pd.DataFrame, indicators: Sequence[str] | None) -> list[str] | None:
    """``indicators`` as text; refuse ids that are nowhere in the table."""
    if indicators is None:
        return None
    indicators = [str(i) for i in indicators]
    known = set(table["indicator"].astype(str))
    unknown = [i for i in indicators if i not in known]
    if unknown:
        raise PrevalenceError(
            f"indicator(s) {', '.join(unknown)} not in the prevalence table",
            column="indicator",
            fix="list only indicators that the estimation step produced, "
            "or leave `indicators` empty to draw all of them",
        )
    return indicators


def is_true(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "t", "yes", "1"}
    if value is None or (not isinstance(value, bool) and pd.isna(value)):
        return False
    return bool(value)


def text_or_empty(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def number(value: object) -> float:
    value = pd.to_numeric(value, errors="coerce")
    return float(value) if pd.notna(value) else math.nan


def estimate_from(row: Mapping[str, object]) -> Estimate:
    """The :class:`Estimate` of one record of the prevalence table."""
    n_value = number(row["n"])
    n = round(n_value) if math.isfinite(n_value) else None
    estimate = number(row["estimate"])
    if is_true(row["suppressed"]):
        status = "suppressed"
    elif n is None or n == 0:
        status = "empty"
    elif math.isnan(estimate):
        status = "missing"
    else:
        status = "ok"
    visible = status == "ok"

    def pct(x: float) -> float:
        return min(max(x, 0.0), 1.0) * 100.0 if visible and math.isfinite(x) else math.nan

    denominator = text_or_empty(row["denominator"])
    indicator = str(row["indicator"])
    parent = None if denominator in {"", "all"} or denominator == indicator else denominator
    return Estimate(
        indicator=indicator,
        parent=parent,
        status=status,
        estimate=pct(estimate),
        low=pct(number(row["ci_low"])),
        high=pct(number(row["ci_high"])),
        n=n,
        flag=text_or_empty(row["flag"]),
        method=text_or_empty(row["ci_method"]),
        level=number(row["level"]),
        n_hidden=is_true(row.get(N_HIDDEN)),
        caution=visible and is_true(row.get(CAUTION)),
        grade=text_or_empty(row.get(GRADE)),
    )


def rows(table: pd.DataFrame, *, wave: object, domain: str, domain_value: str | None = None):
    """Rows of one wave and domain (and domain value)."""
    mask = (table["wave"].astype(str) == str(wave)) & (table["domain"].astype(str) == domain)
    if domain_value is not None:
        mask &= table["domain_value"].astype(str) == domain_value
    return table.loc[mask]


def cell(rows: pd.DataFrame, *, where: str) -> dict[str, Estimate]:
    """Estimates of one domain cell keyed by indicator, in table order."""
    found: dict[str, Estimate] = {}
    for record in rows.to_dict("records"):
        est = estimate_from(record)
        if est.indicator in found:
            raise PrevalenceError(
                "two rows for one indicator in one domain cell",
                column="indicator",
                value=est.indicator,
                fix=f"keep one row per wave, domain, value and indicator ({where})",
            )
        found[est.indicator] = est
    return found


def domain_cells(
    table: pd.DataFrame, *, wave: object, domain: str, where: str
) -> dict[str, dict[str, Estimate]]:
    """``{domain value: cell}`` of one wave and domain, values in table order.

    ``where`` prefixes the cell in messages, e.g. ``"wave AP2025, "``.
    """
    found = rows(table, wave=wave, domain=domain)
    values = found["domain_value"].astype(str)
    return {
        v: cell(found.loc[values == v], where=f"{where}{domain} = {v}")
        for v in dict.fromkeys(values)
    }


def overall_cell(table: pd.DataFrame, *, wave: object) -> dict[str, Estimate]:
    """The wave's cell of all respondents (its first ``overall`` value), or ``{}``."""
    overall_rows = rows(table, wave=wave, domain="overall")
    first = list(dict.fromkeys(overall_rows["domain_value"].astype(str)))[:1]
    if not first:
        return {}
    return cell(
        overall_rows.loc[overall_rows["domain_value"].astype(str) == first[0]], where="overall"
    )


@dataclass(frozen=True)
class AcrossDomain:
    """The cells of a chart across a domain's values, and the indicators it draws."""

    values: list[str]
    cells: dict[str, dict[str, Estimate]]
    overall: dict[str, Estimate]  # {} unless the estimate of all respondents is shown
    wanted: list[str]
    given: bool  # ``wanted`` is the caller's list, in the caller's order


def across_domain(
    table: pd.DataFrame, options, *, where: str, overall_needs_values: bool = False
) -> AcrossDomain:
    """Read the cells of ``options.domain`` (and of all respondents) in ``options.wave``.

    ``options`` has ``wave``, ``domain``, ``indicators`` and ``show_overall``; the
    cell of all respondents is read only for a domain other than ``overall`` and,
    with ``overall_needs_values``, when the domain has values.
    """
    check_table(table)
    indicators = known_indicators(table, options.indicators)
    domain = str(options.domain)
    by_value = domain_cells(table, wave=options.wave, domain=domain, where=where)
    values = list(by_value)
    overall: dict[str, Estimate] = {}
    if options.show_overall and domain != "overall" and (values or not overall_needs_values):
        overall = overall_cell(table, wave=options.wave)
    if indicators is None:
        wanted = list(dict.fromkeys(i for c in by_value.values() for i in c))
    else:
        wanted = list(dict.fromkeys(indicators))
    return AcrossDomain(values, by_value, overall, wanted, indicators is not None)


def first_parent(indicator: str, sources: Sequence[Mapping[str, Estimate]]) -> str | None:
    """The denominator of ``indicator`` in the first of ``sources`` that has one."""
    for source in sources:
        if indicator in source and source[indicator].parent is not None:
            return source[indicator].parent
    return None


def order(
    indicators: Sequence[str],
    parent_of: Callable[[str], str | None],
    sort_key: Callable[[str], tuple],
) -> list[tuple[str, int]]:
    """Indicators in drawing order with their depth; children under parents."""
    present = set(indicators)
    children: dict[str | None, list[str]] = {}
    for ind in indicators:
        parent = parent_of(ind)
        children.setdefault(parent if parent in present else None, []).append(ind)
    ordered: list[tuple[str, int]] = []
    seen: set[str] = set()

    def visit(ind: str, depth: int) -> None:
        if ind in seen:
            return
        seen.add(ind)
        ordered.append((ind, depth))
        for child in sorted(children.get(ind, []), key=sort_key):
            visit(child, depth + 1)

    for root in sorted(children.get(None, []), key=sort_key):
        visit(root, 0)
    # Indicators caught in a cycle of denominators have no root: draw them flat.
    for ind in sorted((i for i in indicators if i not in seen), key=sort_key):
        visit(ind, 0)
    return ordered


def status_rank(est: Estimate) -> int:
    return {"ok": 0, "suppressed": 1, "missing": 2, "empty": 3}[est.status]


def across_domain_key(
    wanted: Sequence[str],
    overall: Mapping[str, Estimate],
    cells: Mapping[str, Mapping[str, Estimate]],
    *,
    given: bool,
) -> Callable[[str], tuple]:
    """Sort key of the rows of a chart across domain values.

    ``given``: the caller's order. Otherwise by the estimate for all respondents,
    else the mean of the values' drawn estimates; undrawn rows last.
    """
    position = {ind: i for i, ind in enumerate(wanted)}
    if given:
        return lambda ind: (position[ind],)

    def sort_key(ind: str) -> tuple:
        ref = overall.get(ind)
        if ref is not None and ref.drawn:
            return (0, -ref.estimate, position[ind])
        shown = [c[ind].estimate for c in cells.values() if ind in c and c[ind].drawn]
        if shown:
            return (0, -sum(shown) / len(shown), position[ind])
        return (1, 0.0, position[ind])

    return sort_key


def base_n(cell: Mapping[str, Estimate]) -> int | None:
    """Respondents in a cell: largest n of the unconditional indicators."""
    base = [e.n for e in cell.values() if e.parent is None and e.n is not None]
    anyn = [e.n for e in cell.values() if e.n is not None]
    return max(base or anyn) if anyn else None


def published_n(cell: Mapping[str, Estimate]) -> tuple[int | None, bool]:
    """Respondents of a cell as it may be printed: ``(n, withheld)``.

    ``withheld`` is true when an unconditional row of the cell has its ``n``
    hidden; the count is then ``None``.
    """
    base = [e for e in cell.values() if e.parent is None] or list(cell.values())
    if any(e.n_hidden for e in base):
        return None, True
    return base_n(cell), False


# --------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------


def label(indicator: str, labels: Mapping[str, str]) -> str:
    text = text_or_empty(labels.get(indicator)) if labels is not None else ""
    return text or indicator


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[1:].lower() != first[1:]:
        return text
    return text[:1].lower() + text[1:]


def row_label(indicator: str, parent: str | None, labels: Mapping[str, str]) -> str:
    text = label(indicator, labels)
    if parent is not None:
        text = f"{text} (of those with {lower_first(label(parent, labels))})"
    return text


def domain_name(domain: str) -> str:
    parts = [p.strip().replace("_", " ") for p in domain.split("+")]
    text = " \u00d7 ".join(parts)
    return text[:1].upper() + text[1:]


def domain_value_name(value: str) -> str:
    return " \u00d7 ".join(p.strip() for p in value.split("+"))


def whole(population: str | None) -> str:
    """Who the chart's ``overall`` cell is, in running text: ``respondents`` or the
    population's noun (``women MPs``)."""
    return population or "respondents"


def everyone(population: str | None) -> str:
    """The heading of the chart's ``overall`` cell: ``All respondents``, ``All women MPs``."""
    return f"All {whole(population)}"


def cell_name(domain: str, domain_value: str, population: str | None = None) -> str:
    if domain == "overall":
        return everyone(population)
    return f"{domain_name(domain)}: {domain_value_name(domain_value)}"


def by_domain_title(domain: str, population: str | None = None) -> str:
    """Default title of a chart across the values of ``domain``."""
    among = f" among {population}" if population else ""
    if domain == "overall":
        return f"Prevalence{among}" if population else "Prevalence, all respondents"
    name = domain_name(domain)
    return f"Prevalence{among} by {name[:1].lower() + name[1:]}"


def pct(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}%"


def count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def n_label(n: int | None, withheld: bool) -> str:
    if withheld:
        return "n withheld"
    return "" if n is None else f"n = {n:,}"


def est_n_label(est: Estimate) -> str:
    """``n = ...`` of one estimate, or ``n withheld``."""
    return n_label(est.n, est.n_hidden) or f"n = {count(est.n)}"


def level_text(level: float) -> str:
    if not math.isfinite(level):
        return ""
    percent = level * 100 if level <= 1 else level
    return f"{round(percent, 4):g}%"


def interval_text(estimates: Sequence[Estimate]) -> str:
    """E.g. ``95% logit intervals`` from the drawn rows' method and level."""
    pairs: dict[tuple[str, str], None] = {}
    for est in estimates:
        if est.has_interval:
            method = INTERVAL_NAMES.get(est.method.lower(), est.method)
            pairs[(level_text(est.level), method)] = None
    if not pairs:
        return ""
    parts = [" ".join(p for p in (level, method) if p) for level, method in pairs]
    return "; ".join(f"{p} intervals" if p else "intervals" for p in parts)


def source_line(wave_label: str, n: int | None, estimates: Sequence[Estimate]) -> str:
    parts = [f"Source: {wave_label}"]
    if n is not None:
        parts.append(f"n = {n:,}")
    interval = interval_text(estimates)
    if interval:
        parts.append(interval)
    return "; ".join(parts) + "."


# --------------------------------------------------------------------------
# The publication standard's marks
# --------------------------------------------------------------------------


def standard(publication: Publication | None) -> Marks:
    """The marks of the publication standard (none unless DHS or Statistics Canada)."""
    return marks(publication)


def reasons_of(flag: str) -> list[str]:
    return [r.strip() for r in flag.split(";") if r.strip()]


def shown_flag(est: Estimate, rules: Marks | None = None) -> str:
    """The flag that gets a footnote mark: without the reason the standard's own mark says."""
    if rules is None or not rules.caution_reason:
        return est.flag
    return "; ".join(r for r in reasons_of(est.flag) if r != rules.caution_reason)


def hidden_by_standard(est: Estimate, rules: Marks | None) -> bool:
    """A cell the standard hides with its own mark (DHS ``*``, Statistics Canada ``F``)."""
    return (
        rules is not None
        and bool(rules.hidden_mark)
        and est.status == "suppressed"
        and rules.hidden_reason in reasons_of(est.flag)
    )


def standard_value(text: str, est: Estimate, rules: Marks | None) -> str:
    """``text`` (the printed percentage) with the standard's marks: ``(60.2%)`` for a DHS
    figure to use with caution, ``60.2% C`` with a Statistics Canada grade."""
    if rules is None:
        return text
    if est.caution and rules.parentheses:
        text = f"({text})"
    if est.grade and rules.grades:
        text = f"{text} {est.grade}"
    return text


def value_text(
    est: Estimate, decimals: int, marks_by_flag: Mapping[str, str], rules: Marks | None
) -> str:
    """The value printed at a drawn estimate: percentage, standard's marks, flag's mark."""
    text = standard_value(pct(est.estimate, decimals), est, rules)
    return text + marks_by_flag.get(shown_flag(est, rules), "")


def standard_mark(est: Estimate, rules: Marks | None) -> str:
    """The standard's mark beside a drawn point without a value label: ``( )`` (DHS caution)
    or the grade letter."""
    if rules is None:
        return ""
    if est.grade and rules.grades:
        return est.grade
    if est.caution and rules.parentheses:
        return "( )"
    return ""


def standard_notes(estimates: Sequence[Estimate], rules: Marks | None) -> list[str]:
    """The standard's notes (``disclosure.marks(publication).notes``) for the marks used."""
    if rules is None:
        return []
    used = (
        rules.parentheses and any(e.drawn and e.caution for e in estimates),
        any(hidden_by_standard(e, rules) for e in estimates),
        rules.grades and any(e.drawn and e.grade for e in estimates),
    )
    return [note for note, u in zip(rules.notes, used, strict=True) if u and note]


def flag_marks(estimates: Sequence[Estimate], rules: Marks | None = None) -> dict[str, str]:
    """Footnote mark per distinct caution flag on a drawn estimate (the standard's own marks
    aside)."""
    flags = list(
        dict.fromkeys(shown_flag(e, rules) for e in estimates if e.drawn and shown_flag(e, rules))
    )
    return {
        flag: _FLAG_MARKS[i] if i < len(_FLAG_MARKS) else f"[{i + 1}]"
        for i, flag in enumerate(flags)
    }


def flag_notes(marks: Mapping[str, str]) -> list[str]:
    """Footer lines explaining each flag's mark."""
    return [f"{mark} {flag}" for flag, mark in marks.items()]


def reason(est: Estimate) -> str:
    """Why an estimate is not drawn (empty when drawn)."""
    if est.status == "suppressed":
        return est.flag or "suppressed"
    if est.status == "empty":
        return "no respondents"
    if est.status == "missing":
        return "no estimate"
    return ""


def data_record(est: Estimate | None, **keys: object) -> dict[str, object]:
    """One row of a chart's data (``<chart>.csv``): ``keys`` (what the row is), then what is
    drawn, as proportions: the estimate and bounds (empty when not drawn), ``n`` (empty when
    withheld), whether the cell is suppressed and why it is not drawn."""
    if est is None:
        numbers = dict.fromkeys(("estimate", "ci_low", "ci_high"), math.nan)
        return {
            **keys,
            **numbers,
            "n": None,
            "suppressed": False,
            "reason": "not estimated",
            CAUTION: False,
            GRADE: "",
        }
    return {
        **keys,
        "estimate": est.estimate / 100,
        "ci_low": est.low / 100,
        "ci_high": est.high / 100,
        "n": None if est.n_hidden else est.n,
        "suppressed": est.status == "suppressed",
        "reason": reason(est),
        CAUTION: est.caution,
        GRADE: est.grade,
    }


def data_frame(
    records: Sequence[Mapping[str, object]], keys: Sequence[str], rules: Marks | None = None
) -> pd.DataFrame:
    """A chart's data as a table with ``keys`` first; ``n`` as whole numbers. Under a standard
    with marks, ``caution`` (and ``grade``) follow, as in the published table."""
    columns = [*keys, "estimate", "ci_low", "ci_high", "n", "suppressed", "reason"]
    if rules is not None and (rules.parentheses or rules.grades):
        columns.append(CAUTION)
    if rules is not None and rules.grades:
        columns.append(GRADE)
    frame = pd.DataFrame(list(records), columns=columns)
    frame["n"] = frame["n"].astype("Int64")
    return frame


def bars_data(bars: Sequence[Bar], rules: Marks | None) -> pd.DataFrame:
    """The data of a bar chart (``<chart>.csv``): one row per bar, in drawing order."""
    records = [
        data_record(
            b.estimate,
            indicator=b.estimate.indicator,
            label=b.label,
            denominator=b.estimate.parent or "all",
        )
        for b in bars
    ]
    return data_frame(records, ["indicator", "label", "denominator"], rules)


def note_text(est: Estimate, *, prefix: str = "", rules: Marks | None = None) -> str | None:
    """The text that replaces an estimate that is not drawn (None when drawn); a cell the
    standard hides gets its mark, ``* not shown``."""
    if hidden_by_standard(est, rules):
        others = [r for r in reasons_of(est.flag) if r != rules.hidden_reason]
        text = f"{rules.hidden_mark} not shown" + (f" ({'; '.join(others)})" if others else "")
    elif est.status == "suppressed":
        text = f"suppressed ({est.flag})" if est.flag else "suppressed"
    elif est.status == "empty":
        text = "no respondents"
    elif est.status == "missing":
        text = f"no estimate (n = {count(est.n)})"
    else:
        return None
    return prefix + text
