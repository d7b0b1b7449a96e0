"""locations: names unique, each user's home location, each staff session's location

Written by hand (issue 16, part 5):
- locations.name unique (a second "Main clinic" is refused, 409 `location_exists`);
- users.home_location_id (nullable, FK locations): where the user works by default;
- staff_sessions.location_id (nullable, FK locations): where this signed-in browser works;
- alerts.location_id (nullable, FK locations): where a low/out of stock alert's stock fell,
  set when the clinic has several locations.
A transfer needs no table: it is two ledger movements (`transfer_out`, `transfer_in`).
Added in batch mode, so SQLite can alter the tables too.

Revision ID: f16c0c4a0906
Revises: f14a0c4a0908
Create Date: 2026-11-29 22:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f16c0c4a0906'
down_revision = 'f14a0c4a0908'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_locations_name'), ['name'])
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_location_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_users_home_location_id_locations'),
                                    'locations', ['home_location_id'], ['id'])
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_staff_sessions_location_id_locations'),
                                    'locations', ['location_id'], ['id'])
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_alerts_location_id_locations'),
                                    'locations', ['location_id'], ['id'])


def downgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alerts_location_id_locations'),
                                 type_='foreignkey')
        batch_op.drop_column('location_id')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_sessions_location_id_locations'),
                                 type_='foreignkey')
        batch_op.drop_column('location_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_home_location_id_locations'),
                                 type_='foreignkey')
        batch_op.drop_column('home_location_id')
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_locations_name'), type_='unique')
