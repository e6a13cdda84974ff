"""The sign-in limit under simultaneous attempts: 20 wrong passwords at once get at most 5 checks.

Each thread is a worker of its own (its own connection and transaction) on a real database, a
SQLite file and PostgreSQL when a server answers. The count is taken before the password is
checked, by one atomic upsert, so no two attempts can both read "4 so far" and both be checked.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from deltager import migrate
from deltager.accounts import services
from deltager.db import begin_write, make_engine
from deltager.errors import Throttled
from tests.conftest import make_user, scratch_postgres_url

ATTEMPTS = 20
NOW = dt.datetime(2026, 12, 4, 18, 5, tzinfo=dt.UTC)  # every attempt of a burst in one window
LIMITS = services.LoginLimits(window_seconds=15 * 60, max_per_account=5, max_per_ip=1000, max_per_device=5)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, int]]:
    """A migrated database with one staff user (its id), on each backend."""
    url = f"sqlite:///{tmp_path / 'login.sqlite'}" if request.param == "sqlite" else scratch_postgres_url("test_login_concurrency")
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        user_id = make_user(session, email="target@kommune.dk").id  # it commits
    yield engine, user_id
    engine.dispose()


def _burst(engine: Engine, monkeypatch: pytest.MonkeyPatch, device: services.Device | None) -> tuple[int, int]:
    """ATTEMPTS simultaneous wrong passwords; (passwords checked, attempts refused as throttled)."""
    checks: list[int] = []
    throttled: list[int] = []
    lock = threading.Lock()
    real_check = services.check_password_hash

    def counting_check(pwhash: str, password: str) -> bool:
        with lock:
            checks.append(1)
        return real_check(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", counting_check)
    barrier = threading.Barrier(ATTEMPTS)
    errors: list[BaseException] = []

    def attempt(n: int) -> None:
        try:
            with Session(engine) as session:
                barrier.wait()
                begin_write(session)  # a login POST's transaction
                try:
                    counted = services.count_attempt(
                        session, email="target@kommune.dk", ip=f"10.0.0.{n}", device=device,
                        now=NOW, limits=LIMITS,
                    )
                except Throttled:
                    session.rollback()
                    with lock:
                        throttled.append(1)
                    return
                session.commit()
                assert services.sign_in(session, counted, f"wrong {n}") is None
                session.commit()
        except BaseException as error:  # noqa: BLE001 (reported by the main thread)
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return len(checks), len(throttled)


def test_simultaneous_wrong_passwords_get_at_most_the_limit_of_checks(
    database: tuple[Engine, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _user_id = database
    checks, throttled = _burst(engine, monkeypatch, device=None)
    assert checks == LIMITS.max_per_account and throttled == ATTEMPTS - checks
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rate_count WHERE scope = 'login_account'")).scalar() == 1


def test_a_device_cookie_s_allowance_holds_under_simultaneous_attempts(
    database: tuple[Engine, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, user_id = database
    device = services.Device(user_id=user_id, nonce=services.new_device_nonce())
    checks, throttled = _burst(engine, monkeypatch, device=device)
    assert checks == LIMITS.max_per_device and throttled == ATTEMPTS - checks
