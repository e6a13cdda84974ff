"""A caseworker signs in and creates a round in a real browser; every page passes axe."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from deltager.permissions import Role
from tests.browser.conftest import LiveApp

pytestmark = pytest.mark.browser


def test_caseworker_creates_a_round(live_app: LiveApp, page: Any, axe: Any) -> None:
    page.goto(f"{live_app.url}/login")
    axe(page)
    live_app.login(page, Role.CASEWORKER)
    axe(page)

    page.get_by_role("link", name="Nyt forløb").click()
    axe(page)
    today = dt.date.today()
    page.get_by_label("Forløbets navn").fill("Del dit fællesskab")
    page.get_by_label("Tema").fill("Udsatte og ensomhed")
    page.get_by_label("Beskrivelse til borgerne").fill("Søg op til 25.000 kr. til et lille projekt.")
    page.get_by_label("Samarbejdspartnere").fill("Frivilligcenter Nord")
    page.get_by_label("Pulje (kr.)").fill("200.000")
    page.get_by_label("Højst pr. ansøgning (kr.)").fill("25.000 kr.")
    page.get_by_label("Der kan søges fra").fill(f"{today.isoformat()}T09:00")
    page.get_by_label("Ansøgningsfrist", exact=True).fill(f"{(today + dt.timedelta(days=30)).isoformat()}T23:59")
    page.get_by_label("Dato for afstemningsmødet").fill((today + dt.timedelta(days=45)).isoformat())
    page.get_by_role("button", name="Gem forløb").click()

    page.wait_for_url(f"{live_app.url}/staff/rounds/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Del dit fællesskab"
    assert "200.000 kr." in page.content()
    assert "25.000 kr." in page.content()
    axe(page)

    page.get_by_role("link", name="Gå videre til: Åben for ansøgninger").click()
    assert "Forløbet bliver offentligt: borgerne kan se det på forsiden." in page.content()
    axe(page)
    page.get_by_role("button", name="Gå videre til: Åben for ansøgninger").click()
    assert page.locator(".status").first.inner_text() == "Åben for ansøgninger"

    page.goto(f"{live_app.url}/")
    assert page.get_by_role("link", name="Del dit fællesskab").first.is_visible()
    axe(page)


def test_form_errors_keep_what_was_typed(live_app: LiveApp, page: Any, axe: Any) -> None:
    live_app.login(page, Role.CASEWORKER)
    page.goto(f"{live_app.url}/staff/rounds/new")
    page.get_by_label("Forløbets navn").fill("Godt naboskab")
    page.get_by_label("Tema").fill("Naboskab")
    page.get_by_label("Pulje (kr.)").fill("100.000")
    page.get_by_label("Højst pr. ansøgning (kr.)").fill("150.000")
    page.get_by_role("button", name="Gem forløb").click()
    assert page.get_by_role("alert").first.is_visible()
    assert page.get_by_label("Forløbets navn").input_value() == "Godt naboskab"
    assert page.get_by_label("Højst pr. ansøgning (kr.)").input_value() == "150.000"
    axe(page)
