"""Demo data: a municipality with staff of every role and rounds at different points of the road.

Dates are relative to today, so the demo always shows an open round, one whose voting meeting is
tonight (screened, its vote open: opening the vote moved it on to voting) and a closed one from
last year. Later steps extend this module with meetings, applications and votes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deltager.accounts.models import User
from deltager.accounts.services import create_user
from deltager.applications.demo import load_applications_demo
from deltager.grants.demo import load_grants_demo
from deltager.audit.services import Actor
from deltager.meetings.demo import load_meetings_demo
from deltager.permissions import Role
from deltager.rounds.models import Round, RoundStatus
from deltager.road import transition_round
from deltager.rounds.services import RoundInput, create_round
from deltager.timeutil import local_to_utc
from deltager.voting.demo import load_voting_demo

DEMO_ACTOR = Actor.system("demo")
DEMO_USERS: list[tuple[str, str, Role, str]] = [
    ("admin@demo.deltager.dk", "demo-admin-2026", Role.ADMIN, "Anne Admin"),
    ("sagsbehandler@demo.deltager.dk", "demo-sag-2026!", Role.CASEWORKER, "Sofie Sagsbehandler"),
    ("moedevaert@demo.deltager.dk", "demo-mode-2026!", Role.MEETING_STAFF, "Mads Mødevært"),
    ("leder@demo.deltager.dk", "demo-leder-2026", Role.VIEWER, "Lene Leder"),
]


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return local_to_utc(dt.datetime.combine(day, dt.time(hour)))


def _advance(session: Session, round_: Round, target: RoundStatus) -> None:
    while round_.status is not target:
        nxt = list(RoundStatus)[round_.status.index + 1]
        transition_round(session, DEMO_ACTOR, round_.id, nxt)


def load_demo(session: Session, *, only_if_empty: bool = False, today: dt.date | None = None) -> bool:
    """Add the demo data; returns False (and adds nothing) if asked to and users exist."""
    if only_if_empty and (session.scalar(select(func.count(User.id))) or 0) > 0:
        return False
    today = today or dt.date.today()
    for email, password, role, name in DEMO_USERS:
        create_user(session, DEMO_ACTOR, email=email, name=name, role=role, password=password)

    rounds = [
        (
            RoundInput(
                title="Del dit fællesskab",
                theme="Udsatte og ensomhed",
                description=(
                    "Har du en idé til et lille projekt, der bringer mennesker sammen og mindsker "
                    "ensomhed i dit nabolag? Søg op til 25.000 kr. Borgerne stemmer om, hvilke "
                    "projekter der bliver til virkelighed."
                ),
                pot_ore=200_000_00,
                cap_ore=25_000_00,
                funding_source="§ 18-midler",
                partners="Frivilligcenter Nord\nBoligsocial helhedsplan Gellerup\nRøde Kors",
                applications_open_at=_at(today - dt.timedelta(days=14), 9),
                applications_close_at=_at(today + dt.timedelta(days=40), 23),
                voting_on=today + dt.timedelta(days=75),
            ),
            RoundStatus.OPEN,
        ),
        (
            RoundInput(
                title="Godt naboskab",
                theme="Godt naboskab",
                description=(
                    "Små projekter, der gør det lettere at kende sine naboer: fællesspisning, "
                    "gårdfester, reparationscaféer og meget mere."
                ),
                pot_ore=150_000_00,
                cap_ore=20_000_00,
                funding_source="§ 18-midler",
                partners="Lokalrådet\nBibliotekerne",
                applications_open_at=_at(today - dt.timedelta(days=90), 9),
                applications_close_at=_at(today - dt.timedelta(days=10), 23),
                voting_on=today,  # the voting meeting is this evening; opening its vote starts the round's voting
            ),
            RoundStatus.SCREENING,
        ),
        (
            RoundInput(
                title="Fællesskab for alle 2025",
                theme="Udsatte og ensomhed",
                description="Sidste års runde: 11 projekter fik støtte efter afstemningsmødet i Beboerhuset.",
                pot_ore=200_000_00,
                cap_ore=25_000_00,
                funding_source="§ 18-midler",
                partners="Frivilligcenter Nord",
                applications_open_at=_at(today - dt.timedelta(days=300), 9),
                applications_close_at=_at(today - dt.timedelta(days=240), 23),
                voting_on=today - dt.timedelta(days=200),
                project_deadline=today + dt.timedelta(days=165),
            ),
            RoundStatus.RUNNING,  # its projects are under way: grants, receipts and payouts in every state
        ),
        (
            RoundInput(
                title="Unge i byen",
                theme="Unge og fritid",
                description="Et kommende forløb for unge mellem 15 og 25 år. Endnu ikke offentliggjort.",
                pot_ore=100_000_00,
                cap_ore=15_000_00,
                funding_source="Puljen for aktivt medborgerskab",
                partners="",
                applications_open_at=_at(today + dt.timedelta(days=60), 9),
                applications_close_at=_at(today + dt.timedelta(days=120), 23),
                voting_on=today + dt.timedelta(days=150),
            ),
            RoundStatus.DRAFT,
        ),
    ]
    created = []
    for data, status in rounds:
        round_ = create_round(session, DEMO_ACTOR, data)
        # A round becomes "allocated" only with a frozen allocation: stop at voting until the vote has closed.
        _advance(session, round_, min(status, RoundStatus.VOTING, key=lambda s: s.index))
        created.append((round_, status))
    load_meetings_demo(session, today)
    load_applications_demo(session, today)
    load_voting_demo(session, today)
    load_grants_demo(session, _at(today, 10))
    for round_, status in created:
        if status.index > round_.status.index:
            _advance(session, round_, status)
    return True
