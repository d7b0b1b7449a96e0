"""Small SQL helpers the report's queries share."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, select

from pos.models import Sale


def in_window(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def sum_or_zero(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def zero() -> Any:
    # Inlined, so both branches of the UNION have a typed integer (PostgreSQL cannot
    # guess the type of a bare parameter there).
    return literal_column("0")



def id_span(id_column: Any, at_column: Any, start: datetime,
            end: datetime) -> tuple[Any, Any]:
    """The lowest and highest id of the rows whose `at_column` is in [start, end), as
    scalar subqueries.

    Ids grow with time and a sale is paid (a treatment recorded) within minutes of its
    row being written, so a window's rows hold a narrow span of ids: a condition
    `sale_id BETWEEN low AND high`, redundant beside a join on the window's rows (it
    cannot change a figure), lets their lines be read by an index range that follows
    the window, not a scan of the whole history. A row dated long after or before it was
    written (a late reconciliation, a back-dated treatment) only widens its window's span.
    `id + 0`: read the window by its time index; a bare min(id) would walk the id order
    from the first row ever until one falls in the window.
    """
    def bound(aggregate: Any) -> Any:
        return (select(aggregate(id_column + 0)).where(in_window(at_column, start, end))
                .scalar_subquery())

    return bound(func.min), bound(func.max)


def sale_id_span(start: datetime, end: datetime) -> tuple[Any, Any]:
    """The span of ids of the sales paid in [start, end) (see id_span)."""
    return id_span(Sale.id, Sale.paid_at, start, end)
