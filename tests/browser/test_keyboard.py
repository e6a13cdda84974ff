"""Every citizen flow, and the staff sign-in, done with the keyboard alone (WCAG 2.1.1).

No mouse and no ``element.click()``: the tests move focus with Tab and Shift+Tab, type into the
field that has focus, tick with Space and press buttons and links with Enter, as a person without a
mouse does. Opening an address (the round's page, the link in an e-mail, the address a ballot
card's QR code holds) is the only thing done without a key: that is where such a person starts.

That every page can be reached, shows its focus, reflows and keeps its text unclipped at 200 %
zoom with WCAG 1.4.12 text spacing is checked page by page in test_accessibility.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from deltager.permissions import Role
from deltager.rounds.models import RoundStatus
from tests.browser.conftest import PHONE, LiveApp
from tests.browser.test_applications import _sign_in_link
from tests.conftest import TEST_PASSWORD, make_user
from tests.meetings.factories import make_meeting
from tests.rounds.factories import make_round
from tests.voting.factories import PROJECTS, issue, make_vote_meeting

pytestmark = pytest.mark.browser

#: What has focus: its kind and the name a screen reader would give it (label, aria-label or text).
_FOCUSED_JS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const label = e.labels && e.labels.length ? [...e.labels].map(l => l.innerText).join(' ') : '';
  const name = e.getAttribute('aria-label') || label || e.innerText || e.value || '';
  return {tag: e.tagName.toLowerCase(), type: e.type || '', name: name.replace(/\\s+/g, ' ').trim(),
          checked: !!e.checked};
}"""
MOST_TABS = 120  # a long form has some 40 stops; more means focus is stuck or lost


def focused(page: Any) -> dict[str, Any] | None:
    """The element that has focus, described."""
    return page.evaluate(_FOCUSED_JS)  # type: ignore[no-any-return]


def tab_to(page: Any, name: str, *, back: bool = False, exact: bool = False) -> dict[str, Any]:
    """Press Tab (Shift+Tab with ``back``) until the element named ``name`` has focus."""
    passed: list[str] = []
    for _ in range(MOST_TABS):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        now = focused(page)
        if now is None:
            passed.append("(nothing)")
            continue
        if (now["name"] == name) if exact else (name in now["name"]):
            return now
        passed.append(now["name"][:40])
    raise AssertionError(f"Tab never reached {name!r} on {page.url}; it passed: {passed}")


def type_into(page: Any, label: str, text: str) -> None:
    """Tab to the field labelled ``label`` and type ``text`` there."""
    field = tab_to(page, label)
    assert field["tag"] in ("input", "textarea"), field
    page.keyboard.type(text)


def choose(page: Any, group_member: str, option: str) -> None:
    """Pick ``option`` in a group of radio buttons: Tab into the group, then the arrow keys."""
    tab_to(page, group_member)
    for _ in range(10):
        now = focused(page)
        assert now is not None and now["type"] == "radio", now
        if now["name"] == option:
            page.keyboard.press("Space")
            assert focused(page)["checked"], option  # type: ignore[index]
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no radio button {option!r} after {group_member!r}")


def tick(page: Any, label: str, *, back: bool = False) -> None:
    """Tab to a checkbox and tick it with Space."""
    box = tab_to(page, label, back=back)
    assert box["type"] == "checkbox" and not box["checked"], box
    page.keyboard.press("Space")
    assert focused(page)["checked"], label  # type: ignore[index]


def press(page: Any, name: str, **kw: Any) -> None:
    """Tab to a button or link and press Enter."""
    target = tab_to(page, name, **kw)
    assert target["tag"] in ("a", "button") or target["type"] == "submit", target
    page.keyboard.press("Enter")


def test_sign_up_for_a_meeting_by_keyboard(live_app: LiveApp, page: Any) -> None:
    with live_app.session() as s:
        round_ = make_round(s, RoundStatus.OPEN, title="Tastaturets forløb")
        meeting = make_meeting(s, round_, title="Hjælp ved tastaturet", capacity=10)

    page.goto(f"{live_app.url}/rounds/{round_.id}")
    press(page, "Hjælp ved tastaturet")
    page.wait_for_url(f"{live_app.url}/meetings/{meeting.id}")
    type_into(page, "Dit navn", "Tove Taster")
    type_into(page, "Din e-mail", "tove-tastatur@example.dk")
    tick(page, "Jeg har læst, hvordan I bruger mine oplysninger")
    press(page, "Tilmeld dig")
    page.wait_for_url(f"{live_app.url}/meetings/{meeting.id}/signed-up*")
    assert page.get_by_role("heading", level=1).inner_text() == "Du er tilmeldt"


