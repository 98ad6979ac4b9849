"""Spreadsheets in and out: reading an uploaded CSV or XLSX file as rows of text, and
writing a table as CSV or XLSX with every cell neutralised against formula injection.

Reading uses the csv module and openpyxl (read-only) directly, the same readers that
tablib wraps: tablib's loaders drop blank CSV lines, so row numbers would no longer
match the file, and they refuse rows longer than the header. An upload is hostile
until read: the limits (Limits) are checked as it is read, and an XLSX file's zip is
inspected and unpacked within them before openpyxl opens it. XLSX is written through
tablib's Dataset; every CSV the product writes goes through CsvWriter.
"""

import codecs
import copy
import csv
import functools
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

import tablib
from django.http import HttpResponse
from django.template.defaultfilters import filesizeformat
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
    """A sheet as text: the header row, then each data row with its number in the file (header = 1);
    an empty row has no cells."""

    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    header_number: int = 1


@dataclass(frozen=True)
class Limits:
    """What an uploaded file may hold. Each is checked as the file is read, before anything
    is kept, and refused with a message that names it."""

    rows: int
    columns: int
    cell_chars: int
    unpacked_bytes: int  # the parts of an XLSX file together, unpacked
    part_bytes: int  # one part of an XLSX file, unpacked
    parts: int  # the parts in an XLSX file's zip
    cells: int  # the cells of an XLSX file, all sheets together (openpyxl's time grows with them)
    strings: int  # the shared strings of an XLSX file (openpyxl holds them all in memory)


CANNOT_READ = "This file cannot be read"
SAVE_AGAIN = "Open it in Excel, save it again and upload it."
# Unpacking and reading go in pieces of this size, whatever a part's declared size.
UNPACK_CHUNK = 64 * 1024
# Excel's last column is XFD: no row of a workbook it wrote is longer.
EXCEL_MAX_COLUMNS = 16_384
# The SpreadsheetML namespace of the rows openpyxl reads.
SHEET_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# A cell's column in its position ("XFD7"), as openpyxl reads it: up to three letters, then the row.
_CELL_COLUMN = re.compile(r"([A-Za-z]{1,3})[0-9]")
_ROW_TAG = f"{SHEET_MAIN} row"


def read_table(name: str, data: bytes, *, limits: Limits, columns=None) -> Table:
    """The file's first sheet as a Table. `columns`, given the header, says which columns (by
    position) the rows keep, in that order; by default they keep every cell."""
    lower = name.lower()
    if data.startswith(b"PK\x03\x04"):
        _check_workbook(data, limits)
        try:
            return _table(_xlsx_rows(data, limits), limits, columns)
        except EmptyFile as error:
            raise EmptyFile(f"{error} Only the first sheet of a workbook is read.") from error
    if data.startswith(b"\xd0\xcf\x11\xe0") and lower.endswith(".xlsx"):
        # Excel keeps a workbook with a password to open it in this (OLE) container.
        raise SpreadsheetError(
            f"{CANNOT_READ}: it is protected by a password, or an old Excel (.xls) file. "
            "Save it as .xlsx without a password and upload it again."
        )
    if data.startswith(b"\xd0\xcf\x11\xe0") or lower.endswith(".xls"):
        raise SpreadsheetError("This is an old Excel (.xls) file. Save it as .xlsx or as CSV and upload it again.")
    if lower.endswith(".xlsx"):
        raise SpreadsheetError(
            f"{CANNOT_READ}: it is named .xlsx but is not an Excel workbook. "
            "Open it in Excel, save it as .xlsx and upload it again."
        )
    return _table(_csv_rows(data, limits), limits, columns)


