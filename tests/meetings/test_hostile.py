"""Hostile input on the meeting forms: never a 5xx, never a half-saved row, what was typed comes back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from deltager.db import utcnow
from deltager.meetings.models import Meeting, Registration
from deltager.permissions import Role
from tests.conftest import Auth
from tests.meetings.factories import make_meeting, sign_up

HOSTILE = [
    "", " ", "\t\n", "x" * 100_000, "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>",
    "\x00", "a\x00b", "\x1b[31mred", "\x7f", "\u202egnp.exe", "😀" * 50, "👩‍👩‍👧‍👦", "ÆØÅ æøå",
    "'; DROP TABLE meeting; --", "Robert'); --", "%s%s%s%n", "{{ 7*7 }}", "${7*7}", "../../etc/passwd",
    "-1", "0", "1e309", "NaN", "99999999999999999999999", "-99999999999999999999", "١٢٣", "0x10", "3.5",
    "2026-02-30T10:00", "9999-12-31T23:59", "0001-01-01T00:00", "2026-13-01", "tomorrow", "\r\nBcc: x@evil.com",
    "a@b", "@example.dk", "a@@example.dk", "a@example.dk\nBcc: evil@example.com", "mailto:a@example.dk",
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"), "\ufeff", "null", "None", "[]", "{}",
]


@pytest.fixture
def app_overrides() -> dict[str, int]:
    """A sign-up per hostile value, from one client: more than a client's allowance of sign-ups
    (which tests/meetings/test_services.py and test_views.py test)."""
    return {"SIGN_UPS_PER_CLIENT": 10_000, "SIGN_UPS_PER_ADDRESS": 10_000}


def test_there_are_at_least_40_hostile_values() -> None:
    assert len(HOSTILE) >= 40


@pytest.mark.parametrize("field", ["name", "email", "phone", "note", "consent"])
def test_sign_up_form_survives_every_value(client: FlaskClient, data: Callable, field: str) -> None:
    with data() as s:
        meeting = make_meeting(s)
    good = {"name": "Amina", "email": "amina@example.dk", "phone": "", "note": "", "consent": "y"}
    for i, value in enumerate(HOSTILE):
        form = {**good, "email": f"p{i}@example.dk", field: value}
        response = client.post(f"/meetings/{meeting.id}", data=form)
        assert response.status_code in (303, 400), (field, value[:40], response.status_code)
        if response.status_code == 400 and field in ("name", "note") and value.strip() and len(value) < 2000 \
                and "\x00" not in value:
            assert "<script>" not in response.text
    with data() as s:
        for registration in s.scalars(select(Registration)):
            assert len(registration.name) <= 120 and len(registration.note) <= 2000
            assert not any(ord(ch) < 32 and ch not in "\n\r\t" for ch in registration.name + registration.note)
            assert "\n" not in registration.email and "@" in registration.email


def test_typed_text_comes_back_after_an_error(client: FlaskClient, data: Callable) -> None:
    with data() as s:
        meeting = make_meeting(s)
    response = client.post(f"/meetings/{meeting.id}", data={
        "name": "Amina <b>Hassan</b> 😀", "email": "not-an-address", "note": "Tolk: arabisk, tak", "consent": "y"})
    assert response.status_code == 400
    assert "Amina &lt;b&gt;Hassan&lt;/b&gt; 😀" in response.text
    assert "Tolk: arabisk, tak" in response.text and 'value="not-an-address"' in response.text


@pytest.mark.parametrize("field", ["kind", "title", "place", "address", "starts_at", "ends_at", "capacity", "description"])
def test_meeting_form_survives_every_value(client: FlaskClient, auth: Auth, data: Callable, field: str) -> None:
    with data() as s:
        meeting = make_meeting(s)
    auth.login(Role.CASEWORKER)
    day = (utcnow() + dt.timedelta(days=5)).strftime("%Y-%m-%d")
    good = {"kind": "info", "title": "Info", "place": "Dokk1", "address": "", "starts_at": f"{day}T17:00",
            "ends_at": f"{day}T19:00", "capacity": "", "description": ""}
    for value in HOSTILE:
        for url in (f"/staff/rounds/{meeting.round_id}/meetings/new", f"/staff/meetings/{meeting.id}/edit"):
            response = client.post(url, data={**good, field: value})
            assert response.status_code in (303, 400), (url, field, value[:40], response.status_code)
    with data() as s:
        for m in s.scalars(select(Meeting)):
            assert m.ends_at > m.starts_at and (m.capacity is None or 0 < m.capacity <= 10_000)


def test_attendance_form_survives_every_value(client: FlaskClient, auth: Auth, data: Callable) -> None:
    with data() as s:
        meeting = make_meeting(s, starts_at=utcnow() - dt.timedelta(minutes=5), ends_at=utcnow() + dt.timedelta(hours=1))
        registration, _ = sign_up(s, meeting, now=meeting.starts_at - dt.timedelta(days=1))
    auth.login(Role.MEETING_STAFF)
    for value in HOSTILE:
        for form in ({"attended": value, "walk_ins": "1"}, {"attended": str(registration.id), "walk_ins": value},
                     {"attended": [str(registration.id), value], "walk_ins": "2"}):
            response = client.post(f"/staff/meetings/{meeting.id}/attendance", data=form)
            assert response.status_code in (303, 400), (form, response.status_code)
    with data() as s:
        assert s.scalar(select(func.min(Meeting.walk_in_count))) >= 0


def test_hostile_tokens_and_ids_in_urls(client: FlaskClient) -> None:
    for value in ("%00", "..%2F..%2Fetc", "<script>", "😀", "a" * 5000, "%0d%0aSet-Cookie:x=1"):
        # NUL bytes are refused before routing (400); everything else is simply not found.
        expected = 400 if value == "%00" else 404
        for url in (f"/meetings/cancel/{value}", f"/meetings/{value}", f"/meetings/{value}/calendar.ics"):
            assert client.get(url).status_code == expected, url
            assert client.post(url).status_code in (expected, 405), url
