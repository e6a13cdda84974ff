"""Sign-ups for people without e-mail: staff register them with a phone number or an address, print a
receipt with the time and place, and are told to phone or write when the meeting changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from deltager.audit.models import AuditEvent
from deltager.mail import read_outbox
from deltager.meetings.models import Registration
from deltager.permissions import Role
from tests.conftest import Auth
from tests.meetings.factories import make_meeting, sign_up
from tests.pdf.poppler import pdf_text

PERSON = {"name": "Ali Mohammed", "phone": "", "address": "Gudrunsvej 10, 8220 Brabrand", "note": "", "consent": "y"}


def _registration(data: Callable[[], Any], meeting_id: int) -> Registration:
    with data() as s:
        return s.scalars(select(Registration).where(Registration.meeting_id == meeting_id)).one()


def test_staff_sign_up_someone_with_only_an_address_and_print_the_receipt(
    client: FlaskClient, data: Callable[[], Any], auth: Auth, instance_path: Path, tmp_path: Path,
) -> None:
    with data() as s:
        meeting = make_meeting(s, title="Hjælp i Gellerup")
    auth.login(Role.MEETING_STAFF)
    assert client.get(f"/staff/meetings/{meeting.id}/sign-up").status_code == 200
    response = client.post(f"/staff/meetings/{meeting.id}/sign-up", data=PERSON)
    registration = _registration(data, meeting.id)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/sign-ups/{registration.id}")
    assert registration.email is None and registration.address == PERSON["address"]
    assert read_outbox(instance_path / "outbox") == []
    page = client.get(f"/staff/sign-ups/{registration.id}").text
    assert "Ali Mohammed er tilmeldt" in page and "Udskriv kvitteringen (PDF)" in page
    pdf = client.get(f"/staff/sign-ups/{registration.id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(pdf_text(pdf.get_data(), tmp_path).split())
    assert "Du er tilmeldt" in text and "Ali Mohammed" in text and "Hjælp i Gellerup" in text
    assert "Beboerhuset Gellerup, Gudrunsvej 10, 8220 Brabrand" in text and " kl. " in text
    detail = client.get(f"/staff/meetings/{meeting.id}").text
    assert "Ingen e-mail" in detail and "Gudrunsvej 10, 8220 Brabrand" in detail


def test_a_phone_number_or_an_address_is_required(client: FlaskClient, data: Callable[[], Any], auth: Auth) -> None:
    with data() as s:
        meeting = make_meeting(s)
    auth.login(Role.MEETING_STAFF)
    response = client.post(f"/staff/meetings/{meeting.id}/sign-up", data={**PERSON, "address": ""})
    assert response.status_code == 400 and "skriv et telefonnummer eller en postadresse" in response.text
    assert 'value="Ali Mohammed"' in response.text


@pytest.mark.parametrize("role", [Role.VIEWER])
def test_only_staff_at_meetings_sign_up_and_print(client: FlaskClient, data: Callable[[], Any], auth: Auth,
                                                  role: Role) -> None:
    with data() as s:
        meeting = make_meeting(s)
        registration, _token = sign_up(s, meeting)
    assert client.get(f"/staff/sign-ups/{registration.id}/receipt.pdf").status_code in (302, 303)
    auth.login(role)
    assert client.post(f"/staff/meetings/{meeting.id}/sign-up", data=PERSON).status_code == 403
    assert client.get(f"/staff/sign-ups/{registration.id}/receipt.pdf").status_code == 403


def test_a_cancelled_meeting_flags_those_without_e_mail_for_a_call(
    client: FlaskClient, data: Callable[[], Any], auth: Auth, instance_path: Path,
) -> None:
    with data() as s:
        meeting = make_meeting(s)
        sign_up(s, meeting, "amina@example.dk")
    auth.login(Role.CASEWORKER)
    client.post(f"/staff/meetings/{meeting.id}/sign-up", data={**PERSON, "phone": "20304050", "address": ""})
    response = client.post(f"/staff/meetings/{meeting.id}/cancel", follow_redirects=True)
    assert response.status_code == 200
    assert "1 tilmeldte har ingen e-mail: ring eller skriv til dem" in response.text
    assert "Skal ringes eller skrives til: Fortæl, at mødet er aflyst." in response.text
    assert [m["To"] for m in read_outbox(instance_path / "outbox")] == ["amina@example.dk"]
    with data() as s:
        without = s.scalars(select(Registration).where(Registration.email.is_(None))).one()
        assert without.contact_pending == "meeting:cancelled"
    assert client.post(f"/staff/sign-ups/{without.id}/contacted").status_code == 303
    with data() as s:
        assert s.get_one(Registration, without.id).contact_pending is None
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "meeting.contacted")).one()
