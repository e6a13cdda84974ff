"""The application road on the web: sign-in links, the citizen's form and status, staff screening,
staff applying on a citizen's behalf, photos and the public list of projects on the ballot."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, lazy_gettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from deltager import road, uploads
from deltager.forms import ConfirmForm
from deltager.applications import codes, emails, services
from deltager.applications.auth import applicant_required, current_applicant, sign_in as start_session, sign_out as end_session
from deltager.applications.forms import (
    CHILD_CERTIFICATE_LABELS, HISTORY_LABELS, HISTORY_VALUE_FILTERS, ApplicationForm, CodeSignInForm, DecisionForm,
    OnBehalfForm, ScreeningForm, SignInForm, yes_no,
)
from deltager.applications.models import Applicant, ApplicantType, Application, ApplicationStatus, ChildCertificate
from deltager.audit.services import Actor, history
from deltager.db import begin_write_now, get_session, reads_first, utcnow
from deltager.errors import N_, DomainError, Throttled, ValidationFailed
from deltager.i18n import format_local_datetime, select_locale
from deltager.mail import send
from deltager.meetings import services as meetings
from deltager.money import format_ore
from deltager.pdf.receipts import ApplicationReceipt, application_receipt_pdf
from deltager.permissions import Permission
from deltager.rounds.models import Round
from deltager.rounds.services import get_public_round, get_round
from deltager.web import (
    client_ip, download, page_number, public, requires, safe_next, see_other, show_enum_as, show_error, staff_actor,
    translate_error,
)
from deltager.voting import services as voting

bp = Blueprint("applications", __name__)
S = ApplicationStatus
PER_PAGE = 25

STATUS_LABELS = {
    S.DRAFT: lazy_gettext("Draft — not sent yet"),
    S.SUBMITTED: lazy_gettext("Sent — waiting for the municipality"),
    S.NEEDS_INFO: lazy_gettext("We need more information from you"),
    S.ON_BALLOT: lazy_gettext("On the ballot at the voting meeting"),
    S.REJECTED: lazy_gettext("Rejected"),
    S.WITHDRAWN: lazy_gettext("Withdrawn"),
}


@show_enum_as(ApplicationStatus)
@bp.app_template_filter("application_status")
def application_status_label(status: ApplicationStatus) -> str:
    """An application status in plain words, as the applicant reads it."""
    return str(STATUS_LABELS[ApplicationStatus(status)])


#: The same statuses as staff read them (the queue, the caseworker's page and the trail).
STAFF_STATUS_LABELS = {
    S.DRAFT: lazy_gettext("Draft (not sent)"),
    S.SUBMITTED: lazy_gettext("Sent — awaiting a decision"),
    S.NEEDS_INFO: lazy_gettext("Waiting for the applicant's answer"),
    S.ON_BALLOT: lazy_gettext("On the ballot"),
    S.REJECTED: lazy_gettext("Rejected"),
    S.WITHDRAWN: lazy_gettext("Withdrawn by the applicant"),
}


@bp.app_template_filter("application_status_staff")
def application_status_staff_label(status: ApplicationStatus) -> str:
    """An application status in plain words, as staff read it."""
    return str(STAFF_STATUS_LABELS[ApplicationStatus(status)])


APPLICANT_TYPE_LABELS = {
    ApplicantType.PERSON: lazy_gettext("Private person"),
    ApplicantType.ASSOCIATION: lazy_gettext("Association"),
}


@bp.app_template_filter("applicant_type")
def applicant_type_label(value: ApplicantType) -> str:
    """Private person or association, in plain words."""
    return str(APPLICANT_TYPE_LABELS[ApplicantType(value)])


@bp.app_template_filter("child_certificate")
def child_certificate_label(value: ChildCertificate) -> str:
    """Where the børneattest stands, in plain words."""
    return str(CHILD_CERTIFICATE_LABELS[ChildCertificate(value)])


@bp.app_template_filter("budget_lines")
def budget_lines_label(lines: list[list[Any]]) -> str:
    """A budget as the trail records it ([[description, øre], …]): "Leje af lokale: 2.000,00 kr.; …"."""
    return "; ".join(f"{description}: {format_ore(amount)}" for description, amount in lines)


# --- sign-in ------------------------------------------------------------------------------------


@bp.route("/apply/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> ResponseReturnValue:
    """Ask for a sign-in link by e-mail; the answer is the same for known and unknown addresses."""
    form = SignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        session = get_session()
        try:
            applicant, token = services.request_sign_in_link(
                session, form.email.data or "", utcnow(), client=client_ip(),
                max_per_client=current_app.config["SIGN_IN_LINKS_PER_CLIENT"],
                client_window_seconds=current_app.config["SIGN_IN_CLIENT_WINDOW_SECONDS"],
            )
        except services.LinkRecentlySent as error:  # not refused: the link sent a moment ago works
            session.rollback()
            return render_template("applications/sign_in_sent.html", email=services.check_email(form.email.data or ""),
                                   recent=translate_error(error))
        except Throttled as error:
            session.rollback()
            show_error(error)
            return render_template("applications/sign_in.html", form=form), 429
        except ValidationFailed as error:
            show_error(error, form)
        else:
            session.commit()
            link = current_app.config["BASE_URL"].rstrip("/") + url_for(
                "applications.sign_in_link", token=token, next=_link_target(applicant, form.next.data)
            )
            emails.send(applicant.email, N_("Your sign-in link for Deltager"), "sign_in", link=link,
                        minutes=int(services.TOKEN_LIFETIME.total_seconds() // 60))
            return render_template("applications/sign_in_sent.html", email=applicant.email, recent=None)
    return render_template("applications/sign_in.html", form=form), 400 if form.errors else 200


def _link_target(applicant: Applicant, requested: str | None) -> str | None:
    """Where the sign-in link leads after its button: the page asked for, else the applicant's
    latest application (one press from the e-mail to the application), else their list."""
    target = safe_next(requested, "")
    if target:
        return target
    own = services.list_own(get_session(), applicant)
    return url_for("applications.detail", application_id=own[0].id) if own else None


@bp.route("/apply/sign-in/<secret:token>", methods=["GET", "POST"])
@public
def sign_in_link(token: str) -> ResponseReturnValue:
    """The link from the e-mail. GET shows a button (mail scanners that follow links use nothing up);
    POST uses the token once and signs the applicant in."""
    session = get_session()
    form = ConfirmForm()
    try:
        if request.method == "POST" and form.validate_on_submit():
            applicant = services.redeem_sign_in_token(session, token, utcnow(), language=select_locale())
            session.commit()
            start_session(applicant)
            flash(_("You are signed in."), "success")
            return redirect(safe_next(request.args.get("next"), url_for("applications.mine")), code=303)
        services.check_sign_in_token(session, token, utcnow())
    except DomainError as error:
        return render_template("applications/sign_in_link.html", error=error, form=SignInForm()), 400
    return render_template("applications/sign_in_link.html", error=None, form=form)


@bp.route("/apply/code", methods=["GET", "POST"])
@public
@reads_first  # the code's hash is checked (slow on purpose) before the view writes
def code_sign_in() -> ResponseReturnValue:
    """"Se din ansøgning": the reference and personal code from a printed receipt sign the citizen
    in, as the e-mailed link does, and lead to the application."""
    form = CodeSignInForm()
    if not form.validate_on_submit():
        return render_template("applications/code_sign_in.html", form=form), 400 if form.errors else 200
    session, now, config = get_session(), utcnow(), current_app.config
    try:
        codes.refuse_if_throttled(session, client_ip(), now, limit=config["CODE_SIGN_IN_ATTEMPTS_PER_CLIENT"],
                                  window_seconds=config["CODE_SIGN_IN_WINDOW_SECONDS"])
    except Throttled as error:
        show_error(error)
        return render_template("applications/code_sign_in.html", form=form), 429
    checked = codes.check_code(session, form.reference.data or "", form.code.data or "")
    begin_write_now(session)
    try:
        application = codes.sign_in_with_code(session, checked, client_ip(), now, language=select_locale(),
                                              window_seconds=config["CODE_SIGN_IN_WINDOW_SECONDS"])
    except DomainError as error:
        session.commit()  # the wrong try counts
        show_error(error)
        return render_template("applications/code_sign_in.html", form=form), 400
    session.commit()
    start_session(application.applicant)
    flash(_("You are signed in."), "success")
    return see_other("applications.detail", application_id=application.id)


@bp.post("/apply/sign-out")
@public
def sign_out() -> ResponseReturnValue:
    """Sign the applicant out everywhere."""
    applicant = current_applicant()
    if applicant is not None and ConfirmForm().validate_on_submit():
        services.end_applicant_sessions(get_session(), applicant)
        get_session().commit()
    end_session()
    flash(_("You are signed out."), "info")
    return see_other("public.index")


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


def _save(form: ApplicationForm, *, actor: Actor, applicant: Applicant, round_: Round,
          application: Application | None, created_by: int | None = None) -> tuple[Application | None, str]:
    """Save (and maybe submit) from a validated form; returns (application, "draft" | "submitted" | "failed").

    On "failed" the errors are on the form (or flashed) and the application is the saved draft, if
    any: a draft that is not complete enough to submit is still committed, so nothing typed is lost."""
    session = get_session()
    begin_write_now(session)  # the photo was decoded while the form was validated, with no lock held
    now = utcnow()
    data = form.to_input()
    try:
        if application is None:
            application = services.create_draft(session, actor, applicant, round_.id, data, now,
                                                created_by_user_id=created_by)
        else:
            application = services.update_draft(session, actor, application.id, data, now)
    except DomainError as error:
        session.rollback()
        show_error(error, form)
        return application, "failed"
    if request.form.get("action") != "submit":
        session.commit()
        return application, "draft"
    try:
        services.submit(session, actor, application.id, now)
        if created_by is None:  # the citizen themself: later e-mails from staff follow their language
            services.remember_language(applicant, select_locale())
    except DomainError as error:
        session.commit()  # the draft is kept
        _show_problems(error, form)
        return application, "failed"
    session.commit()
    return application, "submitted"


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
        application, outcome = _save(form, actor=services.applicant_actor(me), applicant=me, round_=round_,
                                     application=None)
        if outcome != "failed":
            return _after_save(application, outcome)
        return _render_form(form, round_, application)
    return _render_form(form, round_, None)


def _after_save(application: Any, outcome: str) -> Response:
    if outcome == "submitted":
        emails.send_receipt(application)
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
        _saved, outcome = _save(form, actor=services.applicant_actor(_me()), applicant=_me(),
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
        try:
            services.withdraw(session, services.applicant_actor(_me()), application.id, utcnow())
        except DomainError as error:
            show_error(error)
        else:
            session.commit()
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
        to_choice = {True: "yes", False: "no", None: ""}
        form.fits_theme.data = to_choice[application.fits_theme]
        form.budget_plausible.data = to_choice[application.budget_plausible]
        form.eligible_applicant.data = to_choice[application.eligible_applicant]
        form.child_certificate.data = application.child_certificate.value
        form.child_certificate_received_on.data = application.child_certificate_received_on
        form.screening_notes.data = application.screening_notes
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
    session = get_session()
    application = services.get_application(session, application_id)
    form = ScreeningForm()
    if form.validate_on_submit():
        try:
            cert = ChildCertificate(form.child_certificate.data)
        except ValueError:
            cert = ChildCertificate.NOT_ASSESSED
        data = services.ScreeningInput(
            fits_theme=yes_no(form.fits_theme.data), budget_plausible=yes_no(form.budget_plausible.data),
            eligible_applicant=yes_no(form.eligible_applicant.data), child_certificate=cert,
            child_certificate_received_on=form.child_certificate_received_on.data,
            screening_notes=form.screening_notes.data or "",
        )
        try:
            services.update_screening(session, staff_actor(), application_id, data, utcnow())
        except DomainError as error:
            session.rollback()
            show_error(error, form)
            if not form.errors:
                return see_other("applications.staff_detail", application_id=application_id)
        else:
            session.commit()
            flash(_("The checklist is saved."), "success")
            return see_other("applications.staff_detail", application_id=application_id)
    return _staff_page(application, screening=form)


DECISION_MAILS = {
    S.ON_BALLOT: (N_("Your project is on the ballot"), "on_ballot"),
    S.NEEDS_INFO: (N_("We need more information about your application"), "needs_info"),
    S.REJECTED: (N_("Your application was not put on the ballot"), "rejected"),
}


@bp.post("/staff/applications/<int:application_id>/decision")
@requires(Permission.APPLICATIONS_SCREEN)
def decide(application_id: int) -> ResponseReturnValue:
    """Decide: on the ballot, more information needed, or rejected; the applicant gets an e-mail."""
    session = get_session()
    application = services.get_application(session, application_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            decision = S(form.decision.data or "")
            road.decide(session, staff_actor(), application_id, decision, form.message.data or "", utcnow())
        except ValueError:
            form.decision.errors = [_("Choose a decision.")]
        except DomainError as error:
            session.rollback()
            show_error(error, form)
            if not form.errors:
                return see_other("applications.staff_detail", application_id=application_id)
        else:
            session.commit()
            if application.applicant.email is None:
                flash(_("The decision is saved. The applicant has no e-mail address: phone or write to them, "
                        "then mark it as done on the application."), "warning")
                return see_other("applications.staff_detail", application_id=application_id)
            subject, template = DECISION_MAILS[decision]
            emails.send(application.applicant.email, subject, template, language=application.applicant.language,
                        application=application, status_url=emails.status_url(application),
                        meeting=meetings.next_voting_meeting(session, application.round_id, utcnow()))
            flash(_("The decision is saved and the applicant has been told by e-mail."), "success")
            return see_other("applications.queue", round_id=application.round_id)
    return _staff_page(application, decision=form)


# --- staff: applying on a citizen's behalf ------------------------------------------------------


@bp.route("/staff/rounds/<int:round_id>/applications/new", methods=["GET", "POST"])
@requires(Permission.APPLICATIONS_ON_BEHALF)
@uploads.accepts(uploads.PHOTO, person=lambda: _uploader(current_user))
@reads_first  # the form decodes the photo before the view writes (ApplicationForm.validate_photo)
def on_behalf_new(round_id: int) -> ResponseReturnValue:
    """Fill in an application for a citizen (help meeting, phone); the citizen still gets the e-mails."""
    session = get_session()
    round_ = get_round(session, round_id)
    form = OnBehalfForm()
    if form.validate_on_submit():
        begin_write_now(session)
        try:
            applicant = (services.get_or_create_applicant(session, form.applicant_email.data, utcnow())
                         if form.applicant_email.data else services.create_applicant_without_email(session, utcnow()))
        except DomainError as error:
            form.applicant_email.errors = [translate_error(error)]
        else:
            application, outcome = _save(form, actor=staff_actor(), applicant=applicant, round_=round_,
                                         application=None, created_by=current_user.id)
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
        emails.send_receipt(application, by_staff=True)
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
                                round_=application.round, application=application)
        if outcome != "failed":
            return _after_on_behalf(application, outcome)
    return _render_form(form, application.round, application, staff=True)


# --- staff: receipts with a personal code, and people without e-mail ------------------------------

#: What an applicant without e-mail is owed by phone or letter (Application.contact_pending).
CONTACT_PENDING_LABELS = {
    "decision:on_ballot": lazy_gettext("Tell them: the project is on the ballot (time and place of the voting meeting)."),
    "decision:needs_info": lazy_gettext("Tell them: we need more information (read out the request below)."),
    "decision:rejected": lazy_gettext("Tell them: the application was rejected, and the reason."),
    "result:funded": lazy_gettext("Tell them: the project gets money after the vote (the amount), and what happens next."),
    "result:not_funded": lazy_gettext("Tell them: the project did not get money at the vote, and how many votes it got."),
}


@bp.app_template_filter("contact_pending")
def contact_pending_label(value: str) -> str:
    """What staff must tell an applicant without e-mail, in plain words."""
    return str(CONTACT_PENDING_LABELS.get(value, value))


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
    code = codes.issue_code(session, staff_actor(), application, utcnow())
    session.commit()
    pdf = application_receipt_pdf(_receipt_data(application, code))
    return download(pdf, f"kvittering-{codes.reference(application)}.pdf", "application/pdf")


def _look_up_url() -> str:
    """"Se din ansøgning" as the receipt prints it: on the service's public address."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for("applications.code_sign_in")


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
    session = get_session()
    services.get_application(session, application_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.mark_contacted(session, staff_actor(), application_id, utcnow())
        except DomainError as error:
            session.rollback()
            show_error(error)
        else:
            session.commit()
            flash(_("Noted: the applicant has been told."), "success")
    return see_other("applications.staff_detail", application_id=application_id)
