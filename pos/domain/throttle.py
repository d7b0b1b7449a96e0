"""Sign-in throttling rules: how long an account waits after too many failures.

Pure arithmetic; pos/services/throttle.py keeps the counters in the database.
"""
from __future__ import annotations

# The first wait once an account reaches its limit; each further failure doubles it, up
# to the cap (1, 2, 4, 8 min, then 15 min).
FIRST_BACKOFF_SECONDS = 60
MAX_BACKOFF_SECONDS = 15 * 60


def backoff_seconds(failures: int, max_failures: int) -> int:
    """How long to wait after the `failures`-th failure in a window (0: no wait yet)."""
    if failures < max_failures:
        return 0
    doublings = min(failures - max_failures, 10)  # 2**10 minutes is past any cap
    return min(FIRST_BACKOFF_SECONDS * 2 ** doublings, MAX_BACKOFF_SECONDS)
