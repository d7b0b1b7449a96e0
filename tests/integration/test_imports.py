"""CSV imports (issue 13): items and clients, all rows or none, a dry run that writes
nothing, each bad row named by its spreadsheet row number, column and message."""
from __future__ import annotations

from sqlalchemy import func, select

from pos.extensions import db
from pos.models import AuditEntry, Client, Item
from tests.factories import make_item

HEADER = "sku,name,category,price,cost,taxable,reorder_point,reorder_quantity,barcode\n"


def item_csv(count: int, bad_row: int | None = None) -> str:
    """`count` items; the data row at spreadsheet row `bad_row` has a price in words."""
    lines = [HEADER]
    for n in range(count):
        price = "twelve" if bad_row == n + 2 else f"{10 + n % 50}.{n % 100:02d}"
        lines.append(f"IMP-{n:04d},Imported item {n},retail,{price},4.50,yes,2,10,"
                     f"BC{n:06d}\n")
    return "".join(lines)


def post_csv(api, path: str, text: str, role: str = "manager"):  # type: ignore[no-untyped-def]
    return api(role).post(path, data=text.encode(), headers={"Content-Type": "text/csv"})


def items_count() -> int:
    return db.session.scalar(select(func.count(Item.id))) or 0


def test_a_thousand_rows_with_one_bad_row_write_nothing_and_name_the_row(api):
    response = post_csv(api, "/api/v1/imports/items", item_csv(1000, bad_row=700))
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "import_invalid"
    assert error["details"]["rows"] == 1000 and error["details"]["created"] == 0
    assert error["details"]["errors"] == [
        {"row": 700, "field": "price", "message": error["details"]["errors"][0]["message"]}]
    assert "twelve" in error["details"]["errors"][0]["message"]
    assert items_count() == 0

    fixed = post_csv(api, "/api/v1/imports/items", item_csv(1000))
    assert fixed.status_code == 200, fixed.json
    assert (fixed.json["rows"], fixed.json["created"], fixed.json["errors"]) == (1000, 1000, [])
    assert items_count() == 1000
    item = db.session.scalar(select(Item).where(Item.sku == "IMP-0001"))
    # Dollars in the CSV, cents in the catalog.
    assert (item.price_cents, item.cost_cents, item.taxable, item.kind, item.barcode) == \
        (1101, 450, True, "retail", "BC000001")
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "import.items")) == 1


def test_a_dry_run_checks_everything_and_writes_nothing(api):
    response = post_csv(api, "/api/v1/imports/items?dry_run=true", item_csv(20))
    assert response.status_code == 200, response.json
    assert (response.json["rows"], response.json["created"], response.json["dry_run"]) == \
        (20, 0, True)
    assert items_count() == 0


def test_every_problem_is_listed_with_its_row_and_column(api, app):
    make_item("SERUM")
    text = HEADER + "\n".join([
        "SERUM,Exists already,retail,10,1,yes,1,1,",          # row 2: the sku exists
        "NEW-1,New,potion,10,1,yes,1,1,",                     # row 3: unknown category
        "NEW-2,New,retail,10,1,maybe,1,1,",                   # row 4: taxable
        "NEW-3,New,retail,10,1,yes,-1,1,",                    # row 5: reorder point
        "NEW-4,,retail,10,1,yes,1,1,",                        # row 6: no name
        "NEW-5,Ok,retail,10,1,yes,1,1,X1",                    # row 7: good
        "NEW-6,Dup barcode,retail,10,1,yes,1,1,X1",           # row 8: barcode twice
    ]) + "\n"
    response = post_csv(api, "/api/v1/imports/items?dry_run=true", text)
    assert response.status_code == 422
    found = {(e["row"], e["field"]) for e in response.json["error"]["details"]["errors"]}
    assert found == {(2, "sku"), (3, "kind"), (4, "taxable"), (5, "reorder_point"),
                     (6, "name"), (8, "barcode")}
    assert items_count() == 1


def test_clients_are_imported_through_the_client_rules(api):
    api("front_desk")  # the pool's users exist
    text = ("name,email,phone\n"
            "Ada Lovelace,ada@example.com,555-0100\n"
            "Grace Brewster Hopper,grace@example.com,\n"
            "Mononym,,\n"
            "Alan Turing,not-an-email,\n"
            "Ada Again,ADA@example.com,\n")
    refused = post_csv(api, "/api/v1/imports/clients", text)
    assert refused.status_code == 422
    found = {(e["row"], e["field"]) for e in refused.json["error"]["details"]["errors"]}
    assert found == {(4, "name"), (5, "email"), (6, "email")}
    assert db.session.scalar(select(func.count(Client.id))) == 0
    good = "name,email,phone\nAda Lovelace,ada@example.com,555-0100\n" \
           "Grace Brewster Hopper,grace@example.com,\n"
    response = post_csv(api, "/api/v1/imports/clients", good)
    assert (response.status_code, response.json["created"]) == (200, 2)
    grace = db.session.scalar(select(Client).where(Client.email == "grace@example.com"))
    assert (grace.first_name, grace.last_name) == ("Grace Brewster", "Hopper")
    again = post_csv(api, "/api/v1/imports/clients", good)
    assert again.status_code == 422  # both emails exist now
    assert db.session.scalar(select(func.count(Client.id))) == 2


def test_imports_need_a_manager_and_csv(api):
    assert post_csv(api, "/api/v1/imports/items", item_csv(1), role="front_desk"
                    ).status_code == 403
    wrong_type = api("manager").post("/api/v1/imports/items", json={"rows": []})
    assert (wrong_type.status_code, wrong_type.json["error"]["code"]) == \
        (422, "validation_error")
    unknown_column = post_csv(api, "/api/v1/imports/items", "sku,name,colour\nA,B,red\n")
    assert unknown_column.status_code == 422
    assert post_csv(api, "/api/v1/imports/items", "").status_code == 422
    bad_utf8 = api("manager").post("/api/v1/imports/items", data=b"sku\xff\n",
                                   headers={"Content-Type": "text/csv"})
    assert bad_utf8.status_code == 422


# -- the Import page (manager) -------------------------------------------------------------

def test_the_import_page_checks_then_imports_a_file(client, login_as):
    import io
    import re

    login_as("manager")
    html = client.get("/backoffice/import").get_data(as_text=True)
    assert "price and cost are in dollars" in html
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

    def send(text: str, button: str):  # type: ignore[no-untyped-def]
        return client.post("/backoffice/import", data={
            "csrf_token": token, "kind": "items", button: "1",
            "file": (io.BytesIO(text.encode()), "items.csv")},
            content_type="multipart/form-data")

    bad = send(item_csv(5, bad_row=4), "check")
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "nothing was imported" in page and re.search(r'<td class="num">4</td><td>price</td>',
                                                        page)
    checked = send(item_csv(5), "check")
    assert checked.status_code == 200
    assert "Checked 5 rows: all good." in checked.get_data(as_text=True)
    assert items_count() == 0
    done = send(item_csv(5), "run")
    assert "Imported 5 of 5 rows." in done.get_data(as_text=True)
    assert items_count() == 5
