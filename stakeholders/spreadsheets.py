"""Spreadsheets in and out: reading an uploaded CSV or XLSX file as rows of text, and
writing a table as CSV or XLSX with every cell neutralised against formula injection.

Reading uses the csv module and openpyxl (read-only) directly, the same readers that
tablib wraps: tablib's loaders drop blank CSV lines, so row numbers would no longer
match the file, and they refuse rows longer than the header. XLSX is written through
tablib's Dataset; every CSV the product writes goes through CsvWriter.
"""

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import tablib
from django.http import HttpResponse
from django.utils import timezone

# A cell starting with one of these is read by a spreadsheet as a formula (or DDE).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# What starts a formula, with the full-width forms that some spreadsheets (Excel with an East
# Asian input, LibreOffice) also take for them.
_FORMULA_STARTS = "=+\\-@\uff1d\uff0b\uff0d\uff20"
# A formula start at the beginning of the cell, or after a separator a spreadsheet may split the
# cell on (a CSV opened with another delimiter than it was written with, or text pasted in) or a
# line break, possibly after spaces: an apostrophe goes before it. Apostrophes already there
# count as part of what follows, so that unneutralise() gives back exactly what was written.
_SEGMENT_FORMULA = re.compile(rf"(^|[,;|\t\r\n])(\s*)(?='*[{_FORMULA_STARTS}])")
_SEGMENT_NEUTRALISED = re.compile(rf"(^|[,;|\t\r\n])(\s*)'(?='*[{_FORMULA_STARTS}])")
# A cell starting with a tab or a carriage return also gets an apostrophe (some spreadsheets drop them).
_CONTROL_START = re.compile(r"'*[\t\r]")
CSV_DELIMITERS = ",;\t"
# Excel's "sep=;" first line, which says which delimiter follows.
SEP_LINE = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)
# Blank rows this many in a row end the table: formatting can stretch a sheet to a million empty rows.
TRAILING_BLANK_ROWS = 1000
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_XLSX_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


class SpreadsheetError(Exception):
    """The file cannot be read as a table; the message says why, for the person who uploaded it."""


class EmptyFile(SpreadsheetError):
    """Not a single cell with something in it."""


