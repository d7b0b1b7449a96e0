"""The web layer: blueprints, error pages, security headers, template helpers."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import (
    Flask,
    current_app,
    flash,
    g,
    jsonify,
    render_template,
    request,
    session,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, UnicodeConverter

from pos.domain.clinic import ClinicSettings
from pos.domain.errors import PosError
from pos.domain.limits import MAX_ID
from pos.domain.money import format_cents
from pos.extensions import db, login_manager
from pos.services import clinic, clock
from pos.services import sessions as staff_sessions
from pos.settings import Settings

log = logging.getLogger("pos")

# The one entry of the session cookie that says who is signed in: a server session's key.
SESSION_KEY = "sid"

# The pages use no inline script or style and no third-party origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def current_settings() -> Settings:
    """The app's settings, for passing into services (see pos/settings.py)."""
    from pos import app_settings

    return app_settings(current_app)


def current_clinic() -> ClinicSettings:
    """The clinic's own settings for this request: free on a signed-in request (the user
    lookup carried the version, see pos/services/clinic.py), else one SELECT."""
    return clinic.clinic_settings(db.session(), current_settings())


@dataclass(frozen=True)
class NavEntry:
    label: str
    endpoint: str
    minimum_role: str


def add_nav(app: Flask, label: str, endpoint: str, minimum_role: str) -> None:
    """Each desk's blueprint adds its own link to the top bar."""
    app.extensions.setdefault("pos_nav", []).append(NavEntry(label, endpoint, minimum_role))


