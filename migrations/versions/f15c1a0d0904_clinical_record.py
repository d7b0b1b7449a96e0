"""the clinical record: a void's reason, a treatment's notes and settings

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
    op.add_column('treatments', sa.Column('notes', sa.Text(), nullable=True))
    op.add_column('treatments', sa.Column('settings', sa.JSON(), nullable=True))


def downgrade():
    for column in ('settings', 'notes', 'void_reason'):
        op.execute(f'ALTER TABLE treatments DROP COLUMN {column}')
