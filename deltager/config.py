"""Configuration: safe defaults here, then ``instance/config.py``, then ``DELTAGER_*`` variables.

Every key can be set in ``instance/config.py`` (plain Python assignments) or in the
environment as ``DELTAGER_<KEY>``. Environment values are strings; booleans accept
``1/0``, ``true/false``, ``yes/no`` and integers are parsed as integers.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

ENV_PREFIX = "DELTAGER_"
#: The languages the site speaks: Danish first (the default), then English.
LANGUAGES = ("da", "en")


def supported_language(language: str) -> str:
    """``language`` if the site speaks it. Callers pass the page's language, so anything else is a
    programming error (ValueError), never the citizen's input."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    return language


class Defaults:
    """Defaults that are safe for a single machine; production overrides a few."""

    # None means: a SQLite file in the instance folder (filled in by ``finalise``).
    DATABASE_URL: str | None = None
    SECRET_KEY: str | None = None
    # Used for links that leave the browser: QR codes on ballot cards, sign-in links in e-mails.
    BASE_URL = "http://127.0.0.1:5000"

    SMTP_HOST: str | None = None
    SMTP_PORT = 25
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = False
    MAIL_FROM = "Deltager <deltager@localhost>"
    # Without SMTP, e-mails are written here as .eml files (None: instance/outbox).
    MAIL_OUTBOX_DIR: str | None = None

    # Whom the accessibility statement (/tilgaengelighed) tells citizens to write to about a
    # barrier: an e-mail address (shown as a link) or a line of text. None: the address in MAIL_FROM.
    ACCESSIBILITY_CONTACT: str | None = None

    # The grant letter's wording: a UTF-8 text file with $placeholders (deltager/pdf/grant_letter.py
    # lists them). None: deltager/pdf/templates/grant_letter_da.txt.
    GRANT_LETTER_TEMPLATE: str | None = None
    # Who signs the grant letter ("Med venlig hilsen …"): the department.
    GRANTS_SENDER = "Socialforvaltningen"
    # Whom the grant letter tells the grantee to contact with questions: a line of text with a
    # name, phone and e-mail, e.g. "Jens Holm, tlf. 87 65 43 21, deltagerbudget@kommune.dk".
    # None: GRANTS_SENDER and the address in MAIL_FROM.
    GRANTS_CONTACT: str | None = None

    # Behind a reverse proxy: how many proxies set X-Forwarded-* (0: not behind one).
    PROXY_COUNT = 0
    # The addresses the reverse proxy connects from (separated by spaces or commas): X-Forwarded-*
    # from any other peer is dropped (gunicorn binds 127.0.0.1, so the proxy is on this host).
    PROXY_ADDRESSES = "127.0.0.1 ::1"

    # The largest request body: a receipt form with its five files of up to 10 MB each and its
    # fields (uploads.RECEIPT). Each file's own limit gives the clear message and keeps the form;
    # only a body beyond this gets the short "too large" page. Files are spooled to disk as read.
    MAX_CONTENT_LENGTH = 51 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "deltager_session"
    PERMANENT_SESSION_LIFETIME = 8 * 60 * 60  # one working day, in seconds
    # Referrer-Policy is no-referrer, so Flask-WTF's HTTPS referrer check would refuse every
    # form; we check the Origin header instead (deltager/security.py).
    WTF_CSRF_SSL_STRICT = False
    # Tokens live as long as the session: a citizen who takes an hour over a form keeps it.
    WTF_CSRF_TIME_LIMIT = None

    # Staff login throttling (counted in the database, so it holds across workers and hosts).
    # Failed attempts per account from browsers it never signed in with, and per client address;
    # a browser that signed in before holds a device cookie with an allowance of its own, so a
    # stranger's guessing does not lock the account's owner out (accounts.services.count_attempt).
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_IP = 30
    LOGIN_MAX_FAILURES_PER_DEVICE = 10
    LOGIN_THROTTLE_WINDOW_SECONDS = 15 * 60

    # Wrong ballot-card codes per client IP and window before /v/ answers 429 (counted in the DB).
    VOTING_THROTTLE_LIMIT = 20
    VOTING_THROTTLE_WINDOW_SECONDS = 5 * 60
    # Sign-in links one client IP may ask for per window (per address at most one mail in 5 minutes), counted in
    # the DB. Generous: a library or a help meeting puts a room of citizens behind one address.
    SIGN_IN_LINKS_PER_CLIENT = 30
    SIGN_IN_CLIENT_WINDOW_SECONDS = 15 * 60
    # Wrong reference + personal code pairs ("Se din ansøgning") one client IP may type per window;
    # right pairs are never counted, so a help meeting behind one address is not locked out.
    CODE_SIGN_IN_ATTEMPTS_PER_CLIENT = 20
    CODE_SIGN_IN_WINDOW_SECONDS = 15 * 60
    # Meeting sign-ups one client IP, and one e-mail address, may make per window (counted in the
    # DB; a sign-up counts for one to two windows). Generous for a library or a help meeting behind
    # one address; low enough that one client cannot fill meetings and mail a crowd of addresses.
    SIGN_UPS_PER_CLIENT = 30
    SIGN_UPS_PER_ADDRESS = 10
    SIGN_UP_WINDOW_SECONDS = 60 * 60

    # Uploads (photos; receipts later), see deltager/uploads.py. Files one client address, and one
    # signed-in person, may upload per window (counted in the DB; refused ones are not counted):
    # generous for a help meeting behind one address, low enough that a loop of uploads is cut off.
    UPLOAD_LIMIT_PER_CLIENT = 40
    UPLOAD_LIMIT_PER_PERSON = 15
    UPLOAD_WINDOW_SECONDS = 15 * 60
    # Pictures decoded at the same time by one worker process and by the whole host; an upload that
    # finds none free is refused at once ("try again in a moment"). Raise with the host's cores.
    UPLOAD_DECODES_PER_WORKER = 1
    UPLOAD_DECODES_PER_HOST = 1
    # Share of the time each of the host's decode slots may be busy: after a decode of t seconds a
    # slot rests t × (1 − duty) / duty, so a loop of uploads costs at most this share of a core per
    # slot (0.15: a 0.3 s picture, then 1.7 s of rest). 1: no rest. At 0.25, four clients looping
    # the heaviest file took the vote on two cores to 0.77-0.87 of its rate (make bench, 2026-12-06):
    # the decodes were half of that cost, the refusals and the clients' own CPU the rest.
    UPLOAD_DECODE_DUTY = 0.15
    # Pictures are decoded in a thread of lower CPU priority (nice 0-19; 0: in the request's own
    # thread), so that ballots go first while the CPU is busy; an upload whose decode takes longer
    # than the timeout is answered "try again in a moment" (under gunicorn's 30 s timeout).
    UPLOAD_DECODE_NICE = 10
    UPLOAD_DECODE_TIMEOUT_SECONDS = 15
    # The host's decode slots (lock files); None: instance/upload-slots. Hosts that share an
    # instance folder over the network should each set a local folder.
    UPLOAD_SLOT_DIR: str | None = None

    BABEL_DEFAULT_LOCALE = "da"
    BABEL_DEFAULT_TIMEZONE = "Europe/Copenhagen"
    LANGUAGES = LANGUAGES

    # How long a writer waits for a lock before it fails: SQLite's busy_timeout (the database's
    # write lock), PostgreSQL's lock_timeout (a row lock).
    LOCK_TIMEOUT_MS = 15_000
    # Echo SQL statements (debugging only).
    SQL_ECHO = False


