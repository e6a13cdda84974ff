"""The rules of applications: the status road, deadlines, sign-in tokens, CVR, photos, screening."""

from __future__ import annotations

import datetime as dt
import io
import itertools

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deltager import road, uploads
from deltager.applications import services
from deltager.applications.models import Applicant, ApplicantType, ApplicationStatus, ChildCertificate, Photo, SignInToken
from deltager.audit.models import AuditEvent
from deltager.db import utcnow
from deltager.errors import NotAllowed, NotFound, Throttled, ValidationFailed
from deltager.rounds.models import RoundStatus
from deltager.voting import services as voting
from deltager.road import transition_round
from deltager.citizens import services as citizens
from tests.applications.factories import (
    STAFF,
    a_photo,
    complete_input,
    image_bytes,
    make_applicant,
    make_application,
    open_round,
    sign_in_link,
    tick,
)
from tests.rounds.factories import TEST_ACTOR

S = ApplicationStatus
ALLOWED = {
    (S.DRAFT, S.SUBMITTED), (S.NEEDS_INFO, S.SUBMITTED), (S.SUBMITTED, S.NEEDS_INFO),
    (S.SUBMITTED, S.ON_BALLOT), (S.SUBMITTED, S.REJECTED), (S.DRAFT, S.WITHDRAWN),
    (S.SUBMITTED, S.WITHDRAWN), (S.NEEDS_INFO, S.WITHDRAWN), (S.ON_BALLOT, S.WITHDRAWN),
    (S.NEEDS_INFO, S.REJECTED),  # staff, when the answer did not come in time
}


def _move(session: Session, app_id: int, target: ApplicationStatus) -> None:
    app = services.get_application(session, app_id)
    now = utcnow()
    if target is S.SUBMITTED:
        services.submit(session, citizens.applicant_actor(app.applicant), app_id, now)
    elif target is S.WITHDRAWN:
        services.withdraw(session, citizens.applicant_actor(app.applicant), app_id, now)
    elif target is S.DRAFT:
        services.check_transition(app, S.DRAFT)
    else:
        if target is S.ON_BALLOT:
            if app.status is not S.DRAFT:
                tick(session, app_id)
        road.decide(session, STAFF, app_id, target, "En besked", now)


@pytest.mark.parametrize(("source", "target"), list(itertools.product(S, S)))
def test_every_status_pair_is_allowed_or_refused_clearly(session: Session, source: S, target: S) -> None:
    app = make_application(session, source)
    if (source, target) in ALLOWED:
        _move(session, app.id, target)
        assert services.get_application(session, app.id).status is target
        return
    with pytest.raises(NotAllowed) as caught:
        _move(session, app.id, target)
    assert "cannot go from" in caught.value.message or "cannot" in str(caught.value)
    assert services.get_application(session, app.id).status is source


def test_invalid_transition_message_names_both_statuses(session: Session) -> None:
    app = make_application(session, S.REJECTED)
    with pytest.raises(NotAllowed) as caught:
        services.check_transition(app, S.ON_BALLOT)
    assert caught.value.params == {"source": "rejected", "target": "on_ballot"}


def test_withdraw_from_ballot_refused_once_voting_began(session: Session) -> None:
    app = make_application(session, S.ON_BALLOT)
    transition_round(session, TEST_ACTOR, app.round_id, RoundStatus.SCREENING)
    transition_round(session, TEST_ACTOR, app.round_id, RoundStatus.VOTING)
    with pytest.raises(NotAllowed, match="ballot is fixed"):
        services.withdraw(session, citizens.applicant_actor(app.applicant), app.id, utcnow())


def test_withdraw_from_ballot_frees_the_stand(session: Session) -> None:
    app = make_application(session, S.ON_BALLOT)
    assert app.stand_number == 1
    services.withdraw(session, citizens.applicant_actor(app.applicant), app.id, utcnow())
    assert app.stand_number is None


