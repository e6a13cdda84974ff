"""Test data for rounds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from deltager.audit.services import Actor
from deltager.rounds.models import Round, RoundStatus
from deltager.rounds.services import RoundInput, create_round, transition_round

TEST_ACTOR = Actor.system("test")


def round_input(**overrides: Any) -> RoundInput:
    """A valid round: applications open now-ish for 30 days, vote 10 days after."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    values: dict[str, Any] = {
        "title": "Del dit fællesskab",
        "theme": "Udsatte og ensomhed",
        "description": "Små projekter mod ensomhed.",
        "pot_ore": 200_000_00,
        "cap_ore": 25_000_00,
        "funding_source": "§ 18-midler",
        "partners": "Frivilligcenter Nord",
        "applications_open_at": now - dt.timedelta(days=1),
        "applications_close_at": now + dt.timedelta(days=30),
        "voting_on": (now + dt.timedelta(days=40)).date(),
    }
    values.update(overrides)
    return RoundInput(**values)


def make_round(session: Session, status: RoundStatus = RoundStatus.DRAFT, **overrides: Any) -> Round:
    """A committed round, moved forward to ``status``.

    It moves the round by the round's own rules (``rounds.services``), not along the road that asks
    the other domains too (``deltager.road``, e.g. "allocated needs a frozen allocation"): this builds
    test data for the round's own rules, not a real vote.
    """
    round_ = create_round(session, TEST_ACTOR, round_input(**overrides))
    while round_.status is not status:
        transition_round(session, TEST_ACTOR, round_.id, list(RoundStatus)[round_.status.index + 1])
    session.commit()
    return round_
