"""Stock alerts: list them and acknowledge them."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.extensions import db
from pos.models import Alert
from pos.services import alerts
from pos.web.api import api_bp, api_user, page_json, requires
from pos.web.api.openapi import (
    ID,
    INT,
    PATH_GROUPS,
    STR,
    array,
    errors,
    obj,
    ok,
    op,
    path_param,
    query_params,
)
from pos.web.api.schemas import validate_query
from pos.web.api.schemas.queries import AlertsPageQuery


def _at(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id, "kind": alert.kind, "sku": alert.item.sku, "name": alert.item.name,
        "lot": alert.lot.code if alert.lot is not None else None,
        "expires_on": alert.lot.expires_on.isoformat() if alert.lot is not None
        and alert.lot.expires_on else None,
        "on_hand": alert.on_hand, "available": alert.available,
        "reorder_point": alert.reorder_point, "created_at": _at(alert.created_at),
        # Set when the clinic has several locations: where the stock fell.
        "location_id": alert.location_id,
        "delivered_at": _at(alert.delivered_at), "acknowledged_at": _at(alert.acknowledged_at),
    }


@api_bp.get("/v1/alerts")
@requires("manager")
@validate_query(AlertsPageQuery)
def list_alerts(query: AlertsPageQuery):  # type: ignore[no-untyped-def]
    rows, total = alerts.alerts_page(db.session, open_only=query.open in {"1", "true"},
                                     page=query.page, per_page=query.per_page)
    return page_json([alert_json(a) for a in rows], query.page, query.per_page, total)


@api_bp.post("/v1/alerts/<int:alert_id>/acknowledge")
@requires("manager")
def acknowledge(alert_id: int):  # type: ignore[no-untyped-def]
    alert = alerts.acknowledge(alert_id, api_user().id)
    return jsonify(alert_json(alert))


TIMESTAMP_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
ALERT = obj(["id", "kind", "sku", "lot", "on_hand", "reorder_point", "created_at",
             "delivered_at", "acknowledged_at"],
            id=INT, kind={"enum": ["low_stock", "out_of_stock", "expiring_lot"]}, sku=STR,
            name=STR, lot={"type": ["string", "null"]},
            expires_on={"type": ["string", "null"], "format": "date"}, on_hand=INT,
            available=INT, reorder_point=INT, location_id={"type": ["integer", "null"]},
            created_at={"type": "string", "format": "date-time"},
            delivered_at=TIMESTAMP_OR_NULL, acknowledged_at=TIMESTAMP_OR_NULL)

ALERT_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/alerts": {
        "get": op("Stock alerts, newest first, a page at a time", "manager",
                  {**ok(obj(["items", "page", "per_page", "total"], items=array(ALERT),
                            page=INT, per_page=INT, total=INT)), **errors(422)},
                  params=query_params(AlertsPageQuery)),
    },
    "/api/v1/alerts/{alert_id}/acknowledge": {
        "post": op("Acknowledge an alert (again: no change)", "manager",
                   {**ok(ALERT), **errors(404)}, params=[path_param("alert_id", ID)]),
    },
}
PATH_GROUPS.append(ALERT_PATHS)
