"""worker: idempotency claim lease, outbox NOTIFY trigger

1. Idempotency-Key records gain `claimed_at`: when the request now answering for the key
   started. A claim left unanswered past IDEMPOTENCY_LEASE_SECONDS (its worker died) is
   taken over by a retry (pos/web/api/idempotency.py). Existing rows take their
   created_at.
2. PostgreSQL only: a trigger sends NOTIFY pos_outbox for each statement inserting into
   the outbox, which wakes `pos worker` at the commit (pos/notify/outbox.py). Triggers
   are invisible to autogenerate; the SQL is the one create_all runs.

Read by hand: one column, filled, then made NOT NULL; one function and one trigger.

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

# Copied, not imported: a migration must keep meaning what it meant when it was written.
NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION pos_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pos_outbox', '');
    RETURN NULL;
END $$
"""
NOTIFY_TRIGGER = ("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
                  "FOR EACH STATEMENT EXECUTE FUNCTION pos_outbox_notify()")


def upgrade():
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE idempotency_records SET claimed_at = created_at")
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.alter_column('claimed_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(NOTIFY_FUNCTION)
        op.execute(NOTIFY_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
        op.execute("DROP FUNCTION IF EXISTS pos_outbox_notify()")

    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
