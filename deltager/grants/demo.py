"""Demo grants for last year's round: grants in every state (one association paid up front, one
project completed), claims in every state and kind (one a flagged duplicate, one an invoice to a
supplier), a paid payout batch and an open one, a grant on hold, a stopped grant with its
remainder and a repayment back in the pot, and a follow-up talk booked. Made through the road and
the services, as staff and grantees would; tests/grants/test_demo.py checks that every state shows."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager import road
from deltager.applications import services as applications
from deltager.applications.models import Application, ApplicationStatus
from deltager.audit.services import Actor
from deltager.citizens.services import applicant_actor
from deltager.grants import batches, claims, services
from deltager.grants.claims import ClaimInput, Decision, FileInput
from deltager.grants.models import ClaimKind, ConditionsChannel, Grant, PayoutMode
from deltager.rounds.models import Round, RoundStatus

CASEWORKER = Actor(user_id=None, label="sagsbehandler@demo.deltager.dk (demo)")
ROUND = "Fællesskab for alle 2025"


def _receipt(text: str) -> FileInput:
    """A photographed till receipt (a JPEG), unique by its text."""
    image = Image.new("RGB", (360, 480), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(["KVITTERING", text, "MOMS 25%", "TAK FOR BESØGET"]):
        draw.text((30, 40 + 60 * n), line, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return FileInput(f"{text[:20]}.jpg", "image/jpeg", out.getvalue())


def _applicant(session: Session, grant: Grant) -> Actor:
    return applicant_actor(applications.get_application(session, grant.application_id).applicant)


def _claim(session: Session, grant: Grant, amount_kr: int, what: str, now: dt.datetime, *,
           file: FileInput | None = None, supplier: str = "Netto", days_ago: int = 0) -> int:
    data = ClaimInput(budget_line_id=grant.budget_lines[0].id, amount_ore=amount_kr * 100,
                      spent_on=(now - dt.timedelta(days=days_ago)).date(), description=what,
                      kind=ClaimKind.REIMBURSE, supplier_name=supplier)
    sent = claims.submit_claim(session, _applicant(session, grant), grant.id, data, [file or _receipt(what)], now)
    return sent.claim.id


def _same_citizen(session: Session, grant: Grant) -> None:
    """The citizen with this year's first draft also won a grant last year (the one whose receipt
    waits for their answer): signed in once, they see both."""
    draft = session.scalar(select(Application).where(Application.status == ApplicationStatus.DRAFT)
                           .order_by(Application.id).limit(1))
    if draft is not None:
        applications.get_application(session, grant.application_id).applicant_id = draft.applicant_id
        session.flush()


def load_grants_demo(session: Session, now: dt.datetime) -> None:
    """Grants for last year's round, if its result is frozen and no grants are made yet."""
    round_ = session.scalar(select(Round).where(Round.title == ROUND))
    if round_ is None or round_.status is not RoundStatus.ALLOCATED:
        return
    grants = road.make_grants(session, round_.id, CASEWORKER, now)
    for grant in grants:
        if grant.child_certificate_missing:
            services.set_child_certificate(session, CASEWORKER, grant.id, required=True,
                                           received_on=now.date(), now=now)
    for grant in grants[:-1]:  # the last one has not accepted its conditions yet
        services.accept_conditions(session, CASEWORKER, grant.id, ConditionsChannel.ONLINE, now)
    _money_road(session, grants, now)


def _money_road(session: Session, grants: list[Grant], now: dt.datetime) -> None:
    first, second, third, fourth, upfront, done = grants[:6]
    paid = _claim(session, first, 1200, "Leje af grill og bænke", now)
    claims.decide_claim(session, CASEWORKER, paid, Decision.APPROVE, now)
    # An association paid up front (it sends a final account later).
    services.set_payout_mode(session, CASEWORKER, upfront.id, PayoutMode.UPFRONT, now)
    claims.request_upfront_payout(session, CASEWORKER, upfront.id, now)
    # A project that spent its money before the stop below, and paid some of it back.
    bought = _claim(session, fourth, 400, "Frø og plantesække", now, days_ago=20)
    claims.decide_claim(session, CASEWORKER, bought, Decision.APPROVE, now)
    # A project done: its last receipt paid, then completed (the remainder goes back to the pot).
    last = _claim(session, done, 1800, "Værktøj og reservedele", now, supplier="Harald Nyborg", days_ago=30)
    claims.decide_claim(session, CASEWORKER, last, Decision.APPROVE, now)
    paid_batch = batches.create_batch(session, CASEWORKER, first.round_id, now)
    batches.export_batch(session, CASEWORKER, paid_batch.id, now)
    batches.mark_batch_paid(session, CASEWORKER, paid_batch.id, now)
    services.complete_grant(session, CASEWORKER, done.id, now)
    services.record_repayment(session, CASEWORKER, fourth.id, 150_00, now.date(),
                              "Ubrugte plantesække returneret til butikken.", now)
    lowered = _claim(session, first, 800, "Kaffe, kage og saft til 40 personer", now)
    claims.decide_claim(session, CASEWORKER, lowered, Decision.LOWER, now, approved_ore=650_00,
                        reason="Saft til børnene er ikke en del af budgettet.")
    batches.create_batch(session, CASEWORKER, first.round_id, now)  # left open
    twice = _receipt("Bauhaus maling 2 spande")
    _claim(session, second, 450, "Maling til fællesrummet", now, file=twice, supplier="Bauhaus")
    _claim(session, second, 450, "Maling til fællesrummet", now, file=twice, supplier="Bauhaus")  # the duplicate
    invoice = ClaimInput(budget_line_id=second.budget_lines[0].id, amount_ore=1500_00, spent_on=now.date(),
                         description="Trykning af 200 plakater", kind=ClaimKind.INVOICE,
                         supplier_name="Tryk & Co ApS", supplier_cvr="12345678",
                         supplier_address="Industrivej 12, 8260 Viby J")
    claims.submit_claim(session, _applicant(session, second), second.id, invoice,
                        [_receipt("Faktura 2291 Tryk & Co")], now)
    asked = _claim(session, second, 300, "Diverse", now)
    claims.decide_claim(session, CASEWORKER, asked, Decision.ASK_INFO, now,
                        reason="Skriv, hvad I har købt, og send et billede af bonen, hvor vi kan læse beløbet.")
    rejected = _claim(session, second, 250, "Biografbilletter", now)
    claims.decide_claim(session, CASEWORKER, rejected, Decision.REJECT, now,
                        reason="Biografbilletter står ikke i projektets budget.")
    services.hold_grant(session, CASEWORKER, third.id, "Vi mangler svar på to spørgsmål om budgettet.", now)
    spent = _claim(session, fourth, 500, "Materialer til første workshop", now)
    claims.decide_claim(session, CASEWORKER, spent, Decision.APPROVE, now)
    services.stop_grant(session, CASEWORKER, fourth.id, "Projektet blev aflyst: der kom ingen deltagere.", now,
                        pay_approved=True)  # the materials were bought in good faith
    _same_citizen(session, second)
    services.set_follow_up_needed(session, CASEWORKER, second.id, True, now)
    services.book_follow_up(session, CASEWORKER, second.id, now + dt.timedelta(days=7, hours=2),
                            "Rådhuset, mødelokale 2", now)
