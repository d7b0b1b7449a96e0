"""The limits every input is held to, each defined once.

The API's models, the page forms, the pricing rules and the id checks all read them from
here, so the OpenAPI document, the pages and the database cannot disagree.
"""
from __future__ import annotations

from datetime import date

MAX_AMOUNT_CENTS = 10_000_000_000
"""100 million dollars: any amount above this, typed or computed, is refused."""

MAX_QUANTITY = 1_000_000
"""The most units of anything in one line, receipt or adjustment."""

MAX_INT_COLUMN = 2**31 - 1
"""The largest value of an INTEGER column (32-bit on PostgreSQL)."""

MAX_ID = MAX_INT_COLUMN
"""Ids are INTEGER columns: a larger id cannot exist, so it is simply not found (404)."""

MAX_STORED_COUNT = MAX_INT_COLUMN
"""Counts (on hand, quantities) are INTEGER columns; money is BIGINT and uses MAX_AMOUNT_CENTS."""

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)
"""Dates outside these are typing mistakes; keeping well inside Python's year 9999 also means
adding a wait of days or months to a date can never overflow."""

MAX_JSON_DEPTH = 32
"""Deeper JSON is refused before anything walks it (no request body here nests past 4)."""
