"""Checkout throughput: gunicorn (2 workers) on PostgreSQL, 8 clients posting cash sales of
one package and two retail items (a client, a bearer token) through `POST /api/v1/sales`.

Baseline, measured in the same run on the same database: exactly the rows the app writes
for that sale, by plain psycopg, 8 threads, one transaction per sale, one statement per
table: lock the two stock rows FOR UPDATE (item order), read their lots with stock (FEFO
needs them, as the app does), take the stock (item and lot caches, two ledger rows), take
the receipt number, insert the sale (paid, numbered), its tender (payments), its three
lines, the client's package purchase and the audit row, commit. The bench client has no
e-mail, so neither writes a receipt e-mail; no item crosses its reorder point, so the
app's alert hook reads nothing. What the database itself can do for this sale.
Target: the app reaches at least half the baseline's sales per second, p95 under 50 ms
at 8 clients, at most 3 ms of worker CPU per sale. A 2-core machine runs the clients,
the workers and PostgreSQL on the same two cores: the run also gives the ratio at
1 client and 1 worker beside the baseline at 1 thread.

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


def _body(client_id: int) -> dict[str, Any]:
    return {"client_id": client_id, "payment": "cash",
            "lines": [{"package_code": PACKAGE, "quantity": 1},
                      {"sku": SKUS[0], "quantity": 1}, {"sku": SKUS[1], "quantity": 1}]}


def statements_per_sale(database_url: str, seeded: dict[str, Any]) -> int:
    """Statements one sale takes through the app (in-process test client, same code and
    database): every cursor execute plus COMMIT, BEGIN not counted (psycopg sends it)."""
    from sqlalchemy import event

    from pos.extensions import db

    app = bench_app(database_url)
    seen: list[str] = []
    with app.app_context():
        client = app.test_client()
        headers = {"Authorization": f"Bearer {seeded['token']}"}
        client.post("/api/v1/sales", json=_body(seeded["client_id"]), headers=headers)
        db.session.remove()

        def statement(*_args: Any) -> None:
            seen.append("statement")

        def commit(*_args: Any) -> None:
            seen.append("COMMIT")

        event.listen(db.engine, "before_cursor_execute", statement)
        event.listen(db.engine, "commit", commit)
        response = client.post("/api/v1/sales", json=_body(seeded["client_id"]),
                               headers=headers)
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
        assert response.status_code == 201, response.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()
    return len(seen)


def _load(port: int, token: str, client_id: int, clients: int = CLIENTS) -> dict[str, Any]:
    body = _body(client_id)
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    start = threading.Barrier(clients + 1)
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

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
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


def _baseline(database_url: str, seeded: dict[str, Any],
              threads_count: int = CLIENTS) -> dict[str, Any]:
    """The same rows per sale, written by plain psycopg: the database's own limit."""
    dsn = _libpq(database_url)
    with psycopg.connect(dsn) as conn:
        location_id = conn.execute("SELECT id FROM locations LIMIT 1").fetchone()[0]
        user_id = conn.execute("SELECT id FROM users LIMIT 1").fetchone()[0]
    fixed = {"location_id": location_id, "user_id": user_id,
             "item_ids": sorted(seeded["item_ids"].values()),
             "package_id": seeded["package_id"], "client_id": seeded["client_id"]}
    latencies: list[list[float]] = [[] for _ in range(threads_count)]
    errors: list[str] = []
    start = threading.Barrier(threads_count + 1)
    stop_at = [0.0]

    def writer(index: int) -> None:
        with psycopg.connect(dsn) as conn:
            start.wait()
            for _ in range(MAX_SALES_PER_CLIENT):
                if time.monotonic() >= stop_at[0]:
                    break
                began = time.perf_counter()
                try:
                    _one_sale(conn, fixed)
                except psycopg.Error as error:
                    conn.rollback()
                    errors.append(type(error).__name__)
                    continue
                latencies[index].append(time.perf_counter() - began)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    stop_at[0] = began + SECONDS
    start.wait()
    for thread in threads:
        thread.join()
    figures = _figures([x for per in latencies for x in per], time.monotonic() - began, errors)
    figures["statements_per_sale"] = BASELINE_STATEMENTS
    return figures


# Calls of `_one_sale` (an executemany is one), COMMIT included, BEGIN not: as for the app.
BASELINE_STATEMENTS = 12


