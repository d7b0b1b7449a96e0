"""How long `pos seed-demo` takes to write the demo clinic and its year of history.

`make run` seeds an empty database on first start, on SQLite by default: the target is a
few seconds there. Measured through the CLI command itself on a fresh SQLite file (wall
and CPU seconds, best of RUNS), with what the year holds; beside it the same command on a
fresh PostgreSQL database in the same run, and the plan alone (pure Python, no database).

Run: `python -m bench.seed_bench` (or through `make bench`). `run()` returns the figures.
"""
from __future__ import annotations

import json
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import bench_app, fresh_database, pg_server_url

RUNS = 2
TARGET_SECONDS = 5.0


def _seed_once(url: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from pos.extensions import db
    from pos.models import Client, Refund, Sale, StockMovement, Treatment

    app = bench_app(url)
    with app.app_context():
        db.create_all()
        db.session.remove()
        wall, cpu = time.perf_counter(), time.process_time()
        result = app.test_cli_runner().invoke(args=["pos", "seed-demo"])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if result.exit_code != 0:
            raise RuntimeError(result.output)
        counts = {model.__tablename__: db.session.scalar(
            select(func.count()).select_from(model))
            for model in (Client, Sale, Treatment, Refund, StockMovement)}
        db.session.remove()
        db.engine.dispose()
    return {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "rows": counts}


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return min(runs, key=lambda run: run["seconds"])


def run() -> dict[str, Any]:
    from pos.seed.plan import plan_history

    began = time.perf_counter()
    plan = plan_history(date.today())
    figures: dict[str, Any] = {
        "plan_only_seconds": round(time.perf_counter() - began, 3),
        "events": len(plan.events), "target_seconds": TARGET_SECONDS}
    with tempfile.TemporaryDirectory(prefix="pos-bench-seed-") as folder:
        figures["sqlite"] = _best([_seed_once(f"sqlite:///{Path(folder) / f'seed{n}.db'}")
                                   for n in range(RUNS)])
    server = pg_server_url()
    if server is None:
        figures["postgresql"] = {"skipped": "PostgreSQL is not reachable"}
    else:
        with fresh_database(server, "pos_bench_seed") as url:
            figures["postgresql"] = _seed_once(url)
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