def test_submission_after_the_deadline_is_refused(session: Session) -> None:
    app = make_application(session, S.DRAFT)
    too_late = app.round.applications_close_at + dt.timedelta(seconds=1)
    with pytest.raises(NotAllowed, match="deadline"):
        services.submit(session, citizens.applicant_actor(app.applicant), app.id, too_late)
    assert app.status is S.DRAFT
    on_time = app.round.applications_close_at - dt.timedelta(seconds=1)
    services.submit(session, citizens.applicant_actor(app.applicant), app.id, on_time)
    assert app.status is S.SUBMITTED and app.submitted_at == on_time


def test_drafts_cannot_start_outside_the_window_or_in_a_closed_round(session: Session) -> None:
    round_ = open_round(session)
    applicant = make_applicant(session)
    with pytest.raises(NotAllowed, match="not accept applications yet"):
        services.create_draft(session, STAFF, applicant, round_.id, complete_input(),
                              round_.applications_open_at - dt.timedelta(minutes=1))
    transition_round(session, TEST_ACTOR, round_.id, RoundStatus.SCREENING)
    with pytest.raises(NotAllowed):
        services.create_draft(session, STAFF, applicant, round_.id, complete_input(), utcnow())


def test_needs_info_answer_is_accepted_after_the_deadline_during_screening(session: Session) -> None:
    app = make_application(session, S.NEEDS_INFO)
    transition_round(session, TEST_ACTOR, app.round_id, RoundStatus.SCREENING)
    after = app.round.applications_close_at + dt.timedelta(days=3)
    services.update_draft(session, citizens.applicant_actor(app.applicant), app.id,
                          complete_input(where="Beboerhuset, sal 2"), after)
    services.submit(session, citizens.applicant_actor(app.applicant), app.id, after)
    assert app.status is S.SUBMITTED and app.where == "Beboerhuset, sal 2"


def test_incomplete_application_lists_every_problem(session: Session) -> None:
    app = make_application(session, S.DRAFT, title="", requested_ore=10_000_00, consent=False,
                           involves_children=None)
    with pytest.raises(services.IncompleteApplication) as caught:
        services.submit(session, citizens.applicant_actor(app.applicant), app.id, utcnow())
    fields = {p.field for p in caught.value.problems}
    assert fields == {"title", "budget", "consent", "involves_children"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"requested_ore": 25_000_01}, "requested"),
        ({"requested_ore": 0}, "requested"),
        ({"cvr": "12345678"}, "cvr"),
        ({"title": "x" * 81}, "title"),
        ({"summary": "x" * 301}, "summary"),
        ({"what": "bad\x00byte"}, "what"),
        ({"budget_lines": (("", 100),)}, "budget"),
        ({"budget_lines": (("Kaffe", -5),)}, "budget"),
    ],
)
def test_format_rules_hold_even_for_drafts(session: Session, overrides: dict, field: str) -> None:
    round_ = open_round(session)
    with pytest.raises(ValidationFailed) as caught:
        services.create_draft(session, STAFF, make_applicant(session), round_.id, complete_input(**overrides), utcnow())
    assert caught.value.field == field


def test_association_needs_name_and_valid_cvr(session: Session) -> None:
    app = make_application(session, S.DRAFT, applicant_type=ApplicantType.ASSOCIATION)
    with pytest.raises(services.IncompleteApplication) as caught:
        services.submit(session, citizens.applicant_actor(app.applicant), app.id, utcnow())
    assert {p.field for p in caught.value.problems} == {"association_name", "cvr"}


@pytest.mark.parametrize(("cvr", "ok"), [("10150817", True), ("25313763", True), ("10150818", False),
                                         ("1015081", False), ("01234567", False), ("abcdefgh", False)])
def test_cvr_modulus_11(cvr: str, ok: bool) -> None:
    assert services.valid_cvr(cvr) is ok


# --- sign-in tokens ---


