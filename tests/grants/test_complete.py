"""Completing a grant: refused while claims wait for a decision or an open batch holds them; a
confirmation page names the consequences before anything happens; the grantee is told."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from deltager.errors import NotAllowed
from deltager.grants import batches, claims, services
from deltager.grants.models import Grant, GrantStatus
from deltager.permissions import Role
from tests.applications.conftest import body, outbox
from tests.conftest import Auth
from tests.grants.factories import LATER, STAFF, GrantSetup, make_granted_round, submit

D = claims.Decision


@pytest.fixture
def granted(session: Session) -> GrantSetup:
    """A running round with four grants, conditions accepted."""
    return make_granted_round(session)


def _grant(setup: GrantSetup) -> Grant:
    return setup.grants[1]  # paid against receipts, 9.500 kr.


def _refusal(session: Session, grant: Grant) -> str:
    with pytest.raises(NotAllowed) as refused:
        services.refuse_completing(session, grant)
    return str(refused.value)


def test_completing_is_refused_while_a_claim_waits_or_an_open_batch_holds_one(
        session: Session, granted: GrantSetup) -> None:
    grant = _grant(granted)
    waiting = submit(session, grant, 1_000_00).claim
    assert f"U-{waiting.id}" in _refusal(session, grant)
    claims.decide_claim(session, STAFF, waiting.id, D.ASK_INFO, LATER, reason="Hvilken butik?")
    assert f"U-{waiting.id}" in _refusal(session, grant)  # waiting for the grantee counts too
    claims.decide_claim(session, STAFF, waiting.id, D.REJECT, LATER, reason="Ikke i budgettet")
    approved = submit(session, grant, 2_000_00).claim
    claims.decide_claim(session, STAFF, approved.id, D.APPROVE, LATER)
    batch = batches.create_batch(session, STAFF, grant.round_id, LATER)
    message = _refusal(session, grant)
    assert batch.reference in message and f"U-{approved.id}" in message
    with pytest.raises(NotAllowed):
        services.complete_grant(session, STAFF, grant.id, LATER)
    batches.export_batch(session, STAFF, batch.id, LATER)
    services.refuse_completing(session, grant)  # an exported batch is paid all the same
    done = services.complete_grant(session, STAFF, grant.id, LATER)
    assert done.changed_now and done.grant.status is GrantStatus.COMPLETED
    assert done.grant.released_ore == 9_500_00 - 2_000_00
    assert not services.complete_grant(session, STAFF, grant.id, LATER).changed_now  # a double click
    assert "Only an active grant" in _refusal(session, grant)


def test_a_grant_on_hold_is_resumed_before_it_is_completed(session: Session, granted: GrantSetup) -> None:
    grant = _grant(granted)
    services.hold_grant(session, STAFF, grant.id, "Mangler regnskab", LATER)
    assert "on hold" in _refusal(session, grant)


def test_the_confirmation_page_names_the_consequences_then_completes_and_tells_the_grantee(
        client: FlaskClient, auth: Auth, session: Session, granted: GrantSetup, instance_path: Path) -> None:
    grant = _grant(granted)
    approved = submit(session, grant, 2_000_00).claim
    claims.decide_claim(session, STAFF, approved.id, D.APPROVE, LATER)
    session.commit()
    auth.login(Role.CASEWORKER)
    assert f"/staff/grants/{grant.id}/complete" in client.get(f"/staff/grants/{grant.id}").text
    page = client.get(f"/staff/grants/{grant.id}/complete")
    assert page.status_code == 200
    assert "7.500 kr." in page.text and "rundens pulje" in page.text  # the remainder goes back to the pot
    assert "2.000 kr." in page.text  # approved, not paid: still paid
    assert 'type="submit"' in page.text
    assert client.post(f"/staff/grants/{grant.id}/complete").status_code == 303
    session.expire_all()
    done = session.get(Grant, grant.id)
    assert done is not None and done.status is GrantStatus.COMPLETED
    mails = [m for m in outbox(instance_path) if "afsluttet" in str(m["Subject"])]
    assert len(mails) == 1 and "7.500 kr." in body(mails[0])
    assert client.post(f"/staff/grants/{grant.id}/complete").status_code == 303  # a double click
    assert len([m for m in outbox(instance_path) if "afsluttet" in str(m["Subject"])]) == 1  # told once


def test_a_double_clicked_stop_or_hold_tells_the_grantee_once(
        client: FlaskClient, auth: Auth, session: Session, granted: GrantSetup, instance_path: Path) -> None:
    held, stopped = granted.grants[0], granted.grants[1]
    auth.login(Role.CASEWORKER)
    before = len(outbox(instance_path))
    for _ in range(2):
        assert client.post(f"/staff/grants/{held.id}/hold", data={"hold-reason": "Mangler regnskab"}).status_code == 303
        assert client.post(f"/staff/grants/{stopped.id}/stop", data={"reason": "Aflyst"}).status_code == 303
    session.expire_all()
    assert session.get(Grant, held.id).status is GrantStatus.ON_HOLD
    assert session.get(Grant, stopped.id).status is GrantStatus.STOPPED
    assert len(outbox(instance_path)) - before == 2  # one e-mail each, not two


def test_a_blocked_completion_says_why_and_offers_no_button(
        client: FlaskClient, auth: Auth, session: Session, granted: GrantSetup) -> None:
    grant = _grant(granted)
    waiting = submit(session, grant, 1_000_00).claim
    session.commit()
    auth.login(Role.CASEWORKER)
    page = client.get(f"/staff/grants/{grant.id}/complete")
    assert page.status_code == 200 and f"U-{waiting.id}" in page.text
    assert "Afslut bevillingen</button>" not in page.text
    client.post(f"/staff/grants/{grant.id}/complete")
    session.expire_all()
    assert session.get(Grant, grant.id).status is GrantStatus.ACTIVE
    auth.login(Role.VIEWER)
    assert client.get(f"/staff/grants/{grant.id}/complete").status_code == 403
