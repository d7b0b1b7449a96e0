"""Refunding lines of a paid sale.

Amounts come from `pricing.refund_amounts` (cumulative pro rata, so refunding every unit
in any number of steps gives back exactly what was charged, tax included).

Rules a clinic can live with:
- A retail or bundle line: `restock=True` puts the units back into the lots they left
  from (a `refund` ledger movement, latest-expiring lot first); `restock=False` writes
  them off as damaged: they left the shelf when they were sold, so no movement is needed
  and on hand stays as it is.
- A package line is refunded in whole package units: refunding q units needs q of the
  line's purchases with none of their sessions used (a started series is not refunded
  here; 422 `sessions_already_used`). Their sessions are marked refunded, so they can no
  longer be redeemed, and the net given back is exactly their value_cents, so they leave
  the clinic's liability to the cent (all of a line's purchases add up to its net).
- Cash: one transaction, succeeded at once. Card: transaction 1 records a `pending`
  refund and reserves the quantities (so two refunds cannot both take the same units);
  after the commit the gateway refunds (idempotency key `refund-<id>`); transaction 2
  marks it succeeded, numbers it and moves the stock, or on a gateway failure marks it
  failed and gives the quantities back (503 `payment_gateway_unavailable`).
- A started series is refunded by sessions instead: `sessions` ends that many unused
  sessions at their share of what was paid (pos/services/series_refunds.py).
- A manager may give back less than the amounts above (`amount_cents`): the lines share
  it in proportion; a package line still ends its sessions' full value in the liability
  (`released_cents`), the rest being the clinic's.
- To account credit (`to_credit`): the sale's client's credit rises by the amount; no
  money moves (no gateway, no drawer), so it completes at once.
- A sale of several tenders (split) or of an external card machine: the refund is shared
  out over the tenders (pos/services/refund_tenders.py): the card's share through the
  gateway as above, the external card's recorded (the desk refunds it on its machine), the
  cash share out of the drawer last, once the card's share is back.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pos.domain import pricing
from pos.domain.credit import ClientRequired
from pos.domain.errors import NotFound, ValidationFailed
from pos.domain.money import allocate, format_cents
from pos.domain.statuses import (
    PaymentMethod,
    RefundStatus,
    SaleStatus,
)
from pos.models import (
    Lot,
    PackagePurchase,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    StockMovement,
)
from pos.models.sales import GIFT_CARD_CATEGORY
from pos.payments.gateway import GatewayError
from pos.services import audit, clock, credit, gift_cards, ledger
from pos.services.receipts import next_receipt_number
from pos.services.refund_tenders import (
    GATEWAY_METHODS,
    SINGLE_TENDER_METHODS,
    give_back,
    tender_parts,
)
from pos.services.sales import PaymentGatewayUnavailable, SaleNotVoidable
from pos.services.series_refunds import SessionsAlreadyUsed, give_sessions_back, refund_sessions
from pos.services.transaction import write_transaction

log = logging.getLogger("pos.refunds")


__all__ = ["SessionsAlreadyUsed", "refund_sale", "void_paid_sale"]


def _priced(line: SaleLine) -> pricing.PricedLine:
    return pricing.PricedLine(
        key=str(line.id), quantity=line.quantity, unit_price_cents=line.unit_price_cents,
        subtotal_cents=line.subtotal_cents, discount_cents=line.discount_cents,
        tax_cents=line.tax_cents, total_cents=line.total_cents)


def refund_sale(sale_id: int, lines: Sequence[tuple[int, int]], *, restock: bool, reason: str,
                user_id: int | None, sessions: Sequence[tuple[int, int]] = (),
                amount_cents: int | None = None, to_credit: bool = False) -> Refund:
    """Refund `lines` [(sale line id, quantity)] and `sessions` [(package line id,
    sessions)] of a paid sale, `amount_cents` at most (a manager's lower amount), to the
    client's account credit when `to_credit`; returns the Refund."""
    if not lines and not sessions:
        raise ValidationFailed("Choose at least one line to refund.",
                               {"fields": {"lines": "must not be empty"}})
    if not reason.strip():
        raise ValidationFailed("A refund needs a reason.", {"fields": {"reason": "is required"}})

    def chosen(session: Session, sale: Sale) -> dict[int, int]:
        by_id = {line.id for line in sale.lines}
        wanted: dict[int, int] = {}
        for line_id, quantity in lines:
            if line_id not in by_id:
                raise ValidationFailed(f"Line {line_id} is not a line of sale {sale_id}.",
                                       {"fields": {"lines": f"unknown line {line_id}"}})
            wanted[line_id] = wanted.get(line_id, 0) + quantity
        return wanted

    def chosen_sessions(sale: Sale) -> dict[int, int]:
        packages = {line.id for line in sale.lines if line.package_id is not None}
        wanted: dict[int, int] = {}
        for line_id, count in sessions:
            if line_id not in packages:
                raise ValidationFailed(
                    f"Line {line_id} is not a package line of sale {sale_id}: only a "
                    "package's sessions are refunded by the session.",
                    {"fields": {"lines": f"line {line_id} has no sessions"}})
            wanted[line_id] = wanted.get(line_id, 0) + count
        return wanted

    refund = _refund(sale_id, chosen, restock=restock, reason=reason, user_id=user_id,
                     voids_sale=False, sessions=chosen_sessions, amount_cents=amount_cents,
                     to_credit=to_credit)
    assert refund is not None
    return refund


def void_paid_sale(sale_id: int, *, reason: str, user_id: int | None) -> Refund | None:
    """Reverse a sale paid today, as if it had not happened: everything not yet refunded
    is refunded (the card through the gateway, cash out of the drawer), its units go back
    on the shelf, its unused packages end, and the sale becomes `void`, which the report
    counts neither as a sale nor as refunds (its earlier refunds included). A package with
    a session already performed cannot be voided (422 `sessions_already_used`: void the
    treatment first). Returns the refund, or None when everything was already refunded."""

    def everything_left(session: Session, sale: Sale) -> dict[int, int]:
        if sale.paid_at is None or clock.clinic_date(sale.paid_at) != clock.today():
            raise SaleNotVoidable(
                f"Sale {sale_id} was paid on {_paid_on(sale)}: only a sale paid today can be "
                "voided. Refund it instead.", {"sale_id": sale_id, "status": sale.status})
        # A card refund still at the gateway holds its units: voiding now would end the
        # sale before that money is back.
        if session.scalar(select(func.count(Refund.id)).where(
                Refund.sale_id == sale.id, Refund.status == RefundStatus.PENDING)):
            raise SaleNotVoidable(
                f"A refund of sale {sale_id} is still being made; void it once it is done.",
                {"sale_id": sale_id, "status": sale.status})
        return {line.id: line.quantity - line.refunded_quantity for line in sale.lines
                if line.quantity > line.refunded_quantity}

    return _refund(sale_id, everything_left, restock=True,
                   reason=reason.strip() or "Voided the same day", user_id=user_id,
                   voids_sale=True)


def _paid_on(sale: Sale) -> str:
    return clock.clinic_date(sale.paid_at).isoformat() if sale.paid_at else "no day"


def _refund(sale_id: int, choose: Callable[[Session, Sale], dict[int, int]], *, restock: bool,
            reason: str, user_id: int | None, voids_sale: bool,
            sessions: Callable[[Sale], dict[int, int]] | None = None,
            amount_cents: int | None = None, to_credit: bool = False) -> Refund | None:
    """The refund of what `choose(sale)` names {line id: quantity}, under the sale's lock.

    Cash, or nothing to give back: one transaction. Card: a pending refund first, the
    gateway after the commit, then the refund completes (see the module's docstring)."""
    with write_transaction() as session:
        sale = session.scalar(select(Sale).where(Sale.id == sale_id).with_for_update()
                              .execution_options(populate_existing=True))
        if sale is None:
            raise NotFound(f"There is no sale {sale_id}.", {"sale_id": sale_id})
        if sale.status != SaleStatus.PAID:
            error = SaleNotVoidable if voids_sale else pricing.RefundExceedsSale
            raise error(
                f"Sale {sale_id} is {sale.status.replace('_', ' ')}: only a paid sale can be "
                f"{'voided' if voids_sale else 'refunded'}.",
                {"sale_id": sale_id, "status": sale.status})
        wanted = choose(session, sale)
        sessions_wanted = sessions(sale) if sessions is not None else {}
        if to_credit and sale.client_id is None:
            raise ClientRequired(
                f"Sale {sale_id} has no client: only a client's sale can be refunded to "
                "account credit.", {"sale_id": sale_id})
        if voids_sale and not wanted:  # all refunded already: nothing moves but the status
            _end_voided_sale(session, sale, user_id)
            return None
        refund = Refund(sale_id=sale.id, location_id=sale.location_id, amount_cents=0,
                        tax_cents=0, reason=reason.strip()[:500], method=sale.payment_method,
                        status=RefundStatus.PENDING, created_by_id=user_id,
                        voids_sale=voids_sale, to_credit=to_credit)
        session.add(refund)
        by_id = {line.id: line for line in sale.lines}
        for line_id, quantity in wanted.items():
            line = by_id[line_id]
            amounts = pricing.refund_amounts(_priced(line), line.refunded_quantity, quantity)
            net_cents = amounts.net_cents
            if line.package_id is not None:
                # Exactly the value of the purchases it ends, so the package liability
                # falls by what is given back (the pro rata could differ by a cent).
                net_cents = _refund_sessions(session, line, quantity)
            elif line.category == GIFT_CARD_CATEGORY:  # only what is left on the card
                net_cents = gift_cards.refund_unspent(session, line.id, sale_id=sale.id,
                                                      user_id=user_id)
            line.refunded_quantity += quantity
            refund.lines.append(RefundLine(
                sale_line_id=line.id, quantity=quantity, net_cents=net_cents,
                tax_cents=amounts.tax_cents,
                restock=restock and line.item_id is not None))
            refund.amount_cents += net_cents + amounts.tax_cents
            refund.tax_cents += amounts.tax_cents
        for line_id, count in sessions_wanted.items():
            for refund_line in refund_sessions(session, by_id[line_id], count):
                refund.lines.append(refund_line)
                refund.amount_cents += refund_line.net_cents
        if amount_cents is not None:
            _lower_to(refund, amount_cents,
                      {line.id for line in sale.lines if line.package_id is not None})
        session.flush()
        audit.record(session, user_id, "refund.create", "refund", refund.id, sale_id=sale.id,
                     amount_cents=refund.amount_cents, method=refund.method, restock=restock,
                     voids_sale=voids_sale, to_credit=to_credit,
                     lines=[[line_id, q] for line_id, q in wanted.items()],
                     sessions=[[line_id, n] for line_id, n in sessions_wanted.items()])
        if to_credit:
            # No money leaves: the client's credit rises, after the sale's lock.
            if refund.amount_cents > 0:
                assert sale.client_id is not None
                credit.issue_credit(session, sale.client_id, refund.amount_cents,
                                    reason=f"Refund of sale {sale.id}", refund_id=refund.id,
                                    user_id=user_id)
            _complete(session, refund, user_id, gateway_refund_id=None)
            return refund
        # A sale of several tenders (or of an external card machine): to each its share;
        # each gateway share goes back through the PaymentIntent of the tender it comes
        # from (a split may have a card tender and a reader tender).
        gift_parts: list[tuple[int, int]] = []
        if sale.payment_method in SINGLE_TENDER_METHODS:
            shares = {sale.payment_method: refund.amount_cents}
            gateway_parts = [(sale.payment_intent_id, refund.amount_cents)] \
                if sale.payment_method in GATEWAY_METHODS else []
        else:
            parts = tender_parts(session, sale, refund)
            shares = {}
            for tender, cents in parts:
                shares[tender.method] = shares.get(tender.method, 0) + cents
            gateway_parts = [(tender.payment_intent_id, cents) for tender, cents in parts
                             if tender.method in GATEWAY_METHODS]
            gift_parts = [(tender.id, cents) for tender, cents in parts
                          if tender.method == PaymentMethod.GIFT_CARD]
        cash_cents = shares.get(PaymentMethod.CASH, 0)
        credit_cents = shares.get(PaymentMethod.ACCOUNT_CREDIT, 0)
        if refund.amount_cents == 0 or not gateway_parts:
            give_back(session, sale, refund, cash_cents, credit_cents, user_id, gift_parts)
            _complete(session, refund, user_id, gateway_refund_id=None)
            return refund
        refund_id, gateway_name = refund.id, sale.gateway

    # Committed: the refund is recorded as pending before any money moves.
    from pos.payments.factory import gateway_named

    gateway_refund_ids: list[str] = []
    try:
        for index, (intent, amount) in enumerate(gateway_parts):
            if not intent:
                raise GatewayError("This card sale has no payment reference to refund.")
            key = f"refund-{refund_id}" if index == 0 else f"refund-{refund_id}-{index}"
            gateway_refund_ids.append(gateway_named(gateway_name).refund(intent, amount, key))
    except GatewayError as error:
        log.warning("refund %s failed at the gateway (%s of %s parts sent): %s", refund_id,
                    len(gateway_refund_ids), len(gateway_parts), error)
        _fail(refund_id, user_id)
        raise PaymentGatewayUnavailable(
            "The card refund could not be made because the payment service did not accept "
            f"it; nothing was refunded. Try again in a moment. ({error.message})",
            {"refund_id": refund_id}) from None
    gateway_refund_id = gateway_refund_ids[0]
    with write_transaction() as session:
        pending = session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update()
                                 .execution_options(populate_existing=True))
        assert pending is not None
        if pending.status == RefundStatus.PENDING:
            # A split sale's cash (and credit) share goes back once the card's share is.
            give_back(session, pending.sale, pending, cash_cents, credit_cents, user_id,
                      gift_parts)
            _complete(session, pending, user_id, gateway_refund_id=gateway_refund_id)
        return pending


