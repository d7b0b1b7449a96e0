"""Production start-up checks, cookies and headers, and the load balancer's /healthz."""
from __future__ import annotations

from datetime import timedelta

import pytest

from pos import create_app
from pos.extensions import db
from pos.models import Alert, OutboxMessage
from pos.models.types import utcnow
from tests.factories import make_item


@pytest.fixture
def production_env(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """Everything production needs; each test removes the one setting it is about."""
    url = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return {"SECRET_KEY": "a-long-production-secret", "SQLALCHEMY_DATABASE_URI": url,
            "STRIPE_SECRET_KEY": None, "STRIPE_WEBHOOK_SECRET": None}


def test_production_starts_when_every_required_setting_is_given(production_env):
    app = create_app("production", production_env)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_production_refuses_to_start_without_a_secret_key(production_env):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", {**production_env, "SECRET_KEY": ""})


def test_production_refuses_to_start_without_a_database_url(production_env, monkeypatch):
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app("production", production_env)


def test_production_with_stripe_refuses_to_start_without_the_webhook_secret(production_env):
    with pytest.raises(RuntimeError, match="STRIPE_WEBHOOK_SECRET"):
        create_app("production", {**production_env, "STRIPE_SECRET_KEY": "sk_test_x"})


def test_production_with_stripe_and_its_webhook_secret_starts(production_env):
    app = create_app("production", {**production_env, "STRIPE_SECRET_KEY": "sk_test_x",
                                    "STRIPE_WEBHOOK_SECRET": "whsec_x"})
    assert app.config["STRIPE_WEBHOOK_SECRET"] == "whsec_x"


def test_production_names_every_missing_setting_at_once(production_env, monkeypatch):
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(RuntimeError) as error:
        create_app("production", {**production_env, "SECRET_KEY": ""})
    assert "SECRET_KEY" in str(error.value) and "DATABASE_URL" in str(error.value)


def test_production_session_cookie_is_secure_and_http_only_and_hsts_is_sent(production_env):
    app = create_app("production", production_env)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    response = client.get("/login", base_url="https://clinic.example")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_development_sends_no_hsts(sqlite_app):
    response = sqlite_app.test_client().get("/login")
    assert "Strict-Transport-Security" not in response.headers


def test_healthz_needs_no_login_and_reports_an_empty_outbox(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "outbox_backlog": 0,
                                   "oldest_pending_at": None, "last_alert_delivery_at": None}


def test_healthz_counts_undelivered_messages_and_shows_the_last_alert_delivery(app, client):
    item = make_item("SERUM")
    now = utcnow()
    alert = Alert(kind="low_stock", item_id=item.id, on_hand=1, available=1, reorder_point=2,
                  created_at=now - timedelta(hours=3), delivered_at=now - timedelta(hours=2))
    db.session.add(alert)
    db.session.flush()
    db.session.add_all([
        OutboxMessage(channel="email", topic="alert", alert_id=alert.id,
                      created_at=now - timedelta(hours=3), delivered_at=now - timedelta(hours=2)),
        OutboxMessage(channel="email", topic="receipt", created_at=now - timedelta(minutes=40)),
        OutboxMessage(channel="webhook", topic="alert", created_at=now - timedelta(minutes=5)),
    ])
    db.session.commit()
    body = client.get("/healthz").get_json()
    assert body["outbox_backlog"] == 2
    assert body["oldest_pending_at"] == (now - timedelta(minutes=40)).isoformat()
    assert body["last_alert_delivery_at"] == (now - timedelta(hours=2)).isoformat()


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path):
    missing = tmp_path / "no-such-directory" / "pos.sqlite3"
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "error"
    assert response.get_json()["status"] == "error"
