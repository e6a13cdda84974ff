"""Shared fixtures: an app on a migrated database, each test inside a rolled-back transaction.

The suite runs on SQLite by default. With DELTAGER_TEST_DATABASE_URL set (``make test`` sets it
when PostgreSQL answers) it runs on that database instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from deltager import create_app, migrate
from deltager.accounts.models import User
from deltager.db import WRITE_OPTION, get_db, make_engine
from deltager.permissions import Role

pytest_plugins = ["tests.fixtures.smtp"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
TEST_PASSWORD = "correct horse battery"
_PASSWORD_HASH: str | None = None


def password_hash() -> str:
    """One scrypt hash for every test user (hashing is deliberately slow)."""
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        from deltager.accounts.services import hash_password

        _PASSWORD_HASH = hash_password(TEST_PASSWORD)
    return _PASSWORD_HASH


def reset_database(url: str) -> None:
    """Drop everything in a PostgreSQL test database so migrations start from nothing."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head, shared by the session (tests roll back their changes)."""
    url = os.environ.get("DELTAGER_TEST_DATABASE_URL")
    if url:
        reset_database(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def app_config(database_url: str, instance: Path, **extra: Any) -> dict[str, Any]:
    """The configuration tests run with."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "MAIL_OUTBOX_DIR": str(instance / "outbox"),
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
        # Tests upload several pictures in a row; the decode slot's rest has its own tests.
        "UPLOAD_DECODE_DUTY": 1.0,
        **extra,
    }


@pytest.fixture
def instance_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh instance folder per test."""
    path = tmp_path / "instance"
    path.mkdir()
    monkeypatch.setenv("DELTAGER_INSTANCE_PATH", str(path))
    return path


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_url: str, instance_path: Path, app_overrides: dict[str, Any]) -> Iterator[Flask]:
    """The app, with every session joined to one outer transaction that is rolled back."""
    app = create_app(app_config(database_url, instance_path, **app_overrides))
    db = get_db(app)
    connection = db.engine.connect()
    outer = connection.begin()
    db.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield app
    finally:
        outer.rollback()
        connection.close()
        db.engine.dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session for service tests, inside the test's transaction.

    Services never need Flask, so no app context is pushed: a context held open for the whole
    test would be shared by the test client's requests (and Flask-Login's cached user with it).
    """
    s = get_db(app).session()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


def make_user(session: Session, role: Role = Role.CASEWORKER, email: str | None = None, **kw: Any) -> User:
    """A staff user with the shared test password."""
    email = email or f"{role.value}-{os.urandom(3).hex()}@test.dk"
    user = User(email=email, name=kw.pop("name", email.split("@")[0]), role=role,
                password_hash=password_hash(), **kw)
    session.add(user)
    session.commit()
    return user


class Auth:
    """Sign a test client in as a staff member of a given role."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app, self.client = app, client

    def login(self, role: Role = Role.CASEWORKER, **kw: Any) -> User:
        """Create a user and put its session in the client's cookie (no slow password check)."""
        with self.app.app_context():
            s = get_db(self.app).session()
            user = make_user(s, role, **kw)
            s.close()
        with self.client.session_transaction() as flask_session:
            flask_session["_user_id"] = user.get_id()
            flask_session["_fresh"] = True
        return user


@pytest.fixture
def auth(app: Flask, client: FlaskClient) -> Auth:
    """Signs the client in: ``auth.login(Role.ADMIN)``."""
    return Auth(app, client)


def csrf_token(html: str) -> str:
    """The CSRF token in a rendered page (for tests that run with CSRF on)."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def pg_scratch_name(base: str) -> str:
    """The name of a PostgreSQL scratch database, with ``DELTAGER_TEST_PG_SUFFIX`` appended, so that
    several checkouts can run the suite on one server at once (each with its own databases)."""
    return base + os.environ.get("DELTAGER_TEST_PG_SUFFIX", "")


def scratch_postgres_url(base: str) -> str:
    """A PostgreSQL scratch database named ``base`` (plus the suffix), created if missing and emptied,
    at the local server; skips the test when no server answers (it then ran on SQLite only)."""
    psycopg = pytest.importorskip("psycopg")
    name = pg_scratch_name(base)
    try:
        conn = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3, autocommit=True)
    except Exception as error:  # any failure to connect: there is no server for this test
        pytest.skip(f"No PostgreSQL server answers at 127.0.0.1:5432 ({type(error).__name__}); ran SQLite only")
    with conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {name}")
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    reset_database(url)
    return url


#: The PostgreSQL database of ``file_app`` (beside the suite's own, on the same server).
OWN_PG_DATABASE = pg_scratch_name("test_own")


@pytest.fixture
def file_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on a database of its own, not the suite's shared outer transaction, so that commits
    and locks are real: a SQLite file, or a PostgreSQL database emptied for each test. A writer
    waits at most 0.5 s for SQLite's write lock (PostgreSQL's row locks keep the default wait).

    For tests of long work that must not hold a lock that ballots need.
    """
    if database_url.startswith("sqlite"):
        url, lock_timeout = f"sqlite:///{tmp_path / 'own.sqlite'}", {"LOCK_TIMEOUT_MS": 500}
    else:
        url, lock_timeout = _own_postgres_database(database_url), {}
    app = create_app(app_config(url, tmp_path, **lock_timeout), instance_path=tmp_path)
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


def another_writer_can_lock(app: Flask, table: str, column: str, value: object) -> bool:
    """Whether another worker could take, right now, the lock that writing this row needs.

    SQLite: the database's one write lock (BEGIN IMMEDIATE, not waiting). PostgreSQL: the row
    itself (FOR UPDATE NOWAIT, which sees any lock on it, a share lock included).
    """
    engine = make_engine(app.config["DATABASE_URL"], busy_timeout_ms=0)
    try:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:  # BEGIN IMMEDIATE on SQLite
            conn.execute(text(f"SELECT 1 FROM {table} WHERE {column} = :value"
                              + ("" if engine.dialect.name == "sqlite" else " FOR UPDATE NOWAIT")), {"value": value})
            conn.rollback()
        return True
    except OperationalError as error:
        if "database is locked" in str(error.orig) or type(error.orig).__name__ == "LockNotAvailable":
            return False
        raise
    finally:
        engine.dispose()
