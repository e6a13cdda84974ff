"""Fixtures for meeting tests.

View tests arrange data with ``data()`` instead of the ``session`` fixture: that fixture keeps an
app context open for the whole test, and requests made meanwhile would share its ``g`` (the
request session and Flask-Login's cached user) instead of getting their own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from deltager.db import get_db


@pytest.fixture
def data(app: Flask) -> Callable[[], Any]:
    """``with data() as s:`` a session in its own app context; commits at the end of the block."""

    @contextlib.contextmanager
    def open_session() -> Iterator[Session]:
        with app.app_context():
            session = get_db(app).session()
            try:
                yield session
                session.commit()
            finally:
                session.close()

    return open_session
