"""cash drawers replace the closed cash day

Written and read by hand (issue 11, part 1):
- `drawers`: opened with a float, closed with the figures counted (the Z report); one open
  drawer per location, kept by the partial unique index
  `uq_drawers_one_open_per_location` (PostgreSQL and SQLite both have partial indexes).
- `drawer_entries`: the cash that moved in or out of a drawer (cash sales, cash refunds,
  paid in, paid out), appended, never edited.
- Every closed `cash_days` row becomes a closed drawer with its figures: float, expected,
  counted and over/short as they were kept, and the day's cash sales and cash refunds
  summed again over the clinic's day (the clinic's time zone from `clinic_settings`).
  A day never closed had no count, so nothing of it is kept but its sales themselves.
  `cash_days` is dropped.

Downgrade makes `cash_days` again from the closed drawers (the last one per location
and clinic day) and drops the drawer tables.

Revision ID: c11a0d4a3e55
Revises: b12b0a11ce55
Create Date: 2026-11-29 17:10:00

"""
import os
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c11a0d4a3e55'
down_revision = 'b12b0a11ce55'
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def _aware(value):
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stored(value):
    """UTC as the models store it (naive on SQLite, aware on PostgreSQL)."""
    if value is None:
        return None
    return value.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else value


def _zone(connection):
    name = connection.execute(sa.text("SELECT timezone FROM clinic_settings")).scalar()
    try:
        return ZoneInfo(name or os.environ.get("CLINIC_TIMEZONE") or "America/New_York")
    except Exception:  # noqa: BLE001 - an unknown zone name: the documented default
        return ZoneInfo("America/New_York")


def _day_bounds(day, zone):
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def upgrade():
    op.create_table('drawers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('opening_float_cents', sa.BigInteger(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('cash_sales_cents', sa.BigInteger(), nullable=True),
    sa.Column('cash_refunds_cents', sa.BigInteger(), nullable=True),
    sa.Column('paid_in_cents', sa.BigInteger(), nullable=True),
    sa.Column('paid_out_cents', sa.BigInteger(), nullable=True),
    sa.Column('expected_cents', sa.BigInteger(), nullable=True),
    sa.Column('counted_cents', sa.BigInteger(), nullable=True),
    sa.Column('over_short_cents', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_drawers_status_known')),
    sa.CheckConstraint('opening_float_cents >= 0', name=op.f('ck_drawers_float_not_negative')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_drawers_closed_by_id_users')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_drawers_location_id_locations')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_drawers_opened_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drawers'))
    )
    with op.batch_alter_table('drawers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drawers_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index('uq_drawers_one_open_per_location', ['location_id'], unique=True,
                              postgresql_where=OPEN, sqlite_where=OPEN)

    op.create_table('drawer_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('drawer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('cash_sale', 'cash_refund', 'paid_in', 'paid_out')",
                       name=op.f('ck_drawer_entries_kind_known')),
    sa.CheckConstraint('amount_cents >= 0', name=op.f('ck_drawer_entries_amount_not_negative')),
    sa.ForeignKeyConstraint(['drawer_id'], ['drawers.id'], name=op.f('fk_drawer_entries_drawer_id_drawers')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_drawer_entries_refund_id_refunds')),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_drawer_entries_sale_id_sales')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_drawer_entries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drawer_entries'))
    )
    with op.batch_alter_table('drawer_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drawer_entries_drawer_id'), ['drawer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_drawer_entries_sale_id'), ['sale_id'], unique=False)

    _days_into_drawers()
    op.drop_table('cash_days')


def _sum(connection, sql, location_id, start, end):
    return int(connection.execute(sa.text(sql).bindparams(
        sa.bindparam("start", type_=sa.DateTime(timezone=True)),
        sa.bindparam("end", type_=sa.DateTime(timezone=True))),
        {"location_id": location_id, "start": _stored(start), "end": _stored(end)}).scalar() or 0)


