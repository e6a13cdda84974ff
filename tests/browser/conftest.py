"""Real-browser tests: Playwright driving Debian's Chromium against a real server on loopback.

The server runs in a thread of the test process on a free port, with its own migrated SQLite
file and CSRF on, exactly as in production. Every page a test visits can be checked with axe.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from deltager import create_app, migrate
from deltager.accounts.models import User
from deltager.applications.models import Application
from deltager.citizens.auth import SESSION_KEY
from deltager.citizens.services import session_value
from deltager.db import get_db, make_engine
from deltager.permissions import Role
from tests.conftest import TEST_PASSWORD, make_user
from tests.fixtures.smtp import free_port

CHROMIUM = Path(os.environ.get("DELTAGER_CHROMIUM", "/usr/bin/chromium"))
# Without these, Chromium phones home at start and the closed network refuses it, slowly.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


@dataclass
class LiveApp:
    """A running Deltager: its base URL, the app object and its instance folder."""

    url: str
    app: Flask
    instance: Path

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends (for arranging test data)."""
        with self.app.app_context():
            session = get_db(self.app).session()
            try:
                yield session
                session.commit()
            finally:
                session.close()

    def login(self, page: Any, role: Role = Role.CASEWORKER, **kw: Any) -> User:
        """Create a staff user and sign in through the real login form."""
        with self.session() as s:
            user = make_user(s, role, **kw)
        page.goto(f"{self.url}/login")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Adgangskode").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Log ind").click()
        page.wait_for_url(f"{self.url}/staff/**")
        return user

    def outbox(self) -> Path:
        """Where the server writes e-mails (.eml), as no SMTP server is configured."""
        return self.instance / "outbox"


@contextlib.contextmanager
def serve(instance: Path, prepare: Any = None) -> Iterator[LiveApp]:
    """Serve a freshly migrated app from ``instance`` on a free loopback port; ``prepare(app)`` first."""
    database_url = f"sqlite:///{instance / 'deltager.sqlite'}"
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": "browser-tests", "BASE_URL": url,
         "MAIL_OUTBOX_DIR": str(instance / "outbox")},
        instance_path=instance,
    )
    if prepare is not None:
        prepare(app)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveApp(url=url, app=app, instance=instance)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        get_db(app).engine.dispose()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """Serve the app on a free loopback port for the whole session."""
    with serve(tmp_path_factory.mktemp("live-instance")) as live:
        yield live


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright; the browser tests skip, saying why, without it."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A desktop browser tab with its own cookies."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone-sized, touch browser tab with its own cookies."""
    context = browser.new_context(**PHONE, locale="da-DK")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    try:
        yield tab
    finally:
        context.close()


def _axe_check(tab: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(tab)
    assert results.violations_count == 0, (
        f"axe found {results.violations_count} accessibility violation(s) on {tab.url}:\n"
        + results.generate_report()
    )


@pytest.fixture
def axe() -> Any:
    """``axe(page)``: fail the test if axe-core finds any violation on the page as it is now."""
    return _axe_check


def citizen_cookie(live: LiveApp, application_id: int) -> dict[str, str]:
    """The session cookie of the application's citizen, signed in (for ``context.add_cookies``)."""
    client = live.app.test_client()
    with live.app.app_context():
        application = get_db(live.app).session().get(Application, application_id)
        assert application is not None
        with client.session_transaction() as flask_session:
            flask_session[SESSION_KEY] = session_value(application.applicant)
    name = live.app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None
    return {"name": name, "value": cookie.value, "url": live.url}
