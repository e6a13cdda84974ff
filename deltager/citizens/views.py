"""Citizens sign in on the web: ask for a link, use it, type a receipt's reference and code, sign out.

The paths stay under /apply (the applicant's pages), as the links in e-mails sent already point there.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from deltager.applications import services as applications
from deltager.applications.models import Applicant
from deltager.citizens import codes, emails, services
from deltager.citizens.auth import current_applicant, sign_in as start_session, sign_out as end_session
from deltager.citizens.forms import CodeSignInForm, SignInForm
from deltager.db import begin_write_now, get_session, reads_first, utcnow
from deltager.errors import DomainError, Throttled
from deltager.forms import ConfirmForm
from deltager.i18n import select_locale
from deltager.web import client_ip, public, safe_next, see_other, show_error, translate_error
from deltager.work import unit_of_work

bp = Blueprint("citizens", __name__)


@bp.route("/apply/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> ResponseReturnValue:
    """Ask for a sign-in link by e-mail; the answer is the same for known and unknown addresses."""
    form = SignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        with unit_of_work(form, show=False) as work:
            applicant, token = services.request_sign_in_link(work.session, form.email.data or "", utcnow(),
                                                             client=client_ip(), **_link_limits())
            work.after_commit(emails.send_sign_in_link, applicant.email, _link(applicant, token, form.next.data))
        if work.done:
            return render_template("citizens/sign_in_sent.html", email=applicant.email, recent=None)
        return _link_refused(work.error, form)
    return render_template("citizens/sign_in.html", form=form), 400 if form.errors else 200


def _link_limits() -> dict[str, int]:
    config = current_app.config
    return {"max_per_client": config["SIGN_IN_LINKS_PER_CLIENT"],
            "client_window_seconds": config["SIGN_IN_CLIENT_WINDOW_SECONDS"]}


def _link_refused(error: DomainError | None, form: SignInForm) -> ResponseReturnValue:
    """No link sent: one went out a moment ago (it still works), too many asked for, or a typo."""
    assert error is not None
    if isinstance(error, services.LinkRecentlySent):
        return render_template("citizens/sign_in_sent.html", email=services.check_email(form.email.data or ""),
                               recent=translate_error(error))
    show_error(error, None if isinstance(error, Throttled) else form)
    return render_template("citizens/sign_in.html", form=form), 429 if isinstance(error, Throttled) else 400


def _link(applicant: Applicant, token: str, requested: str | None) -> str:
    """The link for the e-mail: on the service's public address, leading on to :func:`_link_target`."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(
        "citizens.sign_in_link", token=token, next=_link_target(applicant, requested))


def _link_target(applicant: Applicant, requested: str | None) -> str | None:
    """Where the sign-in link leads after its button: the page asked for, else the applicant's
    latest application (one press from the e-mail to the application), else their list."""
    target = safe_next(requested, "")
    if target:
        return target
    own = applications.list_own(get_session(), applicant)
    return url_for("applications.detail", application_id=own[0].id) if own else None


@bp.route("/apply/sign-in/<secret:token>", methods=["GET", "POST"])
@public
def sign_in_link(token: str) -> ResponseReturnValue:
    """The link from the e-mail. GET shows a button (mail scanners that follow links use nothing up);
    POST uses the token once and signs the applicant in."""
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        with unit_of_work(show=False) as work:
            applicant = services.redeem_sign_in_token(work.session, token, utcnow(), language=select_locale())
        if not work.done:
            return _link_page(work.error)
        start_session(applicant)
        flash(_("You are signed in."), "success")
        return redirect(safe_next(request.args.get("next"), url_for("applications.mine")), code=303)
    try:
        services.check_sign_in_token(get_session(), token, utcnow())
    except DomainError as error:
        return _link_page(error)
    return render_template("citizens/sign_in_link.html", error=None, form=form)


def _link_page(error: DomainError | None) -> ResponseReturnValue:
    """The link is used or has expired: say so, with a way to ask for a new one."""
    return render_template("citizens/sign_in_link.html", error=error, form=SignInForm()), 400


@bp.route("/apply/code", methods=["GET", "POST"])
@public
@reads_first  # the code's hash is checked (slow on purpose) before the view writes
def code_sign_in() -> ResponseReturnValue:
    """"Se din ansøgning": the reference and personal code from a printed receipt sign the citizen
    in, as the e-mailed link does, and lead to the application."""
    form = CodeSignInForm()
    if not form.validate_on_submit():
        return render_template("citizens/code_sign_in.html", form=form), 400 if form.errors else 200
    session, now, (limit, window) = get_session(), utcnow(), _code_limits()
    try:
        codes.refuse_if_throttled(session, client_ip(), now, limit=limit, window_seconds=window)
        checked = codes.check_code(session, form.reference.data or "", form.code.data or "")
        begin_write_now(session)
        application = codes.sign_in_with_code(session, checked, client_ip(), now, language=select_locale(),
                                              window_seconds=window)
    except DomainError as error:
        application, refusal = None, error
    session.commit()  # the wrong try counts even when refused (a unit of work would roll it back)
    if application is None:
        show_error(refusal)
        return render_template("citizens/code_sign_in.html", form=form), 429 if isinstance(refusal, Throttled) else 400
    start_session(application.applicant)
    flash(_("You are signed in."), "success")
    return see_other("applications.detail", application_id=application.id)


def _code_limits() -> tuple[int, int]:
    """Wrong reference + code pairs allowed per client, and in how many seconds."""
    config = current_app.config
    return config["CODE_SIGN_IN_ATTEMPTS_PER_CLIENT"], config["CODE_SIGN_IN_WINDOW_SECONDS"]


@bp.post("/apply/sign-out")
@public
def sign_out() -> ResponseReturnValue:
    """Sign the applicant out everywhere."""
    applicant = current_applicant()
    if applicant is not None and ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            services.end_applicant_sessions(work.session, applicant)
    end_session()
    flash(_("You are signed out."), "info")
    return see_other("public.index")
