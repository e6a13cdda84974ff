"""The admin reads and filters the audit trail."""

from __future__ import annotations

import datetime as dt

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
