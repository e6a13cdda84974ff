"""Imports every domain's models so that the metadata is complete (for Alembic and tests)."""

from deltager import ratelimit as ratelimit_models
from deltager import submissions as submissions_models
from deltager.accounts import models as accounts_models
from deltager.applications import models as applications_models
from deltager.audit import models as audit_models
from deltager.db import Base
from deltager.grants import models as grants_models
from deltager.meetings import models as meetings_models
from deltager.rounds import models as rounds_models
from deltager.voting import models as voting_models  # noqa: F401

metadata = Base.metadata

__all__ = [
    "accounts_models",
    "applications_models",
    "audit_models",
    "grants_models",
    "meetings_models",
    "metadata",
    "ratelimit_models",
    "rounds_models",
    "submissions_models",
]
