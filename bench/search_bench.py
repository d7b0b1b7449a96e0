"""Client search at 100,000 clients: p95 of `search_clients` over 200 desk queries.

The clients are bulk-loaded with COPY. The queries are what a front desk types: the start
of a last name, "first-name last-name-start", the start of an email, the last four digits
of a phone. Baseline, same run, same queries: the plain SQL anyone would write first,
`ILIKE '%text%'` over name, email and phone. Target: p95 under 20 ms.

Run: `python -m bench.search_bench` (or `make bench`).
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from typing import Any

import psycopg

from bench.common import bench_app, fresh_database, percentile, pg_server_url

CLIENTS = 100_000
QUERIES = 200
# Query n is of kind n % 4.
QUERY_KINDS = ("last_name_start", "first_and_last_start", "email_start", "phone_last4")
FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Dennis",
    "Margaret",
    "Linus",
    "Guido",
    "Bjarne",
    "Radia",
    "Sophie",
    "John",
    "Mary",
    "Anita",
    "Karen",
    "Leslie",
    "Niklaus",
    "Tony",
    "Judea",
    "Shafi",
    "Silvio",
    "Whitfield",
    "Jean",
    "Hedy",
    "Katherine",
    "Dorothy",
    "Mae",
    "Ruth",
    "Lynn",
    "Carol",
    "Sally",
    "Valerie",
    "Evelyn",
    "Irene",
    "Joan",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Ritchie",
    "Hamilton",
    "Torvalds",
    "Rossum",
    "Stroustrup",
    "Perlman",
    "Wilson",
    "Backus",
    "Kay",
    "Borg",
    "Sparck",
    "Lamport",
    "Wirth",
    "Hoare",
    "Pearl",
    "Goldwasser",
    "Micali",
    "Diffie",
    "Sammet",
    "Lamarr",
    "Johnson",
    "Vaughan",
    "Jemison",
    "Bader",
    "Conway",
    "Kemeny",
    "Shaw",
    "Ride",
    "King",
    "Berners",
    "Clarke",
    "Engelbart",
    "Estrin",
    "Feigenbaum",
    "Gray",
    "Hartmanis",
    "Iverson",
    "Kahan",
    "Karp",
    "McCarthy",
    "Minsky",
    "Newell",
    "Rabin",
    "Reddy",
    "Scott",
    "Simon",
    "Sutherland",
    "Tarjan",
    "Yao",
]

SUFFIXES = ["", "son", "ley", "ford", "man", "ton", "er", "s", "wood", "berg", "field",
            "well", "by", "more", "stone", "ham", "worth", "ridge"]


def _libpq(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    return (
        make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def load_clients(database_url: str, rng: random.Random) -> list[tuple[str, str, str, str]]:
    """COPY 100,000 clients in; returns (first, last, email, phone digits) of each."""
    people = []
    now = datetime.now(UTC)
    with psycopg.connect(_libpq(database_url)) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY clients (first_name, last_name, email, phone, phone_digits, created_at) "
                "FROM STDIN"
            ) as copy,
        ):
            for i in range(CLIENTS):
                first = rng.choice(FIRST)
                last = rng.choice(LAST) + rng.choice(SUFFIXES)  # about 1,000 surnames
                email = f"{first}.{last}{i}@example.com".lower()
                digits = f"555{rng.randrange(10**7):07d}"
                phone = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
                copy.write_row((first, last, email, phone, digits, now))
                people.append((first, last, email, digits))
        conn.execute("ANALYZE clients")
    return people


def desk_queries(people: list[tuple[str, str, str, str]], rng: random.Random) -> list[str]:
    queries = []
    for n in range(QUERIES):
        first, last, email, digits = rng.choice(people)
        kind = n % 4
        if kind == 0:
            queries.append(last[: rng.randint(3, len(last))].lower())
        elif kind == 1:
            queries.append(f"{first} {last[:3]}")
        elif kind == 2:
            queries.append(email.split("@")[0] + "@")
        else:
            queries.append(digits[-4:])
    return queries


BASELINE_SQL = (
    "SELECT id, first_name, last_name, email, phone FROM clients "
    "WHERE first_name || ' ' || last_name ILIKE %(q)s OR email ILIKE %(q)s "
    "OR phone_digits LIKE %(q)s ORDER BY last_name, first_name, id LIMIT 20"
)


def run() -> dict[str, Any]:
    server = pg_server_url()
    if server is None:
        return {"skipped": "PostgreSQL is not reachable (TEST_DATABASE_URL)"}
    rng = random.Random(7)
    with fresh_database(server, "pos_bench_search") as url:
        from pos.extensions import db
        from pos.services.clients import search_clients

        app = bench_app(url)
        with app.app_context():
            db.create_all()
            db.session.remove()
            db.engine.dispose()
        started = time.perf_counter()
        people = load_clients(url, rng)
        load_seconds = time.perf_counter() - started
        queries = desk_queries(people, rng)

        app_times, found = [], 0
        with app.app_context():
            for q in queries[:10]:  # warm the pool and the caches
                search_clients(db.session, q)
            for q in queries:
                began = time.perf_counter()
                rows = search_clients(db.session, q)
                app_times.append(time.perf_counter() - began)
                found += bool(rows)
                db.session.rollback()
            db.session.remove()
            db.engine.dispose()

        base_times = []
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            for q in queries[:10]:
                conn.execute(BASELINE_SQL, {"q": f"%{q}%"}).fetchall()
            for q in queries:
                began = time.perf_counter()
                conn.execute(BASELINE_SQL, {"q": f"%{q}%"}).fetchall()
                base_times.append(time.perf_counter() - began)

    p95 = percentile(app_times, 0.95) * 1000
    return {
        "benchmark": "client search",
        "clients": CLIENTS,
        "queries": QUERIES,
        "load_seconds": round(load_seconds, 1),
        "queries_with_a_match": found,
        "app": {"p50_ms": round(percentile(app_times, 0.5) * 1000, 2), "p95_ms": round(p95, 2),
                "p95_ms_by_kind": {
                    kind: round(percentile(app_times[i::4], 0.95) * 1000, 2)
                    for i, kind in enumerate(QUERY_KINDS)}},
        "baseline_plain_ilike": {
            "p50_ms": round(percentile(base_times, 0.5) * 1000, 2),
            "p95_ms": round(percentile(base_times, 0.95) * 1000, 2),
        },
        "target_met": p95 < 20,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
