"""The rules of applications: drafts, submission, screening, the ballot.

Status road (DESIGN.md): draft → submitted → (needs_info ↔ submitted) → on_ballot | rejected | withdrawn.

Decisions written down here (and tested):
- The applicant may withdraw from draft, submitted and needs_info; also from on_ballot as long as the
  round has not reached voting (before the ballot is printed). Once voting has begun, the ballot is fixed.
- A first submission needs the round to accept applications (open and inside the window). Answering a
  "more information needed" request (needs_info → submitted) is allowed after the deadline, while the
  round is still open or in screening: the caseworker asked for it.
- Caseworkers decide only on submitted applications, while the round is open or in screening.
  "On the ballot" needs a ticked checklist (theme, budget, eligibility, and a børneattest that is not
  needed or received when children take part); the voting domain gives it the next free stand number.
- The public list of projects on the ballot is shown once the round has reached voting (screening done).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from deltager.applications.models import (
    Applicant,
    ApplicantType,
    Application,
    ApplicationStatus,
    BudgetLine,
    ChildCertificate,
    Photo,
)
from deltager.audit.services import Actor, record
from deltager.db import get_by_id
from deltager.citizens.services import applicant_for, remember_language
from deltager.errors import N_, DomainError, NotAllowed, NotFound, ValidationFailed
from deltager.rounds.models import Round, RoundStatus

if TYPE_CHECKING:
    from deltager.uploads import ProcessedImage  # services import no flask

S = ApplicationStatus
CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)
MAX_BUDGET_LINES = 20

#: Every move the road allows, and who makes it.
TRANSITIONS: dict[tuple[ApplicationStatus, ApplicationStatus], str] = {
    (S.DRAFT, S.SUBMITTED): "applicant",
    (S.NEEDS_INFO, S.SUBMITTED): "applicant",
    (S.SUBMITTED, S.NEEDS_INFO): "staff",
    (S.SUBMITTED, S.ON_BALLOT): "staff",
    (S.SUBMITTED, S.REJECTED): "staff",
    (S.DRAFT, S.WITHDRAWN): "applicant",
    (S.SUBMITTED, S.WITHDRAWN): "applicant",
    (S.NEEDS_INFO, S.WITHDRAWN): "applicant",
    (S.ON_BALLOT, S.WITHDRAWN): "applicant",  # only before voting, see check_transition
    (S.NEEDS_INFO, S.REJECTED): "staff",  # the answer did not come in time
}
EDITABLE = frozenset({S.DRAFT, S.NEEDS_INFO})
AWAITING_DECISION = frozenset({S.SUBMITTED, S.NEEDS_INFO})
DECISIONS = (S.ON_BALLOT, S.NEEDS_INFO, S.REJECTED)
#: A børneattest that lets a project with children on the ballot.
CERTIFICATE_CLEARED = frozenset({ChildCertificate.NOT_NEEDED, ChildCertificate.RECEIVED})


# --- validation helpers ---------------------------------------------------------------------------


def valid_cvr(cvr: str) -> bool:
    """A Danish CVR number: 8 digits, first not 0, weighted sum (2,7,6,5,4,3,2,1) divisible by 11."""
    if not re.fullmatch(r"[1-9]\d{7}", cvr):
        return False
    return sum(int(d) * w for d, w in zip(cvr, CVR_WEIGHTS, strict=True)) % 11 == 0


# --- drafts and submission ------------------------------------------------------------------------


@dataclass(frozen=True)


class ApplicationInput:
    """What the applicant (or staff on their behalf) fills in. Empty strings are allowed in a draft."""

    title: str = ""
    summary: str = ""
    what: str = ""
    for_whom: str = ""
    where: str = ""
    when: str = ""
    applicant_type: ApplicantType = ApplicantType.PERSON
    association_name: str = ""
    cvr: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_address: str = ""
    requested_ore: int | None = None
    budget_lines: tuple[tuple[str, int], ...] = ()
    involves_children: bool | None = None
    consent: bool = False
    photo: ProcessedImage | None = None  # checked and re-encoded (deltager.uploads) before the write
    remove_photo: bool = False

    TEXT_LIMITS = {
        "title": 80, "summary": 300, "what": 4000, "for_whom": 4000, "where": 2000, "when": 2000,
        "association_name": 200, "contact_name": 120, "contact_phone": 40, "contact_address": 200,
    }


@dataclass


class Problems:
    """Collected problems, field → msgid (a submission lists all of them at once)."""

    items: list[ValidationFailed] = field(default_factory=list)

    def add(self, message: str, field_name: str, **params: object) -> None:
        self.items.append(ValidationFailed(message, field=field_name, **params))


class IncompleteApplication(ValidationFailed):
    """The application cannot be submitted yet; ``problems`` lists every field to fix."""

    def __init__(self, problems: list[ValidationFailed]) -> None:
        super().__init__(N_("The application is not complete yet. Fix the fields marked below."))
        self.problems = problems


def _check_format(data: ApplicationInput, round_: Round) -> None:
    """Rules that hold even for a draft: lengths, amounts, CVR format, budget lines."""
    for name, limit in ApplicationInput.TEXT_LIMITS.items():
        value = getattr(data, name)
        if len(value) > limit:
            raise ValidationFailed(N_("Write at most %(max)d characters."), field=name, max=limit)
        if any((ord(c) < 32 and c not in "\r\n\t") or ord(c) == 127 for c in value):
            raise ValidationFailed(N_("The text contains characters that are not allowed."), field=name)
    if data.requested_ore is not None:
        if data.requested_ore <= 0:
            raise ValidationFailed(N_("The amount must be more than 0 kr."), field="requested")
        if data.requested_ore > round_.cap_ore:
            raise ValidationFailed(N_("You can apply for at most %(cap)s kr."), field="requested",
                                   cap=f"{round_.cap_ore // 100:,}".replace(",", "."))
    if data.cvr and not valid_cvr(data.cvr):
        raise ValidationFailed(
            N_("The CVR number is not valid. It has 8 digits; check that you typed it correctly."), field="cvr"
        )
    if len(data.budget_lines) > MAX_BUDGET_LINES:
        raise ValidationFailed(N_("Use at most %(max)d budget lines."), field="budget", max=MAX_BUDGET_LINES)
    for description, amount in data.budget_lines:
        if not description.strip() or len(description) > 200:
            raise ValidationFailed(N_("Each budget line needs a short description (at most 200 characters)."),
                                   field="budget")
        if amount <= 0:
            raise ValidationFailed(N_("Each budget line needs an amount above 0 kr."), field="budget")


def completeness_problems(application: Application) -> list[ValidationFailed]:
    """What is missing before the application can be submitted (empty list: ready)."""
    p = Problems()
    for name in ("title", "summary", "what", "for_whom", "where", "when", "contact_name"):
        if not getattr(application, name).strip():
            p.add(N_("This field is required."), name)
    if application.applicant.email is None:  # staff must reach them another way: a phone or a letter
        if not (application.contact_phone.strip() or application.contact_address.strip()):
            p.add(N_("Without an e-mail address, write a phone number or a postal address (at least one)."),
                  "contact_phone")
    elif not application.contact_phone.strip():
        p.add(N_("This field is required."), "contact_phone")
    if application.applicant_type is ApplicantType.ASSOCIATION:
        if not application.association_name.strip():
            p.add(N_("Write the name of the association."), "association_name")
        if not application.cvr:
            p.add(N_("Write the association's CVR number."), "cvr")
    if application.requested_ore <= 0:
        p.add(N_("Write how much money you apply for."), "requested")
    elif application.requested_ore > application.round.cap_ore:
        p.add(N_("You can apply for at most %(cap)s kr."), "requested",
              cap=f"{application.round.cap_ore // 100:,}".replace(",", "."))
    total = sum(line.amount_ore for line in application.budget_lines)
    if not application.budget_lines:
        p.add(N_("Write at least one budget line."), "budget")
    elif total != application.requested_ore:
        p.add(N_("The budget lines add up to %(total)s kr., but you apply for %(amount)s kr. They must be the same."),
              "budget", total=_kr(total), amount=_kr(application.requested_ore))
    if application.involves_children is None:
        p.add(N_("Answer whether children or young people under 18 take part."), "involves_children")
    if application.consent_at is None:
        p.add(N_("You must accept the privacy notice to submit."), "consent")
    return p.items


def _kr(ore: int) -> str:
    kroner, rest = divmod(ore, 100)
    text = f"{kroner:,}".replace(",", ".")
    return f"{text},{rest:02d}" if rest else text


def snapshot(application: Application) -> dict[str, object]:
    """The fields the audit trail records."""
    return {
        "status": application.status,
        "title": application.title,
        "summary": application.summary,
        "requested_ore": application.requested_ore,
        "applicant_type": application.applicant_type,
        "association_name": application.association_name,
        "cvr": application.cvr,
        "involves_children": application.involves_children,
        "budget": [[line.description, line.amount_ore] for line in application.budget_lines],
        "has_photo": application.photo is not None,
        "stand_number": application.stand_number,
    }


def _apply_input(application: Application, data: ApplicationInput, now: dt.datetime) -> None:
    for name in ApplicationInput.TEXT_LIMITS:
        setattr(application, name, getattr(data, name).strip())
    application.applicant_type = data.applicant_type
    if data.applicant_type is ApplicantType.PERSON:
        application.association_name, application.cvr = "", ""
    else:
        application.cvr = data.cvr
    application.requested_ore = data.requested_ore or 0
    application.involves_children = data.involves_children
    application.budget_lines = [
        BudgetLine(position=i, description=desc.strip(), amount_ore=amount)
        for i, (desc, amount) in enumerate(data.budget_lines)
    ]
    if data.consent and application.consent_at is None:
        application.consent_at = now
    elif not data.consent:
        application.consent_at = None
    if data.remove_photo and application.photo is not None:
        application.photo = None
    if data.photo is not None:
        # A new photo replaces the old one in its row: a second row would be inserted before the
        # first is deleted, and break the one-photo-per-application constraint.
        photo = application.photo or Photo()
        photo.content, photo.thumbnail = data.photo.content, data.photo.thumbnail
        photo.width, photo.height, photo.created_at = data.photo.width, data.photo.height, now
        application.photo = photo
    application.updated_at = now


def create_draft(
    session: Session, actor: Actor, applicant: Applicant, round_id: int, data: ApplicationInput,
    now: dt.datetime, *, created_by_user_id: int | None = None,
) -> Application:
    """Start an application in a round that accepts applications; saved as a draft."""
    round_ = session.get(Round, round_id)
    if round_ is None or not round_.is_public:
        raise NotFound(N_("The round does not exist."))
    _require_accepting(round_, now)
    _check_format(data, round_)
    application = Application(
        round=round_, applicant=applicant, status=S.DRAFT, created_at=now,
        created_by_user_id=created_by_user_id,
    )
    if not data.contact_name and applicant.name:
        data = ApplicationInput(**{**data.__dict__, "contact_name": applicant.name})
    _apply_input(application, data, now)
    session.add(application)
    session.flush()
    after = {**snapshot(application), "on_behalf_by_user_id": created_by_user_id}
    record(session, actor, "application.create", "application", application.id, after=after, at=now)
    return application


def update_draft(
    session: Session, actor: Actor, application_id: int, data: ApplicationInput, now: dt.datetime
) -> Application:
    """Save changes to a draft, or to an application that was sent back for more information."""
    application = get_application(session, application_id, for_update=True)
    if application.status not in EDITABLE:
        raise NotAllowed(N_("The application can only be changed while it is a draft or more information is needed."))
    if application.status is S.DRAFT:
        _require_accepting(application.round, now)
    _check_format(data, application.round)
    before = snapshot(application)
    _apply_input(application, data, now)
    session.flush()
    record(session, actor, "application.update", "application", application.id,
           before=before, after=snapshot(application), at=now)
    return application


def _require_accepting(round_: Round, now: dt.datetime) -> None:
    if round_.accepts_applications(now):
        return
    if round_.status is RoundStatus.OPEN and now < round_.applications_open_at:
        raise NotAllowed(N_("The round does not accept applications yet."))
    raise NotAllowed(N_("The deadline for applications has passed. The application cannot be sent."))


def check_transition(application: Application, target: ApplicationStatus) -> None:
    """Raise NotAllowed with a clear message unless the road allows this move now."""
    source = application.status
    if (source, target) not in TRANSITIONS:
        raise NotAllowed(
            N_("An application cannot go from “%(source)s” to “%(target)s”."),
            source=source, target=target,
        )
    if (source, target) == (S.ON_BALLOT, S.WITHDRAWN) and application.round.status.index >= RoundStatus.VOTING.index:
        raise NotAllowed(N_("The ballot is fixed: a project cannot be withdrawn once voting has begun. Contact the municipality."))


def may_withdraw(application: Application) -> bool:
    """Whether the applicant may withdraw now (the page offers it only then)."""
    try:
        check_transition(application, S.WITHDRAWN)
    except NotAllowed:
        return False
    return True


@dataclass
class Saved:
    """What :func:`save_application` did: the application, whether it was sent, and why not."""

    application: Application
    submitted: bool = False
    refusal: DomainError | None = None  # why it could not be sent; the draft is kept all the same


def save_application(
    session: Session, actor: Actor, applicant: Applicant | None, round_id: int, application_id: int | None,
    data: ApplicationInput, now: dt.datetime, *, send: bool, applicant_email: str | None = None,
    created_by_user_id: int | None = None, language: str | None = None,
) -> Saved:
    """Save a draft (new, or ``application_id``'s) and, if ``send``, send it in.

    Without an ``applicant`` (staff applying on a citizen's behalf) the applicant is the one with
    ``applicant_email``, or a new one without e-mail. A draft that cannot be sent yet is still
    saved: the refusal is returned, not raised, so the caller commits what was typed. ``language``
    (the citizen's own sending) is remembered for the e-mails staff trigger later."""
    if applicant is None:
        applicant = applicant_for(session, applicant_email, now, field="applicant_email")
    if application_id is None:
        application = create_draft(session, actor, applicant, round_id, data, now, created_by_user_id=created_by_user_id)
    else:
        application = update_draft(session, actor, application_id, data, now)
    if not send:
        return Saved(application)
    try:
        submit(session, actor, application.id, now)
        if language is not None:
            remember_language(applicant, language)
    except DomainError as error:
        return Saved(application, refusal=error)
    return Saved(application, submitted=True)


def submit(session: Session, actor: Actor, application_id: int, now: dt.datetime) -> Application:
    """Send a draft (before the deadline), or send back an application after more information was asked for."""
    application = get_application(session, application_id, for_update=True)
    check_transition(application, S.SUBMITTED)
    if application.status is S.DRAFT:
        _require_accepting(application.round, now)
    elif application.round.status not in (RoundStatus.OPEN, RoundStatus.SCREENING):
        raise NotAllowed(N_("Screening is over; the application cannot be sent again."))
    problems = completeness_problems(application)
    if problems:
        raise IncompleteApplication(problems)
    return _change(session, actor, application, "application.submit", now, status=S.SUBMITTED, submitted_at=now)


def withdraw(session: Session, actor: Actor, application_id: int, now: dt.datetime) -> Application:
    """The applicant withdraws the application (see the module doc for when)."""
    application = get_application(session, application_id, for_update=True)
    check_transition(application, S.WITHDRAWN)
    return _change(session, actor, application, "application.withdraw", now, status=S.WITHDRAWN, stand_number=None)


def _change(session: Session, actor: Actor, application: Application, action: str, now: dt.datetime,
            **changes: object) -> Application:
    """Set ``changes`` on the application and record ``action`` in the trail with what changed."""
    before = snapshot(application)
    for name, value in changes.items():
        setattr(application, name, value)
    application.updated_at = now
    record(session, actor, action, "application", application.id, before=before, after=snapshot(application), at=now)
    return application


# --- reading ----------------------------------------------------------------------------------------


def get_application(session: Session, application_id: int, *, for_update: bool = False) -> Application:
    """An application by id, or NotFound."""
    return get_by_id(session, Application, application_id, N_("The application does not exist."), for_update=for_update)


def get_own_application(session: Session, applicant: Applicant, application_id: int) -> Application:
    """An application of this applicant; NotFound for anyone else's (no hint that it exists)."""
    application = session.get(Application, application_id)
    if application is None or application.applicant_id != applicant.id:
        raise NotFound(N_("The application does not exist."))
    return application


def list_own(session: Session, applicant: Applicant) -> list[Application]:
    """The applicant's applications, newest first."""
    return list(session.scalars(
        select(Application).where(Application.applicant_id == applicant.id)
        .order_by(Application.created_at.desc(), Application.id.desc())
    ))


def rounds_accepting(session: Session, now: dt.datetime) -> list[Round]:
    """Rounds a citizen can apply to right now."""
    rounds = session.scalars(select(Round).where(Round.status == RoundStatus.OPEN).order_by(Round.applications_close_at))
    return [r for r in rounds if r.accepts_applications(now)]


def status_counts(session: Session, round_id: int) -> dict[ApplicationStatus, int]:
    """How many applications of the round are in each status (every status present)."""
    rows = session.execute(
        select(Application.status, func.count(Application.id))
        .where(Application.round_id == round_id).group_by(Application.status)
    ).all()
    counts = dict.fromkeys(ApplicationStatus, 0)
    counts.update({ApplicationStatus(status): n for status, n in rows})
    return counts


def screening_queue(
    session: Session, round_id: int, *, status: ApplicationStatus | None = None, query: str = "",
    page: int = 1, per_page: int = 25, no_email: bool = False,
) -> tuple[list[Application], int]:
    """One page of a round's applications for staff (drafts are the applicants' own and not listed
    unless asked for), oldest submission first, and the total. ``no_email``: only applicants without
    an e-mail address (staff phone or write to them), drafts included, those owed a message first."""
    where = [Application.round_id == round_id]
    if no_email:
        where.append(Application.applicant_id.in_(select(Applicant.id).where(Applicant.email.is_(None))))
    if status or not no_email:
        where.append(Application.status == status if status else Application.status != S.DRAFT)
    if query:
        where.append(Application.title.contains(query[:80], autoescape=True))
    total = session.scalar(select(func.count(Application.id)).where(*where)) or 0
    rows = session.scalars(
        select(Application).where(*where)
        .order_by(*([Application.contact_pending.is_(None)] if no_email else []),
                  Application.submitted_at.is_(None), Application.submitted_at, Application.id)
        .limit(per_page).offset((max(page, 1) - 1) * per_page)
    ).all()
    return list(rows), total


def count_without_email(session: Session, round_id: int) -> int:
    """How many of the round's applicants have no e-mail address (drafts included)."""
    return session.scalar(
        select(func.count(Application.id)).join(Applicant, Applicant.id == Application.applicant_id)
        .where(Application.round_id == round_id, Applicant.email.is_(None))
    ) or 0


def mark_contacted(session: Session, actor: Actor, application_id: int, now: dt.datetime) -> Application:
    """Staff have phoned or written to an applicant without e-mail about what they were owed."""
    application = get_application(session, application_id, for_update=True)
    if application.contact_pending is None:
        raise NotAllowed(N_("There is no message waiting to be given to this applicant."))
    record(session, actor, "application.contacted", "application", application.id,
           before={"contact_pending": application.contact_pending}, after={"contact_pending": None}, at=now)
    application.contact_pending = None
    return application


def write_stand_numbers(session: Session, round_id: int, numbers: dict[int, int | None]) -> None:
    """Write the stand numbers that the voting domain gave (application id → number; None clears
    one). Voting owns the numbers and their rules; this only writes the rows."""
    # Clear first: (round_id, stand_number) is UNIQUE, and a swap would collide half-way.
    session.execute(
        update(Application)
        .where(Application.round_id == round_id, Application.id.in_(list(numbers)))
        .values(stand_number=None)
        .execution_options(synchronize_session=False)
    )
    for app_id, number in numbers.items():
        if number is not None:
            session.execute(
                update(Application).where(Application.id == app_id).values(stand_number=number)
                .execution_options(synchronize_session=False)
            )
    session.expire_all()


def ballot_is_public(round_: Round) -> bool:
    """The ballot list is public once screening is done: the round has reached voting."""
    return round_.status.index >= RoundStatus.VOTING.index


def made_on_behalf(application: Application) -> bool:
    """Whether staff started this application for a citizen. Only such applications may staff
    continue on the citizen's behalf: a citizen's own draft is theirs alone, and staff who may not
    read applications (meeting staff) must not see or rewrite it."""
    return application.created_by_user_id is not None


def photo_is_public(application: Application) -> bool:
    """Photos of projects on a public ballot are public; others only for the applicant and staff."""
    return application.status is S.ON_BALLOT


# --- screening --------------------------------------------------------------------------------------


@dataclass(frozen=True)


class ScreeningInput:
    """The caseworker's checklist and internal notes."""

    fits_theme: bool | None
    budget_plausible: bool | None
    eligible_applicant: bool | None
    child_certificate: ChildCertificate
    child_certificate_received_on: dt.date | None
    screening_notes: str


def _screening_snapshot(a: Application) -> dict[str, object]:
    return {
        "fits_theme": a.fits_theme, "budget_plausible": a.budget_plausible,
        "eligible_applicant": a.eligible_applicant, "child_certificate": a.child_certificate,
        "child_certificate_received_on": a.child_certificate_received_on,
        "screening_notes": a.screening_notes,
    }


def update_screening(
    session: Session, actor: Actor, application_id: int, data: ScreeningInput, now: dt.datetime
) -> Application:
    """Save the checklist and notes (any time; they are internal)."""
    application = get_application(session, application_id, for_update=True)
    if application.status is S.DRAFT:
        raise NotAllowed(N_("A draft cannot be screened; it has not been sent yet."))
    if data.child_certificate is ChildCertificate.RECEIVED and data.child_certificate_received_on is None:
        raise ValidationFailed(N_("Write the date the børneattest was received."), field="child_certificate_received_on")
    if data.child_certificate_received_on and data.child_certificate_received_on > now.date() + dt.timedelta(days=1):
        raise ValidationFailed(N_("The date cannot be in the future."), field="child_certificate_received_on")
    if len(data.screening_notes) > 10_000:
        raise ValidationFailed(N_("Write at most %(max)d characters."), field="screening_notes", max=10_000)
    if application.status is S.ON_BALLOT:
        _refuse_undoing_the_ballot_checks(application, data)
    before = _screening_snapshot(application)
    application.fits_theme = data.fits_theme
    application.budget_plausible = data.budget_plausible
    application.eligible_applicant = data.eligible_applicant
    application.child_certificate = data.child_certificate
    application.child_certificate_received_on = (
        data.child_certificate_received_on if data.child_certificate is ChildCertificate.RECEIVED else None
    )
    application.screening_notes = data.screening_notes.strip()
    application.updated_at = now
    record(session, actor, "application.screening", "application", application.id,
           before=before, after=_screening_snapshot(application), at=now)
    return application


def _refuse_undoing_the_ballot_checks(application: Application, data: ScreeningInput) -> None:
    """On the ballot, the checklist keeps what put the project there: a børneattest once received
    (or assessed as not needed) is not set back silently while children take part."""
    if application.involves_children and data.child_certificate not in CERTIFICATE_CLEARED:
        raise ValidationFailed(
            N_("The project is on the ballot and children take part, so the børneattest stays received or "
               "not needed. If it is no longer valid, write why in the internal notes and contact the applicant."),
            field="child_certificate",
        )
    if not (data.fits_theme and data.budget_plausible and data.eligible_applicant):
        raise ValidationFailed(
            N_("The project is on the ballot: the checklist that put it there cannot be unticked."),
            field="fits_theme",
        )


def decide(
    session: Session, actor: Actor, application_id: int, decision: ApplicationStatus, message: str,
    now: dt.datetime, *, stand_number: int | None = None,
) -> Application:
    """Put on the ballot, ask for more information (message to the applicant), or reject (reason
    required). A project put on the ballot takes ``stand_number``, which the voting domain gives
    (``deltager.road.decide``)."""
    application = get_application(session, application_id, for_update=True)
    if decision not in DECISIONS:
        raise NotAllowed(N_("Choose a decision."))
    check_transition(application, decision)
    if application.round.status not in (RoundStatus.OPEN, RoundStatus.SCREENING):
        raise NotAllowed(N_("Decisions can only be made while the round is open or in screening."))
    message = message.strip()
    if len(message) > 5000:
        raise ValidationFailed(N_("Write at most %(max)d characters."), field="message", max=5000)
    before = snapshot(application)
    if decision is S.ON_BALLOT:
        _check_ready_for_ballot(application)
        application.stand_number = stand_number
    elif not message:
        raise ValidationFailed(
            N_("Write what the applicant must add.") if decision is S.NEEDS_INFO
            else N_("Write the reason for the rejection; the applicant will get it."),
            field="message",
        )
    if decision is S.NEEDS_INFO:
        application.info_request = message
    elif decision is S.REJECTED:
        application.rejection_reason = message
    application.status = decision
    if application.applicant.email is None:
        application.contact_pending = f"decision:{decision.value}"  # no e-mail can tell them: staff must
    application.decided_at = now
    application.updated_at = now
    record(session, actor, "application.decision", "application", application.id,
           before=before, after={**snapshot(application), "message": message}, at=now)
    return application


def owe_results_by_phone(session: Session, results: dict[int, bool]) -> None:
    """After the vote: applicants without e-mail are owed their project's result (id → funded) by
    phone or letter, as ``contact_pending`` for staff (the e-mailed ones were told by mail)."""
    for application in session.scalars(select(Application).where(Application.id.in_(results))):
        application.contact_pending = "result:funded" if results[application.id] else "result:not_funded"


def _check_ready_for_ballot(application: Application) -> None:
    if not (application.fits_theme and application.budget_plausible and application.eligible_applicant):
        raise NotAllowed(N_("Tick the checklist (theme, budget, applicant) before putting the application on the ballot."))
    if application.involves_children and application.child_certificate not in CERTIFICATE_CLEARED:
        raise NotAllowed(N_("Children take part: the børneattest must be received (or assessed as not needed) first."))


# --- what applications refuse on the round's road (asked by deltager.road) ------------------------


def refuse_voting_while_undecided(session: Session, round_: Round) -> None:
    """A round goes on to voting only when every application sent in has its decision.

    From voting on, the ballot is fixed and no decision can be made, so an application still
    waiting would never get an answer.
    """
    waiting = session.scalar(select(func.count(Application.id)).where(
        Application.round_id == round_.id, Application.status.in_(AWAITING_DECISION)))
    if waiting:
        raise NotAllowed(N_("Voting cannot begin while applications await a decision (%(count)d). "
                            "Put each of them on the ballot or reject it first."), count=waiting)
