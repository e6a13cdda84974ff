"""The application road on the web: the citizen's form and status, staff screening, staff applying
on a citizen's behalf, photos and the public list of projects on the ballot. (Signing in is
deltager.citizens.)"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from deltager import road, uploads
from deltager.applications import emails, services
from deltager.applications.forms import (
    HISTORY_LABELS, HISTORY_VALUE_FILTERS, ApplicationForm, DecisionForm, OnBehalfForm, ScreeningForm,
)
from deltager.applications.labels import application_status_label
from deltager.applications.models import Applicant, Application, ApplicationStatus
from deltager.audit.services import Actor, history
from deltager.citizens import codes
from deltager.citizens.auth import applicant_required, current_applicant
from deltager.citizens.services import applicant_actor
from deltager.db import get_session, reads_first, utcnow
from deltager.errors import DomainError
from deltager.forms import ConfirmForm
from deltager.i18n import format_local_datetime, select_locale
from deltager.grants import services as grant_services
from deltager.meetings import services as meetings
from deltager.pdf.receipts import ApplicationReceipt, application_receipt_pdf
from deltager.permissions import Permission
from deltager.rounds.models import Round
from deltager.rounds.services import get_public_round, get_round
from deltager.voting import services as voting
from deltager.web import download, page_number, public, requires, see_other, show_error, staff_actor
from deltager.work import unit_of_work

bp = Blueprint("applications", __name__)
S = ApplicationStatus
PER_PAGE = 25


# --- the citizen's own applications -------------------------------------------------------------


def _me() -> Applicant:
    applicant = current_applicant()
    assert applicant is not None  # guaranteed by @applicant_required
    return applicant


@bp.get("/apply")
@applicant_required
def mine() -> ResponseReturnValue:
    """My applications, and the rounds I can apply to now."""
    session = get_session()
    own = services.list_own(session, _me())
    return render_template(
        "applications/mine.html", applications=own, results=_results(session, own),
        rounds=services.rounds_accepting(session, utcnow()), applicant=_me(), confirm=ConfirmForm(),
    )


def _uploader(person: Any) -> str | None:
    """Who uploads, for the per-person limit (deltager.uploads): an applicant or a staff user."""
    if isinstance(person, Applicant):
        return f"applicant:{person.id}"
    return f"user:{person.id}" if getattr(person, "is_authenticated", False) else None


def _results(session: Session, own: list[Application]) -> dict[int, Any]:
    """The vote's result of each of these projects on the ballot, once its vote has closed (id → line)."""
    return {a.id: voting.project_result(session, a) for a in own if a.status is S.ON_BALLOT}


def _chose_photo() -> bool:
    storage = request.files.get("photo")
    return bool(storage and storage.filename)


def _render_form(form: ApplicationForm, round_: Round, application: Application | None, *, staff: bool = False) -> ResponseReturnValue:
    failed = request.method == "POST"
    return render_template(
        "applications/form.html", form=form, round=round_, application=application, staff=staff,
        photo_lost=failed and _chose_photo(),
    ), 400 if failed else 200


def _show_problems(error: DomainError, form: ApplicationForm) -> None:
    problems = getattr(error, "problems", None)
    if problems:
        flash(_("The application is saved as a draft, but it is not complete yet. Fix the fields marked below and send it again."), "error")
        for problem in problems:
            show_error(problem, form)
    else:
        show_error(error, form)


