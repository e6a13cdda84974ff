"""Who may open what, down to the object: every route × every kind of reader × the objects it names.

``test_permissions`` checks each route's declared access with made-up ids. This test fills each
route with real objects of a small world — two citizens (A and B) with their own applications and
sign-ups, an application staff started on a citizen's behalf, a project on the ballot, a draft
round nobody outside may see, meetings of each kind, a colleague's account — and for each reader
(anonymous, applicant A, applicant B, meeting staff, viewer, caseworker, admin) works out from
the route's declared access and the object's owner and visibility whether the reader may open it.

Every cell that should be refused is refused: GET and POST alike, the POST carrying the form that
a reader who may use it would send (read off their page), and nothing is written. Every GET that
should open, opens. A route whose URL names an argument this world has no objects for fails the
test: give it objects here, as the permission walk fails on an undeclared route.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deltager.applications import services as applications
from deltager.applications.models import Applicant, Application, ApplicationStatus, Photo
from deltager.audit.models import AuditEvent
from deltager.audit.services import Actor
from deltager.db import get_db, utcnow
from deltager.grants import batches, claims
from deltager.grants import services as grants
from deltager.grants.models import ConditionsChannel
from deltager.meetings.models import Registration
from deltager.permissions import Permission, Role, has_permission
from deltager.rounds.models import RoundStatus
from deltager.web import access_of
from deltager.citizens import services as citizens
from tests.applications.conftest import sign_in_as
from tests.applications.factories import a_photo, complete_input, make_application
from tests.conftest import Auth, make_user
from tests.meetings.factories import make_meeting, sign_up
from tests.rounds.factories import make_round
from tests.voting.factories import issue, make_vote_meeting

ANONYMOUS, APPLICANT_A, APPLICANT_B = "anonymous", "applicant A", "applicant B"
READERS: list[str | Role] = [ANONYMOUS, APPLICANT_A, APPLICANT_B, *Role]
#: Routes outside this test: Flask's static files.
SKIPPED_ENDPOINTS = {"static"}


@dataclass
class World:
    """The objects each URL argument is filled with, by name, and who owns what."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    owner: dict[tuple[str, str], str] = field(default_factory=dict)  # (argument, name) → reader
    applicants: dict[str, Applicant] = field(default_factory=dict)


def _build(session: Session) -> World:
    world = World()
    open_round = make_round(session, RoundStatus.OPEN)
    draft_round = make_round(session, RoundStatus.DRAFT)
    vote = make_vote_meeting(session, projects=[("Fællesspisning", 5_000)])
    a = citizens.get_or_create_applicant(session, "borger-a@example.dk", utcnow())
    b = citizens.get_or_create_applicant(session, "borger-b@example.dk", utcnow())
    c = citizens.get_or_create_applicant(session, "borger-c@example.dk", utcnow())
    session.commit()
    world.applicants = {APPLICANT_A: a, APPLICANT_B: b}
    staff = make_user(session, Role.CASEWORKER)
    on_behalf = applications.create_draft(
        session, Actor.staff(staff), c, open_round.id, complete_input(photo=a_photo()), utcnow(),
        created_by_user_id=staff.id,
    )
    session.commit()
    world.objects["application_id"] = {
        "A's draft": make_application(session, round_=open_round, applicant=a, photo=a_photo()).id,
        "B's submitted": make_application(session, ApplicationStatus.SUBMITTED, round_=open_round, applicant=b,
                                          photo=a_photo()).id,
        "started on C's behalf": on_behalf.id,
        "on the ballot": vote.projects[0].id,
    }
    world.owner |= {("application_id", "A's draft"): APPLICANT_A, ("application_id", "B's submitted"): APPLICANT_B}
    ballot_project = session.get(Application, vote.projects[0].id)
    assert ballot_project is not None
    ballot_project.photo = Photo(**_photo_columns())
    world.objects["round_id"] = {"open": open_round.id, "draft": draft_round.id, "voting": vote.round.id}
    _grants(session, world, open_round.id, open_round.pot_ore)
    help_meeting = make_meeting(session, open_round)
    hidden_meeting = make_meeting(session, draft_round)
    world.objects["meeting_id"] = {"help": help_meeting.id, "vote": vote.meeting.id, "of a draft round": hidden_meeting.id}
    reg_a, _ = sign_up(session, help_meeting, email=a.email)
    reg_b, _ = sign_up(session, help_meeting, email=b.email)
    world.objects["registration_id"] = {"A's sign-up": reg_a.id, "B's sign-up": reg_b.id}
    world.owner |= {("registration_id", "A's sign-up"): APPLICANT_A, ("registration_id", "B's sign-up"): APPLICANT_B}
    world.objects["user_id"] = {"a colleague": make_user(session, Role.CASEWORKER).id}
    issue(session, vote, 2)
    world.objects["batch"] = {"the first": 1}
    # Secrets in the URL (ballot-card codes, sign-in and cancel tokens): a guessed one opens nothing.
    world.objects["code"] = {"guessed": "A" * 22}
    world.objects["token"] = {"guessed": "A" * 43}
    session.commit()
    return world


