"""Selling at the front desk, and settling card payments.

Cash: `sell()` is one transaction: stock leaves at once, the sale is paid and numbered.

Card (the card flow never holds a database lock while talking to the gateway):
1. transaction 1 creates the sale `awaiting_payment` and HOLDS its retail stock;
2. the gateway's Checkout Session is created, outside any transaction, with an
   idempotency key derived from the sale (a retry never makes a second session);
3. transaction 2 stores the session's id, url and expiry on the sale.
The payment then lands through `fulfil_checkout()` (webhook, demo page, sweep or
reconciliation: all the same code), which is idempotent: each event id is processed once,
the sale row is locked, and a sale already paid is left alone, so events may come twice,
concurrently, late or out of order.

A discount code's use is counted when the sale is created (so a limited code cannot be
oversold by unpaid card sales) and given back when a card sale expires, fails or is voided.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Literal

from flask import current_app, has_request_context, request
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain import pricing
from pos.domain.errors import NotFound, PosError, UnknownItem, ValidationFailed
from pos.domain.money import allocate, format_cents
from pos.extensions import db
from pos.models import (
    Client,
    DiscountCode,
    Item,
    ItemStock,
    OutboxMessage,
    Package,
    PackagePurchase,
    ProcessedEvent,
    Refund,
    Sale,
    SaleLine,
)
from pos.payments.gateway import (
    EVENT_ASYNC_PAYMENT_FAILED,
    EVENT_ASYNC_PAYMENT_SUCCEEDED,
    EVENT_CHECKOUT_COMPLETED,
    EVENT_CHECKOUT_EXPIRED,
    CheckoutLine,
    CheckoutRequest,
    CheckoutSession,
    GatewayError,
    PaymentEvent,
    PaymentGateway,
)
from pos.services import audit, clock, ledger
from pos.services.cash_day import ensure_day_open
from pos.services.receipts import next_receipt_number
from pos.services.transaction import write_transaction

log = logging.getLogger("pos.sales")

PaymentMethod = Literal["card", "cash"]
PAYMENT_METHODS: tuple[str, ...] = ("card", "cash")
# A session past its expiry whose `expired` event never came is swept after this grace.
SWEEP_GRACE = timedelta(minutes=5)
MAX_LINES = 100


# -- errors ------------------------------------------------------------------------------

class UnknownClient(PosError):
    code = "unknown_client"
    status = 422


class ClientRequired(PosError):
    """A package is sold to someone: its sessions belong to a client."""

    code = "client_required"
    status = 422


class CashTenderedTooLow(PosError):
    code = "cash_tendered_too_low"
    status = 422


class PaymentGatewayUnavailable(PosError):
    code = "payment_gateway_unavailable"
    status = 503


class SaleNotVoidable(PosError):
    code = "sale_not_voidable"
    status = 409


# -- the cart ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CartLine:
    sku: str | None
    package_code: str | None
    quantity: int


@dataclass(frozen=True, kw_only=True)
class CartProduct:
    """A cart line looked up in the catalog; `sku` or `package_code` is set, never both."""

    sku: str | None
    package_code: str | None
    name: str
    category: str  # retail | bundle | package
    item_id: int | None
    package_id: int | None
    sessions: int | None  # per package unit
    taxable: bool
    unit_price_cents: int
    quantity: int
    # The catalog rows themselves, so the sale's lines point at them with no second load.
    item: Item | None = field(default=None, compare=False, repr=False)
    package: Package | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class QuoteLine(CartProduct):
    """A cart product with its share of the sale's amounts (pos.domain.pricing)."""

    subtotal_cents: int
    discount_cents: int
    tax_cents: int
    total_cents: int

    @property
    def net_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    subtotal_cents: int
    discount_cents: int
    tax_cents: int
    total_cents: int
    discount_code: str | None
    discount_code_id: int | None
    tax_rate_bp: int


