"""Migrations keep the data they touch, down and up again, with foreign keys on: 0007 (ballots keep
no cast order) every ballot, 0008 (a meeting's calendar revision) every meeting and sign-up."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from deltager import migrate
from deltager.db import make_engine
from deltager.voting import services
from deltager.voting.models import BallotChannel
from tests.voting.factories import TEST_ACTOR, issue, make_vote_meeting

BEFORE = "0006_rate_count"


@pytest.fixture
def scratch_engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the suite's kind (a SQLite file, or a PostgreSQL database of its own)."""
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'migrate.sqlite'}")
        yield engine
        engine.dispose()
        return
    url = make_url(database_url)
    name = f"deltager_migrate_{os.urandom(4).hex()}"
    admin = make_engine(url.render_as_string(hide_password=False)).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = migrate.alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def test_ballots_survive_the_migration_down_and_up(scratch_engine: Engine) -> None:
    migrate.upgrade(scratch_engine)
    with Session(scratch_engine) as session:
        setup = make_vote_meeting(session, open_vote=True)
        session.commit()
        meeting_id = setup.meeting.id
        a, b, c, d, *_ = setup.ids
        votes = [[a, b], [c], [a, c, d], [d], [b, c]]
        for card, choice in zip(issue(session, setup, len(votes)), votes):
            found = services.find_card(session, card.code)
            assert found is not None
            services.cast_ballot(session, found.id, choice, BallotChannel.PHONE)
        session.commit()
        cast = services.ballots_of(session, meeting_id)
    assert sorted(map(sorted, cast)) == sorted(map(sorted, votes))

    _downgrade(scratch_engine, BEFORE)  # the old shape: a running id and a cast time again
    with scratch_engine.connect() as conn:
        old = conn.execute(text(
            "SELECT b.id, b.cast_at, c.application_id FROM ballot b JOIN ballot_choice c ON c.ballot_id = b.id"
        )).all()
    assert len(old) == sum(map(len, votes)) and all(row.cast_at is not None for row in old)

    migrate.upgrade(scratch_engine)  # with foreign keys on, as in production: nothing may cascade away
    with Session(scratch_engine) as session:
        assert services.ballots_of(session, meeting_id) == cast
        assert services.reconciliation(session, meeting_id).used_phone == len(votes)


def test_meetings_and_sign_ups_survive_the_revision_column_down_and_up(scratch_engine: Engine) -> None:
    from deltager.meetings import services as meetings
    from tests.meetings.factories import make_meeting, sign_up

    migrate.upgrade(scratch_engine)
    with Session(scratch_engine) as session:
        meeting = make_meeting(session)
        sign_up(session, meeting, "a@example.dk")
        meetings.cancel_meeting(session, TEST_ACTOR, meeting.id, meeting.starts_at)
        session.commit()
        meeting_id = meeting.id
    _downgrade(scratch_engine, "0007_ballot_order_secrecy")
    with scratch_engine.connect() as conn:
        assert "revision" not in conn.execute(text("SELECT * FROM meeting")).keys()
        assert conn.execute(text("SELECT count(*) FROM registration")).scalar() == 1
    migrate.upgrade(scratch_engine)
    with scratch_engine.connect() as conn:
        row = conn.execute(text("SELECT revision FROM meeting WHERE id = :id"), {"id": meeting_id}).one()
        assert row.revision == 0  # files sent before carried no SEQUENCE: 0
        assert conn.execute(text("SELECT count(*) FROM registration")).scalar() == 1
