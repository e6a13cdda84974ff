"""rate limits: one table for every limit shared by the workers (card codes, sign-in links)

The invalid-card-code counts move from ``card_attempt`` to ``rate_count`` with the scope
``card_code``. Their rows only live for two five-minute windows, so they are not carried over:
at worst a client that guessed codes in the minutes before the upgrade starts counting afresh.

Revision ID: 0006_rate_count
Revises: 0005_registration_unique_active
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_rate_count'
down_revision = '0005_registration_unique_active'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_count',
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('bucket', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key', 'bucket', name=op.f('pk_rate_count'))
    )
    op.drop_table('card_attempt')


def downgrade() -> None:
    op.create_table('card_attempt',
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('bucket', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('ip', 'bucket', name=op.f('pk_card_attempt'))
    )
    op.drop_table('rate_count')
