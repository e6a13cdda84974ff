"""Expense claims: submitting a receipt or an invoice, the caseworker's decision, the flags a
caseworker needs, and the approval queue.

A claim may not exceed what is left of its grant when it is sent; it is checked again, with the
grant's row locked, when it is approved (two claims sent at once may together exceed it: the
caseworker who approves the second is refused). A decision on a claim already decided is a no-op
when it is the same decision (a double click) and refused otherwise.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
import secrets
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from deltager.audit.services import Actor, record
from deltager.errors import N_, NotAllowed, NotFound, ValidationFailed
from deltager.grants.models import (
    OPEN_STATES,
    ClaimFile,
    ClaimKind,
    ClaimStatus,
    ExpenseClaim,
    Grant,
    GrantBudgetLine,
    GrantStatus,
    PayoutMode,
)
from deltager.grants.services import (
    GrantClosed,
    Ledger,
    LineLedger,
    NotEnoughLeft,
    _local_today,
    get_grant,
    get_own_grant,
    ledger,
    load,
    refuse_approval,
    refuse_exceeding,
)

MAX_FILES = 5
_CVR = re.compile(r"\d{8}")
_DATE_FORMATS = ("%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%y", "%d.%m.%y", "%d/%m/%y", "%Y-%m-%d")


class ClaimAlreadyDecided(NotAllowed):
    """The claim has been decided already (by someone else, or before)."""


class Decision(enum.StrEnum):
    """What a caseworker decides on a claim."""

    APPROVE = "approve"  # in full
    LOWER = "lower"  # a lower amount, with a reason
    REJECT = "reject"  # with a reason
    ASK_INFO = "ask_info"  # more information needed, from the grantee


class ClaimFlag(enum.StrEnum):
    """What a caseworker should look at twice."""

    SAME_FILE = "same_file"  # the same file on another claim, of any grant
    SAME_RECEIPT = "same_receipt"  # the same supplier, date and amount on another claim, of any grant
    OUTSIDE_PERIOD = "outside_period"  # dated before the grant or after its deadline
    LINE_OVER_BUDGET = "line_over_budget"  # the budget line has more claimed than planned


class WaitingFor(enum.StrEnum):
    """Who acts next on a claim."""

    US = "us"  # the caseworker
    GRANTEE = "grantee"


@dataclass(frozen=True)
class FileInput:
    """A receipt file as the upload pipeline passed it (checked, re-encoded if an image)."""

    original_name: str
    content_type: str
    content: bytes
    #: The fingerprint of the file as it was sent (before re-encoding), which the "same file"
    #: flag compares: a re-encoding that changes with the imaging library must not hide a
    #: receipt sent twice. None: the stored content's own (staff tools, tests).
    sent_sha256: str | None = None


@dataclass(frozen=True)
class ClaimInput:
    """What a grantee (or staff, from paper) fills in for a claim."""

    budget_line_id: int
    amount_ore: int
    spent_on: dt.date
    description: str
    kind: ClaimKind = ClaimKind.REIMBURSE
    supplier_name: str = ""
    supplier_cvr: str = ""
    supplier_address: str = ""  # an invoice's supplier, for the payout file


@dataclass(frozen=True)
class SubmittedClaim:
    """A claim just sent, and what it is flagged for."""

    claim: ExpenseClaim
    flags: list[ClaimFlag]


@dataclass(frozen=True)
class DecidedClaim:
    """A claim after a decision; ``decided_now`` is False when the decision had already been made
    (a double click), so nothing changed and the grantee must not be told again."""

    claim: ExpenseClaim
    decided_now: bool


def parse_claim_date(text: str | None) -> dt.date:
    """A date as people in Denmark type it ("24-12-2026", "24.12.26", "2026-12-24"), or ValidationFailed."""
    cleaned = (text or "").strip()
    for fmt in _DATE_FORMATS:
        try:
            day = dt.datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
        if 2000 <= day.year <= 2100:
            return day
    raise ValidationFailed(N_("Write the date as day-month-year, for example 24-12-2026."), field="spent_on")


def waiting_for(claim: ExpenseClaim) -> WaitingFor | None:
    """Who acts next on a claim: the caseworker, the grantee, or nobody (decided)."""
    if claim.status is ClaimStatus.SUBMITTED:
        return WaitingFor.US
    if claim.status is ClaimStatus.NEEDS_INFO:
        return WaitingFor.GRANTEE
    return None


# --------------------------------------------------------------------------- loading


def get_claim(session: Session, claim_id: int, *, for_update: bool = False) -> ExpenseClaim:
    """A claim by id, or NotFound; ``for_update`` locks and reloads its row."""
    return load(session, ExpenseClaim, claim_id, N_("This claim does not exist."), for_update=for_update)


def get_own_claim(session: Session, claim_id: int, application_ids: Collection[int]) -> ExpenseClaim:
    """A grantee's claim: NotFound unless its grant was made for one of their applications."""
    claim = session.get(ExpenseClaim, claim_id)
    if claim is None or claim.grant.application_id not in application_ids:
        raise NotFound(N_("This claim does not exist."))
    return claim


