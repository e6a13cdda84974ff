"""The grants domain's rules, one at a time (the ledger machine tests them together)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deltager import road
from deltager.audit.models import AuditEvent
from deltager.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from deltager.grants import batches, claims, services
from deltager.grants.models import (
    BatchStatus,
    ClaimKind,
    ClaimStatus,
    ConditionsChannel,
    ExpenseClaim,
    GrantStatus,
    PayeeType,
    PayoutMode,
)
from deltager.rounds.models import RoundStatus
from tests.grants.factories import (
    GRANTEE,
    LATER,
    OTHER_STAFF,
    STAFF,
    claim_input,
    make_granted_round,
    make_plain_grants,
    receipt,
    submit,
)

D = claims.Decision
SOON = LATER + dt.timedelta(hours=2)


def actions(session: Session, object_type: str, object_id: int) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id)).order_by(AuditEvent.id)))


# --------------------------------------------------------------------------- the road


def test_the_road_makes_one_grant_per_winner_and_runs_the_round(session: Session) -> None:
    setup = make_granted_round(session)
    assert [g.amount_ore for g in setup.grants] == [4_000_00, 9_500_00, 12_000_00, 18_500_00]
    assert setup.round.status is RoundStatus.RUNNING
    association, two_lines = setup.grants[0], setup.grants[1]
    assert association.payee_type is PayeeType.ASSOCIATION and association.payee_cvr == "12345678"
    assert [(line.description, line.planned_ore) for line in two_lines.budget_lines] == [
        ("Værktøj", 4_750_00), ("Kaffe og kage", 4_750_00)]
    assert [line.description for line in setup.grants[2].budget_lines] == ["Hele projektet"]
    assert all(g.deadline == services.add_years(g.starts_on, 1) or g.deadline == setup.round.project_deadline
               for g in setup.grants)
    assert "grant.create" in actions(session, "grant", association.id)
    with pytest.raises(NotAllowed):  # once only
        road.make_grants(session, setup.round.id, STAFF, LATER)


def test_the_road_refuses_grants_before_the_vote_is_closed(session: Session) -> None:
    from tests.voting.factories import make_vote_meeting

    setup = make_vote_meeting(session, open_vote=True, round_status=RoundStatus.VOTING)
    with pytest.raises(NotAllowed):
        road.make_grants(session, setup.round.id, STAFF, LATER)


def test_a_private_person_is_never_paid_up_front(session: Session) -> None:
    _, [grant] = make_plain_grants(session, [5_000_00])
    with pytest.raises(ValidationFailed):
        services.set_payout_mode(session, STAFF, grant.id, PayoutMode.UPFRONT, LATER)
    _, [grant] = make_plain_grants(session, [5_000_00], payee_type=PayeeType.ASSOCIATION)
    services.set_payout_mode(session, STAFF, grant.id, PayoutMode.UPFRONT, LATER)
    claim = claims.request_upfront_payout(session, STAFF, grant.id, LATER)
    assert claim.kind is ClaimKind.UPFRONT and claim.approved_ore == 5_000_00
    assert claims.request_upfront_payout(session, STAFF, grant.id, LATER) is claim
    with pytest.raises(NotAllowed):
        submit(session, grant, 100_00)


# --------------------------------------------------------------------------- claims


def test_a_claim_cannot_exceed_what_is_left(session: Session) -> None:
    _, [grant] = make_plain_grants(session, [1_000_00])
    first = submit(session, grant, 800_00).claim
    claims.decide_claim(session, STAFF, first.id, D.APPROVE, SOON)
    with pytest.raises(services.NotEnoughLeft):
        submit(session, grant, 200_01)
    assert submit(session, grant, 200_00).claim.status is ClaimStatus.SUBMITTED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"description": " "}, "description"),
     ({"spent_on": dt.date(2099, 1, 1)}, "spent_on"), ({"kind": ClaimKind.INVOICE, "supplier_cvr": ""}, "supplier_cvr"),
     ({"supplier_cvr": "1234"}, "supplier_cvr"), ({"kind": ClaimKind.INVOICE, "supplier_name": ""}, "supplier_name"),
     ({"kind": ClaimKind.INVOICE, "supplier_cvr": "12345678", "supplier_address": " "}, "supplier_address")],
)
def test_a_claim_is_checked(session: Session, overrides: dict[str, object], field: str) -> None:
    _, [grant] = make_plain_grants(session, [1_000_00])
    with pytest.raises(ValidationFailed) as caught:
        submit(session, grant, 100_00, **overrides)
    assert caught.value.field == field


def test_a_claim_of_nothing_is_refused(session: Session) -> None:
    _, [grant] = make_plain_grants(session, [1_000_00])
    with pytest.raises(ValidationFailed):
        submit(session, grant, 0)


def test_a_claim_needs_one_to_five_files_and_a_line_of_its_own_grant(session: Session) -> None:
    _, [grant, other] = make_plain_grants(session, [1_000_00, 1_000_00])
    with pytest.raises(ValidationFailed):
        submit(session, grant, 100_00, files=[receipt() for _ in range(6)])
    with pytest.raises(ValidationFailed):
        claims.submit_claim(session, GRANTEE, grant.id, claim_input(grant, 100_00), [], SOON)
    with pytest.raises(ValidationFailed):
        submit(session, grant, 100_00, budget_line_id=other.budget_lines[0].id)


def test_claim_dates_are_parsed_the_danish_way() -> None:
    assert claims.parse_claim_date("24-12-2026") == dt.date(2026, 12, 24)
    assert claims.parse_claim_date("24.12.26") == dt.date(2026, 12, 24)
    assert claims.parse_claim_date("2026-12-24") == dt.date(2026, 12, 24)
    for bad in ["12/24/2026", "31-02-2026", "i går", "", None]:
        with pytest.raises(ValidationFailed):
            claims.parse_claim_date(bad)


def test_approve_lower_reject_and_ask(session: Session) -> None:
    _, [grant] = make_plain_grants(session, [5_000_00])
    a, b, c, d = (submit(session, grant, 1_000_00).claim for _ in range(4))
    claims.decide_claim(session, STAFF, a.id, D.APPROVE, SOON)
    with pytest.raises(ValidationFailed):
        claims.decide_claim(session, STAFF, b.id, D.LOWER, SOON, approved_ore=600_00)  # no reason
    with pytest.raises(ValidationFailed):
        claims.decide_claim(session, STAFF, b.id, D.LOWER, SOON, approved_ore=1_000_00, reason="x")
    claims.decide_claim(session, STAFF, b.id, D.LOWER, SOON, approved_ore=600_00, reason="Kun kaffen er dækket")
    with pytest.raises(ValidationFailed):
        claims.decide_claim(session, STAFF, c.id, D.REJECT, SOON)
    claims.decide_claim(session, STAFF, c.id, D.REJECT, SOON, reason="Biograftur er ikke i budgettet")
    claims.decide_claim(session, STAFF, d.id, D.ASK_INFO, SOON, reason="Send kvitteringen igen, den er sløret")
    assert [x.status for x in (a, b, c, d)] == [ClaimStatus.APPROVED, ClaimStatus.LOWERED, ClaimStatus.REJECTED,
                                                  ClaimStatus.NEEDS_INFO]
    assert claims.waiting_for(d) is claims.WaitingFor.GRANTEE
    claims.answer_info_request(session, GRANTEE, d.id, "Her er hvad I bad om", [receipt()], SOON)
    assert d.status is ClaimStatus.SUBMITTED and len(d.files) == 2 and claims.waiting_for(d) is claims.WaitingFor.US
    ledger = services.ledger(session, grant.id)
    assert (ledger.approved_ore, ledger.waiting_ore, ledger.left_ore, ledger.awaiting_decision_ore) == (
        1_600_00, 1_600_00, 3_400_00, 1_000_00)
    assert ledger.lines[0].claimed_ore == 3_000_00 and ledger.lines[0].approved_ore == 1_600_00
    # A second, different decision is refused; the same one again is a no-op.
    with pytest.raises(claims.ClaimAlreadyDecided):
        claims.decide_claim(session, STAFF, a.id, D.REJECT, SOON, reason="nej")
    again = claims.decide_claim(session, STAFF, a.id, D.APPROVE, SOON)
    assert again.claim is a and not again.decided_now
    assert services.get_grant(session, grant.id).approved_ore == 1_600_00
    assert actions(session, "expense_claim", b.id) == ["claim.submit", "claim.decision"]


def test_the_database_refuses_a_lowered_claim_without_reason(session: Session) -> None:
    _, [grant] = make_plain_grants(session, [5_000_00])
    claim = submit(session, grant, 1_000_00).claim
    session.commit()
    claim.status, claim.approved_ore = ClaimStatus.LOWERED, 500_00
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_flags(session: Session) -> None:
    _, [grant, other] = make_plain_grants(session, [5_000_00, 5_000_00])
    first = submit(session, grant, 250_00, files=[receipt("same")]).claim
    assert claims.claim_flags(session, first) == []
    same_file = submit(session, other, 100_00, files=[receipt("same")])
    assert claims.ClaimFlag.SAME_FILE in same_file.flags
    same_receipt = submit(session, other, 250_00, supplier_name=" brugsen ")
    assert claims.ClaimFlag.SAME_RECEIPT in same_receipt.flags
    early = submit(session, grant, 10_00, spent_on=grant.starts_on - dt.timedelta(days=30))
    assert claims.ClaimFlag.OUTSIDE_PERIOD in early.flags
    over = submit(session, grant, 4_750_00)
    assert claims.ClaimFlag.LINE_OVER_BUDGET in over.flags
    assert services.get_grant(session, grant.id).follow_up_needed  # a flagged claim asks for a talk


def test_the_approval_queue(session: Session) -> None:
    round_, grants = make_plain_grants(session, [5_000_00, 5_000_00])
    sent = [submit(session, grants[n % 2], 100_00, at=LATER + dt.timedelta(minutes=10 - n)).claim for n in range(6)]
    claims.decide_claim(session, STAFF, sent[0].id, D.ASK_INFO, SOON, reason="Hvilken butik?")
    claims.decide_claim(session, STAFF, sent[1].id, D.APPROVE, SOON)
    queue = claims.approval_queue(session, round_id=round_.id)
    assert queue.total == 5
    us = claims.approval_queue(session, round_id=round_.id, waiting=claims.WaitingFor.US, per_page=2)
    assert us.total == 4 and us.pages == 2
    assert [r.claim.id for r in us.rows] == [sent[5].id, sent[4].id]  # oldest first
    assert claims.approval_queue(session, round_id=round_.id, waiting=claims.WaitingFor.GRANTEE).total == 1
    assert claims.approval_queue(session, round_id=round_.id, status=ClaimStatus.APPROVED).total == 1
    assert claims.approval_queue(session, round_id=-1).total == 0


def test_grantees_see_only_their_own(session: Session) -> None:
    _, [mine, theirs] = make_plain_grants(session, [1_000_00, 1_000_00])
    claim = submit(session, theirs, 100_00).claim
    assert services.get_own_grant(session, mine.id, {mine.application_id}) is mine
    with pytest.raises(NotFound):
        services.get_own_grant(session, theirs.id, {mine.application_id})
    with pytest.raises(NotFound):
        claims.get_own_claim(session, claim.id, {mine.application_id})
    with pytest.raises(NotFound):
        claims.get_claim_file(session, claim.files[0].id, application_ids={mine.application_id})
    assert claims.get_claim_file(session, claim.files[0].id).content.startswith(b"%PDF")
    assert len(claim.files[0].stored_name) >= 32


# --------------------------------------------------------------------------- hold, stop, repay, pot


def test_no_approval_and_no_payout_while_on_hold(session: Session) -> None:
    round_, [grant] = make_plain_grants(session, [5_000_00])
    a, b = submit(session, grant, 100_00).claim, submit(session, grant, 100_00).claim
    claims.decide_claim(session, STAFF, a.id, D.APPROVE, SOON)
    batch = batches.create_batch(session, STAFF, round_.id, SOON)
    with pytest.raises(ValidationFailed):
        services.hold_grant(session, STAFF, grant.id, "", SOON)
    services.hold_grant(session, STAFF, grant.id, "Vi mangler dokumentation", SOON)
    with pytest.raises(services.GrantOnHold):
        claims.decide_claim(session, STAFF, b.id, D.APPROVE, SOON)
    with pytest.raises(services.GrantOnHold):
        batches.export_batch(session, STAFF, batch.id, SOON)
    services.resume_grant(session, STAFF, grant.id, SOON)
    claims.decide_claim(session, STAFF, b.id, D.APPROVE, SOON)
    assert batches.export_batch(session, STAFF, batch.id, SOON)
    assert actions(session, "grant", grant.id)[-2:] == ["grant.hold", "grant.resume"]


def test_no_payout_before_conditions_and_børneattest(session: Session) -> None:
    setup = make_granted_round(session, accept=False)
    grant = setup.grants[2]
    claim = submit(session, grant, 100_00).claim
    claims.decide_claim(session, STAFF, claim.id, D.APPROVE, SOON)
    ready, blocked = batches.waiting_for_payout(session, setup.round.id)
    assert not ready and [b.claim.id for b in blocked] == [claim.id]
    with pytest.raises(NotAllowed):
        batches.create_batch(session, STAFF, setup.round.id, SOON)
    services.accept_conditions(session, STAFF, grant.id, ConditionsChannel.PAPER, SOON)
    assert grant.conditions_channel is ConditionsChannel.PAPER
    services.set_child_certificate(session, STAFF, grant.id, required=True, received_on=None, now=SOON)
    assert not batches.waiting_for_payout(session, setup.round.id)[0]
    services.set_child_certificate(session, STAFF, grant.id, required=True, received_on=SOON.date(), now=SOON)
    assert batches.create_batch(session, STAFF, setup.round.id, SOON)


def test_stop_sends_the_remainder_back_to_the_pot(session: Session) -> None:
    setup = make_granted_round(session)
    grant = setup.grants[3]  # 18.500 kr.
    approved = submit(session, grant, 2_000_00).claim
    pending = submit(session, grant, 500_00).claim
    claims.decide_claim(session, STAFF, approved.id, D.APPROVE, SOON)
    before = road.pot_status(session, setup.round.id)
    assert before.left_ore == 6_000_00 and before.next_fundable is None
    # The caseworker chose that the approved receipt is still paid (spent in good faith).
    services.stop_grant(session, STAFF, grant.id, "Pengene blev brugt til en biograftur", SOON, pay_approved=True)
    ledger = services.ledger(session, grant.id)
    assert (ledger.left_ore, ledger.returned_ore, ledger.waiting_ore) == (0, 16_500_00, 2_000_00)
    assert approved.status is ClaimStatus.APPROVED
    assert pending.status is ClaimStatus.REJECTED and pending.reason.startswith("Pengene")
    after = road.pot_status(session, setup.round.id)
    assert after.returned_ore == 16_500_00 and after.left_ore == 22_500_00
    assert after.next_fundable is not None and after.next_fundable.title == "Fællesspisning hver fredag"
    with pytest.raises(services.GrantClosed):
        submit(session, grant, 100_00)
    new = road.grant_from_pot(session, STAFF, setup.round.id, after.next_fundable.application_id, SOON)
    assert new.amount_ore == 22_000_00
    assert road.pot_status(session, setup.round.id).left_ore == 500_00
    with pytest.raises(services.NotEnoughLeft):
        road.grant_from_pot(session, STAFF, setup.round.id, setup.unfunded[-1], SOON)


def test_stop_by_default_sends_everything_unpaid_back_to_the_pot(session: Session) -> None:
    round_, [grant] = make_plain_grants(session, [5_000_00])
    loose, batched, paid = (submit(session, grant, amount).claim for amount in (1_000_00, 700_00, 300_00))
    for claim in (paid,):
        claims.decide_claim(session, STAFF, claim.id, D.APPROVE, SOON)
    done = batches.create_batch(session, STAFF, round_.id, SOON)
    batches.export_batch(session, STAFF, done.id, SOON)
    batches.mark_batch_paid(session, STAFF, done.id, SOON)
    claims.decide_claim(session, STAFF, batched.id, D.APPROVE, SOON)
    open_batch = batches.create_batch(session, STAFF, round_.id, SOON)
    claims.decide_claim(session, STAFF, loose.id, D.LOWER, SOON, approved_ore=800_00, reason="Kun 800 kr.")
    assert services.stop_preview(session, grant) == services.StopPreview(withdrawable_ore=1_500_00, exported_ore=0)
    stopped = services.stop_grant(session, STAFF, grant.id, "Projektet blev aflyst", SOON)
    assert stopped.changed_now and stopped.withdrawn_ore == 1_500_00
    assert (grant.approved_ore, grant.paid_ore, grant.released_ore) == (300_00, 300_00, 4_700_00)
    for claim in (loose, batched):
        assert claim.status is ClaimStatus.REJECTED and claim.approved_ore is None
        assert claim.reason == "Projektet blev aflyst"
    assert paid.status is ClaimStatus.PAID
    assert batches.batch_claims(session, open_batch.id) == []  # taken out of the open batch
    ledger = services.ledger(session, grant.id)
    assert (ledger.paid_ore, ledger.waiting_ore, ledger.left_ore, ledger.returned_ore) == (300_00, 0, 0, 4_700_00)
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.at == SOON)))
    assert {"claim.withdrawn", "batch.remove", "grant.stop"} <= actions
    again = services.stop_grant(session, STAFF, grant.id, "Igen", SOON)
    assert not again.changed_now and again.withdrawn_ore == 0


def test_stop_pays_claims_already_sent_to_the_finance_system(session: Session) -> None:
    round_, [grant] = make_plain_grants(session, [5_000_00])
    exported, loose = (submit(session, grant, amount).claim for amount in (1_000_00, 400_00))
    claims.decide_claim(session, STAFF, exported.id, D.APPROVE, SOON)
    batch = batches.create_batch(session, STAFF, round_.id, SOON)
    batches.export_batch(session, STAFF, batch.id, SOON)
    claims.decide_claim(session, STAFF, loose.id, D.APPROVE, SOON)
    assert services.stop_preview(session, grant) == services.StopPreview(withdrawable_ore=400_00,
                                                                        exported_ore=1_000_00)
    stopped = services.stop_grant(session, STAFF, grant.id, "Aflyst", SOON)
    assert stopped.withdrawn_ore == 400_00
    assert exported.status is ClaimStatus.APPROVED and loose.status is ClaimStatus.REJECTED
    assert (grant.approved_ore, grant.released_ore) == (1_000_00, 4_000_00)
    batches.mark_batch_paid(session, STAFF, batch.id, SOON)  # the finance system pays it
    ledger = services.ledger(session, grant.id)
    assert (ledger.paid_ore, ledger.waiting_ore, ledger.left_ore, ledger.returned_ore) == (1_000_00, 0, 0, 4_000_00)


def test_stop_keeping_approvals_pays_them(session: Session) -> None:
    round_, [grant] = make_plain_grants(session, [5_000_00])
    claim = submit(session, grant, 1_000_00).claim
    claims.decide_claim(session, STAFF, claim.id, D.APPROVE, SOON)
    batch = batches.create_batch(session, STAFF, round_.id, SOON)
    stopped = services.stop_grant(session, STAFF, grant.id, "Aflyst", SOON, pay_approved=True)
    assert stopped.withdrawn_ore == 0 and claim.status is ClaimStatus.APPROVED
    assert [c.id for c in batches.batch_claims(session, batch.id)] == [claim.id]
    assert (grant.approved_ore, grant.released_ore) == (1_000_00, 4_000_00)
    batches.export_batch(session, STAFF, batch.id, SOON)
    batches.mark_batch_paid(session, STAFF, batch.id, SOON)
    assert claim.status is ClaimStatus.PAID


def test_repayments_go_back_to_the_pot(session: Session) -> None:
    round_, [grant] = make_plain_grants(session, [5_000_00])
    claim = submit(session, grant, 1_000_00).claim
    claims.decide_claim(session, STAFF, claim.id, D.APPROVE, SOON)
    with pytest.raises(NotAllowed):  # nothing paid yet
        services.record_repayment(session, STAFF, grant.id, 100_00, SOON.date(), "", SOON)
    batch = batches.create_batch(session, STAFF, round_.id, SOON)
    with pytest.raises(NotAllowed):
        batches.mark_batch_paid(session, STAFF, batch.id, SOON)  # not exported
    batches.export_batch(session, STAFF, batch.id, SOON)
    batches.mark_batch_paid(session, STAFF, batch.id, SOON)
    assert claim.status is ClaimStatus.PAID
    services.record_repayment(session, STAFF, grant.id, 300_00, SOON.date(), "Overskud", SOON)
    ledger = services.ledger(session, grant.id)
    assert (ledger.paid_ore, ledger.returned_ore, ledger.left_ore) == (700_00, 300_00, 4_000_00)
    assert ledger.paid_ore + ledger.waiting_ore + ledger.left_ore + ledger.returned_ore == ledger.granted_ore
    with pytest.raises(NotAllowed):
        services.record_repayment(session, STAFF, grant.id, 700_01, SOON.date(), "", SOON)


# --------------------------------------------------------------------------- batches


def test_a_batch_is_locked_once_exported_and_its_csv_has_one_row_per_payee(session: Session) -> None:
    round_, [grant, other] = make_plain_grants(session, [5_000_00, 5_000_00])
    own = [submit(session, grant, 100_00).claim, submit(session, grant, 50_50).claim]
    invoice = submit(session, other, 1_234_50, kind=ClaimKind.INVOICE, supplier_name="=HYPERLINK(\"x\")",
                     supplier_cvr="11223344", supplier_address="@Industrivej 12, 8260 Viby J").claim
    for claim in [*own, invoice]:
        claims.decide_claim(session, STAFF, claim.id, D.APPROVE, SOON)
    batch = batches.create_batch(session, STAFF, round_.id, SOON)
    summary = batches.batch_summary(session, batch.id, round_.pot_ore)
    assert (summary.claims, summary.total_ore) == (3, 1_385_00)
    assert summary.left_after_ore == round_.pot_ore - 1_385_00
    text = batches.export_batch(session, STAFF, batch.id, SOON)
    assert batch.status is BatchStatus.EXPORTED
    assert batches.export_batch(session, STAFF, batch.id, SOON) == text  # again: the same file
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 2
    person, supplier = rows
    assert person["Modtagertype"] == "Privatperson" and person["Beløb"] == "150,50"
    assert person["Bilag"] == f"U-{own[0].id} U-{own[1].id}" and person["Godkendt af"] == STAFF.label
    assert supplier["Modtagertype"] == "Leverandør" and supplier["CVR"] == "11223344"
    assert supplier["Navn"].startswith("'=")  # neutralised
    assert supplier["Adresse"] == "'@Industrivej 12, 8260 Viby J"  # the invoice's payee address, neutralised
    assert supplier["Beløb"] == "1234,50"
    with pytest.raises(NotAllowed):
        batches.remove_from_batch(session, STAFF, batch.id, invoice.id, SOON)
    batches.mark_batch_paid(session, STAFF, batch.id, SOON)
    assert services.ledger(session, other.id).paid_ore == 1_234_50
    again = batches.mark_batch_paid(session, STAFF, batch.id, SOON)
    assert again.batch.status is BatchStatus.PAID and not again.changed_now


def test_the_csv_names_an_association_by_cvr_and_the_approval_day_in_copenhagen(session: Session) -> None:
    """An association's row: "Forening", its name, address and CVR; "Godkendt" is the day of the
    latest approval of the row's claims, in Copenhagen (23:30 UTC on 24 May is 25 May there)."""
    round_, [grant] = make_plain_grants(session, [5_000_00], payee_type=PayeeType.ASSOCIATION)
    first, second = submit(session, grant, 200_00).claim, submit(session, grant, 34_50).claim
    claims.decide_claim(session, STAFF, first.id, D.APPROVE, dt.datetime(2026, 5, 22, 9, 0, tzinfo=dt.UTC))
    late = dt.datetime(2026, 5, 24, 23, 30, tzinfo=dt.UTC)
    claims.decide_claim(session, OTHER_STAFF, second.id, D.APPROVE, late)
    batch = batches.create_batch(session, STAFF, round_.id, late)
    rows = list(csv.DictReader(io.StringIO(batches.export_batch(session, STAFF, batch.id, late)), delimiter=";"))
    assert list(rows[0]) == batches.CSV_HEADER
    assert rows == [{
        "Modtagertype": "Forening", "Navn": "Mette Hansen", "Adresse": "Gade 1, 8000 Aarhus C", "CVR": "87654321",
        "Beløb": "234,50", "Bilag": f"U-{first.id} U-{second.id}", "Reference": f"UB-{batch.id}-1",
        "Godkendt": "2026-05-25", "Godkendt af": f"{OTHER_STAFF.label}, {STAFF.label}", "Bevilling": f"B-{grant.id}",
    }]


