"""The monthly report on a busy year and on three: `monthly_report`, beside one SQL query.

A year of history ending with June 2025 (clinic time) is bulk-loaded with COPY into a
throw-away PostgreSQL database: per year 200,000 sales (3 % never paid), 500,000 lines
(packages, retail, bundles, some discounted), 100,000-odd package purchases, 60,000
treatments with 3 supplies each, 1,000 refunds and a few hundred write-offs; then, into a
second database, three such years (July 2022 - June 2025). The one-year history reaches
back to June 2024, the month the report compares with (13 months): without it the
one-year report would have a month less to read, and the comparison would measure that
month, not the history. On each, for June 2025:
- the first `monthly_report`, with no liability snapshot stored yet (it reads the
  liability from all history and stores the month's boundaries), timed once;
- `monthly_report` (every figure: totals, items, categories, payment methods, staff,
  days, packages and liability roll-forward, supplies, two comparison months), median
  of 5 runs after one warm-up: with the snapshot, the same on three years as on one;
- `month_totals` alone (the report's totals query), median of 5;
- the baseline: one hand-written SQL query for the same totals (gross, discount, tax,
  refunds, number of sales), median of 5, whose figures must equal the report's.

Run: `python -m bench.report_bench`, or `run(database_url)` from bench/__main__.py
(`database_url` names the PostgreSQL server to use; a database of its own is created on
it and dropped afterwards).

`python -m bench.report_bench --keep` (or REPORT_BENCH_KEEP=1) keeps the generated
histories in the databases `pos_bench_report_keep_1y` and `_3y` and reuses them on the
next run (no reload), and
`--queries` also prints each statement of one `monthly_report` with its time, slowest
first, and the pages it touches: for profiling. Tables and indexes the models gained since the year was
loaded are created.
"""
from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.engine import make_url

from bench.common import _admin, bench_app, fresh_database, pg_server_url

SALES = 200_000
LINES_PER_SALE = (2, 3)  # alternately: 500,000 lines
TREATMENTS = 60_000
REFUNDS = 1_000
WRITE_OFFS = 400
CLIENTS = 2_000
YEAR = 2025
MONTH = 6
RUNS = 5
KEPT_DATABASE = "pos_bench_report_keep"
TZ = ZoneInfo("America/New_York")

ITEMS = [  # sku, name, kind, price, taxable
    ("SERUM", "HA Serum 1 oz", "retail", 6500, True),
    ("MIST", "Copper + HA Mist", "retail", 3850, True),
    ("BUNDLE", "First-visit bundle", "bundle", 9900, True),
    ("CART", "Needle cartridge", "supply", 0, False),
    ("LIDO", "Lidocaine dose", "supply", 0, False),
    ("MASK", "Growth-factor gel mask", "supply", 0, False),
]
PACKAGES = [  # code, name, area, sessions, price
    ("FACE1", "Face, single session", "face", 1, 35000),
    ("FACE3", "Face, series of 3", "face", 3, 90000),
    ("SCALP4", "Scalp, series of 4", "scalp", 4, 120000),
]

BASELINE_SQL = """
WITH sold AS (
    SELECT COALESCE(SUM(l.subtotal_cents), 0) AS gross, COALESCE(SUM(l.discount_cents), 0)
           AS discount, COALESCE(SUM(l.tax_cents), 0) AS tax, COUNT(DISTINCT s.id) AS n
    FROM sales s JOIN sale_lines l ON l.sale_id = s.id
    WHERE s.paid_at >= %(start)s AND s.paid_at < %(end)s AND s.status = 'paid'),
refunded AS (
    SELECT COALESCE(SUM(rl.net_cents), 0) AS refund
    FROM refunds r JOIN refund_lines rl ON rl.refund_id = r.id
    WHERE r.created_at >= %(start)s AND r.created_at < %(end)s
      AND r.status IN ('succeeded', 'pending'))
SELECT sold.gross, sold.discount, sold.tax, refunded.refund, sold.n FROM sold, refunded
"""


