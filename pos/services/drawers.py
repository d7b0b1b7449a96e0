"""Cash drawers: open with a float, take cash sales and refunds, pay in/out, count, close.

Closing a drawer never stops the desk: the next cash sale (or cash refund) finds no open
drawer and opens one with a zero float.

Concurrency (PostgreSQL): a cash sale reads the open drawer FOR SHARE and appends its
entry; closing locks the drawer FOR UPDATE, so it waits for sales that already found the
drawer (and counts them), and a sale that looks after the close began waits for it and
then finds no open drawer (READ COMMITTED re-checks `status = 'open'` on the new row).
The partial unique index `uq_drawers_one_open_per_location` keeps one open drawer per
location: two first cash sales at once insert with ON CONFLICT DO NOTHING and the loser
uses the winner's drawer. SQLite serialises writers with BEGIN IMMEDIATE.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from pos.domain.drawers import (
    DrawerAlreadyOpen,
    DrawerFigures,
    DrawerNotClosed,
    DrawerNotOpen,
    NoOpenDrawer,
    NoteRequired,
    needs_note,
    over_short,
)
from pos.domain.errors import NotFound, ValidationFailed
from pos.domain.money import MAX_CENTS, format_cents
from pos.domain.statuses import DrawerEntryKind, DrawerStatus
from pos.models import Drawer, DrawerEntry
from pos.models.drawers import OPEN_DRAWER_WHERE
from pos.services import audit, clock
from pos.services.ledger import location_or_default
from pos.services.transaction import write_transaction


def _check_amount(name: str, cents: int, *, positive: bool = False) -> None:
    low = 1 if positive else 0
    if isinstance(cents, bool) or not isinstance(cents, int) or not low <= cents <= MAX_CENTS:
        rule = "more than 0" if positive else "at least 0"
        raise ValidationFailed(f"The {name.replace('_', ' ')} must be an amount of {rule}.",
                               {"fields": {name: f"must be an amount of {rule}"}})


def _open_drawer_id(session: Session, location_id: int, *, lock: bool) -> int | None:
    query = select(Drawer.id).where(Drawer.location_id == location_id,
                                    Drawer.status == DrawerStatus.OPEN)
    if lock:
        query = query.with_for_update(read=True)
    return session.scalar(query)


# --------------------------------------------------------------------------- figures

def figures(session: Session, drawer: Drawer) -> DrawerFigures:
    """Live sums for an open drawer; the figures kept at its close for a closed one."""
    if drawer.status == DrawerStatus.CLOSED and drawer.expected_cents is not None:
        return DrawerFigures(drawer.opening_float_cents, drawer.cash_sales_cents or 0,
                             drawer.cash_refunds_cents or 0, drawer.paid_in_cents or 0,
                             drawer.paid_out_cents or 0)
    sums = dict(session.execute(
        select(DrawerEntry.kind, func.coalesce(func.sum(DrawerEntry.amount_cents), 0))
        .where(DrawerEntry.drawer_id == drawer.id).group_by(DrawerEntry.kind)).all())
    return DrawerFigures(
        opening_float_cents=drawer.opening_float_cents,
        cash_sales_cents=int(sums.get(DrawerEntryKind.CASH_SALE, 0)),
        cash_refunds_cents=int(sums.get(DrawerEntryKind.CASH_REFUND, 0)),
        paid_in_cents=int(sums.get(DrawerEntryKind.PAID_IN, 0)),
        paid_out_cents=int(sums.get(DrawerEntryKind.PAID_OUT, 0)))


@dataclass(frozen=True)
class DrawerView:
    drawer: Drawer
    figures: DrawerFigures


def current_drawer(session: Session, location_id: int | None = None) -> DrawerView:
    """The open drawer of the desk's location, or 404 `no_open_drawer`."""
    location = location_or_default(session, location_id)
    drawer = session.scalar(select(Drawer).where(
        Drawer.location_id == location.id, Drawer.status == DrawerStatus.OPEN))
    if drawer is None:
        raise NoOpenDrawer("No drawer is open; open one with its float (or sell for cash: "
                           "the first cash sale opens one with a zero float).")
    return DrawerView(drawer, figures(session, drawer))


