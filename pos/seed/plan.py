"""The demo clinic's past year as a plan: who came when, what they bought, when each
session of a series was performed, what was refunded, and when stock arrived.

Pure (no database, no clock): `plan_history(today)` draws everything from one
`random.Random(SEED)`, so a given day always gives the same year. Times are the clinic's
wall-clock times (naive); pos/seed/history.py plays the plan through the services.

The stock policy sees the demand the plan has already fixed, so the seeding never runs
short: every week each item is topped up to cover the next two weeks above its reorder
point (no low-stock alert in the past year), except the growth-factor masks, whose last
delivery falls short so that they end the year just below their reorder point.
"""
from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from pos.seed.catalog import (
    BUNDLE_SKU,
    FIRST_NAMES,
    LAST_NAMES,
    LOT_PREFIX,
    MIN_DAYS_BETWEEN,
    PACKAGE_AREA,
    PACKAGE_SESSIONS,
    REORDER,
    RETAIL_SKUS,
    SESSION_SUPPLIES,
    SHELF_LIFE_DAYS,
)

SEED = 2026
# How busy each month is, relative to the year (spring and December peak, summer dips).
SEASON = {1: 0.6, 2: 0.65, 3: 1.2, 4: 1.5, 5: 1.4, 6: 1.0, 7: 0.7, 8: 0.65, 9: 1.0,
          10: 1.1, 11: 1.2, 12: 1.6}
# Walk-in retail sales on an average open day. Each sale costs the services some 15-30 ms
# of CPU on SQLite, so the year is kept sparse enough to seed in a few seconds.
RETAIL_SALES_PER_DAY = 0.25
CLIENTS_IN_THE_YEAR = len(FIRST_NAMES)
PACKAGE_MIX = (("FACE-1", 0.4), ("FACE-3", 0.42), ("SCALP-4", 0.18))
CARD_SHARE = 0.35
COMES_BACK = 0.2  # after the last session, buys another package
# Sessions of a series: MIN_DAYS_BETWEEN..SPACING_UP_TO days apart, then moved to the next
# open day (at most 2 days later), so never past the 42 days of the recommended rhythm.
SPACING_UP_TO = 38
PACKAGE_REFUNDS = 2  # series refunded before any session was used
RETAIL_REFUNDS = 4
LATE_SKU = "GF-MASK"  # the item whose last delivery falls short
LATE_SKU_END_BELOW_POINT = 3
TAIL_DAYS = 24  # the short delivery comes on the first restock day this close to the end
CLOSED_DATES = ((1, 1), (7, 4), (12, 25))  # besides Sundays


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


def is_open(day: date) -> bool:
    return day.weekday() != 6 and (day.month, day.day) not in CLOSED_DATES


def next_open_day(day: date) -> date:
    while not is_open(day):
        day += timedelta(days=1)
    return day


def _at(day: date, rng: random.Random, first: time = time(9, 30),
        minutes: int = 7 * 60) -> datetime:
    return datetime.combine(day, first) + timedelta(minutes=rng.randrange(minutes))


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def plan_history(today: date, seed: int = SEED) -> Plan:
    """The year before `today`: from the first of this month a year ago to yesterday."""
    rng = random.Random(seed)
    first_day = date(today.year - 1, today.month, 1)
    plan = Plan(first_day, today - timedelta(days=1))
    open_days = [first_day + timedelta(days=n)
                 for n in range((plan.last_day - first_day).days + 1)
                 if is_open(first_day + timedelta(days=n))]
    sales = _Sales(plan)
    _clients(plan, rng, open_days, sales)
    _retail(plan, rng, open_days, sales)
    _stock(plan, open_days)
    plan.events = plan.sorted_events()
    return plan


class _Sales:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.count = 0

    def sell(self, at: datetime, client: int | None, lines: tuple[Line, ...],
             payment: str) -> Sell:
        self.count += 1
        sale = Sell(at, self.count, client, lines, payment)
        self.plan.events.append(sale)
        return sale


# -- clients and their series ------------------------------------------------------------

def _clients(plan: Plan, rng: random.Random, open_days: list[date], sales: _Sales) -> None:
    join_days = _join_days(plan, rng, open_days)
    refunders = set(rng.sample(range(3, CLIENTS_IN_THE_YEAR - 5), PACKAGE_REFUNDS))
    for n, (day, first, last) in enumerate(zip(join_days, FIRST_NAMES, LAST_NAMES,
                                               strict=True)):
        client = n + 1
        at = _at(day, rng)
        plan.events.append(NewClient(at, client, first, last,
                                     f"{first.lower()}.{last.lower()}@example.com",
                                     f"555-{101 + n:04d}"))
        if n in refunders:
            _bought_and_refunded(plan, rng, sales, client, at)
            continue
        first_visit = True
        for _ in range(3):  # a client comes back for another package at most twice
            last_session = _package_journey(plan, rng, sales, client, at, first_visit)
            first_visit = False
            if last_session is None or rng.random() > COMES_BACK:
                break
            again = next_open_day(last_session.date() + timedelta(days=rng.randint(21, 60)))
            if again > plan.last_day:
                break
            at = _at(again, rng)