def neutralise(value):
    """Stop a spreadsheet from reading a cell as a formula (CSV injection): the one place
    where cells are made safe, for every CSV and XLSX the product writes.

    Text starting with = + - @ tab or CR gets a leading apostrophe, and so does a formula
    start (= + - @, or their full-width forms) after a separator (, ; | tab) or a line
    break inside the text: "Bob;=1+1" becomes "Bob;'=1+1", which no spreadsheet runs
    whatever delimiter it splits on. Numbers and dates are kept as they are (a number is
    never read as a formula, and a spreadsheet should see a number); an aware date and
    time becomes ISO text in the current time zone; None becomes an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal | date | time) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            return timezone.localtime(value).isoformat(timespec="seconds")
        return value
    text = _SEGMENT_FORMULA.sub(r"\1\2'", str(value))
    return f"'{text}" if _CONTROL_START.match(text) else text


def unneutralise(text: str) -> str:
    """Undo neutralise() on text read back from a spreadsheet: "'=x" is "=x" again, "a;'=x" is "a;=x"."""
    if text.startswith("'") and _CONTROL_START.match(text, 1):  # match() anchors at position 1
        text = text[1:]
    return _SEGMENT_NEUTRALISED.sub(r"\1\2", text)


# Writing ------------------------------------------------------------------------------------


class CsvWriter:
    """The one CSV writer of the product: every cell neutralised, every field quoted.

    Quoting every field keeps a cell in one piece whatever delimiter the spreadsheet
    opening the file splits on (a ";" locale reads an unquoted "Bob;=1+1" as two cells).
    """

    def __init__(self, stream):
        self._writer = csv.writer(stream, quoting=csv.QUOTE_ALL)

    def writerow(self, row):
        self._writer.writerow([neutralise(cell) for cell in row])


def csv_bytes(headers, rows) -> bytes:
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(row)
    # The BOM makes Excel read the file as UTF-8 rather than in the machine's code page.
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def _xlsx_cell(value):
    # openpyxl refuses control characters XML cannot hold; they carry nothing readable. They go
    # before neutralise(), so that "\x07=1" cannot turn into a formula once they are gone.
    return neutralise(_XLSX_ILLEGAL.sub("", value) if isinstance(value, str) else value)


def xlsx_bytes(headers, rows, *, title="Data") -> bytes:
    dataset = tablib.Dataset(headers=[_xlsx_cell(h) for h in headers], title=title[:31])
    for row in rows:
        dataset.append([_xlsx_cell(cell) for cell in row])
    return dataset.export("xlsx")


def spreadsheet_response(filename: str, headers, rows, fmt: str, *, title="Data") -> HttpResponse:
    """A download of `rows` under `headers` as `<filename>.<fmt>`, every cell neutralised."""
    if fmt == "csv":
        content = csv_bytes(headers, rows)
    elif fmt == "xlsx":
        content = xlsx_bytes(headers, rows, title=title)
    else:
        raise ValueError(f"Unknown format {fmt!r}")
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


# Reading ------------------------------------------------------------------------------------


@dataclass
class Table:
    """A sheet as text: the header row, then each data row with its number in the file (header = 1)."""

    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    header_number: int = 1


def read_table(name: str, data: bytes, *, max_rows: int) -> Table:
    if data.startswith(b"PK\x03\x04"):
        try:
            return _table(_xlsx_rows(data), max_rows)
        except EmptyFile as error:
            raise EmptyFile(f"{error} Only the first sheet of a workbook is read.") from error
    elif data.startswith(b"\xd0\xcf\x11\xe0") or name.lower().endswith(".xls"):
        raise SpreadsheetError("This is an old Excel (.xls) file. Save it as .xlsx or as CSV and upload it again.")
    elif name.lower().endswith(".xlsx"):
        raise SpreadsheetError("This .xlsx file is damaged or not really an Excel file.")
    else:
        rows = _csv_rows(data)
    return _table(rows, max_rows)


def _table(rows, max_rows: int) -> Table:
    table = None
    blank_run = []
    for number, cells in rows:
        if table is None:
            if any(cells):
                table = Table(header=cells, header_number=number)
            continue
        if not any(cells):
            blank_run.append(number)
            if len(blank_run) >= TRAILING_BLANK_ROWS:
                break
            continue
        # Blank rows between data rows are rows of the file: kept, to be reported as skipped.
        table.rows.extend((blank, []) for blank in blank_run)
        blank_run = []
        table.rows.append((number, cells))
        if len(table.rows) > max_rows:
            raise SpreadsheetError(
                f"The file has more than {max_rows:,} rows. Split it into files of up to {max_rows:,} rows."
            )
    if table is None:
        raise EmptyFile("The file is empty: the first row must hold the column names, e.g. Name, E-mail.")
    return table


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]  # Excel's "Unicode text"
    else:
        # Windows-1252 is what Excel writes as "CSV" on most Western machines; Latin-1 decodes anything.
        encodings = ["utf-8", "cp1252", "latin-1"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError("The file's text encoding cannot be read. Save it as CSV UTF-8 and upload it again.")


def _delimiter(header_line: str) -> str:
    try:
        return csv.Sniffer().sniff(header_line, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: header_line.count(d) for d in CSV_DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _csv_rows(data: bytes):
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SpreadsheetError("This does not look like a CSV or XLSX file.")
    text = _decode(data)
    first, _, rest = text.partition("\n")
    sep = SEP_LINE.match(first.rstrip("\r"))
    if sep:
        delimiter, text = sep.group(1), rest
    else:
        delimiter = _delimiter(first.rstrip("\r"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in row]
    except csv.Error as error:
        raise SpreadsheetError(f"Row {reader.line_num} cannot be read as CSV ({error}).") from error


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook  # imported here: only uploads of .xlsx files need it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as error:
        raise SpreadsheetError(
            "This .xlsx file cannot be read. Open it in Excel, save it again and upload it."
        ) from error
    try:
        if not book.worksheets:
            raise SpreadsheetError("This .xlsx file has no sheet.")
        sheet = book.worksheets[0]
        # A wrong "dimension" written by some tools would cut rows off: read the sheet as it is.
        sheet.reset_dimensions()
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [cell_text(value) for value in row]
    finally:
        book.close()


def cell_text(value) -> str:
    """A spreadsheet cell as the text a person would read in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if value.second else "minutes")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()
