"""Grants: the money road from a won vote to the last approved receipt.

A **Grant** is made from a line of a frozen allocation (``deltager.road.make_grants``). It keeps
its ledger's running totals on its own row (approved, paid, repaid, released) so that

- the database refuses a ledger that does not add up (CHECK constraints on the row): Σ approved +
  released ≤ granted, paid ≤ approved, repaid ≤ paid, nothing negative;
- the round's row keeps Σ granted, net of returns (``Round.granted_net_ore``, moved by the
  services with the round locked), and its CHECK ``granted_within_pot`` holds it within the pot;
- the services lock one row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
  serialises writers anyway) before they check "is there money left?", so two caseworkers who
  approve claims of the same grant at once are served one after the other.

The totals are a cache of the claims and repayments, kept in the same transaction; the Hypothesis
test (tests/grants/test_ledger_machine.py) checks that they always equal the sums they cache.

The ledger's words, as the grantee sees them::

    granted = paid + waiting + left + returned
    paid     = paid out to the grantee or a supplier, net of what the grantee paid back
    waiting  = approved, not paid yet
    left     = may still be claimed
    returned = back in the round's pot: the unused remainder of a stopped grant, and repayments

The grant stores a snapshot of its payee (name, address, CVR) and title from the application
when it is made: the grants domain reads no other domain's tables, and a payout file names the
payee as the grant was made. No CPR number is ever stored.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from deltager.db import Base, UTCDateTime, str_enum, utcnow


class PayoutMode(enum.StrEnum):
    """How a grant is paid: against approved receipts (always for a private person), or up front
    (an association, which sends a final account later)."""

    RECEIPTS = "receipts"
    UPFRONT = "upfront"


class GrantStatus(enum.StrEnum):
    """active ↔ on_hold; active | on_hold → stopped; active → completed."""

    ACTIVE = "active"
    ON_HOLD = "on_hold"
    STOPPED = "stopped"
    COMPLETED = "completed"


class PayeeType(enum.StrEnum):
    """Who receives a payout: the grantee as a private person or an association, or a supplier."""

    PRIVATE = "private"
    ASSOCIATION = "association"
    SUPPLIER = "supplier"


class ConditionsChannel(enum.StrEnum):
    """How the grant's conditions were accepted."""

    ONLINE = "online"  # by the grantee, signed in
    PAPER = "paper"  # a signed paper copy, recorded by staff


class ClaimKind(enum.StrEnum):
    """What a claim asks for."""

    REIMBURSE = "reimburse"  # "I paid, reimburse me"
    INVOICE = "invoice"  # "pay this invoice to a supplier" (name and CVR)
    UPFRONT = "upfront"  # the up-front payout of an association's grant (made by staff)


class ClaimStatus(enum.StrEnum):
    """submitted ↔ needs_info; submitted → approved | lowered | rejected; approved | lowered → paid."""

    SUBMITTED = "submitted"
    NEEDS_INFO = "needs_info"
    APPROVED = "approved"
    LOWERED = "lowered"  # approved, at a lower amount (with a reason)
    REJECTED = "rejected"
    PAID = "paid"


#: Claims whose approved amount counts in the ledger.
APPROVED_STATES = (ClaimStatus.APPROVED, ClaimStatus.LOWERED, ClaimStatus.PAID)
#: Claims a caseworker has still to decide, or that wait for the grantee's answer.
OPEN_STATES = (ClaimStatus.SUBMITTED, ClaimStatus.NEEDS_INFO)


class BatchStatus(enum.StrEnum):
    """open (claims may be added and removed) → exported (locked) → paid."""

    OPEN = "open"
    EXPORTED = "exported"
    PAID = "paid"