def _save(form: ApplicationForm, *, actor: Actor, applicant: Applicant | None, round_: Round,
          application: Application | None, staff: bool = False, created_by: int | None = None,
          applicant_email: str | None = None) -> tuple[Application | None, str]:
    """Save (and maybe submit) from a validated form; returns (application, "draft" | "submitted" | "failed").

    On "failed" the errors are on the form (or flashed) and the application is the saved draft, if
    any: a draft that is not complete enough to submit is still committed, so nothing typed is lost.
    The photo was decoded while the form was validated, with no lock held (``reads_first``)."""
    with unit_of_work(form, show=False) as work:
        saved = services.save_application(
            work.session, actor, applicant, round_.id, application.id if application else None, form.to_input(),
            utcnow(), send=request.form.get("action") == "submit", applicant_email=applicant_email,
            created_by_user_id=created_by, language=select_locale() if created_by is None else None,
        )
        if saved.submitted:
            work.after_commit(emails.send_receipt, saved.application, by_staff=staff)
    if work.error is not None:
        show_error(work.error, form)
        return application, "failed"
    if saved.refusal is not None:
        _show_problems(saved.refusal, form)
        return saved.application, "failed"
    return saved.application, "submitted" if saved.submitted else "draft"


@bp.route("/apply/rounds/<int:round_id>/new", methods=["GET", "POST"])
@applicant_required
@uploads.accepts(uploads.PHOTO, person=lambda: _uploader(current_applicant()))
@reads_first  # the form decodes the photo before the view writes (ApplicationForm.validate_photo)
def new(round_id: int) -> ResponseReturnValue:
    """Start an application in a round."""
    round_ = get_public_round(get_session(), round_id)
    if not round_.accepts_applications(utcnow()):
        flash(_("This round does not accept applications now."), "error")
        return redirect(url_for("public.round_page", round_id=round_id))
    form = ApplicationForm()
    if form.validate_on_submit():
        me = _me()
        application, outcome = _save(form, actor=applicant_actor(me), applicant=me, round_=round_,
                                     application=None)
        if outcome != "failed":
            return _after_save(application, outcome)
        return _render_form(form, round_, application)
    return _render_form(form, round_, None)


def _after_save(application: Any, outcome: str) -> Response:
    if outcome == "submitted":
        flash(_("Thank you! Your application is sent. We have e-mailed you a receipt."), "success")
        return see_other("applications.detail", application_id=application.id)
    flash(_("Your draft is saved. You can come back and finish it before the deadline."), "success")
    return see_other("applications.edit", application_id=application.id)


@bp.route("/apply/<int:application_id>/edit", methods=["GET", "POST"])
@applicant_required
@uploads.accepts(uploads.PHOTO, person=lambda: _uploader(current_applicant()))
@reads_first  # the form decodes the photo before the view writes (ApplicationForm.validate_photo)
def edit(application_id: int) -> ResponseReturnValue:
    """Change a draft, or answer a request for more information."""
    session = get_session()
    application = services.get_own_application(session, _me(), application_id)
    if application.status not in services.EDITABLE:
        return see_other("applications.detail", application_id=application_id)
    form = ApplicationForm()
    if request.method == "GET":
        form.fill_from(application)
    if form.validate_on_submit():
        _saved, outcome = _save(form, actor=applicant_actor(_me()), applicant=_me(),
                                round_=application.round, application=application)
        if outcome != "failed":
            return _after_save(application, outcome)
    return _render_form(form, application.round, application)


@bp.get("/apply/<int:application_id>")
@applicant_required
def detail(application_id: int) -> ResponseReturnValue:
    """The status of one of my applications, in plain words."""
    session = get_session()
    application = services.get_own_application(session, _me(), application_id)
    return render_template(
        "applications/detail.html", application=application, confirm=ConfirmForm(),
        results=_results(session, [application]), may_withdraw=services.may_withdraw(application),
        meeting=meetings.next_voting_meeting(session, application.round_id, utcnow()),
        next_steps=emails.funded_next_steps(application),
        grant=next(iter(grant_services.grants_for_applications(session, [application.id])), None),
    )