def test_token_is_stored_only_as_sha256_and_works_once(session: Session) -> None:
    now = utcnow()
    applicant, token = sign_in_link(session, "Mette@Example.dk ", now)
    assert applicant.email == "mette@example.dk"
    row = session.scalars(select(SignInToken)).one()
    assert row.token_hash == citizens.hash_token(token) != token and len(token) >= 43
    assert row.expires_at == now + dt.timedelta(minutes=30)
    assert applicant.language == "da"
    assert citizens.redeem_sign_in_token(session, token, now + dt.timedelta(minutes=1), language="en") is applicant
    assert applicant.language == "en"  # staff's e-mails to them will be in English
    with pytest.raises(NotAllowed):
        citizens.redeem_sign_in_token(session, token, now + dt.timedelta(minutes=2), language="da")


def test_token_expires_after_30_minutes(session: Session) -> None:
    now = utcnow()
    _applicant, token = sign_in_link(session, "a@example.dk", now)
    with pytest.raises(NotAllowed):
        citizens.redeem_sign_in_token(session, token, now + dt.timedelta(minutes=30), language="da")
    with pytest.raises(NotAllowed):
        citizens.redeem_sign_in_token(session, "not-a-token", now, language="da")


def test_one_mail_per_address_in_a_few_minutes_and_no_address_is_ever_blocked(session: Session) -> None:
    now = utcnow()
    applicant, first = sign_in_link(session, "b@example.dk", now)
    with pytest.raises(citizens.LinkRecentlySent):  # no second mail: the first link still works
        sign_in_link(session, "b@example.dk", now + dt.timedelta(minutes=4), client="10.6.6.6")
    sign_in_link(session, "other@example.dk", now)  # another address is not affected
    # A stranger asking for this address all day only ever sends its owner working links.
    links = [sign_in_link(session, "b@example.dk", now + dt.timedelta(minutes=5 * n), client=f"10.6.6.{n}")[1]
             for n in range(1, 20)]
    assert len(set(links)) == 19
    later = now + dt.timedelta(minutes=5 * 19 + 1)
    assert citizens.redeem_sign_in_token(session, links[-1], later, language="da") is applicant
    _again, fresh = sign_in_link(session, "b@example.dk", later)  # signed in once: a new link at once
    assert citizens.redeem_sign_in_token(session, fresh, later, language="da") is applicant
    with pytest.raises(NotAllowed):
        citizens.redeem_sign_in_token(session, first, now + dt.timedelta(minutes=1), language="da")


def test_using_a_link_ends_every_other_link_of_the_applicant(session: Session) -> None:
    now = utcnow()
    applicant, older = sign_in_link(session, "c@example.dk", now)
    _applicant, newer = sign_in_link(session, "c@example.dk", now + dt.timedelta(minutes=6))
    _other, someone_else = sign_in_link(session, "d@example.dk", now)
    assert citizens.redeem_sign_in_token(session, newer, now + dt.timedelta(minutes=7), language="da") is applicant
    with pytest.raises(NotAllowed, match="used or has expired"):  # e.g. copied from a log on its way
        citizens.redeem_sign_in_token(session, older, now + dt.timedelta(minutes=8), language="da")
    assert citizens.redeem_sign_in_token(session, someone_else, now + dt.timedelta(minutes=8), language="da")


def test_link_requests_are_limited_per_client_in_the_database(session: Session) -> None:
    now = utcnow()
    for n in range(3):
        sign_in_link(session, f"person{n}@example.dk", now, max_per_client=3)
    with pytest.raises(Throttled, match="network"):
        sign_in_link(session, "new@example.dk", now, max_per_client=3)
    assert session.scalar(select(func.count(Applicant.id)).where(Applicant.email == "new@example.dk")) == 0
    sign_in_link(session, "new@example.dk", now, max_per_client=3, client="10.0.0.2")  # another client: not affected
    sign_in_link(session, "again@example.dk", now + dt.timedelta(seconds=1801), max_per_client=3)  # two windows on


def test_a_mistyped_address_does_not_count_against_the_client(session: Session) -> None:
    now = utcnow()
    for _ in range(3):
        with pytest.raises(ValidationFailed):
            sign_in_link(session, "no-at-sign", now, max_per_client=1)
    sign_in_link(session, "right@example.dk", now, max_per_client=1)


