"""Meetings of a round and the citizens who sign up for them."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deltager.db import Base, UTCDateTime, str_enum, utcnow
from deltager.rounds.models import Round


class MeetingKind(enum.StrEnum):
    """What a meeting is for."""

    INFO = "info"  # information meeting: how to apply, where to get help, accounting rules
    HELP = "help"  # "Få hjælp til din ansøgning"
    VOTE = "vote"  # afstemningsmøde


class Meeting(Base):
    """A meeting at a time and place; sign-up optional, capacity optional."""

    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("walk_in_count >= 0", name="walk_ins_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    kind: Mapped[MeetingKind] = mapped_column(str_enum(MeetingKind))
    title: Mapped[str] = mapped_column(String(120))
    place: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int | None] = mapped_column(Integer)
    # People who came without signing up, counted by staff at the door.
    walk_in_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Counts the changes to when and where (and a cancellation): the calendar file's SEQUENCE,
    #: so calendar programs replace the event they hold instead of adding a second one.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    round: Mapped[Round] = relationship()
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="meeting", order_by="Registration.id"
    )


class Registration(Base):
    """A citizen's sign-up for a meeting; cancelled through the secret link in the e-mail."""

    __tablename__ = "registration"
    # One active sign-up per address and meeting, kept by the database too (the service says so
    # kindly first). Addresses are stored normalised (trimmed, lower-case).
    __table_args__ = (
        Index("uq_registration_meeting_email_active", "meeting_id", "email", unique=True,
              sqlite_where=text("cancelled_at IS NULL"), postgresql_where=text("cancelled_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    # Set when the sign-up was made by (or matched to) a signed-in applicant.
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("applicant.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # None for a sign-up staff registered for a person without e-mail (reached by phone or letter).
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # A change the citizen should have had by e-mail but has no address for: staff must phone or write.
    contact_pending: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")  # e.g. "needs an interpreter"
    # The language the citizen signed up in; a cancellation notice from staff is written in it.
    language: Mapped[str] = mapped_column(String(5), default="da", server_default="da")
    # SHA-256 of the cancel token that was e-mailed; the token itself is never stored.
    cancel_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship(back_populates="registrations")
