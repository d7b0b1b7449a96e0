"""Checkout throughput: gunicorn (2 workers) on PostgreSQL, 8 clients posting cash sales of
one package and two retail items through `POST /api/v1/sales`.

Baseline, measured in the same run on the same database: the same rows written by plain
psycopg, 8 threads, one transaction per sale (lock the two stock rows FOR UPDATE, insert
the sale, its three lines and two ledger rows, update the item and lot caches, commit):
what the database itself can do. Target: the app reaches at least half the baseline's
sales per second, with p95 under 50 ms.

Run: `python -m bench.checkout_bench` (or `make bench`).
"""
from __future__ import annotations

import http.client
import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from bench.common import (
    Gunicorn,
    bench_app,
    cpu_seconds,
    fresh_database,
    percentile,
    pg_server_url,
    request,
    rss_kib,
)

CLIENTS = 8
SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))
MAX_SALES_PER_CLIENT = 20_000
STOCK = 2_000_000
SKUS = ("BENCH-SERUM", "BENCH-SPF")
PACKAGE = "BENCH-FACE"


def seed(database_url: str) -> dict[str, Any]:
    """Schema, two retail items with plenty of stock, one package, a client and a token."""
    from pos.extensions import db
    from pos.services import catalog, clients, clock, staff, stock

    app = bench_app(database_url)
    with app.app_context():
        db.create_all()
        expires = clock.today() + timedelta(days=700)
        for sku, price in zip(SKUS, (6500, 3200), strict=True):
            catalog.create_item(catalog.NewItem(
                sku=sku, name=sku.title(), kind="retail", unit="bottle", price_cents=price,
                cost_cents=1000, reorder_point=5, reorder_quantity=10, taxable=True), None)
            stock.receive_stock(sku=sku, quantity=STOCK, lot_code=f"{sku}-L1",
                                expires_on=expires, unit_cost_cents=1000, user_id=None)
        catalog.create_item(catalog.NewItem(
            sku="BENCH-NEEDLE", name="Needle cartridge", kind="supply", unit="each",
            price_cents=0, cost_cents=300, reorder_point=5, reorder_quantity=10,
            taxable=False), None)
        catalog.create_package(catalog.NewPackage(
            code=PACKAGE, name="Face, 3 sessions", area="face", sessions=3, price_cents=60000,
            min_days_between=28, max_days_between=None, supplies=(("BENCH-NEEDLE", 1),)), None)
        client = clients.create_client(first_name="Bench", last_name="Client", email=None,
                                       phone=None, user_id=None)
        user = staff.create_user("bench-desk@bench.example", "front_desk",
                                 "bench-password-123456")
        token = staff.create_token(user.email)
        ids = dict(db.session.execute(db.text(
            "SELECT sku, id FROM items WHERE sku IN ('BENCH-SERUM', 'BENCH-SPF')")).all())
        package_id = db.session.scalar(db.text("SELECT id FROM packages WHERE code = :c"),
                                       {"c": PACKAGE})
        client_id = client.id
        db.session.remove()
        db.engine.dispose()
    return {"token": token, "client_id": client_id, "item_ids": ids, "package_id": package_id}


