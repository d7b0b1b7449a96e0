"""The application's settings, typed once: one frozen value, one default per setting.

How settings travel (apply the same shape when converting a module):

- `Settings.from_env()` reads the environment (create_app loads `.env` first) once per app.
  Each field's variable is its name in upper case; the default here is the only one (the
  README's table and config.py quote these, they do not repeat them).
- create_app keeps the value in `app.extensions["pos_settings"]` and mirrors it into
  `app.config` (upper-case keys) only for Flask, its extensions and the templates.
- Services never import flask: a service function takes what it needs as a parameter,
  `settings: Settings` or the few values themselves. The callers get the value once:
  the web layer with `pos.web.current_settings()`, `pos worker` and the CLI from the app
  they built (`app_settings(app)`).
- A hook that runs inside a transaction with no caller to pass anything (the stock-alert
  hook before commit) reads `settings_for(session)`: the settings create_app bound to that
  session's database engine. It also backs the `settings=None` keyword that a few services
  keep for callers not yet converted (listed in the second-wave report); new code passes it.
- Tests override fields (`Settings.replace(...)`, `pos.update_settings(app, ...)`), never
  a second set of defaults.

The clinic's own settings (name, address, tax rate, time zone...) are not here: they live
in the database (pos/services/clinic.py); CLINIC_NAME, TAX_RATE_BP and CLINIC_TIMEZONE
only give their first values.

Converting a module (sales, reports, api/*, desk/routes after the second wave merges):
- `current_app.config["TAX_RATE_BP"]` -> `clinic_settings(session).tax_rate_bp`;
  `ZoneInfo(config["CLINIC_TIMEZONE"])` -> `clinic_settings(session).zone` (or
  `clock.today(zone)`); `config["CLINIC_NAME"]` -> `clinic_settings(session).clinic_name`
  (receipts also take address, phone, tax_id, receipt_footer from there). Free on a
  signed-in request, so the sale's statement budget is untouched.
- Everything else: a `settings: Settings` parameter (or the value: `currency`,
  `checkout_expires_minutes`, `public_base_url`, `digest_hour`...), given by the route from
  `current_settings()`, by the worker and CLI from `app_settings(app)`.
- In tests, `pos.update_settings(app, KEY=value)` instead of `app.config[KEY] = value`.
"""
from __future__ import annotations

import dataclasses
import os
import typing
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    # None: the SQLite file under instance/ (config.py knows where that is).
    database_url: str | None = None
    # Empty: development generates one under instance/; production refuses to start.
    secret_key: str = ""
    public_base_url: str | None = None

    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    # How long a card sale holds its stock while the client pays. Stripe allows 30 min..24 h;
    # 35 leaves a margin, so a retry with the sale's idempotency key sends the same expiry
    # (a value clamped to "now + 30 min" would differ per call and Stripe would refuse it).
    checkout_expires_minutes: int = 35

    mail_server: str | None = None
    mail_port: int = 25
    mail_username: str | None = None
    mail_password: str | None = None
    mail_use_tls: bool = False
    mail_from: str = "clinic-pos@localhost"
    alert_email_to: str | None = None
    alert_webhook_url: str | None = None
    # Lots expiring within this many days raise an `expiring_lot` alert.
    expiry_warning_days: int = 30
    # A drawer counted over or short by more than this needs a note to close.
    drawer_tolerance_cents: int = 500
    # A reorder suggestion covers at least this many days at the last 30 days' rate of use.
    reorder_cover_days: int = 30
    # Hour (clinic time) of the daily stock digest and of the monthly report email.
    digest_hour: int = 7
    # An Idempotency-Key claimed by a request that has not answered after this long is
    # taken over by a retry (its worker died). Longer than gunicorn's 30 s timeout, so a
    # request still running is never overtaken.
    idempotency_lease_seconds: int = 60

    # First values of the clinic's settings row (the database holds the real ones).
    clinic_name: str = "Glow Microneedling Clinic"
    clinic_timezone: str = "America/New_York"
    # Sales tax on taxable (retail) lines, in basis points: 800 = 8.00 %.
    tax_rate_bp: int = 800
    # Stays here, not in the database: it cannot change once sales exist.
    currency: str = "usd"
    # The item handed out once per client with the first treatment ever (a stock movement).
    first_visit_bundle_sku: str = "BUNDLE-FV"

    # Failed sign-ins (password or PIN) per account within the window before it waits, with
    # a growing back-off (pos/domain/throttle.py); per client address the limit is far
    # higher, since a whole clinic may sign in from one address.
    login_max_failures: int = 5
    login_address_max_failures: int = 50
    login_window_seconds: int = 15 * 60
    # How many reverse proxies stand in front of the app: the client address is taken from
    # X-Forwarded-For only when this is more than 0 (werkzeug's ProxyFix, x_for=N).
    trusted_proxies: int = 0
    # A staff session unused for this long is locked: a PIN or a full sign-in opens it.
    session_idle_minutes: int = 30
    # Who signed in fully on a desk (a browser) may unlock it by PIN for this long: a long
    # clinic day, so each morning starts with a password again.
    desk_membership_hours: int = 12
    # Need-to-know: more client record reads than this by one user within the window tell
    # the admins (pos/services/need_to_know.py).
    bulk_read_limit: int = 100
    bulk_read_window_seconds: int = 60
    # argon2-cffi's defaults (RFC 9106 low-memory); the test configuration lowers them.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings named in `environ` (os.environ by default); the rest keep defaults.

        An unparsable number stops the start with the variable's name, not a traceback
        deep in a request.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, kind in _field_types().items():
            raw = environ.get(name.upper())
            if raw is None:
                continue
            values[name] = _parse(name, kind, raw)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with these fields changed (lower- or upper-case names)."""
        return dataclasses.replace(self, **{k.lower(): v for k, v in changes.items()})

    def with_config(self, config: Mapping[str, Any]) -> Settings:
        """A copy taking every upper-case key of `config` that names a field."""
        fields = _field_types()
        return self.replace(**{k: v for k, v in config.items()
                               if k.isupper() and k.lower() in fields})

    def flask_config(self) -> dict[str, Any]:
        """The mirror in `app.config`: every field under its upper-case name."""
        return {name.upper(): getattr(self, name) for name in _field_types()}


def _field_types() -> dict[str, str]:
    hints = typing.get_type_hints(Settings)
    return {f.name: str(hints[f.name]) for f in dataclasses.fields(Settings)}


def _parse(name: str, kind: str, raw: str) -> Any:
    if "bool" in kind:
        return raw.strip().lower() in _TRUE
    if "int" in kind:
        try:
            return int(raw.strip())
        except ValueError:
            raise ValueError(f"{name.upper()} must be a whole number, not {raw!r}.") from None
    if name == "currency":
        return raw.strip().lower()
    if "None" in kind and not raw.strip():
        return None  # VAR= in .env means "unset"
    return raw


# --------------------------------------------------------------------------- per database

# create_app binds its settings to its engine; tests run many apps (and engines) in one
# process, so a single module-level value would be wrong. Weak: a disposed app's engine goes.
_by_engine: weakref.WeakKeyDictionary[Engine, Settings] = weakref.WeakKeyDictionary()


def bind_settings(engine: Engine, settings: Settings) -> None:
    _by_engine[engine] = settings


def settings_for(session: Session) -> Settings:
    """The settings of the app whose database this session talks to (see module docstring)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    found = _by_engine.get(engine)
    return found if found is not None else Settings.from_env()
