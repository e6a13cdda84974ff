"""The result of a vote as people read it: on a 320 px phone, and projected on the big screen."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from deltager import road
from deltager.money import format_ore
from deltager.permissions import Role
from deltager.voting import services
from deltager.voting.models import AllocationRule
from tests.browser.conftest import LiveApp
from tests.voting.factories import NOW, TEST_ACTOR, cast_ballots, make_vote_meeting

pytestmark = pytest.mark.browser

# Long Danish compounds and five-digit amounts: what pushed "Stemmer" and "Bevilget" off a phone's screen.
PROJECTS = [
    ("Fællesspisningsarrangementet i Gellerupparkens beboerhus", 24_500),
    ("Lektiehjælp", 9_000),
    ("Reparationscaféen for cykler, barnevogne og kørestole", 18_000),
    ("Gårdfest", 7_000),
    ("Strikkeklub", 3_000),
]
BRAND = (0x0B, 0x5B, 0x4A)  # --brand: the bars' colour


def _closed_vote(live_app: LiveApp, rule: AllocationRule = AllocationRule.MES) -> tuple[int, int, list[Any]]:
    """A closed vote of ten ballots (meeting id, round id, result lines)."""
    with live_app.session() as session:
        setup = make_vote_meeting(session, projects=PROJECTS, open_vote=True, rule=rule, max_choices=3)
        a, b, c, d, e = setup.ids
        cast_ballots(session, setup, [[a, b]] * 4 + [[a, c]] * 2 + [[c, d, e]] * 3 + [[b]])
        allocation = road.close_vote(session, TEST_ACTOR, setup.meeting.id, NOW)
        lines = services.result_lines(session, allocation)
        return setup.meeting.id, setup.round.id, lines


def _no_sideways_scroll(page: Any) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{page.url} scrolls sideways at {width} px"


def _every_result_readable(page: Any, lines: list[Any]) -> None:
    """Each project's votes and granted amount are shown, inside the screen's width."""
    width = page.viewport_size["width"]
    rows = page.locator(".result-table tbody tr")
    assert rows.count() == len(lines)
    for i, line in enumerate(lines):
        row = rows.nth(i)
        votes, granted = row.locator(".votes .value"), row.locator(".granted .value")
        assert votes.inner_text() == str(line.votes)
        assert granted.inner_text() == (format_ore(line.granted_ore) if line.selected else "Ikke støttet")
        for cell in (votes, granted):
            cell.scroll_into_view_if_needed()
            assert cell.is_visible()
            box = cell.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
                f"{line.title}: {cell.inner_text()} is cut off at {width} px")
        reason = row.locator(".reason")
        assert reason.inner_text() == line.reason_da and reason.is_visible()
    summary = page.locator(".result-summary").inner_text()
    assert "Ikke fordelt" in summary and "Afgivne stemmesedler\n10" in summary


def test_the_result_reads_on_a_320_px_phone(live_app: LiveApp, browser: Any, axe: Any, tmp_path: Path) -> None:
    meeting_id, round_id, lines = _closed_vote(live_app)
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="da-DK", is_mobile=True)
    phone = context.new_page()
    phone.set_default_timeout(10_000)
    try:
        for path in (f"/rounds/{round_id}", f"/m/{meeting_id}/screen"):
            phone.goto(f"{live_app.url}{path}")
            _no_sideways_scroll(phone)
            _every_result_readable(phone, lines)
            phone.screenshot(path=str(tmp_path / "result-320.png"), full_page=True)
            axe(phone)
        live_app.login(phone, Role.CASEWORKER)
        phone.goto(f"{live_app.url}/staff/voting/{meeting_id}")
        _no_sideways_scroll(phone)
        _every_result_readable(phone, lines)
    finally:
        context.close()


def _font_px(page: Any, selector: str) -> float:
    return float(page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def _projector(browser: Any, width: int, height: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="da-DK")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    return context, tab


def _chrome_absent(page: Any) -> None:
    """No site navigation, language switch, staff sign-in link or footer on a projected screen."""
    for selector in ("header", "nav", "footer", ".language-switch", "a[href*='login']"):
        assert page.locator(selector).count() == 0, f"{selector} on the big screen"


def _brand_pixels(png: bytes) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(count for count, colour in image.getcolors(maxcolors=1 << 20) or [] if colour == BRAND)


@pytest.mark.parametrize(("width", "height", "min_text_px"), [(1920, 1080, 32), (1280, 720, 22)])
def test_the_big_screen_is_a_projector_view(
    live_app: LiveApp, browser: Any, axe: Any, tmp_path: Path, width: int, height: int, min_text_px: float
) -> None:
    with live_app.session() as session:
        setup = make_vote_meeting(session, projects=PROJECTS, open_vote=True, max_choices=3)
        open_id = setup.meeting.id
        cast_ballots(session, setup, [[setup.ids[0]]] * 3)
        services.issue_cards(session, TEST_ACTOR, open_id, 4, NOW)
    closed_id, _, lines = _closed_vote(live_app)
    context, screen = _projector(browser, width, height)
    try:
        # While the vote runs: cards handed out beside ballots cast, large, and nothing else of the site.
        screen.goto(f"{live_app.url}/m/{open_id}/screen")
        shot = screen.screenshot(path=str(tmp_path / f"screen-open-{width}.png"))
        _no_sideways_scroll(screen)
        _chrome_absent(screen)
        assert screen.locator("#turnout-cards").inner_text() == "7"
        assert screen.locator("#turnout-count").inner_text() == "3"
        cards_box = screen.locator("#turnout-cards").bounding_box()
        ballots_box = screen.locator("#turnout-count").bounding_box()
        assert cards_box and ballots_box and abs(cards_box["y"] - ballots_box["y"]) < 2, "the two counts side by side"
        assert cards_box["y"] + cards_box["height"] <= height, "the counts are on screen without scrolling"
        assert _font_px(screen, "#turnout-count") >= 2.5 * min_text_px
        assert _font_px(screen, ".screen-steps li") >= min_text_px
        assert _font_px(screen, "h1") >= 1.5 * min_text_px
        assert Image.open(io.BytesIO(shot)).size == (width, height)
        axe(screen)

        # After closing: the result as a table with a bar per project, in type read from the back of a hall.
        screen.goto(f"{live_app.url}/m/{closed_id}/screen")
        shot = screen.screenshot(path=str(tmp_path / f"screen-result-{width}.png"), full_page=True)
        _no_sideways_scroll(screen)
        _chrome_absent(screen)
        _every_result_readable(screen, lines)
        assert _font_px(screen, ".result-table tbody th") >= min_text_px
        assert _font_px(screen, ".result-table .granted") >= min_text_px
        bars = screen.locator(".result-table .bar-fill")
        assert bars.count() == len(lines)
        widths = [bars.nth(i).bounding_box()["width"] for i in range(len(lines))]  # type: ignore[index]
        assert all(w > 0 for w, line in zip(widths, lines) if line.votes)
        assert widths == sorted(widths, reverse=True), "longer bars for more votes (rank order)"
        assert _brand_pixels(shot) > 1000, "the bars show in the screenshot"
        assert screen.locator(".rule-explained").inner_text().startswith(
            "Lige andele: puljen på 50.000 kr. delt ligeligt mellem 10 vælgere giver 5.000 kr. til hver.")
        assert screen.locator(".result-table .reason").all_inner_texts() == [line.reason_da for line in lines]
        assert _font_px(screen, ".result-table .reason") >= 0.8 * min_text_px
        axe(screen)
    finally:
        context.close()


def test_the_big_screen_does_not_scroll_sideways_on_a_phone(live_app: LiveApp, phone: Any) -> None:
    with live_app.session() as session:
        setup = make_vote_meeting(session, projects=PROJECTS, open_vote=True, max_choices=3)
    for width in (320, 390):
        phone.set_viewport_size({"width": width, "height": 700})
        phone.goto(f"{live_app.url}/m/{setup.meeting.id}/screen")
        _no_sideways_scroll(phone)
        _chrome_absent(phone)


def test_the_big_screen_counts_live_without_reloading(live_app: LiveApp, browser: Any) -> None:
    from playwright.sync_api import expect

    with live_app.session() as session:
        setup = make_vote_meeting(session, projects=PROJECTS, open_vote=True, max_choices=3)
        cast_ballots(session, setup, [[setup.ids[0]]])
    context, screen = _projector(browser, 1280, 720)
    try:
        screen.goto(f"{live_app.url}/m/{setup.meeting.id}/screen")
        screen.evaluate("window.loadedOnce = true")  # gone if the page reloads
        assert (screen.locator("#turnout-cards").inner_text(), screen.locator("#turnout-count").inner_text()) == ("1", "1")
        with live_app.session() as session:
            cast_ballots(session, setup, [[setup.ids[1]], [setup.ids[2]]])
            services.issue_cards(session, TEST_ACTOR, setup.meeting.id, 2, NOW)
        expect(screen.locator("#turnout-count")).to_have_text("3", timeout=15_000)
        expect(screen.locator("#turnout-cards")).to_have_text("5", timeout=15_000)
        assert screen.evaluate("window.loadedOnce === true")
    finally:
        context.close()
