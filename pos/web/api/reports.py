"""GET /api/v1/reports/monthly?month=YYYY-MM: the monthly report as JSON."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.domain.reporting import parse_month
from pos.extensions import db
from pos.services.reports import monthly_report, report_json
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
                                payment_method={"enum": ["card", "cash"]}, **_FIGURES)),
    by_staff=array(obj(["user_id", "name", *_FIGURES], user_id={"type": ["integer", "null"]},
                       name=STR, **_FIGURES)),
    by_day=array(obj(["date", "sales_cents", "refund_cents", "net_cents"],
                     date={"type": "string", "format": "date"}, sales_cents=INT,
                     refund_cents=INT, net_cents=INT)),
    sessions_sold=INT, sessions_performed=INT, sessions_refunded=INT,
    package_liability_cents=INT,
    package_liability=obj(["opening_cents", "sold_cents", "performed_cents",
                           "refunded_cents", "closing_cents"],
                          opening_cents=INT, sold_cents=INT, performed_cents=INT,
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
