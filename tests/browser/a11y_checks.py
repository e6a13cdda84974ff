"""The accessibility checks the route walk runs on each page, in the browser, as one script each.

Each returns a list of problems (empty: the page passes), so a self-test can show it catches them.
"""

from __future__ import annotations

from typing import Any

WIDTHS = (320, 1280)
#: 200 % zoom of a 1280 px window: the page lays out in 640 CSS px.
ZOOMED_WIDTH = 640
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

#: WCAG 1.4.12 text spacing, as the bookmarklet testers use applies it.
TEXT_SPACING_CSS = """
* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
    word-spacing: 0.16em !important; }
p { margin-bottom: 2em !important; }
"""

# Sideways scroll of the page itself (WCAG 1.4.10 reflow).
_OVERFLOW_JS = """() => {
  const d = document.documentElement;
  if (d.scrollWidth <= window.innerWidth) return [];
  const wide = [...document.body.querySelectorAll('*')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
    .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
  return [`page is ${d.scrollWidth} px wide in a ${window.innerWidth} px window (widest: ${wide.join(', ')})`];
}"""

# Every region that scrolls is reachable by keyboard: focusable itself or holding something focusable.
_SCROLL_JS = """() => {
  const focusable = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), ' +
                    'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  const out = [];
  for (const e of document.body.querySelectorAll('*')) {
    const s = getComputedStyle(e);
    const x = e.scrollWidth > e.clientWidth + 1 && /(auto|scroll)/.test(s.overflowX);
    const y = e.scrollHeight > e.clientHeight + 1 && /(auto|scroll)/.test(s.overflowY);
    if (!(x || y)) continue;
    if (e.matches(focusable) || e.querySelector(focusable)) continue;
    out.push(`scrollable ${e.tagName.toLowerCase()}.${e.className} cannot be reached by keyboard`);
  }
  return out;
}"""

# Focus is visible: focusing each element changes how it is drawn (outline, shadow, border, background).
_FOCUS_JS = """() => {
  const sel = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), ' +
              'select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
  const look = e => { const s = getComputedStyle(e);
    return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.borderColor, s.backgroundColor,
            s.textDecorationLine, s.color].join('|'); };
  const out = [];
  const before = document.activeElement;
  for (const e of document.querySelectorAll(sel)) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not rendered (e.g. a collapsed details' content)
    if (getComputedStyle(e).visibility === 'hidden') continue;
    e.blur();
    const unfocused = look(e);
    e.focus({preventScroll: true});
    if (document.activeElement !== e) continue;  // not focusable after all
    const focused = look(e);
    e.blur();
    if (focused === unfocused) out.push(`no visible focus on ${e.outerHTML.slice(0, 80)}`);
  }
  if (before && before.focus) before.focus({preventScroll: true});
  return out;
}"""

# Text cut off by a box that hides its overflow (at 200 % zoom with text spacing applied).
_CLIPPED_JS = """() => {
  const out = [];
  for (const e of document.body.querySelectorAll('*')) {
    const s = getComputedStyle(e);
    if (e.clientWidth <= 1 || e.clientHeight <= 1) continue;  // visually hidden on purpose
    if (!e.textContent.trim()) continue;
    const hx = /(hidden|clip)/.test(s.overflowX), hy = /(hidden|clip)/.test(s.overflowY);
    if ((hx && e.scrollWidth > e.clientWidth + 1) || (hy && e.scrollHeight > e.clientHeight + 1)
        || (s.textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1))
      out.push(`text clipped in ${e.tagName.toLowerCase()}.${e.className}`);
  }
  return out;
}"""


def overflow(page: Any) -> list[str]:
    """The page scrolls sideways."""
    return list(page.evaluate(_OVERFLOW_JS))


def unreachable_scroll(page: Any) -> list[str]:
    """Scrollable regions the keyboard cannot reach."""
    return list(page.evaluate(_SCROLL_JS))


def invisible_focus(page: Any) -> list[str]:
    """Focusable elements that look the same focused and unfocused."""
    return list(page.evaluate(_FOCUS_JS))


def clipped(page: Any) -> list[str]:
    """Text cut off by hidden overflow."""
    return list(page.evaluate(_CLIPPED_JS))


_AXE: Any = None


def axe_violations(page: Any) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now."""
    global _AXE  # noqa: PLW0603 (one Axe, its script read once)
    if _AXE is None:
        from axe_playwright_python.sync_playwright import Axe

        _AXE = Axe()
    results = _AXE.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    return [f"axe {v['id']} ({v['impact']}): {len(v['nodes'])} node(s), e.g. {v['nodes'][0]['target']}"
            for v in results.response["violations"]]


def check_width(page: Any, width: int, *, with_axe: bool = True) -> list[str]:
    """All checks at one window width (the page is resized, not reloaded)."""
    page.set_viewport_size({"width": width, "height": 800})
    problems = overflow(page) + unreachable_scroll(page)
    if width == WIDTHS[-1]:  # how focus is drawn does not depend on the width
        problems += invisible_focus(page)
    if with_axe:
        problems += axe_violations(page)
    return [f"{width} px: {p}" for p in problems]


def check_zoomed(page: Any) -> list[str]:
    """200 % zoom with WCAG 1.4.12 text spacing: no sideways scroll, no clipped text."""
    page.set_viewport_size({"width": ZOOMED_WIDTH, "height": 400})
    handle = page.add_style_tag(content=TEXT_SPACING_CSS)
    try:
        problems = overflow(page) + clipped(page)
    finally:
        handle.evaluate("e => e.remove()")
    return [f"200 % zoom + text spacing: {p}" for p in problems]


def check_page(page: Any) -> list[str]:
    """Every check at every width; leaves the window at the desktop width."""
    problems = []
    for width in WIDTHS:
        problems += check_width(page, width)
    problems += check_zoomed(page)
    page.set_viewport_size({"width": WIDTHS[-1], "height": 800})
    return problems
