"""Every grants form carries a CSRF token, and a POST without it changes nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager.applications.models import Application
from deltager.grants.models import ExpenseClaim
from deltager.permissions import Role
from tests.applications.conftest import sign_in_as
from tests.applications.factories import image_bytes
from tests.conftest import Auth, csrf_token
from tests.grants.factories import make_granted_round, submit


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """CSRF on, as in production."""
    return {"WTF_CSRF_ENABLED": True}


def test_a_decision_without_the_token_is_refused(client: FlaskClient, auth: Auth, session: Session) -> None:
    setup = make_granted_round(session)
    claim = submit(session, setup.grants[1], 5_000).claim
    session.commit()
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/claims/{claim.id}").text
    assert client.post(f"/staff/claims/{claim.id}/decision", data={"decision": "approve"}).status_code == 400
    session.expire_all()
    assert session.get(ExpenseClaim, claim.id).status.value == "submitted"  # type: ignore[union-attr]
    done = client.post(f"/staff/claims/{claim.id}/decision", data={"decision": "approve", "csrf_token": csrf_token(page)})
    assert done.status_code == 303


def test_a_receipt_upload_without_the_token_is_refused(client: FlaskClient, session: Session) -> None:
    setup = make_granted_round(session)
    grant = setup.grants[1]
    application = session.get(Application, grant.application_id)
    assert application is not None
    sign_in_as(client, application.applicant)
    form = {"amount": "100", "spent_on": "2026-05-21", "description": "Kaffe", "kind": "reimburse",
            "budget_line_id": str(grant.budget_lines[0].id), "files": [(io.BytesIO(image_bytes()), "k.jpg")]}
    refused = client.post(f"/apply/{application.id}/grant/receipt", data=form, content_type="multipart/form-data")
    assert refused.status_code == 400
    assert session.scalars(select(ExpenseClaim).where(ExpenseClaim.grant_id == grant.id)).all() == []
    page = client.get(f"/apply/{application.id}/grant/receipt").text
    form["files"] = [(io.BytesIO(image_bytes()), "k.jpg")]
    sent = client.post(f"/apply/{application.id}/grant/receipt", data={**form, "csrf_token": csrf_token(page)},
                       content_type="multipart/form-data")
    assert sent.status_code == 303, sent.text