def _join_days(plan: Plan, rng: random.Random, open_days: list[date]) -> list[date]:
    """New clients spread over the months by season (largest remainder, so a few dozen
    clients still show the shape), each on a random open day of its month."""
    by_month: dict[tuple[int, int], list[date]] = defaultdict(list)
    for day in open_days:
        if day <= plan.last_day - timedelta(days=10):
            by_month[(day.year, day.month)].append(day)
    weight = {month: SEASON[month[1]] * len(days) for month, days in by_month.items()}
    share = {month: CLIENTS_IN_THE_YEAR * w / sum(weight.values())
             for month, w in weight.items()}
    count = {month: int(s) for month, s in share.items()}
    for month in sorted(share, key=lambda m: count[m] - share[m])[
            :CLIENTS_IN_THE_YEAR - sum(count.values())]:
        count[month] += 1
    return sorted(day for month, days in by_month.items()
                  for day in rng.choices(days, k=count[month]))


def _choose_package(rng: random.Random) -> str:
    codes, weights = zip(*PACKAGE_MIX, strict=True)
    return rng.choices(codes, weights)[0]


def _package_journey(plan: Plan, rng: random.Random, sales: _Sales, client: int,
                     at: datetime, first_visit: bool) -> datetime | None:
    """Buy a package at `at` and redeem it on its rhythm; the last session's time (None
    when the year ended before every session was used)."""
    code = _choose_package(rng)
    lines = [Line(None, code, 1)]
    if not first_visit and rng.random() < 0.3:
        lines.append(Line(rng.choice(RETAIL_SKUS), None, 1))
    sale = sales.sell(at, client, tuple(lines), _payment(rng))
    if rng.random() < 0.75:  # most are treated in the same visit
        session_at = at + timedelta(minutes=20)
    else:
        day = next_open_day(at.date() + timedelta(days=rng.randint(1, 7)))
        session_at = _at(day, rng)
    for _ in range(PACKAGE_SESSIONS[code]):
        if session_at.date() > plan.last_day:
            return None
        plan.events.append(Treat(session_at, client, sale.sale, PACKAGE_AREA[code]))
        last = session_at
        day = next_open_day(session_at.date() +
                            timedelta(days=rng.randint(MIN_DAYS_BETWEEN, SPACING_UP_TO)))
        session_at = _at(day, rng)
    return last


def _bought_and_refunded(plan: Plan, rng: random.Random, sales: _Sales, client: int,
                         at: datetime) -> None:
    code = rng.choice(("FACE-3", "SCALP-4"))
    sale = sales.sell(at, client, (Line(None, code, 1),), _payment(rng))
    day = next_open_day(at.date() + timedelta(days=rng.randint(1, 5)))
    plan.events.append(Refund(max(_at(day, rng), at + timedelta(hours=1)), sale.sale,
                              Line(None, code, 1), "Moving away before the first session"))


def _payment(rng: random.Random) -> str:
    return "card" if rng.random() < CARD_SHARE else "cash"


# -- walk-in retail ------------------------------------------------------------------------

def _retail(plan: Plan, rng: random.Random, open_days: list[date], sales: _Sales) -> None:
    joined = sorted((event.at, event.client) for event in plan.events
                    if isinstance(event, NewClient))
    retail: list[Sell] = []
    for day in open_days:
        known = [client for at, client in joined if at.date() < day]
        for _ in range(_poisson(rng, RETAIL_SALES_PER_DAY * SEASON[day.month])):
            skus = rng.sample(RETAIL_SKUS, rng.choice((1, 1, 1, 2)))
            lines = tuple(Line(sku, None, 2 if rng.random() < 0.1 else 1) for sku in skus)
            client = rng.choice(known) if known and rng.random() < 0.5 else None
            retail.append(sales.sell(_at(day, rng), client, lines, _payment(rng)))
    refundable = [sale for sale in retail if sale.at.date() <= plan.last_day - timedelta(days=10)]
    for sale in rng.sample(refundable, RETAIL_REFUNDS):
        day = next_open_day(sale.at.date() + timedelta(days=rng.randint(1, 5)))
        line = sale.lines[0]
        plan.events.append(Refund(_at(day, rng), sale.sale, Line(line.sku, None, 1),
                                  "Opened bottle returned; not resold"))


# -- stock -----------------------------------------------------------------------------

@dataclass
class _Lot:
    code: str | None
    expires_on: date | None
    quantity: int


