"""The voting meeting: its ballot settings, ballot cards, ballots and the frozen allocation.

Ballot secrecy is a property of the schema: a ``Ballot`` knows its card and its channel, a
``BallotCard`` knows its meeting and its printed serial, and nothing here names a person, an
IP address or a device. Nor does anything keep the order in which ballots were cast: no cast
time, no running number (a ballot is keyed by its card, and its choices by the card too, in a
table without SQLite's hidden rowid). Otherwise someone with access to the database who saw a
voter tap "vote", or saw the turnout on the big screen go from 41 to 42, could read that ballot.
The storage forgets the order as well once the vote closes: closing rewrites these tables in a
random order (deltager.voting.secrecy). One ballot per card is kept by the database (``Ballot.card_id`` is the primary key, and the card
moves issued → used with a conditional UPDATE in the same transaction).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deltager.db import Base, UTCDateTime, str_enum, utcnow
from deltager.meetings.models import Meeting


class VoteState(enum.StrEnum):
    """Where the vote of a meeting is: prepared, open for ballots, closed (result frozen)."""

    PREPARING = "preparing"
    OPEN = "open"
    CLOSED = "closed"


class AllocationRule(enum.StrEnum):
    """How the pot is allocated by the votes (see deltager.allocation)."""

    GREEDY = "greedy"  # most votes first, while the money lasts
    MES = "mes"  # Method of Equal Shares


class TieBreak(enum.StrEnum):
    """How projects with equal votes are ordered (see deltager.allocation)."""

    COST = "cost"  # fewest kroner first
    LOTTERY = "lottery"  # a seeded draw; the seed is drawn and recorded when the vote closes
    ID = "id"  # lowest application number first


class CardStatus(enum.StrEnum):
    """A ballot card is issued, then used (one ballot) or voided (lost)."""

    ISSUED = "issued"
    USED = "used"
    VOIDED = "voided"


class BallotChannel(enum.StrEnum):
    """How a ballot was cast."""

    PHONE = "phone"
    PAPER = "paper"  # entered by meeting staff from a paper ballot


class VoteSettings(Base):
    """The ballot rules and the state of the vote of one voting meeting."""

    __tablename__ = "vote_settings"
    __table_args__ = (
        CheckConstraint("min_choices >= 1", name="min_choices_positive"),
        CheckConstraint("max_choices >= min_choices", name="max_not_below_min"),
        CheckConstraint("door_count IS NULL OR door_count >= 0", name="door_count_not_negative"),
    )

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), primary_key=True)
    min_choices: Mapped[int] = mapped_column(Integer, default=3)
    max_choices: Mapped[int] = mapped_column(Integer, default=5)
    rule: Mapped[AllocationRule] = mapped_column(str_enum(AllocationRule), default=AllocationRule.GREEDY)
    tie_break: Mapped[TieBreak] = mapped_column(str_enum(TieBreak), default=TieBreak.COST)
    state: Mapped[VoteState] = mapped_column(str_enum(VoteState), default=VoteState.PREPARING)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Head count at the door, entered by staff, to reconcile against the ballots.
    door_count: Mapped[int | None] = mapped_column(Integer)
    # Cards issued so far: the next card's serial is this + 1 (kept here so serials never repeat).
    cards_issued: Mapped[int] = mapped_column(Integer, default=0)

    meeting: Mapped[Meeting] = relationship()

    def audit_snapshot(self) -> dict[str, object]:
        """The fields the audit trail records before and after a change."""
        return {
            "min_choices": self.min_choices,
            "max_choices": self.max_choices,
            "rule": self.rule,
            "tie_break": self.tie_break,
            "state": self.state,
            "door_count": self.door_count,
        }


class BallotCard(Base):
    """A printed card with a QR code; only the SHA-256 of its code is stored. Never linked to a person."""

    __tablename__ = "ballot_card"
    __table_args__ = (
        UniqueConstraint("meeting_id", "serial", name="uq_ballot_card_meeting_serial"),
        Index("ix_ballot_card_meeting_status", "meeting_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    serial: Mapped[str] = mapped_column(String(12))
    batch: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[CardStatus] = mapped_column(str_enum(CardStatus), default=CardStatus.ISSUED)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Ballot(Base):
    """One cast ballot: which card (the primary key: one ballot per card), by which channel.

    Immutable once cast; no time and no running number (see the module docstring).
    """

    __tablename__ = "ballot"

    card_id: Mapped[int] = mapped_column(ForeignKey("ballot_card.id"), primary_key=True, autoincrement=False)
    channel: Mapped[BallotChannel] = mapped_column(str_enum(BallotChannel))


class BallotChoice(Base):
    """A project ticked on a ballot; the primary key forbids ticking one project twice.

    Stored in key order on SQLite (WITHOUT ROWID): a hidden rowid would number the choices in
    the order the ballots were cast.
    """

    __tablename__ = "ballot_choice"
    __table_args__ = {"sqlite_with_rowid": False}

    card_id: Mapped[int] = mapped_column(ForeignKey("ballot.card_id", ondelete="CASCADE"), primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), primary_key=True, index=True)


class Allocation(Base):
    """The allocation computed and frozen when the vote of a meeting closed."""

    __tablename__ = "allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), unique=True)
    rule: Mapped[AllocationRule] = mapped_column(str_enum(AllocationRule))
    tie_break: Mapped[TieBreak] = mapped_column(str_enum(TieBreak))
    seed: Mapped[str | None] = mapped_column(String(64))
    inputs_hash: Mapped[str] = mapped_column(String(64))
    pot_ore: Mapped[int] = mapped_column(BigInteger)
    granted_total_ore: Mapped[int] = mapped_column(BigInteger)
    remainder_ore: Mapped[int] = mapped_column(BigInteger)
    num_ballots: Mapped[int] = mapped_column(Integer)
    # The step-by-step protocol as text lines, frozen with the result (titles as they were).
    trace_da: Mapped[list[str]] = mapped_column(JSON)
    trace_en: Mapped[list[str]] = mapped_column(JSON)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)

    lines: Mapped[list[AllocationLine]] = relationship(
        back_populates="allocation", order_by="AllocationLine.rank", cascade="all, delete-orphan"
    )

    def trace(self, language: str) -> list[str]:
        """The step-by-step protocol in ``language`` (English for "en", else Danish)."""
        return self.trace_en if language == "en" else self.trace_da


class AllocationLine(Base):
    """One project's line in an allocation: votes, rank in the vote order, amount granted."""

    __tablename__ = "allocation_line"
    __table_args__ = (
        UniqueConstraint("allocation_id", "application_id", name="uq_allocation_line_project"),
        CheckConstraint("granted_ore >= 0", name="granted_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocation.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    votes: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    cost_ore: Mapped[int] = mapped_column(BigInteger)
    granted_ore: Mapped[int] = mapped_column(BigInteger)
    selected: Mapped[bool] = mapped_column(Boolean)
    # Why it was or was not funded, one sentence frozen with the trace (None: frozen before there were any).
    reason_da: Mapped[str | None] = mapped_column(Text)
    reason_en: Mapped[str | None] = mapped_column(Text)

    allocation: Mapped[Allocation] = relationship(back_populates="lines")