def _resolve_lines(session: Session, lines: Sequence[CartLine]) -> list[CartProduct]:
    """Look every line up in the catalog; the same sku or package twice is one line."""
    if not lines:
        raise ValidationFailed("A sale needs at least one line.",
                               {"fields": {"lines": "must not be empty"}})
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"A sale has at most {MAX_LINES} lines.",
                               {"fields": {"lines": f"at most {MAX_LINES}"}})
    merged: dict[tuple[str, str], int] = {}
    for i, line in enumerate(lines):
        if (line.sku is None) == (line.package_code is None):
            raise ValidationFailed("Each line has a sku or a package_code (one of them).",
                                   {"fields": {f"lines[{i}]": "needs sku or package_code"}})
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) \
                or line.quantity < 1:
            raise ValidationFailed("Quantities must be whole numbers of at least 1.",
                                   {"fields": {f"lines[{i}].quantity": "must be at least 1"}})
        key = ("sku", line.sku.strip()) if line.sku is not None else \
            ("package", (line.package_code or "").strip())
        merged[key] = merged.get(key, 0) + line.quantity

    # The whole cart in one query per table; a sku is matched before a barcode.
    codes = [code for kind, code in merged if kind == "sku"]
    by_sku: dict[str, Item] = {}
    by_barcode: dict[str, Item] = {}
    if codes:
        for found in session.scalars(select(Item).where(
                or_(Item.sku.in_(codes), Item.barcode.in_(codes))).order_by(Item.id)):
            by_sku.setdefault(found.sku, found)
            if found.barcode is not None:
                by_barcode.setdefault(found.barcode, found)
    package_codes = [code for kind, code in merged if kind == "package"]
    packages = {p.code: p for p in session.scalars(
        select(Package).where(Package.code.in_(package_codes)))} if package_codes else {}
    resolved = []
    for (kind, code), quantity in merged.items():
        if kind == "sku":
            item = by_sku.get(code) or by_barcode.get(code)
            if item is None or not item.active:
                raise UnknownItem(f"No item with sku {code!r} is for sale.", {"sku": code})
            if item.kind == "supply":
                raise UnknownItem(f"{item.sku} is a clinical supply; it is not sold at the desk.",
                                  {"sku": item.sku})
            resolved.append(CartProduct(
                sku=item.sku, package_code=None, name=item.name, category=item.kind,
                item_id=item.id, package_id=None, sessions=None, taxable=item.taxable,
                unit_price_cents=item.price_cents, quantity=quantity, item=item))
        else:
            package = packages.get(code)
            if package is None or not package.active:
                raise UnknownItem(f"No package {code!r} is for sale.", {"package_code": code})
            # Treatments are services: not taxed.
            resolved.append(CartProduct(
                sku=None, package_code=package.code, name=package.name, category="package",
                item_id=None, package_id=package.id, sessions=package.sessions, taxable=False,
                unit_price_cents=package.price_cents, quantity=quantity, package=package))
    return resolved


def _find_discount(session: Session, code: str, *, lock: bool = False) -> DiscountCode:
    query = select(DiscountCode).where(func.upper(DiscountCode.code) == code.strip().upper())
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    discount = session.scalar(query)
    if discount is None:
        raise pricing.DiscountNotApplicable(f"There is no discount code {code.strip()!r}.",
                                            {"reason": "unknown", "code": code.strip()})
    pricing.check_discount(active=discount.active, starts_on=discount.starts_on,
                           ends_on=discount.ends_on, max_uses=discount.max_uses,
                           times_used=discount.times_used, today=clock.today())
    return discount


def _price(resolved: list[CartProduct], discount: DiscountCode | None) -> Quote:
    rate = int(current_app.config["TAX_RATE_BP"])
    priced = pricing.price_sale(
        [pricing.LineInput(key=r.sku or r.package_code or "", unit_price_cents=r.unit_price_cents,
                           quantity=r.quantity, taxable=r.taxable) for r in resolved],
        pricing.Discount(kind=discount.kind, value=discount.value)  # type: ignore[arg-type]
        if discount is not None else None,
        rate,
    )
    lines = tuple(
        QuoteLine(**{f.name: getattr(r, f.name) for f in fields(r)},
                  subtotal_cents=p.subtotal_cents, discount_cents=p.discount_cents,
                  tax_cents=p.tax_cents, total_cents=p.total_cents)
        for r, p in zip(resolved, priced.lines, strict=True)
    )
    return Quote(lines=lines, subtotal_cents=priced.subtotal_cents,
                 discount_cents=priced.discount_cents, tax_cents=priced.tax_cents,
                 total_cents=priced.total_cents,
                 discount_code=discount.code if discount is not None else None,
                 discount_code_id=discount.id if discount is not None else None,
                 tax_rate_bp=rate)


def quote_cart(session: Session, lines: Sequence[CartLine], discount_code: str | None) -> Quote:
    """Price a cart without writing anything (the desk's live totals).

    UnknownItem (422 `unknown_item`) names the sku or package; a discount that cannot be
    used raises DiscountNotApplicable (422 `discount_invalid`, `details.reason`).
    """
    resolved = _resolve_lines(session, lines)
    discount = _find_discount(session, discount_code) if discount_code and \
        discount_code.strip() else None
    return _price(resolved, discount)


# -- selling -----------------------------------------------------------------------------

def _held_quantities(sale: Sale) -> dict[int, int]:
    held: dict[int, int] = {}
    for line in sale.lines:
        if line.item_id is not None:
            held[line.item_id] = held.get(line.item_id, 0) + line.quantity
    return held


