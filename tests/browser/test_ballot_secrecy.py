"""Ballot secrecy in a real browser: a voter's choices never appear in an address."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveApp
from tests.voting.factories import PROJECTS, issue, make_vote_meeting

pytestmark = pytest.mark.browser


def test_the_phone_flow_puts_no_choice_in_any_address(live_app: LiveApp, phone: Any, axe: Any) -> None:
    """Ballot → confirmation → change my choices → confirmation → cast: every request the phone
    makes, and every address it shows or keeps in its history, is free of the choices; they go
    in POST bodies (which the test sees too, so the recording is known to work)."""
    with live_app.session() as session:
        setup = make_vote_meeting(session, open_vote=True, min_choices=2, max_choices=3)
        code = issue(session, setup, 1)[0].code
    urls: list[str] = []
    bodies: list[str] = []
    phone.on("request", lambda request: (urls.append(request.url), bodies.append(request.post_data or "")))
    visited: list[str] = []
    phone.on("framenavigated", lambda frame: visited.append(frame.url) if frame == phone.main_frame else None)
    titles = [title for title, _ in PROJECTS]

    phone.goto(f"{live_app.url}/v/{code}")
    for title in titles[:2]:
        phone.get_by_label(title).check()
    phone.get_by_role("button", name="Fortsæt").click()
    assert phone.get_by_role("heading", level=1).inner_text() == "Tjek din stemme"
    axe(phone)
    phone.get_by_role("button", name="Ret mine valg").click()
    assert phone.get_by_role("heading", level=1).inner_text() == "Din stemmeseddel"
    assert phone.get_by_label(titles[0]).is_checked() and phone.get_by_label(titles[1]).is_checked()
    phone.get_by_label(titles[2]).check()
    phone.get_by_role("button", name="Fortsæt").click()
    assert titles[2] in phone.locator(".chosen-list").inner_text()
    phone.get_by_role("button", name="Afgiv min stemme").click()
    assert phone.get_by_role("heading", level=1).inner_text() == "Tak for din stemme"

    assert any("choice=" in body for body in bodies), "the choices were sent, in bodies"
    assert [url.removeprefix(live_app.url) for url in visited] == [
        "/ballot", "/ballot/confirm", "/ballot/change", "/ballot/confirm", "/ballot/done"]
    # ``visited`` is every address the tab committed to, which is what its history keeps.
    for url in urls + visited + [phone.url]:
        assert "choice" not in url, url
