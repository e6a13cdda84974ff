"""The ledger's invariants under random sequences of everything that moves money.

:class:`LedgerMachine` (Hypothesis, stateful) sends claims, approves, lowers, rejects, asks for
information, answers, builds batches, exports and pays them, holds, resumes and stops grants and
records repayments, in random order, on three grants of one round. After every step it checks:

- per grant: Σ approved ≤ granted; Σ paid ≤ Σ approved; repaid ≤ paid;
  paid + waiting + left + returned = granted; the grant's running totals equal the sums of its
  claims and repayments; no claim approves more than it claims;
- per round: Σ granted, net of what was returned, ≤ the pot, and the round's ``granted_net_ore``
  (which the database holds ≤ the pot) equals it;
- a claim is in at most one batch, and only approved or paid claims are in batches;
- nothing is approved or exported while its grant is on hold.

**The deliberately broken rule.** :func:`test_the_machine_catches_an_approval_that_skips_the_left_check`
runs the same machine with ``claims.refuse_exceeding`` replaced by a function that lets every
approval through ("approval skips the 'left' check"). Two claims sent while money was left, both
approved, then exceed the grant, and the machine fails: the invariant Σ approved ≤ granted, or
the grant row's CHECK constraint ``approved_within_grant`` as the database writes it. With the
rule in place the machine finds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deltager.applications.models import Applicant, Application, ApplicationStatus
from deltager.errors import DomainError
from deltager.grants import batches, claims, services
from deltager.grants.models import (
    APPROVED_STATES,
    BatchStatus,
    ClaimStatus,
    ConditionsChannel,
    ExpenseClaim,
    Grant,
    GrantStatus,
    PayeeType,
    PayoutBatch,
    PayoutBatchClaim,
    Repayment,
)
from deltager.rounds.models import Round
from tests.grants.factories import GRANTEE, STAFF, claim_input, receipt
from tests.rounds.factories import make_round

NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
POT = 50_000_00
AMOUNTS = [20_000_00, 12_000_00, 9_000_00]
MACHINE_SETTINGS = settings(max_examples=30, stateful_step_count=20, deadline=None, database=None,
                            suppress_health_check=list(HealthCheck))


@pytest.fixture
def project_ids(session: Session) -> list[int]:
    """A round's three projects on the ballot, committed once (each example makes their grants)."""
    round_ = make_round(session, pot_ore=POT)
    applicant = Applicant(email="maskine@test.dk", name="Maskine")
    session.add(applicant)
    session.flush()
    apps = [Application(round_id=round_.id, applicant_id=applicant.id, status=ApplicationStatus.ON_BALLOT,
                        title=f"Projekt {n}", requested_ore=amount) for n, amount in enumerate(AMOUNTS)]
    session.add_all(apps)
    session.commit()
    return [round_.id] + [a.id for a in apps]


