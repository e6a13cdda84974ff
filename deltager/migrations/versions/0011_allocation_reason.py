"""allocation reason: each project's one sentence on why it was or was not funded

Frozen with the allocation in both languages, beside the trace, so the result table can say it
next to the project (a 7-vote project unfunded beside a funded 5-vote one needs its reason there).
Allocations frozen before have none (NULL) and show their trace only.

Revision ID: 0011_allocation_reason
Revises: 0010_login_counts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_allocation_reason'
down_revision = '0010_login_counts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: no batch copy of the table on SQLite.
    op.add_column('allocation_line', sa.Column('reason_da', sa.Text(), nullable=True))
    op.add_column('allocation_line', sa.Column('reason_en', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('allocation_line', 'reason_en')
    op.drop_column('allocation_line', 'reason_da')
