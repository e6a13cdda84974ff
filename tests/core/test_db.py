"""SQLite done right: pragmas on every pooled connection, BEGIN IMMEDIATE for writes."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from deltager import create_app
from deltager.db import begin_write, begin_write_now, get_db, make_engine
from tests.conftest import app_config


def test_every_pooled_connection_gets_the_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite'}", busy_timeout_ms=4321)
    connections = [engine.connect() for _ in range(3)]  # three distinct pooled connections
    try:
        for conn in connections:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 4321
    finally:
        for conn in connections:
            conn.close()
        engine.dispose()


def _begins(engine: Any) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN"):
            seen.append(statement)

    return seen


def test_write_requests_begin_immediate_read_requests_do_not(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("BEGIN IMMEDIATE is SQLite's; PostgreSQL takes row locks instead (test_row_locks)")
    app = create_app(app_config(f"sqlite:///{tmp_path / 'w.sqlite'}", tmp_path), instance_path=tmp_path)
    from deltager import migrate

    migrate.upgrade(get_db(app).engine)
    begins = _begins(get_db(app).engine)
    client = app.test_client()
    client.get("/")
    assert begins == ["BEGIN"]
    begins.clear()
    client.post("/login", data={"email": "x@y.dk", "password": "wrong"})
    assert begins and begins[0] == "BEGIN IMMEDIATE"
    get_db(app).engine.dispose()


def test_begin_write_now_ends_the_read_transaction_and_begins_writing(tmp_path: Path) -> None:
    from sqlalchemy.orm import Session

    engine = make_engine(f"sqlite:///{tmp_path / 'n.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (1)"))
    begins = _begins(engine)
    with Session(engine) as session:
        assert session.execute(text("SELECT n FROM counter")).scalar_one() == 1  # a read transaction
        begin_write_now(session)
        begin_write_now(session)  # already writing: nothing more
        session.execute(text("UPDATE counter SET n = 2"))
        session.commit()
    assert begins == ["BEGIN", "BEGIN IMMEDIATE"]
    engine.dispose()


def test_begin_write_now_refuses_to_roll_back_changes(app: Flask) -> None:
    from deltager.accounts.models import User
    from deltager.permissions import Role

    with get_db(app).session() as session:
        session.add(User(email="ny@test.dk", name="Ny", role=Role.VIEWER, password_hash="x"))
        with pytest.raises(RuntimeError, match="rolled back"):
            begin_write_now(session)


def _increment(engine: Any, write_intent: bool, errors: list[Exception], barrier: threading.Barrier) -> None:
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        try:
            if write_intent:
                begin_write(session)
            barrier.wait()
            value = session.execute(text("SELECT n FROM counter")).scalar_one()
            time.sleep(0.05)  # both read before either writes
            session.execute(text("UPDATE counter SET n = :n"), {"n": value + 1})
            session.commit()
        except OperationalError as error:
            errors.append(error)


@pytest.mark.parametrize("write_intent", [True, False])
def test_begin_immediate_serialises_read_modify_write(tmp_path: Path, write_intent: bool) -> None:
    """With BEGIN IMMEDIATE both increments land; with a deferred BEGIN one fails as 'locked'."""
    engine = make_engine(f"sqlite:///{tmp_path / 'c.sqlite'}", busy_timeout_ms=5000)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (0)")
    errors: list[Exception] = []
    # Deferred: make both threads read before either writes. Immediate: the second thread
    # blocks at BEGIN until the first commits, so there is nothing to wait for.
    barrier = threading.Barrier(1 if write_intent else 2, timeout=5)
    threads = [threading.Thread(target=_increment, args=(engine, write_intent, errors, barrier)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        final = conn.exec_driver_sql("SELECT n FROM counter").scalar()
    engine.dispose()
    if write_intent:
        assert errors == [] and final == 2
    else:
        assert len(errors) == 1 and "locked" in str(errors[0]) and final == 1


def test_a_row_lock_wait_ends_on_postgresql(app: Flask, database_url: str) -> None:
    """PostgreSQL waits for a row lock no longer than LOCK_TIMEOUT_MS, as SQLite's busy_timeout."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's busy_timeout is test_every_pooled_connection_gets_the_pragmas")
    engine = make_engine(database_url, busy_timeout_ms=1234)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "1234ms"
    finally:
        engine.dispose()
    with get_db(app).engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "15s"


def test_row_locks_on_postgresql(app: Flask, database_url: str) -> None:
    """get_round(for_update=True) locks the row: a second locker must wait (here: NOWAIT fails)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers with BEGIN IMMEDIATE instead")
    from sqlalchemy.orm import Session

    from deltager.rounds.services import get_round
    from tests.rounds.factories import make_round

    engine = make_engine(database_url)
    with Session(engine) as setup:
        round_id = make_round(setup).id
    try:
        with Session(engine) as first, Session(engine) as second:
            get_round(first, round_id, for_update=True)
            with pytest.raises(OperationalError):
                second.execute(text("SELECT id FROM round WHERE id = :id FOR UPDATE NOWAIT"), {"id": round_id})
            first.rollback()
            second.rollback()
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event WHERE object_type = 'round' AND object_id = :id"), {"id": str(round_id)})
            conn.execute(text("DELETE FROM round WHERE id = :id"), {"id": round_id})
        engine.dispose()


def test_a_get_reads_outside_a_transaction_on_postgresql(file_app: Flask) -> None:
    """On PostgreSQL a GET sends no BEGIN and no ROLLBACK (two round trips of every page), and a
    GET that writes without begin_write_now is refused instead of committing statement by statement;
    one that calls it writes in a transaction of its own (a wrong ballot-card code is counted)."""
    engine = get_db(file_app).engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's reads run in a deferred BEGIN (test_write_requests_begin_immediate_read_requests_do_not)")
    autocommit: list[bool] = []

    @file_app.get("/test-writes-in-a-get")
    def _writes() -> str:
        from deltager.db import get_session

        get_session().execute(text("DELETE FROM rate_count"))
        return "deleted"

    @event.listens_for(engine, "before_cursor_execute")
    def _record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        autocommit.append(conn.connection.dbapi_connection.autocommit)

    client = file_app.test_client()
    assert client.get("/").status_code == 200
    assert autocommit and all(autocommit)
    autocommit.clear()
    assert client.get("/v/" + "A" * 22).status_code == 404  # counted as a wrong code: writes
    assert autocommit[-1] is False
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM rate_count")) == 1

    with pytest.raises(RuntimeError, match="a read request wrote without begin_write_now"):
        file_app.test_client().get("/test-writes-in-a-get")