def _create_sale(session: Session, *, client_id: int | None, lines: Sequence[CartLine],
                 discount_code: str | None, payment: str, user_id: int | None,
                 location_id: int) -> tuple[Sale, dict[int, ItemStock], Quote]:
    if payment not in PAYMENT_METHODS:
        raise ValidationFailed("Payment must be card or cash.",
                               {"fields": {"payment": "must be card or cash"}})
    client = None
    if client_id is not None:
        client = session.get(Client, client_id)
        if client is None:
            raise UnknownClient(f"There is no client {client_id}.", {"client_id": client_id})
    resolved = _resolve_lines(session, lines)
    if client is None and any(r.package_id is not None for r in resolved):
        raise ClientRequired("A treatment package is sold to a client: choose the client first.",
                             {"fields": {"client_id": "required for a package"}})
    # Lock order everywhere: sale row, item stock rows (by item id), discount, receipt counter.
    stocks = ledger.lock_items(session, [r.item_id for r in resolved if r.item_id], location_id)
    discount = _find_discount(session, discount_code, lock=True) if discount_code and \
        discount_code.strip() else None
    quote = _price(resolved, discount)
    if discount is not None:
        discount.times_used += 1
    sale = Sale(client_id=client_id, location_id=location_id, sold_by_id=user_id,
                status="awaiting_payment", payment_method=payment,
                subtotal_cents=quote.subtotal_cents, discount_cents=quote.discount_cents,
                tax_cents=quote.tax_cents, total_cents=quote.total_cents,
                discount_code_id=discount.id if discount is not None else None)
    # The loaded rows ride along on the sale (no lazy load later, e.g. for the receipt).
    sale.client = client
    sale.discount_code = discount
    sale.lines = [
        SaleLine(item_id=q.item_id, package_id=q.package_id, name=q.name, category=q.category,
                 quantity=q.quantity, unit_price_cents=q.unit_price_cents,
                 subtotal_cents=q.subtotal_cents, discount_cents=q.discount_cents,
                 tax_cents=q.tax_cents, total_cents=q.total_cents, taxable=q.taxable,
                 item=q.item, package=q.package)
        for q in quote.lines
    ]
    session.add(sale)
    session.flush()
    return sale, stocks, quote


def sell(*, client_id: int | None, lines: Sequence[CartLine], discount_code: str | None,
         payment: PaymentMethod | str, user_id: int | None,
         cash_tendered_cents: int | None = None) -> Sale:
    """Sell a cart. Cash: paid at once. Card: `awaiting_payment` with a checkout url."""
    if payment == "cash":
        return _sell_cash(client_id=client_id, lines=lines, discount_code=discount_code,
                          user_id=user_id, cash_tendered_cents=cash_tendered_cents)
    return _sell_card(client_id=client_id, lines=lines, discount_code=discount_code,
                      payment=str(payment), user_id=user_id)


def _sell_cash(*, client_id: int | None, lines: Sequence[CartLine], discount_code: str | None,
               user_id: int | None, cash_tendered_cents: int | None) -> Sale:
    with _keeping_sale_loaded() as kept, write_transaction() as session:
        location = ledger.default_location(session)
        today = clock.today()
        ensure_day_open(session, location.id, today)
        sale, stocks, _quote = _create_sale(
            session, client_id=client_id, lines=lines, discount_code=discount_code,
            payment="cash", user_id=user_id, location_id=location.id)
        if cash_tendered_cents is not None:
            if cash_tendered_cents < sale.total_cents:
                raise CashTenderedTooLow(
                    f"{format_cents(cash_tendered_cents)} tendered is less than the total, "
                    f"{format_cents(sale.total_cents)}.",
                    {"cash_tendered_cents": cash_tendered_cents,
                     "total_cents": sale.total_cents})
            sale.cash_tendered_cents = cash_tendered_cents
        item_lines = [line for line in sale.lines if line.item_id is not None]
        lots = ledger.usable_lot_stock(session, [line.item_id for line in item_lines],
                                       location.id)  # type: ignore[misc]
        for line in item_lines:
            assert line.item_id is not None
            ledger.consume_fefo(session, stocks[line.item_id], line.quantity, today, "sale",
                                sku=stocks[line.item_id].item.sku,
                                reference=f"sale:{sale.id}", user_id=user_id,
                                lots=lots[line.item_id])
        audit.record(session, user_id, "sale.paid", "sale", sale.id, method="cash",
                     total_cents=sale.total_cents)
        _mark_paid(session, sale)  # the receipt number: the transaction's last write
        kept.append(sale)
        return sale