def _days_into_drawers():
    connection = op.get_bind()
    zone = _zone(connection)
    days = connection.execute(sa.text(
        "SELECT location_id, business_date, opening_float_cents, expected_cents, "
        "counted_cents, closed_at, closed_by_id FROM cash_days "
        "WHERE closed_at IS NOT NULL ORDER BY business_date, id")).all()
    drawers = sa.table('drawers', *(sa.column(name) for name in (
        'location_id', 'status', 'opening_float_cents', 'opened_at', 'closed_at',
        'closed_by_id', 'cash_sales_cents', 'cash_refunds_cents', 'paid_in_cents',
        'paid_out_cents', 'expected_cents', 'counted_cents', 'over_short_cents', 'note')))
    for location_id, day, float_cents, expected, counted, closed_at, closed_by_id in days:
        if isinstance(day, str):
            day = datetime.strptime(day, "%Y-%m-%d").date()
        start, end = _day_bounds(day, zone)
        sales = _sum(connection, "SELECT sum(total_cents) FROM sales WHERE location_id = "
                     ":location_id AND payment_method = 'cash' AND status = 'paid' "
                     "AND paid_at >= :start AND paid_at < :end", location_id, start, end)
        refunds = _sum(connection, "SELECT sum(amount_cents) FROM refunds WHERE location_id "
                       "= :location_id AND method = 'cash' AND status = 'succeeded' "
                       "AND created_at >= :start AND created_at < :end",
                       location_id, start, end)
        if expected is None:
            expected = float_cents + sales - refunds
        counted = expected if counted is None else counted
        closed_at = closed_at if not isinstance(closed_at, str) else \
            datetime.fromisoformat(closed_at)
        op.execute(drawers.insert().values(
            location_id=location_id, status='closed', opening_float_cents=float_cents,
            opened_at=_stored(start), closed_at=_stored(_aware(closed_at)),
            closed_by_id=closed_by_id, cash_sales_cents=sales, cash_refunds_cents=refunds,
            paid_in_cents=0, paid_out_cents=0, expected_cents=expected, counted_cents=counted,
            over_short_cents=counted - expected,
            note=f"Cash day {day.isoformat()} (closed before drawers)"))


def downgrade():
    op.create_table('cash_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('opening_float_cents', sa.BigInteger(), nullable=False),
    sa.Column('expected_cents', sa.BigInteger(), nullable=True),
    sa.Column('counted_cents', sa.BigInteger(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_cash_days_closed_by_id_users')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_cash_days_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_days')),
    sa.UniqueConstraint('location_id', 'business_date', name=op.f('uq_cash_days_location_id'))
    )
    connection = op.get_bind()
    zone = _zone(connection)
    closed = connection.execute(sa.text(
        "SELECT location_id, opened_at, opening_float_cents, expected_cents, counted_cents, "
        "closed_at, closed_by_id FROM drawers WHERE status = 'closed' ORDER BY closed_at, id"
    )).all()
    by_day = {}
    for location_id, opened_at, float_cents, expected, counted, closed_at, by in closed:
        if isinstance(opened_at, str):
            opened_at = datetime.fromisoformat(opened_at)
        if isinstance(closed_at, str):
            closed_at = datetime.fromisoformat(closed_at)
        day = _aware(opened_at).astimezone(zone).date()
        by_day[(location_id, day)] = (float_cents, expected, counted, closed_at, by)
    cash_days = sa.table('cash_days', *(sa.column(name) for name in (
        'location_id', 'business_date', 'opening_float_cents', 'expected_cents',
        'counted_cents', 'closed_at', 'closed_by_id')))
    for (location_id, day), (float_cents, expected, counted, closed_at, by) in by_day.items():
        op.execute(cash_days.insert().values(
            location_id=location_id, business_date=day, opening_float_cents=float_cents,
            expected_cents=expected, counted_cents=counted, closed_at=closed_at,
            closed_by_id=by))
    with op.batch_alter_table('drawer_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drawer_entries_sale_id'))
        batch_op.drop_index(batch_op.f('ix_drawer_entries_drawer_id'))
    op.drop_table('drawer_entries')
    with op.batch_alter_table('drawers', schema=None) as batch_op:
        batch_op.drop_index('uq_drawers_one_open_per_location', postgresql_where=OPEN,
                            sqlite_where=OPEN)
        batch_op.drop_index(batch_op.f('ix_drawers_opened_at'))
    op.drop_table('drawers')
