"""tenders: every payment method, split sales, external card machine, tips

Written by hand (issue 14, parts 1, 3, 4, 8):
- payments.method CHECK: cash, card, terminal, external_card, gift_card, account_credit;
- payments gain tip_provider_id (FK users), cash_tendered_cents (a cash tender's own
  amount handed over) and auth_code (an external card machine's authorization);
- sales.payment_method and refunds.method widen to 20 characters and take the six
  methods and `split` (a sale of several tenders, and its refunds).
The CHECK SQL is written out here, as it is when this runs, not imported. On SQLite the
report's snapshot triggers are dropped while `sales` and `refunds` are rebuilt and created
again (as migration f13d15c0a902 does).

Revision ID: f14a0c4a0908
Revises: f14b0c4a0909
Create Date: 2026-11-29 22:10:00

"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa

from pos.models.reporting import drop_snapshot_trigger_ddl, snapshot_trigger_ddl


# revision identifiers, used by Alembic.
revision = 'f14a0c4a0908'
down_revision = 'f14b0c4a0909'
branch_labels = None
depends_on = None

METHODS = "'cash', 'card', 'terminal', 'external_card', 'gift_card', 'account_credit'"
NEW_TENDER = f"method IN ({METHODS})"
NEW_SALE = f"payment_method IN ({METHODS}, 'split')"
NEW_REFUND = f"method IN ({METHODS}, 'split')"
OLD_TENDER = "method IN ('card', 'cash')"
OLD_SALE = "payment_method IN ('card', 'cash')"


@contextmanager
def _quiet_reflection():
    # SQLite batch mode reflects the table; its partial indexes make SQLAlchemy warn.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=sa.exc.SAWarning)
        yield


def _report_triggers(make):
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        ddl = snapshot_trigger_ddl if make else drop_snapshot_trigger_ddl
        for statement in ddl(bind.dialect.name):
            op.execute(statement)


def upgrade():
    _report_triggers(False)
    with _quiet_reflection(), op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_payments_method_known'), type_='check')
        batch_op.create_check_constraint('method_known', NEW_TENDER)
        batch_op.add_column(sa.Column('tip_provider_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cash_tendered_cents', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('auth_code', sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_payments_tip_provider_id_users'), 'users',
                                    ['tip_provider_id'], ['id'])

    with _quiet_reflection(), op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_sales_payment_method_known'), type_='check')
        batch_op.alter_column('payment_method', existing_type=sa.String(length=10),
                              type_=sa.String(length=20), existing_nullable=False)
        batch_op.create_check_constraint('payment_method_known', NEW_SALE)

    with _quiet_reflection(), op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_refunds_method_known'), type_='check')
        batch_op.alter_column('method', existing_type=sa.String(length=10),
                              type_=sa.String(length=20), existing_nullable=False)
        batch_op.create_check_constraint('method_known', NEW_REFUND)
    _report_triggers(True)


def downgrade():
    # Sales and refunds of the new methods cannot be written back into 'card' | 'cash'.
    _report_triggers(False)
    with _quiet_reflection(), op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_refunds_method_known'), type_='check')
        batch_op.alter_column('method', existing_type=sa.String(length=20),
                              type_=sa.String(length=10), existing_nullable=False)
        batch_op.create_check_constraint('method_known', "method IN ('card', 'cash')")

    with _quiet_reflection(), op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_sales_payment_method_known'), type_='check')
        batch_op.alter_column('payment_method', existing_type=sa.String(length=20),
                              type_=sa.String(length=10), existing_nullable=False)
        batch_op.create_check_constraint('payment_method_known', OLD_SALE)

    with _quiet_reflection(), op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payments_tip_provider_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('auth_code')
        batch_op.drop_column('cash_tendered_cents')
        batch_op.drop_column('tip_provider_id')
        batch_op.drop_constraint(batch_op.f('ck_payments_method_known'), type_='check')
        batch_op.create_check_constraint('method_known', OLD_TENDER)
    _report_triggers(True)
