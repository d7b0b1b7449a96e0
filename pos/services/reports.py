"""The monthly report: exact figures in integer cents, computed by the database.

Definitions (the accountants' rules; the page, the CSV, the API and the email all render
the one `MonthlyReport` that `monthly_report()` returns, so they cannot disagree):

- **Month**: the clinic's month in CLINIC_TIMEZONE. Its UTC bounds [start, end) are
  computed in Python (`pos.domain.reporting.month_bounds`) and compared with the stored
  UTC timestamps, so the indexes on paid_at, created_at, performed_at and at are used
  and no time-zone function runs per row. Days of the month are clinic days too.
- **Sales counted**: a sale counts in the month it was PAID (`paid_at`), whatever month
  it was started in, if its status is `paid` (or a later refunded state); sales that are
  awaiting payment, expired, failed or void never count.
- **gross_cents**: sum of the counted sales' line subtotals (quantity x unit price,
  before discount, tax excluded). **discount_cents**, **tax_cents**: the same lines'
  discounts and tax. Totals are sums of lines, so every breakdown adds up to them.
- **refund_cents**: refunds CREATED in the month (a refund counts in the month it was
  made, not the month of its sale), status `succeeded` or `pending` (a pending card
  refund has been promised to the client; a `failed` one gave nothing back), tax
  excluded: the sum of their refund lines' net_cents. **refund_tax_cents**: their tax.
- **net_cents** = gross - discount - refund. **sales_count**: counted sales paid in the
  month. **average_sale_cents**: (gross - discount) / sales_count, rounded half up.
- **by_item**: one row per item (sku) or package (package_code): quantity sold in the
  month, gross, discount, refunds made in the month on that item's lines (whenever they
  were sold) and net = gross - discount - refunds. The rows add up to the totals.
- **by_category** (package, retail, bundle; supply only if ever sold), **by_payment_method**
  (card, cash: a sale by its payment method, a refund by the method it was paid back
  with) and **by_staff** (the staff member who made the sale; a refund counts against
  the seller of the refunded sale) are the same figures grouped differently.
- **by_day**: per clinic day, sales (gross - discount of the sales paid that day),
  refunds made that day, and net; the days add up to the month.
- **sessions_sold**: package lines' quantity x the package's sessions, for sales paid in
  the month. **sessions_performed**: treatments performed in the month that are not
  voided. **sessions_refunded**: package lines' refunded quantity x sessions, refunds made
  in the month.
- **Package liability** (value of sessions paid for and not yet performed or refunded):
  opening (at the month's start) + sold (value_cents of the purchases whose sale was paid
  in the month) - performed (value of the sessions performed in the month; a purchase's
  value is spread over its sessions with the cumulative-floor rule, so its k-th session
  is worth V*k//N - V*(k-1)//N and its first n sessions V*n//N) - refunded (net amount
  of the refunds made in the month on package lines: sessions already used cannot be
  refunded, so that is the value of the unused sessions given back) = closing. The
  opening is the same cumulative figure taken at the month's start, so one month's
  closing is the next month's opening. package_liability_cents = closing. A voided
  treatment never counts: its session is unused again.
- **Supplies**: per item, the quantity consumed by the month's non-voided treatments and
  its cost from the lots actually used (treatment_supplies.unit_cost_cents, the lot's
  cost at receipt); cost per treatment = that cost / sessions_performed, rounded half up.
  **Write-offs**: stock movements of the month with reason damaged, expired or lost,
  quantity and cost at the lot's unit cost, by reason and item.
- **previous_month** and **same_month_last_year**: the same totals for those months, with
  the change (current - other, and in basis points of the other when it is not zero).

Every figure is a SQL aggregate (SUM/COUNT ... GROUP BY in the database); only the
grouped rows come back to Python. Integer cents throughout: SUM results are cast to int.
The sales figures of the month (every breakdown) and the comparison months' totals come
from ONE statement: the month's sale lines and refund lines (`_line_facts`) read once
as a CTE, then a UNION ALL of one GROUP BY per breakdown. The time filters use the
existing indexes ix_sales_paid_at, ix_refunds_created_at, ix_treatments_performed_at
and ix_stock_movements_at. The liability's opening is cumulative, so it reads all
package history before the month, in one aggregate over the purchases (value sold, and
value of the sessions performed: value * n // total per purchase, in SQL) that reads the
package lines alone and looks sales up index-only (ix_sale_lines_package_lines,
ix_sales_id_paid_at_status, ix_package_purchases_sale_line_value). A report is four
statements: the sales figures, the packages (liability and sessions performed), the
supplies (consumed and written off), and the names of the items, packages and staff
(bench/report_bench.py measures it on a busy year).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.money import format_cents
from pos.domain.reporting import (
    Month,
    change_bp,
    day_starts_utc,
    format_change_bp,
    month_bounds,
    rounded_ratio,
)
from pos.models import (
    Item,
    Lot,
    OutboxMessage,
    Package,
    PackagePurchase,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    StockMovement,
    Treatment,
    TreatmentSupply,
    User,
)

# "paid or later refunded": the statuses of a sale whose money was taken.
COUNTED_SALE_STATUSES = ("paid", "refunded", "partially_refunded")
COUNTED_REFUND_STATUSES = ("succeeded", "pending")
WRITE_OFF_REASONS = ("damaged", "expired", "lost")
CATEGORIES = ("package", "retail", "bundle")
PAYMENT_METHODS = ("card", "cash")


# ---------------------------------------------------------------- the report's shape

@dataclass(frozen=True)
class Figures:
    """Sales and refunds of one slice of a month (the whole month, a category, an item...)."""

    quantity: int = 0
    gross_cents: int = 0
    discount_cents: int = 0
    tax_cents: int = 0
    refund_cents: int = 0
    refund_tax_cents: int = 0
    refunded_quantity: int = 0
    sales_count: int = 0
    # Package lines' quantity x the package's sessions: sold, and refunded.
    sessions_sold: int = 0
    sessions_refunded: int = 0

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.discount_cents - self.refund_cents

    @property
    def sales_cents(self) -> int:
        """What the month's sales brought in, tax and refunds excluded."""
        return self.gross_cents - self.discount_cents

    @property
    def average_sale_cents(self) -> int:
        return rounded_ratio(self.sales_cents, self.sales_count)


