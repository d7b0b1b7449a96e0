"""Performing treatments through the API: sessions, spacing, supplies by lot, the bundle."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from pos.domain.screening import AVOID_AREAS, CAUTIONS, CONTRAINDICATIONS
from pos.extensions import db
from pos.models import (
    AuditEntry,
    Client,
    ItemStock,
    PackagePurchase,
    StockMovement,
    Treatment,
    TreatmentSupply,
)
from pos.services import catalog, clock
from tests.fixtures_clinical import (
    SESSION_BOM,
    all_clear,
    lots_on_hand,
    make_client,
    make_clinic_stock,
    make_series_purchase,
    treatment_body,
)

TREATMENTS = "/api/v1/treatments"


def lot_on_hand(code: str) -> int:
    return lots_on_hand(code)[code]


def item_on_hand(item_id: int) -> int:
    return db.session.scalar(select(ItemStock.on_hand).where(ItemStock.item_id == item_id))


def ledger_sum(item_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(StockMovement.qty_delta), 0))
                             .where(StockMovement.item_id == item_id))


def purchase_row(purchase_id: int) -> PackagePurchase:
    db.session.expire_all()
    return db.session.get(PackagePurchase, purchase_id)


def treatment_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Treatment))


ALL_LOTS = ("C-SOON", "C-LATE", "L-SOON", "L-LATE", "H-SOON", "H-LATE", "M-1", "MI-1", "FV-1")
START = {"C-SOON": 10, "C-LATE": 20, "L-SOON": 8, "L-LATE": 50, "H-SOON": 30, "H-LATE": 30,
         "M-1": 10, "MI-1": 100, "FV-1": 5}


def test_a_three_session_series_from_first_visit_to_day_28(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    provider = api("provider")
    with freeze_time(datetime.now(UTC)) as frozen:
        first_day = clock.today()
        first = provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id))
        assert first.status_code == 201, first.get_json()
        body = first.get_json()
        assert body["purchase_id"] == purchase.id
        assert body["session_number"] == 1
        assert body["sessions_left"] == 2
        assert body["first_visit_bundle"] is True
        assert body["off_rhythm"] is False
        # One cartridge and the configured doses, each from the lot that expires first.
        assert sorted((c["sku"], c["lot"], c["quantity"]) for c in body["consumed"]) == [
            ("CART", "C-SOON", 1), ("HA", "H-SOON", 3), ("LIDO", "L-SOON", 5),
            ("MASK", "M-1", 1), ("MIST", "MI-1", 5)]
        assert lots_on_hand(*ALL_LOTS) == {**START, "C-SOON": 9, "L-SOON": 3, "H-SOON": 27,
                                           "M-1": 9, "MI-1": 95, "FV-1": 4}
        # The lots used are on the treatment, with what each cost.
        supplies = db.session.scalars(select(TreatmentSupply)
                                      .where(TreatmentSupply.treatment_id == body["id"])).all()
        assert sorted((s.lot.code, s.quantity, s.unit_cost_cents) for s in supplies) == [
            ("C-SOON", 1, 100), ("H-SOON", 3, 100), ("L-SOON", 5, 100), ("M-1", 1, 100),
            ("MI-1", 5, 100)]
        bundle_moves = db.session.scalars(select(StockMovement).where(
            StockMovement.reason == "first_visit_bundle")).all()
        assert [(m.qty_delta, m.lot.code, m.reference) for m in bundle_moves] == [
            (-1, "FV-1", f"treatment:{body['id']}")]
        assert db.session.get(Client, client.id).first_visit_bundle_at is not None

        frozen.tick(timedelta(days=27))
        too_soon = provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id))
        assert too_soon.status_code == 422
        error = too_soon.get_json()["error"]
        assert error["code"] == "too_soon"
        assert error["details"]["eligible_on"] == (first_day + timedelta(days=28)).isoformat()
        assert purchase_row(purchase.id).sessions_used == 1

        frozen.tick(timedelta(days=1))
        second = provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id))
        assert second.status_code == 201, second.get_json()
        body2 = second.get_json()
        assert (body2["session_number"], body2["sessions_left"]) == (2, 1)
        assert body2["first_visit_bundle"] is False
        # The soonest lidocaine lot has 3 left: the 5 are split across two lots.
        assert [(c["lot"], c["quantity"]) for c in body2["consumed"] if c["sku"] == "LIDO"] == \
            [("L-SOON", 3), ("L-LATE", 2)]
        assert lots_on_hand("FV-1", "L-SOON", "L-LATE") == {"FV-1": 4, "L-SOON": 0,
                                                           "L-LATE": 48}
    for sku in ("CART", "LIDO", "HA", "MASK", "MIST", "BUNDLE-FV"):
        item_id = clinic_stock.id_of(sku)
        assert item_on_hand(item_id) == ledger_sum(item_id)


def test_a_session_past_the_recommended_rhythm_is_recorded_and_flagged(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    provider = api("provider")
    with freeze_time(datetime.now(UTC)) as frozen:
        assert provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id)) \
            .status_code == 201
        frozen.tick(timedelta(days=43))
        late = provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id))
        assert late.status_code == 201
        assert late.get_json()["off_rhythm"] is True
        assert db.session.get(Treatment, late.get_json()["id"]).off_rhythm is True


@pytest.mark.parametrize("condition", CONTRAINDICATIONS)
def test_each_contraindication_alone_is_refused_naming_it(app, api, clinic_stock, condition):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    response = api("provider").post(
        TREATMENTS, json=treatment_body(client.id, purchase.id,
                                        screening=all_clear(**{condition: True})))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "contraindicated"
    assert error["details"]["contraindications"] == [condition]
    assert treatment_count() == 0
    assert purchase_row(purchase.id).sessions_used == 0
    assert lots_on_hand(*ALL_LOTS) == START


def test_botox_13_days_ago_waits_and_14_days_ago_is_treated(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    provider = api("provider")
    thirteen = (clock.today() - timedelta(days=13)).isoformat()
    refused = provider.post(TREATMENTS, json=treatment_body(
        client.id, purchase.id, screening=all_clear(last_botox_on=thirteen)))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "botox_wait"
    assert refused.get_json()["error"]["details"]["eligible_on"] == \
        (clock.today() + timedelta(days=1)).isoformat()
    fourteen = (clock.today() - timedelta(days=14)).isoformat()
    treated = provider.post(TREATMENTS, json=treatment_body(
        client.id, purchase.id, screening=all_clear(last_botox_on=fourteen)))
    assert treated.status_code == 201


@pytest.mark.parametrize("condition", AVOID_AREAS + CAUTIONS)
def test_an_avoid_area_or_caution_needs_the_providers_acknowledgement(
        app, api, clinic_stock, condition):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    provider = api("provider")
    screening = all_clear(**{condition: True})
    refused = provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id,
                                                            screening=screening))
    assert refused.status_code == 422
    expected = "avoid_area" if condition in AVOID_AREAS else "caution_not_acknowledged"
    assert refused.get_json()["error"]["code"] == expected
    treated = provider.post(TREATMENTS, json=treatment_body(
        client.id, purchase.id, screening=screening, acknowledged=[condition]))
    assert treated.status_code == 201
    treatment = db.session.get(Treatment, treated.get_json()["id"])
    assert treatment.acknowledged_cautions == [condition]
    assert treatment.screening[condition] is True


def test_an_incomplete_screening_is_refused_naming_the_missing_question(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    screening = all_clear()
    del screening["diabetes"]
    response = api("provider").post(TREATMENTS, json=treatment_body(
        client.id, purchase.id, screening=screening))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "screening_incomplete"
    assert response.get_json()["error"]["details"]["missing"] == ["diabetes"]
    assert treatment_count() == 0


@pytest.mark.parametrize("body", [
    {}, {"client_id": "1", "purchase_id": 1, "area": "face"},
    {"client_id": 1, "purchase_id": 1, "area": "neck", "screening": {}},
    {"client_id": 1, "purchase_id": 1, "area": "face", "acknowledged_cautions": "diabetes"},
    {"client_id": 1, "purchase_id": 1, "area": "face", "performed_at": "yesterday"},
    {"client_id": 1, "purchase_id": 1, "area": "face", "performed_at": "2026-01-01T10:00"},
    {"client_id": 1, "purchase_id": 1, "area": "face", "performed_at": "0001-01-01T00:00+01:00"},
    {"client_id": 1, "purchase_id": 1, "area": "face", "screening": {},
     "performed_at": "2001-01-01T00:00+00:00"},
    {"client_id": True, "purchase_id": 2**40, "area": ["face"], "screening": []},
])
def test_malformed_requests_get_a_422_and_create_nothing(app, api, clinic_stock, body):
    response = api("provider").post(TREATMENTS, json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] in ("validation_error", "screening_incomplete")
    assert treatment_count() == 0


def test_a_body_that_is_not_json_gets_a_422(app, api, clinic_stock):
    response = api("provider").post(TREATMENTS, data=b"\xff\x00not json",
                                    headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_a_purchase_of_another_client_is_refused(app, api, clinic_stock):
    owner, other = make_client(), make_client("Grace", "Hopper")
    purchase = make_series_purchase(owner, "FACE-3")
    response = api("provider").post(TREATMENTS, json=treatment_body(other.id, purchase.id))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "purchase_mismatch"
    assert purchase_row(purchase.id).sessions_used == 0


def test_a_face_package_is_not_redeemed_on_the_scalp(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    response = api("provider").post(TREATMENTS, json=treatment_body(
        client.id, purchase.id, area="scalp"))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "wrong_area"


def test_unknown_client_or_purchase_is_404(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    provider = api("provider")
    assert provider.post(TREATMENTS, json=treatment_body(client.id, 9999)).status_code == 404
    assert provider.post(TREATMENTS, json=treatment_body(9999, purchase.id)).status_code == 404


def test_a_package_with_no_session_left_is_refused_with_409(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-1")
    provider = api("provider")
    assert provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id)) \
        .status_code == 201
    again = provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id))
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "no_sessions_left"
    assert purchase_row(purchase.id).sessions_used == 1
    assert treatment_count() == 1


def test_a_treatment_cannot_be_recorded_in_the_future_but_can_be_backdated(
        app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    provider = api("provider")
    future = (clock.now() + timedelta(hours=2)).isoformat()
    assert provider.post(TREATMENTS, json=treatment_body(
        client.id, purchase.id, performed_at=future)).status_code == 422
    earlier = clock.now() - timedelta(days=30)
    done = provider.post(TREATMENTS, json=treatment_body(
        client.id, purchase.id, performed_at=earlier.isoformat()))
    assert done.status_code == 201
    assert db.session.get(Treatment, done.get_json()["id"]).performed_at == earlier
    # The spacing counts from the day it was performed: 30 days ago, so today is fine.
    assert provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id)) \
        .status_code == 201


def test_a_short_supply_refuses_with_409_naming_it_and_changes_nothing(app, api):
    supplies = (("CART", "Cartridge", "cartridge", [("C-1", 5, 300)]),
                ("LIDO", "Lidocaine", "ml", [("L-1", 4, 300)]),
                ("HA", "HA serum", "ml", [("H-1", 30, 300)]),
                ("MASK", "Mask", "mask", [("M-1", 5, 300)]),
                ("MIST", "Mist", "ml", [("MI-1", 50, 300)]))
    stock = make_clinic_stock(supplies=supplies)
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    response = api("provider").post(TREATMENTS, json=treatment_body(client.id, purchase.id))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"]["sku"] == "LIDO"
    assert "LIDO" in error["message"]
    # The cartridge taken before the lidocaine came up short went back: nothing changed.
    assert lots_on_hand("C-1", "L-1", "FV-1") == {"C-1": 5, "L-1": 4, "FV-1": 5}
    assert purchase_row(purchase.id).sessions_used == 0
    assert db.session.get(Client, client.id).first_visit_bundle_at is None
    assert treatment_count() == 0
    assert ledger_sum(stock.id_of("CART")) == 5


def test_a_lot_that_expired_yesterday_is_never_used_even_when_it_is_the_only_one(app, api):
    supplies = (("CART", "Cartridge", "cartridge", [("C-1", 5, 300)]),
                ("LIDO", "Lidocaine", "ml", [("L-1", 40, 300)]),
                ("HA", "HA serum", "ml", [("H-1", 30, 300)]),
                ("MASK", "Mask", "mask", [("M-EXP", 5, 1)]),  # expires tomorrow
                ("MIST", "Mist", "ml", [("MI-1", 50, 300)]))
    make_clinic_stock(supplies=supplies)
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    with freeze_time(datetime.now(UTC) + timedelta(days=2)):  # the mask lot expired yesterday
        response = api("provider").post(TREATMENTS, json=treatment_body(client.id, purchase.id))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"]["sku"] == "MASK"
    assert lots_on_hand("M-EXP", "C-1", "L-1") == {"M-EXP": 5, "C-1": 5, "L-1": 40}
    assert treatment_count() == 0


def test_a_lot_expiring_today_is_still_used(app, api):
    supplies = (("CART", "Cartridge", "cartridge", [("C-1", 5, 300)]),
                ("LIDO", "Lidocaine", "ml", [("L-1", 40, 300)]),
                ("HA", "HA serum", "ml", [("H-1", 30, 300)]),
                ("MASK", "Mask", "mask", [("M-TODAY", 5, 0), ("M-LATER", 5, 100)]),
                ("MIST", "Mist", "ml", [("MI-1", 50, 300)]))
    make_clinic_stock(supplies=supplies)
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    response = api("provider").post(TREATMENTS, json=treatment_body(client.id, purchase.id))
    assert response.status_code == 201
    assert ("MASK", "M-TODAY", 1) in [(c["sku"], c["lot"], c["quantity"])
                                      for c in response.get_json()["consumed"]]


def test_the_first_visit_bundle_is_handed_out_once_per_client_across_packages(
        app, api, clinic_stock):
    client = make_client()
    face = make_series_purchase(client, "FACE-3")
    scalp = make_series_purchase(client, "SCALP-3")
    provider = api("provider")
    first = provider.post(TREATMENTS, json=treatment_body(client.id, face.id))
    second = provider.post(TREATMENTS, json=treatment_body(client.id, scalp.id, area="scalp"))
    assert first.get_json()["first_visit_bundle"] is True
    assert second.status_code == 201
    assert second.get_json()["first_visit_bundle"] is False
    assert lot_on_hand("FV-1") == 4
    # Another client's first visit gets their own bundle.
    other = make_client("Grace", "Hopper")
    other_purchase = make_series_purchase(other, "FACE-1")
    third = provider.post(TREATMENTS, json=treatment_body(other.id, other_purchase.id))
    assert third.get_json()["first_visit_bundle"] is True
    assert lots_on_hand("FV-1") == {"FV-1": 3}


def test_no_bundle_in_stock_refuses_a_first_visit_with_409_naming_it(app, api):
    make_clinic_stock(bundle_lots=[])
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    response = api("provider").post(TREATMENTS, json=treatment_body(client.id, purchase.id))
    assert response.status_code == 409
    assert response.get_json()["error"]["details"]["sku"] == "BUNDLE-FV"
    assert lots_on_hand("C-SOON") == {"C-SOON": 10}


def test_a_bill_of_materials_change_applies_to_future_treatments_only(app, api, clinic_stock):
    provider = api("provider")
    ada = make_client()
    ada_purchase = make_series_purchase(ada, "FACE-3")
    before = provider.post(TREATMENTS, json=treatment_body(ada.id, ada_purchase.id))
    assert before.status_code == 201
    catalog.set_package_supplies("FACE-3", (("CART", 1), ("LIDO", 2), ("HA", 3),
                                            ("MASK", 1)), None)
    grace = make_client("Grace", "Hopper")
    grace_purchase = make_series_purchase(grace, "FACE-3")
    after = provider.post(TREATMENTS, json=treatment_body(grace.id, grace_purchase.id))
    assert after.status_code == 201
    assert {c["sku"]: c["quantity"] for c in after.get_json()["consumed"]} == \
        {"CART": 1, "LIDO": 2, "HA": 3, "MASK": 1}
    # What the earlier treatment consumed is unchanged.
    db.session.expire_all()
    earlier = db.session.scalars(select(TreatmentSupply).where(
        TreatmentSupply.treatment_id == before.get_json()["id"])).all()
    assert sorted((s.lot.item.sku, s.quantity) for s in earlier) == sorted(
        [(sku, qty) for sku, qty in SESSION_BOM])
    assert lots_on_hand("L-SOON", "MI-1") == {"L-SOON": 1, "MI-1": 95}


def test_a_treatment_is_audited_with_ids_only(app, api, clinic_stock):
    client = make_client("Zebulon", "Quixote", email="zq@clients.example")
    purchase = make_series_purchase(client, "FACE-3")
    provider = api("provider")
    response = provider.post(TREATMENTS, json=treatment_body(
        client.id, purchase.id, screening=all_clear(diabetes=True), acknowledged=["diabetes"]))
    assert response.status_code == 201
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "treatment.create"))
    assert entry.entity_id == str(response.get_json()["id"])
    assert entry.details == {"client_id": client.id, "purchase_id": purchase.id,
                             "session_number": 1}


def test_the_same_idempotency_key_records_one_treatment(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    provider = api("provider")
    body = treatment_body(client.id, purchase.id)
    headers = {"Idempotency-Key": "tablet-7-visit-1"}
    first = provider.post(TREATMENTS, json=body, headers=headers)
    again = provider.post(TREATMENTS, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert treatment_count() == 1
    assert purchase_row(purchase.id).sessions_used == 1


def test_spacing_counts_clinic_days_not_hours_across_midnight(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    provider = api("provider")
    zone = clock.clinic_zone()
    day0 = clock.today() + timedelta(days=1)

    def clinic_time(day, hour: int, minute: int) -> datetime:  # type: ignore[no-untyped-def]
        return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)

    with freeze_time(clinic_time(day0, 23, 30)) as frozen:  # already the next day in UTC
        assert provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id)) \
            .status_code == 201
        frozen.move_to(clinic_time(day0 + timedelta(days=27), 23, 59))
        late = provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id))
        assert late.status_code == 422
        assert late.get_json()["error"]["details"]["eligible_on"] == \
            (day0 + timedelta(days=28)).isoformat()
        # Only 27 days and 45 minutes later, but the 28th clinic day: allowed.
        frozen.move_to(clinic_time(day0 + timedelta(days=28), 0, 15))
        assert provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id)) \
            .status_code == 201


def test_a_package_sold_at_the_desk_is_redeemed_in_the_treatment_room(app, api, clinic_stock):
    client = make_client()
    sale = api("front_desk").post("/api/v1/sales", json={
        "client_id": client.id, "lines": [{"package_code": "FACE-3", "quantity": 1}],
        "payment": "cash"})
    assert sale.status_code == 201, sale.get_json()
    assert sale.get_json()["status"] == "paid"
    purchase_id = db.session.scalar(select(PackagePurchase.id)
                                    .where(PackagePurchase.client_id == client.id))
    treated = api("provider").post(TREATMENTS, json=treatment_body(client.id, purchase_id))
    assert treated.status_code == 201
    assert treated.get_json()["sessions_left"] == 2
