"""Grants on the web: the caseworker's pages and decisions, and the grantee's phone pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from deltager import uploads
from deltager.applications.models import ApplicantType, Application
from deltager.citizens import services as citizens
from deltager.db import utcnow
from deltager.config import Defaults
from deltager.grants import batches, claims, services
from deltager.grants.models import (
    BatchStatus, ClaimStatus, ConditionsChannel, ExpenseClaim, Grant, GrantStatus, PayoutMode,
)
from deltager.grants.views import letter_contact, letter_sender
from deltager.money import format_ore
from deltager.permissions import Role
from tests.applications.conftest import body, outbox, sign_in_as
from tests.applications.factories import image_bytes
from tests.conftest import Auth
from tests.core.test_money_rule import ENGLISH_WAY_DA
from tests.core.test_upload_files import shop_invoice_pdf
from tests.grants.factories import LATER, STAFF, GrantSetup, asked_claim, make_granted_round, submit
from tests.pdf.poppler import pdf_text


@pytest.fixture
def db(session: Session) -> Session:
    """The test's session, outside any request (no app context: requests get their own)."""
    return session


@pytest.fixture
def granted(db: Session) -> GrantSetup:
    """A running round with four grants, conditions accepted."""
    return make_granted_round(db)


def _receipt_grant(setup: GrantSetup) -> Grant:
    """A grant paid against receipts with two budget lines (9.500 kr.)."""
    return setup.grants[1]


def _grantee(db: Session, grant: Grant, client: FlaskClient) -> Application:
    application = db.get(Application, grant.application_id)
    assert application is not None
    sign_in_as(client, application.applicant)
    return application


def _today() -> str:
    return dt.date.today().isoformat()


def _claim_form(grant: Grant, **overrides: Any) -> dict[str, Any]:
    data = {"amount": "1.234,50", "spent_on": _today(), "description": "Kaffe og kage",
            "budget_line_id": str(grant.budget_lines[0].id), "kind": "reimburse", "supplier_name": "", "supplier_cvr": ""}
    data.update(overrides)
    return data


def _files(*contents: tuple[str, bytes]) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(data), name) for name, data in contents]


# --- the grantee --------------------------------------------------------------------------------


def test_grantee_sees_their_grant_and_sends_a_photo_and_a_pdf(client: FlaskClient, db: Session,
                                                               granted: GrantSetup) -> None:
    grant = _receipt_grant(granted)
    application = _grantee(db, grant, client)
    page = client.get(f"/apply/{application.id}/grant")
    assert page.status_code == 200 and "9.500 kr." in page.text
    form = client.get(f"/apply/{application.id}/grant/receipt")
    assert 'accept="image/jpeg,image/png,application/pdf"' in form.text and "multiple" in form.text
    sent = client.post(f"/apply/{application.id}/grant/receipt", data={
        **_claim_form(grant), "files": _files(("kvittering.jpg", image_bytes()), ("faktura.pdf", shop_invoice_pdf())),
    }, content_type="multipart/form-data")
    assert sent.status_code == 303, sent.text
    db.expire_all()
    claim = db.scalars(select(ExpenseClaim).where(ExpenseClaim.grant_id == grant.id)).one()
    assert claim.amount_ore == 123_450 and claim.status is ClaimStatus.SUBMITTED
    assert sorted(f.content_type for f in claim.files) == ["application/pdf", "image/jpeg"]
    mine = client.get(f"/apply/{application.id}/grant")
    assert "1.234,50 kr." in mine.text


