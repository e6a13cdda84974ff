"""Meetings' values in plain words: the kind of meeting, and what a sign-up without e-mail is owed.
The app factory registers them as Jinja filters (:func:`init_app`)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _

from deltager.labels import enum_label, register_filters
from deltager.meetings.models import MeetingKind

KIND_LABELS = {
    MeetingKind.INFO: _("Information meeting"),
    MeetingKind.HELP: _("Get help with your application"),
    MeetingKind.VOTE: _("Voting meeting"),
}
#: What a sign-up without e-mail is owed by phone or letter (Registration.contact_pending).
CONTACT_PENDING_LABELS = {
    "meeting:changed": _("Tell them the new time or place."),
    "meeting:cancelled": _("Tell them the meeting is cancelled."),
}

meeting_kind_label = enum_label(MeetingKind, KIND_LABELS, "A meeting kind in plain words.")


def meeting_contact_pending_label(value: str) -> str:
    """What staff must tell a sign-up without e-mail, in plain words."""
    return str(CONTACT_PENDING_LABELS.get(value, value))


FILTERS = {"meeting_kind": meeting_kind_label, "meeting_contact_pending": meeting_contact_pending_label}


def init_app(app: Flask) -> None:
    """Register meetings' label filters (called by the app factory)."""
    register_filters(app, FILTERS)