def get_drawer(session: Session, drawer_id: int) -> DrawerView:
    drawer = session.get(Drawer, drawer_id)
    if drawer is None:
        raise NotFound(f"There is no drawer {drawer_id}.", {"drawer_id": drawer_id})
    return DrawerView(drawer, figures(session, drawer))


def list_drawers(session: Session, *, page: int, per_page: int) -> tuple[list[Drawer], int]:
    """Newest first, one page of them, and how many there are."""
    total = session.scalar(select(func.count(Drawer.id))) or 0
    rows = session.scalars(
        select(Drawer).options(joinedload(Drawer.opened_by), joinedload(Drawer.closed_by))
        .order_by(Drawer.opened_at.desc(), Drawer.id.desc())
        .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), int(total)


def entries(session: Session, drawer_id: int) -> list[DrawerEntry]:
    return list(session.scalars(select(DrawerEntry).where(DrawerEntry.drawer_id == drawer_id)
                                .order_by(DrawerEntry.at, DrawerEntry.id)))


# --------------------------------------------------------------------------- cash lands here

def drawer_for_cash(session: Session, location_id: int, user_id: int | None) -> int:
    """The open drawer's id, locked FOR SHARE; with none open, one opened with a zero float
    (by this transaction, or by another desk that won the race a moment ago)."""
    found = _open_drawer_id(session, location_id, lock=True)
    if found is not None:
        return found
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    new_id = session.scalar(
        insert(Drawer).values(location_id=location_id, status=DrawerStatus.OPEN,
                              opening_float_cents=0, opened_at=clock.now(),
                              opened_by_id=user_id)
        .on_conflict_do_nothing(index_elements=["location_id"], index_where=OPEN_DRAWER_WHERE)
        .returning(Drawer.id))
    if new_id is None:  # another desk opened it first; its insert has committed
        new_id = _open_drawer_id(session, location_id, lock=True)
        assert new_id is not None
    else:
        audit.record(session, user_id, "drawer.open", "drawer", new_id,
                     opening_float_cents=0, by="cash sale")
    return new_id


def add_entry(session: Session, drawer_id: int, kind: DrawerEntryKind, amount_cents: int, *,
              user_id: int | None, sale_id: int | None = None, refund_id: int | None = None,
              note: str | None = None) -> None:
    session.add(DrawerEntry(drawer_id=drawer_id, kind=kind, amount_cents=amount_cents,
                            sale_id=sale_id, refund_id=refund_id, note=note, user_id=user_id,
                            at=clock.now()))


# --------------------------------------------------------------------------- use cases

def open_drawer(*, opening_float_cents: int, user_id: int | None,
                location_id: int | None = None) -> Drawer:
    _check_amount("opening_float_cents", opening_float_cents)
    with write_transaction() as session:
        location = location_or_default(session, location_id)
        existing = _open_drawer_id(session, location.id, lock=False)
        if existing is not None:
            raise DrawerAlreadyOpen("A drawer is already open here; close it first.",
                                    {"drawer_id": existing})
        drawer = Drawer(location_id=location.id, status=DrawerStatus.OPEN,
                        opening_float_cents=opening_float_cents, opened_at=clock.now(),
                        opened_by_id=user_id)
        try:
            with session.begin_nested():
                session.add(drawer)
                session.flush()
        except IntegrityError:
            raise DrawerAlreadyOpen("A drawer was opened here a moment ago.") from None
        audit.record(session, user_id, "drawer.open", "drawer", drawer.id,
                     opening_float_cents=opening_float_cents)
        return drawer


def _lock(session: Session, drawer_id: int) -> Drawer:
    drawer = session.scalar(select(Drawer).where(Drawer.id == drawer_id).with_for_update()
                            .execution_options(populate_existing=True))
    if drawer is None:
        raise NotFound(f"There is no drawer {drawer_id}.", {"drawer_id": drawer_id})
    return drawer


def _must_be_open(drawer: Drawer) -> None:
    if drawer.status != DrawerStatus.OPEN:
        raise DrawerNotOpen(f"Drawer {drawer.id} is closed.", {"drawer_id": drawer.id})


