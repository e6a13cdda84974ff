"""The seam between the benchmark and the voting domain: set up an open vote, drive one phone, check the DB.

Setup runs in-process against the database file before gunicorn starts: the round, the voting
meeting and the projects on the ballot are inserted as rows (the bench needs a vote, not the
screening workflow), then cards are issued and the vote opened with the voting domain's own
services, so codes are hashed and settings kept exactly as the product does it.

A phone follows the issue's flow, ``scan → ballot page → POST with CSRF``: ``GET /v/<code>``
(card cookie + 303) → ``GET /ballot`` (the checkboxes, and the session's CSRF token, which every
page carries for its language switch) → ``POST /ballot`` with between min and max projects → 303
to the thank-you page. The whole phone flow adds the product's read-only confirmation page
(``POST /ballot/confirm``, the choices in the body) before the cast and follows the 303 to ``GET /ballot/done``.
Only the casting POST is timed.
"""

from __future__ import annotations

import datetime as dt
import html
import http.client
import random
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deltager import migrate, road
from deltager.applications.models import Applicant, Application, ApplicationStatus
from deltager.audit.services import Actor
from deltager.db import begin_write, make_engine
from deltager.meetings.models import Meeting, MeetingKind
from deltager.rounds.models import Round, RoundStatus
from deltager.voting import services as voting
from deltager.voting.models import AllocationRule, Ballot, BallotCard, CardStatus, TieBreak

ACTOR = Actor.system("bench")
SCAN_PATH = "/v/{code}"
BALLOT_PATH, CAST_PATH, DONE_PATH = "/ballot", "/ballot", "/ballot/done"
PROJECTS = 12
MIN_CHOICES, MAX_CHOICES = 3, 5


@dataclass(frozen=True)
class VoteSetup:
    """An open vote with ``codes`` unused cards."""

    meeting_id: int
    codes: list[str]
    min_choices: int
    max_choices: int


def prepare(database_url: str, cards: int) -> VoteSetup:
    """Migrate the database, create a round with projects on the ballot, issue ``cards`` cards, open the vote."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with Session(engine, expire_on_commit=False) as session:
        begin_write(session)
        meeting = _vote_meeting(session, now)
        voting.update_settings(session, ACTOR, meeting.id, voting.SettingsInput(
            min_choices=MIN_CHOICES, max_choices=MAX_CHOICES, rule=AllocationRule.GREEDY,
            tie_break=TieBreak.COST))
        codes: list[str] = []
        while len(codes) < cards:
            batch = min(voting.MAX_CARDS_PER_BATCH, cards - len(codes))
            codes += [card.code for card in voting.issue_cards(session, ACTOR, meeting.id, batch, now)]
        road.open_vote(session, ACTOR, meeting.id, now)
        session.commit()
        meeting_id = meeting.id
    engine.dispose()
    return VoteSetup(meeting_id, codes, MIN_CHOICES, MAX_CHOICES)


def _vote_meeting(session: Session, now: dt.datetime) -> Meeting:
    """A round in the voting step, its voting meeting, and PROJECTS applications on the ballot."""
    round_ = Round(
        title="Benchmark", theme="Fællesskab", pot_ore=200_000_00, cap_ore=25_000_00,
        funding_source="§ 18-midler", applications_open_at=now - dt.timedelta(days=60),
        applications_close_at=now - dt.timedelta(days=30), voting_on=now.date(),
        project_deadline=(now + dt.timedelta(days=365)).date(),
        report_deadline=(now + dt.timedelta(days=400)).date(), status=RoundStatus.VOTING,
    )
    applicant = Applicant(email=f"bench-{now.timestamp():.0f}@example.org", name="Bench")
    session.add_all([round_, applicant])
    session.flush()
    meeting = Meeting(round_id=round_.id, kind=MeetingKind.VOTE, title="Afstemningsmøde (benchmark)",
                      place="Foreningernes Hus", starts_at=now - dt.timedelta(hours=1),
                      ends_at=now + dt.timedelta(hours=3))
    session.add(meeting)
    for n in range(1, PROJECTS + 1):
        session.add(Application(
            round_id=round_.id, applicant_id=applicant.id, status=ApplicationStatus.ON_BALLOT,
            title=f"Projekt {n}", summary=f"Et lille projekt nummer {n} for fællesskabet.",
            requested_ore=(10_000 + 1_000 * n) * 100, stand_number=n, submitted_at=now, decided_at=now,
        ))
    session.flush()
    return meeting


@dataclass(frozen=True)
class Check:
    """What the database holds after the run, against what the phones were told."""

    ballots: int
    cards_used: int
    lost: int  # a phone was told "your vote is counted" but no ballot exists for its card
    double: int  # ballots beyond one per card
    unconfirmed: int  # ballots whose phone got no success (e.g. a timeout after the commit)


def check(database_url: str, setup: VoteSetup, confirmed: Iterable[str]) -> Check:
    """Compare the ballots in the database with the codes whose POST succeeded."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        voted = dict(session.execute(
            select(BallotCard.code_hash, func.count(Ballot.card_id))
            .join(Ballot, Ballot.card_id == BallotCard.id)
            .where(BallotCard.meeting_id == setup.meeting_id)
            .group_by(BallotCard.code_hash)
        ).all())
        cards_used = session.scalar(select(func.count()).select_from(BallotCard).where(
            BallotCard.meeting_id == setup.meeting_id, BallotCard.status == CardStatus.USED)) or 0
    engine.dispose()
    confirmed_hashes = {voting.hash_code(code) for code in confirmed}
    return Check(
        ballots=sum(voted.values()),
        cards_used=int(cards_used),
        lost=sum(1 for h in confirmed_hashes if h not in voted),
        double=sum(n - 1 for n in voted.values() if n > 1),
        unconfirmed=sum(1 for h in voted if h not in confirmed_hashes),
    )


