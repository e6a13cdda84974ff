"""Money under concurrency: threads with sessions of their own on a database of its own (commits
and locks are real), on SQLite (BEGIN IMMEDIATE) and PostgreSQL (row locks, the batch's UNIQUE).

Each race starts its writers at a barrier, ≥ 20 repetitions:

- two caseworkers approve two claims of one grant that together exceed it: exactly one succeeds;
- two caseworkers approve the same claim (a double click): it is approved once;
- two payout batches are built at once: no claim is in both, every claim is in one.

tests/grants/test_concurrency_http.py runs the same races as caseworkers' requests to gunicorn -w 4.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from deltager.audit.models import AuditEvent
from deltager.db import begin_write, make_engine
from deltager.errors import DomainError
from deltager.grants import batches, claims
from deltager.grants.models import ExpenseClaim, Grant, PayoutBatchClaim
from deltager.grants.services import NotEnoughLeft
from tests.grants.factories import LATER, OTHER_STAFF, STAFF, make_plain_grants, rounds_waiting_for_payout, submit

REPETITIONS = 20


@pytest.fixture
def engine(file_app: Flask) -> Iterator[Engine]:
    """An engine on the file app's own database; SQLite writers wait up to 30 s for the lock."""
    engine = make_engine(file_app.config["DATABASE_URL"], busy_timeout_ms=30_000)
    yield engine
    engine.dispose()


def race(engine: Engine, *steps: Callable[[Session], Any]) -> list[Any]:
    """Run each step in a thread with its own session and write transaction, all released at once;
    each result is what the step returned, or the exception it raised."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    barrier = threading.Barrier(len(steps))
    results: list[Any] = [None] * len(steps)

    def run(i: int, step: Callable[[Session], Any]) -> None:
        with factory() as session:
            barrier.wait()
            begin_write(session)
            try:
                results[i] = step(session)
                session.commit()
            except BaseException as error:  # noqa: BLE001 - handed to the test to judge
                session.rollback()
                results[i] = error

    threads = [threading.Thread(target=run, args=(i, step)) for i, step in enumerate(steps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _no_bugs(results: list[Any]) -> None:
    bugs = [r for r in results if isinstance(r, BaseException) and not isinstance(r, DomainError)]
    assert not bugs, bugs


def test_two_approvals_that_together_exceed_the_grant(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        _, grants = make_plain_grants(session, [1_000_00] * REPETITIONS)
        pairs = []
        for grant in grants:
            pairs.append((submit(session, grant, 600_00).claim.id, submit(session, grant, 600_00).claim.id))
        session.commit()
    for grant, (first, second) in zip(grants, pairs):
        results = race(
            engine,
            lambda s, c=first: claims.decide_claim(s, STAFF, c, claims.Decision.APPROVE, LATER).claim.id,
            lambda s, c=second: claims.decide_claim(s, OTHER_STAFF, c, claims.Decision.APPROVE, LATER).claim.id,
        )
        _no_bugs(results)
        assert sum(isinstance(r, int) for r in results) == 1, results
        assert sum(isinstance(r, NotEnoughLeft) for r in results) == 1, results
        with Session(engine) as session:
            assert session.get(Grant, grant.id).approved_ore == 600_00  # type: ignore[union-attr]


def test_a_double_clicked_approval_approves_once(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        _, grants = make_plain_grants(session, [1_000_00] * REPETITIONS)
        claim_ids = [submit(session, grant, 400_00).claim.id for grant in grants]
        session.commit()
    for grant, claim_id in zip(grants, claim_ids):
        results = race(
            engine,
            lambda s: claims.decide_claim(s, STAFF, claim_id, claims.Decision.APPROVE, LATER),
            lambda s: claims.decide_claim(s, STAFF, claim_id, claims.Decision.APPROVE, LATER),
        )
        _no_bugs(results)
        assert [r.claim.id for r in results] == [claim_id, claim_id]  # the second click is a no-op, not an error
        assert sorted(r.decided_now for r in results) == [False, True]  # only the first tells the grantee
        with Session(engine) as session:
            assert session.get(Grant, grant.id).approved_ore == 400_00  # type: ignore[union-attr]
            decisions = session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "claim.decision", AuditEvent.object_id == str(claim_id)))
            assert decisions == 1


def test_two_batches_built_at_once_never_share_a_claim(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        rounds = rounds_waiting_for_payout(session, REPETITIONS)
    for round_id, ids in rounds:
        results = race(
            engine,
            lambda s: batches.create_batch(s, STAFF, round_id, LATER).id,
            lambda s: batches.create_batch(s, OTHER_STAFF, round_id, LATER).id,
        )
        _no_bugs(results)
        made = [r for r in results if isinstance(r, int)]
        assert made, results
        with Session(engine) as session:
            members = session.execute(select(PayoutBatchClaim.batch_id, PayoutBatchClaim.claim_id)
                                      .join(ExpenseClaim, ExpenseClaim.id == PayoutBatchClaim.claim_id)
                                      .where(ExpenseClaim.id.in_(ids))).all()
        by_batch: dict[int, set[int]] = {}
        for batch_id, claim_id in members:
            by_batch.setdefault(batch_id, set()).add(claim_id)
        assert set().union(*by_batch.values()) == ids
        assert sum(len(v) for v in by_batch.values()) == len(ids)  # no claim twice
        assert set(by_batch) <= set(made)
