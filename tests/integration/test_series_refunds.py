"""Refunding the unused sessions of a series: their share of what was paid, remainder to
the last session, the package liability down by exactly the refund, a manager's lower
amount, and the refusals that write nothing."""
from __future__ import annotations

from sqlalchemy import select

from pos.extensions import db
from pos.models import DrawerEntry, PackagePurchase, Refund, RefundLine
from pos.services import clock, reports
from tests.factories import make_item
from tests.fixtures_clinical import make_client, make_clinic_stock, treatment_body
from tests.fixtures_payments import deliver, make_discount, make_package, row_counts

TREATMENTS = "/api/v1/treatments"


def series_sale(api, client_id, *, discount_cents=998, quantity=1):  # type: ignore[no-untyped-def]
    """FACE-3 at 1,350.00 less 9.98: a net of 1,340.02, which 3 does not divide."""
    body = {"client_id": client_id, "payment": "cash",
            "lines": [{"package_code": "FACE-3", "quantity": quantity}]}
    if discount_cents:
        make_discount("ODD", kind="fixed", value=discount_cents)
        body["discount_code"] = "ODD"
    response = api("front_desk").post("/api/v1/sales", json=body)
    assert response.status_code == 201, response.json
    return response.json


def purchase_of(sale):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalars(select(PackagePurchase).where(
        PackagePurchase.sale_line_id == sale["lines"][0]["id"])).one()


def refund_sessions(api, sale, sessions, role="manager", **extra):  # type: ignore[no-untyped-def]
    return api(role).post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "sessions": sessions}],
        "restock": False, "reason": "moving away", **extra})


def month_liability() -> int:
    today = clock.today()
    report = reports.monthly_report(db.session, today.year, today.month)
    return report.packages.liability.closing_cents


def perform_one_session(api, client_id, purchase_id):  # type: ignore[no-untyped-def]
    response = api("provider").post(TREATMENTS, json=treatment_body(client_id, purchase_id))
    assert response.status_code == 201, response.json


def test_a_series_of_3_with_1_used_refunds_2_3_of_its_net_and_the_liability_to_the_cent(
        app, api):
    make_clinic_stock()
    client = make_client()
    sale = series_sale(api, client.id)
    net = 135000 - 998
    assert sale["total_cents"] == net
    perform_one_session(api, client.id, purchase_of(sale).id)
    # The first session is worth 134002 * 1 // 3 = 44667 in the liability.
    assert month_liability() == net - 44667
    drawer_before = db.session.scalars(select(DrawerEntry.amount_cents)).all()

    response = refund_sessions(api, sale, 2)

    assert response.status_code == 201, response.json
    # The last two shares: 44667 and 44668 (the remainder cent goes to the last).
    assert response.json["amount_cents"] == 44667 + 44668 == net - 44667
    purchase = purchase_of(sale)
    assert (purchase.sessions_used, purchase.sessions_refunded, purchase.sessions_left) == (
        1, 2, 0)
    assert month_liability() == 0
    # Cash: it left the drawer.
    drawer_after = db.session.scalars(select(DrawerEntry.amount_cents)).all()
    assert len(drawer_after) == len(drawer_before) + 1
    summary = api("front_desk").get(f"/api/v1/clients/{client.id}").json
    assert [p["sessions_left"] for p in summary["packages"]] == [0]


def test_refunding_every_session_one_by_one_gives_back_exactly_the_net(app, api):
    make_clinic_stock()
    client = make_client()
    sale = series_sale(api, client.id)
    amounts = []
    for _ in range(3):
        response = refund_sessions(api, sale, 1)
        assert response.status_code == 201, response.json
        amounts.append(response.json["amount_cents"])
        # Each step: the liability falls by exactly what was given back.
        assert month_liability() == sale["total_cents"] - sum(amounts)
    assert amounts == [44668, 44667, 44667]
    assert sum(amounts) == sale["total_cents"]
    assert month_liability() == 0
    lines = db.session.scalars(select(RefundLine).order_by(RefundLine.id)).all()
    assert [(line.quantity, line.sessions) for line in lines] == [(0, 1)] * 3
    today = clock.today()
    report = reports.monthly_report(db.session, today.year, today.month)
    assert report.packages.sessions_refunded == 3
    assert report.totals.refund_cents == sale["total_cents"]


def test_more_sessions_than_are_unused_is_refused_with_the_numbers(app, api):
    make_clinic_stock()
    client = make_client()
    sale = series_sale(api, client.id)
    perform_one_session(api, client.id, purchase_of(sale).id)
    before = row_counts()

    response = refund_sessions(api, sale, 3)

    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "sessions_already_used"
    assert "Only 2 of the 3 sessions" in error["message"]
    assert "1 performed" in error["message"]
    assert error["details"]["sessions_left"] == 2
    assert error["details"]["requested_sessions"] == 3
    assert row_counts() == before
    assert purchase_of(sale).sessions_refunded == 0


