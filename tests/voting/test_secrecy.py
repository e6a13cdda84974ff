"""Closing the vote makes the storage forget the cast order (deltager.voting.secrecy).

240 ballots are cast, each in its own committed transaction, in a known shuffled order of the
cards. Before the close, the storage gives that order away (PostgreSQL's xmin and ctid, SQLite's
write-ahead log): the test shows it, so the measure is known to work. After the close, the
same measures find nothing: their Spearman rank correlation with the cast order is below a
bound that a random permutation of 240 stays under with overwhelming probability (its standard
deviation is 1/√239 ≈ 0.065; the bound is more than five of them), and SQLite's log is empty.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from deltager import road
from deltager.audit.models import AuditEvent
from deltager.audit.services import Actor
from deltager.db import begin_write, get_db
from deltager.models import metadata
from deltager.voting import queries, secrecy, services
from deltager.voting.models import BallotCard, BallotChannel, CardStatus
from tests.voting.factories import NOW, TEST_ACTOR, issue, make_vote_meeting

N = 240
BOUND = 0.35  # |Spearman| of a random permutation of 240: sd 0.065, so > 5 sd
REWRITTEN = ("ballot_card", "ballot", "ballot_choice")


def spearman(ranked: list[int], cast_rank: dict[int, int]) -> float:
    """Spearman's rank correlation between the order of ``ranked`` (card ids) and the cast order."""
    assert len(ranked) == len(set(ranked)) >= 50, "too few cards found to say anything"
    by_cast = sorted(ranked, key=cast_rank.__getitem__)
    cast_position = {card: i for i, card in enumerate(by_cast)}
    n = len(ranked)
    d2 = sum((i - cast_position[card]) ** 2 for i, card in enumerate(ranked))
    return 1 - 6 * d2 / (n * (n * n - 1))


def _first_seen(cards: list[int]) -> list[int]:
    seen: dict[int, None] = {}
    for card in cards:
        seen.setdefault(card, None)
    return list(seen)


def postgres_orders(conn: Connection) -> dict[str, list[int]]:
    """The cards in the order PostgreSQL's physical columns give them."""
    def ids(sql: str) -> list[int]:
        return _first_seen([row[0] for row in conn.execute(text(sql))])
    return {
        "ballot by ctid": ids("SELECT card_id FROM ballot ORDER BY ctid"),
        "ballot by xmin": ids("SELECT card_id FROM ballot ORDER BY xmin::text::bigint, ctid"),
        "choices by ctid": ids("SELECT card_id FROM ballot_choice ORDER BY ctid"),
        "choices by xmin": ids("SELECT card_id FROM ballot_choice ORDER BY xmin::text::bigint, ctid"),
        "used cards by ctid": ids("SELECT id FROM ballot_card WHERE status = 'used' ORDER BY ctid"),
        "used cards by xmin": ids("SELECT id FROM ballot_card WHERE status = 'used' ORDER BY xmin::text::bigint, ctid"),
    }


def distinct_xmins(conn: Connection, table: str) -> int:
    """How many transactions wrote the table's live rows."""
    return int(conn.execute(text(f"SELECT count(DISTINCT xmin::text) FROM {table}")).scalar_one())


def wal_order(wal: Path, hashes: dict[bytes, int]) -> list[int]:
    """The cards in the order their "used" row first appears in SQLite's write-ahead log, as someone
    who copied the -wal file while the app ran would read it: frame by frame, the frames of an
    earlier generation of the log (another salt, left behind a checkpoint) before the current ones."""
    data = wal.read_bytes() if wal.exists() else b""
    if len(data) < 32:
        return []
    page_size = int.from_bytes(data[8:12], "big")
    salt = data[16:24]
    pattern = re.compile(rb"(" + b"|".join(re.escape(h) for h in hashes) + rb").{0,12}?used", re.DOTALL)
    frames = []
    for index, start in enumerate(range(32, len(data) - 24 - page_size + 1, 24 + page_size)):
        frame_salt = data[start + 8:start + 16]
        page = data[start + 24:start + 24 + page_size]
        frames.append(((frame_salt == salt, index), [hashes[m.group(1)] for m in pattern.finditer(page)]))
    return _first_seen([card for _key, cards in sorted(frames) for card in cards])


