"""staff sessions, PINs and sign-in throttles

Sessions move server-side (`staff_sessions`: the cookie carries a random key, the table its
SHA-256); each user may set a PIN (`staff_pins`, Argon2id like passwords); failed sign-ins
are counted in one row per account or address (`login_throttles`), replacing the one row
per failure of `login_failures` (its rows only throttled the last 15 minutes: dropped).

Read by hand: three new tables, one dropped; no existing table changes.

Revision ID: a12a5e5510f1
Revises: e11c0ca47555
Create Date: 2026-11-29 17:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a12a5e5510f1'
down_revision = 'e11c0ca47555'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('desk_hash', sa.String(length=64), nullable=True),
        sa.Column('origin', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(length=20), nullable=True),
        sa.CheckConstraint("origin IN ('password', 'pin')",
                           name=op.f('ck_staff_sessions_origin_known')),
        sa.CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('signed_out', 'idle', 'password_changed', "
            "'revoked')", name=op.f('ck_staff_sessions_end_reason_known')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_staff_sessions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_staff_sessions_key_hash')),
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_staff_sessions_user_id_ended_at', ['user_id', 'ended_at'],
                              unique=False)
        batch_op.create_index('ix_staff_sessions_desk_hash_created_at',
                              ['desk_hash', 'created_at'], unique=False)

    op.create_table(
        'staff_pins',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('pin_hash', sa.String(length=255), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_staff_pins_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_staff_pins')),
    )

    op.create_table(
        'login_throttles',
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('failures >= 0', name=op.f('ck_login_throttles_failures_not_negative')),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttles')),
    )

    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_key_at')
    op.drop_table('login_failures')


def downgrade():
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_key_at', ['key', 'at'], unique=False)

    op.drop_table('login_throttles')
    op.drop_table('staff_pins')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_sessions_desk_hash_created_at')
        batch_op.drop_index('ix_staff_sessions_user_id_ended_at')
    op.drop_table('staff_sessions')
