"""Walk the whole app as its users do: every route of the url_map with a few real objects of the
demo, signed in as someone allowed there, and every form on the pages it answers.

Used by the tests that must hold for every page (tests/core/test_content_type.py) and for every
form field and query parameter (tests/core/test_hostile_walk.py). The walk records which query
parameters and form fields each view reads (``Recorder``), so parameters no page links to are
found too.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from flask import Flask, Request, request, template_rendered
from flask.testing import FlaskClient
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule

from deltager.accounts.models import User
from deltager.citizens.auth import SESSION_KEY
from deltager.applications.models import Application
from deltager.citizens.services import session_value
from deltager.db import get_db
from deltager.demo import DEMO_USERS
from deltager.grants.models import ClaimFile, ClaimStatus, ExpenseClaim, FollowUpTalk, Grant, PayoutBatch
from deltager.meetings.models import Meeting, MeetingKind, Registration
from deltager.rounds.models import Round
from deltager.web import access_of
from deltager.voting.models import BallotCard

NOT_OURS = {"static"}
#: Signing out ends the walk's session; it has tests of its own.
NOT_SUBMITTED = {"accounts.logout", "citizens.sign_out"}
PER_PATTERN = 3  # objects per route argument: a few of different kinds, not all of them


def _spread(column: Any, kind: Any) -> Select[Any]:
    """The lowest id of each kind (status, meeting kind …): different pages, few requests; in id
    order, so that SQLite and PostgreSQL walk the same objects."""
    return select(func.min(column)).group_by(kind).order_by(func.min(column))


def argument_values(session: Session) -> dict[str, list[Any]]:
    """A few concrete values for each route argument, taken from the database."""
    values = {
        "round_id": list(session.scalars(_spread(Round.id, Round.status))),
        # The demo's votes (one open, one closed), then one meeting of each other kind.
        "meeting_id": [
            *session.scalars(select(Meeting.id).where(Meeting.kind == MeetingKind.VOTE).order_by(Meeting.id).limit(2)),
            *session.scalars(_spread(Meeting.id, Meeting.kind).where(Meeting.kind != MeetingKind.VOTE)),
        ],
        "application_id": list(session.scalars(_spread(Application.id, Application.status))),
        "registration_id": list(session.scalars(select(Registration.id).limit(1))),
        # Not the admin the walk signs in as: a form that deactivates or demotes them would end the walk.
        "user_id": list(session.scalars(select(User.id).where(User.email != DEMO_USERS[0][0]).order_by(User.id))),
        # A meeting's printed batches of cards (replacement cards, batch 0, are no printed batch).
        "batch": list(session.scalars(select(BallotCard.batch).where(BallotCard.batch > 0).distinct()
                                      .order_by(BallotCard.batch))),
        **_grant_values(session),
        "token": ["not-a-real-token"],
        "code": ["NotARealCardCode"],
    }
    # The grantee whose claim waits for their answer comes first: their grant's pages open for them.
    granted = values.pop("granted_application_id")
    values["application_id"] = [*granted, *(a for a in values["application_id"] if a not in granted)]
    longer = {"meeting_id", "application_id", "round_id"}  # the demo's four rounds: open, voting, running, draft
    return {name: ids[: PER_PATTERN + (name in longer)] or [1] for name, ids in values.items()}


def _grant_values(session: Session) -> dict[str, list[Any]]:
    """Grants, claims, files, batches and talks of the demo: the claim waiting for the grantee's
    answer first (with its grant, its application and its file), then one of each other state."""
    asked = session.scalars(select(ExpenseClaim).where(ExpenseClaim.status == ClaimStatus.NEEDS_INFO)
                            .order_by(ExpenseClaim.id).limit(1)).all()
    first_grants = [c.grant_id for c in asked]
    claim_ids = [c.id for c in asked] + [i for i in session.scalars(_spread(ExpenseClaim.id, ExpenseClaim.status))
                                          if i not in {c.id for c in asked}]
    file_ids = [f.id for c in asked for f in c.files[:1]] + list(session.scalars(
        select(func.min(ClaimFile.id)).group_by(ClaimFile.content_type)))
    grant_ids = first_grants + [i for i in session.scalars(_spread(Grant.id, Grant.status)) if i not in first_grants]
    return {
        "granted_application_id": [c.grant.application_id for c in asked],
        "grant_id": grant_ids, "claim_id": claim_ids, "file_id": list(dict.fromkeys(file_ids)),
        "batch_id": list(session.scalars(_spread(PayoutBatch.id, PayoutBatch.status))),
        "talk_id": list(session.scalars(select(FollowUpTalk.id).order_by(FollowUpTalk.id).limit(1))),
    }


def rules(app: Flask) -> list[Rule]:
    """Every rule of ours, in a stable order."""
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint not in NOT_OURS), key=lambda r: r.rule)


def urls(rule: Rule, values: dict[str, list[Any]]) -> list[str]:
    """Concrete URLs for a rule: one per value of its (single) varying argument."""
    names = sorted(rule.arguments)
    if not names:
        return [rule.build({}, append_unknown=False)[1]]
    out = []
    for n in range(max(len(values[name]) for name in names)):
        built = {name: values[name][min(n, len(values[name]) - 1)] for name in names}
        out.append(rule.build(built, append_unknown=False)[1])
    return list(dict.fromkeys(out))


class Readers:
    """A signed-in client for each kind of reader: admin, the applicant owning an application, anyone."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.anonymous = app.test_client()
        self.admin = app.test_client()
        email, password = DEMO_USERS[0][:2]
        assert self.admin.post("/login", data={"email": email, "password": password}).status_code == 303
        self._applicants: dict[int, FlaskClient] = {}

    def for_url(self, endpoint: str, url: str) -> FlaskClient:
        """Who may open this URL: admin for staff pages, the owner for an applicant's pages."""
        access = access_of(self.app.view_functions[endpoint])
        if access == "public":
            return self.admin if endpoint == "public.language" else self.anonymous
        if access == "applicant":
            return self._applicant(url)
        return self.admin

    def _applicant(self, url: str) -> FlaskClient:
        with self.app.app_context():
            session = get_db(self.app).session()
            ids = [int(part) for part in url.split("/") if part.isdigit()]
            application = session.get(Application, ids[0]) if ids else None
            if application is None:
                application = session.scalars(select(Application).order_by(Application.id).limit(1)).one()
            applicant_id = application.applicant_id
            client = self._applicants.get(applicant_id)
            if client is None:
                client = self._applicants[applicant_id] = self.app.test_client()
                with client.session_transaction() as flask_session:
                    flask_session[SESSION_KEY] = session_value(application.applicant)
            session.close()
        return client