def _grants(session: Session, world: World, round_id: int, pot_ore: int) -> None:
    """A grant for A's and for B's application, each with a claim and its receipt; A's grant has a
    payout batch (an approved claim) and a follow-up talk booked."""
    now = utcnow()
    names = {"A's grant": "A's draft", "B's grant": "B's submitted"}
    winners = [grants.Winner(application_id=world.objects["application_id"][app], title=f"Projekt {n}",
                             amount_ore=5_000_00, rank=n, payee_type=grants.PayeeType.PRIVATE, payee_name="Borger")
               for n, app in enumerate(names.values(), start=1)]
    made = dict(zip(names, grants.make_grants(session, Actor.system("test"), round_id, pot_ore, winners, now)))
    for grant in made.values():
        grants.accept_conditions(session, Actor.system("test"), grant.id, ConditionsChannel.ONLINE, now)
    sent = {owner: claims.submit_claim(
        session, Actor.system("test"), made[f"{owner}'s grant"].id,
        claims.ClaimInput(made[f"{owner}'s grant"].budget_lines[0].id, 100_00, now.date(), "Kaffe"),
        [claims.FileInput("k.jpg", "image/jpeg", a_photo().content)], now).claim for owner in ("A", "B")}
    approved = claims.submit_claim(session, Actor.system("test"), made["A's grant"].id, claims.ClaimInput(
        made["A's grant"].budget_lines[0].id, 50_00, now.date(), "Saft"),
        [claims.FileInput("s.jpg", "image/jpeg", a_photo().content)], now).claim
    claims.decide_claim(session, Actor.system("test"), approved.id, claims.Decision.APPROVE, now)
    batch = batches.create_batch(session, Actor.system("test"), round_id, now)
    talk = grants.book_follow_up(session, Actor.system("test"), made["A's grant"].id,
                                 now + dt.timedelta(days=3), "Rådhuset", now)
    world.objects["grant_id"] = {name: grant.id for name, grant in made.items()}
    world.objects["claim_id"] = {f"{o}'s claim": c.id for o, c in sent.items()}
    world.objects["file_id"] = {f"{o}'s receipt": c.files[0].id for o, c in sent.items()}
    world.objects["batch_id"] = {"open": batch.id}
    world.objects["talk_id"] = {"booked": talk.id}
    world.owner |= {("claim_id", "A's claim"): APPLICANT_A, ("claim_id", "B's claim"): APPLICANT_B,
                    ("file_id", "A's receipt"): APPLICANT_A, ("file_id", "B's receipt"): APPLICANT_B,
                    ("talk_id", "booked"): APPLICANT_A}
    session.commit()


def _photo_columns() -> dict[str, Any]:
    photo = a_photo()
    return {"content": photo.content, "thumbnail": photo.thumbnail, "width": photo.width, "height": photo.height,
            "created_at": utcnow()}


# --- the oracle: may this reader open this route with these objects? ----------------------------

