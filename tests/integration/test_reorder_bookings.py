"""Days of cover from bookings (issue 16, part 6): expected treatments per package feed the
reorder suggestion through the bills of materials; the reorder list per location."""
from __future__ import annotations

import re

from sqlalchemy import select

from pos import update_settings
from pos.extensions import db
from pos.models import AuditEntry, Item, Location, Lot, OutboxMessage
from pos.services import alerts, catalog, clock, stock
from pos.services.ledger import lock_items, post_movement
from pos.services.transaction import write_transaction
from tests.factories import make_item, settings


def face_package(code: str = "FACE-1", supplies: tuple[tuple[str, int], ...] = (("CART", 1),),
                 area: str = "face") -> None:
    catalog.create_package(catalog.NewPackage(code, f"{code} treatment", area, 1, 30000, 28,
                                              None, supplies), None)


def cartridges(reorder_point: int = 10, reorder_quantity: int = 5, on_hand: int = 10,
               used: int = 6) -> None:
    """Cartridges with `used` gone in the last 30 days, `on_hand` left."""
    make_item("CART", kind="supply", name="MDPen cartridge", unit="cartridge",
              reorder_point=reorder_point, reorder_quantity=reorder_quantity,
              lots=[("C-1", on_hand + used, 300)])
    if used:
        stock.adjust_stock(sku="CART", lot_code="C-1", qty_delta=-used, reason="damaged",
                           note=None, user_id=None)


def reorder_rows(api, query: str = "") -> dict[str, dict]:  # type: ignore[no-untyped-def]
    response = api("manager").get(f"/api/v1/reorder{query}")
    assert response.status_code == 200, response.get_json()
    return {row["sku"]: row for row in response.get_json()["items"]}


def expect(api, code: str, count: int):  # type: ignore[no-untyped-def]
    return api("manager").put(f"/api/v1/packages/{code}/expected-treatments", {"count": count})


def test_ten_expected_treatments_of_one_cartridge_raise_the_suggestion(app, api):
    update_settings(app, REORDER_COVER_DAYS=30)
    cartridges()  # 10 on hand, reorder point 10, 6 used in 30 days, reorder quantity 5
    face_package()
    before = reorder_rows(api)["CART"]
    # 6 in 30 days -> 6 over the 30 days of cover, 10 on hand: the reorder quantity, 5
    assert (before["suggested_quantity"], before["basis"], before["expected_use"],
            before["booked_next_14_days"], before["days_of_cover"]) == (5, "usage", 6, 0, 50)

    response = expect(api, "FACE-1", 10)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["expected_treatments"]["count"] == 10

    after = reorder_rows(api)["CART"]
    # 10 treatments x 1 cartridge in 14 days -> 22 over 30 days (21.4 up); 10 on hand: 12
    assert (after["suggested_quantity"], after["basis"], after["expected_use"],
            after["booked_next_14_days"], after["days_of_cover"]) == (12, "bookings", 22, 10, 14)
    assert after["suggested_quantity"] - before["suggested_quantity"] == 7

    # a second package using 2 per session, 4 expected: 18 booked -> 39 over 30 days
    face_package("SCALP-1", (("CART", 2),), area="scalp")
    assert expect(api, "SCALP-1", 4).status_code == 200
    both = reorder_rows(api)["CART"]
    assert (both["booked_next_14_days"], both["expected_use"], both["suggested_quantity"]) == \
        (18, 39, 29)
    # back to 0: the figure of before
    assert expect(api, "FACE-1", 0).status_code == 200
    assert expect(api, "SCALP-1", 0).status_code == 200
    assert reorder_rows(api)["CART"]["suggested_quantity"] == 5


def test_expected_treatments_are_shown_with_the_packages_and_audited(app, api, users):
    cartridges()
    face_package()
    listed = {p["code"]: p for p in api("front_desk").get("/api/v1/packages").get_json()}
    assert listed["FACE-1"]["expected_treatments"] is None
    assert expect(api, "FACE-1", 7).status_code == 200
    [package] = api("front_desk").get("/api/v1/packages").get_json()
    shown = package["expected_treatments"]
    assert (shown["count"], shown["set_by"]) == (7, users.get("manager").email)
    assert shown["set_at"]
    db.session.rollback()
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "package.expected_treatments"))
    assert entry is not None


