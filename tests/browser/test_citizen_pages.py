"""What only a browser shows on the citizen's and the staff's pages (issue 14, points 23 and 27):
the application form on 390 and 320 px phones with JavaScript off, no stray bullet, no empty band
above a card's title."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from deltager.mail import read_outbox
from deltager.permissions import Role
from deltager.rounds.models import RoundStatus
from tests.browser.conftest import LiveApp
from tests.rounds.factories import make_round

pytestmark = pytest.mark.browser


def _sign_in_without_javascript(live_app: LiveApp, tab: Any, address: str) -> None:
    """The e-mailed sign-in, with plain form posts (the pages need no JavaScript)."""
    tab.goto(f"{live_app.url}/apply/sign-in")
    tab.get_by_label("Din e-mailadresse").fill(address)
    tab.get_by_role("button", name="Send mig et link").click()
    messages = [m for m in read_outbox(live_app.outbox()) if address in str(m["To"])]
    text = str(messages[-1].get_body(("plain",)).get_content())
    match = re.search(re.escape(live_app.url) + r"/apply/sign-in/\S+", text)
    assert match, text
    tab.goto(match.group(0))
    tab.get_by_role("button", name="Log ind").click()
    tab.wait_for_url(f"{live_app.url}/apply**")


def _scroll_width(tab: Any) -> int:
    return int(tab.evaluate("document.documentElement.scrollWidth"))


def test_the_application_form_fits_a_phone_and_shows_association_fields_only_for_an_association(
    live_app: LiveApp, browser: Any, tmp_path: Path
) -> None:
    with live_app.session() as s:
        round_ = make_round(s, RoundStatus.OPEN, title="Form på telefonen")
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False,
                                  locale="da-DK", is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    try:
        _sign_in_without_javascript(live_app, tab, "telefon-form@example.dk")
        tab.goto(f"{live_app.url}/apply/rounds/{round_.id}/new")
        for width in (390, 320):
            tab.set_viewport_size({"width": width, "height": 844})
            shot = tmp_path / f"form-{width}.png"
            tab.screenshot(path=str(shot), full_page=True)
            assert _scroll_width(tab) <= width, f"the form scrolls sideways at {width} px"
            assert tab.locator("input[type=file]").bounding_box()["x"] + tab.locator(
                "input[type=file]").bounding_box()["width"] <= width
        # Four numbered parts, each saying where it stands.
        assert tab.get_by_role("heading", name=re.compile("Del 2 af 4")).is_visible()
        assert tab.locator(".part-number").all_inner_texts() == [f"Del {n} af 4" for n in range(1, 5)]
        # A private person (the default) sees no association fields; choosing "association" shows them.
        assert tab.get_by_label("Jeg søger som privatperson").is_checked()
        assert not tab.get_by_label("Foreningens navn").is_visible()
        assert not tab.get_by_label("Foreningens CVR-nummer").is_visible()
        tab.get_by_label("Vi søger som forening").check()
        assert tab.get_by_label("Foreningens navn").is_visible()
        assert tab.get_by_label("Foreningens CVR-nummer").is_visible()
        tab.get_by_label("Jeg søger som privatperson").check()
        assert not tab.get_by_label("Foreningens navn").is_visible()

        # "My applications": the apply button stands on its own, with no bullet before it.
        tab.goto(f"{live_app.url}/apply")
        items = tab.locator("li", has=tab.get_by_role("link", name=re.compile("Start en ansøgning")))
        assert items.count() >= 1
        assert set(items.evaluate_all("lis => lis.map(li => getComputedStyle(li).listStyleType)")) == {"none"}
        assert _scroll_width(tab) <= 320
    finally:
        context.close()


def test_a_cards_title_starts_at_the_top_of_the_card(live_app: LiveApp, page: Any) -> None:
    """Trial round: an empty band above the titles of the staff dashboard's cards."""
    with live_app.session() as s:
        make_round(s, RoundStatus.OPEN, title="Kort uden tomt bånd")
    live_app.login(page, Role.CASEWORKER)
    page.goto(f"{live_app.url}/staff/")
    cards = page.locator("li.card")
    assert cards.count() >= 1
    for i in range(cards.count()):
        card = cards.nth(i).bounding_box()
        title = cards.nth(i).locator("h2").bounding_box()
        assert title["y"] - card["y"] <= 20, "an empty band above the card's title"
