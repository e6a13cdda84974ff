"""The rules of rounds: creating, editing and moving them along the road."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager.audit.services import Actor, record
from deltager.db import get_by_id, utcnow
from deltager.errors import N_, NotAllowed, NotFound, ValidationFailed
from deltager.rounds.models import POINT_OF_NO_RETURN, Round, RoundStatus
from deltager.timeutil import add_years, start_of_local_day

DEFAULT_POT_ORE = 200_000_00
DEFAULT_CAP_ORE = 25_000_00
DEFAULT_FUNDING_SOURCE = "§ 18-midler"
REPORT_GRACE = dt.timedelta(days=30)

@dataclass(frozen=True)
class RoundInput:
    """What a caseworker fills in for a round; deadlines left empty get their defaults."""

    title: str
    theme: str
    description: str
    pot_ore: int
    cap_ore: int
    funding_source: str
    partners: str
    applications_open_at: dt.datetime
    applications_close_at: dt.datetime
    voting_on: dt.date
    project_deadline: dt.date | None = None
    report_deadline: dt.date | None = None

    def with_defaults(self) -> RoundInput:
        """Project deadline one year after the vote; report deadline 30 days after that."""
        project = self.project_deadline or add_years(self.voting_on, 1)
        report = self.report_deadline or project + REPORT_GRACE
        return RoundInput(**{**self.__dict__, "project_deadline": project, "report_deadline": report})


def _validate(data: RoundInput) -> None:
    """Refuse a round whose fields break a rule, naming the field to fix."""
    for name, label_free in (("title", data.title), ("theme", data.theme), ("funding_source", data.funding_source)):
        if not label_free.strip():
            raise ValidationFailed(N_("This field is required."), field=name)
    if data.pot_ore <= 0:
        raise ValidationFailed(N_("The pot must be more than 0 kr."), field="pot")
    if data.cap_ore <= 0:
        raise ValidationFailed(N_("The cap must be more than 0 kr."), field="cap")
    if data.cap_ore > data.pot_ore:
        raise ValidationFailed(N_("The cap per application cannot be larger than the pot."), field="cap")
    if data.applications_close_at <= data.applications_open_at:
        raise ValidationFailed(
            N_("Applications must close after they open."), field="applications_close_at"
        )
    if data.applications_close_at > start_of_local_day(data.voting_on):
        raise ValidationFailed(
            N_("The voting meeting must be after applications close."), field="voting_on"
        )
    assert data.project_deadline is not None and data.report_deadline is not None
    if data.project_deadline <= data.voting_on:
        raise ValidationFailed(
            N_("The project deadline must be after the voting meeting."), field="project_deadline"
        )
    if data.report_deadline < data.project_deadline:
        raise ValidationFailed(
            N_("The report deadline cannot be before the project deadline."), field="report_deadline"
        )


def _apply(round_: Round, data: RoundInput) -> None:
    for key, value in data.__dict__.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(round_, key, value)
    # A browser sends a textarea's lines with CRLF; keep one partner per line, "\n" only.
    round_.partners = "\n".join(round_.partner_names)


def create_round(session: Session, actor: Actor, data: RoundInput) -> Round:
    """Create a round in draft."""
    data = data.with_defaults()
    _validate(data)
    round_ = Round(status=RoundStatus.DRAFT)
    _apply(round_, data)
    session.add(round_)
    session.flush()
    record(session, actor, "round.create", "round", round_.id, after=round_.audit_snapshot())
    return round_


def update_round(session: Session, actor: Actor, round_id: int, data: RoundInput, now: dt.datetime | None = None) -> Round:
    """Edit a round; pot and cap are frozen once voting has begun. ``now``: the clock, unless given."""
    now = now or utcnow()
    round_ = get_round(session, round_id, for_update=True)
    data = data.with_defaults()
    _validate(data)
    if round_.status.index >= RoundStatus.VOTING.index and (
        data.pot_ore != round_.pot_ore or data.cap_ore != round_.cap_ore
    ):
        raise NotAllowed(N_("The pot and the cap cannot change once voting has begun."))
    before = round_.audit_snapshot()
    _apply(round_, data)
    round_.updated_at = now
    record(session, actor, "round.update", "round", round_.id, before=before, after=round_.audit_snapshot(), at=now)
    return round_


def allowed_transitions(round_: Round) -> list[RoundStatus]:
    """The statuses a round may move to from where it is: one step on, or one step back before allocation."""
    order = list(RoundStatus)
    here = round_.status.index
    targets = []
    if here > 0 and round_.status.index < POINT_OF_NO_RETURN.index:
        targets.append(order[here - 1])
    if here + 1 < len(order):
        targets.append(order[here + 1])
    return targets


def refuse_transition(round_: Round, target: RoundStatus) -> None:
    """Raise the DomainError that refuses moving ``round_`` to ``target`` by the shape of the road
    alone (one step on, or back before allocation), if any. Reads only. What other domains require
    of a step (a decision on every application, a frozen allocation) is checked by
    ``deltager.road.refuse_transition``, which calls this first."""
    if target not in allowed_transitions(round_):
        if target.index < round_.status.index and round_.status.index >= POINT_OF_NO_RETURN.index:
            raise NotAllowed(N_("A round cannot go back once the pot has been allocated."))
        raise NotAllowed(
            N_("A round cannot go from “%(source)s” to “%(target)s”."),
            source=round_.status,
            target=target,
        )


def transition_round(
    session: Session, actor: Actor, round_id: int, target: RoundStatus, now: dt.datetime | None = None,
) -> Round:
    """Move a round to another status along the road's shape. Views and the other domains go
    through ``deltager.road.transition_round``, which asks every domain first. ``now``: the clock,
    unless given."""
    now = now or utcnow()
    round_ = get_round(session, round_id, for_update=True)
    refuse_transition(round_, target)
    before = round_.status
    round_.status = target
    round_.updated_at = now
    record(
        session, actor, "round.status", "round", round_.id,
        before={"status": before}, after={"status": target}, at=now,
    )
    return round_


def get_round(session: Session, round_id: int, *, for_update: bool = False) -> Round:
    """A round by id, or NotFound; ``for_update`` locks its row (PostgreSQL) for the transaction."""
    return get_by_id(session, Round, round_id, N_("The round does not exist."), for_update=for_update)


def get_public_round(session: Session, round_id: int) -> Round:
    """A round citizens may see (not a draft), or NotFound."""
    round_ = get_round(session, round_id)
    if not round_.is_public:
        raise NotFound(N_("The round does not exist."))
    return round_


def list_rounds(session: Session) -> list[Round]:
    """Every round, newest voting date first (the staff overview)."""
    return list(session.scalars(select(Round).order_by(Round.voting_on.desc(), Round.id.desc())))


def list_public_rounds(session: Session) -> tuple[list[Round], list[Round]]:
    """Rounds for the front page: (current, past). Current are open up to running; past are closed."""
    rounds = session.scalars(
        select(Round).where(Round.status != RoundStatus.DRAFT).order_by(Round.voting_on.desc(), Round.id.desc())
    ).all()
    current = [r for r in rounds if r.status is not RoundStatus.CLOSED]
    past = [r for r in rounds if r.status is RoundStatus.CLOSED]
    return current, past