@bp.route("/apply/<int:application_id>/withdraw", methods=["GET", "POST"])
@applicant_required
def withdraw(application_id: int) -> ResponseReturnValue:
    """Ask "are you sure?", then withdraw."""
    session = get_session()
    application = services.get_own_application(session, _me(), application_id)
    if request.method == "GET" and not services.may_withdraw(application):
        return see_other("applications.detail", application_id=application_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work() as work:
            services.withdraw(work.session, applicant_actor(_me()), application.id, utcnow())
        if work.done:
            flash(_("Your application is withdrawn."), "success")
        return see_other("applications.detail", application_id=application_id)
    return render_template("applications/withdraw.html", application=application, form=form)


# --- photos -------------------------------------------------------------------------------------


def _may_see_photo(application: Application) -> bool:
    if services.photo_is_public(application):
        return True
    applicant = current_applicant()
    if applicant is not None and applicant.id == application.applicant_id:
        return True
    return bool(current_user.is_authenticated and (
        current_user.can(Permission.APPLICATIONS_VIEW)
        or (current_user.can(Permission.APPLICATIONS_ON_BEHALF) and services.made_on_behalf(application))
    ))


def _photo_response(application_id: int, thumbnail: bool) -> Response:
    application = get_session().get(Application, application_id)
    if application is None or application.photo is None or not _may_see_photo(application):
        abort(404)
    photo = application.photo
    response = Response(photo.thumbnail if thumbnail else photo.content, mimetype="image/jpeg")
    public_photo = services.photo_is_public(application)
    response.headers["Cache-Control"] = "public, max-age=300" if public_photo else "private, no-store"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.get("/applications/<int:application_id>/photo.jpg")
@public  # access is checked inside: public only for projects on the ballot
def photo(application_id: int) -> ResponseReturnValue:
    """The re-encoded project photo."""
    return _photo_response(application_id, thumbnail=False)


@bp.get("/applications/<int:application_id>/thumbnail.jpg")
@public  # access is checked inside: public only for projects on the ballot
def thumbnail(application_id: int) -> ResponseReturnValue:
    """The small project photo for lists and the ballot."""
    return _photo_response(application_id, thumbnail=True)


# --- public list of projects on the ballot ------------------------------------------------------


@bp.get("/rounds/<int:round_id>/projects")
@public
def ballot(round_id: int) -> ResponseReturnValue:
    """The projects on the ballot, so attendees can read up before the voting meeting."""
    session = get_session()
    round_ = get_public_round(session, round_id)
    projects = voting.ballot_projects(session, round_id) if services.ballot_is_public(round_) else []
    return render_template("applications/ballot.html", round=round_, projects=projects,
                           published=services.ballot_is_public(round_))


# --- staff: screening ---------------------------------------------------------------------------


@bp.get("/staff/rounds/<int:round_id>/applications")
@requires(Permission.APPLICATIONS_VIEW)
def queue(round_id: int) -> ResponseReturnValue:
    """The screening queue of a round: counts per status, a filter and pages."""
    session = get_session()
    round_ = get_round(session, round_id)
    try:
        status = S(request.args.get("status", "")) if request.args.get("status") else None
    except ValueError:
        status = None
    query = request.args.get("q", "").strip()[:80]
    no_email = request.args.get("no_email") == "1"
    page = page_number()
    rows, total = services.screening_queue(session, round_id, status=status, query=query, page=page,
                                           per_page=PER_PAGE, no_email=no_email)
    return render_template(
        "applications/queue.html", round=round_, rows=rows, total=total, page=page,
        pages=max(1, -(-total // PER_PAGE)), status=status, query=query, no_email=no_email,
        counts=services.status_counts(session, round_id), statuses=list(S),
        without_email=services.count_without_email(session, round_id),
    )


def _screening_form(application: Application) -> ScreeningForm:
    form = ScreeningForm()
    if request.method == "GET":
        form.fill_from(application)
    return form


def _staff_page(application: Application, screening: ScreeningForm | None = None,
                decision: DecisionForm | None = None) -> ResponseReturnValue:
    failed = bool((screening and screening.errors) or (decision and decision.errors))
    return render_template(
        "applications/staff_detail.html", application=application,
        screening=screening or _screening_form(application), decision=decision or DecisionForm(),
        history=history(get_session(), "application", application.id),
        history_labels=HISTORY_LABELS, history_value_filters=HISTORY_VALUE_FILTERS,
        created_by=application.created_by_user_id, confirm=ConfirmForm(),
        may_print_receipt=_may_print_receipt(application),
    ), 400 if failed else 200


@bp.get("/staff/applications/<int:application_id>")
@requires(Permission.APPLICATIONS_VIEW)
def staff_detail(application_id: int) -> ResponseReturnValue:
    """One application for the caseworker: contents, checklist, decision, history."""
    return _staff_page(services.get_application(get_session(), application_id))


@bp.post("/staff/applications/<int:application_id>/screening")
@requires(Permission.APPLICATIONS_SCREEN)
def screening(application_id: int) -> ResponseReturnValue:
    """Save the checklist and internal notes."""
    application = services.get_application(get_session(), application_id)
    form = ScreeningForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.update_screening(work.session, staff_actor(), application_id, form.to_input(), utcnow())
        if work.done:
            flash(_("The checklist is saved."), "success")
        if work.done or not form.errors:  # saved, or refused with a message flashed (not on a field)
            return see_other("applications.staff_detail", application_id=application_id)
    return _staff_page(application, screening=form)


@bp.post("/staff/applications/<int:application_id>/decision")
@requires(Permission.APPLICATIONS_SCREEN)
def decide(application_id: int) -> ResponseReturnValue:
    """Decide: on the ballot, more information needed, or rejected; the applicant gets an e-mail."""
    application = services.get_application(get_session(), application_id)
    form = DecisionForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            road.decide(work.session, staff_actor(), application_id, form.status, form.message.data or "", utcnow())
            work.after_commit(emails.tell_decision, application, form.status,
                              meetings.next_voting_meeting(work.session, application.round_id, utcnow()))
        if work.done:
            return _decided(application)
        if not form.errors:  # refused with a message flashed (not on a field)
            return see_other("applications.staff_detail", application_id=application_id)
    return _staff_page(application, decision=form)


def _decided(application: Application) -> Response:
    if application.applicant.email is None:
        flash(_("The decision is saved. The applicant has no e-mail address: phone or write to them, "
                "then mark it as done on the application."), "warning")
        return see_other("applications.staff_detail", application_id=application.id)
    flash(_("The decision is saved and the applicant has been told by e-mail."), "success")
    return see_other("applications.queue", round_id=application.round_id)


# --- staff: applying on a citizen's behalf ------------------------------------------------------


@bp.route("/staff/rounds/<int:round_id>/applications/new", methods=["GET", "POST"])
@requires(Permission.APPLICATIONS_ON_BEHALF)
@uploads.accepts(uploads.PHOTO, person=lambda: _uploader(current_user))
@reads_first  # the form decodes the photo before the view writes (ApplicationForm.validate_photo)
def on_behalf_new(round_id: int) -> ResponseReturnValue:
    """Fill in an application for a citizen (help meeting, phone); the citizen still gets the e-mails."""
    round_ = get_round(get_session(), round_id)
    form = OnBehalfForm()
    if form.validate_on_submit():
        application, outcome = _save(form, actor=staff_actor(), applicant=None, round_=round_, application=None,
                                     staff=True, created_by=current_user.id, applicant_email=form.applicant_email.data)
        if outcome != "failed":
            return _after_on_behalf(application, outcome)
        return _render_form(form, round_, application, staff=True)
    return _render_form(form, round_, None, staff=True)


def _after_on_behalf(application: Any, outcome: str) -> Response:
    if outcome == "submitted" and application.applicant.email is None:
        flash(_("The application is sent on the citizen's behalf. The citizen has no e-mail: print the receipt "
                "with the personal code and give it to them."), "success")
        return see_other("applications.receipt", application_id=application.id)
    if outcome == "submitted":
        flash(_("The application is sent on the citizen's behalf."), "success")
    else:
        flash(_("The draft is saved on the citizen's behalf."), "success")
    return see_other("applications.on_behalf_edit", application_id=application.id)


@bp.route("/staff/applications/<int:application_id>/on-behalf", methods=["GET", "POST"])
@requires(Permission.APPLICATIONS_ON_BEHALF)
@uploads.accepts(uploads.PHOTO, person=lambda: _uploader(current_user))
@reads_first  # the form decodes the photo before the view writes (ApplicationForm.validate_photo)
def on_behalf_edit(application_id: int) -> ResponseReturnValue:
    """Continue an application for a citizen (draft or more information needed)."""
    session = get_session()
    application = services.get_application(session, application_id)
    if not services.made_on_behalf(application):
        abort(403)  # the citizen's own application: staff read it on the screening page, if at all
    form = OnBehalfForm(applicant_email=application.applicant.email or "")
    if application.status not in services.EDITABLE:
        return render_template("applications/on_behalf_done.html", application=application,
                               may_print_receipt=_may_print_receipt(application))
    if request.method == "GET":
        form.fill_from(application)
    if form.validate_on_submit():
        _saved, outcome = _save(form, actor=staff_actor(), applicant=application.applicant,
                                round_=application.round, application=application, staff=True)
        if outcome != "failed":
            return _after_on_behalf(application, outcome)
    return _render_form(form, application.round, application, staff=True)


# --- staff: receipts with a personal code, and people without e-mail ------------------------------

def _may_print_receipt(application: Application) -> bool:
    return current_user.can(Permission.APPLICATIONS_ON_BEHALF) and codes.may_issue_code(
        application, user_id=current_user.id, can_screen=current_user.can(Permission.APPLICATIONS_SCREEN))


@bp.route("/staff/applications/<int:application_id>/receipt", methods=["GET", "POST"])
@requires(Permission.APPLICATIONS_ON_BEHALF)
def receipt(application_id: int) -> ResponseReturnValue:
    """Print a receipt with a new personal code: GET says what printing does, POST issues the code
    (the old one stops working) and answers with the PDF, the only place the code is ever shown."""
    session = get_session()
    application = services.get_application(session, application_id)
    if not _may_print_receipt(application):
        abort(403)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("applications/receipt.html", application=application, form=form,
                               reference=codes.reference(application), look_up_url=_look_up_url())
    with unit_of_work() as work:
        code = codes.issue_code(work.session, staff_actor(), application, utcnow())
    if not work.done:
        return see_other("applications.receipt", application_id=application_id)
    pdf = application_receipt_pdf(_receipt_data(application, code))
    return download(pdf, f"kvittering-{codes.reference(application)}.pdf", "application/pdf")


def _look_up_url() -> str:
    """"Se din ansøgning" as the receipt prints it: on the service's public address."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for("citizens.code_sign_in")


def _receipt_data(application: Application, code: str) -> ApplicationReceipt:
    """The receipt's texts, always in Danish (the municipality's paper)."""
    with force_locale("da"):
        return ApplicationReceipt(
            name=application.contact_name, title=application.title, round_title=application.round.title,
            status=application_status_label(application.status), reference=codes.reference(application),
            code=codes.format_code(code), printed_on=format_local_datetime(utcnow()),
            look_up_url=_look_up_url(),
        )


@bp.post("/staff/applications/<int:application_id>/contacted")
@requires(Permission.APPLICATIONS_SCREEN)
def contacted(application_id: int) -> ResponseReturnValue:
    """Staff have phoned or written to an applicant without e-mail about the message they were owed."""
    services.get_application(get_session(), application_id)
    if ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            services.mark_contacted(work.session, staff_actor(), application_id, utcnow())
        if work.done:
            flash(_("Noted: the applicant has been told."), "success")
    return see_other("applications.staff_detail", application_id=application_id)
