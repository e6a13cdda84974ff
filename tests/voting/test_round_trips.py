"""Database round trips per step of the phone flow on PostgreSQL, counted with engine events.

At 64 phones on a shared 2-core machine, a vote's p99 is mostly queueing, and every round trip to
the server is a few hundred microseconds of two processes' CPU plus a wait. The counts are small
numbers the code can keep: scan 1, ballot page 1, confirm 1, cast 6 (they were 2, 3, 5 and 8).

Counted: every statement SQLAlchemy sends, every BEGIN/COMMIT/ROLLBACK (psycopg sends BEGIN as a
query of its own before a transaction's first statement, and the pool rolls back a returned
connection), and the pool's liveness ping. The counts are specific to PostgreSQL: SQLite has no
round trips (it runs in the process), so the test runs on the local PostgreSQL server only.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from deltager import create_app, migrate
from deltager.db import get_db
from tests.conftest import app_config, csrf_token, scratch_postgres_url
from tests.voting.factories import issue, make_vote_meeting

#: The round trips each step may take. Ping, BEGIN and the pool's reset ROLLBACK count as one each.
BUDGET = {"scan": 1, "ballot": 1, "confirm": 1, "cast": 6}


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator[Flask]:
    """The app on a PostgreSQL database of its own (no outer test transaction: real commits)."""
    url = scratch_postgres_url("test_round_trips")
    app = create_app(app_config(url, tmp_path), instance_path=tmp_path)
    engine = get_db(app).engine
    migrate.upgrade(engine)
    try:
        yield app
    finally:
        engine.dispose()


class TripCounter:
    """Counts what crosses the wire, by kind, between ``reset`` calls."""

    def __init__(self, app: Flask) -> None:
        self.kinds: Counter[str] = Counter()
        self.statements: list[str] = []
        engine = get_db(app).engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", lambda conn: self._end(conn, "commit"))
        event.listen(engine, "rollback", lambda conn: self._end(conn, "rollback"))
        event.listen(engine.pool, "reset", self._reset)
        dialect = engine.dialect
        original_ping = dialect.do_ping

        def ping(dbapi_connection: Any) -> bool:
            self.kinds.update(["ping"])
            return original_ping(dbapi_connection)

        dialect.do_ping = ping  # type: ignore[method-assign]

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.kinds.update(["statement"])
        self.statements.append(" ".join(statement.split())[:90])

    def _begin(self, conn: Any) -> None:
        # psycopg opens a transaction with a BEGIN of its own, except in autocommit.
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            self.kinds.update(["begin"])

    def _end(self, conn: Any, kind: str) -> None:
        # psycopg sends no COMMIT or ROLLBACK for a connection that is not in a transaction.
        if conn.connection.dbapi_connection.info.transaction_status != 0:
            self.kinds.update([kind])

    def _reset(self, dbapi_connection: Any, _record: Any, state: Any = None) -> None:
        # The pool rolls back a returned connection, a round trip when a transaction is open.
        if getattr(state, "asyncio_safe", True) and dbapi_connection.info.transaction_status != 0:
            self.kinds.update(["reset_rollback"])

    def take(self) -> tuple[int, str]:
        """The round trips since the last take, and what they were (for the failure message)."""
        total = sum(self.kinds.values())
        what = f"{dict(self.kinds)}: {self.statements}"
        self.kinds.clear()
        self.statements.clear()
        return total, what


def test_phone_flow_round_trips_on_postgresql(pg_app: Flask) -> None:
    engine = get_db(pg_app).engine
    with Session(engine) as session:
        setup = make_vote_meeting(session, open_vote=True, min_choices=1, max_choices=3)
        code = issue(session, setup, 1)[0].code
        ids = setup.ids
    client = pg_app.test_client()
    client.get("/healthz")  # the pool's first connection is opened outside the counted steps
    counter = TripCounter(pg_app)
    counted: dict[str, tuple[int, str]] = {}

    response = client.get(f"/v/{code}")
    assert response.status_code == 303
    counted["scan"] = counter.take()
    page = client.get("/ballot")
    assert page.status_code == 200
    counted["ballot"] = counter.take()
    response = client.post("/ballot/confirm", data={"choice": [str(ids[0]), str(ids[1])]})
    assert response.status_code == 200
    counted["confirm"] = counter.take()
    response = client.post("/ballot", data={"choice": [str(ids[0]), str(ids[1])],
                                            "csrf_token": csrf_token(response.get_data(as_text=True))})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    counted["cast"] = counter.take()

    for step, (trips, what) in counted.items():
        print(f"{step}: {trips} round trips {what}")
    assert {step: trips for step, (trips, _) in counted.items()} == BUDGET, counted


def test_a_pooled_connection_the_server_closed_is_replaced_without_a_failed_request(pg_app: Flask) -> None:
    """No pool_pre_ping any more: the checkout's socket check sees a terminated backend."""
    engine = get_db(pg_app).engine
    with engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.2)  # the server's goodbye reaches the pooled connection's socket
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
