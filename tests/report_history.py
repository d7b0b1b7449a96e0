"""Sales, refunds, treatments and write-offs inserted directly as rows, for report tests.

The report must be right whatever the services that write these rows do, so its tests
build histories straight from the models (priced with the real pricing rules) instead
of going through the sale, refund and treatment services.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.orm import Session

from pos.domain.gift_cards import new_code
from pos.domain.money import allocate
from pos.domain.pricing import Discount, LineInput, price_sale, refund_amounts
from pos.domain.roles import Role
from pos.domain.series import value_of_refunded_sessions
from pos.extensions import db
from pos.models import (
    Client,
    ClientCreditEntry,
    GiftCard,
    GiftCardEntry,
    Item,
    Location,
    Lot,
    Package,
    PackagePurchase,
    Payment,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    StockMovement,
    Treatment,
    TreatmentSupply,
    User,
)

NEW_YORK = ZoneInfo("America/New_York")
TAX_RATE_BP = 800

# key -> (kind, name, price_cents, taxable) for items; packages below.
ITEMS = {
    "SERUM": ("retail", "HA Serum 1 oz", 6500, True),
    "MIST": ("retail", "Copper + HA Mist", 3850, True),
    "BUNDLE": ("bundle", "First-visit bundle", 9900, True),
    "CART": ("supply", "Needle cartridge", 0, False),
    "LIDO": ("supply", "Lidocaine dose", 0, False),
}
PACKAGES = {
    "FACE1": ("Face, single session", "face", 1, 35000),
    "FACE3": ("Face, series of 3", "face", 3, 90001),
    "SCALP4": ("Scalp, series of 4", "scalp", 4, 120000),
}


def clinic_instant(day: date, at: time, tz: ZoneInfo = NEW_YORK) -> datetime:
    """A wall-clock time at the clinic, as the UTC instant the database stores."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def empty_all_tables(session: Session) -> None:
    """Delete every row, children first (hypothesis runs many examples in one test)."""
    session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        session.execute(delete(table))
    session.commit()


