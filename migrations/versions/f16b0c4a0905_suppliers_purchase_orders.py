"""purchasing: suppliers, purchase orders and their lines, each item's supplier

Written by hand (issue 16, parts 1-2):
- suppliers (name unique, email, lead time, optional minimum order in cents);
- purchase_orders (status draft/sent/partially_received/received/cancelled, CHECKed);
- purchase_order_lines (received <= quantity, CHECKed: the database itself refuses an
  over-receipt);
- items.supplier_id (nullable, FK suppliers), added in batch mode on SQLite.
Counts and lot corrections need no table: they are ledger movements and audit entries.

Revision ID: f16b0c4a0905
Revises: f15c1a0d0904
Create Date: 2026-11-29 20:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f16b0c4a0905'
down_revision = 'f15c1a0d0904'
branch_labels = None
depends_on = None

STATUSES = "status IN ('draft', 'sent', 'partially_received', 'received', 'cancelled')"


def upgrade():
    op.create_table('suppliers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=False),
    sa.Column('minimum_order_cents', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('lead_time_days >= 0', name=op.f('ck_suppliers_lead_time_not_negative')),
    sa.CheckConstraint('minimum_order_cents IS NULL OR minimum_order_cents >= 0',
                       name=op.f('ck_suppliers_minimum_order_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppliers')),
    sa.UniqueConstraint('name', name=op.f('uq_suppliers_name'))
    )
    op.create_table('purchase_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(STATUSES, name=op.f('ck_purchase_orders_status_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_purchase_orders_created_by_id_users')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'],
                            name=op.f('fk_purchase_orders_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_orders'))
    )
    op.create_index(op.f('ix_purchase_orders_status'), 'purchase_orders', ['status'],
                    unique=False)
    op.create_index(op.f('ix_purchase_orders_supplier_id'), 'purchase_orders',
                    ['supplier_id'], unique=False)
    op.create_table('purchase_order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchase_order_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('unit_cost_cents', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('quantity >= 1', name=op.f('ck_purchase_order_lines_quantity_positive')),
    sa.CheckConstraint('received >= 0',
                       name=op.f('ck_purchase_order_lines_received_not_negative')),
    sa.CheckConstraint('received <= quantity',
                       name=op.f('ck_purchase_order_lines_received_within_quantity')),
    sa.CheckConstraint('unit_cost_cents >= 0',
                       name=op.f('ck_purchase_order_lines_unit_cost_not_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'],
                            name=op.f('fk_purchase_order_lines_item_id_items')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'],
                            name=op.f('fk_purchase_order_lines_purchase_order_id_purchase_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_lines')),
    sa.UniqueConstraint('purchase_order_id', 'item_id',
                        name=op.f('uq_purchase_order_lines_purchase_order_id'))
    )
    op.create_index(op.f('ix_purchase_order_lines_item_id'), 'purchase_order_lines',
                    ['item_id'], unique=False)
    op.create_index(op.f('ix_purchase_order_lines_purchase_order_id'), 'purchase_order_lines',
                    ['purchase_order_id'], unique=False)
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supplier_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_items_supplier_id'), ['supplier_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_items_supplier_id_suppliers'), 'suppliers',
                                    ['supplier_id'], ['id'])


def downgrade():
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_items_supplier_id_suppliers'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_items_supplier_id'))
        batch_op.drop_column('supplier_id')
    op.drop_index(op.f('ix_purchase_order_lines_purchase_order_id'),
                  table_name='purchase_order_lines')
    op.drop_index(op.f('ix_purchase_order_lines_item_id'), table_name='purchase_order_lines')
    op.drop_table('purchase_order_lines')
    op.drop_index(op.f('ix_purchase_orders_supplier_id'), table_name='purchase_orders')
    op.drop_index(op.f('ix_purchase_orders_status'), table_name='purchase_orders')
    op.drop_table('purchase_orders')
    op.drop_table('suppliers')
