"""Test data for grants: a round whose vote has closed with a frozen result, turned into grants
through the road; claims with receipt files."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from deltager import road
from deltager.applications.models import Applicant, ApplicantType, Application, ApplicationStatus, BudgetLine
from deltager.audit.services import Actor
from deltager.grants import claims, services
from deltager.grants.models import ConditionsChannel, ExpenseClaim, Grant, PayeeType
from deltager.rounds.models import Round
from tests.rounds.factories import make_round
from tests.voting.factories import NOW, cast_ballots, make_vote_meeting

STAFF = Actor(user_id=None, label="sagsbehandler@test.dk")
OTHER_STAFF = Actor(user_id=None, label="kollega@test.dk")
GRANTEE = Actor(user_id=None, label="applicant:1 grantee@test.dk")
#: The time grants are made in these tests: the day after the vote.
LATER = NOW + dt.timedelta(days=1)


@dataclass
class GrantSetup:
    """A round in "running" with its grants (in the result's order) and the unfunded projects."""

    round: Round
    grants: list[Grant]
    unfunded: list[int]


def make_granted_round(session: Session, *, association: bool = True, budget_lines: bool = True,
                       accept: bool = True, **round_overrides: Any) -> GrantSetup:
    """Six projects (pot 50.000 kr.); every ballot ticks all of them, so the cheapest four win
    (4.000, 9.500, 12.000 and 18.500 kr.) and 22.000 and 25.000 kr. are not funded. The cheapest
    is an association's; the first has two budget lines. Conditions accepted unless ``accept`` is
    False."""
    setup = make_vote_meeting(session, open_vote=True, min_choices=1, max_choices=6, **round_overrides)
    by_cost = sorted(setup.projects, key=lambda p: p.requested_ore)
    if association:
        by_cost[0].applicant_type = ApplicantType.ASSOCIATION
        by_cost[0].association_name = "Strikkeforeningen"
        by_cost[0].cvr = "12345678"
        by_cost[0].contact_address = "Foreningsvej 1, 8000 Aarhus C"
    if budget_lines:
        half = by_cost[1].requested_ore // 2
        by_cost[1].budget_lines = [BudgetLine(position=1, description="Værktøj", amount_ore=half),
                                   BudgetLine(position=2, description="Kaffe og kage",
                                              amount_ore=by_cost[1].requested_ore - half)]
    session.flush()
    cast_ballots(session, setup, [setup.ids] * 3)
    road.close_vote(session, STAFF, setup.meeting.id, NOW)
    made = road.make_grants(session, setup.round.id, STAFF, LATER)
    if accept:
        for grant in made:
            services.accept_conditions(session, GRANTEE, grant.id, ConditionsChannel.ONLINE, LATER)
    session.commit()
    funded = {g.application_id for g in made}
    return GrantSetup(setup.round, made, [p.id for p in by_cost if p.id not in funded])


def receipt(text: str | None = None) -> claims.FileInput:
    """A receipt file (unique content unless ``text`` is given)."""
    content = (text or os.urandom(8).hex()).encode()
    return claims.FileInput("kvittering.pdf", "application/pdf", b"%PDF-1.4 " + content)


def claim_input(grant: Grant, amount_ore: int, **overrides: Any) -> claims.ClaimInput:
    """A claim on the grant's first budget line, dated the day the grant was made."""
    values: dict[str, Any] = {
        "budget_line_id": grant.budget_lines[0].id, "amount_ore": amount_ore, "spent_on": LATER.date(),
        "description": "Kaffe og kage til første møde", "supplier_name": "Brugsen",
    }
    values.update(overrides)
    return claims.ClaimInput(**values)


def submit(session: Session, grant: Grant, amount_ore: int, *, at: dt.datetime | None = None,
           files: list[claims.FileInput] | None = None, **overrides: Any) -> claims.SubmittedClaim:
    """Submit a claim as the grantee (not committed)."""
    return claims.submit_claim(session, GRANTEE, grant.id, claim_input(grant, amount_ore, **overrides),
                               files or [receipt()], at or LATER + dt.timedelta(hours=1))


def asked_claim(session: Session, grant: Grant) -> ExpenseClaim:
    """A 100 kr. claim on which the caseworker asked for more information (committed)."""
    claim = submit(session, grant, 10_000).claim
    claims.decide_claim(session, STAFF, claim.id, claims.Decision.ASK_INFO, LATER + dt.timedelta(hours=2),
                        reason="Send kvitteringen fra Netto")
    session.commit()
    return claim


def sha(text: str) -> str:
    """The SHA-256 a receipt made by :func:`receipt` with this text gets."""
    return hashlib.sha256(b"%PDF-1.4 " + text.encode()).hexdigest()


def make_plain_grants(session: Session, amounts: list[int], *, now: dt.datetime = LATER,
                      payee_type: PayeeType = PayeeType.PRIVATE) -> tuple[Round, list[Grant]]:
    """A round with one grant per amount (no vote: the grants domain alone), conditions accepted,
    committed. Fast, for tests that need many grants."""
    round_ = make_round(session, pot_ore=max(sum(amounts), 25_000_00))
    applicant = Applicant(email=f"bevilling-{os.urandom(4).hex()}@test.dk", name="Bevillingsmodtager")
    session.add(applicant)
    session.flush()
    apps = [Application(round_id=round_.id, applicant_id=applicant.id, status=ApplicationStatus.ON_BALLOT,
                        title=f"Projekt {n}", requested_ore=amount) for n, amount in enumerate(amounts, start=1)]
    session.add_all(apps)
    session.flush()
    winners = [services.Winner(application_id=a.id, title=a.title, amount_ore=a.requested_ore, rank=n,
                               payee_type=payee_type, payee_name="Mette Hansen", payee_address="Gade 1, 8000 Aarhus C",
                               payee_cvr="87654321" if payee_type is PayeeType.ASSOCIATION else "")
               for n, a in enumerate(apps, start=1)]
    made = services.make_grants(session, STAFF, round_.id, round_.pot_ore, winners, now)
    for grant in made:
        services.accept_conditions(session, GRANTEE, grant.id, ConditionsChannel.ONLINE, now)
    session.commit()
    return round_, made


def rounds_waiting_for_payout(session: Session, count: int) -> list[tuple[int, set[int]]]:
    """``count`` rounds, each with two grants of 1.000 kr. and three approved claims on each
    (100, 200 and 300 kr.), committed: (round id, its claim ids) each, for payout batch races."""
    made = []
    for _ in range(count):
        round_, grants = make_plain_grants(session, [1_000_00, 1_000_00])
        ids = [submit(session, g, 100_00 * (n + 1)).claim.id for g in grants for n in range(3)]
        for claim_id in ids:
            claims.decide_claim(session, STAFF, claim_id, claims.Decision.APPROVE, LATER)
        session.commit()
        made.append((round_.id, set(ids)))
    return made
