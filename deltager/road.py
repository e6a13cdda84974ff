"""The road of a round, across the domains: every step that one domain takes and others must agree to.

Each domain keeps its own rules in its services and knows nothing of the domains above it. A step
that crosses domains lives here, as a plain function that asks each domain's check by name, then
takes the step. Reading this file top to bottom answers "when may a round go to voting?" without a
grep. Views (and the demo, and the command line) call these functions; a domain's own function of
the same name takes the step by its domain's rules alone, which is what its tests build on.

The road of a round (``RoundStatus``):

    draft → open → screening → voting → allocated → running → closed

- *screening → voting*: every application sent in has its decision (applications). Opening a vote
  while the round is in screening takes this step too, under the same checks.
- *back to screening*: no vote of the round has opened (voting): the ballot people voted on stays
  the ballot that is counted.
- *voting → allocated*: the vote has closed and its allocation is frozen (voting). Closing a vote
  takes this step.
- A voting meeting is tied down by its vote (voting): once cards are issued it stays a voting
  meeting, once the vote is open it cannot be cancelled, once closed it does not change.
- An application put on the ballot gets the next free stand number; voting owns the numbers.

Step 4 (grants) adds the next stop here: *a frozen allocation becomes grants*. It reads the frozen
allocation through ``voting.services`` (``round_allocation``, ``result_lines``), creates one grant per
selected line through the grants domain's services, and moves the round allocated → running with
``transition_round`` below, in the same transaction; the grants domain imports no other domain.

A ``refuse_*`` function reads only and raises the ``DomainError`` that refuses the step, if any: the
confirmation pages ask it to say what must be done first. The step itself asks it again, with the
rows locked, before it writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection

from sqlalchemy.orm import Session

from deltager.applications import services as applications
from deltager.applications.models import Application, ApplicantType, ApplicationStatus, ChildCertificate
from deltager.audit.services import Actor
from deltager.db import utcnow
from deltager.errors import N_, NotAllowed
from deltager.grants import services as grants
from deltager.meetings import services as meetings
from deltager.meetings.models import Meeting, Registration
from deltager.rounds import services as rounds
from deltager.rounds.models import Round, RoundStatus
from deltager.voting import services as voting
from deltager.voting.models import Allocation, VoteSettings

# --------------------------------------------------------------------------- the round


def refuse_transition(session: Session, round_: Round, target: RoundStatus) -> None:
    """Raise why ``round_`` cannot move to ``target`` now, if it cannot (reads only)."""
    rounds.refuse_transition(round_, target)
    if target is RoundStatus.VOTING:
        applications.refuse_voting_while_undecided(session, round_)
    if target is RoundStatus.SCREENING:
        voting.refuse_screening_once_voted(session, round_)
    if target is RoundStatus.ALLOCATED:
        voting.require_frozen_allocation(session, round_)


def transition_round(
    session: Session, actor: Actor, round_id: int, target: RoundStatus, now: dt.datetime | None = None,
) -> Round:
    """Move a round to another status, if its road and every domain allow it (``now``: the clock,
    unless given)."""
    round_ = rounds.get_round(session, round_id, for_update=True)
    refuse_transition(session, round_, target)
    return rounds.transition_round(session, actor, round_id, target, now)


# --------------------------------------------------------------------------- the ballot


def decide(
    session: Session, actor: Actor, application_id: int, decision: ApplicationStatus, message: str,
    now: dt.datetime,
) -> Application:
    """The caseworker's decision on an application; one put on the ballot gets the next free stand."""
    stand = None
    if decision is ApplicationStatus.ON_BALLOT:
        stand = voting.next_stand_number(session, applications.get_application(session, application_id).round_id)
    return applications.decide(session, actor, application_id, decision, message, now, stand_number=stand)


# --------------------------------------------------------------------------- the vote