def get_claim_file(session: Session, file_id: int, *, application_ids: Collection[int] | None = None) -> ClaimFile:
    """A receipt file with its content; for a grantee (``application_ids``) only their own."""
    claim_file = session.get(ClaimFile, file_id)
    if claim_file is None or (
            application_ids is not None and claim_file.claim.grant.application_id not in application_ids):
        raise NotFound(N_("This file does not exist."))
    return claim_file


def claims_of_grant(session: Session, grant_id: int) -> list[ExpenseClaim]:
    """A grant's claims, newest first, with their files and budget lines."""
    return list(session.scalars(
        select(ExpenseClaim).where(ExpenseClaim.grant_id == grant_id)
        .options(selectinload(ExpenseClaim.files), selectinload(ExpenseClaim.budget_line))
        .order_by(ExpenseClaim.submitted_at.desc(), ExpenseClaim.id.desc())
    ))


# --------------------------------------------------------------------------- submitting


def _stored_files(files: Sequence[FileInput], now: dt.datetime) -> list[ClaimFile]:
    return [
        ClaimFile(stored_name=secrets.token_urlsafe(24), original_name=(f.original_name or "")[-255:],
                  content_type=f.content_type[:100], sha256=f.sent_sha256 or hashlib.sha256(f.content).hexdigest(),
                  size_bytes=len(f.content), content=f.content, created_at=now)
        for f in files
    ]


def _check_input(session: Session, grant: Grant, data: ClaimInput, files: Sequence[FileInput], now: dt.datetime) -> None:
    line = session.get(GrantBudgetLine, data.budget_line_id)
    if line is None or line.grant_id != grant.id:
        raise ValidationFailed(N_("Choose a line of the approved budget."), field="budget_line_id")
    if data.amount_ore <= 0:
        raise ValidationFailed(N_("The amount must be more than 0 kr."), field="amount")
    if data.amount_ore > grant.left_ore:
        raise NotEnoughLeft(N_("The claim is more than what is left of the grant."))
    if data.spent_on > _local_today(now):
        raise ValidationFailed(N_("The date cannot be in the future."), field="spent_on")
    if not data.description.strip():
        raise ValidationFailed(N_("Write what the money was spent on."), field="description")
    if data.kind is ClaimKind.UPFRONT:
        raise ValidationFailed(N_("Choose whether you paid yourself or send an invoice."), field="kind")
    if data.kind is ClaimKind.INVOICE and not data.supplier_name.strip():
        raise ValidationFailed(N_("Write the supplier's name."), field="supplier_name")
    if data.supplier_cvr and not _CVR.fullmatch(data.supplier_cvr):
        raise ValidationFailed(N_("A CVR number has 8 digits."), field="supplier_cvr")
    if data.kind is ClaimKind.INVOICE and not data.supplier_cvr:
        raise ValidationFailed(N_("Write the supplier's CVR number (8 digits)."), field="supplier_cvr")
    if data.kind is ClaimKind.INVOICE and not data.supplier_address.strip():
        raise ValidationFailed(N_("Write the supplier's address: the finance system pays the bill to it."),
                               field="supplier_address")
    if not 1 <= len(files) <= MAX_FILES:
        raise ValidationFailed(N_("Add between 1 and 5 files: a photo of the receipt or a PDF."), field="files")


