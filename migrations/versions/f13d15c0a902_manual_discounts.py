"""sales: a manager's manual discount (amount, reason, who approved it)

Written and read by hand (issue 13, part 2):
- sales.manual_discount_cents (part of discount_cents, default 0),
  manual_discount_reason and manual_discount_approved_by_id (a user).
- discount_codes already have what the discount-code endpoints need (kind, value in basis
  points for a percent, dates, max_uses, times_used, active): unchanged.

On SQLite the columns are added in batch mode; should it rebuild `sales`, the report's
snapshot triggers are dropped first and created again (as migration d11b07a11c55 does).

Revision ID: f13d15c0a902
Revises: f13c11e0a903
Create Date: 2026-11-29 20:00:00

"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa

from pos.models.reporting import drop_snapshot_trigger_ddl, snapshot_trigger_ddl


# revision identifiers, used by Alembic.
revision = 'f13d15c0a902'
down_revision = 'f13c11e0a903'
branch_labels = None
depends_on = None


@contextmanager
def _quiet_reflection():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        yield


def _report_triggers(make):
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        ddl = snapshot_trigger_ddl if make else drop_snapshot_trigger_ddl
        for statement in ddl(bind.dialect.name):
            op.execute(statement)


def upgrade():
    _report_triggers(False)
    with _quiet_reflection(), op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manual_discount_cents', sa.BigInteger(),
                                      server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('manual_discount_reason', sa.String(length=500),
                                      nullable=True))
        batch_op.add_column(sa.Column('manual_discount_approved_by_id', sa.Integer(),
                                      nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_sales_manual_discount_approved_by_id_users'), 'users',
            ['manual_discount_approved_by_id'], ['id'])
    _report_triggers(True)


def downgrade():
    _report_triggers(False)
    with _quiet_reflection(), op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sales_manual_discount_approved_by_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('manual_discount_approved_by_id')
        batch_op.drop_column('manual_discount_reason')
        batch_op.drop_column('manual_discount_cents')
    _report_triggers(True)
