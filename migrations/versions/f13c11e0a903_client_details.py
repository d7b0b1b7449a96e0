"""clients gain date of birth, notes (front desk) and allergies (clinical)

Issue 13, part 3: three optional columns; nothing to fill in for existing clients.
Adding a nullable column is an ALTER TABLE ... ADD COLUMN on both databases (batch mode
on SQLite does not copy the table for it).

Revision ID: f13c11e0a903
Revises: f13ca7a10901
Create Date: 2026-11-29 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f13c11e0a903'
down_revision = 'f13ca7a10901'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('date_of_birth', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('notes', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('allergies', sa.String(length=1000), nullable=True))


def downgrade():
    # Not in batch mode: on SQLite a batch drop_column copies `clients`, which would lose
    # its lower() expression indexes and, with foreign keys on, touch every table that
    # refers to clients. SQLite (3.35 and later) and PostgreSQL both drop a plain column
    # in place.
    for column in ('allergies', 'notes', 'date_of_birth'):
        op.drop_column('clients', column)