def submit_claim(
    session: Session, actor: Actor, grant_id: int, data: ClaimInput, files: Sequence[FileInput], now: dt.datetime,
    *, on_paper: bool = False,
) -> SubmittedClaim:
    """Send a claim with 1–5 receipt files (``on_paper``: staff register one handed in on paper).

    Refused if it exceeds what is left of the grant. Returns the claim and its flags; a flagged
    claim marks its grant as needing a follow-up talk."""
    grant = get_grant(session, grant_id)
    if grant.status in (GrantStatus.STOPPED, GrantStatus.COMPLETED):
        raise GrantClosed(N_("The grant is stopped or completed: no more claims can be sent."))
    if grant.payout_mode is PayoutMode.UPFRONT:
        raise NotAllowed(N_("This grant is paid up front: send the final account instead of claims."))
    _check_input(session, grant, data, files, now)
    claim = ExpenseClaim(
        grant_id=grant.id, budget_line_id=data.budget_line_id, kind=data.kind, amount_ore=data.amount_ore,
        spent_on=data.spent_on, description=data.description.strip(), supplier_name=data.supplier_name.strip()[:200],
        supplier_cvr=data.supplier_cvr, supplier_address=data.supplier_address.strip()[:200],
        status=ClaimStatus.SUBMITTED, submitted_at=now,
        submitted_by=actor.label[:120], on_paper=on_paper, waiting_since=now,
    )
    claim.files = _stored_files(files, now)
    session.add(claim)
    session.flush()
    flags = claim_flags(session, claim)
    if flags and not grant.follow_up_needed:
        grant.follow_up_needed = True
    record(session, actor, "claim.submit", "expense_claim", claim.id,
           after={**claim.audit_snapshot(), "grant_id": grant.id, "on_paper": on_paper,
                  "files": [f.sha256 for f in claim.files], "flags": [str(f) for f in flags]}, at=now)
    return SubmittedClaim(claim, flags)


def answer_info_request(
    session: Session, actor: Actor, claim_id: int, answer: str, files: Sequence[FileInput], now: dt.datetime,
) -> ExpenseClaim:
    """"Here is what you asked for": the grantee's answer (and more files); the claim goes back to
    the caseworker. Sending the same answer again changes nothing."""
    claim = get_claim(session, claim_id, for_update=True)
    answer = (answer or "").strip()
    if claim.status is ClaimStatus.SUBMITTED and claim.info_answer == answer and answer:
        return claim
    if claim.status is not ClaimStatus.NEEDS_INFO:
        raise ClaimAlreadyDecided(N_("This claim is not waiting for an answer."))
    if not answer and not files:
        raise ValidationFailed(N_("Write an answer or add a file."), field="answer")
    if len(claim.files) + len(files) > 2 * MAX_FILES:
        raise ValidationFailed(N_("A claim can have at most 10 files."), field="files")
    before = claim.audit_snapshot()
    claim.info_answer = answer
    claim.files.extend(_stored_files(files, now))
    claim.status = ClaimStatus.SUBMITTED
    claim.waiting_since = now
    session.flush()
    record(session, actor, "claim.answer", "expense_claim", claim.id, before=before,
           after={**claim.audit_snapshot(), "files": [f.sha256 for f in claim.files]}, at=now)
    return claim


# --------------------------------------------------------------------------- deciding


def _same_decision(claim: ExpenseClaim, decision: Decision, approved_ore: int | None, message: str) -> bool:
    if decision is Decision.APPROVE:
        return claim.status is ClaimStatus.APPROVED or (claim.status is ClaimStatus.PAID and claim.approved_ore == claim.amount_ore)
    if decision is Decision.LOWER:
        return claim.status in (ClaimStatus.LOWERED, ClaimStatus.PAID) and claim.approved_ore == approved_ore
    if decision is Decision.REJECT:
        return claim.status is ClaimStatus.REJECTED
    return claim.status is ClaimStatus.NEEDS_INFO and claim.info_request == message


