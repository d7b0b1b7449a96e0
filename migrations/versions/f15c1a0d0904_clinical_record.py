"""the clinical record: a void's reason

Written by hand (issue 15). Plain ADD COLUMNs (no table rebuilt).

Revision ID: f15c1a0d0904
Revises: e11f0d5a1e0a
Create Date: 2026-11-29 20:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f15c1a0d0904'
down_revision = 'e11f0d5a1e0a'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('treatments', sa.Column('void_reason', sa.String(length=500),
                                          nullable=True))


def downgrade():
    op.execute('ALTER TABLE treatments DROP COLUMN void_reason')