def _lower_to(refund: Refund, amount_cents: int, package_lines: set[int]) -> None:
    """A manager gives back `amount_cents`, no more than the lines add up to: the lines
    share it in proportion to what each gives back, each keeping its tax's proportion;
    a package line's sessions still leave the liability at their full value."""
    if amount_cents > refund.amount_cents:
        raise pricing.RefundExceedsSale(
            f"{format_cents(amount_cents)} is more than these lines give back, "
            f"{format_cents(refund.amount_cents)}: a refund may be lowered, not raised.",
            {"amount_cents": amount_cents, "max_cents": refund.amount_cents})
    if amount_cents == refund.amount_cents:
        return
    lines = list(refund.lines)
    shares = allocate(amount_cents, [line.net_cents + line.tax_cents for line in lines])
    for line, share in zip(lines, shares, strict=True):
        whole = line.net_cents + line.tax_cents
        if line.sale_line_id in package_lines:
            line.released_cents = line.net_cents
        line.tax_cents = line.tax_cents * share // whole if whole else 0
        line.net_cents = share - line.tax_cents
    refund.amount_cents = amount_cents
    refund.tax_cents = sum(line.tax_cents for line in lines)


def _refund_sessions(session: Session, line: SaleLine, quantity: int) -> int:
    """End `quantity` untouched purchases of the line; their value, which is refunded."""
    purchases = list(session.scalars(
        select(PackagePurchase).where(PackagePurchase.sale_line_id == line.id)
        .order_by(PackagePurchase.id.desc()).with_for_update()
        .execution_options(populate_existing=True)))
    untouched = [p for p in purchases if p.sessions_used == 0 and p.sessions_refunded == 0]
    if len(untouched) < quantity:
        used = sum(p.sessions_used for p in purchases)
        left = sum(p.sessions_left for p in purchases)
        raise SessionsAlreadyUsed(
            f"Only {len(untouched)} of the {line.quantity} × {line.name} bought here have no "
            f"session used; {used} session(s) were already performed. Refund its "
            f"{left} unused session(s) by the session instead.",
            {"line_id": line.id, "requested": quantity, "refundable": len(untouched),
             "sessions_used": used, "sessions_left": left})
    for purchase in untouched[:quantity]:
        purchase.sessions_refunded = purchase.sessions_total - purchase.sessions_used
    return sum(purchase.value_cents for purchase in untouched[:quantity])


