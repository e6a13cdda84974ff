"""One ballot per card, under fire: 50 simultaneous POSTs for one card against gunicorn -w 4.

The database keeps the promise, not Python: the card's conditional UPDATE … WHERE status =
'issued' and the UNIQUE ballot.card_id. Gunicorn starts once per backend (SQLite file, and
PostgreSQL when a server answers) and serves all repetitions; CSRF stays on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deltager import migrate
from deltager.db import make_engine
from deltager.voting.models import Ballot, BallotCard, CardStatus
from tests.conftest import csrf_token, scratch_postgres_url
from tests.fixtures.gunicorn import Gunicorn, cookie_header, cookies, serve
from tests.voting.factories import issue, make_vote_meeting

pytestmark = pytest.mark.slow

REPETITIONS = 20
CONCURRENCY = 50


@dataclass
class Arena:
    """A gunicorn server on a prepared database: a voting meeting with one card per repetition."""

    server: Gunicorn
    codes: list[str]
    project_ids: list[int]


def _prepare(url: str) -> tuple[list[str], list[int]]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        setup = make_vote_meeting(session, open_vote=True, min_choices=1, max_choices=3)
        codes = [c.code for c in issue(session, setup, REPETITIONS)]
        ids = setup.ids
    engine.dispose()
    return codes, ids


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def arena(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arena]:
    """Start gunicorn -w 4 once per backend on a prepared database."""
    tmp = tmp_path_factory.mktemp(f"gunicorn-{request.param}")
    url = f"sqlite:///{tmp / 'votes.sqlite'}" if request.param == "sqlite" else scratch_postgres_url("test_voting_concurrency")
    codes, ids = _prepare(url)
    with serve(url, tmp, workers=4) as server:
        yield Arena(server, codes, ids)


def _open_ballot(arena: Arena, code: str) -> tuple[str, str]:
    """Scan the card and load the ballot page: the cookie header and the CSRF token."""
    conn = arena.server.connection()
    conn.request("GET", f"/v/{code}")
    scanned = conn.getresponse()
    scanned.read()
    assert scanned.status == 303 and urlsplit(scanned.getheader("Location", "")).path == "/ballot"
    jar = cookies(scanned)
    conn.request("GET", "/ballot", headers={"Cookie": cookie_header(jar)})
    page = conn.getresponse()
    html = page.read().decode()
    assert page.status == 200, html[:500]
    jar.update(cookies(page))
    conn.close()
    return cookie_header(jar), csrf_token(html)


def _storm(arena: Arena, cookie: str, token: str, choices: list[int]) -> list[int]:
    """CONCURRENCY threads, each with its own connection, POST the same ballot at the same instant."""
    body = urlencode([("csrf_token", token), *(("choice", str(c)) for c in choices)])
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    barrier = threading.Barrier(CONCURRENCY)
    statuses: list[int] = []
    lock = threading.Lock()

    def shoot() -> None:
        conn = arena.server.connection()
        conn.connect()
        barrier.wait()
        try:
            conn.request("POST", "/ballot", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = -1
        finally:
            conn.close()
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=shoot) for _ in range(CONCURRENCY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return statuses


def test_fifty_simultaneous_posts_for_one_card_make_exactly_one_ballot(arena: Arena) -> None:
    engine = make_engine(arena.server.database_url)
    try:
        for repetition, code in enumerate(arena.codes):
            cookie, token = _open_ballot(arena, code)
            choices = arena.project_ids[repetition % 3: repetition % 3 + 2]
            statuses = _storm(arena, cookie, token, choices)
            assert len(statuses) == CONCURRENCY
            assert statuses.count(303) == 1, f"repetition {repetition}: {sorted(statuses)}"
            assert set(statuses) == {303, 409}, f"repetition {repetition}: {sorted(statuses)}"
            with Session(engine) as session:
                card = session.scalar(select(BallotCard).where(BallotCard.serial == f"{repetition + 1:04d}"))
                assert card is not None and card.status is CardStatus.USED
                ballots = session.scalar(select(func.count()).select_from(Ballot).where(Ballot.card_id == card.id))
                assert ballots == 1, f"repetition {repetition}: {ballots} ballots for one card"
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Ballot)) == REPETITIONS
    finally:
        engine.dispose()
