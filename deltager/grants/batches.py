"""Payout batches: approved claims paid together through the finance system.

open (claims added and removed) → exported (the CSV for the finance system; locked) → paid.

A claim is in at most one batch: ``payout_batch_claim.claim_id`` is the primary key. Two batches
built at once both try to insert the same claims with ``INSERT … ON CONFLICT DO NOTHING``; the
database lets one of them have each claim, and each batch holds exactly the claims its insert got.

The CSV has one row per payee (see :data:`CSV_HEADER`): the grantee of claims they paid themselves
(and an association's up-front payout), or a supplier by CVR for invoices. It names no CPR number:
the finance system finds the person's NemKonto from its own records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from deltager.audit.services import Actor, record
from deltager.csvsafe import csv_text
from deltager.errors import N_, NotAllowed
from deltager.grants.models import (
    BatchStatus,
    ClaimKind,
    ClaimStatus,
    ExpenseClaim,
    Grant,
    PayeeType,
    PayoutBatch,
    PayoutBatchClaim,
)
from deltager.grants.services import batch_total as _total
from deltager.grants.services import get_grant, load, pot_totals, refuse_payout
from deltager.timeutil import utc_to_local

#: The payout file's columns (Danish: the finance system's clerks read them).
CSV_HEADER = ["Modtagertype", "Navn", "Adresse", "CVR", "Beløb", "Bilag", "Reference", "Godkendt", "Godkendt af",
              "Bevilling"]
PAYEE_WORDS = {PayeeType.PRIVATE: "Privatperson", PayeeType.ASSOCIATION: "Forening",
               PayeeType.SUPPLIER: "Leverandør"}
_PAYABLE = (ClaimStatus.APPROVED, ClaimStatus.LOWERED)


def get_batch(session: Session, batch_id: int, *, for_update: bool = False) -> PayoutBatch:
    """A batch, or NotFound; ``for_update`` locks and reloads its row."""
    return load(session, PayoutBatch, batch_id, N_("This payout batch does not exist."), for_update=for_update)


def batches_of_round(session: Session, round_id: int) -> list[PayoutBatch]:
    """A round's batches, newest first."""
    return list(session.scalars(select(PayoutBatch).where(PayoutBatch.round_id == round_id)
                                .order_by(PayoutBatch.id.desc())))


def batch_claims(session: Session, batch_id: int, *, fresh: bool = False) -> list[ExpenseClaim]:
    """The claims of a batch, with their grants, in claim order; ``fresh``: as the database has
    them now, over what the session loaded before (one query)."""
    return list(session.scalars(
        select(ExpenseClaim).join(PayoutBatchClaim, PayoutBatchClaim.claim_id == ExpenseClaim.id)
        .where(PayoutBatchClaim.batch_id == batch_id).options(selectinload(ExpenseClaim.grant))
        .order_by(ExpenseClaim.id).execution_options(populate_existing=fresh)
    ))


@dataclass(frozen=True)
class Blocked:
    """An approved claim that cannot be paid now, and why (a msgid with its parameters)."""

    claim: ExpenseClaim
    message: str
    params: dict[str, object]


def waiting_for_payout(session: Session, round_id: int) -> tuple[list[ExpenseClaim], list[Blocked]]:
    """The round's approved claims in no batch yet: those that may be paid now, and those held
    back (grant on hold, conditions not accepted, børneattest missing) with the reason."""
    claims = list(session.scalars(
        select(ExpenseClaim).join(Grant, Grant.id == ExpenseClaim.grant_id)
        .where(Grant.round_id == round_id, ExpenseClaim.status.in_(_PAYABLE),
               ~select(PayoutBatchClaim.claim_id).where(PayoutBatchClaim.claim_id == ExpenseClaim.id).exists())
        .options(selectinload(ExpenseClaim.grant)).order_by(ExpenseClaim.decided_at, ExpenseClaim.id)
    ))
    ready: list[ExpenseClaim] = []
    blocked: list[Blocked] = []
    for claim in claims:
        try:
            refuse_payout(claim.grant)
        except NotAllowed as error:
            blocked.append(Blocked(claim, error.message, error.params))
        else:
            ready.append(claim)
    return ready, blocked


def _take(session: Session, batch_id: int, claim_ids: Sequence[int]) -> list[int]:
    """Insert the claims into the batch, skipping any another batch has: the ids it got."""
    if not claim_ids:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(PayoutBatchClaim).values([{"claim_id": c, "batch_id": batch_id} for c in claim_ids])
                 .on_conflict_do_nothing(index_elements=["claim_id"]).returning(PayoutBatchClaim.claim_id))
    return sorted(session.scalars(statement))


