"""Meeting pages: citizens sign up and cancel (mails to a real SMTP server), staff plan and count."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from deltager.citizens.auth import SESSION_KEY
from deltager.applications.models import Applicant
from deltager.citizens.services import session_value
from deltager.audit.models import AuditEvent
from deltager.db import utcnow
from deltager.meetings.models import Meeting, MeetingKind, Registration
from deltager.permissions import Role
from tests.conftest import Auth, csrf_token
from tests.fixtures.smtp import SmtpSink
from tests.meetings.factories import make_meeting, sign_up

SIGN_UP = {"name": "Amina Hassan", "email": "amina@example.dk", "phone": "+45 12 34 56 78",
           "note": "Har brug for tolk", "consent": "y"}


@pytest.fixture
def app_overrides(smtp_server: SmtpSink) -> dict[str, Any]:
    return {**smtp_server.config(), "BASE_URL": "https://deltager.example"}


def _link(text: str) -> str:
    match = re.search(r"https://deltager\.example(/meetings/cancel/[\w-]+)", text)
    assert match, text
    return match.group(1)


def test_round_page_lists_upcoming_meetings(client: FlaskClient, data: Callable) -> None:
    with data() as s:
        meeting = make_meeting(s, title="Hjælp i Gellerup")
        vote = make_meeting(s, meeting.round, kind=MeetingKind.VOTE, title="Afstemningsmødet")
    page = client.get(f"/rounds/{meeting.round_id}").text
    assert "Hjælp i Gellerup" in page and f"/meetings/{meeting.id}" in page
    assert "Afstemningsmødet" in page and f"/meetings/{vote.id}" in page


def test_the_voting_meeting_page_says_how_to_vote_and_takes_no_sign_ups(client: FlaskClient, data: Callable) -> None:
    with data() as s:
        vote = make_meeting(s, kind=MeetingKind.VOTE, title="Afstemningsmødet", capacity=200)
    page = client.get(f"/meetings/{vote.id}")
    assert page.status_code == 200
    assert "Alle kan komme og stemme" in page.text and "Vælg mellem 3 og 5 projekter" in page.text
    assert 'name="email"' not in page.text and "ledige pladser" not in page.text
    assert client.get(f"/meetings/{vote.id}/calendar.ics").mimetype == "text/calendar"
    refused = client.post(f"/meetings/{vote.id}", data=SIGN_UP)
    assert refused.status_code == 400 and "Alle kan komme og stemme" in refused.text
    with data() as s:
        assert s.scalar(select(func.count(Registration.id))) == 0


def test_sign_up_mails_confirmation_with_ics_and_working_cancel_link(
    client: FlaskClient, data: Callable, smtp_server: SmtpSink
) -> None:
    with data() as s:
        meeting = make_meeting(s, capacity=1)
    response = client.post(f"/meetings/{meeting.id}", data=SIGN_UP)
    assert response.status_code == 303
    confirmation = client.get(response.headers["Location"])
    assert "Amina Hassan" in confirmation.text and "amina@example.dk" in confirmation.text
    assert "0 ledige pladser ud af 1" in confirmation.text  # the free places, not the capacity alone

    [message] = smtp_server.to("amina@example.dk")
    assert meeting.title in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "Beboerhuset Gellerup" in body
    [ics] = list(message.iter_attachments())
    assert ics.get_content_type() == "text/calendar"
    assert b"DTSTART:" in ics.get_payload(decode=True)

    # The meeting is now full.
    full = client.post(f"/meetings/{meeting.id}", data={**SIGN_UP, "email": "bo@example.dk"})
    assert full.status_code == 400 and "fuldt" in full.text
    assert full.text.count("fuldt") == 1 and 'name="consent"' not in full.text

    cancel_path = _link(body)
    page = client.get(cancel_path)
    assert page.status_code == 200 and "Ja, meld mig fra" in page.text
    with data() as s:
        assert s.scalars(select(Registration)).one().cancelled_at is None  # GET changed nothing
    assert client.post(cancel_path).status_code == 303
    assert "Du er meldt fra" in client.get(cancel_path).text
    # The seat is free again.
    assert client.post(f"/meetings/{meeting.id}", data={**SIGN_UP, "email": "bo@example.dk"}).status_code == 303


def test_duplicate_sign_up_is_refused_kindly(client: FlaskClient, data: Callable) -> None:
    with data() as s:
        meeting = make_meeting(s)
    assert client.post(f"/meetings/{meeting.id}", data=SIGN_UP).status_code == 303
    again = client.post(f"/meetings/{meeting.id}", data={**SIGN_UP, "email": "AMINA@example.dk"})
    assert again.status_code == 400
    assert "allerede tilmeldt" in again.text


def test_one_client_cannot_fill_a_meeting_with_sign_ups(app: Flask, client: FlaskClient, data: Callable,
                                                        smtp_server: SmtpSink) -> None:
    app.config["SIGN_UPS_PER_CLIENT"] = 3
    with data() as s:
        meeting = make_meeting(s, capacity=9)
    for n in range(3):
        assert client.post(f"/meetings/{meeting.id}", data={**SIGN_UP, "email": f"fake{n}@example.dk"}).status_code == 303
    refused = client.post(f"/meetings/{meeting.id}", data={**SIGN_UP, "email": "fake3@example.dk"})
    assert refused.status_code == 429
    assert "for mange tilmeldinger fra dit netværk" in refused.text and "Har brug for tolk" in refused.text
    assert not smtp_server.to("fake3@example.dk")
    library = app.test_client()  # another address is not affected
    response = library.post(f"/meetings/{meeting.id}", data={**SIGN_UP, "email": "real@example.dk"},
                            environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert response.status_code == 303


def test_consent_is_required_and_input_kept(client: FlaskClient, data: Callable) -> None:
    with data() as s:
        meeting = make_meeting(s)
    response = client.post(f"/meetings/{meeting.id}", data={**SIGN_UP, "consent": ""})
    assert response.status_code == 400
    assert "Sæt kryds" in response.text and "Har brug for tolk" in response.text


def test_mail_failure_keeps_the_sign_up(app: Flask, client: FlaskClient, data: Callable) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1, SMTP_TIMEOUT=1)
    with data() as s:
        meeting = make_meeting(s)
    response = client.post(f"/meetings/{meeting.id}", data=SIGN_UP, follow_redirects=True)
    assert response.status_code == 200
    assert "Vi kunne ikke sende e-mailen" in response.text
    with data() as s:
        assert s.scalars(select(Registration.email)).all() == ["amina@example.dk"]


def test_past_and_cancelled_meetings(client: FlaskClient, data: Callable) -> None:
    with data() as s:
        past = make_meeting(s, starts_at=utcnow() - dt.timedelta(days=1), ends_at=utcnow() - dt.timedelta(hours=22))
        cancelled = make_meeting(s, past.round)
        cancelled.cancelled_at = utcnow()
    assert "har været holdt" in client.get(f"/meetings/{past.id}").text
    assert client.post(f"/meetings/{past.id}", data=SIGN_UP).status_code == 400
    page = client.get(f"/meetings/{cancelled.id}").text
    assert "Aflyst" in page and 'name="consent"' not in page
    assert client.post(f"/meetings/{cancelled.id}", data=SIGN_UP).status_code == 400
    with data() as s:
        assert s.scalars(select(Registration)).all() == []


def test_calendar_download(client: FlaskClient, data: Callable) -> None:
    with data() as s:
        meeting = make_meeting(s)
    response = client.get(f"/meetings/{meeting.id}/calendar.ics")
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert f"https://deltager.example/meetings/{meeting.id}".encode() in response.data.replace(b"\r\n ", b"")


def test_confirmation_page_is_only_for_the_browser_that_signed_up(app: Flask, data: Callable) -> None:
    with data() as s:
        meeting = make_meeting(s)
    first, second = app.test_client(), app.test_client()
    location = first.post(f"/meetings/{meeting.id}", data=SIGN_UP).headers["Location"]
    assert second.get(location).status_code == 404


def test_bad_tokens_and_ids_are_404(client: FlaskClient, data: Callable) -> None:
    with data() as s:
        meeting = make_meeting(s)
    for url in ("/meetings/cancel/nope", "/meetings/cancel/" + "a" * 300, "/meetings/999999",
                "/meetings/999999/calendar.ics", f"/meetings/{meeting.id}/signed-up"):
        assert client.get(url).status_code == 404, url
    assert client.post("/meetings/cancel/nope").status_code == 404


# --- applicants ------------------------------------------------------------------------------


def _sign_in_applicant(app: Flask, client: FlaskClient, data: Callable, email: str) -> Applicant:
    with data() as s:
        applicant = Applicant(email=email, name=email.split("@")[0].title())
        s.add(applicant)
        s.flush()
        value = session_value(applicant)
    with client.session_transaction() as flask_session:
        flask_session[SESSION_KEY] = value
    return applicant


def test_signed_in_applicant_is_linked_and_sees_only_own_sign_ups(
    app: Flask, client: FlaskClient, data: Callable
) -> None:
    amina = _sign_in_applicant(app, client, data, "amina@example.dk")
    with data() as s:
        meeting = make_meeting(s)
        other, other_token = sign_up(s, meeting, "bo@example.dk")
    form = client.get(f"/meetings/{meeting.id}").text
    assert 'value="amina@example.dk"' in form  # prefilled
    assert client.post(f"/meetings/{meeting.id}", data=SIGN_UP).status_code == 303
    with data() as s:
        mine = s.scalars(select(Registration).where(Registration.email == "amina@example.dk")).one()
        assert mine.applicant_id == amina.id
    page = client.get("/meetings/mine").text
    assert meeting.title in page and "bo@example.dk" not in page
    # Another's sign-up cannot be cancelled by id.
    assert client.post(f"/meetings/mine/{other.id}/cancel").status_code == 404
    with data() as s:
        assert s.get(Registration, other.id).cancelled_at is None
    assert client.post(f"/meetings/mine/{mine.id}/cancel").status_code == 303
    with data() as s:
        assert s.get(Registration, mine.id).cancelled_at is not None


def test_other_applicant_cannot_see_my_sign_ups(app: Flask, client: FlaskClient, data: Callable) -> None:
    with data() as s:
        meeting = make_meeting(s)
        registration, _ = sign_up(s, meeting, "amina@example.dk")
    _sign_in_applicant(app, client, data, "bo@example.dk")
    page = client.get("/meetings/mine")
    assert page.status_code == 200 and meeting.title not in page.text
    assert client.post(f"/meetings/mine/{registration.id}/cancel").status_code == 404


# --- staff -----------------------------------------------------------------------------------


def _meeting_form(**overrides: str) -> dict[str, str]:
    start = (utcnow() + dt.timedelta(days=10)).strftime("%Y-%m-%d")
    return {"kind": "help", "title": "Hjælp på Dokk1", "place": "Hovedbiblioteket Dokk1",
            "address": "Hack Kampmanns Plads 2, 8000 Aarhus C", "starts_at": f"{start}T16:00",
            "ends_at": f"{start}T18:00", "capacity": "15", "description": "Vi hjælper.", **overrides}


def test_staff_create_edit_and_cancel_with_mails(
    client: FlaskClient, auth: Auth, data: Callable, smtp_server: SmtpSink
) -> None:
    with data() as s:
        round_id = make_meeting(s).round_id
    auth.login(Role.CASEWORKER)
    assert "/meetings" in client.get(f"/staff/rounds/{round_id}").text
    response = client.post(f"/staff/rounds/{round_id}/meetings/new", data=_meeting_form())
    assert response.status_code == 303
    with data() as s:
        meeting = s.scalars(select(Meeting).where(Meeting.title == "Hjælp på Dokk1")).one()
        assert meeting.starts_at.hour in (14, 15)  # 16:00 Copenhagen is 14:00 or 15:00 UTC
        sign_up(s, meeting, "a@example.dk", note="Har brug for tolk")
    detail = client.get(f"/staff/meetings/{meeting.id}").text
    assert "Har brug for tolk" in detail and "note-highlight" in detail
    bad = client.post(f"/staff/meetings/{meeting.id}/edit", data=_meeting_form(ends_at="2020-01-01T00:00"))
    assert bad.status_code == 400 and "Hovedbiblioteket Dokk1" in bad.text
    assert client.post(f"/staff/meetings/{meeting.id}/edit", data=_meeting_form(capacity="")).status_code == 303
    assert "1 person er tilmeldt" in client.get(f"/staff/meetings/{meeting.id}/cancel").text
    assert client.post(f"/staff/meetings/{meeting.id}/cancel").status_code == 303
    [message] = smtp_server.to("a@example.dk")
    assert message["Subject"].startswith("Aflyst")
    with data() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "meeting")
                            .order_by(AuditEvent.id)).all()
    assert actions == ["meeting.create", "meeting.create", "meeting.update", "meeting.cancel"]
    # The history reads in plain words: the action and what changed, never the codes.
    history = re.sub(r"\s+", " ", client.get(f"/staff/meetings/{meeting.id}").text.split("<h2>Historik</h2>")[1])
    assert "Møde redigeret" in history and "Antal pladser: 15 → —" in history and "Møde aflyst" in history
    assert "meeting.update" not in history


def test_a_voting_meetings_staff_page_leads_to_the_vote(client: FlaskClient, auth: Auth, data: Callable) -> None:
    with data() as s:
        vote = make_meeting(s, kind=MeetingKind.VOTE, title="Afstemningsmødet",
                            starts_at=utcnow() + dt.timedelta(minutes=30), ends_at=utcnow() + dt.timedelta(hours=2))
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/meetings/{vote.id}").text
    assert f"/staff/voting/{vote.id}" in page and f"/staff/meetings/{vote.id}/attendance" not in page
    assert "Man tilmelder sig ikke et afstemningsmøde" in page and "Tilmeldte" not in page
    refused = client.post(f"/staff/meetings/{vote.id}/attendance", data={"walk_ins": "40"})
    assert refused.status_code == 303
    with data() as s:
        assert s.get(Meeting, vote.id).walk_in_count == 0


def test_people_signed_up_hear_of_a_new_time_or_place_in_their_language(
    app: Flask, client: FlaskClient, auth: Auth, data: Callable, smtp_server: SmtpSink
) -> None:
    with data() as s:
        round_id = make_meeting(s).round_id
    auth.login(Role.CASEWORKER)
    assert client.post(f"/staff/rounds/{round_id}/meetings/new", data=_meeting_form()).status_code == 303
    with data() as s:
        meeting = s.scalars(select(Meeting).where(Meeting.title == "Hjælp på Dokk1")).one()
        sign_up(s, meeting, "dansk@example.dk")
    english = app.test_client()
    english.set_cookie("lang", "en")
    assert english.post(f"/meetings/{meeting.id}", data={**SIGN_UP, "email": "english@example.dk"}).status_code == 303
    # A new description only: nobody is e-mailed.
    assert client.post(f"/staff/meetings/{meeting.id}/edit", data=_meeting_form(description="Kaffe og kage")).status_code == 303
    assert smtp_server.to("dansk@example.dk") == []
    moved = client.post(f"/staff/meetings/{meeting.id}/edit", data=_meeting_form(place="Beboerhuset Gellerup"))
    assert moved.status_code == 303
    assert "sendt på e-mail til 2 af 2 tilmeldte" in client.get(moved.headers["Location"]).text
    [to_danish] = smtp_server.to("dansk@example.dk")
    assert to_danish["Subject"] == "Ændret: Hjælp på Dokk1"
    assert "Hvor: Beboerhuset Gellerup" in to_danish.get_body(("plain",)).get_content()
    [_, to_english] = smtp_server.to("english@example.dk")
    assert to_english["Subject"] == "Changed: Hjælp på Dokk1"
    [calendar] = [part for part in to_english.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert "SEQUENCE:1" in calendar.get_content().splitlines()  # replaces the event the first file made


def test_each_cancellation_notice_is_in_the_language_the_citizen_signed_up_in(
    app: Flask, client: FlaskClient, auth: Auth, data: Callable, smtp_server: SmtpSink
) -> None:
    with data() as s:
        meeting = make_meeting(s)
        sign_up(s, meeting, "dansk@example.dk")
    english = app.test_client()
    english.set_cookie("lang", "en")
    assert english.post(f"/meetings/{meeting.id}", data={**SIGN_UP, "email": "english@example.dk"}).status_code == 303
    [confirmation] = smtp_server.to("english@example.dk")
    assert confirmation["Subject"].startswith("You are signed up")

    auth.login(Role.CASEWORKER)
    client.set_cookie("lang", "en")  # the caseworker reads English; the Danish citizen still gets Danish
    assert client.post(f"/staff/meetings/{meeting.id}/cancel").status_code == 303
    [_, to_english] = smtp_server.to("english@example.dk")
    [to_danish] = smtp_server.to("dansk@example.dk")
    assert to_english["Subject"].startswith("Cancelled: ") and "Dear Amina Hassan" in str(to_english.get_body(("plain",)).get_content())
    assert to_danish["Subject"].startswith("Aflyst: ")


def test_attendance_form(client: FlaskClient, auth: Auth, data: Callable) -> None:
    with data() as s:
        meeting = make_meeting(s, starts_at=utcnow() + dt.timedelta(minutes=30), ends_at=utcnow() + dt.timedelta(hours=2))
        a, _ = sign_up(s, meeting, "a@example.dk", name="Anna")
        b, _ = sign_up(s, meeting, "b@example.dk", name="Bent")
    auth.login(Role.MEETING_STAFF)
    form = client.get(f"/staff/meetings/{meeting.id}/attendance").text
    assert "Anna" in form and "Bent" in form
    response = client.post(f"/staff/meetings/{meeting.id}/attendance", data={"attended": [str(b.id)], "walk_ins": "3"})
    assert response.status_code == 303
    detail = client.get(f"/staff/meetings/{meeting.id}").text
    assert re.search(r"Kom i alt</dt><dd>4<", detail)
    bad = client.post(f"/staff/meetings/{meeting.id}/attendance", data={"attended": [str(a.id)], "walk_ins": "-2"})
    assert bad.status_code == 400
    assert f'value="{a.id}" id="attended-{a.id}" checked' in bad.text  # the ticks are kept
    # Meeting staff may count but not plan.
    assert client.get(f"/staff/meetings/{meeting.id}/edit").status_code == 403
    assert client.post(f"/staff/meetings/{meeting.id}/cancel").status_code == 403


@pytest.mark.parametrize(("role", "status"), [(Role.VIEWER, 403), (Role.MEETING_STAFF, 403), (Role.CASEWORKER, 200)])
def test_who_may_plan(client: FlaskClient, auth: Auth, data: Callable, role: Role, status: int) -> None:
    with data() as s:
        meeting = make_meeting(s)
    auth.login(role)
    assert client.get(f"/staff/rounds/{meeting.round_id}/meetings/new").status_code == status
    assert client.get(f"/staff/meetings/{meeting.id}").status_code == 200


def test_anonymous_staff_pages_ask_for_sign_in(client: FlaskClient, data: Callable) -> None:
    with data() as s:
        meeting = make_meeting(s)
    for url in (f"/staff/meetings/{meeting.id}", f"/staff/rounds/{meeting.round_id}/meetings",
                f"/staff/meetings/{meeting.id}/attendance"):
        assert client.get(url).status_code == 302


class TestWithCsrf:
    @pytest.fixture
    def app_overrides(self, smtp_server: SmtpSink) -> dict[str, Any]:
        return {**smtp_server.config(), "WTF_CSRF_ENABLED": True}

    def test_sign_up_and_cancel_need_the_token(self, client: FlaskClient, data: Callable) -> None:
        with data() as s:
            meeting = make_meeting(s)
            _, token = sign_up(s, meeting, "x@example.dk")
        assert client.post(f"/meetings/{meeting.id}", data=SIGN_UP).status_code == 400
        assert client.post(f"/meetings/cancel/{token}").status_code == 400
        with data() as s:
            assert s.scalars(select(Registration.cancelled_at)).all() == [None]
        page = client.get(f"/meetings/{meeting.id}").text
        response = client.post(f"/meetings/{meeting.id}", data={**SIGN_UP, "csrf_token": csrf_token(page)})
        assert response.status_code == 303


def test_the_error_summary_gives_each_message_and_links_to_its_field(client: FlaskClient, data: Callable) -> None:
    """Trial round: the summary said "Dit navn: tjek linjerne nedenfor" and not what was wrong."""
    with data() as s:
        meeting = make_meeting(s)
    response = client.post(f"/meetings/{meeting.id}", data={**SIGN_UP, "name": ""})
    assert response.status_code == 400
    summary = response.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#name">Dit navn: Dette felt skal udfyldes.</a>' in summary
    assert "tjek linjerne" not in summary
