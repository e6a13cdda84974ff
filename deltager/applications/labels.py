"""Applications' values in plain words: the status as the applicant and as staff read it, who
applies, the børneattest, a budget in the trail, and what an applicant without e-mail is owed.
The app factory registers them as Jinja filters (:func:`init_app`)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _

from deltager.applications.models import ApplicantType, ApplicationStatus, ChildCertificate
from deltager.labels import enum_label, register_filters
from deltager.money import format_ore
from deltager.web import show_enum_as

S = ApplicationStatus

STATUS_LABELS = {
    S.DRAFT: _("Draft — not sent yet"),
    S.SUBMITTED: _("Sent — waiting for the municipality"),
    S.NEEDS_INFO: _("We need more information from you"),
    S.ON_BALLOT: _("On the ballot at the voting meeting"),
    S.REJECTED: _("Rejected"),
    S.WITHDRAWN: _("Withdrawn"),
}
#: The same statuses as staff read them (the queue, the caseworker's page and the trail).
STAFF_STATUS_LABELS = {
    S.DRAFT: _("Draft (not sent)"),
    S.SUBMITTED: _("Sent — awaiting a decision"),
    S.NEEDS_INFO: _("Waiting for the applicant's answer"),
    S.ON_BALLOT: _("On the ballot"),
    S.REJECTED: _("Rejected"),
    S.WITHDRAWN: _("Withdrawn by the applicant"),
}
APPLICANT_TYPE_LABELS = {
    ApplicantType.PERSON: _("Private person"),
    ApplicantType.ASSOCIATION: _("Association"),
}
#: Where the børneattest stands, in plain words (the screening form's choices and the history).
CHILD_CERTIFICATE_LABELS = {
    ChildCertificate.NOT_ASSESSED: _("Not assessed yet"),
    ChildCertificate.NOT_NEEDED: _("Not needed"),
    ChildCertificate.REQUESTED: _("Needed — requested"),
    ChildCertificate.RECEIVED: _("Received"),
}
#: What an applicant without e-mail is owed by phone or letter (Application.contact_pending).
CONTACT_PENDING_LABELS = {
    "decision:on_ballot": _("Tell them: the project is on the ballot (time and place of the voting meeting)."),
    "decision:needs_info": _("Tell them: we need more information (read out the request below)."),
    "decision:rejected": _("Tell them: the application was rejected, and the reason."),
    "result:funded": _("Tell them: the project gets money after the vote (the amount), and what happens next."),
    "result:not_funded": _("Tell them: the project did not get money at the vote, and how many votes it got."),
}

application_status_label = enum_label(S, STATUS_LABELS, "An application status in plain words, as the applicant reads it.")
application_status_staff_label = enum_label(S, STAFF_STATUS_LABELS, "An application status in plain words, as staff read it.")
applicant_type_label = enum_label(ApplicantType, APPLICANT_TYPE_LABELS, "Private person or association, in plain words.")
child_certificate_label = enum_label(ChildCertificate, CHILD_CERTIFICATE_LABELS, "Where the børneattest stands, in plain words.")


def budget_lines_label(lines: list[list[Any]]) -> str:
    """A budget as the trail records it ([[description, øre], …]): "Leje af lokale: 2.000,00 kr.; …"."""
    return "; ".join(f"{description}: {format_ore(amount)}" for description, amount in lines)


def contact_pending_label(value: str) -> str:
    """What staff must tell an applicant without e-mail, in plain words."""
    return str(CONTACT_PENDING_LABELS.get(value, value))


FILTERS = {
    "application_status": application_status_label,
    "application_status_staff": application_status_staff_label,
    "applicant_type": applicant_type_label,
    "child_certificate": child_certificate_label,
    "budget_lines": budget_lines_label,
    "contact_pending": contact_pending_label,
}


def init_app(app: Flask) -> None:
    """Register applications' label filters, and show a status in error messages in plain words."""
    register_filters(app, FILTERS)
    show_enum_as(ApplicationStatus)(application_status_label)
