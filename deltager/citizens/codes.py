"""Reference and personal code: how a citizen without e-mail reaches their application.

Staff print a receipt (deltager.pdf.receipts) with the application's reference and a personal
code. Typed into "Se din ansøgning" on any device, the pair signs the citizen in as the
application's applicant, through the same applicant session as the e-mailed link
(deltager.citizens.auth). This module holds the whole reference + code logic and knows nothing
of the web; staff issue the codes from the application's pages (deltager.applications.views).

- The code is random, 10 characters from an alphabet without look-alikes (no 0/O, 1/I/L), about
  49 bits. Only a salted scrypt hash is stored, so a copy of the database does not give the codes
  away; the code itself exists only on the printed receipt.
- Issuing a new code replaces the hash: the old code stops working. Every issue is audited (never
  the code itself).
- Wrong pairs are counted per client (deltager.ratelimit); unknown references cost the same hash
  work as known ones, so timing does not tell which references exist.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from deltager import ratelimit
from deltager.applications.models import Applicant, Application
from deltager.citizens.services import applicant_actor, remember_language
from deltager.audit.services import Actor, record
from deltager.errors import N_, NotAllowed, Throttled

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
REFERENCE_PREFIX = "A-"
SCOPE = "access_code"  # wrong reference + code pairs per client (deltager.ratelimit)
_DUMMY_HASH = generate_password_hash("not a real code", method="scrypt")
_REFERENCE = re.compile(r"^A?-?0*(\d{1,9})$")


def reference(application: Application) -> str:
    """The application's reference as printed and typed: "A-000042"."""
    return f"{REFERENCE_PREFIX}{application.id:06d}"


def parse_reference(text: str) -> int | None:
    """The application id of a typed reference ("A-000042", "a 42", "42"), or None."""
    match = _REFERENCE.match("".join(text.split()).upper())
    return int(match.group(1)) if match else None


def normalise_code(text: str) -> str:
    """A typed code as stored: capitals, without the spaces and dashes it is printed with."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")[:40]


def format_code(code: str) -> str:
    """A code as printed, in two groups that are easy to read aloud: "ABCDE-FGH23"."""
    return f"{code[:5]}-{code[5:]}"


def new_code() -> str:
    """A fresh random code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def may_issue_code(application: Application, *, user_id: int, can_screen: bool) -> bool:
    """Caseworkers may print a receipt for any application; other staff who apply on a citizen's
    behalf only for the applications they filled in themselves. A new code signs in as the
    citizen, so it must never be a way into someone else's application."""
    return can_screen or application.created_by_user_id == user_id


def issue_code(session: Session, actor: Actor, application: Application, now: dt.datetime) -> str:
    """Give the application a new personal code (the old one stops working); returns it, once."""
    code = new_code()
    replaced = application.access_code_hash is not None
    application.access_code_hash = generate_password_hash(code, method="scrypt")
    record(session, actor, "application.access_code", "application", application.id,
           after={"replaced_earlier_code": replaced}, at=now)
    return code


def refuse_if_throttled(session: Session, client: str, now: dt.datetime, *, limit: int, window_seconds: int) -> None:
    """Throttled once this client has typed ``limit`` wrong pairs within the window."""
    if ratelimit.is_limited(session, SCOPE, client, now, limit=limit, window_seconds=window_seconds):
        raise Throttled(N_("Too many wrong codes were typed from your network. Wait a few minutes and try again."))


def check_code(session: Session, reference_text: str, code: str) -> tuple[int, str] | None:
    """(application id, the stored hash that matched) for a right pair, else None. Reads only;
    slow on purpose (scrypt), so callers run it before they take a write lock."""
    application_id = parse_reference(reference_text)
    application = session.get(Application, application_id) if application_id is not None else None
    stored = application.access_code_hash if application is not None else None
    if not check_password_hash(stored or _DUMMY_HASH, normalise_code(code)) or stored is None:
        return None
    assert application_id is not None
    return application_id, stored


def sign_in_with_code(
    session: Session, checked: tuple[int, str] | None, client: str, now: dt.datetime, *,
    window_seconds: int, language: str,
) -> Application:
    """Finish a sign-in checked by :func:`check_code`, in a write transaction: a wrong pair is
    counted against the client and refused (the caller commits the count); a right one is audited
    like a sign-in by link and returns the application, whose applicant the caller signs in."""
    application = session.get(Application, checked[0]) if checked else None
    if application is None or checked is None or application.access_code_hash != checked[1]:
        ratelimit.hit(session, SCOPE, client, now, window_seconds=window_seconds)
        raise NotAllowed(N_("The reference or the code is not right. Check both on your receipt and try again."))
    applicant: Applicant = application.applicant
    applicant.last_sign_in_at = now
    remember_language(applicant, language)
    record(session, applicant_actor(applicant), "applicant.sign_in", "applicant",
           applicant.id, after={"with": "reference_and_code", "application": application.id}, at=now)
    return application
