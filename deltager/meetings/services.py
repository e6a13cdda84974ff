"""The rules of meetings: planning them, signing up, cancelling, and counting who came."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from deltager import ratelimit
from deltager.audit.services import Actor, record
from deltager.db import get_by_id
from deltager.config import supported_language
from deltager.errors import N_, NotAllowed, NotFound, Throttled, ValidationFailed
from deltager.meetings.models import Meeting, MeetingKind, Registration
from deltager.rounds.models import Round, RoundStatus
from deltager.rounds.services import get_round

#: Kinds citizens sign up for here (vote meetings have their own pages in the voting domain).
SIGN_UP_KINDS = frozenset({MeetingKind.INFO, MeetingKind.HELP})
MAX_WALK_INS = 10_000
MAX_CAPACITY = 10_000
#: What someone who signed up must be told about when it changes: when and where.
NOTICE_FIELDS = ("starts_at", "ends_at", "place", "address")
#: Staff may start ticking people off this long before the meeting begins (check-in at the door).
ATTENDANCE_OPENS_BEFORE = dt.timedelta(hours=2)


class MeetingFull(NotAllowed):
    """Every seat is taken."""


class AlreadySignedUp(ValidationFailed):
    """This e-mail address already has a sign-up for the meeting."""


@dataclass(frozen=True)


class MeetingInput:
    """What staff fill in for a meeting; times are timezone-aware UTC."""

    kind: MeetingKind
    title: str
    place: str
    address: str
    description: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int | None = None


@dataclass(frozen=True)


class RegistrationInput:
    """What a citizen fills in to sign up."""

    name: str
    email: str
    phone: str = ""
    note: str = ""
    language: str = "da"
    address: str = ""  # a postal address, for people staff sign up without e-mail  # the page's language: later e-mails (a cancellation) are written in it


@dataclass(frozen=True)


class SignUpThrottle:
    """Who is signing up from where, and how many sign-ups a client and an address may make per
    window (counted in the database, deltager.ratelimit); staff sign-ups pass none."""

    client: str  # the client's IP address
    max_per_client: int
    max_per_address: int
    window_seconds: int


SIGN_UP_CLIENT_SCOPE = "sign_up_client"
SIGN_UP_ADDRESS_SCOPE = "sign_up_address"


@dataclass(frozen=True)


class Totals:
    """Registered (not cancelled), of those attended, walk-ins, and everyone who came."""

    registered: int
    attended: int
    walk_ins: int

    @property
    def came(self) -> int:
        """Everyone in the room: registrants who came plus walk-ins."""
        return self.attended + self.walk_ins


def hash_token(token: str) -> str:
    """The SHA-256 (hex) of a cancel token; only this is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_email(email: str) -> str:
    """An e-mail address as we store and compare it: trimmed, lower case."""
    return email.strip().lower()


def snapshot(meeting: Meeting) -> dict[str, object]:
    """The fields the audit trail records before and after a change."""
    return {
        "kind": meeting.kind,
        "title": meeting.title,
        "place": meeting.place,
        "address": meeting.address,
        "description": meeting.description,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "capacity": meeting.capacity,
        "cancelled_at": meeting.cancelled_at,
    }


# --- reading ---------------------------------------------------------------------------------


def get_meeting(session: Session, meeting_id: int, *, for_update: bool = False) -> Meeting:
    """A meeting by id, or NotFound; ``for_update`` locks its row (PostgreSQL) for the transaction."""
    return get_by_id(session, Meeting, meeting_id, N_("The meeting does not exist."), for_update=for_update)


def get_public_meeting(session: Session, meeting_id: int) -> Meeting:
    """A meeting of a public round, or NotFound (citizens sign up for info and help meetings only;
    everyone may come to a voting meeting)."""
    meeting = get_meeting(session, meeting_id)
    if not meeting.round.is_public:
        raise NotFound(N_("The meeting does not exist."))
    return meeting


def list_meetings(session: Session, round_id: int) -> list[Meeting]:
    """Every meeting of a round, soonest first (staff)."""
    return list(
        session.scalars(select(Meeting).where(Meeting.round_id == round_id).order_by(Meeting.starts_at, Meeting.id))
    )


