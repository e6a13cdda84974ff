"""Headers every answer carries: not stored by browsers or proxies, no powerful browser features,
and a CSRF token that changes when someone signs in. (No ``Server: gunicorn``: tests/core/test_serving.py.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from deltager.mail import read_outbox
from deltager.permissions import Role
from tests.applications.conftest import body, sign_in_as
from tests.applications.factories import make_application, open_round
from tests.conftest import TEST_PASSWORD, Auth, csrf_token, make_user
from tests.voting.factories import make_vote_meeting


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """CSRF on, as in production."""
    return {"WTF_CSRF_ENABLED": True}


def test_staff_and_applicant_pages_are_never_stored(client: FlaskClient, auth: Auth, session: Session) -> None:
    application = make_application(session)
    auth.login(Role.ADMIN)
    staff = ["/staff/", "/staff/users", "/staff/audit/", f"/staff/applications/{application.id}",
             f"/staff/rounds/{application.round_id}/applications"]
    for url in staff:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    citizen = client.application.test_client()
    sign_in_as(citizen, application.applicant)
    for url in ["/apply", f"/apply/{application.id}", f"/apply/{application.id}/edit"]:
        response = citizen.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    redirect = client.application.test_client().get("/staff/")  # even the way to the sign-in page
    assert redirect.status_code == 302 and redirect.headers["Cache-Control"] == "no-store"


def test_a_view_that_chooses_its_own_caching_keeps_it(client: FlaskClient, session: Session) -> None:
    setup = make_vote_meeting(session, open_vote=True)
    response = client.get(f"/m/{setup.meeting.id}/turnout.json")
    assert response.headers["Cache-Control"] == "public, max-age=2"
    with client.get("/static/css/deltager.css") as static:  # browsers may keep the style sheet
        assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


def test_permissions_policy_denies_powerful_features(client: FlaskClient) -> None:
    for response in (client.get("/"), client.get("/ballot"), client.get("/no-such-page")):
        policy = dict(part.strip().split("=", 1) for part in response.headers["Permissions-Policy"].split(","))
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert policy[feature] == "()", feature


def _raw_csrf(client: FlaskClient) -> str | None:
    with client.session_transaction() as flask_session:
        return flask_session.get("csrf_token")


def test_staff_login_gives_a_new_csrf_token(client: FlaskClient, session: Session) -> None:
    user = make_user(session, Role.CASEWORKER)
    before = csrf_token(client.get("/login").get_data(as_text=True))
    raw_before = _raw_csrf(client)
    signed_in = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": before})
    assert signed_in.status_code == 303
    assert _raw_csrf(client) != raw_before
    # The token known before sign-in no longer works; the one on the signed-in pages does.
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400
    after = csrf_token(client.get("/staff/").get_data(as_text=True))
    assert after != before
    assert client.post("/logout", data={"csrf_token": after}).status_code == 303


def test_citizen_sign_in_gives_a_new_csrf_token(client: FlaskClient, session: Session, instance_path: Path) -> None:
    open_round(session)
    before = csrf_token(client.get("/apply/sign-in").get_data(as_text=True))
    sent = client.post("/apply/sign-in", data={"email": "karen@example.dk", "csrf_token": before})
    assert sent.status_code == 200
    [message] = read_outbox(instance_path / "outbox")
    match = re.search(r"http://localhost(/apply/sign-in/\S+)", body(message))
    assert match, body(message)
    raw_before = _raw_csrf(client)
    signed_in = client.post(match.group(1), data={"csrf_token": before})
    assert signed_in.status_code == 303
    assert _raw_csrf(client) != raw_before
    assert client.post("/apply/sign-out", data={"csrf_token": before}).status_code == 400

