"""Meetings: staff plan them and tick off who came; citizens see them, sign up and cancel."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, render_template, request, session as flask_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import force_locale
from wtforms.fields.choices import SelectChoice

from deltager import road
from deltager.forms import ConfirmForm
from deltager.citizens.auth import applicant_required, current_applicant
from deltager.audit.services import Actor, history
from deltager.db import get_session, utcnow
from deltager.errors import DomainError, Throttled, allows
from deltager.i18n import format_local_datetime
from deltager.i18n import select_locale
from deltager.meetings import emails, services
from deltager.meetings.forms import HISTORY_LABELS, AttendanceForm, MeetingForm, SignUpForm, StaffSignUpForm
from deltager.meetings.models import Meeting, MeetingKind, Registration
from deltager.pdf.receipts import MeetingReceipt, meeting_receipt_pdf
from deltager.permissions import Permission
from deltager.rounds.services import get_round
from deltager.timeutil import local_to_utc, utc_to_local
from deltager.voting import forms as vote_forms
from deltager.voting import services as vote_services
from deltager.web import client_ip, download, public, requires, see_other, show_error, staff_actor
from deltager.work import unit_of_work

bp = Blueprint("meetings", __name__)

#: The flask-session key that lets the confirmation page show the sign-up just made (and only that).
SIGNED_UP_KEY = "meetings_signed_up"


def _status(form: Any) -> int:
    return 400 if form.errors else 200


def _citizen_actor() -> Actor:
    applicant = current_applicant()
    return Actor(user_id=None, label=f"applicant:{applicant.id}" if applicant else "citizen")


# --- staff -----------------------------------------------------------------------------------


def _meeting_input(form: MeetingForm) -> services.MeetingInput:
    return services.MeetingInput(
        kind=MeetingKind(form.kind.data),
        title=form.title.data or "",
        place=form.place.data or "",
        address=form.address.data or "",
        description=form.description.data or "",
        starts_at=local_to_utc(form.starts_at.data),
        ends_at=local_to_utc(form.ends_at.data),
        capacity=form.capacity.data,
    )


def _form_for(meeting: Meeting) -> MeetingForm:
    form = MeetingForm(obj=meeting)
    form.kind.data = meeting.kind.value
    form.starts_at.data = utc_to_local(meeting.starts_at).replace(tzinfo=None)
    form.ends_at.data = utc_to_local(meeting.ends_at).replace(tzinfo=None)
    return form


@bp.get("/staff/rounds/<int:round_id>/meetings")
@requires(Permission.MEETINGS_VIEW)
def round_meetings(round_id: int) -> ResponseReturnValue:
    """The meetings of a round with their sign-up counts."""
    session = get_session()
    round_ = get_round(session, round_id)
    meetings = services.list_meetings(session, round_id)
    totals = {m.id: services.totals(m) for m in meetings}
    return render_template("meetings/staff_list.html", round=round_, meetings=meetings, totals=totals, now=utcnow())


@bp.route("/staff/rounds/<int:round_id>/meetings/new", methods=["GET", "POST"])
@requires(Permission.MEETINGS_EDIT)
def new(round_id: int) -> ResponseReturnValue:
    """Plan a meeting."""
    round_ = get_round(get_session(), round_id)
    form = MeetingForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            meeting = services.create_meeting(work.session, staff_actor(), round_id, _meeting_input(form))
        if work.done:
            flash(_("The meeting “%(title)s” was created.", title=meeting.title), "success")
            return see_other("meetings.detail", meeting_id=meeting.id)
    return render_template("meetings/staff_form.html", form=form, round=round_, meeting=None), _status(form)


@bp.get("/staff/meetings/<int:meeting_id>")
@requires(Permission.MEETINGS_VIEW)
def detail(meeting_id: int) -> ResponseReturnValue:
    """One meeting: facts, totals, the people signed up, history (a voting meeting: a link to its vote)."""
    session = get_session()
    meeting = services.get_meeting(session, meeting_id)
    now, voting = utcnow(), meeting.kind is MeetingKind.VOTE
    return render_template(
        "meetings/staff_detail.html",
        meeting=meeting,
        round=meeting.round,
        totals=services.totals(meeting),
        active=services.active_registrations(meeting),
        cancelled=[r for r in meeting.registrations if r.cancelled_at is not None],
        may_edit=allows(road.refuse_editing_meeting, session, meeting),
        may_cancel=allows(road.refuse_cancelling_meeting, session, meeting, now),
        history=history(session, "meeting", meeting.id),
        history_labels={**HISTORY_LABELS, **(vote_forms.HISTORY_LABELS if voting else {})},
        history_value_filters={"kind": "meeting_kind", **(vote_forms.HISTORY_VALUE_FILTERS if voting else {})},
        now=now, confirm=ConfirmForm(),
    )


@bp.route("/staff/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@requires(Permission.MEETINGS_EDIT)
def edit(meeting_id: int) -> ResponseReturnValue:
    """Edit a meeting."""
    session = get_session()
    meeting = services.get_meeting(session, meeting_id)
    form = MeetingForm() if request.method == "POST" else _form_for(meeting)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            to_tell = road.edit_meeting(work.session, staff_actor(), meeting_id, _meeting_input(form), utcnow())
            work.after_commit(emails.send_change_notices, meeting, to_tell)
        if work.done:
            _tell_staff_whom_to_phone(meeting)
            _flash_told(to_tell, failed=work.results[0])
            return see_other("meetings.detail", meeting_id=meeting_id)
    return render_template(
        "meetings/staff_form.html", form=form, round=meeting.round, meeting=meeting
    ), _status(form)


def _flash_told(to_tell: list[Registration], failed: int) -> None:
    if not to_tell:
        flash(_("The changes are saved."), "success")
        return
    flash(_("The changes are saved. The new time and place were e-mailed to %(sent)d of %(total)d people signed up.",
            sent=len(to_tell) - failed, total=len(to_tell)), "success" if not failed else "warning")


@bp.route("/staff/meetings/<int:meeting_id>/cancel", methods=["GET", "POST"])
@requires(Permission.MEETINGS_EDIT)
def cancel_meeting(meeting_id: int) -> ResponseReturnValue:
    """Cancel a meeting (after a confirmation page); everyone signed up is e-mailed."""
    session = get_session()
    meeting = services.get_meeting(session, meeting_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work() as work:
            to_tell = services.flag_those_without_email(
                road.cancel_meeting(work.session, staff_actor(), meeting_id, utcnow()), "meeting:cancelled")
            work.after_commit(emails.send_cancellation_notices, meeting, to_tell)
        if work.done:
            _tell_staff_whom_to_phone(meeting)
            failed = work.results[0]
            flash(_("The meeting is cancelled. %(sent)d of %(total)d people signed up were e-mailed.",
                    sent=len(to_tell) - failed, total=len(to_tell)), "success" if not failed else "warning")
        return see_other("meetings.detail", meeting_id=meeting_id)
    return render_template(
        "meetings/staff_cancel.html", meeting=meeting, round=meeting.round, form=form,
        active=services.active_registrations(meeting),
    )


def _attendance_form(meeting: Meeting, active: list[Registration]) -> AttendanceForm:
    form = AttendanceForm()
    form.attended.choices = [SelectChoice(r.id, r.name) for r in active]
    if request.method == "GET":
        form.attended.data = [r.id for r in active if r.attended]
        form.walk_ins.data = meeting.walk_in_count
    return form


@bp.route("/staff/meetings/<int:meeting_id>/attendance", methods=["GET", "POST"])
@requires(Permission.MEETINGS_ATTENDANCE)
def attendance(meeting_id: int) -> ResponseReturnValue:
    """Tick off who came and count the walk-ins, in one form."""
    session = get_session()
    meeting = services.get_meeting(session, meeting_id)
    if meeting.kind not in services.SIGN_UP_KINDS:
        flash(_("A voting meeting's head count is recorded on the vote's page."), "info")
        return see_other("meetings.detail", meeting_id=meeting_id)
    active = services.active_registrations(meeting)
    form = _attendance_form(meeting, active)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.record_attendance(
                work.session, staff_actor(), meeting_id, form.attended.data or [], form.walk_ins.data or 0, utcnow()
            )
        if work.done:
            flash(_("Attendance is saved."), "success")
            return see_other("meetings.detail", meeting_id=meeting_id)
    return render_template(
        "meetings/staff_attendance.html", meeting=meeting, round=meeting.round, form=form, active=active,
        totals=services.totals(meeting),
    ), _status(form)


# --- citizens --------------------------------------------------------------------------------


def _prefilled_sign_up_form() -> SignUpForm:
    form = SignUpForm()
    applicant = current_applicant()
    if request.method == "GET" and applicant is not None:
        form.name.data, form.email.data, form.phone.data = applicant.name, applicant.email, applicant.phone
    return form


@bp.route("/meetings/<int:meeting_id>", methods=["GET", "POST"])
@public
def public_meeting(meeting_id: int) -> ResponseReturnValue:
    """A meeting as citizens see it, with the sign-up form while there are seats (a voting
    meeting says how to vote instead: nobody signs up for it)."""
    meeting = services.get_public_meeting(get_session(), meeting_id)
    form = _prefilled_sign_up_form()
    status = 400 if request.method == "POST" else 200
    if meeting.kind in services.SIGN_UP_KINDS and form.validate_on_submit():
        with unit_of_work(form, show=False) as work:
            registration, token = services.register(
                work.session, _citizen_actor(), meeting_id, form.to_input(select_locale()), utcnow(),
                applicant_id=_applicant_id(), throttle=_sign_up_throttle(),
            )
            work.after_commit(emails.send_confirmation, registration, token)
        if work.done:
            flask_session[SIGNED_UP_KEY] = registration.id
            return see_other("meetings.confirmation", meeting_id=meeting_id)
        status = _sign_up_refused(work.error, form)
    return _public_page(meeting, form), status


def _public_page(meeting: Meeting, form: SignUpForm) -> str:
    session, now = get_session(), utcnow()
    return render_template(
        "meetings/public_meeting.html", meeting=meeting, round=meeting.round, form=form,
        vote=vote_services.get_settings(session, meeting.id) if meeting.kind is MeetingKind.VOTE else None,
        open=services.sign_up_open(meeting, now),
        seats_left=services.seats_left(session, meeting) if meeting.kind in services.SIGN_UP_KINDS else None,
        ended=meeting.ends_at <= now,
    )


def _applicant_id() -> int | None:
    applicant = current_applicant()
    return applicant.id if applicant else None


def _sign_up_refused(error: DomainError | None, form: SignUpForm) -> int:
    """Show why the sign-up was refused; the answer's status. A full meeting: the page itself says
    so, in place of the form."""
    if not isinstance(error, services.MeetingFull):
        show_error(error, form)  # type: ignore[arg-type]
    return 429 if isinstance(error, Throttled) else 400


def _sign_up_throttle() -> services.SignUpThrottle:
    cfg = current_app.config
    return services.SignUpThrottle(
        client=client_ip(), max_per_client=cfg["SIGN_UPS_PER_CLIENT"], max_per_address=cfg["SIGN_UPS_PER_ADDRESS"],
        window_seconds=cfg["SIGN_UP_WINDOW_SECONDS"],
    )


@bp.get("/meetings/<int:meeting_id>/signed-up")
@public
def confirmation(meeting_id: int) -> ResponseReturnValue:
    """"You are signed up", for the sign-up this browser just made."""
    session = get_session()
    meeting = services.get_public_meeting(session, meeting_id)
    registration = next(
        (r for r in meeting.registrations if r.id == flask_session.get(SIGNED_UP_KEY)), None
    )
    if registration is None:
        abort(404)
    return render_template("meetings/confirmation.html", meeting=meeting, round=meeting.round,
                           registration=registration, seats_left=services.seats_left(session, meeting))


@bp.get("/meetings/<int:meeting_id>/calendar.ics")
@public
def calendar(meeting_id: int) -> ResponseReturnValue:
    """The meeting as a calendar file."""
    meeting = services.get_public_meeting(get_session(), meeting_id)
    return download(emails.meeting_ics(meeting), f"meeting-{meeting.id}.ics", "text/calendar")


@bp.route("/meetings/cancel/<secret:token>", methods=["GET", "POST"])
@public
def cancel(token: str) -> ResponseReturnValue:
    """The cancel link from the e-mail: a page with a button; only the POST cancels."""
    session = get_session()
    registration = services.registration_by_token(session, token)
    form = ConfirmForm()
    if form.validate_on_submit():
        _cancel_sign_up(registration)
        return see_other("meetings.cancel", token=token)
    return render_template("meetings/cancel.html", registration=registration, meeting=registration.meeting,
                           form=form, now=utcnow())


@bp.get("/meetings/mine")
@applicant_required
def mine() -> ResponseReturnValue:
    """The signed-in applicant's own sign-ups."""
    applicant = current_applicant()
    assert applicant is not None
    registrations = services.registrations_of_applicant(get_session(), applicant.id, applicant.email)
    return render_template("meetings/mine.html", registrations=registrations, form=ConfirmForm(), now=utcnow())


