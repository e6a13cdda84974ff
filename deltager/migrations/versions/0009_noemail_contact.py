"""people without e-mail: optional e-mail for applicants and sign-ups, personal code, contact owed

Staff register applications and meeting sign-ups for people with only a phone number or a postal
address, so ``applicant.email`` and ``registration.email`` may be NULL (NULLs are distinct in the
unique constraint and index on both databases). An application keeps the hash of the personal code
printed on its receipt, and both applications and sign-ups can note a message that staff must give
by phone or letter instead of by e-mail.

SQLite cannot drop a NOT NULL in place, and Alembic's batch mode would copy ``applicant`` and drop
the original: with foreign keys on (the pragma cannot be switched off inside the migration's
transaction) that DROP deletes or refuses every application, sign-in link and sign-up pointing at
it (see 0007). Removing or adding NOT NULL changes nothing stored on disk, so SQLite's documented
short procedure for such changes is used instead (https://sqlite.org/lang_altertable.html, "making
other kinds of table schema changes"): edit the table's CREATE statement in ``sqlite_schema`` under
``writable_schema`` and bump ``schema_version``. A downgrade first gives every address-less row a
placeholder address under the reserved ``.invalid`` domain, so the NOT NULL it puts back holds.
PostgreSQL alters the columns in place.

Revision ID: 0009_noemail_contact
Revises: 0008_meeting_revision
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = '0009_noemail_contact'
down_revision = '0008_meeting_revision'
branch_labels = None
depends_on = None

TABLES = ('applicant', 'registration')


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _sqlite_set_email_not_null(table: str, not_null: bool) -> None:
    """Add or remove NOT NULL on ``table.email`` by editing its CREATE statement (no copy, no DROP)."""
    conn = op.get_bind()
    sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
                       {"name": table}).scalar_one()
    pattern = r'(\bemail VARCHAR\(254\)) NOT NULL' if not not_null else r'(\bemail VARCHAR\(254\))(?! NOT NULL)'
    new_sql, count = re.subn(pattern, r'\1 NOT NULL' if not_null else r'\1', sql)
    if count != 1:
        raise RuntimeError(f"unexpected definition of {table}.email: {sql}")
    version = conn.exec_driver_sql('PRAGMA schema_version').scalar_one()
    conn.exec_driver_sql('PRAGMA writable_schema=ON')
    conn.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
                 {"sql": new_sql, "name": table})
    conn.exec_driver_sql(f'PRAGMA schema_version={int(version) + 1}')
    conn.exec_driver_sql('PRAGMA writable_schema=OFF')


def _set_email_not_null(table: str, not_null: bool) -> None:
    if _sqlite():
        _sqlite_set_email_not_null(table, not_null)
    else:
        op.alter_column(table, 'email', existing_type=sa.String(length=254), nullable=not not_null)


def upgrade() -> None:
    for table in TABLES:
        _set_email_not_null(table, not_null=False)
    # Plain ADD COLUMNs on both databases (no batch copy, see above).
    op.add_column('application', sa.Column('access_code_hash', sa.String(length=255), nullable=True))
    op.add_column('application', sa.Column('contact_pending', sa.String(length=40), nullable=True))
    op.add_column('registration', sa.Column('address', sa.String(length=200), server_default='', nullable=False))
    op.add_column('registration', sa.Column('contact_pending', sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column('registration', 'contact_pending')  # SQLite ≥ 3.35 and PostgreSQL drop in place
    op.drop_column('registration', 'address')
    op.drop_column('application', 'contact_pending')
    op.drop_column('application', 'access_code_hash')
    for table in TABLES:
        op.execute(sa.text(
            f"UPDATE {table} SET email = 'no-email-' || CAST(id AS VARCHAR(20)) || '@{table}.invalid' "
            "WHERE email IS NULL"
        ))
        _set_email_not_null(table, not_null=True)
