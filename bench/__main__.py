"""`python -m bench` (`make bench`): every benchmark, each figure beside its baseline
measured in the same run; a table on stdout and bench/results/latest.json.

Every benchmark targets 127.0.0.1 only, stops by itself and drops the databases it made.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import (
    alerts_bench,
    checkout_bench,
    import_bench,
    memory_bench,
    report_bench,
    search_bench,
    seed_bench,
    signin_bench,
)
from bench.common import pg_server_url

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def _guarded(name: str, results: dict[str, Any], call: Any) -> None:
    print(f"... {name}", file=sys.stderr, flush=True)
    began = time.monotonic()
    try:
        results[name] = call()
    except Exception as error:  # noqa: BLE001 - one failed bench must not hide the others
        traceback.print_exc()
        results[name] = {"error": f"{type(error).__name__}: {error}"}
    results[name]["wall_seconds"] = round(time.monotonic() - began, 1)


def _report_and_memory(results: dict[str, Any]) -> None:
    server = pg_server_url()
    if server is None:
        results["report"] = {"skipped": "PostgreSQL is not reachable"}
        return
    # The report benchmark makes (and drops) a database of its own on that server.
    _guarded("report", results, lambda: report_bench.run(server))
    _guarded("memory", results, memory_bench.run)


def main() -> int:
    os.environ.setdefault("POS_INSTANCE_DIR", tempfile.mkdtemp(prefix="pos-bench-instance-"))
    os.environ.setdefault("POS_ENV", "test")
    results: dict[str, Any] = {
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_start": list(os.getloadavg())}}
    _guarded("checkout", results, checkout_bench.run)
    _report_and_memory(results)
    _guarded("search", results, search_bench.run)
    _guarded("alerts", results, alerts_bench.run)
    _guarded("signin", results, signin_bench.run)
    _guarded("seed", results, seed_bench.run)
    _guarded("import", results, import_bench.run)
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nWritten to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return 0


def _get(results: dict[str, Any], *path: str) -> Any:
    value: Any = results
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        value = f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{value}{unit}"


def table(results: dict[str, Any]) -> str:
    """The readable summary: figure, baseline of the same run, target, met or not."""
    r = results
    ratio = _get(r, "checkout", "throughput_ratio")
    rows: list[tuple[str, str, str, str, str]] = [
        ("Checkout, sales/s (8 clients, 2 workers)",
         _fmt(_get(r, "checkout", "app", "sales_per_second")),
         _fmt(_get(r, "checkout", "baseline_psycopg", "sales_per_second")) + " psycopg",
         ">= 50% of baseline", _verdict(None if ratio is None else ratio >= 0.5)),
        ("Checkout, p50 latency",
         _fmt(_get(r, "checkout", "app", "p50_ms"), " ms"),
         _fmt(_get(r, "checkout", "baseline_psycopg", "p50_ms"), " ms"), "", ""),
        ("Checkout, p95 latency",
         _fmt(_get(r, "checkout", "app", "p95_ms"), " ms"),
         _fmt(_get(r, "checkout", "baseline_psycopg", "p95_ms"), " ms"), "< 50 ms",
         _verdict(_lt(_get(r, "checkout", "app", "p95_ms"), 50))),
        ("Checkout, p95 inside the worker (access log)",
         _fmt(_get(r, "checkout", "app", "in_worker_p95_ms"), " ms"),
         "", "", ""),
        ("Checkout, worker CPU per sale",
         _fmt(_get(r, "checkout", "app", "worker_cpu_ms_per_sale"), " ms"), "", "<= 3 ms",
         _verdict(_lt(_get(r, "checkout", "app", "worker_cpu_ms_per_sale"), 3.005))),
        ("Checkout, SQL statements per sale (COMMIT counted)",
         _fmt(_get(r, "checkout", "app", "statements_per_sale")),
         _fmt(_get(r, "checkout", "baseline_psycopg", "statements_per_sale")) + " psycopg",
         "<= 10", _verdict(_lt(_get(r, "checkout", "app", "statements_per_sale"), 10.5))),
        ("Checkout, sales/s at 1 client, 1 worker",
         _fmt(_get(r, "checkout", "one_client_one_worker", "app", "sales_per_second")),
         _fmt(_get(r, "checkout", "one_client_one_worker", "baseline_psycopg_1_thread",
                   "sales_per_second")) + " psycopg, 1 thread",
         "ratio " + _fmt(_get(r, "checkout", "one_client_one_worker", "throughput_ratio")),
         ""),
        ("Client search at 100,000, p95",
         _fmt(_get(r, "search", "app", "p95_ms"), " ms"),
         _fmt(_get(r, "search", "baseline_plain_ilike", "p95_ms"), " ms") + " ILIKE",
         "< 20 ms", _verdict(_lt(_get(r, "search", "app", "p95_ms"), 20))),
        ("Worker RSS after monthly reports",
         _fmt(_get(r, "memory", "after_reports_rss_mib"), " MiB"),
         _fmt(_get(r, "memory", "fresh_worker_rss_mib"), " MiB") + " fresh", "", ""),
    ]
    full = _get(r, "report", "monthly_report_ms_median")
    totals = _get(r, "report", "report_totals_query_ms_median")
    base = _get(r, "report", "baseline_one_sql_query_for_totals_ms_median")
    rows += [
        ("Monthly report, whole (median)", _fmt(full, " ms"), _fmt(base, " ms") + " one SQL",
         "< 300 ms", _verdict(_lt(full, 300))),
        ("Monthly report, totals query (median)", _fmt(totals, " ms"),
         _fmt(base, " ms") + " one SQL", "<= 1.5x baseline",
         _verdict(None if totals is None or not base else totals <= 1.5 * base)),
        ("Monthly report, whole, on 3 years (median)",
         _fmt(_get(r, "report", "three_years", "monthly_report_ms_median"), " ms"),
         _fmt(full, " ms") + " on 1 year", "within noise of 1 year",
         "ratio " + _fmt(_get(r, "report", "three_to_one_year", "monthly_report_ms_median"))),
        ("Monthly report, pages touched, 3 years / 1 year",
         _fmt(_get(r, "report", "three_years", "pages_per_report")),
         _fmt(_get(r, "report", "pages_per_report")), "",
         "ratio " + _fmt(_get(r, "report", "three_to_one_year", "pages_per_report"))),
        ("Report history load (COPY), 1 year / 3 years",
         _fmt(_get(r, "report", "load_seconds"), " s") + " / "
         + _fmt(_get(r, "report", "three_years", "load_seconds"), " s"), "",
         "a few minutes", ""),
    ]
    alerts = r.get("alerts") or {}
    for backend in ("sqlite", "postgresql"):
        sizes = alerts.get(backend)
        if isinstance(sizes, dict) and len(sizes) == 2:
            small, large = sorted(sizes, key=int)
            rows.append((f"Alert check, {backend}, median ms at {int(large):,} items",
                         _fmt(sizes[large].get("hook_ms_median_with_alert"), " ms"),
                         _fmt(sizes[small].get("hook_ms_median_with_alert"), " ms")
                         + f" at {int(small)}", "equal within noise", ""))
    rows.append(("Sign-in, wrong email / wrong password (median)",
                 _fmt(_get(r, "signin", "wrong_email_ms_median"), " ms"),
                 _fmt(_get(r, "signin", "wrong_password_ms_median"), " ms") + " wrong password",
                 "the same within noise", ""))
    seed_sqlite = _get(r, "seed", "sqlite", "seconds")
    rows.append(("Demo seed (seed-demo, a year), SQLite",
                 _fmt(seed_sqlite, " s") + " (" + _fmt(_get(r, "seed", "sqlite", "cpu_seconds"),
                                                      " s CPU") + ")",
                 _fmt(_get(r, "seed", "postgresql", "seconds"), " s") + " PostgreSQL",
                 "a few seconds (< 5 s)", _verdict(_lt(seed_sqlite, 5))))
    for backend in ("sqlite", "postgresql"):
        if _get(r, "import", backend, "import_ms_median") is not None:
            rows.append((f"CSV import of 1,000 items, {backend} (median)",
                         _fmt(_get(r, "import", backend, "import_ms_median"), " ms"),
                         _fmt(_get(r, "import", backend, "baseline_executemany_ms_median"),
                              " ms") + " INSERT executemany", "",
                         "ratio " + _fmt(_get(r, "import", backend, "ratio"))))
    for name in ("checkout", "report", "memory", "search", "alerts", "signin", "seed",
                 "import"):
        problem = (r.get(name) or {}).get("error") or (r.get(name) or {}).get("skipped")
        if problem:
            first_line = str(problem).splitlines()[0] if str(problem) else ""
            rows.append((f"{name}: not measured", "", "", "", first_line[:70]))
    header = ("benchmark", "figure", "baseline (same run)", "target", "")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(5)]
    lines = ["  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
             for row in [header, tuple("-" * w for w in widths), *rows]]
    load = r.get("machine", {})
    lines.append(f"\n{load.get('cpus')} CPUs; load average at start "
                 f"{_fmt((load.get('load_average_at_start') or [None])[0])}, at end "
                 f"{_fmt((load.get('load_average_at_end') or [None])[0])}")
    return "\n".join(lines)


def _lt(value: Any, limit: float) -> bool | None:
    return None if value is None else value < limit


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "NOT met")


if __name__ == "__main__":
    sys.exit(main())