def sqlite_file_order(path: Path, hashes: dict[bytes, int]) -> list[int]:
    """The cards in the order their "used" row lies in the database file itself."""
    data = path.read_bytes()
    pattern = re.compile(rb"(" + b"|".join(re.escape(h) for h in hashes) + rb").{0,12}?used", re.DOTALL)
    return _first_seen([hashes[m.group(1)] for m in pattern.finditer(data)])


def schema(engine: Engine) -> dict[str, Any]:
    """Everything the inspector says about the rewritten tables (and, on SQLite, their rowids)."""
    inspector = inspect(engine)
    found: dict[str, Any] = {}
    for table in REWRITTEN:
        found[table] = {
            # By name: on PostgreSQL, 0007 added ballot_choice.card_id last; the rewrite puts it first, as the model does.
            "columns": sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)),
            "pk": inspector.get_pk_constraint(table),
            "fks": sorted(inspector.get_foreign_keys(table), key=lambda fk: fk["name"] or ""),
            "indexes": sorted(inspector.get_indexes(table), key=lambda ix: ix["name"] or ""),
            "unique": sorted(inspector.get_unique_constraints(table), key=lambda uq: uq["name"] or ""),
            "checks": sorted(inspector.get_check_constraints(table), key=lambda ck: ck["name"] or ""),
        }
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                sql = conn.scalar(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table})
            found[table]["without rowid"] = "WITHOUT ROWID" in sql.upper()
    return found


def _cast_in_order(app: Flask, n: int = N) -> tuple[Any, dict[int, int], dict[bytes, int], list[frozenset[int]]]:
    db = get_db(app)
    with db.session() as session:
        setup = make_vote_meeting(session, open_vote=True, min_choices=1, max_choices=3)
        issue(session, setup, n)
        cards = session.execute(
            select(BallotCard.id, BallotCard.code_hash).where(BallotCard.meeting_id == setup.meeting.id)
        ).all()
    hashes = {code_hash.encode(): card_id for card_id, code_hash in cards}
    order = [card_id for card_id, _ in cards]
    random.Random(20261204).shuffle(order)
    for rank, card_id in enumerate(order):
        with db.session() as session:
            begin_write(session)
            chosen = [setup.ids[rank % len(setup.ids)], setup.ids[(rank * 7 + 1) % len(setup.ids)]]
            services.cast_ballot(session, card_id, sorted(set(chosen)), BallotChannel.PHONE)
            session.commit()
    with db.session() as session:
        ballots = services.ballots_of(session, setup.meeting.id)
    return setup, {card_id: rank for rank, card_id in enumerate(order)}, hashes, ballots


def _close(app: Flask, meeting_id: int) -> None:
    with get_db(app).session() as session:
        begin_write(session)
        road.close_vote(session, TEST_ACTOR, meeting_id, NOW)
        session.commit()
        assert secrecy.compact(session) is (session.get_bind().dialect.name == "sqlite")


def test_closing_the_vote_leaves_no_trace_of_the_cast_order(file_app: Flask) -> None:
    engine = get_db(file_app).engine
    sqlite = engine.dialect.name == "sqlite"
    setup, cast_rank, hashes, ballots = _cast_in_order(file_app)
    path = Path(engine.url.database or "")
    wal = path.with_name(path.name + "-wal")
    # While the vote is open, the storage keeps the order: the measures work.
    if sqlite:
        assert spearman(wal_order(wal, hashes), cast_rank) > 0.95
    else:
        with engine.connect() as conn:
            assert distinct_xmins(conn, "ballot") == N
            orders = postgres_orders(conn)
        assert spearman(orders["ballot by xmin"], cast_rank) == 1.0
        assert spearman(orders["used cards by xmin"], cast_rank) == 1.0
    before = schema(engine)

    _close(file_app, setup.meeting.id)

    if sqlite:
        recovered = wal_order(wal, hashes)
        assert recovered == [], f"the log gives the cast order away (Spearman {spearman(recovered, cast_rank):.2f})"
        assert not wal.exists() or wal.stat().st_size == 0, "the write-ahead log is truncated"
        file_order = sqlite_file_order(path, hashes)
        assert sorted(file_order) == sorted(cast_rank)  # every used card is found in the file ...
        assert abs(spearman(file_order, cast_rank)) < BOUND  # ... in no order related to the vote
        with engine.connect() as conn:
            by_rowid = list(conn.scalars(text("SELECT card_id FROM ballot ORDER BY rowid")))
        assert abs(spearman(by_rowid, cast_rank)) < BOUND
    else:
        with engine.connect() as conn:
            for table in REWRITTEN:
                assert distinct_xmins(conn, table) == 1, f"{table}: written by one transaction"
            orders = postgres_orders(conn)
        for name, ranked in orders.items():
            assert abs(spearman(ranked, cast_rank)) < BOUND, name
    # Nothing else changed: the ballots, the count, the schema.
    assert schema(engine) == before
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata) == []
    with get_db(file_app).session() as session:
        assert services.ballots_of(session, setup.meeting.id) == ballots
        allocation = services.get_allocation(session, setup.meeting.id)
        assert allocation is not None and services.recompute(session, allocation) == allocation.inputs_hash
        assert session.scalar(select(BallotCard.status).where(BallotCard.id == next(iter(cast_rank)))) is CardStatus.USED
        # Cards of another meeting can still be issued (PostgreSQL's id sequence follows the rewrite).
        other = make_vote_meeting(session, open_vote=True)
        assert len(issue(session, other, 3)) == 3


