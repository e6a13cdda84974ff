"""The voting meeting in real browsers: cards issued, ten phones vote, a paper ballot, the big screen."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from deltager.permissions import Role
from deltager.voting import services
from deltager.voting.models import Allocation
from tests.browser.conftest import PHONE, LiveApp
from tests.voting.factories import PROJECTS, make_vote_meeting

pytestmark = pytest.mark.browser
VOTERS = 10


def _vote_on_phone(browser: Any, url: str, titles: list[str], axe: Any | None) -> None:
    context = browser.new_context(**PHONE, locale="da-DK")
    phone = context.new_page()
    phone.set_default_timeout(10_000)
    try:
        phone.goto(url)
        assert phone.url.endswith("/ballot"), "the code must leave the address bar"
        if axe:
            axe(phone)
            phone.set_viewport_size({"width": 320, "height": 640})
            assert phone.evaluate("document.documentElement.scrollWidth") <= 320, "the ballot scrolls sideways at 320 px"
        for title in titles:
            phone.get_by_label(title).check()
        phone.get_by_role("button", name="Fortsæt").click()
        assert phone.get_by_role("heading", level=1).inner_text() == "Tjek din stemme"
        if axe:
            axe(phone)
        phone.get_by_role("button", name="Afgiv min stemme").click()
        assert phone.get_by_role("heading", level=1).inner_text() == "Tak for din stemme"
        if axe:
            axe(phone)
        phone.goto(url)  # the same card again
        assert "allerede brugt" in phone.content()
    finally:
        context.close()


def test_a_voting_meeting_from_cards_to_the_big_screen(live_app: LiveApp, browser: Any, page: Any, axe: Any) -> None:
    with live_app.session() as session:
        setup = make_vote_meeting(session, open_vote=False, min_choices=1, max_choices=3)
        meeting_id, round_id = setup.meeting.id, setup.round.id

    live_app.login(page, Role.CASEWORKER)
    page.goto(f"{live_app.url}/staff/voting/{meeting_id}")
    axe(page)
    page.get_by_role("link", name="Stemmekort").click()
    page.get_by_label("Antal stemmekort").fill(str(VOTERS + 2))
    page.get_by_label("CSV til et trykkeri (nummer og adresse)").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Udsted og hent").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["serial"] for r in rows] == [f"{n:04d}" for n in range(1, VOTERS + 3)]
    # Once the file is saved, the page shows the batch: it no longer says that no card was issued.
    page.locator("table.batches").wait_for()
    assert f"Der er udstedt {VOTERS + 2} stemmekort til dette møde." in page.content()
    assert f"0001–{VOTERS + 2:04d}" in page.locator("table.batches").inner_text()
    axe(page)

    page.goto(f"{live_app.url}/staff/voting/{meeting_id}")
    page.get_by_role("link", name="Åbn afstemningen").click()
    assert "Stemmesedlen ligger fast med 6 projekter:" in page.content()
    axe(page)
    page.get_by_role("button", name="Åbn afstemningen").click()
    assert "Afstemningen er åben." in page.content()

    titles = [title for title, _ in PROJECTS]
    for n in range(VOTERS):
        chosen = [titles[n % len(titles)], titles[(n + 1) % len(titles)]]
        _vote_on_phone(browser, rows[n]["url"], chosen, axe if n == 0 else None)

    page.goto(f"{live_app.url}/staff/voting/{meeting_id}/paper")
    axe(page)
    page.get_by_label("Kortnummer").fill(str(VOTERS + 1))
    page.get_by_label(titles[0]).check()
    page.get_by_role("button", name="Tjek valgene").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Tjek papirstemmesedlen"
    assert titles[0] in page.locator(".chosen-projects").inner_text()
    axe(page)
    page.get_by_role("button", name="Tæl papirstemmen med").click()
    assert f"Papirstemmen for kort {VOTERS + 1:04d} er talt med." in page.content()

    page.goto(f"{live_app.url}/m/{meeting_id}/screen")
    assert page.locator("#turnout-count").inner_text() == str(VOTERS + 1)
    assert titles[0] not in page.content(), "no result on the screen while the vote is open"
    axe(page)

    page.goto(f"{live_app.url}/staff/voting/{meeting_id}")
    page.get_by_role("link", name="Luk afstemningen").click()
    page.get_by_role("button", name="Luk afstemningen og fordel pengene").click()
    assert "Afstemningen er lukket, og resultatet er låst." in page.content()

    with live_app.session() as session:
        allocation = session.scalar(select(Allocation).where(Allocation.meeting_id == meeting_id))
        assert allocation is not None and allocation.frozen and allocation.num_ballots == VOTERS + 1
        lines = services.result_lines(session, allocation)
        remainder = allocation.remainder_ore

    page.goto(f"{live_app.url}/m/{meeting_id}/screen")
    rows_on_screen = page.locator(".result-table tbody tr")
    assert rows_on_screen.count() == len(lines)
    for i, line in enumerate(lines):
        row = rows_on_screen.nth(i)
        assert row.get_by_role("rowheader").inner_text().startswith(line.title)
        assert row.locator(".votes .value").inner_text() == str(line.votes)
        assert row.locator(".granted .value").inner_text() == (
            services_money(line.granted_ore) if line.selected else "Ikke støttet")
    assert page.locator(".result-summary").inner_text().startswith(
        f"Puljen\n{services_money(allocation.pot_ore)}\nBevilget i alt\n{services_money(allocation.granted_total_ore)}"
        f"\nIkke fordelt\n{services_money(remainder)}")
    assert page.locator(".rule-explained").inner_text() == allocation.trace_da[0]
    reasons = page.locator(".result-table .reason").all_inner_texts()
    assert reasons == [line.reason_da for line in lines], "each project's reason in its row"
    axe(page)

    page.goto(f"{live_app.url}/rounds/{round_id}")
    assert page.get_by_role("heading", name="Resultatet af afstemningen").is_visible()


def services_money(ore: int) -> str:
    """Money as the pages show it."""
    from deltager.money import format_ore

    return format_ore(ore)
