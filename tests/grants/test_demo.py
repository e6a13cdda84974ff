"""The demo (acceptance 8): a running round with grants in every state, claims in every state
(including a flagged duplicate), a paid batch and an open one, a grant on hold, a stopped grant
with money returned, and a follow-up talk booked. The enums are iterated, so a new state that the
demo does not show makes this fail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager.db import get_db
from deltager.grants import claims
from deltager.grants.models import (
    BatchStatus,
    ClaimKind,
    ClaimStatus,
    ExpenseClaim,
    FollowUpTalk,
    Grant,
    GrantStatus,
    PayoutBatch,
    PayoutMode,
    Repayment,
)
from deltager.rounds.models import Round, RoundStatus


@pytest.fixture
def demo(app: Flask) -> Iterator[Session]:
    """A session with the whole demo loaded (rolled back after the test)."""
    from deltager.demo import load_demo

    s = get_db(app).session()
    load_demo(s)
    s.flush()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


def test_the_demo_shows_every_state_of_the_money_road(demo: Session) -> None:
    grants = list(demo.scalars(select(Grant)))
    all_claims = list(demo.scalars(select(ExpenseClaim)))
    assert {g.status for g in grants} == set(GrantStatus)
    assert {c.status for c in all_claims} == set(ClaimStatus)
    assert {g.payout_mode for g in grants} == set(PayoutMode)
    assert {c.kind for c in all_claims} == set(ClaimKind)
    assert {b.status for b in demo.scalars(select(PayoutBatch))} >= {BatchStatus.PAID, BatchStatus.OPEN}
    rounds = {demo.get(Round, g.round_id) for g in grants}
    assert [r.status for r in rounds if r is not None] == [RoundStatus.RUNNING]  # the projects are under way


def test_the_demo_has_a_flagged_duplicate_a_hold_a_stop_with_money_back_and_a_talk(demo: Session) -> None:
    flags = [claims.claim_flags(demo, c) for c in demo.scalars(select(ExpenseClaim))]
    assert any({claims.ClaimFlag.SAME_FILE, claims.ClaimFlag.SAME_RECEIPT} & set(f) for f in flags)
    grants = list(demo.scalars(select(Grant)))
    assert any(g.status is GrantStatus.ON_HOLD and g.hold_reason for g in grants)
    stopped = [g for g in grants if g.status is GrantStatus.STOPPED]
    assert stopped and all(g.stop_reason and g.released_ore > 0 for g in stopped)
    assert any(g.repaid_ore > 0 for g in stopped)
    assert demo.scalar(select(Repayment).where(Repayment.grant_id.in_([g.id for g in stopped])))
    completed = [g for g in grants if g.status is GrantStatus.COMPLETED]
    assert all(g.paid_ore > 0 for g in completed)
    upfront = [g for g in grants if g.payout_mode is PayoutMode.UPFRONT]
    assert any(g.paid_ore == g.amount_ore for g in upfront), "an up-front grant paid out"
    assert demo.scalar(select(FollowUpTalk).where(FollowUpTalk.notes == ""))
