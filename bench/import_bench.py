"""CSV import of 1,000 items: the time of POST /api/v1/imports/items's work (the CSV read
and checked by the input layer, then every row added by catalog.add_item under its own
savepoint, in one transaction), on SQLite and PostgreSQL.

Baseline, same run, same rows: a plain `INSERT INTO items ... ` executemany of the 1,000
rows (no checks, no stock rows, no audit), what a one-off script would do. Median of 3
rounds each (new skus every round). No target: the figure says what the checks cost.

Run: `python -m bench.import_bench` (or `make bench`).
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import bench_app, fresh_database, pg_server_url

ROWS = 1_000
ROUNDS = 3
HEADER = "sku,name,category,price,cost,taxable,reorder_point,reorder_quantity,barcode\n"


def item_csv(prefix: str) -> str:
    return HEADER + "".join(
        f"{prefix}-{n:04d},Imported item {n},retail,{10 + n % 50}.{n % 100:02d},4.50,yes,2,10,"
        f"{prefix}B{n:06d}\n" for n in range(ROWS))


def _measure(url: str) -> dict[str, Any]:
    from sqlalchemy import insert

    from pos.extensions import db
    from pos.models import Item
    from pos.services import imports
    from pos.web.api.schemas.imports import item_rows

    app = bench_app(url)
    app_times: list[float] = []
    base_times: list[float] = []
    with app.app_context():
        db.create_all()
        for r in range(ROUNDS):
            text = item_csv(f"APP{r}")
            began = time.perf_counter()
            result = imports.import_items(item_rows(text), dry_run=False, user_id=None)
            app_times.append(time.perf_counter() - began)
            assert result.created == ROWS, result
            rows = [{"sku": f"BASE{r}-{n:04d}", "name": f"Imported item {n}", "kind": "retail",
                     "unit": "each", "price_cents": 1000 + n % 50 * 100 + n % 100,
                     "cost_cents": 450, "reorder_point": 2, "reorder_quantity": 10,
                     "taxable": True, "barcode": f"BASE{r}B{n:06d}", "active": True}
                    for n in range(ROWS)]
            began = time.perf_counter()
            with db.engine.begin() as conn:
                conn.execute(insert(Item.__table__), rows)
            base_times.append(time.perf_counter() - began)
        db.session.remove()
        db.engine.dispose()
    app_ms = statistics.median(app_times) * 1000
    base_ms = statistics.median(base_times) * 1000
    return {"rows": ROWS, "import_ms_median": round(app_ms, 1),
            "baseline_executemany_ms_median": round(base_ms, 1),
            "ratio": round(app_ms / base_ms, 1) if base_ms else None,
            "import_ms_per_row": round(app_ms / ROWS, 3)}


def run() -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="pos-bench-import-") as tmp:
        out["sqlite"] = _measure(f"sqlite:///{Path(tmp) / 'import.sqlite3'}")
    server = pg_server_url()
    if server is None:
        out["postgresql"] = {"skipped": "PostgreSQL is not reachable (TEST_DATABASE_URL)"}
    else:
        with fresh_database(server, "pos_bench_import") as url:
            out["postgresql"] = _measure(url)
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