def machine_class(session: Session, ids: list[int]) -> type[RuleBasedStateMachine]:
    """The machine, bound to the test's session and the round's projects."""
    round_id, application_ids = ids[0], ids[1:]

    class LedgerMachine(RuleBasedStateMachine):
        """Random steps on the money of three grants; the invariants after each (module docstring)."""

        def __init__(self) -> None:
            super().__init__()
            session.rollback()  # each example starts from the committed projects, without grants
            winners = [services.Winner(application_id=a, title=f"Projekt {n}", amount_ore=amount, rank=n + 1,
                                       payee_type=PayeeType.PRIVATE, payee_name="Maskine")
                       for n, (a, amount) in enumerate(zip(application_ids, AMOUNTS))]
            self.grant_ids = [g.id for g in services.make_grants(session, STAFF, round_id, POT, winners, NOW)]
            for grant_id in self.grant_ids:
                services.accept_conditions(session, GRANTEE, grant_id, ConditionsChannel.ONLINE, NOW)
            session.flush()
            self.clock = NOW
            self.claim_ids: list[int] = []
            self.batch_ids: list[int] = []
            self.stopped_paying: dict[int, bool] = {}

        def teardown(self) -> None:
            session.rollback()

        def _tick(self) -> dt.datetime:
            self.clock += dt.timedelta(minutes=1)
            return self.clock

        def _try(self, step, *args, **kwargs):  # type: ignore[no-untyped-def]
            """Run a service in a savepoint; a refusal (DomainError) undoes it and is fine."""
            try:
                with session.begin_nested():
                    result = step(*args, **kwargs)
                    session.flush()
                    return result
            except DomainError:
                return None

        def _grant(self, i: int) -> Grant:
            return session.get(Grant, self.grant_ids[i % len(self.grant_ids)])  # type: ignore[return-value]

        def _claim(self, i: int) -> ExpenseClaim:
            return session.get(ExpenseClaim, self.claim_ids[i % len(self.claim_ids)])  # type: ignore[return-value]

        # ------------------------------------------------------------------ steps

        @rule(g=st.integers(0, 2), percent=st.sampled_from([1, 30, 50, 70, 100]))
        def submit(self, g: int, percent: int) -> None:
            grant = self._grant(g)
            amount = max(1, grant.left_ore * percent // 100)
            sent = self._try(claims.submit_claim, session, GRANTEE, grant.id,
                             claim_input(grant, amount, spent_on=NOW.date()), [receipt()], self._tick())
            if sent is not None:
                self.claim_ids.append(sent.claim.id)

        @precondition(lambda self: self.claim_ids)
        @rule(c=st.integers(0, 10**6), decision=st.sampled_from(list(claims.Decision)), percent=st.integers(1, 99))
        def decide(self, c: int, decision: claims.Decision, percent: int) -> None:
            claim = self._claim(c)
            held = claim.grant.status is GrantStatus.ON_HOLD and claim.status in (ClaimStatus.SUBMITTED,
                                                                                   ClaimStatus.NEEDS_INFO)
            approved_before = claim.grant.approved_ore
            lower = max(1, claim.amount_ore * percent // 100) if claim.amount_ore > 1 else None
            self._try(claims.decide_claim, session, STAFF, claim.id, decision, self._tick(),
                      approved_ore=lower if decision is claims.Decision.LOWER else None,
                      reason="" if decision is claims.Decision.APPROVE else "Begrundelse")
            if held:
                assert claim.grant.approved_ore == approved_before, "approved while on hold"

        @precondition(lambda self: self.claim_ids)
        @rule(c=st.integers(0, 10**6))
        def double_approve(self, c: int) -> None:
            claim = self._claim(c)
            self._try(claims.decide_claim, session, STAFF, claim.id, claims.Decision.APPROVE, self._tick())
            approved = claim.grant.approved_ore
            self._try(claims.decide_claim, session, OTHER, claim.id, claims.Decision.APPROVE, self._tick())
            assert claim.grant.approved_ore == approved, "a double approval approved twice"

        @precondition(lambda self: self.claim_ids)
        @rule(g=st.integers(0, 2))
        def approve_all_waiting(self, g: int) -> None:
            """A caseworker goes through a grant's waiting claims and approves each in full (the
            step where claims sent while money was left, together worth more, meet the rule)."""
            grant = self._grant(g)
            for claim in claims.claims_of_grant(session, grant.id):
                if claim.status is ClaimStatus.SUBMITTED:
                    self._try(claims.decide_claim, session, STAFF, claim.id, claims.Decision.APPROVE, self._tick())

        @precondition(lambda self: self.claim_ids)
        @rule(c=st.integers(0, 10**6))
        def answer(self, c: int) -> None:
            self._try(claims.answer_info_request, session, GRANTEE, self._claim(c).id, "Her er kvitteringen",
                      [receipt()], self._tick())

        @rule()
        def create_batch(self) -> None:
            batch = self._try(batches.create_batch, session, STAFF, round_id, self._tick())
            if batch is not None:
                self.batch_ids.append(batch.id)

        @precondition(lambda self: self.batch_ids)
        @rule(b=st.integers(0, 10**6))
        def export(self, b: int) -> None:
            batch_id = self.batch_ids[b % len(self.batch_ids)]
            was_open = session.get(PayoutBatch, batch_id).status is BatchStatus.OPEN  # type: ignore[union-attr]
            held = any(c.grant.status is GrantStatus.ON_HOLD for c in batches.batch_claims(session, batch_id))
            self._try(batches.export_batch, session, STAFF, batch_id, self._tick())
            if was_open and held:
                assert session.get(PayoutBatch, batch_id).status is BatchStatus.OPEN, "exported while on hold"  # type: ignore[union-attr]

        @precondition(lambda self: self.batch_ids)
        @rule(b=st.integers(0, 10**6))
        def pay(self, b: int) -> None:
            self._try(batches.mark_batch_paid, session, STAFF, self.batch_ids[b % len(self.batch_ids)], self._tick())

        @precondition(lambda self: self.claim_ids)
        @rule(c=st.integers(0, 10**6))
        def approve(self, c: int) -> None:
            self.decide(c, claims.Decision.APPROVE, 100)

        @rule(g=st.integers(0, 2), action=st.sampled_from(["hold", "resume", "resume", "stop", "stop_paying", "repay", "repay"]),
              percent=st.integers(1, 100))
        def manage_grant(self, g: int, action: str, percent: int) -> None:
            """Hold, resume, stop (approvals not yet paid withdrawn, or still paid) or record a repayment
            (one rule, so that they come as often as a claim)."""
            grant = self._grant(g)
            if action == "hold":
                self._try(services.hold_grant, session, STAFF, grant.id, "Vi mangler regnskab", self._tick())
            elif action == "resume":
                self._try(services.resume_grant, session, STAFF, grant.id, self._tick())
            elif action in ("stop", "stop_paying"):
                if grant.status is not GrantStatus.STOPPED:
                    self.stopped_paying[grant.id] = action == "stop_paying"
                self._try(services.stop_grant, session, STAFF, grant.id, "Brugt til andet", self._tick(),
                          pay_approved=action == "stop_paying")
            else:
                amount = max(1, (grant.paid_ore - grant.repaid_ore) * percent // 100)
                self._try(services.record_repayment, session, STAFF, grant.id, amount, NOW.date(), "", self._tick())

        # ------------------------------------------------------------------ invariants

        @invariant()
        def ledgers_add_up(self) -> None:
            for grant_id in self.grant_ids:
                grant = session.get(Grant, grant_id)
                assert grant is not None
                own = select(ExpenseClaim).where(ExpenseClaim.grant_id == grant_id)
                claimed = list(session.scalars(own))
                approved = sum(c.approved_ore or 0 for c in claimed if c.status in APPROVED_STATES)
                paid = sum(c.approved_ore or 0 for c in claimed if c.status is ClaimStatus.PAID)
                repaid = session.scalar(select(func.coalesce(func.sum(Repayment.amount_ore), 0))
                                        .where(Repayment.grant_id == grant_id))
                assert (grant.approved_ore, grant.paid_ore, grant.repaid_ore) == (approved, paid, repaid)
                assert approved <= grant.amount_ore, "Σ approved > grant"
                assert paid <= approved, "Σ paid > Σ approved"
                assert all(c.approved_ore is None or c.approved_ore <= c.amount_ore for c in claimed)
                ledger = services.ledger(session, grant_id)
                assert ledger.left_ore >= 0 and ledger.waiting_ore >= 0 and ledger.paid_ore >= 0
                assert ledger.paid_ore + ledger.waiting_ore + ledger.left_ore + ledger.returned_ore == ledger.granted_ore
                if grant.status is GrantStatus.STOPPED:
                    assert ledger.left_ore == 0
                    exported = set(session.scalars(
                        select(PayoutBatchClaim.claim_id).join(PayoutBatch, PayoutBatch.id == PayoutBatchClaim.batch_id)
                        .where(PayoutBatch.status != BatchStatus.OPEN)))
                    if self.stopped_paying.get(grant_id) is False:  # approvals not yet paid were withdrawn
                        assert all(c.id in exported for c in claimed
                                   if c.status in (ClaimStatus.APPROVED, ClaimStatus.LOWERED))

        @invariant()
        def pot_holds(self) -> None:
            granted, returned = services.pot_totals(session, round_id)
            assert granted - returned <= POT
            kept = session.scalar(select(Round.granted_net_ore).where(Round.id == round_id)
                                  .execution_options(populate_existing=True))
            assert kept == granted - returned, "the round's granted_net_ore differs from its grants"

        @invariant()
        def batches_hold_approved_claims_once(self) -> None:
            rows = session.execute(select(PayoutBatchClaim.claim_id, ExpenseClaim.status)
                                   .join(ExpenseClaim, ExpenseClaim.id == PayoutBatchClaim.claim_id)).all()
            assert len({r[0] for r in rows}) == len(rows)
            assert all(status in APPROVED_STATES for _, status in rows)

    return LedgerMachine


OTHER = STAFF.__class__(user_id=None, label="kollega@test.dk")


@pytest.fixture
def machine(session: Session, project_ids: list[int]) -> Iterator[type[RuleBasedStateMachine]]:
    """The machine class for this test's database."""
    yield machine_class(session, project_ids)
    session.rollback()


def test_the_ledger_keeps_its_invariants(machine: type[RuleBasedStateMachine]) -> None:
    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)


def test_the_machine_catches_an_approval_that_skips_the_left_check(
    machine: type[RuleBasedStateMachine], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(claims, "refuse_exceeding", lambda grant, amount: None)  # the broken rule
    broken = settings(MACHINE_SETTINGS, max_examples=300, phases=[Phase.generate], derandomize=True,
                      report_multiple_bugs=False)
    with pytest.raises((AssertionError, IntegrityError)):
        run_state_machine_as_test(machine, settings=broken)
