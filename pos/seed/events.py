"""The events of the demo clinic's planned year (pos/seed/plan.py), in clinic wall-clock
time (naive), each what one service call will do (pos/seed/history.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class NewClient:
    at: datetime
    client: int  # the plan's client number
    first_name: str
    last_name: str
    email: str
    phone: str


@dataclass(frozen=True)
class Line:
    sku: str | None
    package_code: str | None
    quantity: int


@dataclass(frozen=True)
class Sell:
    at: datetime
    sale: int  # the plan's sale number
    client: int | None
    lines: tuple[Line, ...]
    payment: str  # "cash" or "card"


@dataclass(frozen=True)
class Treat:
    at: datetime
    client: int
    sale: int  # the sale of the package (one package unit per sale)
    area: str


@dataclass(frozen=True)
class Refund:
    at: datetime
    sale: int
    line: Line  # which line, and how many units of it
    reason: str


@dataclass(frozen=True)
class Receive:
    at: datetime
    sku: str
    lot: str | None
    expires_on: date | None
    quantity: int


@dataclass(frozen=True)
class WriteOff:
    at: datetime
    sku: str
    lot: str | None
    quantity: int
    reason: str  # an adjustment reason: "expired" or "damaged"
    note: str


@dataclass(frozen=True)
class CheckExpiry:
    """The worker's daily look for lots near expiry (here on each delivery day)."""
    at: datetime


Event = NewClient | Sell | Treat | Refund | Receive | WriteOff | CheckExpiry


@dataclass
class Plan:
    first_day: date
    last_day: date
    events: list[Event] = field(default_factory=list)

    def sorted_events(self) -> list[Event]:
        # Stable: events at the same minute keep the order they were planned in.
        return sorted(self.events, key=lambda event: event.at)