@contextmanager
def _keeping_sale_loaded() -> Iterator[list[Sale]]:
    """Commit without expiring the sale the transaction wrote (nor its lines, their items
    and packages, its discount code): what it holds is exactly what was committed, so the
    response is built without reading it all again. Everything else is expired as usual."""
    session = db.session()
    kept: list[Sale] = []
    previous = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield kept
    finally:
        session.expire_on_commit = previous
        keep: set[int] = set()
        for sale in kept:
            keep.add(id(sale))
            if sale.discount_code is not None:
                keep.add(id(sale.discount_code))
            for line in sale.lines:
                keep.update(id(obj) for obj in (line, line.item, line.package)
                            if obj is not None)
        for obj in list(session.identity_map.values()):
            if id(obj) not in keep:
                session.expire(obj)


def _sell_card(*, client_id: int | None, lines: Sequence[CartLine], discount_code: str | None,
               payment: str, user_id: int | None) -> Sale:
    gateway = _gateway()
    minutes = int(current_app.config.get("CHECKOUT_EXPIRES_MINUTES", 30))
    with write_transaction() as session:
        location = ledger.default_location(session)
        ensure_day_open(session, location.id, clock.today())
        sale, stocks, _quote = _create_sale(
            session, client_id=client_id, lines=lines, discount_code=discount_code,
            payment=payment, user_id=user_id, location_id=location.id)
        for item_id, quantity in _held_quantities(sale).items():
            ledger.place_hold(session, stocks[item_id], quantity, sku=stocks[item_id].item.sku)
        sale.gateway = gateway.name
        sale.expires_at = clock.now() + timedelta(minutes=minutes)
        audit.record(session, user_id, "sale.create", "sale", sale.id, method="card",
                     total_cents=sale.total_cents)
        sale_id, total, expires_at = sale.id, sale.total_cents, sale.expires_at
        checkout_lines = _checkout_lines(sale)

    # No transaction is open here: the gateway may take seconds.
    request_ = CheckoutRequest(
        sale_id=sale_id, currency=current_app.config["CURRENCY"], lines=checkout_lines,
        amount_total_cents=total, expires_at=expires_at,
        success_url=_app_url("/payments/done"), cancel_url=_app_url("/payments/cancelled"),
        idempotency_key=f"sale-{sale_id}-checkout")
    try:
        checkout = gateway.create_checkout(request_)
    except GatewayError as error:
        log.warning("checkout for sale %s failed: %s", sale_id, error)
        _close_unpaid(sale_id, "failed", user_id, action="sale.checkout_failed")
        raise PaymentGatewayUnavailable(
            "The card payment service could not be reached, so the sale was cancelled and "
            "its stock released. Try again in a moment, or take cash. "
            f"({error.message})", {"sale_id": sale_id}) from None

    with write_transaction() as session:
        stored = _lock_sale(session, sale_id)
        assert stored is not None
        sale = stored
        # The payment may already have landed (a fast webhook): only fill in what is missing.
        if sale.checkout_session_id is None:
            sale.checkout_session_id = checkout.id
        if sale.checkout_url is None and sale.status == "awaiting_payment":
            sale.checkout_url = checkout.url
        if checkout.expires_at is not None and sale.status == "awaiting_payment":
            sale.expires_at = checkout.expires_at
        return sale


def _checkout_lines(sale: Sale) -> tuple[CheckoutLine, ...]:
    """Lines whose amounts add up to the total (discount and tax folded in).

    A line's total divides evenly by its quantity: sent as quantity x unit; otherwise as
    one line "N x name" for its total, so Stripe's sum is the sale's total to the cent.
    """
    out = []
    for line in sale.lines:
        if line.total_cents % line.quantity == 0:
            out.append(CheckoutLine(line.name[:120], line.total_cents // line.quantity,
                                    line.quantity))
        else:
            out.append(CheckoutLine(f"{line.quantity} x {line.name}"[:120], line.total_cents, 1))
    return tuple(out)


def _app_url(path: str) -> str:
    if has_request_context():
        return request.url_root.rstrip("/") + path
    base = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost:5000"
    return str(base).rstrip("/") + path


def _gateway() -> PaymentGateway:
    from pos.payments.factory import current_gateway

    return current_gateway()


def _lock_sale(session: Session, sale_id: int) -> Sale | None:
    return session.scalar(select(Sale).where(Sale.id == sale_id).with_for_update()
                          .execution_options(populate_existing=True))


def _mark_paid(session: Session, sale: Sale) -> None:
    """Packages become the client's sessions, the sale gets its number, the receipt is queued.

    Call it last in the paying transaction: the number locks the location's receipt
    counter until the commit, so every other write is flushed before it is taken.
    """
    for line in sale.lines:
        if line.package_id is not None:
            package = line.package or session.get(Package, line.package_id)
            assert package is not None and sale.client_id is not None
            # One purchase per package unit: each series is redeemed and spaced on its own.
            for value in allocate(line.net_cents, [1] * line.quantity):
                session.add(PackagePurchase(
                    client_id=sale.client_id, sale_line_id=line.id, package_id=package.id,
                    sessions_total=package.sessions, value_cents=value))
    paid_at = clock.now()
    number = next_receipt_number(session, sale.location_id)
    # status, paid_at and the number reach the row in one UPDATE
    sale.status = "paid"
    sale.paid_at = paid_at
    sale.receipt_number = number
    _queue_receipt_email(session, sale)
    session.flush()


