"""The demo clinic of ../shared/DOMAIN.md, built through the same services the desk uses."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from pos.domain.roles import Role
from pos.extensions import db
from pos.models import Client, Item, User
from pos.services import catalog, clock, sales, staff, stock
from pos.services.transaction import write_transaction
from pos.settings import Settings

# sku, name, kind, unit, price, cost, reorder point, reorder quantity, taxable
ITEMS = [
    ("CART-36", "MDPen needle cartridge (36-pin, sterile)", "supply", "cartridge", 0, 450, 20, 100, False),
    ("LIDO-23", "Topical lidocaine 23% (per g)", "supply", "g", 0, 60, 60, 300, False),
    ("HA-CLIN", "HA serum, clinical (per ml)", "supply", "ml", 0, 120, 40, 200, False),
    ("GF-MASK", "Growth-factor gel mask", "supply", "mask", 0, 900, 10, 40, False),
    ("MIST-CLIN", "Copper + HA Mist, clinical (per ml)", "supply", "ml", 0, 40, 50, 250, False),
    ("CLEANSE", "Hydrating cleanser (per ml)", "supply", "ml", 0, 5, 100, 1000, False),
    ("BUNDLE-FV", "First-visit bundle (1 oz HA serum + Copper + HA Mist)", "bundle", "bundle", 0, 2800, 5, 20, False),
    ("SERUM-1OZ", "Pure HA serum 1 oz (take-home)", "retail", "bottle", 6500, 1900, 6, 24, True),
    ("MIST-RET", "Copper + HA Mist (take-home)", "retail", "bottle", 3800, 900, 6, 24, True),
]

# What one session consumes, per the domain brief's procedure.
SESSION_SUPPLIES = (("CART-36", 1), ("LIDO-23", 5), ("HA-CLIN", 3), ("GF-MASK", 1),
                    ("MIST-CLIN", 5), ("CLEANSE", 10))

PACKAGES = [
    ("FACE-1", "Face microneedling, single session", "face", 1, 30000),
    ("FACE-3", "Face microneedling series of 3", "face", 3, 79500),
    ("SCALP-4", "Scalp (hair restoration) series of 4", "scalp", 4, 110000),
]

# sku -> [(lot, days until expiry or None, quantity)]
LOTS = {
    "CART-36": [("C2409A", 400, 60), ("C2410B", 700, 80)],
    "LIDO-23": [("L-1187", 20, 60), ("L-1204", 240, 300)],  # L-1187 is near expiry
    "HA-CLIN": [("H-558", 120, 150), ("H-571", 300, 200)],
    "GF-MASK": [("G-031", 200, 10)],  # exactly at its reorder point
    "MIST-CLIN": [("M-902", 180, 500)],
    "CLEANSE": [(None, None, 2000)],
    "BUNDLE-FV": [("FV-11", 365, 30)],
    "SERUM-1OZ": [("S-77", 330, 24)],
    "MIST-RET": [("MR-12", 300, 24)],
}

CLIENTS = [("Ava", "Martinez", "ava.martinez@example.com", "555-0101"),
           ("Noah", "Kim", "noah.kim@example.com", "555-0102"),
           ("Mia", "Okafor", "mia.okafor@example.com", "555-0103")]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    password: str


def database_is_empty() -> bool:
    return (db.session.scalar(select(func.count()).select_from(User)) or 0) == 0


def seed_demo(settings: Settings) -> list[DemoLogin]:
    today = clock.today()
    for sku, name, kind, unit, price, cost, point, qty, taxable in ITEMS:
        catalog.create_item(catalog.NewItem(sku, name, kind, unit, price, cost, point, qty,
                                            taxable), None)
    for code, name, area, sessions, price in PACKAGES:
        catalog.create_package(catalog.NewPackage(
            code, name, area, sessions, price, 28, 42 if sessions > 1 else None,
            SESSION_SUPPLIES), None)
    for sku, lots in LOTS.items():
        cost = db.session.scalar(select(Item.cost_cents).where(Item.sku == sku))
        for lot, days, quantity in lots:
            stock.receive_stock(sku=sku, quantity=quantity, lot_code=lot,
                                expires_on=None if days is None else today + timedelta(days),
                                unit_cost_cents=cost, user_id=None)
    with write_transaction() as session:
        clients = [Client(first_name=first, last_name=last, email=email, phone=phone,
                          phone_digits="".join(c for c in phone if c.isdigit()))
                   for first, last, email, phone in CLIENTS]
        session.add_all(clients)
        session.flush()
        first_client_id = clients[0].id
    # One client has already bought a series, so a provider can record a treatment at once.
    sales.sell(client_id=first_client_id, lines=[sales.CartLine(None, "FACE-3", 1)],
               discount_code=None, payment="cash", user_id=None, cash_tendered_cents=79500,
               settings=settings)
    logins = []
    # One user per role, and a provider who is also the manager (a common small clinic).
    for roles in [*(r.value for r in Role), f"{Role.PROVIDER}+{Role.MANAGER}"]:
        email = f"{roles.replace('_', '-').replace('+', '-')}@clinic.example"
        password = secrets.token_urlsafe(9)
        staff.create_user(email, roles, password,
                          name=roles.replace("_", " ").replace("+", " and ").title())
        logins.append(DemoLogin(email, roles, password))
    return logins
