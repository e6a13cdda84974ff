"""Times are stored in UTC and shown in Europe/Copenhagen; converting between them lives here."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")


def local_to_utc(value: dt.datetime) -> dt.datetime:
    """Read a naive datetime typed by a person in Denmark as Copenhagen time; return UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(dt.UTC)


def utc_to_local(value: dt.datetime) -> dt.datetime:
    """The Copenhagen wall-clock time of a UTC datetime."""
    return value.astimezone(LOCAL_TZ)


def start_of_local_day(day: dt.date) -> dt.datetime:
    """Midnight in Copenhagen at the start of ``day``, as UTC."""
    return local_to_utc(dt.datetime.combine(day, dt.time()))


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
