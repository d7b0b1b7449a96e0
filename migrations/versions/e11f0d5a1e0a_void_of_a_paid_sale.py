"""a paid sale voided the same day: the refund that reverses it says so

Written by hand (issue 11, same-day void): `refunds.voids_sale` marks the refund of
everything left on a paid sale that a manager voided; when that refund succeeds the sale
becomes `void` (pos/services/refunds.py). A plain ADD / DROP COLUMN: the table is not
rebuilt, so the liability snapshot triggers on `refunds` stay as they are.

Revision ID: e11f0d5a1e0a
Revises: c11a0d4a3e55
Create Date: 2026-11-29 20:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e11f0d5a1e0a'
down_revision = 'c11a0d4a3e55'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('refunds', sa.Column('voids_sale', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))


def downgrade():
    # Both databases drop a column in place (SQLite since 3.35), so the table is not
    # rebuilt and its snapshot triggers stay.
    op.execute('ALTER TABLE refunds DROP COLUMN voids_sale')