@bp.post("/meetings/mine/<int:registration_id>/cancel")
@applicant_required
def mine_cancel(registration_id: int) -> ResponseReturnValue:
    """Cancel one of the applicant's own sign-ups (someone else's is a 404)."""
    applicant = current_applicant()
    assert applicant is not None
    registration = services.registration_of_applicant(get_session(), applicant.id, applicant.email, registration_id)
    if ConfirmForm().validate_on_submit():
        _cancel_sign_up(registration)
    return see_other("meetings.mine")


def _cancel_sign_up(registration: Registration) -> None:
    """Cancel a sign-up for the citizen (from the e-mail's link or their own list)."""
    with unit_of_work() as work:
        services.cancel_registration(work.session, _citizen_actor(), registration, utcnow())
    if work.done:
        flash(_("Your sign-up is cancelled. Thank you for letting us know."), "success")


# --- staff: sign-ups for people without e-mail ----------------------------------------------------

def _tell_staff_whom_to_phone(meeting: Meeting) -> None:
    owed = sum(1 for r in services.active_registrations(meeting) if r.contact_pending)
    if owed:
        flash(_("%(count)d people signed up have no e-mail: phone or write to them (marked in the list).",
                count=owed), "warning")


def _staff_registration(registration_id: int) -> Registration:
    registration = get_session().get(Registration, registration_id)
    if registration is None:
        abort(404)
    return registration


