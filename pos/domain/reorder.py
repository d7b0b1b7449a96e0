"""Reorder rules: days of cover and how much to order, as functions of figures.

The stock these rules are given is what is on the shelf (on_hand): a card checkout's hold
is not stock gone, so it never makes an item look short (second-wave amendment)."""
from __future__ import annotations

# Movements that take stock away for good: what "consumption" means for days of cover.
# Counts, "other" corrections and refunds are bookkeeping, not use.
OUTGOING_REASONS = ("sale", "treatment", "first_visit_bundle", "damaged", "expired", "lost")
COVER_WINDOW_DAYS = 30


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


def retry_delay_seconds(failed_attempts_before: int, base: int = 30, cap: int = 3600) -> int:
    """Exponential backoff for a failed delivery: 30 s, 60 s, 120 s ... at most an hour."""
    if failed_attempts_before >= 12:  # 30 * 2**7 already exceeds the cap; avoid huge ints
        return cap
    return min(base * 2 ** max(failed_attempts_before, 0), cap)
