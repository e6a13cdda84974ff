"""voting: ballot settings, ballot cards, ballots and choices, frozen allocations, card throttle

Revision ID: 0003_voting
Revises: 0002_meetings_applications
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deltager.db

revision = '0003_voting'
down_revision = '0002_meetings_applications'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('card_attempt',
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('bucket', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('ip', 'bucket', name=op.f('pk_card_attempt'))
    )
    op.create_table('allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.Enum('greedy', 'mes', name='allocationrule', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('tie_break', sa.Enum('cost', 'lottery', 'id', name='tiebreak', native_enum=False, create_constraint=True, length=11), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=True),
    sa.Column('inputs_hash', sa.String(length=64), nullable=False),
    sa.Column('pot_ore', sa.BigInteger(), nullable=False),
    sa.Column('granted_total_ore', sa.BigInteger(), nullable=False),
    sa.Column('remainder_ore', sa.BigInteger(), nullable=False),
    sa.Column('num_ballots', sa.Integer(), nullable=False),
    sa.Column('trace_da', sa.JSON(), nullable=False),
    sa.Column('trace_en', sa.JSON(), nullable=False),
    sa.Column('computed_at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_allocation_meeting_id_meeting')),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_allocation_round_id_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation')),
    sa.UniqueConstraint('meeting_id', name=op.f('uq_allocation_meeting_id'))
    )
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allocation_round_id'), ['round_id'], unique=False)

    op.create_table('ballot_card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('serial', sa.String(length=12), nullable=False),
    sa.Column('batch', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('issued', 'used', 'voided', name='cardstatus', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('issued_at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('voided_at', deltager.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_ballot_card_meeting_id_meeting')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_card')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_ballot_card_code_hash')),
    sa.UniqueConstraint('meeting_id', 'serial', name='uq_ballot_card_meeting_serial')
    )
    with op.batch_alter_table('ballot_card', schema=None) as batch_op:
        batch_op.create_index('ix_ballot_card_meeting_status', ['meeting_id', 'status'], unique=False)

    op.create_table('vote_settings',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('min_choices', sa.Integer(), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=False),
    sa.Column('rule', sa.Enum('greedy', 'mes', name='allocationrule', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('tie_break', sa.Enum('cost', 'lottery', 'id', name='tiebreak', native_enum=False, create_constraint=True, length=11), nullable=False),
    sa.Column('state', sa.Enum('preparing', 'open', 'closed', name='votestate', native_enum=False, create_constraint=True, length=13), nullable=False),
    sa.Column('opened_at', deltager.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', deltager.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('door_count', sa.Integer(), nullable=True),
    sa.Column('cards_issued', sa.Integer(), nullable=False),
    sa.CheckConstraint('door_count IS NULL OR door_count >= 0', name=op.f('ck_vote_settings_door_count_not_negative')),
    sa.CheckConstraint('max_choices >= min_choices', name=op.f('ck_vote_settings_max_not_below_min')),
    sa.CheckConstraint('min_choices >= 1', name=op.f('ck_vote_settings_min_choices_positive')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_vote_settings_meeting_id_meeting')),
    sa.PrimaryKeyConstraint('meeting_id', name=op.f('pk_vote_settings'))
    )
    op.create_table('allocation_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('allocation_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('votes', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('cost_ore', sa.BigInteger(), nullable=False),
    sa.Column('granted_ore', sa.BigInteger(), nullable=False),
    sa.Column('selected', sa.Boolean(), nullable=False),
    sa.CheckConstraint('granted_ore >= 0', name=op.f('ck_allocation_line_granted_not_negative')),
    sa.ForeignKeyConstraint(['allocation_id'], ['allocation.id'], name=op.f('fk_allocation_line_allocation_id_allocation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_allocation_line_application_id_application')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation_line')),
    sa.UniqueConstraint('allocation_id', 'application_id', name='uq_allocation_line_project')
    )
    with op.batch_alter_table('allocation_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allocation_line_application_id'), ['application_id'], unique=False)

    op.create_table('ballot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('phone', 'paper', name='ballotchannel', native_enum=False, create_constraint=True, length=9), nullable=False),
    sa.Column('cast_at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['ballot_card.id'], name=op.f('fk_ballot_card_id_ballot_card')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot')),
    sa.UniqueConstraint('card_id', name=op.f('uq_ballot_card_id'))
    )
    op.create_table('ballot_choice',
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_ballot_choice_application_id_application')),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], name=op.f('fk_ballot_choice_ballot_id_ballot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ballot_id', 'application_id', name=op.f('pk_ballot_choice'))
    )
    with op.batch_alter_table('ballot_choice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_choice_application_id'), ['application_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('ballot_choice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_choice_application_id'))

    op.drop_table('ballot_choice')
    op.drop_table('ballot')
    with op.batch_alter_table('allocation_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allocation_line_application_id'))

    op.drop_table('allocation_line')
    op.drop_table('vote_settings')
    with op.batch_alter_table('ballot_card', schema=None) as batch_op:
        batch_op.drop_index('ix_ballot_card_meeting_status')

    op.drop_table('ballot_card')
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allocation_round_id'))

    op.drop_table('allocation')
    op.drop_table('card_attempt')

