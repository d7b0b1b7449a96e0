"""Gapless receipt numbers per location, shared by paid sales and refunds.

A number is taken inside the transaction that pays the sale (or makes the refund), with
the location's counter row locked: if that transaction rolls back, so does the number,
which is what keeps the sequence without gaps for the accountant.

Every till queues on that one row until its transaction commits, so callers take the
number as the LAST write of the transaction: the lock then covers only its very end. The
number is taken in one statement (UPDATE ... RETURNING locks, bumps and reads the row).
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from pos.models import ReceiptCounter

_COUNTERS = ReceiptCounter.__table__


def next_receipt_number(session: Session, location_id: int) -> int:
    # Whatever the transaction still has pending is written before the counter is locked.
    session.flush()
    number = session.execute(
        update(_COUNTERS).where(_COUNTERS.c.location_id == location_id)
        .values(next_number=_COUNTERS.c.next_number + 1)
        .returning(_COUNTERS.c.next_number - 1)).scalar()
    if number is not None:
        counter = session.identity_map.get(
            session.identity_key(ReceiptCounter, (location_id,)))  # type: ignore[arg-type]
        if counter is not None:
            session.expire(counter)  # a loaded copy must not write back the old value
        return int(number)
    counter = ReceiptCounter(location_id=location_id, next_number=2)
    session.add(counter)
    session.flush()
    return 1
