"""A lost card at the voting meeting: staff cancel it and hand out a new one, which a phone scans and votes with.

The replacement's code is shown once, as a QR code on the staff member's screen. What counts is
what the browser shows: the page must render as a page (not its HTML source), and the QR code
on it, read from a screenshot like a phone's camera would, must open the ballot.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from deltager.permissions import Role
from tests.browser.conftest import PHONE, LiveApp
from tests.voting.factories import PROJECTS, issue, make_vote_meeting

pytestmark = pytest.mark.browser


def _read_qr(png: bytes) -> str:
    """The text of the one QR code in a screenshot."""
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, f"expected one QR code on the screen, found {len(found)}"
    return str(found[0].text)


def test_a_cancelled_card_is_replaced_and_the_new_card_votes(live_app: LiveApp, browser: Any, page: Any) -> None:
    with live_app.session() as session:
        setup = make_vote_meeting(session, open_vote=True, min_choices=1, max_choices=3)
        lost = issue(session, setup, 2)[1]
        meeting_id = setup.meeting.id

    live_app.login(page, Role.MEETING_STAFF)
    page.goto(f"{live_app.url}/staff/voting/{meeting_id}/void")
    page.get_by_label("Kortnummer").fill(lost.serial)
    assert page.get_by_label("Udsted et nyt kort med det samme (vises som QR-kode på denne skærm)").is_checked()
    with page.expect_response(f"**/staff/voting/{meeting_id}/void") as answer:
        page.get_by_role("button", name="Annullér kortet").click()
    assert answer.value.headers["content-type"] == "text/html; charset=utf-8"
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text().startswith("Nyt stemmekort"), page.content()[:300]
    qr = page.get_by_role("img", name="QR-kode", exact=False)
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR code did not load"
    url = _read_qr(qr.screenshot())
    assert url.startswith(f"{live_app.url}/v/")

    context = browser.new_context(**PHONE, locale="da-DK")
    phone = context.new_page()
    phone.set_default_timeout(10_000)
    try:
        phone.goto(url)
        assert phone.url.endswith("/ballot"), phone.url
        phone.get_by_label(PROJECTS[0][0]).check()
        phone.get_by_role("button", name="Fortsæt").click()
        phone.get_by_role("button", name="Afgiv min stemme").click()
        assert phone.get_by_role("heading", level=1).inner_text() == "Tak for din stemme"
        phone.goto(f"{live_app.url}/v/{lost.code}")  # the lost card is dead
        assert "Dette kort er annulleret." in phone.content()
    finally:
        context.close()
