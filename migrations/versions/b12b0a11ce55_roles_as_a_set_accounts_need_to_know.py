"""roles as a set, set-password links, token expiry, need-to-know read counts

- users.role (one role) becomes users.roles: the set held, as canonical text
  ("provider,manager"), with a CHECK listing the 15 possible sets, so the database refuses
  an unknown role or an empty set. Each user keeps the role they had.
- api_tokens gain expires_at (NULL: no expiry).
- password_links: the set-password links emailed to invited users (hash only).
- client_record_reads and bulk_read_bursts: counting client record reads per user to
  tell the admins about bulk reading (pos/services/need_to_know.py).

Read by hand: users is rebuilt by batch_alter_table on SQLite; it carries no report
trigger (those are on sales, sale_lines, package_purchases, treatments, refunds,
refund_lines, none touched here). Downgrade keeps, of each user's set, the highest role.

Revision ID: b12b0a11ce55
Revises: d11b07a11c55
Create Date: 2026-11-29 17:00:00.000000

"""
from itertools import combinations

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b12b0a11ce55'
down_revision = 'd11b07a11c55'
branch_labels = None
depends_on = None

# Frozen here (not imported from pos.domain.roles): a migration must not change later.
ROLE_ORDER = ('front_desk', 'provider', 'manager', 'admin')
ROLE_SETS = [','.join(combo) for size in range(1, 5) for combo in combinations(ROLE_ORDER, size)]
ROLES_KNOWN = 'roles IN ({})'.format(', '.join(f"'{s}'" for s in ROLE_SETS))


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roles', sa.String(length=60), nullable=True))
    op.execute("UPDATE users SET roles = role")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('roles', existing_type=sa.String(length=60), nullable=False)
        batch_op.drop_column('role')
        batch_op.create_check_constraint('roles_known', ROLES_KNOWN)

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        'password_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_password_links_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_password_links_token_hash')),
    )
    op.create_index(op.f('ix_password_links_user_id'), 'password_links', ['user_id'])

    op.create_table(
        'client_record_reads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_client_record_reads_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_client_record_reads')),
    )
    op.create_index('ix_client_record_reads_user_at', 'client_record_reads', ['user_id', 'at'])
    op.create_index(op.f('ix_client_record_reads_at'), 'client_record_reads', ['at'])

    op.create_table(
        'bulk_read_bursts',
        sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_over_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_bulk_read_bursts_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_bulk_read_bursts')),
    )


def downgrade():
    op.drop_table('bulk_read_bursts')
    op.drop_index('ix_client_record_reads_user_at', table_name='client_record_reads')
    op.drop_index(op.f('ix_client_record_reads_at'), table_name='client_record_reads')
    op.drop_table('client_record_reads')
    op.drop_index(op.f('ix_password_links_user_id'), table_name='password_links')
    op.drop_table('password_links')

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=20), nullable=True))
    # One role per user again: the highest of the set (provider ranks above front_desk).
    op.execute("""
        UPDATE users SET role = CASE
            WHEN roles LIKE '%admin%' THEN 'admin'
            WHEN roles LIKE '%manager%' THEN 'manager'
            WHEN roles LIKE '%provider%' THEN 'provider'
            ELSE 'front_desk' END
    """)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_roles_known'), type_='check')
        batch_op.alter_column('role', existing_type=sa.String(length=20), nullable=False)
        batch_op.drop_column('roles')
