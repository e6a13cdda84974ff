"""Money under concurrency, over HTTP: two caseworkers signed in through the login form (CSRF on)
POST at the same instant to gunicorn -w 4, on a SQLite file and on PostgreSQL (when a server
answers). tests/grants/test_concurrency.py shows the same races on the services themselves.

Each race fires its requests at a barrier, REPETITIONS times, and no answer is ever a 5xx:

- two caseworkers approve two claims of one grant that together exceed it: one is approved, the
  other answers 409 Conflict and says how much is left;
- a caseworker double-clicks "approve": approved once, one audit event, one e-mail to the grantee;
- two caseworkers build a payout batch for one round at once: no claim is in two batches, every
  approved claim is in one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from deltager import migrate
from deltager.audit.models import AuditEvent
from deltager.db import make_engine
from deltager.grants.models import ClaimStatus, ExpenseClaim, Grant, PayoutBatchClaim
from deltager.permissions import Role
from tests.conftest import TEST_PASSWORD, csrf_token, make_user, scratch_postgres_url
from tests.fixtures.gunicorn import Gunicorn, cookie_header, cookies, serve
from tests.grants.factories import make_plain_grants, rounds_waiting_for_payout, submit

pytestmark = pytest.mark.slow

REPETITIONS = 20
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
#: The start of the refusal the caseworker who came second reads (Danish, the staff's language).
EXCEEDS = "Godkendes det, bliver bevillingen overskredet"


@dataclass(frozen=True)
class Caseworker:
    """A signed-in caseworker's browser: its Cookie header and a CSRF token of its session."""

    cookie: str
    token: str


@dataclass
class Arena:
    """gunicorn on a database prepared for the three races, and two caseworkers signed in."""

    server: Gunicorn
    caseworkers: tuple[Caseworker, Caseworker]
    exceeding: list[tuple[int, int, int]]  # (grant, claim, claim): 600 + 600 kr. of a 1.000 kr. grant
    double: list[tuple[int, int]]  # (grant, claim): 400 kr. of a 1.000 kr. grant
    batch_rounds: list[tuple[int, set[int]]]  # (round, its approved claims)
    statuses: list[int]  # every answer to a racing request, for the 5xx count

    def engine(self) -> Engine:
        """An engine on the server's database (the caller disposes of it)."""
        return make_engine(self.server.database_url)

    def outbox(self) -> int:
        """How many e-mails the server has sent (written to its instance's outbox)."""
        return len(list((self.server.instance / "outbox").glob("*.eml")))


