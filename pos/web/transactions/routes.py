"""GET /transactions: the list of sales (the page twin of GET /api/v1/sales)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from pos.domain.errors import PosError
from pos.domain.statuses import SalePaymentMethod, SaleStatus
from pos.extensions import db
from pos.services.sales import listing
from pos.web import current_clinic
from pos.web.access import role_required
from pos.web.api.schemas import parse_query
from pos.web.api.schemas.transactions import SalesQuery
from pos.web.desk.routes import STATUS_LABELS

transactions_bp = Blueprint("transactions", __name__)

FILTER_NAMES = ("from", "to", "status", "method", "cashier_id", "client_id", "q", "per_page")


def _page_url(page: int) -> str:
    kept: dict[str, Any] = {name: request.args[name] for name in FILTER_NAMES
                            if request.args.get(name)}
    return url_for("transactions.index", **kept, page=page)


@transactions_bp.get("/transactions")
@role_required("front_desk")
def index():  # type: ignore[no-untyped-def]
    problem = None
    status = 200
    try:
        query = parse_query(SalesQuery)
    except PosError as error:
        problem, status = error.message, error.status
        query = SalesQuery()
    found = listing.list_sales(db.session(), query.filters(), page=query.page,
                               per_page=query.per_page, zone=current_clinic().zone)
    return render_template(
        "transactions/index.html", found=found, query=query, problem=problem,
        args=request.args, status_labels=STATUS_LABELS,
        statuses=[s.value for s in SaleStatus], methods=[m.value for m in SalePaymentMethod],
        cashiers=listing.cashiers(db.session()),
        previous_url=_page_url(found.page - 1) if found.page > 1 else None,
        next_url=_page_url(found.page + 1) if found.page < found.pages else None), status
