"""Staff users: creating them, signing in with throttling, resetting and deactivating."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from deltager.accounts.models import LoginAttempt, User
from deltager.audit.services import Actor, record
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


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    ip: str,
    now: dt.datetime,
    window: dt.timedelta,
    max_per_account: int,
    max_per_ip: int,
) -> User | None:
    """Check a sign-in; None if wrong. Raises Throttled after too many recent failures.

    Failures are rows in the database, so the limit holds across every worker and host.
    """
    email = normalise_email(email)[:254]
    since = now - window
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < since))
    per_account = session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.email == email, LoginAttempt.at >= since)
    ) or 0
    per_ip = session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.ip == ip, LoginAttempt.at >= since)
    ) or 0
    if per_account >= max_per_account or per_ip >= max_per_ip:
        raise Throttled(
            N_("Too many failed attempts. Wait %(minutes)d minutes and try again."),
            minutes=int(window.total_seconds() // 60),
        )
    user = session.scalar(select(User).where(User.email == email))
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        session.add(LoginAttempt(email=email, ip=ip[:64], at=now))
        return None
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    user.last_login_at = now
    record(session, Actor.staff(user), "user.login", "user", user.id, at=now)
    return user
