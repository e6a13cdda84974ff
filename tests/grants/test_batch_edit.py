"""An open payout batch on the web: the caseworker takes a claim out and adds approved claims that
are in no batch; each step writes an audit event in plain words; an exported batch is locked."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager.audit.models import AuditEvent
from deltager.grants import batches, claims
from deltager.errors import NotAllowed
from deltager.grants.models import BatchStatus, ClaimStatus, ExpenseClaim, PayoutBatchClaim
from deltager.permissions import Role
from tests.conftest import Auth
from tests.grants.factories import LATER, STAFF, GrantSetup, make_granted_round, submit

D = claims.Decision


@pytest.fixture
def batch_setup(session: Session) -> tuple[int, list[int]]:
    """An open batch with two approved claims of one grant, and a third approved claim in no batch."""
    setup: GrantSetup = make_granted_round(session)
    grant = setup.grants[1]
    ids = []
    for amount in (1_000_00, 2_000_00):
        claim = submit(session, grant, amount).claim
        claims.decide_claim(session, STAFF, claim.id, D.APPROVE, LATER)
        ids.append(claim.id)
    batch = batches.create_batch(session, STAFF, setup.round.id, LATER)
    later = submit(session, grant, 500_00).claim
    claims.decide_claim(session, STAFF, later.id, D.APPROVE, LATER)
    ids.append(later.id)
    session.commit()
    return batch.id, ids


def _members(session: Session, batch_id: int) -> list[int]:
    session.expire_all()
    return sorted(session.scalars(select(PayoutBatchClaim.claim_id).where(PayoutBatchClaim.batch_id == batch_id)))


def test_take_a_claim_out_and_add_one_in_no_batch(
        client: FlaskClient, auth: Auth, session: Session, batch_setup: tuple[int, list[int]]) -> None:
    batch_id, (first, second, outside) = batch_setup
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/payouts/{batch_id}").text
    assert f"/staff/payouts/{batch_id}/claims/{first}/remove" in page and "Tag ud" in page
    assert f'name="claim" value="{outside}"' in page  # offered: approved, in no batch
    assert client.post(f"/staff/payouts/{batch_id}/claims/{first}/remove").status_code == 303
    assert _members(session, batch_id) == [second]
    assert client.post(f"/staff/payouts/{batch_id}/claims", data={"claim": [str(outside), str(first)]}).status_code == 303
    assert _members(session, batch_id) == sorted([first, second, outside])
    events = {e.action: e for e in session.scalars(select(AuditEvent).where(AuditEvent.object_type == "payout_batch",
                                                                             AuditEvent.object_id == str(batch_id)))}
    assert events["batch.remove"].before == {"claims": [first], "total_ore": 3_000_00}
    assert events["batch.remove"].after == {"claims": [], "total_ore": 2_000_00}
    assert events["batch.add"].after == {"claims": sorted([first, outside]), "total_ore": 3_500_00}
    history = client.get(f"/staff/payouts/{batch_id}").text
    assert "Udlæg taget ud af en udbetalingsbunke" in history or "taget ud" in history
    assert "total_ore" not in history and "batch.remove" not in history


def test_an_exported_batch_is_locked_and_offers_no_take_out(
        client: FlaskClient, auth: Auth, session: Session, batch_setup: tuple[int, list[int]]) -> None:
    batch_id, (first, second, outside) = batch_setup
    batches.export_batch(session, STAFF, batch_id, LATER)
    session.commit()
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/payouts/{batch_id}").text
    assert "/remove" not in page and 'name="claim"' not in page
    client.post(f"/staff/payouts/{batch_id}/claims/{first}/remove")
    client.post(f"/staff/payouts/{batch_id}/claims", data={"claim": [str(outside)]})
    assert _members(session, batch_id) == [first, second]


def test_only_payout_staff_edit_a_batch(
        client: FlaskClient, auth: Auth, session: Session, batch_setup: tuple[int, list[int]]) -> None:
    batch_id, (first, _second, _outside) = batch_setup
    auth.login(Role.VIEWER)
    assert "/remove" not in client.get(f"/staff/payouts/{batch_id}").text
    assert client.post(f"/staff/payouts/{batch_id}/claims/{first}/remove").status_code == 403


def test_a_claim_whose_approval_was_withdrawn_meanwhile_stops_the_export(
        session: Session, batch_setup: tuple[int, list[int]]) -> None:
    """A stop withdrew an approval while a colleague made the batch (the stop took it out of the
    batches it saw): the export names the claim instead of sending it to the finance system."""
    batch_id, (first, _second, _outside) = batch_setup
    claim = session.get(ExpenseClaim, first)
    assert claim is not None
    claim.status, claim.reason, claim.approved_ore = ClaimStatus.REJECTED, "Bevillingen er stoppet.", None  # as a stop left it
    session.commit()
    with pytest.raises(NotAllowed, match=claim.reference):
        batches.export_batch(session, STAFF, batch_id, LATER)
    session.rollback()
    assert batches.get_batch(session, batch_id).status is BatchStatus.OPEN
