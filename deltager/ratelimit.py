"""Rate limits shared by every worker and host: counts per client in fixed time buckets, in the database.

A limit is a *scope* (what is counted: ``card_code`` for invalid ballot-card codes,
``sign_in_link`` for sign-in links asked for, ``login_*`` for staff sign-in attempts,
``sign_up_*`` for meeting sign-ups), a *key* (who is counted: a client IP address, a hashed
e-mail address, a device cookie's nonce) and a window. Each hit adds one to the row (scope, key, bucket), where bucket = epoch seconds // window;
a client's count is the sum over the current and the previous bucket. So a limit of N lets
through at most N hits in any stretch of one window's length (no burst at a bucket's edge), and a
hit keeps counting for between one and two windows.
Rows older than the previous bucket are deleted when the same client is counted again.

Nothing is kept in process memory, so the limit holds however many workers serve the app. The
increment is one atomic upsert (``INSERT … ON CONFLICT DO UPDATE``, on SQLite and PostgreSQL), so
two workers counting the same client at once never fail on the primary key.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Integer, ScalarSelect, String, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from deltager.db import Base

KEY_LENGTH = 64


class RateCount(Base):
    """Hits of one client in one time bucket of one scope."""

    __tablename__ = "rate_count"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch seconds // window
    count: Mapped[int] = mapped_column(Integer, default=0)


def bucket_of(now: dt.datetime, window_seconds: int) -> int:
    """The bucket ``now`` falls in."""
    return int(now.timestamp()) // window_seconds


def recent_hits_query(scope: str) -> ScalarSelect[Any]:
    """A scalar subquery: the hits of ``:key`` in this scope since ``:since_bucket``.

    For callers that fold the count into a query of their own (the card scan asks for the card
    and the count in one round trip); bind ``key`` with :func:`clip_key` and ``since_bucket``
    with :func:`since_bucket`.
    """
    return (
        select(func.coalesce(func.sum(RateCount.count), 0))
        .where(RateCount.scope == scope, RateCount.key == bindparam("key"),
               RateCount.bucket >= bindparam("since_bucket"))
        .scalar_subquery()
    )


def clip_key(key: str) -> str:
    """The key as it is stored (an IPv6 address with a zone fits; anything longer is cut)."""
    return key[:KEY_LENGTH]


def since_bucket(now: dt.datetime, window_seconds: int) -> int:
    """The oldest bucket that still counts: the previous one."""
    return bucket_of(now, window_seconds) - 1


def recent_hits(session: Session, scope: str, key: str, now: dt.datetime, *, window_seconds: int) -> int:
    """How many hits this client has in the current and the previous window."""
    count = session.scalar(select(recent_hits_query(scope)),
                           {"key": clip_key(key), "since_bucket": since_bucket(now, window_seconds)})
    return int(count or 0)


def is_limited(session: Session, scope: str, key: str, now: dt.datetime, *, limit: int, window_seconds: int) -> bool:
    """Whether this client has used up its ``limit`` hits."""
    return recent_hits(session, scope, key, now, window_seconds=window_seconds) >= limit


def hit(session: Session, scope: str, key: str, now: dt.datetime, *, window_seconds: int) -> int:
    """Count one hit for this client, forget its buckets that no longer count, and return its hits
    in this and the previous window, this one included.

    The count comes back from the upsert itself (``RETURNING``), so it is atomic: of any number of
    simultaneous hits each gets a different count, and a caller that counts first and acts only
    when the count stayed within its limit lets exactly ``limit`` through (PostgreSQL's row lock,
    SQLite's write lock, held until the caller commits). Must run in a write transaction (the
    caller commits it with its own work, or alone).
    """
    key, bucket = clip_key(key), bucket_of(now, window_seconds)
    session.execute(delete(RateCount).where(RateCount.scope == scope, RateCount.key == key, RateCount.bucket < bucket - 1))
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(RateCount).values(scope=scope, key=key, bucket=bucket, count=1)
    current = session.execute(statement.on_conflict_do_update(
        index_elements=[RateCount.scope, RateCount.key, RateCount.bucket],
        set_={"count": RateCount.count + 1},
    ).returning(RateCount.count)).scalar_one()
    previous = session.scalar(select(RateCount.count).where(
        RateCount.scope == scope, RateCount.key == key, RateCount.bucket == bucket - 1))
    return int(current) + int(previous or 0)


def forgive(session: Session, scope: str, key: str, now: dt.datetime, *, window_seconds: int) -> None:
    """Take back one hit counted at ``now`` (a sign-in counted before its password was checked,
    which then proved right). Must run in a write transaction."""
    session.execute(
        update(RateCount)
        .where(RateCount.scope == scope, RateCount.key == clip_key(key),
               RateCount.bucket == bucket_of(now, window_seconds), RateCount.count > 0)
        .values(count=RateCount.count - 1)
    )
