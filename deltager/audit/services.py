"""Writing and reading the audit trail."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from deltager.audit.models import AuditEvent
from deltager.db import utcnow


@dataclass(frozen=True)
class Actor:
    """Who does something: a staff user, or a described party (applicant, system)."""

    user_id: int | None
    label: str

    @classmethod
    def staff(cls, user: Any) -> Actor:
        """A signed-in staff member."""
        return cls(user_id=user.id, label=user.email)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        """The system itself or a CLI command."""
        return cls(user_id=None, label=label)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller's transaction commits it with the change)."""
    if before is not None and after is not None:
        # Keep only what changed, so the trail reads as a list of differences.
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    event = AuditEvent(
        at=at or utcnow(),
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_jsonable(before),
        after=_jsonable(after),
    )
    session.add(event)
    return event


@dataclass(frozen=True)
class AuditFilter:
    """What the admin filters the trail by; every field optional."""

    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    actor: str | None = None  # part of the actor's e-mail or label
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _filtered(query: Select[Any], flt: AuditFilter) -> Select[Any]:
    if flt.object_type:
        query = query.where(AuditEvent.object_type == flt.object_type)
    if flt.object_id:
        query = query.where(AuditEvent.object_id == flt.object_id)
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.actor:
        query = query.where(AuditEvent.actor_label.contains(flt.actor, autoescape=True))
    if flt.since:
        query = query.where(AuditEvent.at >= flt.since)
    if flt.until:
        query = query.where(AuditEvent.at < flt.until)
    return query


def search(
    session: Session, flt: AuditFilter, *, page: int = 1, per_page: int = 50
) -> tuple[list[AuditEvent], int]:
    """One page of matching events, newest first, and the total count."""
    total = session.scalar(_filtered(select(func.count(AuditEvent.id)), flt)) or 0
    events = session.scalars(
        _filtered(select(AuditEvent), flt)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    return list(events), total


def known_actions(session: Session) -> list[str]:
    """Every action name in the trail, for the filter's choices."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def history(session: Session, object_type: str, object_id: object) -> list[AuditEvent]:
    """All events about one object, oldest first (shown on the object's own page)."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
