"""The walk's checks can fail: each catches the fault it is for on a page made to have it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import a11y_checks as checks

pytestmark = pytest.mark.browser

GOOD = """<!doctype html><html lang="da"><head><title>God</title>
<style>a:focus-visible { outline: 3px solid #000; }</style></head>
<body><main><h1>God side</h1><p><a href="#x">Et link</a></p>
<div style="overflow-x:auto" tabindex="0"><table><tr><td style="white-space:nowrap">{wide}</td></tr></table></div>
</main></body></html>""".replace("{wide}", "x" * 300)


@pytest.fixture
def tab(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 320, "height": 800})
    yield context.new_page()
    context.close()


def test_a_good_page_passes(tab: Any) -> None:
    tab.set_content(GOOD)
    assert checks.overflow(tab) == [] and checks.unreachable_scroll(tab) == [] and checks.invisible_focus(tab) == []


def test_sideways_scroll_is_caught(tab: Any) -> None:
    tab.set_content('<html lang="da"><body><p style="width:600px">bred</p></body></html>')
    assert checks.overflow(tab)


def test_a_scroll_region_without_keyboard_access_is_caught(tab: Any) -> None:
    tab.set_content(GOOD.replace(' tabindex="0"', ""))
    assert checks.unreachable_scroll(tab)


def test_focus_without_a_visible_change_is_caught(tab: Any) -> None:
    tab.set_content(GOOD.replace("outline: 3px solid #000", "outline: none"))
    assert checks.invisible_focus(tab)


def test_clipped_text_is_caught(tab: Any) -> None:
    tab.set_content('<html lang="da"><body><p style="height:1.2em;overflow:hidden;width:100px">'
                    + "ord " * 40 + "</p></body></html>")
    assert checks.clipped(tab)
