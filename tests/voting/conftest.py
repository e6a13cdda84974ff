"""Fixtures of the voting tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from deltager import create_app, migrate
from deltager.db import get_db
from tests.conftest import app_config


@pytest.fixture
def file_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on a SQLite file of its own, not the suite's shared outer transaction, so that
    locks are real; a writer waits at most 0.5 s for the write lock.

    For tests of long work that must not hold SQLite's one write lock. (PostgreSQL takes no lock
    for reading, so the PostgreSQL pass skips them.)
    """
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock is what is tested; PostgreSQL takes no lock for reading")
    app = create_app(app_config(f"sqlite:///{tmp_path / 'locks.sqlite'}", tmp_path, SQLITE_BUSY_TIMEOUT_MS=500),
                     instance_path=tmp_path)
    migrate.upgrade(get_db(app).engine)
    yield app
    get_db(app).engine.dispose()
