"""money columns bigint

Every *_cents column becomes BIGINT: a price of 2,147,483,647 cents overflowed the INTEGER
column on PostgreSQL; the input limit is now MAX_AMOUNT_CENTS (10,000,000,000), which
only a 64-bit column holds. Read by hand: type changes only, no data is rewritten
(PostgreSQL widens in place; SQLite's batch mode copies the table, whose integers were
already 64-bit). Downgrade narrows again and fails if a stored amount no longer fits.

Revision ID: b16c3a5e0a10
Revises: c7e1a9d04f3b
Create Date: 2026-11-29 14:40:00

"""
import warnings

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b16c3a5e0a10'
down_revision = 'c7e1a9d04f3b'
branch_labels = None
depends_on = None

# table -> its money columns, with whether each may be NULL
MONEY_COLUMNS = {
    'items': {'price_cents': False, 'cost_cents': False},
    'packages': {'price_cents': False},
    'cash_days': {'opening_float_cents': False, 'expected_cents': True,
                  'counted_cents': True},
    'lots': {'unit_cost_cents': False},
    'sales': {'subtotal_cents': False, 'discount_cents': False, 'tax_cents': False,
              'total_cents': False, 'cash_tendered_cents': True},
    'refunds': {'amount_cents': False, 'tax_cents': False},
    'sale_lines': {'unit_price_cents': False, 'subtotal_cents': False,
                   'discount_cents': False, 'tax_cents': False, 'total_cents': False},
    'package_purchases': {'value_cents': False},
    'refund_lines': {'net_cents': False, 'tax_cents': False},
    'treatment_supplies': {'unit_cost_cents': False},
}


def _retype(from_type, to_type):
    with warnings.catch_warnings():
        # SQLite's batch copy reflects the tables these refer to; clients' lower() indexes
        # cannot be reflected there, and need not be: clients is not copied.
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        for table, columns in MONEY_COLUMNS.items():
            _retype_table(table, columns, from_type, to_type)


def _retype_table(table, columns, from_type, to_type):
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column, nullable in columns.items():
            batch_op.alter_column(column, existing_type=from_type, type_=to_type,
                                  existing_nullable=nullable)


def upgrade():
    _retype(sa.Integer(), sa.BigInteger())


def downgrade():
    _retype(sa.BigInteger(), sa.Integer())
