"""The monthly report: exact figures in integer cents, computed by the database.

Definitions (the accountants' rules; the page, the CSV, the API and the email all render
the one `MonthlyReport` that `monthly_report()` returns, so they cannot disagree):

- **Month**: the clinic's month in CLINIC_TIMEZONE. Its UTC bounds [start, end) are
  computed in Python (`pos.domain.reporting.month_bounds`) and compared with the stored
  UTC timestamps, so the indexes on paid_at, created_at, performed_at and at are used
  and no time-zone function runs per row. Days of the month are clinic days too.
- **Sales counted**: a sale counts in the month it was PAID (`paid_at`), whatever month
  it was started in, if its status is `paid` (COUNTED_SALE_STATUSES in
  pos/domain/statuses.py; a refund leaves its sale paid); sales that are awaiting
  payment, expired, failed or void never count.
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
  treatment never counts: its session is unused again. The figure at each past month
  boundary is stored (package_liability_snapshots) and read back as the next opening;
  the database deletes it when a write changes the history before it (see
  pos/models/reporting.py), so it always equals the cumulative figure.
- **Supplies**: per item, the quantity consumed by the month's non-voided treatments and
  its cost from the lots actually used (treatment_supplies.unit_cost_cents, the lot's
  cost at receipt); cost per treatment = that cost / sessions_performed, rounded half up.
  **Write-offs**: stock movements of the month with reason damaged, expired or lost,
  quantity and cost at the lot's unit cost, by reason and item.
- **previous_month** and **same_month_last_year**: the same totals for those months, with
  the change (current - other, and in basis points of the other when it is not zero).

Every figure is a SQL aggregate (SUM/COUNT ... GROUP BY in the database); only the
grouped rows come back to Python. Integer cents throughout: SUM results are cast to int.

The package, by reason to change:
- `shapes`: the frozen `MonthlyReport` and its parts, which every rendering reads;
- `facts`: the month's sales and refunds by every breakdown, and the comparison months'
  totals, in ONE statement (the line facts read once as a CTE, a UNION ALL of GROUP BYs);
- `liability`: the package liability roll-forward, opened from the snapshot stored at
  the month's start (pos/models/reporting.py), so it reads the month's rows only;
- `supplies`: supplies consumed and written off;
- `monthly`: `monthly_report`, which assembles them;
- `rendering`: the CSV rows and the summary text (the JSON is the API's:
  pos/web/api/reports.py; the charts are the page's: pos/web/reports/charts.py);
- `scheduling`: which month's email is due, and queuing it in the outbox once.
The time filters use ix_sales_paid_at, ix_refunds_created_at, ix_treatments_performed_at
and ix_stock_movements_at; bench/report_bench.py measures a report on a 1-year and a
3-year history.
"""
from pos.services.reports.facts import month_totals
from pos.services.reports.monthly import clinic_timezone, monthly_report
from pos.services.reports.rendering import csv_sections, report_csv, report_summary
from pos.services.reports.scheduling import month_to_send, queue_monthly_report
from pos.services.reports.shapes import (
    CATEGORIES,
    PAYMENT_METHODS,
    TOTAL_FIELDS,
    WRITE_OFF_REASONS,
    Comparison,
    DayRow,
    Figures,
    GroupRow,
    ItemRow,
    Liability,
    MonthlyReport,
    Packages,
    Supplies,
    SupplyRow,
    WriteOffRow,
    figures_dict,
    totals_dict,
)

__all__ = [
    "CATEGORIES", "PAYMENT_METHODS", "TOTAL_FIELDS", "WRITE_OFF_REASONS",
    "Comparison", "DayRow", "Figures", "GroupRow", "ItemRow", "Liability", "MonthlyReport",
    "Packages", "Supplies", "SupplyRow", "WriteOffRow", "clinic_timezone", "csv_sections",
    "figures_dict",
    "month_to_send", "month_totals", "monthly_report", "queue_monthly_report", "report_csv",
    "report_summary", "totals_dict",
]
