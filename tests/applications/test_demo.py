"""The demo applications: every status in the open round, a decided ballot of at least eight in the second."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deltager.applications.demo import load_applications_demo
from deltager.applications.models import Application, ApplicationStatus, ChildCertificate
from deltager.rounds.models import RoundStatus
from deltager.permissions import Role
from tests.conftest import make_user
from tests.rounds.factories import make_round


def test_demo_covers_every_status_and_fills_a_ballot(session: Session) -> None:
    helper = make_user(session, Role.MEETING_STAFF, email="moedevaert@demo.deltager.dk")
    open_round = make_round(session, RoundStatus.OPEN, title="Del dit fællesskab")
    screening = make_round(session, RoundStatus.SCREENING, title="Godt naboskab", cap_ore=20_000_00)
    load_applications_demo(session, dt.date.today())
    session.flush()
    statuses = set(session.scalars(select(Application.status).where(Application.round_id == open_round.id)))
    assert statuses == set(ApplicationStatus)
    in_open = session.scalars(select(Application).where(Application.round_id == open_round.id)).all()
    assert [a.title for a in in_open if a.created_by_user_id == helper.id] == ["Sangaften på plejehjemmet"]
    assert [a.title for a in in_open if a.applicant.email is None] == ["Sangaften på plejehjemmet"]
    assert any(a.child_certificate is ChildCertificate.RECEIVED and a.child_certificate_received_on for a in in_open)
    ballot = session.scalars(select(Application).where(
        Application.round_id == screening.id, Application.status == ApplicationStatus.ON_BALLOT)).all()
    assert len(ballot) >= 8
    assert sorted(a.stand_number for a in ballot) == list(range(1, len(ballot) + 1))
    assert len({a.requested_ore for a in ballot}) == len(ballot)
    assert all(a.photo is not None and a.photo.thumbnail for a in ballot)
    # Every application of the second round is decided before its vote opens (the ballot is then fixed).
    rejected = session.scalars(select(Application).where(
        Application.round_id == screening.id, Application.status == ApplicationStatus.REJECTED)).all()
    assert len(rejected) == 2 and all(a.rejection_reason for a in rejected)
    assert session.scalar(select(func.count()).select_from(Application).where(
        Application.round_id == screening.id, Application.status.not_in([ApplicationStatus.ON_BALLOT,
                                                                         ApplicationStatus.REJECTED]))) == 0