TOTAL_FIELDS = ("gross_cents", "discount_cents", "tax_cents", "refund_cents",
                "refund_tax_cents", "net_cents", "sales_count", "average_sale_cents")


@dataclass(frozen=True)
class ItemRow:
    category: str
    sku: str | None
    package_code: str | None
    name: str
    figures: Figures

    @property
    def code(self) -> str:
        return self.sku or self.package_code or ""


@dataclass(frozen=True)
class GroupRow:
    key: str
    label: str
    figures: Figures


@dataclass(frozen=True)
class DayRow:
    day: date
    sales_cents: int
    refund_cents: int

    @property
    def net_cents(self) -> int:
        return self.sales_cents - self.refund_cents


@dataclass(frozen=True)
class Liability:
    opening_cents: int
    sold_cents: int
    performed_cents: int
    refunded_cents: int

    @property
    def closing_cents(self) -> int:
        return self.opening_cents + self.sold_cents - self.performed_cents - self.refunded_cents


@dataclass(frozen=True)
class Packages:
    sessions_sold: int
    sessions_performed: int
    sessions_refunded: int
    liability: Liability


@dataclass(frozen=True)
class SupplyRow:
    sku: str
    name: str
    quantity: int
    cost_cents: int


@dataclass(frozen=True)
class WriteOffRow:
    reason: str
    sku: str
    name: str
    quantity: int
    cost_cents: int


@dataclass(frozen=True)
class Supplies:
    consumed: tuple[SupplyRow, ...]
    treatments: int
    write_offs: tuple[WriteOffRow, ...]

    @property
    def cost_cents(self) -> int:
        return sum(row.cost_cents for row in self.consumed)

    @property
    def cost_per_treatment_cents(self) -> int:
        return rounded_ratio(self.cost_cents, self.treatments)

    @property
    def write_offs_by_reason(self) -> dict[str, tuple[int, int]]:
        """reason -> (quantity, cost_cents), every write-off reason present."""
        out = {reason: (0, 0) for reason in WRITE_OFF_REASONS}
        for row in self.write_offs:
            quantity, cost = out.get(row.reason, (0, 0))
            out[row.reason] = (quantity + row.quantity, cost + row.cost_cents)
        return out


