"""The demo year's deliveries: a stock policy that sees the demand the plan has fixed.

Every week each item is topped up to cover the next two weeks above its reorder point, so
the seeding never runs short and raises no low-stock alert in the past year; lots that
expire on the shelf are written off. Except the growth-factor masks: their last delivery
is short (or a crushed carton is written off), so they end the year just below their
reorder point and the year's own sessions raise the low-stock alert.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pos.seed.catalog import BUNDLE_SKU, LOT_PREFIX, REORDER, SESSION_SUPPLIES, SHELF_LIFE_DAYS
from pos.seed.events import CheckExpiry, Plan, Receive, Sell, Treat, WriteOff

LATE_SKU = "GF-MASK"  # the item whose last delivery falls short
LATE_SKU_END_BELOW_POINT = 3
TAIL_DAYS = 24  # the short delivery comes on the first restock day this close to the end


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


def plan_deliveries(plan: Plan, open_days: list[date]) -> None:
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