class History:
    """A clinic with a catalog, two sellers and a client; methods add dated events."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._numbers = count(1)
        self._purchases: dict[int, list[PackagePurchase]] = {}
        self._credit: list[ClientCreditEntry] = []
        self.location = Location(code="main", name="Main")
        session.add(self.location)
        self.sellers = [User(email=f"seller{i}@test.example", name=f"Seller {i}",
                             roles=frozenset({Role.FRONT_DESK}), password_hash="x") for i in (1, 2)]
        self.manager = User(email="boss@test.example", name="Boss", roles=frozenset({Role.MANAGER}),
                            password_hash="x")
        session.add_all([*self.sellers, self.manager])
        self.client = Client(first_name="Ada", last_name="Client")
        session.add(self.client)
        self.items = {sku: Item(sku=sku, name=name, kind=kind, unit="unit", price_cents=price,
                                taxable=taxable)
                      for sku, (kind, name, price, taxable) in ITEMS.items()}
        self.packages = {code: Package(code=code, name=name, area=area, sessions=sessions,
                                       price_cents=price)
                         for code, (name, area, sessions, price) in PACKAGES.items()}
        session.add_all([*self.items.values(), *self.packages.values()])
        self.lots = {
            ("CART", "C-1"): Lot(item=self.items["CART"], code="C-1", unit_cost_cents=275),
            ("CART", "C-2"): Lot(item=self.items["CART"], code="C-2", unit_cost_cents=310),
            ("LIDO", "L-1"): Lot(item=self.items["LIDO"], code="L-1", unit_cost_cents=1999),
            ("SERUM", "S-1"): Lot(item=self.items["SERUM"], code="S-1", unit_cost_cents=1900),
        }
        session.add_all(self.lots.values())
        session.flush()

    def sale(self, lines: list[tuple[str, int]], *, paid_at: datetime | None,
             created_at: datetime | None = None, method: str = "cash",
             discount_bp: int = 0, status: str | None = None, seller: int = 0,
             tip_cents: int = 0, tip_to: int = 0) -> Sale:
        """lines: [(sku or package code, quantity)]. Unpaid sales: paid_at None + a status.
        Its tenders as the desk writes them: one of the total, or for `split` cash for a
        third and a card for the rest; a tip (to seller `tip_to`) rides on the cash. A
        `gift_card` sale redeems a card issued the day before (given back if voided), an
        `account_credit` one spends credit issued a minute before."""
        inputs = []
        for key, quantity in lines:
            if key in self.items:
                _, _, price, taxable = ITEMS[key]
            else:
                price, taxable = PACKAGES[key][3], False
            inputs.append(LineInput(key, price, quantity, taxable))
        quote = price_sale(inputs, Discount("percent", discount_bp) if discount_bp else None,
                           TAX_RATE_BP)
        sale = Sale(location_id=self.location.id, sold_by_id=self.sellers[seller].id,
                    client_id=self.client.id, status=status or "paid", payment_method=method,
                    subtotal_cents=quote.subtotal_cents, discount_cents=quote.discount_cents,
                    tax_cents=quote.tax_cents, total_cents=quote.total_cents,
                    created_at=created_at or paid_at, paid_at=paid_at)
        if paid_at is not None:
            sale.receipt_number = next(self._numbers)
        self.session.add(sale)
        for priced, (key, _) in zip(quote.lines, lines, strict=True):
            item, package = self.items.get(key), self.packages.get(key)
            line = SaleLine(
                sale=sale, item=item, package=package,
                name=item.name if item else package.name,  # type: ignore[union-attr]
                category=item.kind if item else "package",
                quantity=priced.quantity, unit_price_cents=priced.unit_price_cents,
                subtotal_cents=priced.subtotal_cents, discount_cents=priced.discount_cents,
                tax_cents=priced.tax_cents, total_cents=priced.total_cents,
                taxable=item.taxable if item else False)
            self.session.add(line)
            if package is not None and paid_at is not None:
                new = [PackagePurchase(client_id=self.client.id, sale_line=line,
                                       package_id=package.id, sessions_total=package.sessions,
                                       value_cents=value, created_at=paid_at)
                       for value in allocate(priced.net_cents, [1] * priced.quantity)]
                self.session.add_all(new)
                self._purchases[id(line)] = new
        self.session.flush()
        self._tenders(sale, method, tip_cents, tip_to)
        return sale

    def _tenders(self, sale: Sale, method: str, tip_cents: int, tip_to: int) -> None:
        status = {"paid": "succeeded", "void": "succeeded", "awaiting_payment": "pending",
                  "failed": "failed"}.get(sale.status, "cancelled")
        parts = [("cash", sale.total_cents // 3), ("card", sale.total_cents
                                                    - sale.total_cents // 3)] \
            if method == "split" else [(method, sale.total_cents)]
        for tender_method, amount in parts:
            tipped = tip_cents if tender_method == "cash" else 0
            self.session.add(Payment(
                sale_id=sale.id, method=tender_method, amount_cents=amount,
                status="succeeded" if tender_method == "cash" and sale.paid_at is not None
                else status, tip_cents=tipped,
                tip_provider_id=self.sellers[tip_to].id if tipped else None))
        self.session.flush()
        if sale.paid_at is not None and method in ("gift_card", "account_credit"):
            self._spent(sale, method)

    def _spent(self, sale: Sale, method: str) -> None:
        """What a gift card or credit tender takes, as the desk's services write it."""
        assert sale.paid_at is not None
        tender = sale.payments[0]
        total = sale.total_cents
        if method == "account_credit":
            self.credit(total, at=sale.paid_at - timedelta(minutes=1))
            self.credit(-total, at=sale.paid_at)
            return
        card = GiftCard(code=new_code(), initial_cents=total, balance_cents=0,
                        created_at=sale.paid_at - timedelta(days=1))
        self.session.add(card)
        self.session.flush()
        entries = [("issue", total, sale.paid_at - timedelta(days=1), None),
                   ("redeem", -total, sale.paid_at, tender.id)]
        if sale.status == "void":
            entries.append(("reverse", total, sale.paid_at + timedelta(hours=1), tender.id))
            card.balance_cents = total
        self.session.add_all(GiftCardEntry(gift_card_id=card.id, kind=kind, amount_cents=cents,
                                           created_at=at, sale_id=sale.id if payment else None,
                                           payment_id=payment)
                             for kind, cents, at, payment in entries)
        self.session.flush()

    def refund(self, sale: Sale, lines: list[tuple[SaleLine, int]], *, at: datetime,
               status: str = "succeeded") -> Refund:
        refund = Refund(sale_id=sale.id, location_id=self.location.id, amount_cents=0,
                        tax_cents=0, reason="changed mind", method=sale.payment_method,
                        status=status, created_at=at)
        self.session.add(refund)
        amount = tax = 0
        for line, quantity in lines:
            priced = _priced(line)
            money = refund_amounts(priced, line.refunded_quantity, quantity)
            line.refunded_quantity += quantity
            self.session.add(RefundLine(refund=refund, sale_line_id=line.id, quantity=quantity,
                                        net_cents=money.net_cents, tax_cents=money.tax_cents))
            amount += money.total_cents
            tax += money.tax_cents
            if line.package_id is not None:
                unused = [p for p in self.purchases(line) if p.sessions_refunded == 0]
                for purchase in unused[:quantity]:
                    purchase.sessions_refunded = purchase.sessions_total - purchase.sessions_used
        refund.amount_cents, refund.tax_cents = amount, tax
        self.session.flush()
        return refund

    def refund_sessions(self, sale: Sale, line: SaleLine, purchase: PackagePurchase,
                        sessions: int, *, at: datetime, status: str = "succeeded",
                        lower_bp: int | None = None) -> Refund:
        """Unused sessions of one purchase, at their value (a manager's lower amount:
        `lower_bp` of it, the sessions' full value still leaving the liability)."""
        value = value_of_refunded_sessions(purchase.value_cents, purchase.sessions_total,
                                           purchase.sessions_refunded, sessions)
        given = value if lower_bp is None else value * lower_bp // 10_000
        purchase.sessions_refunded += sessions
        refund = Refund(sale_id=sale.id, location_id=self.location.id, amount_cents=given,
                        tax_cents=0, reason="moving away", method=sale.payment_method,
                        status=status, created_at=at)
        self.session.add(refund)
        self.session.add(RefundLine(refund=refund, sale_line_id=line.id, quantity=0,
                                    net_cents=given, tax_cents=0, purchase_id=purchase.id,
                                    sessions=sessions,
                                    released_cents=None if lower_bp is None else value))
        self.session.flush()
        return refund

    def credit(self, amount_cents: int, *, at: datetime) -> None:
        """An account credit entry of the client: + issued, - spent (never below 0)."""
        balance = sum(e.amount_cents for e in self._credit)
        entry = ClientCreditEntry(client_id=self.client.id, amount_cents=amount_cents,
                                  balance_after_cents=balance + amount_cents,
                                  reason="issued" if amount_cents > 0 else "spent",
                                  created_at=at)
        self._credit.append(entry)
        self.session.add(entry)
        self.session.flush()

    def credit_balance(self) -> int:
        return sum(e.amount_cents for e in self._credit)

    def purchases(self, line: SaleLine) -> list[PackagePurchase]:
        return self._purchases.get(id(line), [])

    def treatment(self, purchase: PackagePurchase, *, at: datetime,
                  supplies: list[tuple[str, str, int]] = (),  # type: ignore[assignment]
                  voided_at: datetime | None = None) -> Treatment:
        """supplies: [(sku, lot code, quantity)] consumed at the lot's unit cost."""
        purchase.sessions_used += 0 if voided_at else 1
        treatment = Treatment(client_id=self.client.id, purchase_id=purchase.id,
                              session_number=purchase.sessions_used, area="face",
                              performed_at=at, recorded_at=at, screening={},
                              voided_at=voided_at)
        self.session.add(treatment)
        for sku, lot_code, quantity in supplies:
            lot = self.lots[(sku, lot_code)]
            treatment.supplies.append(TreatmentSupply(
                item_id=self.items[sku].id, lot_id=lot.id, quantity=quantity,
                unit_cost_cents=lot.unit_cost_cents))
        self.session.flush()
        return treatment

    def write_off(self, sku: str, lot_code: str, quantity: int, reason: str,
                  at: datetime) -> StockMovement:
        movement = StockMovement(at=at, item_id=self.items[sku].id,
                                 lot_id=self.lots[(sku, lot_code)].id,
                                 location_id=self.location.id,
                                 qty_delta=quantity if reason == "found" else -quantity,
                                 reason=reason, reference="adjustment")
        self.session.add(movement)
        self.session.flush()
        return movement


def _priced(line: SaleLine):  # type: ignore[no-untyped-def]
    from pos.domain.pricing import PricedLine

    return PricedLine(str(line.id), line.quantity, line.unit_price_cents, line.subtotal_cents,
                      line.discount_cents, line.tax_cents, line.total_cents)
