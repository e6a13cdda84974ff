"""Forgetting the order ballots were cast in, once the vote has closed.

The ballot tables keep no cast time and no running number (see deltager.voting.models), but the
storage itself remembers the order while a vote is open: on PostgreSQL every row carries the id
of the transaction that wrote it (``xmin``) and a place in the table's file (``ctid``), both in
cast order, for any role that may SELECT; on SQLite the write-ahead log holds one frame per
commit, in cast order, and the pages of the tables split in the order rows arrived. Anyone who
saw a voter vote (or saw the turnout on the big screen go from 41 to 42) could read that ballot.

So closing the vote rewrites the ballot tables (:func:`forget_cast_order`, in the closing
transaction): the rows of ``ballot_card``, ``ballot`` and ``ballot_choice`` are read, shuffled
with the operating system's randomness, the three tables dropped and created again from the
models (same columns, keys, constraints and indexes), and the rows written back in that random
order. On PostgreSQL they then share one ``xmin`` (the closing transaction's) and their ``ctid``
order is random; the old tables' files are deleted at commit. On SQLite the old pages are free
pages until :func:`compact` runs ``VACUUM`` (which cannot run inside a transaction, so it runs
right after the closing commit) and truncates the write-ahead log, so neither file keeps a page
from before. ``ballot_card`` is rewritten too: whether a card is used, and when its row last
changed, follow the cast order as well. Every meeting's ballots are rewritten, not only the one
that closed; the rows are the same, only where they lie changes.

What this does not do is hide anything while a vote is open: see the README's "Ballot secrecy".
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from deltager.voting.models import Ballot, BallotCard, BallotChoice

log = logging.getLogger(__name__)

#: Parents first: created in this order, dropped in the reverse.
TABLES: tuple[Table, ...] = (BallotCard.__table__, Ballot.__table__, BallotChoice.__table__)  # type: ignore[assignment]


def forget_cast_order(session: Session) -> None:
    """Rewrite the ballot tables in a random order, inside the session's (closing) transaction."""
    session.flush()  # the closing transaction's own changes first (the rows come back unchanged)
    db = session.connection()
    postgres = db.dialect.name == "postgresql"
    if postgres:
        # All three at once, in the order a ballot's transaction locks them (card, ballot, choices):
        # a ballot of another meeting being cast right now finishes first, and none deadlocks.
        db.execute(text("LOCK TABLE ballot_card, ballot, ballot_choice IN ACCESS EXCLUSIVE MODE"))
        # The table's id sequence goes with it: the new one goes on from where the old one was.
        next_id = db.scalar(select(func.nextval(func.pg_get_serial_sequence("ballot_card", "id"))))
    shuffle = secrets.SystemRandom().shuffle
    rows: dict[Table, list[dict[str, Any]]] = {}
    for table in TABLES:
        rows[table] = [dict(row._mapping) for row in db.execute(select(table))]
        shuffle(rows[table])
    for table in reversed(TABLES):
        table.drop(db)
    for table in TABLES:
        table.create(db)
        if rows[table]:
            db.execute(table.insert(), rows[table])
    if postgres:
        db.execute(select(func.setval(func.pg_get_serial_sequence("ballot_card", "id"), next_id, False)))


def compact(session: Session) -> bool:
    """After the closing commit, on SQLite: VACUUM and truncate the write-ahead log, so that no page
    written before the rewrite is left in either file. A no-op elsewhere. Returns whether it was done.

    Runs on a connection of its own outside any transaction (VACUUM refuses to run in one). Other
    connections may be open: VACUUM waits for the write lock like any writer, and the checkpoint
    waits (busy_timeout) for readers to leave the log; if one does not, the log is not truncated
    this time, which is logged, and the next close tries again. Nor can it run when the session
    is bound to a connection whose transaction someone else holds (the suite's rolled-back tests).
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or not isinstance(bind, Engine):
        return False
    raw = bind.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("VACUUM")
        busy, _log_pages, _moved = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.close()
    except sqlite3.OperationalError as error:
        log.error("The ballot tables were rewritten, but VACUUM failed: %s", error)
        return False
    finally:
        raw.close()
    if busy:
        log.error("The ballot tables were rewritten and vacuumed, but a reader kept the write-ahead log from being truncated")
    return not busy