def test_session_value_is_checked_against_the_version(session: Session) -> None:
    applicant = make_applicant(session)
    value = citizens.session_value(applicant)
    assert citizens.load_session_applicant(session, value) is applicant
    citizens.end_applicant_sessions(session, applicant)
    assert citizens.load_session_applicant(session, value) is None
    for junk in ("", "x:y", "1", "99999:1", None, 5, "1:" + "9" * 40):
        assert citizens.load_session_applicant(session, junk) is None


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@b", "a b@c.dk", "x" * 250 + "@a.dk", "a@b.dk\r\nBcc: x@y.dk"])
def test_bad_addresses_are_refused(session: Session, email: str) -> None:
    with pytest.raises(ValidationFailed):
        sign_in_link(session, email, utcnow())


# --- access ---


def test_applicants_only_get_their_own(session: Session) -> None:
    app = make_application(session)
    other = make_applicant(session)
    with pytest.raises(NotFound):
        services.get_own_application(session, other, app.id)
    assert services.get_own_application(session, app.applicant, app.id) is app


# --- screening and decisions ---


def test_on_ballot_needs_checklist_and_childrens_certificate(session: Session) -> None:
    app = make_application(session, S.SUBMITTED, involves_children=True)
    with pytest.raises(NotAllowed, match="checklist"):
        road.decide(session, STAFF, app.id, S.ON_BALLOT, "", utcnow())
    tick(session, app.id, child_certificate=ChildCertificate.REQUESTED)
    with pytest.raises(NotAllowed, match="børneattest"):
        road.decide(session, STAFF, app.id, S.ON_BALLOT, "", utcnow())
    with pytest.raises(ValidationFailed):
        tick(session, app.id, child_certificate=ChildCertificate.RECEIVED)
    tick(session, app.id, child_certificate=ChildCertificate.RECEIVED,
         child_certificate_received_on=dt.date.today())
    road.decide(session, STAFF, app.id, S.ON_BALLOT, "", utcnow())
    assert app.status is S.ON_BALLOT and app.stand_number == 1


def test_reject_and_needs_info_require_a_message(session: Session) -> None:
    app = make_application(session, S.SUBMITTED)
    for decision in (S.REJECTED, S.NEEDS_INFO):
        with pytest.raises(ValidationFailed) as caught:
            road.decide(session, STAFF, app.id, decision, "   ", utcnow())
        assert caught.value.field == "message"
    road.decide(session, STAFF, app.id, S.REJECTED, "Uden for temaet", utcnow())
    assert app.rejection_reason == "Uden for temaet"


def test_decisions_are_in_the_audit_trail(session: Session) -> None:
    app = make_application(session, S.ON_BALLOT)
    actions = [e.action for e in session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "application", AuditEvent.object_id == str(app.id))
        .order_by(AuditEvent.id))]
    assert actions == ["application.create", "application.submit", "application.screening", "application.decision"]
    decision = session.scalars(select(AuditEvent).where(AuditEvent.action == "application.decision")).one()
    assert decision.actor_label == STAFF.label
    assert decision.before == {"status": "submitted", "stand_number": None} or decision.before["status"] == "submitted"
    assert decision.after["status"] == "on_ballot"


def test_stand_numbers_follow_each_other(session: Session) -> None:
    first = make_application(session, S.ON_BALLOT)
    second = make_application(session, S.ON_BALLOT, round_=first.round)
    assert (first.stand_number, second.stand_number) == (1, 2)
    assert [a.id for a in voting.ballot_projects(session, first.round_id)] == [first.id, second.id]


def test_queue_counts_filters_and_pages(session: Session) -> None:
    round_ = open_round(session)
    for status in (S.DRAFT, S.SUBMITTED, S.SUBMITTED, S.REJECTED):
        make_application(session, status, round_=round_)
    counts = services.status_counts(session, round_.id)
    assert counts[S.SUBMITTED] == 2 and counts[S.DRAFT] == 1 and counts[S.ON_BALLOT] == 0
    rows, total = services.screening_queue(session, round_.id)
    assert total == 3 and all(r.status is not S.DRAFT for r in rows)
    rows, total = services.screening_queue(session, round_.id, status=S.SUBMITTED, page=2, per_page=1)
    assert total == 2 and len(rows) == 1


