"""login counts: failed staff sign-ins are counted in rate_count, not login_attempt

Sign-in attempts are now counted before the password is checked, by the atomic upsert of
deltager.ratelimit (per account, per client address and per device cookie), so that
simultaneous wrong passwords cannot get more checks than the limit allows. The table of failed
attempts is no longer used; its rows only ever lived fifteen minutes, so nothing is carried over.

Revision ID: 0010_login_counts
Revises: 0009_noemail_contact
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deltager.db

revision = '0010_login_counts'
down_revision = '0009_noemail_contact'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_ip_at')
        batch_op.drop_index('ix_login_attempt_email_at')
    op.drop_table('login_attempt')


def downgrade() -> None:
    op.create_table('login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt'))
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempt_email_at', ['email', 'at'], unique=False)
        batch_op.create_index('ix_login_attempt_ip_at', ['ip', 'at'], unique=False)
