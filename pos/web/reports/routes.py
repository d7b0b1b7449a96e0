"""The manager's monthly report: the page (with its charts) and the CSV download."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from pos.domain.reporting import Month, format_change_bp, parse_month
from pos.extensions import db
from pos.services import clock
from pos.services.reports import MonthlyReport, monthly_report, report_csv
from pos.web.access import role_required
from pos.web.reports.charts import column_chart, shares

reports_bp = Blueprint("reports", __name__, url_prefix="/reports")

TOP_ITEMS = 8


def _month_from_args() -> Month:
    """?month=YYYY-MM; the current clinic month when absent; anything else is a 422."""
    text = request.args.get("month")
    if text is None or text == "":
        today = clock.today()
        return Month(today.year, today.month)
    return parse_month(text)


@reports_bp.get("/")
@role_required("manager")
def index():  # type: ignore[no-untyped-def]
    return redirect(url_for("reports.monthly"))


@reports_bp.get("/monthly")
@role_required("manager")
def monthly():  # type: ignore[no-untyped-def]
    month = _month_from_args()
    report = monthly_report(db.session, month.year, month.month)
    return render_template("reports/monthly.html", report=report, charts=_charts(report),
                           change=format_change_bp)


@reports_bp.get("/monthly.csv")
@role_required("manager")
def monthly_csv():  # type: ignore[no-untyped-def]
    month = _month_from_args()
    report = monthly_report(db.session, month.year, month.month)
    return Response(report_csv(report), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="report-{month}.csv"'})


def _charts(report: MonthlyReport) -> dict:  # type: ignore[type-arg]
    top = sorted(report.by_item, key=lambda r: -r.figures.net_cents)[:TOP_ITEMS]
    return {
        "days": column_chart([(str(d.day.day), d.net_cents) for d in report.by_day]),
        "categories": shares([(g.label, g.figures.net_cents) for g in report.by_category]),
        "payments": shares([(g.label, g.figures.net_cents)
                            for g in report.by_payment_method]),
        "top_items": shares([(r.name, r.figures.net_cents) for r in top]),
    }