PUBLIC_BALLOT_PHOTOS = {"applications.photo", "applications.thumbnail"}
#: Public routes about one meeting, and the meetings each shows.
PUBLIC_MEETING_ROUTES = {
    "meetings.public_meeting": {"help", "vote"},
    "meetings.calendar": {"help", "vote"},
    "meetings.confirmation": set(),  # only the browser that just signed up, which no reader here is
    "voting.screen": {"vote"},
    "voting.turnout": {"vote"},
}
#: Staff routes about one voting meeting: a meeting of another kind is not found.
VOTE_ONLY = ("voting.",)

#: Routes whose answer to a reader who may use them depends on the object's state (a round that
#: takes no applications, a meeting of another kind, a vote not yet closed): for these the test
#: checks only that everyone else is refused, not that the page opens.
STATE_DECIDES: dict[str, Callable[[dict[str, str]], bool]] = {
    "applications.new": lambda objs: objs["round_id"] != "open",
    "applications.on_behalf_new": lambda objs: objs["round_id"] != "open",
    "meetings.attendance": lambda objs: objs["meeting_id"] == "vote",
    "meetings.new": lambda objs: objs["round_id"] == "voting",
    "voting.protocol": lambda objs: True,  # only once the vote is closed
    "voting.export_pb": lambda objs: True,
}


def _state_decides(endpoint: str, objs: dict[str, str]) -> bool:
    if endpoint.startswith(VOTE_ONLY) and objs.get("meeting_id", "vote") != "vote":
        return True  # not a voting meeting: not found, for everyone
    return endpoint in STATE_DECIDES and STATE_DECIDES[endpoint](objs)


def _may(endpoint: str, access: object, reader: str | Role, objs: dict[str, str], world: World) -> bool:
    """Whether the reader may use the route with these objects: its declared access, then the object."""
    if any(arg in ("code", "token") for arg in objs):
        return False  # a guessed secret opens nothing for anyone
    if access == "public":
        return _public_may(endpoint, reader, objs)
    if access == "applicant":
        return reader in (APPLICANT_A, APPLICANT_B) and all(
            world.owner.get((arg, name)) == reader for arg, name in objs.items() if arg != "round_id")
    assert isinstance(access, Permission), endpoint
    if not isinstance(reader, Role) or not has_permission(reader, access):
        return False
    if endpoint == "applications.on_behalf_edit":
        # Staff continue only what staff started for a citizen, never a citizen's own draft.
        return objs["application_id"] == "started on C's behalf"
    if endpoint == "applications.receipt" and not has_permission(reader, Permission.APPLICATIONS_SCREEN):
        return False  # a personal code signs in as the citizen: meeting staff print only their own (none here)
    return True


def _public_may(endpoint: str, reader: str | Role, objs: dict[str, str]) -> bool:
    if endpoint in PUBLIC_BALLOT_PHOTOS:
        name = objs["application_id"]
        if name == "on the ballot":
            return True
        owners = {"A's draft": APPLICANT_A, "B's submitted": APPLICANT_B}
        if reader == owners.get(name):
            return True
        if isinstance(reader, Role):
            return has_permission(reader, Permission.APPLICATIONS_VIEW) or (
                name == "started on C's behalf" and has_permission(reader, Permission.APPLICATIONS_ON_BEHALF))
        return False
    if endpoint in PUBLIC_MEETING_ROUTES:
        return objs["meeting_id"] in PUBLIC_MEETING_ROUTES[endpoint]
    if "round_id" in objs:
        return objs["round_id"] != "draft"
    return True


# --- walking the routes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One route filled with objects."""

    endpoint: str
    access: object
    rule: Any
    objs: dict[str, str]
    url: str

    @property
    def methods(self) -> set[str]:
        return set(self.rule.methods) - {"HEAD", "OPTIONS"}


def _cells(app: Flask, world: World) -> Iterator[Cell]:
    unknown = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        access = access_of(app.view_functions[rule.endpoint])
        missing = [arg for arg in rule.arguments if arg not in world.objects]
        if missing:
            unknown.append((rule.rule, missing))
            continue
        for combination in _combinations(sorted(rule.arguments), world):
            values = {arg: world.objects[arg][name] for arg, name in combination.items()}
            url = rule.build(values, append_unknown=False)[1]
            yield Cell(rule.endpoint, access, rule, combination, url)
    assert not unknown, f"give these URL arguments objects in this test's world: {unknown}"