def create_batch(
    session: Session, actor: Actor, round_id: int, now: dt.datetime, *, claim_ids: Collection[int] | None = None,
) -> PayoutBatch:
    """A new open batch of the round's approved claims waiting for payout (or of those of them in
    ``claim_ids``); claims whose grant may not be paid now are left out. Refused if none is left."""
    ready, _ = waiting_for_payout(session, round_id)
    wanted = [c.id for c in ready if claim_ids is None or c.id in claim_ids]
    if not wanted:
        raise NotAllowed(N_("No approved claims are waiting for payout."))
    batch = PayoutBatch(round_id=round_id, status=BatchStatus.OPEN, created_at=now, created_by=actor.label[:120])
    session.add(batch)
    session.flush()
    taken = _take(session, batch.id, wanted)
    if not taken:  # another batch took them all in the meantime
        raise NotAllowed(N_("No approved claims are waiting for payout."))
    record(session, actor, "batch.create", "payout_batch", batch.id,
           after={"claims": taken, "total_ore": _total(session, batch.id)}, at=now)
    return batch


def add_to_batch(session: Session, actor: Actor, batch_id: int, claim_ids: Collection[int], now: dt.datetime) -> list[int]:
    """Add approved claims waiting for payout (in no batch, their grant payable now) to an open
    batch; returns those added (none, if another batch took them first)."""
    batch = get_batch(session, batch_id, for_update=True)
    _require_open(batch)
    ready, _ = waiting_for_payout(session, batch.round_id)
    before = _total(session, batch.id)
    taken = _take(session, batch.id, [c.id for c in ready if c.id in claim_ids])
    if taken:
        record(session, actor, "batch.add", "payout_batch", batch.id, before={"total_ore": before},
               after={"claims": taken, "total_ore": _total(session, batch.id)}, at=now)
    return taken


def _require_open(batch: PayoutBatch) -> None:
    if batch.status is not BatchStatus.OPEN:
        raise NotAllowed(N_("The batch has been exported and is locked."))


def remove_from_batch(session: Session, actor: Actor, batch_id: int, claim_id: int, now: dt.datetime) -> PayoutBatch:
    """Take a claim out of an open batch (it waits for the next one)."""
    batch = get_batch(session, batch_id, for_update=True)
    _require_open(batch)
    member = session.get(PayoutBatchClaim, claim_id)
    if member is None or member.batch_id != batch.id:
        return batch
    before = _total(session, batch.id)
    session.delete(member)
    session.flush()
    record(session, actor, "batch.remove", "payout_batch", batch.id,
           before={"claims": [claim_id], "total_ore": before}, after={"claims": [], "total_ore": _total(session, batch.id)},
           at=now)
    return batch


@dataclass(frozen=True)
class BatchSummary:
    """A batch's total against the pot: what was paid out of it before, and what is left after."""

    batch: PayoutBatch
    claims: int
    total_ore: int
    pot_ore: int
    paid_before_ore: int  # net paid out of the round's pot so far
    committed_ore: int  # the pot net of returns: Σ granted − returned
    left_after_ore: int  # pot − paid before − this batch


def batch_summary(session: Session, batch_id: int, pot_ore: int) -> BatchSummary:
    """The batch's total and what is left in the pot (``pot_ore`` is the round's)."""
    batch = get_batch(session, batch_id)
    count = session.scalar(select(func.count()).select_from(PayoutBatchClaim).where(PayoutBatchClaim.batch_id == batch.id))
    paid_before = int(session.scalar(select(func.coalesce(func.sum(Grant.paid_ore - Grant.repaid_ore), 0))
                                     .where(Grant.round_id == batch.round_id)) or 0)
    if batch.status is BatchStatus.PAID:  # its claims are in "paid before" already
        paid_before -= _total(session, batch.id)
    granted, returned = pot_totals(session, batch.round_id)
    total = _total(session, batch.id)
    return BatchSummary(batch, int(count or 0), total, pot_ore, paid_before, granted - returned,
                        pot_ore - paid_before - total)


def _refuse_export(claims: Sequence[ExpenseClaim]) -> None:
    if not claims:
        raise NotAllowed(N_("The batch is empty."))
    withdrawn = [c.reference for c in claims if c.status not in _PAYABLE]
    if withdrawn:  # a stop withdrew its approval while the batch was being made
        raise NotAllowed(N_("These claims are no longer approved: %(claims)s. Take them out of the batch first."),
                         claims=", ".join(withdrawn))
    for grant in sorted({c.grant for c in claims}, key=lambda g: g.id):
        refuse_payout(grant)


