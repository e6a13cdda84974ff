"""Staff users: creating them, signing in with throttling, resetting and deactivating."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from deltager import ratelimit
from deltager.accounts.models import User
from deltager.audit.services import Actor, record
from deltager.db import begin_write
from deltager.errors import N_, NotAllowed, NotFound, Throttled, ValidationFailed
from deltager.permissions import Role

MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Compared against when the e-mail is unknown, so a wrong e-mail costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


def hash_password(password: str) -> str:
    """scrypt, as Werkzeug does it."""
    return generate_password_hash(password, method="scrypt")


def normalise_email(email: str) -> str:
    """Lower-case and trimmed; e-mail addresses are compared this way."""
    return email.strip().lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            N_("The password must be at least %(count)d characters."), field="password",
            count=MIN_PASSWORD_LENGTH,
        )


def _check_email(email: str) -> None:
    if not _EMAIL.match(email) or len(email) > 254:
        raise ValidationFailed(N_("Enter a valid e-mail address."), field="email")


def create_user(
    session: Session, actor: Actor, *, email: str, name: str, role: Role, password: str
) -> User:
    """Create an active staff user."""
    email = normalise_email(email)
    _check_email(email)
    _check_password(password)
    if not name.strip():
        raise ValidationFailed(N_("This field is required."), field="name")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ValidationFailed(N_("A user with this e-mail address already exists."), field="email")
    user = User(email=email, name=name.strip(), role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    record(session, actor, "user.create", "user", user.id, after=user.audit_snapshot())
    return user


def get_user(session: Session, user_id: int) -> User:
    """A user by id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("The user does not exist."))
    return user


def list_users(session: Session) -> list[User]:
    """All staff users, active first, by name."""
    return list(session.scalars(select(User).order_by(User.active.desc(), User.name)))


def update_user(session: Session, actor: Actor, user_id: int, *, name: str, role: Role) -> User:
    """Change a user's name or role."""
    user = get_user(session, user_id)
    if not name.strip():
        raise ValidationFailed(N_("This field is required."), field="name")
    if user.id == actor.user_id and role is not user.role:
        raise NotAllowed(N_("You cannot change your own role."))
    before = user.audit_snapshot()
    user.name, user.role = name.strip(), role
    if before["role"] != str(role):
        user.session_version += 1  # a new role takes effect at the next sign-in
    record(session, actor, "user.update", "user", user.id, before=before, after=user.audit_snapshot())
    return user


def reset_password(session: Session, actor: Actor, user_id: int, new_password: str) -> User:
    """Set a new password and end the user's current sessions."""
    user = get_user(session, user_id)
    _check_password(new_password)
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    record(session, actor, "user.password_reset", "user", user.id)
    return user


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate (sessions end at once) or reactivate a user."""
    user = get_user(session, user_id)
    if user.id == actor.user_id and not active:
        raise NotAllowed(N_("You cannot deactivate yourself."))
    if user.active == active:
        return user
    before = user.audit_snapshot()
    user.active = active
    user.session_version += 1
    record(
        session, actor, "user.activate" if active else "user.deactivate", "user", user.id,
        before=before, after=user.audit_snapshot(),
    )
    return user


def load_session_user(session: Session, session_id: str) -> User | None:
    """The user a session cookie belongs to, if the user is active and the session still valid."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def end_sessions(session: Session, user: User) -> None:
    """Invalidate every session of the user (sign-out: a copied cookie stops working too)."""
    user.session_version += 1


@dataclass(frozen=True)
class LoginLimits:
    """How many failed sign-ins are allowed per window: per account from browsers it was never
    used in, per client address, and per device cookie (a browser that signed in before)."""

    window_seconds: int
    max_per_account: int
    max_per_ip: int
    max_per_device: int


@dataclass(frozen=True)
class Device:
    """What a valid device cookie says: this browser signed in as this user once (OWASP's device
    cookies; the view signs and checks the cookie, a nonce tells one browser from another)."""

    user_id: int
    nonce: str


@dataclass(frozen=True)
class SignInAttempt:
    """An attempt the throttle let through, counted already: for :func:`sign_in`."""

    user_id: int | None
    password_hash: str
    counted: tuple[tuple[str, str], ...]  # (scope, key) of each count it added
    now: dt.datetime
    window_seconds: int


ACCOUNT_SCOPE = "login_account"  # failures per account from untrusted browsers (deltager.ratelimit)
IP_SCOPE = "login_ip"  # failures per client address from untrusted browsers
DEVICE_SCOPE = "login_device"  # failures per device cookie


def new_device_nonce() -> str:
    """A fresh nonce for a device cookie."""
    return secrets.token_urlsafe(16)


def count_attempt(
    session: Session, *, email: str, ip: str, device: Device | None, now: dt.datetime, limits: LoginLimits
) -> SignInAttempt:
    """Count a sign-in attempt before its password is checked; Throttled when it is one too many.

    Slow online guessing without letting a stranger lock a colleague out (OWASP, "Slow down online
    guessing attacks with device cookies"): a browser holding a device cookie for this account has
    an allowance of its own; every other browser shares the account's (and its address's). Counting
    first is what makes the limit hold under simultaneous attempts: each gets its own count from an
    atomic upsert, so at most ``max`` passwords are checked. The caller commits before checking the
    password (:func:`sign_in`), so no lock is held while scrypt runs.
    """
    email = normalise_email(email)[:254]
    user = session.scalar(select(User).where(User.email == email))
    window = limits.window_seconds
    if device is not None and user is not None and device.user_id == user.id:
        counts = {(DEVICE_SCOPE, device.nonce): limits.max_per_device}
        message = N_("Too many failed attempts in this browser. Wait %(minutes)d minutes and try again.")
    else:
        account_key = hashlib.sha256(email.encode()).hexdigest()  # fits the key, and no address in the table
        counts = {(ACCOUNT_SCOPE, account_key): limits.max_per_account, (IP_SCOPE, ip): limits.max_per_ip}
        message = N_("Too many failed attempts. Wait %(minutes)d minutes and try again, or sign in from a "
                     "browser you have signed in with before.")
    over = [ratelimit.hit(session, scope, key, now, window_seconds=window) > limit
            for (scope, key), limit in counts.items()]
    if any(over):
        raise Throttled(message, minutes=window // 60)
    return SignInAttempt(user_id=user.id if user and user.active else None,
                         password_hash=user.password_hash if user else _DUMMY_HASH,
                         counted=tuple(counts), now=now, window_seconds=window)


def sign_in(session: Session, attempt: SignInAttempt, password: str) -> User | None:
    """Check the password of a counted attempt; the user if right (the attempt is then forgiven,
    and the sign-in audited), None if wrong (it stays counted). Run with no transaction open: the
    password is checked before the write transaction begins."""
    ok = check_password_hash(attempt.password_hash, password)  # the same time for an unknown e-mail
    if not ok or attempt.user_id is None:
        return None
    begin_write(session)
    user = session.get(User, attempt.user_id)
    if user is None or not user.active:
        return None
    for scope, key in attempt.counted:
        ratelimit.forgive(session, scope, key, attempt.now, window_seconds=attempt.window_seconds)
    user.last_login_at = attempt.now
    record(session, Actor.staff(user), "user.login", "user", user.id, at=attempt.now)
    return user
