"""Staff accounts: creating, signing in with throttling, session invalidation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from deltager.accounts import services
from deltager.accounts.models import User
from deltager.audit.models import AuditEvent
from deltager.audit.services import Actor
from deltager.errors import NotAllowed, Throttled, ValidationFailed
from deltager.permissions import Role
from tests.conftest import TEST_PASSWORD, make_user

ADMIN = Actor.system("test")
NOW = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)


LIMITS = services.LoginLimits(window_seconds=15 * 60, max_per_account=5, max_per_ip=30, max_per_device=10)


def _login(session: Session, email: str, password: str, *, ip: str = "10.0.0.1", now: dt.datetime = NOW,
           device: services.Device | None = None) -> User | None:
    attempt = services.count_attempt(session, email=email, ip=ip, device=device, now=now, limits=LIMITS)
    return services.sign_in(session, attempt, password)


def test_create_user_hashes_with_scrypt_and_audits(session: Session) -> None:
    user = services.create_user(session, ADMIN, email=" Anne@Kommune.DK ", name="Anne", role=Role.ADMIN,
                                password="a long enough password")
    assert user.email == "anne@kommune.dk"
    assert user.password_hash.startswith("scrypt:")
    assert "a long enough password" not in user.password_hash
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create")).one()
    assert "password_hash" not in (event.after or {})


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [("not-an-email", "a long enough password", "email"), ("a@b.dk", "short", "password")],
)
def test_create_user_validates(session: Session, email: str, password: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.create_user(session, ADMIN, email=email, name="X", role=Role.VIEWER, password=password)
    assert caught.value.field == field


def test_duplicate_email_refused(session: Session) -> None:
    make_user(session, email="dup@kommune.dk")
    with pytest.raises(ValidationFailed):
        services.create_user(session, ADMIN, email="DUP@kommune.dk", name="X", role=Role.VIEWER,
                             password="a long enough password")


def test_authenticate_right_and_wrong(session: Session) -> None:
    user = make_user(session, email="sag@kommune.dk")
    assert _login(session, "sag@kommune.dk", "wrong password") is None
    assert _login(session, "SAG@kommune.dk", TEST_PASSWORD) is user
    assert user.last_login_at == NOW


def test_inactive_user_cannot_sign_in(session: Session) -> None:
    make_user(session, email="old@kommune.dk", active=False)
    assert _login(session, "old@kommune.dk", TEST_PASSWORD) is None


def test_throttle_per_account_even_with_right_password(session: Session) -> None:
    make_user(session, email="target@kommune.dk")
    for i in range(5):
        assert _login(session, "target@kommune.dk", f"guess {i}", ip=f"10.0.0.{i}") is None
    with pytest.raises(Throttled):
        _login(session, "target@kommune.dk", TEST_PASSWORD, ip="10.9.9.9")
    # Once the failures are out of the window (a failure counts for one to two windows), it works again.
    later = NOW + dt.timedelta(minutes=31)
    assert _login(session, "target@kommune.dk", TEST_PASSWORD, now=later) is not None


def test_a_right_password_does_not_use_up_the_allowance(session: Session) -> None:
    make_user(session, email="daily@kommune.dk")
    for _ in range(8):
        assert _login(session, "daily@kommune.dk", TEST_PASSWORD) is not None
    for i in range(5):
        assert _login(session, "daily@kommune.dk", f"guess {i}") is None
    with pytest.raises(Throttled):
        _login(session, "daily@kommune.dk", TEST_PASSWORD)


def test_a_device_that_signed_in_before_keeps_its_own_allowance(session: Session) -> None:
    owner = make_user(session, email="owner@kommune.dk")
    colleague = make_user(session, email="colleague@kommune.dk")
    own_device = services.Device(user_id=owner.id, nonce=services.new_device_nonce())
    for i in range(5):  # a stranger locks the account for browsers it was never used in
        assert _login(session, "owner@kommune.dk", f"guess {i}", ip=f"192.0.2.{i}") is None
    with pytest.raises(Throttled):
        _login(session, "owner@kommune.dk", TEST_PASSWORD)
    with pytest.raises(Throttled):  # another user's device cookie is no key to this account
        _login(session, "owner@kommune.dk", TEST_PASSWORD,
               device=services.Device(user_id=colleague.id, nonce=services.new_device_nonce()))
    assert _login(session, "owner@kommune.dk", TEST_PASSWORD, device=own_device) is owner


def test_a_device_cookie_is_locked_after_its_own_failures(session: Session) -> None:
    owner = make_user(session, email="owner@kommune.dk")
    device = services.Device(user_id=owner.id, nonce=services.new_device_nonce())
    for i in range(10):
        assert _login(session, "owner@kommune.dk", f"typo {i}", device=device) is None
    with pytest.raises(Throttled, match="this browser"):
        _login(session, "owner@kommune.dk", TEST_PASSWORD, device=device)
    # the account itself is not locked for other browsers: the device's failures were its own
    assert _login(session, "owner@kommune.dk", TEST_PASSWORD, ip="10.0.0.9") is owner
    other_device = services.Device(user_id=owner.id, nonce=services.new_device_nonce())
    assert _login(session, "owner@kommune.dk", TEST_PASSWORD, device=other_device) is owner


def test_throttle_per_ip(session: Session) -> None:
    for i in range(30):
        _login(session, f"nobody{i}@kommune.dk", "x", ip="192.0.2.7")
    with pytest.raises(Throttled):
        _login(session, "someone@kommune.dk", "x", ip="192.0.2.7")


def test_session_id_carries_version(session: Session) -> None:
    user = make_user(session)
    session_id = user.get_id()
    assert services.load_session_user(session, session_id) is user
    services.end_sessions(session, user)
    assert services.load_session_user(session, session_id) is None
    assert services.load_session_user(session, user.get_id()) is user
    for bad in ["", "x", "1", "1:", ":1", "abc:def", f"{user.id}:999"]:
        assert services.load_session_user(session, bad) is None


def test_reset_password_and_deactivate_end_sessions(session: Session) -> None:
    user = make_user(session)
    admin = make_user(session, Role.ADMIN)
    actor = Actor.staff(admin)
    old = user.get_id()
    services.reset_password(session, actor, user.id, "a brand new password")
    assert services.load_session_user(session, old) is None
    old = user.get_id()
    services.set_active(session, actor, user.id, False)
    assert services.load_session_user(session, old) is None
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))).all()
    assert {"user.password_reset", "user.deactivate"} <= set(actions)


def test_admin_cannot_lock_themselves_out(session: Session) -> None:
    admin = make_user(session, Role.ADMIN)
    with pytest.raises(NotAllowed):
        services.set_active(session, Actor.staff(admin), admin.id, False)
    with pytest.raises(NotAllowed):
        services.update_user(session, Actor.staff(admin), admin.id, name="A", role=Role.VIEWER)
