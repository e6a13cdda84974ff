"""registration: one active sign-up per e-mail address and meeting, as a partial unique index

Revision ID: 0005_registration_unique_active
Revises: 0004_contact_language
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_registration_unique_active'
down_revision = '0004_contact_language'
branch_labels = None
depends_on = None

ACTIVE = sa.text('cancelled_at IS NULL')


def upgrade() -> None:
    op.create_index('uq_registration_meeting_email_active', 'registration', ['meeting_id', 'email'], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_index('uq_registration_meeting_email_active', table_name='registration')
