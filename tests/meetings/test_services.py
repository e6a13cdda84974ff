"""The rules of meetings: planning, sign-up with capacity, cancel tokens, attendance, audit."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deltager.applications.models import Applicant
from deltager.audit.models import AuditEvent
from deltager.db import utcnow
from deltager.errors import NotAllowed, NotFound, Throttled, ValidationFailed
from deltager.meetings import services
from deltager.meetings.models import MeetingKind
from deltager.rounds.models import RoundStatus
from tests.meetings.factories import make_meeting, meeting_input, sign_up
from tests.rounds.factories import TEST_ACTOR, make_round


def _actions(session: Session, object_type: str) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == object_type)
                                .order_by(AuditEvent.id)))


def test_create_and_update_are_audited(session: Session) -> None:
    meeting = make_meeting(session, capacity=10)
    services.update_meeting(session, TEST_ACTOR, meeting.id, meeting_input(capacity=12, title="Ny titel"))
    session.flush()
    assert _actions(session, "meeting") == ["meeting.create", "meeting.update"]
    update = session.scalars(select(AuditEvent).where(AuditEvent.action == "meeting.update")).one()
    assert update.before == {"capacity": 10, "title": "Få hjælp til din ansøgning"}
    assert update.after == {"capacity": 12, "title": "Ny titel"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"place": ""}, "place"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 10**9}, "capacity"),
    ],
)
def test_invalid_meetings_name_the_field(session: Session, overrides: dict, field: str) -> None:
    round_ = make_round(session, RoundStatus.OPEN)
    with pytest.raises(ValidationFailed) as caught:
        services.create_meeting(session, TEST_ACTOR, round_.id, meeting_input(**overrides))
    assert caught.value.field == field


def test_end_must_follow_start(session: Session) -> None:
    round_ = make_round(session, RoundStatus.OPEN)
    start = utcnow() + dt.timedelta(days=3)
    for end in (start, start - dt.timedelta(hours=1), start + dt.timedelta(hours=25)):
        with pytest.raises(ValidationFailed) as caught:
            services.create_meeting(session, TEST_ACTOR, round_.id, meeting_input(starts_at=start, ends_at=end))
        assert caught.value.field == "ends_at"


def test_sign_up_stores_only_the_token_hash_and_normalises_email(session: Session) -> None:
    meeting = make_meeting(session)
    registration, token = sign_up(session, meeting, email="  Amina@Example.DK ", note="Har brug for tolk (arabisk)")
    assert len(token) >= 40
    assert registration.cancel_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in registration.cancel_token_hash
    assert registration.email == "amina@example.dk"
    assert registration.applicant_id is None
    assert services.registration_by_token(session, token) is registration
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "meeting.register")).one()
    assert event.after == {"meeting_id": meeting.id, "applicant_id": None}
    assert "amina" not in str(event.after)


def test_capacity_is_enforced_and_freed_by_cancelling(session: Session) -> None:
    meeting = make_meeting(session, capacity=2)
    first, token = sign_up(session, meeting, "a@example.dk")
    sign_up(session, meeting, "b@example.dk")
    assert services.seats_left(session, meeting) == 0
    with pytest.raises(services.MeetingFull):
        sign_up(session, meeting, "c@example.dk")
    services.cancel_registration(session, TEST_ACTOR, first, utcnow())
    assert services.seats_left(session, meeting) == 1
    third, _ = sign_up(session, meeting, "c@example.dk")
    assert [r.email for r in services.active_registrations(meeting)] == ["b@example.dk", "c@example.dk"]
    assert third.id


def test_duplicate_email_is_refused_kindly_but_allowed_after_cancelling(session: Session) -> None:
    meeting = make_meeting(session)
    registration, _ = sign_up(session, meeting, "a@example.dk")
    with pytest.raises(services.AlreadySignedUp) as caught:
        sign_up(session, meeting, "A@EXAMPLE.dk")
    assert caught.value.field == "email"
    services.cancel_registration(session, TEST_ACTOR, registration, utcnow())
    again, _ = sign_up(session, meeting, "a@example.dk")
    assert again.id != registration.id


def test_the_database_keeps_one_active_sign_up_per_address_and_meeting(session: Session) -> None:
    """A second active row for the same address is refused by the database itself, not only by the
    service; cancelled rows do not count."""
    from sqlalchemy.exc import IntegrityError

    from deltager.meetings.models import Registration

    meeting = make_meeting(session)
    first, _ = sign_up(session, meeting, "a@example.dk")
    services.cancel_registration(session, TEST_ACTOR, first, utcnow())
    sign_up(session, meeting, "a@example.dk")  # the cancelled one is no obstacle
    session.flush()
    savepoint = session.begin_nested()  # so the test's transaction survives the refusal
    session.add(Registration(meeting_id=meeting.id, name="Twin", email="a@example.dk",
                             cancel_token_hash="0" * 64, attended=False))
    with pytest.raises(IntegrityError):
        session.flush()
    savepoint.rollback()
    assert session.scalar(select(func.count(Registration.id)).where(Registration.cancelled_at.is_(None))) == 1


def _throttle(client: str = "10.0.0.1") -> services.SignUpThrottle:
    return services.SignUpThrottle(client=client, max_per_client=4, max_per_address=2, window_seconds=3600)


def test_sign_ups_are_limited_per_client_and_per_address(session: Session) -> None:
    meetings = [make_meeting(session, capacity=20)]
    meetings += [make_meeting(session, meetings[0].round) for _ in range(2)]
    now = utcnow()
    for n in range(4):
        sign_up(session, meetings[0], f"person{n}@example.dk", throttle=_throttle(), now=now)
    with pytest.raises(Throttled, match="network"):
        sign_up(session, meetings[0], "fifth@example.dk", throttle=_throttle(), now=now)
    sign_up(session, meetings[0], "fifth@example.dk", throttle=_throttle("10.0.0.2"), now=now)  # another client
    # One address at several meetings, from different clients: at most max_per_address sign-ups.
    sign_up(session, meetings[1], "fifth@example.dk", throttle=_throttle("10.0.0.3"), now=now)
    with pytest.raises(Throttled, match="e-mail address"):
        sign_up(session, meetings[2], "FIFTH@example.dk", throttle=_throttle("10.0.0.4"), now=now)
    sign_up(session, meetings[2], "fifth@example.dk", now=now)  # staff sign people up without a limit
    later = now + dt.timedelta(hours=2)
    sign_up(session, meetings[1], "sixth@example.dk", throttle=_throttle(), now=later)


def test_a_refused_sign_up_does_not_count_against_the_client(session: Session) -> None:
    meeting = make_meeting(session, capacity=20)
    sign_up(session, meeting, "same@example.dk", throttle=_throttle())
    for _ in range(5):
        with pytest.raises(services.AlreadySignedUp):
            sign_up(session, meeting, "same@example.dk", throttle=_throttle())
    for n in range(3):
        sign_up(session, meeting, f"other{n}@example.dk", throttle=_throttle())


def test_no_sign_up_for_past_cancelled_or_vote_meetings_or_draft_rounds(session: Session) -> None:
    past = make_meeting(session, starts_at=utcnow() - dt.timedelta(hours=3), ends_at=utcnow() - dt.timedelta(hours=1))
    with pytest.raises(NotAllowed):
        sign_up(session, past)
    cancelled = make_meeting(session)
    services.cancel_meeting(session, TEST_ACTOR, cancelled.id, utcnow())
    with pytest.raises(NotAllowed):
        sign_up(session, cancelled)
    with pytest.raises(NotFound):
        sign_up(session, make_meeting(session, kind=MeetingKind.VOTE))
    with pytest.raises(NotFound):
        sign_up(session, make_meeting(session, round_=make_round(session, RoundStatus.DRAFT)))


def test_cancel_registration_twice_or_after_start_is_refused(session: Session) -> None:
    meeting = make_meeting(session)
    registration, _ = sign_up(session, meeting)
    services.cancel_registration(session, TEST_ACTOR, registration, utcnow())
    with pytest.raises(NotAllowed):
        services.cancel_registration(session, TEST_ACTOR, registration, utcnow())
    other, _ = sign_up(session, meeting, "b@example.dk")
    with pytest.raises(NotAllowed):
        services.cancel_registration(session, TEST_ACTOR, other, meeting.starts_at + dt.timedelta(minutes=1))
    assert _actions(session, "registration").count("meeting.unregister") == 1


def test_invalid_tokens_are_not_found(session: Session) -> None:
    for token in ("", "x" * 500, "not-a-token"):
        with pytest.raises(NotFound):
            services.registration_by_token(session, token)


def test_capacity_cannot_drop_below_sign_ups(session: Session) -> None:
    meeting = make_meeting(session, capacity=5)
    sign_up(session, meeting, "a@example.dk")
    sign_up(session, meeting, "b@example.dk")
    with pytest.raises(ValidationFailed) as caught:
        services.update_meeting(session, TEST_ACTOR, meeting.id, meeting_input(capacity=1))
    assert caught.value.field == "capacity"
    assert services.update_meeting(session, TEST_ACTOR, meeting.id, meeting_input(capacity=2)).capacity == 2


def test_cancel_meeting_returns_people_to_tell_and_is_audited(session: Session) -> None:
    meeting = make_meeting(session)
    sign_up(session, meeting, "a@example.dk")
    gone, _ = sign_up(session, meeting, "b@example.dk")
    services.cancel_registration(session, TEST_ACTOR, gone, utcnow())
    to_tell = services.cancel_meeting(session, TEST_ACTOR, meeting.id, utcnow())
    assert [r.email for r in to_tell] == ["a@example.dk"]
    assert meeting.cancelled_at is not None
    with pytest.raises(NotAllowed):
        services.cancel_meeting(session, TEST_ACTOR, meeting.id, utcnow())
    with pytest.raises(NotAllowed):
        services.update_meeting(session, TEST_ACTOR, meeting.id, meeting_input())
    assert "meeting.cancel" in _actions(session, "meeting")


def test_attendance_ticks_registrants_and_counts_walk_ins(session: Session) -> None:
    start = utcnow() - dt.timedelta(minutes=30)
    meeting = make_meeting(session, starts_at=start + dt.timedelta(days=1), ends_at=start + dt.timedelta(days=1, hours=2))
    a, _ = sign_up(session, meeting, "a@example.dk")
    b, _ = sign_up(session, meeting, "b@example.dk")
    c, _ = sign_up(session, meeting, "c@example.dk")
    with pytest.raises(NotAllowed):  # the day before: too early
        services.record_attendance(session, TEST_ACTOR, meeting.id, [a.id], 0, utcnow())
    at_meeting = meeting.starts_at + dt.timedelta(minutes=10)
    totals = services.record_attendance(session, TEST_ACTOR, meeting.id, [a.id, c.id], 4, at_meeting)
    assert (totals.registered, totals.attended, totals.walk_ins, totals.came) == (3, 2, 4, 6)
    assert (a.attended, b.attended, c.attended) == (True, False, True)
    totals = services.record_attendance(session, TEST_ACTOR, meeting.id, [b.id], 0, at_meeting)
    assert (a.attended, b.attended, totals.came) == (False, True, 1)
    session.flush()
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "meeting.attendance")
                             .order_by(AuditEvent.id)).all()
    assert events[0].after == {"attended": [a.id, c.id], "walk_in_count": 4}
    assert events[1].before == {"attended": [a.id, c.id], "walk_in_count": 4}


def test_attendance_refuses_strangers_and_bad_counts(session: Session) -> None:
    meeting = make_meeting(session, starts_at=utcnow() - dt.timedelta(hours=1), ends_at=utcnow() + dt.timedelta(hours=1))
    other = make_meeting(session, round_=meeting.round)
    stranger, _ = sign_up(session, other)
    with pytest.raises(ValidationFailed) as caught:
        services.record_attendance(session, TEST_ACTOR, meeting.id, [stranger.id], 0, utcnow())
    assert caught.value.field == "attended"
    for count in (-1, services.MAX_WALK_INS + 1):
        with pytest.raises(ValidationFailed):
            services.record_attendance(session, TEST_ACTOR, meeting.id, [], count, utcnow())


def test_public_listing_shows_upcoming_meetings_the_vote_included(session: Session) -> None:
    round_ = make_round(session, RoundStatus.OPEN)
    info = make_meeting(session, round_, kind=MeetingKind.INFO, starts_at=utcnow() + dt.timedelta(days=1),
                        ends_at=utcnow() + dt.timedelta(days=1, hours=1))
    help_ = make_meeting(session, round_)
    vote = make_meeting(session, round_, kind=MeetingKind.VOTE, starts_at=utcnow() + dt.timedelta(days=20),
                        ends_at=utcnow() + dt.timedelta(days=20, hours=3))
    make_meeting(session, round_, starts_at=utcnow() - dt.timedelta(days=2), ends_at=utcnow() - dt.timedelta(days=2) + dt.timedelta(hours=1))
    cancelled = make_meeting(session, round_, starts_at=utcnow() + dt.timedelta(days=9), ends_at=utcnow() + dt.timedelta(days=9, hours=1))
    services.cancel_meeting(session, TEST_ACTOR, cancelled.id, utcnow())
    assert services.upcoming_public_meetings(session, round_.id, utcnow()) == [info, help_, cancelled, vote]


def test_applicant_sees_own_registrations_by_id_or_email(session: Session) -> None:
    mine = Applicant(email="amina@example.dk", name="Amina")
    theirs = Applicant(email="bo@example.dk", name="Bo")
    session.add_all([mine, theirs])
    session.flush()
    meeting = make_meeting(session)
    linked, _ = sign_up(session, meeting, "other-address@example.dk", applicant_id=mine.id)
    by_email, _ = sign_up(session, make_meeting(session, round_=meeting.round), "Amina@example.dk")
    foreign, _ = sign_up(session, meeting, "bo@example.dk", applicant_id=theirs.id)
    found = services.registrations_of_applicant(session, mine.id, mine.email)
    assert {r.id for r in found} == {linked.id, by_email.id}
    with pytest.raises(NotFound):
        services.registration_of_applicant(session, mine.id, mine.email, foreign.id)


def test_demo_meetings(session: Session) -> None:
    from deltager.meetings.demo import load_meetings_demo
    from deltager.meetings.models import Meeting

    today = utcnow().date()
    round_ = make_round(session, RoundStatus.OPEN)  # titled "Del dit fællesskab"
    load_meetings_demo(session, today)
    meetings = services.list_meetings(session, round_.id)
    assert [m.kind for m in meetings].count(MeetingKind.HELP) == 4
    assert [m.kind for m in meetings].count(MeetingKind.INFO) == 1
    assert len(services.upcoming_public_meetings(session, round_.id, utcnow())) == 4
    assert any("tolk" in r.note for m in meetings for r in m.registrations)
    past = [m for m in meetings if m.ends_at < utcnow()]
    assert len(past) == 1
    assert services.totals(past[0]).came == 5
    assert session.scalars(select(Meeting)).all()


def test_who_hears_of_an_edit(session: Session) -> None:
    meeting = make_meeting(session)
    registration, _ = sign_up(session, meeting)
    revision = meeting.revision
    services.update_meeting(session, TEST_ACTOR, meeting.id, meeting_input(
        description="Nu med kaffe", starts_at=meeting.starts_at, ends_at=meeting.ends_at))
    assert services.sign_ups_to_tell(meeting, revision, utcnow()) == []  # neither time nor place changed
    later = meeting.starts_at + dt.timedelta(hours=1)
    services.update_meeting(session, TEST_ACTOR, meeting.id, meeting_input(
        description="Nu med kaffe", starts_at=later, ends_at=later + dt.timedelta(hours=2)))
    assert services.sign_ups_to_tell(meeting, revision, utcnow()) == [registration]
    assert services.sign_ups_to_tell(meeting, revision, meeting.ends_at) == []  # over: too late to tell


def test_the_calendar_revision_counts_changes_to_when_and_where(session: Session) -> None:
    meeting = make_meeting(session)
    assert meeting.revision == 0
    same = dict(starts_at=meeting.starts_at, ends_at=meeting.ends_at)
    services.update_meeting(session, TEST_ACTOR, meeting.id, meeting_input(description="Nu med kaffe", **same))
    assert meeting.revision == 0  # what happens there is not when or where
    services.update_meeting(session, TEST_ACTOR, meeting.id, meeting_input(place="Dokk1", **same))
    assert meeting.revision == 1
    services.cancel_meeting(session, TEST_ACTOR, meeting.id, utcnow())
    assert meeting.revision == 2