def test_a_claim_is_in_one_batch_only(session: Session) -> None:
    round_, [grant] = make_plain_grants(session, [5_000_00])
    a, b = submit(session, grant, 100_00).claim, submit(session, grant, 100_00).claim
    claims.decide_claim(session, STAFF, a.id, D.APPROVE, SOON)
    first = batches.create_batch(session, STAFF, round_.id, SOON)
    with pytest.raises(NotAllowed):
        batches.create_batch(session, STAFF, round_.id, SOON)
    claims.decide_claim(session, STAFF, b.id, D.APPROVE, SOON)
    assert batches.add_to_batch(session, STAFF, first.id, {a.id, b.id}, SOON) == [b.id]
    batches.remove_from_batch(session, STAFF, first.id, b.id, SOON)
    second = batches.create_batch(session, STAFF, round_.id, SOON)
    assert [c.id for c in batches.batch_claims(session, second.id)] == [b.id]


# --------------------------------------------------------------------------- follow-up talks


def test_follow_up_talk(session: Session) -> None:
    _, [grant] = make_plain_grants(session, [5_000_00])
    services.set_follow_up_needed(session, STAFF, grant.id, True, SOON)
    assert grant in services.grants_needing_follow_up(session)
    with pytest.raises(ValidationFailed):
        services.book_follow_up(session, STAFF, grant.id, SOON - dt.timedelta(days=1), "Rådhuset", SOON)
    at = SOON + dt.timedelta(days=7)
    talk = services.book_follow_up(session, STAFF, grant.id, at, "Rådhuset, lokale 2", SOON)
    ics = services.follow_up_ics(talk, title=grant.title, now=SOON).decode()
    assert "BEGIN:VEVENT" in ics and "Opfølgningssamtale: Projekt 1" in ics and "\r\n" in ics
    services.write_follow_up_notes(session, STAFF, talk.id, "Godt i gang.", at)
    assert talk.notes == "Godt i gang." and grant not in services.grants_needing_follow_up(session)


