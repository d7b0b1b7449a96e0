"""`monthly_report`: every figure of one clinic month, assembled from the queries."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from pos.domain.reporting import Month, day_starts_utc, month_bounds
from pos.services import clock
from pos.services.reports.credit import credit_figures
from pos.services.reports.facts import (
    group_rows,
    item_rows,
    location_rows,
    names_of,
    sales_figures,
    staff_rows,
)
from pos.services.reports.gift_card_liability import gift_card_liability
from pos.services.reports.liability import package_liability
from pos.services.reports.shapes import (
    CATEGORIES,
    PAYMENT_METHODS,
    Comparison,
    DayRow,
    Figures,
    MonthlyReport,
    Packages,
)
from pos.services.reports.supplies import supplies_of
from pos.services.reports.tenders import tenders_of


def clinic_timezone() -> ZoneInfo:
    return clock.clinic_zone()


def _room_to_sort_in_memory(session: Session) -> None:
    """PostgreSQL sorts the month's lines once per breakdown (each counts distinct sales);
    at the default 4 MB of work_mem a busy month's sorts spill to disk. SET LOCAL lasts
    until the end of this transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '16MB'"))


def monthly_report(session: Session, year: int, month: int, tz: ZoneInfo | None = None,
                   now: datetime | None = None) -> MonthlyReport:
    """Every figure of one clinic month (see the package docstring).

    It reads, except that it stores the package liability at the month's boundaries
    once they are past (`now`, the clinic's clock by default), in a short transaction of
    its own, so the next reports start from there.
    """
    tz = tz or clinic_timezone()
    m = Month(year, month)
    start, end = month_bounds(year, month, tz)
    # First, since storing a snapshot commits the session's transaction.
    sessions_performed, liability = package_liability(session, start, end,
                                                      now or clock.now())
    _room_to_sort_in_memory(session)
    others = (m.previous, m.same_month_last_year)
    windows = [(start, end), *(month_bounds(o.year, o.month, tz) for o in others)]
    sales = sales_figures(session, windows, day_starts_utc(m, tz))
    totals = sales.totals[0]
    names = names_of(session, sales)
    return MonthlyReport(
        month=m, timezone=tz.key, start=start, end=end,
        totals=totals,
        by_item=item_rows(names, sales.by_item),
        by_category=group_rows(sales.by_category, CATEGORIES),
        by_payment_method=group_rows(sales.by_payment_method, PAYMENT_METHODS),
        by_staff=staff_rows(names, sales.by_staff),
        by_day=tuple(DayRow(d, f.sales_cents, f.refund_cents) for d, f in (
            (d, sales.by_day.get(i, Figures())) for i, d in enumerate(m.days))),
        packages=Packages(totals.sessions_sold, sessions_performed, totals.sessions_refunded,
                          liability),
        supplies=supplies_of(session, start, end, sessions_performed),
        previous_month=Comparison(others[0], sales.totals[1]),
        same_month_last_year=Comparison(others[1], sales.totals[2]),
        credit=credit_figures(session, start, end),
        tenders=tenders_of(session, start, end),
        by_location=location_rows(session, sales.by_location),
        gift_cards=gift_card_liability(session, start, end),
    )
