"""package liability snapshots

The monthly report's package liability at past month boundaries
(pos/models/reporting.py), a partial index of the package lines by sale (the liability
of a window looks up each sale's purchases through it), and the triggers that delete a snapshot when a write changes
the history it was computed from. Read by hand: one table, no data; the triggers are the
model module's own statements (DROP IF EXISTS + CREATE), so running them again is safe.

On SQLite, a later migration that rebuilds one of the watched tables in batch mode
(sales, sale_lines, package_purchases, treatments, refunds, refund_lines) drops its
triggers with the old table: such a migration must run snapshot_trigger_ddl() again.
tests/integration/test_liability_snapshots.py checks they exist after `db upgrade`.

Revision ID: b7e4c0a1d9f2
Revises: e5a1e5pay001
Create Date: 2026-11-29 14:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

from pos.models.reporting import drop_snapshot_trigger_ddl, snapshot_trigger_ddl


# revision identifiers, used by Alembic.
revision = 'b7e4c0a1d9f2'
down_revision = 'e5a1e5pay001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'package_liability_snapshots',
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('liability_cents', sa.BigInteger(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('at', name=op.f('pk_package_liability_snapshots')),
    )
    with op.batch_alter_table('sale_lines', schema=None) as batch_op:
        batch_op.create_index('ix_sale_lines_package_sale', ['sale_id', 'id'], unique=False, postgresql_where=sa.text('package_id IS NOT NULL'), sqlite_where=sa.text('package_id IS NOT NULL'))
    bind = op.get_bind()
    for statement in snapshot_trigger_ddl(bind.dialect.name):
        bind.exec_driver_sql(statement)


def downgrade():
    bind = op.get_bind()
    for statement in drop_snapshot_trigger_ddl(bind.dialect.name):
        bind.exec_driver_sql(statement)
    with op.batch_alter_table('sale_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_sale_lines_package_sale', postgresql_where=sa.text('package_id IS NOT NULL'), sqlite_where=sa.text('package_id IS NOT NULL'))
    op.drop_table('package_liability_snapshots')
