"""Database plumbing: the declarative base, the engine, and one session per request.

SQLite is the embedded default and gets its pragmas on every pooled connection:
WAL (readers never block the writer), ``synchronous=FULL`` (a committed vote survives a power
cut), ``foreign_keys=ON`` and a ``busy_timeout``. Python's sqlite3 driver would emit a *deferred*
``BEGIN``; a deferred transaction that reads and then writes can fail with SQLITE_BUSY when another
writer got in between, and ``SELECT … FOR UPDATE`` does not exist there. So we switch the driver's
transaction handling off and emit ``BEGIN IMMEDIATE`` ourselves for every write transaction:
the write lock is taken up front, and concurrent writers queue on ``busy_timeout`` instead.

Which transactions write? Those of unsafe HTTP methods (POST …) and of CLI commands. Services
that guard a rule (one ballot per card, Σ granted ≤ pot) also lock the rows they check with
``with_for_update()``, which is what protects them on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import select
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import DateTime, MetaData, create_engine, event, exc
from sqlalchemy import select as select_rows  # the name select is the standard library's module here
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from deltager.errors import NotFound

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Execution option that makes the transaction's BEGIN an IMMEDIATE one on SQLite.
WRITE_OPTION = "deltager_write"
#: Execution option of a read request's connection on PostgreSQL, which reads outside a transaction.
READ_ONLY_OPTION = "deltager_read_only"
_READS = ("SELECT", "WITH", "SHOW")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_EXTENSION = "deltager.db"
_View = TypeVar("_View", bound=Callable[..., Any])
M = TypeVar("M")


class Base(DeclarativeBase):
    """Declarative base of every model; its naming convention keeps migrations stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def get_by_id(session: Session, model: type[M], row_id: int, not_found: str, *, for_update: bool = False) -> M:
    """The ``model`` row with this ``id``, or NotFound(``not_found``); ``for_update`` locks its row
    (PostgreSQL) for the transaction."""
    query = select_rows(model).where(model.id == row_id)  # type: ignore[attr-defined]
    if for_update:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound(not_found)
    return row