def close_drawer(drawer_id: int, *, counted_cents: int, note: str | None,
                 user_id: int | None, tolerance_cents: int) -> DrawerView:
    """Count and close: expected and counted are kept with over/short = counted - expected;
    past `tolerance_cents` (DRAWER_TOLERANCE_CENTS) either way, a note is required."""
    _check_amount("counted_cents", counted_cents)
    note = (note or "").strip() or None
    with write_transaction() as session:
        drawer = _lock(session, drawer_id)
        _must_be_open(drawer)
        live = figures(session, drawer)
        difference = over_short(counted_cents, live.expected_cents)
        if note is None and needs_note(difference, tolerance_cents):
            word = "over" if difference > 0 else "short"
            raise NoteRequired(
                f"The drawer is {format_cents(abs(difference))} {word}: say why in a note.",
                {"expected_cents": live.expected_cents, "counted_cents": counted_cents,
                 "over_short_cents": difference, "tolerance_cents": tolerance_cents,
                 "fields": {"note": "required when over or short past the tolerance"}})
        drawer.status = DrawerStatus.CLOSED
        drawer.closed_at = clock.now()
        drawer.closed_by_id = user_id
        drawer.cash_sales_cents = live.cash_sales_cents
        drawer.cash_refunds_cents = live.cash_refunds_cents
        drawer.paid_in_cents = live.paid_in_cents
        drawer.paid_out_cents = live.paid_out_cents
        drawer.expected_cents = live.expected_cents
        drawer.counted_cents = counted_cents
        drawer.over_short_cents = difference
        drawer.note = note
        audit.record(session, user_id, "drawer.close", "drawer", drawer.id,
                     expected_cents=live.expected_cents, counted_cents=counted_cents,
                     over_short_cents=difference)
        return DrawerView(drawer, live)


def reopen_drawer(drawer_id: int, *, user_id: int | None) -> DrawerView:
    """A manager reopens a closed drawer (a miscount); its close is forgotten, not its
    entries. Another drawer open at that location: 409 `drawer_already_open`."""
    with write_transaction() as session:
        drawer = _lock(session, drawer_id)
        if drawer.status != DrawerStatus.CLOSED:
            raise DrawerNotClosed(f"Drawer {drawer.id} is open.", {"drawer_id": drawer.id})
        other = _open_drawer_id(session, drawer.location_id, lock=False)
        if other is not None:
            raise DrawerAlreadyOpen(f"Drawer {other} is open here; close it first.",
                                    {"drawer_id": other})
        audit.record(session, user_id, "drawer.reopen", "drawer", drawer.id,
                     previous_counted_cents=drawer.counted_cents,
                     previous_over_short_cents=drawer.over_short_cents)
        drawer.status = DrawerStatus.OPEN
        for column in ("closed_at", "closed_by_id", "cash_sales_cents", "cash_refunds_cents",
                       "paid_in_cents", "paid_out_cents", "expected_cents", "counted_cents",
                       "over_short_cents", "note"):
            setattr(drawer, column, None)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            raise DrawerAlreadyOpen("A drawer was opened here a moment ago.") from None
        return DrawerView(drawer, figures(session, drawer))


def record_movement(drawer_id: int, *, kind: str, amount_cents: int, note: str,
                    user_id: int | None) -> DrawerView:
    """Paid in (change brought from the bank) or paid out (a delivery tip): with a note."""
    if kind not in (DrawerEntryKind.PAID_IN, DrawerEntryKind.PAID_OUT):
        raise ValidationFailed("The kind is paid_in or paid_out.",
                               {"fields": {"kind": "must be paid_in or paid_out"}})
    _check_amount("amount_cents", amount_cents, positive=True)
    if not note or not note.strip():
        raise ValidationFailed("Say what the cash was for.", {"fields": {"note": "is required"}})
    with write_transaction() as session:
        drawer = _lock(session, drawer_id)
        _must_be_open(drawer)
        add_entry(session, drawer.id, DrawerEntryKind(kind), amount_cents, user_id=user_id,
                  note=note.strip()[:500])
        session.flush()
        audit.record(session, user_id, f"drawer.{kind}", "drawer", drawer.id,
                     amount_cents=amount_cents)
        return DrawerView(drawer, figures(session, drawer))
