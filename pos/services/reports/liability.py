"""The package liability roll-forward, opened from a stored snapshot.

The liability at an instant T is: value of the purchases whose sale was paid before T
(sale counted) - value of the sessions performed before T (not voided; a purchase's
first n sessions are worth value * n // total, the cumulative-floor rule) - net of the
refunds made before T on package lines (refund counted). It does not depend on the time
zone: a month only chooses which instants are its opening and closing.

Reading it from all history grows with the history, so the figure at each month
boundary already past is stored in package_liability_snapshots (pos/models/reporting.py,
whose triggers delete any snapshot that a later write makes wrong, in that write's
transaction). A report then reads the latest snapshot at or before its month's start and
adds the flows between the two instants: with the snapshot at the start itself, the
report reads the month's own rows only, whatever the length of the history.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal_column, or_, select, text, true
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from pos.domain.statuses import COUNTED_REFUND_STATUSES, COUNTED_SALE_STATUSES
from pos.models import (
    PackageLiabilitySnapshot,
    PackagePurchase,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    Treatment,
)
from pos.models.reporting import SNAPSHOT_LOCK_KEY
from pos.services.reports._sql import sum_or_zero
from pos.services.reports.shapes import Liability

# Less than PostgreSQL's deadlock_timeout (1 s): a report waiting for the writers in
# flight gives up (and stores nothing this time) before a cycle through it is detected,
# so it can never cost a writer its transaction.
LOCK_WAIT = "200ms"

Snapshots = dict[datetime, int]


def package_liability(session: Session, start: datetime, end: datetime,
                      now: datetime) -> tuple[int, Liability]:
    """(sessions performed in [start, end), the liability roll-forward of [start, end)).

    Boundaries already past (<= now) that have no snapshot yet get one, computed and
    stored under the snapshot lock; otherwise this only reads.
    """
    known = _snapshots(session, start, end)
    if any(at <= now and at not in known for at in (start, end)):
        stored = _compute_and_store(session, start, end, now)
        if stored is not None:
            return stored
    return _compute(session, known, start, end)


def _snapshots(session: Session, start: datetime, end: datetime) -> Snapshots:
    """The snapshot at `end` and the latest one at or before `start`: one statement."""
    S = PackageLiabilitySnapshot
    latest = select(func.max(S.at)).where(S.at <= start).scalar_subquery()
    rows = session.execute(select(S.at, S.liability_cents).where(or_(S.at == latest,
                                                                     S.at == end)))
    return {at: int(cents) for at, cents in rows}


def _compute(session: Session, known: Snapshots, start: datetime,
             end: datetime) -> tuple[int, Liability]:
    base_at = max((at for at in known if at <= start), default=None)
    base = known[base_at] if base_at is not None else 0
    (sold_before, sold_within, performed_before, performed_within, sessions,
     refunded_before, refunded_within) = _flows(session, base_at, start, end)
    opening = base + sold_before - performed_before - refunded_before
    return sessions, Liability(opening, sold_within, performed_within, refunded_within)


def _compute_and_store(session: Session, start: datetime, end: datetime,
                       now: datetime) -> tuple[int, Liability] | None:
    """Compute under the snapshot lock and store the missing past boundaries; None when
    the lock is not to be had quickly (the caller then computes without storing)."""
    from pos.services.transaction import write_transaction

    try:
        with write_transaction() as write:
            if write.get_bind().dialect.name == "postgresql":
                write.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
                write.execute(select(func.pg_advisory_xact_lock(SNAPSHOT_LOCK_KEY)))
            known = _snapshots(write, start, end)  # again: another report may have stored
            sessions, liability = _compute(write, known, start, end)
            for at, cents in ((start, liability.opening_cents),
                              (end, liability.closing_cents)):
                if at <= now and at not in known:
                    write.add(PackageLiabilitySnapshot(at=at, liability_cents=cents,
                                                       computed_at=now))
        return sessions, liability
    except OperationalError:
        return None  # the lock wait ran out: writers are busy; read without storing


def _flows(session: Session, since: datetime | None, start: datetime,
           end: datetime) -> tuple[int, ...]:
    """The liability's movements in [since, start) and in [start, end), ONE statement:
    (sold before, sold within, performed before, performed within, sessions performed
    within, refunded before, refunded within). `since` None means from the beginning."""

    def split(column: Any, value: Any) -> tuple[Any, Any]:
        return (sum_or_zero(case((column < start, value), else_=0)).label("before"),
                sum_or_zero(case((column >= start, value), else_=0)).label("within"))

    sold = _sold(since, end, split)
    performed = _performed(since, start, end, session.get_bind().dialect.name)
    refunded = (
        # What left the liability: the sessions' full value even when a manager gave
        # back less (released_cents), else what was given back.
        select(*split(Refund.created_at,
                      func.coalesce(RefundLine.released_cents, RefundLine.net_cents)))
        .select_from(RefundLine)
        .join(Refund, Refund.id == RefundLine.refund_id)
        .join(SaleLine, SaleLine.id == RefundLine.sale_line_id)
        # A voided sale was never sold (see _sold): its refunds never gave anything back.
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(true() if since is None else Refund.created_at >= since,
               Refund.created_at < end, SaleLine.package_id.is_not(None),
               Refund.status.in_(COUNTED_REFUND_STATUSES),
               Sale.status.in_(COUNTED_SALE_STATUSES))
        .subquery("refunded"))
    row = session.execute(
        select(sold.c.before, sold.c.within, performed.c.before, performed.c.within,
               performed.c.sessions, refunded.c.before, refunded.c.within)
        .select_from(sold.join(performed, true()).join(refunded, true()))).one()
    return tuple(int(v or 0) for v in row)


def _sold(since: datetime | None, end: datetime, split: Any) -> Any:
    """Value of the purchases whose sale was paid in [since, end), split at the start."""
    counted = and_(Sale.paid_at < end, Sale.status.in_(COUNTED_SALE_STATUSES))
    if since is None:
        # All history: one pass over the package lines alone (ix_sale_lines_package_lines:
        # a purchase is always of a package line), hashed against the sales.
        return (
            select(*split(Sale.paid_at, PackagePurchase.value_cents))
            .select_from(PackagePurchase)
            .join(SaleLine, and_(SaleLine.id == PackagePurchase.sale_line_id,
                                 SaleLine.package_id.is_not(None)))
            .join(Sale, Sale.id == SaleLine.sale_id)
            .where(counted)
            .subquery("sold"))
    # A window: its sales read once by ix_sales_paid_at, their package lines by a range
    # of ix_sale_lines_package_sale over the window's span of sale ids (ids grow with
    # time: see sale_id_span), the lines' purchases by a range of
    # ix_package_purchases_sale_line_value over those lines' ids, each hashed against the
    # other: range scans that follow the window, where a lookup per sale descended
    # indexes as deep as the history. MATERIALIZED: each is read once.
    window = (select(Sale.id.label("id"), Sale.paid_at.label("paid_at"))
              .where(Sale.paid_at >= since, counted)
              .cte("window_sales").prefix_with("MATERIALIZED"))
    lines = (select(SaleLine.id.label("id"), SaleLine.sale_id.label("sale_id"))
             .where(SaleLine.package_id.is_not(None),
                    SaleLine.sale_id.between(select(func.min(window.c.id)).scalar_subquery(),
                                             select(func.max(window.c.id)).scalar_subquery()))
             .cte("window_lines").prefix_with("MATERIALIZED"))
    return (
        select(*split(window.c.paid_at, PackagePurchase.value_cents))
        .select_from(lines)
        .join(window, window.c.id == lines.c.sale_id)
        .join(PackagePurchase, and_(
            PackagePurchase.sale_line_id == lines.c.id,
            PackagePurchase.sale_line_id.between(
                select(func.min(lines.c.id)).scalar_subquery(),
                select(func.max(lines.c.id)).scalar_subquery())))
        .subquery("sold"))


def _performed(since: datetime | None, start: datetime, end: datetime, dialect: str) -> Any:
    """Value of the sessions performed in [since, start) and [start, end), and how many
    in [start, end). Per purchase the value of sessions k+1..n is value(n) - value(k), so
    each purchase with a session in the window needs its counts before since, start and
    end, beside its value and number of sessions."""
    counted = and_(Treatment.performed_at < end, Treatment.voided_at.is_(None))
    if since is None:
        grouped = (
            select(Treatment.purchase_id.label("purchase_id"),
                   sum_or_zero(case((Treatment.performed_at < start, 1), else_=0))
                   .label("n_start"),
                   func.count(Treatment.id).label("n_end"))
            .where(counted).group_by(Treatment.purchase_id).subquery("grouped"))
        counts: Any = (
            select(literal_column("0").label("n_since"), grouped.c.n_start, grouped.c.n_end,
                   PackagePurchase.value_cents, PackagePurchase.sessions_total)
            .join(PackagePurchase, PackagePurchase.id == grouped.c.purchase_id)
            .subquery("counts"))
    else:
        # Only the purchases with a session in [since, end): the window's own rows give
        # each one's sessions in [since, start) and [start, end); one count per purchase,
        # by ix_treatments_purchase_id (a handful of rows), gives those before since, and
        # its value and size come by the primary key: lookups as deep as the indexes (a
        # level more for many times the history), where a join would read every
        # treatment or purchase ever made. MATERIALIZED: once per purchase.
        touched = (
            select(Treatment.purchase_id.label("purchase_id"),
                   sum_or_zero(case((Treatment.performed_at < start, 1), else_=0))
                   .label("before_start"),
                   sum_or_zero(case((Treatment.performed_at >= start, 1), else_=0))
                   .label("within"))
            .where(counted, Treatment.performed_at >= since)
            .group_by(Treatment.purchase_id).subquery("touched"))
        earlier = Treatment.__table__.alias("earlier")
        n_since = (select(func.count()).select_from(earlier)
                   .where(earlier.c.purchase_id == touched.c.purchase_id,
                          earlier.c.voided_at.is_(None), earlier.c.performed_at < since)
                   .scalar_subquery())
        # Its value and size in ONE lookup by the primary key: LATERAL on PostgreSQL (a
        # plain join could hash every purchase ever sold); SQLite always joins by nested
        # loops, the materialized window outside, so a join is that lookup there.
        if dialect == "postgresql":
            purchase: Any = (select(PackagePurchase.value_cents, PackagePurchase.sessions_total)
                             .where(PackagePurchase.id == touched.c.purchase_id)
                             .lateral("purchase"))
            joined = touched.join(purchase, true())
        else:
            purchase = PackagePurchase.__table__
            joined = touched.join(purchase, purchase.c.id == touched.c.purchase_id)
        window_counts = (
            select(n_since.label("n_since"), touched.c.before_start, touched.c.within,
                   purchase.c.value_cents, purchase.c.sessions_total)
            .select_from(joined)
            .cte("window_counts").prefix_with("MATERIALIZED"))
        n_start = window_counts.c.n_since + window_counts.c.before_start
        counts = (select(window_counts.c.n_since, n_start.label("n_start"),
                         (n_start + window_counts.c.within).label("n_end"),
                         window_counts.c.value_cents, window_counts.c.sessions_total)
                  .subquery("counts"))
    total, value = counts.c.sessions_total, counts.c.value_cents

    def value_of(n: Any) -> Any:
        capped = case((n > total, total), else_=n)
        return case((total > 0, value * capped // total), else_=0)

    return (
        select(sum_or_zero(value_of(counts.c.n_start) - value_of(counts.c.n_since))
               .label("before"),
               sum_or_zero(value_of(counts.c.n_end) - value_of(counts.c.n_start))
               .label("within"),
               sum_or_zero(counts.c.n_end - counts.c.n_start).label("sessions"))
        .subquery("performed"))
