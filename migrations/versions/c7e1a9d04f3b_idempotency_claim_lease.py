"""idempotency claim lease

Idempotency-Key records gain `claimed_at`: when the request now answering for the key
started. A claim left unanswered past IDEMPOTENCY_LEASE_SECONDS (its worker died) is taken
over by a retry (pos/web/api/idempotency.py). Existing rows take their created_at. Read by
hand: one column, filled, then made NOT NULL.

Revision ID: c7e1a9d04f3b
Revises: 9d6d47011c85
Create Date: 2026-11-29 14:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e1a9d04f3b'
down_revision = '9d6d47011c85'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE idempotency_records SET claimed_at = created_at")
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.alter_column('claimed_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)


def downgrade():
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
