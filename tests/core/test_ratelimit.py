"""Rate limits in the database: counted per scope and client, over the current and the previous window."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager import ratelimit
from deltager.ratelimit import RateCount

WINDOW = 600
START = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)  # on a bucket boundary (epoch seconds % 600 == 0)


def hits(session: Session, key: str, at: dt.datetime, scope: str = "test") -> int:
    return ratelimit.recent_hits(session, scope, key, at, window_seconds=WINDOW)


def test_hits_add_up_per_scope_and_client_in_one_row_per_window(session: Session) -> None:
    for _ in range(3):
        ratelimit.hit(session, "test", "10.0.0.1", START, window_seconds=WINDOW)
    ratelimit.hit(session, "other", "10.0.0.1", START, window_seconds=WINDOW)
    assert hits(session, "10.0.0.1", START) == 3
    assert hits(session, "10.0.0.1", START, scope="other") == 1
    assert hits(session, "10.0.0.2", START) == 0
    assert session.scalars(select(RateCount.count).where(RateCount.scope == "test")).all() == [3]
    assert ratelimit.is_limited(session, "test", "10.0.0.1", START, limit=3, window_seconds=WINDOW)
    assert not ratelimit.is_limited(session, "test", "10.0.0.1", START, limit=4, window_seconds=WINDOW)


def test_the_previous_window_still_counts_and_older_ones_are_forgotten(session: Session) -> None:
    ratelimit.hit(session, "test", "10.0.0.1", START, window_seconds=WINDOW)
    next_window = START + dt.timedelta(seconds=WINDOW)
    ratelimit.hit(session, "test", "10.0.0.1", next_window, window_seconds=WINDOW)
    assert hits(session, "10.0.0.1", next_window) == 2
    two_on = START + dt.timedelta(seconds=2 * WINDOW)
    assert hits(session, "10.0.0.1", two_on) == 1
    ratelimit.hit(session, "test", "10.0.0.1", two_on, window_seconds=WINDOW)
    buckets = session.scalars(select(RateCount.bucket).order_by(RateCount.bucket)).all()
    assert buckets == [ratelimit.bucket_of(next_window, WINDOW), ratelimit.bucket_of(two_on, WINDOW)]


def test_a_long_key_is_cut_to_what_the_column_holds(session: Session) -> None:
    key = "f" * 200
    ratelimit.hit(session, "test", key, START, window_seconds=WINDOW)
    assert hits(session, key, START) == 1
    assert session.scalar(select(RateCount.key)) == key[: ratelimit.KEY_LENGTH]