def _table(rows, limits: Limits, columns=None) -> Table:
    table, keep = None, None
    blank_run = []
    for number, cells in rows:
        # Empty cells at the end of a row are formatting, not columns.
        while cells and not cells[-1]:
            cells.pop()
        _check_cells(number, cells, limits)
        if table is None:
            if any(cells):
                table = Table(header=cells, header_number=number)
                keep = columns(cells) if columns else None
            continue
        if not any(cells):
            blank_run.append(number)
            if len(blank_run) >= TRAILING_BLANK_ROWS:
                break
            continue
        # Blank rows between data rows are rows of the file: kept, to be reported as skipped.
        table.rows.extend((blank, []) for blank in blank_run)
        blank_run = []
        if keep is not None:
            cells = [cells[i] if i < len(cells) else "" for i in keep]
        table.rows.append((number, cells))
        if len(table.rows) > limits.rows:
            raise SpreadsheetError(
                f"The file has more than {limits.rows:,} rows. Split it into files of up to {limits.rows:,} rows."
            )
    if table is None:
        raise EmptyFile("The file is empty: the first row must hold the column names, e.g. Name, E-mail.")
    return table


def _check_cells(number: int, cells: list[str], limits: Limits) -> None:
    # An XLSX row is read no further than one column past the limit (_xlsx_rows): "more than".
    if len(cells) > limits.columns:
        raise SpreadsheetError(
            f"Row {number:,} has more than {limits.columns:,} columns; a file may have up to {limits.columns:,}. "
            "Delete the columns that are not imported and upload the file again."
        )
    if cells and max(map(len, cells)) > limits.cell_chars:
        index = next(i for i, cell in enumerate(cells) if len(cell) > limits.cell_chars)
        raise SpreadsheetError(_cell_too_long(number, limits, column=column_letter(index)))


def _cell_too_long(number: int, limits: Limits, *, column: str | None = None) -> str:
    where = f"Row {number:,}, column {column}" if column else f"Row {number:,}"
    return (
        f"{where}: a cell holds more than {limits.cell_chars:,} characters, the most a cell may hold. "
        "Shorten it and upload the file again."
    )


def column_letter(index: int) -> str:
    """A column's name in a spreadsheet, from its index: 0 is A, 26 is AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


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


def _csv_rows(data: bytes, limits: Limits):
    text = _decode(data)
    # PostgreSQL cannot store a NUL character, and no CSV text holds one: a binary file does.
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise SpreadsheetError(
            f"{CANNOT_READ}: line {line:,} holds a NUL character, so it is not CSV text. "
            "Save it from Excel as CSV UTF-8 or as .xlsx and upload it again."
        )
    first, _, rest = text.partition("\n")
    sep = SEP_LINE.match(first.rstrip("\r"))
    if sep:
        delimiter, text = sep.group(1), rest
    else:
        delimiter = _delimiter(first.rstrip("\r"))
    # Each cell quoted with its quotes doubled, a delimiter after it, and the line's end.
    lines = _RecordLines(text, most=limits.columns * (2 * limits.cell_chars + 3) + 2)
    reader = csv.reader(lines, delimiter=delimiter)
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            lines.record_done()
            yield number, [cell.strip() for cell in row]
    except _RecordTooLong as error:
        raise SpreadsheetError(
            f"Row {number + 1:,} is too long: a row may have up to {limits.columns:,} columns of up to "
            f"{limits.cell_chars:,} characters."
        ) from error
    except csv.Error as error:
        # The csv module's own limit on a field (131,072 characters) is above the cell limit: say so.
        if str(error).startswith("field larger than field limit"):
            raise SpreadsheetError(_cell_too_long(number + 1, limits)) from error
        raise SpreadsheetError(f"Row {reader.line_num} cannot be read as CSV ({error}).") from error


class _RecordTooLong(Exception):
    pass


class _RecordLines:
    """The lines of a CSV text for csv.reader, refusing a record longer than `most` characters.

    csv.reader builds a whole record before the column limit can be checked, and 10 MB of
    "a,a,a..." on one line is five million cells (340 MB). No record within the limits is
    longer than its columns of doubled-quote cells, so a longer one is refused as it is read.
    """

    def __init__(self, text: str, most: int):
        self.lines = io.StringIO(text, newline="")
        self.most, self.pending = most, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.pending += len(line)
        if self.pending > self.most:
            raise _RecordTooLong
        return line

    def record_done(self) -> None:
        self.pending = 0


def _check_workbook(data: bytes, limits: Limits) -> None:
    """Inspect an XLSX file's zip, and unpack and scan each part within the limits, before
    openpyxl opens it.

    openpyxl trusts the zip: a 263 kB file holding one 256 MiB shared string took 800 MB
    of memory. The sizes the zip declares are checked first; then each part is unpacked
    as a stream, counted and thrown away, past the size its header declares (a header can
    lie), so that nothing beyond the limits is ever unpacked, here or by openpyxl after.
    As it streams, each part is scanned (_PartScan) for what openpyxl would build from it.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as error:
        raise _unreadable(error) from error
    with archive:
        parts = archive.infolist()
        _check_declared(parts, limits)
        _check_unpacked(archive, parts, limits)