def refuse_opening(session: Session, settings: VoteSettings) -> None:
    """Raise why the vote cannot open now, if it cannot (reads only)."""
    voting.refuse_opening(session, settings)
    round_ = voting.get_vote_meeting(session, settings.meeting_id).round
    if round_.status is RoundStatus.SCREENING:
        refuse_transition(session, round_, RoundStatus.VOTING)


def open_vote(session: Session, actor: Actor, meeting_id: int, now: dt.datetime) -> VoteSettings:
    """Open the vote. A round still in screening goes on to voting with it: from then on no
    project can be put on the ballot or withdrawn from it, and the round cannot go back."""
    settings = voting.lock_settings(session, meeting_id)  # the settings row first, as closing does
    refuse_opening(session, settings)
    round_ = settings.meeting.round
    if round_.status is RoundStatus.SCREENING:
        transition_round(session, actor, round_.id, RoundStatus.VOTING)
    return voting.open_vote(session, actor, meeting_id, now)


def close_vote(
    session: Session, actor: Actor, meeting_id: int, now: dt.datetime, *, seed: str | None = None
) -> Allocation:
    """Close the vote and freeze its allocation; a round in voting goes on to "allocated"."""
    allocation = voting.close_vote(session, actor, meeting_id, now, seed=seed)
    round_ = rounds.get_round(session, allocation.round_id, for_update=True)
    if round_.status is RoundStatus.VOTING:
        transition_round(session, actor, round_.id, RoundStatus.ALLOCATED)
    return allocation


# --------------------------------------------------------------------------- meetings


def refuse_editing_meeting(session: Session, meeting: Meeting) -> None:
    """Raise why the meeting cannot be edited at all, if it cannot (reads only)."""
    meetings.refuse_editing(meeting)
    voting.refuse_meeting_edit(session, meeting)


def update_meeting(session: Session, actor: Actor, meeting_id: int, data: meetings.MeetingInput) -> Meeting:
    """Edit a meeting, if its own rules and, for a voting meeting, its vote allow it."""
    meeting = meetings.get_meeting(session, meeting_id, for_update=True)
    meetings.refuse_update(session, meeting, data)
    voting.refuse_meeting_change(session, meeting, data)
    return meetings.update_meeting(session, actor, meeting_id, data)


def edit_meeting(
    session: Session, actor: Actor, meeting_id: int, data: meetings.MeetingInput, now: dt.datetime | None = None,
) -> list[Registration]:
    """Edit a meeting (:func:`update_meeting`); returns the sign-ups to e-mail the new time or place
    (none unless it moved), and marks those without e-mail for staff to phone."""
    revision = meetings.get_meeting(session, meeting_id).revision
    meeting = update_meeting(session, actor, meeting_id, data)
    moved = meetings.sign_ups_to_tell(meeting, revision, now or utcnow())
    return meetings.flag_those_without_email(moved, "meeting:changed")


def refuse_cancelling_meeting(session: Session, meeting: Meeting, now: dt.datetime) -> None:
    """Raise why the meeting cannot be cancelled now, if it cannot (reads only)."""
    meetings.refuse_cancelling(meeting, now)
    voting.refuse_meeting_cancel(session, meeting)


def cancel_meeting(session: Session, actor: Actor, meeting_id: int, now: dt.datetime) -> list[Registration]:
    """Cancel a meeting, if its own rules and, for a voting meeting, its vote allow it; returns
    the sign-ups to tell."""
    refuse_cancelling_meeting(session, meetings.get_meeting(session, meeting_id, for_update=True), now)
    return meetings.cancel_meeting(session, actor, meeting_id, now)


# --------------------------------------------------------------------------- grants


