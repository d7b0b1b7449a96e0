"""From a fresh clone, `make run` serves the clinic: a demo manager signs in, receives 10
cartridges of a new lot and sees on-hand rise by 10 with a ledger row; run again, the data
is still there and the demo is not loaded twice. The `pos worker` that `make run` starts
beside gunicorn mails the demo's expiring-lot alert, and stops with it.

The clone is `git archive HEAD` in a temporary folder. `make run` is the README's command
as is, given the test's own venv (VENV=..., and `-o` so make does not reinstall into it),
a free PORT and an instance folder of its own (POS_INSTANCE_DIR).
"""
from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 240

pytestmark = pytest.mark.xdist_group("make_run")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fresh_clone(tmp_path: Path) -> Path:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no fresh clone to make")
    if not (Path(sys.prefix) / "bin" / "gunicorn").exists():
        pytest.skip(f"the test's venv {sys.prefix} has no gunicorn")
    clone = tmp_path / "clone"
    clone.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(clone)], input=archive, check=True)
    return clone


class MakeRun:
    """`make run` in the clone, in a process group of its own, its output in a file."""

    def __init__(self, clone: Path, instance: Path, log: Path,
                 settings: dict[str, Any] | None = None) -> None:
        self.clone, self.instance, self.log = clone, instance, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        venv = sys.prefix
        env = {k: v for k, v in os.environ.items()
               if k not in {"POS_ENV", "DATABASE_URL", "SECRET_KEY", "FLASK_APP"}}
        env["POS_INSTANCE_DIR"] = str(instance)
        env.update({key: str(value) for key, value in (settings or {}).items()
                    if value is not None})
        self._out = log.open("w")
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "-o", f"{venv}/.installed", "run",
             f"VENV={venv}", f"PORT={self.port}", "WORKERS=2"],
            cwd=clone, env=env, stdout=self._out, stderr=subprocess.STDOUT,
            start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_login_page(self) -> requests.Response:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"make run exited with {self.process.returncode}:\n"
                            f"{self.output()[-4000:]}")
            try:
                response = requests.get(f"{self.url}/login", timeout=5)
                if response.status_code == 200:
                    return response
            except (requests.ConnectionError, requests.Timeout):
                pass  # not up yet: gunicorn listens before its workers have booted
            time.sleep(0.5)
        pytest.fail(f"make run did not serve the login page in time:\n{self.output()[-4000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._out.close()

    def group_is_gone(self, timeout: float = 30) -> bool:
        """No process of make run's group is left (gunicorn, its workers, pos worker)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.2)
        return False


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def manager_login(output: str) -> tuple[str, str]:
    match = re.search(r"^\s+manager\s+(\S+@\S+)\s+(\S+)\s*$", output, re.M)
    assert match, f"no manager login printed:\n{output[-3000:]}"
    return match.group(1), match.group(2)


def sign_in(url: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{url}/login", timeout=10)
    response = session.post(f"{url}/login", data={
        "email": email, "password": password, "csrf_token": csrf_token(page.text)},
        timeout=30, allow_redirects=False)
    assert response.status_code == 302, response.text[-2000:]
    return session


def on_hand(session: requests.Session, url: str, sku: str) -> int:
    page = session.get(f"{url}/stock/items/{sku}", timeout=10)
    assert page.status_code == 200
    return int(re.search(r'id="on-hand">(\d+)<', page.text).group(1))


def count_rows(database: Path, table: str) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def expiring_lot_mail(smtp_server: Any, lot: str, timeout: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [s for s in smtp_server.subjects() if f"lot {lot} " in s]
        if found:
            return found
        smtp_server.wait_for(len(smtp_server.messages) + 1, timeout=1)
    return []


def test_make_run_serves_the_demo_clinic_and_keeps_its_data_across_restarts(
        fresh_clone, tmp_path, smtp_server):
    instance = tmp_path / "instance"
    first = MakeRun(fresh_clone, instance, tmp_path / "first.log", smtp_server.config())
    try:
        login_page = first.wait_for_login_page()
        assert "Sign in" in login_page.text
        email, password = manager_login(first.output())
        session = sign_in(first.url, email, password)
        before = on_hand(session, first.url, "CART-36")

        form_url = f"{first.url}/stock/items/CART-36/receive"
        expires = (date.today() + timedelta(days=365)).isoformat()
        response = session.post(form_url, data={
            "quantity": "10", "lot": "C-MAKE-1", "expires_on": expires, "unit_cost": "4.50",
            "csrf_token": csrf_token(session.get(form_url, timeout=10).text)}, timeout=30)
        assert response.status_code == 200 and response.url.endswith("/stock/items/CART-36")
        assert f"On hand now {before + 10}" in response.text
        assert on_hand(session, first.url, "CART-36") == before + 10
        ledger = response.text.split('class="ledger"', 1)[1]
        newest = re.search(r"<tbody>\s*<tr>(.*?)</tr>", ledger, re.S).group(1)
        assert "+10" in newest and "receipt" in newest and "C-MAKE-1" in newest
        assert email in newest

        # The worker beside gunicorn raised the demo's near-expiry lot and mailed it.
        (subject,) = expiring_lot_mail(smtp_server, "L-1187")
        assert "(LIDO-23) lot L-1187" in subject
    finally:
        first.stop()
    assert first.group_is_gone()
    assert "pos worker: stopped" in first.output()
    with sqlite3.connect(instance / "pos.sqlite3") as connection:
        assert connection.execute(
            "SELECT count(*) FROM outbox WHERE subject LIKE '%lot L-1187 %' "
            "AND delivered_at IS NOT NULL").fetchone()[0] == 1

    database = instance / "pos.sqlite3"
    users, movements = count_rows(database, "users"), count_rows(database, "stock_movements")
    assert users == 4

    second = MakeRun(fresh_clone, instance, tmp_path / "second.log")
    try:
        second.wait_for_login_page()
        assert "not loaded again" in second.output()
        assert manager_login(second.output()) == (email, password)
        session = sign_in(second.url, email, password)
        assert on_hand(session, second.url, "CART-36") == before + 10
        assert "C-MAKE-1" in session.get(f"{second.url}/stock/items/CART-36", timeout=10).text
    finally:
        second.stop()
    assert (count_rows(database, "users"), count_rows(database, "stock_movements")) == \
        (users, movements)


def test_ci_runs_make_test():
    script = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in script.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert "make test" in commands
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test:.*\n(\t.*\n)*\t.*pytest", makefile, re.M)
