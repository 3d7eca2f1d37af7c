"""Reading survey responses (csv, xlsx, sav, dta, parquet) and writing files atomically.

Every reader returns the same :class:`Responses`: a data frame whose columns
keep the file's values (numbers as numbers, text as text, blanks as missing),
the value labels the file carries (SPSS/Stata), and how to name a row in a
message so that the user can find it in the file ("line 7" of a csv, "row 7" of
a worksheet, "case 6" of an SPSS or Stata file).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prevalence.errors import PrevalenceError

if TYPE_CHECKING:  # pandas is imported where a table is read: hashing and writing text need none
    import pandas as pd

FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".sav": "sav",
    ".zsav": "sav",
    ".dta": "dta",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class Responses:
    """The raw responses of a wave, as read from its file."""

    frame: pd.DataFrame
    path: str
    format: str
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    variable_labels: dict[str, str] = field(default_factory=dict)

    def locate(self, index: int) -> str:
        """Name the 0-based data row ``index`` as the user sees it in the file."""
        if self.format == "csv":
            return f"line {index + 2}"
        if self.format == "xlsx":
            return f"row {index + 2}"
        if self.format in ("sav", "dta"):
            return f"case {index + 1}"
        return f"row {index + 1}"


def sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise PrevalenceError(
            f"unsupported file type {suffix or '(none)'!r}",
            file=str(path),
            fix="save the responses as .csv, .xlsx, .sav, .dta or .parquet",
        )
    return FORMATS[suffix]


def _read_csv(path: Path) -> pd.DataFrame:
    import pandas as pd

    raw = path.read_bytes()
    if not raw.strip():
        raise PrevalenceError(
            "the file is empty", file=str(path), fix="export the responses again, with a header"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PrevalenceError(
            f"not UTF-8 text (byte {raw[exc.start]:#x} cannot be decoded)",
            file=str(path),
            row=f"line {line}",
            fix="save the file as CSV UTF-8 (in Excel: 'CSV UTF-8 (Comma delimited)')",
        ) from None
    header = re.match(r"[^\r\n]*", text).group()  # the first line, without splitting the rest
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    if delimiter not in header:
        try:
            found = csv.Sniffer().sniff(header, delimiters=";\t|,").delimiter
        except csv.Error:
            found = None
        if found and found != delimiter:
            name = {";": "semicolons", "\t": "tabs", "|": "pipes"}.get(found, repr(found))
            raise PrevalenceError(
                f"the columns are separated by {name}, not by {delimiter!r}",
                file=str(path),
                row="line 1",
                fix="save the file as comma-separated CSV (or as .tsv for tabs)",
            )
    _check_header(next(csv.reader([header], delimiter=delimiter), []), path, "line 1")
    frame = _parse_csv(raw, delimiter)
    if frame is not None:
        return frame
    try:  # pandas reads what arrow does not (line breaks inside quotes), or names the problem
        frame = pd.read_csv(
            path,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
            skipinitialspace=True,
        )
    except pd.errors.ParserError as exc:
        detail = str(exc).split("C error: ")[-1].strip().rstrip(".")
        raise PrevalenceError(
            f"cannot be read as CSV ({detail})",
            file=str(path),
            fix="check that every line has the same number of fields and quotes are closed",
        ) from None
    return frame


def _check_header(names: list[Any], path: Path, where: str | None) -> None:
    """Refuse a header that names a column twice (pandas would rename the second copy)."""
    names = [str(n).strip() for n in names if n is not None and str(n).strip()]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            positions = [i + 1 for i, n in enumerate(names) if n == name]
            raise PrevalenceError(
                f"the header names this column {len(positions)} times (columns "
                f"{', '.join(map(str, positions))}); which of them holds the answers is unclear",
                file=str(path),
                column=name,
                row=where,
                fix="rename or remove the extra copies in the export, so that each name is unique",
            )
        seen.add(name)


def _parse_csv(raw: bytes, delimiter: str) -> pd.DataFrame | None:
    """The CSV parsed by arrow in parallel, every field as text, then numbers as numbers.

    A column becomes numeric only when every value in it is a number as written
    (``pandas.to_numeric`` would read it the same); everything else stays text, with
    only empty fields missing, as the codebook's codes are compared. None when arrow
    cannot parse the file: the caller then reads it with pandas, which says where.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if raw.count(b'"') % 2:  # a quote left open: arrow reads on to the end, pandas says where
        return None
    try:
        names = next(
            csv.reader(
                [raw[:65536].decode("utf-8-sig", "replace").splitlines()[0]], delimiter=delimiter
            )
        )
        table = pacsv.read_csv(
            pa.BufferReader(raw),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, StopIteration, IndexError, csv.Error):
        return None
    if table.num_columns != len(names) or len(set(names)) != len(names):
        return None
    columns = {}
    for name, column in zip(names, table.columns, strict=True):
        columns[name] = column
        if column.null_count == len(column):
            continue
        for kind in (pa.int64(), pa.float64()):
            try:
                number = pc.cast(column, kind)
            except pa.ArrowInvalid:
                continue
            if kind == pa.float64() and pc.any(pc.is_nan(number)).as_py():
                break  # "nan" is text to pandas.to_numeric, and so a code here
            if kind == pa.int64() and number.null_count:
                number = pc.cast(column, pa.float64())  # ints with blanks: as pandas reads them
            columns[name] = number
            break
    return pa.table(columns).to_pandas()