def decide_claim(
    session: Session, actor: Actor, claim_id: int, decision: Decision, now: dt.datetime, *,
    approved_ore: int | None = None, reason: str = "",
) -> DecidedClaim:
    """Approve in full, approve a lower amount (``approved_ore``, with a reason), reject (with a
    reason) or ask for more information (the question in ``reason``).

    The grant's row is locked before the claim's, and an approval must fit in what is left of the
    grant, so two caseworkers approving at once never exceed it. The same decision again is a
    no-op (a double click: ``decided_now`` is False); another decision on a decided claim is refused."""
    grant_id = session.scalar(select(ExpenseClaim.grant_id).where(ExpenseClaim.id == claim_id))
    if grant_id is None:
        raise NotFound(N_("This claim does not exist."))
    grant = get_grant(session, grant_id, for_update=True)
    claim = get_claim(session, claim_id, for_update=True)
    reason = (reason or "").strip()
    if claim.status not in OPEN_STATES:
        if _same_decision(claim, decision, approved_ore, reason):
            return DecidedClaim(claim, decided_now=False)
        raise ClaimAlreadyDecided(N_("This claim has already been decided."))
    if decision is Decision.ASK_INFO and claim.status is ClaimStatus.NEEDS_INFO and claim.info_request == reason:
        return DecidedClaim(claim, decided_now=False)
    if decision is not Decision.APPROVE and not reason:
        raise ValidationFailed(N_("Write the reason: the grantee is told."), field="reason")
    amount: int | None = None
    if decision is Decision.APPROVE:
        amount = claim.amount_ore
    elif decision is Decision.LOWER:
        if approved_ore is None or not 0 < approved_ore < claim.amount_ore:
            raise ValidationFailed(N_("A lower amount must be more than 0 kr. and less than the amount claimed."),
                                   field="approved_amount")
        amount = approved_ore
    if amount is not None:
        refuse_approval(grant)
        refuse_exceeding(grant, amount)
    before = {**claim.audit_snapshot(), "grant_approved_ore": grant.approved_ore}
    if decision is Decision.ASK_INFO:
        claim.status = ClaimStatus.NEEDS_INFO
        claim.info_request = reason
        claim.info_answer = ""
    else:
        claim.status = {Decision.APPROVE: ClaimStatus.APPROVED, Decision.LOWER: ClaimStatus.LOWERED,
                        Decision.REJECT: ClaimStatus.REJECTED}[decision]
        claim.approved_ore = amount
        claim.reason = "" if decision is Decision.APPROVE else reason
        grant.approved_ore += amount or 0
    claim.decided_at, claim.decided_by, claim.decided_by_user_id = now, actor.label[:120], actor.user_id
    claim.waiting_since = now
    record(session, actor, "claim.decision", "expense_claim", claim.id, before=before,
           after={**claim.audit_snapshot(), "grant_approved_ore": grant.approved_ore}, at=now)
    return DecidedClaim(claim, decided_now=True)


def request_upfront_payout(session: Session, actor: Actor, grant_id: int, now: dt.datetime) -> ExpenseClaim:
    """For a grant paid up front: the whole of what is left, approved, ready for a payout batch.
    Made once; the association accounts for it afterwards (repayments for what it did not use)."""
    grant = get_grant(session, grant_id, for_update=True)
    if grant.payout_mode is not PayoutMode.UPFRONT:
        raise NotAllowed(N_("This grant is paid against receipts."))
    existing = session.scalar(select(ExpenseClaim).where(
        ExpenseClaim.grant_id == grant.id, ExpenseClaim.kind == ClaimKind.UPFRONT))
    if existing is not None:
        return existing
    refuse_approval(grant)
    if grant.left_ore <= 0:
        raise NotEnoughLeft(N_("Nothing is left of the grant."))
    claim = ExpenseClaim(
        grant_id=grant.id, budget_line_id=grant.budget_lines[0].id, kind=ClaimKind.UPFRONT,
        amount_ore=grant.left_ore, approved_ore=grant.left_ore, spent_on=_local_today(now),
        description="Udbetaling forud", status=ClaimStatus.APPROVED, submitted_at=now, submitted_by=actor.label[:120],
        waiting_since=now, decided_at=now, decided_by=actor.label[:120], decided_by_user_id=actor.user_id,
    )
    session.add(claim)
    before = {"grant_approved_ore": grant.approved_ore}
    grant.approved_ore += grant.left_ore
    session.flush()
    record(session, actor, "claim.decision", "expense_claim", claim.id, before=before,
           after={**claim.audit_snapshot(), "grant_approved_ore": grant.approved_ore}, at=now)
    return claim


