"""Playing the planned year (pos/seed/plan.py) through the services the desk uses.

Each event runs at its own time (`clock.travel_to`): the sale is paid then, the session
performed then, the stock received then, so every timestamp, report snapshot, alert and
queued email is what the app would have written on that day. Card sales are paid the way
the demo gateway's payment page pays them (the same event, the same fulfilment code).
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pos.domain.drawers import NoOpenDrawer
from pos.domain.screening import BOOLEAN, DEFAULT_QUESTIONNAIRE
from pos.domain.statuses import PaymentMethod
from pos.extensions import db
from pos.models import Item, Package, PackagePurchase, SaleLine
from pos.payments.demo import DemoGateway
from pos.payments.gateway import EVENT_CHECKOUT_COMPLETED, PaymentEvent
from pos.seed.catalog import COST
from pos.seed.events import (
    CheckExpiry,
    Event,
    NewClient,
    Plan,
    Receive,
    Refund,
    Sell,
    Treat,
    WriteOff,
)
from pos.services import (
    alerts,
    clients,
    clock,
    consent,
    drawers,
    refunds,
    sales,
    stock,
    treatments,
)
from pos.settings import Settings

# A 1x1 PNG standing in for a signature drawn on the tablet (demo data only).
DEMO_SIGNATURE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")

# Nothing to report: every question of the seeded questionnaire answered "no" or "none".
CLEAN_SCREENING: dict[str, Any] = {q.key: (False if q.type == BOOLEAN else None)
                                   for q in DEFAULT_QUESTIONNAIRE.questions}


DRAWER_COUNTED_AFTER = timedelta(minutes=20)


@dataclass(frozen=True)
class Staff:
    front_desk: int
    provider: int
    manager: int


@dataclass
class Played:
    """What the year left behind: the plan's numbers mapped to the rows written."""
    clients: dict[int, int] = field(default_factory=dict)
    sales: dict[int, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def play(plan: Plan, *, settings: Settings, zone: ZoneInfo, staff: Staff) -> Played:
    # The history never calls Stripe: with a Stripe key configured its card sales are cash.
    card = PaymentMethod.CARD if not settings.stripe_secret_key else PaymentMethod.CASH
    player = _Player(settings, staff, card)
    handlers: dict[type, Callable[[Any], None]] = {
        NewClient: player.new_client, Sell: player.sell, Treat: player.treat,
        Refund: player.refund, Receive: player.receive, WriteOff: player.write_off,
        CheckExpiry: player.check_expiry}

    def count_the_drawer_after(last: Event) -> None:
        # The desk counts its drawer after the day's last client; today's stays open.
        with clock.travel_to(_utc(last, zone) + DRAWER_COUNTED_AFTER):
            player.close_the_drawer()

    last: Event | None = None
    for event in plan.events:
        if last is not None and event.at.date() != last.at.date():
            count_the_drawer_after(last)
        with clock.travel_to(_utc(event, zone)):
            handlers[type(event)](event)
        player.played[type(event).__name__] = player.played.get(type(event).__name__, 0) + 1
        db.session.remove()  # a year of rows must not pile up in one identity map
        last = event
    if last is not None and last.at.date() < clock.today():
        count_the_drawer_after(last)
    return Played(player.clients, player.sales, player.played)


def _utc(event: Event, zone: ZoneInfo) -> datetime:
    return event.at.replace(tzinfo=zone).astimezone(UTC)


class _Player:
    def __init__(self, settings: Settings, staff: Staff, card: PaymentMethod) -> None:
        self.settings = settings
        self.staff = staff
        self.card = card
        self.clients: dict[int, int] = {}
        self.sales: dict[int, int] = {}
        self.purchases: dict[int, int] = {}
        self.played: dict[str, int] = {}

    def close_the_drawer(self) -> None:
        """Count the day's drawer as expected (a year of right counts) and close it."""
        try:
            drawer = drawers.current_drawer(db.session)
        except NoOpenDrawer:
            return  # no cash that day
        expected = drawer.figures.expected_cents
        # A day of cash refunds only (no float in the demo) was paid from the safe.
        drawers.close_drawer(drawer.drawer.id, counted_cents=max(expected, 0),
                             note=None if expected >= 0 else "Refund paid from the safe.",
                             user_id=self.staff.front_desk,
                             tolerance_cents=self.settings.drawer_tolerance_cents)

    def new_client(self, event: NewClient) -> None:
        client = clients.create_client(first_name=event.first_name, last_name=event.last_name,
                                       email=event.email, phone=event.phone,
                                       user_id=self.staff.front_desk)
        self.clients[event.client] = client.id
        # The demo's clients signed the consent form in force at their first visit.
        version = consent.form_in_force(db.session).version
        consent.record_consent(client.id, version, DEMO_SIGNATURE_PNG, self.staff.provider)

    def sell(self, event: Sell) -> None:
        payment = self.card if event.payment == "card" else PaymentMethod.CASH
        sale = sales.sell(
            client_id=None if event.client is None else self.clients[event.client],
            lines=[sales.CartLine(line.sku, line.package_code, line.quantity)
                   for line in event.lines],
            discount_code=None, payment=payment, user_id=self.staff.front_desk,
            settings=self.settings)
        self.sales[event.sale] = sale.id
        if payment == PaymentMethod.CARD:
            _pay_on_the_demo_page(sale.id)

    def treat(self, event: Treat) -> None:
        treatments.perform_treatment(
            client_id=self.clients[event.client], purchase_id=self._purchase(event.sale),
            area=event.area, screening_raw=dict(CLEAN_SCREENING), acknowledged_cautions=(),
            performed_at=clock.now(), user_id=self.staff.provider,
            bundle_sku=self.settings.first_visit_bundle_sku)

    def _purchase(self, sale: int) -> int:
        if sale not in self.purchases:
            self.purchases[sale] = db.session.scalar(
                select(PackagePurchase.id).join(SaleLine)
                .where(SaleLine.sale_id == self.sales[sale]))
        return self.purchases[sale]

    def refund(self, event: Refund) -> None:
        sale_id = self.sales[event.sale]
        line_id = db.session.scalar(
            select(SaleLine.id).outerjoin(Item).outerjoin(Package)
            .where(SaleLine.sale_id == sale_id,
                   Item.sku == event.line.sku if event.line.sku is not None
                   else Package.code == event.line.package_code))
        assert line_id is not None, event
        db.session.rollback()
        refunds.refund_sale(sale_id, [(line_id, event.line.quantity)], restock=False,
                            reason=event.reason, user_id=self.staff.manager)

    def receive(self, event: Receive) -> None:
        stock.receive_stock(sku=event.sku, quantity=event.quantity, lot_code=event.lot,
                            expires_on=event.expires_on, unit_cost_cents=COST[event.sku],
                            user_id=self.staff.manager)

    def write_off(self, event: WriteOff) -> None:
        stock.adjust_stock(sku=event.sku, lot_code=event.lot, qty_delta=-event.quantity,
                           reason=event.reason, note=event.note, user_id=self.staff.manager)

    def check_expiry(self, event: CheckExpiry) -> None:
        alerts.check_expiring_lots(self.settings)


def _pay_on_the_demo_page(sale_id: int) -> None:
    """What approving on the demo payment page does (pos/web/payments/routes.py)."""
    sale = sales.get_sale(db.session(), sale_id)
    session_id = sale.checkout_session_id
    assert session_id is not None
    checkout = DemoGateway.paid_session(session_id, sale.id, sale.total_cents, sale.expires_at)
    db.session.rollback()
    outcome = sales.handle_payment_event(PaymentEvent(
        id=f"demo_evt_{session_id}_paid", type=EVENT_CHECKOUT_COMPLETED, session=checkout))
    assert outcome == "paid", outcome