def _combinations(args: list[str], world: World) -> Iterator[dict[str, str]]:
    if not args:
        yield {}
        return
    first, rest = args[0], args[1:]
    for name in world.objects[first]:
        for tail in _combinations(rest, world):
            yield {first: name, **tail}


class _Forms(HTMLParser):
    """The fields of the forms on a page that post to ``target``, as a browser would send them."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target, self.fields, self._inside, self._select = target, {}, False, None
        self.found = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._inside = urlsplit(a.get("action", "")).path in ("", self.target) and a.get("method", "").lower() == "post"
            self.found |= self._inside
        elif not self._inside or "name" not in a:
            if tag == "option" and self._select and ("selected" in a or self._select not in self.fields):
                self.fields[self._select] = a.get("value", "")
            return
        elif tag == "input" and a.get("type") not in ("file", "submit"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self.fields[a["name"]] = "Skrevet af en anden"
        elif tag == "select":
            self._select = a["name"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag == "select":
            self._select = None


def _form_data(page: str, url: str) -> dict[str, str]:
    parser = _Forms(urlsplit(url).path)
    parser.feed(page)
    return parser.fields


class Readers:
    """A signed-in test client per reader."""

    def __init__(self, app: Flask, world: World) -> None:
        self.app, self.world, self.clients = app, world, {}

    def client(self, reader: str | Role) -> FlaskClient:
        if reader not in self.clients:
            client = self.app.test_client()
            if isinstance(reader, Role):
                Auth(self.app, client).login(reader)
            elif reader != ANONYMOUS:
                sign_in_as(client, self.world.applicants[reader])
            self.clients[reader] = client
        return self.clients[reader]


def _refused(response: Any, cell: Cell) -> bool:
    if response.status_code in (403, 404):
        return True
    if response.status_code in (400, 410) and any(arg in ("code", "token") for arg in cell.objs):
        return True  # "this link is not valid": a guessed secret, told so
    location = response.headers.get("Location", "")
    return response.status_code in (302, 303) and urlsplit(location).path in ("/login", "/apply/sign-in")


def _writes(session: Session) -> tuple[int, ...]:
    """A fingerprint of what a refused request must not change."""
    session.expire_all()
    return (
        session.scalar(select(func.count(AuditEvent.id))) or 0,
        session.scalar(select(func.count(Registration.id)).where(Registration.cancelled_at.is_not(None))) or 0,
        session.scalar(select(func.count(Application.id)).where(Application.status != ApplicationStatus.DRAFT)) or 0,
        session.scalar(select(func.max(Application.updated_at))).timestamp(),  # type: ignore[union-attr]
    )


@pytest.fixture
def world(app: Flask) -> World:
    """The world, committed in the test's outer transaction. No app context stays open: the test
    client's requests would share it (and its database session) instead of getting their own."""
    with app.app_context():
        session = get_db(app).session()
        try:
            return _build(session)
        finally:
            session.close()


def _fingerprint(app: Flask) -> tuple[float, ...]:
    with app.app_context():
        session = get_db(app).session()
        try:
            return _writes(session)
        finally:
            session.close()


def test_every_cell_that_should_be_refused_is_refused(app: Flask, world: World) -> None:
    readers = Readers(app, world)
    cells = list(_cells(app, world))
    assert len({c.endpoint for c in cells}) > 50, "the walk found too few routes"
    wrongly_open, wrongly_refused, judged = [], [], 0
    before = _fingerprint(app)
    for cell in cells:
        for reader in READERS:
            may = _may(cell.endpoint, cell.access, reader, cell.objs, world)
            if may and ("GET" not in cell.methods or _state_decides(cell.endpoint, cell.objs)):
                continue  # a POST is not sent where it may act; the state decides what opens
            judged += 1
            client = readers.client(reader)
            if "GET" in cell.methods:
                response = client.get(cell.url)
                if may and _refused(response, cell):
                    wrongly_refused.append((cell.url, reader, response.status_code))
                elif not may and not _refused(response, cell):
                    wrongly_open.append(("GET", cell.url, reader, response.status_code))
            if "POST" in cell.methods and not may:
                response = client.post(cell.url, data=_attack_form(readers, cell, world))
                if not _refused(response, cell):
                    wrongly_open.append(("POST", cell.url, reader, response.status_code))
    after = _fingerprint(app)
    assert judged > 800, "the walk judged too few cells"
    assert wrongly_open == [], f"opened for a reader who should be refused: {wrongly_open}"
    assert wrongly_refused == [], f"refused to a reader who may open it: {wrongly_refused}"
    assert after == before, "a refused request wrote to the database"


