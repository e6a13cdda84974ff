"""What every view uses: access declarations, the acting user, redirects and error messages."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import Form

from deltager.audit.services import Actor
from deltager.errors import DomainError, ValidationFailed
from deltager.permissions import Permission

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute set on a view function by the access decorators; the url_map test reads it.
ACCESS_ATTR = "deltager_access"


def public(view: F) -> F:
    """Declare a view open to anyone (the url_map test knows it was a decision, not an oversight)."""
    setattr(view, ACCESS_ATTR, "public")
    return view


def requires(permission: Permission) -> Callable[[F], F]:
    """Declare the permission a staff view needs: anonymous → sign-in page, wrong role → 403."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, permission)
        return wrapped  # type: ignore[return-value]

    return decorator


def access_of(view: Callable[..., Any]) -> object:
    """What a view declared: "public", a Permission, another marker, or None (undeclared)."""
    return getattr(view, ACCESS_ATTR, None)


def staff_actor() -> Actor:
    """The signed-in staff member as an audit actor."""
    return Actor.staff(current_user)


def see_other(endpoint: str, **values: Any) -> Response:
    """Redirect with 303 See Other, as every successful POST does."""
    return redirect(url_for(endpoint, **values), code=303)


#: How error messages show a parameter that is an enum member: its type → a label in plain words.
_ENUM_LABELS: dict[type[enum.Enum], Callable[[Any], str]] = {}


def show_enum_as(kind: type[enum.Enum]) -> Callable[[Callable[[Any], str]], Callable[[Any], str]]:
    """Decorate the function that labels ``kind``: error messages then show its members through it.

    Services stay free of Flask and pass the member itself (``source=application.status``); the
    reader sees "Rejected" or "Afvist", not the code "rejected".
    """

    def register(label: Callable[[Any], str]) -> Callable[[Any], str]:
        _ENUM_LABELS[kind] = label
        return label

    return register


def _shown(value: Any) -> Any:
    label = _ENUM_LABELS.get(type(value))
    return label(value) if label is not None else value


def translate_error(error: DomainError) -> str:
    """The error's message in the reader's language, enum parameters in plain words."""
    return gettext(error.message, **{name: _shown(value) for name, value in error.params.items()})


def show_error(error: DomainError, form: Form | None = None) -> None:
    """Attach a domain error to the form field it names, or flash it."""
    text = translate_error(error)
    field = getattr(error, "field", None) if isinstance(error, ValidationFailed) else None
    if form is not None and field and field in form:
        form[field].errors = [*list(form[field].errors), text]
    else:
        flash(text, "error")


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    return target


def client_ip() -> str:
    """The address a rate limit counts the request under (the proxy's client, see PROXY_COUNT)."""
    return request.remote_addr or "unknown"


def page_number() -> int:
    """The ?page= of a paginated list, 1 when missing or invalid."""
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1


def download(data: bytes | str, filename: str, mimetype: str) -> Response:
    """A file to save, never to show: an attachment under ``filename``, not sniffed, not stored
    by any cache (cards, receipts and protocols carry codes and personal data)."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