def test_the_whole_unit_refund_of_a_started_series_points_to_the_sessions(app, api):
    make_clinic_stock()
    client = make_client()
    sale = series_sale(api, client.id)
    perform_one_session(api, client.id, purchase_of(sale).id)
    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": False,
        "reason": "moving away"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "sessions_already_used"
    assert "2 unused session(s)" in response.json["error"]["message"]


def test_a_manager_refunds_less_and_the_sessions_still_leave_the_liability(app, api):
    make_clinic_stock()
    client = make_client()
    sale = series_sale(api, client.id)
    perform_one_session(api, client.id, purchase_of(sale).id)

    response = refund_sessions(api, sale, 2, amount_cents=50000)

    assert response.status_code == 201, response.json
    assert response.json["amount_cents"] == 50000
    (line,) = db.session.scalars(select(RefundLine)).all()
    assert (line.net_cents, line.released_cents) == (50000, 89335)
    assert month_liability() == 0
    today = clock.today()
    assert reports.monthly_report(db.session, today.year,
                                  today.month).totals.refund_cents == 50000


def test_a_refund_cannot_be_raised_above_what_the_sessions_are_worth(app, api):
    make_clinic_stock()
    client = make_client()
    sale = series_sale(api, client.id)
    before = row_counts()
    response = refund_sessions(api, sale, 1, amount_cents=44669)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "refund_exceeds_sale"
    assert row_counts() == before


def test_the_front_desk_cannot_refund_nor_lower_an_amount(app, api):
    make_clinic_stock()
    client = make_client()
    sale = series_sale(api, client.id)
    response = refund_sessions(api, sale, 1, role="front_desk", amount_cents=100)
    assert response.status_code == 403
    assert db.session.scalars(select(Refund)).all() == []


def test_sessions_of_a_retail_line_or_both_quantity_and_sessions_are_refused(app, api):
    make_clinic_stock()
    client = make_client()
    sale = series_sale(api, client.id)
    both = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "sessions": 1, "quantity": 1}],
        "restock": False, "reason": "x"})
    assert both.status_code == 422
    assert both.json["error"]["code"] == "validation_error"
    make_item("SERUM", name="HA serum 30 ml", price_cents=6500, lots=[("S-1", 5, 300)])
    retail = api("front_desk").post("/api/v1/sales", json={
        "client_id": client.id, "payment": "cash",
        "lines": [{"sku": "SERUM", "quantity": 1}]})
    assert retail.status_code == 201, retail.json
    response = api("manager").post(f"/api/v1/sales/{retail.json['id']}/refunds", json={
        "lines": [{"line_id": retail.json["lines"][0]["id"], "sessions": 1}],
        "restock": False, "reason": "x"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


def test_a_series_of_two_units_refunds_sessions_across_its_purchases(app, api):
    make_clinic_stock()
    client = make_client()
    sale = series_sale(api, client.id, discount_cents=0, quantity=2)
    response = refund_sessions(api, sale, 4)
    assert response.status_code == 201, response.json
    assert response.json["amount_cents"] == 4 * 45000
    db.session.expire_all()
    purchases = db.session.scalars(select(PackagePurchase).order_by(PackagePurchase.id)).all()
    assert [p.sessions_left for p in purchases] == [2, 0]
    assert month_liability() == 2 * 45000


def paid_card_series(api, client, standin, client_id):  # type: ignore[no-untyped-def]
    make_package("FACE3", sessions=3, price_cents=45001)
    sale = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "payment": "card",
        "lines": [{"package_code": "FACE3", "quantity": 1}]}).json
    standin.pay(sale["checkout_session_id"])
    assert deliver(client, standin, sale["checkout_session_id"],
                   "checkout.session.completed").json["result"] == "paid"
    return sale


def test_sessions_of_a_card_sale_are_refunded_through_stripe(stripe_app, api, standin, client):
    client_id = make_client().id
    sale = paid_card_series(api, client, standin, client_id)
    first = refund_sessions(api, sale, 1)
    second = refund_sessions(api, sale, 2)
    assert first.status_code == second.status_code == 201, (first.json, second.json)
    assert first.json["status"] == "succeeded"
    # 450.01 over 3 sessions: 150.00, 150.00, 150.01, the last refunded first.
    assert [first.json["amount_cents"], second.json["amount_cents"]] == [15001, 30000]
    sent = standin.requests_to("POST", "/v1/refunds")
    assert [int(r.form["amount"]) for r in sent] == [15001, 30000]
    assert month_liability() == 0


def test_when_stripe_refuses_a_sessions_refund_the_sessions_come_back(stripe_app, api,
                                                                      standin, client):
    client_id = make_client().id
    sale = paid_card_series(api, client, standin, client_id)
    standin.stop()
    response = refund_sessions(api, sale, 2)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "payment_gateway_unavailable"
    purchase = purchase_of(sale)
    assert (purchase.sessions_refunded, purchase.sessions_left) == (0, 3)
    assert month_liability() == 45001

    standin.start()
    retried = refund_sessions(api, sale, 2)
    assert retried.status_code == 201, retried.json
    assert purchase_of(sale).sessions_left == 1
    assert month_liability() == 45001 - retried.json["amount_cents"] == 15000
