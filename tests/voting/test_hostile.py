"""Hostile input on the voting pages: never a 5xx, never a half-cast ballot, what was typed comes back."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deltager.permissions import Role
from deltager.voting.models import Ballot, BallotCard, BallotChoice, CardStatus, VoteSettings
from tests.conftest import Auth
from tests.meetings.test_hostile import HOSTILE
from tests.voting.factories import issue, make_vote_meeting

# What a form field or a ticked box can carry besides text: numbers out of range and of other scripts.
NUMBERS = ["-1", "0", "1", "5", "9999", "10000", "2147483648", "9" * 5000, "١٢", "٣", "0x10", "1_000", " 2 ", "+3"]
VALUES = HOSTILE + NUMBERS


def _ok(response: Any, *allowed: int) -> None:
    assert response.status_code in allowed, (response.status_code, response.request.path)


def _nothing_half_written(session: Session, meeting_id: int) -> None:
    """Every ballot has its card marked used and at least one choice; every used card has its ballot."""
    session.expire_all()
    cards = dict(session.execute(
        select(BallotCard.id, BallotCard.status).where(BallotCard.meeting_id == meeting_id)).all())
    ballots = set(session.scalars(select(Ballot.card_id).where(Ballot.card_id.in_(cards))))
    assert ballots == {card for card, status in cards.items() if status is CardStatus.USED}
    chosen = set(session.scalars(select(BallotChoice.card_id).where(BallotChoice.card_id.in_(cards))))
    assert chosen == ballots


def test_settings_form_survives_every_value(client: FlaskClient, auth: Auth, session: Session) -> None:
    setup = make_vote_meeting(session)
    auth.login(Role.CASEWORKER)
    good = {"min_choices": "1", "max_choices": "3", "rule": "greedy", "tie_break": "cost"}
    for field in good:
        for value in VALUES:
            _ok(client.post(f"/staff/voting/{setup.meeting.id}/settings", data={**good, field: value}), 303, 400)
    settings = session.get(VoteSettings, setup.meeting.id)
    session.refresh(settings)
    assert settings is not None and 1 <= settings.min_choices <= settings.max_choices <= len(setup.ids)


def test_typed_settings_come_back_after_an_error(client: FlaskClient, auth: Auth, session: Session) -> None:
    setup = make_vote_meeting(session)
    auth.login(Role.CASEWORKER)
    page = client.post(f"/staff/voting/{setup.meeting.id}/settings",
                       data={"min_choices": "4", "max_choices": "2", "rule": "mes", "tie_break": "lottery"})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert 'value="4"' in text and 'value="2"' in text
    assert re.search(r'<input checked[^>]* value="mes"', text) and re.search(r'<input checked[^>]* value="lottery"', text)


def test_stand_numbers_survive_every_value(client: FlaskClient, auth: Auth, session: Session) -> None:
    setup = make_vote_meeting(session)
    auth.login(Role.CASEWORKER)
    first, second = setup.ids[:2]
    for value in VALUES:
        response = client.post(f"/staff/voting/{setup.meeting.id}/stands",
                               data={f"stand-{first}": value, f"stand-{second}": "2"})
        _ok(response, 303, 400)
    for project in setup.projects:
        session.refresh(project)
    numbers = [p.stand_number for p in setup.projects]
    assert all(n is None or 1 <= n <= 9999 for n in numbers)
    assert len({n for n in numbers if n is not None}) == len([n for n in numbers if n is not None])


def test_card_issuing_survives_every_value(client: FlaskClient, auth: Auth, session: Session) -> None:
    setup = make_vote_meeting(session)
    auth.login(Role.CASEWORKER)
    for field in ("count", "format"):
        for value in VALUES:
            data = {"count": "1", "format": "csv", field: value}
            _ok(client.post(f"/staff/voting/{setup.meeting.id}/cards", data=data), 200, 400)
    issued = session.scalar(select(func.count()).select_from(BallotCard).where(BallotCard.meeting_id == setup.meeting.id))
    settings = session.get(VoteSettings, setup.meeting.id)
    session.refresh(settings)
    assert settings is not None and issued == settings.cards_issued  # serials never repeat or skip


# A paper ballot is checked (200: the check page), then counted (303); a used card is refused (409).
ANSWERS = {"paper": (200, 400, 409), "paper/count": (303, 400, 409), "void": (303, 400)}


@pytest.mark.parametrize("page", list(ANSWERS))
def test_serial_forms_survive_every_value(client: FlaskClient, auth: Auth, session: Session, page: str) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    issue(session, setup, 3)
    auth.login(Role.MEETING_STAFF)
    for value in VALUES:
        data = {"serial": value, "choice": [str(setup.ids[0])]} if page.startswith("paper") else {"serial": value}
        _ok(client.post(f"/staff/voting/{setup.meeting.id}/{page}", data=data), *ANSWERS[page])
    _nothing_half_written(session, setup.meeting.id)


@pytest.mark.parametrize("page", ["paper", "paper/count"])
def test_paper_ballot_choices_survive_every_value(client: FlaskClient, auth: Auth, session: Session, page: str) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    issue(session, setup, 1)
    auth.login(Role.MEETING_STAFF)
    for value in VALUES:
        response = client.post(f"/staff/voting/{setup.meeting.id}/{page}",
                               data={"serial": "1", "choice": [value, str(setup.ids[0])]})
        _ok(response, *ANSWERS[page])
        if response.status_code in (200, 400):  # the card number typed comes back (check page: "0001")
            assert re.search(r'value="0*1"', response.get_data(as_text=True))
    _nothing_half_written(session, setup.meeting.id)


def test_door_count_survives_every_value(client: FlaskClient, auth: Auth, session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    auth.login(Role.MEETING_STAFF)
    for value in VALUES:
        _ok(client.post(f"/staff/voting/{setup.meeting.id}/door", data={"door_count": value}), 303)
    settings = session.get(VoteSettings, setup.meeting.id)
    session.refresh(settings)
    assert settings is not None and (settings.door_count is None or 0 <= settings.door_count <= 100_000)


def test_the_phone_ballot_survives_every_value(client: FlaskClient, session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    codes = [card.code for card in issue(session, setup, len(VALUES))]
    for code, value in zip(codes, VALUES):
        voter = client.application.test_client()
        _ok(voter.get(f"/v/{code}"), 303)
        _ok(voter.post("/ballot/confirm", data={"choice": [value, str(setup.ids[0])]}), 200, 400)
        _ok(voter.post("/ballot", data={"choice": [value, str(setup.ids[1])]}), 303, 400)
    statuses = {client.get(f"/v/{value}").status_code for value in VALUES}
    assert statuses <= {400, 404, 429} and 429 in statuses  # unknown codes, then the throttle
    _nothing_half_written(session, setup.meeting.id)


def test_compare_form_survives_every_value(client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.CASEWORKER)
    for field in ("meeting_id", "tie_break"):
        for value in VALUES:
            data = {"meeting_id": "", "tie_break": "id", field: value}
            _ok(client.post("/staff/voting/compare", data=data), 200, 400)