def test_every_money_decision_is_audited_with_before_and_after(session: Session) -> None:
    _, [grant] = make_plain_grants(session, [5_000_00])
    claim = submit(session, grant, 1_000_00).claim
    claims.decide_claim(session, STAFF, claim.id, D.LOWER, SOON, approved_ore=800_00, reason="Kun 800 kr.")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "claim.decision",
                                                    AuditEvent.object_id == str(claim.id)))
    assert event is not None
    assert event.before == {"status": "submitted", "approved_ore": None, "reason": "", "grant_approved_ore": 0}
    assert event.after == {"status": "lowered", "approved_ore": 800_00, "reason": "Kun 800 kr.",
                           "grant_approved_ore": 800_00}


def test_domain_errors_have_messages(session: Session) -> None:
    _, [grant] = make_plain_grants(session, [1_000_00])
    with pytest.raises(DomainError) as caught:
        submit(session, grant, 2_000_00)
    assert "left" in caught.value.message
    assert session.scalar(select(ExpenseClaim.id).where(ExpenseClaim.grant_id == grant.id)) is None
    assert services.get_grant(session, grant.id).status is GrantStatus.ACTIVE


def test_a_claim_page_and_a_grant_page_in_one_call(session: Session) -> None:
    setup = make_granted_round(session)
    grant = setup.grants[1]  # two budget lines of 4.750 kr.
    claim = submit(session, grant, 5_000_00).claim
    page = claims.claim_page(session, claim.id)
    assert page.line.description == "Værktøj" and page.line.claimed_ore == 5_000_00
    assert claims.ClaimFlag.LINE_OVER_BUDGET in page.flags and page.waiting_for is claims.WaitingFor.US
    assert page.ledger.awaiting_decision_ore == 5_000_00
    own = claims.grant_page(session, grant.id, application_ids={grant.application_id})
    assert own.claims == [claim] and own.ledger.granted_ore == 9_500_00
    with pytest.raises(NotFound):
        claims.claim_page(session, claim.id, application_ids={setup.grants[0].application_id})
