"""Spreadsheets that are safe both ways: what we write shows as text, and what we read cannot stall us.

Writing: a customer who says "=HYPERLINK(...)" in a call must not become a formula in Excel (CSV
injection). Text starting with = + - @ or a tab / carriage return gets a leading apostrophe in CSV files; in
XLSX files such cells are stored as plain strings. Control characters (a stray vertical tab in an agent's
name from a manifest) are dropped: XML cannot hold them, so openpyxl refuses the whole sheet.

Reading: sheets come back from people's machines, and an XLSX file is a zip of XML that openpyxl parses
trustingly. A 5 KB file declaring the dimension A1:XFD1048576 makes it pad 17 billion cells, and a few MB of
shared strings cost it hundreds of MB. So the file, its unpacked size and its XML element count are checked
before openpyxl opens it, and only the header's columns and a capped number of rows are read.
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from pydantic import BaseModel, ConfigDict

from qa_pipeline.errors import ConfigError, first_line

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# C0 controls except tab, line feed and carriage return (a comment may hold line breaks), DEL and C1.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MIB = 1024 * 1024


def formula_safe(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula gets an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def plain_text(value: Any) -> Any:
    """The value without control characters, which no spreadsheet can show and XML cannot hold."""
    return CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


def cell_safe(value: Any) -> Any:
    """The CSV form of a cell: no control characters, and no formula. Stripping comes first, so a control
    character cannot hide a leading "=" from the formula check."""
    return formula_safe(plain_text(value))


class SheetLimits(BaseModel):
    """What a spreadsheet may make the reader do. The defaults fit a controller's sheet of hundreds of
    calls many times over; a file beyond them is reported, never half-parsed.

    Attributes:
        max_file_bytes: size of the file on disk.
        max_unpacked_bytes: an XLSX file's members unpacked, declared and actual (zip bombs).
        max_xml_elements: XML elements in all members together: openpyxl keeps every shared string and
            every cell of a row in memory at once, so this bounds its memory and time.
        max_rows: data rows read below the header; later rows are reported, not read.
        max_columns: columns searched for the header; only the header's columns are read.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_file_bytes: int = 32 * MIB
    max_unpacked_bytes: int = 128 * MIB
    max_xml_elements: int = 1_000_000
    max_rows: int = 10_000
    max_columns: int = 64


@dataclass
class Table:
    """A sheet's header and its non-empty rows (with their row numbers), and what could not be read."""

    where: str
    header: list[str]
    records: list[tuple[int, list[Any]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, number: int, values: list[Any], limits: SheetLimits) -> bool:
        """Keep a row; False once past the row cap (reported), so the caller stops reading."""
        if number > limits.max_rows + 1:
            self.problems.append(
                f"{self.where}: more than {limits.max_rows} rows: rows from {number} on were not read"
            )
            return False
        if any(value not in (None, "") for value in values):
            self.records.append((number, values))
        return True


def read_csv_table(path: Path, limits: SheetLimits) -> Table:
    _check_file_size(path, limits)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            first = next(reader, None)
            if first is None:
                raise ConfigError(f"{path}: empty file")
            table = Table(str(path), _header(first, limits))
            for number, values in enumerate(reader, start=2):
                if not table.add(number, values[: len(table.header)], limits):
                    break
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path}: not a readable UTF-8 CSV file ({exc})") from exc
    return table


def read_xlsx_table(path: Path, sheet_name: str, limits: SheetLimits) -> Table:
    """Sheet `sheet_name` (or the first sheet) of a workbook checked against `limits` before it is parsed."""
    _check_file_size(path, limits)
    try:
        _check_archive(path, limits)
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            name = sheet_name if sheet_name in book.sheetnames else book.sheetnames[0]
            sheet = book[name]
            if not isinstance(sheet, ReadOnlyWorksheet):
                raise ConfigError(f"{path}: sheet {name} is a chart, not a table")
            return _worksheet_table(sheet, f"{path} (sheet {name})", limits)
        finally:
            book.close()
    except ConfigError:
        raise
    except Exception as exc:  # zipfile, zlib, openpyxl and the XML parser raise many types for broken files
        raise ConfigError(
            f"{path}: not a readable XLSX file ({type(exc).__name__}: {first_line(exc)})"
        ) from exc


def _worksheet_table(sheet: ReadOnlyWorksheet, where: str, limits: SheetLimits) -> Table:
    # The declared dimension is the file's claim, not its content: without bounds openpyxl pads to it.
    sheet.reset_dimensions()
    iter_rows = cast(Any, sheet).iter_rows  # the type stubs bind it to the writable Worksheet
    first = next(iter_rows(max_row=1, max_col=limits.max_columns, values_only=True), None)
    table = Table(where, _header(first or (), limits))
    if not any(table.header):
        raise ConfigError(f"{where}: no header in row 1")
    rows = iter_rows(min_row=2, max_col=len(table.header), values_only=True)
    for number, values in enumerate(rows, start=2):
        if not table.add(number, list(values), limits):
            break
    return table


def _header(values: Any, limits: SheetLimits) -> list[str]:
    """Column names up to the last named one, within the column cap."""
    names = [str(v).strip() if v is not None else "" for v in list(values)[: limits.max_columns]]
    while names and not names[-1]:
        names.pop()
    return names


def _check_file_size(path: Path, limits: SheetLimits) -> None:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise ConfigError(
            f"{path}: {size / MIB:.1f} MiB, more than the {limits.max_file_bytes / MIB:g} MiB read"
        )


def _check_archive(path: Path, limits: SheetLimits) -> None:
    """Unpack every member once, counting bytes and XML elements, and stop at the first cap crossed.

    Declared sizes are checked first (cheap), actual ones while unpacking: a member may lie about its size.
    """
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        declared = sum(member.file_size for member in members)
        if declared > limits.max_unpacked_bytes:
            raise ConfigError(f"{path}: unpacks to {declared / MIB:.0f} MiB, more than {_unpacked(limits)}")
        unpacked = elements = 0
        for member in members:
            with archive.open(member) as stream:
                while chunk := stream.read(MIB):
                    unpacked += len(chunk)
                    elements += chunk.count(b"<") - chunk.count(b"</")
                    if unpacked > limits.max_unpacked_bytes:
                        raise ConfigError(
                            f"{path}: {member.filename} unpacks to more than {_unpacked(limits)}"
                        )
                    if elements > limits.max_xml_elements:
                        raise ConfigError(
                            f"{path}: more than {limits.max_xml_elements} XML elements "
                            f"(in {member.filename}); a review sheet holds far fewer"
                        )


def _unpacked(limits: SheetLimits) -> str:
    return f"the {limits.max_unpacked_bytes / MIB:g} MiB read"
