"""The e-mails to applicants, written in their language, and the next steps of a funded project.

Views call these after their commit (the voting domain too: ``tell_result`` after the vote has
closed); the texts use gettext, so this module is web-side (flask_babel).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from deltager import mail
from deltager.applications.models import ApplicantType, Application, ApplicationStatus
from deltager.errors import N_
from deltager.i18n import format_local_date


def funded_next_steps(application: Application) -> list[str]:
    """What a funded applicant does next, for the status page and the e-mail (one list, both places)."""
    round_ = application.round
    steps = [
        _("The municipality sends you a grant letter with the amount and the conditions. Read it and accept it."),
        _("Keep every receipt. You upload receipts or invoices on your page, and the municipality pays against them."),
        _("Carry out the project by %(date)s, and send a short report by %(report)s.",
          date=format_local_date(round_.project_deadline), report=format_local_date(round_.report_deadline)),
        _("Questions? Contact the municipality's social department; you can also answer any e-mail we send you."),
    ]
    if application.applicant_type is ApplicantType.ASSOCIATION:
        steps[1] = _("Keep every receipt. An association may have the money paid up front by agreement; "
                     "otherwise you upload receipts on your page and the municipality pays against them.")
    return steps


def send(to: str, subject: str, template: str, *, language: str | None = None, notify: bool = True,
         **context: Any) -> bool:
    """Send one of our e-mails after the commit: in ``language`` (the applicant's, when staff trigger
    it), else in the language of the one reading the page. ``notify=False``: a failure is only logged."""
    context.setdefault("base_url", current_app.config["BASE_URL"].rstrip("/"))
    with force_locale(language) if language is not None else nullcontext():
        text = render_template(f"applications/mail/{template}.html", **context)
        return mail.send(to=to, subject=_(subject), text=text, notify=notify)


def status_url(application: Application) -> str:
    """The applicant's status page, as an absolute link for an e-mail."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for("applications.detail", application_id=application.id)


def send_receipt(application: Application, *, by_staff: bool = False) -> None:
    """The receipt for an application sent in, by e-mail (in the applicant's language when staff sent it)."""
    if application.applicant.email is None:
        return  # no address: staff print the receipt instead (the receipt view)
    send(application.applicant.email, N_("Receipt: we have received your application"), "receipt",
         language=application.applicant.language if by_staff else None,
         application=application, status_url=status_url(application))


def tell_result(application: Application, *, funded: bool, votes: int, granted_ore: int) -> bool:
    """After the vote closed (and the commit): e-mail the applicant the result, in their language."""
    subject, template = (
        (N_("Your project gets money"), "funded") if funded else (N_("The result of the vote on your project"), "not_funded")
    )
    with force_locale(application.applicant.language):
        next_steps = funded_next_steps(application)
    return send(application.applicant.email, subject, template, language=application.applicant.language,
                notify=False, application=application, votes=votes, granted_ore=granted_ore,
                status_url=status_url(application), next_steps=next_steps)


DECISION_MAILS = {
    ApplicationStatus.ON_BALLOT: (N_("Your project is on the ballot"), "on_ballot"),
    ApplicationStatus.NEEDS_INFO: (N_("We need more information about your application"), "needs_info"),
    ApplicationStatus.REJECTED: (N_("Your application was not put on the ballot"), "rejected"),
}


def tell_decision(application: Application, decision: ApplicationStatus, meeting: Any) -> None:
    """E-mail the applicant a screening decision in their language (nobody without an address:
    staff phone them, Application.contact_pending)."""
    if application.applicant.email is None:
        return
    subject, template = DECISION_MAILS[decision]
    send(application.applicant.email, subject, template, language=application.applicant.language,
         application=application, status_url=status_url(application), meeting=meeting)
