"""One accessibility walk over the whole app: every GET route that renders HTML, as each role that
may see it, on the demo's data (one or two objects per route argument), at 320 px and 1280 px, and
at 200 % zoom with WCAG 1.4.12 text spacing.

On every page: axe-core (WCAG 2.0/2.1 A and AA) finds nothing; the page does not scroll sideways;
every scrollable region can be reached by keyboard; every focusable element shows its focus; at
200 % zoom with text spacing no text is clipped. Pages reached only by POST (the ballot's
confirmation and thank-you, a meeting sign-up's confirmation) are reached by doing the flow.

Who sees a route comes from its declared access (``access_of``): public routes are walked
anonymously, the applicant's routes as a citizen, staff routes as every staff role holding the
permission. A GET route that answers something other than HTML must be named in ``NOT_HTML``, one
that only redirects in ``REDIRECT_ONLY``; a new route that is neither, and whose page the walk
could not open, fails the test — as the permission walk fails on an undeclared route.

The figures (routes × roles × widths, violations) are what the accessibility statement shows
(/tilgaengelighed): ``DELTAGER_WRITE_A11Y_REPORT=1`` writes them to deltager/accessibility.json;
otherwise the test fails if that file no longer matches what the walk found.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from deltager.applications.models import Application, ApplicationStatus
from deltager.db import utcnow
from deltager.demo import DEMO_USERS
from deltager.grants.models import ClaimStatus, ExpenseClaim
from deltager.meetings.models import Meeting, MeetingKind
from deltager.permissions import Permission, Role, has_permission
from deltager.rounds.models import Round, RoundStatus
from deltager.voting import services as voting
from deltager.audit.services import Actor
from deltager.web import access_of
from tests.browser import a11y_checks as checks
from tests.browser.conftest import LiveApp, citizen_cookie, serve
from tests.walk import argument_values, demo_app, rules, urls

pytestmark = pytest.mark.browser

REPORT = Path(__file__).resolve().parents[2] / "deltager" / "accessibility.json"

#: GET routes that answer no HTML page: files people download, and machine formats. Their content is
#: checked elsewhere (PDF metadata: tests/pdf/test_pdf_metadata.py).
NOT_HTML = {
    "applications.photo": "JPEG", "applications.thumbnail": "JPEG",
    "public.healthz": "plain text for the load balancer", "voting.turnout": "JSON for the projector",
    "meetings.calendar": "iCalendar", "voting.export_pb": "Pabulib file",
    "meetings.sign_up_receipt": "PDF", "applications.receipt": "PDF", "voting.cards_again": "PDF",
    "voting.paper_ballot_pdf": "PDF", "voting.posters": "PDF", "voting.protocol": "PDF",
    "grants.letter": "PDF", "grants.my_letter": "PDF", "grants.talk_ics": "iCalendar", "grants.my_talk_ics": "iCalendar",
    "grants.staff_file": "JPEG, or a PDF as an attachment", "grants.my_file": "JPEG, or a PDF as an attachment",
    "grants.batch_zip": "ZIP of a batch's receipts",
}
#: GET routes that only send the browser on (their target is walked on its own).
REDIRECT_ONLY = {
    "voting.confirm_address": "the ballot's confirmation is a POST; its address opened directly goes back",
    "citizens.sign_in_link": "signs in and goes on (an unknown link goes to the sign-in page)",
}

ANONYMOUS, CITIZEN, VOTER = "anonymous", "citizen", "phone voter"
STAFF = [Role.ADMIN, Role.CASEWORKER, Role.MEETING_STAFF, Role.VIEWER]
#: The phone voter with a scanned card sees the ballot as well as every public page's anonymous view.
VOTER_ROUTES = {"voting.ballot"}
#: What a route answers when its page is not the role's or the object's state: still HTML, still
#: checked, but not counted as the route's page. Keep this short: it is where a route can hide.
NOT_200_OK = {
    "voting.scan": 404,  # a guessed code: the "card not valid" page
    "meetings.cancel": 404,  # a guessed cancel link
}


#: Routes whose page needs a particular object or query: the walk's general values do not open it.
QUERY = {"rounds.change_status": "?status=screening"}  # the open round's next step


def _special(live: LiveApp) -> dict[str, dict[str, list[Any]]]:
    """Objects for routes about one kind of object: a sign-up meeting, an application staff started."""
    with live.session() as s:
        sign_up = s.scalars(select(Meeting.id).where(Meeting.kind.in_([MeetingKind.INFO, MeetingKind.HELP]))
                            .order_by(Meeting.id)).first()
        on_behalf = s.scalars(select(Application.id).where(Application.created_by_user_id.is_not(None))
                              .order_by(Application.id)).first()
        asked = s.scalars(select(ExpenseClaim).where(ExpenseClaim.status == ClaimStatus.NEEDS_INFO)
                          .order_by(ExpenseClaim.id)).first()
        assert asked is not None, "the demo has a claim waiting for the grantee's answer"
        granted = {"application_id": [asked.grant.application_id], "claim_id": [asked.id]}
    return {"meetings.attendance": {"meeting_id": [sign_up]},
            "applications.on_behalf_edit": {"application_id": [on_behalf]},
            **{f"grants.{name}": granted for name in ("mine", "send_receipt", "answer")}}


def _roles_for(app: Flask, endpoint: str) -> list[str | Role]:
    access = access_of(app.view_functions[endpoint])
    if access == "public":
        return [ANONYMOUS] + ([VOTER] if endpoint in VOTER_ROUTES else [])
    if access == "applicant":
        return [CITIZEN]
    assert isinstance(access, Permission), endpoint
    return [r for r in STAFF if has_permission(r, access)]


def _prepare(app: Flask) -> None:
    demo_app(app)


@pytest.fixture(scope="module")
def demo_live(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with serve(tmp_path_factory.mktemp("a11y-instance"), _prepare) as live:
        yield live


def _values(live: LiveApp) -> tuple[dict[str, list[Any]], int, str]:
    """One or two objects per route argument; the citizen's own application; a fresh card's code."""
    with live.session() as s:
        values = argument_values(s)
        rounds = {r.status: r.id for r in s.scalars(select(Round))}
        values["round_id"] = [rounds[RoundStatus.OPEN], rounds[RoundStatus.RUNNING]]
        values = {k: v[:2] for k, v in values.items()}
        draft = s.scalars(select(Application).where(Application.status == ApplicationStatus.DRAFT)
                          .order_by(Application.id).limit(1)).one()
        open_vote = s.scalars(select(Meeting).where(Meeting.kind == MeetingKind.VOTE).order_by(Meeting.id)).first()
        assert open_vote is not None
        code = voting.issue_cards(s, Actor.system("a11y test"), open_vote.id, 1, utcnow())[0].code
        return values, draft.id, code




def _tab(browser: Any, live: LiveApp, role: str | Role, citizen_app: int, code: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="da-DK", bypass_csp=True)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    if isinstance(role, Role):
        email, password = next((e, p) for e, p, r, _n in DEMO_USERS if r is role)
        tab.goto(f"{live.url}/login")
        tab.get_by_label("E-mail").fill(email)
        tab.get_by_label("Adgangskode").fill(password)
        tab.get_by_role("button", name="Log ind").click()
        tab.wait_for_url(f"{live.url}/staff/**")
    elif role == CITIZEN:
        context.add_cookies([citizen_cookie(live, citizen_app)])
    elif role == VOTER:
        tab.goto(f"{live.url}/v/{code}")
        tab.wait_for_url(f"{live.url}/ballot")
    return tab


def _open(tab: Any, url: str) -> tuple[int, str]:
    response = tab.goto(url)
    assert response is not None
    return response.status, response.headers.get("content-type", "")


def test_every_page_for_every_role(browser: Any, demo_live: LiveApp) -> None:
    app = demo_live.app
    values, citizen_app, code = _values(demo_live)
    special = _special(demo_live)
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert set(NOT_HTML) <= endpoints and set(REDIRECT_ONLY) <= endpoints, "an exclusion names no route"
    plan: dict[str | Role, list[tuple[str, str]]] = defaultdict(list)
    for rule in rules(app):
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_HTML or rule.endpoint in REDIRECT_ONLY:
            continue
        for role in _roles_for(app, rule.endpoint):
            own = {**values, "application_id": [citizen_app]} if role == CITIZEN else values
            own = {**own, **special.get(rule.endpoint, {})}
            for url in urls(rule, own):
                plan[role].append((rule.endpoint, url + QUERY.get(rule.endpoint, "")))

    problems: dict[str, list[str]] = {}
    opened: dict[str, set[str]] = defaultdict(set)  # endpoint → roles whose page was checked
    pages = 0
    for role, visits in plan.items():
        tab = _tab(browser, demo_live, role, citizen_app, code)
        try:
            for endpoint, url in visits:
                status, kind = _open(tab, demo_live.url + url)
                if not kind.startswith("text/html"):
                    problems[f"{role} {url}"] = [f"answered {kind}: name it in NOT_HTML"]
                    continue
                landed = tab.url.split("?")[0] == (demo_live.url + url).split("?")[0]
                if landed and status in (200, NOT_200_OK.get(endpoint)):
                    opened[endpoint].add(str(role))
                found = checks.check_page(tab)
                pages += 1
                if found:
                    problems[f"{role} {url} ({status})"] = found
            if role == VOTER:
                pages += _vote(tab, problems)
        finally:
            tab.context.close()
    if _sign_up(browser, demo_live, values, problems):
        pages += 1
        opened["meetings.confirmation"].add(ANONYMOUS)

    walked = sorted({e for visits in plan.values() for e, _u in visits})
    never = [e for e in walked if e not in opened]
    if never:
        problems["(coverage)"] = [f"no role could open these routes' pages (give them objects): {never}"]
    assert not problems, "accessibility problems:\n" + "\n".join(
        f"{where}:\n  " + "\n  ".join(found) for where, found in sorted(problems.items()))
    _report(len(walked), sum(len(r) for r in opened.values()), pages)


def _vote(tab: Any, problems: dict[str, list[str]]) -> int:
    """The phone voter ticks, confirms and casts: the confirmation and thank-you pages."""
    tab.goto(tab.url.rsplit("/", 1)[0] + "/ballot")
    boxes = tab.locator("input[name=choice]")
    legend = tab.locator("legend").first.inner_text()
    wanted = int("".join(c for c in legend if c.isdigit())[:1] or 1)
    for n in range(wanted):
        boxes.nth(n).check()
    tab.get_by_role("button", name="Fortsæt").click()
    tab.wait_for_load_state()
    for where in ("confirm", "done"):
        found = checks.check_page(tab)
        if found:
            problems[f"phone voter {where} {tab.url}"] = found
        if where == "confirm":
            assert "/ballot/confirm" in tab.url, tab.locator("main").inner_text()
            tab.get_by_role("button", name="Afgiv min stemme").click()
            tab.wait_for_url("**/ballot/done")
    return 2


def _sign_up(browser: Any, live: LiveApp, values: dict[str, list[Any]], problems: dict[str, list[str]]) -> int:
    """A citizen signs up for a meeting: the confirmation page."""
    with live.session() as s:
        meeting_id = s.scalars(select(Meeting.id).where(Meeting.kind != MeetingKind.VOTE, Meeting.starts_at > utcnow())
                               .order_by(Meeting.id)).first()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="da-DK", bypass_csp=True)
    tab = context.new_page()
    try:
        tab.goto(f"{live.url}/meetings/{meeting_id}")
        tab.locator("input[name=name]").fill("Bo Borger")
        tab.locator("input[name=email]").fill("bo@example.dk")
        tab.locator("input[name=consent]").check()
        tab.locator("form.narrow button[type=submit]").click()
        tab.wait_for_load_state()
        if not tab.url.split("#")[0].endswith("/signed-up"):
            problems[f"sign-up did not reach its confirmation: {tab.url}"] = [tab.locator("main").inner_text()[:300]]
            return 0
        found = checks.check_page(tab)
        if found:
            problems[f"sign-up confirmation {tab.url}"] = found
    finally:
        context.close()
    return 1


def _report(routes: int, route_roles: int, pages: int) -> None:
    figures = {
        "routes": routes,
        "route_roles": route_roles,
        "roles": [ANONYMOUS, CITIZEN, VOTER, *(r.value for r in STAFF)],
        "widths": list(checks.WIDTHS),
        "zoomed_width": checks.ZOOMED_WIDTH,
        "pages": pages,
        "checks": pages * (len(checks.WIDTHS) + 1),
        "axe_tags": checks.AXE_TAGS,
        "violations": 0,
        "excluded": sorted({**NOT_HTML, **REDIRECT_ONLY}),
    }
    if os.environ.get("DELTAGER_WRITE_A11Y_REPORT") == "1":
        REPORT.write_text(json.dumps({**figures, "tested_on": dt.date.today().isoformat()}, indent=2,
                                     ensure_ascii=False) + "\n")
        return
    written = json.loads(REPORT.read_text())
    written.pop("tested_on")
    assert written == figures, (
        "deltager/accessibility.json (the statement's figures) no longer matches the walk: "
        "run it with DELTAGER_WRITE_A11Y_REPORT=1 and commit the file")
