"""What moving a round to another status will do, in plain words, for its confirmation page.

Gathers the facts from the domains that own them (applications, meetings, and the round's
transition guards) and words them; the page itself is deltager/confirmation.py's.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from deltager import road
from deltager.applications import services as applications
from deltager.applications.models import ApplicationStatus
from deltager.confirmation import Consequence
from deltager.errors import DomainError
from deltager.i18n import format_local_datetime
from deltager.meetings import services as meetings
from deltager.rounds.models import POINT_OF_NO_RETURN, Round, RoundStatus
from deltager.web import translate_error


def transition_consequences(session: Session, round_: Round, target: RoundStatus, now: dt.datetime) -> list[Consequence]:
    """The consequences of moving ``round_`` to ``target`` now, the reasons it would be refused first."""
    found: list[Consequence] = []
    try:
        road.refuse_transition(session, round_, target)
    except DomainError as error:
        found.append(Consequence(translate_error(error), blocking=True))
    if target is RoundStatus.OPEN:
        found += _opening(round_, now)
    elif target is RoundStatus.SCREENING and round_.status is RoundStatus.OPEN:
        found += _closing_applications(session, round_, now)
    elif target is RoundStatus.VOTING:
        on_ballot = applications.status_counts(session, round_.id)[ApplicationStatus.ON_BALLOT]
        found.append(Consequence(ngettext(
            "The ballot is fixed with the %(num)d project on it: no application can be put on the ballot or "
            "taken off it.",
            "The ballot is fixed with the %(num)d projects on it: no application can be put on the ballot or "
            "taken off it.", on_ballot)))
    elif target is RoundStatus.ALLOCATED:
        found.append(Consequence(_("The result of the vote becomes the round's decision.")))
    elif target is RoundStatus.RUNNING:
        found.append(Consequence(_("The funded projects are under way: receipts can be paid.")))
    elif target is RoundStatus.CLOSED:
        found.append(Consequence(_("The round is shown among past rounds.")))
    if target.index > round_.status.index and target.index >= POINT_OF_NO_RETURN.index:
        found.append(Consequence(_("This cannot be undone: the round can never go back."), warning=True))
    return found


def _opening(round_: Round, now: dt.datetime) -> list[Consequence]:
    found = [Consequence(_("Citizens can apply from %(start)s until %(end)s.",
                           start=format_local_datetime(round_.applications_open_at),
                           end=format_local_datetime(round_.applications_close_at)))]
    if round_.status is RoundStatus.DRAFT:
        found.insert(0, Consequence(_("The round becomes public: citizens can see it on the front page.")))
    if round_.applications_close_at <= now:
        found.append(Consequence(_("The deadline for applications has passed, so no one can apply until you "
                                   "move it (Edit)."), warning=True))
    return found


def _closing_applications(session: Session, round_: Round, now: dt.datetime) -> list[Consequence]:
    found = [Consequence(_("Applications close at once: no one can apply or send a draft, and the public page "
                           "says that applications are closed."))]
    if now < round_.applications_close_at:
        days = -((now - round_.applications_close_at) // dt.timedelta(days=1))  # whole days, rounded up
        found.append(Consequence(ngettext(
            "The deadline has not been reached: applications were to close %(when)s, %(num)d day from now.",
            "The deadline has not been reached: applications were to close %(when)s, %(num)d days from now.",
            days, when=format_local_datetime(round_.applications_close_at)), warning=True))
    drafts = applications.status_counts(session, round_.id)[ApplicationStatus.DRAFT]
    if drafts:
        found.append(Consequence(ngettext(
            "%(num)d application is a draft that has not been sent. It will never be sent.",
            "%(num)d applications are drafts that have not been sent. They will never be sent.", drafts),
            warning=True))
    ahead = meetings.applying_meetings_ahead(session, round_.id, now)
    if ahead:
        found.append(Consequence(
            ngettext("%(num)d information or help meeting is still ahead. It is no longer shown on the public "
                     "page; cancel it to tell those signed up.",
                     "%(num)d information or help meetings are still ahead. They are no longer shown on the "
                     "public page; cancel them to tell those signed up.", len(ahead)),
            items=[f"{m.title}, {format_local_datetime(m.starts_at)}" for m in ahead], warning=True))
    found.append(Consequence(_("You can go back and open applications again until the vote opens.")))
    return found