def test_expected_treatments_are_for_managers_and_checked(app, api):
    cartridges()
    face_package()
    assert api("front_desk").put("/api/v1/packages/FACE-1/expected-treatments",
                                 {"count": 3}).status_code == 403
    assert api("front_desk").get("/api/v1/reorder").status_code == 403
    for bad in ({"count": -1}, {"count": 10001}, {"count": "3"}, {"count": 1.5}, {},
                {"count": 3, "extra": 1}):
        response = api("manager").put("/api/v1/packages/FACE-1/expected-treatments", bad)
        assert response.status_code == 422, bad
        assert response.get_json()["error"]["code"] == "validation_error"
    assert expect(api, "NOPE", 3).status_code == 404
    assert expect(api, "FACE-1", 10000).status_code == 200


def test_an_item_above_its_point_appears_when_bookings_take_it_there_in_the_lead_time(app, api):
    update_settings(app, REORDER_COVER_DAYS=30)
    cartridges(reorder_point=5, reorder_quantity=0, on_hand=20, used=0)
    make_item("MASK", kind="supply", reorder_point=5, reorder_quantity=10,
              lots=[("M-1", 20, 300)])  # no bookings: stays off the list
    face_package()
    sid = api("manager").post("/api/v1/suppliers", {
        "name": "Dermapen Supply", "email": "orders@dermapen.example",
        "lead_time_days": 14}).get_json()["id"]
    assert api("manager").patch("/api/v1/items/CART", {"supplier_id": sid}).status_code == 200
    assert reorder_rows(api) == {}

    # 10 in the next 14 days, lead time 14: 20 -> 10, still above 5: not yet
    assert expect(api, "FACE-1", 10).status_code == 200
    assert reorder_rows(api) == {}

    # 16 in 14 days: 20 -> 4, below the reorder point before an order could arrive
    assert expect(api, "FACE-1", 16).status_code == 200
    rows = reorder_rows(api)
    assert list(rows) == ["CART"]
    row = rows["CART"]
    # over 30 days of cover: 16 x 30/14 = 34.3 -> 35, 20 on hand: order 15
    assert (row["on_hand"], row["status"], row["ahead_of_bookings"], row["basis"],
            row["suggested_quantity"]) == (20, "ok", True, "bookings", 15)

    # a longer lead time brings it forward sooner: 10 booked, 28 days -> 20 go, 20 -> 0
    assert expect(api, "FACE-1", 10).status_code == 200
    assert reorder_rows(api) == {}
    slow = api("manager").post("/api/v1/suppliers", {
        "name": "Slow Supply", "email": "slow@supply.example",
        "lead_time_days": 28}).get_json()["id"]
    assert api("manager").patch("/api/v1/items/CART", {"supplier_id": slow}).status_code == 200
    assert list(reorder_rows(api)) == ["CART"]


def test_from_reorder_orders_the_quantity_the_bookings_need(app, api):
    update_settings(app, REORDER_COVER_DAYS=30)
    cartridges()  # 10 on hand, 6 used, reorder quantity 5
    face_package()
    sid = api("manager").post("/api/v1/suppliers", {
        "name": "Dermapen Supply", "email": "orders@dermapen.example",
        "lead_time_days": 5}).get_json()["id"]
    api("manager").patch("/api/v1/items/CART", {"supplier_id": sid})
    assert expect(api, "FACE-1", 10).status_code == 200
    response = api("manager").post("/api/v1/purchase-orders/from-reorder")
    assert response.status_code == 201, response.get_json()
    [order] = response.get_json()["orders"]
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("CART", 12)]
    # on order now: nothing more suggested, and the row says so
    row = reorder_rows(api)["CART"]
    assert (row["on_order"], row["suggested_quantity"]) == (12, 0)


def annex_with(sku: str, quantity: int) -> int:
    """A second location holding `quantity` of the item's first lot."""
    with write_transaction() as session:
        annex = Location(code="ANNEX", name="Annex")
        session.add(annex)
        session.flush()
        item = session.scalar(select(Item).where(Item.sku == sku))
        lot = session.scalar(select(Lot).where(Lot.item_id == item.id))
        stock_row = lock_items(session, [item.id], annex.id)[item.id]
        post_movement(session, stock_row, lot, quantity, "receipt")
        return annex.id


