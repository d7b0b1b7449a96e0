"""catalog back office: price history and bundle contents

Written by hand (issue 13, part 1). Items already carry `barcode` (unique, nullable) and
`active`, and packages `active`, since the initial schema; this adds:
- `item_price_changes`: every change of an item's `price_cents` or `cost_cents`, with the
  old and new figures, who changed it and when (shown on the item's page);
- `bundle_contents`: what one kit of a bundle item (the first-visit bundle) holds.

Revision ID: f13ca7a10901
Revises: e11f0d5a1e0a
Create Date: 2026-11-29 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f13ca7a10901'
down_revision = 'e11f0d5a1e0a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('item_price_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=20), nullable=False),
    sa.Column('old_cents', sa.BigInteger(), nullable=False),
    sa.Column('new_cents', sa.BigInteger(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("field IN ('price_cents', 'cost_cents')", name=op.f('ck_item_price_changes_field_known')),
    sa.CheckConstraint('old_cents >= 0 AND new_cents >= 0', name=op.f('ck_item_price_changes_cents_not_negative')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_item_price_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_price_changes_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_price_changes'))
    )
    op.create_index(op.f('ix_item_price_changes_item_id'), 'item_price_changes', ['item_id'], unique=False)
    op.create_table('bundle_contents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bundle_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity >= 1', name=op.f('ck_bundle_contents_quantity_positive')),
    sa.CheckConstraint('bundle_id <> item_id', name=op.f('ck_bundle_contents_not_itself')),
    sa.ForeignKeyConstraint(['bundle_id'], ['items.id'], name=op.f('fk_bundle_contents_bundle_id_items')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_bundle_contents_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bundle_contents')),
    sa.UniqueConstraint('bundle_id', 'item_id', name=op.f('uq_bundle_contents_bundle_id'))
    )


def downgrade():
    op.drop_table('bundle_contents')
    op.drop_index(op.f('ix_item_price_changes_item_id'), table_name='item_price_changes')
    op.drop_table('item_price_changes')
