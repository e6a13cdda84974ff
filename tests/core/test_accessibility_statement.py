"""The accessibility statement (/tilgaengelighed): public, in every footer, its figures the walk's.

Its figures are read from deltager/accessibility.json, which the accessibility walk
(tests/browser/test_accessibility.py) writes and checks; here the page must show exactly them.
The scrolling boxes around wide tables are named regions, made by one macro.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
import pytest
from flask import Flask
from flask.testing import FlaskClient

from deltager.permissions import Role
from deltager.public.statement import REPORT
from tests.conftest import Auth

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([a-z_]+)">([^<]*)<', html))


def test_statement_shows_the_walks_figures(client: FlaskClient) -> None:
    report = json.loads(REPORT.read_text())
    response = client.get("/tilgaengelighed")

    assert response.status_code == 200
    assert _figures(response.text) == {
        "routes": str(report["routes"]), "roles": str(len(report["roles"])),
        "route_roles": str(report["route_roles"]), "pages": str(report["pages"]),
        "widths": " px, ".join(map(str, report["widths"])) + " px", "checks": str(report["checks"]),
        "violations": str(report["violations"]),
    }
    year, month, day = map(int, report["tested_on"].split("-"))
    assert f"{day}. " in response.text and str(year) in response.text
    assert "Tilgængeligheds\u00aderklæring" in response.text and "PDF-filerne" in response.text


def test_statement_follows_the_report_file(client: FlaskClient, monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    report = {**json.loads(REPORT.read_text()), "routes": 987, "violations": 3, "tested_on": "2030-01-02"}
    changed = tmp_path / "accessibility.json"
    changed.write_text(json.dumps(report))
    monkeypatch.setattr("deltager.public.statement.REPORT", changed)

    figures = _figures(client.get("/tilgaengelighed").text)

    assert figures["routes"] == "987" and figures["violations"] == "3"
    assert "2. januar 2030" in client.get("/tilgaengelighed").text


def test_statement_in_english(client: FlaskClient) -> None:
    client.post("/language", data={"lang": "en", "next": "/tilgaengelighed"})
    page = client.get("/tilgaengelighed").text
    assert 'lang="en"' in page and "Accessibility statement" in page and "What does not meet the standard" in page


def test_contact_defaults_to_the_sender_address(client: FlaskClient) -> None:
    assert 'href="mailto:deltager@localhost"' in client.get("/tilgaengelighed").text


def test_contact_is_configurable(app: Flask, client: FlaskClient) -> None:
    app.config["ACCESSIBILITY_CONTACT"] = "tilgaengelighed@kommune.dk"
    page = client.get("/tilgaengelighed").text
    assert 'href="mailto:tilgaengelighed@kommune.dk"' in page and "deltager@localhost" not in page
    app.config["ACCESSIBILITY_CONTACT"] = "Borgerservice, telefon 89 40 20 00"
    assert "Borgerservice, telefon 89 40 20 00" in client.get("/tilgaengelighed").text


@pytest.mark.parametrize("path", ["/", "/login", "/tilgaengelighed", "/no-such-page"])
def test_footer_links_the_statement_on_public_pages(client: FlaskClient, path: str) -> None:
    page = client.get(path).text
    footer = page[page.index('<footer class="site-footer">'):]
    assert 'href="/tilgaengelighed"' in footer and "Tilgængelighed<" in footer


def test_footer_links_the_statement_on_staff_pages(client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.ADMIN)
    page = client.get("/staff/users").text
    assert 'href="/tilgaengelighed"' in page[page.index('<footer class="site-footer">'):]


def test_table_wraps_are_named_regions(client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.ADMIN)
    page = client.get("/staff/users").text
    assert re.search(r'<div class="table-wrap" role="region" aria-label="[^"]+" tabindex="0">\s*<table', page)


def test_table_wraps_come_from_the_one_macro() -> None:
    made_by_hand = [str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")
                    if p.name != "macros.html" and "table-wrap" in p.read_text()]
    assert not made_by_hand, f"use the table_wrap macro (templates/macros.html) in {made_by_hand}"
