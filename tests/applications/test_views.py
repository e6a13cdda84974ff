"""The application pages: the citizen's road, access between applicants, staff screening, the public list."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager.applications import views
from deltager.applications.models import Application, ApplicationStatus, ChildCertificate
from deltager.meetings.models import MeetingKind
from deltager.audit.models import AuditEvent
from deltager.db import utcnow
from deltager.errors import NotAllowed
from deltager.permissions import Role
from deltager.rounds.models import RoundStatus
from deltager.road import transition_round
from tests.applications.conftest import body, outbox, sign_in_as
from tests.applications.factories import (
    a_photo,
    image_bytes,
    make_applicant,
    make_application,
    open_round,
    sign_in_link,
    tick,
)
from tests.conftest import Auth
from tests.meetings.factories import make_meeting
from tests.rounds.factories import TEST_ACTOR

S = ApplicationStatus


def form_data(**overrides: Any) -> dict[str, Any]:
    """A complete application as the browser posts it (6 budget rows, 2 used)."""
    data: dict[str, Any] = {
        "title": "Strikkeklub på biblioteket", "summary": "Vi strikker sammen hver tirsdag.",
        "what": "Strikkeklub med garn og kaffe.", "for_whom": "Ensomme ældre", "where": "Hovedbiblioteket",
        "when": "Tirsdage kl. 14", "applicant_type": "person", "association_name": "", "cvr": "",
        "contact_name": "Grethe Jensen", "contact_phone": "11223344", "contact_address": "",
        "requested": "8.000 kr.", "involves_children": "no", "consent": "y", "action": "submit",
    }
    rows = [("Garn", "6.000"), ("Kaffe", "2.000")] + [("", "")] * 4
    for i, (desc, amount) in enumerate(rows):
        data[f"budget-{i}-description"], data[f"budget-{i}-amount"] = desc, amount
    data.update(overrides)
    return data


def test_applicant_pages_need_sign_in(client: FlaskClient, session: Session) -> None:
    round_ = open_round(session)
    response = client.get(f"/apply/rounds/{round_.id}/new")
    assert response.status_code == 302 and "/apply/sign-in?next=" in response.headers["Location"]


def test_citizen_applies_and_gets_a_receipt(client: FlaskClient, session: Session, instance_path: Path) -> None:
    round_ = open_round(session)
    applicant = make_applicant(session, "grethe@example.dk")
    sign_in_as(client, applicant)
    page = client.get(f"/apply/rounds/{round_.id}/new").get_data(as_text=True)
    assert page.count('name="budget-') == 12  # 6 rows without JavaScript
    response = client.post(f"/apply/rounds/{round_.id}/new", data=form_data(action="save", title="Kladde"))
    assert response.status_code == 303
    application = session.scalars(select(Application).where(Application.applicant_id == applicant.id)).one()
    assert application.status is S.DRAFT and application.title == "Kladde"
    assert [(b.description, b.amount_ore) for b in application.budget_lines] == [("Garn", 6_000_00), ("Kaffe", 2_000_00)]
    response = client.post(f"/apply/{application.id}/edit", data=form_data())
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/apply/{application.id}")
    session.refresh(application)
    assert application.status is S.SUBMITTED and application.requested_ore == 8_000_00
    [receipt] = outbox(instance_path)
    assert receipt["To"] == "grethe@example.dk" and "Kvittering" in receipt["Subject"]
    assert "Strikkeklub på biblioteket" in body(receipt) and "8.000 kr." in body(receipt)
    status_page = client.get(f"/apply/{application.id}").get_data(as_text=True)
    assert "Sendt — venter på kommunen" in status_page
    assert "Strikkeklub på biblioteket" in client.get("/apply").get_data(as_text=True)


def test_incomplete_submission_keeps_the_draft_and_everything_typed(client: FlaskClient, session: Session) -> None:
    round_ = open_round(session)
    applicant = make_applicant(session)
    sign_in_as(client, applicant)
    data = form_data(**{"budget-1-amount": "3.000", "consent": ""})
    del data["consent"]
    response = client.post(f"/apply/rounds/{round_.id}/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Budgetlinjerne giver 9.000 kr." in html and "privatlivserklæringen" in html
    assert 'value="Garn"' in html and 'value="3.000"' in html and "Strikkeklub på biblioteket" in html
    application = session.scalars(select(Application).where(Application.applicant_id == applicant.id)).one()
    assert application.status is S.DRAFT  # saved as a draft, not lost
    assert f'action="/apply/{application.id}/edit"' in html  # sending again does not make a second draft


def test_a_bad_budget_row_is_named_in_the_summary_and_linked(client: FlaskClient, session: Session) -> None:
    round_ = open_round(session)
    sign_in_as(client, make_applicant(session))
    response = client.post(f"/apply/rounds/{round_.id}/new", data=form_data(**{"budget-1-amount": "kaffe"}))
    assert response.status_code == 400
    summary = response.get_data(as_text=True).split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert ('<a href="#budget-1-amount">Budget, linje 2: Skriv beløbet i kroner, for eksempel 25.000 eller 25.000,50.</a>'
            in summary)  # the row's own message, linked to the row's field


def test_submission_after_the_deadline_is_refused(client: FlaskClient, session: Session,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    application = make_application(session, S.DRAFT)
    sign_in_as(client, application.applicant)
    close = application.round.applications_close_at
    monkeypatch.setattr(views, "utcnow", lambda: close + dt.timedelta(minutes=1))
    response = client.post(f"/apply/{application.id}/edit", data=form_data())
    assert response.status_code == 400
    assert "Fristen for ansøgninger er overskredet" in response.get_data(as_text=True)
    session.refresh(application)
    assert application.status is S.DRAFT


def test_needs_info_loop_and_withdraw(client: FlaskClient, session: Session) -> None:
    application = make_application(session, S.NEEDS_INFO)
    sign_in_as(client, application.applicant)
    page = client.get(f"/apply/{application.id}").get_data(as_text=True)
    assert "Hvor skal det foregå?" in page and "Vi mangler flere oplysninger fra dig" in page
    assert client.post(f"/apply/{application.id}/edit", data=form_data(where="Salen")).status_code == 303
    session.refresh(application)
    assert application.status is S.SUBMITTED and application.where == "Salen"
    assert "Vil du trække" in client.get(f"/apply/{application.id}/withdraw").get_data(as_text=True)
    assert client.post(f"/apply/{application.id}/withdraw").status_code == 303
    session.refresh(application)
    assert application.status is S.WITHDRAWN
    # a withdrawn application cannot be edited: the edit page sends you to the status page
    assert client.post(f"/apply/{application.id}/edit", data=form_data()).status_code == 303
    session.refresh(application)
    assert application.status is S.WITHDRAWN


def test_another_applicants_objects_are_not_found(client: FlaskClient, session: Session) -> None:
    round_ = open_round(session)
    victim = make_application(session, S.DRAFT, round_=round_, photo=a_photo())
    submitted = make_application(session, S.NEEDS_INFO, round_=round_, applicant=victim.applicant)
    sign_in_as(client, make_applicant(session))
    for target in (victim, submitted):
        for method, url in [
            ("get", f"/apply/{target.id}"), ("get", f"/apply/{target.id}/edit"),
            ("post", f"/apply/{target.id}/edit"), ("get", f"/apply/{target.id}/withdraw"),
            ("post", f"/apply/{target.id}/withdraw"),
        ]:
            kwargs = {"data": form_data()} if method == "post" else {}
            assert getattr(client, method)(url, **kwargs).status_code == 404, (method, url)
    for url in (f"/applications/{victim.id}/photo.jpg", f"/applications/{victim.id}/thumbnail.jpg"):
        assert client.get(url).status_code == 404
    session.refresh(victim)
    assert victim.status is S.DRAFT and victim.title == "Skraldecafé i Gellerup"


def test_photo_upload_and_access(client: FlaskClient, session: Session, auth: Auth) -> None:
    round_ = open_round(session)
    applicant = make_applicant(session)
    sign_in_as(client, applicant)
    data = form_data(action="save", photo=(io.BytesIO(image_bytes("PNG", exif=False)), "mit billede.png"))
    assert client.post(f"/apply/rounds/{round_.id}/new", data=data, content_type="multipart/form-data").status_code == 303
    application = session.scalars(select(Application).where(Application.applicant_id == applicant.id)).one()
    own = client.get(f"/applications/{application.id}/photo.jpg")
    assert own.status_code == 200 and own.mimetype == "image/jpeg" and own.data.startswith(b"\xff\xd8")
    assert "private" in own.headers["Cache-Control"]
    anonymous = client.application.test_client()
    assert anonymous.get(f"/applications/{application.id}/thumbnail.jpg").status_code == 404
    staff = client.application.test_client()
    Auth(client.application, staff).login(Role.VIEWER)
    assert staff.get(f"/applications/{application.id}/thumbnail.jpg").status_code == 200


def test_photos_of_projects_on_the_ballot_are_public(client: FlaskClient, session: Session) -> None:
    application = make_application(session, S.ON_BALLOT, photo=a_photo())
    response = client.get(f"/applications/{application.id}/thumbnail.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"


def test_bad_photo_keeps_the_text_and_says_choose_again(client: FlaskClient, session: Session) -> None:
    round_ = open_round(session)
    sign_in_as(client, make_applicant(session))
    png_as_jpg = (io.BytesIO(b"GIF89a" + b"\x00" * 50), "billede.jpg")
    response = client.post(f"/apply/rounds/{round_.id}/new", data=form_data(photo=png_as_jpg),
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Billedet kunne ikke læses" in html and "vælge billedet igen" in html
    assert "Strikkeklub på biblioteket" in html and 'value="Garn"' in html


def test_caseworker_screens_and_decides(client: FlaskClient, session: Session, auth: Auth, instance_path: Path) -> None:
    application = make_application(session, S.SUBMITTED)
    make_application(session, S.DRAFT, round_=application.round)
    auth.login(Role.CASEWORKER)
    round_page = client.get(f"/staff/rounds/{application.round_id}").get_data(as_text=True)
    assert f"/staff/rounds/{application.round_id}/applications" in round_page
    queue = client.get(f"/staff/rounds/{application.round_id}/applications").get_data(as_text=True)
    assert "Skraldecafé i Gellerup" in queue and "Kladde (ikke sendt): <strong>1</strong>" in queue
    response = client.post(f"/staff/applications/{application.id}/decision", data={"decision": "on_ballot"})
    assert response.status_code == 303  # refused: the checklist is not ticked
    session.refresh(application)
    assert application.status is S.SUBMITTED
    checklist = {"fits_theme": "yes", "budget_plausible": "yes", "eligible_applicant": "yes",
                 "child_certificate": "not_needed", "screening_notes": "Godt projekt"}
    assert client.post(f"/staff/applications/{application.id}/screening", data=checklist).status_code == 303
    make_meeting(session, application.round, kind=MeetingKind.VOTE, title="Afstemningsmøde", place="Salen",
                 address="Gudrunsvej 10", starts_at=dt.datetime(2027, 2, 15, 16, 0, tzinfo=dt.UTC),
                 ends_at=dt.datetime(2027, 2, 15, 19, 0, tzinfo=dt.UTC))
    response = client.post(f"/staff/applications/{application.id}/decision", data={"decision": "on_ballot"})
    assert response.status_code == 303
    session.refresh(application)
    assert application.status is S.ON_BALLOT and application.stand_number == 1
    [mail] = outbox(instance_path)
    assert mail["To"] == application.applicant.email and "stemmesedlen" in mail["Subject"]
    # Where and when to come with the stand: the voting meeting's own time and place.
    assert "Afstemningsmødet er 15. februar 2027 kl. 17:00. Sted: Salen, Gudrunsvej 10." in body(mail)
    assert "til afstemningsmødet den" not in body(mail)  # the meeting's own date, not the round's plan
    assert "Din stand har nummer 1." in body(mail)


def test_an_unanswered_request_for_information_can_be_rejected(
    client: FlaskClient, session: Session, auth: Auth, instance_path: Path
) -> None:
    application = make_application(session, S.NEEDS_INFO)
    round_id = application.round_id
    transition_round(session, TEST_ACTOR, round_id, RoundStatus.SCREENING)
    session.commit()
    with pytest.raises(NotAllowed, match=r"await a decision \(1\)"):  # no answer would ever come
        transition_round(session, TEST_ACTOR, round_id, RoundStatus.VOTING)
    session.rollback()
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/applications/{application.id}").get_data(as_text=True)
    assert "Afvis ansøgningen" in page and 'value="on_ballot"' not in page
    without_reason = client.post(f"/staff/applications/{application.id}/decision", data={"decision": "rejected"})
    assert without_reason.status_code == 400 and "Afvis ansøgningen" in without_reason.get_data(as_text=True)
    response = client.post(f"/staff/applications/{application.id}/decision",
                           data={"decision": "rejected", "message": "Vi fik ikke svar inden fristen."})
    assert response.status_code == 303
    session.refresh(application)
    assert application.status is S.REJECTED and application.rejection_reason == "Vi fik ikke svar inden fristen."
    [mail] = outbox(instance_path)
    assert mail["To"] == application.applicant.email and "Vi fik ikke svar inden fristen." in body(mail)
    transition_round(session, TEST_ACTOR, round_id, RoundStatus.VOTING)
    assert application.round.status is RoundStatus.VOTING


def test_history_reads_in_plain_words(client: FlaskClient, session: Session, auth: Auth) -> None:
    """The caseworker's history names actions, fields and statuses in Danish, never their codes."""
    application = make_application(session, S.SUBMITTED)
    auth.login(Role.CASEWORKER)
    checklist = {"fits_theme": "yes", "budget_plausible": "yes", "eligible_applicant": "yes",
                 "child_certificate": "not_needed", "screening_notes": ""}
    assert client.post(f"/staff/applications/{application.id}/screening", data=checklist).status_code == 303
    assert client.post(f"/staff/applications/{application.id}/decision", data={"decision": "on_ballot"}).status_code == 303

    page = client.get(f"/staff/applications/{application.id}").get_data(as_text=True)
    history = re.sub(r"\s+", " ", page[page.index("<h2>Historik</h2>"):])
    assert "Tjekliste opdateret" in history and "Afgørelse truffet" in history
    assert "Passer til temaet: — → Ja" in history
    assert "Børneattest: Ikke vurderet endnu → Ikke nødvendig" in history
    assert "Status: Sendt — afventer afgørelse → På stemmesedlen" in history  # staff wording
    assert "Standnummer: — → 1" in history
    for code in ("application.decision", "on_ballot", "submitted", "fits_theme", "True"):
        assert code not in history


