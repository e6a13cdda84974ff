"""Hostile input in every query parameter and every form field of the app: never a 5xx, and
nothing inconsistent written. On SQLite and on PostgreSQL (``file_app``, with the demo's data).

The walk (tests/walk.py) opens every GET route with a few of the demo's objects, as a reader
allowed there, and records which query parameters and form fields each view reads. Then each
of those parameters, and each field of each form found on the pages (plus the fields a view
reads that no page shows), gets every hostile value in turn, the form's other fields keeping
what the page offered. Finally every row of every table is checked: no NUL, no text longer
than its column, no number or date out of range, every used card with its one ballot.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Session

from deltager.db import get_db
from deltager.models import metadata
from deltager.permissions import Role
from deltager.voting.models import Ballot, BallotCard, BallotChoice, CardStatus
from tests.conftest import Auth
from tests.voting.factories import make_vote_meeting
from tests.walk import NOT_SUBMITTED, Form, Readers, Recorder, argument_values, demo_app, endpoint_of, rules, urls, walk_pages

#: NULs, dates no round uses, numbers beyond any column, overlong and foreign text.
HOSTILE = ["a\x00b", "x" * 5_000, "9" * 400, "-1", "9223372036854775808", "9999-12-31T23:59", "0001-01-01", "١٢٣"]
#: Query parameters tried on every GET route besides those its view reads.
ALWAYS_TRIED = ("page", "next")
NOT_SENT = {"csrf_token"}


def _no_5xx(response: Any, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code)


def _query_walk(app: Flask, readers: Readers, values: dict[str, list[Any]], reads: dict[str, set[str]]) -> int:
    """Every hostile value in every query parameter of every GET route; returns the requests sent."""
    sent = 0
    for rule in rules(app):
        if "GET" not in (rule.methods or ()):
            continue
        url = urls(rule, values)[0]
        client = readers.for_url(rule.endpoint, url)
        for name in sorted(reads[rule.endpoint] | set(ALWAYS_TRIED)):
            for value in HOSTILE:
                _no_5xx(client.get(f"{url}?{urlencode({name: value})}"), f"GET {url} {name}={value[:20]!r}")
                sent += 1
        for argument in set(rule.arguments) - {"filename"}:  # a string in the path: a token or a card code
            if argument in {"token", "code"}:
                for value in ("x" * 5_000, "9" * 400, "%00"):
                    path = rule.build({argument: value}, append_unknown=False)[1]
                    _no_5xx(client.get(path), f"GET {rule.rule} {argument}")
                    sent += 1
    return sent


def _form_walk(app: Flask, readers: Readers, values: dict[str, list[Any]], pages: dict[str, list[Form]],
               reads: dict[str, set[str]]) -> int:
    """Every hostile value in every field of every form (one form of each shape per route)."""
    sent, shapes = 0, set()
    for forms in pages.values():
        for form in forms:
            endpoint = endpoint_of(app, form.action)
            shape = (endpoint, frozenset(form.fields))
            if endpoint is None or endpoint in NOT_SUBMITTED or shape in shapes:
                continue
            shapes.add(shape)
            client = readers.for_url(endpoint, form.action)
            names = (set(form.fields) | reads[endpoint]) - NOT_SENT
            for name in sorted(names):
                for value in HOSTILE:
                    data = {**form.fields, name: value}
                    _no_5xx(client.post(form.action, data=data), f"POST {form.action} {name}={value[:20]!r}")
                    sent += 1
    for rule in rules(app):  # POSTs that no page offered (a voter's ballot, a citizen's sign-up cancellation)
        if "POST" in (rule.methods or ()) and rule.endpoint not in {e for e, _ in shapes} | NOT_SUBMITTED:
            url = urls(rule, values)[0]
            client = readers.for_url(rule.endpoint, url)
            client.post(url, data={})  # learn which fields the view reads
            for name in sorted(reads[rule.endpoint] - NOT_SENT) or ["x"]:
                for value in HOSTILE:
                    _no_5xx(client.post(url, data={name: value}), f"POST {url} {name}")
                    sent += 1
    return sent


def _consistent(session: Session) -> None:
    """Nothing out of shape in any row: no NUL, no overlong text, numbers and dates in range, ballots whole."""
    problems = []
    for table in metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            for column in table.columns:
                value = row[column.name]
                where = f"{table.name}.{column.name}"
                if isinstance(value, str):
                    if "\x00" in value:
                        problems.append(f"{where}: NUL")
                    if isinstance(column.type, String) and column.type.length and len(value) > column.type.length:
                        problems.append(f"{where}: {len(value)} characters > {column.type.length}")
                elif isinstance(value, int) and not isinstance(value, bool) and isinstance(column.type, Integer):
                    if column.name.endswith("_ore") and not 0 <= value <= 10**13:
                        problems.append(f"{where}: amount {value}")
                    if abs(value) >= 2**63:
                        problems.append(f"{where}: {value}")
                elif isinstance(value, dt.date) and not 1990 <= value.year <= 2200:  # datetimes too
                    problems.append(f"{where}: {value}")
    assert problems == []
    used = set(session.scalars(select(BallotCard.id).where(BallotCard.status == CardStatus.USED)))
    assert set(session.scalars(select(Ballot.card_id))) == used
    assert set(session.scalars(select(BallotChoice.card_id).distinct())) == used


def test_hostile_values_in_every_parameter_and_field(file_app: Flask) -> None:
    app = demo_app(file_app)
    readers = Readers(app)
    with app.app_context():
        values = argument_values(get_db(app).session())
    with Recorder().on(app) as recorder:
        pages = walk_pages(app, readers, values, lambda _e, url, response: _no_5xx(response, f"GET {url}"))
        assert sum(len(forms) for forms in pages.values()) >= 30, "the walk found too few forms"
        queries = _query_walk(app, readers, values, recorder.reads)
        fields = _form_walk(app, readers, values, pages, recorder.reads)
    assert queries > 300 and fields > 1000, (queries, fields)
    assert {"since", "until", "object_id", "actor"} <= recorder.reads["audit.index"]
    assert readers.admin.get("/staff/").status_code == 200, "the walk signed the admin out"
    with app.app_context():
        session = get_db(app).session()
        try:
            _consistent(session)
        finally:
            session.close()


# --------------------------------------------------------------------------- the three 500s of the outside test


def test_a_nul_byte_in_the_login_e_mail_is_refused_kindly(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": "admin\x00@demo.dk", "password": "x"})
    assert response.status_code == 200 and "tegn, der ikke er tilladt" in response.get_data(as_text=True)


def test_audit_dates_out_of_range_are_ignored(client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.ADMIN)
    for query in ("until=9999-12-31", "since=0001-01-01", "since=0001-01-01&until=9999-12-31", "until=1999-12-31"):
        assert client.get(f"/staff/audit/?{query}").status_code == 200, query
    assert "2026-03-01" in client.get("/staff/audit/?since=2026-03-01").get_data(as_text=True)


PB_WITH_HUGE_BUDGET = """META
key;value
description;Huge
num_projects;2
num_votes;2
budget;{budget}
vote_type;approval
PROJECTS
project_id;cost;votes;name
1;{cost};2;A
2;200;1;B
VOTES
voter_id;vote
1;1,2
2;1
"""


def test_a_pb_file_with_a_400_digit_budget_is_refused_kindly(client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.ADMIN)
    for budget, cost in (("9" * 400, "100"), ("1000", "0." + "0" * 399 + "1"), ("1e400", "100")):
        body = PB_WITH_HUGE_BUDGET.format(budget=budget, cost=cost).encode()
        response = client.post("/staff/voting/compare", data={"pb_file": (io.BytesIO(body), "huge.pb"), "tie_break": "cost"},
                               content_type="multipart/form-data")
        assert response.status_code in (200, 400)
        assert "kunne ikke læses" in response.get_data(as_text=True), budget[:10]
    fine = PB_WITH_HUGE_BUDGET.format(budget="1000", cost="100").encode()
    response = client.post("/staff/voting/compare", data={"pb_file": (io.BytesIO(fine), "fine.pb"), "tie_break": "cost"},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and "kunne ikke læses" not in response.get_data(as_text=True)



def test_a_400_digit_count_is_refused_kindly(client: FlaskClient, auth: Auth, session: Session) -> None:
    """WTForms' NumberRange cannot compare such a number; every whole-number field stops it first."""
    from tests.meetings.factories import make_meeting

    meeting = make_meeting(session)
    auth.login(Role.ADMIN)
    response = client.post(f"/staff/meetings/{meeting.id}/attendance", data={"walk_ins": "9" * 400})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Skriv et mindre tal." in page and "9" * 400 in page  # what was typed comes back
    setup = make_vote_meeting(session)
    response = client.post(f"/staff/voting/{setup.meeting.id}/settings",
                           data={"min_choices": "1", "max_choices": "-" + "9" * 400, "rule": "greedy", "tie_break": "cost"})
    assert response.status_code == 400 and "Skriv et mindre tal." in response.get_data(as_text=True)


def test_free_text_that_looks_like_a_date_out_of_range_shows_as_typed(app: Flask) -> None:
    from deltager.audit.views import audit_value_label

    with app.test_request_context():
        assert audit_value_label("9999-12-31T23:59") == "9999-12-31T23:59"
        assert audit_value_label("0001-01-01T00:00") == "0001-01-01T00:00"
