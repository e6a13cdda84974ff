"""On a phone (390 px) a grantee accepts the conditions and sends a receipt photo; a caseworker
approves a lower amount with a reason; the grantee sees the new balance and the reason; a stopped
grant shows its money back in the pot. Every page passes axe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from deltager.grants import batches, claims, services
from deltager.permissions import Role
from tests.applications.factories import image_bytes
from tests.browser.conftest import LiveApp, citizen_cookie
from tests.grants.factories import LATER, STAFF, make_granted_round, submit

pytestmark = pytest.mark.browser


def _grantee_tab(browser: Any, live: LiveApp, application_id: int) -> Any:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="da-DK")
    context.add_cookies([citizen_cookie(live, application_id)])
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    return tab


def test_grantee_and_caseworker_on_the_money_road(live_app: LiveApp, browser: Any, page: Any, axe: Any,
                                                  tmp_path: Path) -> None:
    with live_app.session() as s:
        setup = make_granted_round(s, accept=False)
        grant, stopped = setup.grants[1], setup.grants[2]
        grant_id, application_id, round_id = grant.id, grant.application_id, setup.round.id
        services.stop_grant(s, STAFF, stopped.id, "Projektet blev aflyst.", LATER)
    phone = _grantee_tab(browser, live_app, application_id)
    try:
        phone.goto(f"{live_app.url}/apply/{application_id}/grant")
        axe(phone)
        phone.get_by_role("button", name="Jeg siger ja til reglerne").click()
        phone.wait_for_load_state()
        assert phone.get_by_text("Tak. Du har sagt ja til reglerne.").is_visible()
        phone.get_by_role("link", name="Send en kvittering").click()
        phone.wait_for_url(re.compile(r".*/grant/receipt$"))
        axe(phone)
        photo = tmp_path / "kvittering.jpg"
        photo.write_bytes(image_bytes(size=(800, 1200)))
        phone.get_by_label("Beløb i kroner").fill("1.000")
        phone.get_by_label("Dato på kvitteringen").fill(LATER.date().isoformat())
        phone.get_by_label("Hvad har du købt?").fill("Kaffe og kage til første møde")
        phone.get_by_label("Jeg har betalt. Betal pengene tilbage til mig.").check()
        phone.get_by_label("Billede eller PDF af kvitteringen").set_input_files(str(photo))
        phone.get_by_role("button", name="Send kvitteringen").click()
        phone.wait_for_url(f"{live_app.url}/apply/{application_id}/grant")
        assert phone.get_by_text("Sendt. Vi ser på den snart.").is_visible()
        axe(phone)

        live_app.login(page, Role.CASEWORKER)
        page.goto(f"{live_app.url}/staff/claims?round={round_id}")
        axe(page)
        page.locator("table a").first.click()
        page.wait_for_url(re.compile(r".*/staff/claims/\d+$"))
        assert page.locator("img.receipt-photo").count() == 1
        axe(page)
        page.get_by_label("Godkend et lavere beløb (skriv begrundelsen)").check()
        page.get_by_label("Lavere beløb i kroner").fill("800")
        page.get_by_label("Begrundelse eller spørgsmål til modtageren").fill("Kun 8 personer deltog.")
        page.get_by_role("button", name="Gem afgørelsen").click()
        page.wait_for_load_state()
        assert page.get_by_text("Kun 8 personer deltog.").first.is_visible()

        phone.goto(f"{live_app.url}/apply/{application_id}/grant")
        assert phone.get_by_text("Kun 8 personer deltog.").is_visible()
        assert phone.get_by_text("8.700 kr.").is_visible()  # 9.500 kr. − 800 kr.
        axe(phone)

        page.goto(f"{live_app.url}/staff/rounds/{round_id}/grants")
        pot = page.locator("section[aria-labelledby=pot-heading]").inner_text()
        assert "12.000 kr." in pot  # the stopped grant's money is back in the pot
        axe(page)
        page.goto(f"{live_app.url}/staff/grants/{grant_id}")
        axe(page)
    finally:
        phone.context.close()


def test_take_out_is_reachable_on_a_320_px_phone_without_sideways_scrolling(
        live_app: LiveApp, browser: Any, axe: Any) -> None:
    """The batch's claims stack on a phone: each claim's "Tag ud" button is inside the window."""
    with live_app.session() as s:
        setup = make_granted_round(s)
        grant = setup.grants[1]
        for amount in (1_000_00, 2_000_00):
            claim = submit(s, grant, amount).claim
            claims.decide_claim(s, STAFF, claim.id, claims.Decision.APPROVE, LATER)
        batch_id = batches.create_batch(s, STAFF, setup.round.id, LATER).id
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True,
                                  locale="da-DK")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    try:
        live_app.login(tab, Role.CASEWORKER)
        tab.goto(f"{live_app.url}/staff/payouts/{batch_id}")
        buttons = tab.get_by_role("button", name=re.compile(r"^Tag U-\d+ ud af bunken$"))
        assert buttons.count() == 2
        for n in range(2):
            box = buttons.nth(n).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320, box
            assert box["height"] >= 44
        assert tab.evaluate("document.documentElement.scrollWidth") <= 320
        axe(tab)
        buttons.first.click()
        tab.wait_for_load_state()
        assert tab.get_by_text(re.compile(r"er taget ud af bunken")).is_visible()
        assert tab.get_by_role("button", name=re.compile(r"^Tag U-\d+ ud af bunken$")).count() == 1
    finally:
        context.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_the_stop_page_asks_about_approved_receipts_in_plain_danish(
        live_app: LiveApp, browser: Any, axe: Any, tmp_path: Path, width: int) -> None:
    """Stopping a grant with an approved receipt not yet paid: two radios (no JavaScript), the
    default sends everything back to the pot; the page fits a 360 px phone."""
    with live_app.session() as s:
        setup = make_granted_round(s)
        grant = setup.grants[1]
        claim = submit(s, grant, 1_000_00).claim
        claims.decide_claim(s, STAFF, claim.id, claims.Decision.APPROVE, LATER)
        grant_id = grant.id
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="da-DK")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    try:
        live_app.login(tab, Role.CASEWORKER)
        tab.goto(f"{live_app.url}/staff/grants/{grant_id}/stop")
        withdraw = tab.get_by_label("De bliver ikke udbetalt: 1.000 kr. går også tilbage til puljen")
        assert withdraw.is_checked()
        assert not tab.get_by_label(re.compile(r"^De bliver stadig udbetalt: 1.000 kr.")).is_checked()
        assert tab.evaluate("document.documentElement.scrollWidth") <= width
        tab.screenshot(path=str(tmp_path / f"stop-{width}.png"), full_page=True)
        axe(tab)
        tab.get_by_label(re.compile(r"^De bliver stadig udbetalt")).check()
        tab.get_by_label("Begrundelse").fill("Projektet blev aflyst.")
        tab.get_by_role("button", name="Stop bevillingen").click()
        tab.wait_for_url(f"{live_app.url}/staff/grants/{grant_id}")
        assert tab.get_by_text("Bevillingen er stoppet.").first.is_visible()
    finally:
        context.close()
