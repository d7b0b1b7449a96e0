"""refunds: unused sessions of a series, refunds to account credit; the credit ledger

Written by hand (issue 14, parts 6 and 7):
- refund_lines: `purchase_id` + `sessions` (a refund of unused sessions of one package
  purchase, quantity 0), `released_cents` (what left the package liability when a manager
  refunded less than the sessions' value). The CHECK `quantity >= 1` becomes
  `quantity >= 0` and `quantity >= 1 OR sessions >= 1`: batch mode on SQLite copies the
  table, which drops its liability snapshot triggers, so they are created again here.
- refunds.to_credit (false for every refund so far).
- client_credit_entries: the account credit ledger, each entry with the balance it
  leaves, CHECKed at 0 or more.

Revision ID: f14c0c4a090a
Revises: f16d0c4a0907
Create Date: 2026-11-29 22:20:00

"""
import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from pos.models.reporting import drop_snapshot_trigger_ddl, snapshot_trigger_ddl

# revision identifiers, used by Alembic.
revision = 'f14c0c4a090a'
down_revision = 'f16d0c4a0907'
branch_labels = None
depends_on = None


@contextmanager
def _quiet_reflection():
    """SQLite's batch mode reflects the tables the copied table's foreign keys reach;
    SQLAlchemy warns that it cannot reflect the clients' lower() expression indexes,
    which are on a table not copied."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        yield


def _without_triggers_on_sqlite():
    # A table copy cannot be renamed while another table's trigger names it.
    if op.get_bind().dialect.name == "sqlite":
        for statement in drop_snapshot_trigger_ddl("sqlite"):
            op.execute(statement)


def _triggers_again():
    if op.get_bind().dialect.name == "sqlite":
        for statement in snapshot_trigger_ddl("sqlite"):
            op.execute(statement)


def upgrade():
    op.create_table('client_credit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('balance_after_cents', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_cents <> 0',
                       name=op.f('ck_client_credit_entries_amount_not_zero')),
    sa.CheckConstraint('balance_after_cents >= 0',
                       name=op.f('ck_client_credit_entries_balance_not_negative')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'],
                            name=op.f('fk_client_credit_entries_client_id_clients')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_client_credit_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'],
                            name=op.f('fk_client_credit_entries_payment_id_payments')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'],
                            name=op.f('fk_client_credit_entries_refund_id_refunds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_credit_entries'))
    )
    op.create_index('ix_client_credit_entries_client_id_id', 'client_credit_entries',
                    ['client_id', 'id'], unique=False)
    op.create_index('ix_client_credit_entries_created_at', 'client_credit_entries',
                    ['created_at'], unique=False)
    op.create_index(op.f('ix_client_credit_entries_payment_id'), 'client_credit_entries',
                    ['payment_id'], unique=False)
    op.create_index(op.f('ix_client_credit_entries_refund_id'), 'client_credit_entries',
                    ['refund_id'], unique=False)

    _without_triggers_on_sqlite()
    with _quiet_reflection(), op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('to_credit', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    with _quiet_reflection(), op.batch_alter_table('refund_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purchase_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sessions', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('released_cents', sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_refund_lines_purchase_id_package_purchases'),
            'package_purchases', ['purchase_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_refund_lines_quantity_positive'), type_='check')
        batch_op.create_check_constraint('quantity_not_negative', 'quantity >= 0')
        batch_op.create_check_constraint('units_or_sessions', 'quantity >= 1 OR sessions >= 1')
        batch_op.create_check_constraint('sessions_of_a_purchase',
                                         '(sessions IS NULL) = (purchase_id IS NULL)')
    _triggers_again()


def downgrade():
    # Session refunds (quantity 0) cannot be kept under the old CHECK.
    op.execute("DELETE FROM refund_lines WHERE quantity = 0")
    _without_triggers_on_sqlite()
    with _quiet_reflection(), op.batch_alter_table('refund_lines', schema=None) as batch_op:
        for name in ('sessions_of_a_purchase', 'units_or_sessions', 'quantity_not_negative'):
            batch_op.drop_constraint(batch_op.f(f'ck_refund_lines_{name}'), type_='check')
        batch_op.create_check_constraint('quantity_positive', 'quantity >= 1')
        batch_op.drop_constraint(batch_op.f('fk_refund_lines_purchase_id_package_purchases'),
                                 type_='foreignkey')
        batch_op.drop_column('released_cents')
        batch_op.drop_column('sessions')
        batch_op.drop_column('purchase_id')
    with _quiet_reflection(), op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_column('to_credit')
    _triggers_again()
    op.drop_index(op.f('ix_client_credit_entries_refund_id'), table_name='client_credit_entries')
    op.drop_index(op.f('ix_client_credit_entries_payment_id'),
                  table_name='client_credit_entries')
    op.drop_index('ix_client_credit_entries_created_at', table_name='client_credit_entries')
    op.drop_index('ix_client_credit_entries_client_id_id', table_name='client_credit_entries')
    op.drop_table('client_credit_entries')