class Int32Converter(IntegerConverter):
    """`<int:id>` up to the largest id an INTEGER column holds: /sales/99999999999 is a 404,
    not a PostgreSQL out-of-range error."""

    def __init__(self, map, *args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: A002
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class TextConverter(UnicodeConverter):
    """`<sku>` and other text parts of a path: one holding a control character (NUL above
    all, which PostgreSQL cannot even compare) names nothing, so the route does not match:
    a 404, never a database error."""

    def __init__(self, map, *args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: A002
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", r"[^/\x00-\x1f\x7f]")


def _query_problems() -> dict[str, str]:
    """A NUL in any query value, on any page: PostgreSQL cannot hold or compare it, so it is
    refused before a page can pass it on. (The API's query models apply the whole text rule;
    a page may meet a stray tab, as in a pasted `next=` link, and handle it itself.)"""
    return {name[:40]: "must not contain control characters"
            for name, value in request.args.items(multi=True) if "\x00" in value}


def register_web(app: Flask) -> None:
    from pos import app_settings

    # Before any blueprint: each rule takes its converters when it is registered.
    app.url_map.converters["int"] = Int32Converter
    app.url_map.converters["default"] = TextConverter
    app.url_map.converters["string"] = TextConverter

    from pos.web.api import api_bp
    from pos.web.auth.routes import auth_bp
    from pos.web.health import health_bp
    from pos.web.payments import readers  # noqa: F401 - its routes join payments_bp
    from pos.web.payments.routes import payments_bp
    from pos.web.stock.routes import stock_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(stock_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(payments_bp)

    from pos.web.desk import (
        cart_routes,  # noqa: F401 - its routes join desk_bp
        client_routes,  # noqa: F401 - its routes join desk_bp
        gift_card_routes,  # noqa: F401 - its routes join desk_bp
        sale_routes,  # noqa: F401 - its routes join desk_bp
    )
    from pos.web.desk.routes import desk_bp

    app.register_blueprint(desk_bp)
    add_nav(app, "Checkout", "desk.checkout", "front_desk")
    add_nav(app, "Clients", "desk.clients_page", "front_desk")
    add_nav(app, "Gift cards", "desk.gift_card_balance_page", "front_desk")

    from pos.web.drawers.routes import drawers_bp

    app.register_blueprint(drawers_bp)
    add_nav(app, "Drawer", "drawers.index", "front_desk")

    from pos.web.transactions.routes import transactions_bp

    app.register_blueprint(transactions_bp)
    add_nav(app, "Transactions", "transactions.index", "front_desk")

    add_nav(app, "Stock", "stock.overview", "front_desk")

    from pos.web.locations.routes import locations_bp
    from pos.web.workplace import header_location

    app.register_blueprint(locations_bp)

    from pos.web.catalog.routes import catalog_bp

    app.register_blueprint(catalog_bp)
    add_nav(app, "Catalog", "catalog.items", "manager")

    from pos.web.alerts.routes import alerts_bp

    app.register_blueprint(alerts_bp)
    add_nav(app, "Alerts", "alerts.index", "manager")

    from pos.web.purchasing.routes import purchasing_bp

    app.register_blueprint(purchasing_bp)
    add_nav(app, "Purchasing", "purchasing.orders", "manager")

    from pos.web.today.routes import today_bp

    app.register_blueprint(today_bp)
    add_nav(app, "Today", "today.index", "provider")

    from pos.web.clinical.routes import clinical_bp

    app.register_blueprint(clinical_bp)
    add_nav(app, "Recall", "clinical.recall", "manager")
    add_nav(app, "Screening", "clinical.questionnaire_page", "provider")
    add_nav(app, "Consent form", "clinical.consent_form_page", "provider")
    add_nav(app, "Aftercare", "clinical.aftercare_page", "provider")

    from pos.web.reports.routes import reports_bp

    app.register_blueprint(reports_bp)
    add_nav(app, "Reports", "reports.monthly", "manager")

    from pos.web.backoffice.routes import backoffice_bp

    app.register_blueprint(backoffice_bp)
    add_nav(app, "Discounts", "backoffice.discount_codes", "manager")
    add_nav(app, "Card readers", "payments.readers_page", "manager")
    add_nav(app, "Import", "backoffice.import_page", "manager")

    from pos.web.admin.routes import accounts_bp, admin_bp

    app.register_blueprint(admin_bp)
    app.register_blueprint(accounts_bp)
    add_nav(app, "Users", "admin.users", "admin")
    add_nav(app, "Audit", "admin.audit_trail", "admin")
    add_nav(app, "Settings", "admin.settings", "admin")
    add_nav(app, "Locations", "locations.index", "admin")

    currency = app_settings(app).currency  # cannot change while the app runs
    app.jinja_env.filters["money"] = lambda cents: format_cents(int(cents or 0), currency)
    app.jinja_env.filters["clinic_time"] = _clinic_time

    @app.context_processor
    def _template_helpers() -> dict:
        def nav_entries() -> list[NavEntry]:
            return [e for e in app.extensions.get("pos_nav", [])
                    if current_user.is_authenticated and current_user.has_role(e.minimum_role)]

        def demo_gateway_banner() -> bool:
            return current_user.is_authenticated and not app.config.get("STRIPE_SECRET_KEY")

        # `clinic()` in a template: the clinic's name (the page's brand and title).
        return {"nav_entries": nav_entries, "demo_gateway_banner": demo_gateway_banner,
                "clinic": current_clinic, "header_location": header_location}

    @login_manager.request_loader
    def load_user_from_session(_request):  # type: ignore[no-untyped-def]
        # The cookie names a server-side session by its random key (pos/services/sessions.py);
        # nothing else in it says who is signed in.
        key = session.get(SESSION_KEY)
        if not isinstance(key, str) or not key or len(key) > 100:
            return None
        loaded = staff_sessions.load(db.session(), key, now=clock.now(),
                                     idle_minutes=current_settings().session_idle_minutes)
        g.staff_location_id = loaded.location_id
        if loaded.user is None:
            session.pop(SESSION_KEY, None)
            if loaded.idle:
                flash("This desk locked after "
                      f"{current_settings().session_idle_minutes} minutes without use.")
        return loaded.user

    def _fresh_request_state() -> None:
        # The signed-in user and the CSRF token belong to one request. A test client may run
        # several requests in one app context (one `g`), where Flask-Login and Flask-WTF
        # would otherwise reuse the first request's. First in line, before the CSRF check.
        for name in ("_login_user", app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"),
                     "csrf_valid", "staff_location_id"):
            g.pop(name, None)

    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_state)

    @app.before_request
    def _request_id() -> None:
        # Ours alone: a client's X-Request-Id is only logged beside it, cleaned
        # (pos/logging.py), never echoed, so it cannot forge or collide with our ids.
        g.request_id = uuid.uuid4().hex

    @app.before_request
    def _query_text():  # type: ignore[no-untyped-def]
        problems = _query_problems()
        if problems:
            listed = "; ".join(f"{k} {v}" for k, v in sorted(problems.items()))
            return error_response(422, "validation_error",
                                  f"Some fields are not right: {listed}.", {"fields": problems})
        return None

    @app.after_request
    def _security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    _register_error_handlers(app)


def _clinic_time(at: datetime | None) -> str:
    from pos.services.clock import clinic_zone

    return "" if at is None else at.astimezone(clinic_zone()).strftime("%Y-%m-%d %H:%M")


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/stripe/")


def error_response(status: int, code: str, message: str, details: dict | None = None):  # type: ignore[no-untyped-def]
    if wants_json():
        body = {"error": {"code": code, "message": message, "details": details or {}}}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message), status


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(PosError)
    def _pos_error(error: PosError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        return error_response(error.status, error.code, error.message, error.details)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        return error_response(400, "csrf_failed",
                              "The form had expired or was not sent from this app. "
                              "Reload the page and try again.")

    @app.errorhandler(OperationalError)
    def _database_busy(error: OperationalError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        if "database is locked" in str(error.orig):
            response, status = error_response(
                503, "busy", "The clinic's database is busy. Please try again in a moment.")
            response = app.make_response((response, status))
            response.headers["Retry-After"] = "1"
            return response
        log.exception("database error (request %s)", g.get("request_id"))
        return error_response(503, "database_unavailable",
                              "The database is unavailable. Please try again shortly.")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "payload_too_large",
                429: "too_many_requests"}.get(error.code or 500, "error")
        return error_response(error.code or 500, code, error.description or error.name)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):  # type: ignore[no-untyped-def]
        db.session.rollback()
        # The traceback goes to the log with the request id only: never the request body,
        # which may hold contact or screening data.
        log.exception("unexpected error (request %s)", g.get("request_id"))
        return error_response(500, "internal_error",
                              "Something went wrong on our side; nothing was saved. "
                              f"Reference {g.get('request_id', '')}.")
