"""With CSRF on (as in production), state changes without the form's token are refused."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.applications.conftest import sign_in_as
from tests.applications.factories import make_application
from tests.conftest import csrf_token


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """CSRF on."""
    return {"WTF_CSRF_ENABLED": True}


def test_withdraw_needs_the_token(client: FlaskClient, session: Session) -> None:
    application = make_application(session)
    sign_in_as(client, application.applicant)
    assert client.post(f"/apply/{application.id}/withdraw").status_code == 400
    token = csrf_token(client.get(f"/apply/{application.id}/withdraw").get_data(as_text=True))
    assert client.post(f"/apply/{application.id}/withdraw", data={"csrf_token": token}).status_code == 303


def test_sign_in_request_needs_the_token(client: FlaskClient) -> None:
    response = client.post("/apply/sign-in", data={"email": "x@example.dk"})
    assert response.status_code == 400 and "Tjek din e-mail" not in response.get_data(as_text=True)
