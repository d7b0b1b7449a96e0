"""Memory: resident size (VmRSS) of a gunicorn worker, freshly started (the baseline) and
after serving the monthly report of a busy clinic's year a few times.

The year is the report benchmark's (bench/report_bench.py `load_year`), loaded into a
database of this benchmark's own, since the report benchmark drops its database.
"""
from __future__ import annotations

import json
import random
from typing import Any

from bench.common import Gunicorn, bench_app, fresh_database, pg_server_url, request, rss_kib

REPORT_REQUESTS = 5


def _manager_token(database_url: str) -> str:
    from pos.extensions import db
    from pos.services import staff

    app = bench_app(database_url)
    with app.app_context():
        user = staff.create_user("bench-manager@bench.example", "manager",
                                 "bench-password-123456")
        token = staff.create_token(user.email)
        db.session.remove()
        db.engine.dispose()
    return token


def run() -> dict[str, Any]:
    server = pg_server_url()
    if server is None:
        return {"skipped": "PostgreSQL is not reachable (TEST_DATABASE_URL)"}
    from bench import report_bench

    with fresh_database(server, "pos_bench_memory") as url:
        ids = report_bench._reference_rows(bench_app(url))
        rows = report_bench.load_year(url, ids, random.Random(2025))
        months = [f"{report_bench.YEAR}-{m:02d}" for m in (report_bench.MONTH, 3, 11)]
        figures = measure(url, months)
    return {**figures, "rows": rows}


def measure(database_url: str, months: list[str]) -> dict[str, Any]:
    """RSS of the workers fresh, then after each has served a few monthly reports."""
    token = _manager_token(database_url)
    gunicorn = Gunicorn(database_url, workers=2)
    try:
        workers = gunicorn.worker_pids()
        fresh = {pid: rss_kib(pid) for pid in workers}
        statuses = []
        for n in range(REPORT_REQUESTS * len(workers)):
            month = months[n % len(months)]
            status, _ = request(gunicorn.port, "GET", f"/api/v1/reports/monthly?month={month}",
                                headers={"Authorization": f"Bearer {token}"})
            statuses.append(status)
        after = {pid: rss_kib(pid) for pid in workers}
    finally:
        gunicorn.stop()
    return {"benchmark": "gunicorn worker memory", "workers": len(workers),
            "report_requests": len(statuses), "report_statuses": sorted(set(statuses)),
            "fresh_worker_rss_mib": round(max(fresh.values(), default=0) / 1024, 1),
            "after_reports_rss_mib": round(max(after.values(), default=0) / 1024, 1)}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
