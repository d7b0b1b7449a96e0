"""Small SQL helpers the report's queries share."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column


def in_window(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def sum_or_zero(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def zero() -> Any:
    # Inlined, so both branches of the UNION have a typed integer (PostgreSQL cannot
    # guess the type of a bare parameter there).
    return literal_column("0")

