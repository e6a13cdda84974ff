"""One submission per form: a form's hidden key, written once, so that a double click changes once.

A form that creates something (a receipt, a repayment, a talk) carries a random key in a hidden
field (:class:`deltager.forms.OnceForm`), rendered by the server with the page, so it is sent with
or without JavaScript. :func:`deltager.work.unit_of_work` writes the key into ``form_submission``
first, in the same transaction as the change. A second request with the same key (the second
click, or a retry after a slow answer) finds the key taken: on PostgreSQL its ``INSERT … ON
CONFLICT DO NOTHING`` waits for the first transaction and then inserts nothing; on SQLite the
write lock (``BEGIN IMMEDIATE``) puts it after the first. Its change is rolled back, its e-mails are
never sent, and the view answers as if done ("This was already received."). If the first request
was refused (rolled back), its key was never written and the same form may be sent again.

A form posted without a key (an old page, a script) is accepted without this protection.

Old rows: a key only matters while its page may still be open and sent, so rows older than
:data:`KEEP_DAYS` days may be deleted (:func:`forget_older_than`, for the housekeeping job).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from deltager.db import Base, UTCDateTime, utcnow

#: The longest key stored; ours are 22 characters (16 random bytes, URL-safe base64).
KEY_LENGTH = 64
#: A key we accept: what :func:`new_key` makes, give or take its length. Anything else is no key.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: Rows older than this may be deleted: no page stays open and unsent that long.
KEEP_DAYS = 30


class FormSubmission(Base):
    """A form's key, written with the change it made: the same key never changes anything twice."""

    __tablename__ = "form_submission"

    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


def new_key() -> str:
    """A fresh random key for a form about to be shown."""
    return secrets.token_urlsafe(16)


def clean_key(value: object) -> str | None:
    """The key as sent, or None when none (or no key of ours) was sent."""
    return value if isinstance(value, str) and KEY_PATTERN.fullmatch(value) else None


def record(session: Session, key: str, endpoint: str, now: dt.datetime) -> bool:
    """Write the key; True when it is new, False when a submission with it was already written
    (committed before, or by a transaction this one waited for). Must run in a write transaction.

    ``INSERT … ON CONFLICT DO NOTHING`` on both databases: no IntegrityError, and the transaction
    stays usable (PostgreSQL would abort it after a failed INSERT)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(FormSubmission).values(key=key, endpoint=endpoint[:120], created_at=now)
    # RETURNING, not the row count: psycopg reports a row count for a conflict that inserted nothing.
    written = session.execute(statement.on_conflict_do_nothing(index_elements=[FormSubmission.key])
                              .returning(FormSubmission.key)).scalar_one_or_none()
    return written is not None


def forget_older_than(session: Session, before: dt.datetime) -> int:
    """Delete the keys written before ``before`` (typically now − :data:`KEEP_DAYS` days); how many.
    The seam for the housekeeping job; a form sent after its key was forgotten is taken as new."""
    result = session.execute(delete(FormSubmission).where(FormSubmission.created_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
