"""What checking for stock alerts costs, with 50 items in the catalog and with 50,000.

The alert hook looks only at the items a transaction touched, so its cost must not grow
with the catalog. This bench builds both catalogs (bulk inserts: every other item is out
of stock, so a catalog scan would have plenty to find), then makes the same adjustments
to one item, alternately down across its reorder point (an alert and its email are
written) and back up, and measures the hook inside each commit: its time and the number
of SQL statements it runs. The whole adjustment is timed too, for scale.

Run: `python -m bench.alerts_bench` (or through `make bench`). `run()` returns the figures.
"""
from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session

from bench.common import fresh_database, pg_server_url

CATALOG_SIZES = (50, 50_000)
ADJUSTMENTS = 200  # half of them raise an alert


def _bulk_catalog(session: Session, size: int, location_id: int) -> None:
    from pos.models import Item, ItemStock

    batch = 5_000
    for start in range(0, size, batch):
        rows = [{"sku": f"BULK-{n:06d}", "name": f"Bulk item {n}", "kind": "supply",
                 "unit": "each", "price_cents": 100, "cost_cents": 50, "taxable": False,
                 "reorder_point": 5, "reorder_quantity": 10, "active": True}
                for n in range(start, min(start + batch, size))]
        ids = session.scalars(insert(Item).returning(Item.id), rows).all()
        session.execute(insert(ItemStock), [
            {"item_id": item_id, "location_id": location_id,
             "on_hand": 0 if item_id % 2 else 20, "held": 0} for item_id in ids])
    session.commit()


def _measure(url: str, catalog_size: int) -> dict[str, Any]:
    from pos import create_app
    from pos.extensions import db
    from pos.services import alerts, catalog, ledger, stock
    from pos.services import transaction as tx

    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url,
                              "ALERT_EMAIL_TO": "manager@clinic.test"})
    with app.app_context():
        db.create_all()
        location = ledger.default_location(db.session)
        db.session.commit()
        _bulk_catalog(db.session, catalog_size - 1, location.id)
        catalog.create_item(catalog.NewItem(
            sku="BENCH", name="Bench serum", kind="retail", unit="bottle", price_cents=6500,
            cost_cents=1900, reorder_point=10, reorder_quantity=20, taxable=True), None)
        stock.receive_stock(sku="BENCH", quantity=11, lot_code="B-1", expires_on=None,
                            unit_cost_cents=None, user_id=None)

        hook_seconds: list[float] = []
        hook_statements: list[int] = []
        counting = {"on": False, "n": 0}

        def count(*_args: Any) -> None:
            if counting["on"]:
                counting["n"] += 1

        original: Callable[[Session], None] = alerts.check_touched_items

        def timed_hook(session: Session) -> None:
            counting.update(on=True, n=0)
            start = time.perf_counter()
            original(session)
            hook_seconds.append(time.perf_counter() - start)
            counting["on"] = False
            hook_statements.append(counting["n"])

        hooks = tx._before_commit_hooks
        position = hooks.index(original)
        hooks[position] = timed_hook
        event.listen(db.engine, "before_cursor_execute", count)
        adjust_seconds = []
        try:
            for i in range(ADJUSTMENTS):
                delta = -1 if i % 2 == 0 else 1  # 11 -> 10 (an alert) -> 11 (re-armed)
                start = time.perf_counter()
                stock.adjust_stock(sku="BENCH", lot_code="B-1", qty_delta=delta,
                                   reason="other", note=None, user_id=None)
                adjust_seconds.append(time.perf_counter() - start)
        finally:
            hooks[position] = original
            event.remove(db.engine, "before_cursor_execute", count)
        alert_count = db.session.scalar(text("SELECT count(*) FROM alerts"))
        db.session.remove()
        db.engine.dispose()

    crossing = hook_seconds[0::2]
    quiet = hook_seconds[1::2]
    return {
        "catalog_items": catalog_size,
        "adjustments": ADJUSTMENTS,
        "alerts_raised": int(alert_count or 0),
        "hook_ms_median_with_alert": round(statistics.median(crossing) * 1000, 3),
        "hook_ms_median_without_alert": round(statistics.median(quiet) * 1000, 3),
        "hook_sql_statements_with_alert": max(hook_statements[0::2]),
        "hook_sql_statements_without_alert": max(hook_statements[1::2]),
        "adjustment_ms_median": round(statistics.median(adjust_seconds) * 1000, 3),
    }


@contextmanager
def _sqlite_database(size: int) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="pos-alerts-bench-") as folder:
        yield f"sqlite:///{Path(folder) / f'catalog-{size}.sqlite3'}"


def _backends() -> dict[str, Callable[[int], AbstractContextManager[str]]]:
    """Each backend makes a throw-away database for one catalog size."""
    backends: dict[str, Callable[[int], AbstractContextManager[str]]] = {
        "sqlite": _sqlite_database}
    server = pg_server_url()
    if server:
        backends["postgresql"] = lambda size: fresh_database(server, f"pos_alerts_bench_{size}")
    return backends


def run() -> dict[str, Any]:
    os.environ.setdefault("POS_INSTANCE_DIR", tempfile.mkdtemp(prefix="pos-bench-instance-"))
    results: dict[str, Any] = {"benchmark": "alert check per adjustment vs catalog size"}
    for backend, database in _backends().items():
        figures = {}
        for size in CATALOG_SIZES:
            with database(size) as url:
                figures[str(size)] = _measure(url, size)
        results[backend] = figures
    _print(results)
    return results


def _print(results: dict[str, Any]) -> None:
    small, large = (str(s) for s in CATALOG_SIZES)
    print("Alert check cost: the same adjustments to one item, catalog of "
          f"{int(small):,} vs {int(large):,} items")
    rows = [("hook, median ms (alert raised)", "hook_ms_median_with_alert"),
            ("hook, median ms (no alert)", "hook_ms_median_without_alert"),
            ("hook, SQL statements (alert raised)", "hook_sql_statements_with_alert"),
            ("hook, SQL statements (no alert)", "hook_sql_statements_without_alert"),
            ("whole adjustment, median ms", "adjustment_ms_median"),
            ("alerts raised", "alerts_raised")]
    for backend in ("sqlite", "postgresql"):
        if backend not in results:
            continue
        figures = results[backend]
        print(f"\n  {backend:<38}{int(small):>12,}{int(large):>14,}")
        for label, key in rows:
            print(f"  {label:<38}{figures[small][key]:>12}{figures[large][key]:>14}")
    print()
    print(json.dumps(results))


if __name__ == "__main__":
    run()
