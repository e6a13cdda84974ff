"""Test data for meetings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from deltager.db import utcnow
from deltager.meetings import services
from deltager.meetings.models import Meeting, MeetingKind, Registration
from deltager.rounds.models import Round, RoundStatus
from tests.rounds.factories import TEST_ACTOR, make_round


def meeting_input(**overrides: Any) -> services.MeetingInput:
    """A help meeting in a week, two hours long."""
    start = (utcnow() + dt.timedelta(days=7)).replace(microsecond=0)
    values: dict[str, Any] = {
        "kind": MeetingKind.HELP,
        "title": "Få hjælp til din ansøgning",
        "place": "Beboerhuset Gellerup",
        "address": "Gudrunsvej 10, 8220 Brabrand",
        "description": "Vi hjælper dig med at skrive din ansøgning.",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=2),
        "capacity": None,
    }
    values.update(overrides)
    return services.MeetingInput(**values)


def make_meeting(session: Session, round_: Round | None = None, **overrides: Any) -> Meeting:
    """A committed meeting in an open round (made if not given)."""
    round_ = round_ or make_round(session, RoundStatus.OPEN)
    meeting = services.create_meeting(session, TEST_ACTOR, round_.id, meeting_input(**overrides))
    session.commit()
    return meeting


def sign_up(session: Session, meeting: Meeting, email: str = "borger@example.dk", **overrides: Any) -> tuple[Registration, str]:
    """A committed sign-up and its cancel token."""
    data = services.RegistrationInput(
        name=overrides.pop("name", "Amina Hassan"), email=email,
        phone=overrides.pop("phone", ""), note=overrides.pop("note", ""),
    )
    registration, token = services.register(
        session, TEST_ACTOR, meeting.id, data, overrides.pop("now", utcnow()), **overrides
    )
    session.commit()
    return registration, token