def _one_sale(conn: psycopg.Connection, fixed: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    location_id, user_id = fixed["location_id"], fixed["user_id"]
    item_ids = fixed["item_ids"]
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT item_id FROM item_stock WHERE item_id = ANY(%s) AND location_id = %s "
                    "ORDER BY item_id FOR UPDATE", (item_ids, location_id))
        # FEFO: the lot that expires first, of each item (one lot each here).
        lots = dict(cur.execute(
            "SELECT DISTINCT ON (lo.item_id) lo.item_id, lo.id FROM lots lo "
            "JOIN lot_stock ls ON ls.lot_id = lo.id WHERE lo.item_id = ANY(%s) "
            "AND ls.location_id = %s AND ls.on_hand > 0 "
            "ORDER BY lo.item_id, lo.expires_on, lo.id", (item_ids, location_id)).fetchall())
        cur.executemany(
            "UPDATE item_stock SET on_hand = on_hand - 1 WHERE item_id = %s AND location_id = %s",
            [(item_id, location_id) for item_id in item_ids])
        cur.executemany(
            "UPDATE lot_stock SET on_hand = on_hand - 1 WHERE lot_id = %s AND location_id = %s",
            [(lots[item_id], location_id) for item_id in item_ids])
        number = cur.execute(
            "UPDATE receipt_counters SET next_number = next_number + 1 "
            "WHERE location_id = %s RETURNING next_number - 1", (location_id,)).fetchone()[0]
        sale_id = cur.execute(
            "INSERT INTO sales (client_id, location_id, sold_by_id, status, payment_method, "
            "subtotal_cents, discount_cents, tax_cents, total_cents, created_at, paid_at, "
            "receipt_number) VALUES (%s, %s, %s, 'paid', 'cash', 69700, 0, 776, 70476, %s, %s, "
            "%s) RETURNING id",
            (fixed["client_id"], location_id, user_id, now, now, number)).fetchone()[0]
        cur.executemany(
            "INSERT INTO stock_movements (at, item_id, lot_id, location_id, qty_delta, "
            "reason, reference, user_id) VALUES (%s, %s, %s, %s, -1, 'sale', %s, %s)",
            [(now, item_id, lots[item_id], location_id, f"sale:{sale_id}", user_id)
             for item_id in item_ids])
        cur.execute(
            "INSERT INTO payments (sale_id, method, amount_cents, status, tip_cents, "
            "created_at, updated_at) VALUES (%s, 'cash', 70476, 'succeeded', 0, %s, %s)",
            (sale_id, now, now))
        package_line = cur.execute(
            "INSERT INTO sale_lines (sale_id, item_id, package_id, name, category, "
            "quantity, unit_price_cents, subtotal_cents, discount_cents, tax_cents, "
            "total_cents, taxable, refunded_quantity) VALUES "
            "(%s, NULL, %s, 'Face', 'package', 1, 60000, 60000, 0, 0, 60000, false, 0), "
            "(%s, %s, NULL, 'Serum', 'retail', 1, 6500, 6500, 0, 520, 7020, true, 0), "
            "(%s, %s, NULL, 'Spf', 'retail', 1, 3200, 3200, 0, 256, 3456, true, 0) "
            "RETURNING id, package_id",
            (sale_id, fixed["package_id"], sale_id, item_ids[0], sale_id, item_ids[1]))
        line_id = next(row[0] for row in package_line.fetchall() if row[1] is not None)
        cur.execute(
            "INSERT INTO package_purchases (client_id, sale_line_id, package_id, "
            "sessions_total, sessions_used, sessions_refunded, value_cents, created_at) "
            "VALUES (%s, %s, %s, 3, 0, 0, 60000, %s)",
            (fixed["client_id"], line_id, fixed["package_id"], now))
        cur.execute(
            "INSERT INTO audit_log (at, user_id, action, entity, entity_id, details) "
            "VALUES (%s, %s, 'sale.paid', 'sale', %s, %s::json)",
            (now, user_id, str(sale_id), '{"method": "cash", "total_cents": 70476}'))


def _with_gunicorn(url: str, seeded: dict[str, Any], workers: int,
                   clients: int) -> dict[str, Any]:
    gunicorn = Gunicorn(url, workers=workers)
    try:
        request(gunicorn.port, "POST", "/api/v1/sales", None,
                {"Authorization": f"Bearer {seeded['token']}"})  # warm the workers' pools
        workers_pids = gunicorn.worker_pids()
        fresh_rss = max(rss_kib(pid) for pid in workers_pids)
        cpu_before = sum(cpu_seconds(pid) for pid in workers_pids)
        app = _load(gunicorn.port, seeded["token"], seeded["client_id"], clients)
        # The app's own cost of a sale: what bounds the throughput of the workers.
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
    return app


def _ratio(app: dict[str, Any], baseline: dict[str, Any]) -> float:
    return round(app["sales_per_second"] / baseline["sales_per_second"], 3) \
        if baseline["sales"] else 0.0


def run(workers: int = 2) -> dict[str, Any]:
    server = pg_server_url()
    if server is None:
        return {"skipped": "PostgreSQL is not reachable (TEST_DATABASE_URL)"}
    load_at_start = list(os.getloadavg())
    with fresh_database(server, "pos_bench_checkout") as url:
        seeded = seed(url)
        statements = statements_per_sale(url, seeded)
        app = _with_gunicorn(url, seeded, workers, CLIENTS)
        app["statements_per_sale"] = statements
        baseline = _baseline(url, seeded)
        # Two cores shared by clients, workers and PostgreSQL: the same at 1 client,
        # 1 worker, against the baseline at 1 thread.
        app_1 = _with_gunicorn(url, seeded, 1, 1)
        baseline_1 = _baseline(url, seeded, 1)
    ratio = _ratio(app, baseline)
    return {"benchmark": "checkout throughput", "workers": workers, "clients": CLIENTS,
            "seconds_per_run": SECONDS, "load_average_at_start": load_at_start,
            "app": app, "baseline_psycopg": baseline, "throughput_ratio": ratio,
            "one_client_one_worker": {"app": app_1, "baseline_psycopg_1_thread": baseline_1,
                                      "throughput_ratio": _ratio(app_1, baseline_1)},
            "target_met": ratio >= 0.5 and app["p95_ms"] < 50 and app["errors"] == 0
            and app["worker_cpu_ms_per_sale"] <= 3 and statements <= 10}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
