"""round granted: the round keeps Σ granted, net of returns, and the database holds it ≤ the pot

Acceptance 1 of step 4 asks the database, not only the services, to refuse grants beyond the pot.
One row can say it: ``round.granted_net_ore`` (granted − released − repaid of the round's grants,
kept by the grants' services with the round's row locked) with the CHECK ``granted_within_pot``
(0 ≤ granted_net_ore ≤ pot_ore). Existing rounds are filled from their grants.

On SQLite the CHECK goes in with the ADD COLUMN (a column constraint): a batch copy of ``round``
would drop a table that every other table refers to, with foreign keys on.

Revision ID: 0014_round_granted
Revises: 0013_supplier_address
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014_round_granted'
down_revision = '0013_supplier_address'
branch_labels = None
depends_on = None

CHECK = 'granted_net_ore >= 0 AND granted_net_ore <= pot_ore'


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    constraints = [sa.CheckConstraint(CHECK, name=op.f('ck_round_granted_within_pot'))] if sqlite else []
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('granted_net_ore', sa.BigInteger(), *constraints, server_default='0',
                                      nullable=False))
    round_ = sa.table('round', sa.column('id', sa.Integer()), sa.column('granted_net_ore', sa.BigInteger()))
    grant = sa.table('grant', sa.column('round_id', sa.Integer()), sa.column('amount_ore', sa.BigInteger()),
                     sa.column('released_ore', sa.BigInteger()), sa.column('repaid_ore', sa.BigInteger()))
    net = (sa.select(sa.func.coalesce(sa.func.sum(grant.c.amount_ore - grant.c.released_ore - grant.c.repaid_ore), 0))
           .where(grant.c.round_id == round_.c.id).scalar_subquery())
    op.execute(round_.update().values(granted_net_ore=net))
    if not sqlite:
        op.create_check_constraint(op.f('ck_round_granted_within_pot'), 'round', CHECK)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_round_granted_within_pot'), 'round', type_='check')
    # In place, no copy of ``round`` (SQLite ≥ 3.35 drops a column whose own CHECK goes with it).
    op.drop_column('round', 'granted_net_ore')
