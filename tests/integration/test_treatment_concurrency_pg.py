"""Two terminals redeem at the same moment on PostgreSQL: row locks decide, nothing doubles."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import (
    Client,
    ItemStock,
    PackagePurchase,
    StockMovement,
    Treatment,
    TreatmentSupply,
)
from pos.services import clock
from tests import factories
from tests.fixtures_clinical import (
    make_client,
    make_clinic_stock,
    make_series_purchase,
    treatment_body,
)

pytestmark = pytest.mark.postgres
TREATMENTS = "/api/v1/treatments"


@pytest.fixture
def api(pg_app):  # type: ignore[no-untyped-def]
    """api(role) on PostgreSQL only (the shared `api` fixture runs on both backends)."""
    return factories.ApiClients(pg_app, factories.UserPool())


def race(terminals, bodies):  # type: ignore[no-untyped-def]
    """Start one request per terminal at the same instant; return their responses."""
    barrier = threading.Barrier(len(terminals))
    responses: list = [None] * len(terminals)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            responses[index] = terminals[index].post(TREATMENTS, json=bodies[index])
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(terminals))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return responses


def supplies_ledger(item_id: int) -> tuple[int, int, int]:
    """(on-hand cache, sum of the ledger, quantity recorded on treatments) for an item."""
    db.session.expire_all()
    cache = db.session.scalar(select(ItemStock.on_hand).where(ItemStock.item_id == item_id))
    ledger = db.session.scalar(select(func.sum(StockMovement.qty_delta))
                               .where(StockMovement.item_id == item_id))
    used = db.session.scalar(select(func.coalesce(func.sum(TreatmentSupply.quantity), 0))
                             .where(TreatmentSupply.item_id == item_id))
    return cache, ledger, used


def test_two_terminals_redeeming_the_last_session_succeed_exactly_once(pg_app, api):
    stock = make_clinic_stock()
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    provider = api("provider")
    for days_ago in (60, 30):  # sessions 1 and 2, recorded when they were performed
        done = provider.post(TREATMENTS, json=treatment_body(
            client.id, purchase.id,
            performed_at=(clock.now() - timedelta(days=days_ago)).isoformat()))
        assert done.status_code == 201, done.get_json()
    cart_before = supplies_ledger(stock.id_of("CART"))
    assert cart_before == (28, 28, 2)

    terminals = [api("provider"), api("provider")]  # two clients, two connections
    body = treatment_body(client.id, purchase.id)
    responses = race(terminals, [body, body])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.get_json()["error"]["code"] == "no_sessions_left"
    db.session.expire_all()
    assert db.session.get(PackagePurchase, purchase.id).sessions_left == 0
    assert db.session.scalar(select(func.count()).select_from(Treatment)) == 3
    # Supplies deducted once: one cartridge and five lidocaine more, no more.
    assert supplies_ledger(stock.id_of("CART")) == (27, 27, 3)
    assert supplies_ledger(stock.id_of("LIDO")) == (58 - 15, 58 - 15, 15)


def test_two_first_visits_of_one_client_at_once_hand_out_one_bundle(pg_app, api):
    stock = make_clinic_stock()
    client = make_client()
    face = make_series_purchase(client, "FACE-3")
    scalp = make_series_purchase(client, "SCALP-3")
    terminals = [api("provider"), api("provider")]
    responses = race(terminals, [treatment_body(client.id, face.id),
                                 treatment_body(client.id, scalp.id, area="scalp")])
    assert [r.status_code for r in responses] == [201, 201]
    assert sorted(r.get_json()["first_visit_bundle"] for r in responses) == [False, True]
    assert supplies_ledger(stock.id_of("BUNDLE-FV"))[:2] == (4, 4)
    db.session.expire_all()
    assert db.session.get(Client, client.id).first_visit_bundle_at is not None