def _read_xlsx(path: Path, sheet: str | int | None) -> pd.DataFrame:
    import pandas as pd

    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # openpyxl raises several types for a damaged file
        raise PrevalenceError(
            f"cannot be opened as an Excel workbook ({type(exc).__name__})",
            file=str(path),
            fix="open and save it again in Excel as .xlsx",
        ) from None
    with book:
        names = book.sheet_names
        if sheet is None and len(names) > 1:
            raise PrevalenceError(
                f"the workbook has {len(names)} worksheets ({', '.join(map(repr, names))}) "
                "and the codebook does not say which one holds the responses",
                file=str(path),
                fix=f"set `sheet: {names[0]}` (or another sheet's name) in the codebook",
            )
        if sheet is None:
            sheet = 0
        elif isinstance(sheet, str) and sheet not in names:
            raise PrevalenceError(
                f"no worksheet named {sheet!r}",
                file=str(path),
                fix=f"set `sheet:` in the codebook to one of: {', '.join(names)}",
            )
        header = pd.read_excel(book, sheet_name=sheet, header=None, nrows=1, dtype=object)
        _check_header(header.iloc[0].tolist() if len(header) else [], path, "row 1")
        frame = pd.read_excel(book, sheet_name=sheet, dtype=object)
    return frame


def _read_spss_stata(path: Path, kind: str) -> tuple[pd.DataFrame, dict, dict]:
    import pyreadstat

    reader = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
    try:
        # user_missing=True keeps declared missing codes (8, 9, ...) as values, so the
        # codebook decides what they mean rather than the file's missing-value declaration.
        frame, meta = reader(str(path), user_missing=True, apply_value_formats=False)
    except Exception as exc:  # pyreadstat raises ReadstatError / PyreadstatError
        what = "SPSS" if kind == "sav" else "Stata"
        raise PrevalenceError(
            f"cannot be read as a {what} file ({exc})",
            file=str(path),
            fix=f"the file may be truncated or not a {what} file: export it again",
        ) from None
    labels = {
        column: dict(mapping) for column, mapping in (meta.variable_value_labels or {}).items()
    }
    variable_labels = {
        column: label
        for column, label in zip(meta.column_names, meta.column_labels or [], strict=False)
        if label
    }
    return frame, labels, variable_labels


