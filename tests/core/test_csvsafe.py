"""CSV cells that a spreadsheet would run as formulas are written as text."""

from __future__ import annotations

import csv
import io

import pytest

from deltager.csvsafe import csv_text, neutralise


@pytest.mark.parametrize(
    ("cell", "written"),
    [("=SUM(A1:A9)", "'=SUM(A1:A9)"), ("+45 20 30", "'+45 20 30"), ("-2+3", "'-2+3"), ("@cmd", "'@cmd"),
     ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("Brugsen", "Brugsen"), ("1234,50", "1234,50"), ("", ""), (None, ""),
     (12, "12"), ("a=b", "a=b")],
)
def test_neutralise(cell: object, written: str) -> None:
    assert neutralise(cell) == written


def test_a_whole_file_reads_back_as_text() -> None:
    text = csv_text(["Navn", "Beløb"], [['=HYPERLINK("http://x","klik")', "1234,50"], ["Brugsen; Aarhus", "5,00"]])
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows == [["Navn", "Beløb"], ['\'=HYPERLINK("http://x","klik")', "1234,50"], ["Brugsen; Aarhus", "5,00"]]
    assert text.endswith("\r\n")