# --- photos ---


def test_photo_is_reencoded_without_exif_with_thumbnail() -> None:
    result = uploads.process(uploads.PHOTO, image_bytes("PNG", (2400, 1200), exif=False))
    assert result.content[:3] == b"\xff\xd8\xff" and (result.width, result.height) == (1600, 800)
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert max(thumb.size) == 400
    with_exif = image_bytes("JPEG", exif=True)
    assert b"SecretCam" in with_exif
    cleaned = uploads.process(uploads.PHOTO, with_exif)
    assert b"SecretCam" not in cleaned.content and b"Exif" not in cleaned.content


@pytest.mark.parametrize("data", [b"", b"not an image", image_bytes("JPEG")[:200], image_bytes("GIF"),
                                  b"%PDF-1.4 fake", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100])
def test_broken_or_wrong_images_are_refused(data: bytes) -> None:
    with pytest.raises(ValidationFailed) as caught:
        uploads.process(uploads.PHOTO, data)
    assert caught.value.field == "photo"


def test_decompression_bomb_is_refused_before_decoding() -> None:
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG")  # 100 megapixels, a few kB
    assert len(out.getvalue()) < 100_000
    with pytest.raises(ValidationFailed, match="pixels"):
        uploads.process(uploads.PHOTO, out.getvalue())


def test_too_large_file_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="5 MB"):
        uploads.process(uploads.PHOTO, b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024))


def test_a_new_photo_replaces_the_old_one(session: Session) -> None:
    app = make_application(session, photo=a_photo("PNG"))
    services.update_draft(session, STAFF, app.id, complete_input(photo=a_photo("JPEG")), utcnow())
    session.commit()
    assert app.photo is not None and session.scalar(select(func.count()).select_from(Photo)) == 1


def test_photo_stored_with_application(session: Session) -> None:
    app = make_application(session, photo=a_photo("PNG"))
    assert app.photo is not None and app.photo.content.startswith(b"\xff\xd8")
    services.update_draft(session, STAFF, app.id, complete_input(remove_photo=True), utcnow())
    session.flush()
    assert app.photo is None


def test_a_received_childrens_certificate_is_not_set_back_while_on_the_ballot(session: Session) -> None:
    """Trial round: a børneattest of a project with children on the ballot went back to "requested", silently."""
    app = make_application(session, S.SUBMITTED, involves_children=True)
    tick(session, app.id, child_certificate=ChildCertificate.RECEIVED, child_certificate_received_on=dt.date.today())
    road.decide(session, STAFF, app.id, S.ON_BALLOT, "", utcnow())
    for setback in (ChildCertificate.REQUESTED, ChildCertificate.NOT_ASSESSED):
        with pytest.raises(ValidationFailed, match="børneattest") as caught:
            tick(session, app.id, child_certificate=setback)
        assert caught.value.field == "child_certificate"
    with pytest.raises(ValidationFailed, match="checklist"):
        tick(session, app.id, fits_theme=False, child_certificate=ChildCertificate.RECEIVED,
             child_certificate_received_on=dt.date.today())
    assert app.child_certificate is ChildCertificate.RECEIVED
    tick(session, app.id, child_certificate=ChildCertificate.NOT_NEEDED, screening_notes="Vurderet igen")
    assert app.child_certificate is ChildCertificate.NOT_NEEDED  # still cleared: allowed, and in the trail


def test_a_certificate_can_change_freely_before_the_ballot(session: Session) -> None:
    app = make_application(session, S.SUBMITTED, involves_children=True)
    tick(session, app.id, child_certificate=ChildCertificate.RECEIVED, child_certificate_received_on=dt.date.today())
    tick(session, app.id, child_certificate=ChildCertificate.REQUESTED)
    assert app.child_certificate is ChildCertificate.REQUESTED
