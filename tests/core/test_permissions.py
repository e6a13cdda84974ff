"""Every endpoint is either declared public or protected; protection really holds."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from deltager.permissions import ROLE_PERMISSIONS, Permission, Role, has_permission
from deltager.web import access_of
from tests.conftest import Auth

# Endpoints that are not ours: Flask's static files.
FRAMEWORK_ENDPOINTS = {"static"}
APPLICANT = "applicant"


def _endpoints(app: Flask) -> list[tuple[str, Any, list[Any]]]:
    rows = []
    for endpoint, view in app.view_functions.items():
        if endpoint in FRAMEWORK_ENDPOINTS:
            continue
        rules = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
        rows.append((endpoint, access_of(view), rules))
    return rows


def _url(rule: Any) -> str:
    """A concrete URL for a rule, with 1 for every int and "x" for every other argument."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        values[name] = 1 if type(converter).__name__ in {"IntegerConverter", "NumberConverter"} else "x"
    return rule.build(values, append_unknown=False)[1]


def test_every_endpoint_declares_its_access(app: Flask) -> None:
    undeclared = [ep for ep, access, _ in _endpoints(app) if access is None]
    assert undeclared == [], f"declare these with @public, @requires(...) or the applicant decorator: {undeclared}"
    for endpoint, access, _ in _endpoints(app):
        assert access in {"public", APPLICANT} or isinstance(access, Permission), endpoint


def _protected(app: Flask) -> list[tuple[str, Permission, str, str]]:
    cases = []
    for endpoint, access, rules in _endpoints(app):
        if isinstance(access, Permission):
            for rule in rules:
                method = "POST" if "POST" in rule.methods and "GET" not in rule.methods else "GET"
                cases.append((endpoint, access, _url(rule), method))
    return cases


def test_anonymous_is_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    cases = _protected(app)
    assert cases, "no protected endpoints found"
    for endpoint, _perm, url, method in cases:
        response = client.open(url, method=method)
        assert response.status_code == 302, (endpoint, response.status_code)
        assert response.headers["Location"].startswith("/login"), endpoint


@pytest.mark.parametrize("role", list(Role))
def test_wrong_role_gets_403(app: Flask, client: FlaskClient, auth: Auth, role: Role) -> None:
    auth.login(role)
    checked = 0
    for endpoint, perm, url, method in _protected(app):
        if has_permission(role, perm):
            continue
        response = client.open(url, method=method)
        assert response.status_code == 403, (role, endpoint, response.status_code)
        checked += 1
    if role is not Role.ADMIN:
        assert checked > 0, f"{role} is refused nothing?"


def test_roles_are_ordered_sensibly() -> None:
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    assert not has_permission(Role.CASEWORKER, Permission.USERS_MANAGE)
    assert not has_permission(Role.VIEWER, Permission.ROUNDS_EDIT)
    assert not has_permission(Role.MEETING_STAFF, Permission.APPLICATIONS_SCREEN)
    assert has_permission(Role.MEETING_STAFF, Permission.VOTING_RUN)
    assert not has_permission(None, Permission.STAFF_HOME)
    assert not has_permission("nonsense", Permission.STAFF_HOME)


def test_deactivated_user_loses_access_at_once(app: Flask, client: FlaskClient, auth: Auth) -> None:
    from deltager.db import get_db
    from deltager.accounts.models import User

    user = auth.login(Role.CASEWORKER)
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        s = get_db(app).session()
        s.get(User, user.id).active = False
        s.commit()
        s.close()
    response = client.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


_ALL = frozenset(Role)
_OFFICE = frozenset({Role.ADMIN, Role.CASEWORKER})
_HALL = frozenset({Role.ADMIN, Role.CASEWORKER, Role.MEETING_STAFF})
#: Who does what at a voting meeting: the README's role table, pinned. Meeting staff run the evening
#: at the hall; what is voted on and how it is counted is decided at the office beforehand.
HALL_ROLES: dict[str, tuple[tuple[str, ...], frozenset[Role]]] = {
    "see the voting meeting, its result and protocol": (("voting.meeting", "voting.protocol"), _ALL),
    "set the ballot rules and stand numbers, print stand posters": (
        ("voting.settings", "voting.stands", "voting.stands_auto", "voting.posters"), _OFFICE),
    "issue more cards, download a batch again": (("voting.cards", "voting.cards_again"), _HALL),
    "cancel a lost card and hand out a replacement": (("voting.void",), _HALL),
    "print and enter paper ballots": (("voting.paper_ballot_pdf", "voting.paper", "voting.paper_count"), _HALL),
    "record the head count at the door": (("voting.door_count",), _HALL),
    "open the vote": (("voting.open_vote",), _HALL),
    "close the vote (allocate and freeze the result)": (("voting.close_vote",), _HALL),
    "move the round along its road (e.g. to allocated)": (("rounds.change_status",), _OFFICE),
}


@pytest.mark.parametrize("action", list(HALL_ROLES))
def test_the_role_table_at_the_hall(app: Flask, action: str) -> None:
    endpoints, roles = HALL_ROLES[action]
    for endpoint in endpoints:
        permission = access_of(app.view_functions[endpoint])
        assert isinstance(permission, Permission), endpoint
        assert {r for r in Role if has_permission(r, permission)} == roles, (action, endpoint)


def test_meeting_staff_can_print_more_cards_at_the_hall(client: FlaskClient, auth: Auth) -> None:
    """They could close the vote but got 403 on the cards page: the evening is theirs, cards included."""
    from deltager.db import get_db
    from tests.voting.factories import make_vote_meeting

    with client.application.app_context():
        session = get_db(client.application).session()
        meeting_id = make_vote_meeting(session, open_vote=True).meeting.id
        session.close()
    auth.login(Role.MEETING_STAFF)
    assert f'href="/staff/voting/{meeting_id}/cards"' in client.get(f"/staff/voting/{meeting_id}").text
    issued = client.post(f"/staff/voting/{meeting_id}/cards", data={"count": "2", "format": "csv"})
    assert issued.status_code == 200 and issued.mimetype == "text/csv"
    assert client.get(f"/staff/voting/{meeting_id}/close").status_code == 200
    assert client.get(f"/staff/voting/{meeting_id}/settings").status_code == 403
