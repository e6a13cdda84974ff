"""The e-mails about meetings, written in the citizen's language, and the meeting's .ics file.

Views call these after their commit; the texts use gettext, so this module is web-side (flask_babel).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, url_for
from flask_babel import force_locale, format_datetime, gettext

from deltager import mail
from deltager.db import utcnow
from deltager.meetings.ics import event_calendar
from deltager.meetings.models import Meeting, Registration


def external_url(endpoint: str, **values: object) -> str:
    """An absolute link for an e-mail: BASE_URL plus the path (the request's host may be internal)."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def when(meeting: Meeting) -> str:
    """"1. marts 2026 kl. 17:00–19:00" in the reader's language, Copenhagen time."""
    return gettext(
        "%(day)s, %(start)s–%(end)s",
        day=format_datetime(meeting.starts_at, "EEEE d. MMMM y"),
        start=format_datetime(meeting.starts_at, "HH:mm"),
        end=format_datetime(meeting.ends_at, "HH:mm"),
    )


def location(meeting: Meeting) -> str:
    """Place and address on one line."""
    return ", ".join(part for part in (meeting.place, meeting.address) if part)


def meeting_ics(meeting: Meeting) -> bytes:
    """The meeting as a calendar file (no personal data in it)."""
    host = current_app.config["BASE_URL"].split("//", 1)[-1].split("/", 1)[0] or "deltager"
    return event_calendar(
        uid=f"meeting-{meeting.id}@{host}",
        dtstamp=utcnow(),
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        summary=meeting.title,
        location=location(meeting),
        description=meeting.description,
        url=external_url("meetings.public_meeting", meeting_id=meeting.id),
        cancelled=meeting.cancelled_at is not None,
        sequence=meeting.revision,
    )


def ics_attachment(meeting: Meeting) -> mail.Attachment:
    """The .ics file as an e-mail attachment."""
    return (f"meeting-{meeting.id}.ics", "text/calendar", meeting_ics(meeting))


def _details(meeting: Meeting) -> list[str]:
    lines = [meeting.title, gettext("When: %(when)s", when=when(meeting)),
             gettext("Where: %(where)s", where=location(meeting))]
    if meeting.description:
        lines += ["", meeting.description]
    return lines


def send_confirmation(registration: Registration, token: str) -> bool:
    """Tell the citizen they are signed up: details, calendar file and the cancel link."""
    meeting = registration.meeting
    cancel = external_url("meetings.cancel", token=token)
    text = "\n".join(
        [
            gettext("Dear %(name)s,", name=registration.name),
            "",
            gettext("You are signed up for this meeting:"),
            "",
            *_details(meeting),
            "",
            gettext("Add it to your calendar with the attached file."),
            gettext("More about the meeting: %(url)s",
                    url=external_url("meetings.public_meeting", meeting_id=meeting.id)),
            "",
            gettext("If you cannot come, please cancel so someone else can have your seat:"),
            cancel,
            "",
            gettext("Kind regards,\nThe participatory budget team"),
        ]
    )
    return mail.send(
        to=registration.email,
        subject=gettext("You are signed up: %(title)s", title=meeting.title),
        text=text,
        attachments=[ics_attachment(meeting)],
    )


def send_change_notices(meeting: Meeting, registrations: list[Registration]) -> int:
    """Tell everyone signed up the meeting's new time or place; returns how many e-mails failed."""
    return _tell_each(meeting, registrations, _change_notice)


def send_cancellation_notices(meeting: Meeting, registrations: list[Registration]) -> int:
    """Tell everyone signed up that the meeting is cancelled; returns how many e-mails failed."""
    return _tell_each(meeting, registrations, _cancellation_notice)


def _tell_each(meeting: Meeting, registrations: list[Registration],
               write: Callable[[Meeting, Registration], tuple[str, list[str]]]) -> int:
    """E-mail each sign-up ``write``'s subject and lines, in the language they signed up in, with
    the meeting's calendar file; returns how many failed (staff see the count, not one flash each)."""
    failed = 0
    for registration in registrations:
        with force_locale(registration.language):
            subject, lines = write(meeting, registration)
            failed += not mail.send(to=registration.email, subject=subject, text="\n".join(lines),
                                    attachments=[ics_attachment(meeting)], notify=False)
    return failed


def _change_notice(meeting: Meeting, registration: Registration) -> tuple[str, list[str]]:
    return gettext("Changed: %(title)s", title=meeting.title), [
        gettext("Dear %(name)s,", name=registration.name),
        "",
        gettext("The meeting you signed up for has a new time or place. This is how it is now:"),
        "",
        *_details(meeting),
        "",
        gettext("Add the new time to your calendar with the attached file."),
        gettext("If you can no longer come, please use the cancel link in the e-mail you got when you signed up."),
        "",
        gettext("Kind regards,\nThe participatory budget team"),
    ]


def _cancellation_notice(meeting: Meeting, registration: Registration) -> tuple[str, list[str]]:
    return gettext("Cancelled: %(title)s", title=meeting.title), [
        gettext("Dear %(name)s,", name=registration.name),
        "",
        gettext("Unfortunately, this meeting is cancelled:"),
        "",
        *_details(meeting),
        "",
        gettext("See the other meetings of the round: %(url)s",
                url=external_url("public.round_page", round_id=meeting.round_id)),
        "",
        gettext("We are sorry for the inconvenience.\nThe participatory budget team"),
    ]
