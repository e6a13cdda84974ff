"""Issuing a batch of cards on the cards page: the file is made with no transaction open.

A PDF of thousands of cards takes seconds. These tests run the app on a database of its own
(``file_app``: not the suite's shared outer transaction), so that commits and locks are real: a
phone votes while the file of a batch is being made, and another batch takes the planned serials
in the meantime. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from deltager.db import get_db
from deltager.permissions import Role
from deltager.voting import services, views
from deltager.voting.models import Ballot, BallotCard, VoteSettings
from tests.conftest import Auth
from tests.conftest import another_writer_can_lock
from tests.voting.factories import TEST_ACTOR, NOW, VoteSetup, issue, make_vote_meeting


@pytest.fixture
def setup(file_app: Flask) -> VoteSetup:
    with get_db(file_app).session() as session:
        return make_vote_meeting(session, open_vote=True, min_choices=1, max_choices=2)


def _caseworker(app: Flask) -> FlaskClient:
    client = app.test_client()
    Auth(app, client).login(Role.CASEWORKER)
    return client


def _while_the_file_is_made(monkeypatch: pytest.MonkeyPatch, action: Callable[[int], None]) -> list[int]:
    """Run ``action(attempt)`` each time the cards page makes a batch's file; the attempts seen."""
    attempts: list[int] = []
    real = views._cards_file

    def making(*args: Any, **kwargs: Any) -> Any:
        attempts.append(len(attempts) + 1)
        action(attempts[-1])
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "_cards_file", making)
    return attempts


def _rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_a_phone_can_vote_while_a_batch_file_is_made(
    file_app: Flask, setup: VoteSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    with get_db(file_app).session() as session:
        code = issue(session, setup, 1)[0].code
    answers: list[int] = []
    free: list[bool] = []

    def vote(_attempt: int) -> None:
        free.append(another_writer_can_lock(file_app, "vote_settings", "meeting_id", setup.meeting.id))
        # In its own thread, as another gunicorn worker would be: waits for the lock, if any.
        def phone() -> None:
            voter = file_app.test_client()
            voter.get(f"/v/{code}")
            answers.append(voter.post("/ballot", data={"choice": [setup.ids[0]]}).status_code)

        thread = threading.Thread(target=phone)
        thread.start()
        thread.join(timeout=10)

    _while_the_file_is_made(monkeypatch, vote)
    response = _caseworker(file_app).post(f"/staff/voting/{setup.meeting.id}/cards",
                                          data={"count": "20", "format": "pdf"})

    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert free == [True], "nothing a ballot needs is locked while the cards' file is made"
    assert answers == [303], "the ballot was cast while the cards' file was being made"
    with get_db(file_app).session() as session:
        assert session.scalar(select(func.count()).select_from(Ballot)) == 1
        assert session.scalar(select(func.count()).select_from(BallotCard)) == 21


def test_a_batch_that_lost_its_serials_is_planned_again(
    file_app: Flask, setup: VoteSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    def another_batch(attempt: int) -> None:
        if attempt == 1:  # staff at the door issue 3 cards at the same moment
            with get_db(file_app).session() as session:
                issue(session, setup, 3)

    attempts = _while_the_file_is_made(monkeypatch, another_batch)
    response = _caseworker(file_app).post(f"/staff/voting/{setup.meeting.id}/cards",
                                          data={"count": "4", "format": "csv"})

    assert response.status_code == 200 and attempts == [1, 2]
    rows = _rows(response)
    assert [r["serial"] for r in rows] == ["0004", "0005", "0006", "0007"]
    with get_db(file_app).session() as session:
        stored = dict(session.execute(select(BallotCard.serial, BallotCard.code_hash)).all())
    assert sorted(stored) == [f"{n:04d}" for n in range(1, 8)]
    for row in rows:  # the downloaded codes are the stored ones: every printed card works
        assert stored[row["serial"]] == services.hash_code(row["url"].rsplit("/", 1)[1])


def test_when_other_batches_keep_taking_the_serials_nothing_is_stored(
    file_app: Flask, setup: VoteSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    def another_batch(_attempt: int) -> None:
        with get_db(file_app).session() as session:
            issue(session, setup, 1)

    attempts = _while_the_file_is_made(monkeypatch, another_batch)
    response = _caseworker(file_app).post(f"/staff/voting/{setup.meeting.id}/cards",
                                          data={"count": "5", "format": "csv"})

    assert response.status_code == 409 and attempts == [1, 2, 3]
    assert "Der blev udstedt andre kort samtidig. Prøv igen." in response.get_data(as_text=True)
    assert 'value="5"' in response.get_data(as_text=True)  # the form keeps what was typed
    with get_db(file_app).session() as session:
        assert session.scalar(select(func.count()).select_from(BallotCard)) == 3  # the three others only


def test_stored_cards_must_follow_on_from_the_last_serial(file_app: Flask, setup: VoteSetup) -> None:
    with get_db(file_app).session() as session:
        planned = services.plan_cards(session, setup.meeting.id, 2)
        session.rollback()
        issue(session, setup, 1)
        with pytest.raises(services.SerialsTaken):
            services.store_cards(session, TEST_ACTOR, setup.meeting.id, planned, NOW)
        session.rollback()
        assert session.scalar(select(func.count()).select_from(BallotCard)) == 1


def test_the_first_batch_of_a_meeting_without_settings_yet(file_app: Flask, setup: VoteSetup) -> None:
    with get_db(file_app).session() as session:
        session.delete(session.get(VoteSettings, setup.meeting.id))
        session.commit()
        made: list[list[str]] = []
        cards, _ = services.issue_cards_with_file(
            session, TEST_ACTOR, setup.meeting.id, 2, lambda planned: made.append([c.serial for c in planned]),
            lambda: NOW)
        assert [c.serial for c in cards] == ["0001", "0002"] and made == [["0001", "0002"]]
        settings = session.get(VoteSettings, setup.meeting.id)
        assert settings is not None and settings.cards_issued == 2
