"""A receipt photo is decoded with no write lock held (issue 16, acceptance 3).

The files go through the upload pipeline before the write transaction begins: the receipt views
read first (``reads_first``), and the pipeline's upload count is its own short transaction,
committed before decoding. So a grantee's 12-megapixel photo never holds SQLite's one write lock
(the ballots of a voting meeting would wait for it) nor the grant's row on PostgreSQL (a
caseworker's approval would). As in ``tests/applications/test_photo_lock.py``: the app runs on a database of its
own (``file_app``) and another connection tries the lock while the photo is being decoded.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from deltager import uploads
from deltager.applications.models import Application
from deltager.db import get_db
from deltager.grants.models import ExpenseClaim, Grant
from deltager.permissions import Role
from tests.applications.conftest import sign_in_as
from tests.applications.factories import image_bytes
from tests.conftest import Auth, another_writer_can_lock
from tests.grants.factories import make_granted_round


def _while_decoding(monkeypatch: pytest.MonkeyPatch, app: Flask, grant_id: int) -> list[bool]:
    """For each picture decoded: whether another writer could lock the grant's row meanwhile."""
    seen: list[bool] = []
    real = uploads.process

    def decoding(policy: uploads.UploadPolicy, data: bytes) -> uploads.ProcessedImage:
        seen.append(another_writer_can_lock(app, '"grant"', "id", grant_id))  # quoted: a reserved word in SQL
        return real(policy, data)

    monkeypatch.setattr(uploads, "process", decoding)
    return seen


def _receipt_form(grant: Grant) -> dict[str, Any]:
    return {"amount": "250,00", "spent_on": dt.date.today().isoformat(), "description": "Kaffe og kage",
            "budget_line_id": str(grant.budget_lines[0].id), "kind": "reimburse",
            "files": [(io.BytesIO(image_bytes()), "kvittering.jpg")]}


def _grant(app: Flask) -> tuple[int, Application, dict[str, Any]]:
    with get_db(app).session() as session:
        grant = make_granted_round(session).grants[1]
        application = session.get(Application, grant.application_id)
        assert application is not None
        form = _receipt_form(grant)
        _ = application.applicant  # loaded before the session closes
        return grant.id, application, form


def _claims(app: Flask, grant_id: int) -> list[ExpenseClaim]:
    with get_db(app).session() as session:
        return list(session.scalars(select(ExpenseClaim).where(ExpenseClaim.grant_id == grant_id)))


def test_a_grantee_sending_a_receipt_photo(file_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    grant_id, application, form = _grant(file_app)
    seen = _while_decoding(monkeypatch, file_app, grant_id)
    client = file_app.test_client()
    sign_in_as(client, application.applicant)

    response = client.post(f"/apply/{application.id}/grant/receipt", data=form, content_type="multipart/form-data")

    assert response.status_code == 303, response.text
    assert seen == [True]
    assert [c.amount_ore for c in _claims(file_app, grant_id)] == [250_00]


def test_staff_registering_a_paper_claim(file_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    grant_id, _application, form = _grant(file_app)
    seen = _while_decoding(monkeypatch, file_app, grant_id)
    client = file_app.test_client()
    Auth(file_app, client).login(Role.CASEWORKER)

    response = client.post(f"/staff/grants/{grant_id}/paper-claim", data=form, content_type="multipart/form-data")

    assert response.status_code == 303, response.text
    assert seen == [True]
    assert [c.on_paper for c in _claims(file_app, grant_id)] == [True]
