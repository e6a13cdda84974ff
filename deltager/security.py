"""Secure defaults every response gets: headers, a same-origin check on POSTs, error pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, render_template, request, session
from flask_login import user_logged_in
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from deltager.errors import NotFound, Throttled

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
#: Powerful browser features no page of ours uses (the ballot needs none of them): denied to every page and frame.
#: Fullscreen and the screen wake lock keep their default (this site only): the big screen in the hall may use them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "camera", "microphone", "geolocation", "payment", "usb", "serial", "bluetooth", "hid",
        "midi", "magnetometer", "gyroscope", "accelerometer", "display-capture",
        "publickey-credentials-get", "xr-spatial-tracking", "browsing-topics",
    )
)
ERROR_CODES = (400, 403, 404, 405, 413, 429, 500)
HTML_CONTENT_TYPE = "text/html; charset=utf-8"


def _html_as_html(response: Response) -> None:
    """Send an HTML page as ``text/html; charset=utf-8``, whatever response object carried it.

    A page built with werkzeug's own ``Response`` class goes out as ``text/plain``, and a
    browser then shows its source: a replacement card's QR code was lost that way. Every page
    starts with ``<!doctype html>`` (base.html), so the body says what it is; files sent as
    attachments are left as they are.
    """
    if response.direct_passthrough or response.is_streamed or "Content-Disposition" in response.headers:
        return
    if response.mimetype == "text/html" or response.get_data()[:64].lstrip().lower().startswith(b"<!doctype html"):
        response.headers["Content-Type"] = HTML_CONTENT_TYPE


def _not_stored(response: Response) -> None:
    """``Cache-Control: no-store`` unless the view chose its own caching (photos, turnout) or it is a static file.

    Staff pages, an applicant's pages, sign-ups and the ballot all carry personal data or a
    person's session; a rule by exception (everything, unless a view says otherwise) cannot be
    forgotten on a new page. Shared computers at help meetings and the town hall are the risk.
    """
    if "Cache-Control" not in response.headers and request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"


def rotate_csrf_token() -> None:
    """Give the session a new CSRF token: call right after someone signs in.

    A token planted or seen before sign-in must not carry over into the signed-in session.
    Flask-WTF makes the new one on the next form it renders.
    """
    key = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(key, None)
    g.pop(key, None)


def _staff_signed_in(_app: Flask, **_extra: object) -> None:
    """Flask-Login's signal after a staff member signed in (the citizens' sign-in calls rotate itself)."""
    rotate_csrf_token()


def _headers(response: Response) -> Response:
    _html_as_html(response)
    _not_stored(response)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["Permissions-Policy"] = PERMISSIONS_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def _same_origin() -> None:
    """Refuse a state-changing request that a browser says comes from another site.

    Flask-WTF's referrer check cannot work with Referrer-Policy: no-referrer, so the Origin
    header (sent by browsers on every cross-site POST) does that job here.
    """
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        abort(400)


def _no_nul_bytes() -> None:
    """Refuse NUL bytes in the path and the query string.

    No person types them, PostgreSQL cannot store or compare them in text, and SQLite would
    treat them differently: refuse them up front (400) instead of at the database. Form fields
    are checked by the forms' own validators, which keep what was typed.
    """
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        abort(400)


def _error_page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    return render_template("errors/error.html", code=code if code in ERROR_CODES else 400), code


def _csrf_error(_error: CSRFError) -> tuple[str, int]:
    return render_template("errors/error.html", code=400, csrf=True), 400


def _domain_not_found(_error: NotFound) -> tuple[str, int]:
    return render_template("errors/error.html", code=404), 404


def _throttled(error: Throttled) -> tuple[str, int]:
    return render_template("errors/error.html", code=429, error=error), 429


def init_app(app: Flask) -> None:
    """Install the headers, the origin check and the friendly error pages."""
    app.after_request(_headers)
    user_logged_in.connect(_staff_signed_in, app)
    app.before_request(_no_nul_bytes)
    app.before_request(_same_origin)
    for code in ERROR_CODES:
        app.register_error_handler(code, _error_page)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(NotFound, _domain_not_found)
    app.register_error_handler(Throttled, _throttled)
