"""Security headers, friendly error pages in both languages, the language switch, /healthz."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from deltager import create_app
from deltager.db import get_db
from deltager.money import format_ore
from deltager.permissions import Role
from deltager.web import public
from tests.conftest import Auth, app_config


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_over_https(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_proxy_headers_are_trusted_only_when_configured(database_url: str, tmp_path: Path) -> None:
    behind = create_app(app_config(database_url, tmp_path, PROXY_COUNT=1), instance_path=tmp_path)
    response = behind.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers
    get_db(behind).engine.dispose()
    direct = create_app(app_config(database_url, tmp_path), instance_path=tmp_path)
    response = direct.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
    get_db(direct).engine.dispose()


def test_no_inline_script_or_style_in_pages(client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.ADMIN)
    for url in ["/", "/login", "/staff/", "/staff/rounds/new", "/staff/users", "/staff/audit/"]:
        html = client.get(url).text
        assert "<script>" not in html and " style=" not in html and "onclick" not in html, url


def test_cross_site_post_is_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": "a@b.dk", "password": "x"},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 400


def test_same_site_post_with_origin_is_accepted(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": "a@b.dk", "password": "x"},
                           headers={"Origin": "http://localhost"})
    assert response.status_code == 200


def test_danish_by_default_english_by_switch(client: FlaskClient) -> None:
    assert 'lang="da"' in client.get("/").text
    assert "Du bestemmer" in client.get("/").text
    response = client.post("/language", data={"lang": "en", "next": "/login"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    page = client.get("/login").text
    assert 'lang="en"' in page and "Staff sign-in" in page
    client.post("/language", data={"lang": "da", "next": "https://evil.example/"})
    assert "Log ind for medarbejdere" in client.get("/login").text


def test_language_switch_ignores_unknown_languages(client: FlaskClient) -> None:
    client.post("/language", data={"lang": "xx"})
    assert 'lang="da"' in client.get("/").text


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"PROPAGATE_EXCEPTIONS": False, "MAX_CONTENT_LENGTH": 1000}


def _add_boom(app: Flask) -> None:
    @public
    def boom() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom-for-test", "boom", boom)


@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        ("da", {404: "Siden blev ikke fundet", 500: "Der gik noget galt hos os", 413: "Filen er for stor",
                403: "Du har ikke adgang", 405: "Det kan ikke lade sig gøre her"}),
        ("en", {404: "The page was not found", 500: "Something went wrong on our side", 413: "The file is too large",
                403: "You do not have access", 405: "That cannot be done here"}),
    ],
)
def test_friendly_error_pages(app: Flask, auth: Auth, lang: str, texts: dict[int, str]) -> None:
    _add_boom(app)
    client = app.test_client()
    auth.client = client
    client.post("/language", data={"lang": lang})
    pages = {
        404: client.get("/no-such-page"),
        500: client.get("/boom-for-test"),
        413: client.post("/login", data={"email": "x" * 5000}),
        405: client.delete("/"),
    }
    auth.login(Role.VIEWER)
    pages[403] = client.get("/staff/users")
    for code, response in pages.items():
        assert response.status_code == code
        assert texts[code] in response.text, (code, lang)
        assert "Traceback" not in response.text and "secret internals" not in response.text


def test_429_page(app: Flask, client: FlaskClient) -> None:
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 1
    client.post("/login", data={"email": "a@b.dk", "password": "x"})
    response = client.post("/login", data={"email": "a@b.dk", "password": "x"})
    assert response.status_code == 429 and "For mange forkerte forsøg" in response.text


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.text == "ok\n"


def test_healthz_reports_a_dead_database(tmp_path: Path) -> None:
    app = create_app(app_config(f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite'}", tmp_path),
                     instance_path=tmp_path)
    app.config["TESTING"] = False
    response = app.test_client().get("/healthz")
    assert response.status_code == 503


@pytest.mark.parametrize(
    ("ore", "text"),
    [(2_500_000, "25.000 kr."), (20_000_000, "200.000 kr."), (123_450, "1.234,50 kr."), (5, "0,05 kr."), (0, "0 kr."),
     (-150_000, "-1.500 kr.")],
)
def test_money_is_shown_danish_style(ore: int, text: str) -> None:
    assert format_ore(ore) == text


def test_times_are_shown_in_copenhagen(app: Flask) -> None:
    with app.test_request_context():
        render = app.jinja_env.filters["localdatetime"]
        # 23:30 UTC on 1 July is 01:30 the next day in summer time (UTC+2).
        assert render(dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC)) == "2. juli 2026 kl. 01:30"
        assert render(dt.datetime(2026, 1, 1, 23, 30, tzinfo=dt.UTC)) == "2. januar 2026 kl. 00:30"


def test_dates_are_written_day_first_in_both_languages(app: Flask) -> None:
    render = app.jinja_env.filters["localdate"]
    with app.test_request_context():
        assert render(dt.date(2027, 2, 15)) == "15. februar 2027"
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert render(dt.date(2027, 2, 15)) == "15 February 2027"
        assert app.jinja_env.filters["localdatetime"](dt.datetime(2027, 2, 15, 16, tzinfo=dt.UTC)) == "15 February 2027, 17:00"
        with force_locale("da"):  # an e-mail to a Danish reader, sent from an English page
            assert render(dt.date(2027, 2, 15)) == "15. februar 2027"
    with app.test_request_context(), force_locale("en"):
        assert render(dt.date(2027, 2, 15)) == "15 February 2027"


def test_nul_bytes_in_path_or_query_are_refused(client: FlaskClient) -> None:
    assert client.get("/?x=%00").status_code == 400
    assert client.get("/rounds/%00").status_code in {400, 404}
    assert client.get("/staff/audit/?object_id=a%00b").status_code == 400


def test_a_download_is_an_uncached_attachment_that_is_not_sniffed(app: Flask) -> None:
    from deltager.web import download

    with app.test_request_context("/"):
        response = download(b"%PDF-1.4", "kvittering-A-12.pdf", "application/pdf")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="kvittering-A-12.pdf"'
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
