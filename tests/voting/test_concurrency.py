"""One ballot per card, under fire: 50 simultaneous POSTs for one card against gunicorn -w 4.

The database keeps the promise, not Python: the card's conditional UPDATE … WHERE status =
'issued' and the UNIQUE ballot.card_id. Gunicorn starts once per backend (SQLite file, and
PostgreSQL when a server answers) and serves all repetitions; CSRF stays on.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deltager import migrate
from deltager.db import make_engine
from deltager.voting.models import Ballot, BallotCard, CardStatus
from tests.conftest import ROOT, csrf_token, scratch_postgres_url
from tests.voting.factories import issue, make_vote_meeting

pytestmark = pytest.mark.slow

REPETITIONS = 20
CONCURRENCY = 50


@dataclass
class Arena:
    """A gunicorn server on a prepared database: a voting meeting with one card per repetition."""

    host: str
    port: int
    url: str
    codes: list[str]
    project_ids: list[int]

    def connection(self) -> http.client.HTTPConnection:
        """A new keep-alive connection to the server."""
        return http.client.HTTPConnection(self.host, self.port, timeout=60)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str) -> tuple[list[str], list[int]]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        setup = make_vote_meeting(session, open_vote=True, min_choices=1, max_choices=3)
        codes = [c.code for c in issue(session, setup, REPETITIONS)]
        ids = setup.ids
    engine.dispose()
    return codes, ids


def _wait_until_up(host: str, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        conn = http.client.HTTPConnection(host, port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    raise RuntimeError(f"gunicorn did not answer in time: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def arena(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arena]:
    """Start gunicorn -w 4 once per backend on a prepared database."""
    tmp = tmp_path_factory.mktemp(f"gunicorn-{request.param}")
    url = f"sqlite:///{tmp / 'votes.sqlite'}" if request.param == "sqlite" else scratch_postgres_url("test_voting_concurrency")
    codes, ids = _prepare(url)
    port = _free_port()
    config = tmp / "gunicorn_test.py"
    config.write_text(
        f'bind = "127.0.0.1:{port}"\nworkers = 4\nworker_class = "sync"\ntimeout = 60\nbacklog = 512\n'
        f'accesslog = None\nerrorlog = "{tmp / "gunicorn.log"}"\n'
    )
    instance = tmp / "instance"
    instance.mkdir()
    env = {
        **os.environ,
        "DELTAGER_INSTANCE_PATH": str(instance),
        "DELTAGER_DATABASE_URL": url,
        "DELTAGER_SECRET_KEY": "concurrency-test-secret-key",
        "DELTAGER_BASE_URL": f"http://127.0.0.1:{port}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(config), "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up("127.0.0.1", port, proc, tmp / "gunicorn.log")
        yield Arena("127.0.0.1", port, url, codes, ids)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    jar = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return jar


def _open_ballot(arena: Arena, code: str) -> tuple[str, str]:
    """Scan the card and load the ballot page: the cookie header and the CSRF token."""
    conn = arena.connection()
    conn.request("GET", f"/v/{code}")
    scanned = conn.getresponse()
    scanned.read()
    assert scanned.status == 303 and urlsplit(scanned.getheader("Location", "")).path == "/ballot"
    jar = _cookies(scanned)
    conn.request("GET", "/ballot", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    page = conn.getresponse()
    html = page.read().decode()
    assert page.status == 200, html[:500]
    jar.update(_cookies(page))
    conn.close()
    return "; ".join(f"{k}={v}" for k, v in jar.items()), csrf_token(html)


def _storm(arena: Arena, cookie: str, token: str, choices: list[int]) -> list[int]:
    """CONCURRENCY threads, each with its own connection, POST the same ballot at the same instant."""
    body = urlencode([("csrf_token", token), *(("choice", str(c)) for c in choices)])
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    barrier = threading.Barrier(CONCURRENCY)
    statuses: list[int] = []
    lock = threading.Lock()

    def shoot() -> None:
        conn = arena.connection()
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
    engine = make_engine(arena.url)
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
