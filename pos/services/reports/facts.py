"""The month's sales and refunds by every breakdown: one statement over the line facts.

The month's sale lines and refund lines (`_line_facts`) are read once as a CTE, then a
UNION ALL of one GROUP BY per breakdown (totals of each window, items, categories,
payment methods, staff, days) returns only the grouped rows; a second statement fetches
the names of the items, packages and staff those rows mention.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    case,
    cast,
    distinct,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from pos.domain.statuses import COUNTED_REFUND_STATUSES, COUNTED_SALE_STATUSES
from pos.models import Item, Location, Package, Refund, RefundLine, Sale, SaleLine, User
from pos.models.sales import GIFT_CARD_CATEGORY
from pos.services.reports._sql import in_window, sale_id_span, sum_or_zero, zero
from pos.services.reports.shapes import Figures, GroupRow, ItemRow


def _window(column: Any, windows: list[tuple[datetime, datetime]]) -> tuple[Any, Any]:
    """(which window a timestamp falls in, the filter: in any of them)."""
    which = case(*[(in_window(column, s, e), i) for i, (s, e) in enumerate(windows)], else_=-1)
    return which, or_(*[in_window(column, s, e) for s, e in windows])


def _sale_id_ranges(windows: list[tuple[datetime, datetime]]) -> Any:
    """The windows' sale lines by their spans of sale ids (see sale_id_span): redundant
    with the join, it reads the month's lines by a range of ix_sale_lines_sale_id instead
    of a scan of every line ever sold."""
    return or_(*[SaleLine.sale_id.between(*sale_id_span(start, end))
                 for start, end in windows])


def _line_facts(windows: list[tuple[datetime, datetime]]) -> Any:
    """One row per sale line paid in a window and per refund line made in one, tagged
    with the window's index `w`.

    Every sales figure (totals, items, categories, payment methods, staff, days, and the
    comparison months' totals) is a GROUP BY over this one shape, so they all add up.
    """
    sold_w, sold_in = _window(Sale.paid_at, windows)
    sold = (
        select(
            sold_w.label("w"),
            SaleLine.category.label("category"),
            SaleLine.item_id.label("item_id"),
            SaleLine.package_id.label("package_id"),
            Sale.payment_method.label("method"),
            Sale.sold_by_id.label("staff_id"),
            Sale.location_id.label("location_id"),
            Sale.id.label("sale_id"),
            Sale.paid_at.label("at"),
            SaleLine.quantity.label("quantity"),
            SaleLine.subtotal_cents.label("gross"),
            SaleLine.discount_cents.label("discount"),
            SaleLine.tax_cents.label("tax"),
            zero().label("refund"),
            zero().label("refund_tax"),
            zero().label("refunded_quantity"),
            (SaleLine.quantity * func.coalesce(Package.sessions, 0)).label("sessions"),
            zero().label("refunded_sessions"),
        )
        .select_from(SaleLine)
        .join(Sale, Sale.id == SaleLine.sale_id)
        .outerjoin(Package, Package.id == SaleLine.package_id)
        .where(sold_in, _sale_id_ranges(windows), Sale.status.in_(COUNTED_SALE_STATUSES),
               # A gift card sold is a liability (gift_card_liability.py), not a sale.
               SaleLine.category != GIFT_CARD_CATEGORY)
    )
    refund_w, refund_in = _window(Refund.created_at, windows)
    refunded = (
        select(
            refund_w, SaleLine.category, SaleLine.item_id, SaleLine.package_id, Refund.method,
            Sale.sold_by_id, Refund.location_id, literal_column("NULL"), Refund.created_at,
            zero(), zero(), zero(), zero(),
            RefundLine.net_cents, RefundLine.tax_cents, RefundLine.quantity,
            zero(), RefundLine.quantity * func.coalesce(Package.sessions, 0)
            + func.coalesce(RefundLine.sessions, 0),
        )
        .select_from(RefundLine)
        .join(Refund, Refund.id == RefundLine.refund_id)
        .join(SaleLine, SaleLine.id == RefundLine.sale_line_id)
        .join(Sale, Sale.id == SaleLine.sale_id)
        .outerjoin(Package, Package.id == SaleLine.package_id)
        # A voided sale's refunds go with it: neither the sale nor they happened.
        .where(refund_in, Refund.status.in_(COUNTED_REFUND_STATUSES),
               Sale.status.in_(COUNTED_SALE_STATUSES), SaleLine.category != GIFT_CARD_CATEGORY)
    )
    return sold.union_all(refunded).cte("facts")


def _figure_columns(facts: Any) -> list[Any]:
    return [
        sum_or_zero(facts.c.quantity), sum_or_zero(facts.c.gross), sum_or_zero(facts.c.discount),
        sum_or_zero(facts.c.tax), sum_or_zero(facts.c.refund), sum_or_zero(facts.c.refund_tax),
        sum_or_zero(facts.c.refunded_quantity), func.count(distinct(facts.c.sale_id)),
        sum_or_zero(facts.c.sessions), sum_or_zero(facts.c.refunded_sessions),
    ]


def _figures(values: Any) -> Figures:
    return Figures(*(int(v or 0) for v in values))


# The keys each breakdown groups by; a UNION ALL of one GROUP BY per breakdown reads the
# facts once. Unused key columns are typed NULLs so every branch has the same shape.
_KEY_COLUMNS = (("w", Integer), ("category", String), ("item_id", Integer),
                ("package_id", Integer), ("method", String), ("staff_id", Integer),
                ("day", Integer), ("location_id", Integer))


@dataclass(frozen=True)
class SalesFigures:
    totals: list[Figures]  # one per window
    by_item: list[tuple[str, int | None, int | None, Figures]]
    by_category: dict[str, Figures]
    by_payment_method: dict[str, Figures]
    by_staff: dict[int | None, Figures]
    by_day: dict[int, Figures]
    by_location: dict[int, Figures]


def sales_figures(session: Session, windows: list[tuple[datetime, datetime]],
                   day_starts: list[datetime] | None = None) -> SalesFigures:
    """The sales and refund figures of windows[0] by every breakdown, and the totals of
    every window, in one statement."""
    facts = _line_facts(windows)
    day_starts = day_starts or [windows[0][0]]
    # The clinic day of a UTC timestamp, by comparing it with each day's UTC start
    # (plain comparisons: no time-zone function per row).
    day = case(*[(facts.c.at < bound, i) for i, bound in enumerate(day_starts[1:])],
               else_=len(day_starts) - 1)
    available = {"w": facts.c.w, "category": facts.c.category, "item_id": facts.c.item_id,
                 "package_id": facts.c.package_id, "method": facts.c.method,
                 "staff_id": facts.c.staff_id, "day": day, "location_id": facts.c.location_id}

    def branch(kind: str, keys: tuple[str, ...], month_only: bool = True,
               figures: list[Any] | None = None) -> Select[Any]:
        columns = [literal_column(f"'{kind}'").label("kind")]
        for name, type_ in _KEY_COLUMNS:
            column = available[name] if name in keys else cast(null(), type_)
            columns.append(column.label(name))
        stmt = select(*columns, *(figures or _figure_columns(facts)))
        if month_only:
            stmt = stmt.where(facts.c.w == 0)
        return stmt.group_by(*(available[k] for k in keys))

    statement = union_all(
        branch("totals", ("w",), month_only=False),
        branch("item", ("category", "item_id", "package_id")),
        branch("category", ("category",)),
        branch("method", ("method",)),
        branch("staff", ("staff_id",)),
        branch("location", ("location_id",)),
        # A day shows only its sales (gross - discount) and refunds: the other figures
        # stay zero, which spares a count of distinct sales per day.
        branch("day", ("day",), figures=[
            zero(), sum_or_zero(facts.c.gross), sum_or_zero(facts.c.discount), zero(),
            sum_or_zero(facts.c.refund), zero(), zero(), zero(), zero(), zero()]),
    )
    out = SalesFigures([Figures() for _ in windows], [], {}, {}, {}, {}, {})
    for row in session.execute(statement):
        kind, w, category, item_id, package_id, method, staff_id, day_index, place = row[:9]
        figures = _figures(row[9:])
        if kind == "totals":
            out.totals[int(w)] = figures
        elif kind == "item":
            out.by_item.append((category, item_id, package_id, figures))
        elif kind == "category":
            out.by_category[category] = figures
        elif kind == "method":
            out.by_payment_method[method] = figures
        elif kind == "staff":
            out.by_staff[staff_id] = figures
        elif kind == "location":
            out.by_location[place] = figures
        else:
            out.by_day[int(day_index)] = figures
    return out


def month_totals(session: Session, start: datetime, end: datetime) -> Figures:
    """The totals of one window alone (the benchmark compares it with hand-written SQL)."""
    facts = _line_facts([(start, end)])
    return _figures(session.execute(select(*_figure_columns(facts))).one())


@dataclass(frozen=True)
class Names:
    items: dict[int, tuple[str, str]]  # id -> (sku, name)
    packages: dict[int, tuple[str, str]]  # id -> (code, name)
    users: dict[int, str]  # id -> name


def names_of(session: Session, sales: SalesFigures) -> Names:
    """The names of the items, packages and staff in the month's rows: one statement."""
    item_ids = {i for _, i, _, _ in sales.by_item if i is not None}
    package_ids = {p for _, _, p, _ in sales.by_item if p is not None}
    user_ids = {u for u in sales.by_staff if u is not None}
    branches = []
    if item_ids:
        branches.append(select(literal_column("'item'"), Item.id, Item.sku, Item.name)
                        .where(Item.id.in_(item_ids)))
    if package_ids:
        branches.append(select(literal_column("'package'"), Package.id, Package.code,
                               Package.name).where(Package.id.in_(package_ids)))
    if user_ids:
        branches.append(select(literal_column("'user'"), User.id, cast(null(), String),
                               User.name).where(User.id.in_(user_ids)))
    names = Names({}, {}, {})
    if not branches:
        return names
    for kind, id_, code, name in session.execute(union_all(*branches)):
        if kind == "item":
            names.items[id_] = (code, name)
        elif kind == "package":
            names.packages[id_] = (code, name)
        else:
            names.users[id_] = name
    return names


def item_rows(names: Names, found: list[tuple[str, int | None, int | None, Figures]]
               ) -> tuple[ItemRow, ...]:
    rows = []
    for category, item_id, package_id, figures in found:
        if item_id is not None:
            sku, name = names.items.get(item_id, (f"item-{item_id}", ""))
            rows.append(ItemRow(category, sku, None, name, figures))
        else:
            code, name = names.packages.get(package_id, (f"package-{package_id}", ""))
            rows.append(ItemRow(category, None, code, name, figures))
    return tuple(sorted(rows, key=lambda r: (-r.figures.net_cents, r.category, r.code)))


def group_rows(found: dict[str, Figures], always: tuple[str, ...]) -> tuple[GroupRow, ...]:
    keys = [*always, *sorted(k for k in found if k not in always)]
    return tuple(GroupRow(k, k.replace("_", " ").capitalize(), found.get(k, Figures()))
                 for k in keys)


def location_rows(session: Session, found: dict[int, Figures]) -> tuple[GroupRow, ...]:
    """Every location (the clinic's first first), with its sales and refunds: the rows
    add up to the totals (a sale and its refunds belong to the sale's location)."""
    places = session.execute(select(Location.id, Location.name).order_by(Location.id)).all()
    return tuple(GroupRow(str(place_id), name, found.get(place_id, Figures()))
                 for place_id, name in places)


def staff_rows(names: Names, found: dict[int | None, Figures]) -> tuple[GroupRow, ...]:
    rows = [GroupRow("" if staff_id is None else str(staff_id),
                     names.users.get(staff_id, "Unknown") if staff_id is not None else "Unknown",
                     figures) for staff_id, figures in found.items()]
    return tuple(sorted(rows, key=lambda r: (-r.figures.net_cents, r.label, r.key)))
