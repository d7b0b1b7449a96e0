"""desk carts: the checkout's cart kept per desk, and parked sales

A desk (a browser, named by its `desk_cart` cookie) has at most one cart row; a parked
sale is a row with no desk, a label and `parked` true (a CHECK keeps the two apart).
Lines are JSON in the API's cart-line shape. Untouched rows older than 7 days are purged
by `pos worker`.

Read by hand: one new table, one CHECK, two foreign keys (SET NULL: a cart never stops a
client or a user being removed), one unique key, one index; nothing existing changes,
so no report trigger is touched.

Revision ID: e11c0ca47555
Revises: e4c1b7a2d9f0
Create Date: 2026-11-29 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e11c0ca47555'
down_revision = 'e4c1b7a2d9f0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'desk_carts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('desk_key', sa.String(length=64), nullable=True),
        sa.Column('parked', sa.Boolean(), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=True),
        sa.Column('client_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('discount_code', sa.String(length=40), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            '(parked AND desk_key IS NULL) OR (NOT parked AND desk_key IS NOT NULL)',
            name=op.f('ck_desk_carts_parked_has_no_desk')),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='SET NULL',
                                name=op.f('fk_desk_carts_client_id_clients')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL',
                                name=op.f('fk_desk_carts_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_carts')),
        sa.UniqueConstraint('desk_key', name=op.f('uq_desk_carts_desk_key')),
    )
    op.create_index('ix_desk_carts_parked_updated_at', 'desk_carts', ['parked', 'updated_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_desk_carts_parked_updated_at', table_name='desk_carts')
    op.drop_table('desk_carts')