# --------------------------------------------------------------------------- one phone


class PhoneError(Exception):
    """A step of the phone's flow did not answer as a citizen's phone expects."""


@dataclass
class Form:
    """A form on a page: method, action, hidden fields and checkboxes (name, value)."""

    method: str
    action: str
    hidden: list[tuple[str, str]]
    boxes: list[tuple[str, str]]


_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_INPUT = re.compile(r"<input\b([^>]*)>", re.I)
_ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


def _attributes(text: str) -> dict[str, str]:
    return {name.lower(): html.unescape(value) for name, value in _ATTRIBUTE.findall(text)}


def forms(page: str) -> list[Form]:
    """The forms of one of our pages (double-quoted attributes, as Jinja writes them).

    Regular expressions, not ``html.parser``: the load driver shares the machine's two cores with
    the server, and parsing a ballot page with ``HTMLParser`` cost more CPU than serving it.
    """
    found = []
    for form_attributes, body in _FORM.findall(page):
        a = _attributes(form_attributes)
        form = Form(a.get("method", "get").lower(), a.get("action", ""), [], [])
        for input_attributes in _INPUT.findall(body):
            field = _attributes(input_attributes)
            kind = field.get("type", "text").lower()
            if kind == "hidden":
                form.hidden.append((field.get("name", ""), field.get("value", "")))
            elif kind == "checkbox":
                form.boxes.append((field.get("name", ""), field.get("value", "on")))
        found.append(form)
    return found


def find_form(page: str, *, method: str, with_boxes: bool = False, hidden: str | None = None) -> Form:
    """The first form with this method (and checkboxes, or a hidden field of this name)."""
    for form in forms(page):
        if form.method != method or (with_boxes and not form.boxes):
            continue
        if hidden is None or any(name == hidden for name, _ in form.hidden):
            return form
    raise PhoneError(f"no {method.upper()} form{' with checkboxes' if with_boxes else ''} on the page")


def csrf_token(page: str) -> str:
    """The CSRF token of the session, from any form on the page."""
    for form in forms(page):
        for name, value in form.hidden:
            if name == "csrf_token" and value:
                return value
    raise PhoneError("no CSRF token on the page")


class Phone:
    """One citizen's phone: a keep-alive connection and a cookie jar."""

    def __init__(self, port: int, origin: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.origin = origin
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str, str]:
        """(status, Location, body) of one request, cookies kept."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if body is not None:
            headers |= {"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin}
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers.get("Location", ""), text

    def path(self, url: str, base: str = "/") -> str:
        """The path of a link or form action on a page at ``base``."""
        return urlsplit(urljoin(self.origin + base, url)).path or base

    def close(self) -> None:
        """Hang up."""
        self.connection.close()


def _open_ballot(phone: Phone, code: str, setup: VoteSetup, rng: random.Random) -> tuple[str, Form, list[tuple[str, str]]]:
    """Scan the card and open the ballot; (the ballot page, its form, the boxes this phone ticks)."""
    status, location, _ = phone.request("GET", SCAN_PATH.format(code=code))
    if status != 303 or not location:
        raise PhoneError(f"scan answered {status}, not 303")
    ballot_path = phone.path(location)
    status, _, page = phone.request("GET", ballot_path)
    if status != 200:
        raise PhoneError(f"ballot page answered {status}")
    ballot = find_form(page, method="post", with_boxes=True)
    chosen = rng.sample(ballot.boxes, rng.randint(setup.min_choices, min(setup.max_choices, len(ballot.boxes))))
    return page, ballot, chosen


def _cast(phone: Phone, body: str) -> tuple[float, bool]:
    """POST the ballot; (seconds it took, whether it was accepted with a 303 to the thank-you page)."""
    started = time.perf_counter()
    status, location, _ = phone.request("POST", CAST_PATH, body)
    took = time.perf_counter() - started
    return took, status == 303 and phone.path(location) == DONE_PATH


def vote(phone: Phone, code: str, setup: VoteSetup, rng: random.Random) -> tuple[float, bool]:
    """The issue's flow: scan, ballot page, POST with CSRF; (seconds the POST took, success)."""
    page, _ballot, chosen = _open_ballot(phone, code, setup, rng)
    return _cast(phone, urlencode([("csrf_token", csrf_token(page)), *chosen]))


def vote_with_confirmation(phone: Phone, code: str, setup: VoteSetup, rng: random.Random) -> tuple[float, bool]:
    """The whole phone flow: scan, ballot, confirmation page, POST, thank-you page."""
    page, ballot, chosen = _open_ballot(phone, code, setup, rng)
    confirm_path = phone.path(ballot.action, BALLOT_PATH)
    status, _, page = phone.request("POST", confirm_path, urlencode([*ballot.hidden, *chosen]))
    if status != 200:
        raise PhoneError(f"confirmation page answered {status}")
    cast = find_form(page, method="post", hidden="choice")  # not the language switch
    if phone.path(cast.action, confirm_path) != CAST_PATH:
        raise PhoneError(f"the confirmation page posts to {cast.action}")
    took, ok = _cast(phone, urlencode(cast.hidden))
    if not ok:
        return took, False
    status, _, _ = phone.request("GET", DONE_PATH)  # the receipt, as a browser follows the 303
    return took, status == 200
