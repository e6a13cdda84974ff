"""The applicant's session: citizens sign in with an e-mailed one-time link, never a password.

The Flask session (a signed cookie) keeps "applicant_id:session_version"; it is checked against
the database on every request, so signing out (which bumps the version) ends every copy of the
cookie. Other domains use ``current_applicant()``; applicant-only views use ``@applicant_required``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from deltager import web
from deltager.applications.models import Applicant
from deltager.citizens.services import load_session_applicant, session_value
from deltager.db import get_session
from deltager.security import rotate_csrf_token

F = TypeVar("F", bound=Callable[..., Any])
SESSION_KEY = "applicant"
_CACHE = "_deltager_applicant"


def current_applicant() -> Applicant | None:
    """The signed-in applicant of this request, or None."""
    if _CACHE not in g:
        value = session.get(SESSION_KEY)
        applicant = load_session_applicant(get_session(), value) if value else None
        if value and applicant is None:
            session.pop(SESSION_KEY, None)  # a stale cookie (signed out elsewhere): forget it
        setattr(g, _CACHE, applicant)
    return getattr(g, _CACHE)


def sign_in(applicant: Applicant) -> None:
    """Remember the applicant in the session (after a sign-in link was used), with a new CSRF token."""
    session[SESSION_KEY] = session_value(applicant)
    setattr(g, _CACHE, applicant)
    rotate_csrf_token()


def sign_out() -> None:
    """Forget the applicant in this browser (the caller bumps session_version for all browsers)."""
    session.pop(SESSION_KEY, None)
    setattr(g, _CACHE, None)


def applicant_required(view: F) -> F:
    """Declare an applicant-only view: without a valid applicant session → the sign-in page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if current_applicant() is None:
            return redirect(url_for("citizens.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    setattr(wrapped, web.ACCESS_ATTR, "applicant")
    return wrapped  # type: ignore[return-value]
