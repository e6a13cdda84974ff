"""Voting tests use a session WITHOUT a pushed app context.

With an app context pushed for the whole test (as the shared ``session`` fixture does), Flask
reuses it for every test-client request, so ``g`` (the request's DB session, Flask-Login's
cached user) would leak from one request into the next and hide bugs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from deltager.db import get_db


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session inside the test's rolled-back transaction, with no app context pushed."""
    s = get_db(app).session()
    try:
        yield s
    finally:
        s.close()
