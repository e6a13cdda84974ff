"""grants: grants with their ledger's totals, budget lines, expense claims and files, payout
batches, repayments and follow-up talks (step 4)

The ledger's rules that one row can state are CHECK constraints (see deltager/grants/models.py).

Revision ID: 0012_grants
Revises: 0011_allocation_reason
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deltager.db

revision = '0012_grants'
down_revision = '0011_allocation_reason'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payout_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'exported', 'paid', name='batchstatus', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('created_at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('exported_at', deltager.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('exported_by_user_id', sa.Integer(), nullable=True),
    sa.Column('exported_by', sa.String(length=120), nullable=False),
    sa.Column('paid_at', deltager.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paid_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['exported_by_user_id'], ['user.id'], name=op.f('fk_payout_batch_exported_by_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_payout_batch_round_id_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_batch'))
    )
    with op.batch_alter_table('payout_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_batch_round_id'), ['round_id'], unique=False)

    op.create_table('grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('amount_ore', sa.BigInteger(), nullable=False),
    sa.Column('payout_mode', sa.Enum('receipts', 'upfront', name='payoutmode', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('status', sa.Enum('active', 'on_hold', 'stopped', 'completed', name='grantstatus', native_enum=False, create_constraint=True, length=13), nullable=False),
    sa.Column('payee_type', sa.Enum('private', 'association', 'supplier', name='payeetype', native_enum=False, create_constraint=True, length=15), nullable=False),
    sa.Column('payee_name', sa.String(length=200), nullable=False),
    sa.Column('payee_address', sa.String(length=200), nullable=False),
    sa.Column('payee_cvr', sa.String(length=8), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('conditions_accepted_at', deltager.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('conditions_accepted_by', sa.String(length=120), nullable=False),
    sa.Column('conditions_channel', sa.Enum('online', 'paper', name='conditionschannel', native_enum=False, create_constraint=True, length=10), nullable=True),
    sa.Column('child_certificate_required', sa.Boolean(), nullable=False),
    sa.Column('child_certificate_received_on', sa.Date(), nullable=True),
    sa.Column('follow_up_needed', sa.Boolean(), nullable=False),
    sa.Column('approved_ore', sa.BigInteger(), nullable=False),
    sa.Column('paid_ore', sa.BigInteger(), nullable=False),
    sa.Column('repaid_ore', sa.BigInteger(), nullable=False),
    sa.Column('released_ore', sa.BigInteger(), nullable=False),
    sa.Column('hold_reason', sa.Text(), nullable=False),
    sa.Column('stop_reason', sa.Text(), nullable=False),
    sa.Column('stopped_at', deltager.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("payout_mode = 'receipts' OR payee_type = 'association'", name=op.f('ck_grant_upfront_only_association')),
    sa.CheckConstraint("status <> 'stopped' OR stop_reason <> ''", name=op.f('ck_grant_stop_has_reason')),
    sa.CheckConstraint('amount_ore >= 0', name=op.f('ck_grant_amount_not_negative')),
    sa.CheckConstraint('approved_ore + released_ore <= amount_ore', name=op.f('ck_grant_approved_within_grant')),
    sa.CheckConstraint('approved_ore >= 0 AND paid_ore >= 0 AND repaid_ore >= 0 AND released_ore >= 0', name=op.f('ck_grant_totals_not_negative')),
    sa.CheckConstraint('paid_ore <= approved_ore', name=op.f('ck_grant_paid_within_approved')),
    sa.CheckConstraint('repaid_ore <= paid_ore', name=op.f('ck_grant_repaid_within_paid')),
    sa.CheckConstraint('starts_on <= deadline', name=op.f('ck_grant_period_in_order')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_grant_application_id_application')),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_grant_round_id_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant')),
    sa.UniqueConstraint('application_id', name=op.f('uq_grant_application_id'))
    )
    with op.batch_alter_table('grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grant_status'), ['status'], unique=False)

    op.create_table('follow_up_talk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('booked_by_user_id', sa.Integer(), nullable=True),
    sa.Column('booked_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('notes_at', deltager.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['booked_by_user_id'], ['user.id'], name=op.f('fk_follow_up_talk_booked_by_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grant_id'], ['grant.id'], name=op.f('fk_follow_up_talk_grant_id_grant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_talk'))
    )
    with op.batch_alter_table('follow_up_talk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_talk_grant_id'), ['grant_id'], unique=False)

    op.create_table('grant_budget_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('planned_ore', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('planned_ore >= 0', name=op.f('ck_grant_budget_line_planned_not_negative')),
    sa.ForeignKeyConstraint(['grant_id'], ['grant.id'], name=op.f('fk_grant_budget_line_grant_id_grant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_budget_line')),
    sa.UniqueConstraint('grant_id', 'position', name='uq_grant_budget_line_position')
    )
    with op.batch_alter_table('grant_budget_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_budget_line_grant_id'), ['grant_id'], unique=False)

    op.create_table('repayment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('amount_ore', sa.BigInteger(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('recorded_at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_ore > 0', name=op.f('ck_repayment_amount_positive')),
    sa.ForeignKeyConstraint(['grant_id'], ['grant.id'], name=op.f('fk_repayment_grant_id_grant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayment'))
    )
    with op.batch_alter_table('repayment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repayment_grant_id'), ['grant_id'], unique=False)

    op.create_table('expense_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('budget_line_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reimburse', 'invoice', 'upfront', name='claimkind', native_enum=False, create_constraint=True, length=13), nullable=False),
    sa.Column('amount_ore', sa.BigInteger(), nullable=False),
    sa.Column('approved_ore', sa.BigInteger(), nullable=True),
    sa.Column('spent_on', sa.Date(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('supplier_name', sa.String(length=200), nullable=False),
    sa.Column('supplier_cvr', sa.String(length=8), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'needs_info', 'approved', 'lowered', 'rejected', 'paid', name='claimstatus', native_enum=False, create_constraint=True, length=14), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('info_request', sa.Text(), nullable=False),
    sa.Column('info_answer', sa.Text(), nullable=False),
    sa.Column('submitted_at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.String(length=120), nullable=False),
    sa.Column('on_paper', sa.Boolean(), nullable=False),
    sa.Column('waiting_since', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', deltager.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_user_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=False),
    sa.Column('paid_at', deltager.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind <> 'invoice' OR (supplier_name <> '' AND length(supplier_cvr) = 8)", name=op.f('ck_expense_claim_invoice_has_supplier')),
    sa.CheckConstraint("status <> 'approved' OR approved_ore = amount_ore", name=op.f('ck_expense_claim_approved_in_full')),
    sa.CheckConstraint("status <> 'lowered' OR (approved_ore < amount_ore AND reason <> '')", name=op.f('ck_expense_claim_lowered_has_reason')),
    sa.CheckConstraint("status <> 'rejected' OR (reason <> '' AND approved_ore IS NULL)", name=op.f('ck_expense_claim_rejected_has_reason')),
    sa.CheckConstraint("status NOT IN ('approved', 'lowered', 'paid') OR approved_ore IS NOT NULL", name=op.f('ck_expense_claim_approved_has_amount')),
    sa.CheckConstraint('amount_ore > 0', name=op.f('ck_expense_claim_amount_positive')),
    sa.CheckConstraint('approved_ore IS NULL OR (approved_ore >= 0 AND approved_ore <= amount_ore)', name=op.f('ck_expense_claim_approved_within_claimed')),
    sa.ForeignKeyConstraint(['budget_line_id'], ['grant_budget_line.id'], name=op.f('fk_expense_claim_budget_line_id_grant_budget_line')),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['user.id'], name=op.f('fk_expense_claim_decided_by_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grant_id'], ['grant.id'], name=op.f('fk_expense_claim_grant_id_grant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expense_claim'))
    )
    with op.batch_alter_table('expense_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expense_claim_budget_line_id'), ['budget_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expense_claim_grant_id'), ['grant_id'], unique=False)
        batch_op.create_index('ix_expense_claim_queue', ['status', 'waiting_since', 'id'], unique=False)
        batch_op.create_index('ix_expense_claim_receipt', ['spent_on', 'amount_ore'], unique=False)

    op.create_table('claim_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', deltager.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_claim_file_size_not_negative')),
    sa.ForeignKeyConstraint(['claim_id'], ['expense_claim.id'], name=op.f('fk_claim_file_claim_id_expense_claim'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_file')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_claim_file_stored_name'))
    )
    with op.batch_alter_table('claim_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_file_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_file_sha256'), ['sha256'], unique=False)

    op.create_table('payout_batch_claim',
    sa.Column('claim_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['payout_batch.id'], name=op.f('fk_payout_batch_claim_batch_id_payout_batch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['claim_id'], ['expense_claim.id'], name=op.f('fk_payout_batch_claim_claim_id_expense_claim')),
    sa.PrimaryKeyConstraint('claim_id', name=op.f('pk_payout_batch_claim'))
    )
    with op.batch_alter_table('payout_batch_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_batch_claim_batch_id'), ['batch_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('payout_batch_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_batch_claim_batch_id'))

    op.drop_table('payout_batch_claim')
    with op.batch_alter_table('claim_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_file_sha256'))
        batch_op.drop_index(batch_op.f('ix_claim_file_claim_id'))

    op.drop_table('claim_file')
    with op.batch_alter_table('expense_claim', schema=None) as batch_op:
        batch_op.drop_index('ix_expense_claim_receipt')
        batch_op.drop_index('ix_expense_claim_queue')
        batch_op.drop_index(batch_op.f('ix_expense_claim_grant_id'))
        batch_op.drop_index(batch_op.f('ix_expense_claim_budget_line_id'))

    op.drop_table('expense_claim')
    with op.batch_alter_table('repayment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repayment_grant_id'))

    op.drop_table('repayment')
    with op.batch_alter_table('grant_budget_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_budget_line_grant_id'))

    op.drop_table('grant_budget_line')
    with op.batch_alter_table('follow_up_talk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_talk_grant_id'))

    op.drop_table('follow_up_talk')
    with op.batch_alter_table('grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_status'))
        batch_op.drop_index(batch_op.f('ix_grant_round_id'))

    op.drop_table('grant')
    with op.batch_alter_table('payout_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_batch_round_id'))

    op.drop_table('payout_batch')