# --------------------------------------------------------------------------- flags


def _supplier_key(claim: ExpenseClaim) -> tuple[str, str]:
    return claim.supplier_cvr, " ".join(claim.supplier_name.casefold().split())


def _same_supplier(a: ExpenseClaim, b: ExpenseClaim) -> bool:
    (cvr_a, name_a), (cvr_b, name_b) = _supplier_key(a), _supplier_key(b)
    if cvr_a and cvr_b:
        return cvr_a == cvr_b
    return bool(name_a) and name_a == name_b


def flags_for(session: Session, claims: Sequence[ExpenseClaim]) -> dict[int, list[ClaimFlag]]:
    """The flags of several claims (the queue's page) in a handful of queries."""
    if not claims:
        return {}
    ids = [c.id for c in claims]
    flags: dict[int, list[ClaimFlag]] = defaultdict(list)
    # The same file on another claim.
    own = select(ClaimFile.claim_id, ClaimFile.sha256).where(ClaimFile.claim_id.in_(ids)).subquery()
    twice = session.execute(
        select(own.c.claim_id).distinct().join(ClaimFile, ClaimFile.sha256 == own.c.sha256)
        .where(ClaimFile.claim_id != own.c.claim_id)
    ).scalars()
    same_file = set(twice)
    # The same date and amount on another claim (index), then the same supplier.
    keys = {(c.spent_on, c.amount_ore) for c in claims}
    others = list(session.scalars(select(ExpenseClaim).where(
        ExpenseClaim.spent_on.in_({k[0] for k in keys}), ExpenseClaim.amount_ore.in_({k[1] for k in keys}),
        ExpenseClaim.status != ClaimStatus.REJECTED)))
    # How much each line has used: approved amounts, and open claims as claimed.
    used_by_line = dict(session.execute(
        select(ExpenseClaim.budget_line_id, func.sum(func.coalesce(ExpenseClaim.approved_ore, ExpenseClaim.amount_ore)))
        .where(ExpenseClaim.budget_line_id.in_({c.budget_line_id for c in claims}),
               ExpenseClaim.status != ClaimStatus.REJECTED)
        .group_by(ExpenseClaim.budget_line_id)
    ).all())
    for claim in claims:
        if claim.id in same_file:
            flags[claim.id].append(ClaimFlag.SAME_FILE)
        if any(o.id != claim.id and o.spent_on == claim.spent_on and o.amount_ore == claim.amount_ore
               and _same_supplier(o, claim) for o in others):
            flags[claim.id].append(ClaimFlag.SAME_RECEIPT)
        grant = claim.grant
        if not grant.starts_on <= claim.spent_on <= grant.deadline:
            flags[claim.id].append(ClaimFlag.OUTSIDE_PERIOD)
        if int(used_by_line.get(claim.budget_line_id) or 0) > claim.budget_line.planned_ore:
            flags[claim.id].append(ClaimFlag.LINE_OVER_BUDGET)
    return {i: flags.get(i, []) for i in ids}


def claim_flags(session: Session, claim: ExpenseClaim) -> list[ClaimFlag]:
    """What a caseworker should look at twice in this claim."""
    return flags_for(session, [claim])[claim.id]


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class ClaimPage:
    """Everything a claim's page shows: the claim beside its budget line and what that line has
    used, the grant's ledger, the flags, and who acts next."""

    claim: ExpenseClaim
    ledger: Ledger
    line: LineLedger
    flags: list[ClaimFlag]
    waiting_for: WaitingFor | None


