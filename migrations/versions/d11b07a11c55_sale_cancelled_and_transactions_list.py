"""sales: status `cancelled`, and the transactions list's indexes

Written and read by hand (issue 11, parts 2 and 3):
- sales.status may be `cancelled` (an awaiting_payment sale ended at the desk: its
  Checkout Session expired, its hold released). The CHECK's SQL is written out here, as
  it is when this runs, not imported.
- ix_sales_created_at (the list is newest first, filtered by day) and ix_sales_sold_by_id
  (filtered by cashier).

On SQLite, changing a CHECK rebuilds `sales` (batch mode), which drops the report's
snapshot triggers (all of them are dropped first: those on other tables name
`sales`, and SQLite refuses the rebuild while they do); they are created again at the end of upgrade() and downgrade(),
as migration b7e4c0a1d9f2 explains.

Downgrade: a cancelled sale becomes `void` (what an unpaid sale ended by hand was before).

Revision ID: d11b07a11c55
Revises: a12a5e5510f1
Create Date: 2026-11-29 17:10:00

"""
import warnings
from contextlib import contextmanager

from alembic import op

from pos.models.reporting import drop_snapshot_trigger_ddl, snapshot_trigger_ddl


# revision identifiers, used by Alembic.
revision = 'd11b07a11c55'
down_revision = 'a12a5e5510f1'
branch_labels = None
depends_on = None

OLD_SALE_STATUS = "status IN ('awaiting_payment', 'paid', 'expired', 'failed', 'void')"
NEW_SALE_STATUS = ("status IN ('awaiting_payment', 'paid', 'expired', 'failed', 'void', "
                   "'cancelled')")


@contextmanager
def _quiet_reflection():
    """Batch mode reflects the tables the foreign keys of `sales` reach; SQLAlchemy warns
    that it cannot reflect the clients' lower() expression indexes, which are on
    `clients`, a table that is not copied: nothing is lost."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        yield


def _sales_status_check(sql):
    with _quiet_reflection(), op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_sales_status_known'), type_='check')
        batch_op.create_check_constraint('status_known', sql)


def _drop_report_triggers():
    # The triggers on sale_lines and refunds name `sales`: SQLite refuses to rename the
    # rebuilt copy into place while they exist.
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for statement in drop_snapshot_trigger_ddl(bind.dialect.name):
            op.execute(statement)


def _recreate_report_triggers():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for statement in snapshot_trigger_ddl(bind.dialect.name):
            op.execute(statement)


def upgrade():
    _drop_report_triggers()
    _sales_status_check(NEW_SALE_STATUS)
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.create_index('ix_sales_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_sales_sold_by_id', ['sold_by_id'], unique=False)
    _recreate_report_triggers()


def downgrade():
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_sold_by_id')
        batch_op.drop_index('ix_sales_created_at')
    op.execute("UPDATE sales SET status = 'void' WHERE status = 'cancelled'")
    _drop_report_triggers()
    _sales_status_check(OLD_SALE_STATUS)
    _recreate_report_triggers()
