"""The ceiling: a bare Flask endpoint doing one durable insert per request (bench only, not the product).

It writes the way the product writes — on SQLite WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE``
and a busy timeout; on PostgreSQL a plain committed INSERT — and nothing else: no session cookie,
no CSRF, no ORM, no templates. Served by gunicorn with the product's settings, its requests per
second are what this disk and these settings allow at most; the vote's rate is compared with it.
``GET /noop`` answers without touching the database: the cost of a request through gunicorn and
Flask. ``GET /bare-noop`` answers before Flask sees the request: the cost of a request through
gunicorn alone, the floor for any Python web app under these settings, which bounds any flow of
several requests.

``BENCH_CEILING_DB`` names the database: a SQLite file path, or a ``postgresql://`` URL.
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

from flask import Flask

TABLE_SQL = "CREATE TABLE IF NOT EXISTS ceiling (id INTEGER PRIMARY KEY, token TEXT NOT NULL, at REAL NOT NULL)"
PG_TABLE_SQL = "CREATE TABLE IF NOT EXISTS ceiling (id BIGSERIAL PRIMARY KEY, token TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)"
BUSY_TIMEOUT_MS = 15_000

app = Flask(__name__)
_connection: Any = None  # one per worker process, opened on first use (after gunicorn forks)


def target() -> str:
    """The database this app writes to."""
    return os.environ["BENCH_CEILING_DB"]


def connect(where: str) -> Any:
    """A connection with the product's pragmas (SQLite) or autocommit off (PostgreSQL)."""
    if where.startswith("postgresql://"):
        import psycopg

        return psycopg.connect(where)
    connection = sqlite3.connect(where, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                 check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return connection


def create_table(where: str) -> None:
    """Create the table the endpoint inserts into (run once before the server starts)."""
    connection = connect(where)
    if where.startswith("postgresql://"):
        with connection:
            connection.execute(PG_TABLE_SQL)
    else:
        connection.execute(TABLE_SQL)
    connection.close()


def insert_row(connection: Any, token: str, *, postgres: bool) -> None:
    """One durable insert in its own write transaction."""
    if postgres:
        with connection.transaction():
            connection.execute("INSERT INTO ceiling (token, at) VALUES (%s, %s)", (token, time.time()))
    else:
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute("INSERT INTO ceiling (token, at) VALUES (?, ?)", (token, time.time()))
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def count_rows(where: str) -> int:
    """How many rows the endpoint has inserted."""
    connection = connect(where)
    try:
        return int(connection.execute("SELECT count(*) FROM ceiling").fetchone()[0])
    finally:
        connection.close()


@app.get("/noop")
def noop() -> tuple[str, int]:
    """Nothing at all: what one request through gunicorn and Flask costs on this machine."""
    return "ok\n", 200


def _bare_noop(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = b"ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _route_bare_noop(flask_app: Any) -> Any:
    """Answer ``/bare-noop`` as a plain WSGI callable; everything else goes to Flask."""
    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/bare-noop":
            return _bare_noop(environ, start_response)
        return flask_app(environ, start_response)
    return wsgi_app


app.wsgi_app = _route_bare_noop(app.wsgi_app)  # type: ignore[method-assign]


@app.post("/insert/<token>")
def insert(token: str) -> tuple[str, int]:
    """Insert one row and commit it durably."""
    global _connection
    where = target()
    if _connection is None:
        _connection = connect(where)
    insert_row(_connection, token, postgres=where.startswith("postgresql://"))
    return "ok\n", 200
