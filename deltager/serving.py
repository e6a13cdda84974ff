"""Serving details: keep bearer secrets in paths out of access logs; start workers warm.

A ballot card's code, a citizen's sign-in token and a sign-up's cancel token are bearer secrets:
whoever has one can vote with the card, sign in as the citizen or cancel the sign-up. Browsers
arrive with them in the path (that is what a QR code or an e-mailed link holds), and the server
logs the request line. A route marks such a part of its path with the ``secret`` converter
(``/v/<secret:code>``); the masking filter is built from the app's URL map, so a new route with
a secret in its path is masked as soon as it says so, in every record of the access loggers
(Werkzeug's in development, gunicorn's in production).
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Iterable
from typing import Any

from werkzeug.routing import BaseConverter, Map

_PLACEHOLDER = re.compile(r"<[^<>]+>")
_SEGMENT = r"[^/?\s\"]+"
MASK = "…"


class SecretConverter(BaseConverter):
    """A path segment that is a bearer secret (a card code, a sign-in or cancel token): the access
    log masks it (:func:`secret_path_patterns`). It matches what the default converter matches."""


def secret_path_patterns(url_map: Map) -> list[re.Pattern[str]]:
    """One pattern per route with a ``secret`` part: group 1 is the path up to the secret, which
    follows. Other parts of the path match any segment."""
    patterns = set()
    for rule in url_map.iter_rules():
        if "<secret:" not in rule.rule:
            continue
        prefix, _secret, _rest = rule.rule.partition("<secret:")
        pattern, position = "", 0
        for placeholder in _PLACEHOLDER.finditer(prefix):
            pattern += re.escape(prefix[position:placeholder.start()]) + _SEGMENT
            position = placeholder.end()
        patterns.add(f"({pattern}{re.escape(prefix[position:])}){_SEGMENT}")
    return [re.compile(pattern) for pattern in sorted(patterns)]


def mask_secret_paths(text: str, patterns: list[re.Pattern[str]]) -> str:
    """Replace each secret in a path of ``text`` with ``…``."""
    for pattern in patterns:
        text = pattern.sub(r"\1" + MASK, text)
    return text


class MaskSecretPaths(logging.Filter):
    """A logging filter that formats the record and masks the secrets in its paths."""

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        super().__init__()
        self.patterns = patterns

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secret_paths(message, self.patterns)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking(url_map: Map, *logger_names: str) -> None:
    """Mask the secret paths of ``url_map`` in the named loggers (idempotent: a logger keeps one
    filter, which learns the paths of every app installed in this process)."""
    patterns = secret_path_patterns(url_map)
    for name in logger_names:
        logger = logging.getLogger(name)
        existing = next((f for f in logger.filters if isinstance(f, MaskSecretPaths)), None)
        if existing is None:
            logger.addFilter(MaskSecretPaths(patterns))
        else:
            existing.patterns = sorted({*existing.patterns, *patterns}, key=lambda p: p.pattern)


class ForwardedOnlyFromProxy:
    """WSGI middleware in front of ProxyFix: X-Forwarded-* headers count only when the peer is
    the reverse proxy (one of ``proxies``); from anyone else they are dropped, so a client that
    reaches gunicorn directly cannot pick the address that rate limits count it under."""

    def __init__(self, app: Any, proxies: Iterable[str]) -> None:
        self.app, self.proxies = app, frozenset(proxies)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REMOTE_ADDR") not in self.proxies:
            for key in [key for key in environ if key.startswith("HTTP_X_FORWARDED_")]:
                del environ[key]
        return self.app(environ, start_response)


def warm_up(app: Any) -> None:
    """Do once, in gunicorn's master, what each worker would otherwise do on its first requests:
    compile every template and load each language's catalogs.

    Workers are forked from the master (``preload_app``), and forked again each time one is
    recycled; they inherit all this. A cold worker spent tens of milliseconds on its first pages
    (measured: the first ballot page 43 ms instead of 3), which the phones queued behind it waited
    for. Nothing here touches the database.

    Last, everything built so far (modules, app, templates, catalogs) moves to the garbage
    collector's permanent generation (``gc.freeze``): a worker's full collections no longer walk
    it, and forked workers share its memory pages instead of copying them when the collector
    touches them. Measured (``make bench`` section (e)): a grant's page with 200 claims, p99
    120–140 ms before, about 25 ms after; the slow pages were full collections.
    """
    from flask_babel import force_locale, get_translations

    for name in app.jinja_env.list_templates(extensions=["html"]):
        app.jinja_env.get_template(name)
    if "babel" in app.extensions:  # not in another app under the same settings (the bench's ceiling)
        with app.test_request_context():
            for language in app.config["LANGUAGES"]:
                with force_locale(language):
                    get_translations()
    gc.freeze()


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
