"""Does a wrong email take as long as a wrong password? Median time of 20 of each through the
real login form (GET /login for the CSRF token, then the timed POST), interleaved, with
the production Argon2 cost (argon2-cffi's defaults), printed side by side.

Each wrong password is for a different account and each attempt comes from its own
address, so the throttle never refuses one early (a refusal would be faster and say
nothing about the two paths). Not asserted anywhere: a figure to read.

Run: `python -m bench.signin_bench` (or `make bench`).
"""
from __future__ import annotations

import json
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import fresh_database, pg_server_url

ATTEMPTS = 20
PASSWORD = "bench-password-long-enough"


@contextmanager
def _database() -> Iterator[tuple[str, str]]:
    server = pg_server_url()
    if server is not None:
        with fresh_database(server, "pos_bench_signin") as url:
            yield "postgresql", url
        return
    with tempfile.TemporaryDirectory(prefix="pos-bench-signin-") as folder:
        yield "sqlite", f"sqlite:///{Path(folder) / 'signin.sqlite3'}"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the login page"
    return match.group(1)


def _timed_wrong_sign_in(app, email: str, address: str) -> float:  # type: ignore[no-untyped-def]
    browser = app.test_client()
    environ = {"REMOTE_ADDR": address}
    token = _csrf(browser.get("/login", environ_base=environ).get_data(as_text=True))
    began = time.perf_counter()
    response = browser.post("/login", environ_base=environ, data={
        "email": email, "password": "not-the-password", "csrf_token": token})
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 401:
        raise RuntimeError(f"expected a 401 for a wrong sign-in, got {response.status_code}")
    return elapsed


def run() -> dict[str, Any]:
    from pos import create_app
    from pos.extensions import db
    from pos.services import staff
    from pos.settings import Settings

    production_cost = Settings()  # the defaults: what production hashes with
    with _database() as (backend, url):
        app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url,
                                  "ARGON2_TIME_COST": production_cost.argon2_time_cost,
                                  "ARGON2_MEMORY_COST": production_cost.argon2_memory_cost})
        with app.app_context():
            db.create_all()
            emails = [staff.create_user(f"staff{n}@bench.example", "front_desk",
                                        PASSWORD).email for n in range(ATTEMPTS)]
            wrong_email, wrong_password = [], []
            for n in range(ATTEMPTS):  # interleaved, so drift hits both alike
                wrong_email.append(_timed_wrong_sign_in(
                    app, f"nobody{n}@bench.example", f"10.1.0.{n + 1}"))
                wrong_password.append(_timed_wrong_sign_in(app, emails[n], f"10.2.0.{n + 1}"))
            db.session.remove()
            db.engine.dispose()
    results = {
        "backend": backend, "attempts_each": ATTEMPTS,
        "argon2_time_cost": production_cost.argon2_time_cost,
        "argon2_memory_cost_kib": production_cost.argon2_memory_cost,
        "wrong_email_ms_median": round(statistics.median(wrong_email), 2),
        "wrong_password_ms_median": round(statistics.median(wrong_password), 2),
    }
    results["difference_ms"] = round(
        results["wrong_password_ms_median"] - results["wrong_email_ms_median"], 2)
    _print(results)
    return results


def _print(results: dict[str, Any]) -> None:
    print(f"Sign-in through the login form, median of {results['attempts_each']} each "
          f"({results['backend']}, Argon2 t={results['argon2_time_cost']}, "
          f"m={results['argon2_memory_cost_kib']} KiB)")
    print(f"  {'wrong email':>16}  {'wrong password':>16}  {'difference':>12}")
    print(f"  {results['wrong_email_ms_median']:>13} ms  "
          f"{results['wrong_password_ms_median']:>13} ms  {results['difference_ms']:>9} ms")
    print(json.dumps(results))


if __name__ == "__main__":
    run()
