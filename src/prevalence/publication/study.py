"""The study report of a wave: one HTML page (and its PDF) for people who read rather than browse.

``results/study/<wave>.html`` holds, in this order: the title and source, the sample (who
answered, by each domain, and the item non-response of the ingest log), the key findings in
words (:mod:`prevalence.publication.findings`), the wave's charts with a caption and alt text, the main
table (as :func:`prevalence.publication.tables.wave_table` formats it), the methods, the limitations and an
appendix of every published figure of the wave against its recomputed value.

Everything comes from files the workflow has written: nothing here recomputes a statistic. The
methods are the Snakemake report's own text (``workflow/report/workflow.rst``, its "Methods"
section), rendered with the same settings, so that the two never say different things. Charts
are linked by paths relative to the page, so the results folder can be moved as a whole.

The PDF is the page printed by headless Chromium (:func:`print_pdf`); Chromium stamps the time
of printing into the PDF, which is replaced by a fixed date so that a rerun gives the same bytes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prevalence.errors import PrevalenceError

if TYPE_CHECKING:
    import pandas as pd

    from prevalence.data.codebook import Codebook
    from prevalence.publication.tables import TableStyle

#: the heading that starts the methods in the Snakemake report's text
METHODS_HEADING = re.compile(r"^Methods\n-+\n", re.MULTILINE)
#: headless Chromium's flags for a closed network (no background connections, no extensions)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
)
#: the date written into every PDF instead of the time of printing (same length, so the
#: cross-reference offsets of the file stay right)
PDF_DATE = b"D:20000101000000+00'00'"
_PDF_DATE_RE = re.compile(rb"D:\d{14}[+-]\d\d'\d\d'")
#: a main table with more columns than this is printed on a landscape page
WIDE = 6
CONVENIENCE = (
    "The respondents are a convenience sample: those who chose to answer, not a random sample "
    "of a known population. The intervals describe sampling variability under the stated "
    "design, not how far those who answered differ from those who did not."
)
SYNTHETIC = (
    "The microdata of this wave are synthetic (its codebook says synthetic: true): only the "
    "published percentages are real; the microdata were constructed to reproduce them, and "
    "every split by region, role or age group is invented."
)


@dataclass(frozen=True)
class Chart:
    """One chart of the report: its image (relative to the page), caption and alt text."""

    src: str
    caption: str
    alt: str


def methods_html(text: str, settings: Mapping[str, Any], *, source: str = "workflow.rst") -> str:
    """The "Methods" section of the Snakemake report's text, rendered as HTML.

    ``text`` is the content of ``workflow/report/workflow.rst``; ``settings`` the resolved
    configuration the report reads as ``snakemake.config`` (``estimates``, ``waves``,
    ``publication``, ``privacy``, ``comparisons``, ``targets``).
    """
    import jinja2
    from docutils.core import publish_parts
    from docutils.writers.html5_polyglot import Writer

    match = METHODS_HEADING.search(text)
    if match is None:
        raise PrevalenceError(
            "the report's text has no 'Methods' section",
            file=source,
            fix="keep the heading 'Methods' underlined with dashes before the methods text",
        )

    class Snakemake:
        config = dict(settings)

    rst = jinja2.Environment().from_string(text[match.end() :]).render(snakemake=Snakemake)
    parts = publish_parts(
        rst,
        writer=Writer(),
        settings_overrides={"report_level": 5, "halt_level": 5, "initial_header_level": 3},
    )
    return parts["body"]


def sample_tables(log: Mapping[str, Any], book: Codebook) -> dict[str, Any]:
    """Who answered, by domain, and the item non-response, from the wave's ingest log."""
    rows = log["rows"]
    domains = []
    for domain, info in log.get("domains", {}).items():
        spec = book.domains.get(domain)
        counts = [(str(value), int(count)) for value, count in info["counts"].items()]
        unknown = int(info.get("no_value", 0)) + int(info.get("missing_code", 0))
        if unknown:
            counts.append(("not stated", unknown))
        domains.append({"label": spec.label if spec else domain, "counts": counts})
    labels = book.labels()
    items = []
    for indicator, info in log.get("indicators", {}).items():
        missing = sum(int(v) for v in info.get("missing", {}).values()) + int(info.get("blank", 0))
        asked = int(info["valid"]) + missing
        parent = info.get("denominator", "all")
        items.append(
            {
                "label": labels.get(indicator, indicator),
                "asked": "all respondents"
                if parent == "all"
                else f"those who said yes to {labels.get(parent, parent).lower()}",
                "valid": int(info["valid"]),
                "missing": missing,
                "not_applicable": int(info.get("not_applicable", 0)),
                "rate": f"{100 * missing / asked:.1f}%" if asked else "–",
            }
        )
    excluded = [(str(k), int(v)) for k, v in rows.get("excluded_by_reason", {}).items()]
    return {
        "read": int(rows["read"]),
        "kept": int(rows["kept"]),
        "excluded": int(rows["excluded"]),
        "excluded_by_reason": excluded,
        "domains": domains,
        "items": items,
    }