def _coerce(value: str, default: Any) -> Any:
    """Turn an environment string into the type of the default it overrides."""
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)
    return value


def load(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the final configuration mapping for an instance folder."""
    config: dict[str, Any] = {
        key: getattr(Defaults, key) for key in dir(Defaults) if key.isupper()
    }
    config_file = instance_path / "config.py"
    if config_file.is_file():
        namespace: dict[str, Any] = {"__file__": str(config_file)}
        exec(compile(config_file.read_text(encoding="utf-8"), str(config_file), "exec"), namespace)
        config.update({k: v for k, v in namespace.items() if k.isupper()})
    for name, value in os.environ.items():
        if name.startswith(ENV_PREFIX):
            key = name[len(ENV_PREFIX):]
            config[key] = _coerce(value, config.get(key))
    if overrides:
        config.update(overrides)
    return finalise(config, instance_path)


def finalise(config: dict[str, Any], instance_path: Path) -> dict[str, Any]:
    """Fill in values derived from others: database file, secret key, cookie flags."""
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'deltager.sqlite'}"
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(instance_path)
    if not config.get("MAIL_OUTBOX_DIR"):
        config["MAIL_OUTBOX_DIR"] = str(instance_path / "outbox")
    https = str(config["BASE_URL"]).startswith("https://")
    config.setdefault("SESSION_COOKIE_SECURE", https)
    config.setdefault("PREFERRED_URL_SCHEME", "https" if https else "http")
    return config


def _instance_secret(instance_path: Path) -> str:
    """Read the instance's secret key, creating it (mode 0600) on first start."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        # O_EXCL: when several workers start at once, exactly one writes the key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    for _ in range(50):  # another worker may be between create and write
        key = key_file.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{key_file} is empty")
