"""The demo clinic's past year as a plan: who came when, what they bought, when each
session of a series was performed, what was refunded, and when stock arrived.

Pure (no database, no clock): `plan_history(today)` draws everything from one
`random.Random(SEED)`, so a given day always gives the same year. Times are the clinic's
wall-clock times (naive); pos/seed/history.py plays the plan through the services.

The deliveries come last (pos/seed/deliveries.py): they see the demand fixed here, so the
seeding never runs short. The events are in pos/seed/events.py (re-exported here).
"""
from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from pos.seed.catalog import (
    FIRST_NAMES,
    LAST_NAMES,
    MIN_DAYS_BETWEEN,
    PACKAGE_AREA,
    PACKAGE_SESSIONS,
    RETAIL_SKUS,
)
from pos.seed.deliveries import LATE_SKU, LATE_SKU_END_BELOW_POINT, plan_deliveries
from pos.seed.events import (
    CheckExpiry,
    Event,
    Line,
    NewClient,
    Plan,
    Receive,
    Refund,
    Sell,
    Treat,
    WriteOff,
)

__all__ = ["LATE_SKU", "LATE_SKU_END_BELOW_POINT", "SEED", "CheckExpiry", "Event", "Line",
           "NewClient", "Plan", "Receive", "Refund", "Sell", "Treat", "WriteOff", "is_open",
           "next_open_day", "plan_history"]

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
CLOSED_DATES = ((1, 1), (7, 4), (12, 25))  # besides Sundays


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
    plan_deliveries(plan, open_days)
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