def claim_page(session: Session, claim_id: int, *, application_ids: Collection[int] | None = None) -> ClaimPage:
    """A claim's page for a caseworker, or for a grantee (``application_ids``: only their own)."""
    claim = get_claim(session, claim_id) if application_ids is None else get_own_claim(session, claim_id, application_ids)
    book = ledger(session, claim.grant_id)
    line = next(line for line in book.lines if line.line_id == claim.budget_line_id)
    return ClaimPage(claim, book, line, claim_flags(session, claim), waiting_for(claim))


@dataclass(frozen=True)
class GrantPage:
    """Everything a grant's page shows: the grant, its ledger with budget lines, its claims."""

    grant: Grant
    ledger: Ledger
    claims: list[ExpenseClaim]


def grant_page(session: Session, grant_id: int, *, application_ids: Collection[int] | None = None) -> GrantPage:
    """A grant's page for a caseworker, or for a grantee (``application_ids``: only their own)."""
    grant = get_grant(session, grant_id) if application_ids is None else get_own_grant(session, grant_id, application_ids)
    return GrantPage(grant, ledger(session, grant.id), claims_of_grant(session, grant.id))


# --------------------------------------------------------------------------- the approval queue


@dataclass(frozen=True)
class QueueRow:
    """A line of the approval queue."""

    claim: ExpenseClaim
    grant_title: str
    round_id: int
    waiting_for: WaitingFor | None
    flags: list[ClaimFlag]


@dataclass(frozen=True)
class QueuePage:
    """One page of the approval queue and how many claims match in all."""

    rows: list[QueueRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.per_page))


def approval_queue(
    session: Session, *, round_id: int | None = None, status: ClaimStatus | None = None,
    waiting: WaitingFor | None = None, page: int = 1, per_page: int = 50,
) -> QueuePage:
    """Claims across grants, oldest waiting first: by default every claim not decided yet;
    ``waiting`` = us (sent, or answered) or grantee (more information asked for); or one ``status``.
    Paginated; ordered along the index (status, waiting_since, id)."""
    if status is not None:
        statuses: Collection[ClaimStatus] = (status,)
    elif waiting is WaitingFor.US:
        statuses = (ClaimStatus.SUBMITTED,)
    elif waiting is WaitingFor.GRANTEE:
        statuses = (ClaimStatus.NEEDS_INFO,)
    else:
        statuses = OPEN_STATES
    where = [ExpenseClaim.status.in_(statuses)]
    if round_id is not None:
        where.append(ExpenseClaim.grant_id.in_(select(Grant.id).where(Grant.round_id == round_id)))
    total = session.scalar(select(func.count()).select_from(ExpenseClaim).where(*where)) or 0
    page = max(1, page)
    claims = list(session.scalars(
        select(ExpenseClaim).where(*where)
        .options(selectinload(ExpenseClaim.grant), selectinload(ExpenseClaim.budget_line))
        .order_by(ExpenseClaim.waiting_since, ExpenseClaim.id)
        .limit(per_page).offset((page - 1) * per_page)
    ))
    flags = flags_for(session, claims)
    rows = [QueueRow(c, c.grant.title, c.grant.round_id, waiting_for(c), flags[c.id]) for c in claims]
    return QueuePage(rows, total, page, per_page)


def approved_unpaid(session: Session, grant_id: int) -> list[ExpenseClaim]:
    """A grant's approved claims not yet paid (its "waiting" money)."""
    return list(session.scalars(select(ExpenseClaim).where(
        ExpenseClaim.grant_id == grant_id, ExpenseClaim.status.in_((ClaimStatus.APPROVED, ClaimStatus.LOWERED)))
        .order_by(ExpenseClaim.id)))


__all__ = [
    "ClaimAlreadyDecided", "ClaimFlag", "ClaimInput", "DecidedClaim", "Decision", "FileInput", "QueuePage",
    "QueueRow", "SubmittedClaim", "WaitingFor", "answer_info_request", "approval_queue", "approved_unpaid",
    "ClaimPage", "GrantPage", "claim_flags", "claim_page", "claims_of_grant", "grant_page", "decide_claim", "flags_for", "get_claim", "get_claim_file", "get_own_claim",
    "parse_claim_date", "request_upfront_payout", "submit_claim", "waiting_for",
]
