"""What the benchmarks share: throw-away PostgreSQL databases, a gunicorn server on
127.0.0.1, an HTTP client with keep-alive, and percentiles."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_server_url() -> str | None:
    """The PostgreSQL server the benchmarks use (TEST_DATABASE_URL), if it answers."""
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG_URL
    host = make_url(url).host or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"The benchmarks only run against a local server, not {host}.")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return url
    except Exception:  # noqa: BLE001 - no server: the caller says so and skips
        return None
    finally:
        engine.dispose()


def _admin(server_url: str, sql: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


@contextmanager
def fresh_database(server_url: str, name: str) -> Iterator[str]:
    """A new empty database for one benchmark, dropped afterwards whatever happens."""
    _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_app(database_url: str):  # type: ignore[no-untyped-def]
    """The application on that database, as the test configuration builds it."""
    os.environ.setdefault("POS_INSTANCE_DIR", tempfile.mkdtemp(prefix="pos-bench-instance-"))
    from pos import create_app

    return create_app("test", {"SQLALCHEMY_DATABASE_URI": database_url})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn wsgi:app` on 127.0.0.1, as production would run it."""

    def __init__(self, database_url: str, workers: int = 2, extra_args: Sequence[str] = ()):
        self.port = free_port()
        self.workers = workers
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by stop()
            prefix="pos-bench-gunicorn-", suffix=".log",
            delete=False)
        env = {**os.environ, "DATABASE_URL": database_url, "POS_ENV": "production",
               "SECRET_KEY": "bench-secret-key-bench-secret-key", "OUTBOX_WORKER": "0",
               "STRIPE_SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": "", "MAIL_SERVER": "",
               "POS_INSTANCE_DIR": tempfile.mkdtemp(prefix="pos-bench-instance-")}
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.process = subprocess.Popen(
            [gunicorn, "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             *extra_args, "wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited: " + Path(self.log.name).read_text()[-2000:])
            try:
                status, _ = request(self.port, "GET", "/healthz")
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    time.sleep(1.0)  # let every worker finish importing the app
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def access_durations_ms(self, method: str, path: str, status: int) -> list[float]:
        """duration_ms of the app's own access log lines (time spent inside the worker,
        without the wait for a free worker) for that method, path and status."""
        self.log.flush()
        durations = []
        for line in Path(self.log.name).read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if (entry.get("logger") == "pos.access" and entry.get("method") == method
                    and entry.get("path") == path and entry.get("status") == status
                    and entry.get("duration_ms") is not None):
                durations.append(float(entry["duration_ms"]))
        return durations

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        os.unlink(self.log.name)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request(port: int, method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None,
            connection: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    own = connection is None
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    payload = None if body is None else json.dumps(body)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    try:
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        if response.will_close:
            conn.close()  # the next request on it reconnects by itself
        return response.status, data
    except (http.client.HTTPException, OSError):
        conn.close()
        raise
    finally:
        if own:
            conn.close()


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 200 samples is the 190th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]
