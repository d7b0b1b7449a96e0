"""The report as CSV (one section per table of the page) and as a few lines of text (the
CLI and the monthly email)."""
from __future__ import annotations

import csv
import io
import re

from pos.domain.money import dollars_text, format_cents, percent_text
from pos.domain.reporting import format_change_bp
from pos.services.reports.shapes import Figures, MonthlyReport

# The totals table of the page: (field, label, money?).
TOTAL_ROWS = (("gross_cents", "Gross sales", True), ("discount_cents", "Discounts", True),
              ("tax_cents", "Tax collected", True), ("refund_cents", "Refunds", True),
              ("net_cents", "Net sales", True), ("sales_count", "Number of sales", False),
              ("average_sale_cents", "Average sale", True),
              ("refund_tax_cents", "Refund tax", True))
FIGURE_HEAD = ("Qty sold", "Gross", "Discounts", "Refunds", "Net", "Tax", "Sales")

_NUMBER = re.compile(r"-?[0-9]+\.[0-9]{2}")

Section = tuple[tuple[str, ...], list[tuple[object, ...]]]


def _figure_cells(f: Figures) -> tuple[object, ...]:
    return (f.quantity, dollars_text(f.gross_cents), dollars_text(f.discount_cents),
            dollars_text(f.refund_cents), dollars_text(f.net_cents), dollars_text(f.tax_cents),
            f.sales_count)


def _totals(report: MonthlyReport) -> Section:
    t, prev, last = report.totals, report.previous_month, report.same_month_last_year
    head = ("Totals", str(report.month), f"Previous month {prev.month}", "Change", "Change %",
            f"Same month last year {last.month}", "Change", "Change %")
    rows: list[tuple[object, ...]] = []
    for field, label, is_money in TOTAL_ROWS:
        def shown(value: int, money: bool = is_money) -> object:
            return dollars_text(value) if money else value

        cells: list[object] = [label, shown(getattr(t, field))]
        for c in (prev, last):
            diff, bp = c.change(t, field)
            cells += [shown(getattr(c.totals, field)), shown(diff), percent_text(bp)]
        rows.append(tuple(cells))
    return head, rows


def csv_sections(report: MonthlyReport) -> list[Section]:
    """The monthly page's tables, in its order: each a header row (its first cell the
    table's title) and its rows; amounts in dollars ("1234.50"), counts as integers."""
    p, liability, s = report.packages, report.packages.liability, report.supplies
    groups = [(title, [(g.label, *_figure_cells(g.figures)) for g in rows])
              for title, rows in (("By category", report.by_category),
                                  ("By payment method", report.by_payment_method),
                                  ("By staff member who sold", report.by_staff),
                                  # One location: the section would repeat the totals.
                                  *((("By location", report.by_location),)
                                    if len(report.by_location) > 1 else ()))]
    write_offs: list[tuple[object, ...]] = [
        (reason.capitalize(), "", quantity, dollars_text(cost))
        for reason, (quantity, cost) in s.write_offs_by_reason.items()]
    write_offs += [(f"{w.reason}: {w.name}", w.sku, w.quantity, dollars_text(w.cost_cents))
                   for w in s.write_offs]
    return [
        _totals(report),
        (("By item and package", "Code", "Category", *FIGURE_HEAD),
         [(row.name, row.code, row.category, *_figure_cells(row.figures))
          for row in report.by_item]),
        *(((title, *FIGURE_HEAD), rows) for title, rows in groups),
        (("By tender", "Payments", "Amount"),
         [(r.method.replace("_", " ").capitalize(), r.count, dollars_text(r.amount_cents))
          for r in report.tenders.by_method]),
        (("Tips by staff", "Tips"),
         [*((r.name, dollars_text(r.tip_cents)) for r in report.tenders.tips),
          ("Total", dollars_text(report.tenders.tips_total_cents))]),
        (("Packages", "Sessions"),
         [("Sessions sold", p.sessions_sold), ("Sessions performed", p.sessions_performed),
          ("Sessions refunded", p.sessions_refunded)]),
        (("Package liability", "Amount"),
         [(f"Opening, {report.month.first_day.isoformat()}",
           dollars_text(liability.opening_cents)),
          ("Sold", dollars_text(liability.sold_cents)),
          ("Performed", dollars_text(liability.performed_cents)),
          ("Refunded", dollars_text(liability.refunded_cents)),
          (f"Closing, {report.month.next.first_day.isoformat()}",
           dollars_text(liability.closing_cents))]),
        (("Account credit", "Amount"),
         [("Issued", dollars_text(report.credit.issued_cents)),
          ("Spent", dollars_text(report.credit.spent_cents)),
          (f"Held by clients, {report.month.next.first_day.isoformat()}",
           dollars_text(report.credit.liability_cents))]),
        (("Supplies", "Code", "Quantity", "Cost"),
         [*((r.name, r.sku, r.quantity, dollars_text(r.cost_cents)) for r in s.consumed),
          ("Total", "", "", dollars_text(s.cost_cents)),
          (f"Cost per treatment ({s.treatments} treatments)", "", "",
           dollars_text(s.cost_per_treatment_cents))]),
        (("Write-offs", "Code", "Quantity", "Cost"), write_offs),
        (("By day", "Sales", "Refunds", "Net"),
         [(d.day.isoformat(), dollars_text(d.sales_cents), dollars_text(d.refund_cents),
           dollars_text(d.net_cents)) for d in report.by_day]),
    ]


def report_csv(report: MonthlyReport) -> str:
    """One section per table of the monthly page, a header row each, a blank row between
    sections; amounts in dollars as 1234.50 (API.md, second wave)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for index, (head, rows) in enumerate(csv_sections(report)):
        if index:
            writer.writerow(())
        writer.writerow(head)
        for row in rows:
            writer.writerow(tuple(_csv_safe(cell) if isinstance(cell, str)
                                  and not _NUMBER.fullmatch(cell) else cell for cell in row))
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
