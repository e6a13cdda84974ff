"""The rules of rounds."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager.audit.models import AuditEvent
from deltager.errors import NotAllowed, ValidationFailed
from deltager.rounds import services
from deltager.rounds.models import RoundStatus
from tests.rounds.factories import TEST_ACTOR, make_round, round_input


def test_create_fills_default_deadlines(session: Session) -> None:
    data = round_input(voting_on=dt.date(2027, 3, 1), applications_close_at=dt.datetime(2027, 2, 1, tzinfo=dt.UTC),
                       applications_open_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    round_ = services.create_round(session, TEST_ACTOR, data)
    assert round_.status is RoundStatus.DRAFT
    assert round_.project_deadline == dt.date(2028, 3, 1)
    assert round_.report_deadline == dt.date(2028, 3, 31)


def test_create_writes_audit_event(session: Session) -> None:
    round_ = services.create_round(session, TEST_ACTOR, round_input())
    session.flush()
    event = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "round")).one()
    assert event.action == "round.create"
    assert event.object_id == str(round_.id)
    assert event.after is not None and event.after["pot_ore"] == 200_000_00
    assert event.actor_label == "test"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cap_ore": 300_000_00}, "cap"),
        ({"pot_ore": 0}, "pot"),
        ({"cap_ore": 0}, "cap"),
        ({"title": "  "}, "title"),
        ({"applications_close_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)}, "applications_close_at"),
        ({"voting_on": dt.date(2020, 1, 1)}, "voting_on"),
        ({"project_deadline": dt.date(2020, 1, 1)}, "project_deadline"),
    ],
)
def test_invalid_rounds_are_refused_naming_the_field(session: Session, overrides: dict, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.create_round(session, TEST_ACTOR, round_input(**overrides))
    assert caught.value.field == field


def test_report_deadline_before_project_deadline_is_refused(session: Session) -> None:
    data = round_input()
    with pytest.raises(ValidationFailed) as caught:
        services.create_round(
            session, TEST_ACTOR,
            round_input(project_deadline=data.voting_on + dt.timedelta(days=100),
                        report_deadline=data.voting_on + dt.timedelta(days=99)),
        )
    assert caught.value.field == "report_deadline"


def test_status_moves_one_step_at_a_time(session: Session) -> None:
    round_ = make_round(session)
    with pytest.raises(NotAllowed):
        services.transition_round(session, TEST_ACTOR, round_.id, RoundStatus.VOTING)
    services.transition_round(session, TEST_ACTOR, round_.id, RoundStatus.OPEN)
    assert round_.status is RoundStatus.OPEN
    services.transition_round(session, TEST_ACTOR, round_.id, RoundStatus.DRAFT)
    assert round_.status is RoundStatus.DRAFT


def test_no_going_back_past_allocation(session: Session) -> None:
    round_ = make_round(session, RoundStatus.ALLOCATED)
    assert RoundStatus.VOTING not in services.allowed_transitions(round_)
    with pytest.raises(NotAllowed) as caught:
        services.transition_round(session, TEST_ACTOR, round_.id, RoundStatus.VOTING)
    assert "allocated" in caught.value.message
    services.transition_round(session, TEST_ACTOR, round_.id, RoundStatus.RUNNING)
    with pytest.raises(NotAllowed):
        services.transition_round(session, TEST_ACTOR, round_.id, RoundStatus.ALLOCATED)


def test_closed_round_goes_nowhere(session: Session) -> None:
    round_ = make_round(session, RoundStatus.CLOSED)
    assert services.allowed_transitions(round_) == []


def test_pot_and_cap_frozen_from_voting(session: Session) -> None:
    round_ = make_round(session, RoundStatus.VOTING)
    data = round_input(pot_ore=250_000_00, applications_open_at=round_.applications_open_at,
                       applications_close_at=round_.applications_close_at, voting_on=round_.voting_on)
    with pytest.raises(NotAllowed):
        services.update_round(session, TEST_ACTOR, round_.id, data)
    same_money = round_input(title="Nyt navn", applications_open_at=round_.applications_open_at,
                             applications_close_at=round_.applications_close_at, voting_on=round_.voting_on)
    assert services.update_round(session, TEST_ACTOR, round_.id, same_money).title == "Nyt navn"


def test_update_audit_records_only_changes(session: Session) -> None:
    round_ = make_round(session)
    data = round_input(title="Godt naboskab", applications_open_at=round_.applications_open_at,
                       applications_close_at=round_.applications_close_at, voting_on=round_.voting_on)
    services.update_round(session, TEST_ACTOR, round_.id, data)
    session.flush()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "round.update")).one()
    assert event.before == {"title": "Del dit fællesskab"}
    assert event.after == {"title": "Godt naboskab"}


def test_public_rounds_exclude_drafts(session: Session) -> None:
    make_round(session, title="Kladde")
    make_round(session, RoundStatus.OPEN, title="Åben")
    make_round(session, RoundStatus.CLOSED, title="Gammel")
    current, past = services.list_public_rounds(session)
    assert [r.title for r in current] == ["Åben"]
    assert [r.title for r in past] == ["Gammel"]
