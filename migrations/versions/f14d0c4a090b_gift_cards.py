"""gift cards: the cards and the append-only ledger of their balance

Written by hand (issue 14, part 5). `gift_cards.balance_cents` caches the sum of the
card's entries and is CHECKed >= 0, so no race can overdraw a card. A sale line may now
sell a gift card: no item, no package, category 'gift_card'. SQLite recreates sale_lines
for that, so the liability snapshot triggers are dropped and created again around it
(pos/models/reporting.py).

Revision ID: f14d0c4a090b
Revises: f16c0c4a0906
Create Date: 2026-11-29 22:45:00

"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa

from pos.models.reporting import drop_snapshot_trigger_ddl, snapshot_trigger_ddl


# revision identifiers, used by Alembic.
revision = 'f14d0c4a090b'
down_revision = 'f16c0c4a0906'
branch_labels = None
depends_on = None

ITEM_PACKAGE_OR_GIFT_CARD = (
    "(CASE WHEN item_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN package_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN category = 'gift_card' THEN 1 ELSE 0 END) = 1"
)


@contextmanager
def _quiet_reflection():
    """SQLite's batch mode reflects the tables the foreign keys reach; SQLAlchemy warns
    that it cannot reflect the clients' lower() expression indexes (not copied)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        yield


def _sale_lines_check(drop, create, check):
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        for statement in drop_snapshot_trigger_ddl(bind.dialect.name):
            op.execute(statement)
    with _quiet_reflection(), op.batch_alter_table('sale_lines', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(drop), type_='check')
        batch_op.create_check_constraint(create, check)
    if sqlite:
        for statement in snapshot_trigger_ddl(bind.dialect.name):
            op.execute(statement)

def upgrade():
    op.create_table('gift_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('initial_cents', sa.BigInteger(), nullable=False),
    sa.Column('balance_cents', sa.BigInteger(), nullable=False),
    sa.Column('sold_on_sale_line_id', sa.Integer(), nullable=True),
    sa.Column('recipient_email', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('balance_cents >= 0', name=op.f('ck_gift_cards_balance_not_negative')),
    sa.CheckConstraint('initial_cents > 0', name=op.f('ck_gift_cards_initial_positive')),
    sa.ForeignKeyConstraint(['sold_on_sale_line_id'], ['sale_lines.id'],
                            name=op.f('fk_gift_cards_sold_on_sale_line_id_sale_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gift_cards')),
    sa.UniqueConstraint('code', name=op.f('uq_gift_cards_code')),
    sa.UniqueConstraint('sold_on_sale_line_id', name=op.f('uq_gift_cards_sold_on_sale_line_id'))
    )
    op.create_table('gift_card_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gift_card_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('issue', 'redeem', 'refund', 'reverse')",
                       name=op.f('ck_gift_card_entries_kind_known')),
    sa.CheckConstraint('amount_cents <> 0', name=op.f('ck_gift_card_entries_amount_not_zero')),
    sa.CheckConstraint("(kind IN ('issue', 'reverse')) = (amount_cents > 0)",
                       name=op.f('ck_gift_card_entries_sign_follows_kind')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_gift_card_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['gift_card_id'], ['gift_cards.id'],
                            name=op.f('fk_gift_card_entries_gift_card_id_gift_cards')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'],
                            name=op.f('fk_gift_card_entries_payment_id_payments')),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'],
                            name=op.f('fk_gift_card_entries_sale_id_sales')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gift_card_entries'))
    )
    with op.batch_alter_table('gift_card_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gift_card_entries_created_at'), ['created_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_gift_card_entries_gift_card_id'),
                              ['gift_card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_gift_card_entries_payment_id'), ['payment_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_gift_card_entries_sale_id'), ['sale_id'],
                              unique=False)
    _sale_lines_check('ck_sale_lines_item_or_package', 'item_package_or_gift_card',
                      ITEM_PACKAGE_OR_GIFT_CARD)


def downgrade():
    op.execute("DELETE FROM gift_card_entries")
    op.execute("DELETE FROM gift_cards")
    op.execute("DELETE FROM sale_lines WHERE item_id IS NULL AND package_id IS NULL")
    _sale_lines_check('ck_sale_lines_item_package_or_gift_card', 'item_or_package',
                      '(item_id IS NULL) <> (package_id IS NULL)')
    with op.batch_alter_table('gift_card_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gift_card_entries_sale_id'))
        batch_op.drop_index(batch_op.f('ix_gift_card_entries_payment_id'))
        batch_op.drop_index(batch_op.f('ix_gift_card_entries_gift_card_id'))
        batch_op.drop_index(batch_op.f('ix_gift_card_entries_created_at'))
    op.drop_table('gift_card_entries')
    op.drop_table('gift_cards')