def _load(port: int, token: str, client_id: int) -> dict[str, Any]:
    body = {"client_id": client_id, "payment": "cash",
            "lines": [{"package_code": PACKAGE, "quantity": 1},
                      {"sku": SKUS[0], "quantity": 1}, {"sku": SKUS[1], "quantity": 1}]}
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    errors: list[str] = []
    start = threading.Barrier(CLIENTS + 1)
    stop_at = [0.0]

    def client_loop(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        try:
            for _ in range(MAX_SALES_PER_CLIENT):
                if time.monotonic() >= stop_at[0]:
                    break
                began = time.perf_counter()
                try:
                    status, data = request(port, "POST", "/api/v1/sales", body, headers, conn)
                except (OSError, http.client.HTTPException) as error:
                    errors.append(type(error).__name__)
                    continue
                if status == 201:
                    latencies[index].append(time.perf_counter() - began)
                else:
                    errors.append(f"{status} {data[:120]!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    stop_at[0] = began + SECONDS
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    return _figures([x for per in latencies for x in per], elapsed, errors)


def _figures(latencies: list[float], elapsed: float, errors: list[str]) -> dict[str, Any]:
    return {"sales": len(latencies), "seconds": round(elapsed, 2),
            "sales_per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
            "errors": len(errors), "first_errors": sorted(set(errors))[:3]}


def _libpq(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


def _baseline(database_url: str, seeded: dict[str, Any]) -> dict[str, Any]:
    """The same rows per sale, written by plain psycopg: the database's own limit."""
    dsn = _libpq(database_url)
    item_ids = sorted(seeded["item_ids"].values())
    with psycopg.connect(dsn) as conn:
        location_id = conn.execute("SELECT id FROM locations LIMIT 1").fetchone()[0]
        lots = dict(conn.execute("SELECT item_id, id FROM lots WHERE item_id = ANY(%s)",
                                 (item_ids,)).fetchall())
    package_id = seeded["package_id"]
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    errors: list[str] = []
    start = threading.Barrier(CLIENTS + 1)
    stop_at = [0.0]

    def writer(index: int) -> None:
        with psycopg.connect(dsn) as conn:
            start.wait()
            for _ in range(MAX_SALES_PER_CLIENT):
                if time.monotonic() >= stop_at[0]:
                    break
                began = time.perf_counter()
                try:
                    _one_sale(conn, location_id, item_ids, lots, package_id)
                except psycopg.Error as error:
                    conn.rollback()
                    errors.append(type(error).__name__)
                    continue
                latencies[index].append(time.perf_counter() - began)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    stop_at[0] = began + SECONDS
    start.wait()
    for thread in threads:
        thread.join()
    return _figures([x for per in latencies for x in per], time.monotonic() - began, errors)


def _one_sale(conn: psycopg.Connection, location_id: int, item_ids: list[int],
              lots: dict[int, int], package_id: int) -> None:
    now = datetime.now(UTC)
    with conn.transaction():
        conn.execute("SELECT id FROM item_stock WHERE item_id = ANY(%s) AND location_id = %s "
                     "ORDER BY item_id FOR UPDATE", (item_ids, location_id))
        sale_id = conn.execute(
            "INSERT INTO sales (location_id, status, payment_method, subtotal_cents, "
            "discount_cents, tax_cents, total_cents, created_at, paid_at) "
            "VALUES (%s, 'paid', 'cash', 69700, 0, 776, 70476, %s, %s) RETURNING id",
            (location_id, now, now)).fetchone()[0]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO sale_lines (sale_id, item_id, package_id, name, category, "
                "quantity, unit_price_cents, subtotal_cents, discount_cents, tax_cents, "
                "total_cents, taxable, refunded_quantity) "
                "VALUES (%s, %s, %s, %s, %s, 1, %s, %s, 0, %s, %s, %s, 0)",
                [(sale_id, None, package_id, "Face", "package", 60000, 60000, 0, 60000, False),
                 (sale_id, item_ids[0], None, "Serum", "retail", 6500, 6500, 520, 7020, True),
                 (sale_id, item_ids[1], None, "Spf", "retail", 3200, 3200, 256, 3456, True)])
            cur.executemany(
                "INSERT INTO stock_movements (at, item_id, lot_id, location_id, qty_delta, "
                "reason, reference) VALUES (%s, %s, %s, %s, -1, 'sale', %s)",
                [(now, item_id, lots[item_id], location_id, f"sale:{sale_id}")
                 for item_id in item_ids])
            cur.executemany(
                "UPDATE item_stock SET on_hand = on_hand - 1 "
                "WHERE item_id = %s AND location_id = %s",
                [(item_id, location_id) for item_id in item_ids])
            cur.executemany(
                "UPDATE lot_stock SET on_hand = on_hand - 1 WHERE lot_id = %s AND location_id = %s",
                [(lots[item_id], location_id) for item_id in item_ids])


def run(workers: int = 2) -> dict[str, Any]:
    server = pg_server_url()
    if server is None:
        return {"skipped": "PostgreSQL is not reachable (TEST_DATABASE_URL)"}
    with fresh_database(server, "pos_bench_checkout") as url:
        seeded = seed(url)
        gunicorn = Gunicorn(url, workers=workers)
        try:
            request(gunicorn.port, "POST", "/api/v1/sales", None,
                    {"Authorization": f"Bearer {seeded['token']}"})  # warm both workers' pools
            workers_pids = gunicorn.worker_pids()
            fresh_rss = max(rss_kib(pid) for pid in workers_pids)
            cpu_before = sum(cpu_seconds(pid) for pid in workers_pids)
            app = _load(gunicorn.port, seeded["token"], seeded["client_id"])
            # The app's own cost of a sale: what bounds the throughput of two workers.
            cpu_used = sum(cpu_seconds(pid) for pid in workers_pids) - cpu_before
            app["worker_cpu_ms_per_sale"] = round(1000 * cpu_used / max(app["sales"], 1), 2)
            app["worker_rss_mib_fresh"] = round(fresh_rss / 1024, 1)
            app["worker_rss_mib_after"] = round(
                max(rss_kib(pid) for pid in workers_pids) / 1024, 1)
            inside = gunicorn.access_durations_ms("POST", "/api/v1/sales", 201)
            app["in_worker_p50_ms"] = round(percentile(inside, 0.50), 2)
            app["in_worker_p95_ms"] = round(percentile(inside, 0.95), 2)
        finally:
            gunicorn.stop()
        baseline = _baseline(url, seeded)
    ratio = app["sales_per_second"] / baseline["sales_per_second"] if baseline["sales"] else 0
    return {"benchmark": "checkout throughput", "workers": workers, "clients": CLIENTS,
            "seconds_per_run": SECONDS, "app": app, "baseline_psycopg": baseline,
            "throughput_ratio": round(ratio, 3),
            "target_met": ratio >= 0.5 and app["p95_ms"] < 50 and app["errors"] == 0}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
