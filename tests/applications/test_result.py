"""After the vote: each applicant reads the result on their page and gets it by e-mail, in their
language; nothing offers a withdrawal once voting has begun (issue 14, point 13)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from deltager.applications.models import Applicant
from deltager.meetings.models import Meeting
from deltager.permissions import Role
from deltager.rounds.models import RoundStatus
from deltager.voting import services as voting
from deltager.voting.models import BallotChannel
from tests.applications.conftest import body, outbox, sign_in_as
from tests.conftest import Auth
from tests.voting.factories import NOW, TEST_ACTOR, VoteSetup, make_vote_meeting


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _vote(session: Session, *, round_status: RoundStatus = RoundStatus.VOTING, open_vote: bool = True) -> VoteSetup:
    """Two projects (18.500 and 40.000 kr., pot 50.000 kr.) with their own applicants: Danish and English."""
    setup = make_vote_meeting(session, projects=[("Skraldecaféen", 18_500), ("Stor scene", 40_000)],
                              round_status=round_status, open_vote=open_vote, min_choices=1, max_choices=2,
                              voting_on=dt.date(2027, 2, 17))
    for project, (email, language) in zip(setup.projects, [("mette@example.dk", "da"), ("john@example.dk", "en")],
                                          strict=True):
        project.applicant = Applicant(email=email, name=email.split("@")[0], language=language)
    meeting = session.get(Meeting, setup.meeting.id)
    assert meeting is not None
    meeting.starts_at = dt.datetime(2030, 5, 20, 15, 0, tzinfo=dt.UTC)  # ahead of the real clock
    meeting.ends_at = meeting.starts_at + dt.timedelta(hours=3)
    session.commit()
    return setup


def _cast(session: Session, setup: VoteSetup, ballots: list[list[int]]) -> None:
    cards = voting.issue_cards(session, TEST_ACTOR, setup.meeting.id, len(ballots), NOW)
    for card, choices in zip(cards, ballots, strict=True):
        found = voting.find_card(session, card.code)
        assert found is not None
        voting.cast_ballot(session, found.id, choices, BallotChannel.PHONE)
    session.commit()


def test_before_the_vote_the_page_names_the_meetings_own_date_and_offers_withdrawal(
    client: FlaskClient, session: Session
) -> None:
    setup = _vote(session, round_status=RoundStatus.SCREENING, open_vote=False)
    funded = setup.projects[0]
    sign_in_as(client, funded.applicant)
    page = _text(client.get(f"/apply/{funded.id}").get_data(as_text=True))
    assert "Tillykke! Dit projekt er på stemmesedlen," in page
    assert "20. maj 2030" in page, "the voting meeting's own date"
    assert "17. februar 2027" not in page, "not the round's planned date"
    assert f"/apply/{funded.id}/withdraw" in client.get(f"/apply/{funded.id}").get_data(as_text=True)
    assert "Vil du trække" in client.get(f"/apply/{funded.id}/withdraw").get_data(as_text=True)


def test_once_voting_has_begun_no_withdrawal_is_offered(client: FlaskClient, session: Session) -> None:
    setup = _vote(session)
    project = setup.projects[0]
    sign_in_as(client, project.applicant)
    html = client.get(f"/apply/{project.id}").get_data(as_text=True)
    assert f"/apply/{project.id}/withdraw" not in html
    assert "kan ikke længere trækkes tilbage" in _text(html)
    assert "Tillykke" not in html
    response = client.get(f"/apply/{project.id}/withdraw")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/apply/{project.id}")


def test_after_the_vote_each_applicant_reads_the_result_and_gets_it_by_mail_in_their_language(
    client: FlaskClient, session: Session, auth: Auth, instance_path: Path
) -> None:
    setup = _vote(session)
    funded, not_funded = setup.projects
    _cast(session, setup, [[funded.id], [funded.id, not_funded.id], [funded.id]])
    auth.login(Role.ADMIN)
    response = client.post(f"/staff/voting/{setup.meeting.id}/close")
    assert response.status_code == 303
    assert "Ansøgerne får besked på e-mail" in _text(client.get(response.headers["Location"]).get_data(as_text=True))

    mails = {m["To"]: m for m in outbox(instance_path)}
    assert set(mails) == {"mette@example.dk", "john@example.dk"}
    danish, english = mails["mette@example.dk"], mails["john@example.dk"]
    assert danish["Subject"] == "Dit projekt får penge"
    assert "Det får 18.500 kr." in body(danish) and "3 personer stemte på det." in body(danish)
    assert "bevillingsbrev" in body(danish) and "kvittering" in body(danish)
    assert english["Subject"] == "The result of the vote on your project"
    assert "got 1 vote, but that was not enough" in body(english)
    assert "Tillykke" not in body(english)

    sign_in_as(client, funded.applicant)
    page = _text(client.get(f"/apply/{funded.id}").get_data(as_text=True))
    assert "Bevilget: 18.500 kr." in page and "Dit projekt får penge" in page
    assert "3 personer stemte på det." in page and "bevillingsbrev" in page
    assert "Tillykke! Dit projekt er på stemmesedlen," not in page and "17. februar 2027" not in page
    assert f"/apply/{funded.id}/withdraw" not in client.get(f"/apply/{funded.id}").get_data(as_text=True)
    assert "Bevilget: 18.500 kr." in _text(client.get("/apply").get_data(as_text=True))

    sign_in_as(client, not_funded.applicant)
    page = _text(client.get(f"/apply/{not_funded.id}").get_data(as_text=True))
    assert "Ikke støttet" in page and "fik 1 stemme" in page
    assert "Tillykke" not in page
    assert f"/apply/{not_funded.id}/withdraw" not in page


def test_a_closed_meeting_is_not_taken_for_the_next_one(client: FlaskClient, session: Session) -> None:
    """After the meeting has ended and before the result is frozen, the page names no stale date."""
    setup = _vote(session)
    meeting = session.get(Meeting, setup.meeting.id)
    assert meeting is not None
    meeting.starts_at, meeting.ends_at = NOW - dt.timedelta(days=400), NOW - dt.timedelta(days=399)
    session.commit()
    sign_in_as(client, setup.projects[0].applicant)
    page = _text(client.get(f"/apply/{setup.projects[0].id}").get_data(as_text=True))
    assert "Afstemningsmødet er holdt" in page and "17. februar 2027" not in page


def test_an_applicant_without_e_mail_is_owed_the_result_by_phone(
    client: FlaskClient, session: Session, auth: Auth, instance_path: Path
) -> None:
    """No mail to an empty address: the project is flagged for staff to phone or write, and the
    closing page counts it among those to tell by phone or letter."""
    setup = _vote(session)
    funded, not_funded = setup.projects
    not_funded.applicant = Applicant(email=None, name="Uden mail")
    session.commit()
    _cast(session, setup, [[funded.id], [funded.id, not_funded.id]])
    auth.login(Role.ADMIN)
    response = client.post(f"/staff/voting/{setup.meeting.id}/close")
    page = _text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "1 ansøger kunne ikke få resultatet på e-mail" in page
    assert {m["To"] for m in outbox(instance_path)} == {"mette@example.dk"}
    session.expire_all()
    assert session.get(type(not_funded), not_funded.id).contact_pending == "result:not_funded"
    assert session.get(type(funded), funded.id).contact_pending is None