def test_a_ballot_being_cast_at_another_meeting_survives_the_rewrite(file_app: Flask) -> None:
    """Two meetings vote at once; one closes while a ballot of the other is half cast. The close
    waits for that ballot (PostgreSQL: the three tables are locked in a ballot's own order, so
    neither deadlocks), and the rewrite keeps it."""
    db = get_db(file_app)
    with db.session() as session:
        closing, other = make_vote_meeting(session, open_vote=True), make_vote_meeting(session, open_vote=True)
        for card in issue(session, closing, 2):
            services.cast_ballot(session, services.find_card(session, card.code).id, closing.ids[:1],  # type: ignore[union-attr]
                                 BallotChannel.PHONE)
        session.commit()
        other_card = services.find_card(session, issue(session, other, 1)[0].code).id  # type: ignore[union-attr]
    # Half a ballot: the card is marked used (its row locked); the ballot and choices come later.
    caster = db.session()
    begin_write(caster)
    half = services._core(caster)
    half.execute(queries.MARK_CARD_USED, {"card_id": other_card})
    errors: list[BaseException] = []

    def close() -> None:
        try:
            _close(file_app, closing.meeting.id)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    thread = threading.Thread(target=close)
    thread.start()
    time.sleep(0.2)
    assert thread.is_alive(), "the close waits for the ballot being cast"
    half.execute(queries.INSERT_BALLOT, {"card_id": other_card, "channel": BallotChannel.PHONE})
    half.execute(queries.INSERT_CHOICE, [{"card_id": other_card, "application_id": i} for i in other.ids[1:3]])
    caster.commit()
    caster.close()
    thread.join(timeout=30)
    assert not thread.is_alive() and errors == []
    with db.session() as session:
        assert services.ballots_of(session, other.meeting.id) == [frozenset(other.ids[1:3])]
        assert services.ballots_of(session, closing.meeting.id) == [frozenset(closing.ids[:1])] * 2
        assert services.get_allocation(session, closing.meeting.id) is not None


