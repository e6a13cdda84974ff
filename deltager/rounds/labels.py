"""Rounds' values in plain words: a round's status. The app factory registers it as a Jinja filter
and as the way error messages show a status (:func:`init_app`)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _

from deltager.labels import enum_label, register_filters
from deltager.rounds.models import RoundStatus
from deltager.web import show_enum_as

STATUS_LABELS = {
    RoundStatus.DRAFT: _("Draft"),
    RoundStatus.OPEN: _("Open for applications"),
    RoundStatus.SCREENING: _("Screening applications"),
    RoundStatus.VOTING: _("Voting"),
    RoundStatus.ALLOCATED: _("Result decided"),
    RoundStatus.RUNNING: _("Projects under way"),
    RoundStatus.CLOSED: _("Closed"),
}

round_status_label = enum_label(RoundStatus, STATUS_LABELS, "A round status in plain words.")


def init_app(app: Flask) -> None:
    """Register the round status filter, and show a status in error messages in plain words."""
    register_filters(app, {"round_status": round_status_label})
    show_enum_as(RoundStatus)(round_status_label)