@pytest.mark.parametrize("typed", ["1,234.50", "1234.5"])
def test_a_bad_amount_keeps_the_input_and_says_how_in_danish(client: FlaskClient, db: Session,
                                                              granted: GrantSetup, typed: str) -> None:
    """Acceptance 5: the English way is refused with the Danish message, the typed value kept."""
    grant = _receipt_grant(granted)
    application = _grantee(db, grant, client)
    response = client.post(f"/apply/{application.id}/grant/receipt", data={
        **_claim_form(grant, amount=typed, description="Mine ting"),
        "files": _files(("kvittering.jpg", image_bytes()))}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert ENGLISH_WAY_DA in response.text
    assert f'value="{typed}"' in response.text and "Mine ting" in response.text
    assert response.mimetype == "text/html"
    assert db.scalar(select(ExpenseClaim.id).where(ExpenseClaim.grant_id == grant.id)) is None


def test_an_invoice_needs_the_shop_and_a_claim_needs_a_file(client: FlaskClient, db: Session,
                                                            granted: GrantSetup) -> None:
    grant = _receipt_grant(granted)
    application = _grantee(db, grant, client)
    no_shop = client.post(f"/apply/{application.id}/grant/receipt", data={
        **_claim_form(grant, kind="invoice"), "files": _files(("k.jpg", image_bytes()))},
        content_type="multipart/form-data")
    assert no_shop.status_code == 400
    no_file = client.post(f"/apply/{application.id}/grant/receipt", data=_claim_form(grant),
                          content_type="multipart/form-data")
    assert no_file.status_code == 400
    db.expire_all()
    assert db.scalars(select(ExpenseClaim).where(ExpenseClaim.grant_id == grant.id)).all() == []


def test_grantee_accepts_the_conditions_and_gets_the_letter(client: FlaskClient, db: Session) -> None:
    setup = make_granted_round(db, accept=False)
    grant = setup.grants[1]
    application = _grantee(db, grant, client)
    assert f'action="/apply/{application.id}/grant/accept"' in client.get(f"/apply/{application.id}/grant").text
    assert client.post(f"/apply/{application.id}/grant/accept").status_code == 303
    db.expire_all()
    assert db.get(Grant, grant.id).conditions_accepted_at is not None  # type: ignore[union-attr]
    letter = client.get(f"/apply/{application.id}/grant/letter.pdf")
    assert letter.status_code == 200 and letter.data.startswith(b"%PDF")
    assert letter.headers["Content-Disposition"].startswith("attachment")


def test_the_letter_says_whom_to_contact_from_the_config(client: FlaskClient, db: Session, app: Flask,
                                                         granted: GrantSetup, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setitem(app.config, "GRANTS_CONTACT", "Jens Holm, tlf. 87 65 43 21, deltagerbudget@kommune.dk")
    monkeypatch.setitem(app.config, "GRANTS_SENDER", "Borgerbudgetteamet, Socialforvaltningen")
    application = _grantee(db, granted.grants[1], client)
    letter = client.get(f"/apply/{application.id}/grant/letter.pdf")
    assert letter.status_code == 200
    text = " ".join(pdf_text(letter.data, tmp_path).split())
    assert "Kontakt Jens Holm, tlf. 87 65 43 21, deltagerbudget@kommune.dk." in text
    assert "Med venlig hilsen Borgerbudgetteamet, Socialforvaltningen" in text


def test_the_letters_contact_defaults_to_the_sender_and_the_mail_from_address() -> None:
    defaults = {"MAIL_FROM": "Deltager <deltager@kommune.dk>", "GRANTS_SENDER": "Socialforvaltningen",
                "GRANTS_CONTACT": None}
    assert letter_sender(defaults) == "Socialforvaltningen"
    assert letter_contact(defaults) == "Socialforvaltningen, deltager@kommune.dk"
    assert letter_contact({**defaults, "GRANTS_CONTACT": "Jens Holm, 87 65 43 21"}) == "Jens Holm, 87 65 43 21"
    assert Defaults.GRANTS_SENDER == "Socialforvaltningen" and Defaults.GRANTS_CONTACT is None


def test_grantee_a_never_sees_grantee_bs_grant_claim_or_file(client: FlaskClient, db: Session,
                                                             granted: GrantSetup) -> None:
    mine, theirs = granted.grants[1], granted.grants[2]
    other = submit(db, theirs, 10_000).claim
    someone_else = citizens.get_or_create_applicant(db, "borger-b@example.dk", utcnow())
    db.get(Application, theirs.application_id).applicant_id = someone_else.id  # type: ignore[union-attr]
    db.commit()
    application = _grantee(db, mine, client)
    file_id = other.files[0].id
    assert client.get(f"/apply/{theirs.application_id}/grant").status_code == 404
    assert client.get(f"/apply/{application.id}/grant/claims/{other.id}/answer").status_code == 404
    assert client.get(f"/apply/{application.id}/grant/files/{file_id}").status_code == 404
    assert client.get(f"/apply/{theirs.application_id}/grant/files/{file_id}").status_code == 404


def test_grantee_answers_a_question(client: FlaskClient, db: Session, granted: GrantSetup,
                                    instance_path: Path) -> None:
    grant = _receipt_grant(granted)
    claim = asked_claim(db, grant)
    application = _grantee(db, grant, client)
    assert "Send kvitteringen fra Netto" in client.get(f"/apply/{application.id}/grant").text
    page = client.get(f"/apply/{application.id}/grant/claims/{claim.id}/answer")
    assert page.status_code == 200
    answered = client.post(f"/apply/{application.id}/grant/claims/{claim.id}/answer", data={
        "answer": "Her er den", "files": _files(("netto.jpg", image_bytes()))}, content_type="multipart/form-data")
    assert answered.status_code == 303
    db.expire_all()
    claim = db.get(ExpenseClaim, claim.id)  # type: ignore[assignment]
    assert claim.status is ClaimStatus.SUBMITTED and claim.info_answer == "Her er den" and len(claim.files) == 2


# --- the caseworker -----------------------------------------------------------------------------


def test_caseworker_lowers_a_claim_with_a_reason_and_the_grantee_is_told(
        client: FlaskClient, auth: Auth, db: Session, granted: GrantSetup, instance_path: Path) -> None:
    grant = _receipt_grant(granted)
    claim = submit(db, grant, 100_000).claim
    db.commit()
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/claims/{claim.id}")
    assert page.status_code == 200 and "1.000 kr." in page.text
    missing = client.post(f"/staff/claims/{claim.id}/decision", data={"decision": "lower", "approved_amount": "800"})
    assert missing.status_code == 400
    done = client.post(f"/staff/claims/{claim.id}/decision",
                       data={"decision": "lower", "approved_amount": "800", "reason": "Kun 8 personer deltog"})
    assert done.status_code == 303
    db.expire_all()
    claim = db.get(ExpenseClaim, claim.id)  # type: ignore[assignment]
    assert claim.status is ClaimStatus.LOWERED and claim.approved_ore == 80_000
    mails = outbox(instance_path)
    assert mails and "Kun 8 personer deltog" in body(mails[-1])
    client2 = client.application.test_client()
    application = _grantee(db, grant, client2)
    mine = client2.get(f"/apply/{application.id}/grant").text
    assert "Kun 8 personer deltog" in mine and "8.700 kr." in mine  # 9.500 − 800 left


def test_an_approval_that_came_second_is_409_with_why_and_a_repeated_one_mails_once(
        client: FlaskClient, auth: Auth, db: Session, granted: GrantSetup, instance_path: Path) -> None:
    grant = _receipt_grant(granted)  # 9.500 kr.
    first, second = (submit(db, grant, 600_000).claim.id for _ in range(2))
    db.commit()
    auth.login(Role.CASEWORKER)
    for _ in range(2):  # the second POST is a double click: approved once, the grantee told once
        assert client.post(f"/staff/claims/{first}/decision", data={"decision": "approve"}).status_code == 303
    assert len(outbox(instance_path)) == 1
    refused = client.post(f"/staff/claims/{second}/decision", data={"decision": "approve"})
    assert refused.status_code == 409 and "Der er kun 3.500 kr. tilbage" in refused.text
    assert len(outbox(instance_path)) == 1


def test_the_claim_page_shows_a_photo_inline_and_a_pdf_only_as_download(
        client: FlaskClient, auth: Auth, db: Session, granted: GrantSetup) -> None:
    grant = _receipt_grant(granted)
    files = [claims.FileInput("k.jpg", "image/jpeg", image_bytes()), claims.FileInput("f.pdf", "application/pdf",
                                                                                     shop_invoice_pdf())]
    claim = submit(db, grant, 5_000, files=files).claim
    db.commit()
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/claims/{claim.id}").text
    jpeg, pdf = sorted(claim.files, key=lambda f: f.content_type)[1], sorted(claim.files, key=lambda f: f.content_type)[0]
    assert f'<img src="/staff/claim-files/{jpeg.id}"' in page
    shown = client.get(f"/staff/claim-files/{jpeg.id}")
    assert shown.mimetype == "image/jpeg" and shown.headers["Content-Disposition"] == "inline"
    downloaded = client.get(f"/staff/claim-files/{pdf.id}")
    assert downloaded.headers["Content-Disposition"].startswith("attachment")
    assert downloaded.headers["X-Content-Type-Options"] == "nosniff"


def test_the_queue_filters_and_flags_a_duplicate(client: FlaskClient, auth: Auth, db: Session,
                                                 granted: GrantSetup) -> None:
    grant = _receipt_grant(granted)
    submit(db, grant, 5_000, files=[claims.FileInput("a.pdf", "application/pdf", b"%PDF-1.4 same")])
    submit(db, granted.grants[2], 6_000, files=[claims.FileInput("b.pdf", "application/pdf", b"%PDF-1.4 same")])
    db.commit()
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/claims?round={granted.round.id}&waiting=us")
    assert page.status_code == 200 and "2 " in page.text
    assert page.text.count("samme fil") + page.text.count("same file") >= 2
    assert client.get("/staff/claims?round=abc&status=nonsense&page=-3").status_code == 200


def test_staff_grant_page_hold_resume_stop_and_money_back_in_the_pot(
        client: FlaskClient, auth: Auth, db: Session, granted: GrantSetup, instance_path: Path) -> None:
    grant = _receipt_grant(granted)
    auth.login(Role.CASEWORKER)
    assert client.get(f"/staff/grants/{grant.id}").status_code == 200
    assert client.post(f"/staff/grants/{grant.id}/hold", data={"hold-reason": ""}).status_code == 400
    assert client.post(f"/staff/grants/{grant.id}/hold", data={"hold-reason": "Vi mangler regnskab"}).status_code == 303
    assert client.post(f"/staff/grants/{grant.id}/resume").status_code == 303
    assert client.get(f"/staff/grants/{grant.id}/stop").status_code == 200
    assert client.post(f"/staff/grants/{grant.id}/stop", data={"reason": ""}).status_code == 400
    assert client.post(f"/staff/grants/{grant.id}/stop", data={"reason": "Projektet er aflyst"}).status_code == 303
    db.expire_all()
    stopped = db.get(Grant, grant.id)
    assert stopped is not None and stopped.status is GrantStatus.STOPPED and stopped.released_ore == 950_000
    pot = client.get(f"/staff/rounds/{granted.round.id}/grants").text
    assert "9.500 kr." in pot
    assert any("Projektet er aflyst" in body(m) for m in outbox(instance_path))


def test_staff_records_paper_conditions_repayment_and_books_a_talk(
        client: FlaskClient, auth: Auth, db: Session, instance_path: Path) -> None:
    setup = make_granted_round(db, accept=False)
    grant = setup.grants[1]
    auth.login(Role.CASEWORKER)
    assert client.post(f"/staff/grants/{grant.id}/conditions").status_code == 303
    assert client.post(f"/staff/grants/{grant.id}/follow-up", data={"needed": "1"}).status_code == 303
    at = (dt.datetime.now() + dt.timedelta(days=7)).strftime("%Y-%m-%dT10:00")
    assert client.post(f"/staff/grants/{grant.id}/talks",
                       data={"talk-at": at, "talk-minutes": "45", "talk-place": "Rådhuset"}).status_code == 303
    talk = services.follow_ups_of(db, grant.id)[0]
    invitation = outbox(instance_path)[-1]
    assert str(invitation["Subject"]) == "En samtale om dit projekt" and "Rådhuset" in body(invitation)
    assert [a.get_filename() for a in invitation.iter_attachments()] == ["opfoelgningssamtale.ics"]
    ics = client.get(f"/staff/talks/{talk.id}/talk.ics")
    assert ics.mimetype == "text/calendar" and b"BEGIN:VCALENDAR" in ics.data
    assert client.post(f"/staff/talks/{talk.id}/notes", data={"notes": "God samtale"}).status_code == 303
    db.expire_all()
    assert db.get(Grant, grant.id).conditions_accepted_at is not None  # type: ignore[union-attr]
    assert "God samtale" in client.get(f"/staff/grants/{grant.id}").text
    letter = client.get(f"/staff/grants/{grant.id}/letter.pdf")
    assert letter.status_code == 200 and letter.data.startswith(b"%PDF")


def test_staff_registers_a_paper_claim(client: FlaskClient, auth: Auth, db: Session, granted: GrantSetup) -> None:
    grant = _receipt_grant(granted)
    auth.login(Role.CASEWORKER)
    assert client.get(f"/staff/grants/{grant.id}/paper-claim").status_code == 200
    sent = client.post(f"/staff/grants/{grant.id}/paper-claim", data={
        **_claim_form(grant, kind="invoice", supplier_name="Bauhaus", supplier_cvr="12345678",
                     supplier_address="Skejbyvej 2, 8200 Aarhus N"),
        "files": _files(("scan.pdf", shop_invoice_pdf()))}, content_type="multipart/form-data")
    assert sent.status_code == 303, sent.text
    db.expire_all()
    claim = db.scalars(select(ExpenseClaim).where(ExpenseClaim.grant_id == grant.id)).one()
    assert claim.on_paper and claim.supplier_cvr == "12345678"
    assert claim.supplier_address == "Skejbyvej 2, 8200 Aarhus N"
    assert "Skejbyvej 2, 8200 Aarhus N" in client.get(f"/staff/claims/{claim.id}").text


def test_payout_batch_export_zip_and_paid(client: FlaskClient, auth: Auth, db: Session, granted: GrantSetup,
                                          instance_path: Path) -> None:
    grant = _receipt_grant(granted)
    claim = submit(db, grant, 20_000, files=[claims.FileInput("k.jpg", "image/jpeg", image_bytes())]).claim
    claims.decide_claim(db, STAFF, claim.id, claims.Decision.APPROVE, LATER + dt.timedelta(hours=2))
    db.commit()
    auth.login(Role.CASEWORKER)
    assert client.get(f"/staff/rounds/{granted.round.id}/payouts").status_code == 200
    created = client.post(f"/staff/rounds/{granted.round.id}/payouts")
    assert created.status_code == 303
    batch_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert client.get(f"/staff/payouts/{batch_id}").status_code == 200
    assert client.get(f"/staff/payouts/{batch_id}/export").status_code == 200
    exported = client.post(f"/staff/payouts/{batch_id}/export")
    assert exported.mimetype == "text/csv" and "Beløb" in exported.data.decode("utf-8-sig")
    assert exported.headers["Content-Disposition"].startswith("attachment")
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/staff/payouts/{batch_id}/receipts.zip").data))
    assert archive.namelist() == [f"claim-{claim.id}-1.jpg"]
    assert archive.infolist()[0].compress_type == zipfile.ZIP_STORED  # a JPEG does not deflate: no CPU spent on it
    assert archive.read(archive.namelist()[0])[:3] == b"\xff\xd8\xff"
    assert client.get(f"/staff/payouts/{batch_id}/paid").status_code == 200
    assert client.post(f"/staff/payouts/{batch_id}/paid").status_code == 303
    db.expire_all()
    assert batches.get_batch(db, batch_id).status is BatchStatus.PAID
    assert sum("200 kr." in body(m) for m in outbox(instance_path)) == 1
    again = client.post(f"/staff/payouts/{batch_id}/paid", follow_redirects=True)  # a second click
    assert again.status_code == 200
    assert sum("200 kr." in body(m) for m in outbox(instance_path)) == 1  # one e-mail per grantee, not two


def test_make_grants_from_the_frozen_result(client: FlaskClient, auth: Auth, db: Session) -> None:
    from deltager import road
    from tests.voting.factories import NOW, cast_ballots, make_vote_meeting

    setup = make_vote_meeting(db, open_vote=True, min_choices=1, max_choices=6)
    cast_ballots(db, setup, [setup.ids] * 3)
    road.close_vote(db, STAFF, setup.meeting.id, NOW)
    db.commit()
    auth.login(Role.CASEWORKER)
    confirm = client.get(f"/staff/rounds/{setup.round.id}/grants/make")
    assert confirm.status_code == 200 and "<form" in confirm.text
    assert client.post(f"/staff/rounds/{setup.round.id}/grants/make").status_code == 303
    assert len(services.grants_of_round(db, setup.round.id)) == 4
    assert client.get(f"/staff/rounds/{setup.round.id}/grants").status_code == 200


def test_grant_from_the_pot_after_a_stop(client: FlaskClient, auth: Auth, db: Session, granted: GrantSetup) -> None:
    services.stop_grant(db, STAFF, granted.grants[3].id, "Aflyst", LATER)
    db.commit()
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/rounds/{granted.round.id}/grants/from-pot")
    assert page.status_code == 200
    status = services.pot_status(db, granted.round.id, granted.round.pot_ore, [])
    assert status.left_ore >= 18_500_00
    from deltager import road

    nxt = road.pot_status(db, granted.round.id).next_fundable
    assert nxt is not None
    done = client.post(f"/staff/rounds/{granted.round.id}/grants/from-pot", data={"application_id": str(nxt.application_id)})
    assert done.status_code == 303 and "/staff/grants/" in done.headers["Location"]


def test_viewer_reads_but_decides_nothing(client: FlaskClient, auth: Auth, db: Session,
                                          granted: GrantSetup) -> None:
    grant = _receipt_grant(granted)
    claim = submit(db, grant, 5_000).claim
    db.commit()
    auth.login(Role.VIEWER)
    page = client.get(f"/staff/grants/{grant.id}")
    assert page.status_code == 200 and "/hold" not in page.text
    assert client.get(f"/staff/claims/{claim.id}").status_code == 200
    assert "decision" not in client.get(f"/staff/claims/{claim.id}").text.split("<h2>")[-2]
    assert client.post(f"/staff/claims/{claim.id}/decision", data={"decision": "approve"}).status_code == 403
    assert client.post(f"/staff/grants/{grant.id}/hold", data={"hold-reason": "x"}).status_code == 403


def test_an_association_is_paid_up_front(client: FlaskClient, auth: Auth, db: Session) -> None:
    from deltager import road
    from tests.voting.factories import NOW, cast_ballots, make_vote_meeting

    setup = make_vote_meeting(db, open_vote=True, min_choices=1, max_choices=6)
    association = min(setup.projects, key=lambda p: p.requested_ore)
    association.applicant_type, association.association_name, association.cvr = (
        ApplicantType.ASSOCIATION, "Strikkeforeningen", "12345678")
    db.flush()
    cast_ballots(db, setup, [setup.ids] * 3)
    road.close_vote(db, STAFF, setup.meeting.id, NOW)
    db.commit()
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/rounds/{setup.round.id}/grants/make").text
    assert f'name="upfront" value="{association.id}"' in page
    assert client.post(f"/staff/rounds/{setup.round.id}/grants/make",
                       data={"upfront": str(association.id)}).status_code == 303
    grant = next(g for g in services.grants_of_round(db, setup.round.id) if g.application_id == association.id)
    assert grant.payout_mode.value == "upfront"
    services.accept_conditions(db, STAFF, grant.id, ConditionsChannel.PAPER, LATER)
    db.commit()
    assert client.post(f"/staff/grants/{grant.id}/upfront").status_code == 303
    db.expire_all()
    assert db.get(Grant, grant.id).approved_ore == grant.amount_ore  # type: ignore[union-attr]
    other = next(g for g in services.grants_of_round(db, setup.round.id) if g.application_id != association.id)
    assert client.post(f"/staff/grants/{other.id}/payout-mode", data={"mode": "upfront"}).status_code == 303
    db.expire_all()
    assert db.get(Grant, other.id).payout_mode.value == "receipts"  # type: ignore[union-attr]  # a private person


def test_every_decision_and_a_hold_e_mail_the_grantee_in_danish(
        client: FlaskClient, auth: Auth, db: Session, granted: GrantSetup, instance_path: Path) -> None:
    grant = _receipt_grant(granted)
    ids = [submit(db, grant, amount).claim.id for amount in (1_000, 2_000, 3_000)]
    db.commit()
    auth.login(Role.CASEWORKER)
    for claim_id, data in zip(ids, ({"decision": "approve"}, {"decision": "reject", "reason": "Ikke i budgettet"},
                                    {"decision": "ask_info", "reason": "Send bonen"})):
        assert client.post(f"/staff/claims/{claim_id}/decision", data=data).status_code == 303
    assert client.post(f"/staff/grants/{grant.id}/hold", data={"hold-reason": "Vi mangler svar"}).status_code == 303
    subjects = [str(m["Subject"]) for m in outbox(instance_path)]
    assert subjects == ["Din kvittering er godkendt", "Din kvittering blev ikke godkendt",
                        "Vi har brug for mere om din kvittering", "Din bevilling er sat på pause"]
    texts = "\n".join(body(m) for m in outbox(instance_path))
    assert "Ikke i budgettet" in texts and "Send bonen" in texts and "Vi mangler svar" in texts
    assert f"/apply/{grant.application_id}/grant" in texts


def test_a_batch_zip_too_large_for_memory_is_refused_with_a_message(
        client: FlaskClient, auth: Auth, db: Session, granted: GrantSetup, monkeypatch: pytest.MonkeyPatch) -> None:
    from deltager.grants import views

    grant = _receipt_grant(granted)
    claim = submit(db, grant, 20_000).claim
    claims.decide_claim(db, STAFF, claim.id, claims.Decision.APPROVE, LATER + dt.timedelta(hours=2))
    batch = batches.create_batch(db, STAFF, granted.round.id, LATER + dt.timedelta(hours=3))
    db.commit()
    monkeypatch.setattr(views, "ZIP_LIMIT_BYTES", 1)
    auth.login(Role.CASEWORKER)
    response = client.get(f"/staff/payouts/{batch.id}/receipts.zip")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/payouts/{batch.id}")
    assert "for meget" in client.get(response.headers["Location"]).text


def test_making_grants_emails_each_grantee_the_grant_letter(client: FlaskClient, auth: Auth, db: Session,
                                                            instance_path: Path) -> None:
    from deltager import road
    from tests.voting.factories import NOW, cast_ballots, make_vote_meeting

    setup = make_vote_meeting(db, open_vote=True, min_choices=1, max_choices=6)
    cast_ballots(db, setup, [setup.ids] * 3)
    road.close_vote(db, STAFF, setup.meeting.id, NOW)
    no_mail = citizens.create_applicant_without_email(db, NOW)
    cheapest = min(setup.projects, key=lambda p: p.requested_ore)
    cheapest.applicant_id, cheapest.contact_phone = no_mail.id, "20 30 40 50"
    db.commit()
    auth.login(Role.CASEWORKER)
    done = client.post(f"/staff/rounds/{setup.round.id}/grants/make", follow_redirects=True)
    assert done.status_code == 200
    grants = services.grants_of_round(db, setup.round.id)
    letters = [m for m in outbox(instance_path) if m["Subject"] in ("Du har fået en bevilling", "You have got a grant")]
    assert len(letters) == len(grants) - 1  # not the grantee without e-mail
    for grant in grants:
        if grant.application_id != cheapest.id:
            assert any(f"/apply/{grant.application_id}/grant" in body(m) and format_ore(grant.amount_ore) in body(m)
                       and "http" in body(m) for m in letters)
    letter = letters[0]
    pdfs = [part for part in letter.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_content()[:5] == b"%PDF-"
    assert "20 30 40 50" in done.text  # staff are told to send it by post or phone


def test_a_grantee_without_email_is_not_said_to_be_told(client: FlaskClient, auth: Auth, db: Session,
                                                        granted: GrantSetup, instance_path: Path) -> None:
    grant = _receipt_grant(granted)
    application = db.get(Application, grant.application_id)
    assert application is not None
    application.applicant_id = citizens.create_applicant_without_email(db, LATER).id
    application.contact_phone, application.contact_address = "20 30 40 50", "Byvej 3, 8000 Aarhus C"
    claim = submit(db, grant, 5_000).claim
    db.commit()
    auth.login(Role.CASEWORKER)
    decided = client.post(f"/staff/claims/{claim.id}/decision", data={"decision": "approve"}, follow_redirects=True)
    assert "20 30 40 50" in decided.text and "Byvej 3, 8000 Aarhus C" in decided.text
    assert "har fået besked" not in decided.text and "has been told" not in decided.text
    held = client.post(f"/staff/grants/{grant.id}/hold", data={"hold-reason": "Mangler regnskab"},
                       follow_redirects=True)
    assert "20 30 40 50" in held.text and "har fået besked" not in held.text and "has been told" not in held.text
    assert outbox(instance_path) == []
    told = granted.grants[2]  # a grantee with an e-mail address
    said = client.post(f"/staff/grants/{told.id}/hold", data={"hold-reason": "Mangler regnskab"},
                       follow_redirects=True)
    assert "20 30 40 50" not in said.text and len(outbox(instance_path)) == 1


def test_stop_page_lets_the_caseworker_choose(client: FlaskClient, auth: Auth, db: Session, granted: GrantSetup,
                                               instance_path: Path) -> None:
    grant = _receipt_grant(granted)
    claim = submit(db, grant, 100_000).claim
    claims.decide_claim(db, STAFF, claim.id, claims.Decision.APPROVE, LATER + dt.timedelta(hours=2))
    db.commit()
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/grants/{grant.id}/stop")
    assert page.status_code == 200 and 'type="radio"' in page.text and "1.000 kr." in page.text
    assert 'value="withdraw" checked' in page.text  # the default: everything unpaid goes back
    stopped = client.post(f"/staff/grants/{grant.id}/stop", data={"reason": "Aflyst", "approved": "withdraw"})
    assert stopped.status_code == 303
    db.expire_all()
    assert db.get(ExpenseClaim, claim.id).status is ClaimStatus.REJECTED  # type: ignore[union-attr]
    assert any("1.000 kr." in body(m) for m in outbox(instance_path))
    other = granted.grants[2]
    kept = submit(db, other, 50_000).claim
    claims.decide_claim(db, STAFF, kept.id, claims.Decision.APPROVE, LATER + dt.timedelta(hours=2))
    db.commit()
    assert client.post(f"/staff/grants/{other.id}/stop", data={"reason": "Aflyst", "approved": "pay"}).status_code == 303
    db.expire_all()
    assert db.get(ExpenseClaim, kept.id).status is ClaimStatus.APPROVED  # type: ignore[union-attr]


def test_three_big_phone_photos_are_judged_file_by_file_not_refused_whole(client: FlaskClient, db: Session,
                                                                          granted: GrantSetup, app: Flask) -> None:
    """A receipt form may carry five files of up to 10 MB: the request limit leaves room for them,
    so each file gets its own clear message and the form keeps what was typed (a bare "too large"
    page would lose it)."""
    for policy in (uploads.PHOTO, uploads.RECEIPT):
        assert policy.max_files * policy.max_bytes < app.config["MAX_CONTENT_LENGTH"]
    grant = _receipt_grant(granted)
    application = _grantee(db, grant, client)
    big = b"\xff\xd8\xff\xe0" + bytes(6 * 1024 * 1024)  # 6 MB that begin like a JPEG and are not one
    fields = MultiDict(_claim_form(grant, description="Maling og pensler"))
    for n in (1, 2, 3):
        fields.add("files", FileStorage(io.BytesIO(big), f"IMG_{n}.jpg", content_type="image/jpeg"))
    boundary, body = encode_multipart(fields)  # in memory: the test client would spool 18 MB to a file it never closes
    response = client.post(f"/apply/{application.id}/grant/receipt", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    assert "Filen kunne ikke læses" in response.text and "Maling og pensler" in response.text
    assert not db.scalars(select(ExpenseClaim).where(ExpenseClaim.grant_id == grant.id)).all()


def test_the_same_photo_sent_twice_is_flagged_by_the_file_as_it_was_sent(client: FlaskClient, db: Session,
                                                                         granted: GrantSetup) -> None:
    """Through the real upload path: the fingerprint is the sent file's, not the re-encoded copy's
    (which could change with the imaging library and hide a receipt sent twice)."""
    grant = _receipt_grant(granted)
    application = _grantee(db, grant, client)
    photo = image_bytes()
    for what in ("Maling", "Pensler"):
        sent = client.post(f"/apply/{application.id}/grant/receipt", data={
            **_claim_form(grant, amount="100", description=what), "files": _files(("IMG_7.jpg", photo))},
            content_type="multipart/form-data")
        assert sent.status_code == 303, sent.text
    db.expire_all()
    first, second = db.scalars(select(ExpenseClaim).where(ExpenseClaim.grant_id == grant.id).order_by(ExpenseClaim.id))
    assert first.files[0].sha256 == hashlib.sha256(photo).hexdigest() != hashlib.sha256(first.files[0].content).hexdigest()
    assert claims.ClaimFlag.SAME_FILE in claims.claim_flags(db, second)


def test_an_association_paid_up_front_is_told_how_to_send_its_final_account(
        client: FlaskClient, db: Session, granted: GrantSetup) -> None:
    """No receipts for a grant paid up front: its page says when and to whom the final account goes."""
    association = granted.grants[0]  # the cheapest project is the association's
    services.set_payout_mode(db, STAFF, association.id, PayoutMode.UPFRONT, LATER)
    db.commit()
    application = _grantee(db, association, client)
    page = client.get(f"/apply/{application.id}/grant").text
    assert "Jeres regnskab" in page and letter_contact(client.application.config) in page
    assert f"/apply/{application.id}/grant/receipt" not in page
    assert f"senest {association.deadline.day}." in page and str(association.deadline.year) in page