def test_compact_is_safe_with_a_reader_holding_the_log(file_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    """Other connections may be open when the vote closes. VACUUM runs beside a reader (WAL); the
    log cannot be truncated under a reader that keeps an old snapshot, so compact waits its busy
    timeout, says so in the log and returns False, and the next call truncates it."""
    engine = get_db(file_app).engine
    if engine.dialect.name != "sqlite":
        pytest.skip("VACUUM and the write-ahead log are SQLite's")
    setup, _cast_rank, _hashes, ballots = _cast_in_order(file_app, 60)
    path = Path(engine.url.database or "")
    wal = path.with_name(path.name + "-wal")
    with engine.connect() as reader:  # a read transaction left open, e.g. a slow request
        reader.execute(text("SELECT count(*) FROM ballot")).scalar_one()
        with get_db(file_app).session() as session:
            begin_write(session)
            road.close_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
            session.commit()
            assert secrecy.compact(session) is False
        assert "kept the write-ahead log from being truncated" in caplog.text
        assert reader.execute(text("SELECT count(*) FROM ballot")).scalar_one() == 60
    with get_db(file_app).session() as session:
        assert secrecy.compact(session) is True
        assert services.ballots_of(session, setup.meeting.id) == ballots
    assert wal.stat().st_size == 0


def test_compact_cannot_run_inside_someone_elses_transaction(session: Session) -> None:
    """The suite's sessions are bound to a connection whose transaction the test holds: VACUUM
    could not run there, so compact says it did nothing (the close itself is unaffected)."""
    assert secrecy.compact(session) is False


def _events_text(session: Session) -> list[str]:
    return [json.dumps([e.object_id, e.before, e.after]) for e in session.scalars(select(AuditEvent))]


def test_paper_ballots_leave_no_card_in_the_audit_trail(session: Session) -> None:
    """13 of 13 paper ballots were joined to their choices through their events: now an event says
    that a paper ballot was entered, by whom and when, and nothing about which card."""
    setup = make_vote_meeting(session, open_vote=True, min_choices=1, max_choices=2)
    cards = issue(session, setup, 13)
    staff = Actor.system("Bodil ved papirbordet")
    for n, card in enumerate(cards):
        services.enter_paper_ballot(session, staff, setup.meeting.id, card.serial, [setup.ids[n % 6]], NOW)
    session.commit()
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "voting.paper_ballot")))
    assert len(events) == 13 and {e.actor_label for e in events} == {staff.label}
    assert all(e.after == {"count": 1} and e.before is None for e in events)
    card_ids = {str(i) for i in session.scalars(select(BallotCard.id).where(BallotCard.meeting_id == setup.meeting.id))}
    for text_ in _events_text(session):
        if '"serials"' in text_:  # the batch's own event: "0001–0013"
            continue
        assert not any(card.serial in text_ for card in cards), text_
    assert all(e.object_id not in card_ids or e.object_id == str(setup.meeting.id) for e in events)
    assert services.reconciliation(session, setup.meeting.id).used_paper == 13


def test_a_replacement_card_is_not_tied_to_the_card_it_replaces(session: Session) -> None:
    """Staff may remember who lost which card: nothing about the new card may follow from the void.
    200 cards are voided and replaced one by one; neither the events nor the new cards' rows
    (id, serial, batch, issue time) say which replaced which."""
    setup = make_vote_meeting(session, open_vote=True, min_choices=1, max_choices=2)
    n = 200
    lost = issue(session, setup, n)
    lost_rows = [services.find_card(session, card.code) for card in lost]
    replacements = []
    for k, card in enumerate(lost):
        at = NOW + dt.timedelta(minutes=k)
        services.void_card(session, TEST_ACTOR, setup.meeting.id, card.serial, at)
        replacements.append(services.issue_replacement_card(session, TEST_ACTOR, setup.meeting.id, at))
    session.commit()
    rows = {row.serial: row for row in session.scalars(
        select(BallotCard).where(BallotCard.meeting_id == setup.meeting.id, BallotCard.status == CardStatus.ISSUED))}
    assert sorted(rows) == sorted(r.serial for r in replacements)
    void_rank = {rows[r.serial].id: k for k, r in enumerate(replacements)}
    assert abs(spearman(sorted(void_rank), void_rank)) < BOUND, "ids follow the order of the voids"
    by_serial = [rows[serial].id for serial in sorted(rows)]
    assert abs(spearman(by_serial, void_rank)) < BOUND, "serials follow the order of the voids"
    assert {row.batch for row in rows.values()} == {services.REPLACEMENT_BATCH}
    assert len({row.issued_at for row in rows.values()}) == 1, "only the day is kept"
    events = _events_text(session)
    assert not any(r.serial in text_ for r in replacements for text_ in events), "no event names a new card"
    replaced = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "voting.card_replacement")))
    assert len(replaced) == n and all(e.after == {"count": 1} for e in replaced)
    # The new cards vote, by phone and on paper (typed as staff would: "e7" for "E0007").
    services.cast_ballot(session, rows[replacements[0].serial].id, setup.ids[:1], BallotChannel.PHONE)
    typed = replacements[1].serial.lower().replace("e0", "e", 1)
    services.enter_paper_ballot(session, TEST_ACTOR, setup.meeting.id, typed, setup.ids[:1], NOW)
    session.commit()
    assert services.reconciliation(session, setup.meeting.id).ballots == 2
    printed = issue(session, setup, 2)
    assert [c.serial for c in printed] == ["0201", "0202"], "printed batches number on"
    assert services.find_card(session, printed[0].code).id == max(c.id for c in lost_rows) + 1  # type: ignore[union-attr]
