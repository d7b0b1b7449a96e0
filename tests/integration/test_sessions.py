"""Server-side sessions, sign-in throttling per account, the desk PIN, and where each role
lands. Pages through the real login form with its CSRF token (tests/integration/test_auth.py)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from pos import update_settings
from pos.domain.landing import Landing, landing_for
from pos.domain.throttle import backoff_seconds
from pos.extensions import db
from pos.models import LoginThrottle, StaffSession
from pos.services import clock, sessions
from pos.services.transaction import write_transaction
from tests.factories import PASSWORD
from tests.integration.test_auth import csrf_token, error_text, sign_in


class Clock:
    """Moves the app's clock (pos.services.clock.now) forward."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.at = clock.now()
        monkeypatch.setattr(clock, "now", lambda: self.at)

    def forward(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def moving_clock(monkeypatch):  # type: ignore[no-untyped-def]
    return Clock(monkeypatch)


def signed_in_as(client) -> str | None:  # type: ignore[no-untyped-def]
    """The name the top bar shows, or None when the page sends the browser to /login."""
    page = client.get("/stock/")
    if page.status_code == 302:
        assert page.headers["Location"].startswith("/login")
        return None
    match = re.search(r'<span class="who">([^<]*) ·', page.get_data(as_text=True))
    assert match, "no signed-in name on the page"
    return match.group(1)


def sign_out(client) -> None:  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/stock/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


# -- throttling --------------------------------------------------------------------------

def test_six_wrong_passwords_for_one_user_do_not_block_another_and_the_first_waits(
        app, users, moving_clock):
    a, b = users.get("manager"), users.get("front_desk")
    browser = app.test_client()
    statuses = [sign_in(browser, a.email, "wrong-password-1", address="10.5.5.5").status_code
                for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    # Someone else, at the same address, at once.
    other = app.test_client()
    assert sign_in(other, b.email, address="10.5.5.5").status_code == 302
    assert signed_in_as(other) == b.name
    # A waits, even with the right password, until the back-off (1 min after the fifth).
    assert sign_in(browser, a.email, address="10.5.5.5").status_code == 429
    moving_clock.forward(seconds=61)
    assert sign_in(browser, a.email, address="10.5.5.5").status_code == 302
    assert signed_in_as(browser) == a.name


def test_the_back_off_grows_with_each_failure_past_the_limit(app, users, moving_clock):
    user = users.get("manager")
    browser = app.test_client()
    for _ in range(5):
        sign_in(browser, user.email, "wrong-password-1")
    moving_clock.forward(seconds=61)
    assert sign_in(browser, user.email, "wrong-password-1").status_code == 401  # sixth
    moving_clock.forward(seconds=61)
    response = sign_in(browser, user.email)
    assert response.status_code == 429  # the sixth failure doubled the wait to 2 min
    assert "Too many failed sign-ins" in error_text(response)
    moving_clock.forward(seconds=60)
    assert sign_in(browser, user.email).status_code == 302


def test_back_off_doubles_from_one_minute_up_to_fifteen():
    assert [backoff_seconds(n, 5) for n in range(3, 11)] == [
        0, 0, 60, 120, 240, 480, 900, 900]
    assert backoff_seconds(10_000, 5) == 900


@pytest.mark.postgres
def test_thirty_concurrent_wrong_guesses_for_one_email_count_thirty(pg_app):
    import threading

    from pos.services import signin, throttle
    from tests.factories import UserPool, settings

    email = UserPool().get("manager").email
    db.session.commit()
    app_settings = settings()
    barrier = threading.Barrier(30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess() -> None:
        with pg_app.app_context():
            barrier.wait()
            try:
                result = signin.sign_in_with_password(
                    email, "wrong-password-1", "10.8.8.8", desk_key=None,
                    settings=app_settings)
                outcome = "signed in" if result else "wrong"
            except throttle.TooManyAttempts:
                outcome = "refused"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == 30
    assert throttle.failures_counted(db.session(), email) == 30
    # Only the five allowed guesses reached the password check; the rest were refused.
    assert outcomes.count("wrong") == 5 and outcomes.count("refused") == 25


def _throttled_by_address(app) -> bool:  # type: ignore[no-untyped-def]
    """Three wrong sign-ins for different accounts from one socket address, each with its
    own X-Forwarded-For: is the third refused because of the address?"""
    update_settings(app, LOGIN_ADDRESS_MAX_FAILURES=2)
    statuses = []
    for n in range(3):
        browser = app.test_client()
        environ = {"REMOTE_ADDR": "10.0.0.1"}
        headers = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
        token = csrf_token(browser.get("/login", environ_base=environ, headers=headers)
                           .get_data(as_text=True))
        statuses.append(browser.post("/login", environ_base=environ, headers=headers, data={
            "email": f"guess{n}@test.example", "password": "wrong-password-1",
            "csrf_token": token}).status_code)
    return statuses == [401, 401, 429]


def test_x_forwarded_for_is_ignored_without_trusted_proxies(app):
    assert app.config["TRUSTED_PROXIES"] == 0
    assert _throttled_by_address(app)


def test_x_forwarded_for_gives_the_address_behind_one_trusted_proxy(tmp_path):
    from tests.conftest import make_app

    proxied = make_app(f"sqlite:///{tmp_path / 'proxied.sqlite3'}", TRUSTED_PROXIES=1)
    with proxied.app_context():
        db.create_all()
        try:
            assert not _throttled_by_address(proxied)
        finally:
            db.session.remove()
            db.engine.dispose()



def test_a_wrong_email_and_a_wrong_password_do_the_same_work(app, users, monkeypatch):
    """Same message, same SQL statements, one Argon2 verification and no hashing each."""
    from argon2 import PasswordHasher
    from sqlalchemy import event

    user = users.get("manager")
    staff_hash_calls: list[str] = []
    real_hash, real_verify = PasswordHasher.hash, PasswordHasher.verify

    def counting_hash(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        staff_hash_calls.append("hash")
        return real_hash(self, *args, **kwargs)

    def counting_verify(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        staff_hash_calls.append("verify")
        return real_verify(self, *args, **kwargs)

    def work(email: str, address: str) -> tuple[str, list[str], list[str]]:
        browser = app.test_client()
        environ = {"REMOTE_ADDR": address}
        token = csrf_token(browser.get("/login", environ_base=environ).get_data(as_text=True))
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            statements.append(re.sub(r"\s+", " ", statement))

        staff_hash_calls.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            response = browser.post("/login", environ_base=environ, data={
                "email": email, "password": "wrong-password-1", "csrf_token": token})
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert response.status_code == 401
        return error_text(response), statements, list(staff_hash_calls)

    sign_in(app.test_client(), "warm-up@test.example", "wrong", address="10.9.0.1")
    monkeypatch.setattr(PasswordHasher, "hash", counting_hash)
    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    unknown = work("nobody@test.example", "10.9.0.2")
    known = work(user.email, "10.9.0.3")
    assert unknown[0] == known[0] == "Email or password is not right."
    assert unknown[1] == known[1]
    assert unknown[2] == known[2] == ["verify"]

# -- sessions ----------------------------------------------------------------------------

def test_the_cookie_holds_only_a_session_key_that_the_database_keeps_hashed(app, users):
    browser = app.test_client()
    sign_in(browser, users.get("manager").email)
    with browser.session_transaction() as cookie:
        assert set(cookie.keys()) <= {"sid", "csrf_token", "_flashes"}
        key = cookie["sid"]
    [stored] = db.session.scalars(select(StaffSession.key_hash)).all()
    assert stored == sessions.digest(key) and key not in stored


def test_a_cookie_replayed_after_sign_out_is_refused(app, users):
    browser = app.test_client()
    sign_in(browser, users.get("manager").email)
    copied = browser.get_cookie("session").value
    sign_out(browser)
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert signed_in_as(thief) is None
    browser.set_cookie("session", copied)
    assert signed_in_as(browser) is None


def test_an_idle_session_is_refused_after_the_timeout(app, users, moving_clock):
    user = users.get("front_desk")
    browser = app.test_client()
    sign_in(browser, user.email)
    moving_clock.forward(minutes=29)
    assert signed_in_as(browser) == user.name  # this request counts as use
    moving_clock.forward(minutes=29)
    assert signed_in_as(browser) == user.name
    moving_clock.forward(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1)
    assert signed_in_as(browser) is None
    ended = db.session.scalar(select(StaffSession.end_reason))
    assert ended == "idle"


def test_a_password_change_ends_the_other_sessions_but_not_this_one(app, users):
    user = users.get("provider")
    desk, phone = app.test_client(), app.test_client()
    sign_in(desk, user.email)
    sign_in(phone, user.email, address="10.4.4.4")
    page = desk.get("/me/password").get_data(as_text=True)
    response = desk.post("/me/password", data={
        "current_password": PASSWORD, "new_password": "a-brand-new-password",
        "confirm": "a-brand-new-password", "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert "Signed out everywhere else (1 session)" in desk.get(
        response.headers["Location"]).get_data(as_text=True)
    assert signed_in_as(desk) == user.name
    assert signed_in_as(phone) is None
    assert sign_in(app.test_client(), user.email, "a-brand-new-password").status_code == 302


def test_a_wrong_current_password_changes_nothing(app, users):
    user = users.get("provider")
    desk = app.test_client()
    sign_in(desk, user.email)
    page = desk.get("/me/password").get_data(as_text=True)
    response = desk.post("/me/password", data={
        "current_password": "not-my-password", "new_password": "a-brand-new-password",
        "confirm": "a-brand-new-password", "csrf_token": csrf_token(page)})
    assert response.status_code == 422
    assert "current password is not right" in error_text(response)
    assert sign_in(app.test_client(), user.email).status_code == 302


def test_the_api_changes_my_password_and_signs_out_my_browsers_but_not_the_token(app, users,
                                                                                 api):
    client = api("manager")
    user = users.get("manager")
    browser = app.test_client()
    sign_in(browser, user.email)
    wrong = client.post("/api/v1/me/password", json={
        "current_password": "nope-nope-nope", "new_password": "another-long-password"})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "wrong_password"
    short = client.post("/api/v1/me/password", json={
        "current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422
    assert "new_password" in short.get_json()["error"]["details"]["fields"]
    response = client.post("/api/v1/me/password", json={
        "current_password": PASSWORD, "new_password": "another-long-password"})
    assert response.status_code == 200
    assert response.get_json() == {"password_changed": True, "sessions_ended": 1}
    assert signed_in_as(browser) is None
    assert client.get("/api/v1/items").status_code == 200


def test_end_user_sessions_ends_every_session_of_that_user_only(app, users):
    user, other = users.get("manager"), users.get("front_desk")
    first, second, third = app.test_client(), app.test_client(), app.test_client()
    sign_in(first, user.email)
    sign_in(second, user.email)
    sign_in(third, other.email)
    with write_transaction() as session:
        assert sessions.end_user_sessions(session, user.id) == 2
    assert signed_in_as(first) is None and signed_in_as(second) is None
    assert signed_in_as(third) == other.name


# -- PIN ---------------------------------------------------------------------------------

def set_pin_on_page(browser, pin: str = "2468") -> None:  # type: ignore[no-untyped-def]
    page = browser.get("/me/pin").get_data(as_text=True)
    assert "You have no PIN yet" in page
    response = browser.post("/me/pin", data={"pin": pin, "confirm": pin,
                                             "current_password": PASSWORD,
                                             "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert "You have a PIN" in browser.get("/me/pin").get_data(as_text=True)


def unlock(browser, user_id: int, pin: str):  # type: ignore[no-untyped-def]
    page = browser.get("/login").get_data(as_text=True)
    tokens = re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return browser.post("/login/pin", data={"user_id": str(user_id), "pin": pin,
                                            "csrf_token": tokens[0]})


def test_a_pin_unlocks_an_idle_desk_for_the_same_user(app, users, moving_clock):
    user = users.get("front_desk")
    desk = app.test_client()
    sign_in(desk, user.email)
    set_pin_on_page(desk)
    moving_clock.forward(minutes=31)
    assert signed_in_as(desk) is None
    lock_screen = desk.get("/login").get_data(as_text=True)
    assert "Unlock this desk" in lock_screen and user.name in lock_screen
    assert "This desk locked after 30 minutes without use." in lock_screen
    response = unlock(desk, user.id, "2468")
    assert response.status_code == 302 and response.headers["Location"] == "/checkout"
    assert signed_in_as(desk) == user.name


def test_a_pin_unlocks_the_desk_for_another_user_who_signed_in_on_it(app, users, api,
                                                                     moving_clock):
    first, second = users.get("front_desk"), users.get("provider")
    assert api("provider").put("/api/v1/me/pin", json={
        "pin": "13579", "current_password": PASSWORD}).get_json() == {"pin_set": True}
    desk = app.test_client()
    sign_in(desk, second.email)
    sign_out(desk)
    sign_in(desk, first.email)
    moving_clock.forward(minutes=45)
    assert signed_in_as(desk) is None
    response = unlock(desk, second.id, "13579")
    assert response.status_code == 302 and response.headers["Location"] == "/today"
    assert signed_in_as(desk) == second.name


def test_a_user_who_never_signed_in_on_the_desk_cannot_unlock_it_with_the_right_pin(
        app, users, api, moving_clock):
    regular, stranger = users.get("front_desk"), users.get("manager")
    api("manager").put("/api/v1/me/pin", json={"pin": "9753", "current_password": PASSWORD})
    desk = app.test_client()
    sign_in(desk, regular.email)
    moving_clock.forward(minutes=31)
    assert stranger.name not in desk.get("/login").get_data(as_text=True)
    response = unlock(desk, stranger.id, "9753")
    assert response.status_code == 401
    assert "not signed in on this desk" in error_text(response)
    assert signed_in_as(desk) is None
    # Elsewhere, a desk the stranger did sign in on takes the same PIN.
    own_desk = app.test_client()
    sign_in(own_desk, stranger.email)
    moving_clock.forward(minutes=31)
    assert unlock(own_desk, stranger.id, "9753").status_code == 302


def test_a_desk_forgets_its_people_after_the_membership_hours(app, users, moving_clock):
    user = users.get("front_desk")
    desk = app.test_client()
    sign_in(desk, user.email)
    set_pin_on_page(desk)
    moving_clock.forward(hours=app.config["DESK_MEMBERSHIP_HOURS"], minutes=1)
    assert "Unlock this desk" not in desk.get("/login").get_data(as_text=True)
    assert unlock(desk, user.id, "2468").status_code == 401


def test_wrong_pins_are_throttled_like_passwords(app, users, moving_clock):
    user = users.get("front_desk")
    desk = app.test_client()
    sign_in(desk, user.email)
    set_pin_on_page(desk)
    moving_clock.forward(minutes=31)
    statuses = [unlock(desk, user.id, "0000").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    response = unlock(desk, user.id, "2468")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in error_text(response)
    moving_clock.forward(seconds=61)
    assert unlock(desk, user.id, "2468").status_code == 302


def test_a_pin_is_four_to_eight_digits_and_needs_the_current_password(app, users, api):
    client = api("front_desk")
    for pin in ("123", "123456789", "12a4", "", 1234):
        response = client.put("/api/v1/me/pin", json={"pin": pin,
                                                      "current_password": PASSWORD})
        assert response.status_code == 422, pin
        assert "pin" in response.get_json()["error"]["details"]["fields"]
    wrong = client.put("/api/v1/me/pin", json={"pin": "1234", "current_password": "nope"})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "wrong_password"
    from pos.models import StaffPin

    assert db.session.scalar(select(StaffPin)) is None
    assert client.put("/api/v1/me/pin", json={"pin": "12345678",
                                              "current_password": PASSWORD}).status_code == 200
    stored = db.session.scalar(select(StaffPin.pin_hash))
    assert stored.startswith("$argon2id$") and "12345678" not in stored


# -- landing -----------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "landing"), [
    ("front_desk", "/checkout"), ("provider", "/today"), ("manager", "/alerts/"),
    ("admin", "/alerts/")])
def test_each_role_lands_on_its_page(app, users, role, landing):
    browser = app.test_client()
    response = sign_in(browser, users.get(role).email)
    assert response.headers["Location"] == landing
    assert browser.get(landing).status_code == 200
    assert browser.get("/").headers["Location"] == landing


def test_the_landing_is_the_first_of_manager_provider_front_desk_held():
    assert landing_for({"front_desk"}) == Landing.CHECKOUT
    assert landing_for({"front_desk", "provider"}) == Landing.TODAY
    assert landing_for({"provider", "manager"}) == Landing.ALERTS
    assert landing_for({"admin"}) == Landing.ALERTS
    assert landing_for({"front_desk", "provider", "manager"}) == Landing.ALERTS


def test_next_still_wins_over_the_landing(app, users):
    response = sign_in(app.test_client(), users.get("provider").email, next_url="/stock/")
    assert response.headers["Location"] == "/stock/"



# -- what the worker prunes ----------------------------------------------------------------

def test_the_worker_prunes_old_sessions_and_counters_that_no_longer_count(app, users,
                                                                          moving_clock):
    user = users.get("manager")
    old_browser, new_browser = app.test_client(), app.test_client()
    assert sign_in(old_browser, user.email).status_code == 302
    sign_in(app.test_client(), "gone@clinic.example", "wrong-password-1", address="10.9.9.9")
    moving_clock.forward(days=31)
    assert sign_in(new_browser, user.email).status_code == 302
    sign_in(app.test_client(), "typo@clinic.example", "wrong-password-1", address="10.8.8.8")
    with write_transaction() as session:  # an old window that still blocks: it stays
        session.add(LoginThrottle(key="account:still-waiting@clinic.example", failures=9,
                                  window_started_at=clock.now() - timedelta(days=2),
                                  blocked_until=clock.now() + timedelta(minutes=5)))

    result = app.test_cli_runner().invoke(args=["pos", "worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "sessions_purged=1" in result.output and "throttles_purged=2" in result.output
    db.session.rollback()
    assert signed_in_as(new_browser) == user.name
    assert [row.user_id for row in db.session.scalars(select(StaffSession))] == [user.id]
    keys = sorted(row.key for row in db.session.scalars(select(LoginThrottle)))
    # The month-old mistyped email and its address are gone; today's stay, and so does
    # 127.0.0.1 (its window began again with today's sign-in), and the one still blocking.
    assert keys == ["account:still-waiting@clinic.example", "account:typo@clinic.example",
                    "address:10.8.8.8", "address:127.0.0.1"]