def _read_parquet(path: Path) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    fix = "write the file again with pandas.DataFrame.to_parquet or arrow"
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others
        raise PrevalenceError(
            f"cannot be read as parquet ({type(exc).__name__}: not a parquet file, or truncated)",
            file=str(path),
            fix=fix,
        ) from None
    _check_header(list(schema.names), path, None)
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    if nested:
        raise PrevalenceError(
            "the column holds nested values (lists or records), not one answer per respondent",
            file=str(path),
            column=nested[0],
            fix="write one plain column per question (numbers or text), one row per respondent",
        )
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # a damaged data page: ArrowInvalid, OSError and others
        raise PrevalenceError(
            f"cannot be read as parquet ({type(exc).__name__}: its data are damaged)",
            file=str(path),
            fix=fix,
        ) from None


def read_responses(path: str | Path, *, sheet: str | int | None = None) -> Responses:
    """Read a responses file of any supported format.

    Parameters
    ----------
    path
        ``.csv`` (UTF-8, comma-separated, a BOM is accepted), ``.xlsx``,
        ``.sav``/``.zsav`` (SPSS), ``.dta`` (Stata) or ``.parquet``.
    sheet
        The worksheet of an ``.xlsx`` file (name or 0-based position); default the first.

    Raises
    ------
    PrevalenceError
        For a missing, empty, unreadable or header-only file, naming the file and the fix.
    """
    path = Path(path)
    kind = file_format(path)
    if not path.is_file():
        raise PrevalenceError(
            "responses file not found",
            file=str(path),
            fix="check the wave's `responses:` path in config.yaml",
        )
    labels: dict[str, dict[Any, str]] = {}
    variable_labels: dict[str, str] = {}
    if kind == "csv":
        frame = _read_csv(path)
    elif kind == "xlsx":
        frame = _read_xlsx(path, sheet)
    elif kind in ("sav", "dta"):
        frame, labels, variable_labels = _read_spss_stata(path, kind)
    else:
        frame = _read_parquet(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise PrevalenceError(
            "two columns have the same name",
            file=str(path),
            column=duplicated[0],
            fix="rename one of them",
        )
    if frame.shape[0] == 0:
        raise PrevalenceError(
            "the file has a header but no responses",
            file=str(path),
            fix="export the responses again, with one row per respondent",
        )
    return Responses(frame.reset_index(drop=True), str(path), kind, labels, variable_labels)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    A failure leaves no partial file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    temp_path = Path(temp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp_path, 0o666 & ~umask)  # mkstemp makes 0600; results are for everyone to read
    try:
        yield temp_path
        os.replace(temp_path, path)
    finally:
        temp_path.unlink(missing_ok=True)


def write_with(path: str | Path, writer: Callable[[Path], Any]) -> Path:
    """Write ``path`` atomically through ``writer(temp_path)``."""
    with atomic_path(path) as temp:
        writer(temp)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically with Unix newlines."""
    return write_with(path, lambda p: p.write_text(text, encoding="utf-8", newline="\n"))


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV, byte-stable: fixed float format, Unix newlines, no index."""
    return write_with(
        path,
        lambda p: frame.to_csv(p, index=False, lineterminator="\n", float_format="%.15g"),
    )


def read_populations(
    design: Mapping[str, Any], population: str | Path | Sequence[str | Path] | None
) -> tuple[dict[str, pd.DataFrame], str | None]:
    """The population totals that a ``design:`` block's calibration names, read as a table.

    Returns the tables by the path the block gives (what the design looks them up by) and
    the file read: ``population`` when given (the path from the project folder), else the
    block's path. No calibration: nothing.
    """
    block = design.get("calibration") if design else None
    if not block:
        return {}, None
    if population is not None and not isinstance(population, str | Path):
        population = next(iter(population), None)
    path = str(population if population is not None else block["population"])
    table = read_responses(path).frame
    return {str(block["population"]): table}, path