def _demand(plan: Plan) -> dict[date, dict[str, int]]:
    """What each day takes from the shelf: retail lines sold, and each session's supplies
    (with the first-visit bundle on a client's first session)."""
    by_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    treated: set[int] = set()
    for event in plan.sorted_events():
        day = by_day[event.at.date()]
        if isinstance(event, Sell):
            for line in event.lines:
                if line.sku is not None:
                    day[line.sku] += line.quantity
        elif isinstance(event, Treat):
            for sku, quantity in SESSION_SUPPLIES:
                day[sku] += quantity
            if event.client not in treated:
                treated.add(event.client)
                day[BUNDLE_SKU] += 1
    return by_day


def _stock(plan: Plan, open_days: list[date]) -> None:
    demand = _demand(plan)

    def needed(sku: str, since: date, days: int) -> int:
        return sum(demand[since + timedelta(days=n)][sku] for n in range(days)
                   if since + timedelta(days=n) in demand)

    restock_days = {open_days[0]} | {day for prev, day in zip(open_days, open_days[1:],
                                                              strict=False)
                                     if day.isocalendar()[:2] != prev.isocalendar()[:2]}
    tail_day = min(day for day in restock_days if day >= plan.last_day - timedelta(TAIL_DAYS))
    lots: dict[str, list[_Lot]] = {sku: [] for sku in REORDER}
    for day in open_days:
        morning = datetime.combine(day, time(8, 15))
        for sku, held in lots.items():
            for lot in held:
                if lot.quantity and lot.expires_on is not None and lot.expires_on < day:
                    plan.events.append(WriteOff(morning, sku, lot.code, lot.quantity,
                                                "expired", "Expired on the shelf"))
                    lot.quantity = 0
        if day in restock_days:
            delivery = datetime.combine(day, time(8, 30))
            for sku, (point, batch) in REORDER.items():
                level = sum(lot.quantity for lot in lots[sku])
                if sku == LATE_SKU and day >= tail_day:
                    if day == tail_day:
                        _short_delivery(plan, lots[sku], delivery, sku,
                                        point - LATE_SKU_END_BELOW_POINT + needed(
                                            sku, day, (plan.last_day - day).days + 1) - level)
                    continue
                # Cover the days until the next delivery (at most 9 away) above the point,
                # with what will not have expired by then.
                level = sum(lot.quantity for lot in lots[sku] if lot.expires_on is None
                            or lot.expires_on >= day + timedelta(days=9))
                if level - needed(sku, day, 9) > point:
                    continue
                short = point + 1 + needed(sku, day, 14) - level
                quantity = batch * max(1, math.ceil(short / batch))
                _receive(plan, lots[sku], delivery, sku, quantity)
            plan.events.append(CheckExpiry(datetime.combine(day, time(8, 45))))
        for sku, quantity in demand.get(day, {}).items():
            _take(lots[sku], quantity, day, sku)
    # The year ends with nothing expired on the shelf: what expires before today goes
    # after the last day's work.
    evening = datetime.combine(open_days[-1], time(18, 30))
    for sku, held in lots.items():
        for lot in held:
            if lot.quantity and lot.expires_on is not None and lot.expires_on <= plan.last_day:
                plan.events.append(WriteOff(evening, sku, lot.code, lot.quantity, "expired",
                                            "Expires before the next open day"))


def _receive(plan: Plan, lots: list[_Lot], at: datetime, sku: str, quantity: int) -> None:
    prefix, shelf_life = LOT_PREFIX[sku], SHELF_LIFE_DAYS[sku]
    code = None if prefix is None else f"{prefix}{at:%y%m%d}"
    expires_on = None if shelf_life is None else at.date() + timedelta(days=shelf_life)
    existing = [lot for lot in lots if lot.code == code]
    if existing:
        existing[0].quantity += quantity
    else:
        lots.append(_Lot(code, expires_on, quantity))
    plan.events.append(Receive(at, sku, code, expires_on, quantity))


def _short_delivery(plan: Plan, lots: list[_Lot], at: datetime, sku: str,
                    change: int) -> None:
    """The last delivery before the end: only `change` units (a crushed carton written off
    when there were more on the shelf than the rest of the year needs)."""
    if change > 0:
        _receive(plan, lots, at, sku, change)
        return
    excess = -change
    for lot in reversed(lots):
        take = min(lot.quantity, excess)
        if take:
            plan.events.append(WriteOff(at, sku, lot.code, take, "damaged",
                                        "Carton crushed in delivery"))
            lot.quantity -= take
            excess -= take


def _take(lots: list[_Lot], quantity: int, day: date, sku: str) -> None:
    """Soonest expiry first, never an expired lot: what the ledger will do."""
    usable = sorted((lot for lot in lots if lot.expires_on is None or lot.expires_on >= day),
                    key=lambda lot: lot.expires_on or date.max)
    for lot in usable:
        take = min(lot.quantity, quantity)
        lot.quantity -= take
        quantity -= take
    if quantity:
        raise AssertionError(f"the plan runs short of {sku} on {day}")
