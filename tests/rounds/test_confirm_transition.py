"""Moving a round along its road asks first: a confirmation page names what the step does.

"Go on to screening" once closed applications 40 days before the deadline in one click, with no
word about the drafts that would never be sent or the help meetings still ahead, and the public
page went on showing the deadline and the help meetings.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from deltager.applications.models import ApplicationStatus
from deltager.meetings.models import MeetingKind
from deltager.permissions import Role
from deltager.rounds.models import Round, RoundStatus
from tests.applications.factories import make_application, open_round
from tests.conftest import Auth
from tests.meetings.factories import make_meeting


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _open_round_with_drafts_and_a_help_meeting(session: Session) -> Round:
    round_ = open_round(session)
    for _n in range(2):
        make_application(session, ApplicationStatus.DRAFT, round_=round_)
    make_application(session, ApplicationStatus.SUBMITTED, round_=round_)
    make_meeting(session, round_, title="Hjælp i Gellerup")
    make_meeting(session, round_, title="Aflyst hjælp").cancelled_at = round_.created_at
    session.commit()
    return round_


def test_going_on_to_screening_names_deadline_drafts_and_help_meetings(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    round_ = _open_round_with_drafts_and_a_help_meeting(session)
    auth.login(Role.CASEWORKER)
    detail = client.get(f"/staff/rounds/{round_.id}").text
    assert f'href="/staff/rounds/{round_.id}/status?status=screening"' in detail
    assert 'action="/staff/rounds/' not in detail, "the round page itself acts on nothing"

    page = client.get(f"/staff/rounds/{round_.id}/status?status=screening")
    text = _text(page.text)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Fristen er ikke nået" in text and "30 dage fra nu" in text
    assert "2 ansøgninger er kladder, der ikke er sendt. De bliver aldrig sendt." in text
    assert "1 informations- eller hjælpemøde ligger stadig forude" in text
    assert "Hjælp i Gellerup" in text and "Aflyst hjælp" not in text
    assert 'name="csrf_token"' in page.text and 'name="status" value="screening"' in page.text
    session.refresh(round_)
    assert round_.status is RoundStatus.OPEN, "showing the page changes nothing"

    done = client.post(f"/staff/rounds/{round_.id}/status", data={"status": "screening"})
    assert done.status_code == 303
    session.refresh(round_)
    assert round_.status is RoundStatus.SCREENING


def test_a_step_that_would_be_refused_says_why_and_offers_no_button(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    round_ = open_round(session)
    make_application(session, ApplicationStatus.SUBMITTED, round_=round_)
    auth.login(Role.CASEWORKER)
    client.post(f"/staff/rounds/{round_.id}/status", data={"status": "screening"})
    page = client.get(f"/staff/rounds/{round_.id}/status?status=voting")
    assert page.status_code == 200 and "Det kan ikke gøres endnu" in page.text
    assert "Afstemningen kan ikke begynde, mens ansøgninger venter på en afgørelse (1)" in page.text
    assert 'name="status"' not in page.text
    allocated = client.get(f"/staff/rounds/{round_.id}/status?status=allocated")
    assert "Det kan ikke gøres endnu" in allocated.text and 'name="status"' not in allocated.text


def test_the_confirmation_needs_the_right_and_a_known_status(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    round_ = open_round(session)
    auth.login(Role.MEETING_STAFF)
    assert client.get(f"/staff/rounds/{round_.id}/status?status=screening").status_code == 403
    auth.login(Role.CASEWORKER)
    assert client.get(f"/staff/rounds/{round_.id}/status?status=bogus").status_code == 400
    assert client.get("/staff/rounds/999999/status?status=open").status_code == 404


def test_after_screening_starts_the_public_page_shows_no_deadline_and_no_help_meetings(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    round_ = _open_round_with_drafts_and_a_help_meeting(session)
    make_meeting(session, round_, kind=MeetingKind.VOTE, title="Afstemningsmødet")
    before = _text(client.get(f"/rounds/{round_.id}").text)
    assert "Sidste frist for at søge" in before and "Hjælp i Gellerup" in before

    auth.login(Role.CASEWORKER)
    client.post(f"/staff/rounds/{round_.id}/status", data={"status": "screening"})
    after = _text(client.get(f"/rounds/{round_.id}").text)
    assert "Sidste frist for at søge" not in after and "Du kan søge fra" not in after
    assert "Lukket: du kan ikke søge mere." in after
    assert "Hjælp i Gellerup" not in after and "Afstemningsmødet" in after
