"""supplier address: an invoice's supplier gets an address, for the payout file

The finance system pays an invoice to the supplier by CVR, and its clerks asked for the payee's
address in the CSV as for every other payee. Claims sent before have none ('').

Revision ID: 0013_supplier_address
Revises: 0012_grants
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013_supplier_address'
down_revision = '0012_grants'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: no batch copy of the table on SQLite; existing claims get ''.
    op.add_column('expense_claim', sa.Column('supplier_address', sa.String(length=200), server_default='',
                                             nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('expense_claim', schema=None) as batch_op:
        batch_op.drop_column('supplier_address')
