"""Fixtures for end-to-end tests: a live server on a SQLite file, and Debian's Chromium.

- `make_live_server(**config_overrides)` -> LiveServer; `live_app` is one (overrides by an
  indirect parameter).
  A LiveServer has `.url`, `.app`, `.users(role)` (a user of that role, password
  factories.PASSWORD), and `.context()` (an app context for setting up data with the
  services and factories; it ends its session so the server sees committed data only).
- `browser` (one Chromium per xdist worker), `page` (a fresh context and page per test).
- `browser_login(page, live, role)` signs in through the real login form.

Browser tests carry `@pytest.mark.browser`. Without /usr/bin/chromium they skip loudly,
except under CI=true, where a missing browser fails the run.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from pos import create_app
from pos.domain.roles import sorted_roles
from pos.extensions import db
from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Generous, because two xdist workers share two cores with a server and a browser each.
PAGE_TIMEOUT_MS = 20_000


class LiveServer:
    """The app served over real HTTP by werkzeug in a daemon thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"live-server-{self.port}")
        self._users: dict[str, Any] = {}

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    @contextmanager
    def context(self) -> Iterator[Flask]:
        """An app context for the test's own set-up and checks (services, factories)."""
        with self.app.app_context():
            try:
                yield self.app
            finally:
                db.session.remove()

    def users(self, role: str):  # type: ignore[no-untyped-def]
        """A user of that role (email `<role>@test.example`, password factories.PASSWORD)."""
        if role not in self._users:
            with self.context():
                user = factories.UserPool().get(role)
                self._users[role] = {"id": user.id, "email": user.email, "role": "+".join(sorted_roles(user.roles))}
        return self._users[role]


@pytest.fixture
def make_live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """make_live_server(**config_overrides) -> a started LiveServer on its own SQLite file."""
    started: list[LiveServer] = []

    def make(**overrides: Any) -> LiveServer:
        path = tmp_path / f"live-{len(started)}.sqlite3"
        app = create_app("test", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", **overrides})
        with app.app_context():
            db.create_all()
            db.session.remove()
        server = LiveServer(app).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def live_app(request: pytest.FixtureRequest,
             make_live_server: Callable[..., LiveServer]) -> LiveServer:
    """A started LiveServer; config overrides may come as an indirect parameter:
    `@pytest.mark.parametrize("live_app", [{"TAX_RATE_BP": 0}], indirect=True)`."""
    return make_live_server(**(getattr(request, "param", None) or {}))


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Debian's Chromium driven by playwright (sync API); one per test process."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (apt-get install chromium, or `make chromium`)."
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the browser tests: " + message)
        pytest.skip("SKIPPING BROWSER TESTS LOUDLY: " + message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


# The desk's two tablet screens; a browser test taking `viewport` (or `desk_page`) runs at both.
VIEWPORTS = [pytest.param({"width": 1024, "height": 768}, id="1024x768"),
             pytest.param({"width": 768, "height": 1024}, id="768x1024")]


@pytest.fixture(params=VIEWPORTS)
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def desk_page(browser, viewport: dict[str, int]) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A page of its own browser context at `viewport`, closed after the test."""
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def browser_login(page, live: LiveServer, role: str, *, password: str | None = None):  # type: ignore[no-untyped-def]
    """Sign in as a user of that role through the login form; returns the user's dict."""
    user = live.users(role)
    page.goto(f"{live.url}/login")
    page.get_by_label("Email").fill(user["email"])
    page.get_by_label("Password").fill(password or factories.PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if "/login" in page.url:
        errors = page.locator("p.error").all_inner_texts()
        raise AssertionError(f"signing in as {user['email']} failed: {errors}")
    return user


@pytest.fixture(name="browser_login")
def browser_login_fixture() -> Callable[..., Any]:
    """The `browser_login(page, live, role)` helper, for tests that prefer a fixture."""
    return browser_login
