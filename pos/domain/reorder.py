"""Reorder rules: days of cover and how much to order, as functions of figures.

The stock these rules are given is what is on the shelf (on_hand): a card checkout's hold
is not stock gone, so it never makes an item look short (second-wave amendment)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Movements that take stock away for good: what "consumption" means for days of cover.
# Counts, "other" corrections and refunds are bookkeeping, not use.
OUTGOING_REASONS = ("sale", "treatment", "first_visit_bundle", "damaged", "expired", "lost")
COVER_WINDOW_DAYS = 30
# Expected treatments are counted over the next 14 days (a manager's figure per package).
BOOKING_HORIZON_DAYS = 14
MAX_EXPECTED_TREATMENTS = 10_000


def days_of_cover(available: int, used_in_window: int,
                  window_days: int = COVER_WINDOW_DAYS) -> int | None:
    """Whole days the available stock lasts at the window's rate; None when nothing was used."""
    if used_in_window <= 0:
        return None
    return max(available, 0) * window_days // used_in_window


def suggested_order_quantity(reorder_quantity: int, available: int, used_in_window: int,
                             cover_days: int, window_days: int = COVER_WINDOW_DAYS) -> int:
    """The usual reorder quantity, or more when that would not last `cover_days`.

    Enough for `cover_days` at the window's rate, rounded up (never order a fraction short),
    minus what is still available.
    """
    needed_for_cover = -(-max(used_in_window, 0) * cover_days // window_days)
    return max(reorder_quantity, needed_for_cover - max(available, 0), 0)


class ReorderBasis(StrEnum):
    """Where a reorder figure came from: the last 30 days of use, or the expected
    treatments' bills of materials."""

    USAGE = "usage"
    BOOKINGS = "bookings"


def scaled_up(quantity: int, over_days: int, to_days: int) -> int:
    """`quantity` seen over `over_days`, at the same rate over `to_days`, rounded up."""
    return -(-max(quantity, 0) * max(to_days, 0) // over_days)


@dataclass(frozen=True)
class ExpectedUse:
    quantity: int  # units expected to leave over the horizon
    basis: ReorderBasis


def expected_use(used_in_window: int, booked_use: int, horizon_days: int,
                 window_days: int = COVER_WINDOW_DAYS,
                 booking_days: int = BOOKING_HORIZON_DAYS) -> ExpectedUse:
    """Units expected to leave over `horizon_days`: the larger of two rates.

    - usage: the last `window_days` of use (sales, treatments, losses) at the same rate;
    - bookings: what the expected treatments of the next `booking_days` consume (their
      bills of materials x the count), at the same rate over the horizon.
    The larger wins because either alone can be short: past use misses a busy fortnight
    ahead; bookings miss retail sales, walk-ins and waste. Adding them would count the
    booked treatments twice (past treatments are in the usage). A tie stays `usage`, so an
    item without bookings keeps exactly its old figure.
    """
    by_usage = scaled_up(used_in_window, window_days, horizon_days)
    by_bookings = scaled_up(booked_use, booking_days, horizon_days)
    if by_bookings > by_usage:
        return ExpectedUse(by_bookings, ReorderBasis.BOOKINGS)
    return ExpectedUse(by_usage, ReorderBasis.USAGE)


def order_for_expected_use(reorder_quantity: int, on_hand: int, expected: int) -> int:
    """The usual reorder quantity, or what the expected use needs beyond what is on hand."""
    return max(reorder_quantity, expected - max(on_hand, 0), 0)


def days_of_cover_from(on_hand: int, used_in_window: int, booked_use: int,
                       window_days: int = COVER_WINDOW_DAYS,
                       booking_days: int = BOOKING_HORIZON_DAYS) -> int | None:
    """Whole days the stock lasts at the faster of the two rates (None: neither uses any)."""
    by_usage = days_of_cover(on_hand, used_in_window, window_days)
    by_bookings = days_of_cover(on_hand, booked_use, booking_days)
    known = [d for d in (by_usage, by_bookings) if d is not None]
    return min(known) if known else None


def falls_to_reorder_point_within_lead_time(on_hand: int, on_order: int, reorder_point: int,
                                            used_in_window: int, booked_use: int,
                                            lead_time_days: int) -> bool:
    """An item above its reorder point that the expected treatments will take to it (or
    below) before an order placed today could arrive.

    Only bookings bring an item forward: an item without them is listed, as before, once it
    is at its reorder point (booked_use 0 -> False). What is on order counts as arriving
    within the lead time (it was ordered earlier); the use over the lead time is the larger
    of the two rates, as for the suggestion.
    """
    if booked_use <= 0:
        return False
    use = expected_use(used_in_window, booked_use, lead_time_days).quantity
    return on_hand + max(on_order, 0) - use <= reorder_point


def retry_delay_seconds(failed_attempts_before: int, base: int = 30, cap: int = 3600) -> int:
    """Exponential backoff for a failed delivery: 30 s, 60 s, 120 s ... at most an hour."""
    if failed_attempts_before >= 12:  # 30 * 2**7 already exceeds the cap; avoid huge ints
        return cap
    return min(base * 2 ** max(failed_attempts_before, 0), cap)
