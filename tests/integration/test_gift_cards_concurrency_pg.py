"""On PostgreSQL: redemptions of one gift card racing at several desks never overdraw it."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import GiftCard, GiftCardEntry
from pos.services import gift_cards
from pos.services.gift_cards import GiftCardBalanceTooLow
from pos.services.transaction import write_transaction

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def app(pg_app):  # type: ignore[no-untyped-def]
    return pg_app


def test_racing_redemptions_never_overdraw_a_card(app):
    with write_transaction() as session:
        code = gift_cards.issue(session, 5000, sale_line_id=None, sale_id=None,
                                user_id=None).code
    start = threading.Barrier(6)

    def redeem(_: int) -> str:
        start.wait(30)
        with app.app_context():
            try:
                with write_transaction() as session:
                    gift_cards.redeem(session, code, 2000, sale_id=None, payment_id=None,
                                      user_id=None)
                return "redeemed"
            except GiftCardBalanceTooLow:
                return "too_low"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(6) as pool:
        outcomes = sorted(pool.map(redeem, range(6)))

    # $50 pays two $20 redemptions; the four others find $10 left, whatever the order.
    assert outcomes == ["redeemed"] * 2 + ["too_low"] * 4
    db.session.rollback()
    card = db.session.scalar(select(GiftCard).where(GiftCard.code == code))
    assert card is not None and card.balance_cents == 1000
    assert db.session.scalar(select(func.sum(GiftCardEntry.amount_cents))
                             .where(GiftCardEntry.gift_card_id == card.id)) == 1000