def receipt_text(sale: Sale) -> str:
    """The plain-text receipt: clinic, number, lines, tax, total, payment method. Nothing else."""
    currency = current_app.config["CURRENCY"]
    money = lambda cents: format_cents(cents, currency)  # noqa: E731
    rows = [current_app.config["CLINIC_NAME"], f"Receipt #{sale.receipt_number}",
            f"Date: {clock.clinic_date(sale.paid_at or clock.now()).isoformat()}", ""]
    for line in sale.lines:
        rows.append(f"{line.quantity} x {line.name}  {money(line.subtotal_cents)}")
    rows.append("")
    rows.append(f"Subtotal: {money(sale.subtotal_cents)}")
    if sale.discount_cents:
        rows.append(f"Discount: -{money(sale.discount_cents)}")
    rows.append(f"Tax: {money(sale.tax_cents)}")
    rows.append(f"Total: {money(sale.total_cents)}")
    method = "Cash" if sale.payment_method == "cash" else "Card"
    if sale.card_last4:
        method += f" ending {sale.card_last4}"
    rows.append(f"Paid by: {method}")
    if sale.payment_method == "cash" and sale.cash_tendered_cents is not None:
        rows.append(f"Tendered: {money(sale.cash_tendered_cents)}")
        rows.append(f"Change: {money(sale.cash_tendered_cents - sale.total_cents)}")
    rows += ["", "Thank you."]
    return "\n".join(rows) + "\n"


def _queue_receipt_email(session: Session, sale: Sale) -> None:
    client = session.get(Client, sale.client_id) if sale.client_id is not None else None
    if client is None or not client.email:
        return
    session.add(OutboxMessage(
        channel="email", topic="receipt", dedupe_key=f"receipt:sale:{sale.id}",
        recipients=client.email,
        subject=f"{current_app.config['CLINIC_NAME']} receipt #{sale.receipt_number}",
        body=receipt_text(sale), attachments=[]))


def get_sale(session: Session, sale_id: int) -> Sale:
    sale = session.get(Sale, sale_id)
    if sale is None:
        raise NotFound(f"There is no sale {sale_id}.", {"sale_id": sale_id})
    return sale


# -- closing unpaid card sales ------------------------------------------------------------

def _release_and_close(session: Session, sale: Sale, status: str) -> None:
    stocks = ledger.lock_items(session, _held_quantities(sale), sale.location_id)
    for item_id, quantity in _held_quantities(sale).items():
        ledger.release_hold(session, stocks[item_id], quantity)
    if sale.discount_code_id is not None:
        discount = session.scalar(select(DiscountCode).where(
            DiscountCode.id == sale.discount_code_id).with_for_update()
            .execution_options(populate_existing=True))
        if discount is not None and discount.times_used > 0:
            discount.times_used -= 1
    sale.status = status
    sale.closed_at = clock.now()
    sale.checkout_url = None
    session.flush()


def _close_unpaid(sale_id: int, status: str, user_id: int | None, *, action: str,
                  event_id: str | None = None, event_type: str = "") -> str:
    try:
        with write_transaction() as session:
            if event_id is not None and not _claim_event(session, event_id, event_type):
                return "duplicate"
            sale = _lock_sale(session, sale_id)
            if sale is None:
                return "unknown_sale"
            if sale.status != "awaiting_payment":
                return f"already_{sale.status}"
            _release_and_close(session, sale, status)
            audit.record(session, user_id, action, "sale", sale.id, status=status)
            return status
    except IntegrityError:
        return "duplicate"


def _claim_event(session: Session, event_id: str, event_type: str) -> bool:
    """Record the event; False when it was processed before. A concurrent twin waits on the
    primary key and then fails with IntegrityError, which callers treat as a duplicate."""
    if session.get(ProcessedEvent, event_id) is not None:
        return False
    session.add(ProcessedEvent(event_id=event_id, type=event_type[:80]))
    session.flush()
    return True


def _sale_id_for(checkout: CheckoutSession) -> int | None:
    if checkout.sale_id is not None:
        return checkout.sale_id
    return db.session.scalar(select(Sale.id).where(Sale.checkout_session_id == checkout.id))