def _complete(session: Session, refund: Refund, user_id: int | None, *,
              gateway_refund_id: str | None) -> None:
    """The refund succeeded: its receipt number, and the units put back on the shelf."""
    sale = refund.sale
    for refund_line in refund.lines:
        if refund_line.restock:
            _restock(session, sale, refund, refund_line, user_id)
    refund.status = RefundStatus.SUCCEEDED
    refund.gateway_refund_id = gateway_refund_id
    refund.receipt_number = next_receipt_number(session, refund.location_id)
    session.flush()
    audit.record(session, user_id, "refund.succeeded", "refund", refund.id, sale_id=sale.id,
                 amount_cents=refund.amount_cents, receipt_number=refund.receipt_number)
    if refund.voids_sale:
        _end_voided_sale(session, sale, user_id)


def _end_voided_sale(session: Session, sale: Sale, user_id: int | None) -> None:
    """The money is back: the sale is void, out of the report with its refunds."""
    sale.status = SaleStatus.VOID
    sale.closed_at = clock.now()
    session.flush()
    audit.record(session, user_id, "sale.void", "sale", sale.id, total_cents=sale.total_cents,
                 paid=True)


def _restock(session: Session, sale: Sale, refund: Refund, refund_line: RefundLine,
             user_id: int | None) -> None:
    line = refund_line.sale_line
    assert line.item_id is not None
    stock = ledger.lock_items(session, [line.item_id], sale.location_id)[line.item_id]
    # What left each lot for this sale, less what earlier refunds already put back.
    refs = [f"sale:{sale.id}", *(f"refund:{r}" for r in session.scalars(
        select(Refund.id).where(Refund.sale_id == sale.id, Refund.id != refund.id)))]
    rows = session.execute(
        select(StockMovement.lot_id, func.sum(StockMovement.qty_delta))
        .where(StockMovement.item_id == line.item_id, StockMovement.reference.in_(refs),
               StockMovement.location_id == sale.location_id)
        .group_by(StockMovement.lot_id)).all()
    out_by_lot = {lot_id: -total for lot_id, total in rows if total < 0}
    lots = sorted((session.get_one(Lot, lot_id) for lot_id in out_by_lot),
                  key=lambda lot: (lot.expires_on is None, lot.expires_on), reverse=True)
    left = refund_line.quantity
    for lot in lots:
        if left == 0:
            break
        qty = min(left, out_by_lot[lot.id])
        ledger.post_movement(session, stock, lot, qty, "refund", reference=f"refund:{refund.id}",
                             user_id=user_id, note=f"sale {sale.id}")
        left -= qty
    if left:  # should not happen: the ledger says fewer left than were sold
        log.warning("refund %s: %s unit(s) of line %s had no lot to return to",
                    refund.id, left, line.id)


def _fail(refund_id: int, user_id: int | None) -> None:
    with write_transaction() as session:
        refund = session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update()
                                .execution_options(populate_existing=True))
        if refund is None or refund.status != RefundStatus.PENDING:
            return
        sale = session.scalar(select(Sale).where(Sale.id == refund.sale_id).with_for_update()
                              .execution_options(populate_existing=True))
        assert sale is not None
        for refund_line in refund.lines:
            line = refund_line.sale_line
            if refund_line.sessions is not None:
                give_sessions_back(session, refund_line)
                continue
            line.refunded_quantity -= refund_line.quantity
            if line.package_id is not None:
                refunded = list(session.scalars(
                    select(PackagePurchase).where(PackagePurchase.sale_line_id == line.id,
                                                  PackagePurchase.sessions_refunded > 0)
                    .order_by(PackagePurchase.id).with_for_update()))
                for purchase in refunded[:refund_line.quantity]:
                    purchase.sessions_refunded = 0
        refund.status = RefundStatus.FAILED
        audit.record(session, user_id, "refund.failed", "refund", refund.id, sale_id=sale.id,
                     amount_cents=refund.amount_cents)
