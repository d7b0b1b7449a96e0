"""Clinical test data: the supplies of a procedure in lots, packages with a bill of
materials, clients and paid package purchases.

Purchases are written directly (a paid cash sale with one package line and its
PackagePurchase), so the treatment tests do not depend on the sales service.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from pos.domain.screening import DEFAULT_QUESTIONNAIRE
from pos.extensions import db
from pos.models import (
    Client,
    ClientConsent,
    Item,
    Lot,
    LotStock,
    Package,
    PackagePurchase,
    Sale,
    SaleLine,
)
from pos.services import catalog, clock, consent, ledger
from pos.services.transaction import write_transaction
from tests.factories import make_item

# What one session consumes, per the clinic's default bill of materials.
SESSION_BOM: tuple[tuple[str, int], ...] = (
    ("CART", 1), ("LIDO", 5), ("HA", 3), ("MASK", 1), ("MIST", 5))
BUNDLE_SKU = "BUNDLE-FV"

# (sku, name, unit, lots [(code, quantity, days to expiry)]) - the lot listed first is NOT
# always the one expiring first, so FEFO is really exercised.
CLINIC_SUPPLIES: tuple[tuple[str, str, str, list[tuple[str, int, int | None]]], ...] = (
    ("CART", "MDPen needle cartridge", "cartridge", [("C-LATE", 20, 400), ("C-SOON", 10, 200)]),
    ("LIDO", "Topical lidocaine", "ml", [("L-LATE", 50, 300), ("L-SOON", 8, 30)]),
    ("HA", "HA serum (clinic)", "ml", [("H-LATE", 30, 250), ("H-SOON", 30, 90)]),
    ("MASK", "Growth-factor gel mask", "mask", [("M-1", 10, 120)]),
    ("MIST", "Copper + HA Mist (clinic)", "ml", [("MI-1", 100, 200)]),
)


@dataclass(frozen=True)
class ClinicStock:
    items: dict[str, Item]

    def id_of(self, sku: str) -> int:
        return self.items[sku].id


def make_clinic_stock(*, supplies: Any = CLINIC_SUPPLIES,
                      bundle_lots: list[tuple[str, int, int | None]] | None = None,
                      packages: bool = True) -> ClinicStock:
    """The supplies of a procedure with lots, the first-visit bundle, and three packages:
    FACE-3 (3 sessions, 28-42 days), FACE-1 and SCALP-3, each with SESSION_BOM."""
    items = {}
    for sku, name, unit, lots in supplies:
        items[sku] = make_item(sku, kind="supply", name=name, unit=unit, price_cents=0,
                               cost_cents=100, taxable=False, reorder_point=0, lots=lots)
    items[BUNDLE_SKU] = make_item(
        BUNDLE_SKU, kind="bundle", name="First-visit bundle", unit="bundle", price_cents=0,
        cost_cents=2800, taxable=False, reorder_point=0,
        lots=[("FV-1", 5, 365)] if bundle_lots is None else bundle_lots)
    if packages:
        for code, area, sessions in (("FACE-3", "face", 3), ("FACE-1", "face", 1),
                                     ("SCALP-3", "scalp", 3)):
            catalog.create_package(catalog.NewPackage(
                code=code, name=f"{area.title()} microneedling x{sessions}", area=area,
                sessions=sessions, price_cents=45000 * sessions, min_days_between=28,
                max_days_between=42 if sessions > 1 else None, supplies=SESSION_BOM), None)
    return ClinicStock(items)


_client_counter = iter(range(1, 1_000_000))


# A tiny valid PNG (1x1, transparent): a signature as far as the server can tell.
SIGNATURE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def sign_consent(client: Client | int, form_version: int | None = None) -> None:
    """The client signed the consent form in force (or `form_version`), written directly."""
    client_id = client if isinstance(client, int) else client.id
    with write_transaction() as session:
        version = form_version or consent.form_in_force(session).version
        session.add(ClientConsent(client_id=client_id, form_version=version,
                                  signature_png=SIGNATURE_PNG, signed_at=clock.now()))


def make_client(first_name: str = "Ada", last_name: str = "Lovelace",
                email: str | None = None, phone: str | None = "555-0100", *,
                consent_signed: bool = True) -> Client:
    """A client; by default one who signed the consent form in force (treatments need it)."""
    n = next(_client_counter)
    with write_transaction() as session:
        client = Client(first_name=first_name, last_name=last_name,
                        email=(email or f"client{n}@clients.example").lower(), phone=phone,
                        phone_digits="".join(c for c in phone or "" if c.isdigit()) or None)
        session.add(client)
        session.flush()
    if consent_signed:
        sign_consent(client.id)
    return client


def make_series_purchase(client: Client | int, package_code: str) -> PackagePurchase:
    """A paid cash sale of one package, and the purchase whose sessions it buys."""
    client_id = client if isinstance(client, int) else client.id
    with write_transaction() as session:
        package = session.scalar(select(Package).where(Package.code == package_code))
        assert package is not None, f"no package {package_code}"
        now = clock.now()
        sale = Sale(client_id=client_id, location_id=ledger.default_location(session).id,
                    status="paid", payment_method="cash", subtotal_cents=package.price_cents,
                    total_cents=package.price_cents, paid_at=now)
        line = SaleLine(package_id=package.id, name=package.name, category="package",
                        quantity=1, unit_price_cents=package.price_cents,
                        subtotal_cents=package.price_cents, total_cents=package.price_cents)
        sale.lines.append(line)
        session.add(sale)
        session.flush()
        purchase = PackagePurchase(client_id=client_id, sale_line_id=line.id,
                                   package_id=package.id, sessions_total=package.sessions,
                                   value_cents=package.price_cents)
        session.add(purchase)
        session.flush()
        return purchase


def all_clear(**yes: Any) -> dict[str, Any]:
    """A complete screening of the default questionnaire (the version in force unless a
    test publishes another) with every answer "no" (dates: none) except those given."""
    raw: dict[str, Any] = {q.key: (False if q.type == "boolean" else None)
                           for q in DEFAULT_QUESTIONNAIRE.questions}
    raw.update(yes)
    return raw


def treatment_body(client_id: int, purchase_id: int, *, area: str = "face",
                   screening: dict[str, Any] | None = None,
                   acknowledged: list[str] | None = None,
                   performed_at: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_id": client_id, "purchase_id": purchase_id, "area": area,
        "screening": all_clear() if screening is None else screening,
        "acknowledged_cautions": acknowledged or [],
    }
    if performed_at is not None:
        body["performed_at"] = performed_at
    return body


def lots_on_hand(*codes: str) -> dict[str, int]:
    """What each lot (by code) has on hand now, read fresh from the database."""
    db.session.expire_all()
    return {code: db.session.scalar(
        select(func.coalesce(func.sum(LotStock.on_hand), 0))
        .join(Lot, Lot.id == LotStock.lot_id).where(Lot.code == code)) for code in codes}


def days_from_today(n: int) -> date:
    return clock.today() + timedelta(days=n)


@pytest.fixture
def clinic_stock(app) -> ClinicStock:  # type: ignore[no-untyped-def]
    return make_clinic_stock()