@dataclass
class Form:
    """A form as a browser would submit it: where to, and its fields with the values shown."""

    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url, self.forms, self._form, self._select, self._textarea = page_url, [], None, None, None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = Form(a.get("action") or self.page_url)
            self.forms.append(self._form)
        form = self._form
        if form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text")
            if kind == "file":
                form.files.append(name)
            elif kind not in {"checkbox", "radio", "submit", "button"} or "checked" in a:
                form.fields.setdefault(name, []).append(a.get("value", ""))
            elif kind in {"checkbox", "radio"}:
                form.fields.setdefault(name, [])
        elif tag == "select":
            self._select = name
            form.fields.setdefault(name, [])
        elif tag == "option" and self._select and (not form.fields[self._select] or "selected" in a):
            form.fields[self._select] = [a.get("value", "")]
        elif tag == "textarea":
            self._textarea = name
            form.fields[name] = [""]
        elif tag == "button" and "value" in a:
            form.fields.setdefault(name, [a["value"]])

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_on(html: str, page_url: str) -> list[Form]:
    """The POST forms of a page."""
    parser = _FormParser(page_url)
    parser.feed(html)
    return parser.forms


class _RecordingArgs(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query or form data that notes every key a view asks for."""

    seen: set[str] | None = None

    def _note(self, key: Any) -> None:
        if _RecordingArgs.seen is not None and isinstance(key, str):
            _RecordingArgs.seen.add(key)

    def get(self, key: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        self._note(key)
        return super().get(key, *args, **kwargs)

    def getlist(self, key: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        self._note(key)
        return super().getlist(key, *args, **kwargs)

    def __getitem__(self, key: Any) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key: Any) -> bool:
        self._note(key)
        return super().__contains__(key)


class _RecordingRequest(Request):
    parameter_storage_class = _RecordingArgs


class Recorder:
    """Which query parameters and form fields each endpoint reads, and which templates it renders."""

    def __init__(self) -> None:
        self.reads: dict[str, set[str]] = defaultdict(set)
        self.templates: list[str] = []

    @contextlib.contextmanager
    def on(self, app: Flask) -> Iterator[Recorder]:
        """Record while the block runs."""
        previous = app.request_class
        app.request_class = _RecordingRequest

        def rendered(_sender: Any, template: Any, **_kw: Any) -> None:
            self.templates.append(template.name)

        def before() -> None:
            _RecordingArgs.seen = self.reads[request.endpoint or ""]

        app.before_request_funcs.setdefault(None, []).insert(0, before)
        try:
            with template_rendered.connected_to(rendered, app):
                yield self
        finally:
            app.before_request_funcs[None].remove(before)
            app.request_class = previous
            _RecordingArgs.seen = None


def walk_pages(app: Flask, readers: Readers, values: dict[str, list[Any]],
               check: Callable[[str, str, Any], None]) -> dict[str, list[Form]]:
    """GET every concrete URL of every GET rule; ``check(endpoint, url, response)`` each answer.

    Returns the POST forms found on each page, by URL.
    """
    found: dict[str, list[Form]] = {}
    for rule in rules(app):
        if "GET" not in (rule.methods or ()):
            continue
        for url in urls(rule, values):
            response = readers.for_url(rule.endpoint, url).get(url)
            check(rule.endpoint, url, response)
            if response.mimetype == "text/html":
                found[url] = forms_on(response.get_data(as_text=True), url)
    return found


def endpoint_of(app: Flask, url: str, method: str = "POST") -> str | None:
    """The endpoint a URL and method reach, or None."""
    adapter = app.url_map.bind("localhost")
    try:
        return str(adapter.match(url.split("?")[0], method=method)[0])
    except Exception:  # noqa: BLE001 (any routing refusal: not ours)
        return None


def demo_app(app: Flask) -> Flask:
    """Load the demo into ``app`` (a ``file_app``: the demo commits)."""
    result = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    return app