def expire_checkout_sale(sale_id: int | None = None, *, session_id: str | None = None,
                         event_id: str | None = None, user_id: int | None = None) -> str:
    """The checkout expired: release the hold, status `expired` (only from awaiting_payment)."""
    sale_id = sale_id if sale_id is not None else _lookup_by_session(session_id)
    if sale_id is None:
        return "unknown_sale"
    return _close_unpaid(sale_id, "expired", user_id, action="sale.expired", event_id=event_id,
                         event_type=EVENT_CHECKOUT_EXPIRED)


def fail_checkout_sale(sale_id: int | None = None, *, session_id: str | None = None,
                       event_id: str | None = None, user_id: int | None = None) -> str:
    """The payment failed: release the hold, status `failed` (only from awaiting_payment)."""
    sale_id = sale_id if sale_id is not None else _lookup_by_session(session_id)
    if sale_id is None:
        return "unknown_sale"
    return _close_unpaid(sale_id, "failed", user_id, action="sale.payment_failed",
                         event_id=event_id, event_type=EVENT_ASYNC_PAYMENT_FAILED)


def _lookup_by_session(session_id: str | None) -> int | None:
    if not session_id:
        return None
    return db.session.scalar(select(Sale.id).where(Sale.checkout_session_id == session_id))


def void_sale(sale_id: int, user_id: int | None) -> Sale:
    """A manager cancels an unpaid sale: its hold is released, its checkout ended."""
    with write_transaction() as session:
        sale = _lock_sale(session, sale_id)
        if sale is None:
            raise NotFound(f"There is no sale {sale_id}.", {"sale_id": sale_id})
        if sale.status != "awaiting_payment":
            raise SaleNotVoidable(
                f"Sale {sale_id} is {sale.status.replace('_', ' ')}; only a sale awaiting "
                "payment can be voided (refund a paid sale instead).",
                {"sale_id": sale_id, "status": sale.status})
        _release_and_close(session, sale, "void")
        audit.record(session, user_id, "sale.void", "sale", sale.id,
                     total_cents=sale.total_cents)
        session_id = sale.checkout_session_id
        gateway_name = sale.gateway
    if session_id:
        # Best effort, after the commit: if the client paid a moment ago, the payment is
        # settled (and, the sale being void, refunded) by the same fulfilment code.
        try:
            from pos.payments.factory import gateway_named

            checkout = gateway_named(gateway_name).expire_checkout(session_id)
            if checkout.is_paid:
                fulfil_checkout(checkout, None)
        except GatewayError as error:
            log.warning("could not expire the checkout of void sale %s: %s", sale_id, error)
    db.session.expire_all()
    return get_sale(db.session(), sale_id)


# -- fulfilment --------------------------------------------------------------------------

@dataclass(frozen=True)
class _AutoRefund:
    refund_id: int
    payment_intent_id: str
    amount_cents: int
    gateway: str | None


def fulfil_checkout(checkout: CheckoutSession, event_id: str | None,
                    event_type: str = EVENT_CHECKOUT_COMPLETED) -> str:
    """Settle a paid Checkout Session; idempotent. Returns what happened: "paid",
    "duplicate", "already_paid", "not_paid", "flagged", "refunded", "unknown_sale"..."""
    try:
        outcome, auto_refund = _fulfil_transaction(checkout, event_id, event_type)
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
    if auto_refund is not None:  # committed: now, and only now, call the gateway
        _send_auto_refund(auto_refund)
    return outcome


def _fulfil_transaction(checkout: CheckoutSession, event_id: str | None,
                        event_type: str) -> tuple[str, _AutoRefund | None]:
    with write_transaction() as session:
        if event_id is not None and not _claim_event(session, event_id, event_type):
            return "duplicate", None
        sale_id = checkout.sale_id
        if sale_id is None:
            sale_id = session.scalar(select(Sale.id).where(
                Sale.checkout_session_id == checkout.id))
        sale = _lock_sale(session, sale_id) if sale_id is not None else None
        if sale is None:
            return "unknown_sale", None
        if not checkout.is_paid:
            return "not_paid", None  # e.g. completed with a delayed payment method
        if sale.status == "paid":
            return "already_paid", None
        if sale.payment_method != "card":
            return "ignored", None
        if sale.checkout_session_id is None:
            sale.checkout_session_id = checkout.id
        sale.payment_intent_id = checkout.payment_intent_id or sale.payment_intent_id
        sale.card_last4 = checkout.card_last4 or sale.card_last4
        if checkout.amount_total_cents != sale.total_cents:
            # Not accepted as payment: a manager looks at it (and refunds it if need be).
            sale.flag = (f"amount mismatch: paid {checkout.amount_total_cents} cents, "
                         f"total {sale.total_cents} cents")[:200]
            audit.record(session, None, "sale.flag", "sale", sale.id,
                         flag="amount_mismatch", paid_cents=checkout.amount_total_cents,
                         total_cents=sale.total_cents)
            return "flagged", None
        if sale.status == "awaiting_payment":
            _take_stock(session, sale, from_hold=True)
        else:
            # Paid after the hold was released (expired, failed or void).
            outcome, auto_refund = _settle_late_payment(session, sale, checkout)
            if outcome != "paid":
                return outcome, auto_refund
        audit.record(session, None, "sale.paid", "sale", sale.id, method="card",
                     total_cents=sale.total_cents)
        _mark_paid(session, sale)  # the receipt number: the transaction's last write
        return "paid", None


