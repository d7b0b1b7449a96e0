"""Fixtures and helpers for selling and paying: a Stripe stand-in wired into the app,
packages, clients, discount codes, signed webhook deliveries and row counts."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import (
    Client,
    DiscountCode,
    ItemStock,
    OutboxMessage,
    PackagePurchase,
    ProcessedEvent,
    Refund,
    Sale,
    SaleLine,
    StockMovement,
)
from pos.services import catalog
from pos.services.transaction import write_transaction
from tests.stripe_standin import StripeStandIn

WEBHOOK_SECRET = "whsec_test_pos_payments"


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    s = StripeStandIn(webhook_secret=WEBHOOK_SECRET).start()
    yield s
    s.stop()


def stripe_config(standin: StripeStandIn) -> dict[str, Any]:
    return {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": standin.api_base}


@pytest.fixture
def stripe_app(app: Flask, standin: StripeStandIn) -> Flask:
    """The app (SQLite and PostgreSQL) with Stripe keys, talking to the local stand-in."""
    app.config.update(stripe_config(standin))
    return app


def make_package(code: str = "FACE3", *, sessions: int = 3, price_cents: int = 45000,
                 area: str = "face", name: str | None = None,
                 supplies: tuple[tuple[str, int], ...] = ()):  # type: ignore[no-untyped-def]
    return catalog.create_package(catalog.NewPackage(
        code=code, name=name or f"Microneedling {area} ({sessions} sessions)", area=area,
        sessions=sessions, price_cents=price_cents, min_days_between=28,
        max_days_between=42, supplies=supplies), None)


def make_client(first: str = "Ana", last: str = "Lopez",
                email: str | None = "ana.lopez@example.org") -> int:
    with write_transaction() as session:
        client = Client(first_name=first, last_name=last, email=email, phone="555-0100",
                        phone_digits="5550100")
        session.add(client)
        session.flush()
        return client.id


def make_discount(code: str = "WELCOME10", *, kind: str = "percent", value: int = 1000,
                  starts_on: date | None = None, ends_on: date | None = None,
                  max_uses: int | None = None, times_used: int = 0) -> int:
    with write_transaction() as session:
        discount = DiscountCode(code=code, kind=kind, value=value, starts_on=starts_on,
                                ends_on=ends_on, max_uses=max_uses, times_used=times_used)
        session.add(discount)
        session.flush()
        return discount.id


def deliver(client, standin: StripeStandIn, session_id: str, type: str,  # type: ignore[no-untyped-def]
            **kw: Any):
    """Sign an event about the session as the stand-in has it now, POST it to the app."""
    payload, header = standin.event(session_id, type, **kw)
    return client.post("/stripe/webhook", data=payload,
                       headers={"Stripe-Signature": header,
                                "Content-Type": "application/json"})


def stock_of(sku: str) -> tuple[int, int]:
    """(on hand, held) of an item at the clinic."""
    from pos.models import Item

    db.session.rollback()  # a fresh snapshot: other sessions committed meanwhile
    row = db.session.execute(
        select(ItemStock.on_hand, ItemStock.held).join(Item, Item.id == ItemStock.item_id)
        .where(Item.sku == sku)).one()
    return int(row[0]), int(row[1])


COUNTED = (Sale, SaleLine, PackagePurchase, Refund, StockMovement, OutboxMessage, ProcessedEvent,
           DiscountCode)


def row_counts() -> dict[str, int]:
    """Rows per table, to show that a refused request wrote nothing."""
    db.session.rollback()  # a fresh snapshot: other sessions committed meanwhile
    counts = {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
              for m in COUNTED}
    counts["discount_uses"] = db.session.scalar(
        select(func.coalesce(func.sum(DiscountCode.times_used), 0)))
    counts["held"] = db.session.scalar(select(func.coalesce(func.sum(ItemStock.held), 0)))
    counts["on_hand"] = db.session.scalar(select(func.coalesce(func.sum(ItemStock.on_hand), 0)))
    return counts


def csrf_token_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)
