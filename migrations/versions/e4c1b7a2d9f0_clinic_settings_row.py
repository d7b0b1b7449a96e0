"""clinic settings: the clinic's own settings in one row

The clinic's name, address, phone, tax id, receipt footer, tax rate and time zone move
from the environment into a one-row table (CHECK id = 1) that an admin may change. The
row is not written here: the app seeds it on first use from CLINIC_NAME, TAX_RATE_BP and
CLINIC_TIMEZONE (pos/services/clinic.py), so an upgrade needs no environment.
`version` is the process caches' key (drawn at random at each write).

Read by hand: one new table, two CHECKs, one foreign key; nothing existing changes.

Revision ID: e4c1b7a2d9f0
Revises: b7e4c0a1d9f2
Create Date: 2026-11-29 15:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4c1b7a2d9f0'
down_revision = 'b7e4c0a1d9f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'clinic_settings',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('clinic_name', sa.String(length=120), nullable=False),
        sa.Column('address', sa.String(length=300), nullable=False),
        sa.Column('phone', sa.String(length=40), nullable=False),
        sa.Column('tax_id', sa.String(length=40), nullable=False),
        sa.Column('receipt_footer', sa.String(length=500), nullable=False),
        sa.Column('tax_rate_bp', sa.Integer(), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('id = 1', name=op.f('ck_clinic_settings_one_row')),
        sa.CheckConstraint('tax_rate_bp >= 0 AND tax_rate_bp <= 10000',
                           name=op.f('ck_clinic_settings_tax_rate_bp_range')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_clinic_settings_updated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_settings')),
    )


def downgrade():
    op.drop_table('clinic_settings')
