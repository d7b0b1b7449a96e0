"""The report's shape: the frozen values every rendering reads (page, CSV, API, email)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pos.domain.reporting import Month, change_bp, rounded_ratio
from pos.services.reports.tenders import Tenders

# "waste": supplies opened for a treatment that was then voided (pos.services.treatments).
WRITE_OFF_REASONS = ("damaged", "expired", "lost", "waste")
CATEGORIES = ("package", "retail", "bundle")
PAYMENT_METHODS = ("card", "cash")  # always listed; a split sale's figures: "split"

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
class AccountCredit:
    """A month's account credit: issued (refunds to credit), spent (tenders), and what
    clients still hold at the month's end (a liability, like unused sessions)."""

    issued_cents: int = 0
    spent_cents: int = 0
    liability_cents: int = 0


@dataclass(frozen=True)
class GiftCardLiability:
    """What the clinic owes on gift cards (pos/services/reports/gift_card_liability.py)."""

    opening_cents: int = 0
    sold_cents: int = 0
    redeemed_cents: int = 0
    refunded_cents: int = 0

    @property
    def closing_cents(self) -> int:
        return self.opening_cents + self.sold_cents - self.redeemed_cents - self.refunded_cents


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
    credit: AccountCredit = AccountCredit()
    # What came in by each way of paying, and the tips by provider (reports/tenders.py).
    tenders: Tenders = Tenders()
    # Sales, refunds and net per location (issue 16, part 5); the rows add up to the totals.
    by_location: tuple[GroupRow, ...] = ()
    # Not in sales, revenue or tax: a gift card is money owed until it is spent.
    gift_cards: GiftCardLiability = GiftCardLiability()

    @property
    def comparisons(self) -> tuple[Comparison, Comparison]:
        return self.previous_month, self.same_month_last_year


def figures_dict(f: Figures) -> dict[str, int]:
    """One slice's figures by name: the API's rows and the CSV's metrics."""
    return {"quantity": f.quantity, "gross_cents": f.gross_cents,
            "discount_cents": f.discount_cents, "tax_cents": f.tax_cents,
            "refund_cents": f.refund_cents, "refund_tax_cents": f.refund_tax_cents,
            "refunded_quantity": f.refunded_quantity, "net_cents": f.net_cents,
            "sales_count": f.sales_count}


def totals_dict(f: Figures) -> dict[str, int]:
    return {field: getattr(f, field) for field in TOTAL_FIELDS}
