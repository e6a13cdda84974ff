"""Sign-in links sent through a real SMTP server: recipients, subject, one use, 30 minutes."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from deltager.citizens import views
from deltager.db import utcnow
from tests.applications.conftest import body
from tests.fixtures.smtp import SmtpSink


@pytest.fixture
def app_overrides(smtp_server: SmtpSink) -> dict[str, Any]:
    """Send mail to the test SMTP server."""
    return {**smtp_server.config(), "BASE_URL": "https://deltager.example.dk"}


def _link(smtp_server: SmtpSink, address: str) -> str:
    [message] = smtp_server.to(address)
    assert message["Subject"] == "Dit login-link til Deltager"
    match = re.search(r"https://deltager\.example\.dk(/apply/sign-in/[A-Za-z0-9_\-]{43,}\S*)", body(message))
    assert match, body(message)
    return match.group(1)


def test_sign_in_link_works_once(client: FlaskClient, smtp_server: SmtpSink) -> None:
    response = client.post("/apply/sign-in", data={"email": "Karen@Example.dk"})
    assert response.status_code == 200 and "karen@example.dk" in response.get_data(as_text=True)
    assert smtp_server.envelopes[0][1] == ["karen@example.dk"]
    path = _link(smtp_server, "karen@example.dk")
    assert client.get(path).status_code == 200  # GET shows a button and uses nothing up
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 303 and response.headers["Location"].endswith("/apply")
    assert client.get("/apply").status_code == 200
    stranger = client.application.test_client()
    again = stranger.post(path)
    assert again.status_code == 400 and "brugt eller udløbet" in again.get_data(as_text=True)
    assert stranger.get("/apply").status_code == 302


def test_sign_in_link_expires_after_30_minutes(client: FlaskClient, smtp_server: SmtpSink,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    client.post("/apply/sign-in", data={"email": "ole@example.dk"})
    path = _link(smtp_server, "ole@example.dk")
    later = utcnow() + dt.timedelta(minutes=30, seconds=1)
    monkeypatch.setattr(views, "utcnow", lambda: later)
    response = client.post(path)
    assert response.status_code == 400 and "udløbet" in response.get_data(as_text=True)
    assert client.get("/apply").status_code == 302


def test_link_keeps_where_the_citizen_was_going(client: FlaskClient, smtp_server: SmtpSink) -> None:
    client.post("/apply/sign-in?next=/apply/rounds/7/new", data={"email": "a@example.dk", "next": "/apply/rounds/7/new"})
    path = _link(smtp_server, "a@example.dk")
    assert client.post(path).headers["Location"] == "/apply/rounds/7/new"
    client.post("/apply/sign-in", data={"email": "b@example.dk", "next": "https://evil.example/"})
    assert "evil" not in _link(smtp_server, "b@example.dk")


def test_a_stranger_asking_for_links_cannot_block_a_citizen(client: FlaskClient, smtp_server: SmtpSink) -> None:
    """At most one mail per address in a few minutes, and asking again is never refused: the link
    sent a moment ago (whoever asked for it) is in the citizen's inbox and works."""
    for _ in range(5):
        stranger = client.application.test_client()
        assert stranger.post("/apply/sign-in", data={"email": "c@example.dk"}).status_code == 200
    again = client.post("/apply/sign-in", data={"email": "C@example.dk"})
    assert again.status_code == 200
    assert "for mindre end 5 minutter siden" in again.text and "c@example.dk" in again.text
    assert len(smtp_server.to("c@example.dk")) == 1
    path = _link(smtp_server, "c@example.dk")
    assert client.post(path).status_code == 303 and client.get("/apply").status_code == 200
    assert client.post("/apply/sign-in", data={"email": "d@example.dk"}).status_code == 200
    assert len(smtp_server.to("d@example.dk")) == 1
