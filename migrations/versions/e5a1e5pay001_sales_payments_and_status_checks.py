"""sales: the payments table (one tender per sale), status CHECK constraints

Written and read by hand (issue 10, items 2 and 4):
- `payments`: a sale's tenders. Every existing sale gets exactly one: cash `succeeded`;
  card by the sale's state (paid -> succeeded, awaiting_payment -> pending, failed ->
  failed, expired or void -> cancelled, or refunded when a payment came after the hold
  ended and was refunded automatically: such a sale kept a payment intent). The Checkout
  Session id, PaymentIntent id and card's last 4 move from `sales` to the tender, their
  one home; the card brand was never stored, so old tenders have none.
- CHECK constraints keep sales.status / payment_method, refunds.status / method and
  payments.status / method inside pos.domain.statuses (the SQL is written out here, as
  it was when this ran, not imported).

Downgrade puts the ids back on `sales` from the card tender and drops `payments`.

Revision ID: e5a1e5pay001
Revises: b16c3a5e0a10
Create Date: 2026-11-29 14:40:00

"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a1e5pay001'
down_revision = 'b16c3a5e0a10'
branch_labels = None
depends_on = None

SALE_STATUS = "status IN ('awaiting_payment', 'paid', 'expired', 'failed', 'void')"
METHOD = "IN ('card', 'cash')"
REFUND_STATUS = "status IN ('pending', 'succeeded', 'failed')"
PAYMENT_STATUS = "status IN ('pending', 'succeeded', 'failed', 'cancelled', 'refunded')"


@contextmanager
def _quiet_reflection():
    """SQLite's batch mode copies a table by reflecting it, and the tables its foreign keys
    reach; SQLAlchemy then warns that it cannot reflect the clients' lower() expression
    indexes. Those indexes are on `clients`, which is not copied, so nothing is lost."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        yield


def upgrade():
    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('checkout_session_id', sa.String(length=255), nullable=True),
    sa.Column('payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('card_brand', sa.String(length=20), nullable=True),
    sa.Column('last4', sa.String(length=4), nullable=True),
    sa.Column('tip_cents', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_cents >= 0', name=op.f('ck_payments_amount_not_negative')),
    sa.CheckConstraint("method " + METHOD, name=op.f('ck_payments_method_known')),
    sa.CheckConstraint(PAYMENT_STATUS, name=op.f('ck_payments_status_known')),
    sa.CheckConstraint('tip_cents >= 0', name=op.f('ck_payments_tip_not_negative')),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_payments_sale_id_sales')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('checkout_session_id', name=op.f('uq_payments_checkout_session_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_sale_id'), ['sale_id'], unique=False)

    # One tender per existing sale, in sale order (so tender ids follow sale ids).
    op.execute("""
        INSERT INTO payments (sale_id, method, amount_cents, status, checkout_session_id,
                              payment_intent_id, card_brand, last4, tip_cents, created_at,
                              updated_at)
        SELECT id, payment_method, total_cents,
               CASE
                   WHEN payment_method = 'cash' OR status = 'paid' THEN 'succeeded'
                   WHEN status = 'awaiting_payment' THEN 'pending'
                   WHEN status = 'failed' THEN 'failed'
                   WHEN payment_intent_id IS NOT NULL THEN 'refunded'
                   ELSE 'cancelled'
               END,
               checkout_session_id, payment_intent_id, NULL, card_last4, 0, created_at,
               COALESCE(paid_at, closed_at, created_at)
        FROM sales ORDER BY id
    """)

    with _quiet_reflection(), op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_constraint('uq_sales_checkout_session_id', type_='unique')
        batch_op.drop_column('checkout_session_id')
        batch_op.drop_column('payment_intent_id')
        batch_op.drop_column('card_last4')
        batch_op.create_check_constraint('status_known', SALE_STATUS)
        batch_op.create_check_constraint('payment_method_known', "payment_method " + METHOD)

    with _quiet_reflection(), op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_check_constraint('status_known', REFUND_STATUS)
        batch_op.create_check_constraint('method_known', "method " + METHOD)


def downgrade():
    with _quiet_reflection(), op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_refunds_method_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_refunds_status_known'), type_='check')

    with _quiet_reflection(), op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_sales_payment_method_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_sales_status_known'), type_='check')
        batch_op.add_column(sa.Column('card_last4', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('payment_intent_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('checkout_session_id', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint('uq_sales_checkout_session_id', ['checkout_session_id'])

    # The first card tender of each sale gives its ids back.
    for column, source in (('checkout_session_id', 'checkout_session_id'),
                           ('payment_intent_id', 'payment_intent_id'), ('card_last4', 'last4')):
        op.execute(f"""
            UPDATE sales SET {column} = (
                SELECT p.{source} FROM payments p
                WHERE p.sale_id = sales.id AND p.method = 'card'
                ORDER BY p.id LIMIT 1)
        """)

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_sale_id'))

    op.drop_table('payments')