def make_engine(url: str, *, busy_timeout_ms: int = 15_000, echo: bool = False) -> Engine:
    """Create an engine; SQLite connections get WAL, FULL sync, foreign keys and BEGIN IMMEDIATE."""
    if not url.startswith("sqlite"):
        return _server_engine(url, lock_timeout_ms=busy_timeout_ms, echo=echo)
    engine = create_engine(url, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see module doc
        cursor = dbapi_connection.cursor()
        if ":memory:" not in url and url not in {"sqlite://", "sqlite:///"}:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _server_engine(url: str, *, lock_timeout_ms: int, echo: bool) -> Engine:
    """PostgreSQL: a ``lock_timeout`` as long as SQLite's ``busy_timeout`` (a writer that waits
    for a row lock gives up with an error after it, as on SQLite, instead of holding its worker
    for ever), a liveness check at each checkout (a restarted server costs no failed request),
    and a guard that a read request's connection, which has no transaction, only reads (see
    ``get_session``).

    The check is not ``pool_pre_ping``, whose ``SELECT 1`` is a round trip on every request (a
    fifth of a vote's). An idle connection's socket has nothing to read; one the server closed
    (restart, idle timeout, terminated backend) reads as end-of-file or an error message, so a
    ``select`` with timeout 0 sees it at no cost, and the pool opens a new connection instead.
    """
    engine = create_engine(url, echo=echo, connect_args={"options": f"-c lock_timeout={int(lock_timeout_ms)}"})

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.closed or dbapi_connection.broken or _socket_has_news(dbapi_connection):
            raise exc.DisconnectionError("the server closed this pooled connection")

    @event.listens_for(engine, "before_cursor_execute")
    def _reads_only(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY_OPTION) and not statement.lstrip().upper().startswith(_READS):
            raise RuntimeError("a read request wrote without begin_write_now: " + statement[:60])

    return engine


def _socket_has_news(dbapi_connection: Any) -> bool:
    """Whether an idle connection's socket is readable (so the server closed it or said goodbye)."""
    try:
        readable, _, _ = select.select([dbapi_connection.pgconn.socket], [], [], 0)
    except (OSError, ValueError):  # no socket any more
        return True
    return bool(readable)


def begin_write(session: Session) -> None:
    """Start the session's transaction as a write transaction (BEGIN IMMEDIATE on SQLite).

    Must be called before the transaction's first statement; a no-op if one is already open.
    """
    if not session.in_transaction():
        session.connection(execution_options={WRITE_OPTION: True})


class Database:
    """The engine and session factory of one app, kept in ``app.extensions``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)

    def session(self) -> Session:
        """A new session; the caller owns it (CLI commands use ``with db.session() as s, s.begin()``)."""
        return self.sessionmaker()


def init_app(app: Flask) -> None:
    """Bind the database to an app: engine, per-request session, teardown."""
    engine = make_engine(
        app.config["DATABASE_URL"],
        busy_timeout_ms=app.config["LOCK_TIMEOUT_MS"],
        echo=app.config["SQL_ECHO"],
    )
    app.extensions[_EXTENSION] = Database(engine)
    app.teardown_appcontext(_close_session)


def after_fork(app: Any) -> None:
    """In a worker forked from a process that built the app: give the engine a pool of its own.

    Connections the parent opened stay with the parent (``close=False`` leaves them alone); the
    worker opens its own on first use. A no-op for an app without our database (bench apps).
    """
    database = getattr(app, "extensions", {}).get(_EXTENSION)
    if database is not None:
        database.engine.dispose(close=False)


def get_db(app: Flask | None = None) -> Database:
    """The Database of the given (or current) app."""
    from flask import current_app

    return (app or current_app).extensions[_EXTENSION]


def get_session() -> Session:
    """The session of the current request, opened on first use.

    Requests with unsafe methods (POST …) get a write transaction (BEGIN IMMEDIATE on SQLite).
    """
    if "db_session" not in g:
        session = get_db().session()
        g.db_session = session
        if _is_write_request():
            begin_write(session)
        elif _reads_outside_a_transaction(session):
            # On PostgreSQL (READ COMMITTED) every statement sees its own snapshot inside a
            # transaction too, so a GET (or a reads_first POST) loses nothing without one and
            # saves two round trips (BEGIN, and the ROLLBACK when the connection goes back to the
            # pool). One that then writes calls begin_write_now, which gives it a transaction.
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT", READ_ONLY_OPTION: True})
    return g.db_session


def _reads_outside_a_transaction(session: Session) -> bool:
    bind = session.get_bind()
    return (bind.dialect.name == "postgresql" and isinstance(bind, Engine)  # not a test's outer transaction
            and has_request_context() and (request.method in _SAFE_METHODS or _view_reads_first()))


def reads_first(view: _View) -> _View:
    """Mark a view whose POST does slow work before it writes, or writes nothing at all.

    Its requests start with a read transaction like a GET's: on SQLite a POST's BEGIN IMMEDIATE
    holds the database's one write lock until the request ends, and a view that decodes a photo
    for half a second, or computes an allocation for ten, would stop every other writer (ballots)
    for that long. A view that then writes calls ``begin_write_now`` once the slow work is done.
    The mark survives decorators that use ``functools.wraps``, which copies the function's
    attributes outward.
    """
    view.reads_first = True  # type: ignore[attr-defined]
    return view


def begin_write_now(session: Session) -> None:
    """From here on, the request writes: end its read transaction and begin a write transaction.

    For views marked ``reads_first``, which must not have changed anything before this call
    (a change would be rolled back, so one pending in the session is refused as a bug). What was
    loaded before is expired and loads again under the write lock, so no check is made on stale
    rows. A no-op when the session's transaction already writes.
    """
    if session.in_transaction() and session.connection().get_execution_options().get(WRITE_OPTION):
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("begin_write_now: changes made before it would be rolled back")
    session.rollback()
    begin_write(session)


def _is_write_request() -> bool:
    try:
        if request.method in _SAFE_METHODS:
            return False
    except RuntimeError:  # no request: an app context of a CLI command or a test
        return False
    return not _view_reads_first()


def _view_reads_first() -> bool:
    """Whether the current request's view is marked ``reads_first``."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "reads_first", False))


def _close_session(_exc: BaseException | None) -> None:
    """Teardown only closes (and so rolls back what was not committed); views commit."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def str_enum(enum_cls: type) -> Any:
    """A portable enum column type: the member *values* in a VARCHAR with a CHECK constraint."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 4,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