def export_batch(session: Session, actor: Actor, batch_id: int, now: dt.datetime) -> str:
    """Export the batch for the finance system: the CSV, and the batch is locked. Exporting again
    gives the same file and changes nothing."""
    batch = get_batch(session, batch_id, for_update=True)
    if batch.status is BatchStatus.OPEN:
        claims = batch_claims(session, batch.id)
        for grant_id in sorted({c.grant_id for c in claims}):  # hold and stop wait for the export
            get_grant(session, grant_id, for_update=True)
        claims = batch_claims(session, batch.id, fresh=True)  # as they are now, under the grants' locks
        _refuse_export(claims)
        batch.status = BatchStatus.EXPORTED
        batch.exported_at, batch.exported_by, batch.exported_by_user_id = now, actor.label[:120], actor.user_id
        record(session, actor, "batch.export", "payout_batch", batch.id, before={"status": BatchStatus.OPEN},
               after={"status": batch.status, "claims": [c.id for c in claims], "total_ore": _total(session, batch.id)},
               at=now)
    return batch_csv(session, batch.id)


@dataclass(frozen=True)
class BatchPaid:
    """A batch marked as paid; ``changed_now`` is False when it was paid already (a double click,
    or a colleague just before), so no grantee is told twice."""

    batch: PayoutBatch
    changed_now: bool


def mark_batch_paid(session: Session, actor: Actor, batch_id: int, now: dt.datetime) -> BatchPaid:
    """The finance system has paid an exported batch: its claims are paid, the grants' ledgers
    move the money from waiting to paid. Marking it again changes nothing."""
    batch = get_batch(session, batch_id, for_update=True)
    if batch.status is BatchStatus.PAID:
        return BatchPaid(batch, changed_now=False)
    if batch.status is not BatchStatus.EXPORTED:
        raise NotAllowed(N_("Export the batch to the finance system before it is marked as paid."))
    claims = batch_claims(session, batch.id)
    grants = {g: get_grant(session, g, for_update=True) for g in sorted({c.grant_id for c in claims})}
    for grant_id, grant in grants.items():
        before = grant.audit_snapshot()
        for claim in claims:
            if claim.grant_id == grant_id and claim.status in _PAYABLE:
                claim.status = ClaimStatus.PAID
                claim.paid_at = now
                grant.paid_ore += claim.approved_ore or 0
        record(session, actor, "grant.paid", "grant", grant.id, before=before,
               after={**grant.audit_snapshot(), "batch_id": batch.id}, at=now)
    batch.status = BatchStatus.PAID
    batch.paid_at, batch.paid_by = now, actor.label[:120]
    record(session, actor, "batch.paid", "payout_batch", batch.id, before={"status": BatchStatus.EXPORTED},
           after={"status": batch.status, "total_ore": _total(session, batch.id)}, at=now)
    return BatchPaid(batch, changed_now=True)


# --------------------------------------------------------------------------- the payout file


def _kroner(ore: int) -> str:
    """An amount as the finance system reads it: "1234,50" (no thousands separator)."""
    return f"{ore // 100},{ore % 100:02d}"


@dataclass
class _Payee:
    payee_type: PayeeType
    name: str
    address: str
    cvr: str
    grant_ids: list[int]
    claims: list[ExpenseClaim]


def payee_rows(claims: Sequence[ExpenseClaim]) -> list[_Payee]:
    """The claims grouped by who is paid: a grantee per grant, a supplier per CVR."""
    payees: dict[tuple[str, object], _Payee] = {}
    for claim in claims:
        grant = claim.grant
        if claim.kind is ClaimKind.INVOICE:
            key: tuple[str, object] = ("supplier", claim.supplier_cvr)
            payee = payees.setdefault(key, _Payee(PayeeType.SUPPLIER, claim.supplier_name, claim.supplier_address,
                                                  claim.supplier_cvr, [], []))
        else:
            key = ("grant", grant.id)
            payee = payees.setdefault(key, _Payee(grant.payee_type, grant.payee_name, grant.payee_address,
                                                  grant.payee_cvr, [], []))
        payee.claims.append(claim)
        if grant.id not in payee.grant_ids:
            payee.grant_ids.append(grant.id)
    return list(payees.values())


def batch_csv(session: Session, batch_id: int) -> str:
    """The payout file of a batch (see :data:`CSV_HEADER`); every cell safe for spreadsheets."""
    batch = get_batch(session, batch_id)
    rows = []
    for n, payee in enumerate(payee_rows(batch_claims(session, batch.id)), start=1):
        decided = [c.decided_at for c in payee.claims if c.decided_at is not None]
        approvers = sorted({c.decided_by for c in payee.claims if c.decided_by})
        rows.append([
            PAYEE_WORDS[payee.payee_type], payee.name, payee.address, payee.cvr,
            _kroner(sum(c.approved_ore or 0 for c in payee.claims)),
            " ".join(c.reference for c in payee.claims), f"{batch.reference}-{n}",
            utc_to_local(max(decided)).date().isoformat() if decided else "", ", ".join(approvers),
            " ".join(f"B-{g}" for g in payee.grant_ids),
        ])
    return csv_text(CSV_HEADER, rows)

