"""expected treatments: a manager's count of each package's treatments in the next 14 days

Written by hand (issue 16, part 6): one row per package (count 0..10000, CHECKed), who
set it and when. With the packages' bills of materials it feeds the reorder suggestion.

Revision ID: f16d0c4a0907
Revises: f16b0c4a0905
Create Date: 2026-11-29 22:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f16d0c4a0907'
down_revision = 'f16b0c4a0905'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('expected_treatments',
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('count >= 0 AND count <= 10000',
                       name=op.f('ck_expected_treatments_count_in_range')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'],
                            name=op.f('fk_expected_treatments_package_id_packages')),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'],
                            name=op.f('fk_expected_treatments_set_by_id_users')),
    sa.PrimaryKeyConstraint('package_id', name=op.f('pk_expected_treatments'))
    )


def downgrade():
    op.drop_table('expected_treatments')
