"""Rounds through HTTP: staff create, edit and move them; citizens see the public ones."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from deltager.db import get_db
from deltager.permissions import Role
from deltager.rounds.models import Round, RoundStatus
from tests.conftest import Auth
from tests.rounds.factories import make_round

VALID = {
    "title": "Del dit fællesskab", "theme": "Udsatte og ensomhed", "description": "Søg op til 25.000 kr.",
    "pot": "200.000", "cap": "25.000 kr.", "funding_source": "§ 18-midler", "partners": "Røde Kors",
    "applications_open_at": "2027-01-05T09:00", "applications_close_at": "2027-02-01T23:59",
    "voting_on": "2027-03-01", "project_deadline": "", "report_deadline": "",
}
HOSTILE = [
    "", " ", "x" * 100_000, "\x00", "\x1b[31m", "😀" * 50, "<script>alert(1)</script>", "-1", "1e9", "NaN",
    "25.000,50", "25.000,505", "'; DROP TABLE round; --", "2027-02-30", "2027-13-01T25:61", "9999999999999999999999",
    "%s%s%n", "{{ 7*7 }}", "\u202e", "null", "0001-01-01T00:00", "0001-01-01", "9999-12-31T23:59",
]


def _count(app: Flask) -> int:
    with app.app_context():
        s = get_db(app).session()
        n = s.scalar(select(func.count(Round.id))) or 0
        s.close()
    return n


def test_caseworker_creates_and_edits_a_round(app: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.CASEWORKER)
    response = client.post("/staff/rounds/new", data=VALID)
    assert response.status_code == 303
    detail = client.get(response.headers["Location"]).text
    assert "200.000 kr." in detail and "25.000 kr." in detail and "1. marts 2028" in detail  # default deadline
    edit_url = response.headers["Location"] + "/edit"
    form = client.get(edit_url).text
    assert 'value="200.000"' in form and 'value="2027-01-05T09:00"' in form  # Copenhagen time round-trips
    response = client.post(edit_url, data={**VALID, "title": "Godt naboskab", "pot": "180.000", "voting_on": "2027-03-02"})
    assert response.status_code == 303
    detail = client.get(response.headers["Location"]).text
    assert "Godt naboskab" in detail
    history = re.sub(r"\s+", " ", detail[detail.index("<h2>Historik</h2>"):])
    assert "Forløb redigeret" in history
    assert "Forløbets navn: Del dit fællesskab → Godt naboskab" in history
    assert "Pulje (kr.): 200.000 kr. → 180.000 kr." in history
    assert "Dato for afstemningsmødet: 1. marts 2027 → 2. marts 2027" in history
    assert "voting_on" not in history and "2027-03-01" not in history


def test_cap_above_pot_keeps_what_was_typed(app: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.CASEWORKER)
    response = client.post("/staff/rounds/new", data={**VALID, "cap": "300.000"})
    assert response.status_code == 400
    assert "ikke være større end puljen" in response.text
    assert 'value="300.000"' in response.text and 'value="Del dit fællesskab"' in response.text
    assert _count(app) == 0


@pytest.mark.parametrize("field", ["title", "pot", "cap", "applications_open_at", "voting_on", "project_deadline"])
def test_hostile_values_never_crash(app: Flask, client: FlaskClient, auth: Auth, field: str) -> None:
    auth.login(Role.CASEWORKER)
    for value in HOSTILE:
        response = client.post("/staff/rounds/new", data={**VALID, field: value})
        assert response.status_code < 500, (field, value)
        if response.status_code == 400 and len(value) < 200 and value.isprintable() and value.strip():
            from markupsafe import escape

            assert str(escape(value)) in response.text, (field, value)


def test_status_change_and_refusal(app: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.CASEWORKER)
    with app.app_context():
        s = get_db(app).session()
        round_id = make_round(s, RoundStatus.ALLOCATED).id
        s.close()
    response = client.post(f"/staff/rounds/{round_id}/status", data={"status": "voting"}, follow_redirects=True)
    assert "kan ikke gå tilbage" in response.text
    response = client.post(f"/staff/rounds/{round_id}/status", data={"status": "running"}, follow_redirects=True)
    assert "Projekterne er i gang" in response.text
    assert client.post(f"/staff/rounds/{round_id}/status", data={"status": "bogus"}).status_code == 400
    assert client.post("/staff/rounds/999999/status", data={"status": "open"}).status_code == 404


def test_viewer_reads_but_cannot_edit(app: Flask, client: FlaskClient, auth: Auth) -> None:
    with app.app_context():
        s = get_db(app).session()
        round_id = make_round(s).id
        s.close()
    auth.login(Role.VIEWER)
    page = client.get(f"/staff/rounds/{round_id}")
    assert page.status_code == 200 and "Redigér" not in page.text
    assert client.get(f"/staff/rounds/{round_id}/edit").status_code == 403


def test_public_pages_show_only_public_rounds(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        s = get_db(app).session()
        draft = make_round(s, title="Hemmelig kladde")
        open_ = make_round(s, RoundStatus.OPEN, title="Åbent forløb")
        s.close()
    front = client.get("/").text
    assert "Åbent forløb" in front and "Hemmelig kladde" not in front
    assert client.get(f"/rounds/{open_.id}").status_code == 200
    assert client.get(f"/rounds/{draft.id}").status_code == 404


def test_empty_front_page(client: FlaskClient) -> None:
    assert "Der er ikke noget forløb lige nu" in client.get("/").text


def test_empty_staff_overview(client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.CASEWORKER)
    assert "Der er ingen forløb endnu" in client.get("/staff/").text




def test_partners_typed_one_per_line_read_as_a_list_without_stray_spaces(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    """A browser sends a textarea's lines with CRLF; the round pages said "Nord , Boligsocial"."""
    auth.login(Role.CASEWORKER)
    response = client.post("/staff/rounds/new", data={**VALID, "partners": "Frivilligcenter Nord\r\n\r\n Boligsocial Øst \r\n"})
    assert response.status_code == 303
    detail = client.get(response.headers["Location"]).text
    assert "Frivilligcenter Nord, Boligsocial Øst" in detail
    assert "\r" not in detail
    with app.app_context():
        s = get_db(app).session()
        assert s.scalars(select(Round.partners)).all()[-1] == "Frivilligcenter Nord\nBoligsocial Øst"
        s.close()
    form = client.get(response.headers["Location"] + "/edit").text
    assert "Frivilligcenter Nord\nBoligsocial Øst</textarea>" in form