@dataclass(frozen=True)
class Comparison:
    month: Month
    totals: Figures

    def change(self, current: Figures, field: str) -> tuple[int, int | None]:
        now, before = getattr(current, field), getattr(self.totals, field)
        return now - before, change_bp(now, before)


@dataclass(frozen=True)
class MonthlyReport:
    month: Month
    timezone: str
    start: datetime
    end: datetime
    totals: Figures
    by_item: tuple[ItemRow, ...]
    by_category: tuple[GroupRow, ...]
    by_payment_method: tuple[GroupRow, ...]
    by_staff: tuple[GroupRow, ...]
    by_day: tuple[DayRow, ...]
    packages: Packages
    supplies: Supplies
    previous_month: Comparison
    same_month_last_year: Comparison

    @property
    def comparisons(self) -> tuple[Comparison, Comparison]:
        return self.previous_month, self.same_month_last_year


# ---------------------------------------------------------------- queries

def _in(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _sum(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def _zero() -> Any:
    # Inlined, so both branches of the UNION have a typed integer (PostgreSQL cannot
    # guess the type of a bare parameter there).
    return literal_column("0")


def _window(column: Any, windows: list[tuple[datetime, datetime]]) -> tuple[Any, Any]:
    """(which window a timestamp falls in, the filter: in any of them)."""
    which = case(*[(_in(column, s, e), i) for i, (s, e) in enumerate(windows)], else_=-1)
    return which, or_(*[_in(column, s, e) for s, e in windows])


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
            Sale.id.label("sale_id"),
            Sale.paid_at.label("at"),
            SaleLine.quantity.label("quantity"),
            SaleLine.subtotal_cents.label("gross"),
            SaleLine.discount_cents.label("discount"),
            SaleLine.tax_cents.label("tax"),
            _zero().label("refund"),
            _zero().label("refund_tax"),
            _zero().label("refunded_quantity"),
            (SaleLine.quantity * func.coalesce(Package.sessions, 0)).label("sessions"),
            _zero().label("refunded_sessions"),
        )
        .select_from(SaleLine)
        .join(Sale, Sale.id == SaleLine.sale_id)
        .outerjoin(Package, Package.id == SaleLine.package_id)
        .where(sold_in, Sale.status.in_(COUNTED_SALE_STATUSES))
    )
    refund_w, refund_in = _window(Refund.created_at, windows)
    refunded = (
        select(
            refund_w, SaleLine.category, SaleLine.item_id, SaleLine.package_id, Refund.method,
            Sale.sold_by_id, literal_column("NULL"), Refund.created_at,
            _zero(), _zero(), _zero(), _zero(),
            RefundLine.net_cents, RefundLine.tax_cents, RefundLine.quantity,
            _zero(), RefundLine.quantity * func.coalesce(Package.sessions, 0),
        )
        .select_from(RefundLine)
        .join(Refund, Refund.id == RefundLine.refund_id)
        .join(SaleLine, SaleLine.id == RefundLine.sale_line_id)
        .join(Sale, Sale.id == SaleLine.sale_id)
        .outerjoin(Package, Package.id == SaleLine.package_id)
        .where(refund_in, Refund.status.in_(COUNTED_REFUND_STATUSES))
    )
    return sold.union_all(refunded).cte("facts")


def _figure_columns(facts: Any) -> list[Any]:
    return [
        _sum(facts.c.quantity), _sum(facts.c.gross), _sum(facts.c.discount),
        _sum(facts.c.tax), _sum(facts.c.refund), _sum(facts.c.refund_tax),
        _sum(facts.c.refunded_quantity), func.count(distinct(facts.c.sale_id)),
        _sum(facts.c.sessions), _sum(facts.c.refunded_sessions),
    ]


def _figures(values: Any) -> Figures:
    return Figures(*(int(v or 0) for v in values))


# The keys each breakdown groups by; a UNION ALL of one GROUP BY per breakdown reads the
# facts once. Unused key columns are typed NULLs so every branch has the same shape.
_KEY_COLUMNS = (("w", Integer), ("category", String), ("item_id", Integer),
                ("package_id", Integer), ("method", String), ("staff_id", Integer),
                ("day", Integer))


