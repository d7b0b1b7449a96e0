"""GET /api/v1/reports/monthly?month=YYYY-MM: the monthly report as JSON."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.domain.reporting import parse_month
from pos.domain.statuses import SalePaymentMethod
from pos.extensions import db
from pos.services.reports import (
    TOTAL_FIELDS,
    Comparison,
    MonthlyReport,
    figures_dict,
    monthly_report,
    totals_dict,
)
from pos.web.api import api_bp, requires
from pos.web.api.openapi import INT, PATH_GROUPS, STR, array, errors, obj, ok, op, query_params
from pos.web.api.schemas import validate_query
from pos.web.api.schemas.queries import MonthlyReportQuery


@api_bp.get("/v1/reports/monthly")
@requires("manager")
@validate_query(MonthlyReportQuery)
def monthly(query: MonthlyReportQuery):  # type: ignore[no-untyped-def]
    month = parse_month(query.month)
    return jsonify(report_json(monthly_report(db.session, month.year, month.month)))


def _comparison_json(report: MonthlyReport, c: Comparison) -> dict[str, Any]:
    change = {field: dict(zip(("cents" if field != "sales_count" else "count", "bp"),
                              c.change(report.totals, field), strict=True))
              for field in TOTAL_FIELDS}
    return {"month": str(c.month), **totals_dict(c.totals), "change": change}


def report_json(report: MonthlyReport) -> dict[str, Any]:
    """The JSON of ../shared/API.md "Alerts and reports", plus extra keys."""
    t = report.totals
    liability = report.packages.liability
    supplies = report.supplies
    by_item = []
    for row in report.by_item:
        key = {"sku": row.sku} if row.sku else {"package_code": row.package_code}
        by_item.append({**key, "name": row.name, "category": row.category,
                        **figures_dict(row.figures)})
    return {
        "month": str(report.month),
        "timezone": report.timezone,
        "starts_at": report.start.isoformat(),
        "ends_at": report.end.isoformat(),
        **totals_dict(t),
        "totals": totals_dict(t),
        "by_item": by_item,
        "by_category": [{"category": r.key, **figures_dict(r.figures)}
                        for r in report.by_category],
        "by_payment_method": [{"payment_method": r.key, **figures_dict(r.figures)}
                              for r in report.by_payment_method],
        "by_staff": [{"user_id": int(r.key) if r.key else None, "name": r.label,
                      **figures_dict(r.figures)} for r in report.by_staff],
        "by_location": [{"location_id": int(r.key), "name": r.label,
                         "sales_cents": r.figures.sales_cents, **figures_dict(r.figures)}
                        for r in report.by_location],
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
        "account_credit_issued_cents": report.credit.issued_cents,
        "account_credit_spent_cents": report.credit.spent_cents,
        "account_credit_liability_cents": report.credit.liability_cents,
        "gift_card_liability_cents": report.gift_cards.closing_cents,
        "gift_card_liability": {
            "opening_cents": report.gift_cards.opening_cents,
            "sold_cents": report.gift_cards.sold_cents,
            "redeemed_cents": report.gift_cards.redeemed_cents,
            "refunded_cents": report.gift_cards.refunded_cents,
            "closing_cents": report.gift_cards.closing_cents},
        "supplies_consumed": [{"sku": r.sku, "name": r.name, "quantity": r.quantity,
                               "cost_cents": r.cost_cents} for r in supplies.consumed],
        "supplies_cost_cents": supplies.cost_cents,
        "supply_cost_per_treatment_cents": supplies.cost_per_treatment_cents,
        "write_offs_by_reason": {reason: {"quantity": q, "cost_cents": c} for reason, (q, c)
                                 in supplies.write_offs_by_reason.items()},
        "write_offs": [{"reason": r.reason, "sku": r.sku, "name": r.name,
                        "quantity": r.quantity, "cost_cents": r.cost_cents}
                       for r in supplies.write_offs],
        "tenders": [{"method": r.method, "amount_cents": r.amount_cents, "count": r.count}
                    for r in report.tenders.by_method],
        "tips": [{"provider_id": r.provider_id, "name": r.name, "tip_cents": r.tip_cents}
                 for r in report.tenders.tips],
        "tips_total_cents": report.tenders.tips_total_cents,
        "previous_month": _comparison_json(report, report.previous_month),
        "same_month_last_year": _comparison_json(report, report.same_month_last_year),
    }


_FIGURES: dict[str, Any] = {name: INT for name in (
    "quantity", "gross_cents", "discount_cents", "tax_cents", "refund_cents",
    "refund_tax_cents", "refunded_quantity", "net_cents", "sales_count")}
_TOTALS: dict[str, Any] = {name: INT for name in (
    "gross_cents", "discount_cents", "tax_cents", "refund_cents", "refund_tax_cents",
    "net_cents", "sales_count", "average_sale_cents")}
_CHANGE = obj(["bp"], cents=INT, count=INT, bp={"type": ["integer", "null"]})
_COMPARISON = obj(["month", *_TOTALS, "change"], month=STR, **_TOTALS,
                  change=obj(list(_TOTALS), **{name: _CHANGE for name in _TOTALS}))
_REPORT = obj(
    ["month", *_TOTALS, "by_item", "by_category", "by_payment_method", "sessions_sold",
     "sessions_performed", "package_liability_cents", "supplies_consumed", "previous_month"],
    month=STR, timezone=STR, starts_at={"type": "string", "format": "date-time"},
    ends_at={"type": "string", "format": "date-time"}, **_TOTALS,
    totals=obj(list(_TOTALS), **_TOTALS),
    by_item=array(obj(["name", "quantity", "gross_cents", "net_cents"], sku=STR,
                      package_code=STR, name=STR, category=STR, **_FIGURES)),
    by_category=array(obj(["category", *_FIGURES], category=STR, **_FIGURES)),
    by_payment_method=array(obj(["payment_method", *_FIGURES],
                                payment_method={"enum": [m.value for m in SalePaymentMethod]},
                                **_FIGURES)),
    tenders=array(obj(["method", "amount_cents", "count"], method=STR, amount_cents=INT,
                      count=INT)),
    tips=array(obj(["provider_id", "name", "tip_cents"],
                   provider_id={"type": ["integer", "null"]}, name=STR, tip_cents=INT)),
    tips_total_cents=INT,
    by_staff=array(obj(["user_id", "name", *_FIGURES], user_id={"type": ["integer", "null"]},
                       name=STR, **_FIGURES)),
    by_location=array(obj(["location_id", "name", "sales_cents", "refund_cents", "net_cents"],
                          location_id=INT, name=STR, sales_cents=INT, **_FIGURES)),
    by_day=array(obj(["date", "sales_cents", "refund_cents", "net_cents"],
                     date={"type": "string", "format": "date"}, sales_cents=INT,
                     refund_cents=INT, net_cents=INT)),
    sessions_sold=INT, sessions_performed=INT, sessions_refunded=INT,
    package_liability_cents=INT,
    package_liability=obj(["opening_cents", "sold_cents", "performed_cents",
                           "refunded_cents", "closing_cents"],
                          opening_cents=INT, sold_cents=INT, performed_cents=INT,
                          refunded_cents=INT, closing_cents=INT),
    account_credit_issued_cents=INT, account_credit_spent_cents=INT,
    account_credit_liability_cents=INT,
    gift_card_liability_cents=INT,
    gift_card_liability=obj(["opening_cents", "sold_cents", "redeemed_cents",
                             "refunded_cents", "closing_cents"],
                            opening_cents=INT, sold_cents=INT, redeemed_cents=INT,
                            refunded_cents=INT, closing_cents=INT),
    supplies_consumed=array(obj(["sku", "name", "quantity", "cost_cents"], sku=STR, name=STR,
                                quantity=INT, cost_cents=INT)),
    supplies_cost_cents=INT, supply_cost_per_treatment_cents=INT,
    write_offs_by_reason={"type": "object", "additionalProperties": obj(
        ["quantity", "cost_cents"], quantity=INT, cost_cents=INT)},
    write_offs=array(obj(["reason", "sku", "name", "quantity", "cost_cents"],
                         reason={"enum": ["damaged", "expired", "lost"]}, sku=STR, name=STR,
                         quantity=INT, cost_cents=INT)),
    previous_month=_COMPARISON, same_month_last_year=_COMPARISON,
)

REPORT_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/reports/monthly": {
        "get": op("The monthly report of a clinic month", "manager",
                  {**ok(_REPORT), **errors(422)},
                  params=query_params(MonthlyReportQuery)),
    },
}
PATH_GROUPS.append(REPORT_PATHS)
