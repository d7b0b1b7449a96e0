"""report indexes

Covering indexes for the monthly report's package-liability and sales statements
(pos/services/reports.py); read by hand: plain index creation, nothing else.

Revision ID: 9d6d47011c85
Revises: 5d9d235ba740
Create Date: 2026-11-24 13:47:51.494388

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d6d47011c85'
down_revision = '5d9d235ba740'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('package_purchases', schema=None) as batch_op:
        batch_op.create_index('ix_package_purchases_sale_line_value', ['sale_line_id', 'value_cents'], unique=False)

    with op.batch_alter_table('sale_lines', schema=None) as batch_op:
        batch_op.create_index('ix_sale_lines_package_lines', ['id', 'sale_id'], unique=False, postgresql_where=sa.text('package_id IS NOT NULL'), sqlite_where=sa.text('package_id IS NOT NULL'))

    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.create_index('ix_sales_id_paid_at_status', ['id', 'paid_at', 'status'], unique=False)



def downgrade():
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_id_paid_at_status')

    with op.batch_alter_table('sale_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_sale_lines_package_lines', postgresql_where=sa.text('package_id IS NOT NULL'), sqlite_where=sa.text('package_id IS NOT NULL'))

    with op.batch_alter_table('package_purchases', schema=None) as batch_op:
        batch_op.drop_index('ix_package_purchases_sale_line_value')