def _population(folder: str, populations: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    for domain, value in populations:
        if folder in (f"{domain}-{value}", re.sub(r"[^A-Za-z0-9_+-]+", "-", f"{domain}-{value}")):
            return domain, value
    return None


def _percent(value: Any) -> str:
    """A proportion as a whole percent without its sign, or "" when there is none."""
    import math

    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(number) else f"{100 * number:.0f}"


def _value_text(name: str, estimate: Any, low: Any, high: Any, n: Any, why: Any = "") -> str:
    """``"name: 60% (CI 50–70%), n = 88"``, or ``"name: not shown (why)"`` for a cell not
    drawn."""
    shown = _percent(estimate)
    if not shown:
        return f"{name}: not shown" + (f" ({why})" if isinstance(why, str) and why else "")
    low, high = _percent(low), _percent(high)
    interval = f" (CI {low}–{high}%)" if low and high else ""
    count = f", n = {int(n)}" if n == n and n not in (None, "") else ""
    return f"{name}: {shown}%{interval}{count}"


def _alt_from_data(data: pd.DataFrame) -> str:
    """The values a chart draws, in its order, from the ``<chart>.csv`` beside it."""
    label = next(
        (
            c
            for c in ("label", "indicator_label", "value", "domain_value", "indicator")
            if c in data
        ),
        data.columns[0],
    )
    parts = []
    for row in data.to_dict("records"):
        name = str(row.get(label, ""))
        if "domain_value" in data and label != "domain_value" and row.get("domain_value"):
            name = f"{name}, {row['domain_value']}"
        parts.append(
            _value_text(
                name, *(row.get(k) for k in ("estimate", "ci_low", "ci_high", "n", "reason"))
            )
        )
    return "; ".join(parts)


def _alt_from_table(
    stem: str, rows: pd.DataFrame, labels: Mapping[str, str], domain_labels: Mapping[str, str]
) -> str:
    """The chart's values from the published table (a chart without its data file)."""
    if stem.startswith("by_") and stem != "by_indicator" or stem.startswith("heatmap_"):
        domain = stem.split("_", 1)[1]
        part = rows[(rows["domain"] == domain) & (rows["denominator"] == "all")]
    elif stem.startswith("of_whom_"):
        parent = stem[len("of_whom_") :]
        part = rows[
            (rows["domain"] == "overall")
            & ((rows["indicator"] == parent) | (rows["denominator"] == parent))
        ]
    else:
        part = rows[(rows["domain"] == "overall") & (rows["denominator"] == "all")]
    texts = []
    for row in part.to_dict("records"):
        name = labels.get(row["indicator"], row["indicator"])
        if row["domain"] != "overall":
            name = f"{name}, {row['domain_value']}"
        why = "too few respondents" if row.get("suppressed") in (True, "True", "true") else ""
        texts.append(
            _value_text(name, row["estimate"], row["ci_low"], row["ci_high"], row["n"], why)
        )
    return "; ".join(texts)


def _caption(
    stem: str, noun: str, labels: Mapping[str, str], domain_labels: Mapping[str, str], level: str
) -> str:
    if stem == "by_indicator":
        return f"Prevalence of each form of violence among {noun}, with {level} intervals"
    if stem.startswith("by_"):
        domain = domain_labels.get(stem[3:], stem[3:])
        return f"Each form of violence by {domain.lower()}, {noun}, with {level} intervals"
    if stem.startswith("heatmap_"):
        domain = domain_labels.get(stem[8:], stem[8:])
        return f"Heat map of each form of violence by {domain.lower()}, {noun}"
    if stem.startswith("of_whom_"):
        parent = labels.get(stem[8:], stem[8:])
        return f"{parent} among {noun}, and what those who experienced it faced"
    if stem.startswith("categorical_"):
        question = labels.get(stem[12:], stem[12:])
        return f"{question}: the share of each answer among {noun}, by group"
    return f"{stem.replace('_', ' ')}, {noun}"


def charts_of(
    images: Sequence[str | Path],
    *,
    page_dir: str | Path,
    figures_dir: str | Path,
    table: pd.DataFrame,
    book: Codebook,
    populations: Sequence[tuple[str, str]],
) -> list[dict[str, Any]]:
    """The wave's charts by population (all respondents first), each with caption and alt text.

    ``images`` are the charts' PNG files under ``figures_dir`` (the wave's folder); a chart in
    a subfolder ``<domain>-<value>`` is of that population. Alt text lists the values drawn,
    from the chart's ``<chart>.csv`` when it has one, else from the published ``table``.
    """
    import pandas as pd

    from prevalence.publication.findings import OVERALL, population_noun

    labels = {**book.labels(), **book.categorical_labels}
    domain_labels = {d: spec.label for d, spec in book.domains.items()}
    figures_dir = Path(figures_dir)
    levels = table["level"].dropna() if "level" in table else []
    level = f"{100 * float(levels.iloc[0]):g}%" if len(levels) else "95%"
    groups: dict[tuple[str, str], list[Chart]] = {}
    order = ["by_indicator"] + [f"{kind}_{d}" for kind in ("by", "heatmap") for d in book.domains]

    def rank(path: Path) -> tuple[int, float, str]:
        """By indicator first, then the "of whom" breakdowns, the categorical questions, then by
        domain, heat maps."""
        stem = path.stem
        first = {"of_whom_": 0.5, "categorical_": 0.75}
        place = next((v for k, v in first.items() if stem.startswith(k)), None)
        if place is None:
            place = order.index(stem) if stem in order else 99
        return (len(path.parts), place, str(path))

    for image in sorted(map(Path, images), key=rank):
        folder = image.parent.relative_to(figures_dir)
        population = OVERALL if str(folder) == "." else _population(folder.name, populations)
        if population is None:
            continue
        noun = population_noun(book, *population)
        data_file = image.with_suffix(".csv")
        if data_file.exists():
            alt = _alt_from_data(pd.read_csv(data_file, keep_default_na=False, na_values=[""]))
        elif population == OVERALL:
            alt = _alt_from_table(image.stem, table, labels, domain_labels)
        else:
            alt = ""
        caption = _caption(image.stem, noun, labels, domain_labels, level)
        groups.setdefault(population, []).append(
            Chart(
                src=Path(os.path.relpath(image, page_dir)).as_posix(),
                caption=caption,
                alt=f"{caption}. {alt}" if alt else caption,
            )
        )
    return [
        {"heading": population_noun(book, *population), "charts": charts}
        for population, charts in groups.items()
    ]


def findings_of(findings: pd.DataFrame, wave: str, book: Codebook) -> list[dict[str, Any]]:
    """The wave's key-finding sentences, by population (all respondents first)."""
    from prevalence.publication.findings import population_noun

    part = findings[findings["wave"] == wave]
    out = []
    for (domain, value), group in part.groupby(["domain", "domain_value"], sort=False):
        noun = population_noun(book, str(domain), str(value))
        out.append({"heading": noun[:1].upper() + noun[1:], "sentences": list(group["sentence"])})
    return out


def reproduction_of(reproduction: pd.DataFrame | None, wave: str) -> list[dict[str, Any]]:
    """Every published figure of the wave, its recomputed value and the verdict."""
    if reproduction is None:
        return []
    part = reproduction[reproduction["wave"].astype(str) == wave]
    rows = []
    for row in part.to_dict("records"):
        decimals = int(row["decimals"])
        match = str(row["match"]).lower() == "true"
        rows.append(
            {
                "text": row["text"],
                "published": f"{float(row['published']):.{decimals}f}%",
                "computed": f"{float(row['rounded']):.{decimals}f}%",
                "n": row["n"],
                "verdict": "reproduced" if match else "not reproduced",
                "match": match,
                "source": row.get("source", ""),
            }
        )
    return rows


def render_study(
    *,
    wave: str,
    wave_label: str,
    book: Codebook,
    table: pd.DataFrame,
    findings: pd.DataFrame,
    log: Mapping[str, Any],
    methods: str,
    charts: Sequence[Mapping[str, Any]],
    reproduction: pd.DataFrame | None,
    domains: Sequence[str],
    style: TableStyle,
    publication: Any = None,
) -> str:
    """The study report of one wave as a standalone HTML page (see the module docstring)."""
    import jinja2

    from prevalence.publication.tables import Block, html_sections, wave_table

    rows = table[table["wave"].astype(str) == wave]
    have = set(rows["domain"].astype(str))
    blocks = [
        Block.of(
            wave_table(
                rows,
                wave=wave,
                domain=domain,
                labels=book.labels(),
                style=style,
                wave_label=wave_label,
                source=book.source or wave_label,
                publication=publication,
            )
        )
        for domain in ["overall", *[d for d in dict.fromkeys(domains) if d in have]]
    ]
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("prevalence", "publication/templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("study.html.j2").render(
        title=book.title or f"Violence against women in politics: {wave_label}",
        wave=wave,
        wave_label=wave_label,
        source=book.source or "",
        sample=sample_tables(log, book),
        findings=findings_of(findings, wave, book),
        charts=charts,
        main_tables=[
            {"html": jinja2.filters.Markup(html_sections([b])), "wide": b.table.shape[1] > WIDE}
            for b in blocks
        ],
        methods=jinja2.filters.Markup(methods),
        limitations=[CONVENIENCE, *([SYNTHETIC] if book.synthetic else [])],
        reproduction=reproduction_of(reproduction, wave),
        has_targets=reproduction is not None,
    )


def chromium() -> str:
    """The Chromium that prints the PDF, or a clear error saying what to install."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise PrevalenceError(
        "the study report's PDF is printed by headless Chromium, and no chromium, "
        "chromium-browser or google-chrome is on the PATH",
        fix="install Chromium (Debian/Ubuntu: apt-get install chromium; macOS: brew install "
        "--cask chromium), then run again",
    )


def stable_pdf(data: bytes) -> bytes:
    """The PDF with its creation and modification dates set to :data:`PDF_DATE`."""
    return _PDF_DATE_RE.sub(PDF_DATE, data)


def print_pdf(html: str | Path, pdf: str | Path, *, timeout: float = 120) -> Path:
    """Print the page ``html`` to ``pdf`` with headless Chromium, reproducibly.

    Chromium runs with a new empty profile and no background connections
    (:data:`CHROMIUM_FLAGS`); the PDF's dates are fixed (:func:`stable_pdf`).
    """
    from prevalence.data.io import write_with

    executable = chromium()
    pdf = Path(pdf)
    with tempfile.TemporaryDirectory(prefix="prevalence-pdf-") as work:
        printed = Path(work) / "page.pdf"
        command = [
            executable,
            *CHROMIUM_FLAGS,
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(work) / 'profile'}",
            f"--print-to-pdf={printed}",
            Path(html).resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as error:
            raise PrevalenceError(
                f"Chromium did not print the study report within {timeout:.0f} s",
                file=str(html),
                fix="run again; if it persists, check that `chromium --headless` starts here",
            ) from error
        if done.returncode != 0 or not printed.exists() or printed.stat().st_size == 0:
            last = (done.stderr or "").strip().splitlines()[-1:] or ["no message"]
            raise PrevalenceError(
                f"Chromium could not print the study report (exit {done.returncode}: {last[0]})",
                file=str(html),
                fix="check that `chromium --headless --print-to-pdf` works on this machine",
            )
        data = stable_pdf(printed.read_bytes())
    write_with(pdf, lambda p: p.write_bytes(data))
    return pdf
