"""Sweeping and reconciling card sales still awaiting payment: ONE loop.

Both ask the gateway about each awaiting sale and settle what it says. The sweep (sales
past their expiry, plus a grace) also ends the checkouts still open and expires the sale;
reconciliation (any awaiting sale) leaves an open checkout open, so a client who is paying
right now is not cut off. No transaction stays open while the gateway is asked.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from pos.domain.statuses import PaymentMethod, PaymentStatus, SaleStatus
from pos.extensions import db
from pos.models import Payment, Sale
from pos.payments.gateway import CheckoutSession, GatewayError
from pos.services import clock
from pos.services.sales.settlement import (
    expire_checkout_sale,
    fulfil_checkout,
    retry_pending_auto_refunds,
)

log = logging.getLogger("pos.sales")

# A session past its expiry whose `expired` event never came is swept after this grace.
SWEEP_GRACE = timedelta(minutes=5)


def sweep_expired(now: datetime | None = None) -> dict[str, int]:
    """Card sales past their checkout's expiry (plus a grace) whose event never came: ask
    the gateway, settle what was paid, expire the rest (releasing their stock)."""
    now = now or clock.now()
    return _check_awaiting([Sale.expires_at < now - SWEEP_GRACE], expire_open=True)


def reconcile(since: datetime | None = None) -> dict[str, int]:
    """Ask the gateway about every sale still awaiting payment and settle it, so a payment
    made while the webhook was unreachable is never lost. Running it twice changes nothing."""
    from pos.services.sales.terminal_settlement import reconcile_terminal

    where = [Sale.created_at >= since] if since is not None else []
    counts = _check_awaiting(where, expire_open=False)
    for key, value in reconcile_terminal().items():  # card reader tenders
        counts[key] = counts.get(key, 0) + value
    return counts


def sweep_checkouts() -> dict[str, int]:
    """The periodic clean-up of card payments (`pos worker` and `pos
    sweep-checkouts`): expire abandoned checkouts, send again the automatic refunds that
    did not go through."""
    counts = sweep_expired()
    counts["refunds_retried"] = retry_pending_auto_refunds()
    return counts


def _check_awaiting(where: list[Any], *, expire_open: bool) -> dict[str, int]:
    """The one loop: each awaiting sale is looked up at its gateway and settled."""
    from pos.payments.factory import gateway_named

    counts = {"checked": 0, "paid": 0, "expired": 0, "open": 0, "refunded": 0, "flagged": 0,
              "unchanged": 0, "errors": 0}
    for sale_id, session_id, gateway_name in _awaiting(where):
        counts["checked"] += 1
        if not session_id:  # the checkout was never stored (a crash in between)
            if expire_open:
                _count_expiry(counts, sale_id)
            else:
                counts["unchanged"] += 1
            continue
        try:
            gateway = gateway_named(gateway_name)
            checkout = gateway.retrieve_checkout(session_id)
            if expire_open and checkout.status == "open":
                checkout = gateway.expire_checkout(session_id)
        except GatewayError as error:
            log.warning("sweep: sale %s not settled: %s", sale_id, error)
            counts["errors"] += 1
            continue
        _settle(checkout, sale_id, expire_open=expire_open, counts=counts)
    return counts


def _settle(checkout: CheckoutSession, sale_id: int, *, expire_open: bool,
            counts: dict[str, int]) -> None:
    if checkout.is_paid:
        outcome = fulfil_checkout(checkout, None)
        counts[outcome if outcome in ("paid", "refunded", "flagged") else "unchanged"] += 1
    elif checkout.status == "expired" or expire_open:
        _count_expiry(counts, sale_id)
    else:
        counts["open"] += 1


def _count_expiry(counts: dict[str, int], sale_id: int) -> None:
    counts["expired" if expire_checkout_sale(sale_id) == "expired" else "unchanged"] += 1


def _awaiting(where: list[Any]) -> list[tuple[int, str | None, str | None]]:
    db.session.rollback()  # read what is committed now, not an older snapshot
    rows = db.session.execute(
        select(Sale.id, Payment.checkout_session_id, Sale.gateway)
        .outerjoin(Payment, (Payment.sale_id == Sale.id)
                   & (Payment.method == PaymentMethod.CARD)
                   # a split sale's card tender that failed is over; the pending one counts
                   & (Payment.status == PaymentStatus.PENDING))
        # A flagged sale whose own session was paid but refused (wrong amount or currency:
        # its tender kept the payment's id) is a manager's; asking again would flag it again.
        # A flag about someone else's session does not stop the sale's own from settling.
        .where(Sale.status == SaleStatus.AWAITING_PAYMENT,
               Sale.payment_method != PaymentMethod.TERMINAL,  # reconcile_terminal's
               or_(Sale.flag.is_(None), Payment.payment_intent_id.is_(None)), *where)
        .order_by(Sale.id)).all()
    db.session.rollback()  # no transaction stays open while the gateway is asked
    return [(r[0], r[1], r[2]) for r in rows]
