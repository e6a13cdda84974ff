"""Citizens' sign-in: who an applicant is, the e-mailed one-time link, and the applicant's session.

Citizens never have a password. They sign in with a link sent by e-mail (this module) or with the
reference and personal code on a printed receipt (:mod:`deltager.citizens.codes`); either way the
browser keeps "applicant_id:session_version" (:mod:`deltager.citizens.auth`). Applications, meetings
and, next, grants use the signed-in applicant through these modules. The ``Applicant`` and
``SignInToken`` models stay in ``deltager.applications.models``: moving them would rename nothing in
the database, but would move the tables' Alembic history for no gain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from deltager import ratelimit
from deltager.applications.models import Applicant, SignInToken
from deltager.audit.services import Actor, record
from deltager.config import supported_language
from deltager.errors import N_, NotAllowed, Throttled, ValidationFailed

TOKEN_LIFETIME = dt.timedelta(minutes=30)
# At most one sign-in mail per address in this time; a link asked for sooner is not sent, as the
# one sent a moment ago still works (see request_sign_in_link).
MAIL_INTERVAL = dt.timedelta(minutes=5)
SIGN_IN_SCOPE = "sign_in_link"  # the per-client limit on sign-in links (deltager.ratelimit)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --- applicants and sign-in links ---------------------------------------------------------------


def normalise_email(email: str) -> str:
    """Lower-case and trimmed."""
    return email.strip().lower()


def check_email(email: str) -> str:
    """The normalised address, or ValidationFailed naming the field ``email``."""
    email = normalise_email(email)
    if len(email) > 254 or not _EMAIL.match(email) or any(ord(c) < 32 or ord(c) == 127 for c in email):
        raise ValidationFailed(N_("Enter a valid e-mail address, for example navn@example.dk."), field="email")
    return email


def hash_token(token: str) -> str:
    """SHA-256 of a sign-in token (only the hash is stored)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def applicant_actor(applicant: Applicant) -> Actor:
    """The applicant as an audit actor."""
    return Actor(user_id=None, label=f"applicant:{applicant.id} {applicant.email or ''}".rstrip())


def get_or_create_applicant(session: Session, email: str, now: dt.datetime) -> Applicant:
    """The applicant with this address, created if new (starting needs nothing but an address)."""
    email = check_email(email)
    applicant = session.scalar(select(Applicant).where(Applicant.email == email))
    if applicant is None:
        applicant = Applicant(email=email, created_at=now)
        session.add(applicant)
        session.flush()
    return applicant


def create_applicant_without_email(session: Session, now: dt.datetime) -> Applicant:
    """A new applicant with no e-mail address, registered by staff (one per application: nothing
    else identifies them; staff reach them by the phone or address on the application)."""
    applicant = Applicant(email=None, created_at=now)
    session.add(applicant)
    session.flush()
    return applicant


def applicant_for(session: Session, email: str | None, now: dt.datetime, *, field: str = "email") -> Applicant:
    """The applicant with this address (created if new), or, without one, a new applicant without
    e-mail; a malformed address is refused naming ``field``."""
    if not email:
        return create_applicant_without_email(session, now)
    try:
        return get_or_create_applicant(session, email, now)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, field=field, **error.params) from None


class LinkRecentlySent(Throttled):
    """A sign-in link went to this address a moment ago and still works: no new mail is sent."""