@dataclass(frozen=True)
class _SalesFigures:
    totals: list[Figures]  # one per window
    by_item: list[tuple[str, int | None, int | None, Figures]]
    by_category: dict[str, Figures]
    by_payment_method: dict[str, Figures]
    by_staff: dict[int | None, Figures]
    by_day: dict[int, Figures]


def _sales_figures(session: Session, windows: list[tuple[datetime, datetime]],
                   day_starts: list[datetime] | None = None) -> _SalesFigures:
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
                 "staff_id": facts.c.staff_id, "day": day}

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
        # A day shows only its sales (gross - discount) and refunds: the other figures
        # stay zero, which spares a count of distinct sales per day.
        branch("day", ("day",), figures=[
            _zero(), _sum(facts.c.gross), _sum(facts.c.discount), _zero(),
            _sum(facts.c.refund), _zero(), _zero(), _zero(), _zero(), _zero()]),
    )
    out = _SalesFigures([Figures() for _ in windows], [], {}, {}, {}, {})
    for row in session.execute(statement):
        kind, w, category, item_id, package_id, method, staff_id, day_index = row[:8]
        figures = _figures(row[8:])
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
        else:
            out.by_day[int(day_index)] = figures
    return out


def month_totals(session: Session, start: datetime, end: datetime) -> Figures:
    """The totals of one window alone (the benchmark compares it with hand-written SQL)."""
    facts = _line_facts([(start, end)])
    return _figures(session.execute(select(*_figure_columns(facts))).one())


@dataclass(frozen=True)
class _Names:
    items: dict[int, tuple[str, str]]  # id -> (sku, name)
    packages: dict[int, tuple[str, str]]  # id -> (code, name)
    users: dict[int, str]  # id -> name


def _names(session: Session, sales: _SalesFigures) -> _Names:
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
    names = _Names({}, {}, {})
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


