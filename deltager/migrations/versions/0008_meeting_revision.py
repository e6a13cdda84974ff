"""meeting revision: the calendar file's SEQUENCE, counting changes to when and where

Calendar programs replace an event they hold (same UID) only when the new file's SEQUENCE is
higher; without it, a moved or cancelled meeting could sit twice in a citizen's calendar.
Existing meetings start at 0, as the files already sent carried no SEQUENCE (read as 0).

Revision ID: 0008_meeting_revision
Revises: 0007_ballot_order_secrecy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_meeting_revision'
down_revision = '0007_ballot_order_secrecy'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: no batch copy of the table (on SQLite a copy would
    # drop and recreate "meeting", and its foreign keys would take the sign-ups with it).
    op.add_column('meeting', sa.Column('revision', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    op.drop_column('meeting', 'revision')  # SQLite ≥ 3.35 and PostgreSQL drop a column in place