def _attack_form(readers: Readers, cell: Cell, world: World) -> dict[str, str]:
    """The form a reader who may use this route would send (so a missing object check would act)."""
    if "GET" not in cell.methods:
        return {}
    for reader in (Role.ADMIN, APPLICANT_A, APPLICANT_B):
        if _may(cell.endpoint, cell.access, reader, cell.objs, world) and not _state_decides(cell.endpoint, cell.objs):
            page = readers.client(reader).get(cell.url).get_data(as_text=True)
            return _form_data(page, cell.url)
    # Nobody here may (the citizen's own draft on the on-behalf route): the owner's own form.
    for reader, owned in ((APPLICANT_A, "A's draft"), (APPLICANT_B, "B's submitted")):
        if cell.objs.get("application_id") == owned:
            page = readers.client(reader).get(f"/apply/{world.objects['application_id'][owned]}/edit")
            return _form_data(page.get_data(as_text=True), f"/apply/{world.objects['application_id'][owned]}/edit")
    return {}


def test_meeting_staff_cannot_read_or_rewrite_a_citizens_own_draft(app: Flask, auth: Auth, client: FlaskClient,
                                                                    world: World) -> None:
    """The attack found from outside: the on-behalf route showed a citizen's draft to meeting
    staff and a POST rewrote it, ticked the consent box and sent it in."""
    draft_id = world.objects["application_id"]["A's draft"]
    auth.login(Role.MEETING_STAFF)
    page = client.get(f"/staff/applications/{draft_id}/on-behalf")
    assert page.status_code == 403
    assert "borger-a@example.dk" not in page.get_data(as_text=True)
    response = client.post(f"/staff/applications/{draft_id}/on-behalf", data={
        **complete_input_form(), "applicant_email": "borger-a@example.dk", "submit": "1", "consent": "y",
    })
    assert response.status_code == 403
    with app.app_context():
        session = get_db(app).session()
        application = session.get(Application, draft_id)
        assert application is not None
        assert application.status is ApplicationStatus.DRAFT and application.title == "Skraldecafé i Gellerup"
        session.close()
    assert client.get(f"/applications/{draft_id}/photo.jpg").status_code == 404
    on_behalf_id = world.objects["application_id"]["started on C's behalf"]
    assert client.get(f"/staff/applications/{on_behalf_id}/on-behalf").status_code == 200


def complete_input_form() -> dict[str, str]:
    """The application form's fields as a browser posts them."""
    return {"title": "Overtaget", "summary": "Skrevet af en anden", "what": "x", "for_whom": "x", "where": "x",
            "when": "x", "contact_name": "X", "contact_phone": "1", "requested_kr": "1000",
            "applicant_type": "person", "involves_children": "no"}


def test_the_oracle_refuses_what_it_should() -> None:
    """The matrix's rules themselves: a citizen's own draft is never open to staff on the on-behalf
    route, B never owns A's things, and a guessed secret opens nothing."""
    world = World(owner={("application_id", "A's draft"): APPLICANT_A})
    objs = {"application_id": "A's draft"}
    assert _may("applications.on_behalf_edit", Permission.APPLICATIONS_ON_BEHALF, Role.ADMIN, objs, world) is False
    assert _may("applications.detail", "applicant", APPLICANT_B, objs, world) is False
    assert _may("applications.detail", "applicant", APPLICANT_A, objs, world) is True
    assert _may("voting.scan", "public", Role.ADMIN, {"code": "guessed"}, world) is False
    assert _may("applications.photo", "public", Role.MEETING_STAFF, objs, world) is False
    assert _may("applications.photo", "public", Role.VIEWER, objs, world) is True
