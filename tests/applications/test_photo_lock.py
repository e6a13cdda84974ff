"""An uploaded photo is decoded with no write lock held.

Decoding and re-encoding a phone's photo takes up to half a second. If it ran inside the request's
write transaction, every ballot of a voting meeting at the same time would wait for it on SQLite
(the database has one write lock), and on PostgreSQL the application's row would stay locked. These
tests run the app on a database of its own (``file_app``), so that locks are real, and look from
another connection while the photo is being decoded. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from deltager import uploads
from deltager.applications.models import Applicant, Application
from deltager.db import get_db
from deltager.permissions import Role
from tests.applications.conftest import sign_in_as
from tests.applications.factories import image_bytes, make_applicant, make_application, open_round
from tests.applications.test_views import form_data
from tests.conftest import Auth, another_writer_can_lock


def _while_decoding(monkeypatch: pytest.MonkeyPatch, app: Flask, table: str, row_id: int) -> list[bool]:
    """For each photo decoded: whether another writer could lock ``table``'s row ``row_id`` meanwhile."""
    seen: list[bool] = []
    real = uploads.process

    def decoding(policy: uploads.UploadPolicy, data: bytes) -> uploads.ProcessedImage:
        seen.append(another_writer_can_lock(app, table, "id", row_id))
        return real(policy, data)

    monkeypatch.setattr(uploads, "process", decoding)
    return seen


def _upload() -> dict[str, Any]:
    return form_data(action="save", photo=(io.BytesIO(image_bytes("PNG")), "billede.png"))


def test_a_citizen_changing_a_draft(file_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    with get_db(file_app).session() as session:
        application = make_application(session)
        applicant, application_id = application.applicant, application.id
    seen = _while_decoding(monkeypatch, file_app, "application", application_id)
    client = file_app.test_client()
    sign_in_as(client, applicant)

    response = client.post(f"/apply/{application_id}/edit", data=_upload(), content_type="multipart/form-data")

    assert response.status_code == 303
    assert seen == [True]
    with get_db(file_app).session() as session:
        saved = session.get(Application, application_id)
        assert saved is not None and saved.photo is not None and saved.title == "Strikkeklub på biblioteket"


def test_staff_starting_an_application_on_a_citizens_behalf(file_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    with get_db(file_app).session() as session:
        round_id = open_round(session).id
        make_applicant(session, "hassan@example.dk")
    seen = _while_decoding(monkeypatch, file_app, "round", round_id)
    client = file_app.test_client()
    Auth(file_app, client).login(Role.CASEWORKER)

    response = client.post(f"/staff/rounds/{round_id}/applications/new",
                           data={**_upload(), "applicant_email": "hassan@example.dk"}, content_type="multipart/form-data")

    assert response.status_code == 303
    assert seen == [True]
    with get_db(file_app).session() as session:
        saved = session.scalars(select(Application).join(Applicant).where(Applicant.email == "hassan@example.dk")).one()
        assert saved.photo is not None and saved.round_id == round_id
