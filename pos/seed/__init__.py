"""The demo clinic of ../shared/DOMAIN.md with a year behind it, built through the same
services the desk uses (never a row written by hand):

- `catalog`: what it sells and stocks, and who its clients are;
- `plan`: the past year decided with a fixed seed (pure: who came when, what they bought,
  each series on its rhythm, refunds, deliveries);
- `history`: the plan played through the services, each event at its own time.

Then today: the staff logins, a short-dated delivery (an expiring-lot alert), and a new
client who has just bought a series and awaits a first treatment.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from pos.domain.roles import Role
from pos.extensions import db
from pos.models import User
from pos.seed.catalog import (
    CLINIC_DETAILS,
    COST,
    ITEMS,
    MAX_DAYS_BETWEEN,
    MIN_DAYS_BETWEEN,
    PACKAGES,
    SESSION_SUPPLIES,
    SHORT_DATED_LOT,
    TODAYS_CLIENT,
)
from pos.seed.history import Played, Staff, play
from pos.seed.plan import plan_history
from pos.services import alerts, catalog, clients, clock, sales, staff, stock
from pos.services.clinic import clinic_settings, update_clinic_settings
from pos.services.transaction import write_transaction
from pos.settings import Settings


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    password: str


@dataclass(frozen=True)
class DemoClinic:
    logins: list[DemoLogin]
    history: Played


def database_is_empty() -> bool:
    return (db.session.scalar(select(func.count()).select_from(User)) or 0) == 0


def seed_demo(settings: Settings) -> list[DemoLogin]:
    return seed_demo_clinic(settings).logins


def seed_demo_clinic(settings: Settings) -> DemoClinic:
    zone = clinic_settings(db.session()).zone
    today = clock.today(zone)
    plan = plan_history(today)
    # The clinic opened the morning before its first day of history.
    opened = datetime.combine(plan.first_day - timedelta(days=1), time(8)).replace(tzinfo=zone)
    with clock.travel_to(opened):
        with write_transaction() as session:
            update_clinic_settings(session, CLINIC_DETAILS, None)
        logins = _staff()
        _catalog()
    ids = {login.role: staff_id(login.email) for login in logins}
    history = play(plan, settings=settings, zone=zone,
                   staff=Staff(front_desk=ids["front_desk"], provider=ids["provider"],
                               manager=ids["manager"]))
    _today(settings, ids["front_desk"], ids["manager"])
    return DemoClinic(logins, history)


def staff_id(email: str) -> int:
    user_id = db.session.scalar(select(User.id).where(User.email == email))
    assert user_id is not None
    return user_id


def _staff() -> list[DemoLogin]:
    logins = []
    # One user per role, and a provider who is also the manager (a common small clinic).
    for roles in [*(r.value for r in Role), f"{Role.PROVIDER}+{Role.MANAGER}"]:
        email = f"{roles.replace('_', '-').replace('+', '-')}@clinic.example"
        password = secrets.token_urlsafe(9)
        staff.create_user(email, roles, password,
                          name=roles.replace("_", " ").replace("+", " and ").title())
        logins.append(DemoLogin(email, roles, password))
    return logins


def _catalog() -> None:
    for sku, name, kind, unit, price, cost, point, qty, taxable in ITEMS:
        catalog.create_item(catalog.NewItem(sku, name, kind, unit, price, cost, point, qty,
                                            taxable), None)
    for code, name, area, sessions, price in PACKAGES:
        catalog.create_package(catalog.NewPackage(
            code, name, area, sessions, price, MIN_DAYS_BETWEEN,
            MAX_DAYS_BETWEEN if sessions > 1 else None, SESSION_SUPPLIES), None)


def _today(settings: Settings, front_desk: int, manager: int) -> None:
    sku, lot, days, quantity = SHORT_DATED_LOT
    stock.receive_stock(sku=sku, quantity=quantity, lot_code=lot,
                        expires_on=clock.today() + timedelta(days=days),
                        unit_cost_cents=COST[sku], user_id=manager)
    alerts.check_expiring_lots(settings)
    first, last, email, phone = TODAYS_CLIENT
    client = clients.create_client(first_name=first, last_name=last, email=email,
                                   phone=phone, user_id=front_desk)
    # A new client has just bought a series, so a provider can record a treatment at once.
    sales.sell(client_id=client.id, lines=[sales.CartLine(None, "FACE-3", 1)],
               discount_code=None, payment="cash", user_id=front_desk,
               cash_tendered_cents=79500, settings=settings)
