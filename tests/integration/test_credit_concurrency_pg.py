"""On PostgreSQL: spends of one client's account credit racing never overdraw it."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from pos.domain.credit import CreditTooLow
from pos.extensions import db
from pos.models import ClientCreditEntry
from pos.services import credit
from pos.services.transaction import write_transaction
from tests.fixtures_payments import make_client

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def app(pg_app):  # type: ignore[no-untyped-def]
    return pg_app


def test_eight_spends_racing_for_100_dollars_of_credit_leave_it_at_10_and_never_below(app):
    client_id = make_client()
    with write_transaction() as session:
        credit.issue_credit(session, client_id, 10000, reason="a refund")
    start = threading.Barrier(8)

    def spend(_: int) -> str:
        with app.app_context():
            start.wait(30)
            try:
                with write_transaction() as session:
                    credit.spend_credit(session, client_id, 3000, None)
                return "spent"
            except CreditTooLow:
                return "credit_too_low"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(spend, range(8)))

    assert outcomes == ["credit_too_low"] * 5 + ["spent"] * 3
    db.session.rollback()
    assert credit.balance(db.session, client_id) == 1000
    balances = db.session.scalars(select(ClientCreditEntry.balance_after_cents)
                                  .order_by(ClientCreditEntry.id)).all()
    assert balances == [10000, 7000, 4000, 1000]
    assert db.session.scalar(select(func.min(ClientCreditEntry.balance_after_cents))) >= 0
