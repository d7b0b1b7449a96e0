"""Parked sales under concurrency on PostgreSQL: a sale resumed from two desks at once goes
to exactly one of them; two first saves of one desk's cart leave one row."""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import DeskCart
from pos.services import carts
from pos.services.carts import CartContents
from pos.services.sales import CartLine
from tests.factories import make_item

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("carts_pg")]

SERUM_LINE = (CartLine(sku="SERUM", package_code=None, quantity=1),)


def at_once(app, count: int, action: Callable[[int], object]) -> tuple[list, list]:  # type: ignore[no-untyped-def,type-arg]
    """Run `action(i)` in `count` threads released together; (results, errors)."""
    barrier = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(10)
                results.append(action(i))
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


def test_a_parked_sale_resumed_on_four_desks_at_once_goes_to_one(pg_app):
    make_item("SERUM", lots=[("L-1", 5, 200)])
    parked = carts.park(CartContents(client_id=None, lines=SERUM_LINE, discount_code=None),
                        label="Walk-in", user_id=None)
    parked_id = parked.id

    results, errors = at_once(pg_app, 4, lambda i: carts.resume(
        parked_id, user_id=None, desk_key=f"desk-{i}-" + "k" * 32))

    assert len(results) == 1 and results[0].lines == SERUM_LINE
    assert [type(e).__name__ for e in errors] == ["NotFound"] * 3
    db.session.expire_all()
    rows = list(db.session.scalars(select(DeskCart)))
    assert [(r.parked, r.desk_key is not None) for r in rows] == [(False, True)]


def test_two_first_saves_of_one_desk_leave_one_cart(pg_app):
    make_item("SERUM", lots=[("L-1", 5, 200)])
    key = "d" * 43
    _results, errors = at_once(pg_app, 2, lambda i: carts.save_desk_cart(
        key, CartContents(client_id=None, discount_code=None,
                          lines=(CartLine(sku="SERUM", package_code=None, quantity=i + 1),)),
        user_id=None))
    assert errors == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(DeskCart)) == 1