def _winner(session: Session, line: voting.ResultLine) -> grants.Winner:
    """A funded project as the grants domain takes it: the frozen line and the application's payee."""
    application = applications.get_application(session, line.application_id)
    association = application.applicant_type is ApplicantType.ASSOCIATION
    certificate = application.child_certificate
    return grants.Winner(
        application_id=application.id, title=line.title, amount_ore=line.granted_ore, rank=line.rank,
        payee_type=grants.PayeeType.ASSOCIATION if association else grants.PayeeType.PRIVATE,
        payee_name=(application.association_name if association else
                    application.contact_name or application.applicant.name) or application.applicant.name,
        payee_address=application.contact_address, payee_cvr=application.cvr if association else "",
        budget_lines=tuple((b.description, b.amount_ore) for b in application.budget_lines),
        child_certificate_required=certificate in (ChildCertificate.REQUESTED, ChildCertificate.RECEIVED)
        or bool(application.involves_children and certificate is not ChildCertificate.NOT_NEEDED),
        # Screening may tick "received" without a date: it was received by the time of the decision.
        child_certificate_received_on=(application.child_certificate_received_on or _decided_on(application))
        if certificate is ChildCertificate.RECEIVED else None,
    )


def _decided_on(application: Application) -> dt.date:
    return (application.decided_at or application.updated_at).date()


def refuse_making_grants(session: Session, round_: Round) -> None:
    """Raise why the round's grants cannot be made now, if so (reads only): its vote must be
    closed with the result frozen, and the round allocated."""
    voting.require_frozen_allocation(session, round_)
    if round_.status is not RoundStatus.ALLOCATED:
        raise NotAllowed(N_("Grants are made once the round's result is frozen and before the projects run."))


def make_grants(
    session: Session, round_id: int, actor: Actor, now: dt.datetime, *, upfront: Collection[int] = (),
) -> list[grants.Grant]:
    """Turn the round's frozen allocation into grants, one per funded project, and move the round
    allocated → running. ``upfront``: applications (associations) paid up front."""
    round_ = rounds.get_round(session, round_id, for_update=True)
    refuse_making_grants(session, round_)
    allocation = voting.round_allocation(session, round_id)
    assert allocation is not None  # refuse_making_grants asked
    winners = [_winner(session, line) for line in voting.result_lines(session, allocation) if line.selected]
    deadline = round_.project_deadline if round_.project_deadline > now.date() else None
    made = grants.make_grants(session, actor, round_id, round_.pot_ore, winners, now, deadline=deadline, upfront=upfront)
    transition_round(session, actor, round_id, RoundStatus.RUNNING)
    return made


def _candidates(session: Session, round_id: int) -> list[grants.PotCandidate]:
    allocation = voting.round_allocation(session, round_id)
    if allocation is None:
        return []
    return [grants.PotCandidate(line.application_id, line.title, line.cost_ore, line.rank)
            for line in voting.result_lines(session, allocation) if not line.selected]


def pot_status(session: Session, round_id: int) -> grants.PotStatus:
    """What came back to the round's pot, and which unfunded project, in the frozen result's order,
    it could now fund (nothing is granted automatically)."""
    round_ = rounds.get_round(session, round_id)
    return grants.pot_status(session, round_id, round_.pot_ore, _candidates(session, round_id))


def grant_from_pot(session: Session, actor: Actor, round_id: int, application_id: int, now: dt.datetime) -> grants.Grant:
    """Grant returned money to a project of the frozen result that was not funded: an explicit,
    audited decision, for the project's cost, if the pot has it."""
    round_ = rounds.get_round(session, round_id, for_update=True)
    candidate = next((c for c in _candidates(session, round_id) if c.application_id == application_id), None)
    if candidate is None:
        raise NotAllowed(N_("Only a project of the frozen result that was not funded can get returned money."))
    line = next(line for line in voting.result_lines(session, voting.round_allocation(session, round_id))  # type: ignore[arg-type]
                if line.application_id == application_id)
    winner = _winner(session, line)
    winner = dataclasses.replace(winner, amount_ore=candidate.cost_ore)
    deadline = round_.project_deadline if round_.project_deadline > now.date() else None
    return grants.grant_from_pot(session, actor, round_id, round_.pot_ore, winner, now, deadline=deadline)
