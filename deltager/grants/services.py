"""The rules of a grant: making grants, conditions, børneattest, hold, stop, repayments, the
ledger, the round's pot and follow-up talks. Claims are in ``claims``, payouts in ``batches``.

Plain functions taking a Session, the acting ``Actor`` and ``now``; they never commit and never
read a request (views call one of them inside ``unit_of_work``). The grants domain imports no
other domain but the round's model, whose pot it draws from: what it needs of the application
and the frozen result is passed in by ``deltager.road`` (a :class:`Winner` per funded project,
the pot, the result's order).

The pot: Σ granted, net of returns (granted − released − repaid, as :func:`pot_totals` sums it),
is kept on the round's row too (``Round.granted_net_ore``), whose CHECK constraint
``granted_within_pot`` makes the database refuse a grant the pot cannot pay. Every step that
moves it (making a grant, a stop or completion that releases a remainder, a repayment) locks
the round's row first and moves it in the same transaction (:func:`_move_pot`).

Locks, always in this order so two writers never wait for each other in a circle:
the round (taken by the road, or by :func:`_grant_and_pot`) → a payout batch → grants (by id) →
claims. A rule that guards money locks the grant row it checks (:func:`get_grant` with
``for_update=True``); on SQLite the write transaction's ``BEGIN IMMEDIATE`` serialises writers
already.

Every decision on money writes an audit event with before and after (``deltager.audit``); the
actions' plain words are in ``deltager.grants.labels``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from deltager.audit.services import Actor, record
from deltager.errors import N_, NotAllowed, NotFound, ValidationFailed
from deltager.grants.models import (
    APPROVED_STATES,
    OPEN_STATES,
    ClaimStatus,
    ConditionsChannel,
    ExpenseClaim,
    FollowUpTalk,
    Grant,
    GrantBudgetLine,
    GrantStatus,
    PayeeType,
    BatchStatus,
    PayoutBatch,
    PayoutBatchClaim,
    PayoutMode,
    Repayment,
)
from deltager.meetings.ics import event_calendar  # a pure RFC 5545 writer (values → bytes)
from deltager.money import format_ore
from deltager.rounds.models import Round
from deltager.timeutil import add_years, utc_to_local

#: The budget line of a grant whose application had none.
WHOLE_PROJECT = "Hele projektet"


class GrantOnHold(NotAllowed):
    """The grant is on hold: no approvals and no payouts until it is resumed."""


class GrantClosed(NotAllowed):
    """The grant is stopped or completed: nothing more can be claimed, approved or paid."""


class NotEnoughLeft(NotAllowed):
    """The amount is more than what is left of the grant."""


# --------------------------------------------------------------------------- loading


M = TypeVar("M", Grant, ExpenseClaim, PayoutBatch)


def load(session: Session, model: type[M], object_id: int, missing: str, *, for_update: bool = False) -> M:
    """A row by id, or NotFound with the msgid ``missing``; ``for_update`` locks the row and
    reloads it, so a rule checks what is committed, not what the session saw before."""
    query = select(model).where(model.id == object_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = session.scalar(query)
    if found is None:
        raise NotFound(missing)
    return found


def get_grant(session: Session, grant_id: int, *, for_update: bool = False) -> Grant:
    """A grant by id, or NotFound; ``for_update`` locks its row and reloads it (the ledger's guard)."""
    return load(session, Grant, grant_id, N_("This grant does not exist."), for_update=for_update)


def get_own_grant(session: Session, grant_id: int, application_ids: Collection[int]) -> Grant:
    """A grantee's grant: NotFound unless it was made for one of their applications (so grantee A
    can never tell B's grant from one that does not exist)."""
    grant = session.get(Grant, grant_id)
    if grant is None or grant.application_id not in application_ids:
        raise NotFound(N_("This grant does not exist."))
    return grant


def _lock_pot(session: Session, round_id: int) -> None:
    """Lock the round's row (its pot) for the transaction; the first lock of a step on money."""
    session.execute(select(Round.id).where(Round.id == round_id).with_for_update())


def _move_pot(session: Session, round_id: int, delta_ore: int) -> None:
    """Move the round's Σ granted, net of returns, by ``delta_ore`` (+ a grant made, − money
    returned), in one UPDATE: the database refuses it (IntegrityError) beyond the pot or below 0."""
    if delta_ore:
        session.execute(update(Round).where(Round.id == round_id)
                        .values(granted_net_ore=Round.granted_net_ore + delta_ore))


def _grant_and_pot(session: Session, grant_id: int) -> Grant:
    """The grant, locked after its round's row (a step that may send money back to the pot)."""
    _lock_pot(session, get_grant(session, grant_id).round_id)
    return get_grant(session, grant_id, for_update=True)


def grants_of_round(session: Session, round_id: int) -> list[Grant]:
    """The round's grants in the frozen result's order."""
    return list(session.scalars(select(Grant).where(Grant.round_id == round_id).order_by(Grant.rank, Grant.id)))


def grants_for_applications(session: Session, application_ids: Collection[int]) -> list[Grant]:
    """The grants made for these applications (a grantee's own, on their page)."""
    if not application_ids:
        return []
    return list(session.scalars(select(Grant).where(Grant.application_id.in_(application_ids)).order_by(Grant.id)))


def refuse_payout(grant: Grant) -> None:
    """Raise why nothing of this grant may be paid out now, if so (reads only)."""
    if grant.status is GrantStatus.ON_HOLD:
        raise GrantOnHold(N_("The grant \"%(title)s\" is on hold: nothing is paid out until it is resumed."),
                          title=grant.title)
    if grant.conditions_accepted_at is None:
        raise NotAllowed(N_("The conditions of the grant \"%(title)s\" have not been accepted yet."), title=grant.title)
    if grant.child_certificate_missing:
        raise NotAllowed(N_("The grant \"%(title)s\" needs a børneattest before anything is paid out."),
                         title=grant.title)


def refuse_approval(grant: Grant) -> None:
    """Raise why no claim of this grant may be approved now, if so (reads only)."""
    if grant.status is GrantStatus.ON_HOLD:
        raise GrantOnHold(N_("The grant is on hold: no claim can be approved until it is resumed."))
    if grant.status is not GrantStatus.ACTIVE:
        raise GrantClosed(N_("The grant is stopped or completed: no more claims can be approved."))


def refuse_exceeding(grant: Grant, amount_ore: int) -> None:
    """Raise if approving ``amount_ore`` more would exceed what is left of the grant (the caller
    holds the grant's row lock)."""
    if amount_ore > grant.left_ore:
        raise NotEnoughLeft(N_("Approving this would exceed the grant: only %(left)s is left."),
                            left=format_ore(grant.left_ore))


# --------------------------------------------------------------------------- making grants


@dataclass(frozen=True)
class Winner:
    """A funded project as the road hands it over: from the frozen result and the application."""

    application_id: int
    title: str
    amount_ore: int
    rank: int
    payee_type: PayeeType  # PRIVATE or ASSOCIATION
    payee_name: str
    payee_address: str = ""
    payee_cvr: str = ""
    budget_lines: tuple[tuple[str, int], ...] = ()  # (description, øre) as applied for
    child_certificate_required: bool = False
    child_certificate_received_on: dt.date | None = None


def _local_today(now: dt.datetime) -> dt.date:
    return utc_to_local(now).date()


def _make_grant(
    session: Session, actor: Actor, round_id: int, winner: Winner, now: dt.datetime,
    deadline: dt.date | None, mode: PayoutMode,
) -> Grant:
    if mode is PayoutMode.UPFRONT and winner.payee_type is not PayeeType.ASSOCIATION:
        raise ValidationFailed(
            N_("A grant to a private person is paid only against receipts, never up front."), field="payout_mode"
        )
    if winner.amount_ore <= 0:
        raise ValidationFailed(N_("A grant must be more than 0 kr."))
    starts_on = _local_today(now)
    if deadline is None or deadline < starts_on:
        deadline = add_years(starts_on, 1)
    grant = Grant(
        round_id=round_id, application_id=winner.application_id, rank=winner.rank, title=winner.title[:80],
        amount_ore=winner.amount_ore, payout_mode=mode, status=GrantStatus.ACTIVE,
        payee_type=winner.payee_type, payee_name=winner.payee_name[:200], payee_address=winner.payee_address[:200],
        payee_cvr=winner.payee_cvr, starts_on=starts_on, deadline=deadline,
        child_certificate_required=winner.child_certificate_required,
        child_certificate_received_on=winner.child_certificate_received_on,
        approved_ore=0, paid_ore=0, repaid_ore=0, released_ore=0, created_at=now,
    )
    lines = [(d, ore) for d, ore in winner.budget_lines if d.strip()] or [(WHOLE_PROJECT, winner.amount_ore)]
    grant.budget_lines = [
        GrantBudgetLine(position=n, description=d[:200], planned_ore=ore) for n, (d, ore) in enumerate(lines, start=1)
    ]
    session.add(grant)
    session.flush()
    _move_pot(session, round_id, grant.amount_ore)
    record(session, actor, "grant.create", "grant", grant.id, after={
        **grant.audit_snapshot(), "application_id": winner.application_id,
        "budget": [[d, ore] for d, ore in lines],
    }, at=now)
    return grant


def make_grants(
    session: Session, actor: Actor, round_id: int, pot_ore: int, winners: Sequence[Winner], now: dt.datetime, *,
    deadline: dt.date | None = None, upfront: Collection[int] = (),
) -> list[Grant]:
    """One grant per funded project of a frozen result (``deltager.road.make_grants`` calls it).

    Paid against receipts, except the applications in ``upfront`` (associations only). The project
    deadline is ``deadline`` or, if none or already past, one year from today. A round's grants
    are made once."""
    _lock_pot(session, round_id)  # the road took it already; a direct caller gets it here
    if session.scalar(select(Grant.id).where(Grant.round_id == round_id).limit(1)) is not None:
        raise NotAllowed(N_("The grants of this round have already been made."))
    if sum(w.amount_ore for w in winners) > pot_ore:
        raise NotAllowed(N_("The grants would exceed the pot."))
    return [
        _make_grant(session, actor, round_id, w, now, deadline,
                    PayoutMode.UPFRONT if w.application_id in upfront else PayoutMode.RECEIPTS)
        for w in winners
    ]


def _changed(
    session: Session, actor: Actor, action: str, grant: Grant, before: dict[str, object], now: dt.datetime,
    **extra: object,
) -> Grant:
    record(session, actor, action, "grant", grant.id, before=before, after={**grant.audit_snapshot(), **extra}, at=now)
    return grant


def set_payout_mode(session: Session, actor: Actor, grant_id: int, mode: PayoutMode, now: dt.datetime) -> Grant:
    """Change how a grant is paid, while nothing is claimed or approved yet."""
    grant = get_grant(session, grant_id, for_update=True)
    if grant.payout_mode is mode:
        return grant
    has_claims = session.scalar(select(ExpenseClaim.id).where(ExpenseClaim.grant_id == grant.id).limit(1))
    if has_claims is not None or grant.approved_ore:
        raise NotAllowed(N_("The payout mode cannot change once something has been claimed."))
    if mode is PayoutMode.UPFRONT and grant.payee_type is not PayeeType.ASSOCIATION:
        raise ValidationFailed(
            N_("A grant to a private person is paid only against receipts, never up front."), field="payout_mode"
        )
    before = grant.audit_snapshot()
    grant.payout_mode = mode
    return _changed(session, actor, "grant.payout_mode", grant, before, now)


def accept_conditions(
    session: Session, actor: Actor, grant_id: int, channel: ConditionsChannel, now: dt.datetime,
) -> Grant:
    """The grantee accepts the conditions online, or staff record a signed paper copy. Accepting
    again changes nothing (a double click)."""
    grant = get_grant(session, grant_id, for_update=True)
    if grant.conditions_accepted_at is not None:
        return grant
    if grant.status in (GrantStatus.STOPPED, GrantStatus.COMPLETED):
        raise GrantClosed(N_("The grant is stopped or completed."))
    before = grant.audit_snapshot()
    grant.conditions_accepted_at = now
    grant.conditions_accepted_by = actor.label[:120]
    grant.conditions_channel = channel
    return _changed(session, actor, "grant.conditions", grant, before, now)


def set_child_certificate(
    session: Session, actor: Actor, grant_id: int, *, required: bool, received_on: dt.date | None, now: dt.datetime,
) -> Grant:
    """Record whether a børneattest (or an association's declaration) is required and when it came."""
    grant = get_grant(session, grant_id, for_update=True)
    if received_on is not None and received_on > _local_today(now):
        raise ValidationFailed(N_("The date cannot be in the future."), field="received_on")
    before = grant.audit_snapshot()
    grant.child_certificate_required = required
    grant.child_certificate_received_on = received_on if required else None
    return _changed(session, actor, "grant.child_certificate", grant, before, now)


def set_deadline(session: Session, actor: Actor, grant_id: int, deadline: dt.date, now: dt.datetime) -> Grant:
    """Move the project's deadline (not before it started)."""
    grant = get_grant(session, grant_id, for_update=True)
    if deadline < grant.starts_on:
        raise ValidationFailed(N_("The deadline cannot be before the project started."), field="deadline")
    before = grant.audit_snapshot()
    grant.deadline = deadline
    return _changed(session, actor, "grant.deadline", grant, before, now)


# --------------------------------------------------------------------------- hold, stop, complete, repay


def _reason(reason: str, field_name: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(N_("Write the reason: the grantee is told."), field=field_name)
    return reason


@dataclass(frozen=True)
class GrantChange:
    """A grant after a step that the grantee is told about; ``changed_now`` is False when the step
    had already been taken (a double click, or a colleague just before), so nobody is told twice."""

    grant: Grant
    changed_now: bool


def hold_grant(session: Session, actor: Actor, grant_id: int, reason: str, now: dt.datetime) -> GrantChange:
    """Put an active grant on hold: no approvals and no payouts until it is resumed."""
    grant = get_grant(session, grant_id, for_update=True)
    if grant.status is GrantStatus.ON_HOLD:
        return GrantChange(grant, changed_now=False)
    if grant.status is not GrantStatus.ACTIVE:
        raise GrantClosed(N_("Only an active grant can be put on hold."))
    reason = _reason(reason)
    before = grant.audit_snapshot()
    grant.status = GrantStatus.ON_HOLD
    grant.hold_reason = reason
    return GrantChange(_changed(session, actor, "grant.hold", grant, before, now), changed_now=True)


def resume_grant(session: Session, actor: Actor, grant_id: int, now: dt.datetime) -> Grant:
    """Take a grant off hold."""
    grant = get_grant(session, grant_id, for_update=True)
    if grant.status is GrantStatus.ACTIVE:
        return grant
    if grant.status is not GrantStatus.ON_HOLD:
        raise GrantClosed(N_("Only a grant on hold can be resumed."))
    before = grant.audit_snapshot()
    grant.status = GrantStatus.ACTIVE
    grant.hold_reason = ""
    return _changed(session, actor, "grant.resume", grant, before, now)


@dataclass(frozen=True)
class StopPreview:
    """What stopping a grant would do with its approved claims not yet paid: those that may still
    be withdrawn (in no batch, or in an open one) and those in an exported batch (sent to the
    finance system: they are paid whatever the caseworker chooses)."""

    withdrawable_ore: int
    exported_ore: int


def _unpaid_approved(session: Session, grant_id: int) -> list[tuple[ExpenseClaim, PayoutBatch | None]]:
    """The grant's approved claims not yet paid, each with its payout batch (or None)."""
    rows = session.execute(
        select(ExpenseClaim, PayoutBatch)
        .outerjoin(PayoutBatchClaim, PayoutBatchClaim.claim_id == ExpenseClaim.id)
        .outerjoin(PayoutBatch, PayoutBatch.id == PayoutBatchClaim.batch_id)
        .where(ExpenseClaim.grant_id == grant_id,
               ExpenseClaim.status.in_((ClaimStatus.APPROVED, ClaimStatus.LOWERED)))
        .order_by(ExpenseClaim.id)
    ).all()
    return [(claim, batch) for claim, batch in rows]


def _withdrawable(batch: PayoutBatch | None) -> bool:
    return batch is None or batch.status is BatchStatus.OPEN


def stop_preview(session: Session, grant: Grant) -> StopPreview:
    """What the stop confirmation page says about approved claims not yet paid (reads only)."""
    unpaid = _unpaid_approved(session, grant.id)
    return StopPreview(
        withdrawable_ore=sum(c.approved_ore or 0 for c, b in unpaid if _withdrawable(b)),
        exported_ore=sum(c.approved_ore or 0 for c, b in unpaid if not _withdrawable(b)),
    )


def _reject_open_claims(session: Session, actor: Actor, grant: Grant, reason: str, now: dt.datetime) -> None:
    """Reject the claims still waiting for a decision or an answer."""
    open_claims = list(session.scalars(
        select(ExpenseClaim).where(ExpenseClaim.grant_id == grant.id, ExpenseClaim.status.in_(OPEN_STATES))
        .order_by(ExpenseClaim.id).with_for_update()
    ))
    for claim in open_claims:
        before = claim.audit_snapshot()
        claim.status = ClaimStatus.REJECTED
        claim.reason = reason
        claim.decided_at, claim.decided_by, claim.decided_by_user_id = now, actor.label[:120], actor.user_id
        claim.waiting_since = now
        record(session, actor, "claim.decision", "expense_claim", claim.id, before=before,
               after=claim.audit_snapshot(), at=now)


def _withdraw_approvals(session: Session, actor: Actor, grant: Grant, reason: str, now: dt.datetime) -> int:
    """Withdraw the approvals not yet paid that are in no exported batch: each claim is rejected
    with the stop's reason, taken out of its open batch, and its amount leaves "approved". Returns
    the amount withdrawn (it goes back to the pot with the rest)."""
    withdrawn = 0
    for claim, batch in _unpaid_approved(session, grant.id):
        if not _withdrawable(batch):
            continue  # sent to the finance system: it is paid
        session.refresh(claim, with_for_update=True)
        if batch is not None:
            total_before = batch_total(session, batch.id)
            member = session.get(PayoutBatchClaim, claim.id)
            if member is not None:
                session.delete(member)
                session.flush()
            record(session, actor, "batch.remove", "payout_batch", batch.id,
                   before={"claims": [claim.id], "total_ore": total_before},
                   after={"claims": [], "total_ore": batch_total(session, batch.id)}, at=now)
        before = claim.audit_snapshot()
        amount = claim.approved_ore or 0
        grant.approved_ore -= amount
        withdrawn += amount
        claim.status = ClaimStatus.REJECTED
        claim.approved_ore = None
        claim.reason = reason
        claim.decided_at, claim.decided_by, claim.decided_by_user_id = now, actor.label[:120], actor.user_id
        claim.waiting_since = now
        record(session, actor, "claim.withdrawn", "expense_claim", claim.id, before=before,
               after={**claim.audit_snapshot(), "withdrawn_ore": amount}, at=now)
    return withdrawn


def _release(session: Session, grant: Grant) -> None:
    """Send what is left of the grant back to the round's pot (the caller locked the round)."""
    left = grant.left_ore
    grant.released_ore += left
    _move_pot(session, grant.round_id, -left)


def batch_total(session: Session, batch_id: int) -> int:
    """The total approved of a payout batch's claims."""
    return int(session.scalar(
        select(func.coalesce(func.sum(ExpenseClaim.approved_ore), 0))
        .join(PayoutBatchClaim, PayoutBatchClaim.claim_id == ExpenseClaim.id).where(PayoutBatchClaim.batch_id == batch_id)
    ) or 0)


def _lock_open_batches(session: Session, grant_id: int) -> None:
    """Lock the open batches that hold claims of the grant, before the grant (the lock order)."""
    batch_ids = session.scalars(
        select(PayoutBatch.id).join(PayoutBatchClaim, PayoutBatchClaim.batch_id == PayoutBatch.id)
        .join(ExpenseClaim, ExpenseClaim.id == PayoutBatchClaim.claim_id)
        .where(ExpenseClaim.grant_id == grant_id, PayoutBatch.status == BatchStatus.OPEN)
        .distinct().order_by(PayoutBatch.id)
    ).all()
    for batch_id in batch_ids:
        load(session, PayoutBatch, batch_id, N_("This payout batch does not exist."), for_update=True)


@dataclass(frozen=True)
class GrantStop(GrantChange):
    """A stopped grant, and what of its approved claims not yet paid was withdrawn (back to the pot)."""

    withdrawn_ore: int = 0


def stop_grant(
    session: Session, actor: Actor, grant_id: int, reason: str, now: dt.datetime, *, pay_approved: bool = False,
) -> GrantStop:
    """Stop a grant with a reason: open claims are rejected and everything not paid goes back to
    the round's pot. The caseworker decides about approved claims not yet paid: with
    ``pay_approved`` they are still paid (the grantee spent the money in good faith); without it
    their approval is withdrawn too. Claims in an exported batch (sent to the finance system) are
    paid either way."""
    _lock_pot(session, get_grant(session, grant_id).round_id)  # the lock order: round, batches, grant
    _lock_open_batches(session, grant_id)
    grant = get_grant(session, grant_id, for_update=True)
    if grant.status is GrantStatus.STOPPED:
        return GrantStop(grant, changed_now=False)
    if grant.status is GrantStatus.COMPLETED:
        raise GrantClosed(N_("A completed grant cannot be stopped."))
    reason = _reason(reason)
    before = grant.audit_snapshot()
    _reject_open_claims(session, actor, grant, reason, now)
    withdrawn = 0 if pay_approved else _withdraw_approvals(session, actor, grant, reason, now)
    _release(session, grant)
    grant.status = GrantStatus.STOPPED
    grant.stop_reason = reason
    grant.stopped_at = now
    grant.hold_reason = ""
    _changed(session, actor, "grant.stop", grant, before, now, approved_still_paid=pay_approved,
             withdrawn_ore=withdrawn)
    return GrantStop(grant, changed_now=True, withdrawn_ore=withdrawn)


def _references(claim_ids: Sequence[int]) -> str:
    return ", ".join(f"U-{claim_id}" for claim_id in claim_ids)


def refuse_completing(session: Session, grant: Grant) -> None:
    """Raise why the grant cannot be completed now, if so (reads only): it must be active, no claim
    may wait for a decision or the grantee's answer, and no open payout batch may hold its claims
    (they would be paid after the project is closed, or taken out and forgotten)."""
    if grant.status is GrantStatus.ON_HOLD:
        raise GrantOnHold(N_("The grant is on hold: resume it before it is completed."))
    if grant.status is not GrantStatus.ACTIVE:
        raise GrantClosed(N_("Only an active grant can be completed."))
    waiting = list(session.scalars(select(ExpenseClaim.id).where(
        ExpenseClaim.grant_id == grant.id, ExpenseClaim.status.in_(OPEN_STATES)).order_by(ExpenseClaim.id)))
    if waiting:
        raise NotAllowed(N_("Claims still wait for a decision or an answer (%(claims)s): decide them before the "
                            "grant is completed."), claims=_references(waiting))
    batched = session.execute(
        select(ExpenseClaim.id, PayoutBatch.id)
        .join(PayoutBatchClaim, PayoutBatchClaim.claim_id == ExpenseClaim.id)
        .join(PayoutBatch, PayoutBatch.id == PayoutBatchClaim.batch_id)
        .where(ExpenseClaim.grant_id == grant.id, PayoutBatch.status == BatchStatus.OPEN)
        .order_by(ExpenseClaim.id)
    ).all()
    if batched:
        raise NotAllowed(N_("The open payout batch %(batch)s holds claims of this grant (%(claims)s): export it, "
                            "or take them out, before the grant is completed."),
                         batch=f"UB-{batched[0][1]}", claims=_references([claim_id for claim_id, _ in batched]))


def complete_grant(session: Session, actor: Actor, grant_id: int, now: dt.datetime) -> GrantChange:
    """Mark a project done: nothing more is claimed, what is left goes back to the pot; approved
    claims not yet paid are still paid. Refused as :func:`refuse_completing` says."""
    grant = _grant_and_pot(session, grant_id)
    if grant.status is GrantStatus.COMPLETED:
        return GrantChange(grant, changed_now=False)
    refuse_completing(session, grant)
    before = grant.audit_snapshot()
    _release(session, grant)
    grant.status = GrantStatus.COMPLETED
    return GrantChange(_changed(session, actor, "grant.complete", grant, before, now), changed_now=True)


def record_repayment(
    session: Session, actor: Actor, grant_id: int, amount_ore: int, received_on: dt.date, note: str,
    now: dt.datetime,
) -> Repayment:
    """Record money a grantee paid back (it goes back to the pot); never more than was paid out."""
    grant = _grant_and_pot(session, grant_id)
    if amount_ore <= 0:
        raise ValidationFailed(N_("The amount must be more than 0 kr."), field="amount")
    if amount_ore > grant.paid_ore - grant.repaid_ore:
        raise NotAllowed(N_("More than was paid out cannot be paid back."))
    if received_on > _local_today(now):
        raise ValidationFailed(N_("The date cannot be in the future."), field="received_on")
    before = grant.audit_snapshot()
    repayment = Repayment(grant_id=grant.id, amount_ore=amount_ore, received_on=received_on, note=note.strip(),
                          recorded_by=actor.label[:120], recorded_at=now)
    session.add(repayment)
    grant.repaid_ore += amount_ore
    session.flush()
    _move_pot(session, grant.round_id, -amount_ore)
    _changed(session, actor, "grant.repayment", grant, before, now, repayment_ore=amount_ore)
    return repayment


# --------------------------------------------------------------------------- the ledger


@dataclass(frozen=True)
class LineLedger:
    """A budget line: what was planned, claimed (not rejected) and approved."""

    line_id: int
    position: int
    description: str
    planned_ore: int
    claimed_ore: int
    approved_ore: int

    @property
    def over_budget(self) -> bool:
        """Whether more is claimed on the line than was planned."""
        return self.claimed_ore > self.planned_ore


@dataclass(frozen=True)
class Ledger:
    """A grant's money: ``paid + waiting + left + returned == granted`` (see the models' docstring)."""

    grant_id: int
    granted_ore: int
    approved_ore: int
    paid_ore: int  # net of repayments
    waiting_ore: int  # approved, not yet paid
    left_ore: int  # may still be claimed
    returned_ore: int  # back in the pot: released remainder + repayments
    repaid_ore: int
    released_ore: int
    paid_gross_ore: int
    awaiting_decision_ore: int  # claimed, not decided yet
    lines: list[LineLedger] = field(default_factory=list)


def ledger_of(grant: Grant, lines: list[LineLedger] | None = None, awaiting_ore: int = 0) -> Ledger:
    """The ledger from a grant's running totals (no query)."""
    return Ledger(
        grant_id=grant.id, granted_ore=grant.amount_ore, approved_ore=grant.approved_ore,
        paid_ore=grant.paid_ore - grant.repaid_ore, waiting_ore=grant.approved_ore - grant.paid_ore,
        left_ore=grant.left_ore, returned_ore=grant.released_ore + grant.repaid_ore, repaid_ore=grant.repaid_ore,
        released_ore=grant.released_ore, paid_gross_ore=grant.paid_ore, awaiting_decision_ore=awaiting_ore,
        lines=lines or [],
    )


def ledger(session: Session, grant_id: int) -> Ledger:
    """A grant's ledger with its budget lines (two queries)."""
    grant = get_grant(session, grant_id)
    not_rejected = ExpenseClaim.status != ClaimStatus.REJECTED
    rows = session.execute(
        select(
            GrantBudgetLine,
            func.coalesce(func.sum(case((not_rejected, ExpenseClaim.amount_ore), else_=0)), 0),
            func.coalesce(func.sum(case((ExpenseClaim.status.in_(APPROVED_STATES), ExpenseClaim.approved_ore),
                                        else_=0)), 0),
            func.coalesce(func.sum(case((ExpenseClaim.status.in_(OPEN_STATES), ExpenseClaim.amount_ore), else_=0)), 0),
        )
        .outerjoin(ExpenseClaim, ExpenseClaim.budget_line_id == GrantBudgetLine.id)
        .where(GrantBudgetLine.grant_id == grant.id)
        .group_by(GrantBudgetLine.id)
        .order_by(GrantBudgetLine.position)
    ).all()
    lines = [LineLedger(line.id, line.position, line.description, line.planned_ore, int(claimed), int(approved))
             for line, claimed, approved, _ in rows]
    return ledger_of(grant, lines, sum(int(r[3]) for r in rows))


# --------------------------------------------------------------------------- the pot


@dataclass(frozen=True)
class PotCandidate:
    """A project in the frozen result's order that was not funded (the road reads them)."""

    application_id: int
    title: str
    cost_ore: int
    rank: int


@dataclass(frozen=True)
class PotStatus:
    """The round's pot after grants, returns and repayments, and what it could fund next."""

    pot_ore: int
    granted_ore: int  # Σ of the grants as made
    returned_ore: int  # Σ released remainders + repayments
    net_granted_ore: int
    left_ore: int  # pot − net granted
    next_fundable: PotCandidate | None


def pot_totals(session: Session, round_id: int) -> tuple[int, int]:
    """(Σ granted, Σ returned) of a round's grants."""
    granted, returned = session.execute(
        select(func.coalesce(func.sum(Grant.amount_ore), 0),
               func.coalesce(func.sum(Grant.released_ore + Grant.repaid_ore), 0)).where(Grant.round_id == round_id)
    ).one()
    return int(granted), int(returned)


def pot_status(session: Session, round_id: int, pot_ore: int, candidates: Sequence[PotCandidate]) -> PotStatus:
    """What came back to the pot and the first project, in the frozen result's order, that the pot
    could now fund. Funding it is a separate decision (:func:`grant_from_pot`), never automatic."""
    granted, returned = pot_totals(session, round_id)
    left = pot_ore - (granted - returned)
    funded = set(session.scalars(select(Grant.application_id).where(Grant.round_id == round_id)))
    fundable = next((c for c in sorted(candidates, key=lambda c: c.rank)
                     if c.application_id not in funded and 0 < c.cost_ore <= left), None)
    return PotStatus(pot_ore, granted, returned, granted - returned, left, fundable)


def grant_from_pot(
    session: Session, actor: Actor, round_id: int, pot_ore: int, winner: Winner, now: dt.datetime, *,
    deadline: dt.date | None = None, mode: PayoutMode = PayoutMode.RECEIPTS,
) -> Grant:
    """Grant money that came back to the pot to one more project: an explicit, audited decision.
    The road locks the round first, so two such decisions never spend the same money."""
    _lock_pot(session, round_id)
    granted, returned = pot_totals(session, round_id)
    if granted - returned + winner.amount_ore > pot_ore:
        raise NotEnoughLeft(N_("There is not enough money back in the pot for this project."))
    if session.scalar(select(Grant.id).where(Grant.application_id == winner.application_id)) is not None:
        raise NotAllowed(N_("This project already has a grant."))
    return _make_grant(session, actor, round_id, winner, now, deadline, mode)


# --------------------------------------------------------------------------- follow-up talks


def set_follow_up_needed(session: Session, actor: Actor, grant_id: int, needed: bool, now: dt.datetime) -> Grant:
    """Mark (or unmark) a grant as needing a follow-up talk."""
    grant = get_grant(session, grant_id, for_update=True)
    before = grant.audit_snapshot()
    grant.follow_up_needed = needed
    return _changed(session, actor, "grant.follow_up_needed", grant, before, now)


def grants_needing_follow_up(session: Session, round_id: int | None = None) -> list[Grant]:
    """Grants marked for a follow-up talk (by a caseworker, or by a flagged claim), oldest first."""
    query = select(Grant).where(Grant.follow_up_needed.is_(True))
    if round_id is not None:
        query = query.where(Grant.round_id == round_id)
    return list(session.scalars(query.order_by(Grant.id)))


def book_follow_up(
    session: Session, actor: Actor, grant_id: int, at: dt.datetime, place: str, now: dt.datetime, *,
    minutes: int = 60,
) -> FollowUpTalk:
    """Book a follow-up talk (the view sends the grantee :func:`follow_up_ics`)."""
    grant = get_grant(session, grant_id)
    if at <= now:
        raise ValidationFailed(N_("Choose a time in the future."), field="at")
    if not 15 <= minutes <= 480:
        raise ValidationFailed(N_("A talk lasts between 15 minutes and 8 hours."), field="minutes")
    talk = FollowUpTalk(grant_id=grant.id, at=at, minutes=minutes, place=place.strip()[:200],
                        booked_by_user_id=actor.user_id, booked_by=actor.label[:120], created_at=now)
    session.add(talk)
    session.flush()
    record(session, actor, "grant.follow_up_book", "follow_up_talk", talk.id,
           after={"grant_id": grant.id, "at": at, "place": talk.place}, at=now)
    return talk


def get_follow_up(session: Session, talk_id: int) -> FollowUpTalk:
    """A follow-up talk, or NotFound."""
    talk = session.get(FollowUpTalk, talk_id)
    if talk is None:
        raise NotFound(N_("This follow-up talk does not exist."))
    return talk


def get_own_follow_up(session: Session, talk_id: int, grant_id: int) -> FollowUpTalk:
    """A follow-up talk of this grant (the grantee's own), or NotFound: grantee A can never tell
    B's talk from one that does not exist."""
    talk = session.get(FollowUpTalk, talk_id)
    if talk is None or talk.grant_id != grant_id:
        raise NotFound(N_("This follow-up talk does not exist."))
    return talk


def upcoming_follow_ups(session: Session, grant_id: int, now: dt.datetime) -> list[FollowUpTalk]:
    """A grant's follow-up talks still ahead, soonest first (what the grantee sees)."""
    return list(session.scalars(select(FollowUpTalk).where(FollowUpTalk.grant_id == grant_id, FollowUpTalk.at > now)
                                .order_by(FollowUpTalk.at, FollowUpTalk.id)))


def follow_ups_of(session: Session, grant_id: int) -> list[FollowUpTalk]:
    """A grant's follow-up talks, oldest first."""
    return list(session.scalars(select(FollowUpTalk).where(FollowUpTalk.grant_id == grant_id)
                                .order_by(FollowUpTalk.at, FollowUpTalk.id)))


def write_follow_up_notes(session: Session, actor: Actor, talk_id: int, notes: str, now: dt.datetime) -> FollowUpTalk:
    """Write the notes of a talk; the grant no longer needs one."""
    talk = get_follow_up(session, talk_id)
    grant = get_grant(session, talk.grant_id, for_update=True)
    before = {"notes": talk.notes, "follow_up_needed": grant.follow_up_needed}
    talk.notes = notes.strip()
    talk.notes_at = now
    grant.follow_up_needed = False
    record(session, actor, "grant.follow_up_notes", "follow_up_talk", talk.id, before=before,
           after={"notes": talk.notes, "follow_up_needed": False}, at=now)
    return talk


def follow_up_ics(talk: FollowUpTalk, *, title: str, now: dt.datetime, url: str | None = None, domain: str = "deltager") -> bytes:
    """The talk as a calendar file for the grantee (Danish summary; times in UTC)."""
    return event_calendar(
        uid=f"follow-up-{talk.id}@{domain}", dtstamp=now, starts_at=talk.at,
        ends_at=talk.at + dt.timedelta(minutes=talk.minutes), summary=f"Opfølgningssamtale: {title}",
        location=talk.place, url=url,
    )