def _item_rows(names: _Names, found: list[tuple[str, int | None, int | None, Figures]]
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


def _group_rows(found: dict[str, Figures], always: tuple[str, ...]) -> tuple[GroupRow, ...]:
    keys = [*always, *sorted(k for k in found if k not in always)]
    return tuple(GroupRow(k, k.replace("_", " ").capitalize(), found.get(k, Figures()))
                 for k in keys)


def _staff_rows(names: _Names, found: dict[int | None, Figures]) -> tuple[GroupRow, ...]:
    rows = [GroupRow("" if staff_id is None else str(staff_id),
                     names.users.get(staff_id, "Unknown") if staff_id is not None else "Unknown",
                     figures) for staff_id, figures in found.items()]
    return tuple(sorted(rows, key=lambda r: (-r.figures.net_cents, r.label, r.key)))


def _counted_sale() -> ColumnElement[bool]:
    return Sale.status.in_(COUNTED_SALE_STATUSES)


def _packages(session: Session, start: datetime, end: datetime,
              month: Figures) -> Packages:
    """Sessions sold and refunded come with the month's sales figures; performed and the
    liability from the treatments and the package history, in one statement."""
    sessions_performed, liability = _liability(session, start, end)
    return Packages(month.sessions_sold, sessions_performed, month.sessions_refunded,
                    liability)


def _liability(session: Session, start: datetime, end: datetime) -> tuple[int, Liability]:
    """(sessions performed in the month, the liability roll-forward), from ONE statement.

    Each part is taken as (before start, within [start, end)), so that the opening is
    the same cumulative figure the previous month closes with. The statement joins three
    one-row aggregates: the value of the purchases whose sale was paid before the start
    and in the month (read through the package lines alone, ix_sale_lines_package_lines);
    the value of the sessions each purchase had performed before the start and before
    the end (a purchase's first n sessions are worth value * n // total, the
    cumulative-floor rule, summed per purchase in SQL with integer division, exact for
    non-negative integers on every database); and the refunds on package lines.
    """
    sold = (
        select(_sum(case((Sale.paid_at < start, PackagePurchase.value_cents), else_=0))
               .label("before"),
               _sum(case((Sale.paid_at >= start, PackagePurchase.value_cents), else_=0))
               .label("within"))
        .select_from(PackagePurchase)
        # A purchase is always of a package line; saying so lets the database read the
        # package lines alone instead of every line.
        .join(SaleLine, and_(SaleLine.id == PackagePurchase.sale_line_id,
                             SaleLine.package_id.is_not(None)))
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(Sale.paid_at < end, _counted_sale())
        .subquery("sold"))
    # Sessions performed per purchase before the start and before the end.
    counts = (
        select(Treatment.purchase_id.label("purchase_id"),
               _sum(case((Treatment.performed_at < start, 1), else_=0)).label("n_start"),
               func.count(Treatment.id).label("n_end"))
        .where(Treatment.performed_at < end, Treatment.voided_at.is_(None))
        .group_by(Treatment.purchase_id)
        .subquery("counts"))
    total = PackagePurchase.sessions_total

    def value_of(n: Any) -> Any:
        capped = case((n > total, total), else_=n)
        return case((total > 0, PackagePurchase.value_cents * capped // total), else_=0)

    performed = (
        select(_sum(value_of(counts.c.n_start)).label("before"),
               _sum(value_of(counts.c.n_end)).label("through_end"),
               _sum(counts.c.n_end - counts.c.n_start).label("sessions"))
        .select_from(counts)
        .join(PackagePurchase, PackagePurchase.id == counts.c.purchase_id)
        .subquery("performed"))
    refunded = (
        select(_sum(case((Refund.created_at < start, RefundLine.net_cents), else_=0))
               .label("before"),
               _sum(case((Refund.created_at >= start, RefundLine.net_cents), else_=0))
               .label("within"))
        .select_from(RefundLine)
        .join(Refund, Refund.id == RefundLine.refund_id)
        .join(SaleLine, SaleLine.id == RefundLine.sale_line_id)
        .where(Refund.created_at < end, SaleLine.package_id.is_not(None),
               Refund.status.in_(COUNTED_REFUND_STATUSES))
        .subquery("refunded"))
    row = session.execute(
        select(sold.c.before, sold.c.within, performed.c.before, performed.c.through_end,
               performed.c.sessions, refunded.c.before, refunded.c.within)
        .select_from(sold.join(performed, true()).join(refunded, true()))).one()
    (sold_before, sold_within, performed_before, performed_through_end, sessions_performed,
     refunded_before, refunded_within) = (int(v or 0) for v in row)
    opening = sold_before - performed_before - refunded_before
    return sessions_performed, Liability(opening, sold_within,
                                         performed_through_end - performed_before,
                                         refunded_within)


def _supplies(session: Session, start: datetime, end: datetime,
              treatments: int) -> Supplies:
    """Supplies consumed and written off in the month: one statement, two GROUP BYs."""
    consumed = (
        select(literal_column("'consumed'").label("kind"),
               cast(null(), String).label("reason"), Item.sku.label("sku"), Item.name,
               _sum(TreatmentSupply.quantity),
               _sum(TreatmentSupply.quantity * TreatmentSupply.unit_cost_cents))
        .select_from(TreatmentSupply)
        .join(Treatment, Treatment.id == TreatmentSupply.treatment_id)
        .join(Item, Item.id == TreatmentSupply.item_id)
        .where(_in(Treatment.performed_at, start, end), Treatment.voided_at.is_(None))
        .group_by(Item.id, Item.sku, Item.name))
    written_off = (
        select(literal_column("'written_off'"), StockMovement.reason, Item.sku, Item.name,
               -_sum(StockMovement.qty_delta),
               -_sum(StockMovement.qty_delta * Lot.unit_cost_cents))
        .select_from(StockMovement)
        .join(Item, Item.id == StockMovement.item_id)
        .join(Lot, Lot.id == StockMovement.lot_id)
        .where(_in(StockMovement.at, start, end),
               StockMovement.reason.in_(WRITE_OFF_REASONS))
        .group_by(StockMovement.reason, Item.id, Item.sku, Item.name))
    both = union_all(consumed, written_off).subquery("supplies")
    rows = session.execute(select(both).order_by(both.c.kind, both.c.reason, both.c.sku)).all()
    return Supplies(
        tuple(SupplyRow(sku, name, int(q), int(c))
              for kind, _, sku, name, q, c in rows if kind == "consumed"),
        treatments,
        tuple(WriteOffRow(r, sku, name, int(q), int(c))
              for kind, r, sku, name, q, c in rows if kind == "written_off"))


def clinic_timezone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def _room_to_sort_in_memory(session: Session) -> None:
    """PostgreSQL sorts the month's lines once per breakdown (each counts distinct sales);
    at the default 4 MB of work_mem a busy month's sorts spill to disk. SET LOCAL lasts
    until the end of this transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '16MB'"))


def monthly_report(session: Session, year: int, month: int,
                   tz: ZoneInfo | None = None) -> MonthlyReport:
    """Every figure of one clinic month (read only; see the module docstring)."""
    tz = tz or clinic_timezone()
    _room_to_sort_in_memory(session)
    m = Month(year, month)
    start, end = month_bounds(year, month, tz)
    others = (m.previous, m.same_month_last_year)
    windows = [(start, end), *(month_bounds(o.year, o.month, tz) for o in others)]
    sales = _sales_figures(session, windows, day_starts_utc(m, tz))
    packages = _packages(session, start, end, sales.totals[0])
    names = _names(session, sales)
    return MonthlyReport(
        month=m, timezone=tz.key, start=start, end=end,
        totals=sales.totals[0],
        by_item=_item_rows(names, sales.by_item),
        by_category=_group_rows(sales.by_category, CATEGORIES),
        by_payment_method=_group_rows(sales.by_payment_method, PAYMENT_METHODS),
        by_staff=_staff_rows(names, sales.by_staff),
        by_day=tuple(DayRow(d, f.sales_cents, f.refund_cents) for d, f in (
            (d, sales.by_day.get(i, Figures())) for i, d in enumerate(m.days))),
        packages=packages,
        supplies=_supplies(session, start, end, packages.sessions_performed),
        previous_month=Comparison(others[0], sales.totals[1]),
        same_month_last_year=Comparison(others[1], sales.totals[2]),
    )


# ---------------------------------------------------------------- renderings

def _figures_json(f: Figures) -> dict[str, int]:
    return {"quantity": f.quantity, "gross_cents": f.gross_cents,
            "discount_cents": f.discount_cents, "tax_cents": f.tax_cents,
            "refund_cents": f.refund_cents, "refund_tax_cents": f.refund_tax_cents,
            "refunded_quantity": f.refunded_quantity, "net_cents": f.net_cents,
            "sales_count": f.sales_count}


def _totals_json(f: Figures) -> dict[str, int]:
    return {field: getattr(f, field) for field in TOTAL_FIELDS}


def _comparison_json(report: MonthlyReport, c: Comparison) -> dict[str, Any]:
    change = {field: dict(zip(("cents" if field != "sales_count" else "count", "bp"),
                              c.change(report.totals, field), strict=True))
              for field in TOTAL_FIELDS}
    return {"month": str(c.month), **_totals_json(c.totals), "change": change}


def report_json(report: MonthlyReport) -> dict[str, Any]:
    """The JSON of ../shared/API.md "Alerts and reports", plus extra keys."""
    t = report.totals
    liability = report.packages.liability
    supplies = report.supplies
    by_item = []
    for row in report.by_item:
        key = {"sku": row.sku} if row.sku else {"package_code": row.package_code}
        by_item.append({**key, "name": row.name, "category": row.category,
                        **_figures_json(row.figures)})
    return {
        "month": str(report.month),
        "timezone": report.timezone,
        "starts_at": report.start.isoformat(),
        "ends_at": report.end.isoformat(),
        **_totals_json(t),
        "totals": _totals_json(t),
        "by_item": by_item,
        "by_category": [{"category": r.key, **_figures_json(r.figures)}
                        for r in report.by_category],
        "by_payment_method": [{"payment_method": r.key, **_figures_json(r.figures)}
                              for r in report.by_payment_method],
        "by_staff": [{"user_id": int(r.key) if r.key else None, "name": r.label,
                      **_figures_json(r.figures)} for r in report.by_staff],
        "by_day": [{"date": d.day.isoformat(), "sales_cents": d.sales_cents,
                    "refund_cents": d.refund_cents, "net_cents": d.net_cents}
                   for d in report.by_day],
        "sessions_sold": report.packages.sessions_sold,
        "sessions_performed": report.packages.sessions_performed,
        "sessions_refunded": report.packages.sessions_refunded,
        "package_liability_cents": liability.closing_cents,
        "package_liability": {
            "opening_cents": liability.opening_cents, "sold_cents": liability.sold_cents,
            "performed_cents": liability.performed_cents,
            "refunded_cents": liability.refunded_cents,
            "closing_cents": liability.closing_cents},
        "supplies_consumed": [{"sku": r.sku, "name": r.name, "quantity": r.quantity,
                               "cost_cents": r.cost_cents} for r in supplies.consumed],
        "supplies_cost_cents": supplies.cost_cents,
        "supply_cost_per_treatment_cents": supplies.cost_per_treatment_cents,
        "write_offs_by_reason": {reason: {"quantity": q, "cost_cents": c} for reason, (q, c)
                                 in supplies.write_offs_by_reason.items()},
        "write_offs": [{"reason": r.reason, "sku": r.sku, "name": r.name,
                        "quantity": r.quantity, "cost_cents": r.cost_cents}
                       for r in supplies.write_offs],
        "previous_month": _comparison_json(report, report.previous_month),
        "same_month_last_year": _comparison_json(report, report.same_month_last_year),
    }


CSV_HEADER = ("month", "section", "key", "name", "metric", "value")


def report_rows(report: MonthlyReport) -> list[tuple[str, str, str, str, int | None]]:
    """Every figure as (section, key, name, metric, value): one number per row, integers
    (cents for *_cents metrics), so a spreadsheet can pivot it and a program parse it."""
    rows: list[tuple[str, str, str, str, int | None]] = []
    t = report.totals
    for field in TOTAL_FIELDS:
        rows.append(("totals", "", "", field, getattr(t, field)))

    def figures(section: str, key: str, name: str, f: Figures) -> None:
        for metric, value in _figures_json(f).items():
            rows.append((section, key, name, metric, value))

    for row in report.by_item:
        figures("by_item", row.code, row.name, row.figures)
    for g in report.by_category:
        figures("by_category", g.key, g.label, g.figures)
    for g in report.by_payment_method:
        figures("by_payment_method", g.key, g.label, g.figures)
    for g in report.by_staff:
        figures("by_staff", g.key, g.label, g.figures)
    for d in report.by_day:
        for metric in ("sales_cents", "refund_cents", "net_cents"):
            rows.append(("by_day", d.day.isoformat(), "", metric, getattr(d, metric)))
    p, liability = report.packages, report.packages.liability
    for metric, value in (("sessions_sold", p.sessions_sold),
                          ("sessions_performed", p.sessions_performed),
                          ("sessions_refunded", p.sessions_refunded)):
        rows.append(("packages", "", "", metric, value))
    for metric, value in (("opening_cents", liability.opening_cents),
                          ("sold_cents", liability.sold_cents),
                          ("performed_cents", liability.performed_cents),
                          ("refunded_cents", liability.refunded_cents),
                          ("closing_cents", liability.closing_cents)):
        rows.append(("package_liability", "", "", metric, value))
    s = report.supplies
    for r in s.consumed:
        rows.append(("supplies_consumed", r.sku, r.name, "quantity", r.quantity))
        rows.append(("supplies_consumed", r.sku, r.name, "cost_cents", r.cost_cents))
    rows.append(("supplies", "", "", "cost_cents", s.cost_cents))
    rows.append(("supplies", "", "", "cost_per_treatment_cents", s.cost_per_treatment_cents))
    for reason, (quantity, cost) in s.write_offs_by_reason.items():
        rows.append(("write_offs", reason, "", "quantity", quantity))
        rows.append(("write_offs", reason, "", "cost_cents", cost))
    for w in s.write_offs:
        key = f"{w.reason}:{w.sku}"
        rows.append(("write_offs", key, w.name, "quantity", w.quantity))
        rows.append(("write_offs", key, w.name, "cost_cents", w.cost_cents))
    for section, c in (("previous_month", report.previous_month),
                       ("same_month_last_year", report.same_month_last_year)):
        for field in TOTAL_FIELDS:
            diff, bp = c.change(t, field)
            rows.append((section, str(c.month), "", field, getattr(c.totals, field)))
            rows.append((section, str(c.month), "", f"{field}_change", diff))
            rows.append((section, str(c.month), "", f"{field}_change_bp", bp))
    return rows


def report_csv(report: MonthlyReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    month = str(report.month)
    for section, key, name, metric, value in report_rows(report):
        writer.writerow((month, section, key, _csv_safe(name), metric,
                         "" if value is None else value))
    return out.getvalue()


def _csv_safe(text: str) -> str:
    # A spreadsheet would run a cell starting with = + - @ as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def report_summary(report: MonthlyReport, currency: str = "usd") -> str:
    """A few lines for people: the CLI prints it and the monthly email carries it."""
    t, p, s = report.totals, report.packages, report.supplies

    def money(cents: int) -> str:
        return format_cents(cents, currency)

    lines = [f"Monthly report {report.month} ({report.month.label}, {report.timezone})", ""]
    for label, value in (("Gross sales", money(t.gross_cents)),
                         ("Discounts", money(t.discount_cents)),
                         ("Tax collected", money(t.tax_cents)),
                         ("Refunds", money(t.refund_cents)),
                         ("Net sales", money(t.net_cents)),
                         ("Number of sales", str(t.sales_count)),
                         ("Average sale", money(t.average_sale_cents))):
        lines.append(f"  {label:<22}{value:>16}")
    for c in report.comparisons:
        diff, bp = c.change(t, "net_cents")
        lines.append(f"  Net {c.month}: {money(c.totals.net_cents)} "
                     f"(change {money(diff)}, {format_change_bp(bp)})")
    lines += ["", "By category:"]
    lines += [f"  {g.label:<22}{money(g.figures.net_cents):>16}" for g in report.by_category]
    lines += ["", "By payment method:"]
    lines += [f"  {g.label:<22}{money(g.figures.net_cents):>16}"
              for g in report.by_payment_method]
    liability = p.liability
    lines += ["", "Packages:",
              f"  Sessions sold {p.sessions_sold}, performed {p.sessions_performed}, "
              f"refunded {p.sessions_refunded}",
              f"  Liability: opening {money(liability.opening_cents)} + sold "
              f"{money(liability.sold_cents)} - performed {money(liability.performed_cents)} "
              f"- refunded {money(liability.refunded_cents)} = closing "
              f"{money(liability.closing_cents)}",
              "", "Supplies:",
              f"  Cost of supplies used {money(s.cost_cents)} over {s.treatments} "
              f"treatments ({money(s.cost_per_treatment_cents)} per treatment)"]
    for reason, (quantity, cost) in s.write_offs_by_reason.items():
        lines.append(f"  Written off ({reason}): {quantity} units, {money(cost)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the monthly email

def month_to_send(now: datetime, tz: ZoneInfo, digest_hour: int) -> Month | None:
    """The month whose report is due at `now`: last month, once the first day of this
    month has reached DIGEST_HOUR (clinic time). Later days of the month return it too,
    so a server that was down on the 1st still sends it; the dedupe key keeps it to one."""
    local = now.astimezone(tz)
    if local.day == 1 and local.hour < digest_hour:
        return None
    return Month(local.year, local.month).previous


def queue_monthly_report(now: datetime | None = None) -> int | None:
    """Queue last month's report email for the active managers, once per month.

    Returns the id of the OutboxMessage written, or None when it is not due, already
    queued, or there is no manager to send it to. The report is computed before the
    write transaction, so no write lock is held while it runs.
    """
    from pos.extensions import db
    from pos.services import clock
    from pos.services.transaction import write_transaction

    now = now or clock.now()
    tz = clinic_timezone()
    month = month_to_send(now, tz, int(current_app.config["DIGEST_HOUR"]))
    if month is None:
        return None
    dedupe_key = f"report:{month}"
    session = db.session
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    recipients = list(session.scalars(
        select(User.email).where(User.role == "manager", User.active.is_(True))
        .order_by(User.email)))
    if not recipients:
        return None
    report = monthly_report(session, month.year, month.month, tz)
    currency = current_app.config["CURRENCY"]
    message = OutboxMessage(
        channel="email", topic="report", dedupe_key=dedupe_key,
        recipients=", ".join(recipients),
        subject=f"{current_app.config['CLINIC_NAME']}: monthly report {month}",
        body=report_summary(report, currency),
        attachments=[{"filename": f"report-{month}.csv", "content_type": "text/csv",
                      "text": report_csv(report)}],
        created_at=now, next_attempt_at=now)
    try:
        with write_transaction() as write:
            write.add(message)
            write.flush()
            return message.id
    except IntegrityError:
        return None  # another worker queued it first