@bp.route("/staff/meetings/<int:meeting_id>/sign-up", methods=["GET", "POST"])
@requires(Permission.MEETINGS_ATTENDANCE)
def staff_sign_up(meeting_id: int) -> ResponseReturnValue:
    """Sign up a citizen without e-mail (phone or address instead); then print their receipt."""
    session = get_session()
    meeting = services.get_meeting(session, meeting_id)
    form = StaffSignUpForm()
    if form.validate_on_submit():
        data = services.RegistrationInput(name=form.name.data or "", email="", phone=form.phone.data or "",
                                          address=form.address.data or "", note=form.note.data or "")
        with unit_of_work(form) as work:
            registration, _token = services.register(work.session, staff_actor(), meeting_id, data, utcnow(), by_staff=True)
        if work.done:
            flash(_("%(name)s is signed up. Print the receipt with the time and place for them.", name=registration.name),
                  "success")
            return see_other("meetings.staff_signed_up", registration_id=registration.id)
    return render_template("meetings/staff_sign_up.html", form=form, meeting=meeting, round=meeting.round), _status(form)


@bp.get("/staff/sign-ups/<int:registration_id>")
@requires(Permission.MEETINGS_ATTENDANCE)
def staff_signed_up(registration_id: int) -> ResponseReturnValue:
    """The sign-up just made by staff, with its receipt to print."""
    registration = _staff_registration(registration_id)
    return render_template("meetings/staff_signed_up.html", registration=registration, meeting=registration.meeting)


