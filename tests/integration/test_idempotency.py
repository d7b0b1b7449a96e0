"""Idempotency-Key (API.md "Conventions added"): scoped per user, kept 24 h, freed when the
request fails or when its worker died (the claim's lease ran out)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from pos.extensions import db
from pos.models import IdempotencyRecord, Sale
from pos.services import clock
from pos.services.transaction import write_transaction
from pos.web.api.idempotency import Claim, _take_over
from tests.factories import make_item, receive

CASH_SALE = {"payment": "cash", "lines": [{"sku": "SERUM", "quantity": 1}]}
KEY = {"Idempotency-Key": "till-1-sale-42"}


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    make_item("SERUM", price_cents=6500, lots=[("S-1", 5, 300)])


def sales_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Sale)) or 0


def records() -> list[IdempotencyRecord]:
    db.session.rollback()
    return list(db.session.scalars(select(IdempotencyRecord).order_by(IdempotencyRecord.id)))


def age_records(**ages: timedelta) -> None:
    """Move every record's timestamps back (created_at=..., claimed_at=...)."""
    with write_transaction() as session:
        for column, age in ages.items():
            session.execute(update(IdempotencyRecord).values(
                {column: clock.now() - age}))


def test_the_same_key_from_two_users_makes_two_sales(api, shop):
    desk = api("front_desk").post("/api/v1/sales", json=CASH_SALE, headers=KEY)
    manager = api("manager").post("/api/v1/sales", json=CASH_SALE, headers=KEY)
    assert desk.status_code == manager.status_code == 201
    assert desk.json["id"] != manager.json["id"]
    assert "Idempotent-Replayed" not in manager.headers
    assert sales_count() == 2
    # Each user's retry replays that user's own sale.
    again = api("manager").post("/api/v1/sales", json=CASH_SALE, headers=KEY)
    assert (again.json["id"], again.headers["Idempotent-Replayed"]) == \
        (manager.json["id"], "true")
    assert sales_count() == 2


def test_a_refused_sale_keeps_nothing_and_its_retry_runs_again(api, shop):
    desk = api("front_desk")
    body = {"payment": "cash", "lines": [{"sku": "SERUM", "quantity": 6}]}
    refused = desk.post("/api/v1/sales", json=body, headers=KEY)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "insufficient_stock"
    assert records() == []
    receive("SERUM", 1, "S-2")
    retried = desk.post("/api/v1/sales", json=body, headers=KEY)
    assert retried.status_code == 201 and retried.json["status"] == "paid"
    assert sales_count() == 1


def test_an_invalid_body_keeps_nothing_either(api, shop):
    desk = api("front_desk")
    bad = desk.post("/api/v1/sales", json={"payment": "cash", "lines": []}, headers=KEY)
    assert bad.status_code == 422
    assert records() == []


def test_a_record_older_than_24_hours_no_longer_replays(api, shop):
    desk = api("front_desk")
    first = desk.post("/api/v1/sales", json=CASH_SALE, headers=KEY)
    age_records(created_at=timedelta(hours=24, minutes=1))
    again = desk.post("/api/v1/sales", json=CASH_SALE, headers=KEY)
    assert again.status_code == 201 and again.json["id"] != first.json["id"]
    assert "Idempotent-Replayed" not in again.headers
    assert sales_count() == 2
    assert [r.status_code for r in records()] == [201]  # the key now answers for the new sale


def test_the_worker_purges_records_older_than_24_hours(app, api, shop):
    desk = api("front_desk")
    desk.post("/api/v1/sales", json=CASH_SALE, headers={"Idempotency-Key": "old"})
    age_records(created_at=timedelta(hours=25))
    desk.post("/api/v1/sales", json=CASH_SALE, headers={"Idempotency-Key": "recent"})

    result = app.test_cli_runner().invoke(args=["pos", "worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "idempotency_purged=1" in result.output
    assert [r.key for r in records()] == ["recent"]
    replay = desk.post("/api/v1/sales", json=CASH_SALE, headers={"Idempotency-Key": "recent"})
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert sales_count() == 2


def test_a_claim_within_its_lease_is_in_progress_and_says_when_to_retry(app, api, shop,
                                                                         users):
    app.config["IDEMPOTENCY_LEASE_SECONDS"] = 60
    desk = api("front_desk")
    desk.post("/api/v1/sales", json=CASH_SALE, headers=KEY)
    # As if the request were still running, 10 s after it started.
    with write_transaction() as session:
        session.execute(update(IdempotencyRecord).values(
            status_code=0, response={}, claimed_at=clock.now() - timedelta(seconds=10)))
    busy = desk.post("/api/v1/sales", json=CASH_SALE, headers=KEY)
    assert busy.status_code == 409
    assert busy.json["error"]["code"] == "request_in_progress"
    assert 45 <= int(busy.headers["Retry-After"]) <= 52
    assert sales_count() == 1


def test_a_claim_whose_worker_died_is_taken_over_after_the_lease(app, api, shop):
    app.config["IDEMPOTENCY_LEASE_SECONDS"] = 60
    desk = api("front_desk")
    first = desk.post("/api/v1/sales", json=CASH_SALE, headers=KEY)
    # Turn its record back into a claim that never answered, 61 s old (as if the worker
    # serving it had been killed; the SIGKILL itself is test_idempotency_sigkill_pg).
    with write_transaction() as session:
        session.execute(update(IdempotencyRecord).values(
            status_code=0, response={}, claimed_at=clock.now() - timedelta(seconds=61)))
    retried = desk.post("/api/v1/sales", json=CASH_SALE, headers=KEY)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert retried.json["id"] != first.json["id"]  # it ran again
    assert sales_count() == 2
    (record,) = records()
    assert (record.status_code, record.response["id"]) == (201, retried.json["id"])


def test_of_two_retries_of_a_dead_claim_only_one_takes_it_over(app, api, shop, users):
    app.config["IDEMPOTENCY_LEASE_SECONDS"] = 60
    api("front_desk").post("/api/v1/sales", json=CASH_SALE, headers=KEY)
    (record,) = records()
    with write_transaction() as session:
        session.execute(update(IdempotencyRecord).values(
            status_code=0, claimed_at=clock.now() - timedelta(seconds=61)))
    now = clock.now()
    claims = [Claim(record.user_id, record.endpoint, record.key, record.request_hash,
                    now + timedelta(microseconds=n)) for n in (1, 2)]
    assert [_take_over(claim) for claim in claims] == [True, False]
    (record,) = records()
    assert record.claimed_at == claims[0].claimed_at
