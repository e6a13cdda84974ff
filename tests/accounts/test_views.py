"""Sign-in pages and the admin's user management, through HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from deltager import create_app
from deltager.accounts.models import User
from deltager.db import get_db
from deltager.permissions import Role
from tests.conftest import TEST_PASSWORD, Auth, app_config, csrf_token, make_user


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def _user(app: Flask, role: Role = Role.CASEWORKER, **kw: Any) -> User:
    with app.app_context():
        s = get_db(app).session()
        user = make_user(s, role, **kw)
        s.close()
    return user


def _sign_in(client: FlaskClient, email: str, password: str, next_: str = "") -> Any:
    page = client.get(f"/login?next={next_}" if next_ else "/login")
    return client.post("/login", data={"email": email, "password": password, "next": next_,
                                       "csrf_token": csrf_token(page.text)})


def test_sign_in_and_out(app: Flask, client: FlaskClient) -> None:
    user = _user(app)
    response = _sign_in(client, user.email, TEST_PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/staff/"
    cookie = client.get_cookie("deltager_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert not cookie.secure  # plain http in tests; Secure when BASE_URL is https (test_config)
    stolen = cookie.value

    home = client.get("/staff/")
    assert home.status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(home.text)}).status_code == 303
    assert client.get("/staff/").status_code == 302

    # A copy of the old cookie stops working too: the session version moved on.
    client.set_cookie("deltager_session", stolen)
    assert client.get("/staff/").status_code == 302


def test_wrong_password_says_so_and_keeps_email(app: Flask, client: FlaskClient) -> None:
    user = _user(app)
    response = _sign_in(client, user.email, "wrong")
    assert response.status_code == 200
    assert "forkert" in response.text
    assert f'value="{user.email}"' in response.text


@pytest.mark.parametrize(
    ("next_", "expected"),
    [
        ("/staff/rounds/new", "/staff/rounds/new"),
        ("https://evil.example/x", "/staff/"),
        ("//evil.example/x", "/staff/"),
        ("/\\evil.example", "/staff/"),
        ("javascript:alert(1)", "/staff/"),
    ],
)
def test_next_only_to_same_site_paths(app: Flask, client: FlaskClient, next_: str, expected: str) -> None:
    user = _user(app)
    response = _sign_in(client, user.email, TEST_PASSWORD, next_)
    assert response.headers["Location"] == expected


def test_throttle_holds_across_workers(app: Flask, client: FlaskClient, database_url: str, tmp_path: Path) -> None:
    """Two app instances (two worker processes) share the failure count through the database."""
    user = _user(app, email="throttle@kommune.dk")
    for _ in range(5):
        _sign_in(client, user.email, "wrong")
    other_worker = create_app(app_config(database_url, tmp_path, WTF_CSRF_ENABLED=False),
                              instance_path=tmp_path)
    db = get_db(other_worker)
    # Share the first worker's (uncommitted-to-disk) test transaction.
    db.sessionmaker.configure(bind=get_db(app).sessionmaker.kw["bind"], join_transaction_mode="create_savepoint")
    response = other_worker.test_client().post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "For mange" in response.text
    db.engine.dispose()


def test_the_owner_s_browser_signs_in_while_strangers_are_locked_out(app: Flask) -> None:
    """OWASP's device cookies: a browser that signed in before keeps its own allowance."""
    user = _user(app, email="owner@kommune.dk")
    owner = app.test_client()
    first = _sign_in(owner, user.email, TEST_PASSWORD)
    device = owner.get_cookie("deltager_device", path="/login")
    assert first.status_code == 303 and device is not None
    assert device.http_only and device.same_site == "Lax"
    home = owner.get("/staff/")
    owner.post("/logout", data={"csrf_token": csrf_token(home.text)})

    stranger = app.test_client()
    for _ in range(5):
        assert _sign_in(stranger, user.email, "a guess").status_code == 200
    assert _sign_in(stranger, user.email, TEST_PASSWORD).status_code == 429
    assert _sign_in(app.test_client(), user.email, TEST_PASSWORD).status_code == 429  # any new browser too
    forged = app.test_client()
    forged.set_cookie("deltager_device", device.value[:-2] + "xx", path="/login")  # a broken signature
    assert _sign_in(forged, user.email, TEST_PASSWORD).status_code == 429

    again = _sign_in(owner, user.email, TEST_PASSWORD)
    assert again.status_code == 303 and owner.get("/staff/").status_code == 200
    renewed = owner.get_cookie("deltager_device", path="/login")
    assert renewed is not None and renewed.value != device.value  # a new nonce at each sign-in


def test_https_base_url_makes_cookies_secure(database_url: str, tmp_path: Path) -> None:
    app = create_app(app_config(database_url, tmp_path, BASE_URL="https://deltager.kommune.dk"),
                     instance_path=tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    get_db(app).engine.dispose()


def test_admin_creates_resets_and_deactivates(app: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.ADMIN)
    page = client.get("/staff/users/new")
    response = client.post("/staff/users/new", data={
        "name": "Mads Mødevært", "email": "mads@kommune.dk", "role": "meeting_staff",
        "password": "a long enough password", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    user_url = response.headers["Location"]
    page = client.get(user_url)
    assert "Mads Mødevært" in page.text and "Mødevært" in page.text

    bad = client.post(f"{user_url}/password", data={"password": "short", "csrf_token": csrf_token(page.text)})
    assert bad.status_code == 400 and "mindst 12 tegn" in bad.text

    ok = client.post(f"{user_url}/password", data={"password": "another long password",
                                                   "csrf_token": csrf_token(page.text)})
    assert ok.status_code == 303
    off = client.post(f"{user_url}/active", data={"active": "0", "csrf_token": csrf_token(page.text)})
    assert off.status_code == 303
    assert "Deaktiveret" in client.get(user_url).text
    audit = client.get("/staff/audit/?object_type=user")
    assert "user.deactivate" in audit.text and "user.password_reset" in audit.text


def test_new_user_form_keeps_input_on_error(client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.ADMIN)
    page = client.get("/staff/users/new")
    response = client.post("/staff/users/new", data={
        "name": "Lene <b>Leder</b>", "email": "not-an-email", "role": "viewer",
        "password": "a long enough password", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 200
    assert "Skriv en gyldig e-mailadresse." in response.text
    assert 'value="not-an-email"' in response.text
    assert "Lene &lt;b&gt;Leder&lt;/b&gt;" in response.text


def test_post_without_csrf_token_is_refused(app: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.login(Role.ADMIN)
    response = client.post("/staff/users/new", data={"name": "X", "email": "x@y.dk", "role": "viewer",
                                                     "password": "a long enough password"})
    assert response.status_code == 400
    assert "udløbet" in response.text