def request_sign_in_link(
    session: Session, email: str, now: dt.datetime, *, client: str, max_per_client: int, client_window_seconds: int,
    mail_interval: dt.timedelta = MAIL_INTERVAL,
) -> tuple[Applicant, str]:
    """Make a one-time sign-in token for the address; returns (applicant, raw token to e-mail).

    Known and unknown addresses are treated alike (an unknown one becomes a new applicant), so the
    answer never tells whether an address is known. Requests are limited per ``client`` (its IP
    address: ``max_per_client`` per window, so that one machine cannot make the service mail
    thousands of addresses), counted in the database so the limit holds across workers.

    Per address, at most one mail goes out per ``mail_interval``: asked for sooner, while the link
    sent last is still unused and valid, it raises LinkRecentlySent and sends nothing. A stranger
    who asks for links for someone else's address therefore only ever sends that person working
    links (a link never replaces the ones before it), and never stops them signing in: there is no
    count per address to use up. Using any link ends all of them (redeem_sign_in_token).
    Must run in a write transaction.
    """
    email = check_email(email)  # a typo is pointed out, and never counted against the client
    if ratelimit.is_limited(session, SIGN_IN_SCOPE, client, now, limit=max_per_client,
                            window_seconds=client_window_seconds):
        raise Throttled(N_("Too many sign-in links were asked for from your network. Wait a few minutes and try again."))
    applicant = get_or_create_applicant(session, email, now)
    session.execute(delete(SignInToken).where(SignInToken.applicant_id == applicant.id, SignInToken.expires_at < now))
    last_sent = session.scalar(
        select(SignInToken.created_at)
        .where(SignInToken.applicant_id == applicant.id, SignInToken.used_at.is_(None), SignInToken.expires_at > now)
        .order_by(SignInToken.created_at.desc()).limit(1)
    )
    if last_sent is not None and last_sent > now - mail_interval:
        raise LinkRecentlySent(
            N_("We sent a sign-in link to this address less than %(minutes)d minutes ago, and it still works. "
               "Look for it in your inbox, and in your spam folder. If it has not come in a few minutes, "
               "ask for a new one."),
            minutes=max(1, int(mail_interval.total_seconds() // 60)),
        )
    ratelimit.hit(session, SIGN_IN_SCOPE, client, now, window_seconds=client_window_seconds)
    token = secrets.token_urlsafe(32)
    session.add(SignInToken(
        applicant_id=applicant.id, token_hash=hash_token(token), created_at=now, expires_at=now + TOKEN_LIFETIME
    ))
    session.flush()
    return applicant, token


def _valid_token(session: Session, token: str, now: dt.datetime, *, for_update: bool = False) -> SignInToken:
    query = select(SignInToken).where(SignInToken.token_hash == hash_token(token[:200]))
    if for_update:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise NotAllowed(N_("The sign-in link is used or has expired. Ask for a new one."))
    return row


def check_sign_in_token(session: Session, token: str, now: dt.datetime) -> None:
    """Raise NotAllowed if the token cannot be used (for the page that shows the sign-in button)."""
    _valid_token(session, token, now)


def redeem_sign_in_token(session: Session, token: str, now: dt.datetime, *, language: str) -> Applicant:
    """Use a token once and return its applicant, who reads in ``language``. Every other unused
    link of the applicant ends too: a link copied from a mailbox or a log on the way is no good
    once the citizen has signed in."""
    row = _valid_token(session, token, now, for_update=True)
    session.execute(
        update(SignInToken).where(SignInToken.applicant_id == row.applicant_id, SignInToken.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    )
    row.used_at = now
    row.applicant.last_sign_in_at = now
    remember_language(row.applicant, language)
    record(session, applicant_actor(row.applicant), "applicant.sign_in", "applicant", row.applicant_id, at=now)
    return row.applicant


def remember_language(applicant: Applicant, language: str) -> None:
    """Note the language the applicant uses; the e-mails staff trigger are written in it."""
    applicant.language = supported_language(language)


def load_session_applicant(session: Session, value: object) -> Applicant | None:
    """The applicant of a session value "applicant_id:session_version", if it is still valid."""
    if not isinstance(value, str):
        return None
    applicant_id, _, version = value.partition(":")
    if not (applicant_id.isdigit() and version.isdigit() and len(applicant_id) < 12 and len(version) < 12):
        return None
    applicant = session.get(Applicant, int(applicant_id))
    if applicant is None or applicant.session_version != int(version):
        return None
    return applicant


def session_value(applicant: Applicant) -> str:
    """What the Flask session keeps for a signed-in applicant."""
    return f"{applicant.id}:{applicant.session_version}"


def end_applicant_sessions(session: Session, applicant: Applicant) -> None:
    """Sign out everywhere: every cookie with the old version stops working."""
    applicant.session_version += 1
