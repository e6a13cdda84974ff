"""Serving details: keep ballot-card codes out of access logs.

A ballot card's code is a bearer secret: whoever has it can vote with the card. Browsers arrive
with it in the path (``/v/<code>``) because that is what the QR code holds; the app answers with
a redirect at once, but the server has already logged the request line. This filter masks the
code in every record of the access loggers (Werkzeug's in development, gunicorn's in production).
"""

from __future__ import annotations

import logging
import re

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
