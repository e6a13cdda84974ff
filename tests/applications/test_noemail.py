"""People without e-mail: staff register them by phone or address, print a receipt with a reference and
a personal code, the citizen sees the application with the pair, and caseworkers see whom to phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager import road
from deltager.applications import services
from deltager.citizens import codes
from deltager.citizens.auth import SESSION_KEY
from deltager.applications.models import Applicant, Application, ApplicationStatus
from deltager.audit.models import AuditEvent
from deltager.db import utcnow
from deltager.errors import NotAllowed, Throttled
from deltager.permissions import Role
from deltager.citizens import services as citizens
from tests.applications.conftest import outbox
from tests.applications.factories import STAFF, complete_input, make_application, open_round, sign_in_link, tick
from tests.applications.test_views import form_data
from tests.conftest import Auth
from tests.pdf.poppler import pdf_text

S = ApplicationStatus


def no_email_application(session: Session, status: S = S.SUBMITTED, **overrides: object) -> Application:
    """An application staff registered for a citizen without e-mail, reached by phone."""
    round_ = open_round(session)
    applicant = citizens.create_applicant_without_email(session, utcnow())
    values = {"contact_phone": "20 30 40 50", **overrides}
    application = services.create_draft(session, STAFF, applicant, round_.id, complete_input(**values), utcnow())
    if status is not S.DRAFT:
        services.submit(session, STAFF, application.id, utcnow())
    session.commit()
    return application


def issue(session: Session, application: Application) -> str:
    code = codes.issue_code(session, STAFF, application, utcnow())
    session.commit()
    return code


def post_code(client: FlaskClient, reference: str, code: str) -> object:
    return client.post("/apply/code", data={"reference": reference, "code": code})


# --- services -------------------------------------------------------------------------------------


def test_a_phone_number_or_an_address_is_enough_without_e_mail(session: Session) -> None:
    by_address = no_email_application(session, contact_phone="", contact_address="Gudrunsvej 10, 8220 Brabrand")
    assert by_address.status is S.SUBMITTED and by_address.applicant.email is None
    nothing = no_email_application(session, S.DRAFT, contact_phone="", contact_address="")
    with pytest.raises(services.IncompleteApplication) as raised:
        services.submit(session, STAFF, nothing.id, utcnow())
    assert [p.field for p in raised.value.problems] == ["contact_phone"]
    assert "phone number or a postal address" in raised.value.problems[0].message


def test_a_citizen_with_e_mail_still_gives_a_phone_number(session: Session) -> None:
    application = make_application(session, S.DRAFT, contact_phone="", contact_address="Gudrunsvej 10")
    with pytest.raises(services.IncompleteApplication) as raised:
        services.submit(session, STAFF, application.id, utcnow())
    assert [p.field for p in raised.value.problems] == ["contact_phone"]


def test_codes_are_short_unambiguous_and_stored_only_as_a_hash(session: Session) -> None:
    application = no_email_application(session)
    code = issue(session, application)
    assert len(code) == 10 and set(code) <= set(codes.ALPHABET) and not set(code) & set("0O1IL")
    assert application.access_code_hash and code not in application.access_code_hash
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "application.access_code")).one()
    assert code not in str(event.after) and event.after == {"replaced_earlier_code": False}
    reference = codes.reference(application)
    assert codes.check_code(session, reference, code) is not None
    # Typed as people type it: small letters, the printed dash, spaces; the reference without its zeros.
    assert codes.check_code(session, f"a-{application.id}", " " + codes.format_code(code).lower()) is not None


def test_a_new_code_makes_the_old_one_stop_working(session: Session) -> None:
    application = no_email_application(session)
    old = issue(session, application)
    new = issue(session, application)
    reference = codes.reference(application)
    assert codes.check_code(session, reference, old) is None
    assert codes.check_code(session, reference, new) is not None
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "application.access_code")
                             .order_by(AuditEvent.id)).all()
    assert [e.after["replaced_earlier_code"] for e in events] == [False, True]


def test_a_code_for_one_application_never_opens_another(session: Session) -> None:
    a, b = no_email_application(session), no_email_application(session)
    code_a = issue(session, a)
    issue(session, b)
    assert codes.check_code(session, codes.reference(b), code_a) is None
    assert codes.check_code(session, codes.reference(a), code_a) == (a.id, a.access_code_hash)
    assert codes.check_code(session, "A-999999", code_a) is None
    assert codes.check_code(session, "not a reference", code_a) is None


def test_an_application_without_a_code_cannot_be_opened(session: Session) -> None:
    application = no_email_application(session)
    assert application.access_code_hash is None
    assert codes.check_code(session, codes.reference(application), "") is None


def test_wrong_pairs_are_counted_per_client(session: Session) -> None:
    now = utcnow()
    for _ in range(3):
        with pytest.raises(NotAllowed):
            codes.sign_in_with_code(session, None, "10.0.0.9", now, window_seconds=900, language="da")
    with pytest.raises(Throttled):
        codes.refuse_if_throttled(session, "10.0.0.9", now, limit=3, window_seconds=900)
    codes.refuse_if_throttled(session, "10.0.0.10", now, limit=3, window_seconds=900)  # another client


def test_a_decision_without_e_mail_is_owed_by_phone_until_marked_done(session: Session) -> None:
    application = no_email_application(session)
    tick(session, application.id)
    road.decide(session, STAFF, application.id, S.ON_BALLOT, "", utcnow())
    session.commit()
    assert application.contact_pending == "decision:on_ballot"
    rows, total = services.screening_queue(session, application.round_id, no_email=True)
    assert total == 1 and rows == [application]
    services.mark_contacted(session, STAFF, application.id, utcnow())
    session.commit()
    assert application.contact_pending is None
    with pytest.raises(NotAllowed):
        services.mark_contacted(session, STAFF, application.id, utcnow())
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "application.contacted")).one()


def test_the_no_e_mail_list_holds_only_applicants_without_e_mail(session: Session) -> None:
    with_email = make_application(session, S.SUBMITTED)
    applicant = citizens.create_applicant_without_email(session, utcnow())
    draft = services.create_draft(session, STAFF, applicant, with_email.round_id, complete_input(), utcnow())
    session.commit()
    rows, total = services.screening_queue(session, with_email.round_id, no_email=True)
    assert total == 1 and rows == [draft]  # drafts too: staff registered them and may need to call
    assert services.count_without_email(session, with_email.round_id) == 1
    rows, _total = services.screening_queue(session, with_email.round_id)
    assert rows == [with_email]


# --- views: staff -----------------------------------------------------------------------------------


def test_staff_register_an_application_without_e_mail(client: FlaskClient, session: Session, auth: Auth,
                                                      instance_path: Path, tmp_path: Path) -> None:
    round_ = open_round(session)
    auth.login(Role.MEETING_STAFF)
    response = client.post(f"/staff/rounds/{round_.id}/applications/new",
                           data=form_data(applicant_email="", contact_phone="", contact_address="Gudrunsvej 10"))
    application = session.scalars(select(Application).where(Application.round_id == round_.id)).one()
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/applications/{application.id}/receipt")
    assert application.status is S.SUBMITTED and application.applicant.email is None
    assert outbox(instance_path) == []  # no mail to an empty address
    page = client.get(f"/staff/applications/{application.id}/receipt")
    assert page.status_code == 200 and codes.reference(application) in page.get_data(as_text=True)
    pdf = client.post(f"/staff/applications/{application.id}/receipt")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(pdf_text(pdf.get_data(), tmp_path).split())
    assert "Kvittering for din ansøgning" in text and codes.reference(application) in text
    assert "Strikkeklub på biblioteket" in text and "Sendt — venter på kommunen" in text
    code = re.search(r"Personlig kode ([A-Z2-9]{5}-[A-Z2-9]{5})", text)
    assert code is not None
    assert "/apply/code" in text
    session.refresh(application)
    assert codes.check_code(session, codes.reference(application), code.group(1)) is not None


def test_staff_without_a_phone_or_address_are_asked_for_one(client: FlaskClient, session: Session, auth: Auth) -> None:
    round_ = open_round(session)
    auth.login(Role.MEETING_STAFF)
    response = client.post(f"/staff/rounds/{round_.id}/applications/new",
                           data=form_data(applicant_email="", contact_phone="", contact_address=""))
    assert response.status_code == 400
    assert "skriv et telefonnummer eller en postadresse" in response.get_data(as_text=True)


@pytest.mark.parametrize(("role", "own", "allowed"), [
    (Role.ADMIN, False, True), (Role.CASEWORKER, False, True), (Role.MEETING_STAFF, True, True),
    (Role.MEETING_STAFF, False, False), (Role.VIEWER, False, False),
])
def test_who_may_print_a_receipt_and_issue_a_code(client: FlaskClient, session: Session, auth: Auth,
                                                  role: Role, own: bool, allowed: bool) -> None:
    application = no_email_application(session)
    user = auth.login(role)
    if own:
        application.created_by_user_id = user.id
        session.commit()
    status = 200 if allowed else 403
    assert client.get(f"/staff/applications/{application.id}/receipt").status_code == status
    assert client.post(f"/staff/applications/{application.id}/receipt").status_code == status
    session.refresh(application)
    assert (application.access_code_hash is not None) is allowed


def test_anonymous_and_applicants_cannot_print_a_receipt(client: FlaskClient, session: Session) -> None:
    application = no_email_application(session)
    response = client.post(f"/staff/applications/{application.id}/receipt")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
    session.refresh(application)
    assert application.access_code_hash is None


def test_a_decision_for_someone_without_e_mail_asks_staff_to_phone(client: FlaskClient, session: Session,
                                                                   auth: Auth, instance_path: Path) -> None:
    application = no_email_application(session, contact_phone="20 30 40 50")
    auth.login(Role.CASEWORKER)
    response = client.post(f"/staff/applications/{application.id}/decision",
                           data={"decision": "needs_info", "message": "Hvornår starter I?"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and outbox(instance_path) == []
    assert "Ansøgeren har ingen e-mailadresse" in page and "Skal ringes eller skrives til" not in page
    assert "Ingen e-mail: ring eller skriv til ansøgeren" in page and "20 30 40 50" in page
    assert "Fortæl: vi har brug for flere oplysninger" in page
    queue = client.get(f"/staff/rounds/{application.round_id}/applications?no_email=1").get_data(as_text=True)
    assert "Skal ringes eller skrives til" in queue and application.title in queue
    assert client.post(f"/staff/applications/{application.id}/contacted").status_code == 303
    session.refresh(application)
    assert application.contact_pending is None


def test_meeting_staff_cannot_mark_a_contact_done(client: FlaskClient, session: Session, auth: Auth) -> None:
    application = no_email_application(session)
    application.contact_pending = "decision:rejected"
    session.commit()
    auth.login(Role.MEETING_STAFF)
    assert client.post(f"/staff/applications/{application.id}/contacted").status_code == 403


# --- views: the citizen ----------------------------------------------------------------------------


def test_reference_and_code_sign_the_citizen_in_to_the_application(client: FlaskClient, session: Session) -> None:
    application = no_email_application(session)
    code = issue(session, application)
    page = client.get("/apply/code")
    assert page.status_code == 200 and "Se din ansøgning" in page.get_data(as_text=True)
    response = post_code(client, codes.reference(application).lower(), codes.format_code(code))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/apply/{application.id}")
    with client.session_transaction() as flask_session:
        assert flask_session[SESSION_KEY] == citizens.session_value(application.applicant)
    status = client.get(f"/apply/{application.id}")
    assert status.status_code == 200 and application.title in status.get_data(as_text=True)
    signed_in = session.scalars(select(AuditEvent).where(AuditEvent.action == "applicant.sign_in")).one()
    assert signed_in.after == {"with": "reference_and_code", "application": application.id}


def test_a_code_for_a_never_opens_b(client: FlaskClient, session: Session) -> None:
    a, b = no_email_application(session), no_email_application(session, title="Fællesspisning")
    code_a = issue(session, a)
    issue(session, b)
    response = post_code(client, codes.reference(b), code_a)
    assert response.status_code == 400
    assert "Referencen eller koden er ikke rigtig" in response.get_data(as_text=True)
    with client.session_transaction() as flask_session:
        assert SESSION_KEY not in flask_session
    assert client.get(f"/apply/{b.id}").status_code in (302, 303)


def test_wrong_codes_are_rate_limited_per_client(app: Flask, client: FlaskClient, session: Session) -> None:
    app.config["CODE_SIGN_IN_ATTEMPTS_PER_CLIENT"] = 2
    application = no_email_application(session)
    code = issue(session, application)
    for _ in range(2):
        assert post_code(client, codes.reference(application), "AAAAAAAAAA").status_code == 400
    refused = post_code(client, codes.reference(application), code)
    assert refused.status_code == 429 and "For mange forkerte koder" in refused.get_data(as_text=True)
    assert refused.get_data(as_text=True).count('value="' + codes.reference(application)) == 1  # form keeps values
    other = client.post("/apply/code", data={"reference": codes.reference(application), "code": code},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 303  # another client (at a help meeting, the room's address is one)


def test_empty_fields_get_a_clear_message(client: FlaskClient) -> None:
    response = client.post("/apply/code", data={"reference": "", "code": ""})
    assert response.status_code == 400 and "Dette felt skal udfyldes" in response.get_data(as_text=True)


# --- the e-mailed sign-in leads to the application ------------------------------------------------


def test_the_sign_in_link_leads_straight_to_the_latest_application(client: FlaskClient, session: Session,
                                                                   instance_path: Path) -> None:
    application = make_application(session, S.SUBMITTED)
    email = application.applicant.email
    assert client.post("/apply/sign-in", data={"email": email}).status_code == 200
    [mail] = outbox(instance_path)
    link = re.search(r"http://\S+/apply/sign-in/\S+", mail.get_body(("plain",)).get_content()).group(0)  # type: ignore[union-attr]
    path = link.split("://", 1)[1].split("/", 1)[1]
    confirm = client.get("/" + path)
    assert confirm.status_code == 200 and "<form method=\"post\"" in confirm.get_data(as_text=True)
    response = client.post("/" + path)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/apply/{application.id}")


def test_a_new_applicant_s_link_leads_to_the_list(client: FlaskClient, session: Session,
                                                  instance_path: Path) -> None:
    applicant, token = sign_in_link(session, "ny@example.dk", utcnow())
    session.commit()
    assert isinstance(applicant, Applicant)
    response = client.post(f"/apply/sign-in/{token}")
    assert response.status_code == 303 and response.headers["Location"].endswith("/apply")


def test_a_citizen_without_e_mail_reads_their_own_pages(client: FlaskClient, session: Session) -> None:
    application = no_email_application(session)
    code = issue(session, application)
    assert post_code(client, codes.reference(application), code).status_code == 303
    mine = client.get("/apply")
    assert mine.status_code == 200 and "Du er logget ind med din reference og personlige kode" in mine.text
    assert "None" not in mine.text
    assert client.get("/meetings/mine").status_code == 200


def test_the_history_names_a_printed_code_in_plain_words(client: FlaskClient, session: Session, auth: Auth) -> None:
    application = no_email_application(session)
    issue(session, application)
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/applications/{application.id}")
    assert page.status_code == 200
    assert "Kvittering udskrevet med ny personlig kode" in page.text and "application.access_code" not in page.text
