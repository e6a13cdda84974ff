"""Fixtures of the voting tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from deltager import create_app, migrate
from deltager.db import WRITE_OPTION, get_db, make_engine
from tests.conftest import app_config, reset_database

#: The PostgreSQL database of ``file_app`` (beside the suite's own, on the same server).
OWN_PG_DATABASE = "test_voting_own"


@pytest.fixture
def file_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on a database of its own, not the suite's shared outer transaction, so that commits
    and locks are real: a SQLite file, or a PostgreSQL database emptied for each test. A writer
    waits at most 0.5 s for SQLite's write lock.

    For tests of long work that must not hold a lock that ballots need.
    """
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'own.sqlite'}"
    else:
        url = _own_postgres_database(database_url)
    app = create_app(app_config(url, tmp_path, SQLITE_BUSY_TIMEOUT_MS=500), instance_path=tmp_path)
    migrate.upgrade(get_db(app).engine)
    yield app
    get_db(app).engine.dispose()


def _own_postgres_database(suite_url: str) -> str:
    own = make_url(suite_url).set(database=OWN_PG_DATABASE)
    admin = make_engine(own.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": OWN_PG_DATABASE}) is None:
            conn.execute(text(f"CREATE DATABASE {OWN_PG_DATABASE}"))
    admin.dispose()
    url = own.render_as_string(hide_password=False)
    reset_database(url)
    return url


def another_writer_can_lock(app: Flask, meeting_id: int) -> bool:
    """Whether another worker could take, right now, the lock that casting a ballot needs.

    SQLite: the database's write lock (BEGIN IMMEDIATE, not waiting). PostgreSQL: the meeting's
    vote settings row, which a ballot share-locks (FOR UPDATE NOWAIT, to see any lock on it).
    """
    engine = make_engine(app.config["DATABASE_URL"], busy_timeout_ms=0)
    try:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:  # BEGIN IMMEDIATE on SQLite
            conn.execute(text("SELECT 1 FROM vote_settings WHERE meeting_id = :m"
                              + ("" if engine.dialect.name == "sqlite" else " FOR UPDATE NOWAIT")), {"m": meeting_id})
            conn.rollback()
        return True
    except OperationalError as error:
        if "database is locked" in str(error.orig) or type(error.orig).__name__ == "LockNotAvailable":
            return False
        raise
    finally:
        engine.dispose()
