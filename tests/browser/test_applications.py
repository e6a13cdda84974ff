"""A citizen applies on a phone (sign-in link from the outbox), a caseworker screens the application
onto the ballot. Every page passes axe."""

from __future__ import annotations

import re
from typing import Any

import pytest

from deltager.mail import read_outbox
from deltager.permissions import Role
from deltager.rounds.models import RoundStatus
from tests.browser.conftest import LiveApp
from tests.rounds.factories import make_round

pytestmark = pytest.mark.browser


def _sign_in_link(live_app: LiveApp, address: str) -> str:
    messages = [m for m in read_outbox(live_app.outbox()) if address in str(m["To"])]
    assert messages, f"no e-mail to {address}"
    text = str(messages[-1].get_body(("plain",)).get_content())
    match = re.search(re.escape(live_app.url) + r"/apply/sign-in/\S+", text)
    assert match, text
    return match.group(0)


def test_citizen_applies_and_caseworker_puts_it_on_the_ballot(live_app: LiveApp, phone: Any, page: Any, axe: Any) -> None:
    with live_app.session() as s:
        round_ = make_round(s, RoundStatus.OPEN, title="Ansøg i browseren")
    address = "karin-browser@example.dk"

    phone.goto(f"{live_app.url}/rounds/{round_.id}")
    phone.get_by_role("link", name="Søg nu").click()
    phone.wait_for_url(re.compile(r".*/apply/sign-in.*"))
    axe(phone)
    phone.get_by_label("Din e-mailadresse").fill(address)
    phone.get_by_role("button", name="Send mig et link").click()
    assert phone.get_by_role("heading", level=1).inner_text() == "Tjek din e-mail"
    axe(phone)

    phone.goto(_sign_in_link(live_app, address))
    axe(phone)
    phone.get_by_role("button", name="Log ind").click()
    phone.wait_for_url(f"{live_app.url}/apply/rounds/{round_.id}/new")
    axe(phone)

    # A first attempt with a mistake: the budget does not add up; everything typed stays.
    phone.get_by_label("Projektets titel").fill("Skraldecafé i browseren")
    phone.get_by_label("Kort resumé").fill("Vi reparerer ting sammen en lørdag om måneden.")
    phone.get_by_label("Hvad vil du lave?").fill("En reparationscafé.")
    phone.get_by_label("Hvem er det for?").fill("Naboerne")
    phone.get_by_label("Hvor skal det foregå?").fill("Beboerhuset")
    phone.get_by_label("Hvornår skal det foregå?").fill("Første lørdag i måneden")
    phone.get_by_label("Nej").check()
    phone.get_by_label("Jeg søger som privatperson").check()
    phone.get_by_label("Dit navn").fill("Karin Holm")
    phone.get_by_label("Telefonnummer").fill("20304050")
    phone.get_by_label("Beløb du søger (kr.)").fill("10.000")
    phone.get_by_label("Linje 1: hvad til").fill("Værktøj")
    phone.get_by_label("Linje 1: beløb (kr.)").fill("6.000")
    phone.get_by_label("Linje 2: hvad til").fill("Kaffe")
    phone.get_by_label("Linje 2: beløb (kr.)").fill("3.000")
    phone.get_by_label(re.compile("privatlivserklæringen")).check()
    phone.get_by_role("button", name="Send ansøgningen").click()
    assert phone.get_by_role("alert").first.is_visible()
    assert phone.get_by_label("Linje 2: hvad til").input_value() == "Kaffe"
    assert phone.get_by_label("Projektets titel").input_value() == "Skraldecafé i browseren"
    axe(phone)
    phone.get_by_label("Linje 2: beløb (kr.)").fill("4.000")
    phone.get_by_role("button", name="Send ansøgningen").click()
    phone.wait_for_url(re.compile(r".*/apply/\d+$"))
    assert phone.get_by_text("Sendt — venter på kommunen").is_visible()
    axe(phone)
    receipts = [m for m in read_outbox(live_app.outbox()) if address in str(m["To"]) and "Kvittering" in str(m["Subject"])]
    assert len(receipts) == 1

    live_app.login(page, Role.CASEWORKER)
    page.goto(f"{live_app.url}/staff/rounds/{round_.id}")
    page.get_by_role("link", name="Ansøgninger og vurdering").click()
    axe(page)
    page.get_by_role("link", name="Skraldecafé i browseren").click()
    axe(page)
    page.get_by_label("Passer til temaet").select_option("yes")
    page.get_by_label("Budgettet er realistisk").select_option("yes")
    page.get_by_label("Ansøgeren kan søge").select_option("yes")
    page.get_by_label("Børneattest", exact=True).select_option("not_needed")
    page.get_by_role("button", name="Gem tjeklisten").click()
    assert page.get_by_text("Tjeklisten er gemt.").is_visible()
    page.get_by_label("På stemmesedlen").check()
    page.get_by_role("button", name="Gem afgørelsen").click()
    page.wait_for_url(f"{live_app.url}/staff/rounds/{round_.id}/applications")
    assert page.get_by_text("Afgørelsen er gemt").is_visible()
    axe(page)

    phone.reload()
    assert phone.get_by_text("På stemmesedlen", exact=True).is_visible()
    axe(phone)
