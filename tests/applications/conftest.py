"""Fixtures of the application tests: a client signed in as an applicant, and the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from deltager.citizens.auth import SESSION_KEY
from deltager.applications.models import Applicant
from deltager.citizens.services import session_value
from deltager.db import get_db
from deltager.mail import read_outbox


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session for arranging data, WITHOUT a pushed app context: with one pushed, every test
    request would reuse it (Flask reuses a current app context), sharing ``g`` and the request's
    database session between requests — not what a real server does."""
    s = get_db(app).session()
    try:
        yield s
    finally:
        s.close()


def sign_in_as(client: FlaskClient, applicant: Applicant) -> None:
    """Put the applicant's session in the client's cookie (the link flow has its own tests)."""
    with client.session_transaction() as flask_session:
        flask_session[SESSION_KEY] = session_value(applicant)


def outbox(instance_path: Path) -> list[EmailMessage]:
    """The e-mails written to the test instance's outbox."""
    return read_outbox(instance_path / "outbox")


def body(message: EmailMessage) -> str:
    """The plain-text body of a message."""
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())