def test_the_reorder_list_of_one_location_counts_its_shelf_only(app, api, client, login_as):
    cartridges(reorder_point=10, reorder_quantity=5, on_hand=30, used=0)
    annex = annex_with("CART", 4)
    assert reorder_rows(api) == {}  # 34 in all: above 10
    rows = reorder_rows(api, f"?location={annex}")
    assert (rows["CART"]["on_hand"], rows["CART"]["suggested_quantity"]) == (4, 5)
    main = db.session.scalar(select(Location.id).where(Location.id != annex))
    assert reorder_rows(api, f"?location={main}") == {}
    assert api("manager").get("/api/v1/reorder?location=999999").status_code == 404
    assert api("manager").get("/api/v1/reorder?location=abc").status_code == 422

    login_as("manager")
    page = client.get(f"/alerts/reorder?location={annex}").get_data(as_text=True)
    assert 'data-sku="CART"' in page and "Annex" in page
    assert 'data-sku="CART"' not in client.get("/alerts/reorder").get_data(as_text=True)
    for unknown in ("999999", "99999999999999", "abc", "²", "-1"):
        assert client.get(f"/alerts/reorder?location={unknown}").status_code == 404, unknown
    csv_text = client.get(f"/alerts/reorder.csv?location={annex}").get_data(as_text=True)
    assert "CART," in csv_text


# -- the page ---------------------------------------------------------------------------------

def csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token on " + path
    return match.group(1)


def test_a_manager_enters_expected_treatments_on_the_reorder_page_and_sees_the_basis(
        app, client, login_as):
    update_settings(app, REORDER_COVER_DAYS=30)
    cartridges()
    face_package()
    login_as("manager")
    page = client.get("/alerts/reorder").get_data(as_text=True)
    assert '<td class="basis">Last 30 days</td>' in page
    assert '<td class="num suggested">5 cartridge</td>' in page
    assert "FACE-1 treatment (FACE-1): expected treatments, next 14 days" in page
    package_id = catalog.package_by_code(db.session, "FACE-1").id
    field = f"expected_{package_id}"

    bad = client.post("/alerts/reorder/expected-treatments",
                      data={field: "-3", "csrf_token": csrf(client, "/alerts/reorder")})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'role="alert"' in html and f'href="#{field}"' in html
    assert 'aria-invalid="true"' in html and "From 0 to 10000." in html

    done = client.post("/alerts/reorder/expected-treatments",
                       data={field: "10", "csrf_token": csrf(client, "/alerts/reorder")},
                       follow_redirects=True)
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert "Expected treatments saved (1 package(s) changed)." in html
    assert '<td class="basis">Expected treatments</td>' in html
    assert '<td class="num suggested">12 cartridge</td>' in html
    assert '<td class="num booked">10</td>' in html
    assert re.search(rf'id="{field}"[^>]*value="10"', html)


def test_front_desk_cannot_set_expected_treatments_on_the_page(app, client, login_as):
    cartridges()
    face_package()
    login_as("front_desk")
    assert client.get("/alerts/reorder").status_code == 403
    assert client.post("/alerts/reorder/expected-treatments", data={}).status_code in (400, 403)


def test_the_alert_and_the_digest_use_the_bookings_too(app, api):
    update_settings(app, REORDER_COVER_DAYS=30)
    cartridges(reorder_point=10, reorder_quantity=5, on_hand=11, used=0)
    make_item("MASK", kind="supply", name="Gel mask", unit="mask", reorder_point=5,
              reorder_quantity=10, lots=[("M-1", 20, 300)])
    face_package("FACE-1", (("CART", 1), ("MASK", 1)))
    assert expect(api, "FACE-1", 14).status_code == 200
    # No supplier, so the lead time is the 14 days the counts cover: 14 masks take 20 to 6,
    # still above 5; one more treatment takes it to 5.
    assert "MASK" not in reorder_rows(api)
    assert expect(api, "FACE-1", 15).status_code == 200
    assert reorder_rows(api)["MASK"]["ahead_of_bookings"] is True
    stock.adjust_stock(sku="CART", lot_code="C-1", qty_delta=-1, reason="damaged", note=None,
                       user_id=None)  # 10 left: at the reorder point, the alert goes
    db.session.rollback()
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "alert"))
    assert mail is not None
    # 15 x 30/14 = 32.1 -> 33 over 30 days, 10 on hand: 23 (not the reorder quantity, 5)
    assert "Suggested order quantity: 23" in mail.body
    assert "Days of cover: 9" in mail.body  # 10 at 15 per 14 days
    subject, body = alerts.digest_text(db.session, settings(), clock.now())
    assert "1 out" not in subject and "1 low" in subject
    assert "Low within the lead time (expected treatments) (1):\n  - Gel mask (MASK)" in body


