"""The report as CSV rows and as a few lines of text (the CLI and the monthly email)."""
from __future__ import annotations

import csv
import io

from pos.domain.money import format_cents
from pos.domain.reporting import format_change_bp
from pos.services.reports.shapes import TOTAL_FIELDS, Figures, MonthlyReport, figures_dict

CSV_HEADER = ("month", "section", "key", "name", "metric", "value")


def report_rows(report: MonthlyReport) -> list[tuple[str, str, str, str, int | None]]:
    """Every figure as (section, key, name, metric, value): one number per row, integers
    (cents for *_cents metrics), so a spreadsheet can pivot it and a program parse it."""
    rows: list[tuple[str, str, str, str, int | None]] = []
    t = report.totals
    for field in TOTAL_FIELDS:
        rows.append(("totals", "", "", field, getattr(t, field)))

    def figures(section: str, key: str, name: str, f: Figures) -> None:
        for metric, value in figures_dict(f).items():
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
