"""Recall: for a lot, every treatment (and client) that used it; page, CSV and API."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from pos.services import clock
from tests.fixtures_clinical import make_client, make_series_purchase, treatment_body

TREATMENTS = "/api/v1/treatments"


def treat(api, client, package: str = "FACE-3", **kw):  # type: ignore[no-untyped-def]
    purchase = make_series_purchase(client, package)
    response = api("provider").post(TREATMENTS, json=treatment_body(client.id, purchase.id,
                                                                    **kw))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_recall_list_names_every_treatment_that_used_the_lot(app, api, clinic_stock):
    ada, grace, alan = (make_client("Ada", "Lovelace"), make_client("Grace", "Hopper"),
                        make_client("Alan", "Turing"))
    first = treat(api, ada, performed_at=(clock.now() - timedelta(hours=3)).isoformat())
    # Ada's lidocaine took 5 of the 8 in L-SOON; Grace's takes the last 3 and 2 of L-LATE.
    second = treat(api, grace, performed_at=(clock.now() - timedelta(hours=2)).isoformat())
    third = treat(api, alan)  # only L-LATE lidocaine is left

    response = api("manager").get("/api/v1/lots/L-SOON/treatments")
    assert response.status_code == 200
    rows = response.get_json()
    assert [(r["treatment_id"], r["client_id"], r["sku"], r["quantity"]) for r in rows] == [
        (first["id"], ada.id, "LIDO", 5), (second["id"], grace.id, "LIDO", 3)]
    assert all(set(r) >= {"treatment_id", "client_id", "performed_at", "sku", "quantity"}
               for r in rows)
    assert "Lovelace" not in response.get_data(as_text=True)

    later = api("manager").get("/api/v1/lots/L-LATE/treatments").get_json()
    assert [(r["treatment_id"], r["quantity"]) for r in later] == [(second["id"], 2),
                                                                  (third["id"], 5)]


def test_a_bundle_lot_recall_finds_the_first_visit_clients(app, api, clinic_stock):
    ada = make_client("Ada", "Lovelace")
    done = treat(api, ada)
    rows = api("manager").get("/api/v1/lots/FV-1/treatments").get_json()
    assert [(r["treatment_id"], r["client_id"], r["sku"], r["quantity"]) for r in rows] == [
        (done["id"], ada.id, "BUNDLE-FV", 1)]


def test_a_voided_treatment_is_not_on_the_recall_list(app, api, clinic_stock):
    ada = make_client()
    done = treat(api, ada)
    assert api("provider").post(f"/api/v1/treatments/{done['id']}/void",
                                json={"reason": "Wrong client"}).status_code == 200
    assert api("manager").get("/api/v1/lots/C-SOON/treatments").get_json() == []


def test_an_unknown_lot_is_404_and_an_unused_lot_an_empty_list(app, api, clinic_stock):
    manager = api("manager")
    missing = manager.get("/api/v1/lots/NO-SUCH-LOT/treatments")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert manager.get("/api/v1/lots/C-LATE/treatments").get_json() == []


def test_only_a_manager_reads_the_recall_list(app, api, clinic_stock):
    for role, status in (("front_desk", 403), ("provider", 403), ("manager", 200),
                         ("admin", 200)):
        assert api(role).get("/api/v1/lots/C-SOON/treatments").status_code == status


def test_the_recall_page_shows_client_names_and_the_csv_leaves_them_out(
        app, api, client, login_as, clinic_stock):
    ada, grace = make_client("Ada", "Lovelace"), make_client("Grace", "Hopper")
    first = treat(api, ada)
    second = treat(api, grace)
    login_as("manager")
    page = client.get("/recall?lot=C-SOON")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ada Lovelace" in html and "Grace Hopper" in html
    assert "2 treatment lines used lot C-SOON" in html

    exported = client.get("/recall.csv?lot=C-SOON")
    assert exported.status_code == 200
    assert exported.mimetype == "text/csv"
    assert 'filename="recall-C-SOON.csv"' in exported.headers["Content-Disposition"]
    text = exported.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(int(r["treatment_id"]), int(r["client_id"]), r["sku"], r["lot"], r["quantity"])
            for r in rows] == [(first["id"], ada.id, "CART", "C-SOON", "1"),
                               (second["id"], grace.id, "CART", "C-SOON", "1")]
    assert "Lovelace" not in text and "Hopper" not in text

    assert client.get("/recall.csv?lot=NOPE").status_code == 404
    assert "No lot" in client.get("/recall?lot=NOPE").get_data(as_text=True)


def test_a_lot_code_that_looks_like_a_formula_is_exported_as_text(app, api, client, login_as):
    from tests.fixtures_clinical import CLINIC_SUPPLIES, make_clinic_stock

    supplies = [("CART", "Cartridge", "cartridge", [("=2+5", 5, 100)]),
                *[s for s in CLINIC_SUPPLIES if s[0] != "CART"]]
    make_clinic_stock(supplies=supplies)
    treat(api, make_client())
    login_as("manager")
    exported = client.get("/recall.csv", query_string={"lot": "=2+5"})
    assert exported.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert row["lot"] == "'=2+5"
