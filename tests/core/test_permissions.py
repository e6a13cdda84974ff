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
