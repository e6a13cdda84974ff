"""The Round and its statuses."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, CheckConstraint, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from deltager.db import Base, UTCDateTime, str_enum, utcnow


class RoundStatus(enum.StrEnum):
    """Where a round is; the order of the members is the order of the road."""

    DRAFT = "draft"
    OPEN = "open"  # applications are accepted
    SCREENING = "screening"  # staff screen applications
    VOTING = "voting"  # the voting meeting is prepared and held
    ALLOCATED = "allocated"  # the pot is allocated and the result frozen
    RUNNING = "running"  # projects are carried out, receipts paid
    CLOSED = "closed"

    @property
    def index(self) -> int:
        """Position on the road (draft = 0)."""
        return list(RoundStatus).index(self)


#: Before this status a round may step back (e.g. reopen applications); from it on, never.
POINT_OF_NO_RETURN = RoundStatus.ALLOCATED


class Round(Base):
    """A participatory-budget round (forløb) with one theme and one pot."""

    __tablename__ = "round"
    __table_args__ = (
        CheckConstraint("pot_ore > 0", name="pot_positive"),
        CheckConstraint("cap_ore > 0 AND cap_ore <= pot_ore", name="cap_within_pot"),
        CheckConstraint("applications_open_at < applications_close_at", name="application_window"),
        # Σ granted, net of returns, ≤ the pot: the grants' services keep granted_net_ore with the
        # round's row locked; the database refuses any write that would break it.
        CheckConstraint("granted_net_ore >= 0 AND granted_net_ore <= pot_ore", name="granted_within_pot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    theme: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    pot_ore: Mapped[int] = mapped_column(BigInteger)
    cap_ore: Mapped[int] = mapped_column(BigInteger)
    funding_source: Mapped[str] = mapped_column(String(120))
    partners: Mapped[str] = mapped_column(Text, default="")
    applications_open_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    applications_close_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    voting_on: Mapped[dt.date] = mapped_column(Date)
    project_deadline: Mapped[dt.date] = mapped_column(Date)
    report_deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[RoundStatus] = mapped_column(str_enum(RoundStatus), default=RoundStatus.DRAFT)
    # Σ of the round's grants as made, less what came back (released remainders and repayments):
    # granted − returned as ``deltager.grants.services.pot_totals`` sums it, kept by the grants'
    # services in the same transaction (migration 0014).
    granted_net_ore: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def is_public(self) -> bool:
        """Citizens see every round that has left the drafting table."""
        return self.status is not RoundStatus.DRAFT

    @property
    def partner_names(self) -> list[str]:
        """The partner organisations, one per line as typed (any line ending; blank lines dropped)."""
        return [line.strip() for line in self.partners.splitlines() if line.strip()]

    def accepts_applications(self, now: dt.datetime) -> bool:
        """True while the round is open and ``now`` is inside the application window."""
        return (
            self.status is RoundStatus.OPEN
            and self.applications_open_at <= now < self.applications_close_at
        )

    def audit_snapshot(self) -> dict[str, object]:
        """The fields the audit trail records before and after a change."""
        return {
            "title": self.title,
            "theme": self.theme,
            "description": self.description,
            "pot_ore": self.pot_ore,
            "cap_ore": self.cap_ore,
            "funding_source": self.funding_source,
            "partners": self.partners,
            "applications_open_at": self.applications_open_at,
            "applications_close_at": self.applications_close_at,
            "voting_on": self.voting_on,
            "project_deadline": self.project_deadline,
            "report_deadline": self.report_deadline,
            "status": self.status,
        }