def _libpq(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


def _reference_rows(app: Any) -> dict[str, Any]:
    """Location, staff, clients, catalog and lots, through the models."""
    from pos.domain.roles import Role
    from pos.extensions import db
    from pos.models import Client, Item, Location, Lot, Package, User

    with app.app_context():
        db.create_all()
        session = db.session
        location = Location(code="main", name="Main")
        users = [User(email=f"staff{i}@bench.example", name=f"Staff {i}",
                      roles=frozenset({Role.FRONT_DESK}),
                      password_hash="x") for i in range(6)]
        clients = [Client(first_name="Client", last_name=f"N{i}") for i in range(CLIENTS)]
        items = {sku: Item(sku=sku, name=name, kind=kind, unit="unit", price_cents=price,
                           taxable=taxable) for sku, name, kind, price, taxable in ITEMS}
        packages = {code: Package(code=code, name=name, area=area, sessions=sessions,
                                  price_cents=price)
                    for code, name, area, sessions, price in PACKAGES}
        session.add_all([location, *users, *clients, *items.values(), *packages.values()])
        session.flush()
        lots = {sku: [Lot(item_id=items[sku].id, code=f"{sku}-{n}", unit_cost_cents=cost)
                      for n, cost in enumerate((250, 275, 310))]
                for sku in ("CART", "LIDO", "MASK", "SERUM")}
        session.add_all([lot for group in lots.values() for lot in group])
        session.commit()
        ids = {
            "location": location.id, "users": [u.id for u in users],
            "clients": [c.id for c in clients],
            "items": {sku: (i.id, i.name, i.kind, i.price_cents, i.taxable)
                      for sku, i in items.items()},
            "packages": {code: (p.id, p.name, p.sessions, p.price_cents)
                         for code, p in packages.items()},
            "lots": {sku: [(lot.id, lot.unit_cost_cents) for lot in group]
                     for sku, group in lots.items()},
        }
        session.remove()
        db.engine.dispose()
    return ids


def history_months(years: int) -> int:
    """The months of a `years`-year history ending with the report's month: at least 13,
    so the month a year before it (which the report compares with) is there too."""
    return max(12 * years, 13)


def history_start(years: int) -> datetime:
    """The first instant of that history (clinic time): the first day of its first month."""
    first = YEAR * 12 + (MONTH - 1) - history_months(years) + 1
    return datetime(first // 12, first % 12 + 1, 1, tzinfo=TZ)


def _instant(rng: random.Random, years: int = 1) -> datetime:
    """A random instant of the `years`-year history ending with the report's month."""
    start = history_start(years).astimezone(UTC)
    end = datetime(YEAR + MONTH // 12, MONTH % 12 + 1, 1, tzinfo=TZ).astimezone(UTC)
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def load_year(database_url: str, ids: dict[str, Any], rng: random.Random,
              years: int = 1) -> dict[str, int]:
    """COPY a busy history of `years` years (history_months: ending with the report's
    month) of sales, lines, purchases, treatments, supplies, refunds and write-offs: the
    figures above per year."""
    from pos.domain.pricing import Discount, LineInput, price_sale

    items, packages = ids["items"], ids["packages"]
    retail = ["SERUM", "MIST", "BUNDLE"]
    sales, lines, purchases = [], [], []
    paid_sales: list[tuple[int, datetime, str, list[tuple]]] = []
    line_id = purchase_id = receipt = 0
    # Rows in time order, as a clinic writes them: a month's sales sit together on disk.
    def per_history(per_year: int) -> int:
        return per_year * history_months(years) // 12

    instants = sorted(_instant(rng, years) for _ in range(per_history(SALES)))
    for sale_id, at in enumerate(instants, start=1):
        paid = rng.random() >= 0.03
        keys: list[tuple[str, int]] = []
        for n in range(LINES_PER_SALE[sale_id % 2]):
            if n == 0 and rng.random() < 0.4:
                keys.append((rng.choice(list(packages)), 1))
            else:
                keys.append((retail[(sale_id + n) % 3], rng.randint(1, 2)))
        inputs = [LineInput(str(i), items[k][3] if k in items else packages[k][3], q,
                            items[k][4] if k in items else False)
                  for i, (k, q) in enumerate(keys)]
        discount = Discount("percent", 1000) if rng.random() < 0.2 else None
        quote = price_sale(inputs, discount, 800)
        method = "card" if rng.random() < 0.7 else "cash"
        if paid:
            receipt += 1
        sales.append((sale_id, rng.choice(ids["clients"]), ids["location"],
                      rng.choice(ids["users"]), "paid" if paid else "expired", method,
                      quote.subtotal_cents, quote.discount_cents, quote.tax_cents,
                      quote.total_cents, at - timedelta(minutes=5), at if paid else None,
                      receipt if paid else None))
        sale_lines = []
        for (key, quantity), priced in zip(keys, quote.lines, strict=True):
            line_id += 1
            item = items.get(key)
            package = packages.get(key)
            lines.append((line_id, sale_id, item[0] if item else None,
                          package[0] if package else None, item[1] if item else package[1],
                          item[2] if item else "package", quantity, priced.unit_price_cents,
                          priced.subtotal_cents, priced.discount_cents, priced.tax_cents,
                          priced.total_cents, bool(item and item[4]), 0))
            sale_lines.append((line_id, key, priced))
            if package and paid:
                purchase_id += 1
                purchases.append([purchase_id, sales[-1][1], line_id, package[0], package[2],
                                  0, 0, priced.subtotal_cents - priced.discount_cents, at])
        if paid:
            paid_sales.append((sale_id, at, method, sale_lines))

    treatments, supplies = [], []
    supply_id = 0
    candidates = rng.sample(purchases, min(len(purchases), per_history(TREATMENTS)))
    treatment_id = 0
    for purchase in candidates * 2:
        if treatment_id == per_history(TREATMENTS):
            break
        if purchase[5] == purchase[4]:
            continue
        purchase[5] += 1
        treatment_id += 1
        performed = purchase[8] + timedelta(days=30 * purchase[5], minutes=rng.randrange(600))
        voided = performed + timedelta(hours=1) if rng.random() < 0.01 else None
        if voided:
            purchase[5] -= 1
        treatments.append((treatment_id, purchase[1], purchase[0], purchase[5], "face",
                           performed, performed, "{}", "[]", False, False, voided))
        for sku in ("CART", "LIDO", "MASK"):
            supply_id += 1
            lot_id, cost = rng.choice(ids["lots"][sku])
            supplies.append((supply_id, treatment_id, items[sku][0], lot_id, 1, cost))

    # Treatments in the order they were performed (and recorded), ids following time.
    order = sorted(range(len(treatments)), key=lambda i: treatments[i][5])
    new_id = {treatments[i][0]: n for n, i in enumerate(order, start=1)}
    treatments = [(new_id[t[0]], *t[1:]) for t in (treatments[i] for i in order)]
    supplies = sorted(((s[0], new_id[s[1]], *s[2:]) for s in supplies), key=lambda s: s[1])
    supplies = [(n, *s[1:]) for n, s in enumerate(supplies, start=1)]

    refunds, refund_lines = [], []
    for refund_id, (sale_id, at, method, sale_lines) in enumerate(
            rng.sample(paid_sales, per_history(REFUNDS)), start=1):
        line, _, priced = next((x for x in sale_lines if x[1] not in packages), sale_lines[-1])
        net = (priced.subtotal_cents - priced.discount_cents) // priced.quantity
        tax = priced.tax_cents // priced.quantity
        refunds.append((refund_id, sale_id, ids["location"], net + tax, tax, "bench",
                        method, "succeeded", at + timedelta(days=rng.randint(0, 40))))
        refund_lines.append((refund_id, refund_id, line, 1, net, tax, False))

    movements = []
    for movement_id in range(1, per_history(WRITE_OFFS) + 1):
        sku = rng.choice(("CART", "LIDO", "MASK"))
        lot_id, _ = rng.choice(ids["lots"][sku])
        movements.append((movement_id, _instant(rng, years), items[sku][0], lot_id,
                          ids["location"], -rng.randint(1, 4),
                          rng.choice(("damaged", "expired", "lost"))))

    tables = [
        ("sales", "id, client_id, location_id, sold_by_id, status, payment_method, "
                  "subtotal_cents, discount_cents, tax_cents, total_cents, created_at, "
                  "paid_at, receipt_number", sales),
        ("sale_lines", "id, sale_id, item_id, package_id, name, category, quantity, "
                       "unit_price_cents, subtotal_cents, discount_cents, tax_cents, "
                       "total_cents, taxable, refunded_quantity", lines),
        ("package_purchases", "id, client_id, sale_line_id, package_id, sessions_total, "
                              "sessions_used, sessions_refunded, value_cents, created_at",
         [tuple(p) for p in purchases]),
        ("treatments", "id, client_id, purchase_id, session_number, area, performed_at, "
                       "recorded_at, screening, acknowledged_cautions, first_visit_bundle, "
                       "off_rhythm, voided_at", treatments),
        ("treatment_supplies", "id, treatment_id, item_id, lot_id, quantity, unit_cost_cents",
         supplies),
        ("refunds", "id, sale_id, location_id, amount_cents, tax_cents, reason, method, "
                    "status, created_at", refunds),
        ("refund_lines", "id, refund_id, sale_line_id, quantity, net_cents, tax_cents, "
                         "restock", refund_lines),
        ("stock_movements", "id, at, item_id, lot_id, location_id, qty_delta, reason",
         movements),
    ]
    with psycopg.connect(_libpq(database_url)) as conn:
        with conn.cursor() as cur:
            # A bulk load into an empty database: no liability snapshot exists for the
            # invalidation triggers to delete, so they (and the foreign-key checks of
            # rows generated consistent) are skipped, as pg_restore does.
            cur.execute("SET session_replication_role = replica")
            for table, columns, rows in tables:
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return {"sales": len(sales), "sale_lines": len(lines), "package_purchases": len(purchases),
            "treatments": len(treatments), "treatment_supplies": len(supplies),
            "refunds": len(refunds), "write_offs": len(movements)}


def _median_ms(fn: Any) -> float:
    fn()  # warm-up: connection, plans, caches
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return round(statistics.median(times) * 1000, 2)


@contextmanager
def kept_database(server_url: str, name: str = KEPT_DATABASE) -> Iterator[str]:
    """The kept database (created when missing, never dropped)."""
    url = make_url(server_url).set(database=name)
    try:
        with psycopg.connect(_libpq(url.render_as_string(hide_password=False))):
            pass
    except psycopg.OperationalError:
        _admin(server_url, f'CREATE DATABASE "{name}"')
    yield url.render_as_string(hide_password=False)


def _loaded_counts(database_url: str) -> dict[str, int] | None:
    """The row counts of a year loaded earlier, or None when it is not there."""
    with psycopg.connect(_libpq(database_url)) as conn:
        if conn.execute("SELECT to_regclass('stock_movements')").fetchone()[0] is None:
            return None
        counts = {table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                  for table in ("sales", "sale_lines", "package_purchases", "treatments",
                                "treatment_supplies", "refunds", "stock_movements")}
    if counts["stock_movements"] < WRITE_OFFS:
        return None
    counts["write_offs"] = counts.pop("stock_movements")
    return counts


def _create_missing_indexes(app: Any) -> None:
    """Tables and indexes added to the models after the kept year was loaded."""
    from pos.extensions import db

    with app.app_context():
        db.metadata.create_all(db.engine, checkfirst=True)  # new tables, with their indexes
        for table in db.metadata.sorted_tables:
            for index in table.indexes:
                index.create(db.engine, checkfirst=True)
        db.engine.dispose()
    with psycopg.connect(_libpq(app.config["SQLALCHEMY_DATABASE_URI"]),
                         autocommit=True) as conn:
        conn.execute("ANALYZE")


def query_times(session: Any) -> list[tuple[float, str]]:
    """Each statement of one monthly_report, with its time in ms, slowest first."""
    from sqlalchemy import event

    from pos.services.reports import monthly_report

    engine = session.get_bind()
    times: list[tuple[float, str]] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("began", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        began = conn.info["began"].pop()
        times.append((round((time.perf_counter() - began) * 1000, 2),
                      " ".join(statement.split())[:160]))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        monthly_report(session, YEAR, MONTH)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return sorted(times, reverse=True)


def pages_per_statement(session: Any) -> list[tuple[int, str]]:
    """The shared buffers (8 kB pages, in cache or read) each statement of one
    monthly_report touches, from EXPLAIN (ANALYZE, BUFFERS): a count that does not move
    with the machine's load, unlike a time, so it shows what grows with the history."""
    from sqlalchemy import event

    from pos.services.reports import monthly_report

    engine = session.get_bind()
    statements: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        monthly_report(session, YEAR, MONTH)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    out = []
    cursor = session.connection().connection.cursor()
    for statement, parameters in statements:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
        plan = cursor.fetchone()[0][0]["Plan"]
        out.append((int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"]),
                    " ".join(statement.split())[:100]))
    session.rollback()
    return out


@contextmanager
def _history(server: str, years: int, keep: bool) -> Iterator[dict[str, Any]]:
    """A database holding `years` years (loaded now, or kept from an earlier run)."""
    rng = random.Random(2025 + years - 1)
    database = (kept_database(server, f"{KEPT_DATABASE}_{years}y") if keep
                else fresh_database(server, f"pos_bench_report_{years}y_{os.getpid()}"))
    with database as url:
        from pos.extensions import db

        app = bench_app(url)
        app.config["CLINIC_TIMEZONE"] = TZ.key
        started = time.perf_counter()
        counts = _loaded_counts(url) if keep else None
        if counts is None:
            if keep:
                with app.app_context():
                    db.drop_all()
                    db.engine.dispose()
            ids = _reference_rows(app)
            counts = load_year(url, ids, rng, years)
        else:
            _create_missing_indexes(app)
        yield {"years": years, "app": app, "url": url, "rows": counts,
               "load_seconds": round(time.perf_counter() - started, 1)}
        with app.app_context():
            db.engine.dispose()


def _in(history: dict[str, Any], fn: Any) -> Any:
    with history["app"].app_context():
        return fn()


def run(database_url: str | None = None, keep: bool | None = None,
        show_queries: bool = False) -> dict[str, Any]:
    """The report on a 1-year and on a 3-year history, in the same run, the timings taken
    in turns (1 year, 3 years, 1 year...) so the machine's load falls on both alike. The
    1-year figures stay at the top level (bench/__main__.py's table reads them);
    `three_years` holds the others, and `three_to_one_year` the ratios of the two."""
    from pos.domain.reporting import month_bounds
    from pos.extensions import db
    from pos.models import PackageLiabilitySnapshot
    from pos.services.reports import month_totals, monthly_report

    server = database_url or pg_server_url()
    if server is None:
        return {"skipped": "PostgreSQL is not reachable (TEST_DATABASE_URL)"}
    if keep is None:
        keep = os.environ.get("REPORT_BENCH_KEEP", "") not in ("", "0")
    start, end = month_bounds(YEAR, MONTH, TZ)

    def report() -> Any:
        return monthly_report(db.session, YEAR, MONTH)

    def first_report() -> float:
        # No snapshot yet: it reads the liability from all history and stores the
        # month's boundaries; every later report opens from them.
        db.session.query(PackageLiabilitySnapshot).delete()
        db.session.commit()
        began = time.perf_counter()
        report()
        return round((time.perf_counter() - began) * 1000, 2)

    with _history(server, 1, keep) as one, _history(server, 3, keep) as three:
        both = (one, three)
        for h in both:
            h["first_report_without_snapshot_ms"] = _in(h, first_report)
            _in(h, report)  # warm-up
        times: dict[int, dict[str, list[float]]] = {h["years"]: {"report": [], "totals": []}
                                                    for h in both}
        for _ in range(RUNS):
            for h in both:
                for name, fn in (("report", report),
                                 ("totals", lambda: month_totals(db.session, start, end))):
                    began = time.perf_counter()
                    _in(h, fn)
                    times[h["years"]][name].append(time.perf_counter() - began)
        results = {}
        for h in both:
            figures = _in(h, report)
            pages = _in(h, lambda: pages_per_statement(db.session))
            queries = _in(h, lambda: query_times(db.session)) if show_queries else []
            with psycopg.connect(_libpq(h["url"]), autocommit=True) as conn:
                def baseline(conn: Any = conn) -> tuple[int, ...]:
                    row = conn.execute(BASELINE_SQL, {"start": start, "end": end}).fetchone()
                    return tuple(int(v) for v in row)  # type: ignore[union-attr]

                baseline_ms = _median_ms(baseline)
                base = baseline()
            t = figures.totals
            results[h["years"]] = {
                "years": f"{history_start(h['years']):%Y-%m} to {YEAR}-{MONTH:02d}",
                "rows": h["rows"],
                "load_seconds": h["load_seconds"],
                "first_report_without_snapshot_ms": h["first_report_without_snapshot_ms"],
                "monthly_report_ms_median": _ms(times[h["years"]]["report"]),
                "report_totals_query_ms_median": _ms(times[h["years"]]["totals"]),
                "baseline_one_sql_query_for_totals_ms_median": baseline_ms,
                "pages_per_report": sum(n for n, _ in pages),
                "month_figures": {
                    "gross_cents": t.gross_cents, "discount_cents": t.discount_cents,
                    "tax_cents": t.tax_cents, "refund_cents": t.refund_cents,
                    "sales_count": t.sales_count,
                    "package_liability_cents": figures.packages.liability.closing_cents,
                    "sessions_performed": figures.packages.sessions_performed},
                "totals_equal_baseline": (t.gross_cents, t.discount_cents, t.tax_cents,
                                          t.refund_cents, t.sales_count) == base,
                **({"pages_per_statement": [f"{n:>8}  {sql}" for n, sql in pages],
                    "queries_ms": [f"{ms:>9.2f}  {sql}" for ms, sql in queries]}
                   if show_queries else {}),
            }
    one_r, three_r = results[1], results[3]
    return {
        "benchmark": "monthly report",
        "month": f"{YEAR}-{MONTH:02d}",
        "runs": RUNS,
        **one_r,
        "three_years": three_r,
        "three_to_one_year": {
            key: round(three_r[key] / one_r[key], 2) for key in (
                "monthly_report_ms_median", "pages_per_report",
                "first_report_without_snapshot_ms")},
    }


def _ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 2)


if __name__ == "__main__":
    print(json.dumps(run(keep="--keep" in sys.argv or None,
                         show_queries="--queries" in sys.argv), indent=2))