def upcoming_public_meetings(session: Session, round_id: int, now: dt.datetime) -> list[Meeting]:
    """Meetings of a round that have not ended, the voting meeting included, cancelled ones too
    (shown as such)."""
    return list(
        session.scalars(
            select(Meeting)
            .where(Meeting.round_id == round_id, Meeting.ends_at > now)
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )


#: Meetings about applying (how to apply, help with an application): past once applications close.
APPLYING_KINDS = frozenset({MeetingKind.INFO, MeetingKind.HELP})


def round_page_meetings(session: Session, round_: Round, now: dt.datetime) -> list[Meeting]:
    """The meetings the public round page lists: those not ended, but once applications have closed
    (the round has gone on to screening) no longer the information and help meetings about applying."""
    meetings = upcoming_public_meetings(session, round_.id, now)
    if round_.status.index > RoundStatus.OPEN.index:
        meetings = [m for m in meetings if m.kind not in APPLYING_KINDS]
    return meetings


def next_voting_meeting(session: Session, round_id: int, now: dt.datetime) -> Meeting | None:
    """The round's next voting meeting that is not cancelled (what an applicant on the ballot is told)."""
    return next((m for m in upcoming_public_meetings(session, round_id, now)
                 if m.kind is MeetingKind.VOTE and m.cancelled_at is None), None)


def applying_meetings_ahead(session: Session, round_id: int, now: dt.datetime) -> list[Meeting]:
    """The information and help meetings of a round not ended and not cancelled (the confirmation of
    closing applications names them)."""
    return [m for m in upcoming_public_meetings(session, round_id, now)
            if m.kind in APPLYING_KINDS and m.cancelled_at is None]


def active_registrations(meeting: Meeting) -> list[Registration]:
    """The sign-ups that are not cancelled, in the order they came."""
    return [r for r in meeting.registrations if r.cancelled_at is None]


def count_active(session: Session, meeting_id: int) -> int:
    """How many sign-ups (not cancelled) a meeting has."""
    return session.scalar(
        select(func.count(Registration.id)).where(
            Registration.meeting_id == meeting_id, Registration.cancelled_at.is_(None)
        )
    ) or 0


def totals(meeting: Meeting) -> Totals:
    """Registered / attended / walk-ins of a meeting."""
    active = active_registrations(meeting)
    return Totals(len(active), sum(1 for r in active if r.attended), meeting.walk_in_count)


def seats_left(session: Session, meeting: Meeting) -> int | None:
    """Free seats, or None when the meeting has no capacity limit."""
    if meeting.capacity is None:
        return None
    return max(meeting.capacity - count_active(session, meeting.id), 0)


def sign_up_open(meeting: Meeting, now: dt.datetime) -> bool:
    """Citizens may sign up: an info or help meeting, not cancelled, not yet begun."""
    return meeting.kind in SIGN_UP_KINDS and meeting.cancelled_at is None and now < meeting.starts_at


def registration_by_token(session: Session, token: str) -> Registration:
    """The sign-up a cancel link belongs to, or NotFound."""
    if not token or len(token) > 200:
        raise NotFound(N_("This link is not valid."))
    registration = session.scalar(select(Registration).where(Registration.cancel_token_hash == hash_token(token)))
    if registration is None:
        raise NotFound(N_("This link is not valid."))
    return registration


def registrations_of_applicant(session: Session, applicant_id: int, email: str | None) -> list[Registration]:
    """An applicant's own sign-ups: linked to them, or made with their e-mail address (if they have
    one: staff register some people without); newest meeting first."""
    return list(
        session.scalars(
            select(Registration)
            .join(Meeting)
            .where(
                or_(
                    Registration.applicant_id == applicant_id,
                    func.lower(Registration.email) == normalise_email(email),
                ) if email else Registration.applicant_id == applicant_id
            )
            .order_by(Meeting.starts_at.desc(), Registration.id.desc())
        )
    )


def registration_of_applicant(session: Session, applicant_id: int, email: str | None, registration_id: int) -> Registration:
    """One of an applicant's own sign-ups by id; someone else's is NotFound (never revealed)."""
    for registration in registrations_of_applicant(session, applicant_id, email):
        if registration.id == registration_id:
            return registration
    raise NotFound(N_("The sign-up does not exist."))


# --- staff: planning -------------------------------------------------------------------------


def _validate(data: MeetingInput) -> None:
    for name in ("title", "place"):
        if not getattr(data, name).strip():
            raise ValidationFailed(N_("This field is required."), field=name)
    if data.ends_at <= data.starts_at:
        raise ValidationFailed(N_("The meeting must end after it starts."), field="ends_at")
    if data.ends_at - data.starts_at > dt.timedelta(hours=24):
        raise ValidationFailed(N_("A meeting cannot last more than 24 hours."), field="ends_at")
    if data.capacity is not None and not 0 < data.capacity <= MAX_CAPACITY:
        raise ValidationFailed(
            N_("The number of seats must be between 1 and %(max)d."), field="capacity", max=MAX_CAPACITY
        )


def _apply(meeting: Meeting, data: MeetingInput) -> None:
    for key, value in data.__dict__.items():
        # Text is trimmed; the kind (a StrEnum) stays the enum member, which .strip() would not.
        text = isinstance(value, str) and not isinstance(value, MeetingKind)
        setattr(meeting, key, value.strip() if text else value)


def create_meeting(session: Session, actor: Actor, round_id: int, data: MeetingInput) -> Meeting:
    """Plan a meeting in a round."""
    round_ = get_round(session, round_id)
    _validate(data)
    meeting = Meeting(round=round_, walk_in_count=0)
    _apply(meeting, data)
    session.add(meeting)
    session.flush()
    record(session, actor, "meeting.create", "meeting", meeting.id, after=snapshot(meeting))
    return meeting


def refuse_editing(meeting: Meeting) -> None:
    """Raise why the meeting cannot be edited at all by its own rules, if it cannot (reads only)."""
    if meeting.cancelled_at is not None:
        raise NotAllowed(N_("A cancelled meeting cannot be changed."))


def refuse_update(session: Session, meeting: Meeting, data: MeetingInput) -> None:
    """Raise the DomainError that refuses this edit by the meeting's own rules, if any (reads only).
    A voting meeting is also tied down by its vote: ``deltager.road.update_meeting`` asks both."""
    refuse_editing(meeting)
    _validate(data)
    signed_up = count_active(session, meeting.id)
    if data.capacity is not None and data.capacity < signed_up:
        raise ValidationFailed(
            N_("%(count)d people are already signed up, so there must be at least that many seats."),
            field="capacity",
            count=signed_up,
        )
    if data.kind is not meeting.kind and signed_up and MeetingKind.VOTE in (data.kind, meeting.kind):
        raise ValidationFailed(
            N_("A meeting with sign-ups cannot become or stop being a voting meeting."), field="kind"
        )


def update_meeting(session: Session, actor: Actor, meeting_id: int, data: MeetingInput) -> Meeting:
    """Edit a meeting; the seats cannot drop below the people already signed up."""
    meeting = get_meeting(session, meeting_id, for_update=True)
    refuse_update(session, meeting, data)
    before = snapshot(meeting)
    _apply(meeting, data)
    after = snapshot(meeting)
    if any(before[name] != after[name] for name in NOTICE_FIELDS):
        meeting.revision += 1
    record(session, actor, "meeting.update", "meeting", meeting.id, before=before, after=after)
    return meeting


def sign_ups_to_tell(meeting: Meeting, revision_before: int, now: dt.datetime) -> list[Registration]:
    """After an edit: everyone still signed up, if the edit moved the meeting (its time or place
    changed, so ``update_meeting`` raised its revision) and it has not ended; else nobody."""
    moved = meeting.revision != revision_before
    return active_registrations(meeting) if moved and meeting.ends_at > now else []


def refuse_cancelling(meeting: Meeting, now: dt.datetime) -> None:
    """Raise the DomainError that refuses cancelling the meeting by its own rules, if any (reads
    only). A voting meeting is also tied down by its vote: ``deltager.road.cancel_meeting`` asks both."""
    if meeting.cancelled_at is not None:
        raise NotAllowed(N_("The meeting is already cancelled."))
    if meeting.ends_at <= now:
        raise NotAllowed(N_("The meeting is over and cannot be cancelled."))


def cancel_meeting(session: Session, actor: Actor, meeting_id: int, now: dt.datetime) -> list[Registration]:
    """Cancel a meeting; returns the sign-ups to tell (the view e-mails them after the commit)."""
    meeting = get_meeting(session, meeting_id, for_update=True)
    refuse_cancelling(meeting, now)
    before = snapshot(meeting)
    meeting.cancelled_at = now
    meeting.revision += 1
    record(session, actor, "meeting.cancel", "meeting", meeting.id, before=before, after=snapshot(meeting), at=now)
    return active_registrations(meeting)


def record_attendance(
    session: Session, actor: Actor, meeting_id: int, attended_ids: Iterable[int], walk_ins: int, now: dt.datetime
) -> Totals:
    """Tick off who of the sign-ups came and how many came without signing up."""
    meeting = get_meeting(session, meeting_id, for_update=True)
    if meeting.kind not in SIGN_UP_KINDS:
        raise NotAllowed(N_("A voting meeting's head count is recorded on the vote's page."))
    if meeting.cancelled_at is not None:
        raise NotAllowed(N_("The meeting was cancelled."))
    if now < meeting.starts_at - ATTENDANCE_OPENS_BEFORE:
        raise NotAllowed(N_("Attendance can be recorded from two hours before the meeting starts."))
    if not 0 <= walk_ins <= MAX_WALK_INS:
        raise ValidationFailed(
            N_("The number must be between 0 and %(max)d."), field="walk_ins", max=MAX_WALK_INS
        )
    active = active_registrations(meeting)
    chosen = set(attended_ids)
    unknown = chosen - {r.id for r in active}
    if unknown:
        raise ValidationFailed(N_("Choose only people signed up for this meeting."), field="attended")
    before = {"attended": sorted(r.id for r in active if r.attended), "walk_in_count": meeting.walk_in_count}
    for registration in active:
        registration.attended = registration.id in chosen
    meeting.walk_in_count = walk_ins
    after = {"attended": sorted(chosen), "walk_in_count": walk_ins}
    record(session, actor, "meeting.attendance", "meeting", meeting.id, before=before, after=after, at=now)
    return totals(meeting)


# --- citizens: signing up and cancelling ----------------------------------------------------


def register(
    session: Session,
    actor: Actor,
    meeting_id: int,
    data: RegistrationInput,
    now: dt.datetime,
    *,
    applicant_id: int | None = None,
    by_staff: bool = False,
    throttle: SignUpThrottle | None = None,
) -> tuple[Registration, str]:
    """Sign a citizen up; returns the sign-up and the cancel token (to e-mail; only its hash is kept).

    Staff (``by_staff``) may sign up a person without e-mail, given a phone number or a postal
    address; staff then phone or write to them about changes (``contact_pending``).

    The meeting row is locked while the seats are counted, so two people cannot take the last seat.
    With a ``throttle`` (a citizen's own sign-up), one client and one address may make only so
    many sign-ups per window, so that one anonymous client cannot fill meetings and make the
    service mail any number of addresses; only sign-ups made count, not a mistyped form.
    """
    if throttle is not None:
        _refuse_too_many_sign_ups(session, throttle, normalise_email(data.email), now)
    meeting = get_meeting(session, meeting_id, for_update=True)
    if meeting.kind not in SIGN_UP_KINDS or not meeting.round.is_public:
        raise NotFound(N_("The meeting does not exist."))
    if meeting.cancelled_at is not None:
        raise NotAllowed(N_("The meeting is cancelled, so you cannot sign up."))
    if now >= meeting.starts_at:
        raise NotAllowed(N_("The meeting has already taken place, so you cannot sign up."))
    name, email = data.name.strip(), normalise_email(data.email)
    if not name:
        raise ValidationFailed(N_("This field is required."), field="name")
    if by_staff and not email:
        if not (data.phone.strip() or data.address.strip()):
            raise ValidationFailed(
                N_("Without an e-mail address, write a phone number or a postal address (at least one)."), field="phone")
    elif "@" not in email:
        raise ValidationFailed(N_("Enter an e-mail address, for example navn@eksempel.dk."), field="email")
    duplicate = None if not email else session.scalar(
        select(Registration.id).where(
            Registration.meeting_id == meeting.id,
            Registration.cancelled_at.is_(None),
            func.lower(Registration.email) == email,
        )
    )
    if duplicate is not None:
        raise AlreadySignedUp(
            N_("You are already signed up for this meeting with this e-mail address. "
               "Look for our e-mail; it has a link if you want to cancel."),
            field="email",
        )
    if meeting.capacity is not None and count_active(session, meeting.id) >= meeting.capacity:
        raise MeetingFull(N_("Sorry, the meeting is full. Choose another meeting, or contact us."))
    token = secrets.token_urlsafe(32)
    registration = Registration(
        meeting=meeting,
        applicant_id=applicant_id,
        name=name,
        email=email or None,
        phone=data.phone.strip(),
        address=data.address.strip(),
        note=data.note.strip(),
        language=supported_language(data.language),
        cancel_token_hash=hash_token(token),
        attended=False,
        created_at=now,
    )
    session.add(registration)
    session.flush()
    if throttle is not None:
        for scope, key in _sign_up_keys(throttle, email):
            ratelimit.hit(session, scope, key, now, window_seconds=throttle.window_seconds)
    # Personal details stay out of the trail; the registration row holds them.
    record(
        session, actor, "meeting.register", "registration", registration.id,
        after={"meeting_id": meeting.id, "applicant_id": applicant_id}, at=now,
    )
    return registration, token


def flag_those_without_email(registrations: list[Registration], what: str) -> list[Registration]:
    """Of the sign-ups to tell about a change, those with an e-mail address; the others (signed up by
    staff without one) are marked ``contact_pending = what``, for staff to phone or write to."""
    for registration in registrations:
        if registration.email is None:
            registration.contact_pending = what
    return [r for r in registrations if r.email is not None]


def mark_registration_contacted(session: Session, actor: Actor, registration: Registration, now: dt.datetime) -> None:
    """Staff have phoned or written to a sign-up without e-mail about a change."""
    if registration.contact_pending is None:
        raise NotAllowed(N_("There is no message waiting to be given to this person."))
    record(session, actor, "meeting.contacted", "registration", registration.id,
           before={"contact_pending": registration.contact_pending}, after={"contact_pending": None}, at=now)
    registration.contact_pending = None


def _sign_up_keys(throttle: SignUpThrottle, email: str) -> list[tuple[str, str]]:
    return [(SIGN_UP_CLIENT_SCOPE, throttle.client),
            (SIGN_UP_ADDRESS_SCOPE, hashlib.sha256(email.encode()).hexdigest())]  # fits a key; no address kept


def _refuse_too_many_sign_ups(session: Session, throttle: SignUpThrottle, email: str, now: dt.datetime) -> None:
    (client_scope, client), (address_scope, address) = _sign_up_keys(throttle, email)
    window = throttle.window_seconds
    if ratelimit.is_limited(session, client_scope, client, now, limit=throttle.max_per_client, window_seconds=window):
        raise Throttled(N_("Too many sign-ups were made from your network. Try again later, "
                           "or contact us and we will sign you up."))
    if ratelimit.is_limited(session, address_scope, address, now, limit=throttle.max_per_address,
                            window_seconds=window):
        raise Throttled(N_("Too many sign-ups were made with this e-mail address. Try again later, "
                           "or contact us and we will sign you up."))


def cancel_registration(session: Session, actor: Actor, registration: Registration, now: dt.datetime) -> Registration:
    """Cancel a sign-up (its seat frees up); refused once the meeting has begun."""
    get_meeting(session, registration.meeting_id, for_update=True)
    if registration.cancelled_at is not None:
        raise NotAllowed(N_("The sign-up is already cancelled."))
    if now >= registration.meeting.starts_at:
        raise NotAllowed(N_("The meeting has already taken place, so the sign-up cannot be cancelled."))
    registration.cancelled_at = now
    record(
        session, actor, "meeting.unregister", "registration", registration.id,
        before={"cancelled_at": None}, after={"cancelled_at": now, "meeting_id": registration.meeting_id}, at=now,
    )
    return registration