def test_citizen_signs_in_by_the_mailed_link_and_applies_by_keyboard(live_app: LiveApp, page: Any) -> None:
    with live_app.session() as s:
        round_ = make_round(s, RoundStatus.OPEN, title="Søg med tastaturet")
    address = "tastatur-ansoger@example.dk"

    page.goto(f"{live_app.url}/rounds/{round_.id}")
    press(page, "Søg nu")
    page.wait_for_url(re.compile(r".*/apply/sign-in.*"))
    type_into(page, "Din e-mailadresse", address)
    press(page, "Send mig et link")
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Tjek din e-mail"

    page.goto(_sign_in_link(live_app, address))
    press(page, "Log ind", exact=True)
    page.wait_for_url(f"{live_app.url}/apply/rounds/{round_.id}/new")

    for label, text in [
        ("Projektets titel", "Tastaturcafé"), ("Kort resumé", "Vi lærer hinanden genveje på tastaturet."),
        ("Hvad vil du lave?", "Et kursus i at bruge computeren uden mus."), ("Hvem er det for?", "Ældre i kvarteret"),
        ("Hvor skal det foregå?", "Biblioteket"), ("Hvornår skal det foregå?", "Hver tirsdag i foråret"),
    ]:
        type_into(page, label, text)
    choose(page, "Ja", "Nej")
    choose(page, "Jeg søger som privatperson", "Jeg søger som privatperson")
    type_into(page, "Dit navn", "Tove Taster")
    type_into(page, "Telefonnummer", "20304050")
    type_into(page, "Beløb du søger (kr.)", "5.000")
    type_into(page, "Linje 1: hvad til", "Kaffe og kage")
    type_into(page, "Linje 1: beløb (kr.)", "5.000")
    tick(page, "privatlivserklæringen")
    press(page, "Send ansøgningen")
    page.wait_for_url(re.compile(r".*/apply/\d+$"))
    assert page.get_by_text("Sendt — venter på kommunen").is_visible()


def test_vote_with_a_ballot_card_on_a_phone_by_keyboard(live_app: LiveApp, browser: Any) -> None:
    with live_app.session() as s:
        setup = make_vote_meeting(s, open_vote=True, min_choices=2, max_choices=3)
        code = issue(s, setup, 1)[0].code
    titles = [title for title, _amount in PROJECTS]
    context = browser.new_context(**PHONE, locale="da-DK")
    phone = context.new_page()
    phone.set_default_timeout(10_000)
    try:
        phone.goto(f"{live_app.url}/v/{code}")
        phone.wait_for_url(f"{live_app.url}/ballot")
        tick(phone, titles[0])
        tick(phone, titles[1])
        tab_to(phone, "Fortsæt")
        tick(phone, titles[-1], back=True)  # back up the list with Shift+Tab for a third choice
        press(phone, "Fortsæt")
        phone.wait_for_load_state()
        assert phone.get_by_role("heading", level=1).inner_text() == "Tjek din stemme"
        chosen = phone.locator("main").inner_text()
        assert all(t in chosen for t in (titles[0], titles[1], titles[-1])), chosen
        press(phone, "Afgiv min stemme")
        phone.wait_for_url("**/ballot/done")
        assert phone.get_by_role("heading", level=1).inner_text() == "Tak for din stemme"
    finally:
        context.close()


def test_staff_sign_in_by_keyboard(live_app: LiveApp, page: Any) -> None:
    with live_app.session() as s:
        user = make_user(s, Role.MEETING_STAFF)

    page.goto(f"{live_app.url}/login")
    type_into(page, "E-mail", user.email)
    type_into(page, "Adgangskode", TEST_PASSWORD)
    page.keyboard.press("Enter")  # Enter in the form's last field sends it
    page.wait_for_url(f"{live_app.url}/staff/**")
    assert "Log ud" in page.locator("header").inner_text()
