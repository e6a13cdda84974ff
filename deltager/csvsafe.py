"""CSV that a spreadsheet opens as data, never as formulas (CSV injection, OWASP).

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets skip before looking for one of those) is read by Excel and LibreOffice as a formula:
``=HYPERLINK(...)`` in a supplier's name would run on the finance clerk's machine. Such a cell is
written with a leading apostrophe, which the spreadsheet shows as text. Numbers we format
ourselves never begin so (amounts are not negative), so only text typed by people is affected.

The delimiter is a semicolon by default: the Danish spreadsheet convention, where the comma is
the decimal separator ("1234,50").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """A cell's text, with an apostrophe before it if a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS_FIRST) else text


class SafeWriter:
    """A ``csv.writer`` whose every cell is neutralised first."""

    def __init__(self, stream: Any, *, delimiter: str = ";") -> None:
        self._writer = csv.writer(stream, delimiter=delimiter, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row."""
        self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write many rows."""
        for row in rows:
            self.writerow(row)


def csv_text(header: Iterable[Any], rows: Iterable[Iterable[Any]], *, delimiter: str = ";") -> str:
    """A whole CSV document as text: the header, then the rows, every cell neutralised."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