def _take_stock(session: Session, sale: Sale, *, from_hold: bool) -> None:
    stocks = ledger.lock_items(session, _held_quantities(sale), sale.location_id)
    today = clock.today()
    for item_id, quantity in _held_quantities(sale).items():
        ledger.consume_fefo(session, stocks[item_id], quantity, today, "sale",
                            sku=stocks[item_id].item.sku, reference=f"sale:{sale.id}",
                            user_id=sale.sold_by_id, from_held=quantity if from_hold else 0)


def _settle_late_payment(session: Session, sale: Sale,
                         checkout: CheckoutSession) -> tuple[str, _AutoRefund | None]:
    """A payment for a sale whose hold is gone: sell if the stock is still there (and the
    sale was not voided on purpose), else flag it and refund the client automatically."""
    if sale.status != "void":
        stocks = ledger.lock_items(session, _held_quantities(sale), sale.location_id)
        short = [item_id for item_id, qty in _held_quantities(sale).items()
                 if stocks[item_id].available < qty]
        if not short:
            if sale.discount_code_id is not None:
                discount = session.get(DiscountCode, sale.discount_code_id)
                if discount is not None:
                    discount.times_used += 1  # given back when it expired; used after all
            _take_stock(session, sale, from_hold=False)
            sale.closed_at = None
            audit.record(session, None, "sale.paid_late", "sale", sale.id,
                         previous_status=sale.status)
            return "paid", None
    reason = "paid after hold expired" if sale.status != "void" else "paid after sale was voided"
    if not checkout.payment_intent_id:
        sale.flag = f"{reason}; refund by hand (no payment reference)"[:200]
        audit.record(session, None, "sale.flag", "sale", sale.id, flag="paid_late_no_intent")
        return "flagged", None
    sale.flag = f"{reason}; refunded automatically"[:200]
    refund = Refund(sale_id=sale.id, location_id=sale.location_id,
                    amount_cents=checkout.amount_total_cents or sale.total_cents,
                    tax_cents=sale.tax_cents, reason=reason, method="card", status="pending")
    session.add(refund)
    session.flush()
    audit.record(session, None, "sale.flag", "sale", sale.id, flag="paid_after_hold_expired",
                 refund_id=refund.id, amount_cents=refund.amount_cents)
    return "refunded", _AutoRefund(refund.id, checkout.payment_intent_id, refund.amount_cents,
                                   sale.gateway)


def _send_auto_refund(todo: _AutoRefund) -> None:
    from pos.payments.factory import gateway_named

    try:
        refund_id = gateway_named(todo.gateway).refund(
            todo.payment_intent_id, todo.amount_cents, f"refund-{todo.refund_id}")
    except GatewayError as error:
        log.warning("automatic refund %s failed: %s", todo.refund_id, error)
        refund_id, status = None, "failed"
    else:
        status = "succeeded"
    with write_transaction() as session:
        refund = session.get(Refund, todo.refund_id)
        if refund is not None and refund.status == "pending":
            refund.status = status
            refund.gateway_refund_id = refund_id
            audit.record(session, None, f"refund.{status}", "refund", refund.id,
                         sale_id=refund.sale_id, amount_cents=refund.amount_cents,
                         automatic=True)


def retry_pending_auto_refunds() -> int:
    """Send again the automatic refunds whose gateway call failed or never happened."""
    rows = db.session.execute(
        select(Refund.id, Sale.payment_intent_id, Refund.amount_cents, Sale.gateway)
        .join(Sale, Sale.id == Refund.sale_id)
        .where(Refund.status.in_(("pending", "failed")), Sale.status != "paid",
               Sale.payment_intent_id.is_not(None))).all()
    db.session.rollback()
    for refund_id, intent, amount, gateway in rows:
        with write_transaction() as session:
            refund = session.get(Refund, refund_id)
            if refund is None or refund.status not in ("pending", "failed"):
                continue
            refund.status = "pending"
        _send_auto_refund(_AutoRefund(refund_id, intent, amount, gateway))
    return len(rows)