def test_a_refused_move_names_the_statuses_in_plain_words(
    client: FlaskClient, session: Session, auth: Auth
) -> None:
    """A stale form (the application was rejected meanwhile) gets a message in words, not codes."""
    application = make_application(session, S.REJECTED)
    auth.login(Role.CASEWORKER)
    response = client.post(f"/staff/applications/{application.id}/decision",
                           data={"decision": "needs_info", "message": "Hvornår starter I?"}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "En ansøgning kan ikke gå fra „Afvist“ til „Vi mangler flere oplysninger fra dig“." in text
    session.refresh(application)
    assert application.status is S.REJECTED


def test_decision_mail_is_danish_when_staff_read_english(
    client: FlaskClient, session: Session, auth: Auth, instance_path: Path
) -> None:
    """The page answers in the caseworker's language; the applicant's e-mail is Danish."""
    application = make_application(session, S.SUBMITTED)
    auth.login(Role.CASEWORKER)
    client.set_cookie("lang", "en")
    checklist = {"fits_theme": "yes", "budget_plausible": "yes", "eligible_applicant": "yes",
                 "child_certificate": "not_needed", "screening_notes": "Fint"}
    assert client.post(f"/staff/applications/{application.id}/screening", data=checklist).status_code == 303
    response = client.post(f"/staff/applications/{application.id}/decision", data={"decision": "on_ballot"},
                           follow_redirects=True)
    assert "The decision is saved" in response.get_data(as_text=True)
    [mail] = outbox(instance_path)
    assert "stemmesedlen" in mail["Subject"]
    text = body(mail)
    assert text.startswith("Hej") and "Kind regards" not in text


def test_decision_mail_follows_the_language_the_applicant_signed_in_with(
    app: Flask, client: FlaskClient, session: Session, auth: Auth, instance_path: Path
) -> None:
    """A citizen who reads English gets the decision in English, whatever the caseworker reads."""
    application = make_application(session, S.SUBMITTED)
    _applicant, token = sign_in_link(session, application.applicant.email, utcnow())
    session.commit()
    citizen = app.test_client()
    citizen.set_cookie("lang", "en")
    assert citizen.post(f"/apply/sign-in/{token}").status_code == 303
    session.refresh(application.applicant)
    assert application.applicant.language == "en"

    auth.login(Role.CASEWORKER)  # reads Danish
    response = client.post(f"/staff/applications/{application.id}/decision",
                           data={"decision": "needs_info", "message": "When do you start?"}, follow_redirects=True)
    assert "Afgørelsen er gemt" in response.get_data(as_text=True)
    [mail] = outbox(instance_path)
    assert mail["Subject"] == "We need more information about your application"
    assert "When do you start?" in body(mail)


def test_reject_without_reason_keeps_the_form(client: FlaskClient, session: Session, auth: Auth) -> None:
    application = make_application(session, S.SUBMITTED)
    auth.login(Role.CASEWORKER)
    response = client.post(f"/staff/applications/{application.id}/decision", data={"decision": "rejected", "message": ""})
    assert response.status_code == 400 and "Skriv begrundelsen" in response.get_data(as_text=True)
    response = client.post(f"/staff/applications/{application.id}/decision",
                           data={"decision": "needs_info", "message": "Hvornår <b>starter</b> I?"})
    assert response.status_code == 303
    session.refresh(application)
    assert application.status is S.NEEDS_INFO and application.info_request == "Hvornår <b>starter</b> I?"


def test_viewer_reads_but_cannot_decide(client: FlaskClient, session: Session, auth: Auth) -> None:
    application = make_application(session, S.SUBMITTED)
    auth.login(Role.VIEWER)
    assert client.get(f"/staff/applications/{application.id}").status_code == 200
    assert client.post(f"/staff/applications/{application.id}/decision", data={"decision": "rejected", "message": "x"}).status_code == 403
    assert client.post(f"/staff/applications/{application.id}/screening", data={}).status_code == 403


def test_staff_applies_on_a_citizens_behalf(client: FlaskClient, session: Session, auth: Auth, instance_path: Path) -> None:
    round_ = open_round(session)
    user = auth.login(Role.MEETING_STAFF)
    response = client.post(f"/staff/rounds/{round_.id}/applications/new",
                           data=form_data(applicant_email="Hassan@Example.dk"))
    assert response.status_code == 303
    application = session.scalars(select(Application).where(Application.round_id == round_.id)).one()
    assert application.status is S.SUBMITTED and application.created_by_user_id == user.id
    assert application.applicant.email == "hassan@example.dk"
    created = session.scalars(select(AuditEvent).where(AuditEvent.action == "application.create")).one()
    assert created.actor_user_id == user.id and created.after["on_behalf_by_user_id"] == user.id
    [mail] = outbox(instance_path)
    assert mail["To"] == "hassan@example.dk"
    bad = client.post(f"/staff/rounds/{round_.id}/applications/new", data=form_data(applicant_email="ikke en adresse"))
    assert bad.status_code == 400 and "Strikkeklub på biblioteket" in bad.get_data(as_text=True)


def test_public_ballot_list_after_screening(client: FlaskClient, session: Session) -> None:
    on_ballot = make_application(session, S.ON_BALLOT, photo=a_photo())
    make_application(session, S.REJECTED, round_=on_ballot.round, title="Hemmeligt forslag")
    round_id = on_ballot.round_id
    page = client.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "Søg nu" in page
    hidden = client.get(f"/rounds/{round_id}/projects").get_data(as_text=True)
    assert "Skraldecafé i Gellerup" not in hidden
    transition_round(session, TEST_ACTOR, round_id, RoundStatus.SCREENING)
    transition_round(session, TEST_ACTOR, round_id, RoundStatus.VOTING)
    session.commit()
    page = client.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "Søg nu" not in page and f"/rounds/{round_id}/projects" in page
    listing = client.get(f"/rounds/{round_id}/projects").get_data(as_text=True)
    assert "Skraldecafé i Gellerup" in listing and "12.500 kr." in listing and "Stand 1" in listing
    assert f"/applications/{on_ballot.id}/thumbnail.jpg" in listing and "Hemmeligt forslag" not in listing


def test_sign_out_ends_the_session_everywhere(client: FlaskClient, session: Session) -> None:
    applicant = make_applicant(session)
    sign_in_as(client, applicant)
    other_browser = client.application.test_client()
    sign_in_as(other_browser, applicant)
    assert client.get("/apply").status_code == 200
    assert client.post("/apply/sign-out").status_code == 303
    assert client.get("/apply").status_code == 302
    assert other_browser.get("/apply").status_code == 302


def test_sign_in_answer_does_not_reveal_known_addresses(client: FlaskClient, session: Session) -> None:
    make_applicant(session, "kendt@example.dk")
    known = client.post("/apply/sign-in", data={"email": "kendt@example.dk"})
    unknown = client.post("/apply/sign-in", data={"email": "ukendt@example.dk"})
    assert known.status_code == unknown.status_code == 200

    def strip(response: Any) -> str:  # the address, and the CSRF token (signed with the second it was made)
        return re.sub(r'\S+@example\.dk|name="csrf_token" value="[^"]*"', "X", response.get_data(as_text=True))

    assert strip(known) == strip(unknown)


def test_sign_in_links_are_limited_per_network_and_the_form_keeps_the_address(
    client: FlaskClient, session: Session, app: Flask
) -> None:
    app.config["SIGN_IN_LINKS_PER_CLIENT"] = 2
    for n in range(2):
        assert client.post("/apply/sign-in", data={"email": f"borger{n}@example.dk"}).status_code == 200
    refused = client.post("/apply/sign-in", data={"email": "tredje@example.dk"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "for mange login-links fra dit netværk" in page and 'value="tredje@example.dk"' in page
    other_network = client.post("/apply/sign-in", data={"email": "tredje@example.dk"},
                                environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other_network.status_code == 200


def test_my_applications_lists_only_mine(client: FlaskClient, session: Session) -> None:
    make_application(session, S.SUBMITTED, title="Naboens hemmelige projekt")
    mine = make_application(session, S.DRAFT, title="Mit eget projekt")
    sign_in_as(client, mine.applicant)
    page = client.get("/apply").get_data(as_text=True)
    assert "Mit eget projekt" in page and "Naboens hemmelige projekt" not in page


def test_staff_cannot_set_a_childrens_certificate_back_once_on_the_ballot(
    client: FlaskClient, session: Session, auth: Auth
) -> None:
    application = make_application(session, S.SUBMITTED, involves_children=True)
    tick(session, application.id, child_certificate=ChildCertificate.RECEIVED,
         child_certificate_received_on=dt.date.today())
    session.commit()
    auth.login(Role.CASEWORKER)
    assert client.post(f"/staff/applications/{application.id}/decision", data={"decision": "on_ballot"}).status_code == 303
    setback = {"fits_theme": "yes", "budget_plausible": "yes", "eligible_applicant": "yes",
               "child_certificate": "requested", "screening_notes": ""}
    response = client.post(f"/staff/applications/{application.id}/screening", data=setback)
    assert response.status_code == 400
    assert "børneattesten skal forblive modtaget" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Application, application.id).child_certificate is ChildCertificate.RECEIVED


def test_staff_read_statuses_in_staff_wording(client: FlaskClient, session: Session, auth: Auth) -> None:
    """Trial round: the queue said "we need more information from you" to the caseworker."""
    application = make_application(session, S.NEEDS_INFO)
    auth.login(Role.CASEWORKER)
    queue = client.get(f"/staff/rounds/{application.round_id}/applications").get_data(as_text=True)
    detail = client.get(f"/staff/applications/{application.id}").get_data(as_text=True)
    for page in (queue, detail):
        assert "Venter på ansøgerens svar" in page
        assert "fra dig" not in page
    history = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", detail))
    assert "Status: Sendt — afventer afgørelse → Venter på ansøgerens svar" in history
    assert "Ansøger nr. " in history and "applicant:" not in history


def test_on_behalf_the_form_speaks_of_the_citizen_and_ends_on_a_success_page(
    client: FlaskClient, session: Session, auth: Auth
) -> None:
    """Trial round: staff read "What will you do?" and, once sent, "cannot be changed in this status"."""
    round_ = open_round(session)
    auth.login(Role.MEETING_STAFF)
    form = re.sub(r"\s+", " ", client.get(f"/staff/rounds/{round_.id}/applications/new").get_data(as_text=True))
    assert "Hvad vil borgeren lave?" in form and "Borgeren søger som privatperson" in form
    assert "Borgeren kan søge op til 25.000 kr. Sidste frist" in form
    for citizen_voice in ("Hvad vil du lave?", "Jeg søger som privatperson", "Du kan søge", "Beløb du søger"):
        assert citizen_voice not in form
    response = client.post(f"/staff/rounds/{round_.id}/applications/new",
                           data=form_data(applicant_email="hassan@example.dk"))
    assert response.status_code == 303
    done = re.sub(r"\s+", " ", client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Ansøgningen er sendt" in done and "på vegne af hassan@example.dk" in done
    assert "Reference: ansøgning nr." in done and "Hjælp den næste borger" in done
    assert "kan ikke ændres" not in done


def test_the_citizens_form_is_in_four_numbered_parts(client: FlaskClient, session: Session) -> None:
    round_ = open_round(session)
    sign_in_as(client, make_applicant(session))
    form = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(f"/apply/rounds/{round_.id}/new").get_data(as_text=True)))
    for number, part in enumerate(["Projektet", "Ansøger og kontakt", "Penge", "Billede og samtykke"], start=1):
        assert f"Del {number} af 4 {part}" in form
    assert "Du kan søge op til 25.000 kr. Sidste frist" in form and "kr.." not in form
