"""ballot secrecy: ballots keep no cast time and no running number

``ballot.cast_at`` and the sequential ``ballot.id`` ordered the ballots as they were cast; with the
turnout on the big screen, someone with access to the database who saw a voter tap "vote" could
find that ballot. A ballot is now keyed by its card (still one ballot per card), its choices by
the card too, and on SQLite the choices are stored WITHOUT ROWID (a hidden rowid would number
them in cast order). The cast times are dropped for good: a downgrade puts back the card's issue
time, which says nothing about the vote.

SQLite rebuilds both tables by hand rather than with Alembic's batch mode: batch mode recreates
``ballot`` by dropping it, and with foreign keys on, that DROP deletes every ``ballot_choice`` row
through ON DELETE CASCADE (the pragma cannot be switched off inside the migration's transaction).
Here the old choices are dropped before the old ballots, when nothing refers to them any more.
PostgreSQL changes the tables in place.

Revision ID: 0007_ballot_order_secrecy
Revises: 0006_rate_count
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deltager.db

revision = '0007_ballot_order_secrecy'
down_revision = '0006_rate_count'
branch_labels = None
depends_on = None

CHANNEL_IS_KNOWN = "channel IN ('phone', 'paper')"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    if _sqlite():
        _sqlite_upgrade()
        return
    op.add_column('ballot_choice', sa.Column('card_id', sa.Integer(), nullable=True))
    op.execute('UPDATE ballot_choice SET card_id = ballot.card_id FROM ballot WHERE ballot.id = ballot_choice.ballot_id')
    op.alter_column('ballot_choice', 'card_id', nullable=False)
    op.drop_constraint('pk_ballot_choice', 'ballot_choice', type_='primary')
    op.drop_column('ballot_choice', 'ballot_id')  # and its foreign key
    op.drop_constraint('uq_ballot_card_id', 'ballot', type_='unique')
    op.drop_column('ballot', 'id')  # and its primary key
    op.drop_column('ballot', 'cast_at')
    op.create_primary_key('pk_ballot', 'ballot', ['card_id'])
    op.create_primary_key('pk_ballot_choice', 'ballot_choice', ['card_id', 'application_id'])
    op.create_foreign_key('fk_ballot_choice_card_id_ballot', 'ballot_choice', 'ballot', ['card_id'], ['card_id'],
                          ondelete='CASCADE')


def _sqlite_upgrade() -> None:
    op.create_table('ballot_new',
    sa.Column('card_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('channel', sa.String(length=9), nullable=False),
    sa.CheckConstraint(CHANNEL_IS_KNOWN, name=op.f('ck_ballot_ballotchannel')),
    sa.ForeignKeyConstraint(['card_id'], ['ballot_card.id'], name=op.f('fk_ballot_card_id_ballot_card')),
    sa.PrimaryKeyConstraint('card_id', name=op.f('pk_ballot')),
    )
    op.execute('INSERT INTO ballot_new (card_id, channel) SELECT card_id, channel FROM ballot')
    op.create_table('ballot_choice_new',
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_ballot_choice_application_id_application')),
    sa.ForeignKeyConstraint(['card_id'], ['ballot_new.card_id'], name=op.f('fk_ballot_choice_card_id_ballot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('card_id', 'application_id', name=op.f('pk_ballot_choice')),
    sqlite_with_rowid=False,
    )
    op.execute('INSERT INTO ballot_choice_new (card_id, application_id) '
               'SELECT ballot.card_id, ballot_choice.application_id FROM ballot_choice JOIN ballot ON ballot.id = ballot_choice.ballot_id')
    _sqlite_swap()


def _sqlite_swap() -> None:
    """Drop the old tables (choices first: nothing cascades) and give the new ones their names."""
    op.drop_index('ix_ballot_choice_application_id', table_name='ballot_choice')
    op.drop_table('ballot_choice')
    op.drop_table('ballot')
    op.rename_table('ballot_new', 'ballot')  # SQLite rewrites ballot_choice_new's reference to it
    op.rename_table('ballot_choice_new', 'ballot_choice')
    op.create_index('ix_ballot_choice_application_id', 'ballot_choice', ['application_id'], unique=False)


def downgrade() -> None:
    if _sqlite():
        _sqlite_downgrade()
        return
    op.drop_constraint('fk_ballot_choice_card_id_ballot', 'ballot_choice', type_='foreignkey')
    op.drop_constraint('pk_ballot_choice', 'ballot_choice', type_='primary')
    op.drop_constraint('pk_ballot', 'ballot', type_='primary')
    op.add_column('ballot', sa.Column('id', sa.Integer(), sa.Identity(), nullable=False))
    op.add_column('ballot', sa.Column('cast_at', deltager.db.UTCDateTime(timezone=True), nullable=True))
    op.execute('UPDATE ballot SET cast_at = ballot_card.issued_at FROM ballot_card WHERE ballot_card.id = ballot.card_id')
    op.alter_column('ballot', 'cast_at', nullable=False)
    op.create_primary_key('pk_ballot', 'ballot', ['id'])
    op.create_unique_constraint('uq_ballot_card_id', 'ballot', ['card_id'])
    op.add_column('ballot_choice', sa.Column('ballot_id', sa.Integer(), nullable=True))
    op.execute('UPDATE ballot_choice SET ballot_id = ballot.id FROM ballot WHERE ballot.card_id = ballot_choice.card_id')
    op.alter_column('ballot_choice', 'ballot_id', nullable=False)
    op.drop_column('ballot_choice', 'card_id')
    op.create_primary_key('pk_ballot_choice', 'ballot_choice', ['ballot_id', 'application_id'])
    op.create_foreign_key('fk_ballot_choice_ballot_id_ballot', 'ballot_choice', 'ballot', ['ballot_id'], ['id'],
                          ondelete='CASCADE')


def _sqlite_downgrade() -> None:
    op.create_table('ballot_new',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=9), nullable=False),
    sa.Column('cast_at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint(CHANNEL_IS_KNOWN, name=op.f('ck_ballot_ballotchannel')),
    sa.ForeignKeyConstraint(['card_id'], ['ballot_card.id'], name=op.f('fk_ballot_card_id_ballot_card')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot')),
    sa.UniqueConstraint('card_id', name=op.f('uq_ballot_card_id')),
    )
    op.execute('INSERT INTO ballot_new (id, card_id, channel, cast_at) '
               'SELECT ballot.card_id, ballot.card_id, ballot.channel, ballot_card.issued_at '
               'FROM ballot JOIN ballot_card ON ballot_card.id = ballot.card_id')
    op.create_table('ballot_choice_new',
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_ballot_choice_application_id_application')),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot_new.id'], name=op.f('fk_ballot_choice_ballot_id_ballot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ballot_id', 'application_id', name=op.f('pk_ballot_choice')),
    )
    op.execute('INSERT INTO ballot_choice_new (ballot_id, application_id) SELECT card_id, application_id FROM ballot_choice')
    _sqlite_swap()
