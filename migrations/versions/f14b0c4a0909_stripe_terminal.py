"""Stripe Terminal: readers, the Terminal Location of each clinic location, terminal tenders

Written by hand (issue 14, part 2):
- terminal_locations (one per clinic location and gateway: the provider's location id);
- terminal_readers (the provider's reader id, label, location, device type, status CHECKed);
- payments gain reader_id (FK terminal_readers) and last_error, and an index on
  payment_intent_id (a PaymentIntent event finds its tender by it);
- the payment-method CHECKs of payments, sales and refunds list every method of the
  second wave (cash, card, terminal, external_card, gift_card, account_credit).

Revision ID: f14b0c4a0909
Revises: f14c0c4a090a
Create Date: 2026-11-29 22:20:00

"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa

from pos.models.reporting import drop_snapshot_trigger_ddl, snapshot_trigger_ddl


# revision identifiers, used by Alembic.
revision = 'f14b0c4a0909'
down_revision = 'f14c0c4a090a'
branch_labels = None
depends_on = None

METHODS = ("IN ('cash', 'card', 'terminal', 'external_card', 'gift_card', "
           "'account_credit')")
OLD_METHODS = "IN ('card', 'cash')"
# (table, column, constraint name)
METHOD_CHECKS = (('payments', 'method', 'method_known'),
                 ('sales', 'payment_method', 'payment_method_known'),
                 ('refunds', 'method', 'method_known'))


@contextmanager
def _quiet_reflection():
    """SQLite's batch mode reflects the tables the foreign keys reach; SQLAlchemy warns
    that it cannot reflect the clients' lower() expression indexes (not copied: harmless)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        yield


def _method_checks(sql: str) -> None:
    # The report triggers on sale_lines and refunds name `sales`: SQLite refuses to rename
    # a rebuilt copy into place while they exist, so they are dropped and made again.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        for statement in drop_snapshot_trigger_ddl('sqlite'):
            op.execute(statement)
    for table, column, name in METHOD_CHECKS:
        with _quiet_reflection(), op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_{name}'), type_='check')
            batch_op.create_check_constraint(name, f"{column} {sql}")
    if sqlite:
        for statement in snapshot_trigger_ddl('sqlite'):
            op.execute(statement)


def upgrade():
    op.create_table('terminal_locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=10), nullable=False),
    sa.Column('provider_location_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'],
                            name=op.f('fk_terminal_locations_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terminal_locations')),
    sa.UniqueConstraint('location_id', 'gateway',
                        name=op.f('uq_terminal_locations_location_id')),
    sa.UniqueConstraint('provider_location_id',
                        name=op.f('uq_terminal_locations_provider_location_id')),
    )
    op.create_table('terminal_readers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_reader_id', sa.String(length=255), nullable=False),
    sa.Column('gateway', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('provider_location_id', sa.String(length=255), nullable=False),
    sa.Column('device_type', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IS NULL OR status IN ('online', 'offline')",
                       name=op.f('ck_terminal_readers_status_known')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'],
                            name=op.f('fk_terminal_readers_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terminal_readers')),
    sa.UniqueConstraint('provider_reader_id',
                        name=op.f('uq_terminal_readers_provider_reader_id')),
    )
    with op.batch_alter_table('terminal_readers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_terminal_readers_location_id'), ['location_id'],
                              unique=False)

    with _quiet_reflection(), op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reader_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=300), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_payments_reader_id_terminal_readers'),
                                    'terminal_readers', ['reader_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_payments_payment_intent_id'),
                              ['payment_intent_id'], unique=False)
    _method_checks(METHODS)


def downgrade():
    _method_checks(OLD_METHODS)
    with _quiet_reflection(), op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_payment_intent_id'))
        batch_op.drop_constraint(batch_op.f('fk_payments_reader_id_terminal_readers'),
                                 type_='foreignkey')
        batch_op.drop_column('last_error')
        batch_op.drop_column('reader_id')
    with op.batch_alter_table('terminal_readers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_terminal_readers_location_id'))
    op.drop_table('terminal_readers')
    op.drop_table('terminal_locations')
