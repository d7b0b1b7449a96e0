"""Test data built through the services, so every test owns consistent data."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask, current_app

from pos import app_settings
from pos.services import catalog, clock, staff, stock
from pos.settings import Settings

PASSWORD = "correct-horse-battery"


def settings() -> Settings:
    """The current app's settings, to pass into services as the web layer does."""
    return app_settings(current_app)


class UserPool:
    def __init__(self) -> None:
        self._by_role: dict[str, Any] = {}

    def get(self, role: str):  # type: ignore[no-untyped-def]
        if role not in self._by_role:
            self._by_role[role] = staff.create_user(f"{role}@test.example", role, PASSWORD)
        return self._by_role[role]


def signed_in(client, user) -> str:  # type: ignore[no-untyped-def]
    """Give this test client a real server-side session of `user` (what the login form
    would do, without the form); returns the session's cookie key."""
    from pos.domain.statuses import SessionOrigin
    from pos.services import sessions
    from pos.services.transaction import write_transaction

    with write_transaction() as session:
        key = sessions.start_session(session, user.id, None, SessionOrigin.PASSWORD,
                                     clock.now())
    with client.session_transaction() as browser:
        browser.clear()
        browser["sid"] = key
    return key


class ApiClient:
    """The Flask test client with a bearer token; `.post(path, json)` etc."""

    def __init__(self, app: Flask, token: str) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.get(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, path: str, json: Any = None, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.post(path, json=json,
                                headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def put(self, path: str, json: Any = None, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.put(path, json=json,
                               headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.patch(path, json=json,
                                 headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def delete(self, path: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.delete(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)


class ApiClients:
    def __init__(self, app: Flask, users: UserPool) -> None:
        self.app = app
        self.users = users
        self._tokens: dict[str, str] = {}

    def __call__(self, role: str) -> ApiClient:
        if role not in self._tokens:
            user = self.users.get(role)
            self._tokens[role] = staff.create_token(user.email)
        return ApiClient(self.app, self._tokens[role])


def make_item(sku: str = "SERUM", *, kind: str = "retail", price_cents: int = 6500,
              cost_cents: int = 1900, reorder_point: int = 2, reorder_quantity: int = 10,
              taxable: bool = True, unit: str = "bottle", name: str | None = None,
              lots: list[tuple[str, int, int | None]] | None = None):  # type: ignore[no-untyped-def]
    """An item, with stock received in lots [(lot code, quantity, days to expiry)]."""
    item = catalog.create_item(catalog.NewItem(
        sku=sku, name=name or sku.title(), kind=kind, unit=unit, price_cents=price_cents,
        cost_cents=cost_cents, reorder_point=reorder_point, reorder_quantity=reorder_quantity,
        taxable=taxable), None)
    for code, quantity, days in lots or []:
        receive(sku, quantity, code, None if days is None else clock.today() + timedelta(days))
    return item


def receive(sku: str, quantity: int, lot: str | None = "LOT-1",
            expires_on: date | None = None) -> int:
    return stock.receive_stock(sku=sku, quantity=quantity, lot_code=lot,
                               expires_on=expires_on, unit_cost_cents=None,
                               user_id=None).on_hand
