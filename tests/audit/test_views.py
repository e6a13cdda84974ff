"""The admin reads and filters the audit trail."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from flask.testing import FlaskClient

from deltager.audit.services import Actor, record
from deltager.db import get_db
from deltager.permissions import Role
from tests.conftest import Auth


def _events(app: Flask, count: int) -> None:
    with app.app_context():
        s = get_db(app).session()
        for i in range(count):
            record(s, Actor.system("tester"), "round.update", "round", i % 3,
                   before={"title": f"old {i}"}, after={"title": f"new {i}"},
                   at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC) + dt.timedelta(hours=i))
        record(s, Actor.system("someone-else"), "user.create", "user", 7, after={"email": "x@y.dk"},
               at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
        s.commit()
        s.close()


def test_filter_and_paginate(app: Flask, client: FlaskClient, auth: Auth) -> None:
    _events(app, 120)
    auth.login(Role.ADMIN)
    page1 = client.get("/staff/audit/?object_type=round").text
    assert "120 hændelser" in page1
    assert "new 119" in page1 and "new 0" not in page1  # newest first, 50 a page
    assert "Side 1 af 3" in page1
    page3 = client.get("/staff/audit/?object_type=round&page=3").text
    assert "new 0" in page3
    only_user = client.get("/staff/audit/?action=user.create").text
    assert "1 hændelse" in only_user and "x@y.dk" in only_user
    by_actor = client.get("/staff/audit/?actor=someone").text
    assert "1 hændelse" in by_actor
    by_date = client.get("/staff/audit/?since=2026-06-01&until=2026-06-01").text
    assert "1 hændelse" in by_date
    one_object = client.get("/staff/audit/?object_type=round&object_id=1").text
    assert "40 hændelser" in one_object


def test_bad_filter_values_do_not_crash(client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.ADMIN)
    for query in ["since=yesterday", "page=-3", "page=abc", "until=2026-13-45", "actor=" + "x" * 5000,
                  "object_id=%ff", "action=<script>"]:
        assert client.get(f"/staff/audit/?{query}").status_code == 200, query
    assert client.get("/staff/audit/?object_id=%00").status_code == 400


def test_caseworker_cannot_read_the_audit_trail(client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.CASEWORKER)
    assert client.get("/staff/audit/").status_code == 403


def test_history_values_read_in_plain_words_and_free_text_that_looks_like_a_date_stays_as_typed(app: Flask) -> None:
    from deltager.audit.views import audit_value_label

    with app.test_request_context("/"):
        assert audit_value_label(True) == "Ja" and audit_value_label(None) == "—" and audit_value_label([]) == "—"
        assert audit_value_label("2027-03-01") == "1. marts 2027"
        assert audit_value_label("2027-03-01T09:00:00+00:00") == "1. marts 2027 kl. 10:00"  # Copenhagen time
        for typed in ("2027-13-45", "2027-02-30T10:00", "2027-01-01T25:61"):  # a title, say: not a date
            assert audit_value_label(typed) == typed
        assert audit_value_label("x" * 200) == "x" * 120 + "…"


def _written_actions() -> set[str]:
    """Every action string passed to ``record(...)`` anywhere in deltager/ (read from the source)."""
    import ast
    from pathlib import Path

    found: set[str] = set()
    for path in (Path(__file__).resolve().parents[2] / "deltager").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "record":
                if len(node.args) >= 3:
                    found |= {c.value for c in ast.walk(node.args[2])
                              if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return found


def test_every_action_any_domain_writes_has_a_plain_label() -> None:
    from deltager.audit.views import ACTION_LABELS

    written = _written_actions()
    assert {"voting.paper_ballot", "application.decision", "user.activate", "user.deactivate"} <= written
    assert sorted(written - set(ACTION_LABELS)) == []


def test_the_audit_log_reads_in_plain_danish_with_local_times(app: Flask, client: FlaskClient, auth: Auth) -> None:
    """Trial round: the log showed `voting.paper_ballot`, `cancelled_at: 2026-12-04T15:19:32…+00:00`, `applicant:19`."""
    from deltager.demo import load_demo

    with app.app_context():
        s = get_db(app).session()
        load_demo(s)
        record(s, Actor(user_id=None, label="applicant:19 borger@example.dk"), "meeting.unregister", "registration", 4,
               before={"cancelled_at": None},
               after={"cancelled_at": dt.datetime(2026, 12, 4, 15, 19, 32, 257312, tzinfo=dt.UTC), "meeting_id": 2})
        s.commit()
        s.close()
    auth.login(Role.ADMIN)
    pages = []
    page, last = 1, 1
    while page <= last:
        html = client.get(f"/staff/audit/?page={page}").text
        pages.append(html)
        last = int(re.search(r"Side \d+ af (\d+)", html).group(1)) if "Side " in html else 1
        page += 1
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", " ".join(pages)))
    assert "Tilmelding annulleret" in text
    assert "Ansøger nr. 19 (borger@example.dk)" in text
    assert "Afmeldt den: 4. december 2026 kl. 16:19" in text  # Copenhagen time
    assert "Papirstemme indtastet" in text and "Tilmelding nr. 4" in text
    body = re.sub(r'<option value="[^"]*"|datetime="[^"]*"|href="[^"]*"', "", " ".join(pages))
    for raw in ("voting.paper_ballot", "application.decision", "applicant:", "cancelled_at", "on_ballot",
                "+00:00", "_ore", "registration ", "needs_info"):
        assert raw not in body, raw
    assert not re.search(r"\b[a-z]+_[a-z_]+:", text), "a field name shown as its code"


def test_every_field_the_demo_records_has_a_label(app: Flask) -> None:
    from sqlalchemy import select

    from deltager.audit.models import AuditEvent
    from deltager.audit.views import OBJECT_LABELS, field_labels
    from deltager.demo import load_demo

    with app.app_context():
        s = get_db(app).session()
        load_demo(s)
        s.flush()
        missing = {(e.object_type, key) for e in s.scalars(select(AuditEvent))
                   for key in {**(e.before or {}), **(e.after or {})}
                   if key not in field_labels().get(e.object_type, {}) and not key.isdigit()}
        kinds = set(s.scalars(select(AuditEvent.object_type).distinct()))
        s.rollback()
        s.close()
    assert sorted(missing) == [] and kinds <= set(OBJECT_LABELS)