def _check_declared(parts: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse a workbook on what its zip declares, before anything is unpacked."""
    if len(parts) > limits.parts:
        raise SpreadsheetError(
            f"{CANNOT_READ}: its zip holds {len(parts):,} parts; a workbook may have up to {limits.parts:,}."
        )
    declared = 0
    for part in parts:
        if part.flag_bits & 0x1:
            raise SpreadsheetError(f"{CANNOT_READ}: it is encrypted. Save it without a password and upload it again.")
        if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise SpreadsheetError(f"{CANNOT_READ}: a part of it is compressed in a way Excel never uses.")
        declared += part.file_size
        if part.file_size > limits.part_bytes:
            raise SpreadsheetError(_part_too_large(limits))
        if declared > limits.unpacked_bytes:
            raise SpreadsheetError(_workbook_too_large(limits))


def _check_unpacked(archive: zipfile.ZipFile, parts: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Unpack and scan each part, counting what it really holds, whatever its header said."""
    unpacked, totals = 0, {"cells": 0, "strings": 0}
    for part in parts:
        most = min(limits.part_bytes, limits.unpacked_bytes - unpacked)
        size = _unpack(archive, part, most, _PartScan(totals, limits))
        if size > most:
            raise SpreadsheetError(
                _part_too_large(limits) if most == limits.part_bytes else _workbook_too_large(limits)
            )
        if size != part.file_size:
            raise SpreadsheetError(f"{CANNOT_READ}: the workbook is damaged (a part is not the size it says).")
        unpacked += size


def _unpack(archive: zipfile.ZipFile, part: zipfile.ZipInfo, most: int, scan: "_PartScan") -> int:
    """Unpack a part as a stream into `scan`, and give its size, counted up to `most` + 1 bytes
    whatever its header says."""
    # zipfile stops a part at its declared size; a copy with a larger one lets the count go past it.
    probe = copy.copy(part)
    probe.file_size = 1 << 62
    size = 0
    try:
        with archive.open(probe) as stream:
            while chunk := stream.read(UNPACK_CHUNK):
                size += len(chunk)
                if size > most:
                    return size
                scan.feed(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as error:
        raise _unreadable(error) from error
    scan.feed(b"", final=True)
    return size


class _PartScan:
    """What openpyxl would build from a part, counted as the part streams past: the XML is
    parsed by expat (the parser under openpyxl's) without building anything.

    openpyxl holds every shared string in memory, and a whole row at a time (a 65 kB file
    with one row of two million cells took it 40 s and 1 GB); the time it takes grows with
    the cells. It reads every child of a <row> as a cell, placed at the column its `r`
    gives ("XFD7") or, without one, just after the cell before; and it fills a row with
    empty cells up to its last one, and the sheet with empty rows up to each row's number.
    So a row counts as wide as its last cell's column (a 221 kB file of 20,000 rows each
    holding A and an empty XFD was 327 million cells to openpyxl, 36 s), whatever the
    number of its elements. The scan follows the same positions and refuses: a cell past
    Excel's last column (openpyxl goes on to ZZZ), a row of more than Excel's cells, a row
    numbered past what the import can read (_last_row), more than IMPORT_MAX_XLSX_CELLS
    cells, more than IMPORT_MAX_XLSX_STRINGS shared strings; and, as openpyxl's defusedxml
    does, any entity declaration. A part that is not XML (an image) is not scanned further:
    openpyxl refuses it if it ever reads it as XML.
    """

    def __init__(self, totals: dict, limits: Limits):
        self.totals, self.limits = totals, limits
        # The depth of the element being read, and that of a row's cells (0 outside a row).
        self.depth, self.cell_depth, self.row_number = 0, 0, 0
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.EntityDeclHandler = self._entity
        self.xml = True

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if self.xml:
            try:
                self.parser.Parse(chunk, final)
            except expat.ExpatError:
                self.xml = False

    def _entity(self, *_):
        raise SpreadsheetError(f"{CANNOT_READ}: it declares XML entities, which a workbook never does. {SAVE_AGAIN}")

    # The handlers run for every element of every part: kept to a few comparisons.
    def _start(self, name, attributes):
        self.depth += 1
        if self.depth == self.cell_depth:
            self._cell(attributes.get("r"))  # every child of a row, whatever its name
        if name == _ROW_TAG:
            if self.cell_depth:
                raise SpreadsheetError(_damaged("a row is inside another"))
            self._row(attributes.get("r"))
        elif name[-2:] == "si" and name.rpartition(" ")[2] == "si":
            self.totals["strings"] += 1
            if self.totals["strings"] > self.limits.strings:
                raise SpreadsheetError(
                    f"{CANNOT_READ}: it holds more than {self.limits.strings:,} different texts, the most a "
                    "workbook may have. Copy the sheet to import into a new workbook, split it, or save it as CSV."
                )

    def _end(self, _name):
        if self.depth < self.cell_depth:  # the row's own end
            self.cell_depth = 0
        self.depth -= 1

    def _row(self, r: str | None) -> None:
        # As openpyxl reads it: a whole number, possibly written as a float ("1e6"); without one,
        # the row after the one before. openpyxl yields an empty row for every number skipped.
        if r is None:
            self.row_number += 1
        else:
            try:
                self.row_number = int(r)
            except ValueError:
                try:
                    number = float(r)
                except ValueError:
                    number = None
                if number is None or not number.is_integer():
                    raise SpreadsheetError(_damaged("a row number is not valid")) from None
                self.row_number = int(number)
        if self.row_number > _last_row(self.limits):
            raise SpreadsheetError(
                f"The file has a row numbered {self.row_number:,}; a file may have up to {self.limits.rows:,} rows. "
                "Delete the rows below the table, even empty ones, and upload it again."
            )
        self.cell_depth, self.row_cells, self.column, self.width = self.depth + 1, 0, 0, 0

    def _cell(self, r: str | None) -> None:
        self.row_cells += 1
        if r:  # openpyxl takes an empty `r` for none
            letters = _CELL_COLUMN.match(r)
            if letters is None:  # openpyxl refuses it too
                raise SpreadsheetError(_damaged("a cell's position is not valid"))
            self.column = column_index(letters[1])
        else:
            self.column += 1
        if self.row_cells > EXCEL_MAX_COLUMNS:
            raise SpreadsheetError(
                f"{CANNOT_READ}: a row of it has more than {EXCEL_MAX_COLUMNS:,} cells, which Excel never writes."
            )
        if self.column > EXCEL_MAX_COLUMNS:
            raise SpreadsheetError(
                f"{CANNOT_READ}: row {self.row_number:,} has a cell past column {column_letter(EXCEL_MAX_COLUMNS - 1)}, "
                "the last column of Excel, which never writes one there."
            )
        # The row so far, as wide as its furthest cell (or its number of cells, if more).
        width = max(self.width, self.row_cells, self.column)
        if width > self.width:
            self.totals["cells"] += width - self.width
            self.width = width
            if self.totals["cells"] > self.limits.cells:
                raise SpreadsheetError(
                    f"{CANNOT_READ}: it holds more than {self.limits.cells:,} cells, the most a workbook may have. "
                    "A row counts every cell up to its last one, empty ones included. "
                    "Copy the sheet to import into a new workbook, split it, or save it as CSV."
                )


def _last_row(limits: Limits) -> int:
    """The last row number an XLSX sheet may have: the rows the import takes, its header, and as
    many empty rows as end a table (TRAILING_BLANK_ROWS), for those above the header and the
    formatted ones below the table. openpyxl reads no further (_xlsx_rows)."""
    return limits.rows + 1 + TRAILING_BLANK_ROWS


def _damaged(reason: str) -> str:
    return f"{CANNOT_READ}: the workbook is damaged ({reason}). {SAVE_AGAIN}"


@functools.lru_cache(maxsize=4096)  # bounded: a hostile file may use every case of every column
def column_index(letters: str) -> int:
    """A column's number from its name in a spreadsheet: A is 1, AA is 27 (the reverse of column_letter)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _part_too_large(limits: Limits) -> str:
    return (
        f"{CANNOT_READ}: a part of this workbook unpacks to more than {filesizeformat(limits.part_bytes)}, "
        "the most one part may hold."
    )


def _workbook_too_large(limits: Limits) -> str:
    return (
        f"{CANNOT_READ}: this workbook unpacks to more than {filesizeformat(limits.unpacked_bytes)}, "
        "the most that can be imported. Copy the sheet to import into a new workbook, or split it."
    )


def _unreadable(error: Exception) -> SpreadsheetError:
    """The message for a workbook that zipfile or openpyxl could not read, with a short reason."""
    from defusedxml import DefusedXmlException

    reason = "the workbook is damaged"
    # openpyxl wraps what its XML parser raised (in a ValueError): the reason is down the chain.
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DefusedXmlException):
            reason = "it declares XML entities, which a workbook never does"
            break
        if isinstance(error, ParseError):
            reason = f"its XML is not valid ({error})"
            break
        error = error.__cause__ or error.__context__
    return SpreadsheetError(f"{CANNOT_READ}: {reason}. {SAVE_AGAIN}")


def _xlsx_rows(data: bytes, limits: Limits):
    from openpyxl import load_workbook  # imported here: only uploads of .xlsx files need it

    # openpyxl raises whatever its parsing meets in a hostile workbook (XML errors, defusedxml's
    # refusals, KeyError, TypeError, AttributeError...), on opening and while rows are read:
    # any of them means the file cannot be read, never a server error.
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001
        raise _unreadable(error) from error
    try:
        if not book.worksheets:
            raise SpreadsheetError("This .xlsx file has no sheet.")
        sheet = book.worksheets[0]
        # A wrong "dimension" written by some tools would cut rows off: read the sheet as it is.
        sheet.reset_dimensions()
        # No further than the import can use, whatever the scan let through: openpyxl fills a row
        # with empty cells up to its last one, and the sheet with empty rows up to each row's number
        # (the scan refuses a number past _last_row). One column past the limit is enough to refuse
        # a row too wide; a cell further right could never be an imported column, and is not read.
        rows = sheet.iter_rows(max_row=_last_row(limits), max_col=limits.columns + 1, values_only=True)
        number = 0
        while True:
            try:
                row = next(rows, None)
            except Exception as error:  # noqa: BLE001
                raise _unreadable(error) from error
            if row is None:
                break
            number += 1
            # Every row is max_col wide: the empty cells at its end are not worth converting.
            end = len(row)
            while end and row[end - 1] is None:
                end -= 1
            yield number, [cell_text(value) for value in row[:end]]
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
