"""The .ics file: RFC 5545 line endings, escaping, folding and UTC times."""

from __future__ import annotations

import datetime as dt

import pytest

from deltager.meetings.ics import escape_text, event_calendar, fold, format_utc

START = dt.datetime(2026, 3, 1, 17, 0, tzinfo=dt.UTC)


def _ics(**overrides: object) -> bytes:
    values: dict = {
        "uid": "meeting-7@deltager.example", "dtstamp": dt.datetime(2026, 2, 1, 9, 30, 5, tzinfo=dt.UTC),
        "starts_at": START, "ends_at": START + dt.timedelta(hours=2), "summary": "Få hjælp til din ansøgning",
        "location": "Beboerhuset Gellerup, Gudrunsvej 10, 8220 Brabrand",
        "description": "Vi hjælper dig.\nTag dit budget med; det gør det lettere.",
    }
    values.update(overrides)
    return event_calendar(**values)


def _unfold(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")


def test_every_line_ends_with_crlf_and_no_bare_lf() -> None:
    data = _ics()
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")


def test_required_properties_and_utc_times() -> None:
    lines = _unfold(_ics())
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    assert "UID:meeting-7@deltager.example" in lines
    assert "DTSTAMP:20260201T093005Z" in lines
    assert "DTSTART:20260301T170000Z" in lines
    assert "DTEND:20260301T190000Z" in lines
    assert "SUMMARY:Få hjælp til din ansøgning" in lines
    assert "STATUS:CONFIRMED" in lines


def test_local_times_are_converted_to_utc() -> None:
    copenhagen = dt.timezone(dt.timedelta(hours=2))
    assert format_utc(dt.datetime(2026, 6, 1, 19, 0, tzinfo=copenhagen)) == "20260601T170000Z"
    with pytest.raises(ValueError):
        format_utc(dt.datetime(2026, 6, 1, 19, 0))


def test_text_is_escaped() -> None:
    assert escape_text("a,b;c\\d\ne\r\nf\rg") == "a\\,b\\;c\\\\d\\ne\\nf\\ng"
    assert escape_text("bell\x07 and\x00 nul") == "bell and nul"
    lines = _unfold(_ics())
    assert "LOCATION:Beboerhuset Gellerup\\, Gudrunsvej 10\\, 8220 Brabrand" in lines
    assert "DESCRIPTION:Vi hjælper dig.\\nTag dit budget med\\; det gør det lettere." in lines


def test_long_lines_fold_at_75_octets_without_splitting_characters() -> None:
    summary = "Møde " + "æøå😀" * 40
    data = _ics(summary=summary, description="x" * 500)
    for raw in data.split(b"\r\n"):
        assert len(raw) <= 75
        raw.decode("utf-8")  # never cut inside a UTF-8 sequence
    assert f"SUMMARY:{summary}" in _unfold(data)
    assert "DESCRIPTION:" + "x" * 500 in _unfold(data)


def test_fold_keeps_short_lines_and_marks_continuations() -> None:
    assert fold("SHORT:1") == "SHORT:1"
    folded = fold("X:" + "a" * 200)
    parts = folded.split("\r\n")
    assert len(parts[0].encode()) == 75
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == "X:" + "a" * 200


def test_cancelled_meeting_and_url() -> None:
    lines = _unfold(_ics(cancelled=True, url="https://deltager.example/meetings/7", location="", description=""))
    assert "STATUS:CANCELLED" in lines
    assert "URL:https://deltager.example/meetings/7" in lines
    assert not any(line.startswith(("LOCATION", "DESCRIPTION")) for line in lines)


def test_sequence_tells_calendars_which_file_is_newer() -> None:
    assert "SEQUENCE:0" in _unfold(_ics())
    assert "SEQUENCE:3" in _unfold(_ics(sequence=3))
