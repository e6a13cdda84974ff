"""Every page of the demo as each role sees it: no error, and no link to a page that is not there
or that the reader may not open.

The demo holds a round in each status, applications in each state, meetings with sign-ups, a
vote open and a vote closed with its allocation: following every link from the front page and
the staff home renders each kind of page with real data, in Danish and in English. On SQLite and
on PostgreSQL (``file_app``: the demo commits).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from deltager.demo import DEMO_USERS
from deltager.i18n import LANG_COOKIE

ORIGIN = "http://localhost"
NOT_FOLLOWED = ("/logout", "/static/", "/v/")  # signing out; files; card codes (throttled when wrong)
START = ("/", "/staff/")


def _links(html: str) -> Iterator[str]:
    """The site's own paths that a page links to."""
    import re

    for href in re.findall(r'href="([^"#]*)"', html):
        href = href.replace("&amp;", "&")
        if not href or href.startswith(("mailto:", "tel:")) or (href.startswith("http") and not href.startswith(ORIGIN)):
            continue
        yield href


def crawl(client: FlaskClient, limit: int = 1000) -> tuple[set[str], dict[str, int]]:
    """Follow every link from the start pages; (the paths seen, the paths that answered ≥ 400)."""
    seen: set[str] = set()
    failed: dict[str, int] = {}
    todo = list(START)
    while todo and len(seen) < limit:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code >= 400:
            failed[path] = response.status_code
        if response.mimetype != "text/html":
            continue
        for href in _links(response.get_data(as_text=True)):
            parts = urlsplit(urljoin(ORIGIN + path, href))
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen and not target.startswith(NOT_FOLLOWED):
                todo.append(target)
    return seen, failed


@pytest.fixture
def demo_app(file_app: Flask) -> Flask:
    result = file_app.test_cli_runner().invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    return file_app


def test_every_linked_page_of_the_demo_opens_for_each_role(demo_app: Flask) -> None:
    readers: list[tuple[str | None, str | None, str]] = [
        (email, password, "da") for email, password, _role, _name in DEMO_USERS
    ]
    readers.append((None, None, "da"))  # a citizen who is not signed in
    admin_email, admin_password = DEMO_USERS[0][:2]
    readers += [(admin_email, admin_password, "en"), (None, None, "en")]  # English: every page's words
    for email, password, language in readers:
        client = demo_app.test_client()
        client.set_cookie(LANG_COOKIE, language)
        if email:
            signed_in = client.post("/login", data={"email": email, "password": password})
            assert signed_in.status_code == 303, email
        seen, failed = crawl(client)
        assert failed == {}, f"{email or 'anonymous'} ({language}): {failed}"
        staff_pages = {path for path in seen if path.startswith("/staff/")}
        if email:
            assert len(staff_pages) >= 20, f"{email} reached only {sorted(staff_pages)}"
            assert any(path.startswith("/staff/voting/") for path in seen), email
        else:
            assert {"/rounds/", "/meetings/"} <= {path[:path.find("/", 1) + 1] for path in seen}, sorted(seen)
