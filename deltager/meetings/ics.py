"""A meeting as an iCalendar file (RFC 5545): a pure function from values to bytes, no dependency.

What calendar programs are strict about: CRLF line endings, lines folded at 75 octets (never
inside a UTF-8 character), TEXT values with backslash, comma, semicolon and newline escaped,
and times in UTC with a trailing ``Z``.
"""

from __future__ import annotations

import datetime as dt

PRODID = "-//Deltager//Deltagerbudget//DA"
MAX_OCTETS = 75


def escape_text(value: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and line breaks; drop other control characters."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(ch for ch in value if ch == "\n" or (ord(ch) >= 32 and ord(ch) != 127))
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, continuation lines starting with a space."""
    pieces: list[str] = []
    current, size = "", 0
    limit = MAX_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size = " ", 1  # the leading space counts towards the next line's 75 octets
        current += ch
        size += width
    pieces.append(current)
    return "\r\n".join(pieces)


def format_utc(value: dt.datetime) -> str:
    """A DATE-TIME in UTC form: 20260301T080000Z."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware datetimes")
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def event_calendar(
    *,
    uid: str,
    dtstamp: dt.datetime,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    summary: str,
    location: str = "",
    description: str = "",
    url: str | None = None,
    cancelled: bool = False,
    sequence: int = 0,
) -> bytes:
    """A VCALENDAR with one VEVENT, as UTF-8 bytes with CRLF line endings."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{escape_text(uid)}",
        f"DTSTAMP:{format_utc(dtstamp)}",
        f"SEQUENCE:{int(sequence)}",
        f"DTSTART:{format_utc(starts_at)}",
        f"DTEND:{format_utc(ends_at)}",
        f"SUMMARY:{escape_text(summary)}",
    ]
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    if url:
        # URL is of type URI, not TEXT: no escaping, but no line breaks either.
        lines.append("URL:" + "".join(ch for ch in url if ord(ch) > 32))
    lines.append("STATUS:CANCELLED" if cancelled else "STATUS:CONFIRMED")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("".join(fold(line) + "\r\n" for line in lines)).encode("utf-8")
