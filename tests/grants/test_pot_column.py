"""Σ granted, net of returns, ≤ the pot, by the database: ``round.granted_net_ore`` and its CHECK
``granted_within_pot`` (migration 0014). The services keep the column equal to what
``services.pot_totals`` sums from the grants; a write that bypasses them and would exceed the pot
is refused by the database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deltager import road
from deltager.grants import batches, claims, services
from deltager.rounds.models import Round
from tests.grants.factories import LATER, STAFF, make_granted_round, make_plain_grants, submit

D = claims.Decision
SOON = LATER + dt.timedelta(hours=2)


def column(session: Session, round_id: int) -> int:
    """The round's granted_net_ore as the database holds it."""
    return int(session.scalar(select(Round.granted_net_ore).where(Round.id == round_id)
                              .execution_options(populate_existing=True)))


def recomputed(session: Session, round_id: int) -> int:
    granted, returned = services.pot_totals(session, round_id)
    return granted - returned


def test_the_column_follows_every_step_that_moves_the_pot(session: Session) -> None:
    setup = make_granted_round(session)
    round_id = setup.round.id
    assert column(session, round_id) == recomputed(session, round_id) == 44_000_00  # make_grants

    stopped, done, repaid = setup.grants[3], setup.grants[2], setup.grants[0]
    claims.decide_claim(session, STAFF, submit(session, stopped, 2_000_00).claim.id, D.APPROVE, SOON)
    services.stop_grant(session, STAFF, stopped.id, "Pengene blev brugt til andet", SOON, pay_approved=True)
    assert column(session, round_id) == recomputed(session, round_id) == 44_000_00 - 16_500_00

    claims.decide_claim(session, STAFF, submit(session, done, 3_000_00).claim.id, D.APPROVE, SOON)
    services.complete_grant(session, STAFF, done.id, SOON)
    assert column(session, round_id) == recomputed(session, round_id) == 27_500_00 - 9_000_00

    claims.decide_claim(session, STAFF, submit(session, repaid, 1_000_00).claim.id, D.APPROVE, SOON)
    batch = batches.create_batch(session, STAFF, round_id, SOON)
    batches.export_batch(session, STAFF, batch.id, SOON)
    batches.mark_batch_paid(session, STAFF, batch.id, SOON)
    assert column(session, round_id) == 18_500_00  # a payout moves nothing in the pot
    services.record_repayment(session, STAFF, repaid.id, 400_00, SOON.date(), "Overskud", SOON)
    assert column(session, round_id) == recomputed(session, round_id) == 18_100_00

    fundable = road.pot_status(session, round_id).next_fundable
    assert fundable is not None
    new = road.grant_from_pot(session, STAFF, round_id, fundable.application_id, SOON)
    assert column(session, round_id) == recomputed(session, round_id) == 18_100_00 + new.amount_ore
    assert road.pot_status(session, round_id).left_ore == setup.round.pot_ore - column(session, round_id)


def test_a_raw_update_beyond_the_pot_is_refused_by_the_database(session: Session) -> None:
    round_, _ = make_plain_grants(session, [5_000_00])
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text("UPDATE round SET granted_net_ore = pot_ore + 1 WHERE id = :id"), {"id": round_.id})
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text("UPDATE round SET granted_net_ore = -1 WHERE id = :id"), {"id": round_.id})
    with pytest.raises(IntegrityError), session.begin_nested():  # the pot cut below what is granted
        session.execute(text("UPDATE round SET pot_ore = 400000, cap_ore = 400000 WHERE id = :id"),
                        {"id": round_.id})
    assert column(session, round_.id) == 5_000_00


def test_a_raw_insert_of_a_round_granted_beyond_its_pot_is_refused(session: Session) -> None:
    round_, _ = make_plain_grants(session, [5_000_00])
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text(
            "INSERT INTO round (title, theme, description, pot_ore, cap_ore, funding_source, partners, "
            "applications_open_at, applications_close_at, voting_on, project_deadline, report_deadline, status, "
            "created_at, updated_at, granted_net_ore) SELECT title, theme, description, pot_ore, cap_ore, "
            "funding_source, partners, applications_open_at, applications_close_at, voting_on, project_deadline, "
            "report_deadline, status, created_at, updated_at, pot_ore + 1 FROM round WHERE id = :id"),
            {"id": round_.id})


def test_the_database_refuses_a_grant_from_the_pot_when_the_services_rule_is_broken(
    session: Session, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the services' pot check switched off (it sees an empty pot), the round's CHECK still
    refuses the grant that would spend money the pot does not have."""
    setup = make_granted_round(session)  # 44.000 of 50.000 kr. granted; 22.000 and 25.000 kr. unfunded
    monkeypatch.setattr(services, "pot_totals", lambda session, round_id: (0, 0))  # the broken rule
    with pytest.raises(IntegrityError):
        road.grant_from_pot(session, STAFF, setup.round.id, setup.unfunded[0], SOON)
