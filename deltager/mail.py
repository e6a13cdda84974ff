"""Sending e-mail: through SMTP when one is configured, else into an outbox folder as .eml files.

The module builds and sends without Flask, so services and CLI commands can use
``send_mail(config, ...)`` with any mapping of settings. Views use ``send(...)``, which reads the
app's configuration and turns a failure into a logged error and a calm message: a confirmation
e-mail that cannot go out must never cost the citizen what they just entered. Views send *after*
their commit, so the data is safe whatever happens here.

Settings read (see deltager/config.py): ``MAIL_FROM``, ``SMTP_HOST`` (empty: use the outbox),
``SMTP_PORT``, ``SMTP_USERNAME``, ``SMTP_PASSWORD``, ``SMTP_STARTTLS``, ``SMTP_TIMEOUT`` (seconds,
default 10) and ``MAIL_OUTBOX_DIR``.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import secrets
import smtplib
import ssl
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT = 10.0
MAX_SUBJECT = 200

#: (file name, MIME type such as "text/calendar", content)
Attachment = tuple[str, str, bytes]


def sender_address(config: Mapping[str, Any]) -> str:
    """The bare address in ``MAIL_FROM`` ("deltager@kommune.dk"), for pages that say whom to write to."""
    return parseaddr(str(config.get("MAIL_FROM") or ""))[1]


def _one_line(value: str) -> str:
    """A header value on one line: control characters (CR, LF …) become spaces."""
    return " ".join("".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in value).split())


def _recipients(to: str | Iterable[str]) -> list[str]:
    """The recipients as a list; refuses empty lists and addresses with line breaks or no "@"."""
    addresses = [to] if isinstance(to, str) else list(to)
    if not addresses:
        raise ValueError("no recipient")
    for address in addresses:
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in address) or "@" not in parseaddr(address)[1]:
            raise ValueError(f"not an e-mail address: {address!r}")
    return addresses


def _message_id_domain(sender: str) -> str:
    # make_msgid() without a domain asks the resolver for this host's FQDN, which can be slow.
    domain = parseaddr(sender)[1].rpartition("@")[2]
    return domain or "localhost"


def build_message(
    config: Mapping[str, Any],
    *,
    to: str | Iterable[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Iterable[Attachment] = (),
) -> EmailMessage:
    """The e-mail as an EmailMessage: From, To, Subject, Date, Message-ID, text (+ HTML) and attachments."""
    sender = str(config.get("MAIL_FROM") or "Deltager <deltager@localhost>")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(_recipients(to))
    message["Subject"] = _one_line(subject)[:MAX_SUBJECT]
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid(domain=_message_id_domain(sender))
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, mimetype, content in attachments:
        maintype, _, subtype = mimetype.partition("/")
        message.add_attachment(
            content, maintype=maintype, subtype=subtype or "octet-stream", filename=_one_line(filename)
        )
    return message


def deliver(config: Mapping[str, Any], message: EmailMessage) -> Path | None:
    """Send a built message: SMTP if ``SMTP_HOST`` is set (returns None), else write it to the outbox (returns the file)."""
    host = config.get("SMTP_HOST")
    if not host:
        return write_to_outbox(Path(config["MAIL_OUTBOX_DIR"]), message)
    timeout = float(config.get("SMTP_TIMEOUT") or DEFAULT_TIMEOUT)
    with smtplib.SMTP(str(host), int(config.get("SMTP_PORT") or 25), timeout=timeout) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USERNAME"):
            smtp.login(str(config["SMTP_USERNAME"]), str(config.get("SMTP_PASSWORD") or ""))
        smtp.send_message(message)
    return None


def send_mail(
    config: Mapping[str, Any],
    *,
    to: str | list[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Iterable[Attachment] = (),
) -> None:
    """Build and send one e-mail. Raises OSError (smtplib errors included) or ValueError on failure."""
    deliver(config, build_message(config, to=to, subject=subject, text=text, html=html, attachments=attachments))


def write_to_outbox(folder: Path, message: EmailMessage) -> Path:
    """Write ``<timestamp>-<random>.eml`` into ``folder`` (created if needed); readers never see half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stamp}-{secrets.token_hex(4)}.eml"
    temporary = folder / f".{path.name}.tmp"
    temporary.write_bytes(message.as_bytes(policy=email.policy.default))
    os.replace(temporary, path)
    return path


def read_outbox(folder: str | Path) -> list[EmailMessage]:
    """The messages in an outbox folder, oldest first (for the developer and for tests)."""
    messages = []
    for path in sorted(Path(folder).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def send(**kw: Any) -> bool:
    """For views, after the commit: ``send_mail`` with the app's config; a failure is logged and
    a calm message flashed, never raised. Returns True when the message went out.

    Pass ``failure_message`` to replace the flashed text (already translated), or ``None``
    together with ``notify=False`` to stay silent (e.g. mails to third parties).
    """
    from flask import current_app, flash
    from flask_babel import gettext

    notify = kw.pop("notify", True)
    failure_message = kw.pop("failure_message", None)
    try:
        send_mail(current_app.config, **kw)
    except (OSError, ValueError):  # smtplib's errors are OSErrors
        current_app.logger.exception("could not send the e-mail %r", kw.get("subject"))
        if notify:
            flash(
                failure_message
                or gettext(
                    "We could not send the e-mail just now. What you entered is saved; "
                    "please contact us if you need the e-mail."
                ),
                "warning",
            )
        return False
    return True
