"""Staff users (failed sign-ins are counted in deltager.ratelimit)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from deltager.db import Base, UTCDateTime, str_enum, utcnow
from deltager.permissions import Permission, Role, has_permission


class User(Base):
    """A staff member (citizens never get a User; they sign in by e-mailed link)."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the id kept in the session cookie: bumping it ends every session of this user.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    # --- what flask-login asks of a user object ---
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The session id: user id and session version, so old cookies stop working."""
        return f"{self.id}:{self.session_version}"

    def can(self, permission: Permission) -> bool:
        """True if this user's role grants the permission."""
        return self.active and has_permission(self.role, permission)

    def audit_snapshot(self) -> dict[str, object]:
        """What the audit trail records of a user (never the password hash)."""
        return {"email": self.email, "name": self.name, "role": str(self.role), "active": self.active}

