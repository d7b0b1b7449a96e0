"""Voiding a treatment the same day, and where each series stands."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from sqlalchemy import func, select

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
from pos.services import clock, treatments
from tests.fixtures_clinical import (
    lots_on_hand,
    make_client,
    make_series_purchase,
    treatment_body,
)

TREATMENTS = "/api/v1/treatments"


def void_url(treatment_id: int) -> str:
    return f"/api/v1/treatments/{treatment_id}/void"


REASON = {"reason": "Recorded on the wrong client"}


def test_a_void_the_same_day_returns_the_session_and_writes_the_supplies_off_as_waste(
        app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    done = api("provider").post(TREATMENTS, json=treatment_body(client.id, purchase.id))
    treatment_id = done.get_json()["id"]
    after_treatment = {"C-SOON": 9, "L-SOON": 3, "H-SOON": 27, "FV-1": 4}
    assert lots_on_hand("C-SOON", "L-SOON", "H-SOON", "FV-1") == after_treatment

    voided = api("provider").post(void_url(treatment_id), json=REASON)
    assert voided.status_code == 200, voided.get_json()
    body = voided.get_json()
    assert body["sessions_left"] == 3
    assert body["reason"] == "Recorded on the wrong client"
    assert sorted((c["sku"], c["lot"], c["quantity"], c["reason"])
                  for c in body["written_off"]) == [
        ("CART", "C-SOON", 1, "waste"), ("HA", "H-SOON", 3, "waste"),
        ("LIDO", "L-SOON", 5, "waste"), ("MASK", "M-1", 1, "waste"),
        ("MIST", "MI-1", 5, "waste")]
    # The used cartridge, the opened lidocaine and serum: never back on the shelf.
    assert lots_on_hand("C-SOON", "L-SOON", "H-SOON", "FV-1") == after_treatment
    db.session.expire_all()
    assert db.session.get(PackagePurchase, purchase.id).sessions_left == 3
    # The bundle was handed to the client: it stays theirs, and is not given twice.
    assert db.session.get(Client, client.id).first_visit_bundle_at is not None
    # Nothing deleted: the treatment and its lots stay; the write-offs are new ledger lines.
    treatment = db.session.get(Treatment, treatment_id)
    assert treatment.voided_at is not None
    assert treatment.void_reason == "Recorded on the wrong client"
    assert db.session.scalar(select(func.count()).select_from(TreatmentSupply)) == 5
    moves = db.session.scalars(select(StockMovement).where(
        StockMovement.reference == f"treatment:{treatment_id}")).all()
    assert sorted(m.reason for m in moves) == ["first_visit_bundle"] + ["treatment"] * 5 + \
        ["treatment_void"] * 5 + ["waste"] * 5
    waste = sorted((m.lot.code, m.qty_delta) for m in moves if m.reason == "waste")
    assert waste == [("C-SOON", -1), ("H-SOON", -3), ("L-SOON", -5), ("M-1", -1),
                     ("MI-1", -5)]
    # What the treatment consumed (and the bundle) left the shelf for good.
    assert sum(m.qty_delta for m in moves) == -(1 + 5 + 3 + 1 + 5) - 1
    for item_stock in db.session.scalars(select(ItemStock)):
        assert item_stock.on_hand == db.session.scalar(
            select(func.sum(StockMovement.qty_delta))
            .where(StockMovement.item_id == item_stock.item_id))
    # The reason may describe care: it stays on the treatment, not in the audit log.
    assert db.session.scalar(select(AuditEntry.details).where(
        AuditEntry.action == "treatment.void")) == {"client_id": client.id,
                                                     "purchase_id": purchase.id}

    # The client's next treatment is session 1 again, without a second bundle.
    again = api("provider").post(TREATMENTS, json=treatment_body(client.id, purchase.id))
    assert again.status_code == 201
    assert (again.get_json()["session_number"], again.get_json()["first_visit_bundle"]) == \
        (1, False)


def test_a_void_without_a_reason_is_422_and_changes_nothing(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    treatment_id = api("provider").post(
        TREATMENTS, json=treatment_body(client.id, purchase.id)).get_json()["id"]
    provider = api("provider")
    for body in (None, {}, {"reason": ""}, {"reason": "   "}, {"reason": 5}):
        refused = provider.post(void_url(treatment_id), json=body)
        assert refused.status_code == 422, body
        assert refused.get_json()["error"]["code"] == "validation_error"
    db.session.expire_all()
    assert db.session.get(Treatment, treatment_id).voided_at is None
    assert db.session.get(PackagePurchase, purchase.id).sessions_left == 2
    assert db.session.scalar(select(func.count()).select_from(StockMovement)
                             .where(StockMovement.reason == "waste")) == 0


def test_a_void_the_next_day_needs_a_provider_who_is_also_a_manager(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    with freeze_time(datetime.now(UTC)) as frozen:
        treatment_id = api("provider").post(
            TREATMENTS, json=treatment_body(client.id, purchase.id)).get_json()["id"]
        frozen.tick(timedelta(days=1))
        refused = api("provider").post(void_url(treatment_id), json=REASON)
        assert refused.status_code == 422
        assert refused.get_json()["error"]["code"] == "void_window_passed"
        db.session.expire_all()
        assert db.session.get(PackagePurchase, purchase.id).sessions_left == 2
        assert db.session.get(Treatment, treatment_id).voided_at is None
        assert lots_on_hand("C-SOON") == {"C-SOON": 9}

        later = api("provider+manager").post(void_url(treatment_id), json=REASON)
        assert later.status_code == 200, later.get_json()
    db.session.expire_all()
    assert db.session.get(PackagePurchase, purchase.id).sessions_left == 3
    assert lots_on_hand("C-SOON") == {"C-SOON": 9}
    assert [c["sku"] for c in later.get_json()["written_off"]].count("CART") == 1


def test_a_treatment_is_voided_once(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    treatment_id = api("provider").post(
        TREATMENTS, json=treatment_body(client.id, purchase.id)).get_json()["id"]
    provider = api("provider")
    assert provider.post(void_url(treatment_id), json=REASON).status_code == 200
    twice = provider.post(void_url(treatment_id), json=REASON)
    assert twice.status_code == 409
    assert twice.get_json()["error"]["code"] == "already_voided"
    assert lots_on_hand("C-SOON") == {"C-SOON": 9}
    assert provider.post(void_url(99999), json=REASON).status_code == 404


def test_only_a_provider_may_void_whatever_else_the_others_hold(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    treatment_id = api("provider").post(
        TREATMENTS, json=treatment_body(client.id, purchase.id)).get_json()["id"]
    for role in ("front_desk", "manager", "admin", "front_desk+admin"):
        response = api(role).post(void_url(treatment_id), json=REASON)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
    assert lots_on_hand("C-SOON") == {"C-SOON": 9}


def test_a_voided_session_no_longer_counts_for_the_spacing(app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    provider = api("provider")
    earlier = (clock.now() - timedelta(days=40)).isoformat()
    assert provider.post(TREATMENTS, json=treatment_body(
        client.id, purchase.id, performed_at=earlier)).status_code == 201
    mistake = provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id))
    assert mistake.status_code == 201
    assert api("provider").post(void_url(mistake.get_json()["id"]),
                                json=REASON).status_code == 200
    redo = provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id))
    assert redo.status_code == 201
    assert redo.get_json()["session_number"] == 2


def test_series_progress_shows_used_left_dates_and_the_next_eligible_day(
        app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    single = make_series_purchase(client, "FACE-1")
    provider = api("provider")
    first_at = clock.now() - timedelta(days=50)
    provider.post(TREATMENTS, json=treatment_body(client.id, purchase.id,
                                                  performed_at=first_at.isoformat()))
    progress = {p.purchase_id: p for p in treatments.series_progress(db.session, client.id)}
    series = progress[purchase.id]
    assert (series.sessions_used, series.sessions_left, series.sessions_total) == (1, 2, 3)
    assert [clock.clinic_date(s.performed_at) for s in series.sessions] == \
        [clock.clinic_date(first_at)]
    assert series.next_eligible_on == clock.clinic_date(first_at) + timedelta(days=28)
    assert series.progress.eligible_today is True
    # 50 days since the last session: past the recommended 42, so the series is off rhythm.
    assert series.progress.off_rhythm is True
    assert any("overdue" in w for w in series.warnings)
    untouched = progress[single.id]
    assert (untouched.sessions_used, untouched.sessions_left) == (0, 1)
    assert untouched.next_eligible_on is None
    assert untouched.warnings == ()


def test_a_void_of_an_impossible_id_is_404_not_a_server_error(app, api, clinic_stock):
    provider = api("provider")
    for treatment_id in ("0", "2147483648", "99999999999999999999"):
        response = provider.post(f"/api/v1/treatments/{treatment_id}/void", json=REASON)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def test_the_monthly_report_counts_a_voided_treatments_supplies_as_waste(
        app, api, clinic_stock):
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    treatment_id = api("provider").post(
        TREATMENTS, json=treatment_body(client.id, purchase.id)).get_json()["id"]
    assert api("provider").post(void_url(treatment_id), json=REASON).status_code == 200
    month = clock.today().strftime("%Y-%m")
    report = api("manager").get(f"/api/v1/reports/monthly?month={month}").get_json()
    waste = report["write_offs_by_reason"]["waste"]
    assert waste["quantity"] == 1 + 5 + 3 + 1 + 5
    assert waste["cost_cents"] == (1 + 5 + 3 + 1 + 5) * 100
    # Not consumed by a treatment any more: the voided one is out of the supplies used.
    assert report["supplies_consumed"] == [] or all(
        row["quantity"] == 0 for row in report["supplies_consumed"])
