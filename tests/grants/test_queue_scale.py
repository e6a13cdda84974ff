"""The approval queue and a ledger at 10,000 claims across 50 grants (the issue's scale): the right
rows, oldest first, on the first and the last page. How fast is ``make bench``'s (section (e):
``queue_p99_ms``, ``ledger_p99_ms``), never a timed unit test."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert
from sqlalchemy.orm import Session

from deltager.grants import claims, services
from deltager.grants.models import ClaimStatus, ExpenseClaim
from tests.grants.factories import LATER, make_plain_grants

CLAIMS = 10_000
GRANTS = 50
STATUSES = [ClaimStatus.SUBMITTED, ClaimStatus.NEEDS_INFO, ClaimStatus.REJECTED, ClaimStatus.SUBMITTED]


def _fill(session: Session) -> tuple[int, list[int]]:
    round_, grants = make_plain_grants(session, [25_000_00] * GRANTS)
    lines = {g.id: g.budget_lines[0].id for g in grants}
    rows = []
    for n in range(CLAIMS):
        grant = grants[n % GRANTS]
        status = STATUSES[n % len(STATUSES)]
        rows.append({
            "grant_id": grant.id, "budget_line_id": lines[grant.id], "kind": "reimburse", "amount_ore": 100 + n,
            "spent_on": LATER.date() - dt.timedelta(days=n % 300), "description": "Kvittering",
            "supplier_name": f"Butik {n % 97}", "supplier_cvr": "", "status": status.value,
            "reason": "Ikke i budgettet" if status is ClaimStatus.REJECTED else "",
            "submitted_at": LATER + dt.timedelta(seconds=n), "waiting_since": LATER + dt.timedelta(seconds=n),
        })
    session.execute(insert(ExpenseClaim), rows)
    session.commit()
    return round_.id, [g.id for g in grants]


def test_queue_and_ledger_at_ten_thousand_claims(session: Session) -> None:
    round_id, grant_ids = _fill(session)
    first = claims.approval_queue(session, round_id=round_id, per_page=50)
    assert first.total == CLAIMS * 3 // 4 and len(first.rows) == 50
    assert [r.claim.waiting_since for r in first.rows] == sorted(r.claim.waiting_since for r in first.rows)
    ours = claims.approval_queue(session, waiting=claims.WaitingFor.US, per_page=50)
    assert ours.total == CLAIMS // 2 and ours.pages == 100
    last = claims.approval_queue(session, waiting=claims.WaitingFor.US, page=ours.pages, per_page=50)
    assert len(last.rows) == 50 and all(r.claim.status is ClaimStatus.SUBMITTED for r in last.rows)
    assert last.rows[-1].claim.waiting_since > ours.rows[0].claim.waiting_since
    assert services.ledger(session, grant_ids[7]).granted_ore == 25_000_00