@bp.get("/staff/sign-ups/<int:registration_id>/receipt.pdf")
@requires(Permission.MEETINGS_ATTENDANCE)
def sign_up_receipt(registration_id: int) -> ResponseReturnValue:
    """A printed receipt of a sign-up: the meeting's time and place, in Danish."""
    registration = _staff_registration(registration_id)
    meeting = registration.meeting
    with force_locale("da"):
        data = MeetingReceipt(
            name=registration.name, meeting_title=meeting.title, round_title=meeting.round.title,
            when=f"{format_local_datetime(meeting.starts_at)} – {format_local_datetime(meeting.ends_at, 'HH:mm')}",
            place=", ".join(part for part in (meeting.place, meeting.address) if part),
            note=_("The meeting is cancelled.") if meeting.cancelled_at else "",
        )
    return download(meeting_receipt_pdf(data), f"tilmelding-{registration.id}.pdf", "application/pdf")


@bp.post("/staff/sign-ups/<int:registration_id>/contacted")
@requires(Permission.MEETINGS_ATTENDANCE)
def registration_contacted(registration_id: int) -> ResponseReturnValue:
    """Staff have phoned or written to a sign-up without e-mail about a change."""
    registration = _staff_registration(registration_id)
    if ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            services.mark_registration_contacted(work.session, staff_actor(), registration, utcnow())
        if work.done:
            flash(_("Noted: the person has been told."), "success")
    return see_other("meetings.detail", meeting_id=registration.meeting_id)
