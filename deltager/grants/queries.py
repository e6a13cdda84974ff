"""Reads the grants' pages need beside the services' own: a grant's repayments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager.grants.models import Repayment


def repayments_of(session: Session, grant_id: int) -> list[Repayment]:
    """A grant's repayments, oldest first."""
    return list(session.scalars(select(Repayment).where(Repayment.grant_id == grant_id)
                                .order_by(Repayment.received_on, Repayment.id)))
