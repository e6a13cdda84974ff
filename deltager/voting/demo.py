"""Demo voting meetings: an open vote for "Godt naboskab" and last year's closed, allocated vote.

The rounds come from deltager/demo.py: "Godt naboskab" (moved on to voting here) and
"Fællesskab for alle 2025" (left in voting by deltager/demo.py until this has closed its vote,
because a round cannot become "allocated" without a frozen allocation).
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager import road
from deltager.applications.demo import ballot_demo_projects
from deltager.audit.services import Actor
from deltager.meetings.models import Meeting, MeetingKind
from deltager.rounds.models import Round, RoundStatus
from deltager.timeutil import local_to_utc
from deltager.voting import services
from deltager.voting.models import AllocationRule, BallotChannel, TieBreak

DEMO_ACTOR = Actor.system("demo")
OPEN_ROUND = "Godt naboskab"
CLOSED_ROUND = "Fællesskab for alle 2025"

# (title, summary, kroner) of projects made here when a round has too few on the ballot.
NEIGHBOUR_PROJECTS = [
    ("Gårdfest i Blok C", "En sommerfest i gården med grill, musik og lege for børn og voksne.", 12_000),
    ("Reparationscafé", "Vi reparerer cykler, tøj og lamper sammen en lørdag om måneden.", 9_500),
    ("Fællesspisning hver fredag", "Billig aftensmad i beboerhuset, hvor alle kan være med.", 18_000),
    ("Plantekasser på torvet", "Naboer bygger og passer plantekasser med krydderurter.", 7_500),
    ("Bytteskab i opgangen", "Et skab hvor man kan give og tage bøger, legetøj og køkkenting.", 3_000),
    ("Strikkeklub for alle", "Hver tirsdag strikker vi og drikker kaffe. Garn og pinde til låns.", 4_000),
    ("Filmaften i kælderen", "En gang om måneden viser vi film med undertekster på flere sprog.", 6_500),
    ("Lektiecafé for børn", "Frivillige hjælper børn med lektier to eftermiddage om ugen.", 15_000),
    ("Naboernes loppemarked", "Et loppemarked på parkeringspladsen, hvor overskuddet går til gården.", 5_000),
]
ALL_PROJECTS = [
    ("Skraldecaféen", "Vi samler skrald i kvarteret og drikker kaffe bagefter.", 18_500),
    ("Mænd i bevægelse", "Gåture og fællesmad for ensomme mænd over 60.", 22_000),
    ("Sy-værksted for kvinder", "Symaskiner og hyggeligt samvær for kvinder i alle aldre.", 24_000),
    ("Sammen om havelågen", "En fælleshave, hvor naboer dyrker grøntsager sammen.", 25_000),
    ("Kor for alle", "Et kor uden optagelsesprøve: alle stemmer er velkomne.", 12_000),
    ("Brætspilscafé", "Brætspil og te på biblioteket hver onsdag aften.", 6_000),
    ("Cykelværksted for unge", "Unge lærer at reparere cykler og får en cykel med hjem.", 20_000),
    ("Gå-makkere", "Vi matcher naboer, der vil gå ture sammen.", 3_500),
    ("Madklub på tværs", "Fællesmad, hvor hver gang et nyt land står for menuen.", 24_000),
    ("Bedsteforældre til låns", "Ældre frivillige læser højt for børn i dagplejen.", 9_000),
    ("Musik i gården", "Fire små koncerter i gården med lokale musikere.", 23_000),
    ("Computerhjælp for ældre", "Unge frivillige hjælper ældre med MitID og e-mail.", 15_000),
    ("Fiskeklubben", "Fisketure til havnen med lånegrej og madpakker.", 21_500),
    ("Dans for seniorer", "Let dans og kaffe i beboerhuset hver torsdag.", 19_000),
]


def _round(session: Session, title: str) -> Round | None:
    return session.scalar(select(Round).where(Round.title == title))


def _vote_meeting(session: Session, round_: Round, day: dt.date, place: str) -> Meeting:
    existing = session.scalar(select(Meeting).where(Meeting.round_id == round_.id, Meeting.kind == MeetingKind.VOTE))
    if existing is not None:
        return existing
    start = local_to_utc(dt.datetime.combine(day, dt.time(17)))
    meeting = Meeting(
        round_id=round_.id, kind=MeetingKind.VOTE, title=f"Afstemningsmøde: {round_.title}", place=place,
        address="Gudrunsvej 10, 8220 Brabrand",
        description="Kom og stem om, hvilke projekter der skal have penge. Alle projekter har en stand i salen.",
        starts_at=start, ends_at=start + dt.timedelta(hours=3),
    )
    session.add(meeting)
    session.flush()
    return meeting


def _prepare(session: Session, meeting: Meeting, cards: int, at: dt.datetime) -> list[services.IssuedCard]:
    services.update_settings(session, DEMO_ACTOR, meeting.id,
                             services.SettingsInput(3, 5, AllocationRule.GREEDY, TieBreak.COST))
    services.assign_stand_numbers(session, DEMO_ACTOR, meeting.id)
    issued = services.issue_cards(session, DEMO_ACTOR, meeting.id, cards, at)
    road.open_vote(session, DEMO_ACTOR, meeting.id, at)
    return issued


def _cast(session: Session, meeting: Meeting, issued: list[services.IssuedCard], count: int, paper: int,
          at: dt.datetime, rng: random.Random) -> None:
    projects = services.ballot_projects(session, meeting.round_id)
    # Some projects are more popular than others, so the result has a clear shape.
    weights = [len(projects) - i + rng.randint(0, 3) for i in range(len(projects))]
    for n, card in enumerate(issued[:count]):
        k = rng.randint(3, 5)
        chosen: set[int] = set()
        while len(chosen) < k:
            chosen.add(rng.choices(projects, weights)[0].id)
        when = at + dt.timedelta(seconds=20 * n)
        if n < paper:
            services.enter_paper_ballot(session, DEMO_ACTOR, meeting.id, card.serial, sorted(chosen), when)
        else:
            found = services.find_card(session, card.code)
            assert found is not None
            services.cast_ballot(session, found.id, sorted(chosen), BallotChannel.PHONE)


def load_voting_demo(session: Session, today: dt.date) -> None:
    """An open vote with some ballots for "Godt naboskab"; a closed, allocated vote for last year's round."""
    rng = random.Random(2026)
    now = local_to_utc(dt.datetime.combine(today, dt.time(9)))

    open_round = _round(session, OPEN_ROUND)
    if open_round is not None and open_round.status in (RoundStatus.SCREENING, RoundStatus.VOTING):
        ballot_demo_projects(session, open_round, NEIGHBOUR_PROJECTS, now - dt.timedelta(days=15))
        meeting = _vote_meeting(session, open_round, today, "Beboerhuset Gellerup, Salen")
        issued = _prepare(session, meeting, 150, now)
        _cast(session, meeting, issued, 37, 3, now + dt.timedelta(hours=8), rng)
        services.set_door_count(session, DEMO_ACTOR, meeting.id, 52)

    closed_round = _round(session, CLOSED_ROUND)
    if closed_round is not None and closed_round.status is RoundStatus.VOTING:
        held = closed_round.voting_on
        at = local_to_utc(dt.datetime.combine(held, dt.time(17)))
        ballot_demo_projects(session, closed_round, ALL_PROJECTS, at - dt.timedelta(days=30))
        meeting = _vote_meeting(session, closed_round, held, "Beboerhuset Gellerup, Salen")
        issued = _prepare(session, meeting, 160, at - dt.timedelta(days=7))
        services.void_card(session, DEMO_ACTOR, meeting.id, issued[-1].serial, at)
        _cast(session, meeting, issued, 128, 6, at + dt.timedelta(minutes=30), rng)
        services.set_door_count(session, DEMO_ACTOR, meeting.id, 131)
        road.close_vote(session, DEMO_ACTOR, meeting.id, at + dt.timedelta(hours=2))
