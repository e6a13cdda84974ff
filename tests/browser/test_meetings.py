"""A citizen on a phone finds a help meeting on the round page and signs up; staff count who came.

Every page passes axe.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from deltager.db import utcnow
from deltager.mail import read_outbox
from deltager.permissions import Role
from deltager.rounds.models import RoundStatus
from tests.browser.conftest import LiveApp
from tests.meetings.factories import make_meeting, sign_up
from tests.rounds.factories import make_round

pytestmark = pytest.mark.browser


def test_citizen_signs_up_for_a_help_meeting_on_a_phone(live_app: LiveApp, phone: Any, axe: Any) -> None:
    with live_app.session() as s:
        round_ = make_round(s, RoundStatus.OPEN, title="Møder på telefonen")
        meeting = make_meeting(s, round_, title="Få hjælp i Gellerup", capacity=10)
        make_meeting(s, round_, title="Aflyst hjælp").cancelled_at = utcnow()

    phone.goto(f"{live_app.url}/rounds/{round_.id}")
    axe(phone)
    assert phone.get_by_text("Aflyst", exact=True).first.is_visible()
    phone.get_by_role("link", name="Få hjælp i Gellerup").click()
    phone.wait_for_url(f"{live_app.url}/meetings/{meeting.id}")
    axe(phone)

    # A mistake first: what was typed stays, the error is named.
    phone.get_by_label("Dit navn").fill("Amina Hassan")
    phone.get_by_label("Din e-mail").fill("amina-browser@example")
    phone.get_by_label("Er der noget, vi skal vide?").fill("Har brug for tolk (somali)")
    phone.get_by_role("button", name="Tilmeld dig").click()
    assert phone.get_by_role("alert").first.is_visible()
    assert phone.get_by_label("Er der noget, vi skal vide?").input_value() == "Har brug for tolk (somali)"
    axe(phone)

    phone.get_by_label("Din e-mail").fill("amina-browser@example.dk")
    phone.get_by_label("Jeg har læst, hvordan I bruger mine oplysninger, og jeg siger ja.").check()
    phone.get_by_role("button", name="Tilmeld dig").click()
    # The browser keeps the form's #sign-up fragment across the redirect.
    phone.wait_for_url(f"{live_app.url}/meetings/{meeting.id}/signed-up*")
    assert phone.get_by_role("heading", level=1).inner_text() == "Du er tilmeldt"
    axe(phone)
    subjects = [m["Subject"] for m in read_outbox(live_app.outbox()) if "amina-browser" in str(m["To"])]
    assert subjects == ["Du er tilmeldt: Få hjælp i Gellerup"]


def test_staff_record_attendance(live_app: LiveApp, page: Any, axe: Any) -> None:
    with live_app.session() as s:
        round_ = make_round(s, RoundStatus.OPEN, title="Fremmøde i browseren")
        start = utcnow() - dt.timedelta(minutes=15)
        meeting = make_meeting(s, round_, title="Hjælp på Dokk1", starts_at=start, ends_at=start + dt.timedelta(hours=2))
        before = start - dt.timedelta(days=1)
        sign_up(s, meeting, "anna-b@example.dk", name="Anna Berg", now=before)
        sign_up(s, meeting, "bent-b@example.dk", name="Bent Lund", note="Har brug for tolk", now=before)
    live_app.login(page, Role.MEETING_STAFF)
    page.goto(f"{live_app.url}/staff/meetings/{meeting.id}")
    axe(page)
    page.get_by_role("link", name="Registrér fremmøde").click()
    axe(page)
    page.get_by_label("Bent Lund").check()
    page.get_by_label("Antal, der kom uden at være tilmeldt").fill("4")
    page.get_by_role("button", name="Gem fremmøde").click()
    page.wait_for_url(f"{live_app.url}/staff/meetings/{meeting.id}")
    assert "Fremmødet er gemt." in page.content()
    totals = page.locator("dl.totals").inner_text()
    assert "Kom i alt\n5" in totals or "Kom i alt\t5" in totals or "Kom i alt 5" in totals.replace("\n", " ")
    axe(page)
