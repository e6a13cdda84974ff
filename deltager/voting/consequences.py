"""What opening or closing a vote will do, in plain words, for its confirmation page
(deltager/confirmation.py)."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from deltager import road
from deltager.confirmation import Consequence
from deltager.errors import DomainError
from deltager.i18n import format_local_datetime
from deltager.rounds.models import RoundStatus
from deltager.voting import services
from deltager.voting.labels import RULE_LABELS, TIE_BREAK_LABELS
from deltager.voting.models import VoteState
from deltager.web import translate_error


def opening_consequences(session: Session, meeting_id: int, now: dt.datetime) -> list[Consequence]:
    """What opening the vote does, and why it would be refused now."""
    meeting = services.get_vote_meeting(session, meeting_id)
    settings = services.get_settings(session, meeting_id)
    found: list[Consequence] = []
    try:
        road.refuse_opening(session, settings)
    except DomainError as error:
        found.append(Consequence(translate_error(error), blocking=True))
    if meeting.round.status is RoundStatus.SCREENING:
        found.append(Consequence(_("The round goes on to voting: screening ends, no application can be put on the "
                                   "ballot or taken off it, and the round cannot go back to screening.")))
    projects = services.ballot_projects(session, meeting.round_id)
    found.append(Consequence(
        ngettext("The ballot becomes fixed with %(num)d project:", "The ballot becomes fixed with %(num)d projects:",
                 len(projects)),
        items=[_("Stand %(number)s: %(title)s", number=p.stand_number or "—", title=p.title) for p in projects]))
    found.append(Consequence(_(
        "The ballot rules become fixed: each voter chooses %(min)d to %(max)d projects; %(rule)s; tie-break: "
        "%(tie_break)s.", min=settings.min_choices, max=settings.max_choices, rule=RULE_LABELS[settings.rule],
        tie_break=TIE_BREAK_LABELS[settings.tie_break])))
    if settings.cards_issued:
        found.append(Consequence(ngettext(
            "Each of the %(num)d ballot card issued can vote once, by phone or on paper, until you close the vote.",
            "Each of the %(num)d ballot cards issued can vote once, by phone or on paper, until you close the vote.",
            settings.cards_issued)))
    else:
        found.append(Consequence(_("No ballot cards have been issued yet. Issue cards before people arrive."),
                                 warning=True))
    if meeting.starts_at > now:
        found.append(Consequence(_("The meeting begins %(when)s: the vote would be open before the meeting begins.",
                                   when=format_local_datetime(meeting.starts_at)), warning=True))
    return found


def closing_consequences(session: Session, meeting_id: int) -> list[Consequence]:
    """What closing the vote does."""
    rec = services.reconciliation(session, meeting_id)
    found = [
        Consequence(ngettext("%(num)d ballot has been cast.", "%(num)d ballots have been cast.", rec.ballots)),
        Consequence(_("When you close the vote, no more ballots can be cast. The money is allocated at once and the "
                      "result is frozen. This cannot be undone."), warning=True),
    ]
    if rec.door_count is not None and rec.ballots < rec.door_count:
        found.append(Consequence(ngettext(
            "%(num)d person counted at the door has not voted.", "%(num)d people counted at the door have not voted.",
            rec.door_count - rec.ballots), warning=True))
    return found


def renewal_consequences(batch: services.CardBatch, state: VoteState) -> list[Consequence]:
    """What printing a batch of cards again does (its unused cards get new codes)."""
    found: list[Consequence] = []
    if state is VoteState.CLOSED:
        found.append(Consequence(_("The vote is closed; no more cards can be issued."), blocking=True))
    elif not batch.unused:
        found.append(Consequence(_("Every card of this batch has been used or cancelled: there is nothing to print "
                                   "again."), blocking=True))
    found.append(Consequence(ngettext(
        "%(num)d card of this batch has not been used: it gets a new code, and you download it again with the "
        "same number.",
        "%(num)d cards of this batch have not been used: they get new codes, and you download them again with "
        "the same numbers.", batch.unused)))
    found.append(Consequence(_("The cards printed from the earlier file of this batch stop working. Throw them "
                               "away, or whoever holds one cannot vote."), warning=True))
    if state is VoteState.OPEN:
        found.append(Consequence(_("The vote is open: anyone already holding a card of this batch must be given "
                                   "the newly printed card."), warning=True))
    if batch.count > batch.unused:
        found.append(Consequence(ngettext(
            "%(num)d card of the batch that was used or cancelled is left out.",
            "%(num)d cards of the batch that were used or cancelled are left out.", batch.count - batch.unused)))
    return found