class Grant(Base):
    """A project's grant: the amount, how it is paid, its conditions and its ledger's totals."""

    __tablename__ = "grant"
    __table_args__ = (
        CheckConstraint("amount_ore >= 0", name="amount_not_negative"),
        CheckConstraint("approved_ore >= 0 AND paid_ore >= 0 AND repaid_ore >= 0 AND released_ore >= 0",
                        name="totals_not_negative"),
        CheckConstraint("approved_ore + released_ore <= amount_ore", name="approved_within_grant"),
        CheckConstraint("paid_ore <= approved_ore", name="paid_within_approved"),
        CheckConstraint("repaid_ore <= paid_ore", name="repaid_within_paid"),
        CheckConstraint("status <> 'stopped' OR stop_reason <> ''", name="stop_has_reason"),
        CheckConstraint("payout_mode = 'receipts' OR payee_type = 'association'", name="upfront_only_association"),
        CheckConstraint("starts_on <= deadline", name="period_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    rank: Mapped[int] = mapped_column(Integer, default=0)  # in the frozen result's order
    title: Mapped[str] = mapped_column(String(80), default="")
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    payout_mode: Mapped[PayoutMode] = mapped_column(str_enum(PayoutMode), default=PayoutMode.RECEIPTS)
    status: Mapped[GrantStatus] = mapped_column(str_enum(GrantStatus), default=GrantStatus.ACTIVE, index=True)

    # The payee as the grant was made (a snapshot of the application; never a CPR number).
    payee_type: Mapped[PayeeType] = mapped_column(str_enum(PayeeType), default=PayeeType.PRIVATE)
    payee_name: Mapped[str] = mapped_column(String(200), default="")
    payee_address: Mapped[str] = mapped_column(String(200), default="")
    payee_cvr: Mapped[str] = mapped_column(String(8), default="")

    # The project period: claims dated outside it are flagged.
    starts_on: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date] = mapped_column(Date)

    conditions_accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    conditions_accepted_by: Mapped[str] = mapped_column(String(120), default="")
    conditions_channel: Mapped[ConditionsChannel | None] = mapped_column(str_enum(ConditionsChannel))

    child_certificate_required: Mapped[bool] = mapped_column(Boolean, default=False)
    child_certificate_received_on: Mapped[dt.date | None] = mapped_column(Date)
    follow_up_needed: Mapped[bool] = mapped_column(Boolean, default=False)

    # The ledger's running totals (see the module docstring), in øre.
    approved_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_ore: Mapped[int] = mapped_column(BigInteger, default=0)  # gross: before repayments
    repaid_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    released_ore: Mapped[int] = mapped_column(BigInteger, default=0)  # the unused remainder of a stopped grant

    hold_reason: Mapped[str] = mapped_column(Text, default="")
    stop_reason: Mapped[str] = mapped_column(Text, default="")
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    budget_lines: Mapped[list[GrantBudgetLine]] = relationship(
        back_populates="grant", order_by="GrantBudgetLine.position", cascade="all, delete-orphan"
    )

    @property
    def left_ore(self) -> int:
        """What may still be claimed and approved."""
        return self.amount_ore - self.approved_ore - self.released_ore

    @property
    def child_certificate_missing(self) -> bool:
        """Whether a børneattest is required and not yet received (no payout until it is)."""
        return self.child_certificate_required and self.child_certificate_received_on is None

    def audit_snapshot(self) -> dict[str, object]:
        """The fields the audit trail records before and after a change."""
        return {
            "amount_ore": self.amount_ore, "payout_mode": self.payout_mode, "status": self.status,
            "approved_ore": self.approved_ore, "paid_ore": self.paid_ore, "repaid_ore": self.repaid_ore,
            "released_ore": self.released_ore, "deadline": self.deadline,
            "conditions_accepted_at": self.conditions_accepted_at, "conditions_channel": self.conditions_channel,
            "child_certificate_required": self.child_certificate_required,
            "child_certificate_received_on": self.child_certificate_received_on,
            "follow_up_needed": self.follow_up_needed, "hold_reason": self.hold_reason,
            "stop_reason": self.stop_reason,
        }


class GrantBudgetLine(Base):
    """A line of the approved budget, copied from the application (or "Hele projektet")."""

    __tablename__ = "grant_budget_line"
    __table_args__ = (
        UniqueConstraint("grant_id", "position", name="uq_grant_budget_line_position"),
        CheckConstraint("planned_ore >= 0", name="planned_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200))
    planned_ore: Mapped[int] = mapped_column(BigInteger)

    grant: Mapped[Grant] = relationship(back_populates="budget_lines")


class ExpenseClaim(Base):
    """A receipt or an invoice claimed against a line of a grant's budget, and its decision."""

    __tablename__ = "expense_claim"
    __table_args__ = (
        CheckConstraint("amount_ore > 0", name="amount_positive"),
        CheckConstraint("approved_ore IS NULL OR (approved_ore >= 0 AND approved_ore <= amount_ore)",
                        name="approved_within_claimed"),
        CheckConstraint("status NOT IN ('approved', 'lowered', 'paid') OR approved_ore IS NOT NULL",
                        name="approved_has_amount"),
        CheckConstraint("status <> 'approved' OR approved_ore = amount_ore", name="approved_in_full"),
        CheckConstraint("status <> 'lowered' OR (approved_ore < amount_ore AND reason <> '')",
                        name="lowered_has_reason"),
        CheckConstraint("status <> 'rejected' OR (reason <> '' AND approved_ore IS NULL)", name="rejected_has_reason"),
        CheckConstraint("kind <> 'invoice' OR (supplier_name <> '' AND length(supplier_cvr) = 8)",
                        name="invoice_has_supplier"),
        # The approval queue: by status, oldest first (stays an index scan at 10,000 claims).
        Index("ix_expense_claim_queue", "status", "waiting_since", "id"),
        # Duplicate receipts: the same date and amount, then the supplier is compared.
        Index("ix_expense_claim_receipt", "spent_on", "amount_ore"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant.id"), index=True)
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("grant_budget_line.id"), index=True)
    kind: Mapped[ClaimKind] = mapped_column(str_enum(ClaimKind), default=ClaimKind.REIMBURSE)
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    approved_ore: Mapped[int | None] = mapped_column(BigInteger)
    spent_on: Mapped[dt.date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    supplier_name: Mapped[str] = mapped_column(String(200), default="")
    supplier_cvr: Mapped[str] = mapped_column(String(8), default="")
    # The supplier's address for the payout file (an invoice; '' on claims sent before migration 0013).
    supplier_address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    status: Mapped[ClaimStatus] = mapped_column(str_enum(ClaimStatus), default=ClaimStatus.SUBMITTED)

    # The caseworker's reason (lowered, rejected) and the conversation on a request for information.
    reason: Mapped[str] = mapped_column(Text, default="")
    info_request: Mapped[str] = mapped_column(Text, default="")
    info_answer: Mapped[str] = mapped_column(Text, default="")

    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(120), default="")  # the actor's label
    on_paper: Mapped[bool] = mapped_column(Boolean, default=False)  # registered by staff from paper
    # Since when the claim waits for whoever acts next (the queue's order).
    waiting_since: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_by: Mapped[str] = mapped_column(String(120), default="")
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    grant: Mapped[Grant] = relationship()
    budget_line: Mapped[GrantBudgetLine] = relationship()
    files: Mapped[list[ClaimFile]] = relationship(
        back_populates="claim", order_by="ClaimFile.id", cascade="all, delete-orphan"
    )

    @property
    def reference(self) -> str:
        """The claim's reference, as the grantee, the caseworker and the payout file write it."""
        return f"U-{self.id}"

    def audit_snapshot(self) -> dict[str, object]:
        """The fields the audit trail records before and after a change."""
        return {
            "status": self.status, "amount_ore": self.amount_ore, "approved_ore": self.approved_ore,
            "budget_line_id": self.budget_line_id, "spent_on": self.spent_on, "kind": self.kind,
            "supplier_name": self.supplier_name, "supplier_cvr": self.supplier_cvr,
            "supplier_address": self.supplier_address, "reason": self.reason,
            "info_request": self.info_request, "info_answer": self.info_answer,
        }


class ClaimFile(Base):
    """A receipt or invoice file of a claim, as the upload pipeline passed it: stored under a random
    name, served only after an authorisation check; its SHA-256 finds the same receipt twice."""

    __tablename__ = "claim_file"
    __table_args__ = (CheckConstraint("size_bytes >= 0", name="size_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claim.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[ExpenseClaim] = relationship(back_populates="files")


class PayoutBatch(Base):
    """Approved claims paid together: open → exported (a CSV for the finance system; locked) → paid."""

    __tablename__ = "payout_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    status: Mapped[BatchStatus] = mapped_column(str_enum(BatchStatus), default=BatchStatus.OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    exported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    exported_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    exported_by: Mapped[str] = mapped_column(String(120), default="")
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paid_by: Mapped[str] = mapped_column(String(120), default="")

    @property
    def reference(self) -> str:
        """The batch's reference in the payout file and the finance system."""
        return f"UB-{self.id}"


class PayoutBatchClaim(Base):
    """A claim's place in a batch: the primary key on the claim keeps it in at most one batch."""

    __tablename__ = "payout_batch_claim"

    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claim.id"), primary_key=True, autoincrement=False)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batch.id", ondelete="CASCADE"), index=True)

    claim: Mapped[ExpenseClaim] = relationship()


class Repayment(Base):
    """Money a grantee paid back; it goes back to the round's pot."""

    __tablename__ = "repayment"
    __table_args__ = (CheckConstraint("amount_ore > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant.id"), index=True)
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(120), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowUpTalk(Base):
    """An opfølgningssamtale: booked for a time and place, notes written afterwards."""

    __tablename__ = "follow_up_talk"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    minutes: Mapped[int] = mapped_column(Integer, default=60)
    place: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    booked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    booked_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    notes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    grant: Mapped[Grant] = relationship()