# -- suppliers corrected (their lead time feeds the rule above) --------------------------------

def test_a_manager_corrects_a_supplier_and_its_lead_time_moves_the_list(app, api):
    cartridges(reorder_point=5, reorder_quantity=0, on_hand=20, used=0)
    face_package()
    manager = api("manager")
    sid = manager.post("/api/v1/suppliers", {"name": "Dermapen Supply",
                                             "email": "orders@dermapen.example",
                                             "lead_time_days": 14}).get_json()["id"]
    manager.patch("/api/v1/items/CART", {"supplier_id": sid})
    assert expect(api, "FACE-1", 10).status_code == 200
    assert reorder_rows(api) == {}  # 10 go in 14 days: 20 -> 10, above 5
    response = manager.patch(f"/api/v1/suppliers/{sid}", {"lead_time_days": 21,
                                                          "minimum_order_cents": 20000})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"id": sid, "name": "Dermapen Supply",
                                   "email": "orders@dermapen.example", "lead_time_days": 21,
                                   "minimum_order_cents": 20000}
    assert list(reorder_rows(api)) == ["CART"]  # 15 go in 21 days: 20 -> 5
    assert manager.patch(f"/api/v1/suppliers/{sid}",
                         {"minimum_order_cents": None}).get_json()["minimum_order_cents"] is None
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "supplier.update"))

    other = manager.post("/api/v1/suppliers", {"name": "Glow Labs", "email": "o@glow.example",
                                               "lead_time_days": 3}).get_json()["id"]
    taken = manager.patch(f"/api/v1/suppliers/{other}", {"name": "dermapen supply"})
    assert (taken.status_code, taken.get_json()["error"]["code"]) == (409, "conflict")
    for bad in ({"lead_time_days": -1}, {"lead_time_days": 366}, {"name": None},
                {"email": "nope"}, {"extra": 1}):
        response = manager.patch(f"/api/v1/suppliers/{sid}", bad)
        assert response.status_code == 422, bad
    assert manager.patch("/api/v1/suppliers/999999", {"lead_time_days": 1}).status_code == 404
    assert api("front_desk").patch(f"/api/v1/suppliers/{sid}",
                                   {"lead_time_days": 1}).status_code == 403


def test_the_supplier_edit_page_saves_the_lead_time(app, api, client, login_as):
    sid = api("manager").post("/api/v1/suppliers", {
        "name": "Dermapen Supply", "email": "orders@dermapen.example", "lead_time_days": 5,
        "minimum_order_cents": 20000}).get_json()["id"]
    login_as("manager")
    path = f"/purchasing/suppliers/{sid}/edit"
    page = client.get(path).get_data(as_text=True)
    assert 'value="Dermapen Supply"' in page and 'value="200.00"' in page
    assert f'href="{path}"' in client.get("/purchasing/suppliers").get_data(as_text=True)
    form = {"name": "Dermapen Supply", "email": "orders@dermapen.example",
            "lead_time_days": "400", "minimum_order": "200.00"}
    bad = client.post(path, data={**form, "csrf_token": csrf(client, path)})
    assert bad.status_code == 422
    assert 'role="alert"' in bad.get_data(as_text=True)
    done = client.post(path, data={**form, "lead_time_days": "21",
                                   "csrf_token": csrf(client, path)}, follow_redirects=True)
    assert "Supplier Dermapen Supply saved." in done.get_data(as_text=True)
    [supplier] = api("manager").get("/api/v1/suppliers").get_json()
    assert (supplier["lead_time_days"], supplier["minimum_order_cents"]) == (21, 20000)
    assert client.get("/purchasing/suppliers/999999/edit").status_code == 404
    assert client.get("/purchasing/suppliers/99999999999999/edit").status_code == 404
