"""A gift card's balance and history, by its code (the "Gift card balance" page's twin)."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.extensions import db
from pos.services import gift_cards
from pos.web.api import api_bp, requires
from pos.web.api.openapi import INT, PATH_GROUPS, STR, array, errors, obj, ok, op, path_param


def balance_json(view: gift_cards.BalanceView) -> dict[str, Any]:
    return {
        "code": view.code_masked, "balance_cents": view.balance_cents,
        "initial_cents": view.initial_cents,
        "history": [{"kind": e.kind, "amount_cents": e.amount_cents, "sale_id": e.sale_id,
                     "created_at": e.created_at.isoformat()} for e in view.history],
    }


@api_bp.get("/v1/gift-cards/<code>")
@requires("front_desk")
def gift_card_balance(code: str):  # type: ignore[no-untyped-def]
    # Typed with or without dashes, any case; anything that cannot be a code is unknown.
    return jsonify(balance_json(gift_cards.balance(db.session, code[:64])))


_ENTRY = obj(["kind", "amount_cents", "sale_id", "created_at"],
             kind={"enum": ["issue", "redeem", "refund", "reverse"]}, amount_cents=INT,
             sale_id={"type": ["integer", "null"]},
             created_at={"type": "string", "format": "date-time"})

GIFT_CARD_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/gift-cards/{code}": {
        "get": op("A gift card's balance and history; the code (16 characters, with or "
                  "without dashes, any case) comes back masked (unknown: 404 "
                  "unknown_gift_card)", "front_desk",
                  {**ok(obj(["code", "balance_cents", "initial_cents", "history"],
                            code=STR, balance_cents=INT, initial_cents=INT,
                            history=array(_ENTRY))), **errors(404)},
                  params=[path_param("code")]),
    },
}
PATH_GROUPS.append(GIFT_CARD_PATHS)
