"""Applicants (citizens, signed in by e-mailed link), their applications, budget lines and photos."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deltager.db import Base, UTCDateTime, str_enum, utcnow
from deltager.rounds.models import Round


class ApplicantType(enum.StrEnum):
    """Who applies: a private person (paid against receipts only) or an association (CVR)."""

    PERSON = "person"
    ASSOCIATION = "association"


class ApplicationStatus(enum.StrEnum):
    """draft → submitted → (needs_info ↔ submitted) → on_ballot | rejected | withdrawn."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    NEEDS_INFO = "needs_info"
    ON_BALLOT = "on_ballot"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ChildCertificate(enum.StrEnum):
    """Børneattest: whether one is needed and where it is."""

    NOT_ASSESSED = "not_assessed"
    NOT_NEEDED = "not_needed"
    REQUESTED = "requested"  # needed, requested from the applicant
    RECEIVED = "received"


class Applicant(Base):
    """A citizen known by e-mail address, or (registered by staff) by none: then staff phone or write to
    them, and they sign in with their application's reference and personal code (deltager.citizens.codes).
    Never a password."""

    __tablename__ = "applicant"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a person staff registered without e-mail (several such may exist; NULLs are distinct).
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    # The language the applicant last used the site in (at sign-in and when sending an application):
    # e-mails that staff trigger, such as a decision, are written in it.
    language: Mapped[str] = mapped_column(String(5), default="da", server_default="da")
    # Bumped to end every session of the applicant (sign out everywhere).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SignInToken(Base):
    """A one-time sign-in link: single use, short-lived; only its SHA-256 is stored."""

    __tablename__ = "sign_in_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicant.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    applicant: Mapped[Applicant] = relationship()


class Application(Base):
    """A short application for a small project in a round."""

    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint("requested_ore >= 0", name="requested_not_negative"),
        UniqueConstraint("round_id", "stand_number", name="uq_application_round_stand"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicant.id"), index=True)
    status: Mapped[ApplicationStatus] = mapped_column(
        str_enum(ApplicationStatus), default=ApplicationStatus.DRAFT, index=True
    )

    title: Mapped[str] = mapped_column(String(80), default="")
    summary: Mapped[str] = mapped_column(String(300), default="")
    what: Mapped[str] = mapped_column(Text, default="")
    for_whom: Mapped[str] = mapped_column(Text, default="")
    where: Mapped[str] = mapped_column(Text, default="")
    when: Mapped[str] = mapped_column(Text, default="")
    requested_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    involves_children: Mapped[bool | None] = mapped_column(Boolean)

    applicant_type: Mapped[ApplicantType] = mapped_column(
        str_enum(ApplicantType), default=ApplicantType.PERSON
    )
    association_name: Mapped[str] = mapped_column(String(200), default="")
    cvr: Mapped[str] = mapped_column(String(8), default="")
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_address: Mapped[str] = mapped_column(String(200), default="")
    consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The personal code printed on the receipt for a citizen without e-mail (deltager.citizens.codes):
    # only a slow salted hash is kept; issuing a new one replaces it, so the old code stops working.
    access_code_hash: Mapped[str | None] = mapped_column(String(255))
    # A message the applicant should have had by e-mail but has no address for ("decision:on_ballot" …):
    # staff must phone or write; cleared when they mark it done.
    contact_pending: Mapped[str | None] = mapped_column(String(40))

    # Staff who filled it in for the citizen (at a help meeting or on the phone), if any.
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    # Screening (internal): the checklist, notes and the decision's messages to the applicant.
    fits_theme: Mapped[bool | None] = mapped_column(Boolean)
    budget_plausible: Mapped[bool | None] = mapped_column(Boolean)
    eligible_applicant: Mapped[bool | None] = mapped_column(Boolean)
    child_certificate: Mapped[ChildCertificate] = mapped_column(
        str_enum(ChildCertificate), default=ChildCertificate.NOT_ASSESSED
    )
    child_certificate_received_on: Mapped[dt.date | None] = mapped_column(Date)
    screening_notes: Mapped[str] = mapped_column(Text, default="")
    info_request: Mapped[str] = mapped_column(Text, default="")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")

    # The stand at the voting meeting (assigned when the ballot is prepared).
    stand_number: Mapped[int | None] = mapped_column(Integer)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    round: Mapped[Round] = relationship()
    applicant: Mapped[Applicant] = relationship()
    budget_lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="application", order_by="BudgetLine.position", cascade="all, delete-orphan"
    )
    photo: Mapped[Photo | None] = relationship(
        back_populates="application", cascade="all, delete-orphan", uselist=False
    )


class BudgetLine(Base):
    """One line of a simple budget; the lines add up to the requested amount."""

    __tablename__ = "budget_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200))
    amount_ore: Mapped[int] = mapped_column(BigInteger)

    application: Mapped[Application] = relationship(back_populates="budget_lines")


class Photo(Base):
    """A project photo, re-encoded by us (JPEG), with a small thumbnail for the ballot."""

    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), unique=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="photo")
