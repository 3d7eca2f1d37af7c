"""Tests of the publication tables in :mod:`prevalence.publication.tables`."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser

import docx
import numpy as np
import openpyxl
import pandas as pd
import pytest

from prevalence.errors import ConfigError, PrevalenceError
from prevalence.publication.disclosure import DHS, STATCAN, disclose
from prevalence.publication.tables import (
    N_HIDDEN,
    Block,
    TableStyle,
    format_cell,
    format_cells,
    parse_table_style,
    publication_tables,
    render_docx,
    render_html,
    render_latex,
    render_markdown,
    render_xlsx,
    sheet_name,
    wave_table,
    write_markdown,
    write_xlsx,
)

LABELS = {
    "psychological": "Psychological violence",
    "online": "Online violence",
    "doxing": "Doxing",
}

# The suppressed row keeps distinctive numbers that must never be published.
SECRET = (7.77, 6.66, 8.88)
SECRET_TEXTS = ("777", "666", "888", "7.77", "6.66", "8.88")


def row(domain, value, indicator, n, estimate, low, high, *, suppressed=False, flag=""):
    return {
        "wave": "w1",
        "domain": domain,
        "domain_value": value,
        "indicator": indicator,
        "denominator": "online" if indicator == "doxing" else "all",
        "n": n,
        "cases": 0 if math.isnan(estimate) else round(n * min(estimate, 1)),
        "estimate": estimate,
        "se": 0.05,
        "ci_low": low,
        "ci_high": high,
        "ci_method": "wilson",
        "level": 0.95,
        "deff": 1.0,
        "n_eff": float(n),
        "df": math.inf,
        "suppressed": suppressed,
        "flag": flag,
    }


def long_table() -> pd.DataFrame:
    nan = math.nan
    rows = [
        row("overall", "All", "psychological", 40, 0.6021, 0.5249, 0.6712),
        row("overall", "All", "online", 39, 0.5, 0.35, 0.65),
        row("overall", "All", "doxing", 19, 0.2105, 0.085, 0.4333),
        row("region", "North", "psychological", 20, 0.55, 0.342, 0.742),
        row("region", "North", "online", 20, 0.0, 0.0, 0.161, flag="estimate 0: wilson with n=20"),
        row("region", "North", "doxing", 0, nan, nan, nan, suppressed=True, flag="no respondents"),
        row("region", "South", "psychological", 20, 0.65, 0.433, 0.819),
        row("region", "South", "online", 19, 0.5263, 0.317, 0.727),
        row(
            "region",
            "South",
            "doxing",
            10,
            *SECRET,
            suppressed=True,
            flag="n_eff < 30; fewer than 5 cases",
        ),
        row(
            "region",
            "Islands",
            "psychological",
            0,
            nan,
            nan,
            nan,
            suppressed=True,
            flag="no respondents",
        ),
        row(
            "region", "Islands", "online", 0, nan, nan, nan, suppressed=True, flag="no respondents"
        ),
        row(
            "region", "Islands", "doxing", 0, nan, nan, nan, suppressed=True, flag="no respondents"
        ),
        row("role", "MP", "psychological", 30, 0.6, 0.423, 0.754),
        row("role", "MP", "online", 30, 0.5, 0.332, 0.668),
        row("role", "MP", "doxing", 15, 0.2, 0.0705, 0.4519),
        row("region+role", "North+MP", "psychological", 15, 0.6, 0.357, 0.802),
        row("region+role", "North+MP", "online", 15, 0.4, 0.198, 0.643),
        row("region+role", "North+MP", "doxing", 6, 0.3333, 0.0968, 0.7),
    ]
    return pd.DataFrame(rows)


def cell(frame: pd.DataFrame, label: str, column: str) -> str:
    matches = frame.loc[frame["Indicator"].str.strip().str.startswith(label), column]
    assert len(matches) == 1, (label, list(frame["Indicator"]))
    return matches.iloc[0]


# --------------------------------------------------------------------------
# format_cell
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "style", "expected"),
    [
        ((0.6021, 0.5249, 0.6712), TableStyle(), "60% (52–67)"),
        ((0.6021, 0.5249, 0.6712), TableStyle(percent=False), "0.60 (0.52–0.67)"),
        ((0.6021, 0.5249, 0.6712), TableStyle(decimals=1), "60.2% (52.5–67.1)"),
        ((0.6021, 0.5249, 0.6712), TableStyle(dash="-"), "60% (52-67)"),
        ((0.6021, 0.5249, 0.6712), TableStyle(dash=" to "), "60% (52 to 67)"),
        ((0.6021, 0.5249, 0.6712), TableStyle(decimals=1, decimal_mark=","), "60,2% (52,5–67,1)"),
        ((0.125, 0.0, 1.0), TableStyle(), "13% (0–100)"),  # half up, not to even
        ((0.135, 0.145, 0.155), TableStyle(), "14% (15–16)"),
        ((0.285, 0.015, 0.025), TableStyle(), "29% (2–3)"),  # 0.285 * 100 is 28.499999... in floats
        ((0.1235, 0.1225, 0.1245), TableStyle(decimals=1), "12.4% (12.3–12.5)"),
        ((0.125, 0.005, 0.995), TableStyle(percent=False), "0.13 (0.01–1.00)"),
        ((0.0, -1e-17, 0.161), TableStyle(), "0% (0–16)"),  # never "-0"
        ((0.6021, math.nan, 0.6712), TableStyle(), "60%"),
        ((math.nan, 0.1, 0.2), TableStyle(), "—"),
        ((None, None, None), TableStyle(suppressed_mark="x"), "x"),
        ((np.float64(0.5), np.float64(0.4), np.float64(0.6)), TableStyle(), "50% (40–60)"),
    ],
)
def test_format_cell(args, style, expected):
    assert format_cell(*args, style) == expected


def test_format_cell_default_style():
    assert format_cell(0.6021, 0.5249, 0.6712) == "60% (52–67)"


def test_format_cells_keeps_a_series_index_and_broadcasts_arrays():
    est = pd.Series([0.125, np.nan, 0.5], index=["a", "b", "c"], name="estimate")
    out = format_cells(est, pd.Series([0.1, 0.2, 0.4]).to_numpy(), [0.2, 0.3, 0.6])
    assert isinstance(out, pd.Series)
    assert list(out.index) == ["a", "b", "c"]
    assert list(out) == ["13% (10–20)", "—", "50% (40–60)"]
    grid = format_cells(
        np.array([[0.1, 0.2]]), 0.0, np.array([[0.3, 0.4]]), TableStyle(percent=False)
    )
    assert grid.shape == (1, 2)
    assert grid.tolist() == [["0.10 (0.00–0.30)", "0.20 (0.00–0.40)"]]


# --------------------------------------------------------------------------
# Style from config
# --------------------------------------------------------------------------


def test_parse_table_style_reads_every_key():
    style = parse_table_style(
        {
            "decimals": 1,
            "percent": False,
            "range_dash": "-",
            "suppressed": "..",
            "show_n": False,
            "decimal_mark": ",",
        },
        "config.yaml",
    )
    assert style == TableStyle(
        percent=False, decimals=1, dash="-", suppressed_mark="..", show_n=False, decimal_mark=","
    )
    assert parse_table_style(None) == TableStyle()
    assert parse_table_style({}) == TableStyle()


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"decimal": 1}, "did you mean 'decimals'"),
        ({"decimals": 7}, "tables.decimals"),
        ({"decimals": True}, "tables.decimals"),
        ({"decimals": "1"}, "tables.decimals"),
        ({"percent": "yes"}, "tables.percent"),
        ({"range_dash": ""}, "tables.range_dash"),
        ({"range_dash": "1"}, "tables.range_dash"),
        ({"suppressed": None}, "tables.suppressed"),
        ({"decimal_mark": ";"}, "tables.decimal_mark"),
        ({"range_dash": ",", "decimal_mark": ","}, "decimal mark"),
        (["decimals"], "mapping"),
    ],
)
def test_parse_table_style_refuses_bad_values(raw, words):
    with pytest.raises(ConfigError) as error:
        parse_table_style(raw, "config.yaml")
    assert words in str(error.value)
    assert error.value.file == "config.yaml"


def test_table_style_checks_direct_construction():
    with pytest.raises(ConfigError):
        TableStyle(decimals=-1)


# --------------------------------------------------------------------------
# wave_table
# --------------------------------------------------------------------------


def test_wave_table_layout_cells_and_footnotes():
    frame = wave_table(
        long_table(),
        wave="w1",
        domain="region",
        labels=LABELS,
        wave_label="Wave 1",
        source="Survey",
    )
    assert list(frame.columns) == ["Indicator", "All", "North", "South", "Islands"]
    assert list(frame["Indicator"]) == [
        "Respondents (n)",
        "Psychological violence",
        "Online violence",
        "  Doxing (of those with online violence)",
    ]
    assert list(frame.iloc[0]) == ["Respondents (n)", "39–40", "20", "19–20", "0"]
    assert cell(frame, "Psychological", "All") == "60% (52–67)"
    # Footnote letters follow reading order; a flag with two reasons gets two letters.
    assert cell(frame, "Psychological", "Islands") == "— (a)"
    assert cell(frame, "Online violence", "North") == "0% (0–16) (b)"
    assert cell(frame, "Doxing", "North") == "— (a)"
    assert cell(frame, "Doxing", "South") == "— (c, d)"
    notes = frame.attrs["notes"]
    assert (
        notes[0] == "Percent of respondents, with Wilson 95% confidence intervals in parentheses."
    )
    assert "(a) no respondents" in notes
    assert "(b) estimate 0: wilson with n=20" in notes
    assert "(c) n_eff < 30" in notes
    assert "(d) fewer than 5 cases" in notes
    assert "— not published; the letter gives the reason." in notes
    assert any(n.startswith("Respondents (n): respondents with a valid answer") for n in notes)
    assert any(n.startswith("Indented rows (of those with") for n in notes)
    assert notes[-1] == "Source: Survey."
    assert frame.attrs["title"] == "Wave 1: prevalence by region"


def test_suppressed_estimates_never_reach_the_table():
    frame = wave_table(long_table(), wave="w1", domain="region", labels=LABELS)
    text = frame.to_csv() + "\n".join(frame.attrs["notes"])
    for secret in SECRET_TEXTS:
        assert secret not in text


def test_wave_table_follows_the_label_order_and_keeps_unlabelled_indicators():
    labels = {"online": "Online violence", "psychological": "Psychological violence"}
    frame = wave_table(long_table(), wave="w1", domain="overall", labels=labels)
    assert list(frame.columns) == ["Indicator", "All"]
    assert list(frame["Indicator"]) == [
        "Respondents (n)",
        "Online violence",
        "Psychological violence",
        "  doxing (of those with online violence)",
    ]
    assert frame.attrs["title"] == "w1: prevalence among all respondents"
    assert not any("not published" in n for n in frame.attrs["notes"])


def test_of_whom_keeps_an_acronym_capitalised():
    labels = {
        "psychological": "Psychological",
        "online": "ICT-facilitated violence",
        "doxing": "Doxing",
    }
    frame = wave_table(long_table(), wave="w1", domain="overall", labels=labels)
    assert frame["Indicator"].iloc[3] == "  Doxing (of those with ICT-facilitated violence)"


def test_wave_table_side_by_side_and_crossings():
    frame = wave_table(
        long_table(), wave="w1", domain=["overall", "role", "region+role"], labels=LABELS
    )
    assert list(frame.columns) == ["Indicator", "All", "Role: MP", "Region × role: North × MP"]
    assert frame.attrs["title"] == "w1: prevalence overall and by role and region × role"
    crossing = wave_table(long_table(), wave="w1", domain="region+role", labels=LABELS)
    assert list(crossing.columns) == ["Indicator", "All", "North × MP"]
    assert cell(crossing, "Doxing", "North × MP") == "33% (10–70)"


def test_proportion_style_and_no_n_row():
    style = TableStyle(percent=False, show_n=False)
    frame = wave_table(long_table(), wave="w1", domain="role", labels=LABELS, style=style)
    assert frame["Indicator"].iloc[0] == "Psychological violence"
    assert cell(frame, "Psychological", "MP") == "0.60 (0.42–0.75)"
    assert frame.attrs["notes"][0].startswith("Proportion of respondents, with Wilson 95%")
    assert not any(n.startswith("Respondents (n)") for n in frame.attrs["notes"])


def test_hidden_n_is_withheld():
    table = long_table()
    table[N_HIDDEN] = (table["domain_value"] == "South").to_numpy()
    frame = wave_table(table, wave="w1", domain="region", labels=LABELS)
    assert frame["South"].iloc[0] == "— (a)"
    assert "(a) n withheld" in frame.attrs["notes"]


def test_text_columns_from_csv_are_read(tmp_path):
    path = tmp_path / "prevalence.csv"
    long_table().to_csv(path, index=False)
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    frame = wave_table(table, wave="w1", domain="region", labels=LABELS)
    assert cell(frame, "Doxing", "South") == "— (c, d)"
    assert cell(frame, "Psychological", "North") == "55% (34–74)"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda t: t.drop(columns="flag"), "lacks column(s) flag"),
        (lambda t: t.assign(wave="w2"), "no rows for wave"),
        (lambda t: t[t["domain"] != "region"], "no rows for domain"),
        (lambda t: pd.concat([t, t.iloc[[0]]]), "two rows for one indicator"),
        (lambda t: t[t["domain"] != "overall"], "no overall rows"),
    ],
)
def test_wave_table_errors(change, words):
    with pytest.raises(PrevalenceError, match=words.replace("(", r"\(").replace(")", r"\)")):
        wave_table(change(long_table()), wave="w1", domain="region", labels=LABELS)


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------


def blocks():
    table = long_table()
    return [
        wave_table(table, wave="w1", domain=d, labels=LABELS, wave_label="Wave 1", source="Survey")
        for d in ("region", "role")
    ]


def test_markdown_is_byte_identical_and_readable(tmp_path):
    first = write_markdown(blocks(), tmp_path / "a.md", title="Tables")
    second = write_markdown(blocks(), tmp_path / "b.md", title="Tables")
    assert first.read_bytes() == second.read_bytes()
    text = first.read_text("utf-8")
    assert text.startswith("# Tables\n\n## Wave 1: prevalence by region\n\n")
    assert "| Indicator | All | North | South | Islands |\n|:---|---:|---:|---:|---:|\n" in text
    assert "| \u2003Doxing (of those with online violence) | 21% (9–43) |" in text
    assert "- (c) n\\_eff \\< 30\n" in text


def test_markdown_escapes_pipes():
    frame = pd.DataFrame({"Indicator": ["a | b"], "All": ["1%"]})
    text = render_markdown([("T", frame, ["x|y"])], title=None)
    assert "| a \\| b | 1% |" in text
    assert "- x\\|y" in text


def test_latex_escapes_special_characters():
    frame = pd.DataFrame(
        {
            "Indicator": ["R&D_team #1 {x} $5 ~ ^ \\ [a]", "  Child"],
            "All": ["60% (52–67)", "— (a)"],
        }
    )
    text = render_latex([Block("50% & more_#", frame, ("(a) n_eff < 30",), "t/1")], title=None)
    assert r"\caption{50\% \& more\_\#}" in text
    assert r"\label{tab:t-1}" in text
    assert (
        r"R\&D\_team \#1 \{x\} \$5 \textasciitilde{} \textasciicircum{} \textbackslash{} {[}a{]}"
        in text
    )
    assert r"60\% (52--67) \\" in text
    assert r"\hspace*{1em}Child & --- (a) \\" in text
    assert r"(a) n\_eff \textless{} 30\par" in text
    for command in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}"):
        assert command in text
    assert "–" not in text and "—" not in text


class _Balance(HTMLParser):
    """Checks that every opened element is closed in order (void elements aside)."""

    VOID = {"meta", "br", "hr", "img", "link", "input", "col"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()


def test_html_is_well_formed_accessible_and_escaped():
    danger = pd.DataFrame({"Indicator": ["<script>alert(1)</script> & co"], "All": ["1% (0–2)"]})
    text = render_html([*blocks(), ("Title <b>", danger, ["a < b"])], title="Tables & more")
    root = ET.fromstring(text)  # well-formed XML as well as HTML
    assert root.tag == "html" and root.get("lang") == "en"
    parser = _Balance()
    parser.feed(text)
    parser.close()
    assert parser.stack == []
    assert "<script" not in text and "&lt;script&gt;" in text
    assert "Title &lt;b&gt;" in text and "a &lt; b" in text
    assert "<title>Tables &amp; more</title>" in text
    tables = root.findall(".//table")
    assert len(tables) == 3
    first = tables[0]
    assert first.find("caption").text == "Wave 1: prevalence by region"
    assert [th.get("scope") for th in first.find("thead").iter("th")] == ["col"] * 5
    assert all(th.get("scope") == "row" for th in first.find("tbody").iter("th"))
    notes = root.find(f".//ul[@id='{first.get('aria-describedby')}']")
    assert "(c) n_eff < 30" in [li.text for li in notes.iter("li")]
    assert not any(a in attrs for _, attrs in parser.tags for a in ("src", "href"))


def read_sheet(book, name):
    return [list(r) for r in book[name].iter_rows(values_only=True)]


def test_xlsx_reads_back_and_is_byte_identical(tmp_path):
    table = long_table()
    sheets = {
        "Wave 1": wave_table(
            table,
            wave="w1",
            domain=["overall", "region", "role"],
            labels=LABELS,
            wave_label="Wave 1",
        ),
        "a/b:c*?[x] and a very long name indeed": blocks()[1],
    }
    first = write_xlsx(sheets, tmp_path / "a.xlsx", notes=["General note."])
    second = write_xlsx(sheets, tmp_path / "b.xlsx", notes=["General note."])
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
        assert "1980-01-01T00:00:00Z</dcterms:created>" in core
        assert "1980-01-01T00:00:00Z</dcterms:modified>" in core
    book = openpyxl.load_workbook(first)
    assert book.sheetnames == ["Wave 1", "a-b-c---x- and a very long name", "Notes"]
    ws = book["Wave 1"]
    assert ws["A1"].value == "Wave 1: prevalence overall and by region and role"
    assert ws["A1"].font.bold
    assert [c.value for c in ws[3]][:3] == ["Indicator", "All", "Region: North"]
    assert all(c.font.bold for c in ws[3])
    assert ws.freeze_panes == "B4"
    assert ws["A4"].value == "Respondents (n)" and ws["C4"].value == 20
    assert ws["B5"].value == "60% (52–67)"
    assert ws["A7"].value == "Doxing (of those with online violence)"
    assert ws["A7"].alignment.indent == 1
    assert ws.column_dimensions["A"].width >= 16
    notes = read_sheet(book, "Notes")
    assert notes[1] == ["Sheet", "Note"]
    assert notes[2] == ["All sheets", "General note."]
    assert ["Wave 1", "(c) n_eff < 30"] in notes
    cells = [str(v) for name in book.sheetnames for r in read_sheet(book, name) for v in r]
    for secret in SECRET_TEXTS:
        assert not any(secret in c for c in cells)


def test_xlsx_notes_as_a_frame():
    notes = pd.DataFrame({"Note": ["one", "two"]})
    data = render_xlsx({"S": blocks()[0]}, notes)
    assert data == render_xlsx({"S": blocks()[0]}, notes)


@pytest.mark.parametrize(
    ("text", "taken", "expected"),
    [
        ("Global 2016", [], "Global 2016"),
        ("a/b\\c:d*e?f[g]h", [], "a-b-c-d-e-f-g-h"),
        ("x" * 40, [], "x" * 31),
        ("'quoted'", [], "quoted"),
        ("notes", ["Notes"], "notes (2)"),
        ("y" * 31, ["Y" * 31], "y" * 27 + " (2)"),
        ("", [], "Sheet"),
        ("History", [], "History (2)"),
    ],
)
def test_sheet_name(text, taken, expected):
    assert sheet_name(text, taken) == expected


def test_no_writer_publishes_a_suppressed_value():
    items = blocks()
    outputs = [render_markdown(items), render_latex(items), render_html(items)]
    for text in outputs:
        for secret in SECRET_TEXTS:
            assert secret not in text


# --------------------------------------------------------------------------
# publication_tables
# --------------------------------------------------------------------------


def test_publication_tables_writes_five_stable_files(tmp_path):
    table = long_table()
    other = table[table["domain"].isin(["overall", "role"])].assign(wave="w0")
    table = pd.concat([table, other], ignore_index=True)
    args = (
        table,
        {"w1": LABELS, "w0": LABELS},
        {"w0": "Wave 0", "w1": "Wave 1"},
        ["region", "role"],
        TableStyle(),
    )
    paths = publication_tables(*args, tmp_path / "a", sources={"w1": "Survey 1"})
    again = publication_tables(*args, tmp_path / "b", sources={"w1": "Survey 1"})
    assert [p.name for p in paths] == [
        "prevalence.xlsx",
        "prevalence.md",
        "prevalence.tex",
        "prevalence.html",
        "prevalence.docx",
    ]
    for one, two in zip(paths, again, strict=True):
        assert one.read_bytes() == two.read_bytes()
    book = openpyxl.load_workbook(paths[0])
    assert book.sheetnames == ["Wave 0", "Wave 1", "Notes"]
    assert book["Wave 0"]["A1"].value == "Wave 0: prevalence overall and by role"
    markdown = paths[1].read_text("utf-8")
    # Wave 0 has no region rows: only its role table; waves in the order of wave_labels.
    titles = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert titles == [
        "## Wave 0: prevalence by role",
        "## Wave 1: prevalence by region",
        "## Wave 1: prevalence by role",
    ]
    assert "- Source: Survey 1." in markdown and "- Source: Wave 0." in markdown
    ET.fromstring(paths[3].read_text("utf-8"))
    assert docx_blocks(paths[4]) == xlsx_blocks(paths[0])
    for path in paths[1:4]:
        for secret in SECRET_TEXTS:
            assert secret not in path.read_text("utf-8")


# --------------------------------------------------------------------------
# Word
# --------------------------------------------------------------------------


def xlsx_blocks(path) -> list[tuple[str, list[list[str]], list[str]]]:
    """(title, cells with indentation as leading spaces, notes) of each sheet but Notes."""
    book = openpyxl.load_workbook(path)
    out = []
    for ws in book.worksheets[:-1]:
        rows = [[("" if c.value is None else str(c.value)) for c in r] for r in ws.iter_rows()]
        width = len(rows[2])
        end = next(i for i in range(3, len(rows)) if not any(rows[i][:width]))
        cells = [r[:width] for r in rows[2:end]]
        for i in range(1, len(cells)):
            cells[i][0] = "  " * int(ws.cell(row=3 + i, column=1).alignment.indent) + cells[i][0]
        notes = [r[0] for r in rows[end + 1 :] if r[0]]
        out.append((rows[0][0], cells, notes))
    return out


def docx_blocks(path) -> list[tuple[str, list[list[str]], list[str]]]:
    """The same read from the Word document: headings, tables and the paragraphs after each."""
    document = docx.Document(str(path))
    body = document.element.body
    out: list = []
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = docx.text.paragraph.Paragraph(child, document)
            if paragraph.style.name == "Heading 1":
                out.append([paragraph.text, None, []])
            elif out and paragraph.text:
                out[-1][2].append(paragraph.text)
        elif tag == "tbl":
            table = docx.table.Table(child, document)
            cells = []
            for r in table.rows:
                line = []
                for j, c in enumerate(r.cells):
                    indent = c.paragraphs[0].paragraph_format.left_indent
                    level = 0 if j or indent is None else round(indent.pt / 9)
                    line.append("  " * level + c.text)
                cells.append(line)
            out[-1][1] = cells
    return [tuple(b) for b in out]


def test_docx_has_the_cells_and_notes_of_the_xlsx_and_is_byte_identical(tmp_path):
    table = long_table()
    sheets = {
        "Wave 1": wave_table(table, wave="w1", domain=["overall", "region", "role"], labels=LABELS),
        "Other": wave_table(table, wave="w1", domain="region+role", labels=LABELS),
    }
    data = render_docx(sheets, title="Tables")
    assert data == render_docx(sheets, title="Tables")
    (tmp_path / "t.docx").write_bytes(data)
    write_xlsx(sheets, tmp_path / "t.xlsx")
    read = docx_blocks(tmp_path / "t.docx")
    assert read == xlsx_blocks(tmp_path / "t.xlsx")
    title, cells, notes = read[0]
    assert cells[0][:3] == ["Indicator", "All", "Region: North"]
    assert cells[4][0] == "  Doxing (of those with online violence)"
    assert "(c) n_eff < 30" in notes and notes[-1] == "Source: w1."
    with zipfile.ZipFile(tmp_path / "t.docx") as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert (
            "1980-01-01T00:00:00Z</dcterms:created>" in archive.read("docProps/core.xml").decode()
        )
    text = "\n".join(str(c) for b in read for r in b[1] for c in r) + "\n".join(read[0][2])
    for secret in SECRET_TEXTS:
        assert secret not in text


# --------------------------------------------------------------------------
# the marks of the publication standards
# --------------------------------------------------------------------------


def counts_table() -> pd.DataFrame:
    """A wave of 120 (regions of 60, 40 and 20) as the estimation gives it, unsuppressed."""
    cells = [("overall", "All", 120, 41), ("region", "North", 60, 30)]
    cells += [("region", "South", 40, 8), ("region", "East", 20, 3)]
    rows = []
    for domain, value, n, x in cells:
        p = x / n
        se = math.sqrt(p * (1 - p) / n)
        rows.append({**row(domain, value, "psychological", n, p, p - 2 * se, p + 2 * se), "se": se})
        rows[-1]["cases"] = x
    return pd.DataFrame(rows)


def test_dhs_marks_stars_and_parentheses_with_their_notes():
    published = disclose(counts_table(), DHS)
    frame = wave_table(published, wave="w1", domain="region", labels=LABELS, publication=DHS)
    assert cell(frame, "Psychological", "All") == "34% (26–43)"
    assert cell(frame, "Psychological", "North") == "50% (37–63)"
    assert cell(frame, "Psychological", "South") == "(20% (7–33))"  # 40 cases
    assert cell(frame, "Psychological", "East") == "*"  # 20 cases
    notes = frame.attrs["notes"]
    assert (
        "( ) a figure in parentheses is based on 25–49 unweighted cases: use with caution." in notes
    )
    assert "* a figure based on fewer than 25 unweighted cases: not shown." in notes
    assert not any(n.startswith(("(a)", "—")) for n in notes)  # the marks need no letter
    # disclosure control under DHS: 1 case of 20 in East, so South is hidden as well
    table = counts_table()
    table.loc[table["domain_value"] == "East", "cases"] = 1
    table.loc[0, "cases"] = 39
    published = disclose(table, DHS)
    frame = wave_table(published, wave="w1", domain="region", labels=LABELS, publication=DHS)
    assert cell(frame, "Psychological", "South") == "— (a)"
    # a disclosive cell gets the confidentiality reason only, not the standard's star
    assert cell(frame, "Psychological", "East") == "— (b)"
    notes = frame.attrs["notes"]
    assert "(a) secondary suppression" in notes and "(b) fewer than 3 cases or non-cases" in notes
    assert not any(n.startswith("( )") for n in notes)  # no figure in parentheses left


def test_statcan_grades_every_published_cell_and_shows_f():
    published = disclose(counts_table(), STATCAN)
    # CV: 12.7%, 12.9%, 31.6% (E) and 53.2% (F)
    assert list(published["grade"]) == ["C", "C", "E", "F"]
    assert list(published["caution"]) == [False, False, True, False]
    frame = wave_table(published, wave="w1", domain="region", labels=LABELS, publication=STATCAN)
    assert cell(frame, "Psychological", "All") == "34% (26–43) C"
    assert cell(frame, "Psychological", "South") == "20% (7–33) E"  # the grade says caution
    assert cell(frame, "Psychological", "East") == "F"
    notes = frame.attrs["notes"]
    assert any(n.startswith("A–E quality grade by the coefficient of variation") for n in notes)
    assert any(n.startswith("F too unreliable to be published") for n in notes)
    # without the standard (an older reader), the marks are not shown but the reasons are
    plain = wave_table(published, wave="w1", domain="region", labels=LABELS)
    assert cell(plain, "Psychological", "East").startswith("— (")
