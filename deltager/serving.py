"""Serving details: keep ballot-card codes out of access logs; start workers warm.

A ballot card's code is a bearer secret: whoever has it can vote with the card. Browsers arrive
with it in the path (``/v/<code>``) because that is what the QR code holds; the app answers with
a redirect at once, but the server has already logged the request line. This filter masks the
code in every record of the access loggers (Werkzeug's in development, gunicorn's in production).
"""

from __future__ import annotations

import logging
import re
from typing import Any

_SECRET_PATH = re.compile(r"(/v/)[^/?\s\"]+")


def mask_secret_paths(text: str) -> str:
    """Replace the code in ``/v/<code>`` with ``…``."""
    return _SECRET_PATH.sub(r"\1…", text)


class MaskSecretPaths(logging.Filter):
    """A logging filter that formats the record and masks card codes in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secret_paths(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking(*logger_names: str) -> None:
    """Add the masking filter to the named loggers (idempotent)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskSecretPaths) for f in logger.filters):
            logger.addFilter(MaskSecretPaths())


def warm_up(app: Any) -> None:
    """Do once, in gunicorn's master, what each worker would otherwise do on its first requests:
    compile every template and load each language's catalogs.

    Workers are forked from the master (``preload_app``), and forked again each time one is
    recycled; they inherit all this. A cold worker spent tens of milliseconds on its first pages
    (measured: the first ballot page 43 ms instead of 3), which the phones queued behind it waited
    for. Nothing here touches the database.
    """
    from flask_babel import force_locale, get_translations

    for name in app.jinja_env.list_templates(extensions=["html"]):
        app.jinja_env.get_template(name)
    if "babel" not in app.extensions:  # another app under the same settings (the bench's ceiling)
        return
    with app.test_request_context():
        for language in app.config["LANGUAGES"]:
            with force_locale(language):
                get_translations()


def hide_server_header() -> None:
    """Stop gunicorn from sending ``Server: gunicorn`` with every response (idempotent).

    gunicorn has no setting for it (benoitc/gunicorn#825). Its ``gunicorn.SERVER`` constant,
    which some configurations overwrite, is copied into ``gunicorn.http.wsgi`` at import, so
    overwriting it later changes nothing, and an empty value would still send an empty header.
    So the line is left out of the headers gunicorn adds itself.
    """
    from gunicorn.http import wsgi

    original = wsgi.Response.default_headers
    if getattr(original, "hides_server", False):
        return

    def default_headers(self: Any) -> list[str]:
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers.hides_server = True  # type: ignore[attr-defined]
    wsgi.Response.default_headers = default_headers  # type: ignore[method-assign]
