"""Test data for voting: a round in the voting step, projects on the ballot, a voting meeting."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from deltager import road
from deltager.applications.models import Applicant, Application, ApplicationStatus
from deltager.audit.services import Actor
from deltager.meetings.models import Meeting, MeetingKind
from deltager.rounds.models import Round, RoundStatus
from deltager.voting import services
from deltager.voting.models import AllocationRule, BallotChannel, TieBreak, VoteSettings
from tests.rounds.factories import make_round

TEST_ACTOR = Actor.system("test")
NOW = dt.datetime(2026, 5, 20, 17, 0, tzinfo=dt.UTC)
#: (title, cost in kroner) of the default projects.
PROJECTS = [
    ("Skraldecaféen", 18_500),
    ("Gårdfest i Blok C", 12_000),
    ("Strikkeklub for alle", 4_000),
    ("Lektiehjælp i kælderen", 25_000),
    ("Fællesspisning hver fredag", 22_000),
    ("Reparationscafé", 9_500),
]


@dataclass
class VoteSetup:
    """What make_vote_meeting made."""

    round: Round
    meeting: Meeting
    projects: list[Application]

    @property
    def ids(self) -> list[int]:
        """The projects' application ids, in creation order."""
        return [p.id for p in self.projects]


def make_applications(
    session: Session, round_: Round, projects: list[tuple[str, int]] | None = None, *, stands: bool = True,
    summary: str = "Et lille projekt, der samler naboerne.",
) -> list[Application]:
    """On-ballot applications for ``round_`` (costs in kroner), with stands 1..n if asked."""
    applicant = Applicant(email=f"ansoeger-{os.urandom(3).hex()}@test.dk", name="Test Ansøger")
    session.add(applicant)
    session.flush()
    apps = []
    for n, (title, kroner) in enumerate(projects or PROJECTS, start=1):
        app = Application(
            round_id=round_.id, applicant_id=applicant.id, status=ApplicationStatus.ON_BALLOT, title=title,
            summary=summary, requested_ore=kroner * 100, stand_number=n if stands else None,
        )
        session.add(app)
        apps.append(app)
    session.flush()
    return apps


def make_vote_meeting(
    session: Session, *, projects: list[tuple[str, int]] | None = None, stands: bool = True,
    min_choices: int = 1, max_choices: int = 3, rule: AllocationRule = AllocationRule.GREEDY,
    tie_break: TieBreak = TieBreak.COST, open_vote: bool = False, round_status: RoundStatus = RoundStatus.VOTING,
    **round_overrides: Any,
) -> VoteSetup:
    """A round (pot 50.000 kr. unless overridden) with projects on the ballot and a voting meeting."""
    round_overrides.setdefault("pot_ore", 50_000_00)
    round_ = make_round(session, round_status, **round_overrides)
    apps = make_applications(session, round_, projects, stands=stands)
    meeting = Meeting(
        round_id=round_.id, kind=MeetingKind.VOTE, title="Afstemningsmøde", place="Beboerhuset",
        starts_at=NOW - dt.timedelta(hours=1), ends_at=NOW + dt.timedelta(hours=2),
    )
    session.add(meeting)
    session.flush()
    session.add(VoteSettings(
        meeting_id=meeting.id, min_choices=min_choices, max_choices=max_choices, rule=rule, tie_break=tie_break,
    ))
    session.flush()
    if open_vote:
        road.open_vote(session, TEST_ACTOR, meeting.id, NOW)
    session.commit()
    return VoteSetup(round_, meeting, apps)


def issue(session: Session, setup: VoteSetup, count: int = 5) -> list[services.IssuedCard]:
    """Issue cards for the setup's meeting and commit."""
    cards = services.issue_cards(session, TEST_ACTOR, setup.meeting.id, count, NOW)
    session.commit()
    return cards


def cast_ballots(session: Session, setup: VoteSetup, ballots: list[list[int]]) -> None:
    """Issue one card per ballot and cast each on a phone (through the service), then commit."""
    for card, choice in zip(issue(session, setup, len(ballots)), ballots):
        found = services.find_card(session, card.code)
        assert found is not None
        services.cast_ballot(session, found.id, choice, BallotChannel.PHONE)
    session.commit()