def _prepare(url: str) -> tuple[list[str], list[tuple[int, int, int]], list[tuple[int, int]],
                                list[tuple[int, set[int]]]]:
    """Migrate; two caseworkers (their e-mails) and the grants and claims of each race."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        emails = [make_user(session, Role.CASEWORKER).email for _ in range(2)]
        _, grants = make_plain_grants(session, [1_000_00] * REPETITIONS)
        exceeding = [(g.id, submit(session, g, 600_00).claim.id, submit(session, g, 600_00).claim.id) for g in grants]
        _, grants = make_plain_grants(session, [1_000_00] * REPETITIONS)
        double = [(g.id, submit(session, g, 400_00).claim.id) for g in grants]
        session.commit()
        batch_rounds = rounds_waiting_for_payout(session, REPETITIONS)
    engine.dispose()
    return emails, exceeding, double, batch_rounds


def _get(server: Gunicorn, path: str, jar: dict[str, str]) -> str:
    conn = server.connection()
    try:
        conn.request("GET", path, headers={"Cookie": cookie_header(jar)})
        response = conn.getresponse()
        html = response.read().decode()
        assert response.status == 200, (path, response.status, html[:500])
        jar.update(cookies(response))
        return html
    finally:
        conn.close()


def _sign_in(server: Gunicorn, email: str, claim_id: int) -> Caseworker:
    """Through the login form, as a browser; then a token of the signed-in session (from a claim's page)."""
    jar: dict[str, str] = {}
    token = csrf_token(_get(server, "/login", jar))
    conn = server.connection()
    try:
        body = urlencode({"email": email, "password": TEST_PASSWORD, "next": "", "csrf_token": token})
        conn.request("POST", "/login", body=body, headers={**FORM, "Cookie": cookie_header(jar)})
        response = conn.getresponse()
        response.read()
        assert response.status == 303, f"{email} could not sign in ({response.status})"
        jar.update(cookies(response))
    finally:
        conn.close()
    token = csrf_token(_get(server, f"/staff/claims/{claim_id}", jar))
    return Caseworker(cookie_header(jar), token)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def arena(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arena]:
    """Start gunicorn -w 4 once per backend on a prepared database; sign both caseworkers in."""
    tmp = tmp_path_factory.mktemp(f"gunicorn-grants-{request.param}")
    url = (f"sqlite:///{tmp / 'grants.sqlite'}" if request.param == "sqlite"
           else scratch_postgres_url("test_grants_concurrency"))
    emails, exceeding, double, batch_rounds = _prepare(url)
    with serve(url, tmp, workers=4) as server:
        first, second = (_sign_in(server, email, double[0][1]) for email in emails)
        yield Arena(server, (first, second), exceeding, double, batch_rounds, [])


def _race(arena: Arena, *posts: tuple[Caseworker, str, dict[str, str]]) -> list[tuple[int, str]]:
    """Each POST (who, path, form) on its own connection, all sent at once; (status, page) each."""
    barrier = threading.Barrier(len(posts))
    answers: list[tuple[int, str]] = [(-1, "no answer")] * len(posts)

    def shoot(i: int, who: Caseworker, path: str, data: dict[str, str]) -> None:
        conn = arena.server.connection()
        body = urlencode({**data, "csrf_token": who.token})
        try:
            conn.connect()
            barrier.wait()
            conn.request("POST", path, body=body, headers={**FORM, "Cookie": who.cookie})
            response = conn.getresponse()
            answers[i] = (response.status, response.read().decode())
        except OSError as error:
            answers[i] = (-1, repr(error))
        finally:
            conn.close()

    threads = [threading.Thread(target=shoot, args=(i, *post)) for i, post in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    arena.statuses.extend(status for status, _ in answers)
    return answers


def _approve(who: Caseworker, claim_id: int) -> tuple[Caseworker, str, dict[str, str]]:
    return who, f"/staff/claims/{claim_id}/decision", {"decision": "approve"}


def _ledgers_hold(engine: Engine) -> None:
    """Σ approved ≤ granted on every grant, and the grant's running total is its claims' sum."""
    with Session(engine) as session:
        approved: dict[int, int] = dict(session.execute(  # type: ignore[arg-type]
            select(ExpenseClaim.grant_id, func.coalesce(func.sum(ExpenseClaim.approved_ore), 0))
            .where(ExpenseClaim.status.in_((ClaimStatus.APPROVED, ClaimStatus.LOWERED, ClaimStatus.PAID)))
            .group_by(ExpenseClaim.grant_id)).all())
        for grant in session.scalars(select(Grant)):
            assert approved.get(grant.id, 0) == grant.approved_ore <= grant.amount_ore, grant.id


def test_two_approvals_that_together_exceed_the_grant(arena: Arena) -> None:
    first, second = arena.caseworkers
    engine = arena.engine()
    try:
        for grant_id, a, b in arena.exceeding:
            answers = _race(arena, _approve(first, a), _approve(second, b))
            statuses = sorted(status for status, _ in answers)
            assert statuses == [303, 409], (grant_id, statuses)
            refused = next(page for status, page in answers if status == 409)
            assert EXCEEDS in refused and "Der er kun 400 kr. tilbage" in refused
            with Session(engine) as session:
                assert session.get(Grant, grant_id).approved_ore == 600_00  # type: ignore[union-attr]
                states = sorted(session.get(ExpenseClaim, c).status for c in (a, b))  # type: ignore[union-attr]
                assert states == sorted([ClaimStatus.APPROVED, ClaimStatus.SUBMITTED])
        _ledgers_hold(engine)
    finally:
        engine.dispose()


def test_a_double_clicked_approval_approves_once_and_mails_once(arena: Arena) -> None:
    first, _ = arena.caseworkers
    engine = arena.engine()
    try:
        for grant_id, claim_id in arena.double:
            sent = arena.outbox()
            answers = _race(arena, _approve(first, claim_id), _approve(first, claim_id))
            assert [status for status, _ in answers] == [303, 303], (claim_id, answers)
            assert arena.outbox() == sent + 1, f"claim {claim_id}: {arena.outbox() - sent} e-mails"
            with Session(engine) as session:
                assert session.get(Grant, grant_id).approved_ore == 400_00  # type: ignore[union-attr]
                decisions = session.scalar(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.action == "claim.decision", AuditEvent.object_id == str(claim_id)))
                assert decisions == 1, f"claim {claim_id}: {decisions} decisions"
        _ledgers_hold(engine)
    finally:
        engine.dispose()


def test_two_batches_built_at_once_never_share_a_claim(arena: Arena) -> None:
    engine = arena.engine()
    try:
        for round_id, ids in arena.batch_rounds:
            path = f"/staff/rounds/{round_id}/payouts"
            answers = _race(arena, *((who, path, {}) for who in arena.caseworkers))
            assert [status for status, _ in answers] == [303, 303], (round_id, answers)
            with Session(engine) as session:
                members = session.execute(select(PayoutBatchClaim.batch_id, PayoutBatchClaim.claim_id)
                                          .where(PayoutBatchClaim.claim_id.in_(ids))).all()
            in_batches = [claim_id for _, claim_id in members]
            assert sorted(in_batches) == sorted(ids), f"round {round_id}: {members}"  # each once, none left out
        _ledgers_hold(engine)
    finally:
        engine.dispose()


def test_no_racing_request_was_answered_with_a_server_error(arena: Arena) -> None:
    """Run last: every answer the races above got (each also checks its own)."""
    assert arena.statuses and [s for s in arena.statuses if s >= 500 or s < 0] == []
    assert "Traceback" not in (arena.server.instance.parent / "gunicorn.log").read_text()
