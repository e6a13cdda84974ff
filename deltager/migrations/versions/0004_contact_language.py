"""applicant and registration language: the language of the e-mails staff trigger (decisions, cancellations)

Revision ID: 0004_contact_language
Revises: 0003_voting
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_contact_language'
down_revision = '0003_voting'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Everyone so far is taken to read Danish, as the e-mails they got were Danish.
    with op.batch_alter_table('applicant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), server_default='da', nullable=False))
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), server_default='da', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('applicant', schema=None) as batch_op:
        batch_op.drop_column('language')