def _with_card_details(checkout: CheckoutSession) -> CheckoutSession:
    """An event's session does not carry the card's last 4 digits (Stripe does not expand
    it): ask for them, outside any transaction, best effort (the receipt shows them)."""
    if not checkout.is_paid or checkout.card_last4:
        return checkout
    try:
        fuller = _gateway().retrieve_checkout(checkout.id)
    except GatewayError as error:
        log.info("card details of %s not available: %s", checkout.id, error)
        return checkout
    if fuller.id != checkout.id or not fuller.card_last4:
        return checkout
    return CheckoutSession(**{**checkout.__dict__, "card_last4": fuller.card_last4})


def handle_payment_event(event: PaymentEvent) -> str:
    """Apply a verified gateway event (webhook or demo page)."""
    if event.type in (EVENT_CHECKOUT_COMPLETED, EVENT_ASYNC_PAYMENT_SUCCEEDED):
        return fulfil_checkout(_with_card_details(event.session), event.id, event.type)
    sale_id = _sale_id_for(event.session)
    db.session.rollback()
    if event.type == EVENT_CHECKOUT_EXPIRED:
        return expire_checkout_sale(sale_id, session_id=event.session.id, event_id=event.id)
    if event.type == EVENT_ASYNC_PAYMENT_FAILED:
        return fail_checkout_sale(sale_id, session_id=event.session.id, event_id=event.id)
    return "ignored"


# -- sweeping and reconciling --------------------------------------------------------------

def _settle(checkout: CheckoutSession, sale_id: int, *, expire_open: bool,
            counts: dict[str, int]) -> None:
    if checkout.is_paid:
        outcome = fulfil_checkout(checkout, None)
        counts[{"paid": "paid", "refunded": "refunded", "flagged": "flagged"}.get(
            outcome, "unchanged")] += 1
    elif checkout.status == "expired" or expire_open:
        counts["expired" if expire_checkout_sale(sale_id) == "expired" else "unchanged"] += 1
    else:
        counts["open"] += 1


def _awaiting(where: list) -> list[tuple[int, str | None, str | None]]:  # type: ignore[type-arg]
    db.session.rollback()  # read what is committed now, not an older snapshot
    rows = db.session.execute(
        select(Sale.id, Sale.checkout_session_id, Sale.gateway)
        .where(Sale.status == "awaiting_payment", Sale.flag.is_(None), *where)
        .order_by(Sale.id)).all()
    db.session.rollback()  # no transaction stays open while the gateway is asked
    return [(r[0], r[1], r[2]) for r in rows]


def _new_counts() -> dict[str, int]:
    return {"checked": 0, "paid": 0, "expired": 0, "open": 0, "refunded": 0, "flagged": 0,
            "unchanged": 0, "errors": 0}


def sweep_expired(now: datetime | None = None) -> dict[str, int]:
    """Card sales past their checkout's expiry (plus a grace) whose event never came: ask
    the gateway, settle what was paid, expire the rest (releasing their stock)."""
    from pos.payments.factory import gateway_named

    now = now or clock.now()
    counts = _new_counts()
    for sale_id, session_id, gateway_name in _awaiting([Sale.expires_at < now - SWEEP_GRACE]):
        counts["checked"] += 1
        if not session_id:  # the checkout was never stored (a crash in between)
            counts["expired" if expire_checkout_sale(sale_id) == "expired" else "unchanged"] += 1
            continue
        try:
            gateway = gateway_named(gateway_name)
            checkout = gateway.retrieve_checkout(session_id)
            if checkout.status == "open":
                checkout = gateway.expire_checkout(session_id)
        except GatewayError as error:
            log.warning("sweep: sale %s not settled: %s", sale_id, error)
            counts["errors"] += 1
            continue
        _settle(checkout, sale_id, expire_open=True, counts=counts)
    return counts


def sweep_checkouts() -> dict[str, int]:
    """The periodic clean-up of card payments (the server's deliverer and `pos
    sweep-checkouts`): expire abandoned checkouts, send again the automatic refunds that
    did not go through."""
    counts = sweep_expired()
    counts["refunds_retried"] = retry_pending_auto_refunds()
    return counts


def reconcile(since: datetime | None = None) -> dict[str, int]:
    """Ask the gateway about every sale still awaiting payment and settle it, so a payment
    made while the webhook was unreachable is never lost. Running it twice changes nothing."""
    from pos.payments.factory import gateway_named

    counts = _new_counts()
    where = [Sale.created_at >= since] if since is not None else []
    for sale_id, session_id, gateway_name in _awaiting(where):
        counts["checked"] += 1
        if not session_id:
            counts["unchanged"] += 1
            continue
        try:
            checkout = gateway_named(gateway_name).retrieve_checkout(session_id)
        except GatewayError as error:
            log.warning("reconcile: sale %s not settled: %s", sale_id, error)
            counts["errors"] += 1
            continue
        _settle(checkout, sale_id, expire_open=False, counts=counts)
    return counts
