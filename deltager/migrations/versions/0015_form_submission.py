"""form submission: a form's random key, written once with its change, so a double click changes once

A receipt, a repayment or a follow-up talk was created twice when its button was clicked twice.
Such forms now carry a hidden random key; deltager.submissions writes it here in the same
transaction as the change, and a second request with the same key changes nothing. A key only
matters while its page may still be sent: rows older than deltager.submissions.KEEP_DAYS days may
be deleted. A new table: nothing to carry over.

Revision ID: 0015_form_submission
Revises: 0014_round_granted
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deltager.db

revision = '0015_form_submission'
down_revision = '0014_round_granted'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('form_submission',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('endpoint', sa.String(length=120), nullable=False),
    sa.Column('created_at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_form_submission'))
    )


def downgrade() -> None:
    op.drop_table('form_submission')
